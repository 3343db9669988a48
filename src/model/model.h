/* model.h -- requests and responses in the contract's JSON (prefix mq_req_ / mq_resp_).
 *
 * The model turns a request (../shared/contract.md) into the engine's flat
 * mq_input, checking everything a request can get wrong and naming the JSON
 * path of each problem; and turns the engine's results back into the
 * contract's response JSON. Everything it allocates comes from the caller's
 * arena, except the json_t trees and strings returned by mq_resp_*, which
 * the caller releases (json_decref / free).
 */
#ifndef MQ_MODEL_H
#define MQ_MODEL_H

#include "engine.h"

#include <jansson.h>

/* ---- Request ------------------------------------------------------- */

typedef struct mq_req_error {
    const char *path;    /* "drivers[1].date_of_birth" ("" for the whole document) */
    const char *message; /* "not a valid date \"1990-02-30\"" */
} mq_req_error;

typedef struct mq_req_errors {
    mq_req_error items[32]; /* the first 32 problems; `count` may exceed it */
    int count;
} mq_req_errors;

/* Largest request text accepted, in bytes. */
#define MQ_REQ_MAX_BYTES (1024 * 1024)

/* Parses and validates one request. On success fills *in (arena memory) and
 * returns true. On a bad request returns false with errs->count > 0; when
 * the arena runs out returns false with errs->count == 0. */
bool mq_req_parse(const char *text, size_t len, mq_arena *a, mq_input *in, mq_req_errors *errs);

/* Same, from an already parsed JSON document. */
bool mq_req_from_json(json_t *doc, mq_arena *a, mq_input *in, mq_req_errors *errs);

/* `s` in double quotes, escaped as JSON and cut after about 64 bytes on a
 * UTF-8 boundary, for error messages (every front door quotes values so). */
const char *mq_req_quoted(const char *s, char out[160]);

/* "drivers[1].date_of_birth: not a valid date \"1990-02-30\"" (arena). */
const char *mq_req_error_text(const mq_req_error *e, mq_arena *a);

/* ---- Response ------------------------------------------------------ */

typedef struct mq_resp_meta {
    const char *quote_id;   /* NULL: omitted */
    const char *created_at; /* RFC 3339 UTC; NULL: omitted */
    bool elapsed_ms;        /* each result's elapsed_ms (the API's answers; the command
                               line and batch leave it out, so their output repeats) */
} mq_resp_meta;

typedef struct mq_tip_list mq_tip_list;

/* The contract's response as compact JSON text (what POST /v1/quotes answers
 * and stores), with "tips" appended when given. Caller frees; NULL on OOM. */
char *mq_resp_text(const mq_input *in, const mq_result *results, int nresults,
                   const mq_resp_meta *meta, const mq_tip_list *tips);

/* The contract's response object for these (already sorted) results. */
json_t *mq_resp_build(const mq_input *in, const mq_result *results, int nresults,
                      const mq_resp_meta *meta);

/* One result object as compact JSON text, with its elapsed_ms (a carrier
 * endpoint's answer, a streamed event). Caller frees; NULL on OOM. */
char *mq_resp_result_text(const mq_input *in, const mq_result *r);

/* One result object (as an element of "results"). */
json_t *mq_resp_result(const mq_input *in, const mq_result *r);

/* The worksheet of one result: {"carrier", "plan", "status", "steps": [...]};
 * a quoted health plan's steps end with the premium tax credit (op "-",
 * detail: the benchmark and expected contribution, or why there is none)
 * and the net premium, once the market was applied (mq_rate_market). */
json_t *mq_resp_worksheet(const mq_input *in, const mq_result *r);

/* Money in whole cents as a JSON number with exactly its cents (714.0, 1018.67). */
json_t *mq_resp_money(int64_t cents);

/* Significant digits of the reals in every JSON text the front doors write
 * (15: cents / 100.0 prints with exactly its cents). */
#define MQ_RESP_PRECISION 15

/* Serialises with the flags every front door uses (money exact, keys in
 * insertion order, indented when `pretty`). Caller frees. */
char *mq_resp_dump(const json_t *doc, bool pretty);

/* What a saved response says each result was rated with (a quote's, not a
 * bundle's): carrier, plan id and version ("" when the carrier had no plan),
 * status, total in cents (-1 when not quoted), and whether a remote carrier
 * rated it with its own plan (the result's "remote": true; false for results
 * saved before it was recorded, which are taken as rated here). A health
 * result also says which benchmark its credit came from (its "benchmark":
 * plan id and version, "" when null, and candidates); benchmark_recorded is
 * false for other lines, health results with no market in effect, and
 * health quotes saved before it was recorded. */
typedef struct mq_saved_result {
    const char *carrier, *plan_id, *version, *status;
    int64_t total_cents;
    bool remote;
    bool benchmark_recorded;
    const char *benchmark_plan_id, *benchmark_version;
    int benchmark_candidates;
    /* What the files that priced it were (each "" when the quote did not
     * record it: saved before digests were, a remote carrier's plan, no
     * plan): the digest of its plan version's files ("plan": "digest"),
     * health's benchmark plan's ("benchmark": "plan": "digest") and the
     * market's id and the digest of its market.yaml ("market"). */
    const char *digest, *benchmark_digest, *market_id, *market_digest;
    /* health, quoted with the market applied: the tax credit in cents
     * ("tax_credit"); -1 otherwise */
    int64_t credit_cents;
    int term_months; /* "premium": "term_months"; 0 when not quoted */
} mq_saved_result;

/* A result records the first MQ_RESP_DIGEST_CHARS hex digits of each digest
 * (64 bits: enough to tell files edited since, at a quarter of the bytes
 * that the full 64 would add to every saved quote, ~600 of them for the
 * ten results of a family's auto quote, random text that packs to nothing). */
enum { MQ_RESP_DIGEST_CHARS = 16 };

/* Whether `recorded`, a digest as a result recorded it (its first hex
 * digits), is that of `now`, a full digest (NULL: none). */
bool mq_resp_digest_same(const char *recorded, const char *now);

/* Reads them from the response text; strings live in the arena. Returns how
 * many, or -1 when the text is not a quote response or memory ran out. */
int mq_resp_saved_results(const char *response, mq_arena *a, mq_saved_result **out);

/* Takes out of result object r (an element of "results") what names the
 * files that priced it -- "plan"'s "digest", "benchmark"'s plan's
 * "digest", "market" -- leaving what it priced: two results compare equal
 * without them when their prices are the same, whichever files (or
 * whether a quote saved before they were recorded) say so. */
void mq_resp_strip_identity(json_t *r);

/* ---- A saved result against the same rated again (compare.c) ---------
 *
 * What requote and a saved quote's worksheet compare: every member of a
 * result is substance (what the quote promised: carrier, plan id and
 * version, status, every money figure, reasons...) except the members
 * compare.c's table names as wording (notes, credit_note, fees' names,
 * verifies) or as not compared (digests, market, elapsed_ms). */

typedef enum mq_resp_diff_kind {
    MQ_DIFF_SUBSTANCE, /* something the quote showed is otherwise or gone: not reproduced */
    MQ_DIFF_WORDING,   /* explanatory text reads otherwise (or is gone) */
    MQ_DIFF_NEW,       /* a member now that the saved result lacks: the quote never showed it */
    MQ_DIFF_IGNORED,   /* (a rule only: members never compared) */
} mq_resp_diff_kind;

typedef struct mq_resp_diff {
    mq_resp_diff_kind kind;
    const char *path;         /* "fees[0].amount" (arena) */
    const json_t *then, *now; /* borrowed from the results compared; NULL where absent */
} mq_resp_diff;

typedef struct mq_resp_diffs {
    mq_resp_diff *items; /* arena; in the order of now's members, then the saved one's */
    int count, cap;
    int substance; /* how many are MQ_DIFF_SUBSTANCE */
} mq_resp_diffs;

/* Compares saved result `then` with `now` (mq_resp_result), member by
 * member, into *out. False when memory ran out. */
bool mq_resp_compare(const json_t *then, const json_t *now, mq_arena *a, mq_resp_diffs *out);

/* The first difference of substance, or NULL when there is none. */
const mq_resp_diff *mq_resp_first_substance(const mq_resp_diffs *d);

/* The result object of `carrier` and `plan_id` ("" for none) in parsed
 * saved response `response` (borrowed), or NULL. */
json_t *mq_resp_saved_object(const json_t *response, const char *carrier, const char *plan_id);

/* The two values of a difference as compact JSON (money as written,
 * 714.0; "nothing" for NULL), each cut after about `max` bytes with "...";
 * two strings that begin alike both start "..." a little before they
 * part, so that the words that differ show. Arena memory; false when
 * memory ran out. */
bool mq_resp_diff_texts(const json_t *then, const json_t *now, size_t max, mq_arena *a,
                        const char **then_text, const char **now_text);

/* The benchmark saved result `row` recorded, its plan version found among
 * e's plans, in *out (for mq_rate_market_given): 1 when it is there
 * (out->plan NULL when no plan of the benchmark metal quoted then); 0 when
 * the row recorded none (a quote saved before benchmarks were recorded, or
 * another line: choose it from the plans in effect, mq_rate_market); -1
 * when its plan version is not loaded. out->market_id is the market the
 * quote used (NULL when it recorded none), whose rules then apply while it
 * is loaded. */
int mq_resp_saved_benchmark(const mq_engine *e, const mq_saved_result *row, mq_benchmark *out);

/* One of the savings tips a saved response recorded ("tips"): each string
 * "" and each amount -1 when the tip lacks it (or it is not one). */
typedef struct mq_saved_tip {
    const char *carrier, *plan, *change;
    int64_t saving_cents, new_total_cents;
} mq_saved_tip;

/* Reads them from the response text; strings live in the arena. Returns how
 * many; -1 when it records none ("tips" absent, or not a list: a quote
 * saved before tips were, a bundle's part), -2 when memory ran out or the
 * text is not JSON. */
int mq_resp_saved_tips(const char *response, mq_arena *a, mq_saved_tip **out);

/* ---- Bundles (bundle.c): auto and home or renters together ----------- */

typedef struct mq_bundle_input {
    mq_input auto_in, property_in;
    mq_line property_line; /* MQ_LINE_HOME or MQ_LINE_RENTERS */
} mq_bundle_input;

typedef struct mq_bundle_quote {
    mq_result auto_r, property_r;  /* rated with the multi-line fact set */
    int64_t annual_cents;          /* both, for a year */
    int64_t separate_annual_cents; /* the same carrier's two quotes without the bundle */
} mq_bundle_quote;

typedef struct mq_bundle_result {
    mq_result *auto_res, *property_res; /* separate quotes, sorted */
    int nauto, nproperty;
    mq_bundle_quote *bundles; /* carriers quoting both, by annual cost */
    int nbundles;
    const mq_result *best_auto, *best_property; /* cheapest separate quotes */
    int64_t best_separate_cents;                /* their annual cost together */
} mq_bundle_result;

bool mq_req_is_bundle(const json_t *doc);
/* Parses {"line": "bundle", envelope..., "auto": {...}, "home"|"renters": {...}};
 * errors are named by their path in the bundle ("home.dwelling.year_built"). */
bool mq_req_bundle_from_json(json_t *doc, mq_arena *a, mq_bundle_input *b, mq_req_errors *errs);
/* Runs a check of single-line requests (intake's reference data) on each
 * part of a bundle that mq_req_bundle_from_json accepted, as the request of
 * its own line, with errors named by their path in the bundle. True when
 * nothing was added; false with none added when memory ran out. */
typedef bool (*mq_req_part_check)(const void *arg, const json_t *request, mq_arena *a,
                                  mq_req_errors *errs);
bool mq_req_bundle_check(const json_t *bundle, mq_req_part_check check, const void *arg,
                         mq_arena *a, mq_req_errors *errs);
bool mq_bundle_rate(const mq_engine *e, const mq_bundle_input *b, mq_arena *a,
                    mq_bundle_result *out);
/* The two parts as a bundle rates them: copies of b's requests whose policy
 * rows say they are part of a bundle (the multi-line fact set), their rows
 * in `a`. False when memory ran out. */
bool mq_bundle_parts(const mq_bundle_input *b, mq_arena *a, mq_input *auto_in,
                     mq_input *property_in);
/* The same with the carrier selection of `opts` (rate_here, asked_elsewhere,
 * carrier_arg: a server's registry), so a bundle compares the carriers a
 * single-line quote would; remote carriers are not asked for bundles. */
bool mq_bundle_rate_with(const mq_engine *e, const mq_bundle_input *b, const mq_rate_opts *opts,
                         mq_arena *a, mq_bundle_result *out);
/* {quote_id?, line: "bundle", effective_date, created_at?, auto: {...}, home: {...},
 *  bundles: [...], best_separate: {...}} as compact text; caller frees. */
char *mq_resp_bundle_text(const mq_bundle_input *b, const mq_bundle_result *r,
                          const mq_resp_meta *meta);

/* ---- Savings tips (tips.c) ----------------------------------------- */

/* How many of the cheapest quotes get tips. */
enum { MQ_TIPS_FOR_CHEAPEST = 3 };

/* The legal minimum liability limits where the policy is written (whole
 * dollars); a tip never goes below them. */
typedef struct mq_tip_minimums {
    int bi_per_person, bi_per_accident;
} mq_tip_minimums;

/* One change a carrier's own plan prices lower. */
typedef struct mq_tip {
    const char *carrier; /* carrier id */
    const char *plan;    /* plan id */
    const char *change;  /* in words: "Choose paperless documents" */
    int64_t saving_cents, new_total_cents;
} mq_tip;

struct mq_tip_list {
    mq_tip *items; /* arena memory */
    int count;
};

/* The changes the cheapest carriers' own plans price lower, in *out (arena
 * memory): the three quotes that cost least a month, cheapest first (a
 * 12-month total is not compared with a 6-month one). Lower liability limits
 * are suggested only when `min` is given, and never below it; a bundle only
 * from a carrier that e says writes the other policy in the shopper's state
 * on the effective date. False when the arena runs out (never fewer tips). */
bool mq_resp_tip_list(const mq_engine *e, const mq_input *in, const mq_result *res, int n,
                      const mq_tip_minimums *min, mq_arena *a, mq_tip_list *out);

/* The same as the contract's JSON: [{carrier, plan, change, saving,
 * new_total}]; NULL when memory runs out. */
json_t *mq_resp_tips(const mq_engine *e, const mq_input *in, const mq_result *res, int n,
                     const mq_tip_minimums *min, mq_arena *a);

/* The indexes of the (at most MQ_TIPS_FOR_CHEAPEST) quoted results with a
 * local plan that cost least a month, cheapest first, into pick[] (the ones
 * mq_resp_tip_list gives tips to; equal ones in the order of res); returns
 * how many. */
int mq_resp_tip_cheapest(const mq_result *res, int n, int pick[MQ_TIPS_FOR_CHEAPEST]);

/* What a tip changes, apart from its words (requote compares tips so):
 * the kind of change, and what it names. */
typedef enum mq_tip_kind {
    MQ_TIP_UNKNOWN,     /* words no program of ours wrote: compared as they are */
    MQ_TIP_DEDUCTIBLES, /* auto: comprehensive and collision deductibles to 1,000 */
    MQ_TIP_PAPERLESS,
    MQ_TIP_BUNDLE,
    MQ_TIP_DROP_COLLISION,     /* on vehicle `vehicle` */
    MQ_TIP_LOWER_BI,           /* to amount[0] per person / amount[1] per accident */
    MQ_TIP_PROPERTY_DEDUCTIBLE /* home, renters: the all-peril deductible to amount[0] */
} mq_tip_kind;

typedef struct mq_tip_change {
    mq_tip_kind kind;
    int64_t amount[2];
    const char *vehicle; /* vehicle_len bytes inside `text` */
    size_t vehicle_len;
    const char *text; /* the words read (borrowed) */
} mq_tip_change;

/* Reads what a tip's words ("change") change, in every wording a program of
 * ours has written since tips were saved ("Raise comprehensive and
 * collision deductibles to 1,000" as "Raise the collision deductible to
 * 1,000"; the bundle's and the lower limits' older sentences). Words it
 * cannot place are MQ_TIP_UNKNOWN. Never fails; NULL reads as "". */
void mq_tip_change_read(const char *text, mq_tip_change *out);

/* Whether two tips change the same thing (words of unknown kind: the same
 * words). */
bool mq_tip_change_same(const mq_tip_change *x, const mq_tip_change *y);

/* ---- Catalog (catalog.c) ------------------------------------------ */

/* {"carriers": [{id, name, rating, kind, lines, plans: [...]}]} */
json_t *mq_resp_carriers(const mq_engine *e);
/* {"plans": [{id, carrier, version, effective, line, states, term_months, coverages}]} */
json_t *mq_resp_plans(const mq_engine *e);
json_t *mq_resp_plan_info(const mq_plan_info *pi);

#endif
