/* test_fasttext — fastText .bin models (loader_fasttext.c, subword.c) against the reference of
 * scripts/make-fasttext-fixture.py: the hash and n-gram buckets of gensim, word vectors (in the vocabulary and
 * built from n-grams) equal to gensim's load_facebook_vectors within 1e-6 and to what `fasttext print-word-vectors`
 * prints (5 significant digits) exactly; the naive twin; a supervised model's words; malformed models (every
 * truncation, corrupted fields) refused with the byte offset. The model converted to a cache (store.c: the ngrams
 * tensor) gives the same vectors bit for bit, and the same checks against gensim and fastText; a cache with damaged
 * n-gram metadata or tensor is refused; --limit N makes the words past N words outside the vocabulary. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <unistd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "loader.h"
#include "store.h"
#include "subword.h"

#define FIX "tests/fixtures/fasttext/"

static unsigned char *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, len = 0;
    unsigned char *b = malloc(cap);
    size_t k;
    while (b && (k = fread(b + len, 1, cap - len, f)) > 0) {
        len += k;
        if (len == cap) {
            unsigned char *nb = realloc(b, cap *= 2);
            if (!nb) {
                free(b);
                b = NULL;
            }
            b = nb;
        }
    }
    fclose(f);
    *n = len;
    return b;
}

static store *load(const char *path)
{
    ev_error err = {0};
    store *s = NULL;
    loader_opts o = {0};
    ev_status st = loader_load(path, &o, &s, &err);
    CHECK(st == EV_OK, "%s: %s", path, err.msg ? err.msg : "?");
    CHECK(st != EV_OK || o.detected == VF_FASTTEXT, "%s detected as %s", path, loader_format_name(o.detected));
    ev_error_clear(&err);
    return s;
}

/* Splits s at sep in place into at most max fields; returns their number. */
static size_t split(char *s, char sep, char **f, size_t max)
{
    size_t n = 0;
    while (n < max) {
        f[n++] = s;
        char *e = strchr(s, sep);
        if (!e)
            break;
        *e = '\0';
        s = e + 1;
    }
    return n;
}

static double worst_gensim, worst_naive;
static size_t n_vec, n_values, n_printed_diff, n_gensim, n_cache_same;
static char tmpdir[] = "/tmp/test_fasttext.XXXXXX";
static store *tiny_cache; /* tiny.bin converted to a cache (test_reference) */

/* The vector the store gives w: its row, or its n-gram vector when it is not in the vocabulary. */
static void vector_of(const store *s, const char *w, float *v)
{
    long r = store_find(s, w, strlen(w));
    if (r >= 0)
        memcpy(v, store_row(s, (size_t)r), store_dim(s) * sizeof *v);
    else
        store_subword_vector(s, w, strlen(w), v);
}

/* One "vec" line: MODEL WORD KIND GENSIM FASTTEXT. */
static void check_vec(store *s, char **f)
{
    const char *model = f[1], *w = f[2];
    int in = strcmp(f[3], "in") == 0;
    size_t d = store_dim(s), wl = strlen(w);
    float *v = calloc(d, sizeof *v), *nv = calloc(d, sizeof *nv);
    long r = store_find(s, w, wl);
    CHECK((r >= 0) == in, "%s: '%s' %s the vocabulary", model, w, in ? "should be in" : "should not be in");
    const subword_model *sub = store_subwords(s);
    if (r >= 0)
        memcpy(v, store_row(s, (size_t)r), d * sizeof *v);
    else
        store_subword_vector(s, w, wl, v);
    n_vec++;
    /* fastText's printout: %.5g of each value (C++ setprecision(5)) */
    char *ft[64];
    size_t nf = split(f[5], ' ', ft, 64);
    CHECK(nf == d, "%s '%s': %zu printed values, dim %zu", model, w, nf, d);
    for (size_t k = 0; k < d && k < nf; k++, n_values++) {
        char mine[32];
        snprintf(mine, sizeof mine, "%.5g", (double)v[k]);
        if (strcmp(mine, ft[k]) != 0) {
            n_printed_diff++;
            CHECK(0, "%s '%s' value %zu: %s, fasttext print-word-vectors %s", model, w, k, mine, ft[k]);
        }
    }
    /* gensim (not for sup.bin, which it refuses, nor "</s>", to which it adds n-grams that fastText does not) */
    if (strcmp(f[4], "-") != 0 && strcmp(w, "</s>") != 0) {
        char *g[64];
        size_t ng = split(f[4], ' ', g, 64);
        CHECK(ng == d, "gensim values %zu", ng);
        n_gensim++;
        for (size_t k = 0; k < d && k < ng; k++) {
            double ref = strtod(g[k], NULL), e = fabs((double)v[k] - ref);
            if (e > worst_gensim)
                worst_gensim = e;
            CHECK(e <= 1e-6, "%s '%s' value %zu: %.9g, gensim %.9g", model, w, k, (double)v[k], ref);
        }
    }
    /* the model converted to a cache: the same bits (the same rows, the same arithmetic) */
    if (sub && tiny_cache) {
        float *cv = calloc(d, sizeof *cv);
        vector_of(tiny_cache, w, cv);
        int same = memcmp(cv, v, d * sizeof *v) == 0;
        CHECK(same, "%s '%s': the cache's vector differs from the .bin's (first value %.9g vs %.9g)", model, w,
              (double)cv[0], (double)v[0]);
        n_cache_same += same;
        free(cv);
    }
    /* the naive twin (double sums) agrees with fastText's float order */
    if (sub) {
        subword_vector_naive(sub, w, wl, NULL, nv);
        if (r < 0)
            for (size_t k = 0; k < d; k++) {
                double e = fabs((double)v[k] - nv[k]) / (fabs((double)nv[k]) + 1e-3);
                if (e > worst_naive)
                    worst_naive = e;
                CHECK(e <= 1e-5, "'%s' value %zu: %.9g, naive %.9g", w, k, (double)v[k], (double)nv[k]);
            }
    }
    free(v);
    free(nv);
}

/* Writes s as a cache in tmpdir/name and opens it (NULL on failure, reported). */
static store *as_cache(const store *s, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    ev_error err = {0};
    store *c = NULL;
    CHECK(store_write_cache(s, path, &err) == EV_OK && store_open(path, &c, &err) == EV_OK, "%s: %s", path,
          err.msg ? err.msg : "?");
    ev_error_clear(&err);
    return c;
}

static void test_reference(void)
{
    store *tiny = load(FIX "tiny.bin"), *sup = load(FIX "sup.bin");
    if (!tiny || !sup) {
        store_close(tiny);
        store_close(sup);
        return;
    }
    /* the cache keeps the words' vectors and the n-gram model; a model without n-grams stays a version-1 cache */
    tiny_cache = as_cache(tiny, "tiny.safetensors");
    store *sup_cache = as_cache(sup, "sup.safetensors");
    if (tiny_cache) {
        const subword_model *a = store_subwords(tiny), *b = store_subwords(tiny_cache);
        CHECK(b && a && b->minn == a->minn && b->maxn == a->maxn && b->bucket == a->bucket && b->dim == a->dim &&
              memcmp(a->ngrams, b->ngrams, a->bucket * a->dim * sizeof(float)) == 0, "the cache's n-gram model");
        CHECK(store_size(tiny_cache) == store_size(tiny) &&
              memcmp(store_vectors(tiny), store_vectors(tiny_cache), store_size(tiny) * store_dim(tiny) * 4) == 0,
              "the cache's word vectors");
        const char *v = store_meta(tiny_cache, "format_version"), *bk = store_meta(tiny_cache, "ngram_bucket");
        CHECK(v && strcmp(v, "2") == 0 && bk && strcmp(bk, "2000") == 0, "format_version %s, ngram_bucket %s",
              v ? v : "none", bk ? bk : "none");
    }
    if (sup_cache) {
        const char *v = store_meta(sup_cache, "format_version");
        CHECK(!store_subwords(sup_cache) && v && strcmp(v, "1") == 0, "sup.bin's cache: version %s, no n-grams",
              v ? v : "none");
    }
    store_close(sup_cache);
    const subword_model *sm = store_subwords(tiny);
    CHECK(sm && sm->minn == 3 && sm->maxn == 6 && sm->bucket == 2000 && sm->dim == 8, "tiny.bin: n-grams 3-6, 2000");
    CHECK(store_subwords(sup) == NULL, "sup.bin has no n-grams (bucket 0)");
    for (size_t i = 0; i < store_size(sup); i++)
        CHECK(strncmp(store_word(sup, i, NULL), "__label__", 9) != 0, "a label among sup.bin's words");
    size_t n;
    unsigned char *buf = read_all(FIX "expected.tsv", &n);
    CHECK(buf != NULL, "missing " FIX "expected.tsv (scripts/make-fasttext-fixture.py)");
    if (!buf) {
        store_close(tiny);
        store_close(sup);
        return;
    }
    buf[n ? n - 1 : 0] = '\0';
    size_t n_in[2] = {0, 0}, n_hash = 0, n_ngrams = 0;
    char *line = (char *)buf;
    while (line && *line) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char *f[6];
        size_t nf = split(line, '\t', f, 6);
        if (strcmp(f[0], "vec") == 0 && nf == 6) {
            int is_sup = strcmp(f[1], "sup.bin") == 0;
            check_vec(is_sup ? sup : tiny, f);
            n_in[is_sup] += strcmp(f[3], "in") == 0;
        } else if (strcmp(f[0], "hash") == 0 && nf == 3) {
            uint32_t h = subword_hash(f[1], strlen(f[1]));
            CHECK(h == (uint32_t)strtoul(f[2], NULL, 10), "hash('%s') = %u, gensim %s", f[1], h, f[2]);
            n_hash++;
        } else if (strcmp(f[0], "ngrams") == 0 && nf == 3 && sm) {
            uint32_t rows[256];
            size_t k = subword_rows(sm, f[1], strlen(f[1]), rows, 256);
            char *g[256];
            size_t ng = split(f[2], ' ', g, 256);
            CHECK(k == ng, "'%s': %zu n-grams, gensim %zu", f[1], k, ng);
            for (size_t i = 0; i < k && i < ng; i++)
                CHECK(rows[i] == (uint32_t)strtoul(g[i], NULL, 10), "'%s' n-gram %zu: bucket %u, gensim %s", f[1], i,
                      rows[i], g[i]);
            n_ngrams++;
        } else
            CHECK(0, "unexpected reference line '%s'", f[0]);
        line = next;
    }
    CHECK(n_in[0] == store_size(tiny) && n_in[1] == store_size(sup), "words: %zu and %zu, reference %zu and %zu",
          store_size(tiny), store_size(sup), n_in[0], n_in[1]);
    CHECK(n_hash >= 5 && n_ngrams >= 3 && n_gensim >= 50, "reference too small");
    CHECK(!tiny_cache || n_cache_same >= 50, "only %zu vectors compared with the cache", n_cache_same);
    printf("fastText: %zu vectors (%zu vs gensim: worst |difference| %.3g; vs fasttext print-word-vectors: %zu of "
           "%zu printed values differ; %zu of tiny.bin's bit-equal from its cache), naive twin within %.3g relative, "
           "%zu hashes, %zu n-gram lists\n",
           n_vec, n_gensim, worst_gensim, n_printed_diff, n_values, n_cache_same, worst_naive, n_hash, n_ngrams);
    free(buf);
    store_close(tiny_cache);
    tiny_cache = NULL;
    store_close(tiny);
    store_close(sup);
}

/* A malformed model must be refused with EV_ERR_FORMAT and a message naming a byte offset and frag. */
static void expect_bad(const unsigned char *p, size_t n, const char *what, const char *frag)
{
    loader_opts o = {0};
    o.format = VF_FASTTEXT;
    store *s = NULL;
    ev_error err = {0};
    ev_status st = loader_load_bytes("m.bin", (const char *)p, n, &o, &s, &err);
    CHECK(st == EV_ERR_FORMAT && !s, "%s: status %d", what, (int)st);
    CHECK(err.msg && strstr(err.msg, "byte ") && (!frag || strstr(err.msg, frag)), "%s: message '%s', expected '%s'",
          what, err.msg ? err.msg : "(none)", frag ? frag : "byte N");
    store_close(s);
    ev_error_clear(&err);
}

static void put_i32(unsigned char *p, int32_t v) { memcpy(p, &v, 4); }
static void put_i64(unsigned char *p, int64_t v) { memcpy(p, &v, 8); }

static void test_malformed(void)
{
    size_t n;
    unsigned char *m = read_all(FIX "sup.bin", &n);
    CHECK(m != NULL && n > 200, "sup.bin");
    if (!m)
        return;
    unsigned char *b = malloc(n);
    /* every truncation: an error with its offset, never a crash or a read past the end */
    for (size_t k = 8; k < n; k++) {
        unsigned char *t = malloc(k); /* exactly k bytes: ASan sees a read past them */
        memcpy(t, m, k);
        char what[64];
        snprintf(what, sizeof what, "truncated to %zu bytes", k);
        expect_bad(t, k, what, NULL);
        free(t);
    }
    /* fields (sup.bin: magic 0, version 4, dim 8, …, model 36, bucket 40, minn 44, maxn 48, dictionary at 64) */
    static const struct {
        size_t off;
        int width;
        int64_t value;
        const char *frag;
    } CASES[] = {{0, 4, 12345, "expected fastText's magic number 793712314"},
                 {4, 4, 13, "format version 13, expected 11 or 12"},
                 {8, 4, 0, "byte 8: dim is 0"},
                 {8, 4, -3, "argument dim is -3"},
                 {36, 4, 7, "model is 7"},
                 {64, 4, 1 << 30, "dictionary of 1073741824 entries"},
                 {68, 4, 1 << 30, "expected words + labels = entries"},
                 {84, 8, 5, "a pruned dictionary"},
                 {84, 8, -7, "pruneidx_size is -7"}};
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        memcpy(b, m, n);
        if (CASES[c].width == 4)
            put_i32(b + CASES[c].off, (int32_t)CASES[c].value);
        else
            put_i64(b + CASES[c].off, CASES[c].value);
        expect_bad(b, n, CASES[c].frag, CASES[c].frag);
    }
    /* counts consistent but beyond the file: words and labels raised together */
    memcpy(b, m, n);
    int32_t size, nwords;
    memcpy(&size, m + 64, 4);
    memcpy(&nwords, m + 68, 4);
    put_i32(b + 64, size + 100000);
    put_i32(b + 68, nwords + 100000);
    expect_bad(b, n, "entries beyond the file", "dictionary entries need at least");
    /* a bigger file than the model: bytes after the output matrix */
    unsigned char *x = malloc(n + 3);
    memcpy(x, m, n);
    memset(x + n, 0, 3);
    expect_bad(x, n + 3, "extra bytes", "expected the model to end with it");
    free(x);
    /* the quantization flag: find it after the dictionary (sup.bin: bucket 0, so the input matrix is nwords × 4) */
    size_t dim = 4, mat = n - (size_t)nwords * dim * 4; /* crude bound; locate the flag by the matrix shape */
    for (size_t q = 92; q + 17 < n; q++) {
        int64_t r, c;
        memcpy(&r, m + q + 1, 8);
        memcpy(&c, m + q + 9, 8);
        if (m[q] == 0 && r == nwords && c == (int64_t)dim) {
            mat = q;
            break;
        }
    }
    memcpy(b, m, n);
    b[mat] = 1;
    expect_bad(b, n, "quantized", "a quantized fastText model (.ftz");
    memcpy(b, m, n);
    float nan = NAN;
    memcpy(b + mat + 17 + 4 * 5, &nan, 4);
    expect_bad(b, n, "NaN", "input matrix row 1, value 1 is NaN");
    free(b);
    free(m);
}

/* The cache written by test_reference with one same-length patch of its JSON header: refused with frag. */
static void expect_bad_cache(const unsigned char *good, size_t n, const char *find, const char *repl, const char *frag)
{
    unsigned char *b = malloc(n);
    memcpy(b, good, n);
    uint64_t hl;
    memcpy(&hl, b, 8);
    unsigned char *at = NULL;
    for (size_t i = 8; i + strlen(find) <= 8 + hl && !at; i++)
        if (memcmp(b + i, find, strlen(find)) == 0)
            at = b + i;
    CHECK(at && strlen(find) == strlen(repl), "'%s' not in the cache's header", find);
    if (at)
        memcpy(at, repl, strlen(repl));
    char path[256];
    snprintf(path, sizeof path, "%s/bad.safetensors", tmpdir);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(b, 1, n, f);
        fclose(f);
    }
    store *s = NULL;
    ev_error err = {0};
    ev_status st = store_open(path, &s, &err);
    CHECK(st == EV_ERR_FORMAT && !s, "%s → %s: status %d", find, repl, (int)st);
    CHECK(err.msg && strstr(err.msg, frag), "%s → %s: message '%s', expected '%s'", find, repl,
          err.msg ? err.msg : "(none)", frag);
    store_close(s);
    ev_error_clear(&err);
    free(b);
    unlink(path);
}

static void test_cache_damaged(void)
{
    size_t n;
    char path[256];
    snprintf(path, sizeof path, "%s/tiny.safetensors", tmpdir);
    unsigned char *good = read_all(path, &n);
    CHECK(good && n > 64000, "%s (written by test_reference)", path);
    if (!good)
        return;
    static const char *const CASES[][3] = {
        {"\"format_version\":\"2\"", "\"format_version\":\"1\"", "an ngrams tensor in a cache of format_version '1'"},
        {"\"format_version\":\"2\"", "\"format_version\":\"3\"", "reads embvsattn-cache files of version 1 or 2 only"},
        {"\"ngram_bucket\":\"2000\"", "\"ngram_bucket\":\"2001\"",
         "tensor 'ngrams' has shape [2000, 8], expected [ngram_bucket, dim] = [2001, 8]"},
        {"\"ngram_bucket\":\"2000\"", "\"ngram_bucket\":\"-200\"", "ngram_bucket is '-200', expected an integer"},
        {"\"ngram_maxn\":\"6\"", "\"ngram_maxn\":\"x\"", "ngram_maxn is 'x', expected an integer from 1 to 64"},
        {"\"ngram_minn\":\"3\"", "\"ngram_minn\":\"0\"", "ngram_minn is '0', expected an integer from 1"},
        {"\"ngram_bucket\"", "\"ngram_xucket\"", "the ngrams tensor needs __metadata__.ngram_bucket, found none"},
        {"\"ngrams\":", "\"ngramz\":", "expected a tensor named 'ngrams', found none"},
        {"\"ngrams\":{\"dtype\":\"F32\"", "\"ngrams\":{\"dtype\":\"F16\"", "tensor 'ngrams': expected dtype F32, found F16"},
        {"[2000,8]", "[2000,9]", "tensor 'ngrams': shape [2000, 9] needs 72000 bytes, data_offsets give 64000"},
        {"[2000,8]", "[9e99,8]", "tensor 'ngrams': shape[0] is not a size"},
    };
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++)
        expect_bad_cache(good, n, CASES[c][0], CASES[c][1], CASES[c][2]);
    free(good);
}

/* --limit N: the words past N are outside the vocabulary, and get what fastText gives such a word: the mean of their
 * n-grams' rows, without their own row (bit-equal to subword_vector without a word row, near the naive twin, not
 * the full model's vector); the same from the limited model converted to a cache. */
static void test_limit(void)
{
    const size_t N = 10;
    store *full = load(FIX "tiny.bin"), *lim = NULL;
    loader_opts o = {0};
    o.limit = N;
    ev_error err = {0};
    CHECK(loader_load(FIX "tiny.bin", &o, &lim, &err) == EV_OK, "--limit %zu: %s", N, err.msg ? err.msg : "?");
    ev_error_clear(&err);
    store *lc = lim ? as_cache(lim, "limit.safetensors") : NULL;
    if (!full || !lim || !lc) {
        store_close(full);
        store_close(lim);
        store_close(lc);
        return;
    }
    CHECK(store_size(lim) == N && store_size(lc) == N && store_subwords(lim) && store_subwords(lc),
          "--limit %zu: %zu words, n-grams kept", N, store_size(lim));
    size_t d = store_dim(full), past = 0, differ = 0;
    float *a = malloc(d * sizeof *a), *b = malloc(d * sizeof *b), *c = malloc(d * sizeof *c), *nv = malloc(d * 4);
    for (size_t i = 0; i < store_size(full); i++) {
        size_t wl;
        const char *w = store_word(full, i, &wl);
        long r = store_find(lim, w, wl);
        CHECK((r >= 0) == (i < N), "word %zu '%s' %s the limited vocabulary", i, w, i < N ? "should be in" : "is in");
        if (i < N) {
            CHECK(r == (long)i && memcmp(store_row(lim, i), store_row(full, i), d * 4) == 0, "word %zu's row", i);
            continue;
        }
        past++;
        size_t k = store_subword_vector(lim, w, wl, a);
        store_subword_vector(lc, w, wl, c);
        subword_vector(store_subwords(full), w, wl, NULL, b); /* fastText's vector of a word outside the vocabulary */
        subword_vector_naive(store_subwords(full), w, wl, NULL, nv);
        CHECK(k > 0 && memcmp(a, b, d * 4) == 0 && memcmp(a, c, d * 4) == 0, "'%s': the n-gram vector (%zu n-grams)",
              w, k);
        for (size_t e = 0; e < d; e++)
            CHECK(fabs((double)a[e] - nv[e]) <= 1e-5 * (fabs((double)nv[e]) + 1e-3), "'%s' value %zu: %.9g, naive %.9g",
                  w, e, (double)a[e], (double)nv[e]);
        differ += memcmp(a, store_row(full, i), d * 4) != 0;
    }
    CHECK(past >= 20 && differ == past, "%zu words past the limit, %zu differ from their full vectors", past, differ);
    free(a);
    free(b);
    free(c);
    free(nv);
    store_close(full);
    store_close(lim);
    store_close(lc);
}

int main(void)
{
    if (!mkdtemp(tmpdir))
        return 2;
    test_reference();
    test_cache_damaged();
    test_limit();
    test_malformed();
    char path[256];
    static const char *const FILES[] = {"tiny.safetensors", "sup.safetensors", "limit.safetensors"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", tmpdir, FILES[i]);
        unlink(path);
    }
    rmdir(tmpdir);
    return check_done("test_fasttext");
}
