#!/usr/bin/env bash
# Resource bounds and output integrity, one PASS/FAIL line per check:
#  - memory: every malformed vector or head file of tests/bad-inputs, and 100-byte files whose headers claim
#    gigabytes, are rejected (exit 3 or 4, never 6) under an address-space limit (prlimit --as, as `ulimit -v`) of a
#    few MB above what `embvsattn --version` itself needs (calibrated here; OpenBLAS maps its libraries and, per
#    thread, a buffer at startup, so OPENBLAS_NUM_THREADS=1). Skipped for sanitizer builds (their shadow memory
#    needs terabytes of address space) and under valgrind.
#  - limits: sentences over 1 MiB or 4096 tokens, batch lines over them: a message and exit 6 (batch: an error
#    object for the line, the other lines answered, exit 7); a huge -k or --top is bounded.
#  - output: /dev/full gives a message and exit 5 for every kind of output; a closed pipe ends quietly (killed by
#    SIGPIPE, status 141 in a shell; exit 0 and no message when SIGPIPE is ignored); a conversion or a head file
#    (train -o) over a file-size limit fails with exit 5 and leaves neither a partial file nor a temporary, and an
#    existing file untouched.
set -u
export LC_ALL=C OPENBLAS_NUM_THREADS=1
cd "$(dirname "$0")/.."
bin="${EMBVSATTN:-./embvsattn}"
V=tests/fixtures/tiny.txt
M=tests/fixtures/mini.txt
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pass() { echo "PASS limits $1"; }
fail() { echo "FAIL limits $1: $2"; }

# run LIMIT_KB CMD… : the command under an address-space limit (0 = none), 30 s at most; sets rc, out, err files
run() {
    local lim=$1
    shift
    rc=0
    if [ "$lim" -gt 0 ]; then
        timeout 30 prlimit --as=$((lim * 1024)) "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
    else
        timeout 30 "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
    fi
}

# ---- memory ----------------------------------------------------------------------------------------------------
# The smallest limit (KiB, 1 MiB steps) under which `embvsattn --version` runs, up to 1 GiB; 0 when none.
calibrate() {
    local lo=1 hi=1024 mid
    run $((hi * 1024)) "$bin" --version
    [ "$rc" = 0 ] || { echo 0; return; }
    while [ $lo -lt $hi ]; do
        mid=$(((lo + hi) / 2))
        run $((mid * 1024)) "$bin" --version
        if [ "$rc" = 0 ]; then hi=$mid; else lo=$((mid + 1)); fi
    done
    echo $((hi * 1024))
}

# 100-byte files whose headers claim far more than 100 bytes (written here; sizes checked)
hundred() { # NAME CONTENT (printf format): padded with spaces to 100 bytes
    printf "$2" >"$tmp/$1"
    local n
    n=$(wc -c <"$tmp/$1")
    head -c $((100 - n)) /dev/zero | tr '\0' ' ' >>"$tmp/$1"
}
safetensors100() { # NAME JSON: 8-byte length, the JSON padded with spaces to 92 bytes
    local j=$2 pad
    pad=$((92 - ${#j}))
    printf '\x5c\0\0\0\0\0\0\0' >"$tmp/$1"
    printf '%s%*s' "$j" "$pad" '' >>"$tmp/$1"
}
hundred w2v-bin-claims.bin '4000000000 300\n'
hundred w2v-text-claims.vec '1 1000000000\na 1\n'
hundred w2v-zero-count.bin '0 3333333333333333333\n'
safetensors100 cache-claims.safetensors '{"vectors":{"dtype":"F32","shape":[1000000000,1000],"data_offsets":[0,4000000000000]}}'
safetensors100 head-claims.safetensors '{"w_q":{"dtype":"F32","shape":[100000,100000],"data_offsets":[0,40000000000]}}'

if [ -n "${VALGRIND:-}" ]; then
    echo "SKIP limits memory: under valgrind"
elif grep -q __asan_init "$bin" 2>/dev/null; then
    echo "SKIP limits memory: a sanitizer build (its shadow memory needs terabytes of address space)"
else
    base=$(calibrate)
    if [ "$base" = 0 ]; then
        fail memory-calibration "'$bin --version' does not run under a 1 GiB address-space limit"
    else
        lim=$((base + 8 * 1024)) # a few MB above the baseline
        for f in "$tmp"/*.bin "$tmp"/*.vec "$tmp"/*.safetensors; do
            [ "$(wc -c <"$f")" = 100 ] || { fail "memory $(basename "$f")" "not 100 bytes"; continue; }
        done
        # a real 100-byte file loads in that room: the limit is not simply too small
        printf 'a' >"$tmp/ok.txt"
        for i in $(seq 49); do printf ' 1' >>"$tmp/ok.txt"; done
        echo >>"$tmp/ok.txt"
        run $lim "$bin" --vectors "$tmp/ok.txt" vector a
        if [ "$rc" = 0 ]; then pass "memory: a valid 100-byte file loads under $((lim / 1024)) MiB (--version needs $((base / 1024)))"
        else fail "memory-control" "a valid 100-byte file fails under $((lim / 1024)) MiB: exit $rc $(head -c 200 "$tmp/err")"; fi
        run $lim "$bin" --vectors "$tmp/w2v-text-claims.vec" --vector-format vec vector a
        [ "$rc" = 4 ] && pass "memory: 100-byte .vec claiming 1e9 dimensions" ||
            fail "memory-vec-claims" "exit $rc: $(head -c 200 "$tmp/err")"
        for f in w2v-bin-claims.bin w2v-zero-count.bin cache-claims.safetensors; do
            run $lim "$bin" --vectors "$tmp/$f" vector a
            [ "$rc" = 4 ] && pass "memory: 100-byte $f" || fail "memory-$f" "exit $rc: $(head -c 200 "$tmp/err")"
        done
        run $lim "$bin" --vectors "$V" --head "$tmp/head-claims.safetensors" king
        [ "$rc" = 4 ] && pass "memory: 100-byte head file claiming 10^10 weights" ||
            fail "memory-head-claims" "exit $rc: $(head -c 200 "$tmp/err")"
        # every malformed vector and head file of tests/bad-inputs in the same room
        bad=0 n=0
        for f in tests/bad-inputs/*.txt tests/bad-inputs/*.vec tests/bad-inputs/*.bin tests/bad-inputs/cache-*; do
            n=$((n + 1))
            run $lim "$bin" --vectors "$f" vector a
            case "$rc" in 3 | 4) ;; *) bad=1; fail "memory-bad-inputs" "$f: exit $rc under $((lim / 1024)) MiB: $(head -c 200 "$tmp/err")" ;; esac
        done
        for f in tests/bad-inputs/head-*; do
            n=$((n + 1))
            run $lim "$bin" --vectors "$V" --head "$f" king
            case "$rc" in 3 | 4) ;; *) bad=1; fail "memory-bad-inputs" "$f: exit $rc under $((lim / 1024)) MiB: $(head -c 200 "$tmp/err")" ;; esac
        done
        [ $bad = 0 ] && pass "memory: the $n malformed files of tests/bad-inputs are rejected under $((lim / 1024)) MiB"
    fi
fi

# ---- sentence and batch-line limits ------------------------------------------------------------------------------
big=$(head -c 120000 /dev/zero | tr '\0' a) # one argument is at most 128 KiB (Linux): nine make a 1 MiB+ sentence
run 0 ${VALGRIND:-} "$bin" --vectors "$V" "$big" "$big" "$big" "$big" "$big" "$big" "$big" "$big" "$big"
[ "$rc" = 6 ] && grep -q "the sentence has 1080008 bytes, more than the limit of 1048576" "$tmp/err" &&
    pass "sentence over 1 MiB: exit 6 with a message" || fail sentence-bytes "exit $rc: $(head -c 200 "$tmp/err")"
run 0 ${VALGRIND:-} "$bin" --vectors "$V" $(yes the | head -4097)
[ "$rc" = 6 ] && grep -q "more than 4096 tokens" "$tmp/err" &&
    pass "sentence of 4097 tokens: exit 6 with a message" || fail sentence-tokens "exit $rc: $(head -c 200 "$tmp/err")"
{ head -c 1100000 /dev/zero | tr '\0' a; printf '\nthe king\n'; yes the | head -4097 | tr '\n' ' '; echo; } >"$tmp/batch"
rc=0
timeout 60 ${VALGRIND:-} "$bin" --vectors "$V" --batch <"$tmp/batch" >"$tmp/out" 2>"$tmp/err" || rc=$?
if [ "$rc" = 7 ] && [ "$(wc -l <"$tmp/out")" = 3 ] &&
    grep -q '^{"line":1,"error":"stdin:1: line longer than 1048576 bytes","code":6}$' "$tmp/out" &&
    sed -n 2p "$tmp/out" | grep -q '^{"sentence":"the king"' &&
    sed -n 3p "$tmp/out" | grep -q '"line":3,"error":"stdin:3: the sentence has more than 4096 tokens'; then
    pass "batch lines over 1 MiB and 4096 tokens: error objects, the others answered, exit 7"
else
    fail batch-limits "exit $rc: $(cut -c1-120 "$tmp/out" | head -3) $(head -c 200 "$tmp/err")"
fi
run 0 ${VALGRIND:-} "$bin" --vectors "$V" -k 18446744073709551615 --top 18446744073709551615 --format json king the
[ "$rc" = 0 ] && grep -q '"static_neighbors"' "$tmp/out" &&
    pass "-k and --top of 2^64-1: bounded by the vocabulary and the token limit" ||
    fail huge-k "exit $rc: $(head -c 200 "$tmp/err")"

# a valid 9 MB GloVe file that is mostly blank lines, read by 2 threads: each thread's rows are bounded by its own
# lines and bytes (the bound by the file's lines once underflowed: a huge allocation, or a heap overflow)
{ printf 'a'; for i in $(seq 300); do printf ' 1'; done; echo; head -c 9000000 /dev/zero | tr '\0' '\n'
  printf 'b'; for i in $(seq 300); do printf ' 2'; done; echo; } >"$tmp/blank-lines.txt"
run 0 ${VALGRIND:-} "$bin" --vectors "$tmp/blank-lines.txt" --threads 2 --format json info
[ "$rc" = 0 ] && grep -q '"words":2,"dim":300' "$tmp/out" &&
    pass "9 MB of blank lines between two rows, 2 threads: loads" || fail blank-lines-threads "exit $rc: $(head -c 200 "$tmp/err")"

# ---- /dev/full -----------------------------------------------------------------------------------------------------
full_case() { # NAME ARGS… : stdout to /dev/full must give exit 5 and the message
    local name=$1
    shift
    rc=0
    echo 'the king' | timeout 30 ${VALGRIND:-} "$bin" "$@" >/dev/full 2>"$tmp/err" || rc=$?
    [ "$rc" = 5 ] && grep -q "embvsattn: error writing standard output: No space left on device" "$tmp/err" &&
        pass "/dev/full: $name" || fail "dev-full-$name" "exit $rc: $(head -c 200 "$tmp/err")"
}
full_case "vector" --vectors "$M" vector the king
full_case "main view" --vectors "$M" the king
full_case "main view, json" --vectors "$M" --format json the king
full_case "--batch" --vectors "$M" --batch
full_case "compare" --vectors "$M" compare 'the king' 'a king'
full_case "info" --vectors "$M" info
full_case "--help" --help
for to in cache glove word2vec word2vec-binary; do
    run 0 ${VALGRIND:-} "$bin" convert --to $to "$M" /dev/full
    [ "$rc" = 5 ] && grep -q "embvsattn: /dev/full: write failed: No space left on device" "$tmp/err" &&
        pass "/dev/full: convert --to $to" || fail "dev-full-convert-$to" "exit $rc: $(head -c 200 "$tmp/err")"
done

# ---- closed pipe ---------------------------------------------------------------------------------------------------
words=$(for i in $(seq 300); do printf 'the is france '; done) # ~300 KB of output: more than a pipe holds
"$bin" --vectors "$M" vector $words 2>"$tmp/err" | head -1 >/dev/null
st=${PIPESTATUS[0]}
[ "$st" = 141 ] && [ ! -s "$tmp/err" ] && pass "closed pipe: killed by SIGPIPE (status 141), no message" ||
    fail closed-pipe "status $st: $(head -c 200 "$tmp/err")"
(
    trap '' PIPE
    "$bin" --vectors "$M" vector $words 2>"$tmp/err" | head -1 >/dev/null
    echo "${PIPESTATUS[0]}" >"$tmp/st"
)
st=$(cat "$tmp/st")
[ "$st" = 0 ] && [ ! -s "$tmp/err" ] && pass "closed pipe, SIGPIPE ignored: quiet exit 0" ||
    fail closed-pipe-ignored "status $st: $(head -c 200 "$tmp/err")"
yes 'the king is in france' | head -3000 >"$tmp/lines"
"$bin" --vectors "$M" --batch <"$tmp/lines" 2>"$tmp/err" | head -1 >/dev/null
st=${PIPESTATUS[0]}
[ "$st" = 141 ] && [ ! -s "$tmp/err" ] && pass "closed pipe: --batch killed by SIGPIPE (status 141), no message" ||
    fail closed-pipe-batch "status $st: $(head -c 200 "$tmp/err")"

# ---- atomic outputs --------------------------------------------------------------------------------------------------
for ext in safetensors txt vec bin; do
    d="$tmp/atomic-$ext"
    mkdir -p "$d"
    echo previous >"$d/out.$ext"
    rc=0
    (ulimit -f 8 && exec "$bin" convert "$M" "$d/out.$ext") 2>"$tmp/err" || rc=$? # 8 KiB: mini.txt needs 20+
    left=$(ls "$d")
    [ "$rc" = 5 ] && grep -q "write failed: File too large" "$tmp/err" && [ "$left" = "out.$ext" ] &&
        [ "$(cat "$d/out.$ext")" = previous ] &&
        pass "file-size limit: convert to .$ext fails (exit 5), no partial or temporary file, the old file intact" ||
        fail "atomic-$ext" "exit $rc, left: $left; $(head -c 200 "$tmp/err")"
    rm -f "$d/out.$ext"
    rc=0
    (ulimit -f 8 && exec "$bin" convert "$M" "$d/out.$ext") 2>/dev/null || rc=$?
    [ "$rc" = 5 ] && [ -z "$(ls "$d")" ] && pass "file-size limit: convert to a new .$ext leaves nothing" ||
        fail "atomic-new-$ext" "exit $rc, left: $(ls "$d")"
done
# a stream growing its temporary file: the limit met by the rows or by the header's room inserted before them
awk 'BEGIN { for (i = 0; i < 300; i++) { printf "w%d", i; for (j = 0; j < 20; j++) printf " %.4f", (i * j % 97) / 97; print "" } }' |
    gzip >"$tmp/fsize.txt.gz" # 24,000 bytes of rows
for kib in 8 24; do
    d="$tmp/atomic-gz-$kib"
    mkdir -p "$d"
    rc=0
    (ulimit -f $kib && exec "$bin" convert "$tmp/fsize.txt.gz" "$d/out.safetensors") 2>"$tmp/err" || rc=$?
    [ "$rc" = 5 ] && grep -q "write failed: File too large" "$tmp/err" && [ -z "$(ls "$d")" ] &&
        pass "file-size limit of $kib KiB: convert of a .gz to a cache fails (exit 5), nothing left" ||
        fail "atomic-gz-$kib" "exit $rc, left: $(ls "$d"); $(head -c 200 "$tmp/err")"
done
# ---- convert streams the rows into the cache: the same cache as with the whole matrix in memory -----------------------
# (EMBVSATTN_CONVERT_STREAM=0). A plain text file is written in place, binary, compressed and piped input grow at the
# end of the file with the header's room inserted before the rows at the end: the same bytes after a longer header;
# where the rows are copied into place instead (EMBVSATTN_CONVERT_INSERT=0, or a file system that cannot insert): the
# same bytes.
hlen() { od -An -tu8 -N8 "$1" | tr -d ' '; }
after_header() { tail -c +$(($(hlen "$1") + 9)) "$1"; }
json_header() { head -c $(($(hlen "$1") + 8)) "$1" | tail -c +9 | sed 's/ *$//'; }
same_cache() { # A B: the same header JSON and the same bytes after the header
    cmp -s <(after_header "$1") <(after_header "$2") && cmp -s <(json_header "$1") <(json_header "$2")
}
gzip -c "$M" >"$tmp/mini.txt.gz"
for in in tests/fixtures/gensim/kv.bin "$tmp/mini.txt.gz" "$M" tests/fixtures/gensim/kv.vec; do
    name=$(basename "$in")
    rc=0
    "$bin" convert "$in" "$tmp/stream.safetensors" 2>"$tmp/err" &&
        EMBVSATTN_CONVERT_STREAM=0 "$bin" convert "$in" "$tmp/memory.safetensors" 2>>"$tmp/err" || rc=$?
    same_cache "$tmp/stream.safetensors" "$tmp/memory.safetensors" || rc=differ
    case "$in" in
    *.bin | *.gz)
        EMBVSATTN_CONVERT_INSERT=0 "$bin" convert "$in" "$tmp/copied.safetensors" 2>>"$tmp/err" &&
            cmp -s "$tmp/copied.safetensors" "$tmp/memory.safetensors" || rc=copy-differs
        ;;
    esac
    [ "$rc" = 0 ] && [ -z "$(ls "$tmp" | grep -e '\.tmp\.' -e '\.spill\.')" ] &&
        pass "convert $name streamed: the cache of the in-memory path" ||
        fail "convert-stream-$name" "$rc: $(head -c 200 "$tmp/err")"
done
rc=0
cat tests/fixtures/gensim/kv.vec | "$bin" convert - "$tmp/stream.safetensors" 2>"$tmp/err" &&
    cat tests/fixtures/gensim/kv.vec | EMBVSATTN_CONVERT_STREAM=0 "$bin" convert - "$tmp/memory.safetensors" 2>>"$tmp/err" &&
    same_cache "$tmp/stream.safetensors" "$tmp/memory.safetensors" &&
    cat tests/fixtures/gensim/kv.vec | EMBVSATTN_CONVERT_INSERT=0 "$bin" convert - "$tmp/copied.safetensors" 2>>"$tmp/err" &&
    cmp -s "$tmp/copied.safetensors" "$tmp/memory.safetensors" || rc=1
[ "$rc" = 0 ] && pass "convert from a pipe streamed: the same cache (the same bytes when copied)" ||
    fail convert-stream-pipe "$(head -c 200 "$tmp/err")"

# a compressed text of several 4 MiB blocks, each window (≥ 256 KiB) parsed in pieces on two threads, the rows streamed:
# the pieces' rows appended after the first piece's in the sink's window (a bug wrote them past it)
awk 'BEGIN { srand(7); for (i = 0; i < 25000; i++) { printf "w%d", i; for (j = 0; j < 40; j++) printf " %.6f", rand() - 0.5; print "" } }' |
    gzip -1 >"$tmp/big.txt.gz"
rc=0
"$bin" --threads 2 convert "$tmp/big.txt.gz" "$tmp/stream.safetensors" 2>"$tmp/err" &&
    EMBVSATTN_CONVERT_STREAM=0 "$bin" --threads 1 convert "$tmp/big.txt.gz" "$tmp/memory.safetensors" 2>>"$tmp/err" &&
    same_cache "$tmp/stream.safetensors" "$tmp/memory.safetensors" || rc=1
[ "$rc" = 0 ] && pass "convert of a 9.6 MB text .gz parsed in pieces on 2 threads, streamed: the in-memory path's cache" ||
    fail convert-stream-gz-pieces "$(head -c 200 "$tmp/err")"
# into tmpfs (no range insertion there): the rows copied into place, the same bytes
if [ -d /dev/shm ] && [ -w /dev/shm ] && [ "$(stat -f -c %T /dev/shm)" = tmpfs ]; then
    rc=0
    "$bin" --threads 2 convert "$tmp/big.txt.gz" "/dev/shm/limits.$$.safetensors" 2>"$tmp/err" &&
        cmp -s "/dev/shm/limits.$$.safetensors" "$tmp/memory.safetensors" || rc=1
    rm -f "/dev/shm/limits.$$.safetensors"
    [ "$rc" = 0 ] && pass "convert of a .gz into tmpfs (no range insertion): the in-memory path's bytes" ||
        fail convert-stream-tmpfs "$(head -c 200 "$tmp/err")"
fi

rc=0
"$bin" convert "$M" "$tmp/no-such-dir/out.txt" 2>"$tmp/err" || rc=$?
[ "$rc" = 5 ] && grep -q "cannot create a file there" "$tmp/err" && pass "convert into a missing directory: exit 5" ||
    fail convert-missing-dir "exit $rc: $(head -c 200 "$tmp/err")"
# head files (train -o): the same under a file-size limit and on /dev/full
if "$bin" --help | grep -q '^  train '; then
    d="$tmp/atomic-head"
    mkdir -p "$d"
    echo previous >"$d/h.safetensors"
    train=(--vectors "$M" train --epochs 1 --threads 1 --dk 8 tests/fixtures/head/mini-corpus.txt)
    rc=0
    (ulimit -f 8 && exec "$bin" "${train[@]}" -o "$d/h.safetensors") >/dev/null 2>"$tmp/err" || rc=$? # 14 KB head
    [ "$rc" = 5 ] && grep -q "write failed: File too large" "$tmp/err" && [ "$(cat "$d/h.safetensors")" = previous ] &&
        [ -z "$(ls "$d" | grep '\.tmp\.')" ] &&
        pass "file-size limit: train -o fails (exit 5), the old head file intact, no temporary" ||
        fail atomic-head "exit $rc, left: $(ls "$d"); $(head -c 200 "$tmp/err")"
    rc=0
    "$bin" "${train[@]}" -o /dev/full >/dev/null 2>"$tmp/err" || rc=$?
    [ "$rc" = 5 ] && grep -q "/dev/full: write failed: No space left on device" "$tmp/err" &&
        pass "/dev/full: train -o" || fail dev-full-train "exit $rc: $(head -c 200 "$tmp/err")"
fi
