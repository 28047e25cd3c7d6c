#!/usr/bin/env bash
# bench-wordlist.sh — make bench's word-list section (scripts/bench.sh calls it; it also runs alone): the 1,000-word
# neighbour job, 1,000 frequent words read from standard input, k=10, as one process, against gensim's most_similar
# on the same words in one Python process (KeyedVectors.load(mmap='r'), as bench.sh section 3 does), and the same
# words through --stdin (one answer per line). Whole processes, hyperfine medians; ratios; how many of the 1,000
# top-10 lists are the same words in the same order as gensim's.
# Environment (from bench.sh, or defaults when run alone): bin (the binary), data (the vectors' directory), tmp
# (scratch; a new one removed at exit when not given), py (python3 with gensim).
set -euo pipefail
. "$(dirname "$0")/bench-env.sh" # kv: bench.sh section 2 makes it from the text file when missing
[ -f "$cache" ] && [ -f "$kv" ] || { echo "bench-wordlist: $cache or $kv missing (run make bench once)" >&2; exit 1; }
median() { $py -c "import json,sys; print(json.load(open(sys.argv[1]))['results'][int(sys.argv[2])]['median'])" "$1" "$2"; }

echo "== 3f. the 1,000-word neighbour job: 1,000 frequent words from stdin, k=10, one process, vs gensim most_similar"
# The 1,000 most frequent words (the cache's first rows), one a line.
"$bin" --vectors "$cache" --limit 1000 convert "$cache" "$tmp/wl-first.txt" >/dev/null 2>&1
cut -d' ' -f1 "$tmp/wl-first.txt" >"$tmp/wl-words"
[ "$(wc -l <"$tmp/wl-words")" = 1000 ] || { echo "bench-wordlist: expected 1000 words" >&2; exit 1; }
cat >"$tmp/wl-gensim.py" <<PY
from gensim.models import KeyedVectors
kv = KeyedVectors.load("$kv", mmap="r")
with open("$tmp/wl-words", encoding="utf-8") as f, open("$tmp/wl-gensim.out", "w", encoding="utf-8") as out:
    for w in f.read().split("\n")[:-1]:
        out.write(w + "\t" + " ".join(x for x, _ in kv.most_similar(w, topn=10)) + "\n")
PY
hyperfine --warmup 1 --runs 5 --export-json "$tmp/wl.json" \
    "$bin --vectors $cache --format json neighbors -k 10 - <$tmp/wl-words >$tmp/wl-index.jsonl" \
    "$bin --vectors $cache --format json --no-index neighbors -k 10 - <$tmp/wl-words >$tmp/wl-matrix.jsonl" \
    >/dev/null
hyperfine --warmup 0 --runs 2 --export-json "$tmp/wl-l.json" \
    "$bin --vectors $cache --format json --no-index neighbors --stdin -k 10 <$tmp/wl-words >$tmp/wl-lines.jsonl" \
    >/dev/null
hyperfine --warmup 1 --runs 2 --export-json "$tmp/wl-g.json" "$py $tmp/wl-gensim.py" >/dev/null
# Same lists: each embvsattn answer's words against gensim's line for the same query.
same() {
    $py - "$1" "$tmp/wl-gensim.out" <<'PY'
import json, sys
mine = []
for line in open(sys.argv[1], encoding="utf-8"):
    for r in json.loads(line)["results"]:
        mine.append(r["query"] + "\t" + " ".join(h["word"] for h in r["neighbors"]))
theirs = open(sys.argv[2], encoding="utf-8").read().split("\n")[:-1]
print(sum(a == b for a, b in zip(mine, theirs)) if len(mine) == len(theirs) else -1)
PY
}
awk -v a="$(median "$tmp/wl.json" 0)" -v b="$(median "$tmp/wl.json" 1)" -v c="$(median "$tmp/wl-l.json" 0)" \
    -v g="$(median "$tmp/wl-g.json" 0)" -v sa="$(same "$tmp/wl-index.jsonl")" -v sb="$(same "$tmp/wl-matrix.jsonl")" \
    -v sc="$(same "$tmp/wl-lines.jsonl")" 'BEGIN {
    printf "embvsattn neighbors -k 10 - (cache neighbour lists)      %8.3f s  same top-10 as gensim: %d/1000\n", a, sa
    printf "embvsattn --no-index neighbors -k 10 - (one matrix pass) %8.3f s  same top-10 as gensim: %d/1000\n", b, sb
    printf "embvsattn --no-index neighbors --stdin (a pass per line) %8.3f s  same top-10 as gensim: %d/1000\n", c, sc
    printf "gensim mmap load + 1,000 most_similar(topn=10)           %8.3f s\n", g
    printf "speed-up vs gensim: %.1fx lists, %.1fx matrix pass, %.1fx line by line\n", g / a, g / b, g / c
}'
rm -f "$tmp"/wl-*
