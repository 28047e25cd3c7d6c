/* test_search — the search module (search.h) against gensim's figures (tests/fixtures/similarity, written by
 * scripts/make-similarity-fixtures.py) and the BLAS code against its naive twin on random stores. */
#define _POSIX_C_SOURCE 200809L
#include <cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "gemm_nt.h"
#include "search.h"
#include "similarity_fixtures.h"

static char tmpdir[] = "/tmp/test_search.XXXXXX";

/* ---- helpers --------------------------------------------------------------------------------------------- */

static long row_of(const store *s, const char *w) { return store_find(s, w, strlen(w)); }

static const char *word_of(const store *s, long row) { return row >= 0 ? store_word(s, (size_t)row, NULL) : "(none)"; }

/* A store of n random rows (dimension d) named r0, r1, …; a few rows zero or duplicated when asked. */
static store *random_store(size_t n, size_t d, unsigned seed, int zeros, int dups)
{
    store_rows r = {.n = n, .dim = d};
    r.vectors = malloc(n * d * sizeof(float) + 1);
    r.words = malloc(n * 12 + 1);
    r.offsets = malloc((n + 1) * sizeof(size_t));
    srand(seed);
    size_t pos = 0;
    r.offsets[0] = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < d; k++)
            r.vectors[i * d + k] = ((float)rand() / (float)RAND_MAX - 0.5f) * (float)(1 + i % 3);
        pos += (size_t)sprintf(r.words + pos, "r%zu", i) + 1;
        r.offsets[i + 1] = pos;
    }
    for (int z = 0; z < zeros && (size_t)z * 7 < n; z++)
        memset(r.vectors + (size_t)z * 7 * d, 0, d * sizeof(float));
    for (int t = 0; t < dups && (size_t)(3 * t + 2) < n; t++) /* row 3t+2 = row 3t+1 */
        memcpy(r.vectors + (size_t)(3 * t + 2) * d, r.vectors + (size_t)(3 * t + 1) * d, d * sizeof(float));
    store *s = NULL;
    ev_error err = {0};
    CHECK(store_from_rows(&r, "random", "glove", NULL, &s, &err) == EV_OK, "%s", err.msg ? err.msg : "?");
    ev_error_clear(&err);
    return s;
}

/* Compares a top-k list with gensim's [[word, score], …]: words exactly, scores to 1e-5. */
static void check_hits(const store *s, const sim_hit *h, size_t k, const cJSON *want, const char *what)
{
    size_t n = (size_t)cJSON_GetArraySize(want);
    CHECK(n <= k, "%s: %zu expected answers, k = %zu", what, n, k);
    for (size_t i = 0; i < n && i < k; i++) {
        const cJSON *e = cJSON_GetArrayItem(want, (int)i);
        const char *w = cJSON_GetArrayItem(e, 0)->valuestring;
        double sc = cJSON_GetArrayItem(e, 1)->valuedouble;
        CHECK(h[i].row >= 0 && strcmp(word_of(s, h[i].row), w) == 0, "%s: answer %zu is '%s', gensim says '%s'", what,
              i, word_of(s, h[i].row), w);
        CHECK(fabs(h[i].score - sc) < 1e-5, "%s: answer %zu (%s) scores %.9g, gensim %.9g", what, i, w, h[i].score, sc);
    }
}

/* BLAS vs naive: same rows unless two candidates score within 1e-5 of each other; scores within 1e-5. In the last
 * slot the other candidate of a tie is not returned (the k+1-th), so there the two rows tie when their two scores
 * do: which of them is k-th depends on the last bits of a BLAS kernel's sums. */
static void check_twins(const sim_hit *a, const sim_hit *b, size_t k, const char *what)
{
    for (size_t i = 0; i < k; i++) {
        CHECK(fabsf(a[i].score - b[i].score) < 1e-5f, "%s: slot %zu scores %.9g vs naive %.9g", what, i, a[i].score,
              b[i].score);
        CHECK(!isnan(a[i].score) && !isnan(b[i].score), "%s: NaN score in slot %zu", what, i);
        if (a[i].row != b[i].row) {
            int near = (i > 0 && fabsf(a[i].score - a[i - 1].score) < 1e-5f) ||
                       (i + 1 < k && fabsf(a[i].score - a[i + 1].score) < 1e-5f) ||
                       (i + 1 == k && fabsf(a[i].score - b[i].score) < 1e-5f) || a[i].row < 0 || b[i].row < 0;
            CHECK(near && (a[i].row >= 0) == (b[i].row >= 0), "%s: slot %zu row %ld vs naive %ld (scores %.9g %.9g)",
                  what, i, a[i].row, b[i].row, a[i].score, b[i].score);
        }
    }
}

static void check_order(const sim_hit *h, size_t k, const char *what)
{
    for (size_t i = 1; i < k; i++) {
        if (h[i].row < 0)
            continue;
        CHECK(h[i - 1].row >= 0 && (h[i - 1].score > h[i].score || (h[i - 1].score == h[i].score && h[i - 1].row < h[i].row)),
              "%s: slots %zu/%zu out of order (%ld %.9g, %ld %.9g)", what, i - 1, i, h[i - 1].row, h[i - 1].score,
              h[i].row, h[i].score);
    }
}

/* ---- gensim fixtures ------------------------------------------------------------------------------------- */

static void test_norms(const store *s, const cJSON *exp)
{
    const cJSON *norms = cJSON_GetObjectItem(exp, "norms");
    size_t bad = 0;
    for (size_t r = 0; r < store_size(s); r++) {
        float n = sim_norm(store_row(s, r), store_dim(s));
        uint32_t bits;
        memcpy(&bits, &n, 4);
        unsigned long want = strtoul(cJSON_GetArrayItem(norms, (int)r)->valuestring, NULL, 16);
        bad += bits != want;
    }
    CHECK(cJSON_GetArraySize(norms) == (int)store_size(s) && bad == 0, "%zu of %zu norms differ from numpy's bits", bad,
          store_size(s));
    store *s300 = load(FIX "d300.bin");
    if (s300) {
        const cJSON *n3 = cJSON_GetObjectItem(exp, "norms300");
        bad = 0;
        for (size_t r = 0; r < store_size(s300); r++) {
            float n = sim_norm(store_row(s300, r), 300);
            uint32_t bits;
            memcpy(&bits, &n, 4);
            bad += bits != strtoul(cJSON_GetArrayItem(n3, (int)r)->valuestring, NULL, 16);
        }
        CHECK(store_dim(s300) == 300 && bad == 0, "d=300: %zu norms differ from numpy's bits", bad);
        store_close(s300);
    }
}

static void test_queries(const store *s, const cJSON *exp)
{
    size_t d = store_dim(s);
    ev_error err = {0};
    sim_hit h[10], hn[10];
    /* neighbours, one word at a time (gensim's arithmetic exactly) and all at once (one sgemm per block) */
    const cJSON *nb = cJSON_GetObjectItem(exp, "neighbors"), *e;
    size_t m = (size_t)cJSON_GetArraySize(nb), i = 0;
    float *Q = malloc(m * d * sizeof *Q);
    long *ex = malloc(m * sizeof *ex);
    sim_hit *all = malloc(m * 10 * sizeof *all);
    cJSON_ArrayForEach(e, nb)
    {
        long r = row_of(s, e->string);
        CHECK(r >= 0, "fixture word '%s' missing", e->string);
        float w = 1.f;
        sim_mean_of_rows(s, &r, &w, 1, Q + i * d);
        ex[i] = r;
        CHECK(sim_topk(s, Q + i * d, 1, 10, 0, &r, 1, h, &err) == EV_OK, "%s", err.msg);
        check_hits(s, h, 10, cJSON_GetObjectItem(e, "10"), e->string);
        CHECK(sim_topk_naive(s, Q + i * d, 1, 10, 0, &r, 1, hn, &err) == EV_OK, "%s", err.msg);
        check_hits(s, hn, 10, cJSON_GetObjectItem(e, "10"), "naive");
        CHECK(sim_topk(s, Q + i * d, 1, 10, 1400, &r, 1, h, &err) == EV_OK, "%s", err.msg);
        check_hits(s, h, 10, cJSON_GetObjectItem(e, "r1400"), "restrict 1400");
        CHECK(sim_topk(s, Q + i * d, 1, 1, 0, &r, 1, h, &err) == EV_OK, "%s", err.msg);
        check_hits(s, h, 1, cJSON_GetObjectItem(e, "k1"), "k 1");
        i++;
    }
    CHECK(sim_topk(s, Q, m, 10, 0, ex, 1, all, &err) == EV_OK, "%s", err.msg);
    i = 0;
    cJSON_ArrayForEach(e, nb) check_hits(s, all + 10 * i++, 10, cJSON_GetObjectItem(e, "10"), "batched");
    free(Q);
    free(ex);
    free(all);
    /* analogies */
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(exp, "analogies"))
    {
        const cJSON *abc = cJSON_GetObjectItem(e, "abc");
        long a = row_of(s, cJSON_GetArrayItem(abc, 0)->valuestring), b = row_of(s, cJSON_GetArrayItem(abc, 1)->valuestring),
             c = row_of(s, cJSON_GetArrayItem(abc, 2)->valuestring);
        char what[128];
        snprintf(what, sizeof what, "analogy %s %s %s", word_of(s, a), word_of(s, b), word_of(s, c));
        CHECK(sim_analogy(s, a, b, c, SIM_ADD, 10, 0, h, &err) == EV_OK, "%s", err.msg);
        check_hits(s, h, 10, cJSON_GetObjectItem(e, "add"), what);
        CHECK(sim_analogy_naive(s, a, b, c, SIM_ADD, 10, 0, hn, &err) == EV_OK, "%s", err.msg);
        check_hits(s, hn, 10, cJSON_GetObjectItem(e, "add"), what);
        CHECK(sim_analogy(s, a, b, c, SIM_ADD, 10, 1400, h, &err) == EV_OK, "%s", err.msg);
        check_hits(s, h, 10, cJSON_GetObjectItem(e, "add_r1400"), what);
        CHECK(sim_analogy(s, a, b, c, SIM_MUL, 10, 0, h, &err) == EV_OK, "%s", err.msg);
        check_hits(s, h, 10, cJSON_GetObjectItem(e, "mul"), what);
        CHECK(sim_analogy_naive(s, a, b, c, SIM_MUL, 10, 0, hn, &err) == EV_OK, "%s", err.msg);
        check_hits(s, hn, 10, cJSON_GetObjectItem(e, "mul"), what);
    }
    CHECK(sim_analogy(s, 0, 1, (long)store_size(s), SIM_ADD, 10, 0, h, &err) == EV_ERR_USAGE, "row out of range");
    ev_error_clear(&err);
    /* similarity, doesnt-match */
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(exp, "similarity"))
    {
        long a = row_of(s, cJSON_GetArrayItem(e, 0)->valuestring), b = row_of(s, cJSON_GetArrayItem(e, 1)->valuestring);
        double want = cJSON_GetArrayItem(e, 2)->valuedouble;
        float got = sim_similarity(s, (size_t)a, (size_t)b);
        CHECK(blas_close(got, want), "similarity(%s, %s) = %.9g, gensim %.9g", word_of(s, a), word_of(s, b), got,
              want);
    }
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(exp, "doesnt_match"))
    {
        const cJSON *ws = cJSON_GetObjectItem(e, "words"), *rk = cJSON_GetObjectItem(e, "ranking");
        long rows[8];
        size_t n = 0, order[8];
        float sc[8];
        const cJSON *w;
        cJSON_ArrayForEach(w, ws) rows[n++] = row_of(s, w->valuestring);
        CHECK(sim_doesnt_match(s, rows, n, sc, order, &err) == EV_OK, "%s", err.msg);
        CHECK(strcmp(word_of(s, rows[order[n - 1]]), cJSON_GetObjectItem(e, "doesnt_match")->valuestring) == 0,
              "doesnt_match: %s", word_of(s, rows[order[n - 1]]));
        for (size_t k = 0; k < n; k++) {
            const cJSON *x = cJSON_GetArrayItem(rk, (int)k);
            CHECK(strcmp(word_of(s, rows[order[k]]), cJSON_GetArrayItem(x, 0)->valuestring) == 0 &&
                      blas_close(sc[order[k]], cJSON_GetArrayItem(x, 1)->valuedouble),
                  "rank_by_centrality %zu: %s %.9g, gensim %s %.9g", k, word_of(s, rows[order[k]]), sc[order[k]],
                  cJSON_GetArrayItem(x, 0)->valuestring, cJSON_GetArrayItem(x, 1)->valuedouble);
        }
    }
    CHECK(sim_doesnt_match(s, NULL, 0, NULL, NULL, &err) == EV_ERR_USAGE, "doesnt_match of nothing");
    ev_error_clear(&err);
}

/* ---- the BLAS code vs its naive twin --------------------------------------------------------------------- */

static void test_twins(void)
{
    const size_t dims[] = {1, 3, 7, 24, 100, 130, 300};
    unsigned seed = 1;
    ev_error err = {0};
    for (size_t di = 0; di < sizeof dims / sizeof dims[0]; di++)
        for (size_t V = 1; V <= 5000; V = V * 7 + 3) {
            size_t d = dims[di];
            store *s = random_store(V, d, seed++, 2, 3);
            if (!s)
                continue;
            const size_t ms[] = {1, 2, 3, 5, 16, 17, 40, 96, 97}; /* 2…96: tiles in lanes of 16 queries; 97: rows */
            for (size_t mi = 0; mi < sizeof ms / sizeof ms[0]; mi++) {
                size_t m = ms[mi], k = 1 + (seed % 3) * 6, R = seed % 2 ? 0 : V / 2 + 1, nex = seed % 3;
                float *Q = malloc(m * d * sizeof *Q);
                long *ex = malloc((m * nex + 1) * sizeof *ex);
                sim_hit *a = malloc(m * k * sizeof *a), *b = malloc(m * k * sizeof *b);
                for (size_t i = 0; i < m * d; i++)
                    Q[i] = (float)rand() / (float)RAND_MAX - 0.5f;
                if (m > 1)
                    memset(Q + d, 0, d * sizeof *Q); /* a zero query: scores 0, never NaN */
                for (size_t i = 0; i < m * nex; i++)
                    ex[i] = i % 2 ? -1 : (long)((size_t)rand() % V);
                char what[96];
                snprintf(what, sizeof what, "twins V=%zu d=%zu m=%zu k=%zu R=%zu", V, d, m, k, R);
                CHECK(sim_topk(s, Q, m, k, R, ex, nex, a, &err) == EV_OK, "%s: %s", what, err.msg ? err.msg : "?");
                CHECK(sim_topk_naive(s, Q, m, k, R, ex, nex, b, &err) == EV_OK, "%s: %s", what, err.msg ? err.msg : "?");
                ev_error_clear(&err);
                for (size_t i = 0; i < m; i++) {
                    check_twins(a + i * k, b + i * k, k, what);
                    check_order(a + i * k, k, what);
                    for (size_t j = 0; j < k; j++)
                        for (size_t t = 0; t < nex; t++)
                            CHECK(a[i * k + j].row < 0 || a[i * k + j].row != ex[i * nex + t], "%s: excluded row %ld",
                                  what, ex[i * nex + t]);
                    size_t cand = R && R < V ? R : V, filled = 0;
                    for (size_t j = 0; j < k; j++)
                        filled += a[i * k + j].row >= 0;
                    CHECK(filled == (cand < k ? cand : k) || filled + nex >= (cand < k ? cand : k), "%s: %zu filled",
                          what, filled);
                }
                if (m > 1) /* the zero query: the first rows, score 0 */
                    for (size_t j = 0; j < k && j < V; j++)
                        CHECK(a[k + j].score == 0.f, "%s: zero query scored %g", what, a[k + j].score);
                if (V >= 3 && d >= 1) { /* analogies: BLAS vs naive */
                    sim_hit ha[5], hb[5];
                    for (int meth = 0; meth < 2; meth++) {
                        CHECK(sim_analogy(s, 0, 1, 2, (sim_method)meth, 5, R, ha, &err) == EV_OK, "%s", err.msg);
                        CHECK(sim_analogy_naive(s, 0, 1, 2, (sim_method)meth, 5, R, hb, &err) == EV_OK, "%s", err.msg);
                        check_twins(ha, hb, 5, meth ? "analogy mul twins" : "analogy add twins");
                    }
                }
                free(Q);
                free(ex);
                free(a);
                free(b);
            }
            store_close(s);
        }
}

/* The top-k of queries (m, d) computed here the plain way: every row's score as sim_topk defines it — the sequential
 * fused dot product with the unit query (gemm_nt_naive), divided by sim_norm of the row, 0 for a zero or non-finite
 * case — and the k best by score, then row, exclusions skipped. */
static void plain_topk(const store *s, const float *queries, size_t m, size_t k, size_t R, const long *ex, size_t nex,
                       sim_hit *out)
{
    size_t d = store_dim(s);
    float *q = malloc((d + 1) * sizeof *q);
    for (size_t i = 0; i < m; i++) {
        sim_hit *h = out + i * k;
        size_t n = 0;
        sim_unitvec(queries + i * d, d, q);
        for (size_t r = 0; r < R; r++) {
            int skip = 0;
            for (size_t t = 0; t < nex; t++)
                skip |= ex[i * nex + t] == (long)r;
            if (skip)
                continue;
            float y, nr = sim_norm(store_row(s, r), d);
            gemm_nt_naive(q, d, store_row(s, r), d, &y, 1, 1, 1, d);
            float c = nr > 0.f ? y / nr : 0.f;
            sim_hit x = {(long)r, isfinite(c) ? c : 0.f};
            size_t p = n < k ? n++ : k;
            if (p == k && !sim_hit_worse(h[k - 1], x))
                continue;
            if (p == k)
                p = k - 1;
            while (p > 0 && sim_hit_worse(h[p - 1], x)) {
                h[p] = h[p - 1];
                p--;
            }
            h[p] = x;
        }
        for (size_t j = n; j < k; j++)
            h[j] = (sim_hit){-1, 0.f};
    }
    free(q);
}

/* Batched searches of many queries (above the lanes' 96: the row tiles, and where the CPU has AVX512-BF16 the bf16
 * first pass with exact re-scoring) give the plain top-k bit for bit: rows and scores. The stores are built to make
 * the first pass's margin matter: clusters of 30 near-duplicate rows spread over the blocks (scores within 1e-4 of
 * each other, far inside the bf16 error; with a tenth of the margin the check fails), rows of very different norms, zero rows and rows whose norms are outside the filter's range; the
 * queries are near those rows. Then the same on the fixtures' real GloVe rows. */
static void check_exact(const store *s, const float *Q, size_t m, size_t k, size_t R, const long *ex, size_t nex,
                        const char *what)
{
    sim_hit *a = malloc(m * k * sizeof *a), *b = malloc(m * k * sizeof *b);
    ev_error err = {0};
    CHECK(sim_topk(s, Q, m, k, R, ex, nex, a, &err) == EV_OK, "%s: %s", what, err.msg ? err.msg : "?");
    ev_error_clear(&err);
    plain_topk(s, Q, m, k, sim_rows_considered(s, R), ex, nex, b);
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < m * k; i++)
        if (a[i].row != b[i].row || memcmp(&a[i].score, &b[i].score, sizeof a[i].score) != 0)
            first = bad++ ? first : i;
    CHECK(bad == 0, "%s: %zu of %zu answers differ from the plain top-k (first: query %zu: row %ld %.9g, plain %ld %.9g)",
          what, bad, m * k, first / k, a[first].row, (double)a[first].score, b[first].row, (double)b[first].score);
    free(a);
    free(b);
}

static void test_exact_batched(const store *fix)
{
    unsigned seed = 7;
    const size_t dims[] = {2, 31, 100, 300};
    for (size_t di = 0; di < sizeof dims / sizeof *dims; di++) {
        size_t d = dims[di], V = 3000;
        store_rows r = {.n = V, .dim = d};
        r.vectors = malloc(V * d * sizeof(float));
        r.words = malloc(V * 12 + 1);
        r.offsets = malloc((V + 1) * sizeof(size_t));
        srand(seed++);
        size_t pos = 0;
        r.offsets[0] = 0;
        for (size_t i = 0; i < V; i++) {
            float *v = r.vectors + i * d;
            if (i >= 100) { /* near a cluster centre (rows 0 … 99), spread over the blocks: a tiny perturbation, its scale */
                const float *c = r.vectors + (i % 100) * d;
                float sc = i % 7 == 0 ? 1e3f : i % 5 == 0 ? 1e-3f : 1.f;
                for (size_t t = 0; t < d; t++)
                    v[t] = (c[t] + ((float)rand() / (float)RAND_MAX - 0.5f) * 1e-4f) * sc;
            } else {
                for (size_t t = 0; t < d; t++)
                    v[t] = (float)rand() / (float)RAND_MAX - 0.5f;
            }
            if (i % 97 == 3)
                memset(v, 0, d * sizeof *v);
            if (i % 211 == 5) /* norms outside [1e-18, 1e18]: always re-scored */
                for (size_t t = 0; t < d; t++)
                    v[t] *= i % 2 ? 1e-20f : 1e19f;
            pos += (size_t)sprintf(r.words + pos, "r%zu", i) + 1;
            r.offsets[i + 1] = pos;
        }
        store *s = NULL;
        ev_error err = {0};
        CHECK(store_from_rows(&r, "clusters", "glove", NULL, &s, &err) == EV_OK, "%s", err.msg ? err.msg : "?");
        ev_error_clear(&err);
        if (!s)
            continue;
        const size_t ms[] = {97, 300, 1280};
        for (size_t mi = 0; mi < sizeof ms / sizeof *ms; mi++) {
            size_t m = ms[mi], k = mi == 0 ? 1 : mi == 1 ? 5 : 10, nex = mi % 2;
            float *Q = malloc(m * d * sizeof *Q);
            long *ex = malloc((m * nex + 1) * sizeof *ex);
            for (size_t i = 0; i < m; i++) {
                const float *c = store_row(s, (size_t)rand() % V);
                for (size_t t = 0; t < d; t++)
                    Q[i * d + t] = c[t] + ((float)rand() / (float)RAND_MAX - 0.5f) * (i % 3 ? 1e-3f : 0.5f);
                for (size_t t = 0; t < nex; t++)
                    ex[i * nex + t] = (long)((size_t)rand() % V);
            }
            char what[96];
            snprintf(what, sizeof what, "exact batched: clusters d=%zu m=%zu k=%zu", d, m, k);
            check_exact(s, Q, m, k, mi == 1 ? 2000 : 0, ex, nex, what);
            free(Q);
            free(ex);
        }
        store_close(s);
    }
    if (!fix)
        return;
    size_t d = store_dim(fix), V = store_size(fix), m = 500;
    float *Q = malloc(m * d * sizeof *Q);
    for (size_t i = 0; i < m; i++) /* sums of two real rows: contextual-like vectors */
        for (size_t t = 0; t < d; t++)
            Q[i * d + t] = store_row(fix, i % V)[t] + 0.5f * store_row(fix, (i * 7 + 3) % V)[t];
    check_exact(fix, Q, m, 5, 0, NULL, 0, "exact batched: the fixtures' GloVe rows");
    free(Q);
}

/* Ties resolve to the lower row; zero rows score 0; bad arguments are refused. */
static void test_ties_and_edges(void)
{
    ev_error err = {0};
    store *s = random_store(40, 5, 77, 2, 4); /* rows 0 and 7 zero; rows 2=1, 5=4, 8=7, 11=10 */
    float q[5];
    memcpy(q, store_row(s, 1), sizeof q);
    sim_hit h[4], hn[4];
    CHECK(sim_topk(s, q, 1, 4, 0, NULL, 0, h, &err) == EV_OK, "%s", err.msg);
    CHECK(sim_topk_naive(s, q, 1, 4, 0, NULL, 0, hn, &err) == EV_OK, "%s", err.msg);
    CHECK(h[0].row == 1 && h[1].row == 2 && h[0].score == h[1].score, "tie: rows %ld %ld scores %.9g %.9g", h[0].row,
          h[1].row, h[0].score, h[1].score);
    CHECK(hn[0].row == 1 && hn[1].row == 2, "naive tie: rows %ld %ld", hn[0].row, hn[1].row);
    long ex[2] = {1, -1};
    CHECK(sim_topk(s, q, 1, 4, 0, ex, 2, h, &err) == EV_OK && h[0].row == 2, "exclusion: %ld", h[0].row);
    /* a query equal to a zero row: every score 0, the lowest rows first */
    float z[5] = {0};
    CHECK(sim_topk(s, z, 1, 4, 0, NULL, 0, h, &err) == EV_OK, "%s", err.msg);
    for (int i = 0; i < 4; i++)
        CHECK(h[i].row == i && h[i].score == 0.f, "zero query slot %d: row %ld score %g", i, h[i].row, h[i].score);
    /* k larger than the candidates: the rest is -1 */
    sim_hit many[50];
    CHECK(sim_topk(s, q, 1, 50, 10, NULL, 0, many, &err) == EV_OK, "%s", err.msg);
    CHECK(many[9].row >= 0 && many[10].row == -1 && many[49].row == -1, "k > candidates: %ld %ld", many[9].row,
          many[10].row);
    /* zero rows never NaN in similarity, analogies, doesnt-match */
    CHECK(sim_similarity(s, 0, 1) == 0.f && sim_similarity(s, 0, 7) == 0.f, "similarity with a zero row");
    CHECK(sim_analogy(s, 0, 7, 1, SIM_ADD, 4, 0, h, &err) == EV_OK && !isnan(h[0].score), "analogy with zero rows");
    CHECK(sim_analogy(s, 0, 7, 1, SIM_MUL, 4, 0, h, &err) == EV_OK && !isnan(h[0].score), "cosmul with zero rows");
    long rows[3] = {0, 7, 3};
    float sc[3];
    size_t order[3];
    CHECK(sim_doesnt_match(s, rows, 3, sc, order, &err) == EV_OK && !isnan(sc[0]) && !isnan(sc[2]),
          "doesnt_match with zero rows");
    /* errors */
    CHECK(sim_topk(s, q, 1, 0, 0, NULL, 0, h, &err) == EV_ERR_USAGE, "k = 0 accepted");
    ev_error_clear(&err);
    q[2] = NAN;
    CHECK(sim_topk(s, q, 1, 4, 0, NULL, 0, h, &err) == EV_ERR_USAGE && strstr(err.msg, "finite"), "NaN query");
    ev_error_clear(&err);
    CHECK(sim_topk_naive(s, q, 1, 4, 0, NULL, 0, h, &err) == EV_ERR_USAGE, "NaN query (naive)");
    ev_error_clear(&err);
    store_close(s);
    /* rows so small or large that numpy's float32 norm underflows or overflows: scored 0 (never NaN), the
     * approximate filter sends them to the exact path, BLAS and naive agree */
    {
        store_rows r = {.n = 30, .dim = 4};
        r.vectors = malloc(30 * 4 * sizeof(float));
        r.words = malloc(30 * 8);
        r.offsets = malloc(31 * sizeof(size_t));
        size_t pos = 0;
        r.offsets[0] = 0;
        for (size_t i = 0; i < 30; i++) {
            float scale = i % 5 == 1 ? 1e-21f : i % 5 == 2 ? 1e21f : i % 5 == 3 ? 1e-30f : 1.f;
            for (size_t k = 0; k < 4; k++)
                r.vectors[i * 4 + k] = scale * (float)((int)((i * 7 + k * 3) % 11) - 5);
            pos += (size_t)sprintf(r.words + pos, "x%zu", i) + 1;
            r.offsets[i + 1] = pos;
        }
        store *sx = NULL;
        CHECK(store_from_rows(&r, "x", "glove", NULL, &sx, &err) == EV_OK, "%s", err.msg ? err.msg : "?");
        float qx[8] = {1, -2, 3, 0.5f, -1, 0, 2, 1};
        sim_hit hx[2 * 30], hy[2 * 30];
        CHECK(sim_topk(sx, qx, 2, 30, 0, NULL, 0, hx, &err) == EV_OK, "%s", err.msg ? err.msg : "?");
        CHECK(sim_topk_naive(sx, qx, 2, 30, 0, NULL, 0, hy, &err) == EV_OK, "%s", err.msg ? err.msg : "?");
        check_twins(hx, hy, 30, "tiny and huge rows");
        check_twins(hx + 30, hy + 30, 30, "tiny and huge rows");
        store_close(sx);
    }

    /* a store of one row: nothing to answer besides itself */
    s = random_store(1, 3, 5, 0, 0);
    long self = 0;
    float w = 1.f, q1[3];
    sim_mean_of_rows(s, &self, &w, 1, q1);
    CHECK(sim_topk(s, q1, 1, 3, 0, &self, 1, h, &err) == EV_OK && h[0].row == -1 && h[2].row == -1, "one-row store");
    store_close(s);
}

/* ---- neighbour lists stored in the cache ------------------------------------------------------------------ */

/* The lists sim_neighbor_lists_build makes equal the naive twin's answers; written into a cache and opened again
 * they are the same bytes; sim_listed_neighbors answers as the one-word matrix pass (the same rows, scores to the
 * last bit or two) whenever it answers, and declines lists it cannot trust. */
static void test_neighbor_lists(void)
{
    const size_t dims[] = {3, 24, 100};
    unsigned seed = 77;
    ev_error err = {0};
    size_t answered = 0, asked = 0;
    for (size_t di = 0; di < 3; di++)
        for (size_t V = 2; V <= 3000; V = V * 5 + 1) {
            size_t d = dims[di], n = V / 2 + 1, K = V - 1 < 8 ? V - 1 : 8;
            store *s = random_store(V, d, seed++, 2, 3);
            int32_t *rows = NULL;
            float *scores = NULL;
            char what[96];
            snprintf(what, sizeof what, "lists V=%zu d=%zu", V, d);
            CHECK(sim_neighbor_lists_build(s, n, K, NULL, NULL, &rows, &scores, &err) == EV_OK, "%s: %s", what,
                  err.msg ? err.msg : "?");
            ev_error_clear(&err);
            if (!rows)
                continue;
            sim_hit *a = malloc(K * sizeof *a), *b = malloc(K * sizeof *b);
            float *q = malloc(d * sizeof *q);
            for (size_t r = 0; r < n; r++) { /* each list = the naive twin's top K of that word */
                long row = (long)r;
                sim_word_query(s, row, q);
                CHECK(sim_topk_naive(s, q, 1, K, 0, &row, 1, b, &err) == EV_OK, "%s", err.msg ? err.msg : "?");
                for (size_t j = 0; j < K; j++)
                    a[j] = (sim_hit){rows[r * K + j], scores[r * K + j]};
                check_twins(a, b, K, what);
                check_order(a, K, what);
            }
            /* into a cache and back */
            char path[128];
            snprintf(path, sizeof path, "%s/lists.safetensors", tmpdir);
            store_set_neighbor_lists(s, n, K, rows, scores);
            CHECK(store_write_cache(s, path, &err) == EV_OK, "%s: %s", what, err.msg ? err.msg : "?");
            store *c = NULL;
            CHECK(store_open(path, &c, &err) == EV_OK, "%s: %s", what, err.msg ? err.msg : "?");
            ev_error_clear(&err);
            if (!c) {
                store_close(s);
                free(a), free(b), free(q);
                continue;
            }
            size_t K2;
            const int32_t *r2;
            const float *s2;
            CHECK(store_neighbor_lists(c, &K2, &r2, &s2) == n && K2 == K && memcmp(r2, rows, n * K * 4) == 0 &&
                      memcmp(s2, scores, n * K * 4) == 0,
                  "%s: the lists read back differ", what);
            for (size_t r = 0; r < n; r++)
                for (size_t k = 1; k <= K; k += 3)
                    for (size_t R = 0; R <= V; R += V / 2 + 1) {
                        long row = (long)r;
                        asked++;
                        if (!sim_listed_neighbors(c, row, k, R, a))
                            continue;
                        answered++;
                        sim_word_query(c, row, q);
                        CHECK(sim_topk(c, q, 1, k, R, &row, 1, b, &err) == EV_OK, "%s", err.msg ? err.msg : "?");
                        /* The same rows and scores, up to OpenBLAS: the list is re-scored with sgemv over the
                         * gathered rows, the search with sgemv over blocks of the matrix. With OpenBLAS's AVX2
                         * and AVX-512 kernels a row's bits do not depend on where it stands, and the two agree
                         * exactly; with its Sandybridge and older kernels they may differ in the last bits, so
                         * the bound is 1e-6 (a few ulps of a cosine), and two rows may trade places only where
                         * their scores tie within it. */
                        for (size_t j = 0; j < k; j++)
                            CHECK((a[j].row == b[j].row || fabsf(a[j].score - b[j].score) <= 1e-6f) &&
                                      fabsf(a[j].score - b[j].score) <= 1e-6f * (1 + fabsf(b[j].score)),
                                  "%s row %zu k=%zu R=%zu: slot %zu is %ld %.9g from the list, %ld %.9g searched", what,
                                  r, k, R, j, a[j].row, a[j].score, b[j].row, b[j].score);
                    }
            CHECK(!sim_listed_neighbors(c, (long)n, 1, 0, a) || n == V, "%s: a row without a list answered", what);
            CHECK(!sim_listed_neighbors(c, -1, 1, 0, a), "%s: row -1 answered", what);
            CHECK(!sim_listed_neighbors(c, 0, K + 1, 0, a), "%s: k above the list length answered", what);
            CHECK(store_limit(c, V > 1 ? V - 1 : 1, &err) == EV_OK && (V < 3 || store_neighbor_lists(c, &K2, &r2, &s2) == 0),
                  "%s: --limit kept lists that may name rows past it", what);
            store_close(c);
            unlink(path);
            store_close(s);
            free(a), free(b), free(q);
        }
    CHECK(answered > asked / 3, "the lists answered %zu of %zu queries", answered, asked);
    /* lists that do not fit the store are declined: a row past the end, the row itself, rising scores */
    store *s = random_store(50, 10, 5, 0, 0);
    const int32_t bad_rows[3][4] = {{1, 2, 3, 50}, {1, 0, 2, 3}, {1, 2, 3, 4}};
    const float bad_scores[3][4] = {{.9f, .5f, .4f, .1f}, {.9f, .5f, .4f, .1f}, {.5f, .9f, .4f, .1f}};
    for (int t = 0; t < 3; t++) {
        int32_t *r = malloc(sizeof bad_rows[t]);
        float *sc = malloc(sizeof bad_scores[t]);
        memcpy(r, bad_rows[t], sizeof bad_rows[t]);
        memcpy(sc, bad_scores[t], sizeof bad_scores[t]);
        store_set_neighbor_lists(s, 1, 4, r, sc);
        sim_hit h[2];
        CHECK(!sim_listed_neighbors(s, 0, 2, 0, h), "corrupt list %d answered", t);
    }
    int32_t r0;
    float s0;
    int32_t *r = &r0; /* not NULL before: the call must clear them */
    float *sc = &s0;
    CHECK(sim_neighbor_lists_build(s, 0, 4, NULL, NULL, &r, &sc, &err) == EV_ERR_USAGE && !r && !sc, "0 words built");
    ev_error_clear(&err);
    store_close(s);
}

/* most_similar with any number of positive and negative words: BLAS vs the naive twin, both against a plain
 * double-precision recomputation of gensim's formulas (each answer's score, and no candidate left out scoring
 * above the k-th), input rows never answered, and the analogy a:b::c:? is positive [b, c], negative [a]. */
static double ref_cos(const store *s, long row, const double *q)
{
    size_t d = store_dim(s);
    const float *x = store_row(s, (size_t)row);
    double dot = 0, nx = 0, nq = 0;
    for (size_t i = 0; i < d; i++) {
        dot += x[i] * q[i];
        nx += (double)x[i] * x[i];
        nq += q[i] * q[i];
    }
    return nx > 0 && nq > 0 ? dot / sqrt(nx * nq) : 0;
}

static double ref_score(const store *s, long row, const long *rows, const float *w, size_t n, int mul, double *q)
{
    size_t d = store_dim(s);
    if (!mul) {
        for (size_t i = 0; i < d; i++)
            q[i] = 0;
        for (size_t t = 0; t < n; t++) {
            const float *x = store_row(s, (size_t)rows[t]);
            double nx = 0;
            for (size_t i = 0; i < d; i++)
                nx += (double)x[i] * x[i];
            for (size_t i = 0; nx > 0 && i < d; i++)
                q[i] += w[t] * x[i] / sqrt(nx);
        }
        return ref_cos(s, row, q);
    }
    double num = 1, den = 1;
    int neg = 0;
    for (size_t t = 0; t < n; t++) {
        const float *x = store_row(s, (size_t)rows[t]);
        for (size_t i = 0; i < d; i++)
            q[i] = x[i];
        double p = (1 + ref_cos(s, row, q)) / 2;
        if (w[t] > 0)
            num *= p;
        else
            den *= p, neg = 1;
    }
    return num / (neg ? den + 1e-6 : 1.000001);
}

/* The bound between float32 scores and the double recomputation: 1e-5, relative above 1; 3CosMul's products over a
 * small (1 + cos) / 2 amplify float32 rounding (a cosine near -1 known to ~1e-7 in a denominator near 1e-3), so
 * there 1e-3 relative. */
static double tol(double r, int mul) { return (mul ? 1e-3 : 1e-5) * (fabs(r) > 1 ? fabs(r) : 1); }

static void test_most_similar(void)
{
    ev_error err = {0};
    unsigned seed = 77;
    for (size_t V = 5; V <= 3000; V = V * 5 + 1)
        for (size_t n = 1; n <= 6; n++)
            for (int mul = 0; mul < 2; mul++) {
                size_t d = 3 + (seed % 5) * 13, k = 1 + seed % 7, R = seed % 3 ? 0 : V / 2 + 1;
                store *s = random_store(V, d, seed++, 1, 2);
                if (!s)
                    continue;
                long rows[6];
                float w[6];
                for (size_t t = 0; t < n; t++) {
                    rows[t] = (long)((size_t)rand() % V);
                    w[t] = t == 0 || rand() % 2 ? 1.f : -1.f;
                }
                sim_hit a[7], b[7];
                double *q = malloc(d * sizeof *q);
                char what[96];
                snprintf(what, sizeof what, "most_similar V=%zu d=%zu n=%zu k=%zu R=%zu %s", V, d, n, k, R,
                         mul ? "mul" : "add");
                CHECK(sim_most_similar(s, rows, w, n, (sim_method)mul, k, R, a, &err) == EV_OK, "%s: %s", what,
                      err.msg ? err.msg : "?");
                CHECK(sim_most_similar_naive(s, rows, w, n, (sim_method)mul, k, R, b, &err) == EV_OK, "%s: %s", what,
                      err.msg ? err.msg : "?");
                ev_error_clear(&err);
                if (!mul)
                    check_twins(a, b, k, what);
                for (size_t j = 0; mul && j < k; j++) { /* as check_twins, with 3CosMul's relative bound */
                    double t = tol(b[j].score, 1);
                    CHECK(fabs((double)a[j].score - b[j].score) < t, "%s: slot %zu scores %.9g vs naive %.9g", what, j,
                          a[j].score, b[j].score);
                    int near = a[j].row == b[j].row || (j > 0 && fabs((double)a[j].score - a[j - 1].score) < t) ||
                               (j + 1 < k && fabs((double)a[j].score - a[j + 1].score) < t) || j + 1 == k;
                    CHECK(near && (a[j].row >= 0) == (b[j].row >= 0), "%s: slot %zu row %ld vs naive %ld", what, j,
                          a[j].row, b[j].row);
                }
                check_order(a, k, what);
                size_t cand = R && R < V ? R : V;
                double kth = INFINITY;
                for (size_t j = 0; j < k; j++) {
                    if (a[j].row < 0)
                        continue;
                    for (size_t t = 0; t < n; t++)
                        CHECK(a[j].row != rows[t], "%s: input row %ld answered", what, rows[t]);
                    CHECK((size_t)a[j].row < cand, "%s: row %ld beyond the %zu candidates", what, a[j].row, cand);
                    double r = ref_score(s, a[j].row, rows, w, n, mul, q);
                    CHECK(fabs(r - a[j].score) < tol(r, mul), "%s: slot %zu scores %.9g, recomputed %.9g", what, j,
                          a[j].score, r);
                    kth = a[j].score;
                }
                for (size_t r = 0; r < cand && a[k - 1].row >= 0; r++) {
                    int skip = 0;
                    for (size_t t = 0; t < n; t++)
                        skip |= rows[t] == (long)r;
                    for (size_t j = 0; j < k; j++)
                        skip |= a[j].row == (long)r;
                    if (!skip)
                        CHECK(ref_score(s, (long)r, rows, w, n, mul, q) < kth + tol(kth, mul), "%s: row %zu left out", what, r);
                }
                if (n == 3 && V >= 3) { /* rows (b, c, a) with (+, +, -) is the analogy a:b::c:? */
                    long r3[3] = {1, 2, 0};
                    float w3[3] = {1.f, 1.f, -1.f};
                    sim_hit c[7];
                    CHECK(sim_most_similar(s, r3, w3, 3, (sim_method)mul, k, R, a, &err) == EV_OK, "%s", what);
                    CHECK(sim_analogy(s, 0, 1, 2, (sim_method)mul, k, R, c, &err) == EV_OK, "%s", what);
                    for (size_t j = 0; j < k; j++)
                        CHECK(a[j].row == c[j].row && a[j].score == c[j].score, "%s: analogy slot %zu differs", what, j);
                }
                free(q);
                store_close(s);
            }
    store *s = random_store(10, 4, 5, 0, 0);
    long r1 = 3;
    float neg = -1.f;
    sim_hit h[2];
    CHECK(sim_most_similar(s, &r1, &neg, 1, SIM_MUL, 2, 0, h, &err) == EV_ERR_USAGE, "cosmul without positives");
    ev_error_clear(&err);
    CHECK(sim_most_similar(s, &r1, &neg, 0, SIM_ADD, 2, 0, h, &err) == EV_ERR_USAGE, "no words");
    ev_error_clear(&err);
    CHECK(sim_most_similar(s, &r1, &neg, 1, SIM_ADD, 2, 0, h, &err) == EV_OK, "one negative word");
    store_close(s);
}

/* doesnt-match's ranking of a long list (a word list of thousands, repeats and equal rows among them) against a naive
 * check of every adjacent pair: Python's sorted((score, word), reverse=True), equal tuples in input order. */
static void test_doesnt_match_long(void)
{
    size_t V = 500, n = 3001, d = 6;
    store *s = random_store(V, d, 11, 3, 40);
    long *rows = malloc(n * sizeof *rows);
    size_t *order = malloc(n * sizeof *order), *seen = calloc(n, sizeof *seen);
    float *sc = malloc(n * sizeof *sc);
    ev_error err = {0};
    srand(5);
    for (size_t i = 0; i < n; i++)
        rows[i] = rand() % (int)V;
    CHECK(sim_doesnt_match(s, rows, n, sc, order, &err) == EV_OK, "%s", err.msg ? err.msg : "?");
    for (size_t k = 0; k < n; k++)
        CHECK(order[k] < n && !seen[order[k]]++, "doesnt_match order is a permutation (slot %zu)", k);
    for (size_t k = 0; k + 1 < n; k++) {
        size_t i = order[k], j = order[k + 1];
        int c = strcmp(word_of(s, rows[i]), word_of(s, rows[j]));
        CHECK(sc[i] > sc[j] || (sc[i] == sc[j] && (c > 0 || (c == 0 && i < j))),
              "doesnt_match rank %zu: (%.9g, %s, #%zu) before (%.9g, %s, #%zu)", k, sc[i], word_of(s, rows[i]), i,
              sc[j], word_of(s, rows[j]), j);
    }
    free(rows);
    free(order);
    free(seen);
    free(sc);
    store_close(s);
}

int main(void)
{
    cJSON *exp;
    store *s;
    if (fixtures_open(tmpdir, &exp, &s)) {
        test_norms(s, exp);
        test_queries(s, exp);
    }
    test_twins();
    test_exact_batched(s);
    test_most_similar();
    test_doesnt_match_long();
    test_ties_and_edges();
    test_neighbor_lists();
    fixtures_close(tmpdir, exp, s);
    return check_done("test_search");
}
