#!/usr/bin/python3
"""Writes the numpy reference fixture of the meaning/position split of attention logits (explain.h).

Usage: make-explain-fixture.py [OUT]       (default tests/fixtures/explain.txt; Debian python3-numpy; deterministic)

For each case, in float64 from float32 inputs: X' = X + s·P (scripts/sinusoidal.py), M = W_Q·W_Kᵀ/√d_k and
  ee = E·M·Eᵀ   ep = E·M·Pᵀ   pe = P·M·Eᵀ   pp = P·M·Pᵀ       (rows: queries, columns: keys)
  meaning  = softmax of ee over the allowed keys, position = softmax of ep + pe + pp over the same keys
(allowed: the key is not masked, j <= i when causal, j != i when the head excludes itself; a row with none is 0;
disallowed entries of the terms are written as 0). The script asserts that ee + ep + pe + pp equals Q·Kᵀ/√d_k
computed from X' directly and that its softmax is the attention weights before writing anything.

Format (ASCII, floats %.9g): "embvsattn-explain-fixture 1", then per case
  case NAME / n N / d_model D / d_k K / identity 0|1 / positions none|sinusoidal / position_scale S / causal 0|1
  exclude_self 0|1 / mask m_0 … m_{n-1}
  w_q  D lines of K (absent for identity)   w_k  the same
  X    n lines of D
  ee, ep, pe, pp, meaning, position, weights   n lines of n each
  end
and "done" after the last case.
"""
import math
import sys

import numpy as np

from sinusoidal import positions

OUT = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/explain.txt"

CASES = [
    # name,               identity, n, d_model, d_k, positions,   scale, causal, exclude_self, mask
    ("pos_causal_oov",     0, 6, 8, 4, "sinusoidal", 0.5, 1, 0, [0, 1, 0, 0, 0, 1]),
    ("pos_exclude_self",   0, 5, 6, 6, "sinusoidal", 1.0, 0, 1, [0, 0, 1, 0, 0]),
    ("no_positions",       0, 4, 8, 8, "none",       0.5, 0, 0, [0, 0, 0, 0]),
    ("identity_positions", 1, 5, 8, 8, "sinusoidal", 0.3, 0, 1, [0, 0, 0, 1, 0]),
]


def softmax_rows(L, allowed):
    out = np.zeros_like(L)
    for i in range(L.shape[0]):
        a = allowed[i]
        if a.any():
            m = L[i, a].max()
            e = np.exp(L[i, a] - m)
            out[i, a] = e / e.sum()
    return out


def fmt(m):
    return "".join(" ".join("%.9g" % float(v) for v in row) + "\n" for row in np.atleast_2d(m))


def main():
    parts = ["embvsattn-explain-fixture 1\n"]
    for ci, (name, ident, n, dm, dk, pos, scale, causal, excl, mask) in enumerate(CASES):
        rng = np.random.default_rng(2000 + ci)
        X = (rng.standard_normal((n, dm)) * 0.6).astype(np.float32)
        X[np.array(mask, dtype=bool)] = 0.0
        if ident:
            w_q = w_k = np.eye(dm, dtype=np.float32)
        else:
            b = math.sqrt(6.0 / (dm + dk))
            w_q = rng.uniform(-b, b, (dm, dk)).astype(np.float32)
            w_k = rng.uniform(-b, b, (dm, dk)).astype(np.float32)
        P = positions(n, dm, scale) if pos == "sinusoidal" else np.zeros((n, dm), dtype=np.float32)
        E64, P64 = X.astype(np.float64), P.astype(np.float64)
        M = w_q.astype(np.float64) @ w_k.astype(np.float64).T / math.sqrt(dk)
        terms = [E64 @ M @ E64.T, E64 @ M @ P64.T, P64 @ M @ E64.T, P64 @ M @ P64.T]
        allowed = np.ones((n, n), dtype=bool)
        allowed[:, np.array(mask, dtype=bool)] = False
        if causal:
            allowed &= ~np.triu(np.ones((n, n), dtype=bool), 1)
        if excl:
            np.fill_diagonal(allowed, False)
        xp = E64 + P64
        logits = (xp @ w_q.astype(np.float64)) @ (xp @ w_k.astype(np.float64)).T / math.sqrt(dk)
        total = sum(terms)
        assert np.allclose(total, logits, rtol=1e-12, atol=1e-12), name
        weights = softmax_rows(logits, allowed)
        assert np.allclose(softmax_rows(total, allowed), weights, atol=1e-12), name
        meaning = softmax_rows(terms[0], allowed)
        position = softmax_rows(terms[1] + terms[2] + terms[3], allowed)
        parts.append("case %s\nn %d\nd_model %d\nd_k %d\nidentity %d\npositions %s\nposition_scale %.9g\n"
                     "causal %d\nexclude_self %d\nmask %s\n" % (name, n, dm, dk, ident, pos, scale, causal, excl,
                                                               " ".join(str(m) for m in mask)))
        if not ident:
            parts.append("w_q\n" + fmt(w_q) + "w_k\n" + fmt(w_k))
        parts.append("X\n" + fmt(X))
        for label, m in zip(("ee", "ep", "pe", "pp"), terms):
            parts.append(label + "\n" + fmt(np.where(allowed, m, 0.0)))
        parts.append("meaning\n" + fmt(meaning) + "position\n" + fmt(position) + "weights\n" + fmt(weights) + "end\n")
    parts.append("done\n")
    with open(OUT, "w") as f:
        f.write("".join(parts))


if __name__ == "__main__":
    main()
