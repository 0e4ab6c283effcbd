#!/usr/bin/env bash
# Installs the system packages LabelDesk's set-up needs, only those missing, on Debian/Ubuntu.
# On macOS nothing is needed beyond Python 3.10+.
set -euo pipefail

packages=()
python3 -c 'import venv, ensurepip' 2>/dev/null || packages+=(python3-venv)

if [ ${#packages[@]} -eq 0 ]; then exit 0; fi
if ! command -v apt-get >/dev/null; then
    echo "Please install: ${packages[*]}" >&2; exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "Installing system packages: ${packages[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${packages[@]}"
