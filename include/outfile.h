/* outfile — output files written atomically.
 *
 * A regular-file destination is written to a temporary file in the same directory ("PATH.tmp.XXXXXX"), flushed,
 * fsync'd and renamed over PATH only when everything succeeded, then the directory is fsync'd: PATH is either the
 * old file or the complete new one, never a partial one. A destination that exists and is not a regular file
 * (a character device such as /dev/full or /dev/null, a FIFO) is written directly, since it cannot be replaced.
 * While a temporary file exists, SIGINT/SIGTERM/SIGHUP remove it before the process dies.
 */
#ifndef OUTFILE_H
#define OUTFILE_H

#include <stdio.h>

#include "ev_error.h"

typedef struct {
    FILE *fp;        /* write through this */
    char *path;      /* final destination (owned) */
    char *tmp_path;  /* temporary file, NULL when writing directly (owned) */
    char *buf;       /* stdio buffer (owned) */
    int err_no;      /* a failure of outfile_write (0: none), reported by outfile_commit */
} outfile;

/* Opens an output for path. On failure returns EV_ERR_WRITE and leaves nothing behind. */
ev_status outfile_open(outfile *of, const char *path, ev_error *err);

/* Writes n bytes at the current position, like fwrite to of->fp. A large block (≥ 16 MiB) going to a temporary
 * file is copied on all cores into a shared mapping of the file, its blocks reserved first with fallocate (no
 * SIGBUS on a full disk: that fails here, cleanly) — buffered writes of one file are serialised by the kernel, and
 * the copy into fresh page-cache pages is the slow part of writing a cache. Otherwise, or where fallocate is not
 * supported, fwrite. A failure is kept in of->err_no and reported by outfile_commit. */
void outfile_write(outfile *of, const void *p, size_t n);

/* Copies n bytes of the file open on fd, from its offset off, to the current position (copy_file_range: in the
 * kernel, nothing mapped or buffered here; where it is not supported, pread and fwrite in 1 MiB blocks). A failure
 * (also a source shorter than off + n) is kept for outfile_commit. */
void outfile_copy_from(outfile *of, int fd, size_t off, size_t n);

/* Moves the write position to byte off (flushing first); a failure is kept for outfile_commit. */
void outfile_seek(outfile *of, size_t off);

/* Ends a temporary output at the current position (after room reserved with fallocate was not all used). */
void outfile_truncate(outfile *of);

/* Flushes, checks for write errors, fsyncs and renames into place. Frees of's resources in every case; on
 * failure removes the temporary file and returns EV_ERR_WRITE. */
ev_status outfile_commit(outfile *of, ev_error *err);

/* Abandons the output: closes and removes the temporary file. NULL-safe, idempotent. */
void outfile_abort(outfile *of);

#endif
