/* cli_wordinput — where the word commands (vector, neighbors, analogy, similarity, doesnt-match) take their words
 * from besides the command line: "-" (standard input) and --words FILE, one word a line; rows of a list
 * (similarity's W1 W2 pairs, analogy's A B C); --stdin, one query a line answered as soon as it is complete (a
 * co-process); -i, the same behind a prompt with line editing (libedit) on a terminal. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_LIBEDIT
#include <editline/readline.h>
#endif

#include "cli_internal.h"
#include "render_json.h"

#define WORD_COMMANDS "vector neighbors analogy similarity doesnt-match"
#define ROW_COMMANDS "similarity analogy" /* their lists are rows of several words, each answered in turn */
#define LINE_MAX_BYTES ((size_t)1 << 20)  /* a longer line is an error (a word list is not a binary file) */
#define READ_BYTES ((size_t)64 << 10)

/* ---- reading lines ------------------------------------------------------------------------------------------ */

/* Lines from a descriptor, read in blocks; the caller is told whether a complete further line is already waiting
 * (then its answer need not be flushed yet). */
typedef struct {
    int fd, own_fd;
    const char *name;  /* "stdin" or the path, for messages */
    char *buf;         /* (cap) bytes; [beg, end) not yet handed out */
    size_t cap, beg, end;
    size_t line;       /* number of the last line handed out (1-based) */
    int eof, crlf_noted;
} line_reader;

static void lr_close(line_reader *lr)
{
    if (lr->own_fd && lr->fd >= 0)
        close(lr->fd);
    free(lr->buf);
    lr->buf = NULL;
}

/* Opens path ("-": standard input); on failure prints the error and returns the exit code. */
static int lr_open(line_reader *lr, const char *path)
{
    memset(lr, 0, sizeof *lr);
    int std = strcmp(path, "-") == 0;
    lr->name = std ? "stdin" : path;
    lr->fd = std ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    lr->own_fd = !std;
    if (lr->fd < 0) {
        fprintf(stderr, PROG ": %s: cannot open the word list: %s\n", path, strerror(errno));
        return EV_ERR_IO;
    }
    if (!(lr->buf = malloc(lr->cap = READ_BYTES * 2))) { /* never NULL after this: memchr is given a buffer */
        fprintf(stderr, PROG ": out of memory reading %s\n", lr->name);
        lr_close(lr);
        return EV_ERR_NOMEM;
    }
    return 0;
}

/* Whether a complete line is already buffered after the ones handed out. */
static int lr_waiting(const line_reader *lr) { return memchr(lr->buf + lr->beg, '\n', lr->end - lr->beg) != NULL; }

/* The next line (without its "\n" nor the "\r" before it; NUL-terminated in place, writable until the next call):
 * 1, 0 at the end, or an exit code's negation with the error printed. */
static int lr_next(line_reader *lr, char **line, size_t *len)
{
    for (;;) {
        char *nl = memchr(lr->buf + lr->beg, '\n', lr->end - lr->beg);
        if (nl || (lr->eof && lr->end > lr->beg)) {
            char *p = lr->buf + lr->beg;
            size_t n = nl ? (size_t)(nl - p) : lr->end - lr->beg;
            lr->beg += n + (nl != NULL);
            lr->line++;
            if (n && p[n - 1] == '\r') {
                n--;
                if (!lr->crlf_noted++)
                    fprintf(stderr, PROG ": note: %s:%zu: the line ends in CRLF (\\r\\n): the \\r is dropped here "
                            "and on any other line\n", lr->name, lr->line);
            }
            p[n] = '\0'; /* over the '\n' or '\r', or the spare byte kept at the end of buf */
            *line = p;
            *len = n;
            return 1;
        }
        if (lr->eof)
            return 0;
        if (lr->end - lr->beg > LINE_MAX_BYTES) {
            fprintf(stderr, PROG ": %s:%zu: a line longer than %zu bytes (expected words, one query a line)\n",
                    lr->name, lr->line + 1, LINE_MAX_BYTES);
            return -EV_ERR_FORMAT;
        }
        if (lr->beg > 0) { /* keep the unfinished line at the start */
            memmove(lr->buf, lr->buf + lr->beg, lr->end - lr->beg);
            lr->end -= lr->beg;
            lr->beg = 0;
        }
        if (lr->cap - lr->end < READ_BYTES + 1) {
            size_t cap = lr->cap ? lr->cap * 2 : READ_BYTES * 2;
            char *b = realloc(lr->buf, cap);
            if (!b) {
                fprintf(stderr, PROG ": out of memory reading %s\n", lr->name);
                return -EV_ERR_NOMEM;
            }
            lr->buf = b;
            lr->cap = cap;
        }
        ssize_t r = read(lr->fd, lr->buf + lr->end, lr->cap - lr->end - 1); /* one byte spare for the NUL */
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            fprintf(stderr, PROG ": %s: cannot read: %s\n", lr->name, strerror(errno));
            return -EV_ERR_IO;
        }
        if (r == 0)
            lr->eof = 1;
        lr->end += (size_t)r;
    }
}

/* The number of words (runs of bytes other than space and tab) in p[0..n). */
static long count_words(const char *p, size_t n)
{
    long k = 0;
    for (size_t i = 0; i < n; i++)
        k += p[i] != ' ' && p[i] != '\t' && (i == 0 || p[i - 1] == ' ' || p[i - 1] == '\t');
    return k;
}

/* Splits line (NUL-terminated, no NUL inside) at spaces and tabs in place into *f (grown as needed; *cap its
 * room); returns the number of words, or -1 when out of memory. */
static long split_words(char *line, char ***f, size_t *cap)
{
    size_t k = 0;
    for (char *p = line; *p;) {
        while (*p == ' ' || *p == '\t')
            *p++ = '\0';
        if (!*p)
            break;
        if (k == *cap) {
            size_t c = *cap ? *cap * 2 : 8;
            char **g = realloc(*f, c * sizeof *g);
            if (!g)
                return -1;
            *f = g;
            *cap = c;
        }
        (*f)[k++] = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
    }
    return (long)k;
}

/* "FILE:LINE: expected ..., found N words ('the line')": malloc'd (NULL when out of memory). */
static char *bad_line_msg(const line_reader *lr, const char *expected, long nw, const char *line, size_t n, int nul)
{
    char *q = ev_quote(line, n, 60);
    char *m = !nul && nw == 0 ? ev_strdup_printf("%s:%zu: an empty line (expected %s)", lr->name, lr->line, expected)
              : nul ? ev_strdup_printf("%s:%zu: a NUL byte in the line (expected %s, as text) ('%s')", lr->name,
                                     lr->line, expected, q ? q : "")
              : ev_strdup_printf("%s:%zu: expected %s, found %ld word%s ('%s')", lr->name, lr->line, expected, nw,
                                     nw == 1 ? "" : "s", q ? q : "");
    free(q);
    return m;
}

/* ---- "-" and --words FILE: the words of a list become positional words ------------------------------------ */

typedef struct {
    char *text;       /* (len) the words, each NUL-terminated */
    size_t len, cap;
    size_t *off;      /* (n) where each word starts in text */
    size_t n, cap_off;
    char **pos;       /* (n + 1) the words: the new o->pos */
    char **orig_pos;  /* the command line's (cli_main frees it) */
} word_list;

static int wl_push(word_list *w, const char *word, size_t n)
{
    if (w->n == w->cap_off) {
        size_t c = w->cap_off ? w->cap_off * 2 : 64;
        size_t *o = realloc(w->off, c * sizeof *o);
        if (!o)
            return -1;
        w->off = o;
        w->cap_off = c;
    }
    if (w->cap - w->len < n + 1) {
        size_t c = w->cap ? w->cap * 2 : 4096;
        while (c - w->len < n + 1)
            c *= 2;
        char *t = realloc(w->text, c);
        if (!t)
            return -1;
        w->text = t;
        w->cap = c;
    }
    w->off[w->n++] = w->len;
    memcpy(w->text + w->len, word, n);
    w->text[w->len + n] = '\0';
    w->len += n + 1;
    return 0;
}

/* Appends the words of the list at path, one a line (empty lines skipped). Returns 0 or an exit code (printed). */
static int wl_read(word_list *wl, const char *path)
{
    line_reader lr;
    int code = lr_open(&lr, path);
    size_t empty = 0;
    char *line;
    size_t n;
    int r = 0;
    while (!code && (r = lr_next(&lr, &line, &n)) == 1) {
        long nw = count_words(line, n);
        int nul = memchr(line, '\0', n) != NULL;
        if (nw == 0 && !nul) {
            empty++;
            continue;
        }
        if (nw != 1 || nul) {
            char *m = bad_line_msg(&lr, "one word a line", nw, line, n, nul);
            fprintf(stderr, PROG ": %s\n", m ? m : "bad line in a word list");
            free(m);
            code = EV_ERR_FORMAT;
            break;
        }
        const char *w = line;
        while (*w == ' ' || *w == '\t')
            w++;
        size_t wn = 0;
        while (w[wn] && w[wn] != ' ' && w[wn] != '\t')
            wn++;
        if (wl_push(wl, w, wn) != 0) {
            fprintf(stderr, PROG ": out of memory reading %s\n", lr.name);
            code = EV_ERR_NOMEM;
        }
    }
    if (!code && r < 0)
        code = -r;
    if (!code && empty)
        fprintf(stderr, PROG ": note: %s: %zu empty line%s skipped\n", lr.name, empty, empty == 1 ? "" : "s");
    lr_close(&lr);
    return code;
}

void cli_words_free(cli_opts *o)
{
    word_list *w = o->word_list;
    if (!w)
        return;
    o->pos = w->orig_pos;
    free(w->text);
    free(w->off);
    free(w->pos);
    free(w);
    o->word_list = NULL;
}

/* Whether positional word i is "-" meaning standard input (not after "--", where it is the word "-"). */
static int is_stdin_arg(const cli_opts *o, int i)
{
    return strcmp(o->pos[i], "-") == 0 && (o->words_literal_from == 0 || i < o->words_literal_from - 1);
}

static int is_op_arg(const cli_opts *o, int i)
{
    return (strcmp(o->pos[i], "-") == 0 || strcmp(o->pos[i], "+") == 0) &&
           (o->words_literal_from == 0 || i < o->words_literal_from - 1);
}

/* neighbors' words with a "+" anywhere, or a "-" before a word (king - man + woman, - good), are an expression
 * (cli_query.c): there every "-" is an operator, not standard input. A "-" alone or last (neighbors -, neighbors
 * king -), or before "--" (neighbors - -- -lrb-), is standard input. */
static int is_expression(const cli_opts *o)
{
    if (strcmp(o->command, "neighbors") != 0)
        return 0;
    for (int i = 0; i < o->npos; i++) {
        int next_word = i + 1 < o->npos && !is_op_arg(o, i + 1) &&
                        (o->words_literal_from == 0 || i + 1 < o->words_literal_from - 1);
        if (is_op_arg(o, i) && (o->pos[i][0] == '+' || next_word))
            return 1;
    }
    return 0;
}

int cli_words_prepare(cli_opts *o)
{
    if (!o->command || !cli_word_in_list(WORD_COMMANDS, o->command))
        return 0;
    int dashes = 0, rows = cli_word_in_list(ROW_COMMANDS, o->command);
    for (int i = 0; i < o->npos; i++)
        dashes += is_stdin_arg(o, i);
    if (o->line_mode || o->interactive) {
        if (o->line_mode && o->interactive)
            return cli_usage_error("%s: --stdin and -i both read queries from standard input: give one", o->command);
        if (o->npos || o->words_arg)
            return cli_usage_error("%s: --stdin and -i read the queries from standard input: give no words (nor - "
                                   "or --words)", o->command);
        o->serve = o->interactive ? CLI_SERVE_PROMPT : CLI_SERVE_LINES;
        return 0;
    }
    if (!dashes && !o->words_arg)
        return 0;
    if (is_expression(o)) {
        if (o->words_arg)
            return cli_usage_error("%s", "neighbors: an expression (WORD - WORD + WORD) takes its words from the "
                                         "line, not from --words");
        return 0;
    }
    if (dashes > 1)
        return cli_usage_error("%s: '-' (standard input) given more than once", o->command);
    if (rows) {
        if (o->npos > dashes || (dashes && o->words_arg))
            return cli_usage_error("%s: give the words or one list (- or --words FILE), not both", o->command);
        o->serve = CLI_SERVE_ROWS;
        o->serve_path = dashes ? "-" : o->words_arg;
        return 0;
    }
    word_list *w = calloc(1, sizeof *w);
    if (!w) {
        fprintf(stderr, PROG ": out of memory\n");
        return EV_ERR_NOMEM;
    }
    w->orig_pos = o->pos;
    o->word_list = w;
    int code = 0;
    for (int i = 0; !code && i < o->npos; i++)
        if (is_stdin_arg(o, i))
            code = wl_read(w, "-");
        else if (wl_push(w, o->pos[i], strlen(o->pos[i])) != 0)
            code = EV_ERR_NOMEM;
    if (!code && o->words_arg)
        code = wl_read(w, o->words_arg);
    if (!code && w->n > (size_t)(int)(~0u >> 1))
        code = cli_usage_error("%s: more than 2^31 words", o->command);
    if (!code && !(w->pos = malloc((w->n + 1) * sizeof *w->pos)))
        code = EV_ERR_NOMEM;
    if (code == EV_ERR_NOMEM)
        fprintf(stderr, PROG ": out of memory for the word list\n");
    if (code)
        return code;
    for (size_t i = 0; i < w->n; i++)
        w->pos[i] = w->text + w->off[i];
    w->pos[w->n] = NULL;
    o->pos = w->pos;
    o->npos = (int)w->n;
    if (o->npos == 0) {
        fprintf(stderr, PROG ": %s: the word list%s is empty\n", o->command, o->words_arg ? "" : " on stdin");
        return EV_ERR_USAGE;
    }
    return 0;
}

/* ---- one answer per row or line --------------------------------------------------------------------------- */

static const cli_command *command_named(const char *name)
{
    for (size_t k = 0; k < cli_n_commands; k++)
        if (strcmp(cli_commands[k].name, name) == 0)
            return &cli_commands[k];
    return NULL;
}

/* -i on a terminal: the next line typed (libedit: with editing and history). 1, 0 at the end (Ctrl-D). *line is
 * malloc'd (the caller frees it). Without libedit: the prompt on stderr and a plain read. */
static int prompt_next(line_reader *lr, const char *prompt, char **line, size_t *len, char **owned)
{
    *owned = NULL;
#ifdef HAVE_LIBEDIT
    if (!isatty(STDOUT_FILENO))
        rl_outstream = stderr; /* answers to a file or a pipe: the prompt and the echo stay on the terminal */
    char *l = readline(prompt);
    if (!l) {
        fputc('\n', rl_outstream ? rl_outstream : stdout); /* after the prompt, on the terminal */
        return 0;
    }
    if (*l)
        add_history(l);
    lr->line++;
    *owned = *line = l;
    *len = strlen(l);
    return 1;
#else
    fputs(prompt, stderr);
    fflush(stderr);
    return lr_next(lr, line, len);
#endif
}

/* A bad --stdin/-i line: the error in its answer's place (a JSON line, or the message on stderr). */
static void answer_bad_line(const cli_opts *o, const line_reader *lr, const char *msg)
{
    if (o->format == OUT_JSON)
        cli_print_json(render_json_error(lr->line, msg, EV_ERR_USAGE));
    else
        fprintf(stderr, PROG ": %s\n", msg);
}

static int serve(cli_opts *o, store *s, cli_answer_fn answer)
{
    const cli_command *c = command_named(o->command);
    int prompt = o->serve == CLI_SERVE_PROMPT && isatty(STDIN_FILENO), text = o->format != OUT_JSON;
    int rows = o->serve == CLI_SERVE_ROWS;
    long want_min = c ? c->min_pos : 1, want_max = c ? c->max_pos : -1;
    if (want_min < 1) /* a line without words is no query (neighbors takes none on its command line: --vector-in) */
        want_min = 1;
    if (rows) /* a row: the command's words, then maybe one column more, ignored (a pair's score, the answer) */
        want_max = want_min + 1;
    line_reader lr;
    int code = lr_open(&lr, rows ? o->serve_path : "-");
    if (code)
        return code;
    char **saved = o->pos, **f = NULL, *pr = NULL;
    int saved_n = o->npos;
    size_t fcap = 0, lines = 0, answered = 0, failed = 0, empty = 0;
    if (prompt) {
        pr = ev_strdup_printf("%s> ", o->command);
        fprintf(stderr, "embvsattn %s: one query a line (%s), answered as you press Enter; Ctrl-D ends\n", o->command,
                c ? c->args : "WORD...");
    }
    for (;;) {
        char *line, *owned;
        size_t n;
        int r = prompt ? prompt_next(&lr, pr ? pr : "> ", &line, &n, &owned) : (owned = NULL, lr_next(&lr, &line, &n));
        if (r <= 0) {
            code = -r;
            break;
        }
        long nw = count_words(line, n);
        int nul = memchr(line, '\0', n) != NULL;
        if (rows && (line[0] == '#' || (line[0] == ':' && strcmp(o->command, "analogy") == 0)) &&
            (nw < want_min || nw > want_max)) {
            free(owned); /* a list's comments (gensim's pair files) and ": section" lines (questions-words.txt); "#"
                            and ":" are GloVe words too: a line of a row's shape is a row */
            continue;
        }
        if (nw == 0 && !nul && (rows || prompt)) { /* a list's empty lines; Enter alone at the prompt */
            empty += rows;
            free(owned);
            continue;
        }
        lines++;
        if (nul || nw < want_min || (want_max >= 0 && nw > want_max)) {
            char *exp = ev_strdup_printf("%s%s", c ? c->args : "words", rows && want_max > want_min ? " (a column "
                                         "more is ignored)" : "");
            char *m = bad_line_msg(&lr, exp ? exp : "words", nw, line, n, nul);
            free(exp);
            free(owned);
            if (rows) { /* a list is input like any other file: its first bad row stops the command */
                fprintf(stderr, PROG ": %s\n", m ? m : "bad row");
                free(m);
                code = EV_ERR_FORMAT;
                break;
            }
            answer_bad_line(o, &lr, m ? m : "bad line");
            free(m);
            failed++;
            if (text)
                putchar('\n');
            fflush(stdout);
            continue;
        }
        if (split_words(line, &f, &fcap) < 0) {
            free(owned);
            fprintf(stderr, PROG ": out of memory\n");
            code = EV_ERR_NOMEM;
            break;
        }
        o->pos = f;
        o->npos = (int)(rows ? want_min : nw);
        int rc = answer(o, s);
        free(owned);
        if (rc != 0 && rc != EV_ERR_NOTFOUND) { /* out of memory, a write error: not the line's fault */
            code = rc;
            break;
        }
        answered += rc == 0;
        if (text && !(rows && strcmp(o->command, "similarity") == 0))
            putchar('\n'); /* an answer ends with an empty line, even an empty answer (a word out of vocabulary) */
        if (!rows && !(lr_waiting(&lr) && !prompt))
            fflush(stdout); /* the reader may be waiting for it before it writes the next line */
        if (ferror(stdout))
            break;
    }
    if (!code && empty)
        fprintf(stderr, PROG ": note: %s: %zu empty line%s skipped\n", lr.name, empty, empty == 1 ? "" : "s");
    if (!code)
        code = failed ? CLI_EXIT_BATCH_FAILED : lines && !answered ? EV_ERR_NOTFOUND : 0;
    o->pos = saved;
    o->npos = saved_n;
    free(f);
    free(pr);
    lr_close(&lr);
    return code;
}

int cli_word_command(cli_opts *o, cli_answer_fn answer)
{
    int code = 0;
    store *s = cli_open_vectors(o, &code);
    if (!s)
        return code;
    code = o->serve ? serve(o, s, answer) : answer(o, s);
    store_close(s);
    return cli_finish_stdout(code);
}
