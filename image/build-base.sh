#!/usr/bin/env bash
# Builds the base root file system of the image (Debian 13 trixie arm64, under qemu-user) as a
# directory, cached under a key made of everything that goes into it: a rebuild after a change to
# the node or the overlay reuses it and takes minutes instead of the whole bootstrap.
# Usage: image/build-base.sh CACHE_DIR   (prints the directory's path on its last line)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache_dir=${1:?usage: build-base.sh CACHE_DIR}
mkdir -p "$cache_dir"

suite=trixie
mirror=http://deb.debian.org/debian
security=http://deb.debian.org/debian-security
components="main non-free-firmware"
packages=$(grep -v '^#' "$here/base/packages.txt" | sed '/^$/d' | sort | paste -sd, -)

key=$( (echo "$suite $mirror $security $components $packages"; cat "$here"/base/*; cat "$0") | sha256sum | cut -c1-16)
base="$cache_dir/base-$suite-arm64-$key"
if [ -d "$base" ]; then
  echo "base root file system: cached $base" >&2
  echo "$base"
  exit 0
fi

"$here/enable-binfmt.sh"

echo "base root file system: building $base (mmdebstrap under qemu-user, about 10 minutes)" >&2
started=$(date +%s)
rm -rf "$cache_dir"/base-"$suite"-arm64-*.part
# SOURCE_DATE_EPOCH pins the times mmdebstrap and dpkg record, so the same inputs give the same
# files; the package versions are whatever the mirror serves that day.
log="$cache_dir/base-build.log"
if ! SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1735689600} mmdebstrap \
  --format=directory \
  --architectures=arm64 \
  --variant=apt \
  --components="${components// /,}" \
  --include="$packages" \
  --aptopt='Acquire::Retries "3"' \
  --dpkgopt='force-confold' \
  --dpkgopt='force-confdef' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --setup-hook="\"$here/base/setup.sh\" \"\$1\"" \
  --customize-hook="\"$here/base/customize.sh\" \"\$1\"" \
  "$suite" "$base.part" \
  "deb $mirror $suite $components" \
  "deb $mirror $suite-updates $components" \
  "deb $security $suite-security $components" >"$log" 2>&1; then
  echo "base root file system: mmdebstrap failed; the end of $log:" >&2
  grep -v -E '^(Get|Selecting|Preparing|Unpacking|Setting up|Processing triggers)' "$log" | tail -n 40 >&2
  exit 1
fi
mv "$base.part" "$base"
# Keep only the newest base: each is several hundred MiB.
find "$cache_dir" -mindepth 1 -maxdepth 1 -name "base-$suite-arm64-*" ! -path "$base" -exec rm -rf {} +
echo "base root file system: built in $(($(date +%s) - started)) s" >&2
echo "$base"
