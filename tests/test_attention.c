/* test_attention — the sgemm forward pass against its naive twin (random sizes, n = 1, all-OOV, causal,
 * positions), against the PyTorch fixtures (tests/fixtures/attention, scripts/make-attention-fixtures.py) to
 * 1e-5 relative, huge scores, NaN-freedom, and head files: random-head PRNG pinned by a numpy re-implementation,
 * save/load round trips, and every malformed variant. Any mismatch makes the process exit non-zero. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attention.h"
#include "head_file.h"
#include "check.h"
#include "fixture_floats.h"
#include "test_rand.h"

#define FIX "tests/fixtures/attention/"
#define TOL 1e-5

static char tmpdir[] = "/tmp/test_attention.XXXXXX";

/* ---- helpers --------------------------------------------------------------------------------------------- */

static int all_finite(const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return 0;
    return 1;
}

/* numpy.allclose-style: |got - want| ≤ tol·max|want| + tol·|want| for every element; returns the worst ratio
 * |diff| / bound (≤ 1 passes). */
static double close_ratio(const float *got, const float *want, size_t n, double tol)
{
    double maxabs = 0, worst = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs(want[i]) > maxabs)
            maxabs = fabs(want[i]);
    double atol = tol * (maxabs > 1e-30 ? maxabs : 1e-30);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(got[i]))
            return INFINITY;
        double r = fabs((double)got[i] - want[i]) / (atol + tol * fabs(want[i]));
        if (r > worst)
            worst = r;
    }
    return worst;
}

/* Rows of A: masked keys (and j > i when causal) exactly 0; each row sums to 1, or is all 0 when every key of
 * that row is masked. */
static void check_weights(const float *A, size_t n, const unsigned char *mask, int causal, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        double sum = 0;
        int any = 0, bad = 0;
        for (size_t j = 0; j < n; j++) {
            int allowed = !(mask && mask[j]) && !(causal && j > i);
            any |= allowed;
            if (!allowed && A[i * n + j] != 0.0f)
                bad = 1;
            if (!(A[i * n + j] >= 0.0f && A[i * n + j] <= 1.0f))
                bad = 1;
            sum += A[i * n + j];
        }
        CHECK(!bad, "%s: row %zu has a weight on a masked key or outside [0, 1]", what, i);
        CHECK(any ? fabs(sum - 1.0) < 1e-5 : sum == 0.0, "%s: row %zu sums to %.9g", what, i, sum);
    }
}

/* ---- BLAS vs naive --------------------------------------------------------------------------------------- */

static void compare_twins(const attn_head *h, size_t n, const unsigned char *mask, const attn_opts *o,
                          double xscale, const char *what)
{
    size_t dm = h->d_model;
    float *X = malloc(n * dm * sizeof *X);
    float *A1 = malloc(n * n * sizeof *A1), *A2 = malloc(n * n * sizeof *A2);
    float *Z1 = malloc(n * dm * sizeof *Z1), *Z2 = malloc(n * dm * sizeof *Z2);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < dm; k++)
            X[i * dm + k] = mask && mask[i] ? 0.0f : (float)(nrand() * xscale);
    ev_error err = {0};
    ev_status s1 = attn_forward(h, X, mask, n, o, A1, Z1, &err);
    CHECK(s1 == EV_OK, "%s: attn_forward: %s", what, err.msg);
    ev_error_clear(&err);
    ev_status s2 = attn_forward_naive(h, X, mask, n, o, A2, Z2, &err);
    CHECK(s2 == EV_OK, "%s: attn_forward_naive: %s", what, err.msg);
    ev_error_clear(&err);
    if (s1 == EV_OK && s2 == EV_OK) {
        double ra = close_ratio(A1, A2, n * n, TOL), rz = close_ratio(Z1, Z2, n * dm, TOL);
        CHECK(ra <= 1.0, "%s: A differs from the naive twin (%.3g × tolerance)", what, ra);
        CHECK(rz <= 1.0, "%s: Z differs from the naive twin (%.3g × tolerance)", what, rz);
        CHECK(all_finite(A1, n * n) && all_finite(Z1, n * dm), "%s: NaN/Inf in the output", what);
        check_weights(A1, n, mask, o ? o->causal : 0, what);
        check_weights(A2, n, mask, o ? o->causal : 0, what);
        /* a token whose keys are all masked has a zero output row */
        for (size_t i = 0; i < n; i++) {
            int any = 0;
            for (size_t j = 0; j < n; j++)
                any |= !(mask && mask[j]) && !(o && o->causal && j > i);
            if (!any)
                for (size_t k = 0; k < dm; k++)
                    CHECK(Z1[i * dm + k] == 0.0f, "%s: row %zu all masked but Z nonzero", what, i);
        }
    }
    free(X);
    free(A1);
    free(A2);
    free(Z1);
    free(Z2);
}

static void test_twins(void)
{
    static const size_t NS[] = {1, 2, 3, 7, 16, 33};
    static const size_t DMS[] = {1, 3, 8, 17, 50};
    char what[160];
    ev_error err = {0};
    int cases = 0;
    for (size_t a = 0; a < sizeof NS / sizeof NS[0]; a++)
        for (size_t b = 0; b < sizeof DMS / sizeof DMS[0]; b++) {
            size_t n = NS[a], dm = DMS[b], dk = 1 + (size_t)(urand() * (double)(dm + 7));
            unsigned char *mask = malloc(n);
            for (int variant = 0; variant < 4; variant++) {
                /* variant 0: identity, no mask; 1: random head, random OOV mask, causal; 2: random head, all OOV,
                 * positions; 3: identity, first token OOV, causal, positions */
                attn_head *h = NULL;
                ev_status st = variant == 0 || variant == 3 ? attn_head_identity(dm, &h, &err)
                                                            : attn_head_random(dm, dk, 7 + a * 10 + b, &h, &err);
                CHECK(st == EV_OK, "head: %s", err.msg);
                ev_error_clear(&err);
                if (st != EV_OK)
                    continue;
                attn_opts o = attn_opts_default();
                for (size_t i = 0; i < n; i++)
                    mask[i] = variant == 2 ? 1 : variant == 1 ? urand() < 0.3 : variant == 3 ? i == 0 : 0;
                o.causal = variant == 1 || variant == 3;
                o.positions = variant >= 2 ? ATTN_POS_SINUSOIDAL : ATTN_POS_NONE;
                o.position_scale = variant == 3 ? 1.0f : 0.5f;
                snprintf(what, sizeof what, "twins n=%zu d_model=%zu d_k=%zu variant %d", n, dm, h->d_k, variant);
                compare_twins(h, n, variant == 0 ? NULL : mask, &o, 0.5, what);
                attn_head_free(h);
                cases++;
            }
            free(mask);
        }
    /* a file-style head without w_o (d_k = d_model) */
    attn_head *h = NULL;
    CHECK(attn_head_random(12, 12, 99, &h, &err) == EV_OK, "random");
    h->w_o = NULL; /* (its floats stay in the block, freed with the head) */
    attn_opts o = attn_opts_default();
    compare_twins(h, 9, NULL, &o, 0.5, "no w_o");
    compare_twins(h, 9, NULL, NULL, 0.5, "NULL opts");
    attn_head_free(h);
    /* GloVe-sized: d = 100, 40 tokens, norms ≈ 5 */
    CHECK(attn_head_random(100, 64, 5, &h, &err) == EV_OK, "random 100");
    unsigned char mask40[40] = {0};
    mask40[3] = mask40[17] = 1;
    o.positions = ATTN_POS_SINUSOIDAL;
    o.causal = 1;
    compare_twins(h, 40, mask40, &o, 0.5, "d=100 random");
    attn_head_free(h);
    CHECK(attn_head_identity(100, &h, &err) == EV_OK, "identity 100");
    compare_twins(h, 40, mask40, &o, 0.5, "d=100 identity");
    attn_head_free(h);
    printf("twins: %d random configurations + 4 fixed\n", cases);
}

/* ---- semantics ------------------------------------------------------------------------------------------- */

static void test_semantics(void)
{
    ev_error err = {0};
    attn_head *h = NULL;
    CHECK(attn_head_identity(4, &h, &err) == EV_OK, "identity");
    /* OOV token 1: nobody attends to it; its own (zero) query spreads uniformly over the known keys */
    float X[4 * 4] = {1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0};
    unsigned char mask[4] = {0, 1, 0, 0};
    float A[16], Z[16];
    CHECK(attn_forward(h, X, mask, 4, NULL, A, Z, &err) == EV_OK, "forward");
    for (size_t i = 0; i < 4; i++)
        CHECK(A[i * 4 + 1] == 0.0f, "key 1 masked in row %zu", i);
    CHECK(fabsf(A[4 + 0] - 1.0f / 3) < 1e-6f && fabsf(A[4 + 2] - 1.0f / 3) < 1e-6f &&
              fabsf(A[4 + 3] - 1.0f / 3) < 1e-6f,
          "OOV query row is uniform over the known keys");
    /* identity: scores x_i·x_j/2, orthonormal rows → A[0][0] = e^0.5 / (e^0.5 + 2) */
    float e = expf(0.5f);
    CHECK(fabsf(A[0] - e / (e + 2)) < 1e-6f && fabsf(Z[0] - e / (e + 2)) < 1e-6f, "identity value %g", A[0]);
    /* causal: row 0 sees only itself */
    attn_opts o = attn_opts_default();
    o.causal = 1;
    CHECK(attn_forward(h, X, NULL, 4, &o, A, Z, &err) == EV_OK, "causal");
    CHECK(A[0] == 1.0f && A[1] == 0.0f && A[2] == 0.0f && A[3] == 0.0f, "causal row 0");
    /* causal + first token OOV: row 0 has no key at all → zeros, never NaN */
    mask[1] = 0;
    mask[0] = 1;
    CHECK(attn_forward(h, X, mask, 4, &o, A, Z, &err) == EV_OK, "causal oov");
    CHECK(A[0] == 0 && A[1] == 0 && A[2] == 0 && A[3] == 0 && Z[0] == 0 && Z[1] == 0 && Z[2] == 0 && Z[3] == 0,
          "all-masked row 0 is zero");
    /* every token OOV */
    memset(mask, 1, 4);
    CHECK(attn_forward(h, X, mask, 4, NULL, A, Z, &err) == EV_OK, "all oov");
    int zero = 1;
    for (int i = 0; i < 16; i++)
        zero &= A[i] == 0.0f && Z[i] == 0.0f;
    CHECK(zero, "all OOV: A and Z all zero");
    /* huge scores: subtract the max, no overflow */
    float big[3 * 4] = {1e15f, 0, 0, 0, 0, 1e15f, 0, 0, 5e14f, 5e14f, 0, 0};
    CHECK(attn_forward(h, big, NULL, 3, NULL, A, Z, &err) == EV_OK, "huge: %s", err.msg);
    CHECK(all_finite(A, 9) && all_finite(Z, 12), "huge scores: finite");
    /* rows 0 and 1: one-hot on themselves; row 2 = (x0 + x1)/2 ties all three keys at 2.5e29 */
    CHECK(A[0] == 1.0f && A[4] == 1.0f && fabsf(A[6] - 1.0f / 3) < 1e-7f && fabsf(A[8] - 1.0f / 3) < 1e-7f,
          "huge scores: one-hot / tie %g %g %g", A[0], A[6], A[8]);
    float neg[2 * 4] = {-1e15f, 0, 0, 0, 1e15f, 0, 0, 0}; /* scores ±5e29 */
    CHECK(attn_forward(h, neg, NULL, 2, NULL, A, Z, &err) == EV_OK && all_finite(A, 4) && A[0] == 1.0f &&
              A[3] == 1.0f,
          "huge negative scores");
    /* float32 overflow in the scores: an error, not NaN */
    float over[2 * 4] = {1e20f, 0, 0, 0, 1e20f, 0, 0, 0};
    CHECK(attn_forward(h, over, NULL, 2, NULL, A, Z, &err) == EV_ERR_FORMAT && strstr(err.msg, "overflows"),
          "overflow: %s", err.msg ? err.msg : "no error");
    ev_error_clear(&err);
    float nanx[4] = {0, NAN, 0, 0};
    CHECK(attn_forward(h, nanx, NULL, 1, NULL, A, Z, &err) == EV_ERR_FORMAT && strstr(err.msg, "token 0"),
          "NaN input: %s", err.msg ? err.msg : "no error");
    ev_error_clear(&err);
    CHECK(attn_forward_naive(h, nanx, NULL, 1, NULL, A, Z, &err) == EV_ERR_FORMAT, "naive NaN input");
    ev_error_clear(&err);
    /* limits */
    CHECK(attn_forward(h, X, NULL, 0, NULL, A, Z, &err) == EV_ERR_USAGE, "n = 0");
    ev_error_clear(&err);
    CHECK(attn_forward(h, X, NULL, ATTN_MAX_TOKENS + 1, NULL, A, Z, &err) == EV_ERR_NOMEM &&
              strstr(err.msg, "4097 tokens exceed"),
          "n over the limit: %s", err.msg ? err.msg : "");
    ev_error_clear(&err);
    o.positions = ATTN_POS_SINUSOIDAL;
    o.position_scale = NAN;
    CHECK(attn_forward(h, X, NULL, 4, &o, A, Z, &err) == EV_ERR_USAGE, "NaN position scale");
    ev_error_clear(&err);
    attn_head_free(h);
    attn_head_free(NULL);
    CHECK(attn_head_identity(0, &h, &err) == EV_ERR_USAGE && h == NULL, "d_model 0");
    ev_error_clear(&err);
    CHECK(attn_head_random(0, 4, 1, &h, &err) == EV_ERR_USAGE && h == NULL, "random d_model 0");
    ev_error_clear(&err);
    CHECK(strcmp(attn_positions_name(ATTN_POS_NONE), "none") == 0 &&
              strcmp(attn_positions_name(ATTN_POS_SINUSOIDAL), "sinusoidal") == 0,
          "positions names");
    attn_opts d = attn_opts_default();
    CHECK(d.positions == ATTN_POS_NONE && d.position_scale == ATTN_DEFAULT_POSITION_SCALE && !d.causal, "defaults");

    /* positions change the picture: the same X with positions differs, and row 0 of P is (0, 1, 0, 1 …)·s */
    float P[3 * 4];
    attn_positional_encoding(3, 4, 0.5f, P);
    CHECK(P[0] == 0.0f && P[1] == 0.5f && P[2] == 0.0f && P[3] == 0.5f, "P row 0");
    CHECK(fabsf(P[4] - 0.5f * sinf(1.0f)) < 1e-7f && fabsf(P[5] - 0.5f * cosf(1.0f)) < 1e-7f &&
              fabsf(P[6] - 0.5f * (float)sin(1.0 / 100.0)) < 1e-7f,
          "P row 1");
}

/* ---- head files ------------------------------------------------------------------------------------------ */

static int heads_equal(const attn_head *a, const attn_head *b)
{
    size_t c = a->d_model * a->d_k;
    if (a->d_model != b->d_model || a->d_k != b->d_k || !a->w_o != !b->w_o)
        return 0;
    const float *wa[4] = {a->w_q, a->w_k, a->w_v, a->w_o}, *wb[4] = {b->w_q, b->w_k, b->w_v, b->w_o};
    for (int i = 0; i < 4; i++)
        if (wa[i] && (!wb[i] || memcmp(wa[i], wb[i], c * sizeof(float)) != 0))
            return 0;
    return 1;
}

static void test_prng_pin(void)
{
    ev_error err = {0};
    attn_head *mine = NULL, *numpy = NULL;
    CHECK(attn_head_random(8, 4, 42, &mine, &err) == EV_OK, "random");
    CHECK(head_file_load(FIX "random-seed42-d8-k4.head.safetensors", 8, &numpy, &err) == EV_OK, "load: %s",
          err.msg);
    ev_error_clear(&err);
    if (mine && numpy)
        CHECK(heads_equal(mine, numpy), "attn_head_random(8, 4, 42) equals the numpy re-implementation bit for bit");
    CHECK(mine && mine->kind == ATTN_HEAD_RANDOM && mine->seed == 42 && strstr(mine->description, "random:42"),
          "random head description %s", mine ? mine->description : "");
    /* Xavier bound √(6/12) */
    int in = 1;
    for (size_t i = 0; mine && i < 32; i++)
        in &= fabsf(mine->w_q[i]) <= sqrtf(0.5f) && fabsf(mine->w_o[i]) <= sqrtf(0.5f);
    CHECK(in, "Xavier bound");
    attn_head_free(mine);
    attn_head_free(numpy);
    /* d_k 0 → d_model; different seeds differ */
    attn_head *a = NULL, *b = NULL;
    CHECK(attn_head_random(6, 0, 1, &a, &err) == EV_OK && a->d_k == 6, "d_k 0");
    CHECK(attn_head_random(6, 0, 2, &b, &err) == EV_OK && !heads_equal(a, b), "seeds differ");
    attn_head_free(a);
    attn_head_free(b);

    /* positions pinned against numpy/libm */
    FILE *f = fopen(FIX "positions.txt", "r");
    CHECK(f != NULL, "open positions.txt");
    if (f) {
        float P[6 * 7], want;
        attn_positional_encoding(6, 7, 0.5f, P);
        int ok = 1;
        for (size_t i = 0; i < 42; i++)
            ok &= fscanf(f, "%f", &want) == 1 && fabsf(P[i] - want) <= 1e-7f;
        CHECK(ok, "positions equal numpy's");
        fclose(f);
    }
}

/* Writes a safetensors file: 8-byte length, header JSON (padded to 8), then data. */
static void write_st(const char *path, const char *json, const void *data, size_t n)
{
    size_t jl = strlen(json), pad = (8 - (8 + jl) % 8) % 8;
    unsigned char len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (unsigned char)((uint64_t)(jl + pad) >> (8 * i));
    FILE *f = fopen(path, "wb");
    fwrite(len, 1, 8, f);
    fwrite(json, 1, jl, f);
    for (size_t i = 0; i < pad; i++)
        fputc(' ', f);
    if (n)
        fwrite(data, 1, n, f);
    fclose(f);
}

static void expect_load_error(const char *json, const float *data, size_t nfloats, size_t expect_dm, ev_status code,
                              const char *frag)
{
    char path[600];
    snprintf(path, sizeof path, "%s/bad.safetensors", tmpdir);
    write_st(path, json, data, nfloats * sizeof(float));
    attn_head *h = (attn_head *)1;
    ev_error err = {0};
    ev_status st = head_file_load(path, expect_dm, &h, &err);
    CHECK(st == code && h == NULL, "load %s: status %d, expected %d (%s)", json, (int)st, (int)code,
          err.msg ? err.msg : "");
    CHECK(err.msg && strstr(err.msg, frag), "load error '%s' should mention '%s'", err.msg ? err.msg : "(none)",
          frag);
    if (st == EV_OK)
        attn_head_free(h);
    ev_error_clear(&err);
}

#define T(name, r, c, b, e)                                                                                      \
    "\"" name "\":{\"dtype\":\"F32\",\"shape\":[" #r "," #c "],\"data_offsets\":[" #b "," #e "]}"

static void test_head_files(void)
{
    ev_error err = {0};
    char path[600];
    float data[256];
    for (int i = 0; i < 256; i++)
        data[i] = (float)i / 256.0f - 0.5f;
    /* a valid small file: d_model 2, d_k 3, with w_o */
    const char *good = "{" T("w_q", 2, 3, 0, 24) "," T("w_k", 2, 3, 24, 48) "," T("w_v", 2, 3, 48, 72) ","
                       T("w_o", 3, 2, 72, 96) ",\"__metadata__\":{\"positions\":\"sinusoidal\",\"position_scale\":"
                       "\"0.25\",\"description\":\"hand-made\"}}";
    snprintf(path, sizeof path, "%s/good.safetensors", tmpdir);
    write_st(path, good, data, 24 * sizeof(float));
    attn_head *h = NULL;
    CHECK(head_file_load(path, 2, &h, &err) == EV_OK, "good: %s", err.msg);
    ev_error_clear(&err);
    if (h) {
        CHECK(h->kind == ATTN_HEAD_FILE && h->d_model == 2 && h->d_k == 3 && h->w_o, "good shapes");
        CHECK(h->w_q[0] == data[0] && h->w_k[0] == data[6] && h->w_o[5] == data[23], "good values");
        CHECK(h->has_position_meta && h->positions == ATTN_POS_SINUSOIDAL && h->position_scale == 0.25f,
              "metadata positions");
        CHECK(strstr(h->description, "hand-made") && strstr(h->description, "d_k 3"), "description %s",
              h->description);
        attn_head_free(h);
        h = NULL;
    }
    CHECK(head_file_load(path, 0, &h, &err) == EV_OK, "no dimension check");
    attn_head_free(h);
    h = NULL;

    /* no w_o and d_k ≠ d_model: read, weights only (A·V would be d_k wide, outside the vectors' space) */
    snprintf(path, sizeof path, "%s/no-wo.safetensors", tmpdir);
    write_st(path, "{" T("w_q", 2, 3, 0, 24) "," T("w_k", 2, 3, 24, 48) "," T("w_v", 2, 3, 48, 72) "}", data,
             18 * sizeof(float));
    CHECK(head_file_load(path, 2, &h, &err) == EV_OK, "no w_o, d_k 3 ≠ d_model 2: %s", err.msg);
    ev_error_clear(&err);
    if (h) {
        CHECK(!h->w_o && h->d_k == 3 && !attn_head_has_output(h), "no w_o: no output in the vectors' space");
        CHECK(strstr(h->description, "no w_o: weights only") != NULL, "description %s", h->description);
        float X[4] = {0.5f, -1.0f, 0.25f, 2.0f}, A[4], Z[4];
        CHECK(attn_forward(h, X, NULL, 2, NULL, A, NULL, &err) == EV_OK, "weights alone: %s", err.msg);
        ev_error_clear(&err);
        CHECK(attn_forward(h, X, NULL, 2, NULL, A, Z, &err) == EV_ERR_USAGE && err.msg &&
              strstr(err.msg, "without w_o"), "Z asked of a head without output: %s", err.msg ? err.msg : "(none)");
        ev_error_clear(&err);
        CHECK(attn_forward_naive(h, X, NULL, 2, NULL, A, Z, &err) == EV_ERR_USAGE, "naive: Z refused");
        ev_error_clear(&err);
        attn_head_free(h);
        h = NULL;
    }

    /* malformed variants */
    expect_load_error(good, data, 24, 100, EV_ERR_FORMAT, "the head is for vectors of dimension 2");
    expect_load_error("{" T("w_q", 2, 3, 0, 24) "," T("w_k", 2, 3, 24, 48) "}", data, 12, 0, EV_ERR_FORMAT,
                      "expected a tensor named 'w_v', found none");
    expect_load_error("{" T("w_q", 2, 3, 0, 24) "," T("w_k", 2, 2, 24, 40) "," T("w_v", 2, 3, 40, 64) "}", data, 16,
                      0, EV_ERR_FORMAT, "w_k has shape [2, 2], expected [2, 3]");
    expect_load_error("{" T("w_q", 2, 3, 0, 24) "," T("w_k", 2, 3, 24, 48) "," T("w_v", 2, 3, 48, 72) ","
                      T("w_o", 2, 3, 72, 96) "}", data, 24, 0, EV_ERR_FORMAT, "w_o has shape [2, 3], expected");
    expect_load_error("{" T("w_q", 2, 2, 0, 16) "," T("w_k", 2, 2, 16, 32) "," T("w_v", 2, 2, 32, 48) ","
                      T("b_q", 1, 2, 48, 56) "}", data, 14, 0, EV_ERR_FORMAT, "unexpected tensor 'b_q'");
    expect_load_error("{\"w_q\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[0,8]}}", data, 2, 0,
                      EV_ERR_FORMAT, "expected dtype F32, found F16");
    expect_load_error("{\"w_q\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", data, 4, 0,
                      EV_ERR_FORMAT, "rank 2");
    expect_load_error("{" T("w_q", 2, 2, 0, 16) "," T("w_k", 2, 2, 8, 24) "," T("w_v", 2, 2, 32, 48) "}", data, 12,
                      0, EV_ERR_FORMAT, "overlap");
    expect_load_error("{" T("w_q", 2, 2, 0, 16) "," T("w_k", 2, 2, 16, 32) "," T("w_v", 2, 2, 32, 48) "}", data, 13,
                      0, EV_ERR_FORMAT, "the tensors cover 48");
    expect_load_error("{" T("w_q", 2, 2, 0, 16) "," T("w_k", 2, 2, 16, 32) "," T("w_v", 2, 2, 32, 4800) "}", data,
                      12, 0, EV_ERR_FORMAT, "data_offsets must lie within");
    expect_load_error("{" T("w_q", 2, 2, 0, 12) "}", data, 3, 0, EV_ERR_FORMAT, "needs 16 bytes");
    expect_load_error("{" T("w_q", 4294967296, 4294967296, 0, 16) "}", data, 4, 0, EV_ERR_FORMAT, "shape[0]");
    expect_load_error("{" T("w_q", 2, 2, 0, 16) "," T("w_q", 2, 2, 16, 32) "}", data, 8, 0, EV_ERR_FORMAT,
                      "appears twice");
    expect_load_error("{" T("w_q", 2, 2, 0, 16) "," T("w_k", 2, 2, 16, 32) "," T("w_v", 2, 2, 32, 48)
                      ",\"__metadata__\":{\"positions\":\"learned\"}}", data, 12, 0, EV_ERR_FORMAT,
                      "positions is 'learned'");
    expect_load_error("{" T("w_q", 2, 2, 0, 16) "," T("w_k", 2, 2, 16, 32) "," T("w_v", 2, 2, 32, 48)
                      ",\"__metadata__\":{\"position_scale\":\"big\"}}", data, 12, 0, EV_ERR_FORMAT,
                      "position_scale is 'big'");
    expect_load_error("{" T("w_q", 2, 2, 0, 16) "," T("w_k", 2, 2, 16, 32) "," T("w_v", 2, 2, 32, 48)
                      ",\"__metadata__\":{\"format\":\"embvsattn-cache\"}}", data, 12, 0, EV_ERR_FORMAT,
                      "expected 'embvsattn-head'");
    expect_load_error("{" T("w_q", 2, 2, 0, 16) "," T("w_k", 2, 2, 16, 32) "," T("w_v", 2, 2, 32, 48)
                      ",\"__metadata__\":{\"format_version\":\"2\"}}", data, 12, 0, EV_ERR_FORMAT,
                      "format_version is '2': this embvsattn reads embvsattn-head files of version 1 only");
    expect_load_error("{" T("w_q", 2, 2, 0, 16) "," T("w_k", 2, 2, 16, 32) "," T("w_v", 2, 2, 32, 48)
                      ",\"__metadata__\":{\"seed\":1}}", data, 12, 0, EV_ERR_FORMAT, "__metadata__.seed must be a string");
    expect_load_error("{\"w_q\":", data, 0, 0, EV_ERR_FORMAT, "does not parse");
    float nanv[12] = {0, 0, 0, 0, 0, NAN, 0, 0, 0, 0, 0, 0};
    expect_load_error("{" T("w_q", 2, 2, 0, 16) "," T("w_k", 2, 2, 16, 32) "," T("w_v", 2, 2, 32, 48) "}", nanv, 12,
                      0, EV_ERR_FORMAT, "w_k[0][1] is NaN");
    /* raw byte-level damage */
    snprintf(path, sizeof path, "%s/raw.safetensors", tmpdir);
    static const struct {
        const char *bytes;
        size_t n;
        const char *frag;
    } RAW[] = {{"", 0, "empty file"},
               {"\x02\0\0", 3, "shorter file"},
               {"\xff\xff\xff\xff\0\0\0\0{}", 10, "header length 4294967295 is impossible"},
               {"\x02\0\0\0\0\0\0\0[]", 10, "expected '{'"}};
    for (size_t i = 0; i < sizeof RAW / sizeof RAW[0]; i++) {
        FILE *f = fopen(path, "wb");
        fwrite(RAW[i].bytes, 1, RAW[i].n, f);
        fclose(f);
        h = NULL;
        ev_status st = head_file_load(path, 0, &h, &err);
        CHECK(st == EV_ERR_FORMAT && err.msg && strstr(err.msg, RAW[i].frag), "raw %zu: %s", i,
              err.msg ? err.msg : "ok");
        ev_error_clear(&err);
    }
    CHECK(head_file_load(tmpdir, 0, &h, &err) == EV_ERR_IO && strstr(err.msg, "directory"), "directory");
    ev_error_clear(&err);
    snprintf(path, sizeof path, "%s/missing.safetensors", tmpdir);
    CHECK(head_file_load(path, 0, &h, &err) == EV_ERR_IO && strstr(err.msg, "cannot open"), "missing");
    ev_error_clear(&err);

    /* save → load round trips */
    attn_head *r = NULL, *back = NULL;
    CHECK(attn_head_random(5, 3, 11, &r, &err) == EV_OK, "random");
    r->positions = ATTN_POS_SINUSOIDAL;
    r->position_scale = 0.75f;
    snprintf(path, sizeof path, "%s/r.safetensors", tmpdir);
    CHECK(head_file_save(r, NULL, path, &err) == EV_OK, "save: %s", err.msg);
    CHECK(head_file_load(path, 5, &back, &err) == EV_OK, "load saved: %s", err.msg);
    ev_error_clear(&err);
    if (back) {
        CHECK(heads_equal(r, back), "random head round trip bit for bit");
        CHECK(back->has_position_meta && back->positions == ATTN_POS_SINUSOIDAL && back->position_scale == 0.75f,
              "positions round trip");
        CHECK(strstr(back->description, "random:11") != NULL, "description round trip: %s", back->description);
    }
    attn_head_free(back);
    back = NULL;
    attn_head_free(r);
    attn_head *id = NULL;
    CHECK(attn_head_identity(4, &id, &err) == EV_OK, "identity");
    snprintf(path, sizeof path, "%s/id.safetensors", tmpdir);
    CHECK(head_file_save(id, NULL, path, &err) == EV_OK, "save identity");
    CHECK(head_file_load(path, 4, &back, &err) == EV_OK, "load identity: %s", err.msg);
    ev_error_clear(&err);
    if (back) {
        CHECK(!back->w_o && back->w_q[0] == 1.0f && back->w_q[1] == 0.0f && back->w_v[15] == 1.0f,
              "identity written as I");
        float X[3 * 4] = {1, 2, 3, 4, -1, 0, 1, 0, 0.5f, 0.5f, 0, 2}, A1[9], A2[9], Z1[12], Z2[12];
        CHECK(attn_forward(id, X, NULL, 3, NULL, A1, Z1, &err) == EV_OK &&
                  attn_forward(back, X, NULL, 3, NULL, A2, Z2, &err) == EV_OK &&
                  close_ratio(A1, A2, 9, 1e-6) <= 1 && close_ratio(Z1, Z2, 12, 1e-6) <= 1,
              "explicit identity = implicit identity");
    }
    attn_head_free(back);
    CHECK(head_file_save(id, NULL, "/nonexistent-dir/x.safetensors", &err) == EV_ERR_WRITE, "save into a missing dir");
    ev_error_clear(&err);
    if (access("/dev/full", W_OK) == 0)
        CHECK(head_file_save(id, NULL, "/dev/full", &err) == EV_ERR_WRITE, "save to /dev/full");
    ev_error_clear(&err);
    attn_head_free(id);

    /* --head specs */
    attn_head *s = NULL;
    CHECK(head_file_from_spec("identity", 6, 0, &s, &err) == EV_OK && s->kind == ATTN_HEAD_IDENTITY, "identity spec");
    attn_head_free(s);
    CHECK(head_file_from_spec("random", 6, 4, &s, &err) == EV_OK && s->seed == ATTN_DEFAULT_SEED && s->d_k == 4,
          "random spec");
    attn_head_free(s);
    CHECK(head_file_from_spec("random:18446744073709551615", 6, 0, &s, &err) == EV_OK && s->seed == UINT64_MAX &&
              s->d_k == 6,
          "random:max");
    attn_head_free(s);
    static const char *const BAD[] = {"random:", "random:x", "random:-1", "random:18446744073709551616",
                                      "random:1.5"};
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        s = NULL;
        CHECK(head_file_from_spec(BAD[i], 6, 0, &s, &err) == EV_ERR_USAGE && s == NULL && strstr(err.msg, "seed"),
              "bad spec %s", BAD[i]);
        ev_error_clear(&err);
    }
    snprintf(path, sizeof path, "%s/r.safetensors", tmpdir);
    CHECK(head_file_from_spec(path, 5, 0, &s, &err) == EV_OK && s->kind == ATTN_HEAD_FILE, "file spec");
    attn_head_free(s);
    CHECK(head_file_from_spec(path, 100, 0, &s, &err) == EV_ERR_FORMAT, "file spec, wrong dimension");
    ev_error_clear(&err);
}

/* ---- PyTorch fixtures ------------------------------------------------------------------------------------ */

typedef struct {
    char name[64], head[128], positions[16];
    size_t n, dm, dk, zn; /* zn: floats in Z (n·d_model, or n·d_k for a head without output) */
    float scale;
    int causal;
    unsigned char *mask;
    float *X, *A_ref, *Z_ref, *A_mha, *Z_mha;
} fixture;

static int read_fixture(const char *path, fixture *fx)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int ok = fscanf(f, "embvsattn-attention-fixture 1 name %63s head %127s n %zu d_model %zu d_k %zu positions %15s "
                       "position_scale %f causal %d mask",
                    fx->name, fx->head, &fx->n, &fx->dm, &fx->dk, fx->positions, &fx->scale, &fx->causal) == 8;
    ok = ok && fx->n >= 1 && fx->n <= 64 && fx->dm >= 1 && fx->dm <= 256 && fx->dk >= 1 && fx->dk <= 256;
    if (ok) {
        size_t n = fx->n, dm = fx->dm, zw = fx->dm > fx->dk ? fx->dm : fx->dk; /* room for either Z width */
        fx->mask = malloc(n);
        fx->X = malloc(n * dm * sizeof(float));
        fx->A_ref = malloc(n * n * sizeof(float));
        fx->Z_ref = malloc(n * zw * sizeof(float));
        fx->A_mha = malloc(n * n * sizeof(float));
        fx->Z_mha = malloc(n * zw * sizeof(float));
        for (size_t i = 0; ok && i < n; i++) {
            int m;
            ok = fscanf(f, "%d", &m) == 1;
            fx->mask[i] = (unsigned char)m;
        }
        char end[8] = "";
        /* Z is d_model wide, or d_k wide for a head without w_o whose d_k ≠ d_model (its output A·V): how many
         * floats follow is found from the next label */
        size_t zn = n * dm;
        ok = ok && fixture_read_floats(f, "X", fx->X, n * dm) && fixture_read_floats(f, "A_ref", fx->A_ref, n * n);
        if (ok && fx->dk != dm) { /* try d_k wide first: the next label must follow it */
            long z = ftell(f);
            char word[32];
            if (fixture_read_floats(f, "Z_ref", fx->Z_ref, n * fx->dk) && fscanf(f, "%31s", word) == 1 &&
                strcmp(word, "A_mha") == 0)
                zn = n * fx->dk;
            fseek(f, z, SEEK_SET);
        }
        fx->zn = zn;
        ok = ok && fixture_read_floats(f, "Z_ref", fx->Z_ref, zn) && fixture_read_floats(f, "A_mha", fx->A_mha, n * n) &&
             fixture_read_floats(f, "Z_mha", fx->Z_mha, zn) && fscanf(f, "%7s", end) == 1 && strcmp(end, "end") == 0;
    }
    fclose(f);
    return ok;
}

static void free_fixture(fixture *fx)
{
    free(fx->mask);
    free(fx->X);
    free(fx->A_ref);
    free(fx->Z_ref);
    free(fx->A_mha);
    free(fx->Z_mha);
}

static void test_fixtures(void)
{
    static const char *const CASES[] = {"identity_plain", "identity_oov_causal_pos", "mha_full",
                                        "mha_full_causal_pos", "mha_kdim_dk8", "mha_no_wo", "n1", "all_oov",
                                        "large_scores", "glove_like", "no_wo_dk16"};
    double worst = 0;
    size_t ncases = sizeof CASES / sizeof CASES[0];
    for (size_t c = 0; c < ncases; c++) {
        char path[512];
        fixture fx;
        memset(&fx, 0, sizeof fx);
        snprintf(path, sizeof path, FIX "%s.txt", CASES[c]);
        int ok = read_fixture(path, &fx);
        CHECK(ok, "%s: missing or malformed fixture (run scripts/make-attention-fixtures.py)", path);
        if (!ok) {
            free_fixture(&fx);
            continue;
        }
        attn_head *h = NULL;
        ev_error err = {0};
        ev_status st;
        if (strcmp(fx.head, "identity") == 0) {
            st = attn_head_identity(fx.dm, &h, &err);
        } else {
            snprintf(path, sizeof path, FIX "%s", fx.head);
            st = head_file_load(path, fx.dm, &h, &err);
        }
        CHECK(st == EV_OK, "%s: head: %s", fx.name, err.msg);
        ev_error_clear(&err);
        if (st == EV_OK) {
            attn_opts o = attn_opts_default();
            o.positions = strcmp(fx.positions, "sinusoidal") == 0 ? ATTN_POS_SINUSOIDAL : ATTN_POS_NONE;
            o.position_scale = fx.scale;
            o.causal = fx.causal;
            CHECK(h->d_k == fx.dk, "%s: d_k %zu, fixture %zu", fx.name, h->d_k, fx.dk);
            if (h->kind == ATTN_HEAD_FILE)
                CHECK(h->has_position_meta && h->positions == o.positions && h->position_scale == fx.scale,
                      "%s: the head file's metadata names its positions", fx.name);
            size_t n = fx.n, dm = fx.dm;
            int out = attn_head_has_output(h); /* 0: the weights alone (its A·V, d_k wide, is not computed) */
            CHECK(out == (fx.zn == n * dm), "%s: Z width %zu, the head %s an output in the vectors' space", fx.name,
                  fx.zn / n, out ? "has" : "has no");
            float *A = malloc(n * n * sizeof *A), *Z = malloc(n * dm * sizeof *Z);
            for (int naive = 0; naive < 2; naive++) {
                st = (naive ? attn_forward_naive : attn_forward)(h, fx.X, fx.mask, n, &o, A, out ? Z : NULL, &err);
                CHECK(st == EV_OK, "%s: forward: %s", fx.name, err.msg);
                ev_error_clear(&err);
                if (st != EV_OK)
                    continue;
                const char *impl = naive ? "naive" : "sgemm";
                double r[4] = {close_ratio(A, fx.A_ref, n * n, TOL), out ? close_ratio(Z, fx.Z_ref, n * dm, TOL) : 0,
                               close_ratio(A, fx.A_mha, n * n, TOL), out ? close_ratio(Z, fx.Z_mha, n * dm, TOL) : 0};
                static const char *const WHAT[4] = {"A vs torch.softmax", "Z vs torch.softmax",
                                                    "A vs nn.MultiheadAttention", "Z vs nn.MultiheadAttention"};
                for (int i = 0; i < 4; i++) {
                    CHECK(r[i] <= 1.0, "%s (%s): %s off by %.3g × the 1e-5 tolerance", fx.name, impl, WHAT[i], r[i]);
                    if (r[i] > worst)
                        worst = r[i];
                }
                CHECK(all_finite(A, n * n) && (!out || all_finite(Z, n * dm)), "%s: NaN", fx.name);
                check_weights(A, n, fx.mask, fx.causal, fx.name);
            }
            free(A);
            free(Z);
        }
        attn_head_free(h);
        free_fixture(&fx);
    }
    printf("torch fixtures: %zu cases, sgemm and naive, worst error %.3g × the 1e-5 relative tolerance\n", ncases,
           worst);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    test_semantics();
    test_twins();
    test_prng_pin();
    test_head_files();
    test_fixtures();
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return check_done("test_attention");
}
