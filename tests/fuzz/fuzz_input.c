/* fuzz_input — the decompressing reader (input.c) and the stream parsers (loader_stream.c), two ways:
 *   1. the input as a file, read by loader_load with tiny ring blocks (magic detection, the gzip/bzip2/xz/zip
 *      decoders and the zip directory on arbitrary bytes): a store that loads keeps the store invariants, a failure
 *      carries a status and a message;
 *   2. the input gzip-compressed here, read as a stream with blocks of 1 + (first byte % 61) bytes (records and
 *      lines straddling blocks), must give what loader_load_bytes gives for the plain bytes: the same store bit for
 *      bit, or the same status — and, for text, the same message after the file's name. */
#include "fuzz_common.h" /* first: it defines _GNU_SOURCE before any system header */

#include <zlib.h>

#include "loader.h"

static void check_result(ev_status st, store *s, const ev_error *err, const char *what)
{
    if (st == EV_OK) {
        FUZZ_CHECK(s != NULL, "%s: EV_OK without a store", what);
        fuzz_check_store(s, 1);
    } else {
        FUZZ_CHECK(s == NULL, "%s: a store on failure", what);
        fuzz_check_error(st, err, what);
    }
}

/* The message after "NAME" (both names are at the start of every loader message). */
static const char *after(const char *msg, const char *name)
{
    size_t l = strlen(name);
    return strncmp(msg, name, l) == 0 ? msg + l : msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* 1. as it is */
    const char *path = fuzz_file(data, size);
    loader_opts o = {.block_bytes = 7};
    store *s = NULL;
    ev_error err = {0};
    ev_status st = loader_load(path, &o, &s, &err);
    check_result(st, s, &err, "loader_load");
    store_close(s);
    ev_error_clear(&err);
    if (size == 0 || size > 4096)
        return 0;
    /* 2. gzip-compressed, against the plain bytes */
    uLong cap = compressBound((uLong)size) + 32;
    unsigned char *gz = malloc(cap);
    FUZZ_CHECK(gz != NULL, "out of memory");
    z_stream z = {0};
    FUZZ_CHECK(deflateInit2(&z, 1, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) == Z_OK, "deflateInit2");
    z.next_in = (unsigned char *)data;
    z.avail_in = (uInt)size;
    z.next_out = gz;
    z.avail_out = (uInt)cap;
    FUZZ_CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END, "deflate");
    size_t gn = cap - z.avail_out;
    deflateEnd(&z);
    path = fuzz_file(gz, gn);
    free(gz);
    loader_opts os = {.block_bytes = 1 + data[0] % 61}, om = {0};
    store *ss = NULL, *sm = NULL;
    ev_error es = {0}, em = {0};
    ev_status sts = loader_load(path, &os, &ss, &es);
    ev_status stm = loader_load_bytes("fuzz.txt", (const char *)data, size, &om, &sm, &em);
    check_result(sts, ss, &es, "loader_load (gzip)");
    /* (plain bytes that are themselves packed, or a tar, are parsed as text from memory but refused in a stream) */
    int packed = input_sniff((const char *)data, size) != INPUT_PLAIN || (size >= 263 && !memcmp(data + 257, "ustar", 5));
    if (!packed) {
        FUZZ_CHECK(sts == stm, "gzip stream: %d (%s); plain bytes: %d (%s)", (int)sts, es.msg ? es.msg : "",
                   (int)stm, em.msg ? em.msg : "");
    }
    if (!packed && sts == EV_OK && stm == EV_OK) {
        size_t V = store_size(sm), d = store_dim(sm);
        FUZZ_CHECK(store_size(ss) == V && store_dim(ss) == d && os.n_duplicates == om.n_duplicates, "sizes differ");
        FUZZ_CHECK(memcmp(store_vectors(ss), store_vectors(sm), V * d * sizeof(float)) == 0, "vectors differ");
        for (size_t i = 0; i < V; i++) {
            size_t la, lb;
            const char *wa = store_word(ss, i, &la), *wb = store_word(sm, i, &lb);
            FUZZ_CHECK(la == lb && memcmp(wa, wb, la) == 0, "word %zu differs", i);
        }
    } else if (!packed && sts != EV_OK && stm != EV_OK && (om.detected == VF_GLOVE || om.detected == VF_W2V_TEXT)) {
        FUZZ_CHECK(strcmp(after(es.msg, path), after(em.msg, "fuzz.txt")) == 0, "gzip stream: %s; plain bytes: %s",
                   es.msg, em.msg);
    }
    store_close(ss);
    store_close(sm);
    ev_error_clear(&es);
    ev_error_clear(&em);
    return 0;
}
