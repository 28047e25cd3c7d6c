/* predict — a trained head's readout over its candidate words, and [MASK] queries at chosen positions (predict.h). */
#include "predict.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "head_ops.h"

#define PREDICT_TILE 32 /* rows of logits at a time: 32 × 30,000 floats = 3.8 MB */

int predict_supported(const attn_head *h, const store *s)
{
    if (!h || !h->train_bias || h->candidates == 0 || h->candidates > store_size(s) || !h->w_q || !h->w_k ||
        !h->w_v || h->d_model != store_dim(s))
        return 0;
    if (h->task == ATTN_TASK_CONTEXT)
        return h->train_scale != NULL;
    return h->task == ATTN_TASK_MASKED_WORD && h->train_mask != NULL;
}

static float readout_scale(const attn_head *h)
{
    return h->task == ATTN_TASK_CONTEXT && h->train_scale ? h->train_scale[0] : 1.0f;
}

/* Inserts (row, p) into the top list t (k, kept descending; row -1 = empty): a later row only displaces a strictly
 * smaller probability, so ties keep the lower row when rows come in ascending order. */
static void top_insert(sim_hit *t, size_t k, long row, float p)
{
    if (k == 0 || (t[k - 1].row >= 0 && !(p > t[k - 1].score)))
        return;
    size_t r = k - 1;
    while (r > 0 && (t[r - 1].row < 0 || t[r - 1].score < p)) {
        t[r] = t[r - 1];
        r--;
    }
    t[r] = (sim_hit){row, p};
}

static void top_clear(sim_hit *t, size_t k)
{
    for (size_t j = 0; j < k; j++)
        t[j] = (sim_hit){-1, 0.0f};
}

/* Logits of a row (nc) turned into probabilities in place (double sums). */
static void softmax_row(float *g, size_t nc)
{
    float mx = -INFINITY;
    for (size_t w = 0; w < nc; w++)
        mx = g[w] > mx ? g[w] : mx;
    double sum = 0;
    for (size_t w = 0; w < nc; w++)
        sum += exp((double)g[w] - mx);
    for (size_t w = 0; w < nc; w++)
        g[w] = (float)(exp((double)g[w] - mx) / sum);
}

/* The sgemm path of predict_topk (mean = NULL) and predict_mean_topk (mean: nc doubles, accumulated). */
static ev_status readout(const store *s, const attn_head *h, const float *Z, size_t m, size_t k, sim_hit *out,
                         double *mean, ev_error *err)
{
    size_t nc = h->candidates, d = h->d_model;
    float *G = malloc(PREDICT_TILE * nc * sizeof *G); /* (tile, nc) */
    if (!G)
        return ev_fail(err, EV_ERR_NOMEM, "out of memory for the predictions over %zu candidates", nc);
    const float *E = store_vectors(s);
    float alpha = readout_scale(h);
    for (size_t r0 = 0; r0 < m; r0 += PREDICT_TILE) {
        size_t rows = m - r0 < PREDICT_TILE ? m - r0 : PREDICT_TILE;
        head_gemm(0, 1, rows, nc, d, alpha, Z + r0 * d, E, G, 0); /* G = alpha·Z_tile·E_candᵀ */
        for (size_t i = 0; i < rows; i++) {
            float *g = G + i * nc;
            for (size_t w = 0; w < nc; w++)
                g[w] += h->train_bias[w];
            softmax_row(g, nc);
            if (mean)
                for (size_t w = 0; w < nc; w++)
                    mean[w] += g[w];
            else {
                sim_hit *t = out + (r0 + i) * k;
                top_clear(t, k);
                for (size_t w = 0; w < nc; w++)
                    top_insert(t, k, (long)w, g[w]);
            }
        }
    }
    free(G);
    return EV_OK;
}

ev_status predict_topk(const store *s, const attn_head *h, const float *Z, size_t m, size_t k, sim_hit *out,
                       ev_error *err)
{
    return readout(s, h, Z, m, k, out, NULL, err);
}

static void mean_top(const double *mean, size_t nc, size_t m, size_t k, sim_hit *out)
{
    top_clear(out, k);
    for (size_t w = 0; w < nc; w++)
        top_insert(out, k, (long)w, (float)(mean[w] / (double)m));
}

ev_status predict_mean_topk(const store *s, const attn_head *h, const float *Z, size_t m, size_t k, sim_hit *out,
                            ev_error *err)
{
    if (m == 0)
        return ev_fail(err, EV_ERR_USAGE, "predict_mean_topk: no rows to average");
    double *mean = calloc(h->candidates, sizeof *mean);
    if (!mean)
        return ev_fail(err, EV_ERR_NOMEM, "out of memory for the predictions over %zu candidates", h->candidates);
    ev_status st = readout(s, h, Z, m, k, NULL, mean, err);
    if (st == EV_OK)
        mean_top(mean, h->candidates, m, k, out);
    free(mean);
    return st;
}

/* The twin of readout: every logit a double dot product, the softmax in double. */
static ev_status readout_naive(const store *s, const attn_head *h, const float *Z, size_t m, size_t k, sim_hit *out,
                               double *mean, ev_error *err)
{
    size_t nc = h->candidates, d = h->d_model;
    double *g = malloc(nc * sizeof *g);
    if (!g)
        return ev_fail(err, EV_ERR_NOMEM, "out of memory for the predictions over %zu candidates", nc);
    double alpha = readout_scale(h);
    for (size_t i = 0; i < m; i++) {
        double mx = -INFINITY, sum = 0;
        for (size_t w = 0; w < nc; w++) {
            const float *e = store_row(s, w);
            double dot = 0;
            for (size_t t = 0; t < d; t++)
                dot += (double)Z[i * d + t] * e[t];
            g[w] = alpha * dot + h->train_bias[w];
            mx = g[w] > mx ? g[w] : mx;
        }
        for (size_t w = 0; w < nc; w++)
            sum += (g[w] = exp(g[w] - mx));
        if (mean)
            for (size_t w = 0; w < nc; w++)
                mean[w] += g[w] / sum;
        else {
            sim_hit *t = out + i * k;
            top_clear(t, k);
            for (size_t w = 0; w < nc; w++)
                top_insert(t, k, (long)w, (float)(g[w] / sum));
        }
    }
    free(g);
    return EV_OK;
}

ev_status predict_topk_naive(const store *s, const attn_head *h, const float *Z, size_t m, size_t k, sim_hit *out,
                             ev_error *err)
{
    return readout_naive(s, h, Z, m, k, out, NULL, err);
}

ev_status predict_mean_topk_naive(const store *s, const attn_head *h, const float *Z, size_t m, size_t k,
                                  sim_hit *out, ev_error *err)
{
    if (m == 0)
        return ev_fail(err, EV_ERR_USAGE, "predict_mean_topk: no rows to average");
    double *mean = calloc(h->candidates, sizeof *mean);
    if (!mean)
        return ev_fail(err, EV_ERR_NOMEM, "out of memory for the predictions over %zu candidates", h->candidates);
    ev_status st = readout_naive(s, h, Z, m, k, NULL, mean, err);
    if (st == EV_OK)
        mean_top(mean, h->candidates, m, k, out);
    free(mean);
    return st;
}

/* ---- [MASK] queries ---------------------------------------------------------------------------------------- */

static ev_status check_mask(const attn_head *h, size_t n, const size_t *pos, size_t m, ev_error *err)
{
    if (!h->train_mask || !h->w_q || !h->w_k || !h->w_v)
        return ev_fail(err, EV_ERR_USAGE, "the head has no [MASK] input (not a masked-word head)");
    if (n > ATTN_MAX_TOKENS)
        return ev_fail(err, EV_ERR_NOMEM, "%zu tokens exceed the attention limit of %u", n, ATTN_MAX_TOKENS);
    for (size_t r = 0; r < m; r++)
        if (pos[r] >= n)
            return ev_fail(err, EV_ERR_USAGE, "a [MASK] position %zu is beyond the %zu tokens", pos[r], n);
    return EV_OK;
}

/* Whether key j is allowed for a [MASK] query at position i. */
static int allowed(const unsigned char *key_mask, int causal, size_t i, size_t j)
{
    return j != i && !(key_mask && key_mask[j]) && !(causal && j > i);
}

ev_status predict_mask_outputs(const attn_head *h, const float *X, const unsigned char *key_mask, size_t n,
                               const attn_opts *opts, const size_t *pos, size_t m, float *Z, unsigned char *no_key,
                               ev_error *err)
{
    ev_status st = check_mask(h, n, pos, m, err);
    if (st != EV_OK || m == 0)
        return st;
    attn_opts o = opts ? *opts : attn_opts_default();
    size_t d = h->d_model, dk = h->d_k;
    float *P = calloc(n * d, sizeof *P);   /* (n, d) positions, then X + positions */
    float *U = malloc(m * d * sizeof *U);  /* (m, d) query inputs M + P_i */
    float *Q = malloc(m * dk * sizeof *Q); /* (m, dk) */
    float *K = malloc(n * dk * sizeof *K); /* (n, dk) */
    float *V = malloc(n * dk * sizeof *V); /* (n, dk) */
    float *H = calloc(m * dk, sizeof *H);  /* (m, dk) Σ a v */
    float *a = malloc(n * sizeof *a);      /* (n) one row of weights */
    if (!P || !U || !Q || !K || !V || !H || !a) {
        st = ev_fail(err, EV_ERR_NOMEM, "out of memory for %zu [MASK] queries", m);
        goto done;
    }
    if (o.positions == ATTN_POS_SINUSOIDAL)
        attn_positional_encoding(n, d, o.position_scale, P);
    for (size_t r = 0; r < m; r++)
        for (size_t t = 0; t < d; t++)
            U[r * d + t] = h->train_mask[t] + P[pos[r] * d + t];
    for (size_t t = 0; t < n * d; t++)
        P[t] += X[t];
    head_gemm(0, 0, m, dk, d, 1.0f, U, h->w_q, Q, 0);
    head_gemm(0, 0, n, dk, d, 1.0f, P, h->w_k, K, 0);
    head_gemm(0, 0, n, dk, d, 1.0f, P, h->w_v, V, 0);
    float scale = 1.0f / sqrtf((float)dk);
    for (size_t r = 0; r < m; r++) {
        size_t i = pos[r];
        float mx = -INFINITY;
        for (size_t j = 0; j < n; j++) {
            a[j] = allowed(key_mask, o.causal, i, j) ? head_dot(Q + r * dk, K + j * dk, dk) * scale : -INFINITY;
            mx = a[j] > mx ? a[j] : mx;
        }
        if (no_key)
            no_key[r] = mx == -INFINITY;
        if (mx == -INFINITY)
            continue; /* H row stays 0 */
        head_attn_row(a, n, mx, V, dk, H + r * dk);
    }
    if (h->w_o)
        head_gemm(0, 0, m, d, dk, 1.0f, H, h->w_o, Z, 0);
    else
        memcpy(Z, H, m * d * sizeof *Z);
done:
    free(P);
    free(U);
    free(Q);
    free(K);
    free(V);
    free(H);
    free(a);
    return st;
}

ev_status predict_mask_outputs_naive(const attn_head *h, const float *X, const unsigned char *key_mask, size_t n,
                                     const attn_opts *opts, const size_t *pos, size_t m, float *Z,
                                     unsigned char *no_key, ev_error *err)
{
    ev_status st = check_mask(h, n, pos, m, err);
    if (st != EV_OK || m == 0)
        return st;
    attn_opts o = opts ? *opts : attn_opts_default();
    size_t d = h->d_model, dk = h->d_k;
    float *P = calloc(n * d, sizeof *P);
    double *q = malloc(dk * sizeof *q), *sc = malloc(n * sizeof *sc), *hv = malloc(dk * sizeof *hv);
    if (!P || !q || !sc || !hv) {
        st = ev_fail(err, EV_ERR_NOMEM, "out of memory for %zu [MASK] queries", m);
        goto done;
    }
    if (o.positions == ATTN_POS_SINUSOIDAL)
        attn_positional_encoding(n, d, o.position_scale, P);
    for (size_t r = 0; r < m; r++) {
        size_t i = pos[r];
        for (size_t c = 0; c < dk; c++) { /* q = (M + P_i)·W_Q */
            q[c] = 0;
            for (size_t t = 0; t < d; t++)
                q[c] += ((double)h->train_mask[t] + P[i * d + t]) * h->w_q[t * dk + c];
        }
        double mx = -INFINITY;
        for (size_t j = 0; j < n; j++) {
            if (!allowed(key_mask, o.causal, i, j))
                continue;
            sc[j] = 0;
            for (size_t c = 0; c < dk; c++) {
                double kc = 0;
                for (size_t t = 0; t < d; t++)
                    kc += ((double)X[j * d + t] + P[j * d + t]) * h->w_k[t * dk + c];
                sc[j] += q[c] * kc;
            }
            sc[j] /= sqrt((double)dk);
            mx = sc[j] > mx ? sc[j] : mx;
        }
        if (no_key)
            no_key[r] = mx == -INFINITY;
        for (size_t c = 0; c < dk; c++)
            hv[c] = 0;
        if (mx != -INFINITY) {
            double sum = 0;
            for (size_t j = 0; j < n; j++)
                if (allowed(key_mask, o.causal, i, j))
                    sum += (sc[j] = exp(sc[j] - mx));
            for (size_t j = 0; j < n; j++) {
                if (!allowed(key_mask, o.causal, i, j))
                    continue;
                for (size_t c = 0; c < dk; c++) {
                    double v = 0;
                    for (size_t t = 0; t < d; t++)
                        v += ((double)X[j * d + t] + P[j * d + t]) * h->w_v[t * dk + c];
                    hv[c] += sc[j] / sum * v;
                }
            }
        }
        for (size_t t = 0; t < d; t++) {
            double z = 0;
            if (h->w_o)
                for (size_t c = 0; c < dk; c++)
                    z += hv[c] * h->w_o[c * d + t];
            else
                z = hv[t];
            Z[r * d + t] = (float)z;
        }
    }
done:
    free(P);
    free(q);
    free(sc);
    free(hv);
    return st;
}
