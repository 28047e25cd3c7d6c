/* store_sink — a cache written as its rows are parsed (store.h): rows go with pwrite to the output's temporary file
 * in place or to a spill beside it, so that memory holds only blocks of rows at a time. Nothing is mapped: a shared
 * mapping's touched pages would count in the process's memory until unmapped, and unmapping windows of it as they
 * filled cost more system time here than pwrite (4 KiB pages to zap). */
#define _GNU_SOURCE /* O_TMPFILE, fallocate, FALLOC_FL_INSERT_RANGE */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/falloc.h>
#endif

#include "outfile.h"
#include "safetensors.h"
#include "store.h"
#include "store_internal.h"

/* In place: [8-byte header length][header JSON, padded with spaces][vocab_offsets][vectors at byte M][the rest].
 * M, page-aligned, is fixed before the rows are known: room for the JSON (JSON_RESERVE plus six bytes per metadata
 * byte, the worst JSON escape) and for max_rows + 1 offsets. With V ≤ max_rows rows kept, the offsets start
 * 8·(V + 1) bytes before M and the header's padding takes up the rest.
 *
 * Growing (a stream: the number of rows is not known until its end): the rows go to the output's temporary file from
 * byte 0, and at the end the room for the header and offsets is inserted before them by the file system
 * (fallocate FALLOC_FL_INSERT_RANGE moves extents, not bytes); from there on it is the in-place layout. Where the
 * file system cannot insert (tmpfs, NFS, not Linux), the temporary file becomes the spill of a copy. */
#define JSON_RESERVE 2048
#define MOVE_BYTES ((size_t)8 << 20) /* the buffer that compacts rows in place */

enum { SINK_NONE, SINK_IN_PLACE, SINK_GROW, SINK_SPILL };

struct store_sink {
    char *path;
    size_t meta_bytes;
    int mode;
    outfile of;        /* in place: the temporary output (open while of.fp) */
    int fd;            /* the file the rows are written to: of's, or the spill's (owned) */
    size_t base;       /* byte offset of row 0 in that file (M in place, 0 growing or in a spill) */
    size_t max_rows, dim;
    int no_insert; /* store_sink_set_insert(k, 0) */
};

store_sink *store_sink_new(const char *path, size_t meta_bytes)
{
    store_sink *k = calloc(1, sizeof *k);
    if (k && !(k->path = strdup(path))) {
        free(k);
        return NULL;
    }
    if (k) {
        k->meta_bytes = meta_bytes;
        k->fd = -1;
    }
    return k;
}

void store_sink_set_insert(store_sink *k, int on) { k->no_insert = !on; }

/* An unnamed file in the directory of path, open for reading and writing: O_TMPFILE, or a file created and removed
 * at once. -1 with errno on failure. */
static int spill_open(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : strdup(".");
    if (!dir)
        return -1;
    int fd = -1;
#ifdef O_TMPFILE
    fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
#endif
    free(dir);
    if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
        return fd; /* (a missing directory or no permission: the same answer for a named file) */
    char *name = ev_strdup_printf("%s.spill.XXXXXX", path);
    if (!name)
        return -1;
    fd = mkstemp(name);
    if (fd >= 0)
        unlink(name);
    free(name);
    return fd;
}

ev_status store_sink_begin(void *sink, size_t max_rows, size_t dim, ev_error *err)
{
    store_sink *k = sink;
    if (k->mode != SINK_NONE)
        return ev_fail(err, EV_ERR_USAGE, "%s: internal error: the sink was already begun", k->path);
    long page = sysconf(_SC_PAGESIZE);
    if (dim == 0 || page <= 0 || k->meta_bytes > SIZE_MAX / 64 || max_rows > SIZE_MAX / 64 / dim)
        return ev_fail(err, EV_ERR_NOMEM, "%s: %zu rows of %zu values are too many to write", k->path, max_rows, dim);
    k->dim = dim;
    k->max_rows = max_rows;
    size_t head = 8 + JSON_RESERVE + 6 * k->meta_bytes + 8 * (max_rows + 1);
    size_t M = max_rows ? (head + (size_t)page - 1) / (size_t)page * (size_t)page : 0;
    ev_status st = outfile_open(&k->of, k->path, err);
    if (st != EV_OK)
        return st;
    k->mode = max_rows ? SINK_IN_PLACE : SINK_GROW;
    k->fd = fileno(k->of.fp);
    k->base = M;
    if (!k->of.tmp_path) { /* not a regular file: rows cannot be placed in it */
        if (max_rows)
            return ev_fail(err, EV_ERR_USAGE, "%s: internal error: a cache written in place must be a regular file",
                           k->path);
        outfile_abort(&k->of);
        k->mode = SINK_NONE;
        int fd = spill_open(k->path);
        if (fd < 0)
            return ev_fail(err, EV_ERR_WRITE, "%s: cannot create a file there: %s", k->path, strerror(errno));
        k->fd = fd;
        k->mode = SINK_SPILL;
        return EV_OK;
    }
    if (!max_rows)
        return EV_OK;
    /* Reserve the whole file: a full disk fails now, not after the parse (and ext4 lays out fewer extents). */
    if (fallocate(k->fd, 0, 0, (off_t)(M + max_rows * dim * sizeof(float))) != 0 && errno != EOPNOTSUPP &&
        errno != ENOSYS) {
        int e = errno;
        return ev_fail(err, EV_ERR_WRITE, "%s: write failed: %s (reserving %zu bytes for the cache)", k->path,
                       strerror(e), M + max_rows * dim * sizeof(float));
    }
    return EV_OK;
}

/* pwrite of all n bytes; 0, or -1 with errno. */
static int pwrite_all(int fd, const void *p, size_t n, size_t off)
{
    const char *c = p;
    while (n) {
        ssize_t w = pwrite(fd, c, n, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return -1;
        }
        c += w;
        n -= (size_t)w;
        off += (size_t)w;
    }
    return 0;
}

ev_status store_sink_write(void *sink, size_t row, const float *v, size_t n, ev_error *err)
{
    store_sink *k = sink;
    if (k->mode == SINK_NONE || (k->mode == SINK_IN_PLACE && (row > k->max_rows || n > k->max_rows - row)))
        return ev_fail(err, EV_ERR_USAGE, "%s: internal error: rows %zu..%zu are outside the sink", k->path, row,
                       row + n);
    size_t rb = k->dim * sizeof(float);
    if (n && pwrite_all(k->fd, v, n * rb, k->base + row * rb) != 0)
        return ev_fail(err, EV_ERR_WRITE, "%s: write failed: %s", k->path, strerror(errno));
    return EV_OK;
}

/* Moves kept row i from sink row src[i] (src increasing, src[i] ≥ i) to row i of the same file, in runs of
 * consecutive rows through a bounded buffer, front to back: a row is always read before the rows written over it. */
static int compact_in_place(store_sink *k, const size_t *src, size_t V)
{
    size_t rb = k->dim * sizeof(float), per = MOVE_BYTES / rb ? MOVE_BYTES / rb : 1;
    char *buf = NULL;
    int rc = 0;
    for (size_t i = 0; i < V && rc == 0;) {
        size_t run = 1;
        while (i + run < V && src[i + run] == src[i] + run)
            run++;
        for (size_t done = 0; src[i] != i && done < run && rc == 0;) {
            size_t m = run - done < per ? run - done : per;
            if (!buf && !(buf = malloc(m * rb))) {
                errno = ENOMEM;
                rc = -1;
                break;
            }
            size_t from = k->base + (src[i] + done) * rb, got = 0;
            while (got < m * rb) {
                ssize_t r = pread(k->fd, buf + got, m * rb - got, (off_t)(from + got));
                if (r < 0 && errno == EINTR)
                    continue;
                if (r <= 0) {
                    if (r == 0)
                        errno = EIO;
                    rc = -1;
                    break;
                }
                got += (size_t)r;
            }
            if (rc == 0)
                rc = pwrite_all(k->fd, buf, m * rb, k->base + (i + done) * rb);
            done += m;
        }
        i += run;
    }
    free(buf);
    return rc;
}

/* The cache with the exact layout of store_write_cache, its rows copied from k->fd (k->base + src row · rb). */
static ev_status finish_copy(store_sink *k, const store *s, ev_error *err)
{
    cJSON *hdr = store_cache_header(s);
    if (!hdr)
        return ev_fail(err, EV_ERR_NOMEM, "out of memory writing %s", k->path);
    outfile of;
    ev_status st = st_begin_file(&of, k->path, hdr, STORE_CACHE_ALIGN, err);
    if (st != EV_OK)
        return st;
    size_t V = store_size(s), rb = store_dim(s) * sizeof(float);
    const size_t *src = store_row_sources(s);
    outfile_write(&of, store_offsets_i64(s), 8 * (V + 1));
    for (size_t i = 0; i < V;) {
        size_t run = 1, r0 = src ? src[i] : i;
        while (src && i + run < V && src[i + run] == r0 + run)
            run++;
        if (!src)
            run = V;
        outfile_copy_from(&of, k->fd, k->base + r0 * rb, run * rb);
        i += run;
    }
    store_write_after_vectors(s, &of);
    return outfile_commit(&of, err);
}

/* Growing: room for the header and offsets of V rows inserted before row 0 (a multiple of the file system's block
 * and of the page), so that the rows start at k->base = M as in place. 0, or -1 when the file system cannot. */
static int insert_head(store_sink *k, size_t jlen, size_t V)
{
#ifdef FALLOC_FL_INSERT_RANGE
    struct stat sb;
    long page = sysconf(_SC_PAGESIZE);
    size_t blk = fstat(k->fd, &sb) == 0 && sb.st_blksize > page ? (size_t)sb.st_blksize : (size_t)page;
    size_t need = 8 + jlen + 8 * (V + 1), M = (need + blk - 1) / blk * blk;
    if (k->no_insert || blk & (blk - 1) || M - 8 * (V + 1) - 8 > STORE_MAX_HEADER_BYTES ||
        fallocate(k->fd, FALLOC_FL_INSERT_RANGE, 0, (off_t)M) != 0)
        return -1;
    k->base = M;
    k->max_rows = V;
    k->mode = SINK_IN_PLACE;
    return 0;
#else
    (void)k, (void)jlen, (void)V;
    return -1;
#endif
}

/* The temporary file, its rows at k->base, becomes the spill of an ordinary write. */
static ev_status finish_from_temporary(store_sink *k, const store *s, ev_error *err)
{
    int fd = dup(k->fd);
    outfile_abort(&k->of);
    k->mode = SINK_NONE;
    if (fd < 0)
        return ev_fail(err, EV_ERR_WRITE, "%s: write failed: %s", k->path, strerror(errno));
    k->fd = fd;
    k->mode = SINK_SPILL;
    return finish_copy(k, s, err);
}

ev_status store_sink_finish(store_sink *k, const store *s, ev_error *err)
{
    if (k->mode == SINK_NONE || store_vectors(s)) { /* the rows are in memory (a cache, a fastText model) */
        if (k->mode == SINK_IN_PLACE || k->mode == SINK_GROW)
            outfile_abort(&k->of);
        k->mode = SINK_NONE;
        return store_write_cache(s, k->path, err);
    }
    if (store_dim(s) != k->dim)
        return ev_fail(err, EV_ERR_USAGE, "%s: internal error: rows of %zu values in a sink of %zu", k->path,
                       store_dim(s), k->dim);
    if (k->mode == SINK_SPILL)
        return finish_copy(k, s, err);
    size_t V = store_size(s), rb = k->dim * sizeof(float);
    cJSON *hdr = V <= k->max_rows || k->mode == SINK_GROW ? store_cache_header(s) : NULL;
    char *json = hdr ? cJSON_PrintUnformatted(hdr) : NULL;
    cJSON_Delete(hdr);
    size_t jlen = json ? strlen(json) : 0;
    if (json && k->mode == SINK_GROW && insert_head(k, jlen, V) != 0) {
        free(json);
        return finish_from_temporary(k, s, err);
    }
    size_t M = k->base, data_off = V <= k->max_rows ? M - 8 * (V + 1) : 0;
    if (!json || 8 + jlen > data_off || data_off - 8 > STORE_MAX_HEADER_BYTES) {
        /* a header that does not fit (or that readers would refuse as too long, after very many duplicates) */
        free(json);
        return finish_from_temporary(k, s, err);
    }
    const size_t *src = store_row_sources(s);
    if (src && compact_in_place(k, src, V) != 0) {
        int e = errno;
        free(json);
        return ev_fail(err, EV_ERR_WRITE, "%s: write failed: %s", k->path, strerror(e));
    }
    outfile_seek(&k->of, 0);
    st_put_header(k->of.fp, json, jlen, data_off - 8);
    free(json);
    outfile_write(&k->of, store_offsets_i64(s), 8 * (V + 1));
    outfile_seek(&k->of, M + V * rb);
    store_write_after_vectors(s, &k->of);
    outfile_truncate(&k->of);
    k->mode = SINK_NONE;
    k->fd = -1;
    return outfile_commit(&k->of, err);
}

void store_sink_free(store_sink *k)
{
    if (!k)
        return;
    if (k->mode == SINK_IN_PLACE || k->mode == SINK_GROW)
        outfile_abort(&k->of); /* (closes k->fd) */
    else if (k->mode == SINK_SPILL && k->fd >= 0)
        close(k->fd);
    free(k->path);
    free(k);
}
