/* serve_http — the HTTP side of `embvsattn serve` (serve_http.h). */
#define _POSIX_C_SOURCE 200809L
#include "serve_http.h"

#include <arpa/inet.h>
#include <cJSON.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "jsonstr.h"
#include "render_json.h"

#define MAX_PARAMS 32 /* parameters per request: every endpoint takes fewer */

void serve_limits_default(serve_limits *l)
{
    *l = (serve_limits){.host = "127.0.0.1",
                        .port = 8080,
                        .threads = 2,
                        .max_url = 8192,
                        .max_body = 4u << 20,
                        .memory_limit = 32768,
                        .max_connections = 64,
                        .max_per_ip = 16,
                        .idle_timeout = 10,
                        .deadline = 10};
}

/* ---- connections and the deadline watchdog ------------------------------------------------------------------ */

/* One open connection: its socket and when its current request began (the connection, or its previous answer). */
typedef struct conn_rec {
    int fd;
    int cut;                  /* 1: shut down by the watchdog */
    struct timespec since;
    struct conn_rec *prev, *next;
} conn_rec;

struct serve_http {
    struct MHD_Daemon *d;
    serve_limits lim;
    int loopback;         /* bound to a loopback address: the Host header must name this machine */
    char *bound;          /* the address as a Host header names it ("127.0.0.2", "[::1]") */
    serve_handler fn;
    void *ctx;
    pthread_mutex_t lock; /* guards conns and stop */
    pthread_cond_t wake;
    conn_rec *conns;
    int stop;
    pthread_t watchdog;
    int watchdog_started;
};

static double since_s(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

/* Every quarter second: shuts down the socket of each connection whose request has taken longer than the deadline
 * (MHD then sees the connection end and closes it in its own thread). */
static void *watchdog_run(void *arg)
{
    serve_http *h = arg;
    pthread_mutex_lock(&h->lock);
    while (!h->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 250000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&h->wake, &h->lock, &until);
        for (conn_rec *c = h->conns; c && !h->stop; c = c->next)
            if (!c->cut && since_s(&c->since) > (double)h->lim.deadline) {
                shutdown(c->fd, SHUT_RDWR);
                c->cut = 1;
            }
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

static void on_connection(void *cls, struct MHD_Connection *con, void **socket_ctx,
                          enum MHD_ConnectionNotificationCode what)
{
    serve_http *h = cls;
    if (what == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(con, MHD_CONNECTION_INFO_CONNECTION_FD);
        conn_rec *c = calloc(1, sizeof *c);
        *socket_ctx = c;
        if (!c || !ci)
            return;
        c->fd = ci->connect_fd;
        clock_gettime(CLOCK_MONOTONIC, &c->since);
        pthread_mutex_lock(&h->lock);
        c->next = h->conns;
        if (h->conns)
            h->conns->prev = c;
        h->conns = c;
        pthread_mutex_unlock(&h->lock);
    } else if (what == MHD_CONNECTION_NOTIFY_CLOSED) {
        conn_rec *c = *socket_ctx;
        if (!c)
            return;
        pthread_mutex_lock(&h->lock);
        if (c->prev)
            c->prev->next = c->next;
        else if (h->conns == c)
            h->conns = c->next;
        if (c->next)
            c->next->prev = c->prev;
        pthread_mutex_unlock(&h->lock);
        free(c);
        *socket_ctx = NULL;
    }
}

/* ---- one request ------------------------------------------------------------------------------------------- */

typedef struct {
    char *target;        /* the request target as sent (path and query); NULL when over max_url */
    int too_long;
    int started;         /* the handler saw the headers */
    char *body;          /* POST body so far */
    size_t len, cap;
    int answered;        /* a response was queued */
} request;

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *con)
{
    (void)con;
    serve_http *h = cls;
    request *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    size_t n = strlen(uri);
    if (n > h->lim.max_url)
        r->too_long = 1;
    else if (!(r->target = strdup(uri))) {
        free(r);
        return NULL;
    }
    return r;
}

static void on_completed(void *cls, struct MHD_Connection *con, void **req_ctx, enum MHD_RequestTerminationCode why)
{
    (void)why;
    serve_http *h = cls;
    request *r = *req_ctx;
    if (r) {
        free(r->target);
        free(r->body);
        free(r);
        *req_ctx = NULL;
    }
    /* the next request on this connection has its own deadline */
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(con, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (ci && ci->socket_context) {
        pthread_mutex_lock(&h->lock);
        clock_gettime(CLOCK_MONOTONIC, &((conn_rec *)ci->socket_context)->since);
        pthread_mutex_unlock(&h->lock);
    }
}

static enum MHD_Result send_reply(struct MHD_Connection *con, request *rq, serve_reply *r)
{
    struct MHD_Response *resp =
        r->body_static ? MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_PERSISTENT)
                       : MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        if (!r->body_static)
            free(r->body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    if (r->allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
    enum MHD_Result ok = MHD_queue_response(con, r->status, resp);
    MHD_destroy_response(resp);
    if (rq)
        rq->answered = 1;
    return ok;
}

/* An error answer: the JSON error object with status and the printf-style message (allocated to its length). */
static enum MHD_Result send_error(struct MHD_Connection *con, request *rq, unsigned status, int code,
                                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static enum MHD_Result send_error(struct MHD_Connection *con, request *rq, unsigned status, int code,
                                  const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = ev_vstrdup_printf(fmt, ap);
    va_end(ap);
    cJSON *e = msg ? render_json_error(0, msg, code) : NULL;
    free(msg);
    char *txt = e ? cJSON_PrintUnformatted(e) : NULL;
    cJSON_Delete(e);
    if (!txt)
        return MHD_NO;
    size_t len = strlen(txt);
    char *body = realloc(txt, len + 2);
    if (!body) {
        free(txt);
        return MHD_NO;
    }
    body[len] = '\n';
    body[len + 1] = '\0';
    serve_reply r = {status, "application/json; charset=utf-8", body, len + 1, 0, NULL};
    return send_reply(con, rq, &r);
}

/* The length of s cut to at most max bytes at a character boundary (names are echoed in messages up to 64 bytes). */
static int cut(const char *s, size_t max)
{
    size_t l = strlen(s);
    if (l <= max)
        return (int)l;
    l = max;
    while (l > 0 && ((unsigned char)s[l] & 0xC0) == 0x80)
        l--;
    return (int)l;
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Decodes [p, p+n) ('+' a space, %XX) into out (room for n + 1), NUL-terminated; returns its length, or -1 with a
 * message for a bad escape (offset: of p in the query, for the message). */
static long decode_part(const char *p, size_t n, char *out, size_t offset, char *msg, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '+')
            out[o++] = ' ';
        else if (p[i] == '%') {
            int a = i + 1 < n ? hexval((unsigned char)p[i + 1]) : -1, b = i + 2 < n ? hexval((unsigned char)p[i + 2]) : -1;
            if (a < 0 || b < 0) {
                snprintf(msg, cap, "bad percent escape at byte %zu of the query: expected %% and two hex digits, "
                                   "found '%.*s'", offset + i + 1, (int)(n - i < 3 ? n - i : 3), p + i);
                return -1;
            }
            out[o++] = (char)(a * 16 + b);
            i += 2;
        } else
            out[o++] = p[i];
    }
    out[o] = '\0';
    return (long)o;
}

size_t serve_parse_query(const char *q, size_t n, serve_param *p, size_t max, char **block, char *msg, size_t cap)
{
    *block = malloc(2 * n + 2);
    if (!*block) {
        snprintf(msg, cap, "out of memory");
        return (size_t)-1;
    }
    char *w = *block;
    size_t np = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && q[j] != '&')
            j++;
        if (j > i) { /* an empty part ("a=1&&b=2") is skipped */
            size_t eq = i;
            while (eq < j && q[eq] != '=')
                eq++;
            if (np == max) {
                snprintf(msg, cap, "too many parameters (at most %zu)", max);
                return (size_t)-1;
            }
            char *key = w;
            long kl = decode_part(q + i, eq - i, key, i, msg, cap);
            if (kl < 0)
                return (size_t)-1;
            w += kl + 1;
            char *val = w;
            long vl = eq < j ? decode_part(q + eq + 1, j - eq - 1, val, eq + 1, msg, cap) : 0;
            if (vl < 0)
                return (size_t)-1;
            if (eq == j)
                val[0] = '\0';
            w += vl + 1;
            if (kl == 0) {
                snprintf(msg, cap, "empty parameter name at byte %zu of the query", i + 1);
                return (size_t)-1;
            }
            if (!jsonstr_valid(key, (size_t)kl)) {
                snprintf(msg, cap, "parameter name at byte %zu of the query: expected UTF-8 text without NUL, "
                                   "found invalid bytes", i + 1);
                return (size_t)-1;
            }
            if (!jsonstr_valid(val, (size_t)vl)) {
                snprintf(msg, cap, "parameter '%.*s': expected UTF-8 text without NUL, found invalid bytes", cut(key, 64), key);
                return (size_t)-1;
            }
            for (size_t k = 0; k < np; k++)
                if (strcmp(p[k].key, key) == 0) {
                    snprintf(msg, cap, "parameter '%.*s' given twice", cut(key, 64), key);
                    return (size_t)-1;
                }
            p[np++] = (serve_param){key, val};
        }
        i = j + 1;
    }
    return np;
}

/* The POST body's JSON object into params (keys and values copied into *block). Returns the count or (size_t)-1
 * with a message. */
static size_t parse_body(const char *body, size_t n, serve_param *p, size_t max, char **block, char *msg, size_t cap)
{
    *block = NULL;
    if (!jsonstr_valid(body, n)) {
        snprintf(msg, cap, "the body: expected a JSON object in UTF-8 without NUL, found invalid bytes");
        return (size_t)-1;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(body, n, &end, 0);
    if (!root || !cJSON_IsObject(root)) {
        /* on failure cJSON sets end to where parsing stopped (its global cJSON_GetErrorPtr is shared by threads) */
        size_t at = end && end >= body && end <= body + n ? (size_t)(end - body) : 0;
        if (root)
            snprintf(msg, cap, "the body: expected a JSON object, found another JSON value");
        else
            snprintf(msg, cap, "the body: expected a JSON object, found malformed JSON near byte %zu", at + 1);
        cJSON_Delete(root);
        return (size_t)-1;
    }
    size_t need = 1;
    for (cJSON *it = root->child; it; it = it->next)
        need += strlen(it->string) + 1 + (cJSON_IsString(it) ? strlen(it->valuestring) : 32) + 1;
    char *w = *block = malloc(need);
    size_t np = 0;
    if (!w) {
        cJSON_Delete(root);
        snprintf(msg, cap, "out of memory");
        return (size_t)-1;
    }
    for (cJSON *it = root->child; it; it = it->next) {
        if (np == max) {
            snprintf(msg, cap, "too many parameters (at most %zu)", max);
            np = (size_t)-1;
            break;
        }
        size_t kl = strlen(it->string);
        char *key = w;
        memcpy(key, it->string, kl + 1);
        w += kl + 1;
        char *val = w;
        if (cJSON_IsString(it))
            strcpy(val, it->valuestring);
        else if (cJSON_IsBool(it))
            strcpy(val, cJSON_IsTrue(it) ? "1" : "0");
        else if (cJSON_IsNumber(it) && it->valuedouble >= 0 && it->valuedouble <= 1e15 &&
                 it->valuedouble == (double)(long long)it->valuedouble)
            snprintf(val, 32, "%lld", (long long)it->valuedouble);
        else {
            snprintf(msg, cap, "parameter '%.*s': expected a string, a non-negative integer or a boolean", cut(key, 64),
                     key);
            np = (size_t)-1;
            break;
        }
        w += strlen(val) + 1;
        if (kl == 0 || !jsonstr_valid(key, kl) || !jsonstr_valid(val, strlen(val))) {
            snprintf(msg, cap, "the body: expected non-empty names and UTF-8 text without NUL");
            np = (size_t)-1;
            break;
        }
        int twice = 0;
        for (size_t k = 0; k < np; k++)
            twice |= strcmp(p[k].key, key) == 0;
        if (twice) {
            snprintf(msg, cap, "parameter '%.*s' given twice", cut(key, 64), key);
            np = (size_t)-1;
            break;
        }
        p[np++] = (serve_param){key, val};
    }
    cJSON_Delete(root);
    return np;
}

/* Parses the request's parameters and asks the handler. */
static enum MHD_Result answer(serve_http *h, struct MHD_Connection *con, request *rq, const char *method, int post)
{
    const char *t = rq->target, *qm = strchr(t, '?');
    size_t plen = qm ? (size_t)(qm - t) : strlen(t);
    char *path = strndup(t, plen);
    if (!path)
        return MHD_NO;
    serve_param params[MAX_PARAMS];
    char *block = NULL, msg[300]; /* every message fits: fixed words, numbers and names cut at 64 bytes */
    size_t np;
    if (post && qm)
        np = (size_t)-1, snprintf(msg, sizeof msg, "POST takes its parameters in a JSON object body, not the query");
    else if (post)
        np = parse_body(rq->body ? rq->body : "", rq->len, params, MAX_PARAMS, &block, msg, sizeof msg);
    else
        np = qm ? serve_parse_query(qm + 1, strlen(qm + 1), params, MAX_PARAMS, &block, msg, sizeof msg) : 0;
    enum MHD_Result res;
    if (np == (size_t)-1)
        res = send_error(con, rq, MHD_HTTP_BAD_REQUEST, EV_ERR_USAGE, "%s", msg);
    else {
        serve_reply r = {0};
        h->fn(h->ctx, method, path, params, np, &r);
        res = r.body ? send_reply(con, rq, &r) : send_error(con, rq, 500, EV_ERR_NOMEM, "out of memory");
    }
    free(block);
    free(path);
    return res;
}

/* Whether a request's Host header names this machine (127.0.0.1, localhost, [::1], the address listened on; any
 * port), or there is none
 * (HTTP/1.0). On a loopback address anything else is a page elsewhere whose name was made to resolve to 127.0.0.1
 * (DNS rebinding): refused. */
static int host_is_local(const serve_http *sh, struct MHD_Connection *con)
{
    const char *h = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    if (!h)
        return 1;
    const char *const names[] = {"127.0.0.1", "localhost", "[::1]", sh->bound};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t l = strlen(names[i]);
        if (strncasecmp(h, names[i], l) == 0 && (h[l] == '\0' || h[l] == ':'))
            return 1;
    }
    return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *con, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **req_ctx)
{
    (void)url, (void)version;
    serve_http *h = cls;
    request *rq = *req_ctx;
    if (!rq)
        return MHD_NO; /* out of memory at the request line */
    if (rq->answered) { /* answered early (413): the rest of the body is dropped */
        *upload_size = 0;
        return MHD_YES;
    }
    int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0, post = strcmp(method, "POST") == 0;
    if (!rq->started) {
        rq->started = 1;
        if (h->loopback && !host_is_local(h, con))
            return send_error(con, rq, 421 /* misdirected request */, EV_ERR_USAGE,
                              "the Host header must name this machine (127.0.0.1, localhost or [::1]): the server "
                              "listens on a loopback address");
        if (rq->too_long)
            return send_error(con, rq, MHD_HTTP_URI_TOO_LONG, EV_ERR_USAGE,
                              "the request target is longer than %zu bytes: send long sentences by POST with a "
                              "JSON body", h->lim.max_url);
        if (!get && !post) {
            serve_reply r = {0};
            char *m = strdup("{\"line\":0,\"error\":\"method not allowed: expected GET, HEAD or POST\",\"code\":2}\n");
            if (!m)
                return MHD_NO;
            r = (serve_reply){MHD_HTTP_METHOD_NOT_ALLOWED, "application/json; charset=utf-8", m, strlen(m), 0,
                              "GET, HEAD, POST"};
            return send_reply(con, rq, &r);
        }
        if (post) {
            const char *cl = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
            if (cl && strtoull(cl, NULL, 10) > h->lim.max_body)
                return send_error(con, rq, 413 /* content too large */, EV_ERR_NOMEM,
                                  "the body is longer than %zu bytes", h->lim.max_body);
            return MHD_YES; /* the body follows */
        }
        return answer(h, con, rq, method, 0);
    }
    if (*upload_size) {
        if (!post) { /* a body on GET: ignored */
            *upload_size = 0;
            return MHD_YES;
        }
        if (rq->len + *upload_size > h->lim.max_body) {
            *upload_size = 0;
            return send_error(con, rq, 413 /* content too large */, EV_ERR_NOMEM, "the body is longer than %zu bytes",
                              h->lim.max_body);
        }
        if (rq->len + *upload_size + 1 > rq->cap) {
            size_t cap = rq->cap ? rq->cap : 4096;
            while (cap < rq->len + *upload_size + 1)
                cap *= 2;
            char *b = realloc(rq->body, cap);
            if (!b)
                return MHD_NO;
            rq->body = b;
            rq->cap = cap;
        }
        memcpy(rq->body + rq->len, upload, *upload_size);
        rq->len += *upload_size;
        rq->body[rq->len] = '\0';
        *upload_size = 0;
        return MHD_YES;
    }
    return post ? answer(h, con, rq, method, 1) : MHD_YES;
}

/* MHD's own messages (a malformed request, a full connection table) are not errors of the server: dropped. */
static void on_log(void *cls, const char *fmt, va_list ap) { (void)cls, (void)fmt, (void)ap; }

ev_status serve_http_start(const serve_limits *l, serve_handler fn, void *ctx, serve_http **out, ev_error *err)
{
    *out = NULL;
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    memset(&a4, 0, sizeof a4);
    memset(&a6, 0, sizeof a6);
    int v6 = 0;
    if (inet_pton(AF_INET, l->host, &a4.sin_addr) == 1) {
        a4.sin_family = AF_INET;
        a4.sin_port = htons((unsigned short)l->port);
    } else if (inet_pton(AF_INET6, l->host, &a6.sin6_addr) == 1) {
        a6.sin6_family = AF_INET6;
        a6.sin6_port = htons((unsigned short)l->port);
        v6 = 1;
    } else
        return ev_fail(err, EV_ERR_USAGE, "--host: expected a numeric IPv4 or IPv6 address, found '%s'", l->host);
    serve_http *h = calloc(1, sizeof *h);
    if (!h)
        return ev_fail(err, EV_ERR_NOMEM, "out of memory starting the server");
    h->lim = *l;
    h->loopback = v6 ? IN6_IS_ADDR_LOOPBACK(&a6.sin6_addr) : (ntohl(a4.sin_addr.s_addr) >> 24) == 127;
    h->bound = v6 ? ev_strdup_printf("[%s]", l->host) : ev_strdup_printf("%s", l->host);
    if (!h->bound) {
        free(h);
        return ev_fail(err, EV_ERR_NOMEM, "out of memory starting the server");
    }
    h->fn = fn;
    h->ctx = ctx;
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->wake, NULL);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);
    h->d = MHD_start_daemon(flags, (uint16_t)l->port, NULL, NULL, on_request, h,
                            MHD_OPTION_SOCK_ADDR, v6 ? (struct sockaddr *)&a6 : (struct sockaddr *)&a4,
                            MHD_OPTION_THREAD_POOL_SIZE, l->threads < 1 ? 1u : l->threads,
                            MHD_OPTION_CONNECTION_LIMIT, l->max_connections,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, l->max_per_ip,
                            MHD_OPTION_CONNECTION_TIMEOUT, l->idle_timeout,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, l->memory_limit,
                            MHD_OPTION_URI_LOG_CALLBACK, on_uri, h,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
                            MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
                            MHD_OPTION_EXTERNAL_LOGGER, on_log, h,
                            MHD_OPTION_END);
    if (!h->d) {
        int e = errno;
        pthread_mutex_destroy(&h->lock);
        pthread_cond_destroy(&h->wake);
        free(h->bound);
        free(h);
        return ev_fail(err, EV_ERR_IO, "cannot listen on %s port %u%s%s", l->host, l->port, e ? ": " : "",
                       e ? strerror(e) : "");
    }
    if (pthread_create(&h->watchdog, NULL, watchdog_run, h) == 0)
        h->watchdog_started = 1;
    *out = h;
    return EV_OK;
}

unsigned serve_http_port(const serve_http *h)
{
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    return di ? di->port : h->lim.port;
}

void serve_http_stop(serve_http *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->lock);
    h->stop = 1;
    pthread_cond_signal(&h->wake);
    pthread_mutex_unlock(&h->lock);
    if (h->watchdog_started)
        pthread_join(h->watchdog, NULL);
    MHD_stop_daemon(h->d);
    pthread_mutex_destroy(&h->lock);
    pthread_cond_destroy(&h->wake);
    free(h->bound);
    free(h);
}
