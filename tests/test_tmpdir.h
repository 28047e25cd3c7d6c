/* test_tmpdir.h — a test's scratch directory and the files in it, for the unit tests that write files.
 * Define TEST_TMPDIR_NAME ("test_x") before including; main makes the directory with mkdtemp(tmpdir) and removes it.
 * Needs <dirent.h>, <stdio.h>, <stdlib.h>, <string.h>. */
#ifndef TEST_TMPDIR_H
#define TEST_TMPDIR_H

static char tmpdir[] = "/tmp/" TEST_TMPDIR_NAME ".XXXXXX";

/* tmpdir/name, in one of 8 rotating buffers (valid until 8 more calls). */
static inline char *tpath(const char *name)
{
    static char buf[8][512];
    static int k;
    char *b = buf[k++ % 8];
    snprintf(b, sizeof buf[0], "%s/%s", tmpdir, name);
    return b;
}

/* Writes n bytes to path; exits the test (status 2) when it cannot. */
static inline void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        exit(2);
    }
}

/* The number of files in tmpdir whose name contains frag. */
static inline int count_files(const char *frag)
{
    DIR *d = opendir(tmpdir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += strstr(e->d_name, frag) != NULL;
    if (d)
        closedir(d);
    return n;
}

#endif
