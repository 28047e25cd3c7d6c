/* test_explain — the meaning/position split of attention logits (explain.h): sgemm against its naive twin, the four
 * terms summing to the logits of X' = X + s·P computed directly, their softmax reproducing attn_forward's weights
 * under every mask (OOV keys, causal, a head excluding itself, a blank's query input), zero position terms without
 * positions, and the numpy reference fixture (tests/fixtures/explain.txt, scripts/make-explain-fixture.py). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attention.h"
#include "check.h"
#include "fixture_floats.h"
#include "explain.h"
#include "test_rand.h"

/* max |a - b| / (1 + max |b|) */
static double rel_err(const float *a, const float *b, size_t n)
{
    double worst = 0, scale = 1;
    for (size_t i = 0; i < n; i++)
        scale = fabs((double)b[i]) + 1 > scale ? fabs((double)b[i]) + 1 : scale;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - (double)b[i]);
        worst = e > worst ? e : worst;
    }
    return worst / scale;
}

/* The logits q_i·k_j/√d_k of X' = X + s·P (queries from Xq + s·P), plainly in double: the third route. */
static void direct_logits(const attn_head *h, const float *X, const float *Xq, size_t n, const attn_opts *o,
                          double *L)
{
    size_t dm = h->d_model, dk = h->d_k;
    float *P = calloc(n * dm, sizeof *P);
    double *q = calloc(n * dk, sizeof *q), *k = calloc(n * dk, sizeof *k);
    if (o->positions == ATTN_POS_SINUSOIDAL)
        attn_positional_encoding(n, dm, o->position_scale, P);
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < dk; c++)
            for (size_t a = 0; a < dm; a++) {
                double xq = (double)(Xq ? Xq : X)[i * dm + a] + P[i * dm + a], xk = (double)X[i * dm + a] + P[i * dm + a];
                q[i * dk + c] += xq * (h->w_q ? (double)h->w_q[a * dk + c] : (double)(a == c));
                k[i * dk + c] += xk * (h->w_k ? (double)h->w_k[a * dk + c] : (double)(a == c));
            }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double acc = 0;
            for (size_t c = 0; c < dk; c++)
                acc += q[i * dk + c] * k[j * dk + c];
            L[i * n + j] = acc / sqrt((double)dk);
        }
    free(P);
    free(q);
    free(k);
}

/* One random configuration: both implementations, against the direct logits and attn_forward's weights. */
static void check_case(const char *name, const attn_head *h, size_t n, const attn_opts *o, const unsigned char *mask,
                       int blank_query)
{
    size_t dm = h->d_model, nn = n * n;
    float *X = malloc(n * dm * sizeof *X), *Xq = NULL, *A = malloc(nn * sizeof *A);
    double *L = malloc(nn * sizeof *L);
    for (size_t i = 0; i < n * dm; i++)
        X[i] = mask && mask[i / dm] ? 0.0f : 0.6f * nrand();
    if (blank_query) { /* token 1 is a blank: its query input differs from its (zero) key vector */
        Xq = malloc(n * dm * sizeof *Xq);
        memcpy(Xq, X, n * dm * sizeof *Xq);
        for (size_t a = 0; a < dm; a++)
            Xq[dm + a] = 0.5f * nrand();
    }
    direct_logits(h, X, Xq, n, o, L);
    ev_error err = {0};
    ev_status st = attn_forward(h, Xq ? Xq : X, mask, n, o, A, NULL, &err);
    if (blank_query) { /* attn_forward keys from Xq too: recompute the weights the view gives (keys masked anyway) */
        CHECK(mask && mask[1], "%s: the blank's key is masked", name);
    }
    CHECK(st == EV_OK, "%s: attn_forward: %s", name, err.msg);
    ev_error_clear(&err);
    explain_split e[2];
    for (int naive = 0; naive < 2; naive++) {
        st = (naive ? explain_compute_naive : explain_compute)(h, X, Xq, mask, n, o, &e[naive], &err);
        CHECK(st == EV_OK, "%s: explain (%s): %s", name, naive ? "naive" : "sgemm", err.msg);
        ev_error_clear(&err);
        if (st != EV_OK)
            goto out;
    }
    CHECK(rel_err(e[0].terms, e[1].terms, 4 * nn) < 2e-5, "%s: terms, sgemm vs naive, off by %.3g", name,
          rel_err(e[0].terms, e[1].terms, 4 * nn));
    CHECK(rel_err(e[0].meaning, e[1].meaning, nn) < 2e-5 && rel_err(e[0].position, e[1].position, nn) < 2e-5,
          "%s: the softmaxes, sgemm vs naive", name);
    for (int v = 0; v < 2; v++) {
        const explain_split *s = &e[v];
        double worst = 0, worst_w = 0;
        for (size_t i = 0; i < n; i++) {
            /* the sum of the terms is the logit; its softmax over the allowed keys is the weight */
            double max = -INFINITY, sum = 0, w[64];
            for (size_t j = 0; j < n; j++) {
                size_t x = i * n + j;
                double t = (double)s->terms[x] + s->terms[nn + x] + s->terms[2 * nn + x] + s->terms[3 * nn + x];
                int allowed = !(mask && mask[j]) && !(o->causal && j > i) && !(h->exclude_self && j == i);
                CHECK(s->allowed[x] == allowed, "%s: allowed (%zu, %zu)", name, i, j);
                if (!allowed) {
                    CHECK(t == 0 && s->meaning[x] == 0 && s->position[x] == 0, "%s: a disallowed entry is 0", name);
                    continue;
                }
                double e_ = fabs(t - L[x]) / (1 + fabs(L[x]));
                worst = e_ > worst ? e_ : worst;
                max = t > max ? t : max;
            }
            for (size_t j = 0; j < n; j++) {
                size_t x = i * n + j;
                w[j] = s->allowed[x] ? exp((double)s->terms[x] + s->terms[nn + x] + s->terms[2 * nn + x] +
                                           s->terms[3 * nn + x] - max)
                                     : 0;
                sum += w[j];
            }
            for (size_t j = 0; j < n; j++) {
                double d = fabs((sum > 0 ? w[j] / sum : 0) - (double)A[i * n + j]);
                worst_w = d > worst_w ? d : worst_w;
            }
        }
        CHECK(worst < 1e-5, "%s (%s): the four terms sum to the logits, worst relative error %.3g", name,
              v ? "naive" : "sgemm", worst);
        if (!blank_query)
            CHECK(worst_w < 1e-5, "%s (%s): softmax of the sum reproduces attn_forward's weights, off by %.3g", name,
                  v ? "naive" : "sgemm", worst_w);
        if (o->positions == ATTN_POS_NONE)
            for (size_t x = nn; x < 4 * nn; x++)
                CHECK(s->terms[x] == 0.0f, "%s: a head without positions has zero position terms", name);
    }
    explain_free(&e[0]);
    explain_free(&e[1]);
    explain_free(&e[1]); /* idempotent */
out:
    free(X);
    free(Xq);
    free(A);
    free(L);
}

static void test_random(void)
{
    attn_head *rnd = NULL, *id = NULL, *sq = NULL;
    ev_error err = {0};
    CHECK(attn_head_random(12, 5, 7, &rnd, &err) == EV_OK && attn_head_identity(10, &id, &err) == EV_OK &&
              attn_head_random(10, 10, 3, &sq, &err) == EV_OK,
          "heads: %s", err.msg);
    if (!rnd || !id || !sq)
        return;
    unsigned char mask[7] = {0, 1, 0, 0, 0, 1, 0};
    attn_opts o = attn_opts_default();
    check_case("random, no positions", rnd, 7, &o, NULL, 0);
    check_case("identity, no positions, masked", id, 7, &o, mask, 0);
    o.positions = ATTN_POS_SINUSOIDAL;
    check_case("random, positions", rnd, 7, &o, mask, 0);
    o.causal = 1;
    check_case("random, positions, causal", rnd, 7, &o, mask, 0);
    o.position_scale = 1.0f;
    check_case("identity, positions, causal", id, 7, &o, mask, 0);
    o.causal = 0;
    sq->exclude_self = 1;
    check_case("excludes itself, positions", sq, 7, &o, mask, 0);
    check_case("a blank's query input", sq, 7, &o, mask, 1);
    /* a row with no allowed key (token 0 under causal, excluding itself) is all zero */
    o.causal = 1;
    explain_split e;
    float X[30];
    for (size_t i = 0; i < 30; i++)
        X[i] = nrand();
    CHECK(explain_compute(sq, X, NULL, NULL, 3, &o, &e, &err) == EV_OK, "explain: %s", err.msg);
    if (e.n == 3) {
        CHECK(e.meaning[0] == 0 && e.meaning[1] == 0 && e.meaning[2] == 0 && e.position[0] == 0,
              "nothing to attend to: a zero row");
        CHECK(fabsf(e.position[3] - 1.0f) < 1e-6f, "token 1 attends to token 0 alone");
    }
    explain_free(&e);
    /* errors as attn_forward's */
    X[4] = NAN;
    CHECK(explain_compute(sq, X, NULL, NULL, 3, &o, &e, &err) == EV_ERR_FORMAT && e.terms == NULL,
          "a non-finite input is refused");
    ev_error_clear(&err);
    CHECK(explain_compute(sq, X, NULL, NULL, 0, &o, &e, &err) == EV_ERR_USAGE, "n = 0 is refused");
    ev_error_clear(&err);
    CHECK(strcmp(explain_term_name(EXPLAIN_PE), "pe") == 0, "term names");
    attn_head_free(rnd);
    attn_head_free(id);
    attn_head_free(sq);
}

/* ---- the numpy fixture ------------------------------------------------------------------------------------ */

static void test_fixture(void)
{
    const char *path = "tests/fixtures/explain.txt";
    FILE *f = fopen(path, "r");
    CHECK(f != NULL, "%s: missing (run scripts/make-explain-fixture.py)", path);
    if (!f)
        return;
    size_t cases = 0;
    double worst = 0;
    int ok = fscanf(f, " embvsattn-explain-fixture 1") == 0;
    char word[64], name[64], pos[16];
    while (ok && fscanf(f, "%63s", word) == 1 && strcmp(word, "case") == 0) {
        size_t n, dm, dk;
        int ident, causal, excl;
        float scale;
        ok = fscanf(f, "%63s n %zu d_model %zu d_k %zu identity %d positions %15s position_scale %f causal %d "
                       "exclude_self %d mask",
                    name, &n, &dm, &dk, &ident, pos, &scale, &causal, &excl) == 9 &&
             n >= 1 && n <= 64 && dm >= 1 && dm <= 64 && dk >= 1 && dk <= 64;
        if (!ok)
            break;
        unsigned char mask[64];
        for (size_t i = 0; ok && i < n; i++) {
            int m;
            ok = fscanf(f, "%d", &m) == 1;
            mask[i] = (unsigned char)m;
        }
        attn_head *h = NULL;
        ev_error err = {0};
        ok = ok && (ident ? attn_head_identity(dm, &h, &err) : attn_head_new(ATTN_HEAD_FILE, dm, dk, 0, 0, 0, 0, &h, &err)) == EV_OK;
        ok = ok && (ident || (fixture_read_floats(f, "w_q", h->w_q, dm * dk) && fixture_read_floats(f, "w_k", h->w_k, dm * dk)));
        size_t nn = n * n;
        float *X = malloc(n * dm * sizeof *X), *want = malloc(7 * nn * sizeof *want);
        static const char *const LABELS[7] = {"ee", "ep", "pe", "pp", "meaning", "position", "weights"};
        ok = ok && fixture_read_floats(f, "X", X, n * dm);
        for (int b = 0; ok && b < 7; b++)
            ok = fixture_read_floats(f, LABELS[b], want + b * nn, nn);
        ok = ok && fscanf(f, "%63s", word) == 1 && strcmp(word, "end") == 0;
        CHECK(ok, "%s: case %s malformed", path, name);
        if (ok) {
            h->exclude_self = excl;
            attn_opts o = attn_opts_default();
            o.positions = strcmp(pos, "sinusoidal") == 0 ? ATTN_POS_SINUSOIDAL : ATTN_POS_NONE;
            o.position_scale = scale;
            o.causal = causal;
            float *A = malloc(nn * sizeof *A);
            CHECK(attn_forward(h, X, mask, n, &o, A, NULL, &err) == EV_OK, "%s: forward", name);
            for (int naive = 0; naive < 2; naive++) {
                explain_split e;
                if ((naive ? explain_compute_naive : explain_compute)(h, X, NULL, mask, n, &o, &e, &err) != EV_OK) {
                    CHECK(0, "%s: explain: %s", name, err.msg);
                    continue;
                }
                const float *got[7] = {e.terms, e.terms + nn, e.terms + 2 * nn, e.terms + 3 * nn, e.meaning,
                                       e.position, A};
                for (int b = 0; b < 7; b++) {
                    double r = rel_err(got[b], want + b * nn, nn);
                    CHECK(r < 1e-5, "%s (%s): %s off the numpy reference by %.3g", name, naive ? "naive" : "sgemm",
                          LABELS[b], r);
                    worst = r > worst ? r : worst;
                }
                explain_free(&e);
            }
            free(A);
            cases++;
        }
        ev_error_clear(&err);
        attn_head_free(h);
        free(X);
        free(want);
    }
    CHECK(ok && strcmp(word, "done") == 0 && cases >= 4, "%s: %zu cases read, then '%s'", path, cases, word);
    fclose(f);
    printf("numpy fixture: %zu cases, worst relative error %.3g\n", cases, worst);
}

int main(void)
{
    test_random();
    test_fixture();
    return check_done("test_explain");
}
