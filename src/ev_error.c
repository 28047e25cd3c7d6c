#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "ev_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

char *ev_vstrdup_printf(const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (s)
        vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

ev_status ev_fail(ev_error *err, ev_status code, const char *fmt, ...)
{
    if (!err)
        return code;
    free(err->msg);
    va_list ap;
    va_start(ap, fmt);
    err->msg = ev_vstrdup_printf(fmt, ap);
    va_end(ap);
    err->code = code;
    return code;
}

void ev_error_clear(ev_error *err)
{
    if (!err)
        return;
    free(err->msg);
    err->msg = NULL;
    err->code = EV_OK;
}

char *ev_strdup_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = ev_vstrdup_printf(fmt, ap);
    va_end(ap);
    return s;
}

char *ev_quote(const char *p, size_t n, size_t max_shown)
{
    size_t shown = n < max_shown ? n : max_shown;
    char *out = malloc(shown * 4 + 8);
    if (!out)
        return NULL;
    char *o = out;
    for (size_t i = 0; i < shown; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            *o++ = (char)c;
        } else if (c >= 0x80) {
            *o++ = (char)c; /* UTF-8 bytes kept; the terminal shows them */
        } else if (c == '\r' || c == '\n' || c == '\t' || c == '\\') {
            *o++ = '\\';
            *o++ = c == '\r' ? 'r' : c == '\n' ? 'n' : c == '\t' ? 't' : '\\';
        } else {
            static const char hex[] = "0123456789abcdef";
            *o++ = '\\';
            *o++ = 'x';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    if (shown < n) {
        memcpy(o, "\xe2\x80\xa6", 3); /* … */
        o += 3;
    }
    *o = '\0';
    return out;
}

double ev_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}
