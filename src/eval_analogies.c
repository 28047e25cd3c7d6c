/* eval_analogies — gensim 4.2's evaluate_word_analogies (eval_gensim.h), fast: instead of one most_similar per
 * question (a pass over the whole matrix each), one sgemm of the distinct question words (~900 for
 * questions-words.txt) against the vocabulary in cache-sized blocks, and per question a scan of the sum (3CosAdd) or
 * product (3CosMul) of three rows of that score tile, keeping its best EVAL_K answers. The answers whose margin is
 * within rounding of the fast sums are re-scored with gensim's own arithmetic (search.h's sim_topk), so that every
 * count equals gensim's.
 *
 * Layout of this file:
 *   1. reading the questions file
 *   2. the scan kernels (C, AVX2, AVX-512: the same float32 operations) and the per-block scans built on them
 *   3. the blocked pass: workers (parallel_blocks) over blocks of the vocabulary
 *   4. the answers: merged over the workers, gensim's pick, near-ties re-scored; the entry point
 *
 * Exactness: gensim's arithmetic is reproduced with separately rounded float32 operations; this file must not be
 * compiled with floating-point contraction into FMA (-ffp-contract=off, the default of -std=c11).
 */
#define _POSIX_C_SOURCE 200809L
#include "eval_gensim.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "eval_vocab.h"
#include "parallel.h"
#include "pytext.h"
#include "util.h"

#if CPU_X86
#include <immintrin.h>
#endif

#define EVAL_K 8          /* answers kept per question: gensim's top 5 and 3 more, to see near-ties */
#define EVAL_TILE 131072  /* floats in a score tile (distinct words × block rows): 512 KB, half of a 1 MB L2 */
#define EVAL_EPS 1e-5f    /* answers closer than this (in sums of cosines) are re-scored with gensim's arithmetic */

/* ==== 1. reading the questions file ========================================================================= */

typedef struct {
    uint32_t section;
    int32_t key[4]; /* a, b, c, expected */
} question;

/* Reads the questions file as gensim does (binary lines, strict UTF-8, ': ' sections, four words per question). */
static ev_status parse_analogies(const char *path, const char *buf, size_t len, int details, eval_vocab *keys,
                                 question **qs, size_t *nq, eval_analogies_result *ev, ev_error *err)
{
    size_t cap = 0, line = 0;
    const char *p = buf, *end = buf + len;
    *qs = NULL;
    *nq = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
        line++;
        if (pytext_check_utf8(path, line, p, n, err) != EV_OK)
            return err->code;
        if (n >= 2 && p[0] == ':' && p[1] == ' ') { /* name = line.lstrip(': ').strip() */
            const char *q = p;
            size_t m = n;
            while (m && (*q == ':' || *q == ' '))
                q++, m--;
            pytext_strip(&q, &m);
            eval_section *ns = realloc(ev->sections, (ev->n_sections + 1) * sizeof *ns);
            if (!ns)
                return ev_fail(err, EV_ERR_NOMEM, "%s: out of memory", path);
            ev->sections = ns;
            eval_section *sec = &ev->sections[ev->n_sections];
            memset(sec, 0, sizeof *sec);
            if (!(sec->name = malloc(m + 1)))
                return ev_fail(err, EV_ERR_NOMEM, "%s: out of memory", path);
            memcpy(sec->name, q, m);
            sec->name[m] = '\0';
            ev->n_sections++;
        } else {
            if (ev->n_sections == 0) {
                size_t shown = n && p[n - 1] == '\n' ? n - 1 : n;
                char *qt = ev_quote(p, shown, 60);
                ev_fail(err, EV_ERR_FORMAT, "%s:%zu: expected a section line ': NAME' before the first question, found '%s'",
                        path, line, qt ? qt : "?");
                free(qt);
                return EV_ERR_FORMAT;
            }
            const char *f[4];
            size_t fl[4];
            if (pytext_split(p, n, f, fl, 4) != 4) {
                ev->invalid++;
            } else {
                if (*nq == cap) {
                    cap = cap ? 2 * cap : 4096;
                    question *nqs = realloc(*qs, cap * sizeof *nqs);
                    if (!nqs)
                        return ev_fail(err, EV_ERR_NOMEM, "%s: out of memory", path);
                    *qs = nqs;
                    eval_question *nd = details ? realloc(ev->details, cap * sizeof *nd) : NULL;
                    if (details && !nd)
                        return ev_fail(err, EV_ERR_NOMEM, "%s: out of memory", path);
                    ev->details = nd;
                }
                if (details) { /* the words as written, in one allocation */
                    eval_question *dq = &ev->details[*nq];
                    char *w = malloc(fl[0] + fl[1] + fl[2] + fl[3] + 4);
                    if (!w)
                        return ev_fail(err, EV_ERR_NOMEM, "%s: out of memory", path);
                    *dq = (eval_question){line, ev->n_sections - 1, {NULL}, -1, 0, 0};
                    for (int i = 0; i < 4; i++) {
                        memcpy(w, f[i], fl[i]);
                        w[fl[i]] = '\0';
                        dq->words[i] = w;
                        w += fl[i] + 1;
                    }
                }
                question *q = &(*qs)[*nq];
                q->section = (uint32_t)(ev->n_sections - 1);
                for (int i = 0; i < 4; i++) {
                    long id = eval_vocab_add(keys, f[i], fl[i]);
                    if (id < 0)
                        return ev_fail(err, EV_ERR_NOMEM, "%s: out of memory", path);
                    q->key[i] = (int32_t)id;
                }
                ev->questions = ++(*nq);
            }
        }
        p += n;
    }
    ev->questions = *nq;
    if (*nq == 0)
        return ev_fail(err, EV_ERR_FORMAT, "%s: expected questions (lines of four words after ': SECTION' lines), found none",
                       path);
    return EV_OK;
}

/* ==== 2. the scan kernels =================================================================================== */

/* One question, one tile block: score each of the n rows from three rows of the tile — (b + c) - a for 3CosAdd,
 * (b · c) / (a + 1e-6) for 3CosMul (the tile then holds (1 + cos) / 2) — and insert the rows that beat the floor fl
 * (the EVAL_K-th best so far) into the question's sorted list top, skipping the question's own rows ex (3).
 * Returns the new floor. The SIMD versions compare a whole vector against the floor and only look at lanes that
 * pass, which after the first blocks is rare. All versions compute the same float32 operations. */

/* Inserts (row, sc) into the sorted list top (EVAL_K). Rows arrive in increasing order, so a tie goes after.
 * Returns the new floor. */
static float top_insert(sim_hit *top, long row, float sc)
{
    size_t pos = 0;
    while (pos < EVAL_K && top[pos].row >= 0 && top[pos].score >= sc)
        pos++;
    if (pos < EVAL_K) {
        memmove(top + pos + 1, top + pos, (EVAL_K - 1 - pos) * sizeof *top);
        top[pos] = (sim_hit){row, sc};
    }
    return top[EVAL_K - 1].row >= 0 ? top[EVAL_K - 1].score : -INFINITY;
}

static float offer_candidate(float sc, long row, float fl, const long *ex, sim_hit *top)
{
    if (sc > fl && row != ex[0] && row != ex[1] && row != ex[2])
        fl = top_insert(top, row, sc);
    return fl;
}

static inline float scan_add_c(const float *a, const float *b, const float *c, size_t n, size_t lo, float fl,
                               const long *ex, sim_hit *top)
{
    for (size_t j = 0; j < n; j++) {
        float s = (b[j] + c[j]) - a[j];
        if (s > fl)
            fl = offer_candidate(s, (long)(lo + j), fl, ex, top);
    }
    return fl;
}

static inline float scan_mul_c(const float *a, const float *b, const float *c, size_t n, size_t lo, float fl,
                               const long *ex, sim_hit *top)
{
    for (size_t j = 0; j < n; j++) {
        float s = (b[j] * c[j]) / (a[j] + 1e-6f);
        if (s > fl)
            fl = offer_candidate(s, (long)(lo + j), fl, ex, top);
    }
    return fl;
}

#if CPU_X86
/* The lanes of s (stored) whose bit is set in mask, rows row0 + lane. */
static float offer_lanes(const float *s, unsigned mask, size_t row0, float fl, const long *ex, sim_hit *top)
{
    while (mask) {
        int l = __builtin_ctz(mask);
        mask &= mask - 1;
        fl = offer_candidate(s[l], (long)(row0 + (size_t)l), fl, ex, top);
    }
    return fl;
}

__attribute__((target("avx2"))) static inline float scan_add_avx2(const float *a, const float *b, const float *c,
                                                                  size_t n, size_t lo, float fl, const long *ex,
                                                                  sim_hit *top)
{
    __m256 f = _mm256_set1_ps(fl);
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256 s = _mm256_sub_ps(_mm256_add_ps(_mm256_loadu_ps(b + j), _mm256_loadu_ps(c + j)), _mm256_loadu_ps(a + j));
        unsigned m = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(s, f, _CMP_GT_OQ));
        if (m) {
            float t[8];
            _mm256_storeu_ps(t, s);
            fl = offer_lanes(t, m, lo + j, fl, ex, top);
            f = _mm256_set1_ps(fl);
        }
    }
    return scan_add_c(a + j, b + j, c + j, n - j, lo + j, fl, ex, top);
}

__attribute__((target("avx2"))) static inline float scan_mul_avx2(const float *a, const float *b, const float *c,
                                                                  size_t n, size_t lo, float fl, const long *ex,
                                                                  sim_hit *top)
{
    __m256 f = _mm256_set1_ps(fl), eps = _mm256_set1_ps(1e-6f);
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256 s = _mm256_div_ps(_mm256_mul_ps(_mm256_loadu_ps(b + j), _mm256_loadu_ps(c + j)),
                                 _mm256_add_ps(_mm256_loadu_ps(a + j), eps));
        unsigned m = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(s, f, _CMP_GT_OQ));
        if (m) {
            float t[8];
            _mm256_storeu_ps(t, s);
            fl = offer_lanes(t, m, lo + j, fl, ex, top);
            f = _mm256_set1_ps(fl);
        }
    }
    return scan_mul_c(a + j, b + j, c + j, n - j, lo + j, fl, ex, top);
}

__attribute__((target("avx512f"))) static inline float scan_add_avx512(const float *a, const float *b,
                                                                       const float *c, size_t n, size_t lo, float fl,
                                                                       const long *ex, sim_hit *top)
{
    __m512 f = _mm512_set1_ps(fl);
    size_t j = 0;
    for (; j + 32 <= n; j += 32) {
        __m512 s0 =
            _mm512_sub_ps(_mm512_add_ps(_mm512_loadu_ps(b + j), _mm512_loadu_ps(c + j)), _mm512_loadu_ps(a + j));
        __m512 s1 = _mm512_sub_ps(_mm512_add_ps(_mm512_loadu_ps(b + j + 16), _mm512_loadu_ps(c + j + 16)),
                                  _mm512_loadu_ps(a + j + 16));
        unsigned m0 = _mm512_cmp_ps_mask(s0, f, _CMP_GT_OQ), m1 = _mm512_cmp_ps_mask(s1, f, _CMP_GT_OQ);
        if (m0 | m1) {
            float t[32];
            _mm512_storeu_ps(t, s0);
            _mm512_storeu_ps(t + 16, s1);
            fl = offer_lanes(t, m0 | (m1 << 16), lo + j, fl, ex, top);
            f = _mm512_set1_ps(fl);
        }
    }
    return scan_add_c(a + j, b + j, c + j, n - j, lo + j, fl, ex, top);
}

__attribute__((target("avx512f"))) static inline float scan_mul_avx512(const float *a, const float *b,
                                                                       const float *c, size_t n, size_t lo, float fl,
                                                                       const long *ex, sim_hit *top)
{
    __m512 f = _mm512_set1_ps(fl), eps = _mm512_set1_ps(1e-6f);
    size_t j = 0;
    for (; j + 16 <= n; j += 16) {
        __m512 s = _mm512_div_ps(_mm512_mul_ps(_mm512_loadu_ps(b + j), _mm512_loadu_ps(c + j)),
                                 _mm512_add_ps(_mm512_loadu_ps(a + j), eps));
        unsigned m = _mm512_cmp_ps_mask(s, f, _CMP_GT_OQ);
        if (m) {
            float t[16];
            _mm512_storeu_ps(t, s);
            fl = offer_lanes(t, m, lo + j, fl, ex, top);
            f = _mm512_set1_ps(fl);
        }
    }
    return scan_mul_c(a + j, b + j, c + j, n - j, lo + j, fl, ex, top);
}
#endif

typedef struct eval_worker eval_worker;

/* Scores one tile block (nb rows from lo) for all of a worker's questions. */
typedef void (*block_scan_fn)(eval_worker *w, const float *T, size_t nb, size_t lo);

struct eval_worker {
    const store *s;
    const float *W;      /* (nW, d) unit vectors of the distinct question words */
    size_t nW;
    const uint32_t *qw;  /* (nq, 3) indexes into W of a, b, c */
    const long *qr;      /* (nq, 3) rows of a, b, c (excluded from the answers) */
    size_t nq;
    size_t rows;         /* the rows considered (the first R) */
    size_t block;        /* rows per tile */
    sim_method method;
    block_scan_fn scan;
    sim_hit *top;        /* (nq, EVAL_K) best first, row -1 = empty slot */
    float *floor;        /* (nq) the EVAL_K-th best score, -inf until there are EVAL_K */
    sim_progress_fn progress; /* worker 0 only */
    void *progress_ctx;
    int nomem;
};

/* One function per kernel, so that the kernel is inlined into the loop over the questions. */
#define DEFINE_BLOCK_SCAN(NAME, ATTR, KERNEL)                                                                     \
    ATTR static void NAME(eval_worker *w, const float *T, size_t nb, size_t lo)                                    \
    {                                                                                                              \
        for (size_t q = 0; q < w->nq; q++) {                                                                       \
            const uint32_t *i = w->qw + 3 * q;                                                                     \
            w->floor[q] = KERNEL(T + (size_t)i[0] * nb, T + (size_t)i[1] * nb, T + (size_t)i[2] * nb, nb, lo,      \
                                 w->floor[q], w->qr + 3 * q, w->top + q * EVAL_K);                                 \
        }                                                                                                          \
    }
DEFINE_BLOCK_SCAN(block_add_c, , scan_add_c)
DEFINE_BLOCK_SCAN(block_mul_c, , scan_mul_c)
#if CPU_X86
DEFINE_BLOCK_SCAN(block_add_avx2, __attribute__((target("avx2"))), scan_add_avx2)
DEFINE_BLOCK_SCAN(block_mul_avx2, __attribute__((target("avx2"))), scan_mul_avx2)
DEFINE_BLOCK_SCAN(block_add_avx512, __attribute__((target("avx512f"))), scan_add_avx512)
DEFINE_BLOCK_SCAN(block_mul_avx512, __attribute__((target("avx512f"))), scan_mul_avx512)
#endif

static block_scan_fn pick_scan(sim_method method)
{
    return method == SIM_MUL ? CPU_PICK(block_mul_c, block_mul_avx2, block_mul_avx512)
                             : CPU_PICK(block_add_c, block_add_avx2, block_add_avx512);
}

/* ==== 3. the blocked pass =================================================================================== */

/* A worker of parallel_blocks (blocks go to whoever is free); ctx is the array of workers. */
static void eval_worker_run(void *ctx, parallel_queue *queue, int tid)
{
    eval_worker *w = (eval_worker *)ctx + tid;
    const store *s = w->s;
    size_t d = store_dim(s), nW = w->nW;
    size_t B = w->block;
    float *xh = malloc(B * d * sizeof *xh + 1), *T = malloc(nW * B * sizeof *T + 1);
    if (!xh || !T) {
        w->nomem = 1;
        free(xh);
        free(T);
        return;
    }
    for (size_t q = 0; q < w->nq; q++) {
        w->floor[q] = -INFINITY;
        for (size_t i = 0; i < EVAL_K; i++)
            w->top[q * EVAL_K + i] = (sim_hit){-1, 0.f};
    }
    const float *sn = store_norms(s);
    size_t nblocks = (w->rows + B - 1) / B, b;
    /* each worker takes blocks in increasing order, so rows reach its lists in increasing order (ties: lower row) */
    while ((b = parallel_next(queue)) < nblocks) {
        size_t lo = b * B, nb = w->rows - lo < B ? w->rows - lo : B;
        for (size_t j = 0; j < nb; j++) { /* unit rows: the tile is then cosines */
            const float *x = store_row(s, lo + j);
            float inv = sn[lo + j] > 0.f ? 1.f / sn[lo + j] : 0.f;
            for (size_t t = 0; t < d; t++)
                xh[j * d + t] = x[t] * inv;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nW, (int)nb, (int)d, 1.f, w->W, (int)d, xh, (int)d,
                    0.f, T, (int)nb);
        if (w->method == SIM_MUL)
            for (size_t i = 0; i < nW * nb; i++)
                T[i] = (1.f + T[i]) / 2.f;
        w->scan(w, T, nb, lo);
        if (w->progress)
            w->progress(w->progress_ctx, "analogies", (double)(b + 1) / (double)nblocks);
    }
    free(xh);
    free(T);
}

/* ==== 4. the answers ======================================================================================== */

/* gensim's choice among its top answers h (n ≤ 5, best first): the first whose upper-case form is none of the
 * inputs a, b, c; when all are, the last one looked at; -1 when n = 0. *eligible says whether one was found. */
static int pick_answer(const store *s, const sim_hit *h, size_t n, const eval_vocab *k, const question *q,
                       int *eligible)
{
    *eligible = 0;
    for (size_t i = 0; i < n; i++)
        if (!eval_vocab_row_is(k, s, h[i].row, q->key[0]) && !eval_vocab_row_is(k, s, h[i].row, q->key[1]) &&
            !eval_vocab_row_is(k, s, h[i].row, q->key[2])) {
            *eligible = 1;
            return (int)i;
        }
    return (int)n - 1;
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return x < y ? -1 : x > y;
}

void eval_analogies_free(eval_analogies_result *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n_sections; i++)
        free(e->sections[i].name);
    free(e->sections);
    for (size_t i = 0; i < e->n_oov_words; i++)
        free(e->oov_words[i]);
    free(e->oov_words);
    for (size_t i = 0; e->details && i < e->questions; i++)
        free(e->details[i].words[0]);
    free(e->details);
    memset(e, 0, sizeof *e);
}

/* The questions that can be answered (no word outside the restriction), in the arrays the workers share. */
typedef struct {
    size_t na;        /* questions to answer */
    size_t *qidx;     /* (na) their index among the parsed questions */
    long *qr;         /* (na, 3) rows of a, b, c */
    uint32_t *qw;     /* (na, 3) indexes of a, b, c among the distinct words */
    long *words;      /* (nW) the distinct rows of a, b, c, ascending */
    size_t nW;
    int nthreads;     /* workers of the blocked pass */
    sim_hit *top;     /* (nthreads, na, EVAL_K) each worker's best answers */
} answer_set;

static void answer_set_free(answer_set *a)
{
    free(a->qidx);
    free(a->qr);
    free(a->qw);
    free(a->words);
    free(a->top);
    memset(a, 0, sizeof *a);
}

/* Counts the OOV questions and words (into ev) and gathers the others into a. */
static ev_status select_questions(const eval_vocab *keys, const question *qs, size_t nq, answer_set *a,
                                  eval_analogies_result *ev, ev_error *err)
{
    for (size_t i = 0; i < keys->n; i++)
        if (keys->row[i] < 0) {
            char **nw = realloc(ev->oov_words, (ev->n_oov_words + 1) * sizeof *nw);
            char *w = nw ? strdup(keys->str[i]) : NULL;
            if (nw)
                ev->oov_words = nw;
            if (!w)
                return ev_fail(err, EV_ERR_NOMEM, "out of memory");
            ev->oov_words[ev->n_oov_words++] = w;
        }
    a->qidx = malloc(nq * sizeof *a->qidx + 1);
    a->qr = malloc(3 * nq * sizeof *a->qr + 1);
    a->qw = malloc(3 * nq * sizeof *a->qw + 1);
    a->words = malloc(3 * nq * sizeof *a->words + 1);
    if (!a->qidx || !a->qr || !a->qw || !a->words)
        return ev_fail(err, EV_ERR_NOMEM, "out of memory for %zu questions", nq);
    for (size_t i = 0; i < nq; i++) {
        const int32_t *k = qs[i].key;
        if (keys->row[k[0]] < 0 || keys->row[k[1]] < 0 || keys->row[k[2]] < 0 || keys->row[k[3]] < 0) {
            if (ev->details)
                ev->details[i].oov = 1;
            ev->oov++;
            continue;
        }
        for (int t = 0; t < 3; t++)
            a->qr[3 * a->na + (size_t)t] = a->words[3 * a->na + (size_t)t] = keys->row[k[t]];
        a->qidx[a->na++] = i;
    }
    qsort(a->words, 3 * a->na, sizeof *a->words, cmp_long);
    for (size_t i = 0; i < 3 * a->na; i++)
        if (a->nW == 0 || a->words[a->nW - 1] != a->words[i])
            a->words[a->nW++] = a->words[i];
    for (size_t i = 0; i < 3 * a->na; i++) {
        const long *f = bsearch(&a->qr[i], a->words, a->nW, sizeof *a->words, cmp_long);
        a->qw[i] = (uint32_t)(f - a->words);
    }
    ev->distinct_words = a->nW;
    return EV_OK;
}

/* The blocked pass: workers take blocks of rows in turn (OpenBLAS single-threaded: the caller sees to it), every
 * question's best EVAL_K answers per worker land in a->top. */
static ev_status blocked_pass(const store *s, size_t R, const eval_analogies_opts *o, answer_set *a, ev_error *err)
{
    size_t d = store_dim(s), nW = a->nW, na = a->na;
    int nthreads = o->threads > 0 ? o->threads : parallel_default_threads();
    nthreads = nthreads > PARALLEL_DEFAULT_MAX_THREADS ? PARALLEL_DEFAULT_MAX_THREADS : nthreads;
    size_t B = EVAL_TILE / nW; /* block rows: a multiple of 32 in [32, 1024] */
    B = B < 32 ? 32 : B > 1024 ? 1024 : B & ~(size_t)31;
    size_t nblocks = (R + B - 1) / B;
    if ((size_t)nthreads > nblocks)
        nthreads = nblocks ? (int)nblocks : 1;
    a->nthreads = nthreads;
    if (nW > INT_MAX || d > INT_MAX || na > SIZE_MAX / EVAL_K / sizeof(sim_hit) / (size_t)nthreads)
        return ev_fail(err, EV_ERR_NOMEM, "%zu questions are too many", na);
    float *W = malloc(nW * d * sizeof *W + 1), *floors = malloc((size_t)nthreads * na * sizeof *floors);
    eval_worker *wk = calloc((size_t)nthreads, sizeof *wk);
    a->top = malloc((size_t)nthreads * na * EVAL_K * sizeof *a->top);
    ev_status st = EV_OK;
    if (!W || !floors || !wk || !a->top) {
        st = ev_fail(err, EV_ERR_NOMEM, "out of memory for the score tiles");
        goto out;
    }
    for (size_t i = 0; i < nW; i++)
        sim_row_unit(s, (size_t)a->words[i], W + i * d);
    block_scan_fn scan = pick_scan(o->method);
    for (int t = 0; t < nthreads; t++)
        wk[t] = (eval_worker){s, W, nW, a->qw, a->qr, na, R, B, o->method, scan, a->top + (size_t)t * na * EVAL_K,
                              floors + (size_t)t * na, t == 0 ? o->progress : NULL, o->progress_ctx, 0};
    int started = parallel_blocks(nthreads, nblocks, eval_worker_run, wk);
    a->nthreads = started; /* the lists of workers that never started are not looked at */
    for (int t = 0; t < started; t++)
        if (wk[t].nomem)
            st = ev_fail(err, EV_ERR_NOMEM, "out of memory for the score tiles");
out:
    free(W);
    free(floors);
    free(wk);
    return st;
}

/* Question i's best answers over all workers, merged by (score desc, row asc) into h (EVAL_K); returns how many. */
static size_t merge_answers(const answer_set *a, size_t i, sim_hit *h)
{
    size_t nh = 0;
    for (int t = 0; t < a->nthreads; t++)
        for (size_t j = 0; j < EVAL_K; j++) {
            sim_hit x = a->top[((size_t)t * a->na + i) * EVAL_K + j];
            if (x.row < 0)
                break;
            size_t pos = nh;
            while (pos > 0 && sim_hit_worse(h[pos - 1], x))
                pos--;
            if (pos >= EVAL_K)
                continue;
            size_t keep = nh < EVAL_K ? nh : EVAL_K - 1; /* entries pos … keep-1 move down one */
            memmove(h + pos + 1, h + pos, (keep - pos) * sizeof *h);
            h[pos] = x;
            nh += nh < EVAL_K;
        }
    return nh;
}

/* Per question: gensim's answer from the merged list, or — when the margin is within rounding of the fast sums,
 * or no answer among the top 5 is eligible — from gensim's own arithmetic (most_similar(positive=[b, c],
 * negative=[a], topn=5, restrict_vocab=R), one query through sim_topk, bit for bit). Counts into ev's sections. */
static ev_status decide_answers(const store *s, size_t R, sim_method method, const eval_vocab *keys, const question *qs,
                                const answer_set *a, eval_analogies_result *ev, ev_error *err)
{
    float *mean = malloc(store_dim(s) * sizeof *mean + 1);
    if (!mean)
        return ev_fail(err, EV_ERR_NOMEM, "out of memory");
    ev_status st = EV_OK;
    for (size_t i = 0; i < a->na && st == EV_OK; i++) {
        const question *q = &qs[a->qidx[i]];
        const long *r = a->qr + 3 * i;
        sim_hit h[EVAL_K];
        size_t nh = merge_answers(a, i, h);
        int eligible, p = pick_answer(s, h, nh < 5 ? nh : 5, keys, q, &eligible);
        int recheck = method == SIM_ADD && p >= 0 && !eligible;
        for (size_t j = 0; method == SIM_ADD && p >= 0 && j < nh && !recheck; j++)
            recheck = (int)j != p && fabsf(h[j].score - h[p].score) < EVAL_EPS;
        if (recheck) {
            long rows[3] = {r[1], r[2], r[0]};
            float w[3] = {1.f, 1.f, -1.f};
            sim_mean_of_rows(s, rows, w, 3, mean);
            if ((st = sim_topk(s, mean, 1, 5, R, r, 3, h, err)) != EV_OK)
                break;
            for (nh = 0; nh < 5 && h[nh].row >= 0; nh++)
                ;
            p = pick_answer(s, h, nh, keys, q, &eligible);
            ev->rechecked++;
        }
        eval_section *sec = &ev->sections[q->section];
        sec->total++;
        int ok = p >= 0 && eval_vocab_row_is(keys, s, h[p].row, q->key[3]);
        sec->correct += ok;
        if (ev->details) {
            ev->details[a->qidx[i]].prediction = p >= 0 ? h[p].row : -1;
            ev->details[a->qidx[i]].correct = ok;
        }
    }
    free(mean);
    return st;
}

ev_status eval_analogies(const store *s, const char *path, const eval_analogies_opts *opts, eval_analogies_result *out,
                             ev_error *err)
{
    eval_analogies_opts o = opts ? *opts : (eval_analogies_opts){0};
    size_t R = sim_rows_considered(s, o.restrict_n ? o.restrict_n : EVAL_DEFAULT_RESTRICT), len = 0, nq = 0;
    eval_analogies_result ev = {.restrict_n = R};
    eval_vocab keys = {0};
    answer_set a = {0};
    question *qs = NULL;
    unsigned char *buf = NULL;
    memset(out, 0, sizeof *out);
    ev_status st = util_read_file(path, "questions file", 0, &buf, &len, err);
    if (st == EV_OK)
        st = parse_analogies(path, (const char *)buf, len, o.details, &keys, &qs, &nq, &ev, err);
    if (st == EV_OK)
        st = eval_vocab_resolve(&keys, s, R, err);
    if (st == EV_OK)
        st = select_questions(&keys, qs, nq, &a, &ev, err);
    /* OpenBLAS single-threaded throughout: the workers are the threads; the re-scoring sgemv calls gain nothing
     * from waking its idle threads (and give the same bits with one thread) */
    int blas_threads = parallel_blas_single();
    if (st == EV_OK && a.na > 0)
        st = blocked_pass(s, R, &o, &a, err);
    if (st == EV_OK)
        st = decide_answers(s, R, o.method, &keys, qs, &a, &ev, err);
    parallel_blas_restore(blas_threads);
    if (st == EV_OK) {
        for (size_t i = 0; i < ev.n_sections; i++) {
            const eval_section *sec = &ev.sections[i];
            ev.correct += sec->correct;
            ev.total += sec->total;
            *(i < 5 ? &ev.sem_correct : &ev.syn_correct) += sec->correct;
            *(i < 5 ? &ev.sem_total : &ev.syn_total) += sec->total;
        }
        int split = ev.n_sections > 5; /* questions-words: five semantic sections, then gram1-… to gram9-… */
        for (size_t i = 0; i < ev.n_sections; i++)
            split &= (strncmp(ev.sections[i].name, "gram", 4) == 0) == (i >= 5);
        ev.has_split = split;
        if (o.progress)
            o.progress(o.progress_ctx, "analogies", 1.0);
        *out = ev;
        memset(&ev, 0, sizeof ev);
    }
    eval_analogies_free(&ev);
    answer_set_free(&a);
    eval_vocab_free(&keys);
    free(qs);
    free(buf);
    return st;
}
