/* input_internal — what input.c (the streams, the decoders, the ring) and input_zip.c (a zip archive's directory)
 * share. Not for other modules. */
#ifndef INPUT_INTERNAL_H
#define INPUT_INTERNAL_H

#include <bzlib.h>
#include <lzma.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>
#include <zlib.h>

#include "input.h"

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
    z_stream z;
    bz_stream bz;
    lzma_stream xz;
    int dec_ready;
    /* zip member */
    int zip_method;
    uint32_t zip_crc, crc;
    uint64_t zip_csize, zip_usize, zip_data;
};

/* Reads up to n bytes at off (pread, retried); returns the count (short only at the end of the file) or -1. */
ssize_t input_pread_full(int fd, void *buf, size_t n, uint64_t off);

/* Reads the archive's directory and picks the member (in->member, or the one candidate); sets in->zip_* and the
 * member's data range (src_off, src_left). zpath names the archive in messages. (input_zip.c) */
ev_status input_zip_open(input *in, const char *zpath, ev_error *err);

#endif
