#!/usr/bin/env bash
# Prints the cargo target dir the scripts build in (CARGO_TARGET_DIR, else $EVOFLOW_CACHE/target,
# else ~/.cache/evoflow/target), shared by every checkout so a new clone builds in minutes.
#
# Cargo names a workspace crate's artifacts without its checkout's path, and judges them fresh
# by the source files the last build read: a build in another checkout (a fresh clone, a
# worktree) can leave artifacts of other sources that look fresh to this one. So when another
# checkout built here last, this one's tracked files are touched first: its own crates rebuild
# (a few minutes), the dependencies do not.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-${EVOFLOW_CACHE:-$HOME/.cache/evoflow}/target}
mkdir -p "$target"
marker=$target/.evoflow-checkout
if [[ ! -f $marker || $(cat "$marker") != "$repo" ]]; then
  if git -C "$repo" rev-parse --git-dir >/dev/null 2>&1; then
    git -C "$repo" ls-files -z | (cd "$repo" && xargs -0 touch -c)
  else
    find "$repo" -path "$repo/target" -prune -o -type f -exec touch -c {} +
  fi
  printf '%s' "$repo" >"$marker"
fi
printf '%s\n' "$target"
