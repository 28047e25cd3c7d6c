/* cli_attention — the main view (`embvsattn "SENTENCE"`), --batch (JSONL) and compare. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attention.h"
#include "cli_internal.h"
#include "head_file.h"
#include "linereader.h"
#include "outfile.h"
#include "parallel.h"
#include "predict.h"
#include "render_html.h"
#include "render_json.h"
#include "render_map.h"
#include "render_text.h"
#include "view.h"
#include "view_doc.h"

#define DEFAULT_K 5
#define DEFAULT_TOP 3
#define BATCH_GROUP 64 /* sentences whose neighbour searches share one pass over the matrix */

typedef struct {
    store *s;
    attn_head *head;
    view_opts vo;
    attn_head *head2; /* --heads A,B: the second head (NULL without) */
    view_opts vo2;
    char *vectors_path;
} view_setup;

static void setup_free(view_setup *vs)
{
    attn_head_free(vs->head);
    attn_head_free(vs->head2);
    store_close(vs->s);
    free(vs->vectors_path);
}

/* The vector path as the user should see it (for headers and JSON). */
char *cli_vectors_label(const cli_opts *o)
{
    const char *p = o->vectors ? o->vectors : getenv("EMBVSATTN_VECTORS");
    if (p && *p)
        return strdup(p);
    return cli_default_vectors_path();
}

int cli_view_opts(const cli_opts *o, const store *s, const attn_head *head, const char *spec, view_opts *vo)
{
    if (o->dk && head->kind != ATTN_HEAD_RANDOM)
        return cli_usage_error("--dk applies to random heads only (found --head %s)", spec);
    if (o->predict && !predict_supported(head, s))
        return cli_usage_error("--predict needs a trained head (context or mlm): the head is %s",
                               head->description ? head->description : spec);
    *vo = view_opts_for_head(head); /* its positions, and the residual when it was trained with it */
    if (o->positions)
        vo->attn.positions = strcmp(o->positions, "sinusoidal") == 0 ? ATTN_POS_SINUSOIDAL : ATTN_POS_NONE;
    if (o->position_scale_given)
        vo->attn.position_scale = o->position_scale;
    vo->attn.causal = o->causal;
    vo->residual |= o->residual;
    vo->k = o->k_given ? o->k : DEFAULT_K;
    vo->top = o->top ? o->top : DEFAULT_TOP;
    /* No list can be longer than the vocabulary or the token limit: bound the (n, k) and (n, top) arrays (a huge
     * -k or --top overflowed their sizes); the output is the same, lists end at their last entry anyway. */
    if (vo->k > store_size(s))
        vo->k = store_size(s);
    if (vo->top > ATTN_MAX_TOKENS)
        vo->top = ATTN_MAX_TOKENS;
    vo->restrict_n = o->restrict_n;
    /* A trained head's output was trained to predict one of its candidate words (the most frequent ones): its
     * contextual vectors are compared with those, unless --restrict says otherwise. */
    if (!o->restrict_n && head->candidates && head->candidates < store_size(s))
        vo->context_restrict = head->candidates;
    vo->predict = o->predict;
    vo->mask = o->mask;
    vo->context_vectors = o->context_vectors;
    /* the meaning/position split: asked for, drawn by --term, or for the page's switch */
    vo->why = o->why || o->term || o->format == OUT_HTML;
    /* the computation step by step: asked for, or for the page's step panel */
    vo->steps = o->steps || o->format == OUT_HTML;
    return 0;
}

const char *cli_default_head(void) { return "context"; }

/* Resolves the head spec (NULL: the default) into *head and fills *vo for it; prints errors. Returns 0 or an exit
 * code. */
static int setup_head(cli_opts *o, const store *s, const char *spec_in, attn_head **head, view_opts *vo)
{
    ev_error err = {0};
    /* the default: the context head built into the binary (head_file.h), or identity for vectors it was not
     * trained on */
    const char *spec = spec_in ? spec_in : cli_default_head();
    ev_status hs = head_file_resolve(spec, s, o->dk, head, &err);
    if (hs == EV_ERR_NOTFOUND && !spec_in) {
        ev_error_clear(&err);
        hs = attn_head_identity(store_dim(s), head, &err);
    }
    if (hs != EV_OK)
        return cli_report(&err);
    return cli_view_opts(o, s, *head, spec, vo);
}

/* Opens the vectors and the head (the two of --heads) and fills the view options; prints errors. Returns 0 or an
 * exit code. */
static int setup(cli_opts *o, view_setup *vs)
{
    memset(vs, 0, sizeof *vs);
    int code = 0;
    if (o->heads && o->head)
        return cli_usage_error("--heads A,B and --head %s: give one or the other", o->head);
    vs->s = cli_open_vectors(o, &code);
    if (!vs->s)
        return code;
    vs->vectors_path = cli_vectors_label(o);
    if (o->heads) {
        size_t l = (size_t)(strchr(o->heads, ',') - o->heads);
        char *first = strndup(o->heads, l);
        if (!first) {
            setup_free(vs);
            return EV_ERR_NOMEM;
        }
        code = setup_head(o, vs->s, first, &vs->head, &vs->vo);
        free(first);
        if (!code)
            code = setup_head(o, vs->s, o->heads + l + 1, &vs->head2, &vs->vo2);
    } else
        code = setup_head(o, vs->s, o->head, &vs->head, &vs->vo);
    if (code)
        setup_free(vs);
    return code;
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
            j = render_json_view_print(b->vs->s, &b->views[i], &b->vs->vo, b->vs->vectors_path);
        }
        b->out[i] = j ? cJSON_PrintUnformatted(j) : NULL;
        cJSON_Delete(j);
        view_free(&b->views[i]);
    }
}

/* Lines are answered in groups of what is already queued (at most BATCH_GROUP): a file or a busy pipe gives full
 * groups (their neighbour searches share passes over the matrix), a co-process writing one line and waiting for
 * its answer gets it at once (each group is flushed). Error objects number lines from line_offset + 1. */
static int run_batch(view_setup *vs, size_t line_offset)
{
    char *lines[BATCH_GROUP] = {0};
    size_t caps[BATCH_GROUP] = {0}, lens[BATCH_GROUP], lineno[BATCH_GROUP];
    int long_line[BATCH_GROUP];
    view_sentence views[BATCH_GROUP];
    ev_error errs[BATCH_GROUP];
    char *out[BATCH_GROUP] = {0}; /* each line's JSON */
    memset(errs, 0, sizeof errs);
    size_t line = line_offset, failed = 0, done = 0;
    int code = 0, eof = 0;
    view_cache *cache = view_cache_new(vs->s); /* static neighbours: searched once per word for the whole run */
    linereader *lr = linereader_new(STDIN_FILENO, TOK_MAX_BYTES);
    if (!lr) {
        fprintf(stderr, PROG ": out of memory reading standard input\n");
        code = EV_ERR_NOMEM;
    }
    while (!eof && !code) {
        size_t m = 0;
        while (m < BATCH_GROUP) {
            const char *l;
            size_t n;
            /* the first line of a group is waited for; the others only taken when already here */
            int r = linereader_next(lr, m == 0, &l, &n, &long_line[m]);
            if (r == LR_AGAIN)
                break;
            if (r == LR_EOF) {
                eof = 1;
                break;
            }
            if (r == LR_ERROR) {
                fprintf(stderr, PROG ": standard input: %s (after line %zu)\n", strerror(errno), line);
                code = errno == ENOMEM ? EV_ERR_NOMEM : EV_ERR_IO;
                break;
            }
            if (n > 0 && l[n - 1] == '\r')
                n--;
            if (n + 1 > caps[m]) {
                char *nb = realloc(lines[m], n + 1);
                if (!nb) {
                    fprintf(stderr, PROG ": out of memory reading standard input\n");
                    code = EV_ERR_NOMEM;
                    break;
                }
                lines[m] = nb;
                caps[m] = n + 1;
            }
            memcpy(lines[m], l, n);
            lines[m][n] = '\0';
            lens[m] = n;
            lineno[m] = ++line;
            m++;
        }
        if (m == 0 || code)
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
    linereader_free(lr);
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

/* Writes a view's (compare = 0) or compare's (1) JSON document as JSON, HTML or SVG (map: the movement map's SVG
 * instead of the heatmap's). Consumes doc. */
static int emit_doc(FILE *fp, out_format f, cJSON *doc, int compare, int map)
{
    ev_error err = {0};
    ev_status st = EV_OK;
    if (!doc)
        st = ev_fail(&err, EV_ERR_NOMEM, "out of memory building the output");
    else if (f == OUT_HTML)
        st = compare ? render_html_compare(fp, doc, &err) : render_html_view(fp, doc, &err);
    else if (f == OUT_SVG && map)
        st = render_svg_map(fp, doc, compare, &err);
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

static int show_two_heads(cli_opts *o, view_setup *vs, const char *text, size_t len);

/* --term: the SVG heatmap of one term of the meaning/position split. Consumes doc. */
static int emit_term_svg(FILE *fp, cJSON *doc, const char *term)
{
    ev_error err = {0};
    ev_status st = doc ? render_svg_view_term(fp, doc, term, &err)
                       : ev_fail(&err, EV_ERR_NOMEM, "out of memory building the output");
    cJSON_Delete(doc);
    return st == EV_OK ? 0 : cli_report(&err);
}

#define MAP_NEEDS_SVG "--map draws the movement map as SVG: it needs --format svg (or -o FILE.svg); the HTML page " \
                      "and the JSON always have the map"

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
    if (o->line_offset_given && !o->batch)
        return cli_usage_error("%s", "--line-offset numbers the lines of --batch: add --batch");
    if (o->heads && o->batch)
        return cli_usage_error("%s", "--heads applies to one sentence, not --batch");
    if (o->map && o->format != OUT_SVG)
        return cli_usage_error("%s", MAP_NEEDS_SVG);
    if (o->context_vectors && !o->batch && o->format != OUT_JSON)
        return cli_usage_error("%s", "--context-vectors needs --format json (or --batch): the vectors are written "
                                     "in the JSON");
    if (o->steps && !o->batch && o->format != OUT_JSON && o->format != OUT_HTML)
        return cli_usage_error("%s", "--steps needs --format json (or --batch): the steps are written in the JSON (the "
                                     "HTML page always has them)");
    if (o->term && o->map)
        return cli_usage_error("--term %s and --map are two different pictures: choose one", o->term);
    if (o->term && (o->batch || o->heads || o->format != OUT_SVG))
        return cli_usage_error("--term %s draws one term of the split as the SVG heatmap of one sentence and head: it "
                               "needs --format svg (or -o FILE.svg); --why prints the split as text or JSON", o->term);
    view_setup vs;
    int code = setup(o, &vs);
    if (code)
        return code;
    if (o->batch) {
        code = run_batch(&vs, o->line_offset);
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
    if (vs.head2) {
        code = show_two_heads(o, &vs, text, len);
        free(text);
        setup_free(&vs);
        return cli_finish_stdout(code);
    }
    if (view_build(vs.s, text, len, &vs.vo, &v, &err) != EV_OK) {
        code = cli_report(&err);
    } else if ((code = out_open(o, &out)) == 0) {
        if (o->format == OUT_TEXT) {
            render_style st = out.to_file ? (render_style){0, 0, 80} : render_style_for_stdout();
            render_info ri = {vs.vectors_path, o->quiet};
            render_text_view(out.fp, vs.s, &v, &vs.vo, &ri, &st);
        } else if (o->term)
            code = emit_term_svg(out.fp, render_json_view(vs.s, &v, &vs.vo, vs.vectors_path), o->term);
        else
            code = emit_doc(out.fp, o->format, view_doc_view(vs.s, &v, &vs.vo, vs.vectors_path), 0, o->map);
        code = out_close(&out, code);
    }
    view_free(&v);
    free(text);
    setup_free(&vs);
    return cli_finish_stdout(code);
}

/* ---- compare ----------------------------------------------------------------------------------------------- */

static void print_hits(FILE *fp, const store *s, const sim_hit *h, size_t k)
{
    for (size_t j = 0; j < k && h[j].row >= 0; j++) {
        size_t l;
        const char *w = store_word(s, (size_t)h[j].row, &l);
        fprintf(fp, "%s%.*s %.4f", j ? "  " : "", (int)l, w, (double)h[j].score);
    }
    fputc('\n', fp);
}

/* A contextual neighbour list, or what a token with nothing to attend to (or a head without output) has instead. */
static void print_context(FILE *fp, const store *s, const view_sentence *v, const attn_head *h, size_t i)
{
    if (v->no_output)
        fprintf(fp, "- (" VIEW_NO_OUTPUT_FMT ")\n", h->d_k, h->d_model);
    else if (v->no_context[i])
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


/* compare's text of two views. two_heads: one sentence under two heads (labels "under 1/2"), else two sentences. */
static void compare_text(FILE *fp, const view_setup *vs, const view_opts *vo[2], const view_sentence v[2],
                         const view_shared *sh, size_t nsh, int two_heads)
{
    size_t d = store_dim(vs->s), k = vo[0]->k;
    const char *in = two_heads ? "under" : "in";
    if (two_heads) {
        fprintf(fp, "%s\n1: ", v[0].text);
        render_text_head_line(fp, vo[0]);
        fputs("2: ", fp);
        render_text_head_line(fp, vo[1]);
        for (int h = 0; h < 2; h++)
            for (size_t i = 0; i < v[h].n; i++)
                if (v[h].hidden[i]) {
                    fprintf(fp, "guessed [%zu] %s, under %d: ", i, v[h].toks.tokens[i].text, h + 1);
                    render_text_predictions(fp, vs->s, &v[h], i);
                    fputc('\n', fp);
                }
    } else {
        fprintf(fp, "1: %s\n2: %s\n", v[0].text, v[1].text);
        render_text_head_line(fp, vo[0]);
    }
    for (size_t q = 0; q < nsh; q++) {
        size_t l;
        const char *w = store_word(vs->s, (size_t)sh[q].row, &l);
        if (two_heads)
            fprintf(fp, "\n%.*s  (token %zu)\n", (int)l, w, sh[q].i1);
        else
            fprintf(fp, "\n%.*s  (token %zu in 1, token %zu in 2)\n", (int)l, w, sh[q].i1, sh[q].i2);
        fprintf(fp, "  static (same in both):  ");
        print_hits(fp, vs->s, v[0].static_nb + sh[q].i1 * k, k);
        for (int s = 0; s < 2; s++) {
            fprintf(fp, "  attends to, %s %d:%*s", in, s + 1, two_heads ? 4 : 7, "");
            print_attention(fp, &v[s], s ? sh[q].i2 : sh[q].i1);
        }
        for (int s = 0; s < 2 && v[s].why.terms; s++) { /* --why */
            fprintf(fp, "  why, %s %d:%*s", in, s + 1, two_heads ? 11 : 14, "");
            render_text_why(fp, &v[s], s ? sh[q].i2 : sh[q].i1);
            fputc('\n', fp);
        }
        for (int s = 0; s < 2; s++) {
            fprintf(fp, "  in context, %s %d:%*s", in, s + 1, two_heads ? 4 : 7, "");
            print_context(fp, vs->s, &v[s], vo[s]->head, s ? sh[q].i2 : sh[q].i1);
        }
        for (int s = 0; s < 2 && vo[s]->predict; s++) {
            fprintf(fp, "  predicts, %s %d:%*s", in, s + 1, two_heads ? 6 : 9, "");
            render_text_predictions(fp, vs->s, &v[s], s ? sh[q].i2 : sh[q].i1);
            fputc('\n', fp);
        }
        int alone[2] = {v[0].no_context[sh[q].i1], v[1].no_context[sh[q].i2]};
        if (!two_heads)
            fprintf(fp, "  cosine of the two static vectors %.4f", (double)view_cosine(v[0].X + sh[q].i1 * d,
                                                                                   v[1].X + sh[q].i2 * d, d));
        if (v[0].no_output || v[1].no_output)
            fprintf(fp, "%sno contextual vectors (%s head has no output in the vectors' space)\n",
                    two_heads ? "  " : "; ", two_heads ? "a" : "the");
        else if (alone[0] || alone[1])
            fprintf(fp, "%sno contextual vector %s %s (" VIEW_NOTHING_TO_ATTEND ")\n", two_heads ? "  " : "; ", in,
                    alone[0] && alone[1] ? "1 and 2" : alone[0] ? "1" : "2");
        else
            fprintf(fp, "%s of the two contextual vectors %.4f\n", two_heads ? "  cosine" : ",",
                    (double)view_cosine(v[0].Z + sh[q].i1 * d, v[1].Z + sh[q].i2 * d, d));
    }
}

/* The main view under --heads A,B: the sentence under each head, shown as compare of the sentence with itself
 * (text, pictures) or as {"heads": [view A, view B]} (JSON). Consumes nothing; returns the exit code. */
static int show_two_heads(cli_opts *o, view_setup *vs, const char *text, size_t len)
{
    const view_opts *vo[2] = {&vs->vo, &vs->vo2};
    view_sentence v[2];
    ev_error err = {0};
    int code = 0;
    memset(v, 0, sizeof v);
    for (int h = 0; h < 2 && !code; h++)
        if (view_build(vs->s, text, len, vo[h], &v[h], &err) != EV_OK)
            code = cli_report(&err);
    view_shared *sh = NULL;
    size_t nsh = code ? 0 : view_doc_find_shared(v, -1, &sh);
    if (!code && nsh == (size_t)-1)
        code = EV_ERR_NOMEM;
    view_output out;
    if (!code && (code = out_open(o, &out)) == 0) {
        if (o->format == OUT_TEXT)
            compare_text(out.fp, vs, vo, v, sh, nsh, 1);
        else if (o->format == OUT_JSON) {
            cJSON *root = cJSON_CreateObject();
            cJSON *hs = cJSON_AddArrayToObject(root, "heads");
            for (int h = 0; h < 2; h++)
                cJSON_AddItemToArray(hs, view_doc_view(vs->s, &v[h], vo[h], vs->vectors_path));
            code = emit_doc(out.fp, o->format, root, 0, 0);
        } else
            code = emit_doc(out.fp, o->format, view_doc_compare(vs->s, vs->vectors_path, vo, v, sh, nsh), 1, o->map);
        code = out_close(&out, code);
    }
    free(sh);
    view_free(&v[0]);
    view_free(&v[1]);
    return code;
}

/* compare --word W: W's row into *want (-1 without --word). Returns 0 or an exit code (the error printed). */
static int compare_want(const cli_opts *o, const store *s, long *want)
{
    *want = -1;
    if (!o->word)
        return 0;
    store_match m;
    *want = store_lookup(s, o->word, strlen(o->word), &m);
    if (*want >= 0)
        return 0;
    char *q = ev_quote(o->word, strlen(o->word), 200);
    fprintf(cli_stderr(), PROG ": compare: '%s' is not in the vocabulary\n", q ? q : o->word);
    free(q);
    return EV_ERR_NOTFOUND;
}

/* compare's two views of o->pos[0] and o->pos[1] under vo (the static lists from cache when it has them; NULL:
 * none) into v, and the words they share (want's only when ≥ 0) into *sh (*nsh). Returns 0 or an exit code (the
 * error printed); v and *sh are the caller's to free either way. */
static int compare_views(const cli_opts *o, const store *s, const view_opts *vo, long want, view_cache *cache,
                         view_sentence v[2], view_shared **sh, size_t *nsh)
{
    const char *texts[2] = {o->pos[0], o->pos[1]};
    size_t lens[2] = {strlen(o->pos[0]), strlen(o->pos[1])};
    ev_error errs[2] = {{0}, {0}};
    int code = 0;
    if (view_build_many(s, texts, lens, 2, vo, cache, v, errs) != EV_OK) {
        fprintf(cli_stderr(), PROG ": out of memory comparing the sentences\n");
        return EV_ERR_NOMEM;
    }
    for (int i = 0; i < 2; i++)
        if (errs[i].code != EV_OK) {
            fprintf(cli_stderr(), PROG ": sentence %d: %s\n", i + 1, errs[i].msg ? errs[i].msg : "error");
            code = code ? code : (int)errs[i].code;
            ev_error_clear(&errs[i]);
        }
    if (code)
        return code;
    *nsh = view_doc_find_shared(v, want, sh);
    if (*nsh == (size_t)-1) {
        fprintf(cli_stderr(), PROG ": out of memory comparing the sentences\n");
        return EV_ERR_NOMEM;
    }
    if (*nsh == 0) {
        if (o->word) {
            char *q = ev_quote(o->word, strlen(o->word), 200);
            fprintf(cli_stderr(), PROG ": compare: '%s' does not occur in both sentences\n", q ? q : o->word);
            free(q);
        } else
            fprintf(cli_stderr(), PROG ": compare: the sentences share no word with a vector\n");
        return EV_ERR_NOTFOUND;
    }
    return 0;
}

int cli_compare_doc(const cli_opts *o, const store *s, const char *vectors_path, const view_opts *vo,
                    view_cache *cache, cJSON **doc)
{
    *doc = NULL;
    long want;
    int code = compare_want(o, s, &want);
    if (code)
        return code;
    view_sentence v[2];
    view_shared *sh = NULL;
    size_t nsh = 0;
    memset(v, 0, sizeof v);
    code = compare_views(o, s, vo, want, cache, v, &sh, &nsh);
    if (!code) {
        const view_opts *vp[2] = {vo, vo};
        *doc = view_doc_compare(s, vectors_path, vp, v, sh, nsh);
        if (!*doc) {
            fprintf(cli_stderr(), PROG ": out of memory building the output\n");
            code = EV_ERR_NOMEM;
        }
    }
    free(sh);
    view_free(&v[0]);
    view_free(&v[1]);
    return code;
}

int cmd_compare(cli_opts *o)
{
    if (o->map && o->format != OUT_SVG)
        return cli_usage_error("%s", MAP_NEEDS_SVG);
    if (o->heads && (o->format == OUT_HTML || o->format == OUT_SVG))
        return cli_usage_error("%s", "compare --heads writes text or JSON (two pictures of two sentences each do "
                                     "not fit one): for a picture, compare under one head at a time");
    view_setup vs;
    int code = setup(o, &vs);
    if (code)
        return code;
    long want;
    if ((code = compare_want(o, vs.s, &want)) != 0) {
        setup_free(&vs);
        return code;
    }
    int nh = vs.head2 ? 2 : 1;
    view_sentence v[2][2];
    view_shared *sh[2] = {NULL, NULL};
    size_t nsh[2] = {0, 0};
    memset(v, 0, sizeof v);
    for (int h = 0; h < nh && !code; h++)
        code = compare_views(o, vs.s, h ? &vs.vo2 : &vs.vo, want, NULL, v[h], &sh[h], &nsh[h]);
    view_output out;
    if (!code && (code = out_open(o, &out)) == 0) {
        cJSON *docs[2] = {NULL, NULL};
        for (int h = 0; h < nh; h++) {
            const view_opts *vo = h ? &vs.vo2 : &vs.vo, *vp[2] = {vo, vo};
            if (o->format == OUT_TEXT) {
                if (nh == 2)
                    fprintf(out.fp, "%s== head %d of 2 ==\n", h ? "\n" : "", h + 1);
                compare_text(out.fp, &vs, vp, v[h], sh[h], nsh[h], 0);
            } else
                docs[h] = view_doc_compare(vs.s, vs.vectors_path, vp, v[h], sh[h], nsh[h]);
        }
        if (o->format != OUT_TEXT && nh == 1)
            code = emit_doc(out.fp, o->format, docs[0], 1, o->map);
        else if (o->format != OUT_TEXT) { /* JSON only (checked above) */
            cJSON *root = cJSON_CreateObject(), *hs = cJSON_AddArrayToObject(root, "heads");
            cJSON_AddItemToArray(hs, docs[0]);
            cJSON_AddItemToArray(hs, docs[1]);
            code = emit_doc(out.fp, o->format, root, 1, 0);
        }
        code = out_close(&out, code);
    }
    for (int h = 0; h < 2; h++) {
        free(sh[h]);
        view_free(&v[h][0]);
        view_free(&v[h][1]);
    }
    setup_free(&vs);
    return cli_finish_stdout(code);
}
