#!/usr/bin/env bash
# bench-batch.sh — `make bench` section 5b: `embvsattn --batch` beside the Python peer (gensim + numpy + torch,
# scripts/batch_python.py) on the same 1,000 sentences of 20 frequent words as section 5 (same generator, same seed).
# Environment (from scripts/bench.sh, or set by hand): bin (the binary), data (the vectors' directory: the GloVe
# text, its cache and gensim's .kv), tmp (scratch), py (python3 with gensim and torch).
set -euo pipefail
. "$(dirname "$0")/bench-env.sh"
in="$tmp/bench-batch-input.txt" # not $tmp/batch.txt: bench.sh writes its section 5 results there

echo "== 5b. --batch vs Python (gensim + numpy + torch): the same 1000 sentences of 20 tokens, JSONL with neighbours"
awk 'NR <= 5000 && $1 ~ /^[a-z]+$/ { print $1 }' "$txt" >"$tmp/bench-batch-words"
awk 'BEGIN { srand(1) } { w[NR] = $1 } END { for (s = 0; s < 1000; s++) { l = ""; for (t = 0; t < 20; t++)
    l = l (t ? " " : "") w[int(rand() * NR) + 1]; print l } }' "$tmp/bench-batch-words" >"$in"
n_in=$(wc -l <"$in")
n_out=$("$bin" --vectors "$cache" --batch <"$in" | wc -l)
p_out=$("$py" scripts/batch_python.py "$kv" <"$in" | wc -l)
if [ "$n_in" != 1000 ] || [ "$n_out" != 1000 ] || [ "$p_out" != 1000 ]; then
    echo "bench-batch: $n_in sentences in, $n_out lines from embvsattn, $p_out from Python: no result" >&2
    exit 1
fi
# stdin redirected by hyperfine's shell (its startup subtracted); the output read to the end
hyperfine --warmup 1 --runs 5 --export-json "$tmp/bench-batch.json" \
    "$bin --vectors $cache --batch <$in >/dev/null" >/dev/null
t=$("$py" -c "import json,sys; print(json.load(open(sys.argv[1]))['results'][0]['median'])" "$tmp/bench-batch.json")
/usr/bin/time -f "%e %M" -o "$tmp/bench-batch-rss" "$bin" --vectors "$cache" --batch <"$in" >/dev/null
/usr/bin/time -f "%e %M" -o "$tmp/bench-batch-prss" "$py" scripts/batch_python.py "$kv" <"$in" >/dev/null
read -r _ r <"$tmp/bench-batch-rss"
read -r tp rp <"$tmp/bench-batch-prss"
awk -v t="$t" -v r="$r" -v tp="$tp" -v rp="$rp" 'BEGIN {
    printf "embvsattn --batch (static lists from the cache)  %6.2f s = %5.0f sentences/s  peak RSS %6.1f MiB\n", t, 1000 / t, r / 1024
    printf "python (gensim + numpy + torch, static neighbours searched) %6.2f s = %5.0f sentences/s  peak RSS %6.1f MiB\n", tp, 1000 / tp, rp / 1024
    printf "speed-up: %.0fx (one Python run; the contextual projections are the identity in Python, the trained head in embvsattn: the same arithmetic)\n", tp / t }'
