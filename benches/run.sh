#!/usr/bin/env bash
# Runs every benchmark and prints its tables; BENCHMARKS.md records the results and the commands.
# Each comparison runs its anchor in the same invocation, so read the ratios, not the seconds.
#   SNAKEMAKE=PATH        the snakemake to compare against (default: the one on PATH; none: skipped)
#   TORCH_PYTHON=PATH     a Python that imports torch, for the trainer comparison (default: python3)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${EVOFLOW_CACHE:-$HOME/.cache/evoflow}/target}"
scripts/setup.sh --quiet --write-cargo-config .
cargo build --release --locked -p evoflow
BIN="$CARGO_TARGET_DIR/release/evoflow"
SNAKEMAKE="${SNAKEMAKE:-$(command -v snakemake || true)}"

echo "## Front end, in process (criterion)"
cargo bench --locked -p evoflow --bench frontend -- --noplot 2>/dev/null | grep -E "^frontend|time:" || true
echo
if [ -n "$SNAKEMAKE" ]; then
  echo "## Front end vs Snakemake, whole processes"
  PATH="$(dirname "$SNAKEMAKE"):$PATH" python3 benches/compare.py "$BIN"
  echo
fi
echo "## Engine overhead per step (and the same DAG under Snakemake)"
python3 benches/engine_run.py "$BIN" --repeat 3 --snakemake "$SNAKEMAKE"
echo
echo "## Trainer vs PyTorch eager, CPU"
python3 benches/trainer_compare.py --python "${TORCH_PYTHON:-python3}" || echo "(skipped: see the message above)"
echo
echo "## Cancellation latency of a training attempt (anchor: one epoch)"
cargo bench --locked -p trainer --bench cancel
echo
echo "## The online stage at 1,000,000 users vs the simulator's study alone"
benches/online_scale.sh "$BIN"
echo
echo "## Training defaults vs RecBole's BPR-MF on MovieLens-100K"
benches/training_defaults.sh "$BIN"
echo
echo "## Reward sandbox (wasmtime vs native vs DuckDB)"
cargo bench --locked -p sandboxes --bench reward
echo
echo "## The Slurm executor on a one-node cluster vs the local executor"
if scripts/slurm.sh up; then python3 benches/slurm.py "$BIN"; else echo "(skipped: no Slurm cluster here)"; fi
echo
echo "## Simulator: generating logs"
cargo bench --locked -p simulator --bench logs -- --noplot
echo
echo "## LightGCN and side features on MovieLens-100K against BPR-MF and EASE"
benches/lightgcn.sh "$BIN"
benches/side_features.sh "$BIN"
