#!/usr/bin/env bash
# The "N+1" build of the rolling-update test: this tree (committed or not) built as the release after it,
# with one metadata level more and a test-only record kind (O3STORAGE_NEXT_LEVEL_TEST), native AOT like
# the real one. Built in a git worktree under .build/, so its objects never mix with the normal build's.
# Usage: tools/publish-next-level-test.sh  (writes artifacts/next-level-test/o3storage)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
src="$root/.build/next-level-src"
out="$root/artifacts/next-level-test"
log="$root/artifacts/publish-next-level-test.log"
mkdir -p "$root/artifacts" "$root/.build"
if [ ! -d "$src/.git" ] && [ ! -f "$src/.git" ]; then
  rm -rf "$src"
  git -C "$root" worktree prune
  git -C "$root" worktree add --detach "$src" HEAD >/dev/null
fi
# The tree as it is, uncommitted and new files included (not what .gitignore leaves out).
git -C "$src" checkout --detach --force --quiet "$(git -C "$root" rev-parse HEAD)"
(cd "$root" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -) | tar -xf - -C "$src"
if ! dotnet publish "$src/node/src/O3Storage.Node/O3Storage.Node.csproj" -c Release -r linux-x64 -o "$out" \
    -p:O3StorageNextLevelTest=true -nologo -clp:NoSummary > "$log" 2>&1; then
  cat "$log"
  echo "publish of the next-level test build failed (log: $log)" >&2
  exit 1
fi
rm -f "$out"/*.dbg "$out"/*.pdb "$out"/libSystem.IO.Ports.Native.so
echo "published $out/o3storage ($("$out/o3storage" --version 2>/dev/null || echo '?'))"
