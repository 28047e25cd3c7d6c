#!/usr/bin/python3
"""Probes of what attention heads do on sentences written for the purpose (data/probes/): a measurement, not a
test set. For each head (and the identity head with the residual, the untrained baseline) it runs
`embvsattn --batch --format json --context-vectors` on the sentences and reports:

  ambiguous.tsv (a word in two sentences, one per sense, each with a CUE word naming the sense):
    own cue     sentences where the word's vector in context is closer (cosine) to its own sentence's cue than to
                the other sentence's cue (of 2 × words)
    cross cos   mean cosine between the word's two vectors in context (1.0 = context changed nothing)
    on cue      mean attention weight of the word on its cue
  pronouns.tsv (a pronoun and its antecedent):
    top-1       pronouns whose largest attention weight is on the antecedent
    top-3       pronouns with the antecedent among their three largest weights

Usage: scripts/probe-heads.py [--json] [--embvsattn PATH] [--vectors CACHE] HEAD...
  HEAD: any --head value (context, mlm, a file); "identity" is always added, with --residual.
Reads the vectors' cache (default: the fetched GloVe 6B 100d cache) with numpy for the cues' static vectors.
"""
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
from read_cache import load_safetensors  # noqa: E402  (the project's numpy reader of caches)


def read_tsv(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip() and not line.startswith("#")]


def run(exe, vectors, head, sentences):
    cmd = [exe, "--batch", "--format", "json", "--context-vectors", "--head", head]
    if head == "identity":
        cmd.append("--residual")
    if vectors:
        cmd += ["--vectors", vectors]
    out = subprocess.run(cmd, input="\n".join(sentences) + "\n", capture_output=True, text=True, check=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def find(doc, word):
    for t in doc["tokens"]:
        if t.get("word") == word.lower() or t["text"].lower() == word.lower():
            return t["index"]
    raise SystemExit("probe-heads: '%s' not found in '%s'" % (word, doc["sentence"]))


def cos(a, b):
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def probe(exe, vectors, head, amb, prons, E, index):
    docs = run(exe, vectors, head, [r[1] for r in amb] + [r[0] for r in prons])
    da, dp = docs[: len(amb)], docs[len(amb):]
    own = n_own = 0
    cross, oncue = [], []
    for k in range(0, len(amb), 2):
        pair = []
        for s in (0, 1):
            word, _, cue = amb[k + s]
            doc = da[k + s]
            i, c = find(doc, word), find(doc, cue)
            pair.append(np.array(doc["tokens"][i]["context_vector"], dtype=np.float64))
            oncue.append(doc["weights"][i][c])
        for s in (0, 1):
            mine, other = amb[k + s][2], amb[k + 1 - s][2]
            own += cos(pair[s], E[index[mine]]) > cos(pair[s], E[index[other]])
            n_own += 1
        cross.append(cos(pair[0], pair[1]))
    top1 = top3 = 0
    for (sent, pron, ante), doc in zip(prons, dp):
        i, a = find(doc, pron), find(doc, ante)
        order = sorted(range(len(doc["weights"][i])), key=lambda j: -doc["weights"][i][j])
        order = [j for j in order if j != i]
        top1 += order[0] == a
        top3 += a in order[:3]
    return {"head": head, "own_cue": own, "own_cue_of": n_own, "cross_cos": float(np.mean(cross)),
            "weight_on_cue": float(np.mean(oncue)), "pronoun_top1": top1, "pronoun_top3": top3,
            "pronouns": len(prons)}


def main():
    args = sys.argv[1:]
    as_json = "--json" in args
    args = [a for a in args if a != "--json"]
    exe, vectors = os.path.join(HERE, "..", "embvsattn"), None
    while args and args[0] in ("--embvsattn", "--vectors"):
        if args[0] == "--embvsattn":
            exe = args[1]
        else:
            vectors = args[1]
        args = args[2:]
    heads = ["identity"] + [h for h in args if h != "identity"]
    cache = vectors or os.path.join(os.environ.get("EMBVSATTN_DATA") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "embvsattn"), "glove.6B.100d.safetensors")
    t, _ = load_safetensors(cache)
    off, vocab = t["vocab_offsets"], t["vocab"].tobytes()
    words = [vocab[off[i]:off[i + 1] - 1].decode("utf-8") for i in range(len(off) - 1)]
    index = {w: i for i, w in enumerate(words)}
    E = t["vectors"].astype(np.float64)
    probes = os.path.join(HERE, "..", "data", "probes")
    amb, prons = read_tsv(os.path.join(probes, "ambiguous.tsv")), read_tsv(os.path.join(probes, "pronouns.tsv"))
    rows = [probe(exe, vectors, h, amb, prons, E, index) for h in heads]
    if as_json:
        print(json.dumps(rows))
        return
    print("%-28s %9s %9s %8s %11s %11s" % ("head", "own cue", "cross cos", "on cue", "pronoun@1", "pronoun@3"))
    for r in rows:
        name = r["head"] + (" (+residual)" if r["head"] == "identity" else "")
        print("%-28s %5d/%-3d %9.3f %8.3f %7d/%-3d %7d/%-3d" % (
            name, r["own_cue"], r["own_cue_of"], r["cross_cos"], r["weight_on_cue"], r["pronoun_top1"],
            r["pronouns"], r["pronoun_top3"], r["pronouns"]))


if __name__ == "__main__":
    main()
