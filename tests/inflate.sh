#!/usr/bin/env bash
# The two inflaters (input.h): the gzip and zip cases of the CLI and bad-input tiers again under each,
# EMBVSATTN_INFLATE=zlib and =isal (the other tiers run the default: ISA-L when embvsattn is built with it), and a
# gzip pipe into convert: the same outputs, exit codes and messages from both. Check names get the inflater in
# brackets: "PASS inflate[zlib] cli packed-gz". Without ISA-L in the build, the isal run is one SKIP line.
set -u
export LC_ALL=C
cd "$(dirname "$0")/.."
bin="${EMBVSATTN:-./embvsattn}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
relabel() { sed -u "s/^\(PASS\|FAIL\) \([a-z-]*\) /\1 inflate[$1] \2 /"; }
infs="zlib isal"
if ! EMBVSATTN_INFLATE= "$bin" --version | grep -q '^inflate: .*EMBVSATTN_INFLATE=zlib|isal'; then
    echo "SKIP inflate[isal]: $bin is built without ISA-L (libisal-dev)"
    infs=zlib
fi
tiny=tests/fixtures/tiny.txt
"$bin" convert "$tiny" "$tmp/ref.txt" 2>/dev/null
for inf in $infs; do
    export EMBVSATTN_INFLATE=$inf
    CLI_ONLY='^(packed-|inflate-)' bash tests/cli.sh 2>&1 | relabel "$inf"
    BAD_ONLY='gz|zip' bash tests/bad-inputs.sh 2>&1 | relabel "$inf"
    # through a pipe (no file size, the magic read from the stream), two members as `cat a.gz b.gz` makes them
    half=$(($(wc -l <"$tiny") / 2))
    if { head -n "$half" "$tiny" | gzip -c; tail -n +"$((half + 1))" "$tiny" | gzip -9 -c; } |
        "$bin" convert - "$tmp/pipe-$inf.txt" 2>"$tmp/err" && cmp -s "$tmp/ref.txt" "$tmp/pipe-$inf.txt"; then
        echo "PASS inflate[$inf] convert-stdin-two-members"
    else
        echo "FAIL inflate[$inf] convert-stdin-two-members: $(head -c 300 "$tmp/err")"
    fi
done
