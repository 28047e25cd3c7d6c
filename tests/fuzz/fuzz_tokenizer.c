/* fuzz_tokenizer — tok_tokenize on arbitrary bytes, against a tiny store and without one. Checks: failures carry a
 * status and message; tokens have increasing, non-overlapping, non-empty spans inside the sentence; every byte
 * between tokens is a separator (nothing is dropped); texts are NUL-terminated and no longer than their spans
 * (plus the 3-byte ’ kept whole); lookup status, row and fallback agree; n_known counts the rows. */
#include "fuzz_common.h"
#include "tokenizer.h"

/* The separators of tokenizer.h rule 1. */
static int is_separator(unsigned cp)
{
    return cp <= 0x20 || (cp >= 0x7F && cp <= 0xA0) || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200B) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000 || cp == 0xFEFF;
}

/* Decodes valid UTF-8 at p[i] (the tokenizer accepted the sentence). */
static unsigned decode(const unsigned char *p, size_t i, size_t *len)
{
    unsigned c = p[i];
    if (c < 0x80)
        return *len = 1, c;
    if (c < 0xE0)
        return *len = 2, ((c & 0x1Fu) << 6) | (p[i + 1] & 0x3Fu);
    if (c < 0xF0)
        return *len = 3, ((c & 0x0Fu) << 12) | ((p[i + 1] & 0x3Fu) << 6) | (p[i + 2] & 0x3Fu);
    return *len = 4, ((c & 0x07u) << 18) | ((p[i + 1] & 0x3Fu) << 12) | ((p[i + 2] & 0x3Fu) << 6) | (p[i + 3] & 0x3Fu);
}

static void check_gap(const unsigned char *p, size_t b, size_t e)
{
    for (size_t i = b; i < e;) {
        size_t l;
        unsigned cp = decode(p, i, &l);
        FUZZ_CHECK(is_separator(cp), "byte %zu (U+%04X) between tokens is not a separator: dropped", i, cp);
        i += l;
    }
}

static void run(const store *s, const uint8_t *data, size_t size)
{
    tok_sentence t;
    ev_error err = {0};
    ev_status st = tok_tokenize(s, (const char *)data, size, &t, &err);
    if (st != EV_OK) {
        fuzz_check_error(st, &err, "tok_tokenize");
        FUZZ_CHECK(t.tokens == NULL && t.n == 0, "tokens left on failure");
        ev_error_clear(&err);
        return;
    }
    FUZZ_CHECK(t.n >= 1 && t.n <= TOK_MAX_TOKENS, "%zu tokens", t.n);
    size_t prev_end = 0, known = 0, V = s ? store_size(s) : 0;
    for (size_t i = 0; i < t.n; i++) {
        const tok_token *k = &t.tokens[i];
        FUZZ_CHECK(k->begin < k->end && k->end <= size, "token %zu span [%zu, %zu) in %zu bytes", i, k->begin, k->end,
                   size);
        FUZZ_CHECK(k->begin >= prev_end, "token %zu overlaps the one before", i);
        check_gap(data, prev_end, k->begin);
        prev_end = k->end;
        FUZZ_CHECK(k->text && k->len >= 1 && k->text[k->len] == '\0', "token %zu text", i);
        FUZZ_CHECK(k->len <= k->end - k->begin, "token %zu text longer than its span", i);
        FUZZ_CHECK(memchr(k->text, '\0', k->len) == NULL, "token %zu text holds a NUL", i);
        switch (k->status) {
        case TOK_EXACT:
        case TOK_LOWER:
            FUZZ_CHECK(k->row >= 0 && (size_t)k->row < V && !k->fallback, "token %zu: found but row %ld", i, k->row);
            break;
        case TOK_FALLBACK:
            FUZZ_CHECK(k->row >= 0 && (size_t)k->row < V && k->fallback && k->fallback[0], "token %zu fallback", i);
            break;
        case TOK_OOV: FUZZ_CHECK(k->row == -1 && !k->fallback, "token %zu: oov with row %ld", i, k->row); break;
        default: FUZZ_CHECK(0, "token %zu: status %d", i, (int)k->status);
        }
        if (k->status == TOK_EXACT) {
            size_t wl;
            const char *w = store_word(s, (size_t)k->row, &wl);
            FUZZ_CHECK(wl == k->len && memcmp(w, k->text, wl) == 0, "token %zu: exact match is another word", i);
        }
        known += k->row >= 0;
    }
    check_gap(data, prev_end, size);
    FUZZ_CHECK(known == t.n_known, "n_known %zu, counted %zu", t.n_known, known);
    if (s) {
        size_t d = store_dim(s);
        float *X = malloc(t.n * d * sizeof *X);
        unsigned char *mask = malloc(t.n);
        FUZZ_CHECK(X && mask, "out of memory");
        tok_vectors(s, &t, X, mask);
        for (size_t i = 0; i < t.n; i++)
            FUZZ_CHECK(mask[i] == (t.tokens[i].row < 0), "mask %zu", i);
        free(X);
        free(mask);
    }
    tok_free(&t);
    tok_free(&t); /* idempotent */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static store *s;
    if (!s)
        s = fuzz_tiny_store(4);
    run(s, data, size);
    run(NULL, data, size);
    return 0;
}
