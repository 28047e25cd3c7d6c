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

# A fastText model converted to a cache keeps its n-grams: numpy reads them as gensim's, and words outside the
# vocabulary get the same vectors (and the main view's status subword) from the cache as from the model.
ft=tests/fixtures/fasttext/tiny.bin
oov=(xyzzy cafés Zürichs 東京タワー naïveté castles)
if "$bin" convert "$ft" "$tmp/ft.safetensors" 2>"$tmp/err"; then
    /usr/bin/python3 tests/read_cache_fasttext.py "$bin" "$tmp/ft.safetensors" "$ft" "${oov[@]}" >"$tmp/py" 2>&1
    rc=$?
    grep -E '^(PASS|FAIL) ' "$tmp/py"
    if [ "$rc" != 0 ] && ! grep -q '^FAIL ' "$tmp/py"; then
        echo "FAIL interop fasttext-cache-read: exit $rc: $(tail -3 "$tmp/py" | tr '\n' ' ')"
    fi
    "$bin" --vectors "$ft" --format json vector king "${oov[@]}" >"$tmp/bin.json" 2>/dev/null
    "$bin" --vectors "$tmp/ft.safetensors" --format json vector king "${oov[@]}" >"$tmp/cache.json" 2>/dev/null
    if [ -s "$tmp/bin.json" ] && cmp -s "$tmp/bin.json" "$tmp/cache.json"; then
        echo "PASS interop fasttext-cache-same-output"
    else
        echo "FAIL interop fasttext-cache-same-output: vector from the cache differs from the model's"
    fi
    if "$bin" --vectors "$tmp/ft.safetensors" --head identity --format json -k 1 'the xyzzy king' 2>/dev/null |
        grep -qF '"text":"xyzzy","span":[4,9],"status":"subword"'; then
        echo "PASS interop fasttext-cache-view-subword"
    else
        echo "FAIL interop fasttext-cache-view-subword: the main view on the cache does not mark xyzzy subword"
    fi
else
    echo "FAIL interop fasttext-convert: $(cat "$tmp/err")"
fi
