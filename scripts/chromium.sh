#!/usr/bin/env bash
# Prints the path of a headless-capable Chromium, installing Debian's `chromium` package when
# none is on the PATH (needs root or sudo, and apt). The report's browser tests call it.
set -euo pipefail
for name in chromium chromium-browser google-chrome; do
  if path=$(command -v "$name"); then
    printf '%s\n' "$path"
    exit 0
  fi
done
if ! command -v apt-get >/dev/null; then
  echo "chromium.sh: no chromium on the PATH and no apt-get to install it; install Chromium and retry" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo -n"
{
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core
} >&2
command -v chromium
