/* head_senses — the WordNet sense evaluation (head_senses.h): the sense file's reader, the scoring of every example
 * under each pattern, and the cluster standard errors. */
#include "head_senses.h"

#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parallel.h"
#include "tokenizer.h"
#include "utf8.h"
#include "util.h"

/* ---- the sense file ------------------------------------------------------------------------------------------- */

void senses_free(senses_file *f)
{
    if (!f)
        return;
    free(f->buf);
    free(f->words);
    free(f->glosses);
    free(f->examples);
    memset(f, 0, sizeof *f);
}

static const char *field_names[4] = {"record type (G or E)", "WORD", "SENSE", "DEFINITION or EXAMPLE"};

/* A parse error at name:line; frees what was parsed. */
static ev_status parse_fail(senses_file *f, ev_error *err, const char *name, size_t line, const char *what,
                            const char *found, size_t found_len)
{
    char *q = found ? ev_quote(found, found_len, 60) : NULL;
    if (found && !q)
        ev_fail(err, EV_ERR_NOMEM, "out of memory");
    else if (found)
        ev_fail(err, EV_ERR_FORMAT, "%s:%zu: expected %s, found '%s'", name, line, what, q);
    else
        ev_fail(err, EV_ERR_FORMAT, "%s:%zu: expected %s", name, line, what);
    free(q);
    senses_free(f);
    return err ? err->code : EV_ERR_FORMAT;
}

/* Words by text, then line: a word whose lines are in two places sorts next to itself. */
static int cmp_words(const void *a, const void *b)
{
    const senses_word *x = a, *y = b;
    int c = strcmp(x->word, y->word);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

ev_status senses_parse(const char *text, size_t len, const char *name, senses_file *out, ev_error *err)
{
    memset(out, 0, sizeof *out);
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    out->buf = malloc(len + 1);
    out->words = malloc(lines * sizeof *out->words);
    out->glosses = malloc(lines * sizeof *out->glosses);
    out->examples = malloc(lines * sizeof *out->examples);
    if (!out->buf || !out->words || !out->glosses || !out->examples) {
        senses_free(out);
        return ev_fail(err, EV_ERR_NOMEM, "%s: out of memory for %zu lines", name, lines);
    }
    memcpy(out->buf, text, len);
    out->buf[len] = '\0';
    char *p = out->buf, *end = out->buf + len;
    senses_word *w = NULL; /* the current word */
    for (size_t line = 1; p < end; line++) {
        char *eol = memchr(p, '\n', (size_t)(end - p));
        char *next = eol ? eol + 1 : end;
        if (!eol)
            eol = end;
        if (eol > p && eol[-1] == '\r')
            eol--;
        *eol = '\0';
        size_t n = (size_t)(eol - p);
        if (n > 0 && p[0] == '#') {
            p = next;
            continue;
        }
        for (size_t i = 0; i < n;) {
            uint32_t cp;
            size_t k = p[i] ? utf8_decode((const unsigned char *)p + i, n - i, &cp) : 0;
            if (!k) {
                char *m = ev_strdup_printf("UTF-8 text without NUL bytes, found byte 0x%02x (byte %zu of the line)",
                                           (unsigned char)p[i], i + 1);
                ev_status st = parse_fail(out, err, name, line, m ? m : "UTF-8 text", NULL, 0);
                free(m);
                return st;
            }
            i += k;
        }
        char *f[4];
        size_t nf = 0;
        for (char *q = p;; nf++) {
            char *tab = strchr(q, '\t');
            if (nf < 4)
                f[nf] = q;
            if (!tab) {
                nf++;
                break;
            }
            *tab = '\0';
            q = tab + 1;
        }
        if (nf != 4) {
            char *m = ev_strdup_printf("4 tab-separated fields (G|E, WORD, SENSE, TEXT), found %zu", nf);
            if (!m)
                return parse_fail(out, err, name, line, "4 tab-separated fields", NULL, 0);
            ev_status st = parse_fail(out, err, name, line, m, NULL, 0);
            free(m);
            return st;
        }
        for (int k = 0; k < 4; k++)
            if (!*f[k]) {
                char *m = ev_strdup_printf("a non-empty %s in field %d, found an empty field", field_names[k], k + 1);
                ev_status st = parse_fail(out, err, name, line, m ? m : "a non-empty field", NULL, 0);
                free(m);
                return st;
            }
        int gloss = strcmp(f[0], "G") == 0;
        if (!gloss && strcmp(f[0], "E") != 0)
            return parse_fail(out, err, name, line, "a record type G or E in field 1", f[0], strlen(f[0]));
        if (!w || strcmp(w->word, f[1]) != 0) { /* a new word */
            w = &out->words[out->n_words++];
            w->word = f[1];
            w->line = line;
            w->first_gloss = out->n_glosses;
            w->n_glosses = 0;
            w->first_example = out->n_examples;
            w->n_examples = 0;
        }
        size_t g0 = w->first_gloss;
        if (gloss) {
            if (w->n_examples > 0) {
                char *m = ev_strdup_printf("the G lines of '%s' before its E lines (its first E line is line %zu), "
                                           "found a G line", f[1], out->examples[w->first_example].line);
                ev_status st = parse_fail(out, err, name, line, m ? m : "G lines before E lines", NULL, 0);
                free(m);
                return st;
            }
            for (size_t g = g0; g < g0 + w->n_glosses; g++)
                if (strcmp(out->glosses[g].id, f[2]) == 0) {
                    char *m = ev_strdup_printf("one G line per sense of '%s', found a second G line of sense '%s' "
                                               "(the first is line %zu)", f[1], f[2], out->glosses[g].line);
                    ev_status st = parse_fail(out, err, name, line, m ? m : "one G line per sense", NULL, 0);
                    free(m);
                    return st;
                }
            out->glosses[out->n_glosses++] = (senses_gloss){f[2], f[3], line};
            w->n_glosses++;
        } else {
            size_t g = g0;
            while (g < g0 + w->n_glosses && strcmp(out->glosses[g].id, f[2]) != 0)
                g++;
            if (g == g0 + w->n_glosses) {
                char *m = ev_strdup_printf("a sense of '%s' with a G line before this E line", f[1]);
                ev_status st = parse_fail(out, err, name, line, m ? m : "a sense with a G line", f[2], strlen(f[2]));
                free(m);
                return st;
            }
            out->examples[out->n_examples++] = (senses_example){f[3], g, line};
            w->n_examples++;
        }
        p = next;
    }
    if (out->n_words == 0) {
        senses_free(out);
        return ev_fail(err, EV_ERR_FORMAT, "%s: expected G and E records (WORD<TAB>SENSE<TAB>TEXT), found none",
                       name);
    }
    /* a word's lines are together: no word may start twice (the first second start in the file is named) */
    senses_word *sorted = malloc(out->n_words * sizeof *sorted);
    if (!sorted) {
        senses_free(out);
        return ev_fail(err, EV_ERR_NOMEM, "%s: out of memory", name);
    }
    memcpy(sorted, out->words, out->n_words * sizeof *sorted);
    qsort(sorted, out->n_words, sizeof *sorted, cmp_words);
    size_t again = 0, first = 0;
    const char *word = NULL;
    for (size_t i = 1; i < out->n_words; i++)
        if (strcmp(sorted[i - 1].word, sorted[i].word) == 0 && (!again || sorted[i].line < again)) {
            again = sorted[i].line;
            first = sorted[i - 1].line;
            word = sorted[i].word;
        }
    free(sorted);
    if (again) {
        char *m = ev_strdup_printf("the lines of a word together, found '%s' again (its lines began at line %zu, "
                                   "then another word's came)", word, first);
        ev_status st = parse_fail(out, err, name, again, m ? m : "a word's lines together", NULL, 0);
        free(m);
        return st;
    }
    return EV_OK;
}

ev_status senses_read(const char *path, senses_file *out, ev_error *err)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    memset(out, 0, sizeof *out);
    ev_status st = util_read_file(path, "sense file", 0, &buf, &len, err);
    if (st == EV_OK)
        st = senses_parse((const char *)buf, len, path, out, err);
    free(buf);
    return st;
}

/* ---- scoring ------------------------------------------------------------------------------------------------ */

void senses_result_free(senses_result *r)
{
    if (!r)
        return;
    free(r->correct);
    free(r->cluster);
    free(r->example);
    memset(r, 0, sizeof *r);
}

enum { EX_SCORED = 0, EX_NO_VECTOR = 1, EX_NOT_FOUND = 2, EX_SENSES = 3 };

typedef struct {
    const store *s;
    const senses_file *f;
    const char *name;
    const senses_pattern *pat;
    size_t n_pat, d;
    const long *wrow;          /* (n_words) the word's row, -1: none */
    const size_t *ex_word;     /* (n_examples) the example's word */
    const unsigned char *usable; /* (n_words) ≥ 2 glossed senses */
    const float *G;            /* (n_glosses, d) gloss vectors */
    const unsigned char *gok;  /* (n_glosses) 1: a non-empty gloss vector */
    unsigned char *status;     /* (n_examples) EX_* */
    unsigned char *right;      /* (n_examples, n_pat) */
    size_t fail_at[PARALLEL_MAX_THREADS]; /* the first example that failed in a range (SIZE_MAX: none) */
    ev_error errs[PARALLEL_MAX_THREADS];
} score_ctx;

/* Whether v picks gloss `truth` among the word's glosses [g0, g0 + ng) with a vector: strictly the highest cosine. */
static int picks(const score_ctx *c, const float *v, size_t g0, size_t ng, size_t truth)
{
    float best = view_cosine(v, c->G + truth * c->d, c->d);
    for (size_t g = g0; g < g0 + ng; g++)
        if (g != truth && c->gok[g] && !(best > view_cosine(v, c->G + g * c->d, c->d)))
            return 0;
    return 1;
}

/* Scores one example (status and right); EV_OK or an error in *err. */
static ev_status score_example(score_ctx *c, size_t e, ev_error *err)
{
    const senses_example *ex = &c->f->examples[e];
    size_t w = c->ex_word[e], d = c->d;
    const senses_word *sw = &c->f->words[w];
    if (c->wrow[w] < 0) {
        c->status[e] = EX_NO_VECTOR;
        return EV_OK;
    }
    if (!c->usable[w] || !c->gok[ex->sense]) {
        c->status[e] = EX_SENSES;
        return EV_OK;
    }
    tok_sentence toks;
    ev_error terr = {0};
    ev_status st = tok_tokenize(c->s, ex->text, strlen(ex->text), &toks, &terr);
    if (st != EV_OK) {
        ev_fail(err, st, "%s:%zu: the example of '%s': %s", c->name, ex->line, sw->word, terr.msg ? terr.msg : "");
        ev_error_clear(&terr);
        return st;
    }
    size_t n = toks.n, t = 0;
    while (t < n && toks.tokens[t].row != c->wrow[w])
        t++;
    if (t == n) {
        c->status[e] = EX_NOT_FOUND;
        tok_free(&toks);
        return EV_OK;
    }
    float *X = malloc(n * d * sizeof *X), *Z = malloc(n * d * sizeof *Z), *A = malloc(n * n * sizeof *A);
    float *v = malloc(d * sizeof *v);
    unsigned char *mask = malloc(n);
    if (!X || !Z || !A || !v || !mask) {
        st = ev_fail(err, EV_ERR_NOMEM, "%s:%zu: out of memory for an example of %zu tokens", c->name, ex->line, n);
        goto done;
    }
    tok_vectors(c->s, &toks, X, mask);
    for (size_t p = 0; p < c->n_pat; p++) {
        const senses_pattern *pt = &c->pat[p];
        const float *vec = v;
        if (pt->kind == SENSES_STATIC) {
            vec = X + t * d;
        } else if (pt->kind == SENSES_UNIFORM || pt->kind == SENSES_OTHERS) {
            float self = pt->kind == SENSES_UNIFORM ? 1.0f : 0.0f;
            size_t m = 0;
            for (size_t j = 0; j < n; j++)
                m += j != t && !mask[j];
            for (size_t k = 0; k < d; k++) {
                double sum = 0;
                for (size_t j = 0; j < n; j++)
                    if (j != t && !mask[j])
                        sum += X[j * d + k];
                v[k] = self * X[t * d + k] + (m ? (float)(sum / (double)m) : 0.0f);
            }
        } else {
            ev_error aerr = {0};
            if ((st = view_context_vectors(c->s, &toks, &pt->vo, X, mask, A, Z, &aerr)) != EV_OK) {
                ev_fail(err, st, "%s:%zu: the example of '%s' under %s: %s", c->name, ex->line, sw->word,
                        pt->name ? pt->name : "a head", aerr.msg ? aerr.msg : "");
                ev_error_clear(&aerr);
                goto done;
            }
            vec = Z + t * d;
        }
        c->right[e * c->n_pat + p] = (unsigned char)picks(c, vec, sw->first_gloss, sw->n_glosses, ex->sense);
    }
    c->status[e] = EX_SCORED;
done:
    free(X);
    free(Z);
    free(A);
    free(v);
    free(mask);
    tok_free(&toks);
    return st;
}

static void score_range(void *ctx, size_t lo, size_t hi, int tid)
{
    score_ctx *c = ctx;
    for (size_t e = lo; e < hi; e++)
        if (score_example(c, e, &c->errs[tid]) != EV_OK) {
            c->fail_at[tid] = e;
            return;
        }
}

/* The gloss vectors: G row g = mean of the gloss's tokens' vectors, its word's row excluded (gok[g] = 0: none). */
static ev_status gloss_vectors(const store *s, const senses_file *f, const char *name, const long *wrow, float *G,
                               unsigned char *gok, ev_error *err)
{
    size_t d = store_dim(s);
    for (size_t w = 0; w < f->n_words; w++) {
        const senses_word *sw = &f->words[w];
        for (size_t g = sw->first_gloss; g < sw->first_gloss + sw->n_glosses; g++) {
            const senses_gloss *gl = &f->glosses[g];
            tok_sentence toks;
            ev_error terr = {0};
            ev_status st = tok_tokenize(s, gl->gloss, strlen(gl->gloss), &toks, &terr);
            if (st != EV_OK) {
                ev_fail(err, st, "%s:%zu: the definition of '%s': %s", name, gl->line, sw->word,
                        terr.msg ? terr.msg : "");
                ev_error_clear(&terr);
                return st;
            }
            double *acc = calloc(d, sizeof *acc);
            if (!acc) {
                tok_free(&toks);
                return ev_fail(err, EV_ERR_NOMEM, "out of memory");
            }
            size_t m = 0;
            for (size_t i = 0; i < toks.n; i++) {
                long r = toks.tokens[i].row;
                if (r < 0 || r == wrow[w])
                    continue;
                const float *x = store_row(s, (size_t)r);
                for (size_t k = 0; k < d; k++)
                    acc[k] += x[k];
                m++;
            }
            for (size_t k = 0; k < d; k++)
                G[g * d + k] = m ? (float)(acc[k] / (double)m) : 0.0f;
            gok[g] = m > 0;
            free(acc);
            tok_free(&toks);
        }
    }
    return EV_OK;
}

ev_status senses_evaluate(const store *s, const senses_file *f, const char *name, const senses_pattern *patterns,
                          size_t n_patterns, int threads, senses_result *out, ev_error *err)
{
    memset(out, 0, sizeof *out);
    double t0 = ev_seconds();
    size_t d = store_dim(s);
    if (n_patterns == 0)
        return ev_fail(err, EV_ERR_USAGE, "no pattern to evaluate");
    for (size_t p = 0; p < n_patterns; p++)
        if (patterns[p].kind == SENSES_HEAD && (!patterns[p].vo.head || patterns[p].vo.head->d_model != d))
            return ev_fail(err, EV_ERR_USAGE, "pattern %s: %s", patterns[p].name ? patterns[p].name : "?",
                           patterns[p].vo.head ? "the head is not of the vectors' dimension" : "no head");
    if (threads < 1)
        threads = 1;
    if (threads > PARALLEL_MAX_THREADS)
        threads = PARALLEL_MAX_THREADS;
    size_t nw = f->n_words, ng = f->n_glosses, ne = f->n_examples;
    score_ctx *c = calloc(1, sizeof *c);
    long *wrow = malloc((nw + 1) * sizeof *wrow);
    unsigned char *usable = calloc(nw + 1, 1), *gok = calloc(ng + 1, 1), *status = calloc(ne + 1, 1);
    size_t *ex_word = malloc((ne + 1) * sizeof *ex_word);
    float *G = malloc((ng * d + 1) * sizeof *G);
    unsigned char *right = calloc(ne * n_patterns + 1, 1);
    ev_status st = EV_OK;
    if (!c || !wrow || !usable || !gok || !status || !ex_word || !G || !right) {
        st = ev_fail(err, EV_ERR_NOMEM, "out of memory for %zu examples", ne);
        goto done;
    }
    for (size_t w = 0; w < nw; w++) {
        const senses_word *sw = &f->words[w];
        wrow[w] = store_lookup(s, sw->word, strlen(sw->word), NULL);
        for (size_t e = sw->first_example; e < sw->first_example + sw->n_examples; e++)
            ex_word[e] = w;
    }
    if ((st = gloss_vectors(s, f, name, wrow, G, gok, err)) != EV_OK)
        goto done;
    for (size_t w = 0; w < nw; w++) {
        size_t k = 0;
        for (size_t g = f->words[w].first_gloss; g < f->words[w].first_gloss + f->words[w].n_glosses; g++)
            k += gok[g];
        usable[w] = k >= 2;
    }
    *c = (score_ctx){.s = s, .f = f, .name = name, .pat = patterns, .n_pat = n_patterns, .d = d, .wrow = wrow,
                     .ex_word = ex_word, .usable = usable, .G = G, .gok = gok, .status = status, .right = right};
    for (int t = 0; t < PARALLEL_MAX_THREADS; t++)
        c->fail_at[t] = SIZE_MAX;
#ifdef OPENBLAS_VERSION
    /* the workers are the threads: OpenBLAS single-threaded inside them (the sentences are small) */
    int blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
#endif
    parallel_for(threads, ne, score_range, c);
#ifdef OPENBLAS_VERSION
    openblas_set_num_threads(blas_threads);
#endif
    /* the ranges are in example order: the first range that failed holds the first failing example */
    for (int t = 0; t < threads; t++)
        if (c->fail_at[t] != SIZE_MAX) {
            *err = c->errs[t];
            c->errs[t] = (ev_error){0};
            st = err->code;
            goto done;
        }
    size_t n = 0;
    for (size_t e = 0; e < ne; e++) {
        n += status[e] == EX_SCORED;
        out->skipped_no_vector += status[e] == EX_NO_VECTOR;
        out->skipped_not_found += status[e] == EX_NOT_FOUND;
        out->skipped_senses += status[e] == EX_SENSES;
    }
    if (n == 0) {
        st = ev_fail(err, EV_ERR_NOTFOUND, "%s: none of the %zu examples could be scored (%zu of a word without a "
                     "vector, %zu without their word as a token, %zu of a word with fewer than 2 glossed senses)",
                     name, ne, out->skipped_no_vector, out->skipped_not_found, out->skipped_senses);
        goto done;
    }
    out->n_patterns = n_patterns;
    out->n = n;
    out->correct = malloc(n_patterns * n);
    out->cluster = malloc(n * sizeof *out->cluster);
    out->example = malloc(n * sizeof *out->example);
    if (!out->correct || !out->cluster || !out->example) {
        st = ev_fail(err, EV_ERR_NOMEM, "out of memory for %zu examples", n);
        goto done;
    }
    size_t i = 0, last_word = SIZE_MAX;
    double chance = 0;
    for (size_t e = 0; e < ne; e++) {
        if (status[e] != EX_SCORED)
            continue;
        if (ex_word[e] != last_word) {
            last_word = ex_word[e];
            out->n_words++;
        }
        const senses_word *sw = &f->words[ex_word[e]];
        size_t k = 0;
        for (size_t g = sw->first_gloss; g < sw->first_gloss + sw->n_glosses; g++)
            k += gok[g];
        chance += 1.0 / (double)k;
        out->cluster[i] = out->n_words - 1;
        out->example[i] = e;
        for (size_t p = 0; p < n_patterns; p++)
            out->correct[p * n + i] = right[e * n_patterns + p];
        i++;
    }
    out->chance = chance / (double)n;
    out->seconds = ev_seconds() - t0;
done:
    if (c)
        for (int t = 0; t < PARALLEL_MAX_THREADS; t++)
            ev_error_clear(&c->errs[t]);
    free(c);
    free(wrow);
    free(usable);
    free(gok);
    free(status);
    free(ex_word);
    free(G);
    free(right);
    if (st != EV_OK)
        senses_result_free(out);
    return st;
}

/* ---- standard errors ---------------------------------------------------------------------------------------- */

/* Mean of the per-example values x_i = val(i) and its cluster standard error: clusters are r->cluster runs. */
static void cluster_mean_se(const senses_result *r, const unsigned char *a, const unsigned char *b, double *mean,
                            double *se)
{
    size_t n = r->n;
    double total = 0;
    for (size_t i = 0; i < n; i++)
        total += (double)a[i] - (b ? (double)b[i] : 0.0);
    double m = n ? total / (double)n : 0.0, ss = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        double k = 0, mw = 0;
        for (; j < n && r->cluster[j] == r->cluster[i]; j++) {
            k += (double)a[j] - (b ? (double)b[j] : 0.0);
            mw += 1;
        }
        ss += (k - m * mw) * (k - m * mw);
        i = j;
    }
    double nw = (double)r->n_words;
    *mean = m;
    *se = r->n_words >= 2 && n ? sqrt(nw / (nw - 1) * ss) / (double)n : 0.0;
}

size_t senses_accuracy(const senses_result *r, size_t p, double *acc, double *se)
{
    const unsigned char *a = r->correct + p * r->n;
    size_t k = 0;
    for (size_t i = 0; i < r->n; i++)
        k += a[i];
    cluster_mean_se(r, a, NULL, acc, se);
    return k;
}

void senses_paired(const senses_result *r, size_t a, size_t b, double *diff, double *se)
{
    cluster_mean_se(r, r->correct + a * r->n, r->correct + b * r->n, diff, se);
}
