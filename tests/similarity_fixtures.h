/* similarity_fixtures.h — what the search, eval_gensim and pytext unit tests share: the reference fixtures gensim
 * wrote into tests/fixtures/similarity (scripts/make-similarity-fixtures.py) and the loaders of the store and the
 * expected figures. Include after check.h. */
#ifndef SIMILARITY_FIXTURES_H
#define SIMILARITY_FIXTURES_H

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "loader.h"

#define FIX "tests/fixtures/similarity/"

/* Bounds against the committed gensim fixtures (scripts/make-similarity-fixtures.py). gensim's cosines are numpy
 * float32 dot products, i.e. OpenBLAS's sdot/sgemv, whose summation order depends on the kernel OpenBLAS picks for
 * the CPU (Haswell, SkylakeX, Sandybridge, Prescott…): the same scores differ between machines in their last bits
 * (seen: up to 3e-8). Where this suite computes the same thing as gensim with the same OpenBLAS it matches it to the
 * bit on that machine (the integration tier compares with gensim run live); against fixtures written on another
 * machine it uses these bounds: 1e-6 on a cosine (a few ulps of float32), 1e-7 on a Pearson/Spearman coefficient
 * (the correlations of such scores moved by up to 7e-9). Counts, rankings and words stay exact. */
#define SCORE_TOL 1e-6
#define CORR_TOL 1e-7
static inline int blas_close(double got, double want) { return fabs(got - want) <= SCORE_TOL * (1 + fabs(want)); }

/* The store of a vector file (a failed CHECK and NULL when it cannot be read). */
static inline store *load(const char *path)
{
    loader_opts lo = {0};
    store *s = NULL;
    ev_error err = {0};
    CHECK(loader_load(path, &lo, &s, &err) == EV_OK, "%s: %s", path, err.msg ? err.msg : "?");
    ev_error_clear(&err);
    return s;
}

/* The parsed JSON file at path, NULL when it cannot be read or parsed. */
static inline cJSON *load_json(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = buf ? fread(buf, 1, (size_t)n, f) : 0;
    fclose(f);
    cJSON *j = NULL;
    if (buf && got == (size_t)n) {
        buf[n] = '\0';
        j = cJSON_Parse(buf);
    }
    free(buf);
    return j;
}

/* A test program's set-up: makes the directory tmpdir (a mkdtemp template, changed in place; the process exits 1
 * when it cannot), and loads expected.json into *exp and, when s is not NULL, kv.bin into *s (a failed CHECK when
 * either is missing). Returns 1 when the fixtures are there, else 0. */
static inline int fixtures_open(char *tmpdir, cJSON **exp, store **s)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        exit(1);
    }
    *exp = load_json(FIX "expected.json");
    if (s)
        *s = load(FIX "kv.bin");
    int ok = *exp && (!s || *s);
    CHECK(ok, "missing fixtures in " FIX " (run scripts/make-similarity-fixtures.py)");
    return ok;
}

/* Releases what fixtures_open loaded (NULL-safe) and removes the (emptied) directory tmpdir. */
static inline void fixtures_close(char *tmpdir, cJSON *exp, store *s)
{
    store_close(s);
    cJSON_Delete(exp);
    rmdir(tmpdir);
}

#endif
