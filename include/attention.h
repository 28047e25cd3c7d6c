/* attention — single-head scaled dot-product self-attention over a sentence's vectors.
 *
 *   X'  = X + s·P                    (n, d_model)  P: sinusoidal positions (Vaswani et al.), when selected
 *   Q   = X'·W_Q  K = X'·W_K  V = X'·W_V           (n, d_k)
 *   A   = softmax_row(Q·Kᵀ/√d_k + M) (n, n)        M: -∞ at masked keys (OOV tokens; j > i when causal)
 *   Z   = A·V·W_O                    (n, d_model)  (A·V alone when the head has no W_O and d_k = d_model)
 *
 * Conventions:
 *  - Row vectors, X·W: every weight is stored [in, out] row-major (w_q is (d_model, d_k)). PyTorch's nn.Linear
 *    stores weight as [out, in] and computes x·weightᵀ, so a torch module maps to a head file by transposing:
 *        w_q = q_proj.weight.T   w_k = k_proj.weight.T   w_v = v_proj.weight.T   w_o = out_proj.weight.T
 *    For nn.MultiheadAttention(E, num_heads=1, bias=False) with kdim = vdim = E, the packed in_proj_weight [3E, E]
 *    splits as w_q = in_proj_weight[0:E].T, w_k = in_proj_weight[E:2E].T, w_v = in_proj_weight[2E:3E].T and
 *    w_o = out_proj.weight.T (d_k = d_model = E; MHA scales by 1/√(E/num_heads) = 1/√d_k, the same).
 *    MHA cannot express d_k ≠ d_model with a d_model-wide query (see scripts/make-attention-fixtures.py for the
 *    equivalent it is checked against).
 *  - Z lives in the vectors' space (d_model wide), so its nearest vocabulary neighbours mean something:
 *    identity heads have d_k = d_model and no W_O; random heads always have a W_O. A head file without w_o and with
 *    d_k ≠ d_model has weights A but no output in the vectors' space (attn_head_has_output is 0): attn_forward then
 *    computes A only (Z = NULL), and the view shows no contextual vectors (A·V would be d_k wide).
 *  - Masked keys: an OOV token has a zero row in X (tok_vectors) and its key is masked — no token attends to it.
 *    Its own query still gets a distribution over the known tokens (its query is 0, or its position when positions
 *    are on: uniform, or by position), exactly as PyTorch's key_padding_mask behaves. A row whose keys are all
 *    masked (every token OOV, or the first token OOV under the causal mask) gets all-zero weights and a zero
 *    output — never NaN (PyTorch gives NaN there).
 *  - Positions: P[pos][2i] = sin(pos / 10000^(2i/d_model)), P[pos][2i+1] = cos(same), pos = 0..n-1, computed in
 *    double. Their norm is √(d_model/2) (7.07 for d = 100) while GloVe 6B 100d's frequent words have norms ≈ 5–6,
 *    so unscaled positions would drown the meaning; they are added scaled by position_scale, default 0.5 (norm
 *    3.5 at d = 100).
 *  - Numbers: float32 throughout (OpenBLAS sgemm), softmax subtracting the row maximum. Inputs must be finite;
 *    a non-finite score or output (float32 overflow) is an error, never a result.
 *
 *
 * A head (attn_head) is the one type for a head's parameters, whatever made it: identity, random, read from a head
 * file (head_file.h, which describes the format) or trained (head_model.h). A trained head also carries its training
 * state (the [MASK] input and output bias), which attention itself does not use.
 */
#ifndef ATTENTION_H
#define ATTENTION_H

#include <stddef.h>
#include <stdint.h>

#include "ev_error.h"

#define ATTN_MAX_TOKENS 4096u              /* n limit: A is n² floats */
#define ATTN_DEFAULT_POSITION_SCALE 0.5f
#define ATTN_DEFAULT_SEED 1u               /* "random" without :SEED */

typedef enum {
    ATTN_HEAD_IDENTITY = 0, /* W_Q = W_K = W_V = I, no W_O */
    ATTN_HEAD_RANDOM = 1,   /* Xavier-uniform from a seed */
    ATTN_HEAD_FILE = 2      /* weights given: read from a head file, or learned (head_model.h) */
} attn_head_kind;

typedef enum { ATTN_POS_NONE = 0, ATTN_POS_SINUSOIDAL = 1 } attn_positions;

/* What a trained head was trained for (file metadata "task"): it says what its output means. */
typedef enum {
    ATTN_TASK_NONE = 0,        /* not trained here (identity, random, another tool's file) */
    ATTN_TASK_MASKED_WORD = 1, /* "masked-word": a [MASK] query guesses the hidden word (head_model.h) */
    ATTN_TASK_CONTEXT = 2      /* "context": each word, as its own query, predicts a word hidden from the sentence
                                  (head_context.h) */
} attn_task;

typedef struct {
    attn_head_kind kind;
    size_t d_model;            /* input and output width: the vectors' dimension */
    size_t d_k;                /* query/key/value width (d_v = d_k) */
    size_t n_params;           /* floats in params */
    float *params;             /* (n_params) every weight below that the head has, contiguous, in this order (NULL
                                  for the identity head): */
    float *w_q;                /*   (d_model, d_k) row-major; NULL means the identity (identity heads) */
    float *w_k;                /*   (d_model, d_k) or NULL (identity) */
    float *w_v;                /*   (d_model, d_k) or NULL (identity) */
    float *w_o;                /*   (d_k, d_model) or NULL: Z = A·V, and then d_k = d_model */
    float *train_mask;         /*   (d_model) trained heads: the [MASK] query input, or NULL */
    float *train_bias;         /*   (candidates) trained heads: the output bias, or NULL */
    float *train_scale;        /*   (1) context heads: the scale s of the output logits, or NULL */
    attn_task task;            /* what it was trained for (ATTN_TASK_NONE unless trained) */
    int residual;              /* 1: a word's vector in context is its own vector + Z (how a context head was
                                  trained; file metadata residual "on"); 0: Z alone */
    attn_positions positions;  /* positions the head was made for (file metadata; NONE for identity/random) */
    float position_scale;      /* and their scale (ATTN_DEFAULT_POSITION_SCALE unless the file says) */
    int has_position_meta;     /* 1 when the file named its positions: use them unless the user chose */
    size_t candidates;         /* trained heads: the words their output was trained to predict (the first N rows of
                                  the vectors; train_bias's length when it is there), 0 when unknown */
    int exclude_self;          /* 1: a token never attends to itself (heads trained without their own key,
                                  head_model.h; file metadata self_attention "excluded") */
    uint64_t seed;             /* random heads: the seed */
    uint64_t fingerprint;      /* trained heads: head_file_fingerprint of the vectors (has_fingerprint) */
    int has_fingerprint;
    char *description;         /* one line for display, e.g. "random:42 (Xavier-uniform, d_k 64, with w_o)" */
} attn_head;

typedef struct {
    attn_positions positions;  /* ATTN_POS_NONE by default */
    float position_scale;      /* multiplies the sinusoids (ATTN_DEFAULT_POSITION_SCALE) */
    int causal;                /* 1: token i attends only to j ≤ i */
} attn_opts;

/* Defaults: no positions, scale ATTN_DEFAULT_POSITION_SCALE, not causal. */
attn_opts attn_opts_default(void);

/* The identity head: W_Q = W_K = W_V = I (stored as NULL), d_k = d_model, no W_O — the untrained picture where
 * scores are the vectors' dot products / √d_model. EV_ERR_USAGE when d_model is 0; EV_ERR_NOMEM. */
ev_status attn_head_identity(size_t d_model, attn_head **out, ev_error *err);

/* A random head: W_Q, W_K, W_V (d_model, d_k) and W_O (d_k, d_model) Xavier-uniform, U(-b, b) with
 * b = √(6 / (d_model + d_k)), drawn in that order, each row-major, by rng_xavier from rng.h's splitmix64 seeded
 * with seed: w = (float)((2u - 1)·b), u = rng_uniform (u, b and the product in double).
 * Portable: the same weights on every platform (and in numpy). d_k = 0 means d_k = d_model.
 * EV_ERR_USAGE when d_model is 0; EV_ERR_NOMEM. */
ev_status attn_head_random(size_t d_model, size_t d_k, uint64_t seed, attn_head **out, ev_error *err);

/* A head of zeros with the weights asked for, in one block (params): w_q, w_k, w_v, then w_o when with_w_o,
 * train_mask when with_mask, train_bias (n_bias floats, candidates = n_bias) when n_bias > 0, train_scale (one
 * float) when with_scale. No positions, no description. EV_ERR_USAGE when d_model or d_k is 0; EV_ERR_NOMEM (also
 * for sizes beyond INT_MAX). */
ev_status attn_head_new(attn_head_kind kind, size_t d_model, size_t d_k, int with_w_o, int with_mask, size_t n_bias,
                        int with_scale, attn_head **out, ev_error *err);

/* Releases everything. NULL-safe. */
void attn_head_free(attn_head *h);

/* 1 when the head's output Z lives in the vectors' space (it has a W_O, or d_k = d_model), so Z exists and has
 * nearest words; 0 for a head without W_O whose d_k ≠ d_model (only its weights A mean something). */
int attn_head_has_output(const attn_head *h);

/* Writes scale · P into P_out (n, d) row-major (definition above). */
void attn_positional_encoding(size_t n, size_t d, float scale, float *P_out);

/* Self-attention of the n tokens X (n, h->d_model) row-major. key_mask (n): non-zero = that token's key is
 * masked (OOV); NULL = none. opts NULL = attn_opts_default(). Writes A (n, n): row i is token i's weights over
 * the keys (rows sum to 1, or are all 0 when every key is masked), and Z (n, h->d_model). h, X and A must not be
 * NULL; Z NULL computes A alone (required when attn_head_has_output(h) is 0); A and Z are the caller's and must not
 * alias X. Uses sgemm and O(n·(d_model + 4·d_k)) floats of
 * scratch (freed before returning). On failure A and Z hold nothing meaningful.
 * Errors: EV_ERR_USAGE (n = 0, a bad position_scale, Z given for a head without output), EV_ERR_NOMEM
 * (n > ATTN_MAX_TOKENS, out of memory), EV_ERR_FORMAT (a non-finite value in X, or float32 overflow in the scores or output). */
ev_status attn_forward(const attn_head *h, const float *X, const unsigned char *key_mask, size_t n,
                       const attn_opts *opts, float *A, float *Z, ev_error *err);

/* The intermediate values of one attn_forward, for showing the computation step by step (attn_forward_steps). */
typedef struct {
    size_t n, d_model, d_k;
    float *x;               /* (n, d_model) the input as given (X) */
    float *pos;             /* (n, d_model) the scaled positions s·P added to it, or NULL without positions */
    float *q, *k, *v;       /* (n, d_k) each: X'·W_Q, X'·W_K, X'·W_V (X' itself for the identity head) */
    float *scores;          /* (n, n) q_i·k_j/√d_k, before the mask and the softmax */
    unsigned char *allowed; /* (n, n) 1: the softmax allows key j for query i (not masked, j ≤ i when causal, j ≠ i
                             * when the head excludes itself) */
    float *av;              /* (n, d_k) A·V, the weighted sum of the values */
    float *out;             /* (n, d_model) A·V·W_O (A·V itself without W_O), or NULL when Z was not asked for */
} attn_steps;

/* attn_forward, keeping its intermediate values in steps (allocated here, owned by the caller: attn_steps_free;
 * steps NULL: attn_forward itself). The numbers are the ones attn_forward computes, not a recomputation: A and Z
 * are bit for bit attn_forward's. On failure steps is empty. Errors: attn_forward's. */
ev_status attn_forward_steps(const attn_head *h, const float *X, const unsigned char *key_mask, size_t n,
                             const attn_opts *opts, float *A, float *Z, attn_steps *steps, ev_error *err);

/* Releases what attn_forward_steps kept. NULL-safe, idempotent. */
void attn_steps_free(attn_steps *s);

/* The same computation with plain loops accumulating in double: the reference twin for tests. */
ev_status attn_forward_naive(const attn_head *h, const float *X, const unsigned char *key_mask, size_t n,
                             const attn_opts *opts, float *A, float *Z, ev_error *err);

const char *attn_positions_name(attn_positions p); /* "none", "sinusoidal" */

#endif
