/* input_isal — gzip and a zip member's raw deflate inflated by ISA-L's igzip (isal_inflate) for input.c: several
 * times zlib's speed (the GloVe 6B 100d text's gzip: ~0.3 s against zlib's ~1 s here), so that decompression on one
 * core keeps ahead of the parser on the other.
 *
 * A gzip member's header (RFC 1952: FEXTRA, FNAME, FCOMMENT, FHCRC) and trailer (CRC-32 and ISIZE) are read here, a
 * byte at a time from the compressed buffer, and the deflate data between them by isal_inflate with crc_flag
 * ISAL_GZIP_NO_HDR (it computes the CRC-32 of what it writes). Not ISAL_GZIP (ISA-L reading the header itself):
 * ISA-L 2.30 computes a wrong header CRC when the header arrives in pieces (seen with a header fed byte by byte),
 * and reading them here gives the errors of zlib's path in the same words at the same byte offsets ("incorrect
 * header check", "unknown compression method", "unknown header flags set", "header crc mismatch", "incorrect data
 * check", "incorrect length check"; a truncated stream at its end). Only the deflate data's own errors differ: each
 * library finds and names those its own way. Members follow one another as in zlib's path (input_next_stream).
 *
 * Without ISA-L (a build without libisal-dev), the functions below refuse: input.c never calls them then.
 */
#include "input_internal.h"

#ifdef HAVE_ISAL

#include <isa-l/igzip_lib.h>
#include <stdlib.h>

ev_status input_isal_init(input *in, ev_error *err)
{
    if (!(in->igz = malloc(sizeof *in->igz)))
        return ev_fail(err, EV_ERR_NOMEM, "%s: out of memory for the %s decoder", in->name, input_kind_name(in->kind));
    isal_inflate_init(in->igz);
    in->igz->crc_flag = ISAL_DEFLATE; /* a zip member's raw deflate; a gzip member's header comes first */
    in->gz_head = in->kind == INPUT_GZIP;
    return EV_OK;
}

void input_isal_end(input *in)
{
    free(in->igz);
    in->igz = NULL;
}

/* The next compressed byte: 0-255, -1 at the end of the data, -2 with err set. */
static int src_byte(input *in, ev_error *err)
{
    if (in->pend_i < in->pend_n)
        return in->pend[in->pend_i++];
    if (input_src_fill(in, err) != EV_OK)
        return -2;
    if (in->zpos == in->zn)
        return -1;
    return in->zbuf[in->zpos++];
}

/* n ≤ 4 bytes, little-endian, into *v; *hcrc (when not NULL) updated with them. produced: as input_truncated's. */
static ev_status src_le(input *in, int n, uint32_t *v, uLong *hcrc, size_t produced, ev_error *err)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        int c = src_byte(in, err);
        if (c == -2)
            return err->code;
        if (c < 0)
            return input_truncated(in, produced, err);
        unsigned char b = (unsigned char)c;
        if (hcrc)
            *hcrc = crc32(*hcrc, &b, 1);
        *v |= (uint32_t)b << (8 * i);
    }
    return EV_OK;
}

/* A gzip member's header, from its first byte on. */
static ev_status member_header(input *in, size_t produced, ev_error *err)
{
    uLong crc = crc32(0, NULL, 0);
    uint32_t v, flags;
    ev_status st;
    if ((st = src_le(in, 2, &v, &crc, produced, err)) != EV_OK)
        return st;
    if (v != 0x8b1f)
        return input_corrupt(in, produced, "incorrect header check", err);
    if ((st = src_le(in, 2, &v, &crc, produced, err)) != EV_OK)
        return st;
    if ((v & 0xff) != 8)
        return input_corrupt(in, produced, "unknown compression method", err);
    if (v & 0xe000)
        return input_corrupt(in, produced, "unknown header flags set", err);
    flags = v >> 8;
    if ((st = src_le(in, 4, &v, &crc, produced, err)) != EV_OK || /* MTIME */
        (st = src_le(in, 2, &v, &crc, produced, err)) != EV_OK)   /* XFL, OS */
        return st;
    if (flags & 4) { /* FEXTRA: XLEN, then XLEN bytes */
        uint32_t xlen;
        if ((st = src_le(in, 2, &xlen, &crc, produced, err)) != EV_OK)
            return st;
        for (uint32_t i = 0; i < xlen; i++)
            if ((st = src_le(in, 1, &v, &crc, produced, err)) != EV_OK)
                return st;
    }
    for (uint32_t f = 8; f <= 16; f += 8) /* FNAME, FCOMMENT: zero-terminated */
        if (flags & f)
            do
                if ((st = src_le(in, 1, &v, &crc, produced, err)) != EV_OK)
                    return st;
            while (v != 0);
    if (flags & 2) { /* FHCRC: the low 16 bits of the CRC-32 of the header before it */
        uint32_t want = (uint32_t)(crc & 0xffff);
        if ((st = src_le(in, 2, &v, NULL, produced, err)) != EV_OK)
            return st;
        if (v != want)
            return input_corrupt(in, produced, "header crc mismatch", err);
    }
    return EV_OK;
}

/* A gzip member's trailer: the CRC-32 and the length (mod 2^32) of what it decompressed to. */
static ev_status member_trailer(input *in, size_t produced, ev_error *err)
{
    uint32_t v;
    ev_status st;
    if ((st = src_le(in, 4, &v, NULL, produced, err)) != EV_OK)
        return st;
    if (v != in->igz->crc)
        return input_corrupt(in, produced, "incorrect data check", err);
    if ((st = src_le(in, 4, &v, NULL, produced, err)) != EV_OK)
        return st;
    if (v != (uint32_t)in->member_out)
        return input_corrupt(in, produced, "incorrect length check", err);
    return EV_OK;
}

static ev_status isal_failed(input *in, size_t produced, int r, ev_error *err)
{
    return input_corrupt(in, produced, r == ISAL_INVALID_BLOCK ? "invalid block"
                                       : r == ISAL_INVALID_SYMBOL ? "invalid code"
                                       : r == ISAL_INVALID_LOOKBACK ? "invalid distance too far back"
                                                                     : "invalid data", err);
}

ev_status input_isal_fill(input *in, char *out, size_t cap, size_t *got, int *end, ev_error *err)
{
    struct inflate_state *s = in->igz;
    size_t n = 0;
    ev_status st;
    while (n < cap) {
        if (in->between) {
            int r = input_next_stream(in, 0x1f, err);
            if (r < 0)
                return err->code;
            if (r == 0) {
                *end = 1;
                break;
            }
            in->between = 0;
            in->gz_head = 1;
        }
        if (in->gz_head) {
            if ((st = member_header(in, n, err)) != EV_OK)
                return st;
            in->gz_head = 0;
            isal_inflate_reset(s);
            s->crc_flag = ISAL_GZIP_NO_HDR;
            in->member_out = 0;
        }
        if (input_src_fill(in, err) != EV_OK)
            return err->code;
        size_t avail = in->zn - in->zpos, room = cap - n;
        s->next_in = in->zbuf + in->zpos;
        s->avail_in = (uint32_t)avail; /* zbuf is 1 MiB */
        s->next_out = (uint8_t *)out + n;
        s->avail_out = room > UINT32_MAX ? UINT32_MAX : (uint32_t)room;
        int r = isal_inflate(s);
        size_t made = (size_t)((char *)s->next_out - out) - n;
        in->zpos = in->zn - s->avail_in;
        n += made;
        in->member_out += made;
        in->held = s->read_in_length > 0 ? (size_t)s->read_in_length / 8 : 0; /* read, not decoded yet */
        if (r != ISAL_DECOMP_OK)
            return isal_failed(in, n, r, err);
        if (s->block_state == ISAL_BLOCK_FINISH) {
            /* the whole bytes left in the bit buffer follow the deflate data: the trailer's first */
            int bits = s->read_in_length > 0 ? s->read_in_length : 0;
            uint64_t rest = bits % 8 ? s->read_in >> (bits % 8) : s->read_in;
            in->pend_i = 0;
            in->pend_n = (size_t)bits / 8;
            for (size_t i = 0; i < in->pend_n; i++)
                in->pend[i] = (unsigned char)(rest >> (8 * i));
            in->held = 0;
            if (in->kind != INPUT_GZIP) {
                *end = 1;
                break;
            }
            if ((st = member_trailer(in, n, err)) != EV_OK)
                return st;
            in->between = 1;
            continue;
        }
        if (made == 0 && in->zn - in->zpos == avail) { /* no progress */
            if (avail == 0 && in->src_eof) {
                in->held = 0; /* the data ends at the end of the file */
                return input_truncated(in, n, err);
            }
            if (avail > 0)
                return input_corrupt(in, n, "the decoder stopped", err);
        }
    }
    *got = n;
    return EV_OK;
}

#else /* no ISA-L */

ev_status input_isal_init(input *in, ev_error *err)
{
    return ev_fail(err, EV_ERR_USAGE, "%s: this embvsattn was built without ISA-L", in->name);
}

void input_isal_end(input *in) { (void)in; }

ev_status input_isal_fill(input *in, char *out, size_t cap, size_t *got, int *end, ev_error *err)
{
    (void)out, (void)cap, (void)end;
    *got = 0;
    return input_isal_init(in, err);
}

#endif
