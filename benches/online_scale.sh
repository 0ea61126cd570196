#!/usr/bin/env bash
# The online stage at scale: a USERS-user (default 1,000,000), 14-day, 4-arm study after a 14-day
# pre-period, through `evoflow run` (benches/online_scale.evo: logs, split, four MF models trained
# one epoch, then `online`), against its anchor in the same invocation: the simulator's own study
# of the same size (`cargo run -p simulator --example study`, arms ranked by the world's
# relevance, no models, no journal, no saved state). Prints a table; read the ratio.
#   benches/online_scale.sh [BIN] [USERS]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${EVOFLOW_CACHE:-$HOME/.cache/evoflow}/target}"
BIN=${1:-$CARGO_TARGET_DIR/release/evoflow}
USERS=${2:-1000000}
if [[ $# -lt 1 ]]; then cargo build --release --locked -p evoflow; fi
cargo build --release --locked -p simulator --example study
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp benches/online_scale.evo "$work/"

anchor=$(/usr/bin/time -f "%e %M" "$CARGO_TARGET_DIR/release/examples/study" "$USERS" 14 4 14 500 2>"$work/anchor.time")
read -r anchor_s anchor_kb <"$work/anchor.time"
/usr/bin/time -f "%e %M" "$BIN" run "$work/online_scale.evo" --set "users=$USERS" -q 2>"$work/run.time" >/dev/null
read -r run_s run_kb < <(tail -1 "$work/run.time")
study_ms=$("$BIN" journal "$work/online_scale.evo" --format csv \
  --sql "SELECT duration_ms FROM steps WHERE node_id = 'study'" | tail -1)

printf '| %s users, 4 arms, 14 + 14 days | time | peak RSS |\n| --- | --- | --- |\n' "$USERS"
printf '| anchor: the simulator'"'"'s study alone (examples/study) | %.1f s | %d MiB |\n' "$anchor_s" $((anchor_kb / 1024))
printf '| `online` step in `evoflow run` (models loaded and scored, state saved, journaled) | %.1f s | |\n' \
  "$(python3 -c "print($study_ms / 1000)")"
printf '| whole `evoflow run` (logs, split, 4 models trained, online) | %.1f s | %d MiB |\n' "$run_s" $((run_kb / 1024))
printf '| ratio online step / anchor | %.2fx | |\n' "$(python3 -c "print($study_ms / 1000 / $anchor_s)")"
echo
echo "anchor's intervals:"
echo "$anchor"
