# O3StorageOS A/B boot script for U-Boot 2023.01 (Debian's u-boot-qemu, qemu_arm64), compiled into
# O3BOOT/boot.scr by image/build-image.sh (mkimage -T script). Distro boot runs it
# (scan_dev_for_scripts) with devtype, devnum and distro_bootpart set. ARCHITECTURE.md, "A/B system
# updates"; the state's format and its Linux side: /usr/sbin/o3-bootstate.
#
# The boot state: a U-Boot binary environment (CRC-32 + NAME=value pairs, 0x1000 bytes) stored twice
# in the gap before partition 1, copy 1 at sector 0x800 (1 MiB), copy 2 at sector 0x1000 (2 MiB):
#   O3_SLOT   A or B        the committed slot: A is partition 2, B partition 3
#   O3_TRY    A, B or none  one trial boot of that slot, cleared here (both copies) before it boots
#   O3_TRIED  A, B or none  Linux's note of the last trial; passed through unchanged
# Each slot's root file system holds its own kernel and initrd, /boot/o3/Image and /boot/o3/initrd.img.

setenv o3_state ${kernel_addr_r}
${devtype} dev ${devnum}

setenv O3_SLOT
setenv O3_TRY
setenv O3_TRIED
setenv o3_copy
if ${devtype} read ${o3_state} 0x800 8; then
  if env import -c ${o3_state} 0x1000 O3_SLOT O3_TRY O3_TRIED; then
    setenv o3_copy 1
  fi
fi
if test -z "${o3_copy}"; then
  if ${devtype} read ${o3_state} 0x1000 8; then
    if env import -c ${o3_state} 0x1000 O3_SLOT O3_TRY O3_TRIED; then
      setenv o3_copy 2
    fi
  fi
fi
if test -z "${o3_copy}"; then
  echo "o3: no valid boot state; booting slot A"
fi
if test "${O3_SLOT}" != "B"; then
  setenv O3_SLOT A
fi
test -n "${O3_TRIED}" || setenv O3_TRIED none

setenv o3_slot ${O3_SLOT}
setenv o3_trial 0
if test "${O3_TRY}" = "A" -o "${O3_TRY}" = "B"; then
  if test "${O3_TRY}" != "${O3_SLOT}"; then
    setenv o3_next ${O3_TRY}
    setenv O3_TRY none
    env export -c -s 0x1000 ${o3_state} O3_SLOT O3_TRIED O3_TRY
    if ${devtype} write ${o3_state} 0x800 8; then
      if ${devtype} write ${o3_state} 0x1000 8; then
        setenv o3_slot ${o3_next}
        setenv o3_trial 1
      fi
    fi
    if test "${o3_trial}" = "0"; then
      echo "o3: could not clear the trial of slot ${o3_next}; booting the committed slot ${O3_SLOT}"
    fi
  fi
fi

if test "${o3_slot}" = "A"; then
  setenv o3_other B
else
  setenv o3_other A
fi
for o3_s in ${o3_slot} ${o3_other}; do
  if test "${o3_s}" = "B"; then
    setenv o3_part 3
  else
    setenv o3_part 2
  fi
  if test "${o3_s}" != "${o3_slot}"; then
    echo "o3: slot ${o3_slot} did not load; trying slot ${o3_s}"
    setenv o3_trial 0
  fi
  echo "o3: booting slot ${o3_s} (partition ${o3_part}, trial ${o3_trial}, state copy ${o3_copy})"
  if load ${devtype} ${devnum}:${o3_part} ${kernel_addr_r} /boot/o3/Image; then
    if load ${devtype} ${devnum}:${o3_part} ${ramdisk_addr_r} /boot/o3/initrd.img; then
      part uuid ${devtype} ${devnum}:${o3_part} o3_partuuid
      setenv bootargs "root=PARTUUID=${o3_partuuid} rootwait rw fsck.repair=yes net.ifnames=0 panic=10 console=ttyAMA0,115200 o3.slot=${o3_s} o3.trial=${o3_trial}"
      booti ${kernel_addr_r} ${ramdisk_addr_r}:${filesize} ${fdtcontroladdr}
    fi
  fi
done
echo "o3: neither slot could be booted"
