#!/usr/bin/env bash
# The training defaults against RecBole's published BPR-MF on MovieLens-100K (test NDCG@10
# 0.292, Recall@10 0.2523): `train` with its defaults and with a fixed 5 epochs, in one run.
#   benches/training_defaults.sh [BIN]   (default: the release build in the cache)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${EVOFLOW_CACHE:-$HOME/.cache/evoflow}/target}"
BIN="${1:-}"
if [ -z "$BIN" ]; then
  cargo build --release --locked -p evoflow
  BIN="$CARGO_TARGET_DIR/release/evoflow"
fi
scripts/fetch-data.sh --quiet
RUN_DIR="$(mktemp -d)"
trap 'rm -rf "$RUN_DIR"' EXIT
"$BIN" run benches/training_defaults.evo --run-dir "$RUN_DIR" -q
"$BIN" journal benches/training_defaults.evo --run-dir "$RUN_DIR" --format csv --sql "
  SELECT a.node_id AS config,
         json_array_length(a.meta->'\$.losses') AS epochs_run,
         a.meta->>'\$.best_epoch' AS best_epoch,
         round(CAST(a.meta->>'\$.test.values.\"ndcg@10\"' AS DOUBLE), 4) AS test_ndcg10,
         round(CAST(a.meta->>'\$.test.values.\"recall@10\"' AS DOUBLE), 4) AS test_recall10,
         round(CAST(a.meta->>'\$.wall_seconds' AS DOUBLE), 1) AS seconds,
         round(CAST(a.meta->>'\$.test.values.\"ndcg@10\"' AS DOUBLE) / 0.292, 3) AS vs_recbole_ndcg
  FROM artifacts a WHERE a.step = 'std::train::train' ORDER BY a.node_id" | column -s, -t
