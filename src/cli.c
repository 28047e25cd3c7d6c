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
#include "head_context.h"
#include "input.h"
#include "numparse.h"
#include "render_html.h"
#include "render_json.h"
#include "version.h"

/* ---- the command table ---------------------------------------------------------------------------------- */

static const char *usage_line = "usage: " PROG " [--vectors PATH] COMMAND [OPTIONS] [ARGS]   (" PROG " --help for more)";

/* The calling thread's streams for messages and documents (cli_capture); NULL: stderr and stdout. */
static _Thread_local FILE *capture_out, *capture_err;

void cli_capture(FILE *out, FILE *err)
{
    capture_out = out;
    capture_err = err;
}

FILE *cli_stdout(void) { return capture_out ? capture_out : stdout; }
FILE *cli_stderr(void) { return capture_err ? capture_err : stderr; }

int cli_usage_error(const char *fmt, const char *arg)
{
    char *q = arg ? ev_quote(arg, strlen(arg), strlen(arg)) : NULL; /* control characters escaped ('king\r') */
    FILE *e = cli_stderr();
    fprintf(e, PROG ": ");
    fprintf(e, fmt, q ? q : arg);
    free(q);
    fprintf(e, "\n%s\n", usage_line);
    return EV_ERR_USAGE;
}

int cli_report(ev_error *err)
{
    int code = err->code ? (int)err->code : 1;
    fprintf(cli_stderr(), PROG ": %s\n", err->msg ? err->msg : "error");
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

/* The data directory: $EMBVSATTN_DATA, else $XDG_CACHE_HOME/embvsattn, else ~/.cache/embvsattn; + "/" + name. */
char *cli_data_path(const char *name)
{
    const char *data = getenv("EMBVSATTN_DATA"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (data && *data)
        return ev_strdup_printf("%s/%s", data, name);
    if (xdg && *xdg)
        return ev_strdup_printf("%s/embvsattn/%s", xdg, name);
    return ev_strdup_printf("%s/.cache/embvsattn/%s", home && *home ? home : ".", name);
}

/* Default vectors: the GloVe cache in the data directory. */
char *cli_default_vectors_path(void) { return cli_data_path("glove.6B.100d.safetensors"); }

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

store *cli_open_vectors(const cli_opts *o, int *code) { return cli_open_vectors_into(o, code, NULL); }

store *cli_open_vectors_into(const cli_opts *o, int *code, store_sink *sink)
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
                      .rows_begin = sink ? store_sink_begin : NULL,
                      .rows_write = sink ? store_sink_write : NULL,
                      .rows_ctx = sink};
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
    for (size_t i = 0; a && i < n; i++) {
        cJSON *x = render_json_float(v[i]);
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
        fprintf(cli_stderr(), PROG ": out of memory building JSON output\n");
        return EV_ERR_NOMEM;
    }
    fputs(s, cli_stdout());
    fputc('\n', cli_stdout());
    free(s);
    return 0;
}

const cli_command cli_commands[] = {
    {"vector", "WORD...", "print the vectors of words (fastText print-word-vectors style)", NULL,
     "embvsattn vector king queen\nembvsattn --format json vector king", cmd_vector, 1, -1},
    {"info", "[FILE]", "describe a vector file or the default vectors", NULL,
     "embvsattn info\nembvsattn info --format json ~/.cache/embvsattn/glove.6B.100d.safetensors", cmd_info, 0, 1},
    {"neighbors", "WORD...", "nearest words by cosine over the whole vocabulary (one batched pass)",
     "neighbors [OPTIONS] WORD...              one list per word (- : the words of stdin)\n"
     "neighbors [OPTIONS] WORD [+|- WORD]...   one list for the expression (--mean: for the words)\n"
     "neighbors [OPTIONS] --positive W --negative W...   gensim most_similar(positive, negative)\n"
     "neighbors [OPTIONS] --vector-in FILE|-   one list per vector of FILE (gensim similar_by_vector)",
     "embvsattn neighbors king queen -k 5\nembvsattn neighbours king --restrict 30000\n"
     "embvsattn neighbors king - man + woman\nembvsattn neighbors --positive king --negative man --method mul\n"
     "embvsattn neighbors apple banana --mean\nembvsattn neighbors --vector-in centroids.txt\n"
     "embvsattn neighbors -k 5 - < words.txt\nembvsattn --format json neighbors --stdin   (a co-process)\n"
     "embvsattn neighbors -i", cmd_neighbors, 0, -1},
    {"analogy", "A B C", "A is to B as C is to ?  (b - a + c: 3CosAdd; --method mul: 3CosMul)", NULL,
     "embvsattn analogy man king woman\nembvsattn analogy --method mul paris france rome", cmd_analogy, 3, 3},
    {"similarity", "W1 W2", "cosine similarity of two words", NULL,
     "embvsattn similarity king queen\nembvsattn similarity --words pairs.txt   (W1 W2 a line: one cosine a line)",
     cmd_similarity, 2, 2},
    {"doesnt-match", "WORD...", "the word furthest from the mean of them all (gensim doesnt_match)", NULL,
     "embvsattn doesnt-match breakfast cereal dinner lunch", cmd_doesnt_match, 2, -1},
    {"eval", "KIND FILE", "evaluate: analogies, pairs (as gensim), a trained head, WordNet senses",
     "eval [OPTIONS] analogies FILE        (questions-words.txt)\n"
     "eval [OPTIONS] pairs FILE            (WordSim-353)\n"
     "eval [OPTIONS] head HEAD CORPUS...   (a trained head)\n"
     "eval [OPTIONS] senses [FILE]         (WordNet senses)",
     "embvsattn eval analogies questions-words.txt --restrict 30000\nembvsattn eval pairs EN-WS-353-ALL.txt\n"
     "embvsattn eval head context ~/.cache/embvsattn/wordnet-heldout.txt\n"
     "embvsattn eval senses\nembvsattn eval senses --head mlm --head random:7 --format json",
     cmd_eval, 1, -1},
    {"compare", "S1 S2", "the same word in two sentences: static vs contextual", NULL,
     "embvsattn compare \"I sat on the bank of the river\" \"the bank raised interest rates\"\n"
     "embvsattn -o bank.html compare \"I sat on the bank\" \"the bank raised rates\"",
     cmd_compare, 2, 2},
    {"train", "CORPUS...", "learn an attention head on text (context or masked-word objective), -o HEAD.safetensors", NULL,
     "embvsattn train -o my.head.safetensors ~/.cache/embvsattn/wordnet-train.txt", cmd_train, 1, -1},
    {"index", "", "store every frequent word's neighbours in the cache (neighbour queries then skip the matrix)",
     NULL, "embvsattn index --words 100000", cmd_index, 0, 0},
    {"serve", "", "a local web server: the page at / and a JSON API of the views (docs/serve.md)", NULL,
     "embvsattn serve\nembvsattn serve --port 9000 --head my.head.safetensors", cmd_serve, 0, 0},
    {"convert", "IN OUT", "convert between vector formats (OUT's format from its extension or --to)", NULL,
     "embvsattn convert glove.6B.100d.txt glove.safetensors\nembvsattn convert --to word2vec glove.safetensors g.txt",
     cmd_convert, 2, 2},
};
const size_t cli_n_commands = sizeof cli_commands / sizeof cli_commands[0];

/* The main view: `embvsattn "SENTENCE"` (no command word). */
const cli_command cli_show_command = {"show", "SENTENCE", "the main view", NULL, NULL, cmd_show, 0, -1};

/* Other spellings accepted for a command. */
static const struct {
    const char *spelling, *command;
} command_aliases[] = {{"neighbours", "neighbors"}};

/* The command named a, or NULL. */
static const cli_command *find_command(const char *a)
{
    for (size_t k = 0; k < sizeof command_aliases / sizeof command_aliases[0]; k++)
        if (strcmp(a, command_aliases[k].spelling) == 0)
            a = command_aliases[k].command;
    for (size_t k = 0; k < cli_n_commands; k++)
        if (strcmp(a, cli_commands[k].name) == 0)
            return &cli_commands[k];
    return NULL;
}

/* Whether a and b are at most one edit apart: one byte inserted, deleted or replaced, or two adjacent bytes
 * swapped. */
static int one_edit(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > lb + 1 || lb > la + 1)
        return 0;
    size_t i = 0;
    while (i < la && i < lb && a[i] == b[i])
        i++;
    if (i == la && i == lb)
        return 1;
    if (la == lb)
        return strcmp(a + i + 1, b + i + 1) == 0 ||
               (i + 1 < la && a[i] == b[i + 1] && a[i + 1] == b[i] && strcmp(a + i + 2, b + i + 2) == 0);
    return la > lb ? strcmp(a + i + 1, b + i) == 0 : strcmp(a + i, b + i + 1) == 0;
}

/* The command a mistyped word is one edit away from (neighbors for "neigbors"), or NULL. */
static const char *near_command(const char *w)
{
    for (size_t k = 0; k < cli_n_commands; k++)
        if (one_edit(w, cli_commands[k].name))
            return cli_commands[k].name;
    for (size_t k = 0; k < sizeof command_aliases / sizeof command_aliases[0]; k++)
        if (one_edit(w, command_aliases[k].spelling))
            return command_aliases[k].command;
    return NULL;
}

static int parse_size_arg(const char *opt, const char *v, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (!*v || *end || errno || v[0] == '-' || v[0] == '+' || x > SIZE_MAX) {
        fprintf(cli_stderr(), PROG ": %s: expected a non-negative integer, found '%s'\n%s\n", opt, v, usage_line);
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
        fprintf(cli_stderr(), PROG ": %s: expected at least 1, found '%s'\n%s\n", opt, v, usage_line);
        return -1;
    }
    return 0;
}

/* ---- the option table ------------------------------------------------------------------------------------ */

typedef enum { OPT_VECTORS, OPT_VFORMAT, OPT_LIMIT, OPT_THREADS, OPT_FORMAT, OPT_TO, OPT_K, OPT_RESTRICT,
               OPT_METHOD, OPT_HEAD, OPT_DK, OPT_POSITIONS, OPT_POSITION_SCALE, OPT_CAUSAL, OPT_RESIDUAL, OPT_QUIET,
               OPT_TOP, OPT_BATCH, OPT_WORD, OPT_OUTPUT, OPT_EPOCHS, OPT_LR, OPT_SEED, OPT_MAX_TOKENS,
               OPT_LOG, OPT_WORDS, OPT_NO_INDEX, OPT_OBJECTIVE, OPT_ROWS, OPT_BETA, OPT_PRONOUN, OPT_PREDICT, OPT_MASK,
               OPT_CONTEXT_VECTORS, OPT_HEADS, OPT_WHY, OPT_STEPS, OPT_TERM, OPT_MAP,
               OPT_POSITIVE, OPT_NEGATIVE, OPT_MEAN, OPT_VECTOR_IN, OPT_DETAILS, OPT_LINE_OFFSET,
               OPT_STDIN, OPT_INTERACTIVE, OPT_PORT, OPT_HOST, OPT_TIMEOUT, OPT_CACHE } opt_id;

#define VIEW_CMDS "show compare"
#define WORD_CMDS "vector neighbors analogy similarity doesnt-match"

/* Every option: its forms, the commands that accept it, its value's name and one line of help. */
const cli_option cli_options[] = {
    {"--vectors", NULL, OPT_VECTORS, NULL, "PATH", "vector file (default: the fetched GloVe 6B 100d cache)"},
    {"--vector-format", NULL, OPT_VFORMAT, NULL, "FMT", "read as glove, word2vec, word2vec-binary, cache or fasttext-bin"},
    {"--limit", NULL, OPT_LIMIT, NULL, "N", "read only the first N words of the vectors"},
    {"--threads", NULL, OPT_THREADS, NULL, "N", "parser threads for text vectors (default: cores, max 8)"},
    {"--format", NULL, OPT_FORMAT, NULL, "FMT", "output: text (default), json; tsv (word commands)"},
    {"--no-index", NULL, OPT_NO_INDEX, NULL, NULL, "ignore the cache's neighbour lists: search the matrix"},
    {"--to", NULL, OPT_TO, "convert", "FMT", "cache|glove|word2vec|word2vec-binary (default: by OUT)"},
    {"-k", NULL, OPT_K, "neighbors analogy show compare index", "N", "list length"},
    {"--words", NULL, OPT_WORDS, WORD_CMDS " index", "FILE", "also the words of FILE, one a line (- : stdin)"},
    {"--stdin", NULL, OPT_STDIN, WORD_CMDS, NULL, "one query a line from stdin, each answered at once (flushed)"},
    {"--interactive", "-i", OPT_INTERACTIVE, WORD_CMDS, NULL, "a prompt with line editing (a terminal's stdin)"},
    {"--restrict", NULL, OPT_RESTRICT, "neighbors analogy eval show compare", "N",
     "candidates: the N most frequent words (default: all)"},
    {"--method", NULL, OPT_METHOD, "neighbors analogy eval", "add|mul", "3CosAdd (default, gensim most_similar) or 3CosMul"},
    {"--positive", NULL, OPT_POSITIVE, "neighbors", "WORD", "a word added to the one query (repeatable)"},
    {"--negative", NULL, OPT_NEGATIVE, "neighbors", "WORD", "a word subtracted from the one query (repeatable)"},
    {"--mean", NULL, OPT_MEAN, "neighbors", NULL, "the words are one query, their mean (not one list per word)"},
    {"--vector-in", NULL, OPT_VECTOR_IN, "neighbors", "FILE", "neighbours of each vector of FILE (- stdin), one a line"},
    {"--details", NULL, OPT_DETAILS, "eval", NULL, "analogies, pairs: one JSON line per question or pair"},
    {"--head", NULL, OPT_HEAD, VIEW_CMDS " eval serve", "SPEC", "context (default), mlm, identity, random[:SEED], a head file"},
    {"--dk", NULL, OPT_DK, VIEW_CMDS " train", "N", "d_k of a random head (default: the vectors' dimension)"},
    {"--positions", NULL, OPT_POSITIONS, VIEW_CMDS " train", "none|sinusoidal",
     "position encodings (default: none, or the head file's)"},
    {"--position-scale", NULL, OPT_POSITION_SCALE, VIEW_CMDS " train", "X",
     "their scale (default 0.5, or the head file's)"},
    {"--causal", NULL, OPT_CAUSAL, VIEW_CMDS, NULL, "a token attends only to itself and the tokens before it"},
    {"--residual", NULL, OPT_RESIDUAL, VIEW_CMDS, NULL, "in context = its own vector + the head's output"},
    {"--quiet", "-q", OPT_QUIET, VIEW_CMDS, NULL, "no legend, and no note on a mistyped command"},
    {"--top", NULL, OPT_TOP, VIEW_CMDS, "N", "attention entries listed per token (default 3)"},
    {"--batch", NULL, OPT_BATCH, "show", NULL, "sentences from stdin, one per line; JSON lines out"},
    {"--line-offset", NULL, OPT_LINE_OFFSET, "show", "N", "--batch: number input lines from N+1 (a split input's part)"},
    {"--predict", NULL, OPT_PREDICT, "show", NULL, "each token's top 5 words the trained head predicts"},
    {"--mask", NULL, OPT_MASK, "show", "WORD", "tokens WORD are blanks: no vector; the head guesses them"},
    {"--context-vectors", NULL, OPT_CONTEXT_VECTORS, "show", NULL, "JSON: each token's vector in context"},
    {"--map", NULL, OPT_MAP, VIEW_CMDS, NULL, "--format svg: the movement map instead of the heatmap"},
    {"--heads", NULL, OPT_HEADS, VIEW_CMDS, "A,B", "the same view under two heads, side by side"},
    {"--why", NULL, OPT_WHY, VIEW_CMDS, NULL, "split each weight into meaning and position (text, JSON)"},
    {"--steps", NULL, OPT_STEPS, VIEW_CMDS, NULL, "JSON: attention's computation step by step (x, q, k, v, scores…)"},
    {"--term", NULL, OPT_TERM, "show", "TERM", "SVG: draw meaning|position|ee|ep|pe|pp instead of the weights"},
    {"--word", NULL, OPT_WORD, "compare", "W", "the word to follow (default: every word both share)"},
    {"--output", "-o", OPT_OUTPUT, VIEW_CMDS " train index", "FILE",
     "write FILE (atomically); format from .html .svg .json"},
    {"--port", NULL, OPT_PORT, "serve", "N", "TCP port to listen on (default 8080; 0: a free one)"},
    {"--host", NULL, OPT_HOST, "serve", "ADDR", "address to listen on (default 127.0.0.1; another one warns)"},
    {"--timeout", NULL, OPT_TIMEOUT, "serve", "N", "seconds a request may take; slower clients are cut off (default 10)"},
    {"--cache", NULL, OPT_CACHE, "serve", "N", "answers kept for repeated requests (default 256; 0: none)"},
    {"--objective", NULL, OPT_OBJECTIVE, "train", "context|masked-word", "what the head learns (default context)"},
    {"--rows", NULL, OPT_ROWS, "train", "N", "context: predicting words per sentence (default 3; 0 all)"},
    {"--beta", NULL, OPT_BETA, "train", "X", "context: hide rarer words more often, by rank^X (default 0)"},
    {"--pronoun", NULL, OPT_PRONOUN, "train", "W", "context: weight of the antecedent examples, 0-4 (default 0)"},
    {"--epochs", NULL, OPT_EPOCHS, "train", "N", "passes over the corpus (default 9; masked-word 4)"},
    {"--lr", NULL, OPT_LR, "train", "X", "Adam learning rate (default 0.005; masked-word 0.01)"},
    {"--seed", NULL, OPT_SEED, "train", "N", "random seed (default 1)"},
    {"--log", NULL, OPT_LOG, "train", "FILE", "the loss log (default: HEAD.safetensors.log)"},
    {"--max-tokens", NULL, OPT_MAX_TOKENS, "train eval", "N", "read at most N tokens of the corpus"},
};
const size_t cli_n_options = sizeof cli_options / sizeof cli_options[0];

#define TSV_CMDS "vector neighbors analogy similarity doesnt-match" /* --format tsv */

int cli_word_in_list(const char *list, const char *w)
{
    size_t n = strlen(w);
    for (const char *p = list; (p = strstr(p, w)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return 1;
    return 0;
}

/* --positive/--negative WORD: appends the word to o->terms (grown by doubling). */
static int add_term(cli_opts *o, const char *w, int neg)
{
    if (!*w)
        return cli_usage_error("%s: expected a word, found an empty value", neg ? "--negative" : "--positive");
    if ((o->nterms & (o->nterms - 1)) == 0) { /* 0, 1, 2, 4…: grow */
        size_t cap = o->nterms ? 2 * o->nterms : 4;
        const char **t = realloc(o->terms, cap * sizeof *t);
        if (t)
            o->terms = t;
        unsigned char *g = t ? realloc(o->term_neg, cap) : NULL;
        if (g)
            o->term_neg = g;
        if (!t || !g) {
            fprintf(stderr, PROG ": out of memory\n");
            return EV_ERR_NOMEM;
        }
    }
    o->terms[o->nterms] = w;
    o->term_neg[o->nterms++] = (unsigned char)neg;
    return 0;
}

static int set_option(cli_opts *o, const cli_option *spec, const char *val)
{
    const char *name = spec->name;
    switch ((opt_id)spec->id) {
    case OPT_VECTORS: o->vectors = val; return 0;
    case OPT_VFORMAT:
    case OPT_TO: {
        vformat f;
        if (loader_format_parse(val, &f) != 0 || f == VF_AUTO)
            return cli_usage_error("unknown vector format '%s' (expected glove, word2vec, word2vec-binary, cache or fasttext-bin)", val);
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
        else if (strcmp(val, "tsv") == 0)
            o->format = OUT_TSV;
        else
            return cli_usage_error("--format: expected text, json, html, svg or tsv, found '%s'", val);
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
    case OPT_HEAD: {
        char *all = o->head_all ? ev_strdup_printf("%s,%s", o->head_all, val) : ev_strdup_printf("%s", val);
        if (!all) {
            fprintf(stderr, PROG ": out of memory\n");
            return EV_ERR_NOMEM;
        }
        free(o->head_all);
        o->head_all = all;
        o->head = val;
        return 0;
    }
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
    case OPT_LINE_OFFSET:
        o->line_offset_given = 1;
        return parse_size_arg(name, val, &o->line_offset) ? EV_ERR_USAGE : 0;
    case OPT_PREDICT: o->predict = 1; return 0;
    case OPT_CONTEXT_VECTORS: o->context_vectors = 1; return 0;
    case OPT_WHY: o->why = 1; return 0;
    case OPT_STEPS: o->steps = 1; return 0;
    case OPT_TERM:
        if (!render_svg_term_known(val))
            return cli_usage_error("--term: expected meaning, position, ee, ep, pe or pp, found '%s'", val);
        o->term = val;
        return 0;
    case OPT_MAP: o->map = 1; return 0;
    case OPT_MASK:
        if (!*val)
            return cli_usage_error("%s: expected a word (e.g. --mask _)", name);
        o->mask = val;
        return 0;
    case OPT_HEADS: {
        const char *c = strchr(val, ',');
        if (!c || c == val || !c[1] || strchr(c + 1, ','))
            return cli_usage_error("--heads: expected two heads as A,B (e.g. context,mlm), found '%s'", val);
        o->heads = val;
        return 0;
    }
    case OPT_TOP: return parse_positive_arg(name, val, &o->top) ? EV_ERR_USAGE : 0;
    case OPT_WORD: o->word = val; return 0;
    case OPT_PORT:
        if (parse_size_arg(name, val, &o->port))
            return EV_ERR_USAGE;
        if (o->port > 65535)
            return cli_usage_error("--port: expected 0 to 65535, found '%s'", val);
        o->port_given = 1;
        return 0;
    case OPT_TIMEOUT:
        if (parse_positive_arg(name, val, &o->timeout))
            return EV_ERR_USAGE;
        if (o->timeout > 3600)
            return cli_usage_error("--timeout: expected 1 to 3600 seconds, found '%s'", val);
        return 0;
    case OPT_CACHE:
        if (parse_size_arg(name, val, &o->cache))
            return EV_ERR_USAGE;
        if (o->cache > 100000)
            return cli_usage_error("--cache: expected 0 to 100000 answers, found '%s'", val);
        o->cache_given = 1;
        return 0;
    case OPT_HOST:
        if (!*val)
            return cli_usage_error("%s: expected an address (e.g. 127.0.0.1 or ::1)", name);
        o->host = val;
        return 0;
    case OPT_NO_INDEX: o->no_index = 1; return 0;
    case OPT_WORDS: o->words_arg = val; return 0; /* index: a count (checked in cli_main); else a list */
    case OPT_STDIN: o->line_mode = 1; return 0;
    case OPT_INTERACTIVE: o->interactive = 1; return 0;
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
    case OPT_OBJECTIVE:
        if (strcmp(val, "context") != 0 && strcmp(val, "masked-word") != 0)
            return cli_usage_error("--objective: expected context or masked-word, found '%s'", val);
        o->objective = val;
        return 0;
    case OPT_BETA: {
        char *end;
        errno = 0;
        double x = strtod(val, &end);
        if (!*val || *end || errno || !(x >= 0 && x <= 4))
            return cli_usage_error("--beta: expected a number from 0 to 4, found '%s'", val);
        o->beta = x;
        o->beta_given = 1;
        return 0;
    }
    case OPT_PRONOUN: {
        _Static_assert(CTX_MAX_PRONOUN == 4, "the message below says 4");
        char *end;
        errno = 0;
        double x = strtod(val, &end);
        if (!*val || *end || errno || !(x >= 0 && x <= CTX_MAX_PRONOUN))
            return cli_usage_error("--pronoun: expected a weight from 0 to 4, found '%s'", val);
        o->pronoun = x;
        o->pronoun_given = 1;
        return 0;
    }
    case OPT_ROWS:
        if (parse_size_arg(name, val, &o->rows))
            return EV_ERR_USAGE;
        if (o->rows > 64)
            return cli_usage_error("--rows: expected 0 (every word) to 64, found '%s'", val);
        o->rows_given = 1;
        return 0;
    case OPT_LOG:
        if (!*val)
            return cli_usage_error("%s: expected a file name", name);
        o->log = val;
        return 0;
    case OPT_POSITIVE:
    case OPT_NEGATIVE: return add_term(o, val, spec->id == OPT_NEGATIVE);
    case OPT_MEAN: o->mean = 1; return 0;
    case OPT_VECTOR_IN:
        if (!*val)
            return cli_usage_error("%s: expected a file name or -", name);
        o->vector_in = val;
        return 0;
    case OPT_DETAILS: o->details = 1; return 0;
    case OPT_METHOD:
        if (strcmp(val, "add") != 0 && strcmp(val, "mul") != 0)
            return cli_usage_error("--method: expected add or mul, found '%s'", val);
        o->method = val;
        return 0;
    }
    return 0;
}

int cli_apply_option(cli_opts *o, const char *name, const char *val)
{
    for (size_t k = 0; k < cli_n_options; k++)
        if (strcmp(cli_options[k].name, name) == 0)
            return set_option(o, &cli_options[k], cli_options[k].arg ? val : NULL);
    return cli_usage_error("unknown option '%s'", name);
}

/* The option whose long form is the first len bytes of a ("--top" of "--top=3"), or NULL. */
static const cli_option *find_long(const char *a, size_t len)
{
    for (size_t k = 0; k < cli_n_options; k++) {
        const char *n = cli_options[k].name;
        if (n[1] == '-' && strlen(n) == len && strncmp(a, n, len) == 0)
            return &cli_options[k];
    }
    return NULL;
}

/* The option whose short form is -c, or NULL. */
static const cli_option *find_short(char c)
{
    for (size_t k = 0; k < cli_n_options; k++) {
        const char *n = cli_options[k].name[1] != '-' ? cli_options[k].name : cli_options[k].alias;
        if (n && n[1] == c && n[2] == '\0')
            return &cli_options[k];
    }
    return NULL;
}

/* Whether the line asks for help (-h or --help, before any --; an option's value is skipped, so `--word -h` does
 * not). Sets *cmd to the command named by the first argument that is not an option, if it is one (NULL: the help
 * of everything). */
static int wants_help(int argc, char **argv, const cli_command **cmd)
{
    int help = 0, seen_pos = 0;
    *cmd = NULL;
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        const char *a = argv[i];
        if (a[0] == '-' && a[1] == '-') {
            const char *eq = strchr(a, '=');
            size_t nl = eq ? (size_t)(eq - a) : strlen(a);
            const cli_option *spec = find_long(a, nl);
            help |= nl == 6 && strncmp(a, "--help", 6) == 0;
            if (spec && spec->arg && !eq)
                i++;
        } else if (a[0] == '-' && a[1]) {
            for (const char *p = a + 1; *p; p++) {
                const cli_option *spec = find_short(*p);
                help |= *p == 'h';
                if (!spec || spec->arg) {
                    if (spec && !p[1])
                        i++;
                    break;
                }
            }
        } else if (!seen_pos) {
            seen_pos = 1;
            *cmd = find_command(a);
        }
    }
    return help;
}

/* Applies one option of the line, typed as `typed`: a flag takes no value (has_eq: one was attached with =), another
 * takes val (NULL: none was given). Marks it in given; returns 0 or the usage exit code (the error printed). */
static int take_option(cli_opts *o, unsigned char *given, const cli_option *spec, const char *typed, int has_eq,
                       const char *val)
{
    if (!spec->arg && has_eq)
        return cli_usage_error("option '%s' takes no value", typed);
    if (spec->arg && !val)
        return cli_usage_error("option '%s' needs a value", typed);
    given[spec - cli_options] = 1;
    return set_option(o, spec, val);
}

/* Reports a mistake on the command line (the message built from fmt and two strings); returns the usage code. */
static int usage_error2(const char *fmt, const char *a, const char *b)
{
    char *msg = ev_strdup_printf(fmt, a, b);
    int code = cli_usage_error("%s", msg ? msg : "bad option");
    free(msg);
    return code;
}

/* The note for a sentence whose first word is one edit from a command (`embvsattn neigbors king`): the main view
 * still runs. */
static void note_near_command(const cli_opts *o)
{
    const char *near = near_command(o->pos[0]);
    if (!near)
        return;
    size_t n = 0;
    for (int i = 0; i < o->npos; i++)
        n += strlen(o->pos[i]) + 1;
    char *joined = malloc(n + 1);
    if (!joined)
        return;
    joined[0] = '\0';
    for (int i = 0; i < o->npos; i++) {
        if (i)
            strcat(joined, " ");
        strcat(joined, o->pos[i]);
    }
    char *word = ev_quote(o->pos[0], strlen(o->pos[0]), 40), *sentence = ev_quote(joined, strlen(joined), 60);
    if (word && sentence)
        fprintf(stderr, PROG ": note: '%s' is not a command; showing the sentence '%s'. Did you mean '%s'?\n", word,
                sentence, near);
    free(word);
    free(sentence);
    free(joined);
}

int cli_main(int argc, char **argv)
{
    ev_error simd_err = {0};
    if (cpu_simd_check(&simd_err) != EV_OK) {
        fprintf(stderr, PROG ": %s\n", simd_err.msg ? simd_err.msg : "EMBVSATTN_SIMD: bad value");
        ev_error_clear(&simd_err);
        return EV_ERR_USAGE;
    }
    if (input_inflater_check(&simd_err) != EV_OK) {
        fprintf(stderr, PROG ": %s\n", simd_err.msg ? simd_err.msg : "EMBVSATTN_INFLATE: bad value");
        ev_error_clear(&simd_err);
        return EV_ERR_USAGE;
    }
    const cli_command *cmd = NULL;
    if (wants_help(argc, argv, &cmd)) {
        if (cmd)
            cli_help_command(cmd);
        else
            cli_help_all();
        return cli_finish_stdout(0);
    }
    cmd = NULL;
    cli_opts o = {0};
    o.pos = calloc((size_t)argc + 1, sizeof *o.pos);
    if (!o.pos) {
        fprintf(stderr, PROG ": out of memory\n");
        return EV_ERR_NOMEM;
    }
    unsigned char given[sizeof cli_options / sizeof cli_options[0]] = {0};
    int code = 0, only_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!only_pos && a[0] == '-' && a[1] == '-') {
            if (a[2] == '\0') {
                only_pos = 1;
                o.words_literal_from = o.npos + 1; /* after --, "-" is a word, not stdin (cli_wordinput.c) */
                continue;
            }
            if (strcmp(a, "--version") == 0) {
                printf("embvsattn %s\nkernels: %s (this CPU: %s; EMBVSATTN_SIMD=c|avx2|avx512|avx512bf16 caps it)\n"
                       "inflate: %s (gzip and zip members; %s)\n",
                       EMBVSATTN_VERSION, cpu_simd_name(cpu_simd_level()), cpu_simd_name(cpu_simd_detected()),
                       input_inflater_name(input_inflater_chosen()),
                       input_have_isal() ? "EMBVSATTN_INFLATE=zlib|isal picks one" : "built without ISA-L");
                free(o.pos);
                free(o.head_all);
                free(o.terms);
                free(o.term_neg);
                return cli_finish_stdout(0);
            }
            /* --name, --name VALUE, --name=VALUE */
            const char *eq = strchr(a, '=');
            const cli_option *spec = find_long(a, eq ? (size_t)(eq - a) : strlen(a));
            if (!spec)
                code = cli_usage_error("unknown option '%s'", a);
            else
                code = take_option(&o, given, spec, a, eq != NULL,
                                   !spec->arg ? NULL : eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL);
            if (code)
                goto out;
            continue;
        }
        if (!only_pos && a[0] == '-' && a[1]) {
            /* short options as getopt takes them: -q, -k 3, -k3 (also -k=3), and flags bundled before them: -qk3 */
            for (const char *p = a + 1; *p; p++) {
                const cli_option *spec = find_short(*p);
                char opt[3] = {'-', *p, '\0'};
                int flag_eq = spec && !spec->arg && p[1] == '=';
                if (!spec)
                    code = p == a + 1 ? cli_usage_error("unknown option '%s'", a)
                                      : usage_error2("unknown option '%s' (in '%s')", opt, a);
                else
                    code = take_option(&o, given, spec, flag_eq ? a : opt, flag_eq,
                                       !spec->arg ? NULL : p[1] ? p + 1 + (p[1] == '=') : i + 1 < argc ? argv[++i] : NULL);
                if (code)
                    goto out;
                if (spec->arg)
                    break; /* the rest of the argument was the value */
            }
            continue;
        }
        if (!cmd) {
            if ((cmd = find_command(a)) != NULL)
                continue;
            cmd = &cli_show_command; /* not a command: a sentence for the main view */
        }
        o.pos[o.npos++] = argv[i];
    }
    if (!cmd && o.batch)
        cmd = &cli_show_command;
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
    if ((o.format == OUT_HTML || o.format == OUT_SVG) && !cli_word_in_list("show compare", cmd->name)) {
        fprintf(stderr, PROG ": %s: --format %s applies to the main view and compare only\n%s\n", cmd->name,
                o.format == OUT_HTML ? "html" : "svg", usage_line);
        code = EV_ERR_USAGE;
        goto out;
    }
    if (o.format == OUT_TSV && !cli_word_in_list(TSV_CMDS, cmd->name)) {
        fprintf(stderr, PROG ": %s: --format tsv applies to the word commands only (" TSV_CMDS ")\n%s\n", cmd->name,
                usage_line);
        code = EV_ERR_USAGE;
        goto out;
    }
    for (size_t k = 0; k < cli_n_options; k++)
        if (given[k] && cli_options[k].commands && !cli_word_in_list(cli_options[k].commands, cmd->name)) {
            fprintf(stderr, PROG ": %s: option %s does not apply (it is for: %s)\n%s\n", cmd->name,
                    cli_options[k].name, cli_options[k].commands, usage_line);
            code = EV_ERR_USAGE;
            goto out;
        }
    if (strcmp(cmd->name, "index") == 0 && o.words_arg && parse_positive_arg("--words", o.words_arg, &o.words)) {
        code = EV_ERR_USAGE;
        goto out;
    }
    if ((code = cli_words_prepare(&o)) != 0) /* "-", --words FILE, --stdin, -i (cli_wordinput.c) */
        goto out;
    if (!o.serve && (o.npos < cmd->min_pos || (cmd->max_pos >= 0 && o.npos > cmd->max_pos))) {
        fprintf(stderr, PROG ": %s: expected %s, found %d argument%s\nusage: " PROG " %s%s%s   (" PROG " %s --help for "
                "more)\n", cmd->name, *cmd->args ? cmd->args : "no arguments", o.npos, o.npos == 1 ? "" : "s", cmd->name,
                *cmd->args ? " " : " [OPTIONS]", cmd->args, cmd->name);
        code = EV_ERR_USAGE;
        goto out;
    }
    if (cmd == &cli_show_command && o.npos > 0 && !o.quiet)
        note_near_command(&o);
    code = cmd->run(&o);
out:
    cli_words_free(&o);
    free(o.pos);
    free(o.head_all);
    free(o.terms);
    free(o.term_neg);
    return code;
}
