#!/usr/bin/env bash
# CLI end-to-end cases as data: each directory under tests/cli/ is one case with
#   args    the arguments, one line, shell-quoted (run from the repository root)
#   code    the expected exit code
#   stdout  (optional) the exact expected standard output
#   stderr  (optional) fixed strings, one per line, that standard error must contain
#   stderr_lacks (optional) fixed strings, one per line, that standard error must not contain
#   stdin   (optional) fed to standard input (else /dev/null)
#   stdout_has (optional) fixed strings, one per line, that standard output must contain
#   env     (optional) VAR=value lines set for the run
#   stdout_file (optional) a path to send standard output to instead (e.g. /dev/full)
# Prints one PASS/FAIL line per case.  Setting VALGRIND runs each case under valgrind memcheck; CLI_ONLY (an extended
# regular expression) runs only the cases whose names match it.
set -eu
export LC_ALL=C
cd "$(dirname "$0")/.."
bin="${EMBVSATTN:-./embvsattn}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TMPOUT="$tmp" # cases may write outputs under $TMPOUT
for dir in tests/cli/*/; do
    name=$(basename "$dir")
    [ -f "$dir/args" ] || continue
    [ -z "${CLI_ONLY:-}" ] || [[ $name =~ $CLI_ONLY ]] || continue
    eval "set -- $(cat "$dir/args")"
    input=/dev/null
    [ -f "$dir/stdin" ] && input="$dir/stdin"
    envs=()
    [ -f "$dir/env" ] && mapfile -t envs < <(eval "printf '%s\n' $(tr '\n' ' ' <"$dir/env")")
    outp="$tmp/out"
    [ -f "$dir/stdout_file" ] && outp=$(cat "$dir/stdout_file")
    code=0
    env ${envs[@]+"${envs[@]}"} ${VALGRIND:-} "$bin" "$@" <"$input" >"$outp" 2>"$tmp/err" || code=$?
    want=$(cat "$dir/code")
    why=""
    [ "$code" = "$want" ] || why="exit code $code, expected $want"
    if [ -z "$why" ] && [ -f "$dir/stdout" ] && ! cmp -s "$dir/stdout" "$tmp/out"; then
        why="stdout differs: $(diff "$dir/stdout" "$tmp/out" | head -5 | tr '\n' '|')"
    fi
    if [ -z "$why" ] && [ -f "$dir/stdout_has" ]; then
        while IFS= read -r frag; do
            [ -z "$frag" ] && continue
            grep -qF -- "$frag" "$tmp/out" || { why="stdout lacks '$frag'"; break; }
        done <"$dir/stdout_has"
    fi
    if [ -z "$why" ] && [ -f "$dir/stderr" ]; then
        while IFS= read -r frag; do
            [ -z "$frag" ] && continue
            grep -qF -- "$frag" "$tmp/err" || { why="stderr lacks '$frag': $(head -c 300 "$tmp/err")"; break; }
        done <"$dir/stderr"
    fi
    if [ -z "$why" ] && [ -f "$dir/stderr_lacks" ]; then
        while IFS= read -r frag; do
            [ -z "$frag" ] && continue
            ! grep -qF -- "$frag" "$tmp/err" || { why="stderr has '$frag': $(head -c 300 "$tmp/err")"; break; }
        done <"$dir/stderr_lacks"
    fi
    if [ -z "$why" ] && [ -n "$(ls -A "$tmp" | grep -v '^out$\|^err$' | grep '\.tmp\.' || true)" ]; then
        why="left a temporary file behind"
    fi
    if [ -z "$why" ]; then echo "PASS cli $name"; else echo "FAIL cli $name: $why"; fi
    find "$tmp" -mindepth 1 -not -name out -not -name err -delete
done
