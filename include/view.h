/* view — the main job's one computation: a sentence's tokens, their static neighbours, the attention weights and
 * the neighbours of the contextual vectors. Renderers (text, JSON, HTML, SVG) only present a view_sentence; they
 * compute nothing.
 *
 *   text ─tok_tokenize─▶ tokens ─tok_vectors─▶ X (n, d), key mask (OOV)
 *   X ─attn_forward─▶ A (n, n), Z (n, d)  [+ X when residual]   (A alone for a head without output, no_output)
 *   [X_known ; Z] ─sim_topk (one pass over the matrix)─▶ static neighbours (n, k), context neighbours (n, k)
 */
#ifndef VIEW_H
#define VIEW_H

#include <stddef.h>

#include "attention.h"
#include "ev_error.h"
#include "explain.h"
#include "search.h"
#include "store.h"
#include "tokenizer.h"

typedef struct {
    const attn_head *head;
    attn_opts attn;      /* positions, scale, causal */
    int residual;        /* 1: the contextual vector is X + attention output (a transformer layer's residual) */
    size_t k;            /* neighbours per list */
    size_t top;          /* attention entries listed per token */
    size_t restrict_n;   /* neighbours among the first restrict_n words (0 = all) */
    size_t context_restrict; /* the same for the contextual vectors' neighbours (0 = restrict_n) */
    int predict;         /* 1: every token's predicted words (pred below); the head must be predict_supported */
    const char *mask;    /* tokens whose text is exactly this are blanks (hidden below); NULL: none */
    int context_vectors; /* for the renderers: the JSON carries each token's vector in context */
    int why;             /* 1: split the logits into meaning and position (view_sentence.why, explain.h) */
    int steps;           /* 1: keep attention's intermediate values (view_sentence.steps): the computation step by
                          * step, for the JSON's "steps" and the page */
} view_opts;

/* What the outputs say in place of the contextual neighbours of a token with nothing to attend to (no_context
 * below): the text view and compare, and the JSON's context_reason, which the pictures show. */
#define VIEW_NOTHING_TO_ATTEND "nothing to attend to"

/* What the outputs say in place of the contextual neighbours when the head has no output in the vectors' space
 * (view_sentence.no_output); printf format, arguments d_k and d_model (size_t). */
#define VIEW_NO_OUTPUT_FMT "this head has no w_o and d_k %zu \xe2\x89\xa0 %zu: its output is not in the vectors' space"

typedef struct {
    size_t n, d, k, top;
    int no_output;           /* 1: the head has no output in the vectors' space (attn_head_has_output 0): Z is NULL,
                              * self_cos 0, every context_nb row -1; only the weights A mean something */
    char *text;              /* the sentence (owned, NUL-terminated) */
    tok_sentence toks;       /* tokens, spans, lookup status */
    unsigned char *masked;   /* (n) 1 = out of vocabulary: key masked, no static vector */
    float *X;                /* (n, d) static vectors (0 for OOV) */
    float *A;                /* (n, n) attention weights, row i = token i's distribution over the tokens */
    float *Z;                /* (n, d) contextual vectors (with the residual when chosen); NULL when no_output */
    float *self_cos;         /* (n) cosine between Z row i and X row i (0 for OOV tokens and no_context ones) */
    unsigned char *no_context; /* (n) 1 = nothing to attend to: every key token i may attend to is masked (out of
                              * vocabulary, after it under causal, itself under a head that excludes itself), so
                              * its row of A is 0 and it has no contextual vector: no context neighbours (row -1),
                              * self_cos 0, even with the residual (its Z row is then its X row, unchanged) */
    sim_hit *static_nb;      /* (n, k) static neighbours (row -1 for OOV tokens), the token's own row excluded */
    sim_hit *context_nb;     /* (n, k) neighbours of Z rows, the token's own row excluded (row -1: no_context) */
    size_t *attn_top;        /* (n, top) columns token i attends to most (SIZE_MAX: none), weight descending */
    unsigned char *hidden;   /* (n) 1 = a blank (view_opts.mask): no vector, key masked (masked[i] is 1 too); under
                              * a masked-word head its query is the [MASK] input, so its row and Z row are that
                              * head's guess at the position */
    size_t n_hidden;         /* blanks in the sentence */
    size_t pk;               /* words per prediction list: PREDICT_K when any was computed, else 0 */
    sim_hit *pred;           /* (n, pk) or NULL: the head's predicted words (score = probability; row -1: none).
                              * Token i with --predict: context head, the readout of its vector in context (none
                              * for blanks, OOV and no_context tokens); masked-word head, of a [MASK] query at its
                              * position (predict.h). A blank's list is its guess: masked-word, the [MASK] query's;
                              * context, the mean of the distributions of every token that has a list */
    explain_split why;       /* with view_opts.why: the four terms of the logits and the meaning-only and
                              * position-only weights (explain.h; the same inputs and masks as A); else all 0/NULL */
    attn_steps steps;        /* with view_opts.steps: attn_forward_steps's intermediate values of A and Z (x: the
                              * input attention was given, a blank's [MASK] input included; out: before the
                              * residual, which adds X); else all 0/NULL */
} view_sentence;

/* The view options a head asks for: o.head = h, its positions and their scale when its file names them
 * (has_position_meta; else attn_opts_default), not causal, the residual when the head was trained with it
 * (h->residual); k, top and the restrictions 0. The main view starts from these and applies the user's options. */
view_opts view_opts_for_head(const attn_head *h);

/* Pass 1 of a view, the sentence's vectors in context as the main view computes them: X (n, d) and key_mask (n)
 * from tok_vectors(s, toks), then A (n, n) and Z (n, d) from attn_forward with o->head and o->attn, and Z += X
 * when o->residual (n = toks->n ≥ 1, d = store_dim(s); the buffers are the caller's, A and Z not aliasing X). A
 * token whose row of A is all zero (nothing to attend to) has Z row 0, or its X row with the residual.
 * Errors: attn_forward's. */
ev_status view_context_vectors(const store *s, const tok_sentence *toks, const view_opts *o, float *X,
                               unsigned char *key_mask, float *A, float *Z, ev_error *err);

/* Builds the view of one sentence. Errors: EV_ERR_USAGE (empty sentence; --predict or a blank's guess with a head
 * that predicts nothing is not an error: the lists are empty), EV_ERR_FORMAT (invalid UTF-8), EV_ERR_NOTFOUND (no
 * token has a vector, blanks aside), EV_ERR_NOMEM (over the token limit, out of memory). */
ev_status view_build(const store *s, const char *text, size_t len, const view_opts *o, view_sentence *out,
                     ev_error *err);

/* Static neighbours already computed, by row: they are the same in every sentence, so a run over many sentences
 * (--batch) searches each word's once. Opaque; create with view_cache_new, release with view_cache_free. */
typedef struct view_cache view_cache;

/* A cache for the store's rows; NULL when out of memory (callers then go without). */
view_cache *view_cache_new(const store *s);
void view_cache_free(view_cache *c); /* NULL-safe */
/* The bytes c holds beyond its fixed (V) slot table: its lists (0 for NULL). A long-running user (the server)
 * starts afresh past a bound. */
size_t view_cache_bytes(const view_cache *c);

/* Builds views of m sentences with their neighbour searches batched into one pass over the matrix (static
 * neighbours of a word come from cache when it has them, and are searched once per batch otherwise; cache may be
 * NULL). out (m) is filled; per-sentence failures go to errs (m) (status in errs[i].code, EV_OK on success) and do
 * not stop the others. Returns EV_ERR_NOMEM only when the batch itself could not be computed. */
ev_status view_build_many(const store *s, const char *const *texts, const size_t *lens, size_t m,
                          const view_opts *o, view_cache *cache, view_sentence *out, ev_error *errs);

/* Releases a view. NULL-safe, idempotent. */
void view_free(view_sentence *v);

/* What "in context" means under the view's head, in plain words (one sentence, for legends and the JSON head
 * object's "in_context"). */
const char *view_context_meaning(const view_opts *o);

/* The legend's lines that do not depend on the sentence. */
#define VIEW_LEGEND_QKV "Q: what this token looks for; K: what it offers to be found by; V: what it passes on."
#define VIEW_LEGEND_NO_SELF "a word never attends to itself: it was trained to find what the others add."

/* Cosine of two d-vectors (0 when either is zero). */
float view_cosine(const float *a, const float *b, size_t d);

#endif
