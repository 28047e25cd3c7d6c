#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE /* MADV_HUGEPAGE */
#define _GNU_SOURCE     /* memrchr */
#include "loader.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader_internal.h"
#include "numparse.h"
#include "outfile.h"
#include "parallel.h"
#include "utf8.h"

#define DETECT_BYTES ((size_t)64 << 10) /* what format detection looks at */
#define MAPPING_BLOCK_BYTES ((size_t)32 << 20) /* a mapped binary file read for a sink: resident at a time */

const char *loader_format_name(vformat f)
{
    switch (f) {
    case VF_GLOVE: return "glove";
    case VF_W2V_TEXT: return "word2vec";
    case VF_W2V_BIN: return "word2vec-binary";
    case VF_CACHE: return "cache";
    case VF_FASTTEXT: return "fasttext-bin";
    default: return "auto";
    }
}

int loader_format_parse(const char *name, vformat *out)
{
    static const struct {
        const char *name;
        vformat f;
    } names[] = {{"auto", VF_AUTO},           {"glove", VF_GLOVE},          {"txt", VF_GLOVE},
                 {"word2vec", VF_W2V_TEXT},   {"w2v", VF_W2V_TEXT},         {"fasttext", VF_W2V_TEXT},
                 {"vec", VF_W2V_TEXT},        {"word2vec-binary", VF_W2V_BIN}, {"w2v-binary", VF_W2V_BIN},
                 {"bin", VF_W2V_BIN},         {"cache", VF_CACHE},          {"safetensors", VF_CACHE},
                 {"fasttext-bin", VF_FASTTEXT}, {"ftbin", VF_FASTTEXT}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i].name) == 0) {
            *out = names[i].f;
            return 0;
        }
    return -1;
}

vformat loader_format_for_path(const char *path)
{
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash))
        return VF_AUTO;
    if (strcmp(dot, ".safetensors") == 0)
        return VF_CACHE;
    if (strcmp(dot, ".txt") == 0)
        return VF_GLOVE;
    if (strcmp(dot, ".vec") == 0)
        return VF_W2V_TEXT;
    if (strcmp(dot, ".bin") == 0)
        return VF_W2V_BIN;
    return VF_AUTO;
}

/* ---- small scanning helpers ------------------------------------------------------------------------------ */

#define is_blank loader_is_blank

/* Parses an unsigned decimal integer token [p, e); -1 on syntax error or overflow. */
static int parse_size(const char *p, const char *e, size_t *out)
{
    if (p == e)
        return -1;
    size_t v = 0;
    for (; p < e; p++) {
        if (*p < '0' || *p > '9' || v > (SIZE_MAX - 9) / 10)
            return -1;
        v = v * 10 + (size_t)(*p - '0');
    }
    *out = v;
    return 0;
}

/* Splits [p, e) into up to max blank-separated tokens; returns the total number of tokens. */
static size_t tokens(const char *p, const char *e, const char **tb, const char **te, size_t max)
{
    size_t n = 0;
    while (p < e) {
        while (p < e && is_blank(*p))
            p++;
        if (p == e)
            break;
        const char *s = p;
        while (p < e && !is_blank(*p))
            p++;
        if (n < max) {
            tb[n] = s;
            te[n] = p;
        }
        n++;
    }
    return n;
}

/* A word2vec header "count dim" on the first line: returns 0 and fills the numbers, -1 otherwise. */
static int w2v_header(const char *p, const char *end, size_t *count, size_t *dim, size_t *body)
{
    const char *eol = loader_line_end(p, end);
    const char *tb[3], *te[3];
    if (tokens(p, eol, tb, te, 3) != 2 || parse_size(tb[0], te[0], count) || parse_size(tb[1], te[1], dim))
        return -1;
    *body = (size_t)(eol - p) + (eol < end);
    return 0;
}

/* Whether the first record after a word2vec header line looks like text: after its word (up to a blank), the bytes
 * up to the newline (or the end of what detection sees) are printable ASCII, blanks or valid UTF-8, and not only
 * blanks. A binary record's 4·dim bytes of floats practically never are (a control byte or invalid UTF-8 comes
 * first); a text row always is, even one with a wrong count of values, which must be reported as such (line
 * number) instead of being read as binary garbage. Empty lines before the record are skipped. */
static int looks_like_text(const char *p, const char *end)
{
    while (p < end && *p == '\n')
        p++;
    while (p < end && *p != ' ' && *p != '\t' && *p != '\n')
        p++;
    int seen = 0;
    const unsigned char *s = (const unsigned char *)p, *e = (const unsigned char *)end;
    while (s < e && *s != '\n') {
        uint32_t cp;
        size_t l;
        if (*s == ' ' || *s == '\t' || *s == '\r') {
            s++;
        } else if (*s >= 0x21 && *s <= 0x7e) {
            s++;
            seen = 1;
        } else if (*s >= 0x80 && (l = utf8_decode(s, (size_t)(e - s), &cp)) != 0) {
            s += l;
            seen = 1;
        } else {
            return 0;
        }
    }
    return seen;
}

/* The rule of loader_detect on the first bytes of an input (at most DETECT_BYTES of them are looked at). */
static vformat detect_bytes(const char *p, size_t n)
{
    if (n > DETECT_BYTES)
        n = DETECT_BYTES;
    if (loader_is_fasttext_bytes(p, n))
        return VF_FASTTEXT;
    if (store_is_cache_bytes((const unsigned char *)p, n))
        return VF_CACHE;
    size_t count, dim, body;
    if (w2v_header(p, p + n, &count, &dim, &body) == 0)
        return dim > 0 && looks_like_text(p + body, p + n) ? VF_W2V_TEXT : VF_W2V_BIN;
    int32_t version;
    if (n >= 8 && memchr(p, 0, 8) && (memcpy(&version, p + 4, 4), version == 11 || version == 12))
        return VF_FASTTEXT; /* binary, with fastText's version after a wrong magic number: say so */
    return VF_GLOVE;
}

ev_status loader_detect(const char *path, vformat *out, ev_error *err)
{
    input *in;
    ev_status st = input_open(path, 0, &in, err);
    if (st != EV_OK)
        return st;
    const char *p;
    size_t n;
    int fd;
    if (input_mapped(in, &p, &n, &fd)) {
        *out = detect_bytes(p, n);
    } else {
        sreader r;
        sreader_init(&r, in);
        if (sreader_fill(&r, DETECT_BYTES) != 0)
            st = ev_fail(err, r.st, "%s", r.err.msg ? r.err.msg : "read error");
        else if (r.n == 0)
            st = ev_fail(err, EV_ERR_FORMAT, "%s: empty file, expected word vectors", path);
        else
            *out = detect_bytes(r.p, r.n);
        sreader_free(&r);
    }
    input_close(in);
    return st;
}

/* Counts the values of the first non-blank line of [p, end) (blank lines advance *line); -1 when there is none,
 * -2 when it starts with a blank. *w, *wl: its word. */
static long first_row_values(const char *p, const char *end, size_t *line, const char **w, size_t *wl)
{
    for (;;) {
        if (p >= end)
            return -1;
        const char *eol = loader_line_end(p, end), *q = p;
        while (q < eol && is_blank(*q))
            q++;
        if (q < eol) {
            if (q != p)
                return -2;
            const char *tb[1], *te[1];
            size_t nt = tokens(p, eol, tb, te, 1);
            *w = tb[0];
            *wl = (size_t)(te[0] - tb[0]);
            return (long)nt - 1;
        }
        p = eol + 1;
        ++*line;
    }
}

ev_status loader_first_row(const char *path, size_t line, const char *p, const char *end, size_t dim, int from_header,
                           ev_error *err)
{
    const char *w = NULL;
    size_t wl = 0;
    long k = first_row_values(p, end, &line, &w, &wl);
    if (k == -2)
        return ev_fail(err, EV_ERR_FORMAT, "%s:%zu: expected a word at the start of the line, found a blank", path, line);
    if (k < 0 || (size_t)k == dim)
        return EV_OK;
    char *qw = ev_quote(w, wl, 64);
    ev_fail(err, EV_ERR_FORMAT, "%s:%zu: expected %zu values after '%s'%s, found %ld", path, line, dim, qw ? qw : "?",
            from_header ? " (the header's dimension)" : " (the first line's count)", k);
    free(qw);
    return EV_ERR_FORMAT;
}

ev_status loader_glove_dim(const char *path, size_t line, const char *p, const char *end, size_t *dim, char **numbers,
                           ev_error *err)
{
    const char *w;
    size_t wl, ln = line;
    *numbers = NULL;
    long k = first_row_values(p, end, &ln, &w, &wl);
    if (k == -1)
        return ev_fail(err, EV_ERR_FORMAT, "%s: no vectors found (only blank lines)", path);
    if (k == -2)
        return ev_fail(err, EV_ERR_FORMAT, "%s:%zu: expected a word at the start of the line, found a blank", path, ln);
    if (k == 0)
        return ev_fail(err, EV_ERR_FORMAT, "%s:%zu: expected a word followed by its values, found one field", path, ln);
    *dim = (size_t)k;
    if (ln == 1 && k >= 2) { /* "count dim extra"? only numbers on line 1: keep it for line 2's message */
        const char *eol = loader_line_end(p, end), *q = p;
        size_t v;
        int all = 1;
        while (all && q < eol) {
            while (q < eol && is_blank(*q))
                q++;
            const char *s = q;
            while (q < eol && !is_blank(*q))
                q++;
            all = q == s || parse_size(s, q, &v) == 0;
        }
        if (all && !(*numbers = ev_quote(p, (size_t)(eol - p), 60)))
            return ev_fail(err, EV_ERR_NOMEM, "%s: out of memory", path);
    }
    return EV_OK;
}

/* ---- loading --------------------------------------------------------------------------------------------- */

/* The word2vec header on the first line of [p, end), or the error for it. */
static ev_status header_of(const char *path, const char *p, const char *end, size_t *count, size_t *dim, size_t *body,
                           ev_error *err)
{
    if (w2v_header(p, end, count, dim, body) == 0 && *dim > 0)
        return EV_OK;
    char *q = ev_quote(p, (size_t)(loader_line_end(p, end) - p), 60);
    ev_fail(err, EV_ERR_FORMAT, "%s:1: expected a word2vec header \"count dim\" (dim ≥ 1), found '%s'", path, q ? q : "?");
    free(q);
    return EV_ERR_FORMAT;
}

/* Detects (unless forced) and parses the n mapped bytes at p (n > 0; not a cache) into rows; path labels messages.
 * Text is parsed in ranges on several threads; word2vec binary by the stream parser over the bytes as one block. */
static ev_status parse_mapped(const char *path, const char *p, size_t n, int fd, loader_opts *o, vformat f,
                              store_rows *rows, ev_error *err)
{
    if (f == VF_AUTO)
        f = detect_bytes(p, n);
    o->detected = f;
    size_t count = 0, dim = 0, body = 0;
    if (f == VF_CACHE)
        return ev_fail(err, EV_ERR_FORMAT, "%s: a cache (safetensors header) must be a regular file: it is mapped, "
                       "not read", path);
    if (f == VF_GLOVE)
        return loader_parse_text(path, p, n, fd, 0, 0, 0, o, rows, err);
    if (f == VF_FASTTEXT)
        return loader_fasttext(path, p, n, o, rows, err);
    ev_status st = header_of(path, p, p + n, &count, &dim, &body, err);
    if (st != EV_OK)
        return st;
    if (f == VF_W2V_TEXT)
        return loader_parse_text(path, p, n, fd, body, count, dim, o, rows, err);
    /* Rows written to a sink: the mapping is read in blocks whose pages are released behind the parser (the
     * file's pages would otherwise all count in the process's memory by the end). */
    input *in = fd >= 0 && o->rows_write ? input_from_mapping(path, p, n, MAPPING_BLOCK_BYTES)
                                         : input_from_memory(path, p, n);
    if (!in)
        return ev_fail(err, EV_ERR_NOMEM, "%s: out of memory", path);
    sreader r;
    sreader_init(&r, in);
    if (sreader_fill(&r, body) == 0) {
        sreader_advance(&r, body);
        st = loader_stream_bin(&r, path, count, dim, n, o, rows, err);
    } else {
        st = ev_fail(err, EV_ERR_NOMEM, "%s: out of memory", path);
    }
    sreader_free(&r);
    input_close(in);
    return st;
}

/* Detects (unless forced) and parses a stream (compressed, a zip member, a pipe) as its blocks arrive. */
static ev_status parse_stream(input *in, const char *path, loader_opts *o, vformat f, store_rows *rows, ev_error *err)
{
    sreader r;
    sreader_init(&r, in);
    ev_status st = EV_OK;
    input_kind packed = input_compression(in), inner;
    if (sreader_fill(&r, DETECT_BYTES) != 0) {
        st = ev_fail(err, r.st, "%s", r.err.msg ? r.err.msg : "read error");
        goto out;
    }
    if (r.n == 0) {
        st = ev_fail(err, EV_ERR_FORMAT, "%s: empty %s, expected word vectors", path,
                     packed == INPUT_PLAIN ? "file" : "data once decompressed");
        goto out;
    }
    if (packed != INPUT_PLAIN && (inner = input_sniff(r.p, r.n)) != INPUT_PLAIN) {
        st = ev_fail(err, EV_ERR_FORMAT, "%s: the %s data holds %s data: decompress the outer layer first", path,
                     input_kind_name(packed), input_kind_name(inner));
        goto out;
    }
    if (r.n >= 263 && memcmp(r.p + 257, "ustar", 5) == 0) {
        st = ev_fail(err, EV_ERR_FORMAT, "%s: a tar archive, expected a vector file: extract it first (tar xf)", path);
        goto out;
    }
    if (f == VF_AUTO)
        f = detect_bytes(r.p, r.n);
    o->detected = f;
    size_t count = 0, dim = 0, body = 0;
    if (f == VF_CACHE) {
        st = packed == INPUT_PLAIN ? ev_fail(err, EV_ERR_FORMAT, "%s: a cache (safetensors header) must be a regular "
                                             "file: it is mapped, not read", path)
                                   : ev_fail(err, EV_ERR_FORMAT, "%s: a cache (safetensors header) cannot be read "
                                             "compressed (it is mapped): decompress it first", path);
    } else if (f == VF_GLOVE) {
        st = loader_stream_text(&r, path, 1, 0, 0, o, rows, err);
    } else if (f == VF_FASTTEXT) { /* the whole model in memory, then as a mapped one */
        if (sreader_fill(&r, SIZE_MAX) != 0)
            st = ev_fail(err, r.st, "%s", r.err.msg ? r.err.msg : "read error");
        else
            st = loader_fasttext(path, r.p, r.n, o, rows, err);
    } else if ((st = header_of(path, r.p, r.p + r.n, &count, &dim, &body, err)) == EV_OK) {
        sreader_advance(&r, body);
        st = f == VF_W2V_TEXT ? loader_stream_text(&r, path, 2, count, dim, o, rows, err)
                              : loader_stream_bin(&r, path, count, dim, 0, o, rows, err);
    }
out:
    sreader_free(&r);
    return st;
}

ev_status loader_load_bytes(const char *name, const char *p, size_t n, loader_opts *opts, store **out, ev_error *err)
{
    loader_opts defaults = {0};
    loader_opts *o = opts ? opts : &defaults;
    *out = NULL;
    o->n_duplicates = 0;
    if (n == 0)
        return ev_fail(err, EV_ERR_FORMAT, "%s: empty file, expected word vectors", name);
    store_rows rows = {0};
    o->compression = INPUT_PLAIN;
    ev_status st = parse_mapped(name, p, n, -1, o, o->format, &rows, err);
    if (st != EV_OK)
        return st;
    return store_from_rows(&rows, name, loader_format_name(o->detected), &o->n_duplicates, out, err);
}

ev_status loader_load(const char *path, loader_opts *opts, store **out, ev_error *err)
{
    loader_opts defaults = {0};
    loader_opts *o = opts ? opts : &defaults;
    *out = NULL;
    o->n_duplicates = 0;
    vformat f = o->format;
    if (f == VF_CACHE || (f == VF_AUTO && strcmp(path, "-") != 0 && store_is_cache_file(path))) {
        o->detected = VF_CACHE;
        ev_status st = store_open(path, out, err);
        if (st == EV_OK && o->limit && (st = store_limit(*out, o->limit, err)) != EV_OK) {
            store_close(*out);
            *out = NULL;
        }
        return st;
    }
    input *in;
    ev_status st = input_open(path, o->block_bytes, &in, err);
    if (st != EV_OK)
        return st;
    o->compression = input_compression(in);
    store_rows rows = {0};
    const char *p;
    size_t n;
    int fd;
    if (input_mapped(in, &p, &n, &fd))
        st = parse_mapped(input_name(in), p, n, fd, o, f, &rows, err); /* its path, or "stdin" for "-" */
    else
        st = parse_stream(in, input_name(in), o, f, &rows, err);
    char *abs = NULL;
    const char *member = input_member(in);
    if (st == EV_OK && member) { /* the archive's absolute path and the member: input_name is "ARCHIVE:MEMBER" */
        char *archive = strndup(input_name(in), strlen(input_name(in)) - strlen(member) - 1);
        char *aabs = archive ? realpath(archive, NULL) : NULL;
        abs = aabs ? ev_strdup_printf("%s:%s", aabs, member) : NULL;
        free(archive);
        free(aabs);
    } else if (st == EV_OK) {
        abs = realpath(path, NULL);
    }
    if (st == EV_OK)
        st = store_from_rows(&rows, abs ? abs : input_name(in), loader_format_name(o->detected), &o->n_duplicates,
                             out, err);
    free(abs);
    input_close(in);
    return st;
}

/* ---- writing --------------------------------------------------------------------------------------------- */

ev_status loader_write(const store *s, const char *path, vformat fmt, loader_progress_fn progress, void *ctx,
                       ev_error *err)
{
    if (fmt == VF_AUTO)
        fmt = loader_format_for_path(path);
    if (fmt == VF_AUTO)
        return ev_fail(err, EV_ERR_USAGE,
                       "%s: cannot tell the output format from the extension (expected .safetensors, .txt, .vec or "
                       ".bin; or give --to FORMAT)",
                       path);
    if (fmt == VF_CACHE)
        return store_write_cache(s, path, err);
    if (fmt == VF_FASTTEXT)
        return ev_fail(err, EV_ERR_USAGE, "%s: fastText .bin models are read, not written: convert to .safetensors "
                       "(keeps the n-grams), .vec, .txt or .bin (word2vec)", path);
    outfile of;
    ev_status st = outfile_open(&of, path, err);
    if (st != EV_OK)
        return st;
    size_t V = store_size(s), d = store_dim(s);
    FILE *fp = of.fp;
    if (fmt != VF_GLOVE)
        fprintf(fp, "%zu %zu\n", V, d);
    char num[32];
    size_t step = V / 100 + 1;
    for (size_t i = 0; i < V && !ferror(fp); i++) {
        size_t wl;
        const char *w = store_word(s, i, &wl);
        fwrite(w, 1, wl, fp);
        const float *r = store_row(s, i);
        if (fmt == VF_W2V_BIN) {
            fputc(' ', fp);
            fwrite(r, sizeof *r, d, fp);
        } else {
            for (size_t k = 0; k < d; k++) {
                num[0] = ' ';
                int len = numparse_format_float(r[k], num + 1);
                fwrite(num, 1, (size_t)len + 1, fp);
            }
        }
        fputc('\n', fp);
        if (progress && i % step == 0)
            progress(ctx, "writing", (double)i / (double)V);
    }
    if (progress)
        progress(ctx, "writing", 1.0);
    return outfile_commit(&of, err);
}
