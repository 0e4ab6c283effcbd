#!/usr/bin/env bash
# The model-server venv for the ML tests: label-studio-ml 1.0.9 in .venv-ml, apart from .venv
# (it pins Flask 1.1.2 / Werkzeug 2.0.2, which would break LabelDesk's test tools).
# Idempotent: a no-op when .venv-ml already imports the pinned set.
set -euo pipefail
[ "${SETUP_FOR:-test}" = "test" ] || exit 0  # only the tests use it

ML_VENV="${ML_VENV:-.venv-ml}"
PYTHON="${PYTHON:-python3}"
# label-studio-ml 1.0.9 imports redis and rq without declaring them; Flask 1.1.2 needs
# Jinja2 < 3.1 (Markup, escape) and itsdangerous < 2.1 (its json module). This set starts a
# model server on Python 3.10-3.12.
PINS=(
    "label-studio-ml==1.0.9"
    "Flask==1.1.2" "Werkzeug==2.0.2" "Jinja2==3.0.3" "itsdangerous==2.0.1" "MarkupSafe>=2.0,<3.1"
    "redis>=4,<9" "rq>=1.10,<4"
)
CHECK='import flask, werkzeug, label_studio_ml.api, label_studio_ml.model
assert flask.__version__ == "1.1.2", flask.__version__'

if [ -x "$ML_VENV/bin/python" ] && "$ML_VENV/bin/python" -c "$CHECK" 2>/dev/null; then
    exit 0
fi
echo "Setting up the model-server venv in $ML_VENV (label-studio-ml 1.0.9)"
[ -x "$ML_VENV/bin/python" ] || "$PYTHON" -m venv "$ML_VENV"
"$ML_VENV/bin/python" -m pip install -q --disable-pip-version-check "${PINS[@]}"
"$ML_VENV/bin/python" -c "$CHECK"
