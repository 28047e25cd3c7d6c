/* test_head — the trained head's module: the sgemm loss against its double-precision twin, every gradient against
 * central finite differences of that twin, thread-count independence of the loss, deterministic training (two
 * runs, identical bytes), a learnable toy task on which training beats the untrained attention patterns, head files
 * (round trip, bad shapes, another dimension, a file without training state), corpora (placeholders, cutting, bad
 * input), content words, and the PyTorch-trained fixture (tests/fixtures/head, scripts/make-head-fixtures.py).
 * Any mismatch makes the process exit non-zero. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attention.h"
#include "check.h"
#include "test_rand.h"
#include "test_stores.h"
#include "corpus.h"
#include "head_eval.h"
#include "head_file.h"
#include "head_model.h"
#include "head_train.h"
#include "store.h"

#define FIX "tests/fixtures/head/"

static char tmpdir[] = "/tmp/test_head.XXXXXX";

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    fwrite(text, 1, strlen(text), f);
    fclose(f);
}

static char *tmp_path(const char *name)
{
    static char buf[8][256];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

/* ---- loss and gradients ------------------------------------------------------------------------------------ */

static void test_gradients(void)
{
    const size_t V = 40, d = 8, dk = 4, nc = 30;
    store *s = test_make_store(V, d, 1.0f);
    attn_head *p = NULL;
    ev_error perr = {0};
    if (head_model_new(d, dk, nc, &p, &perr) != EV_OK) {
        CHECK(0, "head_model_new: %s", perr.msg);
        return;
    }
    for (size_t i = 0; i < p->n_params; i++)
        p->params[i] = 0.5f * nrand();
    p->position_scale = 0.3f;
    /* three sentences: placeholders (-1), a key-only word (row ≥ nc), every query kind, a one-word sentence whose
     * only known token can't be a target */
    size_t start[] = {0, 6, 8, 15};
    int32_t row[] = {3, -1, 7, 35, 12, 3, /**/ 5, -1, /**/ 20, 21, 22, -1, 29, 0, 38};
    int32_t query[] = {HEAD_QUERY_MASK, HEAD_QUERY_MASK, 15, 35, 12, HEAD_QUERY_MASK, /**/ 5, -1,
                       /**/ HEAD_QUERY_MASK, 9, 22, HEAD_QUERY_MASK, HEAD_QUERY_MASK, HEAD_QUERY_MASK, 38};
    unsigned char target[] = {1, 0, 1, 0, 1, 1, /**/ 0, 0, /**/ 1, 1, 1, 0, 1, 1, 0};
    int32_t neg[] = {7, 2, 2, 29, 12, 0, 18, 7, 3, 25, 11, 20};
    float logq[30];
    for (size_t i = 0; i < nc; i++)
        logq[i] = (float)(0.3 * nrand() - 1.0);
    head_batch b = {3, start, row, query, target, 12, neg, logq};

    for (int threads = 1; threads <= 3; threads += 2) {
        head_work *w = NULL;
        ev_error err = {0};
        CHECK(head_work_new(s, p, 15, 12, threads, &w, &err) == EV_OK, "head_work_new: %s", err.msg);
        double loss = 0;
        CHECK(head_loss_grad(w, &b, &loss, &err) == EV_OK, "head_loss_grad: %s", err.msg);
        double ref = head_loss_reference(s, p, &b);
        CHECK(fabs(loss - ref) <= 1e-5 * fabs(ref), "threads %d: loss %.9g, reference %.9g", threads, loss, ref);
        if (threads == 1) {
            /* every parameter: central differences of the double-precision twin, h = 2^-10 (exact in float) */
            const float *g = head_work_grad(w);
            double gmax = 0, worst = 0;
            size_t worst_i = 0, nonzero = 0;
            for (size_t i = 0; i < p->n_params; i++)
                gmax = fmax(gmax, fabs(g[i]));
            for (size_t i = 0; i < p->n_params; i++) {
                float keep = p->params[i], h = 0x1.0p-10f;
                p->params[i] = keep + h;
                double lp = head_loss_reference(s, p, &b);
                float up = p->params[i];
                p->params[i] = keep - h;
                double lm = head_loss_reference(s, p, &b);
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
            printf("gradient check: %zu parameters, worst error %.3f × the tolerance\n", p->n_params, worst);
            /* parameters that cannot matter get exactly zero: bias of words never a target or sampled */
            CHECK(g[p->train_bias - p->params + 1] == 0.0f, "bias of an unused candidate has a gradient");
        }
        head_work_free(w);
    }
    /* a batch larger than the buffers is refused */
    head_work *w = NULL;
    ev_error err = {0};
    head_work_new(s, p, 8, 12, 1, &w, &err);
    double loss;
    CHECK(head_loss_grad(w, &b, &loss, &err) == EV_ERR_USAGE, "oversized batch accepted");
    ev_error_clear(&err);
    head_work_free(w);
    attn_head_free(p);
    store_close(s);
}

/* ---- corpora ----------------------------------------------------------------------------------------------- */

static void test_corpus(void)
{
    store *s = test_make_store(50, 4, 1.0f);
    ev_error err = {0};
    corpus c;
    const char *p1 = tmp_path("c1.txt");
    /* a line with placeholders, an empty line, a line with one known word (dropped), CRLF, 70 tokens (cut) */
    char big[1024] = "";
    for (int i = 0; i < 70; i++)
        sprintf(big + strlen(big), "w%d ", i % 50);
    char text[2048];
    snprintf(text, sizeof text, "w1 xx w2 w3 .\n\n  \nw4 zz\r\nw5 w6\r\n%s\n", big);
    write_text(p1, text);
    const char *paths[] = {p1};
    CHECK(corpus_read(s, paths, 1, 0, &c, &err) == EV_OK, "corpus: %s", err.msg);
    CHECK(c.n_lines == 4, "lines %zu", c.n_lines);
    CHECK(c.n_sent == 4, "sentences %zu (expected: 1, [dropped], 1, 64 + 6)", c.n_sent);
    CHECK(c.n_tok == 5 + 2 + 70, "tokens %zu", c.n_tok);
    CHECK(c.row[1] == -1 && c.row[0] == 1 && c.row[4] == -1, "placeholders: %d %d %d", c.row[0], c.row[1], c.row[4]);
    CHECK(c.start[3] - c.start[2] == CORPUS_MAX_LEN, "cut at %d tokens", CORPUS_MAX_LEN);
    CHECK(c.n_dropped == 2, "dropped %zu", c.n_dropped);
    corpus_free(&c);
    CHECK(corpus_read(s, paths, 1, 5, &c, &err) == EV_OK && c.n_tok == 5, "--max-tokens: %zu", c.n_tok);
    corpus_free(&c);
    /* bad input */
    const char *empty = tmp_path("empty.txt"), *unk = tmp_path("unk.txt"), *bad = tmp_path("bad.txt");
    write_text(empty, "\n  \n");
    write_text(unk, "hello world\nno known words here\n");
    write_text(bad, "w1 w2\nw3 \xff w4\n");
    const char *pe[] = {empty}, *pu[] = {unk}, *pb[] = {bad}, *pm[] = {tmp_path("missing.txt")}, *pd[] = {tmpdir};
    CHECK(corpus_read(s, pe, 1, 0, &c, &err) == EV_ERR_FORMAT && strstr(err.msg, "empty"), "empty: %s", err.msg);
    CHECK(corpus_read(s, pu, 1, 0, &c, &err) == EV_ERR_NOTFOUND && strstr(err.msg, "two words with vectors"),
          "unknown words: %s", err.msg);
    CHECK(corpus_read(s, pb, 1, 0, &c, &err) == EV_ERR_FORMAT && strstr(err.msg, "bad.txt:2:"),
          "invalid UTF-8: %s", err.msg);
    CHECK(corpus_read(s, pm, 1, 0, &c, &err) == EV_ERR_IO, "missing: %s", err.msg);
    CHECK(corpus_read(s, pd, 1, 0, &c, &err) == EV_ERR_IO && strstr(err.msg, "directory"), "dir: %s", err.msg);
    ev_error_clear(&err);
    store_close(s);
}

static void test_content_words(void)
{
    CHECK(head_is_content_word("river", 5), "river");
    CHECK(head_is_content_word("Bank", 4), "Bank");
    CHECK(!head_is_content_word("the", 3) && !head_is_content_word("The", 3) && !head_is_content_word("not", 3),
          "stop words");
    CHECK(!head_is_content_word(",", 1) && !head_is_content_word("--", 2) && !head_is_content_word("1990", 4),
          "punctuation and numbers");
    CHECK(head_is_content_word("theory", 6) && head_is_content_word("i.e", 3), "prefixes of stop words");
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
    head_model_opts mo = head_model_opts_default();
    mo.d_k = 16;
    mo.n_cand = 50;
    mo.n_neg = 16;
    head_train_opts o = head_train_opts_default();
    o.batch_tokens = 256;
    o.epochs = 20;
    o.lr = 0.02f;
    o.seed = 7;
    o.threads = 2;
    attn_head *p1 = NULL, *p2 = NULL;
    head_train_stats st1, st2;
    CHECK(head_model_train(s, &c, &mo, &o, &p1, &st1, &err) == EV_OK, "train: %s", err.msg);
    CHECK(head_model_train(s, &c, &mo, &o, &p2, &st2, &err) == EV_OK, "train again: %s", err.msg);
    if (!p1 || !p2)
        goto out;
    CHECK(p1->n_params == p2->n_params && memcmp(p1->params, p2->params, p1->n_params * sizeof(float)) == 0,
          "two runs with the same seed and threads differ");
    CHECK(st1.final_loss == st2.final_loss && st1.steps == st2.steps, "stats differ");
    head_file_meta m = {"toy.txt", 7, 20, 16, 256, 2, c.n_tok, c.n_sent, 0.02f, st1.final_loss};
    const char *f1 = tmp_path("h1.safetensors"), *f2 = tmp_path("h2.safetensors");
    CHECK(head_file_save(p1, &m, f1, &err) == EV_OK, "save: %s", err.msg);
    CHECK(head_file_save(p2, &m, f2, &err) == EV_OK, "save: %s", err.msg);
    CHECK(test_same_bytes(f1, f2), "the two head files differ");
    /* the learnable task: the trained pattern beats the untrained ones with the same readout */
    head_eval_result r;
    CHECK(head_evaluate(s, p1, &ct, 2, &r, &err) == EV_OK, "evaluate: %s", err.msg);
    double tr = (double)r.k[HEAD_PATTERN_TRAINED].top1 / (double)r.k[HEAD_PATTERN_TRAINED].n;
    for (int k = 1; k < HEAD_PATTERNS; k++) {
        double b = (double)r.k[k].top1 / (double)r.k[k].n;
        CHECK(tr > b + 0.1, "toy task: trained top-1 %.3f vs %s %.3f", tr, head_pattern_name((head_pattern)k), b);
    }
    printf("toy task top-1: trained %.3f, identity %.3f, uniform %.3f, random %.3f (n = %zu), final loss %.3f\n", tr,
           (double)r.k[1].top1 / (double)r.k[1].n, (double)r.k[2].top1 / (double)r.k[2].n,
           (double)r.k[3].top1 / (double)r.k[3].n, r.k[0].n, st1.final_loss);
    CHECK(r.k[0].n == r.k[1].n && r.k[0].n_content == r.k[0].n, "counts: n %zu, content %zu", r.k[0].n, r.k[0].n_content);
    /* head files: round trip (one block of every tensor, the metadata), another dimension is refused */
    attn_head *q = NULL;
    CHECK(head_file_load(f1, 16, &q, &err) == EV_OK, "load: %s", err.msg);
    if (q) {
        CHECK(q->n_params == p1->n_params && memcmp(q->params, p1->params, q->n_params * sizeof(float)) == 0 &&
                  q->train_mask == q->w_o + 16 * 16 && q->train_bias == q->train_mask + 16 && q->candidates == 50,
              "round trip changed the parameters");
        CHECK(q->has_position_meta && q->positions == ATTN_POS_SINUSOIDAL &&
                  q->position_scale == p1->position_scale && q->exclude_self,
              "positions and self-attention");
        CHECK(q->has_fingerprint && q->fingerprint == head_file_fingerprint(s, 50), "fingerprint");
        attn_head_free(q);
    }
    CHECK(head_file_load(f1, 100, &q, &err) == EV_ERR_FORMAT && strstr(err.msg, "dimension 16"), "other dimension: %s",
          err.msg);
    CHECK(head_file_load(tmpdir, 16, &q, &err) == EV_ERR_IO, "a directory: %s", err.msg);
    ev_error_clear(&err);
out:
    attn_head_free(p1);
    attn_head_free(p2);
    corpus_free(&c);
    corpus_free(&ct);
    store_close(s);
}

/* A head file with a train_mask of the wrong shape, and one with an unknown non-train tensor. */
static void test_bad_files(void)
{
    static const char hdr1[] = "{\"w_q\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                               "\"w_k\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[16,32]},"
                               "\"w_v\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[32,48]},"
                               "\"train_mask\":{\"dtype\":\"F32\",\"shape\":[1,3],\"data_offsets\":[48,60]}}";
    unsigned char buf[512];
    size_t hl = strlen(hdr1);
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)((uint64_t)hl >> (8 * i));
    memcpy(buf + 8, hdr1, hl);
    memset(buf + 8 + hl, 0, 60);
    attn_head *p = NULL;
    ev_error err = {0};
    CHECK(head_file_load_bytes(buf, 8 + hl + 60, "x", 2, &p, &err) == EV_ERR_FORMAT && strstr(err.msg, "train_mask"),
          "bad train_mask: %s", err.msg);
    /* the same bytes with a well-shaped train_mask load, with W_O = I (no w_o) */
    char hdr2[sizeof hdr1];
    strcpy(hdr2, hdr1);
    char *sh = strstr(hdr2, "[1,3]"), *off = strstr(hdr2, "[48,60]");
    memcpy(sh, "[1,2]", 5);
    memcpy(off, "[48,56]", 7);
    memcpy(buf + 8, hdr2, hl);
    CHECK(head_file_load_bytes(buf, 8 + hl + 56, "x", 2, &p, &err) == EV_OK, "good train_mask: %s", err.msg);
    CHECK(p && !p->w_o && p->train_mask && !p->train_bias && p->candidates == 0, "what the file has");
    CHECK(p && head_model_complete(p, &err) == EV_OK, "complete: %s", err.msg);
    if (p) {
        CHECK(p->w_o[0] == 1.0f && p->w_o[1] == 0.0f && p->w_o[3] == 1.0f && p->candidates == HEAD_DEFAULT_CANDIDATES,
              "defaults of a head without w_o and train_bias");
        attn_head_free(p);
    }
    ev_error_clear(&err);
    /* training state that contradicts the metadata, a malformed fingerprint; a head that is not complete is refused
     * by the model */
    static const char *const BAD[][2] = {
        {"{\"w_q\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
         "\"w_k\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[16,32]},"
         "\"w_v\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[32,48]},"
         "\"train_bias\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[48,56]},"
         "\"__metadata__\":{\"candidates\":\"3\"}}",
         "train_bias has 2 values, __metadata__.candidates says 3"},
        {"{\"w_q\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
         "\"w_k\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[16,32]},"
         "\"w_v\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[32,48]},"
         "\"train_bias\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[48,56]},"
         "\"__metadata__\":{\"vectors_fingerprint\":\"12345\"}}",
         "vectors_fingerprint is '12345', expected 16 hexadecimal digits"}};
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        hl = strlen(BAD[i][0]);
        for (int k = 0; k < 8; k++)
            buf[k] = (unsigned char)((uint64_t)hl >> (8 * k));
        memcpy(buf + 8, BAD[i][0], hl);
        memset(buf + 8 + hl, 0, 56);
        p = NULL;
        CHECK(head_file_load_bytes(buf, 8 + hl + 56, "x", 2, &p, &err) == EV_ERR_FORMAT && !p &&
                  strstr(err.msg, BAD[i][1]),
              "bad file %zu: %s", i, err.msg);
        ev_error_clear(&err);
    }
    store *s = test_make_store(5, 2, 1.0f);
    attn_head *r = NULL;
    head_work *w = NULL;
    CHECK(attn_head_random(2, 2, 1, &r, &err) == EV_OK, "random head");
    CHECK(head_work_new(s, r, 64, 4, 1, &w, &err) == EV_ERR_USAGE && !w && strstr(err.msg, "lacks the trained"),
          "an incomplete head accepted by head_work_new: %s", err.msg);
    ev_error_clear(&err);
    attn_head_free(r);
    store_close(s);
}

/* ---- the PyTorch-trained head ------------------------------------------------------------------------------ */

/* tests/fixtures/head/torch.head.safetensors was trained by scripts/make-head-fixtures.py (torch, the same model
 * with nn.Linear projections, saved with the documented tensor names); torch.txt holds a sentence's vectors and the
 * attention weights and outputs torch computes for it with the head, and the masked-prediction logits. */
static void test_torch_fixture(void)
{
    FILE *f = fopen(FIX "torch.txt", "r");
    CHECK(f != NULL, "missing " FIX "torch.txt (scripts/make-head-fixtures.py)");
    if (!f)
        return;
    size_t n, d, dk, nc;
    float scale;
    CHECK(fscanf(f, "n %zu d %zu dk %zu candidates %zu position_scale %f", &n, &d, &dk, &nc, &scale) == 5, "header");
    float *X = malloc(n * d * sizeof *X), *A = malloc(n * n * sizeof *A), *Z = malloc(n * d * sizeof *Z);
    float *A2 = malloc(n * n * sizeof *A2), *Z2 = malloc(n * d * sizeof *Z2);
    for (size_t i = 0; i < n * d; i++)
        CHECK(fscanf(f, "%f", &X[i]) == 1, "X");
    for (size_t i = 0; i < n * n; i++)
        CHECK(fscanf(f, "%f", &A[i]) == 1, "A");
    for (size_t i = 0; i < n * d; i++)
        CHECK(fscanf(f, "%f", &Z[i]) == 1, "Z");
    /* the weights torch computes: attn_forward of the loaded head with its own positions */
    attn_head *h = NULL;
    ev_error err = {0};
    CHECK(head_file_load(FIX "torch.head.safetensors", d, &h, &err) == EV_OK, "torch head: %s", err.msg);
    if (h) {
        attn_opts o = attn_opts_default();
        o.positions = h->positions;
        o.position_scale = h->position_scale;
        CHECK(h->has_position_meta && h->positions == ATTN_POS_SINUSOIDAL && h->position_scale == scale &&
                  h->exclude_self,
              "torch head positions and self-attention");
        CHECK(attn_forward(h, X, NULL, n, &o, A2, Z2, &err) == EV_OK, "forward: %s", err.msg);
        double wa = 0, wz = 0, za = 0;
        for (size_t i = 0; i < n * n; i++)
            wa = fmax(wa, fabs(A2[i] - A[i]));
        for (size_t i = 0; i < n * d; i++) {
            wz = fmax(wz, fabs(Z2[i] - Z[i]));
            za = fmax(za, fabs(Z[i]));
        }
        CHECK(wa <= 1e-5 && wz <= 1e-5 * fmax(1.0, za), "torch weights: |ΔA| %.3g, |ΔZ| %.3g", wa, wz);
        printf("torch-trained head: attention weights within %.2g, outputs within %.2g of torch's\n", wa, wz);
        attn_head_free(h);
    }
    /* the training state: [MASK] vector and bias, and the masked-prediction loss torch computes on a batch of the
     * fixture's own small vocabulary (stored as a store of V words) */
    attn_head *p = NULL;
    CHECK(head_file_load(FIX "torch.head.safetensors", d, &p, &err) == EV_OK && head_model_complete(p, &err) == EV_OK,
          "head_file_load torch: %s", err.msg);
    size_t V;
    CHECK(fscanf(f, " vocab %zu", &V) == 1, "vocab");
    float *vec = malloc(V * d * sizeof *vec);
    for (size_t i = 0; i < V * d; i++)
        CHECK(fscanf(f, "%f", &vec[i]) == 1, "vocab vectors");
    store *s = test_words_store(V, d, 'v', vec);
    size_t T, S;
    CHECK(fscanf(f, " batch %zu negatives %zu", &T, &S) == 2, "batch");
    size_t start[2] = {0, T};
    int32_t *row = malloc(T * sizeof *row), *query = malloc(T * sizeof *query), *neg = malloc(S * sizeof *neg);
    unsigned char *target = malloc(T);
    float *logq = malloc(nc * sizeof *logq);
    for (size_t i = 0; i < T; i++) {
        int tg;
        CHECK(fscanf(f, "%d %d %d", &row[i], &query[i], &tg) == 3, "batch tokens");
        target[i] = (unsigned char)tg;
    }
    for (size_t i = 0; i < S; i++)
        CHECK(fscanf(f, "%d", &neg[i]) == 1, "negatives");
    for (size_t i = 0; i < nc; i++)
        CHECK(fscanf(f, "%f", &logq[i]) == 1, "logq");
    double want_loss;
    CHECK(fscanf(f, " loss %lf", &want_loss) == 1, "loss");
    if (p && s) {
        head_batch b = {1, start, row, query, target, S, neg, logq};
        head_work *w = NULL;
        double loss = 0;
        CHECK(head_work_new(s, p, T, S, 1, &w, &err) == EV_OK, "work: %s", err.msg);
        CHECK(w && head_loss_grad(w, &b, &loss, &err) == EV_OK, "loss: %s", err.msg);
        CHECK(fabs(loss - want_loss) <= 1e-5 * fabs(want_loss), "loss %.9g, torch %.9g", loss, want_loss);
        /* the gradients torch's autograd computes, in the parameters' order */
        const float *g = w ? head_work_grad(w) : NULL;
        double worst = 0, gmax = 0;
        float *want = malloc(p->n_params * sizeof *want);
        for (size_t i = 0; i < p->n_params; i++) {
            CHECK(fscanf(f, "%f", &want[i]) == 1, "gradient %zu", i);
            gmax = fmax(gmax, fabs(want[i]));
        }
        for (size_t i = 0; g && i < p->n_params; i++)
            worst = fmax(worst, fabs(g[i] - want[i]));
        CHECK(worst <= 1e-5 * fmax(gmax, 1e-3), "gradients vs torch autograd: worst %.3g (largest %.3g)", worst, gmax);
        printf("torch-trained head: loss %.6f (torch %.6f), gradients within %.2g of autograd's (largest %.3g)\n", loss,
               want_loss, worst, gmax);
        free(want);
        head_work_free(w);
    }
    ev_error_clear(&err);
    attn_head_free(p);
    store_close(s);
    fclose(f);
    free(X);
    free(A);
    free(Z);
    free(A2);
    free(Z2);
    free(row);
    free(query);
    free(neg);
    free(target);
    free(logq);
}

/* attention.h's exclude_self (how trained heads are shown): the sgemm forward and its naive twin agree, the
 * diagonal is 0, a lone token gets an all-zero row, and head_model_new sets it. */
static void test_exclude_self(void)
{
    attn_head *h = NULL;
    ev_error err = {0};
    CHECK(attn_head_random(10, 6, 3, &h, &err) == EV_OK, "random head");
    h->exclude_self = 1;
    size_t n = 7;
    float X[7 * 10], A[49], Z[70], A2[49], Z2[70];
    for (size_t i = 0; i < n * 10; i++)
        X[i] = nrand();
    unsigned char mask[7] = {0, 0, 1, 0, 0, 0, 0};
    attn_opts o = attn_opts_default();
    o.positions = ATTN_POS_SINUSOIDAL;
    CHECK(attn_forward(h, X, mask, n, &o, A, Z, &err) == EV_OK, "forward");
    CHECK(attn_forward_naive(h, X, mask, n, &o, A2, Z2, &err) == EV_OK, "naive");
    double worst = 0;
    for (size_t i = 0; i < n * n; i++)
        worst = fmax(worst, fabs(A[i] - A2[i]));
    for (size_t i = 0; i < n * 10; i++)
        worst = fmax(worst, fabs(Z[i] - Z2[i]));
    CHECK(worst < 1e-5, "exclude_self: sgemm vs naive %.3g", worst);
    for (size_t i = 0; i < n; i++)
        CHECK(A[i * n + i] == 0.0f && A[i * n + 2] == 0.0f, "diagonal or masked key %zu not 0", i);
    CHECK(attn_forward(h, X, NULL, 1, &o, A, Z, &err) == EV_OK && A[0] == 0.0f && Z[0] == 0.0f, "lone token");
    attn_head_free(h);
    attn_head *t = NULL;
    CHECK(head_model_new(10, 6, 5, &t, &err) == EV_OK && t->exclude_self && t->positions == ATTN_POS_SINUSOIDAL &&
              t->position_scale == HEAD_DEFAULT_POSITION_SCALE && t->has_position_meta && t->candidates == 5,
          "head_model_new");
    attn_head_free(t);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_gradients();
    test_corpus();
    test_content_words();
    test_training();
    test_bad_files();
    test_exclude_self();
    test_torch_fixture();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return check_done("test_head");
}
