#include "numparse.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The fast paths below rely on every float/double operation being rounded once, to its own type, in
 * round-to-nearest-even (the C default; this module never changes the rounding mode).
 * -ffast-math (reciprocal division, …) breaks the proofs, so refuse it. */
#if defined(__FAST_MATH__)
#error "numparse.c must not be compiled with -ffast-math"
#endif

/* Powers of ten exactly representable: 10^10 < 2^24 * 2^10 (5^10 < 2^24) in float, 10^22 in double (5^22 < 2^53). */
static const float pow10f_exact[11] = {1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f, 1e6f, 1e7f, 1e8f, 1e9f, 1e10f};
static const double pow10d_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* At most this many significant digits are handed to strtof on the slow path (plus one sticky digit).
 * Every float rounding boundary (a midpoint between two adjacent floats, including the one between FLT_MAX and
 * 2^128 and the one between 0 and the smallest subnormal) is odd * 2^q with odd < 2^25 and q >= -150, whose
 * decimal expansion has at most 113 significant digits (2^25 * 5^150 < 10^113). Replacing the digits after the
 * first SLOW_MAX_DIGITS by a single '1' when any of them is non-zero keeps the value strictly inside the same
 * gap between consecutive boundaries (the gap (T, T + 1 unit of the last kept digit) contains no number with
 * <= SLOW_MAX_DIGITS significant digits), so strtof rounds it to the same float. */
#define SLOW_MAX_DIGITS 120
/* Decimal exponents are clamped to this magnitude: with <= SLOW_MAX_DIGITS + 1 digits, anything beyond
 * is 0 or overflow either way. */
#define EXP_CLAMP 100000
/* The written exponent stops growing past this: a saturated exponent (>= 10^17) dwarfs the digit-position
 * adjustment, which is at most the token length (< 2^48 on any real address space), and the sum stays far from
 * INT64 overflow. */
#define TEXP_SATURATE INT64_C(100000000000000000)

static bool is_digit(char c)
{
    return (unsigned char)(c - '0') < 10;
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + ('a' - 'A')) : c;
}

/* True when [p, end) equals the lowercase ASCII word w, ignoring case. */
static bool equals_nocase(const char *p, const char *end, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(end - p) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(p[i]) != w[i])
            return false;
    return true;
}

/* [p, end) (sign already skipped) is one of strtof's non-finite spellings: inf, infinity, nan, nan(chars). */
static bool is_nonfinite_spelling(const char *p, const char *end)
{
    if (equals_nocase(p, end, "inf") || equals_nocase(p, end, "infinity") || equals_nocase(p, end, "nan"))
        return true;
    if (end - p >= 5 && equals_nocase(p, p + 4, "nan(") && end[-1] == ')') {
        for (const char *q = p + 4; q < end - 1; q++) {
            char c = lower(*q);
            if (!(is_digit(c) || (c >= 'a' && c <= 'z') || c == '_'))
                return false;
        }
        return true;
    }
    return false;
}

static int64_t clamp_exp(int64_t e)
{
    return e > EXP_CLAMP ? EXP_CLAMP : e < -EXP_CLAMP ? -EXP_CLAMP : e;
}

/* Slow path for a token already validated by numparse_float: [s, end) is the unsigned number, texp its
 * (saturated) written exponent. Rewrites it canonically as "DIGITSeEXP" — no decimal point, so the result does
 * not depend on the locale's radix character either — and lets strtof round it. Returns the magnitude. */
#if defined(__GNUC__)
__attribute__((noinline)) /* keep its buffer off the fast path's stack frame */
#endif
static float slow_magnitude(const char *s, const char *end, int64_t texp)
{
    char buf[SLOW_MAX_DIGITS + 1 + 32];
    size_t n = 0;          /* digits written to buf */
    bool sticky = false;   /* a non-zero digit was dropped */
    int64_t scale = 0;     /* value = buf digits * 10^(scale + texp) */
    bool in_frac = false;
    for (; s < end; s++) {
        char c = *s;
        if (c == '.') {
            in_frac = true;
            continue;
        }
        if (!is_digit(c))
            break; /* the exponent marker */
        if (n == 0 && c == '0') {
            if (in_frac)
                scale--; /* leading zero after the point */
            continue;
        }
        if (n < SLOW_MAX_DIGITS) {
            buf[n++] = c;
            if (in_frac)
                scale--;
        } else {
            sticky |= c != '0';
            if (!in_frac)
                scale++;
        }
    }
    if (sticky) {
        buf[n++] = '1';
        scale--;
    }
    /* n >= 1: numparse_float handles the all-zero case itself. */
    int64_t e = clamp_exp(scale + texp); /* |scale| <= token length: no overflow */
    snprintf(buf + n, sizeof buf - n, "e%lld", (long long)e);
    int saved = errno;
    float f = strtof(buf, NULL);
    errno = saved; /* ERANGE on underflow/overflow is reported through the return status instead */
    return f;
}

numparse_status numparse_float(const char *p, const char *end, float *out)
{
    if (!p || !end || p >= end)
        return NUMPARSE_SYNTAX;
    const char *s = p;
    bool neg = false;
    if (*s == '+' || *s == '-') {
        neg = *s == '-';
        s++;
    }
    const char *num = s;
    if (s == end || !(is_digit(*s) || *s == '.'))
        return (s < end && is_nonfinite_spelling(s, end)) ? NUMPARSE_NONFINITE : NUMPARSE_SYNTAX;

    /* Up to 19 significant digits go into m; value = m * 10^dexp (+ dropped digits when truncated). */
    uint64_t m = 0;
    int nsig = 0; /* digits in m, from the first non-zero one */
    int64_t dexp = 0;
    bool truncated = false; /* a non-zero digit was dropped */
    const char *int_start = s;
    while (s < end && *s == '0')
        s++;
    for (; s < end && is_digit(*s); s++) {
        unsigned d = (unsigned)(*s - '0');
        if (nsig < 19) {
            m = m * 10 + d;
            nsig++;
        } else {
            truncated |= d != 0;
            dexp++;
        }
    }
    size_t ndigits = (size_t)(s - int_start);
    if (s < end && *s == '.') {
        s++;
        const char *frac_start = s;
        if (nsig == 0) {
            while (s < end && *s == '0') {
                s++;
                dexp--;
            }
        }
        for (; s < end && is_digit(*s); s++) {
            unsigned d = (unsigned)(*s - '0');
            if (nsig < 19) {
                m = m * 10 + d;
                nsig++;
                dexp--;
            } else {
                truncated |= d != 0;
            }
        }
        ndigits += (size_t)(s - frac_start);
    }
    if (ndigits == 0)
        return NUMPARSE_SYNTAX;
    int64_t texp = 0; /* the written exponent, saturated */
    if (s < end && (*s == 'e' || *s == 'E')) {
        s++;
        bool eneg = false;
        if (s < end && (*s == '+' || *s == '-')) {
            eneg = *s == '-';
            s++;
        }
        if (s == end || !is_digit(*s))
            return NUMPARSE_SYNTAX;
        for (; s < end && is_digit(*s); s++)
            if (texp < TEXP_SATURATE)
                texp = texp * 10 + (*s - '0');
        if (eneg)
            texp = -texp;
    }
    if (s != end)
        return NUMPARSE_SYNTAX;

    if (m == 0) { /* every digit is zero (m starts at the first non-zero digit) */
        *out = neg ? -0.0f : 0.0f;
        return NUMPARSE_OK;
    }
    if (!truncated) {
        int64_t e = dexp + texp; /* exact value is m * 10^e */
        /* Clinger: m and 10^|e| are exact floats, so this is one correctly rounded float operation. (Were it
         * evaluated in wider precision, FLT_EVAL_METHOD 1 or 2, the second rounding to float is still harmless:
         * for one operation that holds whenever the wider precision has >= 2 * 24 + 2 bits.) */
        if (m <= (UINT64_C(1) << 24) && e >= -10 && e <= 10) {
            float f = (float)m;
            f = e < 0 ? f / pow10f_exact[-e] : f * pow10f_exact[e];
            *out = neg ? -f : f;
            return NUMPARSE_OK;
        }
#if FLT_EVAL_METHOD == 0 || FLT_EVAL_METHOD == 1
        /* Same in double: d is m * 10^e correctly rounded to double, and 1e-22 <= |d| < 2^53 * 1e22 < FLT_MAX, so
         * it is in the normal float range. Rounding d to float can differ from rounding the exact value only if
         * d lands exactly on a float midpoint (rounding is monotonic and midpoints are doubles); a midpoint has
         * the 29 low mantissa bits (those below float precision) equal to 1 followed by zeros. Those rare cases
         * go to strtof; every other d is rounded once more without any double-rounding error. */
        if (m <= (UINT64_C(1) << 53) && e >= -22 && e <= 22) {
            double d = (double)m;
            d = e < 0 ? d / pow10d_exact[-e] : d * pow10d_exact[e];
            uint64_t bits;
            memcpy(&bits, &d, sizeof bits);
            if ((bits & ((UINT64_C(1) << 29) - 1)) != (UINT64_C(1) << 28)) {
                float f = (float)d;
                *out = neg ? -f : f;
                return NUMPARSE_OK;
            }
        }
#endif
    }
    float f = slow_magnitude(num, end, texp);
    if (isinf(f))
        return NUMPARSE_RANGE;
    *out = neg ? -f : f;
    return NUMPARSE_OK;
}

numparse_status numparse_float_token(const char *p, const char *end, float *out, const char **stop)
{
    /* The fast path takes m <= 2^24 (digits accumulate with leading zeros, which add nothing) and at most 10
     * fraction digits: m and 10^f are exact floats, so m / 10^f is one correctly rounded operation, the float
     * strtof gives (numparse_float's first Clinger case, reached without a second scan). */
    const char *s = p;
    bool neg = false;
    if (s < end && (*s == '-' || *s == '+')) {
        neg = *s == '-';
        s++;
    }
    uint32_t m = 0;
    unsigned d;
    const char *digits = s;
    while (s < end && (d = (unsigned)(unsigned char)*s - '0') < 10 && m <= (UINT32_C(1) << 24)) {
        m = m * 10 + d;
        s++;
    }
    size_t nint = (size_t)(s - digits), nfrac = 0;
    if (s < end && *s == '.') {
        const char *frac = ++s;
        while (s < end && (d = (unsigned)(unsigned char)*s - '0') < 10 && m <= (UINT32_C(1) << 24)) {
            m = m * 10 + d;
            s++;
        }
        nfrac = (size_t)(s - frac);
    }
    if ((s == end || (unsigned char)*s <= ' ') && nint + nfrac > 0 && m <= (UINT32_C(1) << 24) && nfrac <= 10) {
        float f = (float)m / pow10f_exact[nfrac];
        *out = neg ? -f : f;
        *stop = s;
        return NUMPARSE_OK;
    }
    /* Anything else (an exponent, many digits, a stray byte): the general parser on the whole token. */
    while (s < end && (unsigned char)*s > ' ')
        s++;
    *stop = s;
    return numparse_float(p, s, out);
}

/* Formatting. %.Pg prints the P-significant-digit decimal nearest to the exact value of f (ties to even; glibc's
 * printf is exact). The same digits come from x * 10^n computed in double with at most three correctly rounded
 * operations (10^|n| <= 10^22 factors are exact): the relative error is below 4e-16, so below 4e-7 absolute for
 * the <= 10^9 scaled values that matter, and rounding that to an integer is safe unless its fraction lies
 * within 1e-6 of one half — then snprintf decides. */

static const uint32_t pow10u32[10] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000};

/* For finite x > 0 (a float value): the prec-digit significand D, 10^(prec-1) <= D < 10^prec, of x rounded to
 * prec significant digits, and the decimal exponent X of the rounded value (x ≈ D * 10^(X - prec + 1)), as %g
 * defines them. k must be floor(log10(x)) or one less: never more, or a value that should round to D < 10^(prec-1)
 * at exponent k - 1 could come out as 10^(prec-1) at exponent k. False when double arithmetic cannot decide. */
static bool decimal_digits(double x, int prec, int k, uint32_t *digits, int *exp10)
{
    for (int iter = 0; iter < 4; iter++) {
        int n = prec - 1 - k;
        double s = x;
        for (; n > 22; n -= 22)
            s *= 1e22;
        for (; n < -22; n += 22)
            s /= 1e22;
        s = n >= 0 ? s * pow10d_exact[n] : s / pow10d_exact[-n];
        uint64_t d = (uint64_t)s; /* floor: 0 < s < 10^11 */
        double frac = s - (double)d; /* exact */
        if (frac > 0.5 - 1e-6 && frac < 0.5 + 1e-6)
            return false;
        d += frac > 0.5;
        if (d > pow10u32[prec]) { /* k was too small */
            k++;
            continue;
        }
        if (d < pow10u32[prec - 1]) /* not reached while k <= floor(log10(x)) */
            return false;
        if (d == pow10u32[prec]) { /* rounded up to the next power of ten: 99999.95 → 100000 */
            d = pow10u32[prec - 1];
            k++;
        }
        *digits = (uint32_t)d;
        *exp10 = k;
        return true;
    }
    return false;
}

/* Writes what printf("%.*g", prec, ±x) writes, given decimal_digits' d and x10. Returns the length. */
static int emit_g(char *buf, bool neg, uint32_t d, int prec, int x10)
{
    char dig[10];
    for (int i = prec - 1; i >= 0; i--) {
        dig[i] = (char)('0' + d % 10);
        d /= 10;
    }
    int nd = prec; /* significant digits left after dropping trailing zeros, as %g does */
    while (nd > 1 && dig[nd - 1] == '0')
        nd--;
    char *o = buf;
    if (neg)
        *o++ = '-';
    if (x10 < -4 || x10 >= prec) { /* style e */
        *o++ = dig[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, dig + 1, (size_t)nd - 1);
            o += nd - 1;
        }
        *o++ = 'e';
        *o++ = x10 < 0 ? '-' : '+';
        int ax = x10 < 0 ? -x10 : x10; /* at most 45 for a float */
        if (ax >= 100)
            *o++ = (char)('0' + ax / 100);
        *o++ = (char)('0' + ax / 10 % 10);
        *o++ = (char)('0' + ax % 10);
    } else if (x10 >= 0) { /* style f, x10 + 1 integer digits */
        memcpy(o, dig, (size_t)x10 + 1);
        o += x10 + 1;
        if (nd > x10 + 1) {
            *o++ = '.';
            memcpy(o, dig + x10 + 1, (size_t)(nd - x10 - 1));
            o += nd - x10 - 1;
        }
    } else { /* style f, 0.000ddd */
        *o++ = '0';
        *o++ = '.';
        for (int i = 0; i < -x10 - 1; i++)
            *o++ = '0';
        memcpy(o, dig, (size_t)nd);
        o += nd;
    }
    *o = '\0';
    return (int)(o - buf);
}

/* Whether the decimal d · 10^e (d < 10^9) reads back as the float x > 0 (strtof: the nearest float, ties to even):
 * 1 yes, 0 no, -1 when double arithmetic cannot tell (then the caller parses it). The decimal in double, D, is one
 * correctly rounded product or quotient of exact doubles (10^|e| ≤ 10^22 is exact), so within 2^-53 of its value
 * relatively; the bounds of x's rounding interval, the midpoints to its neighbours, are exact in double (25
 * significant bits). Only a D within 2^-52 of a bound is left undecided. */
static int reads_back(float x, uint32_t d, int e)
{
    if (e > 22 || e < -22)
        return -1;
    float below = nextafterf(x, 0.f), above = nextafterf(x, INFINITY);
    if (!isfinite(above))
        return -1;
    double D = e >= 0 ? (double)d * pow10d_exact[e] : (double)d / pow10d_exact[-e];
    double lo = ((double)x + (double)below) / 2, hi = ((double)x + (double)above) / 2, tol = D * 0x1p-52;
    if (D > lo + tol && D < hi - tol)
        return 1;
    if (D < lo - tol || D > hi + tol)
        return 0;
    return -1;
}

int numparse_format_float(float f, char *buf)
{
    if (!isfinite(f)) /* outside the contract; still no undefined behaviour */
        return snprintf(buf, 32, "%g", (double)f);
    if (f == 0) {
        memcpy(buf, signbit(f) ? "-0" : "0", signbit(f) ? 3 : 2);
        return signbit(f) ? 2 : 1;
    }
    bool neg = f < 0;
    double x = neg ? -(double)f : (double)f;
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    int e2 = (int)((u >> 23) & 0xff) - 127; /* x in [2^e2, 2^(e2+1)) */
    if (e2 == -127) /* subnormal: find its leading bit */
        for (e2 = -127; !(u & 0x00400000u); u <<= 1)
            e2--;
    double t = e2 * 0.30102999566398120;
    int k = (int)t - (t < (int)t); /* floor(e2 * log10(2)): floor(log10(x)), or one less */
    for (int prec = 6; prec <= 9; prec++) {
        uint32_t d;
        int x10, n, r = -1;
        if (decimal_digits(x, prec, k, &d, &x10)) {
            n = emit_g(buf, neg, d, prec, x10);
            r = reads_back(neg ? -f : f, d, x10 - prec + 1);
        } else
            n = snprintf(buf, 32, "%.*g", prec, (double)f);
        if (prec == 9 || r == 1)
            return n; /* 9 significant digits (FLT_DECIMAL_DIG) always round-trip */
        float back;
        /* numparse_float gives exactly strtof's result, faster. */
        if (r < 0 && n > 0 && n < 32 && numparse_float(buf, buf + n, &back) == NUMPARSE_OK &&
            memcmp(&back, &f, sizeof f) == 0)
            return n;
    }
    return 0; /* not reached */
}
