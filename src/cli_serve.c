/* cli_serve — `embvsattn serve`: the page at / and the JSON API (docs/serve.md) over serve_http.h.
 *
 * The vectors are mapped and the heads loaded once, at start. Each request's parameters become the options of a
 * cli_opts, applied by cli_apply_option exactly as the command line applies them (api_params below: one line per
 * parameter), and the documents come from the CLI's own code (view_doc.h, cli_compare_doc, cli_neighbors_answer,
 * cli_analogy_answer) with the thread's output captured (cli_capture): an answer is byte for byte what
 * `embvsattn --format json …` prints, and an error is that command's message in a JSON error object. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_internal.h"
#include "head_file.h"
#include "render_html.h"
#include "render_json.h"
#include "serve_http.h"
#include "view_doc.h"

#define SERVE_MAX_K 1000                 /* -k over the API: lists longer than this are for the CLI */
#define SERVE_CACHE_BYTES ((size_t)8 << 20) /* a thread's static-neighbour cache starts afresh past this */
#define PAGE_SENTENCE "France is a country, it is in Europe" /* the page's first document (the README's) */
#define SERVE_MAX_TOKENS 256             /* tokens per sentence over the API (the page draws no more: render_html.h) */
#define SERVE_CACHE_DEFAULT 256          /* answers kept for repeated requests (serve --cache N) */
#define JSON_TYPE "application/json; charset=utf-8"
#define HTML_TYPE "text/html; charset=utf-8"

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
    {"format", "--format", EP_VIEW | EP_COMPARE}, /* json (the default) or html: the page's part (print_doc) */
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

/* ---- the answer cache: a request asked again is answered from memory ------------------------------------------
 * The documents are deterministic (the same request gives the same bytes), so the last answers are kept, keyed by
 * the path and the sorted parameters (GET and POST alike), at most SERVE_CACHE_MAX_BYTES in all: the least
 * recently used go first. */

#define SERVE_CACHE_MAX_BYTES ((size_t)8 << 20)

typedef struct {
    char *key;   /* path, then each "key=value" in key order, NUL-separated */
    size_t klen;
    char *body;  /* the answer's bytes */
    size_t len;
    unsigned long long used; /* the tick of its last use */
} cached;

typedef struct {
    pthread_mutex_t lock;
    cached *e;   /* (cap) */
    size_t n, cap, bytes;
    unsigned long long tick;
} answer_cache;

/* The request's key (malloc'd, *klen bytes), or NULL when out of memory. */
static char *cache_key(const char *path, const serve_param *p, size_t np, size_t *klen)
{
    size_t n = strlen(path) + 1, order[32];
    if (np > sizeof order / sizeof order[0])
        return NULL;
    for (size_t i = 0; i < np; i++) {
        n += strlen(p[i].key) + strlen(p[i].val) + 2;
        size_t j = i; /* insertion sort by key (keys are distinct) */
        while (j > 0 && strcmp(p[order[j - 1]].key, p[i].key) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    char *k = malloc(n), *w = k;
    if (!k)
        return NULL;
    w += sprintf(w, "%s", path) + 1;
    for (size_t i = 0; i < np; i++)
        w += sprintf(w, "%s=%s", p[order[i]].key, p[order[i]].val) + 1;
    *klen = (size_t)(w - k);
    return k;
}

/* A copy of the cached answer for key (malloc'd; *len its size), or NULL. */
static char *cache_get(answer_cache *c, const char *key, size_t klen, size_t *len)
{
    char *out = NULL;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->n; i++)
        if (c->e[i].klen == klen && memcmp(c->e[i].key, key, klen) == 0) {
            c->e[i].used = ++c->tick;
            if ((out = malloc(c->e[i].len)) != NULL) {
                memcpy(out, c->e[i].body, c->e[i].len);
                *len = c->e[i].len;
            }
            break;
        }
    pthread_mutex_unlock(&c->lock);
    return out;
}

/* Keeps a copy of body (len) under key, evicting the least recently used answers to stay within the bounds. */
static void cache_put(answer_cache *c, const char *key, size_t klen, const char *body, size_t len)
{
    if (c->cap == 0 || klen + len > SERVE_CACHE_MAX_BYTES / 4)
        return;
    char *k = malloc(klen), *b = malloc(len);
    if (!k || !b) {
        free(k);
        free(b);
        return;
    }
    memcpy(k, key, klen);
    memcpy(b, body, len);
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->n; i++)
        if (c->e[i].klen == klen && memcmp(c->e[i].key, key, klen) == 0) { /* another thread was first */
            pthread_mutex_unlock(&c->lock);
            free(k);
            free(b);
            return;
        }
    while (c->n > 0 && (c->n == c->cap || c->bytes + klen + len > SERVE_CACHE_MAX_BYTES)) {
        size_t old = 0;
        for (size_t i = 1; i < c->n; i++)
            if (c->e[i].used < c->e[old].used)
                old = i;
        c->bytes -= c->e[old].klen + c->e[old].len;
        free(c->e[old].key);
        free(c->e[old].body);
        c->e[old] = c->e[--c->n];
    }
    c->e[c->n++] = (cached){k, klen, b, len, ++c->tick};
    c->bytes += klen + len;
    pthread_mutex_unlock(&c->lock);
}

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
    answer_cache answers;
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

/* The answer from a capture: its document when the command printed one (200, of the given type), else its error.
 * Consumes c. */
static void reply_capture(serve_reply *r, capture *c, int code, const char *type)
{
    if (c->out_len > 0) {
        *r = (serve_reply){200, type, c->out, c->out_len, 0, NULL};
        c->out = NULL;
    } else
        reply_error(r, status_of(code ? code : EV_ERR_NOMEM), code ? code : EV_ERR_NOMEM, c->err);
    free(c->out);
    free(c->err);
}

/* Prints doc on cli_stdout(): its JSON, or under format=html (o->format OUT_HTML) the part of the page it draws
 * (render_html_fragment: what the page has in <main>, its footer, the document embedded), which the page's script
 * puts in place of its own. compare: doc is compare's document. Consumes doc. Returns 0 or an exit code (the
 * message on cli_stderr(); nothing printed then). */
static int print_doc(cJSON *doc, const cli_opts *o, int compare)
{
    if (o->format != OUT_HTML)
        return cli_print_json(doc);
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = doc ? open_memstream(&buf, &len) : NULL;
    ev_error err = {0};
    ev_status st = fp ? render_html_fragment(fp, doc, compare, &err)
                      : ev_fail(&err, EV_ERR_NOMEM, "out of memory drawing the page");
    cJSON_Delete(doc);
    if (fp && fclose(fp) != 0 && st == EV_OK)
        st = ev_fail(&err, EV_ERR_NOMEM, "out of memory drawing the page");
    if (st == EV_OK)
        fwrite(buf, 1, len, cli_stdout());
    free(buf);
    return st == EV_OK ? 0 : cli_report(&err);
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
    return print_doc(doc, o, 0);
}

/* Refuses a sentence over SERVE_MAX_TOKENS tokens: its document (n² weights, n lists of k) would take the server
 * hundreds of megabytes. Returns 0 (also when it does not tokenize: the view reports that) or EV_ERR_NOMEM (the
 * message on cli_stderr()). */
static int token_limit(const server *sv, const char *text, const char *which)
{
    tok_sentence t;
    ev_error err = {0};
    memset(&t, 0, sizeof t);
    if (tok_tokenize(sv->s, text, strlen(text), &t, &err) != EV_OK) {
        ev_error_clear(&err);
        return 0;
    }
    size_t n = t.n;
    tok_free(&t);
    if (n <= SERVE_MAX_TOKENS)
        return 0;
    fprintf(cli_stderr(), PROG ": %s has %zu tokens: the API answers up to %d (the command line up to %u)\n", which,
            n, SERVE_MAX_TOKENS, ATTN_MAX_TOKENS);
    return EV_ERR_NOMEM;
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
    if (o->format != OUT_JSON && o->format != OUT_HTML) { /* text, svg, tsv: for the command line */
        for (size_t i = 0; i < np; i++)
            if (strcmp(p[i].key, "format") == 0) {
                char *q = ev_quote(p[i].val, strlen(p[i].val), 64);
                fprintf(cli_stderr(), PROG ": format: expected json or html over the API, found '%s'\n", q ? q : "?");
                free(q);
            }
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
            if (!(code = token_limit(sv, o.pos[0], "the sentence")) && !(code = head_opts(sv, &o, &vo)))
                code = view_answer(sv, &o, &vo);
            break;
        case EP_COMPARE: {
            o.command = "compare";
            cJSON *doc = NULL;
            if (!(code = token_limit(sv, o.pos[0], "sentence 1")) && !(code = token_limit(sv, o.pos[1], "sentence 2")) &&
                !(code = head_opts(sv, &o, &vo)) && !(code = cli_compare_doc(&o, sv->s, sv->vectors_path, &vo, thread_cache(sv), &doc)))
                code = print_doc(doc, &o, 1);
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

/* 1 when the request asks for HTML (format=html: a 200 answer to it is HTML, apply_params refused any other). */
static int html_answer(const serve_param *p, size_t np)
{
    for (size_t i = 0; i < np; i++)
        if (strcmp(p[i].key, "format") == 0)
            return strcmp(p[i].val, "html") == 0;
    return 0;
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
            *r = (serve_reply){200, HTML_TYPE, sv->page, sv->page_len, 1, NULL};
        return;
    }
    for (size_t e = 0; e < sizeof api_paths / sizeof api_paths[0]; e++)
        if (strcmp(path, api_paths[e].path) == 0) {
            size_t klen = 0, len = 0;
            char *key = sv->answers.cap ? cache_key(path, p, np, &klen) : NULL;
            char *hit = key ? cache_get(&sv->answers, key, klen, &len) : NULL;
            if (hit) {
                *r = (serve_reply){200, html_answer(p, np) ? HTML_TYPE : JSON_TYPE, hit, len, 0, NULL};
                free(key);
                return;
            }
            capture c;
            if (capture_begin(&c)) {
                reply_error(r, 500, EV_ERR_NOMEM, "out of memory");
                return;
            }
            int code = api_answer(sv, e, p, np);
            capture_end(&c);
            reply_capture(r, &c, code, html_answer(p, np) ? HTML_TYPE : JSON_TYPE);
            if (key && r->body && r->status == 200)
                cache_put(&sv->answers, key, klen, r->body, r->len);
            free(key);
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
    for (size_t i = 0; i < sv->answers.n; i++) {
        free(sv->answers.e[i].key);
        free(sv->answers.e[i].body);
    }
    free(sv->answers.e);
    pthread_mutex_destroy(&sv->answers.lock);
    free(sv->page);
    free(sv->vectors_path);
    store_close(sv->s);
    pthread_mutex_destroy(&sv->lock);
}

/* The write end of this pipe receives the number of a stop signal (SIGINT, SIGTERM). */
static int stop_pipe[2] = {-1, -1};

static void on_stop_signal(int sig)
{
    unsigned char b = (unsigned char)sig;
    int saved = errno;
    if (write(stop_pipe[1], &b, 1) < 0) { /* nothing to do: a stop is already pending */
    }
    errno = saved;
}

int cmd_serve(cli_opts *o)
{
    server sv = {0};
    int code = 0;
    pthread_mutex_init(&sv.lock, NULL);
    pthread_mutex_init(&sv.answers.lock, NULL);
    sv.answers.cap = o->cache_given ? o->cache : SERVE_CACHE_DEFAULT;
    if (sv.answers.cap && !(sv.answers.e = calloc(sv.answers.cap, sizeof *sv.answers.e)))
        sv.answers.cap = 0;
    sv.s = cli_open_vectors(o, &code);
    if (!sv.s) {
        free(sv.answers.e);
        pthread_mutex_destroy(&sv.answers.lock);
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
    /* SIGINT and SIGTERM: whichever thread takes the signal (OpenBLAS starts threads of its own, with any mask),
     * the handler writes its number into a pipe that the main thread waits on */
    if (!code && pipe(stop_pipe) != 0) {
        fprintf(stderr, PROG ": cannot create a pipe: %s\n", strerror(errno));
        code = EV_ERR_IO;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    if (!code) {
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
    }
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
        unsigned char sig = 0;
        while (read(stop_pipe[0], &sig, 1) < 0 && errno == EINTR)
            ;
        serve_http_stop(h);
        fprintf(stderr, PROG ": %s: stopped\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    }
    for (int i = 0; i < 2; i++)
        if (stop_pipe[i] >= 0)
            close(stop_pipe[i]);
    server_free(&sv);
    return cli_finish_stdout(code);
}
