/* head_file — trained heads on disk and in the binary: the head file with its training state, the vectors'
 * fingerprint it records, and the head built into embvsattn.
 *
 * A trained head file is attention.h's head file format (attn_head_load reads it) plus training state:
 *     w_q, w_k, w_v F32 [d_model, d_k]   w_o F32 [d_k, d_model]
 *     train_mask F32 [1, d_model]   the [MASK] query input M (head_model.h)
 *     train_bias F32 [1, n_cand]    the output bias b (its length is the number of candidates)
 *     __metadata__: format "embvsattn-head", format_version "1", kind "trained", positions "sinusoidal",
 *         position_scale, self_attention "excluded" (attention.h: the main view then masks each token's own key,
 *         as in training, so a row shows where the word itself, as the query, looks in its context), description,
 *         seed, tool_version, candidates, vectors_dim, vectors_fingerprint (see head_file_fingerprint), train_*
 *         (the training settings and final loss).
 * A head file without train_* tensors (written by another tool) loads with M = 0 and b = 0 over
 * HEAD_DEFAULT_CANDIDATES candidates; one without w_o (d_k = d_model) with W_O = I.
 */
#ifndef HEAD_FILE_H
#define HEAD_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "attention.h"
#include "ev_error.h"
#include "head_model.h"
#include "store.h"

/* The training settings recorded in a head file's metadata. */
typedef struct {
    const char *corpus;        /* a label for the corpus (basenames; no absolute paths, for reproducible bytes) */
    uint64_t seed;
    size_t epochs, n_neg, batch_tokens, threads, tokens, sentences;
    float lr;
    double final_loss;
} head_file_meta;

/* Writes p as a head file at path, atomically (outfile.h). meta may be NULL. EV_ERR_WRITE, EV_ERR_NOMEM. */
ev_status head_file_save(const head_params *p, const head_file_meta *meta, const char *path, ev_error *err);

/* Reads a head file (attn_head_load's checks, then train_mask [1, d_model] and train_bias [1, n]); *out is released
 * with head_params_free. d_model_expected: the vectors' dimension (0: no check). Errors: as attn_head_load. */
ev_status head_file_load(const char *path, size_t d_model_expected, head_params **out, ev_error *err);

/* The same from the size bytes of a head file in memory (buf stays the caller's); name stands for the path in
 * messages. */
ev_status head_file_load_bytes(const unsigned char *buf, size_t size, const char *name, size_t d_model_expected,
                               head_params **out, ev_error *err);

/* An attention head for attn_forward with p's projections and positions (copied). EV_ERR_NOMEM. */
ev_status head_to_attn(const head_params *p, attn_head **out, ev_error *err);

/* The vectors' identity as far as a head cares: FNV-1a 64 over the words of the first n_cand rows (each with its
 * NUL) and the float bytes of every 100th of those rows. Cheap (≈ 0.3 ms for 30k rows). */
uint64_t head_file_fingerprint(const store *s, size_t n_cand);

/* The head built into the binary (data/head.safetensors when it was built; see the Makefile), if it was trained
 * on these vectors (same head_file_fingerprint). EV_ERR_NOTFOUND with a message saying why not (none built in,
 * other vectors); EV_ERR_FORMAT when the built-in bytes do not load. */
ev_status head_file_builtin(const store *s, head_params **out, ev_error *err);
ev_status head_file_builtin_attn(const store *s, attn_head **out, ev_error *err);

/* The bytes of the built-in head (generated at build time; size 0 when none). */
extern const unsigned char head_builtin_data[];
extern const size_t head_builtin_size;

#endif
