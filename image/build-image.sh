#!/usr/bin/env bash
# Assembles the flashable image from the cached base root file system, the rootfs overlay under
# image/rootfs, and the native-AOT linux-arm64 node binary:
#   OUT/o3storage-os-VERSION-arm64.img, .img.bmap and .img.sha256
# Usage: image/build-image.sh BINARY OUT_DIR CACHE_DIR
# Nothing random goes in: machine-id, SSH host keys, hostname and node identity are made on first
# boot; file times are clamped to SOURCE_DATE_EPOCH and file system ids are fixed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
binary=${1:?usage: build-image.sh BINARY OUT_DIR CACHE_DIR}
out=${2:?usage: build-image.sh BINARY OUT_DIR CACHE_DIR}
cache=${3:?usage: build-image.sh BINARY OUT_DIR CACHE_DIR}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1735689600}

"$here/enable-binfmt.sh"
version=$("$here/node-version.sh" "$binary")
base=$("$here/build-base.sh" "$cache" | tail -n 1)
# The file name carries the release version; the build metadata (+commit) stays in /etc/o3storage-release.
name="o3storage-os-${version%%+*}-arm64.img"
started=$(date +%s)

work=$(mktemp -d "${TMPDIR:-/tmp}/o3-image-XXXXXX")
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"
cp -a "$base" "$rootfs"
cp -a "$here/rootfs/." "$rootfs/"
install -m 0755 "$binary" "$rootfs/opt/o3storage/o3storage"
install -d "$rootfs/usr/share/doc/o3storage"
install -m 0644 "$repo/docs/image.md" "$rootfs/usr/share/doc/o3storage/image.md"
echo "$version" >"$rootfs/etc/o3storage-release"

# Units: ours, the network (networkd + resolved; avahi is the mDNS stack), no unattended apt runs.
systemctl --root="$rootfs" --quiet enable \
  o3storage.service o3storage-firstboot.service o3storage-firewall.service systemd-networkd.service systemd-resolved.service
systemctl --root="$rootfs" --quiet mask apt-daily.timer apt-daily-upgrade.timer
# The firewall is o3storage-firewall.service; Debian's nftables.service (enabled by its package) would
# flush it with an allow-everything ruleset.
systemctl --root="$rootfs" --quiet disable nftables.service
# systemd-firstboot would prompt on the console for a time zone and root password on the first
# boot (machine-id uninitialized); o3storage-firstboot is the first boot here, and the zone is UTC.
systemctl --root="$rootfs" --quiet mask systemd-firstboot.service
ln -sfn /run/systemd/resolve/stub-resolv.conf "$rootfs/etc/resolv.conf"

# Nothing random or host-specific (the base is clean; the overlay must not reintroduce any).
echo uninitialized >"$rootfs/etc/machine-id"
rm -f "$rootfs"/etc/ssh/ssh_host_* "$rootfs/var/lib/systemd/random-seed" "$rootfs/etc/hostname"
rm -rf "$rootfs/opt/o3storage/data" "$rootfs/var/lib/o3storage"

find "$rootfs" -newermt "@$SOURCE_DATE_EPOCH" -print0 | xargs -0 -r touch --no-dereference --date="@$SOURCE_DATE_EPOCH"

# Root partition: what the files take, plus half again for upgrades and logs, in 256 MiB steps.
used_mib=$(du -s --block-size=1M --exclude=./boot/firmware "$rootfs" | cut -f1)
root_mib=$(( (used_mib * 3 / 2 + 255) / 256 * 256 ))
sed -e "s/@NAME@/$name/" -e "s/@ROOT_SIZE@/${root_mib}M/" \
  -e "s|@EXT4_CTIMES@|$here/ext4-ctimes.sh $work/output/root.ext4 $rootfs|" \
  -e "s/@EPOCH_TIME@/$(date --utc --date="@$SOURCE_DATE_EPOCH" +%Y%m%d%H%M%S)/" \
  "$here/genimage.cfg.in" >"$work/genimage.cfg"
mkdir -p "$work/input" "$out"
# genimage runs at a frozen SOURCE_DATE_EPOCH (faketime; NO_FAKE_STAT keeps the real file times,
# already clamped above): mkfs.vfat, mcopy and mke2fs stamp "now" into what they write.
TZ=UTC NO_FAKE_STAT=1 faketime -f "$(date --utc --date="@$SOURCE_DATE_EPOCH" "+%Y-%m-%d %H:%M:%S")" genimage --config "$work/genimage.cfg" --rootpath "$rootfs" --tmppath "$work/tmp" \
  --inputpath "$work/input" --outputpath "$work/output" >"$work/genimage.log" 2>&1 \
  || { cat "$work/genimage.log" >&2; exit 1; }

rm -f "$out"/o3storage-os-*-arm64.img*
mv "$work/output/$name" "$out/$name"
bmaptool --quiet create --output "$out/$name.bmap" "$out/$name"
(cd "$out" && sha256sum "$name" >"$name.sha256")
echo "image: $out/$name ($(du -h --apparent-size "$out/$name" | cut -f1), root ${root_mib} MiB) in $(($(date +%s) - started)) s" >&2
echo "$out/$name"
