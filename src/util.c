/* util — a path's base name and whole-file reading (util.h). */
#define _POSIX_C_SOURCE 200809L
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *util_base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s && s[1] ? s + 1 : path;
}

int util_open(const char *path, const char *what, struct stat *st, ev_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ev_fail(err, EV_ERR_IO, "%s: cannot open the %s: %s", path, what, strerror(errno));
        return -1;
    }
    if (fstat(fd, st) != 0) {
        int e = errno;
        close(fd);
        ev_fail(err, EV_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
        return -1;
    }
    if (S_ISDIR(st->st_mode)) {
        close(fd);
        ev_fail(err, EV_ERR_IO, "%s: is a directory, expected a %s", path, what);
        return -1;
    }
    return fd;
}

ev_status util_read_file(const char *path, const char *what, size_t max_bytes, unsigned char **buf, size_t *size,
                         ev_error *err)
{
    *buf = NULL;
    *size = 0;
    struct stat st;
    int fd = util_open(path, what, &st, err);
    if (fd < 0)
        return EV_ERR_IO;
    size_t limit = max_bytes && max_bytes < SIZE_MAX / 2 ? max_bytes : SIZE_MAX / 2;
    if (S_ISREG(st.st_mode) && (unsigned long long)st.st_size > limit) {
        close(fd);
        return ev_fail(err, EV_ERR_FORMAT, "%s: %lld bytes, more than the %s limit of %zu bytes", path,
                       (long long)st.st_size, what, limit);
    }
    /* Read until the end, whatever the size said: room for one byte more (to see the end) and the NUL; reading
     * stops as soon as more than limit bytes are in. */
    size_t cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 2 : 65536, n = 0;
    unsigned char *b = malloc(cap);
    ev_status status = EV_OK;
    while (b) {
        if (n == cap - 1) { /* full (n ≤ limit): grow, at most to limit + 2 */
            size_t nc = cap < (limit + 2) / 2 ? 2 * cap : limit + 2;
            unsigned char *nb = realloc(b, nc);
            if (!nb)
                break;
            b = nb;
            cap = nc;
        }
        ssize_t r = read(fd, b + n, cap - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            status = ev_fail(err, EV_ERR_IO, "%s: read error: %s", path, strerror(errno));
            break;
        }
        if (r == 0) {
            b[n] = '\0';
            close(fd);
            *buf = b;
            *size = n;
            return EV_OK;
        }
        n += (size_t)r;
        if (n > limit) {
            status = ev_fail(err, EV_ERR_FORMAT, "%s: more than the %s limit of %zu bytes", path, what, limit);
            break;
        }
    }
    close(fd);
    if (!b || status == EV_OK) { /* an allocation failed */
        free(b);
        return ev_fail(err, EV_ERR_NOMEM, "out of memory reading %s (%zu bytes so far)", path, n);
    }
    free(b);
    return status;
}
