/* head_train — the training loop shared by the head objectives: shuffled batches of whole sentences, Adam, the
 * learning-rate schedule and progress (head_train.h). */
#include "head_train.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

#define ADAM_B1 0.9f
#define ADAM_B2 0.999f
#define ADAM_EPS 1e-8f

head_train_opts head_train_opts_default(void)
{
    head_train_opts o;
    memset(&o, 0, sizeof o);
    o.seed = 1;
    o.threads = 1;
    return o;
}

ev_status head_train_resolve(const head_train_opts *in, head_train_opts *out, ev_error *err)
{
    *out = in ? *in : head_train_opts_default();
    if (!out->batch_tokens)
        out->batch_tokens = HEAD_DEFAULT_BATCH_TOKENS;
    if (!out->epochs)
        out->epochs = HEAD_DEFAULT_EPOCHS;
    if (!(out->lr > 0))
        out->lr = HEAD_DEFAULT_LR;
    if (!(isfinite(out->lr) && out->lr < 100.0f) || out->batch_tokens > 1u << 20 || out->epochs > 100000)
        return ev_fail(err, EV_ERR_USAGE, "bad training options (lr %g, batch %zu, epochs %zu)", (double)out->lr,
                       out->batch_tokens, out->epochs);
    if (out->batch_tokens < CORPUS_MAX_LEN)
        out->batch_tokens = CORPUS_MAX_LEN;
    if (out->threads < 1)
        out->threads = 1;
    return EV_OK;
}

ev_status head_train_run(const corpus *c, const head_train_opts *o, const head_objective *obj, uint64_t *rng,
                         head_train_stats *stats, ev_error *err)
{
    size_t BT = o->batch_tokens, epochs = o->epochs, P = obj->n_params;
    float lr0 = o->lr;
    double t_start = ev_seconds();
    ev_status st = EV_OK;
    size_t max_sent = BT + 2; /* sentences have at least 2 tokens: generous */
    size_t *perm = malloc(c->n_sent * sizeof *perm), *bstart = malloc((max_sent + 1) * sizeof *bstart);
    int32_t *brow = malloc((BT + CORPUS_MAX_LEN) * sizeof *brow);
    float *am = calloc(P, sizeof *am), *av = calloc(P, sizeof *av); /* Adam's moments */
    int saved_threads = openblas_get_num_threads();
    openblas_set_num_threads(o->threads < 1 ? 1 : o->threads);
    if (!perm || !bstart || !brow || !am || !av) {
        st = ev_fail(err, EV_ERR_NOMEM, "out of memory preparing the training");
        goto done;
    }
    for (size_t i = 0; i < c->n_sent; i++)
        perm[i] = i;
    size_t total_tokens = epochs * c->n_tok, done_tokens = 0, step = 0;
    size_t steps_est = epochs * ((c->n_tok + BT - 1) / BT);
    double epoch_loss = 0;
    for (size_t ep = 1; ep <= epochs; ep++) {
        for (size_t i = c->n_sent; i > 1; i--) { /* Fisher-Yates */
            size_t j = rng_below(rng, i);
            size_t tmp = perm[i - 1];
            perm[i - 1] = perm[j];
            perm[j] = tmp;
        }
        double loss_sum = 0;
        size_t loss_steps = 0;
        for (size_t si = 0; si < c->n_sent;) {
            /* 1. a batch of whole sentences, at most BT tokens */
            size_t ns = 0, T = 0;
            bstart[0] = 0;
            while (si < c->n_sent && ns < max_sent) {
                size_t sn = perm[si], n = c->start[sn + 1] - c->start[sn];
                if (ns > 0 && T + n > BT)
                    break;
                memcpy(brow + T, c->row + c->start[sn], n * sizeof *brow);
                T += n;
                bstart[++ns] = T;
                si++;
            }
            /* 2. the objective's loss and gradient */
            corpus_batch b = {ns, bstart, brow};
            double loss;
            const float *g;
            if ((st = obj->step(obj->ctx, &b, rng, &loss, &g, err)) != EV_OK)
                goto done;
            if (!isfinite(loss)) {
                st = ev_fail(err, EV_ERR_FORMAT, "the training loss became %g at step %zu: try a smaller --lr",
                             loss, step + 1);
                goto done;
            }
            /* 3. Adam, learning rate decayed linearly to 0 over the run */
            step++;
            float lr = (float)((double)lr0 * (1.0 - (double)done_tokens / (double)total_tokens));
            float bc1 = 1.0f - powf(ADAM_B1, (float)step), bc2 = 1.0f - powf(ADAM_B2, (float)step);
            float *p = obj->params;
            for (size_t i = 0; i < P; i++) {
                am[i] = ADAM_B1 * am[i] + (1.0f - ADAM_B1) * g[i];
                av[i] = ADAM_B2 * av[i] + (1.0f - ADAM_B2) * g[i] * g[i];
                p[i] -= lr * (am[i] / bc1) / (sqrtf(av[i] / bc2) + ADAM_EPS);
            }
            done_tokens += T;
            loss_sum += loss;
            loss_steps++;
            if (o->progress) {
                double el = ev_seconds() - t_start;
                head_progress pr = {ep, epochs, step, steps_est > step ? steps_est : step, done_tokens, total_tokens,
                                    loss_sum / (double)loss_steps, el > 0 ? (double)done_tokens / el : 0, el, lr};
                o->progress(o->progress_ctx, &pr);
            }
        }
        epoch_loss = loss_steps ? loss_sum / (double)loss_steps : 0;
    }
    for (size_t i = 0; i < P; i++)
        if (!isfinite(obj->params[i])) {
            st = ev_fail(err, EV_ERR_FORMAT, "training produced a non-finite parameter: try a smaller --lr");
            goto done;
        }
    if (stats) {
        stats->steps = step;
        stats->final_loss = epoch_loss;
        stats->seconds = ev_seconds() - t_start;
    }
done:
    openblas_set_num_threads(saved_threads);
    free(perm);
    free(bstart);
    free(brow);
    free(am);
    free(av);
    return st;
}
