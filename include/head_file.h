/* head_file — head files (the one reader and writer of the format), the --head value, the vectors' fingerprint a
 * trained head records, and the head built into embvsattn.
 *
 * Head file (safetensors, little-endian; see safetensors.h for the checks every file gets):
 *     w_q F32 [d_model, d_k]    w_k F32 [d_model, d_k]    w_v F32 [d_model, d_k]    w_o F32 [d_k, d_model] (optional)
 *     train_mask F32 [1, d_model]   trained heads: the [MASK] query input M (head_model.h)
 *     train_bias F32 [1, n_cand]    trained heads: the output bias b (its length is the number of candidates)
 *     other train_* tensors (F32, rank 2; at most 8 train_* in all): training-only state, checked and skipped
 *     __metadata__ (all strings, all optional): format "embvsattn-head", format_version "1",
 *         kind ("identity", "random", "file"; "trained" for a head with training state), description,
 *         positions "none" | "sinusoidal" (what the head was made or trained with), position_scale (decimal),
 *         self_attention "included" (default) | "excluded" (a token's own key is masked in its row: how a trained
 *         head was trained; the main view then does the same, so a row shows where the word itself, as the query,
 *         looks in its context; a row with no other key is all zero), tool_version, candidates (a trained head's
 *         candidate words: the first N rows of the vectors), vectors_dim, vectors_fingerprint (16 hex digits:
 *         head_file_fingerprint of the vectors it was trained on), seed, train_* (the training settings and final
 *         loss).
 * A head without w_o whose d_k ≠ d_model is read: its weights are shown, but its output A·V is d_k wide, not in the
 * vectors' space, so it has no contextual vectors (attn_head_has_output). No other tensors (a bias, say) are
 * accepted: the error names them. A head file without train_* tensors (written by another tool) gets the model's
 * defaults from head_model_complete.
 */
#ifndef HEAD_FILE_H
#define HEAD_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "attention.h"
#include "ev_error.h"
#include "store.h"

#define HEAD_FILE_MAX_BYTES ((size_t)1 << 30) /* a d = 4096 head with w_o is 256 MiB */

/* The training settings recorded in a trained head's metadata. */
typedef struct {
    const char *corpus;        /* a label for the corpus (basenames; no absolute paths, for reproducible bytes) */
    uint64_t seed;
    size_t epochs, n_neg, batch_tokens, threads, tokens, sentences;
    float lr;
    double final_loss;
} head_file_meta;

/* Reads a head file into *out (release with attn_head_free): kind ATTN_HEAD_FILE, its weights (train_mask and
 * train_bias too when present) in one block, positions, self-attention, candidates, fingerprint and a description
 * from the metadata. Checks, before allocating anything from the file: safetensors.h's, then the shapes' agreement,
 * train_mask [1, d_model], train_bias [1, n] (n = candidates when the metadata names them),
 * then the values (finite) and the metadata. d_model_expected: the vectors' dimension (0: no check).
 * Errors: EV_ERR_IO (cannot open or read, a directory), EV_ERR_FORMAT (anything malformed, wrong shapes,
 * d_model ≠ d_model_expected, over HEAD_FILE_MAX_BYTES), EV_ERR_NOMEM. */
ev_status head_file_load(const char *path, size_t d_model_expected, attn_head **out, ev_error *err);

/* The same from the size bytes of a head file in memory (e.g. built into the binary; buf stays the caller's); name
 * stands for the path in messages. Same checks and errors (except EV_ERR_IO). */
ev_status head_file_load_bytes(const unsigned char *buf, size_t size, const char *name, size_t d_model_expected,
                               attn_head **out, ev_error *err);

/* Writes h as a head file at path, atomically (outfile.h): its weights (identity weights as identity matrices),
 * training state and metadata; meta (may be NULL) adds the seed and training settings. EV_ERR_WRITE, EV_ERR_NOMEM. */
ev_status head_file_save(const attn_head *h, const head_file_meta *meta, const char *path, ev_error *err);

/* Parses a --head value: "identity", "random" (seed ATTN_DEFAULT_SEED), "random:SEED" (decimal, 0 … 2⁶⁴-1), or
 * else a head file path (write "./identity" for a file named identity). d_model: the vectors' dimension; d_k for
 * random heads (0: d_model). EV_ERR_USAGE for a bad seed; otherwise as the constructors and head_file_load. */
ev_status head_file_from_spec(const char *spec, size_t d_model, size_t d_k, attn_head **out, ev_error *err);

/* The vectors' identity as far as a head cares: FNV-1a 64 over the words of the first n_cand rows (each with its
 * NUL) and the float bytes of every 100th of those rows. Cheap (≈ 0.3 ms for 30k rows). */
uint64_t head_file_fingerprint(const store *s, size_t n_cand);

/* The built-in head called name ("context", "mlm"; "trained" is the first, context: data/head-NAME.safetensors when
 * the binary was built, see the Makefile), if it was trained on these vectors (same head_file_fingerprint).
 * EV_ERR_NOTFOUND with a message saying why not (no such name, not built in, other vectors); EV_ERR_FORMAT when
 * the built-in bytes do not load. */
ev_status head_file_builtin(const store *s, const char *name, attn_head **out, ev_error *err);

/* Whether name is a built-in head's name ("trained" included), whether or not its bytes were built in. */
int head_file_is_builtin(const char *name);

/* Resolves a --head value against the vectors s: a built-in name (head_file_builtin), else head_file_from_spec.
 * d_k: for random heads. */
ev_status head_file_resolve(const char *spec, const store *s, size_t d_k, attn_head **out, ev_error *err);

/* The built-in heads (generated at build time from BUILTIN_HEADS; size 0 for one whose file was missing). */
typedef struct {
    const char *name;
    const unsigned char *data;
    size_t size;
} head_builtin;
extern const head_builtin head_builtins[];
extern const size_t head_n_builtins;

#endif
