/* test_linereader — linereader.h through a pipe: lines split across writes, LR_AGAIN only when no complete line is
 * buffered and nothing is readable (never when a line is), a final line without '\n', empty lines, '\r' kept, lines
 * over the limit (and exactly at it) with the next line intact, lines longer than one read() chunk, LR_EOF repeated.
 * Any mismatch makes the process exit non-zero. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "linereader.h"

static void put(int fd, const char *s)
{
    size_t n = strlen(s);
    CHECK(write(fd, s, n) == (ssize_t)n, "write");
}

/* The next result; the line copied into buf. */
static int next(linereader *r, int wait, char *buf, size_t cap, int *too_long)
{
    const char *l = NULL;
    size_t n = 0;
    int st = linereader_next(r, wait, &l, &n, too_long);
    if (st == LR_LINE) {
        CHECK(strlen(l) == n, "NUL-terminated at its length (%zu, %zu)", strlen(l), n);
        if (n >= cap)
            n = cap - 1;
        memcpy(buf, l, n);
        buf[n] = '\0';
    }
    return st;
}

static void test_pipe(void)
{
    int p[2];
    CHECK(pipe(p) == 0, "pipe");
    linereader *r = linereader_new(p[0], 8);
    char b[64];
    int tl;
    CHECK(next(r, 0, b, sizeof b, &tl) == LR_AGAIN, "nothing written: LR_AGAIN");
    put(p[1], "the ki");
    CHECK(next(r, 0, b, sizeof b, &tl) == LR_AGAIN, "half a line: LR_AGAIN");
    put(p[1], "ng\nparis\r\n\nabc");
    CHECK(next(r, 0, b, sizeof b, &tl) == LR_LINE && strcmp(b, "the king") == 0 && !tl, "first line: '%s'", b);
    CHECK(next(r, 0, b, sizeof b, &tl) == LR_LINE && strcmp(b, "paris\r") == 0, "'\\r' kept: '%s'", b);
    CHECK(next(r, 0, b, sizeof b, &tl) == LR_LINE && b[0] == '\0' && !tl, "an empty line");
    CHECK(next(r, 0, b, sizeof b, &tl) == LR_AGAIN, "'abc' without its newline: LR_AGAIN");
    put(p[1], "123456789\n12345678\nok\n");
    CHECK(next(r, 0, b, sizeof b, &tl) == LR_LINE && tl && b[0] == '\0', "abc123456789: 12 bytes over 8: too long");
    CHECK(next(r, 1, b, sizeof b, &tl) == LR_LINE && !tl && strcmp(b, "12345678") == 0, "exactly 8: kept: '%s'", b);
    CHECK(next(r, 1, b, sizeof b, &tl) == LR_LINE && strcmp(b, "ok") == 0, "after: '%s'", b);
    /* a line far over the limit, longer than a read chunk: skipped in pieces, the next one intact */
    size_t big = 200000;
    char *s = malloc(big + 1);
    memset(s, 'x', big);
    s[big] = '\0';
    if (fork() == 0) { /* the pipe holds 64 KiB: a writer of its own */
        put(p[1], s);
        put(p[1], "\nlast");
        _exit(0);
    }
    close(p[1]);
    CHECK(next(r, 1, b, sizeof b, &tl) == LR_LINE && tl, "200,000 bytes: too long");
    CHECK(next(r, 1, b, sizeof b, &tl) == LR_LINE && !tl && strcmp(b, "last") == 0, "final line without '\\n': '%s'", b);
    CHECK(next(r, 1, b, sizeof b, &tl) == LR_EOF, "then LR_EOF");
    CHECK(next(r, 0, b, sizeof b, &tl) == LR_EOF, "and again, not waiting");
    free(s);
    linereader_free(r);
    close(p[0]);
}

static void test_long_lines_kept(void)
{
    int p[2];
    CHECK(pipe(p) == 0, "pipe");
    linereader *r = linereader_new(p[0], 1 << 20);
    size_t n = 150000; /* over two read chunks, under the limit */
    char *s = malloc(n + 2);
    for (size_t i = 0; i < n; i++)
        s[i] = (char)('a' + i % 26);
    s[n] = '\n';
    s[n + 1] = '\0';
    if (fork() == 0) {
        put(p[1], s);
        put(p[1], s);
        _exit(0);
    }
    close(p[1]);
    for (int k = 0; k < 2; k++) {
        const char *l;
        size_t len;
        int tl;
        int st = linereader_next(r, 1, &l, &len, &tl);
        CHECK(st == LR_LINE && !tl && len == n && memcmp(l, s, n) == 0, "line %d of 150,000 bytes (%d, %zu)", k, st, len);
    }
    const char *l;
    size_t len;
    int tl;
    CHECK(linereader_next(r, 1, &l, &len, &tl) == LR_EOF, "LR_EOF");
    free(s);
    linereader_free(r);
    close(p[0]);
    linereader_free(NULL);
}

int main(void)
{
    test_pipe();
    test_long_lines_kept();
    return check_done("test_linereader");
}
