/* util — small helpers about paths and files that several modules need: a path's base name and reading a whole
 * file into memory. */
#ifndef UTIL_H
#define UTIL_H

#include <stddef.h>

#include "ev_error.h"

/* The part of path after its last '/' (a pointer into path): "a/b.txt" → "b.txt", "b.txt" → "b.txt". A path that
 * ends in '/' ("dir/") or has no '/' is returned whole, so the result is empty only when path is. path must not be
 * NULL. */
const char *util_base_name(const char *path);

struct stat;

/* Opens path read-only (close-on-exec) and fstat's it into *st, refusing a directory. Returns the descriptor, or -1
 * with err set: EV_ERR_IO ("PATH: cannot open the WHAT: …", "PATH: is a directory, expected a WHAT"). what names
 * the kind of file in messages ("head file"). */
int util_open(const char *path, const char *what, struct stat *st, ev_error *err);

/* Reads the whole file at path (a regular file, a pipe or a device; not a directory) into a malloc'd buffer *buf
 * of *size bytes followed by one NUL byte (not counted), which the caller frees. what names the kind of file in
 * messages ("head file"). max_bytes > 0: a longer file is refused (a regular file before anything is allocated).
 * On failure *buf is NULL. Errors: EV_ERR_IO ("PATH: cannot open the WHAT: …", "PATH: is a directory, expected a
 * WHAT", a read error), EV_ERR_FORMAT (more than max_bytes), EV_ERR_NOMEM. */
ev_status util_read_file(const char *path, const char *what, size_t max_bytes, unsigned char **buf, size_t *size,
                         ev_error *err);

#endif
