/* harbor_direct.c -- Harbor Mutual's Ohio auto premium, computed directly.
 *
 * The yardstick for bench_rating: the rate manual (../shared/reference/
 * harbor-mutual-oh-auto.md) typed in as C, the way one would without a rating
 * engine. Tables are static arrays or switches, dates use mq_date_age and
 * mq_date_add_months, and the order of work mirrors the plan's so the floating
 * point products are bit for bit the engine's: state, territory (unavailable
 * outside 43001-45999), eligibility (12+ points in 36 months, 2+ DUIs in 60),
 * then for each vehicle and chosen coverage base x territory x driver class x
 * points x symbol x vehicle age x limit/deductible x (1 - capped discounts),
 * rounded half up to the dollar; summed, raised to the minimum, plus the fee.
 */
#include "harbor_direct.h"

#include <math.h>

/* Schema codes (schema.c storage order), checked by harbor_direct_codes_ok. */
enum { STATE_OH = 35 };
enum { MARITAL_MARRIED = 1, MARITAL_CIVIL_UNION = 2 };
enum { INC_AT_FAULT, INC_NOT_AT_FAULT, INC_DUI, INC_SPEEDING, INC_MOVING, INC_COMP_CLAIM };

/* Section 1: base rates, indexed by MQ_COV_*. */
static const double base_rate[MQ_AUTO_NCOVERAGES] = {142.00, 118.00, 14.00, 31.00, 62.00, 198.00};

/* Section 2: territory factors, [territory - 1][MQ_COV_*]. */
static const double territory_factor[5][MQ_AUTO_NCOVERAGES] = {
    {1.25, 1.20, 1.30, 1.35, 1.10, 1.22}, {1.00, 1.00, 1.00, 1.00, 1.00, 1.00},
    {1.38, 1.31, 1.45, 1.52, 1.27, 1.30}, {1.18, 1.12, 1.20, 1.26, 1.05, 1.15},
    {0.92, 0.94, 0.90, 0.88, 0.96, 0.93},
};

/* Section 3: driver class, [age band][married][0 liability, 1 physical damage]. */
static const double class_factor[8][2][2] = {
    {{2.60, 2.10}, {2.45, 2.00}}, /* 16-17 */
    {{2.15, 1.80}, {1.95, 1.65}}, /* 18-20 */
    {{1.55, 1.40}, {1.40, 1.30}}, /* 21-24 */
    {{1.18, 1.12}, {1.08, 1.05}}, /* 25-29 */
    {{1.00, 1.00}, {0.95, 0.97}}, /* 30-49 */
    {{0.92, 0.95}, {0.90, 0.93}}, /* 50-64 */
    {{0.98, 1.00}, {0.96, 0.99}}, /* 65-74 */
    {{1.12, 1.08}, {1.10, 1.06}}, /* 75+ */
};

/* Section 4: points factor for 0..9+ points. */
static const double points_factor[10] = {1.00, 1.12, 1.25, 1.40, 1.55,
                                         1.70, 2.00, 2.00, 2.00, 2.40};

/* Section 5: symbol 1..10 and vehicle age 0..13+. */
static const double symbol_factor[10] = {0.70, 0.78, 0.85, 0.92, 1.00,
                                         1.08, 1.17, 1.28, 1.40, 1.55};
static const double vehicle_age_factor[14] = {1.12, 1.08, 1.04, 1.00, 0.95, 0.95, 0.88,
                                              0.88, 0.88, 0.80, 0.80, 0.80, 0.80, 0.72};

/* Section 6: split limits (per person / per accident) and their factors. */
static const double split_limits[5][2] = {
    {25000, 50000}, {50000, 100000}, {100000, 300000}, {250000, 500000}, {500000, 1000000}};
static const double bi_factor[5] = {1.00, 1.22, 1.45, 1.71, 1.96};
static const double um_factor[5] = {1.00, 1.18, 1.36, 1.55, 1.72};

/* Section 7: discounts. */
#define DISCOUNT_CAP 0.30
#define MULTI_CAR    0.12
#define GOOD_STUDENT 0.08
#define HOMEOWNER    0.05
#define PAPERLESS    0.03
#define ANTI_THEFT   0.10

/* Section 8. */
#define MINIMUM_CENTS 22500
#define FEE_CENTS     1800

bool harbor_direct_codes_ok(void)
{
    return mq_symbol_find(MQ_DOM_STATE, "OH") == STATE_OH &&
           mq_symbol_find(MQ_DOM_MARITAL, "married") == MARITAL_MARRIED &&
           mq_symbol_find(MQ_DOM_MARITAL, "civil_union") == MARITAL_CIVIL_UNION &&
           mq_symbol_find(MQ_DOM_INCIDENT, "at_fault_accident") == INC_AT_FAULT &&
           mq_symbol_find(MQ_DOM_INCIDENT, "not_at_fault_accident") == INC_NOT_AT_FAULT &&
           mq_symbol_find(MQ_DOM_INCIDENT, "dui") == INC_DUI &&
           mq_symbol_find(MQ_DOM_INCIDENT, "speeding") == INC_SPEEDING &&
           mq_symbol_find(MQ_DOM_INCIDENT, "moving_violation") == INC_MOVING &&
           mq_symbol_find(MQ_DOM_INCIDENT, "comp_claim") == INC_COMP_CLAIM;
}

/* Section 2: territory 1-5 of a garaging ZIP, 0 when Harbor does not write it. */
static int territory_of(double zip)
{
    if (zip == 43215)
        return 1;
    if (zip == 43004)
        return 2;
    if (zip == 44101)
        return 3;
    if (zip == 45202)
        return 4;
    return zip >= 43001 && zip <= 45999 ? 5 : 0;
}

/* Section 3: age band 0-7, -1 under 16 (no rate). */
static int age_band(int age)
{
    if (age < 16)
        return -1;
    if (age <= 17)
        return 0;
    if (age <= 20)
        return 1;
    if (age <= 24)
        return 2;
    if (age <= 29)
        return 3;
    if (age <= 49)
        return 4;
    if (age <= 64)
        return 5;
    return age <= 74 ? 6 : 7;
}

/* Section 4: points of one incident. */
static int incident_points(int type, double mph_over)
{
    switch (type) {
    case INC_AT_FAULT:
        return 3;
    case INC_DUI:
        return 6;
    case INC_SPEEDING:
        return isnan(mph_over) || mph_over <= 15 ? 1 : 2;
    case INC_MOVING:
        return 1;
    default: /* not at fault, comp claim */
        return 0;
    }
}

/* Incidents of driver d: points dated in (w36, eff] and DUIs in (w60, eff]. */
static void driver_record(const mq_input *in, int d, int32_t eff, int32_t w36, int32_t w60,
                          int *points, int *duis)
{
    const double *inc = in->values[MQ_ENT_INCIDENT];
    *points = 0;
    *duis = 0;
    for (int32_t i = in->start[MQ_ENT_INCIDENT][d]; i < in->start[MQ_ENT_INCIDENT][d + 1]; i++) {
        const double *row = inc + (size_t)i * MQ_AUTO_INCIDENT_NFIELDS;
        double day = row[MQ_AI_DATE];
        int type = (int)row[MQ_AI_TYPE];
        if (day > w36 && day <= eff)
            *points += incident_points(type, row[MQ_AI_MPH_OVER]);
        if (type == INC_DUI && day > w60 && day <= eff)
            (*duis)++;
    }
}

static int split_index(double per_person, double per_accident)
{
    for (int i = 0; i < 5; i++)
        if (split_limits[i][0] == per_person && split_limits[i][1] == per_accident)
            return i;
    return -1;
}

/* Section 6: factor of a limit or deductible, NaN when not offered. */
static double pd_factor(double limit)
{
    return limit == 25000    ? 1.00
           : limit == 50000  ? 1.06
           : limit == 100000 ? 1.12
           : limit == 250000 ? 1.19
                             : NAN;
}

static double med_factor(double limit)
{
    return limit == 1000    ? 1.00
           : limit == 2000  ? 1.25
           : limit == 5000  ? 1.60
           : limit == 10000 ? 1.95
                            : NAN;
}

static double deductible_factor(double ded, bool coll)
{
    return ded == 100    ? (coll ? NAN : 1.30)
           : ded == 250  ? (coll ? 1.18 : 1.15)
           : ded == 500  ? 1.00
           : ded == 1000 ? (coll ? 0.80 : 0.82)
           : ded == 2000 ? (coll ? 0.64 : 0.68)
                         : NAN;
}

static int fail(int status, int64_t *total_cents, int *ncov)
{
    *total_cents = 0;
    *ncov = 0;
    return status;
}

int harbor_direct(const mq_input *in, int64_t *total_cents, int64_t cov_cents[], int *ncov)
{
    *ncov = 0;
    if (in->state != STATE_OH)
        return fail(MQ_UNAVAILABLE, total_cents, ncov);
    const double *pol = in->values[MQ_ENT_POLICY];
    const int32_t eff = in->effective_date;
    const int nveh = in->count[MQ_ENT_VEHICLE], ndrv = in->count[MQ_ENT_DRIVER];
    const double *veh = in->values[MQ_ENT_VEHICLE], *drv = in->values[MQ_ENT_DRIVER];

    /* Territory first: the engine derives it before the eligibility rules. */
    for (int v = 0; v < nveh; v++)
        if (!territory_of(veh[(size_t)v * MQ_AUTO_VEHICLE_NFIELDS + MQ_AV_GARAGING_ZIP]))
            return fail(MQ_UNAVAILABLE, total_cents, ncov);

    /* Section 9: eligibility, every listed driver; the points rule first. */
    const int32_t w36 = mq_date_add_months(eff, -36), w60 = mq_date_add_months(eff, -60);
    bool too_many_points = false, two_duis = false;
    for (int d = 0; d < ndrv; d++) {
        int points, duis;
        driver_record(in, d, eff, w36, w60, &points, &duis);
        too_many_points |= points >= 12;
        two_duis |= duis >= 2;
    }
    if (too_many_points || two_duis)
        return fail(MQ_DECLINED, total_cents, ncov);

    int eff_year, eff_month, eff_day;
    mq_date_to_ymd(eff, &eff_year, &eff_month, &eff_day);
    const bool chosen[4] = {!isnan(pol[MQ_AP_BI_PER_PERSON]), !isnan(pol[MQ_AP_PD_LIMIT]),
                            !isnan(pol[MQ_AP_MED_LIMIT]), !isnan(pol[MQ_AP_UM_PER_PERSON])};
    const int bi_limits = split_index(pol[MQ_AP_BI_PER_PERSON], pol[MQ_AP_BI_PER_ACCIDENT]);
    const int um_limits = split_index(pol[MQ_AP_UM_PER_PERSON], pol[MQ_AP_UM_PER_ACCIDENT]);
    const double policy_limit[4] = {
        bi_limits >= 0 ? bi_factor[bi_limits] : NAN, pd_factor(pol[MQ_AP_PD_LIMIT]),
        med_factor(pol[MQ_AP_MED_LIMIT]), um_limits >= 0 ? um_factor[um_limits] : NAN};
    const bool homeowner = pol[MQ_AP_HOMEOWNER] == 1, paperless = pol[MQ_AP_PAPERLESS] == 1;

    int64_t sum = 0;
    int n = 0;
    for (int v = 0; v < nveh; v++) {
        const double *vr = veh + (size_t)v * MQ_AUTO_VEHICLE_NFIELDS;
        const double *t = territory_factor[territory_of(vr[MQ_AV_GARAGING_ZIP]) - 1];
        const double pd = vr[MQ_AV_PRINCIPAL_DRIVER];
        const int d = isnan(pd) ? 0 : (int)pd;
        const double *dr = drv + (size_t)d * MQ_AUTO_DRIVER_NFIELDS;
        const int age = mq_date_age((int32_t)dr[MQ_AD_DATE_OF_BIRTH], eff);
        const int band = age_band(age);
        const int marital = (int)dr[MQ_AD_MARITAL];
        const int married = marital == MARITAL_MARRIED || marital == MARITAL_CIVIL_UNION;
        int points, duis;
        driver_record(in, d, eff, w36, w60, &points, &duis);
        const double record = points_factor[points < 9 ? points : 9];
        const int vage = eff_year - (int)vr[MQ_AV_YEAR] > 0 ? eff_year - (int)vr[MQ_AV_YEAR] : 0;
        const int symbol = (int)vr[MQ_AV_SYMBOL];

        /* Section 7: discounts, summed in the manual's order. */
        double discounts = 0;
        if (nveh >= 2)
            discounts += MULTI_CAR;
        if (age < 25 && dr[MQ_AD_STUDENT_GPA] >= 3.0)
            discounts += GOOD_STUDENT;
        if (homeowner)
            discounts += HOMEOWNER;
        if (paperless)
            discounts += PAPERLESS;
        const double discount = 1 - (discounts < DISCOUNT_CAP ? discounts : DISCOUNT_CAP);
        const bool anti_theft = vr[MQ_AV_ANTI_THEFT] == 1;
        const double comp_sum = anti_theft ? discounts + ANTI_THEFT : discounts;
        const double comp_discount = 1 - (comp_sum < DISCOUNT_CAP ? comp_sum : DISCOUNT_CAP);

        /* Liability coverages: bi, pd, med, um. */
        for (int c = MQ_COV_BI; c <= MQ_COV_UM; c++) {
            if (!chosen[c])
                continue;
            if (band < 0)
                return fail(MQ_ERROR, total_cents, ncov);
            if (isnan(policy_limit[c]))
                return fail(MQ_UNAVAILABLE, total_cents, ncov);
            double x = base_rate[c] * t[c] * class_factor[band][married][0] * record *
                       policy_limit[c] * discount;
            cov_cents[n] = (int64_t)floor(x + 0.5 + 1e-9) * 100;
            sum += cov_cents[n++];
        }

        /* Physical damage: comp, coll (coll alone takes the points factor). */
        if (vage > 20)
            continue; /* not offered on vehicles older than 20 years: left off */
        for (int c = MQ_COV_COMP; c <= MQ_COV_COLL; c++) {
            const bool coll = c == MQ_COV_COLL;
            double ded = vr[coll ? MQ_AV_COLL_DEDUCTIBLE : MQ_AV_COMP_DEDUCTIBLE];
            if (isnan(ded))
                continue;
            if (band < 0 || symbol < 1 || symbol > 10)
                return fail(MQ_ERROR, total_cents, ncov);
            double f = deductible_factor(ded, coll);
            if (isnan(f))
                return fail(MQ_UNAVAILABLE, total_cents, ncov);
            double x = base_rate[c] * t[c] * class_factor[band][married][1];
            if (coll)
                x *= record;
            x = x * symbol_factor[symbol - 1] * vehicle_age_factor[vage < 13 ? vage : 13] * f *
                (coll ? discount : comp_discount);
            cov_cents[n] = (int64_t)floor(x + 0.5 + 1e-9) * 100;
            sum += cov_cents[n++];
        }
    }
    *ncov = n;
    *total_cents = (sum < MINIMUM_CENTS ? MINIMUM_CENTS : sum) + FEE_CENTS;
    return MQ_QUOTED;
}
