#!/usr/bin/env bash
# Set-up and quick start: fetches the native libraries (once), builds evoflow (release), checks the
# quick-start workflow and prints its plan, then runs the MovieLens data preparation twice (the
# second run comes from the cache).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --quiet --write-cargo-config .
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${EVOFLOW_CACHE:-$HOME/.cache/evoflow}/target}"
cargo build --release --locked -p evoflow
evoflow="$CARGO_TARGET_DIR/release/evoflow"
"$evoflow" check workflows/quickstart.evo
"$evoflow" graph workflows/quickstart.evo --format mermaid
"$evoflow" run workflows/data_prep.evo
"$evoflow" run workflows/data_prep.evo
"$evoflow" journal workflows/data_prep.evo
