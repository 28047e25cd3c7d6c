#define _POSIX_C_SOURCE 200809L
#include "parallel.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

typedef struct {
    parallel_range_fn fn;
    void *ctx;
    size_t lo, hi;
    int tid;
} range_job;

static void *range_run(void *a)
{
    range_job *j = a;
    j->fn(j->ctx, j->lo, j->hi, j->tid);
    return NULL;
}

void parallel_for(int threads, size_t n, parallel_range_fn fn, void *ctx)
{
    if (threads < 1)
        threads = 1;
    if (threads > PARALLEL_MAX_THREADS)
        threads = PARALLEL_MAX_THREADS;
    range_job job[PARALLEL_MAX_THREADS];
    pthread_t tid[PARALLEL_MAX_THREADS];
    int started[PARALLEL_MAX_THREADS] = {0};
    for (int t = 0; t < threads; t++)
        job[t] = (range_job){fn, ctx, n * (size_t)t / (size_t)threads, n * (size_t)(t + 1) / (size_t)threads, t};
    for (int t = 1; t < threads; t++)
        started[t] = pthread_create(&tid[t], NULL, range_run, &job[t]) == 0;
    range_run(&job[0]);
    for (int t = 1; t < threads; t++) {
        if (started[t])
            pthread_join(tid[t], NULL);
        else
            range_run(&job[t]); /* same range, same tid: same result */
    }
}

struct parallel_queue {
    atomic_size_t next; /* the next block to hand out (may run past n_blocks: every worker asks once too often) */
    size_t n_blocks;
};

size_t parallel_next(parallel_queue *q)
{
    size_t b = atomic_fetch_add(&q->next, 1);
    return b < q->n_blocks ? b : q->n_blocks;
}

typedef struct {
    parallel_worker_fn fn;
    void *ctx;
    parallel_queue *q;
    int tid;
} queue_job;

static void *queue_run(void *a)
{
    queue_job *j = a;
    j->fn(j->ctx, j->q, j->tid);
    return NULL;
}

int parallel_blocks(int threads, size_t n_blocks, parallel_worker_fn fn, void *ctx)
{
    if (threads < 1)
        threads = 1;
    if (threads > PARALLEL_MAX_THREADS)
        threads = PARALLEL_MAX_THREADS;
    parallel_queue q = {.n_blocks = n_blocks};
    atomic_init(&q.next, 0);
    queue_job job[PARALLEL_MAX_THREADS];
    pthread_t tid[PARALLEL_MAX_THREADS];
    int ran = 1;
    for (int t = 0; t < threads; t++)
        job[t] = (queue_job){fn, ctx, &q, t};
    for (; ran < threads; ran++)
        if (pthread_create(&tid[ran], NULL, queue_run, &job[ran]) != 0)
            break;
    queue_run(&job[0]); /* takes the blocks of the workers that could not start too */
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
