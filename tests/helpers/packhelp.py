"""Tiny assistant packs for the tests: a wheel written by hand (no build backend, no network)
and a pack of it made by desktop/assistants/pack.py, as `make assistant-pack` makes the real
one from the registry's wheels."""

import base64
import hashlib
import json
import zipfile
from pathlib import Path

from desktop.assistants import pack

NAME, VERSION = "labeldesk_pack_dummy", "1.0"
REQUIREMENT = "labeldesk-pack-dummy==1.0"
# Any attempt to reach a registry goes to a closed port and fails (loopback: our own server).
NO_NETWORK = {"http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9",
              "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
              "no_proxy": "127.0.0.1,localhost", "NO_PROXY": "127.0.0.1,localhost",
              "PIP_INDEX_URL": "http://127.0.0.1:9/simple"}


def make_wheel(folder, value=42):
    """A pure-Python wheel of the package `labeldesk_pack_dummy` (VALUE = value)."""
    files = {f"{NAME}/__init__.py": f"VALUE = {value}\n".encode(),
             f"{NAME}-{VERSION}.dist-info/METADATA":
                 f"Metadata-Version: 2.1\nName: labeldesk-pack-dummy\nVersion: {VERSION}\n"
                 .encode(),
             f"{NAME}-{VERSION}.dist-info/WHEEL":
                 b"Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\n"
                 b"Tag: py3-none-any\n"}
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append(f"{NAME}-{VERSION}.dist-info/RECORD,,")
    files[f"{NAME}-{VERSION}.dist-info/RECORD"] = ("\n".join(record) + "\n").encode()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{NAME}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return path


def make_pack(tmp_path, value=42):
    wheels = tmp_path / "wheels"
    make_wheel(wheels, value)
    return Path(pack.build(str(tmp_path / "dummy-pack.zip"), extras=("test",),
                           wheels=str(wheels), requirements=[REQUIREMENT],
                           log=lambda *a: None))


def rewrite(source, target, manifest=None, extra=None, drop=(), replace=None):
    """A copy of a pack with its manifest changed, members added, dropped or replaced."""
    with zipfile.ZipFile(source) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    if manifest is not None:
        members["manifest.json"] = json.dumps(manifest).encode()
    for name in drop:
        members.pop(name, None)
    members.update(replace or {})
    members.update(extra or {})
    with zipfile.ZipFile(target, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return target


def manifest_of(path):
    with zipfile.ZipFile(path) as z:
        return json.loads(z.read("manifest.json"))


def hide_from_worker(folder, monkeypatch, *modules):
    """The assistants' worker (started from now on) finds none of `modules`: a sitecustomize
    on its PYTHONPATH that makes them unfindable, as on a machine without them."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(
        "import sys\n\n\n"
        "class Hidden:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.split('.')[0] in {tuple(modules)!r}:\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n\n\n"
        "sys.meta_path.insert(0, Hidden())\n")
    monkeypatch.setenv("PYTHONPATH", str(folder))
