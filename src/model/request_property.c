/* request_property.c -- the home (HO-3) and renters (HO-4) request sections.
 *
 * Both lines fill one policy row (MQ_HP_*): home reads a `dwelling`, renters a
 * `unit`, and the construction, protection class and protective devices of
 * either land in the same fields. Prior `claims` are a list owned by the
 * policy (no start offsets). Coverages are plain whole-dollar amounts; the
 * ones the contract gives a default for are computed here, as a percentage of
 * the main limit rounded half up to the dollar, so every carrier rates the
 * same amounts: home B = 10%, C = 50%, D = 20% of A; renters D = 20% of C.
 * (A result's property limits show the main limit, A or C, and the
 * deductible: the coverage's two limit fields.)
 */
#include "request_internal.h"

#include <math.h>

enum { MAX_CLAIMS = 50 };

static const char *const home_keys[] = {"line",     "effective_date", "applicant", "carriers",
                                        "dwelling", "claims",         "coverages", NULL};
static const char *const renters_keys[] = {"line", "effective_date", "applicant", "carriers",
                                           "unit", "claims",         "coverages", NULL};
static const char *const dwelling_keys[] = {
    "year_built",      "construction", "square_feet",      "stories",
    "roof_year",       "roof_type",    "protection_class", "replacement_cost",
    "smoke_detectors", "sprinklers",   "burglar_alarm",    NULL};
static const char *const unit_keys[] = {
    "construction", "protection_class", "floor", "smoke_detectors",
    "sprinklers",   "burglar_alarm",    NULL};
static const char *const claim_keys[] = {"type", "date", "amount", NULL};
static const char *const home_cov_keys[] = {
    "dwelling",  "other_structures", "personal_property", "loss_of_use",
    "liability", "med_pay",          "deductible",        NULL};
static const char *const renters_cov_keys[] = {"personal_property", "loss_of_use", "liability",
                                               "med_pay",           "deductible",  NULL};

/* The protective devices, shared by dwelling and unit; absent means none. */
static void parse_devices(req *r, const json_t *obj, double *pol)
{
    static const struct {
        const char *key;
        int field;
    } devices[] = {{"smoke_detectors", MQ_HP_SMOKE_DETECTORS},
                   {"sprinklers", MQ_HP_SPRINKLERS},
                   {"burglar_alarm", MQ_HP_BURGLAR_ALARM}};
    for (size_t i = 0; i < sizeof devices / sizeof *devices; i++) {
        pol[devices[i].field] = 0;
        rq_get_bool(r, obj, devices[i].key, false, &pol[devices[i].field]);
    }
}

static void parse_protection_class(req *r, const json_t *obj, double *pol)
{
    rq_get_number(r, obj, "protection_class", true, (num_rule){1, 10, true, false},
                  &pol[MQ_HP_PROTECTION_CLASS]);
}

static void parse_dwelling(req *r, const json_t *doc, double *pol)
{
    json_t *dw = rq_get_object(r, doc, "dwelling", true, dwelling_keys);
    if (!dw)
        return;
    size_t at = rq_path_enter(r, "dwelling");
    double this_year = r->has_eff ? r->eff_year : 2200;
    bool built =
        rq_get_number(r, dw, "year_built", true, (num_rule){1700, this_year + 1, true, false},
                      &pol[MQ_HP_YEAR_BUILT]);
    rq_get_enum(r, dw, "construction", true, MQ_DOM_CONSTRUCTION, &pol[MQ_HP_CONSTRUCTION]);
    rq_get_number(r, dw, "square_feet", false, (num_rule){100, 100000, true, false},
                  &pol[MQ_HP_SQUARE_FEET]);
    rq_get_number(r, dw, "stories", false, (num_rule){1, 4, true, false}, &pol[MQ_HP_STORIES]);
    double *roof = &pol[MQ_HP_ROOF_YEAR];
    if (rq_get_number(r, dw, "roof_year", false, (num_rule){1700, this_year, true, false}, roof) &&
        built && *roof < pol[MQ_HP_YEAR_BUILT]) {
        rq_err_at(r, "roof_year", "is before year_built (%.0f)", pol[MQ_HP_YEAR_BUILT]);
        *roof = NAN;
    }
    rq_get_enum(r, dw, "roof_type", false, MQ_DOM_ROOF, &pol[MQ_HP_ROOF_TYPE]);
    parse_protection_class(r, dw, pol);
    rq_get_number(r, dw, "replacement_cost", false, LIMIT, &pol[MQ_HP_REPLACEMENT_COST]);
    parse_devices(r, dw, pol);
    rq_path_pop(r, at);
}

static void parse_unit(req *r, const json_t *doc, double *pol)
{
    json_t *unit = rq_get_object(r, doc, "unit", true, unit_keys);
    if (!unit)
        return;
    size_t at = rq_path_enter(r, "unit");
    rq_get_enum(r, unit, "construction", true, MQ_DOM_CONSTRUCTION, &pol[MQ_HP_CONSTRUCTION]);
    parse_protection_class(r, unit, pol);
    rq_get_number(r, unit, "floor", false, (num_rule){1, 200, true, false}, &pol[MQ_HP_FLOOR]);
    parse_devices(r, unit, pol);
    rq_path_pop(r, at);
}

static void parse_claim(req *r, const json_t *claim, double *row)
{
    rq_check_keys(r, claim, claim_keys, "unknown field");
    rq_get_enum(r, claim, "type", true, MQ_DOM_CLAIM, &row[MQ_HC_TYPE]);
    int32_t day;
    if (rq_get_past_date(r, claim, "date", true, &day))
        row[MQ_HC_DATE] = day;
    rq_get_number(r, claim, "amount", false, (num_rule){0, MAX_AMOUNT, false, true},
                  &row[MQ_HC_AMOUNT]);
}

static void parse_claims(req *r, const json_t *doc)
{
    int n = rq_get_list(r, doc, "claims", false, 0, MAX_CLAIMS, "claims");
    json_t *list = json_object_get(doc, "claims");
    size_t at = rq_path_enter(r, "claims");
    for (int i = 0; i < n; i++) {
        json_t *claim = json_array_get(list, (size_t)i);
        r->in->ids[MQ_ENT_CLAIM][i] = mq_arena_printf(r->a, "claims[%d]", i);
        if (!r->in->ids[MQ_ENT_CLAIM][i])
            r->oom = true;
        size_t e = rq_path_index(r, (size_t)i);
        if (json_is_object(claim))
            parse_claim(r, claim, mq_input_row(r->in, MQ_ENT_CLAIM, i));
        else
            rq_err_type(r, NULL, "an object", claim);
        rq_path_pop(r, e);
    }
    rq_path_pop(r, at);
}

/* Optional coverage `key`: the amount given, or else pct% of `base` in whole
 * dollars, halves rounded up (nothing when `base` is missing). */
static void get_share(req *r, const json_t *covs, const char *key, double base, int pct,
                      double *out)
{
    if (rq_member(r, covs, key, false))
        rq_get_number(r, covs, key, false, LIMIT, out);
    else if (!isnan(base))
        *out = floor((base * pct + 50) / 100); /* base is whole: exact */
}

/* The all-peril deductible, less than the property limit `base` (coverage `name`). */
static void get_deductible(req *r, const json_t *covs, double base, const char *name, double *out)
{
    if (rq_get_number(r, covs, "deductible", true, LIMIT, out) && !isnan(base) && *out >= base) {
        rq_err_at(r, "deductible", "must be less than %s (%.0f)", name, base);
        *out = NAN;
    }
}

/* The `coverages` object; NULL (after any error) when it is not there. */
static json_t *enter_coverages(req *r, const json_t *doc, const char *const *keys,
                               const char *unknown, size_t *at)
{
    json_t *covs = rq_member(r, doc, "coverages", true);
    if (covs && !json_is_object(covs))
        rq_err_type(r, "coverages", "an object", covs);
    if (!covs || !json_is_object(covs))
        return NULL;
    *at = rq_path_enter(r, "coverages");
    rq_check_keys(r, covs, keys, unknown);
    return covs;
}

static void parse_home_coverages(req *r, const json_t *doc, double *p)
{
    size_t at;
    json_t *covs = enter_coverages(r, doc, home_cov_keys,
                                   "not a home coverage (dwelling, other_structures, "
                                   "personal_property, loss_of_use, liability, med_pay, "
                                   "deductible)",
                                   &at);
    if (!covs)
        return;
    rq_get_number(r, covs, "dwelling", true, LIMIT, &p[MQ_HP_COV_A]);
    get_share(r, covs, "other_structures", p[MQ_HP_COV_A], 10, &p[MQ_HP_COV_B]);
    get_share(r, covs, "personal_property", p[MQ_HP_COV_A], 50, &p[MQ_HP_COV_C]);
    get_share(r, covs, "loss_of_use", p[MQ_HP_COV_A], 20, &p[MQ_HP_COV_D]);
    rq_get_number(r, covs, "liability", true, LIMIT, &p[MQ_HP_COV_E]);
    rq_get_number(r, covs, "med_pay", false, LIMIT, &p[MQ_HP_COV_F]);
    get_deductible(r, covs, p[MQ_HP_COV_A], "dwelling", &p[MQ_HP_DEDUCTIBLE]);
    rq_path_pop(r, at);
}

static void parse_renters_coverages(req *r, const json_t *doc, double *p)
{
    size_t at;
    json_t *covs = enter_coverages(r, doc, renters_cov_keys,
                                   "not a renters coverage (personal_property, loss_of_use, "
                                   "liability, med_pay, deductible)",
                                   &at);
    if (!covs)
        return;
    rq_get_number(r, covs, "personal_property", true, LIMIT, &p[MQ_HP_COV_C]);
    get_share(r, covs, "loss_of_use", p[MQ_HP_COV_C], 20, &p[MQ_HP_COV_D]);
    rq_get_number(r, covs, "liability", true, LIMIT, &p[MQ_HP_COV_E]);
    rq_get_number(r, covs, "med_pay", false, LIMIT, &p[MQ_HP_COV_F]);
    get_deductible(r, covs, p[MQ_HP_COV_C], "personal_property", &p[MQ_HP_DEDUCTIBLE]);
    rq_path_pop(r, at);
}

static void property_count(const json_t *doc, int32_t count[MQ_ENT_COUNT])
{
    int n = rq_list_size(json_object_get(doc, "claims"), 0, MAX_CLAIMS);
    count[MQ_ENT_CLAIM] = n > 0 ? n : 0;
}

static void home_parse(req *r, const json_t *doc)
{
    double *pol = mq_input_row(r->in, MQ_ENT_POLICY, 0);
    parse_dwelling(r, doc, pol);
    parse_claims(r, doc);
    parse_home_coverages(r, doc, pol);
}

static void renters_parse(req *r, const json_t *doc)
{
    double *pol = mq_input_row(r->in, MQ_ENT_POLICY, 0);
    parse_unit(r, doc, pol);
    parse_claims(r, doc);
    parse_renters_coverages(r, doc, pol);
}

const rq_line rq_home_line = {
    .top_keys = home_keys,
    .applicant_keys = rq_applicant_keys,
    .address_keys = rq_address_keys,
    .dob_slot = MQ_HP_APPLICANT_DOB,
    .homeowner_slot = -1,
    .paperless_slot = MQ_HP_PAPERLESS,
    .count = property_count,
    .parse = home_parse,
};

const rq_line rq_renters_line = {
    .top_keys = renters_keys,
    .applicant_keys = rq_applicant_keys,
    .address_keys = rq_address_keys,
    .dob_slot = MQ_HP_APPLICANT_DOB,
    .homeowner_slot = -1,
    .paperless_slot = MQ_HP_PAPERLESS,
    .count = property_count,
    .parse = renters_parse,
};
