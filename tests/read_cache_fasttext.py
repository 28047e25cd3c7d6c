#!/usr/bin/python3
"""A fastText model converted to a cache (format_version 2), read with numpy alone, against gensim's
load_facebook_vectors of the model itself: the ngrams tensor holds gensim's n-gram rows bit for bit, with the
model's minn/maxn/bucket in the metadata; the words' vectors and the vectors embvsattn gives words outside the
vocabulary from the cache (`embvsattn --format json vector …`, run here) are gensim's within 1.2e-7 (the bound of
tests/test_fasttext.c: gensim's numpy sums in another order).

Usage: read_cache_fasttext.py EMBVSATTN CACHE MODEL.bin WORD...
Prints one PASS/FAIL line per check; exits non-zero on any failure.
"""
import json
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from read_cache import load_safetensors  # noqa: E402

BOUND = 1.2e-7


def main():
    from gensim.models.fasttext import load_facebook_vectors
    binary, cache, model, words = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    t, meta = load_safetensors(cache)
    kv = load_facebook_vectors(model)
    failures = 0

    def check(name, ok, why=""):
        nonlocal failures
        print(("PASS" if ok else "FAIL") + " interop fasttext-cache-" + name + ("" if ok else ": " + why))
        failures += 0 if ok else 1

    ng = t.get("ngrams")
    check("ngrams-bits", ng is not None and ng.shape == kv.vectors_ngrams.shape and
          np.array_equal(ng.view(np.uint32), kv.vectors_ngrams.astype(np.float32).view(np.uint32)),
          "shape %s vs gensim %s" % (None if ng is None else ng.shape, kv.vectors_ngrams.shape))
    want = {"format_version": "2", "ngram_minn": str(kv.min_n), "ngram_maxn": str(kv.max_n),
            "ngram_bucket": str(kv.bucket)}
    check("metadata", all(meta.get(k) == v for k, v in want.items()), "%s, expected %s" % (meta, want))
    off, vocab = t["vocab_offsets"], t["vocab"].tobytes()
    names = [vocab[off[i]:off[i + 1] - 1].decode("utf-8") for i in range(len(off) - 1)]
    rows = [i for i, w in enumerate(names) if w != "</s>"]  # gensim adds n-grams to fastText's </s>
    ref = np.array([kv[names[i]] for i in rows])
    err = float(np.max(np.abs(t["vectors"][rows] - ref)))
    check("word-vectors", err <= BOUND, "worst |difference| %g" % err)
    out = subprocess.run([binary, "--vectors", cache, "--format", "json", "vector"] + words, capture_output=True,
                         check=False)
    res = json.loads(out.stdout)["results"] if out.returncode == 0 else []
    oov = [r for r in res if r.get("match") == "subword"]
    worst = max((float(np.max(np.abs(np.array(r["vector"], dtype=np.float64) - kv[r["query"]]))) for r in oov),
                default=float("inf"))
    check("subword-vectors", len(oov) == len(words) and worst <= BOUND,
          "%d of %d words as subword, worst |difference| %g (exit %d)" % (len(oov), len(words), worst,
                                                                         out.returncode))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
