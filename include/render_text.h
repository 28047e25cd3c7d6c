/* render_text — terminal presentation: tables and the attention heatmap. Formatting only, no arithmetic on the
 * model's numbers beyond rounding them for display. */
#ifndef RENDER_TEXT_H
#define RENDER_TEXT_H

#include <stddef.h>
#include <stdio.h>

#include "store.h"
#include "view.h"

typedef struct {
    int color;    /* ANSI 256-colour backgrounds (a terminal without NO_COLOR) */
    int unicode;  /* Unicode shading and box characters (a UTF-8 terminal) */
    int width;    /* columns available (COLUMNS or the terminal's width; 80 when unknown) */
} render_style;

/* The style for stdout: colour and Unicode only when stdout is a terminal and NO_COLOR is unset; width from the
 * COLUMNS variable, else the terminal, else 80. */
render_style render_style_for_stdout(void);

/* Display width of the UTF-8 bytes [s, s+n) (one column per code point; invalid bytes count one each). */
size_t render_width(const char *s, size_t n);

/* Writes s, cut to at most max display columns (with "…" or "~" when cut) and padded with spaces to exactly max
 * columns when pad is set. */
void render_cell(FILE *fp, const char *s, size_t n, size_t max, int pad, const render_style *st);

/* The n×n weight matrix A (row i = how token i distributes its attention over the columns) as a heatmap with row
 * and column labels. Each cell shows the weight in percent (blank below 0.5 %) on a shade proportional to it.
 * Columns that do not fit the width wrap into further blocks. masked[j] (may be NULL) marks columns never attended
 * (out-of-vocabulary keys), shown as "·" / ".". */
void render_heatmap(FILE *fp, const char *const *labels, size_t n, const float *A /*(n,n)*/,
                    const unsigned char *masked /*(n)*/, const render_style *st);



/* Describes the vector set and head in one line each (for headers and footers). */
typedef struct {
    const char *vectors_path; /* the vector file shown to the user */
    int quiet;                /* drop the legend */
} render_info;

/* The main view of one sentence: per token its static neighbours, whom it attends to, and the neighbours of its
 * contextual vector; then the heatmap and (unless quiet) a legend. */
void render_text_view(FILE *fp, const store *s, const view_sentence *v, const view_opts *o, const render_info *ri,
                      const render_style *st);

/* Token i's predicted words on one line ("word 12.3%  word 4.5%  …"; "-" when it has none). */
void render_text_predictions(FILE *fp, const store *s, const view_sentence *v, size_t i);

/* True when token i's text occurs elsewhere in the sentence (so listings add its index to tell them apart). */
int render_token_repeated(const view_sentence *v, size_t i);

/* The head's description line: kind, d_k, positions, causal, residual. Writes into fp. */
void render_text_head_line(FILE *fp, const view_opts *o);

/* ---- the meaning/position split (--why, explain.h) ---- */

/* Token i's list of why: for each token of its attends-to list (v->attn_top), "TEXT (meaning P%, position P%)":
 * the weight it would get from the meaning term alone and from the position terms alone (v->why must be
 * computed). No newline. */
void render_text_why(FILE *fp, const view_sentence *v, size_t i);

/* The legend's "why" entry (wrapped, ends with a newline). */
void render_text_why_legend(FILE *fp);

#endif
