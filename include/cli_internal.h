/* cli_internal — what the CLI's source files share: parsed options, output helpers, the command functions.
 * Only the CLI layer (src/cli*.c) includes this. */
#ifndef CLI_INTERNAL_H
#define CLI_INTERNAL_H

#include <cJSON.h>
#include <stddef.h>

#include "ev_error.h"
#include "jsonstr.h"
#include "loader.h"
#include "store.h"

#define PROG "embvsattn"

typedef enum { OUT_TEXT, OUT_JSON, OUT_HTML, OUT_SVG } out_format; /* html, svg: the main view and compare */

/* Every option of every command (cli.c's table says which command accepts which). 0/NULL = not given. */
typedef struct {
    /* global */
    const char *vectors;   /* --vectors PATH */
    vformat in_format;     /* --vector-format FMT */
    size_t limit;          /* --limit N */
    int threads;           /* --threads N */
    out_format format;     /* --format text|json|html|svg (or from -o FILE's extension) */
    int format_given;
    int no_index;          /* --no-index: ignore the cache's neighbour lists (always search the matrix) */
    /* index */
    size_t words;          /* --words N: lists for the first N words (0: the default) */
    /* convert */
    vformat to_format;     /* --to FMT */
    /* similarity */
    size_t k;              /* -k N (0: the command's default) */
    int k_given;
    size_t restrict_n;     /* --restrict N (0: whole vocabulary) */
    const char *method;    /* --method add|mul */
    /* the main view and compare */
    const char *head;      /* --head identity|random[:SEED]|FILE */
    size_t dk;             /* --dk N (random heads) */
    const char *positions; /* --positions none|sinusoidal */
    float position_scale;  /* --position-scale X */
    int position_scale_given;
    int causal, residual, quiet, batch; /* --causal --residual --quiet --batch */
    size_t top;            /* --top N: attention entries per token */
    const char *word;      /* compare --word W */
    const char *output;    /* -o/--output FILE: written atomically (outfile.h) instead of stdout */
    /* train and eval head (cli_head.c) */
    size_t epochs;         /* --epochs N (0: the default) */
    float lr;              /* --lr X (0: the default) */
    unsigned long long seed; /* --seed N */
    int seed_given;
    size_t max_tokens;     /* --max-tokens N: read at most N corpus tokens (0: all) */
    const char *log;       /* train --log FILE (default: OUTPUT.log) */
    /* positional arguments (borrowed from argv) */
    char **pos;
    int npos;
    const char *command;   /* the command's name */
} cli_opts;

typedef int (*cli_cmd_fn)(cli_opts *o);

/* Prints "embvsattn: <fmt with arg>" and the usage line on stderr; returns the usage exit code (2). */
int cli_usage_error(const char *fmt, const char *arg);

/* Prints err's message on stderr with the prefix, clears it, returns its exit code. */
int cli_report(ev_error *err);

/* Flushes stdout; on a write error prints it and returns EV_ERR_WRITE (EPIPE stays quiet), else code. */
int cli_finish_stdout(int code);

/* The progress callback to give long work: draws on stderr when it is a terminal, NULL otherwise. */
loader_progress_fn cli_progress_fn(void);

/* Opens the vectors the options name (--vectors, $EMBVSATTN_VECTORS, the fetched default); on failure prints
 * the error and stores the exit code in *code, returning NULL. */
store *cli_open_vectors(const cli_opts *o, int *code);
/* The same with a text file's matrix parsed into room from matrix_alloc (loader_opts.matrix_alloc; NULL: none). */
store *cli_open_vectors_into(const cli_opts *o, int *code, float *(*matrix_alloc)(void *, size_t, size_t), void *ctx);

/* The vectors the options name: --vectors, else $EMBVSATTN_VECTORS, else the default cache (then *owned is that
 * malloc'd path, for the caller to free; NULL only if out of memory). */
const char *cli_vectors_path(const cli_opts *o, char **owned);

/* Path of the default vectors cache (malloc'd), whether or not it exists. */
char *cli_default_vectors_path(void);

/* JSON helpers: an array of floats written as shortest round-trip decimals; printing the document on stdout
 * (consumes root). Strings from bytes: jsonstr.h. */
cJSON *cli_json_floats(const float *v, size_t n);
int cli_print_json(cJSON *root);

/* Commands. */
int cmd_vector(cli_opts *o);
int cmd_info(cli_opts *o);
int cmd_convert(cli_opts *o);
int cmd_index(cli_opts *o);
int cmd_show(cli_opts *o);
int cmd_compare(cli_opts *o);
int cmd_neighbors(cli_opts *o);
int cmd_analogy(cli_opts *o);
int cmd_similarity(cli_opts *o);
int cmd_doesnt_match(cli_opts *o);
int cmd_eval(cli_opts *o);
int cmd_train(cli_opts *o);
int cmd_eval_head(cli_opts *o); /* eval head HEAD CORPUS... (cli_head.c), dispatched by cmd_eval */

#endif
