#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ev_error.h"
#include "loader.h"
#include "numparse.h"
#include "store.h"
#include "version.h"

#define PROG "embvsattn"

/* ---- options --------------------------------------------------------------------------------------------- */

typedef enum { OUT_TEXT, OUT_JSON } out_format;

typedef struct {
    const char *vectors;   /* --vectors */
    vformat in_format;     /* --vector-format */
    size_t limit;          /* --limit */
    int threads;           /* --threads */
    out_format format;     /* --format */
    vformat to_format;     /* convert --to */
    char **pos;            /* positional arguments (borrowed from argv) */
    int npos;
} cli_opts;

typedef int (*cmd_fn)(cli_opts *o);

typedef struct {
    const char *name, *args, *summary;
    cmd_fn run;
    int min_pos, max_pos; /* positional argument counts; max -1 = unbounded */
} command;

static const char *usage_line = "usage: " PROG " [--vectors PATH] COMMAND [OPTIONS] [ARGS]   (" PROG " --help for more)";

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, PROG ": ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n%s\n", usage_line);
    return EV_ERR_USAGE;
}

static int report(ev_error *err)
{
    int code = err->code ? (int)err->code : 1;
    fprintf(stderr, PROG ": %s\n", err->msg ? err->msg : "error");
    ev_error_clear(err);
    return code;
}

/* Checks that everything written to stdout reached it; returns the exit code to use. */
static int finish_stdout(int code)
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

static loader_progress_fn progress_fn(void) { return isatty(STDERR_FILENO) ? progress_tty : NULL; }

/* ---- vectors --------------------------------------------------------------------------------------------- */

/* Default vectors: $EMBVSATTN_DATA, else $XDG_CACHE_HOME/embvsattn, else ~/.cache/embvsattn, + the GloVe cache. */
static char *default_vectors_path(void)
{
    const char *data = getenv("EMBVSATTN_DATA"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (data && *data)
        return ev_strdup_printf("%s/glove.6B.100d.safetensors", data);
    if (xdg && *xdg)
        return ev_strdup_printf("%s/embvsattn/glove.6B.100d.safetensors", xdg);
    return ev_strdup_printf("%s/.cache/embvsattn/glove.6B.100d.safetensors", home && *home ? home : ".");
}

static store *open_vectors(const cli_opts *o, int *code)
{
    const char *path = o->vectors;
    char *def = NULL;
    if (!path) {
        const char *env = getenv("EMBVSATTN_VECTORS");
        if (env && *env)
            path = env;
    }
    if (!path) {
        def = default_vectors_path();
        struct stat st;
        if (!def || stat(def, &st) != 0) {
            fprintf(stderr,
                    PROG ": no word vectors found (looked for %s): run scripts/fetch-vectors.sh to fetch GloVe 6B "
                    "100d, or give --vectors PATH or set EMBVSATTN_VECTORS\n",
                    def ? def : "the default cache");
            free(def);
            *code = EV_ERR_IO;
            return NULL;
        }
        path = def;
    }
    loader_opts lo = {.format = o->in_format, .limit = o->limit, .threads = o->threads, .progress = progress_fn()};
    store *s = NULL;
    ev_error err = {0};
    if (loader_load(path, &lo, &s, &err) != EV_OK) {
        *code = report(&err);
        free(def);
        return NULL;
    }
    if (lo.n_duplicates)
        fprintf(stderr, PROG ": warning: %s: %zu duplicate words ignored (the first occurrence of each is kept)\n",
                path, lo.n_duplicates);
    free(def);
    return s;
}

/* ---- output helpers -------------------------------------------------------------------------------------- */

/* A JSON array of the float values, each written as its shortest round-trip decimal. */
static cJSON *json_floats(const float *v, size_t n)
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

static cJSON *json_string_bytes(const char *p, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        return NULL;
    memcpy(s, p, n);
    s[n] = '\0';
    cJSON *j = cJSON_CreateString(s);
    free(s);
    return j;
}

static int print_json(cJSON *root)
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

/* ---- commands -------------------------------------------------------------------------------------------- */

static int cmd_convert(cli_opts *o)
{
    const char *in = o->pos[0], *outp = o->pos[1];
    vformat to = o->to_format != VF_AUTO ? o->to_format : loader_format_for_path(outp);
    if (to == VF_AUTO)
        return usage_error("convert: cannot tell the output format of '%s' from its extension (.safetensors, .txt, "
                           ".vec, .bin): give --to FORMAT",
                           outp);
    cli_opts io = *o;
    io.vectors = in;
    int code = 0;
    store *s = open_vectors(&io, &code);
    if (!s)
        return code;
    ev_error err = {0};
    if (loader_write(s, outp, to, progress_fn(), NULL, &err) != EV_OK)
        code = report(&err);
    store_close(s);
    return code;
}

static int cmd_info(cli_opts *o)
{
    cli_opts io = *o;
    if (o->npos == 1)
        io.vectors = o->pos[0];
    int code = 0;
    store *s = open_vectors(&io, &code);
    if (!s)
        return code;
    const char *src = store_meta(s, "source"), *sfmt = store_meta(s, "source_format"),
               *tv = store_meta(s, "tool_version");
    int cached = store_file_bytes(s) > 0;
    const char *fmt = cached ? "cache" : (sfmt ? sfmt : "?");
    const char *path = src;
    char *def = NULL;
    if (cached) {
        path = io.vectors ? io.vectors : getenv("EMBVSATTN_VECTORS");
        if (!path || !*path)
            path = def = default_vectors_path();
    }
    struct stat st;
    long long bytes = path && stat(path, &st) == 0 ? (long long)st.st_size : -1;
    if (o->format == OUT_JSON) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "path", path ? path : "");
        cJSON_AddStringToObject(r, "format", fmt);
        cJSON_AddNumberToObject(r, "words", (double)store_size(s));
        cJSON_AddNumberToObject(r, "dim", (double)store_dim(s));
        cJSON_AddNumberToObject(r, "bytes", (double)bytes);
        if (cached) {
            cJSON_AddStringToObject(r, "source", src ? src : "");
            cJSON_AddStringToObject(r, "source_format", sfmt ? sfmt : "");
            cJSON_AddStringToObject(r, "tool_version", tv ? tv : "");
        }
        code = print_json(r);
    } else {
        printf("path          %s\n", path ? path : "?");
        printf("format        %s\n", fmt);
        printf("words         %zu\n", store_size(s));
        printf("dim           %zu\n", store_dim(s));
        printf("bytes         %lld\n", bytes);
        if (cached) {
            printf("source        %s\n", src ? src : "?");
            printf("source format %s\n", sfmt ? sfmt : "?");
            printf("tool version  %s\n", tv ? tv : "?");
        }
    }
    free(def);
    store_close(s);
    return finish_stdout(code);
}

static int cmd_vector(cli_opts *o)
{
    int code = 0;
    store *s = open_vectors(o, &code);
    if (!s)
        return code;
    size_t d = store_dim(s), answered = 0;
    cJSON *root = NULL, *results = NULL;
    if (o->format == OUT_JSON) {
        root = cJSON_CreateObject();
        results = cJSON_AddArrayToObject(root, "results");
    }
    char buf[32];
    for (int i = 0; i < o->npos; i++) {
        const char *q = o->pos[i];
        store_match m;
        long r = store_lookup(s, q, strlen(q), &m);
        size_t wl = 0;
        const char *w = r >= 0 ? store_word(s, (size_t)r, &wl) : NULL;
        if (r >= 0)
            answered++;
        if (root) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddItemToArray(results, e);
            cJSON_AddStringToObject(e, "query", q);
            cJSON_AddStringToObject(e, "match", store_match_name(m));
            if (r >= 0) {
                cJSON_AddItemToObject(e, "word", json_string_bytes(w, wl));
                cJSON_AddItemToObject(e, "vector", json_floats(store_row(s, (size_t)r), d));
            }
            continue;
        }
        if (r < 0) {
            fprintf(stderr, PROG ": '%s': not in the vocabulary (%zu words)\n", q, store_size(s));
            continue;
        }
        if (m == STORE_LOWER)
            fprintf(stderr, PROG ": note: '%s' not in the vocabulary, using its lowercase '%.*s'\n", q, (int)wl, w);
        fwrite(w, 1, wl, stdout);
        const float *v = store_row(s, (size_t)r);
        for (size_t k = 0; k < d; k++) {
            numparse_format_float(v[k], buf);
            putchar(' ');
            fputs(buf, stdout);
        }
        putchar('\n');
    }
    if (root)
        code = print_json(root);
    store_close(s);
    if (!code && answered == 0)
        code = EV_ERR_NOTFOUND;
    return finish_stdout(code);
}

static const command commands[] = {
    {"vector", "WORD...", "print the vectors of words (fastText print-word-vectors style)", cmd_vector, 1, -1},
    {"info", "[FILE]", "describe a vector file or the default vectors", cmd_info, 0, 1},
    {"convert", "IN OUT", "convert between vector formats (OUT's format from its extension or --to)", cmd_convert, 2,
     2},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void print_help(void)
{
    printf("embvsattn %s — static word embeddings beside self-attention, on real pretrained vectors\n\n", EMBVSATTN_VERSION);
    printf("usage: embvsattn [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        printf("  %-8s %-8s %s\n", commands[i].name, commands[i].args, commands[i].summary);
    printf("\nglobal options (anywhere on the line):\n"
           "  --vectors PATH        vector file: a cache (.safetensors), GloVe text, word2vec text/binary, fastText .vec\n"
           "                        (default: $EMBVSATTN_VECTORS, else the GloVe 6B 100d cache fetched by\n"
           "                        scripts/fetch-vectors.sh in ${EMBVSATTN_DATA:-${XDG_CACHE_HOME:-~/.cache}/embvsattn})\n"
           "  --vector-format FMT   read the vectors as FMT instead of detecting it:\n"
           "                        glove | word2vec (= fasttext, vec) | word2vec-binary | cache\n"
           "  --limit N             read only the first N words\n"
           "  --threads N           parser threads for text vector files (default: one per core, at most 8)\n"
           "  --format text|json    output format (default text)\n"
           "  -h, --help            this help;  --version  the version\n"
           "\nconvert options:\n"
           "  --to FMT              output format: cache | glove | word2vec | word2vec-binary (default: from OUT's\n"
           "                        extension: .safetensors cache, .txt GloVe text, .vec word2vec text, .bin binary)\n"
           "\nexit codes: 0 ok; 1 nothing could be answered (every word out of vocabulary); 2 usage error;\n"
           "  3 input missing or unreadable (also: no vectors fetched yet); 4 input malformed; 5 output could not be\n"
           "  written; 6 out of memory.\n"
           "\nexamples:\n"
           "  embvsattn vector king\n"
           "  embvsattn info\n"
           "  embvsattn convert glove.6B.100d.txt glove.safetensors\n");
}

static int parse_size_arg(const char *opt, const char *v, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (!*v || *end || errno || v[0] == '-') {
        fprintf(stderr, PROG ": %s: expected a non-negative integer, found '%s'\n%s\n", opt, v, usage_line);
        return -1;
    }
    *out = (size_t)x;
    return 0;
}

int cli_main(int argc, char **argv)
{
    cli_opts o = {0};
    o.pos = calloc((size_t)argc + 1, sizeof *o.pos);
    if (!o.pos) {
        fprintf(stderr, PROG ": out of memory\n");
        return EV_ERR_NOMEM;
    }
    const command *cmd = NULL;
    int code = 0, only_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        char name[32];
        if (!only_pos && a[0] == '-' && a[1]) {
            if (strcmp(a, "--") == 0) {
                only_pos = 1;
                continue;
            }
            if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
                print_help();
                free(o.pos);
                return finish_stdout(0);
            }
            if (strcmp(a, "--version") == 0) {
                printf("embvsattn %s\n", EMBVSATTN_VERSION);
                free(o.pos);
                return finish_stdout(0);
            }
            const char *eq = strchr(a, '=');
            size_t nl = eq ? (size_t)(eq - a) : strlen(a);
            if (nl >= sizeof name) {
                code = usage_error("unknown option '%s'", a);
                goto out;
            }
            memcpy(name, a, nl);
            name[nl] = '\0';
            static const char *with_value[] = {"--vectors", "--vector-format", "--limit", "--threads", "--format",
                                               "--to"};
            int known = 0;
            for (size_t k = 0; k < sizeof with_value / sizeof with_value[0]; k++)
                known |= strcmp(name, with_value[k]) == 0;
            if (!known) {
                code = usage_error("unknown option '%s'", a);
                goto out;
            }
            if (eq)
                val = eq + 1;
            else if (i + 1 < argc)
                val = argv[++i];
            else {
                code = usage_error("option '%s' needs a value", a);
                goto out;
            }
            if (strcmp(name, "--vectors") == 0) {
                o.vectors = val;
            } else if (strcmp(name, "--vector-format") == 0 || strcmp(name, "--to") == 0) {
                vformat f;
                if (loader_format_parse(val, &f) != 0) {
                    code = usage_error("unknown vector format '%s' (expected glove, word2vec, word2vec-binary or cache)",
                                       val);
                    goto out;
                }
                if (name[2] == 'v')
                    o.in_format = f;
                else
                    o.to_format = f;
            } else if (strcmp(name, "--limit") == 0) {
                if (parse_size_arg(name, val, &o.limit)) {
                    code = EV_ERR_USAGE;
                    goto out;
                }
            } else if (strcmp(name, "--threads") == 0) {
                size_t t;
                if (parse_size_arg(name, val, &t)) {
                    code = EV_ERR_USAGE;
                    goto out;
                }
                o.threads = t > 64 ? 64 : (int)t;
            } else if (strcmp(name, "--format") == 0) {
                if (strcmp(val, "json") == 0)
                    o.format = OUT_JSON;
                else if (strcmp(val, "text") == 0)
                    o.format = OUT_TEXT;
                else {
                    code = usage_error("--format: expected text or json, found '%s'", val);
                    goto out;
                }
            }
            continue;
        }
        if (!cmd) {
            for (size_t k = 0; k < N_COMMANDS; k++)
                if (strcmp(a, commands[k].name) == 0)
                    cmd = &commands[k];
            if (!cmd) {
                code = usage_error("unknown command '%s'", a);
                goto out;
            }
            continue;
        }
        o.pos[o.npos++] = argv[i];
    }
    if (!cmd) {
        code = usage_error("%s", "no command given");
        goto out;
    }
    if (o.npos < cmd->min_pos || (cmd->max_pos >= 0 && o.npos > cmd->max_pos)) {
        fprintf(stderr, PROG ": %s: expected %s, found %d argument%s\nusage: " PROG " %s %s\n", cmd->name, cmd->args,
                o.npos, o.npos == 1 ? "" : "s", cmd->name, cmd->args);
        code = EV_ERR_USAGE;
        goto out;
    }
    if (o.to_format != VF_AUTO && cmd->run != cmd_convert) {
        code = usage_error("--to applies to convert only (found it with '%s')", cmd->name);
        goto out;
    }
    code = cmd->run(&o);
out:
    free(o.pos);
    return code;
}
