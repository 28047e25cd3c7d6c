/* attention — heads (identity, random, file), sinusoidal positions, masked scaled dot-product attention with
 * sgemm, and its naive twin. Conventions and the head file format are in attention.h. */
#define _POSIX_C_SOURCE 200809L
#include "attention.h"

#include <cJSON.h>
#include <cblas.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "numparse.h"
#include "outfile.h"
#include "rng.h"
#include "util.h"
#include "safetensors.h"
#include "version.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "head files are little-endian; this build assumes a little-endian host"
#endif

#define HEAD_MAX_HEADER_BYTES ((size_t)1 << 20) /* a real header is a few hundred bytes */
#define HEAD_ALIGN 8
#define HEAD_MAX_TRAIN_TENSORS 8 /* train_* tensors skipped by the loader */

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
    free(h->w_q);
    free(h->w_k);
    free(h->w_v);
    free(h->w_o);
    free(h->description);
    free(h);
}

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
    ev_status st = head_new(ATTN_HEAD_RANDOM, d_model, d_k, &h, err);
    if (st != EV_OK)
        return st;
    size_t count = d_model * d_k;
    h->seed = seed;
    h->w_q = malloc(count * sizeof(float));
    h->w_k = malloc(count * sizeof(float));
    h->w_v = malloc(count * sizeof(float));
    h->w_o = malloc(count * sizeof(float));
    h->description = ev_strdup_printf("random:%llu (Xavier-uniform, d_k %zu, with w_o)", (unsigned long long)seed, d_k);
    if (!h->w_q || !h->w_k || !h->w_v || !h->w_o || !h->description) {
        attn_head_free(h);
        return ev_fail(err, EV_ERR_NOMEM, "out of memory creating a %zu × %zu attention head", d_model, d_k);
    }
    uint64_t state = seed;
    rng_xavier(h->w_q, count, d_model, d_k, &state);
    rng_xavier(h->w_k, count, d_model, d_k, &state);
    rng_xavier(h->w_v, count, d_model, d_k, &state);
    rng_xavier(h->w_o, count, d_model, d_k, &state);
    *out = h;
    return EV_OK;
}

/* ---- head files: reading --------------------------------------------------------------------------------- */

enum { T_Q, T_K, T_V, T_O, T_COUNT };
static const char *const TENSOR_NAMES[T_COUNT] = {"w_q", "w_k", "w_v", "w_o"};

/* The head file's tensors, for the safetensors validator: w_q w_k w_v, w_o (optional), train_* (training state). */
static const st_expect HEAD_TENSORS[] = {
    {"w_q", "F32", 2}, {"w_k", "F32", 2}, {"w_v", "F32", 2}, {"w_o", "F32", 2}, {"train_*", "F32", 2}};
static const st_format HEAD_FORMAT = {
    .kind = "head",
    .format = "embvsattn-head",
    .version = "1",
    .max_header = HEAD_MAX_HEADER_BYTES,
    .max_tensors = T_COUNT + HEAD_MAX_TRAIN_TENSORS + 1, /* and __metadata__ */
    .min_dim = 1,
    .max_dim = INT_MAX,
    .tensors = HEAD_TENSORS,
    .n_tensors = sizeof HEAD_TENSORS / sizeof HEAD_TENSORS[0],
    .max_wildcard = HEAD_MAX_TRAIN_TENSORS,
    .others = 0,
    .aligned = 0, /* the values are copied out: a file whose writer did not pad its header is read too */
    .contents = "a head has w_q, w_k, w_v and optionally w_o; no biases; training-only tensors are named train_*"};

/* Copies a tensor's bytes into a new float array, checking every value is finite. */
static ev_status take_tensor(const st_tensor *t, const char *path, float **out, ev_error *err)
{
    float *w = malloc(t->count * sizeof *w);
    if (!w)
        return ev_fail(err, EV_ERR_NOMEM, "out of memory reading %s", path);
    memcpy(w, t->data, t->count * sizeof *w);
    for (size_t i = 0; i < t->count; i++)
        if (!isfinite(w[i])) {
            const char *what = isnan(w[i]) ? "NaN" : "infinite";
            free(w);
            return ev_fail(err, EV_ERR_FORMAT, "%s: %s[%zu][%zu] is %s, expected a finite number", path, t->name,
                           i / t->shape[1], i % t->shape[1], what);
        }
    *out = w;
    return EV_OK;
}

/* The metadata that describes the head (st_open checked that it is an object of strings, and its format). */
static ev_status read_meta(const cJSON *meta, const char *path, attn_head *h, char **desc, ev_error *err)
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
        }
        if (strcmp(k, "position_scale") == 0) {
            float f;
            if (numparse_float(v, v + strlen(v), &f) != NUMPARSE_OK || !(f >= 0))
                return ev_fail(err, EV_ERR_FORMAT,
                               "%s: __metadata__.position_scale is '%s', expected a finite number ≥ 0", path, v);
            h->position_scale = f;
        }
        if (strcmp(k, "self_attention") == 0) {
            if (strcmp(v, "excluded") != 0 && strcmp(v, "included") != 0)
                return ev_fail(err, EV_ERR_FORMAT,
                               "%s: __metadata__.self_attention is '%s', expected 'included' or 'excluded'", path, v);
            h->exclude_self = strcmp(v, "excluded") == 0;
        }
        if (strcmp(k, "candidates") == 0) {
            char *end;
            errno = 0;
            unsigned long long c = strtoull(v, &end, 10);
            if (!*v || *end || errno || v[0] == '-' || c > (unsigned long long)SIZE_MAX / 2)
                return ev_fail(err, EV_ERR_FORMAT, "%s: __metadata__.candidates is '%s', expected a word count", path,
                               v);
            h->candidates = (size_t)c;
        }
        if (strcmp(k, "description") == 0)
            *desc = (char *)v;
    }
    return EV_OK;
}

ev_status attn_head_load(const char *path, size_t d_model_expected, attn_head **out, ev_error *err)
{
    *out = NULL;
    unsigned char *buf = NULL;
    size_t size = 0;
    ev_status st = util_read_file(path, "head file", HEAD_FILE_MAX_BYTES, &buf, &size, err);
    if (st != EV_OK)
        return st;
    st = attn_head_load_bytes(buf, size, path, d_model_expected, out, err);
    free(buf);
    return st;
}

ev_status attn_head_load_bytes(const unsigned char *buf, size_t size, const char *path, size_t d_model_expected,
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
    t[T_O] = st_get(&f, "w_o");
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
    if (!t[T_O] && d_k != d_model) {
        st = ev_fail(err, EV_ERR_FORMAT, "%s: no w_o, so d_k must equal d_model (the output must live in the "
                     "vectors' space), found d_k %zu and d_model %zu", path, d_k, d_model);
        goto fail;
    }
    if (d_model_expected && d_model != d_model_expected) {
        st = ev_fail(err, EV_ERR_FORMAT, "%s: the head is for vectors of dimension %zu (w_q is [%zu, %zu]), the "
                     "vectors have dimension %zu", path, d_model, d_model, d_k, d_model_expected);
        goto fail;
    }
    /* 4. values and metadata */
    if ((st = head_new(ATTN_HEAD_FILE, d_model, d_k, &h, err)) != EV_OK)
        goto fail;
    float **dst[T_COUNT] = {&h->w_q, &h->w_k, &h->w_v, &h->w_o};
    for (int i = 0; i < T_COUNT; i++)
        if (t[i] && (st = take_tensor(t[i], path, dst[i], err)) != EV_OK)
            goto fail;
    char *desc = NULL;
    if ((st = read_meta(f.meta, path, h, &desc, err)) != EV_OK)
        goto fail;
    char pos[64] = "";
    if (h->has_position_meta)
        snprintf(pos, sizeof pos, ", positions %s", attn_positions_name(h->positions));
    h->description = ev_strdup_printf("%s%s%s (d_k %zu, %s w_o%s)", path, desc ? ": " : "", desc ? desc : "", d_k,
                                      h->w_o ? "with" : "no", pos);
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

ev_status attn_head_from_spec(const char *spec, size_t d_model, size_t d_k, attn_head **out, ev_error *err)
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
    return attn_head_load(spec, d_model, out, err);
}

/* ---- head files: writing --------------------------------------------------------------------------------- */

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

ev_status attn_head_save(const attn_head *h, const char *path, ev_error *err)
{
    static const char *const KINDS[] = {"identity", "random", "file"};
    size_t dm = h->d_model, dk = h->d_k, pos = 0;
    char scale[32], seed[32];
    numparse_format_float(isfinite(h->position_scale) ? h->position_scale : ATTN_DEFAULT_POSITION_SCALE, scale);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)h->seed);
    cJSON *hdr = cJSON_CreateObject();
    cJSON *meta = hdr ? cJSON_AddObjectToObject(hdr, "__metadata__") : NULL;
    int bad = !meta || !cJSON_AddStringToObject(meta, "format", "embvsattn-head") ||
              !cJSON_AddStringToObject(meta, "format_version", "1") ||
              !cJSON_AddStringToObject(meta, "kind", KINDS[h->kind <= ATTN_HEAD_FILE ? h->kind : ATTN_HEAD_FILE]) ||
              !cJSON_AddStringToObject(meta, "description", h->description ? h->description : "") ||
              !cJSON_AddStringToObject(meta, "positions", attn_positions_name(h->positions)) ||
              (h->exclude_self && !cJSON_AddStringToObject(meta, "self_attention", "excluded")) ||
              !cJSON_AddStringToObject(meta, "position_scale", scale) ||
              (h->kind == ATTN_HEAD_RANDOM && !cJSON_AddStringToObject(meta, "seed", seed)) ||
              !cJSON_AddStringToObject(meta, "tool_version", EMBVSATTN_VERSION);
    size_t sh_in[2] = {dm, dk}, sh_out[2] = {dk, dm};
    bad = bad || st_add_tensor(hdr, "w_q", "F32", sh_in, 2, &pos) ||
          st_add_tensor(hdr, "w_k", "F32", sh_in, 2, &pos) || st_add_tensor(hdr, "w_v", "F32", sh_in, 2, &pos) ||
          (h->w_o && st_add_tensor(hdr, "w_o", "F32", sh_out, 2, &pos));
    if (bad) {
        cJSON_Delete(hdr);
        return ev_fail(err, EV_ERR_NOMEM, "out of memory writing %s", path);
    }
    outfile of;
    ev_status st = st_begin_file(&of, path, hdr, HEAD_ALIGN, err);
    if (st != EV_OK)
        return st;
    write_matrix(of.fp, h->w_q, dm, dk);
    write_matrix(of.fp, h->w_k, dm, dk);
    write_matrix(of.fp, h->w_v, dm, dk);
    if (h->w_o)
        write_matrix(of.fp, h->w_o, dk, dm);
    return outfile_commit(&of, err);
}

/* ---- positions ------------------------------------------------------------------------------------------- */

void attn_positional_encoding(size_t n, size_t d, float scale, float *P)
{
    for (size_t pos = 0; pos < n; pos++)
        for (size_t i = 0; i < d; i += 2) {
            double angle = (double)pos / pow(10000.0, (double)i / (double)d);
            P[pos * d + i] = (float)((double)scale * sin(angle));
            if (i + 1 < d)
                P[pos * d + i + 1] = (float)((double)scale * cos(angle));
        }
}

/* ---- the forward pass ------------------------------------------------------------------------------------ */

static ev_status check_forward(const attn_head *h, const float *X, size_t n, const attn_opts *o, ev_error *err)
{
    if (n == 0)
        return ev_fail(err, EV_ERR_USAGE, "attention needs at least one token");
    if (n > ATTN_MAX_TOKENS)
        return ev_fail(err, EV_ERR_NOMEM, "%zu tokens exceed the attention limit of %u (A is n\xc2\xb2 floats)", n,
                       ATTN_MAX_TOKENS);
    if (!h->w_o && h->d_k != h->d_model)
        return ev_fail(err, EV_ERR_USAGE, "a head without w_o needs d_k = d_model (found %zu and %zu)", h->d_k,
                       h->d_model);
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

ev_status attn_forward(const attn_head *h, const float *X, const unsigned char *key_mask, size_t n,
                       const attn_opts *opts, float *A, float *Z, ev_error *err)
{
    attn_opts o = opts ? *opts : attn_opts_default();
    ev_status st = check_forward(h, X, n, &o, err);
    if (st != EV_OK)
        return st;
    size_t dm = h->d_model, dk = h->d_k;
    float *xp = NULL; /* (n, dm) X + positions */
    float *q = NULL;  /* (n, dk) */
    float *k = NULL;  /* (n, dk) */
    float *v = NULL;  /* (n, dk) */
    float *av = NULL; /* (n, dk) A·V, before W_O */

    /* pass 1: the input, X' = X + s·P */
    const float *x = X; /* (n, dm) */
    if (o.positions == ATTN_POS_SINUSOIDAL) {
        if (!(xp = malloc(n * dm * sizeof *xp)))
            goto oom;
        attn_positional_encoding(n, dm, o.position_scale, xp);
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
    /* pass 3: scores A = Q·Kᵀ / √d_k */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)n, (int)dk, 1.0f / sqrtf((float)dk), Q,
                (int)dk, K, (int)dk, 0.0f, A, (int)n);
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
    /* pass 5: weighted sum A·V (into Z directly when there is no W_O) */
    if (h->w_o && !(av = malloc(n * dk * sizeof *av)))
        goto oom;
    matmul(A, V, h->w_o ? av : Z, n, dk, n);
    /* pass 6: output projection Z = (A·V)·W_O */
    if (h->w_o)
        matmul(av, h->w_o, Z, n, dm, dk);
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
    ev_status st = check_forward(h, X, n, &o, err);
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
