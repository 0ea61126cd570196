#!/usr/bin/env bash
# scripts/setup.sh - fetch the native libraries evoflow links against, once, into a cache.
#
# WHAT IT INSTALLS (linux x86_64 only)
#   libtorch 2.11.0 (for tch =0.24.0), cut out of the PyTorch wheels on the Python package index:
#     $CACHE/libtorch-2.11.0/torch/include/**                  C++ headers
#     $CACHE/libtorch-2.11.0/torch/lib/{libtorch_cpu.so,libc10.so,libgomp.so.1,libtorch.so}
#     $CACHE/libtorch-2.11.0/torch/build-version               "2.11.0+cu130", lets torch-sys check tch's version
#     $CACHE/libtorch-2.11.0/nvidia/cu13/lib/{libcudart.so.13,libcupti.so.13}
#       (libtorch_cpu.so needs these even on CPU and finds them through its own
#        $ORIGIN/../../nvidia/cu13/lib search path, so this layout must stay as it is.)
#   DuckDB 1.5.6 (for duckdb =1.10506.0 without the `bundled` feature), from the DuckDB team's
#   npm package @duckdb/node-bindings-linux-x64@1.5.6-r.1:
#     $CACHE/duckdb-1.5.6/libduckdb.so
#   CACHE = ${EVOFLOW_CACHE:-$HOME/.cache/evoflow}
#
# USAGE
#   scripts/setup.sh [--only torch|duckdb] [--quiet] [--write-cargo-config REPO_DIR]
#     --only torch|duckdb         install just one of the two
#     --quiet                     print only warnings and errors
#     --write-cargo-config DIR    also write DIR/.cargo/config.toml with an [env] table
#                                 (LIBTORCH, DUCKDB_LIB_DIR). The file is generated, holds absolute
#                                 paths into the cache and must be git-ignored (a warning is printed
#                                 if it is not). It is rewritten only when its content changes, and
#                                 its content is byte-identical across runs: torch-sys rebuilds its
#                                 C++ wrapper (minutes) whenever a LIBTORCH* variable changes.
#                                 Note cargo's [env] does not override variables already exported
#                                 in the shell.
#   Always writes $CACHE/env.sh (source it to export LIBTORCH / DUCKDB_LIB_DIR) and prints the paths.
#
# BEHAVIOUR
#   - Idempotent. A component is "installed" when its directory holds a .complete marker whose text
#     names the pinned checksums; then nothing is downloaded or hashed (a re-run takes well under 1 s).
#   - Downloads go to $CACHE/downloads (pip download / npm pack, through whatever package index the
#     machine's pip / npm are configured for) and are checked against the sha256 pinned below.
#     A mismatch deletes the file and stops with an error.
#   - Extraction happens in a temp dir inside $CACHE and is renamed into place in one step, so an
#     interrupted run never leaves a tree that looks complete. The 531 MB torch wheel is deleted after
#     a verified extraction; the small wheels and the DuckDB tarball are kept.
#   - Concurrent runs are serialised with flock on $CACHE/.lock (when flock exists).
#   - Needs: bash, python3 with pip (only when downloading/extracting torch), npm (only when
#     downloading DuckDB), sha256sum or python3, ~1.2 GB free disk during the torch step (~600 MB after).
#
# USING THE LIBRARIES FROM A CRATE
#   The binaries get no library search path by default; add rpaths from the crate's build.rs:
#     println!("cargo:rerun-if-env-changed=LIBTORCH");
#     println!("cargo:rerun-if-env-changed=DUCKDB_LIB_DIR");
#     if let Ok(t) = std::env::var("LIBTORCH") { println!("cargo:rustc-link-arg=-Wl,-rpath,{t}/lib"); }
#     if let Ok(d) = std::env::var("DUCKDB_LIB_DIR") { println!("cargo:rustc-link-arg=-Wl,-rpath,{d}"); }
#   (Setting LD_LIBRARY_PATH in cargo's [env] does not work: cargo overrides it when running binaries.)
#
# BUMPING A VERSION: change the version/file/sha256 pins below together, run once, check, commit.

set -Eeuo pipefail

# ---------------------------------------------------------------- pins
TORCH_VERSION=2.11.0
TORCH_WHEEL=torch-2.11.0-cp311-cp311-manylinux_2_28_x86_64.whl
TORCH_SHA256=7aa2f9bbc6d4595ba72138026b2074be1233186150e9292865e04b7a63b8c67a
CUDART_WHEEL=nvidia_cuda_runtime-13.0.96-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl
CUDART_SHA256=7f82250d7782aa23b6cfe765ecc7db554bd3c2870c43f3d1821f1d18aebf0548
CUPTI_WHEEL=nvidia_cuda_cupti-13.0.85-py3-none-manylinux_2_25_x86_64.whl
CUPTI_SHA256=4eb01c08e859bf924d222250d2e8f8b8ff6d3db4721288cf35d14252a4d933c8
# "requirement|platform tag|file|sha256". The tags are pinned (cp311 for torch) so that every
# machine fetches the same file whatever its own python version is; pip 23 does not widen a
# --platform tag to older manylinux tags, hence one tag per wheel.
TORCH_WHEELS=(
  "torch==2.11.0|manylinux_2_28_x86_64|$TORCH_WHEEL|$TORCH_SHA256"
  "nvidia-cuda-runtime==13.0.96|manylinux_2_17_x86_64|$CUDART_WHEEL|$CUDART_SHA256"
  "nvidia-cuda-cupti==13.0.85|manylinux_2_25_x86_64|$CUPTI_WHEEL|$CUPTI_SHA256"
)

DUCKDB_VERSION=1.5.6
DUCKDB_NPM_SPEC=@duckdb/node-bindings-linux-x64@1.5.6-r.1
DUCKDB_TARBALL=duckdb-node-bindings-linux-x64-1.5.6-r.1.tgz
DUCKDB_SHA256=1b9f82478539bb9a1d1df44bd103121a12ae52142c07158dc52b97d2ec1d69ff

LAYOUT=1   # bump when the extracted layout changes, to force a re-extract

# ---------------------------------------------------------------- options
ONLY=""
QUIET=0
CARGO_REPO=""

usage() { sed -n '2,/^$/{s/^# \{0,1\}//;p}' "$0" | sed '/^set -Eeuo/,$d'; }

while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --only)
      [ $# -ge 2 ] || { echo "setup.sh: --only needs an argument: torch or duckdb" >&2; exit 2; }
      case "$2" in torch|duckdb) ONLY=$2 ;; *) echo "setup.sh: --only takes 'torch' or 'duckdb', not '$2'" >&2; exit 2 ;; esac
      shift 2 ;;
    --only=*) set -- --only "${1#--only=}" "${@:2}" ;;
    -q|--quiet) QUIET=1; shift ;;
    --write-cargo-config)
      [ $# -ge 2 ] || { echo "setup.sh: --write-cargo-config needs a directory (the repository root)" >&2; exit 2; }
      CARGO_REPO=$2; shift 2 ;;
    --write-cargo-config=*) CARGO_REPO=${1#--write-cargo-config=}; shift ;;
    *) echo "setup.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

# ---------------------------------------------------------------- helpers
STEP="start"
TMP_PATHS=()

log()  { [ "$QUIET" = 1 ] || printf 'setup.sh: %s\n' "$*"; }
warn() { printf 'setup.sh: warning: %s\n' "$*" >&2; }
die()  { printf 'setup.sh: error during %s: %s\n' "$STEP" "$1" >&2; shift; for l in "$@"; do printf '  %s\n' "$l" >&2; done; exit 1; }

cleanup() { local p; for p in ${TMP_PATHS[@]+"${TMP_PATHS[@]}"}; do rm -rf -- "$p"; done; }
trap cleanup EXIT
trap 'printf "setup.sh: error during %s (command failed at line %s); re-run to resume, the cache is never left half-written\n" "$STEP" "$LINENO" >&2' ERR
trap 'exit 130' INT TERM

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum -- "$1" | cut -d' ' -f1
  else python3 -c 'import hashlib,sys
h=hashlib.sha256()
with open(sys.argv[1],"rb") as f:
    for b in iter(lambda: f.read(1<<20), b""): h.update(b)
print(h.hexdigest())' "$1"; fi
}

# verify FILE SHA: returns 0 if it matches; on mismatch deletes FILE and returns 1
verify() {
  local got; got=$(sha256_of "$1")
  [ "$got" = "$2" ] && return 0
  rm -f -- "$1"
  printf 'setup.sh: checksum mismatch for %s\n  expected %s\n  got      %s\n  (file deleted)\n' "$(basename "$1")" "$2" "$got" >&2
  return 1
}

# write FILE CONTENT, only if the content differs (keeps mtime and bytes stable); atomic
write_if_changed() {
  local f=$1 content=$2
  if [ -f "$f" ] && [ "$(cat "$f"; printf x)" = "${content}x" ]; then return 1; fi
  mkdir -p "$(dirname "$f")"
  printf '%s' "$content" > "$f.tmp.$$"
  mv -f "$f.tmp.$$" "$f"
}

need() { command -v "$1" >/dev/null 2>&1 || die "'$1' is not installed" "${@:2}"; }

# ---------------------------------------------------------------- platform, cache, lock
STEP="platform check"
[ "$(uname -s)" = Linux ] && [ "$(uname -m)" = x86_64 ] ||
  die "only linux x86_64 is supported (this is $(uname -s) $(uname -m))" \
      "the pinned libtorch and libduckdb builds are linux x86_64 ones"

CACHE=${EVOFLOW_CACHE:-$HOME/.cache/evoflow}
DL="$CACHE/downloads"
TORCH_DIR="$CACHE/libtorch-$TORCH_VERSION"
DUCKDB_DIR="$CACHE/duckdb-$DUCKDB_VERSION"
LIBTORCH="$TORCH_DIR/torch"

STEP="creating the cache $CACHE"
mkdir -p "$DL" || die "cannot create $DL" "set EVOFLOW_CACHE to a writable directory"
case "$CACHE" in /*) ;; *) CACHE=$(cd "$CACHE" && pwd); DL="$CACHE/downloads"; TORCH_DIR="$CACHE/libtorch-$TORCH_VERSION"; DUCKDB_DIR="$CACHE/duckdb-$DUCKDB_VERSION"; LIBTORCH="$TORCH_DIR/torch" ;; esac

if command -v flock >/dev/null 2>&1; then
  exec 9>"$CACHE/.lock"
  flock -n 9 || { log "another setup.sh is running on $CACHE, waiting for it"; flock 9; }
  # We hold the lock, so temp trees left by a killed run (kill -9, power loss) can go.
  rm -rf -- "$CACHE"/.libtorch.* "$CACHE"/.duckdb.* "$CACHE"/libtorch-*.old.* "$CACHE"/duckdb-*.old.* "$DL"/.pip.* "$DL"/.npm.*
fi

TORCH_MARKER_TEXT="evoflow libtorch layout=$LAYOUT version=$TORCH_VERSION
$TORCH_WHEEL $TORCH_SHA256
$CUDART_WHEEL $CUDART_SHA256
$CUPTI_WHEEL $CUPTI_SHA256
"
DUCKDB_MARKER_TEXT="evoflow duckdb layout=$LAYOUT version=$DUCKDB_VERSION
$DUCKDB_TARBALL $DUCKDB_SHA256
"
TORCH_FILES=(torch/lib/libtorch_cpu.so torch/lib/libc10.so torch/lib/libgomp.so.1 torch/lib/libtorch.so
             nvidia/cu13/lib/libcudart.so.13 nvidia/cu13/lib/libcupti.so.13
             torch/include/torch/csrc/api/include/torch/torch.h)

torch_ok() {
  [ -f "$TORCH_DIR/.complete" ] && [ "$(cat "$TORCH_DIR/.complete"; printf x)" = "${TORCH_MARKER_TEXT}x" ] || return 1
  local f; for f in "${TORCH_FILES[@]}"; do [ -f "$TORCH_DIR/$f" ] || return 1; done
}
duckdb_ok() {
  [ -f "$DUCKDB_DIR/.complete" ] && [ "$(cat "$DUCKDB_DIR/.complete"; printf x)" = "${DUCKDB_MARKER_TEXT}x" ] &&
    [ -f "$DUCKDB_DIR/libduckdb.so" ]
}

# Move a finished temp tree into place. The tree already holds its .complete marker, so the
# rename is the commit point; anything left at the final path without a valid marker is stale.
commit_dir() {
  local tmp=$1 final=$2
  if [ -e "$final" ]; then
    local old="$final.old.$$"; TMP_PATHS+=("$old")
    mv -- "$final" "$old"
  fi
  mv -T -- "$tmp" "$final"
}

# ---------------------------------------------------------------- libtorch
install_torch() {
  if torch_ok; then log "libtorch $TORCH_VERSION: present ($TORCH_DIR)"; return; fi
  [ -e "$TORCH_DIR" ] && log "libtorch $TORCH_VERSION: $TORCH_DIR is incomplete or from other pins; reinstalling"

  local entry req plat file sha
  for entry in "${TORCH_WHEELS[@]}"; do
    IFS='|' read -r req plat file sha <<<"$entry"
    STEP="checking $file"
    if [ -f "$DL/$file" ] && verify "$DL/$file" "$sha"; then continue; fi
    STEP="downloading $req (pip download)"
    need python3 "install python3 with pip (Debian: apt-get install python3-pip)"
    python3 -m pip --version >/dev/null 2>&1 || die "python3 has no pip" "install it (Debian: apt-get install python3-pip)"
    case "$file" in torch-*) log "downloading $req (531 MB) ..." ;; *) log "downloading $req ..." ;; esac
    local tmp; tmp=$(mktemp -d "$DL/.pip.XXXXXX"); TMP_PATHS+=("$tmp")
    local pipq=(); [ "$QUIET" = 1 ] && pipq=(-q)
    python3 -m pip download ${pipq[@]+"${pipq[@]}"} --no-cache-dir --no-deps --only-binary=:all: \
        --python-version 3.11 --implementation cp --abi cp311 --platform "$plat" \
        -d "$tmp" "$req" >&2 ||
      die "pip could not download $req" "check that pip can reach its package index (python3 -m pip config list)"
    [ -f "$tmp/$file" ] || die "pip did not produce $file" "got: $(ls "$tmp" | tr '\n' ' ')" \
      "the index may serve a different build; update the pins at the top of $0"
    STEP="verifying $file"
    verify "$tmp/$file" "$sha" || die "the downloaded $file does not match its pinned sha256" \
      "the package index served a different file; if that is expected, update the pin in $0"
    mv -f -- "$tmp/$file" "$DL/$file"
    rm -rf -- "$tmp"
  done

  STEP="extracting libtorch into $TORCH_DIR"
  need python3 "python3 is needed to extract the wheels"
  log "extracting libtorch $TORCH_VERSION ..."
  local tmpdir; tmpdir=$(mktemp -d "$CACHE/.libtorch.XXXXXX"); TMP_PATHS+=("$tmpdir"); chmod 755 "$tmpdir"
  python3 - "$tmpdir" "$DL/$TORCH_WHEEL" "$DL/$CUDART_WHEEL" "$DL/$CUPTI_WHEEL" <<'PY' || die "extraction failed" "free some disk space in the cache and re-run"
import os, re, shutil, sys, zipfile
dest, torch_whl, cudart_whl, cupti_whl = sys.argv[1:5]
torch_libs = {"torch/lib/" + n for n in ("libtorch_cpu.so", "libc10.so", "libgomp.so.1", "libtorch.so")}
plan = [
    (torch_whl, lambda n: n in torch_libs or (n.startswith("torch/include/") and not n.endswith("/"))),
    (cudart_whl, lambda n: n == "nvidia/cu13/lib/libcudart.so.13"),
    (cupti_whl, lambda n: n == "nvidia/cu13/lib/libcupti.so.13"),
]
count = 0
for whl, keep in plan:
    with zipfile.ZipFile(whl) as z:
        for info in z.infolist():
            name = info.filename
            if not keep(name):
                continue
            if name.startswith("/") or ".." in name.split("/"):
                sys.exit("unsafe path in wheel: " + name)
            out = os.path.join(dest, name)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with z.open(info) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            os.chmod(out, 0o755 if name.endswith((".so", ".so.1", ".so.13")) else 0o644)
            count += 1
        if whl == torch_whl:
            m = re.search(r"__version__ = '([^']+)'", z.read("torch/version.py").decode())
            # torch-sys reads this file and checks it against the PyTorch version tch expects
            with open(os.path.join(dest, "torch", "build-version"), "w") as f:
                f.write(m.group(1) + "\n")
pass
PY
  local f; for f in "${TORCH_FILES[@]}"; do
    [ -f "$tmpdir/$f" ] || die "the wheels did not contain $f" "the pins at the top of $0 may be wrong"
  done
  printf '%s' "$TORCH_MARKER_TEXT" > "$tmpdir/.complete"
  commit_dir "$tmpdir" "$TORCH_DIR"
  rm -f -- "$DL/$TORCH_WHEEL"   # 531 MB; the .complete marker records its checksum
  log "libtorch $TORCH_VERSION: installed ($(du -sm "$TORCH_DIR" | cut -f1) MB)"
}

# ---------------------------------------------------------------- duckdb
install_duckdb() {
  if duckdb_ok; then log "duckdb $DUCKDB_VERSION: present ($DUCKDB_DIR)"; return; fi
  [ -e "$DUCKDB_DIR" ] && log "duckdb $DUCKDB_VERSION: $DUCKDB_DIR is incomplete or from other pins; reinstalling"

  STEP="checking $DUCKDB_TARBALL"
  if ! { [ -f "$DL/$DUCKDB_TARBALL" ] && verify "$DL/$DUCKDB_TARBALL" "$DUCKDB_SHA256"; }; then
    STEP="downloading $DUCKDB_NPM_SPEC (npm pack)"
    need npm "install Node.js/npm (Debian: apt-get install npm)"
    log "downloading $DUCKDB_NPM_SPEC (24 MB) ..."
    local tmp; tmp=$(mktemp -d "$DL/.npm.XXXXXX"); TMP_PATHS+=("$tmp")
    # private npm cache: nothing is left behind in ~/.npm
    (cd "$tmp" && npm pack --silent --cache "$tmp/.npm-cache" "$DUCKDB_NPM_SPEC" >/dev/null) ||
      die "npm pack $DUCKDB_NPM_SPEC failed" "check that npm can reach its registry (npm config get registry)"
    [ -f "$tmp/$DUCKDB_TARBALL" ] || die "npm pack did not produce $DUCKDB_TARBALL" "got: $(ls "$tmp" | tr '\n' ' ')"
    STEP="verifying $DUCKDB_TARBALL"
    verify "$tmp/$DUCKDB_TARBALL" "$DUCKDB_SHA256" || die "the downloaded $DUCKDB_TARBALL does not match its pinned sha256" \
      "the registry served a different file; if that is expected, update the pin in $0"
    mv -f -- "$tmp/$DUCKDB_TARBALL" "$DL/$DUCKDB_TARBALL"
    rm -rf -- "$tmp"
  fi

  STEP="extracting libduckdb.so into $DUCKDB_DIR"
  local tmpdir; tmpdir=$(mktemp -d "$CACHE/.duckdb.XXXXXX"); TMP_PATHS+=("$tmpdir"); chmod 755 "$tmpdir"
  if command -v tar >/dev/null 2>&1; then
    tar -xzf "$DL/$DUCKDB_TARBALL" -C "$tmpdir" --strip-components=1 package/libduckdb.so ||
      die "could not extract package/libduckdb.so from $DUCKDB_TARBALL" "delete $DL/$DUCKDB_TARBALL and re-run"
  else
    python3 - "$DL/$DUCKDB_TARBALL" "$tmpdir/libduckdb.so" <<'PY' || die "could not extract package/libduckdb.so" "delete $DL/$DUCKDB_TARBALL and re-run"
import shutil, sys, tarfile
with tarfile.open(sys.argv[1]) as t, t.extractfile("package/libduckdb.so") as s, open(sys.argv[2], "wb") as d:
    shutil.copyfileobj(s, d, 1 << 20)
PY
  fi
  chmod 0755 "$tmpdir/libduckdb.so"
  printf '%s' "$DUCKDB_MARKER_TEXT" > "$tmpdir/.complete"
  commit_dir "$tmpdir" "$DUCKDB_DIR"
  log "duckdb $DUCKDB_VERSION: installed ($DUCKDB_DIR/libduckdb.so)"
}

[ "$ONLY" = duckdb ] || install_torch
[ "$ONLY" = torch ]  || install_duckdb

# ---------------------------------------------------------------- wiring
STEP="writing $CACHE/env.sh"
have_torch=0; torch_ok && have_torch=1
have_duckdb=0; duckdb_ok && have_duckdb=1

env_text="# generated by evoflow scripts/setup.sh; source this file to build/run outside cargo's [env]
"
[ $have_torch = 1 ]  && env_text+="export LIBTORCH='$LIBTORCH'
"
[ $have_duckdb = 1 ] && env_text+="export DUCKDB_LIB_DIR='$DUCKDB_DIR'
"
write_if_changed "$CACHE/env.sh" "$env_text" || true

if [ -n "$CARGO_REPO" ]; then
  STEP="writing $CARGO_REPO/.cargo/config.toml"
  [ -d "$CARGO_REPO" ] || die "$CARGO_REPO is not a directory"
  REPO_ABS=$(cd "$CARGO_REPO" && pwd)
  CFG="$REPO_ABS/.cargo/config.toml"
  HEADER="# Generated by scripts/setup.sh --write-cargo-config; do not edit, do not commit (git-ignore it)."
  if [ -f "$CFG" ] && [ "$(head -n1 "$CFG")" != "$HEADER" ]; then
    die "$CFG exists and was not written by this script" \
        "move its settings elsewhere (e.g. a committed .cargo/config.toml one directory up) or delete it, then re-run"
  fi
  [ $have_torch = 1 ] || warn "libtorch is not installed in $CACHE; LIBTORCH left out of $CFG (run without --only)"
  [ $have_duckdb = 1 ] || warn "duckdb is not installed in $CACHE; DUCKDB_LIB_DIR left out of $CFG (run without --only)"
  cfg_text="$HEADER
# Paths into the local cache (${CACHE}). Keep this file byte-identical between runs:
# torch-sys rebuilds its C++ wrapper whenever a LIBTORCH* variable changes.
[env]
"
  [ $have_torch = 1 ]  && cfg_text+="LIBTORCH = \"$LIBTORCH\"
"
  [ $have_duckdb = 1 ] && cfg_text+="DUCKDB_LIB_DIR = \"$DUCKDB_DIR\"
"
  if write_if_changed "$CFG" "$cfg_text"; then log "wrote $CFG"; else log "$CFG is up to date"; fi
  if command -v git >/dev/null 2>&1 && git -C "$REPO_ABS" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git -C "$REPO_ABS" check-ignore -q "$CFG" ||
      warn "$CFG is not git-ignored; add '/.cargo/config.toml' to $REPO_ABS/.gitignore"
  fi
fi

STEP="done"
if [ "$QUIET" != 1 ]; then
  [ $have_torch = 1 ]  && echo "LIBTORCH=$LIBTORCH"
  [ $have_duckdb = 1 ] && echo "DUCKDB_LIB_DIR=$DUCKDB_DIR"
  echo "(also in $CACHE/env.sh)"
fi
exit 0
