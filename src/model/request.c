/* request.c -- a quote request (contract.md JSON) checked and flattened into an mq_input.
 *
 * One walk over the JSON tree both validates and fills: the line is read
 * first, the entity counts are taken from the array sizes, the mq_input is
 * allocated, and each field is checked and written into its row as it is
 * read. A `req` context carries the JSON path of the object being read, so
 * every problem is recorded with its path ("drivers[1].incidents[0].date")
 * and the walk goes on, collecting up to 32 problems instead of stopping at
 * the first. Strings kept (ids, carriers) are copied into the arena, so the
 * tree may be freed afterwards. This file holds the reading toolkit, the
 * envelope common to every line and the auto line; the other lines are in
 * request_property.c, request_life.c and request_health.c (rq_line tables).
 */
#include "request_internal.h"
#include "jsontext.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

enum {
    MAX_DRIVERS = 20,
    MAX_VEHICLES = 20,
    MAX_INCIDENTS = 100,  /* per driver */
    MIN_LICENSE_AGE = 14, /* the youngest age any US state issues a licence or permit at */
};

/* Every line keeps the envelope's first three facts in auto's slots. */
#define SAME_SLOTS(P)                                                                              \
    ((int)P##_EFFECTIVE_DATE == (int)MQ_AP_EFFECTIVE_DATE && (int)P##_STATE == (int)MQ_AP_STATE && \
     (int)P##_ZIP == (int)MQ_AP_ZIP)
_Static_assert(SAME_SLOTS(MQ_HP) && SAME_SLOTS(MQ_LP) && SAME_SLOTS(MQ_XP),
               "every policy row starts with effective_date, state, zip");

static const char *const top_keys[] = {"line",    "effective_date", "applicant", "carriers",
                                       "drivers", "vehicles",       "coverages", NULL};
const char *const rq_applicant_keys[] = {"first_name",    "last_name", "email",     "phone",
                                         "date_of_birth", "address",   "homeowner", "paperless",
                                         "consent",       NULL};
const char *const rq_address_keys[] = {"street", "city", "state", "zip", NULL};
static const char *const consent_keys[] = {"contact", NULL};
static const char *const driver_keys[] = {"id",        "first_name",
                                          "last_name", "date_of_birth",
                                          "gender",    "marital_status",
                                          "license",   "student_gpa",
                                          "incidents", NULL};
static const char *const license_keys[] = {"state", "number", "first_licensed", NULL};
static const char *const incident_keys[] = {"type", "date", "mph_over", "amount", NULL};
static const char *const vehicle_keys[] = {
    "id",           "vin",          "year", "make",       "model",     "symbol", "principal_driver",
    "garaging_zip", "annual_miles", "use",  "anti_theft", "coverages", NULL};
static const char *const vehicle_cov_keys[] = {"comp", "coll", NULL};
static const char *const deductible_keys[] = {"deductible", NULL};
static const char *const policy_cov_keys[] = {"bi", "pd", "med", "um", NULL};
static const char *const split_keys[] = {"per_person", "per_accident", NULL};
static const char *const limit_keys[] = {"limit", NULL};

/* ---- Paths and errors ------------------------------------------------ */

/* Appends text to the path, cut at MAX_PATH (this runs for every object of
 * every request, so it avoids printf). */
static size_t path_append(req *r, const char *sep, const char *text, size_t n)
{
    size_t at = r->plen;
    size_t room = MAX_PATH - 1 - r->plen;
    size_t ns = strlen(sep);
    if (ns > room)
        ns = room;
    memcpy(r->path + r->plen, sep, ns);
    r->plen += ns;
    room -= ns;
    if (n > room)
        n = room;
    memcpy(r->path + r->plen, text, n);
    r->plen += n;
    r->path[r->plen] = '\0';
    return at;
}

size_t rq_path_enter(req *r, const char *key)
{
    return path_append(r, r->plen ? "." : "", key, strlen(key));
}

size_t rq_path_index(req *r, size_t i)
{
    char digits[24];
    size_t n = 0;
    digits[n++] = '[';
    char rev[20];
    size_t k = 0;
    do
        rev[k++] = (char)('0' + i % 10);
    while ((i /= 10) && k < sizeof rev);
    while (k)
        digits[n++] = rev[--k];
    digits[n++] = ']';
    return path_append(r, "", digits, n);
}

void rq_path_pop(req *r, size_t at)
{
    r->plen = at;
    r->path[at] = '\0';
}

void rq_err_at(req *r, const char *key, const char *fmt, ...)
{
    mq_req_errors *e = r->errs;
    if (e->count++ >= MAX_ERRORS || r->oom)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    mq_req_error *it = &e->items[e->count - 1];
    if (!key)
        it->path = mq_arena_strdup(r->a, r->path);
    else
        it->path = mq_arena_printf(r->a, "%s%s%.64s", r->path, r->plen ? "." : "", key);
    it->message = mq_arena_strdup(r->a, msg);
    if (!it->path || !it->message)
        r->oom = true;
}

/* Cut on a UTF-8 character boundary, or, in text that is not UTF-8 (a CSV
 * book's cell: a run of continuation bytes has no boundary), a few bytes
 * later: at most 64 + 3 bytes of `s`, each at most 6 escaped, then "...\"". */
const char *mq_req_quoted(const char *s, char out[160])
{
    size_t o = 0;
    out[o++] = '"';
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (o >= 64 && ((c & 0xC0) != 0x80 || o >= 64 + 3)) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20) {
            o += (size_t)snprintf(out + o, 7, "\\u%04x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o++] = '"';
    out[o] = '\0';
    return out;
}

const char *rq_type_name(const json_t *v)
{
    if (!v)
        return "nothing";
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

void rq_err_type(req *r, const char *key, const char *want, const json_t *v)
{
    rq_err_at(r, key, "expected %s, got %s", want, rq_type_name(v));
}

/* ---- Typed field readers (see request_internal.h) ----------------- */

json_t *rq_member(req *r, const json_t *obj, const char *key, bool required)
{
    json_t *v = json_object_get(obj, key);
    if (v && !json_is_null(v))
        return v;
    if (required)
        rq_err_at(r, key, "is required");
    return NULL;
}

/* Characters of UTF-8 text (jansson's strings are valid UTF-8): its bytes
 * that do not continue a character. */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* A string member of at most MAX_TEXT characters: no name, street or
 * email is longer, and every saved quote keeps its request (a 1 MiB
 * first_name was stored, from anyone, at the rate limit's pace). */
const char *rq_get_string(req *r, const json_t *obj, const char *key, bool required)
{
    json_t *v = rq_member(r, obj, key, required);
    if (v && !json_is_string(v)) {
        rq_err_type(r, key, "a string", v);
        return NULL;
    }
    const char *s = v ? json_string_value(v) : NULL;
    if (s && json_string_length(v) > MAX_TEXT && utf8_chars(s) > MAX_TEXT) {
        rq_err_at(r, key, "is longer than %d characters", MAX_TEXT);
        return NULL;
    }
    return s;
}

/* A short identifier (ids, carrier ids), copied into the arena: 1 to
 * MAX_ID characters, as the contract's maxLength counts them. */
static const char *copy_id(req *r, const char *key, const char *s)
{
    size_t n = utf8_chars(s);
    if (n == 0 || n > MAX_ID) {
        rq_err_at(r, key, "must be 1 to %d characters", MAX_ID);
        return NULL;
    }
    const char *c = mq_arena_strdup(r->a, s);
    if (!c)
        r->oom = true;
    return c;
}

bool rq_get_bool(req *r, const json_t *obj, const char *key, bool required, double *out)
{
    json_t *v = rq_member(r, obj, key, required);
    if (v && !json_is_boolean(v)) {
        rq_err_type(r, key, "true or false", v);
        return false;
    }
    if (v)
        *out = json_is_true(v) ? 1 : 0;
    return v != NULL;
}

bool rq_get_date(req *r, const json_t *obj, const char *key, bool required, int32_t *out)
{
    const char *s = rq_get_string(r, obj, key, required);
    char q[160];
    if (!s)
        return false;
    if (!mq_date_parse(s, out)) {
        /* a day the calendar lacks ("2026-02-30") says it all quoted */
        const char *why = mq_date_problem(s);
        bool no_day = strcmp(why, "no such day") == 0;
        rq_err_at(r, key, "not a valid date %s%s%s", mq_req_quoted(s, q), no_day ? "" : ": ",
                  no_day ? "" : why);
        return false;
    }
    return true;
}

bool rq_get_past_date(req *r, const json_t *obj, const char *key, bool required, int32_t *out)
{
    if (!rq_get_date(r, obj, key, required, out))
        return false;
    if (r->has_eff && *out > r->eff) {
        char eff[11];
        mq_date_format(r->eff, eff);
        rq_err_at(r, key, "is after the effective date %s", eff);
        return false;
    }
    return true;
}

bool rq_get_birth_date(req *r, const json_t *obj, const char *key, bool required, int32_t *out)
{
    if (!rq_get_past_date(r, obj, key, required, out))
        return false;
    int age = r->has_eff ? mq_date_age(*out, r->eff) : 0;
    if (age > MAX_AGE) {
        rq_err_at(r, key, "a person born then is %d on the effective date; at most %d is plausible",
                  age, MAX_AGE);
        return false;
    }
    return true;
}

bool rq_get_enum(req *r, const json_t *obj, const char *key, bool required, mq_domain d,
                 double *out)
{
    json_t *v = rq_member(r, obj, key, required);
    return v && rq_enum_value(r, key, v, d, out);
}

bool rq_enum_value(req *r, const char *key, const json_t *v, mq_domain d, double *out)
{
    if (!json_is_string(v)) {
        rq_err_type(r, key, "a string", v);
        return false;
    }
    const char *s = json_string_value(v);
    int code = mq_symbol_find(d, s);
    char q[160];
    if (code >= 0) {
        *out = code;
        return true;
    }
    if (d == MQ_DOM_STATE) {
        rq_err_at(r, key, "not a US state code %s", mq_req_quoted(s, q));
        return false;
    }
    char list[256] = "";
    for (int i = 0; i < mq_symbol_count(d); i++) {
        size_t n = strlen(list);
        snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", mq_symbol_name(d, i));
    }
    rq_err_at(r, key, "%s is not one of %s", mq_req_quoted(s, q), list);
    return false;
}

bool rq_get_zip(req *r, const json_t *obj, const char *key, bool required, double *out)
{
    json_t *v = rq_member(r, obj, key, required);
    if (!v)
        return false;
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    bool ok = s && strlen(s) == 5 && strspn(s, "0123456789") == 5;
    char q[160];
    if (!ok) {
        if (s)
            rq_err_at(r, key, "not a 5-digit ZIP code %s", mq_req_quoted(s, q));
        else
            rq_err_type(r, key, "a 5-digit ZIP code string", v);
        return false;
    }
    *out = (double)((s[0] - '0') * 10000 + (s[1] - '0') * 1000 + (s[2] - '0') * 100 +
                    (s[3] - '0') * 10 + (s[4] - '0'));
    return true;
}

static void number_text(const json_t *v, char out[40])
{
    if (json_is_integer(v)) {
        snprintf(out, 40, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return;
    }
    /* %.15g would show 5000.000000000001 as "5000", in a message saying
     * it is not whole */
    mq_json_shortest(out, 40, json_real_value(v));
}

/* Every comparison is made on the double, so no out-of-range value is ever
 * converted to an integer type (1e308, 2^63-1 and the like get a message). */
bool rq_get_number(req *r, const json_t *obj, const char *key, bool required, num_rule rule,
                   double *out)
{
    json_t *v = rq_member(r, obj, key, required);
    if (!v)
        return false;
    if (!json_is_number(v)) {
        rq_err_type(r, key, "a number", v);
        return false;
    }
    double x = json_number_value(v);
    bool bad = !(x >= rule.lo && x <= rule.hi) || (rule.whole && x != floor(x)) ||
               (rule.cents && fabs(x * 100 - round(x * 100)) > 1e-4);
    if (!bad) {
        *out = x;
        return true;
    }
    char got[40]; /* formatted only for a message */
    number_text(v, got);
    if (!(x >= rule.lo && x <= rule.hi)) {
        rq_err_at(r, key, "must be from %.15g to %.15g, got %s", rule.lo, rule.hi, got);
        return false;
    }
    if (rule.whole && x != floor(x)) {
        rq_err_at(r, key, "expected a whole number, got %s", got);
        return false;
    }
    if (rule.cents && fabs(x * 100 - round(x * 100)) > 1e-4) {
        rq_err_at(r, key, "expected at most two decimals, got %s", got);
        return false;
    }
    *out = x;
    return true;
}

static bool is_listed(const char *const *list, const char *key)
{
    for (; *list; list++) /* the first letter spares most calls */
        if ((*list)[0] == key[0] && strcmp(*list, key) == 0)
            return true;
    return false;
}

void rq_check_keys(req *r, const json_t *obj, const char *const *allowed, const char *unknown)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        if (strcmp(key, "extra") == 0) {
            if (!json_is_object(v))
                rq_err_type(r, key, "an object", v);
        } else if (!is_listed(allowed, key)) {
            rq_err_at(r, key, "%s", unknown);
        }
    }
}

json_t *rq_get_object(req *r, const json_t *obj, const char *key, bool required,
                      const char *const *allowed)
{
    json_t *v = rq_member(r, obj, key, required);
    if (v && !json_is_object(v)) {
        rq_err_type(r, key, "an object", v);
        return NULL;
    }
    if (v) {
        size_t at = rq_path_enter(r, key);
        rq_check_keys(r, v, allowed, "unknown field");
        rq_path_pop(r, at);
    }
    return v;
}

int rq_list_size(const json_t *v, size_t lo, size_t hi)
{
    if (!json_is_array(v) || json_array_size(v) < lo || json_array_size(v) > hi)
        return -1;
    return (int)json_array_size(v);
}

int rq_get_list(req *r, const json_t *obj, const char *key, bool required, size_t lo, size_t hi,
                const char *what)
{
    json_t *v = rq_member(r, obj, key, required);
    if (!v)
        return -1;
    if (!json_is_array(v)) {
        rq_err_type(r, key, "an array", v);
        return -1;
    }
    int n = rq_list_size(v, lo, hi);
    if (n < 0)
        rq_err_at(r, key, "must list %zu to %zu %s, got %zu", lo, hi, what, json_array_size(v));
    return n;
}

/* ---- Sections of the request ---------------------------------------- */

static void parse_effective_date(req *r, const json_t *doc)
{
    r->has_eff = rq_get_date(r, doc, "effective_date", true, &r->eff);
    int m, d;
    if (r->has_eff)
        mq_date_to_ymd(r->eff, &r->eff_year, &m, &d);
    mq_input_row(r->in, MQ_ENT_POLICY, 0)[MQ_AP_EFFECTIVE_DATE] = r->has_eff ? r->eff : NAN;
    r->in->effective_date = r->has_eff ? r->eff : 0;
}

static void parse_address(req *r, const json_t *applicant, double *pol)
{
    json_t *addr = rq_get_object(r, applicant, "address", true, r->line->address_keys);
    if (!addr)
        return;
    size_t at = rq_path_enter(r, "address");
    rq_get_string(r, addr, "street", false);
    rq_get_string(r, addr, "city", false);
    if (rq_get_enum(r, addr, "state", true, MQ_DOM_STATE, &pol[MQ_AP_STATE]))
        r->in->state = (int)pol[MQ_AP_STATE];
    if (rq_get_zip(r, addr, "zip", true, &pol[MQ_AP_ZIP]))
        r->zip = pol[MQ_AP_ZIP];
    if (r->line->address)
        r->line->address(r, addr, pol);
    rq_path_pop(r, at);
}

/* Reads optional bool `key` into pol[slot] (default false); checks it only when slot is -1. */
static void get_flag(req *r, const json_t *ap, const char *key, double *pol, int slot)
{
    double ignored;
    rq_get_bool(r, ap, key, false, slot >= 0 ? &pol[slot] : &ignored);
}

/* Contact details are optional, but when given they are what an agent
 * calls or writes to (multiquote leads), and what screens other than ours
 * show: an address or number that cannot be one ("<img src=x ...>", "not a
 * phone") is refused at its path, without echoing it. Checked loosely: an
 * email is local@domain.tld, with no spaces, controls, backslash or any of <>()[],;:"
 * and one @; a phone number is 7 to 15 digits (E.164's most) among spaces
 * and + - . ( ), then perhaps an extension ("x12", "ext. 12", "#12"). */
static bool looks_like_email(const char *text)
{
    /* spaces around it are a form's (a phone's keyboard adds one after a
     * word), and forget and leads take them off too */
    char s[MAX_TEXT * 4 + 1];
    size_t n = strlen(text);
    while (n && text[n - 1] == ' ')
        n--;
    while (n && *text == ' ')
        text++, n--;
    if (n >= sizeof s)
        return false;
    memcpy(s, text, n);
    s[n] = '\0';
    const char *at = strchr(s, '@');
    if (!at || at == s || strchr(at + 1, '@'))
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p == 0x7f || strchr("<>()[]\\,;:\"", *p))
            return false;
    const char *dot = strrchr(at + 1, '.');
    return dot && dot > at + 1 && dot[1] && at[1] != '.';
}

static bool looks_like_phone(const char *s)
{
    int digits = 0;
    const char *p = s;
    for (; *p && strchr("0123456789 +-.()", *p); p++) /* spaces around it included */
        digits += isdigit((unsigned char)*p) != 0;
    if (digits < 7 || digits > 15)
        return false;
    if (!*p)
        return true;
    /* an extension: "x", "ext", "ext." or "#", then digits */
    if (strncasecmp(p, "ext", 3) == 0)
        p += 3 + (p[3] == '.');
    else if (*p == 'x' || *p == 'X' || *p == '#')
        p++;
    else
        return false;
    while (*p == ' ')
        p++;
    if (!isdigit((unsigned char)*p))
        return false;
    while (isdigit((unsigned char)*p))
        p++;
    while (*p == ' ')
        p++;
    return *p == '\0';
}

static void parse_applicant(req *r, const json_t *doc)
{
    const rq_line *l = r->line;
    json_t *ap = rq_get_object(r, doc, "applicant", true, l->applicant_keys);
    double *pol = mq_input_row(r->in, MQ_ENT_POLICY, 0);
    if (l->homeowner_slot >= 0)
        pol[l->homeowner_slot] = 0;
    if (l->paperless_slot >= 0)
        pol[l->paperless_slot] = 0;
    if (!ap)
        return;
    size_t at = rq_path_enter(r, "applicant");
    rq_get_string(r, ap, "first_name", false);
    rq_get_string(r, ap, "last_name", false);
    const char *email = rq_get_string(r, ap, "email", false);
    if (email && *email && !looks_like_email(email))
        rq_err_at(r, "email", "is not an email address (like name@example.com)");
    const char *phone = rq_get_string(r, ap, "phone", false);
    if (phone && *phone && !looks_like_phone(phone))
        rq_err_at(r, "phone",
                  "is not a phone number (7 to 15 digits, with spaces, + - . ( ) and an "
                  "extension like x12 if any)");
    int32_t dob;
    if (rq_get_birth_date(r, ap, "date_of_birth", l->dob_required, &dob) && l->dob_slot >= 0)
        pol[l->dob_slot] = dob;
    parse_address(r, ap, pol);
    get_flag(r, ap, "homeowner", pol, l->homeowner_slot);
    get_flag(r, ap, "paperless", pol, l->paperless_slot);
    json_t *consent = rq_get_object(r, ap, "consent", false, consent_keys);
    if (consent) {
        size_t c = rq_path_enter(r, "consent");
        double contact;
        rq_get_bool(r, consent, "contact", false, &contact);
        rq_path_pop(r, c);
    }
    if (l->applicant)
        l->applicant(r, ap, pol);
    rq_path_pop(r, at);
}

static void parse_carriers(req *r, const json_t *doc)
{
    int n = rq_get_list(r, doc, "carriers", false, 1, MAX_CARRIERS, "carriers");
    if (n <= 0)
        return;
    json_t *list = json_object_get(doc, "carriers");
    const char **ids = mq_arena_alloc(r->a, (size_t)n * sizeof *ids);
    if (!ids) {
        r->oom = true;
        return;
    }
    size_t at = rq_path_enter(r, "carriers");
    for (int i = 0; i < n; i++) {
        json_t *v = json_array_get(list, (size_t)i);
        size_t e = rq_path_index(r, (size_t)i);
        if (!json_is_string(v))
            rq_err_type(r, NULL, "a carrier id string", v);
        else
            ids[i] = copy_id(r, NULL, json_string_value(v));
        rq_path_pop(r, e);
    }
    rq_path_pop(r, at);
    r->in->carriers = ids;
    r->in->ncarriers = n;
}

void rq_check_unique(req *r, const char **ids, int i, const char *kind)
{
    for (int j = 0; j < i; j++)
        if (ids[j] && ids[i] && strcmp(ids[j], ids[i]) == 0) {
            char q[160];
            rq_err_at(r, "id", "duplicate id %s (also %s[%d])", mq_req_quoted(ids[i], q), kind, j);
            return;
        }
}

const char *rq_get_id(req *r, const json_t *obj)
{
    const char *s = rq_get_string(r, obj, "id", true);
    return s ? copy_id(r, "id", s) : NULL;
}

/* One incident of a driver born on day `born` (NAN: not known). */
static void parse_incident(req *r, const json_t *inc, double born, double *row)
{
    rq_check_keys(r, inc, incident_keys, "unknown field");
    bool typed = rq_get_enum(r, inc, "type", true, MQ_DOM_INCIDENT, &row[MQ_AI_TYPE]);
    int32_t day;
    if (rq_get_past_date(r, inc, "date", true, &day)) {
        if (day < born) /* false for NAN */
            rq_err_at(r, "date", "is before the driver's date of birth");
        else
            row[MQ_AI_DATE] = day;
    }
    bool speeding = typed && (int)row[MQ_AI_TYPE] == mq_symbol_find(MQ_DOM_INCIDENT, "speeding");
    rq_get_number(r, inc, "mph_over", speeding, (num_rule){1, 200, true, false},
                  &row[MQ_AI_MPH_OVER]);
    rq_get_number(r, inc, "amount", false, (num_rule){0, MAX_AMOUNT, false, true},
                  &row[MQ_AI_AMOUNT]);
}

/* Incidents of driver d, stored from index `first`; returns how many. */
static int32_t parse_incidents(req *r, const json_t *drv, int d, int32_t first)
{
    int n = rq_get_list(r, drv, "incidents", false, 0, MAX_INCIDENTS, "incidents");
    json_t *list = json_object_get(drv, "incidents");
    size_t at = rq_path_enter(r, "incidents");
    for (int j = 0; j < n; j++) {
        json_t *inc = json_array_get(list, (size_t)j);
        int32_t k = first + j;
        char id[64], driver[32];
        mq_json_path(driver, sizeof driver, "drivers", (unsigned)d, ".incidents");
        r->in->ids[MQ_ENT_INCIDENT][k] =
            mq_arena_strdup(r->a, mq_json_path(id, sizeof id, driver, (unsigned)j, ""));
        if (!r->in->ids[MQ_ENT_INCIDENT][k])
            r->oom = true;
        size_t e = rq_path_index(r, (size_t)j);
        if (json_is_object(inc))
            parse_incident(r, inc, mq_input_row(r->in, MQ_ENT_DRIVER, d)[MQ_AD_DATE_OF_BIRTH],
                           mq_input_row(r->in, MQ_ENT_INCIDENT, k));
        else
            rq_err_type(r, NULL, "an object", inc);
        rq_path_pop(r, e);
    }
    rq_path_pop(r, at);
    return n > 0 ? n : 0;
}

/* license.first_licensed: a day the driver already held a licence on the
 * effective date (a later one would rate someone not yet licensed: years
 * licensed below 0, or a "licensed under 12 months" decline for the wrong
 * reason), at or after the driver's MIN_LICENSE_AGE-th birthday (an earlier
 * one, such as the date of birth typed again, would rate decades of
 * experience that no one has). */
static void parse_first_licensed(req *r, const json_t *lic, double *row, bool has_dob)
{
    int32_t first;
    if (!rq_get_past_date(r, lic, "first_licensed", true, &first))
        return;
    if (!has_dob) {
        row[MQ_AD_FIRST_LICENSED] = first;
        return;
    }
    int32_t dob = (int32_t)row[MQ_AD_DATE_OF_BIRTH];
    if (first < dob) {
        rq_err_at(r, "first_licensed", "is before the date of birth");
        return;
    }
    int age = mq_date_age(dob, first);
    if (age < MIN_LICENSE_AGE) {
        rq_err_at(r, "first_licensed",
                  "the driver was %d then; no US state licenses a driver under %d", age,
                  MIN_LICENSE_AGE);
        return;
    }
    row[MQ_AD_FIRST_LICENSED] = first;
}

static void parse_license(req *r, const json_t *drv, double *row, bool has_dob)
{
    json_t *lic = rq_get_object(r, drv, "license", true, license_keys);
    if (!lic)
        return;
    size_t at = rq_path_enter(r, "license");
    rq_get_enum(r, lic, "state", false, MQ_DOM_STATE, &row[MQ_AD_LICENSE_STATE]);
    rq_get_string(r, lic, "number", false);
    parse_first_licensed(r, lic, row, has_dob);
    rq_path_pop(r, at);
}

static void parse_driver(req *r, const json_t *drv, int d)
{
    double *row = mq_input_row(r->in, MQ_ENT_DRIVER, d);
    const char **ids = r->in->ids[MQ_ENT_DRIVER];
    rq_check_keys(r, drv, driver_keys, "unknown field");
    ids[d] = rq_get_id(r, drv);
    if (!ids[d])
        r->drivers_ok = false; /* its vehicles' principal_driver cannot be checked */
    rq_check_unique(r, ids, d, "drivers");
    rq_get_string(r, drv, "first_name", false);
    rq_get_string(r, drv, "last_name", false);
    int32_t dob;
    bool has_dob = rq_get_birth_date(r, drv, "date_of_birth", true, &dob);
    if (has_dob)
        row[MQ_AD_DATE_OF_BIRTH] = dob;
    rq_get_enum(r, drv, "gender", true, MQ_DOM_GENDER, &row[MQ_AD_GENDER]);
    rq_get_enum(r, drv, "marital_status", true, MQ_DOM_MARITAL, &row[MQ_AD_MARITAL]);
    parse_license(r, drv, row, has_dob);
    rq_get_number(r, drv, "student_gpa", false, (num_rule){0, 4, false, false},
                  &row[MQ_AD_STUDENT_GPA]);
}

static void parse_drivers(req *r, const json_t *doc)
{
    int n = rq_get_list(r, doc, "drivers", true, 1, MAX_DRIVERS, "drivers");
    json_t *list = json_object_get(doc, "drivers");
    int32_t *start = r->in->start[MQ_ENT_INCIDENT];
    size_t at = rq_path_enter(r, "drivers");
    start[0] = 0;
    r->drivers_ok = n > 0;
    for (int d = 0; d < n; d++) {
        json_t *drv = json_array_get(list, (size_t)d);
        size_t e = rq_path_index(r, (size_t)d);
        start[d + 1] = start[d];
        if (json_is_object(drv)) {
            parse_driver(r, drv, d);
            start[d + 1] += parse_incidents(r, drv, d, start[d]);
        } else {
            rq_err_type(r, NULL, "an object", drv);
        }
        rq_path_pop(r, e);
    }
    rq_path_pop(r, at);
}

/* The comp/coll choices of one vehicle (vehicles[i].coverages). */
static void parse_vehicle_coverages(req *r, const json_t *veh, double *row)
{
    json_t *covs = rq_member(r, veh, "coverages", false);
    if (covs && !json_is_object(covs))
        rq_err_type(r, "coverages", "an object", covs);
    if (!covs || !json_is_object(covs))
        return;
    size_t at = rq_path_enter(r, "coverages");
    rq_check_keys(r, covs, vehicle_cov_keys, "not a vehicle coverage (comp, coll)");
    static const struct {
        const char *code;
        int field;
    } phys[] = {{"comp", MQ_AV_COMP_DEDUCTIBLE}, {"coll", MQ_AV_COLL_DEDUCTIBLE}};
    for (size_t i = 0; i < sizeof phys / sizeof *phys; i++) {
        json_t *c = rq_get_object(r, covs, phys[i].code, false, deductible_keys);
        size_t e = rq_path_enter(r, phys[i].code);
        if (c)
            rq_get_number(r, c, "deductible", true, LIMIT, &row[phys[i].field]);
        rq_path_pop(r, e);
    }
    if (rq_member(r, covs, "coll", false) && !rq_member(r, covs, "comp", false))
        rq_err_at(r, "coll", "requires comp on the same vehicle");
    rq_path_pop(r, at);
}

static int find_driver(const mq_input *in, const char *id)
{
    for (int d = 0; d < in->count[MQ_ENT_DRIVER]; d++)
        if (in->ids[MQ_ENT_DRIVER][d] && strcmp(in->ids[MQ_ENT_DRIVER][d], id) == 0)
            return d;
    return -1;
}

/* principal_driver names a listed driver who is at least 16 on the effective date. */
static void parse_principal(req *r, const json_t *veh, double *row)
{
    const char *id = rq_get_string(r, veh, "principal_driver", true);
    if (!id || !r->drivers_ok)
        return;
    int d = find_driver(r->in, id);
    char q[160];
    if (d < 0) {
        rq_err_at(r, "principal_driver", "no driver has id %s", mq_req_quoted(id, q));
        return;
    }
    row[MQ_AV_PRINCIPAL_DRIVER] = d;
    double dob = mq_input_row(r->in, MQ_ENT_DRIVER, d)[MQ_AD_DATE_OF_BIRTH];
    if (!r->has_eff || isnan(dob))
        return;
    int age = mq_date_age((int32_t)dob, r->eff);
    if (age < 16)
        rq_err_at(r, "principal_driver",
                  "driver %s is %d on the effective date; a principal driver must be at least 16",
                  mq_req_quoted(id, q), age);
}

/* Whether s could be a VIN as the request may write it: 1 to 17 digits and
 * letters but I, O and Q, in either case. A VIN's letters have one case, so
 * "1hgcm82633a004352" is 1HGCM82633A004352: it is kept as sent (the saved
 * request is what the shopper sent) and read in capitals where it is used
 * (src/intake's checks of its check digit, model year and maker). */
static bool vin_text(const char *s)
{
    static const char chars[] = "0123456789ABCDEFGHJKLMNPRSTUVWXYZabcdefghjklmnprstuvwxyz";
    size_t n = strlen(s);
    return n >= 1 && n <= 17 && strspn(s, chars) == n;
}

static void parse_vehicle(req *r, const json_t *veh, int v)
{
    double *row = mq_input_row(r->in, MQ_ENT_VEHICLE, v);
    const char **ids = r->in->ids[MQ_ENT_VEHICLE];
    rq_check_keys(r, veh, vehicle_keys, "unknown field");
    ids[v] = rq_get_id(r, veh);
    rq_check_unique(r, ids, v, "vehicles");
    const char *vin = rq_get_string(r, veh, "vin", false);
    if (vin && !vin_text(vin))
        rq_err_at(r, "vin", "not a VIN (up to 17 characters: digits and letters but I, O, Q)");
    double newest = r->has_eff ? r->eff_year + 1 : 2201;
    rq_get_number(r, veh, "year", true, (num_rule){1900, newest, true, false}, &row[MQ_AV_YEAR]);
    rq_get_string(r, veh, "make", false);
    rq_get_string(r, veh, "model", false);
    rq_get_number(r, veh, "symbol", true, (num_rule){1, 27, true, false}, &row[MQ_AV_SYMBOL]);
    parse_principal(r, veh, row);
    if (!rq_get_zip(r, veh, "garaging_zip", false, &row[MQ_AV_GARAGING_ZIP]))
        row[MQ_AV_GARAGING_ZIP] = r->zip;
    rq_get_number(r, veh, "annual_miles", false, (num_rule){0, 200000, true, false},
                  &row[MQ_AV_ANNUAL_MILES]);
    rq_get_enum(r, veh, "use", false, MQ_DOM_USE, &row[MQ_AV_USE]);
    row[MQ_AV_ANTI_THEFT] = 0;
    rq_get_bool(r, veh, "anti_theft", false, &row[MQ_AV_ANTI_THEFT]);
    parse_vehicle_coverages(r, veh, row);
}

static void parse_vehicles(req *r, const json_t *doc)
{
    int n = rq_get_list(r, doc, "vehicles", true, 1, MAX_VEHICLES, "vehicles");
    json_t *list = json_object_get(doc, "vehicles");
    size_t at = rq_path_enter(r, "vehicles");
    for (int v = 0; v < n; v++) {
        json_t *veh = json_array_get(list, (size_t)v);
        size_t e = rq_path_index(r, (size_t)v);
        if (json_is_object(veh))
            parse_vehicle(r, veh, v);
        else
            rq_err_type(r, NULL, "an object", veh);
        rq_path_pop(r, e);
    }
    rq_path_pop(r, at);
}

/* A {per_person, per_accident} limit pair; true when both are valid. */
static bool parse_split(req *r, const json_t *covs, const char *code, bool required, double *pp,
                        double *pa)
{
    json_t *c = rq_get_object(r, covs, code, required, split_keys);
    if (!c)
        return false;
    size_t at = rq_path_enter(r, code);
    bool ok = rq_get_number(r, c, "per_person", true, LIMIT, pp);
    ok = rq_get_number(r, c, "per_accident", true, LIMIT, pa) && ok;
    if (ok && *pa < *pp) {
        rq_err_at(r, "per_accident", "must be at least per_person (%.0f)", *pp);
        ok = false;
    }
    rq_path_pop(r, at);
    return ok;
}

static void parse_single(req *r, const json_t *covs, const char *code, bool required, double *lim)
{
    json_t *c = rq_get_object(r, covs, code, required, limit_keys);
    if (!c)
        return;
    size_t at = rq_path_enter(r, code);
    rq_get_number(r, c, "limit", true, LIMIT, lim);
    rq_path_pop(r, at);
}

static void parse_policy_coverages(req *r, const json_t *doc)
{
    json_t *covs = rq_member(r, doc, "coverages", true);
    if (covs && !json_is_object(covs))
        rq_err_type(r, "coverages", "an object", covs);
    if (!covs || !json_is_object(covs))
        return;
    double *p = mq_input_row(r->in, MQ_ENT_POLICY, 0);
    size_t at = rq_path_enter(r, "coverages");
    rq_check_keys(r, covs, policy_cov_keys, "not a policy coverage (bi, pd, med, um)");
    bool bi = parse_split(r, covs, "bi", true, &p[MQ_AP_BI_PER_PERSON], &p[MQ_AP_BI_PER_ACCIDENT]);
    parse_single(r, covs, "pd", true, &p[MQ_AP_PD_LIMIT]);
    parse_single(r, covs, "med", false, &p[MQ_AP_MED_LIMIT]);
    bool um = parse_split(r, covs, "um", false, &p[MQ_AP_UM_PER_PERSON], &p[MQ_AP_UM_PER_ACCIDENT]);
    if (bi && um &&
        (p[MQ_AP_UM_PER_PERSON] > p[MQ_AP_BI_PER_PERSON] ||
         p[MQ_AP_UM_PER_ACCIDENT] > p[MQ_AP_BI_PER_ACCIDENT]))
        rq_err_at(r, "um", "limits %.0f/%.0f exceed the bi limits %.0f/%.0f",
                  p[MQ_AP_UM_PER_PERSON], p[MQ_AP_UM_PER_ACCIDENT], p[MQ_AP_BI_PER_PERSON],
                  p[MQ_AP_BI_PER_ACCIDENT]);
    rq_path_pop(r, at);
}

static void auto_count(const json_t *doc, int32_t count[MQ_ENT_COUNT])
{
    json_t *drivers = json_object_get(doc, "drivers");
    int nd = rq_list_size(drivers, 1, MAX_DRIVERS);
    int nv = rq_list_size(json_object_get(doc, "vehicles"), 1, MAX_VEHICLES);
    count[MQ_ENT_DRIVER] = nd > 0 ? nd : 0;
    count[MQ_ENT_VEHICLE] = nv > 0 ? nv : 0;
    for (int d = 0; d < nd; d++) {
        json_t *incs = json_object_get(json_array_get(drivers, (size_t)d), "incidents");
        int ni = rq_list_size(incs, 0, MAX_INCIDENTS);
        count[MQ_ENT_INCIDENT] += ni > 0 ? ni : 0;
    }
}

static void auto_parse(req *r, const json_t *doc)
{
    parse_drivers(r, doc);
    parse_vehicles(r, doc);
    parse_policy_coverages(r, doc);
}

static const rq_line auto_line = {
    .top_keys = top_keys,
    .applicant_keys = rq_applicant_keys,
    .address_keys = rq_address_keys,
    .dob_slot = MQ_AP_APPLICANT_DOB,
    .homeowner_slot = MQ_AP_HOMEOWNER,
    .paperless_slot = MQ_AP_PAPERLESS,
    .count = auto_count,
    .parse = auto_parse,
};

/* ---- Entry points ----------------------------------------------------- */

static const rq_line *const lines[MQ_LINE_COUNT] = {
    [MQ_LINE_AUTO] = &auto_line,          [MQ_LINE_HOME] = &rq_home_line,
    [MQ_LINE_RENTERS] = &rq_renters_line, [MQ_LINE_TERM_LIFE] = &rq_life_line,
    [MQ_LINE_HEALTH] = &rq_health_line,
};

/* The line named by "line", or -1 after an error. */
static int check_line(req *r, const json_t *doc)
{
    const char *name = rq_get_string(r, doc, "line", true);
    if (!name)
        return -1;
    int line = mq_line_find(name);
    char q[160];
    if (line < 0 || !lines[line])
        rq_err_at(r, "line", "unsupported line %s", mq_req_quoted(name, q));
    return line >= 0 && lines[line] ? line : -1;
}

/* Allocates the input for the entity counts the arrays announce (0 for a
 * list that is itself invalid; its error is reported while it is read). */
static bool alloc_input(req *r, const json_t *doc, mq_line line)
{
    int32_t count[MQ_ENT_COUNT] = {[MQ_ENT_POLICY] = 1};
    if (r->line->count)
        r->line->count(doc, count);
    if (!mq_input_alloc(r->in, r->a, line, count))
        return false;
    r->in->ids[MQ_ENT_POLICY][0] = "policy";
    r->zip = NAN;
    return true;
}

static bool finish(req *r)
{
    if (r->oom)
        r->errs->count = 0;
    return !r->oom && r->errs->count == 0;
}

bool mq_req_from_json(json_t *doc, mq_arena *a, mq_input *in, mq_req_errors *errs)
{
    req r = {.a = a, .errs = errs, .in = in};
    errs->count = 0;
    if (!json_is_object(doc)) {
        rq_err_type(&r, NULL, "a JSON object", doc);
        return finish(&r);
    }
    int line = check_line(&r, doc);
    if (line < 0)
        return finish(&r);
    r.line = lines[line];
    if (!alloc_input(&r, doc, (mq_line)line)) {
        r.oom = true;
        return finish(&r);
    }
    rq_check_keys(&r, doc, r.line->top_keys, "unknown field");
    parse_effective_date(&r, doc);
    parse_applicant(&r, doc);
    parse_carriers(&r, doc);
    r.line->parse(&r, doc);
    return finish(&r);
}

bool mq_req_parse(const char *text, size_t len, mq_arena *a, mq_input *in, mq_req_errors *errs)
{
    req r = {.a = a, .errs = errs, .in = in};
    errs->count = 0;
    if (len > MQ_REQ_MAX_BYTES) {
        rq_err_at(&r, NULL, "request is larger than %d bytes", MQ_REQ_MAX_BYTES);
        return finish(&r);
    }
    json_error_t je;
    json_t *doc = mq_jr_load(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!doc) {
        rq_err_at(&r, NULL, "invalid JSON at %d:%d: %s", je.line, je.column, je.text);
        return finish(&r);
    }
    bool ok = mq_req_from_json(doc, a, in, errs);
    json_decref(doc);
    return ok;
}

const char *mq_req_error_text(const mq_req_error *e, mq_arena *a)
{
    if (!e->path || !*e->path)
        return mq_arena_strdup(a, e->message ? e->message : "");
    return mq_arena_printf(a, "%s: %s", e->path, e->message ? e->message : "");
}
