#!/usr/bin/env bash
# Label Studio 1.23.2's own web app, its labeling editor inside (docs/adr/0009-web-app.md), and
# DOMPurify: fetched once into the user cache, checksum-verified, unpacked into
# desktop/ui/vendor/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/../.."
"${VENV:-.venv}/bin/python" -m desktop.ui.webapp fetch
