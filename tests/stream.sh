#!/usr/bin/env bash
# --batch as a stream and split across processes, one PASS/FAIL line per check:
#  - co-process: through FIFOs, the answer to the first line arrives before the second line is written (no output
#    held back waiting for a full group), and the process ends when its input does;
#  - grouping: a file of many lines is answered exactly as line-by-line runs would answer it;
#  - split input: GNU parallel --pipe --keep-order -N 500 -j4 with --line-offset over 2,000 sentences (some bad
#    lines) writes the single-process output byte for byte, error objects' line numbers included.
set -u
export LC_ALL=C OPENBLAS_NUM_THREADS=1
cd "$(dirname "$0")/.."
bin="${EMBVSATTN:-./embvsattn}"
case "$bin" in /*) ;; *) bin="$PWD/$bin" ;; esac
M=tests/fixtures/mini.txt
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT

pass() { echo "PASS stream $1"; }
fail() { echo "FAIL stream $1: $2"; }

# ---- co-process through FIFOs ------------------------------------------------------------------------------------
mkfifo "$tmp/in" "$tmp/out"
"$bin" --vectors "$M" --batch -k 1 <"$tmp/in" >"$tmp/out" 2>"$tmp/err" &
pid=$!
exec 3>"$tmp/in" 4<"$tmp/out"
first= second=
echo "the king" >&3
if IFS= read -r -t 10 -u 4 first; then
    echo "paris is in france" >&3
    IFS= read -r -t 10 -u 4 second || second=
fi
exec 3>&-
rest=$(timeout 20 cat <&4)
exec 4<&-
rc=0
wait "$pid" || rc=$?
pid=
case "$first|$second" in
'{"sentence":"the king"'*'|{"sentence":"paris is in france"'*)
    if [ "$rc" = 0 ] && [ -z "$rest" ]; then pass "fifo: each answer before the next line is written, exit 0 at EOF"
    else fail fifo "exit $rc, after the input closed: '${rest:0:80}' $(head -c 200 "$tmp/err")"; fi ;;
*) fail fifo "first answer '${first:0:60}', second '${second:0:60}' (none within 10 s: output held back?)" ;;
esac

# ---- 2,000 sentences: one process, line by line, and split by GNU parallel -----------------------------------------
words=$(cut -d' ' -f1 "$M" | grep '^[a-z]' | tr '\n' ' ')
awk -v w="$words" 'BEGIN { n = split(w, a, " "); s = 7
    for (i = 1; i <= 2000; i++) {
        if (i % 397 == 0) { print ""; continue }                 # empty: an error object
        if (i % 211 == 0) { print "qqqzzz xxyyzz"; continue }    # no known word: an error object
        if (i % 503 == 0) { printf "the \377 king\n"; continue } # not UTF-8: an error object
        len = 3 + i % 18; line = ""
        for (j = 0; j < len; j++) { s = (s * 1103515245 + 12345) % 2147483648; line = line (j ? " " : "") a[1 + s % n] }
        if (i % 50 == 0) line = line "\r"                         # CRLF lines are read as their text
        print line } }' >"$tmp/sentences"
bad=$(grep -c -e '^$' -e '^qqqzzz' -e $'\377' "$tmp/sentences")
rc=0
"$bin" --vectors "$M" --batch -k 2 <"$tmp/sentences" >"$tmp/single" 2>"$tmp/err" || rc=$?
nerr=$(grep -c '^{"line":' "$tmp/single")
if [ "$rc" = 7 ] && [ "$(wc -l <"$tmp/single")" = 2000 ] && [ "$nerr" = "$bad" ] && [ "$bad" -gt 10 ]; then
    pass "2,000 lines ($bad bad): 2,000 answers, $nerr error objects, exit 7"
else
    fail batch-2000 "exit $rc, $(wc -l <"$tmp/single") lines, $nerr errors for $bad bad lines"
fi

# every 100th line alone (--line-offset: its number) gives the line of the whole run
ok=1
for i in 1 100 211 397 503 1000 1999; do
    sed -n "${i}p" "$tmp/sentences" >"$tmp/one"
    "$bin" --vectors "$M" --batch -k 2 --line-offset $((i - 1)) <"$tmp/one" >"$tmp/oneout" 2>/dev/null
    sed -n "${i}p" "$tmp/single" | cmp -s - "$tmp/oneout" || { ok=0; fail "line-$i" "differs from line $i of the whole run"; }
done
[ "$ok" = 1 ] && pass "single lines with --line-offset equal their lines of the whole run"

if ! command -v parallel >/dev/null; then
    echo "SKIP stream parallel: GNU parallel not installed (scripts/setup-tests.sh)"
else
    rc=0
    parallel --will-cite --pipe --keep-order -N 500 -j4 \
        "'$bin' --vectors '$M' --batch -k 2 --line-offset \$(( ({#} - 1) * 500 ))" \
        <"$tmp/sentences" >"$tmp/split" 2>"$tmp/err" || rc=$?
    if cmp -s "$tmp/single" "$tmp/split"; then
        pass "parallel --pipe -N 500 -j4 --line-offset: byte for byte the single-process output ($rc jobs with bad lines)"
    else
        fail parallel "exit $rc, $(wc -l <"$tmp/split") lines; first difference: $(cmp "$tmp/single" "$tmp/split" 2>&1 | head -1) $(head -c 200 "$tmp/err")"
    fi
fi

# ---- usage -------------------------------------------------------------------------------------------------------
rc=0
"$bin" --vectors "$M" --line-offset 5 "the king" >"$tmp/out1" 2>"$tmp/err" || rc=$?
if [ "$rc" = 2 ] && grep -q -- '--line-offset numbers the lines of --batch' "$tmp/err" && [ ! -s "$tmp/out1" ]; then
    pass "--line-offset without --batch: usage error, exit 2"
else
    fail line-offset-usage "exit $rc: $(head -c 200 "$tmp/err")"
fi
