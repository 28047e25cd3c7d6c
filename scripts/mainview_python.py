#!/usr/bin/python3
"""The main view done the Python way, for `make bench`: gensim KeyedVectors (mmap'd) for the static and contextual
neighbours, torch.nn.MultiheadAttention (one head, no bias, identity projections) for the attention weights —
what a learner would write with the usual libraries. Prints the same three columns as `embvsattn SENTENCE`.

Usage: mainview_python.py VECTORS.kv "SENTENCE" [K]
"""
import re
import sys

import numpy as np
import torch
from gensim.models import KeyedVectors

kv_path, sentence = sys.argv[1], sys.argv[2]
k = int(sys.argv[3]) if len(sys.argv) > 3 else 5
kv = KeyedVectors.load(kv_path, mmap="r")
tokens = re.findall(r"\w+(?:[-']\w+)*|[^\w\s]", sentence)
rows = [kv.key_to_index.get(t, kv.key_to_index.get(t.lower(), -1)) for t in tokens]
d = kv.vector_size
X = np.stack([kv.vectors[r] if r >= 0 else np.zeros(d, np.float32) for r in rows])
mask = torch.tensor([r < 0 for r in rows])

mha = torch.nn.MultiheadAttention(d, 1, bias=False, batch_first=True)
with torch.no_grad():
    mha.in_proj_weight.copy_(torch.cat([torch.eye(d)] * 3))
    mha.out_proj.weight.copy_(torch.eye(d))
    x = torch.from_numpy(X).unsqueeze(0)
    Z, A = mha(x, x, x, key_padding_mask=mask.unsqueeze(0), need_weights=True)
Z, A = Z[0].numpy(), A[0].numpy()

for i, t in enumerate(tokens):
    static = kv.most_similar(t.lower(), topn=k) if rows[i] >= 0 else []
    top = np.argsort(-A[i])[:3]
    context = kv.similar_by_vector(Z[i], topn=k + 1)
    print(f"[{i}] {t}")
    print("    static:     " + "  ".join(f"{w} {s:.4f}" for w, s in static))
    print("    attends to: " + "  ".join(f"{tokens[j]} {A[i, j] * 100:.0f}%" for j in top))
    print("    in context: " + "  ".join(f"{w} {s:.4f}" for w, s in context if w != t.lower())[: 200])
