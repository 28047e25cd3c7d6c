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

store *cli_open_vectors(const cli_opts *o, int *code)
{
    const char *path = o->vectors;
    char *def = NULL;
    if (!path) {
        const char *env = getenv("EMBVSATTN_VECTORS");
        if (env && *env)
            path = env;
    }
    if (!path) {
        def = cli_default_vectors_path();
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
    loader_opts lo = {.format = o->in_format, .limit = o->limit, .threads = o->threads, .progress = cli_progress_fn()};
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

cJSON *cli_json_string_bytes(const char *p, size_t n)
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
    if (!*v || *end || errno || v[0] == '-' || v[0] == '+' || x > SIZE_MAX) {
        fprintf(stderr, PROG ": %s: expected a non-negative integer, found '%s'\n%s\n", opt, v, usage_line);
        return -1;
    }
    *out = (size_t)x;
    return 0;
}

/* ---- the option table ------------------------------------------------------------------------------------ */

typedef enum { OPT_VECTORS, OPT_VFORMAT, OPT_LIMIT, OPT_THREADS, OPT_FORMAT, OPT_TO, OPT_K, OPT_RESTRICT,
               OPT_METHOD } opt_id;

typedef struct {
    const char *name;     /* long form */
    const char *alias;    /* short form or NULL */
    opt_id id;
    const char *commands; /* space-separated commands that accept it; NULL = every command (global) */
} opt_spec;

static const opt_spec options[] = {
    {"--vectors", NULL, OPT_VECTORS, NULL},
    {"--vector-format", NULL, OPT_VFORMAT, NULL},
    {"--limit", NULL, OPT_LIMIT, NULL},
    {"--threads", NULL, OPT_THREADS, NULL},
    {"--format", NULL, OPT_FORMAT, NULL},
    {"--to", NULL, OPT_TO, "convert"},
    {"-k", NULL, OPT_K, "neighbors analogy"},
    {"--restrict", NULL, OPT_RESTRICT, "neighbors analogy eval doesnt-match"},
    {"--method", NULL, OPT_METHOD, "analogy eval"},
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
        else
            return cli_usage_error("--format: expected text or json, found '%s'", val);
        return 0;
    case OPT_K:
        if (parse_size_arg(name, val, &o->k))
            return EV_ERR_USAGE;
        if (o->k == 0)
            return cli_usage_error("-k: expected at least 1, found '%s'", val);
        o->k_given = 1;
        return 0;
    case OPT_RESTRICT: return parse_size_arg(name, val, &o->restrict_n) ? EV_ERR_USAGE : 0;
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
                printf("embvsattn %s\n", EMBVSATTN_VERSION);
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
            const char *val;
            if (eq)
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
            if (!cmd) {
                code = cli_usage_error("unknown command '%s'", a);
                goto out;
            }
            continue;
        }
        o.pos[o.npos++] = argv[i];
    }
    if (!cmd) {
        code = cli_usage_error("%s", "no command given");
        goto out;
    }
    o.command = cmd->name;
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
