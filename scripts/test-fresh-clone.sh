#!/usr/bin/env bash
# Runs the test command in a fresh clone of HEAD placed where no `../shared` exists beside it,
# the way a person who only has the repository runs it. Builds reuse the usual cache
# (~/.cache/evoflow/target); data comes from scripts/fetch-data.sh, as in any clone.
#
#   scripts/test-fresh-clone.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
place=$(mktemp -d /tmp/evoflow-clone.XXXXXX)
trap 'rm -rf "$place"' EXIT
git clone --quiet "$repo" "$place/evoflow"
if [[ -e $place/shared ]]; then
  echo "test-fresh-clone.sh: $place/shared exists; the point is a clone with none beside it" >&2
  exit 1
fi
echo "== fresh clone of $(git -C "$repo" rev-parse --short HEAD) in $place/evoflow (no ../shared)"
cd "$place/evoflow"
scripts/test.sh
