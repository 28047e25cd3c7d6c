/* cli_help — what `embvsattn --help` and `embvsattn COMMAND --help` print: the help of everything, and one
 * command's usage, options (from cli.c's tables, each in one line) and examples. On stdout; cli.c exits 0. */
#include <stdio.h>
#include <string.h>

#include "cli_internal.h"
#include "version.h"

void cli_help_all(void)
{
    printf("embvsattn %s — static word embeddings beside self-attention, on real pretrained vectors\n\n", EMBVSATTN_VERSION);
    printf("usage: embvsattn [OPTIONS] \"SENTENCE\"             the main view: static neighbours, attention, context\n"
           "       embvsattn [OPTIONS] --batch < FILE          one sentence per line in, one JSON object per line out\n"
           "       embvsattn [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]\n"
           "       embvsattn COMMAND --help                    that command's usage, options and examples\n"
           "\ncommands:\n");
    for (size_t i = 0; i < cli_n_commands; i++)
        printf("  %-13s %-9s %s\n", cli_commands[i].name, cli_commands[i].args, cli_commands[i].summary);
    printf("  (neighbours is accepted for neighbors)\n");
    printf("\nglobal options (anywhere on the line):\n"
           "  --vectors PATH        vector file: a cache (.safetensors), GloVe text, word2vec text/binary, fastText .vec or\n"
           "                        .bin model (its n-grams give words outside the vocabulary vectors), all but the\n"
           "                        cache also gzip/bzip2/xz-compressed or in a zip (ARCHIVE.zip:MEMBER)\n"
           "                        (default: $EMBVSATTN_VECTORS, else the GloVe 6B 100d cache fetched by\n"
           "                        scripts/fetch-vectors.sh in ${EMBVSATTN_DATA:-${XDG_CACHE_HOME:-~/.cache}/embvsattn})\n"
           "  --vector-format FMT   read the vectors as FMT instead of detecting it:\n"
           "                        glove | word2vec (= fasttext, vec) | word2vec-binary | cache | fasttext-bin\n"
           "  --limit N             read only the first N words (fastText .bin: words past N are outside the\n"
           "                        vocabulary, with n-gram vectors)\n"
           "  --threads N           parser threads for text vector files (default: one per core, at most 8)\n"
           "  --format FMT          output format: text (default) or json; the main view and compare also html (a\n"
           "                        self-contained interactive page) and svg (a static heatmap for papers)\n"
           "  --no-index            ignore the cache's neighbour lists (embvsattn index): search the matrix\n"
           "  -h, --help            this help (after a command: that command's);  --version  the version\n"
           "  An option's value follows it as its next argument or attached: -k 3, -k3, --top 3, --top=3;\n"
           "  flags may be bundled before it (-qk3). After --, no argument is an option.\n"
           "\nmain view and compare options:\n"
           "  --head SPEC           the attention head: context (the default, built in: learned on WordNet so\n"
           "                        that each word's vector in context predicts the sentence's missing words;\n"
           "                        on vectors other than GloVe 6B 100d the default is identity), mlm (built\n"
           "                        in: learned to fill in a [MASK]ed word), identity (W = I, untrained: it only\n"
           "                        measures similarity inside the sentence), random[:SEED] (Xavier-uniform), or\n"
           "                        a head file\n"
           "                        (.safetensors: w_q, w_k, w_v [d_model, d_k], optional w_o [d_k, d_model])\n"
           "  --dk N                d_k of a random head (default: the vectors' dimension)\n"
           "  --positions none|sinusoidal   add sinusoidal position encodings to the vectors (default: none, or\n"
           "                        what the head file says); --position-scale X scales them (default 0.5)\n"
           "  --causal              a token attends only to itself and the tokens before it\n"
           "  --residual            the contextual vector is the token's own vector plus the head's output, as in a\n"
           "                        transformer layer. Default off (on for a head trained with it, as context), so\n"
           "                        that \"in context\" shows what attention alone computed (the head's output:\n"
           "                        A·V, through W_O when it has one): with it on, neighbours stay near the word.\n"
           "  -k N                  neighbours per list (default 5);  --top N  attention entries per token (3)\n"
           "  --restrict N          neighbours among the N most frequent words only (default: all words; but a\n"
           "                        trained head's contextual vectors are compared with the words it was trained\n"
           "                        to predict, its 30,000 candidates)\n"
           "  -q, --quiet           no legend, and no note when the sentence's first word looks like a\n"
           "                        mistyped command (embvsattn neigbors king: did you mean neighbors?)\n"
           "  --predict             main view: under each token, the trained head's 5 likeliest words (context head:\n"
           "                        the words its vector in context expects to be missing around it; mlm: its\n"
           "                        guess for a blank at the token's position). Needs a trained head\n"
           "  --mask WORD           main view: tokens WORD (e.g. _) are blanks: no vector, never attended to; a\n"
           "                        \"guessed:\" line gives the head's 5 likeliest words for each blank\n"
           "  --context-vectors     with --format json (or --batch): each token's vector in context, as numbers\n"
           "  --map                 with --format svg: the movement map instead of the heatmap (static vectors\n"
           "                        as points, arrows to their vectors in context, neighbours faint, by PCA);\n"
           "                        the HTML page always has it, JSON always its coordinates (key \"map\")\n"
           "  --line-offset N       --batch: number the input's lines from N+1 in error objects, for one part of a\n"
           "                        split input (GNU parallel, Spark: see docs/large-corpora.md)\n"
           "  --heads A,B           the same sentence (or compare's two) under two heads, side by side\n"
           "  --why                 why a weight is high: each logit is the sum of four terms, meaning e\xc2\xb7M\xc2\xb7" "e\n"
           "                        and three with positions (e\xc2\xb7M\xc2\xb7p, p\xc2\xb7M\xc2\xb7" "e, p\xc2\xb7M\xc2\xb7p; M = W_Q\xc2\xb7W_K\xe1\xb5\x80/\xe2\x88\x9a" "d_k). Text:\n"
           "                        a \"why:\" line per token, the weight each attended token would get from\n"
           "                        meaning alone and from position alone; JSON: \"why\", the four n\xc3\x97n terms\n"
           "                        and both weights (the HTML page always has them, with a switch)\n"
           "  --steps               with --format json (or --batch): \"steps\", attention's computation step by\n"
           "                        step: x (+ positions), q, k, v, the scaled scores (their softmax: the\n"
           "                        weights), the weighted sum, the output (and + x with the residual); the\n"
           "                        HTML page always has them\n"
           "  --term TERM           main view, SVG: draw meaning|position (weights from that alone) or a logit term\n"
           "                        ee|ep|pe|pp (signed, in logit units) instead of the weights\n"
           "  --word W              compare: the word to follow (default: every word the sentences share)\n"
           "  -o, --output FILE     write to FILE (atomically) instead of standard output; without --format, the\n"
           "                        format comes from FILE's extension: .html/.htm, .svg, .json, else text\n"
           "  Out-of-vocabulary tokens are shown in place and flagged; their key is masked (never attended to).\n"
           "  A token with nothing to attend to (every key masked: a one-word sentence under a head that never\n"
           "  attends to itself, the first token under --causal with such a head) has no contextual vector: it\n"
           "  is shown as \"nothing to attend to\" (JSON: an empty context_neighbors, \"context_reason\").\n"
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
           "\nword lists and line modes (vector, neighbors, analogy, similarity, doesnt-match):\n"
           "  -                     among the words: the words of standard input, one a line (no limit on their\n"
           "                        number); after --, \"-\" is the word itself (a GloVe word), as -lrb- would be\n"
           "  --words FILE          the words of FILE too, one a line. Lines: a CR before the LF is dropped (with a\n"
           "                        note), empty lines skipped; a line of two words is an error (FILE:LINE)\n"
           "  similarity - | --words FILE   a list of pairs, W1 W2 a line (a third column, e.g. a score, is ignored):\n"
           "                        one cosine a line (nan when a word is out of vocabulary; JSON: one object a line)\n"
           "  analogy - | --words FILE      a list of A B C questions, answered in turn\n"
           "  --stdin               one query a line from standard input (a command's arguments: \"king\", \"man king\n"
           "                        woman\"), each answered as soon as its line is complete and flushed unless the\n"
           "                        next line is already there (a co-process, a FIFO); text answers end with an\n"
           "                        empty line; a bad line gets an error in its place (JSON: {\"line\",\"error\"}), exit 7\n"
           "  -i, --interactive     the same behind a prompt when standard input is a terminal (word2vec's distance,\n"
           "                        fastText's nn), with line editing and history (libedit); Ctrl-D ends\n"
           "\ntrain and eval head options (learned attention heads: see docs/heads.md):\n"
           "  train CORPUS... -o HEAD.safetensors   learns W_Q, W_K, W_V, W_O (and the output bias) over the frozen\n"
           "                        vectors; any UTF-8 text works as a corpus, one sentence per line is best\n"
           "                        (scripts/fetch-corpus.sh makes WordNet's)\n"
           "  --objective context   (the default) each word, as its own query, predicts a word hidden from its\n"
           "                        sentence through its vector in context (own vector + what it gathered);\n"
           "                        --rows N predicting words a sentence (default 3; 0: all), --beta X hide\n"
           "                        rarer words more often (weight rank^X, default 0), --pronoun W weight of the\n"
           "                        antecedent examples: a repeated word made 'it' must be found (0-4, default 0;\n"
           "                        the built-in head: 4)\n"
           "  --objective masked-word   a [MASK] query guesses the hidden word (sampled softmax)\n"
           "  --epochs N            passes over the corpus (default 9; masked-word 4);  --lr X  Adam learning rate\n"
           "                        (default 0.005; masked-word 0.01; decayed linearly to 0);  --dk N  d_k (default\n"
           "                        64);  --seed N  (default 1)\n"
           "  --threads N           threads (default: one per core, at most 8); the head is bit-for-bit the same\n"
           "                        for a seed and a thread count\n"
           "  --positions, --position-scale   the head's positions (default sinusoidal, scale 0.3)\n"
           "  --log FILE            the loss log (default: HEAD.safetensors.log); progress on a terminal\n"
           "  --max-tokens N        read at most N tokens of the corpus (train and eval head)\n"
           "  eval head HEAD CORPUS...   the head's own task on held-out text: top-1/top-10 over its 30,000\n"
           "                        candidates for the trained attention and untrained baselines (identity,\n"
           "                        uniform, random) with the same readout; HEAD: context, mlm or a head file\n"
           "  eval senses [FILE]    WordNet senses told apart in context: for each example sentence of a word, is\n"
           "                        the word's vector in it nearest (cosine) the mean vector of its own sense's\n"
           "                        definition? Rows: static, uniform, others, identity, random, the heads of --head\n"
           "                        SPEC (repeatable, or SPEC,SPEC...; default: context,mlm); accuracy ± cluster\n"
           "                        standard error.\n"
           "                        FILE: default senses.tsv of the data directory (scripts/fetch-corpus.sh)\n"
           "\nindex options (neighbour lists stored in the cache; scripts/fetch-vectors.sh makes them):\n"
           "  index                 computes each of the first --words words' nearest neighbours over the whole\n"
           "                        vocabulary (the same search as neighbors) and stores them in the --vectors\n"
           "                        cache, rewritten atomically; neighbors, the main view and compare then answer\n"
           "                        those words from the lists (same words, same scores) without reading the\n"
           "                        matrix, and search it for any other word, a larger -k, or a --restrict the\n"
           "                        lists cannot answer exactly\n"
           "  --words N             lists for the N most frequent words (default 50000);  -k N  length (default 32)\n"
           "  -o FILE.safetensors   write a new cache instead (required when --vectors is not a cache)\n"
           "\nserve options (a local web server: the page and a JSON API; see docs/serve.md):\n"
           "  serve                 maps the vectors and loads the heads once, prints the URL to open, and answers:\n"
           "                        / the page (type a sentence), /api/view ?s=S, /api/compare ?s1=&s2=,\n"
           "                        /api/neighbors ?w=W, /api/analogy ?a=&b=&c=, /api/heads (GET, or POST with a JSON\n"
           "                        body); parameters are the options' names (k, head, causal, restrict...), answers\n"
           "                        the bytes --format json prints (view, compare: format=html gives the part of\n"
           "                        the page the document draws, which the page swaps in), errors a JSON error\n"
           "                        object with a 4xx status\n"
           "  --port N              TCP port (default 8080; 0: a free one);  --host ADDR  numeric address (default\n"
           "                        127.0.0.1: this machine only; another one warns)\n"
           "  --head SPEC           a head file (or random:SEED) to offer besides context, mlm, identity, random\n"
           "                        (repeatable); a request never names a file\n"
           "  --timeout N           seconds a request may take, slower clients cut off (default 10)\n"
           "  --cache N             answers kept for repeated requests (default 256, 8 MiB at most; 0: none)\n"
           "  SIGINT or SIGTERM stops it (exit 0).\n"
           "\nconvert options:\n"
           "  --to FMT              output format: cache | glove | word2vec | word2vec-binary (default: from OUT's\n"
           "                        extension: .safetensors cache, .txt GloVe text, .vec word2vec text, .bin binary);\n"
           "                        a fastText .bin model's cache keeps its n-grams (vectors outside the vocabulary)\n"
           "\nexit codes: 0 ok; 1 nothing could be answered (every word out of vocabulary); 2 usage error;\n"
           "  3 input missing or unreadable (also: no vectors fetched yet); 4 input malformed; 5 output could not be\n"
           "  written; 6 out of memory or over a limit (4096 tokens, 1 MiB per sentence); %d --batch, --stdin, -i:\n"
           "  some lines failed (each has an error object or message).\n"
           "\nexamples:\n"
           "  embvsattn \"France is a country, it is in Europe\"\n"
           "  embvsattn compare \"I sat on the bank of the river\" \"the bank raised interest rates\"\n"
           "  embvsattn -o france.html \"France is a country, it is in Europe\"   (open it in a browser)\n"
           "  embvsattn vector king\n"
           "  embvsattn neighbors king queen -k 5\n"
           "  embvsattn neighbors -k 5 - < words.txt                (one word a line; --words words.txt)\n"
           "  embvsattn similarity --words pairs.txt             (one cosine a line)\n"
           "  embvsattn neighbors -i                            (a prompt; --stdin: a co-process)\n"
           "  embvsattn analogy man king woman                  (king - man + woman)\n"
           "  embvsattn eval analogies questions-words.txt --restrict 30000\n"
           "  embvsattn info\n"
           "  embvsattn index --words 100000\n"
           "  embvsattn serve                                   (then open http://127.0.0.1:8080/)\n"
           "  embvsattn convert glove.6B.100d.txt glove.safetensors\n",
           CLI_EXIT_BATCH_FAILED);
}

/* Where an option means something particular for some commands, its line there. */
static const struct {
    const char *commands, *option, *help;
} help_for[] = {
    {"show compare", "-k", "neighbours per list (default 5)"},
    {"neighbors analogy", "-k", "answers per word (default 10)"},
    {"index", "-k", "neighbours stored per word (default 32)"},
    {"index", "--words", "(N, a count) lists for the N most frequent words (default 50000)"},
    {"similarity", "--words", "pairs from FILE, W1 W2 a line: one cosine a line"},
    {"analogy", "--words", "questions from FILE, A B C a line, answered in turn"},
    {"show compare", "--restrict", "neighbours among the N most frequent words; default:"},
    {"eval", "--restrict", "candidates: the N most frequent words (default 300000)"},
    {"show compare", "--format", "output: text (default), json, html or svg"},
    {"convert index", "--format", "no effect: the command writes a vector file"},
    {"train", "--threads", "threads (default: cores, max 8; the head depends on it)"},
    {"eval", "--threads", "worker threads (default: cores, max 8)"},
    {"train", "--dk", "d_k of the head (default 64)"},
    {"train", "--positions", "the head's position encodings (default sinusoidal)"},
    {"train", "--position-scale", "their scale (default 0.3)"},
    {"train", "-o", "the head file to write (.safetensors); required"},
    {"index", "-o", "write a new cache (.safetensors), not into --vectors"},
    {"eval", "--max-tokens", "eval head: read at most N tokens of the corpus"},
    {"eval", "--head", "eval senses: heads, repeatable or A,B (context,mlm)"},
};

/* A continuation line for help lines that need two. */
static const struct {
    const char *commands, *option, *more;
} help_more[] = {
    {"show compare", "--restrict", "all (a trained head's in context: its 30000 candidates)"},
};

static void option_line(const cli_option *op, const char *cmd)
{
    char form[64];
    const char *help = op->help, *more = NULL;
    for (size_t k = 0; k < sizeof help_for / sizeof help_for[0]; k++)
        if (cli_word_in_list(help_for[k].commands, cmd) &&
            (strcmp(help_for[k].option, op->name) == 0 || (op->alias && strcmp(help_for[k].option, op->alias) == 0)))
            help = help_for[k].help;
    for (size_t k = 0; k < sizeof help_more / sizeof help_more[0]; k++)
        if (cli_word_in_list(help_more[k].commands, cmd) && strcmp(help_more[k].option, op->name) == 0)
            more = help_more[k].more;
    snprintf(form, sizeof form, "%s%s%s%s%s", op->alias ? op->alias : "", op->alias ? ", " : "", op->name,
             op->arg ? " " : "", op->arg ? op->arg : "");
    if (strlen(form) > 21)
        printf("  %s\n  %-21s %s\n", form, "", help);
    else
        printf("  %-21s %s\n", form, help);
    if (more)
        printf("  %-21s %s\n", "", more);
}

/* Prints lines of text ('\n'-separated), each after prefix (first) or indent (the others). */
static void lines(const char *text, const char *prefix, const char *indent)
{
    for (const char *p = text; *p;) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        printf("%s%.*s\n", p == text ? prefix : indent, (int)n, p);
        p += n + (e != NULL);
    }
}

void cli_help_command(const cli_command *c)
{
    if (c->usage)
        lines(c->usage, "usage: embvsattn ", "       embvsattn ");
    else
        printf("usage: embvsattn %s [OPTIONS]%s%s\n", c->name, *c->args ? " " : "", c->args);
    printf("%s\n", c->summary);
    int any = 0;
    for (size_t k = 0; k < cli_n_options; k++)
        if (cli_options[k].commands && cli_word_in_list(cli_options[k].commands, c->name)) {
            if (!any++)
                printf("\noptions:\n");
            option_line(&cli_options[k], c->name);
        }
    printf("\nglobal options (every command; anywhere on the line):\n");
    for (size_t k = 0; k < cli_n_options; k++)
        if (!cli_options[k].commands)
            option_line(&cli_options[k], c->name);
    printf("  %-21s %s\n", "-h, --help", "this help (embvsattn --help: every command)");
    printf("  An option's value follows it (-k 3, --top 3) or is attached (-k3, --top=3).\n");
    if (c->examples) {
        printf("\nexample%s:\n", strchr(c->examples, '\n') ? "s" : "");
        lines(c->examples, "  ", "  ");
    }
}
