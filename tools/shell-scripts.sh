#!/usr/bin/env bash
# Lists the repository's shell scripts, one a line: tracked *.sh files and tracked files whose first
# line runs sh or bash (the image's scripts have no suffix). make lint runs shellcheck over them.
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files -z | while IFS= read -r -d '' file; do
  [ -f "$file" ] || continue
  case "$file" in
    *.sh) echo "$file" ;;
    *) if head -n 1 "$file" | grep -q -E '^#!.*[/ ](ba)?sh( |$)'; then echo "$file"; fi ;;
  esac
done
