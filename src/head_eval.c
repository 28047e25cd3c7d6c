/* head_eval — the trained pattern against untrained ones on held-out text (head_eval.h). */
#include "head_eval.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "head_context.h"
#include "parallel.h"

#define EVAL_BATCH_TOKENS 4096
#define EVAL_TILE 128 /* targets per tile of full-softmax scores (128 × 30,000 floats) */

/* NLTK's English stop-word list (nltk.corpus.stopwords.words('english'), 179 words). */
static const char *const STOP_WORDS[] = {
    "i", "me", "my", "myself", "we", "our", "ours", "ourselves", "you", "you're", "you've", "you'll", "you'd", "your",
    "yours", "yourself", "yourselves", "he", "him", "his", "himself", "she", "she's", "her", "hers", "herself", "it",
    "it's", "its", "itself", "they", "them", "their", "theirs", "themselves", "what", "which", "who", "whom", "this",
    "that", "that'll", "these", "those", "am", "is", "are", "was", "were", "be", "been", "being", "have", "has",
    "had", "having", "do", "does", "did", "doing", "a", "an", "the", "and", "but", "if", "or", "because", "as",
    "until", "while", "of", "at", "by", "for", "with", "about", "against", "between", "into", "through", "during",
    "before", "after", "above", "below", "to", "from", "up", "down", "in", "out", "on", "off", "over", "under",
    "again", "further", "then", "once", "here", "there", "when", "where", "why", "how", "all", "any", "both", "each",
    "few", "more", "most", "other", "some", "such", "no", "nor", "not", "only", "own", "same", "so", "than", "too",
    "very", "s", "t", "can", "will", "just", "don", "don't", "should", "should've", "now", "d", "ll", "m", "o", "re",
    "ve", "y", "ain", "aren", "aren't", "couldn", "couldn't", "didn", "didn't", "doesn", "doesn't", "hadn",
    "hadn't", "hasn", "hasn't", "haven", "haven't", "isn", "isn't", "ma", "mightn", "mightn't", "mustn", "mustn't",
    "needn", "needn't", "shan", "shan't", "shouldn", "shouldn't", "wasn", "wasn't", "weren", "weren't", "won",
    "won't", "wouldn", "wouldn't"};

int head_is_content_word(const char *w, size_t n)
{
    int letter = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)w[i];
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch >= 0x80)
            letter = 1;
    }
    if (!letter)
        return 0;
    for (size_t k = 0; k < sizeof STOP_WORDS / sizeof STOP_WORDS[0]; k++) {
        const char *sw = STOP_WORDS[k];
        size_t i = 0;
        while (i < n && sw[i] && (char)((w[i] >= 'A' && w[i] <= 'Z') ? w[i] + 32 : w[i]) == sw[i])
            i++;
        if (i == n && sw[i] == '\0')
            return 0;
    }
    return 1;
}

typedef struct {
    const float *G;      /* (rows, nc) scores of targets [c0, c0 + rows) of the batch: s·z_i·E[c] */
    const float *bias;   /* (nc) */
    const int32_t *word; /* (n_tgt) the word each target should predict */
    size_t c0, nc;
    int32_t *rank;       /* (n_tgt) */
} rank_ctx;

/* The rank of each target's word among the candidates: how many score higher (or equal with a lower row). */
static void rank_rows(void *vc, size_t lo, size_t hi, int tid)
{
    (void)tid;
    rank_ctx *c = vc;
    const float *bias = c->bias;
    for (size_t i = lo; i < hi; i++) {
        const float *g = c->G + i * c->nc;
        int32_t t = c->word[c->c0 + i];
        float lt = g[t] + bias[t];
        int32_t r = 0;
        for (size_t k = 0; k < c->nc; k++) {
            float l = g[k] + bias[k];
            r += l > lt || (l == lt && (int32_t)k < t);
        }
        c->rank[c->c0 + i] = r;
    }
}

double head_eval_se_top10(const head_eval_counts *e, int content)
{
    size_t n = content ? e->n_content : e->n, c = content ? e->clusters_content : e->clusters;
    if (n == 0 || c < 2)
        return 0.0;
    double b = (double)(content ? e->top10_only_trained_content : e->top10_only_trained);
    double o = (double)(content ? e->top10_only_this_content : e->top10_only_this);
    double d = (b - o) / (double)n;
    double dd = content ? e->cl_dd_content : e->cl_dd, dn = content ? e->cl_dn_content : e->cl_dn,
           nn = content ? e->cl_nn_content : e->cl_nn;
    double ss = dd - 2 * d * dn + d * d * nn;
    return ss > 0 ? sqrt((double)c / (double)(c - 1) * ss) / (double)n : 0.0;
}

/* A sentence's hidden word for the context task's evaluation: chosen by a hash of its rows (FNV-1a), so every
 * run and every pattern hides the same word. */
static double sentence_u01(const int32_t *row, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t j = 0; j < n; j++)
        h = (h ^ (uint64_t)(uint32_t)row[j]) * 0x100000001b3ull;
    return (double)(h >> 11) * 0x1.0p-53;
}

ev_status head_evaluate(const store *s, const attn_head *p, const corpus *c, int threads, head_eval_result *out,
                        ev_error *err)
{
    memset(out, 0, sizeof *out);
    double t_start = ev_seconds();
    int context = p->task == ATTN_TASK_CONTEXT;
    size_t nc = p->candidates, d = p->d_model, max_tok = EVAL_BATCH_TOKENS + HEAD_MAX_LEN;
    if (store_dim(s) != d)
        return ev_fail(err, EV_ERR_FORMAT, "the head is for vectors of dimension %zu, the vectors have dimension %zu",
                       d, store_dim(s));
    if (nc > store_size(s))
        return ev_fail(err, EV_ERR_FORMAT, "the head has %zu candidates, the vectors only %zu words", nc,
                       store_size(s));
    head_work *w = NULL;
    ctx_work *cw = NULL;
    attn_head *rnd = NULL;
    unsigned char *content = malloc(nc), *btarget = malloc(max_tok);
    size_t *bstart = malloc((EVAL_BATCH_TOKENS + 2) * sizeof *bstart);
    int32_t *mq = malloc(max_tok * sizeof *mq); /* masked-word: every target's query is [MASK] */
    int32_t *hidden = malloc(max_tok * sizeof *hidden), *word = malloc(max_tok * sizeof *word);
    size_t *sent_of = malloc(max_tok * sizeof *sent_of);   /* the batch's token → its sentence */
    double *cl = malloc(max_tok * 4 * HEAD_PATTERNS * sizeof *cl); /* per sentence and pattern: D, n, D, n content */
    float *G = malloc(EVAL_TILE * nc * sizeof *G); /* (EVAL_TILE, nc) */
    int32_t *rank[HEAD_PATTERNS] = {NULL};        /* (max_tok) by pattern: the rank of each target's word */
    ev_status st = EV_OK;
    int saved_threads = openblas_get_num_threads();
    openblas_set_num_threads(threads < 1 ? 1 : threads);
    for (int k = 0; k < HEAD_PATTERNS; k++)
        rank[k] = malloc(max_tok * sizeof *rank[k]);
    if (!content || !btarget || !bstart || !mq || !hidden || !word || !sent_of || !cl || !G || !rank[0] || !rank[1] ||
        !rank[2] || !rank[3]) {
        st = ev_fail(err, EV_ERR_NOMEM, "out of memory for the evaluation");
        goto done;
    }
    if ((st = attn_head_random(d, p->d_k, ATTN_DEFAULT_SEED, &rnd, err)) != EV_OK)
        goto done;
    if ((st = context ? ctx_work_new(s, p, max_tok, threads, &cw, err)
                      : head_work_new(s, p, max_tok, 0, threads, &w, err)) != EV_OK)
        goto done;
    for (size_t r = 0; r < nc; r++) {
        size_t len;
        const char *wd = store_word(s, r, &len);
        content[r] = (unsigned char)head_is_content_word(wd, len);
    }
    for (size_t t = 0; t < max_tok; t++)
        mq[t] = HEAD_QUERY_MASK;
    const float *E = store_vectors(s);
    float alpha = context ? p->train_scale[0] : 1.0f;
    for (size_t si = 0; si < c->n_sent;) {
        size_t ns = 0, T0 = c->start[si];
        bstart[0] = 0;
        while (si < c->n_sent && (ns == 0 || c->start[si + 1] - T0 <= EVAL_BATCH_TOKENS)) {
            bstart[++ns] = c->start[si + 1] - T0;
            si++;
        }
        size_t T = bstart[ns];
        const int32_t *brow = c->row + T0;
        for (size_t sn = 0; sn < ns; sn++)
            for (size_t t = bstart[sn]; t < bstart[sn + 1]; t++)
                sent_of[t] = sn;
        memset(cl, 0, ns * 4 * HEAD_PATTERNS * sizeof *cl);
        for (size_t t = 0; t < T; t++)
            if (brow[t] >= (int32_t)nc)
                out->skipped++;
        if (context) /* each sentence hides one word; all its other known words with a key predict it */
            for (size_t sn = 0; sn < ns; sn++) {
                size_t t0 = bstart[sn], n = bstart[sn + 1] - t0;
                hidden[sn] = ctx_choose(brow + t0, n, nc, CTX_DEFAULT_SKIP_TOP, 0, sentence_u01(brow + t0, n), 0, NULL,
                                        btarget + t0);
            }
        else
            for (size_t t = 0; t < T; t++)
                btarget[t] = brow[t] >= 0 && (size_t)brow[t] < nc;
        head_batch b = {ns, bstart, brow, mq, btarget, 0, NULL, NULL};
        ctx_batch cb = {ns, bstart, brow, hidden, btarget};
        size_t n_tgt = 0;
        const size_t *tok = NULL; /* the targets' token indices in the batch */
        for (int k = 0; k < HEAD_PATTERNS; k++) {
            const float *Zt;
            if (context) {
                if ((st = ctx_forward(cw, &cb, (head_pattern)k, rnd->w_q, rnd->w_k, &n_tgt, err)) != EV_OK)
                    goto done;
                Zt = ctx_work_outputs(cw);
                memcpy(word, ctx_work_targets(cw), n_tgt * sizeof *word);
                tok = ctx_work_rows(cw);
            } else {
                if ((st = head_forward(w, &b, (head_pattern)k, rnd->w_q, rnd->w_k, &n_tgt, err)) != EV_OK)
                    goto done;
                Zt = head_work_outputs(w);
                tok = head_work_targets(w);
                for (size_t i = 0; i < n_tgt; i++)
                    word[i] = brow[tok[i]];
            }
            for (size_t c0 = 0; c0 < n_tgt; c0 += EVAL_TILE) {
                size_t rows = n_tgt - c0 < EVAL_TILE ? n_tgt - c0 : EVAL_TILE;
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)nc, (int)d, alpha, Zt + c0 * d,
                            (int)d, E, (int)d, 0.0f, G, (int)nc);
                rank_ctx rc = {G, p->train_bias, word, c0, nc, rank[k]};
                parallel_for(threads, rows, rank_rows, &rc);
            }
        }
        for (size_t i = 0; i < n_tgt; i++) {
            int cwd = content[word[i]];
            int hit_tr = rank[HEAD_PATTERN_TRAINED][i] < 10;
            for (int k = 0; k < HEAD_PATTERNS; k++) {
                head_eval_counts *e = &out->k[k];
                int32_t r = rank[k][i];
                double *q = cl + (sent_of[tok[i]] * HEAD_PATTERNS + (size_t)k) * 4;
                double dif = (double)hit_tr - (double)(r < 10);
                q[0] += dif;
                q[1] += 1;
                if (cwd) {
                    q[2] += dif;
                    q[3] += 1;
                }
                e->n++;
                e->top1 += r < 1;
                e->top10 += r < 10;
                e->top10_only_trained += hit_tr && r >= 10;
                e->top10_only_this += !hit_tr && r < 10;
                if (cwd) {
                    e->n_content++;
                    e->top1_content += r < 1;
                    e->top10_content += r < 10;
                    e->top10_only_trained_content += hit_tr && r >= 10;
                    e->top10_only_this_content += !hit_tr && r < 10;
                }
            }
        }
        for (size_t sn = 0; sn < ns; sn++) /* the sentences' clusters, in order */
            for (int k = 0; k < HEAD_PATTERNS; k++) {
                head_eval_counts *e = &out->k[k];
                const double *q = cl + (sn * HEAD_PATTERNS + (size_t)k) * 4;
                if (q[1] > 0) {
                    e->cl_dd += q[0] * q[0];
                    e->cl_dn += q[0] * q[1];
                    e->cl_nn += q[1] * q[1];
                    e->clusters++;
                }
                if (q[3] > 0) {
                    e->cl_dd_content += q[2] * q[2];
                    e->cl_dn_content += q[2] * q[3];
                    e->cl_nn_content += q[3] * q[3];
                    e->clusters_content++;
                }
            }
    }
    out->n_cand = nc;
    out->seconds = ev_seconds() - t_start;
    if (out->k[0].n == 0)
        st = ev_fail(err, EV_ERR_NOTFOUND, "no position to evaluate: no word of the corpus is among the %zu "
                     "candidates", nc);
done:
    openblas_set_num_threads(saved_threads);
    head_work_free(w);
    ctx_work_free(cw);
    attn_head_free(rnd);
    free(content);
    free(btarget);
    free(bstart);
    free(mq);
    free(hidden);
    free(word);
    free(sent_of);
    free(cl);
    free(G);
    for (int k = 0; k < HEAD_PATTERNS; k++)
        free(rank[k]);
    return st;
}
