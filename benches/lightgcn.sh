#!/usr/bin/env bash
# LightGCN (`propagate`) against BPR-MF and EASE on MovieLens-100K over three split seeds
# (benches/lightgcn.evo says what runs).
#   benches/lightgcn.sh [BIN] [SEED ...]   (default: the release build in the cache; 2020 2021 2022)
exec "$(dirname "$0")/train_table.sh" benches/lightgcn.evo "$@"
