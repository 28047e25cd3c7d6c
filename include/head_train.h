/* head_train — the training loop every head objective shares: epochs over the corpus's sentences in an order
 * shuffled from the run's generator, batches of whole sentences, one objective step per batch (its loss and
 * gradient), Adam with a learning rate decayed linearly to 0 over the run's tokens, a progress callback after every
 * step, and the checks that the loss and the parameters stay finite.
 *
 * An objective (head_model.h's masked-word prediction, say) owns its model: it creates and initialises the
 * parameters (from the run's generator, seeded with the seed), hands the loop one contiguous array of them and a
 * step function, and reads its figures back from head_train_stats.
 *
 * Deterministic for a seed and a thread count: the loop's own draws (the shuffle, in Fisher-Yates order, at the
 * start of each epoch) and the objective's come from one splitmix64 stream (rng.h) in a fixed order; OpenBLAS's
 * thread count is set to the run's for its duration.
 */
#ifndef HEAD_TRAIN_H
#define HEAD_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "corpus.h"
#include "ev_error.h"

#define HEAD_DEFAULT_LR 0.01f
#define HEAD_DEFAULT_EPOCHS 4
#define HEAD_DEFAULT_BATCH_TOKENS 4096

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
    size_t batch_tokens;       /* 0: HEAD_DEFAULT_BATCH_TOKENS (at least CORPUS_MAX_LEN: a sentence always fits) */
    size_t epochs;             /* 0: HEAD_DEFAULT_EPOCHS */
    float lr;                  /* 0: HEAD_DEFAULT_LR; decays linearly to 0 over the run */
    uint64_t seed;
    int threads;               /* ≥ 1 */
    head_progress_fn progress; /* called after every step; may be NULL */
    void *progress_ctx;
} head_train_opts;

/* Defaults (seed 1, 1 thread, every size 0: its default). */
head_train_opts head_train_opts_default(void);

/* Copies in (NULL: the defaults) to *out with every 0 replaced by its default and batch_tokens raised to
 * CORPUS_MAX_LEN. EV_ERR_USAGE when a value is out of range (lr not below 100, batch over 2²⁰ tokens, more than
 * 100000 epochs). */
ev_status head_train_resolve(const head_train_opts *in, head_train_opts *out, ev_error *err);

typedef struct {
    size_t steps, targets;     /* steps taken; target positions per epoch (the objective's count) */
    double final_loss;         /* mean loss of the last epoch */
    double seconds;
} head_train_stats;

/* What the loop trains: n_params parameters in one array, updated in place, and the step that gives their gradient.
 * step: for the batch b (whole sentences in the shuffled order, at most batch_tokens tokens), draws what it needs
 * from *rng, sets *loss to the batch's mean loss and *grad to its gradient (n_params floats, the objective's, valid
 * until the next call). It returns EV_OK or an error, which ends the run. */
typedef struct {
    void *ctx;
    float *params;             /* (n_params) */
    size_t n_params;
    ev_status (*step)(void *ctx, const corpus_batch *b, uint64_t *rng, double *loss, const float **grad,
                      ev_error *err);
} head_objective;

/* Runs the loop (o resolved by head_train_resolve) over corpus c with objective obj, continuing the generator *rng
 * (the objective initialised its parameters from it). stats (may be NULL): steps, final loss, seconds; targets is
 * left to the objective. Errors: the step's, EV_ERR_FORMAT (the loss or a parameter became non-finite: "try a
 * smaller --lr"), EV_ERR_NOMEM. */
ev_status head_train_run(const corpus *c, const head_train_opts *o, const head_objective *obj, uint64_t *rng,
                         head_train_stats *stats, ev_error *err);

#endif
