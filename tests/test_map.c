/* Unit tests of movement_map: map_pca2 (power iteration) against its naive twin (Jacobi) and numpy's fixtures
 * (tests/fixtures/map, scripts/make-map-fixture.py), the sign convention, degenerate inputs, the map of a view on a
 * toy store, and the greedy label placement. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "movement_map.h"
#include "test_rand.h"
#include "test_stores.h"
#include "view.h"

#define FIX "tests/fixtures/map/"

/* The largest |a - b| over n pairs. */
static double max_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs((double)a[i] - b[i]));
    return m;
}

/* Checks the properties every projection has: coordinates centred, axes orthonormal and sign-fixed, the shares in
 * [0, 1] decreasing with a sum ≤ 1, each coordinate the centred point's dot product with its axis. */
static void check_props(const char *what, const float *P, size_t m, size_t d, const float *xy, const float *ev,
                        const double *ax)
{
    double sx = 0, sy = 0, scale = 0;
    for (size_t i = 0; i < m; i++)
        sx += xy[i * 2], sy += xy[i * 2 + 1], scale = fmax(scale, fabs(xy[i * 2]));
    CHECK(fabs(sx) / (double)m < 1e-5 * (1 + scale) && fabs(sy) / (double)m < 1e-5 * (1 + scale),
          "%s: coordinates not centred (%g, %g)", what, sx, sy);
    CHECK(ev[0] >= ev[1] && ev[1] >= 0 && ev[0] + ev[1] <= 1 + 1e-6, "%s: shares %g %g", what, ev[0], ev[1]);
    for (int c = 0; c < 2; c++) {
        double n2 = 0, dot = 0;
        size_t big = 0;
        for (size_t j = 0; j < d; j++) {
            n2 += ax[c * d + j] * ax[c * d + j];
            dot += ax[j] * ax[d + j];
            if (fabs(ax[c * d + j]) > fabs(ax[c * d + big]))
                big = j;
        }
        if (ev[c] > 0) {
            CHECK(fabs(n2 - 1) < 1e-9, "%s: axis %d has norm² %g", what, c, n2);
            CHECK(ax[c * d + big] > 0, "%s: axis %d's largest coefficient is negative", what, c);
        }
        if (c == 1 && ev[1] > 0)
            CHECK(fabs(dot) < 1e-6, "%s: axes not orthogonal (%g)", what, dot);
    }
    /* coordinate = (p - mean) · axis */
    double *mean = calloc(d, sizeof *mean);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < d; j++)
            mean[j] += P[i * d + j] / (double)m;
    double worst = 0;
    for (size_t i = 0; i < m; i++)
        for (int c = 0; c < 2; c++) {
            double s = 0;
            for (size_t j = 0; j < d; j++)
                s += (P[i * d + j] - mean[j]) * ax[c * d + j];
            worst = fmax(worst, fabs(s - xy[i * 2 + c]));
        }
    CHECK(worst < 1e-5 * (1 + scale), "%s: coordinates differ from the projection by %g", what, worst);
    free(mean);
}

/* numpy's fixtures: both algorithms within the script's stated bound. */
static void test_fixtures(void)
{
    static const char *cases[] = {"aniso", "unit"};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        char path[128];
        snprintf(path, sizeof path, FIX "%s.txt", cases[c]);
        FILE *f = fopen(path, "r");
        size_t m = 0, d = 0;
        int ok = f && fscanf(f, "embvsattn-map-fixture 1 m %zu d %zu", &m, &d) == 2 && m > 0 && d > 0 && m < 10000 &&
                 d < 10000;
        float *P = ok ? malloc(m * d * sizeof *P) : NULL, *want = ok ? malloc(m * 2 * sizeof *want) : NULL;
        double ev[2] = {0, 0};
        for (size_t i = 0; ok && i < m * d; i++)
            ok = fscanf(f, "%f", &P[i]) == 1;
        ok = ok && fscanf(f, " explained %lf %lf", &ev[0], &ev[1]) == 2;
        for (size_t i = 0; ok && i < m * 2; i++) {
            double x;
            ok = fscanf(f, "%lf", &x) == 1;
            want[i] = (float)x;
        }
        if (f)
            fclose(f);
        CHECK(ok, "%s: missing or malformed fixture (run scripts/make-map-fixture.py)", path);
        if (!ok) {
            free(P), free(want);
            continue;
        }
        double scale = 0;
        for (size_t i = 0; i < m * 2; i++)
            scale = fmax(scale, fabs(want[i]));
        for (int naive = 0; naive < 2; naive++) {
            float *xy = malloc(m * 2 * sizeof *xy), got[2];
            double *ax = malloc(2 * d * sizeof *ax);
            ev_error err = {0};
            ev_status st = naive ? map_pca2_naive(P, m, d, xy, got, ax, &err) : map_pca2(P, m, d, xy, got, ax, &err);
            CHECK(st == EV_OK, "%s: status %d", path, (int)st);
            double diff = max_diff(xy, want, m * 2);
            CHECK(diff <= 1e-5 * (1 + scale), "%s (%s): coordinates differ from numpy by %g", path,
                  naive ? "Jacobi" : "power", diff);
            CHECK(fabs(got[0] - ev[0]) <= 1e-6 && fabs(got[1] - ev[1]) <= 1e-6,
                  "%s (%s): explained %g %g, numpy %g %g", path, naive ? "Jacobi" : "power", got[0], got[1], ev[0],
                  ev[1]);
            check_props(path, P, m, d, xy, got, ax);
            free(xy), free(ax);
        }
        free(P), free(want);
    }
}

/* Random point clouds of every shape: the power iteration agrees with the Jacobi twin (coordinates when the two
 * axes are well apart from each other and from the third, shares always). */
static void test_twin(void)
{
    static const size_t shapes[][2] = {{2, 3}, {5, 2}, {12, 7}, {30, 30}, {80, 100}, {200, 16}, {3, 100}};
    for (size_t t = 0; t < sizeof shapes / sizeof *shapes; t++) {
        size_t m = shapes[t][0], d = shapes[t][1];
        float *P = malloc(m * d * sizeof *P), *a = malloc(m * 2 * sizeof *a), *b = malloc(m * 2 * sizeof *b);
        double *axa = malloc(2 * d * sizeof *axa), *axb = malloc(2 * d * sizeof *axb);
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < d; j++)
                P[i * d + j] = nrand() * (float)(3.0 / (1.0 + (double)j)); /* falling variances */
        float ea[2], eb[2];
        ev_error err = {0};
        CHECK(map_pca2(P, m, d, a, ea, axa, &err) == EV_OK, "power %zux%zu", m, d);
        CHECK(map_pca2_naive(P, m, d, b, eb, axb, &err) == EV_OK, "jacobi %zux%zu", m, d);
        CHECK(fabs(ea[0] - eb[0]) < 1e-5 && fabs(ea[1] - eb[1]) < 1e-5, "%zux%zu: shares %g %g vs %g %g", m, d,
              ea[0], ea[1], eb[0], eb[1]);
        double scale = 0;
        for (size_t i = 0; i < m * 2; i++)
            scale = fmax(scale, fabs(b[i]));
        if (eb[0] > 1.05 * eb[1])
            CHECK(max_diff(a, b, m * 2) < 1e-4 * (1 + scale), "%zux%zu: coordinates differ by %g", m, d,
                  max_diff(a, b, m * 2));
        check_props("random power", P, m, d, a, ea, axa);
        check_props("random jacobi", P, m, d, b, eb, axb);
        free(P), free(a), free(b), free(axa), free(axb);
    }
}

/* Known geometries: points on a line along dimension 2 (all variance on axis 1, sign positive), a single point,
 * equal points (no variance), one dimension. */
static void test_degenerate(void)
{
    size_t m = 6, d = 5;
    float P[30] = {0}, xy[12];
    float ev[2];
    double ax[10];
    ev_error err = {0};
    for (size_t i = 0; i < m; i++)
        P[i * d + 2] = (float)i - 2.0f, P[i * d + 0] = 1.0f;
    for (int naive = 0; naive < 2; naive++) {
        CHECK((naive ? map_pca2_naive : map_pca2)(P, m, d, xy, ev, ax, &err) == EV_OK, "line");
        CHECK(fabs(ev[0] - 1) < 1e-6 && ev[1] == 0, "line (%d): shares %g %g", naive, ev[0], ev[1]);
        CHECK(fabs(ax[2] - 1) < 1e-9, "line (%d): axis 1 is not +e2 (%g)", naive, ax[2]);
        for (size_t i = 0; i < m; i++)
            CHECK(fabs(xy[i * 2] - ((float)i - 2.5f)) < 1e-6 && xy[i * 2 + 1] == 0, "line (%d): point %zu at %g %g",
                  naive, i, xy[i * 2], xy[i * 2 + 1]);
        CHECK((naive ? map_pca2_naive : map_pca2)(P, 1, d, xy, ev, NULL, &err) == EV_OK, "one point");
        CHECK(xy[0] == 0 && xy[1] == 0 && ev[0] == 0 && ev[1] == 0, "one point (%d): %g %g", naive, xy[0], xy[1]);
        float same[10] = {1, 2, 1, 2, 1, 2, 1, 2, 1, 2};
        CHECK((naive ? map_pca2_naive : map_pca2)(same, 5, 2, xy, ev, NULL, &err) == EV_OK, "equal points");
        CHECK(ev[0] == 0 && ev[1] == 0 && max_diff(xy, (float[10]){0}, 10) == 0, "equal points (%d)", naive);
        float one[4] = {1, 3, 2, 6};
        CHECK((naive ? map_pca2_naive : map_pca2)(one, 4, 1, xy, ev, NULL, &err) == EV_OK, "d = 1");
        CHECK(fabs(ev[0] - 1) < 1e-6 && ev[1] == 0 && fabs(xy[6] - 3) < 1e-6, "d = 1 (%d): %g, %g", naive, ev[0],
              xy[6]);
    }
    double axis[4] = {0.5, -0.7, 0.7, 0.1};
    map_axis_sign(axis, 4);
    CHECK(axis[0] == -0.5 && axis[1] == 0.7 && axis[2] == -0.7, "sign: the first of equal magnitudes decides");
}

/* The map of a view on a toy store: points, sharing, reasons, and coordinates equal to the PCA of its points. */
static void test_build(void)
{
    static const char *words[] = {"the", "bank", "river", "money", "shore", "loan", "water", "cash", "a", "of"};
    size_t V = 10, d = 6;
    float vec[60];
    for (size_t i = 0; i < V * d; i++)
        vec[i] = nrand();
    store *s = test_named_store(words, vec, V, d);
    attn_head *h = NULL;
    ev_error err = {0};
    CHECK(attn_head_identity(d, &h, &err) == EV_OK, "identity head");
    view_opts o = view_opts_for_head(h);
    o.k = 3, o.top = 3;
    view_sentence v[2];
    const char *txt[2] = {"the bank of the river xyzzy", "a bank loan"};
    for (int q = 0; q < 2; q++)
        CHECK(view_build(s, txt[q], strlen(txt[q]), &o, &v[q], &err) == EV_OK, "view %d: %s", q,
              err.msg ? err.msg : "");
    const view_sentence *vp[2] = {&v[0], &v[1]};
    movement_map m;
    CHECK(map_build(s, vp, 1, NULL, NULL, &m, &err) == EV_OK, "map of a view");
    CHECK(m.ntok == 6, "every token: %zu", m.ntok);
    CHECK(m.tok[0].pt_static == m.tok[3].pt_static && m.tok[0].pt_static >= 0, "'the' twice: one static point");
    CHECK(m.tok[0].pt_context != m.tok[3].pt_context && m.tok[3].pt_context >= 0, "'the' twice: two arrows");
    CHECK(m.tok[5].pt_static < 0 && m.tok[5].pt_context < 0 && m.tok[5].reason &&
              !strcmp(m.tok[5].reason, MAP_REASON_OOV), "the OOV token: no point, a reason");
    /* each point once per word; neighbours are the view's lists */
    for (size_t p = 0; p < m.npts; p++)
        for (size_t q = p + 1; q < m.npts; q++)
            CHECK(m.pts[p].kind == MAP_CONTEXT || m.pts[q].kind == MAP_CONTEXT || m.pts[p].row != m.pts[q].row,
                  "points %zu and %zu are one word", p, q);
    for (size_t u = 0; u < m.ntok; u++)
        for (size_t j = 0; j < o.k && m.tok[u].pt_static >= 0; j++) {
            long r = v[0].static_nb[m.tok[u].token * o.k + j].row, p = m.tok[u].nb_static[j];
            CHECK(p >= 0 && m.pts[p].row == r, "token %zu's static neighbour %zu", u, j);
            r = v[0].context_nb[m.tok[u].token * o.k + j].row, p = m.tok[u].nb_context[j];
            CHECK(p >= 0 && m.pts[p].row == r, "token %zu's in-context neighbour %zu", u, j);
        }
    /* the coordinates are the PCA (naive twin) of the points' unit vectors */
    float *P = malloc(m.npts * d * sizeof *P), *xy = malloc(m.npts * 2 * sizeof *xy), *got = malloc(m.npts * 2 * 4);
    for (size_t p = 0; p < m.npts; p++) {
        const float *src = m.pts[p].kind == MAP_CONTEXT ? v[0].Z + m.pts[p].token * d
                           : m.pts[p].row >= 0           ? store_row(s, (size_t)m.pts[p].row)
                                                         : v[0].X + m.pts[p].token * d;
        double n2 = 0;
        for (size_t j = 0; j < d; j++)
            n2 += (double)src[j] * src[j];
        for (size_t j = 0; j < d; j++)
            P[p * d + j] = (float)(src[j] / sqrt(n2));
        got[p * 2] = m.pts[p].x, got[p * 2 + 1] = m.pts[p].y;
    }
    float ev[2];
    CHECK(map_pca2_naive(P, m.npts, d, xy, ev, NULL, &err) == EV_OK, "twin of the map");
    CHECK(max_diff(xy, got, m.npts * 2) < 1e-4, "map coordinates differ from the twin's PCA by %g",
          max_diff(xy, got, m.npts * 2));
    CHECK(fabs(ev[0] - m.explained[0]) < 1e-5 && fabs(ev[1] - m.explained[1]) < 1e-5, "explained");
    cJSON *j = map_json(s, vp, &m);
    CHECK(j && cJSON_GetArraySize(cJSON_GetObjectItem(j, "points")) == (int)m.npts, "JSON points");
    CHECK(j && cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "tokens"), 5), "static")),
          "JSON: the OOV token's static point is null");
    cJSON_Delete(j);
    map_free(&m);
    map_free(&m); /* idempotent */
    free(P), free(xy), free(got);
    /* compare: the shared word 'bank', one static point, two arrows */
    size_t i1 = 1, i2 = 1;
    const size_t *sel[2] = {&i1, &i2}, nsel[2] = {1, 1};
    CHECK(map_build(s, vp, 2, sel, nsel, &m, &err) == EV_OK, "map of compare");
    CHECK(m.ntok == 2 && m.tok[0].pt_static == m.tok[1].pt_static && m.tok[0].pt_context >= 0 &&
              m.tok[1].pt_context >= 0 && m.tok[0].pt_context != m.tok[1].pt_context &&
              m.pts[m.tok[1].pt_context].side == 1, "compare: one static point, an arrow per sentence");
    map_free(&m);
    view_free(&v[0]), view_free(&v[1]);
    attn_head_free(h);
    store_close(s);
}

/* Labels: those placed without overlap overlap nothing placed, stay in bounds and beside their anchor; must labels
 * are always placed; the same input gives the same layout. */
static void test_labels(void)
{
    for (int t = 0; t < 20; t++) {
        size_t n = 5 + (size_t)(urand() * 60);
        double W = 500, H = 360;
        map_label *lab = calloc(n, sizeof *lab);
        for (size_t i = 0; i < n; i++)
            lab[i] = (map_label){40 + urand() * (W - 80), 30 + urand() * (H - 60), 20 + urand() * 60, 13, i < 4};
        if (t % 5 == 0) /* a crowd: every anchor in one spot */
            for (size_t i = 0; i < n; i++)
                lab[i].x = W / 2, lab[i].y = H / 2;
        double *pos = calloc(2 * n, sizeof *pos), *pos2 = calloc(2 * n, sizeof *pos2);
        unsigned char *pl = calloc(n, 1), *pl2 = calloc(n, 1);
        size_t clean = map_place_labels(lab, n, W, H, 5, pos, pl);
        map_place_labels(lab, n, W, H, 5, pos2, pl2);
        CHECK(!memcmp(pos, pos2, 2 * n * sizeof *pos) && !memcmp(pl, pl2, n), "deterministic");
        size_t placed = 0;
        for (size_t i = 0; i < n; i++) {
            placed += pl[i];
            if (i < 4)
                CHECK(pl[i], "must label %zu not placed", i);
            if (!pl[i])
                continue;
            double dx = fmax(fmax(pos[i * 2] - lab[i].x, lab[i].x - (pos[i * 2] + lab[i].w)), 0);
            double dy = fmax(fmax(pos[i * 2 + 1] - lab[i].y, lab[i].y - (pos[i * 2 + 1] + lab[i].h)), 0);
            CHECK(dx <= 20 && dy <= 20, "label %zu is %g, %g px from its anchor", i, dx, dy);
        }
        CHECK(clean <= placed, "clean %zu > placed %zu", clean, placed);
        if (t % 5 == 0)
            CHECK(placed < n, "a crowd of %zu labels cannot all be placed", n);
        /* the labels placed without overlap (all but forced must ones) overlap no other placed label */
        size_t overl = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++) {
                if (!pl[i] || !pl[j])
                    continue;
                double w = fmin(pos[i * 2] + lab[i].w, pos[j * 2] + lab[j].w) - fmax(pos[i * 2], pos[j * 2]);
                double h = fmin(pos[i * 2 + 1] + lab[i].h, pos[j * 2 + 1] + lab[j].h) - fmax(pos[i * 2 + 1],
                                                                                              pos[j * 2 + 1]);
                overl += w > 0 && h > 0;
            }
        CHECK(overl <= placed - clean, "%zu overlapping pairs with %zu labels forced", overl, placed - clean);
        free(lab), free(pos), free(pos2), free(pl), free(pl2);
    }
    /* two labels that fit side by side */
    map_label two[2] = {{100, 100, 40, 12, 1}, {100, 100, 40, 12, 1}};
    double pos[4];
    unsigned char pl[2];
    CHECK(map_place_labels(two, 2, 300, 300, 4, pos, pl) == 2 && pos[0] != pos[2], "two labels of one anchor");
}

int main(void)
{
    test_fixtures();
    test_twin();
    test_degenerate();
    test_build();
    test_labels();
    return check_done("test_map");
}
