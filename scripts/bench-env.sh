# bench-env.sh — what every scripts/bench-*.sh section starts with, sourced (not run): the repository as the working
# directory, LC_ALL=C, and the environment scripts/bench.sh passes (or its defaults when a section runs alone):
#   bin   the binary (default ./embvsattn)         data  the vectors' directory (default ~/.cache/embvsattn)
#   py    python3 with gensim, numpy and torch      tmp   scratch (a new directory, removed at exit, when unset)
# and the vector files of that directory: txt (GloVe text), cache (embvsattn's), kv (gensim's, made by section 2).
# A section that needs its own exit trap calls bench_cleanup_tmp from it.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export LC_ALL=C
bin="${bin:-$PWD/embvsattn}"
data="${data:-${EMBVSATTN_DATA:-${XDG_CACHE_HOME:-$HOME/.cache}/embvsattn}}"
py="${py:-/usr/bin/python3}"
bench_own_tmp=0
if [ -z "${tmp:-}" ]; then
    tmp=$(mktemp -d)
    bench_own_tmp=1
fi
bench_cleanup_tmp() { [ "$bench_own_tmp" = 0 ] || rm -rf "$tmp"; }
trap bench_cleanup_tmp EXIT
txt="$data/glove.6B.100d.txt" cache="$data/glove.6B.100d.safetensors" kv="$data/glove.6B.100d.kv"
