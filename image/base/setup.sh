#!/usr/bin/env bash
# mmdebstrap setup hook: runs before any package is installed into the root file system at $1.
set -euo pipefail
root=$1
here=$(cd "$(dirname "$0")" && pwd)

mkdir -p "$root/etc/initramfs-tools/conf.d"
echo "MODULES=list" >"$root/etc/initramfs-tools/conf.d/o3storage-modules.conf"
grep -v '^#' "$here/initramfs-modules" | sed '/^$/d' >"$root/etc/initramfs-tools/modules"

# raspi-firmware's kernel hooks fill /boot/firmware (the FAT partition on a board) from this file.
mkdir -p "$root/etc/default" "$root/boot/firmware"
cp "$here/raspi-firmware" "$root/etc/default/raspi-firmware"

for dir in etc/kernel/postinst.d etc/initramfs/post-update.d; do
  mkdir -p "$root/$dir"
  install -m 0755 "$here/extlinux-hook" "$root/$dir/z60-o3storage-extlinux"
done
