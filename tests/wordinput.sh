#!/usr/bin/env bash
# Word lists, --stdin and -i (src/cli_wordinput.c), convert - : the checks the data-driven tests/cli cases cannot
# make — a co-process through FIFOs that must get each answer before it writes its next line, a terminal driven
# through a pty, 100,000 words through stdin (on the real GloVe cache, as the integration tier: missing is a FAIL),
# standard input in every packing. Prints one PASS/FAIL line per check.
set -u
export LC_ALL=C
cd "$(dirname "$0")/.."
bin="${EMBVSATTN:-./embvsattn}"
data="${EMBVSATTN_DATA:-${XDG_CACHE_HOME:-$HOME/.cache}/embvsattn}"
cache="$data/glove.6B.100d.safetensors"
mini=tests/fixtures/mini.txt
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in ${pids[@]+"${pids[@]}"}; do kill "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
pass() { echo "PASS wordinput $1"; }
fail() { echo "FAIL wordinput $1: $2"; }
check() { # name, then a command that must succeed
    local name=$1
    shift
    if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$(echo "$out" | tail -3 | tr '\n' '|')"; fi
}
# Waits (at most 10 s) until file $1 has at least $2 lines; returns non-zero when it did not.
wait_lines() {
    local i
    for i in $(seq 100); do
        [ "$(wc -l <"$1")" -ge "$2" ] && return 0
        sleep 0.1
    done
    return 1
}

# ---- a co-process: each line answered before the next is written ----------------------------------------------
# $1 name, $2 format (json|text), $3 lines an answer has (json 1; text: its block and the empty line after it)
coprocess() {
    local name=$1 fmt=$2 per=$3 fifo="$tmp/in.$1" out="$tmp/out.$1"
    mkfifo "$fifo"
    : >"$out"
    "$bin" --vectors "$mini" --format "$fmt" neighbors --stdin -k 2 <"$fifo" >"$out" 2>"$tmp/err.$name" &
    local pid=$!
    pids+=("$pid")
    exec 3>"$fifo"
    echo king >&3
    if ! wait_lines "$out" "$per"; then
        fail "$name-first-answer-before-second-line" "no answer after 10 s ($(wc -c <"$out") bytes)"
        exec 3>&-
        return
    fi
    if [ "$(wc -l <"$out")" -eq "$per" ] && grep -q prince "$out"; then pass "$name-first-answer-before-second-line"
    else fail "$name-first-answer-before-second-line" "$(head -c 200 "$out" | tr '\n' '|')"; fi
    echo queen >&3
    if wait_lines "$out" $((2 * per)) && grep -q princess "$out"; then pass "$name-second-answer"
    else fail "$name-second-answer" "$(head -c 300 "$out" | tr '\n' '|')"; fi
    exec 3>&-
    local code=0
    wait "$pid" || code=$?
    [ "$code" = 0 ] && pass "$name-exit-0-at-eof" || fail "$name-exit-0-at-eof" "exit $code: $(cat "$tmp/err.$name")"
}
coprocess fifo-json json 1
coprocess fifo-text text 4

# The JSON lines equal one-shot answers of the same words.
check stdin-lines-equal-one-shot bash -c "
    [ \"\$(printf 'king\nqueen paris\n' | '$bin' --vectors '$mini' --format json neighbors --stdin -k 3)\" = \
      \"\$('$bin' --vectors '$mini' --format json neighbors -k 3 king; '$bin' --vectors '$mini' --format json neighbors -k 3 queen paris)\" ]"

# ---- the prompt, through a pseudo-terminal ---------------------------------------------------------------------
if command -v python3 >/dev/null 2>&1; then
    edit=0
    ldd "$bin" 2>/dev/null | grep -q 'libedit' && edit=1 # the Makefile links it when pkg-config finds it
    EMBVSATTN_LIBEDIT=$edit timeout 120 python3 tests/pty_prompt.py "$bin" --vectors tests/fixtures/tiny.txt neighbors -i -k 1 2>&1 |
        sed 's/^\(PASS\|FAIL\|SKIP\) prompt /\1 wordinput prompt-/'
    st=${PIPESTATUS[0]}
    [ "$st" = 0 ] || fail prompt-driver "tests/pty_prompt.py exited $st (a failed check above, or the driver itself)"
else
    fail prompt "python3 is missing (scripts/setup-tests.sh installs it)"
fi

# ---- lists: errors name the file and line ----------------------------------------------------------------------
printf 'king\nqueen\nnew york\n' >"$tmp/bad.txt"
check words-file-bad-line bash -c "'$bin' --vectors '$mini' neighbors --words '$tmp/bad.txt'; [ \$? = 4 ] &&
    '$bin' --vectors '$mini' neighbors --words '$tmp/bad.txt' 2>&1 | grep -qF \"$tmp/bad.txt:3: expected one word a line, found 2 words ('new york')\""
printf 'king queen\nparis\n' >"$tmp/badpairs.txt"
check pairs-file-bad-row bash -c "'$bin' --vectors '$mini' similarity --words '$tmp/badpairs.txt' 2>&1 >/dev/null |
    grep -qF \"$tmp/badpairs.txt:2: expected W1 W2 (a column more is ignored), found 1 word ('paris')\""
check words-file-missing bash -c "'$bin' --vectors '$mini' vector --words '$tmp/nope.txt' 2>&1 | grep -qF '$tmp/nope.txt: cannot open the word list'"

# ---- convert - : standard input, plain or compressed, piped or redirected ---------------------------------------
"$bin" convert "$mini" "$tmp/ref.txt" 2>/dev/null
check convert-stdin-pipe bash -c "cat '$mini' | '$bin' convert - '$tmp/p.txt' && cmp '$tmp/ref.txt' '$tmp/p.txt'"
check convert-stdin-redirect bash -c "'$bin' convert - '$tmp/r.txt' <'$mini' && cmp '$tmp/ref.txt' '$tmp/r.txt'"
check convert-stdin-gzip bash -c "gzip -c '$mini' | '$bin' convert - '$tmp/g.txt' && cmp '$tmp/ref.txt' '$tmp/g.txt'"
check convert-stdin-xz bash -c "xz -c '$mini' | '$bin' convert - '$tmp/x.txt' && cmp '$tmp/ref.txt' '$tmp/x.txt'"
check convert-stdin-bzip2 bash -c "bzip2 -c '$mini' | '$bin' convert - '$tmp/b.txt' && cmp '$tmp/ref.txt' '$tmp/b.txt'"
check convert-stdin-to-cache bash -c "cat '$mini' | '$bin' convert - '$tmp/c.safetensors' &&
    [ \"\$('$bin' --vectors '$tmp/c.safetensors' vector king)\" = \"\$('$bin' --vectors '$mini' vector king)\" ]"
check convert-stdin-errors-name-stdin bash -c "printf 'x 1 2\ny 1\n' | '$bin' convert - '$tmp/e.txt' 2>&1 | grep -q '^embvsattn: stdin:2: '"

# ---- 100,000 words through standard input (the real GloVe cache) ------------------------------------------------
if [ ! -f "$cache" ]; then
    fail vectors-present "$cache missing (run scripts/fetch-vectors.sh)"
    exit 0
fi
"$bin" --limit 100000 convert "$cache" "$tmp/first.txt" 2>/dev/null
cut -d' ' -f1 "$tmp/first.txt" >"$tmp/words"
check stdin-100000-words-vector bash -c "[ \$(wc -l <'$tmp/words') = 100000 ] && '$bin' vector - <'$tmp/words' | cmp - '$tmp/first.txt'"
check stdin-100000-words-doesnt-match bash -c "[ \$('$bin' doesnt-match - <'$tmp/words' | wc -l) = 100002 ]"
check stdin-100000-pairs-similarity bash -c "paste -d' ' '$tmp/words' <(tail -n +2 '$tmp/words'; echo the) >'$tmp/pairs' &&
    '$bin' similarity - <'$tmp/pairs' >'$tmp/cos' && [ \$(wc -l <'$tmp/cos') = 100000 ] &&
    [ \"\$(sed -n 7p '$tmp/cos')\" = \"\$('$bin' --format json similarity \$(sed -n 7p '$tmp/pairs') | sed 's/.*\"similarity\"://; s/}\$//')\" ]"
head -1000 "$tmp/words" >"$tmp/words1000"
check stdin-1000-neighbors-equal-arguments bash -c "[ \"\$('$bin' neighbors -k 10 - <'$tmp/words1000' | md5sum)\" = \
    \"\$('$bin' neighbors -k 10 -- \$(cat '$tmp/words1000') | md5sum)\" ]"
# "-" is a GloVe word (row 109): after --, the word; before it, standard input.
check dashdash-dash-is-a-word bash -c "'$bin' neighbors -k 3 -- - </dev/null | head -1 | grep -qx -- '-'"
