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

#define MAX_THREADS PARALLEL_DEFAULT_MAX_THREADS /* the parser's threads: also its hard cap */
#define PROGRESS_STEP LOADER_PROGRESS_STEP
#define DETECT_BYTES ((size_t)64 << 10) /* what format detection looks at */
#define MAPPING_BLOCK_BYTES ((size_t)32 << 20) /* a mapped binary file read for a sink: resident at a time */
#ifndef PARALLEL_MIN_BYTES           /* smaller text inputs are parsed by one thread (the fuzz build lowers it) */
#define PARALLEL_MIN_BYTES ((size_t)8 << 20)
#endif

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

/* Asks for transparent huge pages on the page-aligned interior of a large heap block (the matrix being filled):
 * ~70 page faults instead of ~33,000 for GloVe 6B 100d. A hint only: nothing changes where it is not supported. */
static void hint_huge_pages(void *p, size_t n)
{
#ifdef MADV_HUGEPAGE
    const uintptr_t huge = (uintptr_t)2 << 20;
    uintptr_t b = ((uintptr_t)p + huge - 1) & ~(huge - 1), e = ((uintptr_t)p + n) & ~(huge - 1);
    if (p && n >= 2 * (size_t)huge && e > b)
        (void)madvise((void *)b, (size_t)(e - b), MADV_HUGEPAGE);
#else
    (void)p;
    (void)n;
#endif
}

/* ---- small scanning helpers ------------------------------------------------------------------------------ */

#define is_blank loader_is_blank

static const char *line_end(const char *p, const char *end)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    return nl ? nl : end;
}

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
    const char *eol = line_end(p, end);
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
        const char *eol = line_end(p, end), *q = p;
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
        const char *eol = line_end(p, end), *q = p;
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

/* ---- text parsing (GloVe, word2vec text, fastText .vec) ------------------------------------------------- */

static ev_status text_fail_value(text_job *j, size_t line, const char *w, size_t wl, size_t k, const char *tb,
                                 const char *te, numparse_status ns)
{
    char *qw = ev_quote(w, wl, 64), *qv = ev_quote(tb, (size_t)(te - tb), 40);
    const char *what = ns == NUMPARSE_NONFINITE ? "NaN and infinity are not accepted"
                       : ns == NUMPARSE_RANGE   ? "out of float32 range"
                                                : "not a decimal number";
    ev_fail(&j->err, EV_ERR_FORMAT, "%s:%zu: value %zu of '%s': expected a finite number, found '%s' (%s)",
            j->path, line, k + 1, qw ? qw : "?", qv ? qv : "?", what);
    free(qw);
    free(qv);
    return EV_ERR_FORMAT;
}

/* A row with found values instead of j->dim. Line 2 of a GloVe file whose line 1 is only numbers: that line was
 * meant as a word2vec header ("count dim") and has a field too many. */
static ev_status text_fail_count(text_job *j, size_t line, const char *w, size_t wl, size_t found)
{
    if (j->numbers_line && line == 2)
        return ev_fail(&j->err, EV_ERR_FORMAT, "%s:1: expected a word2vec header \"count dim\", found %zu numbers '%s' "
                       "(line 2 has %zu values after its word)", j->path, j->dim + 1, j->numbers_line, found);
    char *qw = ev_quote(w, wl, 64);
    ev_fail(&j->err, EV_ERR_FORMAT, "%s:%zu: expected %zu values after '%s'%s, found %zu", j->path, line, j->dim,
            qw ? qw : "?", j->dim_from_header ? " (the header's dimension)" : " (the first line's count)", found);
    free(qw);
    return EV_ERR_FORMAT;
}

/* Room for n more bytes of words in j (grown geometrically): 0, or -1 when out of memory. */
static int words_room(text_job *j, size_t n)
{
    if (j->words_len + n > j->words_cap) {
        size_t cap = j->words_cap ? j->words_cap : 1 << 16;
        while (cap < j->words_len + n)
            cap *= 2;
        char *nw = realloc(j->words, cap);
        if (!nw)
            return -1;
        j->words = nw;
        j->words_cap = cap;
    }
    return 0;
}

static int words_push(text_job *j, const char *w, size_t n)
{
    if (words_room(j, n + 1) != 0)
        return -1;
    memcpy(j->words + j->words_len, w, n);
    j->words[j->words_len + n] = '\0';
    j->words_len += n + 1;
    return 0;
}

static int is_sep(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* Parses whole lines of [p, end) in one pass (no separate search for the line end): a word, then blank-
 * separated values up to '\n'. Blanks are space, tab and CR, so CRLF and trailing blanks are accepted; blank
 * lines are skipped. Continues j's rows and line count; sets j->status on error. */
void loader_text_run(text_job *j, const char *p, const char *end)
{
    size_t line = j->line, dim = j->dim;
    while (p < end && j->rows < j->max_rows) {
        const char *q = p;
        while (q < end && !is_sep(*q))
            q++;
        if (q == p) {
            const char *r = p;
            while (r < end && is_blank(*r))
                r++;
            if (r == end || *r == '\n') { /* blank line: skipped */
                p = r + 1;
                line++;
                continue;
            }
            j->status = ev_fail(&j->err, EV_ERR_FORMAT, "%s:%zu: expected a word at the start of the line, found a blank",
                                j->path, line);
            return;
        }
        const char *w = p;
        size_t wl = (size_t)(q - p);
        float *dst = j->vectors + (j->rows - j->vec_row0) * dim;
        size_t k = 0;
        for (;;) {
            while (q < end && is_blank(*q))
                q++;
            if (q == end || *q == '\n')
                break;
            const char *tb = q;
            if (k == dim) { /* too many: count them for the message */
                while (q < end && (unsigned char)*q > ' ')
                    q++;
                size_t found = k + 1;
                for (;;) {
                    while (q < end && is_blank(*q))
                        q++;
                    if (q == end || *q == '\n')
                        break;
                    while (q < end && !is_sep(*q))
                        q++;
                    found++;
                }
                j->status = text_fail_count(j, line, w, wl, found);
                return;
            }
            numparse_status ns = numparse_float_token(tb, end, &dst[k], &q); /* q: the token's end */
            if (ns != NUMPARSE_OK) {
                if (q == tb) /* a control byte: show it */
                    q++;
                j->status = text_fail_value(j, line, w, wl, k, tb, q, ns);
                return;
            }
            k++;
        }
        if (k < dim) {
            j->status = text_fail_count(j, line, w, wl, k);
            return;
        }
        if (words_push(j, w, wl) != 0) {
            j->status = ev_fail(&j->err, EV_ERR_NOMEM, "%s:%zu: out of memory storing words", j->path, line);
            return;
        }
        j->rows++;
        j->offsets[j->rows] = j->words_len;
        p = q + 1;
        line++;
    }
    j->line = line;
}

int loader_text_append(text_job *dst, const text_job *src)
{
    if (src->rows > dst->max_rows - dst->rows || words_room(dst, src->words_len) != 0)
        return -1;
    if (src->rows)
        memcpy(dst->vectors + (dst->rows - dst->vec_row0) * dst->dim, src->vectors, src->rows * src->dim * sizeof(float));
    if (src->words_len)
        memcpy(dst->words + dst->words_len, src->words, src->words_len);
    for (size_t i = 0; i < src->rows; i++)
        dst->offsets[dst->rows + i + 1] = dst->words_len + src->offsets[i + 1];
    dst->rows += src->rows;
    dst->words_len += src->words_len;
    dst->line += src->line - 1;
    return 0;
}

/* Text of [j->begin, j->end) in pieces of whole lines (the last may lack its newline): *p, *e set, 1; 0 when
 * done; -1 with j->status set on a read error. From memory the pieces are slices of the range; from a file they
 * are read with pread into *buf (grown as a line needs): the first touch of each page of a fresh mapping costs
 * more here than copying it from the page cache into a small buffer that stays in cache. */
typedef struct {
    size_t done;      /* bytes of the range handed out or carried */
    char *buf;
    size_t cap, have, used; /* buf[used, have): a partial line carried to the next piece */
} chunk_state;

#define CHUNK_BYTES ((size_t)256 << 10)

static int text_chunk(text_job *j, chunk_state *c, const char **p, const char **e)
{
    size_t len = (size_t)(j->end - j->begin);
    if (j->fd < 0) { /* memory: slices of about CHUNK_BYTES, ending after a newline */
        if (c->done >= len)
            return 0;
        const char *b = j->begin + c->done, *stop = len - c->done > CHUNK_BYTES ? b + CHUNK_BYTES : j->end;
        if (stop < j->end) {
            stop = line_end(stop, j->end);
            stop = stop < j->end ? stop + 1 : j->end;
        }
        *p = b;
        *e = stop;
        c->done = (size_t)(stop - j->begin);
        return 1;
    }
    if (c->used) {
        memmove(c->buf, c->buf + c->used, c->have - c->used);
        c->have -= c->used;
        c->used = 0;
    }
    for (;;) {
        if (c->done < len && c->have == c->cap) { /* a line longer than the buffer */
            size_t cap = c->cap ? c->cap * 2 : CHUNK_BYTES;
            char *nb = realloc(c->buf, cap);
            if (!nb) {
                j->status = ev_fail(&j->err, EV_ERR_NOMEM, "%s:%zu: out of memory for a line", j->path, j->line);
                return -1;
            }
            c->buf = nb;
            c->cap = cap;
        }
        if (c->done < len) {
            size_t want = c->cap - c->have < len - c->done ? c->cap - c->have : len - c->done;
            ssize_t r = pread(j->fd, c->buf + c->have, want, (off_t)(j->file_off + c->done));
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                j->status = r < 0 ? ev_fail(&j->err, EV_ERR_IO, "%s: read error at byte %zu: %s", j->path,
                                            j->file_off + c->done, strerror(errno))
                                  : ev_fail(&j->err, EV_ERR_IO, "%s: the file shrank while being read (at byte %zu)",
                                            j->path, j->file_off + c->done);
                return -1;
            }
            c->have += (size_t)r;
            c->done += (size_t)r;
        }
        if (c->have == 0)
            return 0;
        const char *last = c->buf + c->have;
        if (c->done < len) { /* more to come: hand out whole lines only */
            const char *nl = memrchr(c->buf, '\n', c->have);
            if (!nl)
                continue;
            last = nl + 1;
        }
        *p = c->buf;
        *e = last;
        c->used = (size_t)(last - c->buf);
        if (c->used == c->have)
            c->have = c->used = 0;
        return 1;
    }
}

int loader_grow(void *p, size_t *cap, size_t want, size_t elem)
{
    if (want <= *cap)
        return 0;
    size_t nc = *cap * 2 > want ? *cap * 2 : want;
    if (nc > SIZE_MAX / elem)
        return -1;
    void *np = realloc(*(void **)p, nc * elem);
    if (!np)
        return -1;
    *(void **)p = np;
    *cap = nc;
    return 0;
}

ev_status loader_rows_out(const loader_opts *o, size_t row, const float *v, size_t n, size_t dim, float *norms,
                          ev_error *err)
{
    for (size_t i = 0; i < n; i++) {
        const float *r = v + i * dim;
        double acc = 0;
        for (size_t k = 0; k < dim; k++)
            acc += (double)r[k] * r[k];
        norms[i] = (float)sqrt(acc);
    }
    return n ? o->rows_write(o->rows_ctx, row, v, n, err) : EV_OK;
}

/* Parses job j's range piece by piece, reporting progress (job 0 only) as it goes. With a sink, each piece's rows
 * are parsed into a block of the piece's size and written out before the next. */
static void text_job_run(text_job *j)
{
    chunk_state c = {0};
    const char *p, *e;
    size_t len = (size_t)(j->end - j->begin), next_progress = PROGRESS_STEP;
    j->offsets[0] = 0;
    while (j->status == EV_OK && j->rows < j->max_rows && text_chunk(j, &c, &p, &e) == 1) {
        if (j->sink) { /* room for every row the piece can hold: each takes at least 2·dim + 1 bytes */
            size_t room = (size_t)(e - p) / (2 * j->dim + 1) + 1;
            if (room > j->max_rows - j->rows)
                room = j->max_rows - j->rows;
            if (loader_grow(&j->vectors, &j->vec_cap, room, j->dim * sizeof(float)) != 0) {
                j->status = ev_fail(&j->err, EV_ERR_NOMEM, "%s:%zu: out of memory for %zu rows", j->path, j->line, room);
                break;
            }
            j->vec_row0 = j->rows;
        }
        loader_text_run(j, p, e);
        if (j->sink && j->status == EV_OK)
            j->status = loader_rows_out(j->sink, j->sink_row0 + j->vec_row0, j->vectors, j->rows - j->vec_row0,
                                        j->dim, j->norms + j->vec_row0, &j->err);
        if (j->progress && c.done >= next_progress) {
            j->progress(j->progress_ctx, "reading", (double)c.done / (double)len);
            next_progress = c.done + PROGRESS_STEP;
        }
    }
    free(c.buf);
}

/* parallel_for bodies: text_job_run on jobs [lo, hi) (those that could get their buffers) … */
static void text_ranges(void *ctx, size_t lo, size_t hi, int tid)
{
    (void)tid;
    text_job *jobs = ctx;
    for (size_t t = lo; t < hi; t++)
        if (jobs[t].status == EV_OK)
            text_job_run(&jobs[t]);
}

static size_t count_newlines(const char *p, const char *end)
{
    size_t n = 0;
    while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        n++;
        p++;
    }
    return n;
}

/* … and the newlines of jobs [lo, hi), read as they will be parsed. */
static void count_ranges(void *ctx, size_t lo, size_t hi, int tid)
{
    (void)tid;
    text_job *jobs = ctx;
    for (size_t t = lo; t < hi; t++) {
        chunk_state c = {0};
        const char *p, *e;
        while (text_chunk(&jobs[t], &c, &p, &e) == 1)
            jobs[t].newlines += count_newlines(p, e);
        free(c.buf);
    }
}

/* Parses text rows from p[body..n) in ranges on several threads, dim known (numbers: see text_job). fd ≥ 0: p is
 * a mapping of that file; the bulk is read from the file instead (see text_chunk). */
static ev_status parse_text_ranges(const char *path, const char *p, size_t n, int fd, size_t body, size_t header_count,
                                   size_t header_dim, size_t dim, const char *numbers, const loader_opts *o,
                                   store_rows *out, ev_error *err)
{
    const char *begin = p + body, *end = p + n;
    size_t first_line = header_dim ? 2 : 1;
    int T = o->threads > 0 ? o->threads : parallel_cores(MAX_THREADS);
    if (T > MAX_THREADS)
        T = MAX_THREADS;
    if (o->limit || (size_t)(end - begin) < (size_t)PARALLEL_MIN_BYTES)
        T = 1;
    /* Ranges of whole lines, one per thread. */
    const char *cuts[MAX_THREADS + 1];
    int made = 0;
    cuts[0] = begin;
    for (int t = 0; t < T && cuts[t] < end; t++) {
        const char *stop = t == T - 1 ? end : begin + (size_t)(end - begin) * (size_t)(t + 1) / (size_t)T;
        if (stop < cuts[t])
            stop = cuts[t];
        if (stop < end) {
            stop = line_end(stop, end);
            stop = stop < end ? stop + 1 : end;
        }
        cuts[t + 1] = stop;
        made = t + 1;
    }
    text_job jobs[MAX_THREADS];
    memset(jobs, 0, sizeof jobs);
    for (int t = 0; t < made; t++) {
        text_job *j = &jobs[t];
        j->path = path;
        j->begin = cuts[t];
        j->end = cuts[t + 1];
        j->fd = fd;
        j->file_off = (size_t)(cuts[t] - p);
        j->dim = dim;
        j->dim_from_header = header_dim != 0;
        j->numbers_line = numbers;
    }
    /* Each range's lines, counted by its own thread (with --limit the limit bounds the rows instead). */
    if (!o->limit)
        parallel_for(made, (size_t)made, count_ranges, jobs);
    for (int t = 0; t < made; t++)
        if (jobs[t].status != EV_OK) { /* a read error */
            ev_status st = ev_fail(err, jobs[t].status, "%s", jobs[t].err.msg ? jobs[t].err.msg : "read error");
            for (int u = 0; u < made; u++)
                ev_error_clear(&jobs[u].err);
            return st;
        }
    /* Rows: at most one per line, and each needs ≥ 2·dim + 1 bytes; --limit bounds them too (one range then). A
     * range's rows go to vectors after the bounds of the ranges before it (the gaps are closed when merging): the
     * buffer stays within the file's size bound, whatever the blank lines. */
    size_t row_base[MAX_THREADS + 1];
    row_base[0] = 0;
    for (int t = 0; t < made; t++) {
        /* a range before the last ends just after a newline: its rows are at most its newlines (no gap to close
         * when merging unless there are blank lines); the last range's final line may lack its newline */
        size_t lines = jobs[t].newlines + (t == made - 1);
        size_t cap = (size_t)(cuts[t + 1] - cuts[t]) / (2 * dim + 1) + 1; /* by size */
        if (o->limit ? o->limit < cap : lines < cap)
            cap = o->limit ? o->limit : lines;
        row_base[t + 1] = row_base[t] + cap;
    }
    size_t max_rows = row_base[made];
    if (max_rows > SIZE_MAX / sizeof(float) / dim)
        return ev_fail(err, EV_ERR_NOMEM, "%s: too large to hold in memory", path);
    const loader_opts *sink = o->rows_write && max_rows ? o : NULL; /* (no rows: "no vectors found" below) */
    float *vectors = NULL;
    if (sink) {
        ev_status st = o->rows_begin(o->rows_ctx, max_rows, dim, err);
        if (st != EV_OK)
            return st;
    } else {
        vectors = malloc((max_rows ? max_rows : 1) * dim * sizeof *vectors);
        hint_huge_pages(vectors, (max_rows ? max_rows : 1) * dim * sizeof *vectors);
        if (!vectors)
            return ev_fail(err, EV_ERR_NOMEM, "%s: out of memory for %zu × %zu values", path, max_rows, dim);
    }
    size_t lines_before = 0;
    for (int t = 0; t < made; t++) {
        text_job *j = &jobs[t];
        j->line = first_line + lines_before;
        lines_before += j->newlines;
        j->max_rows = row_base[t + 1] - row_base[t];
        j->vectors = sink ? NULL : vectors + row_base[t] * dim;
        j->sink = sink;
        j->sink_row0 = row_base[t];
        j->offsets = malloc((j->max_rows + 1) * sizeof *j->offsets);
        j->norms = sink ? malloc((j->max_rows ? j->max_rows : 1) * sizeof *j->norms) : NULL;
        if (!j->offsets || (sink && !j->norms))
            j->status = ev_fail(&j->err, EV_ERR_NOMEM, "%s: out of memory", path);
        if (t == 0) {
            j->progress = o->progress;
            j->progress_ctx = o->progress_ctx;
        }
    }
    parallel_for(made, (size_t)made, text_ranges, jobs);
    ev_status st = EV_OK;
    for (int t = 0; t < made && st == EV_OK; t++)
        if (jobs[t].status != EV_OK) {
            st = ev_fail(err, jobs[t].status, "%s", jobs[t].err.msg ? jobs[t].err.msg : "parse error");
        }
    /* Merge: rows of range t follow those of range t-1 (blank lines leave gaps to close). */
    size_t rows = 0, wbytes = 0;
    for (int t = 0; t < made; t++) {
        rows += jobs[t].rows;
        wbytes += jobs[t].words_len;
    }
    char *words = NULL;
    size_t *offsets = NULL, *rowpos = NULL;
    float *norms = NULL;
    if (st == EV_OK) {
        words = malloc(wbytes ? wbytes : 1);
        offsets = malloc((rows + 1) * sizeof *offsets);
        norms = sink ? malloc((rows ? rows : 1) * sizeof *norms) : NULL;
        if (!words || !offsets || (sink && !norms))
            st = ev_fail(err, EV_ERR_NOMEM, "%s: out of memory merging %zu words", path, rows);
    }
    if (st == EV_OK && sink) { /* a range after blank lines left rows unused before it: where each row went */
        size_t r = 0;
        for (int t = 0; t < made && !rowpos && st == EV_OK; t++) {
            if (r != row_base[t] && jobs[t].rows && !(rowpos = malloc((rows ? rows : 1) * sizeof *rowpos)))
                st = ev_fail(err, EV_ERR_NOMEM, "%s: out of memory merging %zu words", path, rows);
            r += jobs[t].rows;
        }
        r = 0;
        for (int t = 0; t < made && rowpos; t++)
            for (size_t i = 0; i < jobs[t].rows; i++)
                rowpos[r++] = row_base[t] + i;
    }
    if (st == EV_OK) {
        size_t r = 0, wpos = 0;
        offsets[0] = 0;
        for (int t = 0; t < made; t++) {
            text_job *j = &jobs[t];
            if (sink && j->rows)
                memcpy(norms + r, j->norms, j->rows * sizeof *norms);
            else if (r != row_base[t] && j->rows)
                memmove(vectors + r * dim, vectors + row_base[t] * dim, j->rows * dim * sizeof *vectors);
            if (j->words_len) /* a range of blank lines has no words (and words NULL) */
                memcpy(words + wpos, j->words, j->words_len);
            for (size_t i = 0; i < j->rows; i++)
                offsets[r + i + 1] = wpos + j->offsets[i + 1];
            r += j->rows;
            wpos += j->words_len;
            free(j->words); /* merged: memory holds each word once more only for one range at a time */
            free(j->offsets);
            free(j->norms);
            j->words = NULL;
            j->offsets = NULL;
            j->norms = NULL;
        }
        if (header_dim && !o->limit && rows != header_count) /* header_dim: word2vec text (a count of 0 too) */
            st = ev_fail(err, EV_ERR_FORMAT, "%s:1: header says %zu words, the file has %zu", path, header_count,
                         rows);
        else if (header_dim && o->limit && rows < o->limit && rows != header_count)
            st = ev_fail(err, EV_ERR_FORMAT, "%s:1: header says %zu words, the file has %zu", path, header_count,
                         rows);
        else if (rows == 0)
            st = ev_fail(err, EV_ERR_FORMAT, "%s: no vectors found", path);
    }
    for (int t = 0; t < made; t++) {
        free(jobs[t].words);
        free(jobs[t].offsets);
        free(jobs[t].norms);
        if (sink)
            free(jobs[t].vectors); /* the block */
        ev_error_clear(&jobs[t].err);
    }
    if (st != EV_OK) {
        free(vectors);
        free(words);
        free(offsets);
        free(norms);
        free(rowpos);
        return st;
    }
    if (o->progress)
        o->progress(o->progress_ctx, "reading", 1.0);
    out->n = rows;
    out->dim = dim;
    out->vectors = vectors;
    out->words = words;
    out->offsets = offsets;
    out->norms = norms;
    out->rowpos = rowpos;
    return EV_OK;
}

/* Parses text rows from p[body..n). header_count/header_dim are 0 for GloVe (dim from the first row); a word2vec
 * header's dimension is checked against the first row before anything is allocated for it. */
static ev_status parse_text(const char *path, const char *p, size_t n, int fd, size_t body, size_t header_count,
                            size_t header_dim, const loader_opts *o, store_rows *out, ev_error *err)
{
    size_t dim = header_dim;
    char *numbers = NULL;
    ev_status st = header_dim ? loader_first_row(path, 2, p + body, p + n, header_dim, 1, err)
                              : loader_glove_dim(path, 1, p + body, p + n, &dim, &numbers, err);
    if (st == EV_OK && header_dim > (n - body) / 2 + 1) /* no row at all, and no room for one */
        st = ev_fail(err, EV_ERR_FORMAT, "%s:1: header claims dimension %zu, but the file has only %zu bytes after it",
                     path, header_dim, n - body);
    if (st == EV_OK)
        st = parse_text_ranges(path, p, n, fd, body, header_count, header_dim, dim, numbers, o, out, err);
    free(numbers);
    return st;
}

/* ---- loading --------------------------------------------------------------------------------------------- */

/* The word2vec header on the first line of [p, end), or the error for it. */
static ev_status header_of(const char *path, const char *p, const char *end, size_t *count, size_t *dim, size_t *body,
                           ev_error *err)
{
    if (w2v_header(p, end, count, dim, body) == 0 && *dim > 0)
        return EV_OK;
    char *q = ev_quote(p, (size_t)(line_end(p, end) - p), 60);
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
        return parse_text(path, p, n, fd, 0, 0, 0, o, rows, err);
    if (f == VF_FASTTEXT)
        return loader_fasttext(path, p, n, o, rows, err);
    ev_status st = header_of(path, p, p + n, &count, &dim, &body, err);
    if (st != EV_OK)
        return st;
    if (f == VF_W2V_TEXT)
        return parse_text(path, p, n, fd, body, count, dim, o, rows, err);
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
