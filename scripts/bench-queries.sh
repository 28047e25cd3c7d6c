#!/usr/bin/env bash
# Bench section: queries by several words (expressions, --positive/--negative, 3CosMul) and by vector
# (--vector-in) against gensim 4.2's most_similar / most_similar_cosmul / similar_by_vector on GloVe 6B 100d.
# Whole processes, warm, hyperfine medians; gensim loads its .kv with mmap='r' (as bench.sh section 2 does) and is
# also timed in process (the query alone, after the load), so the ratio of the query work is visible too.
# Environment (scripts/bench.sh passes them): bin, data, tmp, py. Run alone: scripts/bench-queries.sh
set -euo pipefail
. "$(dirname "$0")/bench-env.sh"
[ -f "$cache" ] && [ -f "$kv" ] || { echo "bench-queries: $cache or $kv missing (bench.sh section 2 makes the .kv)" >&2; exit 1; }
median() { $py -c "import json,sys; print(json.load(open(sys.argv[1]))['results'][int(sys.argv[2])]['median'])" "$1" "$2"; }

echo "== 3e. queries by several words and by vector (whole process, warm) vs gensim most_similar (mmap load + query)"
# name | embvsattn neighbors arguments | gensim call
queries=(
    "king-man+woman+crown|king - man + woman + crown|kv.most_similar(positive=['king','woman','crown'], negative=['man'])"
    "paris-france+italy|paris - france + italy|kv.most_similar(positive=['paris','italy'], negative=['france'])"
    "computer+science-math|computer + science - math|kv.most_similar(positive=['computer','science'], negative=['math'])"
    "4 words --positive/--negative|--positive tokyo --positive france --negative japan --negative asia|kv.most_similar(positive=['tokyo','france'], negative=['japan','asia'])"
    "3CosMul king-man+woman+crown|king - man + woman + crown --method mul|kv.most_similar_cosmul(positive=['king','woman','crown'], negative=['man'])"
    "--vector-in (4 vectors)|--vector-in tests/fixtures/query/vectors.txt|[kv.similar_by_vector(v, topn=10) for v in V]"
)
cat >"$tmp/gq_vectors.py" <<'PY'
import numpy as np
V = [np.array([float(t) for t in l.strip().strip("[]").replace(",", " ").split()], dtype=np.float32)
     for l in open("tests/fixtures/query/vectors.txt") if l.strip()]
PY
ecmds=() gcmds=() names=()
i=0
for q in "${queries[@]}"; do
    IFS='|' read -r name args call <<<"$q"
    names+=("$name")
    ecmds+=("$bin --vectors $cache neighbors $args")
    {
        echo "import time"
        echo "from gensim.models import KeyedVectors"
        [[ $call != *"for v in V"* ]] || cat "$tmp/gq_vectors.py"
        echo "kv = KeyedVectors.load('$kv', mmap='r')"
        echo "r = $call"
        echo "import sys"
        echo "if len(sys.argv) > 1:  # in process: the query alone, warm (best of 5)"
        echo "    best = min((lambda t0: ($call, time.perf_counter() - t0)[1])(time.perf_counter()) for _ in range(5))"
        echo "    print(best)"
    } >"$tmp/gq$i.py"
    gcmds+=("$py $tmp/gq$i.py")
    i=$((i + 1))
done
hyperfine -N --warmup 3 --runs 20 --export-json "$tmp/q.json" "${ecmds[@]}" >/dev/null
hyperfine -N --warmup 1 --runs 5 --export-json "$tmp/gq.json" "${gcmds[@]}" >/dev/null
printf "%-32s %12s %12s %8s %16s\n" "query" "embvsattn" "gensim" "ratio" "gensim in-proc"
for ((j = 0; j < i; j++)); do
    t=$(median "$tmp/q.json" "$j")
    g=$(median "$tmp/gq.json" "$j")
    ip=$($py "$tmp/gq$j.py" inproc)
    awk -v n="${names[$j]}" -v t="$t" -v g="$g" -v ip="$ip" \
        'BEGIN { printf "%-32s %9.1f ms %9.1f ms %7.1fx %13.1f ms\n", n, t * 1000, g * 1000, g / t, ip * 1000 }'
done
