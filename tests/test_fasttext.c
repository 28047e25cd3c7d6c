/* test_fasttext — fastText .bin models (loader_fasttext.c, subword.c) against the reference of
 * scripts/make-fasttext-fixture.py: the hash and n-gram buckets of gensim, word vectors (in the vocabulary and
 * built from n-grams) equal to gensim's load_facebook_vectors within 1e-6 and to what `fasttext print-word-vectors`
 * prints (5 significant digits) exactly; the naive twin; a supervised model's words; malformed models (every
 * truncation, corrupted fields) refused with the byte offset. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
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
static size_t n_vec, n_values, n_printed_diff, n_gensim;

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

static void test_reference(void)
{
    store *tiny = load(FIX "tiny.bin"), *sup = load(FIX "sup.bin");
    if (!tiny || !sup) {
        store_close(tiny);
        store_close(sup);
        return;
    }
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
    printf("fastText: %zu vectors (%zu vs gensim: worst |difference| %.3g; vs fasttext print-word-vectors: %zu of "
           "%zu printed values differ), naive twin within %.3g relative, %zu hashes, %zu n-gram lists\n",
           n_vec, n_gensim, worst_gensim, n_printed_diff, n_values, worst_naive, n_hash, n_ngrams);
    free(buf);
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

int main(void)
{
    test_reference();
    test_malformed();
    return check_done("test_fasttext");
}
