/* head_senses — the WordNet sense evaluation of vectors in context (`embvsattn eval senses`).
 *
 * The sense file (scripts/corpus.py writes ~/.cache/embvsattn/senses.tsv), UTF-8, one record a line:
 *     G<TAB>WORD<TAB>SENSE<TAB>DEFINITION   a sense of WORD (a synset id) and its gloss
 *     E<TAB>WORD<TAB>SENSE<TAB>EXAMPLE      an example sentence of that sense of WORD
 * Lines starting with '#' are comments; a final line break is optional, a CR before it is dropped. A word's lines
 * are together, its G lines before its E lines; every E line names a sense with a G line of the same word; no
 * sense has two G lines; no field is empty. Anything else is an error naming FILE:LINE, expected vs found.
 *
 * Scoring, for each example E of word w with true sense S (the same examples for every pattern):
 *   v      w's vector in E under the pattern, at w's first token in E (the token whose store row is w's row:
 *          store_lookup, exact then lower case);
 *   g(S')  the gloss vector of each sense S' of w: the mean of the vectors of the gloss's tokens that have one
 *          (tokenizer.h), w's own row excluded;
 *   correct when cos(v, g(S)) > cos(v, g(S')) for every other sense S' of w (strictly: a tie is wrong).
 * Skipped (and counted), for every pattern alike: w has no vector; w is not a token of E; w has fewer than 2
 * senses with a non-empty gloss vector, or S's gloss vector is empty.
 * Patterns (senses_pattern): static (v = x_w, the same for every sense: what no context gives), uniform
 * (v = x_w + the mean of the other known tokens' vectors), others (that mean alone, without x_w: uniform without the
 * residual), and a head's vector in context exactly as the main view
 * computes it (view.h's view_context_vectors with the pattern's view_opts: the head's positions, self-attention
 * and residual).
 * Accuracy p = Σk_w / N with a cluster (by word) standard error, the examples of one word being correlated:
 *   SE = √( n_w/(n_w−1) · Σ_w (k_w − p·m_w)² ) / N
 * (m_w examples and k_w correct of word w, N = Σ m_w, n_w words with a scored example; 0 when n_w < 2). A paired
 * comparison of two patterns takes the same form on d_i = correct_a − correct_b (k_w → Σ_w d_i, p → mean d).
 */
#ifndef HEAD_SENSES_H
#define HEAD_SENSES_H

#include <stddef.h>

#include "ev_error.h"
#include "store.h"
#include "view.h"

typedef struct {
    const char *id;          /* the sense (synset id) */
    const char *gloss;       /* its definition */
    size_t line;             /* its G line (1-based) */
} senses_gloss;

typedef struct {
    const char *text;        /* the example sentence */
    size_t sense;            /* index into senses_file.glosses: its sense's G record */
    size_t line;
} senses_example;

typedef struct {
    const char *word;
    size_t line;             /* its first line */
    size_t first_gloss, n_glosses;     /* its G records: glosses[first_gloss .. +n_glosses) */
    size_t first_example, n_examples;  /* its E records: examples[first_example .. +n_examples) */
} senses_word;

typedef struct {
    char *buf;               /* the file's bytes, fields NUL-terminated in place (every string above points here) */
    senses_word *words;      /* (n_words) in file order */
    size_t n_words;
    senses_gloss *glosses;   /* (n_glosses) */
    size_t n_glosses;
    senses_example *examples; /* (n_examples) */
    size_t n_examples;
} senses_file;

/* Parses len bytes of a sense file (copied; text need not be NUL-terminated); name stands for the file in messages
 * ("NAME:LINE: expected …, found …"). On failure *out is empty. Errors: EV_ERR_FORMAT (a malformed line, invalid
 * UTF-8, no record at all), EV_ERR_NOMEM. */
ev_status senses_parse(const char *text, size_t len, const char *name, senses_file *out, ev_error *err);

/* Reads and parses the sense file at path. Errors: util_read_file's (EV_ERR_IO …), senses_parse's. */
ev_status senses_read(const char *path, senses_file *out, ev_error *err);

/* Releases a parsed file. NULL-safe, idempotent. */
void senses_free(senses_file *f);

typedef enum {
    SENSES_STATIC = 0,   /* v = x_w */
    SENSES_UNIFORM = 1,  /* v = x_w + mean of the other known tokens' vectors (0 when there is none) */
    SENSES_OTHERS = 2,   /* v = mean of the other known tokens' vectors alone: uniform without the residual, the
                            like-for-like baseline of a head without one (0 when there is none: then wrong) */
    SENSES_HEAD = 3      /* v = the vector in context of view_context_vectors with vo */
} senses_kind;

typedef struct {
    const char *name;    /* for display (not used by the module) */
    senses_kind kind;
    view_opts vo;        /* SENSES_HEAD: head, attention options, residual (view_opts_for_head, then changes) */
} senses_pattern;

typedef struct {
    size_t n_patterns;
    size_t n;                /* examples scored (the same for every pattern) */
    size_t n_words;          /* words with a scored example (the clusters) */
    size_t skipped_no_vector;    /* examples of a word without a vector */
    size_t skipped_not_found;    /* examples in which the word is not a token */
    size_t skipped_senses;       /* examples of a word with < 2 glossed senses, or of a sense whose gloss is empty */
    unsigned char *correct;  /* (n_patterns, n) 1 = right sense, example-major within a pattern */
    size_t *cluster;         /* (n) the scored example's word, 0 … n_words-1, non-decreasing */
    size_t *example;         /* (n) its index in senses_file.examples */
    double chance;           /* mean over the scored examples of 1 / (its word's glossed senses) */
    double seconds;
} senses_result;

/* Scores every example of f under each of the n_patterns patterns (order kept) with the vectors s, on `threads`
 * workers (< 1: 1; results identical for any count). Errors: EV_ERR_USAGE (no pattern, a SENSES_HEAD pattern
 * without a head or with a head not of s's dimension), EV_ERR_FORMAT ("NAME:LINE: …": an example or gloss the
 * tokenizer or attention refuses; name as in senses_parse), EV_ERR_NOTFOUND (no example could be scored),
 * EV_ERR_NOMEM. On failure *out is empty. */
ev_status senses_evaluate(const store *s, const senses_file *f, const char *name, const senses_pattern *patterns,
                          size_t n_patterns, int threads, senses_result *out, ev_error *err);

/* Releases a result. NULL-safe, idempotent. */
void senses_result_free(senses_result *r);

/* Pattern p's correct count (returned), accuracy *acc and cluster standard error *se (formula above). */
size_t senses_accuracy(const senses_result *r, size_t p, double *acc, double *se);

/* Pattern a minus pattern b on the same examples: *diff = acc_a − acc_b and its paired cluster standard error *se
 * (the cluster formula on d_i = correct_a − correct_b). */
void senses_paired(const senses_result *r, size_t a, size_t b, double *diff, double *se);

#endif
