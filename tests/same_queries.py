#!/usr/bin/python3
"""Runs every query of tests/fixtures/query/expected.json (scripts/make-query-fixtures.py: gensim 4.2's
most_similar, most_similar_cosmul and similar_by_vector on GloVe 6B 100d) through `embvsattn --format json
neighbors` and compares: the same words in the same ranks, where two neighbours may trade places only when their
scores tie within TOL (as tests/same_hits.py), and every score within TOL of gensim's (float noise: gensim and
embvsattn make the same float32 operations; a batch of several vectors goes through gemm_nt instead of sgemv, ~1e-7).
Exit 0 when all agree, 1 with the first difference.

Usage: same_queries.py BIN [FIXTURE_DIR]"""
import json
import os
import subprocess
import sys

TOL = 1e-6


def same(want, got, what):
    if len(want) != len(got):
        print("%s: %d answers, gensim %d" % (what, len(got), len(want)))
        return False
    for i, ((w, s), g) in enumerate(zip(want, got)):
        if abs(s - g["score"]) > TOL:
            print("%s slot %d: %r %.9g, gensim %r %.9g" % (what, i, g["word"], g["score"], w, s))
            return False
        if w != g["word"]:
            near = [x["word"] for x in got[max(0, i - 1):i + 2] if abs(x["score"] - s) <= TOL]
            if w not in near and i != len(want) - 1:
                print("%s slot %d: %r, gensim %r, not a tie" % (what, i, g["word"], w))
                return False
    return True


def run(bin_, args):
    p = subprocess.run([bin_, "--format", "json", "neighbors"] + args, capture_output=True, text=True)
    if p.returncode != 0:
        print("neighbors %s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr.strip()))
        return None
    return json.loads(p.stdout)


def main():
    bin_ = sys.argv[1]
    fdir = sys.argv[2] if len(sys.argv) > 2 else "tests/fixtures/query"
    exp = json.load(open(os.path.join(fdir, "expected.json")))
    for q in exp["queries"]:
        r = run(bin_, q["args"] + ["-k", str(q["k"])])
        what = "neighbors " + " ".join(q["args"])
        if r is None or not same(q["results"], r["results"], what):
            return 1
        if r["method"] != q["method"] or [x["word"] for x in r["positive"]] != q["positive"] or \
                [x["word"] for x in r["negative"]] != q["negative"]:
            print("%s: read as %s %r %r" % (what, r["method"], r["positive"], r["negative"]))
            return 1
    vec = os.path.join(fdir, "vectors.txt")
    for args in (["--vector-in", vec], ):
        r = run(bin_, args + ["-k", str(exp["vectors"]["k"])])
        if r is None or len(r["results"]) != len(exp["vectors"]["results"]):
            print("--vector-in: expected %d results" % len(exp["vectors"]["results"]))
            return 1
        for i, (want, got) in enumerate(zip(exp["vectors"]["results"], r["results"])):
            if not same(want, got["neighbors"], "--vector-in vector %d (line %d)" % (i + 1, got["line"])):
                return 1
    # one vector at a time (the sgemv pass gensim makes)
    lines = [l for l in open(vec).read().split("\n") if l.strip()]
    for i, l in enumerate(lines):
        p = subprocess.run([bin_, "--format", "json", "neighbors", "--vector-in", "-", "-k", "10"], input=l + "\n",
                           capture_output=True, text=True)
        if p.returncode or not same(exp["vectors"]["results"][i], json.loads(p.stdout)["results"][0]["neighbors"],
                                    "--vector-in - (vector %d alone)" % (i + 1)):
            print(p.stderr.strip())
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
