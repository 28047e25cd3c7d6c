/* predict — the words a trained head's output predicts (--predict, --mask): the head's own readout, as it was
 * trained, applied to the vectors the main view computes.
 *
 *   context head (head_context.h):  p_i(w) = softmax_w(s·c_i·E[w] + b_w)   c_i = token i's vector in context
 *   masked-word head (head_model.h): p_i(w) = softmax_w(z_i·E[w] + b_w)     z_i = the output of a [MASK] query at
 *       position i: u = M + s_p·P_i (M = train_mask), q = u·W_Q over the keys of the other known tokens (its own key
 *       and value excluded, as in training; j ≤ i under causal), z = (Σ_j a_ij v_j)·W_O
 * over the candidates w < h->candidates (the first rows of the store: the most frequent words). s = train_scale[0]
 * for a context head, 1 for a masked-word head.
 *
 * Numbers: float32 logits by sgemm in tiles of rows, the softmax in double (max subtracted); plain-C twins in double
 * for the tests (the *_naive functions). Top lists: probability descending, ties by the lower row.
 */
#ifndef PREDICT_H
#define PREDICT_H

#include <stddef.h>

#include "attention.h"
#include "ev_error.h"
#include "search.h"
#include "store.h"

#define PREDICT_K 5 /* words listed per prediction */

/* Whether h has a readout to predict words with over s: a trained head (task context or masked-word) with its
 * output bias over 1 … store_size(s) candidates, its scale (context) or its [MASK] input (masked-word), and
 * w_q, w_k, w_v. */
int predict_supported(const attn_head *h, const store *s);

/* The top k words (score = probability) of each of the m rows of Z (m, d) under h's readout: out (m, k). Rows are
 * independent. h must be predict_supported. Uses O(tile · candidates) floats of scratch. EV_ERR_NOMEM. */
ev_status predict_topk(const store *s, const attn_head *h, const float *Z, size_t m, size_t k, sim_hit *out,
                       ev_error *err);

/* The top k words of the mean of the m rows' distributions (m ≥ 1): out (k). EV_ERR_NOMEM, EV_ERR_USAGE (m = 0). */
ev_status predict_mean_topk(const store *s, const attn_head *h, const float *Z, size_t m, size_t k, sim_hit *out,
                            ev_error *err);

/* The twins: the same lists with plain loops in double. */
ev_status predict_topk_naive(const store *s, const attn_head *h, const float *Z, size_t m, size_t k, sim_hit *out,
                             ev_error *err);
ev_status predict_mean_topk_naive(const store *s, const attn_head *h, const float *Z, size_t m, size_t k,
                                  sim_hit *out, ev_error *err);

/* The outputs z (m, h->d_model) of [MASK] queries at the positions pos (m, each < n) among the n tokens X (n,
 * d_model) (raw vectors; positions added here as attn_forward does, from o), keys masked by key_mask (n, may be
 * NULL). A query with no key allowed gets z = 0 and no_key[r] = 1 (no_key may be NULL). h must have train_mask,
 * w_q, w_k, w_v. Errors: EV_ERR_USAGE (a position ≥ n, no [MASK] input), EV_ERR_NOMEM. */
ev_status predict_mask_outputs(const attn_head *h, const float *X, const unsigned char *key_mask, size_t n,
                               const attn_opts *o, const size_t *pos, size_t m, float *Z, unsigned char *no_key,
                               ev_error *err);

/* The twin of predict_mask_outputs: plain loops accumulating in double. */
ev_status predict_mask_outputs_naive(const attn_head *h, const float *X, const unsigned char *key_mask, size_t n,
                                     const attn_opts *o, const size_t *pos, size_t m, float *Z,
                                     unsigned char *no_key, ev_error *err);

#endif
