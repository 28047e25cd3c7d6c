/* eval_vocab — the evaluations' words as keys (upper-cased as gensim compares them) and the row of each, resolved
 * as gensim's ok_vocab: a hash set of the keys, filled while a file is read, then one scan of the considered rows.
 * See include/eval_vocab.h. Shared by eval_analogies.c and eval_pairs.c, which is why it is a file of its own.
 */
#include "eval_vocab.h"

#include <stdlib.h>
#include <string.h>

#include "pytext.h"

/* The index of key w, -1 when it is not there. */
static long find(const eval_vocab *v, const char *w, size_t n)
{
    if (!v->slot)
        return -1;
    for (size_t h = (size_t)store_hash(w, n) & v->mask;; h = (h + 1) & v->mask) {
        uint32_t e = v->slot[h];
        if (e == 0)
            return -1;
        if (v->len[e - 1] == n && memcmp(v->str[e - 1], w, n) == 0)
            return (long)(e - 1);
    }
}

/* The index of key w (added when new); -1 when out of memory. */
static long add_key(eval_vocab *v, const char *w, size_t n)
{
    long f = find(v, w, n);
    if (f >= 0)
        return f;
    if (v->n + 1 > v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 256;
        char **str = realloc(v->str, cap * sizeof *str);
        if (str)
            v->str = str;
        size_t *len = realloc(v->len, cap * sizeof *len);
        if (len)
            v->len = len;
        long *row = realloc(v->row, cap * sizeof *row);
        if (row)
            v->row = row;
        uint32_t *slot = calloc(2 * cap, sizeof *slot);
        if (!str || !len || !row || !slot || cap > UINT32_MAX / 2) {
            free(slot);
            return -1;
        }
        free(v->slot);
        v->slot = slot;
        v->mask = 2 * cap - 1;
        v->cap = cap;
        for (size_t i = 0; i < v->n; i++) {
            size_t h = (size_t)store_hash(v->str[i], v->len[i]) & v->mask;
            while (v->slot[h])
                h = (h + 1) & v->mask;
            v->slot[h] = (uint32_t)(i + 1);
        }
    }
    char *copy = malloc(n + 1);
    if (!copy)
        return -1;
    memcpy(copy, w, n);
    copy[n] = '\0';
    size_t h = (size_t)store_hash(w, n) & v->mask;
    while (v->slot[h])
        h = (h + 1) & v->mask;
    v->slot[h] = (uint32_t)(v->n + 1);
    v->str[v->n] = copy;
    v->len[v->n] = n;
    v->row[v->n] = -1;
    return (long)v->n++;
}

long eval_vocab_add(eval_vocab *v, const char *w, size_t n)
{
    size_t ul;
    char *u = pytext_upper(w, n, &ul);
    long id = u ? add_key(v, u, ul) : -1;
    free(u);
    return id;
}

/* str.upper() of the word of row r (length in *ul): in buf (UPPER_BUF bytes) when it fits, else in a malloc'd *big
 * that the caller frees; NULL when out of memory. */
#define UPPER_BUF 1024
static const char *row_upper(const store *s, size_t r, char *buf, char **big, size_t *ul)
{
    size_t wl;
    const char *w = store_word(s, r, &wl);
    *big = NULL;
    *ul = pytext_upper_into(w, wl, buf, UPPER_BUF);
    if (*ul != (size_t)-1)
        return buf;
    return *big = pytext_upper(w, wl, ul);
}

ev_status eval_vocab_resolve(eval_vocab *v, const store *s, size_t R, ev_error *err)
{
    size_t left = v->n;
    char buf[UPPER_BUF];
    for (size_t r = 0; r < R && left; r++) {
        size_t ul;
        char *big;
        const char *u = row_upper(s, r, buf, &big, &ul);
        if (!u)
            return ev_fail(err, EV_ERR_NOMEM, "out of memory upper-casing the vocabulary");
        long id = find(v, u, ul);
        free(big);
        if (id >= 0 && v->row[id] < 0) {
            v->row[id] = (long)r;
            left--;
        }
    }
    return EV_OK;
}

int eval_vocab_row_is(const eval_vocab *v, const store *s, long row, long i)
{
    size_t ul;
    char buf[UPPER_BUF], *big;
    const char *u = row_upper(s, (size_t)row, buf, &big, &ul);
    int eq = u && ul == v->len[i] && memcmp(u, v->str[i], ul) == 0;
    free(big);
    return eq;
}

void eval_vocab_free(eval_vocab *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++)
        free(v->str[i]);
    free(v->str);
    free(v->len);
    free(v->row);
    free(v->slot);
    memset(v, 0, sizeof *v);
}
