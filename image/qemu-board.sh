# Sourced by image/test-image.sh and image/test-update.sh: one board as QEMU's virt machine (TCG,
# U-Boot distro boot from the card's FAT partition), its card, and how a test reaches it. The
# guest's network is QEMU's user-mode network with restrict=on: it reaches nothing but the two
# ports forwarded to 127.0.0.1 (the node's API and SSH), so no traffic leaves this machine.
# Before sourcing: test_name (for messages) and work (a fresh directory); checks.sh sourced.
# Sets: qemu_pid, api, api_port, ssh_port; the card is $work/disk.img, the console $work/console.log.
# shellcheck shell=bash disable=SC2154 # test_name and work: set by the script that sources this
firmware=/usr/lib/u-boot/qemu_arm64/u-boot.bin
qemu_pid=

die() {
  echo "$test_name: $*" >&2
  echo "--- last 60 lines of the serial console ---" >&2
  tail -n 60 "$work/console.log" >&2
  exit 1
}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
api_port=$(free_port)
ssh_port=$(free_port)
api="http://127.0.0.1:$api_port"

# A card bigger than the image, as a user's would be (8 GB: the first boot makes the data partition
# in what lies beyond slot B), with the user's SSH key on the FAT partition (p1 starts at 4 MiB), as
# docs/image.md tells them to.
make_card() { # make_card IMAGE
  cp --sparse=always "$1" "$work/disk.img"
  truncate --size=8G "$work/disk.img"
  ssh-keygen -q -t ed25519 -N '' -C "o3storage-$test_name" -f "$work/id"
  mcopy -i "$work/disk.img@@4M" "$work/id.pub" ::authorized_keys
}

boot() {
  qemu-system-aarch64 -M virt -cpu cortex-a72 -smp 2 -m 1024 -nographic -monitor none \
    -bios "$firmware" \
    -drive if=none,file="$work/disk.img",format=raw,id=disk -device virtio-blk-device,drive=disk \
    -netdev "user,id=net,restrict=on,hostfwd=tcp:127.0.0.1:$api_port-:8080,hostfwd=tcp:127.0.0.1:$ssh_port-:22" \
    -device virtio-net-device,netdev=net -device virtio-rng-device \
    -device qemu-xhci -device usb-kbd \
    -serial "file:$work/console.log" </dev/null >"$work/qemu.log" 2>&1 &
  qemu_pid=$!
}

ssh_options=(-i "$work/id" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=10 -o BatchMode=yes -o LogLevel=ERROR)
guest() { ssh -q "${ssh_options[@]}" -p "$ssh_port" o3admin@127.0.0.1 "$@"; }

# Seconds until /health answers 200, or die after LIMIT seconds.
wait_health() { # wait_health LIMIT WHAT
  local started=$SECONDS
  until curl -fsS -o /dev/null --max-time 5 "$api/health" 2>/dev/null; do
    kill -0 "$qemu_pid" 2>/dev/null || die "QEMU exited while waiting for $2"
    # A failed unit of ours will not come back by itself: say so now, not at the time limit.
    if [ "${expect_failed_units:-no}" = no ] && grep -a -q 'Failed to start .*o3storage' "$work/console.log" 2>/dev/null; then
      sleep 5 # SSH starts right after a failed first boot
      guest "journalctl -b -q -u o3storage-firstboot -u o3storage --no-pager | tail -n 20" >&2 || true
      die "a unit of ours failed while waiting for $2"
    fi
    [ $((SECONDS - started)) -lt "$1" ] || die "no /health 200 within $1 s ($2)"
    sleep 1
  done
  echo $((SECONDS - started))
}

wait_ssh() { for _ in $(seq 1 60); do guest true 2>/dev/null && return 0; sleep 2; done; die "no SSH login as o3admin"; }

# Until the running system stops answering /health (it is going down), or die after LIMIT seconds.
wait_down() { # wait_down LIMIT WHAT
  local started=$SECONDS
  while curl -fsS -o /dev/null --max-time 2 "$api/health" 2>/dev/null; do
    [ $((SECONDS - started)) -lt "$1" ] || die "the node still served $1 s after $2"
    sleep 1
  done
  echo $((SECONDS - started))
}
