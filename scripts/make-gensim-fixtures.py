#!/usr/bin/python3
"""Writes reference vector files with gensim 4.2 (Debian python3-gensim) for the loader tests.

Out dir gets:
  kv.bin      word2vec binary      (KeyedVectors.save_word2vec_format(binary=True))
  kv.vec      word2vec text        (binary=False, with the "count dim" header)
  kv.glove    GloVe text           (binary=False, write_header=False)
  expected.tsv  word <TAB> the 8-hex-digit bit pattern of each float32, as gensim holds them
Deterministic (fixed seed). Words include non-ASCII, mixed case and a long word; values include 0, -0,
subnormals, large and tiny magnitudes.
"""
import os
import sys

import numpy as np
from gensim.models import KeyedVectors

out = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/gensim"
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(20261125)
dim = 7
words = ["the", "king", "queen", "King", "France", "france", "café", "naïve", "日本", "Ελλάδα", "москва",
         "u.s.", "1,000", "don't", "-", ",", "x" * 300]
words += ["w%03d" % i for i in range(40)]
vecs = rng.standard_normal((len(words), dim)).astype(np.float32)
vecs[0, 0] = 0.0
vecs[0, 1] = -0.0
vecs[1, 2] = np.float32(1e-40)      # subnormal
vecs[1, 3] = np.float32(-1.4e-45)   # smallest subnormal
vecs[2, 4] = np.float32(3.4e38)
vecs[2, 5] = np.float32(1.17549435e-38)
vecs[3, :] = 0.0                      # zero vector
vecs[4, 6] = np.float32(123456.789)
kv = KeyedVectors(vector_size=dim)
kv.add_vectors(words, vecs)
kv.save_word2vec_format(os.path.join(out, "kv.bin"), binary=True)
kv.save_word2vec_format(os.path.join(out, "kv.vec"), binary=False)
kv.save_word2vec_format(os.path.join(out, "kv.glove"), binary=False, write_header=False)
with open(os.path.join(out, "expected.tsv"), "w", encoding="utf-8") as f:
    for w in kv.index_to_key:
        bits = kv[w].view(np.uint32)
        f.write(w + "\t" + " ".join("%08x" % b for b in bits) + "\n")
print("wrote", out, len(words), "words ×", dim)
