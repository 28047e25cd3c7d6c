#!/usr/bin/python3
"""The trained head's PyTorch reference and interop fixture (Debian python3-torch + numpy; deterministic).

Usage: make-head-fixtures.py [OUT_DIR]          (default tests/fixtures/head)

Defines head_model.h's model as a torch module — nn.Linear projections without bias, a [MASK] vector and an output
bias — trains it for a few Adam steps in torch on a toy vocabulary (full softmax), and saves it as a head file
the way any torch user would (save_head below: the documented tensor names and shapes, weights transposed from
nn.Linear's [out, in] to the head format's [in, out]):

    w_q = q_proj.weight.T  [d_model, d_k]     w_k = k_proj.weight.T  [d_model, d_k]
    w_v = v_proj.weight.T  [d_model, d_k]     w_o = o_proj.weight.T  [d_k, d_model]
    train_mask = mask.reshape(1, d_model)      train_bias = bias.reshape(1, n_cand)
    __metadata__ = {"format": "embvsattn-head", "format_version": "1", "positions": "sinusoidal",
                    "position_scale": "0.3", "candidates": str(n_cand), ...}

Writes OUT_DIR/torch.head.safetensors, OUT_DIR/torch-vocab.txt (the toy vocabulary as GloVe text: words v0 … v39)
and OUT_DIR/torch-corpus.txt (40 lines of its words, a few unknown ones) for the CLI cases (tests/cli/head-*),
and OUT_DIR/torch.txt, which tests/test_head.c reads:
  n N d D dk K candidates C position_scale S
  X (n×d floats): a sentence's vectors;  A (n×n), Z (n×d): what torch computes for it with the trained head in the
      main view's convention (attention.h: X' = X + s·P, A = softmax(X'W_Q (X'W_K)ᵀ/√d_k) over the other tokens —
      the head says self_attention "excluded", as it was trained —, Z = A·X'W_V·W_O)
  vocab V, then V×d floats: the toy vocabulary's vectors (row i is word "v{i}")
  batch T negatives N, then T lines "row query target", N negatives, C floats log(N·Q(c)):
      one sentence of head_model.h's training task (row -1: placeholder; query -1: [MASK])
  loss L: the mean sampled-softmax loss torch computes for that batch (float64 from the float32 parameters)
  then the gradient of L with respect to every parameter (autograd), in the order of the head's parameter block (head_model.h):
      w_q (d×dk), w_k, w_v, w_o (dk×d), mask (d), bias (C)
Floats are written with repr() of float32 values (exact) or %.17g for float64.
"""
import math
import os
import sys

import numpy as np
import torch

import headfile
from sinusoidal import positions

OUT = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/head"
torch.manual_seed(5)
torch.set_num_threads(1)
rng = np.random.default_rng(5)

D, DK, V, NC, SCALE = 12, 6, 40, 30, 0.3


class Head(torch.nn.Module):
    """head_model.h's model: q/k/v/o projections, the [MASK] query input and the output bias."""

    def __init__(self, d, dk, nc):
        super().__init__()
        self.q_proj = torch.nn.Linear(d, dk, bias=False)
        self.k_proj = torch.nn.Linear(d, dk, bias=False)
        self.v_proj = torch.nn.Linear(d, dk, bias=False)
        self.o_proj = torch.nn.Linear(dk, d, bias=False)
        self.mask = torch.nn.Parameter(torch.zeros(d))
        self.bias = torch.nn.Parameter(torch.zeros(nc))

    def outputs(self, E, pe, row, query):
        """z (T, d) of one sentence: query i is [MASK] (query -1) or E[query] (+ position); keys and values are the
        known tokens' E[row] + position, i's own excluded."""
        T = len(row)
        known = torch.tensor([r >= 0 for r in row])
        x = torch.where(known[:, None], E[torch.tensor([max(r, 0) for r in row])] + pe[:T], torch.zeros(1, dtype=E.dtype))
        u = torch.stack([(self.mask if q < 0 else E[q]) + pe[i] for i, q in enumerate(query)])
        q, k, v = self.q_proj(u), self.k_proj(x), self.v_proj(x)
        s = q @ k.T / math.sqrt(q.shape[1])
        allowed = known[None, :] & ~torch.eye(T, dtype=torch.bool)
        a = torch.softmax(s.masked_fill(~allowed, float("-inf")), dim=1)
        return self.o_proj(torch.nan_to_num(a) @ v)

    def sampled_loss(self, E, pe, row, query, target, neg, logq):
        """head_model.h's loss: mean over targets of −log softmax([l_t, l_neg…]), l_c = z·E_c + b_c − log(N·Q(c)),
        negatives equal to the target removed."""
        z = self.outputs(E, pe, row, query)
        losses = []
        neg_t = torch.tensor(neg)
        for i, t in enumerate(row):
            if not target[i]:
                continue
            lt = z[i] @ E[t] + self.bias[t] - logq[t]
            ln = E[neg_t] @ z[i] + self.bias[neg_t] - logq[neg_t]
            ln = ln.masked_fill(neg_t == t, float("-inf"))
            losses.append(torch.logsumexp(torch.cat([lt[None], ln]), 0) - lt)
        return torch.stack(losses).mean()


def save_head(path, head, meta):
    """A head file from a torch Head: the documented names, [in, out] layout, safetensors, header padded to 8."""
    tensors = [("w_q", head.q_proj.weight.T), ("w_k", head.k_proj.weight.T), ("w_v", head.v_proj.weight.T),
               ("w_o", head.o_proj.weight.T), ("train_mask", head.mask.reshape(1, -1)),
               ("train_bias", head.bias.reshape(1, -1))]
    headfile.write(path, [(name, w.detach().to(torch.float32).numpy()) for name, w in tensors], meta)


def main():
    os.makedirs(OUT, exist_ok=True)
    E32 = (rng.standard_normal((V, D)) * 0.8).astype(np.float32)
    E = torch.tensor(E32)
    pe = torch.tensor(positions(64, D, SCALE))
    head = Head(D, DK, NC)
    with torch.no_grad():
        head.mask.normal_(0, 0.3)
        head.bias.normal_(-3.4, 0.2)
    # a few Adam steps of the masked task in torch (full softmax over the candidates, [MASK] queries): "trained in
    # PyTorch"
    opt = torch.optim.Adam(head.parameters(), lr=1e-2)
    for step in range(30):
        row = [int(r) for r in rng.integers(0, NC, 8)]
        z = head.outputs(E, pe, row, [-1] * 8)
        loss = torch.nn.functional.cross_entropy(z @ E[:NC].T + head.bias, torch.tensor(row))
        opt.zero_grad()
        loss.backward()
        opt.step()
    save_head(os.path.join(OUT, "torch.head.safetensors"), head,
              {"format": "embvsattn-head", "format_version": "1", "kind": "trained",
               "description": "trained in PyTorch by scripts/make-head-fixtures.py", "positions": "sinusoidal",
               "self_attention": "excluded",
               "position_scale": repr(SCALE), "candidates": str(NC)})

    # the parameters as stored (float32), in float64 for the references
    p = {k: v.detach().to(torch.float64).clone() for k, v in head.state_dict().items()}
    E64 = E.to(torch.float64)
    pe64 = pe.to(torch.float64)
    lines = [f"n 7 d {D} dk {DK} candidates {NC} position_scale {SCALE!r}"]
    # 1. the main view's convention on a sentence of 7 vectors
    X = torch.tensor((rng.standard_normal((7, D)) * 0.8).astype(np.float32)).to(torch.float64)
    xp = X + pe64[:7]
    q, k, v = xp @ p["q_proj.weight"].T, xp @ p["k_proj.weight"].T, xp @ p["v_proj.weight"].T
    A = torch.softmax((q @ k.T / math.sqrt(DK)).masked_fill(torch.eye(7, dtype=torch.bool), float("-inf")), dim=1)
    Z = A @ v @ p["o_proj.weight"].T
    fl = lambda t: " ".join(repr(float(np.float32(x))) for x in t.reshape(-1).tolist())
    f64 = lambda t: " ".join("%.17g" % x for x in t.reshape(-1).tolist())
    lines += [fl(X), f64(A), f64(Z)]
    # 2. the training task on one batch: loss and autograd gradients, float64
    lines.append(f"vocab {V}")
    lines.append(fl(E))
    row = [3, -1, 7, 35, 12, 3, 29, -1, 0, 21]
    query = [-1, -1, 15, 35, 12, -1, 29, -1, 5, -1]
    target = [1, 0, 1, 0, 1, 1, 1, 0, 1, 1]
    neg = [7, 2, 2, 29, 12, 0, 18, 7, 3, 25, 11, 20, 21]
    logq32 = (rng.standard_normal(NC) * 0.3 - 1.0).astype(np.float32)
    h64 = Head(D, DK, NC).to(torch.float64)
    h64.load_state_dict(p)
    loss = h64.sampled_loss(E64, pe64, row, query, target, neg, torch.tensor(logq32).to(torch.float64))
    loss.backward()
    lines.append(f"batch {len(row)} negatives {len(neg)}")
    lines += [f"{r} {q_} {t}" for r, q_, t in zip(row, query, target)]
    lines.append(" ".join(map(str, neg)))
    lines.append(" ".join(repr(float(x)) for x in logq32))
    lines.append("loss %.17g" % loss.item())
    g = [h64.q_proj.weight.grad.T, h64.k_proj.weight.grad.T, h64.v_proj.weight.grad.T, h64.o_proj.weight.grad.T,
         h64.mask.grad, h64.bias.grad]
    lines.append(" ".join(f64(t.contiguous()) for t in g))
    with open(os.path.join(OUT, "torch-vocab.txt"), "w") as f:
        for i in range(V):
            f.write(f"v{i} " + " ".join(repr(float(x)) for x in E32[i]) + "\n")
    with open(os.path.join(OUT, "torch-corpus.txt"), "w") as f:
        for i in range(40):
            words = [f"v{int(w)}" for w in rng.integers(0, V, int(rng.integers(3, 9)))]
            if i % 7 == 3:
                words.insert(1, "unknown")
            f.write(" ".join(words) + "\n")
    with open(os.path.join(OUT, "torch.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {OUT}/torch.head.safetensors and {OUT}/torch.txt (loss {loss.item():.6f})")


if __name__ == "__main__":
    main()
