/* search — cosine top-k over the vector store, the neighbour lists stored in the cache, analogies and doesnt-match,
 * with gensim 4.2's float32 arithmetic (numpy 1.24). See include/search.h for the contracts.
 *
 * One job: answering "which rows are nearest to this query" over the whole vocabulary, fast and as gensim ranks them.
 * The top-k pass, the filter kernels that keep it at memory speed, and the word queries built on it stay together
 * because they share the heap, the candidate filter and the exact re-scoring; the gensim evaluations, which have
 * their own blocked pass and scan kernels, are eval_analogies.c and eval_pairs.c.
 *
 * Layout of this file:
 *   1. gensim arithmetic: norms, unit vectors, mean query, similarity
 *   2. top-k: the k-bounded heap, the candidate filter (C, AVX2, AVX-512 kernels), sim_topk and its naive twin
 *   3. analogy (3CosAdd, 3CosMul), doesnt-match
 * (the neighbour lists stored in the cache, built and answered with sim_topk: search_lists.c)
 *
 * Exactness: gensim's arithmetic is reproduced with separately rounded float32 operations; this file must not be
 * compiled with floating-point contraction into FMA (-ffp-contract=off, the default of -std=c11).
 */
#define _POSIX_C_SOURCE 200809L
#include "search.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "gemm_nt.h"
#include "parallel.h"
#include "search_internal.h"

#if CPU_X86
#include <immintrin.h>
#endif

#define STACK_DIM 512 /* vectors up to this dimension use stack buffers */

size_t sim_rows_considered(const store *s, size_t restrict_n)
{
    size_t V = store_size(s);
    return restrict_n == 0 || restrict_n > V ? V : restrict_n;
}

/* ==== 1. gensim arithmetic ================================================================================== */

/* numpy's pairwise float32 sum of the squares of v[0..n): 8 accumulators in blocks of ≤ 128, halves above. */
static float pairwise_squares(const float *v, size_t n)
{
    if (n < 8) {
        float res = 0.f;
        for (size_t i = 0; i < n; i++) {
            float sq = v[i] * v[i];
            res += sq;
        }
        return res;
    }
    if (n <= 128) {
        float r[8];
        for (int j = 0; j < 8; j++)
            r[j] = v[j] * v[j];
        size_t i = 8;
        for (; i < n - n % 8; i += 8)
            for (int j = 0; j < 8; j++) {
                float sq = v[i + j] * v[i + j];
                r[j] += sq;
            }
        float res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) {
            float sq = v[i] * v[i];
            res += sq;
        }
        return res;
    }
    size_t n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise_squares(v, n2) + pairwise_squares(v + n2, n - n2);
}

float sim_norm(const float *v, size_t d) { return sqrtf(pairwise_squares(v, d)); }

void sim_unitvec(const float *v, size_t d, float *out)
{
    /* gensim: veclen = dnrm2(vec as float64); blas_scal(1.0 / veclen, vec as float64).astype(float32) */
    double stackbuf[STACK_DIM] = {0}, *x = d <= STACK_DIM ? stackbuf : malloc(d * sizeof *x);
    double nrm;
    if (x) {
        for (size_t i = 0; i < d; i++)
            x[i] = v[i];
        nrm = cblas_dnrm2((int)d, x, 1);
        if (x != stackbuf)
            free(x);
    } else { /* out of memory for a huge d: the same norm by hand (may differ from dnrm2 in the last bit) */
        double acc = 0;
        for (size_t i = 0; i < d; i++)
            acc += (double)v[i] * v[i];
        nrm = sqrt(acc);
    }
    if (nrm > 0.0) {
        double alpha = 1.0 / nrm;
        for (size_t i = 0; i < d; i++)
            out[i] = (float)(alpha * (double)v[i]);
    } else if (out != v) {
        memmove(out, v, d * sizeof *out);
    }
}

void sim_row_unit(const store *s, size_t row, float *out)
{
    size_t d = store_dim(s);
    const float *v = store_row(s, row);
    float n = sim_norm(v, d);
    for (size_t j = 0; j < d; j++)
        out[j] = n > 0.f ? v[j] / n : 0.f;
}

void sim_mean_of_rows(const store *s, const long *rows, const float *weights, size_t n, float *out)
{
    size_t d = store_dim(s);
    for (size_t j = 0; j < d; j++)
        out[j] = 0.f;
    double total = 0; /* gensim: total_weight, a float64 sum of |weight| */
    for (size_t i = 0; i < n; i++) {
        const float *v = store_row(s, (size_t)rows[i]);
        float nv = sim_norm(v, d), w = weights[i];
        for (size_t j = 0; j < d; j++) {
            float uj = nv > 0.f ? v[j] / nv : 0.f;
            float t = w * uj;
            out[j] += t;
        }
        total += fabs((double)w);
    }
    if (total > 0) {
        float t = (float)total;
        for (size_t j = 0; j < d; j++)
            out[j] = out[j] / t;
    }
}

void sim_word_query(const store *s, long row, float *out)
{
    float one = 1.f;
    sim_mean_of_rows(s, &row, &one, 1, out);
}

float sim_similarity(const store *s, size_t a, size_t b)
{
    size_t d = store_dim(s);
    float sa[STACK_DIM], sb[STACK_DIM];
    float *ua = d <= STACK_DIM ? sa : malloc(d * sizeof *ua), *ub = d <= STACK_DIM ? sb : malloc(d * sizeof *ub);
    float r = NAN;
    if (ua && ub) {
        sim_unitvec(store_row(s, a), d, ua);
        sim_unitvec(store_row(s, b), d, ub);
        r = cblas_sdot((int)d, ua, 1, ub, 1);
    }
    if (ua != sa)
        free(ua);
    if (ub != sb)
        free(ub);
    return r;
}

/* ==== 2. top-k ============================================================================================== */

int sim_hit_worse(sim_hit a, sim_hit b) { return a.score < b.score || (a.score == b.score && a.row > b.row); }

/* The k best answers so far as a binary heap with the worst on top (h[0]); h has room for k. */
typedef struct {
    sim_hit *h;
    size_t n, k;
} topk_heap;

static void heap_sift_down(sim_hit *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && sim_hit_worse(h[l], h[w]))
            w = l;
        if (r < n && sim_hit_worse(h[r], h[w]))
            w = r;
        if (w == i)
            return;
        sim_hit t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}

/* Adds (row, score) when the heap has room or it beats the worst kept answer. */
static void heap_offer(topk_heap *t, long row, float score)
{
    sim_hit x = {row, score};
    if (t->n < t->k) {
        size_t i = t->n++;
        t->h[i] = x;
        while (i > 0) {
            size_t p = (i - 1) / 2;
            if (!sim_hit_worse(t->h[i], t->h[p]))
                break;
            sim_hit tmp = t->h[i];
            t->h[i] = t->h[p];
            t->h[p] = tmp;
            i = p;
        }
    } else if (sim_hit_worse(t->h[0], x)) {
        t->h[0] = x;
        heap_sift_down(t->h, t->n, 0);
    }
}

/* The score a candidate must reach to enter: -inf while the heap has room. */
static float heap_floor(const topk_heap *t) { return t->n < t->k ? -INFINITY : t->h[0].score; }

/* Sorts the kept answers best first, in place, and fills the remaining slots of the k with {-1, 0}. */
static void heap_finish(topk_heap *t)
{
    for (size_t n = t->n; n > 1; n--) {
        sim_hit tmp = t->h[0];
        t->h[0] = t->h[n - 1];
        t->h[n - 1] = tmp;
        heap_sift_down(t->h, n - 1, 0);
    }
    for (size_t i = t->n; i < t->k; i++)
        t->h[i] = (sim_hit){-1, 0.f};
}

static int is_excluded(const long *ex, size_t nex, long row)
{
    for (size_t i = 0; i < nex; i++)
        if (ex[i] == row)
            return 1;
    return 0;
}

/* The candidate filter. The kernels of each level of cpu.h (plain C, AVX2, AVX-512; CPU_PICK chooses) compute the
 * same float32 operations. */

#if CPU_X86
/* block_inverse_norms, 16 rows at a time (the scalar division was 6 % of a search of 10 words); returns the rows
 * done. */
__attribute__((target("avx512f"))) static size_t inverse_norms_avx512(const float *sn, size_t nb, float *inv)
{
    const __m512 lo = _mm512_set1_ps(1e-18f), hi = _mm512_set1_ps(1e18f), one = _mm512_set1_ps(1.f);
    const __m512 nan = _mm512_set1_ps(NAN), zero = _mm512_setzero_ps();
    size_t j = 0;
    for (; j + 16 <= nb; j += 16) {
        __m512 n = _mm512_loadu_ps(sn + j);
        __mmask16 ok = _mm512_cmp_ps_mask(n, lo, _CMP_GT_OQ) & _mm512_cmp_ps_mask(n, hi, _CMP_LT_OQ);
        __m512 r = _mm512_mask_div_ps(nan, ok, one, n);
        _mm512_storeu_ps(inv + j, _mm512_mask_mov_ps(r, _mm512_cmp_ps_mask(n, zero, _CMP_EQ_OQ), zero));
    }
    return j;
}
#endif

/* The filter of a block: inv[j] = 1 / (the store's norm of row lo + j), in float; NaN for rows whose norm is so
 * small or large that numpy's float32 norm may underflow or overflow where the store's did not (those always get
 * the exact treatment). Zero rows get 0: their cosine is 0 either way. */
static void block_inverse_norms(const store *s, size_t lo, size_t nb, float *inv /*(nb)*/)
{
    const float *sn = store_norms(s);
    size_t j = 0;
#if CPU_X86
    if (cpu_simd_level() >= CPU_SIMD_AVX512)
        j = inverse_norms_avx512(sn + lo, nb, inv);
#endif
    for (; j < nb; j++) {
        float n = sn[lo + j];
        inv[j] = n == 0.f ? 0.f : n > 1e-18f && n < 1e18f ? 1.f / n : NAN;
    }
}

/* The first j in [j0, n) with !(y[j] · inv[j] < lim) (a row that may enter, or a NaN), n when none. */
static size_t next_candidate_c(const float *y, const float *inv, size_t j0, size_t n, float lim)
{
    for (size_t j = j0; j < n; j++)
        if (!(y[j] * inv[j] < lim))
            return j;
    return n;
}

#if CPU_X86
__attribute__((target("avx2"))) static size_t next_candidate_avx2(const float *y, const float *inv, size_t j,
                                                                   size_t n, float lim)
{
    __m256 l = _mm256_set1_ps(lim);
    for (; j + 8 <= n; j += 8) {
        __m256 a = _mm256_mul_ps(_mm256_loadu_ps(y + j), _mm256_loadu_ps(inv + j));
        unsigned m = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(a, l, _CMP_NLT_UQ));
        if (m)
            return j + (size_t)__builtin_ctz(m);
    }
    return next_candidate_c(y, inv, j, n, lim);
}

__attribute__((target("avx512f"))) static size_t next_candidate_avx512(const float *y, const float *inv, size_t j,
                                                                       size_t n, float lim)
{
    __m512 l = _mm512_set1_ps(lim);
    for (; j + 16 <= n; j += 16) {
        __m512 a = _mm512_mul_ps(_mm512_loadu_ps(y + j), _mm512_loadu_ps(inv + j));
        unsigned m = _mm512_cmp_ps_mask(a, l, _CMP_NLT_UQ);
        if (m)
            return j + (size_t)__builtin_ctz(m);
    }
    return next_candidate_c(y, inv, j, n, lim);
}
#endif

typedef size_t (*candidate_fn)(const float *y, const float *inv, size_t j, size_t n, float lim);

/* The lanes tile (gemm_nt_lanes: row j's dot products with up to 16 queries in T[j*16 …]): the first j in [j0, n)
 * where a lane i of want has !(T[j*16 + i] · inv[j] < lim[i]), with those lanes in *hit; n when none. */
static size_t next_lanes_c(const float *T, const float *inv, size_t j, size_t n, const float *lim, unsigned want,
                           unsigned *hit)
{
    for (; j < n; j++) {
        unsigned h = 0;
        for (unsigned i = 0; i < 16; i++)
            if ((want >> i & 1u) && !(T[j * 16 + i] * inv[j] < lim[i]))
                h |= 1u << i;
        if (h) {
            *hit = h;
            return j;
        }
    }
    return n;
}

#if CPU_X86
__attribute__((target("avx2"))) static size_t next_lanes_avx2(const float *T, const float *inv, size_t j, size_t n,
                                                               const float *lim, unsigned want, unsigned *hit)
{
    __m256 l0 = _mm256_loadu_ps(lim), l1 = _mm256_loadu_ps(lim + 8);
    for (; j < n; j++) {
        __m256 v = _mm256_set1_ps(inv[j]);
        unsigned h0 = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(_mm256_mul_ps(_mm256_loadu_ps(T + j * 16), v), l0,
                                                                 _CMP_NLT_UQ));
        unsigned h1 = (unsigned)_mm256_movemask_ps(
            _mm256_cmp_ps(_mm256_mul_ps(_mm256_loadu_ps(T + j * 16 + 8), v), l1, _CMP_NLT_UQ));
        unsigned h = (h0 | h1 << 8) & want;
        if (h) {
            *hit = h;
            return j;
        }
    }
    return n;
}

__attribute__((target("avx512f"))) static size_t next_lanes_avx512(const float *T, const float *inv, size_t j,
                                                                   size_t n, const float *lim, unsigned want,
                                                                   unsigned *hit)
{
    __m512 l = _mm512_loadu_ps(lim);
    for (; j < n; j++) {
        __m512 a = _mm512_mul_ps(_mm512_loadu_ps(T + j * 16), _mm512_set1_ps(inv[j]));
        unsigned h = _mm512_mask_cmp_ps_mask((__mmask16)want, a, l, _CMP_NLT_UQ);
        if (h) {
            *hit = h;
            return j;
        }
    }
    return n;
}
#endif

typedef size_t (*lanes_fn)(const float *T, const float *inv, size_t j, size_t n, const float *lim, unsigned want,
                           unsigned *hit);

/* The floor a candidate's approximate cosine must reach: the heap's floor less a margin for the difference between
 * the store's norms and numpy's (about 1e-7 relative; the margin is 1e-5). */
static float approx_limit(const topk_heap *t)
{
    float fl = heap_floor(t);
    return fl - (fabsf(fl) * 1e-5f + 1e-30f);
}

/* Scores row (dot product y with a unit query) exactly as gensim does, y / numpy's float32 norm of the row, and
 * offers it to t unless excluded. */
static void offer_exact(topk_heap *t, long row, float y, float norm, const long *ex, size_t nex)
{
    float sc = sim_cos_from_dot(y, norm);
    if (t->n == t->k && !sim_hit_worse(t->h[0], (sim_hit){row, sc}))
        return;
    if (nex && is_excluded(ex, nex, row))
        return;
    heap_offer(t, row, sc);
}

/* Offers rows lo … lo+nb-1, whose dot products with a unit query are y (nb), to t. An approximate cosine (y times
 * the inverse of the store's double-precision norm, inv) rules out the rows that cannot enter; the others are
 * scored exactly (offer_exact). */
static void offer_block(const store *s, candidate_fn next, const float *y /*(nb)*/, const float *inv /*(nb)*/,
                        size_t lo, size_t nb, const long *ex, size_t nex, topk_heap *t)
{
    size_t d = store_dim(s);
    float lim = approx_limit(t);
    for (size_t j = next(y, inv, 0, nb, lim); j < nb; j = next(y, inv, j + 1, nb, lim)) {
        offer_exact(t, (long)(lo + j), y[j], sim_norm(store_row(s, lo + j), d), ex, nex);
        lim = approx_limit(t);
    }
}

/* The bf16 first pass of one worker (where the CPU has AVX512-BF16). Each row's approximate cosine a = fl(ŷ · inv)
 * (ŷ from gemm_nt_bf16) is within e of fl(y · inv) (y the float dot product; e: bf16_query_margin), and that within
 * nm = 2e-5 (|a| + e) + 1e-30 of the exact score offer_exact gives (the store's norms against numpy's, as
 * approx_limit allows for): so the exact score lies in [a - e - nm, a + e + nm]. For each query the worker keeps the
 * k largest lower bounds of rows not excluded (low: a min-heap), and L, the least of them once there are k: k rows
 * score at least L, so a row whose upper bound is below L is not among the k best. Rows whose upper bound reaches
 * the L of the moment are kept (pending), and at the end those still reaching the final L (or whose inverse norm is
 * NaN: no bound) get their float dot product (gemm_nt_dots, the bits gemm_nt gives) and offer_exact: the same
 * answers as scoring every row, with a few dot products per query instead of one per row. */
typedef struct {
    size_t row;
    uint32_t q;
    float up; /* the upper bound, rounded up; +inf for a row without a bound */
} bf16_pending;

typedef struct {
    float *low;       /* (m, k) min-heaps of lower bounds */
    size_t *nlow;     /* (m) */
    bf16_pending *p;  /* the kept rows, in order */
    size_t n, cap;
} bf16_pass;

/* x as a float at most (round_down) or at least (round_up) x: moved by more than a float's rounding first. */
static float round_down(double x) { return (float)(x - fabs(x) * 0x1p-22 - 1e-38); }

static float round_up(double x) { return (float)(x + fabs(x) * 0x1p-22 + 1e-38); }

/* L of query i: the least kept lower bound once there are k, else -inf. */
static float bf16_floor(const bf16_pass *b, size_t i, size_t k)
{
    return b->nlow[i] < k ? -INFINITY : b->low[i * k];
}

static void low_offer(float *h, size_t *n, size_t k, float x)
{
    size_t i;
    if (*n < k) {
        for (i = (*n)++; i > 0 && h[(i - 1) / 2] > x; i = (i - 1) / 2)
            h[i] = h[(i - 1) / 2];
        h[i] = x;
        return;
    }
    if (!(x > h[0]))
        return;
    for (i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, c = i;
        float v = x;
        if (l < k && h[l] < v)
            c = l, v = h[l];
        if (r < k && h[r] < v)
            c = r;
        if (c == i)
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
}

/* Scans query i's approximate scores ya (nb) of rows lo…lo+nb-1 (inv: their inverse norms), e its margin for this
 * block. Returns -1 when out of memory. */
static int bf16_scan(bf16_pass *b, candidate_fn next, size_t i, size_t k, const float *ya, const float *inv,
                     size_t lo, size_t nb, double e, const long *ex, size_t nex)
{
    float lim = round_down((double)bf16_floor(b, i, k) - e - (fabs((double)bf16_floor(b, i, k)) + e) * 2e-5 - 1e-30);
    for (size_t j = next(ya, inv, 0, nb, lim); j < nb; j = next(ya, inv, j + 1, nb, lim)) {
        double a = (double)(ya[j] * inv[j]), nm = (fabs(a) + e) * 2e-5 + 1e-30;
        float up = isfinite(a) ? round_up(a + e + nm) : INFINITY;
        if (isfinite(a) && !(nex && is_excluded(ex, nex, (long)(lo + j)))) {
            low_offer(b->low + i * k, &b->nlow[i], k, round_down(a - e - nm));
            double fl = bf16_floor(b, i, k);
            lim = round_down(fl - e - (fabs(fl) + e) * 2e-5 - 1e-30);
        }
        if (b->n == b->cap) {
            size_t cap = b->cap ? 2 * b->cap : 4096;
            bf16_pending *p = realloc(b->p, cap * sizeof *p);
            if (!p)
                return -1;
            b->p = p;
            b->cap = cap;
        }
        b->p[b->n++] = (bf16_pending){lo + j, (uint32_t)i, up};
    }
    return 0;
}

/* The end of a worker's first pass: the kept rows that may still enter, scored and offered, 16 at a time. */
static void bf16_finish(const bf16_pass *b, const store *s, const float *Q, size_t k, const long *exclude, size_t nex,
                        topk_heap *heaps)
{
    size_t d = store_dim(s), n = 0;
    const float *qa[16], *xa[16];
    size_t rw[16], qi[16];
    float y[16];
    for (size_t p = 0; p <= b->n; p++) {
        if (p < b->n && b->p[p].up >= bf16_floor(b, b->p[p].q, k)) {
            qi[n] = b->p[p].q;
            rw[n] = b->p[p].row;
            qa[n] = Q + qi[n] * d;
            xa[n] = store_row(s, rw[n]);
            n++;
        }
        if (n == 16 || (p == b->n && n)) {
            gemm_nt_dots(qa, xa, n, d, y);
            for (size_t x = 0; x < n; x++)
                offer_exact(&heaps[qi[x]], (long)rw[x], y[x], sim_norm(xa[x], d), nex ? exclude + qi[x] * nex : NULL,
                            nex);
            n = 0;
        }
    }
}

/* The margin e of bf16_scan for query q (d, unit) against a block of rows: e_q + ‖q̃‖ r, r = max over the block's
 * rows of ‖δx‖ inv (bf16_block_error). It is gemm_nt_bf16's bound in cosine units, plus the float dot product's own
 * error (γ(d) ‖q‖ ‖x‖) and the rounding of the two products y · inv compared (2u each). It relies on what offer_block
 * relies on: inv within 1e-5 of 1 / ‖x‖ where inv is finite (the store's norms; rows with norms outside
 * [1e-18, 1e18] get NaN, always a candidate), so ‖x‖ inv ≤ 1 + 1e-4 and inv ≤ 1e18. e_q here, ‖q̃‖ in *nqr. */
static float bf16_query_margin(const float *q, size_t d, double *nqr)
{
    double nq = 0, eq = gemm_nt_bf16_error_norm(q, d), u = ldexp(1.0, -24), c = 1.0 + 1e-4;
    for (size_t j = 0; j < d; j++)
        nq += (double)q[j] * q[j];
    nq = sqrt(nq) * (1.0 + 1e-12);
    *nqr = nq + eq;
    double e = c * (eq + gemm_nt_bf16_sum_bound(d) * (nq + eq) * (1.0 + ldexp(1.0, -8)) +
                    (double)d * u / (1.0 - (double)d * u) * nq + 4.4 * u * nq) +
               gemm_nt_bf16_abs_bound(d, nq, 0.0) * 1e18 + gemm_nt_bf16_abs_bound(d, 0.0, c);
    return (float)(e * (1.0 + 1e-3));
}

/* r of bf16_query_margin for a block of nb rows: max ‖δx‖ inv (berr: ‖δx‖ of each, from gemm_nt_bf16), NaN inv
 * skipped. */
static double bf16_block_error(const float *berr, const float *inv, size_t nb)
{
    double r = 0;
    for (size_t j = 0; j < nb; j++)
        if (inv[j] > 0.f && (double)berr[j] * inv[j] > r)
            r = (double)berr[j] * inv[j];
    return r * (1.0 + 1e-6);
}

/* offer_block for up to 16 queries at once from a lanes tile T (nb × 16): one vector test per row for all of them;
 * ex is (mg, nex), t (mg). */
static void offer_tile_lanes(const store *s, lanes_fn next, const float *T, const float *inv, size_t lo, size_t nb,
                             size_t mg, const long *ex, size_t nex, topk_heap *t)
{
    size_t d = store_dim(s);
    float lim[16];
    unsigned want = mg >= 16 ? 0xffffu : (1u << mg) - 1u, hit = 0;
    for (size_t i = 0; i < 16; i++)
        lim[i] = i < mg ? approx_limit(&t[i]) : INFINITY;
    for (size_t j = next(T, inv, 0, nb, lim, want, &hit); j < nb; j = next(T, inv, j + 1, nb, lim, want, &hit)) {
        float norm = sim_norm(store_row(s, lo + j), d);
        for (; hit; hit &= hit - 1) {
            unsigned i = (unsigned)__builtin_ctz(hit);
            offer_exact(&t[i], (long)(lo + j), T[j * 16 + i], norm, nex ? ex + i * nex : NULL, nex);
            lim[i] = approx_limit(&t[i]);
        }
    }
}

/* Argument checks shared by the two top-k functions; writes unit queries into Q (m, d). */
static ev_status topk_prepare(const store *s, const float *queries, size_t m, size_t k, float *Q, ev_error *err)
{
    size_t d = store_dim(s);
    if (k == 0)
        return ev_fail(err, EV_ERR_USAGE, "top-k: expected k of at least 1, found 0");
    if (d > INT_MAX || m > INT_MAX)
        return ev_fail(err, EV_ERR_USAGE, "top-k: %zu queries of dimension %zu exceed the BLAS integer range", m, d);
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < d; j++)
            if (!isfinite(queries[i * d + j]))
                return ev_fail(err, EV_ERR_USAGE, "top-k: query %zu: expected finite values, found %g at position %zu",
                               i, (double)queries[i * d + j], j);
        sim_unitvec(queries + i * d, d, Q + i * d);
    }
    return EV_OK;
}

/* Queries up to which a batched top-k keeps its score tiles in lanes of 16 queries (gemm_nt_lanes, one vector test
 * per row for 16 queries; gemm_nt's small kernel covers the same range); above, rows of gemm_nt's panel kernel. */
#define TOPK_LANES_MAX 96

/* One worker of a batched top-k: takes blocks of rows in turn; keeps its own heaps (m of them). */
typedef struct {
    const store *s;
    const float *Q;        /* (m, d) unit queries */
    size_t m, k, R, B;
    const long *exclude;   /* (m, n_exclude) */
    size_t n_exclude;
    candidate_fn cand;
    lanes_fn lanes;        /* set: tiles in lanes of 16 queries (m ≤ TOPK_LANES_MAX), else rows */
    const uint32_t *Qb;    /* set: the queries in bf16 (gemm_nt_bf16) for a first pass, rows only */
    const float *margin;   /* (m, 2) with Qb: bf16_query_margin of each query and its ‖q̃‖ */
    sim_hit *hits;         /* (m, k) this worker's heaps */
    topk_heap *heaps;      /* (m) */
    int nomem;
} topk_worker;

/* A worker of parallel_blocks; ctx is the array of workers. */
static void topk_worker_run(void *ctx, parallel_queue *q, int tid)
{
    topk_worker *w = (topk_worker *)ctx + tid;
    size_t d = store_dim(w->s), m = w->m, B = w->B, nblocks = (w->R + B - 1) / B, b;
    size_t groups = (m + 15) / 16, nex = w->n_exclude;
    const float *X = store_vectors(w->s);
    float *T = malloc((w->lanes ? groups * 16 : m) * B * sizeof *T), *inv = malloc(B * sizeof *inv);
    float *berr = w->Qb ? malloc(B * sizeof *berr) : NULL;
    bf16_pass bp = {0};
    if (w->Qb) {
        bp.low = malloc(m * w->k * sizeof *bp.low);
        bp.nlow = calloc(m, sizeof *bp.nlow);
        if (!bp.low || !bp.nlow) {
            free(berr);
            berr = NULL; /* out of memory below */
        }
    }
    float *pack = m > 1 ? aligned_alloc(64, (gemm_nt_pack_floats(d) * sizeof *pack + 63) & ~(size_t)63) : NULL;
    if (!T || !inv || (m > 1 && !pack) || (w->Qb && !berr)) {
        w->nomem = 1;
        free(bp.low);
        free(bp.nlow);
        free(berr);
        free(T);
        free(inv);
        free(pack);
        return;
    }
    while (!w->nomem && (b = parallel_next(q)) < nblocks) {
        size_t lo = b * B, nb = w->R - lo < B ? w->R - lo : B;
        if (m == 1)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)nb, (int)d, 1.f, X + lo * d, (int)d, w->Q, 1, 0.f, T, 1);
        else if (w->lanes)
            for (size_t g = 0; g < groups; g++)
                gemm_nt_lanes(w->Q + g * 16 * d, d, X + lo * d, d, T + g * 16 * B, m - g * 16 < 16 ? m - g * 16 : 16,
                              nb, d, pack);
        else if (!w->Qb || gemm_nt_bf16(w->Qb, m, X + lo * d, d, nb, d, T, nb, pack, berr) != 0)
            gemm_nt(w->Q, d, X + lo * d, d, T, nb, m, nb, d, pack);
        else { /* the approximate tile: bounds for each query, its rows kept where they may enter */
            block_inverse_norms(w->s, lo, nb, inv);
            double r = bf16_block_error(berr, inv, nb);
            for (size_t i = 0; i < m && !w->nomem; i++)
                if (bf16_scan(&bp, w->cand, i, w->k, T + i * nb, inv, lo, nb,
                              ((double)w->margin[2 * i] + w->margin[2 * i + 1] * r) * (1.0 + 1e-6),
                              nex ? w->exclude + i * nex : NULL, nex) != 0)
                    w->nomem = 1;
            continue;
        }
        block_inverse_norms(w->s, lo, nb, inv);
        if (w->lanes)
            for (size_t g = 0; g < groups; g++)
                offer_tile_lanes(w->s, w->lanes, T + g * 16 * B, inv, lo, nb, m - g * 16 < 16 ? m - g * 16 : 16,
                                 nex ? w->exclude + g * 16 * nex : NULL, nex, &w->heaps[g * 16]);
        else
            for (size_t i = 0; i < m; i++)
                offer_block(w->s, w->cand, T + i * nb, inv, lo, nb, nex ? w->exclude + i * nex : NULL, nex,
                            &w->heaps[i]);
    }
    if (w->Qb && !w->nomem)
        bf16_finish(&bp, w->s, w->Q, w->k, w->exclude, nex, w->heaps);
    free(bp.low);
    free(bp.nlow);
    free(bp.p);
    free(berr);
    free(T);
    free(inv);
    free(pack);
}

ev_status sim_topk(const store *s, const float *queries, size_t m, size_t k, size_t restrict_n, const long *exclude,
                   size_t n_exclude, sim_hit *out, ev_error *err)
{
    size_t d = store_dim(s), R = sim_rows_considered(s, restrict_n);
    if (m == 0)
        return k ? EV_OK : ev_fail(err, EV_ERR_USAGE, "top-k: expected k of at least 1, found 0");
    /* m = 1: one sgemv per block of rows, OpenBLAS's threads inside; blocks of a multiple of 4 rows give the same
     * bits as one sgemv over all rows (numpy's dot(vectors, mean)). m > 1: one gemm_nt per block for all queries
     * (each score the sequential fused sum: the same bits on every machine, twice OpenBLAS 0.3.21's speed where the
     * CPU has AVX-512), the tile ≤ 512 KB — for m ≤ TOPK_LANES_MAX the queries in lanes of 16 (gemm_nt_lanes), above in
     * rows —, blocks shared by worker threads when the work is large enough. */
    size_t B = 16384;
    int nthreads = 1, lanes = m > 1 && m <= TOPK_LANES_MAX;
    if (m > 1) {
        B = 131072 / (lanes ? (m + 15) / 16 * 16 : m);
        B = B < 256 ? 256 : B > 4096 ? 4096 : B & ~(size_t)15;
        if (R * m >= (1u << 18))
            nthreads = parallel_default_threads();
        size_t nblocks = (R + B - 1) / B;
        if ((size_t)nthreads > nblocks)
            nthreads = nblocks ? (int)nblocks : 1;
    }
    if (m > SIZE_MAX / (d ? d : 1) / sizeof(float) || m > SIZE_MAX / B / sizeof(float) ||
        k > SIZE_MAX / sizeof(sim_hit) / m / (size_t)nthreads)
        return ev_fail(err, EV_ERR_NOMEM, "top-k: %zu queries × %zu answers are too many", m, k);
    float *Q = malloc(m * d * sizeof *Q + 1);
    topk_worker *wk = calloc((size_t)nthreads, sizeof *wk);
    sim_hit *hits = malloc((size_t)nthreads * m * k * sizeof *hits);
    topk_heap *heaps = malloc((size_t)nthreads * m * sizeof *heaps);
    /* A first pass in bf16 (twice the products per instruction) where the CPU has it, for the row tiles */
    int bf16 = m > TOPK_LANES_MAX && cpu_simd_level() == CPU_SIMD_AVX512BF16;
    uint32_t *Qb = bf16 ? malloc(m * gemm_nt_bf16_words(d) * sizeof *Qb + 1) : NULL;
    float *margin = bf16 ? malloc(2 * m * sizeof *margin) : NULL;
    ev_status st = EV_OK;
    if (!Q || !wk || !hits || !heaps || (bf16 && (!Qb || !margin))) {
        st = ev_fail(err, EV_ERR_NOMEM, "top-k: out of memory for %zu queries", m);
        goto out;
    }
    if ((st = topk_prepare(s, queries, m, k, Q, err)) != EV_OK)
        goto out;
    if (bf16) {
        gemm_nt_bf16_round(Q, d, m, d, Qb);
        for (size_t i = 0; i < m; i++) {
            double nqr;
            margin[2 * i] = bf16_query_margin(Q + i * d, d, &nqr);
            margin[2 * i + 1] = (float)(nqr * (1.0 + 1e-6));
        }
    }
    candidate_fn cand = CPU_PICK(next_candidate_c, next_candidate_avx2, next_candidate_avx512);
    lanes_fn lanes_next = lanes ? CPU_PICK(next_lanes_c, next_lanes_avx2, next_lanes_avx512) : NULL;
    for (int t = 0; t < nthreads; t++) {
        wk[t] = (topk_worker){s,         Q,      m, k, R, B, exclude, n_exclude, cand, lanes_next, Qb, margin,
                              hits + (size_t)t * m * k, heaps + (size_t)t * m, 0};
        for (size_t i = 0; i < m; i++)
            wk[t].heaps[i] = (topk_heap){wk[t].hits + i * k, 0, k};
    }
    int blas_threads = parallel_blas_single(); /* (the workers' sgemv calls) */
    int started = parallel_blocks(nthreads, (R + B - 1) / B, topk_worker_run, wk);
    parallel_blas_restore(blas_threads);
    for (int t = 0; t < started; t++)
        if (wk[t].nomem)
            st = ev_fail(err, EV_ERR_NOMEM, "top-k: out of memory for the score tiles");
    for (size_t i = 0; st == EV_OK && i < m; i++) { /* merge the workers' heaps: the order is total, ties by row */
        topk_heap h = {out + i * k, 0, k};
        for (int t = 0; t < started; t++)
            for (size_t j = 0; j < wk[t].heaps[i].n; j++)
                heap_offer(&h, wk[t].heaps[i].h[j].row, wk[t].heaps[i].h[j].score);
        heap_finish(&h);
    }
out:
    free(Q);
    free(Qb);
    free(margin);
    free(wk);
    free(hits);
    free(heaps);
    return st;
}

ev_status sim_topk_naive(const store *s, const float *queries, size_t m, size_t k, size_t restrict_n,
                         const long *exclude, size_t n_exclude, sim_hit *out, ev_error *err)
{
    size_t d = store_dim(s), R = sim_rows_considered(s, restrict_n);
    if (m == 0)
        return k ? EV_OK : ev_fail(err, EV_ERR_USAGE, "top-k: expected k of at least 1, found 0");
    if (m > SIZE_MAX / (d ? d : 1) / sizeof(float))
        return ev_fail(err, EV_ERR_NOMEM, "top-k: %zu queries are too many", m);
    float *Q = malloc(m * d * sizeof *Q + 1);
    if (!Q)
        return ev_fail(err, EV_ERR_NOMEM, "top-k: out of memory for %zu queries", m);
    ev_status st = topk_prepare(s, queries, m, k, Q, err);
    for (size_t i = 0; st == EV_OK && i < m; i++) {
        topk_heap t = {out + i * k, 0, k};
        const float *q = Q + i * d;
        const long *ex = n_exclude ? exclude + i * n_exclude : NULL;
        for (size_t r = 0; r < R; r++) {
            const float *x = store_row(s, r);
            float acc = 0.f;
            for (size_t j = 0; j < d; j++) {
                float p = q[j] * x[j];
                acc += p;
            }
            if (ex && is_excluded(ex, n_exclude, (long)r))
                continue;
            heap_offer(&t, (long)r, sim_cos_from_dot(acc, sim_norm(x, d)));
        }
        heap_finish(&t);
    }
    free(Q);
    return st;
}

/* ==== 3. analogies, doesnt-match ============================================================================ */

/* 3CosMul as gensim most_similar_cosmul: terms are get_vector(word, norm=True) (not made unit again), each
 * row's p = (1 + dot(row, term) / norm(row)) / 2; score = the product of the positive terms' p (in order, float32)
 * over (the product of the negative terms' p + 1e-6), where an empty product is 1 and the divisor is then the
 * float32 of 1.000001 (numpy's float64 scalar meeting a float32 array). */
static ev_status cosmul_topk(const store *s, const long *rows, const float *weights, size_t n, size_t k,
                             size_t restrict_n, int naive, sim_hit *out, ev_error *err)
{
    size_t d = store_dim(s), R = sim_rows_considered(s, restrict_n), B = 16384;
    float *U = malloc(n * d * sizeof *U + 1), *Y = n <= SIZE_MAX / sizeof *Y / B ? malloc(n * B * sizeof *Y) : NULL;
    if (!U || !Y) {
        free(U);
        free(Y);
        return ev_fail(err, EV_ERR_NOMEM, "most similar (3CosMul): out of memory for %zu words", n);
    }
    int any_neg = 0;
    for (size_t t = 0; t < n; t++) {
        sim_row_unit(s, (size_t)rows[t], U + t * d);
        any_neg |= weights[t] < 0;
    }
    topk_heap h = {out, 0, k};
    const float *X = store_vectors(s);
    for (size_t lo = 0; lo < R; lo += B) {
        size_t nb = R - lo < B ? R - lo : B;
        for (size_t t = 0; t < n; t++) {
            if (!naive) {
                cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)nb, (int)d, 1.f, X + lo * d, (int)d, U + t * d, 1, 0.f,
                            Y + t * B, 1);
                continue;
            }
            for (size_t j = 0; j < nb; j++) {
                const float *x = X + (lo + j) * d;
                float acc = 0.f;
                for (size_t i = 0; i < d; i++) {
                    float p = U[t * d + i] * x[i];
                    acc += p;
                }
                Y[t * B + j] = acc;
            }
        }
        for (size_t j = 0; j < nb; j++) {
            long row = (long)(lo + j);
            if (is_excluded(rows, n, row))
                continue;
            float nrm = sim_norm(X + (lo + j) * d, d), num = 1.f, den = 1.f;
            int first_pos = 1, first_neg = 1;
            for (size_t t = 0; t < n; t++) {
                float p = (1.f + sim_cos_from_dot(Y[t * B + j], nrm)) / 2.f;
                if (weights[t] >= 0) {
                    num = first_pos ? p : num * p;
                    first_pos = 0;
                } else {
                    den = first_neg ? p : den * p;
                    first_neg = 0;
                }
            }
            den = any_neg ? den + 1e-6f : (float)1.000001;
            heap_offer(&h, row, num / den);
        }
    }
    heap_finish(&h);
    free(U);
    free(Y);
    return EV_OK;
}

static ev_status most_similar_impl(const store *s, const long *rows, const float *weights, size_t n,
                                   sim_method method, size_t k, size_t restrict_n, int naive, sim_hit *out,
                                   ev_error *err)
{
    size_t V = store_size(s), d = store_dim(s);
    if (k == 0)
        return ev_fail(err, EV_ERR_USAGE, "most similar: expected k of at least 1, found 0");
    int any_pos = 0;
    for (size_t i = 0; i < n; i++) {
        if (rows[i] < 0 || (size_t)rows[i] >= V)
            return ev_fail(err, EV_ERR_USAGE, "most similar: expected rows below %zu, found %ld", V, rows[i]);
        any_pos |= weights[i] > 0;
    }
    if (n == 0 || (method == SIM_MUL && !any_pos))
        return ev_fail(err, EV_ERR_USAGE, "most similar: expected at least one %sword, found none",
                       n ? "positive " : "");
    if (method == SIM_MUL)
        return cosmul_topk(s, rows, weights, n, k, restrict_n, naive, out, err);
    float *q = malloc(d * sizeof *q + 1);
    if (!q)
        return ev_fail(err, EV_ERR_NOMEM, "most similar: out of memory");
    sim_mean_of_rows(s, rows, weights, n, q);
    ev_status st = (naive ? sim_topk_naive : sim_topk)(s, q, 1, k, restrict_n, rows, n, out, err);
    free(q);
    return st;
}

ev_status sim_most_similar(const store *s, const long *rows, const float *weights, size_t n, sim_method method,
                           size_t k, size_t restrict_n, sim_hit *out, ev_error *err)
{
    return most_similar_impl(s, rows, weights, n, method, k, restrict_n, 0, out, err);
}

ev_status sim_most_similar_naive(const store *s, const long *rows, const float *weights, size_t n, sim_method method,
                                 size_t k, size_t restrict_n, sim_hit *out, ev_error *err)
{
    return most_similar_impl(s, rows, weights, n, method, k, restrict_n, 1, out, err);
}

static ev_status analogy_impl(const store *s, long a, long b, long c, sim_method method, size_t k, size_t restrict_n,
                              int naive, sim_hit *out, ev_error *err)
{
    size_t V = store_size(s);
    if (k == 0)
        return ev_fail(err, EV_ERR_USAGE, "analogy: expected k of at least 1, found 0");
    if (a < 0 || b < 0 || c < 0 || (size_t)a >= V || (size_t)b >= V || (size_t)c >= V)
        return ev_fail(err, EV_ERR_USAGE, "analogy: expected rows below %zu, found %ld %ld %ld", V, a, b, c);
    long rows[3] = {b, c, a};
    float w[3] = {1.f, 1.f, -1.f};
    return most_similar_impl(s, rows, w, 3, method, k, restrict_n, naive, out, err);
}

ev_status sim_analogy(const store *s, long a, long b, long c, sim_method method, size_t k, size_t restrict_n,
                      sim_hit *out, ev_error *err)
{
    return analogy_impl(s, a, b, c, method, k, restrict_n, 0, out, err);
}

ev_status sim_analogy_naive(const store *s, long a, long b, long c, sim_method method, size_t k, size_t restrict_n,
                            sim_hit *out, ev_error *err)
{
    return analogy_impl(s, a, b, c, method, k, restrict_n, 1, out, err);
}

/* Python's comparison of the tuples (score, word) in sorted(…, reverse=True): 1 when i goes before j. */
static int centrality_before(const store *s, const long *rows, const float *scores, size_t i, size_t j)
{
    if (scores[i] != scores[j])
        return scores[i] > scores[j];
    size_t li, lj;
    const char *wi = store_word(s, (size_t)rows[i], &li), *wj = store_word(s, (size_t)rows[j], &lj);
    int c = memcmp(wi, wj, li < lj ? li : lj); /* UTF-8 byte order = code point order */
    if (c == 0 && li != lj)
        c = li < lj ? -1 : 1;
    if (c != 0)
        return c > 0;
    return i < j; /* equal tuples keep their order (a stable sort) */
}

ev_status sim_doesnt_match(const store *s, const long *rows, size_t n, float *scores, size_t *order, ev_error *err)
{
    size_t d = store_dim(s), V = store_size(s);
    if (n == 0)
        return ev_fail(err, EV_ERR_USAGE, "doesnt-match: expected at least one word, found none");
    if (n > INT_MAX || n > SIZE_MAX / (d + 1) / sizeof(float))
        return ev_fail(err, EV_ERR_USAGE, "doesnt-match: %zu words are too many", n);
    for (size_t i = 0; i < n; i++)
        if (rows[i] < 0 || (size_t)rows[i] >= V)
            return ev_fail(err, EV_ERR_USAGE, "doesnt-match: expected rows below %zu, found %ld", V, rows[i]);
    float *U = malloc(n * d * sizeof *U + 1), *mean = malloc(d * sizeof *mean + 1);
    if (!U || !mean) {
        free(U);
        free(mean);
        return ev_fail(err, EV_ERR_NOMEM, "doesnt-match: out of memory");
    }
    /* gensim rank_by_centrality: vectors = unit rows; mean = unitvec(sum(vectors) / n); dists = dot(vectors, mean) */
    for (size_t j = 0; j < d; j++)
        mean[j] = 0.f;
    for (size_t i = 0; i < n; i++) {
        sim_row_unit(s, (size_t)rows[i], U + i * d);
        for (size_t j = 0; j < d; j++)
            mean[j] += U[i * d + j];
    }
    for (size_t j = 0; j < d; j++)
        mean[j] = mean[j] / (float)n;
    sim_unitvec(mean, d, mean);
    cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)d, 1.f, U, (int)d, mean, 1, 0.f, scores, 1);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(scores[i]))
            scores[i] = 0.f;
        order[i] = i;
    }
    /* A stable merge sort, bottom-up (a word list from a file may hold 100,000 words: no insertion sort). U's
     * room is spare now (n*d >= n indices). */
    size_t *tmp = (size_t *)(void *)U, *a = order, *b = tmp;
    if (n * d * sizeof *U < n * sizeof *tmp) {
        free(U);
        free(mean);
        return ev_fail(err, EV_ERR_NOMEM, "doesnt-match: out of memory");
    }
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n, i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                b[k++] = centrality_before(s, rows, scores, a[j], a[i]) ? a[j++] : a[i++];
            while (i < mid)
                b[k++] = a[i++];
            while (j < hi)
                b[k++] = a[j++];
        }
        size_t *t = a;
        a = b;
        b = t;
    }
    if (a != order)
        memcpy(order, a, n * sizeof *order);
    free(U);
    free(mean);
    return EV_OK;
}
