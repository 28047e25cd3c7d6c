#include "safetensors.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

ev_status st_parse_header(const unsigned char *buf, size_t size, size_t max_header, const char *path, cJSON **hdr,
                          size_t *data_off, ev_error *err)
{
    *hdr = NULL;
    if (size < 8)
        return ev_fail(err, EV_ERR_FORMAT, "%s: byte 0: expected an 8-byte header length, found %s", path,
                       size == 0 ? "an empty file" : "a shorter file");
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = (hlen << 8) | buf[i];
    if (hlen < 2 || hlen > size - 8 || hlen > max_header)
        return ev_fail(err, EV_ERR_FORMAT, "%s: byte 0: header length %llu is impossible for a file of %zu bytes",
                       path, (unsigned long long)hlen, size);
    if (buf[8] != '{')
        return ev_fail(err, EV_ERR_FORMAT, "%s: byte 8: expected '{' (a JSON header), found byte 0x%02x", path,
                       buf[8]);
    cJSON *h = cJSON_ParseWithLength((const char *)buf + 8, (size_t)hlen);
    if (!cJSON_IsObject(h)) {
        cJSON_Delete(h);
        return ev_fail(err, EV_ERR_FORMAT, "%s: bytes 8..%llu: the JSON header does not parse", path,
                       (unsigned long long)(8 + hlen));
    }
    *hdr = h;
    *data_off = 8 + (size_t)hlen;
    return EV_OK;
}

int st_add_tensor(cJSON *hdr, const char *name, const char *dtype, size_t elem, const size_t *shape, int rank,
                  size_t *pos)
{
    cJSON *t = cJSON_CreateObject();
    if (!t || !cJSON_AddItemToObject(hdr, name, t)) {
        cJSON_Delete(t);
        return -1;
    }
    cJSON *sh, *off;
    if (!cJSON_AddStringToObject(t, "dtype", dtype) || !(sh = cJSON_AddArrayToObject(t, "shape")) ||
        !(off = cJSON_AddArrayToObject(t, "data_offsets")))
        return -1;
    size_t bytes = elem;
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
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf)
        vsnprintf(buf, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    int ok = buf && cJSON_AddStringToObject(meta, key, buf);
    free(buf);
    return ok ? 0 : -1;
}

ev_status st_begin_file(outfile *of, const char *path, cJSON *hdr, size_t align, ev_error *err)
{
    char *json = hdr ? cJSON_PrintUnformatted(hdr) : NULL;
    cJSON_Delete(hdr);
    if (!json)
        return ev_fail(err, EV_ERR_NOMEM, "out of memory writing %s", path);
    size_t jlen = strlen(json);
    size_t padded = jlen + (align - (8 + jlen) % align) % align;
    unsigned char lenbuf[8];
    for (int i = 0; i < 8; i++)
        lenbuf[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    ev_status st = outfile_open(of, path, err);
    if (st == EV_OK) {
        fwrite(lenbuf, 1, 8, of->fp);
        fwrite(json, 1, jlen, of->fp);
        for (size_t i = jlen; i < padded; i++)
            fputc(' ', of->fp);
    }
    free(json);
    return st;
}
