/* tokenizer — PTB-style splitting with byte spans, lookup and fallbacks. The rules are in tokenizer.h. */
#include "tokenizer.h"

#include <stdlib.h>
#include <string.h>

/* ---- UTF-8 ----------------------------------------------------------------------------------------------- */

/* Checks that p[0..n) is well-formed UTF-8 without NUL bytes (RFC 3629: no overlong forms, no surrogates, nothing
 * above U+10FFFF). */
static ev_status check_utf8(const unsigned char *p, size_t n, ev_error *err)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        if (c == 0)
            return ev_fail(err, EV_ERR_FORMAT, "sentence byte %zu: NUL byte, expected text", i);
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0)
                lo = 0xA0; /* overlong */
            if (c == 0xED)
                hi = 0x9F; /* UTF-16 surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0)
                lo = 0x90; /* overlong */
            if (c == 0xF4)
                hi = 0x8F; /* above U+10FFFF */
        } else {
            return ev_fail(err, EV_ERR_FORMAT, "sentence byte %zu: invalid UTF-8: %s 0x%02x", i,
                           c < 0xC0 ? "unexpected continuation byte" : "byte never used in UTF-8", c);
        }
        for (size_t k = 1; k < len; k++) {
            if (i + k >= n)
                return ev_fail(err, EV_ERR_FORMAT,
                               "sentence byte %zu: invalid UTF-8: %zu-byte sequence starting with 0x%02x is cut off "
                               "by the end of the sentence",
                               i, len, c);
            unsigned b = p[i + k];
            if (b < (k == 1 ? lo : 0x80u) || b > (k == 1 ? hi : 0xBFu))
                return ev_fail(err, EV_ERR_FORMAT,
                               "sentence byte %zu: invalid UTF-8: byte 0x%02x cannot follow 0x%02x (sequence starting "
                               "at byte %zu)",
                               i + k, b, p[i + k - 1], i);
        }
        i += len;
    }
    return EV_OK;
}

/* Code point at p[i] of valid UTF-8; its byte length in *len. */
static unsigned decode(const unsigned char *p, size_t i, size_t *len)
{
    unsigned c = p[i];
    if (c < 0x80) {
        *len = 1;
        return c;
    }
    if (c < 0xE0) {
        *len = 2;
        return ((c & 0x1Fu) << 6) | (p[i + 1] & 0x3Fu);
    }
    if (c < 0xF0) {
        *len = 3;
        return ((c & 0x0Fu) << 12) | ((p[i + 1] & 0x3Fu) << 6) | (p[i + 2] & 0x3Fu);
    }
    *len = 4;
    return ((c & 0x07u) << 18) | ((p[i + 1] & 0x3Fu) << 12) | ((p[i + 2] & 0x3Fu) << 6) | (p[i + 3] & 0x3Fu);
}

/* ---- character classes ----------------------------------------------------------------------------------- */

enum { C_SPACE, C_WORD, C_APOS, C_HYPHEN, C_PERIOD, C_COMMA, C_PUNCT };

static int is_ascii_alnum(unsigned c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_ascii_digit(unsigned c) { return c >= '0' && c <= '9'; }

/* Non-ASCII punctuation and symbols that are tokens of their own (the common blocks; not all of Unicode's P and S
 * categories, but every script's letters stay word characters). */
static int is_punct_cp(unsigned cp)
{
    if (cp >= 0xA1 && cp <= 0xBF) /* ¡ ¢ £ ¤ ¥ ¦ § ¨ © « ¬ ® ¯ ° ± ´ ¶ · ¸ » ¿, not ª ² ³ µ ¹ º ¼ ½ ¾ */
        return !(cp == 0xAA || cp == 0xB2 || cp == 0xB3 || cp == 0xB5 || cp == 0xB9 || cp == 0xBA ||
                 (cp >= 0xBC && cp <= 0xBE));
    if (cp == 0xD7 || cp == 0xF7) /* × ÷ */
        return 1;
    if (cp == 0x37E || cp == 0x387 || (cp >= 0x55A && cp <= 0x55F) || cp == 0x589 || cp == 0x5BE ||
        cp == 0x5C0 || cp == 0x5C3 || cp == 0x5F3 || cp == 0x5F4 || cp == 0x60C || cp == 0x61B || cp == 0x61F ||
        (cp >= 0x66A && cp <= 0x66D) || cp == 0x6D4 || cp == 0x964 || cp == 0x965)
        return 1; /* Greek, Armenian, Hebrew, Arabic, Devanagari punctuation */
    if ((cp >= 0x2012 && cp <= 0x2027) || (cp >= 0x2030 && cp <= 0x205E))
        return 1; /* dashes, quotes, bullets, ellipsis, ‰ ′ ″ ‹ › ‼ ⁇ … (U+2010/2011 are hyphens) */
    if ((cp >= 0x20A0 && cp <= 0x20CF) || (cp >= 0x2100 && cp <= 0x214F) || (cp >= 0x2190 && cp <= 0x2BFF))
        return 1; /* currency, letterlike (™ ℃ №), arrows, math, technical, box drawing, shapes, dingbats */
    if (cp >= 0x2E00 && cp <= 0x2E7F)
        return 1; /* supplemental punctuation */
    if ((cp >= 0x3001 && cp <= 0x3003) || (cp >= 0x3008 && cp <= 0x3011) || (cp >= 0x3014 && cp <= 0x301F) ||
        cp == 0x30FB)
        return 1; /* CJK punctuation: 、 。 〃 〈 〉 《 》 「 」 『 』 【 】 ・ */
    if ((cp >= 0xFE10 && cp <= 0xFE1F) || (cp >= 0xFE30 && cp <= 0xFE6F) || (cp >= 0xFF01 && cp <= 0xFF0F) ||
        (cp >= 0xFF1A && cp <= 0xFF20) || (cp >= 0xFF3B && cp <= 0xFF40) || (cp >= 0xFF5B && cp <= 0xFF65) ||
        (cp >= 0xFFE0 && cp <= 0xFFEE))
        return 1; /* vertical, small and fullwidth forms */
    if (cp >= 0x1F000 && cp <= 0x1FAFF)
        return 1; /* mahjong, cards, emoji, pictographs */
    return 0;
}

static int classify(unsigned cp)
{
    if (cp < 0x80) {
        if (cp <= 0x20 || cp == 0x7F)
            return C_SPACE;
        if (is_ascii_alnum(cp))
            return C_WORD;
        switch (cp) {
        case '\'': return C_APOS;
        case '-': return C_HYPHEN;
        case '.': return C_PERIOD;
        case ',': return C_COMMA;
        default: return C_PUNCT;
        }
    }
    if (cp < 0xA1 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200B) || cp == 0x2028 || cp == 0x2029 ||
        cp == 0x202F || cp == 0x205F || cp == 0x3000 || cp == 0xFEFF)
        return C_SPACE; /* C1 controls, NBSP, Unicode spaces, zero-width space, BOM */
    if (cp == 0x2019)
        return C_APOS; /* ’ */
    if (cp == 0x2010 || cp == 0x2011)
        return C_HYPHEN;
    return is_punct_cp(cp) ? C_PUNCT : C_WORD;
}

/* Marks that belong to the symbol before them: variation selectors, emoji skin tones, the keycap mark. */
static int is_symbol_modifier(unsigned cp)
{
    return (cp >= 0xFE00 && cp <= 0xFE0F) || (cp >= 0x1F3FB && cp <= 0x1F3FF) || cp == 0x20E3;
}

/* ---- the tokenizer's working state ----------------------------------------------------------------------- */

typedef struct {
    size_t b, e;
} span;

/* A compound: word runs (pieces) joined by connectors; connector i sits between piece i and piece i+1. */
typedef struct {
    span *piece;   /* (np) */
    span *conn;    /* (np - 1) byte spans of the connectors */
    int *kind;     /* (np - 1) C_APOS / C_HYPHEN / C_PERIOD / C_COMMA */
    size_t np, cap;
    int trail;     /* 1: the abbreviation period [trail_b, trail_b + 1) belongs to the last piece */
    size_t trail_b;
} compound;

typedef struct {
    const store *s;
    const unsigned char *p; /* the sentence */
    size_t n;
    tok_token *tok;         /* (ntok) of cap */
    size_t ntok, cap;
    char *pool;             /* texts; capacity is enough for every token text and derived fallback (see below) */
    size_t pool_used, pool_cap;
    char *scratch;          /* (n + 1) a compound's normalised text */
    compound k;
    ev_error *err;
} ctx;

/* Copies p[b..e) into dst with ’ → ' and U+2010/U+2011 → -; returns the length written (never more than e - b). */
static size_t norm_copy(const unsigned char *p, size_t b, size_t e, char *dst)
{
    size_t o = 0;
    for (size_t i = b; i < e;) {
        if (p[i] == 0xE2 && i + 2 < e && p[i + 1] == 0x80 &&
            (p[i + 2] == 0x99 || p[i + 2] == 0x90 || p[i + 2] == 0x91)) {
            dst[o++] = p[i + 2] == 0x99 ? '\'' : '-';
            i += 3;
        } else {
            dst[o++] = (char)p[i++];
        }
    }
    return o;
}

static long lookup(const store *s, const char *w, size_t n, store_match *m)
{
    if (!s) {
        *m = STORE_OOV;
        return -1;
    }
    return store_lookup(s, w, n, m);
}

/* ---- fallbacks ------------------------------------------------------------------------------------------- */

typedef struct {
    const char *tok;
    const char *repl[3];
} fallback_rule;

static const fallback_rule FALLBACKS[] = {
    {"n't", {"not"}},
    {"'re", {"are"}},
    {"'m", {"am"}},
    {"'ll", {"will"}},
    {"'ve", {"have"}},
    {"'d", {"would"}},
    {"``", {"\""}},
    {"''", {"\""}},
    {"\xe2\x80\x9c", {"\""}},                    /* “ */
    {"\xe2\x80\x9d", {"\""}},                    /* ” */
    {"\xe2\x80\x9e", {"\""}},                    /* „ */
    {"\xc2\xab", {"\""}},                        /* « */
    {"\xc2\xbb", {"\""}},                        /* » */
    {"\xe2\x80\x98", {"'"}},                     /* ‘ */
    {"\xe2\x80\x99", {"'"}},                     /* ’ */
    {"\xe2\x80\x9a", {"'"}},                     /* ‚ */
    {"\xe2\x80\xb9", {"'"}},                     /* ‹ */
    {"\xe2\x80\xba", {"'"}},                     /* › */
    {"\xe2\x80\x93", {"-"}},                     /* – */
    {"\xe2\x80\x94", {"--", "-"}},               /* — */
    {"\xe2\x80\xa6", {"..."}},                   /* … */
    {"(", {"-lrb-"}},
    {")", {"-rrb-"}},
    {"[", {"-lsb-"}},
    {"]", {"-rsb-"}},
    {"{", {"-lcb-"}},
    {"}", {"-rcb-"}},
};

static const char *const PERIOD_RUN[] = {"...", "\xe2\x80\xa6", NULL};     /* .. ... .... → ... then … */
static const char *const DASH_RUN[] = {"--", "\xe2\x80\x94", "-", NULL};   /* -- --- → -- then — then - */

static int all_same(const char *w, size_t n, char c)
{
    for (size_t i = 0; i < n; i++)
        if (w[i] != c)
            return 0;
    return 1;
}

/* Finds a replacement for the OOV token w[0..n). On success sets *row and returns the replacement (static, or
 * written into the pool for the abbreviation rule); NULL when none. */
static const char *find_fallback(ctx *c, const char *w, size_t n, long *row)
{
    store_match m;
    if (!c->s || n == 0)
        return NULL;
    const char *const *cands = NULL;
    if (n >= 2 && all_same(w, n, '.')) {
        cands = PERIOD_RUN;
    } else if (n >= 2 && all_same(w, n, '-')) {
        cands = DASH_RUN;
    } else if (n <= 8) {
        char low[9];
        for (size_t i = 0; i < n; i++)
            low[i] = (char)(w[i] >= 'A' && w[i] <= 'Z' ? w[i] + 32 : w[i]);
        low[n] = '\0';
        for (size_t i = 0; i < sizeof FALLBACKS / sizeof FALLBACKS[0]; i++)
            if (strcmp(low, FALLBACKS[i].tok) == 0) {
                cands = FALLBACKS[i].repl;
                break;
            }
    }
    if (cands) {
        for (size_t i = 0; i < 3 && cands[i]; i++) {
            long r = lookup(c->s, cands[i], strlen(cands[i]), &m);
            if (r >= 0) {
                *row = r;
                return cands[i];
            }
        }
        return NULL;
    }
    /* An abbreviation with its period (mr., etc., j.) → the word without it. */
    if (n >= 2 && w[n - 1] == '.' && w[n - 2] != '.') {
        long r = lookup(c->s, w, n - 1, &m);
        if (r >= 0) {
            /* name the vocabulary's word (Mr. → mr); a lowercase match is never longer than the text */
            size_t wl;
            const char *word = store_word(c->s, (size_t)r, &wl);
            if (wl > n - 1) {
                word = w;
                wl = n - 1;
            }
            char *dst = c->pool + c->pool_used;
            memcpy(dst, word, wl);
            dst[wl] = '\0';
            c->pool_used += wl + 1;
            *row = r;
            return dst;
        }
    }
    return NULL;
}

/* ---- emitting tokens ------------------------------------------------------------------------------------- */

/* Emits the token p[b..e): normalised text into the pool, lookup, fallback. */
static ev_status emit(ctx *c, size_t b, size_t e)
{
    if (c->ntok == TOK_MAX_TOKENS)
        return ev_fail(c->err, EV_ERR_NOMEM,
                       "the sentence has more than %u tokens (the limit: attention needs n\xc2\xb2 memory); split it",
                       TOK_MAX_TOKENS);
    if (c->ntok == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        tok_token *t = realloc(c->tok, cap * sizeof *t);
        if (!t)
            return ev_fail(c->err, EV_ERR_NOMEM, "out of memory tokenizing a sentence of %zu bytes", c->n);
        c->tok = t;
        c->cap = cap;
    }
    tok_token *t = &c->tok[c->ntok++];
    char *text = c->pool + c->pool_used;
    size_t len;
    if (e - b == 3 && c->p[b] == 0xE2 && c->p[b + 1] == 0x80 && c->p[b + 2] == 0x99) {
        memcpy(text, "\xe2\x80\x99", 3); /* a lone ’ is a quote, not an apostrophe: kept (fallback ') */
        len = 3;
    } else {
        len = norm_copy(c->p, b, e, text);
    }
    text[len] = '\0';
    c->pool_used += len + 1;
    store_match m;
    t->begin = b;
    t->end = e;
    t->text = text;
    t->len = len;
    t->fallback = NULL;
    t->row = lookup(c->s, text, len, &m);
    t->status = m == STORE_EXACT ? TOK_EXACT : m == STORE_LOWER ? TOK_LOWER : TOK_OOV;
    if (t->row < 0) {
        long r = -1;
        const char *fb = find_fallback(c, text, len, &r);
        if (fb) {
            t->fallback = fb;
            t->row = r;
            t->status = TOK_FALLBACK;
        } else if (c->s && store_subwords(c->s) && subword_rows(store_subwords(c->s), text, len, NULL, 0) > 0)
            t->status = TOK_SUBWORD; /* fastText: a vector from its character n-grams */
    }
    return EV_OK;
}

/* ---- compounds ------------------------------------------------------------------------------------------- */

static ev_status push_piece(ctx *c, size_t b, size_t e)
{
    compound *k = &c->k;
    if (k->np == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 8;
        span *pc = realloc(k->piece, cap * sizeof *pc);
        if (pc)
            k->piece = pc;
        span *cn = realloc(k->conn, cap * sizeof *cn);
        if (cn)
            k->conn = cn;
        int *kd = realloc(k->kind, cap * sizeof *kd);
        if (kd)
            k->kind = kd;
        if (!pc || !cn || !kd)
            return ev_fail(c->err, EV_ERR_NOMEM, "out of memory tokenizing a sentence of %zu bytes", c->n);
        k->cap = cap;
    }
    k->piece[k->np].b = b;
    k->piece[k->np].e = e;
    k->np++;
    return EV_OK;
}

/* End of the run of word characters starting at i. */
static size_t word_run(const ctx *c, size_t i)
{
    size_t l;
    while (i < c->n && classify(decode(c->p, i, &l)) == C_WORD)
        i += l;
    return i;
}

/* Number of code points in p[b..e). */
static size_t cp_count(const unsigned char *p, size_t b, size_t e)
{
    size_t k = 0;
    for (size_t i = b; i < e; i++)
        k += (p[i] & 0xC0) != 0x80;
    return k;
}

static int all_digits(const unsigned char *p, size_t b, size_t e)
{
    for (size_t i = b; i < e; i++)
        if (!is_ascii_digit(p[i]))
            return 0;
    return e > b;
}

static int has_digit(const unsigned char *p, size_t b, size_t e)
{
    for (size_t i = b; i < e; i++)
        if (is_ascii_digit(p[i]))
            return 1;
    return 0;
}

/* ASCII-lowercase comparison of p[b..e) with the lowercase word w. */
static int lower_eq(const unsigned char *p, size_t b, size_t e, const char *w)
{
    size_t n = strlen(w);
    if (e - b != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned ch = p[b + i];
        if ((ch >= 'A' && ch <= 'Z' ? ch + 32 : ch) != (unsigned char)w[i])
            return 0;
    }
    return 1;
}

static const char *const ABBREVIATIONS[] = {
    "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "inc", "ltd", "co", "corp", "vs", "etc", "gen", "gov", "sen",
    "rep", "col", "lt", "sgt", "capt", "mt", "ft", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept",
    "oct", "nov", "dec", NULL};

/* True when only separators and closing quotes/brackets follow position i. */
static int sentence_final(const ctx *c, size_t i)
{
    while (i < c->n) {
        size_t l;
        unsigned cp = decode(c->p, i, &l);
        int closing = cp == '\'' || cp == '"' || cp == ')' || cp == ']' || cp == '}' || cp == 0x2019 ||
                      cp == 0x201D || cp == 0xBB || cp == 0x203A;
        if (!closing && classify(cp) != C_SPACE)
            return 0;
        i += l;
    }
    return 1;
}

/* Does the abbreviation period after the compound belong to it? (rule 2 in tokenizer.h) */
static int takes_period(const ctx *c, size_t period_at)
{
    const compound *k = &c->k;
    size_t g0 = k->np - 1; /* the last group of pieces joined by periods: u.s in anti-u.s */
    while (g0 > 0 && k->kind[g0 - 1] == C_PERIOD)
        g0--;
    int dotted = k->np - g0 >= 2;
    for (size_t i = g0; i < k->np; i++) {
        const span *pc = &k->piece[i];
        if (cp_count(c->p, pc->b, pc->e) > 3 || has_digit(c->p, pc->b, pc->e))
            dotted = 0;
    }
    if (dotted)
        return 1;
    if (k->np != 1)
        return 0;
    const span *pc = &k->piece[0];
    if (lower_eq(c->p, pc->b, pc->e, "etc"))
        return 1;
    if (sentence_final(c, period_at + 1))
        return 0;
    if (cp_count(c->p, pc->b, pc->e) == 1 && !is_ascii_digit(c->p[pc->b]))
        return 1; /* an initial */
    for (size_t i = 0; ABBREVIATIONS[i]; i++)
        if (lower_eq(c->p, pc->b, pc->e, ABBREVIATIONS[i]))
            return 1;
    return 0;
}

/* Resolves pieces [p0, p1) of the compound (with the abbreviation period when trail) into tokens (rule 4). */
static ev_status resolve(ctx *c, size_t p0, size_t p1, int trail)
{
    const compound *k = &c->k;
    size_t b = k->piece[p0].b, e = trail ? k->trail_b + 1 : k->piece[p1 - 1].e;
    if (p1 - p0 == 1 && !trail)
        return emit(c, b, e);
    size_t len = norm_copy(c->p, b, e, c->scratch);
    store_match m;
    if (!c->s || lookup(c->s, c->scratch, len, &m) >= 0)
        return emit(c, b, e); /* in the vocabulary (or no vocabulary: PTB keeps compounds whole) */
    if (trail && lookup(c->s, c->scratch, len - 1, &m) >= 0)
        return emit(c, b, e); /* mr. → fallback mr */
    ev_status st;
    int split_hyphen = 0;
    for (size_t i = p0; i + 1 < p1; i++)
        split_hyphen |= k->kind[i] == C_HYPHEN || k->kind[i] == C_APOS;
    if (split_hyphen) {
        size_t q = p0;
        for (size_t i = p0; i + 1 < p1; i++) {
            if (k->kind[i] != C_HYPHEN && k->kind[i] != C_APOS)
                continue;
            if ((st = resolve(c, q, i + 1, 0)) != EV_OK || (st = emit(c, k->conn[i].b, k->conn[i].e)) != EV_OK)
                return st;
            q = i + 1;
        }
        return resolve(c, q, p1, trail);
    }
    /* Only periods and commas join the pieces. */
    int number = 1, short_part = 0;
    for (size_t i = p0; i < p1; i++) {
        number &= all_digits(c->p, k->piece[i].b, k->piece[i].e);
        short_part |= cp_count(c->p, k->piece[i].b, k->piece[i].e) == 1;
    }
    if (number || short_part || trail)
        return emit(c, b, e); /* 1,000  3.14  u.s.  e.g: whole, out of vocabulary */
    for (size_t i = p0; i < p1; i++) {
        if ((st = emit(c, k->piece[i].b, k->piece[i].e)) != EV_OK)
            return st;
        if (i + 1 < p1 && (st = emit(c, k->conn[i].b, k->conn[i].e)) != EV_OK)
            return st;
    }
    return EV_OK;
}

static int clitic_word(const unsigned char *p, size_t b, size_t e)
{
    static const char *const CL[] = {"s", "m", "d", "re", "ve", "ll", NULL};
    for (size_t i = 0; CL[i]; i++)
        if (lower_eq(p, b, e, CL[i]))
            return 1;
    return 0;
}

/* Tokenizes the compound starting at the word character at i; *next receives the position after it. */
static ev_status compound_at(ctx *c, size_t i, size_t *next)
{
    compound *k = &c->k;
    k->np = 0;
    k->trail = 0;
    size_t pos = word_run(c, i);
    ev_status st = push_piece(c, i, pos);
    /* 1. pieces and connectors (rule 2) */
    while (st == EV_OK && pos < c->n) {
        size_t l, l2;
        int cl = classify(decode(c->p, pos, &l));
        if (cl != C_APOS && cl != C_HYPHEN && cl != C_PERIOD && cl != C_COMMA)
            break;
        if (pos + l >= c->n || classify(decode(c->p, pos + l, &l2)) != C_WORD)
            break;
        if (cl == C_COMMA && !(is_ascii_digit(c->p[pos - 1]) && is_ascii_digit(c->p[pos + 1])))
            break;
        k->conn[k->np - 1].b = pos;
        k->conn[k->np - 1].e = pos + l;
        k->kind[k->np - 1] = cl;
        size_t e = word_run(c, pos + l);
        st = push_piece(c, pos + l, e);
        pos = e;
    }
    if (st != EV_OK)
        return st;
    /* 2. clitics off the end (rule 3), at most three */
    span clit[3];
    size_t nclit = 0;
    while (nclit < 3 && k->np >= 2 && k->kind[k->np - 2] == C_APOS) {
        span *last = &k->piece[k->np - 1], *prev = &k->piece[k->np - 2];
        if (clitic_word(c->p, last->b, last->e)) {
            clit[nclit].b = k->conn[k->np - 2].b;
            clit[nclit++].e = last->e;
            k->np--;
        } else if (lower_eq(c->p, last->b, last->e, "t") && (c->p[prev->e - 1] | 32) == 'n') {
            size_t plen = prev->e - prev->b;
            if (plen == 1 && k->np != 2)
                break; /* x-n't: not a clitic */
            clit[nclit].b = prev->e - 1;
            clit[nclit++].e = last->e;
            prev->e--;
            k->np--;
            if (plen == 1) {
                k->np = 0; /* a stand-alone n't */
                break;
            }
        } else {
            break;
        }
    }
    /* 3. an abbreviation period (rule 2) */
    if (nclit == 0 && pos < c->n && c->p[pos] == '.' && !(pos + 1 < c->n && c->p[pos + 1] == '.') &&
        takes_period(c, pos)) {
        k->trail = 1;
        k->trail_b = pos;
        pos++;
    }
    *next = pos;
    /* 4. the stem, then the clitics in sentence order */
    if (k->np > 0 && (st = resolve(c, 0, k->np, k->trail)) != EV_OK)
        return st;
    for (size_t j = nclit; j-- > 0;)
        if ((st = emit(c, clit[j].b, clit[j].e)) != EV_OK)
            return st;
    return EV_OK;
}

/* After an apostrophe ending at i: the end of a stand-alone clitic ('s 'm 'd 're 've 'll followed by a non-word
 * character), or 0. */
static size_t clitic_after(const ctx *c, size_t i)
{
    size_t e = word_run(c, i);
    return e > i && clitic_word(c->p, i, e) ? e : 0;
}

/* ---- the public API -------------------------------------------------------------------------------------- */

ev_status tok_tokenize(const store *s, const char *text, size_t n, tok_sentence *out, ev_error *err)
{
    memset(out, 0, sizeof *out);
    if (n > TOK_MAX_BYTES)
        return ev_fail(err, EV_ERR_NOMEM, "the sentence has %zu bytes, more than the limit of %u", n, TOK_MAX_BYTES);
    ev_status st = check_utf8((const unsigned char *)text, n, err);
    if (st != EV_OK)
        return st;
    ctx c = {.s = s, .p = (const unsigned char *)text, .n = n, .err = err};
    /* Pool: token texts are at most their spans (which do not overlap) plus a NUL each; a derived fallback is at
     * most its token's length plus a NUL. So 2n bytes of text and 2 NULs per token, tokens ≤ n. */
    c.pool_cap = 4 * n + 16;
    c.pool = malloc(c.pool_cap);
    c.scratch = malloc(n + 1);
    if (!c.pool || !c.scratch) {
        st = ev_fail(err, EV_ERR_NOMEM, "out of memory tokenizing a sentence of %zu bytes", n);
        goto done;
    }
    size_t i = 0;
    while (i < n && st == EV_OK) {
        size_t l, l2;
        unsigned cp = decode(c.p, i, &l);
        size_t e = i + l;
        switch (classify(cp)) {
        case C_SPACE:
            i = e;
            continue;
        case C_WORD:
            st = compound_at(&c, i, &i);
            continue;
        case C_APOS: {
            size_t ce = clitic_after(&c, e);
            if (ce)
                e = ce; /* 's as in already tokenized text */
            else if (cp == '\'' && e < n && c.p[e] == '\'')
                e++; /* '' */
            break;
        }
        case C_HYPHEN:
            while (e < n && classify(decode(c.p, e, &l2)) == C_HYPHEN)
                e += l2;
            break;
        case C_PERIOD:
            while (e < n && c.p[e] == '.')
                e++;
            break;
        case C_COMMA:
            break;
        default: /* C_PUNCT */
            if (cp == '`' && e < n && c.p[e] == '`') {
                e++;
                break;
            }
            for (;;) { /* emoji modifiers and zero-width-joined sequences stay with their symbol */
                if (e >= n)
                    break;
                unsigned nx = decode(c.p, e, &l2);
                if (is_symbol_modifier(nx)) {
                    e += l2;
                } else if (nx == 0x200D && e + l2 < n) {
                    size_t l3;
                    if (classify(decode(c.p, e + l2, &l3)) != C_PUNCT)
                        break;
                    e += l2 + l3;
                } else {
                    break;
                }
            }
            break;
        }
        st = emit(&c, i, e);
        i = e;
    }
    if (st == EV_OK && c.ntok == 0)
        st = ev_fail(err, EV_ERR_USAGE, n == 0 ? "the sentence is empty" : "the sentence has only whitespace");
done:
    free(c.scratch);
    free(c.k.piece);
    free(c.k.conn);
    free(c.k.kind);
    if (st != EV_OK) {
        free(c.tok);
        free(c.pool);
        return st;
    }
    out->tokens = c.tok;
    out->n = c.ntok;
    out->pool = c.pool;
    for (size_t t = 0; t < c.ntok; t++)
        out->n_known += c.tok[t].row >= 0 || c.tok[t].status == TOK_SUBWORD;
    return EV_OK;
}

void tok_free(tok_sentence *t)
{
    if (!t)
        return;
    free(t->tokens);
    free(t->pool);
    memset(t, 0, sizeof *t);
}

void tok_vectors(const store *s, const tok_sentence *t, float *X, unsigned char *key_mask)
{
    size_t d = store_dim(s);
    for (size_t i = 0; i < t->n; i++) {
        const tok_token *tk = &t->tokens[i];
        long r = tk->row;
        if (r >= 0)
            memcpy(X + i * d, store_row(s, (size_t)r), d * sizeof *X);
        else if (tk->status == TOK_SUBWORD)
            store_subword_vector(s, tk->text, tk->len, X + i * d);
        else
            memset(X + i * d, 0, d * sizeof *X);
        if (key_mask)
            key_mask[i] = r < 0 && tk->status != TOK_SUBWORD;
    }
}

const char *tok_status_name(tok_status st)
{
    switch (st) {
    case TOK_EXACT: return "exact";
    case TOK_LOWER: return "lowercase";
    case TOK_FALLBACK: return "fallback";
    case TOK_SUBWORD: return "subword";
    default: return "oov";
    }
}
