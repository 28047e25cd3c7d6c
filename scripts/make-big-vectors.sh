#!/usr/bin/env bash
# make-big-vectors.sh — writes a deterministic synthetic GoogleNews-size vector set (default 3,000,000 × 300) as
# word2vec text and word2vec binary, for scripts/bench-scale.sh only (never the tests): the GloVe words, then
# phrase tokens like New_York_Times, values with 6 decimals at GloVe-like row norms (scripts/make-big-vectors.c).
# The files are large (text ~8 GB, binary 3.6 GB): write them outside the repository and delete them afterwards.
#   usage: scripts/make-big-vectors.sh DIR [N] [D]    → DIR/big.txt, DIR/big.bin (kept when already complete)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:?usage: make-big-vectors.sh DIR [N] [D]}
n=${2:-3000000} d=${3:-300}
data="${EMBVSATTN_DATA:-${XDG_CACHE_HOME:-$HOME/.cache}/embvsattn}"
mkdir -p "$dir"
case "$(cd "$dir" && pwd)/" in "$PWD"/*) echo "make-big-vectors: $dir is inside the repository" >&2; exit 2 ;; esac
if [ -f "$dir/big.done" ] && [ "$(cat "$dir/big.done")" = "$n $d" ]; then exit 0; fi
need=$(( n * d * 14 / 1000000000 + 1 )) # GB, text + binary with room
avail=$(df -P -BG "$dir" | awk 'NR == 2 { sub("G", "", $4); print $4 }')
[ "$avail" -ge "$need" ] || { echo "make-big-vectors: $dir has ${avail} GB free, needs about ${need} GB" >&2; exit 1; }
cc -std=gnu11 -O2 -o "$dir/make-big-vectors" scripts/make-big-vectors.c
rm -f "$dir/big.done"
"$dir/make-big-vectors" "$data/glove.6B.100d.txt" "$n" "$d" "$dir/big"
echo "$n $d" >"$dir/big.done"
