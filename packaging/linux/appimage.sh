#!/usr/bin/env bash
# Packs the PyInstaller bundle (dist/labeldesk/) into one double-clickable file,
# dist/LabelDesk-<version>-<arch>.AppImage: packaging/linux/appimage/runtime.c (compiled here
# against Debian's static squashfuse and libfuse3) followed by a zstd-compressed squashfs image
# of an AppDir (the bundle, AppRun, the .desktop entry and the icon). The image is mounted, not
# unpacked, when the app starts, so the file is both the download and the installed app.
#
#   packaging/linux/appimage.sh [DIST_DIR [WORK_DIR]]     (`make package` runs it on Linux)
#
# Needs gcc, squashfs-tools and the -dev packages scripts/setup.d/10-desktop-deps.sh installs
# for SETUP_FOR=package (and test).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dist=$(realpath "${1:-$root/dist}")
work=$(realpath -m "${2:-$root/build/appimage}")
version=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$root/desktop/__init__.py")
arch=$(uname -m)
output="$dist/LabelDesk-$version-$arch.AppImage"
[ -x "$dist/labeldesk/labeldesk" ] || { echo "no bundle in $dist/labeldesk: run PyInstaller first" >&2; exit 1; }

rm -rf "$work"
mkdir -p "$work"

# The runtime: squashfuse, libfuse3 and the decompressors linked in, so the user's machine
# needs only glibc and fusermount3 (the fuse3 package, present on desktop installs).
gcc -O2 -Wall -Wextra -std=gnu11 -I/usr/include/squashfuse -o "$work/runtime" \
    "$here/appimage/runtime.c" \
    -Wl,-Bstatic -lsquashfuse_ll -lsquashfuse -lfuse3 -lzstd -llzma -llz4 -llzo2 -lz \
    -Wl,-Bdynamic -pthread -ldl
strip "$work/runtime"
# The AppImage type 2 magic, "AI\2", in the ELF header's padding (offset 8).
printf 'AI\002' | dd of="$work/runtime" bs=1 seek=8 conv=notrunc status=none

# The AppDir: hard links to the bundle where the file system allows, copies otherwise.
appdir="$work/AppDir"
cp -al "$dist/labeldesk" "$appdir" 2>/dev/null || { rm -rf "$appdir"; cp -a "$dist/labeldesk" "$appdir"; }
ln -s labeldesk "$appdir/AppRun"
cp "$root/packaging/linux/labeldesk.desktop" "$appdir/labeldesk.desktop"
cp "$root/packaging/icons/labeldesk-256.png" "$appdir/labeldesk.png"
ln -s labeldesk.png "$appdir/.DirIcon"

# 128 KiB blocks: the app's first start reads its libraries piecemeal through FUSE, and small
# blocks keep it from decompressing much it does not need (1 MiB blocks: 5 s to a window,
# 128 KiB: 2 s). zstd decompresses fast; level 19 only costs build time.
mksquashfs "$appdir" "$work/image.squashfs" -comp zstd -Xcompression-level 19 -b 128K \
    -all-root -noappend -no-xattrs -quiet -no-progress >/dev/null
cat "$work/runtime" "$work/image.squashfs" > "$output.part"
chmod 755 "$output.part"
mv "$output.part" "$output"
echo "$output: $(( $(stat -c %s "$output") / 1000000 )) MB"
