/* search_internal.h — what search.c and search_lists.c share beyond include/search.h. */
#ifndef SEARCH_INTERNAL_H
#define SEARCH_INTERNAL_H

#include <math.h>

/* Cosine from a dot product with a unit query and the row's numpy norm; 0 for a zero (or non-finite) case. */
static inline float sim_cos_from_dot(float dot, float norm)
{
    if (!(norm > 0.f))
        return 0.f;
    float c = dot / norm;
    return isfinite(c) ? c : 0.f;
}

#endif
