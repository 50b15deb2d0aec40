#!/usr/bin/env bash
# Static checks of a built image, without booting or mounting it (debugfs and mtools read the file
# systems in place): the partition layout both boot paths expect, the files each needs, and that
# nothing random or host-specific was baked in.
# Usage: image/check-image.sh IMAGE
set -uo pipefail
image=${1:?usage: check-image.sh IMAGE}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck source=checks.sh
source "$(dirname "$0")/checks.sh"

table=$(sfdisk --json "$image")
part() { jq -r ".partitiontable.partitions[$1].$2" <<<"$table"; }
sector=512
check "MBR partition table" "dos" "$(jq -r .partitiontable.label <<<"$table")"
check "three partitions: boot, slot A, slot B (the data partition is made on first boot)" "3" "$(jq '.partitiontable.partitions | length' <<<"$table")"
check "p1: FAT32 LBA, bootable, at 4 MiB" "c true 8192" "$(part 0 type) $(part 0 bootable) $(part 0 start)"
check "p2 (slot A) and p3 (slot B): Linux, 2 GiB each, not bootable" "83 83 4194304 4194304 null null" \
  "$(part 1 type) $(part 2 type) $(part 1 size) $(part 2 size) $(part 1 bootable) $(part 2 bootable)"
check "slot B is empty" "" "$(dd if="$image" bs=512 skip="$(part 2 start)" count=2048 status=none | tr -d '\0' | head -c 16)"
for copy in 2048 4096; do
  dd if="$image" of="$work/state" bs=512 skip=$copy count=8 status=none
  check "boot state copy at sector $copy: CRC checks, slot A committed, nothing on trial" "O3_SLOT=A O3_TRIED=none O3_TRY=none" \
    "$(cmp -s <(head -c 4 "$work/state") <(tail -c +5 "$work/state" | gzip -c | tail -c 8 | head -c 4) && tail -c +5 "$work/state" | tr '\0' '\n' | grep . | paste -sd' ')"
done
boot_offset=$(( $(part 0 start) * sector ))
root_offset=$(( $(part 1 start) * sector ))
dd if="$image" of="$work/root.ext4" bs=1M conv=sparse iflag=skip_bytes,count_bytes skip="$root_offset" count=$(( $(part 1 size) * sector )) status=none

fat() { mdir -i "$image@@$boot_offset" -b "::$1" 2>/dev/null | sed 's|^::/||'; }
check "FAT label O3BOOT" "O3BOOT" "$(mlabel -i "$image@@$boot_offset" -s :: | awk '{ print $NF }')"
for file in boot.scr config.txt cmdline.txt start4.elf fixup4.dat bcm2711-rpi-4-b.dtb; do
  check "boot partition has $file" "1" "$(fat "$file" | grep -c .)"
done
check "no extlinux (distro boot would take it before boot.scr), no kernel for U-Boot on the FAT" "" "$(fat extlinux; fat Image; fat initrd.img)"
check "boot partition has the o3storage.txt template, all defaults (every setting commented)" "1 0" \
  "$(fat o3storage.txt | grep -c .) $(mtype -i "$image@@$boot_offset" ::o3storage.txt | tr -d '\r' | grep -c '^[[:space:]]*[a-z_]*[[:space:]]*=')"
mcopy -i "$image@@$boot_offset" ::boot.scr "$work/boot.scr"
mtype -i "$image@@$boot_offset" ::config.txt >"$work/config.txt"
mtype -i "$image@@$boot_offset" ::cmdline.txt >"$work/cmdline.txt"
check "boot.scr: a U-Boot script that loads a slot's /boot/o3 kernel and initrd, root by partition" "Script 1 1 1" \
  "$(dumpimage -l "$work/boot.scr" | sed -n 's/^Image Type: *AArch64 Linux \(Script\).*/\1/p') $(grep -a -c 'load ${devtype} ${devnum}:${o3_part} ${kernel_addr_r} /boot/o3/Image' "$work/boot.scr") $(grep -a -c 'load ${devtype} ${devnum}:${o3_part} ${ramdisk_addr_r} /boot/o3/initrd.img' "$work/boot.scr") $(grep -a -c 'root=PARTUUID=${o3_partuuid}' "$work/boot.scr")"
kernel=$(sed -n 's/^kernel=//p' "$work/config.txt")
initramfs=$(sed -n 's/^initramfs \([^ ]*\).*/\1/p' "$work/config.txt")
check "config.txt: 64-bit, a kernel and initramfs that are on the partition" "1 1 1" \
  "$(grep -c '^arm_64bit=1' "$work/config.txt") $(fat "$kernel" | grep -c .) $(fat "$initramfs" | grep -c .)"
check "cmdline.txt: root is slot A's partition" "1" "$(grep -c 'root=PARTUUID=03b00000-02 ' "$work/cmdline.txt")"
mcopy -i "$image@@$boot_offset" "::$initramfs" "$work/initrd.img"
# The initrd is cpio archives one after another: Debian 13's initramfs-tools puts the modules (already
# .ko.xz) in a plain one first, then the rest compressed (gzip or zstd); Debian 12's was one gzip'd.
initrd_files() {
  python3 - "$1" <<'PY'
import gzip, subprocess, sys
def archives(data):
    off = 0
    while off < len(data):
        if data[off] == 0: off += 1; continue  # padding between archives
        if data[off:off + 6] != b"070701":
            rest = data[off:]
            if rest[:2] == b"\x1f\x8b": rest = gzip.decompress(rest)
            elif rest[:4] == b"\x28\xb5\x2f\xfd": rest = subprocess.run(["zstd", "-dcq"], input=rest, capture_output=True, check=True).stdout
            else: sys.exit(f"initrd: unknown data at byte {off}: {rest[:4].hex()}")
            yield from archives(rest); return
        size = int(data[off + 54:off + 62], 16); namesize = int(data[off + 94:off + 102], 16)
        name = data[off + 110:off + 109 + namesize].decode(errors="replace")
        off = (off + 110 + namesize + 3) & ~3
        off = (off + size + 3) & ~3
        if name != "TRAILER!!!": yield name
for name in archives(open(sys.argv[1], "rb").read()): print(name)
PY
}
initrd_modules=$(initrd_files "$work/initrd.img" | sed -n -E 's@.*/([^/]*)\.ko(\.xz|\.zst)?$@\1@p' | sort)
has_modules() { local m missing=(); for m in "$@"; do grep -qx -- "$m" <<<"$initrd_modules" || missing+=("$m"); done; echo "${missing[*]}"; }
check "initrd has what finds the root on QEMU virt" "" "$(has_modules virtio_mmio virtio_blk ext4)"
check "initrd has what finds the root on a Pi 4 SD card" "" "$(has_modules sdhci-iproc sdhci-pltfm fixed gpio-regulator ext4)"
check "initrd has what finds the root on a Pi 4 USB disk" "" "$(has_modules xhci-pci reset-raspberrypi usb-storage uas)"

rootfs() { debugfs -R "$1" "$work/root.ext4" 2>/dev/null; }
# The names in a directory of the root file system (debugfs ls -p: /inode/mode/uid/gid/name/size/).
names() { rootfs "ls -p $1" | awk -F/ '$6 != "" && $6 != "." && $6 != ".." { print $6 }'; }
check "root label o3root" "o3root" "$(dumpe2fs -h "$work/root.ext4" 2>/dev/null | sed -n 's/^Filesystem volume name: *//p')"
check "slot A has its kernel and initrd in /boot/o3, the initrd the Pi's" "Image initrd.img version $(md5sum <"$work/initrd.img" | cut -d' ' -f1)" \
  "$(names /boot/o3 | sort | paste -sd' ') $(rootfs 'cat /boot/o3/initrd.img' | md5sum | cut -d' ' -f1)"
# depmod's index of the root's modules: every one stored inflated (the kernel would inflate a .ko.xz at
# each load, which cost seconds of every boot under TCG: docs/benchmarks.md), and the index made after.
kernel_version=$(rootfs 'cat /boot/o3/version')
modules_dep=$(rootfs "cat /usr/lib/modules/$kernel_version/modules.dep")
check "the root's modules are stored uncompressed and indexed (over 1000, no .ko.xz)" "true 0" \
  "$([ "$(grep -c '\.ko:' <<<"$modules_dep")" -gt 1000 ] && echo true || echo false) $(grep -c '\.ko\.xz' <<<"$modules_dep")"
check "the kernel hook keeps /boot/o3 (not extlinux)" "z60-o3storage-boot z60-o3storage-boot" "$(names /etc/kernel/postinst.d | grep z60) $(names /etc/initramfs/post-update.d | grep z60)"
check "the root's fstab line is slot A's partition" "PARTUUID=03b00000-02" "$(rootfs 'cat /etc/fstab' | awk '$2 == "/" { print $1 }')"
check "the first boot makes the data partition as partition 4" "O3_DATA_PARTITION=4" "$(rootfs 'cat /usr/lib/o3storage/layout' | grep '^O3_DATA')"
check "the update signing key (public) is present" "1" "$(rootfs 'cat /usr/lib/o3storage/update-signing.pem' | grep -c 'BEGIN PUBLIC KEY')"
check "machine-id empty (made and committed on first boot, no systemd preset-all)" "Size: 0" "$(rootfs 'stat /etc/machine-id' | grep -o 'Project: *[0-9]* *Size: [0-9]*' | grep -o 'Size: [0-9]*')"
masked() { rootfs "stat /etc/systemd/system/$1" | sed -n 's/^Fast link dest: "\(.*\)"$/\1/p'; }
check "e2scrub masked (no LVM on the card)" "/dev/null /dev/null" "$(masked e2scrub_reap.service) $(masked e2scrub_all.timer)"
check "/tmp on the card, not in RAM (tmp.mount masked)" "/dev/null" "$(masked tmp.mount)"
check "no SSH host keys" "" "$(names /etc/ssh | grep -E '^ssh_host_' | tr -d '\n')"
check "no random seed" "" "$(names /var/lib/systemd | grep -x random-seed)"
check "no hostname" "" "$(names /etc | grep -x hostname)"
check "no node identity or data" "" "$(names /opt/o3storage | grep -x -E 'data|api-keys.txt')"
check "no first-boot marker" "" "$(names /var/lib | grep -x o3storage)"
check "node binary, mode 0755" "0755" "$(rootfs 'stat /opt/o3storage/o3storage' | grep -o 'Mode: *[0-7]*' | awk '{ print $2 }')"
for unit in o3storage.service o3storage-firstboot.service systemd-networkd.service; do
  check "$unit enabled" "1" "$(names /etc/systemd/system/multi-user.target.wants | grep -c -x "$unit")"
done
check "o3storage-bootstate and o3storage-update-trial enabled (early: sysinit)" "1 1" \
  "$(names /etc/systemd/system/sysinit.target.wants | grep -c -x o3storage-bootstate.service) $(names /etc/systemd/system/sysinit.target.wants | grep -c -x o3storage-update-trial.service)"
check "o3storage-firewall.service enabled (before the network)" "1" "$(names /etc/systemd/system/sysinit.target.wants | grep -c -x o3storage-firewall.service)"
check "nft and the firewall's rules, local networks and ufw front-end present" "1 1 1 1" \
  "$(names /usr/sbin | grep -c -x nft) $(names /etc/o3storage | grep -c -x nftables.conf) $(names /etc/o3storage | grep -c -x firewall-local.nft) $(names /usr/sbin | grep -c -x ufw)"
check "avahi-daemon is the one mDNS stack (resolved's is off)" "MulticastDNS=no" "$(rootfs 'cat /etc/systemd/resolved.conf.d/o3storage.conf' | grep -x 'MulticastDNS=no')"
check "/boot/firmware is an empty mount point on the root" "" "$(names /boot/firmware)"

if [ "$failures" -gt 0 ]; then echo "check-image: $failures check(s) failed"; exit 1; fi
echo "check-image: $(basename "$image") is laid out as both boot paths and A/B updates expect, with nothing random baked in"
