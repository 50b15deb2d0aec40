#!/usr/bin/env bash
# mmdebstrap customize hook: runs after every package is installed into the root file system at $1.
set -euo pipefail
root=$1

# The kernel's install already made the initramfs (with the explicit module list) and ran the
# hooks; running them once more, in order, leaves /boot/firmware complete whatever order dpkg
# configured the packages in.
DEB_MAINT_PARAMS=configure chroot "$root" /etc/kernel/postinst.d/z50-raspi-firmware
chroot "$root" /etc/kernel/postinst.d/z60-o3storage-extlinux

# Nothing random or host-specific stays in the base: machine-id, SSH host keys and the random
# seed are made on first boot (systemd and o3storage-firstboot).
rm -f "$root"/etc/ssh/ssh_host_*
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id" "$root/var/lib/systemd/random-seed"
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
rm -f "$root"/var/log/*.log "$root"/var/log/apt/* "$root/etc/hostname"
