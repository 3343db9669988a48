/* request_health.c -- the health (ACA individual market) request sections.
 *
 * The policy row (MQ_XP_*) holds where the household lives, down to the
 * county (its rating area), and the household size and income that the
 * premium tax credit needs; each covered person is a member row (MQ_XM_*),
 * rated on their own. The county FIPS code must belong to the address state
 * (its first two digits), so a typo is caught here rather than quoted as
 * "not offered". Members must be one "self", at most one "spouse", and any
 * number of children; the household counts at least everyone listed.
 * The "self" member is the applicant: when applicant.date_of_birth is given
 * too, the two must agree (the premium is the member's). Tobacco use is
 * asked of every member: a missing answer is never taken as "no" (that
 * would quote the lower, non-tobacco price).
 */
#include "request_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_MEMBERS = 20, MAX_HOUSEHOLD = 20 };

static const char *const health_keys[] = {"line",      "effective_date", "applicant", "carriers",
                                          "household", "members",        "filters",   NULL};
static const char *const health_address_keys[] = {"street", "city",        "state",
                                                  "zip",    "county_fips", NULL};
static const char *const household_keys[] = {"size", "income", NULL};
static const char *const member_keys[] = {"id", "relationship", "date_of_birth", "tobacco", NULL};
static const char *const filter_keys[] = {"metal", NULL};

/* State FIPS codes, the first two digits of a county FIPS code. */
static const struct {
    const char state[3];
    int fips;
} state_fips[] = {
    {"AL", 1},  {"AK", 2},  {"AZ", 4},  {"AR", 5},  {"CA", 6},  {"CO", 8},  {"CT", 9},  {"DE", 10},
    {"DC", 11}, {"FL", 12}, {"GA", 13}, {"HI", 15}, {"ID", 16}, {"IL", 17}, {"IN", 18}, {"IA", 19},
    {"KS", 20}, {"KY", 21}, {"LA", 22}, {"ME", 23}, {"MD", 24}, {"MA", 25}, {"MI", 26}, {"MN", 27},
    {"MS", 28}, {"MO", 29}, {"MT", 30}, {"NE", 31}, {"NV", 32}, {"NH", 33}, {"NJ", 34}, {"NM", 35},
    {"NY", 36}, {"NC", 37}, {"ND", 38}, {"OH", 39}, {"OK", 40}, {"OR", 41}, {"PA", 42}, {"RI", 44},
    {"SC", 45}, {"SD", 46}, {"TN", 47}, {"TX", 48}, {"UT", 49}, {"VT", 50}, {"VA", 51}, {"WA", 53},
    {"WV", 54}, {"WI", 55}, {"WY", 56},
};

static int fips_of_state(int state)
{
    const char *name = mq_symbol_name(MQ_DOM_STATE, state);
    for (size_t i = 0; i < sizeof state_fips / sizeof *state_fips; i++)
        if (strcmp(state_fips[i].state, name) == 0)
            return state_fips[i].fips;
    return -1;
}

/* applicant.address.county_fips: five digits, in the address state. */
static void health_address(req *r, const json_t *addr, double *pol)
{
    json_t *v = rq_member(r, addr, "county_fips", true);
    if (!v)
        return;
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    char q[160];
    if (!s) {
        rq_err_type(r, "county_fips", "a 5-digit county FIPS code string", v);
        return;
    }
    if (strlen(s) != 5 || strspn(s, "0123456789") != 5) {
        rq_err_at(r, "county_fips", "not a 5-digit county FIPS code %s", mq_req_quoted(s, q));
        return;
    }
    int code = atoi(s);
    double state = pol[MQ_XP_STATE];
    if (!isnan(state) && code / 1000 != fips_of_state((int)state)) {
        rq_err_at(r, "county_fips", "county %s is not in %s", s,
                  mq_symbol_name(MQ_DOM_STATE, (int)state));
        return;
    }
    pol[MQ_XP_COUNTY] = code;
}

/* household: optional; without it no premium tax credit is estimated. */
static json_t *parse_household(req *r, const json_t *doc, double *pol)
{
    json_t *hh = rq_get_object(r, doc, "household", false, household_keys);
    if (!hh)
        return NULL;
    size_t at = rq_path_enter(r, "household");
    rq_get_number(r, hh, "size", true, (num_rule){1, MAX_HOUSEHOLD, true, false},
                  &pol[MQ_XP_HOUSEHOLD_SIZE]);
    rq_get_number(r, hh, "income", true, (num_rule){0, MAX_AMOUNT, false, true},
                  &pol[MQ_XP_INCOME]);
    rq_path_pop(r, at);
    return hh;
}

/* Which members hold the one-only relationships (-1: none yet), and
 * whether every relationship could be read. */
typedef struct roles {
    int self, spouse;
    bool all_read;
} roles;

/* Records member m's relationship; a second self or spouse is an error. */
static void check_role(req *r, roles *ro, int m, double rel)
{
    static const char *const names[] = {"self", "spouse"};
    int *first[] = {&ro->self, &ro->spouse};
    for (int i = 0; i < 2; i++) {
        if ((int)rel != mq_symbol_find(MQ_DOM_RELATIONSHIP, names[i]))
            continue;
        if (*first[i] >= 0)
            rq_err_at(r, "relationship", "only one member may be \"%s\" (also members[%d])",
                      names[i], *first[i]);
        else
            *first[i] = m;
    }
}

static void parse_member(req *r, const json_t *mem, int m, roles *ro)
{
    double *row = mq_input_row(r->in, MQ_ENT_MEMBER, m);
    const char **ids = r->in->ids[MQ_ENT_MEMBER];
    rq_check_keys(r, mem, member_keys, "unknown field");
    ids[m] = rq_get_id(r, mem);
    rq_check_unique(r, ids, m, "members");
    if (rq_get_enum(r, mem, "relationship", true, MQ_DOM_RELATIONSHIP, &row[MQ_XM_RELATIONSHIP]))
        check_role(r, ro, m, row[MQ_XM_RELATIONSHIP]);
    else
        ro->all_read = false;
    int32_t dob;
    if (rq_get_birth_date(r, mem, "date_of_birth", true, &dob))
        row[MQ_XM_DATE_OF_BIRTH] = dob;
    rq_get_bool(r, mem, "tobacco", true, &row[MQ_XM_TOBACCO]);
}

/* applicant.date_of_birth when it was given and valid (parse_applicant
 * reported it otherwise); false when it was not. */
static bool applicant_dob(const json_t *doc, int32_t *out)
{
    const char *s =
        json_string_value(json_object_get(json_object_get(doc, "applicant"), "date_of_birth"));
    return s && mq_date_parse(s, out);
}

/* The "self" member (members[m], its row read) is the applicant: its date
 * of birth is the applicant's when both are given. */
static void check_self_dob(req *r, const json_t *doc, int m)
{
    int32_t dob;
    double self = mq_input_row(r->in, MQ_ENT_MEMBER, m)[MQ_XM_DATE_OF_BIRTH];
    if (isnan(self) || !applicant_dob(doc, &dob) || dob == (int32_t)self)
        return;
    char day[11];
    mq_date_format(dob, day);
    size_t e = rq_path_index(r, (size_t)m);
    rq_err_at(r, "date_of_birth",
              "is not the applicant's date_of_birth (%s): the member \"self\" is the applicant",
              day);
    rq_path_pop(r, e);
}

/* The members; returns how many were listed (-1 when the list is invalid). */
static int parse_members(req *r, const json_t *doc)
{
    int n = rq_get_list(r, doc, "members", true, 1, MAX_MEMBERS, "members");
    json_t *list = json_object_get(doc, "members");
    roles ro = {-1, -1, true};
    size_t at = rq_path_enter(r, "members");
    for (int m = 0; m < n; m++) {
        json_t *mem = json_array_get(list, (size_t)m);
        size_t e = rq_path_index(r, (size_t)m);
        if (json_is_object(mem)) {
            parse_member(r, mem, m, &ro);
        } else {
            rq_err_type(r, NULL, "an object", mem);
            ro.all_read = false;
        }
        rq_path_pop(r, e);
    }
    if (n > 0 && ro.all_read && ro.self < 0)
        rq_err_at(r, NULL, "must include the applicant: one member with relationship \"self\"");
    if (ro.self >= 0)
        check_self_dob(r, doc, ro.self);
    rq_path_pop(r, at);
    return n;
}

/* filters.metal: the metal levels to show (in->metals, a bit per code). */
static void parse_filters(req *r, const json_t *doc)
{
    json_t *filters = rq_get_object(r, doc, "filters", false, filter_keys);
    if (!filters)
        return;
    size_t at = rq_path_enter(r, "filters");
    int n =
        rq_get_list(r, filters, "metal", false, 1, (size_t)mq_symbol_count(MQ_DOM_METAL), "metals");
    json_t *list = json_object_get(filters, "metal");
    size_t e = rq_path_enter(r, "metal");
    for (int i = 0; i < n; i++) {
        size_t x = rq_path_index(r, (size_t)i);
        double code;
        if (rq_enum_value(r, NULL, json_array_get(list, (size_t)i), MQ_DOM_METAL, &code))
            r->in->metals |= 1u << (int)code;
        rq_path_pop(r, x);
    }
    rq_path_pop(r, e);
    rq_path_pop(r, at);
}

static void health_count(const json_t *doc, int32_t count[MQ_ENT_COUNT])
{
    int n = rq_list_size(json_object_get(doc, "members"), 1, MAX_MEMBERS);
    count[MQ_ENT_MEMBER] = n > 0 ? n : 0;
}

static void health_parse(req *r, const json_t *doc)
{
    double *pol = mq_input_row(r->in, MQ_ENT_POLICY, 0);
    json_t *hh = parse_household(r, doc, pol);
    int n = parse_members(r, doc);
    double size = pol[MQ_XP_HOUSEHOLD_SIZE];
    if (hh && n > 0 && size < n) {
        size_t at = rq_path_enter(r, "household");
        rq_err_at(r, "size", "is %.0f, fewer than the %d members listed", size, n);
        rq_path_pop(r, at);
        pol[MQ_XP_HOUSEHOLD_SIZE] = NAN;
    }
    parse_filters(r, doc);
}

const rq_line rq_health_line = {
    .top_keys = health_keys,
    .applicant_keys = rq_applicant_keys,
    .address_keys = health_address_keys,
    .dob_slot = -1,
    .homeowner_slot = -1,
    .paperless_slot = -1,
    .count = health_count,
    .address = health_address,
    .parse = health_parse,
};
