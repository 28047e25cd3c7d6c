/* head_ops — the small pieces both head objectives (head_model.c's masked-word task, head_context.c's context task)
 * compute the same way, as static inline functions: a dot product, row-major sgemm, a checked float allocation, one
 * attention row (softmax of its scores, the weighted sum of the values) and that row's backward pass. Each does its
 * arithmetic in a fixed order, so the objectives stay deterministic and their twins comparable.
 */
#ifndef HEAD_OPS_H
#define HEAD_OPS_H

#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Σ a[i]·b[i], float, in index order. */
static inline float head_dot(const float *a, const float *b, size_t n)
{
    float s = 0.0f;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* C (m, n) = alpha·op(A)·op(B) (+ C when acc), row-major; ta/tb: A is stored (k, m) / B is stored (n, k). */
static inline void head_gemm(int ta, int tb, size_t m, size_t n, size_t k, float alpha, const float *A, const float *B,
                             float *C, int acc)
{
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k,
                alpha, A, ta ? (int)m : (int)k, B, tb ? (int)k : (int)n, acc ? 1.0f : 0.0f, C, (int)n);
}

/* malloc of a·b floats (at least one); sets *bad on overflow or failure. */
static inline float *head_falloc(size_t a, size_t b, int *bad)
{
    if (b && a > SIZE_MAX / sizeof(float) / b) {
        *bad = 1;
        return NULL;
    }
    float *p = malloc((a * b > 0 ? a * b : 1) * sizeof(float));
    if (!p)
        *bad = 1;
    return p;
}

/* One attention row over n keys: a (n) holds the scores, -INFINITY for a key not allowed, and mx their maximum
 * (some key allowed). a becomes the weights (softmax subtracting mx; exactly 0 where not allowed) and h (dk) the
 * weighted sum of the value rows V + j·dk. */
static inline void head_attn_row(float *a, size_t n, float mx, const float *V, size_t dk, float *h)
{
    float sum = 0.0f;
    for (size_t j = 0; j < n; j++) {
        a[j] = a[j] == -INFINITY ? 0.0f : expf(a[j] - mx);
        sum += a[j];
    }
    float inv = 1.0f / sum;
    memset(h, 0, dk * sizeof *h);
    for (size_t j = 0; j < n; j++) {
        a[j] *= inv;
        if (a[j] == 0.0f)
            continue;
        const float *v = V + j * dk;
        for (size_t k = 0; k < dk; k++)
            h[k] += a[j] * v[k];
    }
}

/* The backward pass of one attention row (weights a (n), query q (dk), keys K and values V (n, dk) from row 0 of
 * the sentence), given dh = d loss / d h (dk): dA_j = dh·v_j, dV_j += a_j·dh, and through the softmax
 * dS_j = a_j·(dA_j − Σ a·dA)·scale, dq += dS_j·k_j, dK_j += dS_j·q. dA: scratch of n floats. Keys with a_j = 0
 * (not allowed, or underflowed) contribute nothing. */
static inline void head_attn_row_back(const float *a, size_t n, const float *dh, const float *q, const float *K,
                                      const float *V, size_t dk, float scale, float *dq, float *dK, float *dV,
                                      float *dA)
{
    float adA = 0.0f;
    for (size_t j = 0; j < n; j++) {
        if (a[j] == 0.0f) {
            dA[j] = 0.0f;
            continue;
        }
        float *dv = dV + j * dk;
        dA[j] = head_dot(dh, V + j * dk, dk);
        adA += a[j] * dA[j];
        for (size_t k = 0; k < dk; k++)
            dv[k] += a[j] * dh[k];
    }
    for (size_t j = 0; j < n; j++) {
        if (a[j] == 0.0f)
            continue;
        float ds = a[j] * (dA[j] - adA) * scale;
        const float *k_ = K + j * dk;
        float *dkr = dK + j * dk;
        for (size_t k = 0; k < dk; k++) {
            dq[k] += ds * k_[k];
            dkr[k] += ds * q[k];
        }
    }
}

#endif
