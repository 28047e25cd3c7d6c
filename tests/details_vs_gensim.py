#!/usr/bin/python3
"""`eval analogies --details` against gensim 4.2's own per-question lists: evaluate_word_analogies(FILE,
case_insensitive=True) returns, per section, the questions it got right ('correct') and wrong ('incorrect') as
upper-cased (a, b, c, expected) tuples and skips the OOV ones. Each section's multiset of correct and of incorrect
questions must equal those of embvsattn's lines (correct true/false, oov false); OOV lines must be the questions
gensim left out. Exit 0 when equal, 1 with the first difference.

Usage: details_vs_gensim.py BIN VECTORS.bin QUESTIONS"""
import collections
import json
import subprocess
import sys

from gensim.models import KeyedVectors


def main():
    bin_, vecs, questions = sys.argv[1:4]
    kv = KeyedVectors.load_word2vec_format(vecs, binary=True)
    _, sections = kv.evaluate_word_analogies(questions, case_insensitive=True)
    want = {}
    for sec in sections:
        if sec["section"] == "Total accuracy":
            continue
        want[sec["section"]] = (collections.Counter(map(tuple, sec["correct"])),
                                collections.Counter(map(tuple, sec["incorrect"])))
    p = subprocess.run([bin_, "--vectors", vecs, "eval", "analogies", questions, "--details"], capture_output=True,
                       text=True, check=True)
    got = collections.defaultdict(lambda: (collections.Counter(), collections.Counter()))
    n_oov = 0
    for line in p.stdout.splitlines():
        q = json.loads(line)
        if q["oov"]:
            n_oov += 1
            continue
        t = tuple(w.upper() for w in q["question"] + [q["expected"]])
        got[q["section"]][0 if q["correct"] else 1][t] += 1
    for name, (c, i) in want.items():
        if got[name][0] != c or got[name][1] != i:
            print("section %r: correct %s / incorrect %s, gensim %s / %s" % (name, dict(got[name][0]),
                                                                             dict(got[name][1]), dict(c), dict(i)))
            return 1
    extra = [n for n in got if n not in want and (got[n][0] or got[n][1])]
    if extra:
        print("sections gensim does not list:", extra)
        return 1
    print("%d sections equal, %d OOV questions" % (len(want), n_oov))
    return 0


if __name__ == "__main__":
    sys.exit(main())
