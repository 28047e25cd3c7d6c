/* test_store_sink — convert into a cache with the rows streamed to the output (store_sink: the CLI's convert) gives
 * the cache of the in-memory path (loader_load, then store_write_cache): for a mapped text file (rows written in
 * place, its header padded to room reserved before the rows were known) and for streams (word2vec binary, compressed
 * files: the header's room inserted before the rows at the end) the same header JSON and the same bytes from the
 * data on; byte for byte where a stream's rows are copied instead (store_sink_set_insert(k, 0), or a file system
 * that cannot insert, such as tmpfs, tried in /dev/shm when there is one).
 * Formats: fastText .vec, GloVe text without header, word2vec text and binary; gzip, xz, bzip2; --limit; duplicate
 * words and blank lines (rows compacted in place or skipped in the copy); one and two parser threads; tiny stream
 * blocks; a mapped binary read in several blocks. Errors leave neither the output nor a temporary file. */
#define _GNU_SOURCE /* fallocate */
#include <dirent.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "loader.h"

#define TEST_TMPDIR_NAME "test_store_sink"
#include "test_tmpdir.h"

static char *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc(len > 0 ? (size_t)len : 1);
    if (b && len > 0 && fread(b, 1, (size_t)len, f) != (size_t)len) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *n = (size_t)(len > 0 ? len : 0);
    return b;
}

static void sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    if (system(cmd) != 0) {
        fprintf(stderr, "test_store_sink: failed: %s\n", cmd);
        exit(2);
    }
}

typedef struct {
    int threads;
    size_t limit, block_bytes;
    int no_insert; /* store_sink_set_insert(k, 0) */
} conv;

/* Whether the file system of dir inserts a range into a file (FALLOC_FL_INSERT_RANGE). */
static int inserts(const char *dir)
{
    char path[600];
    snprintf(path, sizeof path, "%s/probe.XXXXXX", dir);
    int fd = mkstemp(path), ok = 0;
    if (fd < 0)
        return 0;
    unlink(path);
    static char block[8192];
    ok = write(fd, block, sizeof block) == (ssize_t)sizeof block && fallocate(fd, FALLOC_FL_INSERT_RANGE, 0, 4096) == 0;
    close(fd);
    return ok;
}

static int insert_ok; /* inserts(tmpdir) */
#define STREAM (-1)   /* the comparison a stream's cache gives: 1 when the header's room was inserted, else 2 */

/* The in-memory path: the whole matrix loaded, then written. */
static ev_status convert_memory(const char *in, const char *out, conv c, size_t *dups, ev_error *err)
{
    loader_opts o = {.threads = c.threads, .limit = c.limit, .block_bytes = c.block_bytes};
    store *s = NULL;
    ev_error_clear(err);
    ev_status st = loader_load(in, &o, &s, err);
    if (st == EV_OK)
        st = store_write_cache(s, out, err);
    *dups = o.n_duplicates;
    store_close(s);
    return st;
}

/* The streaming path, as `embvsattn convert` runs it. *matrix: whether the loaded store held a matrix. */
static ev_status convert_stream(const char *in, const char *out, conv c, size_t *dups, int *matrix, ev_error *err)
{
    store_sink *k = store_sink_new(out, strlen(in) + 256);
    if (k)
        store_sink_set_insert(k, !c.no_insert);
    loader_opts o = {.threads = c.threads, .limit = c.limit, .block_bytes = c.block_bytes,
                     .rows_begin = store_sink_begin, .rows_write = store_sink_write, .rows_ctx = k};
    store *s = NULL;
    ev_error_clear(err);
    ev_status st = k ? loader_load(in, &o, &s, err) : EV_ERR_NOMEM;
    *matrix = s && store_vectors(s) != NULL;
    if (st == EV_OK)
        st = store_sink_finish(k, s, err);
    *dups = o.n_duplicates;
    store_close(s);
    store_sink_free(k);
    return st;
}

static uint64_t le64(const char *p)
{
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | (unsigned char)p[i];
    return n;
}

/* 2: the same bytes; 1: the same header JSON (trailing padding aside) and the same bytes after the header; 0: not. */
static int compare(const char *a, const char *b)
{
    size_t na, nb;
    char *x = read_file(a, &na), *y = read_file(b, &nb);
    int r = 0;
    if (x && y && na == nb && memcmp(x, y, na) == 0) {
        r = 2;
    } else if (x && y && na >= 8 && nb >= 8) {
        uint64_t ha = le64(x), hb = le64(y);
        if (ha <= na - 8 && hb <= nb - 8 && na - 8 - ha == nb - 8 - hb &&
            memcmp(x + 8 + ha, y + 8 + hb, na - 8 - ha) == 0) {
            size_t ja = ha, jb = hb;
            while (ja && x[8 + ja - 1] == ' ')
                ja--;
            while (jb && y[8 + jb - 1] == ' ')
                jb--;
            r = ja == jb && memcmp(x + 8, y + 8, ja) == 0;
        }
    }
    free(x);
    free(y);
    return r;
}

/* Converts in both ways, the streamed cache to out, and compares: exact (want 2), in place (want 1: a padded
 * header) or STREAM. */
static void same_to(const char *label, const char *in, conv c, int want, const char *out)
{
    ev_error e1 = {0}, e2 = {0};
    size_t d1 = 0, d2 = 0;
    int matrix = 1;
    if (want == STREAM)
        want = insert_ok && !c.no_insert ? 1 : 2;
    ev_status s1 = convert_memory(in, tpath("mem.safetensors"), c, &d1, &e1);
    ev_status s2 = convert_stream(in, out, c, &d2, &matrix, &e2);
    CHECK(s1 == EV_OK && s2 == EV_OK, "%s: memory: %s; stream: %s", label, e1.msg ? e1.msg : "ok", e2.msg ? e2.msg : "ok");
    CHECK(!matrix, "%s: the streamed store holds a matrix", label);
    CHECK(d1 == d2, "%s: %zu duplicates in memory, %zu streamed", label, d1, d2);
    int r = compare(tpath("mem.safetensors"), out);
    CHECK(r == want, "%s: compared %d, expected %d (2: same bytes, 1: same but the header's padding)", label, r, want);
    store *x = NULL;
    CHECK(store_open(out, &x, &e2) == EV_OK, "%s: the streamed cache does not open: %s", label, e2.msg);
    store_close(x);
    CHECK(count_files(".tmp.") == 0 && count_files(".spill.") == 0, "%s: a temporary file was left behind", label);
    ev_error_clear(&e1);
    ev_error_clear(&e2);
}

static void same(const char *label, const char *in, conv c, int want)
{
    same_to(label, in, c, want, tpath("stream.safetensors"));
}

/* Converting in must fail with code, leaving no output and no temporary file. */
static void fails(const char *label, const char *in, conv c, ev_status code)
{
    ev_error err = {0};
    size_t d;
    int matrix;
    unlink(tpath("fail.safetensors"));
    ev_status st = convert_stream(in, tpath("fail.safetensors"), c, &d, &matrix, &err);
    CHECK(st == code, "%s: status %d, expected %d: %s", label, (int)st, (int)code, err.msg ? err.msg : "no error");
    CHECK(count_files("fail.safetensors") == 0, "%s: the output was left", label);
    CHECK(count_files(".tmp.") == 0 && count_files(".spill.") == 0, "%s: a temporary file was left behind", label);
    ev_error_clear(&err);
}

/* A GloVe text of rows × dim values, with blank lines, CRLF, trailing blanks and (dups) repeated words; past 8 MiB
 * it is parsed on two threads, so that a blank line leaves a gap between the ranges' rows. bad: a line to spoil. */
static void make_text(const char *path, size_t rows, size_t dim, int dups, size_t bad)
{
    FILE *f = fopen(path, "wb");
    for (size_t i = 0, line = 1; f && i < rows; i++, line++) {
        if (i % 997 == 5) {
            fputs(i % 2 ? "\n" : "  \t\n", f);
            line++;
        }
        if (dups && i % 101 == 7)
            fprintf(f, "w%zu", i / 2); /* an earlier word again */
        else
            fprintf(f, "w%zu", i);
        for (size_t j = 0; j < dim; j++)
            fprintf(f, line == bad && j == 3 ? " 1.x" : " %zu.%03zu", (i * 7 + j) % 97, (i + j) % 1000);
        fputs(i % 3 == 0 ? "\r\n" : i % 3 == 1 ? " \n" : "\n", f);
    }
    if (!f || fclose(f) != 0) {
        perror(path);
        exit(2);
    }
}

/* A word2vec binary of rows × dim (dups: repeated words), newline after each vector or none. */
static void make_bin(const char *path, size_t rows, size_t dim, int dups, int newlines)
{
    FILE *f = fopen(path, "wb");
    if (f)
        fprintf(f, "%zu %zu\n", rows, dim);
    float *v = malloc(dim * sizeof *v);
    for (size_t i = 0; f && v && i < rows; i++) {
        fprintf(f, "w%zu ", dups && i % 101 == 7 ? i / 2 : i);
        for (size_t j = 0; j < dim; j++)
            v[j] = (float)((i * 31 + j * 7) % 1000) / 999.f - 0.5f;
        fwrite(v, sizeof *v, dim, f);
        if (newlines)
            fputc('\n', f);
    }
    free(v);
    if (!f || fclose(f) != 0) {
        perror(path);
        exit(2);
    }
}

static void test_formats(void)
{
    conv c = {0};
    same("fastText .vec", "tests/fixtures/gensim/kv.vec", c, 1);
    same("GloVe without header", "tests/fixtures/gensim/kv.glove", c, 1);
    same("word2vec binary", "tests/fixtures/gensim/kv.bin", c, STREAM);
    sh("gzip -c tests/fixtures/gensim/kv.glove >'%s'", tpath("kv.glove.gz"));
    sh("xz -c tests/fixtures/gensim/kv.vec >'%s'", tpath("kv.vec.xz"));
    sh("bzip2 -c tests/fixtures/gensim/kv.bin >'%s'", tpath("kv.bin.bz2"));
    for (int copy = 0; copy < 2; copy++) { /* the header's room inserted, then the rows copied */
        conv k = {.no_insert = copy};
        same(copy ? "word2vec binary, copied" : "word2vec binary", "tests/fixtures/gensim/kv.bin", k, STREAM);
        same(copy ? "GloVe gzip, copied" : "GloVe gzip", tpath("kv.glove.gz"), k, STREAM);
        same(copy ? "word2vec text xz, copied" : "word2vec text xz", tpath("kv.vec.xz"), k, STREAM);
        same(copy ? "word2vec binary bzip2, copied" : "word2vec binary bzip2", tpath("kv.bin.bz2"), k, STREAM);
    }
    conv lim = {.limit = 3};
    same("--limit 3, text", "tests/fixtures/gensim/kv.vec", lim, 1);
    same("--limit 3, binary", "tests/fixtures/gensim/kv.bin", lim, STREAM);
    same("--limit 3, gzip", tpath("kv.glove.gz"), lim, STREAM);
}

static void test_large(void)
{
    make_text(tpath("big.txt"), 40000, 60, 0, 0);
    make_text(tpath("dups.txt"), 40000, 60, 1, 0);
    struct stat st;
    CHECK(stat(tpath("big.txt"), &st) == 0 && st.st_size > (8 << 20), "big.txt is not parsed on two threads");
    for (int t = 1; t <= 2; t++) {
        conv c = {.threads = t};
        same(t == 1 ? "blank lines, 1 thread" : "blank lines, 2 threads", tpath("big.txt"), c, 1);
        same(t == 1 ? "duplicates, 1 thread" : "duplicates, 2 threads", tpath("dups.txt"), c, 1);
    }
    conv lim = {.limit = 12345};
    same("duplicates, --limit", tpath("dups.txt"), lim, 1);
    sh("gzip -1 -c '%s' >'%s'", tpath("dups.txt"), tpath("dups.txt.gz"));
    conv tiny = {.block_bytes = 4096};
    same("duplicates, gzip, 4 KiB blocks", tpath("dups.txt.gz"), tiny, STREAM);
    same("duplicates, gzip, 4 KiB blocks, copied", tpath("dups.txt.gz"), (conv){.block_bytes = 4096, .no_insert = 1},
         STREAM);
    same("duplicates, gzip, 2 threads", tpath("dups.txt.gz"), (conv){.threads = 2}, STREAM);
    /* on a file system that cannot insert (tmpfs), the rows are copied: the same bytes */
    struct stat shm;
    if (stat("/dev/shm", &shm) == 0 && S_ISDIR(shm.st_mode) && access("/dev/shm", W_OK) == 0) {
        char out[64];
        snprintf(out, sizeof out, "/dev/shm/test_store_sink.%ld.safetensors", (long)getpid());
        same_to(inserts("/dev/shm") ? "duplicates, gzip, in /dev/shm (inserts)" : "duplicates, gzip, in /dev/shm",
                tpath("dups.txt.gz"), (conv){0}, inserts("/dev/shm") && insert_ok ? 1 : 2, out);
        unlink(out);
    }
    /* a mapped binary read in several blocks (32 MiB each), with duplicates; without newlines, through a pipe */
    make_bin(tpath("big.bin"), 180000, 50, 1, 1);
    same("binary, 36 MB, duplicates", tpath("big.bin"), (conv){0}, STREAM);
    same("binary, 36 MB, duplicates, copied", tpath("big.bin"), (conv){.no_insert = 1}, STREAM);
    make_bin(tpath("nonl.bin"), 5000, 20, 0, 0);
    sh("gzip -1 -c '%s' >'%s'", tpath("nonl.bin"), tpath("nonl.bin.gz"));
    same("binary without newlines, gzip, 4 KiB blocks", tpath("nonl.bin.gz"), tiny, STREAM);
    same("binary without newlines, --limit", tpath("nonl.bin"), (conv){.limit = 4321}, STREAM);
    write_file(tpath("small-dups.txt"), "a 1 2\nb 3 4\n\na 5 6\r\nc 7 8\n\n", 26);
    same("small, duplicates and blank lines", tpath("small-dups.txt"), (conv){0}, 1);
}

static void test_errors(void)
{
    make_text(tpath("bad.txt"), 40000, 60, 0, 31000);
    fails("a bad value, 2 threads", tpath("bad.txt"), (conv){.threads = 2}, EV_ERR_FORMAT);
    fails("a bad value, 1 thread", tpath("bad.txt"), (conv){.threads = 1}, EV_ERR_FORMAT);
    sh("gzip -1 -c '%s' >'%s'", tpath("bad.txt"), tpath("bad.txt.gz"));
    fails("a bad value, gzip", tpath("bad.txt.gz"), (conv){0}, EV_ERR_FORMAT);
    sh("head -c 1000000 '%s' >'%s'", tpath("big.bin"), tpath("trunc.bin"));
    fails("a truncated binary", tpath("trunc.bin"), (conv){0}, EV_ERR_FORMAT);
    sh("head -c 200000 '%s' >'%s'", tpath("dups.txt.gz"), tpath("trunc.gz"));
    fails("a truncated gzip", tpath("trunc.gz"), (conv){0}, EV_ERR_FORMAT);
    /* the output's directory missing: a text (in place) and a binary (spill) */
    ev_error err = {0};
    size_t d;
    int matrix;
    for (int i = 0; i < 2; i++) {
        ev_status st = convert_stream(i ? "tests/fixtures/gensim/kv.bin" : "tests/fixtures/gensim/kv.glove",
                                      tpath("missing/x.safetensors"), (conv){0}, &d, &matrix, &err);
        CHECK(st == EV_ERR_WRITE && err.msg && strstr(err.msg, "missing/x.safetensors"), "missing directory (%d): %s",
              i, err.msg ? err.msg : "no error");
        ev_error_clear(&err);
    }
    CHECK(count_files(".tmp.") == 0 && count_files(".spill.") == 0, "errors: a temporary file was left behind");
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    insert_ok = inserts(tmpdir);
    printf("test_store_sink: %s inserts ranges: %s\n", tmpdir, insert_ok ? "yes" : "no (the copy is tested twice)");
    test_formats();
    test_large();
    test_errors();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return check_done("test_store_sink");
}
