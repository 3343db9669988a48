/* test_response.c -- the response text writer prints exactly what jansson
 * would: for every sample request of every line, the text equals jansson's
 * compact dump of the same document parsed back; strings with quotes,
 * backslashes, control characters and non-ASCII letters are escaped the
 * same way; money keeps its cents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "support.h"

#include "jsontext.h"
#include "model.h"

#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static mq_engine *engine;

static int load(void **state)
{
    (void)state;
    return ts_engine_setup(&engine, "plans", NULL);
}

static int unload(void **state)
{
    (void)state;
    return ts_engine_teardown(&engine);
}

/* jansson's own compact text of doc. */
static char *jansson_text(const json_t *doc, int precision)
{
    char *t = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(precision));
    assert_non_null(t);
    return t;
}

/* mq_jw_compact must print what jansson prints, at both precisions used. */
static void assert_same_as_jansson(const json_t *doc)
{
    for (int precision = 0; precision <= 15; precision += 15) {
        char *ours = mq_jw_compact(doc, precision), *theirs = jansson_text(doc, precision);
        assert_non_null(ours);
        assert_string_equal(ours, theirs);
        free(ours);
        free(theirs);
    }
}

/* Text from the writer, and jansson's dump of it parsed back, must agree. */
static void assert_jansson_would_print(const char *text)
{
    json_error_t e;
    json_t *doc = json_loads(text, 0, &e);
    if (!doc)
        fail_msg("writer made invalid JSON: %s at %d:%d", e.text, e.line, e.column);
    char *again = jansson_text(doc, MQ_RESP_PRECISION);
    assert_string_equal(text, again);
    free(again);
    char *ours = mq_resp_dump(doc, false);
    assert_string_equal(text, ours);
    free(ours);
    json_decref(doc);
}

/* requote reads the saved tips back (mq_resp_saved_tips) as they were
 * written, and knows what each changes (mq_tip_change_read): none is
 * compared as mere words. */
static void assert_tips_read_back(const char *text, const mq_tip_list *list, mq_arena *a)
{
    mq_saved_tip *saved;
    assert_int_equal(mq_resp_saved_tips(text, a, &saved), list->count);
    for (int i = 0; i < list->count; i++) {
        const mq_tip *t = &list->items[i];
        assert_string_equal(saved[i].carrier, t->carrier);
        assert_string_equal(saved[i].plan, t->plan);
        assert_string_equal(saved[i].change, t->change);
        assert_int_equal(saved[i].saving_cents, t->saving_cents);
        assert_int_equal(saved[i].new_total_cents, t->new_total_cents);
        mq_tip_change c;
        mq_tip_change_read(t->change, &c);
        if (c.kind == MQ_TIP_UNKNOWN)
            fail_msg("a tip requote cannot read: \"%s\"", t->change);
        for (int j = 0; j < list->count; j++) { /* one carrier's plan: each tip another change */
            mq_tip_change d;
            mq_tip_change_read(list->items[j].change, &d);
            if (j != i && strcmp(list->items[j].carrier, t->carrier) == 0 &&
                strcmp(list->items[j].plan, t->plan) == 0)
                assert_false(mq_tip_change_same(&c, &d));
        }
    }
}

static void rate_file(const char *path)
{
    size_t n;
    char *buf = ts_read_file(path, &n);
    json_t *request = json_loadb(buf, n, 0, NULL);
    assert_non_null(request);
    assert_same_as_jansson(request);
    json_decref(request);
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_input in;
    mq_req_errors errs = {0};
    if (mq_req_parse(buf, n, &a, &in, &errs)) {
        mq_result *res;
        int nr;
        assert_true(mq_rate_all(engine, &in, &(mq_rate_opts){0}, &a, &res, &nr));
        mq_tip_list list;
        assert_true(
            mq_resp_tip_list(engine, &in, res, nr, &(mq_tip_minimums){25000, 50000}, &a, &list));
        char *text =
            mq_resp_text(&in, res, nr, &(mq_resp_meta){"q_X", "2026-01-01T00:00:00Z"}, &list);
        assert_non_null(text);
        assert_jansson_would_print(text);
        /* the text's tips are the tree's */
        json_t *tips = mq_resp_tips(engine, &in, res, nr, &(mq_tip_minimums){25000, 50000}, &a);
        json_t *doc = json_loads(text, 0, NULL);
        assert_non_null(tips);
        assert_int_equal(json_array_size(tips), list.count);
        assert_true(json_equal(json_object_get(doc, "tips"), tips));
        assert_tips_read_back(text, &list, &a);
        json_decref(doc);
        free(text);
        json_decref(tips);
    }
    mq_arena_free(&a);
    free(buf);
}

static void every_sample_request_prints_as_jansson_would(void **state)
{
    (void)state;
    const char *dirs[] = {"examples", "tests/data/shoppers"};
    int files = 0;
    for (int d = 0; d < 2; d++) {
        DIR *dh = opendir(dirs[d]);
        assert_non_null(dh);
        struct dirent *de;
        while ((de = readdir(dh))) {
            size_t len = strlen(de->d_name);
            if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
                continue;
            char path[600];
            snprintf(path, sizeof path, "%s/%s", dirs[d], de->d_name);
            rate_file(path);
            files++;
        }
        closedir(dh);
    }
    assert_true(files >= 20);
}

static void strings_and_money_are_escaped_as_jansson_escapes_them(void **state)
{
    (void)state;
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_input in;
    int32_t count[MQ_ENT_COUNT] = {1, 1, 1, 0};
    assert_true(mq_input_alloc(&in, &a, MQ_LINE_AUTO, count));
    in.ids[MQ_ENT_VEHICLE][0] = "v\"1\\";
    const char *reasons[] = {"tab\there, newline\nthere, bell\a, quote \" and é ü 漢"};
    mq_cov_premium cov = {MQ_COV_BI, 0, 101867};
    mq_fee fee = {"Fee \"x\"", 5};
    mq_result r = {.carrier_id = "c<script>",
                   .carrier_name = "Ä\x01\x1f",
                   .carrier_rating = "A",
                   .status = MQ_QUOTED,
                   .coverages = &cov,
                   .ncoverages = 1,
                   .fees = &fee,
                   .nfees = 1,
                   .total_cents = 71400,
                   .fees_cents = 5,
                   .term_months = 6,
                   .reasons = reasons,
                   .nreasons = 1,
                   .metal = -1};
    char *text = mq_resp_text(&in, &r, 1, NULL, NULL);
    assert_non_null(text);
    assert_jansson_would_print(text);
    assert_non_null(strstr(text, "\"premium\":1018.67"));
    assert_non_null(strstr(text, "\"total\":714.0"));
    assert_non_null(strstr(text, "\"amount\":0.05"));
    assert_non_null(strstr(text, "\"monthly\":119.0"));
    assert_non_null(strstr(text, "\\u0001\\u001F"));
    free(text);
    mq_arena_free(&a);
}

/* Strings of every length from 0 to 70 with one byte that needs an escape
 * (or one that does not: ' ', 0x7f, a two-byte letter) at every position,
 * as a value and as a key: the writer's 16-byte scan, its overlapping last
 * check and its padded short strings print what jansson prints. */
static void strings_of_every_length_escape_as_jansson_escapes_them(void **state)
{
    (void)state;
    const char *const special[] = {"\"", "\\", "\x01", "\x1f", "\n", " ", "\x7f", "\xc3\xa9"};
    char buf[80];
    int checked = 0;
    for (size_t len = 0; len <= 70; len++)
        for (size_t k = 0; k < sizeof special / sizeof special[0]; k++)
            for (size_t at = 0; at + strlen(special[k]) <= len || (len == 0 && at == 0); at++) {
                for (size_t i = 0; i < len; i++)
                    buf[i] = (char)('a' + i % 26);
                if (len)
                    memcpy(buf + at, special[k], strlen(special[k]));
                json_t *doc = json_object();
                json_object_setn_new(doc, buf, len, json_stringn(buf, len));
                assert_same_as_jansson(doc);
                json_decref(doc);
                checked++;
                if (len == 0)
                    break;
            }
    assert_true(checked > 2000);
}

static bool is_plain_name(const char *s)
{
    for (; s && *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return s != NULL;
}

/* The response writes these with mq_jw_name, which does not escape: every
 * line's coverage codes, limit names and entity names, and every status. */
static void names_written_without_escaping_need_none(void **state)
{
    (void)state;
    for (int line = 0; line < MQ_LINE_COUNT; line++) {
        const mq_line_def *l = mq_line_get((mq_line)line);
        assert_non_null(l);
        for (int c = 0; c < l->ncoverages; c++) {
            assert_true(is_plain_name(l->coverages[c].code));
            for (int i = 0; i < 2; i++)
                if (l->coverages[c].limit_fields[i] >= 0)
                    assert_true(is_plain_name(l->coverages[c].limit_names[i]));
        }
        for (int k = 0; k < MQ_ENT_COUNT; k++)
            if (l->entity_names[k])
                assert_true(is_plain_name(l->entity_names[k]));
    }
    for (mq_status st = MQ_QUOTED; st <= MQ_TIMEOUT; st++)
        assert_true(is_plain_name(mq_status_name(st)));
}

/* Odd values: reals jansson fixes up (".0", exponents), integer extremes,
 * strings with NUL bytes and control characters, empty containers. */
static void any_tree_prints_as_jansson_prints_it(void **state)
{
    (void)state;
    const double reals[] = {
        0.0,
        -0.0,
        0.1,
        3.4,
        1e20,
        1e-7,
        1e300,
        -2.5e-300,
        1e15,
        1e16,
        1e17,
        714.0,
        1018.67,
        0.1 + 0.2,
        123456789.125,
        5e-324,
        0.05,
        -12.5,
        0.001,
        1018.6,
        -0.07,
        9999999999999.99,
        99999999999999.99,
        4503599627370.49,
        1.7976931348623157e308,
    };
    json_t *doc = json_object();
    json_t *arr = json_array();
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++)
        json_array_append_new(arr, json_real(reals[i]));
    json_object_set_new(doc, "reals", arr);
    json_object_set_new(
        doc, "ints",
        json_pack("[I,I,I,i]", (json_int_t)INT64_MAX, (json_int_t)INT64_MIN, (json_int_t)0, -17));
    json_object_set_new(doc, "nul", json_stringn("a\0b\x01\x1f\"\\/\t\n\r\b\f", 14));
    json_object_set_new(doc, "utf8", json_string("é ü 漢 \xf0\x9f\x98\x80"));
    json_object_setn_new(doc, "key\0with nul", 13, json_true());
    json_object_set_new(doc, "empty",
                        json_pack("{s:{}, s:[], s:s, s:b, s:n}", "o", "a", "s", "", "f", 0, "z"));
    json_object_set_new(doc, "deep", json_pack("[[[{s:[1,{s:2.5}]}]]]", "x", "y"));
    assert_same_as_jansson(doc);
    json_decref(doc);
}

/* Tips re-rate the carrier's own plan; a lower limit is suggested only down
 * to the state's minimum, never below it. */
/* Integers and money print as jansson prints them: every value below
 * 100,000, then each power of ten and its neighbours up to the limits. */
static void numbers_print_as_jansson_prints_them(void **state)
{
    (void)state;
    long long values[100000 + 3 * 19 * 2 + 2];
    size_t n = 0;
    for (long long v = 0; v < 100000; v++)
        values[n++] = v;
    long long p = 1;
    for (int e = 1; e <= 18; e++) {
        p *= 10;
        for (long long d = -1; d <= 1; d++) {
            values[n++] = p + d;
            values[n++] = -(p + d);
        }
    }
    values[n++] = LLONG_MAX;
    values[n++] = LLONG_MIN;
    for (size_t i = 0; i < n; i++) {
        mq_jw w = {0};
        mq_jw_int(&w, values[i]);
        char *got = mq_jw_finish(&w);
        json_t *j = json_integer(values[i]);
        char *want = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
        assert_string_equal(got, want);
        free(got);
        free(want);
        json_decref(j);
        /* money: cents below 10^13 dollars, as cents / 100.0 at precision 15 */
        long long c = values[i];
        if (c > -1000000000000000ll && c < 1000000000000000ll) {
            w = (mq_jw){0};
            mq_jw_cents(&w, c);
            got = mq_jw_finish(&w);
            j = json_real((double)c / 100.0);
            want = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(15));
            if (strcmp(got, want) != 0)
                fail_msg("cents %lld: wrote %s, jansson %s", c, got, want);
            free(got);
            free(want);
            json_decref(j);
        }
    }
}

/* mq_json_path writes what snprintf("%s[%llu]%s") writes, cut the same way. */
static void json_paths_are_written_as_snprintf_writes_them(void **state)
{
    (void)state;
    const unsigned long long idx[] = {0, 7, 10, 123, 4294967295ull, 18446744073709551615ull};
    const char *prefixes[] = {"", "vehicles", "drivers[1].incidents"};
    const char *suffixes[] = {"", ".vin", ".garaging_zip"};
    for (size_t i = 0; i < sizeof idx / sizeof idx[0]; i++)
        for (size_t p = 0; p < 3; p++)
            for (size_t s = 0; s < 3; s++)
                for (size_t cap = 1; cap <= 64; cap++) {
                    char want[64], got[64];
                    snprintf(want, cap, "%s[%llu]%s", prefixes[p], idx[i], suffixes[s]);
                    assert_ptr_equal(mq_json_path(got, cap, prefixes[p], idx[i], suffixes[s]), got);
                    assert_string_equal(got, want);
                }
}

/* Request file `path` parsed into *in and rated against every plan, memory
 * from *a (initialised here; the caller frees it). */
static void rate_example(const char *path, mq_arena *a, mq_input *in, mq_result **res, int *n)
{
    mq_arena_init(a, 0);
    ts_parse_request_file(path, a, in);
    assert_true(mq_rate_all(engine, in, &(mq_rate_opts){0}, a, res, n));
}

static void tips_never_go_below_the_legal_minimum(void **state)
{
    (void)state;
    mq_arena a;
    mq_input in;
    mq_result *res;
    int n;
    rate_example("examples/oh-single-driver.json", &a, &in, &res, &n);
    const char *lower =
        "Lower bodily injury limits to 50,000/100,000, still above the legal minimum, and "
        "uninsured motorist limits with them";
    /* Ohio's minimum is 25,000/50,000: the step below 100/300 is allowed */
    json_t *tips = mq_resp_tips(engine, &in, res, n, &(mq_tip_minimums){25000, 50000}, &a);
    size_t i;
    json_t *t;
    int found = 0;
    json_array_foreach(tips, i, t)
    {
        const char *change = json_string_value(json_object_get(t, "change"));
        if (strcmp(change, lower) != 0)
            continue;
        found++;
        assert_true(json_real_value(json_object_get(t, "saving")) > 0);
    }
    assert_true(found >= 1);
    json_decref(tips);
    /* with a minimum of 100,000/300,000 no tip may lower the limits */
    tips = mq_resp_tips(engine, &in, res, n, &(mq_tip_minimums){100000, 300000}, &a);
    json_array_foreach(tips, i, t)
        assert_null(strstr(json_string_value(json_object_get(t, "change")), "Lower bodily"));
    json_decref(tips);
    /* without known minimums, none either */
    tips = mq_resp_tips(engine, &in, res, n, NULL, &a);
    json_array_foreach(tips, i, t)
        assert_null(strstr(json_string_value(json_object_get(t, "change")), "Lower bodily"));
    json_decref(tips);
    mq_arena_free(&a);
}

/* No Ohio carrier offers 30,000/60,000, the step below the family's
 * 50,000/100,000: the tip goes on to 25,000/50,000, the legal minimum,
 * with the savings the carriers' own ratings at those limits give (the
 * family quoted again with bi and um at 25/50: 1,483 -> 1,346, 1,593 ->
 * 1,443, 1,597 -> 1,455). */
static void lower_limits_go_on_past_a_step_the_carrier_does_not_offer(void **state)
{
    (void)state;
    mq_arena a;
    mq_input in;
    mq_result *res;
    int n;
    rate_example("examples/oh-family-two-cars.json", &a, &in, &res, &n);
    mq_tip_list list;
    assert_true(mq_resp_tip_list(engine, &in, res, n, &(mq_tip_minimums){25000, 50000}, &a, &list));
    const char *want_carrier[] = {"threerivers", "keystone", "prairie"};
    const int64_t want_saving[] = {13700, 15000, 14200};
    int found = 0;
    for (int i = 0; i < list.count; i++) {
        assert_null(strstr(list.items[i].change, "30,000/60,000"));
        if (strstr(list.items[i].change, "Lower bodily") == NULL)
            continue;
        assert_string_equal(list.items[i].change,
                            "Lower bodily injury limits to 25,000/50,000, the legal minimum, "
                            "and uninsured motorist limits with them");
        assert_true(found < 3);
        assert_string_equal(list.items[i].carrier, want_carrier[found]);
        assert_int_equal(list.items[i].saving_cents, want_saving[found]);
        found++;
    }
    assert_int_equal(found, 3);
    /* with uninsured motorist already at 25/50 the tip changes bodily
     * injury only, and says only that */
    in.values[MQ_ENT_POLICY][MQ_AP_UM_PER_PERSON] = 25000;
    in.values[MQ_ENT_POLICY][MQ_AP_UM_PER_ACCIDENT] = 50000;
    assert_true(mq_resp_tip_list(engine, &in, res, n, &(mq_tip_minimums){25000, 50000}, &a, &list));
    found = 0;
    for (int i = 0; i < list.count; i++)
        if (strstr(list.items[i].change, "Lower bodily")) {
            assert_string_equal(list.items[i].change,
                                "Lower bodily injury limits to 25,000/50,000, the legal minimum");
            found++;
        }
    assert_true(found > 0);
    mq_arena_free(&a);
}

/* The change of the first tip of `carrier` that raises deductibles, or NULL. */
static const char *deductible_tip(const mq_tip_list *list, const char *carrier, int64_t *saving)
{
    for (int i = 0; i < list->count; i++)
        if (strcmp(list->items[i].carrier, carrier) == 0 &&
            strncmp(list->items[i].change, "Raise ", 6) == 0) {
            *saving = list->items[i].saving_cents;
            return list->items[i].change;
        }
    return NULL;
}

/* The deductible tip names the deductibles it raises. The family's v1 has
 * comprehensive at 500 and collision at 1,000 already, v2 neither: only
 * comprehensive is raised (Three Rivers 1,483 -> 1,472), and the tip said
 * "comprehensive and collision" before. v1 at 2,000 / 500: only collision
 * (the tip must not read as lowering comprehensive to 1,000). */
static void deductible_tip_names_what_it_raises(void **state)
{
    (void)state;
    mq_arena a;
    mq_input in;
    mq_result *res;
    int n;
    rate_example("examples/oh-family-two-cars.json", &a, &in, &res, &n);
    mq_tip_list list;
    int64_t saving = 0;
    assert_true(mq_resp_tip_list(engine, &in, res, n, &(mq_tip_minimums){25000, 50000}, &a, &list));
    assert_string_equal(deductible_tip(&list, "threerivers", &saving),
                        "Raise the comprehensive deductible to 1,000");
    assert_int_equal(saving, 1100);

    double *v1 = mq_input_row(&in, MQ_ENT_VEHICLE, 0);
    v1[MQ_AV_COMP_DEDUCTIBLE] = 2000;
    v1[MQ_AV_COLL_DEDUCTIBLE] = 500;
    assert_true(mq_rate_all(engine, &in, &(mq_rate_opts){0}, &a, &res, &n));
    assert_true(mq_resp_tip_list(engine, &in, res, n, &(mq_tip_minimums){25000, 50000}, &a, &list));
    const char *change = deductible_tip(&list, res[0].carrier_id, &saving);
    assert_non_null(change);
    assert_string_equal(change, "Raise the collision deductible to 1,000");
    /* the saving is the carrier's own total with collision at 1,000 */
    int64_t before = res[0].total_cents;
    v1[MQ_AV_COLL_DEDUCTIBLE] = 1000;
    mq_result alt;
    assert_true(mq_rate_plan(res[0].plan, &in, &(mq_rate_opts){0}, &a, &alt));
    assert_int_equal(alt.status, MQ_QUOTED);
    assert_int_equal(saving, before - alt.total_cents);

    /* comprehensive only, on both vehicles: plural, no collision named */
    double *v2 = mq_input_row(&in, MQ_ENT_VEHICLE, 1);
    v1[MQ_AV_COMP_DEDUCTIBLE] = 500;
    v1[MQ_AV_COLL_DEDUCTIBLE] = NAN;
    v2[MQ_AV_COMP_DEDUCTIBLE] = 250;
    assert_true(mq_rate_all(engine, &in, &(mq_rate_opts){0}, &a, &res, &n));
    assert_true(mq_resp_tip_list(engine, &in, res, n, &(mq_tip_minimums){25000, 50000}, &a, &list));
    assert_string_equal(deductible_tip(&list, res[0].carrier_id, &saving),
                        "Raise comprehensive deductibles to 1,000");
    mq_arena_free(&a);
}

/* The tips go to the three quotes that cost least a month. A rural Ohio
 * driver of 59 (tests/data/tips/oh-rural-annual-cheapest.json): Buckeye's
 * 12-month 576.00 is 48.00 a month, the cheapest (Prairie 345.00 for 6
 * months, 57.50; Summit 370.22, 61.70), but sorted by total it comes last
 * and got no tips; its deductible tip re-rates to 525.00 (bi 173, pd 118,
 * comp 72 -> 59, coll 189 -> 151, worked from the plan's tables). */
static void tips_go_to_the_cheapest_a_month(void **state)
{
    (void)state;
    mq_arena a;
    mq_input in;
    mq_result *res;
    int n;
    rate_example("tests/data/tips/oh-rural-annual-cheapest.json", &a, &in, &res, &n);
    int last_quoted = -1;
    for (int i = 0; i < n; i++)
        if (res[i].status == MQ_QUOTED)
            last_quoted = i;
    assert_string_equal(res[last_quoted].carrier_id, "buckeye"); /* by total: last */
    assert_int_equal(res[last_quoted].total_cents, 57600);
    assert_int_equal(res[last_quoted].term_months, 12);
    mq_tip_list list;
    assert_true(mq_resp_tip_list(engine, &in, res, n, &(mq_tip_minimums){25000, 50000}, &a, &list));
    assert_true(list.count > 0);
    assert_string_equal(list.items[0].carrier, "buckeye");
    const char *order[] = {"buckeye", "prairie", "summit"};
    int k = 0;
    for (int i = 0; i < list.count; i++) {
        if (k == 0 || strcmp(list.items[i].carrier, order[k - 1]) != 0) {
            assert_true(k < 3);
            assert_string_equal(list.items[i].carrier, order[k]);
            k++;
        }
    }
    assert_int_equal(k, 3);
    int64_t saving = 0;
    assert_string_equal(deductible_tip(&list, "buckeye", &saving),
                        "Raise comprehensive and collision deductibles to 1,000");
    assert_int_equal(saving, 5100);
    mq_arena_free(&a);
}

/* The total of the result of `carrier` in res; fails when there is none. */
static int64_t total_of(const mq_result *res, int n, const char *carrier)
{
    for (int i = 0; i < n; i++)
        if (strcmp(res[i].carrier_id, carrier) == 0 && res[i].status == MQ_QUOTED)
            return res[i].total_cents;
    fail_msg("no quote from %s", carrier);
    return -1;
}

/* Home and renters: the next higher all-peril deductible the carrier offers
 * and the bundle, for the three cheapest; each deductible tip's new total
 * is what the request with that deductible is quoted at. */
/* The bundle tip of one carrier in `list`, or NULL. */
static const mq_tip *bundle_tip(const mq_tip_list *list, const char *carrier)
{
    for (int i = 0; i < list->count; i++)
        if (!strcmp(list->items[i].carrier, carrier) &&
            strstr(list->items[i].change, "Insure your"))
            return &list->items[i];
    return NULL;
}

/* A bundle is suggested only by a carrier that writes the other policy in
 * the state on the effective date. The single driver of examples/ as a
 * renter on 2026-01-20: Buckeye writes no renters policy in Ohio, and
 * Summit's renters plan starts on 2026-02-01, so neither suggests one (both
 * plans price the discount); Keystone, writing renters from 2026-01-01,
 * does: a rented home, 66.00. The same applicant as a homeowner: Buckeye's
 * home plan (from 2026-01-01) saves 151.00 with "your home". */
static void a_bundle_only_where_the_carrier_writes_the_other_policy(void **state)
{
    (void)state;
    mq_arena a;
    mq_input in;
    mq_result *res;
    int n;
    rate_example("tests/data/tips/oh-renter-2026-01-20.json", &a, &in, &res, &n);
    mq_tip_list list;
    assert_true(mq_resp_tip_list(engine, &in, res, n, &(mq_tip_minimums){25000, 50000}, &a, &list));
    assert_null(bundle_tip(&list, "buckeye"));
    assert_null(bundle_tip(&list, "summit"));
    const mq_tip *t = bundle_tip(&list, "keystone");
    assert_non_null(t);
    assert_string_equal(t->change, "Insure your rented home with the same carrier too (its "
                                   "multi-line discount on this policy)");
    assert_int_equal(t->saving_cents, 6600);

    in.values[MQ_ENT_POLICY][MQ_AP_HOMEOWNER] = 1;
    assert_true(mq_rate_all(engine, &in, &(mq_rate_opts){0}, &a, &res, &n));
    assert_true(mq_resp_tip_list(engine, &in, res, n, &(mq_tip_minimums){25000, 50000}, &a, &list));
    t = bundle_tip(&list, "buckeye");
    assert_non_null(t);
    assert_string_equal(t->change, "Insure your home with the same carrier too (its multi-line "
                                   "discount on this policy)");
    assert_int_equal(t->saving_cents, 15100);
    mq_arena_free(&a);
}

static void property_tips_raise_the_deductible_one_step(void **state)
{
    (void)state;
#define BUNDLE_TIP                                                                                 \
    "Insure your car with the same carrier too (its multi-line discount on this policy)"
    static const char *bundle = BUNDLE_TIP;
    static const struct {
        const char *file;
        int deductible; /* the tips' */
        struct {
            const char *carrier, *change;
            int64_t saving, total;
        } want[6];
        int nwant;
    } cases[] = {
        {"tests/data/shoppers/home-oh-columbus-frame.json", /* at 1,000 */
         2500,
         {{"hearthstone", "Raise the all-peril deductible to 2,500", 16500, 100300},
          {"keystone", "Raise the all-peril deductible to 2,500", 15900, 104700},
          {"keystone", BUNDLE_TIP, 2900, 117700},
          {"summit", "Raise the all-peril deductible to 2,500", 15652, 108618},
          {"summit", BUNDLE_TIP, 14435, 109835}},
         5},
        {"tests/data/shoppers/renters-oh-cleveland-water.json", /* at 250 */
         500,
         {{"keystone", "Raise the all-peril deductible to 500", 2200, 21700},
          {"keystone", BUNDLE_TIP, 2700, 21200},
          {"summit", "Raise the all-peril deductible to 500", 2106, 23070},
          {"summit", BUNDLE_TIP, 2698, 22478},
          {"hearthstone", "Raise the all-peril deductible to 500", 2300, 26200}},
         5},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        mq_arena a;
        mq_input in;
        mq_result *res;
        int n;
        rate_example(cases[c].file, &a, &in, &res, &n);
        mq_tip_list list;
        assert_true(mq_resp_tip_list(engine, &in, res, n, NULL, &a, &list));
        assert_int_equal(list.count, cases[c].nwant);
        /* the same request at the tips' deductible, rated by every plan */
        mq_input more = in;
        more.values[MQ_ENT_POLICY] = ts_copy_values(&in, MQ_ENT_POLICY, &a);
        more.values[MQ_ENT_POLICY][MQ_HP_DEDUCTIBLE] = cases[c].deductible;
        mq_result *res2;
        int n2;
        assert_true(mq_rate_all(engine, &more, &(mq_rate_opts){0}, &a, &res2, &n2));
        for (int i = 0; i < list.count; i++) {
            const mq_tip *t = &list.items[i];
            assert_string_equal(t->carrier, cases[c].want[i].carrier);
            assert_string_equal(t->change, cases[c].want[i].change);
            assert_int_equal(t->saving_cents, cases[c].want[i].saving);
            assert_int_equal(t->new_total_cents, cases[c].want[i].total);
            assert_int_equal(t->saving_cents + t->new_total_cents, total_of(res, n, t->carrier));
            if (strcmp(t->change, bundle) != 0)
                assert_int_equal(t->new_total_cents, total_of(res2, n2, t->carrier));
        }
        mq_arena_free(&a);
    }
    /* term life and health have none */
    mq_arena a;
    mq_input in;
    mq_result *res;
    int n;
    rate_example("tests/data/shoppers/health-oh-single-40.json", &a, &in, &res, &n);
    mq_tip_list list;
    assert_true(mq_resp_tip_list(engine, &in, res, n, NULL, &a, &list));
    assert_int_equal(list.count, 0);
    mq_arena_free(&a);
}

/* A remote carrier's result (no local plan, the carrier's own) is written
 * with "remote": true after its plan, read back as remote; a local result
 * has no such member, and a result saved without one reads as local. */
static void a_remote_result_is_saved_as_remote(void **state)
{
    (void)state;
    mq_arena a;
    mq_input in;
    mq_result *res;
    int n;
    rate_example("examples/oh-single-driver.json", &a, &in, &res, &n);
    assert_true(n >= 1 && res[0].plan && res[0].status == MQ_QUOTED);
    mq_result two[2] = {res[0], res[0]};
    two[1].plan = NULL;
    two[1].carrier_id = "acme";
    two[1].remote_plan_id = "acme-oh";
    two[1].remote_plan_version = "7";
    char *text = mq_resp_text(&in, two, 2, NULL, NULL);
    assert_non_null(text);
    assert_jansson_would_print(text);
    const char *remote = strstr(text, "\"remote\":true");
    assert_non_null(remote);
    assert_null(strstr(remote + 1, "\"remote\""));     /* once: the remote result's */
    assert_non_null(strstr(text, "{\"id\":\"acme\"")); /* ...which is after the local one */
    assert_true(strstr(text, "{\"id\":\"acme\"") < remote);
    assert_non_null(strstr(text, "\"plan\":{\"id\":\"acme-oh\",\"version\":\"7\"},\"remote\":true,"
                                 "\"status\":\"quoted\""));
    mq_saved_result *rows;
    assert_int_equal(mq_resp_saved_results(text, &a, &rows), 2);
    assert_false(rows[0].remote);
    assert_true(rows[1].remote);
    assert_string_equal(rows[1].carrier, "acme");
    assert_string_equal(rows[1].plan_id, "acme-oh");
    assert_string_equal(rows[1].version, "7");
    assert_int_equal(rows[1].total_cents, res[0].total_cents);
    free(text);
    /* saved before "remote" was recorded, or with anything but true */
    const char *old = "{\"results\":[{\"carrier\":{\"id\":\"x\"},\"plan\":{\"id\":\"x-oh\","
                      "\"version\":\"1\"},\"status\":\"declined\"},{\"carrier\":{\"id\":\"y\"},"
                      "\"plan\":null,\"remote\":\"yes\",\"status\":\"error\"}]}";
    assert_int_equal(mq_resp_saved_results(old, &a, &rows), 2);
    assert_false(rows[0].remote);
    assert_false(rows[1].remote);
    assert_string_equal(rows[1].plan_id, "");
    mq_arena_free(&a);
}

/* A health result records the benchmark its credit came from, after its
 * credit note: {plan: {id, version, digest}, premium, candidates}, or null when no
 * plan of the benchmark metal quoted; the saved response gives it back for
 * requote and the worksheet (mq_resp_saved_benchmark finds its version).
 * A response saved before it was recorded has none: chosen again. */
static void a_health_result_records_its_benchmark(void **state)
{
    (void)state;
    mq_arena a;
    mq_input in;
    mq_result *res;
    int n;
    rate_example("tests/data/shoppers/health-oh-single-40.json", &a, &in, &res, &n);
    assert_true(n >= 2 && res[0].benchmark && res[0].benchmark->plan);
    mq_result two[2] = {res[0], res[1]};
    two[1].benchmark = &(mq_benchmark){NULL, -1, 0};
    char *text = mq_resp_text(&in, two, 2, NULL, NULL);
    assert_non_null(text);
    assert_jansson_would_print(text);
    mq_plan_info bi;
    mq_plan_get_info(res[0].benchmark->plan, &bi);
    char want[512];
    snprintf(want, sizeof want,
             ",\"benchmark\":{\"plan\":{\"id\":\"buckeye-silver-3500\",\"version\":\"2026\","
             "\"digest\":\"%.16s\"},\"premium\":514.71,\"candidates\":3},\"market\":",
             bi.digest);
    assert_non_null(strstr(text, want));
    assert_non_null(strstr(text, ",\"benchmark\":null,\"coverages\":"));
    mq_saved_result *rows;
    mq_benchmark b;
    assert_int_equal(mq_resp_saved_results(text, &a, &rows), 2);
    assert_true(rows[0].benchmark_recorded);
    assert_string_equal(rows[0].benchmark_plan_id, "buckeye-silver-3500");
    assert_string_equal(rows[0].benchmark_version, "2026");
    assert_int_equal(rows[0].benchmark_candidates, 3);
    assert_int_equal(mq_resp_saved_benchmark(engine, &rows[0], &b), 1);
    assert_ptr_equal(b.plan, res[0].benchmark->plan);
    assert_int_equal(b.candidates, 3);
    assert_true(rows[1].benchmark_recorded); /* null: there was none */
    assert_string_equal(rows[1].benchmark_plan_id, "");
    assert_int_equal(mq_resp_saved_benchmark(engine, &rows[1], &b), 1);
    assert_null(b.plan);
    rows[0].benchmark_version = "1999"; /* a version not loaded */
    assert_int_equal(mq_resp_saved_benchmark(engine, &rows[0], &b), -1);
    free(text);
    /* saved before benchmarks were recorded; another line's */
    const char *old = "{\"results\":[{\"carrier\":{\"id\":\"x\"},\"plan\":{\"id\":\"x-oh\","
                      "\"version\":\"1\"},\"status\":\"declined\"}]}";
    assert_int_equal(mq_resp_saved_results(old, &a, &rows), 1);
    assert_false(rows[0].benchmark_recorded);
    assert_int_equal(mq_resp_saved_benchmark(engine, &rows[0], &b), 0);
    assert_null(b.plan);
    mq_arena_free(&a);

    rate_example("examples/oh-single-driver.json", &a, &in, &res, &n);
    text = mq_resp_text(&in, res, n, NULL, NULL);
    assert_non_null(text);
    assert_null(strstr(text, "benchmark"));
    free(text);
    mq_arena_free(&a);
}

/* The SHA-256 of file `path`, as sha256sum prints it. */
static void sha256sum_of(const char *path, char out[65])
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "sha256sum '%s'", path);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    assert_non_null(fgets(out, 65, f));
    assert_int_equal(pclose(f), 0);
    assert_int_equal(strlen(out), 64);
}

/* A result says which files priced it, so that a saved quote can tell
 * later whether they were edited in place: its plan's digest (as
 * GET /v1/plans shows it) in "plan", for health the benchmark plan's in
 * "benchmark" and the market's id and the SHA-256 of its market.yaml in
 * "market"; each read back from the saved text (with the tax credit), and
 * each taken out by mq_resp_strip_identity, which leaves what was priced.
 * A remote carrier's plan has no digest here; a quote saved before digests
 * were recorded reads back "" for each. */
/* A digest as a result recorded it: the first MQ_RESP_DIGEST_CHARS hex
 * digits of the full one. */
static void assert_recorded(const char *recorded, const char *full)
{
    assert_int_equal(strlen(recorded), MQ_RESP_DIGEST_CHARS);
    assert_int_equal(strncmp(recorded, full, MQ_RESP_DIGEST_CHARS), 0);
    assert_true(mq_resp_digest_same(recorded, full));
}

/* A recorded digest matches the full digest it starts; never an empty one
 * (a quote that recorded none cannot tell), nor no digest now. */
static void a_recorded_digest_is_compared_by_its_digits(void **state)
{
    (void)state;
    const char *full = "9921ed13bc0f43425a1eff0ee314e85eabc1944fa22cbfcf0c656ee900e92be7";
    assert_true(mq_resp_digest_same("9921ed13bc0f4342", full));
    assert_true(mq_resp_digest_same(full, full));
    assert_false(mq_resp_digest_same("9921ed13bc0f4343", full));
    assert_false(mq_resp_digest_same("", full));
    assert_false(mq_resp_digest_same("9921ed13bc0f4342", NULL));
    assert_false(mq_resp_digest_same(full, "9921ed13bc0f4342"));
}

static void a_result_records_the_digests_of_its_files(void **state)
{
    (void)state;
    mq_arena a;
    mq_input in;
    mq_result *res;
    int n;
    rate_example("tests/data/shoppers/health-oh-single-40.json", &a, &in, &res, &n);
    assert_true(n >= 1 && res[0].plan && res[0].status == MQ_QUOTED && res[0].benchmark);
    mq_plan_info pi, bi;
    mq_plan_get_info(res[0].plan, &pi);
    mq_plan_get_info(res[0].benchmark->plan, &bi);
    assert_int_equal(strlen(pi.digest), 64);
    char market[65], want[512];
    sha256sum_of("plans/_markets/aca-individual-2026/market.yaml", market);
    char *text = mq_resp_text(&in, res, 1, NULL, NULL);
    assert_non_null(text);
    assert_jansson_would_print(text);
    snprintf(want, sizeof want, "\"plan\":{\"id\":\"%s\",\"version\":\"%s\",\"digest\":\"%.16s\"},",
             pi.plan_id, pi.version, pi.digest);
    assert_non_null(strstr(text, want));
    snprintf(want, sizeof want,
             "\"candidates\":3},\"market\":{\"id\":\"aca-individual-2026\",\"digest\":\"%.16s\"},"
             "\"coverages\":",
             market);
    assert_non_null(strstr(text, want));

    mq_saved_result *rows;
    assert_int_equal(mq_resp_saved_results(text, &a, &rows), 1);
    assert_recorded(rows[0].digest, pi.digest);
    assert_recorded(rows[0].benchmark_digest, bi.digest);
    assert_string_equal(rows[0].market_id, "aca-individual-2026");
    assert_recorded(rows[0].market_digest, market);
    assert_int_equal(rows[0].credit_cents, res[0].credit_cents);
    assert_true(res[0].credit_cents > 0);

    /* taken out, what is left is what was priced, and nothing else went */
    json_t *doc = json_loads(text, 0, NULL),
           *r = json_array_get(json_object_get(doc, "results"), 0);
    assert_non_null(r);
    size_t members = json_object_size(r);
    mq_resp_strip_identity(r);
    assert_int_equal(json_object_size(r), members - 1); /* "market" */
    assert_null(json_object_get(json_object_get(r, "plan"), "digest"));
    assert_null(
        json_object_get(json_object_get(json_object_get(r, "benchmark"), "plan"), "digest"));
    assert_string_equal(json_string_value(json_object_get(json_object_get(r, "plan"), "version")),
                        pi.version);
    assert_non_null(json_object_get(r, "tax_credit"));
    json_decref(doc);
    free(text);

    /* a remote carrier's plan: no digest; another line: no market, no credit */
    mq_arena_free(&a);
    rate_example("examples/oh-single-driver.json", &a, &in, &res, &n);
    mq_result two[2] = {res[0], res[0]};
    two[1].plan = NULL;
    two[1].remote_plan_id = "acme-oh";
    two[1].remote_plan_version = "7";
    text = mq_resp_text(&in, two, 2, NULL, NULL);
    assert_non_null(text);
    assert_null(strstr(text, "\"market\""));
    assert_int_equal(mq_resp_saved_results(text, &a, &rows), 2);
    mq_plan_get_info(res[0].plan, &pi);
    assert_recorded(rows[0].digest, pi.digest);
    assert_string_equal(rows[0].market_id, "");
    assert_int_equal(rows[0].credit_cents, -1);
    assert_string_equal(rows[1].digest, "");
    free(text);

    /* saved before digests were recorded */
    const char *old = "{\"results\":[{\"carrier\":{\"id\":\"x\"},\"plan\":{\"id\":\"x-oh\","
                      "\"version\":\"1\"},\"status\":\"quoted\",\"tax_credit\":12.5,"
                      "\"benchmark\":null}]}";
    assert_int_equal(mq_resp_saved_results(old, &a, &rows), 1);
    assert_string_equal(rows[0].digest, "");
    assert_string_equal(rows[0].benchmark_digest, "");
    assert_string_equal(rows[0].market_id, "");
    assert_string_equal(rows[0].market_digest, "");
    assert_int_equal(rows[0].credit_cents, 1250);
    mq_arena_free(&a);
}

/* What a tip changes, read from its words in every wording written since
 * tips were saved: the same change in older words is the same tip; other
 * limits, another deductible or another vehicle is another one. */
static void tips_are_read_in_every_wording(void **state)
{
    (void)state;
    static const struct {
        const char *now, *then; /* then: an older program's words, or NULL */
        mq_tip_kind kind;
        int64_t amount[2];
        const char *vehicle;
    } cases[] = {
        {"Raise the collision deductible to 1,000",
         "Raise comprehensive and collision deductibles to 1,000",
         MQ_TIP_DEDUCTIBLES,
         {0, 0},
         NULL},
        {"Raise comprehensive deductibles to 1,000", NULL, MQ_TIP_DEDUCTIBLES, {0, 0}, NULL},
        {"Choose paperless documents", NULL, MQ_TIP_PAPERLESS, {0, 0}, NULL},
        {"Insure your home with the same carrier too (its multi-line discount on this policy)",
         "Insure your home or rented home with the same carrier too (multi-line discount on this "
         "policy)",
         MQ_TIP_BUNDLE,
         {0, 0},
         NULL},
        {"Insure your car with the same carrier too (its multi-line discount on this policy)",
         NULL,
         MQ_TIP_BUNDLE,
         {0, 0},
         NULL},
        {"Lower bodily injury limits to 50,000/100,000, still above the legal minimum, and "
         "uninsured motorist limits with them",
         "Lower bodily injury limits to 50,000/100,000, still above the legal minimum",
         MQ_TIP_LOWER_BI,
         {50000, 100000},
         NULL},
        {"Lower bodily injury limits to 25,000/50,000, the legal minimum",
         NULL,
         MQ_TIP_LOWER_BI,
         {25000, 50000},
         NULL},
        {"Lower bodily injury limits to 500,000/1,000,000, still above the legal minimum",
         NULL,
         MQ_TIP_LOWER_BI,
         {500000, 1000000},
         NULL},
        {"Raise the all-peril deductible to 500", NULL, MQ_TIP_PROPERTY_DEDUCTIBLE, {500, 0}, NULL},
        {"Raise the all-peril deductible to 2,500",
         NULL,
         MQ_TIP_PROPERTY_DEDUCTIBLE,
         {2500, 0},
         NULL},
        {"Drop collision on v1 (11 years old)",
         "Drop collision on v1 (10 years old)",
         MQ_TIP_DROP_COLLISION,
         {0, 0},
         "v1"},
        /* a vehicle id with words of other tips in it is still a vehicle */
        {"Drop collision on my paperless (old) car (14 years old)",
         NULL,
         MQ_TIP_DROP_COLLISION,
         {0, 0},
         "my paperless (old) car"},
        {"Buy a sturdier car", NULL, MQ_TIP_UNKNOWN, {0, 0}, NULL},
        {"Lower bodily injury limits to lots", NULL, MQ_TIP_UNKNOWN, {0, 0}, NULL},
        {"Raise the all-peril deductible to 2,50", NULL, MQ_TIP_UNKNOWN, {0, 0}, NULL},
    };
    enum { N = sizeof cases / sizeof cases[0] };
    mq_tip_change c[N];
    for (int i = 0; i < N; i++) {
        mq_tip_change_read(cases[i].now, &c[i]);
        assert_int_equal(c[i].kind, cases[i].kind);
        if (cases[i].kind == MQ_TIP_LOWER_BI || cases[i].kind == MQ_TIP_PROPERTY_DEDUCTIBLE) {
            assert_int_equal(c[i].amount[0], cases[i].amount[0]);
            assert_int_equal(c[i].amount[1], cases[i].amount[1]);
        }
        if (cases[i].vehicle) {
            assert_int_equal(c[i].vehicle_len, strlen(cases[i].vehicle));
            assert_memory_equal(c[i].vehicle, cases[i].vehicle, c[i].vehicle_len);
        }
        if (cases[i].then) {
            mq_tip_change t;
            mq_tip_change_read(cases[i].then, &t);
            assert_true(mq_tip_change_same(&c[i], &t));
        }
    }
    /* each is the same as itself (unknown words too) and as no other, but
     * the deductibles' and the bundles' two words */
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            bool same_kind_no_subject =
                cases[i].kind == cases[j].kind &&
                (cases[i].kind == MQ_TIP_DEDUCTIBLES || cases[i].kind == MQ_TIP_BUNDLE);
            assert_int_equal(mq_tip_change_same(&c[i], &c[j]), i == j || same_kind_no_subject);
        }
    mq_tip_change none;
    mq_tip_change_read(NULL, &none);
    assert_int_equal(none.kind, MQ_TIP_UNKNOWN);
    assert_string_equal(none.text, "");
}

/* Saved tips are read with whatever they lack said so ("" and -1), and a
 * response without "tips" (saved before tips were) says it has none. */
static void saved_tips_are_read_back(void **state)
{
    (void)state;
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_saved_tip *t;
    assert_int_equal(mq_resp_saved_tips("{\"results\":[],\"tips\":[{\"carrier\":\"harbor\","
                                        "\"change\":\"Choose paperless documents\","
                                        "\"saving\":21.5},{\"plan\":7,\"new_total\":1018.67}]}",
                                        &a, &t),
                     2);
    assert_string_equal(t[0].carrier, "harbor");
    assert_string_equal(t[0].plan, "");
    assert_int_equal(t[0].saving_cents, 2150);
    assert_int_equal(t[0].new_total_cents, -1);
    assert_string_equal(t[1].carrier, "");
    assert_string_equal(t[1].plan, "");
    assert_string_equal(t[1].change, "");
    assert_int_equal(t[1].saving_cents, -1);
    assert_int_equal(t[1].new_total_cents, 101867);
    assert_int_equal(mq_resp_saved_tips("{\"results\":[]}", &a, &t), -1);
    assert_int_equal(mq_resp_saved_tips("{\"results\":[],\"tips\":{}}", &a, &t), -1);
    assert_int_equal(mq_resp_saved_tips("{\"results\":[],\"tips\":[]}", &a, &t), 0);
    assert_int_equal(mq_resp_saved_tips("{\"tips\":[{\"saving\":-3,\"new_total\":1e300}]}", &a, &t),
                     1);
    assert_int_equal(t[0].saving_cents, -1);
    assert_int_equal(t[0].new_total_cents, -1);
    assert_int_equal(mq_resp_saved_tips("not json", &a, &t), -2);
    mq_arena_free(&a);
}

/* ---- A saved result against the same rated again (mq_resp_compare) ---- */

/* Harbor's result for the single-driver example, as a quote saves it
 * (its fee: "Policy fee" 18.00), parsed; *then a copy to edit. */
static json_t *harbor_result(mq_arena *a, mq_input *in, json_t **then)
{
    mq_result *res;
    int n;
    rate_example("examples/oh-single-driver.json", a, in, &res, &n);
    for (int i = 0; i < n; i++)
        if (res[i].plan && strcmp(res[i].carrier_id, "harbor") == 0) {
            json_t *now = mq_resp_result(in, &res[i]);
            assert_non_null(now);
            *then = json_deep_copy(now);
            return now;
        }
    fail_msg("no harbor result");
    return NULL;
}

/* The differences, one "KIND path" a line (S substance, W wording, N new). */
static const char *diff_list(const json_t *then, const json_t *now, mq_arena *a)
{
    mq_resp_diffs d;
    assert_true(mq_resp_compare(then, now, a, &d));
    const char *out = "";
    int substance = 0;
    for (int i = 0; i < d.count; i++) {
        const mq_resp_diff *x = &d.items[i];
        substance += x->kind == MQ_DIFF_SUBSTANCE;
        out = mq_arena_printf(a, "%s%c %s\n", out,
                              "SWN"[x->kind == MQ_DIFF_SUBSTANCE ? 0
                                    : x->kind == MQ_DIFF_WORDING ? 1
                                                                 : 2],
                              x -> path);
    }
    assert_int_equal(substance, d.substance);
    assert_true((mq_resp_first_substance(&d) != NULL) == (substance > 0));
    return out;
}

/* What the quote promised is compared to the cent; its wording, and the
 * members new since, are told apart: a fee's name, notes and the
 * verification texts are wording; a fee's amount, a coverage's premium, a
 * reason, a member gone are substance; the digests are not compared. */
static void a_saved_result_is_compared_by_what_it_promised(void **state)
{
    (void)state;
    mq_arena a;
    mq_input in;
    json_t *then = NULL, *now = harbor_result(&a, &in, &then);
    assert_string_equal(diff_list(then, now, &a), "");
    json_t *fee = json_array_get(json_object_get(then, "fees"), 0);
    assert_string_equal(json_string_value(json_object_get(fee, "name")), "Policy fee");

    json_object_set_new(fee, "name", json_string("Policy charge"));
    json_array_append_new(json_object_get(then, "notes"), json_string("said then"));
    json_object_set_new(json_array_get(json_object_get(then, "verifies"), 0), "text",
                        json_string("other words"));
    json_object_set_new(json_object_get(then, "plan"), "digest", json_string("0123456789abcdef"));
    json_object_del(json_object_get(then, "premium"), "minimum_premium_applied");
    assert_string_equal(diff_list(then, now, &a), "N premium.minimum_premium_applied\n"
                                                  "W fees[0].name\n"
                                                  "W notes\n"
                                                  "W verifies\n");

    json_object_set_new(fee, "amount", json_real(18.01));
    json_object_set_new(json_array_get(json_object_get(then, "coverages"), 1), "premium",
                        json_real(1.0));
    json_array_append_new(json_object_get(then, "reasons"), json_string("declined then"));
    json_object_set_new(json_object_get(then, "premium"), "discount", json_real(12.0));
    assert_string_equal(diff_list(then, now, &a), "N premium.minimum_premium_applied\n"
                                                  "S premium.discount\n"
                                                  "S coverages[1].premium\n"
                                                  "W fees[0].name\n"
                                                  "S fees[0].amount\n"
                                                  "S reasons[0]\n"
                                                  "W notes\n"
                                                  "W verifies\n");

    /* money by value (714 is 714.0); the words that differ shown */
    json_t *total = json_object_get(json_object_get(now, "premium"), "total");
    assert_true(json_is_real(total) && json_real_value(total) == 714.0);
    json_t *whole = json_integer(714);
    mq_resp_diffs d;
    assert_true(mq_resp_compare(whole, total, &a, &d));
    assert_int_equal(d.count, 0);
    json_decref(whole);
    const char *x, *y;
    json_t *s = json_string("Raise comprehensive and collision deductibles to 1,000");
    json_t *t = json_string("Raise comprehensive and collision deductibles to 2,500");
    assert_true(mq_resp_diff_texts(s, t, 60, &a, &x, &y));
    assert_string_equal(x, "... deductibles to 1,000\"");
    assert_string_equal(y, "... deductibles to 2,500\"");
    assert_true(mq_resp_diff_texts(NULL, total, 60, &a, &x, &y));
    assert_string_equal(x, "nothing");
    assert_string_equal(y, "714.0");
    json_decref(s);
    json_decref(t);
    json_decref(then);
    json_decref(now);
    mq_arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_sample_request_prints_as_jansson_would),
        cmocka_unit_test(strings_and_money_are_escaped_as_jansson_escapes_them),
        cmocka_unit_test(strings_of_every_length_escape_as_jansson_escapes_them),
        cmocka_unit_test(names_written_without_escaping_need_none),
        cmocka_unit_test(numbers_print_as_jansson_prints_them),
        cmocka_unit_test(json_paths_are_written_as_snprintf_writes_them),
        cmocka_unit_test(tips_never_go_below_the_legal_minimum),
        cmocka_unit_test(deductible_tip_names_what_it_raises),
        cmocka_unit_test(tips_go_to_the_cheapest_a_month),
        cmocka_unit_test(lower_limits_go_on_past_a_step_the_carrier_does_not_offer),
        cmocka_unit_test(a_bundle_only_where_the_carrier_writes_the_other_policy),
        cmocka_unit_test(property_tips_raise_the_deductible_one_step),
        cmocka_unit_test(tips_are_read_in_every_wording),
        cmocka_unit_test(saved_tips_are_read_back),
        cmocka_unit_test(any_tree_prints_as_jansson_prints_it),
        cmocka_unit_test(a_remote_result_is_saved_as_remote),
        cmocka_unit_test(a_health_result_records_its_benchmark),
        cmocka_unit_test(a_recorded_digest_is_compared_by_its_digits),
        cmocka_unit_test(a_result_records_the_digests_of_its_files),
        cmocka_unit_test(a_saved_result_is_compared_by_what_it_promised),
    };
    return cmocka_run_group_tests_name("response", tests, load, unload);
}
