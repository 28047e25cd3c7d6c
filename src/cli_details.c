/* cli_details — `eval analogies --details` and `eval pairs --details`: one JSON object a line per question or pair
 * (gensim's per-section correct/incorrect lists, with the prediction; per pair the cosine), for scripts. */
#include <stdio.h>

#include "cli_internal.h"

int cli_print_analogy_details(const store *s, const eval_analogies_result *ev)
{
    for (size_t i = 0; i < ev->questions; i++) {
        const eval_question *q = &ev->details[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "line", (double)q->line);
        jsonstr_add_cstr(e, "section", ev->sections[q->section].name);
        jsonstr_add_list(e, "question", (const char *const *)q->words, 3);
        jsonstr_add_cstr(e, "expected", q->words[3]);
        if (q->prediction >= 0) {
            size_t wl;
            const char *w = store_word(s, (size_t)q->prediction, &wl);
            jsonstr_add(e, "prediction", w, wl);
        } else {
            cJSON_AddNullToObject(e, "prediction");
        }
        cJSON_AddBoolToObject(e, "correct", q->correct);
        cJSON_AddBoolToObject(e, "oov", q->oov);
        int code = cli_print_json(e);
        if (code)
            return code;
    }
    return 0;
}

int cli_print_pair_details(const eval_pairs_result *ev)
{
    for (size_t i = 0; i < ev->n_details; i++) {
        const eval_pair_detail *p = &ev->details[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "line", (double)p->line);
        jsonstr_add_cstr(e, "a", p->a);
        jsonstr_add_cstr(e, "b", p->b);
        cJSON_AddNumberToObject(e, "gold", p->gold);
        cJSON_AddItemToObject(e, "cosine", p->oov ? cJSON_CreateNull() : cli_json_float(p->cosine));
        cJSON_AddBoolToObject(e, "oov", p->oov);
        int code = cli_print_json(e);
        if (code)
            return code;
    }
    return 0;
}
