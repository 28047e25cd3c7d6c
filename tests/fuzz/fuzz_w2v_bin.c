/* fuzz_w2v_bin — the word2vec binary parser through loader_load_bytes: each input is read forced as word2vec
 * binary, with --limit 1, and with detection. Same checks as fuzz_text. */
#include "fuzz_common.h"
#include "loader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct {
        vformat f;
        size_t limit;
    } modes[] = {{VF_W2V_BIN, 0}, {VF_W2V_BIN, 1}, {VF_AUTO, 0}};
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        loader_opts o = {.format = modes[m].f, .limit = modes[m].limit, .threads = 1};
        store *s = NULL;
        ev_error err = {0};
        ev_status st = loader_load_bytes("fuzz.bin", (const char *)data, size, &o, &s, &err);
        if (st == EV_OK) {
            FUZZ_CHECK(s != NULL, "EV_OK without a store");
            FUZZ_CHECK(!modes[m].limit || store_size(s) <= modes[m].limit, "limit ignored");
            fuzz_check_store(s, 1);
            if (m == 0)
                fuzz_cache_roundtrip(s);
            store_close(s);
        } else {
            FUZZ_CHECK(s == NULL, "a store on failure");
            fuzz_check_error(st, &err, "loader_load_bytes");
        }
        ev_error_clear(&err);
    }
    return 0;
}
