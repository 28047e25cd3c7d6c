#!/usr/bin/env bash
# bench-serve.sh — `make bench` section 9: `embvsattn serve` under load on loopback with Debian's wrk (2 threads, 4
# connections, 10 s each): the README's sentence (GET /api/view) — answered from the answer cache after its first
# computation —, the same with every request computed (--cache 0), and every request a different sentence (a wrk
# Lua script: 3 to 12 frequent words chosen by a counter, so the answer cache never hits and the static-neighbour
# cache fills). Requests/s, p50/p99 latency, errors (socket errors and non-2xx answers), and the server's peak RSS
# (VmHWM) after 1,000 requests and after 100,000 (the issue's bounds: ≥ 2,000 requests/s, p99 ≤ 20 ms, 0 errors,
# RSS within 16 MiB).
# Environment (from scripts/bench.sh, or set by hand): bin, data (the vectors' directory), tmp, py.
set -euo pipefail
. "$(dirname "$0")/bench-env.sh"
command -v wrk >/dev/null || { echo "bench-serve: wrk missing (scripts/setup-tests.sh --bench installs it)" >&2; exit 1; }
path='/api/view?s=France%20is%20a%20country%2C%20it%20is%20in%20Europe'
pid=

start() { # start ARGS…: a server on a free port; sets pid and url
    "$bin" --vectors "$cache" serve --port 0 "$@" >"$tmp/serve-url" 2>"$tmp/serve-err" &
    pid=$!
    for _ in $(seq 600); do # 60 s at most: a loaded machine may have to read the vectors back from disk
        [ -s "$tmp/serve-url" ] || ! kill -0 "$pid" 2>/dev/null && break
        sleep 0.1
    done
    url=$(head -1 "$tmp/serve-url")
    url=${url%/}
    [ -n "$url" ] || { echo "bench-serve: the server printed no URL: $(cat "$tmp/serve-err")" >&2; exit 1; }
}
stop() { kill -TERM "$pid" && wait "$pid" || true; pid=; }
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null; bench_cleanup_tmp' EXIT
mem() { # the server's peak RSS, and its resident anonymous (heap) and file-backed (the mapped vectors) memory, MiB
    awk '/^(VmHWM|RssAnon|RssFile):/ { printf "%s%.1f", n++ ? " " : "", $2 / 1024 }' "/proc/$pid/status"
}

# wrk_run NAME [wrk options…]: 10 s of load, one result line; adds its request count to $total
total=0
wrk_run() {
    local name=$1
    shift
    wrk -t2 -c4 -d10s --latency "$@" >"$tmp/wrk-out" 2>&1
    awk -v name="$name" '
        / requests in / { n = $1 }
        /^Requests\/sec:/ { rps = $2 }
        /^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 }
        /Socket errors:/ { for (i = 3; i <= NF; i++) { x = $i; gsub(/,/, "", x); if (x ~ /^[0-9]+$/) err += x } }
        /Non-2xx or 3xx responses:/ { err += $NF }
        END { printf "%-46s %8.0f requests/s  p50 %8s  p99 %8s  errors %d  (%d requests)\n", name, rps, p50, p99, err, n }
    ' "$tmp/wrk-out" | tee "$tmp/wrk-line"
    total=$((total + $(awk '{ print $(NF - 1) }' "$tmp/wrk-line" | tr -d '(')))
}

# 1,000 requests on one keep-alive connection, then the RSS
first_thousand() {
    "$py" - "$url" "$path" <<'EOF'
import http.client, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
for _ in range(1000):
    c.request("GET", sys.argv[2])
    r = c.getresponse()
    r.read()
    assert r.status == 200, r.status
EOF
}

echo "== 9. embvsattn serve: GET /api/view on loopback, wrk 2 threads × 4 connections, 10 s a run ($(nproc) cores)"
# a different sentence every request: words 100-5,100 by frequency, 3 to 12 of them, from a counter
awk 'NR > 100 && NR <= 5100 && $1 ~ /^[a-z]+$/ { printf "\"%s\",", $1 }' "$txt" >"$tmp/serve-words"
cat >"$tmp/serve-distinct.lua" <<EOF
local words = {$(cat "$tmp/serve-words")}
local n = 0
request = function()
    n = n + 1
    local k, s, x = 3 + n % 10, {}, n * 2654435761
    for i = 1, k do
        x = (x * 1103515245 + 12345) % 2147483648
        s[i] = words[1 + x % #words]
    end
    return wrk.format("GET", "/api/view?s=" .. table.concat(s, "%20") .. "&k=" .. (5 + n % 3))
end
EOF

start
first_thousand
total=1000
read -r hwm_1k anon_1k _ <<<"$(mem)"
while [ "$total" -lt 100000 ]; do
    wrk_run "README sentence (answer cache)" "$url$path"
done
read -r hwm_100k anon_100k _ <<<"$(mem)"
n_readme=$total
wrk_run "every request a new sentence (computed)" -s "$tmp/serve-distinct.lua" "$url"
read -r hwm_new anon_new file_new <<<"$(mem)"
stop
start --cache 0
wrk_run "README sentence, every request computed" "$url$path"
stop
awk -v a="$hwm_1k" -v b="$hwm_100k" -v aa="$anon_1k" -v ab="$anon_100k" -v n="$n_readme" -v c="$hwm_new" \
    -v ca="$anon_new" -v cf="$file_new" 'BEGIN {
    printf "peak RSS (VmHWM) after 1,000 requests %.1f MiB, after %d: %.1f MiB, +%.1f MiB (aim: within 16); heap " \
        "(RssAnon) %.1f -> %.1f MiB\n", a, n, b, b - a, aa, ab
    printf "after the new-sentence run: peak RSS %.1f MiB, heap %.1f MiB (the bounded caches), mapped vectors %.1f MiB\n",
        c, ca, cf }'
