#!/usr/bin/env bash
# Checks that BINARY is the native-AOT linux-arm64 node and prints its version (`o3storage --version`
# run under qemu-user). Without qemu-aarch64-static, O3STORAGE_VERSION must give the version.
# Usage: image/node-version.sh BINARY
set -euo pipefail
binary=${1:?usage: node-version.sh BINARY}
[ -x "$binary" ] || { echo "no node binary at $binary (make publish-arm64)" >&2; exit 1; }
# ELF e_machine 0xb7: AArch64.
[ "$(od -An -tx1 -j18 -N2 "$binary" | tr -d ' ')" = b700 ] || { echo "$binary is not an arm64 executable" >&2; exit 1; }
if command -v qemu-aarch64-static >/dev/null; then
  qemu-aarch64-static -L /usr/aarch64-linux-gnu "$binary" --version | awk '{ print $2 }'
else
  echo "${O3STORAGE_VERSION:?no qemu-aarch64-static to ask the binary its version: set O3STORAGE_VERSION}"
fi
