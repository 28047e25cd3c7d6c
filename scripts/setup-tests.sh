#!/usr/bin/env bash
# setup-tests.sh — what the tests need on top of scripts/setup.sh, on Debian 12; safe to re-run (with everything
# installed it does nothing). `make check` runs it before the tests.
#   Debian packages (scripts/apt-missing.sh): python3-numpy and python3-gensim (reference results, interop),
#   valgrind (make valgrind), clang with its sanitizer and libFuzzer runtimes (make fuzz, make fuzz-replay),
#   chromium, a font and xmllint (the browser tier), man-db (tests/man.sh), wordnet-base, dict-gcide and fortunes
#   (the heads' corpora, scripts/fetch-corpus.sh), fasttext and GNU parallel; and tests/browser's npm packages (npm
#   ci: playwright-core, which drives /usr/bin/chromium; no browser is downloaded).
#   --bench   also what make bench and make fixtures need: hyperfine, GNU time, python3-torch and wrk (serve)
set -euo pipefail
cd "$(dirname "$0")/.."
bench=0
for a in "$@"; do
    case "$a" in
    --bench) bench=1 ;;
    -h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup-tests: unknown option '$a'" >&2; exit 2 ;;
    esac
done
pkgs=(python3-numpy python3-gensim valgrind clang libclang-rt-14-dev chromium fonts-dejavu-core libxml2-utils
      man-db wordnet-base dict-gcide fortunes fasttext parallel)
[ "$bench" = 0 ] || pkgs+=(hyperfine time python3-torch wrk)
scripts/apt-missing.sh "${pkgs[@]}"
if [ ! -d tests/browser/node_modules/playwright-core ] ||
    [ tests/browser/package-lock.json -nt tests/browser/node_modules/.package-lock.json ]; then
    (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi
