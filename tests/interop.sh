#!/usr/bin/env bash
# Interop: a cache written by embvsattn is read by numpy alone (safetensors layout) and matches gensim's view of
# the same vectors bit for bit.  Needs Debian's python3-numpy and python3-gensim (installed by scripts/setup-tests.sh).
set -u
cd "$(dirname "$0")/.."
bin="${EMBVSATTN:-./embvsattn}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! /usr/bin/python3 -c 'import numpy, gensim' 2>/dev/null; then
    echo "FAIL interop: python3-numpy/python3-gensim missing (run scripts/setup-tests.sh)"
    exit 0
fi
if "$bin" convert tests/fixtures/gensim/kv.bin "$tmp/kv.safetensors" 2>"$tmp/err"; then
    /usr/bin/python3 tests/read_cache.py "$tmp/kv.safetensors" tests/fixtures/gensim/kv.bin
else
    echo "FAIL interop convert: $(cat "$tmp/err")"
fi
