#!/usr/bin/env bash
# Lets this machine run arm64 programs (the image's package scripts) through qemu-user-static.
set -euo pipefail
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
  update-binfmts --enable qemu-aarch64
fi
if ! grep -q '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64; then
  echo "image: binfmt_misc has qemu-aarch64 but it is disabled" >&2
  exit 1
fi
