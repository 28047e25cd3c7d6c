/* test_stores.h — what the head tests share: in-memory stores of made-up words (named, "w0"…, or random), a
 * toy corpus whose second word of a pair is predictable only by attending to the first, and a byte comparison of
 * two files. One copy per test program (static); include after test_rand.h. */
#ifndef TEST_STORES_H
#define TEST_STORES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "test_rand.h"

/* A store of the V words words[i] with the (V, d) vectors vecs (copied). Exits on failure. */
static inline store *test_named_store(const char *const *words, const float *vecs, size_t V, size_t d)
{
    size_t bytes = 0;
    for (size_t i = 0; i < V; i++)
        bytes += strlen(words[i]) + 1;
    store_rows r = {.n = V, .dim = d, .vectors = malloc(V * d * sizeof(float)), .words = malloc(bytes ? bytes : 1),
                    .offsets = malloc((V + 1) * sizeof(size_t))};
    memcpy(r.vectors, vecs, V * d * sizeof(float));
    size_t off = 0;
    for (size_t i = 0; i < V; i++) {
        r.offsets[i] = off;
        memcpy(r.words + off, words[i], strlen(words[i]) + 1);
        off += strlen(words[i]) + 1;
    }
    r.offsets[V] = off;
    store *s = NULL;
    ev_error err = {0};
    if (store_from_rows(&r, "test", "test", NULL, &s, &err) != EV_OK) {
        fprintf(stderr, "store_from_rows: %s\n", err.msg);
        exit(1);
    }
    return s;
}

/* A store of V words "{prefix}0" … with the (V, d) vectors vec (malloc'd; freed here). */
static inline store *test_words_store(size_t V, size_t d, char prefix, float *vec)
{
    char **w = malloc(V * sizeof *w);
    for (size_t i = 0; i < V; i++) {
        w[i] = malloc(24);
        snprintf(w[i], 24, "%c%zu", prefix, i);
    }
    store *s = test_named_store((const char *const *)w, vec, V, d);
    for (size_t i = 0; i < V; i++)
        free(w[i]);
    free(w);
    free(vec);
    return s;
}

/* A store of V words "w0" … "w{V-1}" with N(0, sd²) vectors of dimension d. */
static inline store *test_make_store(size_t V, size_t d, float sd)
{
    float *vec = malloc(V * d * sizeof *vec);
    for (size_t i = 0; i < V * d; i++)
        vec[i] = sd * nrand();
    return test_words_store(V, d, 'w', vec);
}

/* Toy corpus: "w{a} w{f} w{f} w{a+20} w{f}" (or the pair the other way round) with filler words f in 40-49: the
 * word 20 after w{a} is predictable only by attending to w{a}. */
static inline void test_write_toy(const char *path, size_t lines)
{
    FILE *f = fopen(path, "wb");
    for (size_t i = 0; i < lines; i++) {
        int a = (int)(urand() * 20), f1 = 40 + (int)(urand() * 10), f2 = 40 + (int)(urand() * 10),
            f3 = 40 + (int)(urand() * 10);
        if (urand() < 0.5)
            fprintf(f, "w%d w%d w%d w%d w%d\n", a, f1, f2, a + 20, f3);
        else
            fprintf(f, "w%d w%d w%d w%d w%d\n", f1, a + 20, f2, f3, a);
    }
    fclose(f);
}

/* Whether files a and b have the same bytes (and both exist). */
static inline int test_same_bytes(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        int ca = fgetc(fa), cb = fgetc(fb);
        if (ca != cb)
            same = 0;
        if (ca == EOF || cb == EOF)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

#endif
