/* test_tokenizer — PTB-style splitting, byte spans, lookup status and fallbacks, UTF-8 errors and limits, on small
 * in-memory stores; plus the example sentences on the real GloVe cache when it has been fetched (reported). */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "tokenizer.h"

enum { DIM = 4 };

static store *make_store(const char *const *words)
{
    size_t n = 0, bytes = 0;
    while (words[n])
        bytes += strlen(words[n++]) + 1;
    store_rows r = {.n = n, .dim = DIM};
    r.vectors = malloc(n * DIM * sizeof(float));
    r.words = malloc(bytes);
    r.offsets = malloc((n + 1) * sizeof(size_t));
    size_t pos = 0;
    r.offsets[0] = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < DIM; k++)
            r.vectors[i * DIM + k] = (float)(i + 1) + 0.25f * (float)k;
        size_t l = strlen(words[i]) + 1;
        memcpy(r.words + pos, words[i], l);
        pos += l;
        r.offsets[i + 1] = pos;
    }
    store *s = NULL;
    ev_error err = {0};
    if (store_from_rows(&r, "test", "glove", NULL, &s, &err) != EV_OK) {
        fprintf(stderr, "store_from_rows: %s\n", err.msg);
        exit(2);
    }
    return s;
}

/* Like wink's subset of GloVe 6B: no single letters, clitics, plain numbers or dotted abbreviations. */
static const char *const WINK[] = {
    "france", "is", "country", ",", "it", "in", "europe", ".", "sat", "on", "the", "bank", "of", "river", "raised",
    "interest", "rates", "john", "told", "mary", "that", "he", "would", "come", "dollars", ";", "do", "go", "to",
    "(", ")", "really", "?", "not", "are", "am", "will", "have", "ca", "wo", "we", "they", "you", "should", "e-mail",
    "well-known", "state", "art", "arts", "-", "mr", "smith", "etc", "plan", "\"", "'", "\xe2\x80\x9c",
    "\xe2\x80\xa6", "quoted", "google", "com", "neill", "na\xc3\xafve",
    "\xd0\xbc\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0",
    "wait", "james", "students", "books", "said", "anti", "based", "ok", "x", "can", "cannot", "gonna", "1990s", NULL};

/* Like the full glove.6B.100d.txt: PTB tokens are words. */
static const char *const FULL[] = {
    "it", "'s", "1,000", "dollars", ";", "do", "n't", "go", "to", "the", "u.s.", "(", ")", "really", "?", "i", "a",
    "'m", "'re", "'ll", "'ve", "'d", "ca", "wo", "-lrb-", "-rrb-", "3.14", "e.g.", "mr.", "o'neill", ".", ",", NULL};

/* Renders a tokenization as "text[mark] …": mark "" exact, "~" lowercase, ">WORD" fallback, "?" oov. */
static char *render(const tok_sentence *t)
{
    size_t cap = 64;
    for (size_t i = 0; i < t->n; i++)
        cap += t->tokens[i].len + 4 + (t->tokens[i].fallback ? strlen(t->tokens[i].fallback) : 0);
    char *out = malloc(cap), *o = out;
    for (size_t i = 0; i < t->n; i++) {
        const tok_token *k = &t->tokens[i];
        if (i)
            *o++ = ' ';
        memcpy(o, k->text, k->len);
        o += k->len;
        if (k->status == TOK_LOWER)
            *o++ = '~';
        else if (k->status == TOK_OOV)
            *o++ = '?';
        else if (k->status == TOK_FALLBACK)
            o += sprintf(o, ">%s", k->fallback);
    }
    *o = '\0';
    return out;
}

/* Invariants every tokenization must satisfy: spans increasing, non-overlapping, inside the text, never
 * splitting a UTF-8 sequence; text = normalised span bytes; rows/status consistent; n_known counted. */
static void check_invariants(const store *s, const char *text, size_t n, const tok_sentence *t, const char *what)
{
    size_t prev_end = 0, known = 0;
    for (size_t i = 0; i < t->n; i++) {
        const tok_token *k = &t->tokens[i];
        CHECK(k->begin >= prev_end && k->end > k->begin && k->end <= n, "%s: token %zu span [%zu,%zu) after %zu",
              what, i, k->begin, k->end, prev_end);
        CHECK((text[k->begin] & 0xC0) != 0x80 && (k->end == n || (text[k->end] & 0xC0) != 0x80),
              "%s: token %zu span splits a UTF-8 sequence", what, i);
        CHECK(k->text[k->len] == '\0' && k->len <= k->end - k->begin, "%s: token %zu text", what, i);
        CHECK((k->row >= 0) == (k->status != TOK_OOV), "%s: token %zu row %ld status %d", what, i, k->row,
              (int)k->status);
        CHECK((k->fallback != NULL) == (k->status == TOK_FALLBACK), "%s: token %zu fallback", what, i);
        if (s && k->row >= 0) {
            CHECK((size_t)k->row < store_size(s), "%s: row in range", what);
            if (k->status == TOK_EXACT) {
                size_t wl;
                const char *w = store_word(s, (size_t)k->row, &wl);
                CHECK(wl == k->len && memcmp(w, k->text, wl) == 0, "%s: exact row's word is the text", what);
            }
        }
        known += k->row >= 0;
        prev_end = k->end;
    }
    CHECK(known == t->n_known, "%s: n_known %zu, counted %zu", what, t->n_known, known);
}

static void expect(const store *s, const char *text, const char *want)
{
    tok_sentence t;
    ev_error err = {0};
    ev_status st = tok_tokenize(s, text, strlen(text), &t, &err);
    CHECK(st == EV_OK, "tokenize '%s': %s", text, err.msg ? err.msg : "?");
    if (st == EV_OK) {
        char *got = render(&t);
        CHECK(strcmp(got, want) == 0, "'%s'\n   got: %s\n  want: %s", text, got, want);
        free(got);
        check_invariants(s, text, strlen(text), &t, text);
    }
    tok_free(&t);
    ev_error_clear(&err);
}

static void expect_error(const store *s, const char *text, size_t n, ev_status code, const char *frag)
{
    tok_sentence t;
    ev_error err = {0};
    ev_status st = tok_tokenize(s, text, n, &t, &err);
    CHECK(st == code, "expected status %d, got %d (%s)", (int)code, (int)st, err.msg ? err.msg : "no message");
    CHECK(err.msg && strstr(err.msg, frag), "message '%s' should contain '%s'", err.msg ? err.msg : "(none)", frag);
    CHECK(t.n == 0 && t.tokens == NULL, "no tokens on failure");
    tok_free(&t);
    ev_error_clear(&err);
}

/* Spans of "It's 1,000 dollars; don't go to the U.S. (really?)". */
static void test_spans(const store *s)
{
    const char *text = "It's 1,000 dollars; don't go to the U.S. (really?)";
    static const size_t want[][2] = {{0, 2},   {2, 4},   {5, 10},  {11, 18}, {18, 19}, {20, 22}, {22, 25},
                                     {26, 28}, {29, 31}, {32, 35}, {36, 40}, {41, 42}, {42, 48}, {48, 49},
                                     {49, 50}};
    tok_sentence t;
    ev_error err = {0};
    CHECK(tok_tokenize(s, text, strlen(text), &t, &err) == EV_OK, "%s", err.msg);
    CHECK(t.n == sizeof want / sizeof want[0], "token count %zu", t.n);
    for (size_t i = 0; i < t.n && i < sizeof want / sizeof want[0]; i++)
        CHECK(t.tokens[i].begin == want[i][0] && t.tokens[i].end == want[i][1], "token %zu '%s' span [%zu,%zu)", i,
              t.tokens[i].text, t.tokens[i].begin, t.tokens[i].end);
    tok_free(&t);
    tok_free(&t); /* idempotent */
    tok_free(NULL);

    /* ’ (3 bytes) normalised in the text, kept in the span */
    const char *curly = "it\xe2\x80\x99s";
    CHECK(tok_tokenize(s, curly, strlen(curly), &t, &err) == EV_OK, "%s", err.msg);
    CHECK(t.n == 2 && t.tokens[1].begin == 2 && t.tokens[1].end == 6 && strcmp(t.tokens[1].text, "'s") == 0,
          "it’s → it 's with span [2,6)");
    tok_free(&t);
}

static void test_wink(const store *w)
{
    /* the sentences of the README and of the heads' probes */
    expect(w, "France is a country, it is in Europe", "France~ is a? country , it is in Europe~");
    expect(w, "I sat on the bank of the river", "I? sat on the bank of the river");
    expect(w, "the bank raised interest rates", "the bank raised interest rates");
    expect(w, "John told Mary that he would come", "John~ told Mary~ that he would come");
    expect(w, "It's 1,000 dollars; don't go to the U.S. (really?)",
           "It~ 's? 1,000? dollars ; do n't>not go to the U.S.? ( really ? )");
    /* clitics and their fallbacks */
    expect(w, "I'm sure we'll see they're here, I've seen, I'd go",
           "I? 'm>am sure? we 'll>will see? they 're>are here? , I? 've>have seen? , I? 'd>would go");
    expect(w, "can't won't CAN'T shouldn't've", "ca n't>not wo n't>not CA~ N'T>not should n't>not 've>have");
    expect(w, "James's books, the students' books", "James~ 's? books , the students ' books");
    expect(w, "it 's n't", "it 's? n't>not");
    expect(w, "cannot gonna", "cannot gonna");
    /* hyphens: whole when known, split when not */
    expect(w, "e-mail well-known state-of-the-arts", "e-mail well-known state - of - the - arts");
    expect(w, "well\xe2\x80\x90known", "well-known");             /* U+2010 hyphen normalised */
    expect(w, "U.S.-based anti-u.s. 1990s", "U.S.? - based anti - u.s.? 1990s");
    expect(w, "O'Neill's", "O? ' Neill~ 's?");
    /* periods: abbreviations, sentence end, dotted words, numbers */
    expect(w, "Mr. Smith said etc. ok.", "Mr.>mr Smith~ said etc.>etc ok .");
    expect(w, "plan B. I said plan B.", "plan B.? I? said plan B? .");
    expect(w, "google.com 3.14 e.g. x.", "google . com 3.14? e.g.? x .");
    expect(w, "wait... wait.. wait\xe2\x80\xa6", "wait ...>\xe2\x80\xa6 wait ..>\xe2\x80\xa6 wait \xe2\x80\xa6");
    expect(w, "(really?)!", "( really ? ) !?");
    /* Unicode quotes, dashes, letters */
    expect(w, "\xe2\x80\x9cquoted\xe2\x80\x9d", "\xe2\x80\x9c quoted \xe2\x80\x9d>\"");
    expect(w, "it\xe2\x80\x99s \xe2\x80\x98quoted\xe2\x80\x99", "it 's? \xe2\x80\x98>' quoted \xe2\x80\x99>'");
    expect(w, "wait \xe2\x80\x94 wait \xe2\x80\x93 wait -- wait",
           "wait \xe2\x80\x94>- wait \xe2\x80\x93>- wait -->- wait");
    expect(w, "na\xc3\xafve caf\xc3\xa9 \xd0\x9c\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0",
           "na\xc3\xafve caf\xc3\xa9? \xd0\x9c\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0~");
    expect(w, "\xc2\xbfqu\xc3\xa9?", "\xc2\xbf? qu\xc3\xa9? ?");
    expect(w, "\xe6\x97\xa5\xe6\x9c\xac\xe3\x80\x82", "\xe6\x97\xa5\xe6\x9c\xac? \xe3\x80\x82?");
    expect(w, "ok \xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd ok", "ok \xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd? ok");
    expect(w, "\xef\xbb\xbf" "ok\xc2\xa0ok\xe2\x80\x83ok", "ok ok ok"); /* BOM, NBSP, em space */
    expect(w, "$5 5% #1 a&b x_y", "$? 5? 5? %? #? 1? a? &? b? x _? y?");
}

static void test_full(const store *f)
{
    expect(f, "It's 1,000 dollars; don't go to the U.S. (really?)",
           "It~ 's 1,000 dollars ; do n't go to the U.S.~ ( really ? )");
    expect(f, "I'm a", "I~ 'm a");
    expect(f, "Mr. O'Neill, e.g. 3.14", "Mr.~ O'Neill~ , e.g. 3.14");
}

static void test_ptb_without_store(void)
{
    expect(NULL, "It's 1,000 dollars; don't go to the U.S. (really?)",
           "It? 's? 1,000? dollars? ;? do? n't? go? to? the? U.S.? (? really? ?? )?");
    expect(NULL, "state-of-the-art o'neill google.com", "state-of-the-art? o'neill? google.com?");
}

static void test_errors(const store *w)
{
    expect_error(w, "", 0, EV_ERR_USAGE, "empty");
    expect_error(w, " \t\n\r ", 5, EV_ERR_USAGE, "only whitespace");
    expect_error(w, "caf\xc3", 4, EV_ERR_FORMAT, "sentence byte 3: invalid UTF-8");
    expect_error(w, "\x80" "abc", 4, EV_ERR_FORMAT, "byte 0: invalid UTF-8: unexpected continuation byte 0x80");
    expect_error(w, "ab\xc0\xaf", 4, EV_ERR_FORMAT, "byte 2: invalid UTF-8");            /* overlong '/' */
    expect_error(w, "ab\xed\xa0\x80", 5, EV_ERR_FORMAT, "byte 3: invalid UTF-8");        /* surrogate */
    expect_error(w, "\xf4\x90\x80\x80", 4, EV_ERR_FORMAT, "byte 1: invalid UTF-8");      /* > U+10FFFF */
    expect_error(w, "ok\xff", 3, EV_ERR_FORMAT, "byte 2: invalid UTF-8: byte never used in UTF-8 0xff");
    expect_error(w, "ok\xe2\x80", 4, EV_ERR_FORMAT, "cut off");
    expect_error(w, "ok\0ok", 5, EV_ERR_FORMAT, "byte 2: NUL byte");

    /* token limit: exactly TOK_MAX_TOKENS passes, one more fails */
    size_t n = 2 * (TOK_MAX_TOKENS + 1);
    char *big = malloc(n + 1);
    for (size_t i = 0; i < n; i += 2) {
        big[i] = 'x';
        big[i + 1] = ' ';
    }
    big[n] = '\0';
    tok_sentence t;
    ev_error err = {0};
    CHECK(tok_tokenize(w, big, n - 2, &t, &err) == EV_OK && t.n == TOK_MAX_TOKENS, "4096 tokens: %s",
          err.msg ? err.msg : "ok");
    check_invariants(w, big, n - 2, &t, "4096 tokens");
    tok_free(&t);
    expect_error(w, big, n, EV_ERR_NOMEM, "more than 4096 tokens");
    free(big);
    /* byte limit */
    char *huge = malloc(TOK_MAX_BYTES + 1);
    memset(huge, 'a', TOK_MAX_BYTES + 1);
    expect_error(w, huge, TOK_MAX_BYTES + 1, EV_ERR_NOMEM, "more than the limit");
    /* one very long word at the byte limit: one OOV token */
    CHECK(tok_tokenize(w, huge, TOK_MAX_BYTES, &t, &err) == EV_OK && t.n == 1 && t.tokens[0].status == TOK_OOV,
          "1 MiB word");
    tok_free(&t);
    /* a long hyphenated compound: many pieces, split since unknown */
    for (size_t i = 1; i < 20001; i += 2)
        huge[i] = '-';
    expect_error(w, huge, 20001, EV_ERR_NOMEM, "more than 4096 tokens");
    CHECK(tok_tokenize(w, huge, 4001, &t, &err) == EV_OK && t.n == 4001, "2001-piece compound: %zu tokens %s", t.n,
          err.msg ? err.msg : "");
    check_invariants(w, huge, 4001, &t, "2000-piece compound");
    tok_free(&t);
    free(huge);
    ev_error_clear(&err);
}

static void test_vectors(const store *w)
{
    tok_sentence t;
    ev_error err = {0};
    const char *text = "France is a country";
    CHECK(tok_tokenize(w, text, strlen(text), &t, &err) == EV_OK, "%s", err.msg);
    CHECK(t.n == 4 && t.n_known == 3, "n_known");
    float X[4 * DIM];
    unsigned char mask[4];
    memset(X, 0x7f, sizeof X);
    tok_vectors(w, &t, X, mask);
    CHECK(mask[0] == 0 && mask[1] == 0 && mask[2] == 1 && mask[3] == 0, "mask marks the OOV 'a'");
    CHECK(memcmp(X, store_row(w, (size_t)t.tokens[0].row), DIM * sizeof(float)) == 0, "row 0 = france");
    CHECK(X[2 * DIM] == 0 && X[2 * DIM + DIM - 1] == 0, "OOV row zero");
    tok_vectors(w, &t, X, NULL);
    tok_free(&t);
    CHECK(strcmp(tok_status_name(TOK_EXACT), "exact") == 0 && strcmp(tok_status_name(TOK_LOWER), "lowercase") == 0 &&
              strcmp(tok_status_name(TOK_FALLBACK), "fallback") == 0 && strcmp(tok_status_name(TOK_OOV), "oov") == 0,
          "status names");
}

/* Random sentences built from tricky fragments: every tokenization satisfies the invariants (spans, texts,
 * statuses), with and without a store, and under the sanitizers. */
static void test_random_sentences(const store *w, const store *f)
{
    static const char *const FRAG[] = {
        "a", "I", "it", "n", "t", "s", "ll", "1", "000", "U", "S", "e", "mail", "mr", "etc", " ", " ", "  ", "'",
        "'", "\xe2\x80\x99", "-", "-", "\xe2\x80\x90", ".", ".", "..", ",", ",", ";", "(", ")", "\"", "`",
        "\xc3\xa9", "\xd0\x9c", "\xe2\x80\x9c", "\xe2\x80\x94", "\xe2\x80\xa6", "\xf0\x9f\x91\x8d",
        "\xf0\x9f\x8f\xbd", "\xe2\x80\x8d", "\xef\xb8\x8f", "\xc2\xa0", "\t", "$", "%", "_", "\xe3\x80\x82"};
    size_t nf = sizeof FRAG / sizeof FRAG[0];
    uint64_t x = 12345;
    char buf[256];
    unsigned long fails = check_failed;
    for (int iter = 0; iter < 3000 && check_failed == fails; iter++) {
        size_t len = 0;
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        int k = 1 + (int)((x >> 33) % 24);
        for (int j = 0; j < k; j++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            const char *fr = FRAG[(x >> 33) % nf];
            size_t fl = strlen(fr);
            if (len + fl >= sizeof buf)
                break;
            memcpy(buf + len, fr, fl);
            len += fl;
        }
        buf[len] = '\0';
        const store *stores[3] = {w, f, NULL};
        for (int si = 0; si < 3; si++) {
            tok_sentence t;
            ev_error err = {0};
            ev_status st = tok_tokenize(stores[si], buf, len, &t, &err);
            CHECK(st == EV_OK || (st == EV_ERR_USAGE && t.n == 0), "random '%s': %s", buf, err.msg ? err.msg : "");
            if (st == EV_OK)
                check_invariants(stores[si], buf, len, &t, buf);
            tok_free(&t);
            ev_error_clear(&err);
        }
    }
}

/* Integration: the example sentences on the real default vectors (wink's subset of GloVe 6B 100d). */
static const char *real_glove(void)
{
    const char *home = getenv("HOME");
    static char path[1024];
    if (!home || snprintf(path, sizeof path, "%s/.cache/embvsattn/glove.6B.100d.safetensors", home) >=
                     (int)sizeof path || access(path, R_OK) != 0)
        return NULL;
    return path;
}

static void test_real(const char *path)
{
    store *g = NULL;
    ev_error err = {0};
    if (store_open(path, &g, &err) != EV_OK) {
        CHECK(0, "store_open %s: %s", path, err.msg);
        ev_error_clear(&err);
        return;
    }
    expect(g, "France is a country, it is in Europe", "France~ is a? country , it is in Europe~");
    expect(g, "I sat on the bank of the river", "I? sat on the bank of the river");
    expect(g, "the bank raised interest rates", "the bank raised interest rates");
    expect(g, "John told Mary that he would come", "John~ told Mary~ that he would come");
    expect(g, "It's 1,000 dollars; don't go to the U.S. (really?)",
           "It~ 's? 1,000? dollars ; do n't>not go to the U.S.? ( really ? )");
    expect(g, "I'm sure they're well\xe2\x80\x91known \xe2\x80\x9cstate-of-the-art\xe2\x80\x9d e-mail "
              "users\xe2\x80\xa6",
           "I? 'm>am sure they 're>are well-known \xe2\x80\x9c state-of-the-art \xe2\x80\x9d e-mail users "
           "\xe2\x80\xa6");
    store_close(g);
}

int main(void)
{
    store *w = make_store(WINK), *f = make_store(FULL);
    test_spans(w);
    test_wink(w);
    test_full(f);
    test_ptb_without_store();
    test_errors(w);
    test_vectors(w);
    test_random_sentences(w, f);
    const char *real = real_glove();
    if (real)
        test_real(real);
    store_close(w);
    store_close(f);
    return check_done(real ? "test_tokenizer (with the real GloVe cache)" : "test_tokenizer (no GloVe cache: "
                                                                            "real-vector checks skipped)");
}
