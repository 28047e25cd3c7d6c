/* search_lists — the neighbour lists stored in the cache (`embvsattn index`): building them with sim_topk, and
 * answering a word's query from its list when the list is sure to hold the answer, re-scored as the live search
 * scores (include/search.h: sim_neighbor_lists_build, sim_listed_neighbors). */
#define _POSIX_C_SOURCE 200809L
#include "search.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "search_internal.h"

/* How far the k-th listed score must lie above the list's last one for the list to answer a query alone. The lists
 * are scored by batched gemm_nt, a live search of one word by sgemv: the two differ by a few 1e-7, so a row left off
 * the list cannot overtake the k-th with this margin. */
#define LIST_MARGIN 1e-5f
#define LIST_BATCH 256 /* words per sim_topk pass while building the lists */

ev_status sim_neighbor_lists_build(const store *s, size_t n_words, size_t K, sim_progress_fn progress, void *ctx,
                                   int32_t **rows_out, float **scores_out, ev_error *err)
{
    size_t V = store_size(s), d = store_dim(s), n = n_words < V ? n_words : V;
    *rows_out = NULL;
    *scores_out = NULL;
    if (n == 0 || K == 0)
        return ev_fail(err, EV_ERR_USAGE, "neighbour lists: expected at least 1 word and 1 neighbour, found %zu and %zu",
                       n, K);
    if (V > (size_t)INT32_MAX || K > SIZE_MAX / sizeof(sim_hit) / LIST_BATCH || n > SIZE_MAX / sizeof(float) / K)
        return ev_fail(err, EV_ERR_NOMEM, "neighbour lists: %zu words × %zu neighbours are too many", n, K);
    float *Q = malloc(LIST_BATCH * d * sizeof *Q);
    long *ex = malloc(LIST_BATCH * sizeof *ex);
    sim_hit *h = malloc(LIST_BATCH * K * sizeof *h);
    int32_t *rows = malloc(n * K * sizeof *rows);
    float *scores = malloc(n * K * sizeof *scores);
    ev_status st = EV_OK;
    if (!Q || !ex || !h || !rows || !scores) {
        st = ev_fail(err, EV_ERR_NOMEM, "neighbour lists: out of memory for %zu words × %zu neighbours", n, K);
        goto out;
    }
    for (size_t lo = 0; lo < n; lo += LIST_BATCH) {
        size_t nb = n - lo < LIST_BATCH ? n - lo : LIST_BATCH;
        for (size_t i = 0; i < nb; i++) {
            ex[i] = (long)(lo + i);
            sim_word_query(s, ex[i], Q + i * d);
        }
        if ((st = sim_topk(s, Q, nb, K, 0, ex, 1, h, err)) != EV_OK)
            goto out;
        for (size_t i = 0; i < nb * K; i++) {
            rows[lo * K + i] = (int32_t)h[i].row;
            scores[lo * K + i] = h[i].score;
        }
        if (progress)
            progress(ctx, "neighbour lists", (double)(lo + nb) / (double)n);
    }
    *rows_out = rows;
    *scores_out = scores;
    rows = NULL;
    scores = NULL;
out:
    free(Q);
    free(ex);
    free(h);
    free(rows);
    free(scores);
    return st;
}

int sim_listed_neighbors(const store *s, long row, size_t k, size_t restrict_n, sim_hit *out)
{
    size_t K, V = store_size(s), d = store_dim(s), R = sim_rows_considered(s, restrict_n);
    const int32_t *lr;
    const float *ls;
    size_t n = store_neighbor_lists(s, &K, &lr, &ls);
    if (row < 0 || (size_t)row >= n || k == 0 || k > K || d > INT_MAX || K > INT_MAX - 4)
        return 0;
    lr += (size_t)row * K;
    ls += (size_t)row * K;
    /* The candidates: the listed rows among the first R, in list order. A list that ends (-1) early must hold
     * every other row; a list that does not is trusted only if its k-th candidate clears its last entry. */
    size_t c = 0, kth = 0, listed = 0;
    for (; listed < K && lr[listed] >= 0; listed++) {
        int32_t r = lr[listed];
        if ((size_t)r >= V || r == row || !isfinite(ls[listed]) || (listed && ls[listed] > ls[listed - 1]))
            return 0; /* not a list of this store: let the caller search */
        if ((size_t)r < R && c++ < k)
            kth = listed;
    }
    if (listed < K ? listed != V - 1 : !(c >= k && ls[kth] - ls[K - 1] > LIST_MARGIN))
        return 0;
    /* Re-score the candidates as a live search of one word does (sgemv over rows gathered in groups of 4, each
     * row's dot with the unit query, divided by numpy's norm of the row), so that answers and scores are the
     * ones the matrix pass gives; then order them (score, then lower row). */
    size_t cp = (c + 3) & ~(size_t)3;
    float *G = calloc(cp * d + 2 * d + cp, sizeof *G);
    sim_hit *hit = malloc((c ? c : 1) * sizeof *hit);
    if (!G || !hit) {
        free(G);
        free(hit);
        return 0;
    }
    float *q = G + cp * d, *u = q + d, *y = u + d;
    for (size_t j = 0, i = 0; j < listed; j++)
        if ((size_t)lr[j] < R)
            memcpy(G + i++ * d, store_row(s, (size_t)lr[j]), d * sizeof *G);
    sim_word_query(s, row, q);
    sim_unitvec(q, d, u);
    if (cp)
        cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)cp, (int)d, 1.f, G, (int)d, u, 1, 0.f, y, 1);
    for (size_t j = 0, i = 0; j < listed; j++)
        if ((size_t)lr[j] < R) {
            sim_hit x = {lr[j], sim_cos_from_dot(y[i], sim_norm(store_row(s, (size_t)lr[j]), d))};
            size_t p = i++;
            for (; p > 0 && sim_hit_worse(hit[p - 1], x); p--)
                hit[p] = hit[p - 1];
            hit[p] = x;
        }
    for (size_t j = 0; j < k; j++)
        out[j] = j < c ? hit[j] : (sim_hit){-1, 0.f};
    free(G);
    free(hit);
    return 1;
}
