/* parallel — the one way embvsattn runs work on several threads.
 *
 * parallel_for cuts [0, n) into `threads` fixed contiguous ranges and runs fn on each, one thread per range (the
 * calling thread takes the first). The ranges depend only on n and threads, so results are reproducible for a
 * thread count. A range whose thread cannot be created runs in the calling thread afterwards (same range, same
 * tid): the work is always done, only more slowly.
 *
 * parallel_blocks is the work queue: workers take numbered blocks in increasing order, each block to whichever worker
 * asks first, so that uneven blocks (or a busy core) do not leave the others waiting. Which worker gets a block
 * depends on timing: use it where each worker keeps its own partial result and the partial results are merged in
 * an order that makes the outcome independent of who did what (the search's top-k heaps, the evaluation's lists).
 */
#ifndef PARALLEL_H
#define PARALLEL_H

#include <stddef.h>

/* At most this many threads (more are clamped). */
#define PARALLEL_MAX_THREADS 64

typedef void (*parallel_range_fn)(void *ctx, size_t lo, size_t hi, int tid);

/* Runs fn(ctx, lo, hi, tid) over the ranges of [0, n); threads < 1 counts as 1. Returns when all are done. */
void parallel_for(int threads, size_t n, parallel_range_fn fn, void *ctx);

/* OpenBLAS held to one thread: for work whose threads (ours) call BLAS themselves, where OpenBLAS's own workers
 * would only wake and spin beside them. The BLAS results are the same bits (OpenBLAS splits a product by rows and
 * columns, never along the sum). parallel_blas_single returns the previous thread count for parallel_blas_restore. */
int parallel_blas_single(void);
void parallel_blas_restore(int blas_threads);

/* parallel_for between parallel_blas_single and parallel_blas_restore. */
void parallel_for_own_blas(int threads, size_t n, parallel_range_fn fn, void *ctx);

/* The queue of parallel_blocks: blocks 0 … n_blocks-1, each handed out once. */
typedef struct parallel_queue parallel_queue;

/* A worker of parallel_blocks: takes blocks with parallel_next until it returns n_blocks, then returns. tid is the
 * worker's index (0 in the calling thread), for the worker's own state in ctx. */
typedef void (*parallel_worker_fn)(void *ctx, parallel_queue *q, int tid);

/* The next block of q (blocks are handed out in increasing order, each once, safe from any worker); n_blocks when
 * none are left. */
size_t parallel_next(parallel_queue *q);

/* Runs fn(ctx, q, tid) on `threads` workers (threads < 1 counts as 1, at most PARALLEL_MAX_THREADS), worker 0 in the
 * calling thread, over a queue of n_blocks blocks; returns when all are done. When a thread cannot be created, it and
 * the workers after it do not run and the others take their blocks. Returns how many ran: tids 0 … ran-1 (≥ 1). */
int parallel_blocks(int threads, size_t n_blocks, parallel_worker_fn fn, void *ctx);

/* The number of online processors, at least 1 and at most max. */
int parallel_cores(int max);

/* At most this many threads by default: the memory-bound passes gain little beyond it. */
#define PARALLEL_DEFAULT_MAX_THREADS 8

/* The thread count when the user gives none: parallel_cores(PARALLEL_DEFAULT_MAX_THREADS). */
int parallel_default_threads(void);

#endif
