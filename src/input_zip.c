/* input_zip — a zip archive's directory, read to find the member to stream (input.h): the end-of-directory record,
 * the zip64 one when present, the central directory, the member's local header. A reader of our own over zlib
 * (input.c inflates the member): see input.c for why not libzip or minizip. */
#define _GNU_SOURCE /* memrchr, strndup */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "input_internal.h"

#define ZIP_LISTED 20 /* members named in a message; more are counted */

/* Reads up to n bytes at off (pread, retried); returns the count (short only at the end of the file) or -1. */
ssize_t input_pread_full(int fd, void *buf, size_t n, uint64_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

static uint16_t le16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t le64(const unsigned char *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

typedef struct {
    char *name;
    size_t name_len;
    uint16_t flags, method;
    uint32_t crc;
    uint64_t csize, usize, local;
} zip_entry;

/* A member that may be the vectors: a file, not macOS metadata nor a README, LICENSE (LICENCE), COPYING, NOTICE. */
static int zip_candidate(const zip_entry *e)
{
    const char *n = e->name, *base = memrchr(n, '/', e->name_len);
    base = base ? base + 1 : n;
    size_t bl = e->name_len - (size_t)(base - n);
    static const char *notes[] = {"readme", "license", "licence", "copying", "notice"};
    for (size_t i = 0; i < sizeof notes / sizeof notes[0]; i++)
        if (bl >= strlen(notes[i]) && strncasecmp(base, notes[i], strlen(notes[i])) == 0)
            return 0;
    return e->name_len > 0 && n[e->name_len - 1] != '/' && strncmp(n, "__MACOSX/", 9) != 0 &&
           strncmp(base, "._", 2) != 0;
}

static const char *zip_method_name(unsigned m)
{
    switch (m) {
    case 1: return "shrink";
    case 6: return "implode";
    case 9: return "deflate64";
    case 12: return "bzip2";
    case 14: return "lzma";
    case 93: return "zstd";
    case 95: return "xz";
    case 98: return "ppmd";
    default: return "unknown";
    }
}

/* "a (12 bytes), b (3 bytes), …" of the candidates (all entries when none is one). */
static char *zip_list(const zip_entry *e, size_t n)
{
    size_t cand = 0, shown = 0, cap = 256, len = 0;
    for (size_t i = 0; i < n; i++)
        cand += zip_candidate(&e[i]);
    char *s = malloc(cap);
    if (!s)
        return NULL;
    s[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (cand && !zip_candidate(&e[i]))
            continue;
        if (shown == ZIP_LISTED) {
            char *more = ev_strdup_printf(", and %zu more", (cand ? cand : n) - shown);
            size_t ml = more ? strlen(more) : 0;
            if (more && len + ml + 1 <= cap) {
                memcpy(s + len, more, ml + 1);
            } else if (more) {
                char *ns = realloc(s, len + ml + 1);
                if (ns) {
                    s = ns;
                    memcpy(s + len, more, ml + 1);
                }
            }
            free(more);
            break;
        }
        char *q = ev_quote(e[i].name, e[i].name_len, 200);
        char *item = q ? ev_strdup_printf("%s%s (%llu bytes)", shown ? ", " : "", q, (unsigned long long)e[i].usize) : NULL;
        free(q);
        if (!item)
            break;
        size_t il = strlen(item);
        if (len + il + 1 > cap) {
            while (len + il + 1 > cap)
                cap *= 2;
            char *ns = realloc(s, cap);
            if (!ns) {
                free(item);
                break;
            }
            s = ns;
        }
        memcpy(s + len, item, il + 1);
        len += il;
        free(item);
        shown++;
    }
    return s;
}

ev_status input_zip_open(input *in, const char *zpath, ev_error *err)
{
    uint64_t size = in->file_size;
    unsigned char *tail = NULL, *cd = NULL;
    zip_entry *ents = NULL;
    size_t n_ents = 0;
    ev_status st = EV_OK;
    if (size < 22) {
        st = ev_fail(err, EV_ERR_FORMAT, "%s: not a complete zip archive: %llu bytes, no room for its directory",
                     zpath, (unsigned long long)size);
        goto out;
    }
    /* The end-of-central-directory record: 22 bytes and a comment of up to 65535, at the very end. */
    size_t tn = size < 22 + 65535 + 20 ? (size_t)size : 22 + 65535 + 20;
    uint64_t tail_off = size - tn;
    tail = malloc(tn);
    if (!tail) {
        st = ev_fail(err, EV_ERR_NOMEM, "%s: out of memory", zpath);
        goto out;
    }
    if (input_pread_full(in->fd, tail, tn, tail_off) != (ssize_t)tn) {
        st = ev_fail(err, EV_ERR_IO, "%s: read error: %s", zpath, strerror(errno ? errno : EIO));
        goto out;
    }
    size_t e = tn - 22 + 1;
    while (e-- > 0)
        if (le32(tail + e) == 0x06054b50 && e + 22 + le16(tail + e + 20) <= tn)
            break;
    if (e == (size_t)-1) {
        st = ev_fail(err, EV_ERR_FORMAT, "%s: not a complete zip archive: no end-of-directory record in its last %zu "
                     "bytes (truncated?)", zpath, tn);
        goto out;
    }
    uint64_t eocd = tail_off + e;
    uint64_t entries = le16(tail + e + 10), cd_size = le32(tail + e + 12), cd_off = le32(tail + e + 16);
    if (le16(tail + e + 4) != 0 || le16(tail + e + 6) != 0) {
        st = ev_fail(err, EV_ERR_FORMAT, "%s: byte %llu: a multi-part (spanned) zip archive is not supported", zpath,
                     (unsigned long long)eocd);
        goto out;
    }
    if (e >= 20 && le32(tail + e - 20) == 0x07064b50) { /* zip64 locator, then the zip64 record */
        uint64_t z64 = le64(tail + e - 12);
        unsigned char r[56];
        if (z64 > eocd - 20 || eocd - 20 - z64 < 56 || input_pread_full(in->fd, r, 56, z64) != 56 || le32(r) != 0x06064b50) {
            st = ev_fail(err, EV_ERR_FORMAT, "%s: byte %llu: the zip64 end-of-directory locator points to byte %llu, "
                         "where no zip64 record is", zpath, (unsigned long long)(eocd - 20), (unsigned long long)z64);
            goto out;
        }
        entries = le64(r + 32);
        cd_size = le64(r + 40);
        cd_off = le64(r + 48);
    }
    if (cd_off > eocd || cd_size > eocd - cd_off || entries > cd_size / 46) {
        st = ev_fail(err, EV_ERR_FORMAT, "%s: byte %llu: the directory claims %llu entries in %llu bytes at byte %llu, "
                     "which the file (%llu bytes) cannot hold", zpath, (unsigned long long)eocd,
                     (unsigned long long)entries, (unsigned long long)cd_size, (unsigned long long)cd_off,
                     (unsigned long long)size);
        goto out;
    }
    cd = malloc(cd_size ? cd_size : 1);
    ents = calloc(entries ? entries : 1, sizeof *ents);
    if (!cd || !ents) {
        st = ev_fail(err, EV_ERR_NOMEM, "%s: out of memory for its directory (%llu bytes)", zpath,
                     (unsigned long long)cd_size);
        goto out;
    }
    if (input_pread_full(in->fd, cd, cd_size, cd_off) != (ssize_t)cd_size) {
        st = ev_fail(err, EV_ERR_IO, "%s: read error: %s", zpath, strerror(errno ? errno : EIO));
        goto out;
    }
    size_t pos = 0;
    for (; n_ents < entries; n_ents++) {
        const unsigned char *c = cd + pos;
        if (cd_size - pos < 46 || le32(c) != 0x02014b50) {
            st = ev_fail(err, EV_ERR_FORMAT, "%s: byte %llu: expected directory entry %zu of %llu, found %s", zpath,
                         (unsigned long long)(cd_off + pos), n_ents + 1, (unsigned long long)entries,
                         cd_size - pos < 46 ? "the end of the directory" : "other bytes");
            goto out;
        }
        zip_entry *z = &ents[n_ents];
        size_t nl = le16(c + 28), xl = le16(c + 30), cl = le16(c + 32);
        if (46 + nl + xl + cl > cd_size - pos) {
            st = ev_fail(err, EV_ERR_FORMAT, "%s: byte %llu: directory entry %zu runs past the directory", zpath,
                         (unsigned long long)(cd_off + pos), n_ents + 1);
            goto out;
        }
        z->flags = le16(c + 8);
        z->method = le16(c + 10);
        z->crc = le32(c + 16);
        z->csize = le32(c + 20);
        z->usize = le32(c + 24);
        z->local = le32(c + 42);
        z->name = (char *)c + 46;
        z->name_len = nl;
        for (size_t x = 46 + nl; x + 4 <= 46 + nl + xl;) { /* the zip64 extra field: the sizes that overflowed */
            size_t id = le16(c + x), len = le16(c + x + 2), f = x + 4;
            if (x + 4 + len > 46 + nl + xl)
                break;
            if (id == 1) {
                if (z->usize == 0xffffffffu && f + 8 <= x + 4 + len)
                    z->usize = le64(c + f), f += 8;
                if (z->csize == 0xffffffffu && f + 8 <= x + 4 + len)
                    z->csize = le64(c + f), f += 8;
                if (z->local == 0xffffffffu && f + 8 <= x + 4 + len)
                    z->local = le64(c + f);
            }
            x += 4 + len;
        }
        pos += 46 + nl + xl + cl;
    }
    /* The member. */
    zip_entry *m = NULL;
    size_t cand = 0;
    for (size_t i = 0; i < n_ents; i++) {
        if (in->member ? ents[i].name_len == strlen(in->member) && memcmp(ents[i].name, in->member, ents[i].name_len) == 0
                       : zip_candidate(&ents[i])) {
            if (!m)
                m = &ents[i];
            cand++;
        }
    }
    if (!m || (!in->member && cand > 1)) {
        char *list = zip_list(ents, n_ents);
        if (in->member) {
            char *q = ev_quote(in->member, strlen(in->member), 200);
            st = ev_fail(err, EV_ERR_IO, "%s: no member '%s' in the archive; its members: %s", zpath, q ? q : "?",
                         list && *list ? list : "none");
            free(q);
        } else if (!m) {
            st = ev_fail(err, EV_ERR_FORMAT, "%s: the zip archive holds no file%s%s", zpath, list && *list ? ", only: " : "",
                         list ? list : "");
        } else {
            st = ev_fail(err, EV_ERR_USAGE, "%s: the zip archive holds %zu files; name one as %s:MEMBER: %s", zpath, cand,
                         zpath, list ? list : "?");
        }
        free(list);
        goto out;
    }
    char *mq = ev_quote(m->name, m->name_len, 200);
    if (!in->member)
        in->member = strndup(m->name, m->name_len);
    if (m->flags & 1)
        st = ev_fail(err, EV_ERR_FORMAT, "%s: member '%s' is encrypted: decrypt it first", zpath, mq ? mq : "?");
    else if (m->method != 0 && m->method != 8)
        st = ev_fail(err, EV_ERR_FORMAT, "%s: member '%s' is compressed with method %u (%s); supported: stored (0) and "
                     "deflate (8)", zpath, mq ? mq : "?", m->method, zip_method_name(m->method));
    else if (m->method == 0 && m->csize != m->usize)
        st = ev_fail(err, EV_ERR_FORMAT, "%s: stored member '%s' declares %llu compressed and %llu uncompressed bytes",
                     zpath, mq ? mq : "?", (unsigned long long)m->csize, (unsigned long long)m->usize);
    else if (m->usize > m->csize * INPUT_MAX_RATIO + INPUT_RATIO_SLACK)
        st = ev_fail(err, EV_ERR_NOMEM, "%s: member '%s' declares %llu bytes from %llu compressed, more than %d times "
                     "as many: refused as a likely decompression bomb", zpath, mq ? mq : "?",
                     (unsigned long long)m->usize, (unsigned long long)m->csize, INPUT_MAX_RATIO);
    if (st == EV_OK) {
        unsigned char lh[30];
        if (m->local > size || size - m->local < 30 || input_pread_full(in->fd, lh, 30, m->local) != 30 ||
            le32(lh) != 0x04034b50) {
            st = ev_fail(err, EV_ERR_FORMAT, "%s: byte %llu: expected the local header of member '%s', found %s", zpath,
                         (unsigned long long)m->local, mq ? mq : "?",
                         m->local > size || size - m->local < 30 ? "the end of the file" : "other bytes");
        } else {
            uint64_t data = m->local + 30 + le16(lh + 26) + le16(lh + 28);
            if (data > size || m->csize > size - data)
                st = ev_fail(err, EV_ERR_FORMAT, "%s: byte %llu: member '%s' has %llu bytes of data, the file ends %llu "
                             "bytes after its start (truncated?)", zpath, (unsigned long long)data, mq ? mq : "?",
                             (unsigned long long)m->csize, (unsigned long long)(data > size ? 0 : size - data));
            in->zip_data = data;
            in->zip_method = m->method;
            in->zip_crc = m->crc;
            in->zip_csize = m->csize;
            in->zip_usize = m->usize;
            in->src_off = data;
            in->src_left = m->csize;
        }
    }
    free(mq);
out:
    free(tail);
    free(cd);
    free(ents);
    return st;
}

