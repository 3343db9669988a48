/* test_cli.c -- the multiquote command line, end to end.
 *
 * Spawns the built binary ($MQ_BIN) with posix_spawn, its stdout and stderr
 * sent to files and its stdin read from a file, and checks the exit code and
 * the exact output: quote (JSON and table), explain, check, carriers and
 * help on Harbor Mutual's worked example 1; requote of a quote saved by serve
 * (on a port of the kernel's choosing, --port 0); every kind of bad request with
 * its exact message on stderr (file path + JSON path + message); broken
 * plans under tests/data/plans-bad/ (one defect each, in a copy of Harbor's
 * plan or a minimal one) reported as file:line or, for a misplaced folder,
 * its path; and 20 byte-flipped copies of example 1
 * (fixed seed) that must end with exit code 0, 1 or 2, never a signal.
 * Request files are written to a mkdtemp() folder. Run from the repository
 * root (meson's workdir for tests).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support.h"

#include <jansson.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EXAMPLES  "../shared/reference/harbor-mutual-oh-auto.examples.json"
#define PLANS_BAD "tests/data/plans-bad"

static const char *bin;   /* $MQ_BIN */
static char tmp[64];      /* mkdtemp folder for requests and outputs */
static char example1[96]; /* example 1's request, as a file */

/* ---- Running the binary ---------------------------------------------- */

typedef ts_result run; /* code (exit code, or -signal), out, err, nout */

/* Runs MQ_BIN with the NULL-terminated `args` (after the program name),
 * stdin from `input` (NULL: /dev/null). Kills it after 30 seconds. */
static run run_with(const char *input, const char *const *args)
{
    return ts_run(bin, args, input, tmp, 30);
}

#define RUN(...)              run_with(NULL, (const char *const[]){__VA_ARGS__, NULL})
#define RUN_STDIN(input, ...) run_with(input, (const char *const[]){__VA_ARGS__, NULL})

/* Asserts the exit code, showing the output when it differs. */
static void assert_exit(const run *r, int code)
{
    if (r->code != code) {
        print_error("stdout:\n%s\nstderr:\n%s\n", r->out, r->err);
        fail_msg("exit code %d, expected %d", r->code, code);
    }
}

static void assert_contains(const char *text, const char *what)
{
    if (!strstr(text, what))
        fail_msg("\"%s\" not found in:\n%s", what, text);
}

static const char *str(const json_t *v)
{
    return json_is_string(v) ? json_string_value(v) : "";
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The path of file `name` in the temp folder. */
static void temp_path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", tmp, name);
}

/* ---- Fixture ------------------------------------------------------------ */

static int setup(void **state)
{
    (void)state;
    bin = getenv("MQ_BIN");
    if (!bin || access(bin, X_OK) != 0) {
        fprintf(stderr, "MQ_BIN must name the built multiquote binary\n");
        return -1;
    }
    unsetenv("MULTIQUOTE_PLANS"); /* `carriers` and `check` use ./plans */
    setenv("NO_COLOR", "1", 1);
    snprintf(tmp, sizeof tmp, "/tmp/mq-test-cli-XXXXXX");
    if (!mkdtemp(tmp))
        return -1;
    snprintf(example1, sizeof example1, "%s/example1.json", tmp);
    json_error_t je;
    json_t *doc = json_load_file(EXAMPLES, 0, &je);
    json_t *req = json_object_get(json_array_get(json_object_get(doc, "cases"), 0), "request");
    int rc = req ? json_dump_file(req, example1, JSON_INDENT(2)) : -1;
    json_decref(doc);
    return rc;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- Commands on a good request ----------------------------------------- */

static void test_quote_json(void **state)
{
    (void)state;
    run r = RUN("quote", "--json", "--plans", "plans/harbor", example1);
    assert_exit(&r, 0);
    assert_string_equal(r.err, "");
    /* money is written with its cents, exactly */
    assert_contains(r.out, "\"total\": 714.0,");
    assert_contains(r.out, "\"fees\": 18.0,");
    json_error_t je;
    json_t *doc = json_loads(r.out, 0, &je);
    if (!doc)
        fail_msg("stdout is not JSON (%d:%d: %s):\n%s", je.line, je.column, je.text, r.out);
    json_t *res = json_object_get(doc, "results");
    assert_int_equal(json_array_size(res), 1);
    json_t *h = json_array_get(res, 0);
    assert_string_equal(str(json_object_get(h, "status")), "quoted");
    assert_string_equal(str(json_object_get(json_object_get(h, "carrier"), "id")), "harbor");
    json_t *prem = json_object_get(h, "premium");
    assert_true(json_number_value(json_object_get(prem, "total")) == 714.0);
    assert_true(json_number_value(json_object_get(prem, "fees")) == 18.0);
    assert_int_equal(json_integer_value(json_object_get(prem, "term_months")), 6);
    static const struct {
        const char *code;
        double premium;
    } want[] = {{"bi", 225}, {"pd", 139}, {"med", 25}, {"um", 50}, {"comp", 52}, {"coll", 205}};
    json_t *covs = json_object_get(h, "coverages");
    assert_int_equal(json_array_size(covs), 6);
    for (size_t i = 0; i < 6; i++) {
        json_t *c = json_array_get(covs, i);
        assert_string_equal(str(json_object_get(c, "code")), want[i].code);
        assert_string_equal(str(json_object_get(c, "vehicle")), "v1");
        if (json_number_value(json_object_get(c, "premium")) != want[i].premium)
            fail_msg("%s premium %g, expected %g", want[i].code,
                     json_number_value(json_object_get(c, "premium")), want[i].premium);
    }
    json_decref(doc);
    ts_result_free(&r);
}

static void test_quote_table(void **state)
{
    (void)state;
    run r = RUN("quote", "--plans", "plans/harbor", example1);
    assert_exit(&r, 0);
    assert_string_equal(r.err, "");
    assert_contains(r.out, "Harbor Mutual");
    assert_contains(r.out, "714.00");
    assert_contains(r.out, "bi 225.00  pd 139.00  med 25.00  um 50.00  comp 52.00  coll 205.00");
    assert_contains(r.out, "Policy fee 18.00");
    /* one driver and one vehicle, in the singular ("1 drivers" before) */
    assert_true(strncmp(r.out, "auto quotes, effective 2026-03-01, OH, 1 driver, 1 vehicle\n",
                        strlen("auto quotes, effective 2026-03-01, OH, 1 driver, 1 vehicle\n")) ==
                0);
    ts_result_free(&r);
}

/* The family request (50/100 in Ohio, minimum 25/50): the three cheapest
 * carriers' tips under "Ways to save", each saving to the cent, none below
 * the legal minimum; --json carries the same tips as "tips", as the API. */
static void test_quote_tips(void **state)
{
    (void)state;
    run r = RUN("quote", "examples/oh-family-two-cars.json");
    assert_exit(&r, 0);
    const char *tips = strstr(r.out, "\nWays to save\n");
    if (!tips)
        fail_msg("no tips in:\n%s", r.out);
    assert_true(tips > strstr(r.out, "Not quoted")); /* after the comparison */
    assert_true(starts_with(tips,
                            "\nWays to save\n"
                            "  Three Rivers Mutual Insurance Company\n"
                            "     Raise the comprehensive deductible to 1,000: "
                            "saves 11.00, new total 1472.00\n"
                            "     Choose paperless documents: saves 19.00, new total 1464.00\n"
                            "     Lower bodily injury limits to 25,000/50,000, the legal "
                            "minimum, and uninsured motorist limits with them: saves 137.00, "
                            "new total 1346.00\n"
                            "  Keystone Mutual Insurance Company\n"));
    assert_contains(tips, "  Prairie States Casualty Company\n"
                          "     Raise the comprehensive deductible to 1,000: saves "
                          "12.00, new total 1585.00\n");
    assert_null(strstr(tips, "Western Reserve")); /* the three cheapest only */
    assert_null(strstr(tips, "15,000/30,000"));   /* below Ohio's minimum */
    ts_result_free(&r);

    run j = RUN("quote", "--json", "examples/oh-family-two-cars.json");
    assert_exit(&j, 0);
    json_t *doc = json_loads(j.out, 0, NULL);
    assert_non_null(doc);
    json_t *list = json_object_get(doc, "tips");
    assert_int_equal(json_array_size(list), 10);
    json_t *bi = json_array_get(list, 2);
    assert_string_equal(str(json_object_get(bi, "carrier")), "threerivers");
    assert_string_equal(str(json_object_get(bi, "plan")), "threerivers-oh-auto");
    assert_string_equal(str(json_object_get(bi, "change")),
                        "Lower bodily injury limits to 25,000/50,000, the legal minimum, "
                        "and uninsured motorist limits with them");
    assert_true(json_number_value(json_object_get(bi, "saving")) == 137.0);
    assert_true(json_number_value(json_object_get(bi, "new_total")) == 1346.0);
    json_decref(doc);
    ts_result_free(&j);

    /* Harbor example 1 (100/300): the next lower limits, above the minimum */
    run h = RUN("quote", "--plans", "plans/harbor", example1);
    assert_exit(&h, 0);
    assert_contains(h.out,
                    "\nWays to save\n"
                    "  Harbor Mutual\n"
                    "     Raise comprehensive and collision deductibles to 1,000: saves "
                    "51.00, new total 663.00\n"
                    "     Lower bodily injury limits to 50,000/100,000, still above the "
                    "legal minimum, and uninsured motorist limits with them: saves 43.00, new "
                    "total 671.00\n");
    ts_result_free(&h);
}

static void test_quote_stdin(void **state)
{
    (void)state;
    run r = RUN_STDIN(example1, "quote", "--plans", "plans/harbor", "-");
    assert_exit(&r, 0);
    assert_string_equal(r.err, "");
    assert_contains(r.out, "Harbor Mutual");
    assert_contains(r.out, "714.00");
    ts_result_free(&r);

    char bad[96];
    temp_path(bad, sizeof bad, "stdin-bad.json");
    ts_write_file(bad, "{\"line\": ", 9);
    r = RUN_STDIN(bad, "quote", "--plans", "plans/harbor", "-");
    assert_exit(&r, 2);
    assert_string_equal(r.out, "");
    assert_string_equal(r.err, "-: invalid request: invalid JSON at 1:9: unexpected token near "
                               "end of file\n");
    ts_result_free(&r);
}

static void test_explain(void **state)
{
    (void)state;
    run r = RUN("explain", "--carrier", "harbor", "--plans", "plans/harbor", example1);
    assert_exit(&r, 0);
    assert_string_equal(r.err, "");
    assert_true(starts_with(r.out, "Harbor Mutual  plan harbor-oh-auto version 2026-01-01  "
                                   "quoted 714.00\n"));
    assert_contains(r.out, "territory_factor[1]");
    assert_contains(r.out, "177.5000");
    assert_contains(r.out, "  Total ");
    ts_result_free(&r);

    r = RUN("explain", "--carrier", "nobody", "--plans", "plans/harbor", example1);
    assert_exit(&r, 2);
    assert_string_equal(r.err, "multiquote explain: no carrier or plan with id \"nobody\"\n");
    ts_result_free(&r);
    /* a carrier or plan that is there, for another line: said so (it was
     * "no carrier or plan with id") */
    r = RUN("explain", "--carrier", "buckeye", "tests/data/shoppers/renters-oh-columbus.json");
    assert_exit(&r, 2);
    assert_string_equal(r.err, "multiquote explain: Buckeye Farmers Mutual Insurance Company "
                               "(buckeye) does not write renters insurance, the request's line; it "
                               "writes auto, home\n");
    ts_result_free(&r);
    r = RUN("explain", "--carrier", "keystone-oh-auto",
            "tests/data/shoppers/renters-oh-columbus.json");
    assert_exit(&r, 2);
    assert_string_equal(r.err, "multiquote explain: plan keystone-oh-auto rates auto insurance, "
                               "not renters, the request's line\n");
    ts_result_free(&r);
}

/* A health worksheet's tax credit line reads as every line: the amount,
 * then the premium after it (it showed the credit, 359.72, where the
 * running premium goes). Buckeye's bronze plan for the reference's single
 * 40-year-old in area OH-A: 318.40 x 1.278 = 406.92; credit 514.71 (the
 * benchmark) - 154.99 (the contribution) = 359.72; net 47.20. */
/* quote's table says where the tax credit comes from, once under the
 * plans (it showed "tax credit 359.72" with no reason, or 0.00 with none). */
static void test_quote_health_credit_note(void **state)
{
    (void)state;
    run r = RUN("quote", "tests/data/shoppers/health-oh-single-40.json");
    assert_exit(&r, 0);
    assert_contains(r.out, "\nTax credit: benchmark (second-lowest silver) 514.71; expected "
                           "contribution 154.99 a month");
    /* and names the benchmark plan: before, a shopper could not tell which
     * of the silver plans it was */
    assert_contains(r.out, "\n  the benchmark plan: Buckeye Health, Buckeye Silver 3500 "
                           "(buckeye-silver-3500 2026)\n");
    ts_result_free(&r);
}

static void test_explain_health_credit(void **state)
{
    (void)state;
    run r = RUN("explain", "--carrier", "buckeyehealth",
                "tests/data/shoppers/health-oh-single-40.json");
    assert_exit(&r, 0);
    assert_contains(r.out,
                    "Buckeye Health  plan buckeye-bronze-7500 version 2026  quoted 406.92\n");
    assert_contains(r.out, "  Premium tax credit                                                   "
                           "             -   359.7200       47.2000\n"
                           "  Net premium                                                          "
                           "             =    47.2000       47.2000\n");
    ts_result_free(&r);
}

/* The worksheet in JSON goes on as the text one does: past the total (the
 * gross premium) to the tax credit, with the benchmark and the expected
 * contribution it came from, and the net premium. It stopped at the total. */
static void test_explain_health_credit_json(void **state)
{
    (void)state;
    run r = RUN("explain", "--json", "--carrier", "buckeye-bronze-7500",
                "tests/data/shoppers/health-oh-single-40.json");
    assert_exit(&r, 0);
    json_t *doc = json_loads(r.out, 0, NULL);
    json_t *steps = json_object_get(doc, "steps");
    size_t n = json_array_size(steps);
    assert_true(n >= 3);
    json_t *total = json_array_get(steps, n - 3), *credit = json_array_get(steps, n - 2),
           *net = json_array_get(steps, n - 1);
    char *got[3] = {json_dumps(total, JSON_SORT_KEYS | JSON_COMPACT | JSON_REAL_PRECISION(10)),
                    json_dumps(credit, JSON_SORT_KEYS | JSON_COMPACT | JSON_REAL_PRECISION(10)),
                    json_dumps(net, JSON_SORT_KEYS | JSON_COMPACT | JSON_REAL_PRECISION(10))};
    assert_string_equal(got[0],
                        "{\"coverage\":null,\"detail\":null,\"factor\":406.92,\"key\":null,"
                        "\"member\":null,\"name\":\"Total\",\"op\":\"=\",\"running\":406.92,"
                        "\"table\":null}");
    assert_string_equal(got[1],
                        "{\"coverage\":null,\"detail\":\"benchmark (second-lowest silver) "
                        "514.71; expected contribution 154.99 a month (6.1996% of "
                        "income)\",\"factor\":359.72,\"key\":null,\"member\":null,\"name\":"
                        "\"Premium tax credit\",\"op\":\"-\",\"running\":47.2,\"table\":null}");
    assert_string_equal(got[2],
                        "{\"coverage\":null,\"detail\":null,\"factor\":47.2,\"key\":null,"
                        "\"member\":null,\"name\":\"Net premium\",\"op\":\"=\",\"running\":47.2,"
                        "\"table\":null}");
    for (int i = 0; i < 3; i++)
        free(got[i]);
    json_decref(doc);
    ts_result_free(&r);
}

/* Each line of `text` contains ": warning: " (check's warnings: ZIP codes
 * a territory table's missing: answers, rows no lookup reaches). */
static void assert_only_warnings(const char *text)
{
    for (const char *line = text; *line;) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        char *copy = strndup(line, n);
        assert_non_null(copy);
        if (!strstr(copy, ": warning: "))
            fail_msg("not a warning: %s", copy);
        free(copy);
        line += n + (nl != NULL);
    }
}

static void test_check_plans(void **state)
{
    (void)state;
    run r = RUN("check", "plans");
    assert_exit(&r, 0);
    /* the bundled carriers write parts of states (Western Reserve only
     * northeast Ohio, none the 88500-88509 of El Paso's prefix): warned */
    assert_only_warnings(r.err);
    assert_contains(r.err, "plans/reserve/oh-auto-2025-09-01/plan.yaml:44: warning: "
                           "territory[vehicle.garaging_zip]: territory.csv has no rate for 1998 "
                           "ZIP codes of OH (43001-43999, 45001-45999); a shopper there gets the "
                           "carrier unavailable (missing: unavailable)\n");
    int n = 0;
    char want[64] = "";
    if (sscanf(r.out, "plans: %d", &n) == 1)
        snprintf(want, sizeof want, "plans: %d plan%s valid\n", n, n == 1 ? "" : "s");
    if (n < 1 || strcmp(r.out, want) != 0)
        fail_msg("unexpected output: %s", r.out);
    ts_result_free(&r);
}

/* The table: every carrier's plans after one column, as wide as the widest
 * name; a version as the plan names it ("2026-01-01", not "v2026-01-01"). */
static void test_carriers_table(void **state)
{
    (void)state;
    run r = RUN("carriers");
    assert_exit(&r, 0);
    assert_string_equal(r.err, "");
    const char *plans_at = strstr(r.out, "PLANS");
    assert_non_null(plans_at);
    size_t column = (size_t)(plans_at - r.out);
    int lines = 0;
    for (const char *line = strchr(r.out, '\n') + 1; *line; line = strchr(line, '\n') + 1) {
        const char *end = strchr(line, '\n');
        assert_non_null(end);
        if ((size_t)(end - line) <= column || line[column - 1] != ' ' || line[column - 2] != ' ')
            fail_msg("the plans do not start in the PLANS column:\n%.*s", (int)(end - line), line);
        lines++;
    }
    assert_true(lines > 10);
    assert_non_null(strstr(r.out, " auto harbor-oh-auto version 2026-01-01 from 2026-01-01 [OH]"));
    /* a version with an end (an ACA plan year) shows it */
    assert_non_null(strstr(
        r.out, " health buckeye-bronze-7500 version 2026 from 2026-01-01 to 2026-12-31 [OH]"));
    assert_null(strstr(r.out, " v2026"));
    ts_result_free(&r);
}

static void test_carriers_json(void **state)
{
    (void)state;
    run r = RUN("carriers", "--json");
    assert_exit(&r, 0);
    assert_string_equal(r.err, "");
    json_error_t je;
    json_t *doc = json_loads(r.out, 0, &je);
    if (!doc)
        fail_msg("stdout is not JSON (%s):\n%s", je.text, r.out);
    json_t *harbor = NULL;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(doc, "carriers"), i, c)
    {
        if (strcmp(str(json_object_get(c, "id")), "harbor") == 0)
            harbor = c;
    }
    assert_non_null(harbor);
    assert_string_equal(str(json_object_get(harbor, "name")), "Harbor Mutual");
    assert_string_equal(str(json_object_get(harbor, "rating")), "A");
    bool found = false;
    json_array_foreach(json_object_get(harbor, "plans"), i, c)
    {
        if (strcmp(str(json_object_get(c, "id")), "harbor-oh-auto") == 0 &&
            strcmp(str(json_object_get(c, "version")), "2026-01-01") == 0) {
            found = true;
            assert_string_equal(str(json_object_get(c, "line")), "auto");
            assert_string_equal(str(json_array_get(json_object_get(c, "states"), 0)), "OH");
            assert_int_equal(json_integer_value(json_object_get(c, "term_months")), 6);
        }
    }
    assert_true(found);
    json_decref(doc);
    ts_result_free(&r);
}

static void test_help(void **state)
{
    (void)state;
    run r = RUN("--help");
    assert_exit(&r, 0);
    assert_true(starts_with(r.out, "usage: multiquote COMMAND [OPTIONS] [ARG]\n"));
    assert_contains(r.out, "Exit status: 0 done, 1 failure, 2 bad usage or bad request; requote "
                           "also 3, nothing\nto check (multiquote help requote).\n");
    ts_result_free(&r);

    r = RUN("quote", "--help");
    assert_exit(&r, 0);
    assert_true(starts_with(
        r.out, "usage: multiquote quote [--plans DIR] [--carriers FILE] [--json] FILE|-\n"));
    ts_result_free(&r);

    r = RUN("help", "requote");
    assert_exit(&r, 0);
    assert_true(starts_with(
        r.out, "usage: multiquote requote [--db PATH] [--plans DIR] [--key-file F] ID\n"));
    assert_contains(r.out, "; 3 when nothing could be re-rated here (every\n"
                           "result is a remote carrier's or had no plan): nothing to check, not a "
                           "difference.\n");
    ts_result_free(&r);

    r = RUN("help", "bogus");
    assert_exit(&r, 2);
    assert_string_equal(r.out, "");
    assert_true(starts_with(r.err, "multiquote help: unknown command \"bogus\"\n\nusage: "));
    ts_result_free(&r);

    r = RUN("help", "check");
    assert_exit(&r, 0);
    assert_true(starts_with(r.out, "usage: multiquote check [--schema] [DIR]\n"));
    ts_result_free(&r);
}

static void test_bad_usage(void **state)
{
    (void)state;
    run r = RUN("frobnicate");
    assert_exit(&r, 2);
    assert_string_equal(r.out, "");
    assert_true(starts_with(r.err, "multiquote: unknown command \"frobnicate\"\n\nusage: "));
    ts_result_free(&r);

    r = RUN("quote", "--bogus", example1);
    assert_exit(&r, 2);
    assert_string_equal(r.err, "multiquote quote: unknown or incomplete option \"--bogus\"\n");
    ts_result_free(&r);

    r = RUN("quote");
    assert_exit(&r, 2);
    assert_string_equal(r.err, "multiquote quote: name a request file, or - for stdin\n");
    ts_result_free(&r);

    /* the argument named is the one too many */
    r = RUN("check", "plans", "extra");
    assert_exit(&r, 2);
    assert_string_equal(r.err, "multiquote check: unexpected argument \"extra\"\n");
    ts_result_free(&r);
    r = RUN("carriers", "extra");
    assert_exit(&r, 2);
    assert_string_equal(r.err, "multiquote carriers: unexpected argument \"extra\"\n");
    ts_result_free(&r);
}

/* ---- Bad requests ----------------------------------------------------------- */

/* Writes `text` as NAME in the temp folder, runs `quote` on it and asserts
 * the exit code and that stderr is exactly "PATH: invalid request: MESSAGE\n"
 * (or, when `message` starts with "multiquote: ", exactly that with %s
 * replaced by the path). */
static void assert_rejected(const char *name, const char *text, size_t len, int code,
                            const char *message)
{
    char path[96], want[4096];
    temp_path(path, sizeof path, name);
    ts_write_file(path, text, len);
    if (starts_with(message, "multiquote: "))
        snprintf(want, sizeof want, message, path);
    else
        snprintf(want, sizeof want, "%s: invalid request: %s\n", path, message);
    run r = RUN("quote", "--plans", "plans/harbor", path);
    assert_exit(&r, code);
    assert_string_equal(r.out, "");
    assert_string_equal(r.err, want);
    ts_result_free(&r);
}

/* Example 1 with `edit` applied, as indented JSON. */
static void assert_rejected_edit(const char *name, void (*edit)(json_t *), const char *message)
{
    json_t *req = ts_example_request(EXAMPLES, 0);
    edit(req);
    char *text = json_dumps(req, JSON_INDENT(2));
    assert_non_null(text);
    assert_rejected(name, text, strlen(text), 2, message);
    free(text);
    json_decref(req);
}

static json_t *driver0(json_t *req)
{
    return json_array_get(json_object_get(req, "drivers"), 0);
}

static json_t *vehicle0(json_t *req)
{
    return json_array_get(json_object_get(req, "vehicles"), 0);
}

static void year_as_string(json_t *req)
{
    json_object_set_new(vehicle0(req), "year", json_string("2022"));
}

static void unknown_field(json_t *req)
{
    json_object_set_new(driver0(req), "favourite_color", json_string("red"));
}

static void impossible_date(json_t *req)
{
    json_object_set_new(driver0(req), "date_of_birth", json_string("1990-02-30"));
}

static void no_such_driver(json_t *req)
{
    json_object_set_new(vehicle0(req), "principal_driver", json_string("d9"));
}

static void coll_without_comp(json_t *req)
{
    json_object_del(json_object_get(vehicle0(req), "coverages"), "comp");
}

static void huge_symbol(json_t *req)
{
    json_object_set_new(vehicle0(req), "symbol", json_real(1e300));
}

static void huge_year(json_t *req)
{
    json_object_set_new(vehicle0(req), "year", json_integer(INT64_MAX));
}

static void carrier_typo(json_t *req)
{
    json_t *ids = json_array();
    json_array_append_new(ids, json_string("harbor"));
    json_array_append_new(ids, json_string("harbr"));
    json_object_set_new(req, "carriers", ids);
}

/* As POST /v1/quotes: an id that no carrier has is bad input, for quote
 * and explain alike, not a result of status "error". */
static void test_unknown_carrier_id(void **state)
{
    (void)state;
    assert_rejected_edit("typo.json", carrier_typo, "carriers[1]: no carrier with id \"harbr\"");
    char path[96], want[200];
    temp_path(path, sizeof path, "typo.json");
    run r = RUN("explain", "--carrier", "harbor", "--plans", "plans/harbor", path);
    assert_exit(&r, 2);
    snprintf(want, sizeof want, "%s: invalid request: carriers[1]: no carrier with id \"harbr\"\n",
             path);
    assert_string_equal(r.err, want);
    ts_result_free(&r);
}

static void test_bad_json(void **state)
{
    (void)state;
    const char *malformed = "{\"line\": \"auto\",\n  \"effective_date\": }\n";
    assert_rejected("malformed.json", malformed, strlen(malformed), 2,
                    "invalid JSON at 2:21: unexpected token near '}'");
    assert_rejected("empty.json", "", 0, 2,
                    "invalid JSON at 1:0: '[' or '{' expected near end of file");
    const char *e400 = "{\"line\": \"auto\",\n \"x\": 1e400}\n";
    assert_rejected("e400.json", e400, strlen(e400), 2,
                    "invalid JSON at 2:11: real number overflow near '1e400'");
    const char *bigint = "{\"line\": \"auto\",\n \"x\": 99999999999999999999}\n";
    assert_rejected("bigint.json", bigint, strlen(bigint), 2,
                    "invalid JSON at 2:26: too big integer near '99999999999999999999'");
    const char *dup = "{\"line\": \"auto\", \"line\": \"auto\"}";
    assert_rejected("dup.json", dup, strlen(dup), 2,
                    "invalid JSON at 1:23: duplicate object key near '\"line\"'");
    const char *array = "[1, 2]";
    assert_rejected("array.json", array, strlen(array), 2, "expected a JSON object, got an array");
}

static void test_bad_fields(void **state)
{
    (void)state;
    assert_rejected_edit("wrong-type.json", year_as_string,
                         "vehicles[0].year: expected a number, got a string");
    assert_rejected_edit("unknown-field.json", unknown_field,
                         "drivers[0].favourite_color: unknown field");
    assert_rejected_edit("bad-date.json", impossible_date,
                         "drivers[0].date_of_birth: not a valid date \"1990-02-30\"");
    assert_rejected_edit("principal.json", no_such_driver,
                         "vehicles[0].principal_driver: no driver has id \"d9\"");
    assert_rejected_edit("coll-no-comp.json", coll_without_comp,
                         "vehicles[0].coverages.coll: requires comp on the same vehicle");
    assert_rejected_edit("huge-symbol.json", huge_symbol,
                         "vehicles[0].symbol: must be from 1 to 27, got 1e+300");
    assert_rejected_edit("huge-year.json", huge_year,
                         "vehicles[0].year: must be from 1900 to 2027, got 9223372036854775807");
}

/* A request over the 1 MiB limit, and a file that does not exist: the
 * command fails (1) before any request is read. */
static void test_bad_files(void **state)
{
    (void)state;
    size_t n = 2 * 1024 * 1024;
    char *big = malloc(n);
    assert_non_null(big);
    memset(big, ' ', n);
    const char *head = "{\"line\": \"auto\", \"pad\": \"";
    memcpy(big, head, strlen(head));
    big[n - 2] = '"';
    big[n - 1] = '}';
    assert_rejected("big.json", big, n, 2, "multiquote: %s: larger than 1048576 bytes\n");
    free(big);

    char missing[96];
    temp_path(missing, sizeof missing, "no-such-file.json");
    char want[160];
    snprintf(want, sizeof want, "multiquote: %s: No such file or directory\n", missing);
    run r = RUN("quote", "--plans", "plans/harbor", missing);
    assert_exit(&r, 1);
    assert_string_equal(r.out, "");
    assert_string_equal(r.err, want);
    ts_result_free(&r);
}

/* Runs MQ_BIN with `args`, expects exit 2 with exactly `err` on stderr
 * and nothing on stdout. */
static void assert_usage(const char *const *args, const char *err)
{
    run r = run_with(NULL, args);
    assert_exit(&r, 2);
    assert_string_equal(r.out, "");
    assert_string_equal(r.err, err);
    ts_result_free(&r);
}

/* A worksheet line whose step name or detail is longer than its column
 * puts them on a line of their own, so the numbers stay in their columns
 * (Beacon's 42-character step name pushed its factor and premium right). */
static void test_explain_long_names_keep_columns(void **state)
{
    (void)state;
    run r = RUN("explain", "--carrier", "beacon",
                "tests/data/shoppers/life-oh-female-35-preferred.json");
    assert_exit(&r, 0);
    assert_contains(r.out, "  Base rate per 1,000 (issue age, sex, term)  base_rate[35, true, 20]\n"
                           "                                                                       "
                           "             x     0.5050      252.5000\n");
    ts_result_free(&r);
}

/* A step written as an expression names what it looked up, as a table
 * step does (the contract: each step lists "the table and key it looked
 * up"); before, a base rate from base_rate[territory] or a factor from
 * interp(aoi_relativity, ...) showed neither. Several lookups in one
 * expression are listed in the step's detail. */
static void test_explain_names_expression_lookups(void **state)
{
    (void)state;
    run r = RUN("explain", "--carrier", "keystone", "tests/data/shoppers/renters-oh-columbus.json");
    assert_exit(&r, 0);
    assert_contains(r.out, "\n  Base rate                        base_rate[1]          ");
    assert_contains(r.out,
                    "\n  Amount of insurance              aoi_relativity[30000] interpolated ");
    assert_contains(r.out, "\n  Base rate                        liability_rate[100000]  ");
    ts_result_free(&r);
    r = RUN("explain", "--json", "--carrier", "keystone",
            "tests/data/shoppers/renters-oh-columbus.json");
    assert_exit(&r, 0);
    json_t *doc = json_loads(r.out, 0, NULL);
    json_t *first = json_array_get(json_object_get(doc, "steps"), 0);
    char *got = json_dumps(first, JSON_SORT_KEYS | JSON_COMPACT | JSON_REAL_PRECISION(10));
    assert_string_equal(got, "{\"coverage\":\"property\",\"detail\":null,\"factor\":118.0,"
                             "\"key\":\"1\",\"name\":\"Base rate\",\"op\":\"=\","
                             "\"running\":118.0,\"table\":\"base_rate\"}");
    free(got);
    json_decref(doc);
    ts_result_free(&r);
    /* Meridian's rate looks its face band up in each branch of a
     * conditional: the same row is named once */
    r = RUN("explain", "--carrier", "meridian",
            "tests/data/shoppers/life-oh-female-35-preferred.json");
    assert_exit(&r, 0);
    assert_contains(r.out, "  Rate per 1,000 (issue age, sex, class, term, face band)  "
                           "face_band[500000]; rates[36, true, preferred_plus, 20]\n");
    ts_result_free(&r);
    /* two lookups in one factor: both in the detail, in order */
    char plans_copy[128], cmd[1024];
    snprintf(plans_copy, sizeof plans_copy, "%s/two-lookups", tmp);
    snprintf(
        cmd, sizeof cmd,
        "mkdir -p '%s/keystone' && cp -r plans/keystone/oh-renters-2026-01-01 '%s/keystone/' && "
        "sed -i 's/factor: round(interp(aoi_relativity, coverage.personal_property), 0.001)$/"
        "&  * deductible[coverage.deductible]/' '%s/keystone/oh-renters-2026-01-01/plan.yaml' && "
        "grep -q 'deductible\\[coverage.deductible\\]$' "
        "'%s/keystone/oh-renters-2026-01-01/plan.yaml'",
        plans_copy, plans_copy, plans_copy, plans_copy);
    assert_int_equal(system(cmd), 0);
    r = RUN("explain", "--plans", plans_copy, "--carrier", "keystone",
            "tests/data/shoppers/renters-oh-columbus.json");
    assert_exit(&r, 0);
    assert_contains(r.out, "\n  Amount of insurance  aoi_relativity[30000] interpolated; "
                           "deductible[500]\n");
    ts_result_free(&r);
}

/* impact names what it could not find: an id that is no carrier or plan
 * (it said "no plan of ... has versions v1 and v2; its plans:" and listed
 * nothing), or the versions a carrier's plans have. */
static void test_impact_unknown_carrier_or_version(void **state)
{
    (void)state;
    assert_usage((const char *const[]){"impact", "--plans", "plans/harbor", "--carrier", "nobody",
                                       "--from", "2026-01-01", "--to", "2026-07-01", example1,
                                       NULL},
                 "multiquote impact: no carrier or plan with id \"nobody\"\n");
    assert_usage((const char *const[]){"impact", "--plans", "plans/harbor", "--carrier", "harbor",
                                       "--from", "2026-01-01", "--to", "2026-07-01", example1,
                                       NULL},
                 "multiquote impact: no plan of \"harbor\" has versions 2026-01-01 and "
                 "2026-07-01; its plans:\n  harbor-oh-auto version 2026-01-01\n");
}

/* Each command takes its own options: another command's is refused, not
 * ignored, and an option with a value may be given once. */
static void test_options_of_commands(void **state)
{
    (void)state;
    assert_usage((const char *const[]){"quote", "--carrier", "harbor", example1, NULL},
                 "multiquote quote: --carrier is not an option of quote (see multiquote help "
                 "quote)\n");
    assert_usage((const char *const[]){"purge", "--older-than", "9999", "--email", "a@b.c", NULL},
                 "multiquote purge: --email is not an option of purge (see multiquote help "
                 "purge)\n");
    assert_usage((const char *const[]){"carriers", "--db", "x.db", NULL},
                 "multiquote carriers: --db is not an option of carriers (see multiquote help "
                 "carriers)\n");
    assert_usage((const char *const[]){"explain", "--carrier", "harbor", "--carrier", "summit",
                                       example1, NULL},
                 "multiquote explain: --carrier is given more than once\n");
    assert_usage((const char *const[]){"batch", "--threads", "2", "--threads", "4", "-", NULL},
                 "multiquote batch: --threads is given more than once\n");
    /* each command's own options still work */
    run r = RUN("explain", "--carrier", "harbor", "--plans", "plans/harbor", "--json", example1);
    assert_exit(&r, 0);
    ts_result_free(&r);
}

/* explain takes one line's request: a bundle is refused with how to
 * explain one of its parts. */
static void test_explain_bundle(void **state)
{
    (void)state;
    run r = RUN("explain", "--carrier", "keystone", "examples/oh-bundle-auto-home.json");
    assert_exit(&r, 2);
    assert_string_equal(r.out, "");
    assert_string_equal(
        r.err, "multiquote explain: examples/oh-bundle-auto-home.json is a bundle; explain shows "
               "one line's worksheet. Explain a part as a request of its own: its \"auto\" (or "
               "\"home\", \"renters\") object with the bundle's effective_date and applicant "
               "and that \"line\" (rated alone, without the multi-line discount; "
               "docs/bundles.md)\n");
    ts_result_free(&r);
}

/* A bundle with --carriers compares the local carriers the registry lists,
 * as the server with that registry does (every local plan was rated); its
 * "carriers" must name carriers of the comparison, with or without one (a
 * typo was an "error" result, exit 0). */
static void test_quote_bundle_carriers(void **state)
{
    (void)state;
    char reg[96], typo[96];
    temp_path(reg, sizeof reg, "bundle-carriers.yaml");
    const char *yaml =
        "carriers:\n  - {id: summit, kind: local}\n  - {id: keystone, kind: local}\n";
    ts_write_file(reg, yaml, strlen(yaml));
    run r = RUN("quote", "--carriers", reg, "--json", "examples/oh-bundle-auto-home.json");
    assert_exit(&r, 0);
    json_t *doc = json_loads(r.out, 0, NULL);
    assert_non_null(doc);
    for (const char *const *part = (const char *const[]){"auto", "home", NULL}; *part; part++) {
        json_t *res = json_object_get(json_object_get(doc, *part), "results");
        assert_int_equal(json_array_size(res), 2);
        for (size_t i = 0; i < 2; i++) {
            const char *id =
                str(json_object_get(json_object_get(json_array_get(res, i), "carrier"), "id"));
            assert_true(strcmp(id, "summit") == 0 || strcmp(id, "keystone") == 0);
        }
    }
    json_t *bundles = json_object_get(doc, "bundles");
    assert_int_equal(json_array_size(bundles), 2);
    json_t *best = json_array_get(bundles, 0);
    assert_string_equal(str(json_object_get(json_object_get(best, "carrier"), "id")), "summit");
    assert_float_equal(json_real_value(json_object_get(best, "annual_total")), 2184.31, 0.001);
    assert_float_equal(json_real_value(json_object_get(best, "saving_vs_best_separate")), 107.65,
                       0.001);
    json_t *sep = json_object_get(doc, "best_separate");
    assert_float_equal(json_real_value(json_object_get(sep, "annual_total")), 2291.96, 0.001);
    json_decref(doc);
    ts_result_free(&r);

    json_t *bundle = json_load_file("examples/oh-bundle-auto-home.json", 0, NULL);
    assert_non_null(bundle);
    json_object_set_new(bundle, "carriers", json_pack("[s, s]", "summit", "sumit"));
    temp_path(typo, sizeof typo, "bundle-typo.json");
    assert_int_equal(json_dump_file(bundle, typo, 0), 0);
    json_decref(bundle);
    char want[256];
    snprintf(want, sizeof want, "%s: invalid request: carriers[1]: no carrier with id \"sumit\"\n",
             typo);
    r = RUN("quote", typo);
    assert_exit(&r, 2);
    assert_string_equal(r.out, "");
    assert_string_equal(r.err, want);
    ts_result_free(&r);
    /* with the registry, buckeye (loaded, but not listed) is no carrier either */
    bundle = json_load_file(typo, 0, NULL);
    json_object_set_new(bundle, "carriers", json_pack("[s, s]", "buckeye", "keystone"));
    assert_int_equal(json_dump_file(bundle, typo, 0), 0);
    json_decref(bundle);
    snprintf(want, sizeof want,
             "%s: invalid request: carriers[0]: no carrier with id \"buckeye\"\n", typo);
    r = RUN("quote", "--carriers", reg, typo);
    assert_exit(&r, 2);
    assert_string_equal(r.out, "");
    assert_string_equal(r.err, want);
    ts_result_free(&r);
}

/* ---- Output that cannot be written ------------------------------------------ */

/* Runs MQ_BIN with `args`, its stdout on /dev/full (every write fails
 * with ENOSPC), and checks it says so and exits 1. */
static void assert_write_fails(const char *const *args)
{
    char err[96];
    temp_path(err, sizeof err, "full.err");
    pid_t pid = ts_spawn(bin, args, NULL, "/dev/full", err);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    char *text = ts_read_file(err, NULL);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 1)
        fail_msg("%s: status %d, expected exit 1; stderr:\n%s", args[0], status, text);
    assert_string_equal(text, "multiquote: writing the output: No space left on device\n");
    free(text);
}

static void test_output_write_errors(void **state)
{
    (void)state;
    assert_write_fails(
        (const char *const[]){"quote", "--json", "--plans", "plans/harbor", example1, NULL});
    assert_write_fails((const char *const[]){"quote", "--plans", "plans/harbor", example1, NULL});
    assert_write_fails((const char *const[]){"explain", "--carrier", "harbor", "--plans",
                                             "plans/harbor", example1, NULL});
    assert_write_fails((const char *const[]){"quote", "--acord", "--format", "acord",
                                             "tests/data/acord/harbor-example-1.xml", NULL});
    assert_write_fails((const char *const[]){"carriers", NULL});
    assert_write_fails((const char *const[]){"check", "--schema", NULL});
    assert_write_fails((const char *const[]){"help", NULL});
}

/* ---- Commands on a saved-quotes database ---------------------------------- */

#define KEY_FILE_TEXT                                                                              \
    "subject 5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a\n"                   \
    "key 1 1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f\n"

/* Runs a database command on `db` (absent) and checks it says so, exits
 * 1 and creates nothing. */
static void assert_no_database(const char *const *args, const char *cmd, const char *db)
{
    run r = run_with(NULL, args);
    char want[256];
    snprintf(want, sizeof want, "multiquote %s: %s: no database there\n", cmd, db);
    assert_exit(&r, 1);
    assert_string_equal(r.out, "");
    assert_string_equal(r.err, want);
    assert_int_equal(access(db, F_OK), -1);
    ts_result_free(&r);
}

/* forget, purge, requote and rotate-key never make a new database of a
 * mistyped --db; rotate-key then leaves the key file alone. */
static void test_db_missing(void **state)
{
    (void)state;
    char db[96], keys[96];
    temp_path(db, sizeof db, "typo.db");
    temp_path(keys, sizeof keys, "k.key");
    ts_write_file(keys, KEY_FILE_TEXT, strlen(KEY_FILE_TEXT));
    assert_int_equal(chmod(keys, 0600), 0);
    unsetenv("MQ_KEY");
    assert_no_database((const char *const[]){"rotate-key", "--db", db, "--key-file", keys, NULL},
                       "rotate-key", db);
    char *after = ts_read_file(keys, NULL);
    assert_string_equal(after, KEY_FILE_TEXT);
    free(after);
    setenv("MQ_KEY", "1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f", 1);
    assert_no_database(
        (const char *const[]){"forget", "--email", "dana@example.com", "--db", db, NULL}, "forget",
        db);
    assert_no_database((const char *const[]){"purge", "--older-than", "30", "--db", db, NULL},
                       "purge", db);
    assert_no_database(
        (const char *const[]){"requote", "--db", db, "q_00000000000000000000000000", NULL},
        "requote", db);
    unsetenv("MQ_KEY");
}

/* Runs a database command on `db` (an empty file) and checks it says it
 * is no database, exits 1 and leaves the file empty. */
static void assert_empty_refused(const char *const *args, const char *cmd, const char *db)
{
    run r = run_with(NULL, args);
    char want[256];
    snprintf(want, sizeof want, "multiquote %s: %s: an empty file, no database there\n", cmd, db);
    assert_exit(&r, 1);
    assert_string_equal(r.out, "");
    assert_string_equal(r.err, want);
    struct stat st;
    assert_int_equal(stat(db, &st), 0);
    assert_int_equal(st.st_size, 0);
    ts_result_free(&r);
}

/* An empty file (a truncated copy, a mistaken --db) is no database: forget
 * answered "deleted 0 quotes of that address", exit 0, as if the person had
 * none, after making the file a database without quotes. Every command
 * refuses it and leaves it empty; rotate-key adds no key. */
static void test_db_empty(void **state)
{
    (void)state;
    char db[96], keys[96];
    temp_path(db, sizeof db, "empty.db");
    temp_path(keys, sizeof keys, "k.key");
    ts_write_file(db, "", 0);
    ts_write_file(keys, KEY_FILE_TEXT, strlen(KEY_FILE_TEXT));
    assert_int_equal(chmod(keys, 0600), 0);
    unsetenv("MQ_KEY");
    assert_empty_refused((const char *const[]){"forget", "--email", "dana@example.com", "--db", db,
                                               "--key-file", keys, NULL},
                         "forget", db);
    assert_empty_refused((const char *const[]){"rotate-key", "--db", db, "--key-file", keys, NULL},
                         "rotate-key", db);
    char *after = ts_read_file(keys, NULL);
    assert_string_equal(after, KEY_FILE_TEXT);
    free(after);
    assert_empty_refused((const char *const[]){"purge", "--older-than", "30", "--db", db, NULL},
                         "purge", db);
    assert_empty_refused((const char *const[]){"requote", "--db", db, "--key-file", keys,
                                               "q_00000000000000000000000000", NULL},
                         "requote", db);
}

/* --key-file with MQ_KEY set is refused by every command that takes a key
 * ring (exit 2), before any database or key file is opened or made. */
static void test_key_file_and_mq_key(void **state)
{
    (void)state;
    char db[96], keys[96];
    temp_path(db, sizeof db, "both.db");
    temp_path(keys, sizeof keys, "both.key");
    ts_write_file(keys, KEY_FILE_TEXT, strlen(KEY_FILE_TEXT));
    assert_int_equal(chmod(keys, 0600), 0);
    setenv("MQ_KEY", "1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f", 1);
    const char *const *cases[] = {
        (const char *const[]){"serve", "--port", "0", "--db", db, "--key-file", keys, NULL},
        (const char *const[]){"requote", "--db", db, "--key-file", keys,
                              "q_00000000000000000000000000", NULL},
        (const char *const[]){"rotate-key", "--db", db, "--key-file", keys, NULL},
        (const char *const[]){"forget", "--email", "dana@example.com", "--db", db, "--key-file",
                              keys, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char want[160];
        snprintf(want, sizeof want,
                 "multiquote %s: --key-file and MQ_KEY both give a key ring; use one\n",
                 cases[i][0]);
        assert_usage(cases[i], want);
        assert_int_equal(access(db, F_OK), -1);
    }
    char *after = ts_read_file(keys, NULL);
    assert_string_equal(after, KEY_FILE_TEXT);
    free(after);
    unsetenv("MQ_KEY");
}

/* ---- A saved quote: serve saves it, requote reads it ----------------------- */

/* POSTs `body` as JSON to /v1/quotes on `port`; the whole answer
 * (malloc'd), or NULL when nothing listens there. */
static char *post_quote(int port, const char *body)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    char head[256];
    int n = snprintf(head, sizeof head,
                     "POST /v1/quotes HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                     strlen(body));
    bool ok =
        write(fd, head, (size_t)n) == n && write(fd, body, strlen(body)) == (ssize_t)strlen(body);
    size_t cap = 1 << 20, got = 0;
    char *buf = malloc(cap + 1);
    assert_non_null(buf);
    for (ssize_t r; ok && got < cap && (r = read(fd, buf + got, cap - got)) > 0;)
        got += (size_t)r;
    close(fd);
    buf[got] = '\0';
    return buf;
}

/* Starts serve on a port of the kernel's choosing (--port 0, read back from
 * its log) with database `db` (MQ_KEY as set), saves request file
 * `request` through the API and stops it; the quote's id goes to `id`. */
static void save_quote(const char *db, const char *request, char *id, size_t idlen)
{
    char *body = ts_read_file(request, NULL), out[96], err[96];
    temp_path(out, sizeof out, "serve.out");
    temp_path(err, sizeof err, "serve.err");
    pid_t pid = ts_spawn(bin, (const char *const[]){"serve", "--port", "0", "--db", db, NULL}, NULL,
                         out, err);
    int port = ts_serve_port(pid, err, 20);
    char *answer = port ? post_quote(port, body) : NULL;
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    free(body);
    if (!answer) {
        char *log = ts_read_file(err, NULL);
        fail_msg("serve did not start, or did not answer:\n%s", log);
    }
    char *json = strstr(answer, "\r\n\r\n");
    json_t *doc = json ? json_loads(json + 4, 0, NULL) : NULL;
    const char *qid = json_string_value(json_object_get(doc, "quote_id"));
    if (!qid)
        fail_msg("no quote_id in the answer:\n%s", answer);
    snprintf(id, idlen, "%s", qid);
    json_decref(doc);
    free(answer);
}

#define KEY_ONE "0000000000000000000000000000000000000000000000000000000000000001"
#define KEY_TWO "0000000000000000000000000000000000000000000000000000000000000002"

/* requote reproduces a saved quote; with a key that does not open its
 * personal data it says so, once, and fails. */
static void test_requote_saved(void **state)
{
    (void)state;
    char db[96], id[64];
    temp_path(db, sizeof db, "saved.db");
    setenv("MQ_KEY", KEY_ONE, 1);
    save_quote(db, "examples/oh-single-driver.json", id, sizeof id);
    run r = RUN("requote", "--db", db, id);
    assert_exit(&r, 0);
    assert_contains(r.out, "reproduced exactly\n");
    assert_string_equal(r.err, "");
    ts_result_free(&r);
    assert_write_fails((const char *const[]){"requote", "--db", db, id, NULL});

    setenv("MQ_KEY", KEY_TWO, 1);
    r = RUN("requote", "--db", db, id);
    char want[256];
    snprintf(want, sizeof want,
             "multiquote requote: quote %s: the personal data does not decrypt with key 1 "
             "(wrong key, altered data, or another quote's box)\n",
             id);
    assert_exit(&r, 1);
    assert_string_equal(r.out, "");
    assert_string_equal(r.err, want);
    ts_result_free(&r);
    unsetenv("MQ_KEY");
}

/* A quote none of whose results had a plan (its one carrier writes no
 * policy in the state) gives requote nothing to compare: it says so and
 * exits 3, neither 0 (reproduced) nor 1 (a difference). It said
 * "reproduced exactly", exit 0, having compared nothing. */
static void test_requote_nothing_to_check(void **state)
{
    (void)state;
    char db[96], request[96], id[64];
    temp_path(db, sizeof db, "unchecked.db");
    temp_path(request, sizeof request, "unchecked.json");
    json_t *doc = json_load_file("examples/oh-single-driver.json", 0, NULL);
    assert_non_null(doc);
    assert_int_equal(json_object_set_new(doc, "carriers", json_pack("[s]", "allegheny")), 0);
    assert_int_equal(json_dump_file(doc, request, 0), 0);
    json_decref(doc);
    setenv("MQ_KEY", KEY_ONE, 1);
    save_quote(db, request, id, sizeof id);
    run r = RUN("requote", "--db", db, id);
    assert_exit(&r, 3);
    const char *rows = strchr(r.out, '\n');
    assert_non_null(rows);
    assert_string_equal(rows + 1, "  allegheny    skipped  no plan was in effect (unavailable)\n"
                                  "nothing to check: no result had a plan to re-rate\n");
    assert_string_equal(r.err, "");
    ts_result_free(&r);
    unsetenv("MQ_KEY");
}

/* Copies file `from` to `to`. */
static void copy_file(const char *from, const char *to)
{
    size_t n = 0;
    char *bytes = ts_read_file(from, &n);
    FILE *f = fopen(to, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
    free(bytes);
}

/* requote only reads: it opens a database it may not write (a copy on
 * read-only media, another user's file), here a copy in a read-only
 * folder, where SQLite cannot make the database's -shm file. Modes do not
 * stop root, so as root requote runs as nobody (setpriv), where nobody can
 * reach the program; else the test is skipped. */
static void test_requote_read_only(void **state)
{
    (void)state;
    bool root = geteuid() == 0;
    const char *setpriv = "/usr/bin/setpriv";
    const char *as_nobody[] = {
        "--reuid=65534", "--regid=65534", "--clear-groups", bin, "help", NULL};
    if (root) {
        ts_result probe = ts_run(setpriv, as_nobody, NULL, tmp, 30);
        bool can = probe.code == 0;
        ts_result_free(&probe);
        if (!can)
            skip(); /* no setpriv, or the program is out of nobody's reach */
    }
    char db[96], id[64], dir[] = "/tmp/mq-read-only-XXXXXX", copy[64];
    temp_path(db, sizeof db, "read-only-source.db");
    setenv("MQ_KEY", KEY_ONE, 1);
    save_quote(db, "examples/oh-single-driver.json", id, sizeof id);
    assert_non_null(mkdtemp(dir));
    snprintf(copy, sizeof copy, "%s/quotes.db", dir);
    copy_file(db, copy); /* serve checkpointed it as it stopped: no -wal */
    assert_int_equal(chmod(copy, 0444), 0);
    assert_int_equal(chmod(dir, 0555), 0);
    const char *requote[] = {
        "--reuid=65534", "--regid=65534", "--clear-groups", bin, "requote", "--db", copy, id, NULL};
    run r = root ? ts_run(setpriv, requote, NULL, tmp, 30) : run_with(NULL, requote + 3);
    chmod(dir, 0755);
    unlink(copy);
    rmdir(dir);
    unsetenv("MQ_KEY");
    assert_exit(&r, 0);
    assert_contains(r.out, "reproduced exactly\n");
    assert_string_equal(r.err, "");
    ts_result_free(&r);
}

/* ---- Broken plans --------------------------------------------------------- */

/* `check DIR` fails (1); the first line of stderr starts with exactly
 * DIR/`where` ("file:line: ") and contains `what`; the last line names DIR. */
static void assert_plan_error(const char *name, const char *where, const char *what)
{
    char dir[128], prefix[256];
    snprintf(dir, sizeof dir, "%s/%s", PLANS_BAD, name);
    snprintf(prefix, sizeof prefix, "%s/%s", dir, where);
    run r = RUN("check", dir);
    assert_exit(&r, 1);
    assert_string_equal(r.out, "");
    char *nl = strchr(r.err, '\n');
    assert_non_null(nl);
    *nl = '\0'; /* r.err is now its first line */
    if (!starts_with(r.err, prefix) || !strstr(r.err + strlen(prefix), what))
        fail_msg("first line of stderr:\n%s\nexpected:\n%s...%s", r.err, prefix, what);
    *nl = '\n';
    char tail[256];
    snprintf(tail, sizeof tail, " in the plans under %s\n", dir);
    size_t ne = strlen(r.err), nt = strlen(tail);
    if (ne < nt || strcmp(r.err + ne - nt, tail) != 0)
        fail_msg("stderr does not end with \"%s\":\n%s", tail, r.err);
    ts_result_free(&r);
}

/* A revision's folder put inside the old version's folder: check fails
 * and names it, where it used to say "1 plan valid" and leave it out. */
static void test_plan_nested_version(void **state)
{
    (void)state;
    assert_plan_error("nested-version",
                      "tiny/oh-renters-2026-01-01/oh-renters-2026-07-01/plan.yaml: ",
                      "a folder inside the folder " PLANS_BAD "/nested-version/tiny/"
                      "oh-renters-2026-01-01, which holds its own plan or market, is not loaded");
}

static void test_plan_unknown_table(void **state)
{
    (void)state;
    assert_plan_error("unknown-table", "plan.yaml:96: ", "unknown table \"symbol_factr\"");
}

/* symbol_factor.csv names its key column "symbl". */
static void test_plan_missing_key_column(void **state)
{
    (void)state;
    assert_plan_error("missing-key-column",
                      "symbol_factor.csv:1: ", "missing key column \"symbol\"");
}

/* vehicle_age_factor.csv: "5-8" overlaps "4-5". */
static void test_plan_overlapping_bands(void **state)
{
    (void)state;
    assert_plan_error("overlapping-bands",
                      "vehicle_age_factor.csv:7: ", "row overlaps the row at line 6");
}

/* med_limit.csv: "1.O0" (a letter O). */
static void test_plan_factor_not_a_number(void **state)
{
    (void)state;
    assert_plan_error("bad-factor", "med_limit.csv:2: ", "factor is not a number: \"1.O0\"");
}

/* vehicle.age reads vehicle.model_year, which the schema does not have. */
static void test_plan_unknown_field(void **state)
{
    (void)state;
    assert_plan_error("unknown-field",
                      "plan.yaml:57:46: ", "unknown vehicle field or variable \"model_year\"");
}

/* "name: Harbor: Mutual" on line 5: the second colon, column 15, is the error. */
static void test_plan_yaml_syntax(void **state)
{
    (void)state;
    assert_plan_error("yaml-syntax",
                      "plan.yaml:5:15: ", "invalid nested block mapping on the same line");
}

/* driver.married reads driver.points, which reads driver.married. */
static void test_plan_variable_cycle(void **state)
{
    (void)state;
    assert_plan_error("variable-cycle",
                      "plan.yaml:52: ", "variable married depends on itself (a cycle)");
}

/* "roundng:" at the top level. */
static void test_plan_unknown_top_key(void **state)
{
    (void)state;
    assert_plan_error("unknown-top-key", "plan.yaml:114: ", "unknown key \"roundng\"");
}

/* territory.csv has no missing: and no row for 47900-47999, which are
 * Indiana's: check used to pass it, and those shoppers got an error. */
static void test_plan_zip_gap(void **state)
{
    (void)state;
    assert_plan_error("zip-gap", "in-auto-2026-01-01/plan.yaml:44: ",
                      "territory[vehicle.garaging_zip]: territory.csv has no rate for 100 ZIP "
                      "codes of IN (47900-47999); a shopper there gets an error, not a quote: add "
                      "the rows, or give the table a missing: {unavailable: \"...\"}");
}

/* territory.csv maps 46300-47999 to territory 4, which
 * territory_factor.csv has no row for (it has 3, which no ZIP gives). */
static void test_plan_territory_without_factor(void **state)
{
    (void)state;
    assert_plan_error("territory-no-factor", "in-auto-2026-01-01/territory.csv:4: ",
                      "vehicle.territory is 4 here, but territory_factor.csv has no rate for 4 "
                      "(territory_factor[vehicle.territory], " PLANS_BAD
                      "/territory-no-factor/in-auto-2026-01-01/plan.yaml:60); a shopper there "
                      "gets an error, not a quote");
    run r = RUN("check", PLANS_BAD "/territory-no-factor");
    assert_contains(r.err, PLANS_BAD
                    "/territory-no-factor/in-auto-2026-01-01/"
                    "territory_factor.csv:4: warning: territory 3: territory.csv gives no "
                    "vehicle.territory 3, so this row rates no one\n");
    ts_result_free(&r);
}

/* The premium total, fees and coverage premiums of the one result of
 * quoting `request` with the plans under `plans`, as "total fees code=premium...". */
static char *quoted(const char *plans, const char *request)
{
    run r = RUN("quote", "--json", "--plans", plans, request);
    assert_exit(&r, 0);
    json_t *doc = json_loads(r.out, 0, NULL);
    json_t *res = json_array_get(json_object_get(doc, "results"), 0);
    json_t *prem = json_object_get(res, "premium");
    char *out = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&out, &n);
    assert_non_null(f);
    fprintf(f, "%s %.2f %.2f", str(json_object_get(res, "status")),
            json_number_value(json_object_get(prem, "total")),
            json_number_value(json_object_get(prem, "fees")));
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(res, "coverages"), i, c)
        fprintf(f, " %s=%.2f", str(json_object_get(c, "code")),
                json_number_value(json_object_get(c, "premium")));
    fclose(f);
    json_decref(doc);
    ts_result_free(&r);
    return out;
}

/* A carrier written from docs/plan-format.md alone (auto in Indiana,
 * renters in Michigan): check passes it with nothing to say, and it quotes
 * what its plan.yaml's worked examples say, to the cent. */
static void test_new_carrier_from_the_docs(void **state)
{
    (void)state;
    run r = RUN("check", "tests/data/newcarrier/plans");
    assert_exit(&r, 0);
    assert_string_equal(r.out, "tests/data/newcarrier/plans: 2 plans valid\n");
    assert_string_equal(r.err, "");
    ts_result_free(&r);
    char *q = quoted("tests/data/newcarrier/plans", "tests/data/newcarrier/in-auto.json");
    assert_string_equal(q, "quoted 292.00 12.00 bi=159.00 pd=121.00");
    free(q);
    q = quoted("tests/data/newcarrier/plans", "tests/data/newcarrier/mi-renters.json");
    assert_string_equal(q, "quoted 206.00 5.00 property=182.00 liability=15.00 med_pay=4.00");
    free(q);
}

/* ---- Nothing crashes ------------------------------------------------------- */

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* 20 copies of example 1: the even ones with 1 to 8 random bytes replaced by
 * random bytes (mostly broken JSON), the odd ones with 1 to 8 random digits
 * replaced by random digits (mostly valid JSON with odd dates, limits, years
 * and ZIP codes, which reach validation and rating). */
static void test_mutated_requests(void **state)
{
    (void)state;
    size_t len;
    char *orig = ts_read_file(example1, &len);
    char *buf = malloc(len);
    assert_non_null(buf);
    int codes[3] = {0};
    for (int i = 0; i < 20; i++) {
        memcpy(buf, orig, len);
        int flips = 1 + (int)(next_random() % 8);
        for (int k = 0; k < flips; k++) {
            size_t at = next_random() % len;
            if (i % 2 == 0)
                buf[at] = (char)(next_random() & 0xFF);
            else
                for (size_t t = 0; t < len; t++, at = (at + 1) % len)
                    if (buf[at] >= '0' && buf[at] <= '9') {
                        buf[at] = (char)('0' + next_random() % 10);
                        break;
                    }
        }
        char path[96];
        snprintf(path, sizeof path, "%s/mutated-%02d.json", tmp, i);
        ts_write_file(path, buf, len);
        run r = RUN("quote", "--json", "--plans", "plans/harbor", path);
        if (r.code < 0 || r.code > 2)
            fail_msg("%s: exit code %d (negative: killed by that signal)\nstderr:\n%s", path,
                     r.code, r.err);
        if (r.code == 0 && !strstr(r.out, "\"results\""))
            fail_msg("%s: exit 0 without results:\n%s", path, r.out);
        if (r.code != 0 && r.err[0] == '\0')
            fail_msg("%s: exit %d with nothing on stderr", path, r.code);
        codes[r.code]++;
        if (getenv("MQ_TEST_VERBOSE"))
            fprintf(stderr, "%s: exit %d %s", path, r.code, r.err);
        ts_result_free(&r);
    }
    free(buf);
    free(orig);
    assert_true(codes[2] > 0); /* the mutations do break requests */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quote_json),
        cmocka_unit_test(test_quote_table),
        cmocka_unit_test(test_quote_tips),
        cmocka_unit_test(test_quote_stdin),
        cmocka_unit_test(test_explain),
        cmocka_unit_test(test_check_plans),
        cmocka_unit_test(test_plan_zip_gap),
        cmocka_unit_test(test_plan_territory_without_factor),
        cmocka_unit_test(test_new_carrier_from_the_docs),
        cmocka_unit_test(test_carriers_table),
        cmocka_unit_test(test_carriers_json),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_bad_usage),
        cmocka_unit_test(test_unknown_carrier_id),
        cmocka_unit_test(test_bad_json),
        cmocka_unit_test(test_bad_fields),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_options_of_commands),
        cmocka_unit_test(test_explain_bundle),
        cmocka_unit_test(test_quote_bundle_carriers),
        cmocka_unit_test(test_db_missing),
        cmocka_unit_test(test_db_empty),
        cmocka_unit_test(test_key_file_and_mq_key),
        cmocka_unit_test(test_output_write_errors),
        cmocka_unit_test(test_requote_saved),
        cmocka_unit_test(test_requote_read_only),
        cmocka_unit_test(test_requote_nothing_to_check),
        cmocka_unit_test(test_plan_unknown_table),
        cmocka_unit_test(test_plan_nested_version),
        cmocka_unit_test(test_plan_missing_key_column),
        cmocka_unit_test(test_plan_overlapping_bands),
        cmocka_unit_test(test_plan_factor_not_a_number),
        cmocka_unit_test(test_plan_unknown_field),
        cmocka_unit_test(test_plan_yaml_syntax),
        cmocka_unit_test(test_plan_variable_cycle),
        cmocka_unit_test(test_plan_unknown_top_key),
        cmocka_unit_test(test_mutated_requests),
        cmocka_unit_test(test_explain_health_credit),
        cmocka_unit_test(test_explain_health_credit_json),
        cmocka_unit_test(test_quote_health_credit_note),
        cmocka_unit_test(test_impact_unknown_carrier_or_version),
        cmocka_unit_test(test_explain_long_names_keep_columns),
        cmocka_unit_test(test_explain_names_expression_lookups),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
