/* acord.c -- an ACORD PersAutoPolicyQuoteInqRq mapped onto the contract's JSON request.
 *
 * Three passes, after a scan of the raw text that refuses an element of
 * more than 256 attributes (libxml2 checks them pairwise) and an encoding
 * that scan cannot read. libxml2 parses the text with no network, no entity
 * substitution and no DTD; a SAX hook stops the parser at any DOCTYPE, so
 * entity declarations (the "billion laughs" family) never reach the parser's
 * entity code. A schema walk then checks every element and attribute against
 * the table below (the elements docs/acord.md maps, plus a few that are
 * informational only), naming each unknown, repeated or missing one by its
 * XPath, and refusing a repeatable element past its cap before anything is
 * mapped. Last, the mapper builds the contract request, recording for every
 * JSON path it fills (or would fill) the XPath it reads, so that the
 * contract's own validation -- shared with POST /v1/quotes -- reports its
 * problems at the XPath the sender wrote ("drivers[1].date_of_birth" becomes
 * ".../PersDriver[2]/DriverInfo/PersonInfo/BirthDt"). Where the sender wrote
 * two values for one field (two Locations of one id, two per-person limits,
 * FormatInteger and a different FormatCurrencyAmt) it is an error, never a
 * silent choice.
 */
#include "intake_internal.h"

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- The accepted structure -------------------------------------------------- */

enum { X_MANY = 1, X_REQ = 2, X_ANY = 4 /* content not checked nor read */ };
enum { MAX_KIDS = 16 }; /* the most kids an element below has (PersVeh: 12) */

typedef struct xs {
    const char *name;
    unsigned flags;
    const struct xs *kids;    /* NULL: a leaf holding text */
    const char *const *attrs; /* allowed attributes (no namespace); NULL: none */
} xs;

#define LEAF(n)                                                                                    \
    {                                                                                              \
        n, 0, NULL, NULL                                                                           \
    }
#define LEAFS(n)                                                                                   \
    {                                                                                              \
        n, X_MANY, NULL, NULL                                                                      \
    }
#define ANY(n)                                                                                     \
    {                                                                                              \
        n, X_ANY | X_MANY, NULL, NULL                                                              \
    }
#define END                                                                                        \
    {                                                                                              \
        NULL, 0, NULL, NULL                                                                        \
    }

static const char *const id_attr[] = {"id", NULL};
static const char *const accident_attrs[] = {"id", "DriverRef", NULL};
static const char *const driver_veh_attrs[] = {"DriverRef", "VehRef", NULL};
static const char *const veh_attrs[] = {"id", "LocationRef", "RatedDriverRef", NULL};

static const xs person_name[] = {LEAF("Surname"), LEAF("GivenName"), LEAF("OtherGivenName"),
                                 LEAF("NameSuffix"), END};
static const xs name_info[] = {{"PersonName", 0, person_name, NULL}, END};
static const xs addr[] = {LEAF("AddrTypeCd"), LEAF("Addr1"),       LEAF("Addr2"),
                          LEAF("City"),       LEAF("StateProvCd"), LEAF("PostalCode"),
                          LEAF("CountryCd"),  LEAF("County"),      END};
static const xs phone_info[] = {LEAF("PhoneTypeCd"), LEAF("CommunicationUseCd"),
                                LEAF("PhoneNumber"), END};
static const xs email_info[] = {LEAF("CommunicationUseCd"), LEAF("EmailAddr"), END};
static const xs communications[] = {
    {"PhoneInfo", X_MANY, phone_info, NULL}, {"EmailInfo", X_MANY, email_info, NULL}, END};
static const xs general_party[] = {{"NameInfo", 0, name_info, NULL},
                                   {"Addr", 0, addr, NULL},
                                   {"Communications", 0, communications, NULL},
                                   END};
static const xs person_info[] = {LEAF("GenderCd"), LEAF("BirthDt"), LEAF("MaritalStatusCd"), END};
static const xs insured_info[] = {
    LEAF("InsuredOrPrincipalRoleCd"), {"PersonInfo", 0, person_info, NULL}, END};
static const xs insured[] = {ANY("ItemIdInfo"),
                             {"GeneralPartyInfo", X_REQ, general_party, NULL},
                             {"InsuredOrPrincipalInfo", 0, insured_info, NULL},
                             LEAF("com.multiquote_ContactConsentInd"),
                             END};
static const xs amount[] = {LEAF("Amt"), LEAF("CurCd"), END};
static const xs contract_term[] = {LEAF("EffectiveDt"), LEAF("ExpirationDt"), ANY("DurationPeriod"),
                                   END};
static const xs accident[] = {
    LEAF("AccidentViolationCd"),         LEAF("AccidentViolationDt"),
    LEAF("AccidentViolationDesc"),       {"DamageTotalAmt", 0, amount, NULL},
    LEAF("com.multiquote_MphOverLimit"), END};
static const xs application[] = {LEAF("ResidenceOwnedRentedCd"), END};
static const xs driver_veh[] = {LEAF("UsePct"), END};
static const xs pers_policy[] = {LEAF("PolicyNumber"),
                                 LEAF("LOBCd"),
                                 LEAF("BroadLOBCd"),
                                 {"ContractTerm", 0, contract_term, NULL},
                                 {"AccidentViolation", X_MANY, accident, accident_attrs},
                                 {"PersApplicationInfo", 0, application, NULL},
                                 {"DriverVeh", X_MANY, driver_veh, driver_veh_attrs},
                                 LEAF("com.multiquote_PaperlessInd"),
                                 LEAFS("com.multiquote_CarrierId"),
                                 END};
static const xs license[] = {LEAF("LicenseTypeCd"), LEAF("LicenseStatusCd"),
                             LEAF("LicensedDt"),    LEAF("LicensePermitNumber"),
                             LEAF("StateProvCd"),   END};
static const xs driver_info[] = {
    {"PersonInfo", 0, person_info, NULL}, {"License", 0, license, NULL}, END};
static const xs pers_driver_info[] = {LEAF("DriverRelationshipToApplicantCd"),
                                      LEAF("com.multiquote_StudentGPA"), END};
static const xs driver_party[] = {{"NameInfo", 0, name_info, NULL}, END};
static const xs pers_driver[] = {ANY("ItemIdInfo"),
                                 {"GeneralPartyInfo", 0, driver_party, NULL},
                                 {"DriverInfo", 0, driver_info, NULL},
                                 {"PersDriverInfo", 0, pers_driver_info, NULL},
                                 END};
static const xs limit[] = {LEAF("FormatInteger"),
                           {"FormatCurrencyAmt", 0, amount, NULL},
                           LEAF("LimitBasisCd"),
                           LEAF("LimitAppliesToCd"),
                           END};
static const xs deductible[] = {LEAF("FormatInteger"),     {"FormatCurrencyAmt", 0, amount, NULL},
                                LEAF("DeductibleBasisCd"), LEAF("DeductibleAppliesToCd"),
                                LEAF("DeductibleTypeCd"),  END};
static const xs coverage[] = {LEAF("CoverageCd"),
                              LEAF("CoverageDesc"),
                              {"Limit", X_MANY, limit, NULL},
                              {"Deductible", 0, deductible, NULL},
                              END};
static const xs distance[] = {LEAF("NumUnits"), LEAF("UnitMeasurementCd"), END};
static const xs anti_theft[] = {LEAF("AntiTheftDeviceCd"), END};
static const xs pers_veh[] = {ANY("ItemIdInfo"),
                              LEAF("Manufacturer"),
                              LEAF("Model"),
                              LEAF("ModelYear"),
                              LEAF("VehBodyTypeCd"),
                              LEAF("VehTypeCd"),
                              LEAF("VehIdentificationNumber"),
                              LEAF("VehSymbolCd"),
                              {"EstimatedAnnualDistance", 0, distance, NULL},
                              LEAF("VehUseCd"),
                              {"AntiTheftDeviceInfo", X_MANY, anti_theft, NULL},
                              {"Coverage", X_MANY, coverage, NULL},
                              END};
_Static_assert(sizeof pers_veh / sizeof pers_veh[0] - 1 <= MAX_KIDS,
               "walk counts kids in an array");
static const xs line_business[] = {LEAF("LOBCd"),
                                   {"PersDriver", X_MANY, pers_driver, id_attr},
                                   {"PersVeh", X_MANY, pers_veh, veh_attrs},
                                   {"Coverage", X_MANY, coverage, NULL},
                                   END};
static const xs location[] = {ANY("ItemIdInfo"), {"Addr", 0, addr, NULL}, END};
static const xs quote_rq[] = {LEAF("RqUID"),
                              LEAF("TransactionRequestDt"),
                              LEAF("TransactionEffectiveDt"),
                              LEAF("CurCd"),
                              ANY("Producer"),
                              {"InsuredOrPrincipal", X_REQ | X_MANY, insured, NULL},
                              {"PersPolicy", X_REQ, pers_policy, id_attr},
                              {"PersAutoLineBusiness", X_REQ, line_business, NULL},
                              {"Location", X_MANY, location, id_attr},
                              END};
static const xs svc_rq[] = {
    LEAF("RqUID"), {"PersAutoPolicyQuoteInqRq", X_REQ, quote_rq, NULL}, END};
static const xs acord_kids[] = {ANY("SignonRq"), {"InsuranceSvcRq", X_REQ, svc_rq, NULL}, END};
static const xs acord_root = {"ACORD", 0, acord_kids, NULL};

/* ACORD codes and the contract's values. */
typedef struct code {
    const char *acord, *contract;
} code;

static const code genders[] = {
    {"F", "female"}, {"M", "male"}, {"X", "nonbinary"}, {"U", "unspecified"}, {NULL, NULL}};
static const code maritals[] = {{"S", "single"},   {"M", "married"}, {"C", "civil_union"},
                                {"D", "divorced"}, {"W", "widowed"}, {NULL, NULL}};
static const code uses[] = {
    {"PL", "pleasure"}, {"DW", "commute"}, {"BU", "business"}, {NULL, NULL}};
static const code incident_codes[] = {{"AAF", "at_fault_accident"},
                                      {"NAF", "not_at_fault_accident"},
                                      {"DUI", "dui"},
                                      {"DWI", "dui"},
                                      {"SPD", "speeding"},
                                      {"MOV", "moving_violation"},
                                      {"CMP", "comp_claim"},
                                      {NULL, NULL}};
/* AntiTheftDeviceCd: ACORD's AutoAntiTheftDevice list (N: no device, 0: no
 * discount applies, MA; the others a device or a Massachusetts category),
 * then the names docs/acord.md's examples use. Any other code is an error,
 * not a device: "N" was once read as one, and quoted with its discount. */
static const code anti_theft_codes[] = {
    {"N", "false"}, {"0", "false"},    {"A", "true"},     {"D", "true"},     {"E", "true"},
    {"F", "true"},  {"H", "true"},     {"I", "true"},     {"P", "true"},     {"B", "true"},
    {"S", "true"},  {"L", "true"},     {"W", "true"},     {"Y", "true"},     {"ETCWD", "true"},
    {"1", "true"},  {"2", "true"},     {"3", "true"},     {"4", "true"},     {"5", "true"},
    {"6", "true"},  {"7", "true"},     {"8", "true"},     {"9", "true"},     {"10", "true"},
    {"11", "true"}, {"None", "false"}, {"NONE", "false"}, {"Alarm", "true"}, {NULL, NULL}};
static const code residences[] = {
    {"OWNED", "true"}, {"RENTD", "false"}, {"OTHER", "false"}, {NULL, NULL}};

/* LimitAppliesToCd of each half of a split limit. */
static const char *const per_person_codes[] = {"PerPerson", "BIEachPers", NULL};
static const char *const per_accident_codes[] = {"PerAcc", "BIEachOcc", NULL};

/* The liability coverages: one per policy, at the line or on every vehicle. */
static const struct {
    const char *acord, *key;
    bool split;
} liability[] = {
    {"BI", "bi", true}, {"PD", "pd", false}, {"MEDPM", "med", false}, {"UM", "um", true}};
enum { NLIAB = 4, MAX_VEH = 64 };

/* How many times a repeatable element may appear under one parent before
 * the request is refused unmapped: well above what the contract accepts (20
 * drivers and vehicles, 100 incidents a driver, 64 carriers), so that it
 * still names its own limit, but low enough that matching references with
 * ids, and the sibling index in each XPath, stay cheap on a 1 MiB document. */
static const struct {
    const char *name;
    int max;
} repeat_caps[] = {{"AccidentViolation", 2048}, {"DriverVeh", 4096}};
enum { REPEAT_CAP = 64 }; /* any other repeatable element */

enum {
    ERRS_KEPT = (int)(sizeof((mq_req_errors *)0)->items / sizeof((mq_req_errors *)0)->items[0])
};

/* ---- The mapped request ------------------------------------------------------ */

typedef struct pmap {
    const char *json, *xpath;
} pmap;

/* A vehicle's garaging Location that says its state: checked against the
 * state of its ZIP code once the reference data is at hand. */
typedef struct garage {
    const char *state, *zip; /* StateProvCd and the 5-digit ZIP */
    const char *xpath;       /* of StateProvCd */
} garage;

struct mq_acord {
    json_t *doc;
    /* whole (arena): echoed exactly, the sender matches answers by them */
    const char *rquid;     /* PersAutoPolicyQuoteInqRq's (else InsuranceSvcRq's) */
    const char *svc_rquid; /* InsuranceSvcRq's (else PersAutoPolicyQuoteInqRq's) */
    const char *ns;        /* the ACORD element's namespace URI; NULL: none */
    const char *root;      /* XPath of PersAutoPolicyQuoteInqRq */
    pmap *map;
    int nmap, cap;
    mq_arena *a;
    garage garages[MAX_VEH];
    int ngarages;
};

typedef struct ax {
    mq_arena *a;
    mq_req_errors *errs;
    mq_acord *x;
    bool oom;
    bool too_many;       /* an element repeated beyond repeat_caps: nothing is mapped */
    const char *charset; /* the transport's (HTTP Content-Type); NULL: none */
    xmlNode *q, *policy, *line, *insured;
    int nveh;
    xmlNode *veh_liab[MAX_VEH][NLIAB]; /* each vehicle's liability Coverage, by liability[] */
    xmlNode *vehs[MAX_VEH];
} ax;

/* ---- Small helpers ------------------------------------------------------------ */

static bool named(const xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static xmlNode *kid(const xmlNode *n, const char *name)
{
    for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (named(c, name))
            return c;
    return NULL;
}

/* Follows "A/B/C" (the first element of each name). */
static xmlNode *at(const xmlNode *n, const char *rel)
{
    char step[64];
    const xmlNode *cur = n;
    while (cur && *rel) {
        size_t len = strcspn(rel, "/");
        snprintf(step, sizeof step, "%.*s", (int)len, rel);
        cur = kid(cur, step);
        rel += len + (rel[len] == '/');
    }
    return (xmlNode *)cur;
}

static void append(char *out, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void append(char *out, size_t cap, size_t *len, const char *fmt, ...)
{
    if (*len + 1 >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out + *len, cap - *len, fmt, ap);
    va_end(ap);
    *len = n < 0 ? *len : *len + (size_t)n >= cap ? cap - 1 : *len + (size_t)n;
}

static void xpath_into(const xmlNode *n, char *out, size_t cap, size_t *len)
{
    if (n->parent && n->parent->type == XML_ELEMENT_NODE)
        xpath_into(n->parent, out, cap, len);
    int index = 0, same = 0;
    for (const xmlNode *s = n->parent ? n->parent->children : n; s; s = s->next)
        if (named(s, (const char *)n->name)) {
            same++;
            if (s == n)
                index = same;
        }
    if (same > 1)
        append(out, cap, len, "/%s[%d]", (const char *)n->name, index);
    else
        append(out, cap, len, "/%s", (const char *)n->name);
}

/* "/ACORD/.../PersDriver[2]" (arena) plus an optional suffix ("/@id"). */
static const char *xpath(ax *x, const xmlNode *n, const char *suffix)
{
    char buf[1024];
    size_t len = 0;
    buf[0] = '\0';
    xpath_into(n, buf, sizeof buf, &len);
    if (suffix)
        append(buf, sizeof buf, &len, "%s", suffix);
    const char *s = mq_arena_strdup(x->a, buf);
    if (!s)
        x->oom = true;
    return s ? s : "";
}

/* The XPath of base/rel, as far as it exists, then the rest as written. */
static const char *where(ax *x, const xmlNode *base, const char *rel)
{
    const xmlNode *cur = base;
    while (*rel) {
        char step[64];
        size_t len = strcspn(rel, "/");
        snprintf(step, sizeof step, "%.*s", (int)len, rel);
        const xmlNode *next = kid(cur, step);
        if (!next)
            break;
        cur = next;
        rel += len + (rel[len] == '/');
    }
    if (!*rel)
        return xpath(x, cur, NULL);
    char rest[256];
    snprintf(rest, sizeof rest, "/%s", rel);
    return xpath(x, cur, rest);
}

static void err(ax *x, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void err(ax *x, const char *path, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ik_err(x->errs, x->a, path, "%s", msg);
}

/* A user string quoted and cut for a message. */
static const char *quoted(const char *s, char out[80])
{
    snprintf(out, 80, "\"%.60s%s\"", s, strlen(s) > 60 ? "..." : "");
    return out;
}

/* The trimmed text of an element (arena); NULL when absent or empty. */
static const char *text(ax *x, const xmlNode *n)
{
    if (!n)
        return NULL;
    xmlChar *raw = xmlNodeGetContent(n);
    if (!raw) {
        x->oom = true;
        return NULL;
    }
    const char *s = (const char *)raw;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    size_t len = strlen(s);
    while (len &&
           (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' || s[len - 1] == '\r'))
        len--;
    char *out = len ? mq_arena_alloc(x->a, len + 1) : NULL;
    if (out)
        memcpy(out, s, len);
    else if (len)
        x->oom = true;
    xmlFree(raw);
    return out;
}

static const char *attr(ax *x, const xmlNode *n, const char *name)
{
    xmlChar *v = n ? xmlGetNoNsProp(n, (const xmlChar *)name) : NULL;
    if (!v)
        return NULL;
    const char *s = *v ? mq_arena_strdup(x->a, (const char *)v) : NULL;
    if (*v && !s)
        x->oom = true;
    xmlFree(v);
    return s;
}

/* Whether attribute `name` of n is `value`: a comparison that allocates
 * nothing lasting, for the loops that match references with ids. */
static bool attr_is(const xmlNode *n, const char *name, const char *value)
{
    xmlChar *v = n ? xmlGetNoNsProp(n, (const xmlChar *)name) : NULL;
    bool same = v && value && strcmp((const char *)v, value) == 0;
    xmlFree(v);
    return same;
}

static const char *jpath(ax *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *jpath(ax *x, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    const char *s = mq_arena_strdup(x->a, buf);
    if (!s)
        x->oom = true;
    return s ? s : "";
}

/* Records that JSON path `json` is read from `xp`. */
static void note(ax *x, const char *json, const char *xp)
{
    mq_acord *m = x->x;
    if (m->nmap == m->cap) {
        int cap = m->cap ? m->cap * 2 : 256;
        pmap *grown = mq_arena_alloc(x->a, sizeof *grown * (size_t)cap);
        if (!grown) {
            x->oom = true;
            return;
        }
        if (m->nmap)
            memcpy(grown, m->map, sizeof *grown * (size_t)m->nmap);
        m->map = grown;
        m->cap = cap;
    }
    m->map[m->nmap++] = (pmap){json, xp};
}

static void set(ax *x, json_t *obj, const char *key, json_t *v)
{
    if (!v || json_object_set_new(obj, key, v) != 0)
        x->oom = true;
}

static json_t *new_object(ax *x, json_t *parent, const char *key)
{
    json_t *o = json_object();
    set(x, parent, key, o);
    return o;
}

/* ---- Putting values ----------------------------------------------------------- */

/* obj[key] = the text of node n (absent or empty: not set); xp is where it
 * would be when n is NULL. Returns the text. */
static const char *put_text_node(ax *x, json_t *obj, const char *key, const xmlNode *n,
                                 const char *json, const char *xp)
{
    note(x, json, n ? xpath(x, n, NULL) : xp);
    const char *s = text(x, n);
    if (s && obj)
        set(x, obj, key, json_string(s));
    return s;
}

static const char *put_text(ax *x, json_t *obj, const char *key, const xmlNode *base,
                            const char *rel, const char *json)
{
    return put_text_node(x, obj, key, at(base, rel), json, where(x, base, rel));
}

/* The length of an xsd:date's time zone at s ("Z", "+05:30", "-05:00"); 0
 * when s is not one. */
static size_t zone_len(const char *s)
{
    if (strcmp(s, "Z") == 0)
        return 1;
    bool form = (s[0] == '+' || s[0] == '-') && strlen(s) == 6 &&
                strspn(s + 1, "0123456789") == 2 && s[3] == ':' && strspn(s + 4, "0123456789") == 2;
    int hh = form ? (s[1] - '0') * 10 + (s[2] - '0') : 99,
        mm = form ? (s[4] - '0') * 10 + (s[5] - '0') : 99;
    return form && (hh < 14 || (hh == 14 && mm == 0)) && mm < 60 ? 6 : 0;
}

/* An ACORD date (xsd:date) as the contract's YYYY-MM-DD: a time zone, which
 * xsd:date allows ("2026-03-01Z", "1990-06-15-05:00"), does not change the
 * day a policy starts or a person was born, and is dropped. Anything else
 * (a time, another order) is left for the contract to refuse. */
static void put_date(ax *x, json_t *obj, const char *key, const xmlNode *base, const char *rel,
                     const char *json)
{
    const char *s = put_text(x, NULL, key, base, rel, json);
    if (!s)
        return;
    bool dated = strlen(s) > 10 && strspn(s, "0123456789") == 4 && s[4] == '-' &&
                 strspn(s + 5, "0123456789") == 2 && s[7] == '-' &&
                 strspn(s + 8, "0123456789") == 2;
    set(x, obj, key, dated && zone_len(s + 10) ? json_stringn(s, 10) : json_string(s));
}

/* A number: whole numbers become JSON integers, others reals (the contract
 * then says whether a fraction is allowed). False when absent or wrong. */
static bool number_of(ax *x, const xmlNode *n, double *out)
{
    const char *s = text(x, n);
    if (!s)
        return false;
    char *end;
    double v = strtod(s, &end);
    if (*end || !isfinite(v) || strspn(s, "+-0123456789.") != strlen(s)) {
        char q[80];
        err(x, xpath(x, n, NULL), "not a number %s", quoted(s, q));
        return false;
    }
    *out = v;
    return true;
}

static json_t *number_json(double v)
{
    if (v == floor(v) && fabs(v) < 1e15)
        return json_integer((json_int_t)v);
    return json_real(v);
}

static void put_number_node(ax *x, json_t *obj, const char *key, const xmlNode *n, const char *json,
                            const char *xp)
{
    note(x, json, n ? xpath(x, n, NULL) : xp);
    double v;
    if (number_of(x, n, &v))
        set(x, obj, key, number_json(v));
}

static void put_number(ax *x, json_t *obj, const char *key, const xmlNode *base, const char *rel,
                       const char *json)
{
    put_number_node(x, obj, key, at(base, rel), json, where(x, base, rel));
}

/* An ACORD indicator: 1, 0, true or false. */
static void put_ind(ax *x, json_t *obj, const char *key, const xmlNode *n, const char *json)
{
    note(x, json, xpath(x, n, NULL));
    const char *s = text(x, n);
    if (!s)
        return;
    if (strcmp(s, "1") == 0 || strcmp(s, "true") == 0)
        set(x, obj, key, json_true());
    else if (strcmp(s, "0") == 0 || strcmp(s, "false") == 0)
        set(x, obj, key, json_false());
    else {
        char q[80];
        err(x, xpath(x, n, NULL), "%s is not 1, 0, true or false", quoted(s, q));
    }
}

/* An ACORD code through its table; NULL when absent or unknown (reported). */
static const char *code_of(ax *x, const xmlNode *n, const code *codes)
{
    const char *s = text(x, n);
    if (!s)
        return NULL;
    for (const code *c = codes; c->acord; c++)
        if (strcmp(s, c->acord) == 0)
            return c->contract;
    char list[160] = "", q[80];
    size_t len = 0;
    for (const code *c = codes; c->acord; c++)
        append(list, sizeof list, &len, "%s%s", c == codes ? "" : ", ", c->acord);
    err(x, xpath(x, n, NULL), "%s is not one of %s", quoted(s, q), list);
    return NULL;
}

static void put_code(ax *x, json_t *obj, const char *key, const xmlNode *base, const char *rel,
                     const code *codes, const char *json)
{
    const xmlNode *n = at(base, rel);
    note(x, json, n ? xpath(x, n, NULL) : where(x, base, rel));
    const char *v = code_of(x, n, codes);
    if (v)
        set(x, obj, key, json_string(v));
}

/* "43215-1234" and "432151234" are ZIP+4: the contract keeps the 5 digits. */
static void put_zip(ax *x, json_t *obj, const xmlNode *base, const char *rel, const char *json)
{
    const xmlNode *n = at(base, rel);
    note(x, json, n ? xpath(x, n, NULL) : where(x, base, rel));
    const char *s = text(x, n);
    if (!s)
        return;
    size_t len = strlen(s);
    bool plus4 = strspn(s, "0123456789") == 5 &&
                 ((len == 10 && s[5] == '-' && strspn(s + 6, "0123456789") == 4) ||
                  (len == 9 && strspn(s, "0123456789") == 9));
    set(x, obj, "zip", plus4 ? json_stringn(s, 5) : json_string(s));
}

/* ---- Pass 1: parse ------------------------------------------------------------ */

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
    xmlInitParser();
}

void ik_xml_init(void)
{
    pthread_once(&xml_once, xml_init);
}

/* SAX hooks: any DOCTYPE or declaration stops the parser at once. */
static void refuse_subset(void *ctx, const xmlChar *name, const xmlChar *eid, const xmlChar *sid)
{
    (void)name;
    (void)eid;
    (void)sid;
    xmlParserCtxtPtr c = ctx;
    *(bool *)c->_private = true;
    xmlStopParser(c);
}

static void refuse_entity(void *ctx, const xmlChar *name, int type, const xmlChar *pid,
                          const xmlChar *sid, xmlChar *content)
{
    (void)type;
    (void)content;
    refuse_subset(ctx, name, pid, sid);
}

/* libxml2 (2.9) checks the attributes of an element for duplicates pair by
 * pair: one element of 140,000 attributes, within the 1 MiB allowed, holds
 * the parser for 24 s. No ACORD element has more than a few, so the text is
 * scanned first and an element with more than MAX_ATTRS is refused before
 * libxml2 sees it. The scan reads code units of 1, 2 or 4 bytes (UTF-8 and
 * the 8-bit encodings, UTF-16, UCS-4, told by the BOM or the first "<", as
 * XML's appendix F does) and skips comments, CDATA sections and processing
 * instructions; it stops at a DOCTYPE, which the parser refuses at once.
 * So that it reads what libxml2 will, the XML declaration may name only an
 * encoding in which "<", "=", ">" and quotes are those code units
 * (accepted_encodings): not UTF-7 nor EBCDIC, in which the scan would see
 * no markup at all. */
enum { MAX_ATTRS = 256 };

typedef struct units {
    const unsigned char *p;
    size_t n, width; /* bytes per code unit */
    bool big;        /* big-endian */
} units;

static units units_of(const char *xml, size_t len)
{
    const unsigned char *b = (const unsigned char *)xml;
    static const struct {
        unsigned char sig[4];
        size_t siglen, width, skip;
        bool big;
    } forms[] = {
        {{0x00, 0x00, 0xFE, 0xFF}, 4, 4, 4, true}, {{0xFF, 0xFE, 0x00, 0x00}, 4, 4, 4, false},
        {{0x00, 0x00, 0x00, 0x3C}, 4, 4, 0, true}, {{0x3C, 0x00, 0x00, 0x00}, 4, 4, 0, false},
        {{0xFE, 0xFF, 0, 0}, 2, 2, 2, true},       {{0xFF, 0xFE, 0, 0}, 2, 2, 2, false},
        {{0x00, 0x3C, 0, 0}, 2, 2, 0, true},       {{0x3C, 0x00, 0, 0}, 2, 2, 0, false},
        {{0xEF, 0xBB, 0xBF, 0}, 3, 1, 3, false}, /* UTF-8's BOM */
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++)
        if (len >= forms[i].siglen && memcmp(b, forms[i].sig, forms[i].siglen) == 0)
            return (units){b + forms[i].skip, (len - forms[i].skip) / forms[i].width,
                           forms[i].width, forms[i].big};
    return (units){b, len, 1, false};
}

/* Code unit i; 0 past the end. */
static unsigned long unit_at(const units *u, size_t i)
{
    if (i >= u->n)
        return 0;
    const unsigned char *c = u->p + i * u->width;
    unsigned long v = 0;
    for (size_t k = 0; k < u->width; k++)
        v |= (unsigned long)c[u->big ? u->width - 1 - k : k] << (8 * k);
    return v;
}

static bool units_start(const units *u, size_t i, const char *ascii)
{
    for (size_t k = 0; ascii[k]; k++)
        if (unit_at(u, i + k) != (unsigned char)ascii[k])
            return false;
    return true;
}

/* The index just past the next `end` from i (counting lines); u->n if none. */
static size_t units_skip(const units *u, size_t i, const char *end, int *line)
{
    for (; i < u->n; i++) {
        if (units_start(u, i, end))
            return i + strlen(end);
        *line += unit_at(u, i) == '\n';
    }
    return u->n;
}

/* Encodings the scan reads as libxml2 does; "*" ends a prefix. */
static const char *const accepted_encodings[] = {
    "UTF-8",     "UTF8",       "UTF-16",       "UTF16",           "UTF-16LE",
    "UTF-16BE",  "UCS-2",      "UCS-4",        "ISO-10646-UCS-2", "ISO-10646-UCS-4",
    "US-ASCII",  "ASCII",      "LATIN1",       "ISO-LATIN-1",     "ISO-8859-*",
    "ISO8859-*", "ISO_8859-*", "WINDOWS-125*", "CP125*",          NULL};

static bool encoding_accepted(const char *name)
{
    for (const char *const *e = accepted_encodings; *e; e++) {
        size_t n = strlen(*e);
        if ((*e)[n - 1] == '*' ? strncasecmp(name, *e, n - 1) == 0 : strcasecmp(name, *e) == 0)
            return true;
    }
    return false;
}

/* The encoding the XML declaration names, upper-cased into out ("" when
 * none); false when it is not one the scan reads. */
static bool declared_encoding(const units *u, char *out, size_t cap)
{
    out[0] = '\0';
    if (u->width == 1 && u->n >= 4 && memcmp(u->p, "\x4C\x6F\xA7\x94", 4) == 0) {
        snprintf(out, cap, "EBCDIC"); /* "<?xm" in EBCDIC, which libxml2 reads */
        return false;
    }
    if (!units_start(u, 0, "<?xml"))
        return true;
    size_t i = 5;
    for (; i < u->n && !units_start(u, i, "?>"); i++)
        if (units_start(u, i, "encoding"))
            break;
    if (i >= u->n || !units_start(u, i, "encoding"))
        return true;
    for (i += 8; unit_at(u, i) == ' ' || unit_at(u, i) == '=' || unit_at(u, i) == '\t'; i++)
        ;
    unsigned long quote = unit_at(u, i);
    size_t o = 0;
    for (i++; quote && unit_at(u, i) && unit_at(u, i) != quote && o + 1 < cap; i++) {
        unsigned long c = unit_at(u, i);
        out[o++] = c < 0x80 ? (char)toupper((int)c) : '?';
    }
    out[o] = '\0';
    return encoding_accepted(out);
}

/* The line of the first element with more than MAX_ATTRS attributes; 0 when none. */
static int crowded_element(units u)
{
    int line = 1;
    for (size_t i = 0; i < u.n;) {
        unsigned long c = unit_at(&u, i);
        if (c != '<') {
            line += c == '\n';
            i++;
        } else if (units_start(&u, i, "<!--")) {
            i = units_skip(&u, i + 4, "-->", &line);
        } else if (units_start(&u, i, "<![CDATA[")) {
            i = units_skip(&u, i + 9, "]]>", &line);
        } else if (units_start(&u, i, "<?")) {
            i = units_skip(&u, i + 2, "?>", &line);
        } else if (units_start(&u, i, "<!")) {
            return 0; /* a DOCTYPE: refused before anything after it is parsed */
        } else {      /* a tag: its '=' outside quoted values */
            int start = line, attrs = 0;
            unsigned long quote = 0;
            for (i++; i < u.n; i++) {
                c = unit_at(&u, i);
                line += c == '\n';
                if (quote) {
                    quote = c == quote ? 0 : quote;
                } else if (c == '"' || c == '\'') {
                    quote = c;
                } else if (c == '=' && ++attrs > MAX_ATTRS) {
                    return start;
                } else if (c == '>') {
                    break;
                }
            }
            i++;
        }
    }
    return 0;
}

static xmlDocPtr parse_xml(ax *x, const char *xml, size_t len)
{
    units u = units_of(xml, len);
    char enc[32];
    if (!declared_encoding(&u, enc, sizeof enc)) {
        char q[80];
        err(x, "",
            "the encoding %s is not accepted: send UTF-8 (or UTF-16, ISO-8859-n, "
            "windows-125n)",
            quoted(enc, q));
        return NULL;
    }
    /* a document that says nothing of its encoding (no BOM, no declared
     * encoding) is in the charset its transport names (RFC 7303): Latin-1
     * text sent as "text/xml; charset=ISO-8859-1" was refused as bad UTF-8 */
    const char *charset = NULL;
    if (x->charset && *x->charset && !*enc && u.width == 1 && u.p == (const unsigned char *)xml) {
        char q[80];
        if (!encoding_accepted(x->charset)) {
            err(x, "",
                "the charset %s is not accepted: send UTF-8 (or UTF-16, ISO-8859-n, "
                "windows-125n)",
                quoted(x->charset, q));
            return NULL;
        }
        charset = x->charset;
    }
    int crowded = crowded_element(u);
    if (crowded) {
        err(x, "", "an element at line %d has more than %d attributes: no ACORD element has",
            crowded, MAX_ATTRS);
        return NULL;
    }
    ik_xml_init();
    xmlParserCtxtPtr c = xmlCreateMemoryParserCtxt(xml, (int)len);
    if (!c) {
        x->oom = true;
        return NULL;
    }
    if (charset) {
        xmlCharEncodingHandlerPtr h = xmlFindCharEncodingHandler(charset);
        if (!h || xmlSwitchToEncoding(c, h) != 0) {
            char q[80];
            err(x, "", "the charset %s cannot be read", quoted(charset, q));
            xmlFreeParserCtxt(c);
            return NULL;
        }
    }
    bool doctype = false;
    c->_private = &doctype;
    xmlCtxtUseOptions(c, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                             XML_PARSE_NOBLANKS | XML_PARSE_NOCDATA);
    c->sax->internalSubset = refuse_subset;
    c->sax->externalSubset = refuse_subset;
    c->sax->entityDecl = refuse_entity;
    xmlParseDocument(c);
    xmlDocPtr d = c->myDoc;
    c->myDoc = NULL;
    if (doctype) {
        err(x, "",
            "a DOCTYPE is not accepted: an ACORD request is plain XML, and entity declarations "
            "(\"billion laughs\", external entities) are refused");
    } else if (!c->wellFormed || !d) {
        const xmlError *e = xmlCtxtGetLastError(c);
        char msg[256] = "not well-formed";
        if (e && e->message) {
            snprintf(msg, sizeof msg, "%s", e->message);
            size_t n = strlen(msg);
            while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
                msg[--n] = '\0';
            /* one line: libxml2 breaks some of its messages in two
             * ("indicate encoding !\nBytes: 0xE9 ...") */
            for (char *p = msg; *p; p++)
                if (*p == '\n')
                    *p = ' ';
        }
        err(x, "", "malformed XML at line %d: %s", e ? e->line : 0, msg);
    }
    if (doctype || !c->wellFormed) {
        xmlFreeDoc(d);
        d = NULL;
    }
    xmlFreeParserCtxt(c);
    return d;
}

/* ---- Pass 2: the schema walk ----------------------------------------------------- */

static bool listed(const char *const *list, const char *name)
{
    for (; list && *list; list++)
        if (strcmp(*list, name) == 0)
            return true;
    return false;
}

static const xs *find_spec(const xs *kids, const char *name)
{
    for (; kids && kids->name; kids++)
        if (strcmp(kids->name, name) == 0)
            return kids;
    return NULL;
}

static bool blank(const xmlChar *s)
{
    for (; s && *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return false;
    return true;
}

/* Whether the errors kept are all taken: a further problem is only counted,
 * without its XPath (whose sibling index costs a scan of the siblings), so
 * that 100,000 unknown elements cost 100,000 steps, not 10^10. */
static bool counted_only(ax *x)
{
    if (x->errs->count < ERRS_KEPT)
        return false;
    x->errs->count++;
    return true;
}

static int repeat_cap(const char *name)
{
    for (size_t i = 0; i < sizeof repeat_caps / sizeof repeat_caps[0]; i++)
        if (strcmp(repeat_caps[i].name, name) == 0)
            return repeat_caps[i].max;
    return REPEAT_CAP;
}

/* Counts one more `c` (the spec kid k) under its parent; false, reported
 * once, when that is more than its cap. */
static bool within_cap(ax *x, const xmlNode *c, const xs *k, int *count)
{
    int max = repeat_cap(k->name);
    if (++*count <= max)
        return true;
    if (*count == max + 1) {
        x->too_many = true;
        if (!counted_only(x))
            err(x, xpath(x, c, NULL), "at most %d %s elements are accepted here", max, k->name);
    }
    return false;
}

/* An amount's currency is USD, as the request's CurCd must be. */
static void check_currency(ax *x, const xmlNode *amt)
{
    xmlNode *cur = kid(amt, "CurCd");
    const char *s = text(x, cur);
    char q[80];
    if (s && strcmp(s, "USD") != 0 && !counted_only(x))
        err(x, xpath(x, cur, NULL), "%s: amounts are US dollars (USD)", quoted(s, q));
}

/* A Limit or Deductible with both FormatInteger and FormatCurrencyAmt says
 * the same amount twice (the first would be used). */
static void check_one_amount(ax *x, const xmlNode *n)
{
    const char *i = text(x, kid(n, "FormatInteger")), *c = text(x, at(n, "FormatCurrencyAmt/Amt"));
    if (!i || !c)
        return;
    char *end1, *end2;
    double a = strtod(i, &end1), b = strtod(c, &end2);
    char q1[80], q2[80];
    if (!*end1 && !*end2 && a != b && !counted_only(x))
        err(x, xpath(x, n, NULL),
            "FormatInteger %s and FormatCurrencyAmt %s differ: give the amount once", quoted(i, q1),
            quoted(c, q2));
}

/* Whether `name`, under InsuranceSvcRq, is another ACORD request message
 * (HomePolicyQuoteInqRq, PersUmbrellaPolicyQuoteInqRq...): a line
 * multiquote takes as JSON only, said so rather than as an unknown element. */
static bool another_message(const xs *spec, const char *name)
{
    size_t n = strlen(name);
    return spec->kids == svc_rq && n > 2 && strcmp(name + n - 2, "Rq") == 0;
}

static void walk(ax *x, const xmlNode *n, const xs *spec)
{
    for (const xmlAttr *a = n->properties; a; a = a->next) {
        if (a->ns) /* xsi:schemaLocation and other namespaced attributes */
            continue;
        if (!listed(spec->attrs, (const char *)a->name) && !counted_only(x)) {
            char suffix[96];
            snprintf(suffix, sizeof suffix, "/@%.80s", (const char *)a->name);
            err(x, xpath(x, n, suffix), "unknown attribute (docs/acord.md lists those accepted)");
        }
    }
    if (spec->flags & X_ANY)
        return;
    int seen[MAX_KIDS] = {0};   /* how many of each kid of spec, by index */
    bool other_message = false; /* then the missing PersAutoPolicyQuoteInqRq goes unsaid */
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            if (spec->kids && !blank(c->content) && !counted_only(x))
                err(x, xpath(x, n, NULL), "text is not allowed here, only elements");
            continue;
        }
        if (c->type != XML_ELEMENT_NODE)
            continue; /* comments, processing instructions */
        const xs *k = find_spec(spec->kids, (const char *)c->name);
        if (!k && another_message(spec, (const char *)c->name)) {
            other_message = true;
            if (!counted_only(x))
                err(x, xpath(x, c, NULL),
                    "only PersAutoPolicyQuoteInqRq (personal auto) is accepted as ACORD; other "
                    "lines are quoted from the contract's JSON (POST /v1/quotes)");
            continue;
        }
        if (!k) {
            if (!counted_only(x))
                err(x, xpath(x, c, NULL),
                    spec->kids ? "unknown element (docs/acord.md lists those accepted)"
                               : "unknown element: its parent holds text only");
            continue;
        }
        int *count = &seen[k - spec->kids];
        if (!(k->flags & X_MANY) && *count) {
            if (!counted_only(x))
                err(x, xpath(x, c, NULL), "may appear only once");
            continue;
        }
        if (!within_cap(x, c, k, count))
            continue;
        walk(x, c, k);
    }
    for (const xs *k = spec->kids; k && k->name; k++)
        if ((k->flags & X_REQ) && !seen[k - spec->kids] && !other_message) {
            char suffix[96];
            snprintf(suffix, sizeof suffix, "/%s", k->name);
            err(x, xpath(x, n, suffix), "is required");
        }
    if (spec->kids == amount)
        check_currency(x, n);
    else if (spec->kids == limit || spec->kids == deductible)
        check_one_amount(x, n);
}

/* ---- Pass 3: mapping --------------------------------------------------------------- */

static void map_applicant(ax *x, json_t *doc)
{
    json_t *ap = new_object(x, doc, "applicant");
    note(x, "applicant", xpath(x, x->insured, NULL));
    if (!ap)
        return;
    xmlNode *gp = kid(x->insured, "GeneralPartyInfo");
    put_text(x, ap, "first_name", gp, "NameInfo/PersonName/GivenName", "applicant.first_name");
    put_text(x, ap, "last_name", gp, "NameInfo/PersonName/Surname", "applicant.last_name");
    put_text(x, ap, "email", gp, "Communications/EmailInfo/EmailAddr", "applicant.email");
    put_text(x, ap, "phone", gp, "Communications/PhoneInfo/PhoneNumber", "applicant.phone");
    put_date(x, ap, "date_of_birth", x->insured, "InsuredOrPrincipalInfo/PersonInfo/BirthDt",
             "applicant.date_of_birth");
    xmlNode *ad = kid(gp, "Addr");
    note(x, "applicant.address", where(x, gp, "Addr"));
    if (ad) {
        json_t *o = new_object(x, ap, "address");
        const char *street = text(x, kid(ad, "Addr1")), *more = text(x, kid(ad, "Addr2"));
        note(x, "applicant.address.street", where(x, ad, "Addr1"));
        if (street && more)
            set(x, o, "street", json_string(jpath(x, "%s, %s", street, more)));
        else if (street || more)
            set(x, o, "street", json_string(street ? street : more));
        put_text(x, o, "city", ad, "City", "applicant.address.city");
        put_text(x, o, "state", ad, "StateProvCd", "applicant.address.state");
        put_zip(x, o, ad, "PostalCode", "applicant.address.zip");
    }
    xmlNode *own = at(x->policy, "PersApplicationInfo/ResidenceOwnedRentedCd");
    note(x, "applicant.homeowner",
         where(x, x->policy, "PersApplicationInfo/ResidenceOwnedRentedCd"));
    const char *owned = code_of(x, own, residences);
    if (owned)
        set(x, ap, "homeowner", json_boolean(strcmp(owned, "true") == 0));
    xmlNode *paperless = kid(x->policy, "com.multiquote_PaperlessInd");
    if (paperless)
        put_ind(x, ap, "paperless", paperless, "applicant.paperless");
    xmlNode *consent = kid(x->insured, "com.multiquote_ContactConsentInd");
    if (consent) {
        json_t *c = new_object(x, ap, "consent");
        note(x, "applicant.consent", xpath(x, consent, NULL));
        put_ind(x, c, "contact", consent, "applicant.consent.contact");
    }
}

static void map_carriers(ax *x, json_t *doc)
{
    json_t *list = NULL;
    int k = 0;
    for (xmlNode *c = x->policy->children; c; c = c->next) {
        if (!named(c, "com.multiquote_CarrierId"))
            continue;
        if (!list) {
            list = json_array();
            set(x, doc, "carriers", list);
            note(x, "carriers", xpath(x, c, NULL));
        }
        const char *id = text(x, c);
        note(x, jpath(x, "carriers[%d]", k++), xpath(x, c, NULL));
        if (list && json_array_append_new(list, id ? json_string(id) : json_null()) != 0)
            x->oom = true;
    }
}

/* An AccidentViolation as drivers[d].incidents[j]. */
static void map_incident(ax *x, json_t *list, xmlNode *av, int d, int j)
{
    json_t *o = json_object();
    if (!o || json_array_append_new(list, o) != 0) {
        x->oom = true;
        return;
    }
    const char *base = jpath(x, "drivers[%d].incidents[%d]", d, j);
    note(x, base, xpath(x, av, NULL));
    put_code(x, o, "type", av, "AccidentViolationCd", incident_codes, jpath(x, "%s.type", base));
    put_date(x, o, "date", av, "AccidentViolationDt", jpath(x, "%s.date", base));
    put_number(x, o, "mph_over", av, "com.multiquote_MphOverLimit", jpath(x, "%s.mph_over", base));
    put_number(x, o, "amount", av, "DamageTotalAmt/Amt", jpath(x, "%s.amount", base));
}

static void map_driver(ax *x, json_t *o, xmlNode *d, int i)
{
    const char *base = jpath(x, "drivers[%d]", i);
    note(x, base, xpath(x, d, NULL));
    const char *id = attr(x, d, "id");
    note(x, jpath(x, "%s.id", base), xpath(x, d, "/@id"));
    set(x, o, "id", json_string(id ? id : jpath(x, "d%d", i + 1)));
    put_text(x, o, "first_name", d, "GeneralPartyInfo/NameInfo/PersonName/GivenName",
             jpath(x, "%s.first_name", base));
    put_text(x, o, "last_name", d, "GeneralPartyInfo/NameInfo/PersonName/Surname",
             jpath(x, "%s.last_name", base));
    put_date(x, o, "date_of_birth", d, "DriverInfo/PersonInfo/BirthDt",
             jpath(x, "%s.date_of_birth", base));
    put_code(x, o, "gender", d, "DriverInfo/PersonInfo/GenderCd", genders,
             jpath(x, "%s.gender", base));
    put_code(x, o, "marital_status", d, "DriverInfo/PersonInfo/MaritalStatusCd", maritals,
             jpath(x, "%s.marital_status", base));
    xmlNode *lic = at(d, "DriverInfo/License");
    note(x, jpath(x, "%s.license", base), where(x, d, "DriverInfo/License"));
    if (lic) {
        json_t *l = new_object(x, o, "license");
        put_text(x, l, "state", lic, "StateProvCd", jpath(x, "%s.license.state", base));
        put_text(x, l, "number", lic, "LicensePermitNumber", jpath(x, "%s.license.number", base));
        put_date(x, l, "first_licensed", lic, "LicensedDt",
                 jpath(x, "%s.license.first_licensed", base));
    }
    put_number(x, o, "student_gpa", d, "PersDriverInfo/com.multiquote_StudentGPA",
               jpath(x, "%s.student_gpa", base));
    json_t *incs = json_array();
    set(x, o, "incidents", incs);
    /* the list is named by this driver's first incident, not the policy's */
    const xmlNode *first = NULL;
    int j = 0;
    for (xmlNode *av = x->policy->children; incs && av; av = av->next) {
        if (!named(av, "AccidentViolation") || !id || !attr_is(av, "DriverRef", id))
            continue;
        if (!first) {
            first = av;
            note(x, jpath(x, "%s.incidents", base), xpath(x, av, NULL));
        }
        map_incident(x, incs, av, i, j++);
    }
    if (!first)
        note(x, jpath(x, "%s.incidents", base), where(x, x->policy, "AccidentViolation"));
}

static bool driver_known(ax *x, const char *id)
{
    for (xmlNode *d = x->line->children; d; d = d->next)
        if (named(d, "PersDriver") && attr_is(d, "id", id))
            return true;
    return false;
}

static void map_drivers(ax *x, json_t *doc)
{
    json_t *list = json_array();
    set(x, doc, "drivers", list);
    note(x, "drivers", where(x, x->line, "PersDriver"));
    int i = 0;
    for (xmlNode *d = x->line->children; list && d; d = d->next) {
        if (!named(d, "PersDriver"))
            continue;
        json_t *o = json_object();
        if (!o || json_array_append_new(list, o) != 0) {
            x->oom = true;
            return;
        }
        map_driver(x, o, d, i++);
    }
    /* every violation must belong to a listed driver */
    for (xmlNode *av = x->policy->children; av; av = av->next) {
        if (!named(av, "AccidentViolation"))
            continue;
        const char *ref = attr(x, av, "DriverRef");
        char q[80];
        if (!ref)
            err(x, xpath(x, av, "/@DriverRef"), "is required: the PersDriver id it belongs to");
        else if (!driver_known(x, ref))
            err(x, xpath(x, av, "/@DriverRef"), "no PersDriver has id %s", quoted(ref, q));
    }
}

/* The value node of a Limit or Deductible: FormatInteger or FormatCurrencyAmt/Amt. */
static xmlNode *amount_node(const xmlNode *n)
{
    xmlNode *v = kid(n, "FormatInteger");
    return v ? v : at(n, "FormatCurrencyAmt/Amt");
}

/* principal_driver: the PersVeh's RatedDriverRef, else the DriverVeh of this
 * vehicle with the highest UsePct (the first on a tie). */
static void map_principal(ax *x, json_t *o, xmlNode *v, const char *vid, const char *json)
{
    const char *rated = attr(x, v, "RatedDriverRef");
    if (rated || !vid) {
        note(x, json, xpath(x, v, "/@RatedDriverRef"));
        if (rated)
            set(x, o, "principal_driver", json_string(rated));
        return;
    }
    xmlNode *best = NULL;
    double best_pct = -1;
    for (xmlNode *dv = x->policy->children; dv; dv = dv->next) {
        if (!named(dv, "DriverVeh") || !attr_is(dv, "VehRef", vid))
            continue;
        double pct = 0;
        xmlNode *use = kid(dv, "UsePct");
        if (use && !number_of(x, use, &pct))
            continue;
        if (pct > best_pct) {
            best = dv;
            best_pct = pct;
        }
    }
    note(x, json, best ? xpath(x, best, "/@DriverRef") : xpath(x, v, "/@RatedDriverRef"));
    const char *driver = best ? attr(x, best, "DriverRef") : NULL;
    if (driver) /* a DriverVeh without DriverRef is reported by check_references */
        set(x, o, "principal_driver", json_string(driver));
}

/* Keeps a garaging Location's state, when it says one, for check_garages. */
static void keep_garage(ax *x, const xmlNode *loc, const char *zip)
{
    xmlNode *st = at(loc, "Addr/StateProvCd");
    const char *state = text(x, st);
    mq_acord *m = x->x;
    if (!state || m->ngarages == MAX_VEH)
        return;
    garage g = {state, mq_arena_strdup(x->a, zip), xpath(x, st, NULL)};
    if (!g.zip)
        x->oom = true;
    else
        m->garages[m->ngarages++] = g;
}

static void map_garaging(ax *x, json_t *o, xmlNode *v, const char *json)
{
    const char *ref = attr(x, v, "LocationRef");
    if (!ref) {
        note(x, json, xpath(x, v, "/@LocationRef"));
        return;
    }
    for (xmlNode *loc = x->q->children; loc; loc = loc->next) {
        if (named(loc, "Location") && attr_is(loc, "id", ref)) {
            json_t *tmp = json_object();
            put_zip(x, tmp, loc, "Addr/PostalCode", json);
            json_t *zip = json_object_get(tmp, "zip");
            if (zip)
                keep_garage(x, loc, json_string_value(zip));
            if (zip)
                set(x, o, "garaging_zip", json_incref(zip));
            else /* not the applicant's ZIP in its place: the sender named a place */
                err(x, where(x, loc, "Addr/PostalCode"), "is required: %s is garaged here",
                    xpath(x, v, NULL));
            json_decref(tmp);
            return;
        }
    }
    char q[80];
    note(x, json, xpath(x, v, "/@LocationRef"));
    err(x, xpath(x, v, "/@LocationRef"), "no Location has id %s", quoted(ref, q));
}

static int liability_index(const char *cd)
{
    for (int k = 0; k < NLIAB; k++)
        if (strcmp(cd, liability[k].acord) == 0)
            return k;
    return -1;
}

/* A liability coverage is rated by its limits, COMP and COLL by their
 * deductible: the other amount, which the contract has no field for, is
 * refused rather than dropped (a PD deductible, a stated-amount COMP limit
 * were quoted as if not written). */
static void check_amount_kind(ax *x, const xmlNode *c, const char *cd, bool liab)
{
    xmlNode *n = kid(c, liab ? "Deductible" : "Limit");
    if (n && liab)
        err(x, xpath(x, n, NULL),
            "%s takes Limits, not a Deductible: multiquote rates no deductible on a liability "
            "coverage",
            cd);
    else if (n)
        err(x, xpath(x, n, NULL),
            "%s takes a Deductible, not a Limit: multiquote rates physical damage by its "
            "deductible only",
            cd);
}

static void map_vehicle_coverages(ax *x, json_t *o, xmlNode *v, int i, const char *base)
{
    json_t *covs = new_object(x, o, "coverages");
    note(x, jpath(x, "%s.coverages", base), xpath(x, v, NULL));
    if (!covs)
        return;
    for (xmlNode *c = v->children; c; c = c->next) {
        if (!named(c, "Coverage"))
            continue;
        const char *cd = text(x, kid(c, "CoverageCd"));
        if (!cd) {
            err(x, xpath(x, c, "/CoverageCd"), "is required");
            continue;
        }
        int k = liability_index(cd);
        if (k >= 0) {
            check_amount_kind(x, c, cd, true);
            if (x->veh_liab[i][k])
                err(x, xpath(x, c, NULL), "coverage %s appears twice on this vehicle", cd);
            else
                x->veh_liab[i][k] = c;
            continue;
        }
        const char *key = strcmp(cd, "COMP") == 0   ? "comp"
                          : strcmp(cd, "COLL") == 0 ? "coll"
                                                    : NULL;
        char q[80];
        if (!key) {
            err(x, xpath(x, kid(c, "CoverageCd"), NULL),
                "coverage %s is not one multiquote rates (BI, PD, MEDPM, UM for the policy; COMP, "
                "COLL per vehicle)",
                quoted(cd, q));
            continue;
        }
        check_amount_kind(x, c, cd, false);
        if (json_object_get(covs, key)) {
            err(x, xpath(x, c, NULL), "coverage %s appears twice on this vehicle", cd);
            continue;
        }
        json_t *d = new_object(x, covs, key);
        const char *json = jpath(x, "%s.coverages.%s", base, key);
        note(x, json, xpath(x, c, NULL));
        xmlNode *ded = kid(c, "Deductible");
        put_number_node(x, d, "deductible", amount_node(ded), jpath(x, "%s.deductible", json),
                        ded ? where(x, ded, "FormatInteger") : xpath(x, c, "/Deductible"));
    }
}

/* The VIN in capitals, as the contract writes it: some agency systems keep
 * what was typed ("1hgcm82633a004352"), and a VIN's letters have one case. */
static void put_vin(ax *x, json_t *o, const xmlNode *v, const char *json)
{
    const char *s = put_text(x, NULL, "vin", v, "VehIdentificationNumber", json);
    char *up = s ? mq_arena_strdup(x->a, s) : NULL;
    if (s && !up)
        x->oom = true;
    for (char *c = up; c && *c; c++)
        *c = (char)toupper((unsigned char)*c);
    if (up)
        set(x, o, "vin", json_string(up));
}

static void map_vehicle(ax *x, json_t *o, xmlNode *v, int i)
{
    const char *base = jpath(x, "vehicles[%d]", i);
    note(x, base, xpath(x, v, NULL));
    const char *id = attr(x, v, "id");
    note(x, jpath(x, "%s.id", base), xpath(x, v, "/@id"));
    set(x, o, "id", json_string(id ? id : jpath(x, "v%d", i + 1)));
    put_vin(x, o, v, jpath(x, "%s.vin", base));
    put_number(x, o, "year", v, "ModelYear", jpath(x, "%s.year", base));
    put_text(x, o, "make", v, "Manufacturer", jpath(x, "%s.make", base));
    put_text(x, o, "model", v, "Model", jpath(x, "%s.model", base));
    put_number(x, o, "symbol", v, "VehSymbolCd", jpath(x, "%s.symbol", base));
    map_principal(x, o, v, id, jpath(x, "%s.principal_driver", base));
    map_garaging(x, o, v, jpath(x, "%s.garaging_zip", base));
    xmlNode *unit = at(v, "EstimatedAnnualDistance/UnitMeasurementCd");
    const char *u = text(x, unit);
    char q[80];
    if (u && strcmp(u, "SMI") != 0)
        err(x, xpath(x, unit, NULL), "%s: the distance must be in statute miles (SMI)",
            quoted(u, q));
    put_number(x, o, "annual_miles", v, "EstimatedAnnualDistance/NumUnits",
               jpath(x, "%s.annual_miles", base));
    put_code(x, o, "use", v, "VehUseCd", uses, jpath(x, "%s.use", base));
    note(x, jpath(x, "%s.anti_theft", base), where(x, v, "AntiTheftDeviceInfo/AntiTheftDeviceCd"));
    bool device = false, any = false;
    for (xmlNode *c = v->children; c; c = c->next) {
        if (!named(c, "AntiTheftDeviceInfo"))
            continue;
        any = true;
        const char *is = code_of(x, kid(c, "AntiTheftDeviceCd"), anti_theft_codes);
        device = device || (is && strcmp(is, "true") == 0);
    }
    if (any)
        set(x, o, "anti_theft", json_boolean(device));
    map_vehicle_coverages(x, o, v, i, base);
}

static void map_vehicles(ax *x, json_t *doc)
{
    json_t *list = json_array();
    set(x, doc, "vehicles", list);
    note(x, "vehicles", where(x, x->line, "PersVeh"));
    for (xmlNode *v = x->line->children; list && v; v = v->next) {
        if (!named(v, "PersVeh"))
            continue;
        if (x->nveh == MAX_VEH) {
            err(x, xpath(x, v, NULL), "at most %d vehicles", MAX_VEH);
            return;
        }
        json_t *o = json_object();
        if (!o || json_array_append_new(list, o) != 0) {
            x->oom = true;
            return;
        }
        x->vehs[x->nveh] = v;
        map_vehicle(x, o, v, x->nveh++);
    }
}

/* A liability Coverage's limits: "per_person/per_accident" or "limit" as text
 * for comparisons, and the values into obj when obj is not NULL. */
static void read_limits(ax *x, xmlNode *cov, int k, json_t *obj, const char *json, char *sig,
                        size_t nsig)
{
    xmlNode *pp = NULL, *pa = NULL, *single = NULL;
    for (xmlNode *l = cov->children; l; l = l->next) {
        if (!named(l, "Limit"))
            continue;
        xmlNode *applies = kid(l, "LimitAppliesToCd");
        const char *to = text(x, applies);
        char q[80];
        if (!liability[k].split) {
            if (single)
                err(x, xpath(x, l, NULL), "%s takes one Limit", liability[k].acord);
            else
                single = l;
        } else if (to && (listed(per_person_codes, to) || listed(per_accident_codes, to))) {
            xmlNode **half = listed(per_person_codes, to) ? &pp : &pa;
            if (*half)
                err(x, xpath(x, l, NULL), "a second %s limit: %s has one, at %s",
                    half == &pp ? "per person" : "per accident", liability[k].acord,
                    xpath(x, *half, NULL));
            else
                *half = l;
        } else if (!to) {
            err(x, xpath(x, l, "/LimitAppliesToCd"),
                "is required for a split limit: PerPerson or PerAcc");
        } else {
            err(x, xpath(x, applies, NULL),
                "%s is not one of PerPerson, BIEachPers, PerAcc, BIEachOcc", quoted(to, q));
        }
    }
    xmlNode *const parts[2] = {liability[k].split ? pp : single, pa};
    const char *const keys[2] = {liability[k].split ? "per_person" : "limit", "per_accident"};
    sig[0] = '\0';
    size_t slen = 0;
    for (int p = 0; p < (liability[k].split ? 2 : 1); p++) {
        xmlNode *val = parts[p] ? amount_node(parts[p]) : NULL;
        double v = NAN;
        /* a missing half is named by its LimitAppliesToCd */
        const char *const missing[2] = {"/Limit[LimitAppliesToCd='PerPerson']/FormatInteger",
                                        "/Limit[LimitAppliesToCd='PerAcc']/FormatInteger"};
        const char *xp =
            val        ? xpath(x, val, NULL)
            : parts[p] ? where(x, parts[p], "FormatInteger")
                       : xpath(x, cov, liability[k].split ? missing[p] : "/Limit/FormatInteger");
        if (obj) {
            put_number_node(x, obj, keys[p], val, jpath(x, "%s.%s", json, keys[p]), xp);
        } else if (val) {
            number_of(x, val, &v);
        }
        if (obj && val) {
            json_t *got = json_object_get(obj, keys[p]);
            v = got ? json_number_value(got) : NAN;
        }
        append(sig, nsig, &slen, "%s%.2f", p ? "/" : "", v);
    }
}

static void map_policy_coverages(ax *x, json_t *doc)
{
    json_t *covs = new_object(x, doc, "coverages");
    note(x, "coverages", where(x, x->line, "Coverage"));
    xmlNode *at_line[NLIAB] = {0};
    for (xmlNode *c = x->line->children; c; c = c->next) {
        if (!named(c, "Coverage"))
            continue;
        const char *cd = text(x, kid(c, "CoverageCd"));
        int k = cd ? liability_index(cd) : -1;
        char q[80];
        if (!cd)
            err(x, xpath(x, c, "/CoverageCd"), "is required");
        else if (k < 0)
            err(x, xpath(x, kid(c, "CoverageCd"), NULL),
                "coverage %s is not a policy coverage multiquote rates (BI, PD, MEDPM, UM; COMP "
                "and COLL go on each PersVeh)",
                quoted(cd, q));
        else if (at_line[k])
            err(x, xpath(x, c, NULL), "coverage %s appears twice", cd);
        else
            at_line[k] = c;
        if (k >= 0)
            check_amount_kind(x, c, cd, true);
    }
    for (int k = 0; k < NLIAB && covs; k++) {
        const char *json = jpath(x, "coverages.%s", liability[k].key);
        xmlNode *chosen = at_line[k];
        for (int i = 0; !chosen && i < x->nveh; i++)
            chosen = x->veh_liab[i][k];
        if (!chosen) { /* named by its code, not as the line's first Coverage */
            char suffix[64];
            snprintf(suffix, sizeof suffix, "/Coverage[CoverageCd='%s']", liability[k].acord);
            note(x, json, xpath(x, x->line, suffix));
            continue;
        }
        note(x, json, xpath(x, chosen, NULL));
        json_t *o = new_object(x, covs, liability[k].key);
        char want[64], got[64];
        read_limits(x, chosen, k, o, json, want, sizeof want);
        /* given on vehicles, it must be the same on every one */
        for (int i = 0; i < x->nveh; i++) {
            xmlNode *c = x->veh_liab[i][k];
            if (!c && !at_line[k]) {
                err(x, xpath(x, x->vehs[i], NULL),
                    "has no %s coverage but %s has: liability coverages apply to the whole "
                    "policy",
                    liability[k].acord, xpath(x, chosen, NULL));
                continue;
            }
            if (!c || c == chosen)
                continue;
            read_limits(x, c, k, NULL, json, got, sizeof got);
            if (strcmp(want, got) != 0)
                err(x, xpath(x, c, NULL),
                    "%s limits differ from those of %s: liability coverages apply to the whole "
                    "policy",
                    liability[k].acord, xpath(x, chosen, NULL));
        }
    }
}

static void check_codes(ax *x)
{
    static const struct {
        const char *rel, *want, *what;
    } fixed[] = {
        {"CurCd", "USD", "amounts are US dollars (USD)"},
        {"PersPolicy/LOBCd", "AUTOP", "the line of business is personal auto (AUTOP)"},
        {"PersAutoLineBusiness/LOBCd", "AUTOP", "the line of business is personal auto (AUTOP)"}};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        xmlNode *n = at(x->q, fixed[i].rel);
        const char *s = text(x, n);
        char q[80];
        if (s && strcmp(s, fixed[i].want) != 0)
            err(x, xpath(x, n, NULL), "%s: %s", quoted(s, q), fixed[i].what);
    }
}

/* Whether a child of `parent` named `name` has id `id`. */
static bool has_id(const xmlNode *parent, const char *name, const char *id)
{
    for (const xmlNode *c = parent->children; c; c = c->next)
        if (named(c, name) && attr_is(c, "id", id))
            return true;
    return false;
}

/* No two `name` children of parent have the same id (the first would be
 * the one referred to). */
static void check_unique_ids(ax *x, const xmlNode *parent, const char *name)
{
    char q[80];
    for (xmlNode *n = parent->children; n; n = n->next) {
        const char *id = named(n, name) ? attr(x, n, "id") : NULL;
        for (xmlNode *e = parent->children; id && e != n; e = e->next)
            if (named(e, name) && attr_is(e, "id", id)) {
                err(x, xpath(x, n, "/@id"), "%s is already the id of %s", quoted(id, q),
                    xpath(x, e, NULL));
                break;
            }
    }
}

/* Every DriverVeh names a PersDriver and a PersVeh (one that names no
 * vehicle would otherwise be dropped, and its driver's share with it), and
 * no two Locations (the first would garage the vehicle), PersDrivers or
 * PersVehs have the same id. */
static void check_references(ax *x)
{
    char q[80];
    for (xmlNode *dv = x->policy->children; dv; dv = dv->next) {
        if (!named(dv, "DriverVeh"))
            continue;
        const char *driver = attr(x, dv, "DriverRef"), *veh = attr(x, dv, "VehRef");
        if (!driver)
            err(x, xpath(x, dv, "/@DriverRef"), "is required: the PersDriver id it describes");
        else if (!has_id(x->line, "PersDriver", driver))
            err(x, xpath(x, dv, "/@DriverRef"), "no PersDriver has id %s", quoted(driver, q));
        if (!veh)
            err(x, xpath(x, dv, "/@VehRef"), "is required: the PersVeh id it describes");
        else if (!has_id(x->line, "PersVeh", veh))
            err(x, xpath(x, dv, "/@VehRef"), "no PersVeh has id %s", quoted(veh, q));
    }
    check_unique_ids(x, x->q, "Location");
    /* the contract would name the first by its JSON path ("also drivers[0]") */
    check_unique_ids(x, x->line, "PersDriver");
    check_unique_ids(x, x->line, "PersVeh");
}

static void map_request(ax *x)
{
    json_t *doc = x->x->doc;
    note(x, "", x->x->root);
    set(x, doc, "line", json_string("auto"));
    note(x, "line", x->x->root);
    check_codes(x);
    put_date(x, doc, "effective_date", x->policy, "ContractTerm/EffectiveDt", "effective_date");
    map_applicant(x, doc);
    map_carriers(x, doc);
    map_drivers(x, doc);
    map_vehicles(x, doc);
    map_policy_coverages(x, doc);
    check_references(x);
}

/* ---- Entry points ------------------------------------------------------------------ */

static mq_acord *fail(ax *x, mq_acord *m)
{
    mq_acord_free(m);
    if (x->oom)
        x->errs->count = 0;
    return NULL;
}

/* The InsuredOrPrincipal that is the applicant: the only one, else the one
 * whose InsuredOrPrincipalRoleCd is Insured (a co-applicant or another
 * party beside it is accepted and not read). NULL, reported, when several
 * are and none or more than one says Insured. */
static xmlNode *applicant_of(ax *x)
{
    xmlNode *only = NULL, *named_insured = NULL;
    int n = 0, marked = 0;
    for (xmlNode *c = x->q ? x->q->children : NULL; c; c = c->next) {
        if (!named(c, "InsuredOrPrincipal"))
            continue;
        n++;
        only = only ? only : c;
        const char *role = text(x, at(c, "InsuredOrPrincipalInfo/InsuredOrPrincipalRoleCd"));
        if (role && strcmp(role, "Insured") == 0 && marked++ == 0)
            named_insured = c;
    }
    if (n <= 1)
        return only;
    if (marked == 1)
        return named_insured;
    err(x, xpath(x, x->q, "/InsuredOrPrincipal"),
        "%d InsuredOrPrincipal elements, %d of them with InsuredOrPrincipalRoleCd Insured: "
        "exactly one, the applicant, must be",
        n, marked);
    return NULL;
}

/* Parses, checks the structure and maps what it can: with unknown elements
 * the known ones are still mapped, so one answer lists every problem.
 * Returns the mapped request (even with errors) when the document had the
 * elements the mapping needs; NULL otherwise. */
static mq_acord *parse_map(ax *x, const char *xml, size_t len)
{
    if (len > MQ_ACORD_MAX_BYTES) {
        err(x, "", "ACORD request is larger than %d bytes", MQ_ACORD_MAX_BYTES);
        return NULL;
    }
    if (len == 0) {
        err(x, "", "malformed XML at line 1: the document is empty");
        return NULL;
    }
    mq_acord *m = mq_arena_alloc(x->a, sizeof *m);
    if (!m)
        return fail(x, NULL);
    m->a = x->a;
    x->x = m;
    xmlDocPtr d = parse_xml(x, xml, len);
    if (!d)
        return fail(x, m);
    xmlNode *root = xmlDocGetRootElement(d);
    if (!named(root, "ACORD"))
        err(x, xpath(x, root, NULL), "the root element must be ACORD");
    else
        walk(x, root, &acord_root);
    xmlNode *svc = kid(root, "InsuranceSvcRq");
    x->q = named(root, "ACORD") ? kid(svc, "PersAutoPolicyQuoteInqRq") : NULL;
    x->policy = kid(x->q, "PersPolicy");
    x->line = kid(x->q, "PersAutoLineBusiness");
    x->insured = applicant_of(x);
    bool mappable =
        x->policy && x->line && kid(x->insured, "GeneralPartyInfo") && !x->oom && !x->too_many;
    if (mappable) {
        m->root = xpath(x, x->q, NULL);
        /* each level of the answer echoes its own request's RqUID */
        const char *rquid = text(x, kid(x->q, "RqUID")), *svc_rquid = text(x, kid(svc, "RqUID"));
        m->rquid = rquid ? rquid : svc_rquid ? svc_rquid : "";
        m->svc_rquid = svc_rquid ? svc_rquid : m->rquid;
        if (root->ns && root->ns->href &&
            !(m->ns = mq_arena_strdup(x->a, (const char *)root->ns->href)))
            x->oom = true;
        m->doc = json_object();
        if (!m->doc)
            x->oom = true;
        else
            map_request(x);
    }
    xmlFreeDoc(d);
    if (x->oom || !mappable)
        return fail(x, m);
    return m;
}

mq_acord *mq_acord_parse(const char *xml, size_t len, mq_arena *a, mq_req_errors *errs)
{
    ax x = {.a = a, .errs = errs};
    errs->count = 0;
    mq_acord *m = parse_map(&x, xml, len);
    if (m && errs->count > 0)
        return fail(&x, m);
    return m;
}

json_t *mq_acord_json(const mq_acord *x)
{
    return x ? x->doc : NULL;
}

const char *mq_acord_ns(const mq_acord *x)
{
    return x ? x->ns : NULL;
}

const char *mq_acord_rquid(const mq_acord *x)
{
    return x && x->rquid ? x->rquid : "";
}

const char *mq_acord_svc_rquid(const mq_acord *x)
{
    return x && x->svc_rquid ? x->svc_rquid : "";
}

void mq_acord_xpaths(const mq_acord *x, mq_req_errors *errs, mq_arena *a)
{
    int shown = errs->count < (int)(sizeof errs->items / sizeof errs->items[0])
                    ? errs->count
                    : (int)(sizeof errs->items / sizeof errs->items[0]);
    for (int i = 0; i < shown; i++) {
        mq_req_error *e = &errs->items[i];
        const char *p = e->path ? e->path : "";
        if (*p == '/')
            continue; /* already an XPath */
        const pmap *best = NULL;
        size_t best_len = 0;
        for (int k = 0; k < x->nmap; k++) {
            size_t n = strlen(x->map[k].json);
            if (strncmp(p, x->map[k].json, n) != 0 || (p[n] && p[n] != '.' && p[n] != '[' && n > 0))
                continue;
            if (!best || n > best_len) {
                best = &x->map[k];
                best_len = n;
            }
        }
        const char *xp = best ? best->xpath : x->root;
        if (p[best_len]) { /* deeper than the map: keep the contract's path in the message */
            const char *msg = mq_arena_printf(a, "%s: %s", p, e->message);
            if (msg)
                e->message = msg;
        }
        e->path = xp;
    }
}

void mq_acord_free(mq_acord *x)
{
    if (x) {
        json_decref(x->doc);
        x->doc = NULL;
    }
}

/* Whether an error already names this XPath (the mapper said why). */
static bool reported(const mq_req_errors *errs, int upto, const char *path)
{
    for (int i = 0; i < upto; i++)
        if (strcmp(errs->items[i].path, path) == 0)
            return true;
    return false;
}

/* Each garaging Location's StateProvCd is a state, the one of its ZIP code
 * (as the applicant's address must be): a vehicle is rated by its ZIP, so
 * a ZIP mistyped into another state would price another place unsaid. */
static void check_garages(const mq_intake *ik, const mq_acord *x, mq_arena *a, mq_req_errors *errs)
{
    for (int i = 0; i < x->ngarages; i++) {
        const garage *g = &x->garages[i];
        int said = mq_symbol_find(MQ_DOM_STATE, g->state), in = mq_state_of_zip(ik, g->zip);
        char q[80];
        if (said < 0)
            ik_err(errs, a, g->xpath, "%s is not a US state code", quoted(g->state, q));
        else if (in >= 0 && in != said)
            ik_err(errs, a, g->xpath, "ZIP code %s is in %s, but the Location is in %s", g->zip,
                   mq_state_name(ik, in), mq_state_name(ik, said));
    }
}

mq_acord *mq_acord_request(const mq_intake *ik, const char *xml, size_t len, mq_arena *a,
                           mq_input *in, mq_req_errors *errs)
{
    return mq_acord_request_in(ik, xml, len, NULL, a, in, errs);
}

mq_acord *mq_acord_request_in(const mq_intake *ik, const char *xml, size_t len, const char *charset,
                              mq_arena *a, mq_input *in, mq_req_errors *errs)
{
    enum { KEPT = (int)(sizeof errs->items / sizeof errs->items[0]) };
    ax ctx = {.a = a, .errs = errs, .charset = charset};
    errs->count = 0;
    mq_acord *x = parse_map(&ctx, xml, len);
    if (!x)
        return NULL;
    mq_req_errors contract = {0};
    bool ok = mq_req_from_json(x->doc, a, in, &contract);
    if (ok && ik && errs->count == 0) {
        ok = mq_intake_check(ik, x->doc, a, &contract);
        check_garages(ik, x, a, errs);
    }
    if (!ok && contract.count == 0) { /* out of memory */
        errs->count = 0;
        mq_acord_free(x);
        return NULL;
    }
    mq_acord_xpaths(x, &contract, a);
    int mapped = errs->count < KEPT ? errs->count : KEPT;
    int shown = contract.count < KEPT ? contract.count : KEPT;
    for (int i = 0; i < shown; i++) {
        if (reported(errs, mapped, contract.items[i].path))
            continue;
        if (errs->count < KEPT)
            errs->items[errs->count] = contract.items[i];
        errs->count++;
    }
    errs->count += contract.count - shown;
    if (errs->count == 0)
        return x;
    mq_acord_free(x);
    return NULL;
}
