/* fixture_floats.h — reading the text fixtures that scripts/make-*-fixture(s).py write for the unit tests: a block
 * is a label (one word) followed by its float values, separated by blanks. */
#ifndef FIXTURE_FLOATS_H
#define FIXTURE_FLOATS_H

#include <stdio.h>
#include <string.h>

/* Reads the next block of f: 1 when its label is `label` and `count` floats follow into out (count), else 0. */
static inline int fixture_read_floats(FILE *f, const char *label, float *out, size_t count)
{
    char word[32];
    if (fscanf(f, "%31s", word) != 1 || strcmp(word, label) != 0)
        return 0;
    for (size_t i = 0; i < count; i++)
        if (fscanf(f, "%f", &out[i]) != 1)
            return 0;
    return 1;
}

#endif
