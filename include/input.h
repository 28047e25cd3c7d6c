/* input — the bytes of a vector file, whatever it is packed in: a plain file, gzip, bzip2, xz, or a member of a zip
 * archive. The kind is told by the first bytes (magic), never by the extension alone.
 *
 * A plain regular file is mapped (the loader's parallel text parser reads it in ranges). Anything else is a
 * stream: a reader thread decompresses into a ring of blocks (INPUT_RING blocks of block_bytes each, so memory is
 * bounded whatever the file's size) while the caller consumes them with input_next — decompression on one core,
 * parsing on another. A pipe (standard input) is a stream too, uncompressed or compressed (not a zip: its directory
 * is at the end).
 *
 * Zip members: "ARCHIVE.zip:MEMBER" names one (when no file of that whole name exists, the path is split at the
 * first ':' after which the rest is a member name and before which an existing file is). Without a member, the
 * archive must hold exactly one candidate (a file, not a directory, macOS metadata "__MACOSX/", "._*", nor a README,
 * LICENSE, LICENCE, COPYING or NOTICE file);
 * otherwise the error lists the members. Stored and deflate members, zip64 (members and archives over 4 GiB);
 * encrypted members and other methods are refused by name.
 *
 * Limits (a compressed file is untrusted input, e.g. a "zip bomb"): the decompressed bytes may not exceed
 * INPUT_MAX_RATIO times the compressed bytes read so far plus INPUT_RATIO_SLACK (real vector files compress 2-4×);
 * a zip member may not decompress to more than its directory entry declares, nor declare a ratio above the limit;
 * xz streams may use at most INPUT_XZ_MEMLIMIT bytes of decoder memory. Over a limit: EV_ERR_NOMEM.
 */
#ifndef INPUT_H
#define INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "ev_error.h"

#define INPUT_RING 4                              /* blocks in the ring */
#define INPUT_BLOCK_BYTES ((size_t)4 << 20)      /* default block size */
#define INPUT_MAX_RATIO 100                       /* decompressed / compressed */
#define INPUT_RATIO_SLACK ((uint64_t)16 << 20)    /* bytes allowed beyond the ratio (small files) */
#define INPUT_XZ_MEMLIMIT ((uint64_t)1 << 30)     /* xz decoder memory */

typedef enum { INPUT_PLAIN = 0, INPUT_GZIP, INPUT_BZIP2, INPUT_XZ, INPUT_ZIP } input_kind;

/* What inflates gzip and a zip's deflate members: ISA-L's igzip (INPUT_INFLATE_ISAL, several times faster than zlib)
 * when embvsattn was built with it (Debian libisal-dev), else zlib; the environment variable EMBVSATTN_INFLATE=zlib
 * or =isal picks one (both give the same bytes and the same errors; the tests run each). */
typedef enum { INPUT_INFLATE_ZLIB = 0, INPUT_INFLATE_ISAL } input_inflater;

typedef struct input input;

/* Opens path ("FILE", "ARCHIVE.zip:MEMBER", or "-": standard input, named "stdin" in messages, plain or gzip,
 * bzip2, xz by magic; not a zip); block_bytes sizes the ring's blocks (0: INPUT_BLOCK_BYTES; the
 * tests use tiny blocks). Returns EV_OK and *out (release with input_close), or: EV_ERR_IO (missing, a directory,
 * unreadable, no such member), EV_ERR_USAGE (a zip with several candidates and no member named), EV_ERR_FORMAT
 * (empty, a damaged zip directory, an unsupported zip method), EV_ERR_NOMEM. err names the file. A gzip input or a
 * zip's deflate member with a bad EMBVSATTN_INFLATE: EV_ERR_USAGE (input_inflater_check). */
ev_status input_open(const char *path, size_t block_bytes, input **out, ev_error *err);

/* A stream over n bytes in memory (not copied: they must outlive the input), handed out as one block. name labels
 * messages. NULL when out of memory. */
input *input_from_memory(const char *name, const char *p, size_t n);

/* The same over the n bytes of a read-only file mapping at p (page-aligned), handed out in blocks of block bytes
 * (block ≥ 1): when the caller asks for the next block, the pages wholly inside the one before are released from
 * the process (madvise MADV_DONTNEED: they stay in the page cache; they stop counting in its resident memory), so
 * reading a large file through it keeps one block resident. NULL when out of memory. */
input *input_from_mapping(const char *name, const char *p, size_t n, size_t block);

/* What n bytes starting with these are packed in, by their magic (INPUT_PLAIN: none known). */
input_kind input_sniff(const char *p, size_t n);

/* The inflater input_open uses now: EMBVSATTN_INFLATE's when it is set and valid, else the default (ISA-L when built
 * with it). Reads the environment at each call. */
input_inflater input_inflater_chosen(void);

/* "zlib", "isal". */
const char *input_inflater_name(input_inflater f);

/* Whether this build has ISA-L. */
int input_have_isal(void);

/* EV_OK when EMBVSATTN_INFLATE is unset, empty, "zlib", or "isal" in a build with ISA-L; else EV_ERR_USAGE with
 * err saying why (input_open then refuses compressed gzip and zip inputs with the same error). */
ev_status input_inflater_check(ev_error *err);

/* What the bytes are packed in. */
input_kind input_compression(const input *in);

/* "none", "gzip", "bzip2", "xz", "zip". */
const char *input_kind_name(input_kind k);

/* The name given to input_open (or input_from_memory), for messages; owned by in. */
const char *input_name(const input *in);

/* The zip member read (owned by in), NULL for other inputs. */
const char *input_member(const input *in);

/* A mapped plain regular file: sets its bytes (*p, *n; n ≥ 1) and a descriptor open on it (*fd, for pread; owned
 * by in) and returns 1. Returns 0 for a stream. */
int input_mapped(const input *in, const char **p, size_t *n, int *fd);

/* A stream's next block of bytes: returns 1 and sets *p, *n (n ≥ 1; valid until the next call or input_close), 0 at
 * the end, or -1 with err set when reading or decompressing failed (after every good block was handed out). */
int input_next(input *in, const char **p, size_t *n, ev_error *err);

/* Non-blocking: when the reader thread has already failed, copies its error into err and returns its status;
 * EV_OK otherwise. (A parse error in the bytes before a decompression error is better reported as the latter.) */
ev_status input_failed(input *in, ev_error *err);

/* The size of the file read (the archive for a member), 0 for a pipe. */
uint64_t input_file_size(const input *in);

/* Fraction of the (compressed) file read so far, in [0, 1]; 0 when the size is unknown. */
double input_progress(input *in);

/* Stops the reader thread and releases everything. NULL-safe. */
void input_close(input *in);

#endif
