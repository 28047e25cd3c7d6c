/* test_gemm_nt — the score-tile product: every kernel this CPU runs (AVX-512, AVX2, C) equals the plain-C twin bit
 * for bit on edge shapes (rows and columns around the kernels' tile sizes and the switch between the AVX-512
 * kernels, k = 0, wider leading dimensions), the twin equals a double-precision product to float accuracy, and
 * OpenBLAS's sgemm agrees to the same accuracy. The lanes layout (gemm_nt_lanes, m ≤ 16) holds the same bits.
 * The bf16 first pass (gemm_nt_bf16, where the CPU has AVX512-BF16, and its twin): within its stated bound of the
 * exact products on hard values, its rounding-error norms above the true ones, and gemm_nt_dots the twin's bits. */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gemm_nt.h"
#include "test_rand.h"

static float *fill(size_t n)
{
    float *v = malloc((n ? n : 1) * sizeof *v);
    if (!v) {
        fprintf(stderr, "test_gemm_nt: out of memory\n");
        exit(2);
    }
    for (size_t i = 0; i < n; i++) {
        double u = urand();
        v[i] = u < 0.05 ? 0.f : u < 0.07 ? 1e-40f : nrand(); /* zeros, subnormals, normals of both signs */
    }
    return v;
}

/* The lanes layout (m ≤ 16): CT[j*16 + i] is the twin's C[i][j], bit for bit, and the lanes i ≥ m are 0. */
static void lanes_shape(const float *A, size_t lda, const float *B, size_t ldb, const float *want, size_t ldc,
                        size_t m, size_t n, size_t k, float *pack, const char *const *kernels, int nk)
{
    float *ct = malloc((n ? n : 1) * 16 * sizeof *ct);
    if (!ct) {
        fprintf(stderr, "test_gemm_nt: out of memory\n");
        exit(2);
    }
    for (int q = 0; q <= nk; q++) { /* each kernel, then gemm_nt_lanes's own pick */
        for (size_t j = 0; j < n * 16; j++)
            ct[j] = NAN;
        int rc = q < nk ? gemm_nt_lanes_with(kernels[q], A, lda, B, ldb, ct, m, n, k, pack)
                        : gemm_nt_lanes(A, lda, B, ldb, ct, m, n, k, pack);
        const char *name = q < nk ? kernels[q] : "gemm_nt_lanes";
        if (m > 16) {
            CHECK(rc == -1, "%s: expected -1 for m=%zu > 16, found %d", name, m, rc);
            continue;
        }
        CHECK(rc == 0, "%s refused m=%zu", name, m);
        size_t bad = 0;
        for (size_t j = 0; j < n; j++)
            for (size_t i = 0; i < 16; i++) {
                float w = i < m ? want[i * ldc + j] : 0.f;
                bad += memcmp(&ct[j * 16 + i], &w, sizeof w) != 0;
            }
        CHECK(bad == 0, "%s lanes: %zu elements differ from the twin at m=%zu n=%zu k=%zu", name, bad, m, n, k);
    }
    free(ct);
}

static void one_shape(size_t m, size_t n, size_t k, size_t pad, const char *const *kernels, int nk)
{
    size_t lda = k + pad, ldb = k + 2 * pad, ldc = n + pad;
    size_t cn = m * ldc;
    float *A = fill(m * lda), *B = fill(n * ldb), *want = fill(cn), *got = malloc((cn ? cn : 1) * sizeof *got);
    float *pack = aligned_alloc(64, (gemm_nt_pack_floats(k) * sizeof(float) + 63) & ~(size_t)63);
    if (!got || !pack) {
        fprintf(stderr, "test_gemm_nt: out of memory\n");
        exit(2);
    }
    gemm_nt_naive(A, lda, B, ldb, want, ldc, m, n, k);
    for (int q = 0; q < nk; q++) {
        memcpy(got, want, m * ldc * sizeof *got);
        for (size_t i = 0; i < m; i++) /* poison the elements the kernel must write; keep the padding */
            for (size_t j = 0; j < n; j++)
                got[i * ldc + j] = NAN;
        CHECK(gemm_nt_with(kernels[q], A, lda, B, ldb, got, ldc, m, n, k, pack) == 0, "%s refused", kernels[q]);
        CHECK(memcmp(got, want, m * ldc * sizeof *got) == 0, "%s differs from the twin at m=%zu n=%zu k=%zu pad=%zu",
              kernels[q], m, n, k, pad);
    }
    gemm_nt(A, lda, B, ldb, got, ldc, m, n, k, pack);
    CHECK(memcmp(got, want, m * ldc * sizeof *got) == 0, "gemm_nt differs from the twin at m=%zu n=%zu k=%zu", m, n,
          k);
    lanes_shape(A, lda, B, ldb, want, ldc, m, n, k, pack, kernels, nk);
    /* the twin is a product: against double precision, and OpenBLAS against it, to float accuracy */
    if (m && n && k) {
        float *blas = malloc(m * n * sizeof *blas);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)k, 1.f, A, (int)lda, B, (int)ldb,
                    0.f, blas, (int)n);
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < n; j++) {
                double exact = 0, mag = 0;
                for (size_t t = 0; t < k; t++) {
                    exact += (double)A[i * lda + t] * B[j * ldb + t];
                    mag += fabs((double)A[i * lda + t] * B[j * ldb + t]);
                }
                double tol = mag * (double)k * 6e-8 + 1e-30;
                CHECK(fabs(want[i * ldc + j] - exact) <= tol, "twin %g vs exact %g", (double)want[i * ldc + j], exact);
                CHECK(fabs(blas[i * n + j] - exact) <= tol, "sgemm %g vs exact %g", (double)blas[i * n + j], exact);
            }
        free(blas);
    }
    free(A);
    free(B);
    free(want);
    free(got);
    free(pack);
}

/* A value for the bf16 checks: normals of every scale the search meets, halfway cases of bf16 rounding (8 bits and
 * then exactly 0x8000 in the low half), subnormals, zeros. */
static float hard_value(void)
{
    double u = urand();
    float f = (float)nrand();
    if (u < 0.05)
        return 0.f;
    if (u < 0.1)
        return u < 0.075 ? 1e-40f : -3e-39f;
    if (u < 0.3) { /* a tie of bf16 rounding: low half 0x8000 */
        uint32_t b;
        memcpy(&b, &f, sizeof b);
        b = (b & 0xffff0000u) | 0x8000u;
        memcpy(&f, &b, sizeof b);
        return f;
    }
    if (u < 0.4)
        return f * 1e-30f;
    if (u < 0.5)
        return f * 1e20f;
    return f;
}

/* x rounded to 8 significant bits, to nearest even, magnitudes below FLT_MIN as 0: bf16 computed another way than
 * gemm_nt.c's (in double, by scaling). */
static double bf16_ref(float x)
{
    if (fabsf(x) < FLT_MIN)
        return 0;
    int e;
    frexp((double)x, &e); /* |x| in [2^(e-1), 2^e): 8 bits are steps of 2^(e-8) */
    double ulp = ldexp(1.0, e - 8);
    return nearbyint((double)x / ulp) * ulp;
}

/* gemm_nt_bf16 (when this CPU runs it) and its twin against the exact products in double, within the bound of
 * gemm_nt.h; the reported ‖δb‖ at least the true one and within 1e-4 of it; gemm_nt_dots equals gemm_nt_naive. */
static void bf16_shape(size_t m, size_t n, size_t k, size_t pad)
{
    size_t lda = k + pad, ldb = k + 2 * pad, kw = gemm_nt_bf16_words(k);
    float *A = malloc((m * lda + 1) * sizeof *A), *B = malloc((n * ldb + 1) * sizeof *B);
    float *C = malloc((m * n + 1) * sizeof *C), *Cn = malloc((m * n + 1) * sizeof *Cn);
    float *be = malloc((n + 1) * sizeof *be), *ben = malloc((n + 1) * sizeof *ben), *y = malloc((n + 1) * sizeof *y);
    uint32_t *Ab = malloc((m * kw + 1) * sizeof *Ab);
    const float **rows = malloc((n + 1) * sizeof *rows);
    float *pack = aligned_alloc(64, (gemm_nt_pack_floats(k) * sizeof(float) + 63) & ~(size_t)63);
    if (!A || !B || !C || !Cn || !be || !ben || !y || !Ab || !rows || !pack) {
        fprintf(stderr, "test_gemm_nt: out of memory\n");
        exit(2);
    }
    for (size_t i = 0; i < m * lda; i++)
        A[i] = hard_value();
    for (size_t i = 0; i < n * ldb; i++)
        B[i] = hard_value();
    for (size_t i = 0; i < m && k; i++) /* the scale of a unit query, as the search passes them */
        for (size_t t = 0; t < k; t++)
            A[i * lda + t] = fabsf(A[i * lda + t]) > 1e3f ? A[i * lda + t] * 1e-21f : A[i * lda + t];
    gemm_nt_bf16_round(A, lda, m, k, Ab);
    int hw = gemm_nt_bf16(Ab, m, B, ldb, n, k, C, n, pack, be) == 0;
    gemm_nt_bf16_naive(Ab, m, B, ldb, n, k, Cn, n, ben);
    size_t bad = 0, badn = 0, bade = 0;
    double worst = 0; /* the largest error seen, as a fraction of the bound */
    for (size_t j = 0; j < n; j++) {
        double nb = 0, eb = 0;
        for (size_t t = 0; t < k; t++) {
            double x = B[j * ldb + t], r = x - bf16_ref(B[j * ldb + t]);
            nb += x * x;
            eb += r * r;
        }
        nb = sqrt(nb);
        eb = sqrt(eb);
        bade += (hw && !(be[j] >= eb && be[j] <= eb * (1 + 1e-4) + 1e-37)) || !(ben[j] >= eb);
        for (size_t i = 0; i < m; i++) {
            double exact = 0, na = 0;
            for (size_t t = 0; t < k; t++) {
                exact += (double)A[i * lda + t] * B[j * ldb + t];
                na += (double)A[i * lda + t] * A[i * lda + t];
            }
            na = sqrt(na);
            double ea = 0, eb2 = eb;
            for (size_t t = 0; t < k; t++) {
                double r = (double)A[i * lda + t] - bf16_ref(A[i * lda + t]);
                ea += r * r;
            }
            ea = sqrt(ea);
            double bound = ea * nb + (na + ea) * eb2 + gemm_nt_bf16_sum_bound(k) * (na + ea) * (nb + eb2) +
                           gemm_nt_bf16_abs_bound(k, na, nb);
            /* the double sum itself: k roundings of double on terms at most na nb */
            bound += (double)k * 1.2e-16 * na * nb;
            if (hw) {
                bad += !(fabs(C[i * n + j] - exact) <= bound);
                if (bound > 0 && fabs(C[i * n + j] - exact) / bound > worst)
                    worst = fabs(C[i * n + j] - exact) / bound;
            }
            badn += !(fabs(Cn[i * n + j] - exact) <= bound);
        }
    }
    CHECK(bad == 0, "gemm_nt_bf16: %zu of %zu products outside the bound at m=%zu n=%zu k=%zu", bad, m * n, m, n, k);
    CHECK(badn == 0, "gemm_nt_bf16_naive: %zu of %zu products outside the bound at m=%zu n=%zu k=%zu", badn, m * n, m,
          n, k);
    CHECK(bade == 0, "gemm_nt_bf16: %zu rows' rounding-error norms below the true ones at n=%zu k=%zu", bade, n, k);
    CHECK(!hw || worst <= 1.0, "worst %g", worst);
    /* the exact re-scoring: the twin's bits */
    const float **as = malloc((n + 1) * sizeof *as);
    for (size_t i = 0; as && i < m && i < 3; i++) { /* pairs of row i + j (mod m) and row j */
        for (size_t j = 0; j < n; j++) {
            as[j] = A + (i + j) % m * lda;
            rows[j] = B + j * ldb;
            gemm_nt_naive(as[j], lda, rows[j], ldb, Cn + j, 1, 1, 1, k);
        }
        gemm_nt_dots(as, rows, n, k, y);
        CHECK(memcmp(y, Cn, n * sizeof *y) == 0, "gemm_nt_dots differs from the twin at n=%zu k=%zu", n, k);
    }
    free(as);
    free(A), free(B), free(C), free(Cn), free(be), free(ben), free(y), free(Ab), free(rows), free(pack);
}

int main(void)
{
    const char *all[] = {"avx512", "avx2", "c"}, *run[3];
    int nk = 0;
    float probe_a = 1.f, probe_b = 2.f, probe_c, probe_pack[64] __attribute__((aligned(64)));
    for (int q = 0; q < 3; q++) /* the kernels this CPU runs */
        if (gemm_nt_with(all[q], &probe_a, 1, &probe_b, 1, &probe_c, 1, 1, 1, 1, probe_pack) == 0)
            run[nk++] = all[q];
    CHECK(nk >= 1 && strcmp(run[nk - 1], "c") == 0, "the C kernel always runs");
    CHECK(strcmp(run[0], gemm_nt_kernel()) == 0, "gemm_nt picks the widest kernel (%s), found %s", run[0],
          gemm_nt_kernel());
    const size_t ms[] = {1, 2, 3, 4, 5, 11, 12, 13, 16, 17, 24, 25, 40}, ns[] = {1, 7, 15, 16, 17, 31, 32, 33, 64, 100};
    const size_t ks[] = {0, 1, 3, 16, 100, 257};
    for (size_t a = 0; a < sizeof ms / sizeof *ms; a++)
        for (size_t b = 0; b < sizeof ns / sizeof *ns; b++)
            for (size_t c = 0; c < sizeof ks / sizeof *ks; c++)
                one_shape(ms[a], ns[b], ks[c], (a + b + c) % 3 == 0 ? 3 : 0, run, nk);
    one_shape(1280, 256, 100, 0, run, nk); /* a --batch tile */
    one_shape(10, 600, 100, 1, run, nk);   /* few queries over more rows than the small kernel gathers at once */
    one_shape(16, 513, 37, 0, run, nk);
    for (size_t m = 97; m <= 108; m++) /* past the small kernel's range: the panel kernel's row remainders 1-12 */
        one_shape(m, 70, 17, m % 2, run, nk);
    const size_t bm[] = {1, 5, 12, 13, 25}, bn[] = {1, 16, 31, 32, 33, 70}, bk[] = {0, 1, 2, 15, 16, 31, 32, 33, 100, 301};
    for (size_t a = 0; a < sizeof bm / sizeof *bm; a++)
        for (size_t b = 0; b < sizeof bn / sizeof *bn; b++)
            for (size_t c = 0; c < sizeof bk / sizeof *bk; c++)
                bf16_shape(bm[a], bn[b], bk[c], (a + b + c) % 2);
    float probe_y;
    uint32_t probe_ab = 0;
    int bf16 = gemm_nt_bf16(&probe_ab, 1, &probe_b, 1, 1, 1, &probe_y, 1, probe_pack, &probe_c) == 0;
    printf("test_gemm_nt: kernels checked here:");
    for (int q = 0; q < nk; q++)
        printf(" %s", run[q]);
    printf("%s\n", bf16 ? " bf16" : " (bf16 first pass: this CPU or EMBVSATTN_SIMD does not run it; its twin checked)");
    return check_done("test_gemm_nt");
}
