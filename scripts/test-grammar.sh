#!/usr/bin/env bash
# Tokenizes .evo files (default: every valid one in the repository) with the TextMate grammar of
# editors/vscode, as VS Code would, and fails on any `invalid` token. Installs the pinned
# tokenizer (vscode-textmate, vscode-oniguruma) into the cache on first use; needs node and npm.
#   scripts/test-grammar.sh [FILE...]
set -euo pipefail
cd "$(dirname "$0")/.."
modules=${EVOFLOW_CACHE:-$HOME/.cache/evoflow}/node-textmate
if [ ! -f "$modules/node_modules/vscode-textmate/package.json" ] || [ ! -f "$modules/node_modules/vscode-oniguruma/package.json" ]; then
  mkdir -p "$modules"
  npm install --silent --no-audit --no-fund --prefix "$modules" vscode-textmate@9.2.0 vscode-oniguruma@2.0.1 >&2
fi
if [ $# -eq 0 ]; then
  mapfile -t files < <(git ls-files '*.evo' ':!tests/corpus/invalid')
  set -- "${files[@]}"
fi
NODE_PATH="$modules/node_modules" node editors/vscode/test/tokenize.js editors/vscode/syntaxes/evo.tmLanguage.json "$@"
