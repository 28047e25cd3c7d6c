#include "render_json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include "jsonstr.h"
#include "numparse.h"

cJSON *render_json_float(float f)
{
    if (!isfinite(f)) /* a NaN or infinity mapped from a damaged cache: JSON has no such number */
        return cJSON_CreateNull();
    char buf[32];
    numparse_format_float(f, buf);
    return cJSON_CreateRaw(buf);
}

int render_json_add_word(cJSON *obj, const char *key, const store *s, long row)
{
    size_t l;
    const char *w = store_word(s, (size_t)row, &l);
    return jsonstr_add(obj, key, w, l);
}

cJSON *render_json_hits(const store *s, const sim_hit *h, size_t k)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t j = 0; a && j < k && h[j].row >= 0; j++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddItemToArray(a, e);
        render_json_add_word(e, "word", s, h[j].row);
        cJSON_AddItemToObject(e, "similarity", render_json_float(h[j].score));
    }
    return a;
}

/* A float as JSON at o (room for 32 bytes): the shortest decimal that reads back to it, or null when it is not
 * finite (as render_json_float). Returns the bytes written, not counting the NUL after them. */
static size_t put_json_float(char *o, float f)
{
    if (isfinite(f))
        return (size_t)numparse_format_float(f, o);
    memcpy(o, "null", 5);
    return 4;
}

/* render_json_hits's list already printed, as a raw item (NULL when a word needs more than its bytes copied:
 * escapes, or a "word_bytes" for bytes that are not UTF-8): what cJSON_PrintUnformatted writes for that list. */
static cJSON *hits_raw(const store *s, const sim_hit *h, size_t k)
{
    size_t cap = 64, len = 0;
    for (size_t j = 0; j < k && h[j].row >= 0; j++) {
        size_t l;
        store_word(s, (size_t)h[j].row, &l);
        cap += l + 64;
    }
    char *buf = malloc(cap), *o = buf;
    if (!buf)
        return NULL;
    *o++ = '[';
    for (size_t j = 0; j < k && h[j].row >= 0; j++) {
        size_t l;
        const char *w = store_word(s, (size_t)h[j].row, &l);
        for (size_t c = 0; c < l; c++)
            if ((unsigned char)w[c] < 0x20 || w[c] == '"' || w[c] == '\\') {
                free(buf);
                return NULL;
            }
        if (!jsonstr_valid(w, l)) {
            free(buf);
            return NULL;
        }
        o += sprintf(o, "%s{\"word\":\"", j ? "," : "");
        memcpy(o, w, l);
        o += l;
        memcpy(o, "\",\"similarity\":", 15);
        o += 15;
        o += put_json_float(o, h[j].score);
        *o++ = '}';
    }
    *o++ = ']';
    *o = '\0';
    len = (size_t)(o - buf);
    (void)len;
    cJSON *r = cJSON_CreateRaw(buf);
    free(buf);
    return r;
}

cJSON *render_json_attention(const view_sentence *v, size_t i)
{
    cJSON *a = cJSON_CreateArray();
    const size_t *top = v->attn_top + i * v->top;
    for (size_t j = 0; a && j < v->top && top[j] != SIZE_MAX; j++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddItemToArray(a, e);
        cJSON_AddNumberToObject(e, "index", (double)top[j]);
        jsonstr_add_cstr(e, "token", v->toks.tokens[top[j]].text);
        cJSON_AddItemToObject(e, "weight", render_json_float(v->A[i * v->n + top[j]]));
    }
    return a;
}

cJSON *render_json_predictions(const store *s, const view_sentence *v, size_t i)
{
    cJSON *a = cJSON_CreateArray();
    const sim_hit *h = v->pred ? v->pred + i * v->pk : NULL;
    for (size_t j = 0; a && h && j < v->pk && h[j].row >= 0; j++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddItemToArray(a, e);
        render_json_add_word(e, "word", s, h[j].row);
        cJSON_AddItemToObject(e, "p", render_json_float(h[j].score));
    }
    return a;
}

cJSON *render_json_head(const view_opts *o)
{
    const attn_head *h = o->head;
    static const char *kinds[] = {"identity", "random", "file"};
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "kind", kinds[h->kind]);
    jsonstr_add_cstr(j, "description", h->description);
    cJSON_AddNumberToObject(j, "d_model", (double)h->d_model);
    cJSON_AddNumberToObject(j, "d_k", (double)h->d_k);
    cJSON_AddBoolToObject(j, "w_o", h->w_o != NULL);
    cJSON_AddStringToObject(j, "positions", attn_positions_name(o->attn.positions));
    cJSON_AddItemToObject(j, "position_scale", render_json_float(o->attn.position_scale));
    cJSON_AddBoolToObject(j, "causal", o->attn.causal);
    cJSON_AddBoolToObject(j, "residual", o->residual);
    cJSON_AddNumberToObject(j, "context_restrict",
                            (double)(o->context_restrict ? o->context_restrict : o->restrict_n));
    static const char *tasks[] = {"none", "masked-word", "context"};
    cJSON_AddStringToObject(j, "task", tasks[h->task]);
    cJSON_AddBoolToObject(j, "exclude_self", h->exclude_self);
    cJSON_AddStringToObject(j, "in_context", view_context_meaning(o));
    return j;
}

int render_json_context_note(cJSON *obj, const attn_head *h)
{
    if (attn_head_has_output(h))
        return 0;
    char *note = ev_strdup_printf(VIEW_NO_OUTPUT_FMT, h->d_k, h->d_model);
    int r = note ? jsonstr_add_cstr(obj, "context_note", note) : -1;
    free(note);
    return r;
}

cJSON *render_json_vectors(const store *s, const char *vectors_path)
{
    cJSON *j = cJSON_CreateObject();
    jsonstr_add_cstr(j, "path", vectors_path);
    cJSON_AddNumberToObject(j, "words", (double)store_size(s));
    cJSON_AddNumberToObject(j, "dim", (double)store_dim(s));
    return j;
}

/* ---- the meaning/position split (explain.h) ----------------------------------------------------------------- */

/* A rows×cols matrix as rows of numbers; entries not allowed (allowed NULL: all allowed) as null. */
static cJSON *json_rows(const float *m, const unsigned char *allowed, size_t rows, size_t cols)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < rows; i++) {
        cJSON *row = cJSON_CreateArray();
        cJSON_AddItemToArray(a, row);
        for (size_t j = 0; row && j < cols; j++)
            cJSON_AddItemToArray(row, !allowed || allowed[i * cols + j] ? render_json_float(m[i * cols + j])
                                                                        : cJSON_CreateNull());
    }
    return a;
}

/* An n×n matrix as rows of numbers; entries the weights do not allow (allowed NULL: all allowed) as null. */
static cJSON *json_matrix(const float *m, const unsigned char *allowed, size_t n)
{
    return json_rows(m, allowed, n, n);
}

cJSON *render_json_why(const view_sentence *v)
{
    const explain_split *e = &v->why;
    size_t n = e->n, nn = n * n;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    for (int t = 0; t < EXPLAIN_NTERMS; t++)
        cJSON_AddItemToObject(o, explain_term_name((explain_term)t), json_matrix(e->terms + (size_t)t * nn,
                                                                                 e->allowed, n));
    cJSON_AddItemToObject(o, "meaning", json_matrix(e->meaning, NULL, n));
    cJSON_AddItemToObject(o, "position", json_matrix(e->position, NULL, n));
    return o;
}

/* ---- the computation step by step (attention.h, attn_steps) ------------------------------------------------- */

cJSON *render_json_steps(const view_sentence *v, const view_opts *o)
{
    const attn_steps *st = &v->steps;
    size_t n = st->n, dm = st->d_model, dk = st->d_k;
    cJSON *j = cJSON_CreateObject();
    if (!j)
        return NULL;
    cJSON_AddItemToObject(j, "x", json_rows(st->x, NULL, n, dm));
    if (st->pos)
        cJSON_AddItemToObject(j, "positions", json_rows(st->pos, NULL, n, dm));
    cJSON_AddItemToObject(j, "q", json_rows(st->q, NULL, n, dk));
    cJSON_AddItemToObject(j, "k", json_rows(st->k, NULL, n, dk));
    cJSON_AddItemToObject(j, "v", json_rows(st->v, NULL, n, dk));
    cJSON_AddItemToObject(j, "scale", render_json_float(1.0f / sqrtf((float)dk)));
    cJSON_AddItemToObject(j, "scores", json_matrix(st->scores, st->allowed, n));
    cJSON_AddItemToObject(j, "weighted", json_rows(st->av, NULL, n, dk));
    cJSON_AddItemToObject(j, "output", st->out ? json_rows(st->out, NULL, n, dm) : cJSON_CreateNull());
    cJSON_AddBoolToObject(j, "residual", o->residual && st->out);
    if (o->residual && st->out && v->Z)
        cJSON_AddItemToObject(j, "context", json_rows(v->Z, NULL, n, dm));
    return j;
}

static cJSON *view_doc(const store *s, const view_sentence *v, const view_opts *o, const char *vectors_path, int raw);

cJSON *render_json_view(const store *s, const view_sentence *v, const view_opts *o, const char *vectors_path)
{
    return view_doc(s, v, o, vectors_path, 0);
}

cJSON *render_json_view_print(const store *s, const view_sentence *v, const view_opts *o, const char *vectors_path)
{
    return view_doc(s, v, o, vectors_path, 1);
}

/* n floats as the text cJSON prints for an array of render_json_float items ([a,b,…], null for a non-finite one),
 * as one raw item; NULL when out of memory. */
static cJSON *floats_raw(const float *x, size_t n)
{
    char *buf = malloc(n * 33 + 3), *o = buf;
    if (!buf)
        return NULL;
    *o++ = '[';
    for (size_t j = 0; j < n; j++) {
        if (j)
            *o++ = ',';
        o += put_json_float(o, x[j]);
    }
    *o++ = ']';
    *o = '\0';
    cJSON *r = cJSON_CreateRaw(buf);
    free(buf);
    return r;
}

/* A neighbour list: raw text when asked and possible, else cJSON items. */
static cJSON *hits(const store *s, const sim_hit *h, size_t k, int raw)
{
    cJSON *r = raw ? hits_raw(s, h, k) : NULL;
    return r ? r : render_json_hits(s, h, k);
}

static cJSON *view_doc(const store *s, const view_sentence *v, const view_opts *o, const char *vectors_path, int raw)
{
    size_t n = v->n, k = v->k;
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    jsonstr_add_cstr(root, "sentence", v->text);
    cJSON *toks = cJSON_AddArrayToObject(root, "tokens");
    for (size_t i = 0; toks && i < n; i++) {
        const tok_token *t = &v->toks.tokens[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddItemToArray(toks, e);
        cJSON_AddNumberToObject(e, "index", (double)i);
        jsonstr_add_cstr(e, "text", t->text);
        cJSON *span = cJSON_AddArrayToObject(e, "span");
        cJSON_AddItemToArray(span, cJSON_CreateNumber((double)t->begin));
        cJSON_AddItemToArray(span, cJSON_CreateNumber((double)t->end));
        cJSON_AddStringToObject(e, "status", tok_status_name(t->status));
        if (t->row >= 0) { /* oov and subword tokens have no vocabulary word */
            render_json_add_word(e, "word", s, t->row);
            if (t->fallback)
                jsonstr_add_cstr(e, "fallback", t->fallback);
        }
        cJSON_AddItemToObject(e, "static_neighbors",
                              t->status == TOK_OOV ? cJSON_CreateArray() : hits(s, v->static_nb + i * k, k, raw));
        cJSON_AddItemToObject(e, "attention", render_json_attention(v, i));
        cJSON_AddItemToObject(e, "context_neighbors",
                              v->no_output ? cJSON_CreateNull() : hits(s, v->context_nb + i * k, k, raw));
        if (v->no_context[i] && !v->no_output)
            cJSON_AddStringToObject(e, "context_reason", VIEW_NOTHING_TO_ATTEND);
        if (!v->masked[i] && !v->no_context[i] && !v->no_output)
            cJSON_AddItemToObject(e, "context_self_similarity", render_json_float(v->self_cos[i]));
        else
            cJSON_AddNullToObject(e, "context_self_similarity");
        if (v->hidden && v->hidden[i])
            cJSON_AddBoolToObject(e, "hidden", 1);
        if (o->predict)
            cJSON_AddItemToObject(e, "predictions", render_json_predictions(s, v, i));
        if (o->context_vectors) {
            cJSON *cv = cJSON_AddArrayToObject(e, "context_vector");
            for (size_t c = 0; cv && c < v->d; c++)
                cJSON_AddItemToArray(cv, render_json_float(v->Z[i * v->d + c]));
        }
    }
    if (v->n_hidden) {
        cJSON *mk = cJSON_AddArrayToObject(root, "mask");
        for (size_t i = 0; mk && i < n; i++) {
            if (!v->hidden[i])
                continue;
            cJSON *e = cJSON_CreateObject();
            cJSON_AddItemToArray(mk, e);
            cJSON_AddNumberToObject(e, "index", (double)i);
            jsonstr_add_cstr(e, "text", v->toks.tokens[i].text);
            cJSON_AddItemToObject(e, "predictions", render_json_predictions(s, v, i));
        }
    }
    cJSON *w = cJSON_AddArrayToObject(root, "weights");
    for (size_t i = 0; w && i < n; i++) {
        cJSON *row = raw ? floats_raw(v->A + i * n, n) : NULL;
        if (row) {
            cJSON_AddItemToArray(w, row);
            continue;
        }
        row = cJSON_CreateArray();
        cJSON_AddItemToArray(w, row);
        for (size_t j = 0; row && j < n; j++)
            cJSON_AddItemToArray(row, render_json_float(v->A[i * n + j]));
    }
    if (v->why.terms)
        cJSON_AddItemToObject(root, "why", render_json_why(v));
    if (v->steps.x)
        cJSON_AddItemToObject(root, "steps", render_json_steps(v, o));
    render_json_context_note(root, o->head);
    cJSON_AddItemToObject(root, "head", render_json_head(o));
    cJSON_AddItemToObject(root, "vectors", render_json_vectors(s, vectors_path));
    return root;
}

cJSON *render_json_error(size_t line, const char *message, int code)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "line", (double)line);
    jsonstr_add_cstr(e, "error", message ? message : "error");
    cJSON_AddNumberToObject(e, "code", code);
    return e;
}
