/* head_eval — how much the trained attention pattern helps: masked-word prediction on a held-out corpus with the
 * trained head's pattern against untrained ones (head_model.h's patterns: identity, uniform, random), every pattern
 * with the trained head's readout (W_V, W_O, bias, candidates) and the same inputs (the [MASK] query M + position at
 * the hidden token, x_j at the others, its own key and value excluded), scored by a full softmax over the
 * candidates; top-1 and top-10 rates over all positions and over content words (not on NLTK's stop-word list).
 */
#ifndef HEAD_EVAL_H
#define HEAD_EVAL_H

#include <stddef.h>

#include "corpus.h"
#include "ev_error.h"
#include "head_model.h"
#include "store.h"

typedef struct {
    size_t n, top1, top10;                 /* all evaluated positions */
    size_t n_content, top1_content, top10_content; /* those whose word is a content word */
    /* paired with the trained head on top-10, all positions: b = trained hit and this one missed, c = the
     * reverse (for the standard error of the difference) */
    size_t top10_only_trained, top10_only_this;
    size_t top10_only_trained_content, top10_only_this_content;
    /* the same difference clustered by sentence (a sentence's positions are not independent: under the context
     * task they all predict the same hidden word): with D_s = Σ (trained hit − this hit) and n_s positions over
     * sentence s, cl_dd = Σ D_s², cl_dn = Σ D_s·n_s, cl_nn = Σ n_s², over `clusters` sentences; and for content
     * words */
    double cl_dd, cl_dn, cl_nn, cl_dd_content, cl_dn_content, cl_nn_content;
    size_t clusters, clusters_content;
} head_eval_counts;

/* The standard error of the top-10 difference (trained − this pattern) over e's positions (content: over its
 * content-word positions), paired and clustered by sentence: √(C/(C−1) · Σ_s (D_s − d·n_s)²) / N, d the mean
 * difference, C the sentences, N the positions. 0 when there is nothing to compare. */
double head_eval_se_top10(const head_eval_counts *e, int content);

typedef struct {
    head_eval_counts k[HEAD_PATTERNS]; /* by head_pattern; the random pattern is attn_head_random(d_model, d_k,
                                          ATTN_DEFAULT_SEED)'s W_Q, W_K */
    size_t n_cand;
    size_t skipped;      /* known tokens not evaluated: outside the candidates */
    double seconds;
} head_eval_result;

/* Masked-word prediction on every target position of c with the [MASK] query, full softmax over the n_cand
 * candidates (the rank of the hidden word among them; ties broken towards the lower row), for each pattern.
 * p: a trained head (head_model_complete). threads ≥ 1. Errors: EV_ERR_USAGE (p is not complete), EV_ERR_FORMAT
 * (p does not fit s), EV_ERR_NOTFOUND (no position to evaluate), EV_ERR_NOMEM. */
ev_status head_evaluate(const store *s, const attn_head *p, const corpus *c, int threads, head_eval_result *out,
                        ev_error *err);

/* Content word: contains a letter and is not on NLTK's English stop-word list (179 words: the, of, is, he, not …),
 * compared case-insensitively. Punctuation and symbols are not content words. */
int head_is_content_word(const char *w, size_t n);

#endif
