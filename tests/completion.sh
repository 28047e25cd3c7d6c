#!/usr/bin/env bash
# Bash completion (completions/embvsattn.bash), sourced and asked to complete command lines split as bash splits
# them. Its lists are checked against the binary's help: every command of `embvsattn --help`, and for each command
# exactly the options `embvsattn COMMAND --help` lists, with the same ones taking a value. Then the values it offers:
# head names, formats, eval's kinds, file names.
#   EMBVSATTN  the binary under test (default ./embvsattn)
# Prints one PASS/FAIL line per check.
set -u
export LC_ALL=C
cd "$(dirname "$0")/.."
bin="${EMBVSATTN:-./embvsattn}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=../completions/embvsattn.bash
source completions/embvsattn.bash

pass() { echo "PASS completion $1"; }
fail() { echo "FAIL completion $1"; }

# comp WORD...: the completions bash would offer for the last word, sorted, space-separated
comp() {
    COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1))
    COMP_LINE="$*"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    _embvsattn
    printf '%s\n' ${COMPREPLY[@]+"${COMPREPLY[@]}"} | sort -u | tr '\n' ' ' | sed 's/ $//'
}

# expect NAME WANT WORD...: the completions of WORD... are exactly WANT (space-separated, sorted)
expect() {
    local name=$1 want=$2 got
    shift 2
    got=$(comp "$@")
    if [ "$got" = "$want" ]; then pass "$name: '$*' -> $got"; else fail "$name: '$*' -> '$got', expected '$want'"; fi
}

sorted() { tr ' ' '\n' | grep -v '^$' | sort -u | tr '\n' ' ' | sed 's/ $//'; }

# the binary's view: its commands, and per command the options its help lists (NAME or NAME ARG)
commands=$("$bin" --help | sed -n '/^commands:/,/^$/p' | awk '/^  [a-z]/ { print $1 }' | sorted)
if [ -z "$commands" ]; then
    fail "setup: no commands in '$bin --help'"
    exit 0
fi
# help_options COMMAND: one line per option form, "NAME" or "NAME ARG" (the column before the description)
help_options() {
    "$bin" "$1" --help | awk -F'  +' '/^  -/ { print $2 }' | while read -r form; do
        set -- ${form//,/}
        local last=${!#}
        for w in "$@"; do
            [[ $w == -* ]] || continue
            if [[ $last == -* ]]; then echo "$w"; else echo "$w $last"; fi
        done
    done
}

expect commands "$commands" embvsattn ''
expect command-prefix "neighbors" embvsattn nei
for c in $commands neighbours; do
    help=$(help_options "$c")
    want=$(echo "$help" | awk '{ print $1 }' | sorted)
    expect "options-$c" "$want" embvsattn "$c" -
    bad=""
    while read -r name arg; do
        valued=0
        [[ " ${_embvsattn_valued//$'\n'/ } " == *" $name "* ]] && valued=1
        if [ -n "$arg" ] && [ $valued = 0 ]; then bad="$bad $name(takes $arg)"; fi
        if [ -z "$arg" ] && [ $valued = 1 ]; then bad="$bad $name(a flag)"; fi
    done <<<"$help"
    if [ -z "$bad" ]; then pass "values-$c: the options that take a value are those the help shows with one"; else
        fail "values-$c: _embvsattn_valued disagrees with '$c --help' on:$bad"; fi
done

# before the command word, any option (every one the global help names); after a sentence's first word, the main
# view's own (not compare's --word)
main=$(comp embvsattn -)
missing=""
for o in $("$bin" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
    [[ " $main " == *" $o "* ]] || missing="$missing $o"
done
if [ -z "$missing" ]; then pass "before-command: every option of --help is offered before a command"; else
    fail "before-command: not offered:$missing"; fi
sentence=$(comp embvsattn king -)
if [[ " $sentence " == *" --batch "* && " $sentence " == *" --head "* && " $sentence " != *" --word "* ]]; then
    pass "sentence-options: after a sentence word, the main view's options (--batch, --head, not --word)"
else fail "sentence-options: '$sentence'"; fi

# values
expect format "html json svg text tsv" embvsattn --format ''
expect format-equals "html json svg text tsv" embvsattn --format = ''
expect vector-format "cache fasttext-bin glove word2vec word2vec-binary" embvsattn neighbors --vector-format ''
expect to-format "cache glove word2vec word2vec-binary" embvsattn convert --to ''
expect method "add mul" embvsattn analogy --method ''
expect positions "none sinusoidal" embvsattn --positions ''
expect number "" embvsattn neighbors -k ''
expect option-prefix "--epochs" embvsattn train --ep
expect eval-kinds "analogies head pairs senses" embvsattn eval ''
expect after-value "analogies head pairs senses" embvsattn --restrict 300 eval ''
mkdir -p "$tmp/files/sub"
: >"$tmp/files/my.head.safetensors"
: >"$tmp/files/notes.txt"
(
    cd "$tmp/files" || exit 1
    expect head-names "context identity mlm my.head.safetensors random random: sub" embvsattn --head ''
    expect head-prefix "random random:" embvsattn compare --head ra
    expect vectors-files "my.head.safetensors notes.txt sub" embvsattn --vectors ''
    expect eval-head "context mlm my.head.safetensors sub" embvsattn eval head ''
    expect eval-file "my.head.safetensors notes.txt sub" embvsattn eval pairs ''
)
