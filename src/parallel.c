#define _POSIX_C_SOURCE 200809L
#include "parallel.h"

#include <pthread.h>
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

int parallel_cores(int max)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > max ? max : (int)n;
}

int parallel_default_threads(void) { return parallel_cores(PARALLEL_DEFAULT_MAX_THREADS); }
