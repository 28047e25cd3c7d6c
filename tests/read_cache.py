#!/usr/bin/python3
"""A reader of embvsattn caches with nothing but numpy and the safetensors layout (as safetensors.numpy does):
8-byte little-endian header length N, N bytes of JSON, then the tensors at their data_offsets.

Usage: read_cache.py CACHE REFERENCE.bin
Checks the cache against a word2vec binary file read by gensim: same words in the same order, identical float
bits, norms within 1e-6 relative, and every word found through the stored FNV-1a hash index.
Prints one PASS/FAIL line per check; exits non-zero on any failure.
"""
import json
import struct
import sys

import numpy as np

DTYPES = {"F32": np.float32, "I64": np.int64, "I32": np.int32, "U8": np.uint8}


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    tensors = {}
    for name, t in header.items():
        b, e = t["data_offsets"]
        arr = np.frombuffer(data, dtype=DTYPES[t["dtype"]], count=(e - b) // np.dtype(DTYPES[t["dtype"]]).itemsize,
                            offset=base + b)
        tensors[name] = arr.reshape(t["shape"])
    return tensors, meta


def fnv1a(b):
    h = 14695981039346656037
    for c in b:
        h ^= c
        h = (h * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h


def main():
    from gensim.models import KeyedVectors
    cache, ref = sys.argv[1], sys.argv[2]
    t, meta = load_safetensors(cache)
    kv = KeyedVectors.load_word2vec_format(ref, binary=True)
    failures = 0

    def check(name, ok, why=""):
        nonlocal failures
        print(("PASS" if ok else "FAIL") + " interop " + name + ("" if ok else ": " + why))
        failures += 0 if ok else 1

    off, vocab = t["vocab_offsets"], t["vocab"].tobytes()
    words = [vocab[off[i]:off[i + 1] - 1].decode("utf-8") for i in range(len(off) - 1)]
    check("numpy-reads-words", words == kv.index_to_key, "%d words vs %d" % (len(words), len(kv.index_to_key)))
    vec = t["vectors"]
    check("numpy-reads-matrix-bits", vec.shape == kv.vectors.shape and
          np.array_equal(vec.view(np.uint32), kv.vectors.view(np.uint32)), "shape %s" % (vec.shape,))
    norms = np.linalg.norm(kv.vectors.astype(np.float64), axis=1)
    check("norms", np.allclose(t["norms"], norms, rtol=1e-6, atol=0), "max diff %g" % np.max(np.abs(t["norms"] - norms)))
    idx = t["index"]
    mask = len(idx) - 1
    found = 0
    for row, w in enumerate(words):
        h = fnv1a(w.encode("utf-8")) & mask
        while idx[h] != -1 and idx[h] != row:
            h = (h + 1) & mask
        found += idx[h] == row
    check("hash-index", found == len(words), "%d of %d found" % (found, len(words)))
    check("metadata", meta.get("format") == "embvsattn-cache" and meta.get("source_format") == "word2vec-binary",
          str(meta))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
