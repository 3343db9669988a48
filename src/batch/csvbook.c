/* csvbook.c -- flat auto policies in CSV rows, converted straight into mq_input.
 *
 * A header row is compiled once into a layout: for every request fact, the
 * column that holds it (or -1). Each data row is then checked and written
 * into an mq_input by the engine's field indexes (MQ_AP_*, MQ_AD_*, MQ_AV_*,
 * MQ_AI_*), with the same rules and defaults as the JSON request parser
 * (src/model/request.c), so a CSV row and the equivalent JSON request give
 * the same input bit for bit -- without paying for JSON. Every problem is
 * recorded with the column's name and the row goes on being checked, so one
 * error row lists all its problems. A row that converts is then checked
 * against the reference data (src/intake) as `quote` checks a request.
 * Column reference: docs/batch.md.
 */
#include "batch.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum {
    MAX_N = 20,
    MAX_INCIDENTS = 100,
    MAX_AGE = 120, /* oldest plausible person, as the JSON request parser has it */
};

#define MAX_LIMIT  10000000.0
#define MAX_AMOUNT 100000000.0

enum {
    P_EFFECTIVE_DATE,
    P_STATE,
    P_ZIP,
    P_APPLICANT_DOB,
    P_HOMEOWNER,
    P_PAPERLESS,
    P_BI_PER_PERSON,
    P_BI_PER_ACCIDENT,
    P_PD_LIMIT,
    P_MED_LIMIT,
    P_UM_PER_PERSON,
    P_UM_PER_ACCIDENT,
    P_COUNT
};
static const char *const policy_names[P_COUNT] = {
    "effective_date", "state",     "zip",           "applicant_dob",
    "homeowner",      "paperless", "bi_per_person", "bi_per_accident",
    "pd_limit",       "med_limit", "um_per_person", "um_per_accident"};

enum { D_DOB, D_GENDER, D_MARITAL, D_LICENSE_STATE, D_FIRST_LICENSED, D_GPA, D_INCIDENTS, D_COUNT };
static const char *const driver_names[D_COUNT] = {
    "dob",         "gender",   "marital_status", "license_state", "first_licensed",
    "student_gpa", "incidents"};

enum {
    V_YEAR,
    V_SYMBOL,
    V_PRINCIPAL,
    V_GARAGING_ZIP,
    V_ANNUAL_MILES,
    V_USE,
    V_ANTI_THEFT,
    V_COMP,
    V_COLL,
    V_VIN,
    V_MAKE,
    V_MODEL,
    V_COUNT
};
static const char *const vehicle_names[V_COUNT] = {
    "year",       "symbol",          "principal_driver", "garaging_zip", "annual_miles", "use",
    "anti_theft", "comp_deductible", "coll_deductible",  "vin",          "make",         "model"};

static const char *const driver_ids[MAX_N] = {"d1",  "d2",  "d3",  "d4",  "d5",  "d6",  "d7",
                                              "d8",  "d9",  "d10", "d11", "d12", "d13", "d14",
                                              "d15", "d16", "d17", "d18", "d19", "d20"};
static const char *const vehicle_ids[MAX_N] = {"v1",  "v2",  "v3",  "v4",  "v5",  "v6",  "v7",
                                               "v8",  "v9",  "v10", "v11", "v12", "v13", "v14",
                                               "v15", "v16", "v17", "v18", "v19", "v20"};

struct mq_batch_layout {
    int ncols;
    char **names; /* column names, for error paths ("#15" for an unnamed one) */
    int *unnamed; /* columns with an empty name in the header, which must stay empty */
    int nunnamed;
    int policy_id;
    int pol[P_COUNT];
    int ndrivers, nvehicles; /* highest N with a dN_ / vN_ column */
    int drv[MAX_N][D_COUNT];
    int veh[MAX_N][V_COUNT];
    signed char state[26][26]; /* "OH" -> MQ_DOM_STATE code, -1 when none */
};

/* ---- Layout ---------------------------------------------------------------- */

void mq_batch_layout_free(mq_batch_layout *l)
{
    if (!l)
        return;
    for (int i = 0; l->names && i < l->ncols; i++)
        free(l->names[i]);
    free(l->names);
    free(l->unnamed);
    free(l);
}

int mq_batch_layout_columns(const mq_batch_layout *l)
{
    return l->ncols;
}

static int find_name(const char *const *names, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

/* "d12_dob" -> N = 12, suffix "dob"; false when not of that form. */
static bool numbered(const char *s, char prefix, int *num, const char **suffix)
{
    if (s[0] != prefix || s[1] < '1' || s[1] > '9')
        return false;
    int v = 0, i = 1;
    for (; s[i] >= '0' && s[i] <= '9' && i < 4; i++)
        v = v * 10 + (s[i] - '0');
    if (s[i] != '_')
        return false;
    *num = v;
    *suffix = s + i + 1;
    return true;
}

/* Finds the slot of column `name`; false with a message when unknown. */
static bool place(mq_batch_layout *l, const char *name, int col, char *err, size_t errlen)
{
    int *slot = NULL, num, k;
    const char *suffix;
    if (strncmp(name, "extra_", 6) == 0)
        return true;
    if (!*name) { /* a spreadsheet's empty trailing columns: kept empty */
        l->unnamed[l->nunnamed++] = col;
        return true;
    }
    if (strcmp(name, "policy_id") == 0) {
        slot = &l->policy_id;
    } else if ((k = find_name(policy_names, P_COUNT, name)) >= 0) {
        slot = &l->pol[k];
    } else if (numbered(name, 'd', &num, &suffix) &&
               (k = find_name(driver_names, D_COUNT, suffix)) >= 0) {
        if (num > MAX_N) {
            snprintf(err, errlen, "column %s: at most %d drivers", name, MAX_N);
            return false;
        }
        slot = &l->drv[num - 1][k];
        l->ndrivers = num > l->ndrivers ? num : l->ndrivers;
    } else if (numbered(name, 'v', &num, &suffix) &&
               (k = find_name(vehicle_names, V_COUNT, suffix)) >= 0) {
        if (num > MAX_N) {
            snprintf(err, errlen, "column %s: at most %d vehicles", name, MAX_N);
            return false;
        }
        slot = &l->veh[num - 1][k];
        l->nvehicles = num > l->nvehicles ? num : l->nvehicles;
    } else {
        snprintf(
            err, errlen,
            "column \"%.64s\": unknown column (see docs/batch.md; extra_* columns are ignored)",
            name);
        return false;
    }
    if (*slot >= 0) {
        snprintf(err, errlen, "column %s: appears twice (columns %d and %d)", name, *slot + 1,
                 col + 1);
        return false;
    }
    *slot = col;
    return true;
}

static bool require(int col, const char *name, char *err, size_t errlen)
{
    if (col >= 0)
        return true;
    snprintf(err, errlen, "column %s: is required", name);
    return false;
}

static bool any_column(const int *cols, int n)
{
    for (int i = 0; i < n; i++)
        if (cols[i] >= 0)
            return true;
    return false;
}

/* The header must name every required column of the policy and of each
 * driver and vehicle it mentions, and at least driver 1 and vehicle 1. */
static bool check_layout(const mq_batch_layout *l, char *err, size_t errlen)
{
    static const int required[] = {P_EFFECTIVE_DATE, P_STATE,           P_ZIP,
                                   P_BI_PER_PERSON,  P_BI_PER_ACCIDENT, P_PD_LIMIT};
    for (size_t i = 0; i < sizeof required / sizeof *required; i++)
        if (!require(l->pol[required[i]], policy_names[required[i]], err, errlen))
            return false;
    if ((l->pol[P_UM_PER_PERSON] < 0) != (l->pol[P_UM_PER_ACCIDENT] < 0)) {
        snprintf(err, errlen, "column %s: is required with %s",
                 l->pol[P_UM_PER_PERSON] < 0 ? "um_per_person" : "um_per_accident",
                 l->pol[P_UM_PER_PERSON] < 0 ? "um_per_accident" : "um_per_person");
        return false;
    }
    char name[32];
    if (l->ndrivers == 0)
        return require(-1, "d1_dob", err, errlen);
    if (l->nvehicles == 0)
        return require(-1, "v1_year", err, errlen);
    static const int drv_required[] = {D_DOB, D_GENDER, D_MARITAL, D_FIRST_LICENSED};
    for (int n = 0; n < l->ndrivers; n++) {
        if (!any_column(l->drv[n], D_COUNT))
            continue;
        for (size_t i = 0; i < sizeof drv_required / sizeof *drv_required; i++) {
            snprintf(name, sizeof name, "d%d_%s", n + 1, driver_names[drv_required[i]]);
            if (!require(l->drv[n][drv_required[i]], name, err, errlen))
                return false;
        }
    }
    for (int n = 0; n < l->nvehicles; n++) {
        if (!any_column(l->veh[n], V_COUNT))
            continue;
        for (int f = V_YEAR; f <= V_SYMBOL; f++) {
            snprintf(name, sizeof name, "v%d_%s", n + 1, vehicle_names[f]);
            if (!require(l->veh[n][f], name, err, errlen))
                return false;
        }
    }
    return true;
}

mq_batch_layout *mq_batch_layout_new(const char *const *names, int n, char *err, size_t errlen)
{
    mq_batch_layout *l = calloc(1, sizeof *l);
    if (!l || !(l->names = calloc((size_t)(n ? n : 1), sizeof(char *))) ||
        !(l->unnamed = calloc((size_t)(n ? n : 1), sizeof(int)))) {
        if (l)
            free(l->names);
        free(l);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    l->policy_id = -1;
    memset(l->state, -1, sizeof l->state);
    for (int i = 0; i < mq_symbol_count(MQ_DOM_STATE); i++) {
        const char *st = mq_symbol_name(MQ_DOM_STATE, i);
        if (st[0] >= 'A' && st[0] <= 'Z' && st[1] >= 'A' && st[1] <= 'Z' && !st[2])
            l->state[st[0] - 'A'][st[1] - 'A'] = (signed char)i;
    }
    memset(l->pol, -1, sizeof l->pol);
    memset(l->drv, -1, sizeof l->drv);
    memset(l->veh, -1, sizeof l->veh);
    bool ok = true;
    for (int i = 0; ok && i < n; i++) {
        char number[16];
        snprintf(number, sizeof number, "#%d", i + 1);
        l->names[i] = strdup(*names[i] ? names[i] : number);
        l->ncols = i + 1;
        if (!l->names[i]) {
            snprintf(err, errlen, "out of memory");
            ok = false;
        } else {
            ok = place(l, names[i], i, err, errlen);
        }
    }
    if (ok)
        ok = check_layout(l, err, errlen);
    if (!ok) {
        mq_batch_layout_free(l);
        return NULL;
    }
    return l;
}

/* ---- Cells ------------------------------------------------------------------ */

typedef struct conv {
    const mq_batch_layout *l;
    const char *const *f;
    mq_arena *a;
    mq_req_errors *errs;
    mq_input *in;
    bool oom;
    bool has_eff;
    int32_t eff;
    int eff_year;
    double zip;
} conv;

static const char *cell(const conv *c, int col)
{
    return col >= 0 ? c->f[col] : "";
}

static void err_at(conv *c, int col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void err_at(conv *c, int col, const char *fmt, ...)
{
    mq_req_errors *e = c->errs;
    int max = (int)(sizeof e->items / sizeof e->items[0]);
    if (e->count++ >= max || c->oom)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    mq_req_error *it = &e->items[e->count - 1];
    it->path = col >= 0 ? c->l->names[col] : "";
    it->message = mq_arena_strdup(c->a, msg);
    if (!it->message)
        c->oom = true;
}

/* The cell of `col`, or NULL when empty ("is required" when required). */
static const char *get(conv *c, int col, bool required)
{
    const char *s = cell(c, col);
    if (*s)
        return s;
    if (required)
        err_at(c, col, "is required");
    return NULL;
}

typedef struct num_rule {
    double lo, hi;
    bool whole, cents;
} num_rule;

static const num_rule LIMIT = {1, MAX_LIMIT, true, false};

/* A plain decimal: -?digits[.digits] (no exponent, no sign +, no spaces).
 * Up to 15 significant digits the value is the integer of all the digits
 * divided by a power of ten: both are exact doubles, and the division is
 * correctly rounded, so the result is strtod's (as jansson reads JSON)
 * at a fraction of its cost. Longer numbers go to strtod. */
static bool decimal(const char *s, double *out)
{
    static const double pow10[] = {1,   10,  100,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    const char *p = s + (*s == '-');
    uint64_t v = 0;
    int digits = 0, frac = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++)
        v = v * 10 + (uint64_t)(*p - '0');
    if (digits == 0)
        return false;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, frac++)
            v = v * 10 + (uint64_t)(*p - '0');
        if (frac == 0)
            return false;
    }
    if (*p)
        return false;
    if (digits + frac <= 15)
        *out = (double)v / pow10[frac];
    else
        *out = strtod(s, NULL);
    if (*s == '-')
        *out = -*out;
    return isfinite(*out);
}

static bool check_number(conv *c, int col, const char *s, double x, num_rule rule)
{
    if (!(x >= rule.lo && x <= rule.hi)) {
        err_at(c, col, "must be from %.15g to %.15g, got %s", rule.lo, rule.hi, s);
        return false;
    }
    if (rule.whole && x != floor(x)) {
        err_at(c, col, "expected a whole number, got %s", s);
        return false;
    }
    if (rule.cents && fabs(x * 100 - round(x * 100)) > 1e-4) {
        err_at(c, col, "expected at most two decimals, got %s", s);
        return false;
    }
    return true;
}

static bool get_number(conv *c, int col, bool required, num_rule rule, double *out)
{
    const char *s = get(c, col, required);
    double x;
    char q[160];
    if (!s)
        return false;
    if (!decimal(s, &x)) {
        err_at(c, col, "expected a number, got %s", mq_req_quoted(s, q));
        return false;
    }
    if (!check_number(c, col, s, x, rule))
        return false;
    *out = x;
    return true;
}

/* The JSON request parser's message for a date it cannot read: a day the
 * calendar lacks ("2026-02-30") says it all quoted; anything else says why
 * ("3/1/2026", as a spreadsheet writes dates: "write it as YYYY-MM-DD"). */
static void bad_date(conv *c, int col, const char *prefix, const char *s)
{
    char q[160];
    const char *why = mq_date_problem(s);
    bool no_day = strcmp(why, "no such day") == 0;
    err_at(c, col, "%snot a valid date %s%s%s", prefix, mq_req_quoted(s, q), no_day ? "" : ": ",
           no_day ? "" : why);
}

static bool get_date(conv *c, int col, bool required, int32_t *out)
{
    const char *s = get(c, col, required);
    if (!s)
        return false;
    if (!mq_date_parse(s, out)) {
        bad_date(c, col, "", s);
        return false;
    }
    return true;
}

static bool get_past_date(conv *c, int col, bool required, int32_t *out)
{
    if (!get_date(c, col, required, out))
        return false;
    if (c->has_eff && *out > c->eff) {
        char eff[11];
        mq_date_format(c->eff, eff);
        err_at(c, col, "is after the effective date %s", eff);
        return false;
    }
    return true;
}

/* A date of birth: a past date, of someone at most MAX_AGE on the effective
 * date (the JSON request parser's rule and message). */
static bool get_birth_date(conv *c, int col, bool required, int32_t *out)
{
    if (!get_past_date(c, col, required, out))
        return false;
    int age = c->has_eff ? mq_date_age(*out, c->eff) : 0;
    if (age > MAX_AGE) {
        err_at(c, col, "a person born then is %d on the effective date; at most %d is plausible",
               age, MAX_AGE);
        return false;
    }
    return true;
}

static bool enum_value(conv *c, int col, const char *s, mq_domain d, double *out,
                       const char *prefix)
{
    int code;
    if (d == MQ_DOM_STATE && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' && !s[2])
        code = c->l->state[s[0] - 'A'][s[1] - 'A'];
    else
        code = mq_symbol_find(d, s);
    char q[160];
    if (code >= 0) {
        *out = code;
        return true;
    }
    if (d == MQ_DOM_STATE) {
        err_at(c, col, "%snot a US state code %s", prefix, mq_req_quoted(s, q));
        return false;
    }
    char list[256] = "";
    for (int i = 0; i < mq_symbol_count(d); i++) {
        size_t n = strlen(list);
        snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", mq_symbol_name(d, i));
    }
    err_at(c, col, "%s%s is not one of %s", prefix, mq_req_quoted(s, q), list);
    return false;
}

static bool get_enum(conv *c, int col, bool required, mq_domain d, double *out)
{
    const char *s = get(c, col, required);
    return s && enum_value(c, col, s, d, out, "");
}

/* true, false (any case), 1 or 0; an empty cell leaves *out as it was. */
static void get_bool(conv *c, int col, double *out)
{
    const char *s = get(c, col, false);
    char q[160];
    if (!s)
        return;
    if (strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0)
        *out = 1;
    else if (strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0)
        *out = 0;
    else
        err_at(c, col, "expected true or false, got %s", mq_req_quoted(s, q));
}

static bool get_zip(conv *c, int col, bool required, double *out)
{
    const char *s = get(c, col, required);
    char q[160];
    if (!s)
        return false;
    if (strlen(s) != 5 || strspn(s, "0123456789") != 5) {
        err_at(c, col, "not a 5-digit ZIP code %s", mq_req_quoted(s, q));
        return false;
    }
    *out = (double)((s[0] - '0') * 10000 + (s[1] - '0') * 1000 + (s[2] - '0') * 100 +
                    (s[3] - '0') * 10 + (s[4] - '0'));
    return true;
}

/* ---- Incidents: "type:YYYY-MM-DD[:N];..." ---------------------------------------- */

#define SPACE " \t\r\n" /* around an entry */

/* Number of incidents in the cell (non-empty entries between ';'). */
static int count_incidents(const char *s)
{
    int n = 0;
    while (*s) {
        size_t len = strcspn(s, ";");
        size_t sp = strspn(s, SPACE);
        if (sp < len)
            n++;
        s += len + (s[len] == ';');
    }
    return n;
}

/* One entry (NUL-terminated, trimmed) into an incident row, of a driver
 * born on day `born` (NAN: not known). */
static void parse_incident(conv *c, int col, int k, char *entry, double born, double *row)
{
    char q[160], prefix[32];
    snprintf(prefix, sizeof prefix, "incident %d: ", k + 1);
    char *date = strchr(entry, ':');
    char *value = date ? strchr(date + 1, ':') : NULL;
    if (!date || (value && strchr(value + 1, ':'))) {
        err_at(c, col, "%sexpected TYPE:YYYY-MM-DD or TYPE:YYYY-MM-DD:NUMBER, got %s", prefix,
               mq_req_quoted(entry, q));
        return;
    }
    *date++ = '\0';
    if (value)
        *value++ = '\0';
    bool typed = enum_value(c, col, entry, MQ_DOM_INCIDENT, &row[MQ_AI_TYPE], prefix);
    int32_t day;
    if (!mq_date_parse(date, &day)) {
        bad_date(c, col, prefix, date);
    } else if (c->has_eff && day > c->eff) {
        char eff[11];
        mq_date_format(c->eff, eff);
        err_at(c, col, "%sdate %s is after the effective date %s", prefix, date, eff);
    } else if (day < born) { /* false for NAN */
        err_at(c, col, "%sdate %s is before the driver's date of birth", prefix, date);
    } else {
        row[MQ_AI_DATE] = day;
    }
    if (!typed)
        return;
    bool speeding = (int)row[MQ_AI_TYPE] == mq_symbol_find(MQ_DOM_INCIDENT, "speeding");
    double x;
    if (!value || !*value) {
        if (speeding)
            err_at(c, col, "%sspeeding needs the mph over the limit (speeding:DATE:MPH)", prefix);
        return;
    }
    if (!decimal(value, &x)) {
        err_at(c, col, "%sexpected a number after the date, got %s", prefix,
               mq_req_quoted(value, q));
        return;
    }
    num_rule rule =
        speeding ? (num_rule){1, 200, true, false} : (num_rule){0, MAX_AMOUNT, false, true};
    const char *what = speeding ? "mph over" : "amount";
    if (!(x >= rule.lo && x <= rule.hi))
        err_at(c, col, "%s%s must be from %.15g to %.15g, got %s", prefix, what, rule.lo, rule.hi,
               value);
    else if (rule.whole && x != floor(x))
        err_at(c, col, "%s%s: expected a whole number, got %s", prefix, what, value);
    else if (rule.cents && fabs(x * 100 - round(x * 100)) > 1e-4)
        err_at(c, col, "%s%s: expected at most two decimals, got %s", prefix, what, value);
    else
        row[speeding ? MQ_AI_MPH_OVER : MQ_AI_AMOUNT] = x;
}

/* "drivers[D].incidents[K]", as the JSON request parser names an incident
 * (written by hand: vsnprintf would cost more than the incident's rating). */
static const char *incident_id(conv *c, int d, int k)
{
    char *id = mq_arena_alloc(c->a, 32);
    if (!id) {
        c->oom = true;
        return NULL;
    }
    char *o = id;
    memcpy(o, "drivers[", 8);
    o += 8;
    if (d >= 10)
        *o++ = (char)('0' + d / 10);
    *o++ = (char)('0' + d % 10);
    memcpy(o, "].incidents[", 12);
    o += 12;
    if (k >= 100)
        *o++ = (char)('0' + k / 100);
    if (k >= 10)
        *o++ = (char)('0' + k / 10 % 10);
    *o++ = (char)('0' + k % 10);
    *o++ = ']';
    *o = '\0';
    return id;
}

/* The incidents of driver column-number n (input index d), from index first. */
static void parse_incidents(conv *c, int n, int d, int32_t first, int count)
{
    int col = c->l->drv[n][D_INCIDENTS];
    const char *s = cell(c, col);
    char entry[256];
    int k = 0;
    while (*s && k < count) {
        size_t len = strcspn(s, ";");
        const char *e = s + strspn(s, SPACE);
        size_t elen = len - (size_t)(e - s);
        while (elen && strchr(SPACE, e[elen - 1]))
            elen--;
        s += len + (s[len] == ';');
        if (!elen)
            continue;
        int32_t i = first + k;
        c->in->ids[MQ_ENT_INCIDENT][i] = incident_id(c, d, k);
        if (elen >= sizeof entry) {
            char q[160];
            snprintf(entry, sizeof entry, "%.*s", (int)(sizeof entry - 1), e);
            err_at(c, col, "incident %d: too long: %s", k + 1, mq_req_quoted(entry, q));
        } else {
            memcpy(entry, e, elen);
            entry[elen] = '\0';
            parse_incident(c, col, k, entry,
                           mq_input_row(c->in, MQ_ENT_DRIVER, d)[MQ_AD_DATE_OF_BIRTH],
                           mq_input_row(c->in, MQ_ENT_INCIDENT, i));
        }
        k++;
    }
}

/* ---- Row ------------------------------------------------------------------------ */

/* Whether a row repeats the header (books joined with `cat`, each with its
 * header): every cell is its column's name, empty under an unnamed one. */
static bool is_header(const mq_batch_layout *l, const char *const *fields)
{
    for (int i = 0, u = 0; i < l->ncols; i++) {
        bool unnamed = u < l->nunnamed && l->unnamed[u] == i;
        u += unnamed;
        const char *f = fields[i];
        if (i == 0 && strncmp(f, "\xEF\xBB\xBF", 3) == 0) /* the joined book's byte order mark */
            f += 3;
        if (strcmp(f, unnamed ? "" : l->names[i]) != 0)
            return false;
    }
    return true;
}

static bool present(const conv *c, const int *cols, int n)
{
    for (int i = 0; i < n; i++)
        if (cols[i] >= 0 && *c->f[cols[i]])
            return true;
    return false;
}

static void parse_policy(conv *c, double *pol)
{
    const int *col = c->l->pol;
    c->has_eff = get_date(c, col[P_EFFECTIVE_DATE], true, &c->eff);
    pol[MQ_AP_EFFECTIVE_DATE] = c->has_eff ? c->eff : NAN;
    c->in->effective_date = c->has_eff ? c->eff : 0;
    int m, d;
    if (c->has_eff)
        mq_date_to_ymd(c->eff, &c->eff_year, &m, &d);
    if (get_enum(c, col[P_STATE], true, MQ_DOM_STATE, &pol[MQ_AP_STATE]))
        c->in->state = (int)pol[MQ_AP_STATE];
    c->zip = NAN;
    if (get_zip(c, col[P_ZIP], true, &pol[MQ_AP_ZIP]))
        c->zip = pol[MQ_AP_ZIP];
    int32_t dob;
    if (get_birth_date(c, col[P_APPLICANT_DOB], false, &dob))
        pol[MQ_AP_APPLICANT_DOB] = dob;
    pol[MQ_AP_HOMEOWNER] = 0;
    pol[MQ_AP_PAPERLESS] = 0;
    get_bool(c, col[P_HOMEOWNER], &pol[MQ_AP_HOMEOWNER]);
    get_bool(c, col[P_PAPERLESS], &pol[MQ_AP_PAPERLESS]);
}

/* per_person and per_accident columns of a split limit; true when both are valid. */
static bool parse_split(conv *c, int pp_col, int pa_col, bool required, double *pp, double *pa)
{
    if (!required && !*cell(c, pp_col) && !*cell(c, pa_col))
        return false;
    bool ok = get_number(c, pp_col, true, LIMIT, pp);
    ok = get_number(c, pa_col, true, LIMIT, pa) && ok;
    if (ok && *pa < *pp) {
        err_at(c, pa_col, "must be at least per_person (%.0f)", *pp);
        ok = false;
    }
    return ok;
}

static void parse_limits(conv *c, double *p)
{
    const int *col = c->l->pol;
    bool bi = parse_split(c, col[P_BI_PER_PERSON], col[P_BI_PER_ACCIDENT], true,
                          &p[MQ_AP_BI_PER_PERSON], &p[MQ_AP_BI_PER_ACCIDENT]);
    get_number(c, col[P_PD_LIMIT], true, LIMIT, &p[MQ_AP_PD_LIMIT]);
    get_number(c, col[P_MED_LIMIT], false, LIMIT, &p[MQ_AP_MED_LIMIT]);
    bool um = col[P_UM_PER_PERSON] >= 0 &&
              parse_split(c, col[P_UM_PER_PERSON], col[P_UM_PER_ACCIDENT], false,
                          &p[MQ_AP_UM_PER_PERSON], &p[MQ_AP_UM_PER_ACCIDENT]);
    if (bi && um &&
        (p[MQ_AP_UM_PER_PERSON] > p[MQ_AP_BI_PER_PERSON] ||
         p[MQ_AP_UM_PER_ACCIDENT] > p[MQ_AP_BI_PER_ACCIDENT]))
        err_at(c, col[P_UM_PER_PERSON], "um limits %.0f/%.0f exceed the bi limits %.0f/%.0f",
               p[MQ_AP_UM_PER_PERSON], p[MQ_AP_UM_PER_ACCIDENT], p[MQ_AP_BI_PER_PERSON],
               p[MQ_AP_BI_PER_ACCIDENT]);
}

static void parse_driver(conv *c, int n, double *row)
{
    const int *col = c->l->drv[n];
    int32_t dob;
    bool has_dob = get_birth_date(c, col[D_DOB], true, &dob);
    if (has_dob)
        row[MQ_AD_DATE_OF_BIRTH] = dob;
    get_enum(c, col[D_GENDER], true, MQ_DOM_GENDER, &row[MQ_AD_GENDER]);
    get_enum(c, col[D_MARITAL], true, MQ_DOM_MARITAL, &row[MQ_AD_MARITAL]);
    get_enum(c, col[D_LICENSE_STATE], false, MQ_DOM_STATE, &row[MQ_AD_LICENSE_STATE]);
    int32_t first;
    if (get_date(c, col[D_FIRST_LICENSED], true, &first)) {
        if (has_dob && first < dob)
            err_at(c, col[D_FIRST_LICENSED], "is before the date of birth");
        else
            row[MQ_AD_FIRST_LICENSED] = first;
    }
    get_number(c, col[D_GPA], false, (num_rule){0, 4, false, false}, &row[MQ_AD_STUDENT_GPA]);
}

/* Driver column-number -> input index (-1 when absent in this row). */
static void parse_principal(conv *c, int n, const int *driver_index, double *row)
{
    int col = c->l->veh[n][V_PRINCIPAL];
    const char *s = get(c, col, false);
    int num = -1;
    char q[160];
    if (!s) {
        for (int i = 0; i < c->l->ndrivers && num < 0; i++)
            if (driver_index[i] >= 0)
                num = i;
    } else {
        double x;
        if (!decimal(s, &x) || x != floor(x) || x < 1 || x > MAX_N) {
            err_at(c, col, "expected a driver number (1 for d1_*), got %s", mq_req_quoted(s, q));
            return;
        }
        num = (int)x - 1;
        if (num >= c->l->ndrivers || driver_index[num] < 0) {
            err_at(c, col, "no driver %d in this row (its d%d_* cells are empty)", num + 1,
                   num + 1);
            return;
        }
    }
    if (num < 0)
        return;
    int d = driver_index[num];
    row[MQ_AV_PRINCIPAL_DRIVER] = d;
    double dob = mq_input_row(c->in, MQ_ENT_DRIVER, d)[MQ_AD_DATE_OF_BIRTH];
    if (!c->has_eff || isnan(dob))
        return;
    int age = mq_date_age((int32_t)dob, c->eff);
    if (age < 16)
        err_at(c, col,
               "driver d%d is %d on the effective date; a principal driver must be at least 16",
               num + 1, age);
}

static void parse_vehicle(conv *c, int n, const int *driver_index, double *row)
{
    const int *col = c->l->veh[n];
    char q[160];
    const char *vin = get(c, col[V_VIN], false);
    /* as the JSON request parser: either case (a VIN's letters have one, and
     * src/intake reads them in capitals) */
    if (vin &&
        (strlen(vin) > 17 ||
         strspn(vin, "0123456789ABCDEFGHJKLMNPRSTUVWXYZabcdefghjklmnprstuvwxyz") != strlen(vin)))
        err_at(c, col[V_VIN], "not a VIN (up to 17 characters: digits and letters but I, O, Q): %s",
               mq_req_quoted(vin, q));
    double newest = c->has_eff ? c->eff_year + 1 : 2201;
    get_number(c, col[V_YEAR], true, (num_rule){1900, newest, true, false}, &row[MQ_AV_YEAR]);
    get_number(c, col[V_SYMBOL], true, (num_rule){1, 27, true, false}, &row[MQ_AV_SYMBOL]);
    parse_principal(c, n, driver_index, row);
    if (!get_zip(c, col[V_GARAGING_ZIP], false, &row[MQ_AV_GARAGING_ZIP]))
        row[MQ_AV_GARAGING_ZIP] = c->zip;
    get_number(c, col[V_ANNUAL_MILES], false, (num_rule){0, 200000, true, false},
               &row[MQ_AV_ANNUAL_MILES]);
    get_enum(c, col[V_USE], false, MQ_DOM_USE, &row[MQ_AV_USE]);
    row[MQ_AV_ANTI_THEFT] = 0;
    get_bool(c, col[V_ANTI_THEFT], &row[MQ_AV_ANTI_THEFT]);
    get_number(c, col[V_COMP], false, LIMIT, &row[MQ_AV_COMP_DEDUCTIBLE]);
    get_number(c, col[V_COLL], false, LIMIT, &row[MQ_AV_COLL_DEDUCTIBLE]);
    if (*cell(c, col[V_COLL]) && !*cell(c, col[V_COMP]))
        err_at(c, col[V_COLL], "requires comp on the same vehicle (v%d_comp_deductible)", n + 1);
}

/* ---- The reference data checks (src/intake) -------------------------------------
 * `quote` runs mq_intake_check on the request's JSON. A CSV row has no JSON,
 * and building it for every row would cost more than rating it, so a cheap
 * screen comes first: a row whose address ZIP is in its state, whose limits
 * meet the state's minimums, whose ZIPs are real street addresses' and which
 * names no VIN has nothing mq_intake_check would object to. Any other row is written
 * as the few JSON members mq_intake_check reads and checked by it, so its
 * verdict and its messages are src/intake's own; the errors' JSON paths are
 * then turned into the row's column names. */

static bool screen_passes(const conv *c, const mq_intake *ik)
{
    const mq_batch_layout *l = c->l;
    const double *p = mq_input_row(c->in, MQ_ENT_POLICY, 0);
    if (mq_state_of_zip(ik, cell(c, l->pol[P_ZIP])) != c->in->state ||
        mq_zip_owner(ik, cell(c, l->pol[P_ZIP])))
        return false;
    const mq_state_rule *rule = mq_state_rule_on(ik, c->in->state, c->eff);
    if (rule && (p[MQ_AP_BI_PER_PERSON] < rule->bi_per_person ||
                 p[MQ_AP_BI_PER_ACCIDENT] < rule->bi_per_accident || p[MQ_AP_PD_LIMIT] < rule->pd))
        return false;
    if (rule && rule->med > 0 && !(p[MQ_AP_MED_LIMIT] >= rule->med)) /* NAN: none chosen */
        return false;
    if (rule && (p[MQ_AP_UM_PER_PERSON] < rule->bi_per_person || /* NAN: none chosen */
                 p[MQ_AP_UM_PER_ACCIDENT] < rule->bi_per_accident))
        return false;
    for (int i = 0; i < l->nvehicles; i++) {
        const char *zip = cell(c, l->veh[i][V_GARAGING_ZIP]);
        if (*cell(c, l->veh[i][V_VIN]) ||
            (*zip && (mq_state_of_zip(ik, zip) < 0 || mq_zip_owner(ik, zip))))
            return false;
    }
    return true;
}

static bool set_str(json_t *o, const char *key, const char *s)
{
    return !*s || json_object_set_new(o, key, json_string(s)) == 0;
}

/* The members of the row's request that mq_intake_check reads. */
static json_t *intake_doc(const conv *c)
{
    const mq_batch_layout *l = c->l;
    const double *p = mq_input_row(c->in, MQ_ENT_POLICY, 0);
    json_t *doc =
        json_pack("{s:s, s:s, s:{s:{s:s, s:s}}, s:{s:{s:f, s:f}, s:{s:f}}, s:[]}", "line", "auto",
                  "effective_date", cell(c, l->pol[P_EFFECTIVE_DATE]), "applicant", "address",
                  "state", cell(c, l->pol[P_STATE]), "zip", cell(c, l->pol[P_ZIP]), "coverages",
                  "bi", "per_person", p[MQ_AP_BI_PER_PERSON], "per_accident",
                  p[MQ_AP_BI_PER_ACCIDENT], "pd", "limit", p[MQ_AP_PD_LIMIT], "vehicles");
    json_t *vehicles = json_object_get(doc, "vehicles");
    bool ok = doc != NULL;
    for (int i = 0, v = 0; ok && i < l->nvehicles; i++) {
        if (!present(c, l->veh[i], V_COUNT))
            continue;
        json_t *veh =
            json_pack("{s:i}", "year", (int)mq_input_row(c->in, MQ_ENT_VEHICLE, v++)[MQ_AV_YEAR]);
        ok = veh && set_str(veh, "vin", cell(c, l->veh[i][V_VIN])) &&
             set_str(veh, "make", cell(c, l->veh[i][V_MAKE])) &&
             set_str(veh, "garaging_zip", cell(c, l->veh[i][V_GARAGING_ZIP]));
        ok = json_array_append_new(vehicles, veh) == 0 && ok;
    }
    if (ok && !isnan(p[MQ_AP_MED_LIMIT]))
        ok = json_object_set_new(json_object_get(doc, "coverages"), "med",
                                 json_pack("{s:f}", "limit", p[MQ_AP_MED_LIMIT])) == 0;
    if (ok && !isnan(p[MQ_AP_UM_PER_PERSON]))
        ok = json_object_set_new(json_object_get(doc, "coverages"), "um",
                                 json_pack("{s:f, s:f}", "per_person", p[MQ_AP_UM_PER_PERSON],
                                           "per_accident", p[MQ_AP_UM_PER_ACCIDENT])) == 0;
    if (!ok) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

/* The column an intake error's JSON path names ("vehicles[1].vin" -> the
 * second present vehicle's vN_vin), or the path itself. */
static const char *column_of(const conv *c, const char *path)
{
    const mq_batch_layout *l = c->l;
    static const struct {
        const char *path;
        int field;
    } pol[] = {{"applicant.address.zip", P_ZIP},    {"applicant.address.state", P_STATE},
               {"coverages.bi", P_BI_PER_PERSON},   {"coverages.pd", P_PD_LIMIT},
               {"coverages.med", P_MED_LIMIT},      {"coverages.um", P_UM_PER_PERSON},
               {"effective_date", P_EFFECTIVE_DATE}};
    for (size_t i = 0; i < sizeof pol / sizeof *pol; i++)
        if (strcmp(path, pol[i].path) == 0 && l->pol[pol[i].field] >= 0)
            return l->names[l->pol[pol[i].field]];
    int k;
    char member[32];
    if (sscanf(path, "vehicles[%d].%31s", &k, member) == 2) {
        int field = find_name(vehicle_names, V_COUNT,
                              strcmp(member, "garaging_zip") == 0 ? "garaging_zip" : member);
        for (int i = 0, v = 0; field >= 0 && i < l->nvehicles; i++) {
            if (!present(c, l->veh[i], V_COUNT))
                continue;
            if (v++ == k && l->veh[i][field] >= 0)
                return l->names[l->veh[i][field]];
        }
    }
    return path;
}

static void intake_check(conv *c, const mq_intake *ik)
{
    if (screen_passes(c, ik))
        return;
    json_t *doc = intake_doc(c);
    if (!doc) {
        c->oom = true;
        return;
    }
    int before = c->errs->count;
    mq_intake_check(ik, doc, c->a, c->errs);
    json_decref(doc);
    int kept = (int)(sizeof c->errs->items / sizeof c->errs->items[0]);
    for (int i = before; i < c->errs->count && i < kept; i++)
        c->errs->items[i].path = column_of(c, c->errs->items[i].path);
}

bool mq_batch_csv_row(const mq_batch_layout *l, const char *const *fields, int n,
                      const mq_intake *ik, mq_arena *a, mq_input *in, mq_req_errors *errs,
                      const char **policy_id)
{
    conv c = {.l = l, .f = fields, .a = a, .errs = errs, .in = in};
    errs->count = 0;
    *policy_id = NULL;
    if (n != l->ncols) {
        err_at(&c, -1, "has %d fields, the header has %d", n, l->ncols);
        return false;
    }
    if (is_header(l, fields)) {
        err_at(&c, -1, "the header row again (books joined with their headers?)");
        return false;
    }
    if (l->policy_id >= 0 && *fields[l->policy_id])
        *policy_id = fields[l->policy_id];
    for (int i = 0; i < l->nunnamed; i++)
        if (*fields[l->unnamed[i]])
            err_at(&c, l->unnamed[i],
                   "has a value, but the header names no column here (name it; extra_* columns "
                   "are ignored)");
    /* which drivers and vehicles this row has, and how many incidents */
    int driver_index[MAX_N], nd = 0, nv = 0;
    int32_t count[MQ_ENT_COUNT] = {0};
    int incidents[MAX_N] = {0};
    for (int i = 0; i < l->ndrivers; i++) {
        driver_index[i] = present(&c, l->drv[i], D_COUNT) ? nd++ : -1;
        if (driver_index[i] >= 0) {
            incidents[i] = count_incidents(cell(&c, l->drv[i][D_INCIDENTS]));
            if (incidents[i] > MAX_INCIDENTS) {
                err_at(&c, l->drv[i][D_INCIDENTS], "more than %d incidents", MAX_INCIDENTS);
                incidents[i] = MAX_INCIDENTS;
            }
            count[MQ_ENT_INCIDENT] += incidents[i];
        }
    }
    for (int i = 0; i < l->nvehicles; i++)
        nv += present(&c, l->veh[i], V_COUNT);
    if (nd == 0)
        err_at(&c, l->drv[0][D_DOB], "no driver: every dN_* cell of the row is empty");
    if (nv == 0)
        err_at(&c, l->veh[0][V_YEAR], "no vehicle: every vN_* cell of the row is empty");
    if (nd == 0 || nv == 0)
        return false;
    count[MQ_ENT_POLICY] = 1;
    count[MQ_ENT_DRIVER] = nd;
    count[MQ_ENT_VEHICLE] = nv;
    if (!mq_input_alloc(in, a, MQ_LINE_AUTO, count)) {
        errs->count = 0;
        return false;
    }
    in->ids[MQ_ENT_POLICY][0] = "policy";
    parse_policy(&c, mq_input_row(in, MQ_ENT_POLICY, 0));
    parse_limits(&c, mq_input_row(in, MQ_ENT_POLICY, 0));
    int32_t *start = in->start[MQ_ENT_INCIDENT];
    start[0] = 0;
    for (int i = 0, d = 0; i < l->ndrivers; i++) {
        if (driver_index[i] < 0)
            continue;
        in->ids[MQ_ENT_DRIVER][d] = driver_ids[i];
        parse_driver(&c, i, mq_input_row(in, MQ_ENT_DRIVER, d));
        parse_incidents(&c, i, d, start[d], incidents[i]);
        start[d + 1] = start[d] + incidents[i];
        d++;
    }
    for (int i = 0, v = 0; i < l->nvehicles; i++) {
        if (!present(&c, l->veh[i], V_COUNT))
            continue;
        in->ids[MQ_ENT_VEHICLE][v] = vehicle_ids[i];
        parse_vehicle(&c, i, driver_index, mq_input_row(in, MQ_ENT_VEHICLE, v));
        v++;
    }
    if (ik && !c.oom && errs->count == 0)
        intake_check(&c, ik);
    if (c.oom)
        errs->count = 0;
    return !c.oom && errs->count == 0;
}
