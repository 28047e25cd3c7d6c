#!/usr/bin/env bash
# The live page of `embvsattn serve` as a PNG for the README (docs/serve-page.png): the server started on a free
# port, the README's sentence typed into its text box, a token selected, a neighbour clicked and an analogy asked,
# photographed in Debian's Chromium by tests/browser/serve-shot.js (the browser tier's playwright-core;
# scripts/setup-tests.sh installs chromium and the npm package), then, when optipng or pngquant is there, made
# smaller. Real output: nothing is edited.
#   EMBVSATTN  the binary (default ./embvsattn; its default vectors, the fetched GloVe);  OUT  the PNG (default
#   docs/serve-page.png)
set -eu
. "$(dirname "$0")/screenshot-env.sh"
bin="${EMBVSATTN:-./embvsattn}"
out="${OUT:-docs/serve-page.png}"
NODE_PATH="$PWD/tests/browser/node_modules" node tests/browser/serve-shot.js "$bin" "$tmp/page.png" \
    "the bank raised interest rates" 1
png_finish "$tmp/page.png" "$out"
