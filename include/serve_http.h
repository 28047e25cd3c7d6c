/* serve_http — the HTTP side of `embvsattn serve` (libmicrohttpd): listens, enforces the limits, turns a request
 * into a method, a path and checked parameters, and sends the answer the handler gives. It knows no endpoint: the
 * handler (cli_serve.c) does.
 *
 * Parameters come from the query string of GET and HEAD (key=value pairs split on '&', '+' a space, %XX escapes)
 * or from the JSON object body of POST (string, number and boolean values). Every key and value is checked before
 * the handler sees it: escapes must be two hex digits, the bytes valid UTF-8 without NUL, no key twice. A request
 * that fails a check or a limit is answered here with a JSON error object (render_json_error: {"line": 0, "error":
 * MESSAGE, "code": EXIT}) and a 4xx status: 400 bad request, 405 method, 413 body too large, 414 URL too long, 421
 * a Host header that does not name this machine while the server listens on a loopback address (a page elsewhere
 * whose name was made to resolve to 127.0.0.1: DNS rebinding); the connection limits and the per-request deadline
 * close connections instead.
 */
#ifndef SERVE_HTTP_H
#define SERVE_HTTP_H

#include <stddef.h>

#include "ev_error.h"

/* One parameter: key and value NUL-terminated, valid UTF-8, no NUL inside. */
typedef struct {
    const char *key;
    const char *val;
} serve_param;

/* The handler's answer. body: malloc'd (the server frees it) unless body_static (then it outlives the server). */
typedef struct {
    unsigned status;          /* 200, 400… */
    const char *content_type; /* a static string */
    char *body;
    size_t len;
    int body_static;
    const char *allow;        /* for 405: the methods allowed (the Allow header), else NULL */
} serve_reply;

/* Answers one request: method "GET", "HEAD" or "POST"; path the request's path, exactly as sent (no escapes
 * decoded); params (np) checked as above. Fills *r. Called from the server's threads, several at once. */
typedef void (*serve_handler)(void *ctx, const char *method, const char *path, const serve_param *params,
                              size_t np, serve_reply *r);

typedef struct {
    const char *host;        /* numeric IPv4 or IPv6 address to bind */
    unsigned port;           /* 0: a free port (serve_http_port says which) */
    unsigned threads;        /* threads answering requests (≥ 1) */
    size_t max_url;          /* bytes of the request target (path and query) */
    size_t max_body;         /* bytes of a POST body */
    size_t memory_limit;     /* bytes per connection for the request line and headers (MHD's) */
    unsigned max_connections, max_per_ip;
    unsigned idle_timeout;   /* seconds a connection may stay silent */
    unsigned deadline;       /* seconds a request may take from its connection (or its previous answer) to its last
                              * byte: a slow client sending a byte at a time is cut off */
} serve_limits;

/* Fills *l with the defaults (127.0.0.1:8080, 2 threads, 8 KiB URL, 4 MiB body, 32 KiB headers, 64 connections,
 * 16 per address, 10 s idle, 10 s deadline). */
void serve_limits_default(serve_limits *l);

typedef struct serve_http serve_http;

/* Starts listening and answering with fn(ctx, …) on l->threads threads. Errors: EV_ERR_USAGE (bad address),
 * EV_ERR_IO (cannot bind or start), EV_ERR_NOMEM. *out is the server to stop with serve_http_stop. */
ev_status serve_http_start(const serve_limits *l, serve_handler fn, void *ctx, serve_http **out, ev_error *err);

/* The port the server listens on. */
unsigned serve_http_port(const serve_http *h);

/* Stops answering, closes every connection, joins the threads, frees h. NULL-safe. */
void serve_http_stop(serve_http *h);

/* Decodes the query string q (n bytes, without '?') into params: at most max entries into p, keys and values
 * malloc'd in one block *block (free it). Returns the count, or (size_t)-1 with *msg a static-or-printed message
 * in msgbuf (msgcap bytes) for a bad escape, invalid UTF-8, a NUL, an empty key, a key given twice, or too many.
 * Exposed for the unit tests. */
size_t serve_parse_query(const char *q, size_t n, serve_param *p, size_t max, char **block, char *msgbuf,
                         size_t msgcap);

#endif
