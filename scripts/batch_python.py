#!/usr/bin/python3
"""`embvsattn --batch` done the Python way, for `make bench` (scripts/bench-batch.sh): sentences on stdin, one JSON
line out per sentence with each token's static neighbours (over the whole vocabulary), its top 3 attention weights
(torch.nn.MultiheadAttention, one head, identity projections) and its contextual neighbours (among the RESTRICT most
frequent words, as embvsattn's trained head compares them). What a practitioner would write with gensim, numpy and
torch, batched the obvious way: each distinct word's static neighbours searched once, in chunks of 256 queries,
and all contextual vectors of the input in one matrix product per chunk.

Usage: batch_python.py VECTORS.kv [K] [RESTRICT] <sentences.txt >views.jsonl
"""
import json
import re
import sys

import numpy as np
import torch
from gensim.models import KeyedVectors

kv_path = sys.argv[1]
k = int(sys.argv[2]) if len(sys.argv) > 2 else 5
restrict = int(sys.argv[3]) if len(sys.argv) > 3 else 30000
kv = KeyedVectors.load(kv_path, mmap="r")
E = kv.get_normed_vectors()  # (V, d) unit rows
d = kv.vector_size
torch.set_grad_enabled(False)
mha = torch.nn.MultiheadAttention(d, 1, bias=False, batch_first=True)
mha.in_proj_weight.copy_(torch.cat([torch.eye(d)] * 3))
mha.out_proj.weight.copy_(torch.eye(d))


def topk(S, k, exclude):
    """rows of the k best columns of each row of S (best first), each row's own word excluded"""
    for i, r in enumerate(exclude):
        if 0 <= r < S.shape[1]:
            S[i, r] = -np.inf
    idx = np.argpartition(S, S.shape[1] - k, axis=1)[:, -k:]
    part = np.take_along_axis(S, idx, 1)
    order = np.argsort(-part, axis=1, kind="stable")
    return np.take_along_axis(idx, order, 1), np.take_along_axis(part, order, 1)


sentences, rows, tops, Zs = [], [], [], []
for line in sys.stdin:
    sent = line.rstrip("\r\n")
    tokens = re.findall(r"\w+(?:[-']\w+)*|[^\w\s]", sent)
    r = [kv.key_to_index.get(t, kv.key_to_index.get(t.lower(), -1)) for t in tokens]
    X = np.stack([kv.vectors[i] if i >= 0 else np.zeros(d, np.float32) for i in r]) if r else np.zeros((0, d))
    mask = torch.tensor([i < 0 for i in r])
    if not r or all(i < 0 for i in r):
        sentences.append((sent, tokens))
        rows.append(r)
        tops.append(None)
        Zs.append(np.zeros((0, d), np.float32))
        continue
    x = torch.from_numpy(X).unsqueeze(0)
    Z, A = mha(x, x, x, key_padding_mask=mask.unsqueeze(0), need_weights=True)
    A = A[0].numpy()
    sentences.append((sent, tokens))
    rows.append(r)
    tops.append([[(int(j), float(A[i, j])) for j in np.argsort(-A[i])[:3]] for i in range(len(r))])
    Zs.append(Z[0].numpy())

# static neighbours: each distinct word once, over the whole vocabulary
distinct = sorted({i for r in rows for i in r if i >= 0})
static = {}
buf = np.empty((256, len(E)), np.float32)
for c in range(0, len(distinct), 256):
    q = distinct[c:c + 256]
    S = np.matmul(E[q], E.T, out=buf[:len(q)])
    idx, sc = topk(S, k, q)
    for j, w in enumerate(q):
        static[w] = [(kv.index_to_key[a], float(s)) for a, s in zip(idx[j], sc[j])]

# contextual neighbours: every token's vector in context, among the `restrict` most frequent words
allZ = np.concatenate(Zs) if Zs else np.zeros((0, d), np.float32)
allZ = allZ / np.maximum(np.linalg.norm(allZ, axis=1, keepdims=True), 1e-30)
excl = [i for r in rows for i in r]
ctx = []
for c in range(0, len(allZ), 2048):
    idx, sc = topk(allZ[c:c + 2048] @ E[:restrict].T, k, excl[c:c + 2048])
    ctx += [[(kv.index_to_key[a], float(s)) for a, s in zip(idx[j], sc[j])] for j in range(len(idx))]

out, pos = sys.stdout, 0
for n, ((sent, tokens), r, top) in enumerate(zip(sentences, rows, tops), 1):
    if top is None:
        out.write(json.dumps({"line": n, "error": "no token has a vector"}) + "\n")
        continue
    toks = []
    for i, t in enumerate(tokens):
        toks.append({"text": t, "static_neighbors": static.get(r[i], []),
                     "attention": [[tokens[j], w] for j, w in top[i]], "context_neighbors": ctx[pos]})
        pos += 1
    out.write(json.dumps({"sentence": sent, "tokens": toks}) + "\n")
