/* utf8 — strict decoding of one UTF-8 sequence, for the modules that walk text that may be invalid (pytext's
 * Python-compatible case mapping, render_html's escaping), and encoding of one code point. The tokenizer validates
 * whole sentences with its own diagnostics and then decodes without checks. */
#ifndef UTF8_H
#define UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decodes one UTF-8 sequence at p (n ≥ 1 bytes available) strictly, as Python's decoder: no overlongs, no
 * surrogates, nothing above U+10FFFF. Returns its length (1-4) and *cp, or 0 when the bytes are not valid. */
size_t utf8_decode(const unsigned char *p, size_t n, uint32_t *cp);

/* Encodes code point cp (at most U+10FFFF; surrogates are not checked) as UTF-8 into out, which has room for 4
 * bytes; returns the number of bytes written (1-4). */
size_t utf8_encode(uint32_t cp, char *out);

#endif
