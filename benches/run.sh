#!/usr/bin/env bash
# Runs every benchmark and prints a table of results; see BENCHMARKS.md for recorded numbers.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${EVOFLOW_CACHE:-$HOME/.cache/evoflow}/target}"
cargo build --release --locked -p evoflow
echo "## Front end, in process (criterion)"
cargo bench --locked -p evoflow --bench frontend -- --noplot 2>/dev/null | grep -E "^frontend|time:" || true
echo
echo "## Front end vs Snakemake, whole processes"
python3 benches/compare.py "$CARGO_TARGET_DIR/release/evoflow"
