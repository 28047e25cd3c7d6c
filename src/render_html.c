/* render_html — the HTML page of the main view and of compare (contracts in render_html.h).
 *
 *   JSON document ─pic_doc_read─▶ pic_doc (pointers into the document: texts and number texts, weights read back)
 *                  ─page_*─▶ HTML on fp      (render_svg.c: the standalone SVG; render_picture.c: what both share)
 *
 * The page is written whole by C: it is readable with scripts off (every token's panel shown, every head-view
 * line drawn). Its script only switches which token is shown: classes, the hidden attribute, and one CSS variable
 * per token set to the selected row's weights (read from the embedded JSON). The stylesheet and the script are
 * plain files, src/assets/page.css and page.js, built in (render_assets.h) and written verbatim.
 */
#include "render_html.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "render_assets.h"
#include "render_map.h"
#include "render_picture.h"
#include "version.h"
#include "view.h"

#define HV_ROW 26.0      /* head view: row height */
#define HV_GAP 150.0     /* head view: room for the lines between the two columns */

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

static size_t first_known(const pic_view *v)
{
    for (size_t i = 0; i < v->n; i++)
        if (!v->tok[i].oov)
            return i;
    return 0;
}

/* The sentence as token chips: focusable buttons (Tab, arrow keys; Enter or Space selects). */
static void page_strip(FILE *fp, const pic_view *v, size_t s, size_t sel)
{
    fprintf(fp, "<div class=\"strip\" role=\"group\" aria-label=\"Tokens of sentence %zu: select one to see its "
                "attention and neighbours\">\n",
            s + 1);
    for (size_t i = 0; i < v->n; i++) {
        const pic_tok *t = &v->tok[i];
        int sh = v->shared[i] >= 0;
        fprintf(fp, "<button type=\"button\" class=\"tok%s%s%s\" data-i=\"%zu\" aria-pressed=\"%s\" title=\"",
                t->oov ? " oov" : "", sh ? " shared" : "", i == sel ? " cur" : "", i, i == sel ? "true" : "false");
        pic_tok_title(fp, t);
        fprintf(fp, "%s\"><span class=\"tt\">", sh ? "; the word both sentences share" : "");
        pic_esc(fp, t->text);
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
static void page_headview(FILE *fp, const pic_view *v, const char *id)
{
    size_t n = v->n, chars = 1;
    for (size_t i = 0; i < n; i++) {
        size_t c = pic_cp_count(v->tok[i].text);
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
            const pic_tok *t = &v->tok[i];
            fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" dy=\"0.35em\"%s data-i=\"%zu\"%s>", side ? rx : lx,
                    top + ((double)i + 0.5) * HV_ROW, side ? "" : " text-anchor=\"end\"", i,
                    t->oov ? " class=\"oov\"" : v->shared[i] >= 0 ? " class=\"shared\"" : "");
            pic_esc_max(fp, t->text, 18);
            fputs("</text>", fp);
        }
    }
    fputs("</g>\n</svg></div>\n", fp);
}

/* A neighbour list as a table: word, bar, similarity (4 decimals; the exact JSON text in the title). Words of
 * the list that are not in `other` are marked new (in context: where attention moved the token). */
static void page_hits(FILE *fp, const pic_hit *h, size_t n, const pic_hit *other, size_t nother, const char *cls,
                      const char *caption, const char *note, const char *empty)
{
    fprintf(fp, "<table class=\"nb %s\"><caption>%s<small>", cls, caption);
    pic_esc(fp, note); /* the head's in_context comes from the document */
    fputs("</small></caption>\n<thead class=\"sr\"><tr><th scope=\"col\">word</th><th scope=\"col\">cosine "
          "similarity</th></tr></thead><tbody>\n",
          fp);
    if (n == 0) {
        fputs("<tr><td colspan=\"2\" class=\"muted\">", fp);
        pic_esc(fp, empty);
        fputs("</td></tr>\n", fp);
    }
    for (size_t j = 0; j < n; j++) {
        int found = other == NULL;
        for (size_t q = 0; !found && q < nother; q++)
            found = strcmp(other[q].word, h[j].word) == 0;
        fprintf(fp, "<tr%s><td>", found ? "" : " class=\"new\" title=\"not among the static neighbours\"");
        pic_esc(fp, h[j].word);
        fprintf(fp,
                "</td><td class=\"num\" title=\"%s\" data-sim=\"%s\"><span class=\"simbar\" style=\"--s:%s\"></span>",
                h[j].sim, h[j].sim, h[j].sim);
        pic_put_sim4(fp, h[j].sim);
        fputs("</td></tr>\n", fp);
    }
    fputs("</tbody></table>\n", fp);
}

/* Whether another token of the sentence has the same text (then summaries add its index, as the text view). */
static int repeated(const pic_view *v, size_t j)
{
    for (size_t k = 0; k < v->n; k++)
        if (k != j && strcmp(v->tok[k].text, v->tok[j].text) == 0)
            return 1;
    return 0;
}

/* "TOKEN attends most to: A (self) 62% · B 10% · C [7] 6%" from the token's attention list in the JSON. */
static void put_summary(FILE *fp, const pic_view *v, size_t i, int spans)
{
    const pic_tok *t = &v->tok[i];
    fputs(spans ? "<span class=\"lbl\">" : "", fp);
    pic_esc(fp, t->text);
    if (!t->natt) { /* "TOKEN has nothing to attend to" */
        fputs(spans ? "</span> has " : " has ", fp);
        pic_esc(fp, t->ctx_reason ? t->ctx_reason : "nothing to attend to");
        return;
    }
    fputs(" attends most to:", fp);
    fputs(spans ? "</span> " : " ", fp);
    for (size_t q = 0; q < t->natt; q++) {
        size_t j = t->att[q].index;
        fputs(q ? " \xC2\xB7 " : "", fp);
        if (spans)
            fprintf(fp, "<span data-j=\"%zu\" data-weight=\"%s\">", j, t->att[q].weight);
        pic_esc(fp, v->tok[j].text);
        if (j == i)
            fputs(" (self)", fp);
        else if (repeated(v, j))
            fprintf(fp, " [%zu]", j);
        fputc(' ', fp);
        pic_put_pct(fp, pic_num_value(t->att[q].weight));
        fputs(spans ? "</span>" : "", fp);
    }
}

/* Token i's panel: whom it attends to, its static neighbours beside its in-context neighbours. */
static void page_detail(FILE *fp, const pic_view *v, size_t i, const char *id, const char *in_context)
{
    const pic_tok *t = &v->tok[i];
    /* all shown without scripts; the script hides all but the drawn token's */
    fprintf(fp, "<article class=\"detail\" id=\"%s-d%zu\" data-i=\"%zu\" aria-labelledby=\"%s-d%zu-h\">\n", id, i, i,
            id, i);
    fprintf(fp, "<h3 id=\"%s-d%zu-h\">", id, i);
    pic_esc(fp, t->text);
    fprintf(fp, "<span class=\"meta\">token %zu \xC2\xB7 ", i);
    if (t->oov)
        fputs("out of vocabulary: no vector, never attended to", fp);
    else if (strcmp(t->status, "subword") == 0)
        fputs("not in the vocabulary: its vector from its character n-grams (fastText)", fp);
    else if (t->fallback) {
        fputs("fallback: ", fp);
        pic_esc(fp, t->fallback);
    } else if (strcmp(t->status, "lowercase") == 0 && t->word) {
        fputs("looked up as \xE2\x80\x9C", fp);
        pic_esc(fp, t->word);
        fputs("\xE2\x80\x9D", fp);
    } else
        fputs("in the vocabulary", fp);
    fputs("</span></h3>\n<p class=\"att summary\">", fp);
    put_summary(fp, v, i, 1);
    fputs("</p>\n<div class=\"nbs\">\n", fp);
    page_hits(fp, t->stat, t->nstat, NULL, 0, "static", "static neighbours",
              "the word alone: the same in every sentence", "none: no vector");
    page_hits(fp, t->ctx, t->nctx, t->oov ? NULL : t->stat, t->nstat, "context", "in context",
              in_context, /* the text view's legend, word for word: true for every head */
              v->context_note ? v->context_note : t->ctx_reason ? t->ctx_reason : "none");
    fputs("</div>\n", fp);
    if (t->self_sim) {
        fprintf(fp, "<p class=\"self\">cosine of its in-context vector to its static vector: <b title=\"%s\">",
                t->self_sim);
        pic_put_sim4(fp, t->self_sim);
        fputs("</b></p>\n", fp);
    }
    fputs("</article>\n", fp);
}

static void page_weights_table(FILE *fp, const pic_view *v)
{
    size_t n = v->n;
    fputs("<details class=\"wt\"><summary>The weights as a table (rounded to 3 decimals; the exact values are in "
          "the JSON embedded in this page)</summary>\n<div class=\"tablewrap\"><table class=\"wt\"><thead><tr><th "
          "scope=\"col\">attends \xE2\x86\x93 to \xE2\x86\x92</th>",
          fp);
    for (size_t j = 0; j < n; j++) {
        fputs("<th scope=\"col\">", fp);
        pic_esc(fp, v->tok[j].text);
        fputs("</th>", fp);
    }
    fputs("</tr></thead><tbody>\n", fp);
    for (size_t i = 0; i < n; i++) {
        fputs("<tr><th scope=\"row\">", fp);
        pic_esc(fp, v->tok[i].text);
        fputs("</th>", fp);
        for (size_t j = 0; j < n; j++)
            fprintf(fp, "<td>%.3f</td>", (double)v->wv[i * n + j]);
        fputs("</tr>\n", fp);
    }
    fputs("</tbody></table></div></details>\n", fp);
}

/* ---- the meaning/position switch (the document's "why", explain.h) ------------------------------------------ */

/* The switch above the heatmap when the view has the split: what colours the cells (the real weights by default;
 * the script redraws the cells from the embedded JSON, so the switch stays hidden without scripts). */
static void page_term_switch(FILE *fp, const char *id)
{
    static const char *const opts[][3] = {
        {"weights", "weights", "the real weights: softmax of the whole logit"},
        {"meaning", "meaning only", "softmax of the meaning term e\xC2\xB7M\xC2\xB7" "e alone (word vectors, no positions)"},
        {"position", "position only", "softmax of the three terms with positions alone (uniform when the head has "
                                      "none)"},
        {"ee", "e\xC2\xB7" "e", "the meaning term e_i\xC2\xB7M\xC2\xB7" "e_j, in logit units"},
        {"ep", "e\xC2\xB7p", "e_i\xC2\xB7M\xC2\xB7p_j (query's word, key's position), in logit units"},
        {"pe", "p\xC2\xB7" "e", "p_i\xC2\xB7M\xC2\xB7" "e_j (query's position, key's word), in logit units"},
        {"pp", "p\xC2\xB7p", "p_i\xC2\xB7M\xC2\xB7p_j (the two positions), in logit units"},
    };
    fprintf(fp, "<div class=\"termsw\" role=\"radiogroup\" aria-label=\"Colour the heatmap by\" hidden>"
                "<span class=\"lbl\">Why: colour by</span>\n");
    for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++)
        fprintf(fp, "<label title=\"%s\"><input type=\"radio\" name=\"%s-term\" value=\"%s\"%s> %s</label>\n",
                opts[k][2], id, opts[k][0], k ? "" : " checked", opts[k][1]);
    fputs("<p class=\"termnote muted\">Each logit is the sum of four terms, q\xC2\xB7k/\xE2\x88\x9A" "d_k = "
          "e\xC2\xB7M\xC2\xB7" "e + e\xC2\xB7M\xC2\xB7p + p\xC2\xB7M\xC2\xB7" "e + p\xC2\xB7M\xC2\xB7p (e: word vectors, "
          "p: scaled positions, M = W_Q\xC2\xB7W_K\xE1\xB5\x80/\xE2\x88\x9A" "d_k). Logit terms: blue positive, red "
          "negative, the shade |value| / the largest |value|; only differences within a row matter (softmax ignores a "
          "constant added to a row).</p></div>\n",
          fp);
}

static void page_heatmap(FILE *fp, const pic_view *v, const char *id, const cJSON *head, int why)
{
    pic_hm_geom g = pic_hm_measure(v);
    char pid[40];
    snprintf(pid, sizeof pid, "%s-hm", id);
    pic_hm_mode m = {1, pid, 0};
    fputs("<figure class=\"hmfig\"><h3>Attention weights</h3>\n", fp);
    if (why)
        page_term_switch(fp, pid);
    fprintf(fp, "<div class=\"hmwrap\"><svg class=\"hm-svg\" "
                "width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
                "aria-labelledby=\"%s-t\" aria-describedby=\"%s-d\">\n<title id=\"%s-t\">Attention weights, %zu by "
                "%zu</title>\n<desc id=\"%s-d\">Row: the token attending; column: the token attended to; a cell's "
                "shade is its weight (0 to 1); each row sums to 1. The same numbers are in the table below.</desc>\n",
            ceil(g.width + 4), ceil(g.height + 4), ceil(g.width + 4), ceil(g.height + 4), pid, pid, pid, v->n, v->n,
            pid);
    pic_hm_defs(fp, &m);
    pic_hm_draw(fp, v, &g, 2, 2, &m);
    pic_legend_draw(fp, 2 + g.left + g.grid + 22, 2 + g.top, g.legend_h, &m);
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
    if (cJSON_IsTrue(pic_get(head, "exclude_self"))) /* as the text view's legend says it */
        fputs(" <span class=\"nodiag\">The diagonal is empty: " VIEW_LEGEND_NO_SELF "</span>", fp);
    fputs("</figcaption>\n", fp);
    page_weights_table(fp, v);
    fputs("</figure>\n", fp);
}

/* The head object of sentence s: its own under --heads, else the document's. */
static const cJSON *sentence_head(const pic_doc *d, size_t s)
{
    const cJSON *heads = pic_heads(d);
    return heads ? cJSON_GetArrayItem(heads, (int)s) : d->head;
}

/* What a token's vector in context is under the head: the JSON head's in_context (the text legend's words). */
static const char *in_context_text(const cJSON *head)
{
    const char *meaning = pic_get_str(head, "in_context");
    if (meaning)
        return meaning;
    /* a document written before heads said what their output means */
    return cJSON_IsTrue(pic_get(head, "residual")) ? "its own vector + what it gathered from the others."
                                                   : "what it gathered from the others (the head's output).";
}

static void page_sentence(FILE *fp, const pic_doc *d, size_t s)
{
    const pic_view *v = &d->v[s];
    char id[24];
    snprintf(id, sizeof id, "s%zu", s);
    size_t sel = first_known(v);
    if (d->nsh) /* compare: the shared word (the rarest, when they share several) */
        sel = d->sh[pic_shared_pick(d)].index[s];
    fprintf(fp, "<section class=\"sent card\" id=\"%s\" data-selected=\"%zu\" aria-labelledby=\"%s-h\">\n", id, sel,
            id);
    const cJSON *heads = pic_heads(d);
    if (heads) { /* one sentence under two heads */
        fprintf(fp, "<h2 id=\"%s-h\">Head %zu: ", id, s + 1);
        const char *desc = pic_get_str(cJSON_GetArrayItem(heads, (int)s), "description");
        pic_esc_max(fp, desc ? desc : "?", 60);
        fputs("</h2>\n", fp);
    } else if (d->nv > 1)
        fprintf(fp, "<h2 id=\"%s-h\">Sentence %zu</h2>\n", id, s + 1);
    else
        fprintf(fp, "<h2 id=\"%s-h\">The sentence</h2>\n", id);
    fputs("<p class=\"quote\">\xE2\x80\x9C", fp);
    pic_esc(fp, v->sentence);
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
        page_detail(fp, v, i, id, in_context_text(sentence_head(d, s)));
    fputs("</div>\n</div>\n", fp);
    const cJSON *sents = pic_get(d->root, "sentences"); /* compare and --heads: one view document each */
    page_heatmap(fp, v, id, sentence_head(d, s),
                 pic_get(sents ? cJSON_GetArrayItem(sents, (int)s) : d->root, "why") != NULL);
    fputs("</section>\n", fp);
}

static void put_hits_inline(FILE *fp, const pic_hit *h, size_t n, const char *empty)
{
    if (!n) {
        fputs("<span class=\"muted\">", fp);
        pic_esc(fp, empty);
        fputs("</span>", fp);
    }
    for (size_t j = 0; j < n; j++) {
        fputs(j ? ", " : "", fp);
        fprintf(fp, "<span class=\"nbl\" data-sim=\"%s\">", h[j].sim);
        pic_esc(fp, h[j].word);
        fputs("<span>", fp);
        pic_put_sim4(fp, h[j].sim);
        fputs("</span></span>", fp);
    }
}

static void page_shared(FILE *fp, const pic_doc *d)
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
        const pic_shared *s = &d->sh[q];
        fprintf(fp, "<tr><th scope=\"row\"><button type=\"button\" class=\"shared-btn\" data-i1=\"%zu\" "
                    "data-i2=\"%zu\" aria-pressed=\"%s\" title=\"select it in both sentences\">",
                s->index[0], s->index[1], q == pic_shared_pick(d) ? "true" : "false");
        pic_esc(fp, s->word);
        fputs("</button></th><td>", fp);
        put_hits_inline(fp, s->stat, s->nstat, "none");
        fputs("</td><td>", fp);
        put_hits_inline(fp, s->ctx[0], s->nctx[0], d->v[0].context_note ? d->v[0].context_note
                                                  : s->ctx_reason[0] ? s->ctx_reason[0] : "none");
        fputs("</td><td>", fp);
        put_hits_inline(fp, s->ctx[1], s->nctx[1], d->v[0].context_note ? d->v[0].context_note
                                                  : s->ctx_reason[1] ? s->ctx_reason[1] : "none");
        fprintf(fp, "</td><td class=\"num\" title=\"%s\" data-value=\"%s\">", s->static_cos, s->static_cos);
        pic_put_sim4(fp, s->static_cos);
        if (s->context_cos) {
            fprintf(fp, "</td><td class=\"num\" title=\"%s\" data-value=\"%s\">", s->context_cos, s->context_cos);
            pic_put_sim4(fp, s->context_cos);
        } else if (d->v[0].context_note) /* no contextual vectors at all */
            fputs("</td><td class=\"num muted\" title=\"no contextual vectors: the head has no output in the "
                  "vectors' space\" data-value=\"\">\xE2\x80\x94", fp);
        else /* a side has no contextual vector */
            fputs("</td><td class=\"num muted\" title=\"no contextual vector: nothing to attend to\" "
                  "data-value=\"\">\xE2\x80\x94", fp);
        fputs("</td></tr>\n", fp);
    }
    fputs("</tbody></table></div>\n</section>\n", fp);
}

static void page_footer(FILE *fp, const pic_doc *d)
{
    const char *kind = pic_get_str(d->head, "kind");
    fputs("<footer class=\"wrap\"><div class=\"card\">\n<h2>About this picture</h2>\n<dl>\n<dt>Head</dt><dd>", fp);
    pic_head_line(fp, d);
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
    fputs("</dd>\n<dt>Q, K, V</dt><dd>" VIEW_LEGEND_QKV "</dd>\n<dt>In context</dt><dd>", fp);
    pic_esc(fp, in_context_text(d->head));
    fputs(" Its nearest words are the token's neighbours in context.", fp);
    if (cJSON_IsTrue(pic_get(d->head, "exclude_self")))
        fputs("</dd>\n<dt>The empty diagonal</dt><dd>" VIEW_LEGEND_NO_SELF, fp);
    fputs("</dd>\n<dt>Vectors</dt><dd>", fp);
    pic_vectors_line(fp, d, 1);
    fputs(". Static neighbours: cosine over the whole vocabulary.</dd>\n<dt>Numbers</dt><dd>Every number here is "
          "written in the JSON embedded in this page, the same document as <code>--format json --why --steps</code> "
          "prints"
          "<span id=\"dl-json-wrap\" hidden> (<a id=\"dl-json\" download=\"embvsattn.json\">save it</a>)</span>; "
          "percentages and 4-decimal similarities are rounded for display.</dd>\n</dl>\n",
          fp);
    fprintf(fp, "<p class=\"muted\">Made by embvsattn %s. Self-contained: nothing on this page is fetched from a "
                "network.</p>\n</div></footer>\n",
            EMBVSATTN_VERSION);
}

/* What the document draws inside <main>: [the shared words (compare)], the sentences, [the movement map]. */
static ev_status page_main(FILE *fp, const pic_doc *d, const cJSON *root, int compare, ev_error *err)
{
    if (compare)
        page_shared(fp, d);
    fprintf(fp, "<div class=\"sentences%s\">\n", compare ? " two" : "");
    for (size_t s = 0; s < d->nv; s++)
        page_sentence(fp, d, s);
    fputs("</div>\n", fp);
    return render_map_section(fp, root, compare, err); /* the movement map (render_map.c) */
}

/* After <main>: the footer and the embedded document (json: root printed unformatted). */
static void page_tail(FILE *fp, const pic_doc *d, const char *json)
{
    page_footer(fp, d);
    fputs("<script type=\"application/json\" id=\"embvsattn-data\">", fp);
    put_json(fp, json);
    fputs("</script>\n", fp);
}

static ev_status page_write(FILE *fp, const cJSON *root, int compare, const char *api_base, ev_error *err)
{
    pic_doc d;
    ev_status st = pic_doc_read(&d, root, compare, err);
    if (st != EV_OK)
        return st;
    char *json = cJSON_PrintUnformatted(root);
    if (!json) {
        pic_doc_free(&d);
        return ev_fail(err, EV_ERR_NOMEM, "out of memory drawing the picture");
    }
    fputs("<!DOCTYPE html>\n<html lang=\"en\" class=\"nojs\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<meta name=\"color-scheme\" content=\"light dark\">\n",
          fp);
    fprintf(fp, "<meta name=\"generator\" content=\"embvsattn %s\">\n", EMBVSATTN_VERSION);
    if (api_base) { /* served by embvsattn serve: the page may ask the API for other sentences */
        fputs("<meta name=\"embvsattn-api\" content=\"", fp);
        pic_esc(fp, api_base);
        fputs("\">\n", fp);
    }
    fputs("<title>embvsattn: ", fp);
    for (size_t s = 0; s < d.nv; s++) {
        fputs(s ? " | " : "", fp);
        pic_esc_max(fp, d.v[s].sentence, 80);
    }
    fputs("</title>\n<style>\n", fp);
    fwrite(render_asset_page_css, 1, render_asset_page_css_size, fp);
    fputs("</style>\n</head>\n<body>\n<header class=\"top wrap\">\n<h1><span class=\"brand\">embvsattn</span> "
          "\xC2\xB7 static embeddings beside self-attention</h1>\n<p class=\"lede\">",
          fp);
    if (compare && pic_heads(&d))
        fputs("The same sentence under two attention heads. Each word's <b>static neighbours</b> come from its word "
              "vector alone, so they are the same under both; its <b>in-context neighbours</b> come from each "
              "head's output.</p>\n",
              fp);
    else if (compare)
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
    ev_status mst = page_main(fp, &d, root, compare, err);
    if (mst == EV_OK) {
        fputs("</main>\n", fp);
        page_tail(fp, &d, json);
        fputs("<script>\n", fp);
        fwrite(render_asset_page_js, 1, render_asset_page_js_size, fp);
        fputs("</script>\n</body>\n</html>\n", fp);
    }
    free(json);
    pic_doc_free(&d);
    return mst;
}

ev_status render_html_view(FILE *fp, const cJSON *view, ev_error *err) { return page_write(fp, view, 0, NULL, err); }

ev_status render_html_view_api(FILE *fp, const cJSON *view, const char *api_base, ev_error *err)
{
    return page_write(fp, view, 0, api_base, err);
}

ev_status render_html_compare(FILE *fp, const cJSON *doc, ev_error *err) { return page_write(fp, doc, 1, NULL, err); }

ev_status render_html_fragment(FILE *fp, const cJSON *doc, int compare, ev_error *err)
{
    pic_doc d;
    ev_status st = pic_doc_read(&d, doc, compare, err);
    if (st != EV_OK)
        return st;
    char *json = cJSON_PrintUnformatted(doc);
    if (!json) {
        pic_doc_free(&d);
        return ev_fail(err, EV_ERR_NOMEM, "out of memory drawing the picture");
    }
    st = page_main(fp, &d, doc, compare, err);
    if (st == EV_OK)
        page_tail(fp, &d, json);
    free(json);
    pic_doc_free(&d);
    return st;
}
