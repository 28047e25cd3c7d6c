/* pytext — text handled the way Python 3.11 handles it, for the gensim-compatible evaluations (eval_gensim.h):
 * gensim reads their files as strict UTF-8 lines, splits and strips them with str.split()/str.strip(), compares words
 * by str.upper() and parses scores with float(). Reproducing those rules, rather than C's isspace/toupper/strtod, is
 * what makes the evaluations count the same questions and pairs as gensim on any input.
 *
 * Text is UTF-8 bytes with a length (not NUL-terminated unless said). Nothing here keeps state; functions that
 * allocate say who frees.
 */
#ifndef PYTEXT_H
#define PYTEXT_H

#include <stddef.h>

#include "ev_error.h"

/* Python's str.upper() of the UTF-8 bytes w[0..n) (Unicode 14 full case mapping: 'ß' → "SS", 'ı' → 'I' …), the way
 * gensim's case-insensitive evaluations compare words. Invalid UTF-8 bytes are copied unchanged. Returns a malloc'd
 * NUL-terminated string (the caller frees it; length in *out_len, which may be NULL), NULL when out of memory. */
char *pytext_upper(const char *w, size_t n, size_t *out_len);

/* pytext_upper into the caller's buffer out (cap bytes; 3n + 1 always suffice): returns the length and
 * NUL-terminates, or (size_t)-1 when cap is too small (out's content is then unspecified). For the loops that
 * upper-case every word of a vocabulary without allocating. */
size_t pytext_upper_into(const char *w, size_t n, char *out, size_t cap);

/* str.strip(): moves *p and shortens *n past the Python whitespace (str.isspace(): ASCII \t\n\v\f\r, \x1c-\x1f and
 * space, and the Unicode spaces U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000) at
 * both ends of [*p, *p + *n). */
void pytext_strip(const char **p, size_t *n);

/* str.split(): the fields of [p, p+n) between runs of Python whitespace. Stores the first `max` fields' starts in
 * f (max) and lengths in fl (max), pointing into p; returns the number of fields, which may exceed max. */
size_t pytext_split(const char *p, size_t n, const char **f /*(max)*/, size_t *fl /*(max)*/, size_t max);

/* Python float(s) for s = p[0..n): surrounding whitespace stripped; [sign] digits with single '_' between digits,
 * optional fraction and exponent, or inf/infinity/nan in any case. (Python also accepts non-ASCII decimal digits;
 * those are rejected here.) Returns 0 and *out, or -1 when Python would raise ValueError (or out of memory). */
int pytext_float(const char *p, size_t n, double *out);

/* Checks that line `line` (1-based), the bytes [p, p+n) of the file at path, is UTF-8 as Python's strict decoder
 * reads it. EV_OK, or EV_ERR_FORMAT with "PATH:LINE: expected UTF-8 text, found the byte 0xNN at byte B of the
 * line" in err. */
ev_status pytext_check_utf8(const char *path, size_t line, const char *p, size_t n, ev_error *err);

#endif
