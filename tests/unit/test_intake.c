/* test_intake.c -- src/intake: VINs, state rules, request checks and ACORD XML.
 *
 * VIN check digits (valid VINs; every single-character change of a valid VIN
 * caught; I, O and Q refused), model years across both 30-year cycles for all
 * 30 year codes, makers from the bundled WMI table (real vehicles of makes
 * that share a WMI accepted, other makes refused naming them all; a VIN in
 * lower case checked as capitals); every state's minimum
 * limits on 2026-03-01 (all 51, exact), the laws that changed (California
 * 2025, New Jersey 2023 and 2026), ZIP prefixes; mq_intake_check's messages;
 * broken data files reported as file:line. ACORD: Harbor's examples 1 and 2
 * map onto exactly the contract's JSON of examples/, rate to Harbor 714.00 and
 * 1866.00 and come back as a PersAutoPolicyQuoteInqRs; malformed XML, the
 * billion-laughs and external-entity attacks, unknown, repeated and missing
 * elements are refused with their XPaths; 300 byte-mutated copies of example
 * 2 never crash. Run from the repository root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support.h"

#include "intake.h"

#include <libxml/parser.h>
#include <libxml/xpath.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DATA  "data"
#define ACORD "tests/data/acord"

static mq_intake *ik;

static int setup(void **state)
{
    (void)state;
    char err[512];
    ik = mq_intake_load(DATA, err, sizeof err);
    if (!ik)
        fprintf(stderr, "%s\n", err);
    return ik ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    mq_intake_free(ik);
    return 0;
}

/* ---- VIN --------------------------------------------------------------------- */

/* A VIN with its check digit computed: `v` with position 9 replaced. */
static void with_check(char *v)
{
    v[8] = mq_vin_check_digit(v);
}

static void test_check_digit_valid(void **state)
{
    (void)state;
    static const char *const good[] = {
        "1HGCM82633A004352", /* 2003 Honda Accord */
        "1M8GDM9AXKP042788", /* 1989 MCI coach: check digit X */
        "JH4KA7561PC008269", /* 1993 Acura Legend */
        "11111111111111111", "3VWFE21C04M000001",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        mq_vin v;
        if (!mq_vin_decode(ik, good[i], &v))
            fail_msg("%s: %s", good[i], v.errors[0]);
        assert_int_equal(v.check, good[i][8]);
        assert_int_equal(v.nerrors, 0);
    }
    assert_int_equal(mq_vin_check_digit("1M8GDM9AXKP042788"), 'X');
    assert_int_equal(mq_vin_value('A'), 1);
    assert_int_equal(mq_vin_value('J'), 1);
    assert_int_equal(mq_vin_value('P'), 7);
    assert_int_equal(mq_vin_value('R'), 9);
    assert_int_equal(mq_vin_value('S'), 2);
    assert_int_equal(mq_vin_value('Z'), 9);
    assert_int_equal(mq_vin_value('I'), -1);
    assert_int_equal(mq_vin_value('O'), -1);
    assert_int_equal(mq_vin_value('Q'), -1);
    assert_int_equal(mq_vin_value('a'), -1);
}

/* Every change of one character to another of a different value is caught
 * (every weight but position 9's is prime to 11). */
static void test_check_digit_catches_every_single_change(void **state)
{
    (void)state;
    const char *good = "1HGCM82633A004352";
    static const char alphabet[] = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ";
    int tried = 0;
    for (int pos = 0; pos < 17; pos++)
        for (const char *c = alphabet; *c; c++) {
            char v[18];
            memcpy(v, good, 18);
            if (mq_vin_value(*c) == mq_vin_value(v[pos]))
                continue;
            v[pos] = *c;
            mq_vin d;
            if (pos == 9 && !mq_vin_year(v))
                continue; /* not a year code: refused anyway */
            if (mq_vin_decode(ik, v, &d))
                fail_msg("%s (position %d changed) was accepted", v, pos + 1);
            tried++;
        }
    assert_true(tried > 400);

    mq_vin d;
    assert_false(mq_vin_decode(ik, "1HGCM82643A004352", &d));
    assert_int_equal(d.nerrors, 1);
    assert_string_equal(
        d.errors[0], "check digit (position 9) is \"4\" but the VIN's other characters give \"3\"");
}

static void test_ioq_and_length_refused(void **state)
{
    (void)state;
    mq_vin d;
    assert_false(mq_vin_decode(ik, "1HGCM82633AO04352", &d));
    assert_string_equal(d.errors[0], "position 12 is \"O\": I, O and Q are never used in a VIN");
    assert_false(mq_vin_decode(ik, "IHGCM82633A004352", &d));
    assert_string_equal(d.errors[0], "position 1 is \"I\": I, O and Q are never used in a VIN");
    assert_false(mq_vin_decode(ik, "1HGCM8263QA004352", &d));
    assert_string_equal(d.errors[0], "position 10 is \"Q\": I, O and Q are never used in a VIN");
    assert_false(mq_vin_decode(ik, "1HGCM82633A00435", &d));
    assert_string_equal(d.errors[0], "has 16 characters; a VIN has 17");
    assert_false(mq_vin_decode(ik, "1HGCM82633A004352X", &d));
    assert_string_equal(d.errors[0], "has 18 characters; a VIN has 17");
    assert_false(mq_vin_decode(ik, "1HG-M82633A004352", &d));
    assert_string_equal(d.errors[0], "position 4 is not a letter or digit");
    /* characters, not bytes: "é" is two bytes of UTF-8 (it said "has 4
     * characters" for "éé", and named the positions of bytes) */
    assert_false(mq_vin_decode(ik, "\xc3\xa9\xc3\xa9", &d));
    assert_string_equal(d.errors[0], "has 2 characters; a VIN has 17");
    assert_string_equal(d.errors[1], "position 1 is not a letter or digit");
    assert_string_equal(d.errors[2], "position 2 is not a letter or digit");
    assert_false(mq_vin_decode(ik, "1HG\xc3\x89M82633A004352", &d));
    assert_string_equal(d.errors[0], "position 4 is not a letter or digit");
    assert_int_equal(d.nerrors, 1);
    assert_string_equal(d.vin, "1HG?M82633A004352");
    assert_false(mq_vin_decode(ik, NULL, &d));
    assert_false(mq_vin_decode(ik, "", &d));
    /* U, Z and 0 are never year codes */
    char v[18] = "1HGCM8263UA004352";
    with_check(v);
    assert_false(mq_vin_decode(ik, v, &d));
    assert_string_equal(d.errors[0],
                        "position 10 is \"U\", not a model year code (never 0, U, Z, I, O or Q)");
    /* lower case is read as upper case */
    assert_true(mq_vin_decode(ik, "1hgcm82633a004352", &d));
    assert_string_equal(d.vin, "1HGCM82633A004352");
}

/* Position 10 in both cycles, told apart by position 7 (49 CFR 565.15). */
static void test_model_year_both_cycles(void **state)
{
    (void)state;
    static const char codes[] = "ABCDEFGHJKLMNPRSTVWXY123456789";
    for (int i = 0; i < 30; i++) {
        char old[18] = "1HGCM82633A004352", young[18] = "1HGCM8C633A004352";
        old[9] = young[9] = codes[i];
        with_check(old);
        with_check(young);
        mq_vin d;
        assert_true(mq_vin_decode(ik, old, &d));
        if (d.year != 1980 + i)
            fail_msg("%s: year %d, expected %d", old, d.year, 1980 + i);
        assert_true(mq_vin_decode(ik, young, &d));
        if (d.year != 2010 + i)
            fail_msg("%s: year %d, expected %d", young, d.year, 2010 + i);
    }
    assert_int_equal(mq_vin_year("1HGCM82633A004352"), 2003);
    assert_int_equal(mq_vin_year("1M8GDM9AXKP042788"), 1989);
    assert_int_equal(mq_vin_year("JH4KA7561PC008269"), 1993);
    char tesla[18] = "5YJ3E1EA0KF317000", corolla[18] = "2T1BURHE0JC074554";
    with_check(tesla);
    with_check(corolla);
    assert_int_equal(mq_vin_year(tesla), 2019);
    assert_int_equal(mq_vin_year(corolla), 2018);
    assert_int_equal(mq_vin_year("1HGCM82633"), 2003);
    assert_int_equal(mq_vin_year("1HGCM826"), 0);
}

/* A motorcycle's or heavy truck's position 7 says nothing of the cycle
 * (49 CFR 565.15 gives that rule for light vehicles only): real VINs with
 * a letter there from before 2010 (Harley-Davidson) or a digit after
 * (Honda, Yamaha motorcycles) read as the later year not after next year,
 * with the other reading beside it. They read as 2036 and 1985. */
static void test_model_year_motorcycles(void **state)
{
    (void)state;
    static const struct {
        const char *vin;
        int year, other;
    } bikes[] = {
        {"1HD1FCW166Y612345", 2006, 2036}, /* Harley-Davidson Dyna: W at 7, 6 at 10 */
        {"1HD1KBC16FB600001", 2015, 1985}, /* Harley-Davidson Road King */
        {"JH2RC5008FM200001", 2015, 1985}, /* Honda motorcycle: 0 at 7 */
        {"JYARN23E86A000001", 2006, 2036}, /* Yamaha: E at 7 */
        {"JYARN23E8FA000001", 2015, 1985},
        {"1M8GDM9AXKP042788", 2019, 1989}, /* MCI coach: heavy, no position 7 rule either */
    };
    for (size_t i = 0; i < sizeof bikes / sizeof bikes[0]; i++) {
        mq_vin d;
        if (!mq_vin_decode(ik, bikes[i].vin, &d))
            fail_msg("%s: %s", bikes[i].vin, d.errors[0]);
        if (d.year != bikes[i].year || d.year_other != bikes[i].other)
            fail_msg("%s: %d (or %d), expected %d (or %d)", bikes[i].vin, d.year, d.year_other,
                     bikes[i].year, bikes[i].other);
    }
    /* a light vehicle's VIN has one year: position 7 tells the cycle */
    mq_vin d;
    assert_true(mq_vin_decode(ik, "1HGCM82633A004352", &d));
    assert_int_equal(d.year, 2003);
    assert_int_equal(d.year_other, 0);
    assert_int_equal(mq_wmi_find(ik, "1HD1FCW166Y612345")->vehicles, MQ_VEHICLES_MOTORCYCLE);
    assert_int_equal(mq_wmi_find(ik, "1FUJGLDR0CSBM0001")->vehicles, MQ_VEHICLES_HEAVY);
    assert_int_equal(mq_wmi_find(ik, "1HGCM82633A004352")->vehicles, MQ_VEHICLES_LIGHT);
    /* the JSON answer gives both */
    json_t *j = mq_vin_json(&(mq_vin){.year = 2006, .year_other = 2036});
    assert_int_equal(json_integer_value(json_object_get(j, "year_other")), 2036);
    json_decref(j);
}

static void test_wmi_makes(void **state)
{
    (void)state;
    assert_true(mq_wmi_count(ik) >= 100);
    static const struct {
        const char *vin, *make;
    } known[] = {{"1HGCM82633A004352", "Honda"},     {"1M8GDM9AXKP042788", "MCI"},
                 {"JH4KA7561PC008269", "Acura"},     {"5YJ3E1EA2KF317000", "Tesla"},
                 {"2T1BURHE3JC074554", "Toyota"},    {"WBA3A5C57CF256651", "BMW"},
                 {"1G1YY22G465104352", "Chevrolet"}, {"3VWFE21C04M000001", "Volkswagen"}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        mq_vin d;
        if (!mq_vin_decode(ik, known[i].vin, &d))
            fail_msg("%s: %s", known[i].vin, d.errors[0]);
        assert_non_null(d.make);
        assert_string_equal(d.make, known[i].make);
        assert_true(mq_wmi_has_make(d.wmi, known[i].make));
    }
    const mq_wmi *w = mq_wmi_find(ik, "1C4RJFBG0FC625797");
    assert_non_null(w);
    assert_int_equal(w->nmakes, 3); /* Chrysler, Dodge, Jeep share it */
    assert_true(mq_wmi_has_make(w, "jeep"));
    assert_true(mq_wmi_has_make(w, "Dodge"));
    assert_false(mq_wmi_has_make(w, "Honda"));
    mq_vin d;
    char jeep[18] = "1C4RJFBG0FC625797";
    with_check(jeep);
    assert_true(mq_vin_decode(ik, jeep, &d));
    assert_null(d.make); /* shared: the make is not known from the WMI alone */
    assert_true(mq_wmi_has_make(mq_wmi_find(ik, "1G1YY22G465104352"), "Chevy"));
    assert_true(mq_wmi_has_make(mq_wmi_find(ik, "WDDGF8AB0EA000000"), "Mercedes"));
    assert_true(mq_wmi_has_make(mq_wmi_find(ik, "WDDGF8AB0EA000000"), "mercedes-benz"));
    assert_true(mq_wmi_has_make(mq_wmi_find(ik, "3VWFE21C04M000001"), "VW"));
    assert_false(mq_wmi_has_make(mq_wmi_find(ik, "3VWFE21C04M000001"), "Audi"));
    assert_null(mq_wmi_find(ik, "ZZZ00000000000000"));
    assert_null(mq_wmi_find(ik, "1H"));
    /* an unknown maker is no error: the VIN is still valid */
    char unknown[18] = "8ZZ000000A0000000";
    with_check(unknown);
    assert_true(mq_vin_decode(ik, unknown, &d));
    assert_null(d.wmi);
}

static void test_vin_json(void **state)
{
    (void)state;
    mq_vin d;
    mq_vin_decode(ik, "1HGCM82633A004352", &d);
    json_t *j = mq_vin_json(&d);
    char *text = json_dumps(j, JSON_PRESERVE_ORDER | JSON_COMPACT);
    assert_string_equal(
        text, "{\"vin\":\"1HGCM82633A004352\",\"valid\":true,\"year\":2003,\"year_other\":null,"
              "\"make\":\"Honda\",\"makes\":[\"Honda\"],\"manufacturer\":"
              "\"Honda of America\",\"country\":\"United States\","
              "\"check_digit\":\"3\",\"errors\":[]}");
    free(text);
    json_decref(j);
    mq_vin_decode(ik, "\xff\x01<b>", &d); /* kept printable, so valid JSON */
    j = mq_vin_json(&d);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "vin")), "?\?<B>");
    assert_false(json_is_true(json_object_get(j, "valid")));
    json_decref(j);
}

/* ---- State rules ------------------------------------------------------------------ */

/* Every state's minimums on 2026-03-01, as docs/state-rules.md cites them. */
static const struct {
    const char *state;
    int pp, pa, pd;
} minimums_2026[] = {
    {"AL", 25000, 50000, 25000},  {"AK", 50000, 100000, 25000}, {"AZ", 25000, 50000, 15000},
    {"AR", 25000, 50000, 25000},  {"CA", 30000, 60000, 15000},  {"CO", 25000, 50000, 15000},
    {"CT", 25000, 50000, 25000},  {"DE", 25000, 50000, 10000},  {"DC", 25000, 50000, 10000},
    {"FL", 0, 0, 10000},          {"GA", 25000, 50000, 25000},  {"HI", 20000, 40000, 10000},
    {"ID", 25000, 50000, 15000},  {"IL", 25000, 50000, 20000},  {"IN", 25000, 50000, 25000},
    {"IA", 20000, 40000, 15000},  {"KS", 25000, 50000, 25000},  {"KY", 25000, 50000, 25000},
    {"LA", 15000, 30000, 25000},  {"ME", 50000, 100000, 25000}, {"MD", 30000, 60000, 15000},
    {"MA", 25000, 50000, 30000},  {"MI", 50000, 100000, 10000}, {"MN", 30000, 60000, 10000},
    {"MS", 25000, 50000, 25000},  {"MO", 25000, 50000, 25000},  {"MT", 25000, 50000, 20000},
    {"NE", 25000, 50000, 25000},  {"NV", 25000, 50000, 20000},  {"NH", 25000, 50000, 25000},
    {"NJ", 35000, 70000, 25000},  {"NM", 25000, 50000, 10000},  {"NY", 25000, 50000, 10000},
    {"NC", 50000, 100000, 50000}, {"ND", 25000, 50000, 25000},  {"OH", 25000, 50000, 25000},
    {"OK", 25000, 50000, 25000},  {"OR", 25000, 50000, 20000},  {"PA", 15000, 30000, 5000},
    {"RI", 25000, 50000, 25000},  {"SC", 25000, 50000, 25000},  {"SD", 25000, 50000, 25000},
    {"TN", 25000, 50000, 25000},  {"TX", 30000, 60000, 25000},  {"UT", 25000, 65000, 15000},
    {"VT", 25000, 50000, 10000},  {"VA", 50000, 100000, 25000}, {"WA", 25000, 50000, 10000},
    {"WV", 25000, 50000, 25000},  {"WI", 25000, 50000, 10000},  {"WY", 25000, 50000, 20000},
};

static const mq_state_rule *rule(const char *state, int y, int m, int d)
{
    int code = mq_symbol_find(MQ_DOM_STATE, state);
    assert_true(code >= 0);
    return mq_state_rule_on(ik, code, mq_date_from_ymd(y, m, d));
}

static void test_every_state_minimums(void **state)
{
    (void)state;
    size_t n = sizeof minimums_2026 / sizeof minimums_2026[0];
    assert_int_equal(n, 51);
    assert_int_equal(mq_symbol_count(MQ_DOM_STATE), 51);
    for (size_t i = 0; i < n; i++) {
        const mq_state_rule *r = rule(minimums_2026[i].state, 2026, 3, 1);
        if (!r)
            fail_msg("%s has no rule", minimums_2026[i].state);
        if (r->bi_per_person != minimums_2026[i].pp || r->bi_per_accident != minimums_2026[i].pa ||
            r->pd != minimums_2026[i].pd)
            fail_msg("%s: %d/%d/%d, expected %d/%d/%d", minimums_2026[i].state, r->bi_per_person,
                     r->bi_per_accident, r->pd, minimums_2026[i].pp, minimums_2026[i].pa,
                     minimums_2026[i].pd);
        assert_non_null(r->name);
        assert_non_null(r->source);
    }
    json_t *all = mq_state_rules_json(ik, mq_date_from_ymd(2026, 3, 1));
    assert_int_equal(json_array_size(json_object_get(all, "states")), 51);
    json_decref(all);
}

static void test_state_minimums_over_time(void **state)
{
    (void)state;
    const mq_state_rule *r = rule("OH", 2026, 3, 1);
    assert_string_equal(r->name, "Ohio");
    assert_int_equal(r->bi_per_person, 25000);
    assert_int_equal(r->bi_per_accident, 50000);
    assert_int_equal(r->pd, 25000);
    r = rule("TX", 2026, 3, 1);
    assert_int_equal(r->bi_per_person, 30000);
    assert_int_equal(r->bi_per_accident, 60000);
    assert_int_equal(r->pd, 25000);
    r = rule("PA", 2026, 3, 1);
    assert_int_equal(r->bi_per_person, 15000);
    assert_int_equal(r->bi_per_accident, 30000);
    assert_int_equal(r->pd, 5000);
    /* PA: $5,000 of first-party medical benefits in every policy (75 Pa.C.S. 1711);
     * Ohio and Texas require none (Texas PIP may be rejected in writing) */
    assert_int_equal(r->med, 5000);
    assert_int_equal(rule("OH", 2026, 3, 1)->med, 0);
    assert_int_equal(rule("TX", 2026, 3, 1)->med, 0);
    /* California: 15/30/5 until SB 1107's 30/60/15 on 2025-01-01, 50/100/25 from 2035 */
    r = rule("CA", 2024, 12, 31);
    assert_int_equal(r->bi_per_person, 15000);
    assert_int_equal(r->pd, 5000);
    r = rule("CA", 2025, 1, 1);
    assert_int_equal(r->bi_per_person, 30000);
    assert_int_equal(r->bi_per_accident, 60000);
    assert_int_equal(r->pd, 15000);
    r = rule("CA", 2035, 1, 1);
    assert_int_equal(r->bi_per_person, 50000);
    /* New Jersey: 25/50/25 from 2023, 35/70/25 from 2026 */
    assert_int_equal(rule("NJ", 2022, 6, 1)->bi_per_person, 15000);
    assert_int_equal(rule("NJ", 2025, 12, 31)->bi_per_person, 25000);
    assert_int_equal(rule("NJ", 2026, 1, 1)->bi_per_person, 35000);
    assert_int_equal(rule("NJ", 1950, 1, 1)->bi_per_person, 15000);
    assert_null(mq_state_rule_on(ik, -1, 0));
    assert_string_equal(mq_state_name(ik, mq_symbol_find(MQ_DOM_STATE, "DC")),
                        "District of Columbia");
}

static void test_zip_prefixes(void **state)
{
    (void)state;
    static const struct {
        const char *zip, *state;
    } zips[] = {
        {"43215", "OH"}, {"45999", "OH"}, {"44101", "OH"}, {"75201", "TX"}, {"77079", "TX"},
        {"73301", "TX"}, {"88510", "TX"}, {"73101", "OK"}, {"74101", "OK"}, {"19103", "PA"},
        {"15228", "PA"}, {"19701", "DE"}, {"20001", "DC"}, {"20500", "DC"}, {"56901", "DC"},
        {"20101", "VA"}, {"22201", "VA"}, {"01001", "MA"}, {"05501", "MA"}, {"05401", "VT"},
        {"02901", "RI"}, {"03101", "NH"}, {"04101", "ME"}, {"06101", "CT"}, {"07101", "NJ"},
        {"00501", "NY"}, {"10001", "NY"}, {"90210", "CA"}, {"96161", "CA"}, {"96813", "HI"},
        {"99501", "AK"}, {"84111", "UT"}, {"82001", "WY"}, {"83702", "ID"}, {"89101", "NV"},
        {"87501", "NM"}, {"85001", "AZ"}, {"97201", "OR"}, {"98101", "WA"}, {"39201", "MS"},
        {"39801", "GA"}, {"32801", "FL"}, {"34101", "FL"},
    };
    for (size_t i = 0; i < sizeof zips / sizeof zips[0]; i++) {
        int want = mq_symbol_find(MQ_DOM_STATE, zips[i].state);
        int got = mq_state_of_zip(ik, zips[i].zip);
        if (got != want)
            fail_msg("%s: %s, expected %s", zips[i].zip,
                     got < 0 ? "none" : mq_symbol_name(MQ_DOM_STATE, got), zips[i].state);
    }
    /* Puerto Rico, the Virgin Islands, military post offices, not ZIP codes */
    static const char *const none[] = {"00601", "00801", "09001",  "34001", "96201", "96910",
                                       "00000", "4321",  "432155", "43a15", ""};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++)
        if (mq_state_of_zip(ik, none[i]) != -1)
            fail_msg("%s has a state", none[i]);
    /* prefixes whose every ZIP code is the IRS's stay their states', and
     * have an owner; street addresses' have none */
    assert_string_equal(mq_zip_owner(ik, "73301"), "the IRS in Austin");
    assert_string_equal(mq_zip_owner(ik, "73344"), "the IRS in Austin");
    assert_string_equal(mq_zip_owner(ik, "00501"), "the IRS in Holtsville");
    assert_string_equal(mq_zip_owner(ik, "05501"), "the IRS in Andover");
    static const char *const addresses[] = {"78701", "75201", "88510", "43215", "19103",
                                            "10001", "01001", "00601", "4321",  ""};
    for (size_t i = 0; i < sizeof addresses / sizeof *addresses; i++)
        if (mq_zip_owner(ik, addresses[i]))
            fail_msg("%s has an owner", addresses[i]);
    assert_null(mq_zip_owner(ik, NULL));
    /* every state has prefixes */
    json_t *all = mq_state_rules_json(ik, mq_date_from_ymd(2026, 3, 1));
    json_t *st;
    size_t i;
    json_array_foreach(json_object_get(all, "states"), i, st)
        assert_true(json_array_size(json_object_get(st, "zip_prefixes")) >= 1);
    json_decref(all);
}

/* ---- Broken data files ------------------------------------------------------------------ */

static char tmpdir[64];

static void write_file(const char *name, const char *text)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Copies data/ to a temp folder with state-rules.csv's line `match` replaced. */
static void expect_load_error(const char *match, const char *replacement, const char *want)
{
    size_t n;
    char *wmi = ts_read_file(DATA "/wmi.csv", NULL),
         *rules = ts_read_file(DATA "/state-rules.csv", &n);
    char *at = strstr(rules, match);
    assert_non_null(at);
    char *edited = malloc(n + strlen(replacement) + 1);
    assert_non_null(edited);
    snprintf(edited, n + strlen(replacement) + 1, "%.*s%s%s", (int)(at - rules), rules, replacement,
             at + strlen(match));
    write_file("wmi.csv", wmi);
    write_file("state-rules.csv", edited);
    char err[512] = "";
    mq_intake *bad = mq_intake_load(tmpdir, err, sizeof err);
    if (bad || !strstr(err, want))
        fail_msg("loading with \"%s\": \"%s\", expected \"%s\"", replacement, err, want);
    free(wmi);
    free(rules);
    free(edited);
}

/* wmi.csv holding the header and `rows` (state-rules.csv as written last)
 * must be refused with an error containing `want`. */
static void expect_wmi_error(const char *rows, const char *want)
{
    char text[512], err[512] = "";
    snprintf(text, sizeof text, "wmi,manufacturer,makes,country\n%s", rows);
    write_file("wmi.csv", text);
    mq_intake *bad = mq_intake_load(tmpdir, err, sizeof err);
    if (bad || !strstr(err, want))
        fail_msg("loading wmi.csv rows\n%s: \"%s\", expected \"%s\"", rows, err, want);
}

static void test_broken_data_files(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/mq-test-intake-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    expect_load_error("OH,Ohio,,25000,50000,25000,0,430-459,",
                      "OH,Ohio,,25000,50000,25000,0,430-460,", "ZIP prefix 460 is already IN's");
    expect_load_error("OH,Ohio,,25000,50000,25000,0,430-459,",
                      "OH,Ohio,,25000,5000,25000,0,430-459,",
                      "bi_per_accident is below bi_per_person");
    expect_load_error("OH,Ohio,,25000,50000,25000,0,430-459,",
                      "XX,Ohio,,25000,50000,25000,0,430-459,", "state must be a US state code");
    expect_load_error("OH,Ohio,,25000,50000,25000,0,430-459,",
                      "OH,Ohio,,25000,50000,25000,0,43-459,", "zip_prefixes are 3-digit prefixes");
    expect_load_error("OH,Ohio,,25000,50000,25000,0,430-459,,Ohio Rev. Code 4509.51\n", "",
                      "OH needs a row");
    expect_load_error("state,name,effective", "state,nom,effective", "the header must be");
    expect_load_error("TX,Texas,,30000", "TX,Texas,2020-01-01,30000", "TX needs exactly one row");
    /* the med column: whole dollars, and a file written before it is named */
    expect_load_error("PA,Pennsylvania,,15000,30000,5000,5000,",
                      "PA,Pennsylvania,,15000,30000,5000,5k,",
                      "state-rules.csv:65: bi_per_person, bi_per_accident, pd and med are whole "
                      "dollars");
    expect_load_error("bi_per_accident,pd,med,zip_prefixes", "bi_per_accident,pd,zip_prefixes",
                      "state-rules.csv:18: the header must be state,name,effective,"
                      "bi_per_person,bi_per_accident,pd,med,zip_prefixes,unique_prefixes,source");
    /* unique_prefixes: one of the state's own prefixes, with its owner */
    static const char *const bad_owners[] = {"734 the IRS in Austin", "733", "733the IRS",
                                             "73 the IRS", "733 the IRS; 733 again"};
    for (size_t i = 0; i < sizeof bad_owners / sizeof *bad_owners; i++) {
        char row[128];
        snprintf(row, sizeof row, "733 750-799 885,%s,", bad_owners[i]);
        expect_load_error("733 750-799 885,733 the IRS in Austin,", row,
                          "state-rules.csv:70: unique_prefixes are entries like \"733 the IRS in "
                          "Austin\"");
    }
    /* saved by a spreadsheet: a UTF-8 byte order mark and CRLF line ends
     * (the BOM made the header "not state,name,...") */
    char *wmi = ts_read_file(DATA "/wmi.csv", NULL),
         *rules = ts_read_file(DATA "/state-rules.csv", NULL);
    size_t rl = strlen(rules);
    char *crlf = malloc(2 * rl + 4), *o = crlf;
    assert_non_null(crlf);
    o += sprintf(o, "\xEF\xBB\xBF");
    for (const char *c = rules; *c; c++)
        o += *c == '\n' ? sprintf(o, "\r\n") : sprintf(o, "%c", *c);
    write_file("state-rules.csv", crlf);
    char *bom_wmi = ts_format("\xEF\xBB\xBF%s", wmi);
    write_file("wmi.csv", bom_wmi);
    char err[512];
    mq_intake *saved = mq_intake_load(tmpdir, err, sizeof err);
    if (!saved)
        fail_msg("%s", err);
    const mq_state_rule *oh =
        mq_state_rule_on(saved, mq_symbol_find(MQ_DOM_STATE, "OH"), mq_date_from_ymd(2026, 3, 1));
    assert_non_null(oh);
    assert_int_equal(oh->bi_per_person, 25000);
    assert_int_equal(oh->pd, 25000);
    assert_string_equal(oh->name, "Ohio");
    assert_int_equal(mq_wmi_count(saved), mq_wmi_count(ik));
    mq_intake_free(saved);
    free(bom_wmi);
    free(crlf);
    free(wmi);
    free(rules);
    assert_null(mq_intake_load("/nonexistent", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/wmi.csv"));
    write_file("wmi.csv", "wmi,manufacturer,makes,country\n1HG,Honda,Honda,US\nIHG,Bad,Bad,US\n");
    assert_null(mq_intake_load(tmpdir, err, sizeof err));
    assert_non_null(strstr(err, "wmi.csv:3: wmi must be 3 VIN characters"));
    expect_wmi_error("5XY,Kia Georgia,Kia,US\n1HG,Honda,Honda,US\n5XY,Kia Georgia,Hyundai,US\n",
                     "wmi.csv:4: wmi 5XY is listed twice (first at line 2): list every make of a "
                     "shared WMI in one row's makes");
    expect_wmi_error("5XY,Kia Georgia,Kia;;Hyundai,US\n",
                     "wmi.csv:2: makes has an empty make (two \";\" in a row, or one at an end)");
    expect_wmi_error("1HG,Honda,Honda;,US\n",
                     "wmi.csv:2: makes has an empty make (two \";\" in a row, or one at an end)");
    expect_wmi_error("1HG,Honda,Honda; honda,US\n", "wmi.csv:2: makes lists a make twice");
    expect_wmi_error("1C4,FCA,Chrysler;Dodge;Jeep;Ram;Fiat,US\n", "wmi.csv:2: at most 4 makes");
    /* the vehicles column (it may be left out: every WMI is then light) */
    write_file("wmi.csv", "wmi,manufacturer,makes,country,vehicles\n1HD,Harley-Davidson,"
                          "Harley-Davidson,US,motorcycle\nJH2,Honda,Honda,JP,bike\n");
    assert_null(mq_intake_load(tmpdir, err, sizeof err));
    assert_non_null(strstr(err, "wmi.csv:3: vehicles must be light (cars, MPVs, trucks and "
                                "buses to 10,000 lb), motorcycle or heavy"));
    write_file("wmi.csv", "wmi,manufacturer,makes,country,vehicles\n1HD,Harley-Davidson,"
                          "Harley-Davidson,US\n");
    assert_null(mq_intake_load(tmpdir, err, sizeof err));
    assert_non_null(strstr(err, "wmi.csv:2: expected 5 fields"));
    write_file("wmi.csv", "wmi,manufacturer,makes,kind\n1HD,Harley-Davidson,Harley-Davidson,US\n");
    assert_null(mq_intake_load(tmpdir, err, sizeof err));
    assert_non_null(strstr(err, "wmi.csv:1: the header must be wmi,manufacturer,makes,country,"
                                "vehicles (vehicles may be left out)"));
    /* spaces around a make are not part of it */
    write_file("wmi.csv", "wmi,manufacturer,makes,country\n5XY,Kia Georgia, Kia ; Hyundai ,US\n");
    mq_intake *spaced = mq_intake_load(tmpdir, err, sizeof err);
    if (!spaced)
        fail_msg("%s", err);
    const mq_wmi *w = mq_wmi_find(spaced, "5XYZU3LBXCG000001");
    assert_non_null(w);
    assert_int_equal(w->nmakes, 2);
    assert_string_equal(w->makes[0], "Kia");
    assert_string_equal(w->makes[1], "Hyundai");
    mq_intake_free(spaced);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    assert_int_equal(system(cmd), 0);
}

/* ---- Request checks ----------------------------------------------------------------------- */

static char *checked_errors(json_t *doc);

/* Example 1 with `edit` applied, checked; the errors as "path: message" lines. */
static char *intake_errors(const char *edit_path, json_t *value)
{
    json_t *doc = ts_load_json("examples/oh-single-driver.json");
    if (edit_path) {
        /* paths used here: "vehicles.0.KEY", "coverages.bi", "applicant.address.KEY" */
        char buf[128];
        snprintf(buf, sizeof buf, "%s", edit_path);
        json_t *obj = doc;
        char *save = NULL, *key = strtok_r(buf, ".", &save), *next;
        while ((next = strtok_r(NULL, ".", &save))) {
            obj = json_is_array(obj) ? json_array_get(obj, (size_t)atoi(key))
                                     : json_object_get(obj, key);
            key = next;
        }
        json_object_set_new(obj, key, value);
    }
    return checked_errors(doc);
}

/* doc (consumed) parsed and checked: its errors as "path: message" lines. */
static char *checked_errors(json_t *doc)
{
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_req_errors errs = {0};
    mq_input in;
    if (!mq_req_from_json(doc, &a, &in, &errs))
        fail_msg("the edited request does not parse: %s: %s", errs.items[0].path,
                 errs.items[0].message);
    bool ok = mq_intake_check(ik, doc, &a, &errs);
    assert_int_equal(ok, errs.count == 0);
    char *out = calloc(1, 4096);
    for (int i = 0; i < errs.count && i < 32; i++) {
        size_t len = strlen(out);
        snprintf(out + len, 4096 - len, "%s%s", i ? "\n" : "",
                 mq_req_error_text(&errs.items[i], &a));
    }
    mq_arena_free(&a);
    json_decref(doc);
    return out;
}

static void expect_intake(const char *edit_path, json_t *value, const char *want)
{
    char *got = intake_errors(edit_path, value);
    if (strcmp(got, want) != 0)
        fail_msg("%s: got\n%s\nexpected\n%s", edit_path ? edit_path : "(none)", got, want);
    free(got);
}

static void test_request_checks(void **state)
{
    (void)state;
    expect_intake(NULL, NULL, "");
    expect_intake("vehicles.0.vin", json_string("1HGCM82633A004352"),
                  "vehicles[0].vin: model year 2003 from the VIN contradicts year 2022");
    /* a VIN that agrees with year and make: a 2022 Honda (N, position 7 a letter) */
    char civic[18] = "2HGFE2F50NH500000";
    with_check(civic);
    expect_intake("vehicles.0.vin", json_string(civic), "");
    /* a VIN's letters have one case: lower case is checked as capitals */
    for (char *c = civic; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    expect_intake("vehicles.0.vin", json_string(civic), "");
    expect_intake("vehicles.0.vin", json_string("1hgcm82633a004352"),
                  "vehicles[0].vin: model year 2003 from the VIN contradicts year 2022");
    /* a 2022 Honda motorcycle, 0 at position 7: 2022 (N) agrees; a 1992
     * reading does not make it contradict the year */
    char bike[18] = "JH2RC5000NM200001";
    with_check(bike);
    expect_intake("vehicles.0.vin", json_string(bike), "");
    bike[9] = 'F'; /* a 2015 one: either reading contradicts 2022, and both are named */
    with_check(bike);
    expect_intake("vehicles.0.vin", json_string(bike),
                  "vehicles[0].vin: model year 1985 or 2015 from the VIN contradicts year 2022");
    char toyota[18] = "2T1BURHE0NC074554"; /* a 2022 Toyota */
    with_check(toyota);
    expect_intake("vehicles.0.vin", json_string(toyota),
                  "vehicles[0].vin: make Toyota from the VIN (WMI 2T1) contradicts make \"Honda\"");
    expect_intake("vehicles.0.vin", json_string("1HGCM82643A004352"),
                  "vehicles[0].vin: check digit (position 9) is \"4\" but the VIN's other "
                  "characters give \"3\"");
    expect_intake("vehicles.0.vin", json_string("1HGCM8264"),
                  "vehicles[0].vin: a 2022 vehicle has a 17-character VIN; this one has 9 "
                  "characters");
    expect_intake("coverages",
                  json_pack("{s:{s:i, s:i}, s:{s:i}}", "bi", "per_person", 20000, "per_accident",
                            40000, "pd", "limit", 25000),
                  "coverages.bi: 20000/40000 is below Ohio's minimum 25000/50000");
    expect_intake("coverages",
                  json_pack("{s:{s:i, s:i}, s:{s:i}}", "bi", "per_person", 25000, "per_accident",
                            50000, "pd", "limit", 25000),
                  "");
    expect_intake("coverages.pd", json_pack("{s:i}", "limit", 10000),
                  "coverages.pd: 10000 is below Ohio's minimum 25000");
    /* uninsured motorist, when carried, at least the bodily injury minimum;
     * left out (null) is fine */
    expect_intake("coverages.um",
                  json_pack("{s:i, s:i}", "per_person", 20000, "per_accident", 40000),
                  "coverages.um: 20000/40000 is below Ohio's minimum 25000/50000 (uninsured "
                  "motorist coverage is at least the bodily injury minimum)");
    expect_intake("coverages.um",
                  json_pack("{s:i, s:i}", "per_person", 25000, "per_accident", 50000), "");
    expect_intake("coverages.um", json_null(), "");
    expect_intake("applicant.address.zip", json_string("10001"),
                  "applicant.address.zip: ZIP code 10001 is in New York, but the address is in "
                  "Ohio");
    expect_intake("applicant.address.zip", json_string("00601"),
                  "applicant.address.zip: ZIP code 00601 is not in any of the 50 states or DC");
    /* a car garaged out of state (at college) is fine; a ZIP of no state is not */
    expect_intake("vehicles.0.garaging_zip", json_string("15213"), "");
    expect_intake("vehicles.0.garaging_zip", json_string("09001"),
                  "vehicles[0].garaging_zip: ZIP code 09001 is not in any of the 50 states or DC");
    /* 73301 is Texas's but the IRS's: no vehicle is kept there. Every Texas
     * carrier answered "unavailable: ZIP 73301 is outside Texas" */
    expect_intake("vehicles.0.garaging_zip", json_string("73301"),
                  "vehicles[0].garaging_zip: ZIP code 73301 belongs to the IRS in Austin, not to "
                  "a street address");
    expect_intake("vehicles.0.garaging_zip", json_string("78701"), "");
}

/* Pennsylvania requires $5,000 of first-party medical benefits in every
 * policy (75 Pa.C.S. 1711): a request without coverages.med, or with less,
 * was quoted by every Pennsylvania carrier (or made them all unavailable). */
static void test_request_checks_pa_medical(void **state)
{
    (void)state;
    static const struct {
        int limit; /* 0: med left out */
        bool null; /* "med": null, which the parser reads as left out */
        const char *want;
    } cases[] = {
        {0, false,
         "coverages.med: is required in Pennsylvania: every policy carries first-party "
         "medical benefits of at least 5000"},
        {0, true,
         "coverages.med: is required in Pennsylvania: every policy carries first-party "
         "medical benefits of at least 5000"},
        {2000, false, "coverages.med: 2000 is below Pennsylvania's minimum 5000"},
        {5000, false, ""},
        {25000, false, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *doc = ts_load_json("tests/data/shoppers/pa-two-cars.json");
        json_t *covs = json_object_get(doc, "coverages");
        json_object_del(covs, "med");
        if (cases[i].null)
            json_object_set_new(covs, "med", json_null());
        else if (cases[i].limit)
            json_object_set_new(covs, "med", json_pack("{s:i}", "limit", cases[i].limit));
        char *got = checked_errors(doc);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("case %zu: got \"%s\", expected \"%s\"", i, got, cases[i].want);
        free(got);
    }
    /* Ohio requires none: a request without med, or with null, has no error */
    json_t *doc = ts_load_json("examples/oh-single-driver.json");
    json_object_set_new(json_object_get(doc, "coverages"), "med", json_null());
    char *got = checked_errors(doc);
    assert_string_equal(got, "");
    free(got);
    /* GET /v1/states says it */
    json_t *all = mq_state_rules_json(ik, mq_date_from_ymd(2026, 3, 1));
    json_t *st;
    size_t k;
    int seen = 0;
    json_array_foreach(json_object_get(all, "states"), k, st)
    {
        const char *code = json_string_value(json_object_get(st, "state"));
        json_int_t med = json_integer_value(json_object_get(json_object_get(st, "med"), "limit"));
        assert_true(json_is_integer(json_object_get(json_object_get(st, "med"), "limit")));
        if (strcmp(code, "PA") == 0) {
            assert_int_equal(med, 5000);
            seen++;
        } else if (strcmp(code, "OH") == 0 || strcmp(code, "TX") == 0) {
            assert_int_equal(med, 0);
            seen++;
        }
    }
    assert_int_equal(seen, 3);
    json_decref(all);
}

static void test_request_checks_other_lines(void **state)
{
    (void)state;
    json_t *doc = ts_load_json("tests/data/shoppers/health-ak-anchorage.json");
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_req_errors errs = {0};
    assert_true(mq_intake_check(ik, doc, &a, &errs));
    json_object_set_new(json_object_get(json_object_get(doc, "applicant"), "address"), "zip",
                        json_string("43215"));
    assert_false(mq_intake_check(ik, doc, &a, &errs));
    assert_string_equal(mq_req_error_text(&errs.items[0], &a),
                        "applicant.address.zip: ZIP code 43215 is in Ohio, but the address is in "
                        "Alaska");
    mq_arena_free(&a);
    json_decref(doc);
}

/* A bundle's parts are checked as their own lines' requests, each error
 * named by its path in the bundle; the shared applicant's only once. */
static void test_request_checks_bundle(void **state)
{
    (void)state;
    json_t *doc = ts_load_json("examples/oh-bundle-auto-home.json");
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_req_errors errs = {0};
    assert_true(mq_intake_check(ik, doc, &a, &errs));
    json_t *autos = json_object_get(doc, "auto");
    json_object_set_new(json_object_get(json_object_get(doc, "applicant"), "address"), "zip",
                        json_string("90210"));
    json_object_set_new(json_array_get(json_object_get(autos, "vehicles"), 0), "vin",
                        json_string("1HGCM82633A004352"));
    json_object_set_new(json_object_get(autos, "coverages"), "pd",
                        json_pack("{s:i}", "limit", 1000));
    mq_bundle_input b;
    assert_true(mq_req_bundle_from_json(doc, &a, &b, &errs)); /* the parser has no objection */
    assert_false(mq_intake_check(ik, doc, &a, &errs));
    const char *want[] = {
        "applicant.address.zip: ZIP code 90210 is in California, but the address is in Ohio",
        "auto.coverages.pd: 1000 is below Ohio's minimum 25000",
        "auto.vehicles[0].vin: model year 2003 from the VIN contradicts year 2022"};
    assert_int_equal(errs.count, 3);
    for (int i = 0; i < 3; i++)
        assert_string_equal(mq_req_error_text(&errs.items[i], &a), want[i]);
    mq_arena_free(&a);
    json_decref(doc);
}

/* Example 1's vehicle with this VIN, year and make, checked. */
static char *vehicle_errors(const char *vin, int year, const char *make)
{
    json_t *doc = ts_load_json("examples/oh-single-driver.json");
    json_t *veh = json_array_get(json_object_get(doc, "vehicles"), 0);
    json_object_set_new(veh, "vin", json_string(vin));
    json_object_set_new(veh, "year", json_integer(year));
    json_object_set_new(veh, "make", json_string(make));
    return checked_errors(doc);
}

/* A WMI belongs to every make whose vehicles carry it. 5XY was Kia's only,
 * 5N1 and JN8 Nissan's: a Georgia-built Hyundai Santa Fe and the Infiniti
 * QX60 and QX80 were refused ("make Kia from the VIN (WMI 5XY) contradicts
 * make "Hyundai""). Real VINs (their check digits computed by 49 CFR 565)
 * of makes that share a WMI with a sister brand or the plant's maker. */
static void test_shared_wmis(void **state)
{
    (void)state;
    static const struct {
        const char *vin;
        int year;
        const char *make;
    } real[] = {
        {"5XYZU3LBXCG000001", 2012, "Hyundai"},   /* Santa Fe, Kia's Georgia plant */
        {"5XYKT4A68DG000001", 2013, "Kia"},       /* Sorento, the same plant */
        {"5N1DL0MN5HC000001", 2017, "Infiniti"},  /* QX60, Smyrna */
        {"JN8AZ2NE3H9000001", 2017, "Infiniti"},  /* QX80 */
        {"JN1EV7AR8JM000001", 2018, "Infiniti"},  /* Q50 */
        {"KMHGN4JE1JU000001", 2018, "Genesis"},   /* G80 before Genesis had its own WMI */
        {"1C6HJTAG1LL000001", 2020, "Jeep"},      /* Gladiator */
        {"ZFBERFAB8H6000001", 2017, "Ram"},       /* ProMaster City */
        {"2C4JRGAG6ER000001", 2014, "Ram"},       /* C/V */
        {"3N63M0YN5FK700001", 2015, "Chevrolet"}, /* City Express, built by Nissan */
        {"JF1ZNAA10D1700001", 2013, "Scion"},     /* FR-S, built by Subaru */
        {"JF1ZNBB11N9700001", 2022, "Toyota"},    /* GR86 */
        {"JTNKARJE5GJ000001", 2016, "Scion"},     /* iM */
        {"3MYDLBYV4KY500001", 2019, "Toyota"},    /* Yaris sedan, built by Mazda */
    };
    for (size_t i = 0; i < sizeof real / sizeof real[0]; i++) {
        mq_vin d;
        if (!mq_vin_decode(ik, real[i].vin, &d))
            fail_msg("%s: %s", real[i].vin, d.errors[0]);
        assert_int_equal(d.year, real[i].year);
        assert_non_null(d.wmi);
        assert_true(d.wmi->nmakes >= 2);
        assert_null(d.make); /* shared: the WMI alone does not say which */
        char *got = vehicle_errors(real[i].vin, real[i].year, real[i].make);
        if (*got)
            fail_msg("%s, a %d %s: %s", real[i].vin, real[i].year, real[i].make, got);
        free(got);
    }
    /* a make none of them builds is still refused, naming them all */
    char *got = vehicle_errors("5XYZU3LBXCG000001", 2012, "Honda");
    assert_string_equal(got, "vehicles[0].vin: make Kia or Hyundai from the VIN (WMI 5XY) "
                             "contradicts make \"Honda\"");
    free(got);
    got = vehicle_errors("1C6HJTAG1LL000001", 2020, "Ford");
    assert_string_equal(got, "vehicles[0].vin: make Ram, Dodge or Jeep from the VIN (WMI 1C6) "
                             "contradicts make \"Ford\"");
    free(got);
    got = vehicle_errors("JN8AZ2NE3H9000001", 2017, "Lexus");
    assert_string_equal(got, "vehicles[0].vin: make Nissan or Infiniti from the VIN (WMI JN8) "
                             "contradicts make \"Lexus\"");
    free(got);
    /* and the sister brands' own WMIs stay their own */
    got = vehicle_errors("2HGFE2F52NH000001", 2022, "Acura");
    assert_string_equal(got, "vehicles[0].vin: make Honda from the VIN (WMI 2HG) contradicts make "
                             "\"Acura\"");
    free(got);
}

/* GET /v1/vin/{vin}'s answer for a shared WMI: no one `make` (the form
 * does not guess), every make in `makes`, the usual one first. */
static void test_vin_json_shared_wmi(void **state)
{
    (void)state;
    mq_vin d;
    assert_true(mq_vin_decode(ik, "5XYZU3LBXCG000001", &d));
    json_t *j = mq_vin_json(&d);
    char *text = json_dumps(j, JSON_PRESERVE_ORDER | JSON_COMPACT);
    assert_string_equal(
        text, "{\"vin\":\"5XYZU3LBXCG000001\",\"valid\":true,\"year\":2012,\"year_other\":null,"
              "\"make\":null,\"makes\":[\"Kia\",\"Hyundai\"],\"manufacturer\":"
              "\"Kia Georgia\",\"country\":\"United States\","
              "\"check_digit\":\"X\",\"errors\":[]}");
    free(text);
    json_decref(j);
}

/* ---- ACORD -------------------------------------------------------------------------------- */

/* `s` n times (malloc'd). */
static char *repeated(const char *s, int n)
{
    size_t one = strlen(s);
    char *out = malloc(one * (size_t)n + 1);
    assert_non_null(out);
    for (int i = 0; i < n; i++)
        memcpy(out + one * (size_t)i, s, one);
    out[one * (size_t)n] = '\0';
    return out;
}

static mq_acord *acord_file(const char *path, mq_arena *a, mq_req_errors *errs)
{
    size_t len;
    char *xml = ts_read_file(path, &len);
    mq_acord *x = mq_acord_parse(xml, len, a, errs);
    free(xml);
    return x;
}

static void test_acord_maps_onto_the_contract(void **state)
{
    (void)state;
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_req_errors errs;
    mq_acord *x = acord_file(ACORD "/harbor-example-1.xml", &a, &errs);
    if (!x)
        fail_msg("%s: %s", errs.items[0].path, errs.items[0].message);
    json_t *want = ts_load_json("examples/oh-single-driver.json");
    if (!json_equal(mq_acord_json(x), want)) {
        char *got = json_dumps(mq_acord_json(x), JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fail_msg("example 1 maps to\n%s", got);
    }
    assert_string_equal(mq_acord_rquid(x), "0d1e2f3a-5b6c-4d7e-8f9a-0b1c2d3e4f5a");
    json_decref(want);
    mq_acord_free(x);

    /* example 2: the same but for v2's garaging ZIP, read from its Location (ZIP+4) */
    x = acord_file(ACORD "/harbor-example-2.xml", &a, &errs);
    if (!x)
        fail_msg("%s: %s", errs.items[0].path, errs.items[0].message);
    json_t *v2 = json_array_get(json_object_get(mq_acord_json(x), "vehicles"), 1);
    assert_string_equal(json_string_value(json_object_get(v2, "garaging_zip")), "44101");
    json_object_del(v2, "garaging_zip");
    want = ts_load_json("examples/oh-family-two-cars.json");
    if (!json_equal(mq_acord_json(x), want)) {
        char *got = json_dumps(mq_acord_json(x), JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fail_msg("example 2 maps to\n%s", got);
    }
    json_decref(want);
    mq_acord_free(x);
    mq_arena_free(&a);
}

/* Rates an ACORD request (`path` names it in failures) and returns Harbor's
 * result total, also checking the PersAutoPolicyQuoteInqRs says the same. */
static int64_t harbor_total_of(mq_engine *e, const char *xml, size_t len, const char *path)
{
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_input in;
    mq_req_errors errs;
    mq_acord *x = mq_acord_request(ik, xml, len, &a, &in, &errs);
    if (!x)
        fail_msg("%s: %s: %s", path, errs.items[0].path, errs.items[0].message);
    const char *only[] = {"harbor"};
    in.carriers = only;
    in.ncarriers = 1;
    mq_result *res;
    int n;
    assert_true(mq_rate_all(e, &in, &(mq_rate_opts){0}, &a, &res, &n));
    assert_int_equal(n, 1);
    assert_int_equal(res[0].status, MQ_QUOTED);
    size_t rs_len;
    char *rs = mq_acord_response(&in, res, n, &(mq_acord_rs_meta){mq_acord_rquid(x), "q_1", NULL},
                                 &rs_len);
    assert_non_null(rs);
    xmlDocPtr d = xmlReadMemory(rs, (int)rs_len, "rs.xml", NULL, XML_PARSE_NONET);
    assert_non_null(d);
    xmlXPathContextPtr ctx = xmlXPathNewContext(d);
    xmlXPathObjectPtr total = xmlXPathEvalExpression(
        (const xmlChar *)"string(/ACORD/InsuranceSvcRs/PersAutoPolicyQuoteInqRs/PolicySummaryInfo/"
                         "FullTermAmt/Amt)",
        ctx);
    char want[32];
    snprintf(want, sizeof want, "%lld.%02lld", (long long)res[0].total_cents / 100,
             (long long)res[0].total_cents % 100);
    assert_string_equal((const char *)total->stringval, want);
    xmlXPathObjectPtr code = xmlXPathEvalExpression(
        (const xmlChar *)"string(//PersAutoPolicyQuoteInqRs/MsgStatus/MsgStatusCd)", ctx);
    assert_true(strncmp((const char *)code->stringval, "Success", 7) == 0);
    xmlXPathObjectPtr quote = xmlXPathEvalExpression(
        (const xmlChar *)"string(//PersPolicy/QuoteInfo/CompanysQuoteNumber)", ctx);
    assert_string_equal((const char *)quote->stringval, "q_1");
    xmlXPathFreeObject(total);
    xmlXPathFreeObject(code);
    xmlXPathFreeObject(quote);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(d);
    free(rs);
    int64_t cents = res[0].total_cents;
    mq_acord_free(x);
    mq_arena_free(&a);
    return cents;
}

static int64_t harbor_total(mq_engine *e, const char *path)
{
    size_t len;
    char *xml = ts_read_file(path, &len);
    int64_t cents = harbor_total_of(e, xml, len, path);
    free(xml);
    return cents;
}

/* Example 1 with its AntiTheftDeviceCd "Alarm" replaced by `cd`, rated by Harbor. */
static int64_t harbor_with_device(mq_engine *e, const char *cd)
{
    char *xml = ts_read_file(ACORD "/harbor-example-1.xml", NULL);
    const char *from = "<AntiTheftDeviceCd>Alarm</AntiTheftDeviceCd>";
    char *at = strstr(xml, from);
    assert_non_null(at);
    char *edited = ts_format("%.*s<AntiTheftDeviceCd>%s</AntiTheftDeviceCd>%s", (int)(at - xml),
                             xml, cd, at + strlen(from));
    int64_t cents = harbor_total_of(e, edited, strlen(edited), cd);
    free(edited);
    free(xml);
    return cents;
}

static void test_acord_rates_like_the_json(void **state)
{
    (void)state;
    mq_diags diags = {0};
    mq_engine *e = mq_engine_load("plans/harbor", &diags);
    mq_diags_free(&diags);
    assert_non_null(e);
    assert_int_equal(harbor_total(e, ACORD "/harbor-example-1.xml"), 71400);
    assert_int_equal(harbor_total(e, ACORD "/harbor-example-2.xml"), 186600);
    mq_engine_free(e);
}

/* `file` with `from` replaced by `to`, through mq_acord_request; its
 * errors as "path: message" lines. */
static char *acord_errors_in(const char *file, const char *from, const char *to)
{
    size_t len;
    char *xml = ts_read_file(file, &len);
    char *at = from ? strstr(xml, from) : NULL;
    if (from && !at)
        fail_msg("\"%s\" is not in %s", from, file);
    size_t cap = len + (to ? strlen(to) : 0) + 1;
    char *edited = malloc(cap);
    assert_non_null(edited);
    if (from)
        snprintf(edited, cap, "%.*s%s%s", (int)(at - xml), xml, to, at + strlen(from));
    else
        snprintf(edited, cap, "%s", to);
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_input in;
    mq_req_errors errs;
    mq_acord *x = mq_acord_request(ik, edited, strlen(edited), &a, &in, &errs);
    char *out = calloc(1, 8192);
    if (x)
        assert_int_equal(errs.count, 0);
    for (int i = 0; i < errs.count && i < 32; i++) {
        size_t l = strlen(out);
        snprintf(out + l, 8192 - l, "%s%s", i ? "\n" : "", mq_req_error_text(&errs.items[i], &a));
    }
    mq_acord_free(x);
    mq_arena_free(&a);
    free(xml);
    free(edited);
    return out;
}

static char *acord_errors(const char *from, const char *to)
{
    return acord_errors_in(ACORD "/harbor-example-1.xml", from, to);
}

#define RQ "/ACORD/InsuranceSvcRq/PersAutoPolicyQuoteInqRq"

static void expect_acord(const char *from, const char *to, const char *want)
{
    char *got = acord_errors(from, to);
    if (strcmp(got, want) != 0)
        fail_msg("replacing \"%s\": got\n%s\nexpected\n%s", from ? from : "(all)", got, want);
    free(got);
}

static void test_acord_errors_name_the_xpath(void **state)
{
    (void)state;
    expect_acord("<ModelYear>2022</ModelYear>", "<ModelYear>2022</ModelYear><Colour>red</Colour>",
                 RQ "/PersAutoLineBusiness/PersVeh/Colour: unknown element (docs/acord.md lists "
                    "those accepted)");
    expect_acord("<PersVeh id=\"v1\">", "<PersVeh id=\"v1\" paint=\"red\">",
                 RQ "/PersAutoLineBusiness/PersVeh/@paint: unknown attribute (docs/acord.md lists "
                    "those accepted)");
    expect_acord("<ModelYear>2022</ModelYear>",
                 "<ModelYear>2022</ModelYear><ModelYear>2023</ModelYear>",
                 RQ "/PersAutoLineBusiness/PersVeh/ModelYear[2]: may appear only once");
    expect_acord("<ModelYear>2022</ModelYear>", "<ModelYear>twenty</ModelYear>",
                 RQ "/PersAutoLineBusiness/PersVeh/ModelYear: not a number \"twenty\"");
    expect_acord("<ModelYear>2022</ModelYear>", "",
                 RQ "/PersAutoLineBusiness/PersVeh/ModelYear: is required");
    expect_acord("<GenderCd>F</GenderCd>", "<GenderCd>W</GenderCd>",
                 RQ "/PersAutoLineBusiness/PersDriver/DriverInfo/PersonInfo/GenderCd: \"W\" is "
                    "not one of F, M, X, U");
    expect_acord("<EffectiveDt>2026-03-01</EffectiveDt>", "<EffectiveDt>2026-13-01</EffectiveDt>",
                 RQ "/PersPolicy/ContractTerm/EffectiveDt: not a valid date \"2026-13-01\"");
    expect_acord("<LicensedDt>2008-07-01</LicensedDt>", "",
                 RQ "/PersAutoLineBusiness/PersDriver/DriverInfo/License/LicensedDt: is required");
    expect_acord("<PersAutoLineBusiness>",
                 "<PersAutoLineBusiness><Coverage><CoverageCd>PIP</CoverageCd></Coverage>",
                 RQ
                 "/PersAutoLineBusiness/Coverage[1]/CoverageCd: coverage \"PIP\" is not a policy "
                 "coverage multiquote rates (BI, PD, MEDPM, UM; COMP and COLL go on each "
                 "PersVeh)");
    expect_acord(
        "<DriverVeh DriverRef=\"d1\" VehRef=\"v1\">",
        "<AccidentViolation DriverRef=\"d9\"><AccidentViolationCd>SPD</AccidentViolationCd>"
        "</AccidentViolation><DriverVeh DriverRef=\"d1\" VehRef=\"v1\">",
        RQ "/PersPolicy/AccidentViolation/@DriverRef: no PersDriver has id \"d9\"");
    expect_acord("<DriverVeh DriverRef=\"d1\" VehRef=\"v1\">",
                 "<DriverVeh DriverRef=\"d7\" VehRef=\"v1\">",
                 RQ "/PersPolicy/DriverVeh/@DriverRef: no PersDriver has id \"d7\"");
    expect_acord("<CurCd>USD</CurCd>", "<CurCd>EUR</CurCd>",
                 RQ "/CurCd: \"EUR\": amounts are US dollars (USD)");
    expect_acord("<LOBCd>AUTOP</LOBCd>\n        <ContractTerm>",
                 "<LOBCd>HOME</LOBCd>\n        <ContractTerm>",
                 RQ "/PersPolicy/LOBCd: \"HOME\": the line of business is personal auto (AUTOP)");
    expect_acord("<City>Columbus</City>", "Columbus<City>Columbus</City>",
                 RQ "/InsuredOrPrincipal/GeneralPartyInfo/Addr: text is not allowed here, only "
                    "elements");
    expect_acord("<CoverageCd>PD</CoverageCd>\n          <Limit><FormatInteger>100000",
                 "<CoverageCd>PD</CoverageCd>\n          <Limit><FormatInteger>20000",
                 RQ "/PersAutoLineBusiness/Coverage[2]: 20000 is below Ohio's minimum 25000");
    expect_acord("<ModelYear>2022</ModelYear>",
                 "<ModelYear>2022</ModelYear><VehIdentificationNumber>1HGCM82633A004352"
                 "</VehIdentificationNumber>",
                 RQ "/PersAutoLineBusiness/PersVeh/VehIdentificationNumber: model year 2003 from "
                    "the VIN contradicts year 2022");
    /* a coverage or a split limit's half that is missing is named by its
     * code (it used to be the line's first Coverage, the BI one) */
    expect_acord(
        "<CoverageCd>PD</CoverageCd>\n          <Limit><FormatInteger>100000</FormatInteger>"
        "</Limit>",
        "<CoverageCd>UMPD</CoverageCd>",
        RQ "/PersAutoLineBusiness/Coverage[2]/CoverageCd: coverage \"UMPD\" is not a "
           "policy coverage multiquote rates (BI, PD, MEDPM, UM; COMP and COLL go on each "
           "PersVeh)\n" RQ "/PersAutoLineBusiness/Coverage[CoverageCd='PD']: is required");
    expect_acord("<Limit><FormatInteger>300000</FormatInteger><LimitAppliesToCd>PerAcc"
                 "</LimitAppliesToCd></Limit>",
                 "",
                 RQ "/PersAutoLineBusiness/Coverage[1]/Limit[LimitAppliesToCd='PerAcc']/"
                    "FormatInteger: is required");
    /* a second driver's birth date, named with its index */
    expect_acord("</PersDriver>",
                 "</PersDriver><PersDriver id=\"d2\"><DriverInfo><PersonInfo><GenderCd>M</GenderCd>"
                 "<BirthDt>1990-02-30</BirthDt><MaritalStatusCd>S</MaritalStatusCd></PersonInfo>"
                 "<License><LicensedDt>2010-01-01</LicensedDt></License></DriverInfo></PersDriver>",
                 RQ
                 "/PersAutoLineBusiness/PersDriver[2]/DriverInfo/PersonInfo/BirthDt: not a valid "
                 "date \"1990-02-30\"");
    expect_acord(NULL, "<ACORD><InsuranceSvcRq/></ACORD>", RQ ": is required");
    expect_acord(NULL, "<Quote/>", "/Quote: the root element must be ACORD");
    /* another line's message is said to be one, not an unknown element
     * followed by a missing PersAutoPolicyQuoteInqRq */
    expect_acord(NULL,
                 "<ACORD><InsuranceSvcRq><RqUID>1</RqUID><HomePolicyQuoteInqRq><PersPolicy/>"
                 "</HomePolicyQuoteInqRq></InsuranceSvcRq></ACORD>",
                 "/ACORD/InsuranceSvcRq/HomePolicyQuoteInqRq: only PersAutoPolicyQuoteInqRq "
                 "(personal auto) is accepted as ACORD; other lines are quoted from the "
                 "contract's JSON (POST /v1/quotes)");
}

static void expect_acord_2(const char *from, const char *to, const char *want)
{
    char *got = acord_errors_in(ACORD "/harbor-example-2.xml", from, to);
    if (strcmp(got, want) != 0)
        fail_msg("replacing \"%s\": got\n%s\nexpected\n%s", from, got, want);
    free(got);
}

/* What the mapper used to choose without a word, so that a quote was made
 * for something else than the sender wrote: the first of two per-person
 * limits, an amount in another currency as dollars, FormatInteger over a
 * different FormatCurrencyAmt, a DriverVeh naming no vehicle dropped (with
 * its driver's share), the first of two Locations with the same id, the
 * applicant's ZIP for a vehicle garaged at a Location without one. */
static void test_acord_no_silent_choices(void **state)
{
    (void)state;
    expect_acord("<LimitAppliesToCd>PerPerson</LimitAppliesToCd></Limit>",
                 "<LimitAppliesToCd>PerPerson</LimitAppliesToCd></Limit><Limit><FormatInteger>"
                 "25000</FormatInteger><LimitAppliesToCd>BIEachPers</LimitAppliesToCd></Limit>",
                 RQ "/PersAutoLineBusiness/Coverage[1]/Limit[2]: a second per person limit: BI "
                    "has one, at " RQ "/PersAutoLineBusiness/Coverage[1]/Limit[1]");
    expect_acord("<Amt>500.00</Amt></FormatCurrencyAmt>",
                 "<Amt>500.00</Amt><CurCd>CAD</CurCd></FormatCurrencyAmt>",
                 RQ "/PersAutoLineBusiness/PersVeh/Coverage[2]/Deductible/FormatCurrencyAmt/CurCd: "
                    "\"CAD\": amounts are US dollars (USD)");
    expect_acord("<Amt>500.00</Amt></FormatCurrencyAmt>",
                 "<Amt>500.00</Amt><CurCd>USD</CurCd></FormatCurrencyAmt>", "");
    expect_acord("<Deductible><FormatInteger>500</FormatInteger></Deductible>",
                 "<Deductible><FormatInteger>500</FormatInteger><FormatCurrencyAmt><Amt>1000</Amt>"
                 "</FormatCurrencyAmt></Deductible>",
                 RQ
                 "/PersAutoLineBusiness/PersVeh/Coverage[1]/Deductible: FormatInteger \"500\" and "
                 "FormatCurrencyAmt \"1000\" differ: give the amount once");
    expect_acord(
        "<Deductible><FormatInteger>500</FormatInteger></Deductible>",
        "<Deductible><FormatInteger>500</FormatInteger><FormatCurrencyAmt><Amt>500.00</Amt>"
        "</FormatCurrencyAmt></Deductible>",
        "");
    /* an amount of the other kind was dropped: a PD deductible, a COMP
     * limit, quoted (Harbor 714.00) as if not written */
    expect_acord("<CoverageCd>PD</CoverageCd>",
                 "<CoverageCd>PD</CoverageCd><Deductible><FormatInteger>500</FormatInteger>"
                 "</Deductible>",
                 RQ "/PersAutoLineBusiness/Coverage[2]/Deductible: PD takes Limits, not a "
                    "Deductible: multiquote rates no deductible on a liability coverage");
    expect_acord("<CoverageCd>COMP</CoverageCd>",
                 "<CoverageCd>COMP</CoverageCd><Limit><FormatInteger>15000</FormatInteger>"
                 "</Limit>",
                 RQ "/PersAutoLineBusiness/PersVeh/Coverage[1]/Limit: COMP takes a Deductible, "
                    "not a Limit: multiquote rates physical damage by its deductible only");
    expect_acord_2("<CoverageCd>UM</CoverageCd>",
                   "<CoverageCd>UM</CoverageCd><Deductible><FormatInteger>250</FormatInteger>"
                   "</Deductible>",
                   RQ "/PersAutoLineBusiness/PersVeh[1]/Coverage[3]/Deductible: UM takes Limits, "
                      "not a Deductible: multiquote rates no deductible on a liability coverage");
    expect_acord("<DriverVeh DriverRef=\"d1\" VehRef=\"v1\">",
                 "<DriverVeh DriverRef=\"d1\" VehRef=\"V1\">",
                 RQ "/PersPolicy/DriverVeh/@VehRef: no PersVeh has id \"V1\"\n" RQ
                    "/PersAutoLineBusiness/PersVeh/@RatedDriverRef: is required");
    expect_acord("<DriverVeh DriverRef=\"d1\" VehRef=\"v1\">",
                 "<DriverVeh DriverRef=\"d1\" VehRef=\"v1\"><UsePct>100</UsePct></DriverVeh>"
                 "<DriverVeh DriverRef=\"d1\">",
                 RQ "/PersPolicy/DriverVeh[2]/@VehRef: is required: the PersVeh id it describes");
    /* a driver's too many incidents are named by that driver's first (the
     * policy's first, d1's, was named) */
    char *moves = repeated("<AccidentViolation DriverRef=\"d2\"><AccidentViolationCd>MOV"
                           "</AccidentViolationCd><AccidentViolationDt>2025-01-01"
                           "</AccidentViolationDt></AccidentViolation>",
                           99);
    char *to = malloc(strlen(moves) + 256);
    assert_non_null(to);
    sprintf(to,
            "<AccidentViolation DriverRef=\"d1\"><AccidentViolationCd>MOV</AccidentViolationCd>"
            "<AccidentViolationDt>2025-01-01</AccidentViolationDt></AccidentViolation>%s"
            "<AccidentViolation DriverRef=\"d2\">",
            moves);
    expect_acord_2("<AccidentViolation DriverRef=\"d2\">", to,
                   RQ "/PersPolicy/AccidentViolation[2]: must list 0 to 100 incidents, got 101");
    free(to);
    free(moves);
    /* example 2: v2 is garaged at Location "garage" */
    expect_acord_2("<Location id=\"garage\">",
                   "<Location id=\"garage\"><Addr><PostalCode>15201</PostalCode></Addr></Location>"
                   "<Location id=\"garage\">",
                   RQ "/Location[2]/@id: \"garage\" is already the id of " RQ "/Location[1]");
    /* two PersDrivers or PersVehs of one id: the first was named by its
     * JSON path, "duplicate id \"d1\" (also drivers[0])" */
    expect_acord_2("<PersDriver id=\"d2\">", "<PersDriver id=\"d1\">",
                   RQ
                   "/PersPolicy/AccidentViolation[1]/@DriverRef: no PersDriver has id \"d2\"\n" RQ
                   "/PersPolicy/AccidentViolation[2]/@DriverRef: no PersDriver has id \"d2\"\n" RQ
                   "/PersPolicy/DriverVeh[2]/@DriverRef: no PersDriver has id \"d2\"\n" RQ
                   "/PersPolicy/DriverVeh[3]/@DriverRef: no PersDriver has id \"d2\"\n" RQ
                   "/PersAutoLineBusiness/PersDriver[2]/@id: \"d1\" is already the id of " RQ
                   "/PersAutoLineBusiness/PersDriver[1]");
    expect_acord_2("<PersVeh id=\"v2\"", "<PersVeh id=\"v1\"",
                   RQ "/PersPolicy/DriverVeh[3]/@VehRef: no PersVeh has id \"v2\"\n" RQ
                      "/PersAutoLineBusiness/PersVeh[2]/@id: \"v1\" is already the id of " RQ
                      "/PersAutoLineBusiness/PersVeh[1]");
    /* a Location's state and its ZIP's must agree: a mistyped ZIP was
     * rated as another state's territory without a word */
    expect_acord_2("<City>Cleveland</City><StateProvCd>OH</StateProvCd><PostalCode>44101-2211",
                   "<City>Cleveland</City><StateProvCd>PA</StateProvCd><PostalCode>44101-2211",
                   RQ "/Location/Addr/StateProvCd: ZIP code 44101 is in Ohio, but the Location is "
                      "in Pennsylvania");
    expect_acord_2("<City>Cleveland</City><StateProvCd>OH</StateProvCd><PostalCode>44101-2211",
                   "<City>Cleveland</City><StateProvCd>Ohio</StateProvCd><PostalCode>44101-2211",
                   RQ "/Location/Addr/StateProvCd: \"Ohio\" is not a US state code");
    expect_acord_2("<PostalCode>44101-2211</PostalCode>", "",
                   RQ "/Location/Addr/PostalCode: is required: " RQ
                      "/PersAutoLineBusiness/PersVeh[2] is garaged here");
}

static void test_acord_liability_on_vehicles_must_agree(void **state)
{
    (void)state;
    size_t len;
    char *xml = ts_read_file(ACORD "/harbor-example-2.xml", &len);
    /* v2's PD 50000 becomes 25000 */
    char *v2 = strstr(xml, "<PersVeh id=\"v2\"");
    char *pd = strstr(v2, "<FormatInteger>50000</FormatInteger></Limit></Coverage>");
    assert_non_null(pd);
    memcpy(pd + strlen("<FormatInteger>"), "25000", 5);
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_input in;
    mq_req_errors errs;
    assert_null(mq_acord_request(ik, xml, len, &a, &in, &errs));
    assert_int_equal(errs.count, 1);
    assert_string_equal(mq_req_error_text(&errs.items[0], &a),
                        RQ "/PersAutoLineBusiness/PersVeh[2]/Coverage[2]: PD limits differ from "
                           "those of " RQ "/PersAutoLineBusiness/PersVeh[1]/Coverage[2]: liability "
                           "coverages apply to the whole policy");
    mq_arena_free(&a);
    free(xml);
}

/* ACORD's own code for "no anti-theft device" is N: it was read as a device
 * (any code but "None" was), and Harbor quoted 714.00 with its anti-theft
 * discount instead of 720.00, what examples/oh-single-driver.json with
 * anti_theft false costs. An unknown code is an error, not a device. */
static void test_acord_anti_theft_codes(void **state)
{
    (void)state;
    mq_diags diags = {0};
    mq_engine *e = mq_engine_load("plans/harbor", &diags);
    mq_diags_free(&diags);
    assert_non_null(e);
    assert_int_equal(harbor_with_device(e, "N"), 72000);
    assert_int_equal(harbor_with_device(e, "0"), 72000);
    assert_int_equal(harbor_with_device(e, "None"), 72000);
    assert_int_equal(harbor_with_device(e, "A"), 71400);
    assert_int_equal(harbor_with_device(e, "P"), 71400);
    assert_int_equal(harbor_with_device(e, "Alarm"), 71400);
    mq_engine_free(e);
    expect_acord("<AntiTheftDeviceCd>Alarm</AntiTheftDeviceCd>",
                 "<AntiTheftDeviceCd>NoDevice</AntiTheftDeviceCd>",
                 RQ "/PersAutoLineBusiness/PersVeh/AntiTheftDeviceInfo/AntiTheftDeviceCd: "
                    "\"NoDevice\" is not one of N, 0, A, D, E, F, H, I, P, B, S, L, W, Y, ETCWD, "
                    "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, None, NONE, Alarm");
}

/* A VIN in lower case, as some agency systems keep what was typed, is the
 * same VIN: it was refused ("not a VIN ... capitals"); GET /v1/vin/ already
 * read it so. Mapped in capitals and checked like any other. */
static void test_acord_vin_case(void **state)
{
    (void)state;
    char vin[] = "2HGFE2F50NH000001"; /* a 2022 Honda (position 7 a letter, 10 N) */
    with_check(vin);
    char lower[sizeof vin], to[128];
    for (size_t i = 0; i < sizeof vin; i++)
        lower[i] = (char)tolower((unsigned char)vin[i]);
    snprintf(to, sizeof to,
             "<ModelYear>2022</ModelYear><VehIdentificationNumber> %s </VehIdentificationNumber>",
             lower);
    char *got = acord_errors("<ModelYear>2022</ModelYear>", to);
    assert_string_equal(got, "");
    free(got);
    char *xml = ts_read_file(ACORD "/harbor-example-1.xml", NULL);
    char *at = strstr(xml, "<ModelYear>2022</ModelYear>");
    char *edited =
        ts_format("%.*s%s%s", (int)(at - xml), xml, to, at + strlen("<ModelYear>2022</ModelYear>"));
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_req_errors errs;
    mq_acord *x = mq_acord_parse(edited, strlen(edited), &a, &errs);
    assert_non_null(x);
    json_t *v = json_array_get(json_object_get(mq_acord_json(x), "vehicles"), 0);
    assert_string_equal(json_string_value(json_object_get(v, "vin")), vin);
    mq_acord_free(x);
    mq_arena_free(&a);
    free(edited);
    free(xml);
    /* a lower-case VIN that contradicts the year is still caught */
    got = acord_errors("<ModelYear>2022</ModelYear>",
                       "<ModelYear>2022</ModelYear><VehIdentificationNumber>1hgcm82633a004352"
                       "</VehIdentificationNumber>");
    assert_string_equal(got, RQ "/PersAutoLineBusiness/PersVeh/VehIdentificationNumber: model "
                                "year 2003 from the VIN contradicts year 2022");
    free(got);
}

/* xsd:date, ACORD's date type, allows a time zone: "2026-03-01Z" and
 * "1990-06-15-05:00" are dates an ACORD sender may write, and were refused
 * ("not a valid date"). The zone is dropped: the same quote, Harbor 714.00.
 * A time, or a zone out of range, is still refused at its XPath. */
static void test_acord_dates_with_zones(void **state)
{
    (void)state;
    size_t len;
    char *xml = ts_read_file(ACORD "/harbor-example-1.xml", &len);
    static const char *const edits[][2] = {
        {"<EffectiveDt>2026-03-01</EffectiveDt>", "<EffectiveDt>2026-03-01Z</EffectiveDt>"},
        {"<BirthDt>1990-06-15</BirthDt>\n            ", "<BirthDt>1990-06-15-05:00</BirthDt>"},
        {"<LicensedDt>2008-07-01</LicensedDt>", "<LicensedDt>2008-07-01+14:00</LicensedDt>"},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        char *at = strstr(xml, edits[i][0]);
        assert_non_null(at);
        char *edited =
            ts_format("%.*s%s%s", (int)(at - xml), xml, edits[i][1], at + strlen(edits[i][0]));
        free(xml);
        xml = edited;
        len = strlen(xml);
    }
    mq_diags diags = {0};
    mq_engine *e = mq_engine_load("plans/harbor", &diags);
    mq_diags_free(&diags);
    assert_non_null(e);
    assert_int_equal(harbor_total_of(e, xml, len, "dates with zones"), 71400);
    mq_engine_free(e);
    free(xml);
    expect_acord(
        "<EffectiveDt>2026-03-01</EffectiveDt>", "<EffectiveDt>2026-03-01T00:00:00</EffectiveDt>",
        RQ "/PersPolicy/ContractTerm/EffectiveDt: not a valid date \"2026-03-01T00:00:00\": "
           "write it as YYYY-MM-DD");
    expect_acord("<EffectiveDt>2026-03-01</EffectiveDt>",
                 "<EffectiveDt>2026-03-01+15:00</EffectiveDt>",
                 RQ "/PersPolicy/ContractTerm/EffectiveDt: not a valid date \"2026-03-01+15:00\": "
                    "write it as YYYY-MM-DD");
}

/* ACORD allows several InsuredOrPrincipal (a co-applicant beside the named
 * insured); a request with two was refused ("may appear only once"). The
 * applicant is the one whose role is Insured, wherever it stands. */
static void test_acord_co_insured(void **state)
{
    (void)state;
    const char *co = "<InsuredOrPrincipal><GeneralPartyInfo><NameInfo><PersonName><Surname>Reyes"
                     "</Surname><GivenName>Alex</GivenName></PersonName></NameInfo>"
                     "</GeneralPartyInfo><InsuredOrPrincipalInfo><InsuredOrPrincipalRoleCd>"
                     "CoInsured</InsuredOrPrincipalRoleCd><PersonInfo><BirthDt>1950-01-01"
                     "</BirthDt></PersonInfo></InsuredOrPrincipalInfo></InsuredOrPrincipal>"
                     "<InsuredOrPrincipal>";
    char *xml = ts_read_file(ACORD "/harbor-example-1.xml", NULL);
    char *at = strstr(xml, "<InsuredOrPrincipal>");
    char *edited =
        ts_format("%.*s%s%s", (int)(at - xml), xml, co, at + strlen("<InsuredOrPrincipal>"));
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_req_errors errs;
    mq_acord *x = mq_acord_parse(edited, strlen(edited), &a, &errs);
    if (!x)
        fail_msg("%s: %s", errs.items[0].path, errs.items[0].message);
    json_t *ap = json_object_get(mq_acord_json(x), "applicant");
    assert_string_equal(json_string_value(json_object_get(ap, "first_name")), "Dana");
    assert_string_equal(json_string_value(json_object_get(ap, "date_of_birth")), "1990-06-15");
    mq_acord_free(x);
    mq_arena_free(&a);
    mq_diags diags = {0};
    mq_engine *e = mq_engine_load("plans/harbor", &diags);
    mq_diags_free(&diags);
    assert_non_null(e);
    assert_int_equal(harbor_total_of(e, edited, strlen(edited), "co-insured"), 71400);
    mq_engine_free(e);
    free(edited);
    free(xml);
    /* two marked Insured (or several and none): which is the applicant? */
    char *two = malloc(strlen(co) + 1);
    assert_non_null(two);
    strcpy(two, co);
    char *role = strstr(two, "CoInsured");
    memmove(role, role + 2, strlen(role + 2) + 1);
    char *got = acord_errors("<InsuredOrPrincipal>", two);
    assert_string_equal(got,
                        RQ "/InsuredOrPrincipal: 2 InsuredOrPrincipal elements, 2 of them with "
                           "InsuredOrPrincipalRoleCd Insured: exactly one, the applicant, must "
                           "be");
    free(got);
    free(two);
}

/* The RqUID is echoed whole: it was cut to 127 bytes, so a longer one came
 * back different (the sender matches answers by it), and cut inside a
 * UTF-8 character the PersAutoPolicyQuoteInqRs was not even well-formed. */
static void test_acord_rquid_echoed(void **state)
{
    (void)state;
    char rquid[160], from[] = "<RqUID>0d1e2f3a-5b6c-4d7e-8f9a-0b1c2d3e4f5a</RqUID>";
    memset(rquid, 'A', 126);
    sprintf(rquid + 126, "\xC3\xA9%s", "-0123456789-0123456789");
    char *xml = ts_read_file(ACORD "/harbor-example-1.xml", NULL);
    char *at = strstr(xml, from);
    assert_non_null(at);
    char *edited =
        ts_format("%.*s<RqUID>%s</RqUID>%s", (int)(at - xml), xml, rquid, at + strlen(from));
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_req_errors errs;
    mq_input in;
    mq_acord *x = mq_acord_request(ik, edited, strlen(edited), &a, &in, &errs);
    assert_non_null(x);
    assert_string_equal(mq_acord_rquid(x), rquid);
    assert_string_equal(mq_acord_svc_rquid(x), "8f5e1c3a-4b2d-4e6f-9a1b-2c3d4e5f6a7b");
    /* each level echoes its own request's RqUID: the InsuranceSvcRs used to
     * carry the PersAutoPolicyQuoteInqRq's, so a sender matching service
     * answers by the InsuranceSvcRq's RqUID found none */
    mq_result one = {
        .carrier_id = "harbor", .carrier_name = "Harbor Mutual", .status = MQ_DECLINED};
    size_t rs_len;
    char *rs = mq_acord_response(
        &in, &one, 1, &(mq_acord_rs_meta){mq_acord_rquid(x), NULL, NULL, mq_acord_svc_rquid(x)},
        &rs_len);
    assert_non_null(rs);
    xmlDocPtr d = xmlReadMemory(rs, (int)rs_len, "rs.xml", NULL, XML_PARSE_NONET);
    assert_non_null(d);
    xmlXPathContextPtr ctx = xmlXPathNewContext(d);
    xmlXPathObjectPtr echoed =
        xmlXPathEvalExpression((const xmlChar *)"string(/ACORD/InsuranceSvcRs/RqUID)", ctx);
    assert_string_equal((const char *)echoed->stringval, "8f5e1c3a-4b2d-4e6f-9a1b-2c3d4e5f6a7b");
    xmlXPathFreeObject(echoed);
    echoed = xmlXPathEvalExpression(
        (const xmlChar *)"string(/ACORD/InsuranceSvcRs/PersAutoPolicyQuoteInqRs/RqUID)", ctx);
    assert_string_equal((const char *)echoed->stringval, rquid);
    xmlXPathFreeObject(echoed);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(d);
    free(rs);
    mq_acord_free(x);
    mq_arena_free(&a);
    free(edited);
    free(xml);
}

/* Example 1 in Latin-1 without an XML declaration, its given name José
 * (0xE9), read with the charset its transport named. */
static char *latin1_example(void)
{
    char *xml = ts_read_file(ACORD "/harbor-example-1.xml", NULL);
    const char *decl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
    const char *name = "<GivenName>Dana</GivenName>";
    char *d = strstr(xml, decl), *n = strstr(xml, name);
    assert_true(d && n && d < n);
    char *out = ts_format("%.*s%.*s<GivenName>Jos\xE9</GivenName>%s", (int)(d - xml), xml,
                          (int)(n - d - strlen(decl)), d + strlen(decl), n + strlen(name));
    free(xml);
    return out;
}

/* A document that does not say its encoding is in its transport's charset
 * (RFC 7303): Latin-1 sent as "text/xml; charset=ISO-8859-1" was refused
 * as malformed UTF-8. Without a charset it is UTF-8, and refused so. */
static void test_acord_transport_charset(void **state)
{
    (void)state;
    char *xml = latin1_example();
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_req_errors errs;
    mq_input in;
    mq_acord *x = mq_acord_request_in(ik, xml, strlen(xml), "ISO-8859-1", &a, &in, &errs);
    if (!x)
        fail_msg("%s: %s", errs.items[0].path, errs.items[0].message);
    json_t *ap = json_object_get(mq_acord_json(x), "applicant");
    assert_string_equal(json_string_value(json_object_get(ap, "first_name")), "Jos\xC3\xA9");
    mq_acord_free(x);
    assert_null(mq_acord_request_in(ik, xml, strlen(xml), NULL, &a, &in, &errs));
    assert_true(strncmp(errs.items[0].message, "malformed XML at line", 21) == 0);
    assert_null(mq_acord_request_in(ik, xml, strlen(xml), "KOI8-R", &a, &in, &errs));
    assert_string_equal(errs.items[0].message, "the charset \"KOI8-R\" is not accepted: send "
                                               "UTF-8 (or UTF-16, ISO-8859-n, windows-125n)");
    mq_arena_free(&a);
    free(xml);
    /* a declared encoding is the document's own word: a charset does not override it */
    size_t len;
    xml = ts_read_file(ACORD "/harbor-example-1.xml", &len);
    mq_arena_init(&a, 0);
    x = mq_acord_request_in(ik, xml, len, "KOI8-R", &a, &in, &errs);
    assert_non_null(x);
    mq_acord_free(x);
    mq_arena_free(&a);
    free(xml);
}

static void expect_refused(const char *xml, size_t len, const char *want_start)
{
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_req_errors errs;
    assert_null(mq_acord_parse(xml, len, &a, &errs));
    assert_int_equal(errs.count, 1);
    assert_string_equal(errs.items[0].path, "");
    if (strncmp(errs.items[0].message, want_start, strlen(want_start)) != 0)
        fail_msg("\"%s\" does not start with \"%s\"", errs.items[0].message, want_start);
    mq_arena_free(&a);
}

static void test_acord_malformed_and_attacks(void **state)
{
    (void)state;
    size_t len;
    char *xml = ts_read_file(ACORD "/billion-laughs.xml", &len);
    expect_refused(xml, len, "a DOCTYPE is not accepted");
    free(xml);
    xml = ts_read_file(ACORD "/external-entity.xml", &len);
    expect_refused(xml, len, "a DOCTYPE is not accepted");
    free(xml);
    /* a DOCTYPE with no declarations at all is refused too */
    const char *plain = "<!DOCTYPE ACORD><ACORD/>";
    expect_refused(plain, strlen(plain), "a DOCTYPE is not accepted");
    /* an entity never declared: not well-formed */
    const char *undeclared =
        "<ACORD><InsuranceSvcRq><RqUID>&lol9;</RqUID></InsuranceSvcRq></ACORD>";
    expect_refused(undeclared, strlen(undeclared),
                   "malformed XML at line 1: Entity 'lol9' not defined");
    const char *truncated = "<ACORD>\n<InsuranceSvcRq>";
    expect_refused(truncated, strlen(truncated), "malformed XML at line 2:");
    const char *mismatched = "<ACORD></ACROD>";
    expect_refused(mismatched, strlen(mismatched), "malformed XML at line 1:");
    expect_refused("", 0, "malformed XML at line 1: the document is empty");
    expect_refused("not xml", 7, "malformed XML at line 1:");
    /* libxml2's message in two lines is said in one */
    const char *latin = "<ACORD><InsuranceSvcRq>\xe9\xff</InsuranceSvcRq></ACORD>";
    expect_refused(latin, strlen(latin),
                   "malformed XML at line 1: Input is not proper UTF-8, indicate encoding ! "
                   "Bytes: 0xE9 0xFF 0x3C 0x2F");
    char *huge = calloc(1, MQ_ACORD_MAX_BYTES + 2);
    memset(huge, ' ', MQ_ACORD_MAX_BYTES + 1);
    expect_refused(huge, MQ_ACORD_MAX_BYTES + 1, "ACORD request is larger than");
    free(huge);
    /* 300 nested elements: libxml2's depth limit, not a crash */
    char deep[300 * 7 + 32] = "<ACORD>";
    for (int i = 0; i < 300; i++)
        strcat(deep, "<a>");
    expect_refused(deep, strlen(deep), "malformed XML");
}

/* Example 1 with `insert` (freed here) in front of `marker`, through
 * mq_acord_request with an arena of the server's 8 MiB; its first error. */
static char *acord_inserted(const char *marker, char *insert, int *count)
{
    char *xml = ts_read_file(ACORD "/harbor-example-1.xml", NULL);
    char *at = strstr(xml, marker);
    assert_non_null(at);
    char *doc = ts_format("%.*s%s%s", (int)(at - xml), xml, insert, at);
    mq_arena a;
    mq_arena_init(&a, 8 * 1024 * 1024);
    mq_input in;
    mq_req_errors errs;
    mq_acord *x = mq_acord_request(ik, doc, strlen(doc), &a, &in, &errs);
    assert_null(x);
    *count = errs.count;
    char *first = errs.count ? strdup(mq_req_error_text(&errs.items[0], &a)) : strdup("(none)");
    mq_arena_free(&a);
    free(doc);
    free(xml);
    free(insert);
    return first;
}

#define SPEEDING                                                                                   \
    "<AccidentViolation DriverRef=\"d1\"><AccidentViolationCd>SPD</AccidentViolationCd>"           \
    "</AccidentViolation>"

/* Hostile sizes within the 1 MiB limit: thousands of drivers and incidents
 * (each incident used to be matched with each driver, copying the ids into
 * the arena: 7 GB for 15,000 of each, or "out of memory" in the server's
 * 8 MiB), thousands of unknown or repeated elements (each XPath's sibling
 * index, and each "only once" check, used to scan the siblings: 38 s for
 * 100,000). Each is refused at once, naming the first element too many. */
static void test_acord_hostile_sizes(void **state)
{
    (void)state;
    int count;
    char *got =
        acord_inserted("<PersDriver id=\"d1\">", repeated("<PersDriver id=\"dx\"/>", 3000), &count);
    assert_string_equal(got, RQ "/PersAutoLineBusiness/PersDriver[65]: at most 64 PersDriver "
                                "elements are accepted here");
    free(got);
    got = acord_inserted("<DriverVeh ", repeated(SPEEDING, 3000), &count);
    assert_string_equal(got, RQ "/PersPolicy/AccidentViolation[2049]: at most 2048 "
                                "AccidentViolation elements are accepted here");
    free(got);
    /* 64 drivers and 2048 incidents, the most accepted, reach the contract's limits */
    char *drivers = malloc(64 * 32), *p = drivers;
    assert_non_null(drivers);
    for (int i = 2; i <= 64; i++)
        p += sprintf(p, "<PersDriver id=\"d%d\"/>", i);
    got = acord_inserted("</PersAutoLineBusiness>", drivers, &count);
    assert_string_equal(got, RQ "/PersAutoLineBusiness/PersDriver[1]: must list 1 to 20 drivers, "
                                "got 64");
    free(got);
    got = acord_inserted("<DriverVeh ", repeated(SPEEDING, 2048), &count);
    assert_string_equal(got, RQ "/PersPolicy/AccidentViolation[1]: must list 0 to 100 incidents, "
                                "got 2048");
    free(got);
    /* 40,000 unknown elements, then 40,000 of one allowed once: every
     * problem counted, 32 named, in linear time */
    char *foos = repeated("<Foo/>", 40000), *curs = repeated("<CurCd>USD</CurCd>", 40000);
    char *both = ts_format("%s%s", foos, curs);
    free(foos);
    free(curs);
    clock_t t0 = clock();
    got = acord_inserted("<TransactionRequestDt>", both, &count);
    double cpu = (double)(clock() - t0) / CLOCKS_PER_SEC;
    assert_string_equal(got, RQ "/Foo[1]: unknown element (docs/acord.md lists those accepted)");
    assert_int_equal(count, 80000); /* the first of the 40,001 CurCd is allowed */
    free(got);
    if (cpu > 3.0) /* quadratic: minutes */
        fail_msg("80,000 problems took %.1f s of CPU", cpu);
}

/* `n` attributes ` aN="x"` (malloc'd). */
static char *attributes(int n)
{
    char *out = malloc((size_t)n * 16 + 1), *p = out;
    assert_non_null(out);
    *p = '\0';
    for (int i = 0; i < n; i++)
        p += sprintf(p, " a%d=\"x\"", i);
    return out;
}

/* libxml2 checks an element's attributes pairwise: 60,000 of them on one
 * element held it for seconds (140,000, within 1 MiB: 24 s), in UTF-8 or
 * UTF-16 alike. An element of more than 256 is refused before it parses;
 * encodings the scan cannot read (UTF-7, EBCDIC) are refused; "=" in
 * values, comments and CDATA is no attribute. */
static void test_acord_attribute_flood(void **state)
{
    (void)state;
    char *many = attributes(60000);
    char *doc = ts_format("<ACORD%s/>", many);
    clock_t t0 = clock();
    expect_refused(doc, strlen(doc),
                   "an element at line 1 has more than 256 attributes: no ACORD element has");
    double cpu = (double)(clock() - t0) / CLOCKS_PER_SEC;
    if (cpu > 1.0)
        fail_msg("60,000 attributes took %.1f s of CPU", cpu);
    /* 20,000 in UTF-16 (little-endian, with its BOM), on line 2 */
    free(many);
    free(doc);
    many = attributes(20000);
    doc = ts_format("<ACORD%s/>", many);
    size_t n = strlen(doc);
    char *wide = malloc(2 * n + 4);
    assert_non_null(wide);
    memcpy(wide, "\xFF\xFE\n\0", 4);
    for (size_t i = 0; i < n; i++) {
        wide[4 + 2 * i] = doc[i];
        wide[5 + 2 * i] = '\0';
    }
    expect_refused(wide, 2 * n + 4,
                   "an element at line 2 has more than 256 attributes: no ACORD element has");
    free(wide);
    free(doc);
    free(many);
    /* 257 on a PersVeh of example 1, its line named; 256 are only unknown */
    char *edited = attributes(257), *to = malloc(strlen(edited) + 32);
    assert_non_null(to);
    sprintf(to, "<PersVeh id=\"v1\"%s>", edited);
    char *got = acord_errors("<PersVeh id=\"v1\">", to);
    assert_string_equal(got, "an element at line 68 has more than 256 attributes: no ACORD "
                             "element has");
    free(got);
    free(edited);
    free(to);
    const char *utf7 = "<?xml version=\"1.0\" encoding=\"UTF-7\"?><ACORD/>";
    expect_refused(utf7, strlen(utf7),
                   "the encoding \"UTF-7\" is not accepted: send UTF-8 (or UTF-16, ISO-8859-n, "
                   "windows-125n)");
    const char ebcdic[] = "\x4C\x6F\xA7\x94\x93\x40\xA5\x85\x99\xA2\x89\x96\x95\x7E";
    expect_refused(ebcdic, sizeof ebcdic - 1,
                   "the encoding \"EBCDIC\" is not accepted: send UTF-8 (or UTF-16, ISO-8859-n, "
                   "windows-125n)");
    /* "=" that is not an attribute; declared encodings that are read */
    char *eq = repeated("<a=", 300), *text = malloc(2 * strlen(eq) + 128);
    char *short_eq = repeated("<a=", 60); /* a model's name is at most 256 characters */
    assert_non_null(text);
    sprintf(text, "<!-- %s --><Model><![CDATA[Civic%s]]></Model>", eq, short_eq);
    got = acord_errors("<Model>Civic</Model>", text);
    assert_string_equal(got, "");
    free(got);
    free(text);
    free(eq);
    free(short_eq);
    static const char *const aliases[] = {"encoding='windows-1252'", "encoding=\"UTF8\"",
                                          "encoding=\"iso8859-1\"", "encoding=\"cp1252\""};
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) {
        got = acord_errors("encoding=\"UTF-8\"", aliases[i]);
        assert_string_equal(got, "");
        free(got);
    }
}

/* 300 copies of example 2 with 1 to 8 bytes replaced (fixed seed): each is
 * refused with errors or accepted, never a crash (ASan runs this too). */
static void test_acord_mutations(void **state)
{
    (void)state;
    size_t len;
    char *orig = ts_read_file(ACORD "/harbor-example-2.xml", &len);
    char *buf = malloc(len);
    assert_non_null(buf);
    uint64_t rng = 0x9E3779B97F4A7C15ull;
    int refused = 0;
    for (int i = 0; i < 300; i++) {
        memcpy(buf, orig, len);
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        int flips = 1 + (int)(rng % 8);
        for (int k = 0; k < flips; k++) {
            rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
            size_t at = rng % len;
            rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
            /* odd rounds: printable characters only, so most stay well-formed */
            buf[at] = (char)(i % 2 ? 0x20 + rng % 95 : rng & 0xFF);
        }
        mq_arena a;
        mq_arena_init(&a, 0);
        mq_input in;
        mq_req_errors errs;
        mq_acord *x = mq_acord_request(ik, buf, len, &a, &in, &errs);
        if (!x) {
            assert_true(errs.count > 0);
            refused++;
        }
        mq_acord_free(x);
        mq_arena_free(&a);
    }
    assert_true(refused > 0);
    free(buf);
    free(orig);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_digit_valid),
        cmocka_unit_test(test_check_digit_catches_every_single_change),
        cmocka_unit_test(test_ioq_and_length_refused),
        cmocka_unit_test(test_model_year_both_cycles),
        cmocka_unit_test(test_model_year_motorcycles),
        cmocka_unit_test(test_wmi_makes),
        cmocka_unit_test(test_vin_json),
        cmocka_unit_test(test_every_state_minimums),
        cmocka_unit_test(test_state_minimums_over_time),
        cmocka_unit_test(test_zip_prefixes),
        cmocka_unit_test(test_broken_data_files),
        cmocka_unit_test(test_request_checks),
        cmocka_unit_test(test_request_checks_pa_medical),
        cmocka_unit_test(test_request_checks_other_lines),
        cmocka_unit_test(test_request_checks_bundle),
        cmocka_unit_test(test_shared_wmis),
        cmocka_unit_test(test_vin_json_shared_wmi),
        cmocka_unit_test(test_acord_maps_onto_the_contract),
        cmocka_unit_test(test_acord_rates_like_the_json),
        cmocka_unit_test(test_acord_errors_name_the_xpath),
        cmocka_unit_test(test_acord_liability_on_vehicles_must_agree),
        cmocka_unit_test(test_acord_anti_theft_codes),
        cmocka_unit_test(test_acord_vin_case),
        cmocka_unit_test(test_acord_dates_with_zones),
        cmocka_unit_test(test_acord_co_insured),
        cmocka_unit_test(test_acord_rquid_echoed),
        cmocka_unit_test(test_acord_transport_charset),
        cmocka_unit_test(test_acord_no_silent_choices),
        cmocka_unit_test(test_acord_malformed_and_attacks),
        cmocka_unit_test(test_acord_hostile_sizes),
        cmocka_unit_test(test_acord_attribute_flood),
        cmocka_unit_test(test_acord_mutations),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
