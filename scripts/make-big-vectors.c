/* make-big-vectors — a deterministic synthetic vector set of GoogleNews size for scripts/bench-scale.sh: N words ×
 * D values, written as word2vec text (PREFIX.txt) and word2vec binary (PREFIX.bin) with the same values.
 *
 * Words: the words of a GloVe text file in its order (frequent first), then phrase tokens of 2 or 3 capitalised
 * words joined by '_' (New_York_Times style) made from its first 5,000 alphabetic words, each (a, b) pair once, so
 * that every token is distinct. Values: 6 decimals as word2vec's text writers print them ("-0.012345"), each a sum
 * of four uniform draws (xorshift64*, seed 1) scaled so that rows have norms near 2.6 like GoogleNews's; the binary
 * file holds the floats that the text parses to.
 *
 * Usage: make-big-vectors GLOVE.txt N D PREFIX   (a plain C11 program: scripts/make-big-vectors.sh builds it) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NBASE 5000 /* alphabetic words the phrases are made of */

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 2685821657736338717ull;
}

static void die(const char *what)
{
    fprintf(stderr, "make-big-vectors: %s\n", what);
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc != 5)
        die("usage: make-big-vectors GLOVE.txt N D PREFIX");
    size_t n = strtoull(argv[2], NULL, 10), d = strtoull(argv[3], NULL, 10);
    if (n == 0 || d == 0 || d > 4096)
        die("expected N ≥ 1 and 1 ≤ D ≤ 4096");
    FILE *g = fopen(argv[1], "rb");
    if (!g)
        die("cannot open the GloVe file");
    size_t cap = 1 << 20, nw = 0, nbase = 0;
    char **w = malloc(cap * sizeof *w);
    size_t base[NBASE];
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    while (nw < n && (len = getline(&line, &lcap, g)) > 0) {
        char *sp = memchr(line, ' ', (size_t)len);
        if (!sp)
            continue;
        if (nw == cap && !(w = realloc(w, (cap *= 2) * sizeof *w)))
            die("out of memory");
        w[nw] = strndup(line, (size_t)(sp - line));
        int alpha = 1;
        for (char *c = w[nw]; *c; c++)
            alpha &= *c >= 'a' && *c <= 'z';
        if (alpha && nbase < NBASE)
            base[nbase++] = nw;
        nw++;
    }
    fclose(g);
    free(line);
    if (nbase < NBASE)
        die("the GloVe file has fewer than 5000 alphabetic words");
    char pfx[4096];
    snprintf(pfx, sizeof pfx, "%s.txt", argv[4]);
    FILE *ft = fopen(pfx, "wb");
    snprintf(pfx, sizeof pfx, "%s.bin", argv[4]);
    FILE *fb = fopen(pfx, "wb");
    if (!ft || !fb)
        die("cannot create the output files");
    static char obuf[4 << 20], obuf2[4 << 20];
    setvbuf(ft, obuf, _IOFBF, sizeof obuf);
    setvbuf(fb, obuf2, _IOFBF, sizeof obuf2);
    fprintf(ft, "%zu %zu\n", n, d);
    fprintf(fb, "%zu %zu\n", n, d);
    char *txt = malloc(d * 12 + 4096), word[1024];
    float *v = malloc(d * sizeof *v);
    for (size_t i = 0; i < n; i++) {
        size_t wl;
        if (i < nw) {
            wl = strlen(w[i]);
            if (wl >= sizeof word)
                wl = sizeof word - 1;
            memcpy(word, w[i], wl);
        } else { /* phrase p: parts a = p mod NBASE, b = p / NBASE, and a third for odd p */
            size_t p = i - nw, parts[3] = {p % NBASE, (p / NBASE) % NBASE, (p * 7919) % NBASE};
            wl = 0;
            for (int k = 0; k < (p & 1 ? 3 : 2); k++) {
                const char *s = w[base[parts[k]]];
                if (k)
                    word[wl++] = '_';
                size_t sl = strlen(s);
                memcpy(word + wl, s, sl);
                word[wl] -= 32; /* capitalised */
                wl += sl;
            }
        }
        word[wl] = '\0';
        char *o = txt;
        memcpy(o, word, wl);
        o += wl;
        for (size_t j = 0; j < d; j++) {
            /* four uniforms in [0, 1) summed: mean 2, variance 1/3; value = (sum - 2) * 0.26 → sd 0.15 */
            double s = 0;
            for (int k = 0; k < 4; k++)
                s += (double)(next() >> 11) * 0x1p-53;
            long iv = (long)((s - 2.0) * 0.26 * 1e6 + (s >= 2.0 ? 0.5 : -0.5)); /* micro-units */
            v[j] = (float)((double)iv / 1e6);
            *o++ = ' ';
            if (iv < 0) {
                *o++ = '-';
                iv = -iv;
            }
            *o++ = (char)('0' + iv / 1000000);
            *o++ = '.';
            for (long p10 = 100000; p10; p10 /= 10)
                *o++ = (char)('0' + iv / p10 % 10);
        }
        *o++ = '\n';
        fwrite(txt, 1, (size_t)(o - txt), ft);
        fwrite(word, 1, wl, fb);
        fputc(' ', fb);
        fwrite(v, sizeof *v, d, fb);
        fputc('\n', fb);
    }
    if (fclose(ft) || fclose(fb))
        die("write error (disk full?)");
    return 0;
}
