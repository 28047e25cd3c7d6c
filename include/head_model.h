/* head_model — the trained head: a single attention head learned over frozen word vectors by masked-word prediction:
 * its parameters, the task's batches (corrupted queries, sampled negatives), the loss and its hand-written gradients
 * (numbered passes, llm.c style), the double-precision reference for the gradient check, and head_model_train, which
 * runs the task through head_train's loop.
 *
 * The task (per sentence of n tokens, every position predicted in one pass):
 *   x_j = E[w_j] + s·P_j                                 (d)   key/value input: the token's frozen vector + position
 *   u_i = M + s·P_i  (80 %)  |  E[r] + s·P_i (10 %, r a random candidate)  |  x_i (10 %)      query input of i
 *   q_i = u_i·W_Q   k_j = x_j·W_K   v_j = x_j·W_V        (d_k)
 *   a_ij = softmax_j(q_i·k_j / √d_k)  over the known tokens j ≠ i (i's own key and value are excluded)
 *   z_i = (Σ_j a_ij v_j)·W_O                             (d)   lives in the vectors' space
 *   logit_c = z_i·E[c] + b_c   over the candidates c: the first n_cand rows of the store (GloVe's vocabulary is in
 *                             frequency order, so these are the n_cand most frequent words)
 *   loss = cross-entropy of the hidden word w_i, estimated by a sampled softmax: n_neg negatives per step shared by
 *          all positions, drawn from Q ∝ (count + 1)^0.75 (counts of the training targets), logits corrected by
 *          −log(n_neg·Q(c)), accidental hits (a negative equal to the target) removed (Jean et al. 2015).
 * M (the [MASK] input vector) and b (initialised to the log unigram frequency) are learned with W_Q, W_K, W_V,
 * W_O (Adam, linearly decayed learning rate: head_train.h); E is frozen. The 10 % random / 10 % own-word queries
 * (BERT's recipe) train the word-query path, which is what the main view shows: there every token's query is its
 * own vector. P_j: attention.h's sinusoids, scaled by s = position_scale (0.3 by default: norm 2.1 against GloVe
 * norms ≈ 5).
 *
 * Tokens: corpus.h's sentences. A placeholder (no vector) keeps its position but is never a key, a value or a
 * target. A token whose row is ≥ n_cand is a key and value but never a target.
 *
 * Numbers: float32 with sgemm into preallocated buffers; a double-precision twin of the loss for the gradient
 * check. Deterministic for a seed and a thread count (every reduction has a fixed order, threads own fixed ranges).
 */
#ifndef HEAD_MODEL_H
#define HEAD_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "attention.h"
#include "corpus.h"
#include "ev_error.h"
#include "head_train.h"
#include "store.h"

#define HEAD_DEFAULT_DK 64
#define HEAD_DEFAULT_CANDIDATES 30000
#define HEAD_DEFAULT_NEGATIVES 4096
#define HEAD_DEFAULT_POSITION_SCALE 0.3f
#define HEAD_MAX_LEN CORPUS_MAX_LEN /* tokens per sentence */
#define HEAD_QUERY_MASK (-1)        /* head_batch.query: the [MASK] vector */

/* ---- parameters ---------------------------------------------------------------------------------------- */

/* A trained head is an attn_head (attention.h) with every tensor the model needs in its one block, in this order:
 * w_q, w_k, w_v (d_model, d_k), w_o (d_k, d_model), train_mask (d_model) = M, train_bias (candidates) = b; the
 * gradient (head_work_grad) has the same layout. */

/* A trained head of zeros for vectors of dimension d_model with n_cand candidates: sinusoidal positions at
 * HEAD_DEFAULT_POSITION_SCALE, its own key excluded. *out is released with attn_head_free. Errors: as
 * attn_head_new. */
ev_status head_model_new(size_t d_model, size_t d_k, size_t n_cand, attn_head **out, ev_error *err);

/* Gives h every tensor the model needs, in one block as head_model_new's: W_O = I when it has none (then
 * d_k = d_model), M = 0 and b = 0 over its candidates (HEAD_DEFAULT_CANDIDATES when it names none) when it has no
 * training state (a head file written by another tool). Its other fields stay. EV_ERR_USAGE for a head with no
 * output in the vectors' space (no W_O, d_k ≠ d_model: attn_head_has_output), EV_ERR_NOMEM. */
ev_status head_model_complete(attn_head *h, ev_error *err);

/* ---- one batch: loss and gradients (the training step; exposed for the gradient check) --------------------- */

typedef struct {
    size_t n_sent;
    const size_t *start;         /* (n_sent + 1) token offsets, start[0] = 0; at most HEAD_MAX_LEN per sentence */
    const int32_t *row;          /* (T = start[n_sent]) store rows, -1 = placeholder */
    const int32_t *query;        /* (T) query input: HEAD_QUERY_MASK or a store row (its vector + position) */
    const unsigned char *target; /* (T) 1 = predict this token (row in [0, n_cand), another known token present) */
    size_t n_neg;
    const int32_t *neg;          /* (n_neg) sampled candidates, each < n_cand (repeats allowed) */
    const float *logq;           /* (n_cand) log(n_neg · Q(c)), the sampled-softmax correction */
} head_batch;

typedef struct head_work head_work;

/* Buffers for batches of at most max_tok tokens and max_neg negatives, with threads worker threads (≥ 1) for the
 * per-row loops; p (a trained head: head_model_new's layout) stays the caller's and must outlive the buffers. *out
 * is released with head_work_free. Errors: EV_ERR_USAGE (p is not a trained head, does not fit s; a bad size),
 * EV_ERR_NOMEM. */
ev_status head_work_new(const store *s, const attn_head *p, size_t max_tok, size_t max_neg, int threads,
                        head_work **out, ev_error *err);

/* Releases the buffers. NULL-safe. */
void head_work_free(head_work *w);

/* Mean sampled-softmax loss over the batch's targets (*loss; 0 targets: 0) and its gradient with respect to every
 * parameter, written to head_work_grad (the layout of p->params). Errors: EV_ERR_USAGE (batch larger than the
 * buffers, a row out of range). */
ev_status head_loss_grad(head_work *w, const head_batch *b, double *loss, ev_error *err);

/* The gradient of the last head_loss_grad: (n_params), owned by w. */
const float *head_work_grad(const head_work *w);

/* The same loss with plain loops in double precision: the reference for the finite-difference check (NaN when out
 * of memory). */
double head_loss_reference(const store *s, const attn_head *p, const head_batch *b);

/* ---- the forward pass alone (the evaluation's) ------------------------------------------------------------ */

/* The attention pattern of a forward pass, all with the head's readout (W_V, W_O) and the same inputs. */
typedef enum {
    HEAD_PATTERN_TRAINED = 0,  /* the head's W_Q, W_K */
    HEAD_PATTERN_IDENTITY = 1, /* W_Q = W_K = I (d_k = d_model): similarity of the inputs */
    HEAD_PATTERN_UNIFORM = 2,  /* equal weights on the other known tokens (CBOW-like) */
    HEAD_PATTERN_RANDOM = 3,   /* W_Q, W_K given by the caller (the evaluation: attn_head_random's) */
    HEAD_PATTERNS = 4
} head_pattern;

/* "trained", "identity", "uniform", "random"; "?" for anything else. */
const char *head_pattern_name(head_pattern k);

/* The forward pass of batch b (the same checks as head_loss_grad) up to the outputs of its targets, with the
 * attention pattern k (wq_alt, wk_alt: the (d_model, d_k) projections of HEAD_PATTERN_RANDOM, else unused).
 * Returns the number of targets; their outputs and token indices are head_work_outputs and head_work_targets. */
ev_status head_forward(head_work *w, const head_batch *b, head_pattern k, const float *wq_alt, const float *wk_alt,
                       size_t *n_targets, ev_error *err);

/* After head_forward: the targets' outputs z_i (n_targets, d_model) and their token indices in the batch
 * (n_targets), owned by w. */
const float *head_work_outputs(const head_work *w);
const size_t *head_work_targets(const head_work *w);

/* ---- training ------------------------------------------------------------------------------------------ */

typedef struct {
    size_t d_k;                /* 0: HEAD_DEFAULT_DK */
    size_t n_cand;             /* 0: HEAD_DEFAULT_CANDIDATES (capped to the store's size) */
    size_t n_neg;              /* 0: HEAD_DEFAULT_NEGATIVES */
    attn_positions positions;  /* ATTN_POS_SINUSOIDAL (default) or ATTN_POS_NONE */
    float position_scale;      /* < 0: HEAD_DEFAULT_POSITION_SCALE */
} head_model_opts;

/* Defaults (sinusoidal positions, every size 0: its default). */
head_model_opts head_model_opts_default(void);

/* Trains a head on corpus c over the vectors s: parameters Xavier-uniform from to->seed ([MASK] 0, bias the log
 * unigram frequency), then head_train_run's loop, each step drawing its queries and negatives from the same
 * generator. *out owns the result (attn_head_free); stats (may be NULL) get the loop's figures and the targets
 * per epoch. mo, to NULL: defaults. Errors: EV_ERR_NOTFOUND (no target: no known word among the candidates),
 * EV_ERR_USAGE (bad options), EV_ERR_NOMEM, EV_ERR_FORMAT (the loss became non-finite). */
ev_status head_model_train(const store *s, const corpus *c, const head_model_opts *mo, const head_train_opts *to,
                           attn_head **out, head_train_stats *stats, ev_error *err);

#endif
