/* eval_vocab — the words an evaluation asks about, as gensim's case-insensitive evaluations see them: each word
 * upper-cased (pytext_upper) to a key, and each key's row: the first of the considered rows whose upper-cased word is
 * the key (gensim's ok_vocab, which keeps the first, most frequent, of the words that upper-case alike), -1 when none.
 * Internal to the evaluations (eval_analogies.c, eval_pairs.c); users see eval_gensim.h.
 */
#ifndef EVAL_VOCAB_H
#define EVAL_VOCAB_H

#include <stddef.h>
#include <stdint.h>

#include "ev_error.h"
#include "store.h"

typedef struct {
    char **str;     /* (n) the keys, upper-cased, NUL-terminated */
    size_t *len;    /* (n) their lengths in bytes */
    long *row;      /* (n) each key's row once eval_vocab_resolve ran (-1: none), -1 before */
    size_t n, cap;
    uint32_t *slot; /* (mask + 1) open addressing over key index + 1 (0 = empty) */
    size_t mask;
} eval_vocab;

/* Adds the key of the word w[0..n) as written (its str.upper()) unless it is there: returns the key's index, or -1
 * when out of memory. v starts zeroed ({0}). */
long eval_vocab_add(eval_vocab *v, const char *w, size_t n);

/* gensim's ok_vocab for the keys: scans the first R rows of s in order, upper-casing each word; the first row whose
 * upper-case form is a key becomes that key's row. Errors: EV_ERR_NOMEM. */
ev_status eval_vocab_resolve(eval_vocab *v, const store *s, size_t R, ev_error *err);

/* 1 when the upper-cased word of row `row` of s is key i, else 0 (also when out of memory). */
int eval_vocab_row_is(const eval_vocab *v, const store *s, long row, long i);

/* Releases the keys and zeroes v. NULL-safe. */
void eval_vocab_free(eval_vocab *v);

#endif
