#!/usr/bin/env bash
# The light built-in assistants' Python packages (teach mode, near-duplicates; OCR's Python
# side): the `assistants` extra of pyproject.toml, in .venv, for every SETUP_FOR (run, test,
# package, bench): `make run` and the AppImage carry them. The heavy assistants (named
# entities, click-to-mask) and Tesseract are set up by 50-assistants-models.sh.
# Idempotent: a no-op when .venv imports them already.
set -euo pipefail

VENV="${VENV:-.venv}"
CHECK='import numpy, PIL'
if "$VENV/bin/python" -c "$CHECK" 2>/dev/null; then
    exit 0
fi
echo "Installing the light assistants' packages (numpy, Pillow) in $VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -e ".[assistants]"
"$VENV/bin/python" -c "$CHECK"
