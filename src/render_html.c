/* render_html — the HTML page and the SVG heatmap (contracts in render_html.h).
 *
 *   JSON document ─doc_read─▶ p_doc (pointers into the document: texts and number texts, weights read back)
 *                  ─page_* / svg_*─▶ HTML or SVG on fp
 *
 * The page is written whole by C: it is readable with scripts off (every token's panel shown, every head-view
 * line drawn). Its script only switches which token is shown: classes, the hidden attribute, and one CSS variable
 * per token set to the selected row's weights (read from the embedded JSON). The stylesheet and the script are
 * plain files, src/assets/page.css and page.js, built in (render_assets.h) and written verbatim.
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream */
#include "render_html.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "numparse.h"
#include "render_assets.h"
#include "version.h"
#include "utf8.h"
#include "util.h"

#define LABEL_MAX 14     /* code points of a token shown in a heatmap label (then "…"; the title has it all) */
#define CHAR_W 7.2       /* estimated advance of a 12px character, for layout */
#define PAD 16.0
#define LEGEND_W 70.0
#define HV_ROW 26.0      /* head view: row height */
#define HV_GAP 150.0     /* head view: room for the lines between the two columns */
#define SVG_MIN_WIDTH 420.0  /* the standalone SVG's least width, so that a one-token picture keeps a caption */
#define CAPTION_CHAR_W 6.2   /* estimated advance of a 10px caption character: the caption wraps to the figure */
#define CAPTION_LINE_H 14.0

/* ---- the document ------------------------------------------------------------------------------------------ */

typedef struct {
    const char *word, *sim; /* sim: the similarity as the JSON writes it */
} p_hit;

typedef struct {
    size_t index;
    const char *weight;
} p_att;

typedef struct {
    const char *text, *status, *word, *fallback, *self_sim; /* self_sim NULL for OOV tokens */
    const char *ctx_reason; /* why it has no context neighbours ("nothing to attend to"), or NULL */
    int oov;
    p_hit *stat, *ctx;
    size_t nstat, nctx;
    p_att *att;
    size_t natt;
} p_tok;

typedef struct {
    const char *sentence;
    size_t n;
    p_tok *tok;       /* (n) */
    const char **w;   /* (n, n) the weights as the JSON writes them */
    float *wv;        /* (n, n) the same texts read back: for colours and rounded display only */
    int *shared;      /* (n) index into the shared words, -1 for none */
} p_view;

typedef struct {
    const char *word, *static_cos, *context_cos; /* context_cos NULL when a side has nothing to attend to */
    const char *ctx_reason[2];                   /* why a side has no context neighbours, or NULL */
    size_t index[2];
    p_hit *stat, *ctx[2];
    size_t nstat, nctx[2];
} p_shared;

typedef struct {
    p_view v[2];
    size_t nv;
    p_shared *sh;
    size_t nsh;
    const cJSON *root, *head, *vectors;
    char **pool; /* numbers the document gives as JSON numbers rather than raw text, formatted here (owned) */
    size_t npool, cpool;
    ev_error *err;
} p_doc;

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

static const char *get_str(const cJSON *o, const char *k)
{
    const cJSON *x = get(o, k);
    return cJSON_IsString(x) ? x->valuestring : NULL;
}

static ev_status missing(p_doc *d, const char *what)
{
    return ev_fail(d->err, EV_ERR_FORMAT, "picture: the JSON document has no valid %s", what);
}

/* The text of a number: a raw item's own text (render_json writes floats raw), else the shortest float text. */
static const char *num_text(p_doc *d, const cJSON *x)
{
    if (cJSON_IsRaw(x) && x->valuestring) {
        float f;
        const char *s = x->valuestring;
        return numparse_float(s, s + strlen(s), &f) == NUMPARSE_OK ? s : NULL;
    }
    if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble))
        return NULL;
    if (d->npool == d->cpool) {
        size_t nc = d->cpool ? d->cpool * 2 : 64;
        char **np = realloc(d->pool, nc * sizeof *np);
        if (!np)
            return NULL;
        d->pool = np;
        d->cpool = nc;
    }
    char *buf = malloc(32);
    if (!buf)
        return NULL;
    numparse_format_float((float)x->valuedouble, buf);
    return d->pool[d->npool++] = buf;
}

static float num_value(const char *s)
{
    float f = 0;
    numparse_float(s, s + strlen(s), &f);
    return f;
}

static int get_index(const cJSON *x, size_t n, size_t *out)
{
    if (!cJSON_IsNumber(x) || !(x->valuedouble >= 0) || x->valuedouble >= (double)n)
        return -1;
    *out = (size_t)x->valuedouble;
    return 0;
}

static ev_status read_hits(p_doc *d, const cJSON *arr, p_hit **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!cJSON_IsArray(arr))
        return missing(d, "neighbour list");
    size_t m = (size_t)cJSON_GetArraySize(arr);
    if (m == 0)
        return EV_OK;
    if (!(*out = calloc(m, sizeof **out)))
        return ev_fail(d->err, EV_ERR_NOMEM, "out of memory drawing the picture");
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        p_hit *h = &(*out)[(*n)++];
        h->word = get_str(e, "word");
        h->sim = num_text(d, get(e, "similarity"));
        if (!h->word || !h->sim)
            return missing(d, "neighbour");
    }
    return EV_OK;
}

static ev_status read_view(p_doc *d, p_view *v, const cJSON *j)
{
    const cJSON *toks = get(j, "tokens"), *w = get(j, "weights");
    v->sentence = get_str(j, "sentence");
    if (!v->sentence || !cJSON_IsArray(toks) || !cJSON_IsArray(w))
        return missing(d, "view (sentence, tokens, weights)");
    size_t n = (size_t)cJSON_GetArraySize(toks);
    if (n == 0)
        return missing(d, "tokens");
    if (n > RENDER_PICTURE_MAX_TOKENS)
        return ev_fail(d->err, EV_ERR_NOMEM,
                       "a picture shows at most %d tokens (this sentence has %zu): use --format json",
                       RENDER_PICTURE_MAX_TOKENS, n);
    v->n = n;
    v->tok = calloc(n, sizeof *v->tok);
    v->w = calloc(n * n, sizeof *v->w);
    v->wv = calloc(n * n, sizeof *v->wv);
    v->shared = malloc(n * sizeof *v->shared);
    if (!v->tok || !v->w || !v->wv || !v->shared)
        return ev_fail(d->err, EV_ERR_NOMEM, "out of memory drawing the picture");
    for (size_t i = 0; i < n; i++)
        v->shared[i] = -1;
    size_t i = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, toks)
    {
        p_tok *p = &v->tok[i++];
        p->text = get_str(t, "text");
        p->status = get_str(t, "status");
        if (!p->text || !p->status)
            return missing(d, "token (text, status)");
        p->oov = strcmp(p->status, "oov") == 0;
        p->word = get_str(t, "word");
        p->fallback = get_str(t, "fallback");
        p->ctx_reason = get_str(t, "context_reason");
        const cJSON *ss = get(t, "context_self_similarity");
        p->self_sim = cJSON_IsNull(ss) || !ss ? NULL : num_text(d, ss);
        if (ss && !cJSON_IsNull(ss) && !p->self_sim)
            return missing(d, "context_self_similarity");
        ev_status st;
        if ((st = read_hits(d, get(t, "static_neighbors"), &p->stat, &p->nstat)) != EV_OK ||
            (st = read_hits(d, get(t, "context_neighbors"), &p->ctx, &p->nctx)) != EV_OK)
            return st;
        const cJSON *att = get(t, "attention");
        if (!cJSON_IsArray(att))
            return missing(d, "attention list");
        size_t m = (size_t)cJSON_GetArraySize(att);
        if (m && !(p->att = calloc(m, sizeof *p->att)))
            return ev_fail(d->err, EV_ERR_NOMEM, "out of memory drawing the picture");
        const cJSON *a;
        cJSON_ArrayForEach(a, att)
        {
            p_att *q = &p->att[p->natt++];
            q->weight = num_text(d, get(a, "weight"));
            if (!q->weight || get_index(get(a, "index"), n, &q->index) != 0)
                return missing(d, "attention entry");
        }
    }
    if ((size_t)cJSON_GetArraySize(w) != n)
        return missing(d, "weights (n rows)");
    i = 0;
    const cJSON *row;
    cJSON_ArrayForEach(row, w)
    {
        if (!cJSON_IsArray(row) || (size_t)cJSON_GetArraySize(row) != n)
            return missing(d, "weights (n columns)");
        size_t k = 0;
        const cJSON *x;
        cJSON_ArrayForEach(x, row)
        {
            const char *s = num_text(d, x);
            if (!s)
                return missing(d, "weight");
            v->w[i * n + k] = s;
            v->wv[i * n + k] = num_value(s);
            k++;
        }
        i++;
    }
    return EV_OK;
}

static void doc_free(p_doc *d)
{
    for (size_t s = 0; s < 2; s++) {
        p_view *v = &d->v[s];
        for (size_t i = 0; v->tok && i < v->n; i++) {
            free(v->tok[i].stat);
            free(v->tok[i].ctx);
            free(v->tok[i].att);
        }
        free(v->tok);
        free(v->w);
        free(v->wv);
        free(v->shared);
    }
    for (size_t q = 0; d->sh && q < d->nsh; q++) {
        free(d->sh[q].stat);
        free(d->sh[q].ctx[0]);
        free(d->sh[q].ctx[1]);
    }
    free(d->sh);
    for (size_t i = 0; i < d->npool; i++)
        free(d->pool[i]);
    free(d->pool);
    memset(d, 0, sizeof *d);
}

/* Reads a view document (compare = 0) or a compare document (compare = 1). */
static ev_status doc_read(p_doc *d, const cJSON *root, int compare, ev_error *err)
{
    memset(d, 0, sizeof *d);
    d->err = err;
    d->root = root;
    ev_status st = EV_OK;
    if (!cJSON_IsObject(root)) {
        st = missing(d, "document");
        goto fail;
    }
    d->head = get(root, "head");
    d->vectors = get(root, "vectors");
    if (!cJSON_IsObject(d->head) || !cJSON_IsObject(d->vectors)) {
        st = missing(d, "head and vectors");
        goto fail;
    }
    if (!compare) {
        d->nv = 1;
        if ((st = read_view(d, &d->v[0], root)) != EV_OK)
            goto fail;
        return EV_OK;
    }
    const cJSON *sents = get(root, "sentences"), *sh = get(root, "shared");
    if (!cJSON_IsArray(sents) || cJSON_GetArraySize(sents) != 2 || !cJSON_IsArray(sh)) {
        st = missing(d, "compare document (two sentences, shared)");
        goto fail;
    }
    d->nv = 2;
    for (int s = 0; s < 2; s++)
        if ((st = read_view(d, &d->v[s], cJSON_GetArrayItem(sents, s))) != EV_OK)
            goto fail;
    size_t m = (size_t)cJSON_GetArraySize(sh);
    if (m && !(d->sh = calloc(m, sizeof *d->sh))) {
        st = ev_fail(err, EV_ERR_NOMEM, "out of memory drawing the picture");
        goto fail;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, sh)
    {
        p_shared *q = &d->sh[d->nsh++];
        const cJSON *ti = get(e, "token_index"), *cn = get(e, "context_neighbors");
        const cJSON *cc = get(e, "context_cosine"), *why = get(e, "context_reason");
        q->word = get_str(e, "word");
        q->static_cos = num_text(d, get(e, "static_cosine"));
        q->context_cos = cJSON_IsNull(cc) ? NULL : num_text(d, cc);
        for (int s = 0; s < 2 && cJSON_IsArray(why); s++) {
            const cJSON *r = cJSON_GetArrayItem(why, s);
            q->ctx_reason[s] = cJSON_IsString(r) ? r->valuestring : NULL;
        }
        if (!q->word || !q->static_cos || (!q->context_cos && !cJSON_IsNull(cc)) || !cJSON_IsArray(ti) ||
            cJSON_GetArraySize(ti) != 2 ||
            !cJSON_IsArray(cn) || cJSON_GetArraySize(cn) != 2) {
            st = missing(d, "shared word");
            goto fail;
        }
        for (int s = 0; s < 2; s++) {
            if (get_index(cJSON_GetArrayItem(ti, s), d->v[s].n, &q->index[s]) != 0) {
                st = missing(d, "shared token_index");
                goto fail;
            }
            if ((st = read_hits(d, cJSON_GetArrayItem(cn, s), &q->ctx[s], &q->nctx[s])) != EV_OK)
                goto fail;
            if (d->v[s].shared[q->index[s]] < 0)
                d->v[s].shared[q->index[s]] = (int)(d->nsh - 1);
        }
        if ((st = read_hits(d, get(e, "static_neighbors"), &q->stat, &q->nstat)) != EV_OK)
            goto fail;
    }
    return EV_OK;
fail:
    doc_free(d);
    return st;
}

/* ---- escaping ---------------------------------------------------------------------------------------------- */

/* Code points in s (an invalid byte counts as one). */
static size_t cp_count(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), i = 0, c = 0;
    uint32_t cp;
    while (i < n) {
        size_t l = utf8_decode(p + i, n - i, &cp);
        i += l ? l : 1;
        c++;
    }
    return c;
}

/* Writes s escaped for XML and HTML text and attribute values. At most max code points (0: all); a longer s is cut
 * to max - 1 and "…" is added. */
static void esc_max(FILE *fp, const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), i = 0, shown = 0, limit = 0;
    int cut = 0;
    if (max) {
        size_t total = cp_count(s);
        cut = total > max;
        limit = cut ? max - 1 : total;
    }
    while (i < n && (!max || shown < limit)) {
        uint32_t cp;
        size_t l = utf8_decode(p + i, n - i, &cp);
        shown++;
        if (!l) {
            fputs("\xEF\xBF\xBD", fp); /* U+FFFD */
            i++;
            continue;
        }
        switch (cp) {
        case '&': fputs("&amp;", fp); break;
        case '<': fputs("&lt;", fp); break;
        case '>': fputs("&gt;", fp); break;
        case '"': fputs("&quot;", fp); break;
        case '\'': fputs("&#39;", fp); break;
        default:
            /* characters XML 1.0 forbids (C0 controls but tab, LF, CR; U+FFFE, U+FFFF) and the other controls */
            if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || (cp >= 0x7F && cp <= 0x9F) ||
                cp == 0xFFFE || cp == 0xFFFF)
                fputs("\xEF\xBF\xBD", fp);
            else
                fwrite(p + i, 1, l, fp);
        }
        i += l;
    }
    if (cut)
        fputs("\xE2\x80\xA6", fp); /* … */
}

static void esc(FILE *fp, const char *s) { esc_max(fp, s, 0); }

/* The last path component (for captions: the full path is in the JSON and the page's footer). */
/* ---- formatting of numbers (display only: the exact texts are in attributes and titles) ------------------- */

static void put_pct(FILE *fp, float w) { fprintf(fp, "%.0f%%", (double)w * 100.0); }

static void put_sim4(FILE *fp, const char *s) { fprintf(fp, "%.4f", (double)num_value(s)); }

/* A weight's colour on the standalone SVG's white background: a sequential blue scale (ColorBrewer Blues). */
static void heat_rgb(float w, char out[8])
{
    static const unsigned char stops[5][3] = {
        {0xf7, 0xfb, 0xff}, {0xc6, 0xdb, 0xef}, {0x6b, 0xae, 0xd6}, {0x21, 0x71, 0xb5}, {0x08, 0x30, 0x6b}};
    double x = w < 0 ? 0 : w > 1 ? 4 : (double)w * 4;
    int k = x >= 4 ? 3 : (int)x;
    double f = x - k;
    int c[3];
    for (int i = 0; i < 3; i++)
        c[i] = (int)lround(stops[k][i] + (stops[k + 1][i] - stops[k][i]) * f);
    snprintf(out, 8, "#%02x%02x%02x", c[0], c[1], c[2]);
}

static size_t digits(size_t x)
{
    size_t d = 1;
    while (x >= 10)
        x /= 10, d++;
    return d;
}

/* ---- the heatmap (standalone SVG and inside the page) ------------------------------------------------------ */

typedef struct {
    int page;         /* 1: inside the HTML page: colours from CSS (light/dark), classes for the script */
    const char *id;   /* prefix of ids, unique in the document */
} hm_mode;

typedef struct {
    double cell, left, top, grid, width, height, legend_h;
    int values;       /* cells are large enough to print their value */
} hm_geom;

static hm_geom hm_measure(const p_view *v)
{
    hm_geom g;
    size_t n = v->n, chars = 1;
    g.cell = n <= 8 ? 40 : n <= 12 ? 34 : n <= 20 ? 28 : n <= 32 ? 22 : n <= 64 ? 14 : 9;
    g.values = g.cell >= 22;
    for (size_t i = 0; i < n; i++) {
        size_t c = cp_count(v->tok[i].text);
        c = c > LABEL_MAX ? LABEL_MAX : c;
        chars = c > chars ? c : chars;
    }
    double lab = (double)(digits(n - 1) + 1 + chars) * CHAR_W;
    g.left = lab + 12;
    g.top = lab * 0.7071 + 14;
    g.grid = (double)n * g.cell;
    double over = lab * 0.7071 - g.cell / 2; /* the last column's slanted label reaches past the grid */
    g.legend_h = g.grid < 140 ? 140 : g.grid > 320 ? 320 : g.grid;
    double legend_right = g.left + g.grid + 22 + LEGEND_W;
    g.width = g.left + g.grid + (over > 0 ? over : 0);
    g.width = g.width > legend_right ? g.width : legend_right;
    g.height = g.top + (g.grid > g.legend_h ? g.grid : g.legend_h);
    return g;
}

static void tok_title(FILE *fp, const p_tok *t)
{
    esc(fp, t->text);
    if (t->oov)
        fputs(" (out of vocabulary: no vector, never attended to)", fp);
    else if (t->fallback) {
        fputs(" (fallback: ", fp);
        esc(fp, t->fallback);
        fputc(')', fp);
    } else if (strcmp(t->status, "lowercase") == 0 && t->word) {
        fputs(" (looked up as ", fp);
        esc(fp, t->word);
        fputc(')', fp);
    }
    if (t->ctx_reason) {
        fputs("; ", fp);
        esc(fp, t->ctx_reason);
    }
}

/* A row (col = 0) or column label: "INDEX TEXT", cut to LABEL_MAX code points, the whole token in its title. */
static void hm_label(FILE *fp, const p_view *v, size_t i, double x, double y, int col, const hm_mode *m)
{
    const p_tok *t = &v->tok[i];
    int sh = v->shared[i] >= 0;
    fprintf(fp, "<text class=\"lab %s%s%s\"", col ? "col" : "row", t->oov ? " oov" : "", sh ? " shared" : "");
    if (col)
        fprintf(fp, " transform=\"translate(%.1f %.1f) rotate(-45)\"", x, y);
    else
        fprintf(fp, " x=\"%.1f\" y=\"%.1f\" dy=\"0.35em\" text-anchor=\"end\"", x, y);
    if (!m->page)
        fprintf(fp, " fill=\"%s\"%s%s", t->oov ? "#b42318" : sh ? "#c2410c" : "#1f2328",
                t->oov ? " font-style=\"italic\"" : "", sh ? " font-weight=\"bold\"" : "");
    fprintf(fp, "><title>%zu: ", i);
    tok_title(fp, t);
    fprintf(fp, "</title><tspan class=\"idx\"%s>%zu</tspan> ", m->page ? "" : " fill=\"#8c959f\"", i);
    esc_max(fp, t->text, LABEL_MAX);
    fputs("</text>\n", fp);
}

static void hm_defs(FILE *fp, const hm_mode *m)
{
    fprintf(fp, "<defs><pattern id=\"%s-hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
                "patternTransform=\"rotate(45)\"><rect class=\"hatch-bg\" width=\"6\" height=\"6\"%s/>"
                "<line class=\"hatch\" x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke-width=\"2\"%s/></pattern>\n",
            m->id, m->page ? "" : " fill=\"#ffffff\"", m->page ? "" : " stroke=\"#d0d7de\"");
    fprintf(fp, "<linearGradient id=\"%s-scale\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">", m->id);
    if (m->page)
        fputs("<stop offset=\"0\" class=\"s0\"/><stop offset=\"1\" class=\"s1\"/>", fp);
    else
        for (int k = 0; k <= 4; k++) {
            char rgb[8];
            heat_rgb((float)k / 4.0f, rgb);
            fprintf(fp, "<stop offset=\"%.2f\" stop-color=\"%s\"/>", k / 4.0, rgb);
        }
    fputs("</linearGradient></defs>\n", fp);
}

/* The n×n cells with row and column labels; (x0, y0) is the top left of the heatmap's box (labels included). */
static void hm_draw(FILE *fp, const p_view *v, const hm_geom *g, double x0, double y0, const hm_mode *m)
{
    size_t n = v->n;
    double c = g->cell, gx = x0 + g->left, gy = y0 + g->top;
    fprintf(fp, "<g class=\"hm\" font-size=\"12\">\n<g class=\"cols\">\n");
    for (size_t j = 0; j < n; j++)
        hm_label(fp, v, j, gx + (double)j * c + c / 2 - 2, gy - 7, 1, m);
    fputs("</g>\n", fp);
    for (size_t i = 0; i < n; i++) {
        double y = gy + (double)i * c;
        fprintf(fp, "<g class=\"hm-row%s\" data-row=\"%zu\">\n", v->shared[i] >= 0 ? " shared" : "", i);
        hm_label(fp, v, i, gx - 8, y + c / 2, 0, m);
        for (size_t j = 0; j < n; j++) {
            const char *w = v->w[i * n + j];
            float wv = v->wv[i * n + j];
            double x = gx + (double)j * c;
            fprintf(fp, "<rect class=\"cell%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" data-row=\"%zu\" "
                        "data-col=\"%zu\" data-weight=\"%s\"",
                    v->tok[j].oov ? " masked" : "", x, y, c, c, i, j, w);
            if (v->tok[j].oov) /* a style: the page's stylesheet colours cells, and beats attributes */
                fprintf(fp, " %s=\"%surl(#%s-hatch)\"", m->page ? "style" : "fill", m->page ? "fill:" : "", m->id);
            else if (m->page)
                fprintf(fp, " fill-opacity=\"%s\"", w);
            else {
                char rgb[8];
                heat_rgb(wv, rgb);
                fprintf(fp, " fill=\"%s\"", rgb);
            }
            fputs("><title>", fp);
            esc(fp, v->tok[i].text);
            fputs(" \xE2\x86\x92 ", fp);
            esc(fp, v->tok[j].text);
            fprintf(fp, ": %s (", w);
            put_pct(fp, wv);
            fprintf(fp, ")%s</title></rect>\n", v->tok[j].oov ? ", out of vocabulary: never attended to" : "");
            if (g->values && !v->tok[j].oov && wv >= 0.005f) {
                int hi = wv >= 0.5f;
                fprintf(fp, "<text class=\"v%s\" x=\"%.1f\" y=\"%.1f\" dy=\"0.35em\" text-anchor=\"middle\"",
                        hi ? " hi" : "", x + c / 2, y + c / 2);
                if (!m->page)
                    fprintf(fp, " font-size=\"%d\" fill=\"%s\" pointer-events=\"none\"", c >= 34 ? 11 : 10,
                            hi ? "#ffffff" : "#1f2328");
                fprintf(fp, ">%.0f</text>\n", (double)wv * 100.0);
            }
        }
        if (v->tok[i].ctx_reason && g->grid >= (double)strlen(v->tok[i].ctx_reason) * 6.0 + 8) {
            /* an empty row says why across it (when it is wide enough; the label's title says it always) */
            fprintf(fp, "<text class=\"none\" x=\"%.1f\" y=\"%.1f\" dy=\"0.35em\" text-anchor=\"middle\" "
                        "font-size=\"10\" %s pointer-events=\"none\">",
                    gx + g->grid / 2, y + c / 2,
                    m->page ? "style=\"fill:var(--muted);font-style:italic\"" : "fill=\"#57606a\" font-style=\"italic\"");
            esc(fp, v->tok[i].ctx_reason);
            fputs("</text>\n", fp);
        }
        if (m->page)
            fprintf(fp, "<rect class=\"rowsel\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n", gx - 1,
                    y + 1, g->grid + 2, c - 2);
        fputs("</g>\n", fp);
    }
    fprintf(fp, "<rect class=\"frame\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\"%s/>\n", gx,
            gy, g->grid, g->grid, m->page ? "" : " stroke=\"#8c959f\" stroke-width=\"0.5\"");
    /* the shared words' rows: outlined (compare) */
    for (size_t i = 0; !m->page && i < n; i++)
        if (v->shared[i] >= 0)
            fprintf(fp, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#c2410c\" "
                        "stroke-width=\"2\"/>\n",
                    gx - 1, gy + (double)i * c, g->grid + 2, c);
    fputs("</g>\n", fp);
}

/* The colour scale: a vertical bar from 0 (bottom) to 1 (top) with ticks. */
static void legend_draw(FILE *fp, double x, double y, double h, const hm_mode *m)
{
    static const char *ticks[] = {"0", "0.25", "0.5", "0.75", "1"};
    fprintf(fp, "<g class=\"legend\" font-size=\"11\"%s>\n", m->page ? "" : " fill=\"#1f2328\"");
    fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" font-weight=\"bold\">weight</text>\n", x, y - 8);
    fprintf(fp,
            "<rect class=\"scale\" x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"%.1f\" fill=\"url(#%s-scale)\"%s/>\n",
            x, y, h, m->id, m->page ? "" : " stroke=\"#8c959f\" stroke-width=\"0.5\"");
    for (int k = 0; k <= 4; k++) {
        double ty = y + h - h * k / 4.0;
        fprintf(fp, "<line class=\"tick\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"%s/>", x + 14, ty, x + 18,
                ty, m->page ? "" : " stroke=\"#57606a\"");
        fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" dy=\"0.35em\">%s</text>\n", x + 21, ty, ticks[k]);
    }
    fputs("</g>\n", fp);
}

/* ---- the standalone SVG ------------------------------------------------------------------------------------ */

static int any_oov(const p_doc *d)
{
    for (size_t s = 0; s < d->nv; s++)
        for (size_t i = 0; i < d->v[s].n; i++)
            if (d->v[s].tok[i].oov)
                return 1;
    return 0;
}

/* Whether a token of view v (all views: NULL) has nothing to attend to. */
static int any_alone(const p_doc *d, const p_view *v)
{
    for (size_t s = 0; s < d->nv; s++)
        for (size_t i = 0; i < d->v[s].n; i++)
            if ((!v || v == &d->v[s]) && d->v[s].tok[i].ctx_reason)
                return 1;
    return 0;
}

/* The caption line for those tokens. */
static const char *alone_caption = "Empty row: the token has nothing to attend to (every key it may attend to is "
                                   "masked), so it has no contextual vector.";

/* One line describing the head, as the text view's header does. */
static void head_line(FILE *fp, const p_doc *d)
{
    const char *desc = get_str(d->head, "description"), *pos = get_str(d->head, "positions");
    const cJSON *ps = get(d->head, "position_scale");
    esc(fp, desc && *desc ? desc : "?");
    fputs("; positions ", fp);
    esc(fp, pos ? pos : "none");
    if (pos && strcmp(pos, "none") != 0 && ps) {
        fputs(" (scale ", fp);
        if (cJSON_IsRaw(ps) && ps->valuestring)
            esc(fp, ps->valuestring);
        else if (cJSON_IsNumber(ps))
            fprintf(fp, "%g", ps->valuedouble);
        fputc(')', fp);
    }
    fprintf(fp, "; %s; residual %s", cJSON_IsTrue(get(d->head, "causal")) ? "causal" : "bidirectional",
            cJSON_IsTrue(get(d->head, "residual")) ? "on" : "off");
}

static void vectors_line(FILE *fp, const p_doc *d, int full_path)
{
    const char *path = get_str(d->vectors, "path");
    const cJSON *words = get(d->vectors, "words"), *dim = get(d->vectors, "dim");
    esc(fp, path ? (full_path ? path : util_base_name(path)) : "?");
    fprintf(fp, " (%.0f words, %.0f dimensions)", cJSON_IsNumber(words) ? words->valuedouble : 0.0,
            cJSON_IsNumber(dim) ? dim->valuedouble : 0.0);
}

/* Bytes of the character at p of escaped text: an entity ("&amp;") or one UTF-8 code point. */
static size_t esc_unit(const char *p)
{
    unsigned char c = (unsigned char)*p;
    size_t n = c == '&' ? strcspn(p, ";") + 1 : c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    size_t have = strnlen(p, n);
    return have < n ? (have ? have : 1) : n;
}

/* Writes escaped text as caption lines of at most cols characters (an entity or a code point counts one), broken
 * at spaces (a word longer than a line is cut), the first at (x, y), then every CAPTION_LINE_H. Returns the number
 * of lines; with fp NULL only counts them. */
static size_t caption_lines(FILE *fp, const char *s, size_t cols, double x, double y)
{
    size_t lines = 0;
    for (const char *p = s; *p; lines++) {
        const char *q = p, *brk = NULL;
        for (size_t n = 0; *q && n < cols; n++) {
            if (*q == ' ')
                brk = q;
            q += esc_unit(q);
        }
        const char *end = q, *next = q;
        if (*q && *q != ' ' && brk && brk > p) /* full: back to the last space */
            end = brk, next = brk;
        if (fp)
            fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\">%.*s</text>\n", x, y + CAPTION_LINE_H * (double)lines,
                    (int)(end - p), p);
        for (p = next; *p == ' '; p++)
            ;
    }
    return lines;
}

static ev_status svg_write(FILE *fp, const cJSON *root, int compare, ev_error *err)
{
    p_doc d;
    ev_status st = doc_read(&d, root, compare, err);
    if (st != EV_OK)
        return st;
    hm_geom g[2];
    double x[2], w = PAD, title_h = 30, h = 0;
    for (size_t s = 0; s < d.nv; s++) {
        g[s] = hm_measure(&d.v[s]);
        x[s] = w;
        w += g[s].width + (s + 1 < d.nv ? 36 : 0);
        h = g[s].height > h ? g[s].height : h;
    }
    /* the figure's width (at least SVG_MIN_WIDTH); the caption is wrapped to it */
    double width = w + PAD > SVG_MIN_WIDTH ? w + PAD : SVG_MIN_WIDTH;
    size_t cols = (size_t)((width - 2 * PAD) / CAPTION_CHAR_W);
    const char *cap1 = "Row: the token attending (query); column: the token attended to (key). Each row sums to 1.";
    int oov = any_oov(&d), alone = any_alone(&d, NULL);
    /* the caption's paragraphs, escaped, each ending in a NUL */
    char *cap = NULL;
    size_t cap_len = 0;
    FILE *cf = open_memstream(&cap, &cap_len);
    if (!cf) {
        doc_free(&d);
        return ev_fail(err, EV_ERR_NOMEM, "out of memory drawing the picture");
    }
    fprintf(cf, "%s%c", cap1, 0);
    if (oov)
        fprintf(cf, "Italic red label: out of vocabulary (no vector; its key is masked, so it is never attended to; "
                    "hatched cells).%c", 0);
    if (alone)
        fprintf(cf, "%s%c", alone_caption, 0);
    if (compare) {
        fprintf(cf, "Bold orange label, outlined row: the word both sentences share%s", d.nsh ? " (" : "");
        for (size_t q = 0; q < d.nsh; q++) {
            fputs(q ? ", " : "", cf);
            esc(cf, d.sh[q].word);
        }
        fprintf(cf, "%s.%c", d.nsh ? ")" : "", 0);
    }
    fputs("Head: ", cf);
    head_line(cf, &d);
    fprintf(cf, ".%cVectors: ", 0);
    vectors_line(cf, &d, 0);
    fprintf(cf, ". Made by embvsattn %s.%c", EMBVSATTN_VERSION, 0);
    if (fclose(cf) != 0 || !cap) {
        free(cap);
        doc_free(&d);
        return ev_fail(err, EV_ERR_NOMEM, "out of memory drawing the picture");
    }
    size_t nlines = 0;
    for (const char *p = cap; p < cap + cap_len; p += strlen(p) + 1)
        nlines += caption_lines(NULL, p, cols, 0, 0);
    double caption_y = PAD + title_h + h + 22, height = caption_y + (double)nlines * CAPTION_LINE_H + PAD;

    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", fp);
    fprintf(fp, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%.0f\" height=\"%.0f\" "
                "viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-labelledby=\"title desc\" "
                "font-family=\"'DejaVu Sans', 'Helvetica Neue', Helvetica, Arial, sans-serif\">\n",
            ceil(width), ceil(height), ceil(width), ceil(height));
    fputs("<title id=\"title\">Attention weights: ", fp);
    for (size_t s = 0; s < d.nv; s++) {
        fputs(s ? " | " : "", fp);
        esc(fp, d.v[s].sentence);
    }
    fputs("</title>\n<desc id=\"desc\">", fp);
    fprintf(fp, "%s of self-attention weights made by embvsattn %s. %s Head: ",
            compare ? "Two heatmaps" : "A heatmap", EMBVSATTN_VERSION, cap1);
    head_line(fp, &d);
    fputs(". Vectors: ", fp);
    vectors_line(fp, &d, 1);
    fputs(".</desc>\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n", fp);
    hm_mode m = {0, "hm"};
    hm_defs(fp, &m);
    for (size_t s = 0; s < d.nv; s++) {
        fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"14\" font-weight=\"bold\" fill=\"#1f2328\">", x[s],
                PAD + 12);
        if (compare)
            fprintf(fp, "%zu: ", s + 1);
        size_t fit = (size_t)((compare ? g[s].width : width - 2 * PAD) / 8.0);
        fputs("\xE2\x80\x9C", fp);
        esc_max(fp, d.v[s].sentence, fit < 8 ? 8 : fit);
        fputs("\xE2\x80\x9D</text>\n", fp);
        hm_draw(fp, &d.v[s], &g[s], x[s], PAD + title_h, &m);
        legend_draw(fp, x[s] + g[s].left + g[s].grid + 22, PAD + title_h + g[s].top, g[s].legend_h, &m);
    }
    fputs("<g class=\"caption\" font-size=\"10\" fill=\"#57606a\">\n", fp);
    double cy = caption_y;
    for (const char *p = cap; p < cap + cap_len; p += strlen(p) + 1)
        cy += CAPTION_LINE_H * (double)caption_lines(fp, p, cols, PAD, cy);
    fputs("</g>\n</svg>\n", fp);
    free(cap);
    doc_free(&d);
    return EV_OK;
}

ev_status render_svg_view(FILE *fp, const cJSON *view, ev_error *err) { return svg_write(fp, view, 0, err); }

ev_status render_svg_compare(FILE *fp, const cJSON *doc, ev_error *err) { return svg_write(fp, doc, 1, err); }

/* ---- the HTML page ----------------------------------------------------------------------------------------- */

/* The document as JSON inside <script type="application/json">: < > & escaped as \u003c \u003e \u0026 (valid
 * JSON with the same meaning), so that no string in it can close the element or open a comment. */
static void put_json(FILE *fp, const char *s)
{
    for (const char *p = s; *p; p++) {
        if (*p == '<')
            fputs("\\u003c", fp);
        else if (*p == '>')
            fputs("\\u003e", fp);
        else if (*p == '&')
            fputs("\\u0026", fp);
        else
            fputc(*p, fp);
    }
}

static size_t first_known(const p_view *v)
{
    for (size_t i = 0; i < v->n; i++)
        if (!v->tok[i].oov)
            return i;
    return 0;
}

/* The sentence as token chips: focusable buttons (Tab, arrow keys; Enter or Space selects). */
static void page_strip(FILE *fp, const p_view *v, size_t s, size_t sel)
{
    fprintf(fp, "<div class=\"strip\" role=\"group\" aria-label=\"Tokens of sentence %zu: select one to see its "
                "attention and neighbours\">\n",
            s + 1);
    for (size_t i = 0; i < v->n; i++) {
        const p_tok *t = &v->tok[i];
        int sh = v->shared[i] >= 0;
        fprintf(fp, "<button type=\"button\" class=\"tok%s%s%s\" data-i=\"%zu\" aria-pressed=\"%s\" title=\"",
                t->oov ? " oov" : "", sh ? " shared" : "", i == sel ? " cur" : "", i, i == sel ? "true" : "false");
        tok_title(fp, t);
        fprintf(fp, "%s\"><span class=\"tt\">", sh ? "; the word both sentences share" : "");
        esc(fp, t->text);
        fprintf(fp, "</span><span class=\"ti\" aria-hidden=\"true\">%zu</span>", i);
        if (t->oov)
            fputs("<span class=\"badge\" title=\"out of vocabulary\">OOV</span>", fp);
        if (t->oov || sh)
            fprintf(fp, "<span class=\"sr\">%s%s</span>", t->oov ? ", out of vocabulary" : "",
                    sh ? ", shared word" : "");
        fputs("</button>\n", fp);
    }
    fputs("</div>\n", fp);
}

/* bertviz's head view: the tokens twice, a line from token i (left) to each token j (right), its opacity the
 * weight A[i][j]. One group of lines per row; the script shows the selected row's (all rows without scripts). */
static void page_headview(FILE *fp, const p_view *v, const char *id)
{
    size_t n = v->n, chars = 1;
    for (size_t i = 0; i < n; i++) {
        size_t c = cp_count(v->tok[i].text);
        c = c > 18 ? 18 : c;
        chars = c > chars ? c : chars;
    }
    double lab = (double)chars * 8.0 + 6, lx = PAD + lab, rx = lx + HV_GAP, top = 30;
    double width = rx + lab + PAD, height = top + (double)n * HV_ROW + 8;
    fprintf(fp, "<div class=\"hvwrap\"><svg class=\"hv\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
                "role=\"img\" aria-labelledby=\"%s-hv-t\">\n<title id=\"%s-hv-t\">Head view: lines from the selected "
                "token (left) to the tokens it attends to (right); a line's opacity is the attention weight</title>\n",
            ceil(width), ceil(height), ceil(width), ceil(height), id, id);
    fprintf(fp, "<text class=\"hv-head\" x=\"%.1f\" y=\"14\" text-anchor=\"end\">attends</text>"
                "<text class=\"hv-head\" x=\"%.1f\" y=\"14\">to</text>\n",
            lx, rx);
    fputs("<g class=\"hv-rows\">\n", fp);
    for (size_t i = 0; i < n; i++) {
        double yi = top + ((double)i + 0.5) * HV_ROW;
        fprintf(fp, "<g class=\"hv-row\" data-i=\"%zu\">", i);
        for (size_t j = 0; j < n; j++) {
            double yj = top + ((double)j + 0.5) * HV_ROW;
            fprintf(fp,
                    "<rect class=\"hv-hit\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill-opacity=\"%s\"/>",
                    rx - 4, yj - HV_ROW / 2 + 2, lab + 6, HV_ROW - 4, v->w[i * n + j]);
            fprintf(fp, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke-opacity=\"%s\" data-j=\"%zu\"/>",
                    lx + 8, yi, rx - 10, yj, v->w[i * n + j], j);
        }
        fputs("</g>\n", fp);
    }
    fputs("</g>\n<g class=\"hv-left\">", fp);
    for (int side = 0; side < 2; side++) {
        if (side)
            fputs("</g>\n<g class=\"hv-right\">", fp);
        for (size_t i = 0; i < n; i++) {
            const p_tok *t = &v->tok[i];
            fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" dy=\"0.35em\"%s data-i=\"%zu\"%s>", side ? rx : lx,
                    top + ((double)i + 0.5) * HV_ROW, side ? "" : " text-anchor=\"end\"", i,
                    t->oov ? " class=\"oov\"" : v->shared[i] >= 0 ? " class=\"shared\"" : "");
            esc_max(fp, t->text, 18);
            fputs("</text>", fp);
        }
    }
    fputs("</g>\n</svg></div>\n", fp);
}

/* A neighbour list as a table: word, bar, similarity (4 decimals; the exact JSON text in the title). Words of
 * the list that are not in `other` are marked new (in context: where attention moved the token). */
static void page_hits(FILE *fp, const p_hit *h, size_t n, const p_hit *other, size_t nother, const char *cls,
                      const char *caption, const char *note, const char *empty)
{
    fprintf(fp, "<table class=\"nb %s\"><caption>%s<small>%s</small></caption>\n"
                "<thead class=\"sr\"><tr><th scope=\"col\">word</th><th scope=\"col\">cosine similarity</th></tr>"
                "</thead><tbody>\n",
            cls, caption, note);
    if (n == 0) {
        fputs("<tr><td colspan=\"2\" class=\"muted\">", fp);
        esc(fp, empty);
        fputs("</td></tr>\n", fp);
    }
    for (size_t j = 0; j < n; j++) {
        int found = other == NULL;
        for (size_t q = 0; !found && q < nother; q++)
            found = strcmp(other[q].word, h[j].word) == 0;
        fprintf(fp, "<tr%s><td>", found ? "" : " class=\"new\" title=\"not among the static neighbours\"");
        esc(fp, h[j].word);
        fprintf(fp,
                "</td><td class=\"num\" title=\"%s\" data-sim=\"%s\"><span class=\"simbar\" style=\"--s:%s\"></span>",
                h[j].sim, h[j].sim, h[j].sim);
        put_sim4(fp, h[j].sim);
        fputs("</td></tr>\n", fp);
    }
    fputs("</tbody></table>\n", fp);
}

/* Whether another token of the sentence has the same text (then summaries add its index, as the text view). */
static int repeated(const p_view *v, size_t j)
{
    for (size_t k = 0; k < v->n; k++)
        if (k != j && strcmp(v->tok[k].text, v->tok[j].text) == 0)
            return 1;
    return 0;
}

/* "TOKEN attends most to: A (self) 62% · B 10% · C [7] 6%" from the token's attention list in the JSON. */
static void put_summary(FILE *fp, const p_view *v, size_t i, int spans)
{
    const p_tok *t = &v->tok[i];
    fputs(spans ? "<span class=\"lbl\">" : "", fp);
    esc(fp, t->text);
    if (!t->natt) { /* "TOKEN has nothing to attend to" */
        fputs(spans ? "</span> has " : " has ", fp);
        esc(fp, t->ctx_reason ? t->ctx_reason : "nothing to attend to");
        return;
    }
    fputs(" attends most to:", fp);
    fputs(spans ? "</span> " : " ", fp);
    for (size_t q = 0; q < t->natt; q++) {
        size_t j = t->att[q].index;
        fputs(q ? " \xC2\xB7 " : "", fp);
        if (spans)
            fprintf(fp, "<span data-j=\"%zu\" data-weight=\"%s\">", j, t->att[q].weight);
        esc(fp, v->tok[j].text);
        if (j == i)
            fputs(" (self)", fp);
        else if (repeated(v, j))
            fprintf(fp, " [%zu]", j);
        fputc(' ', fp);
        put_pct(fp, num_value(t->att[q].weight));
        fputs(spans ? "</span>" : "", fp);
    }
}

/* Token i's panel: whom it attends to, its static neighbours beside its in-context neighbours. */
static void page_detail(FILE *fp, const p_view *v, size_t i, const char *id)
{
    const p_tok *t = &v->tok[i];
    /* all shown without scripts; the script hides all but the drawn token's */
    fprintf(fp, "<article class=\"detail\" id=\"%s-d%zu\" data-i=\"%zu\" aria-labelledby=\"%s-d%zu-h\">\n", id, i, i,
            id, i);
    fprintf(fp, "<h3 id=\"%s-d%zu-h\">", id, i);
    esc(fp, t->text);
    fprintf(fp, "<span class=\"meta\">token %zu \xC2\xB7 ", i);
    if (t->oov)
        fputs("out of vocabulary: no vector, never attended to", fp);
    else if (t->fallback) {
        fputs("fallback: ", fp);
        esc(fp, t->fallback);
    } else if (strcmp(t->status, "lowercase") == 0 && t->word) {
        fputs("looked up as \xE2\x80\x9C", fp);
        esc(fp, t->word);
        fputs("\xE2\x80\x9D", fp);
    } else
        fputs("in the vocabulary", fp);
    fputs("</span></h3>\n<p class=\"att summary\">", fp);
    put_summary(fp, v, i, 1);
    fputs("</p>\n<div class=\"nbs\">\n", fp);
    page_hits(fp, t->stat, t->nstat, NULL, 0, "static", "static neighbours",
              "the word alone: the same in every sentence", "none: no vector");
    page_hits(fp, t->ctx, t->nctx, t->oov ? NULL : t->stat, t->nstat, "context", "in context",
              "neighbours of its attention output (its row of A\xC2\xB7V)", t->ctx_reason ? t->ctx_reason : "none");
    fputs("</div>\n", fp);
    if (t->self_sim) {
        fprintf(fp, "<p class=\"self\">cosine of its in-context vector to its static vector: <b title=\"%s\">",
                t->self_sim);
        put_sim4(fp, t->self_sim);
        fputs("</b></p>\n", fp);
    }
    fputs("</article>\n", fp);
}

static void page_weights_table(FILE *fp, const p_view *v)
{
    size_t n = v->n;
    fputs("<details class=\"wt\"><summary>The weights as a table (rounded to 3 decimals; the exact values are in "
          "the JSON embedded in this page)</summary>\n<div class=\"tablewrap\"><table class=\"wt\"><thead><tr><th "
          "scope=\"col\">attends \xE2\x86\x93 to \xE2\x86\x92</th>",
          fp);
    for (size_t j = 0; j < n; j++) {
        fputs("<th scope=\"col\">", fp);
        esc(fp, v->tok[j].text);
        fputs("</th>", fp);
    }
    fputs("</tr></thead><tbody>\n", fp);
    for (size_t i = 0; i < n; i++) {
        fputs("<tr><th scope=\"row\">", fp);
        esc(fp, v->tok[i].text);
        fputs("</th>", fp);
        for (size_t j = 0; j < n; j++)
            fprintf(fp, "<td>%.3f</td>", (double)v->wv[i * n + j]);
        fputs("</tr>\n", fp);
    }
    fputs("</tbody></table></div></details>\n", fp);
}

static void page_heatmap(FILE *fp, const p_view *v, const char *id)
{
    hm_geom g = hm_measure(v);
    char pid[40];
    snprintf(pid, sizeof pid, "%s-hm", id);
    hm_mode m = {1, pid};
    fprintf(fp, "<figure class=\"hmfig\"><h3>Attention weights</h3>\n<div class=\"hmwrap\"><svg class=\"hm-svg\" "
                "width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
                "aria-labelledby=\"%s-t\" aria-describedby=\"%s-d\">\n<title id=\"%s-t\">Attention weights, %zu by "
                "%zu</title>\n<desc id=\"%s-d\">Row: the token attending; column: the token attended to; a cell's "
                "shade is its weight (0 to 1); each row sums to 1. The same numbers are in the table below.</desc>\n",
            ceil(g.width + 4), ceil(g.height + 4), ceil(g.width + 4), ceil(g.height + 4), pid, pid, pid, v->n, v->n,
            pid);
    hm_defs(fp, &m);
    hm_draw(fp, v, &g, 2, 2, &m);
    legend_draw(fp, 2 + g.left + g.grid + 22, 2 + g.top, g.legend_h, &m);
    fputs("</svg></div>\n<p class=\"hm-read\" aria-hidden=\"true\"></p>\n<figcaption>Row: the token attending "
          "(query); column: the token attended to (key); each row sums to 1. Hover a cell for its value, click it "
          "to select its row.",
          fp);
    int oov = 0;
    for (size_t i = 0; i < v->n; i++)
        oov |= v->tok[i].oov;
    if (oov)
        fputs(" Hatched columns: out-of-vocabulary tokens, whose key is masked.", fp);
    for (size_t i = 0; i < v->n; i++)
        if (v->tok[i].ctx_reason) {
            fputs(" An empty row: the token has nothing to attend to (every key it may attend to is masked).", fp);
            break;
        }
    fputs("</figcaption>\n", fp);
    page_weights_table(fp, v);
    fputs("</figure>\n", fp);
}

static void page_sentence(FILE *fp, const p_doc *d, size_t s)
{
    const p_view *v = &d->v[s];
    char id[24];
    snprintf(id, sizeof id, "s%zu", s);
    size_t sel = first_known(v);
    if (d->nsh)
        sel = d->sh[0].index[s];
    fprintf(fp, "<section class=\"sent card\" id=\"%s\" data-selected=\"%zu\" aria-labelledby=\"%s-h\">\n", id, sel,
            id);
    if (d->nv > 1)
        fprintf(fp, "<h2 id=\"%s-h\">Sentence %zu</h2>\n", id, s + 1);
    else
        fprintf(fp, "<h2 id=\"%s-h\">The sentence</h2>\n", id);
    fputs("<p class=\"quote\">\xE2\x80\x9C", fp);
    esc(fp, v->sentence);
    fputs("\xE2\x80\x9D</p>\n", fp);
    page_strip(fp, v, s, sel);
    fputs("<p class=\"hint\">Hover, click or focus a token (Tab, then the arrow keys; Enter or Space selects it) to "
          "draw its attention and show its neighbours.</p>\n",
          fp);
    fprintf(fp, "<p class=\"readout\" id=\"%s-readout\" aria-live=\"polite\">", id);
    put_summary(fp, v, sel, 0); /* the selected token's (the script keeps it in step) */
    fputs("</p>\n<div class=\"panes\">\n<figure class=\"hvfig\">\n", fp);
    page_headview(fp, v, id);
    fputs("<figcaption>Head view: a line from the token on the left to each token on the right; its opacity is "
          "the attention weight.</figcaption>\n</figure>\n<div class=\"details\">\n",
          fp);
    for (size_t i = 0; i < v->n; i++)
        page_detail(fp, v, i, id);
    fputs("</div>\n</div>\n", fp);
    page_heatmap(fp, v, id);
    fputs("</section>\n", fp);
}

static void put_hits_inline(FILE *fp, const p_hit *h, size_t n, const char *empty)
{
    if (!n) {
        fputs("<span class=\"muted\">", fp);
        esc(fp, empty);
        fputs("</span>", fp);
    }
    for (size_t j = 0; j < n; j++) {
        fputs(j ? ", " : "", fp);
        fprintf(fp, "<span class=\"nbl\" data-sim=\"%s\">", h[j].sim);
        esc(fp, h[j].word);
        fputs("<span>", fp);
        put_sim4(fp, h[j].sim);
        fputs("</span></span>", fp);
    }
}

static void page_shared(FILE *fp, const p_doc *d)
{
    fputs("<section class=\"card shared-sec\" aria-labelledby=\"sh-h\">\n<h2 id=\"sh-h\">The shared word"
          " \xE2\x80\x94 one static vector, two contexts</h2>\n"
          "<p class=\"muted\">A static embedding gives the word the same vector in both sentences (static cosine "
          "1); attention mixes in each sentence's other tokens, so its two in-context vectors differ.</p>\n"
          "<div class=\"tablewrap\"><table class=\"sh\"><thead><tr><th scope=\"col\">word</th><th scope=\"col\">"
          "static neighbours (both sentences)</th><th scope=\"col\">in context, sentence 1</th><th scope=\"col\">"
          "in context, sentence 2</th><th scope=\"col\">cosine, static</th><th scope=\"col\">cosine, in context"
          "</th></tr></thead><tbody>\n",
          fp);
    for (size_t q = 0; q < d->nsh; q++) {
        const p_shared *s = &d->sh[q];
        fprintf(fp, "<tr><th scope=\"row\"><button type=\"button\" class=\"shared-btn\" data-i1=\"%zu\" "
                    "data-i2=\"%zu\" aria-pressed=\"%s\" title=\"select it in both sentences\">",
                s->index[0], s->index[1], q == 0 ? "true" : "false");
        esc(fp, s->word);
        fputs("</button></th><td>", fp);
        put_hits_inline(fp, s->stat, s->nstat, "none");
        fputs("</td><td>", fp);
        put_hits_inline(fp, s->ctx[0], s->nctx[0], s->ctx_reason[0] ? s->ctx_reason[0] : "none");
        fputs("</td><td>", fp);
        put_hits_inline(fp, s->ctx[1], s->nctx[1], s->ctx_reason[1] ? s->ctx_reason[1] : "none");
        fprintf(fp, "</td><td class=\"num\" title=\"%s\" data-value=\"%s\">", s->static_cos, s->static_cos);
        put_sim4(fp, s->static_cos);
        if (s->context_cos) {
            fprintf(fp, "</td><td class=\"num\" title=\"%s\" data-value=\"%s\">", s->context_cos, s->context_cos);
            put_sim4(fp, s->context_cos);
        } else /* a side has no contextual vector */
            fputs("</td><td class=\"num muted\" title=\"no contextual vector: nothing to attend to\" "
                  "data-value=\"\">\xE2\x80\x94", fp);
        fputs("</td></tr>\n", fp);
    }
    fputs("</tbody></table></div>\n</section>\n", fp);
}

static void page_footer(FILE *fp, const p_doc *d)
{
    const char *kind = get_str(d->head, "kind");
    fputs("<footer class=\"wrap\"><div class=\"card\">\n<h2>About this picture</h2>\n<dl>\n<dt>Head</dt><dd>", fp);
    head_line(fp, d);
    fputs(". ", fp);
    if (kind && strcmp(kind, "identity") == 0)
        fputs("<span class=\"muted\">Untrained: W<sub>Q</sub> = W<sub>K</sub> = W<sub>V</sub> = I, so a token "
              "attends to the tokens whose vectors are most like its own (softmax of the dot products divided by "
              "\xE2\x88\x9A" "d<sub>k</sub>). It measures similarity inside the sentence; it has learnt "
              "nothing.</span>",
              fp);
    else if (kind && strcmp(kind, "random") == 0)
        fputs("<span class=\"muted\">Untrained: random (Xavier-uniform) projections, a baseline; its pattern is "
              "arbitrary.</span>",
              fp);
    else
        fputs("<span class=\"muted\">Its projections W<sub>Q</sub>, W<sub>K</sub>, W<sub>V</sub> come with the head "
              "(its description says from where).</span>",
              fp);
    fputs(cJSON_IsTrue(get(d->head, "residual"))
              ? " <span class=\"muted\">In context = the static vector plus the head's output (a residual "
                "connection, as in a transformer layer).</span>"
              : " <span class=\"muted\">In context = the head's output A\xC2\xB7V alone (no residual), so the "
                "neighbours show what attention computed.</span>",
          fp);
    fputs("</dd>\n<dt>Vectors</dt><dd>", fp);
    vectors_line(fp, d, 1);
    fputs(". Static neighbours: cosine over the whole vocabulary.</dd>\n<dt>Numbers</dt><dd>Every number here is "
          "written in the JSON embedded in this page, the same document as <code>--format json</code> prints"
          "<span id=\"dl-json-wrap\" hidden> (<a id=\"dl-json\" download=\"embvsattn.json\">save it</a>)</span>; "
          "percentages and 4-decimal similarities are rounded for display.</dd>\n</dl>\n",
          fp);
    fprintf(fp, "<p class=\"muted\">Made by embvsattn %s. Self-contained: nothing on this page is fetched from a "
                "network.</p>\n</div></footer>\n",
            EMBVSATTN_VERSION);
}

static ev_status page_write(FILE *fp, const cJSON *root, int compare, ev_error *err)
{
    p_doc d;
    ev_status st = doc_read(&d, root, compare, err);
    if (st != EV_OK)
        return st;
    char *json = cJSON_PrintUnformatted(root);
    if (!json) {
        doc_free(&d);
        return ev_fail(err, EV_ERR_NOMEM, "out of memory drawing the picture");
    }
    fputs("<!DOCTYPE html>\n<html lang=\"en\" class=\"nojs\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<meta name=\"color-scheme\" content=\"light dark\">\n",
          fp);
    fprintf(fp, "<meta name=\"generator\" content=\"embvsattn %s\">\n<title>embvsattn: ", EMBVSATTN_VERSION);
    for (size_t s = 0; s < d.nv; s++) {
        fputs(s ? " | " : "", fp);
        esc_max(fp, d.v[s].sentence, 80);
    }
    fputs("</title>\n<style>\n", fp);
    fwrite(render_asset_page_css, 1, render_asset_page_css_size, fp);
    fputs("</style>\n</head>\n<body>\n<header class=\"top wrap\">\n<h1><span class=\"brand\">embvsattn</span> "
          "\xC2\xB7 static embeddings beside self-attention</h1>\n<p class=\"lede\">",
          fp);
    if (compare)
        fputs("The same word in two sentences. Its <b>static neighbours</b> come from its word vector alone, so "
              "they are the same in both; its <b>in-context neighbours</b> come from the attention head's output, "
              "which mixes in the other tokens of each sentence.</p>\n",
              fp);
    else
        fputs("Each token has one <b>static</b> vector: its nearest words are the same in every sentence. A "
              "self-attention head gives each token a row of weights over the sentence (who it looks at) and an "
              "output vector, whose nearest words are its neighbours <b>in context</b>.</p>\n",
              fp);
    fputs("</header>\n<main class=\"wrap\">\n", fp);
    if (compare)
        page_shared(fp, &d);
    fprintf(fp, "<div class=\"sentences%s\">\n", compare ? " two" : "");
    for (size_t s = 0; s < d.nv; s++)
        page_sentence(fp, &d, s);
    fputs("</div>\n</main>\n", fp);
    page_footer(fp, &d);
    fputs("<script type=\"application/json\" id=\"embvsattn-data\">", fp);
    put_json(fp, json);
    free(json);
    fputs("</script>\n<script>\n", fp);
    fwrite(render_asset_page_js, 1, render_asset_page_js_size, fp);
    fputs("</script>\n</body>\n</html>\n", fp);
    doc_free(&d);
    return EV_OK;
}

ev_status render_html_view(FILE *fp, const cJSON *view, ev_error *err) { return page_write(fp, view, 0, err); }

ev_status render_html_compare(FILE *fp, const cJSON *doc, ev_error *err) { return page_write(fp, doc, 1, err); }
