#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora (tests/fuzz/corpus/TARGET/) and the binary files among the bad inputs
(tests/bad-inputs/). Deterministic, standard library only; re-run after changing it and commit what it writes.
    tests/fuzz/make-inputs.py            # from the repository root
"""
import json
import math
import os
import struct
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")
BAD = os.path.join(ROOT, "tests", "bad-inputs")


def put(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(path, "wb") as f:
        f.write(data)


def seed(target, name, data):
    put(os.path.join(CORPUS, target, name), data)


def bad(name, data):
    put(os.path.join(BAD, name), data)


# ---- safetensors files ---------------------------------------------------------------------------------------

def safetensors(tensors, metadata, align, header_override=None, raw_header=None, tail=b""):
    """tensors: list of (name, dtype, shape, bytes). Data back to back in order; header padded to align."""
    hdr = {}
    if metadata is not None:
        hdr["__metadata__"] = metadata
    pos = 0
    data = b""
    for name, dtype, shape, raw in tensors:
        hdr[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [pos, pos + len(raw)]}
        pos += len(raw)
        data += raw
    if header_override:
        header_override(hdr)
    js = raw_header if raw_header is not None else json.dumps(hdr, separators=(",", ":")).encode()
    pad = (align - (8 + len(js)) % align) % align
    js += b" " * pad
    return struct.pack("<Q", len(js)) + js + data + tail


def fnv1a(b):
    h = 14695981039346656037
    for c in b:
        h ^= c
        h = (h * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h


def cache_tensors(words, vectors):
    V, d = len(words), len(vectors[0])
    vocab = b"".join(w + b"\0" for w in words)
    offs, p = [0], 0
    for w in words:
        p += len(w) + 1
        offs.append(p)
    H = 2
    while H < 2 * V:
        H *= 2
    index = [-1] * H
    for i, w in enumerate(words):
        h = fnv1a(w) & (H - 1)
        while index[h] >= 0:
            h = (h + 1) & (H - 1)
        index[h] = i
    norms = [math.sqrt(sum(x * x for x in v)) for v in vectors]
    return [
        ("vocab_offsets", "I64", [V + 1], struct.pack("<%dq" % (V + 1), *offs)),
        ("vectors", "F32", [V, d], struct.pack("<%df" % (V * d), *[x for v in vectors for x in v])),
        ("norms", "F32", [V], struct.pack("<%df" % V, *norms)),
        ("index", "I32", [H], struct.pack("<%di" % H, *index)),
        ("vocab", "U8", [len(vocab)], vocab),
    ]


CACHE_META = {"format": "embvsattn-cache", "format_version": "1", "source": "/tmp/tiny.txt",
              "source_format": "glove", "tool_version": "0.1.0", "index_hash": "fnv1a64-linear-probe"}
WORDS = [b"the", b"king", b"queen", b"France", b"na\xc3\xafve"]
VECS = [[0.1, 0.2, -0.3], [1.5, -2.25, 0.03], [1.25, -2.0, 0.5], [0.0, -0.0, 1.0], [0.5, 0.5, 0.5]]


def cache(words=WORDS, vecs=VECS, meta=CACHE_META, override=None, tensors_edit=None, **kw):
    t = cache_tensors(words, vecs)
    if tensors_edit:
        t = tensors_edit(t)
    return safetensors(t, meta, 64, header_override=override, **kw)


NGRAM_META = dict(CACHE_META, format_version="2", source_format="fasttext-bin", ngram_minn="3", ngram_maxn="4",
                  ngram_bucket="4")
NGRAMS = [[0.25, -0.5, 1.0], [0.125, 0.0, -2.0], [1.5, 1.0, 0.5], [-0.75, 0.25, 0.0]]


def cache_ngrams(meta=NGRAM_META, rows=NGRAMS, shape=None, override=None):
    """A version-2 cache with fastText's n-gram rows (tensor ngrams before vocab)."""
    def add(t):
        raw = struct.pack("<%df" % sum(len(r) for r in rows), *[x for r in rows for x in r])
        return t[:-1] + [("ngrams", "F32", shape or [len(rows), len(rows[0])], raw)] + t[-1:]
    return cache(meta=meta, tensors_edit=add, override=override)


def f32(vals):
    return struct.pack("<%df" % len(vals), *vals)


def head(dm, dk, wo=True, meta=None, extra=(), override=None, vals=None, **kw):
    n = dm * dk
    def mat(seed, rows, cols):
        return f32(vals if vals is not None else [((seed * 7 + i * 3) % 11 - 5) * 0.1 for i in range(rows * cols)])
    t = [("w_q", "F32", [dm, dk], mat(1, dm, dk)), ("w_k", "F32", [dm, dk], mat(2, dm, dk)),
         ("w_v", "F32", [dm, dk], mat(3, dm, dk))]
    if wo:
        t.append(("w_o", "F32", [dk, dm], mat(4, dk, dm)))
    t += list(extra)
    m = {"format": "embvsattn-head", "format_version": "1", "positions": "none", "position_scale": "0.5",
         "kind": "file", "description": "fuzz seed"} if meta is None else meta
    return safetensors(t, m, 8, header_override=override, **kw)


def w2v_bin(rows, header=None, newline=True):
    dim = len(rows[0][1]) if rows else 0
    out = (header if header is not None else "%d %d\n" % (len(rows), dim)).encode()
    for w, v in rows:
        out += w + b" " + struct.pack("<%df" % len(v), *v) + (b"\n" if newline else b"")
    return out


BIN_ROWS = [(b"the", [0.1, 0.2, -0.3]), (b"king", [1.5, -2.25, 0.03]), (b"caf\xc3\xa9", [0.0, -0.0, 1e-45])]

# ---- seeds ---------------------------------------------------------------------------------------------------

def seeds():
    tiny = open(os.path.join(ROOT, "tests", "fixtures", "tiny.txt"), "rb").read()
    T = "text"
    seed(T, "glove", tiny)
    seed(T, "glove-crlf", b"the 0.1 0.2\r\nking 1.5 -2.25 \r\n\r\nqueen 1e-45 -0\r\n")
    seed(T, "glove-tabs", b"the\t0.1\t0.2\nking 3.4028235e38 -3.4028235e38\n")
    seed(T, "glove-dup", b"a 1 2\nb 3 4\na 5 6\n")
    seed(T, "glove-utf8", "naïve 0.5 .5\nмосква 5. -5e-1\n€ +1 1E+2\n".encode())
    seed(T, "glove-numword", b"1 0.5\n2 0.25\n")
    seed(T, "glove-blank-first", b"\n  \nthe 1 2 3\n")
    seed(T, "w2v-text", b"3 2\nthe 0.1 0.2\nking 1.5 -2.25\nqueen 1 2\n")
    seed(T, "vec-trailing", b"2 3 \nthe 0.1 0.2 0.3 \nking 1 2 3 \n")
    seed(T, "w2v-count-wrong", b"5 2\nthe 0.1 0.2\n")
    seed(T, "nan", b"the 0.1 nan\n")
    seed(T, "inf", b"the -Infinity 1\n")
    seed(T, "hex", b"the 0x1p3 1\n")
    seed(T, "range", b"the 1e39 1\n")
    seed(T, "too-many", b"the 1 2\nking 1 2 3\n")
    seed(T, "too-few", b"the 1 2\nking 1\n")
    seed(T, "long-digits", b"the 0.000000000000000000000000000000000000000000001401298464324817070923729583289916131280 1\n")
    B = "w2v_bin"
    seed(B, "bin", w2v_bin(BIN_ROWS))
    seed(B, "bin-no-newline", w2v_bin(BIN_ROWS, newline=False))
    seed(B, "bin-dim1", w2v_bin([(b"a", [1.0]), (b"b", [2.0])]))
    seed(B, "bin-truncated", w2v_bin(BIN_ROWS)[:-7])
    seed(B, "bin-nan", w2v_bin([(b"a", [float("nan"), 1.0])]))
    seed(B, "bin-extra", w2v_bin(BIN_ROWS, header="2 3\n"))
    seed(B, "bin-crlf-header", w2v_bin(BIN_ROWS, header="3 3\r\n"))
    seed(B, "bin-gensim", open(os.path.join(ROOT, "tests", "fixtures", "gensim", "kv.bin"), "rb").read())
    C = "cache"
    seed(C, "cache", cache())
    seed(C, "cache-one", cache([b"x"], [[1.0]]))
    seed(C, "cache-no-meta", cache(meta=None))
    seed(C, "cache-nan", cache(vecs=[[float("nan"), 0, 0]] + VECS[1:]))
    seed(C, "cache-dup-words", cache([b"a", b"a", b"b"], [[1.0], [2.0], [3.0]]))
    seed(C, "cache-bad-offsets", cache(tensors_edit=lambda t: [t[0][:3] + (struct.pack("<6q", 0, 4, 3, 12, 20, 26),)]
                                                          + t[1:]))
    seed(C, "cache-bad-index", cache(tensors_edit=lambda t: t[:3] + [("index", "I32", [8], struct.pack("<8i", *[0] * 8))]
                                                        + t[4:]))
    seed(C, "cache-big-shape", cache(override=lambda h: h["vectors"].update(shape=[5, 1 << 40])))
    seed(C, "cache-dtype", cache(override=lambda h: h["norms"].update(dtype="F16")))
    seed(C, "cache-short-header", b"\x02\0\0\0\0\0\0\0{}")
    seed(C, "cache-ngrams", cache_ngrams())
    seed(C, "cache-ngrams-nan", cache_ngrams(rows=[[float("nan"), 0.0, 1.0]] + NGRAMS[1:]))
    H = "head"
    seed(H, "head", head(3, 3))
    seed(H, "head-no-wo", head(3, 3, wo=False))
    seed(H, "head-dk2", head(3, 2))
    seed(H, "head-sinusoidal", head(2, 2, meta={"positions": "sinusoidal", "position_scale": "0.25"}))
    seed(H, "head-no-meta", head(1, 1, meta=None, override=lambda h: h.pop("__metadata__")))
    seed(H, "head-bias", head(2, 2, extra=[("b_q", "F32", [1, 2], f32([0, 0]))]))
    seed(H, "head-nan", head(2, 2, vals=[float("nan")] * 4))
    seed(H, "head-large", head(2, 2, vals=[3e38] * 4))
    K = "tokenizer"
    sentences = [
        "France is a country, it is in Europe.",
        "I don't know Mr. Smith's e-mail (really?) -- he said \"no\"...",
        "The U.S. spent $1,000 on 3.14 state-of-the-art o'neill things; shouldn't've, can't, won't.",
        "“Quoted” ‘single’ — dash – en… ellipsis « guillemets » ¿qué? ¡sí!",
        "naïve café Москва 東京。 emoji 👍🏽 family 👨‍👩‍👧 keycap 1️⃣",
        "a\u00a0nbsp\u2009thin\u200bzero\ufeffbom\u3000ideographic",
        "plan B. etc. J. R. R. Tolkien e.g. ph.d. anti-u.s. google.com",
        "`` PTB quotes '' 's n't 'll ''' ```",
        "x-n't n't 'S N'T I'M WE'LL ....",
        "",
        "   \t  ",
    ]
    for i, s in enumerate(sentences):
        seed(K, "sentence-%02d" % i, s.encode())
    seed(K, "invalid-utf8", b"caf\xc3 \xff\xfe \xed\xa0\x80 \xf4\x90\x80\x80 \xc0\xaf")
    seed(K, "nul", b"the\0king")
    seed(K, "cut-utf8", b"king \xe2\x80")
    A = "batch"
    seed(A, "lines", "\n".join(sentences[:5]).encode() + b"\n")
    seed(A, "crlf", b"the king\r\nthe queen\r\n\r\nFrance\r\n")
    seed(A, "errors", b"zzz qqq\n\xff\xfe\n\n   \nthe\0king\nthe king\n")
    seed(A, "no-final-newline", b"the king is in France")
    seed(A, "many", b"".join(b"the king %d\n" % i for i in range(70)))


def bad_inputs():
    """The binary files among tests/bad-inputs (the text ones are written by hand)."""
    bad("bin-truncated.bin", w2v_bin(BIN_ROWS)[:-9])
    bad("bin-huge-count.bin", w2v_bin(BIN_ROWS, header="4000000000 300\n"))
    bad("bin-nan.bin", w2v_bin([(b"a", [1.0, float("nan")]), (b"b", [1.0, 2.0])]))
    bad("bin-inf.bin", w2v_bin([(b"a", [1.0, float("-inf")])]))
    bad("bin-extra-data.bin", w2v_bin(BIN_ROWS, header="2 3\n"))
    bad("bin-empty-word.bin", b"1 2\n " + f32([1.0, 2.0]) + b"\n")
    bad("bin-huge-dim.bin", b"1 100000000\na " + f32([1.0]) + b"\n")
    bad("bin-limit-short.bin", w2v_bin([(b"a", [1.0, 2.0]), (b"b", [3.0, 4.0]), (b"c", [5.0, 6.0])], header="9 2\n"))
    bad("cache-header-length.safetensors", struct.pack("<Q", 1 << 40) + b"{}" + b"\0" * 90)
    bad("cache-not-json.safetensors", struct.pack("<Q", 8) + b"{not json" + b"\0" * 47)
    bad("cache-missing-tensor.safetensors",
        cache(tensors_edit=lambda t: [x for x in t if x[0] != "norms"]))
    bad("cache-big-shape.safetensors", cache(override=lambda h: h["vectors"].update(shape=[5, 1 << 40])))
    bad("cache-offsets-outside.safetensors",
        cache(override=lambda h: h["vocab"].update(data_offsets=[h["vocab"]["data_offsets"][0], 1 << 40])))
    bad("cache-dtype.safetensors", cache(override=lambda h: h["vectors"].update(dtype="F64")))
    bad("cache-sizes-disagree.safetensors",
        cache(override=lambda h: h["norms"].update(shape=[4], data_offsets=[h["norms"]["data_offsets"][0],
                                                                           h["norms"]["data_offsets"][1] - 4])))
    bad("cache-bad-vocab-offsets.safetensors",
        cache(tensors_edit=lambda t: [t[0][:3] + (struct.pack("<6q", 0, 4, 3, 12, 20, 29),)] + t[1:]))
    bad("cache-wrong-format.safetensors", cache(meta=dict(CACHE_META, format="something-else")))
    bad("cache-truncated.safetensors", cache()[:-20])
    bad("cache-newer-version.safetensors", cache(meta=dict(CACHE_META, format_version="3")))
    bad("cache-ngrams-v1.safetensors", cache_ngrams(meta=dict(NGRAM_META, format_version="1")))
    bad("cache-ngrams-shape.safetensors", cache_ngrams(meta=dict(NGRAM_META, ngram_bucket="5")))
    bad("cache-ngrams-dim.safetensors", cache_ngrams(rows=[[0.5, 0.25]] * 4))
    bad("cache-ngrams-bucket-range.safetensors", cache_ngrams(meta=dict(NGRAM_META, ngram_bucket="4294967296")))
    bad("cache-ngrams-no-meta.safetensors",
        cache_ngrams(meta={k: v for k, v in NGRAM_META.items() if k != "ngram_maxn"}))
    bad("cache-ngrams-missing.safetensors", cache(meta=NGRAM_META))
    bad("cache-ngrams-overflow.safetensors",
        cache_ngrams(override=lambda h: h["ngrams"].update(shape=[1 << 52, 1 << 52])))
    bad("cache-hole.safetensors", cache(tail=b"\0" * 8))
    bad("cache-unaligned.safetensors",
        cache(override=lambda h: h["vectors"].update(data_offsets=[h["vectors"]["data_offsets"][0] + 2,
                                                                   h["vectors"]["data_offsets"][1] + 2])))
    bad("head-nan.safetensors", head(3, 3, vals=[0.5] * 4 + [float("nan")] + [0.5] * 4))
    bad("head-bias.safetensors", head(3, 3, extra=[("b_q", "F32", [1, 3], f32([0, 0, 0]))]))
    bad("head-shape-mismatch.safetensors",
        safetensors([("w_q", "F32", [3, 3], f32([0.1] * 9)), ("w_k", "F32", [3, 2], f32([0.1] * 6)),
                     ("w_v", "F32", [3, 3], f32([0.1] * 9))], {}, 8))
    bad("head-wrong-dim.safetensors", head(4, 4))
    bad("head-overlap.safetensors",
        head(3, 3, override=lambda h: h["w_k"].update(data_offsets=h["w_q"]["data_offsets"])))
    bad("head-header-length.safetensors", struct.pack("<Q", 1 << 62) + b"{}" + b"\0" * 90)
    bad("head-huge-shape.safetensors",
        head(3, 3, override=lambda h: h["w_q"].update(shape=[2000000000, 2000000000])))
    bad("head-position-meta.safetensors", head(3, 3, meta={"positions": "rotary"}))
    bad("head-missing.safetensors",
        safetensors([("w_q", "F32", [3, 3], f32([0.1] * 9)), ("w_k", "F32", [3, 3], f32([0.1] * 9))], {}, 8))


if __name__ == "__main__":
    seeds()
    bad_inputs()
    print("wrote %s and the binary files of %s" % (os.path.relpath(CORPUS), os.path.relpath(BAD)), file=sys.stderr)
