#!/usr/bin/env bash
# Makes the tarball the o3storage recipe installs (bin_package), from a native-AOT linux-arm64
# build of the node and the same units and scripts the Debian image ships (image/rootfs):
#   recipes-o3storage/o3storage/files/o3storage-VERSION-linux-arm64.tar.gz
#   recipes-o3storage/o3storage/o3storage-version.inc   (PV and the tarball's sha256)
# Usage: scripts/make-tarball.sh [BINARY]   (default: the repository's artifacts/linux-arm64/o3storage)
set -euo pipefail
layer=$(cd "$(dirname "$0")/.." && pwd)
repo=$(cd "$layer/../.." && pwd)
rootfs="$repo/image/rootfs"
binary=${1:-$repo/artifacts/linux-arm64/o3storage}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1735689600}

version=$("$repo/image/node-version.sh" "$binary")
pv=${version%%+*} # BitBake's PV: the build metadata after '+' stays in the binary's --version

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
chmod 0755 "$stage" # the tarball's root becomes the package root: never 0700
install -D -m 0755 "$binary" "$stage/opt/o3storage/o3storage"
install -D -m 0755 "$rootfs/opt/o3storage/compact-storage.sh" "$stage/opt/o3storage/compact-storage.sh"
install -D -m 0755 "$rootfs/opt/o3storage/restore-cluster-from-backup.sh" "$stage/opt/o3storage/restore-cluster-from-backup.sh"
for unit in o3storage.service o3storage-firstboot.service o3storage-firewall.service; do
  install -D -m 0644 "$rootfs/usr/lib/systemd/system/$unit" "$stage/usr/lib/systemd/system/$unit"
done
for script in firstboot prestart; do
  install -D -m 0755 "$rootfs/usr/lib/o3storage/$script" "$stage/usr/lib/o3storage/$script"
done
install -D -m 0440 "$rootfs/etc/sudoers.d/o3admin" "$stage/etc/sudoers.d/o3admin"
# The same SSH settings and firewall as the Debian image.
install -D -m 0644 "$rootfs/etc/ssh/sshd_config.d/o3storage.conf" "$stage/etc/ssh/sshd_config.d/o3storage.conf"
install -D -m 0644 "$rootfs/etc/o3storage/nftables.conf" "$stage/etc/o3storage/nftables.conf"
install -D -m 0644 "$rootfs/etc/o3storage/firewall-node.nft" "$stage/etc/o3storage/firewall-node.nft"
install -D -m 0644 "$rootfs/etc/o3storage/firewall-local.nft" "$stage/etc/o3storage/firewall-local.nft"
install -D -m 0755 "$rootfs/usr/sbin/ufw" "$stage/usr/sbin/ufw"
install -D -m 0644 "$repo/docs/image.md" "$stage/usr/share/doc/o3storage/image.md"
# The o3storage.txt template: on a Yocto card the user copies it to the boot partition (/boot).
install -D -m 0644 "$rootfs/boot/firmware/o3storage.txt" "$stage/usr/share/doc/o3storage/o3storage.txt"

files="$layer/recipes-o3storage/o3storage/files"
tarball="o3storage-$pv-linux-arm64.tar.gz"
mkdir -p "$files"
rm -f "$files"/o3storage-*-linux-arm64.tar.gz
tar --create --directory "$stage" --sort=name --owner=0 --group=0 --numeric-owner \
  --mtime="@$SOURCE_DATE_EPOCH" --format=gnu . | gzip -n -9 >"$files/$tarball"
sha=$(sha256sum "$files/$tarball" | cut -d' ' -f1)
cat >"$layer/recipes-o3storage/o3storage/o3storage-version.inc" <<INC
# Written by scripts/make-tarball.sh for $tarball; do not edit.
PV = "$pv"
# tarball sha256: $sha
INC
echo "make-tarball: $files/$tarball (o3storage $version)"
