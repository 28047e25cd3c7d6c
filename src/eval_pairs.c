/* eval_pairs — gensim 4.2's evaluate_word_pairs (eval_gensim.h): the cosine of each pair of words found among the
 * considered rows (search.h's sim_similarity, gensim's arithmetic), and the Pearson and Spearman correlations of the
 * human scores with them, as scipy.stats computes them. Lines are read with Python's rules (pytext.h): universal
 * newlines, strict UTF-8, float() for the score.
 *
 * Layout of this file:
 *   1. statistics: average ranks, Pearson's r, Spearman's rho (scipy)
 *   2. reading the pairs file and scoring the pairs
 */
#define _POSIX_C_SOURCE 200809L
#include "eval_gensim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval_vocab.h"
#include "pytext.h"
#include "util.h"

/* ==== 1. statistics ========================================================================================= */

typedef struct {
    double v;
    size_t i;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->v != y->v)
        return x->v < y->v ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* scipy.stats.rankdata(x, 'average'): 1-based ranks, ties get the mean of their ranks. x has no NaN. */
static int average_ranks(const double *x, size_t n, double *rank)
{
    ranked *r = malloc(n * sizeof *r + 1);
    if (!r)
        return -1;
    for (size_t i = 0; i < n; i++)
        r[i] = (ranked){x[i], i};
    qsort(r, n, sizeof *r, cmp_ranked);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && r[j + 1].v == r[i].v)
            j++;
        double avg = (double)(i + j) / 2.0 + 1.0;
        for (size_t t = i; t <= j; t++)
            rank[r[t].i] = avg;
        i = j + 1;
    }
    free(r);
    return 0;
}

/* scipy.stats.pearsonr's r: NaN for fewer than 2 values, NaN input or a constant input. */
static double pearson_r(const double *x, const double *y, size_t n)
{
    if (n < 2)
        return NAN;
    int cx = 1, cy = 1;
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i]) || isnan(y[i]))
            return NAN;
        cx &= x[i] == x[0];
        cy &= y[i] == y[0];
    }
    if (cx || cy)
        return NAN;
    if (n == 2)
        return ((x[1] > x[0]) ? 1.0 : -1.0) * ((y[1] > y[0]) ? 1.0 : -1.0);
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; i++)
        mx += x[i], my += y[i];
    mx /= (double)n, my /= (double)n;
    double sxx = 0, syy = 0, sxy = 0;
    for (size_t i = 0; i < n; i++) {
        double a = x[i] - mx, b = y[i] - my;
        sxx += a * a, syy += b * b, sxy += a * b;
    }
    double r = sxy / (sqrt(sxx) * sqrt(syy));
    return r > 1.0 ? 1.0 : r < -1.0 ? -1.0 : r;
}

/* scipy.stats.spearmanr's rho: Pearson's r of the average ranks. */
static double spearman_rho(const double *x, const double *y, size_t n, int *nomem)
{
    if (n < 2)
        return NAN;
    for (size_t i = 0; i < n; i++)
        if (isnan(x[i]) || isnan(y[i]))
            return NAN;
    double *rx = malloc(2 * n * sizeof *rx);
    if (!rx || average_ranks(x, n, rx) || average_ranks(y, n, rx + n)) {
        free(rx);
        *nomem = 1;
        return NAN;
    }
    double r = pearson_r(rx, rx + n, n);
    free(rx);
    return r;
}

/* ==== 2. the pairs ========================================================================================== */

void eval_pairs_free(eval_pairs_result *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->oov; i++) {
        free(e->oov_pairs[i].a);
        free(e->oov_pairs[i].b);
    }
    free(e->oov_pairs);
    for (size_t i = 0; i < e->n_details; i++) {
        free(e->details[i].a);
        free(e->details[i].b);
    }
    free(e->details);
    memset(e, 0, sizeof *e);
}

typedef struct {
    size_t line;
    long ka, kb;
    double gold;
    const char *a; /* the words as written, in the file buffer */
    size_t la;
    const char *b;
    size_t lb;
    int unscored; /* a two-column line (eval_pairs_ex with unscored) */
} pair_line;

static char *dup_bytes(const char *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

ev_status eval_pairs(const store *s, const char *path, size_t restrict_n, eval_pairs_result *out, ev_error *err)
{
    return eval_pairs_ex(s, path, restrict_n, 0, out, err);
}

ev_status eval_pairs_ex(const store *s, const char *path, size_t restrict_n, int unscored, eval_pairs_result *out,
                        ev_error *err)
{
    eval_pairs_result ev = {0};
    eval_vocab keys = {0};
    pair_line *pl = NULL;
    double *gold = NULL, *model = NULL;
    unsigned char *buf = NULL;
    size_t len = 0, np = 0, cap = 0, line = 0;
    memset(out, 0, sizeof *out);
    ev.restrict_n = sim_rows_considered(s, restrict_n ? restrict_n : EVAL_DEFAULT_RESTRICT);
    ev_status st = util_read_file(path, "word-pairs file", 0, &buf, &len, err);
    if (st != EV_OK)
        return st;
    /* universal newlines: "\r\n", "\r" and "\n" end a line */
    for (const char *p = (const char *)buf, *end = p + len; p < end;) {
        const char *q = p;
        while (q < end && *q != '\n' && *q != '\r')
            q++;
        size_t n = (size_t)(q - p), term = q == end ? 0 : (*q == '\r' && q + 1 < end && q[1] == '\n') ? 2 : 1;
        const char *l = p;
        p = q + term;
        line++;
        if ((st = pytext_check_utf8(path, line, l, n, err)) != EV_OK)
            goto out;
        if (n && l[0] == '#')
            continue;
        if (n == 0)
            continue; /* gensim skips it as an invalid line; not worth reporting */
        const char *t1 = memchr(l, '\t', n), *t2 = t1 ? memchr(t1 + 1, '\t', (size_t)(l + n - t1 - 1)) : NULL;
        double g = NAN;
        int two = 0;
        if (unscored && t1 && !t2 && t1 > l && t1 + 1 < l + n) {
            two = 1;
            t2 = l + n; /* WORD1<TAB>WORD2: the second word ends the line */
            ev.unscored++;
        } else if (!t2 || memchr(t2 + 1, '\t', (size_t)(l + n - t2 - 1))) {
            ev.invalid++;
            continue;
        } else {
            size_t ul;
            char *us = pytext_upper(t2 + 1, (size_t)(l + n - t2 - 1), &ul);
            if (!us) {
                st = ev_fail(err, EV_ERR_NOMEM, "%s: out of memory", path);
                goto out;
            }
            int bad = pytext_float(us, ul, &g);
            free(us);
            if (bad) {
                ev.invalid++;
                continue;
            }
        }
        if (np == cap) {
            cap = cap ? 2 * cap : 1024;
            pair_line *npl = realloc(pl, cap * sizeof *npl);
            if (!npl) {
                st = ev_fail(err, EV_ERR_NOMEM, "%s: out of memory", path);
                goto out;
            }
            pl = npl;
        }
        pair_line *e = &pl[np++];
        *e = (pair_line){line, -1, -1, g, l, (size_t)(t1 - l), t1 + 1, (size_t)(t2 - t1 - 1), two};
        e->ka = eval_vocab_add(&keys, e->a, e->la);
        e->kb = eval_vocab_add(&keys, e->b, e->lb);
        if (e->ka < 0 || e->kb < 0) {
            st = ev_fail(err, EV_ERR_NOMEM, "%s: out of memory", path);
            goto out;
        }
    }
    if ((st = eval_vocab_resolve(&keys, s, ev.restrict_n, err)) != EV_OK)
        goto out;
    gold = malloc(np * sizeof *gold + 1);
    model = malloc(np * sizeof *model + 1);
    ev.oov_pairs = calloc(np + 1, sizeof *ev.oov_pairs);
    ev.details = calloc(np + 1, sizeof *ev.details);
    if (!gold || !model || !ev.oov_pairs || !ev.details) {
        st = ev_fail(err, EV_ERR_NOMEM, "%s: out of memory", path);
        goto out;
    }
    for (size_t i = 0; i < np; i++) {
        long ra = keys.row[pl[i].ka], rb = keys.row[pl[i].kb];
        eval_pair_detail *dt = &ev.details[ev.n_details++];
        *dt = (eval_pair_detail){pl[i].line, dup_bytes(pl[i].a, pl[i].la), dup_bytes(pl[i].b, pl[i].lb), pl[i].gold,
                                 0.f, ra < 0 || rb < 0};
        if (!dt->a || !dt->b) {
            st = ev_fail(err, EV_ERR_NOMEM, "%s: out of memory", path);
            goto out;
        }
        if (pl[i].unscored) { /* its cosine, outside the statistics */
            if (ra >= 0 && rb >= 0)
                dt->cosine = sim_similarity(s, (size_t)ra, (size_t)rb);
            continue;
        }
        if (ra < 0 || rb < 0) {
            eval_pair_oov *o = &ev.oov_pairs[ev.oov];
            o->line = pl[i].line;
            o->a = dup_bytes(pl[i].a, pl[i].la);
            o->b = dup_bytes(pl[i].b, pl[i].lb);
            ev.oov++;
            if (!o->a || !o->b) {
                st = ev_fail(err, EV_ERR_NOMEM, "%s: out of memory", path);
                goto out;
            }
            continue;
        }
        gold[ev.pairs] = pl[i].gold;
        dt->cosine = sim_similarity(s, (size_t)ra, (size_t)rb);
        model[ev.pairs] = (double)dt->cosine;
        ev.pairs++;
    }
    if (ev.pairs == 0 && ev.unscored == 0) {
        st = ev.oov ? ev_fail(err, EV_ERR_NOTFOUND, "%s: every pair (%zu) has a word outside the first %zu words of the vectors",
                              path, ev.oov, ev.restrict_n)
                    : ev_fail(err, EV_ERR_FORMAT, "%s: expected lines WORD1<TAB>WORD2<TAB>SCORE, found none", path);
        goto out;
    }
    int nomem = 0;
    ev.pearson = pearson_r(gold, model, ev.pairs);
    ev.spearman = spearman_rho(gold, model, ev.pairs, &nomem);
    if (nomem) {
        st = ev_fail(err, EV_ERR_NOMEM, "%s: out of memory ranking %zu pairs", path, ev.pairs);
        goto out;
    }
    ev.oov_ratio = ev.pairs + ev.oov ? 100.0 * (double)ev.oov / (double)(ev.pairs + ev.oov) : NAN;
    *out = ev;
    memset(&ev, 0, sizeof ev);
out:
    eval_pairs_free(&ev);
    eval_vocab_free(&keys);
    free(pl);
    free(gold);
    free(model);
    free(buf);
    return st;
}
