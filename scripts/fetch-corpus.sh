#!/usr/bin/env bash
# fetch-corpus.sh — the corpora of the trained attention head (embvsattn train / eval head), written to the data
# directory ${EMBVSATTN_DATA:-${XDG_CACHE_HOME:-$HOME/.cache}/embvsattn} (never into the repository):
#
#   wordnet-train.txt     WordNet 3.0 glosses and quoted examples (Debian wordnet-base, installed when missing):
#   wordnet-heldout.txt   the text after " | " of every synset in data.{noun,verb,adj,adv}, split on "; ",
#                         quotes removed, whitespace collapsed, 4–40 words, duplicates dropped (first kept).
#                         Held out: a sentence whose MD5 (of its UTF-8 bytes) is 0 mod 20 (≈ 5 %), so the split
#                         depends on the text alone and a sentence is never on both sides.
#   licenses.txt          a corpus of a different kind for the out-of-domain evaluation: the licence texts in
#                         /usr/share/common-licenses (Debian base-files, essential: always installed), every
#                         regular file in C-locale name order (symlinks skipped), paragraphs joined, split into
#                         sentences after . ; : ? ! followed by a space, 4–40 words, duplicates dropped.
#   fortunes.txt          a larger corpus of another kind (quotations, aphorisms, jokes, dialogue): the fortune
#                         cookies of Debian's fortunes package (installed when missing), /usr/share/games/fortunes/*
#                         except ascii-art and definitions (joke glosses), C-locale name order, symlinks skipped;
#                         attribution lines ("-- Author") dropped, each fortune joined and split into sentences as
#                         the licences, 4–40 words, duplicates dropped.
#   corpus.sha256         checksums of the files (the split is deterministic: same packages, same files)
#
# One sentence per line, UTF-8. Idempotent: re-running rewrites the files with identical bytes.
#   --help   this text
set -euo pipefail
prog=fetch-corpus
py=/usr/bin/python3
case "${1:-}" in
-h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
"") ;;
*) echo "$prog: unknown argument '$1' (try --help)" >&2; exit 2 ;;
esac
die() { echo "$prog: $*" >&2; exit 1; }

repo=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
dest=${EMBVSATTN_DATA:-${XDG_CACHE_HOME:-${HOME:?}/.cache}/embvsattn}
probe=$dest
while [[ ! -e $probe ]]; do probe=$(dirname -- "$probe"); done
probe=$(cd -- "$probe" && pwd -P)
case $probe/ in "$repo"/*) die "refusing to write corpora into the repository ($dest): set EMBVSATTN_DATA elsewhere" ;; esac
mkdir -p -- "$dest"

wn=/usr/share/wordnet
if [[ ! -f $wn/data.noun ]]; then
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo=sudo
    echo "$prog: installing Debian wordnet-base" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends wordnet-base >/dev/null
fi
[[ -f $wn/data.noun ]] || die "$wn/data.noun missing after installing wordnet-base"
fortunes=/usr/share/games/fortunes
if [[ ! -f $fortunes/people ]]; then
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo=sudo
    echo "$prog: installing Debian fortunes" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends fortunes >/dev/null
fi
[[ -f $fortunes/people ]] || die "$fortunes/people missing after installing fortunes"
[[ -d /usr/share/common-licenses ]] || die "/usr/share/common-licenses missing (Debian base-files)"

tmp=$(mktemp -d "$dest/.fetch-corpus.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
LC_ALL=C "$py" - "$wn" /usr/share/common-licenses "$fortunes" "$tmp" <<'PY'
import hashlib, os, re, sys

wn, lic, fort, out = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
MIN_WORDS, MAX_WORDS = 4, 40

def clean(s):
    s = " ".join(s.split())
    if len(s) >= 2 and s[0] == '"' and s[-1] == '"':
        s = s[1:-1].strip()
    return s.replace('"', "").strip()

def keep(s):
    return MIN_WORDS <= len(s.split()) <= MAX_WORDS

def held_out(s):
    return int(hashlib.md5(s.encode("utf-8")).hexdigest(), 16) % 20 == 0

seen, train, test = set(), [], []
for pos in ("noun", "verb", "adj", "adv"):
    with open(os.path.join(wn, "data." + pos), encoding="utf-8") as f:
        for line in f:
            if line.startswith("  ") or " | " not in line:  # licence header, or no gloss
                continue
            for part in line.split(" | ", 1)[1].split("; "):
                s = clean(part)
                if not keep(s) or s in seen:
                    continue
                seen.add(s)
                (test if held_out(s) else train).append(s)

sents, seen = [], set()
for name in sorted(os.listdir(lic)):
    p = os.path.join(lic, name)
    if os.path.islink(p) or not os.path.isfile(p):
        continue
    with open(p, encoding="utf-8", errors="strict") as f:
        text = f.read()
    for para in re.split(r"\n\s*\n", text):
        para = " ".join(para.split())
        for s in re.split(r"(?<=[.;:?!])\s+", para):
            s = s.strip()
            if keep(s) and s not in seen:
                seen.add(s)
                sents.append(s)

fsents, seen = [], set()
for name in sorted(os.listdir(fort)):
    p = os.path.join(fort, name)
    if "." in name or name in ("ascii-art", "definitions") or os.path.islink(p) or not os.path.isfile(p):
        continue
    with open(p, encoding="utf-8", errors="replace") as f:
        text = f.read()
    for cookie in text.split("\n%\n"):
        body = " ".join(l.strip() for l in cookie.split("\n") if not l.strip().startswith("--"))
        for s in re.split(r"(?<=[.;:?!])\s+", " ".join(body.split())):
            s = s.strip()
            if keep(s) and s not in seen:
                seen.add(s)
                fsents.append(s)

for fname, lines in (("wordnet-train.txt", train), ("wordnet-heldout.txt", test), ("licenses.txt", sents),
                     ("fortunes.txt", fsents)):
    with open(os.path.join(out, fname), "w", encoding="utf-8", newline="\n") as f:
        for s in lines:
            f.write(s + "\n")
    words = sum(len(s.split()) for s in lines)
    print(f"{fname}: {len(lines)} sentences, {words} words", file=sys.stderr)
PY
(cd "$tmp" && sha256sum wordnet-train.txt wordnet-heldout.txt licenses.txt fortunes.txt >corpus.sha256)
for f in wordnet-train.txt wordnet-heldout.txt licenses.txt fortunes.txt corpus.sha256; do
    chmod 644 "$tmp/$f"
    mv -f -- "$tmp/$f" "$dest/$f"
done
echo "$prog: corpora in $dest" >&2
