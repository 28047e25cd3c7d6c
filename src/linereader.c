/* linereader — lines from a file descriptor, blocking or "only what is already here" (poll with a zero timeout). */
#define _POSIX_C_SOURCE 200809L
#include "linereader.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LR_CHUNK 65536 /* bytes asked of each read() */

struct linereader {
    int fd;
    size_t max_line;
    char *buf;       /* (cap) bytes; [pos, end) not yet returned */
    size_t cap, pos, end;
    size_t scanned;  /* bytes of [pos, end) known to hold no '\n' */
    int eof;
    int skipping;    /* inside a line longer than max_line: its bytes are dropped until its '\n' */
};

linereader *linereader_new(int fd, size_t max_line)
{
    linereader *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->fd = fd;
    r->max_line = max_line;
    return r;
}

void linereader_free(linereader *r)
{
    if (!r)
        return;
    free(r->buf);
    free(r);
}

/* Room for one more read at the end of the buffer: moves [pos, end) to the front, grows the buffer. 0 or -1. */
static int make_room(linereader *r)
{
    if (r->pos > 0) {
        memmove(r->buf, r->buf + r->pos, r->end - r->pos);
        r->end -= r->pos;
        r->pos = 0;
    }
    if (r->cap - r->end >= LR_CHUNK + 1)
        return 0;
    size_t nc = r->cap ? r->cap * 2 : 2 * LR_CHUNK;
    while (nc - r->end < LR_CHUNK + 1)
        nc *= 2;
    char *nb = realloc(r->buf, nc);
    if (!nb) {
        errno = ENOMEM;
        return -1;
    }
    r->buf = nb;
    r->cap = nc;
    return 0;
}

/* Whether fd has something to read (data, end of file or an error) right now. */
static int ready(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    int n;
    while ((n = poll(&p, 1, 0)) < 0 && errno == EINTR)
        ;
    return n != 0; /* poll errors: let read() report them */
}

int linereader_next(linereader *r, int wait, const char **line, size_t *len, int *too_long)
{
    for (;;) {
        char *start = r->buf ? r->buf + r->pos : NULL;
        size_t have = r->end - r->pos;
        char *nl = have > r->scanned ? memchr(start + r->scanned, '\n', have - r->scanned) : NULL;
        if (nl || (r->eof && (have > 0 || r->skipping))) {
            size_t n = nl ? (size_t)(nl - start) : have;
            *too_long = r->skipping || n > r->max_line;
            r->skipping = 0;
            if (*too_long)
                n = 0;
            start[n] = '\0'; /* the '\n', or the byte past the data (make_room keeps one spare) */
            *line = start;
            *len = n;
            r->pos += nl ? (size_t)(nl - start) + 1 : have;
            r->scanned = 0;
            return LR_LINE;
        }
        if (r->eof)
            return LR_EOF;
        r->scanned = have;
        if (have > r->max_line) { /* over the limit: drop what is here, remember to drop the rest of the line */
            r->skipping = 1;
            r->pos = r->end = r->scanned = 0;
        }
        if (!wait && !ready(r->fd))
            return LR_AGAIN;
        if (make_room(r) < 0)
            return LR_ERROR;
        ssize_t got = read(r->fd, r->buf + r->end, LR_CHUNK);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return LR_ERROR;
        }
        if (got == 0)
            r->eof = 1;
        r->end += (size_t)got;
    }
}
