/* rng — the project's one random generator: splitmix64 (Steele, Lea & Flood 2014), portable and reproducible (the
 * same numbers on every platform, and in numpy: scripts/make-attention-fixtures.py), with the uniform draws built on
 * it. The state is a plain uint64_t owned by the caller: the seed.
 *
 *     x += 0x9e3779b97f4a7c15; z = x; z = (z ^ z>>30)·0xbf58476d1ce4e5b9; z = (z ^ z>>27)·0x94d049bb133111eb;
 *     z ^= z>>31   (the output);   u = (z >> 11)·2⁻⁵³ ∈ [0, 1)
 */
#ifndef RNG_H
#define RNG_H

#include <stddef.h>
#include <stdint.h>

/* The next 64 random bits; advances *state. */
uint64_t rng_next(uint64_t *state);

/* A uniform double in [0, 1): the top 53 bits of rng_next. */
double rng_uniform(uint64_t *state);

/* A uniform index in [0, n) (n ≥ 1): (size_t)(rng_uniform · n). */
size_t rng_below(uint64_t *state, size_t n);

/* Fills w (count floats) with Xavier-uniform values U(-b, b), b = √(6 / (fan_in + fan_out)), one rng_uniform each
 * in order: w[i] = (float)((2u - 1)·b), computed in double. */
void rng_xavier(float *w, size_t count, size_t fan_in, size_t fan_out, uint64_t *state);

#endif
