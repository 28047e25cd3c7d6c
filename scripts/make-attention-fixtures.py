#!/usr/bin/python3
"""Writes PyTorch reference fixtures for the attention module (Debian python3-torch + numpy; deterministic).

Usage: make-attention-fixtures.py [OUT_DIR]       (default tests/fixtures/attention)

For each case the out dir gets
  CASE.txt                 the inputs and the expected weights/outputs (format below)
  CASE.head.safetensors    the head in the project's head format (absent for identity heads)
and, pinning definitions shared with the C code,
  random-seed42-d8-k4.head.safetensors   attn_head_random(8, 4, 42) re-implemented here (splitmix64, Xavier bound)
  positions.txt            0.5 · sinusoidal positions for n = 6, d = 7

Each case is computed twice:
  ref  the formula, in float64:  A = nan_to_num(torch.softmax(Q @ K.T / sqrt(d_k) + M, -1)),  Z = A @ V (@ W_O)
       with M = -inf at masked keys (OOV) and above the diagonal (causal);
  mha  torch.nn.MultiheadAttention(num_heads=1, bias=False) in float32, its random initialisation mapped into the
       head format (row-vector convention: w = weight.T):
       - d_k = d_model = E:  w_q, w_k, w_v = in_proj_weight[0:E].T, [E:2E].T, [2E:3E].T,  w_o = out_proj.weight.T
         (a head without w_o: out_proj.weight = I);
       - d_k != d_model: MHA's query must be embed_dim wide, so MHA(embed_dim=d_k, kdim=vdim=d_model) gets
         query = X' @ w_q with q_proj_weight = I and out_proj.weight = I, key = value = X' (w_k = k_proj_weight.T,
         w_v = v_proj_weight.T), and its output is multiplied by w_o afterwards (a head without w_o: not, and its
         output stays d_k wide);
       key_padding_mask = the OOV mask, attn_mask = the causal mask; rows with every key masked come out NaN from
       torch and are mapped to 0 (nan_to_num), the module's documented behaviour.
The script asserts that ref and mha agree (1e-5) before writing anything.

CASE.txt format (ASCII; floats as %.9g, which reads back to the same float32):
  embvsattn-attention-fixture 1
  name CASE
  head identity | CASE.head.safetensors
  n N / d_model D / d_k K / positions none|sinusoidal / position_scale S / causal 0|1
  mask m_0 … m_{n-1}          (1 = OOV: key masked, X row zero)
  X        then n lines of d_model floats
  A_ref    n lines of n     Z_ref  n lines of d_model (of d_k for a head without w_o whose d_k != d_model: its
  A_mha    n lines of n     Z_mha  n lines of d_model  output A @ V is not in the vectors' space; embvsattn
                                                       computes only A for it)
  end
"""
import math
import os
import sys

import numpy as np
import torch

import headfile
from sinusoidal import positions

OUT = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/attention"
torch.set_num_threads(1)

CASES = [
    # name,                   head,      n, d_model, d_k, w_o, positions, scale, causal, mask, x_scale
    ("identity_plain",          "identity", 5, 8, 8, False, "none", 0.5, 0, [0, 0, 0, 0, 0], 0.5),
    ("identity_oov_causal_pos", "identity", 6, 8, 8, False, "sinusoidal", 0.5, 1, [0, 1, 0, 0, 1, 0], 0.5),
    ("mha_full",                "mha",      7, 16, 16, True, "none", 0.5, 0, [0, 0, 1, 0, 0, 0, 1], 0.55),
    ("mha_full_causal_pos",     "mha",      9, 12, 12, True, "sinusoidal", 1.0, 1, [1, 0, 0, 1, 0, 0, 0, 0, 0], 0.55),
    ("mha_kdim_dk8",            "mha",      6, 16, 8, True, "sinusoidal", 0.5, 1, [0, 0, 1, 0, 0, 0], 0.55),
    ("mha_no_wo",               "mha",      5, 10, 10, False, "none", 0.5, 0, [0, 1, 0, 0, 0], 0.55),
    ("n1",                      "mha",      1, 8, 4, True, "none", 0.5, 0, [0], 0.55),
    ("all_oov",                 "mha",      4, 8, 8, True, "sinusoidal", 0.5, 0, [1, 1, 1, 1], 0.55),
    ("large_scores",            "identity", 6, 8, 8, False, "none", 0.5, 0, [0, 0, 0, 1, 0, 0], 30.0),
    ("glove_like",              "mha",      12, 32, 20, True, "sinusoidal", 0.5, 1,
     [0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0], 0.55),
    # no w_o and d_k != d_model: weights only; d_model 100 so that tests/cli can use it with tests/fixtures/mini.txt
    ("no_wo_dk16",              "mha",      5, 100, 16, False, "none", 0.5, 0, [0, 0, 1, 0, 0], 0.55),
]


def write_head(path, w_q, w_k, w_v, w_o, meta):
    """A head file: safetensors, tensors in order w_q, w_k, w_v, (w_o), header padded to 8 bytes."""
    tensors = [("w_q", w_q), ("w_k", w_k), ("w_v", w_v)] + ([("w_o", w_o)] if w_o is not None else [])
    headfile.write(path, tensors, meta)


def splitmix64_xavier(d_model, d_k, seed):
    """attn_head_random: splitmix64, u = (z >> 11) · 2^-53, w = float32((2u - 1) · b), b = sqrt(6 / (d_model + d_k))."""
    mask = (1 << 64) - 1
    state = seed & mask
    bound = math.sqrt(6.0 / (d_model + d_k))

    def fill(count):
        nonlocal state
        out = np.empty(count, dtype=np.float32)
        for i in range(count):
            state = (state + 0x9E3779B97F4A7C15) & mask
            z = state
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
            z ^= z >> 31
            u = (z >> 11) * 2.0 ** -53
            out[i] = np.float32((2.0 * u - 1.0) * bound)
        return out

    w_q = fill(d_model * d_k).reshape(d_model, d_k)
    w_k = fill(d_model * d_k).reshape(d_model, d_k)
    w_v = fill(d_model * d_k).reshape(d_model, d_k)
    w_o = fill(d_k * d_model).reshape(d_k, d_model)
    return w_q, w_k, w_v, w_o


def reference(xp, w_q, w_k, w_v, w_o, mask, causal):
    """The formula in float64 with torch.softmax."""
    x = torch.from_numpy(xp.astype(np.float64))
    wq, wk, wv = (torch.from_numpy(w.astype(np.float64)) for w in (w_q, w_k, w_v))
    q, k, v = x @ wq, x @ wk, x @ wv
    n, d_k = q.shape
    m = torch.zeros(n, n, dtype=torch.float64)
    m[:, torch.tensor(mask, dtype=torch.bool)] = -math.inf
    if causal:
        m = m.masked_fill(torch.ones(n, n, dtype=torch.bool).triu(1), -math.inf)
    a = torch.nan_to_num(torch.softmax(q @ k.T / math.sqrt(d_k) + m, dim=-1), nan=0.0)
    z = a @ v
    if w_o is not None:
        z = z @ torch.from_numpy(w_o.astype(np.float64))
    return a.numpy(), z.numpy()


def make_mha_head(d_model, d_k, with_o, seed):
    """A torch MHA (its own Xavier init) and the head-format weights it corresponds to."""
    torch.manual_seed(seed)
    if d_k == d_model:
        mha = torch.nn.MultiheadAttention(d_model, num_heads=1, bias=False)
        E = d_model
        ipw = mha.in_proj_weight.detach()
        w_q, w_k, w_v = (ipw[i * E:(i + 1) * E].T.numpy().copy() for i in range(3))
        if with_o:
            w_o = mha.out_proj.weight.detach().T.numpy().copy()
        else:
            with torch.no_grad():
                mha.out_proj.weight.copy_(torch.eye(E))
            w_o = None
        return mha, w_q, w_k, w_v, w_o, None
    mha = torch.nn.MultiheadAttention(d_k, num_heads=1, bias=False, kdim=d_model, vdim=d_model)
    wq_t = torch.empty(d_k, d_model)
    wo_t = torch.empty(d_model, d_k)
    torch.nn.init.xavier_uniform_(wq_t)
    torch.nn.init.xavier_uniform_(wo_t)
    with torch.no_grad():
        mha.q_proj_weight.copy_(torch.eye(d_k))
        mha.out_proj.weight.copy_(torch.eye(d_k))
    w_q = wq_t.T.numpy().copy()
    w_k = mha.k_proj_weight.detach().T.numpy().copy()
    w_v = mha.v_proj_weight.detach().T.numpy().copy()
    w_o = wo_t.T.numpy().copy() if with_o else None
    return mha, w_q, w_k, w_v, w_o, (w_q, w_o)


def run_mha(mha, outside, xp, mask, causal):
    """MultiheadAttention in float32 (batch of one, sequence-first), NaN rows → 0."""
    mha.eval()
    n = xp.shape[0]
    x = torch.from_numpy(xp).unsqueeze(1)  # (n, 1, d_model)
    q = x if outside is None else (torch.from_numpy(xp) @ torch.from_numpy(outside[0])).unsqueeze(1)
    kpm = torch.tensor(mask, dtype=torch.bool).unsqueeze(0)  # (1, n): True = ignore
    am = torch.ones(n, n, dtype=torch.bool).triu(1) if causal else None
    with torch.no_grad():
        out, w = mha(q, x, x, key_padding_mask=kpm, attn_mask=am, need_weights=True)
    out = out[:, 0, :]
    if outside is not None and outside[1] is not None:
        out = out @ torch.from_numpy(outside[1])
    return torch.nan_to_num(w[0], nan=0.0).numpy(), torch.nan_to_num(out, nan=0.0).numpy()


def close(a, b, tol=1e-5):
    atol = tol * max(float(np.max(np.abs(b))), 1e-30)
    return bool(np.all(np.abs(a.astype(np.float64) - b.astype(np.float64)) <= atol + tol * np.abs(b)))


def fmt_rows(m):
    return "".join(" ".join("%.9g" % float(v) for v in row) + "\n" for row in np.atleast_2d(m))


def main():
    os.makedirs(OUT, exist_ok=True)
    for ci, (name, kind, n, dm, dk, with_o, pos, scale, causal, mask, xs) in enumerate(CASES):
        seed = 1000 + ci
        rng = np.random.default_rng(seed)
        X = (rng.standard_normal((n, dm)) * xs).astype(np.float32)
        X[np.array(mask, dtype=bool)] = 0.0  # OOV rows are zero (tok_vectors)
        xp = X + positions(n, dm, scale) if pos == "sinusoidal" else X.copy()
        if kind == "identity":
            eye = np.eye(dm, dtype=np.float32)
            w_q = w_k = w_v = eye
            w_o = None
            mha = torch.nn.MultiheadAttention(dm, num_heads=1, bias=False)
            with torch.no_grad():
                mha.in_proj_weight.copy_(torch.eye(dm).repeat(3, 1))
                mha.out_proj.weight.copy_(torch.eye(dm))
            outside = None
            head = "identity"
        else:
            mha, w_q, w_k, w_v, w_o, outside = make_mha_head(dm, dk, with_o, seed)
            head = name + ".head.safetensors"
            write_head(os.path.join(OUT, head), w_q, w_k, w_v, w_o,
                       {"format": "embvsattn-head", "format_version": "1", "kind": "file",
                        "description": "torch MultiheadAttention fixture " + name, "positions": pos,
                        "position_scale": "%.9g" % scale})
        a_ref, z_ref = reference(xp, w_q, w_k, w_v, w_o, mask, causal)
        a_mha, z_mha = run_mha(mha, outside, xp, mask, causal)
        assert close(a_mha, a_ref) and close(z_mha, z_ref), "torch paths disagree on " + name
        assert not np.isnan(a_ref).any() and not np.isnan(z_ref).any()
        with open(os.path.join(OUT, name + ".txt"), "w") as f:
            f.write("embvsattn-attention-fixture 1\n")
            f.write("name %s\nhead %s\nn %d\nd_model %d\nd_k %d\n" % (name, head, n, dm, dk))
            f.write("positions %s\nposition_scale %.9g\ncausal %d\n" % (pos, scale, causal))
            f.write("mask " + " ".join(str(m) for m in mask) + "\n")
            f.write("X\n" + fmt_rows(X))
            f.write("A_ref\n" + fmt_rows(a_ref.astype(np.float32)) + "Z_ref\n" + fmt_rows(z_ref.astype(np.float32)))
            f.write("A_mha\n" + fmt_rows(a_mha) + "Z_mha\n" + fmt_rows(z_mha))
            f.write("end\n")
    w_q, w_k, w_v, w_o = splitmix64_xavier(8, 4, 42)
    write_head(os.path.join(OUT, "random-seed42-d8-k4.head.safetensors"), w_q, w_k, w_v, w_o,
               {"format": "embvsattn-head", "format_version": "1", "kind": "random", "seed": "42"})
    with open(os.path.join(OUT, "positions.txt"), "w") as f:
        f.write(fmt_rows(positions(6, 7, 0.5)))
    print("wrote", OUT, len(CASES), "cases, torch", torch.__version__)


if __name__ == "__main__":
    main()
