/* jsonstr — JSON strings from byte strings: valid UTF-8 JSON whatever the bytes, with the exact bytes recoverable.
 *
 * Words, tokens, queries and paths are byte strings (a latin-1 .vec holds "clich\xe9s"). A string that is valid
 * UTF-8 without NUL bytes is written as it is. Otherwise each byte that does not begin a valid UTF-8 sequence (and
 * each NUL) becomes U+FFFD in KEY, and a sibling KEY_bytes holds every byte of the original in lowercase hex
 * ("636c696368e973"): Python's bytes.fromhex(o["word_bytes"]) gives the bytes back. KEY_bytes is absent for valid
 * strings, so consumers that only handle text see no change.
 */
#ifndef JSONSTR_H
#define JSONSTR_H

#include <cJSON.h>
#include <stddef.h>

/* True when the n bytes at p are valid UTF-8 (strict: no overlongs, surrogates or values past U+10FFFF) with no NUL. */
int jsonstr_valid(const char *p, size_t n);

/* A JSON string of the n bytes, invalid ones as U+FFFD. NULL when out of memory. */
cJSON *jsonstr_create(const char *p, size_t n);

/* Adds KEY: the string (jsonstr_create) and, when the bytes are not valid, KEY_bytes (hex) to obj. p may be NULL
 * (an empty string). Returns 0, or -1 when out of memory. */
int jsonstr_add(cJSON *obj, const char *key, const char *p, size_t n);

/* jsonstr_add of a NUL-terminated string (NULL: ""). */
int jsonstr_add_cstr(cJSON *obj, const char *key, const char *s);

/* Adds KEY: an array of the n NUL-terminated strings, and KEY_bytes (an array of the same length: hex for each
 * string that is not valid, null for the others) when any is not valid. Returns 0, or -1 when out of memory. */
int jsonstr_add_list(cJSON *obj, const char *key, const char *const *items, size_t n);

#endif
