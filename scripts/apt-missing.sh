#!/usr/bin/env bash
# apt-missing.sh PACKAGE... — installs those of the given Debian packages that are not installed yet (apt-get, with
# sudo when not root; the package lists are updated first, only when something is missing). Safe to re-run: with
# everything installed it does nothing. Used by scripts/setup.sh and scripts/setup-tests.sh.
set -euo pipefail
missing=()
for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -gt 0 ] || exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "setup: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
