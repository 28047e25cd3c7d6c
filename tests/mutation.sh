#!/usr/bin/env bash
# The count/length/separator mutation test (tests/mutation.py): one PASS/FAIL line per original file.
# EMBVSATTN: the binary (default ./embvsattn).
set -u
export LC_ALL=C
cd "$(dirname "$0")/.."
/usr/bin/python3 tests/mutation.py "${EMBVSATTN:-./embvsattn}" || echo "FAIL mutation: tests/mutation.py exited $?"
