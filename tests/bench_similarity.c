/* bench_similarity — the floors the similarity benchmarks are measured against, and the in-process timings.
 * Built and run by `make bench` (scripts/bench.sh, sections 3); not a test.
 *
 *   bench_similarity CACHE QUESTIONS [THREADS]
 *   bench_similarity --touch CACHE      opens the cache, maps the matrix's pages in one go (MADV_POPULATE_READ, as
 *                                       the neighbors command does) and reads one float of every cache line, nothing
 *                                       else: the floor of any whole process that scans the vocabulary
 *
 * Prints "key value" lines:
 *   bandwidth_gbs_1t / _all   read bandwidth over the (warm, mapped) matrix — every cache line once —, 1 thread /
 *                             THREADS threads, best of 5
 *   matrix_pass_s             one pass over the V×d matrix at the better of the two
 *   topk1_s, topk10_s         sim_topk for 1 word / 10 words at once over the whole vocabulary (warm, best of 7)
 *   sgemm_gflops, sgemm_s     OpenBLAS sgemm (its threads) of the distinct question words × 300,000 rows × d, in
 *                             column chunks of 4,096 (no 1 GB output), and the time for the whole product
 *   scan_s_1t, scan_s         one scan: for every question, (b + c) - a and a running max over all 300,000 rows
 *                             from a cache-resident tile (1 thread; ideal over THREADS threads)
 *   floor_s                   sgemm_s + scan_s
 *   eval_s                    eval_analogies (restrict 300000) in process, once
 *   gemm_nt_gflops            gemm_nt (the batched top-k's kernel) on THREADS threads: 1,280 queries (a --batch
 *                             group) × 30,000 rows in blocks of 256, as sim_topk tiles them; best of 3
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* madvise */
#include <cblas.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "cpu.h"
#include "eval_gensim.h"
#include "gemm_nt.h"
#include "loader.h"
#include "parallel.h"
#include "search.h"

#define R_EVAL 300000
#define TILE 128

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

typedef struct {
    const float *p;
    size_t n;
    float sum;
} pass_job;

/* Reads one float of every 64-byte cache line of jobs lo … hi-1 (the memory system moves whole lines: this is the
 * read bandwidth, without the adds of a full sum becoming the bottleneck). A parallel_for range function. */
static void pass_run(void *ctx, size_t lo, size_t hi, int tid)
{
    (void)tid;
    for (pass_job *j = (pass_job *)ctx + lo; j < (pass_job *)ctx + hi; j++) {
        float acc[4] = {0};
        for (size_t i = 0; i + 64 <= j->n; i += 64)
            for (int k = 0; k < 4; k++)
                acc[k] += j->p[i + 16 * (size_t)k];
        j->sum = acc[0] + acc[1] + acc[2] + acc[3];
    }
}

/* Best-of-5 time to read n floats with t threads (t ≤ 16), one slice of n / t floats each. */
static double read_pass(const float *p, size_t n, int t)
{
    double best = 1e30;
    for (int rep = 0; rep < 5; rep++) {
        pass_job jobs[16];
        double t0 = now();
        for (int i = 0; i < t; i++)
            jobs[i] = (pass_job){p + n / (size_t)t * (size_t)i, n / (size_t)t, 0};
        parallel_for(t, (size_t)t, pass_run, jobs);
        double dt = now() - t0;
        best = dt < best ? dt : best;
        volatile float sink = jobs[0].sum;
        (void)sink;
    }
    return best;
}

/* The questions' (a, b, c) as indexes into the distinct words, lowercase ASCII lookups in the first R rows. */
static size_t read_questions(const store *s, const char *path, long **rows_out, size_t *nw, unsigned **abc_out)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[512];
    size_t nq = 0, cap = 0;
    long *qr = NULL;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == ':')
            continue;
        for (char *c = line; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        char *w[4];
        int n = 0;
        for (char *tok = strtok(line, " \t\r\n"); tok && n < 4; tok = strtok(NULL, " \t\r\n"))
            w[n++] = tok;
        if (n != 4)
            continue;
        long r[4];
        int ok = 1;
        for (int i = 0; i < 4; i++) {
            r[i] = store_find(s, w[i], strlen(w[i]));
            ok &= r[i] >= 0 && r[i] < R_EVAL;
        }
        if (!ok)
            continue;
        if (nq == cap) {
            cap = cap ? 2 * cap : 4096;
            qr = realloc(qr, 3 * cap * sizeof *qr);
        }
        for (int i = 0; i < 3; i++)
            qr[3 * nq + (size_t)i] = r[i];
        nq++;
    }
    fclose(f);
    long *rows = malloc(3 * nq * sizeof *rows);
    memcpy(rows, qr, 3 * nq * sizeof *rows);
    for (size_t gap = 3 * nq / 2; gap > 0; gap /= 2)
        for (size_t i = gap; i < 3 * nq; i++)
            for (size_t j = i; j >= gap && rows[j - gap] > rows[j]; j -= gap) {
                long t = rows[j];
                rows[j] = rows[j - gap];
                rows[j - gap] = t;
            }
    size_t u = 0;
    for (size_t i = 0; i < 3 * nq; i++)
        if (u == 0 || rows[u - 1] != rows[i])
            rows[u++] = rows[i];
    unsigned *abc = malloc(3 * nq * sizeof *abc);
    for (size_t i = 0; i < 3 * nq; i++) {
        size_t lo = 0, hi = u;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (rows[mid] < qr[i])
                lo = mid + 1;
            else
                hi = mid;
        }
        abc[i] = (unsigned)lo;
    }
    free(qr);
    *rows_out = rows;
    *nw = u;
    *abc_out = abc;
    return nq;
}

/* max over j < n of (b[j] + c[j]) - a[j]: the scan's arithmetic without its bookkeeping */
static float scan_max_c(const float *a, const float *b, const float *c, size_t n)
{
    float m = -INFINITY;
    for (size_t j = 0; j < n; j++) {
        float x = (b[j] + c[j]) - a[j];
        m = x > m ? x : m;
    }
    return m;
}

#if CPU_X86
#include <immintrin.h>
__attribute__((target("avx512f"))) static float scan_max_avx512(const float *a, const float *b, const float *c,
                                                                 size_t n)
{
    __m512 m0 = _mm512_set1_ps(-INFINITY), m1 = m0;
    size_t j = 0;
    for (; j + 32 <= n; j += 32) {
        m0 = _mm512_max_ps(m0, _mm512_sub_ps(_mm512_add_ps(_mm512_loadu_ps(b + j), _mm512_loadu_ps(c + j)),
                                             _mm512_loadu_ps(a + j)));
        m1 = _mm512_max_ps(m1, _mm512_sub_ps(_mm512_add_ps(_mm512_loadu_ps(b + j + 16), _mm512_loadu_ps(c + j + 16)),
                                             _mm512_loadu_ps(a + j + 16)));
    }
    float m = _mm512_reduce_max_ps(_mm512_max_ps(m0, m1)), t = scan_max_c(a + j, b + j, c + j, n - j);
    return t > m ? t : m;
}

__attribute__((target("avx2"))) static float scan_max_avx2(const float *a, const float *b, const float *c, size_t n)
{
    __m256 m0 = _mm256_set1_ps(-INFINITY);
    size_t j = 0;
    for (; j + 8 <= n; j += 8)
        m0 = _mm256_max_ps(m0, _mm256_sub_ps(_mm256_add_ps(_mm256_loadu_ps(b + j), _mm256_loadu_ps(c + j)),
                                             _mm256_loadu_ps(a + j)));
    float t[8], m = scan_max_c(a + j, b + j, c + j, n - j);
    _mm256_storeu_ps(t, m0);
    for (int i = 0; i < 8; i++)
        m = t[i] > m ? t[i] : m;
    return m;
}
#endif

typedef float (*scan_max_fn)(const float *, const float *, const float *, size_t);

static scan_max_fn pick_scan_max(void) { return CPU_PICK(scan_max_c, scan_max_avx2, scan_max_avx512); }

typedef struct {
    const float *X;
    size_t d, R;
    float *Q; /* (1280, d) */
} gemm_job;

static void gemm_blocks(void *ctx, size_t lo, size_t hi, int tid)
{
    (void)tid;
    gemm_job *g = ctx;
    float *T = malloc(1280 * 256 * sizeof *T);
    float *pack = aligned_alloc(64, (gemm_nt_pack_floats(g->d) * sizeof(float) + 63) & ~(size_t)63);
    for (size_t b = lo; b < hi && T && pack; b++) {
        size_t r0 = b * 256, nb = g->R - r0 < 256 ? g->R - r0 : 256;
        gemm_nt(g->Q, g->d, g->X + r0 * g->d, g->d, T, nb, 1280, nb, g->d, pack);
    }
    free(T);
    free(pack);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_similarity CACHE QUESTIONS [THREADS] | --touch CACHE\n");
        return 2;
    }
    if (strcmp(argv[1], "--touch") == 0) {
        store *t = NULL;
        ev_error e = {0};
        if (store_open(argv[2], &t, &e) != EV_OK) {
            fprintf(stderr, "bench_similarity: %s\n", e.msg);
            return 3;
        }
        const float *x = store_vectors(t);
#if defined(__linux__)
        uintptr_t a = (uintptr_t)x & ~(uintptr_t)(sysconf(_SC_PAGESIZE) - 1);
        (void)madvise((void *)a, (size_t)((uintptr_t)x - a) + store_size(t) * store_dim(t) * sizeof(float), 22);
#endif
        float acc = 0;
        for (size_t i = 0, n = store_size(t) * store_dim(t); i < n; i += 16)
            acc += x[i];
        store_close(t);
        return acc == 42.f;
    }
    int threads = argc > 3 ? atoi(argv[3]) : 2;
    threads = threads < 1 ? 1 : threads > 16 ? 16 : threads;
    loader_opts lo = {0};
    store *s = NULL;
    ev_error err = {0};
    if (loader_load(argv[1], &lo, &s, &err) != EV_OK) {
        fprintf(stderr, "bench_similarity: %s\n", err.msg);
        return 3;
    }
    size_t V = store_size(s), d = store_dim(s);
    const float *X = store_vectors(s);

    /* neighbours: warm the mapping, then time one and ten queries against a pass over the matrix */
    const char *words[10] = {"king", "france", "computer", "bank", "river", "music", "science", "red", "run", "good"};
    float *Q = malloc(10 * d * sizeof *Q);
    long ex[10];
    sim_hit *h = malloc(10 * 10 * sizeof *h);
    for (int i = 0; i < 10; i++) {
        ex[i] = store_lookup(s, words[i], strlen(words[i]), NULL);
        sim_word_query(s, ex[i], Q + (size_t)i * d);
    }
    double bw1 = read_pass(X, V * d, 1), bwn = read_pass(X, V * d, threads);
    double pass = bw1 < bwn ? bw1 : bwn, bytes = (double)(V * d * sizeof(float));
    printf("bandwidth_gbs_1t %.2f\nbandwidth_gbs_all %.2f\nmatrix_pass_s %.6f\n", bytes / bw1 / 1e9, bytes / bwn / 1e9,
           pass);
    for (int m = 10; m >= 1; m -= 9) { /* 10 first: after a threaded sgemv, OpenBLAS's idle threads spin a while */
        double best = 1e30;
        for (int rep = 0; rep < 7; rep++) {
            double t0 = now();
            sim_topk(s, Q, (size_t)m, 10, 0, ex, 1, h, &err);
            double dt = now() - t0;
            best = dt < best ? dt : best;
        }
        printf("topk%d_s %.6f\n", m, best);
    }

    /* the analogy floor: sgemm of the distinct words against 300,000 rows, and one scan */
    long *wrows;
    unsigned *abc;
    size_t nw = 0, nq = read_questions(s, argv[2], &wrows, &nw, &abc);
    size_t R = V < R_EVAL ? V : R_EVAL;
    if (nq == 0) {
        fprintf(stderr, "bench_similarity: no questions read from %s\n", argv[2]);
        return 3;
    }
    float *W = malloc(nw * d * sizeof *W), *C = malloc(nw * 4096 * sizeof *C);
    for (size_t i = 0; i < nw; i++)
        sim_unitvec(store_row(s, (size_t)wrows[i]), d, W + i * d);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nw, 4096, (int)d, 1.f, W, (int)d, X, (int)d, 0.f, C, 4096);
    double t0 = now();
    for (size_t c0 = 0; c0 < R; c0 += 4096) {
        size_t nb = R - c0 < 4096 ? R - c0 : 4096;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nw, (int)nb, (int)d, 1.f, W, (int)d, X + c0 * d,
                    (int)d, 0.f, C, (int)nb);
    }
    double t_sgemm = now() - t0, flop = 2.0 * (double)nw * (double)R * (double)d;
    printf("distinct_words %zu\nquestions %zu\nsgemm_gflops %.1f\nsgemm_s %.4f\n", nw, nq, flop / t_sgemm / 1e9, t_sgemm);
    /* one scan over a cache-resident tile of TILE rows, repeated to cover R rows */
    float *T = C; /* (nw, TILE) from the last product */
    scan_max_fn scan = pick_scan_max();
    double best = 1e30;
    volatile float sink = 0;
    size_t reps = 40;
    for (int rep = 0; rep < 3; rep++) {
        t0 = now();
        float total = 0;
        for (size_t r = 0; r < reps; r++)
            for (size_t q = 0; q < nq; q++) {
                total += scan(T + (size_t)abc[3 * q] * TILE, T + (size_t)abc[3 * q + 1] * TILE,
                              T + (size_t)abc[3 * q + 2] * TILE, TILE);
            }
        double dt = (now() - t0) * (double)R / (double)(reps * TILE);
        best = dt < best ? dt : best;
        sink += total;
    }
    if (sink == 42.f) /* keeps the scans from being optimised away */
        fputc('\n', stderr);
    printf("scan_s_1t %.4f\nscan_s %.4f\nfloor_s %.4f\n", best, best / threads, t_sgemm + best / threads);

    /* the real thing, in process (after OpenBLAS's threads from the sgemm above have gone to sleep) */
    nanosleep(&(struct timespec){0, 300000000}, NULL);
    eval_analogies_opts eo = {R_EVAL, SIM_ADD, threads, NULL, NULL, 0};
    eval_analogies_result ev;
    t0 = now();
    if (eval_analogies(s, argv[2], &eo, &ev, &err) != EV_OK) {
        fprintf(stderr, "bench_similarity: %s\n", err.msg);
        return 4;
    }
    printf("eval_s %.4f\neval_correct %zu\neval_total %zu\n", now() - t0, ev.correct, ev.total);
    eval_analogies_free(&ev);

    /* the batch's kernel: a group's contextual queries against the trained head's candidates */
    gemm_job gj = {store_vectors(s), d, V < 30000 ? V : 30000, NULL};
    gj.Q = malloc(1280 * d * sizeof *gj.Q);
    for (size_t i = 0; i < 1280; i++)
        sim_unitvec(store_row(s, i % V), d, gj.Q + i * d);
    double gbest = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        t0 = now();
        parallel_for(threads, (gj.R + 255) / 256, gemm_blocks, &gj);
        double dt = now() - t0;
        gbest = dt < gbest ? dt : gbest;
    }
    printf("gemm_nt_gflops %.1f\n", 2.0 * 1280 * (double)gj.R * (double)d / gbest / 1e9);
    free(gj.Q);
    free(Q);
    free(h);
    free(W);
    free(C);
    free(wrows);
    free(abc);
    store_close(s);
    return 0;
}
