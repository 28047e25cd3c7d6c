/* similarity — cosine top-k over the vector store (BLAS, batched), analogies, doesnt-match, and the two standard
 * evaluations (word analogies, word-pair correlations), with the arithmetic of gensim 4.2 so that rankings and
 * evaluation figures agree with it; plus a plain-C naive twin of the top-k for the tests.
 *
 * Scores follow gensim's KeyedVectors: a row's norm is the float32 L2 norm numpy computes (squares rounded to float,
 * numpy's pairwise summation; sim_norm — not the store's double-precision norms, which differ in the last bit for a
 * third of GloVe's rows), a query is made unit length as matutils.unitvec does (snrm2, then a float scale), and
 * the cosine of query q with row x is dot(x, q) / norm(x) in float32. A zero row or a zero query scores 0 (never
 * NaN). Top-k lists are ordered by score, descending, ties by the lower row first.
 *
 * Nothing here prints or exits: functions return an ev_status and fill an ev_error. Nothing keeps global state,
 * except that sim_topk (m > 1) and sim_eval_analogies run OpenBLAS single-threaded inside their own worker threads
 * and restore its thread count afterwards.
 */
#ifndef SIMILARITY_H
#define SIMILARITY_H

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

/* ---- top-k --------------------------------------------------------------------------------------------- */

/* Neighbours of m arbitrary query vectors (the attention module asks this for contextual vectors).
 * queries (m, d) need not be unit length (each is made unit as sim_unitvec does); candidates are the first
 * restrict_n rows (0 or more than the store: all); exclude (m, n_exclude) lists rows to leave out per query
 * (-1 = none; may be NULL when n_exclude is 0). Writes out (m, k): each query's k best rows by cosine, best first,
 * ties by the lower row; slots beyond the number of candidates get row -1, score 0.
 * One pass over the matrix in blocks of rows: one sgemm per block for all m queries (one sgemv when m = 1, which
 * reproduces gensim's dot(vectors, mean) bit for bit), score tile kept in cache, a k-bounded heap per query; for
 * m > 1 the blocks are shared by worker threads, OpenBLAS running single-threaded meanwhile (its thread count is
 * restored on return: do not run other BLAS work concurrently). Scores of a query may differ in the last bit with
 * the batch it is in (BLAS kernels), ~1e-7; answers do not depend on the number of threads.
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
 * of sim_topk for that query (scores to the last bit, but for rows a BLAS kernel computes in its tail code: ~1 ulp). Returns 1 with out (k) filled, or 0 (no list, or it cannot answer, or its entries do
 * not fit this store; out untouched): the caller then searches the matrix. */
int sim_listed_neighbors(const store *s, long row, size_t k, size_t restrict_n, sim_hit *out /*(k)*/);

/* ---- word queries -------------------------------------------------------------------------------------- */

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

/* ---- evaluations --------------------------------------------------------------------------------------- */

typedef struct {
    size_t restrict_n;        /* rows considered: the first restrict_n (0 = gensim's default, 300000) */
    sim_method method;        /* SIM_ADD as gensim; SIM_MUL scores by 3CosMul instead (not in gensim) */
    int threads;              /* worker threads; 0 = one per core (at most 8) */
    sim_progress_fn progress; /* may be NULL */
    void *progress_ctx;
} sim_eval_opts;

typedef struct {
    char *name;         /* the section's name (": NAME" line) */
    size_t correct;     /* questions answered correctly */
    size_t total;       /* questions answered (OOV ones excluded) */
} sim_section;

typedef struct {
    size_t restrict_n;        /* rows actually considered (≤ store size) */
    sim_section *sections;    /* in file order (gensim's list, without its "Total accuracy") */
    size_t n_sections;
    size_t correct, total;    /* over all sections */
    size_t sem_correct, sem_total, syn_correct, syn_total; /* the first five sections / the rest */
    size_t questions;         /* lines of four words (gensim's quadruplets_no) */
    size_t oov;               /* questions skipped: a word outside the first restrict_n rows */
    size_t invalid;           /* lines that were neither a section nor four words (skipped, as gensim) */
    char **oov_words;         /* distinct words (upper-cased, as compared) outside the first restrict_n rows */
    size_t n_oov_words;
    size_t distinct_words;    /* distinct rows among the answered questions' a, b, c (the sgemm's size) */
    size_t rechecked;         /* near-ties re-scored exactly as gensim does */
} sim_analogy_eval;

/* gensim 4.2 evaluate_word_analogies(path, restrict_vocab, case_insensitive=True) on the file at path (lines
 * ": SECTION" and "a b c expected", UTF-8): a question counts as correct when the first of gensim's top-5 answers
 * (rows a, b, c excluded) whose upper-case form is not one of the three inputs equals the expected word.
 * Computed as one sgemm of the distinct question words against the vocabulary in cache-sized blocks and a scan of
 * sums (or products) of three score rows per question; answers whose margin is within rounding are re-scored with
 * gensim's own arithmetic. *out is filled on success (release with sim_analogy_eval_free).
 * Errors: EV_ERR_IO (cannot read), EV_ERR_FORMAT ("FILE:LINE: expected …, found …": invalid UTF-8, a question
 * before the first section, no questions at all), EV_ERR_NOMEM. */
ev_status sim_eval_analogies(const store *s, const char *path, const sim_eval_opts *opts, sim_analogy_eval *out,
                             ev_error *err);

/* Releases what sim_eval_analogies allocated in e and zeroes it. NULL-safe. */
void sim_analogy_eval_free(sim_analogy_eval *e);

typedef struct {
    size_t line;        /* 1-based line number */
    char *a, *b;        /* the two words as written */
} sim_pair_oov;

typedef struct {
    size_t restrict_n;    /* rows considered */
    size_t pairs;         /* pairs scored */
    size_t oov;           /* pairs skipped: a word outside the first restrict_n rows */
    size_t invalid;       /* lines skipped: not WORD<TAB>WORD<TAB>NUMBER (comments '#' are not counted) */
    double pearson;       /* Pearson r of the gold scores with the cosines (NaN when undefined) */
    double spearman;      /* Spearman rho, ties as average ranks (scipy.stats.spearmanr) */
    double oov_ratio;     /* 100 · oov / (pairs + oov) */
    sim_pair_oov *oov_pairs; /* the skipped pairs (n = oov) */
} sim_pairs_eval;

/* gensim 4.2 evaluate_word_pairs(path, delimiter='\t', restrict_vocab, case_insensitive=True): lines
 * "WORD1<TAB>WORD2<TAB>SCORE" (universal newlines; '#' comments; other lines skipped), cosine as sim_similarity,
 * Pearson and Spearman as scipy. restrict_n 0 = 300000. *out is filled on success (release with
 * sim_pairs_eval_free). Errors: EV_ERR_IO, EV_ERR_FORMAT (invalid UTF-8, no valid line), EV_ERR_NOTFOUND (every
 * pair out of vocabulary), EV_ERR_NOMEM. */
ev_status sim_eval_pairs(const store *s, const char *path, size_t restrict_n, sim_pairs_eval *out, ev_error *err);

/* Releases what sim_eval_pairs allocated in e and zeroes it. NULL-safe. */
void sim_pairs_eval_free(sim_pairs_eval *e);

#endif
