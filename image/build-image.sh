#!/usr/bin/env bash
# Assembles the flashable image from the cached base root file system, the rootfs overlay under
# image/rootfs, and the native-AOT linux-arm64 node binary:
#   OUT/o3storage-os-VERSION-arm64.img, .img.bmap and .img.sha256
#   OUT/o3storage-os-VERSION-arm64.root.ext4  the root file system alone (make update-bundle)
# Usage: image/build-image.sh BINARY OUT_DIR CACHE_DIR
# The image trusts update bundles signed by UPDATE_KEY (default CACHE_DIR/update-signing.key, an
# Ed25519 key made on the first build; a release build names its own).
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

# A/B slots (ARCHITECTURE.md, "A/B system updates"): U-Boot runs boot.scr from the FAT partition,
# which boots a slot's own kernel and initrd from /boot/o3 of its root file system; extlinux (which
# distro boot would try first) and the FAT's copies for it go. The Raspberry Pi firmware still boots
# its kernel from the FAT, always slot A (docs/image.md says so).
for dir in etc/kernel/postinst.d etc/initramfs/post-update.d; do
  rm -f "$rootfs/$dir/z60-o3storage-extlinux"
  ln -sfn /usr/lib/o3storage/kernel-hook "$rootfs/$dir/z60-o3storage-boot"
done
rm -rf "$rootfs/boot/firmware/extlinux" "$rootfs/boot/firmware/Image" "$rootfs/boot/firmware/initrd.img"
kernel=$(ls -1 "$rootfs"/boot/vmlinuz-* | sort -V -r | head -n 1)
kernel_version=${kernel##*/vmlinuz-}
install -d "$rootfs/boot/o3"
if gzip -t "$kernel" 2>/dev/null; then zcat "$kernel" >"$rootfs/boot/o3/Image"; else ln "$kernel" "$rootfs/boot/o3/Image"; fi
ln "$rootfs/boot/initrd.img-$kernel_version" "$rootfs/boot/o3/initrd.img"
echo "$kernel_version" >"$rootfs/boot/o3/version"
# Debian 13 ships its modules xz-compressed, and the kernel inflates each one as it loads. The root
# keeps them inflated (about 350 MiB against 75 MiB), as Debian 12 shipped them: docs/benchmarks.md,
# "Debian 12 against Debian 13", measures what inflating them at boot cost. The initrd keeps its own.
find "$rootfs/usr/lib/modules/$kernel_version" -name '*.ko.xz' -exec xz --decompress {} +
chroot "$rootfs" depmod "$kernel_version"
mkimage -A arm64 -O linux -T script -C none -n "O3StorageOS A/B" -d "$here/boot.cmd" "$rootfs/boot/firmware/boot.scr" >/dev/null
slot_a=PARTUUID=03b00000-02
sed -i "s/root=LABEL=o3root/root=$slot_a/" "$rootfs/boot/firmware/cmdline.txt"
sed -i "s/^ROOTPART=.*/ROOTPART=\"$slot_a\"/" "$rootfs/etc/default/raspi-firmware"
# The key update bundles must be signed with (o3-update checks it before writing anything).
update_key=${UPDATE_KEY:-$cache/update-signing.key}
if [ ! -s "$update_key" ]; then
  (umask 077 && openssl genpkey -algorithm ed25519 -out "$update_key")
  echo "image: made the update signing key $update_key (keep it: only bundles signed with it install)" >&2
fi
openssl pkey -in "$update_key" -pubout -out "$rootfs/usr/lib/o3storage/update-signing.pem"

# Units: ours, the network (networkd + resolved; avahi is the mDNS stack), no unattended apt runs.
systemctl --root="$rootfs" --quiet enable \
  o3storage.service o3storage-firstboot.service o3storage-firewall.service systemd-networkd.service systemd-resolved.service \
  o3storage-bootstate.service o3storage-update-trial.service
systemctl --root="$rootfs" --quiet mask apt-daily.timer apt-daily-upgrade.timer
# e2scrub only checks ext4 volumes on LVM (the card has none); its reaper took 3 s of every boot under TCG.
systemctl --root="$rootfs" --quiet mask e2scrub_reap.service e2scrub_all.timer
# Debian 13 mounts a tmpfs on /tmp (up to half the RAM). On a 1 GiB board a large file there (the
# guide's offline backup writes one) takes the node's memory; /tmp stays on the card, as in Debian 12.
systemctl --root="$rootfs" --quiet mask tmp.mount
# The firewall is o3storage-firewall.service; Debian's nftables.service (enabled by its package) would
# flush it with an allow-everything ruleset.
systemctl --root="$rootfs" --quiet disable nftables.service
# systemd-firstboot would prompt on the console for a time zone and root password on a systemd
# first boot; o3storage-firstboot is the first boot here, and the zone is UTC.
systemctl --root="$rootfs" --quiet mask systemd-firstboot.service
ln -sfn /run/systemd/resolve/stub-resolv.conf "$rootfs/etc/resolv.conf"

# Nothing random or host-specific (the base is clean; the overlay must not reintroduce any). An empty
# machine-id, not "uninitialized": systemd makes one on the first boot and commits it all the same
# (machine-id(5)), but does not count the boot as its "first boot", whose preset-all took 11 s under
# TCG to enable units this script already chose (and any other unit with an [Install] section).
: >"$rootfs/etc/machine-id"
rm -f "$rootfs"/etc/ssh/ssh_host_* "$rootfs/var/lib/systemd/random-seed" "$rootfs/etc/hostname"
rm -rf "$rootfs/opt/o3storage/data" "$rootfs/var/lib/o3storage"

find "$rootfs" -newermt "@$SOURCE_DATE_EPOCH" -print0 | xargs -0 -r touch --no-dereference --date="@$SOURCE_DATE_EPOCH"

# Root file system: what the files take, plus half again (at least 512 MiB) for kernel upgrades, logs
# and /tmp, in 256 MiB steps; it must fit a slot, whose size is fixed: every later release must fit
# the cards out there.
slot_mib=2048
used_mib=$(du -s --block-size=1M --exclude=./boot/firmware "$rootfs" | cut -f1)
# The 512 MiB floor: /tmp is on the root (tmp.mount is masked) and docs/image.md promises the room.
spare_mib=$(( used_mib / 2 > 512 ? used_mib / 2 : 512 ))
root_mib=$(( (used_mib + spare_mib + 255) / 256 * 256 ))
[ "$root_mib" -le "$slot_mib" ] || { echo "image: the root file system needs $root_mib MiB; a slot holds $slot_mib MiB" >&2; exit 1; }
sed -e "s/@NAME@/$name/" -e "s/@ROOT_SIZE@/${root_mib}M/" -e "s/@SLOT_SIZE@/${slot_mib}M/" \
  -e "s|@EXT4_CTIMES@|$here/ext4-ctimes.sh $work/output/root.ext4 $rootfs|" \
  -e "s/@EPOCH_TIME@/$(date --utc --date="@$SOURCE_DATE_EPOCH" +%Y%m%d%H%M%S)/" \
  "$here/genimage.cfg.in" >"$work/genimage.cfg"
mkdir -p "$work/input" "$out"
# The first boot state: slot A committed, nothing on trial (written, not zeros, so a reflashed card
# never keeps an old card's state).
"$here/rootfs/usr/sbin/o3-bootstate" blob A none none >"$work/input/bootstate.bin"
# genimage runs at a frozen SOURCE_DATE_EPOCH (faketime; NO_FAKE_STAT keeps the real file times,
# already clamped above): mkfs.vfat, mcopy and mke2fs stamp "now" into what they write.
TZ=UTC NO_FAKE_STAT=1 faketime -f "$(date --utc --date="@$SOURCE_DATE_EPOCH" "+%Y-%m-%d %H:%M:%S")" genimage --config "$work/genimage.cfg" --rootpath "$rootfs" --tmppath "$work/tmp" \
  --inputpath "$work/input" --outputpath "$work/output" >"$work/genimage.log" 2>&1 \
  || { cat "$work/genimage.log" >&2; exit 1; }

rm -f "$out"/o3storage-os-*-arm64.img* "$out"/o3storage-os-*-arm64.root.ext4 "$out"/o3storage-os-*-arm64.o3update
mv "$work/output/$name" "$out/$name"
mv "$work/output/root.ext4" "$out/${name%.img}.root.ext4"
bmaptool --quiet create --output "$out/$name.bmap" "$out/$name"
(cd "$out" && sha256sum "$name" >"$name.sha256")
echo "image: $out/$name ($(du -h --apparent-size "$out/$name" | cut -f1), root ${root_mib} MiB) in $(($(date +%s) - started)) s" >&2
echo "$out/$name"
