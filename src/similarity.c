/* similarity — cosine top-k over the vector store, analogies, doesnt-match and the gensim-compatible evaluations.
 * See include/similarity.h for the contracts and the arithmetic (gensim 4.2 / numpy 1.24 float32) they follow.
 *
 * The Python-compatible text rules the evaluations need are in pytext.c.
 *
 * Layout of this file:
 *   2. gensim arithmetic: norms, unit vectors, mean query, similarity
 *   3. top-k selection (k-bounded heap) and sim_topk / sim_topk_naive
 *   4. analogy, doesnt-match
 *   5. evaluate_word_analogies (blocked sgemm + scan of three score rows per question, worker threads)
 *   6. evaluate_word_pairs (Pearson, Spearman)
 */
#define _POSIX_C_SOURCE 200809L
#include "similarity.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "gemm_nt.h"
#include "parallel.h"
#include "pytext.h"

#if CPU_X86
#include <immintrin.h>
#endif

/* Exactness note: gensim's arithmetic is reproduced with separately rounded float32 operations; this file must
 * not be compiled with floating-point contraction into FMA (-ffp-contract=off, the default of -std=c11). */

#define DEFAULT_RESTRICT 300000 /* gensim's restrict_vocab default for both evaluations */
#define STACK_DIM 512           /* vectors up to this dimension use stack buffers */

static size_t rows_considered(const store *s, size_t restrict_n)
{
    size_t V = store_size(s);
    return restrict_n == 0 || restrict_n > V ? V : restrict_n;
}

/* ==== 2. gensim arithmetic ================================================================================== */

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

/* gensim get_vector(key, norm=True): row / norm(row) in float32; a zero row stays zero (gensim: NaN). */
static void row_unit(const store *s, size_t row, float *out)
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

/* Cosine from a dot product with a unit query and the row's numpy norm; 0 for a zero (or non-finite) case. */
static float cos_from_dot(float dot, float norm)
{
    if (!(norm > 0.f))
        return 0.f;
    float c = dot / norm;
    return isfinite(c) ? c : 0.f;
}

/* ==== 3. top-k ============================================================================================== */

/* a is a worse answer than b: a lower score, or the same score and a higher row. */
static int hit_worse(sim_hit a, sim_hit b) { return a.score < b.score || (a.score == b.score && a.row > b.row); }

/* The k best answers so far as a binary heap with the worst on top (h[0]); h has room for k. */
typedef struct {
    sim_hit *h;
    size_t n, k;
} topk_heap;

static void heap_sift_down(sim_hit *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && hit_worse(h[l], h[w]))
            w = l;
        if (r < n && hit_worse(h[r], h[w]))
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
            if (!hit_worse(t->h[i], t->h[p]))
                break;
            sim_hit tmp = t->h[i];
            t->h[i] = t->h[p];
            t->h[p] = tmp;
            i = p;
        }
    } else if (hit_worse(t->h[0], x)) {
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

/* The filter of a block: inv[j] = 1 / (the store's norm of row lo + j), in float; NaN for rows whose norm is so
 * small or large that numpy's float32 norm may underflow or overflow where the store's did not (those always get
 * the exact treatment). Zero rows get 0: their cosine is 0 either way. */
/* The kernels this process runs (cpu.h): 2 AVX-512, 1 AVX2, 0 plain C (always 0 off x86). */
static int simd_level(void) { return (int)cpu_simd_level(); }

#if CPU_X86
/* The same, 16 rows at a time (the scalar division was 6 % of a search of 10 words); returns the rows done. */
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

static void block_inverse_norms(const store *s, size_t lo, size_t nb, float *inv /*(nb)*/)
{
    const float *sn = store_norms(s);
    size_t j = 0;
#if CPU_X86
    if (simd_level() == 2)
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

static candidate_fn pick_candidate_fn(void)
{
#if CPU_X86
    static const candidate_fn by_level[] = {next_candidate_c, next_candidate_avx2, next_candidate_avx512};
    return by_level[simd_level()];
#else
    return next_candidate_c;
#endif
}

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

static lanes_fn pick_lanes_fn(void)
{
#if CPU_X86
    static const lanes_fn by_level[] = {next_lanes_c, next_lanes_avx2, next_lanes_avx512};
    return by_level[simd_level()];
#else
    return next_lanes_c;
#endif
}

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
    float sc = cos_from_dot(y, norm);
    if (t->n == t->k && !hit_worse(t->h[0], (sim_hit){row, sc}))
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
    float *pack = m > 1 ? aligned_alloc(64, (gemm_nt_pack_floats(d) * sizeof *pack + 63) & ~(size_t)63) : NULL;
    if (!T || !inv || (m > 1 && !pack)) {
        w->nomem = 1;
        free(T);
        free(inv);
        free(pack);
        return;
    }
    while ((b = parallel_next(q)) < nblocks) {
        size_t lo = b * B, nb = w->R - lo < B ? w->R - lo : B;
        if (m == 1)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)nb, (int)d, 1.f, X + lo * d, (int)d, w->Q, 1, 0.f, T, 1);
        else if (w->lanes)
            for (size_t g = 0; g < groups; g++)
                gemm_nt_lanes(w->Q + g * 16 * d, d, X + lo * d, d, T + g * 16 * B, m - g * 16 < 16 ? m - g * 16 : 16,
                              nb, d, pack);
        else
            gemm_nt(w->Q, d, X + lo * d, d, T, nb, m, nb, d, pack);
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
    free(T);
    free(inv);
    free(pack);
}

ev_status sim_topk(const store *s, const float *queries, size_t m, size_t k, size_t restrict_n, const long *exclude,
                   size_t n_exclude, sim_hit *out, ev_error *err)
{
    size_t d = store_dim(s), R = rows_considered(s, restrict_n);
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
            nthreads = parallel_cores(8);
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
    ev_status st = EV_OK;
    if (!Q || !wk || !hits || !heaps) {
        st = ev_fail(err, EV_ERR_NOMEM, "top-k: out of memory for %zu queries", m);
        goto out;
    }
    if ((st = topk_prepare(s, queries, m, k, Q, err)) != EV_OK)
        goto out;
    candidate_fn cand = pick_candidate_fn();
    lanes_fn lanes_next = lanes ? pick_lanes_fn() : NULL;
    for (int t = 0; t < nthreads; t++) {
        wk[t] = (topk_worker){s, Q, m, k, R, B, exclude, n_exclude, cand, lanes_next, hits + (size_t)t * m * k,
                              heaps + (size_t)t * m, 0};
        for (size_t i = 0; i < m; i++)
            wk[t].heaps[i] = (topk_heap){wk[t].hits + i * k, 0, k};
    }
    int started = parallel_blocks(nthreads, (R + B - 1) / B, topk_worker_run, wk);
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
    free(wk);
    free(hits);
    free(heaps);
    return st;
}

ev_status sim_topk_naive(const store *s, const float *queries, size_t m, size_t k, size_t restrict_n,
                         const long *exclude, size_t n_exclude, sim_hit *out, ev_error *err)
{
    size_t d = store_dim(s), R = rows_considered(s, restrict_n);
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
            heap_offer(&t, (long)r, cos_from_dot(acc, sim_norm(x, d)));
        }
        heap_finish(&t);
    }
    free(Q);
    return st;
}

/* ==== 3b. neighbour lists stored in the cache ================================================================ */

/* How far the k-th listed score must lie above the list's last one for the list to answer a query alone. The lists
 * are scored by batched gemm_nt, a live search of one word by sgemv: the two differ by a few 1e-7, so a row left off
 * the list cannot overtake the k-th with this margin. */
#define LIST_MARGIN 1e-5f
#define LIST_BATCH 256 /* words per sim_topk pass while building the lists */

ev_status sim_neighbor_lists_build(const store *s, size_t n_words, size_t K, sim_progress_fn progress, void *ctx,
                                   int32_t **rows_out, float **scores_out, ev_error *err)
{
    size_t V = store_size(s), d = store_dim(s), n = n_words < V ? n_words : V;
    *rows_out = NULL;
    *scores_out = NULL;
    if (n == 0 || K == 0)
        return ev_fail(err, EV_ERR_USAGE, "neighbour lists: expected at least 1 word and 1 neighbour, found %zu and %zu",
                       n, K);
    if (V > (size_t)INT32_MAX || K > SIZE_MAX / sizeof(sim_hit) / LIST_BATCH || n > SIZE_MAX / sizeof(float) / K)
        return ev_fail(err, EV_ERR_NOMEM, "neighbour lists: %zu words × %zu neighbours are too many", n, K);
    float *Q = malloc(LIST_BATCH * d * sizeof *Q);
    long *ex = malloc(LIST_BATCH * sizeof *ex);
    sim_hit *h = malloc(LIST_BATCH * K * sizeof *h);
    int32_t *rows = malloc(n * K * sizeof *rows);
    float *scores = malloc(n * K * sizeof *scores);
    ev_status st = EV_OK;
    if (!Q || !ex || !h || !rows || !scores) {
        st = ev_fail(err, EV_ERR_NOMEM, "neighbour lists: out of memory for %zu words × %zu neighbours", n, K);
        goto out;
    }
    for (size_t lo = 0; lo < n; lo += LIST_BATCH) {
        size_t nb = n - lo < LIST_BATCH ? n - lo : LIST_BATCH;
        for (size_t i = 0; i < nb; i++) {
            ex[i] = (long)(lo + i);
            sim_word_query(s, ex[i], Q + i * d);
        }
        if ((st = sim_topk(s, Q, nb, K, 0, ex, 1, h, err)) != EV_OK)
            goto out;
        for (size_t i = 0; i < nb * K; i++) {
            rows[lo * K + i] = (int32_t)h[i].row;
            scores[lo * K + i] = h[i].score;
        }
        if (progress)
            progress(ctx, "neighbour lists", (double)(lo + nb) / (double)n);
    }
    *rows_out = rows;
    *scores_out = scores;
    rows = NULL;
    scores = NULL;
out:
    free(Q);
    free(ex);
    free(h);
    free(rows);
    free(scores);
    return st;
}

int sim_listed_neighbors(const store *s, long row, size_t k, size_t restrict_n, sim_hit *out)
{
    size_t K, V = store_size(s), d = store_dim(s), R = rows_considered(s, restrict_n);
    const int32_t *lr;
    const float *ls;
    size_t n = store_neighbor_lists(s, &K, &lr, &ls);
    if (row < 0 || (size_t)row >= n || k == 0 || k > K || d > INT_MAX || K > INT_MAX - 4)
        return 0;
    lr += (size_t)row * K;
    ls += (size_t)row * K;
    /* The candidates: the listed rows among the first R, in list order. A list that ends (-1) early must hold
     * every other row; a list that does not is trusted only if its k-th candidate clears its last entry. */
    size_t c = 0, kth = 0, listed = 0;
    for (; listed < K && lr[listed] >= 0; listed++) {
        int32_t r = lr[listed];
        if ((size_t)r >= V || r == row || !isfinite(ls[listed]) || (listed && ls[listed] > ls[listed - 1]))
            return 0; /* not a list of this store: let the caller search */
        if ((size_t)r < R && c++ < k)
            kth = listed;
    }
    if (listed < K ? listed != V - 1 : !(c >= k && ls[kth] - ls[K - 1] > LIST_MARGIN))
        return 0;
    /* Re-score the candidates as a live search of one word does (sgemv over rows gathered in groups of 4, each
     * row's dot with the unit query, divided by numpy's norm of the row), so that answers and scores are the
     * ones the matrix pass gives; then order them (score, then lower row). */
    size_t cp = (c + 3) & ~(size_t)3;
    float *G = calloc(cp * d + 2 * d + cp, sizeof *G);
    sim_hit *hit = malloc((c ? c : 1) * sizeof *hit);
    if (!G || !hit) {
        free(G);
        free(hit);
        return 0;
    }
    float *q = G + cp * d, *u = q + d, *y = u + d;
    for (size_t j = 0, i = 0; j < listed; j++)
        if ((size_t)lr[j] < R)
            memcpy(G + i++ * d, store_row(s, (size_t)lr[j]), d * sizeof *G);
    sim_word_query(s, row, q);
    sim_unitvec(q, d, u);
    if (cp)
        cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)cp, (int)d, 1.f, G, (int)d, u, 1, 0.f, y, 1);
    for (size_t j = 0, i = 0; j < listed; j++)
        if ((size_t)lr[j] < R) {
            sim_hit x = {lr[j], cos_from_dot(y[i], sim_norm(store_row(s, (size_t)lr[j]), d))};
            size_t p = i++;
            for (; p > 0 && hit_worse(hit[p - 1], x); p--)
                hit[p] = hit[p - 1];
            hit[p] = x;
        }
    for (size_t j = 0; j < k; j++)
        out[j] = j < c ? hit[j] : (sim_hit){-1, 0.f};
    free(G);
    free(hit);
    return 1;
}

/* ==== 4. analogies, doesnt-match ============================================================================ */

/* 3CosMul as gensim most_similar_cosmul: terms are get_vector(word, norm=True) (not made unit again), each
 * row's p = (1 + dot(row, term) / norm(row)) / 2, score = p_b · p_c / (p_a + 1e-6), all float32. */
static ev_status cosmul_topk(const store *s, long a, long b, long c, size_t k, size_t restrict_n, int naive,
                             sim_hit *out, ev_error *err)
{
    size_t d = store_dim(s), R = rows_considered(s, restrict_n), B = 16384;
    float *U = malloc(3 * d * sizeof *U + 1), *Y = malloc(3 * B * sizeof *Y);
    if (!U || !Y) {
        free(U);
        free(Y);
        return ev_fail(err, EV_ERR_NOMEM, "analogy: out of memory");
    }
    long terms[3] = {b, c, a}, ex[3] = {a, b, c};
    for (int t = 0; t < 3; t++)
        row_unit(s, (size_t)terms[t], U + t * d);
    topk_heap h = {out, 0, k};
    const float *X = store_vectors(s);
    for (size_t lo = 0; lo < R; lo += B) {
        size_t nb = R - lo < B ? R - lo : B;
        for (int t = 0; t < 3; t++) {
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
            if (is_excluded(ex, 3, row))
                continue;
            float n = sim_norm(X + (lo + j) * d, d);
            float pb = (1.f + cos_from_dot(Y[j], n)) / 2.f;
            float pc = (1.f + cos_from_dot(Y[B + j], n)) / 2.f;
            float pa = (1.f + cos_from_dot(Y[2 * B + j], n)) / 2.f;
            float num = pb * pc, den = pa + 1e-6f;
            heap_offer(&h, row, num / den);
        }
    }
    heap_finish(&h);
    free(U);
    free(Y);
    return EV_OK;
}

static ev_status analogy_impl(const store *s, long a, long b, long c, sim_method method, size_t k, size_t restrict_n,
                              int naive, sim_hit *out, ev_error *err)
{
    size_t V = store_size(s), d = store_dim(s);
    if (k == 0)
        return ev_fail(err, EV_ERR_USAGE, "analogy: expected k of at least 1, found 0");
    if (a < 0 || b < 0 || c < 0 || (size_t)a >= V || (size_t)b >= V || (size_t)c >= V)
        return ev_fail(err, EV_ERR_USAGE, "analogy: expected rows below %zu, found %ld %ld %ld", V, a, b, c);
    if (method == SIM_MUL)
        return cosmul_topk(s, a, b, c, k, restrict_n, naive, out, err);
    float *q = malloc(d * sizeof *q + 1);
    if (!q)
        return ev_fail(err, EV_ERR_NOMEM, "analogy: out of memory");
    long rows[3] = {b, c, a}, ex[3] = {a, b, c};
    float w[3] = {1.f, 1.f, -1.f};
    sim_mean_of_rows(s, rows, w, 3, q);
    ev_status st = (naive ? sim_topk_naive : sim_topk)(s, q, 1, k, restrict_n, ex, 3, out, err);
    free(q);
    return st;
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
        row_unit(s, (size_t)rows[i], U + i * d);
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
    for (size_t i = 1; i < n; i++) /* insertion sort: n is a handful of words */
        for (size_t j = i; j > 0 && centrality_before(s, rows, scores, order[j], order[j - 1]); j--) {
            size_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    free(U);
    free(mean);
    return EV_OK;
}

/* ==== 5. evaluate_word_analogies ============================================================================ */

#define EVAL_K 8          /* answers kept per question: gensim's top 5 and 3 more, to see near-ties */
#define EVAL_TILE 131072  /* floats in a score tile (distinct words × block rows): 512 KB, half of a 1 MB L2 */
#define EVAL_EPS 1e-5f    /* answers closer than this (in sums of cosines) are re-scored with gensim's arithmetic */

/* The distinct words of the questions, upper-cased as gensim compares them, and the row of each: the first of the
 * restricted rows whose upper-case form is the key (gensim's ok_vocab), -1 when none. */
typedef struct {
    char **str;
    size_t *len;
    long *row;
    size_t n, cap;
    uint32_t *slot; /* open addressing over key index + 1 (0 = empty) */
    size_t mask;
} keyset;

static void keyset_free(keyset *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->str[i]);
    free(k->str);
    free(k->len);
    free(k->row);
    free(k->slot);
    memset(k, 0, sizeof *k);
}

static long keyset_find(const keyset *k, const char *w, size_t n)
{
    if (!k->slot)
        return -1;
    for (size_t h = (size_t)store_hash(w, n) & k->mask;; h = (h + 1) & k->mask) {
        uint32_t e = k->slot[h];
        if (e == 0)
            return -1;
        if (k->len[e - 1] == n && memcmp(k->str[e - 1], w, n) == 0)
            return (long)(e - 1);
    }
}

/* The index of key w (added when new); -1 when out of memory. */
static long keyset_add(keyset *k, const char *w, size_t n)
{
    long f = keyset_find(k, w, n);
    if (f >= 0)
        return f;
    if (k->n + 1 > k->cap) {
        size_t cap = k->cap ? 2 * k->cap : 256;
        char **str = realloc(k->str, cap * sizeof *str);
        if (str)
            k->str = str;
        size_t *len = realloc(k->len, cap * sizeof *len);
        if (len)
            k->len = len;
        long *row = realloc(k->row, cap * sizeof *row);
        if (row)
            k->row = row;
        uint32_t *slot = calloc(2 * cap, sizeof *slot);
        if (!str || !len || !row || !slot || cap > UINT32_MAX / 2) {
            free(slot);
            return -1;
        }
        free(k->slot);
        k->slot = slot;
        k->mask = 2 * cap - 1;
        k->cap = cap;
        for (size_t i = 0; i < k->n; i++) {
            size_t h = (size_t)store_hash(k->str[i], k->len[i]) & k->mask;
            while (k->slot[h])
                h = (h + 1) & k->mask;
            k->slot[h] = (uint32_t)(i + 1);
        }
    }
    char *copy = malloc(n + 1);
    if (!copy)
        return -1;
    memcpy(copy, w, n);
    copy[n] = '\0';
    size_t h = (size_t)store_hash(w, n) & k->mask;
    while (k->slot[h])
        h = (h + 1) & k->mask;
    k->slot[h] = (uint32_t)(k->n + 1);
    k->str[k->n] = copy;
    k->len[k->n] = n;
    k->row[k->n] = -1;
    return (long)k->n++;
}

/* gensim's ok_vocab for the keys: scans the first R rows in order, upper-casing each word; the first row whose
 * upper-case form is a key becomes that key's row. */
static ev_status keyset_resolve(keyset *k, const store *s, size_t R, ev_error *err)
{
    size_t left = k->n;
    char buf[1024];
    for (size_t r = 0; r < R && left; r++) {
        size_t wl, ul;
        const char *w = store_word(s, r, &wl);
        char *big = NULL;
        ul = pytext_upper_into(w, wl, buf, sizeof buf);
        if (ul == (size_t)-1 && !(big = pytext_upper(w, wl, &ul)))
            return ev_fail(err, EV_ERR_NOMEM, "out of memory upper-casing the vocabulary");
        long id = keyset_find(k, big ? big : buf, ul);
        free(big);
        if (id >= 0 && k->row[id] < 0) {
            k->row[id] = (long)r;
            left--;
        }
    }
    return EV_OK;
}

/* 1 when upper(word of row) equals key i. */
static int row_is_key(const store *s, long row, const keyset *k, long i)
{
    size_t wl, ul;
    const char *w = store_word(s, (size_t)row, &wl);
    char buf[1024], *big = NULL;
    ul = pytext_upper_into(w, wl, buf, sizeof buf);
    if (ul == (size_t)-1 && !(big = pytext_upper(w, wl, &ul)))
        return 0;
    int eq = ul == k->len[i] && memcmp(big ? big : buf, k->str[i], ul) == 0;
    free(big);
    return eq;
}

typedef struct {
    uint32_t section;
    int32_t key[4]; /* a, b, c, expected */
} question;

/* Reads the questions file as gensim does (binary lines, strict UTF-8, ': ' sections, four words per question). */
static ev_status parse_analogies(const char *path, const char *buf, size_t len, keyset *keys, question **qs,
                                 size_t *nq, sim_analogy_eval *ev, ev_error *err)
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
            sim_section *ns = realloc(ev->sections, (ev->n_sections + 1) * sizeof *ns);
            if (!ns)
                return ev_fail(err, EV_ERR_NOMEM, "%s: out of memory", path);
            ev->sections = ns;
            sim_section *sec = &ev->sections[ev->n_sections];
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
                }
                question *q = &(*qs)[*nq];
                q->section = (uint32_t)(ev->n_sections - 1);
                for (int i = 0; i < 4; i++) {
                    size_t ul;
                    char *u = pytext_upper(f[i], fl[i], &ul);
                    long id = u ? keyset_add(keys, u, ul) : -1;
                    free(u);
                    if (id < 0)
                        return ev_fail(err, EV_ERR_NOMEM, "%s: out of memory", path);
                    q->key[i] = (int32_t)id;
                }
                (*nq)++;
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

/* ---- the scan kernels ----------------------------------------------------------------------------------------
 * One question, one tile block: score each of the n rows from three rows of the tile — (b + c) - a for 3CosAdd,
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

__attribute__((target("avx2"))) static inline float scan_add_avx2(const float *a, const float *b, const float *c, size_t n,
                                                            size_t lo, float fl, const long *ex, sim_hit *top)
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

__attribute__((target("avx2"))) static inline float scan_mul_avx2(const float *a, const float *b, const float *c, size_t n,
                                                            size_t lo, float fl, const long *ex, sim_hit *top)
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

__attribute__((target("avx512f"))) static inline float scan_add_avx512(const float *a, const float *b, const float *c,
                                                                 size_t n, size_t lo, float fl, const long *ex,
                                                                 sim_hit *top)
{
    __m512 f = _mm512_set1_ps(fl);
    size_t j = 0;
    for (; j + 32 <= n; j += 32) {
        __m512 s0 = _mm512_sub_ps(_mm512_add_ps(_mm512_loadu_ps(b + j), _mm512_loadu_ps(c + j)), _mm512_loadu_ps(a + j));
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

__attribute__((target("avx512f"))) static inline float scan_mul_avx512(const float *a, const float *b, const float *c,
                                                                 size_t n, size_t lo, float fl, const long *ex,
                                                                 sim_hit *top)
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
#if CPU_X86
    static const block_scan_fn add[] = {block_add_c, block_add_avx2, block_add_avx512};
    static const block_scan_fn mul[] = {block_mul_c, block_mul_avx2, block_mul_avx512};
    return (method == SIM_MUL ? mul : add)[simd_level()];
#else
    return method == SIM_MUL ? block_mul_c : block_add_c;
#endif
}

/* ---- the blocked pass: workers over ranges of the vocabulary ---------------------------------------------- */


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

/* gensim's choice among its top answers h (n ≤ 5, best first): the first whose upper-case form is none of the
 * inputs a, b, c; when all are, the last one looked at; -1 when n = 0. *eligible says whether one was found. */
static int pick_answer(const store *s, const sim_hit *h, size_t n, const keyset *k, const question *q, int *eligible)
{
    *eligible = 0;
    for (size_t i = 0; i < n; i++)
        if (!row_is_key(s, h[i].row, k, q->key[0]) && !row_is_key(s, h[i].row, k, q->key[1]) &&
            !row_is_key(s, h[i].row, k, q->key[2])) {
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

void sim_analogy_eval_free(sim_analogy_eval *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n_sections; i++)
        free(e->sections[i].name);
    free(e->sections);
    for (size_t i = 0; i < e->n_oov_words; i++)
        free(e->oov_words[i]);
    free(e->oov_words);
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
static ev_status select_questions(const keyset *keys, const question *qs, size_t nq, answer_set *a,
                                  sim_analogy_eval *ev, ev_error *err)
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
static ev_status blocked_pass(const store *s, size_t R, const sim_eval_opts *o, answer_set *a, ev_error *err)
{
    size_t d = store_dim(s), nW = a->nW, na = a->na;
    int nthreads = o->threads > 0 ? o->threads : parallel_cores(8);
    nthreads = nthreads > 8 ? 8 : nthreads;
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
        row_unit(s, (size_t)a->words[i], W + i * d);
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
            while (pos > 0 && hit_worse(h[pos - 1], x))
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
static ev_status decide_answers(const store *s, size_t R, sim_method method, const keyset *keys, const question *qs,
                                const answer_set *a, sim_analogy_eval *ev, ev_error *err)
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
        sim_section *sec = &ev->sections[q->section];
        sec->total++;
        sec->correct += p >= 0 && row_is_key(s, h[p].row, keys, q->key[3]);
    }
    free(mean);
    return st;
}

ev_status sim_eval_analogies(const store *s, const char *path, const sim_eval_opts *opts, sim_analogy_eval *out,
                             ev_error *err)
{
    sim_eval_opts o = opts ? *opts : (sim_eval_opts){0};
    size_t R = rows_considered(s, o.restrict_n ? o.restrict_n : DEFAULT_RESTRICT), len = 0, nq = 0;
    sim_analogy_eval ev = {.restrict_n = R};
    keyset keys = {0};
    answer_set a = {0};
    question *qs = NULL;
    char *buf = NULL;
    memset(out, 0, sizeof *out);
    ev_status st = pytext_read_file(path, &buf, &len, err);
    if (st == EV_OK)
        st = parse_analogies(path, buf, len, &keys, &qs, &nq, &ev, err);
    if (st == EV_OK)
        st = keyset_resolve(&keys, s, R, err);
    if (st == EV_OK)
        st = select_questions(&keys, qs, nq, &a, &ev, err);
#ifdef OPENBLAS_VERSION
    /* OpenBLAS single-threaded throughout: the workers are the threads; the re-scoring sgemv calls gain nothing
     * from waking its idle threads (and give the same bits with one thread) */
    int blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
#endif
    if (st == EV_OK && a.na > 0)
        st = blocked_pass(s, R, &o, &a, err);
    if (st == EV_OK)
        st = decide_answers(s, R, o.method, &keys, qs, &a, &ev, err);
#ifdef OPENBLAS_VERSION
    openblas_set_num_threads(blas_threads);
#endif
    if (st == EV_OK) {
        for (size_t i = 0; i < ev.n_sections; i++) {
            const sim_section *sec = &ev.sections[i];
            ev.correct += sec->correct;
            ev.total += sec->total;
            *(i < 5 ? &ev.sem_correct : &ev.syn_correct) += sec->correct;
            *(i < 5 ? &ev.sem_total : &ev.syn_total) += sec->total;
        }
        if (o.progress)
            o.progress(o.progress_ctx, "analogies", 1.0);
        *out = ev;
        memset(&ev, 0, sizeof ev);
    }
    sim_analogy_eval_free(&ev);
    answer_set_free(&a);
    keyset_free(&keys);
    free(qs);
    free(buf);
    return st;
}

/* ==== 6. evaluate_word_pairs ================================================================================ */

typedef struct {
    double v;
    size_t i;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->v != y->v)
        return x->v < y->v ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* scipy.stats.rankdata(x, 'average'): 1-based ranks, ties get the mean of their ranks. x has no NaN. */
static int average_ranks(const double *x, size_t n, double *rank)
{
    ranked *r = malloc(n * sizeof *r + 1);
    if (!r)
        return -1;
    for (size_t i = 0; i < n; i++)
        r[i] = (ranked){x[i], i};
    qsort(r, n, sizeof *r, cmp_ranked);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && r[j + 1].v == r[i].v)
            j++;
        double avg = (double)(i + j) / 2.0 + 1.0;
        for (size_t t = i; t <= j; t++)
            rank[r[t].i] = avg;
        i = j + 1;
    }
    free(r);
    return 0;
}

/* scipy.stats.pearsonr's r: NaN for fewer than 2 values, NaN input or a constant input. */
static double pearson_r(const double *x, const double *y, size_t n)
{
    if (n < 2)
        return NAN;
    int cx = 1, cy = 1;
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i]) || isnan(y[i]))
            return NAN;
        cx &= x[i] == x[0];
        cy &= y[i] == y[0];
    }
    if (cx || cy)
        return NAN;
    if (n == 2)
        return ((x[1] > x[0]) ? 1.0 : -1.0) * ((y[1] > y[0]) ? 1.0 : -1.0);
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; i++)
        mx += x[i], my += y[i];
    mx /= (double)n, my /= (double)n;
    double sxx = 0, syy = 0, sxy = 0;
    for (size_t i = 0; i < n; i++) {
        double a = x[i] - mx, b = y[i] - my;
        sxx += a * a, syy += b * b, sxy += a * b;
    }
    double r = sxy / (sqrt(sxx) * sqrt(syy));
    return r > 1.0 ? 1.0 : r < -1.0 ? -1.0 : r;
}

/* scipy.stats.spearmanr's rho: Pearson's r of the average ranks. */
static double spearman_rho(const double *x, const double *y, size_t n, int *nomem)
{
    if (n < 2)
        return NAN;
    for (size_t i = 0; i < n; i++)
        if (isnan(x[i]) || isnan(y[i]))
            return NAN;
    double *rx = malloc(2 * n * sizeof *rx);
    if (!rx || average_ranks(x, n, rx) || average_ranks(y, n, rx + n)) {
        free(rx);
        *nomem = 1;
        return NAN;
    }
    double r = pearson_r(rx, rx + n, n);
    free(rx);
    return r;
}

void sim_pairs_eval_free(sim_pairs_eval *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->oov; i++) {
        free(e->oov_pairs[i].a);
        free(e->oov_pairs[i].b);
    }
    free(e->oov_pairs);
    memset(e, 0, sizeof *e);
}

typedef struct {
    size_t line;
    long ka, kb;
    double gold;
    const char *a; /* the words as written, in the file buffer */
    size_t la;
    const char *b;
    size_t lb;
} pair_line;

static char *dup_bytes(const char *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

ev_status sim_eval_pairs(const store *s, const char *path, size_t restrict_n, sim_pairs_eval *out, ev_error *err)
{
    sim_pairs_eval ev = {0};
    keyset keys = {0};
    pair_line *pl = NULL;
    double *gold = NULL, *model = NULL;
    char *buf = NULL;
    size_t len = 0, np = 0, cap = 0, line = 0;
    memset(out, 0, sizeof *out);
    ev.restrict_n = rows_considered(s, restrict_n ? restrict_n : DEFAULT_RESTRICT);
    ev_status st = pytext_read_file(path, &buf, &len, err);
    if (st != EV_OK)
        return st;
    /* universal newlines: "\r\n", "\r" and "\n" end a line */
    for (const char *p = buf, *end = buf + len; p < end;) {
        const char *q = p;
        while (q < end && *q != '\n' && *q != '\r')
            q++;
        size_t n = (size_t)(q - p), term = q == end ? 0 : (*q == '\r' && q + 1 < end && q[1] == '\n') ? 2 : 1;
        const char *l = p;
        p = q + term;
        line++;
        if ((st = pytext_check_utf8(path, line, l, n, err)) != EV_OK)
            goto out;
        if (n && l[0] == '#')
            continue;
        if (n == 0)
            continue; /* gensim skips it as an invalid line; not worth reporting */
        const char *t1 = memchr(l, '\t', n), *t2 = t1 ? memchr(t1 + 1, '\t', (size_t)(l + n - t1 - 1)) : NULL;
        if (!t2 || memchr(t2 + 1, '\t', (size_t)(l + n - t2 - 1))) {
            ev.invalid++;
            continue;
        }
        size_t ul;
        char *us = pytext_upper(t2 + 1, (size_t)(l + n - t2 - 1), &ul);
        double g;
        if (!us) {
            st = ev_fail(err, EV_ERR_NOMEM, "%s: out of memory", path);
            goto out;
        }
        int bad = pytext_float(us, ul, &g);
        free(us);
        if (bad) {
            ev.invalid++;
            continue;
        }
        if (np == cap) {
            cap = cap ? 2 * cap : 1024;
            pair_line *npl = realloc(pl, cap * sizeof *npl);
            if (!npl) {
                st = ev_fail(err, EV_ERR_NOMEM, "%s: out of memory", path);
                goto out;
            }
            pl = npl;
        }
        pair_line *e = &pl[np++];
        *e = (pair_line){line, -1, -1, g, l, (size_t)(t1 - l), t1 + 1, (size_t)(t2 - t1 - 1)};
        char *ua = pytext_upper(e->a, e->la, &ul);
        e->ka = ua ? keyset_add(&keys, ua, ul) : -1;
        free(ua);
        char *ub = pytext_upper(e->b, e->lb, &ul);
        e->kb = ub ? keyset_add(&keys, ub, ul) : -1;
        free(ub);
        if (e->ka < 0 || e->kb < 0) {
            st = ev_fail(err, EV_ERR_NOMEM, "%s: out of memory", path);
            goto out;
        }
    }
    if ((st = keyset_resolve(&keys, s, ev.restrict_n, err)) != EV_OK)
        goto out;
    gold = malloc(np * sizeof *gold + 1);
    model = malloc(np * sizeof *model + 1);
    ev.oov_pairs = calloc(np + 1, sizeof *ev.oov_pairs);
    if (!gold || !model || !ev.oov_pairs) {
        st = ev_fail(err, EV_ERR_NOMEM, "%s: out of memory", path);
        goto out;
    }
    for (size_t i = 0; i < np; i++) {
        long ra = keys.row[pl[i].ka], rb = keys.row[pl[i].kb];
        if (ra < 0 || rb < 0) {
            sim_pair_oov *o = &ev.oov_pairs[ev.oov];
            o->line = pl[i].line;
            o->a = dup_bytes(pl[i].a, pl[i].la);
            o->b = dup_bytes(pl[i].b, pl[i].lb);
            ev.oov++;
            if (!o->a || !o->b) {
                st = ev_fail(err, EV_ERR_NOMEM, "%s: out of memory", path);
                goto out;
            }
            continue;
        }
        gold[ev.pairs] = pl[i].gold;
        model[ev.pairs] = (double)sim_similarity(s, (size_t)ra, (size_t)rb);
        ev.pairs++;
    }
    if (ev.pairs == 0) {
        st = ev.oov ? ev_fail(err, EV_ERR_NOTFOUND, "%s: every pair (%zu) has a word outside the first %zu words of the vectors",
                              path, ev.oov, ev.restrict_n)
                    : ev_fail(err, EV_ERR_FORMAT, "%s: expected lines WORD1<TAB>WORD2<TAB>SCORE, found none", path);
        goto out;
    }
    int nomem = 0;
    ev.pearson = pearson_r(gold, model, ev.pairs);
    ev.spearman = spearman_rho(gold, model, ev.pairs, &nomem);
    if (nomem) {
        st = ev_fail(err, EV_ERR_NOMEM, "%s: out of memory ranking %zu pairs", path, ev.pairs);
        goto out;
    }
    ev.oov_ratio = 100.0 * (double)ev.oov / (double)(ev.pairs + ev.oov);
    *out = ev;
    memset(&ev, 0, sizeof ev);
out:
    sim_pairs_eval_free(&ev);
    keyset_free(&keys);
    free(pl);
    free(gold);
    free(model);
    free(buf);
    return st;
}
