/* cmd_quote.c -- `multiquote quote` and `multiquote explain`.
 *
 * Both parse the request, load the plans and rate; quote prints every
 * carrier's result as a sorted comparison table, then the savings tips of
 * the cheapest carriers (or the contract JSON with "tips", as the API
 * answers), and explain prints one carrier's worksheet step by step. The
 * arena holds the request, the results, the tips and the worksheet, and is
 * freed once at the end.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

typedef struct colors {
    const char *bold, *dim, *green, *yellow, *red, *off;
} colors;

static colors palette(bool on)
{
    if (!on)
        return (colors){"", "", "", "", "", ""};
    return (colors){"\033[1m", "\033[2m", "\033[32m", "\033[33m", "\033[31m", "\033[0m"};
}

/* The response JSON with "tips" last, as POST /v1/quotes answers. */
static int print_json(const mq_engine *e, const mq_input *in, const mq_result *res, int n,
                      mq_arena *a)
{
    mq_tip_minimums mins;
    json_t *doc = mq_resp_build(in, res, n, &(mq_resp_meta){0});
    json_t *tips = doc ? mq_resp_tips(e, in, res, n, mq_state_tip_minimums(in, &mins), a) : NULL;
    char *text =
        tips && json_object_set_new(doc, "tips", tips) == 0 ? mq_resp_dump(doc, true) : NULL;
    json_decref(doc);
    if (!text) {
        fprintf(stderr, "multiquote: out of memory\n");
        return CLI_FAIL;
    }
    puts(text);
    free(text);
    return CLI_OK;
}

static void print_coverages(const mq_input *in, const mq_result *r, const colors *c)
{
    const mq_line_def *l = mq_line_get(in->line);
    int32_t unit = -1;
    for (int i = 0; i < r->ncoverages; i++) {
        const mq_cov_premium *cp = &r->coverages[i];
        if (cp->unit != unit) {
            unit = cp->unit;
            printf("%s     %s%-4s", i ? "\n" : "", c->dim,
                   l->unit == MQ_ENT_POLICY ? "" : in->ids[l->unit][unit]);
        }
        printf("  %s ", l->coverages[cp->coverage].code);
        cli_print_money(stdout, cp->cents, 0);
    }
    if (r->nfees) {
        printf("\n     fees");
        for (int i = 0; i < r->nfees; i++) {
            printf("  %s ", r->fees[i].name);
            cli_print_money(stdout, r->fees[i].cents, 0);
        }
    }
    if (r->minimum_applied)
        printf("\n     minimum premium applied");
    printf("%s\n", c->off);
}

/* Health: the plan and its tax credit (with its note when it is not the
 * household's, `shared`: a catastrophic plan's); term life: the class
 * assumed. */
static void print_line_extras(const mq_result *r, const char *shared, const colors *c)
{
    if (r->health_class)
        printf("     %sclass assumed: %s%s\n", c->dim, r->health_class, c->off);
    if (r->metal < 0)
        return;
    printf("     %s%s (%s)  gross ", c->dim, r->plan_name ? r->plan_name : "",
           mq_symbol_name(MQ_DOM_METAL, r->metal));
    cli_print_money(stdout, r->gross_cents, 0);
    printf("  tax credit ");
    cli_print_money(stdout, r->credit_cents, 0);
    printf("  net ");
    cli_print_money(stdout, r->net_cents, 0);
    printf("  deductible ");
    cli_print_money(stdout, r->deductible_cents, 0);
    printf("  out-of-pocket max ");
    cli_print_money(stdout, r->out_of_pocket_max_cents, 0);
    printf("%s\n", c->off);
    if (r->credit_note && (!shared || strcmp(r->credit_note, shared) != 0))
        printf("     %stax credit: %s%s\n", c->dim, r->credit_note, c->off);
}

/* The tax credit's note most health results share (the household's), or
 * NULL: said once under the table rather than under every plan. */
static const char *shared_credit_note(const mq_result *res, int n)
{
    for (int i = 0; i < n; i++)
        if (res[i].metal >= 0 && res[i].credit_note && !strstr(res[i].credit_note, "catastrophic"))
            return res[i].credit_note;
    return NULL;
}

/* The result of the plan the tax credit's benchmark was (every result
 * shares one benchmark), so that the table can name it; NULL when no
 * benchmark was chosen or its plan is not among the results. */
static const mq_result *benchmark_result(const mq_result *res, int n)
{
    const mq_benchmark *b = NULL;
    for (int i = 0; i < n && !b; i++)
        b = res[i].benchmark;
    if (!b || !b->plan)
        return NULL;
    for (int i = 0; i < n; i++)
        if (res[i].plan == b->plan && res[i].status == MQ_QUOTED)
            return &res[i];
    return NULL;
}

static void print_table(const mq_input *in, const mq_result *res, int n, const colors *c);

/* The plan r was rated with, as the response's "plan" names it: a local
 * plan's id and version, or a remote carrier's own (r->plan is NULL then).
 * False when there is none (no plan for the request, a timeout...). */
static bool result_plan(const mq_result *r, mq_plan_info *pi)
{
    *pi = (mq_plan_info){.plan_id = r->remote_plan_id, .version = r->remote_plan_version};
    if (r->plan)
        mq_plan_get_info(r->plan, pi);
    return pi->plan_id != NULL;
}

/* "Ways to save": each tip under its carrier, with the saving and the new
 * total (tips come grouped by carrier, cheapest first). */
static void print_tips(const mq_result *res, int n, const mq_tip_list *tips, const colors *c)
{
    if (tips->count == 0)
        return;
    printf("\n%sWays to save%s\n", c->bold, c->off);
    const char *carrier = NULL;
    for (int i = 0; i < tips->count; i++) {
        const mq_tip *t = &tips->items[i];
        if (!carrier || strcmp(carrier, t->carrier) != 0) {
            carrier = t->carrier;
            const char *name = carrier;
            for (int k = 0; k < n; k++)
                if (strcmp(res[k].carrier_id, carrier) == 0)
                    name = res[k].carrier_name;
            printf("  %s\n", name);
        }
        printf("     %s: %ssaves ", t->change, c->green);
        cli_print_money(stdout, t->saving_cents, 0);
        printf("%s, new total ", c->off);
        cli_print_money(stdout, t->new_total_cents, 0);
        printf("\n");
    }
}

void cli_print_results(const cli_opts *o, const mq_input *in, const mq_result *res, int n)
{
    colors c = palette(o->color);
    print_table(in, res, n, &c);
}

static void print_table(const mq_input *in, const mq_result *res, int n, const colors *c)
{
    /* totals are for each carrier's own term (6 or 12 months); monthly compares them */
    const mq_line_def *l = mq_line_get(in->line);
    char day[11];
    mq_date_format(in->effective_date, day);
    printf("%s%s quotes, effective %s, %s%s", c->bold, l->words, day,
           mq_symbol_name(MQ_DOM_STATE, in->state), c->off);
    for (int k = 1; k < MQ_ENT_COUNT; k++)
        if (l->collection_names[k] && l->parent[k] == MQ_ENT_POLICY) {
            /* "1 driver", "2 drivers": every collection's name is a plural in -s */
            const char *name = l->collection_names[k];
            int len = (int)strlen(name) - (in->count[k] == 1);
            printf(", %d %.*s", in->count[k], len, name);
        }
    int w = 7;
    for (int i = 0; i < n; i++)
        if ((int)strlen(res[i].carrier_name) > w)
            w = (int)strlen(res[i].carrier_name);
    printf("\n\n%s  #  %-*s %-6s %12s %10s  %s%s\n", c->bold, w, "Carrier", "Rating", "Total",
           "Monthly", "Plan (term)", c->off);
    int rank = 0;
    const char *credit = shared_credit_note(res, n);
    for (int i = 0; i < n; i++) {
        const mq_result *r = &res[i];
        if (r->status != MQ_QUOTED)
            continue;
        const char *hl = rank == 0 ? c->green : "";
        printf("%s%3d  %-*s %-6s ", hl, ++rank, w, r->carrier_name, r->carrier_rating);
        cli_print_money(stdout, r->total_cents, 12);
        int64_t monthly = (r->total_cents * 2 / r->term_months + 1) / 2;
        cli_print_money(stdout, monthly, 10);
        mq_plan_info pi;
        if (result_plan(r, &pi))
            printf("  %s %s", pi.plan_id, pi.version);
        printf(" (%d mo%s)%s\n", r->term_months, r->plan ? "" : ", remote carrier", c->off);
        print_coverages(in, r, c);
        print_line_extras(r, credit, c);
        for (int k = 0; k < r->nnotes; k++)
            printf("     %snote: %s%s\n", c->yellow, r->notes[k], c->off);
    }
    if (rank == 0)
        printf("     no carrier quoted this request\n");
    if (credit) {
        printf("\n%sTax credit:%s %s\n", c->bold, c->off, credit);
        const mq_result *b = benchmark_result(res, n);
        mq_plan_info pi;
        if (b && result_plan(b, &pi))
            printf("  the benchmark plan: %s, %s (%s %s)\n", b->carrier_name,
                   b->plan_name ? b->plan_name : pi.plan_id, pi.plan_id, pi.version);
    }
    bool header = false;
    for (int i = 0; i < n; i++) {
        const mq_result *r = &res[i];
        if (r->status == MQ_QUOTED)
            continue;
        if (!header) {
            printf("\n%sNot quoted%s\n", c->bold, c->off);
            header = true;
        }
        const char *col = r->status == MQ_DECLINED ? c->red : c->yellow;
        printf("     %-*s %s%-11s%s %s\n", w, r->carrier_name, col, mq_status_name(r->status),
               c->off, r->nreasons ? r->reasons[0] : "");
    }
}

int cli_quote(const cli_opts *o)
{
    if (!o->file) {
        fprintf(stderr, "multiquote quote: name a request file, or - for stdin\n");
        return CLI_USAGE;
    }
    bool acord_out = o->format && strcmp(o->format, "acord") == 0;
    if (o->format && !acord_out && strcmp(o->format, "json") != 0) {
        fprintf(stderr, "multiquote quote: --format is acord or json, not \"%s\"\n", o->format);
        return CLI_USAGE;
    }
    if (acord_out && o->json) {
        fprintf(stderr, "multiquote quote: --json and --format acord are two outputs; give one\n");
        return CLI_USAGE;
    }
    if (!o->acord && strcmp(o->file, "-") != 0 && cli_is_bundle(o->file))
        return cli_quote_bundle(o);
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_input in;
    mq_acord *x = NULL; /* an ACORD request (--acord) */
    int rc = o->acord ? cli_parse_acord(o->file, &a, &in, &x) : cli_parse_request(o->file, &a, &in);
    mq_engine *e = rc == CLI_OK ? cli_load_engine(o->plans) : NULL;
    if (rc == CLI_OK && !e)
        rc = CLI_FAIL;
    mq_result *res = NULL;
    int n = 0;
    if (rc == CLI_OK && !o->carriers_file)
        rc = cli_carriers_known(o->file, NULL, e, &in, x,
                                &a); /* with --carriers, the registry's too */
    if (rc == CLI_OK && o->carriers_file) {
        /* an ACORD request is sent to the remote carriers as the contract's
         * JSON it was mapped to, never as XML */
        char *mapped = x ? json_dumps(mq_acord_json(x), JSON_COMPACT) : NULL;
        rc = x && !mapped ? CLI_FAIL : cli_quote_remote(o, mapped, x, e, &in, &a, &res, &n);
        if (x && !mapped)
            fprintf(stderr, "multiquote: out of memory\n");
        free(mapped);
    } else if (rc == CLI_OK && !mq_rate_all(e, &in, &(mq_rate_opts){0}, &a, &res, &n)) {
        fprintf(stderr, "multiquote: out of memory\n");
        rc = CLI_FAIL;
    }
    if (rc == CLI_OK) {
        colors c = palette(o->color);
        mq_tip_minimums mins;
        mq_tip_list tips;
        if (acord_out)
            rc = cli_print_acord(&in, res, n, x);
        else if (o->json || o->format)
            rc = print_json(e, &in, res, n, &a);
        else if (mq_resp_tip_list(e, &in, res, n, mq_state_tip_minimums(&in, &mins), &a, &tips)) {
            print_table(&in, res, n, &c);
            print_tips(res, n, &tips, &c);
        } else {
            fprintf(stderr, "multiquote: out of memory\n");
            rc = CLI_FAIL;
        }
    }
    mq_acord_free(x);
    mq_engine_free(e);
    mq_arena_free(&a);
    return rc;
}

/* Characters (not bytes) of a UTF-8 text, as a terminal lays them out. */
static size_t text_width(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* One worksheet line: name (32 columns), what was looked up or applied (44),
 * the operation, the factor and the running premium. A name or a text too
 * long for its column (a long step name, discounts capped) goes on a line
 * of its own, so that the numbers stay in their columns. */
static void print_step_line(const char *name, const char *what, const char *op, double factor,
                            double running)
{
    if (text_width(name) > 32 || text_width(what) > 44) {
        printf("  %s%s%s\n", name, *what ? "  " : "", what);
        name = what = "";
    }
    printf("  %-32s %-44s %5s %10.4f  %12.4f\n", name, what, op, factor, running);
}

static void print_worksheet(const mq_input *in, const mq_result *r, const colors *c)
{
    const mq_line_def *l = mq_line_get(in->line);
    printf("%s%s%s", c->bold, r->carrier_name, c->off);
    mq_plan_info pi;
    if (result_plan(r, &pi))
        printf("  plan %s version %s", pi.plan_id, pi.version);
    printf("  %s", mq_status_name(r->status));
    if (r->status == MQ_QUOTED) {
        printf(" ");
        cli_print_money(stdout, r->total_cents, 0);
    }
    printf("\n");
    for (int i = 0; i < r->nreasons; i++)
        printf("  reason: %s\n", r->reasons[i]);
    int last_cov = -2;
    int32_t last_unit = -1;
    for (int i = 0; i < r->nsteps; i++) {
        const mq_work_step *s = &r->steps[i];
        if (s->coverage != last_cov || s->unit != last_unit) {
            if (s->coverage >= 0)
                printf("\n%s%s %s (%s)%s\n", c->bold,
                       l->unit == MQ_ENT_POLICY ? "policy" : in->ids[l->unit][s->unit],
                       l->coverages[s->coverage].code, l->coverages[s->coverage].name, c->off);
            else
                printf("\n%sPolicy%s\n", c->bold, c->off);
            last_cov = s->coverage;
            last_unit = s->unit;
        }
        char what[160] = "";
        if (s->table)
            snprintf(what, sizeof what, "%s[%s]%s%s", s->table, s->key ? s->key : "",
                     s->detail ? " " : "", s->detail ? s->detail : "");
        else if (s->detail)
            snprintf(what, sizeof what, "%s", s->detail);
        const char *op = s->op == '*'   ? "x"
                         : s->op == '+' ? "+"
                         : s->op == 'r' ? "round"
                         : s->op == 'm' ? "min"
                                        : "=";
        print_step_line(s->name, what, op, s->factor, s->running);
    }
    if (r->status == MQ_QUOTED && r->metal >= 0) {
        /* as every line: the amount, then the running premium after it */
        printf("  %-32s %-44s %5s %10.4f  %12.4f\n", "Premium tax credit", "", "-",
               r->credit_cents / 100.0, r->net_cents / 100.0);
        printf("  %-32s %-44s %5s %10.4f  %12.4f\n", "Net premium", "", "=", r->net_cents / 100.0,
               r->net_cents / 100.0);
    }
    if (r->credit_note)
        printf("  tax credit: %s\n", r->credit_note);
    if (r->health_class)
        printf("  class: %s\n", r->health_class);
    for (int i = 0; i < r->nnotes; i++)
        printf("  note: %s\n", r->notes[i]);
}

/* Keeps the results of carrier or plan `id`; returns how many. A carrier
 * with several plans (health issuers) keeps them all. */
static int keep_matching(mq_result *res, int n, const char *id)
{
    int kept = 0;
    for (int i = 0; i < n; i++) {
        mq_plan_info pi;
        result_plan(&res[i], &pi);
        bool carrier =
            strcmp(res[i].carrier_id, id) == 0 && (res[i].plan || res[i].status != MQ_ERROR);
        if (carrier || (pi.plan_id && strcmp(pi.plan_id, id) == 0))
            res[kept++] = res[i];
    }
    return kept;
}

/* explain found no result of `id` for the request's line: the id is no
 * carrier or plan at all, or one that does not write this line (Buckeye,
 * asked for a renters worksheet, writes auto and home only). */
static void explain_not_rated(const mq_engine *e, const char *id, mq_line line)
{
    const char *name = NULL;
    bool plan = false; /* id is a plan's, not a carrier's */
    char lines[128] = "";
    size_t len = 0;
    for (int i = 0; i < mq_engine_plan_count(e); i++) {
        mq_plan_info pi;
        mq_plan_get_info(mq_engine_plan(e, i), &pi);
        if (strcmp(pi.carrier_id, id) != 0 && strcmp(pi.plan_id, id) != 0)
            continue;
        name = pi.carrier_name;
        plan = strcmp(pi.plan_id, id) == 0;
        const char *words = mq_line_get(pi.line)->words;
        if (!strstr(lines, words) && len < sizeof lines - 32)
            len +=
                (size_t)snprintf(lines + len, sizeof lines - len, "%s%s", len ? ", " : "", words);
    }
    if (!name)
        fprintf(stderr, "multiquote explain: no carrier or plan with id \"%s\"\n", id);
    else if (plan)
        fprintf(stderr,
                "multiquote explain: plan %s rates %s insurance, not %s, the request's line\n", id,
                lines, mq_line_get(line)->words);
    else
        fprintf(stderr,
                "multiquote explain: %s (%s) does not write %s insurance, the request's line; "
                "it writes %s\n",
                name, id, mq_line_get(line)->words, lines);
}
static int print_worksheets(const cli_opts *o, const mq_input *in, const mq_result *res, int n)
{
    colors c = palette(o->color);
    if (!o->json) {
        for (int i = 0; i < n; i++) {
            if (i)
                printf("\n");
            print_worksheet(in, &res[i], &c);
        }
        return CLI_OK;
    }
    json_t *doc = n == 1 ? mq_resp_worksheet(in, &res[0]) : json_array();
    for (int i = 0; n > 1 && doc && i < n; i++)
        json_array_append_new(doc, mq_resp_worksheet(in, &res[i]));
    char *text = doc ? mq_resp_dump(doc, true) : NULL;
    json_decref(doc);
    if (text)
        puts(text);
    free(text);
    return text ? CLI_OK : CLI_FAIL;
}

int cli_explain(const cli_opts *o)
{
    if (!o->carrier || !o->file) {
        fprintf(stderr, "multiquote explain: needs --carrier ID (a carrier or plan id) and a "
                        "request file\n");
        return CLI_USAGE;
    }
    if (!o->acord && strcmp(o->file, "-") != 0 && cli_is_bundle(o->file)) {
        fprintf(stderr,
                "multiquote explain: %s is a bundle; explain shows one line's worksheet. Explain "
                "a part as a request of its own: its \"auto\" (or \"home\", \"renters\") "
                "object with the bundle's effective_date and applicant and that \"line\" "
                "(rated alone, without the multi-line discount; docs/bundles.md)\n",
                o->file);
        return CLI_USAGE;
    }
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_input in;
    mq_acord *x = NULL; /* an ACORD request (--acord) */
    int rc = o->acord ? cli_parse_acord(o->file, &a, &in, &x) : cli_parse_request(o->file, &a, &in);
    mq_engine *e = rc == CLI_OK ? cli_load_engine(o->plans) : NULL;
    if (rc == CLI_OK && !e)
        rc = CLI_FAIL;
    if (rc == CLI_OK)
        rc = cli_carriers_known(o->file, NULL, e, &in, x, &a);
    mq_acord_free(x);
    mq_result *res = NULL;
    int n = 0;
    if (rc == CLI_OK && !mq_rate_all(e, &in, &(mq_rate_opts){.worksheet = true}, &a, &res, &n)) {
        fprintf(stderr, "multiquote: out of memory\n");
        rc = CLI_FAIL;
    }
    if (rc == CLI_OK && (n = keep_matching(res, n, o->carrier)) == 0) {
        explain_not_rated(e, o->carrier, in.line);
        rc = CLI_USAGE;
    }
    if (rc == CLI_OK)
        rc = print_worksheets(o, &in, res, n);
    mq_engine_free(e);
    mq_arena_free(&a);
    return rc;
}
