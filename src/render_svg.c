/* render_svg — the standalone SVG heatmap of the main view and of compare (contracts in render_html.h): the
 * heatmaps and their colour scales side by side, and a caption wrapped to the figure's width.
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream */
#include "render_html.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "render_picture.h"
#include "version.h"

#define SVG_MIN_WIDTH 420.0  /* the least width, so that a one-token picture keeps a readable caption */
#define CAPTION_CHAR_W 6.2   /* estimated advance of a 10px caption character: the caption wraps to the figure */
#define CAPTION_LINE_H 14.0

/* Whether a token of the document is out of the vocabulary (*oov), has nothing to attend to (*alone). */
static void marked_tokens(const pic_doc *d, int *oov, int *alone)
{
    *oov = *alone = 0;
    for (size_t s = 0; s < d->nv; s++)
        for (size_t i = 0; i < d->v[s].n; i++) {
            *oov |= d->v[s].tok[i].oov;
            *alone |= d->v[s].tok[i].ctx_reason != NULL;
        }
}

/* The caption line for the tokens with nothing to attend to. */
static const char *alone_caption = "Empty row: the token has nothing to attend to (every key it may attend to is "
                                   "masked), so it has no contextual vector.";

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

static ev_status use_term(pic_doc *d, const char *term, pic_hm_mode *m, const char **cap1);

static ev_status svg_write(FILE *fp, const cJSON *root, int compare, const char *term, ev_error *err)
{
    pic_doc d;
    ev_status st = pic_doc_read(&d, root, compare, err);
    if (st != EV_OK)
        return st;
    pic_hm_mode m = {0, "hm", 0};
    const char *cap1 = "Row: the token attending (query); column: the token attended to (key). Each row sums to 1.";
    if (term && (st = use_term(&d, term, &m, &cap1)) != EV_OK) {
        pic_doc_free(&d);
        return st;
    }
    pic_hm_geom g[2];
    double x[2], w = PAD, title_h = 30, h = 0;
    for (size_t s = 0; s < d.nv; s++) {
        g[s] = pic_hm_measure(&d.v[s]);
        x[s] = w;
        w += g[s].width + (s + 1 < d.nv ? 36 : 0);
        h = g[s].height > h ? g[s].height : h;
    }
    /* the figure's width (at least SVG_MIN_WIDTH); the caption is wrapped to it */
    double width = w + PAD > SVG_MIN_WIDTH ? w + PAD : SVG_MIN_WIDTH;
    size_t cols = (size_t)((width - 2 * PAD) / CAPTION_CHAR_W);
    int oov, alone;
    marked_tokens(&d, &oov, &alone);
    /* the caption's paragraphs, escaped, each ending in a NUL */
    char *cap = NULL;
    size_t cap_len = 0;
    FILE *cf = open_memstream(&cap, &cap_len);
    if (!cf) {
        pic_doc_free(&d);
        return ev_fail(err, EV_ERR_NOMEM, "out of memory drawing the picture");
    }
    fprintf(cf, "%s%c", cap1, 0);
    if (oov)
        fprintf(cf, "Italic red label: out of vocabulary (no vector; its key is masked, so it is never attended to; "
                    "hatched cells).%c", 0);
    if (alone)
        fprintf(cf, "%s%c", alone_caption, 0);
    if (compare && pic_heads(&d))
        fprintf(cf, "The same sentence under two heads: 1 on the left, 2 on the right.%c", 0);
    else if (compare) {
        fprintf(cf, "Bold orange label, outlined row: the word both sentences share%s", d.nsh ? " (" : "");
        for (size_t q = 0; q < d.nsh; q++) {
            fputs(q ? ", " : "", cf);
            pic_esc(cf, d.sh[q].word);
        }
        fprintf(cf, "%s.%c", d.nsh ? ")" : "", 0);
    }
    fputs("Head: ", cf);
    pic_head_line(cf, &d);
    fprintf(cf, ".%cVectors: ", 0);
    pic_vectors_line(cf, &d, 0);
    fprintf(cf, ". Made by embvsattn %s.%c", EMBVSATTN_VERSION, 0);
    if (fclose(cf) != 0 || !cap) {
        free(cap);
        pic_doc_free(&d);
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
    fprintf(fp, "<title id=\"title\">%s: ", term ? "Attention logits, one term" : "Attention weights");
    for (size_t s = 0; s < d.nv; s++) {
        fputs(s ? " | " : "", fp);
        pic_esc(fp, d.v[s].sentence);
    }
    fputs("</title>\n<desc id=\"desc\">", fp);
    fprintf(fp, "%s of self-attention weights made by embvsattn %s. %s Head: ",
            compare ? "Two heatmaps" : "A heatmap", EMBVSATTN_VERSION, cap1);
    pic_head_line(fp, &d);
    fputs(". Vectors: ", fp);
    pic_vectors_line(fp, &d, 1);
    fputs(".</desc>\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n", fp);
    pic_hm_defs(fp, &m);
    for (size_t s = 0; s < d.nv; s++) {
        fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"14\" font-weight=\"bold\" fill=\"#1f2328\">", x[s],
                PAD + 12);
        if (compare)
            fprintf(fp, "%zu: ", s + 1);
        size_t fit = (size_t)((compare ? g[s].width : width - 2 * PAD) / 8.0);
        fputs("\xE2\x80\x9C", fp);
        pic_esc_max(fp, d.v[s].sentence, fit < 8 ? 8 : fit);
        fputs("\xE2\x80\x9D</text>\n", fp);
        pic_hm_draw(fp, &d.v[s], &g[s], x[s], PAD + title_h, &m);
        pic_legend_draw(fp, x[s] + g[s].left + g[s].grid + 22, PAD + title_h + g[s].top, g[s].legend_h, &m);
    }
    fputs("<g class=\"caption\" font-size=\"10\" fill=\"#57606a\">\n", fp);
    double cy = caption_y;
    for (const char *p = cap; p < cap + cap_len; p += strlen(p) + 1)
        cy += CAPTION_LINE_H * (double)caption_lines(fp, p, cols, PAD, cy);
    fputs("</g>\n</svg>\n", fp);
    free(cap);
    pic_doc_free(&d);
    return EV_OK;
}

ev_status render_svg_view(FILE *fp, const cJSON *view, ev_error *err) { return svg_write(fp, view, 0, NULL, err); }

ev_status render_svg_compare(FILE *fp, const cJSON *doc, ev_error *err) { return svg_write(fp, doc, 1, NULL, err); }

/* ---- the meaning/position split (render_svg_view_term) ----------------------------------------------------- */

/* The terms, and the caption line saying what each picture shows. */
static const char *const TERMS[][2] = {
    {"meaning", "Weights from meaning alone: each row is the softmax of the e\xc2\xb7M\xc2\xb7" "e term of the logits "
                "(word vectors only, M = W_Q\xc2\xb7W_K\xe1\xb5\x80/\xe2\x88\x9a" "d_k), over the keys the real weights allow."},
    {"position", "Weights from position alone: each row is the softmax of the three terms with positions "
                 "(e\xc2\xb7M\xc2\xb7p + p\xc2\xb7M\xc2\xb7" "e + p\xc2\xb7M\xc2\xb7p), over the keys the real weights allow "
                 "(uniform when the head has no positions)."},
    {"ee", "The meaning term e_i\xc2\xb7M\xc2\xb7" "e_j of each logit, in logit units (blue positive, red negative; "
           "blank where the key is not allowed). The four terms ee + ep + pe + pp sum to the logit; only differences "
           "within a row matter (softmax ignores a constant added to a row)."},
    {"ep", "The term e_i\xc2\xb7M\xc2\xb7p_j (query's word, key's position) of each logit, in logit units (blue "
           "positive, red negative; blank where the key is not allowed)."},
    {"pe", "The term p_i\xc2\xb7M\xc2\xb7" "e_j (query's position, key's word) of each logit, in logit units (blue "
           "positive, red negative; blank where the key is not allowed)."},
    {"pp", "The term p_i\xc2\xb7M\xc2\xb7p_j (the two positions) of each logit, in logit units (blue positive, red "
           "negative; blank where the key is not allowed)."},
};

int render_svg_term_known(const char *name)
{
    for (size_t t = 0; name && t < sizeof TERMS / sizeof TERMS[0]; t++)
        if (strcmp(name, TERMS[t][0]) == 0)
            return 1;
    return 0;
}

/* Puts the term's matrix in place of the weights of every view of d, sets the scale and the caption. */
static ev_status use_term(pic_doc *d, const char *term, pic_hm_mode *m, const char **cap1)
{
    size_t t = 0;
    while (t < sizeof TERMS / sizeof TERMS[0] && strcmp(term, TERMS[t][0]) != 0)
        t++;
    if (t == sizeof TERMS / sizeof TERMS[0])
        return ev_fail(d->err, EV_ERR_FORMAT, "picture: unknown term '%s' (expected meaning, position, ee, ep, pe "
                       "or pp)", term);
    double range = 0;
    for (size_t s = 0; s < d->nv; s++) {
        const cJSON *why = pic_get(d->nv > 1 ? cJSON_GetArrayItem(pic_get(d->root, "sentences"), (int)s) : d->root,
                                   "why");
        double mx;
        if (!why)
            return ev_fail(d->err, EV_ERR_FORMAT, "picture: the JSON document has no \"why\" (the meaning/position "
                           "split): build it with --why");
        ev_status st = pic_view_use_matrix(d, &d->v[s], pic_get(why, term), "why matrix", &mx);
        if (st != EV_OK)
            return st;
        range = mx > range ? mx : range;
    }
    if (t >= 2) /* a logit term: a signed scale */
        m->range = range > 0 ? range : 1;
    *cap1 = TERMS[t][1];
    return EV_OK;
}

ev_status render_svg_view_term(FILE *fp, const cJSON *view, const char *term, ev_error *err)
{
    return svg_write(fp, view, 0, term, err);
}

