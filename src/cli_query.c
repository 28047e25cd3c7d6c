/* cli_query — neighbors of several words as one query and of arbitrary vectors: `neighbors king - man + woman`,
 * `--positive`/`--negative`, `--mean`, `--method mul` (gensim most_similar / most_similar_cosmul), and
 * `--vector-in FILE|-` (gensim similar_by_vector). cmd_neighbors (cli_similarity.c) hands these lines here. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_internal.h"
#include "search.h"

static int is_op(const char *a) { return (a[0] == '+' || a[0] == '-') && a[1] == '\0'; }

int cli_neighbors_is_query(const cli_opts *o)
{
    if (o->nterms || o->mean || o->method)
        return 1;
    if (o->word_list) /* the words came from a list (- or --words): never operators */
        return 0;
    for (int i = 0; o->npos > 1 && i < o->npos; i++)
        if (is_op(o->pos[i]) && (o->words_literal_from == 0 || i < o->words_literal_from - 1))
            return 1; /* not after "--", where "-" is a word */
    return 0;
}

/* ---- several words as one query --------------------------------------------------------------------------- */

/* The words of the line in gensim's order: positives (the expression's, then --positive's), then negatives.
 * Fills words (n) and neg (n); returns their number, or -1 after a usage error (printed). */
static long collect_terms(const cli_opts *o, const char **words, unsigned char *neg)
{
    size_t n = 0;
    int sign = 0, pending = 0; /* pending: an operator waits for its word */
    for (int i = 0; i < o->npos; i++) {
        const char *a = o->pos[i];
        if (is_op(a)) {
            if (pending) {
                cli_usage_error("neighbors: expected a word after '%s', found another operator", o->pos[i - 1]);
                return -1;
            }
            sign = a[0] == '-', pending = 1;
            continue;
        }
        words[n] = a, neg[n++] = (unsigned char)sign;
        sign = 0, pending = 0;
    }
    if (pending) {
        cli_usage_error("neighbors: expected a word after the last '%s', found the end of the line",
                        o->pos[o->npos - 1]);
        return -1;
    }
    for (size_t t = 0; t < o->nterms; t++)
        words[n] = o->terms[t], neg[n++] = o->term_neg[t];
    /* stable partition: positives first (gensim's positive + negative lists) */
    const char **w2 = malloc(n * sizeof *w2 + 1);
    unsigned char *n2 = malloc(n + 1);
    if (!w2 || !n2) {
        free(w2);
        free(n2);
        fprintf(stderr, PROG ": out of memory\n");
        return -2;
    }
    size_t j = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n; i++)
            if (neg[i] == pass)
                w2[j] = words[i], n2[j++] = (unsigned char)pass;
    memcpy(words, w2, n * sizeof *w2);
    memcpy(neg, n2, n);
    free(w2);
    free(n2);
    return (long)n;
}

/* The query as text: "king - man + woman + crown" in gensim's order (positives first). */
static void print_expression(const lookup *l, const unsigned char *neg, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i || neg[i])
            fputs(neg[i] ? (i ? " - " : "- ") : " + ", stdout);
        cli_print_query(&l[i]);
    }
}

int cli_neighbors_query(cli_opts *o, store *s)
{
    if (o->vector_in)
        return cli_usage_error("%s", "neighbors: --vector-in takes no words (nor --positive, --negative, --mean)");
    size_t cap = (size_t)o->npos + o->nterms;
    const char **words = malloc(cap * sizeof *words + 1);
    unsigned char *neg = malloc(cap + 1);
    lookup *l = calloc(cap + 1, sizeof *l);
    long *rows = malloc(cap * sizeof *rows + 1);
    float *weights = malloc(cap * sizeof *weights + 1);
    sim_hit *hits = NULL;
    int code = 0;
    if (!words || !neg || !l || !rows || !weights) {
        fprintf(stderr, PROG ": out of memory\n");
        code = EV_ERR_NOMEM;
        goto out;
    }
    long nl = collect_terms(o, words, neg);
    if (nl < 0) {
        code = nl == -1 ? EV_ERR_USAGE : EV_ERR_NOMEM;
        goto out;
    }
    size_t n = (size_t)nl, npos_words = 0;
    for (size_t i = 0; i < n; i++)
        npos_words += !neg[i];
    sim_method method = o->method && strcmp(o->method, "mul") == 0 ? SIM_MUL : SIM_ADD;
    if (n == 0) {
        code = cli_usage_error("%s", "neighbors: expected WORD..., --positive or --negative, found no words");
        goto out;
    }
    if (method == SIM_MUL && npos_words == 0) { /* gensim: "cannot compute similarity with no input" */
        code = cli_usage_error("%s", "neighbors --method mul: expected at least one positive word, found none");
        goto out;
    }
    size_t k = cli_answers_wanted(s, o), found = 0;
    for (size_t i = 0; i < n; i++) {
        l[i] = cli_look_up(s, words[i]);
        rows[i] = l[i].row;
        weights[i] = neg[i] ? -1.f : 1.f;
        found += l[i].row >= 0;
    }
    int all = found == n; /* gensim raises KeyError for any word out of the vocabulary: no answer */
    hits = all ? malloc(k * sizeof *hits) : NULL;
    if (all && !hits) {
        fprintf(stderr, PROG ": out of memory for %zu answers\n", k);
        code = EV_ERR_NOMEM;
        goto out;
    }
    ev_error err = {0};
    if (all) {
        cli_prefault_matrix(s, cli_restrict_rows(s, o->restrict_n));
        if (sim_most_similar(s, rows, weights, n, method, k, o->restrict_n, hits, &err) != EV_OK) {
            code = cli_report(&err);
            goto out;
        }
    }
    if ((o->format == OUT_JSON || o->format == OUT_TSV)) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "method", method == SIM_MUL ? "mul" : "add");
        cJSON_AddNumberToObject(root, "k", (double)k);
        cJSON_AddNumberToObject(root, "restrict", (double)cli_restrict_rows(s, o->restrict_n));
        cJSON *p = cJSON_AddArrayToObject(root, "positive"), *q = cJSON_AddArrayToObject(root, "negative");
        for (size_t i = 0; i < n; i++)
            cJSON_AddItemToArray(neg[i] ? q : p, cli_json_query(&l[i]));
        cJSON_AddItemToObject(root, "results", all ? cli_json_hits(s, hits, k) : cJSON_CreateArray());
        code = cli_print_doc(o, root, "results");
    } else {
        for (size_t i = 0; i < n; i++)
            if (l[i].row < 0)
                cli_note_oov(s, &l[i]);
        if (all) {
            print_expression(l, neg, n);
            printf("  (%s)\n", method == SIM_MUL ? "3CosMul" : "3CosAdd");
            cli_print_hits(s, hits, k);
        }
    }
    if (!code && !all)
        code = EV_ERR_NOTFOUND;
out:
    free(words);
    free(neg);
    free(l);
    free(rows);
    free(weights);
    free(hits);
    return code;
}

/* ---- vectors from a file or stdin ------------------------------------------------------------------------ */

/* One line of --vector-in: d numbers, as text (separated by spaces, tabs or commas) or as a JSON array. Each is
 * read as a double and rounded to float32 (numpy's float32 of a float64 array). Returns 0, or 1 after printing
 * the error (path:line, expected vs found). A blank line returns 2 (skipped). */
static int parse_vector_line(char *line, size_t len, size_t d, float *v, const char *path, size_t lineno)
{
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        line[--len] = '\0';
    char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    if (!*p)
        return 2;
    size_t n = 0;
    if (*p == '[') {
        cJSON *a = cJSON_ParseWithLength(p, len - (size_t)(p - line));
        if (!a || !cJSON_IsArray(a)) {
            cJSON_Delete(a);
            fprintf(stderr, PROG ": %s:%zu: expected a JSON array of %zu numbers, found malformed JSON\n", path,
                    lineno, d);
            return 1;
        }
        const cJSON *e;
        cJSON_ArrayForEach(e, a) {
            if (!cJSON_IsNumber(e) || !isfinite((float)e->valuedouble)) {
                fprintf(stderr, PROG ": %s:%zu: expected finite float32 numbers, found %s at position %zu\n", path,
                        lineno, cJSON_IsNumber(e) ? "a value out of range" : "a non-number", n + 1);
                cJSON_Delete(a);
                return 1;
            }
            if (n < d)
                v[n] = (float)e->valuedouble;
            n++;
        }
        cJSON_Delete(a);
    } else {
        while (*p) {
            char *end;
            errno = 0;
            double x = strtod(p, &end);
            if (end == p || !isfinite((float)x) || (*end && *end != ' ' && *end != '\t' && *end != ',')) {
                char *q = ev_quote(p, strcspn(p, " \t,"), 30);
                fprintf(stderr, PROG ": %s:%zu: expected a %snumber at value %zu, found '%s'\n", path, lineno,
                        end != p && !isfinite((float)x) ? "finite float32 " : "", n + 1, q ? q : "?");
                free(q);
                return 1;
            }
            if (n < d)
                v[n] = (float)x;
            n++;
            p = end;
            while (*p == ' ' || *p == '\t' || *p == ',')
                p++;
        }
    }
    if (n != d) {
        fprintf(stderr, PROG ": %s:%zu: expected %zu numbers (the vectors' dimension), found %zu\n", path, lineno, d, n);
        return 1;
    }
    return 0;
}

int cli_neighbors_vectors(cli_opts *o, store *s)
{
    if (o->npos || o->nterms || o->mean || o->method)
        return cli_usage_error("%s", "neighbors: --vector-in takes no words (nor --positive, --negative, --mean, "
                                     "--method)");
    int code = 0, from_stdin = strcmp(o->vector_in, "-") == 0;
    const char *path = from_stdin ? "<stdin>" : o->vector_in;
    FILE *f = from_stdin ? stdin : fopen(o->vector_in, "r");
    if (!f) {
        fprintf(stderr, PROG ": %s: cannot open: %s\n", path, strerror(errno));
        return EV_ERR_IO;
    }
    float *Q = NULL;
    size_t *lines = NULL, m = 0, cap = 0, lineno = 0;
    sim_hit *hits = NULL;
    char *line = NULL;
    size_t lcap = 0;
    size_t d = store_dim(s), k = cli_answers_wanted(s, o);
    ssize_t len;
    while ((len = getline(&line, &lcap, f)) >= 0) {
        lineno++;
        if (m == cap) {
            size_t nc = cap ? 2 * cap : 16;
            float *q2 = nc <= SIZE_MAX / sizeof *Q / d ? realloc(Q, nc * d * sizeof *Q) : NULL;
            if (q2)
                Q = q2;
            size_t *l2 = q2 ? realloc(lines, nc * sizeof *lines) : NULL;
            if (l2)
                lines = l2;
            if (!q2 || !l2) {
                fprintf(stderr, PROG ": out of memory for %zu vectors\n", nc);
                code = EV_ERR_NOMEM;
                goto out;
            }
            cap = nc;
        }
        int r = parse_vector_line(line, (size_t)len, d, Q + m * d, path, lineno);
        if (r == 1) {
            code = EV_ERR_FORMAT;
            goto out;
        }
        if (r == 0)
            lines[m++] = lineno;
    }
    if (ferror(f)) {
        fprintf(stderr, PROG ": %s: read error after line %zu: %s\n", path, lineno, strerror(errno));
        code = EV_ERR_IO;
        goto out;
    }
    if (m == 0) {
        fprintf(stderr, PROG ": %s: expected vectors of %zu numbers, one a line, found none\n", path, d);
        code = EV_ERR_FORMAT;
        goto out;
    }
    hits = k <= SIZE_MAX / sizeof *hits / m ? malloc(m * k * sizeof *hits) : NULL;
    if (!hits) {
        fprintf(stderr, PROG ": out of memory for %zu vectors × %zu neighbours\n", m, k);
        code = EV_ERR_NOMEM;
        goto out;
    }
    ev_error err = {0};
    cli_prefault_matrix(s, cli_restrict_rows(s, o->restrict_n));
    if (sim_topk(s, Q, m, k, o->restrict_n, NULL, 0, hits, &err) != EV_OK) {
        code = cli_report(&err);
        goto out;
    }
    if ((o->format == OUT_JSON || o->format == OUT_TSV)) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddNumberToObject(root, "k", (double)k);
        cJSON_AddNumberToObject(root, "restrict", (double)cli_restrict_rows(s, o->restrict_n));
        cJSON *res = cJSON_AddArrayToObject(root, "results");
        for (size_t i = 0; i < m; i++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddItemToArray(res, e);
            cJSON_AddNumberToObject(e, "line", (double)lines[i]);
            cJSON_AddItemToObject(e, "neighbors", cli_json_hits(s, hits + i * k, k));
        }
        code = cli_print_doc(o, root, "results");
    } else {
        for (size_t i = 0; i < m; i++) {
            printf("%svector of line %zu\n", i ? "\n" : "", lines[i]);
            cli_print_hits(s, hits + i * k, k);
        }
    }
out:
    if (f && !from_stdin)
        fclose(f);
    free(line);
    free(Q);
    free(lines);
    free(hits);
    return code;
}
