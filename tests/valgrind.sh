#!/usr/bin/env bash
# `make valgrind`: the CLI end-to-end cases (tests/cli.sh) and the malformed inputs (tests/bad-inputs.sh) with
# every run under valgrind memcheck (--error-exitcode=1 --leak-check=full). A case whose exit code is itself 1
# would hide valgrind's 1, so each process also writes a log (-q: only errors) and any non-empty log is a failure.
# Prints the cases' PASS/FAIL lines, one for the logs, and "N passed, N failed".
set -u
export LC_ALL=C OPENBLAS_NUM_THREADS=1
cd "$(dirname "$0")/.."
logs=$(mktemp -d)
out=$(mktemp)
trap 'rm -rf "$logs" "$out"' EXIT
export VALGRIND="valgrind -q --error-exitcode=1 --leak-check=full --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible --log-file=$logs/vg.%p"
for tier in tests/cli.sh tests/bad-inputs.sh; do
    bash "$tier" 2>&1 | tee -a "$out"
done
bad=$(find "$logs" -type f -size +0 | wc -l)
if [ "$bad" -eq 0 ]; then
    echo "PASS valgrind: $(ls "$logs" | wc -l) processes, no memory error or leak" | tee -a "$out"
else
    echo "FAIL valgrind: $bad of $(ls "$logs" | wc -l) processes reported errors:" | tee -a "$out"
    find "$logs" -type f -size +0 | head -5 | while read -r f; do sed 's/^/    /' "$f" | head -40; done
fi
passed=$(grep -c '^PASS ' "$out")
failed=$(grep -c '^FAIL ' "$out")
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
