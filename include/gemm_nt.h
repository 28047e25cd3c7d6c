/* gemm_nt — the score tiles of the batched neighbour search: C (m × n) = A (m × k) · B (n × k)ᵀ, row-major.
 *
 * Every element is the sequential fused sum over k — fmaf(a[k-1], b[k-1], … fmaf(a[0], b[0], 0) …) — so the
 * result is the same bits on every machine: the AVX-512 and AVX2 kernels below and the plain-C twin agree
 * exactly (OpenBLAS's sgemm does not promise that: its bits depend on the kernel it picks for the CPU, and its AVX2
 * kernel is half as fast as AVX-512 where the CPU has it).
 */
#ifndef GEMM_NT_H
#define GEMM_NT_H

#include <stddef.h>
#include <stdint.h>

/* Floats of scratch gemm_nt and gemm_nt_lanes need for a given k (a packed panel of B, or A packed and a chunk of
 * results), to pass as pack (64-byte aligned). */
size_t gemm_nt_pack_floats(size_t k);

/* C[i*ldc + j] = Σ_t A[i*lda + t] · B[j*ldb + t], summed as described above. pack: gemm_nt_pack_floats(k) floats,
 * 64-byte aligned. Uses AVX-512 or AVX2+FMA when the CPU has them, else gemm_nt_naive. */
void gemm_nt(const float *A, size_t lda, const float *B, size_t ldb, float *C, size_t ldc, size_t m, size_t n,
             size_t k, float *pack);

/* The same sums with the rows of A in the lanes of a 16-wide tile, for the search of up to 16 queries: CT[j*16 + i]
 * = C[i][j] for i < m ≤ 16, j < n, and 0 in the lanes i ≥ m. On AVX-512 this is the small kernel's own layout (no
 * transposition into rows of C); elsewhere the row-layout kernels' results, transposed. -1 when m > 16. */
int gemm_nt_lanes(const float *A, size_t lda, const float *B, size_t ldb, float *CT, size_t m, size_t n, size_t k,
                  float *pack);

/* The plain-C twin: the same sums, element by element with fmaf. */
void gemm_nt_naive(const float *A, size_t lda, const float *B, size_t ldb, float *C, size_t ldc, size_t m, size_t n,
                   size_t k);

/* Which kernel gemm_nt runs here: "avx512", "avx2" or "c". */
const char *gemm_nt_kernel(void);

/* gemm_nt with a named kernel ("avx512", "avx2", "c"), for the tests: -1 when this CPU cannot run it. */
int gemm_nt_with(const char *kernel, const float *A, size_t lda, const float *B, size_t ldb, float *C, size_t ldc,
                 size_t m, size_t n, size_t k, float *pack);

/* gemm_nt_lanes with a named kernel, for the tests: -1 when this CPU cannot run it or m > 16. */
int gemm_nt_lanes_with(const char *kernel, const float *A, size_t lda, const float *B, size_t ldb, float *CT,
                       size_t m, size_t n, size_t k, float *pack);

/* The same sequential fused sums for n listed pairs of rows (each k floats): out[j] = Σ_t a[j][t] b[j][t], to the bit
 * what gemm_nt and gemm_nt_naive give for that pair (scalar FMA instructions where the CPU has them, eight sums at
 * a time). */
void gemm_nt_dots(const float *const *a /*(n)*/, const float *const *b /*(n)*/, size_t n, size_t k, float *out /*(n)*/);

/* ---- an approximate product in bf16, the first pass of an exact search (CPU_SIMD_AVX512BF16) -------------------
 * Rows rounded to bf16 (8 significant bits) and multiplied with VDPBF16PS: twice the products per instruction of
 * the float kernel. Not the same bits as gemm_nt: a search uses it only to rule rows out, with the bound below,
 * and scores the rows it keeps with gemm_nt_dots. */

/* uint32_t words of one row of k values in bf16 pairs: (k + 1) / 2. */
size_t gemm_nt_bf16_words(size_t k);

/* Ab[i * kw + w] (kw = gemm_nt_bf16_words(k)): bf16 of A[i][2w] in the low half, of A[i][2w + 1] (0 past k) in the
 * high half, rounded to nearest even, magnitudes below FLT_MIN flushed to zero. */
void gemm_nt_bf16_round(const float *A, size_t lda, size_t m, size_t k, uint32_t *Ab /*(m, kw)*/);

/* C[i*ldc + j] ≈ Σ_t A[i][t] · B[j][t], from Ab (gemm_nt_bf16_round) and the rows of B rounded the same way. With
 * a = A_i, b = B_j, ã, b̃ the rounded rows and δa = a - ã, δb = b - b̃ (gemm_nt_bf16_error_norm gives ‖δa‖):
 *   |C[i][j] - Σ_t a_t b_t| ≤ ‖δa‖ ‖b‖ + ‖ã‖ ‖δb‖ + gemm_nt_bf16_sum_bound(k) ‖ã‖ ‖b̃‖ + gemm_nt_bf16_abs_bound(k, ‖a‖, ‖b‖)
 * for finite inputs below 1e30 in magnitude (‖ã‖ ≤ ‖a‖ + ‖δa‖; each ‖δ‖ ≤ 2^-8 of its row's norm). pack:
 * gemm_nt_pack_floats(k) floats, 64-byte aligned. berr[j]: at least ‖δb‖ of row j (a float rounded up). Returns
 * -1 (nothing written) unless this process runs CPU_SIMD_AVX512BF16. */
int gemm_nt_bf16(const uint32_t *Ab /*(m, kw)*/, size_t m, const float *B, size_t ldb, size_t n, size_t k, float *C,
                 size_t ldc, float *pack, float *berr /*(n)*/);

/* The plain-C twin of gemm_nt_bf16 (for the tests): the rounded values' products in float, summed pair by pair in
 * VDPBF16PS's documented order (the odd product, then the even one). Within the same bound of the exact sums. */
void gemm_nt_bf16_naive(const uint32_t *Ab /*(m, kw)*/, size_t m, const float *B, size_t ldb, size_t n, size_t k,
                        float *C, size_t ldc, float *berr /*(n)*/);

/* The terms of gemm_nt_bf16's bound (the derivation is in gemm_nt.c): ‖a - ã‖ for a row a (k) (rounded up, in
 * double), the relative error of the sum, and the absolute one (the flushes of values below FLT_MIN). */
double gemm_nt_bf16_error_norm(const float *a /*(k)*/, size_t k);
double gemm_nt_bf16_sum_bound(size_t k);
double gemm_nt_bf16_abs_bound(size_t k, double norm_a, double norm_b);

#endif
