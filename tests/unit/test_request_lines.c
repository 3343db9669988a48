/* test_request_lines.c -- the home, renters, term_life and health requests, and their results.
 *
 * Like test_request.c for auto: each line has one valid request (written
 * here, or for health the ACA reference cases read from ../shared/reference);
 * good-input tests check the values the mq_input receives, and each bad-input
 * test breaks one thing with ts_set_path() and checks the exact path and message
 * of the one error it must produce. The response tests build results by hand
 * and compare the exact JSON of the per-line extras and coverage entries. Run
 * from the repository root (meson's workdir for tests).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support.h"

#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACA_EXAMPLES "../shared/reference/aca-health.examples.json"

/* ---- Helpers ---------------------------------------------------------- */

/* Validates `req` (consumed) and checks that it fails with exactly one error. */
static void expect_error(json_t *req, const char *path, const char *message)
{
    mq_arena a;
    mq_input in;
    mq_req_errors errs;
    mq_arena_init(&a, 0);
    bool ok = mq_req_from_json(req, &a, &in, &errs);
    json_decref(req);
    assert_false(ok);
    if (errs.count != 1 || strcmp(errs.items[0].path, path) != 0 ||
        strcmp(errs.items[0].message, message) != 0)
        for (int i = 0; i < errs.count && i < 32; i++)
            print_message("# got %s: %s\n", errs.items[i].path, errs.items[i].message);
    assert_int_equal(errs.count, 1);
    assert_string_equal(errs.items[0].path, path);
    assert_string_equal(errs.items[0].message, message);
    mq_arena_free(&a);
}

/* Validates `req` (consumed), which must succeed; the input lives in `a`. */
static void expect_ok(json_t *req, mq_arena *a, mq_input *in)
{
    mq_req_errors errs;
    mq_arena_init(a, 0);
    bool ok = mq_req_from_json(req, a, in, &errs);
    json_decref(req);
    for (int i = 0; i < errs.count && i < 32; i++)
        print_message("# unexpected %s: %s\n", errs.items[i].path, errs.items[i].message);
    assert_true(ok);
    assert_int_equal(errs.count, 0);
}

static const double *policy(const mq_input *in)
{
    return mq_input_row(in, MQ_ENT_POLICY, 0);
}

static double day(const char *iso)
{
    int32_t d;
    assert_true(mq_date_parse(iso, &d));
    return d;
}

static double sym(mq_domain d, const char *name)
{
    int code = mq_symbol_find(d, name);
    assert_true(code >= 0);
    return code;
}

/* ---- Requests ---------------------------------------------------------- */

static json_t *home(void)
{
    return ts_json(
        "{\"line\": \"home\", \"effective_date\": \"2026-05-01\","
        " \"applicant\": {\"first_name\": \"Dana\", \"date_of_birth\": \"1980-04-02\","
        "  \"address\": {\"street\": \"12 High St\", \"state\": \"OH\", \"zip\": \"43215\"},"
        "  \"homeowner\": true, \"paperless\": true, \"consent\": {\"contact\": false}},"
        " \"dwelling\": {\"year_built\": 1998, \"construction\": \"frame\","
        "  \"square_feet\": 2100, \"stories\": 2, \"roof_year\": 2015,"
        "  \"roof_type\": \"asphalt_shingle\", \"protection_class\": 4,"
        "  \"replacement_cost\": 350000, \"smoke_detectors\": true, \"sprinklers\": false,"
        "  \"burglar_alarm\": true},"
        " \"claims\": [{\"type\": \"water\", \"date\": \"2023-08-14\", \"amount\": 8200},"
        "  {\"type\": \"wind\", \"date\": \"2021-03-01\"}],"
        " \"coverages\": {\"dwelling\": 350000, \"liability\": 300000, \"med_pay\": 5000,"
        "  \"deductible\": 1000}}");
}

static json_t *renters(void)
{
    return ts_json(
        "{\"line\": \"renters\", \"effective_date\": \"2026-05-01\","
        " \"applicant\": {\"address\": {\"state\": \"PA\", \"zip\": \"15213\"}},"
        " \"unit\": {\"construction\": \"masonry\", \"protection_class\": 3, \"floor\": 4,"
        "  \"smoke_detectors\": true},"
        " \"coverages\": {\"personal_property\": 30000, \"liability\": 100000,"
        "  \"deductible\": 500}}");
}

static json_t *life(void)
{
    return ts_json("{\"line\": \"term_life\", \"effective_date\": \"2026-04-01\","
                   " \"applicant\": {\"date_of_birth\": \"1984-09-20\", \"gender\": \"female\","
                   "  \"address\": {\"state\": \"OH\", \"zip\": \"43215\"}},"
                   " \"face_amount\": 500000, \"term_years\": 20, \"payment_mode\": \"monthly\","
                   " \"tobacco\": false, \"build\": {\"height_in\": 66, \"weight_lb\": 150},"
                   " \"health\": {\"blood_pressure_treated\": false, \"cholesterol_treated\": true,"
                   "  \"diabetes\": false, \"family_heart_disease_before_60\": false},"
                   " \"health_class\": null}");
}

/* A copy of the request of ACA reference case `i` (0-based). */
static json_t *aca(size_t i)
{
    json_error_t je;
    json_t *doc = json_load_file(ACA_EXAMPLES, 0, &je);
    if (!doc)
        fail_msg("%s:%d: %s", ACA_EXAMPLES, je.line, je.text);
    json_t *req = json_deep_copy(
        json_object_get(json_array_get(json_object_get(doc, "cases"), i), "request"));
    json_decref(doc);
    assert_non_null(req);
    return req;
}

/* ---- Lines ----------------------------------------------------------------- */

static void test_unknown_line(void **state)
{
    (void)state;
    json_t *req = home();
    ts_set_path(req, "line", ts_json("\"boat\""));
    expect_error(req, "line", "unsupported line \"boat\"");
    req = home();
    ts_set_path(req, "line", ts_json("\"Home\""));
    expect_error(req, "line", "unsupported line \"Home\"");
}

static void test_fields_of_another_line(void **state)
{
    (void)state;
    json_t *req = home();
    ts_set_path(req, "drivers", ts_json("[]"));
    expect_error(req, "drivers", "unknown field");
    req = home(); /* a home request sent as renters */
    ts_set_path(req, "line", ts_json("\"renters\""));
    mq_arena a;
    mq_input in;
    mq_req_errors errs;
    mq_arena_init(&a, 0);
    assert_false(mq_req_from_json(req, &a, &in, &errs));
    json_decref(req);
    assert_int_equal(errs.count, 4);
    assert_string_equal(mq_req_error_text(&errs.items[0], &a), "dwelling: unknown field");
    assert_string_equal(mq_req_error_text(&errs.items[1], &a), "unit: is required");
    assert_string_equal(mq_req_error_text(&errs.items[2], &a),
                        "coverages.dwelling: not a renters coverage (personal_property, "
                        "loss_of_use, liability, med_pay, deductible)");
    assert_string_equal(mq_req_error_text(&errs.items[3], &a),
                        "coverages.personal_property: is required");
    mq_arena_free(&a);
}

/* ---- home -------------------------------------------------------------------- */

static void test_home_parses(void **state)
{
    (void)state;
    mq_arena a;
    mq_input in;
    expect_ok(home(), &a, &in);
    assert_int_equal(in.line, MQ_LINE_HOME);
    assert_int_equal(in.effective_date, mq_date_from_ymd(2026, 5, 1));
    assert_int_equal(in.state, mq_symbol_find(MQ_DOM_STATE, "OH"));
    assert_int_equal(in.count[MQ_ENT_POLICY], 1);
    assert_int_equal(in.count[MQ_ENT_CLAIM], 2);
    assert_int_equal(in.count[MQ_ENT_DRIVER], 0);
    assert_null(in.start[MQ_ENT_CLAIM]); /* claims belong to the policy */
    const double *p = policy(&in);
    assert_true(p[MQ_HP_EFFECTIVE_DATE] == day("2026-05-01"));
    assert_true(p[MQ_HP_STATE] == sym(MQ_DOM_STATE, "OH") && p[MQ_HP_ZIP] == 43215);
    assert_true(p[MQ_HP_APPLICANT_DOB] == day("1980-04-02"));
    assert_true(p[MQ_HP_PAPERLESS] == 1);
    assert_true(p[MQ_HP_YEAR_BUILT] == 1998);
    assert_true(p[MQ_HP_CONSTRUCTION] == sym(MQ_DOM_CONSTRUCTION, "frame"));
    assert_true(p[MQ_HP_SQUARE_FEET] == 2100 && p[MQ_HP_STORIES] == 2);
    assert_true(p[MQ_HP_ROOF_YEAR] == 2015);
    assert_true(p[MQ_HP_ROOF_TYPE] == sym(MQ_DOM_ROOF, "asphalt_shingle"));
    assert_true(p[MQ_HP_PROTECTION_CLASS] == 4);
    assert_true(p[MQ_HP_REPLACEMENT_COST] == 350000);
    assert_true(p[MQ_HP_SMOKE_DETECTORS] == 1 && p[MQ_HP_SPRINKLERS] == 0);
    assert_true(p[MQ_HP_BURGLAR_ALARM] == 1);
    assert_true(isnan(p[MQ_HP_FLOOR]));
    assert_true(p[MQ_HP_COV_A] == 350000);
    assert_true(p[MQ_HP_COV_B] == 35000);  /* 10% of A */
    assert_true(p[MQ_HP_COV_C] == 175000); /* 50% of A */
    assert_true(p[MQ_HP_COV_D] == 70000);  /* 20% of A */
    assert_true(p[MQ_HP_COV_E] == 300000 && p[MQ_HP_COV_F] == 5000);
    assert_true(p[MQ_HP_DEDUCTIBLE] == 1000);
    assert_string_equal(in.ids[MQ_ENT_CLAIM][1], "claims[1]");
    const double *c = mq_input_row(&in, MQ_ENT_CLAIM, 0);
    assert_true(c[MQ_HC_TYPE] == sym(MQ_DOM_CLAIM, "water"));
    assert_true(c[MQ_HC_DATE] == day("2023-08-14") && c[MQ_HC_AMOUNT] == 8200);
    c = mq_input_row(&in, MQ_ENT_CLAIM, 1);
    assert_true(c[MQ_HC_TYPE] == sym(MQ_DOM_CLAIM, "wind") && isnan(c[MQ_HC_AMOUNT]));
    mq_arena_free(&a);
}

static void test_home_defaults_round_half_up(void **state)
{
    (void)state;
    json_t *req = home();
    ts_set_path(req, "coverages.dwelling", ts_json("123455"));
    ts_set_path(req, "coverages.loss_of_use", json_null()); /* null: the default */
    mq_arena a;
    mq_input in;
    expect_ok(req, &a, &in);
    const double *p = policy(&in);
    assert_true(p[MQ_HP_COV_B] == 12346); /* 12345.5 */
    assert_true(p[MQ_HP_COV_C] == 61728); /* 61727.5 */
    assert_true(p[MQ_HP_COV_D] == 24691);
    mq_arena_free(&a);

    req = home(); /* given amounts win; without med_pay F stays missing */
    ts_set_path(req, "coverages.other_structures", ts_json("50000"));
    ts_set_path(req, "coverages.personal_property", ts_json("100000"));
    ts_set_path(req, "coverages.loss_of_use", ts_json("35001"));
    ts_set_path(req, "coverages.med_pay", NULL);
    ts_set_path(req, "applicant.paperless", NULL);
    ts_set_path(req, "dwelling.sprinklers", NULL);
    ts_set_path(req, "claims", NULL);
    expect_ok(req, &a, &in);
    p = policy(&in);
    assert_true(p[MQ_HP_COV_B] == 50000 && p[MQ_HP_COV_C] == 100000 && p[MQ_HP_COV_D] == 35001);
    assert_true(isnan(p[MQ_HP_COV_F]));
    assert_true(p[MQ_HP_PAPERLESS] == 0 && p[MQ_HP_SPRINKLERS] == 0);
    assert_int_equal(in.count[MQ_ENT_CLAIM], 0);
    mq_arena_free(&a);
}

static void test_home_dwelling_errors(void **state)
{
    (void)state;
    json_t *req = home();
    ts_set_path(req, "dwelling", NULL);
    expect_error(req, "dwelling", "is required");
    req = home();
    ts_set_path(req, "dwelling.construction", ts_json("\"straw\""));
    expect_error(req, "dwelling.construction",
                 "\"straw\" is not one of frame, masonry, masonry_veneer, fire_resistive");
    req = home();
    ts_set_path(req, "dwelling.year_built", ts_json("2028"));
    expect_error(req, "dwelling.year_built", "must be from 1700 to 2027, got 2028");
    req = home();
    ts_set_path(req, "dwelling.year_built", ts_json("1699"));
    expect_error(req, "dwelling.year_built", "must be from 1700 to 2027, got 1699");
    req = home();
    ts_set_path(req, "dwelling.roof_year", ts_json("1990"));
    expect_error(req, "dwelling.roof_year", "is before year_built (1998)");
    req = home();
    ts_set_path(req, "dwelling.roof_year", ts_json("2027"));
    expect_error(req, "dwelling.roof_year", "must be from 1700 to 2026, got 2027");
    req = home();
    ts_set_path(req, "dwelling.stories", ts_json("5"));
    expect_error(req, "dwelling.stories", "must be from 1 to 4, got 5");
    req = home();
    ts_set_path(req, "dwelling.protection_class", ts_json("11"));
    expect_error(req, "dwelling.protection_class", "must be from 1 to 10, got 11");
    req = home();
    ts_set_path(req, "dwelling.protection_class", ts_json("3.5"));
    expect_error(req, "dwelling.protection_class", "expected a whole number, got 3.5");
    req = home();
    ts_set_path(req, "dwelling.roof_type", ts_json("\"thatch\""));
    expect_error(req, "dwelling.roof_type",
                 "\"thatch\" is not one of asphalt_shingle, architectural_shingle, metal, tile, "
                 "slate, wood_shake, flat");
    req = home();
    ts_set_path(req, "dwelling.sprinklers", ts_json("\"yes\""));
    expect_error(req, "dwelling.sprinklers", "expected true or false, got a string");
    req = home();
    ts_set_path(req, "dwelling.floor", ts_json("2"));
    expect_error(req, "dwelling.floor", "unknown field");
}

static void test_home_claim_errors(void **state)
{
    (void)state;
    json_t *req = home();
    ts_set_path(req, "claims[0].date", ts_json("\"2026-05-02\""));
    expect_error(req, "claims[0].date", "is after the effective date 2026-05-01");
    req = home();
    ts_set_path(req, "claims[1].date", ts_json("\"2023-02-29\""));
    expect_error(req, "claims[1].date", "not a valid date \"2023-02-29\"");
    req = home();
    ts_set_path(req, "claims[0].type", ts_json("\"flood\""));
    expect_error(req, "claims[0].type",
                 "\"flood\" is not one of water, wind, hail, fire, theft, liability, other");
    req = home();
    ts_set_path(req, "claims[0].amount", ts_json("8200.555"));
    expect_error(req, "claims[0].amount", "expected at most two decimals, got 8200.555");
    req = home();
    ts_set_path(req, "claims[1].cause", ts_json("\"pipe\""));
    expect_error(req, "claims[1].cause", "unknown field");
    req = home();
    ts_set_path(req, "claims[1]", ts_json("\"wind\""));
    expect_error(req, "claims[1]", "expected an object, got a string");
}

static void test_home_coverage_errors(void **state)
{
    (void)state;
    json_t *req = home();
    ts_set_path(req, "coverages.dwelling", NULL);
    expect_error(req, "coverages.dwelling", "is required");
    req = home();
    ts_set_path(req, "coverages.liability", NULL);
    expect_error(req, "coverages.liability", "is required");
    req = home();
    ts_set_path(req, "coverages.deductible", NULL);
    expect_error(req, "coverages.deductible", "is required");
    req = home();
    ts_set_path(req, "coverages.deductible", ts_json("350000"));
    expect_error(req, "coverages.deductible", "must be less than dwelling (350000)");
    req = home();
    ts_set_path(req, "coverages.other_structures", ts_json("35000.5"));
    expect_error(req, "coverages.other_structures", "expected a whole number, got 35000.5");
    req = home();
    ts_set_path(req, "coverages.loss_of_use", ts_json("0"));
    expect_error(req, "coverages.loss_of_use", "must be from 1 to 10000000, got 0");
    req = home();
    ts_set_path(req, "coverages.bi", ts_json("100000"));
    expect_error(req, "coverages.bi",
                 "not a home coverage (dwelling, other_structures, personal_property, "
                 "loss_of_use, liability, med_pay, deductible)");
    req = home();
    ts_set_path(req, "coverages.dwelling", ts_json("{\"limit\": 350000}"));
    expect_error(req, "coverages.dwelling", "expected a number, got an object");
    req = home();
    ts_set_path(req, "coverages", ts_json("[]"));
    expect_error(req, "coverages", "expected an object, got an array");
}

static void test_home_applicant(void **state)
{
    (void)state;
    json_t *req = home();
    ts_set_path(req, "applicant.gender", ts_json("\"female\""));
    expect_error(req, "applicant.gender", "unknown field");
    req = home();
    ts_set_path(req, "applicant.address.county_fips", ts_json("\"39049\""));
    expect_error(req, "applicant.address.county_fips", "unknown field");
    req = home();
    ts_set_path(req, "applicant.date_of_birth", ts_json("\"2026-05-02\""));
    expect_error(req, "applicant.date_of_birth", "is after the effective date 2026-05-01");
    req = home();
    ts_set_path(req, "applicant.homeowner", ts_json("1"));
    expect_error(req, "applicant.homeowner", "expected true or false, got a number");
}

/* ---- renters ----------------------------------------------------------------- */

static void test_renters_parses(void **state)
{
    (void)state;
    mq_arena a;
    mq_input in;
    expect_ok(renters(), &a, &in);
    assert_int_equal(in.line, MQ_LINE_RENTERS);
    assert_int_equal(in.state, mq_symbol_find(MQ_DOM_STATE, "PA"));
    assert_int_equal(in.count[MQ_ENT_CLAIM], 0);
    const double *p = policy(&in);
    assert_true(p[MQ_HP_ZIP] == 15213);
    assert_true(isnan(p[MQ_HP_APPLICANT_DOB]));
    assert_true(p[MQ_HP_PAPERLESS] == 0);
    assert_true(p[MQ_HP_CONSTRUCTION] == sym(MQ_DOM_CONSTRUCTION, "masonry"));
    assert_true(p[MQ_HP_PROTECTION_CLASS] == 3 && p[MQ_HP_FLOOR] == 4);
    assert_true(p[MQ_HP_SMOKE_DETECTORS] == 1);
    assert_true(p[MQ_HP_SPRINKLERS] == 0 && p[MQ_HP_BURGLAR_ALARM] == 0);
    assert_true(isnan(p[MQ_HP_YEAR_BUILT]) && isnan(p[MQ_HP_ROOF_YEAR]));
    assert_true(isnan(p[MQ_HP_COV_A]) && isnan(p[MQ_HP_COV_B]));
    assert_true(p[MQ_HP_COV_C] == 30000);
    assert_true(p[MQ_HP_COV_D] == 6000); /* 20% of C */
    assert_true(p[MQ_HP_COV_E] == 100000 && isnan(p[MQ_HP_COV_F]));
    assert_true(p[MQ_HP_DEDUCTIBLE] == 500);
    mq_arena_free(&a);

    json_t *req = renters();
    ts_set_path(req, "coverages.personal_property", ts_json("25005")); /* D = 5001 (5001.0) */
    ts_set_path(req, "claims",
                ts_json("[{\"type\": \"theft\", \"date\": \"2025-11-30\", \"amount\": 1200.5}]"));
    expect_ok(req, &a, &in);
    assert_true(policy(&in)[MQ_HP_COV_D] == 5001);
    assert_int_equal(in.count[MQ_ENT_CLAIM], 1);
    assert_true(mq_input_row(&in, MQ_ENT_CLAIM, 0)[MQ_HC_AMOUNT] == 1200.5);
    mq_arena_free(&a);

    req = renters();
    ts_set_path(req, "coverages.personal_property", ts_json("25003")); /* 5000.6 */
    expect_ok(req, &a, &in);
    assert_true(policy(&in)[MQ_HP_COV_D] == 5001);
    mq_arena_free(&a);
}

static void test_renters_errors(void **state)
{
    (void)state;
    json_t *req = renters();
    ts_set_path(req, "unit", NULL);
    expect_error(req, "unit", "is required");
    req = renters();
    ts_set_path(req, "unit.construction", NULL);
    expect_error(req, "unit.construction", "is required");
    req = renters();
    ts_set_path(req, "unit.protection_class", ts_json("0"));
    expect_error(req, "unit.protection_class", "must be from 1 to 10, got 0");
    req = renters();
    ts_set_path(req, "unit.floor", ts_json("0"));
    expect_error(req, "unit.floor", "must be from 1 to 200, got 0");
    req = renters();
    ts_set_path(req, "unit.roof_year", ts_json("2015"));
    expect_error(req, "unit.roof_year", "unknown field");
    req = renters();
    ts_set_path(req, "dwelling", ts_json("{}"));
    expect_error(req, "dwelling", "unknown field");
    req = renters();
    ts_set_path(req, "coverages.dwelling", ts_json("100000"));
    expect_error(req, "coverages.dwelling",
                 "not a renters coverage (personal_property, loss_of_use, liability, med_pay, "
                 "deductible)");
    req = renters();
    ts_set_path(req, "coverages.other_structures", ts_json("10000"));
    expect_error(req, "coverages.other_structures",
                 "not a renters coverage (personal_property, loss_of_use, liability, med_pay, "
                 "deductible)");
    req = renters();
    ts_set_path(req, "coverages.personal_property", NULL);
    expect_error(req, "coverages.personal_property", "is required");
    req = renters();
    ts_set_path(req, "coverages.liability", ts_json("\"100000\""));
    expect_error(req, "coverages.liability", "expected a number, got a string");
    req = renters();
    ts_set_path(req, "coverages.deductible", ts_json("30000"));
    expect_error(req, "coverages.deductible", "must be less than personal_property (30000)");
    req = renters();
    ts_set_path(req, "claims", ts_json("{}"));
    expect_error(req, "claims", "expected an array, got an object");
}

/* ---- term_life --------------------------------------------------------------- */

static void test_life_parses(void **state)
{
    (void)state;
    mq_arena a;
    mq_input in;
    expect_ok(life(), &a, &in);
    assert_int_equal(in.line, MQ_LINE_TERM_LIFE);
    assert_int_equal(in.effective_date, mq_date_from_ymd(2026, 4, 1));
    assert_int_equal(in.state, mq_symbol_find(MQ_DOM_STATE, "OH"));
    const double *p = policy(&in);
    assert_true(p[MQ_LP_EFFECTIVE_DATE] == day("2026-04-01"));
    assert_true(p[MQ_LP_STATE] == sym(MQ_DOM_STATE, "OH") && p[MQ_LP_ZIP] == 43215);
    assert_true(p[MQ_LP_DATE_OF_BIRTH] == day("1984-09-20"));
    assert_true(p[MQ_LP_GENDER] == sym(MQ_DOM_GENDER, "female"));
    assert_true(p[MQ_LP_FACE_AMOUNT] == 500000 && p[MQ_LP_TERM_YEARS] == 20);
    assert_true(p[MQ_LP_PAYMENT_MODE] == sym(MQ_DOM_PAYMENT_MODE, "monthly"));
    assert_true(p[MQ_LP_TOBACCO] == 0);
    assert_true(p[MQ_LP_HEIGHT_IN] == 66 && p[MQ_LP_WEIGHT_LB] == 150);
    assert_true(p[MQ_LP_BP_TREATED] == 0 && p[MQ_LP_CHOLESTEROL_TREATED] == 1);
    assert_true(p[MQ_LP_DIABETES] == 0 && p[MQ_LP_FAMILY_HEART] == 0);
    assert_true(isnan(p[MQ_LP_HEALTH_CLASS]));
    mq_arena_free(&a);

    json_t *req = life(); /* a tobacco user declaring a tobacco class */
    ts_set_path(req, "tobacco", json_true());
    ts_set_path(req, "health_class", ts_json("\"tobacco_preferred\""));
    ts_set_path(req, "applicant.date_of_birth", ts_json("\"1961-04-01\"")); /* 65: 65 + 30 = 95 */
    ts_set_path(req, "term_years", ts_json("30"));
    expect_ok(req, &a, &in);
    p = policy(&in);
    assert_true(p[MQ_LP_TOBACCO] == 1 && p[MQ_LP_TERM_YEARS] == 30);
    assert_true(p[MQ_LP_HEALTH_CLASS] == sym(MQ_DOM_HEALTH_CLASS, "tobacco_preferred"));
    mq_arena_free(&a);

    req = life(); /* issue ages are inclusive: 18 on the effective date itself */
    ts_set_path(req, "applicant.date_of_birth", ts_json("\"2008-04-01\""));
    expect_ok(req, &a, &in);
    mq_arena_free(&a);

    /* 17 at the last birthday but 18 at the nearest, which is the issue age
     * of the carriers that count it: six whole months past the 17th birthday
     * (2008-10-01), and one day short of the 18th (2008-04-02) */
    static const char *const nearly_18[] = {"\"2008-10-01\"", "\"2008-04-02\""};
    for (size_t i = 0; i < sizeof nearly_18 / sizeof *nearly_18; i++) {
        req = life();
        ts_set_path(req, "applicant.date_of_birth", ts_json(nearly_18[i]));
        expect_ok(req, &a, &in);
        mq_arena_free(&a);
    }
    req = life(); /* born 29 February: 1 September 2025 is six months past 1 March */
    ts_set_path(req, "effective_date", ts_json("\"2025-09-01\""));
    ts_set_path(req, "applicant.date_of_birth", ts_json("\"2008-02-29\""));
    expect_ok(req, &a, &in);
    mq_arena_free(&a);
}

static void test_life_applicant_errors(void **state)
{
    (void)state;
    json_t *req = life();
    ts_set_path(req, "applicant.gender", NULL);
    expect_error(req, "applicant.gender", "is required");
    req = life();
    ts_set_path(req, "applicant.gender", ts_json("\"x\""));
    expect_error(req, "applicant.gender",
                 "\"x\" is not one of female, male, nonbinary, unspecified");
    req = life();
    ts_set_path(req, "applicant.date_of_birth", NULL);
    expect_error(req, "applicant.date_of_birth", "is required");
    req = life(); /* 17 years, 5 months and 30 days: 17 at the nearest birthday too */
    ts_set_path(req, "applicant.date_of_birth", ts_json("\"2008-10-02\""));
    expect_error(req, "applicant.date_of_birth",
                 "the applicant is 17 on the effective date, 17 at the nearest birthday; term "
                 "life is issued from age 18 at the nearest birthday");
    /* born on 29 February: the 17th birthday was 1 March 2025 (a common
     * year), so six whole months past it is 1 September, not 28 August */
    req = life();
    ts_set_path(req, "effective_date", ts_json("\"2025-08-31\""));
    ts_set_path(req, "applicant.date_of_birth", ts_json("\"2008-02-29\""));
    expect_error(req, "applicant.date_of_birth",
                 "the applicant is 17 on the effective date, 17 at the nearest birthday; term "
                 "life is issued from age 18 at the nearest birthday");
    req = life();
    ts_set_path(req, "applicant.date_of_birth", ts_json("\"1950-04-01\""));
    ts_set_path(req, "term_years", ts_json("10"));
    expect_error(req, "applicant.date_of_birth",
                 "the applicant is 76 on the effective date; term life is issued to age 75");
    req = life();
    ts_set_path(req, "applicant.date_of_birth", ts_json("\"1960-04-01\"")); /* 66 */
    ts_set_path(req, "term_years", ts_json("30"));
    expect_error(req, "term_years",
                 "a 30-year term at issue age 66 ends at age 96; terms must end by age 95");
}

static void test_life_policy_errors(void **state)
{
    (void)state;
    json_t *req = life();
    ts_set_path(req, "face_amount", ts_json("20000"));
    expect_error(req, "face_amount", "must be from 25000 to 10000000, got 20000");
    req = life();
    ts_set_path(req, "face_amount", ts_json("250000.5"));
    expect_error(req, "face_amount", "expected a whole number, got 250000.5");
    req = life();
    ts_set_path(req, "term_years", ts_json("12"));
    expect_error(req, "term_years", "must be 10, 15, 20, 25 or 30, got 12");
    req = life();
    ts_set_path(req, "term_years", ts_json("\"20\""));
    expect_error(req, "term_years", "expected a number, got a string");
    req = life();
    ts_set_path(req, "term_years", NULL);
    expect_error(req, "term_years", "is required");
    req = life();
    ts_set_path(req, "payment_mode", ts_json("\"weekly\""));
    expect_error(req, "payment_mode",
                 "\"weekly\" is not one of annual, semiannual, quarterly, monthly");
    req = life();
    ts_set_path(req, "tobacco", NULL);
    expect_error(req, "tobacco", "is required");
    req = life();
    ts_set_path(req, "build.height_in", ts_json("47"));
    expect_error(req, "build.height_in", "must be from 48 to 90, got 47");
    req = life();
    ts_set_path(req, "build.weight_lb", ts_json("501"));
    expect_error(req, "build.weight_lb", "must be from 80 to 500, got 501");
    req = life();
    ts_set_path(req, "build", NULL);
    expect_error(req, "build", "is required");
    req = life();
    ts_set_path(req, "health.diabetes", NULL);
    expect_error(req, "health.diabetes", "is required");
    req = life();
    ts_set_path(req, "health.cancer", json_false());
    expect_error(req, "health.cancer", "unknown field");
}

static void test_life_health_class(void **state)
{
    (void)state;
    json_t *req = life();
    ts_set_path(req, "health_class", ts_json("\"super\""));
    expect_error(req, "health_class",
                 "\"super\" is not one of preferred_plus, preferred, standard_plus, standard, "
                 "tobacco_preferred, tobacco_standard");
    req = life();
    ts_set_path(req, "health_class", ts_json("\"tobacco_standard\""));
    expect_error(req, "health_class",
                 "\"tobacco_standard\" is a tobacco class, but tobacco is false");
    req = life();
    ts_set_path(req, "tobacco", json_true());
    ts_set_path(req, "health_class", ts_json("\"preferred_plus\""));
    expect_error(req, "health_class",
                 "\"preferred_plus\" is not a tobacco class, but tobacco is true");
    req = life();
    ts_set_path(req, "health_class", ts_json("\"standard\""));
    mq_arena a;
    mq_input in;
    expect_ok(req, &a, &in);
    assert_true(policy(&in)[MQ_LP_HEALTH_CLASS] == sym(MQ_DOM_HEALTH_CLASS, "standard"));
    mq_arena_free(&a);
}

/* ---- health ------------------------------------------------------------------ */

static void test_every_aca_example_parses(void **state)
{
    (void)state;
    for (size_t i = 0; i < 4; i++) {
        mq_arena a;
        mq_input in;
        expect_ok(aca(i), &a, &in);
        assert_int_equal(in.line, MQ_LINE_HEALTH);
        assert_int_equal(in.effective_date, mq_date_from_ymd(2026, 1, 1));
        assert_int_equal(in.state, mq_symbol_find(MQ_DOM_STATE, "OH"));
        assert_int_equal(in.metals, 0);
        mq_arena_free(&a);
    }
}

static void test_aca_family_values(void **state)
{
    (void)state;
    mq_arena a;
    mq_input in;
    expect_ok(aca(1), &a, &in); /* six members in Delaware county */
    const double *p = policy(&in);
    assert_true(p[MQ_XP_EFFECTIVE_DATE] == day("2026-01-01"));
    assert_true(p[MQ_XP_STATE] == sym(MQ_DOM_STATE, "OH") && p[MQ_XP_ZIP] == 43015);
    assert_true(p[MQ_XP_COUNTY] == 39041);
    assert_true(p[MQ_XP_HOUSEHOLD_SIZE] == 6 && p[MQ_XP_INCOME] == 85000);
    assert_int_equal(in.count[MQ_ENT_MEMBER], 6);
    assert_null(in.start[MQ_ENT_MEMBER]);
    assert_string_equal(in.ids[MQ_ENT_MEMBER][0], "m1");
    assert_string_equal(in.ids[MQ_ENT_MEMBER][5], "m6");
    const double *m = mq_input_row(&in, MQ_ENT_MEMBER, 0);
    assert_true(m[MQ_XM_RELATIONSHIP] == sym(MQ_DOM_RELATIONSHIP, "self"));
    assert_true(m[MQ_XM_DATE_OF_BIRTH] == day("1983-10-10") && m[MQ_XM_TOBACCO] == 0);
    m = mq_input_row(&in, MQ_ENT_MEMBER, 1);
    assert_true(m[MQ_XM_RELATIONSHIP] == sym(MQ_DOM_RELATIONSHIP, "spouse"));
    m = mq_input_row(&in, MQ_ENT_MEMBER, 5);
    assert_true(m[MQ_XM_RELATIONSHIP] == sym(MQ_DOM_RELATIONSHIP, "child"));
    assert_true(m[MQ_XM_DATE_OF_BIRTH] == day("2020-04-04"));
    mq_arena_free(&a);

    expect_ok(aca(2), &a, &in); /* the couple: self uses tobacco */
    assert_true(mq_input_row(&in, MQ_ENT_MEMBER, 0)[MQ_XM_TOBACCO] == 1);
    assert_true(mq_input_row(&in, MQ_ENT_MEMBER, 1)[MQ_XM_TOBACCO] == 0);
    assert_true(policy(&in)[MQ_XP_COUNTY] == 39049);
    mq_arena_free(&a);
}

static void test_health_filters_and_household(void **state)
{
    (void)state;
    json_t *req = aca(0);
    ts_set_path(req, "filters", ts_json("{\"metal\": [\"bronze\", \"silver\", \"bronze\"]}"));
    ts_set_path(req, "household.income", ts_json("30000.25"));
    mq_arena a;
    mq_input in;
    expect_ok(req, &a, &in);
    unsigned want = 1u << mq_symbol_find(MQ_DOM_METAL, "bronze");
    want |= 1u << mq_symbol_find(MQ_DOM_METAL, "silver");
    assert_int_equal(in.metals, want);
    assert_true(policy(&in)[MQ_XP_INCOME] == 30000.25);
    mq_arena_free(&a);

    req = aca(0); /* no household: no tax credit can be estimated, the rest rates */
    ts_set_path(req, "household", NULL);
    ts_set_path(req, "filters", ts_json("{}"));
    expect_ok(req, &a, &in);
    assert_true(isnan(policy(&in)[MQ_XP_HOUSEHOLD_SIZE]) && isnan(policy(&in)[MQ_XP_INCOME]));
    assert_int_equal(in.metals, 0);
    mq_arena_free(&a);
}

static void test_health_address_errors(void **state)
{
    (void)state;
    json_t *req = aca(0);
    ts_set_path(req, "applicant.address.county_fips", NULL);
    expect_error(req, "applicant.address.county_fips", "is required");
    req = aca(0);
    ts_set_path(req, "applicant.address.county_fips", ts_json("39049"));
    expect_error(req, "applicant.address.county_fips",
                 "expected a 5-digit county FIPS code string, got a number");
    req = aca(0);
    ts_set_path(req, "applicant.address.county_fips", ts_json("\"3904\""));
    expect_error(req, "applicant.address.county_fips", "not a 5-digit county FIPS code \"3904\"");
    req = aca(0);
    ts_set_path(req, "applicant.address.county_fips", ts_json("\"48201\""));
    expect_error(req, "applicant.address.county_fips", "county 48201 is not in OH");
    req = aca(0);
    ts_set_path(req, "applicant.address.zip", ts_json("\"4321\""));
    expect_error(req, "applicant.address.zip", "not a 5-digit ZIP code \"4321\"");
}

static void test_health_household_errors(void **state)
{
    (void)state;
    json_t *req = aca(0);
    ts_set_path(req, "household.size", ts_json("0"));
    expect_error(req, "household.size", "must be from 1 to 20, got 0");
    req = aca(0);
    ts_set_path(req, "household.size", NULL);
    expect_error(req, "household.size", "is required");
    req = aca(0);
    ts_set_path(req, "household.income", ts_json("-1"));
    expect_error(req, "household.income", "must be from 0 to 100000000, got -1");
    req = aca(0);
    ts_set_path(req, "household.income", ts_json("52000.555"));
    expect_error(req, "household.income", "expected at most two decimals, got 52000.555");
    req = aca(2);
    ts_set_path(req, "household.size", ts_json("1"));
    expect_error(req, "household.size", "is 1, fewer than the 2 members listed");
    req = aca(0);
    ts_set_path(req, "household.members", ts_json("1"));
    expect_error(req, "household.members", "unknown field");
}

static void test_health_member_errors(void **state)
{
    (void)state;
    json_t *req = aca(0);
    ts_set_path(req, "members", ts_json("[]"));
    expect_error(req, "members", "must list 1 to 20 members, got 0");
    req = aca(2);
    ts_set_path(req, "members[1].relationship", ts_json("\"self\""));
    expect_error(req, "members[1].relationship",
                 "only one member may be \"self\" (also members[0])");
    req = aca(1);
    ts_set_path(req, "members[2].relationship", ts_json("\"spouse\""));
    expect_error(req, "members[2].relationship",
                 "only one member may be \"spouse\" (also members[1])");
    req = aca(2);
    ts_set_path(req, "members[0].relationship", ts_json("\"child\""));
    expect_error(req, "members",
                 "must include the applicant: one member with relationship \"self\"");
    req = aca(2);
    ts_set_path(req, "members[0].relationship", ts_json("\"cousin\""));
    expect_error(req, "members[0].relationship", "\"cousin\" is not one of self, spouse, child");
    req = aca(2);
    ts_set_path(req, "members[1].id", ts_json("\"m1\""));
    expect_error(req, "members[1].id", "duplicate id \"m1\" (also members[0])");
    req = aca(0);
    ts_set_path(req, "members[0].date_of_birth", ts_json("\"1985-02-30\""));
    expect_error(req, "members[0].date_of_birth", "not a valid date \"1985-02-30\"");
    req = aca(0);
    ts_set_path(req, "members[0].date_of_birth", ts_json("\"2026-01-02\""));
    expect_error(req, "members[0].date_of_birth", "is after the effective date 2026-01-01");
    req = aca(0);
    ts_set_path(req, "members[0].tobacco", NULL);
    expect_error(req, "members[0].tobacco", "is required");
    req = aca(0);
    ts_set_path(req, "members[0].gender", ts_json("\"female\""));
    expect_error(req, "members[0].gender", "unknown field");
    req = aca(0);
    ts_set_path(req, "members[0]", ts_json("\"m1\""));
    expect_error(req, "members[0]", "expected an object, got a string");
}

/* The "self" member is the applicant: a date of birth given for both must
 * agree, wherever "self" is in the list (the premium is the member's). */
static void test_health_self_is_the_applicant(void **state)
{
    (void)state;
    json_t *req = aca(2);
    ts_set_path(req, "applicant.date_of_birth", ts_json("\"1975-05-21\""));
    expect_error(req, "members[0].date_of_birth",
                 "is not the applicant's date_of_birth (1975-05-21): the member \"self\" is the "
                 "applicant");
    req = aca(2); /* the spouse listed first */
    ts_set_path(req, "members[0].relationship", ts_json("\"spouse\""));
    ts_set_path(req, "members[1].relationship", ts_json("\"self\""));
    ts_set_path(req, "applicant.date_of_birth", ts_json("\"1975-05-20\""));
    expect_error(req, "members[1].date_of_birth",
                 "is not the applicant's date_of_birth (1975-05-20): the member \"self\" is the "
                 "applicant");
    mq_arena a;
    mq_input in;
    req = aca(2);
    ts_set_path(req, "applicant.date_of_birth", ts_json("\"1975-05-20\""));
    expect_ok(req, &a, &in);
    assert_true(mq_input_row(&in, MQ_ENT_MEMBER, 0)[MQ_XM_DATE_OF_BIRTH] == day("1975-05-20"));
    mq_arena_free(&a);
    /* an invalid applicant date is reported once, where it is */
    req = aca(2);
    ts_set_path(req, "applicant.date_of_birth", ts_json("\"1975-02-30\""));
    expect_error(req, "applicant.date_of_birth", "not a valid date \"1975-02-30\"");
}

/* A date of birth more than 120 years before the effective date is a typo,
 * in every line: it was priced (a health member at the oldest age factor). */
static void test_birth_dates_are_plausible(void **state)
{
    (void)state;
    json_t *req = aca(0); /* effective 2026-01-01 */
    ts_set_path(req, "members[0].date_of_birth", ts_json("\"1800-01-01\""));
    expect_error(req, "members[0].date_of_birth",
                 "a person born then is 226 on the effective date; at most 120 is plausible");
    req = aca(0);
    ts_set_path(req, "members[0].date_of_birth", ts_json("\"1905-01-01\""));
    expect_error(req, "members[0].date_of_birth",
                 "a person born then is 121 on the effective date; at most 120 is plausible");
    mq_arena a;
    mq_input in;
    req = aca(0);
    ts_set_path(req, "members[0].date_of_birth", ts_json("\"1905-01-02\"")); /* 120 */
    expect_ok(req, &a, &in);
    mq_arena_free(&a);
    req = home();
    ts_set_path(req, "applicant.date_of_birth", ts_json("\"1880-07-04\""));
    expect_error(req, "applicant.date_of_birth",
                 "a person born then is 145 on the effective date; at most 120 is plausible");
    req = life(); /* reported as implausible, not as a term-life issue age */
    ts_set_path(req, "applicant.date_of_birth", ts_json("\"1890-01-01\""));
    expect_error(req, "applicant.date_of_birth",
                 "a person born then is 136 on the effective date; at most 120 is plausible");
}

static void test_health_filter_errors(void **state)
{
    (void)state;
    json_t *req = aca(0);
    ts_set_path(req, "filters", ts_json("{\"metal\": [\"silver\", \"tin\"]}"));
    expect_error(req, "filters.metal[1]",
                 "\"tin\" is not one of catastrophic, bronze, silver, gold, platinum");
    req = aca(0);
    ts_set_path(req, "filters", ts_json("{\"metal\": []}"));
    expect_error(req, "filters.metal", "must list 1 to 5 metals, got 0");
    req = aca(0);
    ts_set_path(req, "filters", ts_json("{\"metal\": \"gold\"}"));
    expect_error(req, "filters.metal", "expected an array, got a string");
    req = aca(0);
    ts_set_path(req, "filters", ts_json("{\"metal\": [3]}"));
    expect_error(req, "filters.metal[0]", "expected a string, got a number");
    req = aca(0);
    ts_set_path(req, "filters", ts_json("{\"network\": \"hmo\"}"));
    expect_error(req, "filters.network", "unknown field");
}

static void test_health_errors_are_collected(void **state)
{
    (void)state;
    json_t *req = aca(1);
    ts_set_path(req, "applicant.address.county_fips", ts_json("\"39X41\""));
    ts_set_path(req, "members[3].tobacco", ts_json("\"no\""));
    ts_set_path(req, "members[4].extra", ts_json("{\"school\": \"Central\"}")); /* allowed */
    ts_set_path(req, "filters", ts_json("{\"metal\": [\"iron\"]}"));
    mq_arena a;
    mq_input in;
    mq_req_errors errs;
    mq_arena_init(&a, 0);
    assert_false(mq_req_from_json(req, &a, &in, &errs));
    json_decref(req);
    assert_int_equal(errs.count, 3);
    assert_string_equal(errs.items[0].path, "applicant.address.county_fips");
    assert_string_equal(errs.items[1].path, "members[3].tobacco");
    assert_string_equal(errs.items[2].path, "filters.metal[0]");
    mq_arena_free(&a);
}

static void test_arena_exhaustion_in_every_line(void **state)
{
    (void)state;
    json_t *reqs[] = {home(), renters(), life(), aca(1)};
    for (size_t i = 0; i < sizeof reqs / sizeof *reqs; i++) {
        mq_arena a;
        mq_input in;
        mq_req_errors errs;
        mq_arena_init(&a, 64);
        assert_false(mq_req_from_json(reqs[i], &a, &in, &errs));
        assert_int_equal(errs.count, 0);
        json_decref(reqs[i]);
        mq_arena_free(&a);
    }
}

/* ---- Results ------------------------------------------------------------------ */

/* The compact JSON of `v` (consumed), compared with `want`. */
static void expect_json(json_t *v, const char *want)
{
    assert_non_null(v);
    char *s = mq_resp_dump(v, false);
    json_decref(v);
    assert_string_equal(s, want);
    free(s);
}

static void test_health_result_extras(void **state)
{
    (void)state;
    mq_arena a;
    mq_input in;
    expect_ok(aca(2), &a, &in);
    mq_cov_premium covs[] = {{MQ_COV_PREMIUM, 0, 80000}, {MQ_COV_PREMIUM, 1, 60061}};
    mq_result r = {
        .carrier_id = "lakeviewhealth",
        .carrier_name = "Lakeview Mutual Health",
        .carrier_rating = "A-",
        .status = MQ_QUOTED,
        .coverages = covs,
        .ncoverages = 2,
        .premium_cents = 140061,
        .total_cents = 140061,
        .term_months = 1,
        .plan_name = "Lakeview Silver 4000",
        .metal = mq_symbol_find(MQ_DOM_METAL, "silver"),
        .deductible_cents = 400000,
        .out_of_pocket_max_cents = 870000,
        .gross_cents = 140061,
        .credit_cents = 101867,
        .net_cents = 38194,
        .credit_note = "benchmark (second-lowest silver) 1377.81",
    };
    expect_json(mq_resp_result(&in, &r),
                "{\"carrier\":{\"id\":\"lakeviewhealth\",\"name\":\"Lakeview Mutual Health\","
                "\"rating\":\"A-\"},\"plan\":null,\"status\":\"quoted\","
                "\"premium\":{\"total\":1400.61,\"fees\":0.0,\"term_months\":1,"
                "\"monthly\":1400.61,\"minimum_premium_applied\":false},"
                "\"plan_name\":\"Lakeview Silver 4000\",\"metal\":\"silver\","
                "\"gross_premium\":1400.61,\"tax_credit\":1018.67,\"net_premium\":381.94,"
                "\"deductible\":4000.0,\"out_of_pocket_max\":8700.0,"
                "\"credit_note\":\"benchmark (second-lowest silver) 1377.81\","
                "\"coverages\":[{\"code\":\"premium\",\"member\":\"m1\",\"premium\":800.0},"
                "{\"code\":\"premium\",\"member\":\"m2\",\"premium\":600.61}],"
                "\"fees\":[],\"reasons\":[],\"notes\":[],\"verifies\":[]}");

    const char *why[] = {"Cardinal Care does not serve county 39049"};
    mq_result un = {.carrier_id = "cardinalcare",
                    .carrier_name = "Cardinal Care",
                    .carrier_rating = "B+",
                    .status = MQ_UNAVAILABLE,
                    .reasons = why,
                    .nreasons = 1,
                    .metal = -1};
    expect_json(mq_resp_result(&in, &un),
                "{\"carrier\":{\"id\":\"cardinalcare\",\"name\":\"Cardinal Care\","
                "\"rating\":\"B+\"},\"plan\":null,\"status\":\"unavailable\","
                "\"plan_name\":null,\"metal\":null,\"gross_premium\":null,\"tax_credit\":null,"
                "\"net_premium\":null,\"deductible\":null,\"out_of_pocket_max\":null,"
                "\"coverages\":[],\"fees\":[],"
                "\"reasons\":[\"Cardinal Care does not serve county 39049\"],\"notes\":[],"
                "\"verifies\":[]}");

    mq_work_step steps[] = {
        {MQ_COV_PREMIUM, 1, "Base rate", "base_rate", "OH-A", NULL, 389.1, '=', 389.1},
        {-1, 0, "Total", NULL, NULL, NULL, 1400.61, '=', 1400.61}};
    r.steps = steps;
    r.nsteps = 2;
    expect_json(mq_resp_worksheet(&in, &r),
                "{\"carrier\":{\"id\":\"lakeviewhealth\",\"name\":\"Lakeview Mutual Health\","
                "\"rating\":\"A-\"},\"plan\":null,\"status\":\"quoted\",\"steps\":["
                "{\"coverage\":\"premium\",\"member\":\"m2\",\"name\":\"Base rate\","
                "\"table\":\"base_rate\",\"key\":\"OH-A\",\"detail\":null,\"op\":\"=\","
                "\"factor\":389.1,\"running\":389.1},"
                "{\"coverage\":null,\"member\":null,\"name\":\"Total\",\"table\":null,"
                "\"key\":null,\"detail\":null,\"op\":\"=\",\"factor\":1400.61,"
                "\"running\":1400.61},"
                /* then, as the text worksheet: the credit off the gross, the net */
                "{\"coverage\":null,\"member\":null,\"name\":\"Premium tax credit\","
                "\"table\":null,\"key\":null,"
                "\"detail\":\"benchmark (second-lowest silver) 1377.81\",\"op\":\"-\","
                "\"factor\":1018.67,\"running\":381.94},"
                "{\"coverage\":null,\"member\":null,\"name\":\"Net premium\",\"table\":null,"
                "\"key\":null,\"detail\":null,\"op\":\"=\",\"factor\":381.94,"
                "\"running\":381.94}]}");
    mq_arena_free(&a);
}

static void test_health_result_without_market(void **state)
{
    (void)state;
    mq_arena a;
    mq_input in;
    expect_ok(aca(0), &a, &in);
    mq_result r = {.carrier_id = "c",
                   .carrier_name = "C",
                   .carrier_rating = "A",
                   .status = MQ_QUOTED,
                   .total_cents = 38589,
                   .premium_cents = 38589,
                   .term_months = 1,
                   .plan_name = "C Bronze",
                   .metal = 1,
                   .deductible_cents = 680000,
                   .out_of_pocket_max_cents = 805000};
    json_t *o = mq_resp_result(&in, &r);
    assert_non_null(o);
    char *s = mq_resp_dump(o, false);
    json_decref(o);
    assert_non_null(strstr(s, "\"gross_premium\":385.89,\"tax_credit\":0.0,"
                              "\"net_premium\":385.89,\"deductible\":6800.0,"
                              "\"out_of_pocket_max\":8050.0,\"coverages\""));
    free(s);
    /* no market applied, no credit worked out: the worksheet ends at the total */
    mq_work_step steps[] = {{-1, 0, "Total", NULL, NULL, NULL, 385.89, '=', 385.89}};
    r.steps = steps;
    r.nsteps = 1;
    o = mq_resp_worksheet(&in, &r);
    assert_non_null(o);
    assert_int_equal(json_array_size(json_object_get(o, "steps")), 1);
    json_decref(o);
    mq_arena_free(&a);
}

static void test_life_and_home_results(void **state)
{
    (void)state;
    mq_arena a;
    mq_input in;
    expect_ok(life(), &a, &in);
    mq_cov_premium life_cov[] = {{MQ_COV_LIFE, 0, 2431}};
    mq_result r = {.carrier_id = "northstar",
                   .carrier_name = "Northstar Life",
                   .carrier_rating = "A+",
                   .status = MQ_QUOTED,
                   .coverages = life_cov,
                   .ncoverages = 1,
                   .premium_cents = 2431,
                   .total_cents = 2431,
                   .term_months = 1,
                   .health_class = "preferred",
                   .metal = -1};
    expect_json(mq_resp_result(&in, &r),
                "{\"carrier\":{\"id\":\"northstar\",\"name\":\"Northstar Life\","
                "\"rating\":\"A+\"},\"plan\":null,\"status\":\"quoted\","
                "\"premium\":{\"total\":24.31,\"fees\":0.0,\"term_months\":1,\"monthly\":24.31,"
                "\"minimum_premium_applied\":false},\"health_class\":\"preferred\","
                "\"coverages\":[{\"code\":\"life\",\"premium\":24.31,"
                "\"limits\":{\"face_amount\":500000,\"term_years\":20}}],"
                "\"fees\":[],\"reasons\":[],\"notes\":[],\"verifies\":[]}");
    r.status = MQ_DECLINED;
    r.ncoverages = 0;
    json_t *o = mq_resp_result(&in, &r);
    assert_true(json_is_null(json_object_get(o, "health_class")));
    json_decref(o);
    mq_arena_free(&a);

    expect_ok(home(), &a, &in);
    mq_cov_premium home_cov[] = {{MQ_COV_PROPERTY, 0, 142000}, {MQ_COV_MED_PAY, 0, 1500}};
    mq_result h = {.carrier_id = "hearthstone",
                   .carrier_name = "Hearthstone",
                   .carrier_rating = "A",
                   .status = MQ_QUOTED,
                   .coverages = home_cov,
                   .ncoverages = 2,
                   .premium_cents = 143500,
                   .total_cents = 143500,
                   .term_months = 12,
                   .metal = -1};
    mq_work_step steps[] = {{MQ_COV_PROPERTY, 0, "Base", NULL, NULL, NULL, 900, '=', 900}};
    h.steps = steps;
    h.nsteps = 1;
    expect_json(mq_resp_result(&in, &h),
                "{\"carrier\":{\"id\":\"hearthstone\",\"name\":\"Hearthstone\",\"rating\":\"A\"},"
                "\"plan\":null,\"status\":\"quoted\",\"premium\":{\"total\":1435.0,"
                "\"fees\":0.0,\"term_months\":12,\"monthly\":119.58,"
                "\"minimum_premium_applied\":false},\"coverages\":["
                "{\"code\":\"property\",\"premium\":1420.0,"
                "\"limits\":{\"dwelling\":350000,\"deductible\":1000}},"
                "{\"code\":\"med_pay\",\"premium\":15.0,\"limits\":{\"limit\":5000}}],"
                "\"fees\":[],\"reasons\":[],\"notes\":[],\"verifies\":[]}");
    expect_json(mq_resp_worksheet(&in, &h),
                "{\"carrier\":{\"id\":\"hearthstone\",\"name\":\"Hearthstone\",\"rating\":\"A\"},"
                "\"plan\":null,\"status\":\"quoted\",\"steps\":[{\"coverage\":\"property\","
                "\"name\":\"Base\",\"table\":null,\"key\":null,\"detail\":null,\"op\":\"=\","
                "\"factor\":900.0,\"running\":900.0}]}");
    mq_arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_line),
        cmocka_unit_test(test_fields_of_another_line),
        cmocka_unit_test(test_home_parses),
        cmocka_unit_test(test_home_defaults_round_half_up),
        cmocka_unit_test(test_home_dwelling_errors),
        cmocka_unit_test(test_home_claim_errors),
        cmocka_unit_test(test_home_coverage_errors),
        cmocka_unit_test(test_home_applicant),
        cmocka_unit_test(test_renters_parses),
        cmocka_unit_test(test_renters_errors),
        cmocka_unit_test(test_life_parses),
        cmocka_unit_test(test_life_applicant_errors),
        cmocka_unit_test(test_life_policy_errors),
        cmocka_unit_test(test_life_health_class),
        cmocka_unit_test(test_every_aca_example_parses),
        cmocka_unit_test(test_aca_family_values),
        cmocka_unit_test(test_health_filters_and_household),
        cmocka_unit_test(test_health_address_errors),
        cmocka_unit_test(test_health_household_errors),
        cmocka_unit_test(test_health_member_errors),
        cmocka_unit_test(test_health_self_is_the_applicant),
        cmocka_unit_test(test_birth_dates_are_plausible),
        cmocka_unit_test(test_health_filter_errors),
        cmocka_unit_test(test_health_errors_are_collected),
        cmocka_unit_test(test_arena_exhaustion_in_every_line),
        cmocka_unit_test(test_health_result_extras),
        cmocka_unit_test(test_health_result_without_market),
        cmocka_unit_test(test_life_and_home_results),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
