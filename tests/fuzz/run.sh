#!/usr/bin/env bash
# Drives the libFuzzer harnesses built by `make fuzz` (build-fuzz/fuzz/fuzz_*).
#   tests/fuzz/run.sh replay [SECONDS]     CI (`make fuzz-replay`): every target replays its committed corpus
#                                          (tests/fuzz/corpus/TARGET), then fuzzes SECONDS (default 8) from it in a
#                                          scratch copy; one PASS/FAIL line per target, "N passed, N failed" last.
#   tests/fuzz/run.sh fuzz TARGET [SECONDS] a long local run (default 600 s) at nice 19 into build-fuzz/corpus/TARGET
#                                          (seeded from the committed corpus, kept between runs); prints the
#                                          final execs and coverage. Run one target at a time.
#   tests/fuzz/run.sh merge TARGET         adds what a long run found that covers something new to the committed
#                                          corpus (libFuzzer -merge=1; review the new files before committing).
#   TARGET: text w2v_bin input cache head tokenizer batch fasttext serve_query (the harness fuzz_TARGET.c). A finding is saved under
#   build-fuzz/artifacts/ (TARGET-crash-*, -leak-*, -timeout-*, -oom-*); reproduce: build-fuzz/fuzz/fuzz_TARGET FILE.
set -u
cd "$(dirname "$0")/../.."
export OPENBLAS_NUM_THREADS=1 LC_ALL=C
BIN=${FUZZ_BIN:-build-fuzz/fuzz} # the harnesses (a copy keeps a long run apart from rebuilds)
ART=build-fuzz/artifacts
TARGETS="text w2v_bin input cache head tokenizer batch fasttext serve_query"
mkdir -p "$ART"

dict_for() {
    case "$1" in
    text | w2v_bin | input) echo tests/fuzz/text.dict ;;
    cache | head) echo tests/fuzz/safetensors.dict ;;
    *) echo tests/fuzz/tokenizer.dict ;;
    esac
}

# Common flags: 4 KiB inputs (1 KiB of batch lines: each line is a whole view), a hang is a 10 s timeout, 2 GiB
# RSS, stop at the first finding.
flags() {
    local max=4096
    [ "$1" = batch ] && max=1024
    echo "-max_len=$max -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 -dict=$(dict_for "$1")" \
         "-artifact_prefix=$ART/$1- -print_final_stats=1"
}

# "execs N cov N ft N" from a libFuzzer log.
stats() {
    local done execs
    done=$(grep -E '^#[0-9]+\s+[A-Z]+ +cov: ' "$1" | tail -1) # DONE, or the last line before a finding
    execs=$(grep -E '^stat::number_of_executed_units' "$1" | awk '{print $2}')
    echo "execs ${execs:-?} cov $(echo "$done" | sed -n 's/.* cov: \([0-9]*\).*/\1/p') ft $(echo "$done" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')"
}

case "${1:-}" in
replay)
    secs=${2:-8}
    log=$(mktemp)
    work=$(mktemp -d)
    trap 'rm -rf "$log" "$work"' EXIT
    pass=0 fail=0
    for t in $TARGETS; do
        b=$BIN/fuzz_$t
        if [ ! -x "$b" ]; then echo "FAIL fuzz $t: $b not built (make fuzz)"; fail=$((fail + 1)); continue; fi
        why=""
        # shellcheck disable=SC2046
        if ! "$b" $(flags "$t") -runs=0 tests/fuzz/corpus/"$t" >"$log" 2>&1; then
            why="replaying the corpus: $(grep -m1 -E 'ERROR|FUZZ_CHECK|runtime error' "$log")"
        fi
        if [ -z "$why" ]; then
            mkdir -p "$work/$t"
            cp tests/fuzz/corpus/"$t"/* "$work/$t"/ 2>/dev/null
            # shellcheck disable=SC2046
            "$b" $(flags "$t") -max_total_time="$secs" "$work/$t" >"$log" 2>&1 ||
                why="fuzzing ${secs}s: $(grep -m1 -E 'ERROR|FUZZ_CHECK|runtime error' "$log")"
        fi
        if [ -z "$why" ]; then
            echo "PASS fuzz $t: corpus $(ls tests/fuzz/corpus/"$t" | wc -l) files, ${secs}s: $(stats "$log")"
            pass=$((pass + 1))
        else
            echo "FAIL fuzz $t: $why"
            tail -30 "$log" | sed 's/^/    /'
            fail=$((fail + 1))
        fi
    done
    echo
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
    ;;
fuzz)
    t=${2:?usage: run.sh fuzz TARGET [SECONDS]}
    secs=${3:-600}
    mkdir -p build-fuzz/corpus/"$t" build-fuzz/logs
    cp -n tests/fuzz/corpus/"$t"/* build-fuzz/corpus/"$t"/ 2>/dev/null
    log=build-fuzz/logs/$t.log
    # shellcheck disable=SC2046
    nice -n 19 "$BIN/fuzz_$t" $(flags "$t") -max_total_time="$secs" build-fuzz/corpus/"$t" >"$log" 2>&1
    rc=$?
    echo "fuzz $t: ${secs}s, exit $rc, $(stats "$log"), corpus $(ls build-fuzz/corpus/"$t" | wc -l) (log $log)"
    exit $rc
    ;;
merge)
    t=${2:?usage: run.sh merge TARGET}
    # shellcheck disable=SC2046
    "$BIN/fuzz_$t" $(flags "$t") -merge=1 tests/fuzz/corpus/"$t" build-fuzz/corpus/"$t"
    ;;
*)
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
