/* loader_fasttext — the one reader of fastText's native .bin model (loader_internal.h, layout in docs/formats.md):
 * header, arguments, dictionary, input matrix; the words' vectors as fastText computes them and the n-gram rows
 * for words outside the vocabulary (subword.h). Everything is checked against the file's size before it is
 * allocated or trusted; every error names the byte offset and what was expected. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loader_internal.h"
#include "parallel.h"
#include "subword.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "fastText .bin files are read as little-endian; this build assumes a little-endian host"
#endif

#define WORD_PARALLEL_MIN 4096 /* fewer words: their vectors are computed on one thread */

/* A cursor over the file's bytes; every read is checked against the end first. */
typedef struct {
    const unsigned char *p;
    size_t n, off;
    const char *path;
    ev_error *err;
} cursor;

/* Fails unless k more bytes are left; what names the field being read. */
static int need(cursor *c, size_t k, const char *what)
{
    if (c->n - c->off >= k)
        return 0;
    ev_fail(c->err, EV_ERR_FORMAT, "%s: byte %zu: the file ends inside %s (%zu bytes needed, %zu left): a truncated "
            "fastText model", c->path, c->off, what, k, c->n - c->off);
    return -1;
}

static int32_t rd_i32(cursor *c)
{
    int32_t v;
    memcpy(&v, c->p + c->off, 4);
    c->off += 4;
    return v;
}

static int64_t rd_i64(cursor *c)
{
    int64_t v;
    memcpy(&v, c->p + c->off, 8);
    c->off += 8;
    return v;
}

static const char *const ARG_NAMES[12] = {"dim", "ws", "epoch", "minCount", "neg", "wordNgrams", "loss", "model",
                                          "bucket", "minn", "maxn", "lrUpdateRate"};
enum { A_DIM, A_WS, A_EPOCH, A_MINCOUNT, A_NEG, A_WORDNGRAMS, A_LOSS, A_MODEL, A_BUCKET, A_MINN, A_MAXN, A_LRUR };

int loader_is_fasttext_bytes(const char *p, size_t n)
{
    int32_t magic;
    if (n < 4)
        return 0;
    memcpy(&magic, p, 4);
    return magic == LOADER_FASTTEXT_MAGIC;
}

/* The vectors of words [lo, hi): fastText's word vector (own row and n-grams) into the output rows. */
typedef struct {
    const subword_model *sub; /* NULL: the own row alone */
    const float *input;       /* (nwords + bucket, dim) */
    const char *words;
    const size_t *offsets;
    size_t dim;
    float *out;
} word_job;

static void word_rows(void *ctx, size_t lo, size_t hi, int tid)
{
    (void)tid;
    word_job *j = ctx;
    for (size_t i = lo; i < hi; i++) {
        const float *own = j->input + i * j->dim;
        if (j->sub)
            subword_vector(j->sub, j->words + j->offsets[i], j->offsets[i + 1] - j->offsets[i] - 1, own,
                           j->out + i * j->dim);
        else
            memcpy(j->out + i * j->dim, own, j->dim * sizeof(float));
    }
}

ev_status loader_fasttext(const char *path, const char *bytes, size_t n, const loader_opts *o, store_rows *out,
                          ev_error *err)
{
    cursor c = {(const unsigned char *)bytes, n, 0, path, err};
    memset(out, 0, sizeof *out);
    /* 1. magic and version */
    if (need(&c, 8, "the header (magic and version)"))
        return EV_ERR_FORMAT;
    int32_t magic = rd_i32(&c), version = rd_i32(&c);
    if (magic != LOADER_FASTTEXT_MAGIC)
        return ev_fail(err, EV_ERR_FORMAT, "%s: byte 0: expected fastText's magic number %d (a .bin model), found %d",
                       path, LOADER_FASTTEXT_MAGIC, magic);
    if (version != 11 && version != 12)
        return ev_fail(err, EV_ERR_FORMAT, "%s: byte 4: fastText format version %d, expected 11 or 12 (fastText "
                       "0.1 to 0.9)", path, version);
    /* 2. the arguments: 12 int32 and a double */
    if (need(&c, 12 * 4 + 8, "the arguments block"))
        return EV_ERR_FORMAT;
    int32_t a[12];
    for (int i = 0; i < 12; i++)
        a[i] = rd_i32(&c);
    c.off += 8; /* t, the sampling threshold: not needed */
    for (int i = 0; i < 12; i++)
        if (a[i] < 0)
            return ev_fail(err, EV_ERR_FORMAT, "%s: byte %d: argument %s is %d, expected ≥ 0", path, 8 + 4 * i,
                           ARG_NAMES[i], a[i]);
    if (a[A_DIM] == 0)
        return ev_fail(err, EV_ERR_FORMAT, "%s: byte 8: dim is 0, expected ≥ 1", path);
    if (a[A_MODEL] < 1 || a[A_MODEL] > 3)
        return ev_fail(err, EV_ERR_FORMAT, "%s: byte %d: model is %d, expected 1 (cbow), 2 (skipgram) or 3 "
                       "(supervised)", path, 8 + 4 * A_MODEL, a[A_MODEL]);
    size_t dim = (size_t)a[A_DIM], bucket = (size_t)a[A_BUCKET];
    int minn = a[A_MINN], maxn = a[A_MAXN], supervised = a[A_MODEL] == 3;
    if (version == 11 && supervised)
        maxn = 0; /* fastText: old supervised models did not use character n-grams */
    if (maxn > SUBWORD_MAX_N)
        return ev_fail(err, EV_ERR_FORMAT, "%s: byte %d: maxn is %d, expected at most %d", path, 8 + 4 * A_MAXN, maxn,
                       SUBWORD_MAX_N);
    if (maxn > 0 && minn == 0)
        return ev_fail(err, EV_ERR_FORMAT, "%s: byte %d: minn is 0 with maxn %d, expected minn ≥ 1", path,
                       8 + 4 * A_MINN, maxn);
    /* 3. the dictionary: counts, then entries (word, NUL, int64 count, int8 type), then the pruned-hash pairs */
    size_t dict_at = c.off;
    if (need(&c, 3 * 4 + 2 * 8, "the dictionary's counts"))
        return EV_ERR_FORMAT;
    int32_t size = rd_i32(&c), nwords = rd_i32(&c), nlabels = rd_i32(&c);
    c.off += 8; /* ntokens */
    int64_t pruneidx_size = rd_i64(&c);
    if (size < 0 || nwords < 0 || nlabels < 0 || (int64_t)nwords + nlabels != size)
        return ev_fail(err, EV_ERR_FORMAT, "%s: byte %zu: dictionary of %d entries with %d words and %d labels, "
                       "expected words + labels = entries, none negative", path, dict_at, size, nwords, nlabels);
    if (nwords == 0)
        return ev_fail(err, EV_ERR_FORMAT, "%s: byte %zu: the dictionary has no words (%d labels)", path, dict_at + 4,
                       nlabels);
    if ((size_t)size > (c.n - c.off) / 10) /* an entry is at least 10 bytes: NUL, count, type */
        return ev_fail(err, EV_ERR_FORMAT, "%s: byte %zu: %d dictionary entries need at least %lld bytes, the file "
                       "has %zu left", path, dict_at, size, (long long)size * 10, c.n - c.off);
    if (pruneidx_size > 0)
        return ev_fail(err, EV_ERR_FORMAT, "%s: byte %zu: a pruned dictionary (%lld n-gram buckets kept, from fasttext "
                       "quantize -cutoff): only full models are read, not quantized ones", path, dict_at + 20,
                       (long long)pruneidx_size);
    if (pruneidx_size < -1)
        return ev_fail(err, EV_ERR_FORMAT, "%s: byte %zu: pruneidx_size is %lld, expected -1 (not pruned) or ≥ 0", path,
                       dict_at + 20, (long long)pruneidx_size);
    size_t keep = (size_t)nwords;
    if (o && o->limit && o->limit < keep)
        keep = o->limit;
    /* the words' bytes: a first pass finds their total (within the file) before anything is allocated */
    size_t entries_at = c.off, wbytes = 0;
    for (int32_t i = 0; i < size; i++) {
        const unsigned char *z = memchr(c.p + c.off, 0, c.n - c.off);
        if (!z)
            return ev_fail(err, EV_ERR_FORMAT, "%s: byte %zu: dictionary entry %d has no NUL ending its word before "
                           "the end of the file", path, c.off, i);
        size_t len = (size_t)(z - (c.p + c.off));
        if (len == 0)
            return ev_fail(err, EV_ERR_FORMAT, "%s: byte %zu: dictionary entry %d is an empty word", path, c.off, i);
        size_t at = c.off;
        c.off += len + 1;
        if (need(&c, 9, "a dictionary entry's count and type"))
            return EV_ERR_FORMAT;
        int64_t count = rd_i64(&c);
        int type = (int8_t)c.p[c.off++];
        if (count < 0 || (type != 0 && type != 1))
            return ev_fail(err, EV_ERR_FORMAT, "%s: byte %zu: dictionary entry %d has count %lld and type %d, "
                           "expected a count ≥ 0 and type 0 (word) or 1 (label)", path, at, i, (long long)count, type);
        if ((i < nwords) != (type == 0))
            return ev_fail(err, EV_ERR_FORMAT, "%s: byte %zu: dictionary entry %d is a %s, expected the %d words "
                           "first, then the %d labels", path, at, i, type ? "label" : "word", nwords, nlabels);
        if ((size_t)i < keep)
            wbytes += len + 1;
    }
    /* 4. the input matrix: a quantization flag, then int64 rows, int64 columns and rows × columns float32 */
    if (need(&c, 1, "the input matrix's quantization flag"))
        return EV_ERR_FORMAT;
    size_t qat = c.off;
    unsigned char quant = c.p[c.off++];
    if (quant == 1)
        return ev_fail(err, EV_ERR_FORMAT, "%s: byte %zu: a quantized fastText model (.ftz, fasttext quantize): its "
                       "vectors are product-quantized codes, not floats; use the full .bin model (or its .vec)", path,
                       qat);
    if (quant != 0)
        return ev_fail(err, EV_ERR_FORMAT, "%s: byte %zu: quantization flag %u, expected 0 or 1", path, qat, quant);
    if (need(&c, 16, "the input matrix's shape"))
        return EV_ERR_FORMAT;
    size_t mat_at = c.off;
    int64_t m = rd_i64(&c), cols = rd_i64(&c);
    int ngrams = maxn > 0 && bucket > 0 && pruneidx_size != 0; /* pruneidx_size 0: every n-gram pruned away */
    int64_t want_m = (int64_t)nwords + (int64_t)bucket;
    if (cols != (int64_t)dim || m != want_m)
        return ev_fail(err, EV_ERR_FORMAT, "%s: byte %zu: input matrix of shape [%lld, %lld], expected [words + "
                       "bucket, dim] = [%lld, %zu]", path, mat_at, (long long)m, (long long)cols, (long long)want_m,
                       dim);
    if ((uint64_t)m > (c.n - c.off) / 4 / dim)
        return ev_fail(err, EV_ERR_FORMAT, "%s: byte %zu: the input matrix needs %lld × %zu float32 values, the file "
                       "has %zu bytes left: a truncated fastText model", path, mat_at, (long long)m, dim, c.n - c.off);
    const unsigned char *mat = c.p + c.off;
    size_t mat_bytes = (size_t)m * dim * 4;
    c.off += mat_bytes;
    /* 5. the output matrix (not used) must end the file: a flag, a shape and its floats */
    if (need(&c, 17, "the output matrix's header"))
        return EV_ERR_FORMAT;
    size_t out_at = c.off;
    unsigned char qout = c.p[c.off++];
    if (qout != 0)
        return ev_fail(err, EV_ERR_FORMAT, "%s: byte %zu: output quantization flag %u, expected 0 (a full model)", path,
                       out_at, qout);
    int64_t om = rd_i64(&c), on = rd_i64(&c);
    if (om < 0 || on < 0 || (on && (uint64_t)om > (c.n - c.off) / 4 / (uint64_t)on) ||
        (size_t)om * (size_t)on * 4 != c.n - c.off)
        return ev_fail(err, EV_ERR_FORMAT, "%s: byte %zu: output matrix of shape [%lld, %lld] (%s bytes), the file "
                       "has %zu bytes left after its header: expected the model to end with it", path, out_at + 1,
                       (long long)om, (long long)on,
                       om >= 0 && on >= 0 && (on == 0 || (uint64_t)om <= SIZE_MAX / 4 / (uint64_t)on) ? "its" : "too many",
                       c.n - c.off);
    /* 6. the values, all finite (only the rows used: the kept words' and the n-grams') */
    size_t rows_used[2][2] = {{0, keep}, {(size_t)nwords, (size_t)m}};
    for (int part = 0; part < 2; part++) {
        if (part == 1 && !ngrams)
            break;
        for (size_t i = rows_used[part][0] * dim; i < rows_used[part][1] * dim; i++) {
            float f;
            memcpy(&f, mat + 4 * i, 4);
            if (!isfinite(f))
                return ev_fail(err, EV_ERR_FORMAT, "%s: byte %zu: input matrix row %zu, value %zu is %s, expected a "
                               "finite number", path, mat_at + 16 + 4 * i, i / dim, i % dim, isnan(f) ? "NaN" : "infinite");
        }
    }
    /* 7. build: the words, the n-gram model, the words' vectors */
    ev_status st = EV_OK;
    subword_model *sub = NULL;
    float *input = NULL; /* the matrix as floats (an aligned copy when the bytes are not aligned) */
    char *words = malloc(wbytes ? wbytes : 1);
    size_t *offsets = malloc((keep + 1) * sizeof *offsets);
    float *vectors = keep <= SIZE_MAX / sizeof(float) / dim ? malloc(keep * dim * sizeof *vectors) : NULL;
    if (!words || !offsets || !vectors) {
        st = ev_fail(err, EV_ERR_NOMEM, "%s: out of memory for %zu words × %zu", path, keep, dim);
        goto fail;
    }
    c.off = entries_at;
    size_t w = 0;
    for (size_t i = 0; i < keep; i++) {
        size_t len = strlen((const char *)c.p + c.off); /* within the file: checked above */
        offsets[i] = w;
        memcpy(words + w, c.p + c.off, len + 1);
        w += len + 1;
        c.off += len + 1 + 9;
    }
    offsets[keep] = w;
    if (((uintptr_t)mat % sizeof(float)) == 0)
        input = (float *)(uintptr_t)mat;
    else if (!(input = malloc(mat_bytes))) {
        st = ev_fail(err, EV_ERR_NOMEM, "%s: out of memory for the input matrix (%lld × %zu)", path, (long long)m, dim);
        goto fail;
    } else
        memcpy(input, mat, mat_bytes);
    if (ngrams && (st = subword_new(dim, bucket, minn, maxn, input + (size_t)nwords * dim, 1, &sub, err)) != EV_OK)
        goto fail;
    word_job j = {sub, input, words, offsets, dim, vectors};
    int T = o && o->threads > 0 ? o->threads : parallel_default_threads();
    parallel_for(keep >= WORD_PARALLEL_MIN ? T : 1, keep, word_rows, &j);
    if ((const unsigned char *)input != mat)
        free(input);
    out->n = keep;
    out->dim = dim;
    out->vectors = vectors;
    out->words = words;
    out->offsets = offsets;
    out->subwords = sub;
    return EV_OK;
fail:
    if (input && (const unsigned char *)input != mat)
        free(input);
    subword_free(sub);
    free(words);
    free(offsets);
    free(vectors);
    return st;
}
