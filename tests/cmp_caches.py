#!/usr/bin/python3
"""cmp_caches.py A B: exits 0 when two embvsattn caches hold the same words, vectors (bit for bit), norms and
index; the metadata (source path) may differ. Reads them with numpy alone (tests/read_cache.py)."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from read_cache import load_safetensors  # noqa: E402

a, _ = load_safetensors(sys.argv[1])
b, _ = load_safetensors(sys.argv[2])
for k in ("vectors", "vocab", "vocab_offsets", "index", "norms"):
    if a[k].shape != b[k].shape or not np.array_equal(a[k].view(np.uint8), b[k].view(np.uint8)):
        sys.exit("tensor %s differs: %s vs %s" % (k, a[k].shape, b[k].shape))
print("same: %d words x %d" % a["vectors"].shape)
