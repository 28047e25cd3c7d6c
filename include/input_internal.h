/* input_internal — what input.c (the streams, the decoders, the ring), input_zip.c (a zip archive's directory) and
 * input_isal.c (gzip and zip deflate through ISA-L) share. Not for other modules. */
#ifndef INPUT_INTERNAL_H
#define INPUT_INTERNAL_H

#include <bzlib.h>
#include <lzma.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>
#include <zlib.h>

#include "input.h"

#ifdef HAVE_ISAL
struct inflate_state; /* <isa-l/igzip_lib.h>, included by input_isal.c alone */
#endif

typedef struct {
    char *data; /* block_bytes */
    size_t n;
} block;

struct input {
    char *name;          /* as given */
    char *member;        /* the zip member's name (zip only) */
    input_kind kind;
    int fd;
    /* a mapped plain file */
    const char *map;
    size_t map_n;
    /* a stream */
    int stream, memory;  /* memory: input_from_memory (one block, no thread) or input_from_mapping */
    size_t mem_block, mem_pos, mem_prev; /* input_from_mapping: block size, next offset, the block handed out */
    uint64_t file_size;  /* 0 when unknown (a pipe) */
    size_t block_bytes;
    block ring[INPUT_RING];
    pthread_t thread;
    int thread_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t head, filled; /* ring[head] is the oldest filled block; filled blocks follow it */
    int holding;         /* the caller holds ring[head] */
    int done, cancel;
    ev_status st;        /* the reader's verdict (when done) */
    ev_error err;
    uint64_t src_read;   /* compressed bytes read from the file (reader only; read racily for progress) */
    /* reader-only state */
    unsigned char *zbuf;
    size_t zpos, zn;     /* zbuf[zpos, zn) not yet handed to the decoder */
    int src_eof;
    uint64_t src_off, src_left; /* zip: next file offset of the member's data and bytes left of it */
    uint64_t out_total;  /* decompressed bytes produced */
    int between;         /* gzip/bzip2: a stream ended; another may follow */
    input_inflater inflater; /* gzip and zip deflate: zlib or ISA-L */
    z_stream z;
    bz_stream bz;
    lzma_stream xz;
    int dec_ready;
#ifdef HAVE_ISAL
    /* ISA-L: a gzip member's header and trailer are read here, its deflate data by isal_inflate (input_isal.c) */
    struct inflate_state *igz;
#endif
    int gz_head;         /* a gzip member's header comes next */
    uint64_t member_out; /* bytes the gzip member decompressed to so far (its trailer's ISIZE) */
    size_t held;         /* bytes read into the decoder's bit buffer but not decoded yet (for offsets) */
    unsigned char pend[8];
    size_t pend_i, pend_n; /* pend[pend_i, pend_n): bytes after a member's deflate data taken back from the decoder */
    /* zip member */
    int zip_method;
    uint32_t zip_crc, crc;
    uint64_t zip_csize, zip_usize, zip_data;
};

/* Reads up to n bytes at off (pread, retried); returns the count (short only at the end of the file) or -1. */
ssize_t input_pread_full(int fd, void *buf, size_t n, uint64_t off);

/* Compressed bytes consumed by the decoder so far, as a file offset (for messages). */
uint64_t input_src_pos(const input *in);

/* Refills zbuf when it is used up; sets src_eof at the end of the compressed data. */
ev_status input_src_fill(input *in, ev_error *err);

/* "truncated <kind> data" and "corrupt <kind> data: what" errors at the current offset; produced: bytes
 * decompressed into the block being filled. */
ev_status input_truncated(input *in, size_t produced, ev_error *err);
ev_status input_corrupt(input *in, size_t produced, const char *what, ev_error *err);

/* After a gzip or bzip2 stream: the end, another stream (magic byte m0), or zero padding. Returns 1 to go on with
 * another stream, 0 at the end, -1 with err set. */
int input_next_stream(input *in, unsigned char m0, ev_error *err);

/* ISA-L's decoder for in (gzip, or a zip member's raw deflate): EV_OK, EV_ERR_NOMEM, or EV_ERR_USAGE in a build
 * without ISA-L (input_isal.c). */
ev_status input_isal_init(input *in, ev_error *err);
void input_isal_end(input *in);

/* Up to cap bytes decompressed into out (*got); *end at the end of the data; errors worded as zlib's path words them,
 * at the same byte offsets (the deflate data's own errors excepted: each library finds those its own way). */
ev_status input_isal_fill(input *in, char *out, size_t cap, size_t *got, int *end, ev_error *err);

/* Reads the archive's directory and picks the member (in->member, or the one candidate); sets in->zip_* and the
 * member's data range (src_off, src_left). zpath names the archive in messages. (input_zip.c) */
ev_status input_zip_open(input *in, const char *zpath, ev_error *err);

#endif
