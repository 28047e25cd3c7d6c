/* test_serve_http — serve_parse_query (serve_http.h): the query strings of `embvsattn serve`. Fixed cases (escapes,
 * '+', empty parts, flags without '='), every rejection (bad and truncated escapes, invalid UTF-8, overlongs,
 * surrogates, NUL, empty names, a name twice, too many), and a randomized round trip: random code points, encoded
 * byte by byte as %XX (or kept, or '+' for a space), decode to the same bytes.
 * Prints "test_serve_http: N checks, M failed"; exits non-zero when anything failed.
 */
#include "serve_http.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "utf8.h"

static size_t parse(const char *q, serve_param *p, size_t max, char **block, char *msg)
{
    return serve_parse_query(q, strlen(q), p, max, block, msg, 300);
}

/* Expects q to parse into the nk pairs of kv (key, value, key, value…). */
static void expect_ok(const char *q, const char *const *kv, size_t nk)
{
    serve_param p[8];
    char *block = NULL, msg[300] = "";
    size_t n = parse(q, p, 8, &block, msg);
    CHECK(n == nk, "'%s': expected %zu parameters, found %zu (%s)", q, nk, n, msg);
    for (size_t i = 0; n == nk && i < nk; i++)
        CHECK(strcmp(p[i].key, kv[2 * i]) == 0 && strcmp(p[i].val, kv[2 * i + 1]) == 0,
              "'%s': parameter %zu: expected %s=%s, found %s=%s", q, i, kv[2 * i], kv[2 * i + 1], p[i].key, p[i].val);
    free(block);
}

/* Expects q to be refused with a message containing want. */
static void expect_bad(const char *q, size_t max, const char *want)
{
    serve_param p[64];
    char *block = NULL, msg[300] = "";
    size_t n = parse(q, p, max, &block, msg);
    CHECK(n == (size_t)-1 && strstr(msg, want), "'%s': expected a refusal naming '%s', found %zu (%s)", q, want, n, msg);
    free(block);
}

static uint64_t rng = 88172645463325252ull;
static uint32_t next(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)rng;
}

int main(void)
{
    expect_ok("", NULL, 0);
    expect_ok("s=the+cat%20sat", (const char *const[]){"s", "the cat sat"}, 1);
    expect_ok("s=a%2Bb%26c%3Dd&k=3", (const char *const[]){"s", "a+b&c=d", "k", "3"}, 2);
    expect_ok("&&causal&s=x&", (const char *const[]){"causal", "", "s", "x"}, 2);
    expect_ok("s=caf%C3%A9&w=%e2%98%95", (const char *const[]){"s", "caf\xc3\xa9", "w", "\xe2\x98\x95"}, 2);
    expect_ok("s=a=b", (const char *const[]){"s", "a=b"}, 1);
    expect_ok("s=", (const char *const[]){"s", ""}, 1);
    expect_ok("s=\xc3\xa9", (const char *const[]){"s", "\xc3\xa9"}, 1); /* raw UTF-8 bytes are taken as they are */
    expect_bad("s=%zz", 8, "bad percent escape at byte 3");
    expect_bad("s=abc%", 8, "bad percent escape");
    expect_bad("s=abc%4", 8, "bad percent escape");
    expect_bad("s=%C3%28", 8, "parameter 's': expected UTF-8");
    expect_bad("s=%C0%AF", 8, "expected UTF-8");      /* overlong '/' */
    expect_bad("s=%ED%A0%80", 8, "expected UTF-8");   /* a surrogate */
    expect_bad("s=%F4%90%80%80", 8, "expected UTF-8"); /* past U+10FFFF */
    expect_bad("s=a%00b", 8, "expected UTF-8");
    expect_bad("s=\xff", 8, "expected UTF-8");
    expect_bad("%FF=1", 8, "parameter name");
    expect_bad("=1", 8, "empty parameter name");
    expect_bad("s=1&k=2&s=3", 8, "parameter 's' given twice");
    expect_bad("a=1&b=2&c=3", 2, "too many parameters");

    /* the round trip */
    for (int t = 0; t < 2000; t++) {
        char raw[256], enc[1024];
        size_t rn = 0, en = 0;
        size_t ncp = next() % 20;
        for (size_t i = 0; i < ncp; i++) {
            uint32_t r = next() % 4, cp;
            cp = r == 0 ? 0x20 + next() % 0x5f : r == 1 ? 0x80 + next() % 0x780 : r == 2 ? 0x800 + next() % 0xf800
                                                                                    : 0x10000 + next() % 0x100000;
            if (cp >= 0xd800 && cp < 0xe000)
                cp = 'x';
            rn += utf8_encode(cp, raw + rn);
        }
        raw[rn] = '\0';
        en += (size_t)sprintf(enc, "v=");
        for (size_t i = 0; i < rn; i++) {
            unsigned char c = (unsigned char)raw[i];
            int how = (int)(next() % 3);
            if (c == ' ' && how == 0)
                enc[en++] = '+';
            else if (how == 1 && c > 0x20 && c < 0x7f && !strchr("%&+=", c))
                enc[en++] = (char)c;
            else
                en += (size_t)sprintf(enc + en, how == 2 ? "%%%02x" : "%%%02X", c);
        }
        enc[en] = '\0';
        serve_param p[2];
        char *block = NULL, msg[300] = "";
        size_t n = serve_parse_query(enc, en, p, 2, &block, msg, sizeof msg);
        CHECK(n == 1 && strcmp(p[0].key, "v") == 0 && strlen(p[0].val) == rn && memcmp(p[0].val, raw, rn) == 0,
              "round trip %d: '%s' gave %zu (%s)", t, enc, n, msg);
        free(block);
    }
    return check_done("test_serve_http");
}
