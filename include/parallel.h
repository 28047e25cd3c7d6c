/* parallel — the one way embvsattn runs work on several threads.
 *
 * parallel_for cuts [0, n) into `threads` fixed contiguous ranges and runs fn on each, one thread per range (the
 * calling thread takes the first). The ranges depend only on n and threads, so results are reproducible for a
 * thread count. A range whose thread cannot be created runs in the calling thread afterwards (same range, same
 * tid): the work is always done, only more slowly.
 */
#ifndef PARALLEL_H
#define PARALLEL_H

#include <stddef.h>

/* At most this many threads (more are clamped). */
#define PARALLEL_MAX_THREADS 64

typedef void (*parallel_range_fn)(void *ctx, size_t lo, size_t hi, int tid);

/* Runs fn(ctx, lo, hi, tid) over the ranges of [0, n); threads < 1 counts as 1. Returns when all are done. */
void parallel_for(int threads, size_t n, parallel_range_fn fn, void *ctx);

/* The number of online processors, at least 1 and at most max. */
int parallel_cores(int max);

/* At most this many threads by default: the memory-bound passes gain little beyond it. */
#define PARALLEL_DEFAULT_MAX_THREADS 8

/* The thread count when the user gives none: parallel_cores(PARALLEL_DEFAULT_MAX_THREADS). */
int parallel_default_threads(void);

#endif
