/* store_internal — what store.c shares with store_sink.c (the cache written as its rows are parsed). Not for other
 * modules. */
#ifndef STORE_INTERNAL_H
#define STORE_INTERNAL_H

#include <cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "outfile.h"
#include "store.h"

#define STORE_CACHE_ALIGN 64
#define STORE_MAX_HEADER_BYTES (64u << 20) /* a real header is < 1 KiB; anything this large is corrupt */

/* The cache's header for s: metadata, then the tensors in file order (vocab_offsets, vectors, norms, index, the
 * neighbour lists when present, the n-gram rows when present, vocab). NULL when out of memory. */
cJSON *store_cache_header(const store *s);

/* Writes s's tensors after the matrix (norms, index, lists, n-grams, vocab) at of's position, in the header's order. */
void store_write_after_vectors(const store *s, outfile *of);

/* For a store built from streamed rows (store_rows.vectors NULL): the sink row of each kept row (V entries,
 * increasing), or NULL when kept row i is sink row i (no duplicate dropped, no gap). */
const size_t *store_row_sources(const store *s);

/* The store's vocab_offsets (V + 1 entries), as the cache holds them. */
const int64_t *store_offsets_i64(const store *s);

#endif
