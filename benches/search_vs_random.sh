#!/usr/bin/env bash
# The agent's search against random search with the same budget on MovieLens-100K, over 3 split
# seeds, with the EASE anchor (benches/search_vs_random.py prints the table).
#   benches/search_vs_random.sh [BIN] [-- ARGS for search_vs_random.py, e.g. --budget 40]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${EVOFLOW_CACHE:-$HOME/.cache/evoflow}/target}"
BIN="${1:-}"
[ $# -gt 0 ] && shift
[ "${1:-}" = "--" ] && shift
if [ -z "$BIN" ]; then
  cargo build --release --locked -p evoflow
  BIN="$CARGO_TARGET_DIR/release/evoflow"
fi
scripts/fetch-data.sh --quiet
python3 benches/search_vs_random.py "$BIN" "$@"
