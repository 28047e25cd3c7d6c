#!/usr/bin/env bash
# Every JSON (and HTML/SVG) output is valid UTF-8 whatever the bytes of the words: each command runs on a latin-1
# .vec (tests/fixtures/latin1.vec: "clich\xe9s", "caf\xe9") and its output must be read by Python's json.loads (from
# bytes, strict UTF-8) and by jq, and every "KEY_bytes" must give back the original bytes of its KEY (U+FFFD for
# each invalid byte in KEY). One PASS/FAIL line per command.  EMBVSATTN: the binary (default ./embvsattn).
set -u
export LC_ALL=C
cd "$(dirname "$0")/.."
bin="${EMBVSATTN:-./embvsattn}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
L=tests/fixtures/latin1.vec
cp "$L" "$tmp/v"$'\xe9'".vec" # a path that is not UTF-8 either
LP="$tmp/v"$'\xe9'".vec"
printf 'plain caf\n' >"$tmp/batch"
P="$tmp/p"$'\xe9'"airs" A="$tmp/an"$'\xe9'"logies" # the evaluation files' paths are not UTF-8 either
printf 'plain\tcaf\xc3\xa9\t5.0\nplain\tx\t1\nplain\tplain\t10\n' >"$P"
printf ': s\nplain caf\xc3\xa9 plain caf\xc3\xa9\n' >"$A"
cafe=$'caf\xe9' cliches=$'clich\xe9s'

check() { # NAME KIND(json|jsonl|html) ARGS...
    local name=$1 kind=$2
    shift 2
    local code=0 why=""
    "$bin" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null || code=$?
    [ -f "$tmp/stdin" ] && rm -f "$tmp/stdin"
    if [ "$code" != 0 ]; then
        why="exit $code: $(head -c 300 "$tmp/err")"
    elif ! /usr/bin/python3 - "$tmp/out" "$kind" >"$tmp/py" 2>&1 <<'PY'; then
import json, sys
raw = open(sys.argv[1], "rb").read()
text = raw.decode("utf-8")  # strict: raises on any invalid byte
if sys.argv[2] == "html":
    sys.exit(0)
docs = [json.loads(l) for l in text.splitlines() if l] if sys.argv[2] == "jsonl" else [json.loads(text)]
pairs = 0
def walk(o):
    global pairs
    if isinstance(o, dict):
        for k, v in o.items():
            if k.endswith("_bytes"):
                base = o[k[:-6]]
                vals, hexes = (base, v) if isinstance(base, list) else ([base], [v])
                for s, h in zip(vals, hexes):
                    if h is None:
                        continue
                    b = bytes.fromhex(h)
                    if b.decode("utf-8", "replace") != s:
                        sys.exit("%s: %r does not decode to %r" % (k, h, s))
                    pairs += 1
            walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
for d in docs:
    walk(d)
print(pairs)
PY
        why="python: $(tail -1 "$tmp/py")"
    elif [ "$kind" != html ] && ! jq -e . "$tmp/out" >/dev/null 2>&1; then
        why="jq cannot read it"
    elif [ "$kind" != html ] && [ "$(cat "$tmp/py")" = 0 ]; then
        why="no *_bytes field, but the output names latin-1 words"
    fi
    if [ -z "$why" ]; then echo "PASS json-utf8 $name"; else echo "FAIL json-utf8 $name: $why"; fi
}

check vector json --vectors "$L" --format json vector "$cliches" plain
check neighbors json --vectors "$L" --format json neighbors plain "$cafe"
check analogy json --vectors "$L" --format json analogy plain "$cafe" "$cliches"
check similarity json --vectors "$L" --format json similarity "$cafe" "$cliches"
check doesnt-match json --vectors "$L" --format json doesnt-match plain "$cafe" "$cliches"
check info json --format json info "$LP"
check info-vectors json --vectors "$LP" --format json info
check eval-pairs json --vectors "$LP" --format json eval pairs "$P"
check eval-analogies json --vectors "$LP" --format json eval analogies "$A"
check view json --vectors "$LP" --head identity --format json "plain caf"
check compare json --vectors "$LP" --head identity --format json compare "plain caf" "caf plain"
check view-html html --vectors "$LP" --head identity --format html "plain caf"
check view-svg html --vectors "$LP" --head identity --format svg "plain caf"
"$bin" convert "$LP" "$tmp/c.safetensors" 2>"$tmp/err" || echo "FAIL json-utf8 convert: $(cat "$tmp/err")"
check cache-info json --format json info "$tmp/c.safetensors"
/usr/bin/python3 - "$tmp/c.safetensors" <<'PY' && echo "PASS json-utf8 cache-header" || echo "FAIL json-utf8 cache-header"
import json, struct, sys
raw = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
meta = json.loads(raw[8:8 + n].decode("utf-8"))["__metadata__"]
assert "\ufffd" in meta["source"] and bytes.fromhex(meta["source_bytes"]).endswith(b"v\xe9.vec"), meta
PY
# batch: the error objects of lines that are not UTF-8, and views with latin-1 neighbours
printf 'plain caf\n\xe9t\xe9\nplain\n' >"$tmp/batch"
code=0
"$bin" --vectors "$LP" --head identity --batch <"$tmp/batch" >"$tmp/out" 2>"$tmp/err" || code=$?
if [ "$code" = 7 ] && /usr/bin/python3 -c "import json,sys; [json.loads(l) for l in open(sys.argv[1],'rb').read().decode('utf-8').splitlines()]" "$tmp/out" && jq -e . "$tmp/out" >/dev/null; then
    echo "PASS json-utf8 batch"
else
    echo "FAIL json-utf8 batch: exit $code: $(head -c 300 "$tmp/out")"
fi
# a head without w_o whose d_k (16) is not d_model (100): the weights, no contextual neighbours, and the documents
# say so in a valid way ("context_neighbors": null, "context_note"); the pictures draw from them
H=tests/fixtures/attention/no_wo_dk16.head.safetensors
code=0
{ "$bin" --vectors tests/fixtures/mini.txt --head "$H" --format json -k 2 'the king is in france' >"$tmp/v.json" &&
  "$bin" --vectors tests/fixtures/mini.txt --head "$H" --format json -k 2 compare 'the king is' 'a king was' \
      >"$tmp/c.json" &&
  "$bin" --vectors tests/fixtures/mini.txt --head "$H" --format html -o "$tmp/v.html" 'the king is' &&
  "$bin" --vectors tests/fixtures/mini.txt --head "$H" --format svg -o "$tmp/v.svg" 'the king is' &&
  "$bin" --vectors tests/fixtures/mini.txt --head "$H" --format html -o "$tmp/c.html" compare 'the king' 'a king'
} 2>"$tmp/err" || code=$?
if [ "$code" = 0 ] && jq -e . "$tmp/v.json" "$tmp/c.json" >/dev/null &&
    /usr/bin/python3 - "$tmp/v.json" "$tmp/c.json" "$tmp/v.html" "$tmp/c.html" >"$tmp/py" 2>&1 <<'PY'; then
import json, sys
v = json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))
c = json.loads(open(sys.argv[2], "rb").read().decode("utf-8"))
note = "this head has no w_o and d_k 16 \u2260 100: its output is not in the vectors' space"
assert v["context_note"] == note and c["context_note"] == note, (v.get("context_note"), c.get("context_note"))
assert v["head"]["w_o"] is False and v["head"]["d_k"] == 16 and v["head"]["d_model"] == 100
for doc in [v] + c["sentences"]:
    assert doc["context_note"] == note
    for t in doc["tokens"]:
        assert t["context_neighbors"] is None and t["context_self_similarity"] is None, t
        assert "context_reason" not in t, t
    for row in doc["weights"]:  # the weights are all there: each row a distribution
        assert abs(sum(row) - 1) < 1e-5, row
for s in c["shared"]:
    assert s["context_neighbors"] is None and s["context_cosine"] is None, s
for page in sys.argv[3:]:
    assert "its output is not in the vectors&#39; space" in open(page, encoding="utf-8").read(), page
PY
    echo "PASS json-utf8 head-without-output"
else
    echo "FAIL json-utf8 head-without-output: exit $code: $(head -c 300 "$tmp/err") $(tail -2 "$tmp/py" 2>/dev/null)"
fi
# a cache is mapped, not scanned: a NaN or infinity written into its matrix afterwards must still give valid JSON
# (null for that value), never the bare `nan` that JSON parsers refuse
/usr/bin/python3 - "$tmp/c.safetensors" "$tmp/nan.safetensors" <<'PY'
import json, struct, sys
raw = bytearray(open(sys.argv[1], "rb").read())
n = struct.unpack("<Q", raw[:8])[0]
hdr = json.loads(raw[8:8 + n].decode("utf-8"))
off = 8 + n + hdr["vectors"]["data_offsets"][0]
raw[off:off + 8] = struct.pack("<2f", float("nan"), float("inf"))  # row 0 (clichés): both values
open(sys.argv[2], "wb").write(raw)
PY
code=0
"$bin" --vectors "$tmp/nan.safetensors" --format json vector "$cliches" plain >"$tmp/out" 2>"$tmp/err" || code=$?
if [ "$code" = 0 ] && jq -e . "$tmp/out" >/dev/null &&
    /usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results']; assert r[0]['vector']==[None,None] and r[1]['vector']==[0.5,-1], r" "$tmp/out" 2>"$tmp/py"; then
    echo "PASS json-utf8 cache-nan-is-null"
else
    echo "FAIL json-utf8 cache-nan-is-null: exit $code: $(head -c 300 "$tmp/err") $(head -c 300 "$tmp/out") $(tail -1 "$tmp/py")"
fi
