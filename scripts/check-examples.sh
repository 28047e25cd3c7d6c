#!/usr/bin/env bash
# check-examples.sh — re-runs the examples of README.md and docs/*.md and compares their output with the text.
#
#   scripts/check-examples.sh [--update] [FILE.md...]    (default: README.md docs/*.md)
#
# An example is a line "$ COMMAND" inside a ``` block; the lines after it, up to the next "$ " line or the end of
# the block, are its output. Each command runs in bash, in a scratch directory that holds links to the repository's
# tests/ and data/ and to the evaluation files (questions-words.txt, EN-WS-353-ALL.txt from $EMBVSATTN_EVAL_DATA,
# default ../shared/data), with ./embvsattn first on PATH, LC_ALL=C, NO_COLOR=1 and no COLUMNS: the output a
# reader gets in a pipe. The vectors are the fetched ones (~/.cache/embvsattn; scripts/fetch-vectors.sh).
# Without --update it prints a diff for every example whose output differs and exits 1 if any did; with --update it
# writes the new outputs into the files instead (review the diff before committing).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
update=0
files=()
for a in "$@"; do
    case "$a" in
    --update) update=1 ;;
    -h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "check-examples: unknown option '$a'" >&2; exit 2 ;;
    *) files+=("$a") ;;
    esac
done
[ ${#files[@]} -gt 0 ] || files=(README.md docs/*.md)
[ -x ./embvsattn ] || { echo "check-examples: ./embvsattn missing: run make" >&2; exit 2; }
evaldata=$(cd "${EMBVSATTN_EVAL_DATA:-../shared/data}" 2>/dev/null && pwd) ||
    { echo "check-examples: evaluation data not found: set EMBVSATTN_EVAL_DATA" >&2; exit 2; }

work=$(mktemp -d)
mkdir "$work/run"
ln -s "$repo/tests" "$repo/data" "$evaldata/questions-words.txt" "$evaldata/EN-WS-353-ALL.txt" "$work/run/"

run() { # the output of one command, as a reader's shell in a pipe gets it (at most 5 minutes)
    (cd "$work/run" && env -u COLUMNS LC_ALL=C NO_COLOR=1 PATH="$repo:$PATH" timeout 300 bash -c "$1" 2>&1) || true
}
# A file whose examples ask a server on 127.0.0.1:8080 (curl) gets one: `embvsattn serve --port 8080`, from the
# same directory, stopped after the file.
server=""
serve_start() {
    (cd "$work/run" && exec env LC_ALL=C NO_COLOR=1 "$repo/embvsattn" serve --port 8080 >"$work/serve.out" 2>&1) &
    server=$!
    for _ in $(seq 1 600); do
        grep -q '^http://' "$work/serve.out" 2>/dev/null && return 0
        kill -0 "$server" 2>/dev/null || break
        sleep 0.1
    done
    echo "check-examples: embvsattn serve --port 8080 did not start: $(head -c 300 "$work/serve.out")" >&2
    exit 2
}
serve_stop() { [ -z "$server" ] || { kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true; server=""; }; }
trap 'serve_stop; rm -rf "$work"' EXIT

bad=0
for f in "${files[@]}"; do
    out="$work/new.md"
    : >"$out"
    infence=0 cmd="" lines=()
    ! grep -q '^\$ curl .*127\.0\.0\.1:8080' "$f" || serve_start
    flush() {
        [ -n "$cmd" ] || return 0
        local expect got
        expect=$(if [ ${#lines[@]} -gt 0 ]; then printf '%s\n' "${lines[@]}"; fi)
        got=$(run "$cmd")
        if [ "$got" != "$expect" ]; then
            if [ "$update" = 1 ]; then echo "check-examples: $f: updated: \$ $cmd" >&2; else
                echo "== $f: \$ $cmd"; diff <(printf '%s\n' "$expect") <(printf '%s\n' "$got") || true; bad=1; fi
        fi
        [ -z "$got" ] || printf '%s\n' "$got" >>"$out"
        cmd="" lines=()
    }
    while IFS= read -r line || [ -n "$line" ]; do
        if [ "$infence" = 0 ]; then
            case "$line" in '```'*) infence=1 ;; esac
            printf '%s\n' "$line" >>"$out"
            continue
        fi
        case "$line" in
        '```')
            flush; infence=0; printf '%s\n' "$line" >>"$out" ;;
        '$ '*)
            flush; cmd=${line#\$ }; printf '%s\n' "$line" >>"$out" ;;
        *)
            if [ -n "$cmd" ]; then lines+=("$line"); else printf '%s\n' "$line" >>"$out"; fi ;;
        esac
    done <"$f"
    serve_stop
    if [ "$update" = 1 ] && ! cmp -s "$out" "$f"; then cp "$out" "$f"; fi
done
exit $bad
