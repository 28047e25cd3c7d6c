/* fuzz_serve_query — serve_parse_query (serve_http.h) on arbitrary bytes: the query strings `embvsattn serve` takes.
 * Checks: a refusal has a message; an answer has at most max parameters, each key non-empty, every key and value
 * valid UTF-8 without NUL (jsonstr_valid) and no longer than the query, no key twice. */
#include "fuzz_common.h"
#include "jsonstr.h"
#include "serve_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    serve_param p[8];
    char *block = NULL, msg[300] = "";
    size_t n = serve_parse_query((const char *)data, size, p, 8, &block, msg, sizeof msg);
    if (n == (size_t)-1)
        FUZZ_CHECK(msg[0] != '\0', "a refusal without a message");
    else {
        FUZZ_CHECK(n <= 8, "%zu parameters, at most 8 asked", n);
        for (size_t i = 0; i < n; i++) {
            size_t kl = strlen(p[i].key), vl = strlen(p[i].val);
            FUZZ_CHECK(kl > 0 && kl <= size && vl <= size, "parameter %zu: lengths %zu, %zu of %zu", i, kl, vl, size);
            FUZZ_CHECK(jsonstr_valid(p[i].key, kl) && jsonstr_valid(p[i].val, vl), "parameter %zu not valid UTF-8", i);
            for (size_t j = 0; j < i; j++)
                FUZZ_CHECK(strcmp(p[i].key, p[j].key) != 0, "key '%s' twice", p[i].key);
        }
    }
    free(block);
    return 0;
}
