#!/usr/bin/python3
"""Compares two `embvsattn --format json neighbors` documents: the same queries and the same neighbours, where a
score may differ by at most 1e-6 (a few ulps of a float32 cosine) and two neighbours may trade places only where
their scores tie within that bound. Everything else must be identical. Exit 0 when equal, 1 with a reason.

Usage: same_hits.py N.listed.json…   each compared with its N.searched.json beside it"""
import json
import sys

TOL = 1e-6


def main():
    for path in sys.argv[1:]:
        if not same(path, path.replace(".listed.json", ".searched.json")):
            print("in", path)
            return 1
    return 0


def same(path_a, path_b):
    a, b = json.load(open(path_a)), json.load(open(path_b))
    ra, rb = a.pop("results"), b.pop("results")
    if a != b or len(ra) != len(rb):
        print("the documents differ outside the results")
        return False
    for x, y in zip(ra, rb):
        na, nb = x.pop("neighbors"), y.pop("neighbors")
        if x != y or len(na) != len(nb):
            print("query %r differs" % x.get("query"))
            return False
        for i, (p, q) in enumerate(zip(na, nb)):
            if abs(p["score"] - q["score"]) > TOL:
                print("%r slot %d: %r %.9g vs %r %.9g" % (x["query"], i, p["word"], p["score"], q["word"], q["score"]))
                return False
            if p["word"] != q["word"]:
                # a tie: the other word must sit in a neighbouring slot of the other list, or this is the last slot
                # (its partner is the first one not listed)
                near = [n["word"] for n in nb[max(0, i - 1):i + 2] if abs(n["score"] - p["score"]) <= TOL]
                if p["word"] not in near and i != len(na) - 1:
                    print("%r slot %d: %r vs %r, not a tie" % (x["query"], i, p["word"], q["word"]))
                    return False
    return True


if __name__ == "__main__":
    sys.exit(main())
