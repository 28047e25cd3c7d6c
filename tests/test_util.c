/* test_util — util.h: base names (with and without directories, a trailing '/') and whole-file reading (contents and
 * the NUL after them, an empty file, a file of exactly the limit and one byte more, a pipe, a directory, a missing
 * file). Any mismatch makes the process exit non-zero. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "util.h"

static char tmpdir[] = "/tmp/test_util.XXXXXX";

static void test_base_name(void)
{
    static const char *const CASES[][2] = {{"a/b.txt", "b.txt"}, {"b.txt", "b.txt"}, {"/x/y/z", "z"},
                                           {"dir/", "dir/"},     {"/", "/"},          {"", ""}};
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++)
        CHECK(strcmp(util_base_name(CASES[i][0]), CASES[i][1]) == 0, "base name of '%s': '%s', expected '%s'",
              CASES[i][0], util_base_name(CASES[i][0]), CASES[i][1]);
}

static const char *write_file(const char *name, size_t n)
{
    static char path[300];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    for (size_t i = 0; i < n; i++)
        fputc('a' + (int)(i % 26), f);
    fclose(f);
    return path;
}

static void test_read_file(void)
{
    unsigned char *buf;
    size_t n;
    ev_error err = {0};
    const char *p = write_file("f", 100000);
    CHECK(util_read_file(p, "test file", 0, &buf, &n, &err) == EV_OK && n == 100000, "read: %s", err.msg);
    if (buf) {
        CHECK(buf[0] == 'a' && buf[99999] == 'a' + 99999 % 26 && buf[n] == '\0', "contents and the NUL after them");
        free(buf);
    }
    CHECK(util_read_file(p, "test file", 100000, &buf, &n, &err) == EV_OK && n == 100000, "exactly the limit");
    free(buf);
    CHECK(util_read_file(p, "test file", 99999, &buf, &n, &err) == EV_ERR_FORMAT && !buf &&
              strstr(err.msg, "more than the test file limit of 99999 bytes"),
          "over the limit: %s", err.msg);
    ev_error_clear(&err);
    p = write_file("empty", 0);
    CHECK(util_read_file(p, "test file", 10, &buf, &n, &err) == EV_OK && n == 0 && buf && buf[0] == '\0', "empty");
    free(buf);
    /* a pipe: no size to start from, read to its end (and refused past the limit) */
    FILE *pp = popen("head -c 200000 /dev/zero | tr '\\0' x", "r");
    char fdpath[64];
    snprintf(fdpath, sizeof fdpath, "/dev/fd/%d", fileno(pp));
    CHECK(util_read_file(fdpath, "test file", 0, &buf, &n, &err) == EV_OK && n == 200000 && buf[199999] == 'x',
          "pipe: %s (%zu bytes)", err.msg, n);
    free(buf);
    pclose(pp);
    pp = popen("head -c 200000 /dev/zero", "r");
    snprintf(fdpath, sizeof fdpath, "/dev/fd/%d", fileno(pp));
    CHECK(util_read_file(fdpath, "test file", 70000, &buf, &n, &err) == EV_ERR_FORMAT && !buf,
          "pipe over the limit: %s", err.msg);
    ev_error_clear(&err);
    pclose(pp);
    CHECK(util_read_file(tmpdir, "test file", 0, &buf, &n, &err) == EV_ERR_IO &&
              strstr(err.msg, "is a directory, expected a test file"),
          "directory: %s", err.msg);
    ev_error_clear(&err);
    p = write_file("x", 1);
    char missing[320];
    snprintf(missing, sizeof missing, "%s/missing", tmpdir);
    CHECK(util_read_file(missing, "test file", 0, &buf, &n, &err) == EV_ERR_IO &&
              strstr(err.msg, "missing: cannot open the test file: No such file"),
          "missing: %s", err.msg);
    ev_error_clear(&err);
}

int main(void)
{
    if (!mkdtemp(tmpdir))
        return 2;
    test_base_name();
    test_read_file();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        return 2;
    return check_done("test_util");
}
