/* numparse — decimal text → float32, bit-identical to strtof, fast on the common case.
 *
 * The hot path of vector-file conversion (34 M numbers in GloVe 6B 100d). Grammar accepted (ASCII only):
 *     [+-]? ( digits [ '.' digits? ] | '.' digits ) ( [eE] [+-]? digits )?
 * Hex floats, "inf", "nan" and locale-specific forms are rejected (NUMPARSE_SYNTAX / NUMPARSE_NONFINITE), so a
 * value is accepted exactly when it is a finite decimal number. For every accepted token the result is the float
 * that strtof() in the "C" locale returns for it (including -0, subnormals, and values that round to 0).
 */
#ifndef NUMPARSE_H
#define NUMPARSE_H

typedef enum {
    NUMPARSE_OK = 0,
    NUMPARSE_SYNTAX,    /* not a decimal number (empty, stray characters, hex, …) */
    NUMPARSE_NONFINITE, /* "nan", "inf", "infinity" in any case, with optional sign */
    NUMPARSE_RANGE      /* finite syntax but its magnitude overflows float (strtof would give ±HUGE_VALF) */
} numparse_status;

/* Parses the whole token [p, end) (no surrounding whitespace, end > p or an empty token → SYNTAX).
 * Never reads outside [p, end). On NUMPARSE_OK stores the value in *out; otherwise *out is untouched. */
numparse_status numparse_float(const char *p, const char *end, float *out);

/* Formats f as the shortest decimal (%.Ng, N = 6..9) that strtof reads back to the same bits, into buf (at
 * least 32 bytes), NUL-terminated; returns the length. f must be finite. */
int numparse_format_float(float f, char *buf);

#endif
