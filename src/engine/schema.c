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
static const char *const construction_names[] = {"frame", "masonry", "masonry_veneer",
                                                 "fire_resistive"};
static const char *const roof_names[] = {
    "asphalt_shingle", "architectural_shingle", "metal", "tile", "slate", "wood_shake", "flat"};
static const char *const claim_names[] = {"water", "wind",      "hail", "fire",
                                          "theft", "liability", "other"};
static const char *const mode_names[] = {"annual", "semiannual", "quarterly", "monthly"};
static const char *const class_names[] = {"preferred_plus",    "preferred",
                                          "standard_plus",     "standard",
                                          "tobacco_preferred", "tobacco_standard"};
static const char *const relationship_names[] = {"self", "spouse", "child"};
static const char *const metal_names[] = {"catastrophic", "bronze", "silver", "gold", "platinum"};
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
    [MQ_DOM_CONSTRUCTION] = DOMAIN(construction_names),
    [MQ_DOM_ROOF] = DOMAIN(roof_names),
    [MQ_DOM_CLAIM] = DOMAIN(claim_names),
    [MQ_DOM_PAYMENT_MODE] = DOMAIN(mode_names),
    [MQ_DOM_HEALTH_CLASS] = DOMAIN(class_names),
    [MQ_DOM_RELATIONSHIP] = DOMAIN(relationship_names),
    [MQ_DOM_METAL] = DOMAIN(metal_names),
};

int mq_symbol_find(mq_domain d, const char *name)
{
    if (d <= MQ_DOM_NONE || d >= MQ_DOM_COUNT)
        return -1;
    /* the first letters first: most names differ there (the 51 states),
     * and a request looks up several symbols */
    for (int i = 0; i < domains[d].count; i++)
        if (domains[d].names[i][0] == name[0] && strcmp(domains[d].names[i], name) == 0)
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
    [MQ_AP_BUNDLE] = BOOL("bundle", "1 when rated as part of an auto + home/renters bundle"),
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

/* ---- home and renters -------------------------------------------------- */

static const mq_field_def property_policy[MQ_HOME_POLICY_NFIELDS] = {
    [MQ_HP_EFFECTIVE_DATE] = DATE("effective_date", "policy effective date"),
    [MQ_HP_STATE] = ENUM("state", MQ_DOM_STATE, "applicant's address state"),
    [MQ_HP_ZIP] = NUM("zip", "ZIP of the insured location"),
    [MQ_HP_APPLICANT_DOB] = DATE("applicant.date_of_birth", "applicant's date of birth"),
    [MQ_HP_PAPERLESS] = BOOL("applicant.paperless", "applicant chose paperless documents"),
    [MQ_HP_YEAR_BUILT] = NUM("dwelling.year_built", "home: year built"),
    [MQ_HP_CONSTRUCTION] =
        ENUM("construction", MQ_DOM_CONSTRUCTION, "frame, masonry, masonry_veneer, fire_resistive"),
    [MQ_HP_SQUARE_FEET] = NUM("dwelling.square_feet", "home: living area"),
    [MQ_HP_STORIES] = NUM("dwelling.stories", "home: stories"),
    [MQ_HP_ROOF_YEAR] = NUM("dwelling.roof_year", "home: year the roof was installed"),
    [MQ_HP_ROOF_TYPE] = ENUM("dwelling.roof_type", MQ_DOM_ROOF, "home: roof covering"),
    [MQ_HP_PROTECTION_CLASS] = NUM("protection_class", "ISO public protection class 1-10"),
    [MQ_HP_REPLACEMENT_COST] = NUM("dwelling.replacement_cost", "home: replacement cost"),
    [MQ_HP_SMOKE_DETECTORS] = BOOL("smoke_detectors", "smoke detectors"),
    [MQ_HP_SPRINKLERS] = BOOL("sprinklers", "automatic sprinklers"),
    [MQ_HP_BURGLAR_ALARM] = BOOL("burglar_alarm", "burglar alarm"),
    [MQ_HP_FLOOR] = NUM("unit.floor", "renters: floor of the unit"),
    [MQ_HP_COV_A] = NUM("coverage.dwelling", "A: dwelling (home)"),
    [MQ_HP_COV_B] = NUM("coverage.other_structures", "B: other structures (default 10% of A)"),
    [MQ_HP_COV_C] = NUM("coverage.personal_property",
                        "C: personal property (home: default 50% of A; renters: required)"),
    [MQ_HP_COV_D] = NUM("coverage.loss_of_use", "D: loss of use (default 20% of A; renters: of C)"),
    [MQ_HP_COV_E] = NUM("coverage.liability", "E: personal liability"),
    [MQ_HP_COV_F] = NUM("coverage.med_pay", "F: medical payments to others"),
    [MQ_HP_DEDUCTIBLE] = NUM("coverage.deductible", "all-peril deductible"),
    [MQ_HP_BUNDLE] = BOOL("bundle", "1 when rated as part of an auto + home/renters bundle"),
};

static const mq_field_def claim_fields[MQ_CLAIM_NFIELDS] = {
    [MQ_HC_TYPE] = ENUM("type", MQ_DOM_CLAIM, "water, wind, hail, fire, theft, liability, other"),
    [MQ_HC_DATE] = DATE("date", "date of loss"),
    [MQ_HC_AMOUNT] = NUM("amount", "amount paid"),
};

static const mq_coverage_def home_coverages[MQ_HOME_NCOVERAGES] = {
    [MQ_COV_PROPERTY] = {"property",
                         "Property (dwelling, other structures, contents, loss of use)",
                         MQ_ENT_POLICY,
                         MQ_HP_COV_A,
                         {MQ_HP_COV_A, MQ_HP_DEDUCTIBLE},
                         {"dwelling", "deductible"}},
    [MQ_COV_LIABILITY] = {"liability",
                          "Personal liability",
                          MQ_ENT_POLICY,
                          MQ_HP_COV_E,
                          {MQ_HP_COV_E, -1},
                          {"limit", NULL}},
    [MQ_COV_MED_PAY] = {"med_pay",
                        "Medical payments to others",
                        MQ_ENT_POLICY,
                        MQ_HP_COV_F,
                        {MQ_HP_COV_F, -1},
                        {"limit", NULL}},
};

static const mq_coverage_def renters_coverages[MQ_HOME_NCOVERAGES] = {
    [MQ_COV_PROPERTY] = {"property",
                         "Personal property and loss of use",
                         MQ_ENT_POLICY,
                         MQ_HP_COV_C,
                         {MQ_HP_COV_C, MQ_HP_DEDUCTIBLE},
                         {"personal_property", "deductible"}},
    [MQ_COV_LIABILITY] = {"liability",
                          "Personal liability",
                          MQ_ENT_POLICY,
                          MQ_HP_COV_E,
                          {MQ_HP_COV_E, -1},
                          {"limit", NULL}},
    [MQ_COV_MED_PAY] = {"med_pay",
                        "Medical payments to others",
                        MQ_ENT_POLICY,
                        MQ_HP_COV_F,
                        {MQ_HP_COV_F, -1},
                        {"limit", NULL}},
};

/* ---- term life ----------------------------------------------------------- */

static const mq_field_def life_policy[MQ_LIFE_POLICY_NFIELDS] = {
    [MQ_LP_EFFECTIVE_DATE] = DATE("effective_date", "policy effective date"),
    [MQ_LP_STATE] = ENUM("state", MQ_DOM_STATE, "applicant's address state"),
    [MQ_LP_ZIP] = NUM("zip", "applicant's ZIP"),
    [MQ_LP_DATE_OF_BIRTH] = DATE("applicant.date_of_birth", "applicant's date of birth"),
    [MQ_LP_GENDER] = ENUM("applicant.gender", MQ_DOM_GENDER, "female, male, ..."),
    [MQ_LP_FACE_AMOUNT] = NUM("face_amount", "death benefit"),
    [MQ_LP_TERM_YEARS] = NUM("term_years", "10, 15, 20, 25 or 30"),
    [MQ_LP_PAYMENT_MODE] =
        ENUM("payment_mode", MQ_DOM_PAYMENT_MODE, "annual, semiannual, quarterly, monthly"),
    [MQ_LP_TOBACCO] = BOOL("tobacco", "uses tobacco or nicotine"),
    [MQ_LP_HEIGHT_IN] = NUM("build.height_in", "height in inches"),
    [MQ_LP_WEIGHT_LB] = NUM("build.weight_lb", "weight in pounds"),
    [MQ_LP_BP_TREATED] = BOOL("health.blood_pressure_treated", "treated for blood pressure"),
    [MQ_LP_CHOLESTEROL_TREATED] = BOOL("health.cholesterol_treated", "treated for cholesterol"),
    [MQ_LP_DIABETES] = BOOL("health.diabetes", "diabetes"),
    [MQ_LP_FAMILY_HEART] = BOOL("health.family_heart_disease_before_60",
                                "a parent or sibling had heart disease before 60"),
    [MQ_LP_HEALTH_CLASS] = ENUM("health_class", MQ_DOM_HEALTH_CLASS,
                                "self-declared class (missing: let the carrier classify)"),
};

static const mq_coverage_def life_coverages[MQ_LIFE_NCOVERAGES] = {
    [MQ_COV_LIFE] = {"life",
                     "Term life",
                     MQ_ENT_POLICY,
                     MQ_LP_FACE_AMOUNT,
                     {MQ_LP_FACE_AMOUNT, MQ_LP_TERM_YEARS},
                     {"face_amount", "term_years"}},
};

/* ---- health --------------------------------------------------------------- */

static const mq_field_def health_policy[MQ_HEALTH_POLICY_NFIELDS] = {
    [MQ_XP_EFFECTIVE_DATE] = DATE("effective_date", "coverage start date"),
    [MQ_XP_STATE] = ENUM("state", MQ_DOM_STATE, "applicant's address state"),
    [MQ_XP_ZIP] = NUM("zip", "applicant's ZIP"),
    [MQ_XP_COUNTY] = NUM("county_fips", "county FIPS code (5 digits) of the address"),
    [MQ_XP_HOUSEHOLD_SIZE] = NUM("household.size", "tax household size"),
    [MQ_XP_INCOME] = NUM("household.income", "expected household income for the year"),
};

static const mq_field_def member_fields[MQ_MEMBER_NFIELDS] = {
    [MQ_XM_RELATIONSHIP] = ENUM("relationship", MQ_DOM_RELATIONSHIP, "self, spouse, child"),
    [MQ_XM_DATE_OF_BIRTH] = DATE("date_of_birth", "member's date of birth"),
    [MQ_XM_TOBACCO] = BOOL("tobacco", "member uses tobacco"),
};

static const mq_coverage_def health_coverages[MQ_HEALTH_NCOVERAGES] = {
    [MQ_COV_PREMIUM] = {"premium", "Member premium", MQ_ENT_MEMBER, -1, {-1, -1}, {NULL, NULL}},
};

#define PROPERTY_LINE(NAME, COVS)                                                                  \
    {                                                                                              \
        .name = NAME, .words = NAME, .unit = MQ_ENT_POLICY,                                        \
        .entity_names = {[MQ_ENT_POLICY] = "policy", [MQ_ENT_CLAIM] = "claim"},                    \
        .collection_names = {[MQ_ENT_CLAIM] = "claims"},                                           \
        .fields = {[MQ_ENT_POLICY] = property_policy, [MQ_ENT_CLAIM] = claim_fields},              \
        .nfields = {[MQ_ENT_POLICY] = MQ_HOME_POLICY_NFIELDS, [MQ_ENT_CLAIM] = MQ_CLAIM_NFIELDS},  \
        .coverages = COVS, .ncoverages = MQ_HOME_NCOVERAGES,                                       \
    }

static const mq_line_def lines[MQ_LINE_COUNT] = {
    [MQ_LINE_AUTO] =
        {
            .name = "auto",
            .words = "auto",
            .unit = MQ_ENT_VEHICLE,
            .entity_names = {"policy", "driver", "vehicle", "incident"},
            .collection_names = {NULL, "drivers", "vehicles", "incidents"},
            .parent = {[MQ_ENT_INCIDENT] = MQ_ENT_DRIVER},
            .fields = {auto_policy, auto_driver, auto_vehicle, auto_incident},
            .nfields = {MQ_AUTO_POLICY_NFIELDS, MQ_AUTO_DRIVER_NFIELDS, MQ_AUTO_VEHICLE_NFIELDS,
                        MQ_AUTO_INCIDENT_NFIELDS},
            .link_plus1 = {[MQ_ENT_VEHICLE] = 1 + MQ_AV_PRINCIPAL_DRIVER},
            .coverages = auto_coverages,
            .ncoverages = MQ_AUTO_NCOVERAGES,
        },
    [MQ_LINE_HOME] = PROPERTY_LINE("home", home_coverages),
    [MQ_LINE_RENTERS] = PROPERTY_LINE("renters", renters_coverages),
    [MQ_LINE_TERM_LIFE] =
        {
            .name = "term_life",
            .words = "term life",
            .unit = MQ_ENT_POLICY,
            .entity_names = {[MQ_ENT_POLICY] = "policy"},
            .fields = {[MQ_ENT_POLICY] = life_policy},
            .nfields = {[MQ_ENT_POLICY] = MQ_LIFE_POLICY_NFIELDS},
            .coverages = life_coverages,
            .ncoverages = MQ_LIFE_NCOVERAGES,
        },
    [MQ_LINE_HEALTH] =
        {
            .name = "health",
            .words = "health",
            .unit = MQ_ENT_MEMBER,
            .entity_names = {[MQ_ENT_POLICY] = "policy", [MQ_ENT_MEMBER] = "member"},
            .collection_names = {[MQ_ENT_MEMBER] = "members"},
            .fields = {[MQ_ENT_POLICY] = health_policy, [MQ_ENT_MEMBER] = member_fields},
            .nfields =
                {[MQ_ENT_POLICY] = MQ_HEALTH_POLICY_NFIELDS, [MQ_ENT_MEMBER] = MQ_MEMBER_NFIELDS},
            .coverages = health_coverages,
            .ncoverages = MQ_HEALTH_NCOVERAGES,
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
    if (!l->fields[k])
        return -1;
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
