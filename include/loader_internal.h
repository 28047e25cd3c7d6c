/* loader_internal — what the loader's two files share: loader.c (formats, detection, the parallel parser of mapped
 * text, entry points, writers) and loader_stream.c (the reader of streamed bytes, the text parser fed from it and
 * the one word2vec binary parser). Not for other modules. */
#ifndef LOADER_INTERNAL_H
#define LOADER_INTERNAL_H

#include <stddef.h>
#include <string.h>

#include "input.h"
#include "loader.h"

#define LOADER_PROGRESS_STEP (32u << 20) /* bytes between progress calls */

static inline int loader_is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* One parser's work on text rows (a range of a mapped file, or the whole of a stream). */
typedef struct {
    /* input */
    const char *path;
    const char *begin, *end; /* whole lines (mapped ranges) */
    int fd;                  /* ≥ 0: read [begin, end) from this file, at file_off, in chunks (not from memory) */
    size_t file_off;
    size_t line;             /* 1-based line number of begin; then of the next line to parse */
    size_t dim;
    size_t max_rows;         /* stop after this many rows */
    float *vectors;          /* where row vec_row0 of this range goes: (max_rows - vec_row0, dim) */
    size_t vec_row0;         /* 0, or (rows streamed to a sink) the first row of the block in vectors */
    const loader_opts *sink; /* rows streamed (sink->rows_write): the block's rows are written as sink rows from
                              * sink_row0 + vec_row0, their norms kept in norms */
    size_t sink_row0, vec_cap; /* vec_cap: rows vectors has room for (with a sink: a block of the piece's rows) */
    float *norms;            /* (max_rows) with a sink */
    int dim_from_header;
    const char *numbers_line; /* GloVe whose line 1 is only numbers (≥ 3): that line, quoted, for line 2's error */
    loader_progress_fn progress;
    void *progress_ctx;
    /* output */
    size_t rows;
    char *words;             /* this range's words, NUL-terminated, concatenated */
    size_t words_len, words_cap;
    size_t *offsets;         /* (max_rows + 1), relative to words */
    size_t newlines;         /* in the range (counted before parsing) */
    ev_status status;
    ev_error err;
} text_job;

/* Rows streamed to a sink (o->rows_write): the L2 norms of the n rows at v (dim each; summed in double in index
 * order, the bits store_from_rows computes) into norms, then the rows written as sink rows [row, row + n). */
ev_status loader_rows_out(const loader_opts *o, size_t row, const float *v, size_t n, size_t dim, float *norms,
                          ev_error *err);

/* Room for want elements of elem bytes in *p (capacity *cap, grown geometrically). 0, or -1 when out of memory. */
int loader_grow(void *p, size_t *cap, size_t want, size_t elem);

/* The newline ending the line at p, or end. */
static inline const char *loader_line_end(const char *p, const char *end)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    return nl ? nl : end;
}

/* Parses text rows from p[body..n) on several threads (fd ≥ 0: p is a mapping of that file, whose bulk is read
 * with pread instead; -1: bytes in memory). header_count/header_dim are 0 for GloVe (dim from the first row); a word2vec header's dimension is checked
 * against the first row before anything is allocated for it. */
ev_status loader_parse_text(const char *path, const char *p, size_t n, int fd, size_t body, size_t header_count,
                            size_t header_dim, const loader_opts *o, store_rows *out, ev_error *err);

/* Parses whole lines of [p, end) into j (rows up to j->max_rows); sets j->status and j->err on error. */
void loader_text_run(text_job *j, const char *p, const char *end);

/* Appends src's rows (vectors, words, offsets) after dst's, and src's lines (src parsed from line 1) to dst->line:
 * the rows of a later piece of the same text, parsed on another thread. 0, or -1 when dst has no room for the rows
 * (dst->max_rows) or its words cannot grow (out of memory). */
int loader_text_append(text_job *dst, const text_job *src);

/* The GloVe dimension from the first non-blank line of [p, end) (which must hold that line whole, or end at the end
 * of the input; line: the line number of p): sets *dim and *numbers (malloc'd quote of line 1 when it is only
 * unsigned integers, ≥ 3 of them; else NULL). Errors: only blank lines, one field, a leading blank. */
ev_status loader_glove_dim(const char *path, size_t line, const char *p, const char *end, size_t *dim, char **numbers,
                           ev_error *err);

/* Checks the first non-blank line of [p, end) (line number line; [p, end) holds it whole or ends at the end of the
 * input) against dim before anything is allocated for dim: the error the parser would give for a leading blank or a
 * count of values that is not dim. EV_OK when there is no such line. */
ev_status loader_first_row(const char *path, size_t line, const char *p, const char *end, size_t dim, int from_header,
                           ev_error *err);

/* ---- a stream's bytes as a contiguous window (loader_stream.c) ----------------------------------------------- */

typedef struct {
    input *in;
    const char *p;           /* the window: n unread bytes, contiguous */
    size_t n;
    size_t off;              /* offset of p in the (decompressed) stream */
    const char *rest;        /* when the window is staged in buf: the unread rest of the current block */
    size_t rest_n;
    char *buf;               /* staging for bytes that straddle blocks */
    size_t cap;
    int staged, eof;
    ev_status st;            /* a read or decompression error, with err */
    ev_error err;
} sreader;

/* A reader over in (not owned). */
void sreader_init(sreader *r, input *in);

/* Frees the staging buffer and the error. */
void sreader_free(sreader *r);

/* Makes the window at least need bytes long, or all that is left. Returns 0, or -1 on a read error (r->st). */
int sreader_fill(sreader *r, size_t need);

/* Makes the window hold count bytes equal to c, or all that is left. Returns 0, or -1 on a read error. */
int sreader_fill_to(sreader *r, char c, size_t count);

/* Consumes k ≤ r->n bytes of the window. */
void sreader_advance(sreader *r, size_t k);

/* Text rows from the stream (its header, if any, already consumed: the window starts at line first_line).
 * header_dim 0: GloVe. */
ev_status loader_stream_text(sreader *r, const char *path, size_t first_line, size_t header_count, size_t header_dim,
                             const loader_opts *o, store_rows *out, ev_error *err);

/* word2vec binary rows (the header line consumed); total is the input's size when known (0: a stream), for the check
 * of the header's claims before allocating. */
ev_status loader_stream_bin(sreader *r, const char *path, size_t count, size_t dim, size_t total,
                            const loader_opts *o, store_rows *out, ev_error *err);

/* ---- fastText's native .bin model (loader_fasttext.c) -------------------------------------------------------- */

#define LOADER_FASTTEXT_MAGIC 793712314 /* int32 little-endian at byte 0, then the version (11 or 12) */

/* Whether the n bytes at p start with fastText's magic number. */
int loader_is_fasttext_bytes(const char *p, size_t n);

/* Reads the n bytes of a fastText .bin model (the whole file) into rows: its words (the dictionary's words, labels
 * skipped; the first opts->limit when set) with fastText's word vectors (subword.h: own row and n-grams), and the
 * n-gram model in rows->subwords (none when the model has no n-grams). Everything is validated in file order
 * against n before it is allocated or used. EV_ERR_FORMAT with the byte offset (bad magic or version, negative or
 * inconsistent counts, counts beyond the file, a quantized model, a non-finite value, bytes after the model),
 * EV_ERR_NOMEM. */
ev_status loader_fasttext(const char *path, const char *bytes, size_t n, const loader_opts *o, store_rows *out,
                          ev_error *err);

#endif
