/* render_json — the documented JSON of the main view and of compare (schema in README, "JSON output").
 * Presentation only: every number comes from the view; floats are written as their shortest round-trip decimal. */
#ifndef RENDER_JSON_H
#define RENDER_JSON_H

#include <cJSON.h>

#include "store.h"
#include "view.h"

/* A float as a JSON number (shortest decimal that reads back to the same float); JSON null when it is NaN or
 * infinite (JSON has no such numbers: a damaged cache must not make invalid JSON). NULL on OOM. */
cJSON *render_json_float(float f);

/* The view of one sentence: {"sentence", "tokens": [...], "weights": n×n, "head": {...}, "vectors": {...}}, and
 * "mask": [{"index", "text", "predictions"}] when the sentence has blanks (a blank token has "hidden": true). With
 * o->predict every token has "predictions": [{"word", "p"}]; with o->context_vectors "context_vector": its Z row.
 * A token with nothing to attend to has an empty "context_neighbors", "context_reason": "nothing to attend to" and
 * a null "context_self_similarity" (as an out-of-vocabulary token's). A view whose head has no output in the
 * vectors' space (no_output) has "context_neighbors": null and "context_self_similarity": null in every token and a
 * top-level "context_note" saying why (render_json_context_note). With o->steps, "steps" (render_json_steps).
 * vectors_path names the vector file. NULL when out of memory. */
cJSON *render_json_view(const store *s, const view_sentence *v, const view_opts *o, const char *vectors_path);

/* The same document for printing only (--batch): its neighbour lists are raw items, the text cJSON_PrintUnformatted
 * would write for them (far fewer items to build), so it prints to the same bytes but cannot be read back as a
 * view (renderers read render_json_view's). NULL when out of memory. */
cJSON *render_json_view_print(const store *s, const view_sentence *v, const view_opts *o, const char *vectors_path);

/* The meaning/position split of v's logits (v->why, explain.h; NULL terms: do not call): {"ee", "ep", "pe", "pp":
 * n×n numbers in logit units, null where the weights do not allow the key; "meaning", "position": n×n weights of
 * the meaning term alone and of the three position terms alone, 0 where not allowed}. render_json_view adds it as
 * "why" when the view has it. NULL when out of memory. */
cJSON *render_json_why(const view_sentence *v);

/* The computation of v's attention step by step (v->steps, attention.h; NULL steps.x: do not call): {"x": n×d_model
 * (the input), "positions": n×d_model (the scaled positions added to it; only with positions), "q", "k", "v":
 * n×d_k each, "scale": 1/√d_k, "scores": n×n q_i·k_j·scale (null where the key is not allowed; the softmax of each
 * row is the document's "weights", not repeated here), "weighted": n×d_k (weights·v), "output":
 * n×d_model (weighted·W_O, or weighted without W_O; null when the head has no output in the vectors' space),
 * "residual": whether the vector in context adds x, and then "context": n×d_model (output + x)}. Numbers as
 * render_json_float (null for NaN or infinities). render_json_view adds it as "steps" when the view has it. NULL
 * when out of memory. */
cJSON *render_json_steps(const view_sentence *v, const view_opts *o);

/* A neighbour list as [{"word", "similarity"}] (stops at the first empty slot). */
cJSON *render_json_hits(const store *s, const sim_hit *h, size_t k);

/* Token i's top attention entries as [{"index", "token", "weight"}]. */
cJSON *render_json_attention(const view_sentence *v, size_t i);

/* Token i's predicted words as [{"word", "p"}] (empty when it has none). */
cJSON *render_json_predictions(const store *s, const view_sentence *v, size_t i);

/* The "head" object alone (kind, description, d_model, d_k, w_o, positions, position_scale, causal, residual,
 * context_restrict, task, exclude_self, in_context: view_context_meaning). */
cJSON *render_json_head(const view_opts *o);

/* Adds "context_note" (VIEW_NO_OUTPUT_FMT with the head's d_k and d_model) to obj when the head has no output in
 * the vectors' space; nothing otherwise. 0, or -1 on OOM. */
int render_json_context_note(cJSON *obj, const attn_head *h);

/* The "vectors" object alone (path, words, dim). */
cJSON *render_json_vectors(const store *s, const char *vectors_path);

/* Adds the word of row as KEY to obj (jsonstr_add: KEY_bytes too when it is not valid UTF-8). 0, or -1 on OOM. */
int render_json_add_word(cJSON *obj, const char *key, const store *s, long row);

/* An error object for batch mode: {"line": N, "error": MESSAGE, "code": EXIT}. */
cJSON *render_json_error(size_t line, const char *message, int code);

#endif
