/* cli_internal — what the CLI's source files share: parsed options, output helpers, the command functions.
 * Only the CLI layer (src/cli*.c) includes this. */
#ifndef CLI_INTERNAL_H
#define CLI_INTERNAL_H

#include <cJSON.h>
#include <stddef.h>

#include "ev_error.h"
#include "jsonstr.h"
#include "loader.h"
#include "eval_gensim.h"
#include "search.h"
#include "store.h"
#include "view.h"
#include <stdio.h>

#define PROG "embvsattn"

typedef enum { OUT_TEXT, OUT_JSON, OUT_HTML, OUT_SVG, OUT_TSV } out_format; /* html, svg: the main view and compare;
                                                                         * tsv: the word commands (cli_tsv.c) */

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
    const char *head;      /* --head identity|random[:SEED]|FILE (the last one given) */
    char *head_all;        /* every --head value, in order, joined by ',' (eval senses scores several); owned */
    size_t dk;             /* --dk N (random heads) */
    const char *positions; /* --positions none|sinusoidal */
    float position_scale;  /* --position-scale X */
    int position_scale_given;
    int causal, residual, quiet, batch; /* --causal --residual --quiet --batch */
    size_t top;            /* --top N: attention entries per token */
    size_t line_offset;    /* --batch --line-offset N: error objects number lines from N + 1 */
    int line_offset_given;
    const char *word;      /* compare --word W */
    size_t port;           /* serve --port N */
    int port_given;
    const char *host;      /* serve --host ADDR */
    size_t timeout;        /* serve --timeout N: seconds per request (0: the default) */
    size_t cache;          /* serve --cache N: answers kept for repeated requests */
    int cache_given;
    int predict;           /* --predict: each token's predicted words */
    const char *mask;      /* --mask WORD: tokens WORD are blanks */
    int context_vectors;   /* --context-vectors: JSON carries the vectors in context */
    int why;               /* --why: the meaning/position split of the logits (explain.h) */
    int steps;             /* --steps: the JSON's "steps", attention's computation step by step */
    const char *term;      /* --term TERM: the SVG heatmap of one term of the split (render_svg_term_known) */
    int map;               /* --map: --format svg draws the movement map instead of the heatmap */
    const char *heads;     /* --heads A,B (checked: one comma, both sides non-empty) */
    const char *output;    /* -o/--output FILE: written atomically (outfile.h) instead of stdout */
    /* train and eval head (cli_head.c) */
    size_t epochs;         /* --epochs N (0: the default) */
    float lr;              /* --lr X (0: the default) */
    unsigned long long seed; /* --seed N */
    int seed_given;
    size_t max_tokens;     /* --max-tokens N: read at most N corpus tokens (0: all) */
    const char *log;       /* train --log FILE (default: OUTPUT.log) */
    const char *objective; /* train --objective context|masked-word (NULL: context) */
    size_t rows;           /* train --rows N: the context objective's predicting rows per sentence */
    int rows_given;
    double beta;           /* train --beta X: hidden words weighted by frequency rank^X */
    int beta_given;
    double pronoun;        /* train --pronoun W: the antecedent examples' weight */
    int pronoun_given;
    /* neighbors: several words as one query, vectors (cli_query.c); eval --details */
    const char **terms;    /* --positive/--negative words in the order given (the array owned, the words borrowed) */
    unsigned char *term_neg; /* (nterms) 1: the word was given by --negative */
    size_t nterms;
    int mean;              /* --mean: the words are one query (their mean) */
    const char *vector_in; /* --vector-in FILE|-: neighbours of the vectors it holds */
    int details;           /* eval --details: one JSON line per question or pair */
    /* word lists and line modes (cli_wordinput.c) */
    const char *words_arg; /* --words FILE: a word list (word commands); --words N for index */
    int line_mode;         /* --stdin: one query a line in, one answer out, flushed */
    int interactive;       /* -i/--interactive: a prompt (line editing) when stdin is a terminal */
    int serve;             /* CLI_SERVE_*: how the word command reads its queries (set by cli_words_prepare) */
    const char *serve_path; /* CLI_SERVE_ROWS: the list ("-": standard input) */
    void *word_list;       /* the words read for positional "-" / --words (cli_words_free); owned */
    int words_literal_from; /* 1 + the index of the first positional word after "--" (0: no "--"): "-" is a word there */
    /* positional arguments (borrowed from argv) */
    char **pos;
    int npos;
    const char *command;   /* the command's name */
} cli_opts;

typedef int (*cli_cmd_fn)(cli_opts *o);

/* ---- the command and option tables (cli.c); the help (cli_help.c) prints them ------------------------------ */

typedef struct {
    const char *name;     /* as typed on the command line */
    const char *args;     /* its positional arguments, for usage lines ("WORD...") */
    const char *summary;  /* one line */
    const char *usage;    /* the usage lines when one does not say it all ('\n'-separated; NULL: NAME ARGS) */
    const char *examples; /* example command lines ('\n'-separated) */
    cli_cmd_fn run;
    int min_pos, max_pos; /* positional argument counts; max -1 = unbounded */
} cli_command;

typedef struct {
    const char *name;     /* the long form ("--top"), or the short one when there is no long form ("-k") */
    const char *alias;    /* the short form of a long option ("-q") or NULL */
    int id;               /* cli.c's option identifier */
    const char *commands; /* space-separated commands that accept it ("show" is the main view); NULL = all */
    const char *arg;      /* the value's name in help ("N", "PATH"); NULL = a flag, which takes no value */
    const char *help;     /* one line (cli_help.c words it for a command where its meaning differs) */
} cli_option;

extern const cli_command cli_commands[]; /* (cli_n_commands) in the order of the help */
extern const size_t cli_n_commands;
extern const cli_command cli_show_command; /* the main view: `embvsattn "SENTENCE"` (no command word) */
extern const cli_option cli_options[];   /* (cli_n_options) */
extern const size_t cli_n_options;

/* 1 when w is one of the space-separated words of list. */
int cli_word_in_list(const char *list, const char *w);

/* Prints the help of everything (`embvsattn --help`) on stdout. */
void cli_help_all(void);

/* Prints one command's help (`embvsattn COMMAND --help`: usage, summary, each option it accepts in one line,
 * examples) on stdout. */
void cli_help_command(const cli_command *c);

/* ---- exit codes -------------------------------------------------------------------------------------------- */
/* Every exit code of embvsattn, in one place (the help, the man page and the README list the same):
 *   0  EV_OK             success
 *   1  EV_ERR_NOTFOUND   nothing could be answered (every word out of the vocabulary)
 *   2  EV_ERR_USAGE      usage error: unknown command or option, bad value, wrong number of arguments
 *   3  EV_ERR_IO         input missing or unreadable (also: no vectors fetched yet)
 *   4  EV_ERR_FORMAT     input malformed
 *   5  EV_ERR_WRITE      output could not be written
 *   6  EV_ERR_NOMEM      out of memory, or over a limit (4096 tokens, 1 MiB per sentence)
 *   7  CLI_EXIT_BATCH_FAILED   --batch, --stdin, -i: some lines failed (each has an error object); the others were
 *                              answered
 * Codes 0-6 are the modules' ev_status values (ev_error.h); 7 is the CLI's own. */
#define CLI_EXIT_BATCH_FAILED 7

/* Where the calling thread's messages and documents go: cli_capture(out, err) sends what the CLI would print on
 * stdout (documents: cli_print_json) and stderr (messages: cli_usage_error, cli_report, option errors) to out and
 * err instead (the server answers a request with them); NULL restores stdout and stderr. cli_stdout and
 * cli_stderr return the current streams. Per thread. */
void cli_capture(FILE *out, FILE *err);
FILE *cli_stdout(void);
FILE *cli_stderr(void);

/* Applies the option named name ("--top", "-k"; a flag ignores val) to o as the command line would, with its
 * checks. Returns 0 or the usage exit code (the message on cli_stderr()). */
int cli_apply_option(cli_opts *o, const char *name, const char *val);

/* Prints "embvsattn: <fmt with arg>" and the usage line on stderr; returns the usage exit code (2). arg is shown
 * through ev_quote (control characters escaped: 'king\r'). */
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
/* The same with a text or word2vec binary file's rows streamed to sink (loader_opts.rows_write: the store then has no
 * matrix, store_sink_finish writes the cache); sink NULL: none. */
store *cli_open_vectors_into(const cli_opts *o, int *code, store_sink *sink);

/* The vectors the options name: --vectors, else $EMBVSATTN_VECTORS, else the default cache (then *owned is that
 * malloc'd path, for the caller to free; NULL only if out of memory). */
const char *cli_vectors_path(const cli_opts *o, char **owned);

/* Path of the file `name` in the data directory ($EMBVSATTN_DATA, else $XDG_CACHE_HOME/embvsattn, else
 * ~/.cache/embvsattn), malloc'd (NULL when out of memory), whether or not it exists. */
char *cli_data_path(const char *name);

/* Path of the default vectors cache (malloc'd), whether or not it exists. */
char *cli_default_vectors_path(void);

/* JSON helpers: an array of floats written as shortest round-trip decimals; printing the document on stdout
 * (consumes root). Strings from bytes: jsonstr.h. */
cJSON *cli_json_floats(const float *v, size_t n);
int cli_print_json(cJSON *root);

/* --format tsv (cli_tsv.c): prints the document as tab-separated rows under a header of its keys; rows_key names
 * its row array ("results", "ranking"; NULL: the document is one row). Consumes root; returns 0 or EV_ERR_NOMEM. */
int cli_print_tsv(cJSON *root, const char *rows_key);
/* cli_print_tsv when o asks for tsv, else cli_print_json. */
int cli_print_doc(const cli_opts *o, cJSON *root, const char *rows_key);

/* ---- the word commands' shared helpers (cli_similarity.c) ------------------------------------------------- */

/* A query word as the store's lookup matched it (exact, then lowercase). */
typedef struct {
    const char *query;
    long row;            /* -1: out of vocabulary */
    store_match match;
    const char *word;    /* the vocabulary's word (row's), NULL when OOV */
    size_t wlen;
} lookup;

/* The store's lookup of q (exact, then lowercase; row -1 when out of the vocabulary). */
lookup cli_look_up(const store *s, const char *q);
/* Text mode: "'word': not in the vocabulary (N words)" on stderr. */
void cli_note_oov(const store *s, const lookup *l);
/* The query as text: "King (lowercase: king)" when the case fallback matched. */
void cli_print_query(const lookup *l);
/* {"query", "match", "word"?} (a new item for the caller to attach). */
cJSON *cli_json_query(const lookup *l);
/* A float as the shortest decimal that reads back to it (raw JSON number); null when not finite. */
cJSON *cli_json_float(float f);
/* The hits as text, "  word<pad> 0.1234" a line (rows -1 skipped); as a JSON array of {"word", "score"}. */
void cli_print_hits(const store *s, const sim_hit *h /*(k)*/, size_t k);
cJSON *cli_json_hits(const store *s, const sim_hit *h /*(k)*/, size_t k);
/* -k, or the default 10, never more than the vocabulary. */
size_t cli_answers_wanted(const store *s, const cli_opts *o);
/* --restrict N as the number of rows searched (0 or more than the vocabulary: all of it). */
size_t cli_restrict_rows(const store *s, size_t r);
/* Asks the kernel to map the first `rows` rows of the matrix at once before a full pass (Linux; else nothing). */
void cli_prefault_matrix(const store *s, size_t rows);
/* ---- word lists, line mode, the prompt (cli_wordinput.c) ------------------------------------------------- */

enum { CLI_SERVE_NONE = 0, /* the positional words: one answer */
       CLI_SERVE_ROWS,     /* similarity/analogy over a list: one answer per row (W1 W2 / A B C) */
       CLI_SERVE_LINES,    /* --stdin: one answer per line, flushed when no further line is waiting */
       CLI_SERVE_PROMPT }; /* -i: the same with a prompt (and line editing) on a terminal */

/* Word commands (vector neighbors analogy similarity doesnt-match): expands "-" among the positional words and
 * --words FILE into the words they hold (one a line; CR before LF dropped with a note; empty lines skipped), or,
 * for similarity and analogy, sets up reading rows; checks --stdin/-i against the rest of the line. Returns 0 or
 * an exit code, the error printed ("FILE:LINE: ..." for a bad line). Other commands: returns 0, does nothing. */
int cli_words_prepare(cli_opts *o);

/* Releases what cli_words_prepare read (o->word_list). */
void cli_words_free(cli_opts *o);

/* Answers the query in o->pos/o->npos from s; prints on stdout; returns 0 or an exit code (1: nothing found). */
typedef int (*cli_answer_fn)(cli_opts *o, store *s);

/* A word command: opens the vectors, answers once (CLI_SERVE_NONE) or once per row/line (the others), closes them;
 * returns the exit code (after cli_finish_stdout). In the row and line modes: 1 when no line was answered, 7 when
 * a --stdin/-i line was bad (its error answered in its place), 4 at a list's first bad row. */
int cli_word_command(cli_opts *o, cli_answer_fn answer);

/* Commands. */
int cmd_vector(cli_opts *o);
int cmd_info(cli_opts *o);
int cmd_convert(cli_opts *o);
int cmd_index(cli_opts *o);
int cmd_show(cli_opts *o);
int cmd_compare(cli_opts *o);
int cmd_serve(cli_opts *o); /* cli_serve.c */

/* The vector path as the user should see it, for the documents' "vectors" (malloc'd; NULL when out of memory). */
char *cli_vectors_label(const cli_opts *o);

/* The main view's options (cli_attention.c): fills *vo for the resolved head (spec: how it was named, for
 * messages) from o's options (-k, --top, --positions, --causal, --restrict, --predict…) as the main view and compare
 * apply them. Returns 0 or the usage exit code (the message on cli_stderr()). */
int cli_view_opts(const cli_opts *o, const store *s, const attn_head *head, const char *spec, view_opts *vo);
/* The head spec the main view uses when none is given ("context"; identity when that does not fit the vectors). */
const char *cli_default_head(void);
/* compare's JSON document of o->pos[0] and o->pos[1] under vo (compare --word: o->word) into *doc (NULL on
 * failure), the static lists from cache when it has them (NULL: none). Returns 0 or an exit code (the message on
 * cli_stderr()). */
int cli_compare_doc(const cli_opts *o, const store *s, const char *vectors_path, const view_opts *vo,
                    view_cache *cache, cJSON **doc);
/* neighbors and analogy of the words in o->pos (cli_similarity.c): the document printed on cli_stdout() (JSON or
 * TSV by o->format, text otherwise). Return 0 or an exit code (1: a word was not found). */
int cli_neighbors_answer(cli_opts *o, store *s);
int cli_analogy_answer(cli_opts *o, store *s);
int cmd_neighbors(cli_opts *o);
/* neighbors' other forms (cli_query.c), answered from the open vectors s for cmd_neighbors (each a cli_answer_fn,
 * so they also serve --stdin and -i lines): several words as one query (an expression, --positive/--negative,
 * --mean), and --vector-in. Print on stdout; return 0 or an exit code. */
int cli_neighbors_query(cli_opts *o, store *s);
int cli_neighbors_vectors(cli_opts *o, store *s);
/* 1 when cmd_neighbors hands the words to cli_neighbors_query (an operator among them, --positive/--negative,
 * --mean). */
int cli_neighbors_is_query(const cli_opts *o);
/* eval --details (cli_details.c): one JSON object a line per question / per pair on stdout; returns 0 or the
 * write error's code. */
int cli_print_analogy_details(const store *s, const eval_analogies_result *ev);
int cli_print_pair_details(const eval_pairs_result *ev);
int cmd_analogy(cli_opts *o);
int cmd_similarity(cli_opts *o);
int cmd_doesnt_match(cli_opts *o);
int cmd_eval(cli_opts *o);
int cmd_train(cli_opts *o);
int cmd_eval_head(cli_opts *o); /* eval head HEAD CORPUS... (cli_head.c), dispatched by cmd_eval */
int cmd_eval_senses(cli_opts *o); /* eval senses [FILE] (cli_head.c), dispatched by cmd_eval */

#endif
