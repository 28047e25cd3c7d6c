#!/usr/bin/env bash
# The malformed inputs of tests/bad-inputs/cases: each must end with its exit code, say what is wrong (the
# message fragment, on stderr — on stdout for --batch, whose errors are JSON lines), start its error with
# "embvsattn: ", print nothing on stdout when it fails (except --batch), and finish within 30 s (no hang).
# Prints one PASS/FAIL line per case.  EMBVSATTN: the binary (default ./embvsattn); VALGRIND: a command prefix
# (see tests/valgrind.sh); BAD_ONLY (an extended regular expression) runs only the cases whose names match it.
set -u
export LC_ALL=C
cd "$(dirname "$0")/.."
bin="${EMBVSATTN:-./embvsattn}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
T=tests/bad-inputs
V=tests/fixtures/tiny.txt
while IFS= read -r line; do
    case "$line" in '' | '#'*) continue ;; esac
    eval "set -- $line"
    name=$1 want=$2 frag=$3
    [ -z "${BAD_ONLY:-}" ] || [[ $name =~ $BAD_ONLY ]] || continue
    shift 3
    code=0
    if [ -f "$T/$name.stdin" ]; then # through a pipe, as a user's `… | embvsattn --batch` would
        cat "$T/$name.stdin" | timeout 30 ${VALGRIND:-} "$bin" "$@" >"$tmp/out" 2>"$tmp/err" || code=$?
    else
        timeout 30 ${VALGRIND:-} "$bin" "$@" </dev/null >"$tmp/out" 2>"$tmp/err" || code=$?
    fi
    why=""
    if [ "$code" = 124 ]; then
        why="no answer within 30 s (a hang)"
    elif [ "$code" != "$want" ]; then
        why="exit code $code, expected $want: $(head -c 300 "$tmp/err")"
    elif ! grep -qF -- "$frag" "$tmp/err" "$tmp/out"; then
        why="no '$frag' in: $(head -c 300 "$tmp/err") $(head -c 300 "$tmp/out")"
    elif [ "$want" != 7 ] && [ "$(head -c 11 "$tmp/err")" != "embvsattn: " ]; then
        why="the error does not start with 'embvsattn: ': $(head -c 200 "$tmp/err")"
    elif [ "$want" != 7 ] && [ -s "$tmp/out" ]; then
        why="output on stdout despite the error: $(head -c 200 "$tmp/out")"
    elif [ "$1" = convert ] && [ -e "${!#}" ]; then
        why="convert failed but left ${!#} behind"
    elif [ "$1" = convert ] && ls "$(dirname "${!#}")"/*.tmp.* >/dev/null 2>&1; then
        why="convert failed but left a temporary file behind"
    fi
    if [ -z "$why" ]; then echo "PASS bad-input $name"; else echo "FAIL bad-input $name: $why"; fi
done <"$T/cases"
