/* cli_tsv — `--format tsv` for the word commands: their JSON document flattened to tab-separated rows with a header
 * row whose columns are the JSON keys, so that a table needs no jq.
 *
 * Rows: each element of the document's row array (results, ranking) is a row — or, when it holds an array of
 * objects (neighbors), one row per item of that array, the element's own keys repeated, a `rank` column (1-based)
 * and the item's keys as `NAME.KEY` (`neighbors.word`, `neighbors.score`); an element whose array is empty (a word
 * out of the vocabulary) still gets one row, those columns empty, so that rows stay aligned with the input. An array
 * of numbers becomes the columns `NAME.1` … `NAME.n` (`vector.1`…). A document without a row array (similarity) is
 * one row, its arrays of objects flattened by position (`inputs.1.query`). Columns are the union of the keys in
 * order of first appearance; a missing or null value is an empty field. Tabs, newlines, carriage returns and
 * backslashes in strings are written as \t, \n, \r and \\. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_internal.h"

/* The header: distinct column names in order of first appearance. */
typedef struct {
    char **name;
    size_t n, cap;
} columns;

static long col_find(const columns *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->name[i], name) == 0)
            return (long)i;
    return -1;
}

/* Adds name (a new malloc'd copy) unless present; returns its index, -1 when out of memory. */
static long col_add(columns *c, const char *name)
{
    long i = col_find(c, name);
    if (i >= 0)
        return i;
    if (c->n == c->cap) {
        size_t nc = c->cap ? 2 * c->cap : 16;
        char **nn = realloc(c->name, nc * sizeof *nn);
        if (!nn)
            return -1;
        c->name = nn, c->cap = nc;
    }
    char *s = ev_strdup_printf("%s", name);
    if (!s)
        return -1;
    c->name[c->n] = s;
    return (long)c->n++;
}

static void col_free(columns *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->name[i]);
    free(c->name);
}

/* The first array of objects among o's members (the nested list of a row), or NULL. */
static const cJSON *nested_list(const cJSON *o)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, o) {
        if (cJSON_IsArray(m) && cJSON_GetArraySize(m) > 0 && cJSON_IsObject(cJSON_GetArrayItem(m, 0)))
            return m;
        if (cJSON_IsArray(m) && cJSON_GetArraySize(m) == 0 && strcmp(m->string, "neighbors") == 0)
            return m; /* an empty neighbour list: still the row's nested list */
    }
    return NULL;
}

/* One field: a value set for a column of the current row (borrowed). */
typedef struct {
    const cJSON **v; /* (ncols) per column, NULL: empty */
    size_t cap;
    long rank;       /* the rank column's value (0: empty) */
} rowvals;

/* Visits the scalar members of o, with the prefix ("" or "neighbors."), arrays of numbers as NAME.i; in `collect`
 * mode adds the column names, else records the values. Arrays of objects are skipped (nested_list's job), except
 * in flat mode (a document that is its own row), where they are flattened by position. */
static int visit(const cJSON *o, const char *prefix, int flat, columns *c, rowvals *r, int collect)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, o) {
        char *name = ev_strdup_printf("%s%s", prefix, m->string ? m->string : "");
        if (!name)
            return -1;
        int rc = 0;
        if (cJSON_IsArray(m)) {
            const cJSON *x;
            size_t i = 0;
            cJSON_ArrayForEach(x, m) {
                i++;
                char *sub = ev_strdup_printf("%s.%zu", name, i);
                if (!sub) {
                    rc = -1;
                    break;
                }
                if (cJSON_IsObject(x)) {
                    if (flat) {
                        char *pre = ev_strdup_printf("%s.", sub);
                        rc = pre ? visit(x, pre, flat, c, r, collect) : -1;
                        free(pre);
                    }
                } else if (collect) {
                    rc = col_add(c, sub) < 0 ? -1 : 0;
                } else {
                    long k = col_find(c, sub);
                    if (k >= 0)
                        r->v[k] = x;
                }
                free(sub);
                if (rc)
                    break;
            }
        } else if (!cJSON_IsObject(m)) {
            if (collect) {
                rc = col_add(c, name) < 0 ? -1 : 0;
            } else {
                long k = col_find(c, name);
                if (k >= 0)
                    r->v[k] = m;
            }
        }
        free(name);
        if (rc)
            return rc;
    }
    return 0;
}

static void put_string(const char *s)
{
    for (; *s; s++) {
        const char *e = *s == '\t' ? "\\t" : *s == '\n' ? "\\n" : *s == '\r' ? "\\r" : *s == '\\' ? "\\\\" : NULL;
        if (e)
            fputs(e, stdout);
        else
            putchar(*s);
    }
}

static void put_value(const cJSON *v)
{
    if (!v || cJSON_IsNull(v))
        return;
    if (cJSON_IsString(v))
        put_string(v->valuestring);
    else if (cJSON_IsRaw(v))
        fputs(v->valuestring, stdout);
    else if (cJSON_IsBool(v))
        fputs(cJSON_IsTrue(v) ? "true" : "false", stdout);
    else if (cJSON_IsNumber(v)) {
        char *t = cJSON_PrintUnformatted(v);
        if (t)
            fputs(t, stdout);
        free(t);
    }
}

static void put_row(const columns *c, const rowvals *r, long rank_col)
{
    for (size_t i = 0; i < c->n; i++) {
        if (i)
            putchar('\t');
        if ((long)i == rank_col) {
            if (r->rank > 0)
                printf("%ld", r->rank);
        } else {
            put_value(r->v[i]);
        }
    }
    putchar('\n');
}

/* Walks the rows: collect = 1 gathers the columns, 0 prints each row. */
static int walk(const cJSON *rows, columns *c, rowvals *r, long *rank_col, int collect)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, rows) {
        const cJSON *nest = cJSON_IsObject(e) ? nested_list(e) : NULL;
        if (!collect)
            memset(r->v, 0, c->n * sizeof *r->v), r->rank = 0;
        if (visit(e, "", 0, c, r, collect))
            return -1;
        if (!nest) {
            if (!collect)
                put_row(c, r, -1);
            continue;
        }
        char *pre = ev_strdup_printf("%s.", nest->string);
        if (!pre)
            return -1;
        if (collect && (*rank_col = col_add(c, "rank")) < 0) {
            free(pre);
            return -1;
        }
        const cJSON *x;
        long rank = 0;
        cJSON_ArrayForEach(x, nest) {
            rank++;
            if (!collect) {
                for (size_t i = 0; i < c->n; i++) /* the previous item's nested values */
                    if (strncmp(c->name[i], pre, strlen(pre)) == 0)
                        r->v[i] = NULL;
                r->rank = rank;
            }
            if (visit(x, pre, 0, c, r, collect)) {
                free(pre);
                return -1;
            }
            if (!collect)
                put_row(c, r, *rank_col);
        }
        if (!collect && rank == 0)
            put_row(c, r, *rank_col); /* an empty list keeps its row */
        free(pre);
    }
    return 0;
}

int cli_print_tsv(cJSON *root, const char *rows_key)
{
    columns c = {0};
    rowvals r = {0};
    long rank_col = -1;
    int code = 0;
    const cJSON *rows = rows_key ? cJSON_GetObjectItemCaseSensitive(root, rows_key) : NULL;
    cJSON *single = NULL;
    if (!rows_key) { /* the document is its one row */
        single = cJSON_CreateArray();
        if (single)
            cJSON_AddItemReferenceToArray(single, root);
        rows = single;
    }
    if (!root || !rows) {
        code = EV_ERR_NOMEM;
        goto out;
    }
    if (!rows_key) { /* flat: arrays of objects by position */
        if (visit(root, "", 1, &c, &r, 1)) {
            code = EV_ERR_NOMEM;
            goto out;
        }
        r.v = calloc(c.n + 1, sizeof *r.v);
        if (!r.v || visit(root, "", 1, &c, &r, 0)) {
            code = EV_ERR_NOMEM;
            goto out;
        }
    } else if (walk(rows, &c, &r, &rank_col, 1) || !(r.v = calloc(c.n + 1, sizeof *r.v))) {
        code = EV_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < c.n; i++) {
        if (i)
            putchar('\t');
        put_string(c.name[i]);
    }
    putchar('\n');
    if (!rows_key)
        put_row(&c, &r, -1);
    else if (walk(rows, &c, &r, &rank_col, 0))
        code = EV_ERR_NOMEM;
out:
    if (code)
        fprintf(stderr, PROG ": out of memory building the TSV output\n");
    free(r.v);
    col_free(&c);
    cJSON_Delete(single);
    cJSON_Delete(root);
    return code;
}

int cli_print_doc(const cli_opts *o, cJSON *root, const char *rows_key)
{
    return o->format == OUT_TSV ? cli_print_tsv(root, rows_key) : cli_print_json(root);
}
