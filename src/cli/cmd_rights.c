/* cmd_rights.c -- a shopper's rights and the agency's leads: `multiquote
 * export`, `consent --withdraw` and `leads` (docs/privacy.md).
 *
 * A person's quotes are found as forget finds them: by the subject (keyed
 * hash) of their email, and among the quotes saved in clear, before
 * sealing, by the address in their request; or one quote by its id or
 * link. export writes them as one JSON document: times, line, the request
 * opened, the response as answered, the contact consent with when it was
 * given and withdrawn. The whole document is made before a byte is
 * written, so a quote that does not open fails the command with nothing
 * half printed. consent --withdraw records the withdrawal with its time on
 * every quote of the person whose consent stands; the quote and when the
 * consent was given stay. leads lists the quotes whose consent stands,
 * with the contact details opened from their request and the cheapest
 * quote, as CSV or NDJSON. Texts from the database go out verbatim (a
 * request's or response's JSON is never printed again through a double);
 * premiums are whole cents.
 */
#include "cli.h"
#include "jsontext.h"
#include "privacy.h"
#include "store.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The time now, as the store writes times ("2026-12-01T06:02:52Z"). */
static void time_now(char out[24])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, 24, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Wipes and frees an opened request (it holds personal data). */
static void free_opened(char *text)
{
    if (text) {
        memset(text, 0, strlen(text));
        free(text);
    }
}

/* ---- A person's quotes ------------------------------------------------------ */

/* A look for one person's quotes: fn is called with each. */
typedef struct person {
    mq_store *st;
    const mq_priv_ring *keys;
    const char *subject;
    mq_store_record_fn fn;
    void *arg;
    int64_t found;
    bool failed;
    char err[512];
} person;

static bool count_found(void *arg, const mq_store_record *r)
{
    person *p = arg;
    p->found++;
    return p->fn(p->arg, r);
}

/* A quote saved in clear whose request gives the person's address. */
static bool plain_of_person(void *arg, const mq_store_row *row)
{
    person *p = arg;
    char subject[MQ_PRIV_SUBJECT_LEN];
    if (!mq_priv_request_subject(p->keys, row->request, subject) || strcmp(subject, p->subject))
        return true;
    p->failed = mq_store_get_record(p->st, row->id, count_found, p, p->err, sizeof p->err) < 0;
    return !p->failed;
}

/* Calls fn with every quote of the person of `subject`; how many, or -1
 * after saying why not. */
static int64_t each_of_person(const char *cmd, mq_store *st, const mq_priv_ring *keys,
                              const char *subject, mq_store_record_fn fn, void *arg)
{
    person p = {.st = st, .keys = keys, .subject = subject, .fn = fn, .arg = arg};
    if (mq_store_each_record_of(st, subject, count_found, &p, p.err, sizeof p.err) < 0 ||
        mq_store_each_plain(st, plain_of_person, &p, p.err, sizeof p.err) < 0 || p.failed) {
        fprintf(stderr, "multiquote %s: %s\n", cmd, p.err);
        return -1;
    }
    return p.found;
}

/* --email or --quote, one of them: CLI_OK, or CLI_USAGE after saying so. */
static int one_person(const char *cmd, const cli_opts *o)
{
    if (o->quote && o->email) {
        fprintf(stderr, "multiquote %s: give --email or --quote, not both\n", cmd);
        return CLI_USAGE;
    }
    if (!o->quote && (!o->email || !*o->email)) {
        fprintf(stderr,
                "multiquote %s: give the person's address (--email ADDR) or a quote id "
                "(--quote ID)\n",
                cmd);
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* The subject of --email under keys; CLI_USAGE after saying it is empty. */
static int subject_of(const char *cmd, const mq_priv_ring *keys, const char *email,
                      char subject[MQ_PRIV_SUBJECT_LEN])
{
    if (mq_priv_subject(keys, email, subject))
        return CLI_OK;
    fprintf(stderr, "multiquote %s: --email: an empty address\n", cmd);
    return CLI_USAGE;
}

/* ---- export ------------------------------------------------------------------ */

typedef struct exporting {
    const mq_priv_ring *keys;
    mq_jw w;
    int64_t written;
    bool failed;
} exporting;

/* Whether text is JSON; false after saying which text of which quote. */
static bool is_json(const char *id, const char *what, const char *text)
{
    json_error_t e;
    json_t *doc = json_loads(text, JSON_DECODE_ANY, &e);
    if (doc) {
        json_decref(doc);
        return true;
    }
    fprintf(stderr, "multiquote export: quote %s: its saved %s is not JSON (%d:%d: %s)\n", id, what,
            e.line, e.column, e.text);
    return false;
}

static void put_consent(mq_jw *w, const mq_store_record *r)
{
    mq_jw_key(w, "consent", false);
    mq_jw_raw(w, "{\"contact\":");
    mq_jw_raw(w, r->consent_contact ? "true" : "false");
    mq_jw_key(w, "given_at", false);
    mq_jw_str(w, *r->consent_at ? r->consent_at : NULL);
    mq_jw_key(w, "withdrawn_at", false);
    mq_jw_str(w, r->withdrawn_at);
    mq_jw_raw(w, "}");
}

/* One quote into the document: false (said) when its request does not
 * open or a saved text is not JSON. */
static bool export_one(void *arg, const mq_store_record *r)
{
    exporting *x = arg;
    char err[512];
    char *request = mq_priv_open(x->keys, r->id, r->request, err, sizeof err);
    if (!request) {
        fprintf(stderr, "multiquote export: %s\n", err);
        x->failed = true;
        return false;
    }
    if (!is_json(r->id, "request", request) || !is_json(r->id, "response", r->response)) {
        free_opened(request);
        x->failed = true;
        return false;
    }
    mq_jw *w = &x->w;
    mq_jw_raw(w, x->written++ ? ",\n{" : "\n{");
    mq_jw_key(w, "quote_id", true);
    mq_jw_str(w, r->id);
    mq_jw_key(w, "created_at", false);
    mq_jw_str(w, r->created_at);
    mq_jw_key(w, "line", false);
    mq_jw_str(w, r->line);
    mq_jw_key(w, "effective_date", false);
    mq_jw_str(w, r->effective_date);
    put_consent(w, r);
    mq_jw_key(w, "request", false);
    mq_jw_raw(w, request);
    mq_jw_key(w, "response", false);
    mq_jw_raw(w, r->response);
    mq_jw_raw(w, "}");
    free_opened(request);
    return true;
}

/* The quotes to export into x; how many, or -1 after saying why. */
static int64_t export_find(const cli_opts *o, mq_store *st, exporting *x)
{
    char err[512];
    if (o->quote) {
        char id[CLI_QUOTE_ID_MAX];
        if (cli_quote_id("export", o->quote, id) != CLI_OK)
            return -1;
        int rc = mq_store_get_record(st, id, export_one, x, err, sizeof err);
        if (rc < 0)
            fprintf(stderr, "multiquote export: %s\n", err);
        else if (rc == 0)
            fprintf(stderr, "multiquote export: no quote with the id %s\n", id);
        return rc <= 0 || x->failed ? -1 : 1;
    }
    char subject[MQ_PRIV_SUBJECT_LEN];
    if (subject_of("export", x->keys, o->email, subject) != CLI_OK)
        return -1;
    int64_t n = each_of_person("export", st, x->keys, subject, export_one, x);
    if (n < 0 || x->failed)
        return -1;
    if (n == 0 && cli_ring_fits("export", st, x->keys)) /* said when it does not fit */
        fprintf(stderr, "multiquote export: no quote of that address found\n");
    return n == 0 ? -1 : n;
}

int cli_export(const cli_opts *o)
{
    int usable = one_person("export", o);
    if (usable != CLI_OK)
        return usable;
    if (o->quote) { /* a malformed id is bad usage, before any file is opened */
        char id[CLI_QUOTE_ID_MAX];
        if (cli_quote_id("export", o->quote, id) != CLI_OK)
            return CLI_USAGE;
    } else if (!*o->email || strspn(o->email, " \t") == strlen(o->email)) {
        fprintf(stderr, "multiquote export: --email: an empty address\n");
        return CLI_USAGE;
    }
    mq_priv_ring *keys = cli_load_keys("export", o);
    if (!keys)
        return CLI_FAIL;
    mq_store *st = cli_open_store("export", o);
    if (!st) {
        mq_priv_ring_free(keys);
        return CLI_FAIL;
    }
    exporting x = {.keys = keys};
    char now[24];
    time_now(now);
    mq_jw_raw(&x.w, "{\"exported_at\":");
    mq_jw_str(&x.w, now);
    mq_jw_raw(&x.w, ",\"quotes\":[");
    int64_t n = export_find(o, st, &x);
    mq_jw_raw(&x.w, "\n]}\n");
    mq_store_close(st);
    mq_priv_ring_free(keys);
    char *text = mq_jw_finish(&x.w);
    if (n > 0 && !text)
        fprintf(stderr, "multiquote export: out of memory\n");
    if (n > 0 && text)
        fputs(text, stdout);
    free_opened(text);
    return n > 0 && text ? CLI_OK : CLI_FAIL;
}

/* ---- consent --withdraw ------------------------------------------------------- */

/* The ids of a person's quotes whose consent stands (given, not withdrawn). */
typedef struct standing {
    char **ids;
    size_t n, cap;
    bool oom;
} standing;

static bool note_standing(void *arg, const mq_store_record *r)
{
    standing *s = arg;
    if (!r->consent_contact || r->withdrawn_at)
        return true;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        char **ids = realloc(s->ids, cap * sizeof *ids);
        if (!ids) {
            s->oom = true;
            return false;
        }
        s->ids = ids;
        s->cap = cap;
    }
    if (!(s->ids[s->n] = strdup(r->id))) {
        s->oom = true;
        return false;
    }
    s->n++;
    return true;
}

static void standing_free(standing *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->ids[i]);
    free(s->ids);
}

/* consent --withdraw --email: every quote of the person. */
static int withdraw_person(const cli_opts *o, mq_store *st, const mq_priv_ring *keys,
                           const char *at)
{
    char subject[MQ_PRIV_SUBJECT_LEN], err[512];
    if (subject_of("consent", keys, o->email, subject) != CLI_OK)
        return CLI_USAGE;
    standing s = {0};
    int64_t total = each_of_person("consent", st, keys, subject, note_standing, &s);
    if (s.oom)
        fprintf(stderr, "multiquote consent: out of memory\n");
    if (total < 0 || s.oom) {
        standing_free(&s);
        return CLI_FAIL;
    }
    if (total == 0) {
        if (cli_ring_fits("consent", st, keys))
            fprintf(stderr,
                    "multiquote consent: no quote of that address found; nothing recorded\n");
        return CLI_FAIL;
    }
    int64_t done = 0;
    for (size_t i = 0; i < s.n; i++) {
        int rc = mq_store_withdraw_consent(st, s.ids[i], at, err, sizeof err);
        if (rc < 0) {
            fprintf(stderr,
                    "multiquote consent: %s (withdrawn on %lld of the %zu quotes whose "
                    "consent stood; run the command again)\n",
                    err, (long long)done, s.n);
            standing_free(&s);
            return CLI_FAIL;
        }
        done += rc;
    }
    standing_free(&s);
    printf("withdrew contact consent on %lld of the %lld quote%s of that address, at %s%s\n",
           (long long)done, (long long)total, total == 1 ? "" : "s", at,
           done < total ? (done == total - 1 ? " (the other had none standing: not given, or "
                                               "withdrawn before)"
                                             : " (the others had none standing: not given, or "
                                               "withdrawn before)")
                        : "");
    return CLI_OK;
}

/* The consent of one quote, as consent --quote found it. */
typedef struct one_consent {
    bool given;
    char withdrawn_at[24];
} one_consent;

static bool note_consent(void *arg, const mq_store_record *r)
{
    one_consent *c = arg;
    c->given = r->consent_contact;
    snprintf(c->withdrawn_at, sizeof c->withdrawn_at, "%s", r->withdrawn_at ? r->withdrawn_at : "");
    return true;
}

/* consent --withdraw --quote: one quote, by its id or link. */
static int withdraw_quote(const char *id, mq_store *st, const char *at)
{
    char err[512];
    one_consent c = {0};
    int rc = mq_store_get_record(st, id, note_consent, &c, err, sizeof err);
    if (rc > 0 && c.given && !*c.withdrawn_at)
        rc = mq_store_withdraw_consent(st, id, at, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "multiquote consent: %s\n", err);
        return CLI_FAIL;
    }
    if (rc == 0 && !c.given) {
        fprintf(stderr, "multiquote consent: no quote with the id %s\n", id);
        return CLI_FAIL;
    }
    if (!c.given)
        printf("quote %s: its applicant gave no contact consent; nothing to withdraw\n", id);
    else if (*c.withdrawn_at)
        printf("quote %s: contact consent was withdrawn already, at %s\n", id, c.withdrawn_at);
    else
        printf("withdrew contact consent on quote %s, at %s\n", id, at);
    return CLI_OK;
}

int cli_consent(const cli_opts *o)
{
    if (!o->withdraw) {
        fprintf(stderr, "multiquote consent: give --withdraw (consent is given in a quote's "
                        "request, applicant.consent.contact; this command withdraws it)\n");
        return CLI_USAGE;
    }
    int usable = one_person("consent", o);
    if (usable != CLI_OK)
        return usable;
    char id[CLI_QUOTE_ID_MAX], at[24];
    if (o->quote && cli_quote_id("consent", o->quote, id) != CLI_OK)
        return CLI_USAGE;
    mq_priv_ring *keys = NULL;
    if (!o->quote && !(keys = cli_load_keys("consent", o))) /* --quote needs no key */
        return CLI_FAIL;
    mq_store *st = cli_open_store("consent", o);
    if (!st) {
        mq_priv_ring_free(keys);
        return CLI_FAIL;
    }
    time_now(at);
    int rc = o->quote ? withdraw_quote(id, st, at) : withdraw_person(o, st, keys, at);
    mq_store_close(st);
    mq_priv_ring_free(keys);
    return rc;
}

/* ---- leads ------------------------------------------------------------------------ */

/* --since: a date (YYYY-MM-DD, from its midnight UTC) or a time
 * (YYYY-MM-DDTHH:MM:SSZ), into the store's form; false when it is not a
 * real one. */
static bool parse_since(const char *text, char out[24])
{
    int y, mo, d, h = 0, mi = 0, s = 0, used = 0;
    size_t len = strlen(text);
    bool date = len == 10 && sscanf(text, "%4d-%2d-%2d%n", &y, &mo, &d, &used) == 3 && used == 10;
    bool stamp = len == 20 && text[10] == 'T' && text[19] == 'Z' &&
                 sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &used) == 6 &&
                 used == 19;
    for (size_t i = 0; i < len; i++) /* sscanf would take signs and spaces */
        if (!((text[i] >= '0' && text[i] <= '9') || i == 4 || i == 7 || i == 10 || i == 13 ||
              i == 16 || i == 19))
            return false;
    if (!date && !stamp)
        return false;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = s};
    time_t t = timegm(&tm); /* normalises: 2026-02-30 would come back as March */
    struct tm back;
    if (y < 1970 || !gmtime_r(&t, &back) || back.tm_year != y - 1900 || back.tm_mon != mo - 1 ||
        back.tm_mday != d || back.tm_hour != h || back.tm_min != mi || back.tm_sec != s)
        return false;
    strftime(out, 24, "%Y-%m-%dT%H:%M:%SZ", &back);
    return true;
}

/* Whether `line` is a line a quote can have. */
static bool known_line(const char *line)
{
    if (strcmp(line, "bundle") == 0)
        return true;
    for (int i = 0; i < MQ_LINE_COUNT; i++)
        if (strcmp(mq_line_get((mq_line)i)->name, line) == 0)
            return true;
    return false;
}

/* The cheapest quote of a response: a line's quoted result of the lowest
 * premium.total, or a bundle's cheapest bundle (annual_total, 12 months). */
typedef struct cheapest {
    const char *carrier; /* borrowed from the response's tree; NULL: none quoted */
    int64_t cents;
    json_int_t term_months;
} cheapest;

static int64_t to_cents(const json_t *amount)
{
    return (int64_t)llround(json_number_value(amount) * 100.0);
}

static cheapest cheapest_of(const json_t *resp)
{
    cheapest c = {0};
    size_t i;
    const json_t *r;
    json_array_foreach(json_object_get(resp, "bundles"), i, r)
    {
        const json_t *total = json_object_get(r, "annual_total");
        const char *id = json_string_value(json_object_get(json_object_get(r, "carrier"), "id"));
        if (id && json_is_number(total) && (!c.carrier || to_cents(total) < c.cents))
            c = (cheapest){id, to_cents(total), 12};
    }
    json_array_foreach(json_object_get(resp, "results"), i, r)
    {
        const json_t *premium = json_object_get(r, "premium");
        const json_t *total = json_object_get(premium, "total");
        const char *id = json_string_value(json_object_get(json_object_get(r, "carrier"), "id"));
        const char *status = json_string_value(json_object_get(r, "status"));
        if (id && status && strcmp(status, "quoted") == 0 && json_is_number(total) &&
            (!c.carrier || to_cents(total) < c.cents))
            c = (cheapest){id, to_cents(total),
                           json_integer_value(json_object_get(premium, "term_months"))};
    }
    return c;
}

/* A text a spreadsheet would run as a formula when opened (a shopper may
 * type "=HYPERLINK(...)" as a name): it starts with = + - @, a tab or a
 * CR. A phone number's leading + is one unless the text is a phone
 * number (digits, spaces, + - ( ) . only). */
static bool formula_like(const char *s, bool phone)
{
    if (!strchr("=+-@\t\r", s[0]) || !s[0])
        return false;
    return !phone || s[strspn(s, "0123456789 +-().")] != '\0';
}

/* One CSV field (RFC 4180): quoted when it holds a comma, quote or line
 * break; a formula-like text gets a leading ' so it stays text. */
static void csv_field(const char *s, bool phone, bool last)
{
    s = s ? s : "";
    bool quote = strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        putchar('"');
    if (formula_like(s, phone))
        putchar('\'');
    for (; *s; s++) {
        if (*s == '"')
            putchar('"');
        putchar(*s);
    }
    if (quote)
        putchar('"');
    putchar(last ? '\n' : ',');
}

typedef struct lead {
    const char *id, *created_at, *line;
    const char *first_name, *last_name, *email, *phone; /* NULL when not given */
    cheapest best;
} lead;

static const char CSV_HEADER[] =
    "quote_id,created_at,line,first_name,last_name,email,phone,carrier,premium,term_months\n";

static void print_csv(const lead *l)
{
    csv_field(l->id, false, false);
    csv_field(l->created_at, false, false);
    csv_field(l->line, false, false);
    csv_field(l->first_name, false, false);
    csv_field(l->last_name, false, false);
    csv_field(l->email, false, false);
    csv_field(l->phone, true, false);
    csv_field(l->best.carrier, false, false);
    if (l->best.carrier)
        printf("%lld.%02lld,%lld\n", (long long)(l->best.cents / 100),
               (long long)(l->best.cents % 100), (long long)l->best.term_months);
    else
        fputs(",\n", stdout);
}

/* false when memory ran out */
static bool print_ndjson(const lead *l)
{
    mq_jw w = {0};
    mq_jw_raw(&w, "{");
    const char *keys[] = {"quote_id",  "created_at", "line", "first_name",
                          "last_name", "email",      "phone"};
    const char *values[] = {l->id,        l->created_at, l->line, l->first_name,
                            l->last_name, l->email,      l->phone};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        mq_jw_key(&w, keys[i], i == 0);
        mq_jw_str(&w, values[i]);
    }
    mq_jw_key(&w, "carrier", false);
    mq_jw_str(&w, l->best.carrier);
    mq_jw_key(&w, "premium", false);
    if (l->best.carrier)
        mq_jw_cents(&w, l->best.cents);
    else
        mq_jw_raw(&w, "null");
    mq_jw_key(&w, "term_months", false);
    if (l->best.carrier)
        mq_jw_int(&w, (long long)l->best.term_months);
    else
        mq_jw_raw(&w, "null");
    mq_jw_raw(&w, "}\n");
    char *text = mq_jw_finish(&w);
    if (text)
        fputs(text, stdout);
    free_opened(text);
    return text != NULL;
}

typedef struct leading {
    const mq_priv_ring *keys;
    bool ndjson;
    int64_t printed, unopened;
    bool oom;
} leading;

static const char *applicant_text(const json_t *applicant, const char *key)
{
    const char *s = json_string_value(json_object_get(applicant, key));
    return s && *s ? s : NULL;
}

static bool lead_one(void *arg, const mq_store_record *r)
{
    leading *g = arg;
    char err[512];
    char *request = mq_priv_open(g->keys, r->id, r->request, err, sizeof err);
    json_t *req = request ? json_loads(request, 0, NULL) : NULL;
    json_t *resp = json_loads(r->response, 0, NULL);
    if (!request) {
        fprintf(stderr, "multiquote leads: %s\n", err);
        g->unopened++;
    } else if (!req || !resp) {
        fprintf(stderr, "multiquote leads: quote %s: its saved %s is not JSON\n", r->id,
                !req ? "request" : "response");
        g->unopened++;
    } else {
        const json_t *app = json_object_get(req, "applicant");
        lead l = {r->id,
                  r->created_at,
                  r->line,
                  applicant_text(app, "first_name"),
                  applicant_text(app, "last_name"),
                  applicant_text(app, "email"),
                  applicant_text(app, "phone"),
                  cheapest_of(resp)};
        if (g->ndjson)
            g->oom = !print_ndjson(&l);
        else
            print_csv(&l);
        g->printed++;
    }
    json_decref(req);
    json_decref(resp);
    free_opened(request);
    return !g->oom;
}

/* leads' options: CLI_OK with the --since bound in since, or CLI_USAGE
 * after saying what is wrong. */
static int leads_options(const cli_opts *o, char since[24])
{
    since[0] = '\0';
    if (o->since && !parse_since(o->since, since)) {
        fprintf(stderr,
                "multiquote leads: --since takes a date (YYYY-MM-DD, from its midnight UTC) or "
                "a time (YYYY-MM-DDTHH:MM:SSZ), not \"%s\"\n",
                o->since);
        return CLI_USAGE;
    }
    if (o->line && !known_line(o->line)) {
        fprintf(stderr,
                "multiquote leads: --line takes auto, home, renters, term_life, health or "
                "bundle, not \"%s\"\n",
                o->line);
        return CLI_USAGE;
    }
    if (o->format && strcmp(o->format, "csv") && strcmp(o->format, "ndjson")) {
        fprintf(stderr, "multiquote leads: --format takes csv or ndjson, not \"%s\"\n", o->format);
        return CLI_USAGE;
    }
    return CLI_OK;
}

int cli_leads(const cli_opts *o)
{
    char since[24], err[512];
    if (leads_options(o, since) != CLI_OK)
        return CLI_USAGE;
    mq_priv_ring *keys = cli_load_keys("leads", o);
    if (!keys)
        return CLI_FAIL;
    mq_store *st = cli_open_store("leads", o);
    if (!st) {
        mq_priv_ring_free(keys);
        return CLI_FAIL;
    }
    leading g = {.keys = keys, .ndjson = o->format && strcmp(o->format, "ndjson") == 0};
    if (!g.ndjson)
        fputs(CSV_HEADER, stdout);
    int64_t n = mq_store_each_lead(st, since, o->line, lead_one, &g, err, sizeof err);
    mq_store_close(st);
    mq_priv_ring_free(keys);
    if (n < 0)
        fprintf(stderr, "multiquote leads: %s\n", err);
    if (g.oom)
        fprintf(stderr, "multiquote leads: out of memory\n");
    if (g.unopened)
        fprintf(stderr,
                "multiquote leads: %lld of %lld leads left out: they could not be read "
                "(above)\n",
                (long long)g.unopened, (long long)(g.unopened + g.printed));
    return n < 0 || g.oom || g.unopened ? CLI_FAIL : CLI_OK;
}
