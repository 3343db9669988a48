/* cmd_serve.c -- `multiquote serve` and `multiquote requote`.
 *
 * serve runs the quote server until SIGTERM. requote takes a saved quote,
 * rates its saved request again with exactly the plan versions recorded for
 * each carrier (old versions stay loadable), and reports whether every
 * result reproduces what it promised, to the cent: the check that a quote
 * can be stood behind later. Results are compared member by member
 * (mq_resp_compare: the rule of what is substance and what wording is
 * there); explanatory text worded otherwise and members new since the
 * quote are listed under the verdict, and do not change it. A result a
 * remote carrier rated with its own plan (saved with "remote": true)
 * cannot be rated again here: it is named as such,
 * counted in the summary as not checked, and the verdict is on the others.
 * A health quote's credit is worked out from the benchmark plan version the
 * quote recorded, not from the silver plans loaded today. Under a result
 * that differs it says why, from the digests the quote recorded of the
 * files that priced it (plan, benchmark plan, market.yaml): which changed
 * since, or that none did and this program rates differently. A bundle
 * quote is re-rated part by part (each as a quote of its line), then
 * bundle by bundle with the multi-line fact set. The savings tips saved
 * with a quote are worked out again from the results re-rated and compared
 * with them to the cent, by what each changes rather than its words.
 */
#include "cli.h"
#include "server.h"
#include "store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef MQ_DEFAULT_WEB
#define MQ_DEFAULT_WEB "web"
#endif
#ifndef MQ_DEFAULT_OPENAPI
#define MQ_DEFAULT_OPENAPI "docs/openapi.yaml"
#endif

static const char *default_db(void)
{
    mkdir("var", 0755); /* the default database lives in ./var */
    return "var/multiquote.db";
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* ---- Limits (--max-connections N ...) ------------------------------------ */

/* A whole number in [lo, hi], or false. */
static bool whole_in(const char *text, unsigned long long lo, unsigned long long hi,
                     unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (*text < '0' || *text > '9' || *end || errno || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool number_in(const char *text, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (*text < '0' || *text > '9' || *end || errno || !(v >= lo && v <= hi))
        return false;
    *out = v;
    return true;
}

static const struct limit_opt {
    const char *name;
    unsigned long long lo, hi; /* whole numbers; 0, 0 for the others */
    const char *says;
} limit_opts[] = {
    {"max-connections", 1, 100000, "connections"},
    {"max-per-ip", 0, 100000, "connections (0: no cap)"},
    {"idle-timeout", 1, 86400, "seconds"},
    {"request-timeout", 0, 86400, "seconds (0: none)"},
    {"drain-timeout", 1, 3600, "seconds"},
    {"save-timeout", 0, 3600, "seconds (0: none)"},
    {"max-body", 1, 256ull << 20, "bytes"},
    {"max-header-size", 1024, 1 << 20, "bytes"},
    {"max-headers", 1, 10000, "header fields"},
    {"max-url", 64, 65536, "bytes"},
    {"rate-burst", 1, 1000000, "requests"},
};

static bool set_whole_limit(mq_server_limits *l, const char *name, unsigned long long v)
{
    if (strcmp(name, "max-connections") == 0)
        l->max_connections = (unsigned)v;
    else if (strcmp(name, "max-per-ip") == 0)
        l->max_per_ip = (unsigned)v;
    else if (strcmp(name, "idle-timeout") == 0)
        l->idle_timeout_s = (unsigned)v;
    else if (strcmp(name, "request-timeout") == 0)
        l->request_timeout_s = (unsigned)v;
    else if (strcmp(name, "drain-timeout") == 0)
        l->drain_s = (unsigned)v;
    else if (strcmp(name, "save-timeout") == 0)
        l->save_timeout_s = (unsigned)v;
    else if (strcmp(name, "max-body") == 0)
        l->max_body = (size_t)v;
    else if (strcmp(name, "max-header-size") == 0)
        l->max_header_bytes = (size_t)v;
    else if (strcmp(name, "max-headers") == 0)
        l->max_headers = (unsigned)v;
    else if (strcmp(name, "max-url") == 0)
        l->max_url = (size_t)v;
    else if (strcmp(name, "rate-burst") == 0)
        l->burst = (double)v;
    else
        return false;
    return true;
}

/* One --NAME VALUE into the limits; false with a message naming it. */
static bool set_limit(mq_server_limits *l, const char *name, const char *value)
{
    if (strcmp(name, "trust-proxy") == 0) {
        mq_rl_key key;
        if (!mq_rl_key_from_text(value, &key)) {
            fprintf(stderr,
                    "multiquote serve: --trust-proxy takes an IPv4 or IPv6 address, not \"%s\"\n",
                    value);
            return false;
        }
        l->trust_proxy = value;
        return true;
    }
    if (strcmp(name, "rate-limit") == 0) {
        if (number_in(value, 0, 1e6, &l->rate))
            return true;
        fprintf(stderr,
                "multiquote serve: --rate-limit takes requests per second from 0 (off) to "
                "1000000, not \"%s\"\n",
                value);
        return false;
    }
    for (size_t i = 0; i < sizeof limit_opts / sizeof limit_opts[0]; i++) {
        const struct limit_opt *o = &limit_opts[i];
        unsigned long long v;
        if (strcmp(name, o->name) != 0)
            continue;
        if (whole_in(value, o->lo, o->hi, &v) && set_whole_limit(l, name, v))
            return true;
        fprintf(stderr,
                "multiquote serve: --%s takes a whole number of %s from %llu to %llu, not \"%s\"\n",
                name, o->says, o->lo, o->hi, value);
        return false;
    }
    fprintf(stderr, "multiquote serve: unknown option --%s\n", name);
    return false;
}

/* ---- --bind --------------------------------------------------------------- */

/* An IPv6 address for --bind, bare or in brackets ("[::1]"), as
 * inet_ntop writes it (out: INET6_ADDRSTRLEN bytes). 1 done, 0 not an
 * IPv6 address, -1 one it cannot listen on (said). */
static int bind_v6(const char *bind, char *out)
{
    char bare[INET6_ADDRSTRLEN];
    struct in6_addr a;
    size_t n = strlen(bind);
    if (*bind == '[' && n > 2 && bind[n - 1] == ']' && n - 2 < sizeof bare) {
        memcpy(bare, bind + 1, n - 2);
        bare[n - 2] = '\0';
    } else if (n < sizeof bare) {
        memcpy(bare, bind, n + 1);
    } else {
        return 0;
    }
    if (inet_pton(AF_INET6, bare, &a) != 1)
        return 0;
    if (IN6_IS_ADDR_V4MAPPED(&a)) {
        char v4[INET_ADDRSTRLEN];
        if (!inet_ntop(AF_INET, a.s6_addr + 12, v4, sizeof v4))
            return 0;
        fprintf(stderr,
                "multiquote serve: --bind %s: an IPv4-mapped address; give the IPv4 address "
                "itself (%s)\n",
                bind, v4);
        return -1;
    }
    if (IN6_IS_ADDR_LINKLOCAL(&a)) {
        fprintf(stderr,
                "multiquote serve: --bind %s: a link-local address needs a network interface, "
                "which --bind cannot name; give a global or unique-local address, ::1, or :: "
                "for every interface\n",
                bind);
        return -1;
    }
    return inet_ntop(AF_INET6, &a, out, INET6_ADDRSTRLEN) ? 1 : 0;
}

/* The address to listen on for --bind into out (INET6_ADDRSTRLEN bytes),
 * as inet_ntop writes it: no --bind and localhost are 127.0.0.1; an IPv4
 * address; an IPv6 address, bare or in brackets (::1, [::1]; :: is every
 * interface, IPv4 included: server.c's set_v6only). False after saying
 * why not: checked before the database or the key file is opened, so a
 * typo creates nothing. */
static bool bind_address(const char *bind, char *out)
{
    struct in_addr v4;
    if (!bind || strcmp(bind, "localhost") == 0)
        bind = "127.0.0.1";
    if (inet_pton(AF_INET, bind, &v4) == 1)
        return inet_ntop(AF_INET, &v4, out, INET6_ADDRSTRLEN) != NULL;
    int v6 = bind_v6(bind, out);
    if (v6 == 0)
        fprintf(stderr,
                "multiquote serve: --bind takes an IPv4 or IPv6 address (127.0.0.1 or ::1; "
                "0.0.0.0 or :: for every interface) or localhost, not \"%s\"\n",
                bind);
    return v6 == 1;
}

int cli_serve(const cli_opts *o)
{
    if (o->port < 0 || o->port > 65535) {
        fprintf(stderr, "multiquote serve: --port takes 0 (any free port) to 65535\n");
        return CLI_USAGE;
    }
    char bind[INET6_ADDRSTRLEN];
    if (!bind_address(o->bind, bind))
        return CLI_USAGE;
    mq_server_limits limits;
    mq_server_limits_default(&limits);
    for (int i = 0; i < o->nlimits; i++)
        if (!set_limit(&limits, o->limits[i].name, o->limits[i].value))
            return CLI_USAGE;
    mq_server_config cfg = {
        .port = o->port,
        .bind = bind,
        .plans_dir = o->plans,
        .db_path = o->db ? o->db : default_db(),
        .web_dir = o->web          ? o->web
                   : exists("web") ? "web"
                                   : MQ_DEFAULT_WEB,
        .openapi_path = exists("docs/openapi.yaml") ? "docs/openapi.yaml" : MQ_DEFAULT_OPENAPI,
        .key_file = o->key_file,
        .threads = o->threads,
        .limits = limits,
        .carriers_path = o->carriers_file,
    };
    return mq_server_run(&cfg);
}

/* Rates a saved row again with the plan version it recorded; *p is NULL
 * when no plan was in effect then. False when that version is not loaded. */
static bool rerate(const mq_engine *e, const mq_saved_result *row, const mq_input *in, mq_arena *a,
                   mq_result *out, const mq_plan **p)
{
    *p = *row->plan_id ? mq_engine_find_version(e, row->plan_id, row->version) : NULL;
    if (*row->plan_id && !*p) {
        printf("  %-12s MISSING  plan %s version %s is not loaded\n", row->carrier, row->plan_id,
               row->version);
        return false;
    }
    if (*p && !mq_rate_plan(*p, in, &(mq_rate_opts){0}, a, out))
        return false;
    return true;
}

/* One file the quote recorded, if it changed since: "plan harbor-oh-auto
 * 2026-01-01 was changed after this quote (digest then X, now Y)" under
 * the result's line. Whether it changed. */
static bool print_change(const char *what, const char *id, const char *version, const char *then,
                         const char *now)
{
    if (mq_resp_digest_same(then, now))
        return false;
    /* now's digits as many as the quote recorded */
    printf("    %s %s%s%s was changed after this quote (digest then %s, now %.*s)\n", what, id,
           *version ? " " : "", version, then, (int)strlen(then), now && *now ? now : "unknown");
    return true;
}

/* The market whose rules worked a health result's credit out: the one the
 * quote recorded, or what took its place (`now`: the benchmark the market
 * rules set on the result re-rated, NULL when no market is in effect on
 * the quote's date among the files loaded now). Whether it changed. */
static bool print_market_change(const mq_saved_result *row, const mq_benchmark *now)
{
    if (!now || !now->market_id) {
        printf("    market %s is no longer loaded, and none is in effect on the quote's date: no "
               "market's rules worked the tax credit out\n",
               row->market_id);
        return true;
    }
    if (strcmp(now->market_id, row->market_id) != 0) { /* its own is no longer loaded */
        printf("    market %s is no longer loaded; market %s applies on the quote's date\n",
               row->market_id, now->market_id);
        return true;
    }
    char name[256]; /* its identity is its file's */
    snprintf(name, sizeof name, "%s (market.yaml)", row->market_id);
    return print_change("market", name, "", row->market_digest, now->market_digest);
}

/* Under a result that differs, why, from what the quote recorded of the
 * files that priced it: each that changed since (its plan version; for
 * health the benchmark plan `given` its credit was worked out from, when
 * another plan, and the market), or, when none did, that this program
 * rates differently. Nothing for a quote saved before digests were
 * recorded: it cannot tell. */
static void print_causes(const mq_saved_result *row, const mq_result *res, const mq_plan *p,
                         const mq_benchmark *given)
{
    if (!*row->digest)
        return;
    mq_plan_info pi, bi;
    mq_plan_get_info(p, &pi);
    bool changed = print_change("plan", row->plan_id, row->version, row->digest, pi.digest);
    bool own = strcmp(row->benchmark_plan_id, row->plan_id) == 0 &&
               strcmp(row->benchmark_version, row->version) == 0;
    if (given && given->plan && *row->benchmark_digest && !own) {
        mq_plan_get_info(given->plan, &bi);
        changed |= print_change("benchmark plan", row->benchmark_plan_id, row->benchmark_version,
                                row->benchmark_digest, bi.digest);
    }
    if (*row->market_id)
        changed |= print_market_change(row, res->benchmark);
    const char *also = !*row->market_id         ? ""
                       : *row->benchmark_digest ? ", and so are its benchmark plan and market"
                                                : ", and so is its market";
    if (!changed)
        printf("    plan %s %s is the same as then (digest %s)%s: this program rates "
               "differently\n",
               row->plan_id, row->version, row->digest, also);
}

/* A difference that leaves what the quote promised as it was, listed
 * under the verdict so that nothing is hidden: explanatory text that reads
 * otherwise now, or a member today's program writes that the saved result
 * lacks (mq_resp_compare says which is which). */
typedef struct wording_note {
    const char *carrier, *part; /* part: a bundle's "auto" or "home", or NULL */
    const char *path, *now, *then;
    bool added; /* new since the quote: `then` is nothing */
    struct wording_note *next;
} wording_note;

/* What requote found: whether every result re-rated here reproduced, how
 * many were re-rated, how many a remote carrier rated (not checked), and
 * the differences of wording (in the arena, in the order found). `part`
 * names the bundle part being re-rated, for its notes. */
typedef struct requote_outcome {
    bool same;
    int checked, remote;
    const char *part;
    wording_note *wording, **tail;
    int nwording;
} requote_outcome;

/* An outcome with nothing found yet. */
static void outcome_init(requote_outcome *o, const char *part)
{
    *o = (requote_outcome){.same = true, .part = part};
    o->tail = &o->wording;
}

/* Notes one wording difference; false when memory ran out. Values are
 * shortened (mq_resp_diff_texts). */
static bool note_wording(requote_outcome *o, const char *carrier, const char *path,
                         const json_t *then, const json_t *now, mq_arena *a)
{
    wording_note *n = mq_arena_alloc(a, sizeof *n);
    if (!n)
        return false;
    *n = (wording_note){.carrier = carrier, .part = o->part, .path = path, .added = then == NULL};
    if (!mq_resp_diff_texts(then, now, 60, a, &n->then, &n->now))
        return false;
    *o->tail = n;
    o->tail = &n->next;
    o->nwording++;
    return true;
}

/* Re-rated result `res` of saved row `row` compared with the saved one
 * (mq_resp_compare): its line, "same" or "DIFFERS" with the first
 * difference of substance (path, now, then) and why (print_causes); its
 * differences of wording noted in *out. *same whether nothing of
 * substance differs; false when memory ran out. */
static bool compare_one(const mq_saved_result *row, const mq_input *in, const mq_result *res,
                        json_t *saved, const mq_plan *p, const mq_benchmark *given, mq_arena *a,
                        requote_outcome *out, bool *same)
{
    json_t *now = mq_resp_result(in, res);
    json_t *then = mq_resp_saved_object(saved, row->carrier, row->plan_id);
    mq_resp_diffs d;
    bool ok = now && mq_resp_compare(then, now, a, &d);
    const mq_resp_diff *first = ok ? mq_resp_first_substance(&d) : NULL;
    *same = ok && !first;
    if (ok) {
        printf("  %-12s %-8s %s %s  %s", row->carrier, *same ? "same" : "DIFFERS", row->plan_id,
               row->version, mq_status_name(res->status));
        if (res->status == MQ_QUOTED) {
            printf(" ");
            cli_print_money(stdout, res->total_cents, 0);
        }
        if (first && row->total_cents >= 0) {
            printf(" (was ");
            cli_print_money(stdout, row->total_cents, 0);
            printf(")");
        }
        const char *x = "", *y = "";
        ok = !first || mq_resp_diff_texts(first->then, first->now, 80, a, &y, &x);
        if (first && ok)
            printf("; first difference: %s %s, was %s", first->path, x, y);
        printf("\n");
        if (first)
            print_causes(row, res, p, given);
    }
    for (int i = 0; ok && i < d.count; i++)
        if (d.items[i].kind != MQ_DIFF_SUBSTANCE)
            ok = note_wording(out, row->carrier, d.items[i].path, d.items[i].then, d.items[i].now,
                              a);
    json_decref(now); /* the notes hold text, not the trees */
    return ok;
}

/* A row a remote carrier rated with its own plan: said, not re-rated (its
 * plan is the carrier's; a local plan of the same id would price something
 * else). */
static void print_remote_row(const mq_saved_result *row)
{
    printf("  %-12s remote   %s %s  %s", row->carrier, row->plan_id, row->version, row->status);
    if (row->total_cents >= 0) {
        printf(" ");
        cli_print_money(stdout, row->total_cents, 0);
    }
    printf(": a remote carrier rated it with its own plan, not re-rated here\n");
}

static bool oom(const mq_store_quote *q)
{
    fprintf(stderr, "multiquote requote: quote %s: out of memory\n", q->id);
    return false;
}

/* The health benchmark the saved results recorded: the market chose one
 * for the whole quote, so the first local row that recorded it says which.
 * *given points at it in *b, or is NULL when no row recorded one: a quote
 * saved before benchmarks were recorded chooses it again from the plans
 * loaded now, as requote always did (a later silver plan can then move its
 * credit), and other lines have none. False after saying so when its plan
 * version is not loaded, as for a result's own version. */
static bool saved_benchmark(const mq_engine *e, const mq_saved_result *rows, int nrows,
                            mq_benchmark *b, const mq_benchmark **given)
{
    *given = NULL;
    for (int i = 0; i < nrows; i++) {
        if (rows[i].remote || !rows[i].benchmark_recorded)
            continue;
        if (mq_resp_saved_benchmark(e, &rows[i], b) < 0) {
            printf("  %-12s MISSING  plan %s version %s is not loaded: every result's tax credit "
                   "was worked out from it\n",
                   "benchmark", rows[i].benchmark_plan_id, rows[i].benchmark_version);
            return false;
        }
        *given = b;
        return true;
    }
    return true;
}

/* ---- Savings tips: worked out again from the results re-rated ---------- */

/* The results requote_all re-rated: res[i] from saved row rows[row_of[i]]
 * with plan version plan_of[i], in the saved order; same[i] whether it
 * reproduced. */
typedef struct rerated {
    const mq_saved_result *rows;
    const mq_result *res;
    const int *row_of;
    const mq_plan *const *plan_of;
    const bool *same;
    int n;
} rerated;

/* A saved tip and the one worked out now that changes the same thing;
 * `then` NULL for a tip new now, `now` NULL for one no longer given. */
typedef struct tip_pair {
    const mq_saved_tip *then;
    const mq_tip *now;
} tip_pair;

/* Whether saved tip t and tip u are of the same carrier's plan (a tip that
 * names no plan: of the carrier) and change the same thing (their words
 * may differ: mq_tip_change_read). */
static bool tip_matches(const mq_saved_tip *t, const mq_tip *u)
{
    if (strcmp(t->carrier, u->carrier) != 0 || (*t->plan && strcmp(t->plan, u->plan) != 0))
        return false;
    mq_tip_change x, y;
    mq_tip_change_read(t->change, &x);
    mq_tip_change_read(u->change, &y);
    return mq_tip_change_same(&x, &y);
}

/* Whether a pair's figures are the same to the cent (those the saved tip
 * has). */
static bool tip_pair_same(const tip_pair *p)
{
    return p->then && p->now &&
           (p->then->saving_cents < 0 || p->then->saving_cents == p->now->saving_cents) &&
           (p->then->new_total_cents < 0 || p->then->new_total_cents == p->now->new_total_cents);
}

/* Pairs every saved tip with the tip now that changes the same thing, then
 * adds each tip now left over; pairs[] has room for both lists. Returns
 * how many pairs; -1 when memory ran out. */
static int pair_tips(const mq_saved_tip *saved, int nsaved, const mq_tip_list *now, mq_arena *a,
                     tip_pair *pairs)
{
    bool *used = mq_arena_alloc(a, (size_t)(now->count > 0 ? now->count : 1));
    if (!used)
        return -1;
    memset(used, 0, (size_t)(now->count > 0 ? now->count : 1));
    int n = 0;
    for (int i = 0; i < nsaved; i++) {
        pairs[n] = (tip_pair){.then = &saved[i]};
        for (int j = 0; j < now->count && !pairs[n].now; j++)
            if (!used[j] && tip_matches(&saved[i], &now->items[j])) {
                used[j] = true;
                pairs[n].now = &now->items[j];
            }
        n++;
    }
    for (int j = 0; j < now->count; j++)
        if (!used[j])
            pairs[n++] = (tip_pair){.now = &now->items[j]};
    return n;
}

/* "saving 41.16, new total 501.82" (what of it a saved tip has). */
static void print_tip_figures(int64_t saving, int64_t new_total)
{
    if (saving >= 0) {
        printf("saving ");
        cli_print_money(stdout, saving, 0);
    }
    if (new_total >= 0) {
        printf("%snew total ", saving >= 0 ? ", " : "");
        cli_print_money(stdout, new_total, 0);
    }
    if (saving < 0 && new_total < 0)
        printf("no figures");
}

/* One tip that is not the same: the carrier, what it changes (in the words
 * of now, or of then for one no longer given), its figures now and then. */
static void print_tip_pair(const tip_pair *p)
{
    printf("  %-12s %-8s %s: ", p->now ? p->now->carrier : p->then->carrier,
           !p->now    ? "MISSING"
           : !p->then ? "NEW"
                      : "DIFFERS",
           p->now ? p->now->change : p->then->change);
    if (p->now)
        print_tip_figures(p->now->saving_cents, p->now->new_total_cents);
    else
        printf("no such tip now");
    if (p->then) {
        printf(" (was ");
        print_tip_figures(p->then->saving_cents, p->then->new_total_cents);
        printf(")\n");
    } else {
        printf(" (no such tip then)\n");
    }
}

/* The carrier and plan id a pair's tips are of ("" for a saved tip that
 * names no plan). */
static void tip_pair_owner(const tip_pair *p, const char **carrier, const char **plan)
{
    *carrier = p->now ? p->now->carrier : p->then->carrier;
    *plan = p->now ? p->now->plan : p->then->plan;
}

/* Whether re-rated result i is among the quotes given tips: picked from
 * `from` (copies of the re-rated results, in any order). */
static bool among_picked(const rerated *rr, int i, const mq_result *from, const int *pick,
                         int npick)
{
    for (int k = 0; k < npick; k++)
        if (from[pick[k]].carrier_id == rr->res[i].carrier_id &&
            from[pick[k]].plan == rr->res[i].plan)
            return true;
    return false;
}

/* The results as the quote saved them, for which got tips then: re-rated
 * copies with the saved status, total and term. NULL when out of memory. */
static mq_result *results_then(const rerated *rr, mq_arena *a)
{
    mq_result *then = mq_arena_alloc(a, sizeof *then * (size_t)(rr->n > 0 ? rr->n : 1));
    for (int i = 0; then && i < rr->n; i++) {
        const mq_saved_result *row = &rr->rows[rr->row_of[i]];
        then[i] = rr->res[i];
        bool quoted = strcmp(row->status, "quoted") == 0 && row->total_cents >= 0;
        then[i].status = quoted ? MQ_QUOTED : MQ_DECLINED;
        then[i].total_cents = row->total_cents;
        then[i].term_months = row->term_months;
    }
    return then;
}

/* Which quotes get tips, then and now. */
typedef struct tip_picks {
    const mq_result *then, *now;
    int pick_then[MQ_TIPS_FOR_CHEAPEST], pick_now[MQ_TIPS_FOR_CHEAPEST];
    int nthen, nnow;
} tip_picks;

/* The index of the re-rated result of carrier's plan (a tip that names no
 * plan: of the carrier); rr->n when there is none. */
static int rerated_of(const rerated *rr, const char *carrier, const char *plan)
{
    int i = 0;
    while (i < rr->n && (strcmp(rr->rows[rr->row_of[i]].carrier, carrier) != 0 ||
                         (*plan && strcmp(rr->rows[rr->row_of[i]].plan_id, plan) != 0)))
        i++;
    return i;
}

/* Under the tips of carrier's plan that are not the same, why, as under a
 * result: its plan version's files changed since; it came among the quotes
 * that get tips, or left them (a result above moved); or, when neither,
 * its files are the same and the tips are worked out otherwise now. */
static void print_tip_causes(const rerated *rr, const tip_picks *tp, const char *carrier,
                             const char *plan)
{
    int i = rerated_of(rr, carrier, plan);
    if (i == rr->n) {
        printf("    no result of %s was re-rated here to work its tips out from\n", carrier);
        return;
    }
    const mq_saved_result *row = &rr->rows[rr->row_of[i]];
    bool changed = false;
    if (*row->digest) {
        mq_plan_info pi;
        mq_plan_get_info(rr->plan_of[i], &pi);
        changed = print_change("plan", row->plan_id, row->version, row->digest, pi.digest);
    }
    bool then = among_picked(rr, i, tp->then, tp->pick_then, tp->nthen);
    bool now = among_picked(rr, i, tp->now, tp->pick_now, tp->nnow);
    if (then != now)
        printf("    %s %s among the %d quotes that cost least a month, which get tips%s\n", carrier,
               now ? "is now" : "is no longer", MQ_TIPS_FOR_CHEAPEST,
               now ? " (it was not then)" : "");
    if (!changed && then == now && *row->digest)
        printf("    plan %s %s is the same as then (digest %s): the tips are worked out "
               "differently (this program, or the state's minimum limits or the carrier's "
               "other plans it reads)\n",
               row->plan_id, row->version, row->digest);
}

/* Whether pair p is one of the carrier's plan's tips. */
static bool tip_pair_of(const tip_pair *p, const char *carrier, const char *plan)
{
    const char *c, *pl;
    tip_pair_owner(p, &c, &pl);
    return strcmp(c, carrier) == 0 && strcmp(pl, plan) == 0;
}

/* "6 the same, 1 differs, 1 new, 1 missing" (the counts not 0) of the
 * pairs (of the carrier's plan, when `carrier` is given), after `head`. */
static void print_tip_counts(const char *head, const tip_pair *pairs, int n, const char *carrier,
                             const char *plan)
{
    int count[4] = {0}; /* the same, differ, new, missing */
    for (int i = 0; i < n; i++) {
        if (carrier && !tip_pair_of(&pairs[i], carrier, plan))
            continue;
        bool both = pairs[i].then && pairs[i].now;
        count[0] += tip_pair_same(&pairs[i]);
        count[1] += both && !tip_pair_same(&pairs[i]);
        count[2] += !pairs[i].then;
        count[3] += !pairs[i].now;
    }
    const char *says[4] = {"the same", count[1] == 1 ? "differs" : "differ", "new", "missing"};
    printf("%s", head);
    for (int k = 0, said = 0; k < 4; k++)
        if (count[k])
            printf("%s%d %s", said++ ? ", " : "", count[k], says[k]);
}

/* The tips that are not the same, those of one carrier's plan together
 * (in the order they first come) with its causes once under them. A
 * carrier whose result differs (said above, with why) gets one line: its
 * tips follow from it, and listing each would say it again. */
static void print_tip_differences(const rerated *rr, const tip_picks *tp, const tip_pair *pairs,
                                  int n, bool *done)
{
    for (int i = 0; i < n; i++) {
        if (done[i] || tip_pair_same(&pairs[i]))
            continue;
        const char *carrier, *plan;
        tip_pair_owner(&pairs[i], &carrier, &plan);
        int at = rerated_of(rr, carrier, plan);
        bool moved = at < rr->n && !rr->same[at];
        if (moved) {
            printf("  %-12s %-8s ", carrier, "DIFFERS");
            print_tip_counts("its tips: ", pairs, n, carrier, plan);
            printf(" (worked out from its result, which differs)\n");
        }
        for (int j = i; j < n; j++) {
            if (done[j] || !tip_pair_of(&pairs[j], carrier, plan))
                continue;
            if (!moved && !tip_pair_same(&pairs[j]))
                print_tip_pair(&pairs[j]);
            done[j] = true;
        }
        if (!moved)
            print_tip_causes(rr, tp, carrier, plan);
    }
}

/* Notes each tip that changes what a saved one changes, in other words
 * ("tips[2].change": the saved tip's place); false when memory ran out. */
static bool tip_wording(const tip_pair *pairs, int n, const mq_saved_tip *saved, mq_arena *a,
                        requote_outcome *out)
{
    bool ok = true;
    for (int i = 0; ok && i < n; i++) {
        const tip_pair *p = &pairs[i];
        if (!p->then || !p->now || strcmp(p->then->change, p->now->change) == 0)
            continue;
        json_t *then = json_string(p->then->change), *now = json_string(p->now->change);
        const char *path = mq_arena_printf(a, "tips[%d].change", (int)(p->then - saved));
        ok = then && now && path && note_wording(out, p->now->carrier, path, then, now, a);
        json_decref(then);
        json_decref(now);
    }
    return ok;
}

/* The savings tips worked out again from the re-rated results (with the
 * plan versions they used, as the server works them out: from the results
 * sorted, for the three that cost least a month) and compared with the
 * saved ones: each that differs (its saving or new total), is missing or is
 * new said, with why. Tips are compared by carrier, plan and what they
 * change (mq_tip_change_read), not by their words. Nothing is said when
 * there are none, then and now; they are not compared when the quote
 * recorded none (saved before tips were) or a result's plan version is not
 * loaded (`complete` false: the tips depend on every result). *same is
 * false when one is not the same; a tip the same but worded otherwise is
 * noted in *out (tip_wording). False when memory ran out. */
static bool requote_tips(const mq_engine *e, const mq_input *in, const char *response,
                         const rerated *rr, bool complete, mq_arena *a, bool *same,
                         requote_outcome *out)
{
    *same = true;
    mq_saved_tip *saved;
    int nsaved = mq_resp_saved_tips(response, a, &saved);
    tip_picks tp = {.then = results_then(rr, a)};
    mq_result *now = mq_arena_alloc(a, sizeof *now * (size_t)(rr->n > 0 ? rr->n : 1));
    if (nsaved < -1 || !now || !tp.then)
        return false;
    memcpy(now, rr->res, sizeof *now * (size_t)rr->n);
    mq_results_sort(now, rr->n);
    tp.now = now;
    mq_tip_minimums mins;
    mq_tip_list list;
    if (!mq_resp_tip_list(e, in, now, rr->n, mq_state_tip_minimums(in, &mins), a, &list))
        return false;
    if (nsaved < 0) {
        if (list.count)
            printf("tips: none recorded (the quote was saved before tips were): %d now, not "
                   "compared\n",
                   list.count);
        return true;
    }
    if (!complete) {
        if (nsaved || list.count)
            printf("tips: not compared: they are worked out from every result, and a result's "
                   "plan version is not loaded\n");
        return true;
    }
    tip_pair *pairs = mq_arena_alloc(a, sizeof *pairs * (size_t)(nsaved + list.count + 1));
    int npairs = pairs ? pair_tips(saved, nsaved, &list, a, pairs) : -1;
    bool *done = mq_arena_alloc(a, (size_t)(npairs > 0 ? npairs : 1));
    if (npairs < 0 || !done)
        return false;
    if (npairs == 0)
        return true;
    memset(done, 0, (size_t)npairs);
    for (int i = 0; i < npairs; i++)
        *same &= tip_pair_same(&pairs[i]);
    if (!tip_wording(pairs, npairs, saved, a, out))
        return false;
    print_tip_counts("tips: ", pairs, npairs, NULL, NULL);
    printf("\n");
    if (*same)
        return true;
    tp.nthen = mq_resp_tip_cheapest(tp.then, rr->n, tp.pick_then);
    tp.nnow = mq_resp_tip_cheapest(tp.now, rr->n, tp.pick_now);
    print_tip_differences(rr, &tp, pairs, npairs, done);
    return true;
}

/* Every saved row of `response` (a quote's, or a bundle's part: `saved`
 * is it parsed) re-rated, the line's market rules applied to them all
 * (the ACA credit depends on the benchmark plan: the one the quote
 * recorded), then each compared, and `with_tips` (a quote's, not a
 * bundle part's: those have none) its tips (requote_tips), what was found
 * added to *out (outcome_init). Nothing is compared when the recorded
 * benchmark's version is not loaded. False after saying why when the
 * saved response lists no results or memory ran out. */
static bool requote_all(const mq_engine *e, const mq_store_quote *q, const mq_input *in,
                        const char *response, json_t *saved, bool with_tips, mq_arena *a,
                        requote_outcome *out)
{
    if (!json_is_array(json_object_get(saved, "results"))) {
        fprintf(stderr, "multiquote requote: quote %s: the saved response has no results\n", q->id);
        return false;
    }
    mq_saved_result *rows = NULL;
    int nrows = mq_resp_saved_results(response, a, &rows);
    mq_result *res = mq_arena_alloc(a, sizeof(*res) * (size_t)(nrows > 0 ? nrows : 1));
    int *row_of = mq_arena_alloc(a, sizeof(int) * (size_t)(nrows > 0 ? nrows : 1));
    bool *same = mq_arena_alloc(a, sizeof(bool) * (size_t)(nrows > 0 ? nrows : 1));
    const mq_plan **plan_of = mq_arena_alloc(a, sizeof(*plan_of) * (size_t)(nrows > 0 ? nrows : 1));
    if (nrows < 0 || !res || !row_of || !plan_of || !same)
        return oom(q);
    mq_benchmark bench;
    const mq_benchmark *given;
    bool rateable = saved_benchmark(e, rows, nrows, &bench, &given);
    out->same &= rateable;
    bool complete = true; /* every local result re-rated: the tips can be worked out */
    int n = 0;
    for (int i = 0; i < nrows; i++) {
        const mq_plan *p;
        if (rows[i].remote) {
            print_remote_row(&rows[i]);
            out->remote++;
            continue;
        }
        if (!rerate(e, &rows[i], in, a, &res[n], &p)) {
            out->same = false;
            complete = false;
            continue;
        }
        if (!p) {
            printf("  %-12s skipped  no plan was in effect (%s)\n", rows[i].carrier,
                   rows[i].status);
            continue;
        }
        plan_of[n] = p;
        row_of[n++] = i;
    }
    if (!rateable) /* said: without its benchmark no credit can be compared */
        return true;
    if (!mq_rate_market_given(e, in, given, res, n, a))
        return oom(q);
    for (int i = 0; i < n; i++) {
        /* a result saved before benchmarks were recorded lacks the member:
         * that is no difference (its credit still is) */
        if (!rows[row_of[i]].benchmark_recorded)
            res[i].benchmark = NULL;
        if (!compare_one(&rows[row_of[i]], in, &res[i], saved, plan_of[i], given, a, out, &same[i]))
            return oom(q);
        out->same &= same[i];
    }
    out->checked = n;
    bool tips_same = true;
    rerated rr = {
        .rows = rows, .res = res, .row_of = row_of, .plan_of = plan_of, .same = same, .n = n};
    if (with_tips && !requote_tips(e, in, response, &rr, complete, a, &tips_same, out))
        return oom(q);
    out->same &= tips_same;
    return true;
}

/* ---- Bundles: each part as a quote of its line, then each bundle ------ */

/* The saved result of `carrier` in a bundle's part that quoted: its plan's
 * id, version and digest ("" when not recorded); false when there is none. */
static bool part_plan(json_t *part, const char *carrier, const char **id, const char **version,
                      const char **digest)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(part, "results"), i, r)
    {
        const char *c = json_string_value(json_object_get(json_object_get(r, "carrier"), "id"));
        const char *status = json_string_value(json_object_get(r, "status"));
        json_t *plan = json_object_get(r, "plan");
        if (!c || strcmp(c, carrier) != 0 || !status || strcmp(status, "quoted") != 0)
            continue;
        *id = json_string_value(json_object_get(plan, "id"));
        *version = json_string_value(json_object_get(plan, "version"));
        *digest = json_string_value(json_object_get(plan, "digest"));
        if (!*digest)
            *digest = "";
        return *id && *version;
    }
    return false;
}

/* One side of a saved bundle: its "auto" or "home"/"renters" member. */
typedef struct bundle_side {
    const char *name;                       /* "auto", "home", "renters" */
    const char *plan_id, *version, *digest; /* as the part recorded them */
    const mq_plan *plan;                    /* that version, loaded now */
    int64_t then, now;                      /* its total in the bundle, then and now */
} bundle_side;

/* Side s of carrier's saved bundle rated again, bundled, with the plan
 * version its part recorded for the carrier: s->now is its total now (-1:
 * it no longer quotes). False after saying so when there is no such result
 * or that version is not loaded, or (*oom_ set) when memory ran out. */
static bool rate_side(const mq_engine *e, const char *carrier, json_t *part, const json_t *saved,
                      const mq_input *bundled, mq_arena *a, bundle_side *s, bool *oom_)
{
    json_t *total = json_object_get(saved, "total");
    s->then = json_is_number(total) ? (int64_t)llround(json_number_value(total) * 100) : -1;
    s->now = -1;
    if (!part_plan(part, carrier, &s->plan_id, &s->version, &s->digest)) {
        printf("  %-12s MISSING  bundle: the %s part has no quoted result of this carrier\n",
               carrier, s->name);
        return false;
    }
    s->plan = mq_engine_find_version(e, s->plan_id, s->version);
    if (!s->plan) {
        printf("  %-12s MISSING  bundle: plan %s version %s is not loaded\n", carrier, s->plan_id,
               s->version);
        return false;
    }
    mq_result r;
    if (!mq_rate_plan(s->plan, bundled, &(mq_rate_opts){0}, a, &r)) {
        *oom_ = true;
        return false;
    }
    s->now = r.status == MQ_QUOTED ? r.total_cents : -1;
    return true;
}

/* "auto summit-oh-auto 2025-11-15 542.98", and what it was when it moved. */
static void print_side(const bundle_side *s)
{
    printf("%s %s %s ", s->name, s->plan_id, s->version);
    if (s->now >= 0)
        cli_print_money(stdout, s->now, 0);
    else
        printf("not quoted");
    if (s->now != s->then && s->then < 0)
        printf(" (was nothing)");
    else if (s->now != s->then) {
        printf(" (was ");
        cli_print_money(stdout, s->then, 0);
        printf(")");
    }
}

/* Each bundle of the saved quote (a carrier that quoted both parts, rated
 * with the multi-line fact set) rated again: its two totals compared with
 * the saved ones, and under one that differs, which plan's files changed
 * since (the digests its parts recorded) or that none did. */
static bool requote_bundles(const mq_engine *e, const mq_bundle_input *b, json_t *saved,
                            const char *prop, mq_arena *a, requote_outcome *out)
{
    mq_input ai, pi;
    if (!mq_bundle_parts(b, a, &ai, &pi)) /* as the bundle was rated */
        return false;
    json_t *list = json_object_get(saved, "bundles"), *one;
    size_t i;
    json_array_foreach(list, i, one)
    {
        const char *carrier =
            json_string_value(json_object_get(json_object_get(one, "carrier"), "id"));
        bundle_side sides[2] = {{.name = "auto"}, {.name = prop}};
        bool oom_ = false;
        if (!carrier)
            printf("  %-12s MISSING  bundle %zu of the saved quote names no carrier\n", "?", i);
        bool rated = carrier &&
                     rate_side(e, carrier, json_object_get(saved, "auto"),
                               json_object_get(one, "auto"), &ai, a, &sides[0], &oom_) &&
                     rate_side(e, carrier, json_object_get(saved, prop), json_object_get(one, prop),
                               &pi, a, &sides[1], &oom_);
        if (oom_)
            return false;
        if (!rated) {
            out->same = false;
            continue;
        }
        bool same = sides[0].now == sides[0].then && sides[1].now == sides[1].then;
        printf("  %-12s %-8s bundle: ", carrier, same ? "same" : "DIFFERS");
        print_side(&sides[0]);
        printf(", ");
        print_side(&sides[1]);
        printf("\n");
        out->same &= same;
        out->checked++;
        if (same || !*sides[0].digest || !*sides[1].digest)
            continue; /* a quote saved before digests were recorded cannot tell */
        bool changed = false;
        for (int k = 0; k < 2; k++) {
            mq_plan_info info;
            mq_plan_get_info(sides[k].plan, &info);
            changed |= print_change("plan", sides[k].plan_id, sides[k].version, sides[k].digest,
                                    info.digest);
        }
        if (!changed)
            printf("    plans %s %s and %s %s are the same as then: this program rates "
                   "differently\n",
                   sides[0].plan_id, sides[0].version, sides[1].plan_id, sides[1].version);
    }
    return true;
}

/* One part of a saved bundle ("auto", "home" or "renters") re-rated as a
 * quote of its line, its outcome added to *out. */
static bool requote_part(const mq_engine *e, const mq_store_quote *q, const mq_input *in,
                         json_t *saved, const char *name, mq_arena *a, requote_outcome *out)
{
    json_t *part = json_object_get(saved, name);
    char *text = part ? json_dumps(part, JSON_COMPACT) : NULL;
    if (!text) {
        fprintf(stderr, "multiquote requote: quote %s: the saved bundle has no %s part\n", q->id,
                name);
        return false;
    }
    printf("%s part:\n", name);
    requote_outcome mine;
    outcome_init(&mine, name);
    bool ok = requote_all(e, q, in, text, part, false, a, &mine); /* a part has no tips */
    free(text);
    out->same &= mine.same;
    out->checked += mine.checked;
    out->remote += mine.remote;
    if (mine.wording) { /* its notes after those before it */
        *out->tail = mine.wording;
        out->tail = mine.tail;
        out->nwording += mine.nwording;
    }
    return ok;
}

/* A bundle quote: each part as a quote of its own line, then every
 * bundle's two prices. The saved request is the bundle's; false after
 * saying why it cannot be re-rated. */
static bool requote_bundle(const mq_engine *e, const mq_store_quote *q, const char *request,
                           json_t *saved, mq_arena *a, requote_outcome *out)
{
    outcome_init(out, NULL);
    json_error_t jerr;
    json_t *doc = json_loads(request, 0, &jerr);
    mq_req_errors errs = {0};
    mq_bundle_input b;
    bool ok = doc && mq_req_bundle_from_json(doc, a, &b, &errs);
    if (!ok) {
        fprintf(stderr, "multiquote requote: quote %s: the saved request no longer parses: %s\n",
                q->id,
                !doc         ? jerr.text
                : errs.count ? mq_req_error_text(&errs.items[0], a)
                             : "out of memory");
        json_decref(doc);
        return false;
    }
    const char *prop = mq_line_get(b.property_line)->name;
    ok = requote_part(e, q, &b.auto_in, saved, "auto", a, out) &&
         requote_part(e, q, &b.property_in, saved, prop, a, out);
    if (ok)
        printf("bundles:\n");
    if (ok && !requote_bundles(e, &b, saved, prop, a, out))
        ok = oom(q);
    json_decref(doc);
    return ok;
}

/* Under the verdict, the differences that change nothing the quote
 * promised, one a line: "  harbor       fees[0].name "Policy fee", was
 * "Policy charge"", a member new since the quote "..., was nothing (new
 * since the quote)"; a bundle part's with "(auto part) " before the path. */
static void print_wording(const requote_outcome *o)
{
    if (!o->nwording)
        return;
    printf("wording: %d %s that %s nothing the quote promised (explanatory text, or members "
           "new since it)\n",
           o->nwording, o->nwording == 1 ? "difference" : "differences",
           o->nwording == 1 ? "changes" : "change");
    for (const wording_note *n = o->wording; n; n = n->next)
        printf("  %-12s %s%s%s%s %s, was %s%s\n", n->carrier, n->part ? "(" : "",
               n->part ? n->part : "", n->part ? " part) " : "", n->path, n->now, n->then,
               n->added ? " (new since the quote)" : "");
}

/* The verdict, and what could not be checked, then the differences of
 * wording (print_wording); returns the
 * exit status. CLI_OK when every result re-rated here is the same; CLI_FAIL
 * when one differs or could not be re-rated (its plan version is not
 * loaded); CLI_UNCHECKED when none was re-rated (every result came from a
 * remote carrier, whose price only it can work out, or had no plan): that
 * quote is neither reproduced nor not, there is nothing here to compare.
 * Wording does not count: the figures, statuses and reasons reproduced
 * are what the quote promised (mq_resp_compare). */
static int print_verdict(const requote_outcome *o)
{
    if (o->same && o->checked == 0) {
        if (o->remote)
            printf("nothing to check: no result was rated here (%d from remote carriers, which "
                   "rate with their own plans)\n",
                   o->remote);
        else
            printf("nothing to check: no result had a plan to re-rate\n");
        return CLI_UNCHECKED;
    }
    if (o->remote == 0)
        printf("%s\n", o->same ? "reproduced exactly" : "NOT reproduced");
    else
        printf("%s: %d %s re-rated here; %d from remote carriers not checked (they rate with "
               "their own plans)\n",
               o->same ? "reproduced exactly" : "NOT reproduced", o->checked,
               o->checked == 1 ? "result" : "results", o->remote);
    print_wording(o);
    return o->same ? CLI_OK : CLI_FAIL;
}

/* The opened request of saved quote q, parsed again; false after saying
 * why not (a request saved by an older program may no longer be valid). */
static bool parse_saved_request(const mq_store_quote *q, const char *request, mq_arena *a,
                                mq_input *in)
{
    mq_req_errors errs = {0};
    if (mq_req_parse(request, strlen(request), a, in, &errs))
        return true;
    fprintf(stderr, "multiquote requote: quote %s: the saved request no longer parses: %s\n", q->id,
            errs.count ? mq_req_error_text(&errs.items[0], a) : "out of memory");
    return false;
}

int cli_requote(const cli_opts *o)
{
    if (!o->file) {
        fprintf(stderr, "multiquote requote: name a quote id\n");
        return CLI_USAGE;
    }
    char err[512];
    mq_store *st = cli_open_store("requote", o);
    if (!st)
        return CLI_FAIL;
    mq_store_loaded l;
    int found = mq_store_get(st, o->file, &l, err, sizeof err);
    int rc = CLI_FAIL;
    mq_engine *e = NULL;
    json_t *saved = NULL;
    char *request = NULL; /* opened: its personal data unsealed (cmd_privacy.c) */
    mq_arena a;
    mq_arena_init(&a, 0);
    if (found <= 0) {
        fprintf(stderr, "multiquote requote: %s\n", found < 0 ? err : "no quote with this id");
        rc = found < 0 ? CLI_FAIL : CLI_USAGE;
        goto done;
    }
    if (!(e = cli_load_engine(o->plans)))
        goto done;
    mq_input in;
    if (!(saved = json_loads(l.q.response, 0, NULL))) {
        fprintf(stderr, "multiquote requote: quote %s: the saved response no longer parses\n",
                l.q.id);
        goto done;
    }
    if (!(request = cli_open_request(o, &l.q))) /* a missing or wrong key: said */
        goto done;
    bool bundle = strcmp(l.q.line, "bundle") == 0;
    if (!bundle && !parse_saved_request(&l.q, request, &a, &in))
        goto done;
    printf("quote %s of %s (%s, effective %s)\n", l.q.id, l.q.created_at, l.q.line,
           l.q.effective_date);
    requote_outcome out;
    outcome_init(&out, NULL);
    if (bundle ? !requote_bundle(e, &l.q, request, saved, &a, &out)
               : !requote_all(e, &l.q, &in, l.q.response, saved, true, &a, &out))
        goto done;
    rc = print_verdict(&out);
done:
    json_decref(saved);
    free(request);
    mq_arena_free(&a);
    mq_engine_free(e);
    if (found > 0)
        mq_store_loaded_free(&l);
    mq_store_close(st);
    return rc;
}
