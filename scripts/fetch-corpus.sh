#!/usr/bin/env bash
# fetch-corpus.sh — the attention heads' training corpora, their evaluation texts and the WordNet sense evaluation,
# written to the data directory ${EMBVSATTN_DATA:-${XDG_CACHE_HOME:-$HOME/.cache}/embvsattn} (never into the
# repository). Debian packages wordnet-base, fortunes and dict-gcide are installed when missing
# (scripts/apt-missing.sh); the GloVe text file of scripts/fetch-vectors.sh must be there (its vocabulary selects the
# senses). The text rules are in scripts/corpus.py (Debian's /usr/bin/python3, standard library only).
#
#   senses.tsv            the sense evaluation (embvsattn eval senses), UTF-8, tab-separated, '#' lines comments;
#                         word by word, its senses then their examples:
#                           G WORD SENSE DEFINITION   (SENSE: WordNet 3.0 synset id, POS letter + offset: n09213565)
#                           E WORD SENSE EXAMPLE      (WordNet's example text, quotes removed, whitespace collapsed)
#                         WORD: a lemma form (^[a-z]{2,}$, in the GloVe vocabulary) of >= 2 synsets whose examples
#                         contain it as a token (exact form); senses whose definition has no word left (the word
#                         itself excluded) dropped; an example shared by two of the word's senses dropped.
#   senses-holdout.txt    every example of senses.tsv, one a line, sorted, unique. Every training corpus below drops
#                         any sentence whose token sequence contains one of theirs (anywhere, any length).
#   wordnet-train.txt     WordNet 3.0 glosses and quoted examples (wordnet-base): the text after " | " of every synset
#   wordnet-heldout.txt   in data.{noun,verb,adj,adv}, split on "; ", quotes removed, whitespace collapsed, 4–40 words,
#                         duplicates dropped (first kept). Held out: a sentence whose MD5 (of its UTF-8 bytes) is
#                         0 mod 20 (≈ 5 %), so the split depends on the text alone. Both drop the sentences that
#                         contain a sense example (the held-out side too, so no evaluation text holds one).
#   gcide-train.txt       the GNU Collaborative International Dictionary of English (dict-gcide's gcide.dict.dz):
#                         definitions and quotations, markup codes to letters, [..] and \..\ spans, headword lines,
#                         citations ("--Shak.") and sense labels removed, split into sentences, 4–40 words,
#                         duplicates dropped; docs/heads.md gives each step.
#   licenses.txt          out-of-domain evaluation: the licence texts in /usr/share/common-licenses (base-files),
#                         every regular file in C-locale name order (symlinks skipped), paragraphs joined, split into
#                         sentences after . ; : ? ! followed by a space, 4–40 words, duplicates dropped.
#   fortunes.txt          out-of-domain evaluation, never training text: the fortune cookies of Debian's fortunes,
#                         /usr/share/games/fortunes/* except ascii-art and definitions, C-locale name order, symlinks
#                         skipped; "-- Author" lines dropped, each fortune joined and split as the licences.
#   corpus.sha256         checksums of the files above
#
# The training corpora (wordnet-train, gcide-train) also drop a sentence whose token sequence equals one of
# wordnet-heldout, licenses or fortunes. One sentence per line, UTF-8. Deterministic and idempotent: the same
# packages and GloVe file give the same bytes; re-running rewrites identical files.
#   --help   this text
set -euo pipefail
prog=fetch-corpus
py=/usr/bin/python3
case "${1:-}" in
-h | --help) sed -n '2,/^[^#]/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
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

wn=/usr/share/wordnet
fortunes=/usr/share/games/fortunes
gcide=/usr/share/dictd/gcide.dict.dz
glove=$dest/glove.6B.100d.txt
[[ -f $glove && -f $glove.verified ]] ||
    die "$glove missing or not verified: run scripts/fetch-vectors.sh first (its vocabulary selects the senses)"
missing=()
[[ -f $wn/data.noun ]] || missing+=(wordnet-base)
[[ -f $fortunes/people ]] || missing+=(fortunes)
[[ -f $gcide ]] || missing+=(dict-gcide)
if [[ ${#missing[@]} -gt 0 ]]; then
    "$repo/scripts/apt-missing.sh" "${missing[@]}" || die "could not install ${missing[*]}"
fi
[[ -f $wn/data.noun ]] || die "$wn/data.noun missing after installing wordnet-base"
[[ -f $fortunes/people ]] || die "$fortunes/people missing after installing fortunes"
[[ -f $gcide ]] || die "$gcide missing after installing dict-gcide"
[[ -d /usr/share/common-licenses ]] || die "/usr/share/common-licenses missing (Debian base-files)"

mkdir -p -- "$dest"
files=(senses.tsv senses-holdout.txt wordnet-train.txt wordnet-heldout.txt gcide-train.txt licenses.txt fortunes.txt)
tmp=$(mktemp -d "$dest/.fetch-corpus.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
LC_ALL=C "$py" "$repo/scripts/corpus.py" "$wn" /usr/share/common-licenses "$fortunes" "$gcide" "$glove" "$tmp"
(cd "$tmp" && sha256sum "${files[@]}" >corpus.sha256)
for f in "${files[@]}" corpus.sha256; do
    chmod 644 "$tmp/$f"
    mv -f -- "$tmp/$f" "$dest/$f"
done
echo "$prog: corpora in $dest" >&2
