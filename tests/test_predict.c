/* test_predict — predict.h and the view's predictions: the sgemm readout against its double twin (each row's top
 * list and the mean of several rows'), [MASK] queries against their twin, against attn_forward with the [MASK]
 * input in the row (what the view draws for a blank) and against the training forward pass (head_forward); the
 * view's vectors in context with a blank against the context head's training forward pass (ctx_forward), and the
 * view's lists against predict_topk of those vectors. Any mismatch makes the process exit non-zero. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attention.h"
#include "check.h"
#include "head_context.h"
#include "head_model.h"
#include "predict.h"
#include "store.h"
#include "test_rand.h"
#include "test_stores.h"
#include "view.h"

static void fill_random(attn_head *h, float sd)
{
    for (size_t i = 0; i < h->n_params; i++)
        h->params[i] = sd * nrand();
    if (h->train_scale)
        h->train_scale[0] = 1.7f;
}

static float max_abs_diff(const float *a, const float *b, size_t n)
{
    float m = 0;
    for (size_t i = 0; i < n; i++)
        m = fabsf(a[i] - b[i]) > m ? fabsf(a[i] - b[i]) : m;
    return m;
}

/* Two top lists agree: the same probabilities (within tol) at each rank, the same word unless two probabilities
 * are within tol (a near tie may order either way). */
static int same_top(const sim_hit *a, const sim_hit *b, size_t k, float tol)
{
    for (size_t j = 0; j < k; j++) {
        if (fabsf(a[j].score - b[j].score) > tol)
            return 0;
        if (a[j].row != b[j].row) {
            int near = (j > 0 && fabsf(a[j].score - a[j - 1].score) < tol) ||
                       (j + 1 < k && fabsf(a[j].score - a[j + 1].score) < tol);
            if (!near)
                return 0;
        }
        if (j && a[j].score > a[j - 1].score)
            return 0;
    }
    return 1;
}

static void test_readout(store *s, attn_head *h, const char *what)
{
    size_t d = store_dim(s), m = 37, k = PREDICT_K; /* more rows than a tile */
    float *Z = malloc(m * d * sizeof *Z);
    sim_hit *a = malloc(m * k * sizeof *a), *b = malloc(m * k * sizeof *b), ma[PREDICT_K], mb[PREDICT_K];
    for (size_t i = 0; i < m * d; i++)
        Z[i] = 0.4f * nrand();
    ev_error err = {0};
    CHECK(predict_topk(s, h, Z, m, k, a, &err) == EV_OK, "%s: predict_topk", what);
    CHECK(predict_topk_naive(s, h, Z, m, k, b, &err) == EV_OK, "%s: predict_topk_naive", what);
    size_t bad = 0;
    for (size_t i = 0; i < m; i++)
        bad += !same_top(a + i * k, b + i * k, k, 2e-5f);
    CHECK(bad == 0, "%s: %zu of %zu rows' top lists differ from the twin", what, bad, m);
    int sharp = 0; /* the test means something: some row's top word is clearly likelier than uniform */
    for (size_t i = 0; i < m; i++)
        sharp |= a[i * k].score > 5.0f / (float)h->candidates;
    CHECK(sharp, "%s: every distribution is flat", what);
    CHECK(predict_mean_topk(s, h, Z, m, k, ma, &err) == EV_OK, "%s: predict_mean_topk", what);
    CHECK(predict_mean_topk_naive(s, h, Z, m, k, mb, &err) == EV_OK, "%s: predict_mean_topk_naive", what);
    CHECK(same_top(ma, mb, k, 2e-5f), "%s: the mean's top list differs from the twin", what);
    CHECK(predict_mean_topk(s, h, Z + 5 * d, 1, k, ma, &err) == EV_OK && same_top(ma, a + 5 * k, k, 1e-6f),
          "%s: the mean of one row is not that row", what);
    CHECK(predict_mean_topk(s, h, Z, 0, k, ma, &err) == EV_ERR_USAGE, "%s: the mean of no rows", what);
    ev_error_clear(&err);
    free(Z);
    free(a);
    free(b);
}

static void test_mask_queries(store *s, attn_head *h)
{
    size_t d = store_dim(s), n = 9;
    float *X = malloc(n * d * sizeof *X), *Z = malloc(n * d * sizeof *Z), *Zn = malloc(n * d * sizeof *Zn);
    unsigned char mask[9] = {0, 0, 1, 0, 0, 0, 0, 1, 0}, nk[9], nkn[9];
    size_t pos[9];
    int32_t row[9];
    for (size_t i = 0; i < n; i++) {
        pos[i] = i;
        row[i] = mask[i] ? -1 : (int32_t)(3 + 7 * i);
        if (mask[i])
            memset(X + i * d, 0, d * sizeof *X);
        else
            memcpy(X + i * d, store_row(s, (size_t)row[i]), d * sizeof *X);
    }
    attn_opts o = attn_opts_default();
    o.positions = h->positions;
    o.position_scale = h->position_scale;
    ev_error err = {0};
    for (int causal = 0; causal < 2; causal++) {
        o.causal = causal;
        CHECK(predict_mask_outputs(h, X, mask, n, &o, pos, n, Z, nk, &err) == EV_OK, "mask outputs");
        CHECK(predict_mask_outputs_naive(h, X, mask, n, &o, pos, n, Zn, nkn, &err) == EV_OK, "mask outputs naive");
        CHECK(max_abs_diff(Z, Zn, n * d) < 1e-4f, "causal %d: [MASK] outputs differ from the twin by %g", causal,
              (double)max_abs_diff(Z, Zn, n * d));
        CHECK(memcmp(nk, nkn, n) == 0 && nk[0] == causal && !nk[1], "causal %d: no-key flags", causal);
    }
    o.causal = 0;
    CHECK(predict_mask_outputs(h, X, mask, n, &o, pos, n, Z, nk, &err) == EV_OK, "mask outputs");
    /* what the view draws for a blank: attn_forward with the [MASK] input in its row and its key masked */
    float *Xm = malloc(n * d * sizeof *Xm), *A = malloc(n * n * sizeof *A), *Za = malloc(n * d * sizeof *Za);
    for (size_t i = 0; i < n; i++) {
        memcpy(Xm, X, n * d * sizeof *Xm);
        memcpy(Xm + i * d, h->train_mask, d * sizeof *Xm);
        unsigned char km[9];
        memcpy(km, mask, n);
        km[i] = 1;
        CHECK(attn_forward(h, Xm, km, n, &o, A, Za, &err) == EV_OK, "attn_forward");
        CHECK(max_abs_diff(Za + i * d, Z + i * d, d) < 1e-4f, "token %zu: attn_forward's [MASK] row differs by %g",
              i, (double)max_abs_diff(Za + i * d, Z + i * d, d));
    }
    /* what training computed: head_forward with a [MASK] query at each target */
    head_work *w = NULL;
    CHECK(head_work_new(s, h, n, 1, 1, &w, &err) == EV_OK, "head_work_new: %s", err.msg ? err.msg : "");
    size_t start[2] = {0, n};
    int32_t query[9];
    unsigned char target[9];
    for (size_t i = 0; w && i < n; i++) {
        if (mask[i])
            continue;
        for (size_t t = 0; t < n; t++) {
            query[t] = t == i ? HEAD_QUERY_MASK : row[t];
            target[t] = t == i;
        }
        head_batch b = {1, start, row, query, target, 0, NULL, NULL};
        size_t nt = 0;
        CHECK(head_forward(w, &b, HEAD_PATTERN_TRAINED, NULL, NULL, &nt, &err) == EV_OK && nt == 1,
              "head_forward: %s", err.msg ? err.msg : "");
        if (nt == 1)
            CHECK(max_abs_diff(head_work_outputs(w), Z + i * d, d) < 1e-4f,
                  "token %zu: the training forward pass differs by %g", i,
                  (double)max_abs_diff(head_work_outputs(w), Z + i * d, d));
    }
    head_work_free(w);
    size_t bad_pos = 9;
    CHECK(predict_mask_outputs(h, X, mask, n, &o, &bad_pos, 1, Z, NULL, &err) == EV_ERR_USAGE, "position beyond n");
    ev_error_clear(&err);
    free(X);
    free(Z);
    free(Zn);
    free(Xm);
    free(A);
    free(Za);
}

/* The view with a context head and a blank: its vectors in context are ctx_forward's with the blank as the hidden
 * word, and its lists are predict_topk's of them; the blank's list is the mean of theirs. */
static void test_view_context(store *s, attn_head *h)
{
    size_t d = store_dim(s);
    const char *text = "w3 w17 _ w40 w9";
    view_opts o = {0};
    o.head = h;
    o.attn = attn_opts_default();
    o.attn.positions = h->positions;
    o.attn.position_scale = h->position_scale;
    o.residual = 1;
    o.k = 3;
    o.top = 2;
    o.predict = 1;
    o.mask = "_";
    view_sentence v;
    ev_error err = {0};
    CHECK(view_build(s, text, strlen(text), &o, &v, &err) == EV_OK, "view_build: %s", err.msg ? err.msg : "");
    if (err.code != EV_OK)
        return;
    CHECK(v.n == 5 && v.n_hidden == 1 && v.hidden[2] && v.masked[2] && v.pk == PREDICT_K, "the blank");
    ctx_work *w = NULL;
    CHECK(ctx_work_new(s, h, 5, 1, &w, &err) == EV_OK, "ctx_work_new: %s", err.msg ? err.msg : "");
    size_t start[2] = {0, 5};
    int32_t row[5] = {3, 17, 25, 40, 9}, hidden = 2;
    unsigned char pred[5] = {1, 1, 0, 1, 1};
    ctx_batch b = {1, start, row, &hidden, pred};
    size_t nr = 0;
    CHECK(w && ctx_forward(w, &b, HEAD_PATTERN_TRAINED, NULL, NULL, &nr, &err) == EV_OK && nr == 4, "ctx_forward");
    sim_hit top[PREDICT_K], mean[PREDICT_K];
    for (size_t r = 0; r < nr; r++) {
        size_t t = ctx_work_rows(w)[r];
        CHECK(max_abs_diff(ctx_work_outputs(w) + r * d, v.Z + t * d, d) < 1e-4f,
              "token %zu: the view's vector in context differs from training's by %g", t,
              (double)max_abs_diff(ctx_work_outputs(w) + r * d, v.Z + t * d, d));
        CHECK(predict_topk(s, h, v.Z + t * d, 1, PREDICT_K, top, &err) == EV_OK &&
                  same_top(top, v.pred + t * PREDICT_K, PREDICT_K, 1e-5f),
              "token %zu: the view's list", t);
    }
    float Zr[4 * 64];
    size_t m = 0;
    for (size_t t = 0; t < 5; t++)
        if (t != 2)
            memcpy(Zr + (m++) * d, v.Z + t * d, d * sizeof(float));
    CHECK(predict_mean_topk(s, h, Zr, m, PREDICT_K, mean, &err) == EV_OK &&
              same_top(mean, v.pred + 2 * PREDICT_K, PREDICT_K, 1e-5f),
          "the blank's guess is not the mean of the others'");
    ctx_work_free(w);
    view_free(&v);
    ev_error_clear(&err);
}

/* The view with a masked-word head: every token's list is the [MASK] query's at its position. */
static void test_view_mlm(store *s, attn_head *h)
{
    size_t d = store_dim(s);
    const char *text = "w3 _ w17 w40";
    view_opts o = {0};
    o.head = h;
    o.attn = attn_opts_default();
    o.attn.positions = h->positions;
    o.attn.position_scale = h->position_scale;
    o.k = 3;
    o.top = 2;
    o.predict = 1;
    o.mask = "_";
    view_sentence v;
    ev_error err = {0};
    CHECK(view_build(s, text, strlen(text), &o, &v, &err) == EV_OK, "view_build: %s", err.msg ? err.msg : "");
    if (err.code != EV_OK)
        return;
    size_t pos[4] = {0, 1, 2, 3};
    float Z[4 * 64];
    sim_hit top[4 * PREDICT_K];
    CHECK(predict_mask_outputs(h, v.X, v.masked, 4, &o.attn, pos, 4, Z, NULL, &err) == EV_OK &&
              predict_topk(s, h, Z, 4, PREDICT_K, top, &err) == EV_OK,
          "mask outputs");
    for (size_t t = 0; t < 4; t++)
        CHECK(same_top(top + t * PREDICT_K, v.pred + t * PREDICT_K, PREDICT_K, 1e-5f), "token %zu's list", t);
    /* the blank's row of the view is the [MASK] query's output (its input is the [MASK] vector) */
    CHECK(max_abs_diff(v.Z + 1 * d, Z + 1 * d, d) < 1e-4f, "the blank's vector differs by %g",
          (double)max_abs_diff(v.Z + 1 * d, Z + 1 * d, d));
    view_free(&v);
    /* without --predict and blanks nothing is computed */
    o.predict = 0;
    o.mask = NULL;
    CHECK(view_build(s, text, strlen(text), &o, &v, &err) == EV_OK && v.pred == NULL && v.pk == 0,
          "predictions computed without being asked for");
    view_free(&v);
    ev_error_clear(&err);
}

int main(void)
{
    size_t V = 600, d = 24, dk = 8, nc = 500;
    store *s = test_make_store(V, d, 0.5f);
    attn_head *mlm = NULL, *ctx = NULL;
    ev_error err = {0};
    if (head_model_new(d, dk, nc, &mlm, &err) != EV_OK || ctx_model_new(d, dk, nc, &ctx, &err) != EV_OK) {
        fprintf(stderr, "heads: %s\n", err.msg);
        return 1;
    }
    fill_random(mlm, 0.5f);
    fill_random(ctx, 0.5f);
    CHECK(predict_supported(mlm, s) && predict_supported(ctx, s), "trained heads predict");
    attn_head *id = NULL;
    CHECK(attn_head_identity(d, &id, &err) == EV_OK && !predict_supported(id, s), "identity predicts nothing");
    attn_head_free(id);
    test_readout(s, mlm, "mlm");
    test_readout(s, ctx, "context");
    test_mask_queries(s, mlm);
    test_view_context(s, ctx);
    test_view_mlm(s, mlm);
    attn_head_free(mlm);
    attn_head_free(ctx);
    store_close(s);
    return check_done("test_predict");
}
