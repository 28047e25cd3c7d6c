/* view_doc — the JSON documents of the main view and of compare, as `--format json` prints them and the server's
 * /api/view and /api/compare answer them (one code path for both: cli_attention.c and cli_serve.c call these).
 * Presentation only: built from views (view.h) by render_json.c's parts, with the movement map (movement_map.h).
 */
#ifndef VIEW_DOC_H
#define VIEW_DOC_H

#include <cJSON.h>
#include <stddef.h>

#include "store.h"
#include "view.h"

/* A word two views share: its row, and its (first) token index in each. */
typedef struct {
    long row;
    size_t i1, i2; /* token indexes in sentence 1 and 2 */
} view_shared;

/* The main view's document of one sentence: render_json_view's object with the movement map ("map"). vectors_path
 * names the vector file in "vectors". A new object for the caller to delete; NULL when out of memory. */
cJSON *view_doc_view(const store *s, const view_sentence *v, const view_opts *vo, const char *vectors_path);

/* The words two views share (first occurrence in each, in the order of view 1; only row want when want ≥ 0) into
 * *out (malloc'd, possibly empty; the caller frees it, also on failure). Returns their number, or (size_t)-1 when
 * out of memory. */
size_t view_doc_find_shared(const view_sentence v[2], long want, view_shared **out);

/* compare's document of two views (vo: each view's options; when vo[0] != vo[1] the two heads are listed in
 * "heads" too): {"sentences": [2 views], "shared": [...], "head", "vectors", "map"}. sh (nsh) from
 * view_doc_find_shared. A new object; NULL when out of memory. */
cJSON *view_doc_compare(const store *s, const char *vectors_path, const view_opts *const vo[2],
                        const view_sentence v[2], const view_shared *sh, size_t nsh);

#endif
