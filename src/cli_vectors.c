/* cli_vectors — the vector-file commands: vector, info, convert, index. */
#define _DEFAULT_SOURCE /* realpath */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_internal.h"
#include "numparse.h"
#include "search.h"

#define DEFAULT_LIST_WORDS 50000 /* 98.6 % of the in-vocabulary tokens of English text (fortunes corpus) */
#define DEFAULT_LIST_K 32        /* the main view shows 5, neighbors 10: room for --restrict to drop some */

/* ---- commands -------------------------------------------------------------------------------------------- */

int cmd_convert(cli_opts *o)
{
    const char *in = o->pos[0], *outp = o->pos[1];
    vformat to = o->to_format != VF_AUTO ? o->to_format : loader_format_for_path(outp);
    if (to == VF_AUTO)
        return cli_usage_error("convert: cannot tell the output format of '%s' from its extension (.safetensors, .txt, "
                           ".vec, .bin): give --to FORMAT",
                           outp);
    cli_opts io = *o;
    io.vectors = in;
    int code = 0;
    ev_error err = {0};
    /* A cache from a text or word2vec file: the rows are streamed to the output as they are parsed (store_sink), so
     * memory does not grow with the matrix. EMBVSATTN_CONVERT_STREAM=0 keeps the whole matrix in memory and writes
     * it at the end instead (the same cache; for comparisons), as does an output that is not a regular file.
     * EMBVSATTN_CONVERT_INSERT=0 copies a stream's rows into place instead of inserting the header's room before
     * them (store_sink_set_insert). */
    const char *env = getenv("EMBVSATTN_CONVERT_STREAM"), *ins = getenv("EMBVSATTN_CONVERT_INSERT");
    struct stat ost;
    int special = stat(outp, &ost) == 0 && !S_ISREG(ost.st_mode);
    if (to == VF_CACHE && !special && !(env && strcmp(env, "0") == 0)) {
        char *abs = realpath(in, NULL);
        store_sink *k = store_sink_new(outp, (abs ? strlen(abs) : strlen(in)) + 256);
        free(abs);
        if (!k) {
            fprintf(stderr, PROG ": out of memory\n");
            return EV_ERR_NOMEM;
        }
        store_sink_set_insert(k, !(ins && strcmp(ins, "0") == 0));
        store *s = cli_open_vectors_into(&io, &code, k);
        if (s && store_sink_finish(k, s, &err) != EV_OK)
            code = cli_report(&err);
        store_close(s);
        store_sink_free(k);
        return code;
    }
    store *s = cli_open_vectors(&io, &code);
    if (!s)
        return code;
    if (loader_write(s, outp, to, cli_progress_fn(), NULL, &err) != EV_OK)
        code = cli_report(&err);
    store_close(s);
    return code;
}

/* index: the neighbour lists of the first --words rows (-k per word), written into the cache in place (atomically)
 * or into -o OUT. */
int cmd_index(cli_opts *o)
{
    char *def;
    const char *path = cli_vectors_path(o, &def);
    const char *outp = o->output;
    int code = 0;
    if (outp && loader_format_for_path(outp) != VF_CACHE) {
        free(def);
        return cli_usage_error("index: -o %s: expected a .safetensors cache file", outp);
    }
    store *s = cli_open_vectors(o, &code);
    if (!s) {
        free(def);
        return code;
    }
    if (!outp && store_file_bytes(s) == 0) {
        fprintf(stderr, PROG ": index: %s is not a cache: give -o OUT.safetensors (a cache with the lists)\n", path);
        code = EV_ERR_USAGE;
        goto out;
    }
    if (!outp)
        outp = path;
    size_t n = o->words ? o->words : DEFAULT_LIST_WORDS, K = o->k_given ? o->k : DEFAULT_LIST_K;
    if (n > store_size(s))
        n = store_size(s);
    if (K >= store_size(s))
        K = store_size(s) > 1 ? store_size(s) - 1 : 1;
    int32_t *rows = NULL;
    float *scores = NULL;
    ev_error err = {0};
    double t0 = ev_seconds();
    if (sim_neighbor_lists_build(s, n, K, cli_progress_fn(), NULL, &rows, &scores, &err) != EV_OK) {
        code = cli_report(&err);
        goto out;
    }
    double t1 = ev_seconds();
    store_set_neighbor_lists(s, n, K, rows, scores);
    if (store_write_cache(s, outp, &err) != EV_OK) {
        code = cli_report(&err);
        goto out;
    }
    printf("%s: neighbour lists of the first %zu words, %zu each (%.1f s), written in %.1f s\n", outp, n, K, t1 - t0,
           ev_seconds() - t1);
out:
    store_close(s);
    free(def);
    return cli_finish_stdout(code);
}

int cmd_info(cli_opts *o)
{
    cli_opts io = *o;
    if (o->npos == 1)
        io.vectors = o->pos[0];
    int code = 0;
    store *s = cli_open_vectors(&io, &code);
    if (!s)
        return code;
    const char *src = store_meta(s, "source"), *sfmt = store_meta(s, "source_format"),
               *tv = store_meta(s, "tool_version");
    int cached = store_file_bytes(s) > 0;
    const char *fmt = cached ? "cache" : (sfmt ? sfmt : "?");
    const char *path = src;
    char *def = NULL;
    if (cached)
        path = cli_vectors_path(&io, &def);
    size_t K;
    const int32_t *lr;
    const float *ls;
    size_t n_lists = store_neighbor_lists(s, &K, &lr, &ls);
    struct stat st;
    long long bytes = path && stat(path, &st) == 0 ? (long long)st.st_size : -1;
    input *packed = NULL; /* what the file is packed in (and the size of an archive whose member was read) */
    ev_error ierr = {0};
    if (path && input_open(path, 0, &packed, &ierr) != EV_OK)
        ev_error_clear(&ierr);
    const char *comp = packed ? input_kind_name(input_compression(packed)) : "none";
    if (packed && bytes < 0)
        bytes = (long long)input_file_size(packed);
    if (o->format == OUT_JSON) {
        cJSON *r = cJSON_CreateObject();
        jsonstr_add_cstr(r, "path", path);
        cJSON_AddStringToObject(r, "format", fmt);
        cJSON_AddNumberToObject(r, "words", (double)store_size(s));
        cJSON_AddNumberToObject(r, "dim", (double)store_dim(s));
        cJSON_AddNumberToObject(r, "bytes", (double)bytes);
        cJSON_AddStringToObject(r, "compression", comp);
        if (cached) {
            jsonstr_add_cstr(r, "source", src);
            if (store_meta(s, "source_bytes")) /* the source path was not UTF-8: its bytes in hex (jsonstr.h) */
                cJSON_AddStringToObject(r, "source_bytes", store_meta(s, "source_bytes"));
            cJSON_AddStringToObject(r, "source_format", sfmt ? sfmt : "");
            cJSON_AddStringToObject(r, "tool_version", tv ? tv : "");
        }
        cJSON *nl = cJSON_AddObjectToObject(r, "neighbor_lists");
        cJSON_AddNumberToObject(nl, "words", (double)n_lists);
        cJSON_AddNumberToObject(nl, "k", (double)K);
        const subword_model *sub = store_subwords(s);
        if (sub) { /* fastText's n-grams: vectors for words outside the vocabulary */
            cJSON *sw = cJSON_AddObjectToObject(r, "subwords");
            cJSON_AddNumberToObject(sw, "buckets", (double)sub->bucket);
            cJSON_AddNumberToObject(sw, "minn", sub->minn);
            cJSON_AddNumberToObject(sw, "maxn", sub->maxn);
        } else
            cJSON_AddNullToObject(r, "subwords");
        code = cli_print_json(r);
    } else {
        printf("path          %s\n", path ? path : "?");
        printf("format        %s\n", fmt);
        if (strcmp(comp, "none") != 0)
            printf("compression   %s\n", comp);
        printf("words         %zu\n", store_size(s));
        printf("dim           %zu\n", store_dim(s));
        printf("bytes         %lld\n", bytes);
        if (cached) {
            printf("source        %s\n", src ? src : "?");
            printf("source format %s\n", sfmt ? sfmt : "?");
            printf("tool version  %s\n", tv ? tv : "?");
        }
        if (n_lists)
            printf("neighbours    listed for the first %zu words, %zu each (embvsattn index)\n", n_lists, K);
        else
            printf("neighbours    no lists (each query reads the matrix; embvsattn index adds them)\n");
        const subword_model *sub = store_subwords(s);
        if (sub)
            printf("subwords      %zu n-gram buckets, n-grams of %d to %d characters (fastText: words outside the "
                   "vocabulary get vectors)\n", sub->bucket, sub->minn, sub->maxn);
    }
    input_close(packed);
    free(def);
    store_close(s);
    return cli_finish_stdout(code);
}

static int vector_answer(cli_opts *o, store *s)
{
    int code = 0;
    size_t d = store_dim(s), answered = 0;
    cJSON *root = NULL, *results = NULL;
    if ((o->format == OUT_JSON || o->format == OUT_TSV)) {
        root = cJSON_CreateObject();
        results = cJSON_AddArrayToObject(root, "results");
    }
    char buf[32];
    float *sub = store_subwords(s) ? malloc(d * sizeof *sub) : NULL; /* an n-gram vector (fastText models) */
    for (int i = 0; i < o->npos; i++) {
        const char *q = o->pos[i];
        store_match m;
        long r = store_lookup(s, q, strlen(q), &m);
        size_t wl = 0;
        const char *w = r >= 0 ? store_word(s, (size_t)r, &wl) : NULL;
        const float *v = r >= 0 ? store_row(s, (size_t)r) : NULL;
        if (r < 0 && sub && store_subword_vector(s, q, strlen(q), sub) > 0) { /* fastText: from its n-grams */
            m = STORE_SUBWORD;
            v = sub;
        }
        if (v)
            answered++;
        if (root) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddItemToArray(results, e);
            jsonstr_add_cstr(e, "query", q);
            cJSON_AddStringToObject(e, "match", store_match_name(m));
            if (r >= 0)
                jsonstr_add(e, "word", w, wl);
            if (v)
                cJSON_AddItemToObject(e, "vector", cli_json_floats(v, d));
            continue;
        }
        /* one row per input word, headed by the word as typed (fastText print-word-vectors): an OOV word's row is
         * zeros, as fastText prints a word without n-grams, so that `paste words.txt -` stays aligned */
        char *qq = ev_quote(q, strlen(q), 200), *qw = w ? ev_quote(w, wl, 200) : NULL;
        if (!v)
            fprintf(stderr, PROG ": '%s': not in the vocabulary (%zu words); its row is zeros\n", qq ? qq : q,
                    store_size(s));
        if (m == STORE_LOWER)
            fprintf(stderr, PROG ": note: '%s' not in the vocabulary, using its lowercase '%s'\n", qq ? qq : q,
                    qw ? qw : "?");
        if (m == STORE_SUBWORD)
            fprintf(stderr, PROG ": note: '%s' not in the vocabulary, its vector is the mean of its character "
                    "n-grams' (fastText)\n", qq ? qq : q);
        free(qq);
        free(qw);
        fputs(q, stdout);
        for (size_t k = 0; k < d; k++) {
            numparse_format_float(v ? v[k] : 0.f, buf);
            putchar(' ');
            fputs(buf, stdout);
        }
        putchar('\n');
    }
    if (root)
        code = cli_print_doc(o, root, "results");
    free(sub);
    if (!code && answered == 0)
        code = EV_ERR_NOTFOUND;
    return code;
}

int cmd_vector(cli_opts *o) { return cli_word_command(o, vector_answer); }

