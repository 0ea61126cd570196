#!/usr/bin/env bash
# Times the README's first command as a new user meets it: a fresh clone, an empty evoflow cache
# (no libtorch, no libduckdb, no build, no data) and nothing installed, then `scripts/quickstart.sh`.
# Cargo's own registry (~/.cargo) and pip/npm's caches are whatever this machine has: say so
# when quoting the figure. Needs ~6 GB free under /tmp; removes everything it made.
#   scripts/measure-first-run.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
place=$(mktemp -d /tmp/evoflow-first-run.XXXXXX)
trap 'rm -rf "$place"' EXIT
git clone --quiet "$repo" "$place/evoflow"
cd "$place/evoflow"
start=$(date +%s)
env -u CARGO_TARGET_DIR EVOFLOW_CACHE="$place/cache" EVOFLOW_DATA="$place/data" EVOFLOW_BIN_DIR="$place/bin" \
  scripts/quickstart.sh 2>&1 | while IFS= read -r line; do printf '[%4ds] %s\n' $(($(date +%s) - start)) "$line"; done
echo "first run: $(($(date +%s) - start)) s in all (fresh clone of $(git rev-parse --short HEAD), empty cache)"
