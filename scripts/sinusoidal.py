"""The sinusoidal position encodings of attention.h, for the fixture scripts (make-attention-fixtures.py,
make-head-fixtures.py) that compare the C code with PyTorch."""
import math

import numpy as np


def positions(n, d, scale):
    """scale · P in float32, P computed in float64 (attention.h's definition):
    P[pos, 2i] = sin(pos / 10000^(2i/d)), P[pos, 2i+1] = cos(pos / 10000^(2i/d))."""
    pe = np.zeros((n, d))
    for pos in range(n):
        for i in range(0, d, 2):
            angle = pos / math.pow(10000.0, i / d)
            pe[pos, i] = math.sin(angle)
            if i + 1 < d:
                pe[pos, i + 1] = math.cos(angle)
    return (float(np.float32(scale)) * pe).astype(np.float32)
