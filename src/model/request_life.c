/* request_life.c -- the term_life request sections.
 *
 * Term life has no lists: everything is a fact of the policy row (MQ_LP_*).
 * The applicant must give a date of birth and a gender (the rate tables are by
 * issue age and sex). Each carrier computes its own issue age, at the last or
 * at the nearest birthday, so the request admits every applicant some basis
 * puts at 18 to 75: at least 18 at the nearest birthday (17 and a half counts
 * as 18 where a carrier uses it) and at most 75 at the last; the term must end
 * by age 95 (last birthday). Every underwriting
 * answer (tobacco, build, the four health questions) is required, so no
 * carrier classifies a shopper on an answer that was never given; only the
 * self-declared health_class may be left out (null: each carrier classifies).
 */
#include "request_internal.h"

#include <math.h>
#include <string.h>

enum { MIN_ISSUE_AGE = 18, MAX_ISSUE_AGE = 75, MAX_END_AGE = 95 };

static const char *const life_keys[] = {"line",        "effective_date", "applicant",    "carriers",
                                        "face_amount", "term_years",     "payment_mode", "tobacco",
                                        "build",       "health",         "health_class", NULL};
static const char *const life_applicant_keys[] = {
    "first_name", "last_name", "email",   "phone", "date_of_birth", "gender", "address",
    "homeowner",  "paperless", "consent", NULL};
static const char *const build_keys[] = {"height_in", "weight_lb", NULL};
static const char *const health_keys[] = {"blood_pressure_treated", "cholesterol_treated",
                                          "diabetes", "family_heart_disease_before_60", NULL};

/* The issue age at the last birthday, or -1 when the date of birth or
 * effective date is missing. */
static int issue_age(const req *r, const double *pol)
{
    double dob = pol[MQ_LP_DATE_OF_BIRTH];
    return r->has_eff && !isnan(dob) ? mq_date_age((int32_t)dob, r->eff) : -1;
}

/* The age at the nearest birthday, as the plans' age_nearest() counts it:
 * plus one from six whole months after the last birthday, which for someone
 * born on 29 February is 1 March in common years (mq_date_age_nearest). */
static int nearest_age(const req *r, const double *pol)
{
    return mq_date_age_nearest((int32_t)pol[MQ_LP_DATE_OF_BIRTH], r->eff);
}

static void life_applicant(req *r, const json_t *ap, double *pol)
{
    rq_get_enum(r, ap, "gender", true, MQ_DOM_GENDER, &pol[MQ_LP_GENDER]);
    int age = issue_age(r, pol);
    if (age < 0)
        return;
    int nearest = nearest_age(r, pol);
    if (nearest < MIN_ISSUE_AGE)
        rq_err_at(r, "date_of_birth",
                  "the applicant is %d on the effective date, %d at the nearest birthday; term "
                  "life is issued from age %d at the nearest birthday",
                  age, nearest, MIN_ISSUE_AGE);
    else if (age > MAX_ISSUE_AGE)
        rq_err_at(r, "date_of_birth",
                  "the applicant is %d on the effective date; term life is issued to age %d", age,
                  MAX_ISSUE_AGE);
    else
        return;
    pol[MQ_LP_DATE_OF_BIRTH] = NAN; /* no term check against a refused age */
}

/* term_years: one of the terms sold, ending by MAX_END_AGE. */
static void parse_term(req *r, const json_t *doc, double *pol)
{
    json_t *v = rq_member(r, doc, "term_years", true);
    if (!v)
        return;
    if (!json_is_number(v)) {
        rq_err_type(r, "term_years", "a number", v);
        return;
    }
    double t = json_number_value(v);
    if (t != 10 && t != 15 && t != 20 && t != 25 && t != 30) {
        rq_err_at(r, "term_years", "must be 10, 15, 20, 25 or 30, got %.15g", t);
        return;
    }
    int age = issue_age(r, pol);
    if (age >= 0 && age + (int)t > MAX_END_AGE) {
        rq_err_at(r, "term_years",
                  "a %d-year term at issue age %d ends at age %d; terms must end by age %d", (int)t,
                  age, age + (int)t, MAX_END_AGE);
        return;
    }
    pol[MQ_LP_TERM_YEARS] = t;
}

static void parse_build(req *r, const json_t *doc, double *pol)
{
    json_t *build = rq_get_object(r, doc, "build", true, build_keys);
    if (!build)
        return;
    size_t at = rq_path_enter(r, "build");
    rq_get_number(r, build, "height_in", true, (num_rule){48, 90, true, false},
                  &pol[MQ_LP_HEIGHT_IN]);
    rq_get_number(r, build, "weight_lb", true, (num_rule){80, 500, true, false},
                  &pol[MQ_LP_WEIGHT_LB]);
    rq_path_pop(r, at);
}

static void parse_health(req *r, const json_t *doc, double *pol)
{
    json_t *health = rq_get_object(r, doc, "health", true, health_keys);
    if (!health)
        return;
    static const int fields[] = {MQ_LP_BP_TREATED, MQ_LP_CHOLESTEROL_TREATED, MQ_LP_DIABETES,
                                 MQ_LP_FAMILY_HEART};
    size_t at = rq_path_enter(r, "health");
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        rq_get_bool(r, health, health_keys[i], true, &pol[fields[i]]);
    rq_path_pop(r, at);
}

/* The self-declared class, which must agree with the tobacco answer. */
static void parse_health_class(req *r, const json_t *doc, double *pol, bool has_tobacco)
{
    double *cls = &pol[MQ_LP_HEALTH_CLASS];
    if (!rq_get_enum(r, doc, "health_class", false, MQ_DOM_HEALTH_CLASS, cls) || !has_tobacco)
        return;
    const char *name = mq_symbol_name(MQ_DOM_HEALTH_CLASS, (int)*cls);
    bool tobacco_class = strncmp(name, "tobacco_", 8) == 0;
    char q[160];
    if (tobacco_class && pol[MQ_LP_TOBACCO] == 0)
        rq_err_at(r, "health_class", "%s is a tobacco class, but tobacco is false",
                  mq_req_quoted(name, q));
    else if (!tobacco_class && pol[MQ_LP_TOBACCO] == 1)
        rq_err_at(r, "health_class", "%s is not a tobacco class, but tobacco is true",
                  mq_req_quoted(name, q));
    else
        return;
    *cls = NAN;
}

static void life_parse(req *r, const json_t *doc)
{
    double *pol = mq_input_row(r->in, MQ_ENT_POLICY, 0);
    rq_get_number(r, doc, "face_amount", true, (num_rule){25000, 10000000, true, false},
                  &pol[MQ_LP_FACE_AMOUNT]);
    parse_term(r, doc, pol);
    rq_get_enum(r, doc, "payment_mode", true, MQ_DOM_PAYMENT_MODE, &pol[MQ_LP_PAYMENT_MODE]);
    bool has_tobacco = rq_get_bool(r, doc, "tobacco", true, &pol[MQ_LP_TOBACCO]);
    parse_build(r, doc, pol);
    parse_health(r, doc, pol);
    parse_health_class(r, doc, pol, has_tobacco);
}

const rq_line rq_life_line = {
    .top_keys = life_keys,
    .applicant_keys = life_applicant_keys,
    .address_keys = rq_address_keys,
    .dob_slot = MQ_LP_DATE_OF_BIRTH,
    .dob_required = true,
    .homeowner_slot = -1,
    .paperless_slot = -1,
    .applicant = life_applicant,
    .parse = life_parse,
};
