/* vec4 — four-float vectors (GCC/clang vector extensions: one SSE register on the x86-64 baseline) and the
 * vectorised exp of softmax rows, as static inline functions.
 *
 * exp(x) = 2^n · p(r), n = round(x·log2 e), r = x − n·ln 2 (two-part ln 2), p Cephes's degree-6 polynomial:
 * relative error < 2e-7 on [-87, 88]; exactly 0 below -87 (so exp(-inf) = 0), clamped above 88. Every lane, and
 * vec4_exp1 on one float, gives the same bits for the same input, so a softmax can put every logit through one exp.
 */
#ifndef VEC4_H
#define VEC4_H

#include <stdint.h>

typedef float vec4f __attribute__((vector_size(16)));
typedef int32_t vec4i __attribute__((vector_size(16)));
typedef float vec4f_u __attribute__((vector_size(16), aligned(4))); /* for unaligned loads and stores */

static inline vec4f vec4_splat(float x) { return (vec4f){x, x, x, x}; }

/* Lane by lane: a where mask is all ones, b where it is 0. */
static inline vec4f vec4_select(vec4i mask, vec4f a, vec4f b)
{
    return (vec4f)(((vec4i)a & mask) | ((vec4i)b & ~mask));
}

static inline vec4f vec4_max(vec4f a, vec4f b) { return vec4_select(a > b, a, b); }

static inline vec4f vec4_exp(vec4f x)
{
    vec4i under = x < vec4_splat(-87.0f);
    x = vec4_select(x > vec4_splat(88.0f), vec4_splat(88.0f), x);
    x = vec4_select(under, vec4_splat(-87.0f), x);
    vec4f fx = x * vec4_splat(1.44269504088896341f) + vec4_splat(0.5f);
    vec4f t = __builtin_convertvector(__builtin_convertvector(fx, vec4i), vec4f); /* truncation */
    t = vec4_select(t > fx, t - vec4_splat(1.0f), t);                            /* floor */
    vec4f r = x - t * vec4_splat(0.693359375f) + t * vec4_splat(2.12194440e-4f);
    vec4f p = vec4_splat(1.9875691500e-4f);
    p = p * r + vec4_splat(1.3981999507e-3f);
    p = p * r + vec4_splat(8.3334519073e-3f);
    p = p * r + vec4_splat(4.1665795894e-2f);
    p = p * r + vec4_splat(1.6666665459e-1f);
    p = p * r + vec4_splat(5.0000001201e-1f);
    p = p * r * r + r + vec4_splat(1.0f);
    vec4i e = (__builtin_convertvector(t, vec4i) + 127) << 23;
    return (vec4f)((vec4i)(p * (vec4f)e) & ~under);
}

/* vec4_exp of one float (a row's tail, the true class). */
static inline float vec4_exp1(float x)
{
    vec4f v = vec4_exp(vec4_splat(x));
    return v[0];
}

static inline float vec4_hsum(vec4f v) { return (v[0] + v[1]) + (v[2] + v[3]); }

static inline float vec4_hmax(vec4f v)
{
    float m = v[0];
    for (int i = 1; i < 4; i++)
        m = v[i] > m ? v[i] : m;
    return m;
}

#endif
