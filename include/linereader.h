/* linereader — lines from a file descriptor (standard input for --batch), with a way to ask "is another line
 * already here?" without blocking, so that a batch groups what is queued and answers a co-process line by line. */
#ifndef LINEREADER_H
#define LINEREADER_H

#include <stddef.h>

typedef struct linereader linereader;

/* A reader of fd (not closed by linereader_free). Lines longer than max_line bytes (not counting the '\n') are not
 * kept: they come back with *too_long set, their bytes skipped. Returns NULL when out of memory. */
linereader *linereader_new(int fd, size_t max_line);

/* The result of linereader_next. */
enum { LR_LINE = 1, LR_EOF = 0, LR_AGAIN = -1, LR_ERROR = -2 };

/* The next line: *line points to its *len bytes (no '\n'; a final line without one counts), NUL-terminated, valid
 * until the next call. *too_long: the line exceeded max_line (then *len is 0). wait = 0: returns LR_AGAIN instead
 * of blocking when no complete line is buffered and the descriptor has nothing to read right now (poll with a zero
 * timeout); wait = 1 blocks. Returns LR_LINE, LR_EOF, LR_AGAIN, or LR_ERROR (read error or out of memory: errno
 * set). */
int linereader_next(linereader *r, int wait, const char **line, size_t *len, int *too_long);

/* Frees r (NULL is fine). */
void linereader_free(linereader *r);

#endif
