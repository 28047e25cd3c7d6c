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

/* Parses the token that starts at p and ends at the first byte <= ' ' (blank, control byte, newline) or at end,
 * in one pass over its bytes for the common form [+-]? digits? [.] digits? with few digits (the form of every
 * GloVe value), falling back to numparse_float for anything else. Sets *stop to the token's end in every case
 * (the caller resumes there) and returns what numparse_float(p, *stop, out) returns, with the same value. */
numparse_status numparse_float_token(const char *p, const char *end, float *out, const char **stop);

/* Formats f as the shortest decimal (%.Ng, N = 6..9) that strtof reads back to the same bits, into buf (at
 * least 32 bytes), NUL-terminated; returns the length. f must be finite. */
int numparse_format_float(float f, char *buf);

#endif
