#!/usr/bin/env bash
# Builds o3storage at a git revision into .bench/baseline-REV (once; later calls reuse it) and prints its
# path: the "before" of a benchmark that measures a change side by side with this tree.
# Usage: bench/build-baseline.sh REVISION
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
revision=$1
source_dir=$root/.bench/baseline-src
binary=$root/.bench/baseline-$(git -C "$root" rev-parse --short "$revision")
if [ ! -x "$binary" ]; then
  rm -rf "$source_dir"
  git -C "$root" worktree prune
  git -C "$root" worktree add --detach "$source_dir" "$revision" >/dev/null
  (cd "$source_dir" && tools/publish.sh linux-x64 >/dev/null)
  cp "$source_dir/artifacts/linux-x64/o3storage" "$binary"
  git -C "$root" worktree remove --force "$source_dir"
fi
echo "$binary"
