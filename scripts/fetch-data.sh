#!/usr/bin/env bash
# scripts/fetch-data.sh - fetch the real data the tests and example workflows use, once, into a cache.
#
# WHAT IT FETCHES
#   MovieLens-100K (GroupLens: 100,000 ratings, 943 users, 1,682 movies, 1997-98), taken from the
#   RecBole 1.2.1 wheel on the Python package index, which ships it as dataset_example/ml-100k.
#   Its license allows research use and forbids redistribution: that is why it is fetched, never
#   committed. Into $DATA/ml-100k:
#     ml-100k.inter   RecBole's tab-separated file (`user_id:token item_id:token rating:float timestamp:float`)
#     ml-100k.item    movie titles, years and genres
#     ml-100k.user    age, gender, occupation, zip code
#     ratings.csv     the same ratings as `userId,movieId,rating,timestamp` (MovieLens' CSV layout)
#   DATA = ${EVOFLOW_DATA:-$HOME/.cache/evoflow-data}
#
# USAGE
#   scripts/fetch-data.sh [--quiet]
#
# BEHAVIOUR
#   - Idempotent: when every file is there with its pinned sha256, nothing is downloaded.
#   - Every file is checked against the sha256 pinned below; a mismatch deletes it and stops.
#   - Files are written beside their final place and renamed in, so an interrupted run never
#     leaves a file that looks whole. Concurrent runs are serialised with flock.
#   - Needs: bash, python3 with pip (only when downloading), sha256sum.
set -Eeuo pipefail

RECBOLE=recbole==1.2.1
# file|sha256
FILES=(
  "ml-100k.inter|4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff"
  "ml-100k.item|51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532"
  "ml-100k.user|4f670007d9cfbeb9807e757209af1555b9bcc186bde25e767f67cb67c6dd5972"
  "ratings.csv|8af876ed0cef9a54f4169ffa888410b845f81a4e1f8f31054ce8f7d09ad5e3f1"
)

quiet=0
for arg in "$@"; do
  case $arg in
    --quiet) quiet=1 ;;
    -h | --help) sed -n '2,/^set -E/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "fetch-data.sh: unknown argument \`$arg\` (see --help)" >&2; exit 2 ;;
  esac
done
say() { [[ $quiet == 1 ]] || echo "$@"; }

data=${EVOFLOW_DATA:-$HOME/.cache/evoflow-data}
dest=$data/ml-100k
mkdir -p "$dest"
if command -v flock >/dev/null; then
  exec 9>"$data/.lock"
  flock 9
fi

sha() { sha256sum "$1" | cut -d' ' -f1; }
complete() {
  local entry
  for entry in "${FILES[@]}"; do
    [[ -f $dest/${entry%%|*} && $(sha "$dest/${entry%%|*}") == "${entry#*|}" ]] || return 1
  done
}
if complete; then
  say "ml-100k: present in $dest"
  exit 0
fi

tmp=$(mktemp -d "$data/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
say "ml-100k: downloading $RECBOLE (the wheel that ships MovieLens-100K) ..."
if ! python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp" "$RECBOLE" >&2; then
  echo "fetch-data.sh: could not download $RECBOLE through pip; MovieLens-100K comes from that wheel" >&2
  exit 1
fi
python3 - "$tmp" <<'PY'
import csv, glob, os, sys, zipfile
tmp = sys.argv[1]
wheel = glob.glob(os.path.join(tmp, "recbole-1.2.1-*.whl"))[0]
with zipfile.ZipFile(wheel) as z:
    for name in ("ml-100k.inter", "ml-100k.item", "ml-100k.user"):
        with open(os.path.join(tmp, name), "wb") as f:
            f.write(z.read("recbole/dataset_example/ml-100k/" + name))
# MovieLens' own CSV layout, so a workflow reads both MovieLens releases the same way.
with open(os.path.join(tmp, "ml-100k.inter"), newline="") as src, \
     open(os.path.join(tmp, "ratings.csv"), "w", newline="") as out:
    rows = csv.reader(src, delimiter="\t")
    next(rows)
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["userId", "movieId", "rating", "timestamp"])
    for user, item, rating, time in rows:
        w.writerow([user, item, rating, time])
PY
for entry in "${FILES[@]}"; do
  name=${entry%%|*} want=${entry#*|}
  got=$(sha "$tmp/$name")
  if [[ $got != "$want" ]]; then
    echo "fetch-data.sh: $name has sha256 $got, expected $want; nothing was installed" >&2
    exit 1
  fi
done
for entry in "${FILES[@]}"; do
  mv -f "$tmp/${entry%%|*}" "$dest/${entry%%|*}"
done
say "ml-100k: fetched into $dest"
