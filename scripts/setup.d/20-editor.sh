#!/usr/bin/env bash
# Label Studio's labeling editor, pinned (docs/adr/0003-editor.md): fetched once from PyPI into
# the user cache, checksum-verified, unpacked into desktop/ui/vendor/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/../.."
"${VENV:-.venv}/bin/python" -m desktop.ui.editor fetch
# Label Studio 1.23.2's own web app (docs/adr/0009-web-app.md): the same way, into
# desktop/ui/vendor/webapp/.
"${VENV:-.venv}/bin/python" -m desktop.ui.webapp fetch
