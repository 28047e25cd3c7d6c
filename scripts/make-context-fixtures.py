#!/usr/bin/python3
"""The context head's PyTorch reference (Debian python3-torch + numpy; deterministic).

Usage: make-context-fixtures.py [OUT_DIR]          (default tests/fixtures/head)

Writes the context objective of head_context.h as PyTorch code, independently of the C (its own positions, masks
and softmax), and computes with autograd, in float64 from float32 parameters, the loss and its gradient with respect
to every parameter for a batch of three sentences over a toy vocabulary. tests/test_head_context.c reads
OUT_DIR/context.txt and compares ctx_loss_grad's loss and gradient with these:

  d D dk K vocab V candidates C position_scale P
  V×d floats: the vocabulary's vectors (row i is word "c{i}")
  the parameters in head_context.h's order: w_q (d×dk), w_k (d×dk), w_v (d×dk), w_o (dk×d), bias (C), scale (1)
  sentences N, then per sentence "n H" (H: the hidden token's index, -1: none) and n lines "row predict"
  loss L (float64), then the gradient in the parameters' order
Floats: repr() of float32 values (exact) or %.17g for float64.
"""
import math
import os
import sys

import numpy as np
import torch

OUT = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/head"
rng = np.random.default_rng(11)
torch.set_num_threads(1)

D, DK, V, NC, PSCALE = 10, 6, 36, 28, 0.3


def f32(a):
    return np.asarray(a, dtype=np.float32)


E = f32(rng.normal(0, 1, (V, D)))
wq, wk, wv = (f32(rng.normal(0, 0.4, (D, DK))) for _ in range(3))
wo = f32(rng.normal(0, 0.4, (DK, D)))
bias = f32(rng.normal(0, 0.3, NC))
scale = f32([0.7])

# sentences: (rows, hidden index or -1, predict flags); -1 rows are placeholders; rows ≥ NC are keys only
SENTS = [
    ([3, -1, 7, 30, 12, 3], 2, [1, 0, 0, 1, 1, 1]),
    ([5, 9], -1, [0, 0]),
    ([20, 21, 22, -1, 27, 0, 34, 15], 4, [1, 0, 1, 0, 0, 1, 1, 1]),
]


def sinusoids(n, d, s):
    p = np.zeros((n, d))
    for pos in range(n):
        for i in range(0, d, 2):
            ang = pos / 10000 ** (i / d)
            p[pos, i] = math.sin(ang)
            if i + 1 < d:
                p[pos, i + 1] = math.cos(ang)
    return torch.tensor(p * s)


T = {k: torch.tensor(v.astype(np.float64), requires_grad=True) for k, v in
     (("w_q", wq), ("w_k", wk), ("w_v", wv), ("w_o", wo), ("bias", bias), ("scale", scale))}
Et = torch.tensor(E.astype(np.float64))
losses = []
for rows, hid, pred in SENTS:
    n = len(rows)
    r = torch.tensor([max(x, 0) for x in rows])
    known = torch.tensor([x >= 0 for x in rows])
    X = Et[r] * known[:, None]
    U = X + sinusoids(n, D, PSCALE) * known[:, None]
    Q, K, Vv = U @ T["w_q"], U @ T["w_k"], U @ T["w_v"]
    for i in range(n):
        if not pred[i]:
            continue
        keys = torch.tensor([j != i and j != hid and rows[j] >= 0 for j in range(n)])
        s = (Q[i] @ K.T) / math.sqrt(DK)
        a = torch.softmax(s.masked_fill(~keys, float("-inf")), 0)
        c = X[i] + (a @ Vv) @ T["w_o"]
        logits = T["scale"][0] * (c @ Et[:NC].T) + T["bias"]
        losses.append(torch.logsumexp(logits, 0) - logits[rows[hid]])
loss = torch.stack(losses).mean()
loss.backward()

os.makedirs(OUT, exist_ok=True)
with open(os.path.join(OUT, "context.txt"), "w") as f:
    f.write(f"d {D} dk {DK} vocab {V} candidates {NC} position_scale {PSCALE}\n")
    for row in E:
        f.write(" ".join(repr(float(x)) for x in row) + "\n")
    for a in (wq, wk, wv, wo, bias, scale):
        f.write(" ".join(repr(float(x)) for x in a.reshape(-1)) + "\n")
    f.write(f"sentences {len(SENTS)}\n")
    for rows, hid, pred in SENTS:
        f.write(f"{len(rows)} {hid}\n")
        for x, p in zip(rows, pred):
            f.write(f"{x} {p}\n")
    f.write("loss %.17g\n" % loss.item())
    for k in ("w_q", "w_k", "w_v", "w_o", "bias", "scale"):
        f.write(" ".join("%.17g" % x for x in T[k].grad.numpy().reshape(-1)) + "\n")
print(f"wrote {OUT}/context.txt (loss {loss.item():.6f}, {len(losses)} predicting rows)")
