#!/usr/bin/env bash
# Integration tier on the real GloVe 6B 100d vectors fetched by scripts/fetch-vectors.sh (make test fetches them
# first). Every check prints PASS or FAIL; missing vectors are a FAIL, never a skip.
set -u
export LC_ALL=C
cd "$(dirname "$0")/.."
bin="${EMBVSATTN:-./embvsattn}"
BUILD="${BUILD:-build}"
data="${EMBVSATTN_DATA:-${XDG_CACHE_HOME:-$HOME/.cache}/embvsattn}"
txt="$data/glove.6B.100d.txt"
cache="$data/glove.6B.100d.safetensors"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass() { echo "PASS integration $1"; }
fail() { echo "FAIL integration $1: $2"; }
check() { # name, then a command that must succeed
    local name=$1
    shift
    if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$(echo "$out" | tail -3 | tr '\n' '|')"; fi
}
if [ ! -f "$txt" ] || [ ! -f "$cache" ]; then
    fail vectors-present "$txt or $cache missing (run scripts/fetch-vectors.sh)"
    exit 0
fi

# The text file: 341,479 lines of a word and 100 values; row 1 exactly as the original GloVe file.
check text-first-row bash -c "head -1 '$txt' | grep -q '^the -0.038194 -0.24487 0.72812 -0.39961 0.083172 0.043953 -0.39141 0.3344 -0.57545 0.087459 '"
check text-shape bash -c "[ \$(wc -l <'$txt') -eq 341479 ] && awk 'NF != 101 { exit 1 }' '$txt'"

# The default cache: words, dim, and rows that equal the text file's.
check info-default bash -c "'$bin' --format json info | grep -q '\"format\":\"cache\",\"words\":341479,\"dim\":100'"
check first-row-exact bash -c "[ \"\$('$bin' vector the)\" = \"\$(head -1 '$txt')\" ]"
check king-vector bash -c "[ \"\$('$bin' vector king)\" = \"\$(grep -m1 '^king ' '$txt')\" ]"
check king-values bash -c "'$bin' vector king | grep -q '^king -0.32307 -0.87616 0.21977 0.25268 0.22976 0.7388 '"
check lowercase-fallback bash -c "'$bin' vector France 2>&1 >/dev/null | grep -q \"using its lowercase 'france'\""

# Every value of the file parses to the float strtof gives.
check parser-equals-strtof-whole-file "$BUILD/tests/test_glove_parse" "$txt"

# text → cache → text round trip: every float bit for bit (via two independent caches' matrices).
rt() {
    "$bin" convert "$txt" "$tmp/a.safetensors" &&
        "$bin" convert "$tmp/a.safetensors" "$tmp/b.txt" &&
        "$bin" convert "$tmp/b.txt" "$tmp/b.safetensors" &&
        /usr/bin/python3 tests/cmp_caches.py "$tmp/a.safetensors" "$tmp/b.safetensors"
}
check text-cache-text-round-trip rt
# the cache built by the fetch script equals a fresh conversion
check fetched-cache-matrix /usr/bin/python3 tests/cmp_caches.py "$cache" "$tmp/a.safetensors"
# word2vec binary and text of the same vectors load to the same matrix
w2v() {
    "$bin" convert "$tmp/a.safetensors" "$tmp/c.bin" && "$bin" convert "$tmp/c.bin" "$tmp/c.vec" &&
        "$bin" convert "$tmp/c.vec" "$tmp/c.safetensors" &&
        /usr/bin/python3 tests/cmp_caches.py "$tmp/a.safetensors" "$tmp/c.safetensors"
}
check w2v-binary-and-text-round-trip w2v
check limit bash -c "'$bin' --vectors '$txt' --limit 1000 --format json info | grep -q '\"words\":1000,'"
