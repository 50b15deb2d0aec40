#!/usr/bin/env bash
# Makes a signed OS update bundle from a root file system image (build-image.sh leaves one beside
# the image): a tar of manifest, manifest.sig and root.ext4.gz, which o3-update on a board checks
# against the key its release trusts before writing anything (docs/image.md, "Updating the OS").
# Usage: image/make-bundle.sh ROOT_EXT4 BUNDLE [KEY]   (KEY: UPDATE_KEY, else .image-cache/update-signing.key)
set -euo pipefail
root=${1:?usage: make-bundle.sh ROOT_EXT4 BUNDLE [KEY]}
bundle=${2:?usage: make-bundle.sh ROOT_EXT4 BUNDLE [KEY]}
key=${3:-${UPDATE_KEY:-$(cd "$(dirname "$0")/.." && pwd)/.image-cache/update-signing.key}}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1735689600}
[ -f "$root" ] || { echo "make-bundle: no root file system at $root (make image)" >&2; exit 2; }
[ -s "$key" ] || { echo "make-bundle: no signing key at $key: the one the image was built with (make image makes it)" >&2; exit 2; }

release=$(debugfs -R "cat /etc/o3storage-release" "$root" 2>/dev/null | head -n 1)
[ -n "$release" ] || { echo "make-bundle: $root has no /etc/o3storage-release: not an O3StorageOS root file system" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
started=$(date +%s)
gzip -1 -n -c "$root" >"$work/root.ext4.gz"
{
  echo "format=o3storage-update-1"
  echo "release=$release"
  echo "root_bytes=$(stat -c %s "$root")"
  echo "root_sha256=$(sha256sum <"$root" | cut -d' ' -f1)"
} >"$work/manifest"
openssl pkeyutl -sign -inkey "$key" -rawin -in "$work/manifest" -out "$work/manifest.sig"
tar --create --file "$bundle.part" --directory "$work" --sort=name --mtime="@$SOURCE_DATE_EPOCH" \
  --owner=0 --group=0 --numeric-owner --format=gnu manifest manifest.sig root.ext4.gz
mv "$bundle.part" "$bundle"
echo "update bundle: $bundle (release $release, $(du -h "$bundle" | cut -f1)) in $(($(date +%s) - started)) s" >&2
echo "$bundle"
