/* corpus — training and evaluation text for the heads: plain-text files read line by line, tokenized against the
 * vectors (tokenizer.h, with its fallbacks: n't → not, 're → are …) and kept as sentences of store rows.
 *
 * A line is cut into pieces of at most 4000 bytes (at a space when there is one) for the tokenizer, and its tokens
 * into sentences of at most CORPUS_MAX_LEN. A token without a vector — in wink's GloVe subset single letters (a, i),
 * 's, plain numbers — is a placeholder (row -1): its position is kept. A sentence with fewer than two tokens with a
 * vector is dropped (nothing in it can attend to anything).
 */
#ifndef CORPUS_H
#define CORPUS_H

#include <stddef.h>
#include <stdint.h>

#include "ev_error.h"
#include "store.h"

#define CORPUS_MAX_LEN 64 /* tokens per sentence: longer lines are cut into pieces of at most this */

typedef struct {
    size_t n_sent;        /* sentences: pieces of a line of at most CORPUS_MAX_LEN tokens with ≥ 2 known tokens */
    size_t n_tok;         /* tokens in them */
    size_t *start;        /* (n_sent + 1) token offset of each sentence */
    int32_t *row;         /* (n_tok) the token's store row; -1: a placeholder (no vector) */
    size_t n_lines;       /* non-empty lines read */
    size_t n_known;       /* tokens with a vector (in kept sentences) */
    size_t n_dropped;     /* tokens of pieces dropped for having fewer than 2 known tokens */
} corpus;

/* A run of whole sentences (of a corpus, or copied from one): what a training step or an evaluation pass takes. */
typedef struct {
    size_t n_sent;
    const size_t *start;  /* (n_sent + 1) token offsets, start[0] = 0; at most CORPUS_MAX_LEN per sentence */
    const int32_t *row;   /* (start[n_sent]) store rows, -1 = placeholder */
} corpus_batch;

/* Reads plain-text files (UTF-8, one sentence per line is best; any text works), tokenized against s, into *out
 * (released with corpus_free; nothing to release on failure). max_tokens > 0: stop after that many tokens.
 * Errors: EV_ERR_IO (cannot open/read, a directory), EV_ERR_FORMAT ("FILE:LINE: …" invalid UTF-8 or a NUL byte; a
 * corpus with no non-empty line), EV_ERR_NOTFOUND (no line has two words with vectors), EV_ERR_NOMEM. */
ev_status corpus_read(const store *s, const char *const *paths, size_t n_paths, size_t max_tokens, corpus *out,
                      ev_error *err);

/* Releases a corpus. NULL-safe, idempotent. */
void corpus_free(corpus *c);

#endif
