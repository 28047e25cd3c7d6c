/* loader — reads word-vector files in every common format into a store, and writes them back out.
 *
 * Formats: GloVe text (no header), word2vec text / fastText .vec (a "count dim" header line), word2vec binary
 * (header line, then per word: the word, a space, dim little-endian float32, and a newline after every vector or
 * after none: word2vec writes one, gensim none), and the project's cache (safetensors, see store.h). Any of them but
 * the cache may come compressed or in a zip archive (input.h). NaN and infinite values are rejected with the line or
 * byte offset; so is a binary word with a control byte (a vector of the wrong length shifts the next word).
 */
#ifndef LOADER_H
#define LOADER_H

#include <stddef.h>

#include "ev_error.h"
#include "input.h"
#include "store.h"

typedef enum {
    VF_AUTO = 0,  /* detect (see loader_detect) */
    VF_GLOVE,     /* GloVe text: "word v1 … vd" per line, no header */
    VF_W2V_TEXT,  /* word2vec text / fastText .vec: "count dim" header, then GloVe-style lines */
    VF_W2V_BIN,   /* word2vec binary */
    VF_CACHE,     /* embvsattn cache (safetensors) */
    VF_FASTTEXT   /* fastText's native .bin model: words, and n-gram vectors for words outside the vocabulary
                     (read only) */
} vformat;

/* Progress callback for long work: fraction in [0, 1]; what names the phase. May be NULL. */
typedef void (*loader_progress_fn)(void *ctx, const char *what, double fraction);

typedef struct {
    vformat format;           /* VF_AUTO to detect */
    size_t limit;             /* read only the first `limit` words; 0 = all */
    int threads;              /* parser threads for text input; 0 = one per core (at most 8) */
    loader_progress_fn progress;
    void *progress_ctx;
    /* Where a text or word2vec binary file's rows go when they are not to be kept in memory (convert into a cache:
     * store_sink_begin and store_sink_write). When rows_write is set, rows_begin is called once, when the dimension
     * is known, with the most rows the file can hold (a mapped text file, its lines counted) or 0 (a stream, word2vec
     * binary: not known); rows are then parsed in blocks and each block handed to rows_write as rows [row, row + n)
     * — from several threads at once for a mapped text file (disjoint rows) — and the store built has no matrix
     * (store_vectors NULL), only the words, the norms and the word index: memory is bounded by the blocks, not the
     * file. An error of either function ends the load with it. A fastText model is read into memory as usual. */
    ev_status (*rows_begin)(void *ctx, size_t max_rows, size_t dim, ev_error *err);
    ev_status (*rows_write)(void *ctx, size_t row, const float *v, size_t n, ev_error *err);
    void *rows_ctx;
    size_t block_bytes;       /* a stream's block size (input_open); 0: the default */
    size_t n_duplicates;      /* out: duplicate words dropped (the first occurrence is kept) */
    vformat detected;         /* out: the format actually read */
    input_kind compression;   /* out: what the file was packed in */
} loader_opts;

/* Short name of a format: "glove", "word2vec", "word2vec-binary", "cache", "fasttext-bin", "auto". */
const char *loader_format_name(vformat f);

/* Parses a format name as accepted by --vector-format: glove, word2vec (w2v, fasttext, vec), word2vec-binary
 * (bin, w2v-binary), cache (safetensors), fasttext-bin (a fastText model). Returns 0 and sets *out, or -1 when unknown. */
int loader_format_parse(const char *name, vformat *out);

/* Output format implied by path's extension: .safetensors → cache, .txt → glove, .vec → word2vec text,
 * .bin → word2vec binary. VF_AUTO when the extension says nothing. */
vformat loader_format_for_path(const char *path);

/* Detects the format of the file at path (decompressed first when packed, input.h), from its first 64 KiB:
 *   0. fastText's magic number 793712314 (int32 little-endian) at byte 0 is a fastText .bin model;
 *   1. an 8-byte little-endian length N (2 ≤ N ≤ size − 8) followed by '{' is a safetensors cache;
 *   2. else a first line of exactly two unsigned integers "count dim" is a word2vec header; the file is word2vec
 *      text when its first record (after empty lines) looks like text — after the word, printable ASCII, blanks or
 *      valid UTF-8 up to the newline, not only blanks — whatever its count of values (a wrong count is then a text
 *      error with its line number, never binary garbage); else word2vec binary;
 *   3. a NUL byte among the first 8 and fastText's version (int32 11 or 12) at byte 4 is a fastText model with a
 *      wrong magic number (read as one, to say so);
 *   4. anything else is GloVe text (its first line's value count gives the dimension).
 * A GloVe file whose first line is two integers (a number word with one value) is read as word2vec: force
 * the format with --vector-format glove. */
ev_status loader_detect(const char *path, vformat *out, ev_error *err);

/* Reads the vectors at path into a new store (*out, release with store_close). Cache files are mapped (no copy);
 * plain text files are parsed in ranges on several threads; gzip, bzip2, xz, zip members ("ARCHIVE.zip:MEMBER")
 * and pipes are parsed as their blocks are decompressed (input.h). Errors: EV_ERR_IO (missing, directory,
 * unreadable, no such member), EV_ERR_USAGE (a zip with several candidate members), EV_ERR_FORMAT (with file and
 * line or byte offset: lines and offsets of parse errors count the decompressed bytes, those of decompression errors
 * the compressed file's), EV_ERR_NOMEM (also over a decompression limit). opts may be NULL (auto-detect,
 * everything, default threads). */
ev_status loader_load(const char *path, loader_opts *opts, store **out, ev_error *err);

/* What loader_load does with a text or word2vec file once read: parses the n bytes at p (the caller's; not kept)
 * into a new store, detecting the format unless opts->format says. name labels the messages and the store's
 * source. A cache is only opened from a file (store_open): cache bytes give EV_ERR_FORMAT. Used by the fuzzers. */
ev_status loader_load_bytes(const char *name, const char *p, size_t n, loader_opts *opts, store **out, ev_error *err);

/* Writes s to path in format fmt (VF_AUTO: by extension, error if it says nothing), atomically. VF_FASTTEXT is
 * not written (EV_ERR_USAGE). */
ev_status loader_write(const store *s, const char *path, vformat fmt, loader_progress_fn progress, void *ctx,
                       ev_error *err);

#endif
