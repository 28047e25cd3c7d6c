/* fuzz_text — the text vector parsers (GloVe, word2vec text, fastText .vec) through loader_load_bytes: each input
 * is read with format detection, forced as GloVe, forced as word2vec text, and with --limit 2. A store that loads
 * must keep the store invariants and survive a cache round trip; a failure must carry a status and a message.
 * The first three are read again by three threads (the fuzz build splits inputs of 16 bytes and more, see
 * PARALLEL_MIN_BYTES in the Makefile): the result must be the same store, or the same error, bit for bit. */
#include "fuzz_common.h"
#include "loader.h"

typedef struct {
    ev_status st;
    ev_error err;
    store *s;
    size_t dups;
} result;

static void load(const uint8_t *data, size_t size, vformat f, size_t limit, int threads, result *r)
{
    loader_opts o = {.format = f, .limit = limit, .threads = threads};
    memset(r, 0, sizeof *r);
    r->st = loader_load_bytes("fuzz.txt", (const char *)data, size, &o, &r->s, &r->err);
    r->dups = o.n_duplicates;
    if (r->st == EV_OK) {
        FUZZ_CHECK(r->s != NULL, "EV_OK without a store");
        FUZZ_CHECK(!limit || store_size(r->s) <= limit, "limit ignored");
    } else {
        FUZZ_CHECK(r->s == NULL, "a store on failure");
        fuzz_check_error(r->st, &r->err, "loader_load_bytes");
    }
}

static void same(const result *a, const result *b)
{
    FUZZ_CHECK(a->st == b->st, "1 thread: %d (%s), 3 threads: %d (%s)", (int)a->st, a->err.msg ? a->err.msg : "",
               (int)b->st, b->err.msg ? b->err.msg : "");
    if (a->st != EV_OK) {
        FUZZ_CHECK(strcmp(a->err.msg, b->err.msg) == 0, "1 thread: %s; 3 threads: %s", a->err.msg, b->err.msg);
        return;
    }
    size_t V = store_size(a->s), d = store_dim(a->s);
    FUZZ_CHECK(store_size(b->s) == V && store_dim(b->s) == d && a->dups == b->dups, "sizes differ with 3 threads");
    FUZZ_CHECK(memcmp(store_vectors(a->s), store_vectors(b->s), V * d * sizeof(float)) == 0, "vectors differ");
    for (size_t i = 0; i < V; i++) {
        size_t la, lb;
        const char *wa = store_word(a->s, i, &la), *wb = store_word(b->s, i, &lb);
        FUZZ_CHECK(la == lb && memcmp(wa, wb, la) == 0, "word %zu differs with 3 threads", i);
    }
}

static void done(result *r)
{
    store_close(r->s);
    ev_error_clear(&r->err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct {
        vformat f;
        size_t limit;
    } modes[] = {{VF_AUTO, 0}, {VF_GLOVE, 0}, {VF_W2V_TEXT, 0}, {VF_AUTO, 2}};
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        result one, three;
        load(data, size, modes[m].f, modes[m].limit, 1, &one);
        if (one.st == EV_OK) {
            fuzz_check_store(one.s, 1);
            if (m == 0)
                fuzz_cache_roundtrip(one.s);
        }
        if (!modes[m].limit) {
            load(data, size, modes[m].f, 0, 3, &three);
            same(&one, &three);
            done(&three);
        }
        done(&one);
    }
    return 0;
}
