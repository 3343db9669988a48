/* vin.c -- VIN decoding: check digit, model year and maker (49 CFR 565.15).
 *
 * The check digit (position 9) is the sum of each character's value (letters
 * transliterated A=1 ... Z=9, skipping I, O, Q) times its position's weight
 * (8 7 6 5 4 3 2 10 0 9 8 7 6 5 4 3 2), modulo 11, with 10 written X. The
 * model year code (position 10) repeats every 30 years; for cars and light
 * trucks position 7 tells the cycles apart: a digit for 1980-2009, a letter
 * for 2010-2039. The maker comes from the world manufacturer identifier
 * (positions 1-3) looked up in data/wmi.csv, held sorted for bsearch, with
 * every make whose vehicles carry it (a WMI may be shared: 5XY is Kia's and
 * the Hyundai Santa Fe's), and what it is put on: the position 7 rule is
 * only for light vehicles, so a motorcycle's or a heavy truck's VIN (1HD,
 * JH2, JYA; 1FU) has two possible years, which the decoder gives both of,
 * the later one not after next year first.
 */
#include "intake_internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const int weights[MQ_VIN_LEN] = {8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2};
/* Position 10's codes in order: the first is 1980 (and 2010), the last 2009 (2039). */
static const char year_codes[] = "ABCDEFGHJKLMNPRSTVWXY123456789";

int mq_vin_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    static const char letters[] = "A1B2C3D4E5F6G7H8J1K2L3M4N5P7R9S2T3U4V5W6X7Y8Z9";
    for (const char *p = letters; *p; p += 2)
        if (*p == c)
            return p[1] - '0';
    return -1;
}

char mq_vin_check_digit(const char *vin)
{
    int sum = 0;
    for (int i = 0; i < MQ_VIN_LEN; i++) {
        int v = mq_vin_value(vin[i]);
        if (v < 0)
            return 0;
        sum += v * weights[i];
    }
    int r = sum % 11;
    return r == 10 ? 'X' : (char)('0' + r);
}

int mq_vin_year(const char *vin)
{
    if (strlen(vin) < 10 || !vin[9])
        return 0;
    const char *code = strchr(year_codes, vin[9]);
    if (!code)
        return 0;
    int year = 1980 + (int)(code - year_codes);
    if (vin[6] >= 'A' && vin[6] <= 'Z')
        year += 30;
    return year;
}

/* ---- The WMI table ---------------------------------------------------------- */

static int wmi_cmp(const void *a, const void *b)
{
    return strcmp(((const mq_wmi *)a)->code, ((const mq_wmi *)b)->code);
}

static bool vin_chars(const char *s)
{
    for (; *s; s++)
        if (mq_vin_value(*s) < 0)
            return false;
    return true;
}

/* Trims spaces and tabs from both ends of s, in place. */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

/* Splits `makes` (an arena copy, cut in place) at ";" into w->makes: NULL,
 * or why the field is wrong. */
static const char *split_makes(mq_wmi *w, char *makes)
{
    enum { MAX = (int)(sizeof w->makes / sizeof w->makes[0]) };
    for (char *m = makes, *next; m; m = next) {
        next = strchr(m, ';');
        if (next)
            *next++ = '\0';
        m = trim(m);
        if (!*m)
            return "makes has an empty make (two \";\" in a row, or one at an end)";
        for (int i = 0; i < w->nmakes; i++)
            if (strcasecmp(w->makes[i], m) == 0)
                return "makes lists a make twice";
        if (w->nmakes == MAX)
            return "at most 4 makes";
        w->makes[w->nmakes++] = m;
    }
    return NULL;
}

/* What wmi.csv's vehicles column names, in mq_vehicles order. */
static const char *const vehicles_names[] = {"light", "motorcycle", "heavy"};

/* The mq_vehicles of `name`, or -1. */
static int vehicles_of(const char *name)
{
    for (int i = 0; i < (int)(sizeof vehicles_names / sizeof *vehicles_names); i++)
        if (strcmp(name, vehicles_names[i]) == 0)
            return i;
    return -1;
}

/* Why the record of nf fields f is not a WMI row of a file with ncolumns
 * columns (4, or 5 with vehicles), or NULL. */
static const char *row_problem(char *const *f, int nf, int ncolumns)
{
    if (nf != ncolumns)
        return ncolumns == 5 ? "expected 5 fields" : "expected 4 fields";
    size_t clen = strlen(f[0]);
    if ((clen != 3 && clen != 6) || !vin_chars(f[0]) || (clen == 6 && f[0][2] != '9'))
        return "wmi must be 3 VIN characters (6 when the third is 9)";
    if (!*f[1] || !*f[2] || !*f[3])
        return "manufacturer, makes and country are required";
    if (ncolumns == 5 && vehicles_of(f[4]) < 0)
        return "vehicles must be light (cars, MPVs, trucks and buses to 10,000 lb), motorcycle "
               "or heavy";
    return NULL;
}

/* Room for one more row in ik->wmis (arena-grown, doubling); false when out of memory. */
static bool wmi_room(mq_intake *ik, int *cap)
{
    if (ik->nwmi < *cap)
        return true;
    int grown_cap = *cap ? *cap * 2 : 256;
    mq_wmi *grown = mq_arena_alloc(&ik->mem, sizeof *grown * (size_t)grown_cap);
    if (!grown)
        return false;
    if (ik->nwmi)
        memcpy(grown, ik->wmis, sizeof *grown * (size_t)ik->nwmi);
    ik->wmis = grown;
    *cap = grown_cap;
    return true;
}

/* After sorting: a WMI on two rows is an error naming both lines (a shared
 * WMI lists all its makes on one row). */
static bool no_duplicates(const mq_intake *ik, const char *path, char *err, size_t errlen)
{
    for (int i = 1; i < ik->nwmi; i++) {
        const mq_wmi *a = &ik->wmis[i - 1], *b = &ik->wmis[i];
        if (strcmp(a->code, b->code) != 0)
            continue;
        const mq_wmi *first = a->line < b->line ? a : b, *second = a->line < b->line ? b : a;
        snprintf(err, errlen,
                 "%s:%d: wmi %s is listed twice (first at line %d): list every make of a "
                 "shared WMI in one row's makes",
                 path, second->line, a->code, first->line);
        return false;
    }
    return true;
}

bool ik_load_wmi(mq_intake *ik, const char *dir, char *err, size_t errlen)
{
    static const char *const columns[] = {"wmi",     "manufacturer", "makes",
                                          "country", "vehicles",     NULL};
    ik_csv c;
    if (!ik_csv_open(&c, dir, "wmi.csv", columns, 1, err, errlen))
        return false;
    int cap = 0;
    char *f[IK_MAX_FIELDS];
    int nf;
    bool ok = true;
    while (ok && ik_csv_next(&c, f, &nf)) {
        const char *why = row_problem(f, nf, c.ncolumns);
        if (why) {
            snprintf(err, errlen, "%s:%d: %s", c.path, c.line, why);
            ok = false;
            break;
        }
        if (!wmi_room(ik, &cap)) {
            snprintf(err, errlen, "out of memory");
            ok = false;
            break;
        }
        mq_wmi *w = &ik->wmis[ik->nwmi++];
        memset(w, 0, sizeof *w);
        snprintf(w->code, sizeof w->code, "%s", f[0]);
        w->line = c.line;
        w->vehicles = c.ncolumns == 5 ? (mq_vehicles)vehicles_of(f[4]) : MQ_VEHICLES_LIGHT;
        w->manufacturer = mq_arena_strdup(&ik->mem, f[1]);
        w->country = mq_arena_strdup(&ik->mem, f[3]);
        char *makes = mq_arena_strdup(&ik->mem, f[2]);
        if (!w->manufacturer || !w->country || !makes) {
            snprintf(err, errlen, "out of memory");
            ok = false;
        } else if ((why = split_makes(w, makes))) {
            snprintf(err, errlen, "%s:%d: %s", c.path, c.line, why);
            ok = false;
        }
    }
    if (ok && ik->nwmi == 0) {
        snprintf(err, errlen, "%s: no rows", c.path);
        ok = false;
    }
    if (ok) {
        qsort(ik->wmis, (size_t)ik->nwmi, sizeof *ik->wmis, wmi_cmp);
        ok = no_duplicates(ik, c.path, err, errlen);
    }
    ik_csv_close(&c);
    return ok;
}

int mq_wmi_count(const mq_intake *ik)
{
    return ik ? ik->nwmi : 0;
}

static const mq_wmi *wmi_lookup(const mq_intake *ik, const char *code)
{
    mq_wmi key;
    snprintf(key.code, sizeof key.code, "%s", code);
    return bsearch(&key, ik->wmis, (size_t)ik->nwmi, sizeof *ik->wmis, wmi_cmp);
}

const mq_wmi *mq_wmi_find(const mq_intake *ik, const char *vin)
{
    if (!ik || !vin || strlen(vin) < 3)
        return NULL;
    char code[7];
    if (vin[2] == '9' && strlen(vin) >= 14) { /* a small maker: 1-3 and 12-14 */
        snprintf(code, sizeof code, "%.3s%.3s", vin, vin + 11);
        const mq_wmi *w = wmi_lookup(ik, code);
        if (w)
            return w;
    }
    snprintf(code, sizeof code, "%.3s", vin);
    return wmi_lookup(ik, code);
}

/* Lower-case letters and digits only: "Mercedes-Benz" -> "mercedesbenz". */
static void squash(const char *s, char *out, size_t n)
{
    size_t o = 0;
    for (; *s && o + 1 < n; s++)
        if (isalnum((unsigned char)*s))
            out[o++] = (char)tolower((unsigned char)*s);
    out[o] = '\0';
}

bool mq_wmi_has_make(const mq_wmi *w, const char *make)
{
    static const char *const aliases[][2] = {
        {"chevy", "chevrolet"},   {"vw", "volkswagen"},     {"mb", "mercedesbenz"},
        {"benz", "mercedesbenz"}, {"merc", "mercedesbenz"}, {"landie", "landrover"},
    };
    char want[96];
    squash(make, want, sizeof want);
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcmp(want, aliases[i][0]) == 0)
            snprintf(want, sizeof want, "%s", aliases[i][1]);
    size_t wl = strlen(want);
    for (int i = 0; i < w->nmakes; i++) {
        char have[96];
        squash(w->makes[i], have, sizeof have);
        size_t hl = strlen(have);
        /* equal, or one a prefix (4+ characters) of the other: "Mercedes", "Harley" */
        size_t shorter = wl < hl ? wl : hl;
        if (strcmp(want, have) == 0 || (shorter >= 4 && strncmp(want, have, shorter) == 0))
            return true;
    }
    return false;
}

/* ---- Decoding ----------------------------------------------------------------- */

/* The year after this one (UTC): a model year is at most that. */
static int next_year(void)
{
    time_t now = time(NULL);
    struct tm tm;
    if (now == (time_t)-1 || !gmtime_r(&now, &tm))
        return 2039; /* no clock: the later cycle's last year */
    return tm.tm_year + 1900 + 1;
}

/* The years of a VIN whose WMI is not a light vehicle's, where position 7
 * says nothing (49 CFR 565.15 gives its rule for light vehicles only): the
 * year of position 10's code in the 2010-2039 cycle when that is not after
 * next year, else in 1980-2009, and the other in *other. */
static int unruled_year(const char *vin, int *other)
{
    int young = 2010 + (int)(strchr(year_codes, vin[9]) - year_codes), old = young - 30;
    bool later = young <= next_year();
    *other = later ? old : young;
    return later ? young : old;
}

static void add_error(mq_vin *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_error(mq_vin *v, const char *fmt, ...)
{
    if (v->nerrors == MQ_VIN_MAX_ERRORS)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->errors[v->nerrors++], sizeof v->errors[0], fmt, ap);
    va_end(ap);
}

bool mq_vin_decode(const mq_intake *ik, const char *vin, mq_vin *out)
{
    memset(out, 0, sizeof *out);
    if (!vin)
        vin = "";
    /* its characters (UTF-8 code points, not bytes: "éé" has 2), the first
     * 17 kept printable for messages, one '?' for any that is not ASCII */
    size_t len = 0;
    for (const unsigned char *p = (const unsigned char *)vin; *p; p++) {
        if ((*p & 0xC0) == 0x80)
            continue; /* a continuation byte of the character before */
        if (len < MQ_VIN_LEN)
            out->vin[len] = *p > 0x20 && *p < 0x7f ? (char)toupper(*p) : '?';
        len++;
    }
    const char *s = out->vin;
    if (len != MQ_VIN_LEN)
        add_error(out, "has %zu characters; a VIN has 17", len);
    int bad = 0;
    for (size_t i = 0; i < len && i < MQ_VIN_LEN; i++) {
        char c = s[i];
        if (mq_vin_value(c) >= 0)
            continue;
        if (++bad > 2)
            continue;
        if (c == 'I' || c == 'O' || c == 'Q')
            add_error(out, "position %zu is \"%c\": I, O and Q are never used in a VIN", i + 1, c);
        else
            add_error(out, "position %zu is not a letter or digit", i + 1);
    }
    if (bad > 2)
        add_error(out, "%d more characters are not VIN characters", bad - 2);
    out->wmi = bad == 0 ? mq_wmi_find(ik, s) : NULL;
    if (len >= 10 && bad == 0) {
        out->year = mq_vin_year(s);
        if (!out->year)
            add_error(out,
                      "position 10 is \"%c\", not a model year code (never 0, U, Z, I, O or Q)",
                      s[9]);
        else if (out->wmi && out->wmi->vehicles != MQ_VEHICLES_LIGHT)
            out->year = unruled_year(s, &out->year_other);
    }
    if (len == MQ_VIN_LEN && bad == 0) {
        out->check = mq_vin_check_digit(s);
        if (s[8] != out->check)
            add_error(
                out,
                "check digit (position 9) is \"%c\" but the VIN's other characters give \"%c\"",
                s[8], out->check);
    }
    if (out->wmi && out->wmi->nmakes == 1)
        out->make = out->wmi->makes[0];
    out->valid = out->nerrors == 0;
    return out->valid;
}

json_t *mq_vin_json(const mq_vin *v)
{
    json_t *errors = json_array();
    for (int i = 0; errors && i < v->nerrors; i++)
        json_array_append_new(errors, json_string(v->errors[i]));
    json_t *makes = json_array();
    for (int i = 0; makes && v->wmi && i < v->wmi->nmakes; i++)
        json_array_append_new(makes, json_string(v->wmi->makes[i]));
    char check[2] = {v->check, '\0'};
    json_t *doc = json_object();
    if (!doc || !errors || !makes) {
        json_decref(doc);
        json_decref(errors);
        json_decref(makes);
        return NULL;
    }
    json_object_set_new(doc, "vin", json_string(v->vin));
    json_object_set_new(doc, "valid", json_boolean(v->valid));
    json_object_set_new(doc, "year", v->year ? json_integer(v->year) : json_null());
    json_object_set_new(doc, "year_other",
                        v->year_other ? json_integer(v->year_other) : json_null());
    json_object_set_new(doc, "make", v->make ? json_string(v->make) : json_null());
    json_object_set_new(doc, "makes", makes);
    json_object_set_new(doc, "manufacturer",
                        v->wmi ? json_string(v->wmi->manufacturer) : json_null());
    json_object_set_new(doc, "country", v->wmi ? json_string(v->wmi->country) : json_null());
    json_object_set_new(doc, "check_digit", v->check ? json_string(check) : json_null());
    json_object_set_new(doc, "errors", errors);
    return doc;
}
