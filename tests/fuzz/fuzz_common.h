/* fuzz_common — what the libFuzzer harnesses share: an in-memory file for the path-based readers, a scratch
 * directory for round trips, a tiny vector store, and a check that aborts (a finding) with a message.
 * Built by `make fuzz` (clang -fsanitize=fuzzer,address,undefined); see tests/fuzz/run.sh. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#define _GNU_SOURCE /* memfd_create */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ev_error.h"
#include "store.h"

/* A broken invariant is a finding: print and abort, so libFuzzer saves the input. */
#define FUZZ_CHECK(cond, ...)                                                                                     \
    do {                                                                                                          \
        if (!(cond)) {                                                                                            \
            fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed: ", __FILE__, __LINE__, #cond);                         \
            fprintf(stderr, __VA_ARGS__);                                                                         \
            fputc('\n', stderr);                                                                                  \
            abort();                                                                                              \
        }                                                                                                         \
    } while (0)

/* A failed call must say what failed: a status in the documented range and a message. */
static inline void fuzz_check_error(ev_status st, const ev_error *err, const char *what)
{
    FUZZ_CHECK(st >= EV_ERR_NOTFOUND && st <= EV_ERR_NOMEM, "%s: status %d", what, (int)st);
    FUZZ_CHECK(err->code == st, "%s: err.code %d, returned %d", what, (int)err->code, (int)st);
    FUZZ_CHECK(err->msg && err->msg[0], "%s: failed (%d) without a message", what, (int)st);
}

/* The bytes as a file (a memfd, rewritten each call): returns a path that open() and mmap() accept. */
static inline const char *fuzz_file(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("fuzz-input", 0);
        FUZZ_CHECK(fd >= 0, "memfd_create failed");
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    FUZZ_CHECK(ftruncate(fd, 0) == 0, "ftruncate");
    size_t done = 0;
    while (done < size) {
        ssize_t w = pwrite(fd, data + done, size - done, (off_t)done);
        FUZZ_CHECK(w > 0, "pwrite");
        done += (size_t)w;
    }
    return path;
}

static char fuzz_scratch_dir[128];

static void fuzz_scratch_remove(void) { rmdir(fuzz_scratch_dir); } /* its files are unlinked after each use */

/* A private scratch directory (tmpfs when there is one) for files the harnesses write and read back; removed at
 * exit. */
static inline const char *fuzz_scratch(const char *name)
{
    static char path[256];
    char *dir = fuzz_scratch_dir;
    if (!dir[0]) {
        const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(dir, sizeof fuzz_scratch_dir, "%s/embvsattn-fuzz-%ld", base, (long)getpid());
        atexit(fuzz_scratch_remove);
    }
    mkdir(dir, 0700); /* each time: a cleaner may have removed it during a long run */
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

/* A tiny store (dimension dim) of the words the tokenizer's rules care about: clitics, PTB brackets, dashes,
 * abbreviations, dotted words, numbers, UTF-8 words. Row i's vector is deterministic and distinct. */
static inline store *fuzz_tiny_store(size_t dim)
{
    static const char *const W[] = {
        "the", "king", "queen", "France", "is", "a", "country", ",", "it", "in", "europe", ".", "bank", "river",
        "'s", "n't", "not", "do", "ca", "wo", "are", "am", "will", "have", "would", "\"", "'", "-", "--", "...",
        "-lrb-", "-rrb-", "-lsb-", "-rsb-", "-lcb-", "-rcb-", "mr", "mr.", "u.s.", "e.g.", "etc", "1,000", "3.14",
        "e-mail", "well-known", "o'neill", "neill", "state", "of", "art", "google", "com", "na\xc3\xafve",
        "\xd0\xbc\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0", "\xe2\x80\x9c", "\xe2\x80\xa6", "\xe2\x80\x94", "?",
        "cannot", "i", "x", NULL};
    size_t n = 0, bytes = 0;
    while (W[n])
        bytes += strlen(W[n++]) + 1;
    store_rows r = {.n = n, .dim = dim};
    r.vectors = malloc(n * dim * sizeof(float));
    r.words = malloc(bytes);
    r.offsets = malloc((n + 1) * sizeof(size_t));
    FUZZ_CHECK(r.vectors && r.words && r.offsets, "out of memory");
    size_t pos = 0;
    r.offsets[0] = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < dim; k++)
            r.vectors[i * dim + k] = (float)((i * 7 + k * 3) % 11) * 0.25f - 1.0f + (k == i % dim ? 1.5f : 0.f);
        size_t l = strlen(W[i]) + 1;
        memcpy(r.words + pos, W[i], l);
        pos += l;
        r.offsets[i + 1] = pos;
    }
    store *s = NULL;
    ev_error err = {0};
    FUZZ_CHECK(store_from_rows(&r, "fuzz", "glove", NULL, &s, &err) == EV_OK, "store_from_rows: %s", err.msg);
    return s;
}

/* Invariants every opened store keeps: sizes, words readable and NUL-terminated, every word found again (as
 * itself or an equal earlier word), finite norms of finite rows. exact_index: the index was built here (loader),
 * so each word must be found exactly at its first occurrence. */
static inline void fuzz_check_store(const store *s, int exact_index)
{
    size_t V = store_size(s), d = store_dim(s);
    FUZZ_CHECK(V >= 1 && d >= 1, "empty store %zu x %zu", V, d);
    for (size_t i = 0; i < V; i++) {
        size_t len;
        const char *w = store_word(s, i, &len);
        FUZZ_CHECK(w[len] == '\0', "word %zu not NUL-terminated", i);
        long r = store_find(s, w, len);
        if (exact_index) {
            FUZZ_CHECK(r == (long)i, "word %zu found at %ld", i, r);
            const float *row = store_row(s, i);
            for (size_t k = 0; k < d; k++)
                FUZZ_CHECK(row[k] == row[k] && row[k] - row[k] == 0.f, "row %zu value %zu not finite", i, k);
        } else if (r >= 0) {
            size_t l2;
            const char *w2 = store_word(s, (size_t)r, &l2);
            FUZZ_CHECK(l2 == len && memcmp(w, w2, len) == 0, "word %zu found as a different word at %ld", i, r);
        }
        store_match m;
        long lr = store_lookup(s, w, len, &m);
        FUZZ_CHECK(lr < (long)V && (lr >= 0) == (m != STORE_OOV), "lookup of word %zu: %ld", i, lr);
    }
}

/* Writes s as a cache into the scratch directory, reopens it and compares everything. */
static inline void fuzz_cache_roundtrip(const store *s)
{
    const char *path = fuzz_scratch("roundtrip.safetensors");
    ev_error err = {0};
    ev_status st = store_write_cache(s, path, &err);
    FUZZ_CHECK(st == EV_OK, "store_write_cache: %s", err.msg);
    store *t = NULL;
    st = store_open(path, &t, &err);
    FUZZ_CHECK(st == EV_OK, "reopening the written cache: %s", err.msg);
    size_t V = store_size(s), d = store_dim(s);
    FUZZ_CHECK(store_size(t) == V && store_dim(t) == d, "sizes changed");
    FUZZ_CHECK(memcmp(store_vectors(s), store_vectors(t), V * d * sizeof(float)) == 0, "vectors changed");
    FUZZ_CHECK(memcmp(store_norms(s), store_norms(t), V * sizeof(float)) == 0, "norms changed");
    for (size_t i = 0; i < V; i++) {
        size_t a, b;
        const char *wa = store_word(s, i, &a), *wb = store_word(t, i, &b);
        FUZZ_CHECK(a == b && memcmp(wa, wb, a) == 0, "word %zu changed", i);
        FUZZ_CHECK(store_find(t, wa, a) == store_find(s, wa, a), "word %zu found elsewhere", i);
    }
    const subword_model *ms = store_subwords(s), *mt = store_subwords(t); /* fastText's n-grams kept as they were */
    FUZZ_CHECK(!ms == !mt, "n-gram model %s by the round trip", ms ? "lost" : "added");
    if (ms && mt)
        FUZZ_CHECK(ms->minn == mt->minn && ms->maxn == mt->maxn && ms->bucket == mt->bucket && ms->dim == mt->dim &&
                   memcmp(ms->ngrams, mt->ngrams, ms->bucket * ms->dim * sizeof(float)) == 0, "n-grams changed");
    store_close(t);
    unlink(path);
}

#endif
