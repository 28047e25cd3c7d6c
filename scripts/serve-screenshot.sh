#!/usr/bin/env bash
# The live page of `embvsattn serve` as a PNG for the README (docs/serve-page.png): the server started on a free
# port, the README's sentence typed into its text box, a token selected, a neighbour clicked and an analogy asked,
# photographed in Debian's Chromium by tests/browser/serve-shot.js (the browser tier's playwright-core;
# scripts/setup-tests.sh installs chromium and the npm package), then, when optipng or pngquant is there, made
# smaller. Real output: nothing is edited.
#   EMBVSATTN  the binary (default ./embvsattn; its default vectors, the fetched GloVe);  OUT  the PNG (default
#   docs/serve-page.png)
set -eu
export LC_ALL=C
cd "$(dirname "$0")/.."
bin="${EMBVSATTN:-./embvsattn}"
out="${OUT:-docs/serve-page.png}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ ! -d tests/browser/node_modules/playwright-core ]; then
    (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi
NODE_PATH="$PWD/tests/browser/node_modules" node tests/browser/serve-shot.js "$bin" "$tmp/page.png" \
    "the bank raised interest rates" 1
if command -v pngquant >/dev/null 2>&1; then
    pngquant --force --quality 70-95 --output "$tmp/q.png" "$tmp/page.png" && mv "$tmp/q.png" "$tmp/page.png"
elif command -v optipng >/dev/null 2>&1; then
    optipng -quiet -o2 "$tmp/page.png"
fi
mv "$tmp/page.png" "$out"
echo "$out: $(wc -c <"$out") bytes"
