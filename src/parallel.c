#define _POSIX_C_SOURCE 200809L
#include "parallel.h"

#include <cblas.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

struct parallel_queue {
    atomic_size_t next; /* the next block to hand out (may run past n_blocks: every worker asks once too often) */
    size_t n_blocks;
};

/* One thread's share: a range of parallel_for (range set) or a worker of parallel_blocks (worker set). */
typedef struct {
    parallel_range_fn range;
    parallel_worker_fn worker;
    void *ctx;
    size_t lo, hi;
    parallel_queue *q;
    int tid;
} job;

static void *job_run(void *a)
{
    job *j = a;
    if (j->range)
        j->range(j->ctx, j->lo, j->hi, j->tid);
    else
        j->worker(j->ctx, j->q, j->tid);
    return NULL;
}

static int clamp_threads(int threads)
{
    return threads < 1 ? 1 : threads > PARALLEL_MAX_THREADS ? PARALLEL_MAX_THREADS : threads;
}

void parallel_for(int threads, size_t n, parallel_range_fn fn, void *ctx)
{
    threads = clamp_threads(threads);
    job jobs[PARALLEL_MAX_THREADS];
    pthread_t tid[PARALLEL_MAX_THREADS];
    int started[PARALLEL_MAX_THREADS] = {0};
    for (int t = 0; t < threads; t++)
        jobs[t] = (job){.range = fn, .ctx = ctx, .lo = n * (size_t)t / (size_t)threads,
                        .hi = n * (size_t)(t + 1) / (size_t)threads, .tid = t};
    for (int t = 1; t < threads; t++)
        started[t] = pthread_create(&tid[t], NULL, job_run, &jobs[t]) == 0;
    job_run(&jobs[0]);
    for (int t = 1; t < threads; t++) {
        if (started[t])
            pthread_join(tid[t], NULL);
        else
            job_run(&jobs[t]); /* same range, same tid: same result */
    }
}

size_t parallel_next(parallel_queue *q)
{
    size_t b = atomic_fetch_add(&q->next, 1);
    return b < q->n_blocks ? b : q->n_blocks;
}

int parallel_blocks(int threads, size_t n_blocks, parallel_worker_fn fn, void *ctx)
{
    threads = clamp_threads(threads);
    parallel_queue q = {.n_blocks = n_blocks};
    atomic_init(&q.next, 0);
    job jobs[PARALLEL_MAX_THREADS];
    pthread_t tid[PARALLEL_MAX_THREADS];
    int ran = 1;
    for (int t = 0; t < threads; t++)
        jobs[t] = (job){.worker = fn, .ctx = ctx, .q = &q, .tid = t};
    for (; ran < threads; ran++)
        if (pthread_create(&tid[ran], NULL, job_run, &jobs[ran]) != 0)
            break;
    job_run(&jobs[0]); /* takes the blocks of the workers that could not start too */
    for (int t = 1; t < ran; t++)
        pthread_join(tid[t], NULL);
    return ran;
}

int parallel_cores(int max)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > max ? max : (int)n;
}

int parallel_default_threads(void) { return parallel_cores(PARALLEL_DEFAULT_MAX_THREADS); }

int parallel_blas_single(void)
{
#ifdef OPENBLAS_VERSION
    int blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
    return blas_threads;
#else
    return 1;
#endif
}

void parallel_blas_restore(int blas_threads)
{
#ifdef OPENBLAS_VERSION
    openblas_set_num_threads(blas_threads);
#else
    (void)blas_threads;
#endif
}

void parallel_for_own_blas(int threads, size_t n, parallel_range_fn fn, void *ctx)
{
    int blas_threads = parallel_blas_single();
    parallel_for(threads, n, fn, ctx);
    parallel_blas_restore(blas_threads);
}
