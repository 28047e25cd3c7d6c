#!/usr/bin/env python3
"""The serve tier: starts `embvsattn serve` on a free port and checks it, one PASS/FAIL line per check.

  (a) the API answers byte for byte what the CLI prints with --format json (view under several options, compare,
      neighbors, analogy), POST equals GET, several requests at once give the same bytes;
  (b) the bad-request corpus tests/serve-bad/*.req (raw HTTP requests, each with its expected status or "closed"),
      and after each the server still answers /api/heads;
  (c) / is the CLI's HTML page of the README's sentence plus the API's meta tag;
  (d) SIGTERM stops it with exit 0 and a message; a bad --host is a usage error, a port in use an I/O error.

Usage: serve.py BIN VECTORS   (the client side is Python's socket and urllib: nothing else is needed)
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

BIN, VECTORS = sys.argv[1], sys.argv[2]
HERE = os.path.dirname(os.path.abspath(__file__))
SENTENCE = "France is a country, it is in Europe"
TIMEOUT = 2  # serve --timeout: the slow client is cut off after this


def report(ok, name, detail=""):
    print(("PASS serve %s" % name) if ok else ("FAIL serve %s: %s" % (name, detail)), flush=True)


def cli(*args):
    """What the CLI prints on stdout (bytes) and its exit code."""
    p = subprocess.run([BIN, "--vectors", VECTORS] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.stdout, p.returncode


def start(*extra, host="127.0.0.1"):
    p = subprocess.Popen([BIN, "--vectors", VECTORS, "serve", "--port", "0", "--timeout", str(TIMEOUT)] + list(extra),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = p.stdout.readline().decode()
    m = re.match(r"http://%s:(\d+)/$" % re.escape(host), line.strip())
    if not m:
        p.kill()
        p.wait()
        raise SystemExit("FAIL serve start: expected the URL on stdout, found %r (stderr %r)" %
                         (line, p.stderr.read()[:500]))
    return p, int(m.group(1))


def fetch(port, path, body=None, method=None):
    """(status, bytes, headers) of one request."""
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), data=body, method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers


def q(**kw):
    return urllib.parse.urlencode(kw, quote_via=urllib.parse.quote)


def check_same(port, name, path, params, cli_args):
    status, body, headers = fetch(port, path + "?" + q(**params))
    want, code = cli(*cli_args)
    ok = status == 200 and body == want and headers.get("Content-Type") == "application/json; charset=utf-8"
    report(ok, "same-as-cli " + name, "status %d, %d bytes vs the CLI's %d (exit %d): %r" %
           (status, len(body), len(want), code, body[:200]))
    return body


def raw(port, data, slow=False, wait=10.0):
    """Sends raw bytes; returns the status (int), or "closed" when the server closed the connection without one."""
    s = socket.create_connection(("127.0.0.1", port), timeout=wait)
    got = b""
    try:
        if slow:  # one byte a second: the deadline must cut it off
            for b in data:
                s.sendall(bytes([b]))
                time.sleep(1.0)
                s.settimeout(0.01)
                try:
                    chunk = s.recv(65536)
                    if not chunk:
                        return "closed"
                    got += chunk
                    break
                except socket.timeout:
                    pass
                except (ConnectionResetError, BrokenPipeError):
                    return "closed"
                finally:
                    s.settimeout(wait)
        else:
            s.sendall(data)
        s.settimeout(wait)
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
            if b"\r\n\r\n" in got:
                head, _, rest = got.partition(b"\r\n\r\n")
                m = re.search(rb"content-length: *(\d+)", head, re.I)
                if m and len(rest) >= int(m.group(1)):
                    break
    except (ConnectionResetError, BrokenPipeError):
        pass
    except socket.timeout:
        return "timeout"
    finally:
        s.close()
    m = re.match(rb"HTTP/1\.[01] (\d{3})", got)
    return int(m.group(1)) if m else "closed"


def expand(text):
    """A corpus file's request: {repeat:TEXT:N} is TEXT N times, {hex:HH…} raw bytes, {len} the body's length; lines
    end with CRLF."""
    head, sep, body = text.partition("\n\n")
    expanded = []
    for part in (head, body):
        def rep(m):
            return m.group(1) * int(m.group(2))
        part = re.sub(r"\{repeat:(.*?):(\d+)\}", rep, part, flags=re.S)
        out = b""
        for i, piece in enumerate(re.split(r"\{hex:([0-9a-fA-F]+)\}", part)):
            out += bytes.fromhex(piece) if i % 2 else piece.encode()
        expanded.append(out)
    head, body = expanded
    head = head.replace(b"{len}", str(len(body)).encode())
    return head.replace(b"\n", b"\r\n") + (b"\r\n\r\n" + body if sep else b"\r\n\r\n")


def corpus(port):
    d = os.path.join(HERE, "serve-bad")
    for name in sorted(os.listdir(d)):
        if not name.endswith(".req"):
            continue
        text = open(os.path.join(d, name), encoding="utf-8").read()
        meta, _, req = text.partition("\n")
        m = re.match(r"expect: *([^ ]+)( +slow)?$", meta.strip())
        if not m:
            report(False, "bad " + name, "first line: expected 'expect: STATUS|closed [slow]', found %r" % meta)
            continue
        allowed = m.group(1).split("|")
        slow = bool(m.group(2))
        t0 = time.time()
        got = raw(port, expand(req), slow=slow, wait=TIMEOUT + 8)
        took = time.time() - t0
        ok = str(got) in allowed or (got != "closed" and got != "timeout" and "4xx" in allowed and 400 <= got < 500)
        if slow:
            ok = ok and took < TIMEOUT + 4
        report(ok, "bad " + name[:-4], "expected %s, found %s after %.1f s" % ("|".join(allowed), got, took))
        status, body, _ = fetch(port, "/api/heads")
        report(status == 200 and body.startswith(b'{"default":'), "alive-after " + name[:-4],
               "/api/heads answered %d %r" % (status, body[:80]))


def cache_checks():
    """A server keeping 2 answers: repeated, evicted and POST requests still give the CLI's bytes."""
    p, port = start("--cache", "2")
    try:
        docs = {w: cli("--format", "json", "neighbors", "-k", "4", w)[0] for w in ["king", "queen", "apple"]}
        seq = ["king", "queen", "king", "apple", "queen", "king", "king"]
        got = [fetch(port, "/api/neighbors?" + q(w=w, k="4"))[1] == docs[w] for w in seq]
        got.append(fetch(port, "/api/neighbors", body=json.dumps({"k": 4, "w": "king"}).encode(),
                         method="POST")[1] == docs["king"])
        report(all(got), "answer-cache", "%r" % got)
    finally:
        p.send_signal(signal.SIGTERM)
        rc = p.wait(timeout=20)
        report(rc == 0, "answer-cache-exit", "exit %s" % rc)


def main():
    p, port = start("--cache", "0")  # every request computed
    try:
        # (a) the documents
        check_same(port, "view", "/api/view", {"s": SENTENCE}, ["--format", "json", SENTENCE])
        check_same(port, "view-mlm-k3-causal-top2", "/api/view",
                   {"s": "the cat sat on the mat", "head": "mlm", "k": "3", "causal": "1", "top": "2"},
                   ["--format", "json", "--head", "mlm", "-k", "3", "--causal", "--top", "2", "the cat sat on the mat"])
        check_same(port, "view-identity-positions-restrict-why", "/api/view",
                   {"s": "Paris is lovely", "head": "identity", "positions": "sinusoidal", "restrict": "20000",
                    "why": "true", "position-scale": "0.25"},
                   ["--format", "json", "--head", "identity", "--positions", "sinusoidal", "--restrict", "20000",
                    "--why", "--position-scale", "0.25", "Paris is lovely"])
        check_same(port, "view-predict-mask", "/api/view", {"s": "the _ barked at the cat", "predict": "1", "mask": "_"},
                   ["--format", "json", "--predict", "--mask", "_", "the _ barked at the cat"])
        check_same(port, "view-random-context-vectors-residual", "/api/view",
                   {"s": "the dog barked", "head": "random", "context-vectors": "1", "residual": "1"},
                   ["--format", "json", "--head", "random", "--context-vectors", "--residual", "the dog barked"])
        check_same(port, "view-unicode", "/api/view", {"s": "Zoë ate crème brûlée ☕"},
                   ["--format", "json", "Zoë ate crème brûlée ☕"])
        s1, s2 = "I sat on the bank of the river", "the bank raised interest rates"
        check_same(port, "compare", "/api/compare", {"s1": s1, "s2": s2}, ["--format", "json", "compare", s1, s2])
        check_same(port, "compare-word-k3", "/api/compare", {"s1": s1, "s2": s2, "word": "bank", "k": "3"},
                   ["--format", "json", "compare", "--word", "bank", "-k", "3", s1, s2])
        check_same(port, "neighbors", "/api/neighbors", {"w": "king", "k": "7"},
                   ["--format", "json", "neighbors", "-k", "7", "king"])
        check_same(port, "neighbors-oov", "/api/neighbors", {"w": "qqzzxxyy"},
                   ["--format", "json", "neighbors", "qqzzxxyy"])
        check_same(port, "analogy", "/api/analogy", {"a": "man", "b": "king", "c": "woman"},
                   ["--format", "json", "analogy", "man", "king", "woman"])
        check_same(port, "analogy-mul-k3", "/api/analogy", {"a": "paris", "b": "france", "c": "rome", "method": "mul",
                                                           "k": "3"},
                   ["--format", "json", "analogy", "--method", "mul", "-k", "3", "paris", "france", "rome"])
        # POST with a JSON body equals GET
        for name, path, params in [("view", "/api/view", {"s": SENTENCE, "k": 4, "causal": True}),
                                   ("compare", "/api/compare", {"s1": s1, "s2": s2}),
                                   ("neighbors", "/api/neighbors", {"w": "queen", "k": 3})]:
            gp = {k: ("1" if v is True else str(v)) for k, v in params.items()}
            a = fetch(port, path + "?" + q(**gp))
            b = fetch(port, path, body=json.dumps(params).encode(), method="POST")
            report(a[0] == b[0] == 200 and a[1] == b[1], "post-equals-get " + name, "%d vs %d" % (a[0], b[0]))
        # errors: the CLI's message in an error object, with a 4xx
        st, body, _ = fetch(port, "/api/view?" + q(s="a", k="0"))
        want = "-k: expected at least 1, found '0'"
        report(st == 400 and json.loads(body) == {"line": 0, "error": want, "code": 2}, "error-object-bad-k",
               "%d %r" % (st, body))
        st, body, _ = fetch(port, "/api/view?" + q(s="qqzzxxyy"))
        report(st == 422 and json.loads(body)["code"] == 1, "error-no-known-token", "%d %r" % (st, body))
        st, body, _ = fetch(port, "/api/view?" + q(s="a", colour="red"))
        report(st == 400 and b"unknown parameter 'colour'" in body, "error-unknown-parameter", "%d %r" % (st, body))
        st, body, _ = fetch(port, "/api/view?" + q(s="a", head="/etc/passwd"))
        report(st == 400 and b"is not loaded" in body, "error-head-not-a-path", "%d %r" % (st, body))
        long_s = " ".join(["word"] * 5000)  # over the 4096-token limit: the CLI's message, 413
        st, body, _ = fetch(port, "/api/view", body=json.dumps({"s": long_s}).encode(), method="POST")
        _, code = cli("--format", "json", long_s)
        report(st == 413 and json.loads(body)["code"] == code == 6, "error-token-limit", "%d %r" % (st, body[:120]))
        st, body, _ = fetch(port, "/api/compare", body=json.dumps({"s1": "the cat", "s2": " ".join(["cat"] * 257)}).encode(),
                            method="POST")
        report(st == 413 and b"sentence 2 has 257 tokens: the API answers up to 256" in body, "error-api-token-limit",
               "%d %r" % (st, body[:160]))
        # heads
        st, body, _ = fetch(port, "/api/heads")
        heads = json.loads(body) if st == 200 else {}
        names = [h["name"] for h in heads.get("heads", [])]
        report(names == ["context", "mlm", "identity", "random"] and heads.get("default") == "context",
               "heads", "%d %r" % (st, body[:200]))
        # several clients at once: the same bytes (each thread's scratch its own)
        want, _ = cli("--format", "json", SENTENCE)
        results = []

        def worker(i):
            for _ in range(5):
                results.append(fetch(port, "/api/view?" + q(s=SENTENCE))[1] == want)
                results.append(fetch(port, "/api/neighbors?" + q(w="king", k=str(3 + i)))[0] == 200)
        ts = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
        [t.start() for t in ts]
        [t.join() for t in ts]
        report(len(results) == 60 and all(results), "concurrent", "%d of %d" % (sum(results), len(results)))
        # (c) the page
        st, page, headers = fetch(port, "/")
        html, _ = cli("--format", "html", SENTENCE)
        meta = b'<meta name="embvsattn-api" content="/api/">\n'
        report(st == 200 and headers.get("Content-Type") == "text/html; charset=utf-8" and meta in page and
               page.replace(meta, b"", 1) == html and b'id="embvsattn-data"' in page, "page",
               "status %d, %d bytes vs the CLI's %d" % (st, len(page), len(html)))
        # format=html: the part of the --format html page the document draws (the page without its shell), the
        # same for compare; the page's script swaps it in (tests/browser/live.js)
        for name, path, params, args, compare in [
                ("view", "/api/view", {"s": "the cat sat on the mat", "head": "mlm"},
                 ["--head", "mlm", "the cat sat on the mat"], False),
                ("compare", "/api/compare", {"s1": s1, "s2": s2, "word": "bank"},
                 ["compare", "--word", "bank", s1, s2], True)]:
            st, frag, headers = fetch(port, path + "?" + q(format="html", **params))
            full, _ = cli("--format", "html", *args)
            start_at, end_at = full.find(b"<main class=\"wrap\">\n"), full.find(b"<script>\n")
            want = full[start_at + len(b"<main class=\"wrap\">\n"):end_at].replace(b"</main>\n", b"", 1)
            doc = json.loads(frag.split(b'id="embvsattn-data">')[-1].split(b"</script>")[0].decode()) if st == 200 else None
            jdoc, _ = cli("--format", "json", "--why", "--steps", *args)
            report(st == 200 and headers.get("Content-Type") == "text/html; charset=utf-8" and start_at > 0 and
                   frag == want and doc == json.loads(jdoc) and (b'class="card shared-sec"' in frag) == compare and
                   b'class="card map-sec"' in frag, "html-fragment " + name,
                   "status %d, %d bytes vs the page's part %d" % (st, len(frag), len(want)))
        st, body, _ = fetch(port, "/api/view?" + q(s="a", format="text"))
        report(st == 400 and json.loads(body)["error"] == "format: expected json or html over the API, found 'text'",
               "error-format-text", "%d %r" % (st, body))
        # (b) the bad requests
        corpus(port)
        # more connections from one address than it allows (16): the extra ones are closed, the server answers after
        socks, refused = [], 0
        for _ in range(24):
            c = socket.create_connection(("127.0.0.1", port), timeout=5)
            socks.append(c)
        time.sleep(0.3)
        for c in socks:
            c.settimeout(0.2)
            try:
                if c.recv(1) == b"":
                    refused += 1
            except socket.timeout:
                pass
            except ConnectionResetError:
                refused += 1
        for c in socks:
            c.close()
        time.sleep(0.2)
        status, body, _ = fetch(port, "/api/heads")
        report(refused >= 8 and status == 200, "per-address-connection-limit",
               "%d of 24 connections closed, then /api/heads %d" % (refused, status))
    finally:
        # (d) SIGTERM: a clean stop
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = "hung"
        err = p.stderr.read().decode(errors="replace")
        report(rc == 0 and "SIGTERM: stopped" in err, "sigterm", "exit %s, stderr %r" % (rc, err[-400:]))
    cache_checks()
    # another address than 127.0.0.1 (127.0.0.2 is loopback too): a warning, and it answers there
    p, port = start("--host", "127.0.0.2", host="127.0.0.2")
    try:
        with urllib.request.urlopen("http://127.0.0.2:%d/api/heads" % port, timeout=30) as r:
            ok = r.status == 200
    finally:
        p.send_signal(signal.SIGTERM)
        rc = p.wait(timeout=20)
    err = p.stderr.read().decode(errors="replace")
    report(ok and rc == 0 and "warning: listening on 127.0.0.2" in err, "host-warning", "exit %s %r" % (rc, err))
    # a usage error and a port in use
    r = subprocess.run([BIN, "--vectors", VECTORS, "serve", "--host", "localhost"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    report(r.returncode == 2 and b"numeric" in r.stderr, "host-not-numeric", "exit %d %r" % (r.returncode, r.stderr))
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    r = subprocess.run([BIN, "--vectors", VECTORS, "serve", "--port", str(blocker.getsockname()[1])],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    blocker.close()
    report(r.returncode == 3 and b"cannot listen" in r.stderr, "port-in-use", "exit %d %r" % (r.returncode, r.stderr))


main()
