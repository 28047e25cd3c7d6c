#!/usr/bin/python3
"""Writes the fastText fixtures (Debian's fasttext 0.9.2 binary and gensim + numpy from /usr/bin/python3).

Usage: make-fasttext-fixture.py [--retrain] [OUT_DIR]     (default tests/fixtures/fasttext)

OUT_DIR gets
  corpus.txt      a tiny corpus (220 generated sentences, some non-ASCII words: café, naïve, Zürich, 東京)
  tiny.bin        fasttext skipgram -input corpus.txt -output tiny -dim 8 -minCount 1 -bucket 2000 -epoch 40
                  -lr 0.1 -thread 1 (one thread: the same bytes every run; kept as committed unless --retrain)
  sup.bin         fasttext supervised on the same sentences with a label each (-dim 4 -minCount 1 -epoch 5 -thread 1;
                  fastText sets bucket 0 for it: no n-grams)
  expected.tsv    the reference, from tiny.bin and sup.bin as they are:
                    vec MODEL WORD KIND GENSIM FASTTEXT
                      KIND in (the word is in the vocabulary) or oov; GENSIM: gensim load_facebook_vectors(MODEL)[WORD]
                      as %.9g (float32 exactly), "-" for sup.bin (gensim refuses supervised models); FASTTEXT: what `fasttext print-word-vectors MODEL` prints for WORD
                      (5 significant digits); fields separated by tabs, values by spaces
                    hash NGRAM VALUE      gensim's ft_hash_bytes of the n-gram's UTF-8 bytes (fastText's hash)
                    ngrams WORD BUCKETS   gensim's ft_ngram_hashes(WORD, 3, 6, 2000), space-separated
and tests/bad-inputs/ gets malformed models cut from sup.bin (ft-*.bin, see tests/bad-inputs/cases).
  gensim and fastText differ for "</s>" (fastText gives it its own row only, gensim adds n-grams): its line holds
  both as they are, and the test compares it with fastText.
"""
import os
import random
import struct
import subprocess
import sys

from gensim.models.fasttext import ft_hash_bytes, ft_ngram_hashes, load_facebook_vectors

args = [a for a in sys.argv[1:] if not a.startswith("--")]
RETRAIN = "--retrain" in sys.argv
OUT = args[0] if args else "tests/fixtures/fasttext"
FT = "/usr/bin/fasttext"


def corpus():
    random.seed(7)
    subj = ["the king", "the queen", "a man", "a woman", "the café owner", "the naïve student",
            "my friend from Zürich", "the teacher", "our neighbour", "the old fisherman", "a child", "the doctor"]
    verb = ["walks to", "looks at", "talks about", "travels to", "dreams of", "writes about", "visits", "remembers"]
    obj = ["the castle", "the river", "Paris", "London", "the market", "the village", "a garden", "the sea",
           "the mountains", "東京", "the library", "the station"]
    adv = ["today", "every morning", "slowly", "with joy", "again", "at night", "in winter", "quietly"]
    return ["%s %s %s %s ." % (random.choice(subj), random.choice(verb), random.choice(obj), random.choice(adv))
            for _ in range(220)]


def train():
    lines = corpus()
    with open(os.path.join(OUT, "corpus.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    subprocess.run([FT, "skipgram", "-input", os.path.join(OUT, "corpus.txt"), "-output", os.path.join(OUT, "tiny"),
                    "-dim", "8", "-minCount", "1", "-bucket", "2000", "-epoch", "40", "-lr", "0.1", "-thread", "1"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sup = os.path.join(OUT, "sup-train.txt")
    with open(sup, "w", encoding="utf-8") as f:
        for i, l in enumerate(lines):
            f.write("__label__%s %s\n" % ("royal" if ("king" in l or "queen" in l) else "plain", l))
    subprocess.run([FT, "supervised", "-input", sup, "-output", os.path.join(OUT, "sup"), "-dim", "4",
                    "-minCount", "1", "-epoch", "5", "-thread", "1"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for tmp in ("tiny.vec", "sup.vec", "sup-train.txt"):
        if os.path.exists(os.path.join(OUT, tmp)):
            os.remove(os.path.join(OUT, tmp))


def printed(model, words):
    """fasttext print-word-vectors: one line per word, 'WORD v1 … vd ' (5 significant digits)."""
    out = subprocess.run([FT, "print-word-vectors", model], input="\n".join(words) + "\n", check=True,
                         capture_output=True, text=True).stdout.splitlines()
    assert len(out) == len(words), (len(out), len(words))
    res = []
    for w, line in zip(words, out):
        assert line.startswith(w + " "), (w, line)
        res.append(line[len(w) + 1:].split())
    return res


def vocabulary(model):
    """The model's words in dictionary order (fasttext dump dict: 'WORD COUNT word|label' lines after a count)."""
    out = subprocess.run([FT, "dump", model, "dict"], check=True, capture_output=True, text=True).stdout.splitlines()
    return [l.rsplit(" ", 2)[0] for l in out[1:] if l.endswith(" word")]


OOV = ["xyzzy", "cafés", "Café", "naïveté", "ab", "a", "x", "zürichs", "東京都", "kings", "queenly", "Ünïcödé",
       "fisherman's", "日本"]


def bad_inputs(sup, out="tests/bad-inputs"):
    """Malformed copies of sup.bin (little-endian fields: magic 0, version 4, dim 8, dictionary counts at 64)."""
    def put(b, off, fmt, v):
        b = bytearray(b)
        struct.pack_into(fmt, b, off, v)
        return bytes(b)
    size, nwords = struct.unpack_from("<ii", sup, 64)
    # the input matrix's quantization flag: the byte before its shape [nwords + bucket (0), dim (4)]
    q = next(i for i in range(92, len(sup) - 17) if sup[i] == 0 and struct.unpack_from("<qq", sup, i + 1) == (nwords, 4))
    cases = {
        "ft-truncated-header": sup[:30],
        "ft-bad-magic": put(sup, 0, "<i", 793712315),
        "ft-bad-version": put(sup, 4, "<i", 13),
        "ft-dim-zero": put(put(sup, 8, "<i", 0), 0, "<i", 793712314),
        "ft-counts-beyond": put(put(sup, 64, "<i", size + 1000000), 68, "<i", nwords + 1000000),
        "ft-matrix-beyond": sup[:q + 17 + 40],
        "ft-quantized": put(sup, q, "<B", 1),
    }
    for name, data in cases.items():
        with open(os.path.join(out, name + ".bin"), "wb") as f:
            f.write(data)


def main():
    os.makedirs(OUT, exist_ok=True)
    if RETRAIN or not os.path.exists(os.path.join(OUT, "tiny.bin")):
        train()
    rows = []
    for name in ("tiny.bin", "sup.bin"):
        path = os.path.join(OUT, name)
        vocab = vocabulary(path)
        words = vocab + [w for w in OOV if w not in vocab]
        kv = load_facebook_vectors(path) if name != "sup.bin" else None  # gensim: "not supported"
        ft = printed(path, words)
        for w, f in zip(words, ft):
            kind = "in" if w in vocab else "oov"
            g = " ".join("%.9g" % float(v) for v in kv[w]) if kv is not None else "-"
            rows.append("vec\t%s\t%s\t%s\t%s\t%s" % (name, w, kind, g, " ".join(f)))
    for g in ["<ca", "caf", "afé", "fé>", "<東京", "京>", "Ünï", "<xy", "zzy>", "ab>", "<a>"]:
        rows.append("hash\t%s\t%d" % (g, ft_hash_bytes(g.encode("utf-8"))))
    for w in ["café", "xyzzy", "東京都", "a", "Ünïcödé"]:
        rows.append("ngrams\t%s\t%s" % (w, " ".join(str(h) for h in ft_ngram_hashes(w, 3, 6, 2000))))
    with open(os.path.join(OUT, "expected.tsv"), "w", encoding="utf-8") as f:
        f.write("\n".join(rows) + "\n")
    with open(os.path.join(OUT, "sup.bin"), "rb") as f:
        bad_inputs(f.read())
    print("wrote", OUT, len(rows), "reference lines")


if __name__ == "__main__":
    main()
