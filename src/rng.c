/* rng — splitmix64 and the draws built on it (rng.h). */
#include "rng.h"

#include <math.h>

uint64_t rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

double rng_uniform(uint64_t *state) { return (double)(rng_next(state) >> 11) * 0x1.0p-53; }

size_t rng_below(uint64_t *state, size_t n) { return (size_t)(rng_uniform(state) * (double)n); }

void rng_xavier(float *w, size_t count, size_t fan_in, size_t fan_out, uint64_t *state)
{
    double bound = sqrt(6.0 / ((double)fan_in + (double)fan_out));
    for (size_t i = 0; i < count; i++)
        w[i] = (float)((2.0 * rng_uniform(state) - 1.0) * bound);
}
