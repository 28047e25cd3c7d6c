/* fuzz_head — the head file reader (head_file_load, path-based: the input is written to a memfd). A head that loads
 * must run a forward pass on three tokens (plain, and with positions, causal mask and a masked key) that either
 * succeeds with finite weights summing to 1 or fails with a message, and survive a save/load round trip (weights,
 * training state, candidates, fingerprint). */
#include "fuzz_common.h" /* first: it sets _GNU_SOURCE */

#include <math.h>

#include "attention.h"
#include "head_file.h"

static void forward(const attn_head *h)
{
    size_t n = 3, d = h->d_model;
    float *X = malloc(n * d * sizeof *X), *A = malloc(n * n * sizeof *A), *Z = malloc(n * d * sizeof *Z);
    FUZZ_CHECK(X && A && Z, "out of memory");
    for (size_t i = 0; i < n * d; i++)
        X[i] = (float)((int)(i % 7) - 3) * 0.5f;
    unsigned char mask[3] = {0, 1, 0};
    for (int variant = 0; variant < 2; variant++) {
        attn_opts o = attn_opts_default();
        if (variant) {
            o.positions = ATTN_POS_SINUSOIDAL;
            o.causal = 1;
        }
        ev_error err = {0};
        ev_status st = attn_forward(h, X, variant ? mask : NULL, n, &o, A, Z, &err);
        if (st == EV_OK) {
            for (size_t i = 0; i < n; i++) {
                double sum = 0;
                for (size_t j = 0; j < n; j++) {
                    FUZZ_CHECK(isfinite(A[i * n + j]) && A[i * n + j] >= 0, "A[%zu][%zu] = %g", i, j,
                               (double)A[i * n + j]);
                    sum += A[i * n + j];
                }
                FUZZ_CHECK(fabs(sum - 1) < 1e-4 || sum == 0, "row %zu sums to %g", i, sum);
            }
            for (size_t i = 0; i < n * d; i++)
                FUZZ_CHECK(isfinite(Z[i]), "Z[%zu] = %g", i, (double)Z[i]);
        } else {
            fuzz_check_error(st, &err, "attn_forward");
        }
        ev_error_clear(&err);
    }
    free(X);
    free(A);
    free(Z);
}

static void roundtrip(const attn_head *h)
{
    const char *path = fuzz_scratch("head.safetensors");
    ev_error err = {0};
    FUZZ_CHECK(head_file_save(h, NULL, path, &err) == EV_OK, "head_file_save: %s", err.msg);
    attn_head *g = NULL;
    FUZZ_CHECK(head_file_load(path, h->d_model, &g, &err) == EV_OK, "reloading the saved head: %s", err.msg);
    size_t qk = h->d_model * h->d_k * sizeof(float);
    FUZZ_CHECK(g->d_model == h->d_model && g->d_k == h->d_k, "shape changed");
    FUZZ_CHECK(!memcmp(g->w_q, h->w_q, qk) && !memcmp(g->w_k, h->w_k, qk) && !memcmp(g->w_v, h->w_v, qk),
               "weights changed");
    FUZZ_CHECK(!g->w_o == !h->w_o && (!h->w_o || !memcmp(g->w_o, h->w_o, qk)), "w_o changed");
    FUZZ_CHECK(g->positions == h->positions, "positions changed");
    FUZZ_CHECK(!g->train_mask == !h->train_mask &&
                   (!h->train_mask || !memcmp(g->train_mask, h->train_mask, h->d_model * sizeof(float))),
               "train_mask changed");
    FUZZ_CHECK(g->candidates == h->candidates && !g->train_bias == !h->train_bias &&
                   (!h->train_bias || !memcmp(g->train_bias, h->train_bias, h->candidates * sizeof(float))),
               "candidates or train_bias changed");
    FUZZ_CHECK(g->has_fingerprint == h->has_fingerprint && g->fingerprint == h->fingerprint, "fingerprint changed");
    attn_head_free(g);
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    attn_head *h = NULL;
    ev_error err = {0};
    ev_status st = head_file_load(path, 0, &h, &err);
    if (st == EV_OK) {
        FUZZ_CHECK(h && h->w_q && h->w_k && h->w_v && h->d_model >= 1 && h->d_k >= 1, "incomplete head");
        FUZZ_CHECK(h->w_o || h->d_k == h->d_model, "no w_o and d_k != d_model");
        forward(h);
        roundtrip(h);
        attn_head_free(h);
    } else {
        FUZZ_CHECK(h == NULL, "a head on failure");
        fuzz_check_error(st, &err, "head_file_load");
    }
    ev_error_clear(&err);
    return 0;
}
