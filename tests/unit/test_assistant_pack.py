"""Assistant packs (desktop/assistants/pack.py): the heavy assistants' wheels in one file made
by `make assistant-pack`, installed offline by pip from the pack's wheels alone. Here a tiny
pack of a hand-written wheel, installed with the registry unreachable (a closed proxy, pip's
--no-index), and every way a pack can be wrong refused before pip runs."""

import os
import subprocess
import sys
import zipfile

import pytest

import packhelp
from desktop.assistants import pack
from desktop.shell import cli


def imported_value(site):
    out = subprocess.run([sys.executable, "-c", "import labeldesk_pack_dummy as d; "
                          "print(d.VALUE, d.__file__)"], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(site)}, check=True)
    value, where = out.stdout.split()
    assert where.startswith(str(site))
    return int(value)


def test_a_pack_installs_offline(tmp_path, monkeypatch):
    path = packhelp.make_pack(tmp_path)
    manifest = packhelp.manifest_of(path)
    assert manifest["format"] == pack.FORMAT and manifest["python"] == pack.python_tag()
    [entry] = manifest["files"]
    assert entry["name"] == "labeldesk_pack_dummy-1.0-py3-none-any.whl"
    assert len(entry["sha256"]) == 64 and entry["size"] > 0
    for key, value in packhelp.NO_NETWORK.items():
        monkeypatch.setenv(key, value)
    stages = []
    answer = pack.install(path, target=tmp_path / "site", progress=stages.append)
    assert answer["installed"] == [packhelp.REQUIREMENT] and answer["files"] == 1
    assert stages == ["checking", "installing"]
    assert imported_value(tmp_path / "site") == 42


def test_pip_runs_offline_and_wheels_only():
    command = pack.pip_command()
    assert command[:4] == [sys.executable, "-m", "pip", "install"]
    for flag in ("--no-index", "--only-binary", ":all:", "--disable-pip-version-check"):
        assert flag in command


def test_the_cli_installs_a_pack(tmp_path, monkeypatch, capsys):
    path = packhelp.make_pack(tmp_path, value=7)
    real = pack.pip_command
    monkeypatch.setattr(pack, "pip_command", lambda python=None, target=None: real(
        python, tmp_path / "cli-site"))  # not into the tests' own environment
    for key, value in packhelp.NO_NETWORK.items():
        monkeypatch.setenv(key, value)
    assert cli.main(["assistants", "install", str(path)]) == 0
    assert "Installed labeldesk-pack-dummy==1.0 (1 wheels)" in capsys.readouterr().out
    assert imported_value(tmp_path / "cli-site") == 7
    with pytest.raises(SystemExit, match="no such file"):
        cli.main(["assistants", "install", str(tmp_path / "missing.zip")])
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    with pytest.raises(SystemExit, match="not an assistant pack"):
        cli.main(["assistants", "install", str(tmp_path / "bad.zip")])


def broken_packs(tmp_path):
    """(pack, what the refusal says) for every way a pack is refused before pip runs."""
    good = packhelp.make_pack(tmp_path)
    manifest = packhelp.manifest_of(good)
    wheel = f"wheels/{manifest['files'][0]['name']}"
    (tmp_path / "not-a-zip.zip").write_bytes(b"PK but not really")
    out = tmp_path / "broken"
    out.mkdir()

    def variant(name, **changes):
        return packhelp.rewrite(good, out / name, **changes)

    def changed(**fields):
        return {**manifest, **fields}

    evil = {**manifest["files"][0], "name": "../evil.whl"}
    other = {**manifest["files"][0], "name": "other-1.0-py3-none-any.whl"}
    pinned = {**manifest["files"][0], "name": next(iter(pack.PINNED))}
    with zipfile.ZipFile(good) as z:
        data = z.read(wheel)
    return [
        (tmp_path / "not-a-zip.zip", "not an assistant pack"),
        (variant("no-manifest.zip", drop=["manifest.json"]), "no manifest.json"),
        (variant("other-format.zip", manifest=changed(format="zip")), "not LabelDesk's"),
        (variant("version.zip", manifest=changed(version=9)), "version 9"),
        (variant("traversal.zip", manifest=changed(files=[evil]),
                 drop=[wheel], extra={"wheels/../evil.whl": data}), "not a plain wheel"),
        (variant("extra-member.zip", extra={"setup.py": b"import os"}), "don't match"),
        (variant("extra-folder.zip", extra={"wheels/sub/x.whl": b""}), "don't match"),
        (variant("missing-wheel.zip", manifest=changed(files=[manifest["files"][0], other])),
         "don't match"),
        (variant("twice.zip", manifest=changed(files=manifest["files"] * 2)), "twice"),
        (variant("damaged.zip", replace={wheel: data[:40] + bytes([data[40] ^ 1]) + data[41:]}),
         "damaged"),
        (variant("python.zip", manifest=changed(python="cp27")), "for Python cp27"),
        (variant("option.zip", manifest=changed(requirements=["--index-url=http://x"])),
         "not a plain requirement"),
        (variant("not-in-pack.zip", manifest=changed(requirements=["requests"])),
         "requests is required but not in the pack"),
        (variant("pinned.zip", manifest=changed(files=[pinned]), drop=[wheel],
                 extra={f"wheels/{pinned['name']}": data}), "reviewed in docs/adr/0014"),
    ]


def test_broken_packs_are_refused_before_pip_runs(tmp_path, monkeypatch):
    def no_pip(*args, **kwargs):
        raise AssertionError("pip ran")
    monkeypatch.setattr(pack, "install_unpacked", no_pip)
    for path, says in broken_packs(tmp_path):
        into = tmp_path / "into" / path.name
        into.mkdir(parents=True)
        with pytest.raises(pack.PackError, match=says):
            pack.install(path, target=tmp_path / "site")
        with pytest.raises(pack.PackError, match=says):
            pack.unpack(path, into)
        assert not os.path.exists(tmp_path / "evil.whl")
    assert not (tmp_path / "site").exists()


def test_pip_failing_is_said(tmp_path, monkeypatch):
    path = packhelp.make_pack(tmp_path)
    manifest = packhelp.manifest_of(path)
    broken = packhelp.rewrite(path, tmp_path / "wrong.zip", manifest={
        **manifest, "requirements": ["labeldesk-pack-dummy==2.0"]})
    for key, value in packhelp.NO_NETWORK.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(pack.PackError, match="pip could not install the pack: ERROR"):
        pack.install(broken, target=tmp_path / "site")


def test_a_packaged_labeldesk_says_it_cant(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    with pytest.raises(pack.PackError, match="packaged LabelDesk"):
        pack.install(packhelp.make_pack(tmp_path))


def test_build_checks_the_pinned_model(tmp_path):
    wheels = tmp_path / "wheels"
    wheel = packhelp.make_wheel(wheels)
    wheel.rename(wheels / next(iter(pack.PINNED)))
    with pytest.raises(pack.PackError, match="not the file reviewed"):
        pack.build(str(tmp_path / "p.zip"), wheels=str(wheels), requirements=["x"],
                   log=lambda *a: None)
    with pytest.raises(pack.PackError, match="not a plain requirement"):
        pack.build(str(tmp_path / "p.zip"), wheels=str(wheels), requirements=["-e ."],
                   log=lambda *a: None)
