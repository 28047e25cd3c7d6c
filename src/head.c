/* head — training (masked-word prediction with a sampled softmax, hand-written gradients, Adam), evaluation
 * against untrained attention patterns, and head files with training state. The model and its conventions are in
 * head.h; the forward and backward passes are written as numbered passes, llm.c style. */
#define _POSIX_C_SOURCE 200809L
#include "head.h"

#include <cJSON.h>
#include <cblas.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "numparse.h"
#include "outfile.h"
#include "parallel.h"
#include "rng.h"
#include "safetensors.h"
#include "tokenizer.h"
#include "util.h"
#include "version.h"

#define MAX_THREADS PARALLEL_MAX_THREADS
#define LINE_PIECE 4000        /* bytes per tokenizer call: lines are cut (at a space when possible) */
#define EVAL_BATCH_TOKENS 4096
#define LOGIT_TILE 256         /* targets per tile of sampled logits (a tile of 256 × 4096 floats stays in cache) */
#define EVAL_TILE 128          /* targets per tile of full-softmax scores (128 × 30,000 floats) */
#define FINGERPRINT_STRIDE 100 /* every 100th candidate row's floats enter the fingerprint */
#define ADAM_B1 0.9f
#define ADAM_B2 0.999f
#define ADAM_EPS 1e-8f
#define P_MASK 0.8             /* query corruption: [MASK] */
#define P_RANDOM 0.1           /* a random candidate; the rest (0.1): the word itself */

/* ==== small helpers ========================================================================================= */

static float dot(const float *a, const float *b, size_t n)
{
    float s = 0.0f;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* C (m, n) = op(A)·op(B) (+ C when acc), row-major; ta/tb: A is stored (k, m) / B is stored (n, k). */
static void gemm(int ta, int tb, size_t m, size_t n, size_t k, const float *A, const float *B, float *C, int acc)
{
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k,
                1.0f, A, ta ? (int)m : (int)k, B, tb ? (int)k : (int)n, acc ? 1.0f : 0.0f, C, (int)n);
}

/* ---- vectorised exp for the softmax rows (GCC/clang vector extensions: 4 floats, one SSE register on the x86-64
 * baseline). exp(x) = 2^n · p(r), n = round(x·log2 e), r = x − n·ln 2 (two-part ln 2), p Cephes's degree-6
 * polynomial: relative error < 2e-7 on [-87, 88]; exactly 0 below -87 (so exp(-inf) = 0), clamped above 88. */
typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));
typedef float v4f_u __attribute__((vector_size(16), aligned(4))); /* unaligned loads and stores */

static inline v4f v4_splat(float x) { return (v4f){x, x, x, x}; }

static inline v4f v4_select(v4i mask, v4f a, v4f b) { return (v4f)(((v4i)a & mask) | ((v4i)b & ~mask)); }

static inline v4f v4_max(v4f a, v4f b) { return v4_select(a > b, a, b); }

static inline v4f v4_exp(v4f x)
{
    v4i under = x < v4_splat(-87.0f);
    x = v4_select(x > v4_splat(88.0f), v4_splat(88.0f), x);
    x = v4_select(under, v4_splat(-87.0f), x);
    v4f fx = x * v4_splat(1.44269504088896341f) + v4_splat(0.5f);
    v4f t = __builtin_convertvector(__builtin_convertvector(fx, v4i), v4f); /* truncation */
    t = v4_select(t > fx, t - v4_splat(1.0f), t);                          /* floor */
    v4f r = x - t * v4_splat(0.693359375f) + t * v4_splat(2.12194440e-4f);
    v4f p = v4_splat(1.9875691500e-4f);
    p = p * r + v4_splat(1.3981999507e-3f);
    p = p * r + v4_splat(8.3334519073e-3f);
    p = p * r + v4_splat(4.1665795894e-2f);
    p = p * r + v4_splat(1.6666665459e-1f);
    p = p * r + v4_splat(5.0000001201e-1f);
    p = p * r * r + r + v4_splat(1.0f);
    v4i e = (__builtin_convertvector(t, v4i) + 127) << 23;
    return (v4f)((v4i)(p * (v4f)e) & ~under);
}

/* The same function on one float (tails and the true class), so every logit goes through one exp. */
static inline float exp1(float x)
{
    v4f v = v4_exp(v4_splat(x));
    return v[0];
}

static inline float v4_hsum(v4f v) { return (v[0] + v[1]) + (v[2] + v[3]); }

static inline float v4_hmax(v4f v)
{
    float m = v[0];
    for (int i = 1; i < 4; i++)
        m = v[i] > m ? v[i] : m;
    return m;
}

/* ==== parameters ============================================================================================ */

head_params *head_params_new(size_t d, size_t dk, size_t nc)
{
    if (!d || !dk || !nc || d > INT_MAX || dk > INT_MAX || nc > INT_MAX || d > (SIZE_MAX / 8) / dk)
        return NULL;
    size_t n = 4 * d * dk + d + nc;
    head_params *p = calloc(1, sizeof *p);
    if (!p || !(p->params = calloc(n, sizeof(float)))) {
        free(p);
        return NULL;
    }
    p->d_model = d;
    p->d_k = dk;
    p->n_cand = nc;
    p->n_params = n;
    p->w_q = p->params;
    p->w_k = p->w_q + d * dk;
    p->w_v = p->w_k + d * dk;
    p->w_o = p->w_v + d * dk;
    p->mask = p->w_o + dk * d;
    p->bias = p->mask + d;
    p->positions = ATTN_POS_SINUSOIDAL;
    p->position_scale = HEAD_DEFAULT_POSITION_SCALE;
    return p;
}

void head_params_free(head_params *p)
{
    if (!p)
        return;
    free(p->params);
    free(p->description);
    free(p);
}

uint64_t head_fingerprint(const store *s, size_t n_cand)
{
    uint64_t h = 0xcbf29ce484222325ull;
    size_t n = n_cand < store_size(s) ? n_cand : store_size(s), d = store_dim(s);
    for (size_t r = 0; r < n; r++) {
        size_t len;
        const unsigned char *w = (const unsigned char *)store_word(s, r, &len);
        for (size_t i = 0; i <= len; i++) /* with its NUL */
            h = (h ^ w[i]) * 0x100000001b3ull;
        if (r % FINGERPRINT_STRIDE == 0) {
            const unsigned char *v = (const unsigned char *)store_row(s, r);
            for (size_t i = 0; i < d * sizeof(float); i++)
                h = (h ^ v[i]) * 0x100000001b3ull;
        }
    }
    return h;
}

/* ==== corpora =============================================================================================== */

void head_corpus_free(head_corpus *c)
{
    if (!c)
        return;
    free(c->start);
    free(c->row);
    memset(c, 0, sizeof *c);
}

typedef struct {
    head_corpus *c;
    size_t cap_sent, cap_tok;
} corpus_builder;

/* Appends the tokens of one tokenized piece, cut into sentences of at most HEAD_MAX_LEN tokens; a sentence with
 * fewer than two known tokens is dropped. */
static int corpus_add(corpus_builder *b, const tok_sentence *ts)
{
    head_corpus *c = b->c;
    for (size_t i0 = 0; i0 < ts->n; i0 += HEAD_MAX_LEN) {
        size_t n = ts->n - i0 < HEAD_MAX_LEN ? ts->n - i0 : HEAD_MAX_LEN, known = 0;
        for (size_t i = 0; i < n; i++)
            known += ts->tokens[i0 + i].row >= 0;
        if (known < 2) {
            c->n_dropped += n;
            continue;
        }
        if (c->n_sent + 2 > b->cap_sent) {
            size_t nc = b->cap_sent ? 2 * b->cap_sent : 4096;
            size_t *ns = realloc(c->start, nc * sizeof *ns);
            if (!ns)
                return -1;
            c->start = ns;
            b->cap_sent = nc;
        }
        if (c->n_tok + n > b->cap_tok) {
            size_t nc = b->cap_tok ? 2 * b->cap_tok : 65536;
            while (nc < c->n_tok + n)
                nc *= 2;
            int32_t *nr = realloc(c->row, nc * sizeof *nr);
            if (!nr)
                return -1;
            c->row = nr;
            b->cap_tok = nc;
        }
        if (c->n_sent == 0)
            c->start[0] = 0;
        for (size_t i = 0; i < n; i++)
            c->row[c->n_tok + i] = ts->tokens[i0 + i].row >= 0 ? (int32_t)ts->tokens[i0 + i].row : -1;
        c->n_tok += n;
        c->n_known += known;
        c->start[++c->n_sent] = c->n_tok;
    }
    return 0;
}

/* Length of the next piece of a line: at most LINE_PIECE bytes, cut after the last ASCII space or tab when there is
 * one, else before a UTF-8 continuation byte. */
static size_t piece_len(const char *p, size_t n)
{
    if (n <= LINE_PIECE)
        return n;
    for (size_t i = LINE_PIECE; i > LINE_PIECE / 2; i--)
        if (p[i - 1] == ' ' || p[i - 1] == '\t')
            return i;
    size_t i = LINE_PIECE;
    while (i > 1 && ((unsigned char)p[i] & 0xC0) == 0x80)
        i--;
    return i;
}

ev_status head_corpus_read(const store *s, const char *const *paths, size_t n_paths, size_t max_tokens,
                           head_corpus *out, ev_error *err)
{
    memset(out, 0, sizeof *out);
    corpus_builder b = {out, 0, 0};
    char *line = NULL;
    size_t cap = 0;
    ev_status st = EV_OK;
    int full = 0;
    for (size_t f = 0; f < n_paths && !full; f++) {
        const char *path = paths[f];
        struct stat sb;
        if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            st = ev_fail(err, EV_ERR_IO, "%s: is a directory, expected a text file (one sentence per line)", path);
            goto done;
        }
        FILE *fp = fopen(path, "rb");
        if (!fp) {
            st = ev_fail(err, EV_ERR_IO, "%s: cannot open the corpus: %s", path, strerror(errno));
            goto done;
        }
        size_t lineno = 0;
        ssize_t len;
        errno = 0;
        while (!full && (len = getline(&line, &cap, fp)) >= 0) {
            lineno++;
            size_t n = (size_t)len;
            while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                n--;
            int counted = 0;
            for (size_t off = 0; off < n && !full;) {
                size_t pl = piece_len(line + off, n - off);
                tok_sentence ts;
                ev_error e = {0};
                ev_status ts_st = tok_tokenize(s, line + off, pl, &ts, &e);
                off += pl;
                if (ts_st == EV_ERR_USAGE) { /* only spaces */
                    ev_error_clear(&e);
                    continue;
                }
                if (ts_st != EV_OK) {
                    st = ev_fail(err, ts_st == EV_ERR_NOMEM ? EV_ERR_NOMEM : EV_ERR_FORMAT, "%s:%zu: %s", path,
                                 lineno, e.msg ? e.msg : "cannot tokenize");
                    ev_error_clear(&e);
                    fclose(fp);
                    goto done;
                }
                if (!counted) {
                    out->n_lines++;
                    counted = 1;
                }
                int bad = corpus_add(&b, &ts);
                tok_free(&ts);
                if (bad) {
                    fclose(fp);
                    st = ev_fail(err, EV_ERR_NOMEM, "out of memory reading the corpus %s", path);
                    goto done;
                }
                if (max_tokens && out->n_tok >= max_tokens)
                    full = 1;
            }
        }
        int rerr = ferror(fp) ? errno : 0;
        fclose(fp);
        if (rerr) {
            st = ev_fail(err, EV_ERR_IO, "%s: read error: %s", path, strerror(rerr));
            goto done;
        }
    }
    if (out->n_lines == 0) {
        st = ev_fail(err, EV_ERR_FORMAT, "%s%s: the corpus is empty: no line with text", n_paths ? paths[0] : "?",
                     n_paths > 1 ? " …" : "");
        goto done;
    }
    if (out->n_sent == 0) {
        st = ev_fail(err, EV_ERR_NOTFOUND, "%s%s: no line of the corpus has two words with vectors (%zu lines read): "
                     "nothing to learn from", paths[0], n_paths > 1 ? " …" : "", out->n_lines);
        goto done;
    }
done:
    free(line);
    if (st != EV_OK)
        head_corpus_free(out);
    return st;
}

/* ==== the work buffers ====================================================================================== */

struct head_work {
    const store *s;
    const head_params *p;
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
    float *G;                   /* (LOGIT_TILE, S) logits, then d loss / d logit; (EVAL_TILE, n_cand) scores */
    size_t g_cap;               /* floats in G (threads tiles of LOGIT_TILE × S when training) */
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
    int32_t *slot_head;         /* (n_cand) first negative slot holding candidate c, -1: none */
    int32_t *slot_next;         /* (S) next slot with the same candidate */
    int32_t *rank[HEAD_EVAL_KINDS]; /* eval: (T) rank of each target's word */
};

void head_work_free(head_work *w)
{
    if (!w)
        return;
    float *bufs[] = {w->pe, w->U, w->X, w->Q, w->K, w->V_, w->H, w->A, w->Ht, w->Zt, w->ES, w->bneg, w->G,
                     w->gtrue, w->dZt, w->dHt, w->dH, w->dQ, w->dK, w->dV, w->colsum, w->rowscale, w->grad, w->sumdq};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        free(bufs[i]);
    for (int k = 0; k < HEAD_EVAL_KINDS; k++)
        free(w->rank[k]);
    free(w->tgt);
    free(w->lossrow);
    free(w->slot_head);
    free(w->slot_next);
    free(w);
}

static float *falloc(size_t a, size_t b, int *bad)
{
    if (b && a > SIZE_MAX / sizeof(float) / b) {
        *bad = 1;
        return NULL;
    }
    float *p = malloc((a * b > 0 ? a * b : 1) * sizeof(float));
    if (!p)
        *bad = 1;
    return p;
}

ev_status head_work_new(const store *s, const head_params *p, size_t max_tok, size_t max_neg, int threads,
                        head_work **out, ev_error *err)
{
    *out = NULL;
    if (store_dim(s) != p->d_model || p->n_cand > store_size(s))
        return ev_fail(err, EV_ERR_USAGE, "the head (d_model %zu, %zu candidates) does not fit the vectors (%zu words "
                       "of dimension %zu)", p->d_model, p->n_cand, store_size(s), store_dim(s));
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
    w->threads = threads < 1 ? 1 : threads > MAX_THREADS ? MAX_THREADS : threads;
    size_t T = max_tok, d = w->d, dk = w->dk, S = w->max_neg;
    int bad = 0;
    w->pe = falloc(w->L, d, &bad);
    w->U = falloc(T, d, &bad);
    w->X = falloc(T, d, &bad);
    w->Q = falloc(T, w->dq, &bad);
    w->K = falloc(T, w->dq, &bad);
    w->V_ = falloc(T, dk, &bad);
    w->H = falloc(T, dk, &bad);
    w->A = falloc(T, w->L, &bad);
    w->Ht = falloc(T, dk, &bad);
    w->Zt = falloc(T, d, &bad);
    w->ES = falloc(S, d, &bad);
    w->bneg = falloc(S, 1, &bad);
    w->g_cap = (size_t)w->threads * LOGIT_TILE * S > EVAL_TILE * p->n_cand ? (size_t)w->threads * LOGIT_TILE * S
                                                                           : EVAL_TILE * p->n_cand;
    w->G = falloc(w->g_cap, 1, &bad);
    w->gtrue = falloc(T, 1, &bad);
    w->dZt = falloc(T, d, &bad);
    w->dHt = falloc(T, dk, &bad);
    w->dH = falloc(T, dk, &bad);
    w->dQ = falloc(T, dk, &bad);
    w->dK = falloc(T, dk, &bad);
    w->dV = falloc(T, dk, &bad);
    w->colsum = falloc((size_t)w->threads, S, &bad);
    w->rowscale = falloc(T, 1, &bad);
    w->grad = falloc(p->n_params, 1, &bad);
    w->sumdq = falloc(dk, 1, &bad);
    w->tgt = malloc(T * sizeof *w->tgt);
    w->lossrow = malloc(T * sizeof *w->lossrow);
    w->slot_head = malloc(p->n_cand * sizeof *w->slot_head);
    w->slot_next = malloc(S * sizeof *w->slot_next);
    if (bad || !w->tgt || !w->lossrow || !w->slot_head || !w->slot_next) {
        head_work_free(w);
        return ev_fail(err, EV_ERR_NOMEM, "out of memory for training buffers (%zu tokens, %zu negatives)", T, S);
    }
    for (size_t i = 0; i < p->n_cand; i++)
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
        if (b->target[t] && (b->row[t] < 0 || (size_t)b->row[t] >= w->p->n_cand))
            return ev_fail(err, EV_ERR_USAGE, "batch token %zu: a target outside the candidates", t);
    }
    for (size_t i = 0; i < b->n_neg; i++)
        if (b->neg[i] < 0 || (size_t)b->neg[i] >= w->p->n_cand)
            return ev_fail(err, EV_ERR_USAGE, "negative %zu out of range", i);
    return EV_OK;
}

/* ==== the forward pass ====================================================================================== */

typedef enum { KIND_TRAINED = HEAD_EVAL_TRAINED, KIND_IDENTITY = HEAD_EVAL_IDENTITY, KIND_UNIFORM = HEAD_EVAL_UNIFORM,
               KIND_RANDOM = HEAD_EVAL_RANDOM } attn_kind;

typedef struct {
    head_work *w;
    const head_batch *b;
    attn_kind kind;
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
                a[j] = c->kind == KIND_UNIFORM ? 0.0f : dot(w->Q + i * c->qkw, w->K + tj * c->qkw, c->qkw) * c->scale;
                if (a[j] > mx)
                    mx = a[j];
            }
            memset(h, 0, dk * sizeof *h);
            if (m == 0) { /* no other known token: no attention (never a target, by construction) */
                memset(a, 0, n * sizeof *a);
                continue;
            }
            /* 3b: exp and sum (the maximum contributes 1) */
            float sum = 0.0f;
            for (size_t j = 0; j < n; j++) {
                a[j] = a[j] == -INFINITY ? 0.0f : expf(a[j] - mx);
                sum += a[j];
            }
            /* 3c: normalise, 3d: weighted sum of the values */
            float inv = 1.0f / sum;
            for (size_t j = 0; j < n; j++) {
                a[j] *= inv;
                if (a[j] == 0.0f)
                    continue;
                const float *v = w->V_ + (t0 + j) * dk;
                for (size_t k = 0; k < dk; k++)
                    h[k] += a[j] * v[k];
            }
        }
    }
}

/* The forward pass of a batch up to the targets' outputs Zt (n_tgt, d). kind selects the attention pattern;
 * wq_alt/wk_alt are the random baseline's projections. */
static void forward(head_work *w, const head_batch *b, attn_kind kind, const float *wq_alt, const float *wk_alt)
{
    const head_params *p = w->p;
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
            const float *qe = q >= 0 ? w->E + (size_t)q * d : p->mask;
            for (size_t k = 0; k < d; k++)
                u[k] = qe[k] + pe[k];
        }
    /* pass 2: projections Q = U·W_Q, K = X·W_K (the identity: U and X themselves), V = X·W_V */
    size_t qkw = dk;
    if (kind == KIND_TRAINED || kind == KIND_RANDOM) {
        gemm(0, 0, T, dk, d, w->U, kind == KIND_TRAINED ? p->w_q : wq_alt, w->Q, 0);
        gemm(0, 0, T, dk, d, w->X, kind == KIND_TRAINED ? p->w_k : wk_alt, w->K, 0);
    } else if (kind == KIND_IDENTITY) {
        memcpy(w->Q, w->U, T * d * sizeof(float));
        memcpy(w->K, w->X, T * d * sizeof(float));
        qkw = d;
    }
    gemm(0, 0, T, dk, d, w->X, p->w_v, w->V_, 0);
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
        gemm(0, 0, w->n_tgt, d, dk, w->Ht, p->w_o, w->Zt, 0);
}

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
    const head_params *p = w->p;
    size_t S = b->n_neg, S4 = S / 4 * 4, d = w->d, P = w->n_tgt;
    float *G = w->G + (size_t)tid * LOGIT_TILE * S;     /* (LOGIT_TILE, S) */
    float *cs = w->colsum + (size_t)tid * w->max_neg;   /* (S) */
    for (size_t r0 = lo; r0 < hi; r0 += LOGIT_TILE) {
        size_t rows = hi - r0 < LOGIT_TILE ? hi - r0 : LOGIT_TILE;
        gemm(0, 1, rows, S, d, w->Zt + r0 * d, w->ES, G, 0);
        for (size_t i = r0; i < r0 + rows; i++) {
            int32_t t = b->row[w->tgt[i]];
            float lt = dot(w->Zt + i * d, w->E + (size_t)t * d, d) + p->bias[t] - b->logq[t];
            float *g = G + (i - r0) * S; /* (S) */
            /* 5a: corrected logits and their maximum (an accidental hit's logit equals lt: the maximum stands) */
            v4f vmx = v4_splat(lt);
            for (size_t k = 0; k < S4; k += 4) {
                v4f l = *(v4f_u *)(g + k) + *(v4f_u *)(w->bneg + k);
                *(v4f_u *)(g + k) = l;
                vmx = v4_max(vmx, l);
            }
            float mx = v4_hmax(vmx);
            for (size_t k = S4; k < S; k++) {
                g[k] += w->bneg[k];
                mx = g[k] > mx ? g[k] : mx;
            }
            for (int32_t k = w->slot_head[t]; k >= 0; k = w->slot_next[k])
                g[k] = -INFINITY;
            /* 5b: exp and sum */
            v4f vs = v4_splat(0.0f), vm = v4_splat(mx);
            for (size_t k = 0; k < S4; k += 4) {
                v4f e = v4_exp(*(v4f_u *)(g + k) - vm);
                *(v4f_u *)(g + k) = e;
                vs += e;
            }
            float et = exp1(lt - mx), sum = v4_hsum(vs) + et;
            for (size_t k = S4; k < S; k++) {
                g[k] = exp1(g[k] - mx);
                sum += g[k];
            }
            /* 5c: loss = log Σ exp − true logit */
            w->lossrow[i] = log((double)sum) - (double)(lt - mx);
            w->rowscale[i] = 1.0f / (sum * (float)P);
            w->gtrue[i] = et * w->rowscale[i] - 1.0f / (float)P;
        }
        /* 5d: column sums and dZt while the tile is in cache */
        cblas_sgemv(CblasRowMajor, CblasTrans, (int)rows, (int)S, 1.0f, G, (int)S, w->rowscale + r0, 1, 1.0f, cs, 1);
        gemm(0, 0, rows, d, S, G, w->ES, w->dZt + r0 * d, 0);
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
            /* 8a: dA_ij = dH_i·v_j, dV_j += a_ij dH_i, and Σ_j a_ij dA_ij */
            float adA = 0.0f;
            for (size_t j = 0; j < n; j++) {
                if (a[j] == 0.0f) { /* masked, or underflowed: contributes nothing */
                    dA[j] = 0.0f;
                    continue;
                }
                const float *v = w->V_ + (t0 + j) * dk;
                float *dv = w->dV + (t0 + j) * dk;
                dA[j] = dot(dh, v, dk);
                adA += a[j] * dA[j];
                for (size_t k = 0; k < dk; k++)
                    dv[k] += a[j] * dh[k];
            }
            /* 8b: softmax backward dS = a ⊙ (dA − Σ a dA), then dQ_i += dS_ij k_j / √d_k, dK_j += dS_ij q_i / √d_k */
            for (size_t j = 0; j < n; j++) {
                if (a[j] == 0.0f)
                    continue;
                float ds = a[j] * (dA[j] - adA) * scale;
                const float *k_ = w->K + (t0 + j) * dk;
                float *dkr = w->dK + (t0 + j) * dk;
                for (size_t k = 0; k < dk; k++) {
                    dq[k] += ds * k_[k];
                    dkr[k] += ds * q[k];
                }
            }
        }
    }
}

ev_status head_loss_grad(head_work *w, const head_batch *b, double *loss, ev_error *err)
{
    ev_status st = check_batch(w, b, err);
    if (st != EV_OK)
        return st;
    const head_params *p = w->p;
    size_t d = w->d, dk = w->dk, S = b->n_neg, T = b->n_sent ? b->start[b->n_sent] : 0;
    head_params g = *p; /* the gradient, laid out as the parameters */
    g.params = w->grad;
    g.w_q = g.params;
    g.w_k = g.w_q + d * dk;
    g.w_v = g.w_k + d * dk;
    g.w_o = g.w_v + d * dk;
    g.mask = g.w_o + dk * d;
    g.bias = g.mask + d;
    memset(w->grad, 0, p->n_params * sizeof(float));
    *loss = 0;
    /* passes 1-4 */
    forward(w, b, KIND_TRAINED, NULL, NULL);
    size_t P = w->n_tgt;
    if (P == 0 || S == 0)
        return EV_OK;
    /* pass 5: the negatives' vectors, logits Zt·ESᵀ, sampled softmax */
    for (size_t k = 0; k < S; k++) {
        memcpy(w->ES + k * d, w->E + (size_t)b->neg[k] * d, d * sizeof(float));
        w->bneg[k] = p->bias[b->neg[k]] - b->logq[b->neg[k]];
    }
    for (size_t k = S; k-- > 0;) { /* slot lists, in increasing slot order */
        w->slot_next[k] = w->slot_head[b->neg[k]];
        w->slot_head[b->neg[k]] = (int32_t)k;
    }
    /* the big products run in our threads, each over its own targets with single-threaded BLAS: no OpenBLAS
     * workers spinning beside them */
    memset(w->colsum, 0, (size_t)w->threads * w->max_neg * sizeof(float));
    loss_ctx lc = {w, b};
    int blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
    parallel_for(w->threads, P, softmax_tiles, &lc);
    openblas_set_num_threads(blas_threads);
    for (size_t k = 0; k < S; k++)
        w->slot_head[b->neg[k]] = -1;
    double total = 0;
    for (size_t i = 0; i < P; i++)
        total += w->lossrow[i];
    *loss = total / (double)P;
    /* pass 6: the bias (true classes, then the negatives' column sums, in a fixed order) and dZt += gtrue·E_t */
    for (size_t i = 0; i < P; i++)
        g.bias[b->row[w->tgt[i]]] += w->gtrue[i];
    for (size_t k = 0; k < S; k++)
        for (int t = 0; t < w->threads; t++)
            g.bias[b->neg[k]] += w->colsum[(size_t)t * w->max_neg + k];
    for (size_t i = 0; i < P; i++) {
        const float *e = w->E + (size_t)b->row[w->tgt[i]] * d;
        float *dz = w->dZt + i * d;
        for (size_t k = 0; k < d; k++)
            dz[k] += w->gtrue[i] * e[k];
    }
    /* pass 7: output projection. dW_O = Htᵀ·dZt, dHt = dZt·W_Oᵀ, scattered to the targets' rows */
    gemm(1, 0, dk, d, P, w->Ht, w->dZt, g.w_o, 0);
    gemm(0, 1, P, dk, d, w->dZt, p->w_o, w->dHt, 0);
    memset(w->dH, 0, T * dk * sizeof(float));
    for (size_t i = 0; i < P; i++)
        memcpy(w->dH + w->tgt[i] * dk, w->dHt + i * dk, dk * sizeof(float));
    /* pass 8: attention backward */
    parallel_for(w->threads, b->n_sent, attn_back_rows, &lc);
    /* pass 9: projections. dW_Q = Uᵀ·dQ, dW_K = Xᵀ·dK, dW_V = Xᵀ·dV, d[MASK] = W_Q·Σ_{[MASK] queries} dQ_i */
    gemm(1, 0, d, dk, T, w->U, w->dQ, g.w_q, 0);
    gemm(1, 0, d, dk, T, w->X, w->dK, g.w_k, 0);
    gemm(1, 0, d, dk, T, w->X, w->dV, g.w_v, 0);
    memset(w->sumdq, 0, dk * sizeof(float));
    for (size_t t = 0; t < T; t++)
        if (b->target[t] && b->query && b->query[t] == HEAD_QUERY_MASK)
            for (size_t k = 0; k < dk; k++)
                w->sumdq[k] += w->dQ[t * dk + k];
    for (size_t a = 0; a < d; a++)
        g.mask[a] = dot(p->w_q + a * dk, w->sumdq, dk);
    return EV_OK;
}

/* ==== the double-precision twin ============================================================================= */

double head_loss_reference(const store *s, const head_params *p, const head_batch *b)
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
                u[c] = (qr >= 0 ? (double)E[(size_t)qr * d + c] : (double)p->mask[c]) + pe[i * d + c];
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
            double lt = p->bias[tr] - b->logq[tr], lmx;
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
                double l = p->bias[c_] - b->logq[c_];
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

/* ==== training ============================================================================================== */

head_train_opts head_train_opts_default(void)
{
    head_train_opts o;
    memset(&o, 0, sizeof o);
    o.seed = 1;
    o.threads = 1;
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

ev_status head_train(const store *s, const head_corpus *c, const head_train_opts *opts, head_params **out,
                     head_train_stats *stats, ev_error *err)
{
    *out = NULL;
    head_train_opts o = opts ? *opts : head_train_opts_default();
    size_t d = store_dim(s), V = store_size(s);
    size_t dk = o.d_k ? o.d_k : HEAD_DEFAULT_DK, nc = o.n_cand ? o.n_cand : HEAD_DEFAULT_CANDIDATES;
    size_t S = o.n_neg ? o.n_neg : HEAD_DEFAULT_NEGATIVES, BT = o.batch_tokens ? o.batch_tokens : HEAD_DEFAULT_BATCH_TOKENS;
    size_t epochs = o.epochs ? o.epochs : HEAD_DEFAULT_EPOCHS;
    float lr0 = o.lr > 0 ? o.lr : HEAD_DEFAULT_LR;
    if (nc > V)
        nc = V;
    if (!(isfinite(lr0) && lr0 < 100.0f) || dk > 65536 || S > 1u << 20 || BT > 1u << 20 || epochs > 100000)
        return ev_fail(err, EV_ERR_USAGE, "bad training options (lr %g, d_k %zu, negatives %zu, batch %zu)",
                       (double)lr0, dk, S, BT);
    if (BT < HEAD_MAX_LEN)
        BT = HEAD_MAX_LEN;
    double t_start = ev_seconds();
    ev_status st = EV_OK;
    size_t *counts = calloc(nc, sizeof *counts), *perm = malloc(c->n_sent * sizeof *perm);
    double *cdf = malloc(nc * sizeof *cdf);
    float *logq = malloc(nc * sizeof *logq), *am = NULL, *av = NULL;
    size_t max_sent = BT + 2; /* sentences have at least 2 tokens: generous */
    size_t *bstart = malloc((max_sent + 1) * sizeof *bstart);
    int32_t *brow = malloc((BT + HEAD_MAX_LEN) * sizeof *brow), *bquery = malloc((BT + HEAD_MAX_LEN) * sizeof *bquery);
    int32_t *bneg = malloc(S * sizeof *bneg);
    unsigned char *btarget = malloc(BT + HEAD_MAX_LEN);
    head_params *p = NULL;
    head_work *w = NULL;
    int saved_threads = openblas_get_num_threads();
    openblas_set_num_threads(o.threads < 1 ? 1 : o.threads);
    if (!counts || !perm || !cdf || !logq || !bstart || !brow || !bquery || !bneg || !btarget) {
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
    if (!(p = head_params_new(d, dk, nc))) {
        st = ev_fail(err, EV_ERR_NOMEM, "out of memory creating a %zu × %zu head", d, dk);
        goto done;
    }
    p->positions = o.positions;
    p->position_scale = o.position_scale >= 0 ? o.position_scale : HEAD_DEFAULT_POSITION_SCALE;
    p->fingerprint = head_fingerprint(s, nc);
    p->has_fingerprint = 1;
    uint64_t rng = o.seed;
    rng_xavier(p->w_q, d * dk, d, dk, &rng);
    rng_xavier(p->w_k, d * dk, d, dk, &rng);
    rng_xavier(p->w_v, d * dk, d, dk, &rng);
    rng_xavier(p->w_o, dk * d, dk, d, &rng);
    for (size_t i = 0; i < nc; i++)
        p->bias[i] = (float)log(((double)counts[i] + 1.0) / ((double)n_targets + (double)nc));
    if ((st = head_work_new(s, p, BT + HEAD_MAX_LEN, S, o.threads, &w, err)) != EV_OK)
        goto done;
    am = calloc(p->n_params, sizeof *am);
    av = calloc(p->n_params, sizeof *av);
    if (!am || !av) {
        st = ev_fail(err, EV_ERR_NOMEM, "out of memory for the optimiser state");
        goto done;
    }
    for (size_t i = 0; i < c->n_sent; i++)
        perm[i] = i;
    /* 3. epochs of shuffled batches */
    size_t total_tokens = epochs * c->n_tok, done_tokens = 0, step = 0;
    size_t steps_est = epochs * ((c->n_tok + BT - 1) / BT);
    double epoch_loss = 0;
    for (size_t ep = 1; ep <= epochs; ep++) {
        for (size_t i = c->n_sent; i > 1; i--) { /* Fisher-Yates */
            size_t j = rng_below(&rng, i);
            size_t tmp = perm[i - 1];
            perm[i - 1] = perm[j];
            perm[j] = tmp;
        }
        double loss_sum = 0;
        size_t loss_steps = 0;
        for (size_t si = 0; si < c->n_sent;) {
            /* 3a: a batch of whole sentences, at most BT tokens */
            size_t ns = 0, T = 0;
            bstart[0] = 0;
            while (si < c->n_sent && ns < max_sent) {
                size_t sn = perm[si], n = c->start[sn + 1] - c->start[sn];
                if (ns > 0 && T + n > BT)
                    break;
                memcpy(brow + T, c->row + c->start[sn], n * sizeof *brow);
                T += n;
                bstart[++ns] = T;
                si++;
            }
            /* 3b: targets and their queries (80 % [MASK], 10 % a random candidate, 10 % the word itself) */
            for (size_t t = 0; t < T; t++) {
                int32_t r = brow[t];
                btarget[t] = r >= 0 && (size_t)r < nc;
                bquery[t] = r >= 0 ? r : HEAD_QUERY_MASK;
                if (btarget[t]) {
                    double u = rng_uniform(&rng);
                    if (u < P_MASK)
                        bquery[t] = HEAD_QUERY_MASK;
                    else if (u < P_MASK + P_RANDOM)
                        bquery[t] = (int32_t)rng_below(&rng, nc);
                }
            }
            /* 3c: negatives */
            for (size_t k = 0; k < S; k++)
                bneg[k] = (int32_t)cdf_search(cdf, nc, rng_uniform(&rng));
            head_batch b = {ns, bstart, brow, bquery, btarget, S, bneg, logq};
            double loss;
            if ((st = head_loss_grad(w, &b, &loss, err)) != EV_OK)
                goto done;
            if (!isfinite(loss)) {
                st = ev_fail(err, EV_ERR_FORMAT, "the training loss became %g at step %zu: try a smaller --lr",
                             loss, step + 1);
                goto done;
            }
            /* 3d: Adam, learning rate decayed linearly to 0 over the run */
            step++;
            float lr = (float)((double)lr0 * (1.0 - (double)done_tokens / (double)total_tokens));
            float bc1 = 1.0f - powf(ADAM_B1, (float)step), bc2 = 1.0f - powf(ADAM_B2, (float)step);
            const float *g = w->grad;
            for (size_t i = 0; i < p->n_params; i++) {
                am[i] = ADAM_B1 * am[i] + (1.0f - ADAM_B1) * g[i];
                av[i] = ADAM_B2 * av[i] + (1.0f - ADAM_B2) * g[i] * g[i];
                p->params[i] -= lr * (am[i] / bc1) / (sqrtf(av[i] / bc2) + ADAM_EPS);
            }
            done_tokens += T;
            loss_sum += loss;
            loss_steps++;
            if (o.progress) {
                double el = ev_seconds() - t_start;
                head_progress pr = {ep, epochs, step, steps_est > step ? steps_est : step, done_tokens, total_tokens,
                                    loss_sum / (double)loss_steps, el > 0 ? (double)done_tokens / el : 0, el, lr};
                o.progress(o.progress_ctx, &pr);
            }
        }
        epoch_loss = loss_steps ? loss_sum / (double)loss_steps : 0;
    }
    for (size_t i = 0; i < p->n_params; i++)
        if (!isfinite(p->params[i])) {
            st = ev_fail(err, EV_ERR_FORMAT, "training produced a non-finite parameter: try a smaller --lr");
            goto done;
        }
    if (stats) {
        stats->steps = step;
        stats->targets = n_targets;
        stats->final_loss = epoch_loss;
        stats->seconds = ev_seconds() - t_start;
    }
    *out = p;
    p = NULL;
done:
    openblas_set_num_threads(saved_threads);
    head_work_free(w);
    head_params_free(p);
    free(counts);
    free(perm);
    free(cdf);
    free(logq);
    free(am);
    free(av);
    free(bstart);
    free(brow);
    free(bquery);
    free(bneg);
    free(btarget);
    return st;
}

/* ==== evaluation ============================================================================================ */

const char *head_eval_kind_name(head_eval_kind k)
{
    static const char *const names[HEAD_EVAL_KINDS] = {"trained", "identity", "uniform", "random"};
    return (unsigned)k < HEAD_EVAL_KINDS ? names[k] : "?";
}

/* NLTK's English stop-word list (nltk.corpus.stopwords.words('english'), 179 words). */
static const char *const STOP_WORDS[] = {
    "i", "me", "my", "myself", "we", "our", "ours", "ourselves", "you", "you're", "you've", "you'll", "you'd", "your",
    "yours", "yourself", "yourselves", "he", "him", "his", "himself", "she", "she's", "her", "hers", "herself", "it",
    "it's", "its", "itself", "they", "them", "their", "theirs", "themselves", "what", "which", "who", "whom", "this",
    "that", "that'll", "these", "those", "am", "is", "are", "was", "were", "be", "been", "being", "have", "has",
    "had", "having", "do", "does", "did", "doing", "a", "an", "the", "and", "but", "if", "or", "because", "as",
    "until", "while", "of", "at", "by", "for", "with", "about", "against", "between", "into", "through", "during",
    "before", "after", "above", "below", "to", "from", "up", "down", "in", "out", "on", "off", "over", "under",
    "again", "further", "then", "once", "here", "there", "when", "where", "why", "how", "all", "any", "both", "each",
    "few", "more", "most", "other", "some", "such", "no", "nor", "not", "only", "own", "same", "so", "than", "too",
    "very", "s", "t", "can", "will", "just", "don", "don't", "should", "should've", "now", "d", "ll", "m", "o", "re",
    "ve", "y", "ain", "aren", "aren't", "couldn", "couldn't", "didn", "didn't", "doesn", "doesn't", "hadn",
    "hadn't", "hasn", "hasn't", "haven", "haven't", "isn", "isn't", "ma", "mightn", "mightn't", "mustn", "mustn't",
    "needn", "needn't", "shan", "shan't", "shouldn", "shouldn't", "wasn", "wasn't", "weren", "weren't", "won",
    "won't", "wouldn", "wouldn't"};

int head_is_content_word(const char *w, size_t n)
{
    int letter = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)w[i];
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch >= 0x80)
            letter = 1;
    }
    if (!letter)
        return 0;
    for (size_t k = 0; k < sizeof STOP_WORDS / sizeof STOP_WORDS[0]; k++) {
        const char *sw = STOP_WORDS[k];
        size_t i = 0;
        while (i < n && sw[i] && (char)((w[i] >= 'A' && w[i] <= 'Z') ? w[i] + 32 : w[i]) == sw[i])
            i++;
        if (i == n && sw[i] == '\0')
            return 0;
    }
    return 1;
}

typedef struct {
    head_work *w;
    const head_batch *b;
    size_t c0, nc;       /* targets [c0, c0 + rows) of the batch are in the tile G (rows, nc) */
    int32_t *rank;       /* (n_tgt) */
} rank_ctx;

/* The rank of each target's word among the candidates: how many score higher (or equal with a lower row). */
static void rank_rows(void *vc, size_t lo, size_t hi, int tid)
{
    (void)tid;
    rank_ctx *c = vc;
    const float *bias = c->w->p->bias;
    for (size_t i = lo; i < hi; i++) {
        const float *g = c->w->G + i * c->nc;
        int32_t t = c->b->row[c->w->tgt[c->c0 + i]];
        float lt = g[t] + bias[t];
        int32_t r = 0;
        for (size_t k = 0; k < c->nc; k++) {
            float l = g[k] + bias[k];
            r += l > lt || (l == lt && (int32_t)k < t);
        }
        c->rank[c->c0 + i] = r;
    }
}

ev_status head_evaluate(const store *s, const head_params *p, const head_corpus *c, int threads,
                        head_eval_result *out, ev_error *err)
{
    memset(out, 0, sizeof *out);
    double t_start = ev_seconds();
    size_t nc = p->n_cand, d = p->d_model;
    if (store_dim(s) != d)
        return ev_fail(err, EV_ERR_FORMAT, "the head is for vectors of dimension %zu, the vectors have dimension %zu",
                       d, store_dim(s));
    if (nc > store_size(s))
        return ev_fail(err, EV_ERR_FORMAT, "the head has %zu candidates, the vectors only %zu words", nc,
                       store_size(s));
    head_work *w = NULL;
    attn_head *rnd = NULL;
    unsigned char *content = malloc(nc), *btarget = malloc(EVAL_BATCH_TOKENS + HEAD_MAX_LEN);
    size_t *bstart = malloc((EVAL_BATCH_TOKENS + 2) * sizeof *bstart);
    ev_status st = EV_OK;
    int saved_threads = openblas_get_num_threads();
    openblas_set_num_threads(threads < 1 ? 1 : threads);
    if (!content || !btarget || !bstart) {
        st = ev_fail(err, EV_ERR_NOMEM, "out of memory for the evaluation");
        goto done;
    }
    if ((st = attn_head_random(d, p->d_k, ATTN_DEFAULT_SEED, &rnd, err)) != EV_OK)
        goto done;
    if ((st = head_work_new(s, p, EVAL_BATCH_TOKENS + HEAD_MAX_LEN, 0, threads, &w, err)) != EV_OK)
        goto done;
    for (int k = 0; k < HEAD_EVAL_KINDS; k++)
        if (!(w->rank[k] = malloc((EVAL_BATCH_TOKENS + HEAD_MAX_LEN) * sizeof(int32_t)))) {
            st = ev_fail(err, EV_ERR_NOMEM, "out of memory for the evaluation");
            goto done;
        }
    for (size_t r = 0; r < nc; r++) {
        size_t len;
        const char *word = store_word(s, r, &len);
        content[r] = (unsigned char)head_is_content_word(word, len);
    }
    size_t tile_rows = w->g_cap / nc; /* ≥ EVAL_TILE */
    for (size_t si = 0; si < c->n_sent;) {
        size_t ns = 0, T0 = c->start[si];
        bstart[0] = 0;
        while (si < c->n_sent && (ns == 0 || c->start[si + 1] - T0 <= EVAL_BATCH_TOKENS)) {
            bstart[++ns] = c->start[si + 1] - T0;
            si++;
        }
        size_t T = bstart[ns];
        const int32_t *brow = c->row + T0;
        for (size_t t = 0; t < T; t++) {
            btarget[t] = brow[t] >= 0 && (size_t)brow[t] < nc;
            if (brow[t] >= (int32_t)nc)
                out->skipped++;
        }
        /* every target's query is [MASK] */
        head_batch b = {ns, bstart, brow, NULL, btarget, 0, NULL, NULL};
        int32_t *mq = malloc(T * sizeof *mq);
        if (!mq) {
            st = ev_fail(err, EV_ERR_NOMEM, "out of memory for the evaluation");
            goto done;
        }
        for (size_t t = 0; t < T; t++)
            mq[t] = HEAD_QUERY_MASK;
        b.query = mq;
        for (int k = 0; k < HEAD_EVAL_KINDS; k++) {
            forward(w, &b, (attn_kind)k, rnd->w_q, rnd->w_k);
            for (size_t c0 = 0; c0 < w->n_tgt; c0 += tile_rows) {
                size_t rows = w->n_tgt - c0 < tile_rows ? w->n_tgt - c0 : tile_rows;
                gemm(0, 1, rows, nc, d, w->Zt + c0 * d, w->E, w->G, 0);
                rank_ctx rc = {w, &b, c0, nc, w->rank[k]};
                parallel_for(w->threads, rows, rank_rows, &rc);
            }
        }
        free(mq);
        for (size_t i = 0; i < w->n_tgt; i++) {
            int cw = content[brow[w->tgt[i]]];
            int hit_tr = w->rank[HEAD_EVAL_TRAINED][i] < 10;
            for (int k = 0; k < HEAD_EVAL_KINDS; k++) {
                head_eval_counts *e = &out->k[k];
                int32_t r = w->rank[k][i];
                e->n++;
                e->top1 += r < 1;
                e->top10 += r < 10;
                e->top10_only_trained += hit_tr && r >= 10;
                e->top10_only_this += !hit_tr && r < 10;
                if (cw) {
                    e->n_content++;
                    e->top1_content += r < 1;
                    e->top10_content += r < 10;
                    e->top10_only_trained_content += hit_tr && r >= 10;
                    e->top10_only_this_content += !hit_tr && r < 10;
                }
            }
        }
    }
    out->n_cand = nc;
    out->seconds = ev_seconds() - t_start;
    if (out->k[0].n == 0)
        st = ev_fail(err, EV_ERR_NOTFOUND, "no position to evaluate: no word of the corpus is among the %zu "
                     "candidates", nc);
done:
    openblas_set_num_threads(saved_threads);
    head_work_free(w);
    attn_head_free(rnd);
    free(content);
    free(btarget);
    free(bstart);
    return st;
}

/* ==== head files ============================================================================================ */

ev_status head_save(const head_params *p, const head_train_meta *m, const char *path, ev_error *err)
{
    size_t d = p->d_model, dk = p->d_k, pos = 0;
    char scale[32], lr[32];
    numparse_format_float(p->position_scale, scale);
    cJSON *hdr = cJSON_CreateObject();
    cJSON *meta = hdr ? cJSON_AddObjectToObject(hdr, "__metadata__") : NULL;
    int bad = !meta || st_add_meta(meta, "format", "embvsattn-head") || st_add_meta(meta, "format_version", "1") ||
              st_add_meta(meta, "kind", "trained") ||
              st_add_meta(meta, "description", "%s", p->description ? p->description : "trained by embvsattn train") ||
              st_add_meta(meta, "positions", "%s", attn_positions_name(p->positions)) ||
              st_add_meta(meta, "position_scale", "%s", scale) || st_add_meta(meta, "self_attention", "excluded") ||
              st_add_meta(meta, "tool_version", EMBVSATTN_VERSION) ||
              st_add_meta(meta, "candidates", "%zu", p->n_cand) || st_add_meta(meta, "vectors_dim", "%zu", d) ||
              (p->has_fingerprint &&
               st_add_meta(meta, "vectors_fingerprint", "%016llx", (unsigned long long)p->fingerprint));
    if (!bad && m) {
        numparse_format_float(m->lr, lr);
        bad = st_add_meta(meta, "seed", "%llu", (unsigned long long)m->seed) ||
              st_add_meta(meta, "train_corpus", "%s", m->corpus ? m->corpus : "") ||
              st_add_meta(meta, "train_epochs", "%zu", m->epochs) || st_add_meta(meta, "train_lr", "%s", lr) ||
              st_add_meta(meta, "train_negatives", "%zu", m->n_neg) ||
              st_add_meta(meta, "train_batch_tokens", "%zu", m->batch_tokens) ||
              st_add_meta(meta, "train_threads", "%zu", m->threads) || st_add_meta(meta, "train_tokens", "%zu", m->tokens) ||
              st_add_meta(meta, "train_sentences", "%zu", m->sentences) ||
              st_add_meta(meta, "train_final_loss", "%.6f", m->final_loss);
    }
    size_t sh_in[2] = {d, dk}, sh_out[2] = {dk, d}, sh_mask[2] = {1, d}, sh_bias[2] = {1, p->n_cand};
    bad = bad || st_add_tensor(hdr, "w_q", "F32", 4, sh_in, 2, &pos) ||
          st_add_tensor(hdr, "w_k", "F32", 4, sh_in, 2, &pos) || st_add_tensor(hdr, "w_v", "F32", 4, sh_in, 2, &pos) ||
          st_add_tensor(hdr, "w_o", "F32", 4, sh_out, 2, &pos) ||
          st_add_tensor(hdr, "train_mask", "F32", 4, sh_mask, 2, &pos) ||
          st_add_tensor(hdr, "train_bias", "F32", 4, sh_bias, 2, &pos);
    if (bad) {
        cJSON_Delete(hdr);
        return ev_fail(err, EV_ERR_NOMEM, "out of memory writing %s", path);
    }
    outfile of;
    ev_status st = st_begin_file(&of, path, hdr, 8, err);
    if (st != EV_OK)
        return st;
    /* the parameters are laid out in the file's tensor order */
    fwrite(p->params, sizeof(float), p->n_params, of.fp);
    return outfile_commit(&of, err);
}

/* Finds tensor name in the (already validated) header: its shape and the bytes it covers. 0 when absent. */
static int find_tensor(const cJSON *hdr, const char *name, size_t shape[2], size_t *begin)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(hdr, name);
    if (!t)
        return 0;
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(t, "shape"), *off = cJSON_GetObjectItemCaseSensitive(t, "data_offsets");
    shape[0] = (size_t)cJSON_GetArrayItem(sh, 0)->valuedouble;
    shape[1] = (size_t)cJSON_GetArrayItem(sh, 1)->valuedouble;
    *begin = (size_t)cJSON_GetArrayItem(off, 0)->valuedouble;
    return 1;
}

static ev_status take_floats(float *dst, const unsigned char *src, size_t n, const char *name, const char *what,
                             ev_error *err)
{
    memcpy(dst, src, n * sizeof(float));
    for (size_t i = 0; i < n; i++)
        if (!isfinite(dst[i]))
            return ev_fail(err, EV_ERR_FORMAT, "%s: %s[%zu] is not a finite number", name, what, i);
    return EV_OK;
}

ev_status head_load_bytes(const unsigned char *buf, size_t size, const char *name, size_t d_model_expected,
                          head_params **out, ev_error *err)
{
    *out = NULL;
    attn_head *h = NULL;
    ev_status st = attn_head_load_bytes(buf, size, name, d_model_expected, &h, err);
    if (st != EV_OK)
        return st;
    /* the header is valid (attn_head_load_bytes checked it, train_* tensors included) */
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = (hlen << 8) | buf[i];
    const unsigned char *data = buf + 8 + hlen;
    cJSON *hdr = cJSON_ParseWithLength((const char *)buf + 8, (size_t)hlen);
    head_params *p = NULL;
    size_t d = h->d_model, dk = h->d_k, ms[2], bs[2], mb = 0, bb = 0, nc = HEAD_DEFAULT_CANDIDATES;
    if (!hdr) {
        st = ev_fail(err, EV_ERR_NOMEM, "out of memory reading %s", name);
        goto done;
    }
    int has_mask = find_tensor(hdr, "train_mask", ms, &mb), has_bias = find_tensor(hdr, "train_bias", bs, &bb);
    if (has_mask && (ms[0] != 1 || ms[1] != d)) {
        st = ev_fail(err, EV_ERR_FORMAT, "%s: train_mask has shape [%zu, %zu], expected [1, d_model] = [1, %zu]", name,
                     ms[0], ms[1], d);
        goto done;
    }
    if (has_bias && bs[0] != 1) {
        st = ev_fail(err, EV_ERR_FORMAT, "%s: train_bias has shape [%zu, %zu], expected [1, candidates]", name, bs[0],
                     bs[1]);
        goto done;
    }
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(hdr, "__metadata__");
    const cJSON *mc = cJSON_GetObjectItemCaseSensitive(meta, "candidates");
    if (has_bias)
        nc = bs[1];
    else if (cJSON_IsString(mc)) {
        char *end;
        unsigned long long v = strtoull(mc->valuestring, &end, 10);
        if (*end || v == 0 || v > INT_MAX) {
            st = ev_fail(err, EV_ERR_FORMAT, "%s: __metadata__.candidates is '%s', expected a count", name,
                         mc->valuestring);
            goto done;
        }
        nc = (size_t)v;
    }
    if (!(p = head_params_new(d, dk, nc))) {
        st = ev_fail(err, EV_ERR_NOMEM, "out of memory reading %s", name);
        goto done;
    }
    memcpy(p->w_q, h->w_q, d * dk * sizeof(float));
    memcpy(p->w_k, h->w_k, d * dk * sizeof(float));
    memcpy(p->w_v, h->w_v, d * dk * sizeof(float));
    if (h->w_o)
        memcpy(p->w_o, h->w_o, dk * d * sizeof(float));
    else
        for (size_t i = 0; i < d; i++) /* no w_o: d_k = d_model, W_O = I */
            p->w_o[i * d + i] = 1.0f;
    if ((has_mask && (st = take_floats(p->mask, data + mb, d, name, "train_mask", err)) != EV_OK) ||
        (has_bias && (st = take_floats(p->bias, data + bb, nc, name, "train_bias", err)) != EV_OK))
        goto done;
    p->positions = h->has_position_meta ? h->positions : ATTN_POS_NONE;
    p->position_scale = h->position_scale;
    const cJSON *fp = cJSON_GetObjectItemCaseSensitive(meta, "vectors_fingerprint");
    if (cJSON_IsString(fp) && strlen(fp->valuestring) == 16) {
        char *end;
        p->fingerprint = (uint64_t)strtoull(fp->valuestring, &end, 16);
        p->has_fingerprint = *end == '\0';
    }
    if (!(p->description = strdup(h->description ? h->description : name))) {
        st = ev_fail(err, EV_ERR_NOMEM, "out of memory reading %s", name);
        goto done;
    }
    *out = p;
    p = NULL;
done:
    head_params_free(p);
    cJSON_Delete(hdr);
    attn_head_free(h);
    return st;
}

ev_status head_load(const char *path, size_t d_model_expected, head_params **out, ev_error *err)
{
    *out = NULL;
    unsigned char *buf;
    size_t n;
    ev_status st = util_read_file(path, "head file", HEAD_FILE_MAX_BYTES, &buf, &n, err);
    if (st != EV_OK)
        return st;
    st = head_load_bytes(buf, n, path, d_model_expected, out, err);
    free(buf);
    return st;
}

ev_status head_to_attn(const head_params *p, attn_head **out, ev_error *err)
{
    *out = NULL;
    size_t d = p->d_model, dk = p->d_k;
    attn_head *h = calloc(1, sizeof *h);
    if (!h)
        return ev_fail(err, EV_ERR_NOMEM, "out of memory");
    h->kind = ATTN_HEAD_FILE;
    h->d_model = d;
    h->d_k = dk;
    h->w_q = malloc(d * dk * sizeof(float));
    h->w_k = malloc(d * dk * sizeof(float));
    h->w_v = malloc(d * dk * sizeof(float));
    h->w_o = malloc(dk * d * sizeof(float));
    h->description = strdup(p->description ? p->description : "trained head");
    if (!h->w_q || !h->w_k || !h->w_v || !h->w_o || !h->description) {
        attn_head_free(h);
        return ev_fail(err, EV_ERR_NOMEM, "out of memory");
    }
    memcpy(h->w_q, p->w_q, d * dk * sizeof(float));
    memcpy(h->w_k, p->w_k, d * dk * sizeof(float));
    memcpy(h->w_v, p->w_v, d * dk * sizeof(float));
    memcpy(h->w_o, p->w_o, dk * d * sizeof(float));
    h->positions = p->positions;
    h->position_scale = p->position_scale;
    h->has_position_meta = 1;
    h->exclude_self = 1; /* trained without its own key and value */
    h->candidates = p->n_cand;
    *out = h;
    return EV_OK;
}

ev_status head_builtin(const store *s, head_params **out, ev_error *err)
{
    *out = NULL;
    if (head_builtin_size == 0)
        return ev_fail(err, EV_ERR_NOTFOUND, "this embvsattn was built without a trained head (data/head.safetensors "
                       "was missing at build time)");
    head_params *p;
    ev_status st = head_load_bytes(head_builtin_data, head_builtin_size, "built-in trained head", 0, &p, err);
    if (st != EV_OK)
        return st;
    if (p->d_model != store_dim(s) || p->n_cand > store_size(s) || !p->has_fingerprint ||
        p->fingerprint != head_fingerprint(s, p->n_cand)) {
        head_params_free(p);
        return ev_fail(err, EV_ERR_NOTFOUND, "the built-in trained head was trained on other vectors (GloVe 6B 100d, "
                       "the default): use --head identity or a head trained on these vectors");
    }
    *out = p;
    return EV_OK;
}

ev_status head_builtin_attn(const store *s, attn_head **out, ev_error *err)
{
    *out = NULL;
    head_params *p;
    ev_status st = head_builtin(s, &p, err);
    if (st != EV_OK)
        return st;
    st = head_to_attn(p, out, err);
    head_params_free(p);
    return st;
}
