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

#endif
