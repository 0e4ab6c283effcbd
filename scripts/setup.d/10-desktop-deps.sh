#!/usr/bin/env bash
# System packages on Debian/Ubuntu: Qt's xcb plugin libraries for the desktop window; with
# SETUP_FOR=test also Xvfb (window tests, screenshots), Chromium (Playwright drives it; we never
# download a browser), strace and iproute2 (tests/e2e/test_offline.py: a network namespace, the
# server's connect() calls traced), e2fsprogs (tests/api/test_storage_faults.py: an ext4 image that
# turns read-only). SETUP_FOR=package (and test, whose packaging test builds
# it) adds what the Linux AppImage is built with: a C compiler, squashfs-tools, static
# squashfuse/libfuse3 and the decompressors (packaging/linux/appimage.sh), and fuse3 to run it.
# SETUP_FOR=bench adds Chromium alone (`make bench`'s UI figures).
# Installs only what is missing; quick once done. Nothing to do on macOS.
set -euo pipefail

[ "$(uname -s)" = "Darwin" ] && exit 0
command -v dpkg-query >/dev/null || exit 0

wanted=(libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0)  # the window (Qt's xcb plugin)
if [ "${SETUP_FOR:-test}" = "test" ]; then
    wanted+=(chromium xvfb strace iproute2 e2fsprogs)
elif [ "${SETUP_FOR:-}" = "bench" ]; then
    wanted+=(chromium)  # the UI figures of `make bench` (bench/ui.py)
fi
if [ "${SETUP_FOR:-test}" = "test" ] || [ "${SETUP_FOR:-}" = "package" ]; then
    wanted+=(gcc libc6-dev squashfs-tools fuse3 libsquashfuse-dev libfuse3-dev libzstd-dev
             liblzma-dev liblz4-dev liblzo2-dev zlib1g-dev)
fi
missing=()
for package in "${wanted[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "Installing system packages: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
