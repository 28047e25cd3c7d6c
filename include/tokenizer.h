/* tokenizer — sentence (UTF-8 bytes) → tokens with byte spans and their lookup in the vector store.
 *
 * GloVe 6B was trained on lower-cased, PTB-style tokenized text (Stanford tokenizer), so sentences are split the
 * same way; every token keeps its byte span [begin, end) in the original sentence.
 *
 * Splitting rules (in this order; "word characters" are ASCII letters and digits and every non-ASCII code point
 * that is not a space, punctuation or symbol listed below — é, ü, ß, Cyrillic, Greek, CJK, combining marks):
 *  1. Separators: ASCII whitespace and control characters, NBSP, U+1680, U+2000–U+200B, U+2028/2029, U+202F,
 *     U+205F, U+3000, U+FEFF (BOM). A NUL byte or invalid UTF-8 is an error.
 *  2. A compound is a run of word characters joined by single connectors, each followed by a word character:
 *     apostrophe (' or ’), hyphen (-, U+2010, U+2011), period (u.s, 3.14, e.g) and comma between two ASCII digits
 *     (1,000). A period right after a compound (and not followed by a word character) belongs to it when the
 *     compound ends in dotted letter groups of at most 3 characters (u.s. → "u.s.", e.g., ph.d., anti-u.s.), is
 *     a known abbreviation (mr mrs ms dr prof st jr sr inc ltd co corp vs etc gen gov sen rep col lt sgt capt mt
 *     ft jan feb mar apr jun jul aug sep sept oct nov dec; case-insensitive) or a single letter (an initial:
 *     "J."); otherwise it is its own token. At the end of the sentence (only separators, closing quotes and
 *     brackets after it) only u.s.-style abbreviations and "etc." keep their period: "… plan B." → "B" ".".
 *  3. Clitics are split off the end of a compound, PTB-style, case-insensitively and repeatedly: 's 'm 'd 're 've
 *     'll and n't (it's → it 's, I'm → I 'm, we'll → we 'll, don't → do n't, can't → ca n't, won't → wo n't,
 *     shouldn't've → should n't 've). A stand-alone clitic ("'s", "n't", as in already tokenized text) is one token.
 *     "cannot", "gonna" stay whole (both are in GloVe's vocabulary).
 *  4. What is left of the compound is looked up whole (u.s., 1,000, e-mail, well-known, o'neill). When the
 *     vocabulary lacks it, the choice that finds more vectors is taken:
 *       - an abbreviation with its period (mr.) falls back to the word without it (mr), see fallbacks;
 *       - hyphens and apostrophes split it: state-of-the-arts → state - of - the - arts, o'neill → o ' neill
 *         (each part resolved again by these rules);
 *       - a number (only digits, '.' and ',') or a dotted word with a one-character part (u.s., e.g.) stays whole
 *         and out of vocabulary; other dotted words split at the periods (google.com → google . com).
 *  5. Everything else is punctuation or a symbol, one token per character, except runs: ".." and longer (one
 *     ellipsis token), "--" and longer (one dash token), "``" and "''" (PTB quotes). Quotes, brackets, dashes,
 *     currency and other symbols (ASCII and Unicode: “ ” ‘ ’ « » – — … € £ ¥ ¿ ¡ ・ 。 emoji …) are tokens of
 *     their own, so "(really?)" → ( really ? ).
 * Token texts are the source bytes with the apostrophe ’ and the hyphens U+2010/U+2011 normalised to ASCII (' -),
 * except a lone ’ (a closing quote: kept, fallback '); case is kept (the lookup handles it).
 *
 * Lookup: store_lookup (exact, then lowercase). When that fails, a fallback table gives replacement words, tried
 * in order (each again exact then lowercase); a token found that way has status TOK_FALLBACK, its row is the
 * replacement's row and `fallback` names the replacement:
 *     n't → not    're → are    'm → am    'll → will    've → have    'd → would (ambiguous with had; would is
 *     the commoner reading)    's → none (is / has / possessive: too ambiguous, stays OOV)
 *     an abbreviation with its period → the word without it (Mr. → mr, named as the vocabulary spells it)
 *     “ ” „ « » `` '' → "     ‘ ’ ‚ ‹ › → '     – → -     — → -- then -     a run of 2+ hyphens → --, —, -
 *     … → ...    a run of 2+ periods → ..., …    ( ) [ ] { } → -lrb- -rrb- -lsb- -rsb- -lcb- -rcb- (PTB names)
 * Tokens with no vector (after fallbacks) are TOK_OOV with row -1 and stay in place — unless the store has
 * fastText n-grams (a .bin model): then a token with at least one n-gram is TOK_SUBWORD (row -1), its vector the
 * mean of its n-grams' rows, as fastText gives words outside its vocabulary. The splitting choices above count only
 * vocabulary words.
 *
 * With a full glove.6B.100d.txt every PTB token ('s, n't, a, i, 1,000, u.s.) is in the vocabulary and matched
 * exactly; wink's subset lacks single letters, clitics, plain numbers and dotted abbreviations (see README).
 */
#ifndef TOKENIZER_H
#define TOKENIZER_H

#include <stddef.h>

#include "ev_error.h"
#include "store.h"

#define TOK_MAX_TOKENS 4096u      /* tokens per sentence (attention memory is n²) */
#define TOK_MAX_BYTES (1u << 20)  /* bytes per sentence */

/* How a token was found in the vector store. */
typedef enum {
    TOK_EXACT = 0,    /* the token's text is a word of the store */
    TOK_LOWER = 1,    /* its lowercase form is */
    TOK_FALLBACK = 2, /* a replacement word from the fallback table is (see `fallback`) */
    TOK_OOV = 3,      /* none: out of vocabulary, row -1 */
    TOK_SUBWORD = 4   /* not in the vocabulary, but the store has fastText n-grams (store_subwords) and the token
                         has some: its vector is built from them (store_subword_vector), row -1 */
} tok_status;

typedef struct {
    size_t begin, end;    /* byte span [begin, end) in the original sentence */
    const char *text;     /* token text as looked up: NUL-terminated, `len` bytes, owned by the sentence */
    size_t len;
    tok_status status;
    long row;             /* store row of the token (or of its fallback); -1 when TOK_OOV */
    const char *fallback; /* the replacement word when status == TOK_FALLBACK, else NULL (owned by the sentence
                             or static) */
} tok_token;

typedef struct {
    tok_token *tokens;    /* (n) in sentence order; spans are increasing and never overlap */
    size_t n;
    size_t n_known;       /* tokens with a vector (exact, lowercase, fallback or subword) */
    char *pool;           /* storage of the texts (internal) */
} tok_sentence;

/* Splits the n bytes of text into tokens and looks each up in s. s may be NULL: pure PTB splitting, compounds kept
 * whole, every token TOK_OOV. On success *out owns its arrays (release with tok_free); on failure *out is empty.
 * Errors: EV_ERR_FORMAT (invalid UTF-8 or a NUL byte, with the byte offset), EV_ERR_USAGE (empty or
 * whitespace-only sentence), EV_ERR_NOMEM (over TOK_MAX_BYTES or TOK_MAX_TOKENS, or out of memory). */
ev_status tok_tokenize(const store *s, const char *text, size_t n, tok_sentence *out, ev_error *err);

/* Releases the sentence's arrays and empties it. NULL-safe, idempotent. */
void tok_free(tok_sentence *t);

/* Gathers the tokens' vectors (s and t must not be NULL; t tokenized against s): X row i = store row of token i
 * (its fallback's row for TOK_FALLBACK), its n-gram vector for TOK_SUBWORD, or zeros when it is OOV; key_mask[i] = 1
 * for OOV tokens, 0 otherwise (may be NULL). X is (t->n, store_dim(s)) row-major, allocated by the caller. */
void tok_vectors(const store *s, const tok_sentence *t, float *X, unsigned char *key_mask);

/* "exact", "lowercase", "fallback", "oov", "subword". */
const char *tok_status_name(tok_status st);

#endif
