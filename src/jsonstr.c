/* jsonstr — JSON strings from byte strings (jsonstr.h). */
#include "jsonstr.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

int jsonstr_valid(const char *p, size_t n)
{
    const unsigned char *s = (const unsigned char *)p;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t l = s[i] ? utf8_decode(s + i, n - i, &cp) : 0;
        if (!l)
            return 0;
        i += l;
    }
    return 1;
}

cJSON *jsonstr_create(const char *p, size_t n)
{
    const unsigned char *s = (const unsigned char *)p;
    if (n > (SIZE_MAX - 1) / 3)
        return NULL;
    char *out = malloc(3 * n + 1), *o = out; /* U+FFFD takes 3 bytes for 1 */
    if (!out)
        return NULL;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t l = s[i] ? utf8_decode(s + i, n - i, &cp) : 0;
        if (l) {
            memcpy(o, s + i, l);
            o += l;
            i += l;
        } else {
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    *o = '\0';
    cJSON *j = cJSON_CreateString(out);
    free(out);
    return j;
}

static cJSON *hex(const char *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    if (n > (SIZE_MAX - 1) / 2)
        return NULL;
    char *out = malloc(2 * n + 1);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[(unsigned char)p[i] >> 4];
        out[2 * i + 1] = digits[(unsigned char)p[i] & 15];
    }
    out[2 * n] = '\0';
    cJSON *j = cJSON_CreateString(out);
    free(out);
    return j;
}

/* "KEY_bytes" */
static char *bytes_key(const char *key)
{
    size_t kl = strlen(key);
    char *k = malloc(kl + 7);
    if (k) {
        memcpy(k, key, kl);
        memcpy(k + kl, "_bytes", 7);
    }
    return k;
}

int jsonstr_add(cJSON *obj, const char *key, const char *p, size_t n)
{
    if (!obj)
        return -1;
    if (!p)
        p = "", n = 0;
    cJSON *s = jsonstr_create(p, n);
    if (!s || !cJSON_AddItemToObject(obj, key, s)) {
        cJSON_Delete(s);
        return -1;
    }
    if (jsonstr_valid(p, n))
        return 0;
    char *k = bytes_key(key);
    cJSON *h = k ? hex(p, n) : NULL;
    int ok = h && cJSON_AddItemToObject(obj, k, h);
    if (!ok)
        cJSON_Delete(h);
    free(k);
    return ok ? 0 : -1;
}

int jsonstr_add_cstr(cJSON *obj, const char *key, const char *s) { return jsonstr_add(obj, key, s, s ? strlen(s) : 0); }

int jsonstr_add_list(cJSON *obj, const char *key, const char *const *items, size_t n)
{
    cJSON *a = cJSON_AddArrayToObject(obj, key);
    if (!a)
        return -1;
    int all_valid = 1;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(items[i]);
        cJSON *s = jsonstr_create(items[i], l);
        if (!s || !cJSON_AddItemToArray(a, s)) {
            cJSON_Delete(s);
            return -1;
        }
        all_valid &= jsonstr_valid(items[i], l);
    }
    if (all_valid)
        return 0;
    char *k = bytes_key(key);
    cJSON *b = k ? cJSON_AddArrayToObject(obj, k) : NULL;
    free(k);
    if (!b)
        return -1;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(items[i]);
        cJSON *h = jsonstr_valid(items[i], l) ? cJSON_CreateNull() : hex(items[i], l);
        if (!h || !cJSON_AddItemToArray(b, h)) {
            cJSON_Delete(h);
            return -1;
        }
    }
    return 0;
}
