#!/usr/bin/env bash
# Fuzzes the front end (parse, check, plan, format) with libFuzzer for SECONDS (default 60),
# seeded with every .evo file of the repo; the corpus it grows is kept in the cache, so each run
# starts where the last one stopped. Needs a nightly toolchain; installs cargo-fuzz when missing.
#   scripts/fuzz.sh [SECONDS] [-- LIBFUZZER ARGS, e.g. -max_len=8192]
# Sanitizers and comparison tracing are off: they cost 15x the speed and the front end is safe
# Rust, so what is looked for is panics, aborts and stack overflows.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
[ $# -gt 0 ] && shift
[ "${1:-}" = "--" ] && shift
cache=${EVOFLOW_CACHE:-$HOME/.cache/evoflow}
if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz: skipped, no nightly toolchain (rustup toolchain install nightly); the proptest front-end tests in tests/fmt.rs still ran"
  exit 0
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install --locked cargo-fuzz
fi
export CARGO_TARGET_DIR=$cache/fuzz-target
(cd fuzz && cargo +nightly fuzz build -s none --no-trace-compares check)
bin=$CARGO_TARGET_DIR/$(rustc -vV | sed -n 's/^host: //p')/release/check
corpus=$cache/fuzz-corpus
artifacts=$cache/fuzz-artifacts
mkdir -p "$corpus" "$artifacts"
git ls-files -z '*.evo' | while IFS= read -r -d '' f; do cp -f "$f" "$corpus/seed-${f//\//_}"; done
log=$(mktemp)
work=$(mktemp -d)
trap 'rm -rf "$log" "$work"' EXIT
run_corpus=$corpus
if [ "$secs" -le 300 ]; then
  # A short run would spend its time loading a corpus grown over hours: it starts from the seeds
  # and the 1,000 newest finds, and what it finds is kept for the long runs.
  (cd "$corpus" && ls -t | head -n 1000 | xargs -r cp -t "$work" 2>/dev/null || true)
  cp -f "$corpus"/seed-* "$work"/
  run_corpus=$work
fi
if ! "$bin" "$run_corpus" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$artifacts/" "$@" >"$log" 2>&1; then
  tail -n 40 "$log"
  echo "fuzz: a crash; the input is in $artifacts/ (replay: $bin FILE)" >&2
  exit 1
fi
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | awk '{s += $1} END {print s + 0}')
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | awk '{s += $1} END {print s + 0}')
[ "$run_corpus" = "$corpus" ] || cp -n "$work"/* "$corpus"/ 2>/dev/null || true
echo "fuzz: $execs executions in ${secs}s ($rate/s), no crash; corpus $(ls "$corpus" | wc -l) inputs"
