/* test_steps — attention's computation step by step (attention.h, attn_forward_steps): the kept values are
 * attn_forward's own (A and Z bit for bit), and each step follows from the previous one when recomputed plainly in
 * double: x + positions = attn_positional_encoding; q, k, v = x'·W (identity: x'); the softmax of the allowed scores
 * is A; Σ_j a_ij·v_j is the weighted sum; weighted·W_O is the output (= Z). Heads: identity, random with W_O, a
 * random head without W_O and d_k ≠ d_model (no output), each with and without positions, causal, OOV keys and a
 * head that excludes itself. A step perturbed on purpose must be caught (the checks can fail). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attention.h"
#include "check.h"
#include "test_rand.h"

/* max |a - b| / (1 + max |b|), a in float, b in double */
static double rel_err(const float *a, const double *b, size_t n)
{
    double worst = 0, scale = 1;
    for (size_t i = 0; i < n; i++)
        scale = fabs(b[i]) + 1 > scale ? fabs(b[i]) + 1 : scale;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]);
        worst = e > worst ? e : worst;
    }
    return worst / scale;
}

/* out (m, c) = a (m, k) · w (k, c) in double; w NULL = identity (then c = k) */
static void mul(const float *a, const float *w, double *out, size_t m, size_t k, size_t c)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < c; j++) {
            double acc = 0;
            for (size_t p = 0; p < k; p++)
                acc += (double)a[i * k + p] * (w ? (double)w[p * c + j] : (double)(p == j));
            out[i * c + j] = acc;
        }
}

/* The bound every step is held to, relative to the step's largest value: float32 sgemm over ≤ 100 terms. */
#define BOUND 1e-5

/* How far the steps are from a plain recomputation of each from the previous (the worst relative error). */
static double steps_error(const attn_head *h, const attn_steps *s, const float *A, const float *Z, const char *name,
                          int report)
{
    size_t n = s->n, dm = s->d_model, dk = s->d_k, worst_at = 0;
    double worst = 0, e;
    const char *what[6] = {"positions", "q", "k", "v", "softmax", "weighted"};
    double *buf = calloc(n * (dm > n ? dm : n) + n * dk + n * dm, sizeof *buf);
    float *xp = malloc(n * dm * sizeof *xp);
    /* x' = x + s·P */
    for (size_t i = 0; i < n * dm; i++)
        xp[i] = s->x[i] + (s->pos ? s->pos[i] : 0.0f);
    /* q, k, v = x'·W */
    const float *ws[3] = {h->w_q, h->w_k, h->w_v}, *got[3] = {s->q, s->k, s->v};
    for (int t = 0; t < 3; t++) {
        mul(xp, ws[t], buf, n, dm, dk);
        if ((e = rel_err(got[t], buf, n * dk)) > worst)
            worst = e, worst_at = 1 + (size_t)t;
    }
    /* softmax of the allowed scores = A */
    for (size_t i = 0; i < n; i++) {
        double max = -INFINITY, sum = 0;
        for (size_t j = 0; j < n; j++)
            if (s->allowed[i * n + j] && s->scores[i * n + j] > max)
                max = s->scores[i * n + j];
        for (size_t j = 0; j < n; j++) {
            buf[i * n + j] = s->allowed[i * n + j] ? exp((double)s->scores[i * n + j] - max) : 0.0;
            sum += buf[i * n + j];
        }
        for (size_t j = 0; j < n; j++)
            buf[i * n + j] = sum > 0 ? buf[i * n + j] / sum : 0.0;
    }
    if ((e = rel_err(A, buf, n * n)) > worst)
        worst = e, worst_at = 4;
    /* Σ_j a_ij·v_j = weighted */
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < dk; c++) {
            double acc = 0;
            for (size_t j = 0; j < n; j++)
                acc += (double)A[i * n + j] * s->v[j * dk + c];
            buf[i * dk + c] = acc;
        }
    if ((e = rel_err(s->av, buf, n * dk)) > worst)
        worst = e, worst_at = 5;
    /* weighted·W_O = output = Z */
    if (s->out) {
        mul(s->av, h->w_o, buf, n, dk, dm);
        if ((e = rel_err(s->out, buf, n * dm)) > worst)
            worst = e, worst_at = 6;
        CHECK(memcmp(s->out, Z, n * dm * sizeof *Z) == 0, "%s: the output step is Z", name);
    }
    if (report && worst > BOUND)
        fprintf(stderr, "%s: worst step %s, relative error %.3g\n", name,
                worst_at == 6 ? "output" : what[worst_at], worst);
    free(buf);
    free(xp);
    return worst;
}

static void check_case(const char *name, const attn_head *h, size_t n, const attn_opts *o, const unsigned char *mask)
{
    size_t dm = h->d_model;
    float *X = malloc(n * dm * sizeof *X), *A0 = malloc(n * n * sizeof *A0), *A1 = malloc(n * n * sizeof *A1);
    int out = attn_head_has_output(h);
    float *Z0 = out ? malloc(n * dm * sizeof *Z0) : NULL, *Z1 = out ? malloc(n * dm * sizeof *Z1) : NULL;
    for (size_t i = 0; i < n * dm; i++)
        X[i] = mask && mask[i / dm] ? 0.0f : 0.4f * nrand();
    attn_steps s;
    ev_error err = {0};
    CHECK(attn_forward(h, X, mask, n, o, A0, Z0, &err) == EV_OK, "%s: attn_forward: %s", name, err.msg);
    CHECK(attn_forward_steps(h, X, mask, n, o, A1, Z1, &s, &err) == EV_OK, "%s: attn_forward_steps: %s", name,
          err.msg);
    /* the same numbers as attn_forward, not a recomputation */
    CHECK(memcmp(A0, A1, n * n * sizeof *A0) == 0, "%s: A differs from attn_forward's", name);
    CHECK(!out || memcmp(Z0, Z1, n * dm * sizeof *Z0) == 0, "%s: Z differs from attn_forward's", name);
    CHECK(s.n == n && s.d_model == dm && s.d_k == h->d_k, "%s: shapes", name);
    CHECK(memcmp(s.x, X, n * dm * sizeof *X) == 0, "%s: x is the input", name);
    CHECK((s.pos != NULL) == (o->positions == ATTN_POS_SINUSOIDAL), "%s: positions kept iff used", name);
    if (s.pos) {
        float *P = malloc(n * dm * sizeof *P);
        attn_positional_encoding(n, dm, o->position_scale, P);
        CHECK(memcmp(P, s.pos, n * dm * sizeof *P) == 0, "%s: positions", name);
        free(P);
    }
    CHECK((s.out != NULL) == out, "%s: an output step iff the head has one", name);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            int allowed = !(mask && mask[j]) && !(o->causal && j > i) && !(h->exclude_self && j == i);
            CHECK(s.allowed[i * n + j] == allowed, "%s: allowed (%zu, %zu)", name, i, j);
        }
    double e = steps_error(h, &s, A1, Z1, name, 1);
    CHECK(e <= BOUND, "%s: the steps follow from each other within %g (worst %.3g)", name, BOUND, e);
    /* the check fails when a step is wrong: one score moved by 0.5 changes its row's softmax */
    size_t at = 0;
    while (at < n * n && !s.allowed[at])
        at++;
    int alone = 1; /* a row with one allowed key: its softmax is 1 whatever the score */
    for (size_t j = 0; at < n * n && j < n; j++)
        alone &= j == at % n || !s.allowed[(at / n) * n + j];
    if (at < n * n && !alone) {
        s.scores[at] += 0.5f;
        CHECK(steps_error(h, &s, A1, Z1, name, 0) > 100 * BOUND, "%s: a wrong score is caught", name);
        s.scores[at] -= 0.5f;
    }
    s.q[0] += 0.5f;
    CHECK(steps_error(h, &s, A1, Z1, name, 0) > 100 * BOUND, "%s: a wrong q is caught", name);
    attn_steps_free(&s);
    attn_steps_free(&s); /* idempotent */
    CHECK(s.x == NULL && s.q == NULL, "%s: freed", name);
    free(X);
    free(A0);
    free(A1);
    free(Z0);
    free(Z1);
}

int main(void)
{
    const size_t d = 24, n = 7;
    attn_head *id = NULL, *rnd = NULL, *narrow = NULL, *self = NULL;
    ev_error err = {0};
    CHECK(attn_head_identity(d, &id, &err) == EV_OK, "identity");
    CHECK(attn_head_random(d, 0, 7, &rnd, &err) == EV_OK, "random");
    CHECK(attn_head_random(d, 16, 9, &self, &err) == EV_OK, "random d_k 16");
    /* a head without W_O and d_k ≠ d_model: weights and a weighted sum, no output */
    CHECK(attn_head_new(ATTN_HEAD_FILE, d, 8, 0, 0, 0, 0, &narrow, &err) == EV_OK, "narrow");
    if (!id || !rnd || !narrow || !self)
        return check_done("test_steps");
    for (size_t i = 0; i < 3 * d * 8; i++)
        narrow->params[i] = 0.3f * nrand();
    self->exclude_self = 1;
    unsigned char oov[7] = {0, 0, 1, 0, 0, 1, 0};
    attn_opts plain = attn_opts_default(), pos = plain, causal = plain;
    pos.positions = ATTN_POS_SINUSOIDAL;
    causal.causal = 1;
    causal.positions = ATTN_POS_SINUSOIDAL;
    causal.position_scale = 1.5f;
    const attn_head *heads[] = {id, rnd, narrow, self};
    const char *names[] = {"identity", "random", "no-output", "exclude-self"};
    for (size_t hh = 0; hh < 4; hh++) {
        char name[64];
        snprintf(name, sizeof name, "%s plain", names[hh]);
        check_case(name, heads[hh], n, &plain, NULL);
        snprintf(name, sizeof name, "%s positions oov", names[hh]);
        check_case(name, heads[hh], n, &pos, oov);
        snprintf(name, sizeof name, "%s causal oov", names[hh]);
        check_case(name, heads[hh], n, &causal, oov);
        snprintf(name, sizeof name, "%s one token", names[hh]);
        check_case(name, heads[hh], 1, &plain, NULL);
    }
    /* a failing forward pass leaves the steps empty */
    attn_steps s;
    float A[1];
    CHECK(attn_forward_steps(id, NULL, NULL, 0, NULL, A, NULL, &s, &err) == EV_ERR_USAGE && s.x == NULL,
          "n = 0: an error, no steps");
    ev_error_clear(&err);
    attn_head_free(id);
    attn_head_free(rnd);
    attn_head_free(narrow);
    attn_head_free(self);
    return check_done("test_steps");
}
