/* test_rand.h — the unit tests' deterministic random numbers: splitmix64 uniforms and a sum-of-12 normal. One copy
 * per test program (static), seeded with the same constant so that each test draws the same sequence every run. */
#ifndef TEST_RAND_H
#define TEST_RAND_H

#include <stdint.h>

static uint64_t rng_state = 20261125;

static inline double urand(void) /* [0, 1) */
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (double)((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
}

static inline float nrand(void) /* ≈ N(0, 1) */
{
    double s = 0;
    for (int i = 0; i < 12; i++)
        s += urand();
    return (float)(s - 6.0);
}

#endif
