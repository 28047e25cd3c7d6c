"""Writes head files (head_file.h's format) for the fixture scripts (make-attention-fixtures.py,
make-head-fixtures.py): safetensors, the tensors back to back in the order given, the header padded to 8 bytes."""
import json
import struct

import numpy as np


def write(path, tensors, meta):
    """tensors: (name, array) pairs, each written as little-endian float32 in its shape; meta: __metadata__."""
    header = {"__metadata__": meta}
    blobs, pos = [], 0
    for name, w in tensors:
        b = np.ascontiguousarray(w, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(w.shape), "data_offsets": [pos, pos + len(b)]}
        blobs.append(b)
        pos += len(b)
    js = json.dumps(header, separators=(",", ":")).encode()
    js += b" " * ((8 - (8 + len(js)) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(js)) + js + b"".join(blobs))
