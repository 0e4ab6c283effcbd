"""Where things are, for tests anywhere under tests/."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository
HELPERS = ROOT / "tests" / "helpers"
REFERENCE = ROOT / "tests" / "reference"  # Label Studio's observed shapes, schemas and seeds
CORPUS = ROOT / "tests" / "corpus"
UI_DIR = ROOT / "desktop" / "ui"
