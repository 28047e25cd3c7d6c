#!/usr/bin/env bash
# Browser tier: the HTML page and the SVG heatmap, checked in a real browser (Debian's Chromium, headless, driven
# by playwright-core from tests/browser; no browser is downloaded) against `--format json` of the same input, and
# the SVGs parsed by xmllint. Screenshots go to build/artifacts/ (git-ignored; ARTIFACTS overrides).
#   EMBVSATTN  the binary under test (default ./embvsattn); the vectors are the CLI's default (the fetched GloVe)
#              unless EMBVSATTN_VECTORS says otherwise.
#   CHROMIUM   the browser (default /usr/bin/chromium)
# Prints one PASS/FAIL line per check. scripts/setup-tests.sh installs chromium, libxml2-utils and the npm package.
set -eu
export LC_ALL=C
cd "$(dirname "$0")/.."
bin="${EMBVSATTN:-./embvsattn}"
artifacts="${ARTIFACTS:-build/artifacts}"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL browser $1"; }

# what the tier needs
missing=""
command -v xmllint >/dev/null 2>&1 || missing="$missing xmllint(libxml2-utils)"
command -v node >/dev/null 2>&1 || missing="$missing node"
[ -x "$CHROMIUM" ] || missing="$missing $CHROMIUM(chromium)"
if [ ! -d tests/browser/node_modules/playwright-core ] && command -v npm >/dev/null 2>&1; then
    (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error >"$tmp/npm.log" 2>&1) ||
        { fail "setup: npm ci in tests/browser failed: $(tail -3 "$tmp/npm.log" | tr '\n' ' ')"; exit 0; }
fi
[ -d tests/browser/node_modules/playwright-core ] || missing="$missing playwright-core(npm ci in tests/browser)"
if [ -n "$missing" ]; then
    fail "setup: missing$missing (run scripts/setup-tests.sh)"
    exit 0
fi

# the files under test, from the binary under test: a view, a compare, and a sentence made to break the page
view="France is a country, it is in Europe"
s1="I sat on the bank of the river"
s2="the bank raised interest rates"
evil='the </script><script>alert(1)</script> & "river" '"'bank'"' <!-- ]]> europe'
gen() { # NAME ARGS... : runs the binary, FAIL line on error
    local name=$1
    shift
    if ! "$bin" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"; then
        fail "generate $name: exit $?: $(head -c 300 "$tmp/$name.err")"
        return 1
    fi
}
ok=1
gen view.json --format json --why --steps "$view" && cp "$tmp/view.json.out" "$tmp/view.json" || ok=0
gen view.html -o "$tmp/view.html" "$view" || ok=0 # the format from the extension
gen view.svg --format svg "$view" && cp "$tmp/view.svg.out" "$tmp/view.svg" || ok=0
gen compare.json --format json --why --steps compare "$s1" "$s2" && cp "$tmp/compare.json.out" "$tmp/compare.json" || ok=0
gen compare.html --format html -o "$tmp/compare.html" compare "$s1" "$s2" || ok=0
gen compare.svg -o "$tmp/compare.svg" compare "$s1" "$s2" || ok=0
gen evil.json --format json --why --steps "$evil" && cp "$tmp/evil.json.out" "$tmp/evil.json" || ok=0
gen evil.html --format html "$evil" && cp "$tmp/evil.html.out" "$tmp/evil.html" || ok=0
gen evil.svg --format svg "$evil" && cp "$tmp/evil.svg.out" "$tmp/evil.svg" || ok=0
# under --causal the first token has nothing to attend to (the trained head never attends to a token itself)
alone="the king sat on the throne"
gen alone.json --causal --format json --why --steps "$alone" && cp "$tmp/alone.json.out" "$tmp/alone.json" || ok=0
gen alone.html --causal --format html "$alone" && cp "$tmp/alone.html.out" "$tmp/alone.html" || ok=0
# the meaning/position split as SVG heatmaps (--term): the meaning-only weights and a signed logit term
gen view-meaning.svg --format svg --term meaning "$view" && cp "$tmp/view-meaning.svg.out" "$tmp/view-meaning.svg" || ok=0
gen view-ee.svg --format svg --term ee "$view" && cp "$tmp/view-ee.svg.out" "$tmp/view-ee.svg" || ok=0
# the movement maps as standalone SVGs (--format svg --map)
gen view-map.svg --format svg --map "$view" && cp "$tmp/view-map.svg.out" "$tmp/view-map.svg" || ok=0
gen compare-map.svg --map -o "$tmp/compare-map.svg" compare "$s1" "$s2" || ok=0
# one sentence under two heads (the identity and a random one): a step panel each (tests/browser/steps.js)
gen heads.html --format html --heads identity,random:3 "$view" && cp "$tmp/heads.html.out" "$tmp/heads.html" || ok=0
[ "$ok" = 1 ] || exit 0

# the SVGs are well-formed XML; the page is self-contained (no src/href to anything but itself)
for f in view.svg compare.svg evil.svg view-meaning.svg view-ee.svg view-map.svg compare-map.svg; do
    if out=$(xmllint --noout "$tmp/$f" 2>&1); then echo "PASS browser xmllint $f"; else
        fail "xmllint $f: $(echo "$out" | head -3 | tr '\n' ' ')"; fi
done
# the picture is as wide as its heatmaps and legends (at least 420 px), not as its caption's longest line (the
# head's description made it 1,370 px): the caption wraps. The figure's right edge: the last legend's tick labels.
for f in view.svg compare.svg; do
    width=$(xmllint --xpath 'string(/*[local-name()="svg"]/@width)' "$tmp/$f" 2>/dev/null)
    edge=$(xmllint --xpath '//*[local-name()="g"][@class="legend"][last()]/*[local-name()="text"][last()]/@x' \
        "$tmp/$f" 2>/dev/null | grep -oE '[0-9.]+' | sort -n | tail -1)
    if [ -n "$width" ] && [ -n "$edge" ] && awk -v w="$width" -v e="$edge" 'BEGIN { exit !(w >= 420 && w <= e + 80) }'
    then echo "PASS browser svg-width $f: $width px, the figure's (its legend's labels start at $edge px)"
    else fail "svg-width $f: width '$width' px, the legend's labels at '$edge' px: wider than the figure"; fi
done
hits=$(grep -Eoh '(src|href)="[^"#][^"]*"|url\([^#][^)]*\)|@import|https?://[^" <]*' "$tmp/view.html" \
    "$tmp/compare.html" | grep -v '^http://www.w3.org/2000/svg' | head -3 | tr '\n' ' ' || true)
if [ -n "$hits" ]; then fail "self-contained: $hits"; else
    echo "PASS browser self-contained: no external src, href, url() or @import in the pages"; fi

# the page's script is plain JavaScript that parses on its own (src/assets/page.js, built into the page verbatim)
if out=$(node --check src/assets/page.js 2>&1); then echo "PASS browser page.js: node --check parses it"; else
    fail "page.js: node --check: $(echo "$out" | head -3 | tr '\n' ' ')"; fi

mkdir -p "$artifacts"
cp "$tmp/view.html" "$tmp/compare.html" "$tmp/view.svg" "$tmp/compare.svg" "$tmp/view-meaning.svg" "$tmp/view-ee.svg" "$artifacts/" 2>/dev/null || true
# test.js prints a FAIL line for each failed check and exits 1; a run that ends before any check (node too old for
# playwright-core, a module missing) prints none, so its exit status becomes one FAIL instead of no line at all.
out=$(NODE_PATH="$PWD/tests/browser/node_modules" node tests/browser/test.js "$tmp" "$artifacts" 2>&1) && rc=0 || rc=$?
printf '%s\n' "$out"
if [ "$rc" -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^FAIL browser'; then
    fail "test.js exited with status $rc before any check: $(printf '%s\n' "$out" | tail -3 | tr '\n' ' ')"
fi
# the movement map (tests/browser/map.js), the same way
out=$(NODE_PATH="$PWD/tests/browser/node_modules" node tests/browser/map.js "$tmp" "$artifacts" 2>&1) && rc=0 || rc=$?
printf '%s\n' "$out"
if [ "$rc" -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^FAIL browser'; then
    fail "map.js exited with status $rc before any check: $(printf '%s\n' "$out" | tail -3 | tr '\n' ' ')"
fi
# the step panel (tests/browser/steps.js), the same way
out=$(NODE_PATH="$PWD/tests/browser/node_modules" node tests/browser/steps.js "$tmp" "$artifacts" 2>&1) && rc=0 || rc=$?
printf '%s\n' "$out"
if [ "$rc" -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^FAIL browser'; then
    fail "steps.js exited with status $rc before any check: $(printf '%s\n' "$out" | tail -3 | tr '\n' ' ')"
fi
# the live app (tests/browser/live.js): `embvsattn serve` on a free port, its page driven against its own API
out=$(NODE_PATH="$PWD/tests/browser/node_modules" node tests/browser/live.js "$bin" "$artifacts" 2>&1) && rc=0 || rc=$?
printf '%s\n' "$out"
if [ "$rc" -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^FAIL browser'; then
    fail "live.js exited with status $rc before any check: $(printf '%s\n' "$out" | tail -3 | tr '\n' ' ')"
fi
