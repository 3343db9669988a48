/* engine.h -- the rating engine's whole public surface (prefix mq_).
 *
 * Plans in, numbers out. The engine loads carrier rate plans (a folder with
 * plan.yaml and CSV tables), compiles every expression and table once, and
 * rates a request, already turned into a flat mq_input by src/model, against
 * every applicable plan. It does no I/O beyond loading plans.
 *
 * Ownership: an mq_engine owns every plan it loaded; plans are immutable after
 * load and may be shared by threads. Rating allocates only from the caller's
 * mq_arena, so one mq_arena_free() releases a whole request.
 */
#ifndef MQ_ENGINE_H
#define MQ_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>

/* ---- Arena: request-lifetime memory --------------------------------- */

typedef struct mq_arena_block mq_arena_block;
typedef struct mq_arena {
    mq_arena_block *head;
    size_t used_bytes; /* total bytes handed out, for limits and tests */
    size_t limit;      /* 0 = unlimited; mq_arena_alloc returns NULL past it */
} mq_arena;

void mq_arena_init(mq_arena *a, size_t limit);
void *mq_arena_alloc(mq_arena *a, size_t size); /* zeroed, 16-aligned, NULL on failure */
char *mq_arena_strdup(mq_arena *a, const char *s);
char *mq_arena_printf(mq_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The n (at most 8) strings one after another (NULL reads "(null)", as
 * printf's %s does), without printf. NULL when out of memory. */
char *mq_arena_concat(mq_arena *a, const char *const *parts, int n);
void mq_arena_free(mq_arena *a);

/* ---- Dates: days since 1970-01-01 (proleptic Gregorian) ------------- */

bool mq_date_parse(const char *s, int32_t *days); /* strict YYYY-MM-DD */
/* Why mq_date_parse refuses s: "write it as YYYY-MM-DD", "no such day",
 * "the year must be from 1800 to 2200"; "" when it takes it. */
const char *mq_date_problem(const char *s);
void mq_date_format(int32_t days, char out[11]);
int32_t mq_date_from_ymd(int y, int m, int d);
void mq_date_to_ymd(int32_t days, int *y, int *m, int *d);
int mq_date_age(int32_t birth, int32_t on);           /* whole years; 29 Feb -> 1 Mar */
int mq_date_age_nearest(int32_t birth, int32_t on);   /* from 6 months past; 29 Feb -> 1 Mar */
int mq_date_months_between(int32_t from, int32_t to); /* whole months, may be negative */
int32_t mq_date_add_months(int32_t day, int months);  /* clamps to month end */

/* ---- Schema: the rating vocabulary of each line -------------------- */

/* Entity kinds. Every request has exactly one policy; the others are lists. */
typedef enum {
    MQ_ENT_POLICY,
    MQ_ENT_DRIVER,
    MQ_ENT_VEHICLE,
    MQ_ENT_INCIDENT,
    MQ_ENT_CLAIM,  /* home and renters: prior property claims */
    MQ_ENT_MEMBER, /* health: covered household members */
    MQ_ENT_COUNT
} mq_entity_kind;

typedef enum {
    MQ_LINE_AUTO,
    MQ_LINE_HOME,
    MQ_LINE_RENTERS,
    MQ_LINE_TERM_LIFE,
    MQ_LINE_HEALTH,
    MQ_LINE_COUNT
} mq_line;

typedef enum {
    MQ_T_NUMBER, /* absent = NaN */
    MQ_T_BOOL,   /* 0 or 1 */
    MQ_T_DATE,   /* days since epoch */
    MQ_T_ENUM,   /* symbol code from the field's domain (mq_symbol_*) */
    MQ_T_LINK    /* index of an entity of kind `link` */
} mq_type;

typedef struct mq_field_def {
    const char *name; /* as plans write it after "kind.", e.g. "license.first_licensed" */
    mq_type type;
    int domain;          /* for MQ_T_ENUM: an mq_domain */
    mq_entity_kind link; /* for MQ_T_LINK */
    const char *doc;     /* one line for docs and `multiquote check --schema` */
} mq_field_def;

typedef enum {
    MQ_DOM_NONE,
    MQ_DOM_STATE,
    MQ_DOM_GENDER,
    MQ_DOM_MARITAL,
    MQ_DOM_USE,
    MQ_DOM_INCIDENT,
    MQ_DOM_CONSTRUCTION, /* frame, masonry, masonry_veneer, fire_resistive */
    MQ_DOM_ROOF,         /* asphalt_shingle, architectural_shingle, metal, tile, slate, ... */
    MQ_DOM_CLAIM,        /* water, wind, hail, fire, theft, liability, other */
    MQ_DOM_PAYMENT_MODE, /* annual, semiannual, quarterly, monthly */
    MQ_DOM_HEALTH_CLASS, /* preferred_plus, preferred, standard_plus, standard, tobacco_* */
    MQ_DOM_RELATIONSHIP, /* self, spouse, child */
    MQ_DOM_METAL,        /* bronze, silver, gold, platinum, catastrophic */
    MQ_DOM_COUNT
} mq_domain;

typedef struct mq_coverage_def {
    const char *code;     /* "bi" */
    const char *name;     /* "Bodily injury liability" */
    mq_entity_kind scope; /* where the shopper chooses it: policy or vehicle */
    int presence_field;   /* field of `scope` that is non-NaN when chosen */
    int limit_fields[2];  /* fields shown as limits (-1 when none) */
    const char *limit_names[2];
} mq_coverage_def;

typedef struct mq_line_def {
    const char *name;                       /* "auto" */
    const char *words;                      /* the line in a sentence: "term life" */
    mq_entity_kind unit;                    /* what one premium unit is: a vehicle, or the policy */
    const char *entity_names[MQ_ENT_COUNT]; /* "driver" ... NULL when unused */
    const char *collection_names[MQ_ENT_COUNT]; /* "drivers" ... */
    mq_entity_kind parent[MQ_ENT_COUNT];        /* list owner (policy for top lists) */
    const mq_field_def *fields[MQ_ENT_COUNT];
    int nfields[MQ_ENT_COUNT];
    int link_plus1[MQ_ENT_COUNT]; /* 1 + the kind's MQ_T_LINK field (0: none), for speed */
    const mq_coverage_def *coverages;
    int ncoverages;
} mq_line_def;

/* Field indexes of the auto line, in storage order (see schema.c). */
enum {
    MQ_AP_EFFECTIVE_DATE,
    MQ_AP_STATE,
    MQ_AP_ZIP,
    MQ_AP_APPLICANT_DOB,
    MQ_AP_HOMEOWNER,
    MQ_AP_PAPERLESS,
    MQ_AP_BI_PER_PERSON,
    MQ_AP_BI_PER_ACCIDENT,
    MQ_AP_PD_LIMIT,
    MQ_AP_MED_LIMIT,
    MQ_AP_UM_PER_PERSON,
    MQ_AP_UM_PER_ACCIDENT,
    MQ_AP_BUNDLE,
    MQ_AUTO_POLICY_NFIELDS
};
enum {
    MQ_AD_DATE_OF_BIRTH,
    MQ_AD_GENDER,
    MQ_AD_MARITAL,
    MQ_AD_LICENSE_STATE,
    MQ_AD_FIRST_LICENSED,
    MQ_AD_STUDENT_GPA,
    MQ_AUTO_DRIVER_NFIELDS
};
enum {
    MQ_AV_YEAR,
    MQ_AV_SYMBOL,
    MQ_AV_GARAGING_ZIP,
    MQ_AV_ANNUAL_MILES,
    MQ_AV_USE,
    MQ_AV_ANTI_THEFT,
    MQ_AV_PRINCIPAL_DRIVER,
    MQ_AV_COMP_DEDUCTIBLE,
    MQ_AV_COLL_DEDUCTIBLE,
    MQ_AUTO_VEHICLE_NFIELDS
};
enum { MQ_AI_TYPE, MQ_AI_DATE, MQ_AI_MPH_OVER, MQ_AI_AMOUNT, MQ_AUTO_INCIDENT_NFIELDS };
enum { MQ_COV_BI, MQ_COV_PD, MQ_COV_MED, MQ_COV_UM, MQ_COV_COMP, MQ_COV_COLL, MQ_AUTO_NCOVERAGES };

/* Home (HO-3) and renters (HO-4) share one policy row; renters leave the
 * dwelling and coverage A/B fields missing and fill unit.* instead. */
enum {
    MQ_HP_EFFECTIVE_DATE,
    MQ_HP_STATE,
    MQ_HP_ZIP,
    MQ_HP_APPLICANT_DOB,
    MQ_HP_PAPERLESS,
    MQ_HP_YEAR_BUILT,
    MQ_HP_CONSTRUCTION,
    MQ_HP_SQUARE_FEET,
    MQ_HP_STORIES,
    MQ_HP_ROOF_YEAR,
    MQ_HP_ROOF_TYPE,
    MQ_HP_PROTECTION_CLASS,
    MQ_HP_REPLACEMENT_COST,
    MQ_HP_SMOKE_DETECTORS,
    MQ_HP_SPRINKLERS,
    MQ_HP_BURGLAR_ALARM,
    MQ_HP_FLOOR,
    MQ_HP_COV_A,
    MQ_HP_COV_B,
    MQ_HP_COV_C,
    MQ_HP_COV_D,
    MQ_HP_COV_E,
    MQ_HP_COV_F,
    MQ_HP_DEDUCTIBLE,
    MQ_HP_BUNDLE,
    MQ_HOME_POLICY_NFIELDS
};
enum { MQ_HC_TYPE, MQ_HC_DATE, MQ_HC_AMOUNT, MQ_CLAIM_NFIELDS };
enum { MQ_COV_PROPERTY, MQ_COV_LIABILITY, MQ_COV_MED_PAY, MQ_HOME_NCOVERAGES };

enum {
    MQ_LP_EFFECTIVE_DATE,
    MQ_LP_STATE,
    MQ_LP_ZIP,
    MQ_LP_DATE_OF_BIRTH,
    MQ_LP_GENDER,
    MQ_LP_FACE_AMOUNT,
    MQ_LP_TERM_YEARS,
    MQ_LP_PAYMENT_MODE,
    MQ_LP_TOBACCO,
    MQ_LP_HEIGHT_IN,
    MQ_LP_WEIGHT_LB,
    MQ_LP_BP_TREATED,
    MQ_LP_CHOLESTEROL_TREATED,
    MQ_LP_DIABETES,
    MQ_LP_FAMILY_HEART,
    MQ_LP_HEALTH_CLASS,
    MQ_LIFE_POLICY_NFIELDS
};
enum { MQ_COV_LIFE, MQ_LIFE_NCOVERAGES };

enum {
    MQ_XP_EFFECTIVE_DATE,
    MQ_XP_STATE,
    MQ_XP_ZIP,
    MQ_XP_COUNTY,
    MQ_XP_HOUSEHOLD_SIZE,
    MQ_XP_INCOME,
    MQ_HEALTH_POLICY_NFIELDS
};
enum { MQ_XM_RELATIONSHIP, MQ_XM_DATE_OF_BIRTH, MQ_XM_TOBACCO, MQ_MEMBER_NFIELDS };
enum { MQ_COV_PREMIUM, MQ_HEALTH_NCOVERAGES };

const mq_line_def *mq_line_get(mq_line line);
int mq_line_find(const char *name);                                          /* -1 when unknown */
int mq_field_find(const mq_line_def *l, mq_entity_kind k, const char *name); /* -1 */
int mq_coverage_find(const mq_line_def *l, const char *code);                /* -1 */

/* Symbols of an enum domain: codes are small ints, stable within a build. */
int mq_symbol_find(mq_domain d, const char *name); /* -1 when not in the domain */
const char *mq_symbol_name(mq_domain d, int code);
int mq_symbol_count(mq_domain d);

/* ---- Input: one request, flattened for rating ----------------------- */

/* Filled by src/model from a validated request. Values are doubles, row-major:
 * values[k][i * nfields[k] + f]. Children (e.g. incidents) are stored grouped
 * by their parent, with start[k][p] .. start[k][p+1] the children of parent p. */
typedef struct mq_input {
    mq_line line;
    int32_t count[MQ_ENT_COUNT];
    double *values[MQ_ENT_COUNT];
    int32_t *start[MQ_ENT_COUNT];   /* n(parent)+1 offsets, for kinds whose parent is not policy */
    const char **ids[MQ_ENT_COUNT]; /* entity ids as the request named them ("d1", "v1") */
    int32_t effective_date;
    int state;             /* MQ_DOM_STATE symbol of the applicant's address */
    const char **carriers; /* restrict to these carrier ids; NULL = all */
    int ncarriers;
    unsigned metals; /* health: bit per MQ_DOM_METAL code to show; 0 = all */
} mq_input;

/* Allocates count/values/start/ids for the given counts from the arena;
 * every value starts as NaN. Returns false when the arena is exhausted. */
bool mq_input_alloc(mq_input *in, mq_arena *a, mq_line line, const int32_t count[MQ_ENT_COUNT]);
double *mq_input_row(const mq_input *in, mq_entity_kind k, int32_t i);

/* ---- Engine and plans ----------------------------------------------- */

typedef struct mq_engine mq_engine;
typedef struct mq_plan mq_plan;

typedef struct mq_diag {
    char *text; /* "plans/harbor/oh-auto/plan.yaml:42: unknown table \"territoy\"" */
} mq_diag;

typedef struct mq_diags {
    mq_diag *items;
    int count, cap;
} mq_diags;

void mq_diags_free(mq_diags *d);

/* Loads every plan folder (a folder holding plan.yaml) found under `dir`,
 * recursively, or the one plan folder `dir` is. On any error returns NULL and
 * fills `diags` (each names file:line); on success `diags` may hold warnings. */
mq_engine *mq_engine_load(const char *dir, mq_diags *diags);
void mq_engine_free(mq_engine *e);

int mq_engine_plan_count(const mq_engine *e);

/* What mq_engine_lint knows of the states, from the intake's state rules
 * (the engine has none of its own); each may be NULL, and its checks are
 * then skipped. */
typedef struct mq_lint_states {
    /* whether ZIP codes PPP00-PPP99 (prefix 0-999) are street addresses of
     * `state` (an MQ_DOM_STATE code) */
    bool (*zip_in_state)(void *ctx, int state, int prefix);
    /* the least BI per person, per accident and PD limits a policy of
     * `state` carries on `day`, whole dollars (0: none); false: unknown */
    bool (*minimums)(void *ctx, int state, int32_t day, int out[3]);
    void *ctx;
} mq_lint_states;
/* What `multiquote check` adds to loading (docs/plan-format.md §6): each
 * table looked up by a ZIP field must have a row for every ZIP code of the
 * plan's states, each table looked up by a variable that is a lookup
 * itself (vehicle.territory) a row for every value that variable's table
 * gives, a one-key table a row for each value between its rows, and an
 * auto plan's limit tables a rate for each state's minimum limits. A miss
 * where the shopper would get an error (a table without missing:) goes to
 * `errors`, one the table's missing: answers to `warnings`, with rows no
 * shopper can reach, empty factors of tables of several keys, factors that
 * look like percentages and dates that look mistyped. */
void mq_engine_lint(const mq_engine *e, const mq_lint_states *states, mq_diags *errors,
                    mq_diags *warnings);

/* ---- YAML files (plan.c), shared by the plan, market and carrier
 * registry loaders ---------------------------------------------------- */

/* Checks YAML text before libfyaml sees it: `len` bytes of well-formed
 * UTF-8, only the characters YAML allows (no NUL or other control
 * characters but tab and line breaks), and no directive ("%..." at a line's
 * start, lines ending in LF, CR LF or CR). Returns 0, or the 1-based line of
 * the first problem with what it is in `why`. Plans, markets and carrier
 * registries never need what it refuses, and libfyaml 0.7.12 loops forever
 * on some malformed directives and leaks on some malformed UTF-8. */
int mq_yaml_check_text(const char *text, size_t len, char *why, size_t whylen);

/* A YAML file as a libfyaml document: read (at most `max` bytes), checked
 * (mq_yaml_check_text) and parsed with libfyaml's errors collected, never
 * printed. NULL with "path: why" or "path:line[:column]: why" in err. On
 * success *text holds the file's text, which the document points into:
 * free it after fy_document_destroy. */
struct fy_document *mq_yaml_load(const char *path, size_t max, char **text, char *err,
                                 size_t errlen);

/* A node's 1-based line in its file (a mapping's or list's: its first key's
 * or item's); 0 when unknown. */
struct fy_node;
int mq_yaml_line(struct fy_node *n);
const mq_plan *mq_engine_plan(const mq_engine *e, int i);

typedef struct mq_plan_info {
    const char *carrier_id, *carrier_name, *carrier_rating, *carrier_kind;
    const char *plan_id, *version, *path;
    int32_t effective; /* first day the version applies */
    int32_t until;     /* last day it applies; 0: no end */
    mq_line line;
    const int *states; /* MQ_DOM_STATE codes */
    int nstates;
    int term_months;
    int ncoverages;
    const char *const *coverage_codes;
    const char *product_name; /* health: the plan's marketing name; else NULL */
    int metal;                /* health: MQ_DOM_METAL code; else -1 */
    /* SHA-256 (64 hex digits) of plan.yaml and every CSV file of the
     * version, in name order, taken at load: equal on nodes that agree */
    const char *digest;
} mq_plan_info;

void mq_plan_get_info(const mq_plan *p, mq_plan_info *info);

/* Whether rating plan p can read input field `field` (an index into the
 * line's mq_line_def.fields[kind], e.g. MQ_AP_PAPERLESS or MQ_AV_ANTI_THEFT)
 * of entities of `kind`. When false, a request that differs from another
 * only in that field gets the same result from p: a caller (the savings
 * tips) need not rate p again to find out. Worked out at load, so this is
 * two reads. Conservative -- true whenever in doubt: any field loaded by any
 * of the plan's programs (derived variables, even unused ones; eligibility;
 * bases, omit_when, steps, table keys, discounts; the term life class; the
 * conditions and values of their aggregates), plus what the engine reads
 * for every plan of the line (effective date, state, the coverages'
 * presence fields, link fields such as a vehicle's principal driver, term
 * life's payment mode); every field of a health plan (its net premium
 * depends on the market's benchmark plan); and a kind or field that is not
 * one of the line's. A coverage's limit fields shown in the response
 * (mq_coverage_def.limit_fields) count only when the plan reads them. */
bool mq_plan_reads(const mq_plan *p, mq_entity_kind kind, int field);

/* Picks, for each carrier writing `line`, the plan for `state` whose effective
 * date is the latest on or before `on` (none when that version's `until`
 * has passed: an older version it replaced does not rate again). Fills
 * plans[] (at most cap) and returns the number of carriers; a carrier with
 * no applicable plan is returned with plans[i] == NULL and its id in
 * carrier_ids[i]. */
int mq_engine_select(const mq_engine *e, mq_line line, int state, int32_t on, const mq_plan **plans,
                     const char **carrier_ids, int cap);
const mq_plan *mq_engine_find_version(const mq_engine *e, const char *plan_id, const char *version);

/* ---- Rating --------------------------------------------------------- */

typedef enum { MQ_QUOTED, MQ_DECLINED, MQ_UNAVAILABLE, MQ_ERROR, MQ_TIMEOUT } mq_status;

const char *mq_status_name(mq_status s);

typedef struct mq_cov_premium {
    int coverage; /* index into the line's mq_coverage_def table */
    int32_t unit; /* vehicle index, or 0 for a policy-unit line */
    int64_t cents;
} mq_cov_premium;

typedef struct mq_fee {
    const char *name;
    int64_t cents;
} mq_fee;

typedef struct mq_verify {
    const char
        *check;       /* motor_vehicle_record | claims_history | insurance_score | inspection ... */
    const char *text; /* what it verifies, for the shopper */
} mq_verify;

/* One worksheet line: a rating step for one coverage on one unit. */
typedef struct mq_work_step {
    int coverage; /* -1 for policy-level lines (minimum premium, fees, total) */
    int32_t unit;
    const char *name;   /* "Territory" */
    const char *table;  /* table looked up, or NULL */
    const char *key;    /* key values as text, "1" or "35, married" (arena) */
    const char *detail; /* e.g. the discounts that applied (arena), or NULL */
    double factor;      /* factor, amount added or rounded value */
    char op;            /* '=' start, '*' factor, '+' add, 'r' round, 'm' minimum */
    double running;
} mq_work_step;

/* Health: the benchmark plan the premium tax credit was worked out from
 * (the market's rank-th cheapest plan of its metal level, priced for the
 * household without tobacco use), as mq_rate_market found it. */
typedef struct mq_benchmark {
    const mq_plan *plan; /* NULL when no plan of the benchmark metal quoted */
    int64_t cents;       /* its monthly premium for the household; -1 with no plan */
    int candidates;      /* how many plans of its metal quoted (0 with no plan) */
    /* the market whose rules chose it and worked the credit out: its id
     * and the SHA-256 (64 hex digits) of its market.yaml as loaded, so a
     * saved quote can tell later whether that file was edited (set by
     * the market rules; a `given` benchmark's market_id chooses the
     * market, mq_rate_market_given, and its digest is not read) */
    const char *market_id, *market_digest;
} mq_benchmark;

typedef struct mq_result {
    const char *carrier_id, *carrier_name, *carrier_rating;
    const mq_plan *plan; /* NULL when the carrier has no plan for the request */
    /* A remote carrier's own plan id and version (plan is NULL then), and
     * the digest of its files when the carrier sends one (a multiquote node
     * does: plan.digest), NULL otherwise */
    const char *remote_plan_id, *remote_plan_version, *remote_plan_digest;
    mq_status status;
    /* health: the plan's metal level, an MQ_DOM_METAL code; -1 when not a
     * health plan (here, in the room after status, so that recording the
     * benchmark below left the struct, zeroed for every rating, its size) */
    int metal;
    const char **reasons; /* declined/unavailable/error, arena strings */
    int nreasons;
    const char **notes;
    int nnotes;
    mq_cov_premium *coverages;
    int ncoverages;
    mq_fee *fees;
    int nfees;
    int64_t premium_cents; /* sum of coverages, after the minimum */
    int64_t fees_cents;
    int64_t total_cents; /* premium + fees */
    bool minimum_applied;
    int term_months;
    const mq_verify *verifies;
    int nverifies;
    mq_work_step *steps; /* only when asked for */
    int nsteps;
    int64_t elapsed_ns; /* time this carrier's answer took (rating, or a remote call) */
    /* term_life: the class the carrier placed the applicant in */
    const char *health_class;
    /* health: the plan's product facts and the premium tax credit */
    const char *plan_name; /* and `metal`, above */
    int64_t deductible_cents, out_of_pocket_max_cents;
    int64_t gross_cents, credit_cents, net_cents;
    const char *credit_note; /* why there is no credit, or how it was found */
    /* the benchmark the credit came from, shared by every result of the
     * quote (arena): set by the market rules (mq_rate_market), NULL when
     * none were applied (other lines, no market in effect) */
    const mq_benchmark *benchmark;
} mq_result;

/* Derived variables kept from one rating of a plan for the next ratings of
 * the same plan on variants of the request (the savings tips change one
 * field at a time). Opaque; see mq_rate_opts.memo. */
typedef struct mq_rate_memo mq_rate_memo;

/* An empty memo. It and everything it later keeps come from arena `a` and
 * are released with it. NULL when out of memory. */
mq_rate_memo *mq_rate_memo_new(mq_arena *a);

typedef struct mq_rate_opts {
    bool worksheet; /* record every step (explain); off on the fast path */
    /* Only the status and the amounts are wanted (status, premium_cents,
     * fees_cents, total_cents, minimum_applied; a term life plan's
     * health_class): the result's coverages, notes and reasons are left
     * empty (NULL, count 0), and their texts are never formatted. Ignored
     * with the worksheet. The amounts are the same as without it. */
    bool totals_only;
    /* NULL, or a memo (mq_rate_memo_new) shared by ratings of one plan: the
     * first rating whose variables are computed keeps them in it; a later
     * rating of the same plan whose request has the same values in every
     * field the plan's derived variables read (mq_plan_reads' programs,
     * variables only) copies them instead of computing them. The engine
     * checks that itself, so a variant that changes such a field is simply
     * computed in full: results are the same with or without a memo. Not
     * for sharing between threads. */
    mq_rate_memo *memo;
    /* A carrier registry (src/remote) may narrow the carriers rated here:
     * rate_here(arg, id) false skips a local carrier; asked_elsewhere(arg, id)
     * true means a carrier id the request names is answered by someone else
     * (a remote carrier), so it is not "no carrier with id". NULL: all local. */
    bool (*rate_here)(const void *arg, const char *carrier_id);
    bool (*asked_elsewhere)(const void *arg, const char *carrier_id);
    const void *carrier_arg;
    /* Interpret the plans even where this build has them compiled into C
     * (native.c): the results are the same; tests and benchmarks compare. */
    bool interpreted;
} mq_rate_opts;

/* Rates `in` against one plan. Always fills *out (status tells how it went);
 * returns false only when the arena ran out of memory. */
bool mq_rate_plan(const mq_plan *p, const mq_input *in, const mq_rate_opts *opts, mq_arena *a,
                  mq_result *out);

/* Rates `in` against every applicable plan (honouring in->carriers) and sorts
 * the results: quoted by ascending total (ties by carrier id), then declined,
 * unavailable, error, each by carrier id. Carriers without a plan for the
 * request's state are returned as unavailable with the reason. */
bool mq_rate_all(const mq_engine *e, const mq_input *in, const mq_rate_opts *opts, mq_arena *a,
                 mq_result **results, int *nresults);

/* Whether this build rates p with a function compiled from its files
 * (native.c); false when it interprets it. */
bool mq_plan_native(const mq_plan *p);

/* Writes the engine's plans as C, one function per plan and the list of
 * them with their digests (codegen.c; mqcodegen runs it at build time),
 * spread over the `nout` files `out` so that they compile in parallel:
 * each file is a translation unit of its own, each plan's text is whole in
 * one of them (the one with the fewest bytes of plans so far), and the
 * first also holds the list. A plan it cannot compile is named on `log`
 * (may be NULL) and left out. Returns the number of plans written, or -1
 * on a write error (or no file). */
int mq_codegen_write(const mq_engine *e, FILE **out, int nout, FILE *log);

/* Applies the line's market rules to results rated one by one (the ACA
 * premium tax credit for health; nothing for other lines). mq_rate_all does
 * this itself; re-rating a saved quote plan by plan needs it. */
bool mq_rate_market(const mq_engine *e, const mq_input *in, mq_result *results, int n, mq_arena *a);

/* The same with the health benchmark given instead of chosen from the plans
 * in effect: a saved quote re-rated with the benchmark plan version it
 * recorded, so that plans loaded since (a cheaper silver plan, a new version
 * of the benchmark's) cannot move its credit. given->plan is rated again
 * for `in` without tobacco use (NULL: no plan of the metal quoted then, so
 * there is no credit); given->candidates is how many plans of its metal
 * quoted then (the credit note names the benchmark by it); given->cents is
 * not read. given->market_id, when set, names the market the quote used:
 * its rules apply while it is loaded (a market added since, in effect on
 * the quote's date, does not move the credit); otherwise, and when the
 * market is no longer loaded, the one in effect on the date.
 * NULL `given` chooses the benchmark as mq_rate_market does. */
bool mq_rate_market_given(const mq_engine *e, const mq_input *in, const mq_benchmark *given,
                          mq_result *results, int n, mq_arena *a);

/* The contract's order: quoted by ascending total, then the rest (used by
 * mq_rate_all; for callers that gather results themselves). */
void mq_results_sort(mq_result *results, int n);

#endif
