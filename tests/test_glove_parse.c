/* test_glove_parse — checks numparse_float against strtof on every value of a GloVe text file.
 *
 * Usage: test_glove_parse FILE
 * FILE has lines "word v1 … vN" separated by spaces (tabs tolerated), possibly with CRLF line ends and trailing
 * blanks. Every token after the first on each line is parsed by both numparse_float and strtof (C locale); a
 * mismatch is a difference in acceptance or in the bits of the value. The file is read in chunks, so its size
 * does not matter.
 * Prints "test_glove_parse: N values checked, M mismatches"; exits 0 when all agree, 1 on mismatches or when
 * the file holds no value at all, 2 when the file cannot be read.
 */
#include "numparse.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "test_glove_parse: "

static unsigned long long n_values, n_mismatches, n_both_reject;

/* Token tok[0..len), with tok[len] writable scratch (restored afterwards). */
static void check_token(char *tok, size_t len, unsigned long long lineno)
{
    float mine = 0;
    numparse_status st = numparse_float(tok, tok + len, &mine);

    char saved = tok[len];
    tok[len] = '\0';
    char *stop;
    float ref = strtof(tok, &stop);
    /* strtof also reads hex floats, which numparse rejects on purpose; GloVe files have none. */
    bool ref_ok = stop == tok + len && isfinite(ref) && !memchr(tok, 'x', len) && !memchr(tok, 'X', len);
    bool mine_ok = st == NUMPARSE_OK;
    bool agree = mine_ok == ref_ok && (!mine_ok || memcmp(&mine, &ref, sizeof mine) == 0);
    if (!mine_ok && !ref_ok) {
        n_both_reject++;
    } else {
        n_values++;
        if (!agree) {
            n_mismatches++;
            if (n_mismatches <= 20) {
                uint32_t a, b;
                memcpy(&a, &mine, sizeof a);
                memcpy(&b, &ref, sizeof b);
                fprintf(stderr, PROG "line %llu: \"%.60s\": numparse status %d value %.9g (0x%08x), strtof %s %.9g (0x%08x)\n",
                        lineno, tok, (int)st, (double)mine, (unsigned)a, ref_ok ? "accepts" : "rejects", (double)ref,
                        (unsigned)b);
            }
        }
    }
    tok[len] = saved;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* line[0..len), without the '\n'; line[len] is writable. */
static void check_line(char *line, size_t len, unsigned long long lineno)
{
    size_t i = 0;
    bool first = true;
    while (i < len) {
        while (i < len && is_blank(line[i]))
            i++;
        size_t start = i;
        while (i < len && !is_blank(line[i]))
            i++;
        if (i == start)
            break;
        if (first)
            first = false; /* the word */
        else
            check_token(line + start, i - start, lineno);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, PROG "usage: test_glove_parse FILE\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        fprintf(stderr, PROG "cannot open %s: %s\n", argv[1], strerror(errno));
        return 2;
    }
    size_t cap = (size_t)1 << 22;
    char *buf = malloc(cap);
    if (!buf) {
        fprintf(stderr, PROG "out of memory\n");
        fclose(f);
        return 2;
    }
    size_t len = 0;
    unsigned long long lineno = 0;
    bool eof = false;
    while (!eof) {
        if (cap - len < 2) { /* a line longer than the buffer: grow it */
            char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
            if (!nb) {
                fprintf(stderr, PROG "out of memory (line %llu is too long)\n", lineno + 1);
                free(buf);
                fclose(f);
                return 2;
            }
            buf = nb;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f); /* keep one byte for a terminator */
        if (n == 0) {
            if (ferror(f)) {
                fprintf(stderr, PROG "cannot read %s: %s\n", argv[1], strerror(errno));
                free(buf);
                fclose(f);
                return 2;
            }
            eof = true;
        }
        len += n;
        size_t pos = 0;
        for (;;) {
            char *nl = memchr(buf + pos, '\n', len - pos);
            if (!nl)
                break;
            check_line(buf + pos, (size_t)(nl - (buf + pos)), ++lineno);
            pos = (size_t)(nl - buf) + 1;
        }
        if (eof && pos < len) { /* last line without '\n' */
            check_line(buf + pos, len - pos, ++lineno);
            pos = len;
        }
        memmove(buf, buf + pos, len - pos);
        len -= pos;
    }
    free(buf);
    fclose(f);
    printf("test_glove_parse: %llu values checked, %llu mismatches\n", n_values, n_mismatches);
    if (n_both_reject)
        fprintf(stderr, PROG "note: %llu tokens are not numbers (both parsers reject them)\n", n_both_reject);
    if (n_values == 0) {
        fprintf(stderr, PROG "no values found in %s\n", argv[1]);
        return 1;
    }
    return n_mismatches ? 1 : 0;
}
