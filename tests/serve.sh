#!/usr/bin/env bash
# The serve tier (tests/serve.py): `embvsattn serve` on a free port against the real GloVe cache — its API equals
# the CLI's --format json byte for byte, the bad-request corpus tests/serve-bad/ is answered with a 4xx or closed
# (the server still answering afterwards), / is the page with the API's meta tag, SIGTERM stops it with exit 0.
# One PASS/FAIL line per check; missing vectors are a FAIL. Runs under `make asan` too (the server's request
# handling under ASan + UBSan, its leaks checked at the clean exit).
set -u
export LC_ALL=C
cd "$(dirname "$0")/.."
bin="${EMBVSATTN:-./embvsattn}"
data="${EMBVSATTN_DATA:-${XDG_CACHE_HOME:-$HOME/.cache}/embvsattn}"
cache="$data/glove.6B.100d.safetensors"
if [ ! -f "$cache" ]; then
    echo "FAIL serve vectors-present: $cache missing (run scripts/fetch-vectors.sh)"
    exit 0
fi
timeout 300 /usr/bin/python3 tests/serve.py "$bin" "$cache" || echo "FAIL serve driver: tests/serve.py exited $?"
