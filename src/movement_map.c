/* movement_map — PCA of a sentence's static and contextual vectors and their neighbours, the map's JSON, and the
 * greedy placement of its labels (contracts in movement_map.h). */
#include "movement_map.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jsonstr.h"
#include "render_json.h"

/* An axis whose variance is below this share of the total is rounding, not variance: a zero axis. */
#define MAP_NO_VARIANCE 1e-12

/* ---- PCA ------------------------------------------------------------------------------------------------------ */

void map_axis_sign(double *axis, size_t d)
{
    size_t best = 0;
    for (size_t j = 1; j < d; j++)
        if (fabs(axis[j]) > fabs(axis[best]))
            best = j;
    if (d && axis[best] < 0)
        for (size_t j = 0; j < d; j++)
            axis[j] = -axis[j];
}

/* The centred points' covariance (d, d) = (1/m) Σ (p - mean)(p - mean)ᵀ and the mean (d), in double. */
static void covariance(const float *P, size_t m, size_t d, double *mean, double *C)
{
    memset(mean, 0, d * sizeof *mean);
    memset(C, 0, d * d * sizeof *C);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < d; j++)
            mean[j] += P[i * d + j];
    for (size_t j = 0; j < d; j++)
        mean[j] /= (double)m;
    /* each point centred once (the same differences as computing them in the loop: the same bits), then its
     * products; without room for the centred row, the differences are taken in the loop */
    double *cen = malloc(d * sizeof *cen);
    for (size_t i = 0; i < m; i++) {
        if (cen) {
            for (size_t b = 0; b < d; b++)
                cen[b] = P[i * d + b] - mean[b];
            for (size_t a = 0; a < d; a++) {
                double ca = cen[a];
                for (size_t b = 0; b <= a; b++)
                    C[a * d + b] += ca * cen[b];
            }
            continue;
        }
        for (size_t a = 0; a < d; a++) {
            double ca = P[i * d + a] - mean[a];
            for (size_t b = 0; b <= a; b++)
                C[a * d + b] += ca * (P[i * d + b] - mean[b]);
        }
    }
    free(cen);
    for (size_t a = 0; a < d; a++)
        for (size_t b = 0; b <= a; b++)
            C[b * d + a] = C[a * d + b] = C[a * d + b] / (double)m;
}

/* Coordinates on the two axes and the explained shares, from the eigenvalues lam (2) and the trace. */
static void project(const float *P, size_t m, size_t d, const double *mean, const double *axes, const double *lam,
                    double trace, float *xy, float explained[2])
{
    for (size_t i = 0; i < m; i++)
        for (int c = 0; c < 2; c++) {
            double s = 0;
            for (size_t j = 0; j < d; j++)
                s += (P[i * d + j] - mean[j]) * axes[c * d + j];
            xy[i * 2 + c] = (float)s;
        }
    for (int c = 0; c < 2; c++)
        explained[c] = trace > 0 && lam[c] > 0 ? (float)(lam[c] / trace) : 0.0f;
}

/* Power iteration on the symmetric C (d, d) from a fixed start: the unit eigenvector of largest eigenvalue into v,
 * its eigenvalue returned. tmp (d) scratch. */
static double power_axis(const double *C, size_t d, double *v, double *tmp)
{
    /* a start with every coordinate different, so that it is orthogonal to no axis of a generic matrix */
    double nrm = 0;
    for (size_t j = 0; j < d; j++) {
        v[j] = 1.0 + 0.1 * sin(1.0 + (double)j);
        nrm += v[j] * v[j];
    }
    for (size_t j = 0; j < d; j++)
        v[j] /= sqrt(nrm);
    double lam = 0;
    for (int it = 0; it < MAP_PCA_MAX_ITER; it++) {
        /* tmp = C v, four rows at a time: four independent sums (each in the order b = 0 … d-1, so the bits are
         * those of one row at a time) keep the adder busy instead of waiting on one chain */
        double n2 = 0;
        size_t a = 0;
        for (; a + 4 <= d; a += 4) {
            const double *r0 = C + a * d, *r1 = r0 + d, *r2 = r1 + d, *r3 = r2 + d;
            double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            for (size_t b = 0; b < d; b++) {
                double vb = v[b];
                s0 += r0[b] * vb;
                s1 += r1[b] * vb;
                s2 += r2[b] * vb;
                s3 += r3[b] * vb;
            }
            tmp[a] = s0, tmp[a + 1] = s1, tmp[a + 2] = s2, tmp[a + 3] = s3;
            n2 += s0 * s0;
            n2 += s1 * s1;
            n2 += s2 * s2;
            n2 += s3 * s3;
        }
        for (; a < d; a++) {
            double s = 0;
            for (size_t b = 0; b < d; b++)
                s += C[a * d + b] * v[b];
            tmp[a] = s;
            n2 += s * s;
        }
        if (n2 <= 0) /* C v = 0: no variance left */
            return 0;
        double n = sqrt(n2), diff = 0;
        lam = n;
        for (a = 0; a < d; a++) {
            double x = tmp[a] / n;
            diff += (x - v[a]) * (x - v[a]);
            v[a] = x;
        }
        if (diff < 1e-24)
            break;
    }
    return lam;
}

ev_status map_pca2(const float *P, size_t m, size_t d, float *xy, float explained[2], double *axes_out,
                   ev_error *err)
{
    double *mean = malloc(d * sizeof *mean), *C = malloc(d * d * sizeof *C), *ax = calloc(2 * d, sizeof *ax),
           *tmp = malloc(d * sizeof *tmp);
    if (!mean || !C || !ax || !tmp) {
        free(mean), free(C), free(ax), free(tmp);
        return ev_fail(err, EV_ERR_NOMEM, "out of memory projecting the map (%zu points, %zu dimensions)", m, d);
    }
    covariance(P, m, d, mean, C);
    double trace = 0, lam[2] = {0, 0};
    for (size_t j = 0; j < d; j++)
        trace += C[j * d + j];
    for (int c = 0; c < 2 && (size_t)c < d; c++) {
        lam[c] = power_axis(C, d, ax + c * d, tmp);
        if (lam[c] <= MAP_NO_VARIANCE * trace) { /* nothing left (rounding only): a zero axis */
            lam[c] = 0;
            memset(ax + c * d, 0, d * sizeof *ax);
            continue;
        }
        map_axis_sign(ax + c * d, d);
        for (size_t a = 0; a < d; a++) /* deflation: C -= λ v vᵀ */
            for (size_t b = 0; b < d; b++)
                C[a * d + b] -= lam[c] * ax[c * d + a] * ax[c * d + b];
    }
    project(P, m, d, mean, ax, lam, trace, xy, explained);
    if (axes_out)
        memcpy(axes_out, ax, 2 * d * sizeof *ax);
    free(mean), free(C), free(ax), free(tmp);
    return EV_OK;
}

ev_status map_pca2_naive(const float *P, size_t m, size_t d, float *xy, float explained[2], double *axes_out,
                         ev_error *err)
{
    double *mean = malloc(d * sizeof *mean), *C = malloc(d * d * sizeof *C), *V = calloc(d * d, sizeof *V),
           *ax = calloc(2 * d, sizeof *ax);
    if (!mean || !C || !V || !ax) {
        free(mean), free(C), free(V), free(ax);
        return ev_fail(err, EV_ERR_NOMEM, "out of memory projecting the map (%zu points, %zu dimensions)", m, d);
    }
    covariance(P, m, d, mean, C);
    double trace = 0;
    for (size_t j = 0; j < d; j++) {
        trace += C[j * d + j];
        V[j * d + j] = 1;
    }
    /* cyclic Jacobi: rotate away each off-diagonal entry in turn until they are all negligible; V's columns
     * accumulate the eigenvectors */
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0;
        for (size_t p = 0; p < d; p++)
            for (size_t q = p + 1; q < d; q++)
                off += C[p * d + q] * C[p * d + q];
        if (off < 1e-30 * (trace * trace + 1e-300))
            break;
        for (size_t p = 0; p < d; p++)
            for (size_t q = p + 1; q < d; q++) {
                double apq = C[p * d + q];
                if (apq == 0)
                    continue;
                double theta = (C[q * d + q] - C[p * d + p]) / (2 * apq);
                double t = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (size_t k = 0; k < d; k++) { /* C = Jᵀ C J: columns p, q then rows p, q */
                    double ckp = C[k * d + p], ckq = C[k * d + q];
                    C[k * d + p] = c * ckp - s * ckq;
                    C[k * d + q] = s * ckp + c * ckq;
                }
                for (size_t k = 0; k < d; k++) {
                    double cpk = C[p * d + k], cqk = C[q * d + k];
                    C[p * d + k] = c * cpk - s * cqk;
                    C[q * d + k] = s * cpk + c * cqk;
                }
                for (size_t k = 0; k < d; k++) {
                    double vkp = V[k * d + p], vkq = V[k * d + q];
                    V[k * d + p] = c * vkp - s * vkq;
                    V[k * d + q] = s * vkp + c * vkq;
                }
            }
    }
    double lam[2] = {0, 0};
    size_t pick[2] = {0, 0};
    for (int c = 0; c < 2 && (size_t)c < d; c++) { /* the largest eigenvalues, the lower index on a tie */
        long best = -1;
        for (size_t j = 0; j < d; j++)
            if ((c == 0 || j != pick[0]) && (best < 0 || C[j * d + j] > C[(size_t)best * d + (size_t)best]))
                best = (long)j;
        pick[c] = (size_t)best;
        lam[c] = C[(size_t)best * d + (size_t)best];
        if (lam[c] <= MAP_NO_VARIANCE * trace) {
            lam[c] = 0;
            continue;
        }
        for (size_t k = 0; k < d; k++)
            ax[c * d + k] = V[k * d + (size_t)best];
        map_axis_sign(ax + c * d, d);
    }
    project(P, m, d, mean, ax, lam, trace, xy, explained);
    if (axes_out)
        memcpy(axes_out, ax, 2 * d * sizeof *ax);
    free(mean), free(C), free(V), free(ax);
    return EV_OK;
}

/* ---- the map of views ----------------------------------------------------------------------------------------- */

void map_free(movement_map *m)
{
    if (!m)
        return;
    free(m->pts);
    free(m->tok);
    free(m->nb);
    memset(m, 0, sizeof *m);
}

/* The point of word row (a static or neighbour point), or -1. */
static long find_row(const movement_map *m, long row)
{
    for (size_t p = 0; row >= 0 && p < m->npts; p++)
        if (m->pts[p].kind != MAP_CONTEXT && m->pts[p].row == row)
            return (long)p;
    return -1;
}

/* Adds a point whose vector is vec (d), scaled to unit length into P. Returns its index. */
static long add_point(movement_map *m, float *P, size_t d, map_point pt, const float *vec)
{
    double n2 = 0;
    for (size_t j = 0; j < d; j++)
        n2 += (double)vec[j] * vec[j];
    float inv = n2 > 0 ? (float)(1 / sqrt(n2)) : 0.0f;
    for (size_t j = 0; j < d; j++)
        P[m->npts * d + j] = vec[j] * inv;
    m->pts[m->npts] = pt;
    return (long)m->npts++;
}

ev_status map_build(const store *s, const view_sentence *const *v, size_t nv, const size_t *const *sel,
                    const size_t *nsel, movement_map *out, ev_error *err)
{
    memset(out, 0, sizeof *out);
    size_t d = store_dim(s), k = v[0]->k, ntok = 0;
    for (size_t q = 0; q < nv; q++)
        ntok += sel && sel[q] ? nsel[q] : v[q]->n;
    size_t cap = ntok * (2 + 2 * k);
    float *P = malloc((cap ? cap : 1) * d * sizeof *P);
    out->pts = malloc((cap ? cap : 1) * sizeof *out->pts);
    out->tok = calloc(ntok ? ntok : 1, sizeof *out->tok);
    out->nb = malloc((ntok ? ntok : 1) * 2 * (k ? k : 1) * sizeof *out->nb);
    out->k = k;
    if (!P || !out->pts || !out->tok || !out->nb) {
        free(P);
        map_free(out);
        return ev_fail(err, EV_ERR_NOMEM, "out of memory building the movement map");
    }
    /* pass 1: the tokens' static and contextual points */
    for (size_t q = 0; q < nv; q++) {
        const view_sentence *w = v[q];
        size_t cnt = sel && sel[q] ? nsel[q] : w->n;
        for (size_t c = 0; c < cnt; c++) {
            size_t i = sel && sel[q] ? sel[q][c] : c;
            map_token *t = &out->tok[out->ntok];
            t->side = q, t->token = i, t->pt_static = t->pt_context = -1;
            t->nb_static = out->nb + out->ntok * 2 * k;
            t->nb_context = t->nb_static + k;
            out->ntok++;
            if (w->masked[i]) {
                t->reason = w->hidden && w->hidden[i] ? MAP_REASON_BLANK : MAP_REASON_OOV;
                continue;
            }
            long row = w->toks.tokens[i].row;
            if (w->toks.tokens[i].status == TOK_SUBWORD)
                row = -1; /* its vector is its own, not its row's */
            t->pt_static = find_row(out, row);
            if (t->pt_static < 0)
                t->pt_static = add_point(out, P, d, (map_point){MAP_STATIC, row, q, i, 0, 0, 0, 0}, w->X + i * d);
            if (w->no_output)
                t->reason = MAP_REASON_NO_OUTPUT;
            else if (w->no_context[i])
                t->reason = VIEW_NOTHING_TO_ATTEND;
            else
                t->pt_context = add_point(out, P, d, (map_point){MAP_CONTEXT, -1, q, i, 0, 0, 0, 0}, w->Z + i * d);
        }
    }
    /* pass 2: the neighbour words, once each (a token's own word is its static point) */
    for (size_t u = 0; u < out->ntok; u++) {
        map_token *t = &out->tok[u];
        const view_sentence *w = v[t->side];
        for (int list = 0; list < 2; list++) {
            long *dst = list ? t->nb_context : t->nb_static;
            const sim_hit *h = (list ? w->context_nb : w->static_nb) + t->token * k;
            int none = t->pt_static < 0 || (list && (t->pt_context < 0 || w->no_output));
            for (size_t j = 0; j < k; j++) {
                dst[j] = -1;
                if (none || h[j].row < 0)
                    continue;
                long p = find_row(out, h[j].row);
                if (p < 0)
                    p = add_point(out, P, d, (map_point){MAP_NEIGHBOR, h[j].row, t->side, t->token, 0, 0, 0, 0},
                                  store_row(s, (size_t)h[j].row));
                if (list)
                    out->pts[p].in_context = 1;
                else
                    out->pts[p].in_static = 1;
                dst[j] = p;
            }
        }
    }
    ev_status st = EV_OK;
    if (out->npts) {
        float *xy = malloc(out->npts * 2 * sizeof *xy);
        st = xy ? map_pca2(P, out->npts, d, xy, out->explained, NULL, err)
                : ev_fail(err, EV_ERR_NOMEM, "out of memory building the movement map");
        for (size_t p = 0; st == EV_OK && p < out->npts; p++)
            out->pts[p].x = xy[p * 2], out->pts[p].y = xy[p * 2 + 1];
        free(xy);
    }
    free(P);
    if (st != EV_OK)
        map_free(out);
    return st;
}

/* ---- JSON ----------------------------------------------------------------------------------------------------- */

static cJSON *pt_list(const long *p, size_t k)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t j = 0; a && j < k && p[j] >= 0; j++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber((double)p[j]));
    return a;
}

cJSON *map_json(const store *s, const view_sentence *const *v, const movement_map *m)
{
    static const char *kinds[] = {"static", "context", "neighbor"};
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    cJSON_AddStringToObject(root, "projection", "pca");
    cJSON *ev = cJSON_AddArrayToObject(root, "explained_variance");
    for (int c = 0; ev && c < 2; c++)
        cJSON_AddItemToArray(ev, render_json_float(m->explained[c]));
    cJSON *pts = cJSON_AddArrayToObject(root, "points");
    for (size_t p = 0; pts && p < m->npts; p++) {
        const map_point *q = &m->pts[p];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddItemToArray(pts, e);
        cJSON_AddStringToObject(e, "kind", kinds[q->kind]);
        if (q->row >= 0)
            render_json_add_word(e, "word", s, q->row);
        else if (q->kind == MAP_STATIC)
            jsonstr_add_cstr(e, "word", v[q->side]->toks.tokens[q->token].text);
        if (q->kind != MAP_NEIGHBOR) {
            cJSON_AddNumberToObject(e, "sentence", (double)q->side);
            cJSON_AddNumberToObject(e, "token", (double)q->token);
        } else
            cJSON_AddStringToObject(e, "lists", q->in_static && q->in_context ? "both"
                                                : q->in_static                ? "static"
                                                                              : "context");
        cJSON_AddItemToObject(e, "x", render_json_float(q->x));
        cJSON_AddItemToObject(e, "y", render_json_float(q->y));
    }
    cJSON *toks = cJSON_AddArrayToObject(root, "tokens");
    for (size_t u = 0; toks && u < m->ntok; u++) {
        const map_token *t = &m->tok[u];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddItemToArray(toks, e);
        cJSON_AddNumberToObject(e, "sentence", (double)t->side);
        cJSON_AddNumberToObject(e, "index", (double)t->token);
        jsonstr_add_cstr(e, "text", v[t->side]->toks.tokens[t->token].text);
        if (t->pt_static >= 0)
            cJSON_AddNumberToObject(e, "static", (double)t->pt_static);
        else
            cJSON_AddNullToObject(e, "static");
        if (t->pt_context >= 0)
            cJSON_AddNumberToObject(e, "context", (double)t->pt_context);
        else
            cJSON_AddNullToObject(e, "context");
        if (t->reason)
            cJSON_AddStringToObject(e, "reason", t->reason);
        cJSON_AddItemToObject(e, "static_neighbors", pt_list(t->nb_static, m->k));
        cJSON_AddItemToObject(e, "context_neighbors", pt_list(t->nb_context, m->k));
    }
    return root;
}

ev_status map_add_json(cJSON *doc, const store *s, const view_sentence *const *v, size_t nv,
                       const size_t *const *sel, const size_t *nsel, ev_error *err)
{
    movement_map m;
    ev_status st = map_build(s, v, nv, sel, nsel, &m, err);
    if (st != EV_OK)
        return st;
    cJSON *j = map_json(s, v, &m);
    map_free(&m);
    if (!j || !cJSON_AddItemToObject(doc, "map", j)) {
        cJSON_Delete(j);
        return ev_fail(err, EV_ERR_NOMEM, "out of memory building the movement map");
    }
    return EV_OK;
}

/* ---- labels --------------------------------------------------------------------------------------------------- */

/* Overlap area of two boxes (x, y, w, h). */
static double box_overlap(const double *a, const double *b)
{
    double w = fmin(a[0] + a[2], b[0] + b[2]) - fmax(a[0], b[0]);
    double h = fmin(a[1] + a[3], b[1] + b[3]) - fmax(a[1], b[1]);
    return w > 0 && h > 0 ? w * h : 0;
}

size_t map_place_labels(const map_label *lab, size_t n, double width, double height, double dot, double *out,
                        unsigned char *placed)
{
    static const double dir[8][2] = {{1, 0}, {-1, 0}, {0, -1}, {0, 1}, {1, -1}, {-1, -1}, {1, 1}, {-1, 1}};
    static const double gaps[3] = {5, 12, 20};
    size_t clean = 0;
    for (size_t i = 0; i < n; i++) {
        const map_label *L = &lab[i];
        double best[2] = {L->x + dot, L->y - L->h / 2}, best_cost = INFINITY;
        int found = 0;
        for (int g = 0; g < 3 && !found; g++)
            for (int c = 0; c < 8 && !found; c++) {
                double dx = dir[c][0], dy = dir[c][1], gap = gaps[g];
                /* the box beside the anchor on that side: right of it, left of it, centred above or below */
                double bx = dx > 0 ? L->x + gap : dx < 0 ? L->x - gap - L->w : L->x - L->w / 2;
                double by = dy > 0 ? L->y + gap : dy < 0 ? L->y - gap - L->h : L->y - L->h / 2;
                double box[4] = {bx, by, L->w, L->h}, cost = 0;
                if (bx < 0 || by < 0 || bx + L->w > width || by + L->h > height)
                    cost += 1e9; /* outside: only as a last resort */
                for (size_t j = 0; j < i; j++)
                    if (placed[j]) {
                        double o[4] = {out[j * 2], out[j * 2 + 1], lab[j].w, lab[j].h};
                        cost += box_overlap(box, o);
                    }
                for (size_t j = 0; j < n; j++)
                    if (j != i && (lab[j].x != L->x || lab[j].y != L->y)) {
                        double o[4] = {lab[j].x - dot, lab[j].y - dot, 2 * dot, 2 * dot};
                        cost += box_overlap(box, o);
                    }
                if (cost == 0)
                    found = 1;
                if (cost < best_cost)
                    best_cost = cost, best[0] = bx, best[1] = by;
            }
        out[i * 2] = best[0], out[i * 2 + 1] = best[1];
        placed[i] = found || L->must;
        clean += (size_t)found;
    }
    return clean;
}
