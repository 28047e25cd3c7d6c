/* head_context — the context head: parameters, the forward pass, the full-softmax loss and its backward pass
 * (numbered passes, llm.c style), the double-precision twin of the loss, and the task's steps for head_train's
 * loop. The model and its conventions are in head_context.h. */
#include "head_context.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "head_file.h"
#include "parallel.h"
#include "rng.h"
#include "head_ops.h"
#include "vec4.h"

#define LOGIT_TILE 256 /* predicting rows per tile of full-softmax logits (256 × 30,000 floats: 30 MB) */

/* ==== parameters ============================================================================================ */

ev_status ctx_model_new(size_t d, size_t dk, size_t nc, attn_head **out, ev_error *err)
{
    *out = NULL;
    if (nc == 0)
        return ev_fail(err, EV_ERR_USAGE, "a context head needs at least one candidate word");
    ev_status st = attn_head_new(ATTN_HEAD_FILE, d, dk, 1, 0, nc, 1, out, err);
    if (st != EV_OK)
        return st;
    attn_head *h = *out;
    h->positions = ATTN_POS_SINUSOIDAL;
    h->position_scale = HEAD_DEFAULT_POSITION_SCALE;
    h->has_position_meta = 1;
    h->exclude_self = 1;
    h->residual = 1;
    h->task = ATTN_TASK_CONTEXT;
    h->train_scale[0] = 1.0f;
    return EV_OK;
}

int ctx_model_is_complete(const attn_head *h)
{
    size_t m = h->d_model * h->d_k;
    return h->task == ATTN_TASK_CONTEXT && h->w_q == h->params && h->w_k == h->params + m &&
           h->w_v == h->params + 2 * m && h->w_o == h->params + 3 * m && !h->train_mask &&
           h->train_bias == h->params + 4 * m && h->train_scale == h->train_bias + h->candidates &&
           h->candidates > 0 && h->n_params == 4 * m + h->candidates + 1;
}

/* ==== the work buffers ====================================================================================== */

struct ctx_work {
    const store *s;
    const attn_head *p;
    const float *E;            /* (V, d) the store's vectors */
    size_t V, d, dk, dq, L, nc;/* dq = max(d, dk): width of Q and K (the identity pattern uses d) */
    size_t max_tok;
    int threads;
    float *pe;                 /* (L, d) scaled positions (zeros when the head has none) */
    float *U;                  /* (T, d) inputs x_j + position */
    float *Q, *K;              /* (T, dq) */
    float *V_, *H;             /* (T, dk) values; attention outputs A·V of the predicting rows */
    float *A;                  /* (T, L) row i: token i's weights over its sentence */
    size_t *rowtok;            /* (T) token index of each predicting row */
    int32_t *tword;            /* (T) the hidden word (store row) each predicting row predicts */
    size_t n_rows;
    float *Ht;                 /* (T, dk) H of the predicting rows */
    float *Ct;                 /* (T, d) their vectors in context c_i */
    float *G;                  /* (LOGIT_TILE, nc) logits, then d loss / d logit */
    double *lossrow, *dsrow;   /* (T) each row's loss, and its Σ_w dlogit_w · (c·E[w]) (the scale's gradient) */
    float *dCt;                /* (T, d) */
    float *dHt;                /* (T, dk) */
    float *dH, *dQ, *dK, *dV;  /* (T, dk) */
    float *ones;               /* (LOGIT_TILE) for the bias's column sums */
    float *grad;               /* (n_params) */
};

void ctx_work_free(ctx_work *w)
{
    if (!w)
        return;
    float *bufs[] = {w->pe, w->U, w->Q, w->K, w->V_, w->H, w->A, w->Ht, w->Ct, w->G,
                     w->dCt, w->dHt, w->dH, w->dQ, w->dK, w->dV, w->ones, w->grad};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        free(bufs[i]);
    free(w->rowtok);
    free(w->tword);
    free(w->lossrow);
    free(w->dsrow);
    free(w);
}

ev_status ctx_work_new(const store *s, const attn_head *p, size_t max_tok, int threads, ctx_work **out,
                       ev_error *err)
{
    *out = NULL;
    if (!ctx_model_is_complete(p))
        return ev_fail(err, EV_ERR_USAGE, "the head is not a context head (w_q, w_k, w_v, w_o, train_bias, "
                       "train_scale in one block: ctx_model_new)");
    if (store_dim(s) != p->d_model || p->candidates > store_size(s))
        return ev_fail(err, EV_ERR_USAGE, "the head (d_model %zu, %zu candidates) does not fit the vectors (%zu words "
                       "of dimension %zu)", p->d_model, p->candidates, store_size(s), store_dim(s));
    if (max_tok == 0 || max_tok > INT_MAX / HEAD_MAX_LEN)
        return ev_fail(err, EV_ERR_USAGE, "bad batch size %zu", max_tok);
    ctx_work *w = calloc(1, sizeof *w);
    if (!w)
        return ev_fail(err, EV_ERR_NOMEM, "out of memory");
    w->s = s;
    w->p = p;
    w->E = store_vectors(s);
    w->V = store_size(s);
    w->d = p->d_model;
    w->dk = p->d_k;
    w->dq = w->d > w->dk ? w->d : w->dk;
    w->L = HEAD_MAX_LEN;
    w->nc = p->candidates;
    w->max_tok = max_tok;
    w->threads = threads < 1 ? 1 : threads > PARALLEL_MAX_THREADS ? PARALLEL_MAX_THREADS : threads;
    size_t T = max_tok, d = w->d, dk = w->dk;
    int bad = 0;
    w->pe = head_falloc(w->L, d, &bad);
    w->U = head_falloc(T, d, &bad);
    w->Q = head_falloc(T, w->dq, &bad);
    w->K = head_falloc(T, w->dq, &bad);
    w->V_ = head_falloc(T, dk, &bad);
    w->H = head_falloc(T, dk, &bad);
    w->A = head_falloc(T, w->L, &bad);
    w->Ht = head_falloc(T, dk, &bad);
    w->Ct = head_falloc(T, d, &bad);
    w->G = head_falloc(LOGIT_TILE, w->nc, &bad);
    w->dCt = head_falloc(T, d, &bad);
    w->dHt = head_falloc(T, dk, &bad);
    w->dH = head_falloc(T, dk, &bad);
    w->dQ = head_falloc(T, dk, &bad);
    w->dK = head_falloc(T, dk, &bad);
    w->dV = head_falloc(T, dk, &bad);
    w->ones = head_falloc(LOGIT_TILE, 1, &bad);
    w->grad = head_falloc(p->n_params, 1, &bad);
    w->rowtok = malloc(T * sizeof *w->rowtok);
    w->tword = malloc(T * sizeof *w->tword);
    w->lossrow = malloc(T * sizeof *w->lossrow);
    w->dsrow = malloc(T * sizeof *w->dsrow);
    if (bad || !w->rowtok || !w->tword || !w->lossrow || !w->dsrow) {
        ctx_work_free(w);
        return ev_fail(err, EV_ERR_NOMEM, "out of memory for the context head's buffers (%zu tokens)", T);
    }
    for (size_t i = 0; i < LOGIT_TILE; i++)
        w->ones[i] = 1.0f;
    if (p->positions == ATTN_POS_SINUSOIDAL)
        attn_positional_encoding(w->L, d, p->position_scale, w->pe);
    else
        memset(w->pe, 0, w->L * d * sizeof *w->pe);
    *out = w;
    return EV_OK;
}

const float *ctx_work_grad(const ctx_work *w) { return w->grad; }
const float *ctx_work_outputs(const ctx_work *w) { return w->Ct; }
const size_t *ctx_work_rows(const ctx_work *w) { return w->rowtok; }
const int32_t *ctx_work_targets(const ctx_work *w) { return w->tword; }

/* Whether token i of sentence [t0, t0 + n) may attend to token j: a known token other than itself and the hidden
 * one. */
static int is_key(const int32_t *row, size_t t0, size_t i, size_t j, int32_t h)
{
    return j != i && (int32_t)(j - t0) != h && row[j] >= 0;
}

static ev_status check_batch(const ctx_work *w, const ctx_batch *b, ev_error *err)
{
    size_t T = b->n_sent ? b->start[b->n_sent] : 0;
    if (T > w->max_tok)
        return ev_fail(err, EV_ERR_USAGE, "batch of %zu tokens exceeds the buffers (%zu)", T, w->max_tok);
    for (size_t s = 0; s < b->n_sent; s++) {
        size_t t0 = b->start[s];
        if (b->start[s + 1] < t0 || b->start[s + 1] - t0 > w->L)
            return ev_fail(err, EV_ERR_USAGE, "batch sentence %zu: bad length", s);
        size_t n = b->start[s + 1] - t0;
        int32_t h = b->hidden[s];
        if (h != CTX_NO_HIDDEN && (h < 0 || (size_t)h >= n || b->row[t0 + (size_t)h] < 0 ||
                                   (size_t)b->row[t0 + (size_t)h] >= w->nc))
            return ev_fail(err, EV_ERR_USAGE, "batch sentence %zu: the hidden word is not a known candidate", s);
        for (size_t i = t0; i < t0 + n; i++) {
            if (b->row[i] >= (int32_t)w->V || b->row[i] < -1)
                return ev_fail(err, EV_ERR_USAGE, "batch token %zu: row out of range", i);
            if (!b->predict[i])
                continue;
            int keyed = 0;
            for (size_t j = t0; j < t0 + n && !keyed; j++)
                keyed = is_key(b->row, t0, i, j, h);
            if (h == CTX_NO_HIDDEN || b->row[i] < 0 || (int32_t)(i - t0) == h || !keyed)
                return ev_fail(err, EV_ERR_USAGE, "batch token %zu: predicts, but is not a known token with a key "
                               "in a sentence with a hidden word", i);
        }
    }
    return EV_OK;
}

/* ==== the forward pass ====================================================================================== */

typedef struct {
    ctx_work *w;
    const ctx_batch *b;
    head_pattern kind;
    size_t qkw;     /* width of Q and K rows */
    float scale;    /* 1/√qkw */
    float s;        /* the logits' scale */
    size_t r0;      /* first row of the tile */
} pass_ctx;

/* pass 3: the attention rows of the predicting tokens of sentences [lo, hi): scores over their keys, softmax
 * subtracting the maximum, H_i = Σ_j a_ij v_j. */
static void attn_rows(void *vc, size_t lo, size_t hi, int tid)
{
    (void)tid;
    pass_ctx *c = vc;
    ctx_work *w = c->w;
    const ctx_batch *b = c->b;
    size_t dk = w->dk, L = w->L;
    for (size_t s = lo; s < hi; s++) {
        size_t t0 = b->start[s], n = b->start[s + 1] - t0;
        for (size_t i = t0; i < t0 + n; i++) {
            if (!b->predict[i])
                continue;
            float *a = w->A + i * L, *h = w->H + i * dk;
            float mx = -INFINITY;
            for (size_t j = t0; j < t0 + n; j++) {
                float *aj = a + (j - t0);
                if (!is_key(b->row, t0, i, j, b->hidden[s])) {
                    *aj = -INFINITY;
                    continue;
                }
                *aj = c->kind == HEAD_PATTERN_UNIFORM ? 0.0f : head_dot(w->Q + i * c->qkw, w->K + j * c->qkw, c->qkw) * c->scale;
                mx = *aj > mx ? *aj : mx;
            }
            /* a predicting row has a key (check_batch): mx is finite */
            head_attn_row(a, n, mx, w->V_ + t0 * dk, dk, h);
        }
    }
}

/* Passes 1-4: up to the predicting rows' vectors in context Ct (n_rows, d). */
static void forward(ctx_work *w, const ctx_batch *b, head_pattern kind, const float *wq_alt, const float *wk_alt)
{
    const attn_head *p = w->p;
    size_t d = w->d, dk = w->dk, T = b->n_sent ? b->start[b->n_sent] : 0;
    /* pass 1: inputs u_j = E[row_j] + P_j (0 for placeholders: never a key, value or query that counts) */
    for (size_t s = 0; s < b->n_sent; s++)
        for (size_t t = b->start[s]; t < b->start[s + 1]; t++) {
            float *u = w->U + t * d;
            if (b->row[t] < 0) {
                memset(u, 0, d * sizeof *u);
                continue;
            }
            const float *e = w->E + (size_t)b->row[t] * d, *pe = w->pe + (t - b->start[s]) * d;
            for (size_t k = 0; k < d; k++)
                u[k] = e[k] + pe[k];
        }
    /* pass 2: projections Q = U·W_Q, K = U·W_K (the identity pattern: U itself), V = U·W_V */
    pass_ctx c = {w, b, kind, dk, 1.0f / sqrtf((float)dk), 0, 0};
    if (T > 0) {
        if (kind == HEAD_PATTERN_IDENTITY) {
            c.qkw = d;
            c.scale = 1.0f / sqrtf((float)d);
            memcpy(w->Q, w->U, T * d * sizeof(float));
            memcpy(w->K, w->U, T * d * sizeof(float));
        } else if (kind != HEAD_PATTERN_UNIFORM) {
            head_gemm(0, 0, T, dk, d, 1.0f, w->U, kind == HEAD_PATTERN_RANDOM ? wq_alt : p->w_q, w->Q, 0);
            head_gemm(0, 0, T, dk, d, 1.0f, w->U, kind == HEAD_PATTERN_RANDOM ? wk_alt : p->w_k, w->K, 0);
        }
        head_gemm(0, 0, T, dk, d, 1.0f, w->U, p->w_v, w->V_, 0);
    }
    /* pass 3: attention of the predicting rows */
    parallel_for(w->threads, b->n_sent, attn_rows, &c);
    /* pass 4: gather the rows, Ct = x_i + Ht·W_O */
    size_t P = 0;
    for (size_t s = 0; s < b->n_sent; s++)
        for (size_t t = b->start[s]; t < b->start[s + 1]; t++)
            if (b->predict[t]) {
                w->rowtok[P] = t;
                w->tword[P] = b->row[b->start[s] + (size_t)b->hidden[s]];
                memcpy(w->Ht + P * dk, w->H + t * dk, dk * sizeof(float));
                P++;
            }
    w->n_rows = P;
    if (P == 0)
        return;
    head_gemm(0, 0, P, d, dk, 1.0f, w->Ht, p->w_o, w->Ct, 0);
    for (size_t i = 0; i < P; i++) {
        const float *e = w->E + (size_t)b->row[w->rowtok[i]] * d;
        float *ct = w->Ct + i * d;
        for (size_t k = 0; k < d; k++)
            ct[k] += e[k];
    }
}

ev_status ctx_forward(ctx_work *w, const ctx_batch *b, head_pattern k, const float *wq_alt, const float *wk_alt,
                      size_t *n_rows, ev_error *err)
{
    *n_rows = 0;
    ev_status st = check_batch(w, b, err);
    if (st != EV_OK)
        return st;
    if ((unsigned)k >= HEAD_PATTERNS || (k == HEAD_PATTERN_RANDOM && (!wq_alt || !wk_alt)))
        return ev_fail(err, EV_ERR_USAGE, "bad attention pattern %d", (int)k);
    forward(w, b, k, wq_alt, wk_alt);
    *n_rows = w->n_rows;
    return EV_OK;
}

/* ==== the loss: full softmax over the candidates, by tiles of rows ========================================= */

/* pass 5b: rows [lo, hi) of the tile, in place: the softmax of s·G + b (one exp per logit), the row's loss, its
 * part of the scale's gradient Σ_w dlogit_w·G_w, then G ← dlogit = (p − onehot)/P. */
static void softmax_rows(void *vc, size_t lo, size_t hi, int tid)
{
    (void)tid;
    pass_ctx *c = vc;
    ctx_work *w = c->w;
    const float *bias = w->p->train_bias, s = c->s;
    size_t nc = w->nc, nv = nc & ~(size_t)3;
    float invP = 1.0f / (float)w->n_rows;
    for (size_t r = lo; r < hi; r++) {
        float *g = w->G + r * nc;
        size_t row = c->r0 + r;
        int32_t t = w->tword[row];
        /* logits l = s·g + b and their maximum */
        vec4f vmx = vec4_splat(-INFINITY), vs = vec4_splat(s);
        for (size_t k = 0; k < nv; k += 4) {
            vec4f l = vs * *(vec4f_u *)(g + k) + *(const vec4f_u *)(bias + k);
            vmx = vec4_max(vmx, l);
        }
        float mx = vec4_hmax(vmx);
        for (size_t k = nv; k < nc; k++) {
            float l = s * g[k] + bias[k];
            mx = l > mx ? l : mx;
        }
        /* e = exp(l − max) in place of g, with Σ e and Σ e·g (g: the raw product c·E[w], for the scale's
         * gradient) in the same pass */
        float raw_t = g[t], lt = s * raw_t + bias[t];
        vec4f vsum = vec4_splat(0.0f), vsg = vec4_splat(0.0f), vm = vec4_splat(mx);
        for (size_t k = 0; k < nv; k += 4) {
            vec4f gk = *(vec4f_u *)(g + k);
            vec4f e = vec4_exp(vs * gk + *(const vec4f_u *)(bias + k) - vm);
            vsum += e;
            vsg += e * gk;
            *(vec4f_u *)(g + k) = e;
        }
        float sum = vec4_hsum(vsum), sg = vec4_hsum(vsg);
        for (size_t k = nv; k < nc; k++) {
            float e = vec4_exp1(s * g[k] + bias[k] - mx);
            sum += e;
            sg += e * g[k];
            g[k] = e;
        }
        w->lossrow[row] = (double)logf(sum) + (double)mx - (double)lt;
        /* dlogit = (softmax − onehot)/P; ds_row = Σ dlogit·g = (Σ e·g / Σ e − g_t)/P */
        float scale = invP / sum;
        vec4f vsc = vec4_splat(scale);
        for (size_t k = 0; k < nv; k += 4)
            *(vec4f_u *)(g + k) = *(vec4f_u *)(g + k) * vsc;
        for (size_t k = nv; k < nc; k++)
            g[k] *= scale;
        g[t] -= invP;
        double ds = ((double)sg / (double)sum - (double)raw_t) * (double)invP;
        w->dsrow[row] = ds;
    }
}

static void attn_back_rows(void *vc, size_t lo, size_t hi, int tid);

ev_status ctx_loss_grad(ctx_work *w, const ctx_batch *b, double *loss, ev_error *err)
{
    ev_status st = check_batch(w, b, err);
    if (st != EV_OK)
        return st;
    const attn_head *p = w->p;
    size_t d = w->d, dk = w->dk, nc = w->nc, T = b->n_sent ? b->start[b->n_sent] : 0;
    size_t m = d * dk;
    float *gq = w->grad, *gk = gq + m, *gv = gk + m, *go = gv + m, *gb = go + m, *gs = gb + nc;
    memset(w->grad, 0, p->n_params * sizeof(float));
    *loss = 0;
    /* passes 1-4 */
    forward(w, b, HEAD_PATTERN_TRAINED, NULL, NULL);
    size_t P = w->n_rows;
    if (P == 0)
        return EV_OK;
    float s = p->train_scale[0];
    if (s == 0.0f)
        return ev_fail(err, EV_ERR_FORMAT, "the context head's logit scale is 0: try a smaller --lr");
    /* pass 5, by tiles of rows: G = Ct·E[:nc]ᵀ (raw products), softmax and its gradient in place, then
     * db += Σ_rows G, dCt = s·G·E[:nc] */
    pass_ctx c = {w, b, HEAD_PATTERN_TRAINED, dk, 0, s, 0};
    for (size_t r0 = 0; r0 < P; r0 += LOGIT_TILE) {
        size_t rows = P - r0 < LOGIT_TILE ? P - r0 : LOGIT_TILE;
        head_gemm(0, 1, rows, nc, d, 1.0f, w->Ct + r0 * d, w->E, w->G, 0);
        c.r0 = r0;
        /* the rows run in our threads: no OpenBLAS workers spinning beside them */
        parallel_for_own_blas(w->threads, rows, softmax_rows, &c);
        cblas_sgemv(CblasRowMajor, CblasTrans, (int)rows, (int)nc, 1.0f, w->G, (int)nc, w->ones, 1, 1.0f, gb, 1);
        head_gemm(0, 0, rows, d, nc, s, w->G, w->E, w->dCt + r0 * d, 0);
    }
    double total = 0, ds = 0;
    for (size_t i = 0; i < P; i++) {
        total += w->lossrow[i];
        ds += w->dsrow[i];
    }
    *loss = total / (double)P;
    gs[0] = (float)ds;
    /* pass 6: output projection. dW_O = Htᵀ·dCt, dHt = dCt·W_Oᵀ, scattered to the rows' tokens (the residual
     * x_i is frozen: no gradient) */
    head_gemm(1, 0, dk, d, P, 1.0f, w->Ht, w->dCt, go, 0);
    head_gemm(0, 1, P, dk, d, 1.0f, w->dCt, p->w_o, w->dHt, 0);
    memset(w->dH, 0, T * dk * sizeof(float));
    for (size_t i = 0; i < P; i++)
        memcpy(w->dH + w->rowtok[i] * dk, w->dHt + i * dk, dk * sizeof(float));
    /* pass 7: attention backward, a sentence per thread range */
    memset(w->dQ, 0, T * dk * sizeof(float));
    memset(w->dK, 0, T * dk * sizeof(float));
    memset(w->dV, 0, T * dk * sizeof(float));
    c.scale = 1.0f / sqrtf((float)dk);
    parallel_for(w->threads, b->n_sent, attn_back_rows, &c);
    /* pass 8: projections. dW_Q = Uᵀ·dQ, dW_K = Uᵀ·dK, dW_V = Uᵀ·dV */
    head_gemm(1, 0, d, dk, T, 1.0f, w->U, w->dQ, gq, 0);
    head_gemm(1, 0, d, dk, T, 1.0f, w->U, w->dK, gk, 0);
    head_gemm(1, 0, d, dk, T, 1.0f, w->U, w->dV, gv, 0);
    return EV_OK;
}

/* pass 7 for sentences [lo, hi): dA_ij = dH_i·v_j, dV_j += a_ij dH_i; softmax backward
 * dS_ij = a_ij (dA_ij − Σ_j a_ij dA_ij) / √d_k; dQ_i += dS_ij k_j, dK_j += dS_ij q_i. A sentence's keys and values
 * belong to it alone, so the ranges never write the same rows. */
static void attn_back_rows(void *vc, size_t lo, size_t hi, int tid)
{
    (void)tid;
    pass_ctx *c = vc;
    ctx_work *w = c->w;
    const ctx_batch *b = c->b;
    size_t dk = w->dk, L = w->L;
    float dA[HEAD_MAX_LEN];
    for (size_t s = lo; s < hi; s++) {
        size_t t0 = b->start[s], n = b->start[s + 1] - t0;
        for (size_t i = t0; i < t0 + n; i++) {
            if (!b->predict[i])
                continue;
            const float *a = w->A + i * L, *dh = w->dH + i * dk, *q = w->Q + i * dk;
            float *dq = w->dQ + i * dk;
            head_attn_row_back(a, n, dh, q, w->K + t0 * dk, w->V_ + t0 * dk, dk, c->scale, dq, w->dK + t0 * dk,
                               w->dV + t0 * dk, dA);
        }
    }
}

/* ==== the double-precision twin ============================================================================= */

double ctx_loss_reference(const store *s, const attn_head *p, const ctx_batch *b)
{
    size_t d = p->d_model, dk = p->d_k, L = HEAD_MAX_LEN, nc = p->candidates;
    const float *E = store_vectors(s);
    float *pe = calloc(L * d, sizeof *pe);
    double *u = malloc(L * d * sizeof *u), *q = malloc(L * dk * sizeof *q), *k = malloc(L * dk * sizeof *k);
    double *v = malloc(L * dk * sizeof *v), *a = malloc(L * sizeof *a), *h = malloc(dk * sizeof *h);
    double *cv = malloc(d * sizeof *cv), *lg = malloc(nc * sizeof *lg);
    double total = 0;
    size_t P = 0;
    if (!pe || !u || !q || !k || !v || !a || !h || !cv || !lg) {
        total = NAN;
        goto done;
    }
    if (p->positions == ATTN_POS_SINUSOIDAL)
        attn_positional_encoding(L, d, p->position_scale, pe);
    for (size_t sn = 0; sn < b->n_sent; sn++) {
        size_t t0 = b->start[sn], n = b->start[sn + 1] - t0;
        int32_t hid = b->hidden[sn];
        for (size_t j = 0; j < n; j++) {
            int32_t r = b->row[t0 + j];
            for (size_t e = 0; e < d; e++)
                u[j * d + e] = r >= 0 ? (double)E[(size_t)r * d + e] + pe[j * d + e] : 0.0;
            for (size_t o = 0; o < dk; o++) {
                double sq = 0, sk = 0, sv = 0;
                for (size_t e = 0; e < d; e++) {
                    sq += u[j * d + e] * p->w_q[e * dk + o];
                    sk += u[j * d + e] * p->w_k[e * dk + o];
                    sv += u[j * d + e] * p->w_v[e * dk + o];
                }
                q[j * dk + o] = sq;
                k[j * dk + o] = sk;
                v[j * dk + o] = sv;
            }
        }
        for (size_t i = 0; i < n; i++) {
            if (!b->predict[t0 + i])
                continue;
            double mx = -INFINITY, sum = 0;
            for (size_t j = 0; j < n; j++) {
                a[j] = -INFINITY;
                if (j == i || (int32_t)j == hid || b->row[t0 + j] < 0)
                    continue;
                double sc = 0;
                for (size_t o = 0; o < dk; o++)
                    sc += q[i * dk + o] * k[j * dk + o];
                a[j] = sc / sqrt((double)dk);
                mx = a[j] > mx ? a[j] : mx;
            }
            for (size_t j = 0; j < n; j++) {
                a[j] = a[j] == -INFINITY ? 0.0 : exp(a[j] - mx);
                sum += a[j];
            }
            for (size_t o = 0; o < dk; o++) {
                double sh = 0;
                for (size_t j = 0; j < n; j++)
                    sh += a[j] / sum * v[j * dk + o];
                h[o] = sh;
            }
            const float *x = E + (size_t)b->row[t0 + i] * d;
            for (size_t e = 0; e < d; e++) {
                double sz = x[e];
                for (size_t o = 0; o < dk; o++)
                    sz += h[o] * p->w_o[o * d + e];
                cv[e] = sz;
            }
            double lmx = -INFINITY, se = 0;
            for (size_t w = 0; w < nc; w++) {
                double l = 0;
                for (size_t e = 0; e < d; e++)
                    l += cv[e] * E[w * d + e];
                lg[w] = (double)p->train_scale[0] * l + p->train_bias[w];
                lmx = lg[w] > lmx ? lg[w] : lmx;
            }
            for (size_t w = 0; w < nc; w++)
                se += exp(lg[w] - lmx);
            total += log(se) + lmx - lg[b->row[t0 + (size_t)hid]];
            P++;
        }
    }
    total = P ? total / (double)P : 0.0;
done:
    free(pe);
    free(u);
    free(q);
    free(k);
    free(v);
    free(a);
    free(h);
    free(cv);
    free(lg);
    return total;
}

/* ==== which word is hidden, which rows predict it ========================================================== */

int32_t ctx_choose(const int32_t *row, size_t n, size_t n_cand, size_t skip_top, double beta, double u01,
                   size_t rows, uint64_t *rng, unsigned char *predict)
{
    memset(predict, 0, n);
    size_t known = 0, elig = 0, fallback = 0;
    for (size_t j = 0; j < n; j++) {
        known += row[j] >= 0;
        elig += row[j] >= 0 && (size_t)row[j] >= skip_top && (size_t)row[j] < n_cand;
        fallback += row[j] >= 0 && (size_t)row[j] < n_cand;
    }
    /* a predicting row needs a key other than itself and the hidden word: three known tokens */
    if (known < 3 || fallback == 0)
        return CTX_NO_HIDDEN;
    /* the hidden word: weight (frequency rank + 1)^beta among the eligible ones (beta 0: each the same) */
    int use_skip = elig > 0;
    double wt[HEAD_MAX_LEN], total = 0;
    int32_t h = CTX_NO_HIDDEN;
    for (size_t j = 0; j < n && j < HEAD_MAX_LEN; j++) {
        int ok = row[j] >= 0 && (size_t)row[j] < n_cand && (!use_skip || (size_t)row[j] >= skip_top);
        wt[j] = ok ? (beta == 0 ? 1.0 : pow((double)row[j] + 1.0, beta)) : 0.0;
        total += wt[j];
    }
    double target = u01 * total, cum = 0;
    for (size_t j = 0; j < n && j < HEAD_MAX_LEN; j++) {
        if (wt[j] == 0)
            continue;
        h = (int32_t)j; /* the last eligible one when rounding leaves target at the total */
        cum += wt[j];
        if (cum > target)
            break;
    }
    /* every other known token predicts (each has a key: known ≥ 3), or `rows` of them drawn without replacement */
    size_t idx[HEAD_MAX_LEN], np = 0;
    for (size_t j = 0; j < n && j < HEAD_MAX_LEN; j++)
        if (row[j] >= 0 && (int32_t)j != h)
            idx[np++] = j;
    if (rows > 0 && rows < np) {
        for (size_t i = 0; i < rows; i++) { /* partial Fisher-Yates */
            size_t r = i + (rng ? rng_below(rng, np - i) : 0);
            size_t tmp = idx[i];
            idx[i] = idx[r];
            idx[r] = tmp;
        }
        np = rows;
    }
    for (size_t i = 0; i < np; i++)
        predict[idx[i]] = 1;
    return h;
}

int ctx_antecedent(const int32_t *row, size_t n, size_t n_cand, size_t skip_top, int32_t it_row, const int32_t *det,
                   size_t n_det, int32_t *out, size_t *out_n, size_t *at)
{
    size_t j2 = n;
    for (size_t j = 1; j < n && j2 == n; j++) {
        if (row[j] < 0 || (size_t)row[j] < skip_top || (size_t)row[j] >= n_cand)
            continue;
        for (size_t i = 0; i < j; i++)
            if (row[i] == row[j]) {
                j2 = j;
                break;
            }
    }
    if (j2 == n)
        return 0;
    int drop = 0; /* a determiner before the word goes with it */
    for (size_t k = 0; k < n_det && !drop; k++)
        drop = row[j2 - 1] >= 0 && row[j2 - 1] == det[k];
    size_t m = 0;
    for (size_t j = 0; j < n; j++) {
        if (drop && j == j2 - 1)
            continue;
        if (j == j2)
            *at = m;
        out[m++] = j == j2 ? it_row : row[j];
    }
    out[m++] = row[j2];
    if (m > HEAD_MAX_LEN)
        return 0;
    *out_n = m;
    return 1;
}

/* ==== training ============================================================================================== */

ctx_opts ctx_opts_default(void)
{
    ctx_opts o;
    memset(&o, 0, sizeof o);
    o.skip_top = CTX_DEFAULT_SKIP_TOP;
    o.rows = CTX_DEFAULT_ROWS;
    o.beta = CTX_DEFAULT_BETA;
    o.positions = ATTN_POS_SINUSOIDAL;
    o.position_scale = -1.0f;
    return o;
}

#define CTX_MAX_DET 8
typedef struct {
    ctx_work *w;
    size_t nc, skip_top, rows;
    double beta;
    int32_t *hidden;          /* (batch sentences) */
    unsigned char *predict;   /* (batch tokens) */
    size_t predicted;         /* predicting rows so far */
    size_t copies;            /* an antecedent example's copies: floor(ctx_opts.pronoun), */
    double extra;             /* and one more with this probability (the fraction) */
    int32_t it_row, det[CTX_MAX_DET];
    size_t n_det;
    int32_t *row;             /* (batch tokens) the batch's sentences, each followed by its antecedent examples */
    size_t *start;            /* (batch sentences + 1) */
} ctx_task;

/* head_objective.step: each sentence's hidden word and predicting rows (and its antecedent example after it), then
 * the loss and gradient. */
static ev_status ctx_step(void *vctx, const corpus_batch *cb, uint64_t *rng, double *loss, const float **grad,
                          ev_error *err)
{
    ctx_task *t = vctx;
    size_t S = 0, T = 0;
    for (size_t s = 0; s < cb->n_sent; s++) {
        size_t t0 = cb->start[s], n = cb->start[s + 1] - t0, m, at;
        memcpy(t->row + T, cb->row + t0, n * sizeof *t->row);
        t->start[S] = T;
        t->hidden[S++] = ctx_choose(t->row + T, n, t->nc, t->skip_top, t->beta, rng_uniform(rng), t->rows, rng,
                                    t->predict + T);
        T += n;
        size_t copies = t->copies + (t->extra > 0 && rng_uniform(rng) < t->extra);
        if (copies && ctx_antecedent(cb->row + t0, n, t->nc, t->skip_top, t->it_row, t->det, t->n_det, t->row + T, &m,
                                     &at))
            for (size_t k = 0; k < copies; k++) { /* the example's weight */
                if (k)
                    memcpy(t->row + T, t->row + T - m, m * sizeof *t->row);
                memset(t->predict + T, 0, m);
                t->predict[T + at] = 1;
                t->start[S] = T;
                t->hidden[S++] = (int32_t)(m - 1);
                T += m;
            }
    }
    t->start[S] = T;
    ctx_batch b = {S, t->start, t->row, t->hidden, t->predict};
    ev_status st = ctx_loss_grad(t->w, &b, loss, err);
    t->predicted += t->w->n_rows;
    *grad = t->w->grad;
    return st;
}

ev_status ctx_train(const store *s, const corpus *c, const ctx_opts *copts, const head_train_opts *topts,
                    attn_head **out, head_train_stats *stats, ev_error *err)
{
    *out = NULL;
    ctx_opts co = copts ? *copts : ctx_opts_default();
    head_train_opts ti = topts ? *topts : head_train_opts_default();
    if (ti.lr == 0)
        ti.lr = CTX_DEFAULT_LR;
    if (ti.epochs == 0)
        ti.epochs = CTX_DEFAULT_EPOCHS;
    if (ti.batch_tokens == 0)
        ti.batch_tokens = CTX_DEFAULT_BATCH_TOKENS;
    head_train_opts to;
    ev_status st = head_train_resolve(&ti, &to, err);
    if (st != EV_OK)
        return st;
    size_t d = store_dim(s), V = store_size(s);
    size_t dk = co.d_k ? co.d_k : HEAD_DEFAULT_DK, nc = co.n_cand ? co.n_cand : HEAD_DEFAULT_CANDIDATES;
    size_t BT = to.batch_tokens;
    if (nc > V)
        nc = V;
    if (dk > 65536 || co.rows > HEAD_MAX_LEN || !(co.beta >= 0 && co.beta <= 4) ||
        !(co.pronoun >= 0 && co.pronoun <= CTX_MAX_PRONOUN))
        return ev_fail(err, EV_ERR_USAGE, "bad model options (d_k %zu, rows %zu)", dk, co.rows);
    /* the pronoun objective's words: "it", and the determiners that go with a replaced word */
    static const char *const dets[CTX_MAX_DET] = {"the", "this", "that", "its", "his", "her", "their", "an"};
    int32_t it_row = -1, det[CTX_MAX_DET];
    size_t n_det = 0;
    if (co.pronoun > 0) {
        long r = store_find(s, "it", 2);
        if (r < 0 || (size_t)r >= nc)
            return ev_fail(err, EV_ERR_USAGE, "the pronoun objective needs the word 'it' among the %zu candidate words "
                           "of the vectors", nc);
        it_row = (int32_t)r;
        for (size_t k = 0; k < CTX_MAX_DET; k++)
            if ((r = store_find(s, dets[k], strlen(dets[k]))) >= 0)
                det[n_det++] = (int32_t)r;
    }
    /* a word to hide somewhere? */
    unsigned char tmp[HEAD_MAX_LEN];
    size_t with_hidden = 0;
    for (size_t i = 0; i < c->n_sent && !with_hidden; i++)
        with_hidden += ctx_choose(c->row + c->start[i], c->start[i + 1] - c->start[i], nc, co.skip_top, 0, 0.0, 0,
                                  NULL, tmp) != CTX_NO_HIDDEN;
    if (!with_hidden)
        return ev_fail(err, EV_ERR_NOTFOUND, "no sentence of the corpus has three words with vectors, one of them "
                       "among the %zu candidate words: nothing to predict", nc);
    attn_head *p = NULL;
    ctx_work *w = NULL;
    /* a batch: at most B = BT + HEAD_MAX_LEN tokens (head_train_run) in at most B sentences; with the antecedent
     * examples, each sentence of n tokens also gives up to `copies` examples of n + 1 ≤ 2n tokens */
    size_t B = BT + HEAD_MAX_LEN, copies = (size_t)ceil(co.pronoun);
    size_t max_tok = B * (1 + 2 * copies), max_sent = B * (1 + copies);
    int32_t *hidden = malloc((max_sent + 1) * sizeof *hidden);
    unsigned char *predict = malloc(max_tok);
    int32_t *rowbuf = malloc(max_tok * sizeof *rowbuf);
    size_t *startbuf = malloc((max_sent + 1) * sizeof *startbuf);
    if (!hidden || !predict || !rowbuf || !startbuf) {
        st = ev_fail(err, EV_ERR_NOMEM, "out of memory preparing the training");
        goto done;
    }
    if ((st = ctx_model_new(d, dk, nc, &p, err)) != EV_OK)
        goto done;
    p->positions = co.positions;
    p->position_scale = co.position_scale >= 0 ? co.position_scale : HEAD_DEFAULT_POSITION_SCALE;
    p->fingerprint = head_file_fingerprint(s, nc);
    p->has_fingerprint = 1;
    uint64_t rng = to.seed;
    rng_xavier(p->w_q, d * dk, d, dk, &rng);
    rng_xavier(p->w_k, d * dk, d, dk, &rng);
    rng_xavier(p->w_v, d * dk, d, dk, &rng);
    if ((st = ctx_work_new(s, p, max_tok, to.threads, &w, err)) != EV_OK)
        goto done;
    double whole = floor(co.pronoun);
    ctx_task task = {w, nc, co.skip_top, co.rows, co.beta, hidden, predict, 0, (size_t)whole, co.pronoun - whole,
                     it_row, {0}, n_det, rowbuf, startbuf};
    memcpy(task.det, det, n_det * sizeof *det);
    head_objective obj = {&task, p->params, p->n_params, ctx_step};
    if ((st = head_train_run(c, &to, &obj, &rng, stats, err)) != EV_OK)
        goto done;
    if (stats)
        stats->targets = task.predicted / to.epochs;
    *out = p;
    p = NULL;
done:
    ctx_work_free(w);
    attn_head_free(p);
    free(hidden);
    free(predict);
    free(rowbuf);
    free(startbuf);
    return st;
}
