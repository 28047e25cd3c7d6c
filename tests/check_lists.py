#!/usr/bin/python3
"""check_lists.py CACHE [STEP]: the neighbour lists `embvsattn index` stored in CACHE against numpy's own search.
For every STEP-th listed word (default 997): the cosines of its unit vector with every row, as gensim's
KeyedVectors.most_similar computes them (float32 rows over float32 norms), the word itself left out; the K best
rows (ties by the lower row) must be the listed rows, and the scores equal them to 1e-6. Reads the cache with numpy
alone (tests/read_cache.py). Prints one line and exits non-zero on the first difference."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from read_cache import load_safetensors  # noqa: E402

t, _ = load_safetensors(sys.argv[1])
step = int(sys.argv[2]) if len(sys.argv) > 2 else 997
if "neighbor_rows" not in t:
    sys.exit("%s has no neighbour lists" % sys.argv[1])
X = t["vectors"]
rows, scores = t["neighbor_rows"], t["neighbor_scores"]
N, K = rows.shape
norms = np.linalg.norm(X, axis=1).astype(np.float32)
norms[norms == 0] = 1  # a zero row scores 0, as in the tool
checked = 0
for i in range(0, N, step):
    q = X[i] / np.float32(np.linalg.norm(X[i].astype(np.float64)))
    sims = (X @ q.astype(np.float32)) / norms
    sims[i] = -np.inf
    order = np.lexsort((np.arange(len(sims)), -sims))[:K]  # score descending, then the lower row
    got = rows[i]
    if not np.array_equal(order, got):
        # a difference is only acceptable between two rows whose scores are within 1e-6 (rounding order)
        for j in np.nonzero(order != got)[0]:
            if abs(sims[order[j]] - sims[got[j]]) > 1e-6:
                sys.exit("row %d: listed %s, numpy %s" % (i, got.tolist(), order.tolist()))
    if np.max(np.abs(sims[got] - scores[i])) > 1e-6:
        sys.exit("row %d: scores differ by %g" % (i, np.max(np.abs(sims[got] - scores[i]))))
    checked += 1
print("lists of %d words x %d: %d checked against numpy, all equal" % (N, K, checked))
