#define _POSIX_C_SOURCE 200809L
#include "render_text.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

render_style render_style_for_stdout(void)
{
    render_style st = {0, 0, 80};
    int tty = isatty(STDOUT_FILENO);
    const char *nc = getenv("NO_COLOR");
    st.color = tty && !(nc && *nc);
    st.unicode = tty;
    const char *cols = getenv("COLUMNS");
    long w = cols ? strtol(cols, NULL, 10) : 0;
    if (w <= 0 && tty) {
        struct winsize ws;
        if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
            w = ws.ws_col;
    }
    if (w >= 40 && w <= 1000)
        st.width = (int)w;
    else if (w > 1000)
        st.width = 1000;
    else if (w > 0)
        st.width = 40;
    return st;
}

size_t render_width(const char *s, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            w++;
    return w;
}

void render_cell(FILE *fp, const char *s, size_t n, size_t max, int pad, const render_style *st)
{
    size_t w = render_width(s, n);
    if (w <= max) {
        fwrite(s, 1, n, fp);
        for (; pad && w < max; w++)
            fputc(' ', fp);
        return;
    }
    /* cut at a code-point boundary, keeping max-1 columns and a mark */
    size_t cols = 0, i = 0;
    while (i < n && cols < max - 1) {
        i++;
        while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80)
            i++;
        cols++;
    }
    fwrite(s, 1, i, fp);
    fputs(st->unicode ? "\xe2\x80\xa6" : "~", fp);
}

/* A weight in whole percent, as the cells print it. */
static int cell_pct(float a) { return (int)(a * 100.0f + 0.5f); }

/* The cell is four blanks: a weight that rounds to 0 %, in the plain and Unicode styles. */
static int cell_blank(float a, int masked, const render_style *st)
{
    return !st->color && !masked && !(cell_pct(a) > 0);
}

/* Shade for a weight: a 256-colour background from the greyscale ramp (232–255) on a terminal. */
static void cell(FILE *fp, float a, int masked, const render_style *st)
{
    int pct = cell_pct(a);
    if (masked) {
        fputs(st->unicode ? "   \xc2\xb7" : "   .", fp);
        return;
    }
    if (st->color) {
        int level = 232 + (int)(a * 23.0f + 0.5f);
        if (level > 255)
            level = 255;
        int fg = level > 245 ? 16 : 255;
        fprintf(fp, " \033[48;5;%dm\033[38;5;%dm", level, fg);
        if (pct > 0)
            fprintf(fp, "%3d", pct);
        else
            fputs("   ", fp);
        fputs("\033[0m", fp);
        return;
    }
    if (st->unicode) {
        static const char *shade[] = {" ", "\xe2\x96\x91", "\xe2\x96\x92", "\xe2\x96\x93", "\xe2\x96\x88"};
        int s = a <= 0.005f ? 0 : a < 0.15f ? 1 : a < 0.35f ? 2 : a < 0.6f ? 3 : 4;
        if (pct > 0)
            fprintf(fp, "%s%3d", shade[s], pct);
        else
            fputs("    ", fp);
        return;
    }
    if (pct > 0)
        fprintf(fp, " %3d", pct);
    else
        fputs("    ", fp);
}

void render_heatmap(FILE *fp, const char *const *labels, size_t n, const float *A, const unsigned char *masked,
                    const render_style *st)
{
    if (n == 0)
        return;
    size_t lab = 0;
    for (size_t i = 0; i < n; i++) {
        size_t w = render_width(labels[i], strlen(labels[i]));
        if (w > lab)
            lab = w;
    }
    if (lab > 14)
        lab = 14;
    size_t idx_w = n >= 1000 ? 4 : n >= 100 ? 3 : n >= 10 ? 2 : 1;
    size_t left = idx_w + 1 + lab + 1; /* "12 label " */
    size_t cellw = 4;
    size_t fit = st->width > (int)(left + cellw) ? ((size_t)st->width - left) / cellw : 1;
    for (size_t c0 = 0; c0 < n; c0 += fit) {
        size_t c1 = c0 + fit < n ? c0 + fit : n;
        if (c0 > 0)
            fputc('\n', fp);
        /* column header: the column's index, then its label cut to the cell */
        fprintf(fp, "%*s", (int)left, "");
        for (size_t j = c0; j < c1; j++)
            fprintf(fp, "%4zu", j);
        fputc('\n', fp);
        fprintf(fp, "%*s", (int)left, "");
        for (size_t j = c0; j < c1; j++) {
            fputc(' ', fp);
            size_t l = strlen(labels[j]), w = render_width(labels[j], l);
            for (; w < 3; w++)
                fputc(' ', fp);
            render_cell(fp, labels[j], l, 3, 0, st);
        }
        fputc('\n', fp);
        for (size_t i = 0; i < n; i++) {
            fprintf(fp, "%*zu ", (int)idx_w, i);
            render_cell(fp, labels[i], strlen(labels[i]), lab, 1, st);
            fputc(' ', fp);
            size_t blanks = 0; /* empty cells not yet written: none at the end of a line (no trailing blanks) */
            for (size_t j = c0; j < c1; j++) {
                if (cell_blank(A[i * n + j], masked && masked[j], st)) {
                    blanks++;
                    continue;
                }
                for (; blanks; blanks--)
                    fputs("    ", fp);
                cell(fp, A[i * n + j], masked && masked[j], st);
            }
            fputc('\n', fp);
        }
    }
}

/* ---- the main view ---------------------------------------------------------------------------------------- */

int render_token_repeated(const view_sentence *v, size_t i)
{
    const tok_token *t = &v->toks.tokens[i];
    for (size_t j = 0; j < v->n; j++)
        if (j != i && v->toks.tokens[j].len == t->len && memcmp(v->toks.tokens[j].text, t->text, t->len) == 0)
            return 1;
    return 0;
}

static void print_word(FILE *fp, const store *s, long row)
{
    size_t l;
    const char *w = store_word(s, (size_t)row, &l);
    fwrite(w, 1, l, fp);
}

/* A neighbour list on one line: "word 0.1234  word 0.1234 …", up to k entries, stopping at an empty slot. */
static void print_hits_inline(FILE *fp, const store *s, const sim_hit *hits, size_t k)
{
    for (size_t j = 0; j < k && hits[j].row >= 0; j++) {
        if (j)
            fputs("  ", fp);
        print_word(fp, s, hits[j].row);
        fprintf(fp, " %.4f", (double)hits[j].score);
    }
}

void render_text_predictions(FILE *fp, const store *s, const view_sentence *v, size_t i)
{
    const sim_hit *h = v->pred ? v->pred + i * v->pk : NULL;
    if (!h || h[0].row < 0) {
        fputs(v->pred ? "-" : "- (this head predicts no words: it has no trained readout)", fp);
        return;
    }
    for (size_t j = 0; j < v->pk && h[j].row >= 0; j++) {
        if (j)
            fputs("  ", fp);
        print_word(fp, s, h[j].row);
        fprintf(fp, " %.1f%%", (double)h[j].score * 100.0);
    }
}

void render_text_head_line(FILE *fp, const view_opts *o)
{
    fprintf(fp, "head: %s; positions %s", o->head->description ? o->head->description : "?",
            attn_positions_name(o->attn.positions));
    if (o->attn.positions != ATTN_POS_NONE)
        fprintf(fp, " (scale %g)", (double)o->attn.position_scale);
    fprintf(fp, "; %s; residual %s\n", o->attn.causal ? "causal" : "bidirectional", o->residual ? "on" : "off");
}

static void bold(FILE *fp, const render_style *st, int on)
{
    if (st->color)
        fputs(on ? "\033[1m" : "\033[0m", fp);
}

static void dim(FILE *fp, const render_style *st, int on)
{
    if (st->color)
        fputs(on ? "\033[2m" : "\033[0m", fp);
}

/* A legend entry: its label (12 columns), then text wrapped to 100 columns, continued under the text. */
static void legend_wrapped(FILE *fp, const char *label, const char *text)
{
    const size_t width = 100;
    fputs(label, fp);
    size_t col = 0, len = strlen(text);
    for (size_t p = 0; p < len;) {
        size_t e = p;
        while (e < len && text[e] != ' ')
            e++;
        size_t w = render_width(text + p, e - p);
        if (col && col + 1 + w > width) {
            fputs("\n            ", fp);
            col = 0;
        } else if (col) {
            fputc(' ', fp);
            col++;
        }
        fwrite(text + p, 1, e - p, fp);
        col += w;
        p = e < len ? e + 1 : e;
    }
    fputc('\n', fp);
}

/* ---- the meaning/position split (--why, explain.h) --------------------------------------------------------- */

#define WHY_LEGEND "the weight each token listed above would get from meaning alone (the softmax of the logits' " \
                   "word-vector term e\xc2\xb7M\xc2\xb7" "e) and from position alone (the softmax of the three terms " \
                   "with positions; uniform when the head has none), over the same keys. --format json --why gives " \
                   "the four terms (ee, ep, pe, pp) in logit units."

/* The tokens row i attends to most (its top list), each named as the text view names tokens (`(self)`, `[index]`
 * for repeated text), followed by its weight (why = 0) or by its meaning-only and position-only weights (why = 1). */
static void print_attended(FILE *fp, const view_sentence *v, size_t i, int why)
{
    size_t n = v->n;
    const size_t *top = v->attn_top + i * v->top;
    if (v->top == 0 || top[0] == SIZE_MAX)
        fputs("-", fp);
    for (size_t j = 0; j < v->top && top[j] != SIZE_MAX; j++) {
        const tok_token *u = &v->toks.tokens[top[j]];
        if (j)
            fputs("  ", fp);
        fwrite(u->text, 1, u->len, fp);
        if (top[j] == i)
            fputs("(self)", fp);
        else if (render_token_repeated(v, top[j]))
            fprintf(fp, "[%zu]", top[j]); /* which of the equal tokens */
        if (why)
            fprintf(fp, " (meaning %.0f%%, position %.0f%%)", (double)(v->why.meaning[i * n + top[j]] * 100.0f),
                    (double)(v->why.position[i * n + top[j]] * 100.0f));
        else
            fprintf(fp, " %.0f%%", (double)(v->A[i * n + top[j]] * 100.0f));
    }
}

void render_text_why(FILE *fp, const view_sentence *v, size_t i) { print_attended(fp, v, i, 1); }

void render_text_why_legend(FILE *fp) { legend_wrapped(fp, "why         ", WHY_LEGEND); }

void render_text_view(FILE *fp, const store *s, const view_sentence *v, const view_opts *o, const render_info *ri,
                      const render_style *st)
{
    size_t n = v->n, k = v->k;
    bold(fp, st, 1);
    fprintf(fp, "%s\n", v->text);
    bold(fp, st, 0);
    render_text_head_line(fp, o);
    fprintf(fp, "vectors: %s (%zu words, %zu dimensions)\n", ri->vectors_path ? ri->vectors_path : "?",
            store_size(s), store_dim(s));
    for (size_t i = 0; i < n; i++)
        if (v->hidden && v->hidden[i]) {
            fprintf(fp, "guessed [%zu] %s: ", i, v->toks.tokens[i].text);
            render_text_predictions(fp, s, v, i);
            fputc('\n', fp);
        }
    fputc('\n', fp);
    const char *arrow = st->unicode ? "\xe2\x86\x92" : "->";
    for (size_t i = 0; i < n; i++) {
        const tok_token *t = &v->toks.tokens[i];
        bold(fp, st, 1);
        fprintf(fp, "[%zu] ", i);
        fwrite(t->text, 1, t->len, fp);
        bold(fp, st, 0);
        if (v->hidden && v->hidden[i])
            fputs("  (blank: hidden, no vector, never attended to)", fp);
        else if (t->status == TOK_OOV)
            fputs("  (out of vocabulary: no vector, never attended to)", fp);
        else if (t->status == TOK_SUBWORD)
            fputs("  (subword: not in the vocabulary, its vector from its character n-grams)", fp);
        else if (t->status != TOK_EXACT) {
            fprintf(fp, "  %s ", arrow);
            print_word(fp, s, t->row);
            fprintf(fp, " (%s)", tok_status_name(t->status));
        }
        fputc('\n', fp);
        fputs("    static:     ", fp);
        if (v->masked[i])
            fputs("-", fp);
        else
            print_hits_inline(fp, s, v->static_nb + i * k, k);
        fputs("\n    attends to: ", fp);
        print_attended(fp, v, i, 0);
        if (v->why.terms) {
            fputs("\n    why:        ", fp);
            render_text_why(fp, v, i);
        }
        fputs("\n    in context: ", fp);
        if (v->no_output)
            fprintf(fp, "- (" VIEW_NO_OUTPUT_FMT ")", o->head->d_k, o->head->d_model);
        else if (v->no_context[i])
            fputs(VIEW_NOTHING_TO_ATTEND, fp);
        else
            print_hits_inline(fp, s, v->context_nb + i * k, k);
        if (!v->masked[i] && !v->no_context[i] && !v->no_output) {
            dim(fp, st, 1);
            fprintf(fp, "   (cos to its static vector %.4f)", (double)v->self_cos[i]);
            dim(fp, st, 0);
        }
        fputc('\n', fp);
        if (o->predict) {
            fputs("    predicts:   ", fp);
            render_text_predictions(fp, s, v, i);
            fputc('\n', fp);
        }
    }
    fputs("\nattention weights, % (row = the token attending, column = the token attended to; rows sum to 100)\n", fp);
    const char **labels = malloc(n * sizeof *labels);
    if (labels) {
        for (size_t i = 0; i < n; i++)
            labels[i] = v->toks.tokens[i].text;
        render_heatmap(fp, labels, n, v->A, v->masked, st);
        free(labels);
    }
    if (ri->quiet)
        return;
    fputs("\nQ, K, V     " VIEW_LEGEND_QKV "\n"
          "static      the nearest words by cosine over the whole vocabulary: an embedding layer's view, the same in\n"
          "            every sentence.\n"
          "attends to  the tokens of this sentence the token's query weighs most: softmax(Q\xc2\xb7K\xe1\xb5\x80/\xe2\x88\x9a" "d_k) row, this\n"
          "            sentence only. Out-of-vocabulary tokens have no key and are never attended to.\n",
          fp);
    if (v->no_output)
        fprintf(fp, "in context  none: this head has no W_O and its d_k (%zu) is not d_model (%zu), so its output A·V is\n"
                    "            not a vector of the vocabulary's space and has no nearest words; give the head a w_o\n"
                    "            [d_k, d_model] (or d_k = d_model) for contextual neighbours. Its weights are as shown.\n",
                o->head->d_k, o->head->d_model);
    else
        legend_wrapped(fp, "in context  ", view_context_meaning(o));
    if (o->context_restrict && o->context_restrict != o->restrict_n)
        fprintf(fp, "            Searched among the %zu most frequent words: the candidates this trained head learned to\n"
                    "            predict (--restrict N to choose).\n",
                o->context_restrict);
    if (v->why.terms)
        render_text_why_legend(fp);
    if (o->head->exclude_self)
        fputs("diagonal    empty: " VIEW_LEGEND_NO_SELF "\n", fp);
    if (o->predict || v->n_hidden)
        fputs(o->head->task == ATTN_TASK_CONTEXT
                  ? "predicts    the words the head's readout of its vector in context gives (softmax over the\n"
                    "            candidates): the words it expects to be missing around it. A blank's guess: the mean\n"
                    "            of the other tokens' predictions.\n"
                  : "predicts    the head's guess for a blank at this position ([MASK] query, the word's own vector\n"
                    "            left out): softmax over the candidates.\n",
              fp);
    size_t alone = 0;
    for (size_t i = 0; i < n; i++)
        alone += v->no_context[i];
    if (alone)
        fputs("            Nothing to attend to: every key the token may attend to is masked (out-of-vocabulary tokens,\n"
              "            the tokens after it under --causal, itself under a head that never attends to itself), so it\n"
              "            has no contextual vector and its row of the heatmap is empty.\n",
              fp);
}
