/* schema.c -- the rating vocabulary: entities, fields, enums and coverages.
 *
 * Plans name request facts ("driver.date_of_birth"); src/model fills them
 * into an mq_input by the same field index. Both read these tables, so the
 * vocabulary lives in one place and adding a field is one line here plus the
 * line in the request parser that fills it. Field order is the storage order.
 */
#include "engine.h"

#include <string.h>

static const char *const state_names[] = {
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID",
    "IL", "IN", "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO",
    "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA",
    "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY"};
static const char *const gender_names[] = {"female", "male", "nonbinary", "unspecified"};
static const char *const marital_names[] = {"single", "married", "civil_union", "divorced",
                                            "widowed"};
static const char *const use_names[] = {"pleasure", "commute", "business"};
static const char *const incident_names[] = {
    "at_fault_accident", "not_at_fault_accident", "dui",
    "speeding",          "moving_violation",      "comp_claim"};

#define DOMAIN(a)                                                                                  \
    {                                                                                              \
        a, (int)(sizeof(a) / sizeof(a[0]))                                                         \
    }
static const struct {
    const char *const *names;
    int count;
} domains[MQ_DOM_COUNT] = {
    [MQ_DOM_NONE] = {NULL, 0},
    [MQ_DOM_STATE] = DOMAIN(state_names),
    [MQ_DOM_GENDER] = DOMAIN(gender_names),
    [MQ_DOM_MARITAL] = DOMAIN(marital_names),
    [MQ_DOM_USE] = DOMAIN(use_names),
    [MQ_DOM_INCIDENT] = DOMAIN(incident_names),
};

int mq_symbol_find(mq_domain d, const char *name)
{
    if (d <= MQ_DOM_NONE || d >= MQ_DOM_COUNT)
        return -1;
    for (int i = 0; i < domains[d].count; i++)
        if (strcmp(domains[d].names[i], name) == 0)
            return i;
    return -1;
}

const char *mq_symbol_name(mq_domain d, int code)
{
    if (d <= MQ_DOM_NONE || d >= MQ_DOM_COUNT || code < 0 || code >= domains[d].count)
        return "?";
    return domains[d].names[code];
}

int mq_symbol_count(mq_domain d)
{
    return (d <= MQ_DOM_NONE || d >= MQ_DOM_COUNT) ? 0 : domains[d].count;
}

/* ---- auto ------------------------------------------------------------ */

#define NUM(n, doc)                                                                                \
    {                                                                                              \
        n, MQ_T_NUMBER, MQ_DOM_NONE, MQ_ENT_POLICY, doc                                            \
    }
#define BOOL(n, doc)                                                                               \
    {                                                                                              \
        n, MQ_T_BOOL, MQ_DOM_NONE, MQ_ENT_POLICY, doc                                              \
    }
#define DATE(n, doc)                                                                               \
    {                                                                                              \
        n, MQ_T_DATE, MQ_DOM_NONE, MQ_ENT_POLICY, doc                                              \
    }
#define ENUM(n, d, doc)                                                                            \
    {                                                                                              \
        n, MQ_T_ENUM, d, MQ_ENT_POLICY, doc                                                        \
    }
#define LINK(n, k, doc)                                                                            \
    {                                                                                              \
        n, MQ_T_LINK, MQ_DOM_NONE, k, doc                                                          \
    }

static const mq_field_def auto_policy[MQ_AUTO_POLICY_NFIELDS] = {
    [MQ_AP_EFFECTIVE_DATE] = DATE("effective_date", "policy effective date"),
    [MQ_AP_STATE] = ENUM("state", MQ_DOM_STATE, "applicant's address state"),
    [MQ_AP_ZIP] = NUM("zip", "applicant's ZIP code as a number"),
    [MQ_AP_APPLICANT_DOB] = DATE("applicant.date_of_birth", "applicant's date of birth"),
    [MQ_AP_HOMEOWNER] = BOOL("applicant.homeowner", "applicant owns a home"),
    [MQ_AP_PAPERLESS] = BOOL("applicant.paperless", "applicant chose paperless documents"),
    [MQ_AP_BI_PER_PERSON] = NUM("bi.per_person", "bodily injury limit per person"),
    [MQ_AP_BI_PER_ACCIDENT] = NUM("bi.per_accident", "bodily injury limit per accident"),
    [MQ_AP_PD_LIMIT] = NUM("pd.limit", "property damage limit"),
    [MQ_AP_MED_LIMIT] = NUM("med.limit", "medical payments limit (missing: not chosen)"),
    [MQ_AP_UM_PER_PERSON] = NUM("um.per_person", "uninsured motorist limit per person"),
    [MQ_AP_UM_PER_ACCIDENT] = NUM("um.per_accident", "uninsured motorist limit per accident"),
};

static const mq_field_def auto_driver[MQ_AUTO_DRIVER_NFIELDS] = {
    [MQ_AD_DATE_OF_BIRTH] = DATE("date_of_birth", "driver's date of birth"),
    [MQ_AD_GENDER] = ENUM("gender", MQ_DOM_GENDER, "female, male, nonbinary, unspecified"),
    [MQ_AD_MARITAL] =
        ENUM("marital_status", MQ_DOM_MARITAL, "single, married, civil_union, divorced, widowed"),
    [MQ_AD_LICENSE_STATE] = ENUM("license.state", MQ_DOM_STATE, "licence state"),
    [MQ_AD_FIRST_LICENSED] = DATE("license.first_licensed", "date first licensed"),
    [MQ_AD_STUDENT_GPA] = NUM("student_gpa", "grade point average 0-4 (missing: not a student)"),
};

static const mq_field_def auto_vehicle[MQ_AUTO_VEHICLE_NFIELDS] = {
    [MQ_AV_YEAR] = NUM("year", "model year"),
    [MQ_AV_SYMBOL] = NUM("symbol", "rating symbol 1-27"),
    [MQ_AV_GARAGING_ZIP] = NUM("garaging_zip", "garaging ZIP (default: applicant's)"),
    [MQ_AV_ANNUAL_MILES] = NUM("annual_miles", "annual miles (missing when not given)"),
    [MQ_AV_USE] = ENUM("use", MQ_DOM_USE, "pleasure, commute, business"),
    [MQ_AV_ANTI_THEFT] = BOOL("anti_theft", "has an anti-theft device"),
    [MQ_AV_PRINCIPAL_DRIVER] = LINK("principal_driver", MQ_ENT_DRIVER, "principal driver"),
    [MQ_AV_COMP_DEDUCTIBLE] = NUM("comp.deductible", "comprehensive deductible (missing: none)"),
    [MQ_AV_COLL_DEDUCTIBLE] = NUM("coll.deductible", "collision deductible (missing: none)"),
};

static const mq_field_def auto_incident[MQ_AUTO_INCIDENT_NFIELDS] = {
    [MQ_AI_TYPE] = ENUM("type", MQ_DOM_INCIDENT, "incident type"),
    [MQ_AI_DATE] = DATE("date", "incident date"),
    [MQ_AI_MPH_OVER] = NUM("mph_over", "speeding: miles per hour over the limit"),
    [MQ_AI_AMOUNT] = NUM("amount", "amount paid (accidents, claims)"),
};

static const mq_coverage_def auto_coverages[MQ_AUTO_NCOVERAGES] = {
    [MQ_COV_BI] = {"bi",
                   "Bodily injury liability",
                   MQ_ENT_POLICY,
                   MQ_AP_BI_PER_PERSON,
                   {MQ_AP_BI_PER_PERSON, MQ_AP_BI_PER_ACCIDENT},
                   {"per_person", "per_accident"}},
    [MQ_COV_PD] = {"pd",
                   "Property damage liability",
                   MQ_ENT_POLICY,
                   MQ_AP_PD_LIMIT,
                   {MQ_AP_PD_LIMIT, -1},
                   {"limit", NULL}},
    [MQ_COV_MED] = {"med",
                    "Medical payments",
                    MQ_ENT_POLICY,
                    MQ_AP_MED_LIMIT,
                    {MQ_AP_MED_LIMIT, -1},
                    {"limit", NULL}},
    [MQ_COV_UM] = {"um",
                   "Uninsured motorist bodily injury",
                   MQ_ENT_POLICY,
                   MQ_AP_UM_PER_PERSON,
                   {MQ_AP_UM_PER_PERSON, MQ_AP_UM_PER_ACCIDENT},
                   {"per_person", "per_accident"}},
    [MQ_COV_COMP] = {"comp",
                     "Comprehensive",
                     MQ_ENT_VEHICLE,
                     MQ_AV_COMP_DEDUCTIBLE,
                     {MQ_AV_COMP_DEDUCTIBLE, -1},
                     {"deductible", NULL}},
    [MQ_COV_COLL] = {"coll",
                     "Collision",
                     MQ_ENT_VEHICLE,
                     MQ_AV_COLL_DEDUCTIBLE,
                     {MQ_AV_COLL_DEDUCTIBLE, -1},
                     {"deductible", NULL}},
};

static const mq_line_def lines[MQ_LINE_COUNT] = {
    [MQ_LINE_AUTO] =
        {
            .name = "auto",
            .unit = MQ_ENT_VEHICLE,
            .entity_names = {"policy", "driver", "vehicle", "incident"},
            .collection_names = {NULL, "drivers", "vehicles", "incidents"},
            .parent = {MQ_ENT_POLICY, MQ_ENT_POLICY, MQ_ENT_POLICY, MQ_ENT_DRIVER},
            .fields = {auto_policy, auto_driver, auto_vehicle, auto_incident},
            .nfields = {MQ_AUTO_POLICY_NFIELDS, MQ_AUTO_DRIVER_NFIELDS, MQ_AUTO_VEHICLE_NFIELDS,
                        MQ_AUTO_INCIDENT_NFIELDS},
            .coverages = auto_coverages,
            .ncoverages = MQ_AUTO_NCOVERAGES,
        },
};

const mq_line_def *mq_line_get(mq_line line)
{
    return (line >= 0 && line < MQ_LINE_COUNT) ? &lines[line] : NULL;
}

int mq_line_find(const char *name)
{
    for (int i = 0; i < MQ_LINE_COUNT; i++)
        if (strcmp(lines[i].name, name) == 0)
            return i;
    return -1;
}

int mq_field_find(const mq_line_def *l, mq_entity_kind k, const char *name)
{
    for (int i = 0; i < l->nfields[k]; i++)
        if (strcmp(l->fields[k][i].name, name) == 0)
            return i;
    return -1;
}

int mq_coverage_find(const mq_line_def *l, const char *code)
{
    for (int i = 0; i < l->ncoverages; i++)
        if (strcmp(l->coverages[i].code, code) == 0)
            return i;
    return -1;
}
