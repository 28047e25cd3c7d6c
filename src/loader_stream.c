/* loader_stream — vector files read as a stream of blocks (input.h): the window reader over the blocks, text rows
 * parsed as the blocks arrive (compressed files, pipes), and the word2vec binary parser (every binary file: a mapped
 * one is a stream of one block).
 *
 * Threads: a long window of text (a block of a compressed file) is cut at newlines into one piece per parser thread
 * (loader_opts.threads, default one per core) and the pieces parsed at once, the first straight into the rows, the
 * others into scratch rows appended after it in order; the decompressing reader thread runs beside them. A piece
 * that fails is parsed again after the pieces before it, so that its message has the right line number.
 *
 * Memory: the window is a block's bytes in place; only what straddles two blocks (a line, a binary record) is
 * copied into the staging buffer. The matrix and the words grow with the rows parsed (realloc: mremap for large
 * blocks, no copy), bounded by what the bytes seen so far can hold — never by a header's claim. With a sink
 * (loader_opts.rows_write) the matrix is instead a block of rows written out as it fills; the words, offsets and
 * norms still grow. */
#define _GNU_SOURCE /* memrchr */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loader_internal.h"
#include "parallel.h"

#ifndef STREAM_SPLIT_BYTES
#define STREAM_SPLIT_BYTES ((size_t)256 << 10) /* a window of text at least this long is parsed in pieces at once */
#endif
#define STREAM_MAX_THREADS PARALLEL_DEFAULT_MAX_THREADS
/* A window is cut into this many pieces per thread, handed out as each thread is free: the decompressing reader
 * shares the cores with the parsers, and a piece held up on a shared core would leave the others waiting. */
#define STREAM_PIECES_PER_THREAD 4
#define STREAM_MAX_PIECES (STREAM_MAX_THREADS * STREAM_PIECES_PER_THREAD)

/* ---- the window ------------------------------------------------------------------------------------------- */

static const char nothing[1]; /* the empty window's bytes: never a null or dangling pointer */

void sreader_init(sreader *r, input *in)
{
    memset(r, 0, sizeof *r);
    r->in = in;
    r->p = nothing;
}

void sreader_free(sreader *r)
{
    free(r->buf);
    ev_error_clear(&r->err);
    r->buf = NULL;
}

static int stage_room(sreader *r, size_t need)
{
    if (need <= r->cap)
        return 0;
    size_t cap = r->cap ? r->cap : (size_t)64 << 10;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    size_t at = r->staged && r->n ? (size_t)(r->p - r->buf) : 0; /* a staged window is in buf (or empty) */
    char *nb = realloc(r->buf, cap);
    if (!nb) {
        r->st = ev_fail(&r->err, EV_ERR_NOMEM, "%s: out of memory for a record of %zu bytes", input_name(r->in), need);
        return -1;
    }
    if (r->staged)
        r->p = nb + at;
    r->buf = nb;
    r->cap = cap;
    return 0;
}

/* Moves the window to the front of the staging buffer (so that the block it was in may be released). */
static int stage(sreader *r)
{
    if (r->staged) {
        if (r->n && r->p != r->buf)
            memmove(r->buf, r->p, r->n);
        if (r->buf)
            r->p = r->buf;
        return 0;
    }
    if (stage_room(r, r->n) != 0)
        return -1;
    if (r->n)
        memcpy(r->buf, r->p, r->n);
    r->p = r->buf ? r->buf : nothing;
    r->staged = 1;
    return 0;
}

/* Bytes after the window in r->rest: 1, 0 at the end, -1 on an error. */
static int more(sreader *r)
{
    if (r->rest_n)
        return 1;
    if (r->eof)
        return 0;
    if (r->st != EV_OK)
        return -1;
    const char *b;
    size_t bn;
    int x = input_next(r->in, &b, &bn, &r->err);
    if (x < 0) {
        r->st = r->err.code ? r->err.code : EV_ERR_IO;
        return -1;
    }
    if (x == 0) {
        r->eof = 1;
        return 0;
    }
    r->rest = b;
    r->rest_n = bn;
    return 1;
}

/* The window is empty: the next bytes become it, in place. */
static int next_window(sreader *r)
{
    if (!r->rest_n) {
        r->staged = 1; /* (empty) so that input_next may release the block */
        r->p = nothing;
        int x = more(r);
        if (x <= 0)
            return x;
    }
    r->p = r->rest;
    r->n = r->rest_n;
    r->rest_n = 0;
    r->staged = 0;
    return 1;
}

/* Appends up to k bytes of r->rest to the staged window. */
static int append(sreader *r, size_t k)
{
    if (stage_room(r, r->n + k) != 0)
        return -1;
    memcpy(r->buf + r->n, r->rest, k);
    r->n += k;
    r->rest += k;
    r->rest_n -= k;
    return 0;
}

int sreader_fill(sreader *r, size_t need)
{
    while (r->n < need) {
        int x = r->n == 0 ? next_window(r) : stage(r) == 0 ? more(r) : -1;
        if (x < 0)
            return -1;
        if (x == 0)
            return 0;
        if (r->staged && r->rest_n) {
            size_t k = need - r->n < r->rest_n ? need - r->n : r->rest_n;
            if (append(r, k) != 0)
                return -1;
        }
    }
    return 0;
}

int sreader_fill_to(sreader *r, char c, size_t count)
{
    size_t scanned = 0, seen = 0;
    for (;;) {
        while (seen < count && scanned < r->n) {
            const char *q = memchr(r->p + scanned, c, r->n - scanned);
            if (!q)
                break;
            seen++;
            scanned = (size_t)(q - r->p) + 1;
        }
        if (seen >= count)
            return 0;
        scanned = r->n;
        int x = r->n == 0 ? next_window(r) : stage(r) == 0 ? more(r) : -1;
        if (x < 0)
            return -1;
        if (x == 0)
            return 0;
        if (r->staged && r->rest_n) { /* take the rest up to the occurrences still missing */
            size_t k = 0;
            for (size_t s = seen; s < count && k < r->rest_n; s++) {
                const char *q = memchr(r->rest + k, c, r->rest_n - k);
                k = q ? (size_t)(q - r->rest) + 1 : r->rest_n;
            }
            if (append(r, k) != 0)
                return -1;
        }
    }
}

void sreader_advance(sreader *r, size_t k)
{
    r->p += k;
    r->n -= k;
    r->off += k;
    if (r->staged && r->n == 0 && r->rest_n) {
        r->p = r->rest;
        r->n = r->rest_n;
        r->rest_n = 0;
        r->staged = 0;
    }
}

/* The first c in the window, or NULL. */
static const char *find(const sreader *r, char c) { return r->n ? memchr(r->p, c, r->n) : NULL; }

/* The error to report after a parse error: a decompression error found meanwhile explains it better. */
static ev_status parse_failed(sreader *r, ev_status st, ev_error *perr, ev_error *err)
{
    ev_error dec = {0};
    if (input_failed(r->in, &dec) != EV_OK) {
        st = ev_fail(err, dec.code, "%s", dec.msg);
        ev_error_clear(&dec);
        return st;
    }
    return ev_fail(err, st, "%s", perr->msg ? perr->msg : "parse error");
}

static ev_status read_failed(sreader *r, ev_error *err)
{
    return ev_fail(err, r->st ? r->st : EV_ERR_IO, "%s", r->err.msg ? r->err.msg : "read error");
}

static double progress_at(sreader *r, size_t total)
{
    return total ? (double)r->off / (double)total : input_progress(r->in);
}

/* Room for rows [0, want) of dim floats and want + 1 offsets (grown geometrically); with a sink (norms set), the
 * matrix is a block of its own size instead (see below) and the norms grow with the offsets. */
static int grow_rows(float **vec, size_t **offs, float **norms, size_t *cap, size_t want, size_t dim)
{
    if (want <= *cap)
        return 0;
    size_t nc = *cap * 2 > want ? *cap * 2 : want, oc = *cap, ncap = *cap;
    if (nc > SIZE_MAX / sizeof(float) / dim || nc >= SIZE_MAX / sizeof(size_t))
        return -1;
    if (!norms && loader_grow(vec, &oc, nc, dim * sizeof(float)) != 0)
        return -1;
    oc = *cap + 1;
    if (loader_grow(offs, &oc, nc + 1, sizeof(size_t)) != 0)
        return -1;
    if (norms && loader_grow(norms, &ncap, nc, sizeof(float)) != 0)
        return -1;
    *cap = nc;
    return 0;
}

/* The rows of a stream written to a sink go through a block of at most this many bytes (and at least one row). */
#define SINK_BLOCK_BYTES ((size_t)4 << 20)

/* ---- text rows -------------------------------------------------------------------------------------------- */

/* A window's pieces: piece 0 is parsed into the main job, pieces 1 … n-1 into their own (scratch rows kept from one
 * window to the next). */
typedef struct {
    text_job *main;
    text_job part[STREAM_MAX_PIECES];
    size_t part_cap[STREAM_MAX_PIECES]; /* rows part[t]'s vectors and offsets hold */
    const char *cut[STREAM_MAX_PIECES + 1];
    int n;
} split_text;

static void split_free(split_text *s)
{
    for (int t = 1; t < STREAM_MAX_PIECES; t++) {
        free(s->part[t].vectors);
        free(s->part[t].offsets);
        free(s->part[t].words);
        ev_error_clear(&s->part[t].err);
    }
}

static void split_run(void *ctx, parallel_queue *q, int tid)
{
    (void)tid;
    split_text *s = ctx;
    for (size_t t; (t = parallel_next(q)) < (size_t)s->n;)
        loader_text_run(t == 0 ? s->main : &s->part[t], s->cut[t], s->cut[t + 1]);
}

/* Parses the whole lines [p, p + take) into j (room for all their rows) on T threads, in up to
 * STREAM_PIECES_PER_THREAD pieces per thread of at least STREAM_SPLIT_BYTES / STREAM_PIECES_PER_THREAD bytes. The
 * pieces are appended in order, so the rows do not depend on which thread parsed which. */
static ev_status split_parse(split_text *s, text_job *j, const char *p, size_t take, int T)
{
    const char *end = p + take;
    size_t dim = j->dim, P = (size_t)T * STREAM_PIECES_PER_THREAD, least = STREAM_SPLIT_BYTES / STREAM_PIECES_PER_THREAD;
    if (P > take / least)
        P = take / least ? take / least : 1;
    s->main = j;
    s->cut[0] = p;
    s->n = 0;
    for (int t = 0; (size_t)t < P && s->cut[t] < end; t++) {
        const char *stop = (size_t)t == P - 1 ? end : p + take / P * (size_t)(t + 1);
        if (stop < s->cut[t])
            stop = s->cut[t];
        if (stop < end) {
            const char *nl = memchr(stop, '\n', (size_t)(end - stop));
            stop = nl ? nl + 1 : end;
        }
        s->cut[t + 1] = stop;
        s->n = t + 1;
    }
    for (int t = 1; t < s->n; t++) {
        text_job *q = &s->part[t];
        size_t rows = (size_t)(s->cut[t + 1] - s->cut[t]) / (2 * dim + 1) + 1;
        if (rows > s->part_cap[t]) {
            float *v = realloc(q->vectors, rows * dim * sizeof(float));
            if (v)
                q->vectors = v;
            size_t *o = v ? realloc(q->offsets, (rows + 1) * sizeof(size_t)) : NULL;
            if (o)
                q->offsets = o;
            if (!v || !o)
                return ev_fail(&j->err, EV_ERR_NOMEM, "%s:%zu: out of memory for %zu rows of %zu values", j->path,
                               j->line, rows, dim);
            s->part_cap[t] = rows;
        }
        q->path = j->path;
        q->dim = dim;
        q->dim_from_header = j->dim_from_header;
        q->numbers_line = j->numbers_line;
        q->line = 1; /* counted from the piece's start: added to the main job's when appended */
        q->max_rows = rows;
        q->rows = q->words_len = 0;
        q->offsets[0] = 0;
        q->status = EV_OK;
        ev_error_clear(&q->err);
    }
    parallel_blocks(T < s->n ? T : s->n, (size_t)s->n, split_run, s);
    for (int t = 1; t < s->n && j->status == EV_OK; t++) {
        if (s->part[t].status != EV_OK) /* again here, after the pieces before it: the line number is known */
            loader_text_run(j, s->cut[t], s->cut[t + 1]);
        else if (loader_text_append(j, &s->part[t]) != 0)
            return ev_fail(&j->err, EV_ERR_NOMEM, "%s:%zu: out of memory storing words", j->path, j->line);
    }
    return j->status;
}

ev_status loader_stream_text(sreader *r, const char *path, size_t first_line, size_t header_count, size_t header_dim,
                             const loader_opts *o, store_rows *out, ev_error *err)
{
    text_job j = {.path = path, .fd = -1, .line = first_line, .dim_from_header = header_dim != 0};
    split_text split = {0};
    int T = o->threads > 0 ? o->threads : parallel_cores(STREAM_MAX_THREADS);
    if (T > STREAM_MAX_THREADS)
        T = STREAM_MAX_THREADS;
    char *numbers = NULL;
    float *vec = NULL, *norms = NULL;
    size_t *offs = NULL, cap = 0, vec_cap = 0, dim = header_dim, start = r->off;
    int sink = o->rows_write != NULL;
    ev_status st = EV_OK;
    /* Blank lines before the first row are skipped (as the parser does), so that the window starts with it whole. */
    for (;;) {
        if (sreader_fill_to(r, '\n', 1) != 0) {
            st = read_failed(r, err);
            goto out;
        }
        const char *eol = find(r, '\n'), *q = r->p, *e = eol ? eol : r->p + r->n;
        while (q < e && loader_is_blank(*q))
            q++;
        if (r->n == 0 || q < e)
            break;
        sreader_advance(r, (size_t)(e - r->p) + (eol != NULL));
        j.line++;
    }
    if (!header_dim)
        st = loader_glove_dim(path, j.line, r->p, r->p + r->n, &dim, &numbers, err);
    else
        st = loader_first_row(path, j.line, r->p, r->p + r->n, dim, 1, err);
    if (st != EV_OK)
        goto out;
    j.dim = dim;
    j.numbers_line = numbers;
    if (sink && (st = o->rows_begin(o->rows_ctx, 0, dim, err)) != EV_OK)
        goto out;
    size_t next_progress = LOADER_PROGRESS_STEP;
    while (!(o->limit && j.rows >= o->limit)) {
        if (sreader_fill_to(r, '\n', 1) != 0) {
            st = read_failed(r, err);
            goto out;
        }
        if (r->n == 0)
            break;
        const char *last = memrchr(r->p, '\n', r->n);
        size_t take = last ? (size_t)(last + 1 - r->p) : r->n; /* no newline: the last line */
        /* every row takes at least 2·dim + 1 bytes (a word and dim blank-separated values) */
        size_t want = j.rows + take / (2 * dim + 1) + 1;
        if (o->limit && want > o->limit)
            want = o->limit;
        if (grow_rows(&vec, &offs, sink ? &norms : NULL, &cap, want, dim) != 0 ||
            (sink && loader_grow(&vec, &vec_cap, want - j.rows, dim * sizeof(float)) != 0)) {
            st = ev_fail(err, EV_ERR_NOMEM, "%s:%zu: out of memory for %zu rows of %zu values", path, j.line, want, dim);
            goto out;
        }
        offs[0] = 0;
        j.vectors = vec;
        j.vec_row0 = sink ? j.rows : 0; /* with a sink, vec holds only this window's rows */
        j.offsets = offs;
        j.max_rows = want;
        if (T > 1 && !o->limit && take >= STREAM_SPLIT_BYTES) {
            if (split_parse(&split, &j, r->p, take, T) != EV_OK && j.status == EV_OK)
                j.status = j.err.code; /* out of memory for the pieces */
        } else
            loader_text_run(&j, r->p, r->p + take);
        if (j.status != EV_OK) {
            st = parse_failed(r, j.status, &j.err, err);
            goto out;
        }
        if (sink && (st = loader_rows_out(o, j.vec_row0, vec, j.rows - j.vec_row0, dim, norms + j.vec_row0, err)) !=
                        EV_OK)
            goto out;
        sreader_advance(r, take);
        if (o->progress && r->off >= next_progress) {
            o->progress(o->progress_ctx, "reading", progress_at(r, 0));
            next_progress = r->off + LOADER_PROGRESS_STEP;
        }
    }
    if (header_dim && j.rows == 0 && header_dim > (r->off - start) / 2 + 1) /* as the mapped parser says it */
        st = ev_fail(err, EV_ERR_FORMAT, "%s:1: header claims dimension %zu, but the file has only %zu bytes after it",
                     path, header_dim, r->off - start);
    else if (header_dim && (o->limit ? j.rows < o->limit : 1) && j.rows != header_count)
        st = ev_fail(err, EV_ERR_FORMAT, "%s:1: header says %zu words, the file has %zu", path, header_count, j.rows);
    else if (j.rows == 0)
        st = ev_fail(err, EV_ERR_FORMAT, "%s: no vectors found", path);
out:
    split_free(&split);
    free(numbers);
    ev_error_clear(&j.err);
    if (st != EV_OK || sink) {
        free(vec);
        vec = NULL;
    }
    if (st != EV_OK) {
        free(offs);
        free(norms);
        free(j.words);
        return st;
    }
    if (o->progress)
        o->progress(o->progress_ctx, "reading", 1.0);
    out->n = j.rows;
    out->dim = dim;
    out->vectors = vec;
    out->words = j.words;
    out->offsets = offs;
    out->norms = norms;
    return EV_OK;
}

/* ---- word2vec binary -------------------------------------------------------------------------------------- */

ev_status loader_stream_bin(sreader *r, const char *path, size_t count, size_t dim, size_t total,
                            const loader_opts *o, store_rows *out, ev_error *err)
{
    if (count == 0) /* before allocating: the size check below cannot bound dim when there are no rows */
        return ev_fail(err, EV_ERR_FORMAT, "%s:1: header says 0 words: no vectors", path);
    size_t want = o->limit && o->limit < count ? o->limit : count;
    if (dim > (SIZE_MAX - 2) / 4)
        return ev_fail(err, EV_ERR_FORMAT, "%s:1: header claims %zu dimensions: too many for any file", path, dim);
    /* Each row needs at least a 1-byte word, a space and dim floats: check the claim before allocating. */
    size_t avail = total > r->off ? total - r->off : 0;
    if (total && want > avail / (dim * 4 + 2))
        return ev_fail(err, EV_ERR_FORMAT,
                       "%s:1: header claims %zu words of %zu dimensions, but only %zu bytes follow the header "
                       "(room for at most %zu)%s",
                       path, count, dim, avail, avail / (dim * 4 + 2), want < count ? ", and --limit asks for more" : "");
    float *vec = NULL, *norms = NULL;
    size_t *offs = NULL, cap = 0, wcap = 0, wlen = 0;
    char *words = NULL;
    ev_status st = EV_OK;
    size_t next_progress = LOADER_PROGRESS_STEP, rows = 0;
    int newlines = 0; /* whether the first record's vector is followed by a newline */
    /* With a sink, vec is a block of block rows (from row row0), written out when full and at the end. */
    int sink = o->rows_write != NULL;
    size_t row0 = 0, block = SINK_BLOCK_BYTES / (dim * 4) ? SINK_BLOCK_BYTES / (dim * 4) : 1;
    if (sink) {
        if ((st = o->rows_begin(o->rows_ctx, 0, dim, err)) != EV_OK)
            return st;
        if (!(vec = malloc(block * dim * sizeof *vec)))
            return ev_fail(err, EV_ERR_NOMEM, "%s: out of memory for %zu × %zu values", path, block, dim);
    }
    for (; rows < want; rows++) {
        for (;;) { /* newlines between records */
            if (sreader_fill(r, 1) != 0)
                goto read_error;
            if (r->n == 0 || *r->p != '\n')
                break;
            sreader_advance(r, 1);
        }
        if (sreader_fill_to(r, ' ', 1) != 0)
            goto read_error;
        const char *sp = find(r, ' ');
        if (!sp) {
            st = ev_fail(err, EV_ERR_FORMAT,
                         "%s: byte %zu: truncated: expected word %zu of %zu followed by a space, found end of file",
                         path, r->off, rows + 1, count);
            goto done;
        }
        size_t wl = (size_t)(sp - r->p);
        if (wl == 0) {
            st = ev_fail(err, EV_ERR_FORMAT, "%s: byte %zu: expected word %zu, found a space", path, r->off, rows + 1);
            goto done;
        }
        for (size_t i = 0; i < wl; i++) /* a control byte in a word: the record before was not dim floats long */
            if ((unsigned char)r->p[i] < 0x20 || r->p[i] == 0x7f) {
                st = ev_fail(err, EV_ERR_FORMAT, "%s: byte %zu: word %zu contains the control byte 0x%02x: %s", path,
                             r->off + i, rows + 1, (unsigned char)r->p[i],
                             rows ? "the vector before it is not as long as the header's dimension says, or the file "
                                    "is damaged" : "expected a word");
                goto done;
            }
        size_t need = wl + 1 + dim * 4;
        if (need < wl || sreader_fill(r, need) != 0)
            goto read_error;
        if (r->n < need) {
            char *qw = ev_quote(r->p, wl, 64);
            st = ev_fail(err, EV_ERR_FORMAT,
                         "%s: byte %zu: truncated: word %zu '%s' needs %zu bytes of vector data, %zu remain", path,
                         r->off + wl + 1, rows + 1, qw ? qw : "?", dim * 4, r->n - wl - 1);
            free(qw);
            goto done;
        }
        if (grow_rows(&vec, &offs, sink ? &norms : NULL, &cap, rows + 1, dim) != 0) {
            st = ev_fail(err, EV_ERR_NOMEM, "%s: out of memory for %zu × %zu values", path, rows + 1, dim);
            goto done;
        }
        if (sink && rows - row0 == block) {
            if ((st = loader_rows_out(o, row0, vec, block, dim, norms + row0, err)) != EV_OK)
                goto done;
            row0 = rows;
        }
        float *dst = vec + (rows - row0) * dim;
        memcpy(dst, r->p + wl + 1, dim * 4);
        for (size_t k = 0; k < dim; k++)
            if (!isfinite(dst[k])) {
                char *qw = ev_quote(r->p, wl, 64);
                st = ev_fail(err, EV_ERR_FORMAT, "%s: byte %zu: value %zu of '%s' is %s: NaN and infinity are not "
                             "accepted", path, r->off + wl + 1 + 4 * k, k + 1, qw ? qw : "?",
                             isnan(dst[k]) ? "NaN" : "infinite");
                free(qw);
                goto done;
            }
        if (wlen + wl + 1 > wcap) {
            size_t nc = wcap ? wcap : 1 << 16;
            while (wlen + wl + 1 > nc)
                nc *= 2;
            char *nw = realloc(words, nc);
            if (!nw) {
                st = ev_fail(err, EV_ERR_NOMEM, "%s: out of memory storing words", path);
                goto done;
            }
            words = nw;
            wcap = nc;
        }
        memcpy(words + wlen, r->p, wl);
        words[wlen + wl] = '\0';
        wlen += wl + 1;
        offs[0] = 0;
        offs[rows + 1] = wlen;
        sreader_advance(r, need);
        if (sreader_fill(r, 1) != 0)
            goto read_error;
        /* The newline after a vector is optional (word2vec writes one, gensim none) but the same for every record:
         * a vector one byte too long or too short moves it, which is then an error instead of shifted values. */
        int nl = r->n && *r->p == '\n';
        if (rows == 0)
            newlines = nl;
        else if (nl != newlines && !(nl && rows + 1 == count)) { /* (a file may end with a newline) */
            char *qw = ev_quote(words + wlen - wl - 1, wl, 64);
            st = ev_fail(err, EV_ERR_FORMAT, "%s: byte %zu: %s after the vector of word %zu '%s', %s after the first "
                         "word's: its vector is not %zu floats long, or the file is damaged or truncated", path,
                         r->off, nl ? "a newline" : r->n ? "no newline" : "the end of the file", rows + 1, qw ? qw : "?",
                         nl ? "none" : "a newline", dim);
            free(qw);
            goto done;
        }
        if (nl)
            sreader_advance(r, 1);
        if (o->progress && r->off >= next_progress) {
            o->progress(o->progress_ctx, "reading", progress_at(r, total));
            next_progress = r->off + LOADER_PROGRESS_STEP;
        }
    }
    if (want == count) { /* nothing but blank bytes may follow */
        for (;;) {
            if (sreader_fill(r, 1) != 0)
                goto read_error;
            if (r->n == 0)
                break;
            if (*r->p != '\n' && !loader_is_blank(*r->p)) {
                st = ev_fail(err, EV_ERR_FORMAT, "%s: byte %zu: header says %zu words, but data continues after them",
                             path, r->off, count);
                goto done;
            }
            sreader_advance(r, 1);
        }
    }
    if (sink)
        st = loader_rows_out(o, row0, vec, rows - row0, dim, norms + row0, err);
    goto done;
read_error:
    st = read_failed(r, err);
done:
    if (st != EV_OK && r->st == EV_OK) { /* a parse error: a decompression error found meanwhile explains it better */
        ev_error perr = {.code = st, .msg = err->msg};
        err->msg = NULL;
        st = parse_failed(r, st, &perr, err);
        ev_error_clear(&perr);
    }
    if (st != EV_OK || sink) {
        free(vec);
        vec = NULL;
    }
    if (st != EV_OK) {
        free(offs);
        free(norms);
        free(words);
        return st;
    }
    if (o->progress)
        o->progress(o->progress_ctx, "reading", 1.0);
    out->n = rows;
    out->dim = dim;
    out->vectors = vec;
    out->words = words;
    out->offsets = offs;
    out->norms = norms;
    return EV_OK;
}
