/* view_doc — the JSON documents of the main view and of compare (view_doc.h). */
#include "view_doc.h"

#include <stdlib.h>

#include "movement_map.h"
#include "render_json.h"

/* Adds the movement map ("map") of views v[0..nv) (sel, nsel: map_build's) to doc; on failure deletes doc.
 * Returns doc, or NULL when out of memory. */
static cJSON *with_map(cJSON *doc, const store *s, const view_sentence *const *v, size_t nv,
                       const size_t *const *sel, const size_t *nsel)
{
    ev_error err = {0};
    if (doc && map_add_json(doc, s, v, nv, sel, nsel, &err) != EV_OK) {
        ev_error_clear(&err);
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

cJSON *view_doc_view(const store *s, const view_sentence *v, const view_opts *vo, const char *vectors_path)
{
    const view_sentence *one[1] = {v};
    return with_map(render_json_view(s, v, vo, vectors_path), s, one, 1, NULL, NULL);
}

size_t view_doc_find_shared(const view_sentence v[2], long want, view_shared **out)
{
    view_shared *sh = malloc((v[0].n + 1) * sizeof *sh);
    size_t nsh = 0;
    *out = sh;
    if (!sh)
        return (size_t)-1;
    for (size_t i = 0; i < v[0].n; i++) {
        long r = v[0].masked[i] ? -1 : v[0].toks.tokens[i].row;
        if (r < 0 || (want >= 0 && r != want))
            continue;
        int seen = 0;
        for (size_t q = 0; q < nsh; q++)
            seen |= sh[q].row == r;
        for (size_t j = 0; !seen && j < v[1].n; j++)
            if (!v[1].masked[j] && v[1].toks.tokens[j].row == r) {
                sh[nsh++] = (view_shared){r, i, j};
                break;
            }
    }
    return nsh;
}

cJSON *view_doc_compare(const store *s, const char *vectors_path, const view_opts *const vo[2],
                        const view_sentence v[2], const view_shared *sh, size_t nsh)
{
    size_t d = store_dim(s), k = vo[0]->k;
    cJSON *root = cJSON_CreateObject();
    cJSON *sents = cJSON_AddArrayToObject(root, "sentences");
    for (int i = 0; i < 2; i++)
        cJSON_AddItemToArray(sents, render_json_view(s, &v[i], vo[i], vectors_path));
    cJSON *arr = cJSON_AddArrayToObject(root, "shared");
    for (size_t q = 0; q < nsh; q++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, e);
        render_json_add_word(e, "word", s, sh[q].row);
        cJSON *ti = cJSON_AddArrayToObject(e, "token_index");
        cJSON_AddItemToArray(ti, cJSON_CreateNumber((double)sh[q].i1));
        cJSON_AddItemToArray(ti, cJSON_CreateNumber((double)sh[q].i2));
        cJSON_AddNumberToObject(e, "row", (double)sh[q].row); /* its frequency rank: the page selects the rarest */
        cJSON_AddItemToObject(e, "static_neighbors", render_json_hits(s, v[0].static_nb + sh[q].i1 * k, k));
        cJSON *att = cJSON_AddArrayToObject(e, "attention");
        cJSON_AddItemToArray(att, render_json_attention(&v[0], sh[q].i1));
        cJSON_AddItemToArray(att, render_json_attention(&v[1], sh[q].i2));
        int none = v[0].no_output || v[1].no_output; /* no contextual vectors: a head without output */
        if (none)
            cJSON_AddNullToObject(e, "context_neighbors");
        else {
            cJSON *cn = cJSON_AddArrayToObject(e, "context_neighbors");
            cJSON_AddItemToArray(cn, render_json_hits(s, v[0].context_nb + sh[q].i1 * k, k));
            cJSON_AddItemToArray(cn, render_json_hits(s, v[1].context_nb + sh[q].i2 * k, k));
        }
        int alone[2] = {v[0].no_context[sh[q].i1] && !none, v[1].no_context[sh[q].i2] && !none};
        if (alone[0] || alone[1]) { /* [reason or null, reason or null] beside the two (then empty) lists */
            cJSON *why = cJSON_AddArrayToObject(e, "context_reason");
            for (int t = 0; t < 2; t++)
                cJSON_AddItemToArray(why, alone[t] ? cJSON_CreateString(VIEW_NOTHING_TO_ATTEND) : cJSON_CreateNull());
        }
        cJSON_AddItemToObject(e, "static_cosine", render_json_float(view_cosine(v[0].X + sh[q].i1 * d,
                                                                                 v[1].X + sh[q].i2 * d, d)));
        if (alone[0] || alone[1] || none)
            cJSON_AddNullToObject(e, "context_cosine");
        else
            cJSON_AddItemToObject(e, "context_cosine", render_json_float(view_cosine(v[0].Z + sh[q].i1 * d,
                                                                                      v[1].Z + sh[q].i2 * d, d)));
    }
    render_json_context_note(root, vo[0]->head);
    cJSON_AddItemToObject(root, "head", render_json_head(vo[0]));
    if (vo[0] != vo[1]) {
        cJSON *hs = cJSON_AddArrayToObject(root, "heads");
        for (int i = 0; i < 2; i++)
            cJSON_AddItemToArray(hs, render_json_head(vo[i]));
    }
    cJSON_AddItemToObject(root, "vectors", render_json_vectors(s, vectors_path));
    /* the map of the shared words: one static point each, an arrow per sentence */
    size_t *idx = malloc(2 * (nsh ? nsh : 1) * sizeof *idx);
    if (!idx) {
        cJSON_Delete(root);
        return NULL;
    }
    for (size_t q = 0; q < nsh; q++)
        idx[q] = sh[q].i1, idx[nsh + q] = sh[q].i2;
    const view_sentence *vp[2] = {&v[0], &v[1]};
    const size_t *sel[2] = {idx, idx + nsh}, nsel[2] = {nsh, nsh};
    root = with_map(root, s, vp, 2, sel, nsel);
    free(idx);
    return root;
}
