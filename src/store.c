#define _DEFAULT_SOURCE /* MADV_HUGEPAGE */
#include "store.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jsonstr.h"
#include "outfile.h"
#include "parallel.h"
#include "safetensors.h"
#include "store_internal.h"
#include "util.h"
#include "version.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the cache format is little-endian; this build assumes a little-endian host"
#endif

#define CACHE_ALIGN STORE_CACHE_ALIGN
#define MAX_HEADER_BYTES STORE_MAX_HEADER_BYTES

typedef struct {
    char *key, *value;
} meta_kv;

struct store {
    size_t V, d, H, vocab_bytes;
    const float *vectors;    /* (V, d) */
    const float *norms;      /* (V) */
    const int64_t *offsets;  /* (V+1) */
    const int32_t *index;    /* (H) */
    const char *vocab;       /* (vocab_bytes) */
    size_t nbr_n, nbr_k;     /* neighbour lists (optional): nbr_n lists of nbr_k */
    const int32_t *nbr_rows; /* (nbr_n, nbr_k) */
    const float *nbr_scores; /* (nbr_n, nbr_k) */
    /* ownership: either a mapping or heap arrays */
    void *map;
    size_t map_len;
    float *own_vectors, *own_norms;
    int64_t *own_offsets;
    int32_t *own_index;
    char *own_vocab;
    int32_t *own_nbr_rows;
    float *own_nbr_scores;
    size_t *own_src;         /* streamed rows: the sink row of each kept row (NULL: the same row) */
    meta_kv *meta;
    size_t n_meta;
    subword_model *sub;      /* fastText n-grams (optional) */
};

uint64_t store_hash(const char *w, size_t n)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)w[i];
        h *= 1099511628211ull;
    }
    return h;
}

size_t store_size(const store *s) { return s->V; }
size_t store_dim(const store *s) { return s->d; }
const float *store_vectors(const store *s) { return s->vectors; }
const float *store_norms(const store *s) { return s->norms; }
const float *store_row(const store *s, size_t row) { return s->vectors + row * s->d; }
size_t store_file_bytes(const store *s) { return s->map ? s->map_len : 0; }

size_t store_neighbor_lists(const store *s, size_t *K, const int32_t **rows, const float **scores)
{
    *K = s->nbr_k;
    *rows = s->nbr_rows;
    *scores = s->nbr_scores;
    return s->nbr_n;
}

void store_set_neighbor_lists(store *s, size_t n, size_t K, int32_t *rows, float *scores)
{
    free(s->own_nbr_rows);
    free(s->own_nbr_scores);
    s->own_nbr_rows = rows;
    s->own_nbr_scores = scores;
    s->nbr_rows = rows;
    s->nbr_scores = scores;
    s->nbr_n = n && K && rows && scores ? n : 0;
    s->nbr_k = s->nbr_n ? K : 0;
}

const char *store_word(const store *s, size_t row, size_t *len)
{
    size_t b = (size_t)s->offsets[row], e = (size_t)s->offsets[row + 1];
    if (len)
        *len = e - b - 1;
    return s->vocab + b;
}

const char *store_meta(const store *s, const char *key)
{
    for (size_t i = 0; i < s->n_meta; i++)
        if (strcmp(s->meta[i].key, key) == 0)
            return s->meta[i].value;
    return NULL;
}

const char *store_match_name(store_match m)
{
    return m == STORE_EXACT ? "exact" : m == STORE_LOWER ? "lowercase" : m == STORE_SUBWORD ? "subword" : "oov";
}

const subword_model *store_subwords(const store *s) { return s->sub; }

void store_set_subwords(store *s, subword_model *m)
{
    if (s->sub != m)
        subword_free(s->sub);
    s->sub = m;
}

size_t store_subword_vector(const store *s, const char *w, size_t n, float *out)
{
    if (!s->sub) {
        memset(out, 0, s->d * sizeof *out);
        return 0;
    }
    return subword_vector(s->sub, w, n, NULL, out);
}

long store_find(const store *s, const char *w, size_t n)
{
    if (s->H == 0)
        return -1;
    size_t mask = s->H - 1, h = (size_t)store_hash(w, n) & mask;
    for (size_t probe = 0; probe < s->H; probe++, h = (h + 1) & mask) {
        int32_t r = s->index[h];
        if (r < 0)
            return -1; /* empty slot: not present */
        if ((size_t)r >= s->V)
            continue; /* not a row of this store (a corrupt slot): skip it */
        size_t len;
        const char *cand = store_word(s, (size_t)r, &len);
        if (len == n && memcmp(cand, w, n) == 0)
            return r;
    }
    return -1;
}

/* Lowercase of one code point for the scripts GloVe-style vocabularies use; returns cp itself otherwise. */
static unsigned lower_cp(unsigned cp)
{
    if (cp >= 'A' && cp <= 'Z')
        return cp + 32;
    if ((cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) || (cp >= 0x391 && cp <= 0x3AB && cp != 0x3A2) ||
        (cp >= 0x410 && cp <= 0x42F))
        return cp + 32;
    if (cp >= 0x400 && cp <= 0x40F)
        return cp + 80;
    if (cp >= 0x100 && cp <= 0x17F && cp != 0x130 && cp != 0x138 && cp != 0x149 && cp != 0x178) {
        /* Latin Extended-A: pairs (even upper, odd lower), except the 0x139–0x148 and 0x179–0x17E runs */
        if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E))
            return (cp & 1) ? cp + 1 : cp;
        return (cp & 1) ? cp : cp + 1;
    }
    return cp;
}

char *store_lowercase(const char *w, size_t n, size_t *out_len)
{
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    const unsigned char *p = (const unsigned char *)w;
    size_t i = 0, o = 0;
    while (i < n) {
        unsigned c = p[i];
        if (c < 0x80) {
            out[o++] = (char)lower_cp(c);
            i++;
        } else if ((c & 0xE0) == 0xC0 && i + 1 < n && (p[i + 1] & 0xC0) == 0x80) {
            unsigned cp = ((c & 0x1F) << 6) | (p[i + 1] & 0x3F);
            unsigned lc = cp >= 0x80 ? lower_cp(cp) : cp;
            if (lc < 0x80 || lc > 0x7FF)
                lc = cp; /* stay within 2 bytes: same length */
            out[o++] = (char)(0xC0 | (lc >> 6));
            out[o++] = (char)(0x80 | (lc & 0x3F));
            i += 2;
        } else {
            out[o++] = (char)c; /* other bytes (3/4-byte sequences, invalid UTF-8) unchanged */
            i++;
        }
    }
    out[o] = '\0';
    if (out_len)
        *out_len = o;
    return out;
}

long store_lookup(const store *s, const char *w, size_t n, store_match *match)
{
    long r = store_find(s, w, n);
    if (r >= 0) {
        if (match)
            *match = STORE_EXACT;
        return r;
    }
    size_t ln;
    char *lw = store_lowercase(w, n, &ln);
    if (lw && (ln != n || memcmp(lw, w, n) != 0))
        r = store_find(s, lw, ln);
    free(lw);
    if (match)
        *match = r >= 0 ? STORE_LOWER : STORE_OOV;
    return r;
}

static void free_meta(store *s)
{
    for (size_t i = 0; i < s->n_meta; i++) {
        free(s->meta[i].key);
        free(s->meta[i].value);
    }
    free(s->meta);
    s->meta = NULL;
    s->n_meta = 0;
}

static int add_meta(store *s, const char *key, const char *value)
{
    meta_kv *m = realloc(s->meta, (s->n_meta + 1) * sizeof *m);
    if (!m)
        return -1;
    s->meta = m;
    m[s->n_meta].key = strdup(key);
    m[s->n_meta].value = strdup(value ? value : "");
    if (!m[s->n_meta].key || !m[s->n_meta].value) {
        free(m[s->n_meta].key);
        free(m[s->n_meta].value);
        return -1;
    }
    s->n_meta++;
    return 0;
}

void store_close(store *s)
{
    if (!s)
        return;
    if (s->map)
        munmap(s->map, s->map_len);
    free(s->own_vectors);
    free(s->own_norms);
    free(s->own_offsets);
    free(s->own_index);
    free(s->own_vocab);
    free(s->own_nbr_rows);
    free(s->own_nbr_scores);
    free(s->own_src);
    subword_free(s->sub);
    free_meta(s);
    free(s);
}

int store_is_cache_bytes(const unsigned char *p, size_t n) { return n >= 10 && st_sniff(p, n); }

int store_is_cache_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    unsigned char head[10];
    struct stat st;
    int ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && read(fd, head, sizeof head) == (ssize_t)sizeof head;
    close(fd);
    return ok && st_sniff(head, (uint64_t)st.st_size);
}

/* ---- opening a cache ------------------------------------------------------------------------------------- */

/* The cache's tensors (store.h), for the safetensors validator. */
static const st_expect CACHE_TENSORS[] = {
    {"vocab_offsets", "I64", 1}, {"vectors", "F32", 2},         {"norms", "F32", 1},          {"index", "I32", 1},
    {"neighbor_rows", "I32", 2}, {"neighbor_scores", "F32", 2}, {"ngrams", "F32", 2},       {"vocab", "U8", 1}};
static const st_format CACHE_FORMAT = {
    .kind = "cache",
    .format = "embvsattn-cache",
    .version = "2",       /* 2: with fastText's n-gram rows (ngrams); written only for a cache that has them */
    .older_version = "1", /* 1: without them (every cache before, and every cache without n-grams since) */
    .max_header = MAX_HEADER_BYTES,
    .max_tensors = 64,
    .min_dim = 0,
    .max_dim = UINT64_MAX,
    .tensors = CACHE_TENSORS,
    .n_tensors = sizeof CACHE_TENSORS / sizeof CACHE_TENSORS[0],
    .max_wildcard = 0,
    .others = 1, /* tensors a later version may add are checked and left alone */
    .aligned = 1, /* mapped and read in place */
    .contents = "a cache has vocab_offsets, vectors, norms, index and vocab, and optionally neighbor_rows with "
                "neighbor_scores, and ngrams"};

/* The n-gram model's metadata (a cache with the ngrams tensor has all three). */
static const char *const NGRAM_META[3] = {"ngram_minn", "ngram_maxn", "ngram_bucket"};

/* __metadata__.key as a decimal integer from lo to hi (digits only) into *out; EV_ERR_FORMAT otherwise. */
static ev_status meta_int(const st_file *f, const char *key, long long lo, long long hi, const char *path,
                          long long *out, ev_error *err)
{
    const char *v = st_meta(f, key);
    long long x = 0;
    int ok = v && *v;
    for (const char *p = v; ok && *p; p++) {
        ok = *p >= '0' && *p <= '9' && x <= (hi - (*p - '0')) / 10;
        x = ok ? x * 10 + (*p - '0') : x;
    }
    if (!v)
        return ev_fail(err, EV_ERR_FORMAT, "%s: cache header: the ngrams tensor needs __metadata__.%s, found none",
                       path, key);
    if (!ok || x < lo)
        return ev_fail(err, EV_ERR_FORMAT, "%s: cache header: __metadata__.%s is '%s', expected an integer from %lld "
                       "to %lld", path, key, v, lo, hi);
    *out = x;
    return EV_OK;
}

/* The optional n-gram rows of a fastText model (format_version 2): the tensor and its three metadata together,
 * the metadata in range, the shape [ngram_bucket, d]; the model then borrows the mapped rows (values are not
 * scanned, as the matrix's are not). */
static ev_status open_ngrams(store *s, const st_file *f, const char *path, ev_error *err)
{
    const st_tensor *t = st_get(f, "ngrams");
    int any_meta = 0;
    for (int i = 0; i < 3; i++)
        any_meta |= st_meta(f, NGRAM_META[i]) != NULL;
    if (!t && !any_meta)
        return EV_OK;
    ev_status st;
    if ((st = st_require(f, &CACHE_FORMAT, "ngrams", path, &t, err)) != EV_OK)
        return st;
    const char *ver = st_meta(f, "format_version");
    if (ver && strcmp(ver, "2") != 0)
        return ev_fail(err, EV_ERR_FORMAT, "%s: cache header: an ngrams tensor in a cache of format_version '%s', "
                       "expected '2' (older readers would ignore it)", path, ver);
    long long minn, maxn, bucket;
    if ((st = meta_int(f, "ngram_minn", 1, INT32_MAX, path, &minn, err)) != EV_OK ||
        (st = meta_int(f, "ngram_maxn", 1, SUBWORD_MAX_N, path, &maxn, err)) != EV_OK ||
        (st = meta_int(f, "ngram_bucket", 1, INT32_MAX, path, &bucket, err)) != EV_OK) /* fastText's int32 */
        return st;
    if (t->shape[0] != (size_t)bucket || t->shape[1] != s->d)
        return ev_fail(err, EV_ERR_FORMAT, "%s: cache header: tensor 'ngrams' has shape [%zu, %zu], expected "
                       "[ngram_bucket, dim] = [%lld, %zu]", path, t->shape[0], t->shape[1], bucket, s->d);
    subword_model *m;
    if ((st = subword_new(s->d, (size_t)bucket, (int)minn, (int)maxn, (const float *)t->data, 0, &m, err)) != EV_OK)
        return st;
    store_set_subwords(s, m);
    return EV_OK;
}

/* Words whose offsets and ends store_open checks before it releases their pages (release_upto). */
#define OPEN_CHECK_CHUNK ((size_t)1 << 16)

/* Gives advice (MADV_NOHUGEPAGE, MADV_RANDOM) for the mapping of a cache (map, size) outside its matrix
 * [vec, vec + vec_bytes): the word index, the words, their offsets, the norms and the neighbour lists, which are read
 * a few bytes at a time, at random. Where huge pages are allowed the kernel maps a 2 MiB page-cache folio whole on
 * a read, and without MADV_RANDOM it maps 16 pages around each read: each lookup of a word then put megabytes in
 * this process's memory (the main view of one sentence on a 3,000,000-word cache held 126 MiB). The matrix, read in
 * long passes, keeps the defaults. A hint: nothing changes where it is not supported; nothing is done for a cache
 * below 4 MiB. */
static void advise_small(const void *map, size_t size, const void *vec, size_t vec_bytes, int advice)
{
    const uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t m0 = (uintptr_t)map, m1 = m0 + size, v0 = (uintptr_t)vec & ~(pg - 1),
              v1 = ((uintptr_t)vec + vec_bytes + pg - 1) & ~(pg - 1);
    if (size < ((size_t)4 << 20))
        return;
    if (v0 > m0)
        (void)madvise((void *)m0, v0 - m0, advice);
    if (m1 > v1)
        (void)madvise((void *)v1, ((m1 - v1) + pg - 1) & ~(pg - 1), advice);
}

/* Drops the whole pages of the read-only mapping from *done (0: from p) up to end from this process (MADV_DONTNEED:
 * a later read maps them again from the page cache, with the same bytes), and moves *done on. Opening a cache reads
 * all of vocab_offsets and a byte of every word (71 MiB for 3,000,000 words): released as it goes, they do not stay
 * in the peak memory of a process that then looks up a few words. (Small pages there: advise_small.) */
static void release_upto(const void *p, const void *end, uintptr_t *done)
{
    const uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t b = *done ? *done : ((uintptr_t)p + pg - 1) & ~(pg - 1), e = (uintptr_t)end & ~(pg - 1);
    if (e > b) {
        (void)madvise((void *)b, (size_t)(e - b), MADV_DONTNEED);
        *done = e;
    } else if (!*done) {
        *done = b;
    }
}

ev_status store_open(const char *path, store **out, ev_error *err)
{
    *out = NULL;
    struct stat st;
    int fd = util_open(path, "cache file", &st, err);
    if (fd < 0)
        return EV_ERR_IO;
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return ev_fail(err, EV_ERR_IO, "%s: not a regular file, a cache must be one (it is mapped)", path);
    }
    size_t size = (size_t)st.st_size;
    void *map = size ? mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0) : NULL; /* (an empty file is reported below) */
    int e = errno;
    close(fd);
    if (map == MAP_FAILED)
        return ev_fail(err, EV_ERR_IO, "%s: cannot map: %s", path, strerror(e));
    store *s = calloc(1, sizeof *s);
    if (!s) {
        if (map)
            munmap(map, size);
        return ev_fail(err, EV_ERR_NOMEM, "out of memory opening %s", path);
    }
    s->map = map;
    s->map_len = size;
    st_file f;
    ev_status st_;
    if ((st_ = st_open(map ? map : (const void *)"", size, &CACHE_FORMAT, path, &f, err)) != EV_OK)
        goto fail;
    const st_tensor *t_off, *t_vec, *t_norm, *t_idx, *t_voc;
    if ((st_ = st_require(&f, &CACHE_FORMAT, "vocab_offsets", path, &t_off, err)) != EV_OK ||
        (st_ = st_require(&f, &CACHE_FORMAT, "vectors", path, &t_vec, err)) != EV_OK ||
        (st_ = st_require(&f, &CACHE_FORMAT, "norms", path, &t_norm, err)) != EV_OK ||
        (st_ = st_require(&f, &CACHE_FORMAT, "index", path, &t_idx, err)) != EV_OK ||
        (st_ = st_require(&f, &CACHE_FORMAT, "vocab", path, &t_voc, err)) != EV_OK)
        goto fail;
    s->V = t_vec->shape[0];
    s->d = t_vec->shape[1];
    s->H = t_idx->shape[0];
    s->vocab_bytes = t_voc->shape[0];
    if (s->V == 0 || s->d == 0) {
        st_ = ev_fail(err, EV_ERR_FORMAT, "%s: cache holds %zu words of dimension %zu, expected at least 1 of each",
                      path, s->V, s->d);
        goto fail;
    }
    if (t_norm->shape[0] != s->V || t_off->shape[0] != s->V + 1) {
        st_ = ev_fail(err, EV_ERR_FORMAT,
                      "%s: cache sizes disagree: vectors has %zu rows, norms %zu, vocab_offsets %zu (expected %zu)",
                      path, s->V, t_norm->shape[0], t_off->shape[0], s->V + 1);
        goto fail;
    }
    if (s->H <= s->V || (s->H & (s->H - 1)) != 0) {
        st_ = ev_fail(err, EV_ERR_FORMAT, "%s: index has %zu slots, expected a power of two above %zu words",
                      path, s->H, s->V);
        goto fail;
    }
    s->vectors = (const float *)t_vec->data;
#ifdef MADV_NOHUGEPAGE
    advise_small(map, size, t_vec->data, (size_t)s->V * s->d * sizeof(float), MADV_NOHUGEPAGE);
#endif
    s->norms = (const float *)t_norm->data;
    s->offsets = (const int64_t *)t_off->data;
    s->index = (const int32_t *)t_idx->data;
    s->vocab = (const char *)t_voc->data;
    /* Offsets: start at 0, strictly increasing by ≥ 2 (a byte and a NUL), end at the vocab size; the byte before
     * each offset is a NUL. One branch-free pass (the index is clamped into the tensor before it is read); the
     * failing pair is looked for again only on error. */
    if (s->offsets[0] != 0 || (uint64_t)s->offsets[s->V] != s->vocab_bytes || s->vocab[s->vocab_bytes - 1] != '\0') {
        st_ = ev_fail(err, EV_ERR_FORMAT, "%s: vocab_offsets must run from 0 to %zu, the end of a NUL-terminated vocab",
                      path, s->vocab_bytes);
        goto fail;
    }
    int bad = 0;
    uintptr_t off_done = 0, voc_done = 0;
    for (size_t c0 = 0; c0 < s->V; c0 += OPEN_CHECK_CHUNK) {
        size_t c1 = s->V - c0 < OPEN_CHECK_CHUNK ? s->V : c0 + OPEN_CHECK_CHUNK;
        for (size_t i = c0; i < c1; i++) {
            uint64_t last = (uint64_t)s->offsets[i + 1] - 1;
            last = last < s->vocab_bytes ? last : s->vocab_bytes - 1;
            bad |= (s->offsets[i + 1] < s->offsets[i] + 2) | (s->vocab[last] != '\0');
        }
        if (!bad && size >= ((size_t)4 << 20)) { /* the pages passed: out of this process's memory again */
            uint64_t vend = (uint64_t)s->offsets[c1] < s->vocab_bytes ? (uint64_t)s->offsets[c1] : s->vocab_bytes;
            release_upto(s->offsets, s->offsets + c1, &off_done);
            release_upto(s->vocab, s->vocab + vend, &voc_done);
        }
    }
#ifdef MADV_RANDOM
    advise_small(map, size, t_vec->data, (size_t)s->V * s->d * sizeof(float), MADV_RANDOM); /* from here on */
#endif
    for (size_t i = 0; bad && i < s->V; i++) {
        int64_t b = s->offsets[i], en = s->offsets[i + 1];
        if (en < b + 2 || (uint64_t)en > s->vocab_bytes || s->vocab[en - 1] != '\0') {
            st_ = ev_fail(err, EV_ERR_FORMAT, "%s: vocab_offsets[%zu..%zu] = %lld..%lld is not a word and its NUL",
                          path, i, i + 1, (long long)b, (long long)en);
            goto fail;
        }
    }
    /* Optional neighbour lists (`embvsattn index`): both tensors or neither, [N, K] with N ≤ V. Their entries are
     * checked where they are read (sim_listed_neighbors), not here: opening stays independent of their size. */
    if (st_get(&f, "neighbor_rows") || st_get(&f, "neighbor_scores")) {
        const st_tensor *t_nr, *t_ns;
        if ((st_ = st_require(&f, &CACHE_FORMAT, "neighbor_rows", path, &t_nr, err)) != EV_OK ||
            (st_ = st_require(&f, &CACHE_FORMAT, "neighbor_scores", path, &t_ns, err)) != EV_OK)
            goto fail;
        if (t_nr->shape[0] != t_ns->shape[0] || t_nr->shape[1] != t_ns->shape[1] || t_nr->shape[0] > s->V) {
            st_ = ev_fail(err, EV_ERR_FORMAT,
                          "%s: neighbour lists: expected two aligned [N, K] tensors with N ≤ %zu words, found "
                          "neighbor_rows [%zu, %zu] and neighbor_scores [%zu, %zu]",
                          path, s->V, t_nr->shape[0], t_nr->shape[1], t_ns->shape[0], t_ns->shape[1]);
            goto fail;
        }
        if (t_nr->shape[0] && t_nr->shape[1]) {
            s->nbr_n = t_nr->shape[0];
            s->nbr_k = t_nr->shape[1];
            s->nbr_rows = (const int32_t *)t_nr->data;
            s->nbr_scores = (const float *)t_ns->data;
        }
    }
    if ((st_ = open_ngrams(s, &f, path, err)) != EV_OK)
        goto fail;
    /* the metadata (format and format_version checked by st_open), then no byte left to other readers */
    const cJSON *it;
    cJSON_ArrayForEach(it, f.meta)
    {
        if (add_meta(s, it->string, it->valuestring) != 0) {
            st_ = ev_fail(err, EV_ERR_NOMEM, "out of memory reading %s", path);
            goto fail;
        }
    }
    if ((st_ = st_check_tiling(&f, path, err)) != EV_OK)
        goto fail;
    st_close(&f);
    *out = s;
    return EV_OK;
fail:
    st_close(&f);
    store_close(s);
    return st_;
}

/* ---- building in memory ---------------------------------------------------------------------------------- */

static size_t pow2_at_least(size_t n)
{
    size_t h = 2;
    while (h < n)
        h <<= 1;
    return h;
}

#define NORMS_PARALLEL_MIN ((size_t)1 << 22) /* values; fewer are summed by the calling thread */

/* An empty word index of H slots (all -1). From 2 MiB on it is aligned to 2 MiB and asks for transparent huge pages:
 * the first touch of fresh memory is what filling it costs on a virtual machine (4 MiB for GloVe: 41 → 31 ms). */
static int32_t *index_alloc(size_t H)
{
    const size_t huge = (size_t)2 << 20, bytes = H * sizeof(int32_t);
    int32_t *idx;
    if (bytes >= huge) {
        idx = aligned_alloc(huge, (bytes + huge - 1) & ~(huge - 1));
#ifdef MADV_HUGEPAGE
        if (idx)
            (void)madvise(idx, (bytes + huge - 1) & ~(huge - 1), MADV_HUGEPAGE);
#endif
    } else {
        idx = malloc(bytes);
    }
    if (idx)
        memset(idx, 0xff, bytes);
    return idx;
}

/* Eight rows at a time: eight independent sums in flight hide the adds' latency (one row's sum alone waits on each
 * add; 2x faster on GloVe's 341,479 x 100), each still in index order. */
void store_row_norms(const float *v, size_t n, size_t d, float *norms)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const float *r = v + i * d;
        double a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
        for (size_t k = 0; k < d; k++) {
            double x0 = r[k], x1 = r[d + k], x2 = r[2 * d + k], x3 = r[3 * d + k], x4 = r[4 * d + k],
                   x5 = r[5 * d + k], x6 = r[6 * d + k], x7 = r[7 * d + k];
            a0 += x0 * x0;
            a1 += x1 * x1;
            a2 += x2 * x2;
            a3 += x3 * x3;
            a4 += x4 * x4;
            a5 += x5 * x5;
            a6 += x6 * x6;
            a7 += x7 * x7;
        }
        const double a[8] = {a0, a1, a2, a3, a4, a5, a6, a7};
        for (size_t u = 0; u < 8; u++)
            norms[i + u] = (float)sqrt(a[u]);
    }
    for (; i < n; i++) {
        const float *r = v + i * d;
        double acc = 0;
        for (size_t k = 0; k < d; k++)
            acc += (double)r[k] * r[k];
        norms[i] = (float)sqrt(acc);
    }
}

/* The norms of rows [lo, hi) of a matrix, on parallel_for's threads. */
typedef struct {
    const float *vec;
    size_t d;
    float *norms;
} norm_job;

static void norm_rows(void *ctx, size_t lo, size_t hi, int tid)
{
    (void)tid;
    const norm_job *nj = ctx;
    store_row_norms(nj->vec + lo * nj->d, hi - lo, nj->d, nj->norms + lo);
}

ev_status store_from_rows(store_rows *rows, const char *source, const char *source_format,
                          size_t *n_duplicates, store **out, ev_error *err)
{
    *out = NULL;
    if (n_duplicates)
        *n_duplicates = 0;
    store *s = calloc(1, sizeof *s);
    size_t n = rows->n, d = rows->dim;
    if (!s) {
        subword_free(rows->subwords);
        rows->subwords = NULL;
        goto oom;
    }
    s->sub = rows->subwords;
    rows->subwords = NULL;
    float *vec = rows->vectors, *norms = rows->norms; /* vec NULL: streamed rows, their norms given */
    s->own_vectors = rows->vectors;
    s->own_vocab = rows->words;
    s->own_norms = vec ? NULL : norms;
    size_t *in_off = rows->offsets, *rowpos = rows->rowpos;
    rows->vectors = NULL;
    rows->words = NULL;
    rows->offsets = NULL;
    rows->norms = NULL;
    rows->rowpos = NULL;
    if (vec)
        free(norms);
    if (n == 0 || d == 0 || (!vec && !norms)) {
        free(in_off);
        free(rowpos);
        store_close(s);
        return ev_fail(err, EV_ERR_FORMAT, "%s: no vectors found", source ? source : "input");
    }
    if (n > (size_t)INT32_MAX - 1) {
        free(in_off);
        free(rowpos);
        store_close(s);
        return ev_fail(err, EV_ERR_NOMEM, "%s: %zu words exceed the index limit of %d", source ? source : "input",
                       n, INT32_MAX - 1);
    }
    s->H = pow2_at_least(2 * n);
    s->own_index = index_alloc(s->H);
    s->own_offsets = malloc((n + 1) * sizeof *s->own_offsets);
    size_t *src = NULL; /* streamed: where each kept row is in the sink, from the first row not in its place on */
    if (!s->own_index || !s->own_offsets) {
        free(in_off);
        free(rowpos);
        goto oom;
    }
    /* One pass: insert each word; a word already present is a duplicate and dropped; kept rows are compacted
     * towards the front in place (the write position never passes the read position). The slots of the words
     * AHEAD places on are hashed and fetched in advance (a ring of their hashes): the table is megabytes and each
     * insert a cache miss otherwise (18 ms instead of 31 for GloVe). */
    enum { AHEAD = 8, RING = 16 };
    size_t kept = 0, wpos = 0, mask = s->H - 1, ring[RING];
    char *voc = s->own_vocab;
    for (size_t i = 0; i < n + AHEAD; i++) {
        if (i < n) {
            size_t h = (size_t)store_hash(voc + in_off[i], in_off[i + 1] - in_off[i] - 1) & mask;
            ring[i % RING] = h;
            __builtin_prefetch(&s->own_index[h], 1);
        }
        if (i < AHEAD)
            continue;
        size_t j = i - AHEAD;
        const char *w = voc + in_off[j];
        size_t len = in_off[j + 1] - in_off[j] - 1;
        size_t h = ring[j % RING];
        int dup = 0;
        for (;;) {
            int32_t r = s->own_index[h];
            if (r < 0)
                break;
            size_t b = (size_t)s->own_offsets[r], e = (size_t)s->own_offsets[r + 1];
            if (e - b - 1 == len && memcmp(voc + b, w, len) == 0) {
                dup = 1;
                break;
            }
            h = (h + 1) & mask;
        }
        if (dup)
            continue;
        s->own_index[h] = (int32_t)kept;
        if (wpos != in_off[j])
            memmove(voc + wpos, w, len + 1);
        if (kept != j && vec)
            memmove(vec + kept * d, vec + j * d, d * sizeof *vec);
        else if (!vec) {
            norms[kept] = norms[j];
            size_t from = rowpos ? rowpos[j] : j;
            if (from != kept && !src) { /* the first row out of place: the rows before it are */
                if (!(src = malloc(n * sizeof *src))) {
                    free(in_off);
                    free(rowpos);
                    goto oom;
                }
                for (size_t i = 0; i < kept; i++)
                    src[i] = i;
            }
            if (src)
                src[kept] = from;
        }
        s->own_offsets[kept] = (int64_t)wpos;
        wpos += len + 1;
        s->own_offsets[kept + 1] = (int64_t)wpos;
        kept++;
    }
    free(in_off);
    free(rowpos);
    s->own_src = src;
    if (n_duplicates)
        *n_duplicates = n - kept;
    s->V = kept;
    s->d = d;
    s->vocab_bytes = wpos;
    if (vec) {
        s->own_norms = malloc(kept * sizeof *s->own_norms);
        if (!s->own_norms)
            goto oom;
        norm_job nj = {vec, d, s->own_norms};
        parallel_for(kept * d >= NORMS_PARALLEL_MIN ? parallel_default_threads() : 1, kept, norm_rows, &nj);
    }
    s->vectors = vec;
    s->norms = s->own_norms;
    s->offsets = s->own_offsets;
    s->index = s->own_index;
    s->vocab = voc;
    if (add_meta(s, "format", "embvsattn-cache") || add_meta(s, "format_version", s->sub ? "2" : "1") ||
        add_meta(s, "source", source) || add_meta(s, "source_format", source_format) ||
        add_meta(s, "tool_version", EMBVSATTN_VERSION) || add_meta(s, "index_hash", "fnv1a64-linear-probe"))
        goto oom;
    *out = s;
    return EV_OK;
oom:
    store_close(s);
    return ev_fail(err, EV_ERR_NOMEM, "out of memory building the vector store (%zu words × %zu)", n, d);
}

static ev_status build_index(store *s, ev_error *err)
{
    size_t H = pow2_at_least(2 * s->V), mask = H - 1;
    int32_t *idx = index_alloc(H);
    if (!idx)
        return ev_fail(err, EV_ERR_NOMEM, "out of memory building the word index (%zu words)", s->V);
    for (size_t i = 0; i < s->V; i++) {
        size_t len;
        const char *w = store_word(s, i, &len);
        size_t h = (size_t)store_hash(w, len) & mask;
        while (idx[h] >= 0)
            h = (h + 1) & mask;
        idx[h] = (int32_t)i;
    }
    free(s->own_index);
    s->own_index = idx;
    s->index = idx;
    s->H = H;
    return EV_OK;
}

ev_status store_limit(store *s, size_t n, ev_error *err)
{
    if (n == 0 || n >= s->V)
        return EV_OK;
    s->V = n;
    s->vocab_bytes = (size_t)s->offsets[n];
    store_set_neighbor_lists(s, 0, 0, NULL, NULL); /* their entries may name rows past n */
    return build_index(s, err);
}

/* ---- writing a cache ------------------------------------------------------------------------------------- */

/* store_internal.h. format_version and the n-gram metadata are the store's own (2 and ngram_* with n-grams, 1
 * without), whatever metadata it was opened with. */
cJSON *store_cache_header(const store *s)
{
    size_t V = s->V, d = s->d, pos = 0;
    size_t sh_off[1] = {V + 1}, sh_vec[2] = {V, d}, sh_norm[1] = {V}, sh_idx[1] = {s->H}, sh_voc[1] = {s->vocab_bytes};
    size_t sh_nbr[2] = {s->nbr_n, s->nbr_k}, sh_ng[2] = {s->sub ? s->sub->bucket : 0, d};
    cJSON *hdr = cJSON_CreateObject();
    cJSON *meta = hdr ? cJSON_AddObjectToObject(hdr, "__metadata__") : NULL;
    int bad = !meta, versioned = 0;
    for (size_t i = 0; !bad && i < s->n_meta; i++) {
        const char *k = s->meta[i].key;
        if (!strcmp(k, NGRAM_META[0]) || !strcmp(k, NGRAM_META[1]) || !strcmp(k, NGRAM_META[2]))
            continue;
        if (strcmp(k, "format_version") == 0 && !versioned++)
            bad = st_add_meta(meta, k, "%s", s->sub ? "2" : "1") != 0;
        else if (strcmp(k, "format_version") != 0)
            bad = jsonstr_add_cstr(meta, k, s->meta[i].value) != 0; /* a path may not be UTF-8 */
    }
    if (!bad && s->sub && !versioned)
        bad = st_add_meta(meta, "format_version", "2") != 0;
    if (!bad && s->sub)
        bad = st_add_meta(meta, NGRAM_META[0], "%d", s->sub->minn) || st_add_meta(meta, NGRAM_META[1], "%d", s->sub->maxn) ||
              st_add_meta(meta, NGRAM_META[2], "%zu", s->sub->bucket);
    bad = bad || st_add_tensor(hdr, "vocab_offsets", "I64", sh_off, 1, &pos) ||
          st_add_tensor(hdr, "vectors", "F32", sh_vec, 2, &pos) ||
          st_add_tensor(hdr, "norms", "F32", sh_norm, 1, &pos) ||
          st_add_tensor(hdr, "index", "I32", sh_idx, 1, &pos) ||
          (s->nbr_n && (st_add_tensor(hdr, "neighbor_rows", "I32", sh_nbr, 2, &pos) ||
                        st_add_tensor(hdr, "neighbor_scores", "F32", sh_nbr, 2, &pos))) ||
          (s->sub && st_add_tensor(hdr, "ngrams", "F32", sh_ng, 2, &pos)) ||
          st_add_tensor(hdr, "vocab", "U8", sh_voc, 1, &pos);
    if (bad) {
        cJSON_Delete(hdr);
        return NULL;
    }
    return hdr;
}

void store_write_after_vectors(const store *s, outfile *of)
{
    outfile_write(of, s->norms, 4 * s->V);
    outfile_write(of, s->index, 4 * s->H);
    if (s->nbr_n) {
        outfile_write(of, s->nbr_rows, 4 * s->nbr_n * s->nbr_k);
        outfile_write(of, s->nbr_scores, 4 * s->nbr_n * s->nbr_k);
    }
    if (s->sub)
        outfile_write(of, s->sub->ngrams, 4 * s->sub->bucket * s->d);
    outfile_write(of, s->vocab, s->vocab_bytes);
}

ev_status store_write_cache(const store *s, const char *path, ev_error *err)
{
    if (!s->vectors)
        return ev_fail(err, EV_ERR_USAGE, "%s: internal error: the rows were streamed to a sink, not kept", path);
    cJSON *hdr = store_cache_header(s);
    if (!hdr)
        return ev_fail(err, EV_ERR_NOMEM, "out of memory writing %s", path);
    outfile of;
    ev_status st = st_begin_file(&of, path, hdr, CACHE_ALIGN, err);
    if (st != EV_OK)
        return st;
    outfile_write(&of, s->offsets, 8 * (s->V + 1));
    outfile_write(&of, s->vectors, 4 * s->V * s->d);
    store_write_after_vectors(s, &of);
    return outfile_commit(&of, err);
}

const size_t *store_row_sources(const store *s) { return s->own_src; }

const int64_t *store_offsets_i64(const store *s) { return s->offsets; }
