/* test_loader — every input format, the gensim reference fixtures bit for bit, malformed inputs, writers. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "loader.h"

#define TEST_TMPDIR_NAME "test_loader"
#include "test_tmpdir.h"

static void write_str(const char *name, const char *s) { write_file(tpath(name), s, strlen(s)); }

static store *load(const char *path, vformat f, size_t limit, ev_error *err, loader_opts *out)
{
    loader_opts o = {.format = f, .limit = limit};
    store *s = NULL;
    ev_error_clear(err);
    loader_load(path, &o, &s, err);
    if (out)
        *out = o;
    return s;
}

static uint32_t bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* Each gensim-written file must load to exactly the floats gensim holds (expected.tsv: word, hex bits). */
static void test_gensim_fixtures(void)
{
    const char *files[] = {"kv.bin", "kv.vec", "kv.glove"};
    vformat want[] = {VF_W2V_BIN, VF_W2V_TEXT, VF_GLOVE};
    for (int fi = 0; fi < 3; fi++) {
        char path[256];
        snprintf(path, sizeof path, "tests/fixtures/gensim/%s", files[fi]);
        ev_error err = {0};
        loader_opts o;
        store *s = load(path, VF_AUTO, 0, &err, &o);
        CHECK(s != NULL, "%s: %s", path, err.msg);
        if (!s)
            continue;
        CHECK(o.detected == want[fi], "%s detected as %s", path, loader_format_name(o.detected));
        FILE *f = fopen("tests/fixtures/gensim/expected.tsv", "r");
        CHECK(f != NULL, "expected.tsv missing");
        char *line = NULL;
        size_t cap = 0, row = 0, mismatches = 0;
        ssize_t n;
        while (f && (n = getline(&line, &cap, f)) > 0) {
            char *tab = strchr(line, '\t');
            if (!tab)
                continue;
            *tab = '\0';
            store_match m;
            long r = store_lookup(s, line, strlen(line), &m);
            CHECK(r == (long)row && m == STORE_EXACT, "%s: word '%s' at row %ld, expected %zu", path, line, r, row);
            if (r >= 0) {
                const float *v = store_row(s, (size_t)r);
                char *p = tab + 1;
                for (size_t k = 0; k < store_dim(s); k++) {
                    unsigned long b = strtoul(p, &p, 16);
                    if (bits(v[k]) != (uint32_t)b)
                        mismatches++;
                }
            }
            row++;
        }
        free(line);
        if (f)
            fclose(f);
        CHECK(row == store_size(s) && row == 57, "%s: %zu rows, store %zu", path, row, store_size(s));
        CHECK(mismatches == 0, "%s: %zu float mismatches", path, mismatches);
        store_close(s);
        ev_error_clear(&err);
    }
}

/* A malformed input must fail with the given status and a message containing each fragment. */
static void expect_fail(const char *name, vformat f, ev_status code, const char *frag1, const char *frag2)
{
    ev_error err = {0};
    store *s = load(tpath(name), f, 0, &err, NULL);
    CHECK(s == NULL, "%s: loaded but should fail", name);
    CHECK(err.code == code, "%s: status %d, expected %d (%s)", name, err.code, code, err.msg);
    CHECK(err.msg && strstr(err.msg, frag1), "%s: message '%s' lacks '%s'", name, err.msg, frag1);
    if (frag2)
        CHECK(err.msg && strstr(err.msg, frag2), "%s: message '%s' lacks '%s'", name, err.msg, frag2);
    store_close(s);
    ev_error_clear(&err);
}

static void test_text_edge_cases(void)
{
    ev_error err = {0};
    /* CRLF, trailing blanks, tabs between values, a blank line, no final newline */
    write_str("crlf.txt", "a 1 2 3\r\nb\t4 5 6  \r\n\nc 7 8 9");
    store *s = load(tpath("crlf.txt"), VF_AUTO, 0, &err, NULL);
    CHECK(s && store_size(s) == 3 && store_dim(s) == 3, "crlf: %s", err.msg);
    if (s) {
        CHECK(store_row(s, 2)[2] == 9.0f, "last value");
        size_t l;
        CHECK(strcmp(store_word(s, 1, &l), "b") == 0 && l == 1, "word b");
        store_close(s);
    }
    /* duplicates: first kept, counted */
    write_str("dup.txt", "a 1 2\nb 3 4\na 5 6\nb 7 8\na 9 9\n");
    loader_opts o;
    s = load(tpath("dup.txt"), VF_AUTO, 0, &err, &o);
    CHECK(s && store_size(s) == 2 && o.n_duplicates == 3, "dups: %zu", o.n_duplicates);
    if (s) {
        CHECK(store_row(s, store_find(s, "a", 1))[0] == 1.0f, "first a kept");
        CHECK(store_row(s, store_find(s, "b", 1))[1] == 4.0f, "first b kept");
        store_close(s);
    }
    /* non-UTF-8 word bytes are kept exactly */
    write_str("bytes.txt", "\xff\xfe 1\nok 2\n");
    s = load(tpath("bytes.txt"), VF_AUTO, 0, &err, NULL);
    CHECK(s && store_find(s, "\xff\xfe", 2) == 0, "raw bytes word");
    store_close(s);
    /* --limit */
    s = load(tpath("dup.txt"), VF_AUTO, 2, &err, NULL);
    CHECK(s && store_size(s) == 2, "limit 2");
    store_close(s);
    /* a long word: no fixed maximum */
    size_t L = 100000;
    char *big = malloc(L + 16);
    memset(big, 'q', L);
    memcpy(big + L, " 0.5\n", 6);
    write_file(tpath("long.txt"), big, L + 5);
    s = load(tpath("long.txt"), VF_AUTO, 0, &err, NULL);
    CHECK(s && store_find(s, big, L) == 0, "long word");
    store_close(s);
    free(big);
    /* a zero vector is allowed and its norm is 0 */
    write_str("zero.txt", "z 0 0 0\n");
    s = load(tpath("zero.txt"), VF_AUTO, 0, &err, NULL);
    CHECK(s && store_norms(s)[0] == 0.0f, "zero norm");
    store_close(s);
    /* word2vec text header, fastText-style trailing space */
    write_str("w2v.vec", "2 3\nx 1 2 3 \ny 4 5 6 \n");
    s = load(tpath("w2v.vec"), VF_AUTO, 0, &err, &o);
    CHECK(s && o.detected == VF_W2V_TEXT && store_size(s) == 2, "w2v text: %s", err.msg);
    store_close(s);
    /* forcing GloVe on a first line that looks like a header */
    write_str("numword.txt", "2 3\n4 5\n");
    s = load(tpath("numword.txt"), VF_GLOVE, 0, &err, NULL);
    CHECK(s && store_size(s) == 2 && store_dim(s) == 1, "forced glove");
    store_close(s);
    ev_error_clear(&err);

    write_str("few.txt", "a 1 2 3\nb 1 2\n");
    expect_fail("few.txt", VF_AUTO, EV_ERR_FORMAT, ":2:", "expected 3 values after 'b'");
    write_str("many.txt", "a 1 2 3\nb 1 2 3 4 5\n");
    expect_fail("many.txt", VF_AUTO, EV_ERR_FORMAT, ":2:", "found 5");
    write_str("nonnum.txt", "a 1 2 3\nb 1 x2 3\n");
    expect_fail("nonnum.txt", VF_AUTO, EV_ERR_FORMAT, ":2: value 2 of 'b'", "found 'x2'");
    write_str("nan.txt", "a 1 nan 3\n");
    expect_fail("nan.txt", VF_AUTO, EV_ERR_FORMAT, ":1:", "NaN and infinity are not accepted");
    write_str("inf.txt", "a 1 2 3\nb -Infinity 2 3\n");
    expect_fail("inf.txt", VF_AUTO, EV_ERR_FORMAT, ":2:", "NaN and infinity");
    write_str("huge.txt", "a 1 2 1e39\n");
    expect_fail("huge.txt", VF_AUTO, EV_ERR_FORMAT, ":1:", "out of float32 range");
    write_str("empty.txt", "");
    expect_fail("empty.txt", VF_AUTO, EV_ERR_FORMAT, "empty file", NULL);
    write_str("blank.txt", "\n\n  \n");
    expect_fail("blank.txt", VF_AUTO, EV_ERR_FORMAT, "no vectors", NULL);
    write_str("oneword.txt", "lonely\n");
    expect_fail("oneword.txt", VF_AUTO, EV_ERR_FORMAT, ":1:", "found one field");
    write_str("hdr_count.vec", "3 2\na 1 2\nb 3 4\n");
    expect_fail("hdr_count.vec", VF_AUTO, EV_ERR_FORMAT, "header says 3 words", "the file has 2");
    write_str("hdr_more.vec", "1 2\na 1 2\nb 3 4\n");
    expect_fail("hdr_more.vec", VF_W2V_TEXT, EV_ERR_FORMAT, "header says 1 words", "the file has 2");
    write_str("hdr_dim.vec", "2 3\na 1 2\nb 3 4\n");
    expect_fail("hdr_dim.vec", VF_W2V_TEXT, EV_ERR_FORMAT, ":2:", "header's dimension");
    write_str("absurd.bin", "1000000000 100\nab");
    expect_fail("absurd.bin", VF_AUTO, EV_ERR_FORMAT, "header claims 1000000000 words", NULL);
    write_str("absurd.vec", "1000000000 1000000000\na 1\n");
    expect_fail("absurd.vec", VF_W2V_TEXT, EV_ERR_FORMAT, "absurd.vec:2: expected 1000000000 values after 'a' (the header's dimension), found 1", NULL);
    write_str("absurd-norow.vec", "1000000000 1000000000\n");
    expect_fail("absurd-norow.vec", VF_W2V_TEXT, EV_ERR_FORMAT, "header claims dimension 1000000000, but the file has only 0 bytes after it", NULL);
    write_str("badhdr.vec", "abc def\n");
    expect_fail("badhdr.vec", VF_W2V_TEXT, EV_ERR_FORMAT, ":1: expected a word2vec header", NULL);
    expect_fail("missing-file", VF_AUTO, EV_ERR_IO, "cannot open", NULL);
    mkdir(tpath("adir"), 0755);
    expect_fail("adir", VF_AUTO, EV_ERR_IO, "is a directory", NULL);
}

static void test_binary(void)
{
    /* hand-made word2vec binary: 2 words × 2 dims, with and without the newline after each vector */
    float v[4] = {1.5f, -2.0f, 0.25f, 1e-40f};
    char buf[256];
    size_t n = (size_t)snprintf(buf, sizeof buf, "2 2\n");
    memcpy(buf + n, "abcdefghijkl ", 13), n += 13; /* a long word: the size check up front passes */
    memcpy(buf + n, v, 8), n += 8;
    memcpy(buf + n, "cd ", 3), n += 3; /* no newline between rows */
    memcpy(buf + n, v + 2, 8), n += 8;
    buf[n++] = '\n';
    write_file(tpath("hand.bin"), buf, n);
    ev_error err = {0};
    loader_opts o;
    store *s = load(tpath("hand.bin"), VF_AUTO, 0, &err, &o);
    CHECK(s && o.detected == VF_W2V_BIN && store_size(s) == 2, "hand.bin: %s", err.msg);
    if (s) {
        CHECK(memcmp(store_row(s, 1), v + 2, 8) == 0, "row 1 bits");
        store_close(s);
    }
    /* truncated: cut inside the last vector */
    write_file(tpath("trunc.bin"), buf, n - 5);
    expect_fail("trunc.bin", VF_AUTO, EV_ERR_FORMAT, "truncated", "needs 8 bytes");
    /* cut right after the first row: header promises 2 */
    write_file(tpath("short.bin"), buf, 4 + 13 + 8);
    expect_fail("short.bin", VF_W2V_BIN, EV_ERR_FORMAT, "expected word 2 of 2", "end of file");
    /* trailing garbage */
    memcpy(buf + n, "zz 1234", 7);
    write_file(tpath("extra.bin"), buf, n + 7);
    expect_fail("extra.bin", VF_W2V_BIN, EV_ERR_FORMAT, "header says 2 words", "continues");
    /* a NaN in a binary vector: named by byte offset */
    float nanv[2] = {1.0f, NAN};
    memcpy(buf + 4 + 13, nanv, 8);
    write_file(tpath("nan.bin"), buf, n);
    expect_fail("nan.bin", VF_W2V_BIN, EV_ERR_FORMAT, "byte 21", "NaN");
    ev_error_clear(&err);
}

/* GloVe text → cache → GloVe text and word2vec binary round trips keep every float bit for bit. */
static void test_round_trips(void)
{
    ev_error err = {0};
    store *a = load("tests/fixtures/gensim/kv.glove", VF_AUTO, 0, &err, NULL);
    CHECK(a != NULL, "load: %s", err.msg);
    if (!a)
        return;
    const char *outs[] = {"rt.safetensors", "rt.txt", "rt.vec", "rt.bin"};
    for (int i = 0; i < 4; i++) {
        CHECK(loader_write(a, tpath(outs[i]), VF_AUTO, NULL, NULL, &err) == EV_OK, "write %s: %s", outs[i], err.msg);
        store *b = load(tpath(outs[i]), VF_AUTO, 0, &err, NULL);
        CHECK(b && store_size(b) == store_size(a) && store_dim(b) == store_dim(a), "reload %s: %s", outs[i], err.msg);
        if (!b)
            continue;
        CHECK(memcmp(store_vectors(a), store_vectors(b), store_size(a) * store_dim(a) * 4) == 0, "%s: bits differ",
              outs[i]);
        for (size_t r = 0; r < store_size(a); r++) {
            size_t la, lb;
            const char *wa = store_word(a, r, &la), *wb = store_word(b, r, &lb);
            CHECK(la == lb && memcmp(wa, wb, la) == 0, "%s: word %zu", outs[i], r);
        }
        store_close(b);
    }
    /* the text written back is the gensim file byte for byte (shortest round-trip formatting) except "0.0" forms */
    CHECK(loader_write(a, tpath("noext"), VF_AUTO, NULL, NULL, &err) == EV_ERR_USAGE, "no extension must fail");
    store_close(a);
    ev_error_clear(&err);
}

/* A text file of several parser ranges and many read chunks (tens of MB with blank lines, CRLF, trailing blanks, a
 * line far longer than a chunk, no final newline) loads to the same store with 1 and 2 parser threads and from
 * memory; an error on a late line is reported with its line number by each of them. */
static void append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < *cap - *len) {
            *len += (size_t)n;
            return;
        }
        *cap = *cap * 2 + (n > 0 ? (size_t)n : 0);
        if (!(*buf = realloc(*buf, *cap))) {
            fprintf(stderr, "test_loader: out of memory\n");
            exit(2);
        }
    }
}

static char *chunked_text(size_t *len_out, size_t bad_line, size_t *rows_out)
{
    size_t cap = 1 << 20, len = 0, line = 0, rows = 0;
    char *b = malloc(cap);
    for (size_t i = 0; i < 40000; i++) {
        line++;
        if (i % 997 == 5) { /* a blank line (some with blanks) */
            append(&b, &len, &cap, i % 2 ? "\n" : "  \t\n");
            continue;
        }
        if (i == 20000) { /* a word far longer than a read chunk */
            size_t L = 600000;
            if (len + L + 1 > cap) {
                cap = len + L + (1 << 20);
                b = realloc(b, cap);
            }
            memset(b + len, 'w', L);
            len += L;
        } else {
            append(&b, &len, &cap, "w%zu", i);
        }
        for (size_t j = 0; j < 50; j++)
            append(&b, &len, &cap, line == bad_line && j == 7 ? " 0.1x" : " %zu.%03zu", (i * 50 + j) % 97,
                   (i + j) % 1000);
        rows++;
        if (i + 1 < 40000)
            append(&b, &len, &cap, i % 3 == 0 ? "\r\n" : i % 3 == 1 ? " \n" : "\n");
    }
    *len_out = len;
    *rows_out = rows;
    return b;
}

static int same_store(const store *a, const store *b)
{
    if (!a || !b || store_size(a) != store_size(b) || store_dim(a) != store_dim(b))
        return 0;
    for (size_t i = 0; i < store_size(a); i++) {
        size_t la, lb;
        const char *wa = store_word(a, i, &la), *wb = store_word(b, i, &lb);
        if (la != lb || memcmp(wa, wb, la) != 0)
            return 0;
    }
    return memcmp(store_vectors(a), store_vectors(b), store_size(a) * store_dim(a) * sizeof(float)) == 0;
}

static void test_chunked_text(void)
{
    size_t n, rows;
    char *text = chunked_text(&n, 0, &rows);
    write_file(tpath("chunked.txt"), text, n);
    store *s[3] = {NULL, NULL, NULL};
    ev_error err = {0};
    for (int t = 0; t < 2; t++) {
        loader_opts o = {.threads = t + 1};
        CHECK(loader_load(tpath("chunked.txt"), &o, &s[t], &err) == EV_OK, "chunked, %d threads: %s", t + 1, err.msg);
        ev_error_clear(&err);
    }
    CHECK(loader_load_bytes("chunked", text, n, NULL, &s[2], &err) == EV_OK, "chunked from memory: %s", err.msg);
    ev_error_clear(&err);
    CHECK(s[0] && store_size(s[0]) == rows && store_dim(s[0]) == 50, "chunked: %zu rows expected",
          rows);
    if (s[0] && store_size(s[0]) == rows) {
        size_t i = 39999, r = rows - 1, len; /* the last line's last value, and the long word */
        char want[32];
        snprintf(want, sizeof want, "%zu.%03zu", (i * 50 + 49) % 97, (i + 49) % 1000);
        CHECK(store_vectors(s[0])[r * 50 + 49] == strtof(want, NULL), "last value %g, expected %s",
              (double)store_vectors(s[0])[r * 50 + 49], want);
        CHECK(store_find(s[0], "w20001", 6) >= 0 && store_word(s[0], (size_t)store_find(s[0], "w20001", 6) - 1,
                                                                 &len) && len == 600000, "long word");
    }
    CHECK(same_store(s[0], s[1]), "chunked: 1 and 2 threads differ");
    CHECK(same_store(s[0], s[2]), "chunked: file and memory differ");
    for (int t = 0; t < 3; t++)
        store_close(s[t]);
    free(text);
    /* a bad value on line 39000 (in the second range, many chunks in) */
    text = chunked_text(&n, 39000, &rows);
    write_file(tpath("chunked-bad.txt"), text, n);
    for (int t = 0; t < 3; t++) {
        store *x = NULL;
        loader_opts o = {.threads = t < 2 ? t + 1 : 0};
        ev_status st = t < 2 ? loader_load(tpath("chunked-bad.txt"), &o, &x, &err)
                             : loader_load_bytes("chunked-bad", text, n, &o, &x, &err);
        CHECK(st == EV_ERR_FORMAT && err.msg && strstr(err.msg, ":39000: value 8 of 'w38999'"),
              "chunked-bad (%d): %s", t, err.msg);
        CHECK(x == NULL, "chunked-bad: no store");
        ev_error_clear(&err);
    }
    free(text);
}

/* The header length of a safetensors file (its first 8 bytes); a cache written in place reserves ≥ 2 KiB, an
 * ordinary one needs a few hundred bytes. */
static uint64_t header_len(const char *path)
{
    unsigned char b[8] = {0};
    FILE *f = fopen(path, "rb");
    if (f) {
        if (fread(b, 1, 8, f) != 8)
            memset(b, 0, 8);
        fclose(f);
    }
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | b[i];
    return n;
}

/* Loads path through a store_sink writing out (the rows streamed to the output) and returns the written cache,
 * opened; NULL on failure (err set). */
static store *sink_convert(const char *path, const char *out, int threads, ev_error *err)
{
    store_sink *k = store_sink_new(out, strlen(path) + 256);
    loader_opts o = {.threads = threads, .rows_begin = store_sink_begin, .rows_write = store_sink_write, .rows_ctx = k};
    store *s = NULL, *c = NULL;
    ev_error_clear(err);
    if (k && loader_load(path, &o, &s, err) == EV_OK && store_sink_finish(k, s, err) == EV_OK)
        store_open(out, &c, err);
    store_close(s);
    store_sink_free(k);
    return c;
}

/* A cache written with the rows streamed in place equals the ordinary one (words, vectors, norms; store_open
 * checks the offsets and the index), with blank lines and duplicates (fewer rows than lines: a longer header), on
 * one and two threads; a binary input grows the file (the header's room inserted before the rows: one block) or
 * is copied (the ordinary layout); a sink whose file cannot be
 * created fails; a failed parse leaves no file behind (tests/test_store_sink.c compares the bytes). */
static void test_sink(void)
{
    ev_error err = {0};
    store *ref = load(tpath("chunked.txt"), VF_AUTO, 0, &err, NULL);
    CHECK(ref != NULL, "chunked: %s", err.msg);
    for (int t = 1; t <= 2; t++) {
        store *c = sink_convert(tpath("chunked.txt"), tpath("sink.safetensors"), t, &err);
        CHECK(c && same_store(ref, c), "sink, %d threads: %s", t, err.msg ? err.msg : "differs");
        CHECK(c && memcmp(store_norms(ref), store_norms(c), store_size(ref) * sizeof(float)) == 0, "sink: norms");
        CHECK(c && strcmp(store_meta(c, "source_format"), "glove") == 0, "sink: metadata");
        CHECK(header_len(tpath("sink.safetensors")) >= 2048, "sink: the matrix was not parsed in place");
        store_close(c);
    }
    store_close(ref);
    write_str("dups.txt", "a 1 2\nb 3 4\n\na 5 6\r\nc 7 8\n\n");
    store *c = sink_convert(tpath("dups.txt"), tpath("dups.safetensors"), 1, &err);
    CHECK(c && store_size(c) == 3 && store_find(c, "c", 1) == 2 && store_row(c, 2)[1] == 8.f &&
              store_row(c, 0)[0] == 1.f, "sink with duplicates and blank lines: %s", err.msg ? err.msg : "wrong rows");
    CHECK(header_len(tpath("dups.safetensors")) >= 2048, "sink with duplicates: not parsed in place");
    store_close(c);
    c = sink_convert("tests/fixtures/gensim/kv.bin", tpath("bin.safetensors"), 0, &err);
    ref = load("tests/fixtures/gensim/kv.bin", VF_AUTO, 0, &err, NULL);
    CHECK(c && ref && same_store(ref, c), "sink from a binary file (a stream)");
    CHECK(header_len(tpath("bin.safetensors")) < 4096, "sink from a binary file: a header longer than one block");
    store_close(c);
    store_close(ref);
    c = sink_convert(tpath("dups.txt"), tpath("missing/x.safetensors"), 1, &err);
    CHECK(!c && err.code == EV_ERR_WRITE && err.msg && strstr(err.msg, "missing/x.safetensors"),
          "sink into a missing directory: %s", err.msg ? err.msg : "no error");
    size_t n, rows;
    char *text = chunked_text(&n, 39000, &rows);
    write_file(tpath("sink-bad.txt"), text, n);
    free(text);
    c = sink_convert(tpath("sink-bad.txt"), tpath("bad.safetensors"), 2, &err);
    CHECK(!c && err.code == EV_ERR_FORMAT, "sink, bad input: %s", err.msg ? err.msg : "no error");
    CHECK(count_files("bad.safetensors") == 0, "sink, bad input: a file was left behind");
    CHECK(count_files(".tmp.") == 0, "sink: a temporary file was left behind");
    ev_error_clear(&err);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    test_gensim_fixtures();
    test_text_edge_cases();
    test_binary();
    test_round_trips();
    test_chunked_text();
    test_sink();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return check_done("test_loader");
}
