#!/usr/bin/python3
"""Reference answers for `embvsattn neighbors` queries by several words and by vector, written by gensim 4.2
(Debian python3-gensim, numpy 1.24) on the real GloVe 6B 100d vectors.

    make-query-fixtures.py [KV [OUTDIR]]     KV: gensim's .kv of GloVe 6B 100d (default
                                             ~/.cache/embvsattn/glove.6B.100d.kv, loaded with mmap='r');
                                             OUTDIR: default tests/fixtures/query

OUTDIR gets:
  vectors.txt    query vectors, one a line: text numbers (spaces, tabs, commas) and JSON arrays, a blank line
  expected.json  {"queries": [{"args", "positive", "negative", "method", "restrict", "k", "results"}],
                  "vectors": {"k", "results": [[[word, score], ...] per vector line]}}
                 args: the `embvsattn neighbors` arguments that ask the query (expressions, --positive/--negative,
                 --mean, --method mul, --restrict); results: gensim's most_similar / most_similar_cosmul /
                 similar_by_vector answers, scores as the float32 values gensim returns (exact as Python floats).
tests/integration.sh (tests/same_queries.py) compares: words in the same ranks but for near-ties, scores within 1e-6.
"""
import json
import os
import sys

import numpy as np
from gensim.models import KeyedVectors

K = 10
# (args, positive, negative, method, restrict)
QUERIES = [
    (["king", "-", "man", "+", "woman", "+", "crown"], ["king", "woman", "crown"], ["man"], "add", 0),
    (["king", "-", "man", "+", "woman"], ["king", "woman"], ["man"], "add", 0),
    (["paris", "-", "france", "+", "italy"], ["paris", "italy"], ["france"], "add", 0),
    (["--positive", "tokyo", "--positive", "france", "--negative", "japan", "--negative", "asia"],
     ["tokyo", "france"], ["japan", "asia"], "add", 0),
    (["apple", "banana", "--mean"], ["apple", "banana"], [], "add", 0),
    (["computer", "+", "science", "-", "math", "+", "art", "-", "music"], ["computer", "science", "art"],
     ["math", "music"], "add", 0),
    (["-", "good"], [], ["good"], "add", 0),
    (["Berlin", "-", "Germany", "+", "Spain", "--restrict", "30000"], ["berlin", "spain"], ["germany"], "add", 30000),
    (["king", "-", "man", "+", "woman", "--method", "mul"], ["king", "woman"], ["man"], "mul", 0),
    (["king", "-", "man", "+", "woman", "+", "crown", "--method", "mul"], ["king", "woman", "crown"], ["man"], "mul", 0),
    (["--positive", "walking", "--positive", "swam", "--negative", "walked", "--negative", "swimming", "--method",
      "mul"], ["walking", "swam"], ["walked", "swimming"], "mul", 0),
    (["apple", "banana", "cherry", "--mean", "--method", "mul"], ["apple", "banana", "cherry"], [], "mul", 0),
]


def main():
    kvpath = sys.argv[1] if len(sys.argv) > 1 else os.path.expanduser("~/.cache/embvsattn/glove.6B.100d.kv")
    out = sys.argv[2] if len(sys.argv) > 2 else "tests/fixtures/query"
    kv = KeyedVectors.load(kvpath, mmap="r")
    exp = {"queries": []}
    for args, pos, neg, method, restrict in QUERIES:
        if method == "mul":  # gensim ignores restrict_vocab there
            res = kv.most_similar_cosmul(positive=pos, negative=neg, topn=K)
        else:
            res = kv.most_similar(positive=pos, negative=neg, topn=K, restrict_vocab=restrict or None)
        exp["queries"].append({"args": args, "positive": pos, "negative": neg, "method": method,
                               "restrict": restrict, "k": K, "results": [[w, float(s)] for w, s in res]})
    # vectors: a centroid of raw vectors, a difference, a random vector (fixed seed), one with tiny values
    rng = np.random.default_rng(19)
    vecs = [kv["apple"] + kv["banana"] + kv["cherry"], kv["paris"] - kv["france"],
            rng.standard_normal(kv.vector_size).astype(np.float32), (kv["river"] * 1e-3).astype(np.float32)]
    lines = []
    for i, v in enumerate(vecs):
        v = np.asarray(v, dtype=np.float32)
        texts = ["%r" % float(x) for x in v]
        if i == 0:
            lines.append(" ".join(texts))
        elif i == 1:
            lines.append("[" + ", ".join(texts) + "]")
        elif i == 2:
            lines.append(",".join(texts))
            lines.append("")  # a blank line is skipped
        else:
            lines.append("\t".join(texts))
    # gensim is given what a reader of the file gets: float64 of the decimal text, as float32
    read = [np.array([float(t) for t in l.strip("[]").replace(",", " ").split()], dtype=np.float32)
            for l in lines if l]
    exp["vectors"] = {"k": K, "results": [[[w, float(s)] for w, s in kv.similar_by_vector(v, topn=K)] for v in read]}
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "vectors.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(exp, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
