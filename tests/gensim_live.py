#!/usr/bin/python3
"""gensim's figures computed now, on this machine, from an embvsattn cache (read with numpy alone).

Usage: gensim_live.py pairs CACHE FILE RESTRICT
Prints gensim 4.2's evaluate_word_pairs(FILE, restrict_vocab=RESTRICT, case_insensitive=True) as JSON:
{"pearson": …, "spearman": …, "oov_ratio": …}.

Why live: gensim's cosines are numpy float32 dot products, i.e. OpenBLAS's, whose last bits depend on the kernel
OpenBLAS picks for the CPU. embvsattn makes the same calls into the same OpenBLAS, so on any one machine both give
the same bits; a figure written on another machine (tests/fixtures/similarity/glove-expected.json) is only equal
within a bound.
"""
import json
import os
import sys

import numpy as np
from gensim.models import KeyedVectors

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from read_cache import load_safetensors  # noqa: E402


def load_kv(cache):
    t, _ = load_safetensors(cache)
    off, vocab = t["vocab_offsets"], t["vocab"].tobytes()
    words = [vocab[off[i]:off[i + 1] - 1].decode("utf-8") for i in range(len(off) - 1)]
    kv = KeyedVectors(vector_size=t["vectors"].shape[1])
    kv.add_vectors(words, np.array(t["vectors"]))
    return kv


def main():
    if len(sys.argv) != 5 or sys.argv[1] != "pairs":
        print(__doc__, file=sys.stderr)
        return 2
    kv = load_kv(sys.argv[2])
    p, s, oov = kv.evaluate_word_pairs(sys.argv[3], restrict_vocab=int(sys.argv[4]), case_insensitive=True)
    print(json.dumps({"pearson": float(p[0]), "spearman": float(s[0]), "oov_ratio": float(oov)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
