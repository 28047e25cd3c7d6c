#!/usr/bin/python3
"""Counts the lines of standard input whose token sequence contains, contiguously, the token sequence of one of the
examples in EXAMPLES (one a line), with the tokenizer of scripts/corpus.py; prints the count and the first few.

The check of the hold-out rule (tests/integration.sh): grep -Fi picks the lines of the training files that hold an
example's text (a fast, loose filter: it also matches inside hyphenated words), this keeps those that hold its
tokens. It compares padded token strings, not the hold-out filter's index, so it checks that filter's search too.

Usage: grep -hFif EXAMPLES FILE... | holdout_hits.py EXAMPLES"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
from corpus import tokens  # noqa: E402


def padded(s):
    return " " + " ".join(tokens(s)) + " "


def main():
    sys.stdin.reconfigure(encoding="utf-8", errors="replace")
    examples = [padded(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
    hits = [l.rstrip("\n") for l in sys.stdin if any(e in padded(l) for e in examples)]
    print(len(hits))
    for h in hits[:3]:
        print(h)
    return 0


if __name__ == "__main__":
    sys.exit(main())
