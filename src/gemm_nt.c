#include "gemm_nt.h"

#include "cpu.h"

#include <math.h>
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

typedef enum { K_UNSET, K_C, K_AVX2, K_AVX512 } kernel_kind;

/* The widest kernel this process runs (cpu.h: the CPU's, capped by EMBVSATTN_SIMD). */
static kernel_kind pick(void)
{
#if CPU_X86
    switch (cpu_simd_level()) {
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
