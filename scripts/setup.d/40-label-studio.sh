#!/usr/bin/env bash
# Label Studio itself, for the push/pull hand-over tests (tests/api/test_push_pull.py): label-studio
# 1.23.2 in .venv-ls, apart from .venv (it brings Django and pins that conflict with LabelDesk's
# test tools), plus a migrated, empty Label Studio data folder in .venv-ls/labeldesk-template/
# that the tests copy (migrating a fresh SQLite database takes a minute; starting on a copy, a few
# seconds). Idempotent: a no-op when both are there for this version. Makes no outbound calls
# beyond pip: Label Studio's version check, analytics and Sentry are switched off.
set -euo pipefail
[ "${SETUP_FOR:-test}" = "test" ] || exit 0  # only the tests use it
cd "$(dirname "$0")/../.."

LS_VENV="${LS_VENV:-.venv-ls}"
PYTHON="${PYTHON:-python3}"
LS_VERSION="1.23.2"
TEMPLATE="$LS_VENV/labeldesk-template"
CHECK="import importlib.metadata as m; v = m.version('label-studio'); assert v == '$LS_VERSION', v"

if ! { [ -x "$LS_VENV/bin/label-studio" ] && "$LS_VENV/bin/python" -c "$CHECK" 2>/dev/null; }; then
    echo "Setting up the Label Studio venv in $LS_VENV (label-studio $LS_VERSION; a few minutes the first time)"
    [ -x "$LS_VENV/bin/python" ] || "$PYTHON" -m venv "$LS_VENV"
    "$LS_VENV/bin/python" -m pip install -q --disable-pip-version-check "label-studio==$LS_VERSION"
    "$LS_VENV/bin/python" -c "$CHECK"
fi

if [ "$(cat "$TEMPLATE/.labeldesk-version" 2>/dev/null)" != "$LS_VERSION" ]; then
    echo "Migrating a template Label Studio database in $TEMPLATE (about a minute, once)"
    rm -rf "$TEMPLATE" "$TEMPLATE.tmp"
    mkdir -p "$TEMPLATE.tmp"
    # `label-studio version` applies the migrations to the data folder, then prints and exits.
    env -u HOST -u PORT -u USERNAME -u PASSWORD \
        LABEL_STUDIO_BASE_DATA_DIR="$PWD/$TEMPLATE.tmp" SENTRY_DSN= FRONTEND_SENTRY_DSN= \
        LATEST_VERSION_CHECK=false COLLECT_ANALYTICS=false FEATURE_FLAGS_OFFLINE=true \
        "$LS_VENV/bin/label-studio" version >"$TEMPLATE.tmp/.setup.log" 2>&1 \
        || { cat "$TEMPLATE.tmp/.setup.log"; exit 1; }
    test -s "$TEMPLATE.tmp/label_studio.sqlite3"
    echo "$LS_VERSION" >"$TEMPLATE.tmp/.labeldesk-version"
    mv "$TEMPLATE.tmp" "$TEMPLATE"
fi
