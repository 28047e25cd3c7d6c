/* head_model — the masked-word head: parameters, the forward pass, the sampled-softmax loss and its backward pass
 * (numbered passes, llm.c style), the double-precision twin of the loss, and the task's steps for head_train's loop.
 * The model and its conventions are in head_model.h. */
#include "head_model.h"

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

#define LOGIT_TILE 256         /* targets per tile of sampled logits (a tile of 256 × 4096 floats stays in cache) */
#define P_MASK 0.8             /* query corruption: [MASK] */
#define P_RANDOM 0.1           /* a random candidate; the rest (0.1): the word itself */

/* ==== parameters ============================================================================================ */

ev_status head_model_new(size_t d, size_t dk, size_t nc, attn_head **out, ev_error *err)
{
    *out = NULL;
    if (nc == 0)
        return ev_fail(err, EV_ERR_USAGE, "a trained head needs at least one candidate word");
    ev_status st = attn_head_new(ATTN_HEAD_FILE, d, dk, 1, 1, nc, 0, out, err);
    if (st != EV_OK)
        return st;
    attn_head *h = *out;
    h->positions = ATTN_POS_SINUSOIDAL;
    h->position_scale = HEAD_DEFAULT_POSITION_SCALE;
    h->has_position_meta = 1;
    h->exclude_self = 1; /* trained without its own key and value */
    h->task = ATTN_TASK_MASKED_WORD;
    return EV_OK;
}

/* Whether h has head_model_new's layout. */
static int is_complete(const attn_head *h)
{
    size_t m = h->d_model * h->d_k;
    return h->w_q == h->params && h->w_k == h->params + m && h->w_v == h->params + 2 * m &&
           h->w_o == h->params + 3 * m && h->train_mask == h->params + 4 * m &&
           h->train_bias == h->params + 4 * m + h->d_model && h->candidates > 0 &&
           h->n_params == 4 * m + h->d_model + h->candidates;
}

ev_status head_model_complete(attn_head *h, ev_error *err)
{
    if (is_complete(h))
        return EV_OK;
    if (!attn_head_has_output(h))
        return ev_fail(err, EV_ERR_USAGE, "the head has no w_o and d_k %zu \xe2\x89\xa0 d_model %zu: its output is "
                       "not in the vectors' space, so it cannot predict words (it needs a w_o)", h->d_k, h->d_model);
    size_t d = h->d_model, dk = h->d_k, m = d * dk;
    size_t nc = h->train_bias ? h->candidates : h->candidates ? h->candidates : HEAD_DEFAULT_CANDIDATES;
    attn_head *n;
    ev_status st = attn_head_new(h->kind, d, dk, 1, 1, nc, 0, &n, err);
    if (st != EV_OK)
        return st;
    if (h->w_q) {
        memcpy(n->w_q, h->w_q, m * sizeof(float));
        memcpy(n->w_k, h->w_k, m * sizeof(float));
        memcpy(n->w_v, h->w_v, m * sizeof(float));
    } else { /* the identity head */
        for (size_t i = 0; i < d; i++)
            n->w_q[i * d + i] = n->w_k[i * d + i] = n->w_v[i * d + i] = 1.0f;
    }
    if (h->w_o)
        memcpy(n->w_o, h->w_o, m * sizeof(float));
    else /* no w_o: d_k = d_model, W_O = I */
        for (size_t i = 0; i < d; i++)
            n->w_o[i * d + i] = 1.0f;
    if (h->train_mask)
        memcpy(n->train_mask, h->train_mask, d * sizeof(float));
    if (h->train_bias)
        memcpy(n->train_bias, h->train_bias, nc * sizeof(float));
    /* h takes n's block; n goes with h's old one */
    float *old = h->params;
    h->params = n->params;
    h->n_params = n->n_params;
    h->w_q = n->w_q;
    h->w_k = n->w_k;
    h->w_v = n->w_v;
    h->w_o = n->w_o;
    h->train_mask = n->train_mask;
    h->train_bias = n->train_bias;
    h->candidates = nc;
    n->params = old;
    attn_head_free(n);
    return EV_OK;
}

/* ==== the work buffers ====================================================================================== */

struct head_work {
    const store *s;
    const attn_head *p;
    const float *E;             /* (V, d) the store's vectors */
    size_t V, d, dk, dq, L;     /* dq = max(d, dk): width of Q and K (the identity baseline uses d) */
    size_t max_tok, max_neg;
    int threads;
    float *pe;                  /* (L, d) scaled positions (zeros when the head has none) */
    float *U, *X;               /* (T, d) query inputs, key/value inputs */
    float *Q, *K;               /* (T, dq) */
    float *V_, *H;              /* (T, dk) values, attention outputs A·V */
    float *A;                   /* (T, L) row i: token i's weights over its sentence */
    size_t *tgt;                /* (T) token index of each target */
    size_t n_tgt;
    float *Ht;                  /* (T, dk) H of the targets */
    float *Zt;                  /* (T, d) outputs of the targets */
    float *ES;                  /* (S, d) the negatives' vectors */
    float *bneg;                /* (S) b - log(S·Q) of each negative */
    float *G;                   /* (threads, LOGIT_TILE, S) each thread's tile of logits, then d loss / d logit */
    float *gtrue;               /* (T) d loss / d true logit */
    double *lossrow;            /* (T) */
    float *dZt;                 /* (T, d) */
    float *dHt;                 /* (T, dk) */
    float *dH, *dQ, *dK, *dV;   /* (T, dk) */
    float *colsum;              /* (threads, S) per-thread column sums of the normalised G: the negatives' bias
                                   gradient */
    float *rowscale;            /* (T) 1 / (Σ exp · P) of each target's row */
    float *grad;                /* (n_params) */
    float *sumdq;               /* (dk) */
    int32_t *slot_head;         /* (candidates) first negative slot holding candidate c, -1: none */
    int32_t *slot_next;         /* (S) next slot with the same candidate */
};

void head_work_free(head_work *w)
{
    if (!w)
        return;
    float *bufs[] = {w->pe, w->U, w->X, w->Q, w->K, w->V_, w->H, w->A, w->Ht, w->Zt, w->ES, w->bneg, w->G,
                     w->gtrue, w->dZt, w->dHt, w->dH, w->dQ, w->dK, w->dV, w->colsum, w->rowscale, w->grad, w->sumdq};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        free(bufs[i]);
    free(w->tgt);
    free(w->lossrow);
    free(w->slot_head);
    free(w->slot_next);
    free(w);
}

ev_status head_work_new(const store *s, const attn_head *p, size_t max_tok, size_t max_neg, int threads,
                        head_work **out, ev_error *err)
{
    *out = NULL;
    if (!is_complete(p))
        return ev_fail(err, EV_ERR_USAGE, "the head lacks the trained model's tensors (w_o, train_mask, train_bias in "
                       "one block: head_model_new, head_model_complete)");
    if (store_dim(s) != p->d_model || p->candidates > store_size(s))
        return ev_fail(err, EV_ERR_USAGE, "the head (d_model %zu, %zu candidates) does not fit the vectors (%zu words "
                       "of dimension %zu)", p->d_model, p->candidates, store_size(s), store_dim(s));
    if (max_tok == 0 || max_tok > INT_MAX / HEAD_MAX_LEN || max_neg > INT_MAX)
        return ev_fail(err, EV_ERR_USAGE, "bad batch size %zu", max_tok);
    head_work *w = calloc(1, sizeof *w);
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
    w->max_tok = max_tok;
    w->max_neg = max_neg ? max_neg : 1;
    w->threads = threads < 1 ? 1 : threads > PARALLEL_MAX_THREADS ? PARALLEL_MAX_THREADS : threads;
    size_t T = max_tok, d = w->d, dk = w->dk, S = w->max_neg;
    int bad = 0;
    w->pe = head_falloc(w->L, d, &bad);
    w->U = head_falloc(T, d, &bad);
    w->X = head_falloc(T, d, &bad);
    w->Q = head_falloc(T, w->dq, &bad);
    w->K = head_falloc(T, w->dq, &bad);
    w->V_ = head_falloc(T, dk, &bad);
    w->H = head_falloc(T, dk, &bad);
    w->A = head_falloc(T, w->L, &bad);
    w->Ht = head_falloc(T, dk, &bad);
    w->Zt = head_falloc(T, d, &bad);
    w->ES = head_falloc(S, d, &bad);
    w->bneg = head_falloc(S, 1, &bad);
    w->G = head_falloc((size_t)w->threads * LOGIT_TILE, S, &bad);
    w->gtrue = head_falloc(T, 1, &bad);
    w->dZt = head_falloc(T, d, &bad);
    w->dHt = head_falloc(T, dk, &bad);
    w->dH = head_falloc(T, dk, &bad);
    w->dQ = head_falloc(T, dk, &bad);
    w->dK = head_falloc(T, dk, &bad);
    w->dV = head_falloc(T, dk, &bad);
    w->colsum = head_falloc((size_t)w->threads, S, &bad);
    w->rowscale = head_falloc(T, 1, &bad);
    w->grad = head_falloc(p->n_params, 1, &bad);
    w->sumdq = head_falloc(dk, 1, &bad);
    w->tgt = malloc(T * sizeof *w->tgt);
    w->lossrow = malloc(T * sizeof *w->lossrow);
    w->slot_head = malloc(p->candidates * sizeof *w->slot_head);
    w->slot_next = malloc(S * sizeof *w->slot_next);
    if (bad || !w->tgt || !w->lossrow || !w->slot_head || !w->slot_next) {
        head_work_free(w);
        return ev_fail(err, EV_ERR_NOMEM, "out of memory for training buffers (%zu tokens, %zu negatives)", T, S);
    }
    for (size_t i = 0; i < p->candidates; i++)
        w->slot_head[i] = -1;
    if (p->positions == ATTN_POS_SINUSOIDAL)
        attn_positional_encoding(w->L, d, p->position_scale, w->pe);
    else
        memset(w->pe, 0, w->L * d * sizeof *w->pe);
    *out = w;
    return EV_OK;
}

const float *head_work_grad(const head_work *w) { return w->grad; }

static ev_status check_batch(const head_work *w, const head_batch *b, ev_error *err)
{
    size_t T = b->n_sent ? b->start[b->n_sent] : 0;
    if (T > w->max_tok || b->n_neg > w->max_neg)
        return ev_fail(err, EV_ERR_USAGE, "batch of %zu tokens and %zu negatives exceeds the buffers (%zu, %zu)", T,
                       b->n_neg, w->max_tok, w->max_neg);
    for (size_t s = 0; s < b->n_sent; s++)
        if (b->start[s + 1] < b->start[s] || b->start[s + 1] - b->start[s] > w->L)
            return ev_fail(err, EV_ERR_USAGE, "batch sentence %zu: bad length", s);
    for (size_t t = 0; t < T; t++) {
        if (b->row[t] >= (int32_t)w->V || b->row[t] < -1 || (b->query && b->query[t] >= (int32_t)w->V) ||
            (b->query && b->query[t] < HEAD_QUERY_MASK))
            return ev_fail(err, EV_ERR_USAGE, "batch token %zu: row out of range", t);
        if (b->target[t] && (b->row[t] < 0 || (size_t)b->row[t] >= w->p->candidates))
            return ev_fail(err, EV_ERR_USAGE, "batch token %zu: a target outside the candidates", t);
    }
    for (size_t i = 0; i < b->n_neg; i++)
        if (b->neg[i] < 0 || (size_t)b->neg[i] >= w->p->candidates)
            return ev_fail(err, EV_ERR_USAGE, "negative %zu out of range", i);
    return EV_OK;
}

/* ==== the forward pass ====================================================================================== */

const char *head_pattern_name(head_pattern k)
{
    static const char *const names[HEAD_PATTERNS] = {"trained", "identity", "uniform", "random"};
    return (unsigned)k < HEAD_PATTERNS ? names[k] : "?";
}

typedef struct {
    head_work *w;
    const head_batch *b;
    head_pattern kind;
    size_t qkw;     /* width of Q and K rows */
    float scale;    /* 1/√qkw */
} pass_ctx;

/* pass 3: attention rows of the targets of sentences [lo, hi): scores (own key and placeholders excluded), softmax
 * subtracting the max, H_i = Σ_j a_ij v_j. Non-target rows get nothing (their A and H rows are not read). */
static void attn_rows(void *vc, size_t lo, size_t hi, int tid)
{
    (void)tid;
    pass_ctx *c = vc;
    head_work *w = c->w;
    const head_batch *b = c->b;
    size_t dk = w->dk, L = w->L;
    for (size_t s = lo; s < hi; s++) {
        size_t t0 = b->start[s], n = b->start[s + 1] - t0;
        for (size_t i = t0; i < t0 + n; i++) {
            if (!b->target[i])
                continue;
            float *a = w->A + i * L;  /* (n) */
            float *h = w->H + i * dk; /* (dk) */
            /* 3a: scores and their maximum */
            float mx = -INFINITY;
            size_t m = 0;
            for (size_t j = 0; j < n; j++) {
                size_t tj = t0 + j;
                if (tj == i || b->row[tj] < 0) {
                    a[j] = -INFINITY;
                    continue;
                }
                m++;
                a[j] = c->kind == HEAD_PATTERN_UNIFORM ? 0.0f : head_dot(w->Q + i * c->qkw, w->K + tj * c->qkw, c->qkw) * c->scale;
                if (a[j] > mx)
                    mx = a[j];
            }
            if (m == 0) { /* no other known token: no attention (never a target, by construction) */
                memset(h, 0, dk * sizeof *h);
                memset(a, 0, n * sizeof *a);
                continue;
            }
            /* 3b-3d: softmax, weighted sum of the values */
            head_attn_row(a, n, mx, w->V_ + t0 * dk, dk, h);
        }
    }
}

/* The forward pass of a batch up to the targets' outputs Zt (n_tgt, d). kind selects the attention pattern;
 * wq_alt/wk_alt are the random baseline's projections. */
static void forward(head_work *w, const head_batch *b, head_pattern kind, const float *wq_alt, const float *wk_alt)
{
    const attn_head *p = w->p;
    size_t d = w->d, dk = w->dk, T = b->n_sent ? b->start[b->n_sent] : 0;
    /* pass 1: inputs. X_j = E[row_j] + P_j (0 for placeholders); U_i = [MASK] or E[query_i], + P_i */
    for (size_t s = 0; s < b->n_sent; s++)
        for (size_t t = b->start[s]; t < b->start[s + 1]; t++) {
            const float *pe = w->pe + (t - b->start[s]) * d;
            float *x = w->X + t * d, *u = w->U + t * d;
            if (b->row[t] >= 0) {
                const float *e = w->E + (size_t)b->row[t] * d;
                for (size_t k = 0; k < d; k++)
                    x[k] = e[k] + pe[k];
            } else
                memset(x, 0, d * sizeof *x);
            int32_t q = b->query ? b->query[t] : b->row[t];
            const float *qe = q >= 0 ? w->E + (size_t)q * d : p->train_mask;
            for (size_t k = 0; k < d; k++)
                u[k] = qe[k] + pe[k];
        }
    /* pass 2: projections Q = U·W_Q, K = X·W_K (the identity: U and X themselves), V = X·W_V */
    size_t qkw = dk;
    if (kind == HEAD_PATTERN_TRAINED || kind == HEAD_PATTERN_RANDOM) {
        head_gemm(0, 0, T, dk, d, 1.0f, w->U, kind == HEAD_PATTERN_TRAINED ? p->w_q : wq_alt, w->Q, 0);
        head_gemm(0, 0, T, dk, d, 1.0f, w->X, kind == HEAD_PATTERN_TRAINED ? p->w_k : wk_alt, w->K, 0);
    } else if (kind == HEAD_PATTERN_IDENTITY) {
        memcpy(w->Q, w->U, T * d * sizeof(float));
        memcpy(w->K, w->X, T * d * sizeof(float));
        qkw = d;
    }
    head_gemm(0, 0, T, dk, d, 1.0f, w->X, p->w_v, w->V_, 0);
    /* pass 3: attention of the targets */
    pass_ctx c = {w, b, kind, qkw, 1.0f / sqrtf((float)qkw)};
    parallel_for(w->threads, b->n_sent, attn_rows, &c);
    /* pass 4: gather the targets, Zt = Ht·W_O */
    w->n_tgt = 0;
    for (size_t t = 0; t < T; t++)
        if (b->target[t]) {
            memcpy(w->Ht + w->n_tgt * dk, w->H + t * dk, dk * sizeof(float));
            w->tgt[w->n_tgt++] = t;
        }
    if (w->n_tgt)
        head_gemm(0, 0, w->n_tgt, d, dk, 1.0f, w->Ht, p->w_o, w->Zt, 0);
}

ev_status head_forward(head_work *w, const head_batch *b, head_pattern k, const float *wq_alt, const float *wk_alt,
                       size_t *n_targets, ev_error *err)
{
    *n_targets = 0;
    ev_status st = check_batch(w, b, err);
    if (st != EV_OK)
        return st;
    if ((unsigned)k >= HEAD_PATTERNS || (k == HEAD_PATTERN_RANDOM && (!wq_alt || !wk_alt)))
        return ev_fail(err, EV_ERR_USAGE, "head_forward: bad attention pattern %d", (int)k);
    forward(w, b, k, wq_alt, wk_alt);
    *n_targets = w->n_tgt;
    return EV_OK;
}

const float *head_work_outputs(const head_work *w) { return w->Zt; }

const size_t *head_work_targets(const head_work *w) { return w->tgt; }

/* ==== the loss and the backward pass ======================================================================== */

typedef struct {
    head_work *w;
    const head_batch *b;
} loss_ctx;

/* pass 5: the sampled softmax of targets [lo, hi) by one thread, in tiles of LOGIT_TILE kept in cache (the
 * thread's own part of G): logits Zt·ESᵀ (single-threaded sgemm), corrected logits, accidental hits removed,
 * exp(l − max) and the loss; then the thread's column sums += Gᵀ·rowscale (the negatives' bias gradient) and
 * dZt = rowscale ⊙ (G·ES), rowscale = 1 / (Σ exp · P): the gradient of the batch mean. Vectorised by 4; the
 * accidental hits (negatives equal to the target, listed by slot_head/slot_next) get probability 0. */
static void softmax_tiles(void *vc, size_t lo, size_t hi, int tid)
{
    loss_ctx *c = vc;
    head_work *w = c->w;
    const head_batch *b = c->b;
    const attn_head *p = w->p;
    size_t S = b->n_neg, S4 = S / 4 * 4, d = w->d, P = w->n_tgt;
    float *G = w->G + (size_t)tid * LOGIT_TILE * S;     /* (LOGIT_TILE, S) */
    float *cs = w->colsum + (size_t)tid * w->max_neg;   /* (S) */
    for (size_t r0 = lo; r0 < hi; r0 += LOGIT_TILE) {
        size_t rows = hi - r0 < LOGIT_TILE ? hi - r0 : LOGIT_TILE;
        head_gemm(0, 1, rows, S, d, 1.0f, w->Zt + r0 * d, w->ES, G, 0);
        for (size_t i = r0; i < r0 + rows; i++) {
            int32_t t = b->row[w->tgt[i]];
            float lt = head_dot(w->Zt + i * d, w->E + (size_t)t * d, d) + p->train_bias[t] - b->logq[t];
            float *g = G + (i - r0) * S; /* (S) */
            /* 5a: corrected logits and their maximum (an accidental hit's logit equals lt: the maximum stands) */
            vec4f vmx = vec4_splat(lt);
            for (size_t k = 0; k < S4; k += 4) {
                vec4f l = *(vec4f_u *)(g + k) + *(vec4f_u *)(w->bneg + k);
                *(vec4f_u *)(g + k) = l;
                vmx = vec4_max(vmx, l);
            }
            float mx = vec4_hmax(vmx);
            for (size_t k = S4; k < S; k++) {
                g[k] += w->bneg[k];
                mx = g[k] > mx ? g[k] : mx;
            }
            for (int32_t k = w->slot_head[t]; k >= 0; k = w->slot_next[k])
                g[k] = -INFINITY;
            /* 5b: exp and sum */
            vec4f vs = vec4_splat(0.0f), vm = vec4_splat(mx);
            for (size_t k = 0; k < S4; k += 4) {
                vec4f e = vec4_exp(*(vec4f_u *)(g + k) - vm);
                *(vec4f_u *)(g + k) = e;
                vs += e;
            }
            float et = vec4_exp1(lt - mx), sum = vec4_hsum(vs) + et;
            for (size_t k = S4; k < S; k++) {
                g[k] = vec4_exp1(g[k] - mx);
                sum += g[k];
            }
            /* 5c: loss = log Σ exp − true logit */
            w->lossrow[i] = log((double)sum) - (double)(lt - mx);
            w->rowscale[i] = 1.0f / (sum * (float)P);
            w->gtrue[i] = et * w->rowscale[i] - 1.0f / (float)P;
        }
        /* 5d: column sums and dZt while the tile is in cache */
        cblas_sgemv(CblasRowMajor, CblasTrans, (int)rows, (int)S, 1.0f, G, (int)S, w->rowscale + r0, 1, 1.0f, cs, 1);
        head_gemm(0, 0, rows, d, S, 1.0f, G, w->ES, w->dZt + r0 * d, 0);
        for (size_t i = r0; i < r0 + rows; i++)
            for (size_t k = 0; k < d; k++)
                w->dZt[i * d + k] *= w->rowscale[i];
    }
}

/* pass 8: the backward pass through the attention of sentences [lo, hi): dV, dK (within the sentence) and dQ. */
static void attn_back_rows(void *vc, size_t lo, size_t hi, int tid)
{
    (void)tid;
    loss_ctx *c = vc;
    head_work *w = c->w;
    const head_batch *b = c->b;
    size_t dk = w->dk, L = w->L;
    float scale = 1.0f / sqrtf((float)dk);
    float dA[HEAD_MAX_LEN];
    for (size_t s = lo; s < hi; s++) {
        size_t t0 = b->start[s], n = b->start[s + 1] - t0;
        memset(w->dQ + t0 * dk, 0, n * dk * sizeof(float));
        memset(w->dK + t0 * dk, 0, n * dk * sizeof(float));
        memset(w->dV + t0 * dk, 0, n * dk * sizeof(float));
        for (size_t i = t0; i < t0 + n; i++) {
            if (!b->target[i])
                continue;
            const float *a = w->A + i * L, *dh = w->dH + i * dk, *q = w->Q + i * dk;
            float *dq = w->dQ + i * dk;
            /* 8a-8b: dA, dV, then through the softmax to dQ_i and dK_j (/√d_k) */
            head_attn_row_back(a, n, dh, q, w->K + t0 * dk, w->V_ + t0 * dk, dk, scale, dq, w->dK + t0 * dk,
                               w->dV + t0 * dk, dA);
        }
    }
}

ev_status head_loss_grad(head_work *w, const head_batch *b, double *loss, ev_error *err)
{
    ev_status st = check_batch(w, b, err);
    if (st != EV_OK)
        return st;
    const attn_head *p = w->p;
    size_t d = w->d, dk = w->dk, S = b->n_neg, T = b->n_sent ? b->start[b->n_sent] : 0;
    attn_head g = *p; /* the gradient, laid out as the parameters */
    g.params = w->grad;
    g.w_q = g.params;
    g.w_k = g.w_q + d * dk;
    g.w_v = g.w_k + d * dk;
    g.w_o = g.w_v + d * dk;
    g.train_mask = g.w_o + dk * d;
    g.train_bias = g.train_mask + d;
    memset(w->grad, 0, p->n_params * sizeof(float));
    *loss = 0;
    /* passes 1-4 */
    forward(w, b, HEAD_PATTERN_TRAINED, NULL, NULL);
    size_t P = w->n_tgt;
    if (P == 0 || S == 0)
        return EV_OK;
    /* pass 5: the negatives' vectors, logits Zt·ESᵀ, sampled softmax */
    for (size_t k = 0; k < S; k++) {
        memcpy(w->ES + k * d, w->E + (size_t)b->neg[k] * d, d * sizeof(float));
        w->bneg[k] = p->train_bias[b->neg[k]] - b->logq[b->neg[k]];
    }
    for (size_t k = S; k-- > 0;) { /* slot lists, in increasing slot order */
        w->slot_next[k] = w->slot_head[b->neg[k]];
        w->slot_head[b->neg[k]] = (int32_t)k;
    }
    /* the big products run in our threads, each over its own targets with single-threaded BLAS: no OpenBLAS
     * workers spinning beside them */
    memset(w->colsum, 0, (size_t)w->threads * w->max_neg * sizeof(float));
    loss_ctx lc = {w, b};
    parallel_for_own_blas(w->threads, P, softmax_tiles, &lc);
    for (size_t k = 0; k < S; k++)
        w->slot_head[b->neg[k]] = -1;
    double total = 0;
    for (size_t i = 0; i < P; i++)
        total += w->lossrow[i];
    *loss = total / (double)P;
    /* pass 6: the bias (true classes, then the negatives' column sums, in a fixed order) and dZt += gtrue·E_t */
    for (size_t i = 0; i < P; i++)
        g.train_bias[b->row[w->tgt[i]]] += w->gtrue[i];
    for (size_t k = 0; k < S; k++)
        for (int t = 0; t < w->threads; t++)
            g.train_bias[b->neg[k]] += w->colsum[(size_t)t * w->max_neg + k];
    for (size_t i = 0; i < P; i++) {
        const float *e = w->E + (size_t)b->row[w->tgt[i]] * d;
        float *dz = w->dZt + i * d;
        for (size_t k = 0; k < d; k++)
            dz[k] += w->gtrue[i] * e[k];
    }
    /* pass 7: output projection. dW_O = Htᵀ·dZt, dHt = dZt·W_Oᵀ, scattered to the targets' rows */
    head_gemm(1, 0, dk, d, P, 1.0f, w->Ht, w->dZt, g.w_o, 0);
    head_gemm(0, 1, P, dk, d, 1.0f, w->dZt, p->w_o, w->dHt, 0);
    memset(w->dH, 0, T * dk * sizeof(float));
    for (size_t i = 0; i < P; i++)
        memcpy(w->dH + w->tgt[i] * dk, w->dHt + i * dk, dk * sizeof(float));
    /* pass 8: attention backward */
    parallel_for(w->threads, b->n_sent, attn_back_rows, &lc);
    /* pass 9: projections. dW_Q = Uᵀ·dQ, dW_K = Xᵀ·dK, dW_V = Xᵀ·dV, d[MASK] = W_Q·Σ_{[MASK] queries} dQ_i */
    head_gemm(1, 0, d, dk, T, 1.0f, w->U, w->dQ, g.w_q, 0);
    head_gemm(1, 0, d, dk, T, 1.0f, w->X, w->dK, g.w_k, 0);
    head_gemm(1, 0, d, dk, T, 1.0f, w->X, w->dV, g.w_v, 0);
    memset(w->sumdq, 0, dk * sizeof(float));
    for (size_t t = 0; t < T; t++)
        if (b->target[t] && b->query && b->query[t] == HEAD_QUERY_MASK)
            for (size_t k = 0; k < dk; k++)
                w->sumdq[k] += w->dQ[t * dk + k];
    for (size_t a = 0; a < d; a++)
        g.train_mask[a] = head_dot(p->w_q + a * dk, w->sumdq, dk);
    return EV_OK;
}

/* ==== the double-precision twin ============================================================================= */

double head_loss_reference(const store *s, const attn_head *p, const head_batch *b)
{
    size_t d = p->d_model, dk = p->d_k, L = HEAD_MAX_LEN;
    const float *E = store_vectors(s);
    float *pe = calloc(L * d, sizeof *pe);
    double *x = malloc(L * d * sizeof *x), *k = malloc(L * dk * sizeof *k), *v = malloc(L * dk * sizeof *v);
    double *u = malloc(d * sizeof *u), *q = malloc(dk * sizeof *q), *h = malloc(dk * sizeof *h);
    double *z = malloc(d * sizeof *z), *a = malloc(L * sizeof *a);
    double total = 0;
    size_t P = 0;
    if (!pe || !x || !k || !v || !u || !q || !h || !z || !a) {
        total = NAN;
        goto done;
    }
    if (p->positions == ATTN_POS_SINUSOIDAL)
        attn_positional_encoding(L, d, p->position_scale, pe);
    for (size_t sn = 0; sn < b->n_sent; sn++) {
        size_t t0 = b->start[sn], n = b->start[sn + 1] - t0;
        for (size_t j = 0; j < n; j++) {
            int32_t r = b->row[t0 + j];
            for (size_t c = 0; c < d; c++)
                x[j * d + c] = r >= 0 ? (double)E[(size_t)r * d + c] + pe[j * d + c] : 0.0;
            for (size_t c = 0; c < dk; c++) {
                double sk = 0, sv = 0;
                for (size_t e = 0; e < d; e++) {
                    sk += x[j * d + e] * p->w_k[e * dk + c];
                    sv += x[j * d + e] * p->w_v[e * dk + c];
                }
                k[j * dk + c] = sk;
                v[j * dk + c] = sv;
            }
        }
        for (size_t i = 0; i < n; i++) {
            size_t t = t0 + i;
            if (!b->target[t])
                continue;
            int32_t qr = b->query ? b->query[t] : b->row[t];
            for (size_t c = 0; c < d; c++)
                u[c] = (qr >= 0 ? (double)E[(size_t)qr * d + c] : (double)p->train_mask[c]) + pe[i * d + c];
            for (size_t c = 0; c < dk; c++) {
                double sq = 0;
                for (size_t e = 0; e < d; e++)
                    sq += u[e] * p->w_q[e * dk + c];
                q[c] = sq;
            }
            double mx = -INFINITY, sum = 0;
            for (size_t j = 0; j < n; j++) {
                a[j] = -INFINITY;
                if (j == i || b->row[t0 + j] < 0)
                    continue;
                double sc = 0;
                for (size_t c = 0; c < dk; c++)
                    sc += q[c] * k[j * dk + c];
                a[j] = sc / sqrt((double)dk);
                mx = a[j] > mx ? a[j] : mx;
            }
            for (size_t j = 0; j < n; j++) {
                a[j] = a[j] == -INFINITY ? 0.0 : exp(a[j] - mx);
                sum += a[j];
            }
            for (size_t c = 0; c < dk; c++) {
                double sh = 0;
                for (size_t j = 0; j < n; j++)
                    sh += a[j] / sum * v[j * dk + c];
                h[c] = sh;
            }
            for (size_t c = 0; c < d; c++) {
                double sz = 0;
                for (size_t e = 0; e < dk; e++)
                    sz += h[e] * p->w_o[e * d + c];
                z[c] = sz;
            }
            int32_t tr = b->row[t];
            double lt = p->train_bias[tr] - b->logq[tr], lmx;
            for (size_t c = 0; c < d; c++)
                lt += z[c] * E[(size_t)tr * d + c];
            lmx = lt;
            double *ls = malloc((b->n_neg ? b->n_neg : 1) * sizeof *ls);
            if (!ls) {
                total = NAN;
                goto done;
            }
            for (size_t m = 0; m < b->n_neg; m++) {
                int32_t c_ = b->neg[m];
                ls[m] = -INFINITY;
                if (c_ == tr)
                    continue;
                double l = p->train_bias[c_] - b->logq[c_];
                for (size_t c = 0; c < d; c++)
                    l += z[c] * E[(size_t)c_ * d + c];
                ls[m] = l;
                lmx = l > lmx ? l : lmx;
            }
            double se = exp(lt - lmx);
            for (size_t m = 0; m < b->n_neg; m++)
                se += ls[m] == -INFINITY ? 0.0 : exp(ls[m] - lmx);
            free(ls);
            total += log(se) + lmx - lt;
            P++;
        }
    }
    total = P ? total / (double)P : 0.0;
done:
    free(pe);
    free(x);
    free(k);
    free(v);
    free(u);
    free(q);
    free(h);
    free(z);
    free(a);
    return total;
}

/* ==== training: the masked-word task's steps ================================================================ */

head_model_opts head_model_opts_default(void)
{
    head_model_opts o;
    memset(&o, 0, sizeof o);
    o.positions = ATTN_POS_SINUSOIDAL;
    o.position_scale = -1.0f;
    return o;
}

/* The first index i with cdf[i] > u (cdf increasing, cdf[n-1] = 1). */
static size_t cdf_search(const double *cdf, size_t n, double u)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cdf[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* The task's state for head_train's loop: the sampling distribution and one batch's queries, targets and
 * negatives. */
typedef struct {
    head_work *w;
    size_t nc, S;
    const double *cdf;       /* (nc) cumulative Q */
    const float *logq;       /* (nc) log(S · Q(c)) */
    int32_t *query;          /* (batch tokens) */
    unsigned char *target;   /* (batch tokens) */
    int32_t *neg;            /* (S) */
} mask_task;

/* head_objective.step: the batch's targets and their queries (80 % [MASK], 10 % a random candidate, 10 % the word
 * itself), S negatives from Q, then the loss and gradient. */
static ev_status mask_step(void *ctx, const corpus_batch *cb, uint64_t *rng, double *loss, const float **grad,
                           ev_error *err)
{
    mask_task *m = ctx;
    size_t T = cb->n_sent ? cb->start[cb->n_sent] : 0, nc = m->nc;
    for (size_t t = 0; t < T; t++) {
        int32_t r = cb->row[t];
        m->target[t] = r >= 0 && (size_t)r < nc;
        m->query[t] = r >= 0 ? r : HEAD_QUERY_MASK;
        if (m->target[t]) {
            double u = rng_uniform(rng);
            if (u < P_MASK)
                m->query[t] = HEAD_QUERY_MASK;
            else if (u < P_MASK + P_RANDOM)
                m->query[t] = (int32_t)rng_below(rng, nc);
        }
    }
    for (size_t k = 0; k < m->S; k++)
        m->neg[k] = (int32_t)cdf_search(m->cdf, nc, rng_uniform(rng));
    head_batch b = {cb->n_sent, cb->start, cb->row, m->query, m->target, m->S, m->neg, m->logq};
    ev_status st = head_loss_grad(m->w, &b, loss, err);
    *grad = m->w->grad;
    return st;
}

ev_status head_model_train(const store *s, const corpus *c, const head_model_opts *mopts, const head_train_opts *topts,
                           attn_head **out, head_train_stats *stats, ev_error *err)
{
    *out = NULL;
    head_model_opts mo = mopts ? *mopts : head_model_opts_default();
    head_train_opts to;
    ev_status st = head_train_resolve(topts, &to, err);
    if (st != EV_OK)
        return st;
    size_t d = store_dim(s), V = store_size(s);
    size_t dk = mo.d_k ? mo.d_k : HEAD_DEFAULT_DK, nc = mo.n_cand ? mo.n_cand : HEAD_DEFAULT_CANDIDATES;
    size_t S = mo.n_neg ? mo.n_neg : HEAD_DEFAULT_NEGATIVES, BT = to.batch_tokens;
    if (nc > V)
        nc = V;
    if (dk > 65536 || S > 1u << 20)
        return ev_fail(err, EV_ERR_USAGE, "bad model options (d_k %zu, negatives %zu)", dk, S);
    size_t *counts = calloc(nc, sizeof *counts);
    double *cdf = malloc(nc * sizeof *cdf);
    float *logq = malloc(nc * sizeof *logq);
    int32_t *bquery = malloc((BT + HEAD_MAX_LEN) * sizeof *bquery), *bneg = malloc(S * sizeof *bneg);
    unsigned char *btarget = malloc(BT + HEAD_MAX_LEN);
    attn_head *p = NULL;
    head_work *w = NULL;
    if (!counts || !cdf || !logq || !bquery || !bneg || !btarget) {
        st = ev_fail(err, EV_ERR_NOMEM, "out of memory preparing the training");
        goto done;
    }
    /* 1. unigram counts of the targets: sampling distribution Q ∝ (count + 1)^0.75, bias = log frequency */
    size_t n_targets = 0;
    for (size_t t = 0; t < c->n_tok; t++)
        if (c->row[t] >= 0 && (size_t)c->row[t] < nc) {
            counts[c->row[t]]++;
            n_targets++;
        }
    if (n_targets == 0) {
        st = ev_fail(err, EV_ERR_NOTFOUND, "no word of the corpus is among the %zu candidate words: nothing to predict",
                     nc);
        goto done;
    }
    double qsum = 0;
    for (size_t i = 0; i < nc; i++)
        qsum += pow((double)counts[i] + 1.0, 0.75);
    double acc = 0;
    for (size_t i = 0; i < nc; i++) {
        double q = pow((double)counts[i] + 1.0, 0.75) / qsum;
        acc += q;
        cdf[i] = acc;
        logq[i] = (float)log((double)S * q);
    }
    cdf[nc - 1] = 1.0;
    /* 2. parameters: Xavier-uniform projections from the seed, [MASK] = 0, bias = log unigram frequency */
    if ((st = head_model_new(d, dk, nc, &p, err)) != EV_OK)
        goto done;
    p->positions = mo.positions;
    p->position_scale = mo.position_scale >= 0 ? mo.position_scale : HEAD_DEFAULT_POSITION_SCALE;
    p->fingerprint = head_file_fingerprint(s, nc);
    p->has_fingerprint = 1;
    uint64_t rng = to.seed;
    rng_xavier(p->w_q, d * dk, d, dk, &rng);
    rng_xavier(p->w_k, d * dk, d, dk, &rng);
    rng_xavier(p->w_v, d * dk, d, dk, &rng);
    rng_xavier(p->w_o, dk * d, dk, d, &rng);
    for (size_t i = 0; i < nc; i++)
        p->train_bias[i] = (float)log(((double)counts[i] + 1.0) / ((double)n_targets + (double)nc));
    if ((st = head_work_new(s, p, BT + HEAD_MAX_LEN, S, to.threads, &w, err)) != EV_OK)
        goto done;
    /* 3. the loop: epochs of shuffled batches, each step drawing its queries and negatives */
    mask_task task = {w, nc, S, cdf, logq, bquery, btarget, bneg};
    head_objective obj = {&task, p->params, p->n_params, mask_step};
    if ((st = head_train_run(c, &to, &obj, &rng, stats, err)) != EV_OK)
        goto done;
    if (stats)
        stats->targets = n_targets;
    *out = p;
    p = NULL;
done:
    head_work_free(w);
    attn_head_free(p);
    free(counts);
    free(cdf);
    free(logq);
    free(bquery);
    free(bneg);
    free(btarget);
    return st;
}
