/* head_context — the context head: a single attention head over frozen word vectors, trained so that each word,
 * as its own query, gathers from its sentence what predicts a word hidden from that sentence. It is what the main
 * view shows under the default head: every token's attention row and the neighbours of its vector in context.
 *
 * The task (per sentence of n tokens; one hidden word h, a few predicting rows i):
 *   x_j = E[w_j]                    (d)   the frozen vector of token j (0 for a placeholder)
 *   u_j = x_j + s_p·P_j             (d)   with its position (attention.h's sinusoids, s_p = position_scale)
 *   q_i = u_i·W_Q   k_j = u_j·W_K   v_j = u_j·W_V              (d_k)
 *   a_ij = softmax_j(q_i·k_j / √d_k)  over the known tokens j ≠ i, j ≠ h: the hidden word is no one's key or
 *                                     value, and a word never attends to itself
 *   c_i = x_i + (Σ_j a_ij v_j)·W_O  (d)   token i's vector in context (residual: its own vector + what it gathered)
 *   logit_w = s·(c_i·E[w]) + b_w     over the candidates w: the first n_cand rows (the most frequent words)
 *   loss = mean over the predicting rows of the cross-entropy of the hidden word (full softmax, no sampling)
 * This is attn_forward (attention.h) with the head's own key excluded, plus the residual: the main view computes
 * exactly c_i for every token, so what was trained is what is shown.
 *
 * Which words: the hidden word h is a known token whose row is in [skip_top, n_cand) (not one of the skip_top
 * most frequent words: hiding "the" teaches nothing about context), else any known token among the candidates;
 * a sentence with neither, or with no other known token, is skipped. The predicting rows are the known tokens
 * i ≠ h that have a key (another known token j ∉ {i, h}); training draws at most `rows` of them per sentence
 * (all when rows = 0), the evaluation uses all.
 *
 * Parameters (one block, attn_head_new's order): w_q, w_k, w_v (d, d_k), w_o (d_k, d), train_bias (n_cand),
 * train_scale (1). E is frozen. Numbers: float32 with sgemm into preallocated buffers, the logits in tiles of rows;
 * a double-precision twin of the loss for the gradient check. Deterministic for a seed and a thread count: every
 * reduction has a fixed order, threads own fixed rows or sentences.
 */
#ifndef HEAD_CONTEXT_H
#define HEAD_CONTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "attention.h"
#include "corpus.h"
#include "ev_error.h"
#include "head_model.h"
#include "head_train.h"
#include "store.h"

#define CTX_DEFAULT_SKIP_TOP 100   /* the hidden word is not one of the 100 most frequent words */
#define CTX_DEFAULT_ROWS 3         /* predicting rows drawn per sentence in training */
#define CTX_DEFAULT_BETA 0.0       /* hidden words weighted (frequency rank + 1)^beta */
#define CTX_DEFAULT_LR 0.005f
#define CTX_DEFAULT_EPOCHS 9
#define CTX_DEFAULT_BATCH_TOKENS 2560
#define CTX_MAX_PRONOUN 4          /* ctx_opts.pronoun: copies of an antecedent example at most */
#define CTX_NO_HIDDEN (-1)         /* ctx_batch.hidden: this sentence has no hidden word (nothing predicted) */

/* A context head of zeros for vectors of dimension d_model with n_cand candidates: sinusoidal positions at
 * HEAD_DEFAULT_POSITION_SCALE, its own key excluded, residual on, task context, train_scale 1. *out is released
 * with attn_head_free. Errors: EV_ERR_USAGE (n_cand 0), as attn_head_new. */
ev_status ctx_model_new(size_t d_model, size_t d_k, size_t n_cand, attn_head **out, ev_error *err);

/* Whether h is a complete context head (ctx_model_new's layout, as head_file_load gives it for a context file). */
int ctx_model_is_complete(const attn_head *h);

/* ---- one batch --------------------------------------------------------------------------------------------- */

typedef struct {
    size_t n_sent;
    const size_t *start;           /* (n_sent + 1) token offsets, start[0] = 0; at most HEAD_MAX_LEN a sentence */
    const int32_t *row;            /* (T = start[n_sent]) store rows, -1 = placeholder */
    const int32_t *hidden;         /* (n_sent) the hidden token's index within its sentence, or CTX_NO_HIDDEN */
    const unsigned char *predict;  /* (T) 1: this token's vector in context predicts its sentence's hidden word
                                      (a known token, not the hidden one, with a key) */
} ctx_batch;

typedef struct ctx_work ctx_work;

/* Buffers for batches of at most max_tok tokens, with threads worker threads (≥ 1); p (a complete context head)
 * stays the caller's and must outlive them. Errors: EV_ERR_USAGE (p incomplete or not fitting s, a bad size),
 * EV_ERR_NOMEM. */
ev_status ctx_work_new(const store *s, const attn_head *p, size_t max_tok, int threads, ctx_work **out,
                       ev_error *err);

/* Releases the buffers. NULL-safe. */
void ctx_work_free(ctx_work *w);

/* Mean cross-entropy of the hidden words over the batch's predicting rows (*loss; none: 0) and its gradient with
 * respect to every parameter, in ctx_work_grad (p->params' layout). Errors: EV_ERR_USAGE (a batch larger than the
 * buffers, a row out of range, a predicting row that is not one). */
ev_status ctx_loss_grad(ctx_work *w, const ctx_batch *b, double *loss, ev_error *err);

/* The gradient of the last ctx_loss_grad: (n_params), owned by w. */
const float *ctx_work_grad(const ctx_work *w);

/* The same loss with plain loops in double precision (the twin for the gradient check; NaN when out of memory). */
double ctx_loss_reference(const store *s, const attn_head *p, const ctx_batch *b);

/* The forward pass of batch b with the attention pattern k (head_model.h's: trained, identity, uniform, random
 * with the caller's wq_alt, wk_alt (d_model, d_k)), every pattern with the head's readout (W_V, W_O) and residual.
 * *n_rows: the predicting rows; their vectors in context c_i are ctx_work_outputs (n_rows, d_model), their token
 * indices ctx_work_rows and their hidden words' store rows ctx_work_targets. Same checks as ctx_loss_grad. */
ev_status ctx_forward(ctx_work *w, const ctx_batch *b, head_pattern k, const float *wq_alt, const float *wk_alt,
                      size_t *n_rows, ev_error *err);
const float *ctx_work_outputs(const ctx_work *w);
const size_t *ctx_work_rows(const ctx_work *w);
const int32_t *ctx_work_targets(const ctx_work *w);

/* Chooses sentence [t0, t0 + n) of rows's hidden word and predicting rows (the rules above) into predict[0..n):
 * u01 in [0, 1) picks the hidden word among the eligible ones, each weighted (row + 1)^beta (rows are frequency
 * ranks, so beta > 0 hides rarer words more often; beta 0: uniformly); rows > 0 keeps at most that many predicting
 * rows, drawn with *rng (NULL: the first ones). Returns the hidden token's index in the sentence, or CTX_NO_HIDDEN
 * (then predict is all 0). */
int32_t ctx_choose(const int32_t *row, size_t n, size_t n_cand, size_t skip_top, double beta, double u01,
                   size_t rows, uint64_t *rng, unsigned char *predict);

/* The antecedent example of sentence row[0..n) (the pronoun objective, ctx_opts.pronoun): its first word that
 * repeats an earlier one — a word among the candidates, not one of the skip_top most frequent — becomes the pronoun
 * it_row (a determiner just before it, one of det[0..n_det), goes too: "enforce the law" → "enforce it"), and the
 * word is appended as the hidden token: "a law … enforce it" + law. The pronoun is the one predicting row, so its
 * row must find the earlier mention to predict the word. Writes the tokens to out (room for n + 1), their count to
 * *out_n and the pronoun's index to *at; returns 1, or 0 when no word repeats or the example would be longer than
 * HEAD_MAX_LEN. */
int ctx_antecedent(const int32_t *row, size_t n, size_t n_cand, size_t skip_top, int32_t it_row, const int32_t *det,
                   size_t n_det, int32_t *out, size_t *out_n, size_t *at);

/* ---- training ------------------------------------------------------------------------------------------ */

typedef struct {
    size_t d_k;                /* 0: HEAD_DEFAULT_DK */
    size_t n_cand;             /* 0: HEAD_DEFAULT_CANDIDATES (capped to the store's size) */
    size_t skip_top;           /* hidden words are not among the skip_top most frequent (CTX_DEFAULT_SKIP_TOP) */
    size_t rows;               /* predicting rows per sentence, 0 = all (CTX_DEFAULT_ROWS) */
    double beta;               /* hidden words weighted (rank + 1)^beta, 0 to 4 (CTX_DEFAULT_BETA) */
    double pronoun;            /* 0 to CTX_MAX_PRONOUN: a sentence with a repeated word also gives its antecedent
                                  example (ctx_antecedent; the vectors must have "it") to the same batch, floor(pronoun)
                                  times and once more with probability pronoun - floor(pronoun): its weight */
    attn_positions positions;  /* ATTN_POS_SINUSOIDAL (default) or ATTN_POS_NONE */
    float position_scale;      /* < 0: HEAD_DEFAULT_POSITION_SCALE */
} ctx_opts;

/* Defaults (sinusoidal positions, skip_top and rows as above, sizes 0: their defaults). */
ctx_opts ctx_opts_default(void);

/* Trains a context head on corpus c over the vectors s: W_Q, W_K, W_V Xavier-uniform from to->seed, W_O = 0,
 * b = 0, s = 1 (so training starts from the word's own vector), then head_train_run's loop, each step drawing its
 * hidden words and predicting rows from the same generator (and with co->pronoun, adding the antecedent examples;
 * a fractional weight draws from it too). to's zero lr, epochs and batch_tokens take the CTX_
 * defaults. *out owns the result; stats (may be NULL) get the loop's figures and the predicting rows of the last
 * epoch in targets. Errors: EV_ERR_NOTFOUND (no sentence has a word to hide), EV_ERR_USAGE, EV_ERR_NOMEM,
 * EV_ERR_FORMAT (the loss became non-finite). */
ev_status ctx_train(const store *s, const corpus *c, const ctx_opts *co, const head_train_opts *to, attn_head **out,
                    head_train_stats *stats, ev_error *err);

#endif
