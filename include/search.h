/* search (prefix sim_, for cosine similarity) — cosine top-k over the vector store (BLAS and gemm_nt, batched),
 * the neighbour lists stored in the cache, analogies and doesnt-match, with the arithmetic of gensim 4.2 so that
 * rankings agree with it; plus plain-C naive twins of the top-k and the analogy for the tests. The evaluations built
 * on it are eval_gensim.h.
 *
 * Scores follow gensim's KeyedVectors: a row's norm is the float32 L2 norm numpy computes (squares rounded to float,
 * numpy's pairwise summation; sim_norm — not the store's double-precision norms, which differ in the last bit for a
 * third of GloVe's rows), a query is made unit length as matutils.unitvec does (snrm2, then a float scale), and
 * the cosine of query q with row x is dot(x, q) / norm(x) in float32. A zero row or a zero query scores 0 (never
 * NaN). Top-k lists are ordered by score, descending, ties by the lower row first.
 *
 * Nothing here prints or exits: functions return an ev_status and fill an ev_error. Nothing keeps global state.
 */
#ifndef SEARCH_H
#define SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "ev_error.h"
#include "store.h"

/* One answer of a top-k: a row of the store (-1: no answer in that slot) and its score. */
typedef struct {
    long row;
    float score;
} sim_hit;

/* Progress callback for long work (same signature as loader_progress_fn): fraction in [0, 1]. May be NULL. */
typedef void (*sim_progress_fn)(void *ctx, const char *what, double fraction);

/* How an analogy "a is to b as c is to ?" is scored (Levy & Goldberg 2014). */
typedef enum {
    SIM_ADD = 0, /* 3CosAdd: cos(x, unit(b̂ - â + ĉ)), gensim most_similar(positive=[b, c], negative=[a]) */
    SIM_MUL = 1  /* 3CosMul: p(x,b)·p(x,c) / (p(x,a) + 1e-6), p = (1 + cos) / 2, gensim most_similar_cosmul */
} sim_method;

/* ---- vector arithmetic as gensim/numpy do it ------------------------------------------------------------ */

/* The L2 norm numpy.linalg.norm gives for a float32 vector v (d): squares rounded to float32, summed with numpy's
 * pairwise summation (8 accumulators, blocks of 128), sqrtf. */
float sim_norm(const float *v /*(d)*/, size_t d);

/* gensim matutils.unitvec: out = v · (float)(1 / snrm2(v)); a zero vector is copied unchanged. out may equal v. */
void sim_unitvec(const float *v /*(d)*/, size_t d, float *out /*(d)*/);

/* The (not yet unit) query gensim's get_mean_vector builds from rows with weights (+1 positive, -1 negative):
 * the sum of weight · row/norm(row), in the given order, divided by the sum of |weight|. Rows must be valid.
 * sim_topk makes it unit length. */
void sim_mean_of_rows(const store *s, const long *rows /*(n)*/, const float *weights /*(n)*/, size_t n,
                      float *out /*(d)*/);

/* The query of `neighbors WORD` for vocabulary row `row` (gensim most_similar(positive=[word])): the mean of that one
 * row with weight 1, i.e. row/norm(row). The matrix pass, the stored neighbour lists and their re-scoring all start
 * from it. */
void sim_word_query(const store *s, long row, float *out /*(d)*/);

/* gensim similarity(w1, w2): dot(unitvec(row a), unitvec(row b)), float32 (BLAS sdot). 0 for a zero row. */
float sim_similarity(const store *s, size_t a, size_t b);

/* gensim get_vector(key, norm=True): out = row / sim_norm(row) in float32; a zero row gives zeros (gensim: NaN).
 * row must be valid. */
void sim_row_unit(const store *s, size_t row, float *out /*(d)*/);

/* The rows a search with restrict_n considers: the first restrict_n, or all of the store when restrict_n is 0 or
 * more than its size (gensim's restrict_vocab). */
size_t sim_rows_considered(const store *s, size_t restrict_n);

/* 1 when a is a worse answer than b: a lower score, or the same score and a higher row (the order of every top-k
 * list here); 0 otherwise. */
int sim_hit_worse(sim_hit a, sim_hit b);

/* ---- top-k --------------------------------------------------------------------------------------------- */

/* Neighbours of m arbitrary query vectors (the attention module asks this for contextual vectors).
 * queries (m, d) need not be unit length (each is made unit as sim_unitvec does); candidates are the first
 * restrict_n rows (0 or more than the store: all); exclude (m, n_exclude) lists rows to leave out per query
 * (-1 = none; may be NULL when n_exclude is 0). Writes out (m, k): each query's k best rows by cosine, best first,
 * ties by the lower row; slots beyond the number of candidates get row -1, score 0.
 * One pass over the matrix in blocks of rows: one gemm_nt per block for all m queries (one OpenBLAS sgemv when
 * m = 1, which reproduces gensim's dot(vectors, mean) bit for bit), score tile kept in cache, a k-bounded heap per
 * query; for m > 1 the blocks are shared by worker threads (parallel_blocks) when the work is large enough. Scores
 * of a query may differ in the last bit with the batch it is in (sgemv or gemm_nt), ~1e-7; answers do not depend
 * on the number of threads.
 * Errors: EV_ERR_USAGE (k = 0, a non-finite query value), EV_ERR_NOMEM. */
ev_status sim_topk(const store *s, const float *queries /*(m,d)*/, size_t m, size_t k, size_t restrict_n,
                   const long *exclude /*(m,n_exclude)*/, size_t n_exclude, sim_hit *out /*(m,k)*/, ev_error *err);

/* The naive twin of sim_topk for the tests: same contract, plain C loops (dot products in sequential float32),
 * no BLAS, one row at a time. Agrees with sim_topk to ~1e-6 in scores (and in rows unless two scores are that
 * close). */
ev_status sim_topk_naive(const store *s, const float *queries /*(m,d)*/, size_t m, size_t k, size_t restrict_n,
                         const long *exclude /*(m,n_exclude)*/, size_t n_exclude, sim_hit *out /*(m,k)*/,
                         ev_error *err);

/* ---- neighbour lists stored in the cache (`embvsattn index`) ----------------------------------------------- */

/* Builds the lists store.h describes for the first n_words rows (at most V): each row's K best rows by cosine over
 * the whole vocabulary, itself excluded, as sim_topk answers the query of `neighbors WORD` (batches of 256 words
 * per pass). On success *rows and *scores (n × K, malloc'd) are the caller's. Progress as fractions of the words.
 * Errors: EV_ERR_USAGE (no words or K = 0), EV_ERR_NOMEM. */
ev_status sim_neighbor_lists_build(const store *s, size_t n_words, size_t K, sim_progress_fn progress, void *ctx,
                                   int32_t **rows, float **scores, ev_error *err);

/* Answers `neighbors` of vocabulary row `row` (k answers among the first restrict_n rows, the row excluded) from
 * the store's lists when they can answer exactly: the row has a list, k ≤ K, and at least k of its entries lie
 * within restrict_n with the k-th clearly (1e-5) above the list's last score, so no unlisted row can come before
 * it. The candidates are re-scored as the one-word matrix pass scores them (sgemv), so words and scores are those
 * of sim_topk for that query (scores to the last bit, but for rows a BLAS kernel computes in its tail code: ~1 ulp).
 * Returns 1 with out (k) filled, or 0 (no list, or it cannot answer, or its entries do not fit this store; out
 * untouched): the caller then searches the matrix. */
int sim_listed_neighbors(const store *s, long row, size_t k, size_t restrict_n, sim_hit *out /*(k)*/);

/* ---- word queries -------------------------------------------------------------------------------------- */

/* gensim most_similar(positive=[...], negative=[...], topn=k, restrict_vocab=restrict_n) (SIM_ADD) or
 * most_similar_cosmul(positive, negative) (SIM_MUL) over vocabulary rows: rows (n) with weights (n), +1 for a
 * positive word and -1 for a negative one, in the order gensim is given them (positives first, then negatives,
 * for results equal to gensim's to the last bit). SIM_ADD scores cos(x, unit(mean of weight · unit(row))) as
 * sim_mean_of_rows; SIM_MUL the product of the positive terms' (1 + cos) / 2 over the product of the negative ones'
 * plus 1e-6 (restrict_n applies to both; gensim ignores restrict_vocab in most_similar_cosmul). Every input row is
 * left out of the answers; k answers go to out (k), -1 rows in the slots beyond the candidates.
 * Errors: EV_ERR_USAGE (k = 0, n = 0, no positive word with SIM_MUL, a row out of range), EV_ERR_NOMEM. */
ev_status sim_most_similar(const store *s, const long *rows /*(n)*/, const float *weights /*(n)*/, size_t n,
                           sim_method method, size_t k, size_t restrict_n, sim_hit *out /*(k)*/, ev_error *err);

/* The naive twin of sim_most_similar (plain C loops, no BLAS), for the tests. */
ev_status sim_most_similar_naive(const store *s, const long *rows /*(n)*/, const float *weights /*(n)*/, size_t n,
                                 sim_method method, size_t k, size_t restrict_n, sim_hit *out /*(k)*/,
                                 ev_error *err);

/* "a is to b as c is to ?": the k best rows (out (k)) among the first restrict_n (0 = all) by method, rows a, b
 * and c excluded. SIM_ADD is gensim most_similar(positive=[b, c], negative=[a], restrict_vocab=restrict_n);
 * SIM_MUL is most_similar_cosmul(positive=[b, c], negative=[a]) (gensim itself ignores restrict_vocab there).
 * Errors: EV_ERR_USAGE (k = 0, a row out of range), EV_ERR_NOMEM. */
ev_status sim_analogy(const store *s, long a, long b, long c, sim_method method, size_t k, size_t restrict_n,
                      sim_hit *out /*(k)*/, ev_error *err);

/* The naive twin of sim_analogy (plain C loops, no BLAS), for the tests. */
ev_status sim_analogy_naive(const store *s, long a, long b, long c, sim_method method, size_t k,
                            size_t restrict_n, sim_hit *out /*(k)*/, ev_error *err);

/* gensim doesnt_match / rank_by_centrality: the cosine of each row's unit vector with the unit mean of them all
 * (scores (n)), and order (n): indexes into rows, most central first — gensim sorts (cosine, word) descending,
 * so order[n-1] is the one that does not match. n ≥ 1. Errors: EV_ERR_USAGE (n = 0), EV_ERR_NOMEM. */
ev_status sim_doesnt_match(const store *s, const long *rows /*(n)*/, size_t n, float *scores /*(n)*/,
                           size_t *order /*(n)*/, ev_error *err);

#endif
