/* movement_map — the movement map of a sentence (or of compare's shared words): each token's static vector as a
 * point, an arrow to its vector in context, and the nearest words of both lists as faint points around them, all
 * projected to 2-D by PCA, plus the greedy placement of the picture's labels.
 *
 *   points: static vectors (one per word), contextual vectors (one per token and sentence), neighbour words (one
 *           per word, those that are not already a token's word), each scaled to unit length (the neighbour lists
 *           rank by cosine, so the map shows directions)
 *   ─map_pca2─▶ centre, covariance (d, d) or Gram matrix (m, m), whichever is smaller, its top two eigenvectors
 *               by power iteration with deflation ─▶ (x, y)
 *
 * Why power iteration and not LAPACK: the matrix is at most min(m, d) square (50 × 50 for a 9-token sentence) and
 * only two eigenvectors are wanted; Debian's OpenBLAS package ships no LAPACKE header, and its dsyevr (tried) runs
 * the reduction's level-2 calls on OpenBLAS's own threads, several times slower for such a small matrix when other
 * threads (a server's, --batch's) are busy. The naive twin
 * (map_pca2_naive) diagonalises the same covariance by cyclic Jacobi rotations, a different algorithm; the tests
 * compare both, and a numpy fixture (scripts/make-map-fixture.py).
 *
 * Sign convention (both algorithms): each axis is flipped so that its coefficient of largest magnitude (the lower
 * dimension on a tie) is positive. The JSON key "map" (docs/formats.md) carries the result; the renderers draw it.
 */
#ifndef MOVEMENT_MAP_H
#define MOVEMENT_MAP_H

#include <cJSON.h>
#include <stddef.h>

#include "ev_error.h"
#include "store.h"
#include "view.h"

/* ---- the projection ---------------------------------------------------------------------------------------- */

/* Projects m points P (m, d) row-major onto their top two principal components: xy (m, 2) gets each centred
 * point's coordinates on axis 1 and 2 (sign convention above), explained (2) each axis's share of the total
 * variance (0 when the points do not vary), axes (2, d) the unit axes (may be NULL). m ≥ 1, d ≥ 1; with d = 1 the
 * second axis is 0. In double precision: the two largest eigenpairs of the smaller of the covariance (d, d) and the
 * centred points' Gram matrix (1/m)·Xc·Xcᵀ (m, m) — the same non-zero eigenvalues; a Gram eigenvector u gives the
 * axis Xcᵀu normalised — by power iteration with deflation (at most MAP_PCA_MAX_ITER products per axis, stopping
 * when the axis moves less than 1e-12). Returns EV_OK or EV_ERR_NOMEM (err set). */
#define MAP_PCA_MAX_ITER 20000
ev_status map_pca2(const float *P /*(m,d)*/, size_t m, size_t d, float *xy /*(m,2)*/, float explained[2],
                   double *axes /*(2,d) or NULL*/, ev_error *err);

/* The naive twin: the same contract, the covariance diagonalised by cyclic Jacobi rotations (all d eigenpairs),
 * the two largest taken. For tests. */
ev_status map_pca2_naive(const float *P /*(m,d)*/, size_t m, size_t d, float *xy /*(m,2)*/, float explained[2],
                         double *axes /*(2,d) or NULL*/, ev_error *err);

/* Applies the sign convention to an axis (d): negates it when its coefficient of largest magnitude is negative. */
void map_axis_sign(double *axis, size_t d);

/* ---- the map of a view, or of compare ------------------------------------------------------------------------- */

typedef enum { MAP_STATIC = 0, MAP_CONTEXT = 1, MAP_NEIGHBOR = 2 } map_kind;

typedef struct {
    map_kind kind;
    long row;            /* the word's store row (static, neighbour); -1 for a context point and for the static
                          * vector of a token with no word of its own (a fastText subword vector) */
    size_t side, token;  /* the sentence and the token it belongs to (static: the first token of that word) */
    unsigned char in_static, in_context; /* neighbour: in some token's static list, in-context list */
    float x, y;          /* projected coordinates */
} map_point;

typedef struct {
    size_t side, token;  /* sentence (0 for a view) and token index */
    long pt_static;      /* index of its static point, -1: none (reason says why) */
    long pt_context;     /* index of its contextual point, -1: none (reason says why) */
    const char *reason;  /* why no point or no arrow (static string), NULL when it has both */
    long *nb_static;     /* (k) points of its static neighbours, -1 past the list's end */
    long *nb_context;    /* (k) points of its in-context neighbours, -1 past the list's end */
} map_token;

typedef struct {
    size_t npts, ntok, k;
    map_point *pts;      /* (npts) */
    map_token *tok;      /* (ntok) */
    long *nb;            /* (ntok, 2, k) storage of the tokens' nb_static and nb_context */
    float explained[2];  /* share of the variance on axis 1 and 2 */
} movement_map;

/* Why a token has no static point: out of the vocabulary / a blank. Why it has no arrow: VIEW_NOTHING_TO_ATTEND,
 * or a head without output. */
#define MAP_REASON_OOV "out of vocabulary: no vector"
#define MAP_REASON_BLANK "a blank: its vector is hidden"
#define MAP_REASON_NO_OUTPUT "the head has no output in the vectors' space"

/* Builds the map of the tokens sel[s][0..nsel[s]) of views v[s], s < nv (nv 1 or 2; sel[s] NULL: every token of
 * v[s]). Static points are shared by tokens of the same word (compare's shared word: one static point, an arrow
 * per sentence). Views share k. Returns EV_OK, EV_ERR_NOMEM (err set); on failure out holds nothing to free. */
ev_status map_build(const store *s, const view_sentence *const *v, size_t nv, const size_t *const *sel,
                    const size_t *nsel, movement_map *out, ev_error *err);

/* Releases a map. NULL-safe, idempotent. */
void map_free(movement_map *m);

/* The map as the JSON object of the key "map" (docs/formats.md): projection, explained_variance, points, tokens.
 * Token texts are v's. NULL when out of memory. */
cJSON *map_json(const store *s, const view_sentence *const *v, const movement_map *m);

/* map_build of the views, then map_json added to doc as "map". Returns EV_OK or EV_ERR_NOMEM (err set; doc
 * unchanged). */
ev_status map_add_json(cJSON *doc, const store *s, const view_sentence *const *v, size_t nv,
                       const size_t *const *sel, const size_t *nsel, ev_error *err);

/* ---- label placement ----------------------------------------------------------------------------------------- */

typedef struct {
    double x, y;         /* the anchor (a point's centre), px */
    double w, h;         /* the label's box, px */
    int must;            /* 1: always placed (a token's word); 0: dropped when every spot overlaps */
} map_label;

/* Places labels greedily in the given order (deterministic): for each, the first of 8 spots around its anchor (right,
 * left, above, below, then the diagonals), at gaps 5, 12 and 20 px, whose box lies inside (0, 0, width, height) and
 * overlaps no box placed before nor any disc of radius `dot` around the anchors (its own excepted). A label with no
 * free spot: must, the spot of least overlap; else not placed. out (n, 2) gets each box's top left, placed (n) 1 or
 * 0. Returns how many were placed without overlap. */
size_t map_place_labels(const map_label *lab, size_t n, double width, double height, double dot,
                        double *out /*(n,2)*/, unsigned char *placed /*(n)*/);

#endif
