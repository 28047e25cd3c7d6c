/* cli_head — `embvsattn train` (learn an attention head on a corpus), `embvsattn eval head` (masked-word
 * prediction of a trained head against untrained attention patterns) and `embvsattn eval senses` (WordNet senses
 * told apart by vectors in context). The model is head_model.h's, the loop head_train.h's, the evaluations
 * head_eval.h's and head_senses.h's. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_internal.h"
#include "corpus.h"
#include "head_context.h"
#include "head_eval.h"
#include "head_file.h"
#include "head_model.h"
#include "head_senses.h"
#include "head_train.h"
#include "parallel.h"
#include "util.h"
#include "view.h"

/* The corpus label recorded in the head file: the files' base names (no directories: reproducible bytes). */
static char *corpus_label(const cli_opts *o, int first)
{
    size_t n = 1;
    for (int i = first; i < o->npos; i++)
        n += strlen(util_base_name(o->pos[i])) + 1;
    char *s = malloc(n);
    if (!s)
        return NULL;
    s[0] = '\0';
    for (int i = first; i < o->npos; i++) {
        if (i > first)
            strcat(s, ",");
        strcat(s, util_base_name(o->pos[i]));
    }
    return s;
}

/* ---- train ------------------------------------------------------------------------------------------------ */

typedef struct {
    FILE *log;
    int tty;
    double last_draw;
} train_progress;

static void on_progress(void *ctx, const head_progress *pr)
{
    train_progress *tp = ctx;
    if (tp->log) {
        fprintf(tp->log, "%zu %zu %zu %.6f %.6g %.1f %.0f\n", pr->step, pr->epoch, pr->tokens, pr->loss,
                (double)pr->lr, pr->seconds, pr->tokens_per_s);
        if (pr->step % 50 == 0)
            fflush(tp->log);
    }
    if (tp->tty && (pr->seconds - tp->last_draw >= 0.25 || pr->tokens >= pr->total_tokens)) {
        tp->last_draw = pr->seconds;
        double left = pr->tokens_per_s > 0 ? (double)(pr->total_tokens - pr->tokens) / pr->tokens_per_s : 0;
        fprintf(stderr, "\r\033[Ktrain: epoch %zu/%zu  %3.0f%%  loss %.4f  %.0f tokens/s  %.0f s left", pr->epoch,
                pr->epochs, 100.0 * (double)pr->tokens / (double)pr->total_tokens, pr->loss, pr->tokens_per_s, left);
        fflush(stderr);
    }
}

int cmd_train(cli_opts *o)
{
    if (!o->output)
        return cli_usage_error("%s", "train: -o FILE is required (where to write the head)");
    int code = 0;
    store *s = cli_open_vectors(o, &code);
    if (!s)
        return code;
    ev_error err = {0};
    corpus c;
    attn_head *p = NULL;
    char *label = NULL, *log_path = NULL;
    train_progress tp = {NULL, isatty(STDERR_FILENO), -1};
    double t0 = ev_seconds();
    if (corpus_read(s, (const char *const *)o->pos, (size_t)o->npos, o->max_tokens, &c, &err) != EV_OK) {
        code = cli_report(&err);
        store_close(s);
        return code;
    }
    double t_read = ev_seconds() - t0;
    int context = !o->objective || strcmp(o->objective, "context") == 0;
    if (!context && (o->rows_given || o->beta_given || o->pronoun_given)) {
        corpus_free(&c);
        store_close(s);
        return cli_usage_error("%s", "train: --rows, --beta and --pronoun apply to --objective context only");
    }
    head_model_opts mo = head_model_opts_default();
    ctx_opts co = ctx_opts_default();
    co.d_k = mo.d_k = o->dk;
    if (o->positions)
        co.positions = mo.positions = strcmp(o->positions, "sinusoidal") == 0 ? ATTN_POS_SINUSOIDAL : ATTN_POS_NONE;
    if (o->position_scale_given)
        co.position_scale = mo.position_scale = o->position_scale;
    if (o->rows_given)
        co.rows = o->rows;
    if (o->beta_given)
        co.beta = o->beta;
    if (o->pronoun_given)
        co.pronoun = o->pronoun;
    size_t epochs = o->epochs ? o->epochs : context ? CTX_DEFAULT_EPOCHS : HEAD_DEFAULT_EPOCHS;
    float lr = o->lr > 0 ? o->lr : context ? CTX_DEFAULT_LR : HEAD_DEFAULT_LR;
    size_t batch_tokens = context ? CTX_DEFAULT_BATCH_TOKENS : HEAD_DEFAULT_BATCH_TOKENS;
    head_train_opts to = head_train_opts_default();
    to.epochs = epochs;
    to.lr = lr;
    to.batch_tokens = batch_tokens;
    to.seed = o->seed_given ? o->seed : 1;
    to.threads = o->threads > 0 ? o->threads : parallel_default_threads();
    to.progress = on_progress;
    to.progress_ctx = &tp;
    log_path = o->log ? strdup(o->log) : ev_strdup_printf("%s.log", o->output);
    label = corpus_label(o, 0);
    if (!log_path || !label) {
        code = EV_ERR_NOMEM;
        fprintf(stderr, PROG ": out of memory\n");
        goto done;
    }
    if (!(tp.log = fopen(log_path, "w"))) {
        fprintf(stderr, PROG ": %s: cannot write the training log: %s\n", log_path, strerror(errno));
        code = EV_ERR_WRITE;
        goto done;
    }
    fprintf(tp.log, "# embvsattn train %s: %s objective, %zu sentences, %zu tokens; seed %llu, %d threads\n"
                    "# step epoch tokens loss(epoch mean so far) lr seconds tokens_per_s\n",
            label, context ? "context" : "masked-word", c.n_sent, c.n_tok, (unsigned long long)to.seed, to.threads);
    fflush(tp.log);
    head_train_stats ts = {0};
    ev_status st = context ? ctx_train(s, &c, &co, &to, &p, &ts, &err) : head_model_train(s, &c, &mo, &to, &p, &ts, &err);
    if (tp.tty)
        fprintf(stderr, "\r\033[K");
    if (st != EV_OK) {
        fprintf(tp.log, "# failed: %s\n", err.msg ? err.msg : "training failed");
        code = cli_report(&err);
        goto done;
    }
    if (context) {
        char *pronoun = co.pronoun > 0 ? ev_strdup_printf(", antecedent examples weighted %g", co.pronoun)
                                       : NULL;
        p->description = ev_strdup_printf("trained by embvsattn train on %s: context (each word predicts a hidden "
                                          "word; %zu rows a sentence, beta %g%s), %zu epochs, seed %llu", label,
                                          co.rows, co.beta, pronoun ? pronoun : "", epochs,
                                          (unsigned long long)to.seed);
        free(pronoun);
    }
    else
        p->description = ev_strdup_printf("trained by embvsattn train on %s: masked-word prediction, %zu epochs, "
                                          "seed %llu", label, epochs, (unsigned long long)to.seed);
    head_file_meta m = {label, to.seed, epochs, context ? 0 : HEAD_DEFAULT_NEGATIVES, batch_tokens,
                        (size_t)to.threads, c.n_tok, c.n_sent, lr, ts.final_loss};
    if (!p->description || head_file_save(p, &m, o->output, &err) != EV_OK) {
        /* the log stays (it was written as training went, to be followed): it says that no head came of it */
        fprintf(tp.log, "# failed: %s\n", p->description && err.msg ? err.msg : "out of memory");
        code = p->description ? cli_report(&err) : EV_ERR_NOMEM;
        goto done;
    }
    fprintf(tp.log, "# done: %zu steps, final epoch loss %.6f, %.1f s\n", ts.steps, ts.final_loss, ts.seconds);
    double tps = ts.seconds > 0 ? (double)(epochs * c.n_tok) / ts.seconds : 0;
    if (o->format == OUT_JSON) {
        cJSON *root = cJSON_CreateObject();
        jsonstr_add_cstr(root, "output", o->output);
        jsonstr_add_cstr(root, "log", log_path);
        cJSON *cj = cJSON_AddObjectToObject(root, "corpus");
        jsonstr_add_cstr(cj, "files", label);
        cJSON_AddNumberToObject(cj, "lines", (double)c.n_lines);
        cJSON_AddNumberToObject(cj, "sentences", (double)c.n_sent);
        cJSON_AddNumberToObject(cj, "tokens", (double)c.n_tok);
        cJSON_AddNumberToObject(cj, "known_tokens", (double)c.n_known);
        cJSON_AddNumberToObject(cj, "targets", (double)ts.targets);
        cJSON_AddNumberToObject(cj, "read_seconds", round(t_read * 1000) / 1000);
        cJSON_AddNumberToObject(root, "epochs", (double)epochs);
        cJSON_AddNumberToObject(root, "steps", (double)ts.steps);
        cJSON_AddNumberToObject(root, "seed", (double)to.seed);
        cJSON_AddNumberToObject(root, "threads", to.threads);
        cJSON_AddNumberToObject(root, "final_loss", round(ts.final_loss * 1e6) / 1e6);
        cJSON_AddNumberToObject(root, "seconds", round(ts.seconds * 1000) / 1000);
        cJSON_AddNumberToObject(root, "tokens_per_second", round(tps));
        code = cli_print_json(root);
    } else {
        printf("trained head written to %s (training log: %s)\n", o->output, log_path);
        printf("corpus: %s: %zu lines, %zu sentences, %zu tokens (%zu with a vector; %zu %s among the %zu most "
               "frequent words), read in %.1f s\n", label, c.n_lines, c.n_sent, c.n_tok, c.n_known, ts.targets,
               context ? "predicting words an epoch, each predicting a hidden word" : "prediction targets",
               p->candidates, t_read);
        printf("training: %zu epochs, %zu steps, seed %llu, %d threads: final epoch loss %.4f, %.1f s, %.0f tokens/s\n",
               epochs, ts.steps, (unsigned long long)to.seed, to.threads, ts.final_loss, ts.seconds, tps);
    }
done:
    if (tp.log && fclose(tp.log) != 0 && !code) {
        fprintf(stderr, PROG ": %s: error writing the training log\n", log_path);
        code = EV_ERR_WRITE;
    }
    free(label);
    free(log_path);
    attn_head_free(p);
    corpus_free(&c);
    store_close(s);
    return cli_finish_stdout(code);
}

/* ---- eval head -------------------------------------------------------------------------------------------- */

static double prop(size_t k, size_t n) { return n ? (double)k / (double)n : 0.0; }
static double se_prop(size_t k, size_t n)
{
    double p = prop(k, n);
    return n ? sqrt(p * (1 - p) / (double)n) : 0.0;
}

static cJSON *json_rate(size_t k, size_t n)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "correct", (double)k);
    cJSON_AddNumberToObject(e, "rate", round(prop(k, n) * 1e6) / 1e6);
    cJSON_AddNumberToObject(e, "se", round(se_prop(k, n) * 1e6) / 1e6);
    return e;
}

static void print_rate(size_t k, size_t n) { printf("  %.4f ± %.4f", prop(k, n), se_prop(k, n)); }

int cmd_eval_head(cli_opts *o)
{
    if (o->npos < 3)
        return cli_usage_error("%s", "eval head: expected HEAD CORPUS... (HEAD: a head file, or 'trained' for the "
                                     "built-in one)");
    if (o->method || o->restrict_n)
        return cli_usage_error("%s", "eval head: --method and --restrict do not apply (they are for eval analogies "
                                     "and pairs)");
    const char *spec = o->pos[1];
    int code = 0;
    store *s = cli_open_vectors(o, &code);
    if (!s)
        return code;
    ev_error err = {0};
    attn_head *p = NULL;
    corpus c = {0};
    char *label = NULL;
    ev_status st = head_file_is_builtin(spec) ? head_file_builtin(s, spec, &p, &err)
                                              : head_file_load(spec, store_dim(s), &p, &err);
    if (st == EV_OK && p->task != ATTN_TASK_CONTEXT)
        st = head_model_complete(p, &err); /* a head file from another tool: the masked-word model's defaults */
    if (st != EV_OK) {
        code = cli_report(&err);
        goto done;
    }
    if (p->candidates > store_size(s)) {
        fprintf(stderr, PROG ": %s: the head predicts %zu candidate words, the vectors have only %zu\n", spec,
                p->candidates, store_size(s));
        code = EV_ERR_FORMAT;
        goto done;
    }
    if (corpus_read(s, (const char *const *)o->pos + 2, (size_t)o->npos - 2, o->max_tokens, &c, &err) != EV_OK) {
        code = cli_report(&err);
        goto done;
    }
    head_eval_result r;
    if (head_evaluate(s, p, &c, o->threads > 0 ? o->threads : parallel_default_threads(), &r, &err) != EV_OK) {
        code = cli_report(&err);
        goto done;
    }
    if (!(label = corpus_label(o, 2))) {
        code = EV_ERR_NOMEM;
        goto done;
    }
    const head_eval_counts *tr = &r.k[HEAD_PATTERN_TRAINED];
    if (o->format == OUT_JSON) {
        cJSON *root = cJSON_CreateObject();
        jsonstr_add_cstr(root, "head", spec);
        jsonstr_add_cstr(root, "description", p->description);
        cJSON_AddStringToObject(root, "task", p->task == ATTN_TASK_CONTEXT ? "context" : "masked-word");
        jsonstr_add_cstr(root, "corpus", label);
        cJSON_AddNumberToObject(root, "lines", (double)c.n_lines);
        cJSON_AddNumberToObject(root, "tokens", (double)c.n_tok);
        cJSON_AddNumberToObject(root, "candidates", (double)r.n_cand);
        cJSON_AddNumberToObject(root, "positions", (double)tr->n);
        cJSON_AddNumberToObject(root, "content_positions", (double)tr->n_content);
        cJSON_AddNumberToObject(root, "skipped_outside_candidates", (double)r.skipped);
        cJSON *rows = cJSON_AddArrayToObject(root, "attention");
        for (int k = 0; k < HEAD_PATTERNS; k++) {
            const head_eval_counts *e = &r.k[k];
            cJSON *row = cJSON_CreateObject();
            cJSON_AddItemToArray(rows, row);
            cJSON_AddStringToObject(row, "name", head_pattern_name((head_pattern)k));
            cJSON *all = cJSON_AddObjectToObject(row, "all");
            cJSON_AddItemToObject(all, "top1", json_rate(e->top1, e->n));
            cJSON_AddItemToObject(all, "top10", json_rate(e->top10, e->n));
            cJSON *cw = cJSON_AddObjectToObject(row, "content");
            cJSON_AddItemToObject(cw, "top1", json_rate(e->top1_content, e->n_content));
            cJSON_AddItemToObject(cw, "top10", json_rate(e->top10_content, e->n_content));
            if (k == HEAD_PATTERN_TRAINED)
                continue;
            cJSON *m = cJSON_AddObjectToObject(row, "trained_minus_this_top10");
            double da = prop(tr->top10, tr->n) - prop(e->top10, e->n);
            double dc = prop(tr->top10_content, tr->n_content) - prop(e->top10_content, e->n_content);
            double sa = head_eval_se_top10(e, 0);
            double sc = head_eval_se_top10(e, 1);
            cJSON_AddNumberToObject(m, "all", round(da * 1e6) / 1e6);
            cJSON_AddNumberToObject(m, "all_se_paired", round(sa * 1e6) / 1e6);
            cJSON_AddNumberToObject(m, "content", round(dc * 1e6) / 1e6);
            cJSON_AddNumberToObject(m, "content_se_paired", round(sc * 1e6) / 1e6);
        }
        cJSON_AddNumberToObject(root, "seconds", round(r.seconds * 1000) / 1000);
        code = cli_print_json(root);
        goto done;
    }
    printf("head:   %s\n", p->description ? p->description : spec);
    printf("corpus: %s: %zu lines, %zu tokens; %zu positions predicted among the %zu most frequent words (%zu of "
           "them content words), %zu known words outside those skipped\n",
           label, c.n_lines, c.n_tok, tr->n, r.n_cand, tr->n_content, r.skipped);
    if (p->task == ATTN_TASK_CONTEXT)
        printf("task:   context (one word of each sentence hidden, chosen by a hash of the sentence; every other "
               "word's vector in context predicts it, full softmax); rate ± standard error\n\n");
    else
        printf("task:   masked-word prediction ([MASK] query, its own key excluded, full softmax); rate ± standard "
               "error\n\n");
    printf("%-10s  %-37s  %s\n", "attention", "all positions", "content words");
    printf("%-10s  %-16s %-18s  %-16s %s\n", "", "  top-1", "  top-10", "  top-1", "  top-10");
    for (int k = 0; k < HEAD_PATTERNS; k++) {
        const head_eval_counts *e = &r.k[k];
        printf("%-10s", head_pattern_name((head_pattern)k));
        print_rate(e->top1, e->n);
        print_rate(e->top10, e->n);
        printf(" ");
        print_rate(e->top1_content, e->n_content);
        print_rate(e->top10_content, e->n_content);
        printf("\n");
    }
    printf("\ntop-10, trained minus each baseline ± paired standard error, clustered by sentence (margin in standard "
           "errors):\n");
    for (int k = 1; k < HEAD_PATTERNS; k++) {
        const head_eval_counts *e = &r.k[k];
        double da = prop(tr->top10, tr->n) - prop(e->top10, e->n);
        double dc = prop(tr->top10_content, tr->n_content) - prop(e->top10_content, e->n_content);
        double sa = head_eval_se_top10(e, 0);
        double sc = head_eval_se_top10(e, 1);
        printf("  %-9s all %+.4f ± %.4f (%5.1f SE)   content %+.4f ± %.4f (%5.1f SE)\n",
               head_pattern_name((head_pattern)k), da, sa, sa > 0 ? da / sa : 0.0, dc, sc,
               sc > 0 ? dc / sc : 0.0);
    }
    printf("every row uses the trained head's readout (W_V, W_O, bias) and inputs; only the attention weights "
           "differ.\n");
done:
    free(label);
    attn_head_free(p);
    corpus_free(&c);
    store_close(s);
    return cli_finish_stdout(code);
}

/* ---- eval senses ------------------------------------------------------------------------------------------ */

#define SENSES_RANDOM_DK 64   /* the random baseline's d_k: that of the trained heads (HEAD_DEFAULT_DK) */
#define SENSES_BASELINES 5    /* static, uniform, others, identity, random: the rows before the heads */

static double round6(double x) { return round(x * 1e6) / 1e6; }

int cmd_eval_senses(cli_opts *o)
{
    if (o->npos > 2)
        return cli_usage_error("%s", "eval senses: expected at most one FILE (default: senses.tsv in the data "
                                     "directory)");
    if (o->method || o->restrict_n || o->max_tokens)
        return cli_usage_error("%s", "eval senses: --method, --restrict and --max-tokens do not apply");
    char *path = o->npos == 2 ? strdup(o->pos[1]) : cli_data_path("senses.tsv");
    char *specs = strdup(o->head_all ? o->head_all : "context,mlm"); /* --head a --head b,c: a,b,c */
    if (!path || !specs) {
        free(path);
        free(specs);
        fprintf(stderr, PROG ": out of memory\n");
        return EV_ERR_NOMEM;
    }
    int code = 0;
    ev_error err = {0};
    senses_file f = {0};
    senses_result r = {0};
    attn_head *heads[SENSES_BASELINES + 16] = {0};
    senses_pattern pat[SENSES_BASELINES + 16];
    size_t np = 0;
    store *s = cli_open_vectors(o, &code);
    if (!s)
        goto done;
    size_t d = store_dim(s);
    if (senses_read(path, &f, &err) != EV_OK) {
        if (err.code == EV_ERR_IO && o->npos < 2) { /* the default: say how to make it */
            fprintf(stderr, PROG ": no sense file at %s (%s): run scripts/fetch-corpus.sh to make it, or give "
                    "FILE\n", path, err.msg ? err.msg : "cannot read it");
            ev_error_clear(&err);
            code = EV_ERR_IO;
        } else {
            code = cli_report(&err);
        }
        goto done;
    }
    memset(pat, 0, sizeof pat);
    pat[np++] = (senses_pattern){.name = "static", .kind = SENSES_STATIC};
    pat[np++] = (senses_pattern){.name = "uniform", .kind = SENSES_UNIFORM};
    pat[np++] = (senses_pattern){.name = "others", .kind = SENSES_OTHERS};
    if (attn_head_identity(d, &heads[np], &err) != EV_OK ||
        attn_head_random(d, SENSES_RANDOM_DK, ATTN_DEFAULT_SEED, &heads[np + 1], &err) != EV_OK) {
        code = cli_report(&err);
        goto done;
    }
    pat[np] = (senses_pattern){.name = "identity", .kind = SENSES_HEAD, .vo = view_opts_for_head(heads[np])};
    pat[np++].vo.residual = 1;
    pat[np] = (senses_pattern){.name = "random", .kind = SENSES_HEAD, .vo = view_opts_for_head(heads[np])};
    pat[np++].vo.residual = 1;
    for (char *spec = specs, *next; spec; spec = next) {
        next = strchr(spec, ',');
        if (next)
            *next++ = '\0';
        if (!*spec) {
            code = cli_usage_error("%s", "--head: expected SPEC[,SPEC...] without an empty name");
            goto done;
        }
        if (np == sizeof pat / sizeof pat[0]) {
            code = cli_usage_error("--head: at most 16 heads, found more ('%s' …)", spec);
            goto done;
        }
        if (head_file_resolve(spec, s, SENSES_RANDOM_DK, &heads[np], &err) != EV_OK) {
            if (err.code == EV_ERR_NOTFOUND && !o->head) { /* a built-in head this binary lacks: the others go on */
                fprintf(stderr, PROG ": note: eval senses: head '%s' left out: %s\n", spec,
                        err.msg ? err.msg : "not found");
                ev_error_clear(&err);
                continue;
            }
            code = cli_report(&err);
            goto done;
        }
        pat[np] = (senses_pattern){.name = spec, .kind = SENSES_HEAD, .vo = view_opts_for_head(heads[np])};
        np++;
    }
    int threads = o->threads > 0 ? o->threads : parallel_default_threads();
    if (senses_evaluate(s, &f, path, pat, np, threads, &r, &err) != EV_OK) {
        code = cli_report(&err);
        goto done;
    }
    double acc[SENSES_BASELINES + 16], se[SENSES_BASELINES + 16];
    size_t k[SENSES_BASELINES + 16], best = 0;
    for (size_t p = 0; p < np; p++) {
        k[p] = senses_accuracy(&r, p, &acc[p], &se[p]);
        if (p < SENSES_BASELINES && acc[p] > acc[best])
            best = p;
    }
    size_t skipped = r.skipped_no_vector + r.skipped_not_found + r.skipped_senses;
    if (o->format == OUT_JSON) {
        cJSON *root = cJSON_CreateObject();
        jsonstr_add_cstr(root, "file", path);
        cJSON_AddNumberToObject(root, "words_in_file", (double)f.n_words);
        cJSON_AddNumberToObject(root, "senses_in_file", (double)f.n_glosses);
        cJSON_AddNumberToObject(root, "examples_in_file", (double)f.n_examples);
        cJSON_AddNumberToObject(root, "words", (double)r.n_words);
        cJSON_AddNumberToObject(root, "examples", (double)r.n);
        cJSON_AddNumberToObject(root, "skipped", (double)skipped);
        cJSON *sk = cJSON_AddObjectToObject(root, "skipped_by_reason");
        cJSON_AddNumberToObject(sk, "word_without_vector", (double)r.skipped_no_vector);
        cJSON_AddNumberToObject(sk, "word_not_in_example", (double)r.skipped_not_found);
        cJSON_AddNumberToObject(sk, "fewer_than_2_glossed_senses", (double)r.skipped_senses);
        cJSON_AddNumberToObject(root, "chance", round6(r.chance));
        cJSON_AddStringToObject(root, "best_baseline", pat[best].name);
        cJSON *rows = cJSON_AddArrayToObject(root, "patterns");
        for (size_t p = 0; p < np; p++) {
            cJSON *row = cJSON_CreateObject();
            cJSON_AddItemToArray(rows, row);
            jsonstr_add_cstr(row, "name", pat[p].name);
            if (pat[p].kind == SENSES_HEAD) {
                jsonstr_add_cstr(row, "description", pat[p].vo.head->description ? pat[p].vo.head->description
                                                                                 : pat[p].name);
                cJSON_AddBoolToObject(row, "residual", pat[p].vo.residual);
            }
            cJSON_AddNumberToObject(row, "correct", (double)k[p]);
            cJSON_AddNumberToObject(row, "n", (double)r.n);
            cJSON_AddNumberToObject(row, "accuracy", round6(acc[p]));
            cJSON_AddNumberToObject(row, "se", round6(se[p]));
            if (p < SENSES_BASELINES)
                continue;
            double diff, sp;
            senses_paired(&r, p, best, &diff, &sp);
            cJSON *m = cJSON_AddObjectToObject(row, "margin_over_best_baseline");
            cJSON_AddStringToObject(m, "baseline", pat[best].name);
            cJSON_AddNumberToObject(m, "diff", round6(diff));
            cJSON_AddNumberToObject(m, "se_paired", round6(sp));
            cJSON_AddNumberToObject(m, "z", round(sp > 0 ? diff / sp * 1000 : 0) / 1000);
        }
        cJSON_AddNumberToObject(root, "seconds", round(r.seconds * 1000) / 1000);
        code = cli_print_json(root);
        goto done;
    }
    printf("senses: %s: %zu words, %zu senses, %zu examples\n", path, f.n_words, f.n_glosses, f.n_examples);
    printf("scored: %zu examples of %zu words (chance %.4f); skipped %zu: %zu of a word without a vector, %zu "
           "without their word as a token, %zu of a word with < 2 glossed senses\n",
           r.n, r.n_words, r.chance, skipped, r.skipped_no_vector, r.skipped_not_found, r.skipped_senses);
    printf("task:   the sense whose definition (mean of its words' vectors) is nearest by cosine to the word's "
           "vector in the example;\n        accuracy ± cluster (by word) standard error\n\n");
    int width = 10;
    for (size_t p = 0; p < np; p++)
        if (strlen(pat[p].name) > (size_t)width)
            width = (int)strlen(pat[p].name);
    printf("%-*s %8s %8s  %-17s  %s\n", width, "pattern", "correct", "n", "accuracy ± SE",
           "head minus best baseline");
    for (size_t p = 0; p < np; p++) {
        printf("%-*s %8zu %8zu  %.4f ± %.4f", width, pat[p].name, k[p], r.n, acc[p], se[p]);
        if (p >= SENSES_BASELINES) {
            double diff, sp;
            senses_paired(&r, p, best, &diff, &sp);
            printf("   %+.4f ± %.4f (%.1f SE) over %s", diff, sp, sp > 0 ? diff / sp : 0.0, pat[best].name);
        }
        printf("\n");
    }
    printf("\nstatic: the word's own vector (the same for every sense); uniform: + the mean of the other words; "
           "others:\nthat mean alone (no residual); identity, random (d_k %d, seed %u): those heads with the "
           "residual; a head:\nits vector in context as the main view shows it (mlm: no residual).\n",
           SENSES_RANDOM_DK, ATTN_DEFAULT_SEED);
    printf("margins: paired cluster standard error of the per-example difference. %.2f s\n", r.seconds);
done:
    senses_result_free(&r);
    senses_free(&f);
    for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++)
        attn_head_free(heads[i]);
    store_close(s);
    free(specs);
    free(path);
    return cli_finish_stdout(code);
}
