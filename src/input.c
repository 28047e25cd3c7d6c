/* input — bytes from a path: plain, gzip, bzip2, xz or a zip member, detected by magic and streamed (input.h).
 *
 * Zip: a reader of its own over zlib's raw inflate (input_zip.c reads the end-of-directory record, zip64 when
 * present, the central directory and the member's local header; here the stored or deflate data is streamed with
 * its CRC-32 checked), ~250 lines. Debian's
 * libzip and minizip would add a dependency for the same two methods, and neither streams a member into our ring
 * with our limits and byte offsets in the errors: libzip's zip_fread hides where a member's data went wrong, and
 * minizip is not even packaged with headers here (libminizip-dev). gzip, bzip2 and xz go through zlib, libbz2 and
 * liblzma; gzip and the zip's deflate members through ISA-L's igzip instead when built with it (input_isal.c: it
 * inflates the GloVe file's gzip ~5× faster than zlib here), zlib staying the fallback (EMBVSATTN_INFLATE=zlib|isal
 * picks one).
 *
 * Threads: input_open starts one reader thread for a stream; it fills the ring's free blocks in order and the
 * caller takes them in order (input_next). Everything the reader owns (the decoder, the compressed buffer, the
 * counts) is touched by it alone; the ring's state and the reader's verdict are shared under one mutex.
 */
#define _GNU_SOURCE /* pread, memrchr */
#include "input.h"
#include "input_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define ZBUF_BYTES ((size_t)1 << 20) /* compressed bytes read at a time */

const char *input_kind_name(input_kind k)
{
    static const char *names[] = {"none", "gzip", "bzip2", "xz", "zip"};
    return k <= INPUT_ZIP ? names[k] : "?";
}

input_kind input_compression(const input *in) { return in->kind; }
const char *input_name(const input *in) { return in->name; }
const char *input_member(const input *in) { return in->kind == INPUT_ZIP ? in->member : NULL; }

/* ---- magic ----------------------------------------------------------------------------------------------- */

static input_kind kind_of(const unsigned char *p, size_t n)
{
    if (n >= 3 && p[0] == 0x1f && p[1] == 0x8b && p[2] == 8)
        return INPUT_GZIP;
    /* "BZh" and a level, then a block's magic (the digits of pi) or the end-of-stream magic (sqrt(pi)): a text
     * file can begin with "BZh9" */
    static const unsigned char pi[6] = {0x31, 0x41, 0x59, 0x26, 0x53, 0x59}, sq[6] = {0x17, 0x72, 0x45, 0x38, 0x50, 0x90};
    if (n >= 10 && memcmp(p, "BZh", 3) == 0 && p[3] >= '1' && p[3] <= '9' &&
        (memcmp(p + 4, pi, 6) == 0 || memcmp(p + 4, sq, 6) == 0))
        return INPUT_BZIP2;
    if (n >= 6 && memcmp(p, "\xfd" "7zXZ\0", 6) == 0)
        return INPUT_XZ;
    if (n >= 4 && (memcmp(p, "PK\x03\x04", 4) == 0 || memcmp(p, "PK\x05\x06", 4) == 0))
        return INPUT_ZIP;
    return INPUT_PLAIN;
}

input_kind input_sniff(const char *p, size_t n) { return kind_of((const unsigned char *)p, n); }

/* ---- opening --------------------------------------------------------------------------------------------- */

static input *input_new(const char *name)
{
    input *in = calloc(1, sizeof *in);
    if (!in)
        return NULL;
    in->fd = -1;
    if (!(in->name = strdup(name))) {
        free(in);
        return NULL;
    }
    pthread_mutex_init(&in->mu, NULL);
    pthread_cond_init(&in->cv, NULL);
    return in;
}

input *input_from_memory(const char *name, const char *p, size_t n)
{
    input *in = input_new(name);
    if (!in)
        return NULL;
    in->stream = in->memory = 1;
    in->ring[0].data = (char *)p;
    in->ring[0].n = n;
    in->filled = n > 0;
    in->done = 1;
    return in;
}

/* ---- the inflater --------------------------------------------------------------------------------------- */

int input_have_isal(void)
{
#ifdef HAVE_ISAL
    return 1;
#else
    return 0;
#endif
}

const char *input_inflater_name(input_inflater f) { return f == INPUT_INFLATE_ISAL ? "isal" : "zlib"; }

input_inflater input_inflater_chosen(void)
{
    const char *v = getenv("EMBVSATTN_INFLATE");
    if (v && strcmp(v, "zlib") == 0)
        return INPUT_INFLATE_ZLIB;
    return input_have_isal() ? INPUT_INFLATE_ISAL : INPUT_INFLATE_ZLIB;
}

ev_status input_inflater_check(ev_error *err)
{
    const char *v = getenv("EMBVSATTN_INFLATE");
    if (!v || !*v || strcmp(v, "zlib") == 0 || (strcmp(v, "isal") == 0 && input_have_isal()))
        return EV_OK;
    if (strcmp(v, "isal") == 0)
        return ev_fail(err, EV_ERR_USAGE, "EMBVSATTN_INFLATE=isal, but this embvsattn was built without ISA-L: install "
                       "libisal-dev and rebuild (make clean all), or use EMBVSATTN_INFLATE=zlib");
    char *q = ev_quote(v, strlen(v), 40);
    ev_status st = ev_fail(err, EV_ERR_USAGE, "EMBVSATTN_INFLATE: expected zlib or isal, found '%s'", q ? q : "?");
    free(q);
    return st;
}

input *input_from_mapping(const char *name, const char *p, size_t n, size_t block)
{
    input *in = input_from_memory(name, p, n);
    if (in)
        in->mem_block = block ? block : 1;
    return in;
}

/* input_from_mapping's input_next: releases the pages of the block handed out before, hands out the next. */
static int mapping_next(input *in, const char **p, size_t *n)
{
    const char *base = in->ring[0].data;
    long page = sysconf(_SC_PAGESIZE);
    if (in->holding && page > 0) {
        uintptr_t b = (uintptr_t)(base + in->mem_prev), e = (uintptr_t)(base + in->mem_pos), pg = (uintptr_t)page;
        b = (b + pg - 1) / pg * pg;
        e = e / pg * pg;
        if (e > b)
            (void)madvise((void *)b, (size_t)(e - b), MADV_DONTNEED);
    }
    in->holding = 0;
    size_t total = in->ring[0].n;
    if (in->mem_pos >= total)
        return 0;
    *p = base + in->mem_pos;
    *n = total - in->mem_pos < in->mem_block ? total - in->mem_pos : in->mem_block;
    in->mem_prev = in->mem_pos;
    in->mem_pos += *n;
    in->holding = 1;
    return 1;
}

/* ---- the decoders (reader thread) ------------------------------------------------------------------------ */

uint64_t input_src_pos(const input *in)
{
    return (in->kind == INPUT_ZIP ? in->src_off : in->src_read) - (in->zn - in->zpos) - in->held -
           (in->pend_n - in->pend_i);
}

/* Reads up to cap bytes of the file's data (a zip member's: from its range, with pread) into buf: returns the count,
 * 0 at the end, or -1 with err set. */
static ssize_t src_read_into(input *in, void *buf, size_t cap, ev_error *err)
{
    ssize_t r;
    if (in->kind == INPUT_ZIP) {
        size_t want = in->src_left < cap ? (size_t)in->src_left : cap;
        r = want ? input_pread_full(in->fd, buf, want, in->src_off) : 0;
        if (r >= 0 && (size_t)r < want) {
            ev_fail(err, EV_ERR_IO, "%s: byte %llu: the file ended (it shrank while being read)", in->name,
                    (unsigned long long)(in->src_off + (uint64_t)r));
            return -1;
        }
        if (r > 0) {
            in->src_off += (uint64_t)r;
            in->src_left -= (uint64_t)r;
        }
    } else {
        do
            r = read(in->fd, buf, cap);
        while (r < 0 && errno == EINTR);
    }
    if (r < 0) {
        ev_fail(err, EV_ERR_IO, "%s: read error at byte %llu: %s", in->name, (unsigned long long)in->src_read,
                strerror(errno));
        return -1;
    }
    __atomic_store_n(&in->src_read, in->src_read + (uint64_t)r, __ATOMIC_RELAXED);
    return r;
}

ev_status input_src_fill(input *in, ev_error *err)
{
    if (in->zpos < in->zn || in->src_eof)
        return EV_OK;
    in->zpos = in->zn = 0;
    ssize_t r = src_read_into(in, in->zbuf, ZBUF_BYTES, err);
    if (r < 0)
        return err->code;
    in->zn = (size_t)r;
    in->src_eof = r == 0;
    return EV_OK;
}

ev_status input_truncated(input *in, size_t produced, ev_error *err)
{
    return ev_fail(err, EV_ERR_FORMAT, "%s: byte %llu: truncated %s data: the compressed stream ends before its end "
                   "(%llu bytes decompressed)", in->name, (unsigned long long)input_src_pos(in),
                   input_kind_name(in->kind), (unsigned long long)(in->out_total + produced));
}

ev_status input_corrupt(input *in, size_t produced, const char *what, ev_error *err)
{
    return ev_fail(err, EV_ERR_FORMAT, "%s: byte %llu: corrupt %s data: %s (after %llu bytes decompressed)", in->name,
                   (unsigned long long)input_src_pos(in), input_kind_name(in->kind), what,
                   (unsigned long long)(in->out_total + produced));
}

int input_next_stream(input *in, unsigned char m0, ev_error *err)
{
    for (;;) {
        if (input_src_fill(in, err) != EV_OK)
            return -1;
        if (in->zpos == in->zn)
            return 0;
        if (in->zbuf[in->zpos] == m0)
            return 1;
        if (in->zbuf[in->zpos] != 0) {
            ev_fail(err, EV_ERR_FORMAT, "%s: byte %llu: unexpected data after the end of the %s stream", in->name,
                    (unsigned long long)input_src_pos(in), input_kind_name(in->kind));
            return -1;
        }
        in->zpos++; /* trailing zeros, as gzip accepts them */
    }
}

/* gzip, or a zip member's deflate data */
static int inflating(const input *in) { return in->kind == INPUT_GZIP || (in->kind == INPUT_ZIP && in->zip_method == 8); }

/* ... through ISA-L */
static int isal(const input *in) { return inflating(in) && in->inflater == INPUT_INFLATE_ISAL; }

static ev_status dec_init(input *in, ev_error *err)
{
    int ok = 1;
    if (isal(in)) {
        ev_status st = input_isal_init(in, err);
        in->dec_ready = st == EV_OK;
        return st;
    }
    if (inflating(in))
        ok = inflateInit2(&in->z, in->kind == INPUT_GZIP ? 15 + 16 : -15) == Z_OK;
    else if (in->kind == INPUT_BZIP2)
        ok = BZ2_bzDecompressInit(&in->bz, 0, 0) == BZ_OK;
    else if (in->kind == INPUT_XZ)
        ok = lzma_stream_decoder(&in->xz, INPUT_XZ_MEMLIMIT, LZMA_CONCATENATED) == LZMA_OK;
    if (!ok)
        return ev_fail(err, EV_ERR_NOMEM, "%s: out of memory for the %s decoder", in->name, input_kind_name(in->kind));
    in->dec_ready = 1;
    return EV_OK;
}

static void dec_end(input *in)
{
    if (!in->dec_ready)
        return;
    if (isal(in))
        input_isal_end(in);
    else if (inflating(in))
        inflateEnd(&in->z);
    else if (in->kind == INPUT_BZIP2)
        BZ2_bzDecompressEnd(&in->bz);
    else if (in->kind == INPUT_XZ)
        lzma_end(&in->xz);
    in->dec_ready = 0;
}

/* zlib: gzip (streams one after another) or a zip member's raw deflate. */
static ev_status fill_zlib(input *in, char *out, size_t cap, size_t *got, int *end, ev_error *err)
{
    z_stream *z = &in->z;
    z->next_out = (unsigned char *)out;
    z->avail_out = (uInt)cap;
    while (z->avail_out > 0) {
        if (input_src_fill(in, err) != EV_OK)
            return err->code;
        if (in->between) {
            int r = input_next_stream(in, 0x1f, err);
            if (r < 0)
                return err->code;
            if (r == 0) {
                *end = 1;
                break;
            }
            inflateReset(z);
            in->between = 0;
        }
        if (in->zpos == in->zn)
            return input_truncated(in, cap - z->avail_out, err);
        z->next_in = in->zbuf + in->zpos;
        z->avail_in = (uInt)(in->zn - in->zpos);
        int r = inflate(z, Z_NO_FLUSH);
        in->zpos = in->zn - z->avail_in;
        if (r == Z_STREAM_END) {
            if (in->kind == INPUT_GZIP) {
                in->between = 1;
                continue;
            }
            *end = 1;
            break;
        }
        if (r == Z_MEM_ERROR)
            return ev_fail(err, EV_ERR_NOMEM, "%s: out of memory decompressing", in->name);
        if (r != Z_OK && r != Z_BUF_ERROR)
            return input_corrupt(in, cap - z->avail_out, z->msg ? z->msg : "invalid data", err);
    }
    *got = cap - z->avail_out;
    return EV_OK;
}

static ev_status fill_bzip2(input *in, char *out, size_t cap, size_t *got, int *end, ev_error *err)
{
    bz_stream *b = &in->bz;
    b->next_out = out;
    b->avail_out = (unsigned)cap;
    while (b->avail_out > 0) {
        if (input_src_fill(in, err) != EV_OK)
            return err->code;
        if (in->between) {
            int r = input_next_stream(in, 'B', err);
            if (r < 0)
                return err->code;
            if (r == 0) {
                *end = 1;
                break;
            }
            BZ2_bzDecompressEnd(b);
            if (BZ2_bzDecompressInit(b, 0, 0) != BZ_OK) {
                in->dec_ready = 0;
                return ev_fail(err, EV_ERR_NOMEM, "%s: out of memory for the bzip2 decoder", in->name);
            }
            b->next_out = out + (cap - b->avail_out); /* Init cleared the stream's pointers */
            in->between = 0;
        }
        if (in->zpos == in->zn)
            return input_truncated(in, cap - b->avail_out, err);
        b->next_in = (char *)in->zbuf + in->zpos;
        b->avail_in = (unsigned)(in->zn - in->zpos);
        int r = BZ2_bzDecompress(b);
        in->zpos = in->zn - b->avail_in;
        if (r == BZ_STREAM_END) {
            in->between = 1;
            continue;
        }
        if (r == BZ_MEM_ERROR)
            return ev_fail(err, EV_ERR_NOMEM, "%s: out of memory decompressing", in->name);
        if (r != BZ_OK)
            return input_corrupt(in, cap - b->avail_out, r == BZ_DATA_ERROR_MAGIC ? "bad stream header" : "a damaged block",
                                 err);
    }
    *got = cap - b->avail_out;
    return EV_OK;
}

static ev_status fill_xz(input *in, char *out, size_t cap, size_t *got, int *end, ev_error *err)
{
    lzma_stream *x = &in->xz;
    x->next_out = (uint8_t *)out;
    x->avail_out = cap;
    while (x->avail_out > 0) {
        if (input_src_fill(in, err) != EV_OK)
            return err->code;
        x->next_in = in->zbuf + in->zpos;
        x->avail_in = in->zn - in->zpos;
        lzma_ret r = lzma_code(x, in->zpos == in->zn && in->src_eof ? LZMA_FINISH : LZMA_RUN);
        in->zpos = in->zn - x->avail_in;
        if (r == LZMA_STREAM_END) {
            *end = 1;
            break;
        }
        if (r == LZMA_OK)
            continue;
        if (r == LZMA_BUF_ERROR)
            return input_truncated(in, cap - x->avail_out, err);
        if (r == LZMA_MEM_ERROR)
            return ev_fail(err, EV_ERR_NOMEM, "%s: out of memory decompressing", in->name);
        if (r == LZMA_MEMLIMIT_ERROR)
            return ev_fail(err, EV_ERR_NOMEM, "%s: byte %llu: the xz stream needs %llu MiB of memory to decompress, "
                           "over the %llu MiB limit", in->name, (unsigned long long)input_src_pos(in),
                           (unsigned long long)(lzma_memusage(x) >> 20), (unsigned long long)(INPUT_XZ_MEMLIMIT >> 20));
        return input_corrupt(in, cap - x->avail_out, r == LZMA_FORMAT_ERROR ? "not an xz stream"
                             : r == LZMA_OPTIONS_ERROR ? "unsupported options" : "damaged, or its check does not match",
                             err);
    }
    *got = cap - x->avail_out;
    return EV_OK;
}

/* Plain bytes (a pipe) or a stored zip member: read straight into the block. */
static ev_status fill_plain(input *in, char *out, size_t cap, size_t *got, int *end, ev_error *err)
{
    size_t n = 0;
    while (n < cap) {
        if (in->zpos < in->zn) { /* what detection read first */
            size_t k = in->zn - in->zpos < cap - n ? in->zn - in->zpos : cap - n;
            memcpy(out + n, in->zbuf + in->zpos, k);
            in->zpos += k;
            n += k;
            continue;
        }
        ssize_t r = src_read_into(in, out + n, cap - n, err);
        if (r < 0)
            return err->code;
        if (r == 0) {
            *end = 1;
            break;
        }
        n += (size_t)r;
    }
    *got = n;
    return EV_OK;
}

/* One block's worth of bytes, checked against the limits; *end at the end of the data. */
static ev_status fill_block(input *in, char *out, size_t cap, size_t *got, int *end, ev_error *err)
{
    ev_status st;
    *got = 0;
    if (isal(in))
        st = input_isal_fill(in, out, cap, got, end, err);
    else if (inflating(in))
        st = fill_zlib(in, out, cap, got, end, err);
    else if (in->kind == INPUT_BZIP2)
        st = fill_bzip2(in, out, cap, got, end, err);
    else if (in->kind == INPUT_XZ)
        st = fill_xz(in, out, cap, got, end, err);
    else
        st = fill_plain(in, out, cap, got, end, err);
    if (st != EV_OK)
        return st;
    in->out_total += *got;
    if (in->kind == INPUT_ZIP) {
        in->crc = (uint32_t)crc32(in->crc, (const unsigned char *)out, (uInt)*got);
        if (in->out_total > in->zip_usize)
            return ev_fail(err, EV_ERR_NOMEM, "%s: member '%s' decompresses to more than the %llu bytes its directory "
                           "entry declares: refused as damaged or a decompression bomb", in->name, in->member,
                           (unsigned long long)in->zip_usize);
        if (*end && in->out_total != in->zip_usize)
            return ev_fail(err, EV_ERR_FORMAT, "%s: member '%s' decompresses to %llu bytes, its directory entry declares "
                           "%llu", in->name, in->member, (unsigned long long)in->out_total,
                           (unsigned long long)in->zip_usize);
        if (*end && in->crc != in->zip_crc)
            return ev_fail(err, EV_ERR_FORMAT, "%s: member '%s' is damaged: its CRC-32 is %08x, the directory says %08x",
                           in->name, in->member, (unsigned)in->crc, (unsigned)in->zip_crc);
    } else if (in->kind != INPUT_PLAIN) {
        uint64_t used = input_src_pos(in);
        if (in->out_total > used * INPUT_MAX_RATIO + INPUT_RATIO_SLACK)
            return ev_fail(err, EV_ERR_NOMEM, "%s: byte %llu: %llu compressed bytes decompress to %llu, more than %d "
                           "times as many: refused as a likely decompression bomb", in->name, (unsigned long long)used,
                           (unsigned long long)used, (unsigned long long)in->out_total, INPUT_MAX_RATIO);
    }
    return EV_OK;
}

static void *reader_main(void *arg)
{
    input *in = arg;
    ev_error err = {0};
    ev_status st = EV_OK;
    for (;;) {
        pthread_mutex_lock(&in->mu);
        while (in->filled == INPUT_RING && !in->cancel) /* filled counts the block the caller holds */
            pthread_cond_wait(&in->cv, &in->mu);
        int cancel = in->cancel;
        size_t idx = (in->head + in->filled) % INPUT_RING;
        pthread_mutex_unlock(&in->mu);
        if (cancel)
            break;
        block *b = &in->ring[idx];
        size_t got = 0;
        int end = 0;
        st = fill_block(in, b->data, in->block_bytes, &got, &end, &err);
        pthread_mutex_lock(&in->mu);
        b->n = got;
        if (got && st == EV_OK)
            in->filled++;
        if (st != EV_OK) {
            in->st = st;
            in->err = err;
        }
        if (st != EV_OK || end)
            in->done = 1;
        pthread_cond_broadcast(&in->cv);
        pthread_mutex_unlock(&in->mu);
        if (st != EV_OK || end)
            break;
    }
    return NULL;
}

/* Splits "ARCHIVE:MEMBER" when path itself does not exist: the first ':' with an existing regular file before it. */
static char *split_member(const char *path, char **member)
{
    struct stat st;
    *member = NULL;
    if (stat(path, &st) == 0)
        return strdup(path);
    for (const char *c = strchr(path, ':'); c; c = strchr(c + 1, ':')) {
        char *pre = strndup(path, (size_t)(c - path));
        if (pre && stat(pre, &st) == 0 && S_ISREG(st.st_mode)) {
            if (!(*member = strdup(c + 1))) {
                free(pre);
                return NULL;
            }
            return pre;
        }
        free(pre);
    }
    return strdup(path);
}

ev_status input_open(const char *path, size_t block_bytes, input **out, ev_error *err)
{
    *out = NULL;
    int std = strcmp(path, "-") == 0; /* standard input (a duplicate of descriptor 0, so closing keeps it) */
    if (std)
        path = "stdin";
    input *in = input_new(path);
    char *file = in ? (std ? strdup(path) : split_member(path, &in->member)) : NULL;
    ev_status st = EV_OK;
    if (!file) {
        input_close(in);
        return ev_fail(err, EV_ERR_NOMEM, "%s: out of memory", path);
    }
    in->fd = std ? fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0) : open(file, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (in->fd < 0) {
        st = ev_fail(err, EV_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        goto fail;
    }
    if (fstat(in->fd, &sb) != 0 || S_ISDIR(sb.st_mode)) {
        st = S_ISDIR(sb.st_mode) ? ev_fail(err, EV_ERR_IO, "%s: is a directory, expected a vector file", path)
                                 : ev_fail(err, EV_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
        goto fail;
    }
    in->block_bytes = block_bytes ? block_bytes : INPUT_BLOCK_BYTES;
    if (!(in->zbuf = malloc(ZBUF_BYTES))) {
        st = ev_fail(err, EV_ERR_NOMEM, "%s: out of memory", path);
        goto fail;
    }
    /* The magic: from the start of a regular file, or the first bytes of a pipe (kept in zbuf for the decoder). */
    unsigned char magic[10];
    size_t mn = 0;
    if (S_ISREG(sb.st_mode)) {
        in->file_size = (uint64_t)sb.st_size;
        ssize_t r = input_pread_full(in->fd, magic, sizeof magic, 0);
        mn = r > 0 ? (size_t)r : 0;
    } else {
        while (in->zn < sizeof magic) {
            ssize_t r = read(in->fd, in->zbuf + in->zn, ZBUF_BYTES - in->zn);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            in->zn += (size_t)r;
        }
        in->src_read = in->zn;
        mn = in->zn < sizeof magic ? in->zn : sizeof magic;
        memcpy(magic, in->zbuf, mn);
    }
    in->kind = kind_of(magic, mn);
    static const struct {
        const char *magic, *name, *tool;
        size_t n;
    } other[] = {{"\x28\xb5\x2f\xfd", "zstd", "zstd -d", 4}, {"\x04\x22\x4d\x18", "lz4", "lz4 -d", 4},
                 {"7z\xbc\xaf\x27\x1c", "7-Zip", "7z x", 6}, {"Rar!\x1a\x07", "RAR", "unrar x", 6}};
    for (size_t i = 0; in->kind == INPUT_PLAIN && i < sizeof other / sizeof other[0]; i++)
        if (mn >= other[i].n && memcmp(magic, other[i].magic, other[i].n) == 0) {
            st = ev_fail(err, EV_ERR_FORMAT, "%s: %s data, which embvsattn does not read: unpack it first (%s), or use "
                         "gzip, bzip2, xz or zip", path, other[i].name, other[i].tool);
            goto fail;
        }
    if (in->member && in->kind != INPUT_ZIP) {
        st = ev_fail(err, EV_ERR_FORMAT, "%s: not a zip archive, so ':%s' cannot name a member of it", file, in->member);
        goto fail;
    }
    if (in->kind == INPUT_ZIP) {
        int named = in->member != NULL;
        if (!S_ISREG(sb.st_mode) || std) {
            st = ev_fail(err, EV_ERR_IO, "%s: a zip archive must be a regular file (its directory is at its end), not "
                         "a pipe: give its path", path);
            goto fail;
        }
        if ((st = input_zip_open(in, file, err)) != EV_OK)
            goto fail;
        if (!named) { /* messages name the member chosen */
            char *nm = ev_strdup_printf("%s:%s", file, in->member);
            if (nm) {
                free(in->name);
                in->name = nm;
            }
        }
    }
    if (in->kind == INPUT_PLAIN && S_ISREG(sb.st_mode)) {
        in->map_n = (size_t)sb.st_size;
        if (in->map_n == 0) {
            st = ev_fail(err, EV_ERR_FORMAT, "%s: empty file, expected word vectors", path);
            goto fail;
        }
        void *m = mmap(NULL, in->map_n, PROT_READ, MAP_PRIVATE, in->fd, 0);
        if (m == MAP_FAILED) {
            st = ev_fail(err, EV_ERR_IO, "%s: cannot map: %s", path, strerror(errno));
            goto fail;
        }
        posix_madvise(m, in->map_n, POSIX_MADV_SEQUENTIAL); /* word2vec binary is read from the mapping */
        in->map = m;
        free(in->zbuf);
        in->zbuf = NULL;
        free(file);
        *out = in;
        return EV_OK;
    }
    in->stream = 1;
    if (inflating(in)) {
        if ((st = input_inflater_check(err)) != EV_OK)
            goto fail;
        in->inflater = input_inflater_chosen();
    }
    if ((st = dec_init(in, err)) != EV_OK)
        goto fail;
    for (int i = 0; i < INPUT_RING; i++)
        if (!(in->ring[i].data = malloc(in->block_bytes))) {
            st = ev_fail(err, EV_ERR_NOMEM, "%s: out of memory for the read buffers", path);
            goto fail;
        }
    if (pthread_create(&in->thread, NULL, reader_main, in) != 0) {
        st = ev_fail(err, EV_ERR_NOMEM, "%s: cannot start the reader thread", path);
        goto fail;
    }
    in->thread_started = 1;
    free(file);
    *out = in;
    return EV_OK;
fail:
    free(file);
    input_close(in);
    return st;
}

int input_mapped(const input *in, const char **p, size_t *n, int *fd)
{
    if (in->stream)
        return 0;
    *p = in->map;
    *n = in->map_n;
    *fd = in->fd;
    return 1;
}

int input_next(input *in, const char **p, size_t *n, ev_error *err)
{
    if (in->mem_block)
        return mapping_next(in, p, n);
    pthread_mutex_lock(&in->mu);
    if (in->holding) {
        in->head = (in->head + 1) % INPUT_RING;
        in->filled--;
        in->holding = 0;
        pthread_cond_broadcast(&in->cv);
    }
    while (in->filled == 0 && !in->done)
        pthread_cond_wait(&in->cv, &in->mu);
    int r = 0;
    if (in->filled) {
        in->holding = 1;
        *p = in->ring[in->head].data;
        *n = in->ring[in->head].n;
        r = 1;
    } else if (in->st != EV_OK) {
        ev_fail(err, in->st, "%s", in->err.msg ? in->err.msg : "read error");
        r = -1;
    }
    pthread_mutex_unlock(&in->mu);
    return r;
}

ev_status input_failed(input *in, ev_error *err)
{
    if (!in->stream || in->memory)
        return EV_OK;
    pthread_mutex_lock(&in->mu);
    ev_status st = in->done ? in->st : EV_OK;
    if (st != EV_OK)
        ev_fail(err, st, "%s", in->err.msg ? in->err.msg : "read error");
    pthread_mutex_unlock(&in->mu);
    return st;
}

uint64_t input_file_size(const input *in) { return in->memory ? in->ring[0].n : in->map ? in->map_n : in->file_size; }

double input_progress(input *in)
{
    if (!in->file_size)
        return 0;
    uint64_t done = __atomic_load_n(&in->src_read, __ATOMIC_RELAXED);
    uint64_t total = in->kind == INPUT_ZIP ? in->zip_csize : in->file_size;
    double f = total ? (double)done / (double)total : 0;
    return f > 1 ? 1 : f;
}

void input_close(input *in)
{
    if (!in)
        return;
    if (in->thread_started) {
        pthread_mutex_lock(&in->mu);
        in->cancel = 1;
        pthread_cond_broadcast(&in->cv);
        pthread_mutex_unlock(&in->mu);
        pthread_join(in->thread, NULL);
    }
    dec_end(in);
    if (!in->memory)
        for (int i = 0; i < INPUT_RING; i++)
            free(in->ring[i].data);
    if (in->map)
        munmap((void *)in->map, in->map_n);
    if (in->fd >= 0)
        close(in->fd);
    ev_error_clear(&in->err);
    pthread_mutex_destroy(&in->mu);
    pthread_cond_destroy(&in->cv);
    free(in->zbuf);
    free(in->member);
    free(in->name);
    free(in);
}
