"""corpus.py — the text extraction of scripts/fetch-corpus.sh: training corpora, evaluation texts and the WordNet
sense evaluation, from Debian's data files, into a directory. Debian's /usr/bin/python3, standard library only.

Usage: /usr/bin/python3 scripts/corpus.py WORDNET_DIR LICENSES_DIR FORTUNES_DIR GCIDE_DICT_DZ GLOVE_TXT OUTDIR

fetch-corpus.sh (which installs the packages, checks the inputs and moves the files into the data directory) and its
--help describe every file and rule; docs/heads.md ("Training and evaluation data") gives them in prose. This file
holds the code because it is too long for a here-document: the shell script keeps the packages, the paths and the
atomic install, this file the text rules, each in one function.

Deterministic: no randomness, no set or dict order reaches an output (dicts keep insertion order, outputs are in
file order or sorted by code point), the same packages and GloVe file give the same bytes. Fortunes are read only
to keep their sentences out of the training corpora, never as training text.
"""
import gzip
import hashlib
import os
import re
import sys
from collections import defaultdict

MIN_WORDS, MAX_WORDS = 4, 40
SPLIT = re.compile(r"(?<=[.;:?!])\s+")  # sentence ends: . ; : ? ! followed by whitespace

# Selection tokenizer (lower-cased, PTB-like as GloVe 6B: don't -> do n't, it's -> it 's; hyphenated words whole,
# numbers whole, any other non-space character its own token). It decides which examples the sense file keeps and
# which sentences the hold-out drops; embvsattn tokenizes the texts itself.
TOKRE = re.compile(r"[a-z]+(?=n't\b)|n't|'[a-z]+|[a-z]+(?:-[a-z]+)*|[0-9]+(?:[.,][0-9]+)*|[^\sa-z0-9]")


def tokens(s):
    """All tokens of s, lower-cased, in or out of any vocabulary."""
    return TOKRE.findall(s.lower())


def keep(s):
    return MIN_WORDS <= len(s.split()) <= MAX_WORDS


def split_sentences(passages):
    """The sentences of each passage (paragraph, fortune, ...): whitespace collapsed, split after . ; : ? ! + space."""
    for p in passages:
        yield from SPLIT.split(" ".join(p.split()))


def unique(sents):
    """sents with whitespace collapsed, those of 4-40 words, duplicates dropped (first kept)."""
    seen = set()
    for s in sents:
        s = " ".join(s.split())
        if keep(s) and s not in seen:
            seen.add(s)
            yield s


def say(msg):
    print(msg, file=sys.stderr)


# ---- WordNet -------------------------------------------------------------------------------------------------------

def wordnet_synsets(wn):
    """(synset id, lemma words, text after " | ") of every synset of data.{noun,verb,adj,adv}, in file order. The id is
    the POS letter (satellite s -> a) and the 8-digit offset, e.g. n09213565."""
    out = []
    for pos in ("noun", "verb", "adj", "adv"):
        with open(os.path.join(wn, "data." + pos), encoding="utf-8") as f:
            for line in f:
                if line.startswith("  ") or " | " not in line:  # licence header, or no gloss
                    continue
                head, gloss = line.rstrip("\n").split(" | ", 1)
                fld = head.split(" ")
                n = int(fld[3], 16)
                out.append((fld[2].replace("s", "a") + fld[0], [fld[4 + 2 * k] for k in range(n)], gloss))
    return out


def wordnet_sentences(synsets):
    """The glosses and examples as sentences: each gloss split on "; ", quotes removed, whitespace collapsed, 4-40
    words, duplicates dropped (first kept); split by MD5 (0 mod 20: held out). Returns (train, heldout)."""
    def clean(s):
        s = " ".join(s.split())
        if len(s) >= 2 and s[0] == '"' and s[-1] == '"':
            s = s[1:-1].strip()
        return s.replace('"', "").strip()

    seen, train, test = set(), [], []
    for _, _, gloss in synsets:
        for part in gloss.split("; "):
            s = clean(part)
            if not keep(s) or s in seen:
                continue
            seen.add(s)
            (test if int(hashlib.md5(s.encode("utf-8")).hexdigest(), 16) % 20 == 0 else train).append(s)
    return train, test


def glove_vocabulary(path):
    """The words of a GloVe text file (first field of each line)."""
    vocab = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            vocab.add(line.split(" ", 1)[0])
    if not vocab:
        sys.exit(f"corpus.py: {path}: no word found (expected GloVe text: 'word v1 ... vN' per line)")
    return vocab


SENSE_ID = re.compile(r"[nvar][0-9]{8}")


def field_ok(sid, text):
    """Whether a sense id and a text can be written as fields. Whitespace is collapsed before, so no tab or line break
    is expected; a record that still had one (or an empty text, or a malformed id) is dropped and counted."""
    return bool(SENSE_ID.fullmatch(sid)) and bool(text) and not re.search(r"[\t\n\r]", text)


def senses(synsets, vocab):
    """The sense evaluation: [(word, [(sense, definition)], [(sense, example)])] in word order (code point), senses in
    synset (file) order, examples in synset then WordNet order; and the number of records dropped for a tab/newline.

    A synset's text after " | " gives its examples (every "..." span, whitespace collapsed) and its definition (the
    rest, quoted spans removed, whitespace collapsed, "; " joins trimmed). Lemma forms: the synset's words lower-cased,
    adjective markers (a) (p) (ip) removed, only ^[a-z]{2,}$ in the GloVe vocabulary. A (word, synset) is a sense
    with examples when one of its examples has the word as a token (in-vocabulary tokens, exact form); a word needs
    >= 2 such senses (parts of speech pooled). Candidates = those senses whose definition has a token that starts with
    a letter, is in the vocabulary and is not the word (>= 2 left, else the word is dropped). An example of two or
    more of the word's candidates is dropped (ambiguous); an example listed twice under one synset is written once; a
    word left without examples is not written."""
    syn = {}
    for sid, words, gloss in synsets:
        forms = []
        for w in words:
            w = re.sub(r"\((a|p|ip)\)$", "", w).lower()
            if re.fullmatch(r"[a-z]{2,}", w) and w in vocab and w not in forms:
                forms.append(w)
        examples = [" ".join(e.split()) for e in re.findall(r'"([^"]*)"', gloss)]
        definition = " ".join(re.sub(r'"[^"]*"', " ", gloss).split())
        definition = re.sub(r"(\s*;\s*)+$", "", definition)
        definition = re.sub(r"(\s*;\s*)+", "; ", definition).strip("; ")
        syn[sid] = (forms, definition, examples)

    def vtoks(s):
        return [t for t in tokens(s) if t in vocab]

    with_examples = defaultdict(list)  # word -> [(sense, [example])], synsets in file order
    for sid, (forms, _, examples) in syn.items():
        for w in forms:
            ex = [e for e in examples if w in vtoks(e)]
            if ex:
                with_examples[w].append((sid, ex))

    out, bad = [], 0
    for w in sorted(with_examples):
        if len(with_examples[w]) < 2:
            continue
        cands = [(sid, ex) for sid, ex in with_examples[w]
                 if any(re.match(r"[a-z]", t) and t != w for t in vtoks(syn[sid][1]))]
        if len(cands) < 2:
            continue
        count = defaultdict(int)
        for _, ex in cands:
            for e in set(ex):
                count[e] += 1
        glosses = [(sid, syn[sid][1]) for sid, _ in cands]
        examples = []
        for sid, ex in cands:
            seen = set()
            for e in ex:
                if count[e] == 1 and e not in seen:
                    seen.add(e)
                    examples.append((sid, e))
        nb = len(glosses) + len(examples)
        glosses = [g for g in glosses if field_ok(*g)]
        kept = {sid for sid, _ in glosses}
        examples = [x for x in examples if field_ok(*x) and x[0] in kept]
        bad += nb - len(glosses) - len(examples)
        if len(glosses) >= 2 and examples:
            out.append((w, glosses, examples))
    return out, bad


def write_senses(path, data, bad):
    n_ex = sum(len(x) for _, _, x in data)
    n_g = sum(len(g) for _, g, _ in data)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("# senses.tsv: the WordNet sense evaluation of embvsattn (eval senses), written by\n"
                "# scripts/fetch-corpus.sh from WordNet 3.0 (Debian wordnet-base) and the GloVe 6B 100d vocabulary.\n"
                "# G<TAB>WORD<TAB>SENSE<TAB>DEFINITION: a sense of WORD (SENSE: synset id, POS letter + offset)\n"
                "#   and its definition (the gloss without its quoted examples);\n"
                "# E<TAB>WORD<TAB>SENSE<TAB>EXAMPLE: an example of that sense (WordNet's text, quotes removed,\n"
                "#   whitespace collapsed). A word's G lines come before its E lines.\n"
                "# Words: lemma forms with >= 2 synsets having an example that contains the word as a token;\n"
                "#   senses whose definition has no usable word dropped; examples shared by two senses dropped.\n"
                "# Fields hold no tab or line break (whitespace collapsed; a record with one is dropped: "
                f"{bad} were).\n"
                f"# {len(data)} words, {n_g} senses, {n_ex} examples. Every training corpus of fetch-corpus.sh\n"
                "#   drops any sentence containing one of these examples (senses-holdout.txt).\n")
        for w, glosses, examples in data:
            for sid, d in glosses:
                f.write(f"G\t{w}\t{sid}\t{d}\n")
            for sid, e in examples:
                f.write(f"E\t{w}\t{sid}\t{e}\n")
    return n_ex, n_g


# ---- the hold-out filter and the evaluation sentences ---------------------------------------------------------------

class HoldOut:
    """Finds sentences whose token sequence contains a held-out example's token sequence, contiguously, at any place
    (a short example too: "dirty", "bad luck" inside a longer sentence)."""

    def __init__(self, examples):
        self.index = {}  # first min(3, len) tokens -> [token tuples]
        for e in examples:
            t = tuple(tokens(e))
            if t:
                self.index.setdefault(t[:3], []).append(t)

    def bad(self, s):
        t = tuple(tokens(s))
        for i in range(len(t)):
            for k in range(1, min(3, len(t) - i) + 1):  # examples of 1, 2, and 3 or more tokens
                for h in self.index.get(t[i:i + k], ()):
                    if t[i:i + len(h)] == h:
                        return True
        return False


def filtered(sents, hold, evalset):
    """unique(sents), then dropped: a sentence containing a held-out example (hold), one whose token sequence equals
    an evaluation sentence's (evalset). Returns (kept, dropped for the first rule, dropped for the second)."""
    kept, d1, d2 = [], 0, 0
    for s in unique(sents):
        if hold.bad(s):
            d1 += 1
        elif evalset is not None and " ".join(tokens(s)) in evalset:
            d2 += 1
        else:
            kept.append(s)
    return kept, d1, d2


# ---- the other texts ----------------------------------------------------------------------------------------------

def licenses(lic):
    """The licence texts: every regular file in name order (symlinks skipped), paragraphs joined, split into sentences,
    4-40 words, duplicates dropped."""
    paragraphs = []
    for name in sorted(os.listdir(lic)):
        p = os.path.join(lic, name)
        if os.path.islink(p) or not os.path.isfile(p):
            continue
        with open(p, encoding="utf-8", errors="strict") as f:
            paragraphs.extend(re.split(r"\n\s*\n", f.read()))
    return list(unique(split_sentences(paragraphs)))


def fortunes(fort):
    """The fortune cookies (evaluation only): every file without a dot except ascii-art and definitions, name order,
    symlinks skipped; "--" attribution lines dropped; each cookie joined and split as the licences."""
    bodies = []
    for name in sorted(os.listdir(fort)):
        p = os.path.join(fort, name)
        if "." in name or name in ("ascii-art", "definitions") or os.path.islink(p) or not os.path.isfile(p):
            continue
        with open(p, encoding="utf-8", errors="replace") as f:
            text = f.read()
        for cookie in text.split("\n%\n"):
            bodies.append(" ".join(l.strip() for l in cookie.split("\n") if not l.strip().startswith("--")))
    return list(unique(split_sentences(bodies)))


MARK = re.compile(r"\[([^\]\s]{1,3})\]")  # a markup code: b[a^]nk, ["e], [deg]


def gcide(path):
    """The sentences of the GNU Collaborative International Dictionary of English (dict-gcide's dictd file, gzip
    compatible), before the common filters. From the first line "A \\A\\" on; an entry = a line starting in column 0
    and the indented or blank lines after it. In each entry: markup codes -> their letters (kept when they have none);
    every [...] span deleted (non-greedy, across lines); every \\...\\ deleted; the first line dropped; braces deleted
    (text kept). Then paragraphs (blank lines): whitespace collapsed, a citation "--" + non-space and the rest of the
    paragraph deleted, a leading sense label "12. " and/or "(a) " deleted; sentences split after . ; : ? ! + space."""
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
        text = f.read()
    m = re.search(r"^A \\A\\", text, re.M)
    if not m:
        sys.exit(f"corpus.py: {path}: no line starting with 'A \\A\\' (the first entry): not the GCIDE dictd file?")

    def unmark(m):
        letters = re.sub(r"[^A-Za-z]", "", m.group(1))
        return letters if letters else m.group(0)

    paragraphs = []
    for e in re.split(r"\n(?=\S)", text[m.start():]):
        e = MARK.sub(unmark, e)
        e = re.sub(r"\[[^\]]*\]", " ", e, flags=re.S)
        e = re.sub(r"\\[^\\]*\\", " ", e)
        e = e.split("\n", 1)[1] if "\n" in e else ""
        e = e.replace("{", "").replace("}", "")
        for para in re.split(r"\n\s*\n", e):
            para = " ".join(para.split())
            para = re.sub(r"--\S.*$", "", para)
            paragraphs.append(re.sub(r"^(\d+\.\s*)?(\([a-z]\)\s*)?", "", para))
    return split_sentences(paragraphs)


# ---- main ---------------------------------------------------------------------------------------------------------

def write_lines(out, name, lines, note=""):
    with open(os.path.join(out, name), "w", encoding="utf-8", newline="\n") as f:
        for s in lines:
            f.write(s + "\n")
    say(f"{name}: {len(lines)} sentences, {sum(len(s.split()) for s in lines)} words{note}")


def main(argv):
    if len(argv) != 7:
        sys.exit("usage: corpus.py WORDNET_DIR LICENSES_DIR FORTUNES_DIR GCIDE_DICT_DZ GLOVE_TXT OUTDIR")
    wn, lic, fort, gcide_dz, glove, out = argv[1:]

    synsets = wordnet_synsets(wn)
    data, bad = senses(synsets, glove_vocabulary(glove))
    n_ex, n_g = write_senses(os.path.join(out, "senses.tsv"), data, bad)
    held = sorted({e for _, _, ex in data for _, e in ex})
    say(f"senses.tsv: {n_ex} examples of {len(data)} words, {n_g} senses ({bad} records dropped for a tab or line "
        f"break)")
    write_lines(out, "senses-holdout.txt", held)
    hold = HoldOut(held)

    train, test = wordnet_sentences(synsets)
    heldout, d1, _ = filtered(test, hold, None)
    write_lines(out, "wordnet-heldout.txt", heldout, f"; dropped {d1} containing a sense example")
    lic_sents = licenses(lic)
    write_lines(out, "licenses.txt", lic_sents)
    fort_sents = fortunes(fort)
    write_lines(out, "fortunes.txt", fort_sents)

    evalset = {" ".join(tokens(s)) for s in heldout + lic_sents + fort_sents}
    for name, sents in (("wordnet-train.txt", train), ("gcide-train.txt", gcide(gcide_dz))):
        kept, d1, d2 = filtered(sents, hold, evalset)
        write_lines(out, name, kept, f"; dropped {d1} containing a sense example, {d2} equal to an evaluation sentence")


if __name__ == "__main__":
    main(sys.argv)
