#!/usr/bin/env bash
# Install a built LabelDesk for the current user (no root): the AppImage (or the one-folder
# bundle) under ~/.local/lib/labeldesk, the command in ~/.local/bin, the menu entry and the
# icons. `install.sh --uninstall` removes them.
#   packaging/linux/install.sh [dist/LabelDesk-<version>-<arch>.AppImage | dist/labeldesk]
# Without an argument: the AppImage in dist/ if there is one, else dist/labeldesk/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dist="$here/../../dist"
prefix="${PREFIX:-$HOME/.local}"
apps="$prefix/share/applications"
icons="$prefix/share/icons/hicolor"

if [ "${1:-}" = "--uninstall" ]; then
    rm -rf "$prefix/lib/labeldesk" "$prefix/bin/labeldesk" "$apps/labeldesk.desktop"
    rm -f "$icons"/*/apps/labeldesk.png "$icons/scalable/apps/labeldesk.svg"
    exit 0
fi
build="${1:-$(ls -t "$dist"/LabelDesk-*.AppImage 2>/dev/null | head -1)}"
build="${build:-$dist/labeldesk}"
mkdir -p "$prefix/lib" "$prefix/bin" "$apps" "$icons/scalable/apps"
if [ -f "$build" ] && [ -x "$build" ]; then          # the AppImage: one file
    rm -rf "$prefix/lib/labeldesk"
    mkdir -p "$prefix/lib/labeldesk"
    cp "$build" "$prefix/lib/labeldesk/LabelDesk.AppImage"
    command="$prefix/lib/labeldesk/LabelDesk.AppImage"
elif [ -x "$build/labeldesk" ]; then                 # the one-folder bundle
    rm -rf "$prefix/lib/labeldesk"
    cp -a "$build" "$prefix/lib/labeldesk"
    command="$prefix/lib/labeldesk/labeldesk"
else
    echo "No LabelDesk build at $build: run 'make package' first." >&2; exit 1
fi
ln -sf "$command" "$prefix/bin/labeldesk"
sed "s|^Exec=labeldesk|Exec=$prefix/bin/labeldesk|" "$here/labeldesk.desktop" > "$apps/labeldesk.desktop"
for size in 16 24 32 48 64 128 256 512; do
    mkdir -p "$icons/${size}x${size}/apps"
    cp "$here/../icons/labeldesk-$size.png" "$icons/${size}x${size}/apps/labeldesk.png"
done
cp "$here/../icons/labeldesk.svg" "$icons/scalable/apps/labeldesk.svg"
command -v update-desktop-database >/dev/null && update-desktop-database -q "$apps" || true
echo "LabelDesk installed: $prefix/bin/labeldesk, and in the applications menu."
