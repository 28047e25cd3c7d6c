/* fuzz_fasttext — the fastText .bin reader through loader_load_bytes: each input is read forced as a fastText model,
 * with --limit 1, and with detection; a model read gives words outside its vocabulary finite n-gram vectors. Same
 * checks as fuzz_text. */
#include "fuzz_common.h"
#include "loader.h"

#include <math.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct {
        vformat f;
        size_t limit;
    } modes[] = {{VF_FASTTEXT, 0}, {VF_FASTTEXT, 1}, {VF_AUTO, 0}};
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        loader_opts o = {.format = modes[m].f, .limit = modes[m].limit, .threads = 1};
        store *s = NULL;
        ev_error err = {0};
        ev_status st = loader_load_bytes("fuzz.bin", (const char *)data, size, &o, &s, &err);
        if (st == EV_OK) {
            FUZZ_CHECK(s != NULL, "EV_OK without a store");
            FUZZ_CHECK(!modes[m].limit || store_size(s) <= modes[m].limit, "limit ignored");
            fuzz_check_store(s, 1);
            float *v = malloc(store_dim(s) * sizeof *v);
            static const char *const WORDS[] = {"xyzzy", "caf\xc3\xa9", "\xe6\x9d\xb1", "a", "\xff\xfe"};
            for (size_t w = 0; v && w < sizeof WORDS / sizeof WORDS[0]; w++) {
                size_t k = store_subword_vector(s, WORDS[w], strlen(WORDS[w]), v);
                FUZZ_CHECK(k == 0 || store_subwords(s) != NULL, "n-grams without an n-gram model");
                for (size_t i = 0; i < store_dim(s); i++)
                    FUZZ_CHECK(isfinite(v[i]), "a non-finite n-gram vector");
            }
            free(v);
            store_close(s);
        } else {
            FUZZ_CHECK(s == NULL, "a store on failure");
            fuzz_check_error(st, &err, "loader_load_bytes");
        }
        ev_error_clear(&err);
    }
    return 0;
}
