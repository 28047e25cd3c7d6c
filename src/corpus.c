/* corpus — reading and tokenizing the heads' training and evaluation text (corpus.h). */
#define _POSIX_C_SOURCE 200809L
#include "corpus.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tokenizer.h"

#define LINE_PIECE 4000 /* bytes per tokenizer call: lines are cut (at a space when possible) */

void corpus_free(corpus *c)
{
    if (!c)
        return;
    free(c->start);
    free(c->row);
    memset(c, 0, sizeof *c);
}

typedef struct {
    corpus *c;
    size_t cap_sent, cap_tok;
} corpus_builder;

/* Appends the tokens of one tokenized piece, cut into sentences of at most CORPUS_MAX_LEN tokens; a sentence with
 * fewer than two known tokens is dropped. */
static int corpus_add(corpus_builder *b, const tok_sentence *ts)
{
    corpus *c = b->c;
    for (size_t i0 = 0; i0 < ts->n; i0 += CORPUS_MAX_LEN) {
        size_t n = ts->n - i0 < CORPUS_MAX_LEN ? ts->n - i0 : CORPUS_MAX_LEN, known = 0;
        for (size_t i = 0; i < n; i++)
            known += ts->tokens[i0 + i].row >= 0;
        if (known < 2) {
            c->n_dropped += n;
            continue;
        }
        if (c->n_sent + 2 > b->cap_sent) {
            size_t nc = b->cap_sent ? 2 * b->cap_sent : 4096;
            size_t *ns = realloc(c->start, nc * sizeof *ns);
            if (!ns)
                return -1;
            c->start = ns;
            b->cap_sent = nc;
        }
        if (c->n_tok + n > b->cap_tok) {
            size_t nc = b->cap_tok ? 2 * b->cap_tok : 65536;
            while (nc < c->n_tok + n)
                nc *= 2;
            int32_t *nr = realloc(c->row, nc * sizeof *nr);
            if (!nr)
                return -1;
            c->row = nr;
            b->cap_tok = nc;
        }
        if (c->n_sent == 0)
            c->start[0] = 0;
        for (size_t i = 0; i < n; i++)
            c->row[c->n_tok + i] = ts->tokens[i0 + i].row >= 0 ? (int32_t)ts->tokens[i0 + i].row : -1;
        c->n_tok += n;
        c->n_known += known;
        c->start[++c->n_sent] = c->n_tok;
    }
    return 0;
}

/* Length of the next piece of a line: at most LINE_PIECE bytes, cut after the last ASCII space or tab when there is
 * one, else before a UTF-8 continuation byte. */
static size_t piece_len(const char *p, size_t n)
{
    if (n <= LINE_PIECE)
        return n;
    for (size_t i = LINE_PIECE; i > LINE_PIECE / 2; i--)
        if (p[i - 1] == ' ' || p[i - 1] == '\t')
            return i;
    size_t i = LINE_PIECE;
    while (i > 1 && ((unsigned char)p[i] & 0xC0) == 0x80)
        i--;
    return i;
}

ev_status corpus_read(const store *s, const char *const *paths, size_t n_paths, size_t max_tokens,
                           corpus *out, ev_error *err)
{
    memset(out, 0, sizeof *out);
    corpus_builder b = {out, 0, 0};
    char *line = NULL;
    size_t cap = 0;
    ev_status st = EV_OK;
    int full = 0;
    for (size_t f = 0; f < n_paths && !full; f++) {
        const char *path = paths[f];
        struct stat sb;
        if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            st = ev_fail(err, EV_ERR_IO, "%s: is a directory, expected a text file (one sentence per line)", path);
            goto done;
        }
        FILE *fp = fopen(path, "rb");
        if (!fp) {
            st = ev_fail(err, EV_ERR_IO, "%s: cannot open the corpus: %s", path, strerror(errno));
            goto done;
        }
        size_t lineno = 0;
        ssize_t len;
        errno = 0;
        while (!full && (len = getline(&line, &cap, fp)) >= 0) {
            lineno++;
            size_t n = (size_t)len;
            while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                n--;
            int counted = 0;
            for (size_t off = 0; off < n && !full;) {
                size_t pl = piece_len(line + off, n - off);
                tok_sentence ts;
                ev_error e = {0};
                ev_status ts_st = tok_tokenize(s, line + off, pl, &ts, &e);
                off += pl;
                if (ts_st == EV_ERR_USAGE) { /* only spaces */
                    ev_error_clear(&e);
                    continue;
                }
                if (ts_st != EV_OK) {
                    st = ev_fail(err, ts_st == EV_ERR_NOMEM ? EV_ERR_NOMEM : EV_ERR_FORMAT, "%s:%zu: %s", path,
                                 lineno, e.msg ? e.msg : "cannot tokenize");
                    ev_error_clear(&e);
                    fclose(fp);
                    goto done;
                }
                if (!counted) {
                    out->n_lines++;
                    counted = 1;
                }
                int bad = corpus_add(&b, &ts);
                tok_free(&ts);
                if (bad) {
                    fclose(fp);
                    st = ev_fail(err, EV_ERR_NOMEM, "out of memory reading the corpus %s", path);
                    goto done;
                }
                if (max_tokens && out->n_tok >= max_tokens)
                    full = 1;
            }
        }
        int rerr = ferror(fp) ? errno : 0;
        fclose(fp);
        if (rerr) {
            st = ev_fail(err, EV_ERR_IO, "%s: read error: %s", path, strerror(rerr));
            goto done;
        }
    }
    if (out->n_lines == 0) {
        st = ev_fail(err, EV_ERR_FORMAT, "%s%s: the corpus is empty: no line with text", n_paths ? paths[0] : "?",
                     n_paths > 1 ? " …" : "");
        goto done;
    }
    if (out->n_sent == 0) {
        st = ev_fail(err, EV_ERR_NOTFOUND, "%s%s: no line of the corpus has two words with vectors (%zu lines read): "
                     "nothing to learn from", paths[0], n_paths > 1 ? " …" : "", out->n_lines);
        goto done;
    }
done:
    free(line);
    if (st != EV_OK)
        corpus_free(out);
    return st;
}
