"""Coverage-guided fuzzing (atheris) of the parsers tests/unit/test_fuzz_parsers.py fuzzes with
hypothesis: the label-config parser, the file importers and the whole-project zip importer.
Used by `make fuzz` only.

    python scripts/fuzz_atheris.py TARGET [-max_total_time=120] [libFuzzer options]

TARGET: labelconfig | importers | archive. Starts from tests/corpus/<TARGET>/; an input that
crashes is written by libFuzzer as crash-<sha1> in the current folder: move it to
tests/corpus/<TARGET>/ (importers: name it <anything>.<ext>) once fixed.
"""

import sys
import tempfile
from pathlib import Path

import atheris

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "helpers")]

with atheris.instrument_imports(include=["desktop"]):
    import fuzz_targets
    from fuzz_targets import IMPORT_EXTENSIONS

CORE = None


def core():
    global CORE
    if CORE is None:
        CORE = fuzz_targets.open_core(tempfile.mkdtemp(prefix="labeldesk-atheris-"))
    return CORE


def labelconfig(data):
    fuzz_targets.config_target(data.decode("utf-8", "replace"))


def importers(data):
    # the first byte picks the extension, the rest is the file
    if not data:
        return
    ext = IMPORT_EXTENSIONS[data[0] % len(IMPORT_EXTENSIONS)]
    fuzz_targets.import_file_target(core(), "fuzz" + ext, data[1:])


def archive(data):
    fuzz_targets.archive_target(core(), data)


TARGETS = {"labelconfig": labelconfig, "importers": importers, "archive": archive}


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: {sys.argv[0]} {{{'|'.join(TARGETS)}}} [libFuzzer options]")
    name = sys.argv.pop(1)
    corpus = ROOT / "tests" / "corpus" / name
    work = Path(tempfile.mkdtemp(prefix=f"labeldesk-corpus-{name}-"))
    if name == "importers":  # seeds get their extension byte
        for path in corpus.iterdir():
            if path.suffix in IMPORT_EXTENSIONS:
                ext_byte = bytes([IMPORT_EXTENSIONS.index(path.suffix)])
                (work / path.name).write_bytes(ext_byte + path.read_bytes())
    else:
        for path in corpus.iterdir():
            if path.name != "README.md":
                (work / path.name).write_bytes(path.read_bytes())
    atheris.Setup([sys.argv[0], str(work), *sys.argv[1:]], TARGETS[name])
    atheris.Fuzz()


if __name__ == "__main__":
    main()
