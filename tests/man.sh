#!/usr/bin/env bash
# The manual page (man/embvsattn.1, written by hand): man reads it without a warning, its version is the binary's,
# and every command and option the binary knows has an entry of its own (a .TP heading), so that the page cannot
# drift from the command and option tables: the commands of `embvsattn --help`, the options of each
# `embvsattn COMMAND --help` and every option the global help names.
#   EMBVSATTN  the binary under test (default ./embvsattn)
# Prints one PASS/FAIL line per check.
set -u
export LC_ALL=C
cd "$(dirname "$0")/.."
bin="${EMBVSATTN:-./embvsattn}"
page=man/embvsattn.1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pass() { echo "PASS man $1"; }
fail() { echo "FAIL man $1"; }

# man --warnings (groff's -ww: every warning) prints nothing on stderr and exits 0
if command -v man >/dev/null 2>&1; then
    lint=(man --warnings -l "$page")
elif command -v groff >/dev/null 2>&1; then
    lint=(groff -ww -man -Tutf8 -z "$page")
else
    fail "lint: neither man (man-db) nor groff is installed (scripts/setup-tests.sh installs man-db)"
    lint=()
fi
if [ ${#lint[@]} -gt 0 ]; then
    if "${lint[@]}" >/dev/null 2>"$tmp/warn" && [ ! -s "$tmp/warn" ]; then pass "lint: ${lint[*]}: no warnings"
    else fail "lint: ${lint[*]}: $(head -3 "$tmp/warn" | tr '\n' ' ')"; fi
fi

version=$("$bin" --version | awk 'NR == 1 { print $2 }')
th=$(grep -m1 '^\.TH ' "$page")
if [[ $th == *"\"embvsattn $version\""* ]]; then pass "version: .TH says embvsattn $version, as --version"
else fail "version: '$th' does not name embvsattn $version (--version)"; fi

# the entries: the line after each .TP, roff's \- as -, quotes and font escapes dropped
awk 'prev == ".TP" { print } { prev = $0 }' "$page" | sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/"//g' >"$tmp/entries"
has_entry() { grep -qE -- "(^|[ ,])$1([ ,]|$)" "$tmp/entries"; }

commands=$("$bin" --help | sed -n '/^commands:/,/^$/p' | awk '/^  [a-z]/ { print $1 }')
missing=""
for c in $commands; do has_entry "$c" || missing="$missing $c"; done
if [ -z "$commands" ]; then fail "commands: none found in '$bin --help'"
elif [ -z "$missing" ]; then pass "commands: each of the $(echo $commands | wc -w) commands has an entry"
else fail "commands: no entry for:$missing"; fi

options=$({
    for c in $commands; do "$bin" "$c" --help | awk -F'  +' '/^  -/ { print $2 }' | tr ', ' '\n\n' | grep '^-'; done
    "$bin" --help | grep -oE -- '(^|[ (])(--[a-z][a-z-]*|-[a-z])([ ,;)]|$)' | tr -d ' (,;)'
} | sort -u)
missing=""
for o in $options; do has_entry "$o" || missing="$missing $o"; done
if [ -z "$missing" ]; then pass "options: each of the $(echo $options | wc -w) options has an entry"
else fail "options: no entry for:$missing"; fi

# the exit codes the help lists are the page's
codes=$("$bin" --help | sed -n '/^exit codes/,/^$/p' | grep -oE '(^ *|[;:] )[0-9]( |$)' | tr -dc '0-9\n' | sort -u | tr '\n' ' ')
page_codes=$(awk 'prev == ".TP" && /^\.B [0-9]$/ { print $2 } { prev = $0 }' "$page" | sort -u | tr '\n' ' ')
if [ -n "$codes" ] && [ "$codes" = "$page_codes" ]; then pass "exit-codes: $codes"
else fail "exit-codes: --help lists '$codes', the page '$page_codes'"; fi

# make install puts the page and the bash completion where man and bash-completion look
if out=$(make -s install BUILD="${BUILD:-build}" DESTDIR="$tmp/inst" PREFIX=/usr/local 2>&1) &&
    cmp -s "$page" "$tmp/inst/usr/local/share/man/man1/embvsattn.1" &&
    cmp -s completions/embvsattn.bash "$tmp/inst/usr/local/share/bash-completion/completions/embvsattn" &&
    [ -x "$tmp/inst/usr/local/bin/embvsattn" ]; then
    pass "install: bin/embvsattn, share/man/man1/embvsattn.1, share/bash-completion/completions/embvsattn"
else fail "install: make install DESTDIR=...: $(echo "$out" | tail -3 | tr '\n' ' ')"; fi
