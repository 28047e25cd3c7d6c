/* fuzz_batch — what a --batch run does with its standard input: split into lines (CR before LF dropped), each line
 * through view_build_many (tokenizer, tok_vectors, attention, one batched neighbour search, the static-neighbour
 * cache of the run: one per input and head set-up, every group of 64 lines sharing it) on a tiny store, then
 * rendered as a JSON line or an error object, as cli_attention.c does. Two head set-ups per input: the identity
 * head with the defaults, and a random head with sinusoidal positions, the causal mask, the residual, -k 2, --top 2.
 * Each JSON line must parse back. */
#include "fuzz_common.h" /* first: it sets _GNU_SOURCE */

#include <cJSON.h>

#include "attention.h"
#include "render_json.h"
#include "render_text.h"
#include "view.h"

enum { GROUP = 64, DIM = 6 };

static void run_group(const store *s, const view_opts *vo, view_cache *cache, const char **texts,
                      const size_t *lens, size_t m, FILE *sink)
{
    view_sentence views[GROUP];
    ev_error errs[GROUP];
    memset(errs, 0, sizeof errs);
    ev_status st = view_build_many(s, texts, lens, m, vo, cache, views, errs);
    FUZZ_CHECK(st == EV_OK, "view_build_many: %d", (int)st);
    render_style rs = {1, 1, 60};
    render_info ri = {"fuzz", 0};
    for (size_t i = 0; i < m; i++) {
        cJSON *j;
        if (errs[i].code != EV_OK) {
            fuzz_check_error(errs[i].code, &errs[i], "view_build_many");
            j = render_json_error(i + 1, errs[i].msg, (int)errs[i].code);
        } else {
            const view_sentence *v = &views[i];
            FUZZ_CHECK(v->n >= 1 && v->toks.n_known >= 1, "a view without known tokens");
            for (size_t r = 0; r < v->n; r++) {
                double sum = 0;
                for (size_t c = 0; c < v->n; c++)
                    sum += v->A[r * v->n + c];
                FUZZ_CHECK((sum > 0.999 && sum < 1.001) || sum == 0, "attention row %zu sums to %g", r, sum);
            }
            j = render_json_view(s, v, vo, "fuzz");
            render_text_view(sink, s, v, vo, &ri, &rs);
        }
        char *txt = j ? cJSON_PrintUnformatted(j) : NULL;
        FUZZ_CHECK(txt, "JSON line not rendered");
        cJSON *back = cJSON_Parse(txt);
        FUZZ_CHECK(back, "the JSON line does not parse: %.200s", txt);
        cJSON_Delete(back);
        free(txt);
        cJSON_Delete(j);
        view_free(&views[i]);
        ev_error_clear(&errs[i]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static store *s;
    static attn_head *ident, *rnd;
    static FILE *sink;
    if (!s) {
        ev_error err = {0};
        s = fuzz_tiny_store(DIM);
        FUZZ_CHECK(attn_head_identity(DIM, &ident, &err) == EV_OK, "identity head");
        FUZZ_CHECK(attn_head_random(DIM, 4, 7, &rnd, &err) == EV_OK, "random head");
        sink = fopen("/dev/null", "w");
        FUZZ_CHECK(sink, "/dev/null");
    }
    view_opts vos[2] = {{.head = ident, .attn = attn_opts_default(), .k = 5, .top = 3},
                        {.head = rnd, .attn = attn_opts_default(), .residual = 1, .k = 2, .top = 2, .restrict_n = 20}};
    vos[1].attn.positions = ATTN_POS_SINUSOIDAL;
    vos[1].attn.causal = 1;
    /* the lines, as read_line in cli_attention.c gives them */
    for (int i = 0; i < 2; i++) {
        view_cache *cache = view_cache_new(s);
        FUZZ_CHECK(cache, "view_cache_new");
        size_t pos = 0;
        while (pos < size) {
            const char *texts[GROUP];
            size_t lens[GROUP], m = 0;
            while (pos < size && m < GROUP) {
                const uint8_t *nl = memchr(data + pos, '\n', size - pos);
                size_t end = nl ? (size_t)(nl - data) : size, len = end - pos;
                if (len > 0 && data[pos + len - 1] == '\r')
                    len--;
                texts[m] = (const char *)data + pos;
                lens[m++] = len;
                pos = end + 1;
            }
            run_group(s, &vos[i], cache, texts, lens, m, sink);
        }
        view_cache_free(cache);
    }
    return 0;
}
