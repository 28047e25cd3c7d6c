#!/usr/bin/env bash
# The kernel sweep: the checks whose results depend on a vector kernel, run again under every kernel this CPU runs,
# so that one machine covers the paths other machines take.
#   - embvsattn's own kernels (cpu.h): EMBVSATTN_SIMD=avx512 (no bf16 first pass), =avx2 and =c below an
#     AVX512-BF16 CPU, =avx2 and =c below an AVX-512 one, =c below an AVX2 one —
#     the unit tests, the CLI cases and the integration tier's kernel-dependent checks;
#   - OpenBLAS's kernels, which numpy and gensim use too and whose last bits differ per CPU: OPENBLAS_CORETYPE=
#     Prescott (SSE3, every x86-64), Sandybridge (AVX), Haswell (AVX2+FMA), SkylakeX (AVX-512), each that this CPU
#     runs other than the one OpenBLAS picks by itself (the default run covers that one) — the unit tests and the
#     kernel-dependent integration checks.
# Check names get the setting in brackets: "PASS kernels[simd=c] unit test_search".
set -u
export LC_ALL=C
cd "$(dirname "$0")/.."
bin="${EMBVSATTN:-./embvsattn}"
BUILD="${BUILD:-build}"

units() { # label: every unit test binary, in the current environment
    local t out
    for t in "$BUILD"/tests/test_*; do
        [ -x "$t" ] || continue
        case "$t" in *test_glove_parse) continue ;; esac # the whole GloVe file: no kernel of its own
        if out=$("$t" 2>&1); then echo "PASS kernels[$1] unit $(basename "$t"): ${out##*$'\n'}"; else
            echo "FAIL kernels[$1] unit $(basename "$t")"; echo "$out" | tail -5 | sed 's/^/    /'; fi
    done
}
relabel() { sed -u "s/^\(PASS\|FAIL\) \([a-z-]*\) /\1 kernels[$1] \2 /"; }

detected=$(EMBVSATTN_SIMD= "$bin" --version | sed -n 's/.*this CPU: \([a-z0-9]*\).*/\1/p')
case "$detected" in
avx512bf16) levels="avx512 avx2 c" ;;
avx512) levels="avx2 c" ;;
avx2) levels="c" ;;
c) levels="" ;;
*) echo "FAIL kernels: cannot tell this CPU's kernels from '$bin --version'"; exit 0 ;;
esac
for lv in $levels; do
    export EMBVSATTN_SIMD=$lv
    units "simd=$lv"
    bash tests/cli.sh 2>&1 | relabel "simd=$lv"
    INTEGRATION_SUBSET=kernels bash tests/integration.sh 2>&1 | relabel "simd=$lv"
done
unset EMBVSATTN_SIMD

flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
has() { local f; for f in "$@"; do [[ $flags == *" $f "* ]] || return 1; done; }
default=$(OPENBLAS_VERBOSE=2 "$bin" --version 2>&1 | sed -n 's/^Core: //p' | head -1)
cores="Prescott"
has avx && cores+=" Sandybridge"
has avx2 fma && cores+=" Haswell"
has avx512f avx512bw avx512dq avx512vl avx512cd && cores+=" SkylakeX"
for ct in $cores; do
    [ "${ct,,}" = "${default,,}" ] && continue
    export OPENBLAS_CORETYPE=$ct
    units "openblas=$ct"
    INTEGRATION_SUBSET=kernels bash tests/integration.sh 2>&1 | relabel "openblas=$ct"
done
