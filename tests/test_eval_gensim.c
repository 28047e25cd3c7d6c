/* test_eval_gensim — the gensim-compatible evaluations (eval_gensim.h) against gensim's figures on the small store
 * (tests/fixtures/similarity, written by scripts/make-similarity-fixtures.py), with 1-3 worker threads, and their
 * errors: missing, unreadable or malformed files. */
#define _POSIX_C_SOURCE 200809L
#include <cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "eval_gensim.h"
#include "similarity_fixtures.h"

static char tmpdir[] = "/tmp/test_eval_gensim.XXXXXX";

static char *write_tmp(const char *name, const char *text)
{
    char *path = malloc(strlen(tmpdir) + strlen(name) + 2);
    sprintf(path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
    return path;
}

static void check_sections(const eval_analogies_result *ev, const cJSON *sections, const char *what)
{
    CHECK(ev->n_sections == (size_t)cJSON_GetArraySize(sections), "%s: %zu sections, gensim %d", what, ev->n_sections,
          cJSON_GetArraySize(sections));
    for (size_t i = 0; i < ev->n_sections && i < (size_t)cJSON_GetArraySize(sections); i++) {
        const cJSON *x = cJSON_GetArrayItem(sections, (int)i);
        CHECK(strcmp(ev->sections[i].name, cJSON_GetArrayItem(x, 0)->valuestring) == 0 &&
                  ev->sections[i].correct == (size_t)cJSON_GetArrayItem(x, 1)->valueint &&
                  ev->sections[i].total == (size_t)cJSON_GetArrayItem(x, 2)->valueint,
              "%s: section '%s' %zu/%zu, gensim '%s' %d/%d", what, ev->sections[i].name, ev->sections[i].correct,
              ev->sections[i].total, cJSON_GetArrayItem(x, 0)->valuestring, cJSON_GetArrayItem(x, 1)->valueint,
              cJSON_GetArrayItem(x, 2)->valueint);
    }
}

static void test_evaluations(const store *s, const cJSON *exp)
{
    ev_error err = {0};
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(exp, "eval_analogies"))
    {
        for (int threads = 1; threads <= 3; threads++) {
            eval_analogies_opts o = {(size_t)cJSON_GetObjectItem(e, "restrict")->valueint, SIM_ADD, threads, NULL, NULL, 0};
            eval_analogies_result ev;
            char what[64];
            snprintf(what, sizeof what, "analogies restrict %zu, %d threads", o.restrict_n, threads);
            CHECK(eval_analogies(s, FIX "questions.txt", &o, &ev, &err) == EV_OK, "%s", err.msg ? err.msg : "?");
            ev_error_clear(&err);
            check_sections(&ev, cJSON_GetObjectItem(e, "sections"), what);
            CHECK(ev.correct == (size_t)cJSON_GetObjectItem(e, "correct")->valueint &&
                      ev.total == (size_t)cJSON_GetObjectItem(e, "total")->valueint,
                  "%s: %zu/%zu", what, ev.correct, ev.total);
            CHECK(ev.questions == 74 && ev.invalid == 3, "%s: %zu questions, %zu invalid lines", what, ev.questions,
                  ev.invalid);
            CHECK(ev.oov == ev.questions - ev.total, "%s: oov %zu", what, ev.oov);
            CHECK(ev.sem_total + ev.syn_total == ev.total && ev.sem_correct + ev.syn_correct == ev.correct,
                  "%s: semantic/syntactic split", what);
            eval_analogies_free(&ev);
        }
    }
    const cJSON *mul = cJSON_GetObjectItem(exp, "eval_analogies_mul");
    eval_analogies_opts om = {0, SIM_MUL, 2, NULL, NULL, 0};
    eval_analogies_result ev;
    CHECK(eval_analogies(s, FIX "questions.txt", &om, &ev, &err) == EV_OK, "%s", err.msg ? err.msg : "?");
    ev_error_clear(&err);
    check_sections(&ev, cJSON_GetObjectItem(mul, "sections"), "analogies 3CosMul");
    CHECK(ev.n_oov_words == 1 && strcmp(ev.oov_words[0], "NOSUCHWORD") == 0, "oov words %zu", ev.n_oov_words);
    eval_analogies_free(&ev);
    eval_analogies_free(NULL);

    cJSON_ArrayForEach(e, cJSON_GetObjectItem(exp, "eval_pairs"))
    {
        size_t r = (size_t)cJSON_GetObjectItem(e, "restrict")->valueint;
        eval_pairs_result pe;
        CHECK(eval_pairs(s, FIX "pairs.tsv", r, &pe, &err) == EV_OK, "%s", err.msg ? err.msg : "?");
        ev_error_clear(&err);
        double p = cJSON_GetObjectItem(e, "pearson")->valuedouble, sp = cJSON_GetObjectItem(e, "spearman")->valuedouble,
               oov = cJSON_GetObjectItem(e, "oov_ratio")->valuedouble;
        CHECK(fabs(pe.pearson - p) <= CORR_TOL && fabs(pe.spearman - sp) <= CORR_TOL && fabs(pe.oov_ratio - oov) < 1e-9,
              "pairs restrict %zu: pearson %.10f spearman %.10f oov %.4f, gensim %.10f %.10f %.4f", r, pe.pearson,
              pe.spearman, pe.oov_ratio, p, sp, oov);
        CHECK(pe.invalid == 3, "pairs: %zu invalid lines (only two, four fields, bad score; not the comment, not the blank)",
              pe.invalid);
        eval_pairs_free(&pe);
    }
    eval_pairs_free(NULL);

    /* Python's float() on the score field: which lines count */
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(exp, "float"))
    {
        const char *txt = cJSON_GetArrayItem(e, 0)->valuestring;
        int valid = !cJSON_IsNull(cJSON_GetArrayItem(e, 1));
        if (strchr(txt, '\n'))
            continue; /* a line break would end the line */
        size_t n = strlen(txt) + 64;
        char *body = malloc(n);
        snprintf(body, n, "king\tqueen\t%s\nman\twoman\t1\nking\tman\t2\n", txt);
        char *path = write_tmp("float.tsv", body);
        eval_pairs_result pe;
        ev_status st = eval_pairs(s, path, 0, &pe, &err);
        CHECK(st == EV_OK && pe.invalid == (size_t)!valid && pe.pairs == (size_t)(2 + valid),
              "score '%s': %s, %zu invalid (Python: %s)", txt, err.msg ? err.msg : "ok", st == EV_OK ? pe.invalid : 0,
              valid ? "valid" : "invalid");
        ev_error_clear(&err);
        if (st == EV_OK)
            eval_pairs_free(&pe);
        unlink(path);
        free(path);
        free(body);
    }
}

/* --details: one entry per question, consistent with the section counts; the semantic/syntactic split only for
 * questions-words' sections (five, then gram*). */
static void test_details_and_split(const store *s)
{
    ev_error err = {0};
    eval_analogies_opts o = {0, SIM_ADD, 2, NULL, NULL, 1};
    eval_analogies_result ev;
    CHECK(eval_analogies(s, FIX "questions.txt", &o, &ev, &err) == EV_OK, "%s", err.msg ? err.msg : "?");
    ev_error_clear(&err);
    CHECK(!ev.has_split, "a file with a gram section among its first five has no semantic/syntactic split");
    size_t *correct = calloc(ev.n_sections + 1, sizeof *correct), *total = calloc(ev.n_sections + 1, sizeof *total);
    size_t oov = 0;
    for (size_t i = 0; ev.details && i < ev.questions; i++) {
        const eval_question *q = &ev.details[i];
        CHECK(q->section < ev.n_sections && q->line > 1, "question %zu: section %zu line %zu", i, q->section, q->line);
        CHECK(!q->oov || (q->prediction == -1 && !q->correct), "question %zu: oov with an answer", i);
        CHECK(!q->correct || q->prediction >= 0, "question %zu: correct without a prediction", i);
        oov += q->oov;
        if (!q->oov && q->section < ev.n_sections) {
            total[q->section]++;
            correct[q->section] += q->correct;
        }
        if (q->correct) { /* the prediction is the expected word, case-insensitively (ASCII here) */
            const char *w = store_word(s, (size_t)q->prediction, NULL), *x = q->words[3];
            size_t j = 0;
            while (w[j] && x[j] && tolower((unsigned char)w[j]) == tolower((unsigned char)x[j]))
                j++;
            CHECK(!w[j] && !x[j], "question %zu: correct, but predicted '%s' for '%s'", i, w, x);
        }
    }
    CHECK(ev.details != NULL && oov == ev.oov, "details: %zu oov, the summary %zu", oov, ev.oov);
    for (size_t i = 0; i < ev.n_sections; i++)
        CHECK(correct[i] == ev.sections[i].correct && total[i] == ev.sections[i].total,
              "section %zu: details %zu/%zu, summary %zu/%zu", i, correct[i], total[i], ev.sections[i].correct,
              ev.sections[i].total);
    free(correct);
    free(total);
    eval_analogies_free(&ev);
    /* questions-words' layout: five sections, then gram1-… */
    const char *names[] = {"capital-common-countries", "capital-world", "currency", "city-in-state", "family",
                           "gram1-adjective-to-adverb", "gram2-opposite"};
    char text[1024] = "";
    for (size_t i = 0; i < 7; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), ": %s\nman woman king queen\n", names[i]);
    char *path = write_tmp("qw.txt", text);
    eval_analogies_opts plain = {0, SIM_ADD, 1, NULL, NULL, 0};
    CHECK(eval_analogies(s, path, &plain, &ev, &err) == EV_OK, "%s", err.msg ? err.msg : "?");
    ev_error_clear(&err);
    CHECK(ev.has_split && ev.sem_total == 5 && ev.syn_total == 2 && ev.details == NULL,
          "questions-words layout: split %d, %zu + %zu", ev.has_split, ev.sem_total, ev.syn_total);
    eval_analogies_free(&ev);
    free(path);
    path = write_tmp("four.txt", ": a\nman woman king queen\n: b\nman woman king queen\n: c\nman woman king queen\n"
                                 ": gram-d\nman woman king queen\n");
    CHECK(eval_analogies(s, path, &plain, &ev, &err) == EV_OK, "%s", err.msg ? err.msg : "?");
    ev_error_clear(&err);
    CHECK(!ev.has_split, "four sections: no semantic/syntactic split");
    eval_analogies_free(&ev);
    free(path);
    /* pairs: one detail per valid line, the OOV ones marked, the cosines those of the correlation */
    eval_pairs_result pr;
    CHECK(eval_pairs(s, FIX "pairs.tsv", 0, &pr, &err) == EV_OK, "%s", err.msg ? err.msg : "?");
    ev_error_clear(&err);
    size_t po = 0;
    for (size_t i = 0; i < pr.n_details; i++) {
        po += pr.details[i].oov;
        CHECK(pr.details[i].oov || (pr.details[i].cosine >= -1.0001f && pr.details[i].cosine <= 1.0001f),
              "pair line %zu: cosine %g", pr.details[i].line, pr.details[i].cosine);
    }
    CHECK(pr.n_details == pr.pairs + pr.oov && po == pr.oov, "pair details %zu (%zu oov), summary %zu + %zu",
          pr.n_details, po, pr.pairs, pr.oov);
    eval_pairs_free(&pr);
}

static void test_eval_errors(const store *s)
{
    ev_error err = {0};
    eval_analogies_result ev;
    eval_pairs_result pe;
    CHECK(eval_analogies(s, "/nonexistent/q.txt", NULL, &ev, &err) == EV_ERR_IO && strstr(err.msg, "cannot open"),
          "missing file: %s", err.msg ? err.msg : "?");
    ev_error_clear(&err);
    CHECK(eval_analogies(s, tmpdir, NULL, &ev, &err) == EV_ERR_IO && strstr(err.msg, "is a directory"),
          "directory: %s", err.msg ? err.msg : "?");
    ev_error_clear(&err);
    char *p = write_tmp("nosection.txt", "king queen man woman\n");
    CHECK(eval_analogies(s, p, NULL, &ev, &err) == EV_ERR_FORMAT && strstr(err.msg, "nosection.txt:1: expected a section"),
          "question before a section: %s", err.msg ? err.msg : "?");
    ev_error_clear(&err);
    unlink(p);
    free(p);
    p = write_tmp("utf8.txt", ": s\nking queen man woman\nking \xc3\x28 man woman\n");
    CHECK(eval_analogies(s, p, NULL, &ev, &err) == EV_ERR_FORMAT && strstr(err.msg, "utf8.txt:3: expected UTF-8"),
          "invalid UTF-8: %s", err.msg ? err.msg : "?");
    ev_error_clear(&err);
    unlink(p);
    free(p);
    p = write_tmp("empty.txt", ": only a section\n\n");
    CHECK(eval_analogies(s, p, NULL, &ev, &err) == EV_ERR_FORMAT && strstr(err.msg, "found none"),
          "no questions: %s", err.msg ? err.msg : "?");
    ev_error_clear(&err);
    unlink(p);
    free(p);
    p = write_tmp("alloov.txt", ": s\nzzz yyy xxx www\n");
    CHECK(eval_analogies(s, p, NULL, &ev, &err) == EV_OK && ev.total == 0 && ev.oov == 1 && ev.n_oov_words == 4,
          "all OOV: %s", err.msg ? err.msg : "ok");
    if (!err.msg)
        eval_analogies_free(&ev);
    ev_error_clear(&err);
    unlink(p);
    free(p);
    p = write_tmp("pairs-oov.tsv", "zzz\tking\t1\nyyy\tqueen\t2\n");
    CHECK(eval_pairs(s, p, 0, &pe, &err) == EV_ERR_NOTFOUND, "pairs all OOV: %s", err.msg ? err.msg : "ok");
    ev_error_clear(&err);
    unlink(p);
    free(p);
    p = write_tmp("pairs-none.tsv", "# nothing\nnot a pair\n");
    CHECK(eval_pairs(s, p, 0, &pe, &err) == EV_ERR_FORMAT && strstr(err.msg, "found none"), "pairs none: %s",
          err.msg ? err.msg : "ok");
    ev_error_clear(&err);
    unlink(p);
    free(p);
    p = write_tmp("pairs-utf8.tsv", "king\tqueen\t1\r\nman\xff\twoman\t2\r\n");
    CHECK(eval_pairs(s, p, 0, &pe, &err) == EV_ERR_FORMAT && strstr(err.msg, "pairs-utf8.tsv:2: expected UTF-8"),
          "pairs invalid UTF-8: %s", err.msg ? err.msg : "ok");
    ev_error_clear(&err);
    unlink(p);
    free(p);
    /* one pair, and a constant column: NaN as scipy, no crash */
    p = write_tmp("pairs-one.tsv", "king\tqueen\t1\n");
    CHECK(eval_pairs(s, p, 0, &pe, &err) == EV_OK && pe.pairs == 1 && isnan(pe.pearson) && isnan(pe.spearman),
          "one pair: %s", err.msg ? err.msg : "ok");
    if (!err.msg)
        eval_pairs_free(&pe);
    ev_error_clear(&err);
    unlink(p);
    free(p);
    /* two-column lines: rejected as gensim does, read by eval_pairs_ex(unscored) into the details only */
    p = write_tmp("pairs-two.tsv", "king\tqueen\nman\twoman\t7.5\nfish\tice\t2\nking\tzzz\n\tqueen\nking\t\n");
    CHECK(eval_pairs(s, p, 0, &pe, &err) == EV_OK && pe.pairs == 2 && pe.invalid == 4 && pe.unscored == 0,
          "two columns, strict: %s (pairs %zu invalid %zu)", err.msg ? err.msg : "ok", pe.pairs, pe.invalid);
    double strict_r = err.msg ? NAN : pe.pearson;
    if (!err.msg)
        eval_pairs_free(&pe);
    ev_error_clear(&err);
    CHECK(eval_pairs_ex(s, p, 0, 1, &pe, &err) == EV_OK && pe.pairs == 2 && pe.unscored == 2 && pe.invalid == 2 &&
              pe.n_details == 4 && pe.oov == 0,
          "two columns, unscored: %s (pairs %zu unscored %zu invalid %zu details %zu)", err.msg ? err.msg : "ok",
          pe.pairs, pe.unscored, pe.invalid, pe.n_details);
    if (!err.msg) {
        CHECK(pe.pearson == strict_r, "the unscored lines leave the correlation as it was: %.17g vs %.17g",
              pe.pearson, strict_r);
        const eval_pair_detail *d = pe.details;
        CHECK(pe.n_details == 4 && d[0].line == 1 && isnan(d[0].gold) && !d[0].oov &&
                  d[0].cosine == sim_similarity(s, (size_t)store_find(s, "king", 4), (size_t)store_find(s, "queen", 5)),
              "an unscored pair has its cosine and no gold");
        CHECK(pe.n_details == 4 && d[3].line == 4 && isnan(d[3].gold) && d[3].oov && d[3].cosine == 0.f,
              "an unscored pair with an unknown word: oov, no cosine");
        eval_pairs_free(&pe);
    }
    ev_error_clear(&err);
    unlink(p);
    free(p);
    p = write_tmp("pairs-const.tsv", "king\tqueen\t1\nman\twoman\t1\nfish\tice\t1\n");
    CHECK(eval_pairs(s, p, 0, &pe, &err) == EV_OK && pe.pairs == 3 && isnan(pe.pearson) && isnan(pe.spearman),
          "constant gold: %s", err.msg ? err.msg : "ok");
    if (!err.msg)
        eval_pairs_free(&pe);
    ev_error_clear(&err);
    unlink(p);
    free(p);
}

int main(void)
{
    cJSON *exp;
    store *s;
    if (fixtures_open(tmpdir, &exp, &s)) {
        test_evaluations(s, exp);
        test_eval_errors(s);
        test_details_and_split(s);
    }
    fixtures_close(tmpdir, exp, s);
    return check_done("test_eval_gensim");
}
