#!/usr/bin/env bash
# Bench section 1b: `convert` of the gzip'd GloVe text (gzip -6) into the cache against the plain file's, with each
# inflater (EMBVSATTN_INFLATE: ISA-L when built with it, the default; zlib, the fallback), `gzip -dc` and ISA-L's
# `igzip -dc` of the same file alone, and gensim's load_word2vec_format reading the same .gz, in one run. Whole
# processes: the conversions alternate round by round (medians of 9 rounds), the rest are hyperfine medians; peak
# RSS with GNU time; the caches from the .gz must equal the plain file's (tests/cmp_caches.py).
# Environment (scripts/bench.sh passes them): bin, data, tmp, py. Run alone: scripts/bench-gz.sh
set -euo pipefail
. "$(dirname "$0")/bench-env.sh"
[ -f "$txt" ] || { echo "bench-gz: $txt missing: run scripts/fetch-vectors.sh" >&2; exit 1; }
median() { $py -c "import json,sys; print(json.load(open(sys.argv[1]))['results'][int(sys.argv[2])]['median'])" "$1" "$2"; }
rss_mib() { # peak RSS of a command, MiB
    /usr/bin/time -f %M -o "$tmp/rss" "$@" >/dev/null 2>&1
    awk '{printf "%.1f", $1/1024}' "$tmp/rss"
}
inflater=$("$bin" --version | sed -n 's/^inflate: \([a-z]*\).*/\1/p')
have_isal=0
"$bin" --version | grep -q '^inflate: .*EMBVSATTN_INFLATE=zlib|isal' && have_isal=1

echo "== 1b. gzip-compressed text → cache (decompression overlapped with parsing) vs the plain file, and gensim"
echo "       load_word2vec_format reading the same .gz"
gzip -6 -n -c "$txt" >"$tmp/glove.txt.gz"
cat >"$tmp/gensim_load_gz.py" <<PY
from gensim.models import KeyedVectors
kv = KeyedVectors.load_word2vec_format("$tmp/glove.txt.gz", no_header=True)
assert len(kv) == 341479
PY
# The conversions alternate, round by round (plain, .gz, .gz with zlib), so that a slower spell of the machine
# falls on all of them alike; the medians of each and of the per-round ratio are reported.
alternate() { # ROUNDS LABEL=CMD… → "$tmp/alt.txt": "round label ms"
    local rounds=$1 i spec s e
    shift
    : >"$tmp/alt.txt"
    for ((i = 0; i <= rounds; i++)); do # round 0 warms up
        for spec in "$@"; do
            s=$(date +%s%N)
            ${spec#*=} >/dev/null 2>&1
            e=$(date +%s%N)
            [ "$i" = 0 ] || echo "$i ${spec%%=*} $(((e - s) / 1000))" >>"$tmp/alt.txt"
        done
    done
}
alt_median() { # LABEL → seconds
    awk -v l="$1" '$2 == l { print $3 / 1e6 }' "$tmp/alt.txt" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
alt_ratio() { # A B → the median over rounds of A's time / B's
    awk -v a="$1" -v b="$2" '$2 == a { x[$1] = $3 } $2 == b { y[$1] = $3 } END { for (r in x) if (r in y) print x[r] / y[r] }' \
        "$tmp/alt.txt" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
specs=("plain=$bin convert $txt $tmp/plain.safetensors" "gz=$bin convert $tmp/glove.txt.gz $tmp/gz.safetensors")
[ "$have_isal" = 0 ] || specs+=("zlib=env EMBVSATTN_INFLATE=zlib $bin convert $tmp/glove.txt.gz $tmp/gzz.safetensors")
alternate 9 "${specs[@]}"
hyperfine -N --runs 2 --export-json "$tmp/gensim_gz.json" "$py $tmp/gensim_load_gz.py" >/dev/null
dcmds=("gzip -dc $tmp/glove.txt.gz") # (hyperfine throws the output away)
! command -v igzip >/dev/null || dcmds+=("igzip -dc $tmp/glove.txt.gz") # (Debian package isal)
hyperfine -N --runs 3 --export-json "$tmp/dc.json" "${dcmds[@]}" >/dev/null
t_zcat=$(median "$tmp/dc.json" 0)
t_igzip=-1
[ ${#dcmds[@]} = 1 ] || t_igzip=$(median "$tmp/dc.json" 1)
t_zlib=-1
[ "$have_isal" = 0 ] || t_zlib=$(alt_median zlib)
awk -v p="$(alt_median plain)" -v z="$(alt_median gz)" -v zz="$t_zlib" -v ratio="$(alt_ratio gz plain)" \
    -v inf="$inflater" -v g="$(median "$tmp/gensim_gz.json" 0)" -v zc="$t_zcat" -v ig="$t_igzip" \
    -v rp="$(rss_mib "$bin" convert "$txt" "$tmp/p2.safetensors")" \
    -v rz="$(rss_mib "$bin" convert "$tmp/glove.txt.gz" "$tmp/z2.safetensors")" \
    -v mb="$(du -m "$tmp/glove.txt.gz" | cut -f1)" 'BEGIN {
    printf "embvsattn convert glove.6B.100d.txt     %8.3f s  peak RSS %6.1f MiB\n", p, rp
    printf "embvsattn convert glove.6B.100d.txt.gz  %8.3f s  peak RSS %6.1f MiB  (%d MiB, gzip -6; inflated by %s)\n", z, rz, mb, inf
    if (zz >= 0)
        printf "... the same with EMBVSATTN_INFLATE=zlib %7.3f s  (%.2fx the plain file)\n", zz, zz / p
    printf "gzip -dc of the same file alone         %8.3f s  (one core: GNU gzip'"'"'s own inflate)\n", zc
    if (ig >= 0)
        printf "igzip -dc of the same file alone        %8.3f s  (one core: ISA-L, the floor of the compressed convert)\n", ig
    printf "gensim load_word2vec_format(.gz)        %8.3f s\n", g
    printf "compressed / plain: %.2fx (median of 9 alternating rounds; target <= 1.5x); speed-up vs gensim on the .gz: %.1fx\n", ratio, g / z
}' | tee "${out:-$tmp}/convert-gz.txt"
$py tests/cmp_caches.py "$tmp/plain.safetensors" "$tmp/gz.safetensors" >/dev/null ||
    { echo "bench-gz: the cache from the .gz differs from the plain file's" >&2; exit 1; }
[ "$have_isal" = 0 ] || $py tests/cmp_caches.py "$tmp/plain.safetensors" "$tmp/gzz.safetensors" >/dev/null ||
    { echo "bench-gz: the cache from the .gz (zlib) differs from the plain file's" >&2; exit 1; }
rm -f "$tmp"/glove.txt.gz "$tmp"/*.safetensors
