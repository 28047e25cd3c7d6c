/* store — the vector store: vocabulary, (V×d) float32 matrix, per-row L2 norms, word→row index.
 *
 * A store is either opened from the project's cache (a safetensors file, mmap'd read-only: no copy and no
 * parsing of the vector data; the word→row hash index is stored in the file) or built in memory from rows a
 * loader parsed (store_from_rows). Either way callers see the same read-only view.
 *
 * Cache layout (safetensors: u64 little-endian header length N, N bytes of JSON header padded with spaces so that
 * the data starts on a 64-byte boundary, then the tensors back to back, no holes):
 *   vocab_offsets I64 [V+1]   byte offset of word i in `vocab`; word i is vocab[off[i] .. off[i+1]-1), NUL-terminated
 *   vectors       F32 [V, d]  row-major
 *   norms         F32 [V]     L2 norm of each row (computed in double, rounded to float)
 *   index         I32 [H]     open-addressing hash table, H a power of two ≥ 2V: row number or -1 (empty);
 *                             FNV-1a 64-bit hash of the word's bytes, masked, linear probing
 *   neighbor_rows   I32 [N, K]  optional (`embvsattn index`; both or neither): for each of the first N rows, its K
 *                               nearest rows by cosine over the whole vocabulary, best first (ties: lower row), the
 *                               row itself excluded; -1 past the end
 *   neighbor_scores F32 [N, K]  their cosines
 *   ngrams        F32 [bucket, d] optional (format_version 2, a fastText .bin converted): the n-gram rows
 *                               (subword.h), with __metadata__ ngram_minn, ngram_maxn, ngram_bucket
 *   vocab         U8  [B]     the words, each followed by one NUL byte
 * __metadata__: format "embvsattn-cache", format_version "1" ("2" with ngrams; both are read), source,
 * source_format, tool_version, index_hash. store_write_cache writes the store's n-gram model (store_subwords) as
 * ngrams; store_open maps it back (checked: the tensor and its three keys together, in range, shape [bucket, d]).
 */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>

#include "ev_error.h"
#include "subword.h"

typedef struct store store;

/* How a query word was matched. STORE_SUBWORD: not in the vocabulary, its vector built from its character n-grams
 * (store_subword_vector; fastText models only). */
typedef enum { STORE_EXACT = 0, STORE_LOWER = 1, STORE_OOV = 2, STORE_SUBWORD = 3 } store_match;

/* Rows handed to store_from_rows. The store takes ownership of the arrays (freed with free()) and of the n-gram
 * model. vectors NULL: the rows were streamed to a store_sink (loader_opts.rows_write) and are not in memory;
 * norms then holds their norms, and rowpos (NULL: row i is sink row i) where each row went. */
typedef struct {
    size_t n;          /* rows */
    size_t dim;        /* values per row */
    float *vectors;    /* (n, dim) row-major, or NULL (streamed) */
    char *words;       /* concatenated words, each NUL-terminated */
    size_t *offsets;   /* (n+1): word i is words[offsets[i] .. offsets[i+1]-1) without its NUL */
    float *norms;      /* (n) streamed rows only: each row's L2 norm (summed in double in index order, as the store
                        * computes it), NULL otherwise */
    size_t *rowpos;    /* (n) streamed rows only, optional: the sink row that holds row i (increasing) */
    subword_model *subwords; /* optional (fastText .bin): the n-gram vectors of words outside the vocabulary; the
                              * store takes ownership */
} store_rows;

/* Opens the cache at path (mmap). Validates magic/sizes/offsets before trusting anything. On success *out owns
 * the mapping (release with store_close). Errors: EV_ERR_IO (cannot open/read), EV_ERR_FORMAT (not a valid cache). */
ev_status store_open(const char *path, store **out, ev_error *err);

/* True when the first bytes of the file at path look like a safetensors header (8-byte length, then '{'). */
int store_is_cache_file(const char *path);

/* Same test on bytes already in memory (n bytes available). */
int store_is_cache_bytes(const unsigned char *p, size_t n);

/* Builds an in-memory store from rows (ownership of rows' arrays passes to the store, also on failure).
 * Duplicate words: the first is kept, later ones dropped; *n_duplicates (may be NULL) receives how many.
 * source/source_format are copied into the metadata (may be NULL). */
ev_status store_from_rows(store_rows *rows, const char *source, const char *source_format,
                          size_t *n_duplicates, store **out, ev_error *err);

/* Keeps only the first n rows (n = 0 or n ≥ size: no change); rebuilds the word index for them. */
ev_status store_limit(store *s, size_t n, ev_error *err);

/* Writes s as a cache file at path, atomically (temporary file in the same directory, fsync, rename).
 * Never leaves a partial file at path. EV_ERR_WRITE on failure. */
ev_status store_write_cache(const store *s, const char *path, ev_error *err);

/* Releases everything. NULL-safe. */
void store_close(store *s);

/* A cache written as its rows are parsed (convert into a cache, src/store_sink.c): the loader hands the rows to the
 * sink in blocks (loader_opts.rows_begin = store_sink_begin, rows_write = store_sink_write) and keeps only what is O(V) — words,
 * offsets, norms — so peak memory does not grow with the matrix. The sink writes the rows with pwrite (nothing is
 * mapped), either
 *  - in place (store_sink_begin with max_rows > 0: a mapped text file whose lines were counted): into the output's
 *    temporary file after room reserved for the header and max_rows + 1 offsets; finish compacts rows left out
 *    (duplicates, blank lines between parser ranges) and writes the header and the other tensors around them —
 *    the layout store_write_cache writes, its header padded with more spaces; or
 *  - growing (max_rows 0: streams, word2vec binary): into the output's temporary file from byte 0; finish has the
 *    file system insert the room for the header and offsets before the rows (fallocate FALLOC_FL_INSERT_RANGE:
 *    extents move, bytes do not), then goes on as in place; or, where the file system cannot (tmpfs, NFS), or when
 *    store_sink_set_insert(k, 0), writes the cache exactly as store_write_cache would (the same bytes) and copies
 *    the kept rows from the temporary file with copy_file_range;
 *  - into a spill (an output that is not a regular file): an unnamed file in the output's directory (O_TMPFILE, or
 *    a name removed at once), copied as above.
 * The output is committed atomically (outfile.h) and nothing is left behind on an error. */
typedef struct store_sink store_sink;

/* A sink for the cache at path; meta_bytes bounds the bytes of the metadata strings the store will carry (the
 * source path and names: the header's room is reserved from it). NULL when out of memory. Nothing is created yet. */
store_sink *store_sink_new(const char *path, size_t meta_bytes);

/* on 0: a stream's rows (their count unknown until the end) are copied behind the header at the end even where the
 * file system could insert the header's room before them (for comparisons: the cache is the same but for the
 * header's padding). The default is on. */
void store_sink_set_insert(store_sink *k, int on);

/* loader_opts.rows_begin: creates the output's temporary file: max_rows > 0, in place, room reserved with fallocate
 * for the header and max_rows × dim floats; max_rows 0 (a stream), the rows from byte 0, the header's room inserted
 * before them at the end (or, where the file system cannot, the file copied behind the header). EV_ERR_WRITE when the file cannot be created
 * or reserved (a missing directory, a full disk), EV_ERR_USAGE when called twice. */
ev_status store_sink_begin(void *sink, size_t max_rows, size_t dim, ev_error *err);

/* loader_opts.rows_write: writes n rows of dim floats as rows [row, row + n) of the sink (pwrite: threads may write
 * disjoint rows at once). EV_ERR_WRITE with the path and the system's reason. */
ev_status store_sink_write(void *sink, size_t row, const float *v, size_t n, ev_error *err);

/* Writes s to the sink's path, atomically. When s's rows were streamed to the sink (store_vectors(s) NULL), from
 * the rows written (see above); otherwise (a cache, a fastText model: rows in memory) as store_write_cache.
 * Call once. */
ev_status store_sink_finish(store_sink *k, const store *s, ev_error *err);

/* Removes the temporary file (or the spill) if store_sink_finish did not commit, and frees k. NULL-safe. */
void store_sink_free(store_sink *k);

/* The L2 norm of each of the n rows of v (n, d) into norms (n): each row's squares summed in double in index order,
 * then the square root rounded to float — the same bits however the rows are split among threads or calls. */
void store_row_norms(const float *v, size_t n, size_t d, float *norms);

size_t store_size(const store *s);            /* V */
size_t store_dim(const store *s);             /* d */
const float *store_vectors(const store *s);   /* (V, d) row-major, read-only; NULL for rows streamed to a sink */
const float *store_norms(const store *s);     /* (V) */
const float *store_row(const store *s, size_t row); /* (d) */
size_t store_file_bytes(const store *s);      /* size of the cache file, 0 for an in-memory store */

/* Word of row (not NUL-terminated inside the byte count, but followed by a NUL), its length in *len (may be NULL). */
const char *store_word(const store *s, size_t row, size_t *len);

/* FNV-1a 64 of the bytes w[0..n): the hash of the cache's word index (also usable for other word tables). */
uint64_t store_hash(const char *w, size_t n);

/* The neighbour lists of the cache (see the layout above): returns N (0: none) and sets *K, *rows (N, K) and
 * *scores (N, K). Entries are not validated by store_open: readers check each row against store_size. */
size_t store_neighbor_lists(const store *s, size_t *K, const int32_t **rows, const float **scores);

/* Attaches neighbour lists, written by store_write_cache; the store takes ownership of rows and scores (freed with
 * free()). n = 0 drops the lists (store_limit does, as its rows change). */
void store_set_neighbor_lists(store *s, size_t n, size_t K, int32_t *rows, float *scores);

/* Metadata value for key ("source", "source_format", "tool_version", …) or NULL. Owned by the store. */
const char *store_meta(const store *s, const char *key);

/* Exact lookup of the n bytes w: row number or -1. */
long store_find(const store *s, const char *w, size_t n);

/* Lookup as users expect: exact first, then the lowercase form (ASCII and the common UTF-8 Latin/Greek/Cyrillic
 * capitals). Returns the row or -1; *match (may be NULL) says which one matched (STORE_OOV when none). */
long store_lookup(const store *s, const char *w, size_t n, store_match *match);

/* Lowercases the n bytes w into a malloc'd, NUL-terminated buffer (same or smaller length in *out_len).
 * Invalid UTF-8 bytes are copied unchanged. NULL on OOM. */
char *store_lowercase(const char *w, size_t n, size_t *out_len);

/* The store's n-gram model (fastText .bin), or NULL when it has none. */
const subword_model *store_subwords(const store *s);

/* Attaches an n-gram model of the store's dimension (the store takes ownership; NULL drops the current one). */
void store_set_subwords(store *s, subword_model *m);

/* The vector fastText gives the n bytes w when it is not in the vocabulary: the mean of its n-grams' rows, into out
 * (store_dim floats). Returns the number of n-grams (0: no model, or a word without n-grams; out is then zeros). */
size_t store_subword_vector(const store *s, const char *w, size_t n, float *out);

/* Name of a match kind: "exact", "lowercase", "oov", "subword". */
const char *store_match_name(store_match m);

#endif
