/* loader_text — the text formats (GloVe, word2vec text, fastText .vec) parsed from a mapped file: the file cut at
 * newlines into one range per thread, each range parsed into its own rows (loader_text_run, also used by the
 * streamed parser in loader_stream.c), the ranges' rows merged in order (loader_text_append), or streamed to a sink
 * in place. Errors name the file and line. */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE /* MADV_HUGEPAGE */
#define _GNU_SOURCE     /* memrchr */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "loader_internal.h"
#include "numparse.h"
#include "parallel.h"
#include "utf8.h"

#define MAX_THREADS PARALLEL_DEFAULT_MAX_THREADS /* the parser's threads: also its hard cap */
#define PROGRESS_STEP LOADER_PROGRESS_STEP
#ifndef PARALLEL_MIN_BYTES /* smaller text inputs are parsed by one thread (the fuzz build lowers it) */
#define PARALLEL_MIN_BYTES ((size_t)8 << 20)
#endif
#define is_blank loader_is_blank

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
            stop = loader_line_end(stop, j->end);
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
    store_row_norms(v, n, dim, norms);
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
            stop = loader_line_end(stop, end);
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
ev_status loader_parse_text(const char *path, const char *p, size_t n, int fd, size_t body, size_t header_count,
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
