#!/usr/bin/env bash
# Static checks of a built image, without booting or mounting it (debugfs and mtools read the file
# systems in place): the partition layout both boot paths expect, the files each needs, and that
# nothing random or host-specific was baked in.
# Usage: image/check-image.sh IMAGE
set -uo pipefail
image=${1:?usage: check-image.sh IMAGE}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/checks.sh"

table=$(sfdisk --json "$image")
part() { jq -r ".partitiontable.partitions[$1].$2" <<<"$table"; }
sector=512
check "MBR partition table" "dos" "$(jq -r .partitiontable.label <<<"$table")"
check "two partitions (the data partition is made on first boot)" "2" "$(jq '.partitiontable.partitions | length' <<<"$table")"
check "p1: FAT32 LBA, bootable, at 4 MiB" "c true 8192" "$(part 0 type) $(part 0 bootable) $(part 0 start)"
check "p2: Linux" "83" "$(part 1 type)"
boot_offset=$(( $(part 0 start) * sector ))
root_offset=$(( $(part 1 start) * sector ))
dd if="$image" of="$work/root.ext4" bs=1M iflag=skip_bytes,count_bytes skip="$root_offset" count=$(( $(part 1 size) * sector )) status=none

fat() { mdir -i "$image@@$boot_offset" -b "::$1" 2>/dev/null | sed 's|^::/||'; }
check "FAT label O3BOOT" "O3BOOT" "$(mlabel -i "$image@@$boot_offset" -s :: | awk '{ print $NF }')"
for file in extlinux/extlinux.conf Image initrd.img config.txt cmdline.txt start4.elf fixup4.dat bcm2711-rpi-4-b.dtb; do
  check "boot partition has $file" "1" "$(fat "$file" | grep -c .)"
done
check "boot partition has the o3storage.txt template, all defaults (every setting commented)" "1 0" \
  "$(fat o3storage.txt | grep -c .) $(mtype -i "$image@@$boot_offset" ::o3storage.txt | tr -d '\r' | grep -c '^[[:space:]]*[a-z_]*[[:space:]]*=')"
mtype -i "$image@@$boot_offset" ::extlinux/extlinux.conf >"$work/extlinux.conf"
mtype -i "$image@@$boot_offset" ::config.txt >"$work/config.txt"
mtype -i "$image@@$boot_offset" ::cmdline.txt >"$work/cmdline.txt"
check "extlinux boots the Image and initrd by root label" "1 1 1" \
  "$(grep -c '^ *linux /Image$' "$work/extlinux.conf") $(grep -c '^ *initrd /initrd.img$' "$work/extlinux.conf") $(grep -c 'root=LABEL=o3root' "$work/extlinux.conf")"
kernel=$(sed -n 's/^kernel=//p' "$work/config.txt")
initramfs=$(sed -n 's/^initramfs \([^ ]*\).*/\1/p' "$work/config.txt")
check "config.txt: 64-bit, a kernel and initramfs that are on the partition" "1 1 1" \
  "$(grep -c '^arm_64bit=1' "$work/config.txt") $(fat "$kernel" | grep -c .) $(fat "$initramfs" | grep -c .)"
check "cmdline.txt: root by label" "1" "$(grep -c 'root=LABEL=o3root' "$work/cmdline.txt")"
mcopy -i "$image@@$boot_offset" ::initrd.img "$work/initrd.img"
initrd_modules=$(gzip -dc "$work/initrd.img" | cpio --list --quiet 2>/dev/null | sed -n 's|.*/\([^/]*\)\.ko$|\1|p' | sort)
has_modules() { local m missing=(); for m in "$@"; do grep -qx -- "$m" <<<"$initrd_modules" || missing+=("$m"); done; echo "${missing[*]}"; }
check "initrd has what finds the root on QEMU virt" "" "$(has_modules virtio_mmio virtio_blk ext4)"
check "initrd has what finds the root on a Pi 4 SD card" "" "$(has_modules sdhci-iproc sdhci-pltfm fixed gpio-regulator ext4)"
check "initrd has what finds the root on a Pi 4 USB disk" "" "$(has_modules xhci-pci reset-raspberrypi usb-storage uas)"

rootfs() { debugfs -R "$1" "$work/root.ext4" 2>/dev/null; }
# The names in a directory of the root file system (debugfs ls -p: /inode/mode/uid/gid/name/size/).
names() { rootfs "ls -p $1" | awk -F/ '$6 != "" && $6 != "." && $6 != ".." { print $6 }'; }
check "root label o3root" "o3root" "$(dumpe2fs -h "$work/root.ext4" 2>/dev/null | sed -n 's/^Filesystem volume name: *//p')"
check "machine-id uninitialized (made on first boot)" "uninitialized" "$(rootfs 'cat /etc/machine-id')"
check "no SSH host keys" "" "$(names /etc/ssh | grep -E '^ssh_host_' | tr -d '\n')"
check "no random seed" "" "$(names /var/lib/systemd | grep -x random-seed)"
check "no hostname" "" "$(names /etc | grep -x hostname)"
check "no node identity or data" "" "$(names /opt/o3storage | grep -x -E 'data|api-keys.txt')"
check "no first-boot marker" "" "$(names /var/lib | grep -x o3storage)"
check "node binary, mode 0755" "0755" "$(rootfs 'stat /opt/o3storage/o3storage' | grep -o 'Mode: *[0-7]*' | awk '{ print $2 }')"
for unit in o3storage.service o3storage-firstboot.service systemd-networkd.service; do
  check "$unit enabled" "1" "$(names /etc/systemd/system/multi-user.target.wants | grep -c -x "$unit")"
done
check "o3storage-firewall.service enabled (before the network)" "1" "$(names /etc/systemd/system/sysinit.target.wants | grep -c -x o3storage-firewall.service)"
check "nft and the firewall's rules, local networks and ufw front-end present" "1 1 1 1" \
  "$(names /usr/sbin | grep -c -x nft) $(names /etc/o3storage | grep -c -x nftables.conf) $(names /etc/o3storage | grep -c -x firewall-local.nft) $(names /usr/sbin | grep -c -x ufw)"
check "avahi-daemon is the one mDNS stack (resolved's is off)" "MulticastDNS=no" "$(rootfs 'cat /etc/systemd/resolved.conf.d/o3storage.conf' | grep -x 'MulticastDNS=no')"
check "/boot/firmware is an empty mount point on the root" "" "$(names /boot/firmware)"

if [ "$failures" -gt 0 ]; then echo "check-image: $failures check(s) failed"; exit 1; fi
echo "check-image: $(basename "$image") is laid out as both boot paths expect, with nothing random baked in"
