/* states.c -- each state's minimum liability limits over time, and the state of a ZIP code.
 *
 * data/state-rules.csv holds one row per state and date its minimums took
 * effect (docs/state-rules.md cites the law of each): bodily injury and
 * property damage liability, and the first-party medical benefits (the
 * request's coverages.med) a state requires in every policy. Rows are kept
 * sorted by state then date, so the rule in force on a day is the last of the
 * state's rows that starts on or before it. Each state lists its 3-digit ZIP
 * prefixes as ranges; they fill a 1000-entry table, prefix -> state, and a
 * prefix claimed by two states is a load error. A prefix whose every ZIP
 * code is an organisation's unique one (733: the IRS in Austin) is still
 * its state's, and is named with its owner in unique_prefixes, so that a
 * request's ZIP code there is refused as no address. All 50 states and DC
 * must be there, each with exactly one row whose `effective` is empty (the
 * earliest).
 */
#include "intake_internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { COLUMNS = 10, MAX_RULES = 1000 };

static int rule_cmp(const void *a, const void *b)
{
    const mq_state_rule *x = a, *y = b;
    if (x->state != y->state)
        return x->state < y->state ? -1 : 1;
    return x->effective < y->effective ? -1 : x->effective > y->effective;
}

/* A whole number of dollars 0 .. 10,000,000. */
static bool dollars(const char *s, int *out)
{
    if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 8)
        return false;
    long v = strtol(s, NULL, 10);
    if (v > 10000000)
        return false;
    *out = (int)v;
    return true;
}

static bool three_digits(const char *s, size_t n, int *out)
{
    if (n != 3 || strspn(s, "0123456789") < 3)
        return false;
    *out = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
    return true;
}

/* "430-459 733" into zip_state; the problem, or NULL. */
static const char *add_prefixes(mq_intake *ik, int state, char *list, char *why, size_t n)
{
    static const char form[] = "zip_prefixes are 3-digit prefixes or ranges like 430-459";
    for (char *save = NULL, *tok = strtok_r(list, " ", &save); tok;
         tok = strtok_r(NULL, " ", &save)) {
        int lo, hi;
        char *dash = strchr(tok, '-');
        if (dash ? !three_digits(tok, (size_t)(dash - tok), &lo) ||
                       !three_digits(dash + 1, strlen(dash + 1), &hi)
                 : !three_digits(tok, strlen(tok), &lo))
            return form;
        if (!dash)
            hi = lo;
        if (lo > hi)
            return form;
        for (int p = lo; p <= hi; p++) {
            if (ik->zip_state[p] >= 0) {
                snprintf(why, n, "ZIP prefix %03d is already %s's", p,
                         mq_symbol_name(MQ_DOM_STATE, ik->zip_state[p]));
                return why;
            }
            ik->zip_state[p] = (signed char)state;
        }
    }
    return NULL;
}

/* "733 the IRS in Austin; 005 ..." into zip_owner: each entry one of the
 * state's prefixes (listed on this row or an earlier one), a space and who
 * its ZIP codes belong to; the problem, or NULL. */
static const char *add_owners(mq_intake *ik, int state, char *list)
{
    static const char form[] = "unique_prefixes are entries like \"733 the IRS in Austin\" "
                               "separated by \";\": one of the state's zip_prefixes, a space "
                               "and who every ZIP code of it belongs to";
    for (char *save = NULL, *tok = strtok_r(list, ";", &save); tok;
         tok = strtok_r(NULL, ";", &save)) {
        tok += strspn(tok, " ");
        int p;
        if (!three_digits(tok, 3, &p) || tok[3] != ' ' || !tok[3 + strspn(tok + 3, " ")] ||
            ik->zip_state[p] != state || ik->zip_owner[p])
            return form;
        ik->zip_owner[p] = mq_arena_strdup(&ik->mem, tok + 3 + strspn(tok + 3, " "));
        if (!ik->zip_owner[p])
            return "out of memory";
    }
    return NULL;
}

/* Reads one row into r; the problem, or NULL. */
static const char *read_row(mq_intake *ik, char **f, int nf, mq_state_rule *r, char *why, size_t n)
{
    if (nf != COLUMNS)
        return "expected 10 fields: state,name,effective,bi_per_person,bi_per_accident,pd,med,"
               "zip_prefixes,unique_prefixes,source";
    memset(r, 0, sizeof *r);
    r->state = mq_symbol_find(MQ_DOM_STATE, f[0]);
    if (r->state < 0 || r->state >= IK_MAX_STATES)
        return "state must be a US state code";
    r->effective = INT32_MIN;
    if (*f[2] && !mq_date_parse(f[2], &r->effective))
        return "effective must be a date YYYY-MM-DD or empty";
    if (!dollars(f[3], &r->bi_per_person) || !dollars(f[4], &r->bi_per_accident) ||
        !dollars(f[5], &r->pd) || !dollars(f[6], &r->med))
        return "bi_per_person, bi_per_accident, pd and med are whole dollars";
    if (r->bi_per_accident < r->bi_per_person)
        return "bi_per_accident is below bi_per_person";
    if (!*f[9])
        return "source (the law) is required";
    r->source = mq_arena_strdup(&ik->mem, f[9]);
    if (*f[1]) {
        if (ik->state_names[r->state])
            return "name is given twice for this state";
        ik->state_names[r->state] = mq_arena_strdup(&ik->mem, f[1]);
    }
    if (*f[7]) {
        const char *bad = add_prefixes(ik, r->state, f[7], why, n);
        if (bad)
            return bad;
    }
    if (*f[8])
        return add_owners(ik, r->state, f[8]);
    return NULL;
}

bool ik_load_states(mq_intake *ik, const char *dir, char *err, size_t errlen)
{
    static const char *const columns[] = {"state",           "name",   "effective", "bi_per_person",
                                          "bi_per_accident", "pd",     "med",       "zip_prefixes",
                                          "unique_prefixes", "source", NULL};
    memset(ik->zip_state, -1, sizeof ik->zip_state);
    for (int s = 0; s < IK_MAX_STATES; s++)
        ik->first_rule[s] = -1;
    ik_csv c;
    if (!ik_csv_open(&c, dir, "state-rules.csv", columns, 0, err, errlen))
        return false;
    ik->rules = mq_arena_alloc(&ik->mem, sizeof *ik->rules * MAX_RULES);
    bool ok = ik->rules != NULL;
    if (!ok)
        snprintf(err, errlen, "out of memory");
    char *f[IK_MAX_FIELDS];
    int nf;
    while (ok && ik_csv_next(&c, f, &nf)) {
        char why[128];
        const char *bad = ik->nrules == MAX_RULES ? "more than 1000 rows" : NULL;
        if (!bad)
            bad = read_row(ik, f, nf, &ik->rules[ik->nrules], why, sizeof why);
        if (!bad && !ik->rules[ik->nrules].source)
            bad = "out of memory";
        if (bad) {
            snprintf(err, errlen, "%s:%d: %s", c.path, c.line, bad);
            ok = false;
            break;
        }
        ik->nrules++;
    }
    if (ok)
        qsort(ik->rules, (size_t)ik->nrules, sizeof *ik->rules, rule_cmp);
    for (int i = 0; ok && i < ik->nrules; i++) {
        mq_state_rule *r = &ik->rules[i];
        bool first = i == 0 || ik->rules[i - 1].state != r->state;
        bool last = i + 1 == ik->nrules || ik->rules[i + 1].state != r->state;
        const char *code = mq_symbol_name(MQ_DOM_STATE, r->state);
        if (first != (r->effective == INT32_MIN) ||
            (!first && ik->rules[i - 1].effective == r->effective)) {
            snprintf(err, errlen,
                     "%s: %s needs exactly one row with an empty effective date and no two rows "
                     "with the same date",
                     c.path, code);
            ok = false;
        }
        if (first) {
            ik->first_rule[r->state] = i;
        }
        ik->nstate_rules[r->state]++;
        r->until = last ? INT32_MAX : ik->rules[i + 1].effective;
        r->name = ik->state_names[r->state];
    }
    for (int s = 0; ok && s < mq_symbol_count(MQ_DOM_STATE); s++) {
        bool zips = false;
        for (int p = 0; p < 1000; p++)
            zips = zips || ik->zip_state[p] == s;
        if (ik->first_rule[s] < 0 || !ik->state_names[s] || !zips) {
            snprintf(err, errlen, "%s: %s needs a row with its name, minimums and ZIP prefixes",
                     c.path, mq_symbol_name(MQ_DOM_STATE, s));
            ok = false;
        }
    }
    ik_csv_close(&c);
    return ok;
}

const mq_state_rule *mq_state_rule_on(const mq_intake *ik, int state, int32_t day)
{
    if (!ik || state < 0 || state >= IK_MAX_STATES || ik->first_rule[state] < 0)
        return NULL;
    const mq_state_rule *r = &ik->rules[ik->first_rule[state]];
    for (int i = 1; i < ik->nstate_rules[state] && r[1].effective <= day; i++)
        r++;
    return r;
}

const mq_tip_minimums *mq_state_tip_minimums(const mq_input *in, mq_tip_minimums *out)
{
    char err[256];
    const mq_state_rule *rule =
        in->line == MQ_LINE_AUTO
            ? mq_state_rule_on(mq_intake_default(err, sizeof err), in->state, in->effective_date)
            : NULL;
    if (!rule)
        return NULL;
    *out = (mq_tip_minimums){rule->bi_per_person, rule->bi_per_accident};
    return out;
}

int mq_state_rule_count(const mq_intake *ik)
{
    return ik ? ik->nrules : 0;
}

const mq_state_rule *mq_state_rule_at(const mq_intake *ik, int i)
{
    return ik && i >= 0 && i < ik->nrules ? &ik->rules[i] : NULL;
}

const char *mq_state_name(const mq_intake *ik, int state)
{
    if (!ik || state < 0 || state >= IK_MAX_STATES || !ik->state_names[state])
        return state >= 0 ? mq_symbol_name(MQ_DOM_STATE, state) : "";
    return ik->state_names[state];
}

int mq_state_of_zip(const mq_intake *ik, const char *zip)
{
    int p;
    if (!ik || !zip || strlen(zip) != 5 || strspn(zip, "0123456789") != 5 ||
        !three_digits(zip, 3, &p))
        return -1;
    return ik->zip_state[p];
}

const char *mq_zip_owner(const mq_intake *ik, const char *zip)
{
    int p;
    if (mq_state_of_zip(ik, zip) < 0 || !three_digits(zip, 3, &p))
        return NULL;
    return ik->zip_owner[p];
}

/* ["430-459"] for a state. */
static json_t *prefix_ranges(const mq_intake *ik, int state)
{
    json_t *list = json_array();
    for (int p = 0; list && p < 1000; p++) {
        if (ik->zip_state[p] != state)
            continue;
        int q = p;
        while (q + 1 < 1000 && ik->zip_state[q + 1] == state)
            q++;
        char text[32];
        if (q == p)
            snprintf(text, sizeof text, "%03d", p);
        else
            snprintf(text, sizeof text, "%03d-%03d", p, q);
        json_array_append_new(list, json_string(text));
        p = q;
    }
    return list;
}

json_t *mq_state_rules_json(const mq_intake *ik, int32_t day)
{
    char as_of[11];
    mq_date_format(day, as_of);
    json_t *states = json_array();
    json_t *doc = json_pack("{s:s, s:o}", "as_of", as_of, "states", states);
    for (int s = 0; doc && s < mq_symbol_count(MQ_DOM_STATE); s++) {
        const mq_state_rule *r = mq_state_rule_on(ik, s, day);
        if (!r)
            continue;
        char eff[11];
        if (r->effective != INT32_MIN)
            mq_date_format(r->effective, eff);
        json_t *row = json_pack(
            "{s:s, s:s, s:o, s:{s:i, s:i}, s:{s:i}, s:{s:i}, s:o, s:s}", "state",
            mq_symbol_name(MQ_DOM_STATE, s), "name", r->name, "effective",
            r->effective == INT32_MIN ? json_null() : json_string(eff), "bi", "per_person",
            r->bi_per_person, "per_accident", r->bi_per_accident, "pd", "limit", r->pd, "med",
            "limit", r->med, "zip_prefixes", prefix_ranges(ik, s), "source", r->source);
        if (!row || json_array_append_new(states, row) != 0) {
            json_decref(doc);
            return NULL;
        }
    }
    return doc;
}
