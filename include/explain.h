/* explain — why a weight is high: the meaning/position split of a head's attention logits.
 *
 * With X' = E + s·P (the words' vectors plus scaled positions, attention.h), Q = X'·W_Q and K = X'·W_K, every
 * logit of token i for key j splits exactly into four additive terms (M = W_Q·W_Kᵀ/√d_k, d_model × d_model):
 *
 *     q_i·k_j/√d_k = e_i·M·e_j  +  e_i·M·p_j  +  p_i·M·e_j  +  p_i·M·p_j
 *                     ee (meaning)  ep            pe            pp       (ep + pe + pp: position)
 *
 * e_i is the query's input without its position (a blank's [MASK] input under a masked-word head, Xq below), e_j
 * the key's vector; p = s·P. Heads have no projection biases (attn_head has none), so there is no fifth term; the
 * identity head has M = I/√d_model. A head without positions has ep = pe = pp = 0.
 *
 * Besides the terms, two counterfactual weights: the softmax of the meaning term alone and of the position terms
 * alone, over exactly the keys the real weights allow (not masked, j ≤ i when causal, j ≠ i when the head
 * excludes itself); a row with no allowed key is all zero, as in attn_forward. Disallowed entries of the terms are
 * 0 here and marked in `allowed`.
 */
#ifndef EXPLAIN_H
#define EXPLAIN_H

#include <stddef.h>

#include "attention.h"
#include "ev_error.h"

typedef enum { EXPLAIN_EE = 0, EXPLAIN_EP = 1, EXPLAIN_PE = 2, EXPLAIN_PP = 3, EXPLAIN_NTERMS = 4 } explain_term;

typedef struct {
    size_t n;
    float *terms;            /* (4, n, n) ee, ep, pe, pp in logit units (already divided by √d_k); 0 where not
                              * allowed */
    float *meaning;          /* (n, n) softmax of ee over the allowed keys (rows sum to 1, or 0 with none) */
    float *position;         /* (n, n) softmax of ep + pe + pp over the allowed keys */
    unsigned char *allowed;  /* (n, n) 1: the real weights allow key j for query i */
} explain_split;

/* The split of the logits of attn_forward(h, X (with queries from Xq), key_mask, n, o): X (n, h->d_model) the keys'
 * inputs, Xq (n, h->d_model) the queries' (NULL: X), key_mask (n) or NULL, o NULL = attn_opts_default(). Fills
 * out (allocated here; release with explain_free; zeroed on failure). Uses sgemm.
 * Errors: attn_forward's checks (EV_ERR_USAGE, EV_ERR_NOMEM, EV_ERR_FORMAT for non-finite inputs or terms). */
ev_status explain_compute(const attn_head *h, const float *X, const float *Xq, const unsigned char *key_mask,
                          size_t n, const attn_opts *o, explain_split *out, ev_error *err);

/* The same by another route, for tests: M = W_Q·W_Kᵀ/√d_k formed in double, then e_i·M·e_j … with plain loops. */
ev_status explain_compute_naive(const attn_head *h, const float *X, const float *Xq, const unsigned char *key_mask,
                                size_t n, const attn_opts *o, explain_split *out, ev_error *err);

/* Releases what explain_compute allocated. NULL-safe, idempotent. */
void explain_free(explain_split *e);

/* "ee", "ep", "pe", "pp". */
const char *explain_term_name(explain_term t);

#endif
