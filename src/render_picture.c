/* render_picture — the renderers' shared parts (contracts in render_picture.h): the document read back, escaping,
 * the heatmap. */
#include "render_picture.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "numparse.h"
#include "render_html.h"
#include "utf8.h"
#include "util.h"

#define LABEL_MAX 14     /* code points of a token shown in a heatmap label (then "…"; the title has it all) */
#define CHAR_W 7.2       /* estimated advance of a 12px character, for layout */
#define LEGEND_W 70.0

/* ---- the document ------------------------------------------------------------------------------------------ */

const cJSON *pic_get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

const char *pic_get_str(const cJSON *o, const char *k)
{
    const cJSON *x = pic_get(o, k);
    return cJSON_IsString(x) ? x->valuestring : NULL;
}

static ev_status missing(pic_doc *d, const char *what)
{
    return ev_fail(d->err, EV_ERR_FORMAT, "picture: the JSON document has no valid %s", what);
}

/* The text of a number: a raw item's own text (render_json writes floats raw), else the shortest float text. */
static const char *num_text(pic_doc *d, const cJSON *x)
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

float pic_num_value(const char *s)
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

static ev_status read_hits(pic_doc *d, const cJSON *arr, pic_hit **out, size_t *n)
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
        pic_hit *h = &(*out)[(*n)++];
        h->word = pic_get_str(e, "word");
        h->sim = num_text(d, pic_get(e, "similarity"));
        if (!h->word || !h->sim)
            return missing(d, "neighbour");
    }
    return EV_OK;
}

static ev_status read_view(pic_doc *d, pic_view *v, const cJSON *j)
{
    const cJSON *toks = pic_get(j, "tokens"), *w = pic_get(j, "weights");
    v->sentence = pic_get_str(j, "sentence");
    v->context_note = pic_get_str(j, "context_note");
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
        pic_tok *p = &v->tok[i++];
        p->text = pic_get_str(t, "text");
        p->status = pic_get_str(t, "status");
        if (!p->text || !p->status)
            return missing(d, "token (text, status)");
        p->oov = strcmp(p->status, "oov") == 0;
        p->word = pic_get_str(t, "word");
        p->fallback = pic_get_str(t, "fallback");
        p->ctx_reason = pic_get_str(t, "context_reason");
        const cJSON *ss = pic_get(t, "context_self_similarity");
        p->self_sim = cJSON_IsNull(ss) || !ss ? NULL : num_text(d, ss);
        if (ss && !cJSON_IsNull(ss) && !p->self_sim)
            return missing(d, "context_self_similarity");
        ev_status st;
        if ((st = read_hits(d, pic_get(t, "static_neighbors"), &p->stat, &p->nstat)) != EV_OK ||
            (!(v->context_note && cJSON_IsNull(pic_get(t, "context_neighbors"))) &&
             (st = read_hits(d, pic_get(t, "context_neighbors"), &p->ctx, &p->nctx)) != EV_OK))
            return st;
        const cJSON *att = pic_get(t, "attention");
        if (!cJSON_IsArray(att))
            return missing(d, "attention list");
        size_t m = (size_t)cJSON_GetArraySize(att);
        if (m && !(p->att = calloc(m, sizeof *p->att)))
            return ev_fail(d->err, EV_ERR_NOMEM, "out of memory drawing the picture");
        const cJSON *a;
        cJSON_ArrayForEach(a, att)
        {
            pic_att *q = &p->att[p->natt++];
            q->weight = num_text(d, pic_get(a, "weight"));
            if (!q->weight || get_index(pic_get(a, "index"), n, &q->index) != 0)
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
            v->wv[i * n + k] = pic_num_value(s);
            k++;
        }
        i++;
    }
    return EV_OK;
}

void pic_doc_free(pic_doc *d)
{
    for (size_t s = 0; s < 2; s++) {
        pic_view *v = &d->v[s];
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
ev_status pic_doc_read(pic_doc *d, const cJSON *root, int compare, ev_error *err)
{
    memset(d, 0, sizeof *d);
    d->err = err;
    d->root = root;
    ev_status st = EV_OK;
    if (!cJSON_IsObject(root)) {
        st = missing(d, "document");
        goto fail;
    }
    d->head = pic_get(root, "head");
    d->vectors = pic_get(root, "vectors");
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
    const cJSON *sents = pic_get(root, "sentences"), *sh = pic_get(root, "shared");
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
        pic_shared *q = &d->sh[d->nsh++];
        const cJSON *ti = pic_get(e, "token_index"), *cn = pic_get(e, "context_neighbors");
        const cJSON *cc = pic_get(e, "context_cosine"), *why = pic_get(e, "context_reason");
        q->word = pic_get_str(e, "word");
        const cJSON *row = pic_get(e, "row");
        q->row = cJSON_IsNumber(row) && row->valuedouble >= 0 ? (long)row->valuedouble : -1;
        q->static_cos = num_text(d, pic_get(e, "static_cosine"));
        q->context_cos = cJSON_IsNull(cc) ? NULL : num_text(d, cc);
        for (int s = 0; s < 2 && cJSON_IsArray(why); s++) {
            const cJSON *r = cJSON_GetArrayItem(why, s);
            q->ctx_reason[s] = cJSON_IsString(r) ? r->valuestring : NULL;
        }
        if (!q->word || !q->static_cos || (!q->context_cos && !cJSON_IsNull(cc)) || !cJSON_IsArray(ti) ||
            cJSON_GetArraySize(ti) != 2 ||
            (!(d->v[0].context_note && cJSON_IsNull(cn)) && (!cJSON_IsArray(cn) || cJSON_GetArraySize(cn) != 2))) {
            st = missing(d, "shared word");
            goto fail;
        }
        for (int s = 0; s < 2; s++) {
            if (get_index(cJSON_GetArrayItem(ti, s), d->v[s].n, &q->index[s]) != 0) {
                st = missing(d, "shared token_index");
                goto fail;
            }
            if (cJSON_IsArray(cn) && (st = read_hits(d, cJSON_GetArrayItem(cn, s), &q->ctx[s], &q->nctx[s])) != EV_OK)
                goto fail;
            if (d->v[s].shared[q->index[s]] < 0)
                d->v[s].shared[q->index[s]] = (int)(d->nsh - 1);
        }
        if ((st = read_hits(d, pic_get(e, "static_neighbors"), &q->stat, &q->nstat)) != EV_OK)
            goto fail;
    }
    return EV_OK;
fail:
    pic_doc_free(d);
    return st;
}

size_t pic_shared_pick(const pic_doc *d)
{
    size_t best = 0;
    for (size_t q = 1; q < d->nsh; q++)
        if (d->sh[q].row > d->sh[best].row)
            best = q;
    return best;
}

/* ---- escaping ---------------------------------------------------------------------------------------------- */

/* Code points in s (an invalid byte counts as one). */
size_t pic_cp_count(const char *s)
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
void pic_esc_max(FILE *fp, const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), i = 0, shown = 0, limit = 0;
    int cut = 0;
    if (max) {
        size_t total = pic_cp_count(s);
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

void pic_esc(FILE *fp, const char *s) { pic_esc_max(fp, s, 0); }

/* ---- formatting of numbers (display only: the exact texts are in attributes and titles) ------------------- */

void pic_put_pct(FILE *fp, float w) { fprintf(fp, "%.0f%%", (double)w * 100.0); }

void pic_put_sim4(FILE *fp, const char *s) { fprintf(fp, "%.4f", (double)pic_num_value(s)); }

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

/* A signed logit term's colour (m->range > 0): the blue scale for positive values, white to red for negative. */
static void signed_rgb(float v, double range, char out[8])
{
    double x = range > 0 ? (double)v / range : 0;
    if (x >= 0) {
        heat_rgb((float)x, out);
        return;
    }
    x = x < -1 ? 1 : -x;
    static const unsigned char lo[3] = {0xf7, 0xfb, 0xff}, hi[3] = {0xb4, 0x23, 0x18};
    int c[3];
    for (int i = 0; i < 3; i++)
        c[i] = (int)lround(lo[i] + (hi[i] - lo[i]) * x);
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

pic_hm_geom pic_hm_measure(const pic_view *v)
{
    pic_hm_geom g;
    size_t n = v->n, chars = 1;
    g.cell = n <= 8 ? 40 : n <= 12 ? 34 : n <= 20 ? 28 : n <= 32 ? 22 : n <= 64 ? 14 : 9;
    g.values = g.cell >= 22;
    for (size_t i = 0; i < n; i++) {
        size_t c = pic_cp_count(v->tok[i].text);
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

void pic_tok_title(FILE *fp, const pic_tok *t)
{
    pic_esc(fp, t->text);
    if (t->oov)
        fputs(" (out of vocabulary: no vector, never attended to)", fp);
    else if (t->fallback) {
        fputs(" (fallback: ", fp);
        pic_esc(fp, t->fallback);
        fputc(')', fp);
    } else if (strcmp(t->status, "lowercase") == 0 && t->word) {
        fputs(" (looked up as ", fp);
        pic_esc(fp, t->word);
        fputc(')', fp);
    }
    if (t->ctx_reason) {
        fputs("; ", fp);
        pic_esc(fp, t->ctx_reason);
    }
}

/* A row (col = 0) or column label: "INDEX TEXT", cut to LABEL_MAX code points, the whole token in its title. */
static void hm_label(FILE *fp, const pic_view *v, size_t i, double x, double y, int col, const pic_hm_mode *m)
{
    const pic_tok *t = &v->tok[i];
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
    pic_tok_title(fp, t);
    fprintf(fp, "</title><tspan class=\"idx\"%s>%zu</tspan> ", m->page ? "" : " fill=\"#8c959f\"", i);
    pic_esc_max(fp, t->text, LABEL_MAX);
    fputs("</text>\n", fp);
}

void pic_hm_defs(FILE *fp, const pic_hm_mode *m)
{
    fprintf(fp, "<defs><pattern id=\"%s-hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
                "patternTransform=\"rotate(45)\"><rect class=\"hatch-bg\" width=\"6\" height=\"6\"%s/>"
                "<line class=\"hatch\" x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke-width=\"2\"%s/></pattern>\n",
            m->id, m->page ? "" : " fill=\"#ffffff\"", m->page ? "" : " stroke=\"#d0d7de\"");
    fprintf(fp, "<linearGradient id=\"%s-scale\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">", m->id);
    if (m->page)
        fputs("<stop offset=\"0\" class=\"s0\"/><stop offset=\"1\" class=\"s1\"/>", fp);
    else if (m->range > 0)
        for (int k = 0; k <= 4; k++) {
            char rgb[8];
            signed_rgb((float)(m->range * (k - 2) / 2.0), m->range, rgb);
            fprintf(fp, "<stop offset=\"%.2f\" stop-color=\"%s\"/>", k / 4.0, rgb);
        }
    else
        for (int k = 0; k <= 4; k++) {
            char rgb[8];
            heat_rgb((float)k / 4.0f, rgb);
            fprintf(fp, "<stop offset=\"%.2f\" stop-color=\"%s\"/>", k / 4.0, rgb);
        }
    fputs("</linearGradient></defs>\n", fp);
}

/* The n×n cells with row and column labels; (x0, y0) is the top left of the heatmap's box (labels included). */
void pic_hm_draw(FILE *fp, const pic_view *v, const pic_hm_geom *g, double x0, double y0, const pic_hm_mode *m)
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
                if (m->range > 0)
                    signed_rgb(wv, m->range, rgb);
                else
                    heat_rgb(wv, rgb);
                fprintf(fp, " fill=\"%s\"", rgb);
            }
            fputs("><title>", fp);
            pic_esc(fp, v->tok[i].text);
            fputs(" \xE2\x86\x92 ", fp);
            pic_esc(fp, v->tok[j].text);
            if (m->range > 0) /* a logit term */
                fprintf(fp, ": %s", w);
            else {
                fprintf(fp, ": %s (", w);
                pic_put_pct(fp, wv);
                fputc(')', fp);
            }
            fprintf(fp, "%s</title></rect>\n", v->tok[j].oov ? ", out of vocabulary: never attended to" : "");
            if (m->range > 0 && g->values && !v->tok[j].oov && fabsf(wv) >= 0.05f) {
                int hi = fabs((double)wv) >= 0.6 * m->range;
                fprintf(fp, "<text class=\"v%s\" x=\"%.1f\" y=\"%.1f\" dy=\"0.35em\" text-anchor=\"middle\" "
                            "font-size=\"%d\" fill=\"%s\" pointer-events=\"none\">%.1f</text>\n",
                        hi ? " hi" : "", x + c / 2, y + c / 2, c >= 34 ? 11 : 9, hi ? "#ffffff" : "#1f2328", (double)wv);
            } else if (m->range <= 0 && g->values && !v->tok[j].oov && wv >= 0.005f) {
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
            pic_esc(fp, v->tok[i].ctx_reason);
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
void pic_legend_draw(FILE *fp, double x, double y, double h, const pic_hm_mode *m)
{
    static const char *ticks[] = {"0", "0.25", "0.5", "0.75", "1"};
    fprintf(fp, "<g class=\"legend\" font-size=\"11\"%s>\n", m->page ? "" : " fill=\"#1f2328\"");
    fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" font-weight=\"bold\">%s</text>\n", x, y - 8,
            m->range > 0 ? "logit" : "weight");
    fprintf(fp,
            "<rect class=\"scale\" x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"%.1f\" fill=\"url(#%s-scale)\"%s/>\n",
            x, y, h, m->id, m->page ? "" : " stroke=\"#8c959f\" stroke-width=\"0.5\"");
    for (int k = 0; k <= 4; k++) {
        double ty = y + h - h * k / 4.0;
        fprintf(fp, "<line class=\"tick\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"%s/>", x + 14, ty, x + 18,
                ty, m->page ? "" : " stroke=\"#57606a\"");
        if (m->range > 0)
            fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" dy=\"0.35em\">%.2g</text>\n", x + 21, ty,
                    m->range * (k - 2) / 2.0);
        else
            fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" dy=\"0.35em\">%s</text>\n", x + 21, ty, ticks[k]);
    }
    fputs("</g>\n", fp);
}

/* One head object's line. */
static void head_line(FILE *fp, const cJSON *head)
{
    const char *desc = pic_get_str(head, "description"), *pos = pic_get_str(head, "positions");
    const cJSON *ps = pic_get(head, "position_scale");
    pic_esc(fp, desc && *desc ? desc : "?");
    fputs("; positions ", fp);
    pic_esc(fp, pos ? pos : "none");
    if (pos && strcmp(pos, "none") != 0 && ps) {
        fputs(" (scale ", fp);
        if (cJSON_IsRaw(ps) && ps->valuestring)
            pic_esc(fp, ps->valuestring);
        else if (cJSON_IsNumber(ps))
            fprintf(fp, "%g", ps->valuedouble);
        fputc(')', fp);
    }
    fprintf(fp, "; %s; residual %s", cJSON_IsTrue(pic_get(head, "causal")) ? "causal" : "bidirectional",
            cJSON_IsTrue(pic_get(head, "residual")) ? "on" : "off");
}

const cJSON *pic_heads(const pic_doc *d)
{
    const cJSON *hs = pic_get(d->root, "heads");
    return cJSON_IsArray(hs) && cJSON_GetArraySize(hs) == 2 && cJSON_IsObject(cJSON_GetArrayItem(hs, 0)) &&
                   cJSON_IsObject(cJSON_GetArrayItem(hs, 1))
               ? hs
               : NULL;
}

/* One line describing the head, as the text view's header does (both, numbered, under --heads). */
void pic_head_line(FILE *fp, const pic_doc *d)
{
    const cJSON *hs = pic_heads(d);
    if (!hs) {
        head_line(fp, d->head);
        return;
    }
    for (int i = 0; i < 2; i++) {
        fprintf(fp, "%s%d: ", i ? "; " : "", i + 1);
        head_line(fp, cJSON_GetArrayItem(hs, i));
    }
}

void pic_vectors_line(FILE *fp, const pic_doc *d, int full_path)
{
    const char *path = pic_get_str(d->vectors, "path");
    const cJSON *words = pic_get(d->vectors, "words"), *dim = pic_get(d->vectors, "dim");
    pic_esc(fp, path ? (full_path ? path : util_base_name(path)) : "?");
    fprintf(fp, " (%.0f words, %.0f dimensions)", cJSON_IsNumber(words) ? words->valuedouble : 0.0,
            cJSON_IsNumber(dim) ? dim->valuedouble : 0.0);
}


/* ---- the meaning/position split (the document's "why", explain.h) ------------------------------------------ */

ev_status pic_view_use_matrix(pic_doc *d, pic_view *v, const cJSON *m, const char *what, double *maxabs)
{
    size_t n = v->n, i = 0;
    *maxabs = 0;
    if (!cJSON_IsArray(m) || (size_t)cJSON_GetArraySize(m) != n)
        return missing(d, what);
    const cJSON *row;
    cJSON_ArrayForEach(row, m)
    {
        if (!cJSON_IsArray(row) || (size_t)cJSON_GetArraySize(row) != n)
            return missing(d, what);
        size_t k = 0;
        const cJSON *x;
        cJSON_ArrayForEach(x, row)
        {
            const char *t = cJSON_IsNull(x) ? "0" : num_text(d, x);
            if (!t)
                return missing(d, what);
            v->w[i * n + k] = t;
            v->wv[i * n + k] = pic_num_value(t);
            double a = fabs((double)v->wv[i * n + k]);
            *maxabs = a > *maxabs ? a : *maxabs;
            k++;
        }
        i++;
    }
    return EV_OK;
}
