/* head_file — the head file format's reader and writer, the --head value, the vectors' fingerprint and the built-in
 * head (head_file.h). */
#define _POSIX_C_SOURCE 200809L
#include "head_file.h"

#include <cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numparse.h"
#include "outfile.h"
#include "safetensors.h"
#include "util.h"
#include "version.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "head files are little-endian; this build assumes a little-endian host"
#endif

#define HEAD_MAX_HEADER_BYTES ((size_t)1 << 20) /* a real header is a few hundred bytes */
#define HEAD_ALIGN 8
#define HEAD_MAX_TRAIN_TENSORS 8
#define FINGERPRINT_STRIDE 100 /* every 100th candidate row's floats enter the fingerprint */

enum { T_Q, T_K, T_V, T_O, T_MASK, T_BIAS, T_SCALE, T_COUNT };
static const char *const TENSOR_NAMES[T_COUNT] = {"w_q", "w_k", "w_v", "w_o", "train_mask", "train_bias",
                                                  "train_scale"};

/* The head file's tensors, for the safetensors validator: w_q w_k w_v, w_o (optional), train_* (training state). */
static const st_expect HEAD_TENSORS[] = {
    {"w_q", "F32", 2}, {"w_k", "F32", 2}, {"w_v", "F32", 2}, {"w_o", "F32", 2}, {"train_*", "F32", 2}};
static const st_format HEAD_FORMAT = {
    .kind = "head",
    .format = "embvsattn-head",
    .version = "1",
    .max_header = HEAD_MAX_HEADER_BYTES,
    .max_tensors = 4 + HEAD_MAX_TRAIN_TENSORS + 1, /* and __metadata__ */
    .min_dim = 1,
    .max_dim = INT_MAX,
    .tensors = HEAD_TENSORS,
    .n_tensors = sizeof HEAD_TENSORS / sizeof HEAD_TENSORS[0],
    .max_wildcard = HEAD_MAX_TRAIN_TENSORS,
    .others = 0,
    .aligned = 0, /* the values are copied out: a file whose writer did not pad its header is read too */
    .contents = "a head has w_q, w_k, w_v and optionally w_o; no biases; training-only tensors are named train_*"};

/* ==== reading =============================================================================================== */

/* Copies tensor t's values to dst, checking every one is finite. */
static ev_status take_tensor(const st_tensor *t, float *dst, const char *path, ev_error *err)
{
    memcpy(dst, t->data, t->count * sizeof *dst);
    for (size_t i = 0; i < t->count; i++)
        if (!isfinite(dst[i]))
            return ev_fail(err, EV_ERR_FORMAT, "%s: %s[%zu][%zu] is %s, expected a finite number", path, t->name,
                           i / t->shape[1], i % t->shape[1], isnan(dst[i]) ? "NaN" : "infinite");
    return EV_OK;
}

/* The metadata that describes the head (st_open checked that it is an object of strings, and its format); the
 * description's text in *desc (the metadata's). */
static ev_status read_meta(const cJSON *meta, const char *path, attn_head *h, size_t *candidates, const char **desc,
                           ev_error *err)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, meta)
    {
        const char *k = it->string, *v = it->valuestring;
        if (strcmp(k, "positions") == 0) {
            if (strcmp(v, "none") == 0)
                h->positions = ATTN_POS_NONE;
            else if (strcmp(v, "sinusoidal") == 0)
                h->positions = ATTN_POS_SINUSOIDAL;
            else
                return ev_fail(err, EV_ERR_FORMAT,
                               "%s: __metadata__.positions is '%s', expected 'none' or 'sinusoidal'", path, v);
            h->has_position_meta = 1;
        } else if (strcmp(k, "position_scale") == 0) {
            float f;
            if (numparse_float(v, v + strlen(v), &f) != NUMPARSE_OK || !(f >= 0))
                return ev_fail(err, EV_ERR_FORMAT,
                               "%s: __metadata__.position_scale is '%s', expected a finite number ≥ 0", path, v);
            h->position_scale = f;
        } else if (strcmp(k, "self_attention") == 0) {
            if (strcmp(v, "excluded") != 0 && strcmp(v, "included") != 0)
                return ev_fail(err, EV_ERR_FORMAT,
                               "%s: __metadata__.self_attention is '%s', expected 'included' or 'excluded'", path, v);
            h->exclude_self = strcmp(v, "excluded") == 0;
        } else if (strcmp(k, "candidates") == 0) {
            char *end;
            errno = 0;
            unsigned long long c = strtoull(v, &end, 10);
            if (!*v || *end || errno || v[0] == '-' || c == 0 || c > INT_MAX)
                return ev_fail(err, EV_ERR_FORMAT, "%s: __metadata__.candidates is '%s', expected a word count from 1 "
                               "to %d", path, v, INT_MAX);
            *candidates = (size_t)c;
        } else if (strcmp(k, "vectors_fingerprint") == 0) {
            char *end;
            errno = 0;
            unsigned long long f = strtoull(v, &end, 16);
            if (strlen(v) != 16 || *end || errno || v[0] == '-' || v[0] == '+' || v[0] == ' ')
                return ev_fail(err, EV_ERR_FORMAT, "%s: __metadata__.vectors_fingerprint is '%s', expected 16 "
                               "hexadecimal digits", path, v);
            h->fingerprint = (uint64_t)f;
            h->has_fingerprint = 1;
        } else if (strcmp(k, "task") == 0) {
            if (strcmp(v, "masked-word") == 0)
                h->task = ATTN_TASK_MASKED_WORD;
            else if (strcmp(v, "context") == 0)
                h->task = ATTN_TASK_CONTEXT;
            else
                return ev_fail(err, EV_ERR_FORMAT, "%s: __metadata__.task is '%s', expected 'masked-word' or "
                               "'context'", path, v);
        } else if (strcmp(k, "residual") == 0) {
            if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0)
                return ev_fail(err, EV_ERR_FORMAT, "%s: __metadata__.residual is '%s', expected 'on' or 'off'", path,
                               v);
            h->residual = strcmp(v, "on") == 0;
        } else if (strcmp(k, "description") == 0)
            *desc = v;
    }
    return EV_OK;
}

ev_status head_file_load_bytes(const unsigned char *buf, size_t size, const char *path, size_t d_model_expected,
                               attn_head **out, ev_error *err)
{
    *out = NULL;
    ev_status st;
    attn_head *h = NULL;
    /* 1. the safetensors checks: header, JSON, metadata format, every tensor's dtype, shape and bytes */
    st_file f;
    if ((st = st_open(buf, size, &HEAD_FORMAT, path, &f, err)) != EV_OK)
        return st;
    /* 2. w_q, w_k, w_v present; the tensors tile the data */
    const st_tensor *t[T_COUNT] = {NULL};
    for (int i = 0; i < T_O; i++)
        if ((st = st_require(&f, &HEAD_FORMAT, TENSOR_NAMES[i], path, &t[i], err)) != EV_OK)
            goto fail;
    for (int i = T_O; i < T_COUNT; i++)
        t[i] = st_get(&f, TENSOR_NAMES[i]);
    if ((st = st_check_tiling(&f, path, err)) != EV_OK)
        goto fail;
    /* 3. shapes agree */
    size_t d_model = t[T_Q]->shape[0], d_k = t[T_Q]->shape[1];
    for (int i = T_K; i <= T_V; i++)
        if (t[i]->shape[0] != d_model || t[i]->shape[1] != d_k) {
            st = ev_fail(err, EV_ERR_FORMAT, "%s: %s has shape [%zu, %zu], expected [%zu, %zu] like w_q "
                         "([d_model, d_k])", path, TENSOR_NAMES[i], t[i]->shape[0], t[i]->shape[1], d_model, d_k);
            goto fail;
        }
    if (t[T_O] && (t[T_O]->shape[0] != d_k || t[T_O]->shape[1] != d_model)) {
        st = ev_fail(err, EV_ERR_FORMAT, "%s: w_o has shape [%zu, %zu], expected [d_k, d_model] = [%zu, %zu]", path,
                     t[T_O]->shape[0], t[T_O]->shape[1], d_k, d_model);
        goto fail;
    }
    if (t[T_MASK] && (t[T_MASK]->shape[0] != 1 || t[T_MASK]->shape[1] != d_model)) {
        st = ev_fail(err, EV_ERR_FORMAT, "%s: train_mask has shape [%zu, %zu], expected [1, d_model] = [1, %zu]",
                     path, t[T_MASK]->shape[0], t[T_MASK]->shape[1], d_model);
        goto fail;
    }
    if (t[T_SCALE] && (t[T_SCALE]->shape[0] != 1 || t[T_SCALE]->shape[1] != 1)) {
        st = ev_fail(err, EV_ERR_FORMAT, "%s: train_scale has shape [%zu, %zu], expected [1, 1]", path,
                     t[T_SCALE]->shape[0], t[T_SCALE]->shape[1]);
        goto fail;
    }
    if (t[T_BIAS] && t[T_BIAS]->shape[0] != 1) {
        st = ev_fail(err, EV_ERR_FORMAT, "%s: train_bias has shape [%zu, %zu], expected [1, candidates]", path,
                     t[T_BIAS]->shape[0], t[T_BIAS]->shape[1]);
        goto fail;
    }
    if (d_model_expected && d_model != d_model_expected) {
        st = ev_fail(err, EV_ERR_FORMAT, "%s: the head is for vectors of dimension %zu (w_q is [%zu, %zu]), the "
                     "vectors have dimension %zu", path, d_model, d_model, d_k, d_model_expected);
        goto fail;
    }
    /* 4. values and metadata */
    size_t n_bias = t[T_BIAS] ? t[T_BIAS]->shape[1] : 0, candidates = 0;
    if ((st = attn_head_new(ATTN_HEAD_FILE, d_model, d_k, t[T_O] != NULL, t[T_MASK] != NULL, n_bias,
                            t[T_SCALE] != NULL, &h, err)) != EV_OK)
        goto fail;
    float *dst[T_COUNT] = {h->w_q, h->w_k, h->w_v, h->w_o, h->train_mask, h->train_bias, h->train_scale};
    for (int i = 0; i < T_COUNT; i++)
        if (t[i] && (st = take_tensor(t[i], dst[i], path, err)) != EV_OK)
            goto fail;
    const char *desc = NULL;
    if ((st = read_meta(f.meta, path, h, &candidates, &desc, err)) != EV_OK)
        goto fail;
    if (n_bias && candidates && candidates != n_bias) {
        st = ev_fail(err, EV_ERR_FORMAT, "%s: train_bias has %zu values, __metadata__.candidates says %zu", path,
                     n_bias, candidates);
        goto fail;
    }
    if (!n_bias)
        h->candidates = candidates;
    if (h->task == ATTN_TASK_NONE && h->train_mask) /* written before heads named their task */
        h->task = ATTN_TASK_MASKED_WORD;
    if (h->task == ATTN_TASK_CONTEXT && (!h->w_o || !h->train_bias || !h->train_scale)) {
        st = ev_fail(err, EV_ERR_FORMAT, "%s: a context head (__metadata__.task) needs w_o, train_bias and "
                     "train_scale, found%s%s%s missing", path, h->w_o ? "" : " w_o", h->train_bias ? "" : " train_bias",
                     h->train_scale ? "" : " train_scale");
        goto fail;
    }
    char pos[64] = "";
    if (h->has_position_meta)
        snprintf(pos, sizeof pos, ", positions %s", attn_positions_name(h->positions));
    h->description = ev_strdup_printf("%s%s%s (d_k %zu, %s w_o%s%s)", path, desc ? ": " : "", desc ? desc : "", d_k,
                                      h->w_o ? "with" : "no", attn_head_has_output(h) ? "" : ": weights only", pos);
    if (!h->description) {
        st = ev_fail(err, EV_ERR_NOMEM, "out of memory reading %s", path);
        goto fail;
    }
    st_close(&f);
    *out = h;
    return EV_OK;
fail:
    attn_head_free(h);
    st_close(&f);
    return st;
}

ev_status head_file_load(const char *path, size_t d_model_expected, attn_head **out, ev_error *err)
{
    *out = NULL;
    unsigned char *buf = NULL;
    size_t size = 0;
    ev_status st = util_read_file(path, "head file", HEAD_FILE_MAX_BYTES, &buf, &size, err);
    if (st != EV_OK)
        return st;
    st = head_file_load_bytes(buf, size, path, d_model_expected, out, err);
    free(buf);
    return st;
}

ev_status head_file_from_spec(const char *spec, size_t d_model, size_t d_k, attn_head **out, ev_error *err)
{
    *out = NULL;
    if (strcmp(spec, "identity") == 0)
        return attn_head_identity(d_model, out, err);
    if (strcmp(spec, "random") == 0)
        return attn_head_random(d_model, d_k, ATTN_DEFAULT_SEED, out, err);
    if (strncmp(spec, "random:", 7) == 0) {
        const char *p = spec + 7;
        uint64_t seed = 0;
        int ok = *p != '\0';
        for (; ok && *p; p++) {
            unsigned dgt = (unsigned)(*p - '0');
            if (dgt > 9 || seed > (UINT64_MAX - dgt) / 10)
                ok = 0;
            else
                seed = seed * 10 + dgt;
        }
        if (!ok)
            return ev_fail(err, EV_ERR_USAGE, "head '%s': the seed must be a decimal number from 0 to %llu", spec,
                           (unsigned long long)UINT64_MAX);
        return attn_head_random(d_model, d_k, seed, out, err);
    }
    return head_file_load(spec, d_model, out, err);
}

/* ==== writing =============================================================================================== */

/* Writes the (rows, cols) matrix w, or the identity when w is NULL (rows = cols). */
static void write_matrix(FILE *fp, const float *w, size_t rows, size_t cols)
{
    if (w) {
        fwrite(w, sizeof *w, rows * cols, fp);
        return;
    }
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) {
            float v = i == j ? 1.0f : 0.0f;
            fwrite(&v, sizeof v, 1, fp);
        }
}

ev_status head_file_save(const attn_head *h, const head_file_meta *m, const char *path, ev_error *err)
{
    static const char *const KINDS[] = {"identity", "random", "file"};
    static const char *const TASKS[] = {"", "masked-word", "context"};
    int trained = h->train_mask || h->train_bias || h->train_scale;
    size_t d = h->d_model, dk = h->d_k, pos = 0;
    char scale[32], lr[32];
    numparse_format_float(isfinite(h->position_scale) ? h->position_scale : ATTN_DEFAULT_POSITION_SCALE, scale);
    cJSON *hdr = cJSON_CreateObject();
    cJSON *meta = hdr ? cJSON_AddObjectToObject(hdr, "__metadata__") : NULL;
    int bad = !meta || st_add_meta(meta, "format", "embvsattn-head") || st_add_meta(meta, "format_version", "1") ||
              st_add_meta(meta, "kind", "%s", trained ? "trained" : KINDS[h->kind <= ATTN_HEAD_FILE ? h->kind : 2]) ||
              st_add_meta(meta, "description", "%s", h->description ? h->description : "") ||
              st_add_meta(meta, "positions", "%s", attn_positions_name(h->positions)) ||
              st_add_meta(meta, "position_scale", "%s", scale) ||
              (h->exclude_self && st_add_meta(meta, "self_attention", "excluded")) ||
              (h->task != ATTN_TASK_NONE && st_add_meta(meta, "task", "%s", TASKS[h->task])) ||
              (h->residual && st_add_meta(meta, "residual", "on")) ||
              st_add_meta(meta, "tool_version", EMBVSATTN_VERSION) ||
              (h->candidates && (st_add_meta(meta, "candidates", "%zu", h->candidates) ||
                                 st_add_meta(meta, "vectors_dim", "%zu", d))) ||
              (h->has_fingerprint &&
               st_add_meta(meta, "vectors_fingerprint", "%016llx", (unsigned long long)h->fingerprint)) ||
              ((m || h->kind == ATTN_HEAD_RANDOM) &&
               st_add_meta(meta, "seed", "%llu", (unsigned long long)(m ? m->seed : h->seed)));
    if (!bad && m) {
        numparse_format_float(m->lr, lr);
        bad = st_add_meta(meta, "train_corpus", "%s", m->corpus ? m->corpus : "") ||
              st_add_meta(meta, "train_epochs", "%zu", m->epochs) || st_add_meta(meta, "train_lr", "%s", lr) ||
              (m->n_neg && st_add_meta(meta, "train_negatives", "%zu", m->n_neg)) ||
              st_add_meta(meta, "train_batch_tokens", "%zu", m->batch_tokens) ||
              st_add_meta(meta, "train_threads", "%zu", m->threads) ||
              st_add_meta(meta, "train_tokens", "%zu", m->tokens) ||
              st_add_meta(meta, "train_sentences", "%zu", m->sentences) ||
              st_add_meta(meta, "train_final_loss", "%.6f", m->final_loss);
    }
    size_t sh_in[2] = {d, dk}, sh_out[2] = {dk, d}, sh_mask[2] = {1, d}, sh_bias[2] = {1, h->candidates},
           sh_scale[2] = {1, 1};
    bad = bad || st_add_tensor(hdr, "w_q", "F32", sh_in, 2, &pos) || st_add_tensor(hdr, "w_k", "F32", sh_in, 2, &pos) ||
          st_add_tensor(hdr, "w_v", "F32", sh_in, 2, &pos) ||
          (h->w_o && st_add_tensor(hdr, "w_o", "F32", sh_out, 2, &pos)) ||
          (h->train_mask && st_add_tensor(hdr, "train_mask", "F32", sh_mask, 2, &pos)) ||
          (h->train_bias && st_add_tensor(hdr, "train_bias", "F32", sh_bias, 2, &pos)) ||
          (h->train_scale && st_add_tensor(hdr, "train_scale", "F32", sh_scale, 2, &pos));
    if (bad) {
        cJSON_Delete(hdr);
        return ev_fail(err, EV_ERR_NOMEM, "out of memory writing %s", path);
    }
    outfile of;
    ev_status st = st_begin_file(&of, path, hdr, HEAD_ALIGN, err);
    if (st != EV_OK)
        return st;
    write_matrix(of.fp, h->w_q, d, dk);
    write_matrix(of.fp, h->w_k, d, dk);
    write_matrix(of.fp, h->w_v, d, dk);
    if (h->w_o)
        write_matrix(of.fp, h->w_o, dk, d);
    if (h->train_mask)
        fwrite(h->train_mask, sizeof(float), d, of.fp);
    if (h->train_bias)
        fwrite(h->train_bias, sizeof(float), h->candidates, of.fp);
    if (h->train_scale)
        fwrite(h->train_scale, sizeof(float), 1, of.fp);
    return outfile_commit(&of, err);
}

/* ==== the vectors' fingerprint and the built-in head ======================================================== */

uint64_t head_file_fingerprint(const store *s, size_t n_cand)
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

int head_file_is_builtin(const char *name)
{
    if (strcmp(name, "trained") == 0)
        return 1;
    for (size_t i = 0; i < head_n_builtins; i++)
        if (strcmp(name, head_builtins[i].name) == 0)
            return 1;
    return 0;
}

ev_status head_file_builtin(const store *s, const char *name, attn_head **out, ev_error *err)
{
    *out = NULL;
    const head_builtin *b = NULL;
    for (size_t i = 0; i < head_n_builtins && !b; i++)
        if (strcmp(name, head_builtins[i].name) == 0 || (i == 0 && strcmp(name, "trained") == 0))
            b = &head_builtins[i];
    if (!b)
        return ev_fail(err, EV_ERR_NOTFOUND, "no built-in head is called '%s'", name);
    if (b->size == 0)
        return ev_fail(err, EV_ERR_NOTFOUND, "this embvsattn was built without its '%s' head "
                       "(data/head-%s.safetensors was missing at build time)", b->name, b->name);
    attn_head *h;
    char label[64];
    snprintf(label, sizeof label, "built-in %s head", b->name);
    ev_status st = head_file_load_bytes(b->data, b->size, label, 0, &h, err);
    if (st != EV_OK)
        return st;
    if (h->d_model != store_dim(s) || h->candidates > store_size(s) || !h->has_fingerprint ||
        h->fingerprint != head_file_fingerprint(s, h->candidates)) {
        attn_head_free(h);
        return ev_fail(err, EV_ERR_NOTFOUND, "the built-in %s head was trained on other vectors (GloVe 6B 100d, the "
                       "default): use --head identity or a head trained on these vectors", b->name);
    }
    *out = h;
    return EV_OK;
}

ev_status head_file_resolve(const char *spec, const store *s, size_t d_k, attn_head **out, ev_error *err)
{
    if (head_file_is_builtin(spec))
        return head_file_builtin(s, spec, out, err);
    return head_file_from_spec(spec, store_dim(s), d_k, out, err);
}
