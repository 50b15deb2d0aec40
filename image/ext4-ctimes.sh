#!/usr/bin/env bash
# genimage exec-post for root.ext4: mke2fs -d copies each file's ctime, which is when this build
# touched it and cannot be set from user space, and its atime, which the build's own reading of
# directories moved; this sets both to SOURCE_DATE_EPOCH on every inode, so two builds of the same
# inputs give the same bytes (mtimes are clamped before, in build-image.sh).
# Usage: ext4-ctimes.sh EXT4_IMAGE ROOTFS_DIR
set -euo pipefail
image=$1
rootfs=$2
stamp=$(date --utc --date="@$SOURCE_DATE_EPOCH" +%Y%m%d%H%M%S)
commands=$(mktemp)
trap 'rm -f "$commands"' EXIT
(cd "$rootfs" && find . -path ./boot/firmware -prune -o -print0 | LC_ALL=C sort -z) \
  | while IFS= read -r -d '' path; do
      path=${path#.}
      printf 'set_inode_field "%s" ctime %s\nset_inode_field "%s" atime %s\n' "${path:-/}" "$stamp" "${path:-/}" "$stamp"
    done >"$commands"
printf 'set_inode_field /boot/firmware ctime %s\nset_inode_field /boot/firmware atime %s\n' "$stamp" "$stamp" >>"$commands"
debugfs -w -f "$commands" "$image" >/dev/null 2>"$commands.err" || { cat "$commands.err" >&2; exit 1; }
if grep -v '^debugfs ' "$commands.err" | grep -q .; then
  grep -v '^debugfs ' "$commands.err" | head -n 5 >&2
  rm -f "$commands.err"
  exit 1
fi
rm -f "$commands.err"
