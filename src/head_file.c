/* head_file — trained head files, the vectors' fingerprint and the built-in head (head_file.h). */
#define _POSIX_C_SOURCE 200809L
#include "head_file.h"

#include <cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "numparse.h"
#include "outfile.h"
#include "safetensors.h"
#include "util.h"
#include "version.h"

#define FINGERPRINT_STRIDE 100 /* every 100th candidate row's floats enter the fingerprint */

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

/* ==== head files ============================================================================================ */

ev_status head_file_save(const head_params *p, const head_file_meta *m, const char *path, ev_error *err)
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
    bad = bad || st_add_tensor(hdr, "w_q", "F32", sh_in, 2, &pos) ||
          st_add_tensor(hdr, "w_k", "F32", sh_in, 2, &pos) || st_add_tensor(hdr, "w_v", "F32", sh_in, 2, &pos) ||
          st_add_tensor(hdr, "w_o", "F32", sh_out, 2, &pos) ||
          st_add_tensor(hdr, "train_mask", "F32", sh_mask, 2, &pos) ||
          st_add_tensor(hdr, "train_bias", "F32", sh_bias, 2, &pos);
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

ev_status head_file_load_bytes(const unsigned char *buf, size_t size, const char *name, size_t d_model_expected,
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

ev_status head_file_load(const char *path, size_t d_model_expected, head_params **out, ev_error *err)
{
    *out = NULL;
    unsigned char *buf;
    size_t n;
    ev_status st = util_read_file(path, "head file", HEAD_FILE_MAX_BYTES, &buf, &n, err);
    if (st != EV_OK)
        return st;
    st = head_file_load_bytes(buf, n, path, d_model_expected, out, err);
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

ev_status head_file_builtin(const store *s, head_params **out, ev_error *err)
{
    *out = NULL;
    if (head_builtin_size == 0)
        return ev_fail(err, EV_ERR_NOTFOUND, "this embvsattn was built without a trained head (data/head.safetensors "
                       "was missing at build time)");
    head_params *p;
    ev_status st = head_file_load_bytes(head_builtin_data, head_builtin_size, "built-in trained head", 0, &p, err);
    if (st != EV_OK)
        return st;
    if (p->d_model != store_dim(s) || p->n_cand > store_size(s) || !p->has_fingerprint ||
        p->fingerprint != head_file_fingerprint(s, p->n_cand)) {
        head_params_free(p);
        return ev_fail(err, EV_ERR_NOTFOUND, "the built-in trained head was trained on other vectors (GloVe 6B 100d, "
                       "the default): use --head identity or a head trained on these vectors");
    }
    *out = p;
    return EV_OK;
}

ev_status head_file_builtin_attn(const store *s, attn_head **out, ev_error *err)
{
    *out = NULL;
    head_params *p;
    ev_status st = head_file_builtin(s, &p, err);
    if (st != EV_OK)
        return st;
    st = head_to_attn(p, out, err);
    head_params_free(p);
    return st;
}
