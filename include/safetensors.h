/* safetensors — the one reader/validator and writer of safetensors headers, for the cache (store.c) and head files
 * (attention.c, head_file.c).
 *
 * A safetensors file: an 8-byte little-endian header length N, N bytes of JSON (an object; embvsattn pads it with
 * spaces so that the data starts on an `align`-byte boundary), then the data section: each tensor is
 *     "NAME": {"dtype": "F32", "shape": [d0, d1, …], "data_offsets": [BEGIN, END]}
 * with BEGIN/END relative to the data section, and "__metadata__" is an object of strings.
 *
 * st_open checks, in the order of ggml's gguf loader and before anything is allocated from the file's numbers:
 *   1. the header length against the file size and the format's limit (then '{' at byte 8);
 *   2. the JSON; __metadata__ (an object of strings; its format and format_version, when present, are the
 *      format's); the number of entries against the format's limit;
 *   3. each tensor, in header order: a name the format lists (or, when it takes others, any name), not twice; its
 *      dtype (the listed one, else any safetensors dtype); its shape (the listed rank, each size within the
 *      format's range); the shape's byte count (overflow); data_offsets within the data section and equal to that
 *      count; when the format asks for it, its start aligned to its element size (so that a mapped file can be
 *      read in place).
 * The format's reader then asks for its tensors (st_require) and checks their meaning, and last that the tensors
 * tile the data section (st_check_tiling: no overlaps, no holes).
 * Messages: "PATH: KIND header: tensor 'NAME': …", with the byte offset where the fault is in the file's bytes.
 */
#ifndef SAFETENSORS_H
#define SAFETENSORS_H

#include <cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "ev_error.h"
#include "outfile.h"

#define ST_MAX_RANK 8

/* A tensor a format has. name ending in '*' matches every name with that prefix ("train_*"). */
typedef struct {
    const char *name;
    const char *dtype;         /* "F32", "I64", "I32", "U8", … */
    int rank;
} st_expect;

/* What a reader accepts. */
typedef struct {
    const char *kind;          /* names the file in messages: "cache" → "cache header: …" */
    const char *format;        /* __metadata__.format must be this when present */
    const char *version;       /* __metadata__.format_version must be this when present (the version written) */
    const char *older_version; /* or this one, an older version still read (NULL: none) */
    size_t max_header;         /* the longest header, in bytes */
    size_t max_tensors;        /* the most entries (tensors and __metadata__) */
    uint64_t min_dim, max_dim; /* the sizes one dimension of a listed tensor may have */
    const st_expect *tensors;  /* (n_tensors) the tensors it has */
    size_t n_tensors;
    size_t max_wildcard;       /* the most tensors one wildcard entry may match */
    int others;                /* 1: tensors it does not list are checked (any dtype, rank ≤ ST_MAX_RANK) and kept;
                                  0: they are an error */
    int aligned;               /* 1: each tensor starts at a multiple of its element size in the file (a mapped file
                                  is read in place); 0: no such rule (a reader that copies the values out) */
    const char *contents;      /* what the format holds, for messages ("a head has w_q, w_k, w_v …") */
} st_format;

typedef struct {
    const char *name;          /* owned by the file's JSON */
    const char *dtype;
    size_t elem;               /* bytes per element */
    int rank;
    size_t shape[ST_MAX_RANK];
    size_t count;              /* elements */
    size_t begin, end;         /* byte range within the data section */
    const unsigned char *data; /* the tensor's bytes (in the caller's buffer) */
    int spec;                  /* its st_expect's index in the format, -1 for a tensor the format does not list */
} st_tensor;

typedef struct {
    cJSON *json;               /* the parsed header */
    const cJSON *meta;         /* __metadata__ (an object of strings) or NULL */
    size_t data_off, data_len; /* the data section: bytes [data_off, data_off + data_len) of the file */
    st_tensor *t;              /* (n) the tensors, in header order */
    size_t n;
} st_file;

/* Validates the safetensors bytes buf[0..size) against fmt (steps 1–3 above). On success *out describes them (its
 * tensors point into buf, which must outlive it; release with st_close). path names the file in messages.
 * EV_ERR_FORMAT (what was expected, what was found, where), EV_ERR_NOMEM; *out is then empty. */
ev_status st_open(const unsigned char *buf, size_t size, const st_format *fmt, const char *path, st_file *out,
                  ev_error *err);

/* Releases f's header and tensor list. NULL-safe, idempotent. */
void st_close(st_file *f);

/* The tensor named name, or NULL. */
const st_tensor *st_get(const st_file *f, const char *name);

/* The tensor named name (in *out); EV_ERR_FORMAT "PATH: KIND header: expected a tensor named 'NAME', found none:
 * CONTENTS" when there is none. */
ev_status st_require(const st_file *f, const st_format *fmt, const char *name, const char *path,
                     const st_tensor **out, ev_error *err);

/* The string __metadata__.key, or NULL. */
const char *st_meta(const st_file *f, const char *key);

/* The tensors with data tile the data section: no two overlap, together they cover it (no holes: no bytes that
 * some other reader could take for something else). EV_ERR_FORMAT naming the pair or the sizes. */
ev_status st_check_tiling(const st_file *f, const char *path, ev_error *err);

/* The header length in the first 8 bytes of p (little-endian). */
uint64_t st_header_length(const unsigned char *p);

/* Whether the first 10 bytes of a file of file_size bytes look like a safetensors header: a length that fits the
 * file, then '{'. */
int st_sniff(const unsigned char head[10], uint64_t file_size);

/* ---- writing --------------------------------------------------------------------------------------------- */

/* Adds tensor `name` of `dtype` (a safetensors dtype: "F32", "I64", "I32", "U8" …) and shape (rank 1 to
 * ST_MAX_RANK) to hdr, at data offset *pos, and advances *pos by its size. Returns 0, or -1 when out of memory or
 * for an unknown dtype. */
int st_add_tensor(cJSON *hdr, const char *name, const char *dtype, const size_t *shape, int rank, size_t *pos);

/* Adds the string metadata key = printf(fmt, …) to meta (no length limit). Returns 0, or -1 when out of memory. */
int st_add_meta(cJSON *meta, const char *key, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Writes a header to fp: the 8-byte length hlen, the JSON json[0..jlen) and hlen − jlen spaces (hlen ≥ jlen). */
void st_put_header(FILE *fp, const char *json, size_t jlen, size_t hlen);

/* Opens path for writing atomically (outfile.h) and writes the header of hdr, padded so that the data starts on an
 * align-byte boundary. hdr is consumed (deleted) in every case. The caller then writes the tensors' bytes to of->fp
 * and calls outfile_commit. EV_ERR_NOMEM, or outfile_open's errors. */
ev_status st_begin_file(outfile *of, const char *path, cJSON *hdr, size_t align, ev_error *err);

#endif
