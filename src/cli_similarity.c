/* cli_similarity — the static-similarity commands: neighbors, analogy, similarity, doesnt-match, eval. */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* madvise */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli_internal.h"
#include "eval_gensim.h"
#include "numparse.h"
#include "render_json.h"
#include "search.h"

#define DEFAULT_K 10 /* gensim's topn */

/* ---- helpers --------------------------------------------------------------------------------------------- */

static lookup look_up(const store *s, const char *q)
{
    lookup l = {q, -1, STORE_OOV, NULL, 0};
    l.row = store_lookup(s, q, strlen(q), &l.match);
    if (l.row >= 0)
        l.word = store_word(s, (size_t)l.row, &l.wlen);
    return l;
}

/* Text mode: an OOV word goes to stderr (as the vector command does). */
static void note_oov(const store *s, const lookup *l)
{
    char *q = ev_quote(l->query, strlen(l->query), 200);
    fprintf(stderr, PROG ": '%s': not in the vocabulary (%zu words)\n", q ? q : l->query, store_size(s));
    free(q);
}

/* Text header of a query: "King (lowercase: king)" when the case fallback matched. */
static void print_query(const lookup *l)
{
    fputs(l->query, stdout);
    if (l->match == STORE_SUBWORD)
        fputs(" (subword: not in the vocabulary, from its character n-grams)", stdout);
    if (l->match == STORE_LOWER) {
        fputs(" (lowercase: ", stdout);
        fwrite(l->word, 1, l->wlen, stdout);
        putchar(')');
    }
}

/* JSON description of a query: {"query", "match", "word"?}. */
static cJSON *json_query(const lookup *l)
{
    cJSON *e = cJSON_CreateObject();
    jsonstr_add_cstr(e, "query", l->query);
    cJSON_AddStringToObject(e, "match", store_match_name(l->match));
    if (l->row >= 0)
        jsonstr_add(e, "word", l->word, l->wlen);
    return e;
}

static cJSON *json_float(float f) { return render_json_float(f); }

static cJSON *json_double(double x) { return isfinite(x) ? cJSON_CreateNumber(x) : cJSON_CreateNull(); }

/* Number of code points in the UTF-8 bytes (for padding columns). */
static size_t display_width(const char *p, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        w += ((unsigned char)p[i] & 0xC0) != 0x80;
    return w;
}

/* The hits as text: "  word<pad> 0.1234" per line; rows -1 are skipped. */
static void print_hits(const store *s, const sim_hit *h, size_t k)
{
    size_t width = 12;
    for (size_t i = 0; i < k; i++)
        if (h[i].row >= 0) {
            size_t wl;
            const char *w = store_word(s, (size_t)h[i].row, &wl);
            size_t dw = display_width(w, wl);
            width = dw > width ? dw : width;
        }
    for (size_t i = 0; i < k; i++) {
        if (h[i].row < 0)
            continue;
        size_t wl;
        const char *w = store_word(s, (size_t)h[i].row, &wl);
        fputs("  ", stdout);
        fwrite(w, 1, wl, stdout);
        printf("%*s %7.4f\n", (int)(width - display_width(w, wl)), "", h[i].score);
    }
}

/* The hits as a JSON array of {"word", "score"}. */
static cJSON *json_hits(const store *s, const sim_hit *h, size_t k)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < k; i++) {
        if (h[i].row < 0)
            continue;
        size_t wl;
        const char *w = store_word(s, (size_t)h[i].row, &wl);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddItemToArray(a, e);
        jsonstr_add(e, "word", w, wl);
        cJSON_AddItemToObject(e, "score", json_float(h[i].score));
    }
    return a;
}

static size_t restrict_rows(const store *s, size_t r)
{
    size_t V = store_size(s);
    return r == 0 || r > V ? V : r;
}

/* A command about to read the whole matrix once asks the kernel to map all of its pages in one go (Linux 5.14+
 * MADV_POPULATE_READ; elsewhere, or on error, nothing happens): cheaper than one page fault per 4 KiB — about a
 * quarter of a whole `neighbors` process on a virtual machine, where first touches are expensive. */
static void prefault_matrix(const store *s, size_t rows)
{
#if defined(__linux__)
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
    static const store *done; /* once per store: --stdin answers many queries from one (cli_wordinput.c) */
    static size_t done_rows;
    long page = sysconf(_SC_PAGESIZE);
    if (store_file_bytes(s) == 0 || page <= 0 || (s == done && rows <= done_rows))
        return; /* an in-memory store is already there; or these pages were asked for already */
    done = s;
    done_rows = rows;
    uintptr_t p = (uintptr_t)store_vectors(s), a = p & ~((uintptr_t)page - 1);
    size_t len = (size_t)(p - a) + rows * store_dim(s) * sizeof(float);
    (void)madvise((void *)a, len, MADV_POPULATE_READ);
#else
    (void)s, (void)rows;
#endif
}


/* -k, or the default; never more than the vocabulary (later slots could only be empty). */
static size_t answers_wanted(const store *s, const cli_opts *o)
{
    size_t k = o->k_given ? o->k : DEFAULT_K, V = store_size(s);
    return k > V && V > 0 ? V : k;
}

/* ---- neighbors ------------------------------------------------------------------------------------------- */

static int neighbors_answer(cli_opts *o, store *s)
{
    if (o->vector_in) /* --vector-in, several words as one query: cli_query.c */
        return cli_neighbors_vectors(o, s);
    if (cli_neighbors_is_query(o))
        return cli_neighbors_query(o, s);
    if (o->npos == 0)
        return cli_usage_error("%s", "neighbors: expected WORD..., --positive/--negative or --vector-in, found none");
    int code = 0;
    size_t d = store_dim(s), k = answers_wanted(s, o), n = (size_t)o->npos, m = 0;
    lookup *l = calloc(n, sizeof *l);
    float *Q = malloc(n * d * sizeof *Q + 1);
    long *ex = malloc(n * sizeof *ex + 1);
    sim_hit *hits = n && k <= SIZE_MAX / sizeof *hits / n ? malloc(n * k * sizeof *hits) : NULL;
    sim_hit *searched = hits ? malloc(n * k * sizeof *hits) : NULL;
    size_t *slot = malloc(n * sizeof *slot + 1);
    if (!l || !Q || !ex || !hits || !searched || !slot) {
        fprintf(stderr, PROG ": out of memory for %zu words × %zu neighbours\n", n, k);
        code = EV_ERR_NOMEM;
        goto out;
    }
    /* Every word found is answered from the cache's neighbour lists when they can (sim_listed_neighbors), else
     * it becomes one query of a single batched pass: gensim's most_similar(positive=[word]). */
    size_t nq = 0;
    for (size_t i = 0; i < n; i++) {
        l[i] = look_up(s, o->pos[i]);
        if (l[i].row < 0 && store_subwords(s) && /* fastText: a vector from its character n-grams */
            store_subword_vector(s, o->pos[i], strlen(o->pos[i]), Q + nq * d) > 0) {
            float nrm = sim_norm(Q + nq * d, d); /* gensim: get_vector(word, norm=True) */
            for (size_t c = 0; nrm > 0 && c < d; c++)
                Q[nq * d + c] /= nrm;
            l[i].match = STORE_SUBWORD;
            ex[nq] = -1;
            slot[nq++] = m++;
            continue;
        }
        if (l[i].row < 0)
            continue;
        if (!sim_listed_neighbors(s, l[i].row, k, o->restrict_n, hits + m * k)) {
            sim_word_query(s, l[i].row, Q + nq * d);
            ex[nq] = l[i].row;
            slot[nq++] = m;
        }
        m++;
    }
    ev_error err = {0};
    if (nq)
        prefault_matrix(s, restrict_rows(s, o->restrict_n));
    if (nq && sim_topk(s, Q, nq, k, o->restrict_n, ex, 1, searched, &err) != EV_OK) {
        code = cli_report(&err);
        goto out;
    }
    for (size_t j = 0; j < nq; j++)
        memcpy(hits + slot[j] * k, searched + j * k, k * sizeof *hits);
    size_t R = restrict_rows(s, o->restrict_n);
    if ((o->format == OUT_JSON || o->format == OUT_TSV)) {
        cJSON *root = cJSON_CreateObject(), *res;
        cJSON_AddNumberToObject(root, "k", (double)k);
        cJSON_AddNumberToObject(root, "restrict", (double)R);
        res = cJSON_AddArrayToObject(root, "results");
        for (size_t i = 0, j = 0; i < n; i++) {
            cJSON *e = json_query(&l[i]);
            cJSON_AddItemToArray(res, e);
            if (l[i].row >= 0 || l[i].match == STORE_SUBWORD)
                cJSON_AddItemToObject(e, "neighbors", json_hits(s, hits + j++ * k, k));
        }
        code = cli_print_doc(o, root, "results");
    } else {
        int first = 1;
        for (size_t i = 0, j = 0; i < n; i++) {
            if (l[i].row < 0 && l[i].match != STORE_SUBWORD) {
                note_oov(s, &l[i]);
                continue;
            }
            if (!first)
                putchar('\n');
            first = 0;
            print_query(&l[i]);
            putchar('\n');
            print_hits(s, hits + j++ * k, k);
        }
    }
    if (!code && m == 0)
        code = EV_ERR_NOTFOUND;
out:
    free(l);
    free(Q);
    free(ex);
    free(hits);
    free(searched);
    free(slot);
    return code;
}

int cmd_neighbors(cli_opts *o) { return cli_word_command(o, neighbors_answer); }
int cli_neighbors_answer(cli_opts *o, store *s) { return neighbors_answer(o, s); }

/* ---- analogy --------------------------------------------------------------------------------------------- */

static int analogy_answer(cli_opts *o, store *s)
{
    int code = 0;
    sim_method method = o->method && strcmp(o->method, "mul") == 0 ? SIM_MUL : SIM_ADD;
    size_t k = answers_wanted(s, o);
    lookup l[3];
    int found = 1;
    for (int i = 0; i < 3; i++) {
        l[i] = look_up(s, o->pos[i]);
        found &= l[i].row >= 0;
    }
    sim_hit *hits = found ? malloc(k * sizeof *hits) : NULL;
    if (found && !hits) {
        fprintf(stderr, PROG ": out of memory for %zu answers\n", k);
        code = EV_ERR_NOMEM;
        goto out;
    }
    ev_error err = {0};
    if (found)
        prefault_matrix(s, method == SIM_MUL ? store_size(s) : restrict_rows(s, o->restrict_n));
    if (found && sim_analogy(s, l[0].row, l[1].row, l[2].row, method, k, o->restrict_n, hits, &err) != EV_OK) {
        code = cli_report(&err);
        goto out;
    }
    const char *mname = method == SIM_MUL ? "mul" : "add";
    if ((o->format == OUT_JSON || o->format == OUT_TSV)) {
        cJSON *root = cJSON_CreateObject(), *in;
        cJSON_AddStringToObject(root, "method", mname);
        cJSON_AddNumberToObject(root, "k", (double)k);
        cJSON_AddNumberToObject(root, "restrict", (double)restrict_rows(s, o->restrict_n));
        in = cJSON_AddArrayToObject(root, "inputs");
        for (int i = 0; i < 3; i++)
            cJSON_AddItemToArray(in, json_query(&l[i]));
        cJSON_AddItemToObject(root, "results", found ? json_hits(s, hits, k) : cJSON_CreateArray());
        code = cli_print_doc(o, root, "results");
    } else {
        for (int i = 0; i < 3; i++)
            if (l[i].row < 0)
                note_oov(s, &l[i]);
        if (found) {
            print_query(&l[0]);
            fputs(" is to ", stdout);
            print_query(&l[1]);
            fputs(" as ", stdout);
            print_query(&l[2]);
            printf(" is to ?  (%s)\n", method == SIM_MUL ? "3CosMul" : "3CosAdd");
            print_hits(s, hits, k);
        }
    }
    if (!code && !found)
        code = EV_ERR_NOTFOUND;
out:
    free(hits);
    return code;
}

int cmd_analogy(cli_opts *o) { return cli_word_command(o, analogy_answer); }
int cli_analogy_answer(cli_opts *o, store *s) { return analogy_answer(o, s); }

/* ---- similarity ------------------------------------------------------------------------------------------ */

static int similarity_answer(cli_opts *o, store *s)
{
    int code = 0;
    lookup a = look_up(s, o->pos[0]), b = look_up(s, o->pos[1]);
    int found = a.row >= 0 && b.row >= 0;
    float sim = found ? sim_similarity(s, (size_t)a.row, (size_t)b.row) : 0.f;
    if ((o->format == OUT_JSON || o->format == OUT_TSV)) {
        cJSON *root = cJSON_CreateObject(), *in = cJSON_AddArrayToObject(root, "inputs");
        cJSON_AddItemToArray(in, json_query(&a));
        cJSON_AddItemToArray(in, json_query(&b));
        cJSON_AddItemToObject(root, "similarity", found ? json_float(sim) : cJSON_CreateNull());
        code = cli_print_doc(o, root, NULL);
    } else {
        if (a.row < 0)
            note_oov(s, &a);
        if (b.row < 0)
            note_oov(s, &b);
        if (o->serve == CLI_SERVE_ROWS) { /* a list of pairs: one cosine a line, "nan" out of vocabulary */
            char buf[32];
            numparse_format_float(sim, buf);
            puts(found ? buf : "nan");
        } else if (found) {
            print_query(&a);
            putchar(' ');
            print_query(&b);
            printf(" %.4f\n", sim);
        }
    }
    if (!code && !found)
        code = EV_ERR_NOTFOUND;
    return code;
}

int cmd_similarity(cli_opts *o) { return cli_word_command(o, similarity_answer); }

/* ---- doesnt-match ---------------------------------------------------------------------------------------- */

static int doesnt_match_answer(cli_opts *o, store *s)
{
    int code = 0;
    size_t n = (size_t)o->npos, m = 0;
    lookup *l = calloc(n, sizeof *l);
    long *rows = malloc(n * sizeof *rows + 1);
    float *scores = malloc(n * sizeof *scores + 1);
    size_t *order = malloc(n * sizeof *order + 1);
    if (!l || !rows || !scores || !order) {
        fprintf(stderr, PROG ": out of memory\n");
        code = EV_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) { /* gensim ignores words out of the vocabulary */
        l[i] = look_up(s, o->pos[i]);
        if (l[i].row >= 0)
            rows[m++] = l[i].row;
    }
    ev_error err = {0};
    if (m && sim_doesnt_match(s, rows, m, scores, order, &err) != EV_OK) {
        code = cli_report(&err);
        goto out;
    }
    if ((o->format == OUT_JSON || o->format == OUT_TSV)) {
        cJSON *root = cJSON_CreateObject(), *in = cJSON_AddArrayToObject(root, "inputs");
        for (size_t i = 0; i < n; i++)
            cJSON_AddItemToArray(in, json_query(&l[i]));
        if (m) {
            size_t wl;
            const char *w = store_word(s, (size_t)rows[order[m - 1]], &wl);
            jsonstr_add(root, "doesnt_match", w, wl);
            cJSON *rk = cJSON_AddArrayToObject(root, "ranking");
            for (size_t i = 0; i < m; i++) {
                cJSON *e = cJSON_CreateObject();
                cJSON_AddItemToArray(rk, e);
                w = store_word(s, (size_t)rows[order[i]], &wl);
                jsonstr_add(e, "word", w, wl);
                cJSON_AddItemToObject(e, "score", json_float(scores[order[i]]));
            }
        } else {
            cJSON_AddNullToObject(root, "doesnt_match");
            cJSON_AddArrayToObject(root, "ranking");
        }
        code = cli_print_doc(o, root, "ranking");
    } else {
        for (size_t i = 0; i < n; i++)
            if (l[i].row < 0)
                note_oov(s, &l[i]);
        if (m) {
            size_t wl;
            const char *w = store_word(s, (size_t)rows[order[m - 1]], &wl);
            fputs("doesn't match: ", stdout);
            fwrite(w, 1, wl, stdout);
            fputs("\ncosine to the mean of the words:\n", stdout);
            sim_hit *h = malloc(m * sizeof *h);
            if (!h) {
                fprintf(stderr, PROG ": out of memory\n");
                code = EV_ERR_NOMEM;
                goto out;
            }
            for (size_t i = 0; i < m; i++)
                h[i] = (sim_hit){rows[order[i]], scores[order[i]]};
            print_hits(s, h, m);
            free(h);
        }
    }
    if (!code && m == 0)
        code = EV_ERR_NOTFOUND;
out:
    free(l);
    free(rows);
    free(scores);
    free(order);
    return code;
}

int cmd_doesnt_match(cli_opts *o) { return cli_word_command(o, doesnt_match_answer); }

/* ---- eval ------------------------------------------------------------------------------------------------ */

static double pct(size_t a, size_t b) { return b ? 100.0 * (double)a / (double)b : 0.0; }

/* One row of the analogies table: name, correct, total, accuracy ("-" when nothing was answered). */
static void print_score_row(const char *name, size_t width, size_t correct, size_t total)
{
    fputs(name, stdout);
    printf("%*s %7zu %7zu ", (int)(width - display_width(name, strlen(name))), "", correct, total);
    if (total)
        printf("%8.2f%%\n", pct(correct, total));
    else
        printf("%9s\n", "-");
}

static cJSON *json_score(const char *name, size_t correct, size_t total)
{
    cJSON *e = cJSON_CreateObject();
    if (name)
        jsonstr_add_cstr(e, "name", name);
    cJSON_AddNumberToObject(e, "correct", (double)correct);
    cJSON_AddNumberToObject(e, "total", (double)total);
    cJSON_AddItemToObject(e, "accuracy", total ? cJSON_CreateNumber((double)correct / (double)total) : cJSON_CreateNull());
    return e;
}

static int run_eval_analogies(cli_opts *o, store *s, const char *path)
{
    eval_analogies_opts eo = {o->restrict_n, o->method && strcmp(o->method, "mul") == 0 ? SIM_MUL : SIM_ADD,
                              o->threads, cli_progress_fn(), NULL, o->details};
    eval_analogies_result ev;
    ev_error err = {0};
    double t0 = ev_seconds();
    if (eval_analogies(s, path, &eo, &ev, &err) != EV_OK)
        return cli_report(&err);
    double secs = ev_seconds() - t0;
    const char *mname = eo.method == SIM_MUL ? "mul" : "add";
    int code = 0;
    if (o->details) {
        code = cli_print_analogy_details(s, &ev);
    } else if (o->format == OUT_JSON) {
        cJSON *root = cJSON_CreateObject(), *secs_j;
        jsonstr_add_cstr(root, "file", path);
        cJSON_AddNumberToObject(root, "restrict", (double)ev.restrict_n);
        cJSON_AddStringToObject(root, "method", mname);
        secs_j = cJSON_AddArrayToObject(root, "sections");
        for (size_t i = 0; i < ev.n_sections; i++) {
            cJSON_AddItemToArray(secs_j, json_score(ev.sections[i].name, ev.sections[i].correct, ev.sections[i].total));
        }
        cJSON_AddItemToObject(root, "semantic", ev.has_split ? json_score(NULL, ev.sem_correct, ev.sem_total)
                                                             : cJSON_CreateNull());
        cJSON_AddItemToObject(root, "syntactic", ev.has_split ? json_score(NULL, ev.syn_correct, ev.syn_total)
                                                               : cJSON_CreateNull());
        cJSON_AddItemToObject(root, "total", json_score(NULL, ev.correct, ev.total));
        cJSON_AddNumberToObject(root, "questions", (double)ev.questions);
        cJSON_AddNumberToObject(root, "oov", (double)ev.oov);
        cJSON_AddItemToObject(root, "oov_ratio", json_double(ev.questions ? (double)ev.oov / (double)ev.questions : 0));
        jsonstr_add_list(root, "oov_words", (const char *const *)ev.oov_words, ev.n_oov_words);
        cJSON_AddNumberToObject(root, "invalid_lines", (double)ev.invalid);
        cJSON_AddNumberToObject(root, "distinct_words", (double)ev.distinct_words);
        cJSON_AddNumberToObject(root, "rechecked", (double)ev.rechecked);
        cJSON_AddNumberToObject(root, "seconds", round(secs * 1000) / 1000);
        code = cli_print_json(root);
    } else {
        printf("analogies: %s (the first %zu of %zu words, %s, case-insensitive)\n", path, ev.restrict_n,
               store_size(s), eo.method == SIM_MUL ? "3CosMul" : "3CosAdd");
        size_t width = 28;
        for (size_t i = 0; i < ev.n_sections; i++) {
            size_t w = display_width(ev.sections[i].name, strlen(ev.sections[i].name));
            width = w > width ? w : width;
        }
        printf("%-*s %7s %7s %9s\n", (int)width, "section", "correct", "total", "accuracy");
        for (size_t i = 0; i < ev.n_sections; i++)
            print_score_row(ev.sections[i].name, width, ev.sections[i].correct, ev.sections[i].total);
        if (ev.has_split) { /* questions-words' sections only */
            print_score_row("semantic (first 5 sections)", width, ev.sem_correct, ev.sem_total);
            print_score_row("syntactic (the others)", width, ev.syn_correct, ev.syn_total);
        }
        print_score_row("total", width, ev.correct, ev.total);
        printf("out of vocabulary: %zu of %zu questions skipped (%.1f%%), %zu distinct words", ev.oov, ev.questions,
               pct(ev.oov, ev.questions), ev.n_oov_words);
        for (size_t i = 0; i < ev.n_oov_words && i < 10; i++) {
            char *w = ev_quote(ev.oov_words[i], strlen(ev.oov_words[i]), 200);
            printf("%s%s", i ? ", " : ": ", w ? w : "?");
            free(w);
        }
        printf("%s\n", ev.n_oov_words > 10 ? ", …" : "");
        if (ev.invalid)
            printf("invalid lines skipped: %zu\n", ev.invalid);
        printf("elapsed: %.2f s (%zu distinct question words, %zu near-ties re-scored)\n", secs, ev.distinct_words,
               ev.rechecked);
    }
    eval_analogies_free(&ev);
    return code;
}

static int run_eval_pairs(cli_opts *o, store *s, const char *path)
{
    eval_pairs_result ev;
    ev_error err = {0};
    if (eval_pairs_ex(s, path, o->restrict_n, o->details, &ev, &err) != EV_OK)
        return cli_report(&err);
    int code = 0;
    if (o->details) {
        code = cli_print_pair_details(&ev);
    } else if (o->format == OUT_JSON) {
        cJSON *root = cJSON_CreateObject();
        jsonstr_add_cstr(root, "file", path);
        cJSON_AddNumberToObject(root, "restrict", (double)ev.restrict_n);
        cJSON_AddNumberToObject(root, "pairs", (double)ev.pairs);
        cJSON_AddItemToObject(root, "pearson", json_double(ev.pearson));
        cJSON_AddItemToObject(root, "spearman", json_double(ev.spearman));
        cJSON_AddNumberToObject(root, "oov", (double)ev.oov);
        cJSON_AddItemToObject(root, "oov_ratio", json_double(ev.oov_ratio / 100.0));
        cJSON *op = cJSON_AddArrayToObject(root, "oov_pairs");
        for (size_t i = 0; i < ev.oov; i++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddItemToArray(op, e);
            cJSON_AddNumberToObject(e, "line", (double)ev.oov_pairs[i].line);
            jsonstr_add_cstr(e, "a", ev.oov_pairs[i].a);
            jsonstr_add_cstr(e, "b", ev.oov_pairs[i].b);
        }
        cJSON_AddNumberToObject(root, "invalid_lines", (double)ev.invalid);
        code = cli_print_json(root);
    } else {
        printf("pairs: %s (the first %zu of %zu words, case-insensitive)\n", path, ev.restrict_n, store_size(s));
        printf("pairs scored  %zu\n", ev.pairs);
        printf("pearson       %.4f\n", ev.pearson);
        printf("spearman      %.4f\n", ev.spearman);
        printf("oov           %zu of %zu pairs (%.1f%%)\n", ev.oov, ev.pairs + ev.oov, ev.oov_ratio);
        for (size_t i = 0; i < ev.oov; i++) {
            char *a = ev_quote(ev.oov_pairs[i].a, strlen(ev.oov_pairs[i].a), 200);
            char *b = ev_quote(ev.oov_pairs[i].b, strlen(ev.oov_pairs[i].b), 200);
            printf("  line %zu: '%s' '%s'\n", ev.oov_pairs[i].line, a ? a : "?", b ? b : "?");
            free(a);
            free(b);
        }
        if (ev.invalid)
            printf("invalid lines skipped: %zu\n", ev.invalid);
    }
    eval_pairs_free(&ev);
    return code;
}

int cmd_eval(cli_opts *o)
{
    if (o->details && strcmp(o->pos[0], "analogies") != 0 && strcmp(o->pos[0], "pairs") != 0)
        return cli_usage_error("eval %s: --details applies to eval analogies and eval pairs only", o->pos[0]);
    if (strcmp(o->pos[0], "senses") == 0) /* eval senses [FILE]: WordNet senses in context (cli_head.c) */
        return cmd_eval_senses(o);
    if (o->head)
        return cli_usage_error("eval %s: --head applies to eval senses only (eval head takes its head as HEAD)",
                               o->pos[0]);
    if (strcmp(o->pos[0], "head") == 0) /* eval head HEAD CORPUS...: a trained attention head (cli_head.c) */
        return cmd_eval_head(o);
    if (o->npos < 2)
        return cli_usage_error("%s", "eval: expected KIND FILE, found 1 argument");
    if (o->npos != 2)
        return cli_usage_error("eval %s: expected one FILE (only eval head takes more: HEAD CORPUS...)", o->pos[0]);
    if (o->max_tokens)
        return cli_usage_error("%s", "eval: --max-tokens applies to eval head only");
    const char *kind = o->pos[0], *path = o->pos[1];
    int analogies = strcmp(kind, "analogies") == 0, pairs = strcmp(kind, "pairs") == 0;
    if (!analogies && !pairs)
        return cli_usage_error("eval: expected 'analogies' or 'pairs', found '%s'", kind);
    if (pairs && o->method)
        return cli_usage_error("%s", "eval pairs: option --method does not apply (it is for eval analogies)");
    int code = 0;
    store *s = cli_open_vectors(o, &code);
    if (!s)
        return code;
    code = analogies ? run_eval_analogies(o, s, path) : run_eval_pairs(o, s, path);
    store_close(s);
    return cli_finish_stdout(code);
}

/* ---- the helpers cli_internal.h shares with cli_query.c ------------------------------------------------------ */

lookup cli_look_up(const store *s, const char *q) { return look_up(s, q); }
void cli_note_oov(const store *s, const lookup *l) { note_oov(s, l); }
void cli_print_query(const lookup *l) { print_query(l); }
cJSON *cli_json_query(const lookup *l) { return json_query(l); }
cJSON *cli_json_float(float f) { return json_float(f); }
void cli_print_hits(const store *s, const sim_hit *h, size_t k) { print_hits(s, h, k); }
cJSON *cli_json_hits(const store *s, const sim_hit *h, size_t k) { return json_hits(s, h, k); }
size_t cli_answers_wanted(const store *s, const cli_opts *o) { return answers_wanted(s, o); }
size_t cli_restrict_rows(const store *s, size_t r) { return restrict_rows(s, r); }
void cli_prefault_matrix(const store *s, size_t rows) { prefault_matrix(s, rows); }
