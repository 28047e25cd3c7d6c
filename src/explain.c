/* explain — the meaning/position split of attention logits (explain.h): four sgemm products and their naive twin. */
#include "explain.h"
#include "head_ops.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *explain_term_name(explain_term t)
{
    static const char *const names[EXPLAIN_NTERMS] = {"ee", "ep", "pe", "pp"};
    return (unsigned)t < EXPLAIN_NTERMS ? names[t] : "?";
}

void explain_free(explain_split *e)
{
    if (!e)
        return;
    free(e->terms);
    free(e->meaning);
    free(e->position);
    free(e->allowed);
    memset(e, 0, sizeof *e);
}

/* Checks the inputs as attn_forward does, allocates out and fills its mask of allowed keys. */
static ev_status split_start(const attn_head *h, const float *X, const float *Xq, const unsigned char *key_mask,
                             size_t n, const attn_opts *o, explain_split *out, ev_error *err)
{
    memset(out, 0, sizeof *out);
    if (n == 0)
        return ev_fail(err, EV_ERR_USAGE, "attention needs at least one token");
    if (n > ATTN_MAX_TOKENS)
        return ev_fail(err, EV_ERR_NOMEM, "%zu tokens exceed the attention limit of %u (A is n\xc2\xb2 floats)", n,
                       ATTN_MAX_TOKENS);
    if (o->positions == ATTN_POS_SINUSOIDAL && !(isfinite(o->position_scale) && o->position_scale >= 0))
        return ev_fail(err, EV_ERR_USAGE, "the position scale must be a finite number \xe2\x89\xa5 0");
    size_t dm = h->d_model;
    for (size_t i = 0; i < n * dm; i++)
        if (!isfinite(X[i]) || (Xq && !isfinite(Xq[i])))
            return ev_fail(err, EV_ERR_FORMAT, "token %zu's vector has a non-finite value at index %zu", i / dm,
                           i % dm);
    out->n = n;
    out->terms = calloc(EXPLAIN_NTERMS * n * n, sizeof *out->terms);
    out->meaning = calloc(n * n, sizeof *out->meaning);
    out->position = calloc(n * n, sizeof *out->position);
    out->allowed = calloc(n * n, 1);
    if (!out->terms || !out->meaning || !out->position || !out->allowed) {
        explain_free(out);
        return ev_fail(err, EV_ERR_NOMEM, "out of memory splitting the logits of %zu tokens", n);
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            out->allowed[i * n + j] =
                !(key_mask && key_mask[j]) && !(o->causal && j > i) && !(h->exclude_self && j == i);
    return EV_OK;
}

/* Zeroes the disallowed entries, checks the terms are finite, and writes the two softmaxes (in double). */
static ev_status split_finish(explain_split *e, ev_error *err)
{
    size_t n = e->n, nn = n * n;
    for (size_t t = 0; t < EXPLAIN_NTERMS; t++)
        for (size_t x = 0; x < nn; x++) {
            float *v = e->terms + t * nn + x;
            if (!e->allowed[x])
                *v = 0.0f;
            else if (!isfinite(*v)) {
                explain_free(e);
                return ev_fail(err, EV_ERR_FORMAT, "logit term %s (%zu, %zu) overflows float32: the vectors are too "
                               "large", explain_term_name((explain_term)t), x / n, x % n);
            }
        }
    for (int which = 0; which < 2; which++) {
        float *out = which ? e->position : e->meaning; /* (n, n) */
        for (size_t i = 0; i < n; i++) {
            double max = -INFINITY, sum = 0;
            for (size_t j = 0; j < n; j++) {
                size_t x = i * n + j;
                double l = which ? (double)e->terms[nn + x] + e->terms[2 * nn + x] + e->terms[3 * nn + x]
                                 : (double)e->terms[x];
                if (e->allowed[x] && l > max)
                    max = l;
            }
            for (size_t j = 0; j < n; j++) {
                size_t x = i * n + j;
                double l = which ? (double)e->terms[nn + x] + e->terms[2 * nn + x] + e->terms[3 * nn + x]
                                 : (double)e->terms[x];
                double w = e->allowed[x] ? exp(l - max) : 0.0;
                out[x] = (float)w;
                sum += w;
            }
            for (size_t j = 0; j < n && sum > 0; j++)
                out[i * n + j] = (float)((double)out[i * n + j] / sum);
        }
    }
    return EV_OK;
}

/* C (m, n) = A (m, k) · B (k, n) row-major; B NULL = the identity (k = n). */
static void mm(const float *A, const float *B, float *C, size_t m, size_t n, size_t k)
{
    if (!B) {
        memcpy(C, A, m * n * sizeof *C);
        return;
    }
    head_gemm(0, 0, m, n, k, 1.0f, A, B, C, 0);
}

ev_status explain_compute(const attn_head *h, const float *X, const float *Xq, const unsigned char *key_mask,
                          size_t n, const attn_opts *opts, explain_split *out, ev_error *err)
{
    attn_opts o = opts ? *opts : attn_opts_default();
    ev_status st = split_start(h, X, Xq, key_mask, n, &o, out, err);
    if (st != EV_OK)
        return st;
    size_t dm = h->d_model, dk = h->d_k, nn = n * n;
    int pos = o.positions == ATTN_POS_SINUSOIDAL;
    float *P = NULL;  /* (n, dm) s·P */
    float *qe = malloc(n * dk * sizeof *qe), *ke = malloc(n * dk * sizeof *ke); /* (n, dk) each */
    float *qp = NULL, *kp = NULL;                                               /* (n, dk) each */
    if (!qe || !ke)
        goto oom;
    /* pass 1: the projections of the words' vectors and of the positions, separately */
    mm(Xq ? Xq : X, h->w_q, qe, n, dk, dm);
    mm(X, h->w_k, ke, n, dk, dm);
    if (pos) {
        if (!(P = malloc(n * dm * sizeof *P)) || !(qp = malloc(n * dk * sizeof *qp)) ||
            !(kp = malloc(n * dk * sizeof *kp)))
            goto oom;
        attn_positional_encoding(n, dm, o.position_scale, P);
        mm(P, h->w_q, qp, n, dk, dm);
        mm(P, h->w_k, kp, n, dk, dm);
    }
    /* pass 2: the four products /√d_k (the position terms stay 0 without positions) */
    float scale = 1.0f / sqrtf((float)dk);
    const float *qs[EXPLAIN_NTERMS] = {qe, qe, qp, qp}, *ks[EXPLAIN_NTERMS] = {ke, kp, ke, kp};
    for (int t = 0; t < (pos ? EXPLAIN_NTERMS : 1); t++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)n, (int)dk, scale, qs[t], (int)dk, ks[t],
                    (int)dk, 0.0f, out->terms + (size_t)t * nn, (int)n);
    /* pass 3: masks and the softmaxes of meaning alone and position alone */
    st = split_finish(out, err);
    goto done;
oom:
    explain_free(out);
    st = ev_fail(err, EV_ERR_NOMEM, "out of memory splitting the logits of %zu tokens", n);
done:
    free(P);
    free(qe);
    free(ke);
    free(qp);
    free(kp);
    return st;
}

/* ---- the naive twin -------------------------------------------------------------------------------------- */

ev_status explain_compute_naive(const attn_head *h, const float *X, const float *Xq, const unsigned char *key_mask,
                                size_t n, const attn_opts *opts, explain_split *out, ev_error *err)
{
    attn_opts o = opts ? *opts : attn_opts_default();
    ev_status st = split_start(h, X, Xq, key_mask, n, &o, out, err);
    if (st != EV_OK)
        return st;
    size_t dm = h->d_model, dk = h->d_k, nn = n * n;
    double *M = malloc(dm * dm * sizeof *M);  /* (dm, dm) W_Q·W_Kᵀ/√d_k */
    float *P = calloc(n * dm, sizeof *P);     /* (n, dm) s·P, or 0 */
    if (!M || !P) {
        free(M);
        free(P);
        explain_free(out);
        return ev_fail(err, EV_ERR_NOMEM, "out of memory splitting the logits of %zu tokens", n);
    }
    double scale = 1.0 / sqrt((double)dk);
    for (size_t a = 0; a < dm; a++)
        for (size_t b = 0; b < dm; b++) {
            double acc = 0;
            if (!h->w_q) /* the identity head */
                acc = a == b;
            else
                for (size_t c = 0; c < dk; c++)
                    acc += (double)h->w_q[a * dk + c] * h->w_k[b * dk + c];
            M[a * dm + b] = acc * scale;
        }
    if (o.positions == ATTN_POS_SINUSOIDAL)
        attn_positional_encoding(n, dm, o.position_scale, P);
    const float *xq = Xq ? Xq : X;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            /* u·M·v for (u, v) = (e_i, e_j), (e_i, p_j), (p_i, e_j), (p_i, p_j) */
            const float *us[EXPLAIN_NTERMS] = {xq + i * dm, xq + i * dm, P + i * dm, P + i * dm};
            const float *vs[EXPLAIN_NTERMS] = {X + j * dm, P + j * dm, X + j * dm, P + j * dm};
            for (size_t t = 0; t < EXPLAIN_NTERMS; t++) {
                double acc = 0;
                for (size_t a = 0; a < dm; a++) {
                    double row = 0;
                    for (size_t b = 0; b < dm; b++)
                        row += M[a * dm + b] * vs[t][b];
                    acc += (double)us[t][a] * row;
                }
                out->terms[t * nn + i * n + j] = (float)acc;
            }
        }
    free(M);
    free(P);
    return split_finish(out, err);
}
