/* test_input — compressed and archived vector files (input.h) and the stream parsers (loader_stream.c): every
 * packing loads the same store as the plain file, with blocks of many sizes (records straddling blocks), and the
 * same error message with the same line number for a malformed row; damaged, truncated and oversized inputs fail
 * with their status and a message naming what is wrong. The compressed files are made here with zlib, libbz2 and
 * liblzma, the zip archives by hand (stored, deflate, zip64 fields). The two inflaters (zlib and ISA-L, picked with
 * EMBVSATTN_INFLATE) give the same bytes and the same errors on gzip members of every shape. */
#define _GNU_SOURCE
#include <bzlib.h>
#include <lzma.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "input.h"
#include "loader.h"

#define TEST_TMPDIR_NAME "test_input"
#include "test_tmpdir.h"

typedef struct {
    unsigned char *p;
    size_t n, cap;
} bytes;

static void put(bytes *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            exit(2);
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void put16(bytes *b, unsigned v) { unsigned char x[2] = {(unsigned char)v, (unsigned char)(v >> 8)}; put(b, x, 2); }
static void put32(bytes *b, uint32_t v) { put16(b, v & 0xffff); put16(b, v >> 16); }
static void put64(bytes *b, uint64_t v) { put32(b, (uint32_t)v); put32(b, (uint32_t)(v >> 32)); }

static void write_named(const char *name, const void *p, size_t n) { write_file(tpath(name), p, n); }

/* deflate: gzip (wbits 31) or raw (-15) */
static bytes zdeflate(const void *p, size_t n, int wbits)
{
    bytes out = {0};
    z_stream z = {0};
    deflateInit2(&z, 6, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY);
    out.cap = deflateBound(&z, (uLong)n) + 64;
    out.p = malloc(out.cap);
    z.next_in = (unsigned char *)p;
    z.avail_in = (uInt)n;
    z.next_out = out.p;
    z.avail_out = (uInt)out.cap;
    CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END, "deflate");
    out.n = out.cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

static bytes bz2(const void *p, size_t n)
{
    bytes out = {.cap = n + n / 50 + 1024};
    out.p = malloc(out.cap);
    unsigned len = (unsigned)out.cap;
    CHECK(BZ2_bzBuffToBuffCompress((char *)out.p, &len, (char *)p, (unsigned)n, 9, 0, 0) == BZ_OK, "bzip2");
    out.n = len;
    return out;
}

static bytes xz(const void *p, size_t n)
{
    bytes out = {.cap = lzma_stream_buffer_bound(n)};
    out.p = malloc(out.cap);
    CHECK(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, NULL, p, n, out.p, &out.n, out.cap) == LZMA_OK, "xz");
    return out;
}

typedef struct {
    const char *name;
    const void *data;
    size_t n;
    int method;        /* 0 stored, 8 deflate */
    int zip64;         /* sizes and offset in the zip64 extra field */
    int flags;         /* general purpose flags (1: encrypted) */
    uint32_t bad_crc;  /* nonzero: written instead of the CRC */
    uint64_t usize;    /* nonzero: declared instead of the real size */
} zmember;

/* A zip archive of the members; zip64_end: with the zip64 end records. */
static bytes zip_build(const zmember *m, size_t k, int zip64_end)
{
    bytes z = {0}, cd = {0};
    for (size_t i = 0; i < k; i++) {
        bytes data = m[i].method == 8 ? zdeflate(m[i].data, m[i].n, -15) : (bytes){0};
        const void *dp = m[i].method == 8 ? data.p : m[i].data;
        size_t dn = m[i].method == 8 ? data.n : m[i].n;
        uint32_t crc = m[i].bad_crc ? m[i].bad_crc : (uint32_t)crc32(0, m[i].data, (uInt)m[i].n);
        uint64_t us = m[i].usize ? m[i].usize : m[i].n, off = z.n;
        size_t nl = strlen(m[i].name);
        put32(&z, 0x04034b50);
        put16(&z, 45);
        put16(&z, (unsigned)m[i].flags);
        put16(&z, (unsigned)m[i].method);
        put32(&z, 0);
        put32(&z, crc);
        put32(&z, m[i].zip64 ? 0xffffffffu : (uint32_t)dn);
        put32(&z, m[i].zip64 ? 0xffffffffu : (uint32_t)us);
        put16(&z, (unsigned)nl);
        put16(&z, 0);
        put(&z, m[i].name, nl);
        put(&z, dp, dn);
        put32(&cd, 0x02014b50);
        put16(&cd, 45);
        put16(&cd, 45);
        put16(&cd, (unsigned)m[i].flags);
        put16(&cd, (unsigned)m[i].method);
        put32(&cd, 0);
        put32(&cd, crc);
        put32(&cd, m[i].zip64 ? 0xffffffffu : (uint32_t)dn);
        put32(&cd, m[i].zip64 ? 0xffffffffu : (uint32_t)us);
        put16(&cd, (unsigned)nl);
        put16(&cd, m[i].zip64 ? 28 : 0);
        put16(&cd, 0);
        put16(&cd, 0);
        put16(&cd, 0);
        put32(&cd, 0);
        put32(&cd, m[i].zip64 ? 0xffffffffu : (uint32_t)off);
        put(&cd, m[i].name, nl);
        if (m[i].zip64) {
            put16(&cd, 1);
            put16(&cd, 24);
            put64(&cd, us);
            put64(&cd, dn);
            put64(&cd, off);
        }
        free(data.p);
    }
    uint64_t cd_off = z.n;
    put(&z, cd.p, cd.n);
    if (zip64_end) {
        uint64_t z64 = z.n;
        put32(&z, 0x06064b50);
        put64(&z, 44);
        put16(&z, 45);
        put16(&z, 45);
        put32(&z, 0);
        put32(&z, 0);
        put64(&z, k);
        put64(&z, k);
        put64(&z, cd.n);
        put64(&z, cd_off);
        put32(&z, 0x07064b50);
        put32(&z, 0);
        put64(&z, z64);
        put32(&z, 1);
    }
    put32(&z, 0x06054b50);
    put16(&z, 0);
    put16(&z, 0);
    put16(&z, zip64_end ? 0xffff : (unsigned)k);
    put16(&z, zip64_end ? 0xffff : (unsigned)k);
    put32(&z, zip64_end ? 0xffffffffu : (uint32_t)cd.n);
    put32(&z, zip64_end ? 0xffffffffu : (uint32_t)cd_off);
    put16(&z, 0);
    free(cd.p);
    return z;
}

static store *load_threads(const char *name, size_t block, size_t limit, int threads, ev_error *err)
{
    loader_opts o = {.block_bytes = block, .limit = limit, .threads = threads};
    store *s = NULL;
    ev_error_clear(err);
    loader_load(tpath(name), &o, &s, err);
    return s;
}

static store *load(const char *name, size_t block, size_t limit, ev_error *err)
{
    return load_threads(name, block, limit, 0, err);
}

static int same_store(const store *a, const store *b)
{
    if (!a || !b || store_size(a) != store_size(b) || store_dim(a) != store_dim(b))
        return 0;
    size_t V = store_size(a), d = store_dim(a);
    if (memcmp(store_vectors(a), store_vectors(b), V * d * sizeof(float)) != 0)
        return 0;
    for (size_t i = 0; i < V; i++) {
        size_t la, lb;
        const char *wa = store_word(a, i, &la), *wb = store_word(b, i, &lb);
        if (la != lb || memcmp(wa, wb, la) != 0)
            return 0;
    }
    return 1;
}

/* A text file of V rows of dim values (GloVe, or word2vec text with its header), words with UTF-8 and repeats. */
static bytes make_text(size_t V, size_t dim, int header)
{
    bytes b = {0};
    char line[64];
    if (header) {
        int l = snprintf(line, sizeof line, "%zu %zu\n", V, dim);
        put(&b, line, (size_t)l);
    }
    for (size_t i = 0; i < V; i++) {
        int l = snprintf(line, sizeof line, i % 7 == 3 ? "caf\xc3\xa9%zu" : "w%zu", i % 500);
        put(&b, line, (size_t)l);
        for (size_t k = 0; k < dim; k++) {
            l = snprintf(line, sizeof line, " %.6g", sin((double)(i * dim + k)) * 3.0);
            put(&b, line, (size_t)l);
        }
        put(&b, i % 11 == 5 ? "\r\n" : "\n", i % 11 == 5 ? 2 : 1);
    }
    return b;
}

static bytes make_bin(size_t V, size_t dim, int newlines)
{
    bytes b = {0};
    char line[64];
    int l = snprintf(line, sizeof line, "%zu %zu\n", V, dim);
    put(&b, line, (size_t)l);
    for (size_t i = 0; i < V; i++) {
        l = snprintf(line, sizeof line, "b%zu ", i);
        put(&b, line, (size_t)l);
        for (size_t k = 0; k < dim; k++) {
            float f = (float)cos((double)(i + k * 3));
            put(&b, &f, 4);
        }
        if (newlines)
            put(&b, "\n", 1);
    }
    return b;
}

/* name.{gz,bz2,xz,zip} of the bytes, each loaded with several block sizes, equal to the plain file. */
static void check_packings(const char *name, const bytes *plain)
{
    char f[128];
    snprintf(f, sizeof f, "%s.plain", name);
    write_named(f, plain->p, plain->n);
    ev_error err = {0};
    store *ref = load(f, 0, 0, &err);
    CHECK(ref != NULL, "%s: %s", f, err.msg);
    bytes packed[5];
    const char *ext[5] = {"gz", "bz2", "xz", "zip", "stored.zip"};
    packed[0] = zdeflate(plain->p, plain->n, 31);
    packed[1] = bz2(plain->p, plain->n);
    packed[2] = xz(plain->p, plain->n);
    zmember m = {.name = "dir/vectors.txt", .data = plain->p, .n = plain->n, .method = 8};
    zmember readme = {.name = "dir/", .data = "", .n = 0};
    zmember both[2] = {readme, m};
    packed[3] = zip_build(both, 2, 0);
    m.method = 0;
    m.zip64 = 1;
    packed[4] = zip_build(&m, 1, 1);
    static const size_t blocks[] = {13, 509, 0}; /* 13: most records straddle blocks */
    for (int e = 0; e < 5; e++) {
        snprintf(f, sizeof f, "%s.%s", name, ext[e]);
        write_named(f, packed[e].p, packed[e].n);
        for (size_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++) {
            store *s = load(f, blocks[b], 0, &err);
            CHECK(same_store(ref, s), "%s, blocks of %zu: %s", f, blocks[b], err.msg ? err.msg : "a different store");
            store_close(s);
            s = load(f, blocks[b], 5, &err);
            CHECK(s && store_size(s) == 5, "%s, blocks of %zu, --limit 5: %s", f, blocks[b], err.msg);
            store_close(s);
        }
        free(packed[e].p);
    }
    store_close(ref);
    ev_error_clear(&err);
}

static void test_packings(void)
{
    bytes t = make_text(1500, 7, 0);
    check_packings("glove", &t);
    free(t.p);
    t = make_text(400, 25, 1);
    check_packings("w2v", &t);
    free(t.p);
    t = make_bin(300, 9, 1);
    check_packings("bin-nl", &t);
    free(t.p);
    t = make_bin(300, 9, 0);
    check_packings("bin", &t);
    free(t.p);
}

/* Long windows of a stream are parsed in pieces on several threads (loader_stream.c): the same store as the mapped
 * file with 1 to 5 threads and blocks that cut lines, and a malformed row in a later piece, or in several pieces,
 * gets the mapped parser's message (the first bad line's number). */
static void test_pieces(void)
{
    bytes t = make_text(30000, 8, 0);
    write_named("pieces.plain", t.p, t.n);
    bytes g = zdeflate(t.p, t.n, 31);
    write_named("pieces.gz", g.p, g.n);
    ev_error err = {0};
    store *ref = load("pieces.plain", 0, 0, &err);
    CHECK(ref != NULL, "pieces.plain: %s", err.msg);
    static const size_t blocks[] = {0, (size_t)1 << 20, 333331};
    for (int threads = 1; threads <= 5; threads++)
        for (size_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++) {
            store *s = load_threads("pieces.gz", blocks[b], 0, threads, &err);
            CHECK(same_store(ref, s), "pieces.gz, %d threads, blocks of %zu: %s", threads, blocks[b],
                  err.msg ? err.msg : "a different store");
            store_close(s);
        }
    store_close(ref);
    /* bad rows at lines 21000 and 27000 (later pieces), and a blank-line run before them */
    size_t line = 0;
    for (size_t i = 0; i < t.n; i++)
        if (t.p[i] == '\n') {
            line++;
            if (line == 20999 || line == 26999)
                memcpy(memchr(t.p + i + 1, ' ', 40) + 1, "1x", 2);
            if (line >= 5000 && line < 5004) /* blank lines: skipped, counted */
                memset(t.p + i + 1, ' ', (size_t)((unsigned char *)memchr(t.p + i + 1, '\n', 400) - (t.p + i + 1)));
        }
    write_named("pieces-bad.plain", t.p, t.n);
    free(g.p);
    g = zdeflate(t.p, t.n, 31);
    write_named("pieces-bad.gz", g.p, g.n);
    ev_error e1 = {0};
    ref = load("pieces-bad.plain", 0, 0, &e1);
    CHECK(!ref && e1.msg && strstr(e1.msg, ":21000: "), "pieces-bad.plain: %s", e1.msg);
    for (int threads = 2; threads <= 4; threads++) {
        store *s = load_threads("pieces-bad.gz", 0, 0, threads, &err);
        const char *m1 = e1.msg ? strstr(e1.msg, ".plain:") : NULL, *m2 = err.msg ? strstr(err.msg, ".gz:") : NULL;
        CHECK(!s && m1 && m2 && strcmp(m1 + 7, m2 + 4) == 0, "%d threads: mapped '%s', gzip '%s'", threads, e1.msg,
              err.msg);
        store_close(s);
    }
    ev_error_clear(&e1);
    ev_error_clear(&err);
    free(g.p);
    free(t.p);
}

/* A malformed row deep in the file: the same message (line number) from the mapped parser and every stream. */
static void test_same_errors(void)
{
    const char *variants[] = {"bad value", "too few", "too many", "blank start"};
    for (int v = 0; v < 4; v++) {
        bytes t = make_text(2000, 5, v == 1);
        size_t line = 0, at = 0;
        for (size_t i = 0; i < t.n && line < 1234; i++)
            if (t.p[i] == '\n')
                line++, at = i + 1;
        if (v == 0)
            memcpy(memchr(t.p + at, ' ', 40) + 1, "1x", 2);
        else if (v == 1)
            memcpy(memchr(t.p + at, ' ', 40), "\n", 1); /* the word alone on its line, its values on the next */
        else if (v == 2)
            memcpy(memchr(t.p + at, '\n', 200), " 1", 2);
        else
            t.p[at] = ' ';
        write_named("err.plain", t.p, t.n);
        bytes g = zdeflate(t.p, t.n, 31);
        write_named("err.gz", g.p, g.n);
        ev_error e1 = {0}, e2 = {0};
        store *a = load("err.plain", 0, 0, &e1), *b = load("err.gz", 13, 0, &e2);
        CHECK(!a && !b && e1.code == EV_ERR_FORMAT && e2.code == EV_ERR_FORMAT, "%s: both must fail", variants[v]);
        const char *m1 = e1.msg ? strstr(e1.msg, ".plain:") : NULL, *m2 = e2.msg ? strstr(e2.msg, ".gz:") : NULL;
        CHECK(m1 && m2 && strcmp(m1 + 7, m2 + 4) == 0, "%s: mapped '%s', gzip '%s'", variants[v], e1.msg, e2.msg);
        CHECK(e1.msg && strstr(e1.msg, ":1235:"), "%s: line number in '%s'", variants[v], e1.msg);
        ev_error_clear(&e1);
        ev_error_clear(&e2);
        free(g.p);
        free(t.p);
    }
}

static void expect(const char *name, ev_status code, const char *frag)
{
    ev_error err = {0};
    store *s = load(name, 0, 0, &err);
    CHECK(!s && err.code == code, "%s: status %d, expected %d (%s)", name, err.code, code, err.msg);
    CHECK(err.msg && strstr(err.msg, frag), "%s: '%s' lacks '%s'", name, err.msg, frag);
    store_close(s);
    ev_error_clear(&err);
}

static void test_damaged(void)
{
    bytes t = make_text(500, 4, 0);
    bytes g = zdeflate(t.p, t.n, 31), b = bz2(t.p, t.n), x = xz(t.p, t.n);
    write_named("cut.gz", g.p, g.n / 2);
    expect("cut.gz", EV_ERR_FORMAT, "truncated gzip data");
    write_named("cut.bz2", b.p, b.n / 2);
    expect("cut.bz2", EV_ERR_FORMAT, "truncated bzip2 data");
    write_named("cut.xz", x.p, x.n / 2);
    expect("cut.xz", EV_ERR_FORMAT, "truncated xz data");
    g.p[g.n / 2] ^= 0x55;
    write_named("bad.gz", g.p, g.n);
    expect("bad.gz", EV_ERR_FORMAT, "corrupt gzip data");
    b.p[b.n / 2] ^= 0x55;
    write_named("bad.bz2", b.p, b.n);
    expect("bad.bz2", EV_ERR_FORMAT, "corrupt bzip2 data");
    x.p[x.n / 2] ^= 0x55;
    write_named("bad.xz", x.p, x.n);
    expect("bad.xz", EV_ERR_FORMAT, "corrupt xz data");
    /* two gzip members are one stream (as gzip -c a b); anything else after the end is an error */
    bytes g1 = zdeflate(t.p, t.n / 2, 31), g2 = zdeflate(t.p + t.n / 2, t.n - t.n / 2, 31), two = {0};
    put(&two, g1.p, g1.n);
    put(&two, g2.p, g2.n);
    write_named("two.gz", two.p, two.n);
    write_named("one.txt", t.p, t.n);
    ev_error err = {0};
    store *s1 = load("two.gz", 100, 0, &err), *s2 = load("one.txt", 0, 0, &err);
    CHECK(same_store(s1, s2), "two gzip members: %s", err.msg);
    store_close(s1);
    store_close(s2);
    put(&two, "junk", 4);
    write_named("junk.gz", two.p, two.n);
    expect("junk.gz", EV_ERR_FORMAT, "unexpected data after the end of the gzip stream");
    /* a bomb: 32 MiB of one row repeated, from ~32 KiB */
    size_t big = (size_t)32 << 20;
    char *rep = malloc(big);
    for (size_t i = 0; i < big; i++)
        rep[i] = "a 1 2 3\n"[i % 8];
    bytes bomb = zdeflate(rep, big, 31);
    write_named("bomb.gz", bomb.p, bomb.n);
    expect("bomb.gz", EV_ERR_NOMEM, "likely decompression bomb");
    free(rep);
    /* a compressed cache, compressed twice, a tar */
    bytes gg = zdeflate(g1.p, g1.n, 31);
    write_named("twice.gz", gg.p, gg.n);
    expect("twice.gz", EV_ERR_FORMAT, "the gzip data holds gzip data");
    char tar[1024] = "a.txt";
    memcpy(tar + 257, "ustar", 5);
    bytes tg = zdeflate(tar, sizeof tar, 31);
    write_named("v.tar.gz", tg.p, tg.n);
    expect("v.tar.gz", EV_ERR_FORMAT, "a tar archive");
    bytes empty = zdeflate("", 0, 31);
    write_named("empty.gz", empty.p, empty.n);
    expect("empty.gz", EV_ERR_FORMAT, "empty data once decompressed");
    free(t.p), free(g.p), free(b.p), free(x.p), free(g1.p), free(g2.p), free(two.p), free(bomb.p), free(gg.p);
    free(tg.p), free(empty.p);
}

static void test_zip(void)
{
    bytes t = make_text(50, 3, 0);
    zmember a = {.name = "a.txt", .data = t.p, .n = t.n, .method = 8}, b = a;
    b.name = "b.txt";
    zmember two[4] = {a, b, {.name = "__MACOSX/._a.txt", .data = "x", .n = 1}, {.name = "sub/", .data = "", .n = 0}};
    bytes z = zip_build(two, 4, 0);
    write_named("two.zip", z.p, z.n);
    expect("two.zip", EV_ERR_USAGE, "holds 2 files; name one as");
    expect("two.zip:c.txt", EV_ERR_IO, "no member 'c.txt' in the archive; its members: a.txt (");
    write_named("one.txt", t.p, t.n);
    ev_error err = {0};
    store *s1 = load("two.zip:b.txt", 0, 0, &err), *s2 = load("one.txt", 0, 0, &err);
    CHECK(same_store(s1, s2), "two.zip:b.txt: %s", err.msg);
    store_close(s1);
    store_close(s2);
    free(z.p);
    expect("one.txt:a.txt", EV_ERR_FORMAT, "not a zip archive, so ':a.txt' cannot name a member of it");
    zmember bad = a;
    bad.bad_crc = 0x12345678;
    z = zip_build(&bad, 1, 0);
    write_named("crc.zip", z.p, z.n);
    expect("crc.zip", EV_ERR_FORMAT, "is damaged: its CRC-32 is");
    free(z.p);
    bad = a;
    bad.usize = 10; /* declares fewer bytes than it holds */
    z = zip_build(&bad, 1, 0);
    write_named("more.zip", z.p, z.n);
    expect("more.zip", EV_ERR_NOMEM, "decompresses to more than the 10 bytes its directory entry declares");
    free(z.p);
    bad = a;
    bad.usize = (uint64_t)1 << 40; /* a bomb by its own declaration */
    bad.zip64 = 1;
    z = zip_build(&bad, 1, 1);
    write_named("bomb.zip", z.p, z.n);
    expect("bomb.zip", EV_ERR_NOMEM, "declares 1099511627776 bytes");
    free(z.p);
    bad = a;
    bad.flags = 1;
    z = zip_build(&bad, 1, 0);
    write_named("enc.zip", z.p, z.n);
    expect("enc.zip", EV_ERR_FORMAT, "is encrypted");
    free(z.p);
    bad = a;
    bad.method = 12;
    z = zip_build(&bad, 1, 0);
    write_named("bz.zip", z.p, z.n);
    expect("bz.zip", EV_ERR_FORMAT, "method 12 (bzip2)");
    /* truncated: the directory at the end is gone */
    write_named("cut.zip", z.p, z.n - 30);
    expect("cut.zip", EV_ERR_FORMAT, "no end-of-directory record");
    free(z.p);
    z = zip_build(&a, 1, 0);
    z.p[z.n - 22 + 16] ^= 0x40; /* the directory's offset points elsewhere */
    write_named("cdoff.zip", z.p, z.n);
    expect("cdoff.zip", EV_ERR_FORMAT, "expected directory entry 1 of 1");
    free(z.p);
    free(t.p);
}

/* A first record with one value too many after a "count dim" header is text (and an error), never binary. */
static void test_detection(void)
{
    write_named("plus1.vec", "2 5\nab 1.1 2.2 3.3 4.4 5.5 6.6\ncd 1.1 2.2 3.3 4.4 5.5\n", 52);
    expect("plus1.vec", EV_ERR_FORMAT, "plus1.vec:2: expected 5 values after 'ab' (the header's dimension), found 6");
    write_named("minus1.vec", "2 5\nab 1.1 2.2 3.3 4.4\ncd 1.1 2.2 3.3 4.4 5.5\n", 44);
    expect("minus1.vec", EV_ERR_FORMAT, "minus1.vec:2: expected 5 values after 'ab' (the header's dimension), found 4");
    write_named("extra.vec", "2 5 0\nab 1.1 2.2 3.3 4.4 5.5\ncd 1.1 2.2 3.3 4.4 5.5\n", 50);
    expect("extra.vec", EV_ERR_FORMAT, "extra.vec:1: expected a word2vec header \"count dim\", found 3 numbers '2 5 0'");
    write_named("nan1.vec", "2 3\nab nan 1 2\ncd 1 2 3\n", 22);
    expect("nan1.vec", EV_ERR_FORMAT, "nan1.vec:2: value 1 of 'ab'");
    write_named("minus.vec", "1 2\nab \xe2\x88\x92" "1 2\n", 15); /* U+2212 MINUS SIGN */
    expect("minus.vec", EV_ERR_FORMAT, "minus.vec:2: value 1 of 'ab'");
    /* blank lines before a first row that starts with a blank: the same line number streamed (a fuzzer's find) */
    write_named("blank-first.txt", "\n  \bthe 1 2 3\n", 14);
    expect("blank-first.txt", EV_ERR_FORMAT, "blank-first.txt:2: expected a word at the start of the line");
    bytes bf = zdeflate("\n  \bthe 1 2 3\n", 14, 31);
    write_named("blank-first.gz", bf.p, bf.n);
    expect("blank-first.gz", EV_ERR_FORMAT, "blank-first.gz:2: expected a word at the start of the line");
    free(bf.p);
    /* binary with --limit below the header's count, in a file shorter than the header says */
    bytes b = make_bin(3, 2, 1);
    b.p[0] = '9';
    write_named("short.bin", b.p, b.n);
    ev_error err = {0};
    store *s = load("short.bin", 0, 2, &err);
    CHECK(s && store_size(s) == 2, "short.bin --limit 2: %s", err.msg);
    store_close(s);
    expect("short.bin", EV_ERR_FORMAT, "header claims 9 words of 2 dimensions");
    s = load("short.bin", 0, 4, &err);
    CHECK(!s && err.msg && strstr(err.msg, "--limit asks for more"), "short.bin --limit 4: %s", err.msg);
    store_close(s);
    ev_error_clear(&err);
    free(b.p);
}

/* ---- the two inflaters: zlib and ISA-L -------------------------------------------------------------------- */

/* A gzip member of the bytes, its header with the fields flags asks for (2 FHCRC, 4 FEXTRA, 8 FNAME, 16 FCOMMENT). */
static void put_member(bytes *out, const void *p, size_t n, unsigned flags)
{
    size_t start = out->n;
    unsigned char h[10] = {0x1f, 0x8b, 8, (unsigned char)flags, 0x78, 0x56, 0x34, 0x12, 0, 3};
    put(out, h, sizeof h);
    if (flags & 4) {
        put16(out, 7);
        put(out, "AB\\3\\0xyz", 7); /* a subfield: id "AB", 3 bytes */
    }
    if (flags & 8)
        put(out, "vectors.txt", 12);
    if (flags & 16)
        put(out, "made by test_input", 19);
    if (flags & 2)
        put16(out, (unsigned)crc32(0, out->p + start, (uInt)(out->n - start)) & 0xffff);
    bytes d = zdeflate(p, n, -15);
    put(out, d.p, d.n);
    put32(out, (uint32_t)crc32(0, p, (uInt)n));
    put32(out, (uint32_t)n);
    free(d.p);
}

/* Every byte of name through input_open with blocks of block bytes and the inflater inf; 0, or -1 with err set. */
static int read_all(const char *name, size_t block, const char *inf, bytes *out, ev_error *err)
{
    setenv("EMBVSATTN_INFLATE", inf, 1);
    ev_error_clear(err);
    out->n = 0;
    input *in = NULL;
    int r = -1;
    if (input_open(strcmp(name, "-") == 0 ? name : tpath(name), block, &in, err) == EV_OK) {
        const char *p;
        size_t n;
        int fd;
        if (input_mapped(in, &p, &n, &fd)) { /* not compressed after all */
            put(out, p, n);
            r = 0;
        } else
            while ((r = input_next(in, &p, &n, err)) == 1)
                put(out, p, n);
    }
    input_close(in);
    unsetenv("EMBVSATTN_INFLATE");
    return r;
}

/* The message without its "(N bytes decompressed)": how far each decoder gets into a damaged or cut deflate stream
 * before it stops is its own (one may hold back a byte the other writes). */
static size_t msg_head(const char *m)
{
    const char *q = m ? strstr(m, " (after ") : NULL;
    q = q ? q : m ? strstr(m, " (") : NULL;
    return q ? (size_t)(q - m) : m ? strlen(m) : 0;
}

/* name read by zlib and by ISA-L, with each block size: the same bytes as want (want NULL: an error, the same from
 * both; exact: the same message word for word, else up to the decompressed count, at most slack bytes apart). */
static void same_both(const char *name, const bytes *want, const char *frag, int exact, long slack)
{
    static const size_t blocks[] = {13, 4093, 0};
    for (size_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++) {
        if (want && want->n > ((size_t)1 << 20) && blocks[b] == 13)
            continue; /* a handoff per 13 bytes: slow on megabytes */
        bytes z = {0}, i = {0};
        ev_error ez = {0}, ei = {0};
        int rz = read_all(name, blocks[b], "zlib", &z, &ez), ri = read_all(name, blocks[b], input_have_isal() ? "isal" : "zlib", &i, &ei);
        if (want) {
            CHECK(rz == 0 && z.n == want->n && memcmp(z.p, want->p, z.n) == 0, "%s, zlib, blocks of %zu: %zu bytes, "
                  "expected %zu (%s)", name, blocks[b], z.n, want->n, ez.msg ? ez.msg : "different bytes");
            CHECK(ri == 0 && i.n == want->n && memcmp(i.p, want->p, i.n) == 0, "%s, isal, blocks of %zu: %zu bytes, "
                  "expected %zu (%s)", name, blocks[b], i.n, want->n, ei.msg ? ei.msg : "different bytes");
        } else {
            CHECK(rz < 0 && ri < 0 && ez.code == EV_ERR_FORMAT && ei.code == EV_ERR_FORMAT, "%s, blocks of %zu: "
                  "statuses %d and %d (%s | %s)", name, blocks[b], ez.code, ei.code, ez.msg, ei.msg);
            CHECK(ez.msg && strstr(ez.msg, frag) && ei.msg && strstr(ei.msg, frag), "%s: '%s' | '%s' lack '%s'", name,
                  ez.msg, ei.msg, frag);
            if (exact)
                CHECK(ez.msg && ei.msg && strcmp(ez.msg, ei.msg) == 0, "%s, blocks of %zu: zlib '%s', isal '%s'", name,
                      blocks[b], ez.msg, ei.msg);
            else {
                size_t hz = msg_head(ez.msg), hi = msg_head(ei.msg);
                const char *bz = ez.msg ? strstr(ez.msg, ": byte ") : NULL, *bi = ei.msg ? strstr(ei.msg, ": byte ") : NULL;
                long oz = bz ? atol(bz + 7) : -1, oi = bi ? atol(bi + 7) : -1;
                const char *tz = bz ? strchr(bz + 7, ':') : NULL, *ti = bi ? strchr(bi + 7, ':') : NULL;
                CHECK(oz >= 0 && oi >= 0 && labs(oz - oi) <= slack && tz && ti && hz - (size_t)(tz - ez.msg) ==
                      hi - (size_t)(ti - ei.msg) && memcmp(tz, ti, hz - (size_t)(tz - ez.msg)) == 0,
                      "%s, blocks of %zu: zlib '%s', isal '%s' (offsets %ld bytes apart at most)", name, blocks[b],
                      ez.msg, ei.msg, slack);
            }
        }
        ev_error_clear(&ez);
        ev_error_clear(&ei);
        free(z.p);
        free(i.p);
    }
}

/* Bytes with long-distance repeats (matches across the 32 KiB window's reach) and random stretches (stored blocks). */
static bytes mixed_bytes(size_t n, uint32_t seed)
{
    bytes b = {0};
    uint32_t x = seed;
    while (b.n < n) {
        x = x * 1664525u + 1013904223u;
        size_t k = 1 + (x >> 8) % 3000;
        if (k > n - b.n)
            k = n - b.n;
        if ((x >> 28) < 5 && b.n > k) { /* a copy of earlier bytes */
            size_t from = (x >> 3) % (b.n - k + 1);
            for (size_t i = 0; i < k; i++) {
                unsigned char c = b.p[from + i]; /* (put may move b.p) */
                put(&b, &c, 1);
            }
        } else if ((x >> 28) < 9) { /* random bytes */
            for (size_t i = 0; i < k; i++) {
                x = x * 1664525u + 1013904223u;
                unsigned char c = (unsigned char)(x >> 24);
                put(&b, &c, 1);
            }
        } else { /* text */
            for (size_t i = 0; i < k; i++) {
                x = x * 1664525u + 1013904223u;
                put(&b, &"the 0.123 -1.5 king\n"[(x >> 24) % 20], 1);
            }
        }
    }
    return b;
}

static void test_inflaters(void)
{
    if (!input_have_isal())
        fprintf(stderr, "test_input: built without ISA-L: the inflater checks compare zlib with itself\n");
    bytes t = make_text(3000, 6, 0), m = {0}, ref = {0};
    /* members with every header field, an empty member between them, zero padding after the last (as gzip allows) */
    size_t cut1 = t.n / 3, cut2 = t.n / 2;
    put_member(&m, t.p, cut1, 2 | 4 | 8 | 16);
    put_member(&m, "", 0, 0);
    put_member(&m, t.p + cut1, cut2 - cut1, 8);
    put_member(&m, t.p + cut2, t.n - cut2, 2 | 16);
    write_named("members.gz", m.p, m.n);
    same_both("members.gz", &t, NULL, 1, 0);
    bytes pad = {0};
    put(&pad, m.p, m.n);
    put(&pad, "\0\0\0\0", 4);
    write_named("padded.gz", pad.p, pad.n);
    same_both("padded.gz", &t, NULL, 1, 0);
    free(pad.p);
    /* a large member (megabytes, past the 1 MiB compressed buffer and across the blocks) and two written by gzip -9
     * and by Python's gzip module (FNAME and the modification time in the header) */
    bytes big = mixed_bytes((size_t)5 << 20, 7), bm = {0};
    put_member(&bm, big.p, big.n, 8);
    put_member(&bm, t.p, t.n, 0);
    put(&ref, big.p, big.n);
    put(&ref, t.p, t.n);
    write_named("big.gz", bm.p, bm.n);
    same_both("big.gz", &ref, NULL, 1, 0);
    write_named("big.bytes", big.p, big.n);
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "gzip -9 -c '%s' >'%s'", tpath("big.bytes"), tpath("gzip9.gz"));
    CHECK(system(cmd) == 0, "%s", cmd);
    same_both("gzip9.gz", &big, NULL, 1, 0);
    snprintf(cmd, sizeof cmd, "python3 -c 'import gzip, sys; gzip.open(sys.argv[2], \"wb\").write(open(sys.argv[1], "
             "\"rb\").read())' '%s' '%s'", tpath("big.bytes"), tpath("python.gz"));
    CHECK(system(cmd) == 0, "%s", cmd);
    same_both("python.gz", &big, NULL, 1, 0);
    /* damaged: each the same error from both, word for word where the gzip format says what is wrong */
    struct {
        const char *name, *frag;
        long at;            /* where to change or cut (negative: from the end; -100 - k: k bytes into the second member) */
        int op;             /* 0 cut there, 1 flip bits there, 2 append "junk" */
        int exact;
    } bad[] = {
        {"cut-header.gz", "truncated gzip data", 15, 0, 1},      /* in the first member's FEXTRA */
        {"cut-data.gz", "truncated gzip data", 200, 0, 0},       /* in its deflate data */
        {"cut-trailer.gz", "truncated gzip data", -3, 0, 1},     /* in the last member's ISIZE */
        {"cut-second.gz", "truncated gzip data", -1, -1, 1},     /* after the second member's first byte (below) */
        {"crc.gz", "incorrect data check", -8, 1, 1},
        {"isize.gz", "incorrect length check", -2, 1, 1},
        {"hcrc.gz", "header crc mismatch", 5, 1, 1},             /* MTIME: covered by the header CRC */
        {"method.gz", "unknown compression method", -102, 1, 1},
        {"flags.gz", "unknown header flags set", -103, 3, 1},
        {"data.gz", "corrupt gzip data", 400, 1, 0},
        {"junk.gz", "unexpected data after the end of the gzip stream", 0, 2, 1},
    };
    size_t first = 0; /* the first member's size: where the second one starts */
    {
        bytes one = {0};
        put_member(&one, t.p, cut1, 2 | 4 | 8 | 16);
        first = one.n;
        free(one.p);
    }
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        bytes d = {0};
        put(&d, m.p, m.n);
        size_t at = bad[k].at <= -100 ? first + (size_t)(-100 - bad[k].at)
                    : bad[k].at < 0 ? d.n - (size_t)-bad[k].at : (size_t)bad[k].at;
        if (bad[k].op == -1)
            d.n = first + 1;
        else if (bad[k].op == 0)
            d.n = at;
        else if (bad[k].op == 1)
            d.p[at] ^= 0x21;
        else if (bad[k].op == 2)
            put(&d, "junk", 4);
        else
            d.p[at] |= 0x80; /* a reserved flag */
        write_named(bad[k].name, d.p, d.n);
        same_both(bad[k].name, NULL, bad[k].frag, bad[k].exact, 16);
        free(d.p);
    }
    /* a second member whose magic is wrong: zlib says "incorrect header check" two bytes into it */
    bytes w = {0};
    put(&w, m.p, first);
    put(&w, "\x1f\x8c", 2);
    put(&w, m.p + first + 2, m.n - first - 2);
    write_named("magic2.gz", w.p, w.n);
    same_both("magic2.gz", NULL, "incorrect header check", 1, 0);
    free(w.p);
    /* corrupt deflate data in many places: both fail, near the same byte */
    for (size_t at = 60; at < m.n - 8; at += m.n / 23) {
        bytes d = {0};
        put(&d, m.p, m.n);
        d.p[at] ^= 0x5a;
        write_named("flip.gz", d.p, d.n);
        ev_error ez = {0}, ei = {0};
        bytes z = {0}, i = {0};
        int rz = read_all("flip.gz", 0, "zlib", &z, &ez), ri = read_all("flip.gz", 0, input_have_isal() ? "isal" : "zlib", &i, &ei);
        CHECK(rz < 0 && ri < 0 && ez.code == EV_ERR_FORMAT && ei.code == EV_ERR_FORMAT && strstr(ez.msg, "corrupt gzip") &&
              strstr(ei.msg, "corrupt gzip"), "a flipped byte at %zu: zlib %d '%s', isal %d '%s'", at, rz, ez.msg, ri,
              ei.msg);
        ev_error_clear(&ez);
        ev_error_clear(&ei);
        free(z.p);
        free(i.p);
        free(d.p);
    }
    /* through a pipe written a few bytes at a time: headers, deflate data and trailers cut at every place across
     * the reads that refill the compressed buffer */
    for (int k = 0; k < 2; k++) {
        const char *inf = k == 0 ? "zlib" : input_have_isal() ? "isal" : "zlib";
        int fds[2], saved = dup(0);
        CHECK(saved >= 0 && pipe(fds) == 0, "pipe");
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            for (size_t at = 0; at < m.n;) {
                size_t c = 1 + at % 7 < m.n - at ? 1 + at % 7 : m.n - at;
                ssize_t w = write(fds[1], m.p + at, c);
                if (w <= 0)
                    _exit(1);
                at += (size_t)w;
                if (at % 5 == 0)
                    usleep(50);
            }
            _exit(0);
        }
        close(fds[1]);
        dup2(fds[0], 0);
        close(fds[0]);
        bytes got = {0};
        ev_error e = {0};
        int r = read_all("-", 4093, inf, &got, &e);
        dup2(saved, 0);
        close(saved);
        int status = 0;
        waitpid(pid, &status, 0);
        CHECK(r == 0 && got.n == t.n && memcmp(got.p, t.p, t.n) == 0, "members through a pipe, %s: %zu bytes of %zu (%s)",
              inf, got.n, t.n, e.msg ? e.msg : "different bytes");
        ev_error_clear(&e);
        free(got.p);
    }
    /* a zip's deflate member: the same bytes from both (the packings above run under whichever the environment picks) */
    zmember zm = {.name = "big.bin", .data = big.p, .n = big.n, .method = 8};
    bytes zz = zip_build(&zm, 1, 0);
    write_named("big.zip", zz.p, zz.n);
    same_both("big.zip", &big, NULL, 1, 0);
    free(zz.p);
    /* EMBVSATTN_INFLATE with another value is refused */
    setenv("EMBVSATTN_INFLATE", "zlib-ng", 1);
    ev_error err = {0};
    input *in = NULL;
    CHECK(input_open(tpath("members.gz"), 0, &in, &err) == EV_ERR_USAGE && err.msg &&
          strstr(err.msg, "EMBVSATTN_INFLATE: expected zlib or isal, found 'zlib-ng'"), "bad EMBVSATTN_INFLATE: %s",
          err.msg);
    input_close(in);
    unsetenv("EMBVSATTN_INFLATE");
    ev_error_clear(&err);
    free(t.p), free(m.p), free(big.p), free(bm.p), free(ref.p);
}

int main(void)
{
    if (!mkdtemp(tmpdir))
        return 2;
    test_packings();
    test_same_errors();
    test_pieces();
    test_damaged();
    test_zip();
    test_detection();
    test_inflaters();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return check_done("test_input");
}
