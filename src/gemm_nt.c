#include "gemm_nt.h"

#include "cpu.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__FAST_MATH__)
#error "gemm_nt.c must not be compiled with -ffast-math (the sums' order is the contract)"
#endif

#if CPU_X86
#include <immintrin.h>
#endif

/* Columns of B per packed panel: two vectors of the widest kernel. */
#define PANEL 32

/* Rows of B whose results the small-m kernel gathers before writing them out as rows of C. */
#define SMALL_CHUNK 256
/* Rows of A up to which gemm_nt runs the small kernel, 16 rows at a time (64 rows: 1.2× faster than panels; 128: slower). */
#define SMALL_MAX 96

size_t gemm_nt_pack_floats(size_t k) { return (k ? k : 1) * PANEL + SMALL_CHUNK * 16; }

void gemm_nt_naive(const float *A, size_t lda, const float *B, size_t ldb, float *C, size_t ldc, size_t m, size_t n,
                   size_t k)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            float acc = 0.f;
            for (size_t t = 0; t < k; t++)
                acc = fmaf(A[i * lda + t], B[j * ldb + t], acc);
            C[i * ldc + j] = acc;
        }
}

/* Packs columns [j0, j0 + w) of Bᵀ (rows j0… of B) into P[t * PANEL + jj], zeros beyond w: each k-step of a
 * kernel then loads its columns as whole vectors. */
static void pack_panel(const float *B, size_t ldb, size_t j0, size_t w, size_t k, float *P)
{
    for (size_t jj = 0; jj < PANEL; jj++) {
        if (jj < w) {
            const float *b = B + (j0 + jj) * ldb;
            for (size_t t = 0; t < k; t++)
                P[t * PANEL + jj] = b[t];
        } else {
            for (size_t t = 0; t < k; t++)
                P[t * PANEL + jj] = 0.f;
        }
    }
}

#if CPU_X86
/* The row loops unrolled completely, so that the accumulators are registers, not stack slots. */
#define UNROLL_ROWS _Pragma("GCC unroll 16")
/* The kernels: r (≤ MR) rows of A against one packed panel; accumulators start at 0 and take one FMA per t, in
 * order — the twin's sum. The row count is a constant in each instantiation, so the accumulators stay in
 * registers. Columns beyond w are computed on the panel's zeros and not stored. */
#define MR512 12
__attribute__((target("avx512f"), always_inline)) static inline void
micro512(const int r, const float *A, size_t lda, const float *P, size_t k, float *C, size_t ldc, __mmask16 m0,
         __mmask16 m1)
{
    __m512 c0[MR512], c1[MR512];
    UNROLL_ROWS
    for (int x = 0; x < r; x++)
        c0[x] = c1[x] = _mm512_setzero_ps();
    for (size_t t = 0; t < k; t++) {
        __m512 p0 = _mm512_load_ps(P + t * PANEL), p1 = _mm512_load_ps(P + t * PANEL + 16);
        UNROLL_ROWS
        for (int x = 0; x < r; x++) {
            __m512 a = _mm512_set1_ps(A[(size_t)x * lda + t]);
            c0[x] = _mm512_fmadd_ps(a, p0, c0[x]);
            c1[x] = _mm512_fmadd_ps(a, p1, c1[x]);
        }
    }
    UNROLL_ROWS
    for (int x = 0; x < r; x++) {
        _mm512_mask_storeu_ps(C + (size_t)x * ldc, m0, c0[x]);
        _mm512_mask_storeu_ps(C + (size_t)x * ldc + 16, m1, c1[x]);
    }
}

__attribute__((target("avx512f"))) static void gemm_avx512(const float *A, size_t lda, const float *B, size_t ldb,
                                                           float *C, size_t ldc, size_t m, size_t n, size_t k,
                                                           float *P)
{
    for (size_t j0 = 0; j0 < n; j0 += PANEL) {
        size_t w = n - j0 < PANEL ? n - j0 : PANEL;
        pack_panel(B, ldb, j0, w, k, P);
        __mmask16 m0 = (__mmask16)(w >= 16 ? 0xffffu : (1u << w) - 1);
        __mmask16 m1 = (__mmask16)(w >= 32 ? 0xffffu : w > 16 ? (1u << (w - 16)) - 1 : 0);
        for (size_t i0 = 0; i0 < m; i0 += MR512) {
            const float *a = A + i0 * lda;
            float *c = C + i0 * ldc + j0;
            switch (m - i0 < MR512 ? (int)(m - i0) : MR512) {
            case 12: micro512(12, a, lda, P, k, c, ldc, m0, m1); break;
            case 11: micro512(11, a, lda, P, k, c, ldc, m0, m1); break;
            case 10: micro512(10, a, lda, P, k, c, ldc, m0, m1); break;
            case 9: micro512(9, a, lda, P, k, c, ldc, m0, m1); break;
            case 8: micro512(8, a, lda, P, k, c, ldc, m0, m1); break;
            case 7: micro512(7, a, lda, P, k, c, ldc, m0, m1); break;
            case 6: micro512(6, a, lda, P, k, c, ldc, m0, m1); break;
            case 5: micro512(5, a, lda, P, k, c, ldc, m0, m1); break;
            case 4: micro512(4, a, lda, P, k, c, ldc, m0, m1); break;
            case 3: micro512(3, a, lda, P, k, c, ldc, m0, m1); break;
            case 2: micro512(2, a, lda, P, k, c, ldc, m0, m1); break;
            default: micro512(1, a, lda, P, k, c, ldc, m0, m1); break;
            }
        }
    }
}

/* Few rows of A (m ≤ 16 per call, the queries of a small batch): the lanes hold the m rows instead, A is packed once
 * (P[t * 16 + i] = A[i][t], zeros for i ≥ m) and each of NRS rows of B is broadcast in turn — no panel of B to pack,
 * which would cost more than the product when m is small. Each lane still sums its element in order over t. The
 * result is the tile with the rows of A in the lanes: CT[x * 16 + i] for row x of B.
 * Each step over t also fetches one cache line of the rows two groups ahead (NRS rows of ldb floats are ldb lines,
 * and ldb ≥ k; the rest after the loop): sixteen strided streams are more than the hardware prefetcher follows, and
 * spread over the loop the fetches cost less than a burst of them before it (10 queries over GloVe: the product
 * 1.4× faster). A prefetch past the end of B is harmless (it never faults and has no effect on the results). */
#define NRS 16
__attribute__((target("avx512f"), always_inline)) static inline void small512(const int r, const float *B, size_t ldb,
                                                                               const float *P, size_t k, float *CT)
{
    __m512 c[NRS];
    const char *ahead = (const char *)(B + 2 * NRS * ldb);
    UNROLL_ROWS
    for (int x = 0; x < r; x++)
        c[x] = _mm512_setzero_ps();
    for (size_t t = 0; t < k; t++) {
        __m512 q = _mm512_load_ps(P + t * 16);
        _mm_prefetch(ahead + t * 64, _MM_HINT_T0);
        UNROLL_ROWS
        for (int x = 0; x < r; x++)
            c[x] = _mm512_fmadd_ps(_mm512_set1_ps(B[(size_t)x * ldb + t]), q, c[x]);
    }
    for (size_t t = k; t < ldb; t++)
        _mm_prefetch(ahead + t * 64, _MM_HINT_T0);
    UNROLL_ROWS
    for (int x = 0; x < r; x++)
        _mm512_storeu_ps(CT + (size_t)x * 16, c[x]);
}

/* CT[j * 16 + i] for rows j < n of B, A packed in P. */
__attribute__((target("avx512f"))) static void small512_rows(const float *B, size_t ldb, const float *P, size_t k,
                                                             float *CT, size_t n)
{
    for (size_t j0 = 0; j0 < n; j0 += NRS) {
        const float *b = B + j0 * ldb;
        float *ct = CT + j0 * 16;
        switch (n - j0 < NRS ? (int)(n - j0) : NRS) {
        case 16: small512(16, b, ldb, P, k, ct); break;
        case 15: small512(15, b, ldb, P, k, ct); break;
        case 14: small512(14, b, ldb, P, k, ct); break;
        case 13: small512(13, b, ldb, P, k, ct); break;
        case 12: small512(12, b, ldb, P, k, ct); break;
        case 11: small512(11, b, ldb, P, k, ct); break;
        case 10: small512(10, b, ldb, P, k, ct); break;
        case 9: small512(9, b, ldb, P, k, ct); break;
        case 8: small512(8, b, ldb, P, k, ct); break;
        case 7: small512(7, b, ldb, P, k, ct); break;
        case 6: small512(6, b, ldb, P, k, ct); break;
        case 5: small512(5, b, ldb, P, k, ct); break;
        case 4: small512(4, b, ldb, P, k, ct); break;
        case 3: small512(3, b, ldb, P, k, ct); break;
        case 2: small512(2, b, ldb, P, k, ct); break;
        default: small512(1, b, ldb, P, k, ct); break;
        }
    }
}

/* P[t * 16 + i] = A[i][t], zeros for the lanes i ≥ m. */
static void pack_lanes(const float *A, size_t lda, size_t m, size_t k, float *P)
{
    for (size_t t = 0; t < k; t++)
        for (size_t i = 0; i < 16; i++)
            P[t * 16 + i] = i < m ? A[i * lda + t] : 0.f;
}

/* Row layout for gemm_nt: P is A packed, then room for SMALL_CHUNK results (16 lanes each), written out to C a chunk
 * at a time (scattering each lane straight into C's rows costs more than the product: its rows are far apart). */
__attribute__((target("avx512f"))) static void gemm_small512(const float *A, size_t lda, const float *B, size_t ldb,
                                                             float *C, size_t ldc, size_t m, size_t n, size_t k,
                                                             float *P)
{
    float *CT = P + (k ? k : 1) * 16; /* 64-byte aligned: k * 16 floats are */
    pack_lanes(A, lda, m, k, P);
    for (size_t c0 = 0; c0 < n; c0 += SMALL_CHUNK) {
        size_t cn = n - c0 < SMALL_CHUNK ? n - c0 : SMALL_CHUNK;
        small512_rows(B + c0 * ldb, ldb, P, k, CT, cn);
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < cn; j++)
                C[i * ldc + c0 + j] = CT[j * 16 + i];
    }
}

/* AVX2: four vectors of 8 columns per panel, MR256 rows (4 · 3 accumulators + 4 panel vectors + 1 broadcast). */
#define MR256 3
__attribute__((target("avx2,fma"), always_inline)) static inline void
micro256(const int r, const float *A, size_t lda, const float *P, size_t k, float *C, size_t ldc, size_t w)
{
    __m256 c[MR256][4];
    UNROLL_ROWS
    for (int x = 0; x < r; x++)
        UNROLL_ROWS
        for (int v = 0; v < 4; v++)
            c[x][v] = _mm256_setzero_ps();
    for (size_t t = 0; t < k; t++) {
        __m256 p[4];
        UNROLL_ROWS
        for (int v = 0; v < 4; v++)
            p[v] = _mm256_load_ps(P + t * PANEL + 8 * v);
        UNROLL_ROWS
        for (int x = 0; x < r; x++) {
            __m256 a = _mm256_set1_ps(A[(size_t)x * lda + t]);
            UNROLL_ROWS
            for (int v = 0; v < 4; v++)
                c[x][v] = _mm256_fmadd_ps(a, p[v], c[x][v]);
        }
    }
    UNROLL_ROWS
    for (int x = 0; x < r; x++) {
        if (w == PANEL) {
            for (int v = 0; v < 4; v++)
                _mm256_storeu_ps(C + (size_t)x * ldc + 8 * v, c[x][v]);
        } else {
            float tmp[PANEL];
            for (int v = 0; v < 4; v++)
                _mm256_storeu_ps(tmp + 8 * v, c[x][v]);
            memcpy(C + (size_t)x * ldc, tmp, w * sizeof *tmp);
        }
    }
}

__attribute__((target("avx2,fma"))) static void gemm_avx2(const float *A, size_t lda, const float *B, size_t ldb,
                                                          float *C, size_t ldc, size_t m, size_t n, size_t k,
                                                          float *P)
{
    for (size_t j0 = 0; j0 < n; j0 += PANEL) {
        size_t w = n - j0 < PANEL ? n - j0 : PANEL;
        pack_panel(B, ldb, j0, w, k, P);
        for (size_t i0 = 0; i0 < m; i0 += MR256) {
            const float *a = A + i0 * lda;
            float *c = C + i0 * ldc + j0;
            switch (m - i0 < MR256 ? (int)(m - i0) : MR256) {
            case 3: micro256(3, a, lda, P, k, c, ldc, w); break;
            case 2: micro256(2, a, lda, P, k, c, ldc, w); break;
            default: micro256(1, a, lda, P, k, c, ldc, w); break;
            }
        }
    }
}
#endif

/* ---- the bf16 first pass ------------------------------------------------------------------------------------ */

size_t gemm_nt_bf16_words(size_t k) { return (k + 1) / 2; }

/* bf16 of f, rounded to nearest even; magnitudes below FLT_MIN (and results that round below it) flushed to a signed
 * zero — what VCVTNE2PS2BF16 gives, and what VDPBF16PS does with such inputs anyway. f is finite or not: a NaN stays
 * a NaN. */
static uint16_t bf16_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7f800000u) == 0x7f800000u) /* inf or NaN: keep it (a NaN quiet) */
        return (uint16_t)(u >> 16 | ((u & 0x7fffffu) ? 0x40u : 0u));
    if ((u & 0x7f800000u) == 0)           /* zero or subnormal */
        return (uint16_t)(u >> 16 & 0x8000u);
    u += 0x7fffu + (u >> 16 & 1u);
    return (uint16_t)(u >> 16);
}

static float f32_of_bf16(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    if ((u & 0x7f800000u) == 0) /* a subnormal input counts as zero (VDPBF16PS's DAZ) */
        u &= 0x80000000u;
    memcpy(&f, &u, sizeof f);
    return f;
}

void gemm_nt_bf16_round(const float *A, size_t lda, size_t m, size_t k, uint32_t *Ab)
{
    size_t kw = gemm_nt_bf16_words(k);
    for (size_t i = 0; i < m; i++)
        for (size_t w = 0; w < kw; w++) {
            uint32_t lo = bf16_of(A[i * lda + 2 * w]), hi = 2 * w + 1 < k ? bf16_of(A[i * lda + 2 * w + 1]) : 0;
            Ab[i * kw + w] = lo | hi << 16;
        }
}

void gemm_nt_bf16_naive(const uint32_t *Ab, size_t m, const float *B, size_t ldb, size_t n, size_t k, float *C,
                        size_t ldc, float *berr)
{
    size_t kw = gemm_nt_bf16_words(k);
    for (size_t j = 0; j < n; j++)
        berr[j] = (float)(gemm_nt_bf16_error_norm(B + j * ldb, k) * (1.0 + 0x1p-22));
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            float acc = 0.f;
            for (size_t w = 0; w < kw; w++) {
                uint32_t a = Ab[i * kw + w];
                float b0 = f32_of_bf16(bf16_of(B[j * ldb + 2 * w]));
                float b1 = 2 * w + 1 < k ? f32_of_bf16(bf16_of(B[j * ldb + 2 * w + 1])) : 0.f;
                float p1 = f32_of_bf16((uint16_t)(a >> 16)) * b1, p0 = f32_of_bf16((uint16_t)a) * b0;
                acc += p1; /* VDPBF16PS's order: the odd product, then the even one */
                acc += p0;
            }
            C[i * ldc + j] = acc;
        }
}

/* The bound of gemm_nt_bf16: with ã, b̃ the rounded rows (as used: bf16_of, subnormals as zero),
 *   Σ ã_t b̃_t - Σ a_t b_t = Σ (ã_t - a_t) b_t + Σ ã_t (b̃_t - b_t), at most ‖δa‖ ‖b‖ + ‖ã‖ ‖δb‖ (Cauchy-Schwarz);
 * the products ã_t b̃_t are exact in float (8 by 8 significant bits) but for underflow, and the sum of them in any
 * order with at most 2k roundings of float (u = 2^-24) is within γ(2k) Σ|ã_t b̃_t| ≤ γ(2k) ‖ã‖ ‖b̃‖ of the exact
 * one, γ(n) = n u / (1 - n u) (Higham, Accuracy and Stability of Numerical Algorithms, §3.1). */
double gemm_nt_bf16_error_norm(const float *a, size_t k)
{
    double e = 0;
    for (size_t t = 0; t < k; t++) {
        double x = (double)a[t] - (double)f32_of_bf16(bf16_of(a[t]));
        e += x * x;
    }
    return sqrt(e) * (1.0 + 1e-12); /* k roundings of double: far below the factor */
}

double gemm_nt_bf16_sum_bound(size_t k)
{
    double u = ldexp(1.0, -24), n = 2.0 * (double)k;
    return n * u / (1.0 - n * u);
}

double gemm_nt_bf16_abs_bound(size_t k, double norm_a, double norm_b)
{
    /* Flushes: an input below FLT_MIN becomes 0 (at most FLT_MIN |other factor| each, and Σ|a_t| ≤ √k ‖a‖), a product
     * or partial sum below FLT_MIN becomes 0 (at most FLT_MIN each, 3k of them). Doubled for the roundings on top. */
    double fm = (double)FLT_MIN;
    return 2.0 * fm * (sqrt((double)k) * (norm_a + norm_b) * (1.0 + ldexp(1.0, -8)) + 3.0 * (double)k);
}

#if CPU_X86
/* Packs rows [j0, j0 + w) of B as bf16 pairs: P[tw * PANEL + jj] = the pair (t = 2 tw, 2 tw + 1) of row j0 + jj,
 * zeros beyond w and past k; berr[jj] = ‖δb‖ of each row, rounded up (below). */
__attribute__((target("avx512f,avx512bf16"))) static void pack_panel_bf16(const float *B, size_t ldb, size_t j0,
                                                                          size_t w, size_t k, uint32_t *P,
                                                                          float *berr)
{
    /* b - b̃ is exact in float (Sterbenz: b̃ within a factor 2 of b, or 0 when flushed); its squares and their sum
     * in double (no underflow for float differences) are within (k + 2) 2^-53 of the exact sum of squares */
    const double up = 1.0 + (double)(k + 4) * 0x1p-52 + 0x1p-22; /* and the rounding to float */
    size_t kw = gemm_nt_bf16_words(k);
    uint32_t row[16];
    for (size_t jj = 0; jj < PANEL; jj++) {
        if (jj >= w) {
            for (size_t t = 0; t < kw; t++)
                P[t * PANEL + jj] = 0;
            continue;
        }
        const float *b = B + (j0 + jj) * ldb;
        __m512d e2 = _mm512_setzero_pd();
        for (size_t t = 0; t < k; t += 32) {
            size_t r = k - t;
            __mmask16 m0 = (__mmask16)(r >= 16 ? 0xffffu : (1u << r) - 1u);
            __mmask16 m1 = (__mmask16)(r >= 32 ? 0xffffu : r > 16 ? (1u << (r - 16)) - 1u : 0u);
            __m512 v0 = _mm512_maskz_loadu_ps(m0, b + t), v1 = _mm512_maskz_loadu_ps(m1, b + t + 16);
            __m512i h = (__m512i)_mm512_cvtne2ps_pbh(v1, v0);
            _mm512_storeu_si512(row, h);
            size_t nw = r >= 32 ? 16 : (r + 1) / 2;
            for (size_t x = 0; x < nw; x++)
                P[(t / 2 + x) * PANEL + jj] = row[x];
            /* the rounded values as floats: the even bf16 (low halves) hold t, t+2, …; the odd ones t+1, t+3, … */
            __m512 r0 = _mm512_castsi512_ps(_mm512_slli_epi32(h, 16));
            __m512 r1 = _mm512_castsi512_ps(_mm512_and_si512(h, _mm512_set1_epi32((int)0xffff0000u)));
            __m512i ev = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
            __m512i od = _mm512_add_epi32(ev, _mm512_set1_epi32(1));
            __m512 x0 = _mm512_permutex2var_ps(v0, ev, v1), x1 = _mm512_permutex2var_ps(v0, od, v1);
            __m512 d0 = _mm512_sub_ps(x0, r0), d1 = _mm512_sub_ps(x1, r1);
            __m512d l0 = _mm512_cvtps_pd(_mm512_castps512_ps256(d0)), l1 = _mm512_cvtps_pd(_mm512_castps512_ps256(d1));
            __m512d h0 = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(d0), 1)));
            __m512d h1 = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(d1), 1)));
            e2 = _mm512_fmadd_pd(l0, l0, e2);
            e2 = _mm512_fmadd_pd(l1, l1, e2);
            e2 = _mm512_fmadd_pd(h0, h0, e2);
            e2 = _mm512_fmadd_pd(h1, h1, e2);
        }
        berr[jj] = (float)(sqrt(_mm512_reduce_add_pd(e2)) * up);
    }
}

/* r (≤ MR512) rows of A in bf16 pairs against one packed bf16 panel: the layout of micro512, a VDPBF16PS (two
 * products per lane) per pair of t. */
__attribute__((target("avx512f,avx512bf16"), always_inline)) static inline void
micro_bf16(const int r, const uint32_t *A, size_t kw, const uint32_t *P, float *C, size_t ldc, __mmask16 m0,
           __mmask16 m1)
{
    __m512 c0[MR512], c1[MR512];
    UNROLL_ROWS
    for (int x = 0; x < r; x++)
        c0[x] = c1[x] = _mm512_setzero_ps();
    for (size_t t = 0; t < kw; t++) {
        __m512bh p0 = (__m512bh)_mm512_load_si512(P + t * PANEL), p1 = (__m512bh)_mm512_load_si512(P + t * PANEL + 16);
        UNROLL_ROWS
        for (int x = 0; x < r; x++) {
            __m512bh a = (__m512bh)_mm512_set1_epi32((int)A[(size_t)x * kw + t]);
            c0[x] = _mm512_dpbf16_ps(c0[x], a, p0);
            c1[x] = _mm512_dpbf16_ps(c1[x], a, p1);
        }
    }
    UNROLL_ROWS
    for (int x = 0; x < r; x++) {
        _mm512_mask_storeu_ps(C + (size_t)x * ldc, m0, c0[x]);
        _mm512_mask_storeu_ps(C + (size_t)x * ldc + 16, m1, c1[x]);
    }
}

__attribute__((target("avx512f,avx512bf16"))) static void gemm_bf16_avx512(const uint32_t *Ab, size_t m,
                                                                           const float *B, size_t ldb, size_t n,
                                                                           size_t k, float *C, size_t ldc,
                                                                           uint32_t *P, float *berr)
{
    size_t kw = gemm_nt_bf16_words(k);
    for (size_t j0 = 0; j0 < n; j0 += PANEL) {
        size_t w = n - j0 < PANEL ? n - j0 : PANEL;
        pack_panel_bf16(B, ldb, j0, w, k, P, berr + j0);
        __mmask16 m0 = (__mmask16)(w >= 16 ? 0xffffu : (1u << w) - 1);
        __mmask16 m1 = (__mmask16)(w >= 32 ? 0xffffu : w > 16 ? (1u << (w - 16)) - 1 : 0);
        for (size_t i0 = 0; i0 < m; i0 += MR512) {
            const uint32_t *a = Ab + i0 * kw;
            float *c = C + i0 * ldc + j0;
            switch (m - i0 < MR512 ? (int)(m - i0) : MR512) {
            case 12: micro_bf16(12, a, kw, P, c, ldc, m0, m1); break;
            case 11: micro_bf16(11, a, kw, P, c, ldc, m0, m1); break;
            case 10: micro_bf16(10, a, kw, P, c, ldc, m0, m1); break;
            case 9: micro_bf16(9, a, kw, P, c, ldc, m0, m1); break;
            case 8: micro_bf16(8, a, kw, P, c, ldc, m0, m1); break;
            case 7: micro_bf16(7, a, kw, P, c, ldc, m0, m1); break;
            case 6: micro_bf16(6, a, kw, P, c, ldc, m0, m1); break;
            case 5: micro_bf16(5, a, kw, P, c, ldc, m0, m1); break;
            case 4: micro_bf16(4, a, kw, P, c, ldc, m0, m1); break;
            case 3: micro_bf16(3, a, kw, P, c, ldc, m0, m1); break;
            case 2: micro_bf16(2, a, kw, P, c, ldc, m0, m1); break;
            default: micro_bf16(1, a, kw, P, c, ldc, m0, m1); break;
            }
        }
    }
}
#endif

int gemm_nt_bf16(const uint32_t *Ab, size_t m, const float *B, size_t ldb, size_t n, size_t k, float *C, size_t ldc,
                 float *pack, float *berr)
{
#if CPU_X86
    if (cpu_simd_level() == CPU_SIMD_AVX512BF16) {
        gemm_bf16_avx512(Ab, m, B, ldb, n, k, C, ldc, (uint32_t *)(void *)pack, berr);
        return 0;
    }
#endif
    (void)Ab, (void)m, (void)B, (void)ldb, (void)n, (void)k, (void)C, (void)ldc, (void)pack, (void)berr;
    return -1;
}

/* ---- exact dot products of listed pairs of rows ------------------------------------------------------------- */

static void dots_c(const float *const *a, const float *const *b, size_t n, size_t k, float *out)
{
    for (size_t j = 0; j < n; j++) {
        float acc = 0.f;
        for (size_t t = 0; t < k; t++)
            acc = fmaf(a[j][t], b[j][t], acc);
        out[j] = acc;
    }
}

#if CPU_X86
/* Eight sums side by side, each the sequential fused sum (scalar FMA instructions: one rounding per step, as fmaf):
 * one sum alone waits on its FMA's latency at every step. */
__attribute__((target("avx2,fma"))) static void dots_fma(const float *const *a, const float *const *b, size_t n,
                                                         size_t k, float *out)
{
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        float s[8] = {0};
        for (size_t t = 0; t < k; t++) {
            _Pragma("GCC unroll 8") for (int x = 0; x < 8; x++) s[x] = __builtin_fmaf(a[j + x][t], b[j + x][t], s[x]);
        }
        memcpy(out + j, s, sizeof s);
    }
    for (; j < n; j++) {
        float s = 0.f;
        for (size_t t = 0; t < k; t++)
            s = __builtin_fmaf(a[j][t], b[j][t], s);
        out[j] = s;
    }
}
#endif

void gemm_nt_dots(const float *const *a, const float *const *b, size_t n, size_t k, float *out)
{
#if CPU_X86
    if (cpu_simd_level() >= CPU_SIMD_AVX2) {
        dots_fma(a, b, n, k, out);
        return;
    }
#endif
    dots_c(a, b, n, k, out);
}

typedef enum { K_UNSET, K_C, K_AVX2, K_AVX512 } kernel_kind;

/* The widest kernel this process runs (cpu.h: the CPU's, capped by EMBVSATTN_SIMD). */
static kernel_kind pick(void)
{
#if CPU_X86
    switch (cpu_simd_level()) {
    case CPU_SIMD_AVX512BF16:
    case CPU_SIMD_AVX512: return K_AVX512;
    case CPU_SIMD_AVX2: return K_AVX2;
    default: break;
    }
#endif
    return K_C;
}

const char *gemm_nt_kernel(void)
{
    kernel_kind k = pick();
    return k == K_AVX512 ? "avx512" : k == K_AVX2 ? "avx2" : "c";
}

static void run(kernel_kind kind, const float *A, size_t lda, const float *B, size_t ldb, float *C, size_t ldc,
                size_t m, size_t n, size_t k, float *pack)
{
    switch (kind) {
#if CPU_X86
    case K_AVX512:
        if (m <= SMALL_MAX) /* up to here, 16 queries at a time beat packing panels of B (measured) */
            for (size_t i0 = 0; i0 < m; i0 += 16)
                gemm_small512(A + i0 * lda, lda, B, ldb, C + i0 * ldc, ldc, m - i0 < 16 ? m - i0 : 16, n, k, pack);
        else
            gemm_avx512(A, lda, B, ldb, C, ldc, m, n, k, pack);
        return;
    case K_AVX2: gemm_avx2(A, lda, B, ldb, C, ldc, m, n, k, pack); return;
#endif
    default: (void)pack; gemm_nt_naive(A, lda, B, ldb, C, ldc, m, n, k); return;
    }
}

void gemm_nt(const float *A, size_t lda, const float *B, size_t ldb, float *C, size_t ldc, size_t m, size_t n,
             size_t k, float *pack)
{
    run(pick(), A, lda, B, ldb, C, ldc, m, n, k, pack);
}

static kernel_kind kind_named(const char *kernel)
{
    kernel_kind best = pick(), kind = strcmp(kernel, "avx512") == 0 ? K_AVX512
                                      : strcmp(kernel, "avx2") == 0 ? K_AVX2
                                      : strcmp(kernel, "c") == 0    ? K_C
                                                                    : K_UNSET;
    return kind > best ? K_UNSET : kind;
}

int gemm_nt_with(const char *kernel, const float *A, size_t lda, const float *B, size_t ldb, float *C, size_t ldc,
                 size_t m, size_t n, size_t k, float *pack)
{
    kernel_kind kind = kind_named(kernel);
    if (kind == K_UNSET)
        return -1;
    run(kind, A, lda, B, ldb, C, ldc, m, n, k, pack);
    return 0;
}

/* The lanes layout: the AVX-512 small kernel writes it directly; the others compute SMALL_CHUNK rows of B at a time
 * in the row layout, in the room after the pack's panel, and transpose them. */
static void run_lanes(kernel_kind kind, const float *A, size_t lda, const float *B, size_t ldb, float *CT, size_t m,
                      size_t n, size_t k, float *pack)
{
#if CPU_X86
    if (kind == K_AVX512) {
        pack_lanes(A, lda, m, k, pack);
        small512_rows(B, ldb, pack, k, CT, n);
        return;
    }
#endif
    float *tmp = pack + (k ? k : 1) * PANEL;
    for (size_t c0 = 0; c0 < n; c0 += SMALL_CHUNK) {
        size_t cn = n - c0 < SMALL_CHUNK ? n - c0 : SMALL_CHUNK;
        run(kind, A, lda, B + c0 * ldb, ldb, tmp, cn, m, cn, k, pack);
        for (size_t j = 0; j < cn; j++)
            for (size_t i = 0; i < 16; i++)
                CT[(c0 + j) * 16 + i] = i < m ? tmp[i * cn + j] : 0.f;
    }
}

int gemm_nt_lanes(const float *A, size_t lda, const float *B, size_t ldb, float *CT, size_t m, size_t n, size_t k,
                  float *pack)
{
    if (m > 16)
        return -1;
    run_lanes(pick(), A, lda, B, ldb, CT, m, n, k, pack);
    return 0;
}

int gemm_nt_lanes_with(const char *kernel, const float *A, size_t lda, const float *B, size_t ldb, float *CT,
                       size_t m, size_t n, size_t k, float *pack)
{
    kernel_kind kind = kind_named(kernel);
    if (kind == K_UNSET || m > 16)
        return -1;
    run_lanes(kind, A, lda, B, ldb, CT, m, n, k, pack);
    return 0;
}
