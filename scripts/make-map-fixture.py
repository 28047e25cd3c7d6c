#!/usr/bin/python3
"""Writes the numpy reference fixtures of the movement map's PCA (movement_map.h's map_pca2; deterministic).

Usage: make-map-fixture.py [OUT_DIR]        (default tests/fixtures/map)

Each case CASE.txt holds float32 points and what numpy computes from them in float64: the points centred, their
covariance (1/m) XᵀX, numpy.linalg.eigh, the two largest eigenpairs, each axis's sign flipped so that its coefficient
of largest magnitude is positive (the lower index on a tie), the coordinates (X - mean) · axis and each axis's share
of the trace. Cases:
  aniso   40 points in 10-D, Gaussian with standard deviations 5, 3, 2, 1, … (well separated axes)
  unit    60 unit vectors in 20-D drawn around three centres (the map's situation: words in a few directions)
Format (ASCII; floats as %.9g, which read back to the same float32 for the points):
  embvsattn-map-fixture 1
  m M d D
  M lines of D floats: the points
  explained E1 E2
  M lines of 2 floats: the coordinates
The test (tests/test_map.c) requires |x - x_numpy| <= 1e-5 · (1 + max |coordinate|) and |E - E_numpy| <= 1e-6.
"""
import os
import sys

import numpy as np


def sign_fix(v):
    j = int(np.argmax(np.abs(v)))  # the first of equal magnitudes
    return -v if v[j] < 0 else v


def write(path, P):
    P = P.astype(np.float32)
    X = P.astype(np.float64)
    Xc = X - X.mean(axis=0)
    C = Xc.T @ Xc / X.shape[0]
    w, V = np.linalg.eigh(C)
    order = np.argsort(-w, kind="stable")[:2]
    axes = [sign_fix(V[:, k]) for k in order]
    xy = np.stack([Xc @ a for a in axes], axis=1)
    tr = np.trace(C)
    ev = [w[k] / tr for k in order]
    assert w[order[0]] > 1.05 * w[order[1]] and w[order[1]] > 1.05 * w[np.argsort(-w)[2]], "axes too close"
    with open(path, "w") as f:
        f.write("embvsattn-map-fixture 1\n")
        f.write("m %d d %d\n" % P.shape)
        for row in P:
            f.write(" ".join("%.9g" % x for x in row) + "\n")
        f.write("explained %.17g %.17g\n" % (ev[0], ev[1]))
        for row in xy:
            f.write("%.17g %.17g\n" % (row[0], row[1]))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/map"
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(20261203)
    sd = np.array([5, 3, 2, 1, 0.8, 0.6, 0.5, 0.4, 0.3, 0.2])
    write(os.path.join(out, "aniso.txt"), rng.standard_normal((40, 10)) * sd + 0.5)
    centres = rng.standard_normal((3, 20)) * 2
    P = np.concatenate([c + rng.standard_normal((20, 20)) * 0.7 for c in centres])
    P /= np.linalg.norm(P, axis=1, keepdims=True)
    write(os.path.join(out, "unit.txt"), P)


if __name__ == "__main__":
    main()
