#!/usr/bin/env bash
# The movement map of the two bank sentences as a PNG for the README (docs/movement-map-bank.png): compare's
# `--format svg --map` of the shared word bank, photographed in Debian's Chromium by tests/browser/shot.js (the
# browser tier's playwright-core; scripts/setup-tests.sh installs chromium and the npm package), then, when
# optipng or pngquant is there, made smaller.
#   EMBVSATTN  the binary (default ./embvsattn);  OUT  the PNG (default docs/movement-map-bank.png)
set -eu
. "$(dirname "$0")/screenshot-env.sh"
bin="${EMBVSATTN:-./embvsattn}"
out="${OUT:-docs/movement-map-bank.png}"
"$bin" --format svg --map -o "$tmp/map.svg" compare --word bank \
    "he fished from the bank of the river" "the bank raised interest rates"
node tests/browser/shot.js "$tmp/map.svg" "$tmp/map.png"
png_finish "$tmp/map.png" "$out"
