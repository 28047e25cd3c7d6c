/* test_head_context — the context head's module (head_context.h): the sgemm loss against its double-precision
 * twin and PyTorch autograd (tests/fixtures/head/context.txt), every gradient against central finite differences
 * of that twin and against autograd, the same loss and gradient for 1 and 3
 * threads, the choice of hidden words and predicting rows, refused batches, deterministic training (two runs,
 * identical bytes), a learnable toy task on which the trained pattern beats identity, uniform and random attention
 * (head_eval.h), and the head file round trip (train_scale, task, residual). Any mismatch makes the process exit
 * non-zero. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attention.h"
#include "check.h"
#include "corpus.h"
#include "head_context.h"
#include "head_eval.h"
#include "head_file.h"
#include "store.h"
#include "test_rand.h"
#include "test_stores.h"

static char tmpdir[] = "/tmp/test_head_context.XXXXXX";

static char *tmp_path(const char *name)
{
    static char buf[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

/* ---- loss and gradients ------------------------------------------------------------------------------------ */

static void test_gradients(void)
{
    const size_t V = 40, d = 8, dk = 4, nc = 30;
    store *s = test_make_store(V, d, 1.0f);
    attn_head *p = NULL;
    ev_error err = {0};
    if (ctx_model_new(d, dk, nc, &p, &err) != EV_OK) {
        CHECK(0, "ctx_model_new: %s", err.msg);
        return;
    }
    for (size_t i = 0; i < p->n_params; i++)
        p->params[i] = 0.5f * nrand();
    p->train_scale[0] = 0.8f;
    p->position_scale = 0.3f;
    /* three sentences: a placeholder (-1), a key-only word (row ≥ nc), a sentence with no hidden word */
    size_t start[] = {0, 6, 8, 15};
    int32_t row[] = {3, -1, 7, 35, 12, 3, /**/ 5, 9, /**/ 20, 21, 22, -1, 29, 0, 38};
    int32_t hidden[] = {2, CTX_NO_HIDDEN, 4};
    unsigned char predict[] = {1, 0, 0, 1, 1, 1, /**/ 0, 0, /**/ 1, 0, 1, 0, 0, 1, 1};
    ctx_batch b = {3, start, row, hidden, predict};
    float *g1 = malloc(p->n_params * sizeof *g1);
    double loss1 = 0;
    for (int threads = 1; threads <= 3; threads += 2) {
        ctx_work *w = NULL;
        CHECK(ctx_work_new(s, p, 15, threads, &w, &err) == EV_OK, "ctx_work_new: %s", err.msg);
        double loss = 0;
        CHECK(ctx_loss_grad(w, &b, &loss, &err) == EV_OK, "ctx_loss_grad: %s", err.msg);
        double ref = ctx_loss_reference(s, p, &b);
        CHECK(fabs(loss - ref) <= 1e-5 * fabs(ref), "threads %d: loss %.9g, reference %.9g", threads, loss, ref);
        const float *g = ctx_work_grad(w);
        if (threads == 1) {
            memcpy(g1, g, p->n_params * sizeof *g1);
            loss1 = loss;
            /* every parameter: central differences of the double-precision twin, h = 2^-10 (exact in float) */
            double gmax = 0, worst = 0;
            size_t worst_i = 0, nonzero = 0;
            for (size_t i = 0; i < p->n_params; i++)
                gmax = fmax(gmax, fabs(g[i]));
            for (size_t i = 0; i < p->n_params; i++) {
                float keep = p->params[i], h = 0x1.0p-10f;
                p->params[i] = keep + h;
                double lp = ctx_loss_reference(s, p, &b);
                float up = p->params[i];
                p->params[i] = keep - h;
                double lm = ctx_loss_reference(s, p, &b);
                float dn = p->params[i];
                p->params[i] = keep;
                double fd = (lp - lm) / ((double)up - (double)dn);
                double e = fabs((double)g[i] - fd) / (1e-3 * gmax + 1e-3 * fabs(fd));
                nonzero += fd != 0.0;
                if (e > worst) {
                    worst = e;
                    worst_i = i;
                }
            }
            CHECK(worst <= 1.0, "gradient %zu off: worst error %.3g × the tolerance (1e-3 of the largest gradient + "
                  "1e-3 relative)", worst_i, worst);
            CHECK(nonzero > p->n_params / 2, "only %zu of %zu finite differences are non-zero", nonzero, p->n_params);
            printf("context gradient check: %zu parameters, worst error %.2g × the tolerance\n", p->n_params, worst);
        } else {
            /* threads own whole rows and sentences, reductions run in a fixed order: the same loss bits; the
             * gradient within float rounding of BLAS's own threading */
            CHECK(loss == loss1, "1 and 3 threads: loss %.17g vs %.17g", loss1, loss);
            double worst = 0;
            for (size_t i = 0; i < p->n_params; i++)
                worst = fmax(worst, fabs((double)g[i] - g1[i]) / (1e-6 + fabs(g1[i])));
            CHECK(worst < 1e-4, "1 and 3 threads: gradients differ by %.3g relative", worst);
        }
        ctx_work_free(w);
    }
    /* refused: a batch larger than the buffers, a predicting placeholder, a predicting hidden word, a hidden word
     * outside the candidates */
    ctx_work *w = NULL;
    ctx_work_new(s, p, 8, 1, &w, &err);
    double loss;
    CHECK(ctx_loss_grad(w, &b, &loss, &err) == EV_ERR_USAGE, "oversized batch accepted");
    ev_error_clear(&err);
    ctx_work_free(w);
    ctx_work_new(s, p, 15, 1, &w, &err);
    unsigned char bad1[15], bad2[15];
    memcpy(bad1, predict, 15);
    bad1[1] = 1; /* a placeholder */
    memcpy(bad2, predict, 15);
    bad2[2] = 1; /* the hidden word itself */
    ctx_batch b1 = {3, start, row, hidden, bad1}, b2 = {3, start, row, hidden, bad2};
    CHECK(ctx_loss_grad(w, &b1, &loss, &err) == EV_ERR_USAGE && strstr(err.msg, "predicts"), "placeholder predicts");
    ev_error_clear(&err);
    CHECK(ctx_loss_grad(w, &b2, &loss, &err) == EV_ERR_USAGE, "hidden word predicts");
    ev_error_clear(&err);
    int32_t hid_bad[] = {3, CTX_NO_HIDDEN, 4}; /* row 35 ≥ nc */
    ctx_batch b3 = {3, start, row, hid_bad, predict};
    CHECK(ctx_loss_grad(w, &b3, &loss, &err) == EV_ERR_USAGE && strstr(err.msg, "candidate"), "hidden outside");
    ev_error_clear(&err);
    ctx_work_free(w);
    /* a head of another kind is refused */
    attn_head *r = NULL;
    attn_head_random(d, dk, 1, &r, &err);
    CHECK(ctx_work_new(s, r, 15, 1, &w, &err) == EV_ERR_USAGE && w == NULL, "a random head accepted");
    ev_error_clear(&err);
    attn_head_free(r);
    free(g1);
    attn_head_free(p);
    store_close(s);
}

/* ---- the hidden word and the predicting rows --------------------------------------------------------------- */

static void test_choose(void)
{
    unsigned char pr[8];
    /* rows 3 and 150 are below / above skip_top 100; 5000 is outside 1000 candidates */
    int32_t row[] = {3, 150, -1, 7, 5000, 220};
    /* eligible hidden words (skip 100, candidates 1000): 150 (index 1) and 220 (index 5) */
    CHECK(ctx_choose(row, 6, 1000, 100, 0, 0.0, 0, NULL, pr) == 1, "u = 0 picks the first eligible word");
    CHECK(ctx_choose(row, 6, 1000, 100, 0, 0.999, 0, NULL, pr) == 5, "u → 1 picks the last eligible word");
    unsigned char want[] = {1, 1, 0, 1, 1, 0};
    CHECK(memcmp(pr, want, 6) == 0, "every other known token predicts (the placeholder does not)");
    /* no word above skip_top: fall back to any candidate */
    int32_t low[] = {3, 4, 5};
    CHECK(ctx_choose(low, 3, 1000, 100, 0, 0.5, 0, NULL, pr) == 1, "fallback to a frequent word");
    /* too few known tokens: nothing */
    int32_t two[] = {150, -1, 220};
    CHECK(ctx_choose(two, 3, 1000, 100, 0, 0.5, 0, NULL, pr) == CTX_NO_HIDDEN && !pr[0] && !pr[2], "two known tokens");
    /* rows = 2: exactly two predicting rows, from the generator, never the hidden one */
    uint64_t rng = 5;
    for (int k = 0; k < 50; k++) {
        int32_t h = ctx_choose(row, 6, 1000, 100, 0, urand(), 2, &rng, pr);
        int n = 0;
        for (int j = 0; j < 6; j++)
            n += pr[j];
        CHECK(n == 2 && !pr[h] && !pr[2], "rows = 2: %d rows, hidden %d", n, (int)h);
    }
}

/* The antecedent examples: the first repeated candidate word becomes "it" (row 9 here), its determiner (row 0)
 * goes, the word is appended as the hidden token. */
static void test_antecedent(void)
{
    const int32_t det[] = {0, 2};
    int32_t out[HEAD_MAX_LEN + 1];
    size_t m = 0, at = 0;
    int32_t a[] = {5, 150, 0, 150, 7}, wa[] = {5, 150, 9, 7, 150};
    CHECK(ctx_antecedent(a, 5, 1000, 100, 9, det, 2, out, &m, &at) == 1 && m == 5 && at == 2 &&
          memcmp(out, wa, sizeof wa) == 0, "'x w the w y' -> 'x w it y' + w (m %zu, at %zu)", m, at);
    int32_t b[] = {150, 7, 150}, wb[] = {150, 7, 9, 150};
    CHECK(ctx_antecedent(b, 3, 1000, 100, 9, det, 2, out, &m, &at) == 1 && m == 4 && at == 2 &&
          memcmp(out, wb, sizeof wb) == 0, "no determiner: the sentence grows by the hidden word");
    int32_t c[] = {150, 220, 220, 150}, wc[] = {150, 220, 9, 150, 220};
    CHECK(ctx_antecedent(c, 4, 1000, 100, 9, det, 2, out, &m, &at) == 1 && m == 5 && at == 2 &&
          memcmp(out, wc, sizeof wc) == 0, "the first word that repeats an earlier one");
    int32_t d[] = {-1, 150, -1}, e[] = {3, 7, 3}, f[] = {5000, 1, 5000}, g[] = {150, 220, 7};
    CHECK(ctx_antecedent(d, 3, 1000, 100, 9, det, 2, out, &m, &at) == 0, "placeholders are not words");
    CHECK(ctx_antecedent(e, 3, 1000, 100, 9, det, 2, out, &m, &at) == 0, "a frequent word (below skip_top)");
    CHECK(ctx_antecedent(f, 3, 1000, 100, 9, det, 2, out, &m, &at) == 0, "a word outside the candidates");
    CHECK(ctx_antecedent(g, 3, 1000, 100, 9, det, 2, out, &m, &at) == 0, "no repeated word");
    int32_t full[HEAD_MAX_LEN];
    for (size_t j = 0; j < HEAD_MAX_LEN; j++)
        full[j] = (int32_t)(200 + j);
    full[HEAD_MAX_LEN - 1] = 200;
    CHECK(ctx_antecedent(full, HEAD_MAX_LEN, 1000, 100, 9, det, 2, out, &m, &at) == 0,
          "an example longer than HEAD_MAX_LEN is not made");
    full[HEAD_MAX_LEN - 2] = 0; /* with a determiner before the repeat it stays HEAD_MAX_LEN long */
    CHECK(ctx_antecedent(full, HEAD_MAX_LEN, 1000, 100, 9, det, 2, out, &m, &at) == 1 && m == HEAD_MAX_LEN &&
          at == HEAD_MAX_LEN - 2 && out[m - 1] == 200, "a full sentence with a determiner before the repeat");
}

/* ---- training: determinism, a learnable toy task, head files ----------------------------------------------- */

static void test_training(void)
{
    store *s = test_make_store(60, 16, 1.0f);
    const char *toy = tmp_path("toy.txt"), *toy_test = tmp_path("toy_test.txt");
    test_write_toy(toy, 3000);
    test_write_toy(toy_test, 400);
    ev_error err = {0};
    corpus c, ct;
    const char *pt[] = {toy}, *ptt[] = {toy_test};
    CHECK(corpus_read(s, pt, 1, 0, &c, &err) == EV_OK, "toy corpus: %s", err.msg);
    CHECK(corpus_read(s, ptt, 1, 0, &ct, &err) == EV_OK, "toy test corpus: %s", err.msg);
    ctx_opts co = ctx_opts_default();
    co.d_k = 16;
    co.n_cand = 40;
    co.skip_top = 0;
    co.rows = 2;
    head_train_opts o = head_train_opts_default();
    o.batch_tokens = 256;
    o.epochs = 15;
    o.lr = 0.02f;
    o.seed = 7;
    o.threads = 2;
    attn_head *p1 = NULL, *p2 = NULL;
    head_train_stats st1, st2;
    CHECK(ctx_train(s, &c, &co, &o, &p1, &st1, &err) == EV_OK, "train: %s", err.msg);
    CHECK(ctx_train(s, &c, &co, &o, &p2, &st2, &err) == EV_OK, "train again: %s", err.msg);
    if (!p1 || !p2)
        goto out;
    CHECK(p1->n_params == p2->n_params && memcmp(p1->params, p2->params, p1->n_params * sizeof(float)) == 0,
          "two runs with the same seed and threads differ");
    CHECK(st1.final_loss == st2.final_loss && st1.steps == st2.steps, "stats differ");
    { /* the pronoun objective needs "it" among the candidates: these vectors' words are w0 … w59 */
        ctx_opts cp = co;
        cp.pronoun = 0.5;
        attn_head *pp = NULL;
        ev_error e2 = {0};
        CHECK(ctx_train(s, &c, &cp, &o, &pp, NULL, &e2) == EV_ERR_USAGE && !pp && e2.msg && strstr(e2.msg, "'it'"),
              "pronoun without 'it': %s", e2.msg ? e2.msg : "(no error)");
        ev_error_clear(&e2);
    }
    head_file_meta m = {"toy.txt", 7, 15, 0, 256, 2, c.n_tok, c.n_sent, 0.02f, st1.final_loss};
    const char *f1 = tmp_path("h1.safetensors"), *f2 = tmp_path("h2.safetensors");
    CHECK(head_file_save(p1, &m, f1, &err) == EV_OK, "save: %s", err.msg);
    CHECK(head_file_save(p2, &m, f2, &err) == EV_OK, "save: %s", err.msg);
    CHECK(test_same_bytes(f1, f2), "the two head files differ");
    /* the learnable task: the trained pattern beats the untrained ones with the same readout */
    head_eval_result r;
    CHECK(head_evaluate(s, p1, &ct, 2, &r, &err) == EV_OK, "evaluate: %s", err.msg);
    double tr = (double)r.k[HEAD_PATTERN_TRAINED].top1 / (double)r.k[HEAD_PATTERN_TRAINED].n;
    for (int k = 1; k < HEAD_PATTERNS; k++) {
        double bk = (double)r.k[k].top1 / (double)r.k[k].n;
        CHECK(tr > bk + 0.1, "toy task: trained top-1 %.3f vs %s %.3f", tr, head_pattern_name((head_pattern)k), bk);
    }
    printf("context toy task top-1: trained %.3f, identity %.3f, uniform %.3f, random %.3f (n = %zu), final loss "
           "%.3f\n", tr, (double)r.k[1].top1 / (double)r.k[1].n, (double)r.k[2].top1 / (double)r.k[2].n,
           (double)r.k[3].top1 / (double)r.k[3].n, r.k[0].n, st1.final_loss);
    /* head files: round trip with the scale, the task and the residual */
    attn_head *q = NULL;
    CHECK(head_file_load(f1, 16, &q, &err) == EV_OK, "load: %s", err.msg);
    if (q) {
        CHECK(q->n_params == p1->n_params && memcmp(q->params, p1->params, q->n_params * sizeof(float)) == 0 &&
                  ctx_model_is_complete(q) && q->train_scale[0] == p1->train_scale[0],
              "round trip changed the parameters");
        CHECK(q->task == ATTN_TASK_CONTEXT && q->residual && q->exclude_self && q->candidates == 40,
              "task, residual, self-attention");
        attn_head_free(q);
    }
out:
    attn_head_free(p1);
    attn_head_free(p2);
    corpus_free(&c);
    corpus_free(&ct);
    store_close(s);
}

/* ---- PyTorch autograd (scripts/make-context-fixtures.py writes tests/fixtures/head/context.txt) ------------- */

static void test_torch_fixture(void)
{
    FILE *f = fopen("tests/fixtures/head/context.txt", "r");
    CHECK(f != NULL, "missing tests/fixtures/head/context.txt (scripts/make-context-fixtures.py)");
    if (!f)
        return;
    size_t d, dk, V, nc, ns;
    float ps;
    CHECK(fscanf(f, "d %zu dk %zu vocab %zu candidates %zu position_scale %f", &d, &dk, &V, &nc, &ps) == 5, "header");
    store_rows r = {.n = V, .dim = d, .vectors = malloc(V * d * sizeof(float)), .words = malloc(V * 24),
                    .offsets = malloc((V + 1) * sizeof(size_t))};
    for (size_t i = 0; i < V * d; i++)
        CHECK(fscanf(f, "%f", &r.vectors[i]) == 1, "vectors");
    size_t off = 0;
    for (size_t i = 0; i < V; i++) {
        r.offsets[i] = off;
        off += (size_t)sprintf(r.words + off, "c%zu", i) + 1;
    }
    r.offsets[V] = off;
    store *s = NULL;
    ev_error err = {0};
    CHECK(store_from_rows(&r, "ctx", "ctx", NULL, &s, &err) == EV_OK, "store: %s", err.msg);
    attn_head *p = NULL;
    CHECK(ctx_model_new(d, dk, nc, &p, &err) == EV_OK, "model: %s", err.msg);
    p->position_scale = ps;
    for (size_t i = 0; i < p->n_params; i++)
        CHECK(fscanf(f, "%f", &p->params[i]) == 1, "parameters");
    CHECK(fscanf(f, " sentences %zu", &ns) == 1, "sentences");
    size_t start[8] = {0}, T = 0;
    int32_t row[64], hidden[8];
    unsigned char predict[64];
    for (size_t k = 0; k < ns && k < 7; k++) {
        size_t n;
        int h;
        CHECK(fscanf(f, "%zu %d", &n, &h) == 2 && T + n <= 64, "sentence");
        hidden[k] = h;
        for (size_t i = 0; i < n; i++) {
            int pr;
            CHECK(fscanf(f, "%d %d", &row[T + i], &pr) == 2, "token");
            predict[T + i] = (unsigned char)pr;
        }
        T += n;
        start[k + 1] = T;
    }
    double want;
    CHECK(fscanf(f, " loss %lf", &want) == 1, "loss");
    double *g = malloc(p->n_params * sizeof *g);
    for (size_t i = 0; i < p->n_params; i++)
        CHECK(fscanf(f, "%lf", &g[i]) == 1, "gradient");
    fclose(f);
    ctx_batch b = {ns, start, row, hidden, predict};
    ctx_work *w = NULL;
    double loss = 0;
    CHECK(ctx_work_new(s, p, T, 1, &w, &err) == EV_OK && ctx_loss_grad(w, &b, &loss, &err) == EV_OK, "loss: %s",
          err.msg);
    CHECK(fabs(loss - want) <= 1e-5 * fabs(want), "loss %.9g, torch %.9g", loss, want);
    double gmax = 0, worst = 0;
    for (size_t i = 0; i < p->n_params; i++)
        gmax = fmax(gmax, fabs(g[i]));
    const float *cg = w ? ctx_work_grad(w) : NULL;
    for (size_t i = 0; cg && i < p->n_params; i++)
        worst = fmax(worst, fabs((double)cg[i] - g[i]) / (1e-6 * gmax + 1e-4 * fabs(g[i])));
    CHECK(cg && worst <= 1.0, "gradient vs torch autograd: worst error %.3g × the tolerance (1e-6 of the largest "
          "+ 1e-4 relative)", worst);
    printf("context head vs PyTorch autograd: loss %.9g (torch %.9g), gradients within %.3f × the tolerance\n", loss,
           want, worst);
    ctx_work_free(w);
    free(g);
    attn_head_free(p);
    store_close(s);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_gradients();
    test_choose();
    test_antecedent();
    test_torch_fixture();
    test_training();
    const char *files[] = {"toy.txt", "toy_test.txt", "h1.safetensors", "h2.safetensors"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        unlink(tmp_path(files[i]));
    rmdir(tmpdir);
    return check_done("test_head_context");
}
