/* render_picture — what the HTML page (render_html.c) and the standalone SVG (render_svg.c) share: the JSON
 * document read back (pic_doc_read), text escaped for XML and HTML, number formatting for display, the heatmap and
 * its colour scale, the head and vectors lines. Internal to the renderers of render_html.h (prefix pic_); the
 * contracts of the outputs are in render_html.h.
 */
#ifndef RENDER_PICTURE_H
#define RENDER_PICTURE_H

#include <cJSON.h>
#include <stddef.h>
#include <stdio.h>

#include "ev_error.h"

#define PAD 16.0          /* margin of a picture, px */

/* ---- the document, read back: pointers into the JSON (texts, numbers as the JSON writes them) ---------------- */

typedef struct {
    const char *word, *sim; /* sim: the similarity as the JSON writes it */
} pic_hit;

typedef struct {
    size_t index;
    const char *weight;
} pic_att;

typedef struct {
    const char *text, *status, *word, *fallback, *self_sim; /* self_sim NULL for OOV tokens */
    const char *ctx_reason; /* why it has no context neighbours ("nothing to attend to"), or NULL */
    int oov;
    pic_hit *stat, *ctx;
    size_t nstat, nctx;
    pic_att *att;
    size_t natt;
} pic_tok;

typedef struct {
    const char *sentence;
    size_t n;
    pic_tok *tok;     /* (n) */
    const char **w;   /* (n, n) the weights as the JSON writes them */
    float *wv;        /* (n, n) the same texts read back: for colours and rounded display only */
    int *shared;      /* (n) index into the shared words, -1 for none */
    const char *context_note; /* why no token has context neighbours (a head without output), or NULL */
} pic_view;

typedef struct {
    const char *word, *static_cos, *context_cos; /* context_cos NULL when a side has nothing to attend to */
    long row;                                    /* its row in the vectors (-1 when the document has none) */
    const char *ctx_reason[2];                   /* why a side has no context neighbours, or NULL */
    size_t index[2];
    pic_hit *stat, *ctx[2];
    size_t nstat, nctx[2];
} pic_shared;

typedef struct {
    pic_view v[2];
    size_t nv;
    pic_shared *sh;
    size_t nsh;
    const cJSON *root, *head, *vectors;
    char **pool; /* numbers the document gives as JSON numbers rather than raw text, formatted here (owned) */
    size_t npool, cpool;
    ev_error *err;
} pic_doc;

/* Reads a view document (compare = 0: render_json_view's) or a compare document (1) into d, which points into root
 * (root must outlive d). Returns EV_OK, EV_ERR_FORMAT (a field missing or invalid) or EV_ERR_NOMEM (out of memory,
 * or over RENDER_PICTURE_MAX_TOKENS), with err set; on failure d holds nothing to free. */
ev_status pic_doc_read(pic_doc *d, const cJSON *root, int compare, ev_error *err);

/* The shared word a compare picture selects first: the one with the highest row (the rarest word of a
 * frequency-sorted vocabulary: "bank" rather than "the"), the first on ties; 0 when there is none. */
size_t pic_shared_pick(const pic_doc *d);

/* Releases what pic_doc_read allocated. */
void pic_doc_free(pic_doc *d);

/* Member k of object o (NULL when absent); its string (NULL when absent or not a string). */
const cJSON *pic_get(const cJSON *o, const char *k);
const char *pic_get_str(const cJSON *o, const char *k);

/* The float a number text of the document reads as (display only). */
float pic_num_value(const char *s);

/* ---- text and numbers -------------------------------------------------------------------------------------- */

/* Code points in s (an invalid byte counts as one). */
size_t pic_cp_count(const char *s);

/* Writes s escaped for XML and HTML text and attribute values (& < > " '; invalid UTF-8 and characters XML forbids
 * become U+FFFD). pic_esc_max: at most max code points (0: all); a longer s is cut to max - 1 and "…" added. */
void pic_esc(FILE *fp, const char *s);
void pic_esc_max(FILE *fp, const char *s, size_t max);

/* A weight as a whole percentage ("62%"); a similarity text with 4 decimals. */
void pic_put_pct(FILE *fp, float w);
void pic_put_sim4(FILE *fp, const char *s);

/* A token's description for titles: its text, and out of vocabulary, its fallback or lowercase lookup, nothing to
 * attend to. */
void pic_tok_title(FILE *fp, const pic_tok *t);

/* The document's "heads" array (the main view under --heads A,B: two head objects, one per side), or NULL. */
const cJSON *pic_heads(const pic_doc *d);

/* The head's line ("DESCRIPTION; positions …; causal|bidirectional; residual on|off") and the vectors' ("PATH (N
 * words, D dimensions)"; the file name only unless full_path), escaped. */
void pic_head_line(FILE *fp, const pic_doc *d);
void pic_vectors_line(FILE *fp, const pic_doc *d, int full_path);

/* ---- the heatmap -------------------------------------------------------------------------------------------- */

typedef struct {
    int page;         /* 1: inside the HTML page: colours from CSS (light/dark), classes for the script */
    const char *id;   /* prefix of ids, unique in the document */
    double range;     /* standalone SVG of a logit term (render_svg_view_term): > 0, the values are signed logit
                       * units drawn on a diverging scale from -range to +range and printed with one decimal;
                       * 0: weights (0 to 1) */
} pic_hm_mode;

typedef struct {
    double cell, left, top, grid, width, height, legend_h;
    int values;       /* cells are large enough to print their value */
} pic_hm_geom;

/* The layout of view v's heatmap: cell size, label room, the box's width and height. */
pic_hm_geom pic_hm_measure(const pic_view *v);

/* The <defs> a heatmap uses: the hatch of out-of-vocabulary columns and the colour scale's gradient. */
void pic_hm_defs(FILE *fp, const pic_hm_mode *m);

/* The n×n cells with row and column labels; (x0, y0) is the top left of the heatmap's box (labels included). */
void pic_hm_draw(FILE *fp, const pic_view *v, const pic_hm_geom *g, double x0, double y0, const pic_hm_mode *m);

/* The colour scale: a vertical bar from 0 (bottom) to 1 (top) at (x, y), h high, with ticks (-range to +range
 * when m->range > 0). */
void pic_legend_draw(FILE *fp, double x, double y, double h, const pic_hm_mode *m);

/* ---- the meaning/position split (the document's "why", explain.h) -------------------------------------------- */

/* Replaces view v's weights by the n×n matrix m of the document (a member of "why"; null entries, keys the weights
 * do not allow, read as 0), so that pic_hm_draw draws it. *maxabs gets the largest |entry| (for a signed scale).
 * EV_ERR_FORMAT (not n×n numbers) or EV_ERR_NOMEM, with d->err set. */
ev_status pic_view_use_matrix(pic_doc *d, pic_view *v, const cJSON *m, const char *what, double *maxabs);

#endif
