/* test_head_senses — the WordNet sense evaluation (head_senses.h): a hand-made case whose answers are known (static
 * gets exactly the examples of the sense its vector is nearest, uniform gets them all, the cluster standard errors
 * by hand, every kind of skip), a random case scored by a plain double-precision twin written here (gloss means,
 * uniform context, attn_forward_naive with residual, positions and self-exclusion) against the module, the same
 * results on 1 and 3 threads, and the sense file's errors (each names FILE:LINE). Any mismatch makes the process
 * exit non-zero. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attention.h"
#include "check.h"
#include "head_senses.h"
#include "store.h"
#include "test_rand.h"
#include "test_stores.h"
#include "view.h"

static ev_status parse(const char *text, senses_file *f, ev_error *err)
{
    return senses_parse(text, strlen(text), "t.tsv", f, err);
}

/* ---- a case with known answers ----------------------------------------------------------------------------- */

static void test_known(void)
{
    /* dims: 0 river-ish, 1 money-ish, 2 bank, 3 the, 4 bat, 5 animal */
    const char *words[] = {"bank", "river", "shore", "money", "cash", "the", "bat", "animal", "club", "lent"};
    const float v[][6] = {{0.3f, 0.1f, 1, 0, 0, 0}, {1, 0, 0, 0, 0, 0},     {0.9f, 0, 0, 0, 0, 0.1f},
                          {0, 1, 0, 0, 0, 0},       {0, 0.8f, 0.1f, 0, 0, 0}, {0, 0, 0, 0.1f, 0, 0},
                          {0, 0, 0, 0, 1, 0.2f},    {0, 0, 0, 0, 0, 1},       {0.5f, 0.5f, 0, 0, 0, 0},
                          {0, 0, 0, 0.05f, 0, 0}};
    store *s = test_named_store(words, &v[0][0], 10, 6);
    const char *text = "# a comment\r\n"
                       "G\tbank\tn1\tsloping land beside a river or shore\n"
                       "G\tbank\tn2\ta place for money and cash; bank\r\n"
                       "E\tbank\tn1\tthe river bank\n"
                       "E\tbank\tn1\tbank by the shore\n"
                       "E\tbank\tn1\tThe Bank of the river\n"
                       "E\tbank\tn1\tthe shore\n"              /* bank is not a token: skipped */
                       "E\tbank\tn2\tthe bank lent money\n"
                       "E\tbank\tn2\tcash at the bank\n"
                       "G\tbat\tn1\tflying animal\n"
                       "G\tbat\tn2\ta club\n"
                       "E\tbat\tn1\tthe bat is an animal\n"
                       "E\tbat\tn2\tswing the bat at the club\n"
                       "E\tbat\tn2\ta bat and a club\n"
                       "G\tzzz\tn1\triver\n"                   /* no vector: skipped */
                       "G\tzzz\tn2\tmoney\n"
                       "E\tzzz\tn1\tzzz river\n"
                       "G\tmoney\tn1\tcash\n"                  /* one gloss is only the word itself: skipped */
                       "G\tmoney\tn2\tmoney\n"
                       "E\tmoney\tn1\tmoney money"; /* no final line break */
    senses_file f;
    ev_error err = {0};
    if (parse(text, &f, &err) != EV_OK) {
        CHECK(0, "parse: %s", err.msg);
        ev_error_clear(&err);
        store_close(s);
        return;
    }
    CHECK(f.n_words == 4 && f.n_glosses == 8 && f.n_examples == 11, "%zu words %zu glosses %zu examples",
          f.n_words, f.n_glosses, f.n_examples);
    CHECK(strcmp(f.glosses[1].gloss, "a place for money and cash; bank") == 0, "CR dropped: '%s'", f.glosses[1].gloss);
    CHECK(f.examples[4].line == 8 && f.examples[4].sense == 1, "line %zu sense %zu", f.examples[4].line,
          f.examples[4].sense);
    attn_head *id = NULL;
    if (attn_head_identity(6, &id, &err) != EV_OK)
        CHECK(0, "identity: %s", err.msg);
    senses_pattern pat[4] = {{"static", SENSES_STATIC, {0}}, {"uniform", SENSES_UNIFORM, {0}},
                             {"identity", SENSES_HEAD, view_opts_for_head(id)}, {"others", SENSES_OTHERS, {0}}};
    pat[2].vo.residual = 1;
    senses_result r;
    if (senses_evaluate(s, &f, "t.tsv", pat, 4, 2, &r, &err) != EV_OK) {
        CHECK(0, "evaluate: %s", err.msg);
        ev_error_clear(&err);
    } else {
        CHECK(r.n == 8 && r.n_words == 2, "scored %zu of %zu words", r.n, r.n_words);
        CHECK(r.skipped_no_vector == 1 && r.skipped_not_found == 1 && r.skipped_senses == 1,
              "skips %zu %zu %zu", r.skipped_no_vector, r.skipped_not_found, r.skipped_senses);
        double acc, se, diff, sp;
        /* static: bank's vector is nearest its river sense (3 of its 5 examples), bat's its animal sense (1 of 3) */
        size_t k = senses_accuracy(&r, 0, &acc, &se);
        CHECK(k == 4 && acc == 0.5, "static %zu %g", k, acc);
        /* k_w = 3, 1; m_w = 5, 3; p = 0.5: Σ (k_w - p m_w)² = 0.5; SE = √(2/1 · 0.5) / 8 */
        CHECK(fabs(se - 0.125) < 1e-12, "static se %.17g", se);
        k = senses_accuracy(&r, 1, &acc, &se);
        CHECK(k == 8 && acc == 1.0 && se == 0.0, "uniform %zu %g %g", k, acc, se);
        k = senses_accuracy(&r, 3, &acc, &se);
        CHECK(k == 8, "others %zu", k);
        senses_paired(&r, 1, 0, &diff, &sp);
        CHECK(diff == 0.5 && fabs(sp - 0.125) < 1e-12, "paired %g %g", diff, sp);
        senses_paired(&r, 0, 1, &diff, &sp);
        CHECK(diff == -0.5 && fabs(sp - 0.125) < 1e-12, "paired reversed %g %g", diff, sp);
        CHECK(fabs(r.chance - 0.5) < 1e-12, "chance %g", r.chance);
        CHECK(r.cluster[0] == 0 && r.cluster[7] == 1 && r.example[3] == 4, "clusters");
        senses_result_free(&r);
    }
    /* no example scorable */
    senses_file g;
    if (parse("G\tzzz\tn1\triver\nG\tzzz\tn2\tmoney\nE\tzzz\tn1\tzzz river\n", &g, &err) == EV_OK) {
        CHECK(senses_evaluate(s, &g, "t.tsv", pat, 3, 1, &r, &err) == EV_ERR_NOTFOUND, "nothing scored");
        ev_error_clear(&err);
        senses_free(&g);
    }
    CHECK(senses_evaluate(s, &f, "t.tsv", pat, 0, 1, &r, &err) == EV_ERR_USAGE, "no pattern");
    ev_error_clear(&err);
    senses_free(&f);
    senses_free(&f); /* idempotent */
    attn_head_free(id);
    store_close(s);
}

/* ---- a random case against the plain twin ------------------------------------------------------------------ */

#define RV 60
#define RD 8
#define NTARGET 20

static double cos_d(const double *a, const double *b, size_t d)
{
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < d; i++) {
        ab += a[i] * b[i];
        aa += a[i] * a[i];
        bb += b[i] * b[i];
    }
    return aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 0.0;
}

/* The twin: whether pattern pat picks example e right (-1: skipped), with tokens split at spaces. */
static int twin(const store *s, const senses_file *f, size_t e, const senses_pattern *pat)
{
    const senses_example *ex = &f->examples[e];
    size_t w = 0;
    while (!(e >= f->words[w].first_example && e < f->words[w].first_example + f->words[w].n_examples))
        w++;
    const senses_word *sw = &f->words[w];
    long wrow = store_lookup(s, sw->word, strlen(sw->word), NULL);
    if (wrow < 0)
        return -1;
    double g[8][RD];
    int gok[8], ng = 0;
    for (size_t j = 0; j < sw->n_glosses; j++) {
        char buf[512];
        snprintf(buf, sizeof buf, "%s", f->glosses[sw->first_gloss + j].gloss);
        memset(g[j], 0, sizeof g[j]);
        int m = 0;
        for (char *t = strtok(buf, " "); t; t = strtok(NULL, " ")) {
            long r = store_lookup(s, t, strlen(t), NULL);
            if (r < 0 || r == wrow)
                continue;
            for (size_t k = 0; k < RD; k++)
                g[j][k] += store_row(s, (size_t)r)[k];
            m++;
        }
        for (size_t k = 0; k < RD; k++)
            g[j][k] = m ? g[j][k] / m : 0;
        gok[j] = m > 0;
        ng += gok[j];
    }
    size_t truth = ex->sense - sw->first_gloss;
    if (ng < 2 || !gok[truth])
        return -1;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", ex->text);
    long rows[64];
    size_t n = 0, t = SIZE_MAX;
    for (char *tok = strtok(buf, " "); tok; tok = strtok(NULL, " ")) {
        rows[n] = store_lookup(s, tok, strlen(tok), NULL);
        if (rows[n] == wrow && t == SIZE_MAX)
            t = n;
        n++;
    }
    if (t == SIZE_MAX)
        return -1;
    float X[64 * RD], A[64 * 64], Z[64 * RD];
    unsigned char mask[64];
    for (size_t i = 0; i < n; i++) {
        mask[i] = rows[i] < 0;
        for (size_t k = 0; k < RD; k++)
            X[i * RD + k] = rows[i] < 0 ? 0.0f : store_row(s, (size_t)rows[i])[k];
    }
    double v[RD];
    if (pat->kind == SENSES_STATIC) {
        for (size_t k = 0; k < RD; k++)
            v[k] = X[t * RD + k];
    } else if (pat->kind == SENSES_UNIFORM || pat->kind == SENSES_OTHERS) {
        double m = 0;
        for (size_t i = 0; i < n; i++)
            m += i != t && !mask[i];
        for (size_t k = 0; k < RD; k++) {
            double sum = 0;
            for (size_t i = 0; i < n; i++)
                if (i != t && !mask[i])
                    sum += X[i * RD + k];
            v[k] = (pat->kind == SENSES_UNIFORM ? X[t * RD + k] : 0.0) + (m > 0 ? sum / m : 0);
        }
    } else {
        const attn_head *h = pat->vo.head;
        attn_opts o = attn_opts_default();
        if (h->has_position_meta) {
            o.positions = h->positions;
            o.position_scale = h->position_scale;
        }
        ev_error err = {0};
        if (attn_forward_naive(h, X, mask, n, &o, A, Z, &err) != EV_OK) {
            CHECK(0, "naive: %s", err.msg);
            ev_error_clear(&err);
            return -2;
        }
        int residual = pat->vo.residual;
        for (size_t k = 0; k < RD; k++)
            v[k] = (double)Z[t * RD + k] + (residual ? (double)X[t * RD + k] : 0.0);
    }
    double best = cos_d(v, g[truth], RD);
    for (size_t j = 0; j < sw->n_glosses; j++)
        if (j != truth && gok[j] && !(best > cos_d(v, g[j], RD)))
            return 0;
    return 1;
}

static void test_twin(void)
{
    char names[RV][8];
    const char *words[RV];
    float *vecs = malloc(RV * RD * sizeof *vecs);
    for (size_t i = 0; i < RV; i++) {
        snprintf(names[i], sizeof names[i], "w%zu", i);
        words[i] = names[i];
    }
    for (size_t i = 0; i < RV * RD; i++)
        vecs[i] = nrand();
    store *s = test_named_store(words, vecs, RV, RD);
    free(vecs);
    /* the sense file: targets w0 … w19 (and "oov" without a vector), 2-4 senses each, glosses of other words (the
     * word itself and an unknown word among them), 1-3 examples a sense, a tenth without the word */
    size_t cap = 1 << 16, len = 0;
    char *text = malloc(cap);
    for (size_t w = 0; w <= NTARGET; w++) {
        const char *word = w < NTARGET ? words[w] : "oov";
        size_t ns = 2 + w % 3;
        for (size_t j = 0; j < ns; j++) {
            len += (size_t)snprintf(text + len, cap - len, "G\t%s\ts%zu\t", word, j);
            size_t m = 1 + (size_t)(urand() * 4);
            for (size_t i = 0; i < m; i++)
                len += (size_t)snprintf(text + len, cap - len, "%s ", urand() < 0.1 ? word : urand() < 0.1 ? "qq" :
                                        words[NTARGET + (size_t)(urand() * (RV - NTARGET))]);
            len += (size_t)snprintf(text + len, cap - len, "w%zu\n", NTARGET + j);
        }
        for (size_t j = 0; j < ns; j++)
            for (size_t x = 0, nx = 1 + (size_t)(urand() * 3); x < nx; x++) {
                len += (size_t)snprintf(text + len, cap - len, "E\t%s\ts%zu\t", word, j);
                size_t m = 2 + (size_t)(urand() * 6), at = urand() < 0.1 ? m + 1 : (size_t)(urand() * m);
                for (size_t i = 0; i < m; i++) {
                    if (i == at || (i == m - 1 && urand() < 0.2))
                        len += (size_t)snprintf(text + len, cap - len, "%s ", word);
                    len += (size_t)snprintf(text + len, cap - len, "%s%s", urand() < 0.15 ? "qq" :
                                            words[(size_t)(urand() * RV)], i + 1 < m ? " " : "\n");
                }
            }
    }
    senses_file f;
    ev_error err = {0};
    if (senses_parse(text, len, "r.tsv", &f, &err) != EV_OK) {
        CHECK(0, "parse: %s", err.msg);
        ev_error_clear(&err);
        free(text);
        store_close(s);
        return;
    }
    free(text);
    attn_head *id = NULL, *r4 = NULL, *r8 = NULL;
    if (attn_head_identity(RD, &id, &err) != EV_OK || attn_head_random(RD, 4, 3, &r4, &err) != EV_OK ||
        attn_head_random(RD, RD, 5, &r8, &err) != EV_OK) {
        CHECK(0, "heads: %s", err.msg);
        return;
    }
    r8->positions = ATTN_POS_SINUSOIDAL; /* as a head file's metadata would say */
    r8->position_scale = 0.3f;
    r8->has_position_meta = 1;
    r8->exclude_self = 1;
    senses_pattern pat[6] = {{"static", SENSES_STATIC, {0}}, {"uniform", SENSES_UNIFORM, {0}},
                             {"others", SENSES_OTHERS, {0}},
                             {"identity", SENSES_HEAD, view_opts_for_head(id)},
                             {"random", SENSES_HEAD, view_opts_for_head(r4)},
                             {"r8", SENSES_HEAD, view_opts_for_head(r8)}};
    pat[3].vo.residual = pat[4].vo.residual = 1;
    CHECK(pat[5].vo.attn.positions == ATTN_POS_SINUSOIDAL && pat[5].vo.attn.position_scale == 0.3f &&
          !pat[5].vo.residual, "view_opts_for_head");
    senses_result r1, r3;
    if (senses_evaluate(s, &f, "r.tsv", pat, 6, 1, &r1, &err) != EV_OK ||
        senses_evaluate(s, &f, "r.tsv", pat, 6, 3, &r3, &err) != EV_OK) {
        CHECK(0, "evaluate: %s", err.msg);
        ev_error_clear(&err);
        return;
    }
    CHECK(r1.n == r3.n && memcmp(r1.correct, r3.correct, 6 * r1.n) == 0 && r1.skipped_not_found == r3.skipped_not_found,
          "1 and 3 threads differ");
    CHECK(r1.n > 40 && r1.skipped_not_found > 0 && r1.skipped_no_vector > 0, "scored %zu, skipped %zu %zu", r1.n,
          r1.skipped_not_found, r1.skipped_no_vector);
    size_t i = 0, mism[6] = {0}, scored = 0, right[6] = {0};
    for (size_t e = 0; e < f.n_examples; e++) {
        int t0 = twin(s, &f, e, &pat[0]);
        if (t0 < 0) {
            CHECK(i >= r1.n || r1.example[i] != e, "example %zu scored, the twin skips it", e);
            continue;
        }
        scored++;
        if (i >= r1.n || r1.example[i] != e) {
            CHECK(0, "example %zu skipped, the twin scores it", e);
            continue;
        }
        for (size_t p = 0; p < 6; p++) {
            int t = p ? twin(s, &f, e, &pat[p]) : t0;
            mism[p] += t != r1.correct[p * r1.n + i];
            right[p] += t == 1;
        }
        i++;
    }
    CHECK(scored == r1.n, "twin scored %zu, module %zu", scored, r1.n);
    /* static and uniform: float vectors, double cosines, as the twin; the heads through sgemm: a near tie may
     * differ */
    CHECK(mism[0] == 0 && mism[1] == 0 && mism[2] == 0, "static %zu, uniform %zu, others %zu mismatches", mism[0],
          mism[1], mism[2]);
    for (size_t p = 3; p < 6; p++)
        CHECK(mism[p] <= 1, "%s: %zu mismatches of %zu", pat[p].name, mism[p], r1.n);
    CHECK(right[1] > 0 && right[5] < r1.n, "degenerate case: uniform %zu, r8 %zu of %zu", right[1], right[5], r1.n);
    /* the cluster standard error by the formula, from the result's arrays */
    for (size_t p = 0; p < 6; p++) {
        double acc, se, k = 0, ss = 0;
        senses_accuracy(&r1, p, &acc, &se);
        for (size_t j = 0; j < r1.n; j++)
            k += r1.correct[p * r1.n + j];
        double pp = k / (double)r1.n;
        for (size_t c = 0; c < r1.n_words; c++) {
            double kw = 0, mw = 0;
            for (size_t j = 0; j < r1.n; j++)
                if (r1.cluster[j] == c) {
                    kw += r1.correct[p * r1.n + j];
                    mw++;
                }
            ss += (kw - pp * mw) * (kw - pp * mw);
        }
        double want = sqrt((double)r1.n_words / (double)(r1.n_words - 1) * ss) / (double)r1.n;
        CHECK(fabs(acc - pp) < 1e-12 && fabs(se - want) < 1e-12 && se > 0, "%s: %g ± %g, want %g ± %g",
              pat[p].name, acc, se, pp, want);
    }
    senses_result_free(&r1);
    senses_result_free(&r3);
    senses_result_free(&r3);
    senses_free(&f);
    attn_head_free(id);
    attn_head_free(r4);
    attn_head_free(r8);
    store_close(s);
}

/* ---- the file's errors ------------------------------------------------------------------------------------- */

static void bad(const char *text, const char *want)
{
    senses_file f;
    ev_error err = {0};
    ev_status st = parse(text, &f, &err);
    CHECK(st == EV_ERR_FORMAT && err.msg && strstr(err.msg, want), "'%s': status %d, message '%s', want '%s'", text,
          (int)st, err.msg ? err.msg : "", want);
    CHECK(f.words == NULL && f.n_words == 0, "not emptied on failure");
    ev_error_clear(&err);
}

static void test_errors(void)
{
    bad("G\tbank\tn1\triver\nG\tbank\tn2\n", "t.tsv:2: expected 4 tab-separated fields (G|E, WORD, SENSE, TEXT), found 3");
    bad("G\tbank\tn1\triver\tshore\n", "t.tsv:1: expected 4 tab-separated fields");
    bad("# c\nX\tbank\tn1\triver\n", "t.tsv:2: expected a record type G or E in field 1, found 'X'");
    bad("G\t\tn1\triver\n", "t.tsv:1: expected a non-empty WORD in field 2, found an empty field");
    bad("G\tbank\tn1\t\n", "t.tsv:1: expected a non-empty DEFINITION or EXAMPLE in field 4");
    bad("G\tbank\tn1\triver\nE\tbank\tn2\tthe bank\n", "t.tsv:2: expected a sense of 'bank' with a G line before this E "
        "line, found 'n2'");
    bad("E\tbank\tn1\tthe bank\n", "t.tsv:1: expected a sense of 'bank' with a G line");
    bad("G\tbank\tn1\triver\nE\tbank\tn1\tthe bank\nG\tbank\tn2\tmoney\n",
        "t.tsv:3: expected the G lines of 'bank' before its E lines (its first E line is line 2), found a G line");
    bad("G\tbank\tn1\triver\nG\tbank\tn1\tmoney\n", "t.tsv:2: expected one G line per sense of 'bank', found a "
        "second G line of sense 'n1' (the first is line 1)");
    bad("G\tbank\tn1\triver\nG\tbat\tn1\tclub\nG\tcow\tn1\tanimal\nG\tbank\tn2\tmoney\n",
        "t.tsv:4: expected the lines of a word together, found 'bank' again (its lines began at line 1");
    bad("G\tbank\tn1\tri\xffver\n", "t.tsv:1: expected UTF-8 text without NUL bytes, found byte 0xff (byte 13 of "
        "the line)");
    bad("# only comments\n", "t.tsv: expected G and E records");
    bad("", "t.tsv: expected G and E records");
    bad("G\tbank\tn1\triver\n\nG\tbank\tn2\tmoney\n", "t.tsv:2: expected 4 tab-separated fields");
    senses_file f;
    ev_error err = {0};
    CHECK(senses_parse("G\tbank\tn1\tri\0ver\n", 17, "t.tsv", &f, &err) == EV_ERR_FORMAT && err.msg &&
          strstr(err.msg, "t.tsv:1: expected UTF-8 text without NUL bytes, found byte 0x00 (byte 13"), "NUL: %s", err.msg);
    ev_error_clear(&err);
    CHECK(senses_read("/nonexistent/senses.tsv", &f, &err) == EV_ERR_IO, "missing file");
    ev_error_clear(&err);
    CHECK(senses_read("/tmp", &f, &err) == EV_ERR_IO, "a directory");
    ev_error_clear(&err);
}

int main(void)
{
    test_known();
    test_twin();
    test_errors();
    return check_done("test_head_senses");
}
