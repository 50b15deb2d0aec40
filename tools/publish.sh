#!/usr/bin/env bash
# Publishes the native-AOT o3storage and o3ctl for one runtime and fails on any build, trim or AOT warning.
# Usage: tools/publish.sh linux-x64|linux-arm64
set -euo pipefail
rid=${1:?usage: publish.sh RID}
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/artifacts/$rid"
log="$root/artifacts/publish-$rid.log"
mkdir -p "$root/artifacts"

extra=()
if [ "$rid" = linux-arm64 ] && [ "$(uname -m)" != aarch64 ]; then
  extra=(-p:LinkerFlavor=lld -p:ObjCopyName=aarch64-linux-gnu-objcopy)
fi

: > "$log"
for project in node/src/O3Storage.Node/O3Storage.Node.csproj tools/O3Storage.Ctl/O3Storage.Ctl.csproj; do
  if ! dotnet publish "$root/$project" -c Release -r "$rid" -o "$out" \
      "${extra[@]}" -nologo -clp:NoSummary >> "$log" 2>&1; then
    cat "$log"
    echo "publish of $project for $rid failed (log: $log)" >&2
    exit 1
  fi
done

# Warnings as errors covers the compiler; this also catches ILC/trimmer warnings (IL2xxx/IL3xxx).
# NU1603 (a dependency resolved to a newer version than asked) is expected from the feed here.
warnings=$(grep -E ': warning [A-Z]+[0-9]+' "$log" | grep -v 'NU1603' | sort -u || true)
if [ -n "$warnings" ]; then
  echo "$warnings"
  echo "publish for $rid produced warnings: the zero-warning gate fails" >&2
  exit 1
fi

# Iot.Device.Bindings brings System.IO.Ports' native library; the node opens no serial port, and the
# image and the Yocto tarball take the one binary, so the directory holds only the two programs.
rm -f "$out"/*.dbg "$out"/*.pdb "$out"/libSystem.IO.Ports.Native.so
echo "published $out/o3storage ($(du -h "$out/o3storage" | cut -f1)) and $out/o3ctl ($(du -h "$out/o3ctl" | cut -f1)), 0 warnings"
