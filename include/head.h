/* head — a single attention head learned over frozen word vectors: masked-word prediction, its evaluation against
 * untrained attention patterns, and head files that carry the training state.
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
 * W_O (Adam, linearly decayed learning rate); E is frozen. The 10 % random / 10 % own-word queries (BERT's recipe)
 * train the word-query path, which is what the main view shows: there every token's query is its own vector.
 * P_j: attention.h's sinusoids, scaled by s = position_scale (0.3 by default: norm 2.1 against GloVe norms ≈ 5).
 *
 * Tokens: the tokenizer's (tokenizer.h, with its fallbacks: n't → not, 're → are …). A token without a vector —
 * in wink's GloVe subset single letters (a, i), 's, plain numbers — is a placeholder: its position is kept, but it
 * is never a key, a value or a target. A token whose row is ≥ n_cand is a key and value but never a target.
 *
 * Numbers: float32 with sgemm into preallocated buffers; a double-precision twin of the loss for the gradient
 * check. Deterministic for a seed and a thread count (OpenBLAS's thread count is set for the duration, every
 * reduction has a fixed order, threads own fixed ranges).
 *
 * Head file (attention.h's format, which attn_head_load reads) plus training state:
 *     w_q, w_k, w_v F32 [d_model, d_k]   w_o F32 [d_k, d_model]
 *     train_mask F32 [1, d_model]   the [MASK] query input M
 *     train_bias F32 [1, n_cand]    the output bias b (its length is the number of candidates)
 *     __metadata__: format "embvsattn-head", format_version "1", kind "trained", positions "sinusoidal",
 *         position_scale, self_attention "excluded" (attention.h: the main view then masks each token's own key,
 *         as in training, so a row shows where the word itself, as the query, looks in its context), description, seed, tool_version, candidates, vectors_dim, vectors_fingerprint (see
 *         head_fingerprint), train_* (the training settings and final loss).
 * A head file without train_* tensors (written by another tool) loads with M = 0 and b = 0 over
 * HEAD_DEFAULT_CANDIDATES candidates; one without w_o (d_k = d_model) with W_O = I.
 */
#ifndef HEAD_H
#define HEAD_H

#include <stddef.h>
#include <stdint.h>

#include "attention.h"
#include "ev_error.h"
#include "store.h"

#define HEAD_DEFAULT_DK 64
#define HEAD_DEFAULT_CANDIDATES 30000
#define HEAD_DEFAULT_NEGATIVES 4096
#define HEAD_DEFAULT_POSITION_SCALE 0.3f
#define HEAD_DEFAULT_LR 0.01f
#define HEAD_DEFAULT_EPOCHS 4
#define HEAD_DEFAULT_BATCH_TOKENS 4096
#define HEAD_MAX_LEN 64          /* tokens per sentence: longer lines are cut into pieces of at most this */
#define HEAD_QUERY_MASK (-1)     /* head_batch.query: the [MASK] vector */

/* ---- parameters ---------------------------------------------------------------------------------------- */

typedef struct {
    size_t d_model, d_k, n_cand;
    attn_positions positions;  /* ATTN_POS_SINUSOIDAL for trained heads */
    float position_scale;
    size_t n_params;
    float *params;             /* (n_params) every parameter, contiguous, in this order: */
    float *w_q;                /*   (d_model, d_k) */
    float *w_k;                /*   (d_model, d_k) */
    float *w_v;                /*   (d_model, d_k) */
    float *w_o;                /*   (d_k, d_model) */
    float *mask;               /*   (d_model) the [MASK] query input */
    float *bias;               /*   (n_cand) output bias */
    uint64_t fingerprint;      /* head_fingerprint of the vectors it was trained on (has_fingerprint) */
    int has_fingerprint;
    char *description;         /* one line (may be NULL) */
} head_params;

/* A head of zeros for vectors of dimension d_model. NULL on out of memory or a zero/overflowing size. */
head_params *head_params_new(size_t d_model, size_t d_k, size_t n_cand);

/* Releases everything. NULL-safe. */
void head_params_free(head_params *p);

/* The vectors' identity as far as a head cares: FNV-1a 64 over the words of the first n_cand rows (each with its NUL)
 * and the float bytes of every 100th of those rows. Cheap (≈ 0.3 ms for 30k rows). */
uint64_t head_fingerprint(const store *s, size_t n_cand);

/* ---- corpora ------------------------------------------------------------------------------------------- */

typedef struct {
    size_t n_sent;        /* sentences: pieces of a line of at most HEAD_MAX_LEN tokens with ≥ 2 known tokens */
    size_t n_tok;         /* tokens in them */
    size_t *start;        /* (n_sent + 1) token offset of each sentence */
    int32_t *row;         /* (n_tok) the token's store row; -1: a placeholder (no vector) */
    size_t n_lines;       /* non-empty lines read */
    size_t n_known;       /* tokens with a vector (in kept sentences) */
    size_t n_dropped;     /* tokens of pieces dropped for having fewer than 2 known tokens */
} head_corpus;

/* Reads plain-text files (UTF-8, one sentence per line is best; any text works, lines are cut at 4000 bytes and
 * into pieces of HEAD_MAX_LEN tokens), tokenized against s. max_tokens > 0: stop after that many tokens.
 * Errors: EV_ERR_IO (cannot open/read), EV_ERR_FORMAT ("FILE:LINE: …" invalid UTF-8 or a NUL byte; a corpus with
 * no non-empty line), EV_ERR_NOTFOUND (no line has two words with vectors), EV_ERR_NOMEM. */
ev_status head_corpus_read(const store *s, const char *const *paths, size_t n_paths, size_t max_tokens,
                           head_corpus *out, ev_error *err);

/* Releases a corpus. NULL-safe, idempotent. */
void head_corpus_free(head_corpus *c);

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
 * per-row loops. Errors: EV_ERR_NOMEM. */
ev_status head_work_new(const store *s, const head_params *p, size_t max_tok, size_t max_neg, int threads,
                        head_work **out, ev_error *err);
void head_work_free(head_work *w);

/* Mean sampled-softmax loss over the batch's targets (*loss; 0 targets: 0) and its gradient with respect to every
 * parameter, written to head_work_grad (same layout as p->params). Errors: EV_ERR_USAGE (batch larger than the
 * buffers, a row out of range). */
ev_status head_loss_grad(head_work *w, const head_batch *b, double *loss, ev_error *err);
const float *head_work_grad(const head_work *w);

/* The same loss with plain loops in double precision: the reference for the finite-difference check. */
double head_loss_reference(const store *s, const head_params *p, const head_batch *b);

/* ---- training ------------------------------------------------------------------------------------------ */

typedef struct {
    size_t epoch, epochs;      /* 1-based */
    size_t step, steps;        /* global step, 1-based; steps: the estimated total */
    size_t tokens, total_tokens;
    double loss;               /* mean loss of this epoch's steps so far */
    double tokens_per_s;
    double seconds;
    float lr;                  /* the step's learning rate */
} head_progress;

typedef void (*head_progress_fn)(void *ctx, const head_progress *pr);

typedef struct {
    size_t d_k;                /* 0: HEAD_DEFAULT_DK */
    size_t n_cand;             /* 0: HEAD_DEFAULT_CANDIDATES (capped to the store's size) */
    size_t n_neg;              /* 0: HEAD_DEFAULT_NEGATIVES */
    size_t batch_tokens;       /* 0: HEAD_DEFAULT_BATCH_TOKENS */
    size_t epochs;             /* 0: HEAD_DEFAULT_EPOCHS */
    float lr;                  /* 0: HEAD_DEFAULT_LR; decays linearly to 0 over the run */
    uint64_t seed;
    int threads;               /* ≥ 1 */
    attn_positions positions;  /* ATTN_POS_SINUSOIDAL (default) or ATTN_POS_NONE */
    float position_scale;      /* < 0: HEAD_DEFAULT_POSITION_SCALE */
    head_progress_fn progress; /* called after every step; may be NULL */
    void *progress_ctx;
} head_train_opts;

/* Defaults (seed 1, 1 thread, sinusoidal positions). */
head_train_opts head_train_opts_default(void);

typedef struct {
    size_t steps, targets;     /* steps taken; target positions per epoch */
    double final_loss;         /* mean loss of the last epoch */
    double seconds;
} head_train_stats;

/* Trains a head on corpus c over the vectors s. *out owns the result (head_params_free). Errors: EV_ERR_NOTFOUND
 * (no target: no known word among the candidates), EV_ERR_USAGE (bad options), EV_ERR_NOMEM,
 * EV_ERR_FORMAT (the loss became non-finite). */
ev_status head_train(const store *s, const head_corpus *c, const head_train_opts *o, head_params **out,
                     head_train_stats *stats, ev_error *err);

/* ---- evaluation ---------------------------------------------------------------------------------------- */

/* The attention patterns compared, all with the trained head's readout (W_V, W_O, bias, candidates) and the same
 * inputs (the [MASK] query M + position at the hidden token, x_j at the others, its own key/value excluded). */
typedef enum {
    HEAD_EVAL_TRAINED = 0,  /* the head's W_Q, W_K */
    HEAD_EVAL_IDENTITY = 1, /* W_Q = W_K = I (d_k = d_model): similarity of the inputs */
    HEAD_EVAL_UNIFORM = 2,  /* equal weights on the other known tokens (CBOW-like) */
    HEAD_EVAL_RANDOM = 3,   /* W_Q, W_K of attn_head_random(d_model, d_k, ATTN_DEFAULT_SEED) */
    HEAD_EVAL_KINDS = 4
} head_eval_kind;

const char *head_eval_kind_name(head_eval_kind k); /* "trained", "identity", "uniform", "random" */

typedef struct {
    size_t n, top1, top10;                 /* all evaluated positions */
    size_t n_content, top1_content, top10_content; /* those whose word is a content word */
    /* paired with the trained head on top-10, all positions: b = trained hit and this one missed, c = the
     * reverse (for the standard error of the difference) */
    size_t top10_only_trained, top10_only_this;
    size_t top10_only_trained_content, top10_only_this_content;
} head_eval_counts;

typedef struct {
    head_eval_counts k[HEAD_EVAL_KINDS];
    size_t n_cand;
    size_t skipped;      /* known tokens not evaluated: outside the candidates */
    double seconds;
} head_eval_result;

/* Masked-word prediction on every target position of c with the [MASK] query, full softmax over the n_cand
 * candidates (the rank of the hidden word among them; ties broken towards the lower row), for each kind.
 * threads ≥ 1. Errors: EV_ERR_NOTFOUND (no position to evaluate), EV_ERR_NOMEM. */
ev_status head_evaluate(const store *s, const head_params *p, const head_corpus *c, int threads,
                        head_eval_result *out, ev_error *err);

/* Content word: contains a letter and is not on NLTK's English stop-word list (179 words: the, of, is, he, not …),
 * compared case-insensitively. Punctuation and symbols are not content words. */
int head_is_content_word(const char *w, size_t n);

/* ---- head files ---------------------------------------------------------------------------------------- */

typedef struct {
    const char *corpus;        /* a label for the corpus (basenames; no absolute paths, for reproducible bytes) */
    uint64_t seed;
    size_t epochs, n_neg, batch_tokens, threads, tokens, sentences;
    float lr;
    double final_loss;
} head_train_meta;

/* Writes p as a head file at path, atomically (outfile.h). meta may be NULL. EV_ERR_WRITE, EV_ERR_NOMEM. */
ev_status head_save(const head_params *p, const head_train_meta *meta, const char *path, ev_error *err);

/* Reads a head file (attn_head_load's checks, then train_mask [1, d_model] and train_bias [1, n]).
 * d_model_expected: the vectors' dimension (0: no check). Errors: as attn_head_load. */
ev_status head_load(const char *path, size_t d_model_expected, head_params **out, ev_error *err);
ev_status head_load_bytes(const unsigned char *buf, size_t size, const char *name, size_t d_model_expected,
                          head_params **out, ev_error *err);

/* An attention head for attn_forward with p's projections and positions (copied). EV_ERR_NOMEM. */
ev_status head_to_attn(const head_params *p, attn_head **out, ev_error *err);

/* The head built into the binary (data/head.safetensors when it was built; see the Makefile), if it was trained
 * on these vectors (same head_fingerprint). EV_ERR_NOTFOUND with a message saying why not (none built in, other
 * vectors); EV_ERR_FORMAT when the built-in bytes do not load. */
ev_status head_builtin(const store *s, head_params **out, ev_error *err);
ev_status head_builtin_attn(const store *s, attn_head **out, ev_error *err);

/* The bytes of the built-in head (generated at build time; size 0 when none). */
extern const unsigned char head_builtin_data[];
extern const size_t head_builtin_size;

#endif
