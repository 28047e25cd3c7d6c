#!/usr/bin/python3
"""mutation.py BIN: changes the counts, lengths and separators of small valid vector files (GloVe text, word2vec
text, fastText .vec with its trailing blanks, word2vec binary with and without newlines) and requires of each
mutant: either the same vectors as the original (`embvsattn convert MUT OUT.vec`, byte for byte), or a non-zero exit
with an error on stderr that starts with "embvsattn: " -- never different vectors with exit 0. Each mutant is also
read gzip-compressed (the streamed parser): same exit code, same output, same message (text formats). Prints one PASS/FAIL line per
original file."""
import gzip
import os
import struct
import subprocess
import sys
import tempfile

BIN = sys.argv[1]
WORDS = [(b"the", [0.1, 0.2, -0.3]), (b"king", [1.5, -2.25, 0.03]), (b"caf\xc3\xa9", [1.25, -2.0, 0.5]),
         (b"x", [0.0, 7.0, -1e-3])]
tmp = tempfile.mkdtemp()


def num(v):
    return repr(v).encode()


def text_rows(trailing=b""):
    return [w + b"".join(b" " + num(x) for x in v) + trailing for w, v in WORDS]


def text_file(header, trailing=b""):
    rows = text_rows(trailing)
    head = [b"%d 3" % len(rows)] if header else []
    return b"\n".join(head + rows) + b"\n"


def bin_file(newlines):
    out = b"%d 3\n" % len(WORDS)
    for w, v in WORDS:
        out += w + b" " + struct.pack("<3f", *v) + (b"\n" if newlines else b"")
    return out


def run(path):
    out = os.path.join(tmp, "out.vec")
    if os.path.exists(out):
        os.unlink(out)
    p = subprocess.run([BIN, "convert", path, out], capture_output=True, stdin=subprocess.DEVNULL)
    data = open(out, "rb").read() if p.returncode == 0 and os.path.exists(out) else None
    return p.returncode, data, p.stderr


def text_mutants(data, header):
    """(name, bytes) of mutations of a text file's counts, lengths and separators."""
    lines = data.split(b"\n")[:-1]
    first = 1 if header else 0
    m = []
    for i in range(first, len(lines)):
        f = lines[i].split(b" ")
        body = [t for t in f[1:] if t]
        rest = lambda new: b"\n".join(lines[:i] + [new] + lines[i + 1:]) + b"\n"
        m.append(("row %d: a value less" % i, rest(b" ".join([f[0]] + body[:-1]))))
        m.append(("row %d: a value more" % i, rest(lines[i] + b" 0.5")))
        m.append(("row %d: a value repeated" % i, rest(b" ".join([f[0], body[0]] + body))))
        m.append(("row %d: only its word" % i, rest(f[0])))
        m.append(("row %d: tabs" % i, rest(lines[i].replace(b" ", b"\t"))))
        m.append(("row %d: double blanks" % i, rest(lines[i].replace(b" ", b"  "))))
        m.append(("row %d: commas" % i, rest(lines[i].replace(b" ", b","))))
        m.append(("row %d: CRLF" % i, rest(lines[i] + b"\r")))
        m.append(("row %d: a leading blank" % i, rest(b" " + lines[i])))
        m.append(("row %d: a blank line before" % i, rest(b"\n" + lines[i])))
        m.append(("row %d: repeated" % i, rest(lines[i] + b"\n" + lines[i])))
        if i + 1 < len(lines):
            m.append(("rows %d and %d joined" % (i, i + 1),
                      b"\n".join(lines[:i] + [lines[i] + b" " + lines[i + 1]] + lines[i + 2:]) + b"\n"))
        if header:
            m.append(("row %d removed" % i, b"\n".join(lines[:i] + lines[i + 1:]) + b"\n"))
        if i == len(lines) - 1:
            m.append(("no final newline", data[:-1]))
    if header:
        c, d = (int(x) for x in lines[0].split())
        hdr = lambda h: b"\n".join([h] + lines[1:]) + b"\n"
        for name, h in [("count+1", b"%d %d" % (c + 1, d)), ("count-1", b"%d %d" % (c - 1, d)), ("count 0", b"0 %d" % d),
                        ("dim+1", b"%d %d" % (c, d + 1)), ("dim-1", b"%d %d" % (c, d - 1)), ("dim 0", b"%d 0" % c),
                        ("an extra field", b"%d %d 0" % (c, d)), ("tab", b"%d\t%d" % (c, d)),
                        ("huge count", b"99999999999999999999 %d" % d), ("huge dim", b"%d 4000000000" % c)]:
            m.append(("header " + name, hdr(h)))
        m.append(("header removed (GloVe)", b"\n".join(lines[1:]) + b"\n"))
    return m


def word_bytes(data, nl):
    """Offsets of the words' bytes in a word2vec binary file (changing them makes other words, not other counts)."""
    c, d = (int(x) for x in data[:nl].split())
    pos, out = nl, set()
    for _ in range(c):
        while data[pos:pos + 1] == b"\n":
            pos += 1
        sp = data.index(b" ", pos)
        out.update(range(pos, sp))
        pos = sp + 1 + 4 * d
    return out


def bin_mutants(data, newlines):
    m = []
    nl = data.index(b"\n") + 1
    words = word_bytes(data, nl)
    c, d = (int(x) for x in data[:nl].split())
    for name, h in [("count+1", b"%d %d\n" % (c + 1, d)), ("count-1", b"%d %d\n" % (c - 1, d)),
                    ("dim+1", b"%d %d\n" % (c, d + 1)), ("dim-1", b"%d %d\n" % (c, d - 1)),
                    ("an extra field", b"%d %d 0\n" % (c, d))]:
        m.append(("header " + name, h + data[nl:]))
    for k in range(nl, len(data)):
        m.append(("cut at byte %d" % k, data[:k]))
        if k not in words and newlines:  # a float's byte or a separator: the lengths change
            m.append(("byte %d removed" % k, data[:k] + data[k + 1:]))
            m.append(("a byte inserted at %d" % k, data[:k] + b"\x00" + data[k:]))
            if data[k:k + 1] != b" ":  # (before the space, it would lengthen the word)
                m.append(("an 'a' inserted at %d" % k, data[:k] + b"a" + data[k:]))
        if data[k:k + 1] == b" ":
            m.append(("tab for the space at %d" % k, data[:k] + b"\t" + data[k + 1:]))
        if data[k:k + 1] == b"\n" and k > nl:
            m.append(("newline at %d removed" % k, data[:k] + data[k + 1:]))
    return m


def check(label, data, mutants, same_messages=True):
    orig = os.path.join(tmp, "orig")
    open(orig, "wb").write(data)
    code, want, err = run(orig)
    if code != 0:
        print("FAIL mutation %s: the original does not load: %s" % (label, err.decode(errors="replace")))
        return
    bad, same, errors = [], 0, 0
    for name, mut in mutants:
        path = os.path.join(tmp, "m")
        open(path, "wb").write(mut)
        code, out, err = run(path)
        with gzip.open(path + ".gz", "wb", compresslevel=1) as g:
            g.write(mut)
        gcode, gout, gerr = run(path + ".gz")
        if code == 0 and out != want:
            bad.append("%s: exit 0 with different vectors" % name)
        elif code != 0 and not err.startswith(b"embvsattn: "):
            bad.append("%s: exit %d without an 'embvsattn: ' message: %r" % (name, code, err[:200]))
        elif (gcode, gout) != (code, out) or (same_messages and gerr.replace(b"m.gz", b"m") != err):
            bad.append("%s: gzip-compressed, exit %d %r, plain exit %d %r" % (name, gcode, gerr[:200], code, err[:200]))
        elif code == 0:
            same += 1
        else:
            errors += 1
    if bad:
        print("FAIL mutation %s: %d of %d mutants: %s" % (label, len(bad), len(mutants), "; ".join(bad[:5])))
    else:
        print("PASS mutation %s: %d mutants, %d the same vectors, %d refused" % (label, len(mutants), same, errors))


check("glove", text_file(False), text_mutants(text_file(False), False))
check("word2vec-text", text_file(True), text_mutants(text_file(True), True))
check("fasttext-vec", text_file(True, b" "), text_mutants(text_file(True, b" "), True))
# (a mapped binary file's size is checked against its header first, so its messages may differ from the stream's.)
# Without newlines between records (gensim's binary), a byte more or less in a vector only moves the next word's
# start: nothing in the format tells (unless the bytes then read as a word hold a control byte), so those files get
# only the header and truncation mutants; with newlines (word2vec's binary) every record must end with one.
check("word2vec-binary", bin_file(True), bin_mutants(bin_file(True), True), False)
check("word2vec-binary-no-newlines", bin_file(False), bin_mutants(bin_file(False), False), False)
