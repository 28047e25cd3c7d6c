#!/usr/bin/env bash
# Set-up for a fresh Debian 12 machine, safe to re-run: installs the Debian packages that are missing (with sudo
# when not root), builds ./embvsattn, and fetches + converts the GloVe 6B 100d vectors (scripts/fetch-vectors.sh).
#   --no-fetch   stop after building
set -euo pipefail
cd "$(dirname "$0")/.."
fetch=1
for a in "$@"; do
    case "$a" in
    --no-fetch) fetch=0 ;;
    -h | --help) sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup: unknown option '$a'" >&2; exit 2 ;;
    esac
done
# build: compiler, pkg-config, OpenBLAS, cJSON; vectors: npm, python3; tests and benchmark: numpy, gensim,
# hyperfine, GNU time (peak memory), valgrind (make valgrind), clang and its sanitizer/libFuzzer runtimes (make fuzz,
# make fuzz-replay); browser tests (tests/browser.sh): Chromium, a font, xmllint, and
# playwright-core from npm (tests/browser/package-lock.json; it drives /usr/bin/chromium, no browser download).
pkgs=(build-essential pkg-config libopenblas-dev libcjson-dev python3 python3-numpy python3-gensim hyperfine time
      valgrind clang libclang-rt-14-dev chromium fonts-dejavu-core libxml2-utils)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    echo "setup: installing ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ ! -d tests/browser/node_modules/playwright-core ] ||
    [ tests/browser/package-lock.json -nt tests/browser/node_modules/.package-lock.json ]; then
    (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi
make -s
if [ "$fetch" = 1 ]; then
    scripts/fetch-vectors.sh
fi
