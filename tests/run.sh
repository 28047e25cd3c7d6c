#!/usr/bin/env bash
# Runs every test tier and prints "N passed, N failed". Exit status is non-zero when anything failed.
#   EMBVSATTN  the binary under test (default ./embvsattn)
#   BUILD      where the unit-test binaries are (default build)
set -u
export LC_ALL=C
cd "$(dirname "$0")/.."
export EMBVSATTN="${EMBVSATTN:-./embvsattn}"
BUILD="${BUILD:-build}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# Unit tests: each binary is one test (it prints its own check count and exits non-zero on any failure).
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    case "$t" in *test_glove_parse) continue ;; esac # needs the real GloVe file: integration tier
    if out=$("$t" 2>&1); then echo "PASS unit $(basename "$t"): ${out##*$'\n'}"; else
        echo "FAIL unit $(basename "$t")"; echo "$out" | tail -20 | sed 's/^/    /'; fi
done | tee -a "$log"

for tier in tests/cli.sh tests/man.sh tests/completion.sh tests/bad-inputs.sh tests/json-utf8.sh tests/steps.sh \
    tests/mutation.sh tests/limits.sh tests/stream.sh tests/inflate.sh tests/interop.sh tests/integration.sh tests/wordinput.sh \
    tests/kernels.sh tests/serve.sh tests/browser.sh; do
    bash "$tier" 2>&1 | tee -a "$log"
done

passed=$(grep -c '^PASS ' "$log")
failed=$(grep -c '^FAIL ' "$log")
skipped=$(grep -c '^SKIP ' "$log")
echo
if [ "$skipped" -gt 0 ]; then echo "$passed passed, $failed failed, $skipped skipped"; else echo "$passed passed, $failed failed"; fi
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
