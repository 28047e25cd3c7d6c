/* test_rand.h — the unit tests' deterministic random numbers: rng.h's uniforms and a sum-of-12 normal. One copy
 * per test program (static), seeded with the same constant so that each test draws the same sequence every run. */
#ifndef TEST_RAND_H
#define TEST_RAND_H

#include <stdint.h>

#include "rng.h"

static uint64_t rng_state = 20261125;

static inline double urand(void) { return rng_uniform(&rng_state); } /* [0, 1) */

static inline float nrand(void) /* ≈ N(0, 1) */
{
    double s = 0;
    for (int i = 0; i < 12; i++)
        s += urand();
    return (float)(s - 6.0);
}

#endif
