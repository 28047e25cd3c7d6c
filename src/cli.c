#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_internal.h"
#include "cpu.h"
#include "numparse.h"
#include "version.h"

/* ---- the command table ---------------------------------------------------------------------------------- */

typedef struct {
    const char *name, *args, *summary;
    cli_cmd_fn run;
    int min_pos, max_pos; /* positional argument counts; max -1 = unbounded */
} command;

static const char *usage_line = "usage: " PROG " [--vectors PATH] COMMAND [OPTIONS] [ARGS]   (" PROG " --help for more)";

int cli_usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, PROG ": ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n%s\n", usage_line);
    return EV_ERR_USAGE;
}

int cli_report(ev_error *err)
{
    int code = err->code ? (int)err->code : 1;
    fprintf(stderr, PROG ": %s\n", err->msg ? err->msg : "error");
    ev_error_clear(err);
    return code;
}

/* Checks that everything written to stdout reached it; returns the exit code to use. */
int cli_finish_stdout(int code)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (errno == EPIPE)
            return code; /* the reader went away: quiet, as other tools */
        fprintf(stderr, PROG ": error writing standard output: %s\n", strerror(errno));
        return EV_ERR_WRITE;
    }
    return code;
}

static void progress_tty(void *ctx, const char *what, double fraction)
{
    (void)ctx;
    if (fraction >= 1.0)
        fprintf(stderr, "\r\033[K");
    else
        fprintf(stderr, "\r%s %3d%%", what, (int)(fraction * 100));
    fflush(stderr);
}

loader_progress_fn cli_progress_fn(void) { return isatty(STDERR_FILENO) ? progress_tty : NULL; }

/* ---- vectors --------------------------------------------------------------------------------------------- */

/* Default vectors: $EMBVSATTN_DATA, else $XDG_CACHE_HOME/embvsattn, else ~/.cache/embvsattn, + the GloVe cache. */
char *cli_default_vectors_path(void)
{
    const char *data = getenv("EMBVSATTN_DATA"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (data && *data)
        return ev_strdup_printf("%s/glove.6B.100d.safetensors", data);
    if (xdg && *xdg)
        return ev_strdup_printf("%s/embvsattn/glove.6B.100d.safetensors", xdg);
    return ev_strdup_printf("%s/.cache/embvsattn/glove.6B.100d.safetensors", home && *home ? home : ".");
}

const char *cli_vectors_path(const cli_opts *o, char **owned)
{
    *owned = NULL;
    if (o->vectors)
        return o->vectors;
    const char *env = getenv("EMBVSATTN_VECTORS");
    if (env && *env)
        return env;
    return *owned = cli_default_vectors_path();
}

store *cli_open_vectors(const cli_opts *o, int *code) { return cli_open_vectors_into(o, code, NULL, NULL); }

store *cli_open_vectors_into(const cli_opts *o, int *code, float *(*matrix_alloc)(void *, size_t, size_t), void *ctx)
{
    char *def;
    const char *path = cli_vectors_path(o, &def);
    struct stat st;
    if (def && stat(def, &st) != 0) {
        fprintf(stderr,
                PROG ": no word vectors found (looked for %s): run scripts/fetch-vectors.sh to fetch GloVe 6B "
                "100d, or give --vectors PATH or set EMBVSATTN_VECTORS\n",
                def);
        free(def);
        *code = EV_ERR_IO;
        return NULL;
    }
    if (!path) {
        fprintf(stderr, PROG ": out of memory\n");
        *code = EV_ERR_NOMEM;
        return NULL;
    }
    loader_opts lo = {.format = o->in_format,
                      .limit = o->limit,
                      .threads = o->threads,
                      .progress = cli_progress_fn(),
                      .matrix_alloc = matrix_alloc,
                      .matrix_ctx = ctx};
    store *s = NULL;
    ev_error err = {0};
    if (loader_load(path, &lo, &s, &err) != EV_OK) {
        *code = cli_report(&err);
        free(def);
        return NULL;
    }
    if (lo.n_duplicates)
        fprintf(stderr, PROG ": warning: %s: %zu duplicate words ignored (the first occurrence of each is kept)\n",
                path, lo.n_duplicates);
    if (o->no_index)
        store_set_neighbor_lists(s, 0, 0, NULL, NULL);
    free(def);
    return s;
}

/* ---- output helpers -------------------------------------------------------------------------------------- */

/* A JSON array of the float values, each written as its shortest round-trip decimal. */
cJSON *cli_json_floats(const float *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    char buf[32];
    for (size_t i = 0; a && i < n; i++) {
        numparse_format_float(v[i], buf);
        cJSON *x = cJSON_CreateRaw(buf);
        if (!x || !cJSON_AddItemToArray(a, x)) {
            cJSON_Delete(x);
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

int cli_print_json(cJSON *root)
{
    char *s = root ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!s) {
        fprintf(stderr, PROG ": out of memory building JSON output\n");
        return EV_ERR_NOMEM;
    }
    fputs(s, stdout);
    fputc('\n', stdout);
    free(s);
    return 0;
}

static const command commands[] = {
    {"vector", "WORD...", "print the vectors of words (fastText print-word-vectors style)", cmd_vector, 1, -1},
    {"info", "[FILE]", "describe a vector file or the default vectors", cmd_info, 0, 1},
    {"neighbors", "WORD...", "nearest words by cosine over the whole vocabulary (one batched pass)", cmd_neighbors, 1,
     -1},
    {"analogy", "A B C", "A is to B as C is to ?  (b - a + c: 3CosAdd; --method mul: 3CosMul)", cmd_analogy, 3, 3},
    {"similarity", "W1 W2", "cosine similarity of two words", cmd_similarity, 2, 2},
    {"doesnt-match", "WORD...", "the word furthest from the mean of them all (gensim doesnt_match)", cmd_doesnt_match,
     2, -1},
    {"eval", "KIND FILE", "evaluate as gensim: analogies FILE (questions-words.txt) or pairs FILE (WordSim-353)",
     cmd_eval, 2, -1},
    {"compare", "S1 S2", "the same word in two sentences: static vs contextual", cmd_compare, 2, 2},
    {"train", "CORPUS...", "learn an attention head on text (masked-word prediction), -o HEAD.safetensors",
     cmd_train, 1, -1},
    {"index", "", "store every frequent word's neighbours in the cache (neighbour queries then skip the matrix)",
     cmd_index, 0, 0},
    {"convert", "IN OUT", "convert between vector formats (OUT's format from its extension or --to)", cmd_convert, 2,
     2},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

/* The main view: `embvsattn "SENTENCE"` (no command word). */
static const command show_command = {"show", "SENTENCE", "the main view", cmd_show, 0, -1};

static void print_help(void)
{
    printf("embvsattn %s — static word embeddings beside self-attention, on real pretrained vectors\n\n", EMBVSATTN_VERSION);
    printf("usage: embvsattn [OPTIONS] \"SENTENCE\"             the main view: static neighbours, attention, context\n"
           "       embvsattn [OPTIONS] --batch < FILE          one sentence per line in, one JSON object per line out\n"
           "       embvsattn [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        printf("  %-13s %-9s %s\n", commands[i].name, commands[i].args, commands[i].summary);
    printf("\nglobal options (anywhere on the line):\n"
           "  --vectors PATH        vector file: a cache (.safetensors), GloVe text, word2vec text/binary, fastText .vec,\n"
           "                        the last four also gzip/bzip2/xz-compressed or in a zip (ARCHIVE.zip:MEMBER)\n"
           "                        (default: $EMBVSATTN_VECTORS, else the GloVe 6B 100d cache fetched by\n"
           "                        scripts/fetch-vectors.sh in ${EMBVSATTN_DATA:-${XDG_CACHE_HOME:-~/.cache}/embvsattn})\n"
           "  --vector-format FMT   read the vectors as FMT instead of detecting it:\n"
           "                        glove | word2vec (= fasttext, vec) | word2vec-binary | cache\n"
           "  --limit N             read only the first N words\n"
           "  --threads N           parser threads for text vector files (default: one per core, at most 8)\n"
           "  --format FMT          output format: text (default) or json; the main view and compare also html (a\n"
           "                        self-contained interactive page) and svg (a static heatmap for papers)\n"
           "  --no-index            ignore the cache's neighbour lists (embvsattn index): search the matrix\n"
           "  -h, --help            this help;  --version  the version\n"
           "\nmain view and compare options:\n"
           "  --head SPEC           the attention head: trained (the default: the head learned on WordNet by\n"
           "                        masked-word prediction, built in; on vectors other than GloVe 6B 100d the\n"
           "                        default is identity), identity (W = I, untrained: it only measures similarity\n"
           "                        inside the sentence), random[:SEED] (Xavier-uniform), or a head file\n"
           "                        (.safetensors: w_q, w_k, w_v [d_model, d_k], optional w_o [d_k, d_model])\n"
           "  --dk N                d_k of a random head (default: the vectors' dimension)\n"
           "  --positions none|sinusoidal   add sinusoidal position encodings to the vectors (default: none, or\n"
           "                        what the head file says); --position-scale X scales them (default 0.5)\n"
           "  --causal              a token attends only to itself and the tokens before it\n"
           "  --residual            the contextual vector is the token's own vector plus the head's output, as in a\n"
           "                        transformer layer. Default off, so that \"in context\" shows what attention\n"
           "                        alone computed (A·V): with it on, neighbours stay near the word itself.\n"
           "  -k N                  neighbours per list (default 5);  --top N  attention entries per token (3)\n"
           "  --restrict N          neighbours among the N most frequent words only (default: all words; but a\n"
           "                        trained head's contextual vectors are compared with the words it was trained\n"
           "                        to predict, its 30,000 candidates)\n"
           "  -q, --quiet           no legend\n"
           "  --word W              compare: the word to follow (default: every word the sentences share)\n"
           "  -o, --output FILE     write to FILE (atomically) instead of standard output; without --format, the\n"
           "                        format comes from FILE's extension: .html/.htm, .svg, .json, else text\n"
           "  Out-of-vocabulary tokens are shown in place and flagged; their key is masked (never attended to).\n"
           "  Colour and shading only on a terminal (NO_COLOR honoured); width from COLUMNS or the terminal.\n"
           "\nneighbors, analogy, doesnt-match, eval options:\n"
           "  -k N                  answers per word (default 10)\n"
           "  --restrict N          only the N most frequent words (the first N rows) are candidates, as gensim's\n"
           "                        restrict_vocab (default: all; eval: 300000, as gensim)\n"
           "  --method add|mul      analogies: 3CosAdd (default, gensim most_similar) or 3CosMul (most_similar_cosmul)\n"
           "  --threads N           eval analogies: worker threads (default: one per core, at most 8)\n"
           "  Words are looked up as written, then lowercased (shown as \"King (lowercase: king)\"); words out of the\n"
           "  vocabulary are reported and the others still answered. eval analogies FILE: ': section' lines and\n"
           "  \"a b c d\" questions (a is to b as c is to d); eval pairs FILE: WORD1<TAB>WORD2<TAB>SCORE lines.\n"
           "\ntrain and eval head options (a learned attention head: see README, \"A trained head\"):\n"
           "  train CORPUS... -o HEAD.safetensors   learns W_Q, W_K, W_V, W_O (and the [MASK] vector and output bias)\n"
           "                        over the frozen vectors by masked-word prediction; any UTF-8 text works as a\n"
           "                        corpus, one sentence per line is best (scripts/fetch-corpus.sh makes WordNet's)\n"
           "  --epochs N            passes over the corpus (default 4);  --lr X  Adam learning rate (default 0.01,\n"
           "                        decayed linearly to 0);  --dk N  d_k (default 64);  --seed N  (default 1)\n"
           "  --threads N           threads (default: one per core, at most 8); the head is bit-for-bit the same\n"
           "                        for a seed and a thread count\n"
           "  --positions, --position-scale   the head's positions (default sinusoidal, scale 0.3)\n"
           "  --log FILE            the loss log (default: HEAD.safetensors.log); progress on a terminal\n"
           "  --max-tokens N        read at most N tokens of the corpus (train and eval head)\n"
           "  eval head HEAD CORPUS...   held-out masked-word top-1/top-10 over the head's 30,000 candidates for\n"
           "                        the trained attention and untrained baselines (identity, uniform, random)\n"
           "                        with the same readout; HEAD: a head file, or 'trained' (the built-in head)\n"
           "\nindex options (neighbour lists stored in the cache; scripts/fetch-vectors.sh makes them):\n"
           "  index                 computes each of the first --words words' nearest neighbours over the whole\n"
           "                        vocabulary (the same search as neighbors) and stores them in the --vectors\n"
           "                        cache, rewritten atomically; neighbors, the main view and compare then answer\n"
           "                        those words from the lists (same words, same scores) without reading the\n"
           "                        matrix, and search it for any other word, a larger -k, or a --restrict the\n"
           "                        lists cannot answer exactly\n"
           "  --words N             lists for the N most frequent words (default 50000);  -k N  length (default 32)\n"
           "  -o FILE.safetensors   write a new cache instead (required when --vectors is not a cache)\n"
           "\nconvert options:\n"
           "  --to FMT              output format: cache | glove | word2vec | word2vec-binary (default: from OUT's\n"
           "                        extension: .safetensors cache, .txt GloVe text, .vec word2vec text, .bin binary)\n"
           "\nexit codes: 0 ok; 1 nothing could be answered (every word out of vocabulary); 2 usage error;\n"
           "  3 input missing or unreadable (also: no vectors fetched yet); 4 input malformed; 5 output could not be\n"
           "  written; 6 out of memory or over a limit (4096 tokens, 1 MiB per sentence); 7 --batch: some lines\n"
           "  failed (each has an error object).\n"
           "\nexamples:\n"
           "  embvsattn \"France is a country, it is in Europe\"\n"
           "  embvsattn compare \"I sat on the bank of the river\" \"the bank raised interest rates\"\n"
           "  embvsattn -o france.html \"France is a country, it is in Europe\"   (open it in a browser)\n"
           "  embvsattn vector king\n"
           "  embvsattn neighbors king queen -k 5\n"
           "  embvsattn analogy man king woman                  (king - man + woman)\n"
           "  embvsattn eval analogies questions-words.txt --restrict 30000\n"
           "  embvsattn info\n"
           "  embvsattn index --words 100000\n"
           "  embvsattn convert glove.6B.100d.txt glove.safetensors\n");
}

static int parse_size_arg(const char *opt, const char *v, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (!*v || *end || errno || v[0] == '-' || v[0] == '+' || x > SIZE_MAX) {
        fprintf(stderr, PROG ": %s: expected a non-negative integer, found '%s'\n%s\n", opt, v, usage_line);
        return -1;
    }
    *out = (size_t)x;
    return 0;
}

/* A count of at least 1 (-k, --top, --words, --max-tokens). */
static int parse_positive_arg(const char *opt, const char *v, size_t *out)
{
    if (parse_size_arg(opt, v, out))
        return -1;
    if (*out == 0) {
        fprintf(stderr, PROG ": %s: expected at least 1, found '%s'\n%s\n", opt, v, usage_line);
        return -1;
    }
    return 0;
}

/* ---- the option table ------------------------------------------------------------------------------------ */

typedef enum { OPT_VECTORS, OPT_VFORMAT, OPT_LIMIT, OPT_THREADS, OPT_FORMAT, OPT_TO, OPT_K, OPT_RESTRICT,
               OPT_METHOD, OPT_HEAD, OPT_DK, OPT_POSITIONS, OPT_POSITION_SCALE, OPT_CAUSAL, OPT_RESIDUAL, OPT_QUIET,
               OPT_TOP, OPT_BATCH, OPT_WORD, OPT_OUTPUT, OPT_EPOCHS, OPT_LR, OPT_SEED, OPT_MAX_TOKENS,
               OPT_LOG, OPT_WORDS, OPT_NO_INDEX } opt_id;

typedef struct {
    const char *name;     /* long form */
    const char *alias;    /* short form or NULL */
    opt_id id;
    const char *commands; /* space-separated commands that accept it; NULL = every command (global) */
    int flag;             /* 1: takes no value */
} opt_spec;

#define VIEW_CMDS "show compare"

static const opt_spec options[] = {
    {"--vectors", NULL, OPT_VECTORS, NULL, 0},
    {"--vector-format", NULL, OPT_VFORMAT, NULL, 0},
    {"--limit", NULL, OPT_LIMIT, NULL, 0},
    {"--threads", NULL, OPT_THREADS, NULL, 0},
    {"--format", NULL, OPT_FORMAT, NULL, 0},
    {"--to", NULL, OPT_TO, "convert", 0},
    {"--no-index", NULL, OPT_NO_INDEX, NULL, 1},
    {"-k", NULL, OPT_K, "neighbors analogy show compare index", 0},
    {"--words", NULL, OPT_WORDS, "index", 0},
    {"--restrict", NULL, OPT_RESTRICT, "neighbors analogy eval show compare", 0},
    {"--method", NULL, OPT_METHOD, "analogy eval", 0},
    {"--head", NULL, OPT_HEAD, VIEW_CMDS, 0},
    {"--dk", NULL, OPT_DK, VIEW_CMDS " train", 0},
    {"--positions", NULL, OPT_POSITIONS, VIEW_CMDS " train", 0},
    {"--position-scale", NULL, OPT_POSITION_SCALE, VIEW_CMDS " train", 0},
    {"--causal", NULL, OPT_CAUSAL, VIEW_CMDS, 1},
    {"--residual", NULL, OPT_RESIDUAL, VIEW_CMDS, 1},
    {"--quiet", "-q", OPT_QUIET, VIEW_CMDS, 1},
    {"--top", NULL, OPT_TOP, VIEW_CMDS, 0},
    {"--batch", NULL, OPT_BATCH, "show", 1},
    {"--word", NULL, OPT_WORD, "compare", 0},
    {"--output", "-o", OPT_OUTPUT, VIEW_CMDS " train index", 0},
    {"--epochs", NULL, OPT_EPOCHS, "train", 0},
    {"--lr", NULL, OPT_LR, "train", 0},
    {"--seed", NULL, OPT_SEED, "train", 0},
    {"--log", NULL, OPT_LOG, "train", 0},
    {"--max-tokens", NULL, OPT_MAX_TOKENS, "train eval", 0},
};

static int word_in_list(const char *list, const char *w)
{
    size_t n = strlen(w);
    for (const char *p = list; (p = strstr(p, w)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return 1;
    return 0;
}

static int set_option(cli_opts *o, const opt_spec *spec, const char *val)
{
    const char *name = spec->name;
    switch (spec->id) {
    case OPT_VECTORS: o->vectors = val; return 0;
    case OPT_VFORMAT:
    case OPT_TO: {
        vformat f;
        if (loader_format_parse(val, &f) != 0 || f == VF_AUTO)
            return cli_usage_error("unknown vector format '%s' (expected glove, word2vec, word2vec-binary or cache)", val);
        if (spec->id == OPT_VFORMAT)
            o->in_format = f;
        else
            o->to_format = f;
        return 0;
    }
    case OPT_LIMIT: return parse_size_arg(name, val, &o->limit) ? EV_ERR_USAGE : 0;
    case OPT_THREADS: {
        size_t t;
        if (parse_size_arg(name, val, &t))
            return EV_ERR_USAGE;
        o->threads = t > 64 ? 64 : (int)t;
        return 0;
    }
    case OPT_FORMAT:
        if (strcmp(val, "json") == 0)
            o->format = OUT_JSON;
        else if (strcmp(val, "text") == 0)
            o->format = OUT_TEXT;
        else if (strcmp(val, "html") == 0)
            o->format = OUT_HTML;
        else if (strcmp(val, "svg") == 0)
            o->format = OUT_SVG;
        else
            return cli_usage_error("--format: expected text, json, html or svg, found '%s'", val);
        o->format_given = 1;
        return 0;
    case OPT_OUTPUT:
        if (!*val)
            return cli_usage_error("%s: expected a file name", name);
        o->output = val;
        return 0;
    case OPT_K:
        if (parse_positive_arg(name, val, &o->k))
            return EV_ERR_USAGE;
        o->k_given = 1;
        return 0;
    case OPT_RESTRICT: return parse_size_arg(name, val, &o->restrict_n) ? EV_ERR_USAGE : 0;
    case OPT_HEAD: o->head = val; return 0;
    case OPT_DK:
        if (parse_size_arg(name, val, &o->dk))
            return EV_ERR_USAGE;
        if (o->dk == 0 || o->dk > 65536)
            return cli_usage_error("--dk: expected 1 to 65536, found '%s'", val);
        return 0;
    case OPT_POSITIONS:
        if (strcmp(val, "none") != 0 && strcmp(val, "sinusoidal") != 0)
            return cli_usage_error("--positions: expected none or sinusoidal, found '%s'", val);
        o->positions = val;
        return 0;
    case OPT_POSITION_SCALE: {
        char *end;
        errno = 0;
        double x = strtod(val, &end);
        if (!*val || *end || errno || !(x >= 0 && x <= 1000))
            return cli_usage_error("--position-scale: expected a number from 0 to 1000, found '%s'", val);
        o->position_scale = (float)x;
        o->position_scale_given = 1;
        return 0;
    }
    case OPT_CAUSAL: o->causal = 1; return 0;
    case OPT_RESIDUAL: o->residual = 1; return 0;
    case OPT_QUIET: o->quiet = 1; return 0;
    case OPT_BATCH: o->batch = 1; return 0;
    case OPT_TOP: return parse_positive_arg(name, val, &o->top) ? EV_ERR_USAGE : 0;
    case OPT_WORD: o->word = val; return 0;
    case OPT_NO_INDEX: o->no_index = 1; return 0;
    case OPT_WORDS: return parse_positive_arg(name, val, &o->words) ? EV_ERR_USAGE : 0;
    case OPT_EPOCHS:
        if (parse_size_arg(name, val, &o->epochs))
            return EV_ERR_USAGE;
        if (o->epochs == 0 || o->epochs > 100000)
            return cli_usage_error("--epochs: expected 1 to 100000, found '%s'", val);
        return 0;
    case OPT_LR: {
        char *end;
        errno = 0;
        double x = strtod(val, &end);
        if (!*val || *end || errno || !(x > 0 && x <= 10))
            return cli_usage_error("--lr: expected a number above 0 and at most 10, found '%s'", val);
        o->lr = (float)x;
        return 0;
    }
    case OPT_SEED: {
        size_t x;
        if (parse_size_arg(name, val, &x))
            return EV_ERR_USAGE;
        o->seed = x;
        o->seed_given = 1;
        return 0;
    }
    case OPT_MAX_TOKENS: return parse_positive_arg(name, val, &o->max_tokens) ? EV_ERR_USAGE : 0;
    case OPT_LOG:
        if (!*val)
            return cli_usage_error("%s: expected a file name", name);
        o->log = val;
        return 0;
    case OPT_METHOD:
        if (strcmp(val, "add") != 0 && strcmp(val, "mul") != 0)
            return cli_usage_error("--method: expected add or mul, found '%s'", val);
        o->method = val;
        return 0;
    }
    return 0;
}

int cli_main(int argc, char **argv)
{
    ev_error simd_err = {0};
    if (cpu_simd_check(&simd_err) != EV_OK) {
        fprintf(stderr, PROG ": %s\n", simd_err.msg ? simd_err.msg : "EMBVSATTN_SIMD: bad value");
        ev_error_clear(&simd_err);
        return EV_ERR_USAGE;
    }
    cli_opts o = {0};
    o.pos = calloc((size_t)argc + 1, sizeof *o.pos);
    if (!o.pos) {
        fprintf(stderr, PROG ": out of memory\n");
        return EV_ERR_NOMEM;
    }
    const command *cmd = NULL;
    const opt_spec *given[sizeof options / sizeof options[0]] = {0};
    int code = 0, only_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_pos && a[0] == '-' && a[1]) {
            if (strcmp(a, "--") == 0) {
                only_pos = 1;
                continue;
            }
            if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
                print_help();
                free(o.pos);
                return cli_finish_stdout(0);
            }
            if (strcmp(a, "--version") == 0) {
                printf("embvsattn %s\nkernels: %s (this CPU: %s; EMBVSATTN_SIMD=c|avx2|avx512 caps it)\n",
                       EMBVSATTN_VERSION, cpu_simd_name(cpu_simd_level()), cpu_simd_name(cpu_simd_detected()));
                free(o.pos);
                return cli_finish_stdout(0);
            }
            const char *eq = strchr(a, '=');
            size_t nl = eq ? (size_t)(eq - a) : strlen(a);
            const opt_spec *spec = NULL;
            for (size_t k = 0; k < sizeof options / sizeof options[0]; k++)
                if ((strlen(options[k].name) == nl && strncmp(a, options[k].name, nl) == 0) ||
                    (options[k].alias && strlen(options[k].alias) == nl && strncmp(a, options[k].alias, nl) == 0)) {
                    spec = &options[k];
                    given[k] = spec;
                }
            if (!spec) {
                code = cli_usage_error("unknown option '%s'", a);
                goto out;
            }
            const char *val = NULL;
            if (spec->flag) {
                if (eq) {
                    code = cli_usage_error("option '%s' takes no value", a);
                    goto out;
                }
            } else if (eq)
                val = eq + 1;
            else if (i + 1 < argc)
                val = argv[++i];
            else {
                code = cli_usage_error("option '%s' needs a value", a);
                goto out;
            }
            if ((code = set_option(&o, spec, val)) != 0)
                goto out;
            continue;
        }
        if (!cmd) {
            for (size_t k = 0; k < N_COMMANDS; k++)
                if (strcmp(a, commands[k].name) == 0)
                    cmd = &commands[k];
            if (cmd)
                continue;
            cmd = &show_command; /* not a command: a sentence for the main view */
        }
        o.pos[o.npos++] = argv[i];
    }
    if (!cmd && o.batch)
        cmd = &show_command;
    if (!cmd) {
        code = cli_usage_error("%s", "no command or sentence given");
        goto out;
    }
    o.command = cmd->name;
    if (o.output && !o.format_given) { /* -o FILE: the format from the extension, else text */
        const char *ext = strrchr(o.output, '.');
        if (ext && strchr(ext, '/') == NULL)
            o.format = strcmp(ext, ".html") == 0 || strcmp(ext, ".htm") == 0 ? OUT_HTML
                       : strcmp(ext, ".svg") == 0                           ? OUT_SVG
                       : strcmp(ext, ".json") == 0                          ? OUT_JSON
                                                                            : OUT_TEXT;
    }
    if ((o.format == OUT_HTML || o.format == OUT_SVG) && !word_in_list("show compare", cmd->name)) {
        fprintf(stderr, PROG ": %s: --format %s applies to the main view and compare only\n%s\n", cmd->name,
                o.format == OUT_HTML ? "html" : "svg", usage_line);
        code = EV_ERR_USAGE;
        goto out;
    }
    for (size_t k = 0; k < sizeof options / sizeof options[0]; k++)
        if (given[k] && given[k]->commands && !word_in_list(given[k]->commands, cmd->name)) {
            fprintf(stderr, PROG ": %s: option %s does not apply (it is for: %s)\n%s\n", cmd->name, given[k]->name,
                    given[k]->commands, usage_line);
            code = EV_ERR_USAGE;
            goto out;
        }
    if (o.npos < cmd->min_pos || (cmd->max_pos >= 0 && o.npos > cmd->max_pos)) {
        fprintf(stderr, PROG ": %s: expected %s, found %d argument%s\nusage: " PROG " %s %s\n", cmd->name, cmd->args,
                o.npos, o.npos == 1 ? "" : "s", cmd->name, cmd->args);
        code = EV_ERR_USAGE;
        goto out;
    }
    code = cmd->run(&o);
out:
    free(o.pos);
    return code;
}
