/* cmd_remote.c -- `multiquote quote --carriers FILE`: remote carriers from
 * the command line.
 *
 * Loads the carrier registry (src/remote), checks the request's carrier
 * ids against it, rates the local carriers it lists, and asks its remote
 * carriers through the same fan-out the server uses: this thread waits on
 * a condition variable until the fan-out thread has every answer (or the
 * deadline passed). The results are then sorted with the local ones and
 * printed like any comparison.
 */
#include "cli.h"
#include "remote.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct waiter {
    const mq_remote_registry *reg;
    const mq_engine *e;
    const mq_input *in;
    mq_arena *a;
    mq_result *res;
    int n;
    pthread_mutex_t lock;
    pthread_cond_t done_cv;
    bool done;
} waiter;

static bool on_answer(void *arg, const mq_remote_answer *ans)
{
    waiter *w = arg;
    const mq_remote_carrier *c = &w->reg->carriers[ans->carrier];
    bool ok = mq_remote_answer_result(ans, w->in, c, w->e, w->a, &w->res[w->n++]);
    /* the result gives the shopper's reason; the operator running the
     * command sees what exactly failed (curl's error, the field an answer
     * broke), as the server's log does */
    const char *detail = mq_remote_answer_detail(ans);
    if (detail)
        fprintf(stderr, "multiquote: %s (%s): %s\n", c->name, c->id, detail);
    return ok;
}

static void on_done(void *arg)
{
    waiter *w = arg;
    pthread_mutex_lock(&w->lock);
    w->done = true;
    pthread_cond_signal(&w->done_cv);
    pthread_mutex_unlock(&w->lock);
}

/* Asks the registry's remote carriers for this request; their results are
 * appended to res (which has room for every carrier of the registry).
 * False after saying why. */
static bool ask_remote(const mq_remote_registry *reg, const mq_engine *e, const char *text,
                       size_t len, const mq_input *in, mq_arena *a, mq_result *res, int *n)
{
    int *asked = mq_arena_alloc(a, sizeof(int) * (size_t)reg->ncarriers);
    if (!asked) {
        fprintf(stderr, "multiquote: could not ask the carriers (out of memory)\n");
        return false;
    }
    int nasked =
        mq_remote_select(reg, in->line, in->carriers, in->ncarriers, asked, reg->ncarriers);
    if (nasked == 0)
        return true;
    char err[256];
    mq_remote *r = mq_remote_start(reg, NULL, NULL, err, sizeof err);
    if (!r) {
        fprintf(stderr, "multiquote: %s\n", err);
        return false;
    }
    waiter w = {.reg = reg, .e = e, .in = in, .a = a, .res = res, .n = *n};
    pthread_mutex_init(&w.lock, NULL);
    pthread_cond_init(&w.done_cv, NULL);
    size_t asking_len = 0;
    char *asking = mq_remote_request(text, len, &asking_len); /* VINs in capitals */
    bool ok = asking && mq_remote_ask(r, asking, asking_len, asked, nasked, reg->deadline_ms,
                                      on_answer, on_done, &w);
    pthread_mutex_lock(&w.lock);
    while (ok && !w.done)
        pthread_cond_wait(&w.done_cv, &w.lock);
    pthread_mutex_unlock(&w.lock);
    mq_remote_stop(r);
    free(asking);
    pthread_cond_destroy(&w.done_cv);
    pthread_mutex_destroy(&w.lock);
    *n = w.n;
    if (!ok)
        fprintf(stderr, "multiquote: could not ask the carriers (out of memory)\n");
    return ok;
}

int cli_carriers_known(const char *file, const mq_remote_registry *reg, const mq_engine *e,
                       const mq_input *in, const mq_acord *x, mq_arena *a)
{
    int rc = CLI_OK;
    for (int i = 0; i < in->ncarriers; i++) {
        if (mq_remote_carrier_known(reg, e, in->carriers[i]))
            continue;
        char q[160];
        mq_req_errors one = {.count = 1};
        one.items[0].path = mq_arena_printf(a, "carriers[%d]", i);
        one.items[0].message =
            mq_arena_printf(a, "no carrier with id %s", mq_req_quoted(in->carriers[i], q));
        if (x && one.items[0].path) /* "carriers[1]" as the XPath it was read from */
            mq_acord_xpaths(x, &one, a);
        const char *text =
            one.items[0].path && one.items[0].message ? mq_req_error_text(&one.items[0], a) : NULL;
        if (!text) {
            fprintf(stderr, "multiquote: out of memory\n");
            return CLI_FAIL;
        }
        fprintf(stderr, "%s: invalid request: %s\n", file, text);
        rc = CLI_USAGE;
    }
    return rc;
}

int cli_quote_remote(const cli_opts *o, const char *request, const mq_acord *x, const mq_engine *e,
                     mq_input *in, mq_arena *a, mq_result **res, int *n)
{
    if (!request && strcmp(o->file, "-") == 0) {
        fprintf(stderr, "multiquote quote: --carriers needs a request file, not stdin\n");
        return CLI_USAGE;
    }
    char err[512];
    mq_remote_registry *reg = mq_remote_registry_load(o->carriers_file, err, sizeof err);
    if (!reg || !mq_remote_registry_check(reg, e, err, sizeof err)) {
        fprintf(stderr, "multiquote: %s\n", err);
        mq_remote_registry_free(reg);
        return CLI_FAIL;
    }
    int rc = cli_carriers_known(o->file, reg, e, in, x, a);
    if (rc != CLI_OK) {
        mq_remote_registry_free(reg);
        return rc;
    }
    rc = CLI_FAIL;
    size_t len = request ? strlen(request) : 0;
    char *text = request ? strdup(request) : cli_read_input(o->file, 1 << 20, &len);
    mq_result *local;
    int nlocal;
    mq_rate_opts opts = {.rate_here = mq_remote_rate_here,
                         .asked_elsewhere = mq_remote_asked_elsewhere,
                         .carrier_arg = reg};
    /* cli_read_input and ask_remote say why they failed; the rest is memory */
    int not_quoting = -1;
    if (text && mq_rate_all(e, in, &opts, a, &local, &nlocal) &&
        (*res = mq_arena_alloc(a, sizeof(mq_result) * (size_t)(nlocal + reg->ncarriers + 1))) &&
        (not_quoting = mq_remote_not_quoting(reg, in, a, *res + nlocal)) >= 0) {
        /* as the server answers: local results, the remote carriers named
         * that do not quote the line, then those asked */
        memcpy(*res, local, sizeof(mq_result) * (size_t)nlocal);
        *n = nlocal + not_quoting;
        if (ask_remote(reg, e, text, len, in, a, *res, n)) {
            mq_results_sort(*res, *n);
            rc = CLI_OK;
        }
    } else if (text || request) {
        fprintf(stderr, "multiquote: could not ask the carriers (out of memory)\n");
    }
    free(text);
    mq_remote_registry_free(reg);
    return rc;
}
