#include "view.h"

#include "parallel.h"
#include "predict.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void view_free(view_sentence *v)
{
    if (!v)
        return;
    free(v->text);
    tok_free(&v->toks);
    free(v->masked);
    free(v->X);
    free(v->A);
    free(v->Z);
    free(v->self_cos);
    free(v->no_context);
    free(v->static_nb);
    free(v->context_nb);
    free(v->attn_top);
    free(v->hidden);
    free(v->pred);
    explain_free(&v->why);
    attn_steps_free(&v->steps);
    memset(v, 0, sizeof *v);
}

float view_cosine(const float *a, const float *b, size_t d)
{
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < d; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    return aa > 0 && bb > 0 ? (float)(ab / sqrt(aa * bb)) : 0.0f;
}

/* The head's predicted words (view_sentence.pred): for every token with --predict, and for the blanks. */
static ev_status build_predictions(const store *s, const view_opts *o, view_sentence *v, ev_error *err)
{
    const attn_head *h = o->head;
    size_t n = v->n, d = v->d, pk = PREDICT_K, m = 0;
    v->pk = pk;
    v->pred = malloc(n * pk * sizeof *v->pred);
    size_t *rows = malloc(n * sizeof *rows);
    float *Zr = malloc(n * d * sizeof *Zr);
    unsigned char *no_key = calloc(n, 1);
    sim_hit *top = malloc(n * pk * sizeof *top);
    ev_status st = EV_OK;
    if (!v->pred || !rows || !Zr || !no_key || !top) {
        st = ev_fail(err, EV_ERR_NOMEM, "out of memory for the predictions of %zu tokens", n);
        goto done;
    }
    for (size_t i = 0; i < n * pk; i++)
        v->pred[i] = (sim_hit){-1, 0.0f};
    if (h->task == ATTN_TASK_MASKED_WORD) {
        /* a [MASK] query at each position asked for: every token (--predict), or the blanks */
        for (size_t i = 0; i < n; i++)
            if (o->predict || v->hidden[i])
                rows[m++] = i;
        if ((st = predict_mask_outputs(h, v->X, v->masked, n, &o->attn, rows, m, Zr, no_key, err)) != EV_OK ||
            (st = predict_topk(s, h, Zr, m, pk, top, err)) != EV_OK)
            goto done;
        for (size_t r = 0; r < m; r++)
            if (!no_key[r])
                memcpy(v->pred + rows[r] * pk, top + r * pk, pk * sizeof *top);
        goto done;
    }
    /* context head: the readout of each vector in context that training would use (a known token with a key) */
    for (size_t i = 0; i < n; i++)
        if (!v->masked[i] && !v->no_context[i]) {
            memcpy(Zr + m * d, v->Z + i * d, d * sizeof *Zr);
            rows[m++] = i;
        }
    if (m == 0)
        goto done;
    if (o->predict) {
        if ((st = predict_topk(s, h, Zr, m, pk, top, err)) != EV_OK)
            goto done;
        for (size_t r = 0; r < m; r++)
            memcpy(v->pred + rows[r] * pk, top + r * pk, pk * sizeof *top);
    }
    if (v->n_hidden) { /* every blank: the mean of the other tokens' distributions */
        if ((st = predict_mean_topk(s, h, Zr, m, pk, top, err)) != EV_OK)
            goto done;
        for (size_t i = 0; i < n; i++)
            if (v->hidden[i])
                memcpy(v->pred + i * pk, top, pk * sizeof *top);
    }
done:
    free(rows);
    free(Zr);
    free(no_key);
    free(top);
    return st;
}

const char *view_context_meaning(const view_opts *o)
{
    const attn_head *h = o->head;
    if (h->task == ATTN_TASK_CONTEXT && o->residual)
        return "its own vector + what it gathered from the others (the head was trained so that this predicts the "
               "sentence's missing words).";
    if (h->task == ATTN_TASK_MASKED_WORD)
        return o->residual ? "its own vector + what the head gathers for a blank at this position (a guess of the "
                             "word there)."
                           : "what the head gathers for a blank at this position: a guess of the word there, made "
                             "without the word's own vector (the head was trained to fill in hidden words).";
    if (h->kind == ATTN_HEAD_IDENTITY)
        return o->residual ? "its own vector + the average of the sentence's vectors weighted by their similarity "
                             "to it (A\xc2\xb7V)."
                           : "the average of the sentence's vectors weighted by their similarity to it "
                             "(A\xc2\xb7V): the untrained head only measures similarity inside the sentence.";
    if (h->kind == ATTN_HEAD_RANDOM)
        return o->residual ? "its own vector + a mix of the others' vectors through random projections "
                             "(A\xc2\xb7V\xc2\xb7W_O)."
                           : "a mix of the sentence's vectors through random projections (A\xc2\xb7V\xc2\xb7W_O): an "
                             "untrained baseline, its pattern is arbitrary.";
    return o->residual ? "its own vector + what it gathered from the others (the head's output)."
                       : "what it gathered from the others (the head's output, A\xc2\xb7V through W_O when it has "
                         "one): where attention moved it.";
}

view_opts view_opts_for_head(const attn_head *h)
{
    view_opts o;
    memset(&o, 0, sizeof o);
    o.head = h;
    o.attn = attn_opts_default();
    if (h->has_position_meta) {
        o.attn.positions = h->positions;
        o.attn.position_scale = h->position_scale;
    }
    o.residual = h->residual; /* a context head was trained with it */
    return o;
}

/* attn_forward of the n tokens X (d wide; queries from Xq when it is not NULL: a blank's [MASK] input), then
 * Z += X when o->residual (Z NULL: a head without output, weights only); its intermediate values in steps when it
 * is not NULL. */
static ev_status forward_residual(const view_opts *o, const float *X, const float *Xq, const unsigned char *key_mask,
                                  size_t n, size_t d, float *A, float *Z, attn_steps *steps, ev_error *err)
{
    ev_status st = attn_forward_steps(o->head, Xq ? Xq : X, key_mask, n, &o->attn, A, Z, steps, err);
    if (st != EV_OK)
        return st;
    if (o->residual && Z)
        for (size_t i = 0; i < n * d; i++)
            Z[i] += X[i];
    return EV_OK;
}

ev_status view_context_vectors(const store *s, const tok_sentence *toks, const view_opts *o, float *X,
                               unsigned char *key_mask, float *A, float *Z, ev_error *err)
{
    tok_vectors(s, toks, X, key_mask);
    return forward_residual(o, X, NULL, key_mask, toks->n, store_dim(s), A, Z, NULL, err);
}

/* Pass 1 of a view: tokens, X, attention, Z, self-cosines and the attention top list (no neighbours yet). */
static ev_status build_attention(const store *s, const char *text, size_t len, const view_opts *o,
                                 view_sentence *v, ev_error *err)
{
    memset(v, 0, sizeof *v);
    ev_status st = tok_tokenize(s, text, len, &v->toks, err);
    if (st != EV_OK)
        return st;
    size_t n = v->toks.n, d = store_dim(s);
    v->n = n;
    v->d = d;
    v->k = o->k;
    v->top = o->top;
    v->text = malloc(len + 1);
    v->masked = calloc(n, 1);
    v->X = malloc(n * d * sizeof *v->X);
    v->A = malloc(n * n * sizeof *v->A);
    v->no_output = !attn_head_has_output(o->head);
    v->Z = v->no_output ? NULL : malloc(n * d * sizeof *v->Z);
    v->self_cos = calloc(n, sizeof *v->self_cos);
    v->no_context = calloc(n, 1);
    v->static_nb = calloc(n * o->k, sizeof *v->static_nb);
    v->context_nb = calloc(n * o->k, sizeof *v->context_nb);
    v->attn_top = malloc((n * o->top + 1) * sizeof *v->attn_top);
    v->hidden = calloc(n, 1);
    if (!v->text || !v->masked || !v->X || !v->A || (!v->Z && !v->no_output) || !v->self_cos || !v->no_context ||
        !v->static_nb || !v->context_nb || !v->attn_top || !v->hidden)
        return ev_fail(err, EV_ERR_NOMEM, "out of memory for a sentence of %zu tokens", n);
    memcpy(v->text, text, len);
    v->text[len] = '\0';
    tok_vectors(s, &v->toks, v->X, v->masked);
    size_t known = 0, mlen = o->mask ? strlen(o->mask) : 0;
    for (size_t i = 0; i < n; i++) {
        const tok_token *t = &v->toks.tokens[i];
        if (o->mask && t->len == mlen && memcmp(t->text, o->mask, mlen) == 0) { /* a blank: no vector */
            v->hidden[i] = v->masked[i] = 1;
            memset(v->X + i * d, 0, d * sizeof *v->X);
            v->n_hidden++;
        }
        known += !v->masked[i];
    }
    if (known == 0)
        return ev_fail(err, EV_ERR_NOTFOUND, "none of the %zu token%s of the sentence has a vector (all out of "
                       "vocabulary%s)", n, n == 1 ? "" : "s", v->n_hidden ? " or blanks" : "");
    /* under a masked-word head a blank's query is the [MASK] input (its key stays masked) */
    const attn_head *h = o->head;
    float *xin = NULL;
    if (v->n_hidden && h->task == ATTN_TASK_MASKED_WORD && h->train_mask && h->d_model == d) {
        if (!(xin = malloc(n * d * sizeof *xin)))
            return ev_fail(err, EV_ERR_NOMEM, "out of memory for a sentence of %zu tokens", n);
        memcpy(xin, v->X, n * d * sizeof *xin);
        for (size_t i = 0; i < n; i++)
            if (v->hidden[i])
                memcpy(xin + i * d, h->train_mask, d * sizeof *xin);
    }
    st = forward_residual(o, v->X, xin, v->masked, n, d, v->A, v->Z, o->steps ? &v->steps : NULL, err);
    if (st == EV_OK && o->why)
        st = explain_compute(h, v->X, xin, v->masked, n, &o->attn, &v->why, err);
    free(xin);
    if (st != EV_OK)
        return st;
    for (size_t i = 0; i < n; i++) {
        /* a row of zeros: attention gave every key 0 because none was allowed (softmax's maximum has weight > 0) */
        v->no_context[i] = 1;
        for (size_t j = 0; j < n && v->no_context[i]; j++)
            v->no_context[i] = !(v->A[i * n + j] > 0);
        if (!v->masked[i] && !v->no_context[i] && v->Z)
            v->self_cos[i] = view_cosine(v->Z + i * d, v->X + i * d, d);
        /* the top columns of row i: a selection of `top` by weight, ties by lower column; masked and zero
         * weights never listed */
        const float *a = v->A + i * n;
        size_t *t = v->attn_top + i * o->top;
        for (size_t r = 0; r < o->top; r++)
            t[r] = SIZE_MAX;
        for (size_t j = 0; j < n; j++) {
            if (v->masked[j] || !(a[j] > 0))
                continue;
            size_t r = o->top;
            while (r > 0 && (t[r - 1] == SIZE_MAX || a[t[r - 1]] < a[j]))
                r--;
            if (r == o->top)
                continue;
            memmove(t + r + 1, t + r, (o->top - r - 1) * sizeof *t);
            t[r] = j;
        }
    }
    if ((o->predict || v->n_hidden) && predict_supported(h, s))
        return build_predictions(s, o, v, err);
    return EV_OK;
}

struct view_cache {
    size_t V, k, restrict_n;   /* the settings the cached lists were computed with */
    int32_t *slot;             /* (V) index into hits of a row's list, -1 when not cached */
    sim_hit *hits;             /* (n, k) */
    size_t n, cap;
};

view_cache *view_cache_new(const store *s)
{
    view_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->V = store_size(s);
    c->slot = malloc(c->V * sizeof *c->slot);
    if (!c->slot) {
        free(c);
        return NULL;
    }
    memset(c->slot, 0xff, c->V * sizeof *c->slot);
    return c;
}

void view_cache_free(view_cache *c)
{
    if (!c)
        return;
    free(c->slot);
    free(c->hits);
    free(c);
}

size_t view_cache_bytes(const view_cache *c) { return c ? c->cap * c->k * sizeof *c->hits : 0; }

/* Makes room for one more list; returns its index, or -1 (then the caller searches without caching). */
static long cache_add(view_cache *c, size_t row)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        if (cap > (size_t)INT32_MAX)
            return -1;
        sim_hit *h = realloc(c->hits, cap * c->k * sizeof *h);
        if (!h)
            return -1;
        c->hits = h;
        c->cap = cap;
    }
    c->slot[row] = (int32_t)c->n;
    return (long)c->n++;
}

/* Pass 1 of view_build_many over sentences [lo, hi), for parallel_for. */
typedef struct {
    const store *s;
    const char *const *texts;
    const size_t *lens;
    const view_opts *o;
    view_sentence *out;
    ev_error *errs;
} build_job;

static void build_range(void *ctx, size_t lo, size_t hi, int tid)
{
    (void)tid;
    build_job *j = ctx;
    for (size_t i = lo; i < hi; i++) {
        ev_error_clear(&j->errs[i]);
        if (build_attention(j->s, j->texts[i], j->lens[i], j->o, &j->out[i], &j->errs[i]) != EV_OK)
            view_free(&j->out[i]);
    }
}

ev_status view_build_many(const store *s, const char *const *texts, const size_t *lens, size_t m,
                          const view_opts *o, view_cache *cache, view_sentence *out, ev_error *errs)
{
    size_t d = store_dim(s), q = 0, k = o->k;
    if (cache && (cache->k != k || cache->restrict_n != o->restrict_n)) { /* new settings: start afresh */
        memset(cache->slot, 0xff, cache->V * sizeof *cache->slot);
        cache->n = 0;
        cache->k = k;
        cache->restrict_n = o->restrict_n;
        free(cache->hits);
        cache->hits = NULL;
        cache->cap = 0;
    }
    /* pass 1, each sentence on its own: on all cores when there are several */
    build_job job = {s, texts, lens, o, out, errs};
    parallel_for_own_blas(m >= 4 ? parallel_default_threads() : 1, m, build_range, &job);
    for (size_t i = 0; i < m; i++)
        if (errs[i].code == EV_OK)
            q += (out[i].no_output ? 0 : out[i].n) + out[i].toks.n_known; /* contextual and static queries */
    if (q == 0)
        return EV_OK;
    /* One neighbour search for everything: the static vectors of known tokens not in the cache (each row once),
     * then every contextual vector. */
    float *Q = malloc(q * d * sizeof *Q);
    long *excl = malloc(q * sizeof *excl);
    sim_hit *hits = malloc(q * k * sizeof *hits);
    long *src = malloc(q * sizeof *src);   /* per static query: the cache list it fills, or -1 */
    long *from = malloc(q * sizeof *from); /* per known token: its query (< q), a stored list pre[from - q] (≥ q)
                                            * or cache list -1-from (< 0) */
    sim_hit *pre = malloc(q * k * sizeof *pre); /* stored lists, when there is no cache */
    size_t npre = 0;
    ev_error err = {0};
    ev_status st = EV_OK;
    if (!Q || !excl || !hits || !src || !from || !pre) {
        st = EV_ERR_NOMEM;
        goto done;
    }
    size_t r = 0, u = 0, n_static;
    for (size_t i = 0; i < m; i++) {
        view_sentence *v = &out[i];
        for (size_t t = 0; t < v->n; t++) {
            if (v->masked[t])
                continue;
            long row = v->toks.tokens[t].row;
            if (row < 0) { /* a subword token (fastText n-grams): its vector is searched, never cached */
                src[r] = -1;
                from[u++] = (long)r;
                memcpy(Q + r * d, v->X + t * d, d * sizeof *Q);
                excl[r++] = -1;
                continue;
            }
            if (cache && cache->slot[row] >= 0) { /* cached, or already queued in this batch */
                from[u++] = -1 - (long)cache->slot[row];
                continue;
            }
            long c = cache ? cache_add(cache, (size_t)row) : -1;
            sim_hit *into = c >= 0 ? cache->hits + (size_t)c * k : pre + npre * k;
            if (sim_listed_neighbors(s, row, k, o->restrict_n, into)) { /* the cache's stored list answers */
                from[u++] = c >= 0 ? -1 - c : (long)(q + npre++);
                continue;
            }
            src[r] = c; /* searched below; the cache's slot is filled after the search */
            from[u++] = (long)r;
            memcpy(Q + r * d, v->X + t * d, d * sizeof *Q);
            excl[r++] = row;
        }
    }
    n_static = r;
    for (size_t i = 0; i < m; i++) {
        view_sentence *v = &out[i];
        for (size_t t = 0; !v->no_output && t < v->n; t++) {
            memcpy(Q + r * d, v->Z + t * d, d * sizeof *Q);
            excl[r++] = v->masked[t] ? -1 : v->toks.tokens[t].row;
        }
    }
    size_t ctx_restrict = o->context_restrict ? o->context_restrict : o->restrict_n;
    if (ctx_restrict == o->restrict_n) /* one pass over the matrix for both */
        st = sim_topk(s, Q, r, k, o->restrict_n, excl, 1, hits, &err);
    else if ((st = n_static ? sim_topk(s, Q, n_static, k, o->restrict_n, excl, 1, hits, &err) : EV_OK) == EV_OK)
        st = sim_topk(s, Q + n_static * d, r - n_static, k, ctx_restrict, excl + n_static, 1, hits + n_static * k,
                      &err);
    if (st != EV_OK) {
        for (size_t j = 0; cache && j < n_static; j++) /* forget the lists this batch promised (their entries stay
                                                        * allocated, unused) */
            if (src[j] >= 0)
                cache->slot[excl[j]] = -1;
        for (size_t i = 0; i < m; i++)
            if (out[i].n) {
                ev_fail(&errs[i], err.code, "%s", err.msg ? err.msg : "neighbour search failed");
                view_free(&out[i]);
            }
        goto done;
    }
    for (size_t j = 0; j < n_static; j++)
        if (src[j] >= 0)
            memcpy(cache->hits + (size_t)src[j] * k, hits + j * k, k * sizeof *hits);
    /* Distribute: static lists from this search or the cache, then context lists. */
    u = 0;
    size_t c = n_static;
    for (size_t i = 0; i < m; i++) {
        view_sentence *v = &out[i];
        for (size_t t = 0; t < v->n * k; t++)
            v->static_nb[t].row = -1;
        for (size_t t = 0; t < v->n; t++) {
            if (v->masked[t])
                continue;
            long f = from[u++];
            const sim_hit *h = f >= (long)q   ? pre + (size_t)(f - (long)q) * k
                               : f >= 0 ? hits + (size_t)f * k
                                        : cache->hits + (size_t)(-1 - f) * k;
            memcpy(v->static_nb + t * k, h, k * sizeof *hits);
        }
        if (v->no_output) { /* no contextual vectors, none searched */
            for (size_t t = 0; t < v->n * k; t++)
                v->context_nb[t].row = -1;
            continue;
        }
        for (size_t t = 0; t < v->n; t++, c++) {
            memcpy(v->context_nb + t * k, hits + c * k, k * sizeof *hits);
            /* no contextual vector: the search of its zero (or unchanged) row answered nothing worth showing; it stays
             * in the search so that the other queries are computed as they always are */
            for (size_t j = 0; v->no_context[t] && j < k; j++)
                v->context_nb[t * k + j].row = -1;
        }
    }
done:
    ev_error_clear(&err);
    free(Q);
    free(excl);
    free(hits);
    free(src);
    free(from);
    free(pre);
    return st == EV_ERR_NOMEM ? st : EV_OK;
}

ev_status view_build(const store *s, const char *text, size_t len, const view_opts *o, view_sentence *out,
                     ev_error *err)
{
    ev_error e = {0};
    ev_status st = view_build_many(s, &text, &len, 1, o, NULL, out, &e);
    if (st == EV_OK && e.code != EV_OK)
        st = e.code;
    if (st != EV_OK) {
        if (e.msg)
            ev_fail(err, st, "%s", e.msg);
        else
            ev_fail(err, st, "out of memory building the view");
        view_free(out);
    }
    ev_error_clear(&e);
    return st;
}
