/* test_remote.c -- src/remote without a network: the circuit breaker driven
 * by a made-up clock, and carriers' answers checked against the protocol
 * for the Harbor example 1 request (each way an answer can break it names
 * the field, for the operator; the shopper reads a neutral reason), and
 * the registry's defaults. The fan-out itself runs against
 * real servers in tests/js/remote.test.mjs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "remote.h"
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static mq_remote_carrier carrier(void)
{
    return (mq_remote_carrier){.id = "acme",
                               .name = "Acme Direct",
                               .rating = "A-",
                               .remote = true,
                               .breaker_failures = 3,
                               .breaker_cooldown_ms = 1000};
}

/* ---- Breaker ------------------------------------------------------------- */

static void breaker_opens_after_consecutive_failures(void **state)
{
    (void)state;
    mq_remote_carrier c = carrier();
    mq_breaker b = {0};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(mq_breaker_admit(&b, 100), MQ_BREAKER_ASK);
        mq_breaker_record(&b, false, &c, 100);
    }
    mq_breaker_record(&b, true, &c, 100); /* a success clears the count */
    assert_int_equal(b.failures, 0);
    for (int i = 0; i < 3; i++)
        mq_breaker_record(&b, false, &c, 200);
    assert_int_equal(b.state, MQ_BREAKER_OPEN);
    assert_int_equal(mq_breaker_admit(&b, 200), MQ_BREAKER_SKIP);
    assert_int_equal(mq_breaker_admit(&b, 1199), MQ_BREAKER_SKIP);
    assert_string_equal(mq_breaker_state_name(b.state), "open");
}

static void breaker_probe_decides(void **state)
{
    (void)state;
    mq_remote_carrier c = carrier();
    mq_breaker b = {0};
    for (int i = 0; i < 3; i++)
        mq_breaker_record(&b, false, &c, 0);
    /* after the cool-down: one probe, the others still skipped */
    assert_int_equal(mq_breaker_admit(&b, 1000), MQ_BREAKER_PROBE);
    assert_int_equal(b.state, MQ_BREAKER_HALF_OPEN);
    assert_int_equal(mq_breaker_admit(&b, 1001), MQ_BREAKER_SKIP);
    /* the probe fails: open for another cool-down from now */
    mq_breaker_record(&b, false, &c, 1500);
    assert_int_equal(b.state, MQ_BREAKER_OPEN);
    assert_int_equal(mq_breaker_admit(&b, 2499), MQ_BREAKER_SKIP);
    assert_int_equal(mq_breaker_admit(&b, 2500), MQ_BREAKER_PROBE);
    mq_breaker_record(&b, true, &c, 2600);
    assert_int_equal(b.state, MQ_BREAKER_CLOSED);
    assert_int_equal(mq_breaker_admit(&b, 2601), MQ_BREAKER_ASK);
    assert_int_equal(mq_breaker_admit(&b, 2602), MQ_BREAKER_ASK);
}

/* ---- Answers --------------------------------------------------------------- */

typedef struct fixture {
    mq_arena a;
    mq_input in;
} fixture;

static int setup_request(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    mq_arena_init(&f->a, 0);
    json_t *req = ts_example_request("../shared/reference/harbor-mutual-oh-auto.examples.json", 0);
    char *text = json_dumps(req, 0);
    ts_parse_request(text, strlen(text), &f->a, &f->in, "Harbor example 1");
    free(text);
    json_decref(req);
    *state = f;
    return 0;
}

static int teardown_request(void **state)
{
    fixture *f = *state;
    mq_arena_free(&f->a);
    free(f);
    return 0;
}

static const char GOOD[] =
    "{\"carrier\":{\"id\":\"acme\"},\"plan\":{\"id\":\"acme-oh\",\"version\":\"7\"},"
    "\"status\":\"quoted\",\"premium\":{\"total\":512.34,\"fees\":12.00,\"term_months\":6},"
    "\"coverages\":[{\"code\":\"bi\",\"vehicle\":\"v1\",\"premium\":300.34},"
    "{\"code\":\"pd\",\"vehicle\":\"v1\",\"premium\":200}],"
    "\"fees\":[{\"name\":\"Policy fee\",\"amount\":12}],\"reasons\":[],\"notes\":[\"n\"],"
    "\"verifies\":[{\"check\":\"motor_vehicle_record\",\"text\":\"MVR\"}]}";

static void accepts_a_good_answer(void **state)
{
    fixture *f = *state;
    mq_remote_carrier c = carrier();
    mq_result r;
    char why[300] = "";
    assert_true(mq_remote_result_parse(GOOD, strlen(GOOD), &f->in, &c, &f->a, &r, why, sizeof why));
    assert_int_equal(r.status, MQ_QUOTED);
    assert_int_equal(r.total_cents, 51234);
    assert_int_equal(r.fees_cents, 1200);
    assert_int_equal(r.premium_cents, 50034);
    assert_int_equal(r.ncoverages, 2);
    assert_int_equal(r.coverages[0].cents, 30034);
    assert_int_equal(r.coverages[1].unit, 0);
    assert_string_equal(r.carrier_name, "Acme Direct"); /* from the registry, not the answer */
    assert_string_equal(r.remote_plan_id, "acme-oh");
    assert_string_equal(r.remote_plan_version, "7");
    assert_int_equal(r.nverifies, 1);
    assert_null(r.plan);
    /* it is written out like a local result */
    char *text = mq_resp_result_text(&f->in, &r);
    assert_non_null(strstr(text, "\"plan\":{\"id\":\"acme-oh\",\"version\":\"7\"}"));
    assert_non_null(strstr(text, "\"total\":512.34"));
    assert_non_null(strstr(text, "\"limits\":{\"per_person\":100000,\"per_accident\":300000}"));
    free(text);
}

/* carrier.id is checked when present (docs/carrier-protocol.md): a carrier
 * that names itself without an id, or not at all, is answered for; it was
 * refused as "carrier.id: answered as \"?\"". */
static void carrier_id_is_optional(void **state)
{
    fixture *f = *state;
    static const char *const answers[] = {
        "{\"carrier\":{\"name\":\"Acme\",\"rating\":\"A\"},",
        "{",
        "{\"carrier\":null,",
    };
    const char *rest = strstr(GOOD, "\"plan\"");
    for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++) {
        char body[2048];
        snprintf(body, sizeof body, "%s%s", answers[i], rest);
        mq_remote_carrier c = carrier();
        mq_result r;
        char why[300] = "";
        if (!mq_remote_result_parse(body, strlen(body), &f->in, &c, &f->a, &r, why, sizeof why))
            fail_msg("%s: refused: %s", body, why);
        assert_int_equal(r.total_cents, 51234);
        assert_string_equal(r.carrier_id, "acme");
        assert_string_equal(r.carrier_name, "Acme Direct");
    }
}

/* Replaces the first `from` in GOOD by `to` and expects `why`. */
static void expect_refused(fixture *f, const char *from, const char *to, const char *want)
{
    char body[2048];
    const char *at = strstr(GOOD, from);
    assert_non_null(at);
    snprintf(body, sizeof body, "%.*s%s%s", (int)(at - GOOD), GOOD, to, at + strlen(from));
    mq_remote_carrier c = carrier();
    mq_result r;
    char why[300] = "";
    bool ok = mq_remote_result_parse(body, strlen(body), &f->in, &c, &f->a, &r, why, sizeof why);
    if (ok || strcmp(why, want) != 0)
        fail_msg("%s -> %s: got %s \"%s\", want \"%s\"", from, to, ok ? "ok" : "refused", why,
                 want);
    assert_int_equal(r.status, MQ_QUOTED); /* blank: the caller makes it an error */
    assert_int_equal(r.ncoverages, 0);
}

static void refuses_what_breaks_the_protocol(void **state)
{
    fixture *f = *state;
    expect_refused(f, "\"bi\"", "\"xyz\"", "coverages[0].code: unknown coverage \"xyz\" for auto");
    expect_refused(f, "\"vehicle\":\"v1\"", "\"vehicle\":\"v9\"",
                   "coverages[0].vehicle: the request has no vehicle \"v9\"");
    expect_refused(f, "512.34", "512.35",
                   "premium.total: 512.35 is not the coverages (500.34) plus fees (12.00)");
    expect_refused(f, "300.34", "300.345",
                   "coverages[0].premium: 300.345 is not an amount of "
                   "dollars and cents");
    expect_refused(f, "\"quoted\"", "\"timeout\"",
                   "status: expected quoted, declined, unavailable or error");
    expect_refused(f, "\"id\":\"acme\"", "\"id\":\"other\"",
                   "carrier.id: answered as \"other\", asked \"acme\"");
    /* a carrier that is not an object, or an id that is not a string,
     * says so (they read: answered as "?") */
    expect_refused(f, "{\"id\":\"acme\"}", "\"acme\"", "carrier: expected {\"id\": \"acme\", ...}");
    expect_refused(f, "\"id\":\"acme\"", "\"id\":7", "carrier.id: expected the string \"acme\"");
    /* the carrier's strings are quoted as JSON literals, so a line break or
     * an escape in one starts no line of the command line's stderr (nor
     * moves its terminal); a long one is cut */
    expect_refused(f, "\"id\":\"acme\"", "\"id\":\"acme\\n\\u001b[2J\"",
                   "carrier.id: answered as \"acme\\n\\u001B[2J\", asked \"acme\"");
    expect_refused(f, "\"bi\"",
                   "\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
                   "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\"
                   "u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"",
                   "coverages[0].code: unknown coverage \"ééééééééééééééééééééééééééééééé"
                   "é\"... for auto");
    expect_refused(f, "\"quoted\"", "\x1b[2J", "not JSON (1:73: invalid token near '?')");
    expect_refused(f, "\"term_months\":6", "\"term_months\":0",
                   "premium.term_months: expected a whole number of months (1 to 120)");
    expect_refused(f, "\"amount\":12", "\"amount\":11",
                   "premium.fees: 12.00 is not the sum of fees, 11.00");
    expect_refused(f, "\"plan\":{\"id\":\"acme-oh\",\"version\":\"7\"},", "",
                   "plan: a quoted result names its plan {\"id\", \"version\"}");
    /* a plan with no version: the response's plan names one (openapi.yaml, minLength 1) */
    expect_refused(f, "\"version\":\"7\"", "\"version\":\"\"",
                   "plan: expected {\"id\", \"version\"} non-empty strings");
    expect_refused(f, "\"id\":\"acme-oh\"", "\"id\":\"\"",
                   "plan: expected {\"id\", \"version\"} non-empty strings");
    expect_refused(f, "\"version\":\"7\"", "\"version\":7",
                   "plan: expected {\"id\", \"version\"} non-empty strings");
    expect_refused(f, "{\"carrier\"", "[{\"carrier\"",
                   "not JSON (1:370: ']' expected near end of file)");
    /* amounts in another currency would be shown as dollars */
    expect_refused(f, "\"term_months\":6", "\"term_months\":6,\"currency\":\"EUR\"",
                   "premium.currency: amounts are US dollars (\"USD\"), not \"EUR\"");
    expect_refused(f, "\"status\":\"quoted\"", "\"status\":\"quoted\",\"currency\":\"CAD\"",
                   "currency: amounts are US dollars (\"USD\"), not \"CAD\"");
    expect_refused(f, "\"term_months\":6", "\"term_months\":6,\"currency\":840",
                   "premium.currency: amounts are US dollars (\"USD\"), not a string");
    /* the same coverage twice on one vehicle: shown twice, counted twice */
    expect_refused(f, "\"pd\"", "\"bi\"", "coverages[1]: bi is listed twice for v1 (coverages[0])");
    /* a fee or a check the shopper would read as a blank (the response's
     * Fee and Verify have minLength 1): they were taken as they came */
    expect_refused(f, "\"Policy fee\"", "\"\"", "fees[0].name: expected a non-empty string");
    expect_refused(f, "\"MVR\"", "\"\"", "verifies[0].text: expected a non-empty string");
    expect_refused(f, "\"motor_vehicle_record\"", "\"\"",
                   "verifies[0].check: expected a non-empty string");
    expect_refused(f, "\"text\":\"MVR\"", "\"text\":7",
                   "verifies[0].text: expected a non-empty string");
    expect_refused(f, "{\"check\":\"motor_vehicle_record\",\"text\":\"MVR\"}", "\"MVR\"",
                   "verifies[0]: expected {\"check\", \"text\"}");
    expect_refused(f, "512.34", "-512.34",
                   "premium.total: -512.34 is not an amount of dollars and cents");
}

/* An answer that breaks the protocol, as a result: the shopper reads a
 * neutral reason (it read "the carrier's answer breaks the protocol:
 * premium.total: ..."); the field and what is wrong with it are the
 * operator's, which the server logs and the command line prints. */
static void a_broken_answer_tells_only_the_operator_why(void **state)
{
    fixture *f = *state;
    mq_remote_carrier c = carrier();
    char body[2048], broke[400] = "";
    const char *at = strstr(GOOD, "512.34");
    snprintf(body, sizeof body, "%.*s\"512.34\"%s", (int)(at - GOOD), GOOD, at + 6);
    mq_remote_answer ans = {.status = MQ_QUOTED,
                            .body = body,
                            .body_len = strlen(body),
                            .elapsed_ns = 7000000,
                            .asked = true,
                            .broke = broke,
                            .brokelen = sizeof broke};
    mq_result r;
    assert_false(mq_remote_answer_result(&ans, &f->in, &c, NULL, &f->a, &r));
    assert_int_equal(r.status, MQ_ERROR);
    assert_int_equal(r.nreasons, 1);
    assert_string_equal(r.reasons[0], "Quote unavailable from this carrier right now");
    assert_null(r.remote_plan_id);
    assert_int_equal(r.elapsed_ns, 7000000);
    assert_string_equal(mq_remote_answer_detail(&ans), "the carrier's answer breaks the protocol: "
                                                       "premium.total: expected an amount in "
                                                       "dollars");
    /* nowhere to write it: the shopper's reason is the same */
    ans.broke = NULL;
    assert_false(mq_remote_answer_result(&ans, &f->in, &c, NULL, &f->a, &r));
    assert_string_equal(r.reasons[0], "Quote unavailable from this carrier right now");
    assert_null(mq_remote_answer_detail(&ans));
    /* a good answer leaves the operator nothing to read */
    broke[0] = '\0';
    ans = (mq_remote_answer){.status = MQ_QUOTED,
                             .body = GOOD,
                             .body_len = strlen(GOOD),
                             .broke = broke,
                             .brokelen = sizeof broke};
    assert_true(mq_remote_answer_result(&ans, &f->in, &c, NULL, &f->a, &r));
    assert_int_equal(r.total_cents, 51234);
    assert_null(mq_remote_answer_detail(&ans));
    /* the fan-out's own failure: its reason for the shopper, its detail for the operator */
    ans = (mq_remote_answer){.status = MQ_ERROR,
                             .reason = "no answer from the carrier: the connection to it failed",
                             .detail = "transport: Failed to connect to rating.acme.internal",
                             .broke = broke,
                             .brokelen = sizeof broke};
    assert_true(mq_remote_answer_result(&ans, &f->in, &c, NULL, &f->a, &r));
    assert_string_equal(r.reasons[0], "no answer from the carrier: the connection to it failed");
    assert_string_equal(mq_remote_answer_detail(&ans),
                        "transport: Failed to connect to rating.acme.internal");
}

/* A plan's digest, which a multiquote node acting as a carrier sends
 * (plan.digest), is kept with the result -- its first 16 hex digits, as a
 * local result records its own -- so the carrier's operator can later tell
 * which files priced a saved quote; it was dropped. One that is not 16 to
 * 64 lowercase hex digits breaks the protocol, at plan.digest. */
static void keeps_the_plan_digest_a_carrier_sends(void **state)
{
    fixture *f = *state;
    static const char *const sent[] = {
        "0123456789abcdef",
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    };
    for (int i = 0; i < 2; i++) {
        char body[2048];
        snprintf(body, sizeof body, "%s", GOOD);
        char *at = strstr(body, "\"version\":\"7\"}");
        assert_non_null(at);
        snprintf(at, sizeof body - (size_t)(at - body), "\"version\":\"7\",\"digest\":\"%s\"}%s",
                 sent[i], strstr(GOOD, "\"version\":\"7\"}") + strlen("\"version\":\"7\"}"));
        mq_remote_carrier c = carrier();
        mq_result r;
        char why[300] = "";
        if (!mq_remote_result_parse(body, strlen(body), &f->in, &c, &f->a, &r, why, sizeof why))
            fail_msg("refused: %s", why);
        assert_string_equal(r.remote_plan_digest, sent[i]);
        char *text = mq_resp_result_text(&f->in, &r);
        assert_non_null(strstr(
            text, "\"plan\":{\"id\":\"acme-oh\",\"version\":\"7\",\"digest\":\"0123456789abcdef\"},"
                  "\"remote\":true,"));
        free(text);
    }
    /* without one: none, as before */
    mq_remote_carrier c = carrier();
    mq_result r;
    char why[300] = "";
    assert_true(mq_remote_result_parse(GOOD, strlen(GOOD), &f->in, &c, &f->a, &r, why, sizeof why));
    assert_null(r.remote_plan_digest);
    const char *want =
        "plan.digest: expected 16 to 64 lowercase hex digits (the digest of the plan "
        "version's files)";
    static const char *const refused[] = {
        "\"digest\":\"0123456789abcde\"",  /* 15 */
        "\"digest\":\"0123456789ABCDEF\"", /* upper case */
        "\"digest\":\"0123456789abcdeg\"", /* not hex */
        "\"digest\":\"\"",                 /* empty */
        "\"digest\":1234567890123456",     /* a number */
        "\"digest\":null",
        "\"digest\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0\"", /* 65 */
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        char to[160];
        snprintf(to, sizeof to, "\"version\":\"7\",%s}", refused[i]);
        expect_refused(f, "\"version\":\"7\"}", to, want);
    }
}

/* An answer for the Harbor example 1 request with these amounts (text). */
static bool parse_amounts(fixture *f, const char *total, const char *fees, const char *bi,
                          const char *pd, mq_result *r, char *why, size_t whylen)
{
    char body[1024];
    snprintf(body, sizeof body,
             "{\"plan\":{\"id\":\"acme-oh\",\"version\":\"7\"},\"status\":\"quoted\","
             "\"premium\":{\"total\":%s,\"fees\":%s,\"term_months\":6,\"currency\":\"USD\"},"
             "\"coverages\":[{\"code\":\"bi\",\"vehicle\":\"v1\",\"premium\":%s},"
             "{\"code\":\"pd\",\"vehicle\":\"v1\",\"premium\":%s}]}",
             total, fees, bi, pd);
    mq_remote_carrier c = carrier();
    return mq_remote_result_parse(body, strlen(body), &f->in, &c, &f->a, r, why, whylen);
}

static void amounts_to_the_cent_at_every_size(void **state)
{
    fixture *f = *state;
    mq_result r;
    char why[300] = "";
    /* 659,485,520.43 * 100 is 65948552042.999992: refused by a tolerance */
    if (!parse_amounts(f, "659485532.43", "12.00", "659485520.43", "0", &r, why, sizeof why))
        fail_msg("refused: %s", why);
    assert_int_equal(r.total_cents, 65948553243);
    assert_int_equal(r.coverages[0].cents, 65948552043);
    if (!parse_amounts(f, "1000000000", "0", "999999999.99", "0.01", &r, why, sizeof why))
        fail_msg("refused: %s", why);
    assert_int_equal(r.total_cents, 100000000000);
    assert_false(parse_amounts(f, "512.34", "12", "500.335", "0.005", &r, why, sizeof why));
    assert_string_equal(why, "coverages[0].premium: 500.335 is not an amount of dollars and cents");
    assert_false(parse_amounts(f, "1000000000.01", "0", "1000000000", "0.01", &r, why, sizeof why));
    assert_string_equal(why, "premium.total: 1000000000.01 is not an amount of dollars and cents");
    /* a quote of nothing would be shown as the best price */
    assert_false(parse_amounts(f, "0", "0", "0", "0.00", &r, why, sizeof why));
    assert_string_equal(why, "premium.total: a quoted premium is more than 0.00");
}

/* term_life premiums are per payment: the term is the request's payment period. */
static void term_life_term_is_the_payment_period(void **state)
{
    (void)state;
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_input in;
    ts_parse_request_file("tests/data/shoppers/life-oh-female-35-preferred.json", &a, &in);
    mq_remote_carrier c = carrier();
    mq_result r;
    char why[300] = "";
    const char *fmt = "{\"plan\":{\"id\":\"acme-life\",\"version\":\"1\"},\"status\":\"quoted\","
                      "\"premium\":{\"total\":%s,\"fees\":0,\"term_months\":%d},"
                      "\"coverages\":[{\"code\":\"life\",\"premium\":%s}],"
                      "\"health_class\":\"preferred\"}";
    char body[512];
    snprintf(body, sizeof body, fmt, "18.46", 1, "18.46"); /* the request pays monthly */
    if (!mq_remote_result_parse(body, strlen(body), &in, &c, &a, &r, why, sizeof why))
        fail_msg("refused: %s", why);
    assert_int_equal(r.term_months, 1);
    assert_string_equal(r.health_class, "preferred");
    snprintf(body, sizeof body, fmt, "221.52", 12, "221.52"); /* a year's premium */
    assert_false(mq_remote_result_parse(body, strlen(body), &in, &c, &a, &r, why, sizeof why));
    assert_string_equal(why, "premium.term_months: 12, but the request pays monthly (1)");
    /* a class the contract does not have is not shown to the shopper */
    const char *odd = "{\"plan\":{\"id\":\"acme-life\",\"version\":\"1\"},\"status\":\"quoted\","
                      "\"premium\":{\"total\":18.46,\"fees\":0,\"term_months\":1},"
                      "\"coverages\":[{\"code\":\"life\",\"premium\":18.46}],"
                      "\"health_class\":\"super_preferred\"}";
    assert_false(mq_remote_result_parse(odd, strlen(odd), &in, &c, &a, &r, why, sizeof why));
    assert_string_equal(why, "health_class: \"super_preferred\" is not a class of the contract "
                             "(preferred_plus, preferred, standard_plus, standard, "
                             "tobacco_preferred, tobacco_standard)");
    mq_arena_free(&a);
}

static void a_decline_needs_a_reason(void **state)
{
    fixture *f = *state;
    mq_remote_carrier c = carrier();
    mq_result r;
    char why[300] = "";
    const char *no_reason = "{\"status\":\"declined\",\"reasons\":[]}";
    assert_false(mq_remote_result_parse(no_reason, strlen(no_reason), &f->in, &c, &f->a, &r, why,
                                        sizeof why));
    assert_string_equal(why, "reasons: a declined result says why");
    const char *declined = "{\"status\":\"declined\",\"reasons\":[\"three at-fault accidents\"]}";
    assert_true(
        mq_remote_result_parse(declined, strlen(declined), &f->in, &c, &f->a, &r, why, sizeof why));
    assert_int_equal(r.status, MQ_DECLINED);
    assert_string_equal(r.reasons[0], "three at-fault accidents");
    assert_true(mq_remote_result_status(&c, MQ_TIMEOUT, "no answer within 3000 ms", &f->a, &r));
    assert_int_equal(r.status, MQ_TIMEOUT);
    assert_string_equal(r.carrier_id, "acme");
}

/* ---- Registry -------------------------------------------------------------- */

static void registry_defaults_and_select(void **state)
{
    (void)state;
    char path[] = "/tmp/mq_test_remote_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "carriers:\n"
                       "  - {id: harbor, kind: local}\n"
                       "  - id: acme\n    kind: remote\n    name: Acme\n"
                       "    url: http://127.0.0.1:1/rate\n    lines: [auto, home]\n"
                       "  - id: lifeco\n    kind: remote\n    name: LifeCo\n"
                       "    url: https://life.example/q\n    lines: [term_life]\n"
                       "    timeout_ms: 900\n    max_concurrent: 4\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    char err[300] = "";
    mq_remote_registry *reg = mq_remote_registry_load(path, err, sizeof err);
    unlink(path);
    if (!reg)
        fail_msg("%s", err);
    assert_int_equal(reg->ncarriers, 3);
    assert_int_equal(reg->nlocal, 1);
    assert_int_equal(reg->deadline_ms, 3000);
    const mq_remote_carrier *acme = mq_remote_registry_find(reg, "acme");
    assert_int_equal(acme->timeout_ms, 3000);
    assert_int_equal(acme->max_concurrent, 16);
    assert_int_equal(acme->breaker_failures, 5);
    assert_string_equal(acme->rating, "");
    assert_int_equal(mq_remote_registry_find(reg, "lifeco")->timeout_ms, 900);
    assert_true(mq_remote_rate_here(reg, "harbor"));
    assert_false(mq_remote_rate_here(reg, "buckeye")); /* not listed: not rated */
    assert_true(mq_remote_asked_elsewhere(reg, "acme"));
    int out[3];
    assert_int_equal(mq_remote_select(reg, MQ_LINE_HOME, NULL, 0, out, 3), 1);
    assert_int_equal(out[0], 1);
    const char *only_life[] = {"lifeco"};
    assert_int_equal(mq_remote_select(reg, MQ_LINE_AUTO, only_life, 1, out, 3), 0);
    assert_int_equal(mq_remote_select(reg, MQ_LINE_TERM_LIFE, only_life, 1, out, 3), 1);
    mq_remote_registry_free(reg);
}

/* ---- The request a carrier is sent (asking.c) ---------------------------- */

/* mq_remote_request(request) is `want`, its length said. */
static void assert_sent(const char *request, const char *want)
{
    size_t len = 0;
    char *sent = mq_remote_request(request, strlen(request), &len);
    assert_non_null(sent);
    assert_string_equal(sent, want);
    assert_int_equal(len, strlen(sent));
    free(sent);
}

/* A VIN typed in lower case goes to carriers in capitals, as rating here
 * reads it; the rest of the request unchanged. It went as typed. */
static void carriers_get_vins_in_capitals(void **state)
{
    (void)state;
    assert_sent("{\"line\": \"auto\", \"vehicles\": [{\"id\": \"v1\", \"vin\": "
                "\"2hgfe2f52nh000001\", \"year\": 2022}, {\"id\": \"v2\"}, {\"id\": "
                "\"v3\", \"vin\": \"1HGcm82633A004352\"}], \"note\": \"é\"}",
                "{\"line\":\"auto\",\"vehicles\":[{\"id\":\"v1\",\"vin\":"
                "\"2HGFE2F52NH000001\",\"year\":2022},{\"id\":\"v2\"},{\"id\":"
                "\"v3\",\"vin\":\"1HGCM82633A004352\"}],\"note\":\"é\"}");
    /* written again, each number reads as the shopper wrote it: a GPA of
     * 3.3 went as 3.2999999999999998, an amount of 4200.1 as
     * 4200.1000000000004 (%.17g), which a carrier reading decimals exactly
     * rates as another GPA or amount */
    assert_sent("{\"drivers\": [{\"student_gpa\": 3.3, \"incidents\": [{\"amount\": "
                "4200.1}, {\"amount\": 0.1}, {\"amount\": 1e-7}]}], \"vehicles\": "
                "[{\"vin\": \"1hgcm82633a004352\"}], \"x\": 2.0}",
                "{\"drivers\":[{\"student_gpa\":3.3,\"incidents\":[{\"amount\":"
                "4200.1},{\"amount\":0.1},{\"amount\":1e-7}]}],\"vehicles\":"
                "[{\"vin\":\"1HGCM82633A004352\"}],\"x\":2.0}");
    /* nothing in lower case: the shopper's bytes, spaces and all */
    const char *upper = "{ \"line\": \"auto\",\n \"vehicles\": [{\"id\": \"v1\", \"vin\": "
                        "\"2HGFE2F52NH000001\"}], \"face_amount\": 1e5 }";
    assert_sent(upper, upper);
}

/* Contact details go to carriers only with the applicant's consent to be
 * contacted: they went whatever consent said. Rating never reads them. */
static void carriers_get_contact_details_only_with_consent(void **state)
{
    (void)state;
    assert_sent("{\"line\": \"auto\", \"applicant\": {\"first_name\": \"Dana\", "
                "\"email\": \"dana@example.com\", \"phone\": \"+1 614 555 0101\", "
                "\"consent\": {\"contact\": false}}, \"x\": 2.0}",
                "{\"line\":\"auto\",\"applicant\":{\"first_name\":\"Dana\","
                "\"consent\":{\"contact\":false}},\"x\":2.0}");
    /* no consent given at all: the same */
    assert_sent("{\"applicant\": {\"email\": \"dana@example.com\"}}", "{\"applicant\":{}}");
    /* consent to be contacted: the shopper's bytes */
    const char *yes = "{\"applicant\": {\"email\": \"dana@example.com\", \"phone\": \"+1 614 555 "
                      "0101\", \"consent\": {\"contact\": true}}}";
    assert_sent(yes, yes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(breaker_opens_after_consecutive_failures),
        cmocka_unit_test(carriers_get_contact_details_only_with_consent),
        cmocka_unit_test(breaker_probe_decides),
        cmocka_unit_test_setup_teardown(accepts_a_good_answer, setup_request, teardown_request),
        cmocka_unit_test_setup_teardown(refuses_what_breaks_the_protocol, setup_request,
                                        teardown_request),
        cmocka_unit_test_setup_teardown(a_broken_answer_tells_only_the_operator_why, setup_request,
                                        teardown_request),
        cmocka_unit_test_setup_teardown(a_decline_needs_a_reason, setup_request, teardown_request),
        cmocka_unit_test_setup_teardown(carrier_id_is_optional, setup_request, teardown_request),
        cmocka_unit_test_setup_teardown(keeps_the_plan_digest_a_carrier_sends, setup_request,
                                        teardown_request),
        cmocka_unit_test_setup_teardown(amounts_to_the_cent_at_every_size, setup_request,
                                        teardown_request),
        cmocka_unit_test(term_life_term_is_the_payment_period),
        cmocka_unit_test(registry_defaults_and_select),
        cmocka_unit_test(carriers_get_vins_in_capitals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
