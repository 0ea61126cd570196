#!/usr/bin/env bash
# Set-up and quick start: builds evoflow (release) and checks the quick-start workflow.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${EVOFLOW_CACHE:-$HOME/.cache/evoflow}/target}"
cargo build --release --locked -p evoflow
evoflow="$CARGO_TARGET_DIR/release/evoflow"
"$evoflow" check workflows/quickstart.evo
"$evoflow" graph workflows/quickstart.evo --format mermaid
