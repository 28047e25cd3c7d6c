#!/usr/bin/env bash
# The movement map of the two bank sentences as a PNG for the README (docs/movement-map-bank.png): compare's
# `--format svg --map` of the shared word bank, photographed in Debian's Chromium by tests/browser/shot.js (the
# browser tier's playwright-core; scripts/setup-tests.sh installs chromium and the npm package), then, when
# optipng or pngquant is there, made smaller.
#   EMBVSATTN  the binary (default ./embvsattn);  OUT  the PNG (default docs/movement-map-bank.png)
set -eu
export LC_ALL=C
cd "$(dirname "$0")/.."
bin="${EMBVSATTN:-./embvsattn}"
out="${OUT:-docs/movement-map-bank.png}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" --format svg --map -o "$tmp/map.svg" compare --word bank \
    "he fished from the bank of the river" "the bank raised interest rates"
if [ ! -d tests/browser/node_modules/playwright-core ]; then
    (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi
node tests/browser/shot.js "$tmp/map.svg" "$tmp/map.png"
if command -v pngquant >/dev/null 2>&1; then
    pngquant --force --quality 70-95 --output "$tmp/q.png" "$tmp/map.png" && mv "$tmp/q.png" "$tmp/map.png"
elif command -v optipng >/dev/null 2>&1; then
    optipng -quiet -o2 "$tmp/map.png"
fi
mv "$tmp/map.png" "$out"
echo "$out: $(wc -c <"$out") bytes"
