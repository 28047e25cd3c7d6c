/* render_html — pictures of the main view and of compare: one self-contained HTML page (inline CSS, JS and SVG;
 * nothing fetched from a network; render_html.c) and a static SVG heatmap for papers and slides (render_svg.c), both
 * drawn with render_picture.c's shared parts.
 *
 * Presentation only. Each renderer reads the JSON document that render_json_view (or compare) built — the very
 * document `--format json` prints — and writes its numbers as that document writes them: a heatmap cell's
 * data-weight attribute and title hold the weight's JSON text verbatim, neighbour lists hold the JSON's words and
 * similarities. The page also embeds the whole document (<script type="application/json" id="embvsattn-data">),
 * so the page's numbers are the JSON's by construction. The only arithmetic is formatting: rounding for display
 * (percent, 4 decimals), a weight's colour, layout coordinates.
 *
 * Text is escaped for XML/HTML (& < > " '), invalid UTF-8 and characters XML forbids become U+FFFD, and the
 * embedded JSON has every <, > and & written as \u003c, \u003e, \u0026, so no sentence ("</script>", "]]>", …) can
 * end an element early.
 *
 * Every function returns EV_OK, EV_ERR_FORMAT (the document lacks a field the renderer needs: a bug, or a
 * document from elsewhere), or EV_ERR_NOMEM (out of memory, or a sentence over RENDER_PICTURE_MAX_TOKENS). On
 * failure nothing has been written to fp. Write errors on fp are the caller's to detect (ferror).
 */
#ifndef RENDER_HTML_H
#define RENDER_HTML_H

#include <cJSON.h>
#include <stdio.h>

#include "ev_error.h"

/* A picture's n×n heatmap (and head view) is unreadable long before this; past it use --format json. */
#define RENDER_PICTURE_MAX_TOKENS 256

/* The page of one sentence; view is render_json_view's document. */
ev_status render_html_view(FILE *fp, const cJSON *view, ev_error *err);

/* render_html_view's page with one more line in its head, <meta name="embvsattn-api" content="API_BASE"> (escaped):
 * the page is served by `embvsattn serve`, whose JSON API (docs/serve.md) answers at api_base ("/api/"). NULL
 * api_base: exactly render_html_view's page. */
ev_status render_html_view_api(FILE *fp, const cJSON *view, const char *api_base, ev_error *err);

/* The page of compare; doc is compare's document {"sentences": [2 views], "shared": [...], "head", "vectors"}: the
 * two sentences side by side, the shared words highlighted and listed. */
ev_status render_html_compare(FILE *fp, const cJSON *doc, ev_error *err);

/* The part of the page that the document draws, for `embvsattn serve` (GET /api/view?…&format=html): what the
 * page has inside <main> — [the shared words (compare != 0: doc is compare's document)], the sentences
 * (<div class="sentences">), [the movement map] — then its footer and the embedded document (<script
 * type="application/json" id="embvsattn-data">), byte for byte as render_html_view (compare: render_html_compare)
 * writes them into the page. The page's script puts it in place of its own and wires it as it wires the page. */
ev_status render_html_fragment(FILE *fp, const cJSON *doc, int compare, ev_error *err);

/* A standalone SVG heatmap of one sentence: labels, values, colour scale, caption. */
ev_status render_svg_view(FILE *fp, const cJSON *view, ev_error *err);

/* The two heatmaps of compare side by side, the shared words' labels and rows marked. */
ev_status render_svg_compare(FILE *fp, const cJSON *doc, ev_error *err);

/* ---- the meaning/position split (explain.h; the document's "why", present with --why) ------------------------- */

/* 1 when name is a term render_svg_view_term draws: meaning, position (weights of the meaning term alone and of
 * the position terms alone), ee, ep, pe, pp (the four terms of the logits); 0 otherwise (NULL too). */
int render_svg_term_known(const char *name);

/* render_svg_view's picture with one term of the split in place of the weights: meaning and position on the
 * weights' scale, a logit term on a diverging scale from -max|term| to +max|term| with one-decimal values; the
 * caption says what is drawn. EV_ERR_FORMAT when the document has no "why" or the term is unknown. */
ev_status render_svg_view_term(FILE *fp, const cJSON *view, const char *term, ev_error *err);

#endif
