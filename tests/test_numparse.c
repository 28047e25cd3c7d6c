/* test_numparse — unit and randomized differential tests of numparse against strtof (C locale).
 *
 * Build: cc -std=c11 -O2 -Iinclude src/numparse.c tests/test_numparse.c -o test_numparse
 * Prints "test_numparse: N checks, M failed"; exits non-zero when anything failed.
 */
#include "numparse.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static uint32_t bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float float_of(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static const char *status_name(numparse_status st)
{
    switch (st) {
    case NUMPARSE_OK: return "OK";
    case NUMPARSE_SYNTAX: return "SYNTAX";
    case NUMPARSE_NONFINITE: return "NONFINITE";
    case NUMPARSE_RANGE: return "RANGE";
    }
    return "?";
}

/* numparse_float_token on buf[0..avail), whose first len bytes are the token tok: it must stop at buf + len and return what
 * numparse_float returned (st, v), the same bits when OK, leaving *out untouched otherwise. */
static void check_token(const char *tok, const char *buf, size_t len, size_t avail, numparse_status st, float v,
                        const char *where)
{
    const float sentinel = float_of(0x7fc01234u);
    float t = sentinel;
    const char *stop = NULL;
    numparse_status tst = numparse_float_token(buf, buf + avail, &t, &stop);
    CHECK(stop == buf + len, "\"%.80s\" %s: numparse_float_token stopped at %td, expected %zu", tok, where,
          stop ? stop - buf : -1, len);
    CHECK(tst == st, "\"%.80s\" %s: numparse_float_token says %s, numparse_float %s", tok, where, status_name(tst),
          status_name(st));
    if (tst == NUMPARSE_OK && st == NUMPARSE_OK)
        CHECK(bits_of(t) == bits_of(v), "\"%.80s\" %s: numparse_float_token 0x%08x, numparse_float 0x%08x", tok, where,
              bits_of(t), bits_of(v));
    else if (tst != NUMPARSE_OK)
        CHECK(bits_of(t) == bits_of(sentinel), "\"%.80s\" %s: *out modified on status %s", tok, where,
              status_name(tst));
}

/* Parses tok[0..len) from an exact-size heap copy (no NUL after it), so a read past the end is caught by ASan.
 * Checks that *out is untouched on failure. */
static numparse_status parse_exact(const char *tok, size_t len, float *out)
{
    char *copy = malloc(len ? len : 1);
    if (!copy) {
        fprintf(stderr, "test_numparse: out of memory\n");
        exit(2);
    }
    memcpy(copy, tok, len);
    const float sentinel = float_of(0x7fc01234u); /* a NaN payload numparse never produces */
    float v = sentinel;
    numparse_status st = numparse_float(copy, copy + len, &v);
    if (st != NUMPARSE_OK)
        CHECK(bits_of(v) == bits_of(sentinel), "*out modified on status %s", status_name(st));
    *out = v;
    size_t blank = 0;
    while (blank < len && (unsigned char)tok[blank] > ' ')
        blank++;
    if (blank == len) /* a whole token: numparse_float_token must agree, at the end of the buffer … */
        check_token(tok, copy, len, len, st, v, "at the end");
    free(copy);
    if (blank == len) { /* … and before each kind of separator, with more text after it */
        static const char seps[] = " \t\r\n\001";
        char *longer = malloc(len + 2);
        if (!longer) {
            fprintf(stderr, "test_numparse: out of memory\n");
            exit(2);
        }
        memcpy(longer, tok, len);
        longer[len + 1] = '7';
        for (size_t i = 0; i < sizeof seps - 1; i++) {
            longer[len] = seps[i];
            check_token(tok, longer, len, len + 2, st, v, "before a separator");
        }
        free(longer);
    }
    return st;
}

/* The header's grammar, written independently: [+-]? ( digits [ '.' digits? ] | '.' digits ) ( [eE] [+-]? digits )? */
static int grammatical(const char *s)
{
    int digits = 0;
    if (*s == '+' || *s == '-')
        s++;
    while (*s >= '0' && *s <= '9')
        s++, digits++;
    if (*s == '.')
        for (s++; *s >= '0' && *s <= '9'; s++)
            digits++;
    if (!digits)
        return 0;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (!(*s >= '0' && *s <= '9'))
            return 0;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    return *s == '\0';
}

/* What the contract says numparse must return for a token without NaN/inf spellings: SYNTAX when the grammar
 * rejects it, otherwise strtof's value (which must consume the whole token), RANGE when that is infinite. */
static numparse_status reference(const char *tok, float *ref)
{
    if (!grammatical(tok))
        return NUMPARSE_SYNTAX;
    char *end;
    *ref = strtof(tok, &end);
    CHECK(*end == '\0', "\"%.80s\": strtof stops early although the token is grammatical", tok);
    return isinf(*ref) ? NUMPARSE_RANGE : NUMPARSE_OK;
}

/* tok (NUL-terminated, grammatical finite syntax) must give `want` and, when OK, strtof's bits. */
static void expect(const char *tok, numparse_status want)
{
    float v, ref;
    numparse_status st = parse_exact(tok, strlen(tok), &v);
    CHECK(st == want, "\"%.80s\": status %s, expected %s", tok, status_name(st), status_name(want));
    if (want == NUMPARSE_OK || want == NUMPARSE_RANGE) {
        numparse_status rst = reference(tok, &ref);
        CHECK(rst == want, "\"%.80s\": strtof reference says %s (test table wrong?)", tok, status_name(rst));
        if (st == NUMPARSE_OK && rst == NUMPARSE_OK)
            CHECK(bits_of(v) == bits_of(ref), "\"%.80s\": got %.9g (0x%08x), strtof %.9g (0x%08x)", tok, (double)v,
                  bits_of(v), (double)ref, bits_of(ref));
    }
}

/* tok must parse OK to exactly the bits `want` (and strtof must agree). */
static void expect_bits(const char *tok, uint32_t want)
{
    expect(tok, NUMPARSE_OK);
    float v;
    if (parse_exact(tok, strlen(tok), &v) == NUMPARSE_OK)
        CHECK(bits_of(v) == want, "\"%.80s\": got 0x%08x, expected 0x%08x", tok, bits_of(v), want);
}

/* Differential check of one random token: numparse must agree with strtof on acceptance and bits. */
static void diff(const char *tok, size_t len)
{
    float v, ref;
    numparse_status st = parse_exact(tok, len, &v);
    numparse_status rst = reference(tok, &ref);
    CHECK(st == rst, "\"%.80s\": status %s, strtof says %s", tok, status_name(st), status_name(rst));
    if (st == NUMPARSE_OK && rst == NUMPARSE_OK)
        CHECK(bits_of(v) == bits_of(ref), "\"%.80s\": got 0x%08x, strtof 0x%08x", tok, bits_of(v), bits_of(ref));
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rnd(void) /* splitmix64 */
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static unsigned rnd_below(unsigned n)
{
    return (unsigned)(rnd() % n);
}

static void test_fixed_cases(void)
{
    /* the edges of numparse_float_token's one-pass path (m <= 2^24, at most 10 fraction digits) and just past them */
    expect_bits("167772.16", bits_of(167772.16f));
    expect_bits("1677721.7", bits_of(1677721.7f));
    expect_bits("0.0000000001", bits_of(1e-10f));
    expect_bits("0.00000000001", bits_of(1e-11f));
    expect_bits("0.1234567891", bits_of(0.1234567891f));
    expect_bits("-0.038194", bits_of(-0.038194f));
    expect_bits("000000000000000000000000000001.5", bits_of(1.5f));
    expect_bits("+.5", bits_of(0.5f));
    expect_bits("5.", bits_of(5.0f));
    expect_bits("-0.000", 0x80000000u);
    expect(".", NUMPARSE_SYNTAX);
    expect("-", NUMPARSE_SYNTAX);
    expect("1.2.3", NUMPARSE_SYNTAX);
    expect("--1", NUMPARSE_SYNTAX);
    /* exponents */
    expect_bits("1e5", bits_of(1e5f));
    expect_bits("1E-5", bits_of(1e-5f));
    expect_bits("1e+05", bits_of(1e5f));
    expect("4.4848e-05", NUMPARSE_OK);
    expect("-6.9233e-05", NUMPARSE_OK);
    expect("1e-45", NUMPARSE_OK);
    expect_bits("1e-46", 0);
    expect_bits("7e-46", 0);         /* just below 2^-150 (the midpoint to the smallest subnormal) */
    expect_bits("7.1e-46", 1);       /* just above: smallest subnormal */
    expect_bits("1.4e-45", 1);
    expect_bits("-1.4e-45", 0x80000001u);
    expect_bits("1.17549435e-38", bits_of(FLT_MIN));
    expect_bits("1.1754942e-38", 0x007fffffu); /* largest subnormal */
    expect("5e-40", NUMPARSE_OK);
    expect("-3.3e-42", NUMPARSE_OK);
    expect_bits("3.4028235e38", bits_of(FLT_MAX));
    expect_bits("3.40282356e38", bits_of(FLT_MAX)); /* below the midpoint 3.40282356779733661637539395458142568448e38 */
    expect_bits("340282356779733661637539395458142568447", bits_of(FLT_MAX));
    expect("340282356779733661637539395458142568448", NUMPARSE_RANGE); /* the midpoint itself: ties to 2^128 */
    expect("3.4028236e38", NUMPARSE_RANGE);
    expect("1e39", NUMPARSE_RANGE);
    expect("-1e39", NUMPARSE_RANGE);
    expect("1e400", NUMPARSE_RANGE);
    expect("1e99999999999999999999999999", NUMPARSE_RANGE);
    expect_bits("1e-400", 0);
    expect_bits("-1e-400", 0x80000000u);
    expect_bits("1e-99999999999999999999999999", 0);
    expect_bits("0e99999999999999999999999999", 0);
    expect_bits("1e0", bits_of(1.0f));
    expect_bits("1e-0", bits_of(1.0f));
    expect_bits("1e00000000000000000000000000000000000000001", bits_of(10.0f));
    expect_bits("1e10", bits_of(1e10f));
    expect_bits("1e11", bits_of(1e11f));
    expect("1e22", NUMPARSE_OK);
    expect("1e23", NUMPARSE_OK);
    expect("9007199254740993e22", NUMPARSE_OK);
    expect("123.456e-7", NUMPARSE_OK);
    expect(".5e1", NUMPARSE_OK);
    expect("5.e-1", NUMPARSE_OK);

    /* signs and zeros */
    expect_bits("+1", bits_of(1.0f));
    expect_bits("+0.5", bits_of(0.5f));
    expect_bits("-0", 0x80000000u);
    expect_bits("-0.0", 0x80000000u);
    expect_bits("-.0", 0x80000000u);
    expect_bits("-0e10", 0x80000000u);
    expect_bits("-0.000e-999", 0x80000000u);
    expect_bits("0", 0);
    expect_bits("+0", 0);
    expect_bits("0.0", 0);
    expect_bits("00000", 0);
    expect_bits(".0", 0);
    expect_bits("0.", 0);
    expect_bits("-0.038194", bits_of(-0.038194f));
    expect_bits("0.72812", bits_of(0.72812f));
    expect_bits("5.821154", bits_of(5.821154f));

    /* many significant digits */
    expect("0.123456789", NUMPARSE_OK);
    expect_bits("16777216", bits_of(16777216.0f));
    expect_bits("16777217", bits_of(16777216.0f)); /* exact midpoint: ties to even */
    expect_bits("16777218", bits_of(16777218.0f));
    expect_bits("16777219", bits_of(16777220.0f)); /* exact midpoint: ties to even (up) */
    expect_bits("16777217.000000001", bits_of(16777218.0f));
    expect_bits("16777216.999999999", bits_of(16777216.0f));
    expect("1.00000005960464477539062500000000000001", NUMPARSE_OK); /* just above 1 + 2^-24 */
    expect("1.000000059604644775390625", NUMPARSE_OK);              /* exactly 1 + 2^-24: ties to 1 */
    expect("1.00000017881393432617187499999999999999999", NUMPARSE_OK);
    expect("123456789012345678901234567890", NUMPARSE_OK);
    expect("0.000000000000000000000000000001234567891234", NUMPARSE_OK);
    expect("9999999999999999999", NUMPARSE_OK);  /* 19 digits */
    expect("99999999999999999999", NUMPARSE_OK); /* 20 digits */
    expect("18446744073709551615", NUMPARSE_OK);
    expect("18446744073709551616", NUMPARSE_OK);
    expect("1000000000000000000000000000000000000000000001", NUMPARSE_RANGE);
    expect("1000000000000000000000000000000000001", NUMPARSE_OK);
    expect("0.1000000000000000000000000000000000000000000001", NUMPARSE_OK);
    expect("3.14159265358979323846264338327950288419716939937510582097494459", NUMPARSE_OK);
    expect("7.006492321624085354618647916449580656401309709382578858785341419448955413429303e-46", NUMPARSE_OK);
    expect("7.006492321624085354618647916449580656401309709382578858785341419448955413429304e-46", NUMPARSE_OK);

    /* the exact 2^-150 (smallest-subnormal midpoint, ties to 0) and 3 * 2^-150 (ties to 2 * 2^-149), then nudged
     * by a non-zero digit far beyond the 120 digits the slow path keeps */
    {
        char exact[256], buf[1024];
        snprintf(exact, sizeof exact, "%.200e", 0x1p-150);
        *strchr(exact, 'e') = '\0';
        while (exact[strlen(exact) - 1] == '0')
            exact[strlen(exact) - 1] = '\0';
        snprintf(buf, sizeof buf, "%se-46", exact);
        expect_bits(buf, 0);
        snprintf(buf, sizeof buf, "%s%0300de-46", exact, 1);
        expect_bits(buf, 1);
        snprintf(buf, sizeof buf, "%s%0300de-46", exact, 0);
        expect_bits(buf, 0);
        snprintf(exact, sizeof exact, "%.200e", 3 * 0x1p-150);
        *strchr(exact, 'e') = '\0';
        snprintf(buf, sizeof buf, "%se-45", exact);
        expect_bits(buf, 2);
        snprintf(exact, sizeof exact, "%.200e", 3 * 0x1p-150);
        *strchr(exact, 'e') = '\0';
        exact[strlen(exact) - 1] = '1'; /* 200 digits, ending in a non-zero digit past the kept 120 */
        snprintf(buf, sizeof buf, "%se-45", exact);
        expect_bits(buf, 2);
    }

    /* long runs of leading / trailing zeros and huge tokens */
    {
        size_t n = 300000;
        char *buf = malloc(n + 64);
        if (!buf)
            exit(2);
        memset(buf, '0', n);
        strcpy(buf + n, "1.5");
        expect_bits(buf, bits_of(1.5f));
        strcpy(buf + n, "1.5e-45");
        expect(buf, NUMPARSE_OK);
        buf[0] = '-';
        strcpy(buf + n, "0.25");
        expect_bits(buf, bits_of(-0.25f));
        memcpy(buf, "0.", 2); /* "0." + n - 2 zeros + "1" = 10^-(n - 1); times 10^(n - 2) = 0.1 */
        snprintf(buf + n, 64, "1e%zu", n - 2);
        expect_bits(buf, bits_of(0.1f));
        snprintf(buf + n, 64, "1");
        expect_bits(buf, 0);
        buf[0] = '1'; /* 1000…0 (n + 1 digits) e-(n - 10): 1e10, via a large digit-position adjustment */
        buf[1] = '0';
        snprintf(buf + n, 64, "0e-%zu", n - 10);
        expect_bits(buf, bits_of(1e10f));
        snprintf(buf + n, 64, "0e-%zu", n + 60);
        expect_bits(buf, 0);
        snprintf(buf + n, 64, "0e-%zu", n - 60);
        expect(buf, NUMPARSE_RANGE);
        snprintf(buf + n, 64, "0e-99999999999999999999");
        expect_bits(buf, 0);
        memset(buf, '7', n); /* 777…7 (n digits) e-(n - 3): 777.77… via the slow path */
        snprintf(buf + n, 64, "e-%zu", n - 3);
        expect_bits(buf, bits_of(777.7777777777f));
        memset(buf, '0', n); /* 1.000…0001: trailing digits far past 19 significant */
        memcpy(buf, "1.", 2);
        strcpy(buf + n, "1");
        expect_bits(buf, bits_of(1.0f));
        memset(buf, '0', n);
        strcpy(buf + n, "");
        buf[0] = '1';
        buf[1] = '.';
        expect_bits(buf, bits_of(1.0f));
        free(buf);
    }

    /* denormals */
    expect("1e-38", NUMPARSE_OK);
    expect("1.0e-39", NUMPARSE_OK);
    expect("2.5e-44", NUMPARSE_OK);
    expect("4.2038954e-45", NUMPARSE_OK);
    expect("0.00000000000000000000000000000000000000000000140129846", NUMPARSE_OK);

    /* .5 and 5. */
    expect_bits(".5", bits_of(0.5f));
    expect_bits("-.5", bits_of(-0.5f));
    expect_bits("5.", bits_of(5.0f));
    expect_bits("+5.", bits_of(5.0f));

    /* syntax errors */
    static const char *const bad[] = {
        "", "+", "-", ".", "+.", "-.", "e5", "E5", ".e5", "1e", "1e+", "1e-", "1E", "1.2.3", "1,5", " 1", "1 ",
        "1 2", "\t1", "1\n", "0x1p3", "0X10", "0x", "1p3", "--1", "+-1", "-+1", "++1", "1e5.5", "1e--5", "1ee5",
        "1..2", "..1", "1f", "1.0f", "1e5f", "abc", "in", "infin", "infinit", "infinityy", "na", "nana", "nan(",
        "nan(1", "nan)", "nan(a b)", "nan(-)", "1.5e", "e", "E", "١", "+e5", "-e5", "\302\2401" /* NBSP 1 */, "0,5",
        "1_000", "1'000",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        expect(bad[i], NUMPARSE_SYNTAX);
    }
    {
        float v = 42.0f;
        CHECK(numparse_float("1", "1", &v) == NUMPARSE_SYNTAX && v == 42.0f, "p == end");
        const char *t = "12";
        CHECK(numparse_float(t + 1, t, &v) == NUMPARSE_SYNTAX && v == 42.0f, "end < p");
        CHECK(numparse_float(NULL, NULL, &v) == NUMPARSE_SYNTAX && v == 42.0f, "NULL");
    }
    /* a token inside a longer string: only [p, end) counts */
    {
        const char *line = "12345 0.5e3xyz";
        float v = 0;
        CHECK(numparse_float(line, line + 2, &v) == NUMPARSE_OK && v == 12.0f, "prefix 12 -> %g", (double)v);
        CHECK(numparse_float(line + 6, line + 11, &v) == NUMPARSE_OK && v == 500.0f, "0.5e3 -> %g", (double)v);
        CHECK(numparse_float(line + 6, line + 10, &v) == NUMPARSE_SYNTAX, "0.5e is not a number");
        CHECK(numparse_float(line, line + 6, &v) == NUMPARSE_SYNTAX, "trailing blank");
    }

    /* non-finite spellings */
    static const char *const nonfinite[] = {
        "nan", "NaN", "NAN", "-nan", "+nan", "inf", "INF", "Inf", "-inf", "+inf", "infinity", "INFINITY",
        "-Infinity", "+iNfInItY", "nan()", "nan(123)", "NaN(abc_DEF09)", "-nan(0x7fc00000)",
    };
    for (size_t i = 0; i < sizeof nonfinite / sizeof nonfinite[0]; i++) {
        expect(nonfinite[i], NUMPARSE_NONFINITE);
        float ref;
        char *end;
        ref = strtof(nonfinite[i], &end);
        CHECK(*end == '\0' && !isfinite(ref), "\"%s\": strtof should read it as non-finite", nonfinite[i]);
    }

    /* formatting */
    {
        char buf[32];
        struct {
            float f;
            const char *s;
        } fmt[] = {
            {0.0f, "0"},           {-0.0f, "-0"},       {1.0f, "1"},
            {-0.038194f, "-0.038194"}, {0.72812f, "0.72812"}, {5.821154f, "5.821154"},
            {4.4848e-05f, "4.4848e-05"}, {0.1f, "0.1"},     {16777216.0f, "16777216"},
            {16777218.0f, "16777218"}, {FLT_MAX, "3.4028235e+38"}, {FLT_MIN, "1.1754944e-38"},
            {FLT_TRUE_MIN, "1.4013e-45"}, {1.0f / 3.0f, "0.33333334"}, {float_of(0x4c400001u), "50331652"},
            {0.3f, "0.3"}, {float_of(0x412288a5u), "10.1583605"}, {1e10f, "1e+10"},
        };
        for (size_t i = 0; i < sizeof fmt / sizeof fmt[0]; i++) {
            int n = numparse_format_float(fmt[i].f, buf);
            CHECK(n == (int)strlen(buf) && strcmp(buf, fmt[i].s) == 0, "format %.9g: \"%s\", expected \"%s\"",
                  (double)fmt[i].f, buf, fmt[i].s);
        }
    }
}

/* A random token: optional sign, 1-12 digits (sometimes up to 40, sometimes with leading zeros), optional decimal
 * point anywhere, optional exponent in various spellings; now and then a syntax error. */
static size_t random_token(char *buf)
{
    size_t n = 0;
    unsigned r = rnd_below(8);
    if (r == 0)
        buf[n++] = '-';
    else if (r == 1)
        buf[n++] = '+';
    else if (r < 4)
        buf[n++] = '-';
    unsigned ndig = 1 + rnd_below(rnd_below(16) == 0 ? 40 : 12);
    unsigned nlead = rnd_below(8) == 0 ? rnd_below(6) : 0;
    unsigned total = nlead + ndig;
    int point = rnd_below(3) == 0 ? -1 : (int)rnd_below(total + 1);
    for (unsigned i = 0; i < total; i++) {
        if ((int)i == point)
            buf[n++] = '.';
        buf[n++] = i < nlead ? '0' : (char)('0' + rnd_below(10));
    }
    if (point == (int)total)
        buf[n++] = '.';
    if (rnd_below(2) == 0) {
        buf[n++] = rnd_below(2) ? 'e' : 'E';
        unsigned s = rnd_below(3);
        if (s == 1)
            buf[n++] = '-';
        else if (s == 2)
            buf[n++] = '+';
        unsigned mag = rnd_below(4) == 0 ? rnd_below(60) : rnd_below(12);
        n += (size_t)sprintf(buf + n, rnd_below(4) == 0 ? "%02u" : "%u", mag);
    }
    if (rnd_below(64) == 0) { /* corrupt it: insert or replace one character */
        static const char junk[] = "+-.eE x,";
        size_t at = rnd_below((unsigned)n + 1);
        if (at < n && rnd_below(2))
            buf[at] = junk[rnd_below(sizeof junk - 1)];
        else {
            memmove(buf + at + 1, buf + at, n - at);
            buf[at] = junk[rnd_below(sizeof junk - 1)];
            n++;
        }
    }
    buf[n] = '\0';
    return n;
}

static void test_random_tokens(unsigned long count)
{
    char buf[128];
    for (unsigned long i = 0; i < count; i++) {
        size_t n = random_token(buf);
        diff(buf, n);
    }
}

/* Decimal strings at and around the exact midpoints between adjacent floats (the double-rounding danger zone),
 * printed with 8-20, 25 and 120 significant digits. */
static void test_midpoints(unsigned long count)
{
    char buf[256];
    for (unsigned long i = 0; i < count; i++) {
        uint32_t u = (uint32_t)rnd() & 0x7fffffffu;
        float f = float_of(u);
        if (u >= 0x7f7fffffu) /* FLT_MAX and non-finite: no finite successor */
            continue;
        double mid = ((double)f + (double)float_of(u + 1)) / 2; /* exact: 25 significant bits */
        uint64_t mb;
        memcpy(&mb, &mid, sizeof mb);
        double probes[3] = {mid, mid, mid}; /* the midpoint and the doubles just below and above it */
        mb--;
        memcpy(&probes[1], &mb, sizeof mb);
        mb += 2;
        memcpy(&probes[2], &mb, sizeof mb);
        for (int k = 0; k < 3; k++) {
            static const int precs[] = {8, 9, 10, 12, 14, 15, 16, 17, 18, 20, 25, 120};
            int prec = precs[rnd_below(sizeof precs / sizeof precs[0])];
            int n = snprintf(buf, sizeof buf, "%.*g", prec, probes[k]);
            diff(buf, (size_t)n);
        }
    }
}

/* Formats the float with bits u, then parses it back with strtof and numparse: both must give the same bits. With
 * check_shortest, the text must also be exactly what printf("%.*g") gives for the smallest precision in 6..9 that
 * round-trips through strtof (the reference implementation of the contract). */
static void check_format(uint32_t u, int check_shortest)
{
    char buf[32], shorter[32];
    float f = float_of(u);
    if (!isfinite(f))
        return;
    int n = numparse_format_float(f, buf);
    CHECK(n > 0 && n < 32 && (size_t)n == strlen(buf), "format 0x%08x: length %d", u, n);
    char *end;
    float back = strtof(buf, &end);
    CHECK(*end == '\0' && bits_of(back) == u, "format 0x%08x -> \"%s\" -> strtof 0x%08x", u, buf, bits_of(back));
    float mine = 0;
    numparse_status st = numparse_float(buf, buf + n, &mine);
    CHECK(st == NUMPARSE_OK && bits_of(mine) == u, "format 0x%08x -> \"%s\" -> numparse %s 0x%08x", u, buf,
          status_name(st), bits_of(mine));
    if (check_shortest) {
        int prec = 6;
        for (; prec < 9; prec++) {
            snprintf(shorter, sizeof shorter, "%.*g", prec, (double)f);
            if (bits_of(strtof(shorter, NULL)) == u)
                break;
        }
        snprintf(shorter, sizeof shorter, "%.*g", prec, (double)f);
        CHECK(strcmp(shorter, buf) == 0, "format 0x%08x -> \"%s\", expected \"%s\"", u, buf, shorter);
    }
}

/* Floats near every power of ten (where %g changes exponent or style), the subnormal and overflow ends. */
static void test_format_edges(void)
{
    for (int k = -46; k <= 39; k++) {
        char t[16];
        snprintf(t, sizeof t, "1e%d", k);
        uint32_t p = bits_of(strtof(t, NULL));
        for (int d = -3; d <= 3; d++) {
            int64_t v = (int64_t)p + d;
            if (v >= 0 && v < 0x7f800000) {
                check_format((uint32_t)v, 1);
                check_format((uint32_t)v | 0x80000000u, 1);
            }
        }
        for (int nines = 1; nines <= 10; nines++) { /* 9.9…9e(k), 9.9…95e(k): round up to 1e(k+1) at low precisions */
            char t2[48];
            int n = 0;
            for (int i = 0; i < nines; i++) {
                t2[n++] = '9';
                if (i == 0)
                    t2[n++] = '.';
            }
            snprintf(t2 + n, sizeof t2 - (size_t)n, "e%d", k);
            check_format(bits_of(strtof(t2, NULL)), 1);
            snprintf(t2 + n, sizeof t2 - (size_t)n, "5e%d", k);
            check_format(bits_of(strtof(t2, NULL)), 1);
        }
    }
    for (uint32_t u = 0; u < 64; u++) {
        check_format(u, 1);
        check_format(0x7f7fffffu - u, 1);
        check_format(0x00800000u + u - 32, 1);
    }
}

/* Random finite float bit patterns, a quarter of them in GloVe's range. */
static void test_format_roundtrip(unsigned long count, int check_shortest)
{
    for (unsigned long i = 0; i < count; i++) {
        uint32_t u = (uint32_t)rnd();
        if (i % 4 == 0) /* GloVe-like magnitudes: |x| in [1e-5, 8) */
            u = (u & 0x807fffffu) | ((uint32_t)(110 + rnd_below(20)) << 23);
        check_format(u, check_shortest);
    }
}

int main(int argc, char **argv)
{
    /* An optional scale factor for the randomized parts: test_numparse 10 runs ten times as many. */
    unsigned long scale = argc > 1 ? strtoul(argv[1], NULL, 10) : 1;
    if (scale == 0)
        scale = 1;
    test_fixed_cases();
    test_random_tokens(2000000 * scale);
    test_midpoints(300000 * scale);
    test_format_edges();
    test_format_roundtrip(300000 * scale, 1);
    test_format_roundtrip(500000 * scale, 0);
    return check_done("test_numparse");
}
