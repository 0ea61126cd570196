#!/usr/bin/env bash
# Set-up and quick start: fetches the native libraries (once), builds evoflow (release), checks the
# quick-start workflow, and runs it: simulated logs, the built-in search agent's candidates
# trained and scored offline, the best sent through a simulated online experiment. Then shows the
# journal (the best experiments and the launch decisions), writes the HTML report, and leaves
# `evoflow` runnable by name: a link in ~/.local/bin (or $EVOFLOW_BIN_DIR) to the built binary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --quiet --write-cargo-config .
scripts/fetch-data.sh --quiet   # MovieLens-100K for the real-data workflows (the quick start itself simulates)
CARGO_TARGET_DIR=$(scripts/target-dir.sh)
export CARGO_TARGET_DIR
cargo build --release --locked -p evoflow
evoflow="$CARGO_TARGET_DIR/release/evoflow"
bin_dir=${EVOFLOW_BIN_DIR:-$HOME/.local/bin}
mkdir -p "$bin_dir"
ln -sf "$evoflow" "$bin_dir/evoflow"   # a link: every later build is the one on the PATH
"$evoflow" check workflows/quickstart.evo
"$evoflow" run workflows/quickstart.evo
"$evoflow" journal workflows/quickstart.evo --sql \
  "SELECT persona, kind, operator, status, round(offline_score, 4) AS ndcg10, explanation
   FROM experiments WHERE offline_score IS NOT NULL ORDER BY offline_score DESC LIMIT 10"
"$evoflow" journal workflows/quickstart.evo --sql \
  "SELECT experiment_key[1:12] AS candidate, decision, round(offline_score, 4) AS offline,
          round(100 * delta, 2) AS return_pct, round(100 * ci_low, 2) AS ci_low,
          round(100 * ci_high, 2) AS ci_high, reason
   FROM decisions ORDER BY id"
"$evoflow" report workflows/quickstart.evo
echo
echo "evoflow $("$evoflow" --version | cut -d' ' -f2-) is installed as $bin_dir/evoflow."
case ":$PATH:" in
  *":$bin_dir:"*) echo "Try: evoflow check workflows/quickstart.evo" ;;
  *) echo "Add it to your PATH: echo 'export PATH=\"$bin_dir:\$PATH\"' >> ~/.bashrc  (then open a new shell)" ;;
esac
echo "Shell completions: evoflow completions bash > ~/.local/share/bash-completion/completions/evoflow"
