/* fuzz_cache — the safetensors cache reader (store_open, path-based: the input is written to a memfd). A cache that
 * opens must keep the store invariants, survive a write/reopen round trip, answer lookups, run a sentence of its
 * own words through the whole view (tokenizer, identity attention, neighbour search) and survive store_limit; one
 * with fastText's n-grams gives words outside its vocabulary vectors and keeps its n-grams through the round trip. */
#include "fuzz_common.h"
#include "loader.h"
#include "view.h"

static void run_view(const store *s)
{
    /* a sentence of the first words (at most 8, each at most 32 bytes), separated by spaces */
    char text[8 * 33 + 1];
    size_t len = 0, V = store_size(s);
    for (size_t i = 0; i < V && i < 8; i++) {
        size_t wl;
        const char *w = store_word(s, i, &wl);
        if (wl > 32)
            wl = 32;
        memcpy(text + len, w, wl);
        len += wl;
        text[len++] = ' ';
    }
    attn_head *h = NULL;
    ev_error err = {0};
    FUZZ_CHECK(attn_head_identity(store_dim(s), &h, &err) == EV_OK, "identity head: %s", err.msg);
    view_opts vo = {.head = h, .attn = attn_opts_default(), .k = 3, .top = 2};
    view_sentence v;
    ev_status st = view_build(s, text, len, &vo, &v, &err);
    if (st == EV_OK) {
        FUZZ_CHECK(v.n >= 1 && v.toks.n_known >= 1, "a view without known tokens");
        for (size_t i = 0; i < v.n * v.k; i++)
            FUZZ_CHECK(v.static_nb[i].row < (long)V && v.context_nb[i].row < (long)V, "neighbour out of range");
        view_free(&v);
    } else {
        fuzz_check_error(st, &err, "view_build");
    }
    ev_error_clear(&err);
    attn_head_free(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    store *s = NULL;
    ev_error err = {0};
    ev_status st = store_open(path, &s, &err);
    if (st != EV_OK) {
        FUZZ_CHECK(s == NULL, "a store on failure");
        fuzz_check_error(st, &err, "store_open");
        ev_error_clear(&err);
        return 0;
    }
    fuzz_check_store(s, 0);
    (void)store_meta(s, "source");
    /* fastText's n-grams (format_version 2): words outside the vocabulary get a vector from the mapped rows */
    const subword_model *sub = store_subwords(s);
    float *v = malloc(store_dim(s) * sizeof *v);
    static const char *const OOV[] = {"xyzzy", "caf\xc3\xa9", "\xe6\x9d\xb1", "a", "\xff\xfe"};
    for (size_t w = 0; v && w < sizeof OOV / sizeof OOV[0]; w++) {
        size_t k = store_subword_vector(s, OOV[w], strlen(OOV[w]), v);
        FUZZ_CHECK(k == 0 || sub != NULL, "n-grams without an n-gram model");
        FUZZ_CHECK(!sub || sub->dim == store_dim(s), "an n-gram model of dimension %zu, vectors %zu", sub->dim,
                   store_dim(s));
    }
    free(v);
    fuzz_cache_roundtrip(s);
    run_view(s);
    size_t V = store_size(s);
    if (V > 1) {
        st = store_limit(s, V / 2, &err);
        FUZZ_CHECK(st == EV_OK, "store_limit: %s", err.msg);
        FUZZ_CHECK(store_size(s) == V / 2, "store_limit kept %zu of %zu", store_size(s), V);
        fuzz_check_store(s, 0);
    }
    store_close(s);
    ev_error_clear(&err);
    return 0;
}
