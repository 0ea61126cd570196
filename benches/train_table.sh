#!/usr/bin/env bash
# Every `train` and `ease` step of a bench workflow on MovieLens-100K, one run per split seed,
# then one table: test NDCG@10 per seed and its mean, epochs, seconds (the .evo says what runs).
#   benches/train_table.sh WORKFLOW.evo [BIN] [SEED ...]   (default: the release build in the cache;
#   seeds 2020 2021 2022). benches/lightgcn.sh and benches/side_features.sh call it.
set -euo pipefail
cd "$(dirname "$0")/.."
EVO="$1"
shift
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${EVOFLOW_CACHE:-$HOME/.cache/evoflow}/target}"
BIN="${1:-}"
[ $# -gt 0 ] && shift
if [ -z "$BIN" ]; then
  cargo build --release --locked -p evoflow
  BIN="$CARGO_TARGET_DIR/release/evoflow"
fi
SEEDS=("$@")
[ ${#SEEDS[@]} -gt 0 ] || SEEDS=(2020 2021 2022)
scripts/fetch-data.sh --quiet
ROOT="$(mktemp -d)"
trap 'rm -rf "$ROOT"' EXIT
for seed in "${SEEDS[@]}"; do
  "$BIN" run "$EVO" --run-dir "$ROOT/$seed" -q --set seed="$seed"
  "$BIN" journal "$EVO" --run-dir "$ROOT/$seed" --format csv --sql "
    SELECT $seed AS seed, a.node_id AS config,
           coalesce(CAST(json_array_length(a.meta->'\$.losses') AS VARCHAR), '-') AS epochs,
           round(coalesce(CAST(a.meta->>'\$.test.values.\"ndcg@10\"' AS DOUBLE),
                          CAST(a.meta->>'\$.test.\"ndcg@10\"' AS DOUBLE)), 4) AS test_ndcg10,
           round(coalesce(CAST(a.meta->>'\$.test.values.\"recall@10\"' AS DOUBLE),
                          CAST(a.meta->>'\$.test.\"recall@10\"' AS DOUBLE)), 4) AS test_recall10,
           round(s.duration_ms / 1000.0, 1) AS seconds
    FROM artifacts a JOIN steps s USING (node_id)
    WHERE a.step IN ('std::train::train', 'std::train::ease') ORDER BY a.node_id" > "$ROOT/$seed.csv"
done
python3 - "$ROOT" "${SEEDS[@]}" <<'PY'
import csv, statistics, sys
root, seeds = sys.argv[1], sys.argv[2:]
rows = [r for s in seeds for r in csv.DictReader(open(f"{root}/{s}.csv"))]
configs = sorted({r["config"] for r in rows})
print(f"{'config':<18} " + " ".join(f"{'seed ' + s:>12}" for s in seeds) + f" {'mean':>8} {'epochs':>8} {'seconds':>8}")
for c in configs:
    rs = {r["seed"]: r for r in rows if r["config"] == c}
    nd = [float(rs[s]["test_ndcg10"]) for s in seeds]
    ep = "/".join(rs[s]["epochs"] for s in seeds)
    sec = statistics.median(float(rs[s]["seconds"]) for s in seeds)
    print(f"{c:<18} " + " ".join(f"{x:>12.4f}" for x in nd) + f" {statistics.mean(nd):>8.4f} {ep:>8} {sec:>8.1f}")
print("test NDCG@10 per split seed; epochs run per seed; seconds: median step time")
PY
