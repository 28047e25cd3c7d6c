/* safetensors — writing the header of a safetensors file, shared by the cache (store.c) and head files
 * (attention.c, head.c): 8-byte little-endian header length N, N bytes of JSON padded with spaces so that the data
 * starts on an `align`-byte boundary, then the tensors back to back (no holes) in the order they were added. */
#ifndef SAFETENSORS_H
#define SAFETENSORS_H

#include <cJSON.h>
#include <stddef.h>

#include "ev_error.h"
#include "outfile.h"

/* Reads the header of the safetensors bytes buf[0..size): the 8-byte length (checked against the file size and
 * max_header before anything else), a '{', then the JSON object. On success *hdr owns the parsed header (release
 * with cJSON_Delete) and *data_off is where the tensors start. EV_ERR_FORMAT with the byte offset otherwise. */
ev_status st_parse_header(const unsigned char *buf, size_t size, size_t max_header, const char *path, cJSON **hdr,
                          size_t *data_off, ev_error *err);

/* Adds tensor `name` of `dtype` ("F32", "I64", "I32", "U8"; elem bytes each) and shape (rank 1 or 2) to hdr, at
 * data offset *pos, and advances *pos by its size. Returns 0, or -1 when out of memory. */
int st_add_tensor(cJSON *hdr, const char *name, const char *dtype, size_t elem, const size_t *shape, int rank,
                  size_t *pos);

/* Adds the string metadata key = printf(fmt, …) to meta (no length limit). Returns 0, or -1 when out of memory. */
int st_add_meta(cJSON *meta, const char *key, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Opens path for writing atomically (outfile.h) and writes the length and the padded JSON of hdr. hdr is consumed
 * (deleted) in every case. The caller then writes the tensors' bytes to of->fp and calls outfile_commit. */
ev_status st_begin_file(outfile *of, const char *path, cJSON *hdr, size_t align, ev_error *err);

#endif
