/* attention — heads (identity, random, and the block every head's weights live in), sinusoidal positions, masked
 * scaled dot-product attention with sgemm, and its naive twin. Conventions are in attention.h. */
#define _POSIX_C_SOURCE 200809L
#include "attention.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

attn_opts attn_opts_default(void)
{
    attn_opts o = {ATTN_POS_NONE, ATTN_DEFAULT_POSITION_SCALE, 0};
    return o;
}

const char *attn_positions_name(attn_positions p) { return p == ATTN_POS_SINUSOIDAL ? "sinusoidal" : "none"; }

void attn_head_free(attn_head *h)
{
    if (!h)
        return;
    free(h->params);
    free(h->description);
    free(h);
}

int attn_head_has_output(const attn_head *h) { return h->w_o != NULL || h->d_k == h->d_model; }

/* A head with no weights yet; d_model × d_k must be allocatable as floats. */
static ev_status head_new(attn_head_kind kind, size_t d_model, size_t d_k, attn_head **out, ev_error *err)
{
    *out = NULL;
    if (d_model == 0 || d_k == 0)
        return ev_fail(err, EV_ERR_USAGE, "an attention head needs d_model and d_k of at least 1 (got %zu and %zu)",
                       d_model, d_k);
    if (d_model > INT_MAX || d_k > INT_MAX || d_model > SIZE_MAX / sizeof(float) / d_k)
        return ev_fail(err, EV_ERR_NOMEM, "an attention head of %zu × %zu is too large", d_model, d_k);
    attn_head *h = calloc(1, sizeof *h);
    if (!h)
        return ev_fail(err, EV_ERR_NOMEM, "out of memory creating an attention head");
    h->kind = kind;
    h->d_model = d_model;
    h->d_k = d_k;
    h->positions = ATTN_POS_NONE;
    h->position_scale = ATTN_DEFAULT_POSITION_SCALE;
    *out = h;
    return EV_OK;
}

ev_status attn_head_new(attn_head_kind kind, size_t d_model, size_t d_k, int with_w_o, int with_mask, size_t n_bias,
                        int with_scale, attn_head **out, ev_error *err)
{
    ev_status st = head_new(kind, d_model, d_k, out, err);
    if (st != EV_OK)
        return st;
    attn_head *h = *out;
    size_t m = d_model * d_k; /* fits (head_new); so do 4m + d_model + n_bias below INT_MAX each */
    if (n_bias > INT_MAX || m > (SIZE_MAX / sizeof(float) - d_model - n_bias) / 4) {
        attn_head_free(h);
        *out = NULL;
        return ev_fail(err, EV_ERR_NOMEM, "an attention head of %zu × %zu with %zu candidates is too large", d_model,
                       d_k, n_bias);
    }
    h->n_params = (with_w_o ? 4 : 3) * m + (with_mask ? d_model : 0) + n_bias + (with_scale ? 1 : 0);
    if (!(h->params = calloc(h->n_params, sizeof(float)))) {
        attn_head_free(h);
        *out = NULL;
        return ev_fail(err, EV_ERR_NOMEM, "out of memory creating a %zu × %zu attention head", d_model, d_k);
    }
    float *p = h->params;
    h->w_q = p;
    h->w_k = p += m;
    h->w_v = p += m;
    p += m;
    if (with_w_o) {
        h->w_o = p;
        p += m;
    }
    if (with_mask) {
        h->train_mask = p;
        p += d_model;
    }
    if (n_bias) {
        h->train_bias = p;
        h->candidates = n_bias;
        p += n_bias;
    }
    if (with_scale)
        h->train_scale = p;
    return EV_OK;
}

ev_status attn_head_identity(size_t d_model, attn_head **out, ev_error *err)
{
    ev_status st = head_new(ATTN_HEAD_IDENTITY, d_model, d_model, out, err);
    if (st != EV_OK)
        return st;
    (*out)->description = ev_strdup_printf("identity (W = I, d_k = d_model = %zu, no w_o)", d_model);
    if (!(*out)->description) {
        attn_head_free(*out);
        *out = NULL;
        return ev_fail(err, EV_ERR_NOMEM, "out of memory creating an attention head");
    }
    return EV_OK;
}

/* ---- random heads ---------------------------------------------------------------------------------------- */

ev_status attn_head_random(size_t d_model, size_t d_k, uint64_t seed, attn_head **out, ev_error *err)
{
    if (d_k == 0)
        d_k = d_model;
    attn_head *h;
    ev_status st = attn_head_new(ATTN_HEAD_RANDOM, d_model, d_k, 1, 0, 0, 0, &h, err);
    if (st != EV_OK)
        return st;
    h->seed = seed;
    h->description = ev_strdup_printf("random:%llu (Xavier-uniform, d_k %zu, with w_o)", (unsigned long long)seed, d_k);
    if (!h->description) {
        attn_head_free(h);
        return ev_fail(err, EV_ERR_NOMEM, "out of memory creating a %zu × %zu attention head", d_model, d_k);
    }
    size_t count = d_model * d_k;
    uint64_t state = seed;
    rng_xavier(h->w_q, count, d_model, d_k, &state);
    rng_xavier(h->w_k, count, d_model, d_k, &state);
    rng_xavier(h->w_v, count, d_model, d_k, &state);
    rng_xavier(h->w_o, count, d_model, d_k, &state);
    *out = h;
    return EV_OK;
}

/* ---- positions ------------------------------------------------------------------------------------------- */

void attn_positional_encoding(size_t n, size_t d, float scale, float *P)
{
    double wave[512]; /* 10000^(i/d) for the even i, computed once rather than at every position */
    int have = d <= 2 * sizeof wave / sizeof wave[0];
    for (size_t i = 0; have && i < d; i += 2)
        wave[i / 2] = pow(10000.0, (double)i / (double)d);
    for (size_t pos = 0; pos < n; pos++)
        for (size_t i = 0; i < d; i += 2) {
            double angle = (double)pos / (have ? wave[i / 2] : pow(10000.0, (double)i / (double)d));
            P[pos * d + i] = (float)((double)scale * sin(angle));
            if (i + 1 < d)
                P[pos * d + i + 1] = (float)((double)scale * cos(angle));
        }
}

/* ---- the forward pass ------------------------------------------------------------------------------------ */

static ev_status check_forward(const attn_head *h, const float *X, size_t n, const attn_opts *o, const float *Z,
                               ev_error *err)
{
    if (n == 0)
        return ev_fail(err, EV_ERR_USAGE, "attention needs at least one token");
    if (n > ATTN_MAX_TOKENS)
        return ev_fail(err, EV_ERR_NOMEM, "%zu tokens exceed the attention limit of %u (A is n\xc2\xb2 floats)", n,
                       ATTN_MAX_TOKENS);
    if (Z && !attn_head_has_output(h))
        return ev_fail(err, EV_ERR_USAGE, "a head without w_o has an output in the vectors' space only when d_k = "
                       "d_model (found %zu and %zu): ask for its weights alone", h->d_k, h->d_model);
    if (o->positions == ATTN_POS_SINUSOIDAL && !(isfinite(o->position_scale) && o->position_scale >= 0))
        return ev_fail(err, EV_ERR_USAGE, "the position scale must be a finite number \xe2\x89\xa5 0");
    size_t dm = h->d_model;
    if (n > SIZE_MAX / sizeof(float) / (dm > h->d_k ? dm : h->d_k) / 2)
        return ev_fail(err, EV_ERR_NOMEM, "attention over %zu tokens of dimension %zu is too large", n, dm);
    for (size_t i = 0; i < n * dm; i++)
        if (!isfinite(X[i]))
            return ev_fail(err, EV_ERR_FORMAT, "token %zu's vector has a non-finite value at index %zu", i / dm,
                           i % dm);
    return EV_OK;
}

/* C (m, n) = A (m, k) · B (k, n), all row-major. */
static void matmul(const float *A, const float *B, float *C, size_t m, size_t n, size_t k)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)k, 1.0f, A, (int)k, B, (int)n, 0.0f,
                C, (int)n);
}

void attn_steps_free(attn_steps *s)
{
    if (!s)
        return;
    free(s->x);
    free(s->pos);
    free(s->q);
    free(s->k);
    free(s->v);
    free(s->scores);
    free(s->allowed);
    free(s->av);
    free(s->out);
    memset(s, 0, sizeof *s);
}

/* A copy of n floats, or NULL. */
static float *dup_floats(const float *a, size_t n)
{
    float *c = malloc(n * sizeof *c);
    if (c)
        memcpy(c, a, n * sizeof *c);
    return c;
}

ev_status attn_forward(const attn_head *h, const float *X, const unsigned char *key_mask, size_t n,
                       const attn_opts *opts, float *A, float *Z, ev_error *err)
{
    return attn_forward_steps(h, X, key_mask, n, opts, A, Z, NULL, err);
}

ev_status attn_forward_steps(const attn_head *h, const float *X, const unsigned char *key_mask, size_t n,
                             const attn_opts *opts, float *A, float *Z, attn_steps *steps, ev_error *err)
{
    attn_opts o = opts ? *opts : attn_opts_default();
    if (steps)
        memset(steps, 0, sizeof *steps);
    ev_status st = check_forward(h, X, n, &o, Z, err);
    if (st != EV_OK)
        return st;
    size_t dm = h->d_model, dk = h->d_k;
    float *xp = NULL; /* (n, dm) X + positions */
    float *q = NULL;  /* (n, dk) */
    float *k = NULL;  /* (n, dk) */
    float *v = NULL;  /* (n, dk) */
    float *av = NULL; /* (n, dk) A·V, before W_O */
    if (steps) {
        steps->n = n;
        steps->d_model = dm;
        steps->d_k = dk;
        if (!(steps->x = dup_floats(X, n * dm)) || !(steps->allowed = malloc(n * n)))
            goto oom;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++)
                steps->allowed[i * n + j] =
                    !(key_mask && key_mask[j]) && !(o.causal && j > i) && !(h->exclude_self && j == i);
    }

    /* pass 1: the input, X' = X + s·P */
    const float *x = X; /* (n, dm) */
    if (o.positions == ATTN_POS_SINUSOIDAL) {
        if (!(xp = malloc(n * dm * sizeof *xp)))
            goto oom;
        attn_positional_encoding(n, dm, o.position_scale, xp);
        if (steps && !(steps->pos = dup_floats(xp, n * dm)))
            goto oom;
        for (size_t i = 0; i < n * dm; i++)
            xp[i] += X[i];
        x = xp;
    }
    /* pass 2: projections Q = X'·W_Q, K = X'·W_K, V = X'·W_V; the identity uses X' itself */
    const float *Q = x, *K = x, *V = x; /* (n, dk) each */
    if (h->w_q) {
        if (!(q = malloc(n * dk * sizeof *q)) || !(k = malloc(n * dk * sizeof *k)) ||
            !(v = malloc(n * dk * sizeof *v)))
            goto oom;
        matmul(x, h->w_q, q, n, dk, dm);
        matmul(x, h->w_k, k, n, dk, dm);
        matmul(x, h->w_v, v, n, dk, dm);
        Q = q;
        K = k;
        V = v;
    }
    if (steps && (!(steps->q = dup_floats(Q, n * dk)) || !(steps->k = dup_floats(K, n * dk)) ||
                  !(steps->v = dup_floats(V, n * dk))))
        goto oom;
    /* pass 3: scores A = Q·Kᵀ / √d_k */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)n, (int)dk, 1.0f / sqrtf((float)dk), Q,
                (int)dk, K, (int)dk, 0.0f, A, (int)n);
    if (steps && !(steps->scores = dup_floats(A, n * n)))
        goto oom;
    /* pass 4: softmax of each row over its allowed keys (not masked; j ≤ i when causal; j ≠ i when the head
     * excludes self-attention) */
    for (size_t i = 0; i < n; i++) {
        float *row = A + i * n; /* (n) */
        size_t lim = o.causal ? i + 1 : n;
        /* 4a: the maximum */
        float max = -INFINITY;
        int any = 0;
        for (size_t j = 0; j < lim; j++) {
            if ((key_mask && key_mask[j]) || (h->exclude_self && j == i))
                continue;
            if (!isfinite(row[j])) {
                st = ev_fail(err, EV_ERR_FORMAT, "attention score (%zu, %zu) overflows float32: the vectors are too "
                             "large", i, j);
                goto done;
            }
            if (row[j] > max)
                max = row[j];
            any = 1;
        }
        if (!any) { /* every key masked: no attention at all */
            memset(row, 0, n * sizeof *row);
            continue;
        }
        /* 4b: exp and sum (the maximum contributes exp(0) = 1, so sum ≥ 1) */
        float sum = 0.0f;
        for (size_t j = 0; j < n; j++) {
            if (j >= lim || (key_mask && key_mask[j]) || (h->exclude_self && j == i)) {
                row[j] = 0.0f;
                continue;
            }
            row[j] = expf(row[j] - max);
            sum += row[j];
        }
        /* 4c: normalise */
        float inv = 1.0f / sum;
        for (size_t j = 0; j < lim; j++)
            row[j] *= inv;
    }
    if (steps) { /* the weighted sum, kept even when Z is not asked for */
        if (!(steps->av = malloc(n * dk * sizeof *steps->av)))
            goto oom;
        matmul(A, V, steps->av, n, dk, n);
    }
    if (!Z) { /* the weights alone */
        st = EV_OK;
        goto done;
    }
    /* pass 5: weighted sum A·V (into Z directly when there is no W_O; the one kept in steps when asked for) */
    const float *avp = steps ? steps->av : av; /* (n, dk) */
    if (steps && !h->w_o)
        memcpy(Z, steps->av, n * dk * sizeof *Z);
    else if (!steps) {
        if (h->w_o && !(av = malloc(n * dk * sizeof *av)))
            goto oom;
        matmul(A, V, h->w_o ? av : Z, n, dk, n);
        avp = av;
    }
    /* pass 6: output projection Z = (A·V)·W_O */
    if (h->w_o)
        matmul(avp, h->w_o, Z, n, dm, dk);
    if (steps && !(steps->out = dup_floats(Z, n * dm)))
        goto oom;
    /* pass 7: never hand out NaN or Inf */
    for (size_t i = 0; i < n * dm; i++)
        if (!isfinite(Z[i])) {
            st = ev_fail(err, EV_ERR_FORMAT, "attention output (%zu, %zu) overflows float32: the vectors are too "
                         "large", i / dm, i % dm);
            goto done;
        }
    st = EV_OK;
    goto done;
oom:
    st = ev_fail(err, EV_ERR_NOMEM, "out of memory computing attention over %zu tokens", n);
done:
    if (st != EV_OK)
        attn_steps_free(steps);
    free(xp);
    free(q);
    free(k);
    free(v);
    free(av);
    return st;
}

/* ---- the naive twin -------------------------------------------------------------------------------------- */

/* out (m, n) = a (m, k) · b (k, n) in double; a is af (float) or, when af is NULL, ad (double); b NULL = identity. */
static void naive_matmul(const float *af, const double *ad, const float *b, double *out, size_t m, size_t n,
                         size_t k)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double acc = 0;
            for (size_t p = 0; p < k; p++) {
                double a = af ? (double)af[i * k + p] : ad[i * k + p];
                double w = b ? (double)b[p * n + j] : (double)(p == j);
                acc += a * w;
            }
            out[i * n + j] = acc;
        }
}

ev_status attn_forward_naive(const attn_head *h, const float *X, const unsigned char *key_mask, size_t n,
                             const attn_opts *opts, float *A, float *Z, ev_error *err)
{
    attn_opts o = opts ? *opts : attn_opts_default();
    ev_status st = check_forward(h, X, n, &o, Z, err);
    if (st != EV_OK)
        return st;
    size_t dm = h->d_model, dk = h->d_k;
    float *xp = malloc(n * dm * sizeof *xp);   /* (n, dm) */
    double *q = malloc(n * dk * sizeof *q);    /* (n, dk) */
    double *k = malloc(n * dk * sizeof *k);    /* (n, dk) */
    double *v = malloc(n * dk * sizeof *v);    /* (n, dk) */
    double *s = malloc(n * n * sizeof *s);     /* (n, n) weights in double */
    double *av = malloc(n * dk * sizeof *av);  /* (n, dk) */
    double *z = malloc(n * dm * sizeof *z);    /* (n, dm) */
    if (!xp || !q || !k || !v || !s || !av || !z) {
        st = ev_fail(err, EV_ERR_NOMEM, "out of memory computing attention over %zu tokens", n);
        goto done;
    }
    /* 1: input */
    if (o.positions == ATTN_POS_SINUSOIDAL)
        attn_positional_encoding(n, dm, o.position_scale, xp);
    else
        memset(xp, 0, n * dm * sizeof *xp);
    for (size_t i = 0; i < n * dm; i++)
        xp[i] += X[i];
    /* 2: projections */
    naive_matmul(xp, NULL, h->w_q, q, n, dk, dm);
    naive_matmul(xp, NULL, h->w_k, k, n, dk, dm);
    naive_matmul(xp, NULL, h->w_v, v, n, dk, dm);
    /* 3, 4: scores and softmax, row by row */
    double scale = 1.0 / sqrt((double)dk);
    for (size_t i = 0; i < n; i++) {
        double max = -INFINITY;
        for (size_t j = 0; j < n; j++) {
            int allowed = !(key_mask && key_mask[j]) && !(o.causal && j > i) && !(h->exclude_self && j == i);
            double dot = 0;
            for (size_t p = 0; p < dk; p++)
                dot += q[i * dk + p] * k[j * dk + p];
            s[i * n + j] = allowed ? dot * scale : -INFINITY;
            if (allowed && s[i * n + j] > max)
                max = s[i * n + j];
        }
        double sum = 0;
        for (size_t j = 0; j < n; j++) {
            s[i * n + j] = max == -INFINITY || s[i * n + j] == -INFINITY ? 0.0 : exp(s[i * n + j] - max);
            sum += s[i * n + j];
        }
        for (size_t j = 0; j < n; j++) {
            s[i * n + j] = sum > 0 ? s[i * n + j] / sum : 0.0;
            A[i * n + j] = (float)s[i * n + j];
        }
    }
    if (!Z) /* the weights alone */
        goto done;
    /* 5, 6: weighted sum and output projection */
    for (size_t i = 0; i < n; i++)
        for (size_t p = 0; p < dk; p++) {
            double acc = 0;
            for (size_t j = 0; j < n; j++)
                acc += s[i * n + j] * v[j * dk + p];
            av[i * dk + p] = acc;
        }
    if (h->w_o)
        naive_matmul(NULL, av, h->w_o, z, n, dm, dk);
    else
        memcpy(z, av, n * dm * sizeof *z);
    for (size_t i = 0; i < n * dm; i++) {
        Z[i] = (float)z[i];
        if (!isfinite(Z[i])) {
            st = ev_fail(err, EV_ERR_FORMAT, "attention output (%zu, %zu) overflows float32", i / dm, i % dm);
            goto done;
        }
    }
done:
    free(xp);
    free(q);
    free(k);
    free(v);
    free(s);
    free(av);
    free(z);
    return st;
}
