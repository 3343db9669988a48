/* intake.c -- the reference data's lifetime, its CSV reader, and the request checks.
 *
 * mq_intake_load reads the two data files into one arena (vin.c and
 * states.c parse their rows); the program-wide copy is loaded once, on first
 * use, under pthread_once, so the server's threads share it read-only.
 * mq_intake_check runs after the request parser has accepted a document, so
 * every member it reads already has the right type: it only compares the
 * request with what the data knows (a VIN's year and maker, the state's
 * minimum limits, the state of each ZIP code) and reports each contradiction
 * at the JSON path of the member that is wrong.
 */
#include "intake_internal.h"
#include "jsontext.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef MQ_DEFAULT_DATA
#define MQ_DEFAULT_DATA "data"
#endif

enum { CSV_MAX_BYTES = 4 * 1024 * 1024 };

/* ---- CSV ------------------------------------------------------------------ */

bool ik_csv_open(ik_csv *c, const char *dir, const char *name, const char *const *columns,
                 int optional, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    c->path = strdup(path);
    FILE *f = fopen(path, "rb");
    if (!f || !c->path) {
        snprintf(err, errlen, "%s: %s", path, f ? "out of memory" : strerror(errno));
        if (f)
            fclose(f);
        ik_csv_close(c);
        return false;
    }
    c->buf = malloc(CSV_MAX_BYTES + 1);
    size_t n = c->buf ? fread(c->buf, 1, CSV_MAX_BYTES + 1, f) : 0;
    bool bad = !c->buf || ferror(f) || n > CSV_MAX_BYTES;
    fclose(f);
    if (bad) {
        snprintf(err, errlen, "%s: %s", path,
                 !c->buf             ? "out of memory"
                 : n > CSV_MAX_BYTES ? "larger than 4 MiB"
                                     : "cannot read");
        ik_csv_close(c);
        return false;
    }
    c->buf[n] = '\0';
    c->p = c->buf;
    if (n >= 3 && memcmp(c->buf, "\xEF\xBB\xBF", 3) == 0)
        c->p += 3; /* the UTF-8 byte order mark a spreadsheet saves the file with */
    char *fields[IK_MAX_FIELDS];
    int nf = 0;
    bool header = ik_csv_next(c, fields, &nf);
    int want = 0;
    while (columns[want])
        want++;
    bool same = header && nf >= want - optional && nf <= want;
    for (int i = 0; same && i < nf; i++)
        same = strcmp(fields[i], columns[i]) == 0;
    if (!same) {
        char list[256] = "";
        for (int i = 0; i < want; i++) {
            size_t len = strlen(list);
            snprintf(list + len, sizeof list - len, "%s%s", i ? "," : "", columns[i]);
        }
        size_t len = strlen(list);
        if (optional == 1)
            snprintf(list + len, sizeof list - len, " (%s may be left out)", columns[want - 1]);
        else if (optional > 1)
            snprintf(list + len, sizeof list - len, " (the last %d may be left out)", optional);
        snprintf(err, errlen, "%s:%d: the header must be %s", path, header ? c->line : 1, list);
        ik_csv_close(c);
        return false;
    }
    c->ncolumns = nf;
    return true;
}

bool ik_csv_next(ik_csv *c, char **fields, int *nfields)
{
    *nfields = 0;
    for (;;) {
        if (!c->p || !*c->p)
            return false;
        c->line++;
        if (*c->p == '#' || *c->p == '\n' || *c->p == '\r') { /* comment or blank line */
            char *nl = strchr(c->p, '\n');
            c->p = nl ? nl + 1 : NULL;
            continue;
        }
        break;
    }
    char *p = c->p;
    for (;;) {
        char *out = p, *start = p;
        if (*p == '"') { /* quoted: "" is a quote; may span lines */
            p++;
            for (;;) {
                if (!*p)
                    break;
                if (*p == '"' && p[1] == '"') {
                    *out++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    if (*p == '\n')
                        c->line++;
                    *out++ = *p++;
                }
            }
        } else {
            while (*p && *p != ',' && *p != '\n' && *p != '\r')
                *out++ = *p++;
        }
        char end = *p;
        if (*nfields < IK_MAX_FIELDS)
            fields[(*nfields)++] = start;
        else
            (*nfields)++;
        if (end == ',') {
            *out = '\0';
            p++;
            continue;
        }
        if (end == '\r')
            p++;
        if (*p == '\n')
            p++;
        else if (*p && *p != '\n') /* text after a closing quote: skip to the end of line */
            while (*p && *p != '\n')
                p++;
        *out = '\0';
        c->p = p;
        return true;
    }
}

void ik_csv_close(ik_csv *c)
{
    free(c->buf);
    free((char *)c->path);
    memset(c, 0, sizeof *c);
}

/* ---- Loading --------------------------------------------------------------- */

mq_intake *mq_intake_load(const char *dir, char *err, size_t errlen)
{
    mq_intake *ik = calloc(1, sizeof *ik);
    if (!ik) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    mq_arena_init(&ik->mem, 0);
    if (!ik_load_wmi(ik, dir, err, errlen) || !ik_load_states(ik, dir, err, errlen)) {
        mq_intake_free(ik);
        return NULL;
    }
    return ik;
}

void mq_intake_free(mq_intake *ik)
{
    if (!ik)
        return;
    mq_arena_free(&ik->mem);
    free(ik);
}

static pthread_once_t default_once = PTHREAD_ONCE_INIT;
static mq_intake *default_ik;
static char default_err[512];

static bool has_data(const char *dir)
{
    char path[1024];
    struct stat st;
    snprintf(path, sizeof path, "%s/wmi.csv", dir);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static void load_default(void)
{
    const char *env = getenv("MULTIQUOTE_DATA");
    const char *dir = env && *env ? env : has_data("data") ? "data" : MQ_DEFAULT_DATA;
    default_ik = mq_intake_load(dir, default_err, sizeof default_err);
}

const mq_intake *mq_intake_default(char *err, size_t errlen)
{
    pthread_once(&default_once, load_default);
    if (!default_ik && err)
        snprintf(err, errlen, "%s", default_err);
    return default_ik;
}

/* ---- Errors ---------------------------------------------------------------- */

void ik_err(mq_req_errors *errs, mq_arena *a, const char *path, const char *fmt, ...)
{
    enum { KEPT = (int)(sizeof errs->items / sizeof errs->items[0]) };
    if (errs->count++ >= KEPT)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    mq_req_error *it = &errs->items[errs->count - 1];
    it->path = mq_arena_strdup(a, path);
    it->message = mq_arena_strdup(a, msg);
    if (!it->path || !it->message) {
        it->path = "";
        it->message = "out of memory";
    }
}

/* ---- Request checks -------------------------------------------------------- */

static const char *member_string(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A whole number member, or -1 when absent. */
static double member_number(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_number(v) ? json_number_value(v) : -1;
}

/* The maker's makes as "Honda" or "Chrysler, Dodge or Jeep". */
static void makes_text(const mq_wmi *w, char *out, size_t n)
{
    out[0] = '\0';
    for (int i = 0; i < w->nmakes; i++) {
        size_t len = strlen(out);
        snprintf(out + len, n - len, "%s%s",
                 i == 0               ? ""
                 : i == w->nmakes - 1 ? " or "
                                      : ", ",
                 w->makes[i]);
    }
}

static void check_vin(const mq_intake *ik, const json_t *veh, const char *path, mq_arena *a,
                      mq_req_errors *errs)
{
    const char *vin = member_string(veh, "vin");
    if (!vin)
        return;
    int year = (int)member_number(veh, "year");
    size_t len = strlen(vin);
    if (len < MQ_VIN_LEN) { /* before 1981 VINs had no standard form */
        if (year >= 1981)
            ik_err(errs, a, path,
                   "a %d vehicle has a 17-character VIN; this one has %zu characters", year, len);
        return;
    }
    mq_vin v;
    if (!mq_vin_decode(ik, vin, &v)) {
        for (int i = 0; i < v.nerrors; i++)
            ik_err(errs, a, path, "%s", v.errors[i]);
        return;
    }
    if (year > 0 && v.year && v.year != year && v.year_other != year) {
        if (v.year_other) /* not a light vehicle: position 7 does not say which */
            ik_err(errs, a, path, "model year %d or %d from the VIN contradicts year %d",
                   v.year < v.year_other ? v.year : v.year_other,
                   v.year < v.year_other ? v.year_other : v.year, year);
        else
            ik_err(errs, a, path, "model year %d from the VIN contradicts year %d", v.year, year);
    }
    const char *make = member_string(veh, "make");
    if (make && *make && v.wmi && !mq_wmi_has_make(v.wmi, make)) {
        char makes[128], q[96];
        makes_text(v.wmi, makes, sizeof makes);
        snprintf(q, sizeof q, "%.80s", make);
        ik_err(errs, a, path, "make %s from the VIN (WMI %s) contradicts make \"%s\"", makes,
               v.wmi->code, q);
    }
}

static void check_limits(const mq_intake *ik, const json_t *doc, int state, mq_arena *a,
                         mq_req_errors *errs)
{
    int32_t day;
    const char *eff = member_string(doc, "effective_date");
    if (!eff || !mq_date_parse(eff, &day))
        return;
    const mq_state_rule *rule = mq_state_rule_on(ik, state, day);
    if (!rule)
        return;
    const json_t *covs = json_object_get(doc, "coverages");
    const json_t *bi = json_object_get(covs, "bi");
    double pp = member_number(bi, "per_person"), pa = member_number(bi, "per_accident");
    if (bi && (pp < rule->bi_per_person || pa < rule->bi_per_accident))
        ik_err(errs, a, "coverages.bi", "%.0f/%.0f is below %s's minimum %d/%d", pp, pa, rule->name,
               rule->bi_per_person, rule->bi_per_accident);
    /* uninsured motorist coverage, when carried, is at least the state's
     * bodily injury minimum (e.g. Tex. Ins. Code 1952.101, 75 Pa.C.S. 1731):
     * below it no carrier may write it, and every one would answer
     * unavailable */
    const json_t *um = json_object_get(covs, "um");
    double upp = member_number(um, "per_person"), upa = member_number(um, "per_accident");
    if (um && !json_is_null(um) && (upp < rule->bi_per_person || upa < rule->bi_per_accident))
        ik_err(errs, a, "coverages.um",
               "%.0f/%.0f is below %s's minimum %d/%d (uninsured motorist coverage is at least "
               "the bodily injury minimum)",
               upp, upa, rule->name, rule->bi_per_person, rule->bi_per_accident);
    const json_t *pd = json_object_get(covs, "pd");
    double lim = member_number(pd, "limit");
    if (pd && lim < rule->pd)
        ik_err(errs, a, "coverages.pd", "%.0f is below %s's minimum %d", lim, rule->name, rule->pd);
    /* first-party medical benefits the state requires in every policy (PA) */
    const json_t *med = json_object_get(covs, "med");
    if (json_is_null(med)) /* the request parser reads null as left out */
        med = NULL;
    if (rule->med > 0 && !med)
        ik_err(errs, a, "coverages.med",
               "is required in %s: every policy carries first-party medical benefits of at "
               "least %d",
               rule->name, rule->med);
    else if (med && member_number(med, "limit") < rule->med)
        ik_err(errs, a, "coverages.med", "%.0f is below %s's minimum %d",
               member_number(med, "limit"), rule->name, rule->med);
}

/* A ZIP code member must be one of the 50 states' or DC's, a street
 * address's (not one of an organisation's unique ZIP codes, such as the
 * IRS's 73301) and, when `state` is not -1, in that state (the applicant's
 * address). */
static void check_zip(const mq_intake *ik, const char *zip, int state, const char *path,
                      mq_arena *a, mq_req_errors *errs)
{
    if (!zip || strlen(zip) != 5)
        return;
    int in = mq_state_of_zip(ik, zip);
    const char *owner = mq_zip_owner(ik, zip);
    if (in < 0)
        ik_err(errs, a, path, "ZIP code %s is not in any of the 50 states or DC", zip);
    else if (owner) /* 73301: no one lives or keeps a vehicle there */
        ik_err(errs, a, path, "ZIP code %s belongs to %s, not to a street address", zip, owner);
    else if (state >= 0 && in != state)
        ik_err(errs, a, path, "ZIP code %s is in %s, but the address is in %s", zip,
               mq_state_name(ik, in), mq_state_name(ik, state));
}

/* The checks of one line's request (mq_intake_check). */
static bool check_request(const void *arg, const json_t *doc, mq_arena *a, mq_req_errors *errs)
{
    const mq_intake *ik = arg;
    int before = errs->count;
    const json_t *addr = json_object_get(json_object_get(doc, "applicant"), "address");
    const char *st = member_string(addr, "state");
    int state = st ? mq_symbol_find(MQ_DOM_STATE, st) : -1;
    if (state >= 0)
        check_zip(ik, member_string(addr, "zip"), state, "applicant.address.zip", a, errs);
    const char *line = member_string(doc, "line");
    if (!line || strcmp(line, "auto") != 0)
        return errs->count == before;
    if (state >= 0)
        check_limits(ik, doc, state, a, errs);
    const json_t *vehicles = json_object_get(doc, "vehicles");
    for (size_t i = 0; i < json_array_size(vehicles); i++) {
        const json_t *veh = json_array_get(vehicles, i);
        char path[64];
        check_vin(ik, veh, mq_json_path(path, sizeof path, "vehicles", i, ".vin"), a, errs);
        /* a vehicle may be garaged in another state (a student's car at
         * college): its plan rates that ZIP; it must still be a real one */
        mq_json_path(path, sizeof path, "vehicles", i, ".garaging_zip");
        check_zip(ik, member_string(veh, "garaging_zip"), -1, path, a, errs);
    }
    return errs->count == before;
}

bool mq_intake_check(const mq_intake *ik, const json_t *doc, mq_arena *a, mq_req_errors *errs)
{
    if (mq_req_is_bundle(doc)) /* "auto.vehicles[0].vin", "home.applicant..." */
        return mq_req_bundle_check(doc, check_request, ik, a, errs);
    return check_request(ik, doc, a, errs);
}
