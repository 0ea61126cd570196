#!/usr/bin/env bash
# The test command: formatting, lints, every test of the workspace, and a minute of fuzzing.
# Builds go to a cache outside the clone so repeated runs are fast; a fresh machine builds all.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --quiet --write-cargo-config .
scripts/fetch-data.sh --quiet   # the real data tests read (MovieLens-100K), into ~/.cache/evoflow-data
CARGO_TARGET_DIR=$(scripts/target-dir.sh)
export CARGO_TARGET_DIR
scripts/prune-target.sh "$CARGO_TARGET_DIR"   # the cache keeps one build of each test binary
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
# tests/slurm.rs runs on a real one-node cluster: installed and started here when missing
# (Debian's packages), and stopped again at the end if this script started it.
echo "== a one-node Slurm cluster"
if ! scripts/slurm.sh status; then
  scripts/slurm.sh up
  trap 'scripts/slurm.sh down' EXIT
fi
echo "== cargo test"
cargo test --workspace --locked
echo "== fuzz smoke: the front end under libFuzzer for 60 s"
scripts/fuzz.sh 60
