#!/usr/bin/env bash
# Keeps only the newest build of each test and example binary in the shared target dir
# ($1, else scripts/target-dir.sh's). Every change to a crate leaves a new hash-named binary of up
# to a gigabyte (each links libtorch's and DuckDB's wrappers) and cargo never deletes the old
# ones: over a few weeks of runs they filled a 250 GB disk. An older binary that is needed again
# is relinked, not rebuilt from scratch.
set -euo pipefail
target=${1:-$("$(dirname "$0")/target-dir.sh")}
for dir in "$target"/{debug,release}/{deps,examples}; do
  [[ -d $dir ]] || continue
  find "$dir" -maxdepth 1 -type f -executable -regextype posix-extended -regex '.*/[^/.]+-[0-9a-f]{16}' \
    -printf '%T@ %p\n' |
    sort -rn |
    # The name without its `-<16 hex>` suffix (by length: Debian's mawk has no `{16}`).
    awk '{ name = substr($2, 1, length($2) - 17); if (seen[name]++) print $2 }' |
    xargs -r rm -f
done
