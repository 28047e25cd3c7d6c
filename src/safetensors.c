/* safetensors — the one reader/validator and writer of safetensors headers (safetensors.h). */
#include "safetensors.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SIZE 9007199254740992.0 /* 2^53: every integer up to it is exact in a JSON number (a double) */

/* The safetensors dtypes and their element sizes. */
static const struct {
    const char *name;
    size_t elem;
} DTYPES[] = {{"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"I16", 2}, {"U16", 2}, {"F16", 2},
              {"BF16", 2}, {"I32", 4}, {"U32", 4}, {"F32", 4},     {"F64", 8},     {"I64", 8}, {"U64", 8}};

static size_t dtype_size(const char *name)
{
    for (size_t i = 0; i < sizeof DTYPES / sizeof DTYPES[0]; i++)
        if (strcmp(DTYPES[i].name, name) == 0)
            return DTYPES[i].elem;
    return 0;
}

uint64_t st_header_length(const unsigned char *p)
{
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = (n << 8) | p[i];
    return n;
}

int st_sniff(const unsigned char head[10], uint64_t file_size)
{
    uint64_t n = st_header_length(head);
    return file_size >= 10 && n >= 2 && n <= file_size - 8 && head[8] == '{';
}

/* ---- reading ---------------------------------------------------------------------------------------------- */

void st_close(st_file *f)
{
    if (!f)
        return;
    cJSON_Delete(f->json);
    free(f->t);
    memset(f, 0, sizeof *f);
}

const st_tensor *st_get(const st_file *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->t[i].name, name) == 0)
            return &f->t[i];
    return NULL;
}

const char *st_meta(const st_file *f, const char *key)
{
    const cJSON *v = f->meta ? cJSON_GetObjectItemCaseSensitive(f->meta, key) : NULL;
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

ev_status st_require(const st_file *f, const st_format *fmt, const char *name, const char *path,
                     const st_tensor **out, ev_error *err)
{
    if ((*out = st_get(f, name)))
        return EV_OK;
    return ev_fail(err, EV_ERR_FORMAT, "%s: %s header: expected a tensor named '%s', found none: %s", path, fmt->kind,
                   name, fmt->contents);
}

/* The listed entry name matches (-1: none); a wildcard "prefix*" matches every name with the prefix. */
static int find_spec(const st_format *fmt, const char *name)
{
    for (size_t i = 0; i < fmt->n_tensors; i++) {
        const char *s = fmt->tensors[i].name;
        size_t n = strlen(s);
        if (n && s[n - 1] == '*' ? strncmp(name, s, n - 1) == 0 : strcmp(name, s) == 0)
            return (int)i;
    }
    return -1;
}

/* "[d0, d1, …]" of t's shape into buf. */
static const char *shape_str(const st_tensor *t, char buf[ST_MAX_RANK * 22 + 4])
{
    size_t n = 0;
    buf[n++] = '[';
    for (int i = 0; i < t->rank; i++)
        n += (size_t)sprintf(buf + n, "%s%zu", i ? ", " : "", t->shape[i]);
    buf[n++] = ']';
    buf[n] = '\0';
    return buf;
}

/* __metadata__: an object of strings, whose format and format_version (when present) are fmt's (its version or its
 * older version). */
static ev_status check_meta(const cJSON *meta, const st_format *fmt, const char *path, ev_error *err)
{
    if (!cJSON_IsObject(meta))
        return ev_fail(err, EV_ERR_FORMAT, "%s: %s header: __metadata__ must be an object of strings", path,
                       fmt->kind);
    const cJSON *it;
    cJSON_ArrayForEach(it, meta)
    {
        if (!cJSON_IsString(it))
            return ev_fail(err, EV_ERR_FORMAT, "%s: %s header: __metadata__.%s must be a string", path, fmt->kind,
                           it->string ? it->string : "?");
    }
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(meta, "format");
    if (f && fmt->format && strcmp(f->valuestring, fmt->format) != 0)
        return ev_fail(err, EV_ERR_FORMAT, "%s: __metadata__.format is '%s', expected '%s'", path, f->valuestring,
                       fmt->format);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(meta, "format_version");
    if (v && fmt->version && strcmp(v->valuestring, fmt->version) != 0 &&
        !(fmt->older_version && strcmp(v->valuestring, fmt->older_version) == 0))
        return ev_fail(err, EV_ERR_FORMAT, "%s: __metadata__.format_version is '%s': this embvsattn reads %s files of "
                       "version %s%s%s only (was it written by a newer embvsattn?)", path, v->valuestring,
                       fmt->format ? fmt->format : fmt->kind, fmt->older_version ? fmt->older_version : "",
                       fmt->older_version ? " or " : "", fmt->version);
    return EV_OK;
}

/* Step 3 for one entry o named name: t gets its description. */
static ev_status check_tensor(const cJSON *o, const char *name, const st_format *fmt, const st_file *f,
                              const unsigned char *buf, const char *path, st_tensor *t, ev_error *err)
{
    const char *K = fmt->kind;
    memset(t, 0, sizeof *t);
    t->name = name;
    t->spec = find_spec(fmt, name);
    if (t->spec < 0 && !fmt->others)
        return ev_fail(err, EV_ERR_FORMAT, "%s: %s header: unexpected tensor '%s': %s", path, K, name, fmt->contents);
    if (!cJSON_IsObject(o))
        return ev_fail(err, EV_ERR_FORMAT, "%s: %s header: tensor '%s' is not an object", path, K, name);
    const st_expect *e = t->spec >= 0 ? &fmt->tensors[t->spec] : NULL;
    /* dtype */
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(o, "dtype");
    const char *dts = cJSON_IsString(dt) ? dt->valuestring : NULL;
    if (e && (!dts || strcmp(dts, e->dtype) != 0))
        return ev_fail(err, EV_ERR_FORMAT, "%s: %s header: tensor '%s': expected dtype %s, found %s", path, K, name,
                       e->dtype, dts ? dts : "none");
    if (!dts || !(t->elem = dtype_size(dts)))
        return ev_fail(err, EV_ERR_FORMAT, "%s: %s header: tensor '%s': expected a safetensors dtype (F32, I64 …), "
                       "found %s", path, K, name, dts ? dts : "none");
    t->dtype = dts;
    /* shape: the rank, then each size */
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(o, "shape");
    int rank = cJSON_IsArray(sh) ? cJSON_GetArraySize(sh) : -1;
    if (e && rank != e->rank)
        return ev_fail(err, EV_ERR_FORMAT, "%s: %s header: tensor '%s': expected a shape of rank %d", path, K, name,
                       e->rank);
    if (rank < 0 || rank > ST_MAX_RANK)
        return ev_fail(err, EV_ERR_FORMAT, "%s: %s header: tensor '%s': expected a shape of at most %d sizes", path, K,
                       name, ST_MAX_RANK);
    t->rank = rank;
    double lo = e ? (double)fmt->min_dim : 0, hi = e ? (double)fmt->max_dim : MAX_SIZE;
    hi = hi < MAX_SIZE ? hi : MAX_SIZE;
    for (int i = 0; i < rank; i++) {
        const cJSON *v = cJSON_GetArrayItem(sh, i);
        double x = cJSON_IsNumber(v) ? v->valuedouble : -1;
        if (!(x >= lo && x <= hi && x == floor(x)))
            return ev_fail(err, EV_ERR_FORMAT, "%s: %s header: tensor '%s': shape[%d] is not a size from %.0f to %.0f",
                           path, K, name, i, lo, hi);
        t->shape[i] = (size_t)x;
    }
    /* the byte count, without overflow */
    char sbuf[ST_MAX_RANK * 22 + 4];
    size_t count = 1;
    for (int i = 0; i < rank; i++) {
        if (t->shape[i] && count > SIZE_MAX / t->shape[i])
            return ev_fail(err, EV_ERR_FORMAT, "%s: %s header: tensor '%s': shape %s overflows", path, K, name,
                           shape_str(t, sbuf));
        count *= t->shape[i];
    }
    if (count > SIZE_MAX / t->elem)
        return ev_fail(err, EV_ERR_FORMAT, "%s: %s header: tensor '%s': shape %s overflows", path, K, name,
                       shape_str(t, sbuf));
    t->count = count;
    /* data_offsets: within the data section, as many bytes as the shape needs, aligned */
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(o, "data_offsets");
    double b = -1, en = -1;
    if (cJSON_IsArray(off) && cJSON_GetArraySize(off) == 2 && cJSON_IsNumber(cJSON_GetArrayItem(off, 0)) &&
        cJSON_IsNumber(cJSON_GetArrayItem(off, 1))) {
        b = cJSON_GetArrayItem(off, 0)->valuedouble;
        en = cJSON_GetArrayItem(off, 1)->valuedouble;
    }
    if (!(b >= 0 && en >= b && en <= (double)f->data_len && b == floor(b) && en == floor(en)))
        return ev_fail(err, EV_ERR_FORMAT,
                       "%s: %s header: tensor '%s': data_offsets must lie within the %zu data bytes", path, K, name,
                       f->data_len);
    t->begin = (size_t)b;
    t->end = (size_t)en;
    if (t->end - t->begin != count * t->elem)
        return ev_fail(err, EV_ERR_FORMAT,
                       "%s: %s header: tensor '%s': shape %s needs %zu bytes, data_offsets give %zu", path, K, name,
                       shape_str(t, sbuf), count * t->elem, t->end - t->begin);
    if (fmt->aligned && (f->data_off + t->begin) % t->elem != 0)
        return ev_fail(err, EV_ERR_FORMAT, "%s: %s header: tensor '%s' starts at byte %zu, not aligned to its %zu-byte "
                       "elements", path, K, name, f->data_off + t->begin, t->elem);
    t->data = buf + f->data_off + t->begin;
    return EV_OK;
}

ev_status st_open(const unsigned char *buf, size_t size, const st_format *fmt, const char *path, st_file *out,
                  ev_error *err)
{
    memset(out, 0, sizeof *out);
    /* 1. the header length against the file size and the limit */
    if (size < 8)
        return ev_fail(err, EV_ERR_FORMAT, "%s: byte 0: expected an 8-byte header length, found %s", path,
                       size == 0 ? "an empty file" : "a shorter file");
    uint64_t hlen = st_header_length(buf);
    if (hlen < 2 || hlen > size - 8 || hlen > fmt->max_header)
        return ev_fail(err, EV_ERR_FORMAT, "%s: byte 0: header length %llu is impossible for a file of %zu bytes",
                       path, (unsigned long long)hlen, size);
    if (buf[8] != '{')
        return ev_fail(err, EV_ERR_FORMAT, "%s: byte 8: expected '{' (a JSON header), found byte 0x%02x", path,
                       buf[8]);
    /* 2. the JSON, the metadata, the number of entries */
    cJSON *json = cJSON_ParseWithLength((const char *)buf + 8, (size_t)hlen);
    if (!cJSON_IsObject(json)) {
        cJSON_Delete(json);
        return ev_fail(err, EV_ERR_FORMAT, "%s: bytes 8..%llu: the JSON header does not parse", path,
                       (unsigned long long)(8 + hlen));
    }
    out->json = json;
    out->data_off = 8 + (size_t)hlen;
    out->data_len = size - out->data_off;
    ev_status st = EV_OK;
    size_t entries = (size_t)cJSON_GetArraySize(json), n_meta = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, json)
    {
        if (it->string && strcmp(it->string, "__metadata__") == 0 && n_meta++ == 0)
            out->meta = it;
    }
    if (n_meta > 1) {
        st = ev_fail(err, EV_ERR_FORMAT, "%s: %s header: __metadata__ appears twice", path, fmt->kind);
        goto fail;
    }
    if (out->meta && (st = check_meta(out->meta, fmt, path, err)) != EV_OK)
        goto fail;
    if (entries > fmt->max_tensors) {
        st = ev_fail(err, EV_ERR_FORMAT, "%s: %s header: %zu entries, more than the %zu a %s file may have", path,
                     fmt->kind, entries, fmt->max_tensors, fmt->kind);
        goto fail;
    }
    if (!(out->t = calloc(entries ? entries : 1, sizeof *out->t))) {
        st = ev_fail(err, EV_ERR_NOMEM, "out of memory reading %s", path);
        goto fail;
    }
    /* 3. each tensor, in header order */
    cJSON_ArrayForEach(it, json)
    {
        if (it == out->meta)
            continue;
        const char *name = it->string ? it->string : "";
        for (size_t j = 0; j < out->n; j++)
            if (strcmp(out->t[j].name, name) == 0) {
                st = ev_fail(err, EV_ERR_FORMAT, "%s: %s header: tensor '%s' appears twice", path, fmt->kind, name);
                goto fail;
            }
        st_tensor *t = &out->t[out->n];
        if ((st = check_tensor(it, name, fmt, out, buf, path, t, err)) != EV_OK)
            goto fail;
        out->n++;
        const char *pat = t->spec >= 0 ? fmt->tensors[t->spec].name : NULL;
        if (pat && pat[0] && pat[strlen(pat) - 1] == '*') {
            size_t same = 0;
            for (size_t j = 0; j < out->n; j++)
                same += out->t[j].spec == t->spec;
            if (same > fmt->max_wildcard) {
                st = ev_fail(err, EV_ERR_FORMAT, "%s: %s header: more than %zu %s tensors", path, fmt->kind,
                             fmt->max_wildcard, pat);
                goto fail;
            }
        }
    }
    return EV_OK;
fail:
    st_close(out);
    return st;
}

ev_status st_check_tiling(const st_file *f, const char *path, ev_error *err)
{
    size_t covered = 0;
    for (size_t i = 0; i < f->n; i++) {
        const st_tensor *a = &f->t[i];
        if (a->begin == a->end)
            continue;
        covered += a->end - a->begin;
        for (size_t j = 0; j < i; j++) {
            const st_tensor *b = &f->t[j];
            if (b->begin != b->end && a->begin < b->end && b->begin < a->end)
                return ev_fail(err, EV_ERR_FORMAT, "%s: tensors '%s' and '%s' overlap", path, b->name, a->name);
        }
    }
    if (covered != f->data_len)
        return ev_fail(err, EV_ERR_FORMAT, "%s: the data section has %zu bytes, the tensors cover %zu", path,
                       f->data_len, covered);
    return EV_OK;
}

/* ---- writing ---------------------------------------------------------------------------------------------- */

int st_add_tensor(cJSON *hdr, const char *name, const char *dtype, const size_t *shape, int rank, size_t *pos)
{
    size_t bytes = dtype_size(dtype);
    if (!bytes || rank < 1 || rank > ST_MAX_RANK)
        return -1;
    cJSON *t = cJSON_CreateObject();
    if (!t || !cJSON_AddItemToObject(hdr, name, t)) {
        cJSON_Delete(t);
        return -1;
    }
    cJSON *sh, *off;
    if (!cJSON_AddStringToObject(t, "dtype", dtype) || !(sh = cJSON_AddArrayToObject(t, "shape")) ||
        !(off = cJSON_AddArrayToObject(t, "data_offsets")))
        return -1;
    for (int i = 0; i < rank; i++) {
        cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)shape[i]));
        bytes *= shape[i];
    }
    cJSON_AddItemToArray(off, cJSON_CreateNumber((double)*pos));
    cJSON_AddItemToArray(off, cJSON_CreateNumber((double)(*pos + bytes)));
    *pos += bytes;
    return cJSON_GetArraySize(sh) == rank && cJSON_GetArraySize(off) == 2 ? 0 : -1;
}

int st_add_meta(cJSON *meta, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *buf = ev_vstrdup_printf(fmt, ap);
    va_end(ap);
    int ok = buf && cJSON_AddStringToObject(meta, key, buf);
    free(buf);
    return ok ? 0 : -1;
}

void st_put_header(FILE *fp, const char *json, size_t jlen, size_t hlen)
{
    unsigned char lenbuf[8];
    for (int i = 0; i < 8; i++)
        lenbuf[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
    fwrite(lenbuf, 1, 8, fp);
    fwrite(json, 1, jlen, fp);
    for (size_t i = jlen; i < hlen; i++)
        fputc(' ', fp);
}

ev_status st_begin_file(outfile *of, const char *path, cJSON *hdr, size_t align, ev_error *err)
{
    char *json = hdr ? cJSON_PrintUnformatted(hdr) : NULL;
    cJSON_Delete(hdr);
    if (!json)
        return ev_fail(err, EV_ERR_NOMEM, "out of memory writing %s", path);
    size_t jlen = strlen(json);
    size_t padded = jlen + (align - (8 + jlen) % align) % align;
    ev_status st = outfile_open(of, path, err);
    if (st == EV_OK)
        st_put_header(of->fp, json, jlen, padded);
    free(json);
    return st;
}
