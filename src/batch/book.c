/* book.c -- `multiquote gen-book`: a realistic synthetic book of auto policies, the same for a
 * seed.
 *
 * Each policy is drawn from its own random stream (splitmix64 seeded with
 * the seed and the policy's number), so policy i is the same whatever n is
 * and whichever format is written. The distributions are plausible rather
 * than fitted: state by population, ZIP by the population of each 3-digit
 * ZIP area, the principal driver's age by the age profile of licensed
 * drivers, a spouse, teenage drivers in middle-aged households, vehicle ages
 * and rating symbols skewed as in a registered fleet, incidents at a rate
 * that falls with age, limits chosen around each state's minimums, and
 * physical damage bought mostly on newer cars. A policy is generated into a
 * struct, then written as a contract request (NDJSON, its number in
 * extra.policy_id) or as one CSV row in the layout of csvbook.c.
 */
#include "batch.h"

#include <math.h>
#include <string.h>

enum { MAX_D = 4, MAX_V = 4, MAX_I = 4 };

/* ---- Random numbers ------------------------------------------------------ */

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t next(rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double u01(rng *r)
{
    return (double)(next(r) >> 11) * (1.0 / 9007199254740992.0);
}

static int range(rng *r, int lo, int hi) /* inclusive */
{
    return lo + (int)(u01(r) * (hi - lo + 1));
}

static bool chance(rng *r, double p)
{
    return u01(r) < p;
}

static int pick(rng *r, const double *w, int n)
{
    double total = 0;
    for (int i = 0; i < n; i++)
        total += w[i];
    double x = u01(r) * total;
    for (int i = 0; i < n; i++) {
        if (x < w[i])
            return i;
        x -= w[i];
    }
    return n - 1;
}

static double normal(rng *r, double mean, double sd)
{
    double u = u01(r), v = u01(r);
    return mean + sd * sqrt(-2 * log(u > 1e-300 ? u : 1e-300)) * cos(2 * M_PI * v);
}

static int poisson(rng *r, double lambda)
{
    double l = exp(-lambda), p = 1;
    int k = 0;
    do {
        k++;
        p *= u01(r);
    } while (p > l && k < 20);
    return k - 1;
}

/* ---- Geography ------------------------------------------------------------ */

typedef struct zip_area {
    int zip3;
    double weight; /* thousands of people, roughly */
    int last_hi;   /* the last two digits run from 01 to this */
} zip_area;

static const zip_area oh_zips[] = {
    {430, 450, 99}, {431, 250, 99}, {432, 1000, 40}, {433, 180, 99}, {434, 150, 99}, {435, 150, 99},
    {436, 450, 25}, {437, 120, 99}, {438, 100, 99},  {439, 100, 99}, {440, 900, 99}, {441, 900, 49},
    {442, 250, 99}, {443, 450, 33}, {444, 250, 99},  {445, 250, 15}, {446, 300, 99}, {447, 250, 99},
    {448, 150, 99}, {449, 100, 99}, {450, 500, 99},  {451, 150, 99}, {452, 800, 55}, {453, 250, 99},
    {454, 550, 59}, {455, 130, 99}, {456, 120, 99},  {457, 100, 99}, {458, 150, 99}};
static const zip_area pa_zips[] = {
    {150, 500, 99}, {151, 300, 99}, {152, 600, 40}, {153, 150, 99},  {154, 120, 99}, {156, 250, 99},
    {157, 120, 99}, {159, 130, 99}, {160, 200, 99}, {161, 120, 99},  {163, 80, 99},  {165, 280, 20},
    {166, 120, 99}, {168, 150, 99}, {170, 250, 99}, {171, 250, 12},  {172, 150, 99}, {173, 300, 99},
    {174, 150, 99}, {175, 350, 99}, {176, 100, 99}, {177, 100, 99},  {178, 80, 99},  {179, 100, 99},
    {180, 450, 99}, {181, 250, 10}, {182, 100, 99}, {183, 150, 99},  {184, 200, 99}, {185, 150, 10},
    {186, 250, 99}, {189, 500, 99}, {190, 900, 99}, {191, 1500, 54}, {193, 550, 99}, {194, 550, 99},
    {195, 350, 99}};
static const zip_area tx_zips[] = {
    {750, 1400, 99}, {751, 500, 99}, {752, 1300, 99}, {754, 150, 99},  {755, 150, 99},
    {756, 200, 99},  {757, 250, 99}, {758, 100, 99},  {759, 150, 99},  {760, 900, 99},
    {761, 900, 99},  {762, 300, 99}, {763, 150, 99},  {765, 300, 99},  {766, 150, 99},
    {767, 150, 99},  {768, 100, 99}, {769, 150, 99},  {770, 1200, 99}, {772, 800, 99},
    {773, 600, 99},  {774, 600, 99}, {775, 500, 99},  {776, 200, 99},  {777, 200, 99},
    {778, 300, 99},  {779, 150, 99}, {780, 300, 99},  {781, 200, 99},  {782, 1200, 99},
    {783, 200, 99},  {784, 250, 99}, {785, 900, 99},  {786, 500, 99},  {787, 900, 99},
    {788, 100, 99},  {789, 100, 99}, {790, 150, 99},  {791, 150, 99},  {793, 150, 99},
    {794, 150, 99},  {795, 80, 99},  {796, 70, 99},   {797, 300, 99},  {798, 100, 99},
    {799, 700, 99}};

typedef struct state_def {
    const char *code;
    double people; /* millions */
    const zip_area *zips;
    int nzips;
    /* bi/um menu (per person, per accident, weight) and pd limits by bi tier */
    int bi[6][2];
    double bi_w[6];
    int nbi;
    int pd_min;
    int med[4];  /* medical payments limits sold in the state */
    int med_min; /* what a policy without a chosen one carries: PA requires 5,000 of
                    first-party medical benefits (75 Pa.C.S. 1711); 0 none */
} state_def;

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const state_def states[] = {
    {"OH",
     11.8,
     oh_zips,
     N(oh_zips),
     {{25000, 50000}, {50000, 100000}, {100000, 300000}, {250000, 500000}, {500000, 1000000}},
     {12, 26, 42, 16, 4},
     5,
     25000,
     {1000, 2000, 5000, 10000},
     0},
    {"PA",
     13.0,
     pa_zips,
     N(pa_zips),
     {{15000, 30000},
      {25000, 50000},
      {50000, 100000},
      {100000, 300000},
      {250000, 500000},
      {500000, 1000000}},
     {10, 10, 22, 40, 15, 3},
     6,
     5000,
     {5000, 10000, 25000, 5000},
     5000},
    {"TX",
     30.0,
     tx_zips,
     N(tx_zips),
     {{30000, 60000}, {50000, 100000}, {100000, 300000}, {250000, 500000}, {500000, 1000000}},
     {15, 25, 42, 15, 3},
     5,
     25000,
     {1000, 2500, 5000, 10000},
     0},
};

static const state_def *find_state(int code)
{
    for (int i = 0; i < N(states); i++)
        if (mq_symbol_find(MQ_DOM_STATE, states[i].code) == code)
            return &states[i];
    return NULL;
}

bool mq_batch_gen_supports(int state)
{
    return find_state(state) != NULL;
}

static int draw_zip(rng *r, const state_def *s)
{
    double w[64];
    for (int i = 0; i < s->nzips; i++)
        w[i] = s->zips[i].weight;
    const zip_area *z = &s->zips[pick(r, w, s->nzips)];
    return z->zip3 * 100 + range(r, 1, z->last_hi);
}

/* ---- The policy ------------------------------------------------------------- */

typedef struct incident {
    int type; /* MQ_DOM_INCIDENT */
    int32_t date;
    int value; /* mph over (speeding) or amount in dollars; 0 = none */
} incident;

typedef struct driver {
    int32_t dob, first_licensed;
    int age, gender, marital, license_state;
    int gpa10; /* GPA x 10, -1 when not a student */
    int nincidents;
    incident inc[MAX_I];
} driver;

typedef struct vehicle {
    int year, symbol, principal, zip; /* zip 0: the applicant's */
    int miles, use;
    bool anti_theft;
    int comp, coll; /* deductibles, 0: not chosen */
} vehicle;

typedef struct policy {
    long number;
    int32_t eff;
    const state_def *st;
    int zip;
    bool homeowner, paperless;
    int bi[2], pd, med, um[2]; /* 0: not chosen */
    int nd, nv;
    driver d[MAX_D];
    vehicle v[MAX_V];
} policy;

static int32_t birth_for_age(rng *r, int32_t eff, int age)
{
    /* a birthday between age and age + 1 years before the effective date */
    int32_t latest = mq_date_add_months(eff, -12 * age);
    return latest - range(r, 0, 364);
}

static void draw_incidents(rng *r, driver *d, int32_t eff)
{
    double lambda = d->age < 25 ? 0.6 : d->age < 35 ? 0.4 : d->age < 65 ? 0.3 : 0.25;
    static const double type_w[] = {20, 14, 3, 34, 16, 13}; /* schema order of MQ_DOM_INCIDENT */
    int n = poisson(r, lambda);
    int32_t from = mq_date_add_months(eff, -60) + 1;
    if (from < d->first_licensed)
        from = d->first_licensed;
    if (from >= eff)
        return;
    d->nincidents = n > MAX_I ? MAX_I : n;
    for (int i = 0; i < d->nincidents; i++) {
        incident *in = &d->inc[i];
        in->type = pick(r, type_w, N(type_w));
        in->date = from + (int32_t)(u01(r) * (eff - from));
        const char *t = mq_symbol_name(MQ_DOM_INCIDENT, in->type);
        if (strcmp(t, "speeding") == 0) {
            static const double w[] = {35, 35, 18, 12};
            static const int lo[] = {5, 11, 16, 21}, hi[] = {10, 15, 20, 30};
            int b = pick(r, w, 4);
            in->value = range(r, lo[b], hi[b]);
        } else if (strcmp(t, "at_fault_accident") == 0) {
            in->value = range(r, 150, 1800) * 10;
        } else if (strcmp(t, "not_at_fault_accident") == 0) {
            in->value = range(r, 100, 1200) * 10;
        } else if (strcmp(t, "comp_claim") == 0) {
            in->value = range(r, 30, 600) * 10;
        }
    }
}

static void draw_driver(rng *r, driver *d, int32_t eff, int age, int marital, const policy *p)
{
    d->age = age;
    d->dob = birth_for_age(r, eff, age);
    static const double gender_w[] = {49, 49, 1, 1};
    d->gender = pick(r, gender_w, 4);
    d->marital = marital;
    d->license_state = mq_symbol_find(MQ_DOM_STATE, p->st->code);
    if (chance(r, 0.04)) {
        static const char *const others[] = {"MI", "IN", "KY", "NY", "NJ", "FL", "CA", "IL"};
        d->license_state = mq_symbol_find(MQ_DOM_STATE, others[range(r, 0, 7)]);
    }
    static const double lic_w[] = {55, 20, 12, 13};
    int at = 16 + pick(r, lic_w, 4);
    if (at == 19)
        at += range(r, 0, 6);
    if (at > age)
        at = age;
    d->first_licensed = mq_date_add_months(d->dob, 12 * at) + range(r, 0, 200);
    if (d->first_licensed >= eff)
        d->first_licensed = eff - range(r, 10, 60);
    if (d->first_licensed < d->dob)
        d->first_licensed = d->dob;
    d->gpa10 = -1;
    if ((age < 20 && chance(r, 0.7)) || (age >= 20 && age < 25 && chance(r, 0.35)))
        d->gpa10 = range(r, 20, 40);
    draw_incidents(r, d, eff);
}

static int marital_for(rng *r, int age)
{
    int married = mq_symbol_find(MQ_DOM_MARITAL, "married");
    int civil = mq_symbol_find(MQ_DOM_MARITAL, "civil_union");
    int single = mq_symbol_find(MQ_DOM_MARITAL, "single");
    int divorced = mq_symbol_find(MQ_DOM_MARITAL, "divorced");
    int widowed = mq_symbol_find(MQ_DOM_MARITAL, "widowed");
    double pm = age < 25 ? 0.10 : age < 35 ? 0.45 : age < 65 ? 0.62 : 0.58;
    double pw = age < 55 ? 0.01 : age < 75 ? 0.12 : 0.30;
    double pd = age < 30 ? 0.02 : 0.13;
    double x = u01(r);
    if (x < pm)
        return chance(r, 0.03) ? civil : married;
    if (x < pm + pw)
        return widowed;
    if (x < pm + pw + pd)
        return divorced;
    return single;
}

static void draw_vehicle(rng *r, vehicle *v, const policy *p, int principal, int eff_year)
{
    static const double age_w[] = {6,   7, 7,   7, 7,   6.5, 6, 6,   5.5, 5,   5,   4.5, 4,
                                   3.5, 3, 2.5, 2, 1.5, 1.2, 1, 0.8, 0.5, 0.5, 0.5, 0.5, 0.5};
    int age = pick(r, age_w, N(age_w));
    if (p->d[principal].age < 20)
        age += range(r, 2, 6);
    v->year = eff_year - age + (age == 0 && chance(r, 0.3)); /* next year's models too */
    static const double sym_w[27] = {1, 1, 1, 3, 3, 6, 6,  9,  9,  9,  7,  7,  7, 4,
                                     4, 4, 2, 2, 2, 2, .5, .5, .5, .5, .5, .5, .5};
    v->symbol = 1 + pick(r, sym_w, 27);
    v->principal = principal;
    v->zip = 0; /* garaged at home, or elsewhere in the state (a request may not name
                   another state's ZIP: src/intake rejects it) */
    if (chance(r, 0.05))
        v->zip = draw_zip(r, p->st);
    static const double use_w[] = {34, 58, 8}; /* pleasure, commute, business */
    v->use = pick(r, use_w, 3);
    static const double mean[] = {6500, 12000, 20000}, sd[] = {2500, 3500, 6000};
    double miles = normal(r, mean[v->use], sd[v->use]);
    miles = miles < 1000 ? 1000 : miles > 60000 ? 60000 : miles;
    v->miles = (int)(miles / 500 + 0.5) * 500;
    v->anti_theft = chance(r, age <= 5 ? 0.7 : age <= 12 ? 0.45 : 0.15);
    double both = age <= 6 ? 0.92 : age <= 12 ? 0.65 : 0.18;
    double comp_only = age <= 6 ? 0.02 : age <= 12 ? 0.15 : 0.25;
    double x = u01(r);
    static const double comp_w[] = {5, 20, 50, 20, 5}, coll_w[] = {15, 55, 25, 5};
    static const int comp_d[] = {100, 250, 500, 1000, 2000}, coll_d[] = {250, 500, 1000, 2000};
    v->comp = v->coll = 0;
    if (x < both + comp_only)
        v->comp = comp_d[pick(r, comp_w, 5)];
    if (x < both)
        v->coll = coll_d[pick(r, coll_w, 4)];
}

static void draw_coverages(rng *r, policy *p)
{
    const state_def *s = p->st;
    int tier = pick(r, s->bi_w, s->nbi);
    p->bi[0] = s->bi[tier][0];
    p->bi[1] = s->bi[tier][1];
    int rel = tier - (s->nbi - 5); /* 0 for the state's 25/50-like tier */
    if (rel <= 0)
        p->pd = s->pd_min == 5000 && chance(r, 0.5) ? 10000 : s->pd_min;
    else if (rel == 1)
        p->pd = 50000;
    else if (rel == 2)
        p->pd = 100000;
    else
        p->pd = chance(r, 0.6) ? 100000 : 250000;
    p->pd = p->pd < s->pd_min ? s->pd_min : p->pd;
    static const double med_w[] = {45, 14, 16, 19, 6};
    int m = pick(r, med_w, 5);
    p->med = m ? s->med[m - 1] : s->med_min;
    p->um[0] = p->um[1] = 0;
    if (chance(r, 0.65)) {
        int ut = chance(r, 0.7) ? tier : range(r, 0, tier);
        p->um[0] = s->bi[ut][0];
        p->um[1] = s->bi[ut][1];
    }
}

static void draw_policy(const mq_batch_gen *g, long number, policy *p)
{
    rng r = {g->seed * 0x9E3779B97F4A7C15ull ^ ((uint64_t)number * 0xD1B54A32D192ED03ull)};
    next(&r);
    *p = (policy){.number = number};
    /* state */
    double w[8];
    int ns = 0;
    const state_def *cand[8];
    if (g->nstates == 0)
        for (int i = 0; i < N(states); i++)
            cand[ns++] = &states[i];
    for (int i = 0; i < g->nstates && ns < 8; i++)
        cand[ns++] = find_state(g->states[i]);
    for (int i = 0; i < ns; i++)
        w[i] = cand[i]->people;
    p->st = cand[pick(&r, w, ns)];
    p->zip = draw_zip(&r, p->st);
    p->eff = mq_date_from_ymd(2026, 7, 1) + range(&r, 0, 183);
    int eff_year, m, d;
    mq_date_to_ymd(p->eff, &eff_year, &m, &d);
    /* the principal driver, a spouse or partner, teenagers */
    static const double band_w[] = {6, 17, 19, 18, 19, 14, 7};
    static const int band_lo[] = {18, 25, 35, 45, 55, 65, 75},
                     band_hi[] = {24, 34, 44, 54, 64, 74, 89};
    int band = pick(&r, band_w, 7);
    int age = range(&r, band_lo[band], band_hi[band]);
    int marital = marital_for(&r, age);
    draw_driver(&r, &p->d[0], p->eff, age, marital, p);
    p->nd = 1;
    const char *ms = mq_symbol_name(MQ_DOM_MARITAL, marital);
    bool couple = strcmp(ms, "married") == 0 || strcmp(ms, "civil_union") == 0;
    if ((couple && chance(&r, 0.88)) || (!couple && age >= 21 && chance(&r, 0.10))) {
        int age2 = (int)lround(normal(&r, age, 3));
        age2 = age2 < 18 ? 18 : age2 > 95 ? 95 : age2;
        draw_driver(&r, &p->d[1], p->eff, age2,
                    couple ? marital : mq_symbol_find(MQ_DOM_MARITAL, "single"), p);
        if (couple && p->d[0].gender < 2 && chance(&r, 0.92))
            p->d[1].gender = 1 - p->d[0].gender;
        p->nd = 2;
    }
    if (age >= 40 && age <= 62) {
        int teens = chance(&r, 0.06) ? 2 : chance(&r, 0.28) ? 1 : 0;
        for (int i = 0; i < teens && p->nd < MAX_D; i++)
            draw_driver(&r, &p->d[p->nd++], p->eff, range(&r, 16, 19),
                        mq_symbol_find(MQ_DOM_MARITAL, "single"), p);
    }
    /* vehicles */
    double x = u01(&r);
    p->nv = x < 0.60 ? p->nd : x < 0.75 ? p->nd + 1 : p->nd - 1;
    p->nv = p->nv < 1 ? 1 : p->nv > MAX_V ? MAX_V : p->nv;
    for (int i = 0; i < p->nv; i++)
        draw_vehicle(&r, &p->v[i], p, i < p->nd ? i : 0, eff_year);
    draw_coverages(&r, p);
    double own = age < 25 ? 0.08 : age < 35 ? 0.35 : age < 45 ? 0.60 : age < 65 ? 0.72 : 0.78;
    p->homeowner = chance(&r, own);
    p->paperless = chance(&r, age < 45 ? 0.65 : age < 65 ? 0.50 : 0.30);
}

/* ---- Writers ---------------------------------------------------------------- */

static void date_text(int32_t day, char out[11])
{
    mq_date_format(day, out);
}

static bool incident_json(mq_batch_buf *b, const incident *in)
{
    char day[11];
    date_text(in->date, day);
    const char *t = mq_symbol_name(MQ_DOM_INCIDENT, in->type);
    bool ok = mq_batch_buf_printf(b, "{\"type\":\"%s\",\"date\":\"%s\"", t, day);
    if (ok && in->value)
        ok = mq_batch_buf_printf(b, ",\"%s\":%d",
                                 strcmp(t, "speeding") == 0 ? "mph_over" : "amount", in->value);
    return ok && mq_batch_buf_puts(b, "}");
}

static bool policy_json(mq_batch_buf *b, const policy *p)
{
    char eff[11], dob[11], lic[11];
    date_text(p->eff, eff);
    date_text(p->d[0].dob, dob);
    bool ok = mq_batch_buf_printf(
        b,
        "{\"line\":\"auto\",\"effective_date\":\"%s\",\"applicant\":{\"date_of_birth\":\"%s\","
        "\"address\":{\"state\":\"%s\",\"zip\":\"%05d\"},\"homeowner\":%s,\"paperless\":%s},"
        "\"drivers\":[",
        eff, dob, p->st->code, p->zip, p->homeowner ? "true" : "false",
        p->paperless ? "true" : "false");
    for (int i = 0; ok && i < p->nd; i++) {
        const driver *d = &p->d[i];
        date_text(d->dob, dob);
        date_text(d->first_licensed, lic);
        ok = mq_batch_buf_printf(
            b,
            "%s{\"id\":\"d%d\",\"date_of_birth\":\"%s\",\"gender\":\"%s\",\"marital_status\":"
            "\"%s\",\"license\":{\"state\":\"%s\",\"first_licensed\":\"%s\"}",
            i ? "," : "", i + 1, dob, mq_symbol_name(MQ_DOM_GENDER, d->gender),
            mq_symbol_name(MQ_DOM_MARITAL, d->marital),
            mq_symbol_name(MQ_DOM_STATE, d->license_state), lic);
        if (ok && d->gpa10 >= 0)
            ok = mq_batch_buf_printf(b, ",\"student_gpa\":%d.%d", d->gpa10 / 10, d->gpa10 % 10);
        ok = ok && mq_batch_buf_puts(b, ",\"incidents\":[");
        for (int k = 0; ok && k < d->nincidents; k++)
            ok = (!k || mq_batch_buf_puts(b, ",")) && incident_json(b, &d->inc[k]);
        ok = ok && mq_batch_buf_puts(b, "]}");
    }
    ok = ok && mq_batch_buf_puts(b, "],\"vehicles\":[");
    for (int i = 0; ok && i < p->nv; i++) {
        const vehicle *v = &p->v[i];
        ok = mq_batch_buf_printf(b,
                                 "%s{\"id\":\"v%d\",\"year\":%d,\"symbol\":%d,"
                                 "\"principal_driver\":\"d%d\"",
                                 i ? "," : "", i + 1, v->year, v->symbol, v->principal + 1);
        if (ok && v->zip)
            ok = mq_batch_buf_printf(b, ",\"garaging_zip\":\"%05d\"", v->zip);
        ok = ok && mq_batch_buf_printf(b, ",\"annual_miles\":%d,\"use\":\"%s\",\"anti_theft\":%s",
                                       v->miles, mq_symbol_name(MQ_DOM_USE, v->use),
                                       v->anti_theft ? "true" : "false");
        if (ok && v->comp) {
            ok = mq_batch_buf_printf(b, ",\"coverages\":{\"comp\":{\"deductible\":%d}", v->comp);
            if (ok && v->coll)
                ok = mq_batch_buf_printf(b, ",\"coll\":{\"deductible\":%d}", v->coll);
            ok = ok && mq_batch_buf_puts(b, "}");
        }
        ok = ok && mq_batch_buf_puts(b, "}");
    }
    ok =
        ok && mq_batch_buf_printf(b,
                                  "],\"coverages\":{\"bi\":{\"per_person\":%d,\"per_accident\":%d},"
                                  "\"pd\":{\"limit\":%d}",
                                  p->bi[0], p->bi[1], p->pd);
    if (ok && p->med)
        ok = mq_batch_buf_printf(b, ",\"med\":{\"limit\":%d}", p->med);
    if (ok && p->um[0])
        ok = mq_batch_buf_printf(b, ",\"um\":{\"per_person\":%d,\"per_accident\":%d}", p->um[0],
                                 p->um[1]);
    return ok && mq_batch_buf_printf(b, "},\"extra\":{\"policy_id\":\"P%08ld\"}}\n", p->number);
}

static bool csv_header(mq_batch_buf *b)
{
    bool ok = mq_batch_buf_puts(b, "policy_id,effective_date,state,zip,applicant_dob,homeowner,"
                                   "paperless,bi_per_person,bi_per_accident,pd_limit,med_limit,"
                                   "um_per_person,um_per_accident");
    for (int i = 1; ok && i <= MAX_D; i++)
        ok = mq_batch_buf_printf(b,
                                 ",d%d_dob,d%d_gender,d%d_marital_status,d%d_license_state,"
                                 "d%d_first_licensed,d%d_student_gpa,d%d_incidents",
                                 i, i, i, i, i, i, i);
    for (int i = 1; ok && i <= MAX_V; i++)
        ok = mq_batch_buf_printf(b,
                                 ",v%d_year,v%d_symbol,v%d_principal_driver,v%d_garaging_zip,"
                                 "v%d_annual_miles,v%d_use,v%d_anti_theft,v%d_comp_deductible,"
                                 "v%d_coll_deductible",
                                 i, i, i, i, i, i, i, i, i);
    return ok && mq_batch_buf_puts(b, "\n");
}

static bool policy_csv(mq_batch_buf *b, const policy *p)
{
    char eff[11], dob[11], lic[11], day[11];
    date_text(p->eff, eff);
    date_text(p->d[0].dob, dob);
    bool ok = mq_batch_buf_printf(b, "P%08ld,%s,%s,%05d,%s,%s,%s,%d,%d,%d,", p->number, eff,
                                  p->st->code, p->zip, dob, p->homeowner ? "true" : "false",
                                  p->paperless ? "true" : "false", p->bi[0], p->bi[1], p->pd);
    if (ok && p->med)
        ok = mq_batch_buf_int(b, p->med);
    ok = ok && mq_batch_buf_puts(b, ",");
    if (ok && p->um[0])
        ok = mq_batch_buf_printf(b, "%d,%d", p->um[0], p->um[1]);
    else
        ok = ok && mq_batch_buf_puts(b, ",");
    for (int i = 0; ok && i < MAX_D; i++) {
        if (i >= p->nd) {
            ok = mq_batch_buf_puts(b, ",,,,,,,");
            continue;
        }
        const driver *d = &p->d[i];
        date_text(d->dob, dob);
        date_text(d->first_licensed, lic);
        ok = mq_batch_buf_printf(b, ",%s,%s,%s,%s,%s,", dob,
                                 mq_symbol_name(MQ_DOM_GENDER, d->gender),
                                 mq_symbol_name(MQ_DOM_MARITAL, d->marital),
                                 mq_symbol_name(MQ_DOM_STATE, d->license_state), lic);
        if (ok && d->gpa10 >= 0)
            ok = mq_batch_buf_printf(b, "%d.%d", d->gpa10 / 10, d->gpa10 % 10);
        ok = ok && mq_batch_buf_puts(b, ",");
        for (int k = 0; ok && k < d->nincidents; k++) {
            date_text(d->inc[k].date, day);
            ok = mq_batch_buf_printf(b, "%s%s:%s", k ? ";" : "",
                                     mq_symbol_name(MQ_DOM_INCIDENT, d->inc[k].type), day);
            if (ok && d->inc[k].value)
                ok = mq_batch_buf_printf(b, ":%d", d->inc[k].value);
        }
    }
    for (int i = 0; ok && i < MAX_V; i++) {
        if (i >= p->nv) {
            ok = mq_batch_buf_puts(b, ",,,,,,,,,");
            continue;
        }
        const vehicle *v = &p->v[i];
        ok = mq_batch_buf_printf(b, ",%d,%d,%d,", v->year, v->symbol, v->principal + 1);
        if (ok && v->zip)
            ok = mq_batch_buf_printf(b, "%05d", v->zip);
        ok =
            ok && mq_batch_buf_printf(b, ",%d,%s,%s,", v->miles, mq_symbol_name(MQ_DOM_USE, v->use),
                                      v->anti_theft ? "true" : "false");
        if (ok && v->comp)
            ok = mq_batch_buf_int(b, v->comp);
        ok = ok && mq_batch_buf_puts(b, ",");
        if (ok && v->coll)
            ok = mq_batch_buf_int(b, v->coll);
    }
    return ok && mq_batch_buf_puts(b, "\n");
}

bool mq_batch_gen_book(FILE *out, const mq_batch_gen *g)
{
    for (int i = 0; i < g->nstates; i++)
        if (!find_state(g->states[i]))
            return false;
    mq_batch_buf b = {0};
    bool ok = g->format != MQ_BATCH_CSV || csv_header(&b);
    for (long i = 1; ok && i <= g->n; i++) {
        policy p;
        draw_policy(g, i, &p);
        ok = g->format == MQ_BATCH_CSV ? policy_csv(&b, &p) : policy_json(&b, &p);
        if (ok && (b.len >= (1u << 16) || i == g->n)) {
            ok = fwrite(b.data, 1, b.len, out) == b.len;
            b.len = 0;
        }
    }
    if (ok && b.len)
        ok = fwrite(b.data, 1, b.len, out) == b.len;
    mq_batch_buf_free(&b);
    return ok;
}
