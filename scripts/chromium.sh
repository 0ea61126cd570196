#!/usr/bin/env bash
# Prints the path of a headless-capable Chromium, installing Debian's `chromium` package when
# none is on the PATH (needs root or sudo, and apt). The report's browser tests call it, from
# parallel test threads: on a machine without Chromium one caller installs it while the others
# wait on a lock (two apt-gets at once fail on dpkg's lock), then find it.
set -euo pipefail
found() {
  local name path
  for name in chromium chromium-browser google-chrome; do
    if path=$(command -v "$name"); then
      printf '%s\n' "$path"
      return 0
    fi
  done
  return 1
}
found && exit 0
if ! command -v apt-get >/dev/null; then
  echo "chromium.sh: no chromium on the PATH and no apt-get to install it; install Chromium and retry" >&2
  exit 1
fi
lock_dir=${EVOFLOW_CACHE:-$HOME/.cache/evoflow}
mkdir -p "$lock_dir"
exec 9>"$lock_dir/chromium.lock"
flock 9
found && exit 0   # installed by the caller that held the lock
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo -n"
{
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core
} >&2
command -v chromium
