/* eval_gensim — the two standard evaluations of word vectors, computed as gensim 4.2 computes them so that the figures
 * agree with it: word analogies (questions-words.txt: "a is to b as c is to d", accuracy per section) and word-pair
 * correlations (WordSim-353: Pearson and Spearman of human scores with cosines). Words are compared case-insensitively
 * as gensim does (Python's str.upper(), pytext.h); cosines and answers follow search.h's gensim arithmetic.
 *
 * The module is three files, one job each: eval_analogies.c (the analogy evaluation: a blocked sgemm of the question
 * words against the vocabulary and SIMD scans of three score rows per question), eval_pairs.c (the pair evaluation
 * and its statistics) and eval_vocab.c (the question words resolved to rows, shared by both). Functions return an
 * ev_status and fill an ev_error; nothing prints or exits. eval_analogies runs OpenBLAS single-threaded inside its
 * own worker threads and restores OpenBLAS's thread count afterwards.
 */
#ifndef EVAL_GENSIM_H
#define EVAL_GENSIM_H

#include <stddef.h>

#include "ev_error.h"
#include "search.h"
#include "store.h"

#define EVAL_DEFAULT_RESTRICT 300000 /* gensim's restrict_vocab default for both evaluations */

typedef struct {
    size_t restrict_n;        /* rows considered: the first restrict_n (0 = EVAL_DEFAULT_RESTRICT, gensim's) */
    sim_method method;        /* SIM_ADD as gensim; SIM_MUL scores by 3CosMul instead (not in gensim) */
    int threads;              /* workers; 0 = parallel_default_threads(); at most PARALLEL_DEFAULT_MAX_THREADS */
    sim_progress_fn progress; /* may be NULL */
    void *progress_ctx;
    int details;              /* 1: fill eval_analogies_result.details, one entry per question */
} eval_analogies_opts;

/* One question of the file, as answered (eval_analogies with opts->details). */
typedef struct {
    size_t line;        /* 1-based line in the file */
    size_t section;     /* index into sections */
    char *words[4];     /* a, b, c, expected as written (one allocation: words[0] owns it) */
    long prediction;    /* the row gensim's evaluation takes as the answer; -1: none, or the question is OOV */
    int correct;        /* 1: prediction is the expected word (case-insensitively) */
    int oov;            /* 1: a word outside the first restrict_n rows: not asked (gensim skips it) */
} eval_question;

typedef struct {
    char *name;         /* the section's name (": NAME" line) */
    size_t correct;     /* questions answered correctly */
    size_t total;       /* questions answered (OOV ones excluded) */
} eval_section;

typedef struct {
    size_t restrict_n;        /* rows actually considered (≤ store size) */
    eval_section *sections;   /* in file order (gensim's list, without its "Total accuracy") */
    size_t n_sections;
    size_t correct, total;    /* over all sections */
    size_t sem_correct, sem_total, syn_correct, syn_total; /* the first five sections / the rest (see has_split) */
    size_t questions;         /* lines of four words (gensim's quadruplets_no) */
    size_t oov;               /* questions skipped: a word outside the first restrict_n rows */
    size_t invalid;           /* lines that were neither a section nor four words (skipped, as gensim) */
    char **oov_words;         /* distinct words (upper-cased, as compared) outside the first restrict_n rows */
    size_t n_oov_words;
    size_t distinct_words;    /* distinct rows among the answered questions' a, b, c (the sgemm's size) */
    size_t rechecked;         /* near-ties re-scored exactly as gensim does */
    int has_split;            /* 1: the sections are questions-words': more than five, the first five not named gram*,
                               * every later one named gram* — then sem_* and syn_* mean semantic and syntactic */
    eval_question *details;   /* (questions) in file order, with opts->details; else NULL */
} eval_analogies_result;

/* gensim 4.2 evaluate_word_analogies(path, restrict_vocab, case_insensitive=True) on the file at path (lines
 * ": SECTION" and "a b c expected", UTF-8): a question counts as correct when the first of gensim's top-5 answers
 * (rows a, b, c excluded) whose upper-case form is not one of the three inputs equals the expected word.
 * Computed as one sgemm of the distinct question words against the vocabulary in cache-sized blocks and a scan of
 * sums (or products) of three score rows per question; answers whose margin is within rounding are re-scored with
 * gensim's own arithmetic. opts may be NULL (every default). *out is filled on success (release with
 * eval_analogies_free), zeroed on failure. Errors: EV_ERR_IO (cannot read), EV_ERR_FORMAT ("FILE:LINE: expected …,
 * found …": invalid UTF-8, a question before the first section, no questions at all), EV_ERR_NOMEM. */
ev_status eval_analogies(const store *s, const char *path, const eval_analogies_opts *opts,
                         eval_analogies_result *out, ev_error *err);

/* Releases what eval_analogies allocated in e and zeroes it. NULL-safe. */
void eval_analogies_free(eval_analogies_result *e);

typedef struct {
    size_t line;        /* 1-based line number */
    char *a, *b;        /* the two words as written */
} eval_pair_oov;

/* One valid line of a word-pairs file, as scored. */
typedef struct {
    size_t line;        /* 1-based line number */
    char *a, *b;        /* the two words as written */
    double gold;        /* the human score (NaN: a two-column line, read by eval_pairs_ex with unscored) */
    float cosine;       /* sim_similarity of the two (0 when oov) */
    int oov;            /* 1: a word outside the first restrict_n rows (not scored) */
} eval_pair_detail;

typedef struct {
    size_t restrict_n;    /* rows considered */
    size_t pairs;         /* pairs scored */
    size_t oov;           /* pairs skipped: a word outside the first restrict_n rows */
    size_t invalid;       /* lines skipped: not WORD<TAB>WORD<TAB>NUMBER (comments '#' are not counted) */
    size_t unscored;      /* eval_pairs_ex with unscored: two-column lines, in details only (not in the statistics) */
    double pearson;       /* Pearson r of the gold scores with the cosines (NaN when undefined) */
    double spearman;      /* Spearman rho, ties as average ranks (scipy.stats.spearmanr) */
    double oov_ratio;     /* 100 · oov / (pairs + oov) */
    eval_pair_oov *oov_pairs; /* (oov) the skipped pairs */
    eval_pair_detail *details; /* (n_details = pairs + oov) every valid line in file order */
    size_t n_details;
} eval_pairs_result;

/* gensim 4.2 evaluate_word_pairs(path, delimiter='\t', restrict_vocab, case_insensitive=True): lines
 * "WORD1<TAB>WORD2<TAB>SCORE" (universal newlines; '#' comments; other lines skipped), cosine as sim_similarity,
 * Pearson and Spearman as scipy. restrict_n 0 = EVAL_DEFAULT_RESTRICT. *out is filled on success (release with
 * eval_pairs_free), zeroed on failure. Errors: EV_ERR_IO, EV_ERR_FORMAT (invalid UTF-8, no valid line),
 * EV_ERR_NOTFOUND (every pair out of vocabulary), EV_ERR_NOMEM. */
ev_status eval_pairs(const store *s, const char *path, size_t restrict_n, eval_pairs_result *out, ev_error *err);

/* eval_pairs, and with unscored = 1 also the lines "WORD1<TAB>WORD2" (no score): they are in details (gold NaN, the
 * cosine computed when both words are found) and counted in unscored, never in pairs, oov or the correlations. A
 * file of such lines alone is no error (pairs 0, Pearson and Spearman NaN). */
ev_status eval_pairs_ex(const store *s, const char *path, size_t restrict_n, int unscored, eval_pairs_result *out,
                        ev_error *err);

/* Releases what eval_pairs allocated in e and zeroes it. NULL-safe. */
void eval_pairs_free(eval_pairs_result *e);

#endif
