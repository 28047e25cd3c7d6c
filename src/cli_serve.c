/* cli_serve — `embvsattn serve`: the page at / and the JSON API (docs/serve.md) over serve_http.h.
 *
 * The vectors are mapped and the heads loaded once, at start. Each request's parameters become the options of a
 * cli_opts, applied by cli_apply_option exactly as the command line applies them (api_params below: one line per
 * parameter), and the documents come from the CLI's own code (view_doc.h, cli_compare_doc, cli_neighbors_answer,
 * cli_analogy_answer) with the thread's output captured (cli_capture): an answer is byte for byte what
 * `embvsattn --format json …` prints, and an error is that command's message in a JSON error object. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_internal.h"
#include "head_file.h"
#include "render_html.h"
#include "render_json.h"
#include "serve_http.h"
#include "view_doc.h"

#define SERVE_MAX_K 1000                 /* -k over the API: lists longer than this are for the CLI */
#define SERVE_CACHE_BYTES ((size_t)8 << 20) /* a thread's static-neighbour cache starts afresh past this */
#define PAGE_SENTENCE "France is a country, it is in Europe" /* the page's first document (the README's) */
#define JSON_TYPE "application/json; charset=utf-8"

/* ---- the parameters --------------------------------------------------------------------------------------- */

enum { EP_VIEW = 1, EP_COMPARE = 2, EP_NEIGHBORS = 4, EP_ANALOGY = 8, EP_HEADS = 16 };

/* Each option parameter: its name in the API (the CLI's long option without "--"), the option it sets, and the
 * endpoints that take it. Adding a parameter is adding a line. */
static const struct {
    const char *param, *option;
    unsigned endpoints;
} api_params[] = {
    {"head", "--head", EP_VIEW | EP_COMPARE},
    {"k", "-k", EP_VIEW | EP_COMPARE | EP_NEIGHBORS | EP_ANALOGY},
    {"top", "--top", EP_VIEW | EP_COMPARE},
    {"restrict", "--restrict", EP_VIEW | EP_COMPARE | EP_NEIGHBORS | EP_ANALOGY},
    {"positions", "--positions", EP_VIEW | EP_COMPARE},
    {"position-scale", "--position-scale", EP_VIEW | EP_COMPARE},
    {"causal", "--causal", EP_VIEW | EP_COMPARE},
    {"residual", "--residual", EP_VIEW | EP_COMPARE},
    {"why", "--why", EP_VIEW | EP_COMPARE},
    {"steps", "--steps", EP_VIEW | EP_COMPARE},
    {"predict", "--predict", EP_VIEW},
    {"mask", "--mask", EP_VIEW},
    {"context-vectors", "--context-vectors", EP_VIEW},
    {"word", "--word", EP_COMPARE},
    {"method", "--method", EP_ANALOGY},
};

/* The endpoints: path, its bit, and its positional parameters (the command's arguments, in order). */
static const struct {
    const char *path;
    unsigned ep;
    const char *pos[3];
} api_paths[] = {
    {"/api/view", EP_VIEW, {"s"}},
    {"/api/compare", EP_COMPARE, {"s1", "s2"}},
    {"/api/neighbors", EP_NEIGHBORS, {"w"}},
    {"/api/analogy", EP_ANALOGY, {"a", "b", "c"}},
    {"/api/heads", EP_HEADS, {NULL}},
};

/* ---- the server's state ------------------------------------------------------------------------------------ */

typedef struct {
    char *name; /* as the head parameter names it: the built-in's name or the --head SPEC */
    attn_head *head;
} loaded_head;

/* A thread's scratch: its static-neighbour cache (view.h), never shared. */
typedef struct worker {
    view_cache *cache;
    struct worker *next;
} worker;

typedef struct {
    store *s;
    char *vectors_path;
    loaded_head *heads;
    size_t nheads;
    const char *default_head; /* the name of heads[k] used without a head parameter */
    char *page;               /* / : the page of PAGE_SENTENCE */
    size_t page_len;
    pthread_mutex_t lock;     /* guards workers */
    worker *workers;
} server;

static _Thread_local worker *this_worker;

/* The calling thread's cache (created on first use; NULL when out of memory: the view then goes without). */
static view_cache *thread_cache(server *sv)
{
    if (!this_worker) {
        worker *w = calloc(1, sizeof *w);
        if (!w)
            return NULL;
        pthread_mutex_lock(&sv->lock);
        w->next = sv->workers;
        sv->workers = w;
        pthread_mutex_unlock(&sv->lock);
        this_worker = w;
    }
    if (view_cache_bytes(this_worker->cache) > SERVE_CACHE_BYTES) { /* bounded: start afresh */
        view_cache_free(this_worker->cache);
        this_worker->cache = NULL;
    }
    if (!this_worker->cache)
        this_worker->cache = view_cache_new(sv->s);
    return this_worker->cache;
}

static const loaded_head *find_head(const server *sv, const char *name)
{
    for (size_t i = 0; i < sv->nheads; i++)
        if (strcmp(sv->heads[i].name, name) == 0)
            return &sv->heads[i];
    return NULL;
}

/* ---- answers ------------------------------------------------------------------------------------------------ */

/* A request's captured output: what the CLI would print on stdout (out) and stderr (err). */
typedef struct {
    char *out, *err;
    size_t out_len, err_len;
    FILE *fo, *fe;
} capture;

static int capture_begin(capture *c)
{
    memset(c, 0, sizeof *c);
    c->fo = open_memstream(&c->out, &c->out_len);
    c->fe = open_memstream(&c->err, &c->err_len);
    if (!c->fo || !c->fe) {
        if (c->fo)
            fclose(c->fo);
        if (c->fe)
            fclose(c->fe);
        free(c->out);
        free(c->err);
        return -1;
    }
    cli_capture(c->fo, c->fe);
    return 0;
}

static void capture_end(capture *c)
{
    cli_capture(NULL, NULL);
    fclose(c->fo);
    fclose(c->fe);
}

static unsigned status_of(int code)
{
    switch (code) {
    case EV_ERR_USAGE:
    case EV_ERR_FORMAT: return 400;
    case EV_ERR_NOTFOUND: return 422;
    case EV_ERR_NOMEM: return 413; /* over a limit (tokens, bytes) */
    default: return 500;
    }
}

/* An error answer: {"line": 0, "error": message, "code": code} (message without the "embvsattn: " prefix, its first
 * line only: the usage line is for terminals). */
static void reply_error(serve_reply *r, unsigned status, int code, const char *message)
{
    const char *m = message && *message ? message : "error";
    if (strncmp(m, PROG ": ", sizeof PROG + 1) == 0)
        m += sizeof PROG + 1;
    size_t l = strcspn(m, "\n");
    char *one = strndup(m, l);
    cJSON *e = render_json_error(0, one ? one : "error", code);
    free(one);
    char *txt = e ? cJSON_PrintUnformatted(e) : NULL;
    cJSON_Delete(e);
    size_t n = txt ? strlen(txt) : 0;
    char *body = txt ? realloc(txt, n + 2) : NULL;
    if (!body) {
        free(txt);
        return; /* r->body NULL: serve_http answers 500 */
    }
    memcpy(body + n, "\n", 2);
    *r = (serve_reply){status, JSON_TYPE, body, n + 1, 0, NULL};
}

static void reply_errorf(serve_reply *r, unsigned status, int code, const char *fmt, const char *arg)
{
    char *m = ev_strdup_printf(fmt, arg);
    reply_error(r, status, code, m ? m : "out of memory");
    free(m);
}

/* The answer from a capture: its document when the command printed one (200), else its error. Consumes c. */
static void reply_capture(serve_reply *r, capture *c, int code)
{
    if (c->out_len > 0) {
        *r = (serve_reply){200, JSON_TYPE, c->out, c->out_len, 0, NULL};
        c->out = NULL;
    } else
        reply_error(r, status_of(code ? code : EV_ERR_NOMEM), code ? code : EV_ERR_NOMEM, c->err);
    free(c->out);
    free(c->err);
}

/* The view of o->pos[0] under the head o names, printed on cli_stdout(). Returns 0 or an exit code (the message
 * on cli_stderr()). */
static int view_answer(server *sv, const cli_opts *o, view_opts *vo)
{
    const char *text = o->pos[0];
    size_t len = strlen(text);
    view_sentence v;
    ev_error e = {0};
    memset(&v, 0, sizeof v);
    if (view_build_many(sv->s, &text, &len, 1, vo, thread_cache(sv), &v, &e) != EV_OK || e.code != EV_OK) {
        ev_error err = {0};
        ev_fail(&err, e.code ? e.code : EV_ERR_NOMEM, "%s", e.msg ? e.msg : "out of memory building the view");
        ev_error_clear(&e);
        view_free(&v);
        return cli_report(&err);
    }
    cJSON *doc = view_doc_view(sv->s, &v, vo, sv->vectors_path);
    view_free(&v);
    return cli_print_json(doc);
}

/* The head o names (the default without one) and its view options into *vo. Returns 0 or an exit code (the
 * message on cli_stderr()). */
static int head_opts(server *sv, const cli_opts *o, view_opts *vo)
{
    const char *name = o->head ? o->head : sv->default_head;
    const loaded_head *h = find_head(sv, name);
    if (!h) {
        size_t n = 1;
        for (size_t i = 0; i < sv->nheads; i++)
            n += strlen(sv->heads[i].name) + 2;
        char *list = calloc(1, n);
        for (size_t i = 0; list && i < sv->nheads; i++)
            strcat(strcat(list, i ? ", " : ""), sv->heads[i].name);
        char *q = ev_quote(name, strlen(name), 200);
        fprintf(cli_stderr(), PROG ": head '%s' is not loaded (loaded: %s; others with serve --head SPEC)\n",
                q ? q : name, list ? list : "");
        free(q);
        free(list);
        return EV_ERR_USAGE;
    }
    return cli_view_opts(o, sv->s, h->head, name, vo);
}

/* GET /api/heads: {"default": NAME, "heads": [{"name", "head": the view's head object}]}. */
static int heads_answer(server *sv)
{
    cJSON *root = cJSON_CreateObject(), *arr;
    jsonstr_add_cstr(root, "default", sv->default_head);
    arr = cJSON_AddArrayToObject(root, "heads");
    for (size_t i = 0; i < sv->nheads; i++) {
        cli_opts o = {0};
        view_opts vo;
        o.format = OUT_JSON;
        if (cli_view_opts(&o, sv->s, sv->heads[i].head, sv->heads[i].name, &vo))
            continue;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, e);
        jsonstr_add_cstr(e, "name", sv->heads[i].name);
        cJSON_AddItemToObject(e, "head", render_json_head(&vo));
    }
    return cli_print_json(root);
}

/* 1 for a flag parameter's "yes" ("", 1, true), 0 for "no" (0, false), -1 otherwise. */
static int flag_value(const char *v)
{
    if (!*v || strcmp(v, "1") == 0 || strcmp(v, "true") == 0)
        return 1;
    return strcmp(v, "0") == 0 || strcmp(v, "false") == 0 ? 0 : -1;
}

/* Applies the parameters of endpoint e to o (positional ones into pos). Returns 0 or an exit code (the message on
 * cli_stderr()). */
static int apply_params(size_t e, const serve_param *p, size_t np, cli_opts *o, char **pos)
{
    for (size_t i = 0; i < np; i++) {
        int done = 0;
        for (int k = 0; k < 3 && api_paths[e].pos[k]; k++)
            if (strcmp(p[i].key, api_paths[e].pos[k]) == 0) {
                pos[k] = (char *)p[i].val;
                done = 1;
            }
        for (size_t k = 0; !done && k < sizeof api_params / sizeof api_params[0]; k++) {
            if (strcmp(p[i].key, api_params[k].param) != 0 || !(api_params[k].endpoints & api_paths[e].ep))
                continue;
            done = 1;
            int code = 0;
            int is_flag = 0;
            for (size_t c = 0; c < cli_n_options; c++)
                if (strcmp(cli_options[c].name, api_params[k].option) == 0)
                    is_flag = !cli_options[c].arg;
            if (is_flag) {
                int f = flag_value(p[i].val);
                if (f < 0) {
                    fprintf(cli_stderr(), PROG ": parameter '%s': expected 1, true, 0 or false\n", p[i].key);
                    return EV_ERR_USAGE;
                }
                if (f)
                    code = cli_apply_option(o, api_params[k].option, NULL);
            } else
                code = cli_apply_option(o, api_params[k].option, p[i].val);
            if (code)
                return code;
        }
        if (!done) {
            char *q = ev_quote(p[i].key, strlen(p[i].key), 64);
            fprintf(cli_stderr(), PROG ": unknown parameter '%s' for %s\n", q ? q : "?", api_paths[e].path);
            free(q);
            return EV_ERR_USAGE;
        }
    }
    for (int k = 0; k < 3 && api_paths[e].pos[k]; k++)
        if (!pos[k]) {
            fprintf(cli_stderr(), PROG ": %s: parameter '%s' is missing\n", api_paths[e].path, api_paths[e].pos[k]);
            return EV_ERR_USAGE;
        }
    if (o->k_given && o->k > SERVE_MAX_K) {
        fprintf(cli_stderr(), PROG ": -k: at most %d over the API, found %zu\n", SERVE_MAX_K, o->k);
        return EV_ERR_USAGE;
    }
    return 0;
}

/* Endpoint e's answer, printed on cli_stdout(). Returns 0 or an exit code. */
static int api_answer(server *sv, size_t e, const serve_param *p, size_t np)
{
    cli_opts o = {0};
    char *pos[3] = {NULL, NULL, NULL};
    o.format = OUT_JSON;
    o.pos = pos;
    int code = apply_params(e, p, np, &o, pos);
    while (o.npos < 3 && pos[o.npos])
        o.npos++;
    view_opts vo;
    if (!code)
        switch (api_paths[e].ep) {
        case EP_VIEW:
            o.command = "show";
            if (!(code = head_opts(sv, &o, &vo)))
                code = view_answer(sv, &o, &vo);
            break;
        case EP_COMPARE: {
            o.command = "compare";
            cJSON *doc = NULL;
            if (!(code = head_opts(sv, &o, &vo)) &&
                !(code = cli_compare_doc(&o, sv->s, sv->vectors_path, &vo, thread_cache(sv), &doc)))
                code = cli_print_json(doc);
            break;
        }
        case EP_NEIGHBORS:
            o.command = "neighbors";
            code = cli_neighbors_answer(&o, sv->s);
            break;
        case EP_ANALOGY:
            o.command = "analogy";
            code = cli_analogy_answer(&o, sv->s);
            break;
        default: code = heads_answer(sv); break;
        }
    free(o.head_all);
    free(o.terms);
    free(o.term_neg);
    return code;
}

static void handle(void *ctx, const char *method, const char *path, const serve_param *p, size_t np, serve_reply *r)
{
    server *sv = ctx;
    if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0) {
        if (strcmp(method, "POST") == 0) {
            reply_error(r, 405, EV_ERR_USAGE, "method not allowed: the page is GET only");
            r->allow = "GET, HEAD";
        } else if (np)
            reply_errorf(r, 400, EV_ERR_USAGE, "unknown parameter '%s' for /: the page takes none", p[0].key);
        else
            *r = (serve_reply){200, "text/html; charset=utf-8", sv->page, sv->page_len, 1, NULL};
        return;
    }
    for (size_t e = 0; e < sizeof api_paths / sizeof api_paths[0]; e++)
        if (strcmp(path, api_paths[e].path) == 0) {
            capture c;
            if (capture_begin(&c)) {
                reply_error(r, 500, EV_ERR_NOMEM, "out of memory");
                return;
            }
            int code = api_answer(sv, e, p, np);
            capture_end(&c);
            reply_capture(r, &c, code);
            return;
        }
    reply_errorf(r, 404, EV_ERR_USAGE, "no such path: '%s' (the page is /, the API /api/view, /api/compare, "
                                       "/api/neighbors, /api/analogy, /api/heads)", path);
}

/* ---- start and stop ------------------------------------------------------------------------------------------ */

/* Loads a head under name (spec: how to resolve it). Returns 0, 1 when a built-in does not fit the vectors
 * (skipped), or an exit code (the error printed). */
static int load_head(server *sv, const char *name, const char *spec)
{
    if (find_head(sv, name))
        return 0;
    ev_error err = {0};
    attn_head *h = NULL;
    ev_status st = head_file_resolve(spec, sv->s, 0, &h, &err);
    if (st == EV_ERR_NOTFOUND && head_file_is_builtin(spec)) {
        ev_error_clear(&err);
        return 1;
    }
    if (st != EV_OK)
        return cli_report(&err);
    loaded_head *nh = realloc(sv->heads, (sv->nheads + 1) * sizeof *nh);
    char *n = strdup(name);
    if (!nh || !n) {
        free(n);
        attn_head_free(h);
        if (nh)
            sv->heads = nh;
        fprintf(stderr, PROG ": out of memory loading the heads\n");
        return EV_ERR_NOMEM;
    }
    sv->heads = nh;
    sv->heads[sv->nheads++] = (loaded_head){n, h};
    return 0;
}

/* The page at /: the HTML page of PAGE_SENTENCE under the default head, with the API's address in its head. */
static int build_page(server *sv)
{
    cli_opts o = {0};
    view_opts vo;
    char *pos[1] = {PAGE_SENTENCE};
    o.format = OUT_HTML;
    o.pos = pos;
    o.npos = 1;
    int code = head_opts(sv, &o, &vo);
    const char *text = PAGE_SENTENCE;
    size_t len = strlen(text);
    view_sentence v;
    ev_error err = {0};
    if (code)
        return code;
    if (view_build(sv->s, text, len, &vo, &v, &err) != EV_OK)
        return cli_report(&err);
    cJSON *doc = view_doc_view(sv->s, &v, &vo, sv->vectors_path);
    view_free(&v);
    FILE *fp = open_memstream(&sv->page, &sv->page_len);
    if (!doc || !fp) {
        cJSON_Delete(doc);
        if (fp)
            fclose(fp);
        fprintf(stderr, PROG ": out of memory building the page\n");
        return EV_ERR_NOMEM;
    }
    ev_status st = render_html_view_api(fp, doc, "/api/", &err);
    cJSON_Delete(doc);
    fclose(fp);
    return st == EV_OK ? 0 : cli_report(&err);
}

static void server_free(server *sv)
{
    for (size_t i = 0; i < sv->nheads; i++) {
        free(sv->heads[i].name);
        attn_head_free(sv->heads[i].head);
    }
    free(sv->heads);
    for (worker *w = sv->workers, *next; w; w = next) {
        next = w->next;
        view_cache_free(w->cache);
        free(w);
    }
    free(sv->page);
    free(sv->vectors_path);
    store_close(sv->s);
    pthread_mutex_destroy(&sv->lock);
}

int cmd_serve(cli_opts *o)
{
    server sv = {0};
    int code = 0;
    pthread_mutex_init(&sv.lock, NULL);
    sv.s = cli_open_vectors(o, &code);
    if (!sv.s) {
        pthread_mutex_destroy(&sv.lock);
        return code;
    }
    sv.vectors_path = cli_vectors_label(o);
    /* the heads: the built-in trained ones that fit the vectors, identity, random, then --head SPEC... */
    static const char *const builtin[] = {"context", "mlm", "identity", "random"};
    for (size_t i = 0; !code && i < sizeof builtin / sizeof builtin[0]; i++) {
        int r = load_head(&sv, builtin[i], builtin[i]);
        code = r == 1 ? 0 : r;
    }
    for (char *all = o->head_all, *p = all; !code && p && *p;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        int r = load_head(&sv, p, p);
        code = r == 1 ? 0 : r;
        p = comma ? comma + 1 : NULL;
    }
    sv.default_head = find_head(&sv, cli_default_head()) ? cli_default_head() : "identity";
    if (!code)
        code = build_page(&sv);
    serve_limits lim;
    serve_limits_default(&lim);
    if (o->host)
        lim.host = o->host;
    if (o->port_given)
        lim.port = (unsigned)o->port;
    if (o->timeout)
        lim.idle_timeout = lim.deadline = (unsigned)o->timeout;
    /* SIGINT and SIGTERM are waited for below: blocked here, before any thread starts, so every thread inherits it */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    serve_http *h = NULL;
    ev_error err = {0};
    if (!code && serve_http_start(&lim, handle, &sv, &h, &err) != EV_OK)
        code = cli_report(&err);
    if (!code) {
        int v6 = strchr(lim.host, ':') != NULL;
        if (strcmp(lim.host, "127.0.0.1") != 0 && strcmp(lim.host, "::1") != 0)
            fprintf(stderr, PROG ": warning: listening on %s, not only this machine: anyone who can reach it may "
                            "use the server (it serves no files, only the page and the API)\n", lim.host);
        fprintf(stderr, PROG ": serving %s with %zu heads; Ctrl-C stops\n", sv.vectors_path, sv.nheads);
        printf("http://%s%s%s:%u/\n", v6 ? "[" : "", lim.host, v6 ? "]" : "", serve_http_port(h));
        fflush(stdout);
        int sig = 0;
        sigwait(&sigs, &sig);
        serve_http_stop(h);
        fprintf(stderr, PROG ": %s: stopped\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    }
    server_free(&sv);
    return cli_finish_stdout(code);
}
