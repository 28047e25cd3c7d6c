/* subword — fastText's character n-gram vectors: the n-grams of a word, their hashing into buckets, and the word
 * vectors fastText builds from them (Bojanowski et al. 2017; what `fasttext print-word-vectors` prints and gensim's
 * load_facebook_vectors gives).
 *
 * N-grams: the word is wrapped as "<" word ">" (bytes); for every start i that is not a UTF-8 continuation byte and
 * every length n = 1 … maxn counted in code points (a UTF-8 sequence is never cut), the n-gram of n code points
 * starting at i is taken when n ≥ minn, except a 1-gram at either end ("<" or ">" alone). Order: by start, then by
 * length, as fastText's Dictionary::computeSubwords.
 * Hash: FNV-1a 32-bit over the n-gram's bytes, each byte sign-extended first (fastText hashes int8_t(c), so a byte
 * ≥ 0x80 is XORed as 0xFFFFFF80 | c): h = 2166136261; h = (h ^ (uint32_t)(int8_t)c) · 16777619. The n-gram's row
 * is hash % bucket (unsigned) of the n-gram matrix (the rows of fastText's input matrix after its nwords word rows).
 * Vectors (float32, in fastText's order: the rows summed one after another, then multiplied by (float)(1.0 / count)):
 *   a word of the vocabulary: the mean of its own row and its n-grams' rows (none for "</s>", fastText's EOS);
 *   any other word: the mean of its n-grams' rows; zeros when it has none (a model without n-grams, maxn = 0).
 */
#ifndef SUBWORD_H
#define SUBWORD_H

#include <stddef.h>
#include <stdint.h>

#include "ev_error.h"

typedef struct {
    size_t dim;           /* values per row */
    size_t bucket;        /* rows of ngrams (≥ 1) */
    int minn, maxn;       /* n-gram lengths in code points (maxn 0: none) */
    const float *ngrams;  /* (bucket, dim) row-major */
    float *own;           /* the store's copy of ngrams to free, or NULL when borrowed (a cache's mapping) */
} subword_model;

/* A model over bucket × dim n-gram rows (copied when copy is 1, else borrowed: they must outlive the model).
 * EV_ERR_USAGE for dim or bucket 0, minn < 1 with maxn > 0, or maxn above SUBWORD_MAX_N; EV_ERR_NOMEM. */
#define SUBWORD_MAX_N 64
ev_status subword_new(size_t dim, size_t bucket, int minn, int maxn, const float *ngrams, int copy,
                      subword_model **out, ev_error *err);

/* Releases the model (and its own copy). NULL-safe. */
void subword_free(subword_model *m);

/* fastText's hash of the n bytes s (see above). */
uint32_t subword_hash(const char *s, size_t n);

/* The n-gram rows of the n bytes w (without "<" ">"), in order, into rows (room for cap; may be NULL with cap 0).
 * Returns how many there are (more than cap: only the first cap were written). */
size_t subword_rows(const subword_model *m, const char *w, size_t n, uint32_t *rows, size_t cap);

/* The word vector fastText gives the n bytes w into out (dim floats): word_row (dim floats) is the word's own row
 * when it is in the vocabulary (then "</s>" gets that row alone), NULL when it is not. Returns the number of rows
 * averaged (0: out is zeros). Never fails and allocates nothing. */
size_t subword_vector(const subword_model *m, const char *w, size_t n, const float *word_row, float *out);

/* The same sums in double, summed in the same order, then divided: the reference twin for tests. */
size_t subword_vector_naive(const subword_model *m, const char *w, size_t n, const float *word_row, float *out);

#endif
