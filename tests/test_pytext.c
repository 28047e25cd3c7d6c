/* test_pytext — Python's text rules (pytext.h) against Python itself: str.upper() and float() of the tricky strings
 * scripts/make-similarity-fixtures.py wrote into tests/fixtures/similarity/expected.json, and str.strip/split and
 * the strict UTF-8 check on hand-written cases. */
#define _POSIX_C_SOURCE 200809L
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "pytext.h"
#include "similarity_fixtures.h"

static char tmpdir[] = "/tmp/test_pytext.XXXXXX";

static void test_upper(const cJSON *exp)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(exp, "upper"))
    {
        const char *w = cJSON_GetArrayItem(e, 0)->valuestring, *want = cJSON_GetArrayItem(e, 1)->valuestring;
        size_t n;
        char *u = pytext_upper(w, strlen(w), &n);
        CHECK(u && n == strlen(want) && strcmp(u, want) == 0, "upper('%s') = '%s', Python says '%s'", w, u ? u : "?",
              want);
        free(u);
    }
    size_t n;
    char *u = pytext_upper("a\xff\xc3", 3, &n); /* invalid UTF-8 copied unchanged */
    CHECK(u && n == 3 && memcmp(u, "A\xff\xc3", 3) == 0, "upper of invalid UTF-8");
    free(u);
}


/* pytext_upper_into: the same text as pytext_upper when the buffer is large enough, (size_t)-1 when it is not. */
static void test_upper_into(void)
{
    const char *w = "Stra\xc3\x9f" "e \xef\xac\x83"; /* "Straße ﬃ" → "STRASSE FFI" */
    char buf[16];
    size_t n = pytext_upper_into(w, strlen(w), buf, sizeof buf);
    CHECK(n == 11 && strcmp(buf, "STRASSE FFI") == 0, "upper_into: %zu '%s'", n, n == (size_t)-1 ? "" : buf);
    CHECK(pytext_upper_into(w, strlen(w), buf, 11) == (size_t)-1, "upper_into: 11 bytes do not hold 11 + NUL");
    CHECK(pytext_upper_into("abc", 3, buf, 4) == 3 && strcmp(buf, "ABC") == 0, "upper_into: exact fit");
    CHECK(pytext_upper_into("", 0, buf, 1) == 0 && buf[0] == '\0', "upper_into: empty");
}

/* float() of each fixture string: accepted exactly when Python accepts it, and to the same double. */
static void test_float(const cJSON *exp)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(exp, "float"))
    {
        const char *txt = cJSON_GetArrayItem(e, 0)->valuestring;
        const cJSON *want = cJSON_GetArrayItem(e, 1);
        double got = 0;
        int ok = pytext_float(txt, strlen(txt), &got) == 0;
        CHECK(ok == !cJSON_IsNull(want), "float('%s'): %s, Python: %s", txt, ok ? "accepted" : "refused",
              cJSON_IsNull(want) ? "ValueError" : want->valuestring);
        if (ok && !cJSON_IsNull(want)) {
            double w = strtod(want->valuestring, NULL); /* Python's repr: exact */
            CHECK(got == w || (isnan(got) && isnan(w)), "float('%s') = %.17g, Python %s", txt, got, want->valuestring);
        }
    }
}

/* str.strip() and str.split() with ASCII and Unicode whitespace. */
static void test_strip_split(void)
{
    const char *t = "\xc2\xa0 \tking\xe3\x80\x80queen\xc2\x85man \x1f"; /* NBSP, ideographic space, NEL, \x1f */
    const char *p = t;
    size_t n = strlen(t);
    pytext_strip(&p, &n);
    CHECK(n == 17 && memcmp(p, "king", 4) == 0 && memcmp(p + n - 3, "man", 3) == 0, "strip: %zu bytes from '%.4s'", n,
          p);
    const char *f[2];
    size_t fl[2];
    size_t nf = pytext_split(t, strlen(t), f, fl, 2);
    CHECK(nf == 3 && fl[0] == 4 && memcmp(f[0], "king", 4) == 0 && fl[1] == 5 && memcmp(f[1], "queen", 5) == 0,
          "split: %zu fields", nf);
    CHECK(pytext_split(" \t\n", 3, f, fl, 2) == 0, "split of whitespace only");
    p = "\xe2\x80\x8b"; /* U+200B ZERO WIDTH SPACE is not whitespace in Python */
    n = 3;
    pytext_strip(&p, &n);
    CHECK(n == 3, "strip removed U+200B");
    p = "\x80 a";        /* an invalid byte is not whitespace and stops the strip */
    n = 3;
    pytext_strip(&p, &n);
    CHECK(n == 3, "strip past an invalid byte");
}

/* The strict UTF-8 check of a line. */
static void test_check_utf8(void)
{
    ev_error err = {0};
    CHECK(pytext_check_utf8("f", 1, "caf\xc3\xa9\n", 6, &err) == EV_OK, "valid UTF-8 refused");
    CHECK(pytext_check_utf8("f.txt", 7, "ab\xed\xa0\x80", 5, &err) == EV_ERR_FORMAT && err.msg &&
              strstr(err.msg, "f.txt:7: expected UTF-8 text, found the byte 0xED at byte 3 of the line"),
          "surrogate: %s", err.msg ? err.msg : "accepted");
    ev_error_clear(&err);
    CHECK(pytext_check_utf8("f.txt", 2, "\xc0\xaf", 2, &err) == EV_ERR_FORMAT, "overlong '/' accepted");
    ev_error_clear(&err);
}

int main(void)
{
    cJSON *exp;
    if (fixtures_open(tmpdir, &exp, NULL)) {
        test_upper(exp);
        test_float(exp);
    }
    test_upper_into();
    test_strip_split();
    test_check_utf8();
    fixtures_close(tmpdir, exp, NULL);
    return check_done("test_pytext");
}
