#!/usr/bin/env bash
# bench-scale.sh — `make bench` section 8: a GoogleNews-size set (3,000,000 × 300, synthetic and deterministic:
# scripts/make-big-vectors.sh) on this machine — convert text → cache and binary → cache (time, peak RSS, against the
# single-thread parse floor of the text), info and vector on the cache, neighbors without lists (one pass over the
# matrix, against the memory bandwidth), index for the 50,000 most frequent words, and the main view with lists.
# Environment (from scripts/bench.sh, or set by hand): bin, data, tmp, py; BIG_DIR (where the ~12 GB of inputs and
# the 3.6 GB cache go; default $tmp/big, deleted at the end unless BIG_KEEP=1), BIG_N, BIG_D, BIG_INDEX_WORDS.
set -euo pipefail
. "$(dirname "$0")/bench-env.sh"
big="${BIG_DIR:-$tmp/big}"
n=${BIG_N:-3000000} d=${BIG_D:-300} words=${BIG_INDEX_WORDS:-50000}
cleanup() { [ "${BIG_KEEP:-0}" = 1 ] || rm -rf "$big"; bench_cleanup_tmp; }
trap cleanup EXIT

echo "== 8. scale: a synthetic $n × $d set (word2vec text and binary, GoogleNews size)"
mkdir -p "$big"
avail=$(df -P -BG "$big" | awk 'NR == 2 { sub("G", "", $4); print $4 }')
need=$(( n * d * 30 / 1000000000 + 2 )) # text + binary + cache + the conversion's temporary, in GB
if [ "$avail" -lt "$need" ]; then
    echo "scale: skipped: $big has $avail GB free, the inputs and caches need about $need GB"
    exit 0
fi
t0=$(date +%s.%N)
scripts/make-big-vectors.sh "$big" "$n" "$d"
t1=$(date +%s.%N)
txt="$big/big.txt" bin_in="$big/big.bin" cache="$big/big.safetensors"
ls -l "$txt" "$bin_in" | awk -v t="$(echo "$t1 - $t0" | bc)" '{ printf "input %s: %.2f GB\n", $NF, $5 / 1e9 } END { printf "(generated in %.0f s)\n", t }' |
    sed "s|$big/||"

# timed once each (the files are large): wall seconds and peak RSS of the whole process
timed() { # LABEL CMD… → "LABEL: S s, peak RSS M MiB"
    local label=$1
    shift
    /usr/bin/time -f "%e %M" -o "$tmp/scale-time" "$@" >"$tmp/scale-out" 2>"$tmp/scale-err" || {
        echo "$label: failed: $(tail -c 300 "$tmp/scale-err")"
        return 1
    }
    read -r s m <"$tmp/scale-time"
    printf "%s: %.2f s, peak RSS %.0f MiB\n" "$label" "$s" "$(echo "$m / 1024" | bc -l)"
    echo "$s" >"$tmp/scale-last"
    echo "$m" >"$tmp/scale-last-rss"
}
cat "$txt" >/dev/null # into the page cache, as for the parse floor
[ -x build/bench_parse_floor ] || cc -std=c11 -O2 -Iinclude -o build/bench_parse_floor tests/bench_parse_floor.c src/numparse.c
floor=$(build/bench_parse_floor "$txt" | awk '{ print $4 }')
timed "convert text → cache" "$bin" convert "$txt" "$cache"
t_txt=$(cat "$tmp/scale-last") rss_txt=$(cat "$tmp/scale-last-rss")
timed "convert text → cache, --threads 1" "$bin" --threads 1 convert "$txt" "$big/one.safetensors"
t_txt1=$(cat "$tmp/scale-last")
rm -f "$big/one.safetensors"
timed "convert binary → cache" "$bin" convert "$bin_in" "$big/frombin.safetensors"
awk -v a="$rss_txt" -v b="$(cat "$tmp/scale-last-rss")" -v n="$n" -v d="$d" 'BEGIN {
    printf "convert peak RSS against the matrix (%.0f MiB): text %.0f MiB (%.1f%%), binary %.0f MiB (%.1f%%): the rows are streamed to the file, only words, offsets and norms stay\n", n * d * 4 / 1048576, a / 1024, 100 * a * 1024 / (n * d * 4), b / 1024, 100 * b * 1024 / (n * d * 4) }'
awk -v f="$floor" -v t="$t_txt" -v t1="$t_txt1" 'BEGIN {
    printf "parse floor (every value by numparse, 1 thread, page cache): %.2f s; text conversion %.2fx it (all cores), %.2fx with 1 thread (target ≤ 2x)\n", f, t / f, t1 / f }'
"$bin" --vectors "$cache" vector the >"$tmp/a" && "$bin" --vectors "$big/frombin.safetensors" vector the >"$tmp/b" &&
    cmp -s "$tmp/a" "$tmp/b" && echo "the binary's cache gives the text's vectors (checked on 'the')" ||
    echo "the binary's cache DIFFERS from the text's"
rm -f "$big/frombin.safetensors" "$bin_in"

hyperfine -N --warmup 3 --runs 20 --export-json "$tmp/scale-q.json" "$bin --vectors $cache info" \
    "$bin --vectors $cache vector New_York" >/dev/null 2>&1 ||
    hyperfine -N --warmup 3 --runs 20 --export-json "$tmp/scale-q.json" "$bin --vectors $cache info" \
        "$bin --vectors $cache vector the" >/dev/null
/usr/bin/time -f %M -o "$tmp/scale-rss-info" "$bin" --vectors "$cache" info >/dev/null
/usr/bin/time -f %M -o "$tmp/scale-rss-vec" "$bin" --vectors "$cache" vector the >/dev/null
"$py" -c "
import json, sys
r = json.load(open(sys.argv[1]))['results']
print('info on the cache: %.1f ms, peak RSS %.1f MiB; vector WORD: %.1f ms, peak RSS %.1f MiB (target ≤ 20 ms)' % (
    r[0]['median'] * 1e3, int(open(sys.argv[2]).read()) / 1024, r[1]['median'] * 1e3, int(open(sys.argv[3]).read()) / 1024))" \
    "$tmp/scale-q.json" "$tmp/scale-rss-info" "$tmp/scale-rss-vec"

# one pass over the matrix: n × d × 4 bytes, against the bandwidth that bench_similarity measured (section 3)
"$bin" --vectors "$cache" neighbors king >/dev/null # warm: the matrix in the page cache
hyperfine -N --warmup 1 --runs 5 --export-json "$tmp/scale-nb.json" "$bin --vectors $cache neighbors king" >/dev/null
t_nb=$("$py" -c "import json,sys; print(json.load(open(sys.argv[1]))['results'][0]['median'])" "$tmp/scale-nb.json")
bw=$(awk '$1 == "bandwidth_gbs_all" { print $2 }' "$tmp/similarity-floors.txt" 2>/dev/null || true)
awk -v t="$t_nb" -v n="$n" -v d="$d" -v bw="${bw:-0}" 'BEGIN { gb = n * d * 4 / 1e9
    printf "neighbors king, no lists (one pass over %.2f GB): %.0f ms = %.1f GB/s", gb, t * 1e3, gb / t
    if (bw > 0) printf " (memory bandwidth measured in section 3: %.1f GB/s, %.0f%%)", bw, 100 * gb / t / bw
    printf "\n" }'

timed "index --words $words (k 32; progress on a terminal only)" "$bin" --vectors "$cache" index --words "$words"
awk -v t="$(cat "$tmp/scale-last")" -v w="$words" -v n="$n" -v d="$d" 'BEGIN {
    printf "index scales with words × vocabulary × dim: %.1f TFLOP here, %.0f GFLOP/s; 2x the words or the vocabulary, 2x the time\n", w * n * d * 2 / 1e12, w * n * d * 2 / 1e9 / t }'
"$bin" --vectors "$cache" info | grep -i neighbours || true

sentence="The New York Times said the bank raised its interest rates"
hyperfine -N --warmup 3 --runs 20 --export-json "$tmp/scale-view.json" "$bin --vectors $cache '$sentence'" >/dev/null
t_view=$("$py" -c "import json,sys; print(json.load(open(sys.argv[1]))['results'][0]['median'])" "$tmp/scale-view.json")
/usr/bin/time -f %M -o "$tmp/scale-rss" "$bin" --vectors "$cache" "$sentence" >/dev/null
hyperfine -N --warmup 3 --runs 20 --export-json "$tmp/scale-view2.json" \
    "$bin --vectors $cache --restrict 30000 '$sentence'" >/dev/null
t_view2=$("$py" -c "import json,sys; print(json.load(open(sys.argv[1]))['results'][0]['median'])" "$tmp/scale-view2.json")
/usr/bin/time -f %M -o "$tmp/scale-rss2" "$bin" --vectors "$cache" --restrict 30000 "$sentence" >/dev/null
awk -v t="$t_view" -v r="$(cat "$tmp/scale-rss")" -v t2="$t_view2" -v r2="$(cat "$tmp/scale-rss2")" 'BEGIN {
    printf "main view with lists: %.1f ms, peak RSS %.1f MiB (targets ≤ 30 ms, ≤ 64 MiB; the identity head: its contextual neighbours are searched over all rows, a pass over the matrix)\n", t * 1e3, r / 1024
    printf "main view with lists, --restrict 30000 (contextual neighbours among 30,000 words, as the trained GloVe head has): %.1f ms, peak RSS %.1f MiB\n", t2 * 1e3, r2 / 1024 }'
echo "eval analogies: not run at this size (the synthetic vectors carry no analogies; gensim would need the 3.6 GB matrix plus its normalised copy)"
