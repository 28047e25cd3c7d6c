/* test_store — lookups (exact, lowercase), the cache file (write, mmap open, corrupted variants), --limit. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "store.h"

static char tmpdir[] = "/tmp/test_store.XXXXXX";

static store *make_store(const char *const *words, size_t n, size_t dim)
{
    store_rows r = {.n = n, .dim = dim};
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += strlen(words[i]) + 1;
    r.vectors = malloc(n * dim * sizeof(float));
    r.words = malloc(bytes);
    r.offsets = malloc((n + 1) * sizeof(size_t));
    size_t pos = 0;
    r.offsets[0] = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < dim; k++)
            r.vectors[i * dim + k] = (float)(i + 1) * (k % 2 ? -1.0f : 1.0f);
        size_t l = strlen(words[i]) + 1;
        memcpy(r.words + pos, words[i], l);
        pos += l;
        r.offsets[i + 1] = pos;
    }
    store *s = NULL;
    ev_error err = {0};
    size_t dups = 0;
    CHECK(store_from_rows(&r, "test", "glove", &dups, &s, &err) == EV_OK, "%s", err.msg);
    ev_error_clear(&err);
    return s;
}

static void test_lookup(store *s)
{
    store_match m;
    CHECK(store_lookup(s, "france", 6, &m) == 1 && m == STORE_EXACT, "exact");
    CHECK(store_lookup(s, "France", 6, &m) == 1 && m == STORE_LOWER, "France → france");
    CHECK(store_lookup(s, "FRANCE", 6, &m) == 1 && m == STORE_LOWER, "FRANCE → france");
    CHECK(store_lookup(s, "King", 4, &m) == 2 && m == STORE_EXACT, "King exact wins over king");
    CHECK(store_lookup(s, "KING", 4, &m) == 0 && m == STORE_LOWER, "KING → king");
    CHECK(store_lookup(s, "\xc3\x89" "cole", 6, &m) == 3 && m == STORE_LOWER, "École → école");
    CHECK(store_lookup(s, "\xce\x91\xce\x98\xce\x97\xce\x9d\xce\x91", 10, &m) == 4 && m == STORE_LOWER,
          "ΑΘΗΝΑ → αθηνα");
    CHECK(store_lookup(s, "\xd0\x9c\xd0\x9e\xd0\xa1\xd0\x9a\xd0\x92\xd0\x90", 12, &m) == 5 && m == STORE_LOWER,
          "МОСКВА → москва");
    CHECK(store_lookup(s, "nope", 4, &m) == -1 && m == STORE_OOV, "oov");
    CHECK(store_lookup(s, "", 0, &m) == -1, "empty");
    CHECK(store_find(s, "fran", 4) == -1, "prefix is not a match");
    size_t l;
    CHECK(strcmp(store_word(s, 3, &l), "\xc3\xa9" "cole") == 0 && l == 6, "word bytes");
}

static const char *const WORDS[] = {"king", "france", "King", ("\xc3\xa9" "cole"),
                                    "\xce\xb1\xce\xb8\xce\xb7\xce\xbd\xce\xb1",
                                    "\xd0\xbc\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0", "zero"};

static char path[600];

static void corrupt(const char *name, long off, const void *bytes, size_t n, long truncate_to, const char *frag,
                    const char *find, const char *repl)
{
    /* copy the good cache, patch it, expect a FORMAT error mentioning frag */
    FILE *in = fopen(path, "rb");
    fseek(in, 0, SEEK_END);
    long size = ftell(in);
    rewind(in);
    char *buf = malloc((size_t)size);
    if (fread(buf, 1, (size_t)size, in) != (size_t)size)
        exit(2);
    fclose(in);
    if (bytes)
        memcpy(buf + off, bytes, n);
    if (find) { /* same-length textual patch of the JSON header */
        uint64_t hl;
        memcpy(&hl, buf, 8);
        char *at = NULL;
        for (long i = 8; i + (long)strlen(find) <= 8 + (long)hl && !at; i++)
            if (memcmp(buf + i, find, strlen(find)) == 0)
                at = buf + i;
        CHECK(at != NULL, "%s: '%s' not in header", name, find);
        if (at)
            memcpy(at, repl, strlen(repl));
    }
    if (off < 0) { /* patch the first data byte's tensor (vocab_offsets[1]) */
        uint64_t hl, bad = 1ull << 50;
        memcpy(&hl, buf, 8);
        memcpy(buf + 8 + hl + 8, &bad, 8);
    }
    char p2[700];
    snprintf(p2, sizeof p2, "%s/%s", tmpdir, name);
    FILE *out = fopen(p2, "wb");
    fwrite(buf, 1, truncate_to >= 0 ? (size_t)truncate_to : (size_t)(size + (truncate_to < -1 ? truncate_to : 0)), out);
    fclose(out);
    free(buf);
    store *s = NULL;
    ev_error err = {0};
    ev_status st = store_open(p2, &s, &err);
    CHECK(st == EV_ERR_FORMAT && !s, "%s: status %d (%s)", name, st, err.msg);
    CHECK(err.msg && strstr(err.msg, frag), "%s: '%s' lacks '%s'", name, err.msg, frag);
    store_close(s);
    ev_error_clear(&err);
}

/* store_row_norms against its naive twin: one row at a time, squares summed in double in index order — the same
 * bits, for every count of rows (the groups of rows summed at once and the rest) and dimensions from 1 to 301. */
static void test_row_norms(void)
{
    const size_t dims[] = {1, 2, 7, 8, 100, 301};
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (size_t di = 0; di < sizeof dims / sizeof *dims; di++)
        for (size_t n = 0; n <= 19; n++) {
            size_t d = dims[di];
            float *v = malloc((n * d + 1) * sizeof *v), *got = malloc((n + 1) * sizeof *got),
                  *want = malloc((n + 1) * sizeof *want);
            for (size_t i = 0; i < n * d; i++) { /* values spread over many binades, some negative, some zero */
                x = x * 6364136223846793005u + 1442695040888963407u;
                v[i] = (x >> 60) == 0 ? 0.0f : ldexpf((float)((x >> 40) & 0xffffff) - 8388608.0f, (int)((x >> 33) & 31) - 40);
            }
            for (size_t i = 0; i < n; i++) {
                double acc = 0;
                for (size_t k = 0; k < d; k++)
                    acc += (double)v[i * d + k] * v[i * d + k];
                want[i] = (float)sqrt(acc);
            }
            store_row_norms(v, n, d, got);
            CHECK(n == 0 || memcmp(got, want, n * sizeof *got) == 0, "store_row_norms: %zu rows of %zu differ from one row "
                  "at a time", n, d);
            free(v);
            free(got);
            free(want);
        }
}

int main(void)
{
    test_row_norms();
    if (!mkdtemp(tmpdir))
        return 2;
    store *s = make_store(WORDS, 7, 5);
    if (!s)
        return check_done("test_store");
    CHECK(store_size(s) == 7 && store_dim(s) == 5, "sizes");
    test_lookup(s);
    snprintf(path, sizeof path, "%s/c.safetensors", tmpdir);
    ev_error err = {0};
    CHECK(store_write_cache(s, path, &err) == EV_OK, "write: %s", err.msg);
    CHECK(store_is_cache_file(path), "is cache");
    store *c = NULL;
    CHECK(store_open(path, &c, &err) == EV_OK, "open: %s", err.msg);
    if (c) {
        test_lookup(c);
        CHECK(memcmp(store_vectors(c), store_vectors(s), 7 * 5 * 4) == 0, "vectors");
        CHECK(memcmp(store_norms(c), store_norms(s), 7 * 4) == 0, "norms");
        CHECK(((uintptr_t)store_vectors(c)) % 4 == 0, "aligned");
        CHECK(strcmp(store_meta(c, "source_format"), "glove") == 0, "meta");
        CHECK(store_file_bytes(c) > 0, "file bytes");
        /* --limit on a cache keeps the first rows and drops the rest from lookups */
        CHECK(store_limit(c, 2, &err) == EV_OK, "limit");
        CHECK(store_size(c) == 2 && store_find(c, "france", 6) == 1 && store_find(c, "King", 4) == -1, "limited");
        store_close(c);
    }
    /* norms: computed, zero vector fine */
    CHECK(store_norms(s)[0] > 2.236f && store_norms(s)[0] < 2.2361f, "norm of (1,-1,1,-1,1)");
    store_close(s);

    /* duplicates dropped, first kept, rows compacted */
    const char *const dw[] = {"a", "b", "a", "c", "b"};
    store_rows r = {.n = 5, .dim = 1};
    r.vectors = malloc(5 * sizeof(float));
    r.words = malloc(10);
    r.offsets = malloc(6 * sizeof(size_t));
    r.offsets[0] = 0;
    for (int i = 0; i < 5; i++) {
        r.vectors[i] = (float)i;
        memcpy(r.words + 2 * i, dw[i], 2);
        r.offsets[i + 1] = (size_t)(2 * i + 2);
    }
    size_t dups = 0;
    CHECK(store_from_rows(&r, "d", "glove", &dups, &s, &err) == EV_OK && dups == 2, "dups %zu", dups);
    CHECK(s && store_size(s) == 3 && store_find(s, "c", 1) == 2 && store_row(s, 2)[0] == 3.0f, "compacted");
    store_close(s);

    /* many rows, every third word a repeat of an earlier one (the inserts hash and fetch words ahead of them) */
    {
        size_t n = 3000, bytes = 0;
        store_rows m = {.n = n, .dim = 2};
        m.vectors = malloc(n * 2 * sizeof(float));
        m.words = malloc(n * 8);
        m.offsets = malloc((n + 1) * sizeof(size_t));
        m.offsets[0] = 0;
        for (size_t i = 0; i < n; i++) {
            size_t w = i % 3 == 2 ? i / 5 : i; /* every third row repeats the word "w(i/5)", usually seen before */
            bytes += (size_t)sprintf(m.words + bytes, "w%zu", w) + 1;
            m.offsets[i + 1] = bytes;
            m.vectors[2 * i] = (float)i;
            m.vectors[2 * i + 1] = -(float)i;
        }
        size_t kept = 0;
        for (size_t i = 0; i < n; i++) { /* the expected first occurrences */
            size_t w = i % 3 == 2 ? i / 5 : i, first = n;
            for (size_t j = 0; j <= i && first == n; j++)
                if ((j % 3 == 2 ? j / 5 : j) == w)
                    first = j;
            kept += first == i;
        }
        CHECK(store_from_rows(&m, "m", "glove", &dups, &s, &err) == EV_OK, "many: %s", err.msg);
        CHECK(s && store_size(s) == kept && dups == n - kept, "many: %zu kept, expected %zu", s ? store_size(s) : 0,
              kept);
        for (size_t i = 0; s && i < n; i++) {
            char w[16];
            int l = sprintf(w, "w%zu", i % 3 == 2 ? i / 5 : i);
            long r = store_find(s, w, (size_t)l);
            size_t first = n;
            for (size_t j = 0; j <= i && first == n; j++)
                if ((j % 3 == 2 ? j / 5 : j) == (i % 3 == 2 ? i / 5 : i))
                    first = j;
            CHECK(r >= 0 && store_row(s, (size_t)r)[0] == (float)first, "many: %s has row value %g, expected %zu", w,
                  r >= 0 ? (double)store_row(s, (size_t)r)[0] : -1.0, first);
        }
        store_close(s);
    }

    /* corrupted caches */
    uint64_t huge = 1ull << 40;
    corrupt("hdrlen.safetensors", 0, &huge, 8, -1, "header length", NULL, NULL);
    corrupt("trunc8.safetensors", 0, NULL, 0, 5, "8-byte header length", NULL, NULL);
    corrupt("empty.safetensors", 0, NULL, 0, 0, "empty file", NULL, NULL);
    corrupt("cuthdr.safetensors", 0, NULL, 0, 200, "header length", NULL, NULL);
    corrupt("cutdata.safetensors", 0, NULL, 0, -3, "data_offsets must lie within", NULL, NULL);
    corrupt("json.safetensors", 9, "!!", 2, -1, "JSON header does not parse", NULL, NULL);
    corrupt("dtype.safetensors", 0, NULL, 0, -1, "expected dtype F32, found F16", "\"F32\"", "\"F16\"");
    corrupt("shape.safetensors", 0, NULL, 0, -1, "shape [7, 6] needs 168 bytes", "[7,5]", "[7,6]");
    corrupt("name.safetensors", 0, NULL, 0, -1, "tensor named 'norms'", "\"norms\"", "\"normz\"");
    corrupt("offsets.safetensors", -1, NULL, 0, -1, "vocab_offsets", NULL, NULL);
    corrupt("version.safetensors", 0, NULL, 0, -1, "format_version is '9': this embvsattn reads embvsattn-cache files "
            "of version 1 or 2 only", "\"format_version\":\"1\"", "\"format_version\":\"9\"");
    corrupt("twice.safetensors", 0, NULL, 0, -1, "tensor 'norms' appears twice", "\"index\":", "\"norms\":");
    corrupt("meta.safetensors", 0, NULL, 0, -1, "__metadata__.format must be a string", "\"format\":\"embvsattn-cache\"",
            "\"format\":12345678901234567"); /* same length */
    ev_error_clear(&err);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        return 2;
    return check_done("test_store");
}
