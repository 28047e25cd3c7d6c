#!/usr/bin/env bash
# --steps: the JSON's "steps" (attention's computation step by step) agree with the document and with an
# independent computation in plain Python (double): softmax of the allowed scores = the document's "weights";
# scores = q·k·scale; Σ_j a_ij·v_j = "weighted"; the output = weighted·W_O (W_O of the random head regenerated here:
# splitmix64 and the Xavier bound, as scripts/make-attention-fixtures.py); q = (x + positions)·W_Q (identity: x +
# positions); "context" = output + x with the residual. Bound: 1e-5 relative to the step's largest value (float32).
# Also: without --steps the document is byte for byte the same as before (no "steps"); the HTML page embeds them.
# A perturbed document must fail the same checks (the test can fail). One PASS/FAIL line per case.
#   EMBVSATTN: the binary (default ./embvsattn)
set -u
export LC_ALL=C
cd "$(dirname "$0")/.."
bin="${EMBVSATTN:-./embvsattn}"
V=tests/fixtures/mini.txt
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
s="France is a country, it is in Europe"

cat >"$tmp/check.py" <<'PY'
import json, math, struct, sys

BOUND = 1e-5

def f32(x):
    return struct.unpack('f', struct.pack('f', x))[0]

def xavier(d_model, d_k, seed):
    """attn_head_random's four matrices (w_q, w_k, w_v, w_o), each row-major, as scripts/make-attention-fixtures.py."""
    mask = (1 << 64) - 1
    state = [seed & mask]
    bound = math.sqrt(6.0 / (d_model + d_k))
    def fill(rows, cols):
        out = []
        for _ in range(rows):
            row = []
            for _ in range(cols):
                state[0] = (state[0] + 0x9E3779B97F4A7C15) & mask
                z = state[0]
                z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
                z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
                z ^= z >> 31
                row.append(f32((2.0 * ((z >> 11) * 2.0 ** -53) - 1.0) * bound))
            out.append(row)
        return out
    return fill(d_model, d_k), fill(d_model, d_k), fill(d_model, d_k), fill(d_k, d_model)

def rel(got, want, what):
    """max |got - want| / (1 + max |want|) over two lists of rows; a null must be a null."""
    scale, worst = 1.0, 0.0
    for gr, wr in zip(got, want, strict=True):
        for g, w in zip(gr, wr, strict=True):
            if w is None or g is None:
                if (w is None) != (g is None):
                    raise AssertionError(f'{what}: null vs {w if g is None else g}')
                continue
            scale = max(scale, 1 + abs(w))
            worst = max(worst, abs(g - w))
    e = worst / scale
    if e > BOUND:
        raise AssertionError(f'{what}: relative error {e:.3g} > {BOUND}')
    return e

def matmul(a, w):
    return [[sum(x * w[p][c] for p, x in enumerate(row)) for c in range(len(w[0]))] for row in a]

def check(doc, head):
    st = doc['steps']
    n = len(doc['tokens'])
    x = st['x']
    xp = [[a + b for a, b in zip(r, p)] for r, p in zip(x, st['positions'])] if 'positions' in st else x
    worst = 0.0
    if head == 'identity':
        for name in ('q', 'k', 'v'):
            worst = max(worst, rel(st[name], xp, name + ' = x + positions'))
        w_o = None
    elif head.startswith('random'):
        seed = int(head.split(':')[1])
        w_q, w_k, w_v, w_o = xavier(len(x[0]), len(st['q'][0]), seed)
        for name, w in (('q', w_q), ('k', w_k), ('v', w_v)):
            worst = max(worst, rel(st[name], matmul(xp, w), name + ' = (x + positions)·W'))
    else:
        w_o = False  # a head file's W_O is not in the document: output checked against Z only
    scale = st['scale']
    if abs(scale - 1 / math.sqrt(len(st['q'][0]))) > 1e-7:
        raise AssertionError(f'scale {scale}')
    dots = [[sum(a * b for a, b in zip(st['q'][i], st['k'][j])) * scale if st['scores'][i][j] is not None else None
             for j in range(n)] for i in range(n)]
    worst = max(worst, rel(st['scores'], dots, 'scores = q·k·scale'))
    soft = []
    for row in st['scores']:
        allowed = [s for s in row if s is not None]
        m = max(allowed) if allowed else 0
        e = [math.exp(s - m) if s is not None else 0.0 for s in row]
        z = sum(e)
        soft.append([v / z if z > 0 else 0.0 for v in e])
    worst = max(worst, rel(doc['weights'], soft, 'softmax(scores) = the document\'s weights'))
    if 'weights' in st:
        raise AssertionError('steps repeat the weights')
    a = doc['weights']
    av = [[sum(a[i][j] * st['v'][j][c] for j in range(n)) for c in range(len(st['v'][0]))] for i in range(n)]
    worst = max(worst, rel(st['weighted'], av, 'weighted = Σ a_j·v_j'))
    if st['output'] is not None:
        if w_o is None:
            worst = max(worst, rel(st['output'], st['weighted'], 'output = weighted (no W_O)'))
        elif w_o:
            worst = max(worst, rel(st['output'], matmul(st['weighted'], w_o), 'output = weighted·W_O'))
    if st['residual']:
        plus = [[o + b for o, b in zip(r, xr)] for r, xr in zip(st['output'], x)]
        worst = max(worst, rel(st['context'], plus, 'context = output + x'))
    elif 'context' in st:
        raise AssertionError('"context" without the residual')
    return worst

path, head, mode = sys.argv[1], sys.argv[2], sys.argv[3]
doc = json.load(open(path))
docs = doc['sentences'] if 'sentences' in doc else [doc]
if mode == 'mutate':  # a wrong number in a step must be caught
    for key in ('q', 'scores', 'weighted'):
        d = json.loads(json.dumps(docs[0]))
        row = d['steps'][key][1]
        c = next(i for i, v in enumerate(row) if v is not None)
        row[c] += 0.01
        try:
            check(d, head)
        except AssertionError:
            continue
        sys.exit(f'a wrong {key} passed')
    print('a wrong q, score or weighted sum is caught')
else:
    print(f'{len(docs)} sentence(s), worst relative error {max(check(d, head) for d in docs):.2g} (bound {BOUND})')
PY

case_() { # NAME HEAD MODE ARGS...
    local name=$1 head=$2 mode=$3
    shift 3
    if ! "$bin" --vectors "$V" "$@" >"$tmp/out.json" 2>"$tmp/err"; then
        echo "FAIL steps $name: exit $?: $(head -c 300 "$tmp/err")"
        return
    fi
    if out=$(/usr/bin/python3 "$tmp/check.py" "$tmp/out.json" "$head" "$mode" 2>&1); then
        echo "PASS steps $name: $out"
    else
        echo "FAIL steps $name: $(echo "$out" | tail -2 | tr '\n' ' ')"
    fi
}

case_ identity identity check --head identity --format json --steps "$s"
case_ identity-positions-causal identity check --head identity --positions sinusoidal --causal --format json --steps \
    "$s xyzzy"
case_ identity-residual identity check --head identity --residual --format json --steps "$s"
case_ random-dk8 random:3 check --head random:3 --dk 8 --format json --steps "$s"
case_ random-positions-residual random:5 check --head random:5 --dk 16 --positions sinusoidal --residual \
    --format json --steps "$s"
case_ compare random:2 check --head random:2 --dk 8 --format json --steps compare "the bank of the river" \
    "the bank raised rates"
case_ mutated random:3 mutate --head random:3 --dk 8 --format json --steps "$s"
case_ mutated-identity identity mutate --head identity --format json --steps "$s"

# without --steps: no "steps", and the rest of the document is the same
if "$bin" --vectors "$V" --head identity --format json "$s" >"$tmp/plain.json" &&
    "$bin" --vectors "$V" --head identity --format json --steps "$s" >"$tmp/steps.json" &&
    /usr/bin/python3 - "$tmp/plain.json" "$tmp/steps.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert 'steps' not in a, 'steps without --steps'
del b['steps']
assert a == b, 'the document differs besides "steps"'
PY
then echo "PASS steps plain-json-unchanged: no \"steps\" without --steps; the rest is the same document"
else echo "FAIL steps plain-json-unchanged"; fi

# the page always embeds them; the text view refuses --steps
if "$bin" --vectors "$V" --head identity --format html "$s" >"$tmp/page.html" && grep -q '"steps":{"x":\[\[' "$tmp/page.html"
then echo "PASS steps html-embeds: the page's document has \"steps\""
else echo "FAIL steps html-embeds: no \"steps\" in the page's document"; fi
code=0
"$bin" --vectors "$V" --head identity --steps "$s" >"$tmp/out" 2>"$tmp/err" || code=$?
if [ "$code" = 2 ] && grep -q '^embvsattn: --steps needs --format json' "$tmp/err"; then
    echo "PASS steps text-refused: exit 2, $(head -c 80 "$tmp/err")"
else echo "FAIL steps text-refused: exit $code: $(head -c 200 "$tmp/err")"; fi
