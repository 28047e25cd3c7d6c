/* ev_error — status codes and error messages shared by every module.
 *
 * Modules never print and never exit: they return an ev_status and, on failure, fill an ev_error with one
 * human-readable line ("FILE:LINE: expected …, found …"). Only the CLI layer prints it (prefixed with
 * "embvsattn: ") and maps the status to an exit code (see README, "Exit codes").
 */
#ifndef EV_ERROR_H
#define EV_ERROR_H

#include <stdarg.h>
#include <stddef.h>

typedef enum {
    EV_OK = 0,
    EV_ERR_NOTFOUND = 1, /* nothing could be answered (all queries out of vocabulary) */
    EV_ERR_USAGE = 2,    /* bad arguments */
    EV_ERR_IO = 3,       /* input missing, unreadable, a directory, … */
    EV_ERR_FORMAT = 4,   /* input malformed: parse error, bad header, size mismatch */
    EV_ERR_WRITE = 5,    /* output could not be written (disk full, permission, …) */
    EV_ERR_NOMEM = 6     /* out of memory or over a resource limit */
} ev_status;

/* One error: a status and a heap-allocated message (NULL when none). Zero-initialise before use. */
typedef struct {
    ev_status code;
    char *msg;
} ev_error;

/* Sets err (if non-NULL) to code and the printf-formatted message, replacing any previous one.
 * Never truncates: the message is allocated to its full length. Returns code, so callers can
 * `return ev_fail(err, EV_ERR_FORMAT, "%s:%zu: …", …);`. */
ev_status ev_fail(ev_error *err, ev_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Frees the message and resets err to EV_OK. NULL-safe. */
void ev_error_clear(ev_error *err);

/* The same with a va_list (ap is consumed, as by vsnprintf). */
char *ev_vstrdup_printf(const char *fmt, va_list ap);

/* Returns a malloc'd printf-formatted string (never truncated), or NULL when out of memory. */
char *ev_strdup_printf(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Seconds on the monotonic clock (for elapsed times). */
double ev_seconds(void);

/* Writes into a malloc'd buffer a printable rendering of the bytes p[0..n): printable ASCII and UTF-8 bytes kept,
 * '\r' '\n' '\t' and '\\' as those escapes, other control bytes as \xNN, at most max_shown input bytes (then "…").
 * The one helper for quoting words and tokens in messages (a CRLF word list shows 'king\r'). NULL on OOM. */
char *ev_quote(const char *p, size_t n, size_t max_shown);

#endif
