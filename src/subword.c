/* subword — fastText's character n-grams, their hash and the word vectors built from them (subword.h). */
#include "subword.h"

#include <stdlib.h>
#include <string.h>

ev_status subword_new(size_t dim, size_t bucket, int minn, int maxn, const float *ngrams, int copy,
                      subword_model **out, ev_error *err)
{
    *out = NULL;
    if (dim == 0 || bucket == 0)
        return ev_fail(err, EV_ERR_USAGE, "subword n-grams need a dimension and buckets (found %zu and %zu)", dim,
                       bucket);
    if (maxn < 0 || maxn > SUBWORD_MAX_N || (maxn > 0 && minn < 1))
        return ev_fail(err, EV_ERR_USAGE, "subword n-gram lengths %d to %d: expected 1 ≤ minn and maxn ≤ %d", minn,
                       maxn, SUBWORD_MAX_N);
    if (bucket > SIZE_MAX / sizeof(float) / dim)
        return ev_fail(err, EV_ERR_NOMEM, "subword n-grams of %zu × %zu are too large", bucket, dim);
    subword_model *m = calloc(1, sizeof *m);
    if (!m)
        return ev_fail(err, EV_ERR_NOMEM, "out of memory for the subword n-grams");
    m->dim = dim;
    m->bucket = bucket;
    m->minn = minn;
    m->maxn = maxn;
    m->ngrams = ngrams;
    if (copy) {
        if (!(m->own = malloc(bucket * dim * sizeof *m->own))) {
            free(m);
            return ev_fail(err, EV_ERR_NOMEM, "out of memory for %zu × %zu subword n-grams", bucket, dim);
        }
        memcpy(m->own, ngrams, bucket * dim * sizeof *m->own);
        m->ngrams = m->own;
    }
    *out = m;
    return EV_OK;
}

void subword_free(subword_model *m)
{
    if (!m)
        return;
    free(m->own);
    free(m);
}

uint32_t subword_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (uint32_t)(int8_t)s[i]; /* fastText's int8_t cast: bytes ≥ 0x80 are sign-extended */
        h *= 16777619u;
    }
    return h;
}

/* Byte k of "<" w ">" (n + 2 bytes). */
static inline unsigned char wrapped(const char *w, size_t n, size_t k)
{
    return k == 0 ? '<' : k == n + 1 ? '>' : (unsigned char)w[k - 1];
}

/* Calls add(ctx, row) for every n-gram of w in fastText's order; returns their number. */
static size_t each_ngram(const subword_model *m, const char *w, size_t n, void (*add)(void *, uint32_t), void *ctx)
{
    size_t len = n + 2, count = 0;
    if (m->maxn <= 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if ((wrapped(w, n, i) & 0xC0) == 0x80)
            continue;
        uint32_t h = 2166136261u;
        size_t j = i;
        for (int k = 1; j < len && k <= m->maxn; k++) {
            /* one code point more: its first byte, then its continuation bytes */
            do {
                h ^= (uint32_t)(int8_t)wrapped(w, n, j++);
                h *= 16777619u;
            } while (j < len && (wrapped(w, n, j) & 0xC0) == 0x80);
            if (k >= m->minn && !(k == 1 && (i == 0 || j == len))) {
                if (add)
                    add(ctx, (uint32_t)(h % (uint32_t)m->bucket));
                count++;
            }
        }
    }
    return count;
}

typedef struct {
    uint32_t *rows;
    size_t n, cap;
} row_list;

static void add_row(void *ctx, uint32_t r)
{
    row_list *l = ctx;
    if (l->n < l->cap)
        l->rows[l->n] = r;
    l->n++;
}

size_t subword_rows(const subword_model *m, const char *w, size_t n, uint32_t *rows, size_t cap)
{
    row_list l = {rows, 0, rows ? cap : 0};
    each_ngram(m, w, n, add_row, &l);
    return l.n;
}

typedef struct {
    const subword_model *m;
    float *acc;       /* float sums (fastText's) */
    double *dacc;     /* or double sums (the twin) */
} summer;

static void add_vec(void *ctx, uint32_t r)
{
    summer *s = ctx;
    const float *row = s->m->ngrams + (size_t)r * s->m->dim;
    for (size_t k = 0; k < s->m->dim; k++) {
        if (s->acc)
            s->acc[k] += row[k];
        else
            s->dacc[k] += row[k];
    }
}

static int is_eos(const char *w, size_t n) { return n == 4 && memcmp(w, "</s>", 4) == 0; }

size_t subword_vector(const subword_model *m, const char *w, size_t n, const float *word_row, float *out)
{
    size_t d = m->dim, count = 0;
    if (word_row) {
        memcpy(out, word_row, d * sizeof *out);
        count = 1;
    } else
        memset(out, 0, d * sizeof *out);
    if (!(word_row && is_eos(w, n))) {
        summer s = {m, out, NULL};
        count += each_ngram(m, w, n, add_vec, &s);
    }
    if (count > 1) {
        float inv = (float)(1.0 / (double)count); /* fastText: vec.mul(1.0 / ngrams.size()) with a float argument */
        for (size_t k = 0; k < d; k++)
            out[k] *= inv;
    }
    return count;
}

size_t subword_vector_naive(const subword_model *m, const char *w, size_t n, const float *word_row, float *out)
{
    size_t d = m->dim, count = 0;
    double *acc = calloc(d, sizeof *acc);
    char *gram = malloc(n + 2); /* one n-gram's bytes */
    if (!acc || !gram) { /* the twin is for tests; without memory it answers like the fast one */
        free(acc);
        free(gram);
        return subword_vector(m, w, n, word_row, out);
    }
    if (word_row) {
        for (size_t k = 0; k < d; k++)
            acc[k] = word_row[k];
        count = 1;
    }
    if (!(word_row && is_eos(w, n))) {
        /* the n-grams from their bytes, materialised: "<" w ">" cut by code points */
        size_t len = n + 2;
        for (size_t i = 0; m->maxn > 0 && i < len; i++) {
            if ((wrapped(w, n, i) & 0xC0) == 0x80)
                continue;
            size_t j = i;
            for (int k = 1; j < len && k <= m->maxn; k++) {
                j++;
                while (j < len && (wrapped(w, n, j) & 0xC0) == 0x80)
                    j++;
                if (k < m->minn || (k == 1 && (i == 0 || j == len)))
                    continue;
                size_t g = 0;
                for (size_t b = i; b < j; b++)
                    gram[g++] = (char)wrapped(w, n, b);
                uint32_t r = subword_hash(gram, g) % (uint32_t)m->bucket;
                for (size_t e = 0; e < d; e++)
                    acc[e] += m->ngrams[(size_t)r * d + e];
                count++;
            }
        }
    }
    for (size_t k = 0; k < d; k++)
        out[k] = count ? (float)(acc[k] / (double)count) : 0.0f;
    free(acc);
    free(gram);
    return count;
}
