/* cli_attention — the main view (`embvsattn "SENTENCE"`), --batch (JSONL) and compare. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attention.h"
#include "cli_internal.h"
#include "head_file.h"
#include "outfile.h"
#include "parallel.h"
#include "render_html.h"
#include "render_json.h"
#include "render_text.h"
#include "view.h"

#define DEFAULT_K 5
#define DEFAULT_TOP 3
#define BATCH_GROUP 64 /* sentences whose neighbour searches share one pass over the matrix */

typedef struct {
    store *s;
    attn_head *head;
    view_opts vo;
    char *vectors_path;
} view_setup;

static void setup_free(view_setup *vs)
{
    attn_head_free(vs->head);
    store_close(vs->s);
    free(vs->vectors_path);
}

/* The vector path as the user should see it (for headers and JSON). */
static char *vectors_label(const cli_opts *o)
{
    const char *p = o->vectors ? o->vectors : getenv("EMBVSATTN_VECTORS");
    if (p && *p)
        return strdup(p);
    return cli_default_vectors_path();
}

/* Opens the vectors and the head and fills the view options; prints errors. Returns 0 or an exit code. */
static int setup(cli_opts *o, view_setup *vs)
{
    memset(vs, 0, sizeof *vs);
    int code = 0;
    vs->s = cli_open_vectors(o, &code);
    if (!vs->s)
        return code;
    vs->vectors_path = vectors_label(o);
    ev_error err = {0};
    /* the default: the context head built into the binary (head_file.h), or identity for vectors it was not
     * trained on */
    const char *spec = o->head ? o->head : "context";
    ev_status hs = head_file_resolve(spec, vs->s, o->dk, &vs->head, &err);
    if (hs == EV_ERR_NOTFOUND && !o->head) {
        ev_error_clear(&err);
        hs = attn_head_identity(store_dim(vs->s), &vs->head, &err);
    }
    if (hs != EV_OK) {
        code = cli_report(&err);
        setup_free(vs);
        return code;
    }
    if (o->dk && vs->head->kind != ATTN_HEAD_RANDOM) {
        setup_free(vs);
        return cli_usage_error("--dk applies to random heads only (found --head %s)", spec);
    }
    vs->vo = view_opts_for_head(vs->head);
    if (o->positions)
        vs->vo.attn.positions = strcmp(o->positions, "sinusoidal") == 0 ? ATTN_POS_SINUSOIDAL : ATTN_POS_NONE;
    if (o->position_scale_given)
        vs->vo.attn.position_scale = o->position_scale;
    vs->vo.attn.causal = o->causal;
    vs->vo.residual |= o->residual;
    vs->vo.k = o->k_given ? o->k : DEFAULT_K;
    vs->vo.top = o->top ? o->top : DEFAULT_TOP;
    /* No list can be longer than the vocabulary or the token limit: bound the (n, k) and (n, top) arrays (a huge
     * -k or --top overflowed their sizes); the output is the same, lists end at their last entry anyway. */
    if (vs->vo.k > store_size(vs->s))
        vs->vo.k = store_size(vs->s);
    if (vs->vo.top > ATTN_MAX_TOKENS)
        vs->vo.top = ATTN_MAX_TOKENS;
    vs->vo.restrict_n = o->restrict_n;
    /* A trained head's output was trained to predict one of its candidate words (the most frequent ones): its
     * contextual vectors are compared with those, unless --restrict says otherwise. */
    if (!o->restrict_n && vs->head->candidates && vs->head->candidates < store_size(vs->s))
        vs->vo.context_restrict = vs->head->candidates;
    return 0;
}

/* The sentence from the positional arguments, joined by spaces (so unquoted words work too). */
static char *join_args(const cli_opts *o, size_t *len)
{
    size_t n = 0;
    for (int i = 0; i < o->npos; i++)
        n += strlen(o->pos[i]) + 1;
    char *s = malloc(n + 1), *p = s;
    if (!s)
        return NULL;
    for (int i = 0; i < o->npos; i++) {
        size_t l = strlen(o->pos[i]);
        if (i)
            *p++ = ' ';
        memcpy(p, o->pos[i], l);
        p += l;
    }
    *p = '\0';
    *len = (size_t)(p - s);
    return s;
}

/* Reads one line of stdin into *buf (grown as needed, at most max bytes kept). Returns the line's length, -1 at
 * the end of input; *too_long is set when the line exceeded max (its rest is skipped). */
static long read_line(char **buf, size_t *cap, size_t max, int *too_long)
{
    size_t n = 0;
    int c;
    *too_long = 0;
    while ((c = getchar()) != EOF && c != '\n') {
        if (n >= max) {
            *too_long = 1;
            continue;
        }
        if (n + 2 > *cap) {
            size_t nc = *cap ? *cap * 2 : 256;
            char *nb = realloc(*buf, nc);
            if (!nb)
                return -2;
            *buf = nb;
            *cap = nc;
        }
        (*buf)[n++] = (char)c;
    }
    if (c == EOF && n == 0 && !*too_long)
        return -1;
    if (n > 0 && (*buf)[n - 1] == '\r')
        n--;
    if (*buf)
        (*buf)[n] = '\0';
    return (long)n;
}

/* --batch: the JSON text of lines [lo, hi) of a group (an error object for a failed line), views freed. */
typedef struct {
    view_setup *vs;
    view_sentence *views;
    ev_error *errs;
    const int *long_line;
    const size_t *lineno;
    char **out;
} batch_render;

static void render_lines(void *ctx, size_t lo, size_t hi, int tid)
{
    (void)tid;
    batch_render *b = ctx;
    for (size_t i = lo; i < hi; i++) {
        cJSON *j;
        if (b->long_line[i]) {
            char *msg = ev_strdup_printf("stdin:%zu: line longer than %u bytes", b->lineno[i], TOK_MAX_BYTES);
            j = render_json_error(b->lineno[i], msg, EV_ERR_NOMEM);
            free(msg);
        } else if (b->errs[i].code != EV_OK) {
            char *msg = ev_strdup_printf("stdin:%zu: %s", b->lineno[i], b->errs[i].msg ? b->errs[i].msg : "error");
            j = render_json_error(b->lineno[i], msg, (int)b->errs[i].code);
            free(msg);
        } else {
            j = render_json_view(b->vs->s, &b->views[i], &b->vs->vo, b->vs->vectors_path);
        }
        b->out[i] = j ? cJSON_PrintUnformatted(j) : NULL;
        cJSON_Delete(j);
        view_free(&b->views[i]);
    }
}

static int run_batch(view_setup *vs)
{
    char *lines[BATCH_GROUP] = {0};
    size_t caps[BATCH_GROUP] = {0}, lens[BATCH_GROUP], lineno[BATCH_GROUP];
    int long_line[BATCH_GROUP];
    view_sentence views[BATCH_GROUP];
    ev_error errs[BATCH_GROUP];
    char *out[BATCH_GROUP] = {0}; /* each line's JSON */
    memset(errs, 0, sizeof errs);
    size_t line = 0, failed = 0, done = 0;
    int code = 0, eof = 0;
    view_cache *cache = view_cache_new(vs->s); /* static neighbours: searched once per word for the whole run */
    while (!eof && !code) {
        size_t m = 0;
        while (m < BATCH_GROUP) {
            long r = read_line(&lines[m], &caps[m], TOK_MAX_BYTES, &long_line[m]);
            if (r == -1) {
                eof = 1;
                break;
            }
            if (r == -2) {
                fprintf(stderr, PROG ": out of memory reading standard input\n");
                code = EV_ERR_NOMEM;
                break;
            }
            lens[m] = (size_t)r;
            lineno[m] = ++line;
            m++;
        }
        if (m == 0)
            break;
        /* lines over the limit never reach the tokenizer */
        const char *texts[BATCH_GROUP];
        size_t tl[BATCH_GROUP];
        for (size_t i = 0; i < m; i++) {
            texts[i] = long_line[i] ? "" : (lines[i] ? lines[i] : "");
            tl[i] = long_line[i] ? 0 : lens[i];
        }
        if (view_build_many(vs->s, texts, tl, m, &vs->vo, cache, views, errs) != EV_OK) {
            fprintf(stderr, PROG ": out of memory in batch at line %zu\n", lineno[0]);
            code = EV_ERR_NOMEM;
            break;
        }
        batch_render br = {vs, views, errs, long_line, lineno, out};
        /* the JSON of each line, in parallel */
        parallel_for(m >= 8 ? parallel_default_threads() : 1, m, render_lines, &br);
        for (size_t i = 0; i < m; i++) {
            if (long_line[i] || errs[i].code != EV_OK)
                failed++;
            else
                done++;
            if (out[i]) {
                fputs(out[i], stdout);
                fputc('\n', stdout);
                free(out[i]);
                out[i] = NULL;
            }
            ev_error_clear(&errs[i]);
        }
        if (fflush(stdout) != 0)
            break; /* reported by cli_finish_stdout */
    }
    for (size_t i = 0; i < BATCH_GROUP; i++)
        free(lines[i]);
    view_cache_free(cache);
    if (!code && failed)
        code = CLI_EXIT_BATCH_FAILED;
    (void)done;
    return code;
}

/* ---- output: standard output or -o FILE, in the chosen format ---------------------------------------------- */

typedef struct {
    FILE *fp;    /* stdout or the output file */
    outfile of;  /* -o FILE: written to a temporary file, renamed into place by out_close */
    int to_file;
} view_output;

/* Opens where the output goes. Returns 0 or an exit code (the error printed). */
static int out_open(const cli_opts *o, view_output *out)
{
    memset(out, 0, sizeof *out);
    out->fp = stdout;
    if (!o->output)
        return 0;
    ev_error err = {0};
    if (outfile_open(&out->of, o->output, &err) != EV_OK)
        return cli_report(&err);
    out->fp = out->of.fp;
    out->to_file = 1;
    return 0;
}

/* Finishes the output: with code 0 commits -o FILE (reporting a write error), else removes it. Standard output
 * is checked by the caller's cli_finish_stdout. Returns the exit code. */
static int out_close(view_output *out, int code)
{
    if (!out->to_file)
        return code;
    if (code) {
        outfile_abort(&out->of);
        return code;
    }
    ev_error err = {0};
    return outfile_commit(&out->of, &err) == EV_OK ? 0 : cli_report(&err);
}

/* Writes a view's (compare = 0) or compare's (1) JSON document as JSON, HTML or SVG. Consumes doc. */
static int emit_doc(FILE *fp, out_format f, cJSON *doc, int compare)
{
    ev_error err = {0};
    ev_status st = EV_OK;
    if (!doc)
        st = ev_fail(&err, EV_ERR_NOMEM, "out of memory building the output");
    else if (f == OUT_HTML)
        st = compare ? render_html_compare(fp, doc, &err) : render_html_view(fp, doc, &err);
    else if (f == OUT_SVG)
        st = compare ? render_svg_compare(fp, doc, &err) : render_svg_view(fp, doc, &err);
    else {
        char *txt = cJSON_PrintUnformatted(doc);
        if (!txt)
            st = ev_fail(&err, EV_ERR_NOMEM, "out of memory building JSON output");
        else {
            fputs(txt, fp);
            fputc('\n', fp);
            free(txt);
        }
    }
    cJSON_Delete(doc);
    return st == EV_OK ? 0 : cli_report(&err);
}

int cmd_show(cli_opts *o)
{
    if (o->batch && o->npos > 0)
        return cli_usage_error("--batch reads sentences from standard input: found a sentence argument ('%s')",
                               o->pos[0]);
    if (!o->batch && o->npos == 0)
        return cli_usage_error("%s", "no sentence given (usage: embvsattn \"SENTENCE\")");
    if (o->batch && (o->output || o->format == OUT_HTML || o->format == OUT_SVG))
        return cli_usage_error("%s", "--batch writes JSON lines to standard output: -o and --format html|svg "
                                     "apply to one sentence");
    view_setup vs;
    int code = setup(o, &vs);
    if (code)
        return code;
    if (o->batch) {
        code = run_batch(&vs);
        setup_free(&vs);
        return cli_finish_stdout(code);
    }
    size_t len = 0;
    char *text = join_args(o, &len);
    view_sentence v;
    ev_error err = {0};
    if (!text) {
        setup_free(&vs);
        return EV_ERR_NOMEM;
    }
    view_output out;
    if (view_build(vs.s, text, len, &vs.vo, &v, &err) != EV_OK) {
        code = cli_report(&err);
    } else if ((code = out_open(o, &out)) == 0) {
        if (o->format == OUT_TEXT) {
            render_style st = out.to_file ? (render_style){0, 0, 80} : render_style_for_stdout();
            render_info ri = {vs.vectors_path, o->quiet};
            render_text_view(out.fp, vs.s, &v, &vs.vo, &ri, &st);
        } else
            code = emit_doc(out.fp, o->format, render_json_view(vs.s, &v, &vs.vo, vs.vectors_path), 0);
        code = out_close(&out, code);
    }
    view_free(&v);
    free(text);
    setup_free(&vs);
    return cli_finish_stdout(code);
}

/* ---- compare ----------------------------------------------------------------------------------------------- */

typedef struct {
    long row;
    size_t i1, i2; /* token indexes in sentence 1 and 2 */
} shared_word;

static void print_hits(FILE *fp, const store *s, const sim_hit *h, size_t k)
{
    for (size_t j = 0; j < k && h[j].row >= 0; j++) {
        size_t l;
        const char *w = store_word(s, (size_t)h[j].row, &l);
        fprintf(fp, "%s%.*s %.4f", j ? "  " : "", (int)l, w, (double)h[j].score);
    }
    fputc('\n', fp);
}

/* A contextual neighbour list, or what a token with nothing to attend to has instead. */
static void print_context(FILE *fp, const store *s, const view_sentence *v, size_t i)
{
    if (v->no_context[i])
        fputs(VIEW_NOTHING_TO_ATTEND "\n", fp);
    else
        print_hits(fp, s, v->context_nb + i * v->k, v->k);
}

static void print_attention(FILE *fp, const view_sentence *v, size_t i)
{
    const size_t *top = v->attn_top + i * v->top;
    if (top[0] == SIZE_MAX)
        fputs("-", fp);
    for (size_t j = 0; j < v->top && top[j] != SIZE_MAX; j++) {
        fprintf(fp, "%s%s", j ? "  " : "", v->toks.tokens[top[j]].text);
        if (top[j] == i)
            fputs("(self)", fp);
        else if (render_token_repeated(v, top[j]))
            fprintf(fp, "[%zu]", top[j]);
        fprintf(fp, " %.0f%%", (double)(v->A[i * v->n + top[j]] * 100.0f));
    }
    fputc('\n', fp);
}


int cmd_compare(cli_opts *o)
{
    view_setup vs;
    int code = setup(o, &vs);
    if (code)
        return code;
    const char *texts[2] = {o->pos[0], o->pos[1]};
    size_t lens[2] = {strlen(o->pos[0]), strlen(o->pos[1])};
    view_sentence v[2];
    ev_error errs[2] = {{0}, {0}};
    shared_word *sh = NULL;
    size_t nsh = 0;
    if (view_build_many(vs.s, texts, lens, 2, &vs.vo, NULL, v, errs) != EV_OK) {
        fprintf(stderr, PROG ": out of memory comparing the sentences\n");
        setup_free(&vs);
        return EV_ERR_NOMEM;
    }
    for (int i = 0; i < 2; i++)
        if (errs[i].code != EV_OK) {
            fprintf(stderr, PROG ": sentence %d: %s\n", i + 1, errs[i].msg ? errs[i].msg : "error");
            code = code ? code : (int)errs[i].code;
            ev_error_clear(&errs[i]);
        }
    if (code)
        goto done;
    long want = -1;
    if (o->word) {
        store_match m;
        want = store_lookup(vs.s, o->word, strlen(o->word), &m);
        if (want < 0) {
            fprintf(stderr, PROG ": compare: '%s' is not in the vocabulary\n", o->word);
            code = EV_ERR_NOTFOUND;
            goto done;
        }
    }
    /* the words the sentences share: the first occurrence in each, in the order of sentence 1 */
    sh = malloc((v[0].n + 1) * sizeof *sh);
    for (size_t i = 0; sh && i < v[0].n; i++) {
        long r = v[0].masked[i] ? -1 : v[0].toks.tokens[i].row;
        if (r < 0 || (want >= 0 && r != want))
            continue;
        int seen = 0;
        for (size_t q = 0; q < nsh; q++)
            seen |= sh[q].row == r;
        for (size_t j = 0; !seen && j < v[1].n; j++)
            if (!v[1].masked[j] && v[1].toks.tokens[j].row == r) {
                sh[nsh++] = (shared_word){r, i, j};
                break;
            }
    }
    if (!sh || nsh == 0) {
        if (o->word)
            fprintf(stderr, PROG ": compare: '%s' does not occur in both sentences\n", o->word);
        else
            fprintf(stderr, PROG ": compare: the sentences share no word with a vector\n");
        code = EV_ERR_NOTFOUND;
        goto done;
    }
    size_t d = store_dim(vs.s), k = vs.vo.k;
    view_output out;
    if ((code = out_open(o, &out)) != 0)
        goto done;
    FILE *fp = out.fp;
    if (o->format != OUT_TEXT) {
        cJSON *root = cJSON_CreateObject();
        cJSON *sents = cJSON_AddArrayToObject(root, "sentences");
        for (int i = 0; i < 2; i++)
            cJSON_AddItemToArray(sents, render_json_view(vs.s, &v[i], &vs.vo, vs.vectors_path));
        cJSON *arr = cJSON_AddArrayToObject(root, "shared");
        for (size_t q = 0; q < nsh; q++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddItemToArray(arr, e);
            render_json_add_word(e, "word", vs.s, sh[q].row);
            cJSON *ti = cJSON_AddArrayToObject(e, "token_index");
            cJSON_AddItemToArray(ti, cJSON_CreateNumber((double)sh[q].i1));
            cJSON_AddItemToArray(ti, cJSON_CreateNumber((double)sh[q].i2));
            cJSON_AddItemToObject(e, "static_neighbors", render_json_hits(vs.s, v[0].static_nb + sh[q].i1 * k, k));
            cJSON *att = cJSON_AddArrayToObject(e, "attention");
            cJSON_AddItemToArray(att, render_json_attention(&v[0], sh[q].i1));
            cJSON_AddItemToArray(att, render_json_attention(&v[1], sh[q].i2));
            cJSON *cn = cJSON_AddArrayToObject(e, "context_neighbors");
            cJSON_AddItemToArray(cn, render_json_hits(vs.s, v[0].context_nb + sh[q].i1 * k, k));
            cJSON_AddItemToArray(cn, render_json_hits(vs.s, v[1].context_nb + sh[q].i2 * k, k));
            int alone[2] = {v[0].no_context[sh[q].i1], v[1].no_context[sh[q].i2]};
            if (alone[0] || alone[1]) { /* [reason or null, reason or null] beside the two (then empty) lists */
                cJSON *why = cJSON_AddArrayToObject(e, "context_reason");
                for (int s = 0; s < 2; s++)
                    cJSON_AddItemToArray(why, alone[s] ? cJSON_CreateString(VIEW_NOTHING_TO_ATTEND) : cJSON_CreateNull());
            }
            cJSON_AddItemToObject(e, "static_cosine", render_json_float(view_cosine(v[0].X + sh[q].i1 * d,
                                                                                     v[1].X + sh[q].i2 * d, d)));
            if (alone[0] || alone[1])
                cJSON_AddNullToObject(e, "context_cosine");
            else
                cJSON_AddItemToObject(e, "context_cosine", render_json_float(view_cosine(v[0].Z + sh[q].i1 * d,
                                                                                          v[1].Z + sh[q].i2 * d, d)));
        }
        cJSON_AddItemToObject(root, "head", render_json_head(&vs.vo));
        cJSON_AddItemToObject(root, "vectors", render_json_vectors(vs.s, vs.vectors_path));
        code = out_close(&out, emit_doc(fp, o->format, root, 1));
        goto done;
    }
    fprintf(fp, "1: %s\n2: %s\n", v[0].text, v[1].text);
    render_text_head_line(fp, &vs.vo);
    for (size_t q = 0; q < nsh; q++) {
        size_t l;
        const char *w = store_word(vs.s, (size_t)sh[q].row, &l);
        fprintf(fp, "\n%.*s  (token %zu in 1, token %zu in 2)\n", (int)l, w, sh[q].i1, sh[q].i2);
        fprintf(fp, "  static (same in both):  ");
        print_hits(fp, vs.s, v[0].static_nb + sh[q].i1 * k, k);
        fprintf(fp, "  attends to, in 1:       ");
        print_attention(fp, &v[0], sh[q].i1);
        fprintf(fp, "  attends to, in 2:       ");
        print_attention(fp, &v[1], sh[q].i2);
        fprintf(fp, "  in context, in 1:       ");
        print_context(fp, vs.s, &v[0], sh[q].i1);
        fprintf(fp, "  in context, in 2:       ");
        print_context(fp, vs.s, &v[1], sh[q].i2);
        int alone[2] = {v[0].no_context[sh[q].i1], v[1].no_context[sh[q].i2]};
        fprintf(fp, "  cosine of the two static vectors %.4f", (double)view_cosine(v[0].X + sh[q].i1 * d,
                                                                               v[1].X + sh[q].i2 * d, d));
        if (alone[0] || alone[1])
            fprintf(fp, "; no contextual vector in %s (" VIEW_NOTHING_TO_ATTEND ")\n",
                    alone[0] && alone[1] ? "1 and 2" : alone[0] ? "1" : "2");
        else
            fprintf(fp, ", of the two contextual vectors %.4f\n",
                    (double)view_cosine(v[0].Z + sh[q].i1 * d, v[1].Z + sh[q].i2 * d, d));
    }
    code = out_close(&out, 0);
done:
    free(sh);
    view_free(&v[0]);
    view_free(&v[1]);
    setup_free(&vs);
    return cli_finish_stdout(code);
}
