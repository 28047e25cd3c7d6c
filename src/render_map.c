/* render_map — the movement map as SVG, standalone and inside the HTML page (contracts in render_map.h). */
#include "render_map.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "movement_map.h"
#include "render_html.h"
#include "render_picture.h"
#include "version.h"

#define MAP_W 760.0     /* the plot's box, px */
#define MAP_H 500.0
#define MAP_MARGIN 56.0 /* room for labels around the points */
#define DOT 4.0         /* a token's static point: radius */
#define TOK_FONT 12.0
#define NB_FONT 10.0

static const char *side_colour[2] = {"#2457d6", "#c2410c"}; /* the page's accent and shared colours */

typedef struct {
    int kind;            /* map_kind */
    const char *word;    /* static, neighbour; NULL for a context point */
    const char *lists;   /* neighbour: static, context, both */
    size_t side, token;
    double x, y;         /* JSON coordinates */
    const cJSON *jx, *jy;
    double px, py;       /* pixels */
} mm_pt;

typedef struct {
    size_t side, index;
    const char *text, *reason;
    long pst, pctx;
    const cJSON *nbs, *nbc;
} mm_tok;

typedef struct {
    mm_pt *pt;
    size_t npt;
    mm_tok *tok;
    size_t ntok;
    double explained[2];
    const char *sentence[2];
    size_t nside;
    int heads;           /* one sentence under two heads */
} mm_doc;

static double num(const cJSON *x)
{
    if (cJSON_IsRaw(x) && x->valuestring)
        return strtod(x->valuestring, NULL);
    return cJSON_IsNumber(x) ? x->valuedouble : NAN;
}

/* A number as the JSON writes it (raw text verbatim). */
static void put_num(FILE *fp, const cJSON *x)
{
    if (cJSON_IsRaw(x) && x->valuestring)
        pic_esc(fp, x->valuestring);
    else
        fprintf(fp, "%.9g", num(x));
}

static long index_or_none(const cJSON *x, size_t n)
{
    if (!cJSON_IsNumber(x) || x->valuedouble < 0 || x->valuedouble >= (double)n)
        return -1;
    return (long)x->valuedouble;
}

static void mm_free(mm_doc *m)
{
    free(m->pt);
    free(m->tok);
}

static ev_status mm_read(mm_doc *m, const cJSON *doc, int compare, ev_error *err)
{
    memset(m, 0, sizeof *m);
    const cJSON *map = pic_get(doc, "map"), *pts = pic_get(map, "points"), *toks = pic_get(map, "tokens"),
                *ev = pic_get(map, "explained_variance");
    if (!cJSON_IsArray(pts) || !cJSON_IsArray(toks) || cJSON_GetArraySize(ev) != 2)
        return ev_fail(err, EV_ERR_FORMAT, "picture: the JSON document has no valid map");
    m->heads = pic_get(doc, "heads") != NULL;
    if (compare) {
        const cJSON *s = pic_get(doc, "sentences");
        m->nside = 2;
        for (int i = 0; i < 2; i++)
            m->sentence[i] = pic_get_str(cJSON_GetArrayItem(s, i), "sentence");
    } else {
        m->nside = 1;
        m->sentence[0] = pic_get_str(doc, "sentence");
    }
    for (int c = 0; c < 2; c++)
        m->explained[c] = num(cJSON_GetArrayItem(ev, c));
    m->npt = (size_t)cJSON_GetArraySize(pts);
    m->ntok = (size_t)cJSON_GetArraySize(toks);
    m->pt = calloc(m->npt ? m->npt : 1, sizeof *m->pt);
    m->tok = calloc(m->ntok ? m->ntok : 1, sizeof *m->tok);
    if (!m->pt || !m->tok) {
        mm_free(m);
        return ev_fail(err, EV_ERR_NOMEM, "out of memory drawing the map");
    }
    static const char *kinds[] = {"static", "context", "neighbor"};
    size_t p = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, pts)
    {
        mm_pt *q = &m->pt[p++];
        const char *k = pic_get_str(e, "kind");
        q->kind = -1;
        for (int c = 0; k && c < 3; c++)
            if (!strcmp(k, kinds[c]))
                q->kind = c;
        q->word = pic_get_str(e, "word");
        q->lists = pic_get_str(e, "lists");
        q->jx = pic_get(e, "x"), q->jy = pic_get(e, "y");
        q->x = num(q->jx), q->y = num(q->jy);
        long sd = index_or_none(pic_get(e, "sentence"), m->nside);
        q->side = sd < 0 ? 0 : (size_t)sd;
        q->token = cJSON_IsNumber(pic_get(e, "token")) ? (size_t)pic_get(e, "token")->valuedouble : 0;
        if (q->kind < 0 || !isfinite(q->x) || !isfinite(q->y) || (q->kind != MAP_CONTEXT && !q->word) ||
            (q->kind != MAP_NEIGHBOR && sd < 0)) {
            mm_free(m);
            return ev_fail(err, EV_ERR_FORMAT, "picture: the JSON document's map has an invalid point %zu", p - 1);
        }
    }
    size_t u = 0;
    cJSON_ArrayForEach(e, toks)
    {
        mm_tok *t = &m->tok[u++];
        long sd = index_or_none(pic_get(e, "sentence"), m->nside);
        t->text = pic_get_str(e, "text");
        t->reason = pic_get_str(e, "reason");
        t->pst = index_or_none(pic_get(e, "static"), m->npt);
        t->pctx = index_or_none(pic_get(e, "context"), m->npt);
        t->nbs = pic_get(e, "static_neighbors");
        t->nbc = pic_get(e, "context_neighbors");
        if (sd < 0 || !t->text || !cJSON_IsNumber(pic_get(e, "index"))) {
            mm_free(m);
            return ev_fail(err, EV_ERR_FORMAT, "picture: the JSON document's map has an invalid token %zu", u - 1);
        }
        t->side = (size_t)sd;
        t->index = (size_t)pic_get(e, "index")->valuedouble;
    }
    return EV_OK;
}

/* Pixels of every point: the points' box scaled alike on both axes (a PCA's distances are the same in x and y) and
 * centred in the plot. *ox, *oy: the pixel of (0, 0); *scale: pixels per unit. */
static void mm_scale(mm_doc *m, double *ox, double *oy, double *scale)
{
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (size_t p = 0; p < m->npt; p++) {
        x0 = fmin(x0, m->pt[p].x), x1 = fmax(x1, m->pt[p].x);
        y0 = fmin(y0, m->pt[p].y), y1 = fmax(y1, m->pt[p].y);
    }
    if (!m->npt)
        x0 = x1 = y0 = y1 = 0;
    double sx = (x1 - x0) > 0 ? (MAP_W - 2 * MAP_MARGIN) / (x1 - x0) : INFINITY;
    double sy = (y1 - y0) > 0 ? (MAP_H - 2 * MAP_MARGIN) / (y1 - y0) : INFINITY;
    *scale = fmin(sx, sy);
    if (!isfinite(*scale))
        *scale = 100;
    *ox = MAP_W / 2 - *scale * (x0 + x1) / 2;
    *oy = MAP_H / 2 + *scale * (y0 + y1) / 2;
    for (size_t p = 0; p < m->npt; p++) {
        m->pt[p].px = *ox + *scale * m->pt[p].x;
        m->pt[p].py = *oy - *scale * m->pt[p].y;
    }
}

/* The label of point p ("" for a context point). */
static const char *pt_label(const mm_doc *m, size_t p)
{
    return m->pt[p].word ? m->pt[p].word : "";
}

/* The point's description for its <title>. */
static void pt_title(FILE *fp, const mm_doc *m, size_t p)
{
    const mm_pt *q = &m->pt[p];
    if (q->kind == MAP_NEIGHBOR) {
        pic_esc(fp, q->word);
        fprintf(fp, ": a nearest word of %s", !strcmp(q->lists ? q->lists : "", "both") ? "a static and an in-context "
                                              : !strcmp(q->lists ? q->lists : "", "static") ? "a static "
                                                                                            : "an in-context ");
        fputs("vector", fp);
        return;
    }
    if (q->kind == MAP_STATIC) {
        fputs("\xE2\x80\x9C", fp);
        pic_esc(fp, q->word);
        fputs("\xE2\x80\x9D: its static vector (the same in every sentence)", fp);
    } else {
        for (size_t u = 0; u < m->ntok; u++)
            if (m->tok[u].pctx == (long)p) {
                fputs("\xE2\x80\x9C", fp);
                pic_esc(fp, m->tok[u].text);
                fprintf(fp, "\xE2\x80\x9D (token %zu", m->tok[u].index);
                if (m->nside > 1)
                    fprintf(fp, " in %s %zu", m->heads ? "head" : "sentence", m->tok[u].side + 1);
                fputs("): its vector in context", fp);
            }
    }
    for (size_t u = 0; u < m->ntok; u++)
        if (m->tok[u].pst == (long)p && m->tok[u].reason) {
            fprintf(fp, "; no arrow for token %zu", m->tok[u].index);
            if (m->nside > 1)
                fprintf(fp, " in %zu", m->tok[u].side + 1);
            fputs(": ", fp);
            pic_esc(fp, m->tok[u].reason);
        }
}

/* The tokens of point p as "S:I S:I" (static: every token of the word; context: its token). */
static void pt_tokens(FILE *fp, const mm_doc *m, size_t p)
{
    int first = 1;
    for (size_t u = 0; u < m->ntok; u++)
        if (m->tok[u].pst == (long)p || m->tok[u].pctx == (long)p) {
            fprintf(fp, "%s%zu:%zu", first ? "" : " ", m->tok[u].side, m->tok[u].index);
            first = 0;
        }
}

/* The plot: neighbours, arrows, points, labels; (x0, y0) its top left. */
static ev_status mm_plot(FILE *fp, mm_doc *m, double x0, double y0, ev_error *err)
{
    double ox, oy, scale;
    mm_scale(m, &ox, &oy, &scale);
    map_label *lab = calloc(m->npt ? m->npt : 1, sizeof *lab);
    double *pos = calloc(2 * (m->npt ? m->npt : 1), sizeof *pos);
    unsigned char *placed = calloc(m->npt ? m->npt : 1, 1);
    size_t *order = calloc(m->npt ? m->npt : 1, sizeof *order);
    if (!lab || !pos || !placed || !order) {
        free(lab), free(pos), free(placed), free(order);
        return ev_fail(err, EV_ERR_NOMEM, "out of memory drawing the map");
    }
    /* labels: the tokens' words first (always placed), then the neighbours (dropped when no spot is free); the
     * context points are obstacles without a label */
    size_t n = 0;
    for (int pass = 0; pass < 3; pass++)
        for (size_t p = 0; p < m->npt; p++) {
            int k = m->pt[p].kind;
            if ((pass == 0 && k != MAP_STATIC) || (pass == 1 && k != MAP_NEIGHBOR) || (pass == 2 && k != MAP_CONTEXT))
                continue;
            double font = k == MAP_STATIC ? TOK_FONT : NB_FONT;
            double cw = k == MAP_STATIC ? 0.66 * font : 0.6 * font;
            size_t chars = pic_cp_count(pt_label(m, p));
            lab[n] = (map_label){m->pt[p].px, m->pt[p].py, k == MAP_CONTEXT ? 0 : cw * (double)chars + 2,
                                 k == MAP_CONTEXT ? 0 : font + 3, k == MAP_STATIC};
            order[n++] = p;
        }
    map_place_labels(lab, n, MAP_W, MAP_H, DOT + 1, pos, placed);

    fprintf(fp, "<g class=\"mm-plot\" transform=\"translate(%.1f %.1f)\" data-ox=\"%.4f\" data-oy=\"%.4f\" "
                "data-scale=\"%.6f\">\n",
            x0, y0, ox, oy, scale);
    /* the frame and the axes through the points' mean (the origin of the PCA coordinates) */
    fprintf(fp, "<rect class=\"mm-frame\" x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" "
                "stroke=\"#d8dee4\"/>\n",
            MAP_W, MAP_H);
    fprintf(fp, "<g class=\"mm-axes\" stroke=\"#d8dee4\" stroke-dasharray=\"3 4\"><line x1=\"0\" y1=\"%.2f\" x2=\"%.0f\" "
                "y2=\"%.2f\"/><line x1=\"%.2f\" y1=\"0\" x2=\"%.2f\" y2=\"%.0f\"/></g>\n",
            oy, MAP_W, oy, ox, ox, MAP_H);
    fprintf(fp, "<g class=\"mm-axis-lab\" font-size=\"11\" fill=\"#59636e\"><text x=\"%.0f\" y=\"%.0f\" "
                "text-anchor=\"end\">axis 1: %.1f %% of the variance</text>"
                "<text x=\"8\" y=\"16\">axis 2: %.1f %% of the variance</text></g>\n",
            MAP_W - 8, MAP_H - 8, 100 * m->explained[0], 100 * m->explained[1]);
    /* arrowheads, one per colour */
    fputs("<defs>", fp);
    for (size_t s = 0; s < m->nside; s++)
        fprintf(fp, "<marker id=\"mm-head%zu\" viewBox=\"0 0 10 10\" refX=\"13\" refY=\"5\" markerWidth=\"7\" "
                    "markerHeight=\"7\" orient=\"auto-start-reverse\"><path class=\"mm-c%zu\" d=\"M0 0L10 5L0 10z\" "
                    "fill=\"%s\"/></marker>",
                s, s, side_colour[s]);
    fputs("</defs>\n", fp);
    /* neighbours, faint, behind everything */
    fputs("<g class=\"mm-nbs\">\n", fp);
    for (size_t p = 0; p < m->npt; p++) {
        const mm_pt *q = &m->pt[p];
        if (q->kind != MAP_NEIGHBOR)
            continue;
        fprintf(fp, "<g class=\"mm-pt mm-nb mm-nb-%s\" data-pt=\"%zu\" data-x=\"", q->lists ? q->lists : "static", p);
        put_num(fp, q->jx);
        fputs("\" data-y=\"", fp);
        put_num(fp, q->jy);
        fprintf(fp, "\"><title>");
        pt_title(fp, m, p);
        fprintf(fp, "</title><circle cx=\"%.2f\" cy=\"%.2f\" r=\"2.5\" fill=\"#8c959f\"/></g>\n", q->px, q->py);
    }
    fputs("</g>\n", fp);
    /* arrows */
    fputs("<g class=\"mm-arrows\">\n", fp);
    for (size_t u = 0; u < m->ntok; u++) {
        const mm_tok *t = &m->tok[u];
        if (t->pst < 0 || t->pctx < 0)
            continue;
        const mm_pt *a = &m->pt[t->pst], *b = &m->pt[t->pctx];
        fprintf(fp, "<line class=\"mm-arrow mm-c%zu\" data-s=\"%zu\" data-i=\"%zu\" data-from=\"%ld\" data-to=\"%ld\" "
                    "x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" stroke-width=\"1.8\" "
                    "marker-end=\"url(#mm-head%zu)\"/>\n",
                t->side, t->side, t->index, t->pst, t->pctx, a->px, a->py, b->px, b->py, side_colour[t->side],
                t->side);
    }
    fputs("</g>\n", fp);
    /* the tokens' points: contextual (coloured) and static (dark), focusable */
    fputs("<g class=\"mm-toks\">\n", fp);
    for (int pass = 0; pass < 2; pass++)
        for (size_t p = 0; p < m->npt; p++) {
            const mm_pt *q = &m->pt[p];
            if (q->kind != (pass ? MAP_STATIC : MAP_CONTEXT))
                continue;
            if (pass)
                fprintf(fp, "<g class=\"mm-pt mm-st\" tabindex=\"0\" data-pt=\"%zu\" data-tokens=\"", p);
            else
                fprintf(fp, "<g class=\"mm-pt mm-cx mm-c%zu\" tabindex=\"0\" data-pt=\"%zu\" data-tokens=\"", q->side,
                        p);
            pt_tokens(fp, m, p);
            fputs("\" data-x=\"", fp);
            put_num(fp, q->jx);
            fputs("\" data-y=\"", fp);
            put_num(fp, q->jy);
            fputs("\" aria-label=\"", fp);
            pt_title(fp, m, p);
            fputs("\"><title>", fp);
            pt_title(fp, m, p);
            if (pass)
                fprintf(fp, "</title><circle cx=\"%.2f\" cy=\"%.2f\" r=\"%.1f\" fill=\"#1f2328\" stroke=\"#ffffff\" "
                            "stroke-width=\"1.5\"/></g>\n",
                        q->px, q->py, DOT);
            else
                fprintf(fp, "</title><circle cx=\"%.2f\" cy=\"%.2f\" r=\"3.5\" fill=\"%s\"/></g>\n", q->px, q->py,
                        side_colour[q->side]);
        }
    fputs("</g>\n", fp);
    /* labels */
    fputs("<g class=\"mm-labels\">\n", fp);
    for (size_t j = 0; j < n; j++) {
        size_t p = order[j];
        const mm_pt *q = &m->pt[p];
        if (q->kind == MAP_CONTEXT || !placed[j])
            continue;
        int tok = q->kind == MAP_STATIC;
        double font = tok ? TOK_FONT : NB_FONT;
        fprintf(fp, "<text class=\"mm-lab %s\" data-pt=\"%zu\" x=\"%.1f\" y=\"%.1f\" style=\"font-size:%.0fpx%s\" "
                    "fill=\"%s\">",
                tok ? "mm-lab-tok" : "mm-lab-nb", p, pos[j * 2] + 1, pos[j * 2 + 1] + font - 1, font,
                tok ? ";font-weight:700" : "", tok ? "#1f2328" : "#6e7781");
        pic_esc(fp, pt_label(m, p));
        fputs("</text>\n", fp);
    }
    fputs("</g>\n</g>\n", fp);
    free(lab), free(pos), free(placed), free(order);
    return EV_OK;
}

/* The legend line under the plot (x, y: its baseline's start). */
static void mm_legend(FILE *fp, const mm_doc *m, double x, double y)
{
    fprintf(fp, "<g class=\"mm-legend\" font-size=\"11\" fill=\"#59636e\" transform=\"translate(%.1f %.1f)\">", x, y);
    fprintf(fp, "<circle cx=\"5\" cy=\"-4\" r=\"4\" fill=\"#1f2328\"/><text x=\"14\" y=\"0\">static vector (the same in "
                "every sentence)</text>");
    double cx = 262;
    for (size_t s = 0; s < m->nside; s++) {
        fprintf(fp, "<line class=\"mm-c%zu\" x1=\"%.0f\" y1=\"-4\" x2=\"%.0f\" y2=\"-4\" stroke=\"%s\" "
                    "stroke-width=\"1.8\" marker-end=\"url(#mm-head%zu)\"/>",
                s, cx, cx + 26, side_colour[s], s);
        fprintf(fp, "<circle class=\"mm-c%zu\" cx=\"%.0f\" cy=\"-4\" r=\"3.5\" fill=\"%s\"/>", s, cx + 26,
                side_colour[s]);
        if (m->nside > 1)
            fprintf(fp, "<text x=\"%.0f\" y=\"0\">in context, %s %zu</text>", cx + 36, m->heads ? "head" : "sentence",
                    s + 1);
        else
            fprintf(fp, "<text x=\"%.0f\" y=\"0\">its vector in context</text>", cx + 36);
        cx += m->nside > 1 ? 160 : 150;
    }
    fprintf(fp, "<circle cx=\"%.0f\" cy=\"-4\" r=\"2.5\" fill=\"#8c959f\"/><text x=\"%.0f\" y=\"0\">nearest words "
                "(faint)</text></g>\n",
            cx + 4, cx + 12);
}

/* Lines under the picture for the tokens drawn without an arrow; returns how many (fp NULL: only counts). */
static size_t mm_reasons(FILE *fp, const mm_doc *m, double x, double y)
{
    size_t lines = 0;
    for (size_t u = 0; u < m->ntok; u++) {
        const mm_tok *t = &m->tok[u];
        if (!t->reason)
            continue;
        if (fp) {
            fprintf(fp, "<text class=\"mm-why\" x=\"%.1f\" y=\"%.1f\">", x, y + 14.0 * (double)lines);
            fputs("\xE2\x80\x9C", fp);
            pic_esc_max(fp, t->text, 40);
            fprintf(fp, "\xE2\x80\x9D (token %zu", t->index);
            if (m->nside > 1)
                fprintf(fp, " in %zu", t->side + 1);
            fprintf(fp, "): %s, ", t->pst >= 0 ? "no arrow" : "not on the map");
            pic_esc(fp, t->reason);
            fputs("</text>\n", fp);
        }
        lines++;
    }
    return lines;
}

/* The sentences' line(s) above the plot. */
static void mm_sentences(FILE *fp, const mm_doc *m, double x, double y)
{
    for (size_t s = 0; s < m->nside; s++) {
        fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"13\" fill=\"%s\"%s>", x, y + 18.0 * (double)s,
                m->nside > 1 ? side_colour[s] : "#1f2328", m->nside > 1 ? " class=\"mm-c" : "");
        if (m->nside > 1)
            fprintf(fp, "%zu\">%zu: ", s, s + 1);
        fputs("\xE2\x80\x9C", fp);
        pic_esc_max(fp, m->sentence[s] ? m->sentence[s] : "", 100);
        fputs("\xE2\x80\x9D</text>\n", fp);
    }
}

/* The whole <svg>: title, sentences, plot, legend, reasons, caption. */
static ev_status mm_svg(FILE *fp, mm_doc *m, int page, ev_error *err)
{
    double top = PAD + 18.0 * (double)m->nside + 6, width = MAP_W + 2 * PAD;
    size_t nwhy = mm_reasons(NULL, m, 0, 0);
    double legend_y = top + MAP_H + 22, why_y = legend_y + 20, cap_y = why_y + 14.0 * (double)nwhy;
    double height = cap_y + (page ? 0 : 28) + PAD;
    if (page)
        fprintf(fp, "<svg class=\"mm\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                    "viewBox=\"0 0 %.0f %.0f\" role=\"group\" aria-labelledby=\"mm-t\" "
                    "font-family=\"system-ui, 'DejaVu Sans', Arial, sans-serif\">\n",
                width, ceil(height), width, ceil(height));
    else {
        fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", fp);
        fprintf(fp, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%.0f\" height=\"%.0f\" "
                    "viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-labelledby=\"mm-t mm-d\" "
                    "font-family=\"'DejaVu Sans', 'Helvetica Neue', Helvetica, Arial, sans-serif\">\n",
                width, ceil(height), width, ceil(height));
    }
    fputs("<title id=\"mm-t\">Movement map: ", fp);
    for (size_t s = 0; s < m->nside; s++) {
        fputs(s ? " | " : "", fp);
        pic_esc(fp, m->sentence[s] ? m->sentence[s] : "");
    }
    fprintf(fp, "</title>\n<desc id=\"mm-d\">Each token's static vector is a dark point and an arrow leads to its "
                "vector in context; the nearest words of both are faint dots. PCA of the %zu points (unit vectors): "
                "axis 1 explains %.1f %% of their variance, axis 2 %.1f %%.</desc>\n",
            m->npt, 100 * m->explained[0], 100 * m->explained[1]);
    if (!page)
        fputs("<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n", fp);
    mm_sentences(fp, m, PAD, PAD + 12);
    ev_status st = mm_plot(fp, m, PAD, top, err);
    if (st != EV_OK)
        return st;
    mm_legend(fp, m, PAD, legend_y);
    fputs("<g class=\"mm-whys\" font-size=\"11\" fill=\"#59636e\">\n", fp);
    mm_reasons(fp, m, PAD, why_y);
    fputs("</g>\n", fp);
    if (!page)
        fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" fill=\"#59636e\">PCA of the points shown (each "
                    "vector scaled to unit length: the neighbour lists rank by cosine). Made by embvsattn %s.</text>\n",
                PAD, cap_y + 14, EMBVSATTN_VERSION);
    fputs("</svg>\n", fp);
    return EV_OK;
}

/* Writes to a memory buffer first, so that nothing reaches fp on failure. */
static ev_status write_map(FILE *fp, const cJSON *doc, int compare, int page, ev_error *err)
{
    mm_doc m;
    ev_status st = mm_read(&m, doc, compare, err);
    if (st != EV_OK)
        return st;
    if (page) {
        fputs("<section class=\"card map-sec\" id=\"mm\" aria-labelledby=\"mm-h\">\n<h2 id=\"mm-h\">Where attention "
              "moved each word: the movement map</h2>\n<p class=\"muted\">Each dark point is a token's static vector, "
              "the same in every sentence; its arrow leads to the token's vector in context. The faint words are the "
              "nearest words of both lists. The two axes are the points' first two principal components (PCA of "
              "the vectors scaled to unit length, since the lists rank by cosine); together they show ",
              fp);
        fprintf(fp, "%.1f %% of the points' variance, so distances are only roughly the cosines. Hover or focus a "
                    "point (Tab) to show its token above.</p>\n<figure class=\"mm-fig\">\n",
                100 * (m.explained[0] + m.explained[1]));
    }
    st = mm_svg(fp, &m, page, err);
    if (page && st == EV_OK)
        fputs("</figure>\n</section>\n", fp);
    mm_free(&m);
    return st;
}

ev_status render_svg_map(FILE *fp, const cJSON *doc, int compare, ev_error *err)
{
    return write_map(fp, doc, compare, 0, err);
}

ev_status render_map_section(FILE *fp, const cJSON *doc, int compare, ev_error *err)
{
    if (!pic_get(doc, "map"))
        return EV_OK;
    return write_map(fp, doc, compare, 1, err);
}
