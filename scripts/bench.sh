#!/usr/bin/env bash
# make bench — embvsattn side by side with gensim 4.2 on the real GloVe 6B 100d vectors, in one run.
# Whole-process timings with hyperfine (medians), peak RSS with GNU time, ratios, and the machine they ran on.
# Results: printed, and written to bench-results/DATE-MACHINE.md (DATE in UTC, MACHINE from the CPU model and the
# number of cores), which is committed: docs/performance.md explains the rows and quotes the latest file.
# What it needs beyond the tests' packages (hyperfine, GNU time, python3-torch): scripts/setup-tests.sh --bench.
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C
bin="${EMBVSATTN:-$PWD/embvsattn}"
data="${EMBVSATTN_DATA:-${XDG_CACHE_HOME:-$HOME/.cache}/embvsattn}"
txt="$data/glove.6B.100d.txt"
cache="$data/glove.6B.100d.safetensors"
kv="$data/glove.6B.100d.kv" # gensim's own format, for its mmap'd load
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$tmp # each section's lines, read back by later sections
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
machine=$(echo "$cpu" | sed -E 's/\((R|TM|r|tm)\)//g; s/@.*//; s/ CPU / /; s/[0-9]+-Core Processor//' |
    tr 'A-Z' 'a-z' | tr -cs 'a-z0-9' '-' | sed 's/^-*//; s/-*$//')-$(nproc)cpu
result=bench-results/$(date -u +%Y-%m-%d)-${machine:-unknown}.md
scripts/setup-tests.sh --bench
[ -f "$txt" ] && [ -f "$cache" ] || { echo "bench: vectors missing: run scripts/fetch-vectors.sh" >&2; exit 1; }

median() { # hyperfine json → median seconds of command $2
    $py -c "import json,sys; print(json.load(open(sys.argv[1]))['results'][int(sys.argv[2])]['median'])" "$1" "$2"
}
rss_mib() { # peak RSS of a command, MiB
    /usr/bin/time -f %M -o "$tmp/rss" "$@" >/dev/null 2>&1
    awk '{printf "%.1f", $1/1024}' "$tmp/rss"
}

{ # the whole run's output, kept as $tmp/log for the results file
echo "== machine"
{
    echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
    echo "cpu: $cpu × $(nproc) cores"
    echo "embvsattn: $(git rev-parse --short HEAD 2>/dev/null || echo '?'); $("$bin" --version | tr '\n' ' ' | sed 's/ $//')"
    echo "OPENBLAS_CORETYPE: ${OPENBLAS_CORETYPE:-(not set)}"
    echo "memory: $(free -g | awk '/Mem:/{print $2}') GiB"
    echo "openblas: $(dpkg-query -W -f='${Version}' libopenblas0-pthread 2>/dev/null || echo '?'); gensim $($py -c 'import gensim; print(gensim.__version__)')"
} | tee "$out/machine.txt"

echo "== 1. GloVe text → cache (whole process) vs gensim load_word2vec_format(no_header=True)"
cat >"$tmp/gensim_load.py" <<PY
from gensim.models import KeyedVectors
kv = KeyedVectors.load_word2vec_format("$txt", no_header=True)
assert len(kv) == 341479
PY
hyperfine -N --warmup 1 --runs 5 --export-json "$tmp/convert.json" \
    "$bin convert $txt $tmp/out.safetensors" >/dev/null
hyperfine -N --runs 3 --export-json "$tmp/gensim_load.json" "$py $tmp/gensim_load.py" >/dev/null
t_conv=$(median "$tmp/convert.json" 0)
t_conv1=$(hyperfine -N --warmup 1 --runs 5 --export-json "$tmp/convert1.json" \
    "$bin --threads 1 convert $txt $tmp/out1.safetensors" >/dev/null; median "$tmp/convert1.json" 0)
t_gload=$(median "$tmp/gensim_load.json" 0)
make -s build/bench_parse_floor >/dev/null 2>&1 || cc -std=c11 -O2 -Iinclude -o build/bench_parse_floor \
    tests/bench_parse_floor.c src/numparse.c
floor_line=$(build/bench_parse_floor "$txt")
t_floor=$(echo "$floor_line" | awk '{print $4}')
awk -v c="$t_conv" -v c1="$t_conv1" -v g="$t_gload" -v f="$t_floor" -v vals="$(echo "$floor_line" | awk '{print $2}')" 'BEGIN {
    printf "embvsattn convert (all cores)   %8.3f s\n", c
    printf "embvsattn convert (--threads 1) %8.3f s\n", c1
    printf "gensim load_word2vec_format     %8.3f s\n", g
    printf "parse floor (%d numbers, 1 thread, numparse_float_token only) %.3f s = %.1f ns/value\n", vals, f, f / vals * 1e9
    printf "speed-up vs gensim: %.1fx\n", g / c
    printf "ratio to the parse floor: %.2fx all cores, %.2fx one thread\n", c / f, c1 / f
}' | tee "$out/convert.txt"

bin=$bin data=$data tmp=$tmp py=$py out=$out scripts/bench-gz.sh

echo "== 2. whole process 'vector king' (warm) vs gensim KeyedVectors.load(mmap='r')"
if [ ! -f "$kv" ]; then
    $py -c "
from gensim.models import KeyedVectors
kv = KeyedVectors.load_word2vec_format('$txt', no_header=True)
kv.save('$kv.tmp')
" && for f in "$kv.tmp"*; do mv "$f" "${f/.kv.tmp/.kv}"; done
fi
cat >"$tmp/gensim_vec.py" <<PY
from gensim.models import KeyedVectors
kv = KeyedVectors.load("$kv", mmap="r")
v = kv["king"]
print("king", " ".join(repr(float(x)) for x in v))
PY
hyperfine -N --warmup 5 --runs 50 --export-json "$tmp/vec.json" "$bin --vectors $cache vector king" >/dev/null
hyperfine -N --warmup 2 --runs 10 --export-json "$tmp/gvec.json" "$py $tmp/gensim_vec.py" >/dev/null
t_vec=$(median "$tmp/vec.json" 0)
t_gvec=$(median "$tmp/gvec.json" 0)
r_vec=$(rss_mib "$bin" --vectors "$cache" vector king)
r_gvec=$(rss_mib "$py" "$tmp/gensim_vec.py")
matrix_mib=$(awk 'BEGIN{printf "%.1f", 341479*100*4/1048576}')
awk -v t="$t_vec" -v g="$t_gvec" -v r="$r_vec" -v rg="$r_gvec" -v m="$matrix_mib" 'BEGIN {
    printf "embvsattn vector king  %7.1f ms  peak RSS %6.1f MiB (the matrix alone is %s MiB)\n", t*1000, r, m
    printf "gensim mmap load+king  %7.1f ms  peak RSS %6.1f MiB\n", g*1000, rg
    printf "speed-up vs gensim: %.1fx\n", g / t
}' | tee "$out/vector.txt"

echo "== 4. the main view, whole process (warm) vs the Python equivalent (gensim mmap + torch MultiheadAttention)"
sentence="France is a country, it is in Europe"
hyperfine -N --warmup 3 --runs 30 --export-json "$tmp/view.json" "$bin --vectors $cache '$sentence'" \
    "$bin --vectors $cache --no-index '$sentence'" >/dev/null
hyperfine -N --warmup 1 --runs 5 --export-json "$tmp/pyview.json" \
    "$py scripts/mainview_python.py $kv '$sentence'" >/dev/null
t_view=$(median "$tmp/view.json" 0)
t_view_pass=$(median "$tmp/view.json" 1)
t_pyview=$(median "$tmp/pyview.json" 0)
r_view=$(rss_mib "$bin" --vectors "$cache" "$sentence")
r_view_pass=$(rss_mib "$bin" --vectors "$cache" --no-index "$sentence")
r_pyview=$(rss_mib "$py" scripts/mainview_python.py "$kv" "$sentence")
awk -v t="$t_view" -v tp="$t_view_pass" -v p="$t_pyview" -v r="$r_view" -v rpass="$r_view_pass" -v rp="$r_pyview" \
    -v m="$matrix_mib" 'BEGIN {
    printf "embvsattn main view (static neighbours from the cache'"'"'s lists) %8.1f ms  peak RSS %6.1f MiB (matrix %s MiB)\n", t*1000, r, m
    printf "embvsattn main view --no-index (a pass over the whole matrix)  %8.1f ms  peak RSS %6.1f MiB\n", tp*1000, rpass
    printf "python (gensim+torch) %8.1f ms  peak RSS %6.1f MiB\n", p*1000, rp
    printf "speed-up: %.1fx with the lists, %.1fx with --no-index\n", p / t, p / tp
}' | tee "$out/view.txt"

echo "== 5. --batch: 1000 sentences of 20 tokens (random frequent words, fixed seed), JSONL with neighbours"
awk 'NR <= 5000 && $1 ~ /^[a-z]+$/ { print $1 }' "$txt" >"$tmp/words"
awk 'BEGIN { srand(1) } { w[NR] = $1 } END { for (s = 0; s < 1000; s++) { l = ""; for (t = 0; t < 20; t++)
    l = l (t ? " " : "") w[int(rand() * NR) + 1]; print l } }' "$tmp/words" >"$tmp/batch-input.txt"
# a timing is only a result when the command did the work: 1000 sentences in, 1000 JSON lines out. The input is
# not $out/batch.txt: that is this section's results file, which `| tee` below truncates while hyperfine reads
# (out=$tmp) — why this row once timed 0.01 s: --batch was reading its own partial results.
n_in=$(wc -l <"$tmp/batch-input.txt")
n_out=$("$bin" --vectors "$cache" --batch <"$tmp/batch-input.txt" | wc -l)
[ "$n_in" = 1000 ] && [ "$n_out" = 1000 ] ||
    echo "bench: --batch read $n_in sentences and wrote $n_out lines: the timings below are not results" >&2
for mode in "" "--no-index"; do
    hyperfine --warmup 0 --runs 3 --export-json "$tmp/batch.json" \
        "$bin --vectors $cache $mode --batch <$tmp/batch-input.txt >/dev/null" >/dev/null
    t=$(median "$tmp/batch.json" 0)
    awk -v t="$t" -v m="$mode" 'BEGIN {
        printf "batch%s: %.2f s = %.0f sentences/s\n",
            m == "" ? " (static neighbours from the lists)" : " --no-index (static neighbours searched, once per word)", t, 1000 / t }'
done | tee "$out/batch.txt"

# ---- word queries and evaluations: sections 3a-3d -------------------------------------------------------------
evaldata="${EMBVSATTN_EVAL_DATA:-../shared/data}"
questions="$evaldata/questions-words.txt"
[ -x build/bench_similarity ] || make -s build/bench_similarity >/dev/null
[ -f "$kv" ] || { echo "bench: $kv missing (made by section 2)" >&2; exit 1; }
build/bench_similarity "$cache" "$questions" "$(nproc)" | tee "$out/similarity-floors.txt"
fl() { awk -v k="$1" '$1 == k { print $2 }' "$out/similarity-floors.txt"; }
# the floor of section 5 (batch), at the rate of its kernel (gemm_nt) just measured
distinct=$(tr ' ' '\n' <"$tmp/batch-input.txt" | sort -u | wc -l)
gflops=$(fl gemm_nt_gflops)
awk -v u="$distinct" -v gf="$gflops" 'BEGIN { c = 20000 * 30000 * 100 * 2 / 1e9; s = u * 341479 * 100 * 2 / 1e9;
    printf "floor, the arithmetic alone at the measured %.0f GFLOP/s of gemm_nt (the batched search'"'"'s kernel, all cores): 20000 contextual vectors over the trained head'"'"'s 30000 candidates (%.0f GFLOP) = %.2f s, i.e. %.0f sentences/s at most; --no-index adds the static neighbours of %d distinct words over all 341479 rows (%.0f GFLOP): %.0f sentences/s at most\n", gf, c, c / gf, 1000 / (c / gf), u, s, 1000 / ((s + c) / gf) }' |
    tee -a "$out/batch.txt"

echo "== 3a. analogy evaluation (questions-words.txt, restrict 300000): embvsattn vs gensim evaluate_word_analogies"
cat >"$tmp/gensim_eval.py" <<PY
import time
from gensim.models import KeyedVectors
kv = KeyedVectors.load("$kv", mmap="r")
t0 = time.time()
score, sections = kv.evaluate_word_analogies("$questions")
total = sections[-1]
print("gensim %d/%d in %.1f s" % (len(total["correct"]), len(total["correct"]) + len(total["incorrect"]), time.time() - t0))
PY
hyperfine -N --warmup 1 --runs 3 --export-json "$tmp/eval.json" "$bin --vectors $cache eval analogies $questions" >/dev/null
"$bin" --vectors "$cache" eval analogies "$questions" | grep -E '^total|^elapsed' | tee "$out/eval-embvsattn.txt"
hyperfine -N --runs 1 --export-json "$tmp/geval.json" --output "$tmp/geval.out" "$py $tmp/gensim_eval.py" >/dev/null
cat "$tmp/geval.out" 2>/dev/null || true
t_eval=$(median "$tmp/eval.json" 0)
t_geval=$(median "$tmp/geval.json" 0)
awk -v t="$t_eval" -v g="$t_geval" -v f="$(fl floor_s)" -v sg="$(fl sgemm_s)" -v gf="$(fl sgemm_gflops)" \
    -v sc="$(fl scan_s)" -v ip="$(fl eval_s)" -v nw="$(fl distinct_words)" 'BEGIN {
    printf "embvsattn eval analogies (whole process) %8.2f s   in process %.2f s\n", t, ip
    printf "gensim evaluate_word_analogies (whole)   %8.2f s\n", g
    printf "speed-up vs gensim: %.0fx\n", g / t
    printf "floor: sgemm of %d words x 300000 rows x 100 = %.1f GFLOP at %.0f GFLOP/s = %.3f s, + one scan %.3f s = %.3f s\n",
        nw, 2 * nw * 300000 * 100 / 1e9, gf, sg, sc, f
    printf "ratio to the floor: %.2fx whole process, %.2fx in process\n", t / f, ip / f
}' | tee "$out/eval.txt"

echo "== 3b. neighbours of 10 words at once vs one pass over the matrix at the measured memory bandwidth"
words10="king france computer bank river music science red run good"
cat >"$tmp/gensim_nb10.py" <<PY
from gensim.models import KeyedVectors
kv = KeyedVectors.load("$kv", mmap="r")
for w in "$words10".split():
    kv.most_similar(w, topn=10)
PY
hyperfine -N --warmup 3 --runs 20 --export-json "$tmp/nb10.json" "$bin --vectors $cache neighbors $words10" >/dev/null
hyperfine -N --warmup 1 --runs 5 --export-json "$tmp/gnb10.json" "$py $tmp/gensim_nb10.py" >/dev/null
awk -v t10="$(fl topk10_s)" -v t1="$(fl topk1_s)" -v p="$(fl matrix_pass_s)" -v b1="$(fl bandwidth_gbs_1t)" \
    -v ba="$(fl bandwidth_gbs_all)" -v w="$(median "$tmp/nb10.json" 0)" -v g="$(median "$tmp/gnb10.json" 0)" 'BEGIN {
    printf "memory bandwidth (read): %.1f GB/s one thread, %.1f GB/s all cores; one pass over the matrix %.1f ms\n", b1, ba, p * 1000
    printf "sim_topk, 10 words at once (in process, warm) %7.1f ms = %.2fx the pass\n", t10 * 1000, t10 / p
    printf "sim_topk, 1 word (in process, warm)           %7.1f ms = %.2fx the pass\n", t1 * 1000, t1 / p
    printf "whole process: embvsattn neighbors (10 words) %7.1f ms; gensim mmap load + 10 x most_similar %.1f ms (%.0fx)\n",
        w * 1000, g * 1000, g / w
}' | tee "$out/neighbors10.txt"

echo "== 3c. whole process 'neighbors king' (warm) vs gensim (mmap load + most_similar)"
cat >"$tmp/gensim_king.py" <<PY
from gensim.models import KeyedVectors
kv = KeyedVectors.load("$kv", mmap="r")
print(kv.most_similar("king", topn=10))
PY
hyperfine -N --warmup 5 --runs 30 --export-json "$tmp/king.json" "$bin --vectors $cache neighbors king" \
    "$bin --vectors $cache --no-index neighbors king" "build/bench_similarity --touch $cache" >/dev/null
hyperfine -N --warmup 1 --runs 5 --export-json "$tmp/gking.json" "$py $tmp/gensim_king.py" >/dev/null
r_king=$(rss_mib "$bin" --vectors "$cache" neighbors king)
awk -v t="$(median "$tmp/king.json" 0)" -v tp="$(median "$tmp/king.json" 1)" -v touch="$(median "$tmp/king.json" 2)" \
    -v g="$(median "$tmp/gking.json" 0)" -v r="$r_king" 'BEGIN {
    printf "embvsattn neighbors king (from the cache'"'"'s lists) %7.1f ms, peak RSS %.1f MiB\n", t * 1000, r
    printf "embvsattn --no-index neighbors king (a pass over the matrix) %7.1f ms\n", tp * 1000
    printf "a process that only maps the cache and reads each cache line of the matrix once: %.1f ms (the floor of a pass)\n", touch * 1000
    printf "gensim mmap load + most_similar %7.1f ms; speed-up %.0fx (%.0fx with --no-index)\n", g * 1000, g / t, g / tp
}' | tee "$out/neighbors-king.txt"

echo "== 3d. embvsattn index: the neighbour lists of the 50,000 most frequent words (fetch-vectors.sh runs it once)"
cp "$cache" "$tmp/lists.safetensors"
"$bin" --vectors "$tmp/lists.safetensors" index | sed "s|$tmp/||" | tee "$out/index.txt"
rm -f "$tmp/lists.safetensors"

# ---- the trained heads ---------------------------------------------------------------------------------------
echo "== 6. training: the C trainers, and the context objective against the PyTorch prototype on the same text"
scripts/fetch-corpus.sh
wn="$data/wordnet-train.txt"
head -15000 "$wn" >"$tmp/slice.txt"
proto=../shared/prototypes/context_head.py
# the same objective as the prototype: every other word predicts (--rows 0), one epoch, 2 threads
"$bin" --format json train --objective context --rows 0 --threads 2 --epochs 1 --log "$tmp/ctx0.log" \
    -o "$tmp/ctx0.safetensors" "$tmp/slice.txt" >"$tmp/ctx0.json"
# the shipped setting (3 predicting words a sentence, antecedent examples weighted 4), and the masked-word trainer
"$bin" --format json train --objective context --pronoun 4 --threads 2 --epochs 1 --log "$tmp/ctx3.log" \
    -o "$tmp/ctx3.safetensors" "$tmp/slice.txt" >"$tmp/ctx3.json"
"$bin" --format json train --objective masked-word --threads 2 --epochs 1 --log "$tmp/mlm.log" \
    -o "$tmp/mlm.safetensors" "$tmp/slice.txt" >"$tmp/mlm.json"
if [ -f "$proto" ]; then
    /usr/bin/time -f %e -o "$tmp/proto.time" $py "$proto" "$data/glove.6B.100d.txt" "$tmp/slice.txt" 1 >"$tmp/proto.out" 2>&1
else
    echo "prototype $proto not found" >"$tmp/proto.out"
fi
$py - "$tmp/ctx0.json" "$tmp/ctx3.json" "$tmp/mlm.json" "$tmp/proto.out" <<'PY' | tee "$out/train.txt"
import json, re, sys
c0, c3, m = (json.load(open(f)) for f in sys.argv[1:4])
proto = open(sys.argv[4]).read()
print(f"text: the first 15,000 lines of wordnet-train.txt ({c0['corpus']['tokens']} tokens), 1 epoch, 2 threads")
print(f"C, context, every word predicts (--rows 0, the prototype's objective): {c0['tokens_per_second']:.0f} tokens/s, "
      f"{c0['seconds']:.1f} s, final loss {c0['final_loss']:.3f}")
eps = re.findall(r"epoch 0 loss ([0-9.]+), ([0-9]+) tokens/s", proto)
ntok = re.findall(r"([0-9]+) sentences ([0-9]+) tokens", proto)
if eps and ntok:
    loss, tps = float(eps[-1][0]), float(eps[-1][1])
    sec = int(ntok[0][1]) / tps  # its epoch's training time (it counts only the tokens of its 50,000 words)
    print(f"PyTorch prototype (context_head.py, same objective): {tps:.0f} of its tokens/s ({ntok[0][1]} tokens, "
          f"{ntok[0][0]} sentences), {sec:.1f} s, final loss {loss:.3f}")
    print(f"speed ratio, the same epoch of the same text: PyTorch {sec:.1f} s / C {c0['seconds']:.1f} s = "
          f"{sec / c0['seconds']:.2f}x")
else:
    print("PyTorch prototype: did not run: " + proto.strip().splitlines()[-1] if proto.strip() else "no output")
print(f"C, context, 3 predicting words a sentence and --pronoun 4 (the shipped head's setting): "
      f"{c3['tokens_per_second']:.0f} tokens/s, "
      f"{c3['seconds']:.1f} s")
print(f"C, masked-word (sampled softmax, 4,096 negatives): {m['tokens_per_second']:.0f} tokens/s, {m['seconds']:.1f} s")
PY

echo "== 7. the shipped heads: eval head on held-out WordNet and on fortunes (never trained on), the sense evaluation, probes"
for h in context mlm; do
    for f in wordnet-heldout fortunes; do
        "$bin" --format json eval head "$h" "$data/$f.txt" >"$tmp/eval-$h-$f.json"
    done
done
$py - "$tmp" <<'PY' | tee "$out/heads.txt"
import json, sys
for h in ("context", "mlm"):
    for f in ("wordnet-heldout", "fortunes"):
        r = json.load(open(f"{sys.argv[1]}/eval-{h}-{f}.json"))
        rows = {x["name"]: x for x in r["attention"]}
        tr = rows["trained"]["all"]["top10"]["rate"]
        parts = []
        for b in ("identity", "uniform", "random"):
            mm = rows[b]["trained_minus_this_top10"]
            parts.append(f"{b} {rows[b]['all']['top10']['rate']:.4f} ({mm['all'] / mm['all_se_paired']:.1f} SE)")
        print(f"{h:8s} on {f:16s}: {r['positions']:6d} positions, top-10 {tr:.4f}; " + ", ".join(parts) +
              f"; {r['seconds']:.1f} s")
PY
if "$bin" eval senses --help >/dev/null 2>&1; then
    "$bin" eval senses | sed "s|$data/||" | tee "$out/senses.txt" # the file's name, not this machine's path
fi
/usr/bin/python3 scripts/probe-heads.py context mlm | tee "$out/probes.txt"
bin=$bin data=$data tmp=$tmp py=$py scripts/bench-queries.sh
bin=$bin data=$data tmp=$tmp py=$py scripts/bench-batch.sh
if [ "${EMBVSATTN_BENCH_SCALE:-1}" = 0 ]; then # the 3,000,000 x 300 section writes ~16 GB and takes long
    echo "== 8. scale: skipped (EMBVSATTN_BENCH_SCALE=0)"
else
    bin=$bin data=$data tmp=$tmp py=$py scripts/bench-scale.sh
fi
bin=$bin data=$data tmp=$tmp py=$py scripts/bench-wordlist.sh
bin=$bin data=$data tmp=$tmp py=$py scripts/bench-serve.sh
} | tee "$tmp/log"

# The results file: the machine, then each section's lines as a block.
mkdir -p bench-results
awk -v date="$(date -u +%Y-%m-%d)" -v cpu="$cpu" -v n="$(nproc)" '
    BEGIN { printf "# make bench, %s, %s × %s cores\n\nThe output of scripts/bench.sh; docs/performance.md says what each line measures.\n", date, cpu, n }
    /^== / { if (open) print "```"; sub(/^== /, ""); printf "\n## %s\n\n```\n", $0; open = 1; next }
    { print }
    END { if (open) print "```" }' "$tmp/log" >"$result.tmp"
mv "$result.tmp" "$result"
echo "bench: results in $result"
