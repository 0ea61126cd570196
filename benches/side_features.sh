#!/usr/bin/env bash
# Side features (`with_features`: genres, age, gender, occupation) on BPR-MF against BPR-MF and
# EASE on MovieLens-100K over three split seeds (benches/side_features.evo says what runs).
#   benches/side_features.sh [BIN] [SEED ...]   (default: the release build in the cache; 2020 2021 2022)
exec "$(dirname "$0")/train_table.sh" benches/side_features.evo "$@"
