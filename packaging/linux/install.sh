#!/usr/bin/env bash
# Install a built bundle for the current user (no root): the folder under ~/.local/lib, the
# command in ~/.local/bin, the menu entry and the icons. `install.sh --uninstall` removes them.
#   packaging/linux/install.sh [dist/labeldesk]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bundle="${1:-$here/../../dist/labeldesk}"
prefix="${PREFIX:-$HOME/.local}"
apps="$prefix/share/applications"
icons="$prefix/share/icons/hicolor"

if [ "${1:-}" = "--uninstall" ]; then
    rm -rf "$prefix/lib/labeldesk" "$prefix/bin/labeldesk" "$apps/labeldesk.desktop"
    rm -f "$icons"/*/apps/labeldesk.png "$icons/scalable/apps/labeldesk.svg"
    exit 0
fi
[ -x "$bundle/labeldesk" ] || { echo "No bundle at $bundle: run 'make package' first." >&2; exit 1; }
mkdir -p "$prefix/lib" "$prefix/bin" "$apps" "$icons/scalable/apps"
rm -rf "$prefix/lib/labeldesk"
cp -a "$bundle" "$prefix/lib/labeldesk"
ln -sf "$prefix/lib/labeldesk/labeldesk" "$prefix/bin/labeldesk"
sed "s|^Exec=labeldesk|Exec=$prefix/bin/labeldesk|" "$here/labeldesk.desktop" > "$apps/labeldesk.desktop"
for size in 16 24 32 48 64 128 256 512; do
    mkdir -p "$icons/${size}x${size}/apps"
    cp "$here/../icons/labeldesk-$size.png" "$icons/${size}x${size}/apps/labeldesk.png"
done
cp "$here/../icons/labeldesk.svg" "$icons/scalable/apps/labeldesk.svg"
command -v update-desktop-database >/dev/null && update-desktop-database -q "$apps" || true
echo "LabelDesk installed: $prefix/bin/labeldesk, and in the applications menu."
