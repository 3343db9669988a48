/* test_plan.c -- plan loading and version selection: the Harbor plan loads;
 * a second version (made by copying Harbor into a temporary folder with a
 * later effective date and a higher base rate) is picked by the request's
 * effective date; broken plan.yaml files report file:line and what is wrong
 * (keys that do not fit their table, discounts and factors out of range,
 * empty files, second documents, table files that cannot be read). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "engine.h"
#include "model.h"
#include "support.h"

#include <libfyaml.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[64];

static void sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    assert_int_equal(system(cmd), 0);
}

static int make_two_versions(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/mq_test_plan_XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    sh("cp -r plans/harbor/oh-auto-2026-01-01 %s/v1 && cp -r plans/harbor/oh-auto-2026-01-01 %s/v2",
       tmpdir, tmpdir);
    sh("sed -i -e 's/version: \"2026-01-01\"/version: \"2026-07-01\"/' "
       "-e 's/effective: 2026-01-01/effective: 2026-07-01/' "
       "-e 's/bi:   {base: 142.00}/bi:   {base: 150.00}/' %s/v2/plan.yaml",
       tmpdir);
    return 0;
}

static int remove_tmp(void **state)
{
    (void)state;
    sh("rm -rf %s", tmpdir);
    return 0;
}

static const char *example1 =
    "{\"line\":\"auto\",\"effective_date\":\"%s\",\"applicant\":{\"address\":{\"state\":\"OH\","
    "\"zip\":\"43215\"},\"homeowner\":true,\"paperless\":true},\"drivers\":[{\"id\":\"d1\","
    "\"date_of_birth\":\"1990-06-15\",\"gender\":\"female\",\"marital_status\":\"married\","
    "\"license\":{\"state\":\"OH\",\"first_licensed\":\"2008-07-01\"},\"incidents\":[]}],"
    "\"vehicles\":[{\"id\":\"v1\",\"year\":2022,\"make\":\"Honda\",\"model\":\"Civic\","
    "\"symbol\":5,\"principal_driver\":\"d1\",\"anti_theft\":true,\"coverages\":{\"comp\":"
    "{\"deductible\":500},\"coll\":{\"deductible\":500}}}],\"coverages\":{\"bi\":{\"per_person\":"
    "100000,\"per_accident\":300000},\"pd\":{\"limit\":100000},\"med\":{\"limit\":5000},\"um\":"
    "{\"per_person\":100000,\"per_accident\":300000}}}";

static void rate_on(const mq_engine *e, const char *day, mq_arena *a, mq_result **res, int *n)
{
    char text[4096];
    snprintf(text, sizeof text, example1, day);
    mq_input in;
    mq_req_errors errs = {0};
    assert_true(mq_req_parse(text, strlen(text), a, &in, &errs));
    assert_true(mq_rate_all(e, &in, &(mq_rate_opts){0}, a, res, n));
}

static void effective_date_picks_the_version(void **state)
{
    (void)state;
    mq_diags d = {0};
    mq_engine *e = mq_engine_load(tmpdir, &d);
    assert_non_null(e);
    assert_int_equal(mq_engine_plan_count(e), 2);
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_result *res;
    int n;
    mq_plan_info pi;

    rate_on(e, "2026-03-01", &a, &res, &n);
    assert_int_equal(n, 1);
    mq_plan_get_info(res[0].plan, &pi);
    assert_string_equal(pi.version, "2026-01-01");
    assert_int_equal(res[0].total_cents, 71400);

    rate_on(e, "2026-07-01", &a, &res, &n);
    mq_plan_get_info(res[0].plan, &pi);
    assert_string_equal(pi.version, "2026-07-01");
    /* bi: 150 x 1.25 x 0.95 x 1.45 x 0.92 = 237.54 -> 238 instead of 225 */
    assert_int_equal(res[0].coverages[0].cents, 23800);
    assert_int_equal(res[0].total_cents, 71400 + 1300);

    rate_on(e, "2025-12-31", &a, &res, &n);
    assert_int_equal(res[0].status, MQ_UNAVAILABLE);
    assert_string_equal(res[0].reasons[0],
                        "Harbor Mutual has no auto rates in effect on 2025-12-31");

    assert_non_null(mq_engine_find_version(e, "harbor-oh-auto", "2026-01-01"));
    assert_null(mq_engine_find_version(e, "harbor-oh-auto", "2024-01-01"));
    mq_arena_free(&a);
    mq_engine_free(e);
}

/* plan.until ends a version: the day after, the carrier has no rates in
 * effect (an ACA plan year ends; no 2027 quote on 2026 rates). */
static void until_ends_a_version(void **state)
{
    (void)state;
    sh("rm -rf %s/until && mkdir %s/until && cp -r %s/v1 %s/until/v1", tmpdir, tmpdir, tmpdir,
       tmpdir);
    sh("sed -i -e 's|^  effective: 2026-01-01|  effective: 2026-01-01\\n  until: 2026-03-31|' "
       "%s/until/v1/plan.yaml",
       tmpdir);
    char dir[128];
    snprintf(dir, sizeof dir, "%s/until", tmpdir);
    mq_diags d = {0};
    mq_engine *e = mq_engine_load(dir, &d);
    if (!e)
        fail_msg("%s", d.count ? d.items[0].text : "no engine");
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_result *res;
    int n;
    rate_on(e, "2026-03-31", &a, &res, &n);
    assert_int_equal(res[0].status, MQ_QUOTED);
    assert_int_equal(res[0].total_cents, 71400);
    mq_plan_info pi;
    mq_plan_get_info(res[0].plan, &pi);
    char day[11];
    mq_date_format(pi.until, day);
    assert_string_equal(day, "2026-03-31");
    rate_on(e, "2026-04-01", &a, &res, &n);
    assert_int_equal(res[0].status, MQ_UNAVAILABLE);
    assert_string_equal(res[0].reasons[0],
                        "Harbor Mutual has no auto rates in effect on 2026-04-01");
    /* requote and worksheets still find the version by its id */
    assert_non_null(mq_engine_find_version(e, "harbor-oh-auto", "2026-01-01"));
    mq_arena_free(&a);
    mq_engine_free(e);
    sh("rm -rf %s/until", tmpdir);
}

/* A version's until ends its plan, not only itself: the older version it
 * replaced does not rate again after it (a request after the 2026-07-01
 * version's until is not quoted 714.00 on the 2026-01-01 rates). */
static void until_of_the_latest_version_does_not_revive_an_older_one(void **state)
{
    (void)state;
    sh("rm -rf %s/ended && mkdir %s/ended && cp -r %s/v1 %s/v2 %s/ended/", tmpdir, tmpdir, tmpdir,
       tmpdir, tmpdir);
    sh("sed -i -e 's|^  effective: 2026-07-01|  effective: 2026-07-01\\n  until: 2026-09-30|' "
       "%s/ended/v2/plan.yaml",
       tmpdir);
    char dir[128];
    snprintf(dir, sizeof dir, "%s/ended", tmpdir);
    mq_diags d = {0};
    mq_engine *e = mq_engine_load(dir, &d);
    if (!e)
        fail_msg("%s", d.count ? d.items[0].text : "no engine");
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_result *res;
    int n;
    mq_plan_info pi;
    rate_on(e, "2026-06-30", &a, &res, &n);
    assert_int_equal(n, 1);
    mq_plan_get_info(res[0].plan, &pi);
    assert_string_equal(pi.version, "2026-01-01");
    assert_int_equal(res[0].total_cents, 71400);
    rate_on(e, "2026-09-30", &a, &res, &n);
    assert_int_equal(n, 1);
    mq_plan_get_info(res[0].plan, &pi);
    assert_string_equal(pi.version, "2026-07-01");
    assert_int_equal(res[0].total_cents, 72700);
    rate_on(e, "2026-10-01", &a, &res, &n);
    assert_int_equal(n, 1);
    assert_null(res[0].plan);
    assert_int_equal(res[0].status, MQ_UNAVAILABLE);
    assert_string_equal(res[0].reasons[0],
                        "Harbor Mutual has no auto rates in effect on 2026-10-01");
    /* a saved quote of either version is still re-rated by its id */
    assert_non_null(mq_engine_find_version(e, "harbor-oh-auto", "2026-01-01"));
    assert_non_null(mq_engine_find_version(e, "harbor-oh-auto", "2026-07-01"));
    mq_arena_free(&a);
    mq_engine_free(e);
    sh("rm -rf %s/ended", tmpdir);
}

/* The digest of the version in `dir` (its one plan), 64 hex digits. */
static void digest_of(const char *dir, char out[65])
{
    mq_diags d = {0};
    mq_engine *e = mq_engine_load(dir, &d);
    if (!e)
        fail_msg("%s", d.count ? d.items[0].text : "no engine");
    mq_plan_info pi;
    mq_plan_get_info(mq_engine_plan(e, 0), &pi);
    assert_int_equal(strlen(pi.digest), 64);
    memcpy(out, pi.digest, 65);
    mq_engine_free(e);
}

/* sha256sum's digest of the files the shell names in `dir`, as the docs
 * say the digest is worked out. */
static void sha256sum_of(const char *dir, const char *files, char out[65])
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cd %s && sha256sum %s | sha256sum", dir, files);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    assert_non_null(fgets(out, 65, f));
    assert_int_equal(pclose(f), 0);
}

/* The digest covers every table file a rating reads, wherever plan.yaml
 * puts it: a table in a subfolder or not named .csv, edited after the
 * build, changes the digest, so no compiled function (matched by digest)
 * rates it with the old table's key maps, and GET /v1/plans shows that
 * the version's files differ. Before, only the folder's own *.csv counted:
 * an edited tables/territory_factor.csv kept the digest. */
static void the_digest_covers_every_table_file(void **state)
{
    (void)state;
    char dir[128], before[65], after[65], want[65];
    snprintf(dir, sizeof dir, "%s/moved", tmpdir);
    sh("rm -rf %s && mkdir %s && cp -r %s/v1 %s/v1 && cd %s/v1 && mkdir tables && "
       "mv territory_factor.csv tables/ && mv symbol_factor.csv symbol_factor.txt && "
       "sed -i -e 's|file: territory_factor.csv|file: tables/territory_factor.csv|' "
       "-e 's|file: symbol_factor.csv|file: symbol_factor.txt|' plan.yaml",
       dir, dir, tmpdir, dir, dir);
    snprintf(dir, sizeof dir, "%s/moved/v1", tmpdir);
    digest_of(dir, before);
    sh("sed -i 's/^1,1.25,1.20/1,1.26,1.20/' %s/tables/territory_factor.csv", dir);
    digest_of(dir, after);
    assert_string_not_equal(after, before);
    memcpy(before, after, sizeof before);
    sh("sed -i 's/^5,1.00/5,1.01/' %s/symbol_factor.txt", dir);
    digest_of(dir, after);
    assert_string_not_equal(after, before);
    /* and it is what the docs say: sha256sum of the files in byte order */
    sha256sum_of(dir,
                 "plan.yaml bi_um_limits.csv deductible.csv driver_class.csv incident_points.csv "
                 "med_limit.csv pd_limit.csv points_factor.csv symbol_factor.txt "
                 "tables/territory_factor.csv territory.csv vehicle_age_factor.csv",
                 want);
    assert_string_equal(after, want);
    sh("rm -rf %s/moved", tmpdir);
}

/* Writes `text` to dir/tf.tmp and renames it over dir/territory_factor.csv
 * (a deploy replacing a file whole), until killed. */
static void swap_forever(const char *dir, const char *a, const char *b)
{
    char tmp[256], target[256];
    snprintf(tmp, sizeof tmp, "%s/tf.tmp", dir);
    snprintf(target, sizeof target, "%s/territory_factor.csv", dir);
    for (unsigned i = 0;; i++) {
        const char *text = i % 2 ? b : a;
        FILE *f = fopen(tmp, "w");
        if (!f || fputs(text, f) < 0 || fclose(f) != 0 || rename(tmp, target) != 0)
            _exit(1);
    }
}

/* A table file replaced while its plan loads: the load either fails,
 * saying so, or holds the rates its digest is of. Before, the digest was
 * hashed from a second read of the files after the tables were parsed, so
 * a reload during a deploy could load the old territory factors (714.00)
 * under the new files' digest (or the reverse), and a compiled function
 * matched by that digest rate tables it was not compiled for. */
static void a_table_replaced_while_loading_is_an_error(void **state)
{
    (void)state;
    char dir[128], digest_a[65], digest_b[65], path[192];
    snprintf(dir, sizeof dir, "%s/race/v1", tmpdir);
    sh("rm -rf %s/race && mkdir %s/race && cp -r %s/v1 %s", tmpdir, tmpdir, tmpdir, dir);
    snprintf(path, sizeof path, "%s/territory_factor.csv", dir);
    char *a = ts_read_file(path, NULL);
    digest_of(dir, digest_a);
    sh("sed -i 's/^1,1.25,1.20/1,1.26,1.20/' %s", path);
    char *b = ts_read_file(path, NULL);
    digest_of(dir, digest_b);
    assert_string_not_equal(digest_a, digest_b);

    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0)
        swap_forever(dir, a, b);
    int consistent = 0, refused = 0, wrong = 0;
    char first_wrong[256] = "";
    for (int i = 0; i < 300; i++) {
        mq_diags d = {0};
        mq_engine *e = mq_engine_load(dir, &d);
        if (!e) {
            assert_true(d.count >= 1);
            if (!strstr(d.items[0].text, "territory_factor.csv: changed while the plan was "
                                         "loading: load the plans again"))
                fail_msg("unexpected: %s", d.items[0].text);
            refused++;
            mq_diags_free(&d);
            continue;
        }
        mq_arena ar;
        mq_arena_init(&ar, 0);
        mq_result *res;
        int n;
        rate_on(e, "2026-03-01", &ar, &res, &n);
        mq_plan_info pi;
        mq_plan_get_info(res[0].plan, &pi);
        const char *want = res[0].total_cents == 71400 ? digest_a : digest_b;
        assert_true(res[0].total_cents == 71400 || res[0].total_cents == 71600);
        if (strcmp(pi.digest, want) == 0) {
            consistent++;
        } else if (!wrong++) {
            snprintf(first_wrong, sizeof first_wrong, "total %lld with digest %s",
                     (long long)res[0].total_cents, pi.digest);
        }
        mq_arena_free(&ar);
        mq_engine_free(e);
    }
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    free(a);
    free(b);
    sh("rm -rf %s/race", tmpdir);
    if (wrong)
        fail_msg("%d of %d loads held rates their digest is not of (first: %s)", wrong,
                 consistent + wrong, first_wrong);
    assert_true(consistent + refused == 300);
}

/* A plan that would not load is an error, never left out in silence: a
 * version folder put inside another version's folder, a plan file named
 * plan.yml, a folder holding both market.yaml and plan.yaml, a plan more
 * than 8 folders down. Before, `check` said "1 plan valid" of this tree. */
static void misplaced_plans_are_errors_not_skipped(void **state)
{
    (void)state;
    char dir[128];
    snprintf(dir, sizeof dir, "%s/tree", tmpdir);
    sh("T=%s && D=%s && rm -rf $D && mkdir -p $D/harbor $D/summit/x $D/a/b/c/d/e/f/g/h/i && "
       "cp -r $T/v1 $D/harbor/v1 && cp -r $T/v2 $D/harbor/v1/v2 && cp -r $T/v2 $D/summit/x/v && "
       "mv $D/summit/x/v/plan.yaml $D/summit/x/v/plan.yml && "
       "cp -r plans/_markets/aca-individual-2026 $D/mk && cp $T/v2/plan.yaml $D/mk/ && "
       "cp -r $T/v2 $D/a/b/c/d/e/f/g/h/i/v",
       tmpdir, dir);
    mq_diags d = {0};
    assert_null(mq_engine_load(dir, &d));
    assert_int_equal(d.count, 4);
    const char *want[] = {
        "a/b/c/d/e/f/g/h/i: more than 8 folders deep: the plans or markets in it are not loaded",
        "harbor/v1/v2/plan.yaml: a folder inside the folder %s/harbor/v1, which holds its own "
        "plan or market, is not loaded: give each version a folder of its own",
        "mk: holds both market.yaml and plan.yaml: a folder is one market or one plan version",
        "summit/x/v/plan.yml: must be named plan.yaml: the folder is not loaded"};
    for (int i = 0; i < 4; i++) {
        char expect[512];
        snprintf(expect, sizeof expect, "%s/", dir);
        size_t n = strlen(expect);
        snprintf(expect + n, sizeof expect - n, want[i], dir);
        assert_string_equal(d.items[i].text, expect);
    }
    mq_diags_free(&d);
    sh("rm -rf %s", dir);
}

/* A revision filed under a new plan.id, the old plan not ended: both
 * would quote, Harbor twice, the cheaper on the rates the revision replaced
 * (714.00 beside 727.00 on 2026-07-01). It is an error naming both plans;
 * once the old plan ends with plan.until the day before, each day has one
 * Harbor result. */
static void a_revision_under_a_new_plan_id_must_end_the_old_plan(void **state)
{
    (void)state;
    char dir[128];
    snprintf(dir, sizeof dir, "%s/newid", tmpdir);
    sh("rm -rf %s && mkdir %s && cp -r %s/v1 %s/v2 %s/ && "
       "sed -i 's/^  id: harbor-oh-auto$/  id: harbor-oh-auto-b/' %s/v2/plan.yaml",
       dir, dir, tmpdir, tmpdir, dir, dir);
    mq_diags d = {0};
    assert_null(mq_engine_load(dir, &d));
    assert_int_equal(d.count, 1);
    char want[1024];
    snprintf(want, sizeof want,
             "%s/v2/plan.yaml:9: plans harbor-oh-auto-b and harbor-oh-auto (%s/v1/plan.yaml:9) of "
             "carrier harbor would both rate auto in OH from 2026-07-01: a revision keeps its "
             "plan.id, or the older plan ends with plan.until",
             dir, dir);
    assert_string_equal(d.items[0].text, want);
    mq_diags_free(&d);

    /* ended a day too late: they overlap on 2026-07-01 still */
    sh("sed -i 's|^  effective: 2026-01-01|  effective: 2026-01-01\\n  until: 2026-07-01|' "
       "%s/v1/plan.yaml",
       dir);
    assert_null(mq_engine_load(dir, &d));
    assert_int_equal(d.count, 1);
    assert_string_equal(d.items[0].text, want);
    mq_diags_free(&d);

    sh("sed -i 's|^  until: 2026-07-01|  until: 2026-06-30|' %s/v1/plan.yaml", dir);
    mq_engine *e = mq_engine_load(dir, &d);
    if (!e)
        fail_msg("%s", d.count ? d.items[0].text : "no engine");
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_result *res;
    int n;
    rate_on(e, "2026-06-30", &a, &res, &n);
    assert_int_equal(n, 1);
    assert_int_equal(res[0].total_cents, 71400);
    rate_on(e, "2026-07-01", &a, &res, &n);
    assert_int_equal(n, 1);
    assert_int_equal(res[0].total_cents, 72700);
    mq_arena_free(&a);
    mq_engine_free(e);
    sh("rm -rf %s", dir);
}

/* The first of the `count` diagnostics of loading tmpdir with `edit` run
 * in a third copy of the plan, v3 (the others: v1 and v2), and tmpdir's
 * path taken out. */
static char *consistency_error(const char *edit, int count)
{
    sh("cp -r %s/v1 %s/v3 && cd %s/v3 && %s", tmpdir, tmpdir, tmpdir, edit);
    mq_diags d = {0};
    assert_null(mq_engine_load(tmpdir, &d));
    sh("rm -rf %s/v3", tmpdir);
    assert_int_equal(d.count, count);
    size_t n = strlen(tmpdir);
    char *text = malloc(strlen(d.items[0].text) + 1), *out = text;
    assert_non_null(text);
    for (const char *c = d.items[0].text; *c;)
        if (strncmp(c, tmpdir, n) == 0 && c[n] == '/') {
            c += n + 1;
        } else {
            *out++ = *c++;
        }
    *out = '\0';
    mq_diags_free(&d);
    return text;
}

/* Versions that disagree are reported at their plan.yaml lines, the later
 * version's and the one it disagrees with: a pricing team filing a
 * revision finds both lines to compare. */
static void same_version_twice_is_an_error(void **state)
{
    (void)state;
    char *m = consistency_error("true", 1);
    assert_string_equal(m, "v3/plan.yaml:10: plan harbor-oh-auto version 2026-01-01 is also "
                           "defined in v1/plan.yaml:10");
    free(m);
    m = consistency_error("sed -i 's/version: \"2026-01-01\"/version: \"2026-01-01b\"/' plan.yaml",
                          1);
    assert_string_equal(m, "v3/plan.yaml:11: two versions of plan harbor-oh-auto take effect on "
                           "the same day (see v1/plan.yaml:11)");
    free(m);
    m = consistency_error("sed -i -e 's/version: \"2026-01-01\"/version: \"2027-01-01\"/' "
                          "-e 's/effective: 2026-01-01/effective: 2027-01-01/' "
                          "-e 's/rating: A/rating: A+/' plan.yaml",
                          2); /* and in v2 */
    assert_string_equal(m, "v3/plan.yaml:6: carrier harbor is rated \"A+\" here but \"A\" in "
                           "v1/plan.yaml:6");
    free(m);
    m = consistency_error("sed -i -e 's/version: \"2026-01-01\"/version: \"2027-01-01\"/' "
                          "-e 's/effective: 2026-01-01/effective: 2027-01-01/' "
                          "-e 's/name: Harbor Mutual/name: Harbour Mutual/' plan.yaml",
                          2);
    assert_string_equal(m, "v3/plan.yaml:5: carrier harbor is named \"Harbour Mutual\" here but "
                           "\"Harbor Mutual\" in v1/plan.yaml:5");
    free(m);
}

/* Replaces `from` by `to` in v1/plan.yaml, loads, returns the first message. */
static char *load_broken(const char *from, const char *to)
{
    sh("rm -rf %s/broken && cp -r %s/v1 %s/broken", tmpdir, tmpdir, tmpdir);
    sh("sed -i -e 's|%s|%s|' %s/broken/plan.yaml", from, to, tmpdir);
    char dir[128];
    snprintf(dir, sizeof dir, "%s/broken", tmpdir);
    mq_diags d = {0};
    mq_engine *e = mq_engine_load(dir, &d);
    assert_null(e);
    assert_true(d.count >= 1);
    const char *text = d.items[0].text;
    char *msg = strdup(strstr(text, "plan.yaml:") ? strstr(text, "plan.yaml:") : text);
    mq_diags_free(&d);
    return msg;
}

static void broken_plans_name_the_line(void **state)
{
    (void)state;
    char *m;
    m = load_broken("table: symbol_factor", "table: symbol_factr");
    assert_string_equal(m, "plan.yaml:96: unknown table \"symbol_factr\"");
    free(m);
    m = load_broken("^  effective: 2026-01-01", "  effective: 2026-01-01\\n  until: 2025-12-31");
    assert_string_equal(m, "plan.yaml:12: plan.until (2025-12-31) is before plan.effective "
                           "(2026-01-01)");
    free(m);
    m = load_broken("^  effective: 2026-01-01", "  effective: 2026-01-01\\n  until: soon");
    assert_string_equal(m, "plan.yaml:12: plan.until is not a date YYYY-MM-DD: \"soon\"");
    free(m);
    m = load_broken("  vehicle.age: max", "  vehicle.age: mux");
    assert_string_equal(m, "plan.yaml:57:16: unknown function \"mux\" (in \"mux(0, "
                           "year(effective_date) - vehicle.year)\")");
    free(m);
    m = load_broken("term_months: 6", "term_months: six");
    assert_string_equal(m, "plan.yaml:14: plan.term_months is not a number: \"six\"");
    free(m);
    m = load_broken("^rounding:", "roundng:");
    assert_string_equal(m, "plan.yaml:114: top level: unknown key \"roundng\"");
    free(m);
    m = load_broken("  vehicle_count: count(vehicles)",
                    "  vehicle_count: count(vehicles) + vehicle_count");
    assert_string_equal(m, "plan.yaml:58: variable vehicle_count depends on itself (a cycle)");
    free(m);
    m = load_broken("key: \\[driver.points\\]", "key: [applicant.homeowner]");
    assert_string_equal(m, "plan.yaml:95: step Driving record: key applicant.homeowner is a "
                           "boolean but column points of points_factor.csv holds numbers (0-9+)");
    free(m);
    m = load_broken("key: \\[driver.age, driver.married\\]", "key: [driver.married, driver.age]");
    assert_string_equal(m, "plan.yaml:85: step Driver class (liability): key driver.married is a "
                           "boolean but column age of driver_class.csv holds numbers (16-75+)");
    free(m);
    /* the comma of max(driver.points, 0) ends the key inside [ ]: one key
     * became two, "max(driver.points" and "0)" */
    m = load_broken("key: \\[driver.points\\]", "key: [max(driver.points, 0)]");
    assert_string_equal(m, "plan.yaml:95: step Driving record: key \"max(driver.points\" is an "
                           "expression cut at a comma: inside [ ] a comma ends a value, so put a "
                           "key holding commas in quotes (key: [\"age(driver.date_of_birth, "
                           "effective_date)\"])");
    free(m);
    m = load_broken("key: \\[vehicle.symbol\\]", "key: [effective_date]");
    assert_non_null(strstr(m, "plan.yaml:96: step Symbol: key effective_date "
                              "is a date: no table is keyed by dates"));
    free(m);
    m = load_broken("amount: 0.12", "amount: 12");
    assert_string_equal(m, "plan.yaml:108: discount Multi-car: amount 12 is not a fraction "
                           "between 0 and 1 (0.12 = 12%)");
    free(m);
    m = load_broken("amount: 0.05", "amount: -0.05");
    assert_string_equal(m, "plan.yaml:110: discount Homeowner: amount -0.05 is not a fraction "
                           "between 0 and 1 (0.12 = 12%)");
    free(m);
    m = load_broken("table: symbol_factor, key: \\[vehicle.symbol\\]", "factor: 0");
    assert_string_equal(m, "plan.yaml:96: step Symbol: factor 0 must be more than 0");
    free(m);
    m = load_broken("id: harbor$", "id: Harbor Mutual");
    assert_string_equal(m, "plan.yaml:4: carrier.id \"Harbor Mutual\" must be 1 to 64 lowercase "
                           "letters, digits, - or _ (requests, URLs and books name the carrier "
                           "by it)");
    free(m);
    m = load_broken("pd:   {base: 118.00}", "pd:   {base: -118.00}");
    assert_string_equal(m, "plan.yaml:68: coverage pd: base -118 is negative (a credit is an add: "
                           "step)");
    free(m);
    m = load_broken("amount: 18.00}", "amount: -18.00}");
    assert_string_equal(m, "plan.yaml:117: fee amount is -18: it must be dollars from 0 to "
                           "1000000000 with at most two decimals");
    free(m);
    m = load_broken("^minimum_premium: 225.00", "minimum_premium: 225.005");
    assert_string_equal(m, "plan.yaml:115: minimum_premium is 225.005: it must be dollars from 0 "
                           "to 1000000000 with at most two decimals");
    free(m);
    /* texts shown to shoppers may not be blank (a carrier unavailable for
     * no reason shown) */
    m = load_broken("reason: A listed driver has 12.*", "reason: \"  \"");
    assert_string_equal(m, "plan.yaml:62: eligibility rule: \"reason\" is empty");
    free(m);
    m = load_broken("unavailable: \"Harbor Mutual does not offer a property damage limit of "
                    "{key}.\"",
                    "unavailable: \"\"");
    assert_string_equal(m, "plan.yaml:40: table pd_limit: missing: the unavailable text is empty");
    free(m);
    /* a coverage or a state the engine does not know: the message says
     * which it does */
    m = load_broken("  pd:   {base: 118.00}", "  pip:  {base: 118.00}");
    assert_string_equal(m, "plan.yaml:68: \"pip\" is not a coverage of the auto line (bi, pd, med, "
                           "um, comp, coll)");
    free(m);
    /* a number where a condition goes is true when not 0: one car got the
     * multi-car discount */
    m = load_broken("when: vehicle_count >= 2", "when: vehicle_count");
    assert_string_equal(m, "plan.yaml:108: when: \"vehicle_count\" is a number, not a condition: "
                           "compare it (vehicle_count >= 2, has(driver.student_gpa))");
    free(m);
    m = load_broken("decline: any(drivers where driver.points >= 12)",
                    "decline: max(drivers of driver.points)");
    assert_string_equal(m, "plan.yaml:61: decline: \"max(drivers of driver.points)\" is a number, "
                           "not a condition: compare it (vehicle_count >= 2, "
                           "has(driver.student_gpa))");
    free(m);
    m = load_broken("omit_when: vehicle.age > 20", "omit_when: vehicle.age");
    assert_string_equal(m, "plan.yaml:73: omit_when: \"vehicle.age\" is a number, not a "
                           "condition: compare it (vehicle_count >= 2, has(driver.student_gpa))");
    free(m);
    /* libfyaml's "duplicate key" names none: the message does */
    m = load_broken("  pd:   {base: 118.00}", "&\\n  pd:   {base: 90.00}");
    assert_string_equal(m, "plan.yaml:69:3: duplicate key \"pd\": a key appears once in a "
                           "mapping, and this one is already above");
    free(m);
    m = load_broken("line: auto", "line: personal_auto");
    assert_string_equal(m, "plan.yaml:12: plan.line \"personal_auto\" is not a line this engine "
                           "rates (auto, home, renters, term_life, health)");
    free(m);
    m = load_broken("states: \\[OH\\]", "states: [oh]");
    assert_string_equal(m, "plan.yaml:13: \"oh\" is not a US state code (two capital letters of "
                           "one of the 50 states or DC, such as OH)");
    free(m);
    m = load_broken("amount: 0.12", "amount: [0.12");
    assert_string_equal(m, "plan.yaml:108:68: mismatched flow mapping end (inside { } or [ ], put "
                           "an expression holding [ ], { } or commas in quotes: base: "
                           "\"base_rate[territory]\")");
    free(m);
    /* the comma of min(1.5, x) ends the value inside { }: the rest is a key */
    m = load_broken("amount: 0.12", "amount: min(0.12, 0.2)");
    assert_string_equal(m,
                        "plan.yaml:108: discount: unknown key \"0.2)\" (inside { } a comma ends "
                        "a value: put an expression holding commas in quotes, factor: \"min(1.5, "
                        "x)\")");
    free(m);
}

/* Copies v1 to broken, runs `cmd` in it, loads it; the first message with
 * its file name from the plan folder on. */
static char *load_edited(const char *cmd)
{
    sh("rm -rf %s/broken && cp -r %s/v1 %s/broken && cd %s/broken && %s", tmpdir, tmpdir, tmpdir,
       tmpdir, cmd);
    char dir[128];
    snprintf(dir, sizeof dir, "%s/broken", tmpdir);
    mq_diags d = {0};
    assert_null(mq_engine_load(dir, &d));
    assert_true(d.count >= 1);
    char *msg = strdup(d.items[0].text + strlen(dir) + 1);
    mq_diags_free(&d);
    return msg;
}

static void a_table_factor_must_be_positive(void **state)
{
    (void)state;
    /* a spreadsheet's TRUE: the message says how to write it */
    char *t = load_edited("sed -i 's/^16-17,true/16-17,TRUE/' driver_class.csv");
    assert_string_equal(t, "driver_class.csv:4: key \"married\" is not a value, band or *: "
                           "\"TRUE\" (symbols are lowercase: \"true\")");
    free(t);
    char *m = load_edited("sed -i 's/^2,1.25/2,-1.25/' points_factor.csv");
    assert_string_equal(m, "points_factor.csv:4: factor is -1.25, but step Driving record "
                           "multiplies by it: a factor must be more than 0");
    free(m);
}

/* A table file that cannot be read is one message at the plan.yaml line
 * naming it; any CSV of the folder (all are in the digest) may have up to
 * the tables' 16 MiB. */
static void table_files_are_named_where_plan_yaml_refers_to_them(void **state)
{
    (void)state;
    char *m = load_edited("rm territory_factor.csv");
    assert_string_equal(m, "plan.yaml:27: table territory_factor: territory_factor.csv: cannot "
                           "open: No such file or directory");
    free(m);
    m = load_edited("rm territory_factor.csv && mkdir territory_factor.csv");
    assert_string_equal(m, "plan.yaml:27: table territory_factor: territory_factor.csv: is a "
                           "folder, not a regular file");
    free(m);
    m = load_edited("rm territory.csv && ln -s /dev/zero territory.csv");
    assert_string_equal(m, "plan.yaml:24: table territory: territory.csv: is a device, not a "
                           "regular file");
    free(m);

    sh("rm -rf %s/big && cp -r %s/v1 %s/big && head -c 3000000 /dev/zero | tr '\\0' x "
       "> %s/big/notes.csv",
       tmpdir, tmpdir, tmpdir, tmpdir);
    char dir[128];
    snprintf(dir, sizeof dir, "%s/big", tmpdir);
    mq_diags d = {0};
    mq_engine *e = mq_engine_load(dir, &d);
    assert_int_equal(d.count, 0);
    assert_non_null(e);
    mq_engine_free(e);
    sh("rm -rf %s/big", tmpdir);
}

/* An empty file says so; what has no line of its own is at line 1, never
 * 0; an empty collection is at its key's line; a second document is an
 * error where it starts, not ignored. */
static void empty_files_and_second_documents(void **state)
{
    (void)state;
    const char *cases[][2] = {
        {": > plan.yaml", "plan.yaml: empty: no plan"},
        {"printf '# nothing\\n\\n# yet\\n' > plan.yaml", "plan.yaml: empty: no plan"},
        {"printf -- '---\\n' > plan.yaml", "plan.yaml: empty: no plan"},
        {"echo '{}' > plan.yaml", "plan.yaml:1: plan.yaml needs \"carrier\" and \"plan\""},
        {"printf -- '---\\ncarrier: {id: x}\\n' >> plan.yaml",
         "plan.yaml:118: a second YAML document: the file holds one plan"},
        {"sed -i '/^coverages:/,/^$/d' plan.yaml",
         "plan.yaml:1: coverages must map each offered coverage code to {base: ...}"},
        {"sed -i '/^coverages:/,/^$/c coverages: {}' plan.yaml",
         "plan.yaml:66: coverages must map each offered coverage code to {base: ...}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *m = load_edited(cases[i][0]);
        assert_string_equal(m, cases[i][1]);
        free(m);
    }
}

/* A YAML alias is read as the tree holds it, its name and not the value
 * anchored: an eligibility reason `*who` was shown to shoppers as "who",
 * and `coll: *pd` was "coll must be a mapping". Each is refused at the
 * alias, merge keys included; an anchor no alias uses is harmless. */
static void yaml_aliases_are_refused(void **state)
{
    (void)state;
    const char *cases[][2] = {
        {"sed -i -e 's/^  name: Harbor Mutual/  name: \\&who Harbor Mutual/' "
         "-e 's/reason: A listed driver has 12.*/reason: *who/' plan.yaml",
         "plan.yaml:62: a YAML alias (*who): anchors, aliases and merge keys (<<: *who) are not "
         "read; write the value out"},
        {"sed -i -e 's/^  pd:   {base: 118.00}/  pd:   \\&liab {base: 118.00}/' "
         "-e 's/^  med:  {base: 14.00}/  med:  {<<: *liab}/' plan.yaml",
         "plan.yaml:69: a YAML alias (*liab): anchors, aliases and merge keys (<<: *liab) are not "
         "read; write the value out"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *m = load_edited(cases[i][0]);
        assert_string_equal(m, cases[i][1]);
        free(m);
    }
    sh("rm -rf %s/anchored && cp -r %s/v1 %s/anchored && sed -i 's/^  pd:   {base: 118.00}/  pd:   "
       "\\&liab {base: 118.00}/' %s/anchored/plan.yaml",
       tmpdir, tmpdir, tmpdir, tmpdir);
    char dir[128];
    snprintf(dir, sizeof dir, "%s/anchored", tmpdir);
    mq_diags d = {0};
    mq_engine *e = mq_engine_load(dir, &d);
    assert_non_null(e);
    assert_int_equal(d.count, 0);
    mq_engine_free(e);
    sh("rm -rf %s/anchored", tmpdir);
}

/* mq_lint_states.zip_in_state for the fixture's states: Indiana is ZIP prefixes 460 to
 * 479, Michigan 480 to 499 (data/state-rules.csv). */
static bool in_or_mi(void *ctx, int state, int prefix)
{
    (void)ctx;
    return (state == mq_symbol_find(MQ_DOM_STATE, "IN") && prefix >= 460 && prefix <= 479) ||
           (state == mq_symbol_find(MQ_DOM_STATE, "MI") && prefix >= 480 && prefix <= 499);
}

/* mq_lint_states.minimums of the fixture's states on its dates: Indiana
 * 25000/50000/25000, Michigan 50000/100000/10000 (since 2020-07-02). */
static bool in_mi_minimums(void *ctx, int state, int32_t day, int out[3])
{
    (void)ctx, (void)day;
    bool in = state == mq_symbol_find(MQ_DOM_STATE, "IN");
    out[0] = in ? 25000 : 50000;
    out[1] = in ? 50000 : 100000;
    out[2] = in ? 25000 : 10000;
    return true;
}

/* mq_engine_lint on tests/data/newcarrier/plans after `edit` (run in its
 * Indiana auto plan's folder): "errors|warnings", each message with the
 * folder's path taken out, "; " between them. */
static char *lint_edited(const char *edit)
{
    sh("rm -rf %s/lint && cp -r tests/data/newcarrier/plans %s/lint && cd "
       "%s/lint/hoosier/in-auto-2026-01-01 && %s",
       tmpdir, tmpdir, tmpdir, edit);
    char dir[128];
    snprintf(dir, sizeof dir, "%s/lint/hoosier", tmpdir);
    mq_diags d = {0}, errors = {0}, warnings = {0};
    mq_engine *e = mq_engine_load(dir, &d);
    if (!e)
        fail_msg("did not load: %s", d.items[0].text);
    mq_lint_states states = {in_or_mi, in_mi_minimums, NULL};
    mq_engine_lint(e, &states, &errors, &warnings);
    char *out = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&out, &n);
    assert_non_null(f);
    for (int w = 0; w < 2; w++) {
        const mq_diags *list = w ? &warnings : &errors;
        fputs(w ? "|" : "", f);
        for (int i = 0; i < list->count; i++) {
            const char *t = list->items[i].text;
            for (const char *at; (at = strstr(t, dir));) {
                fwrite(t, 1, (size_t)(at - t), f);
                t = at + strlen(dir) + 1;
            }
            fprintf(f, "%s%s", i ? "; " : "", t);
        }
    }
    fclose(f);
    mq_engine_free(e);
    mq_diags_free(&errors);
    mq_diags_free(&warnings);
    sh("rm -rf %s/lint", tmpdir);
    return out;
}

/* What check adds to loading: a value a shopper can have that a table
 * has no row for is an error when the table has no missing: (the shopper
 * would get one), else a warning; so are ZIP codes of the plan's states,
 * the territories they map to, and limits between a table's rows. */
static void lint_finds_what_a_shopper_would_miss(void **state)
{
    (void)state;
    char *m = lint_edited("true"); /* as written from the docs: nothing to say */
    assert_string_equal(m, "|");
    free(m);
    m = lint_edited("sed -i 's/^65+,1.10/66+,1.10/' driver_age.csv");
    assert_string_equal(m, "in-auto-2026-01-01/driver_age.csv:5: table driver_age "
                           "(in-auto-2026-01-01/plan.yaml:31) has no rate for age 65; a shopper "
                           "with it gets an error, not a quote: add the rows, or give the table a "
                           "missing: {unavailable: \"...\"} (docs/plan-format.md §6)|");
    free(m);
    m = lint_edited("sed -i 's/^46300-47999,3/46300-47899,3/' territory.csv");
    assert_string_equal(m,
                        "|in-auto-2026-01-01/plan.yaml:47: warning: "
                        "territory[vehicle.garaging_zip]: territory.csv has no rate for 100 ZIP "
                        "codes of IN (47900-47999); a shopper there gets the carrier unavailable "
                        "(missing: unavailable)");
    free(m);
    /* prefixes where ZIP codes were meant: the plan rates no one in its
     * state, which its missing: cannot have meant */
    m = lint_edited("printf 'zip,territory\\n462,1\\n460-461,2\\n463-479,3\\n' > territory.csv");
    assert_string_equal(m, "in-auto-2026-01-01/plan.yaml:47: territory[vehicle.garaging_zip]: "
                           "territory.csv has no rate for any of the 1998 ZIP codes of IN "
                           "(46001-46999, 47001-47999); a shopper there gets the carrier "
                           "unavailable (missing: unavailable) (its rows look like 3-digit "
                           "prefixes: a ZIP key is the whole 5-digit code, so a prefix 460 is the "
                           "band 46000-46099)|");
    free(m);
    m = lint_edited("sed -i 's/^1,1.20/4,1.20/' territory_factor.csv");
    assert_string_equal(m, "in-auto-2026-01-01/territory.csv:2: vehicle.territory is 1 here, but "
                           "territory_factor.csv has no rate for 1 (territory_factor[vehicle."
                           "territory], in-auto-2026-01-01/plan.yaml:60); a shopper there gets an "
                           "error, not a quote: add the rows, or give the table a missing: "
                           "{unavailable: \"...\"} (docs/plan-format.md §6)|in-auto-2026-01-01/"
                           "territory_factor.csv:2: warning: territory 4: territory.csv gives no "
                           "vehicle.territory 4, so this row rates no one");
    free(m);
    /* one row left out of a table of two value columns (bi, pd) that one
     * step reads: one problem, said once, not once per column */
    m = lint_edited("printf 'territory,bi,pd\\n2,1.05,1.00\\n3,0.95,0.90\\n' > "
                    "territory_factor.csv && sed -i 's/{name: Territory, table/{name: Territory, "
                    "coverages: [bi, pd], table/' plan.yaml");
    assert_string_equal(m, "in-auto-2026-01-01/territory.csv:2: vehicle.territory is 1 here, but "
                           "territory_factor.csv has no rate for 1 (territory_factor[vehicle."
                           "territory], in-auto-2026-01-01/plan.yaml:60); a shopper there gets an "
                           "error, not a quote: add the rows, or give the table a missing: "
                           "{unavailable: \"...\"} (docs/plan-format.md §6)|");
    free(m);
    /* the one column is named for bi, and the step runs on every coverage:
     * pd and coll take bi's factors, which looks like columns left out */
    m = lint_edited("sed -i '1s/.*/territory,bi/' territory_factor.csv");
    assert_string_equal(m, "|in-auto-2026-01-01/plan.yaml:60: warning: step Territory rates pd, "
                           "coll with table territory_factor's only column, \"bi\", "
                           "which is named for the bi coverage: if that is meant, say so with "
                           "column: bi; else give the table a column for each");
    free(m);
    m = lint_edited("sed -i '1s/.*/territory,bi/' territory_factor.csv && sed -i 's/{name: "
                    "Territory, table: territory_factor, key: \\[vehicle.territory\\]}/{name: "
                    "Territory, table: territory_factor, key: [vehicle.territory], column: bi}/' "
                    "plan.yaml && grep -q 'column: bi}' plan.yaml");
    assert_string_equal(m, "|");
    free(m);
    m = lint_edited("sed -i 's/^25-64,1.00/25-64,/' driver_age.csv"); /* the factor left out */
    assert_string_equal(m, "in-auto-2026-01-01/driver_age.csv:4: table driver_age "
                           "(in-auto-2026-01-01/plan.yaml:31) has no rate for age 25 (and 2 more "
                           "values); a shopper with them gets an error, not a quote: add the rows, "
                           "or give the table a missing: {unavailable: \"...\"} "
                           "(docs/plan-format.md §6)|");
    free(m);
    m = lint_edited("sed -i 's/^50000,100000,1.20/50000,100000,/' bi_limits.csv && sed -i '/does "
                    "not offer limits of/d' plan.yaml");
    assert_string_equal(m, "|in-auto-2026-01-01/bi_limits.csv:3: warning: factor is empty (no "
                           "value), and step BI limits multiplies by it: table bi_limits has no "
                           "missing:, so a shopper rated with this row gets an error, not a quote");
    free(m);
    /* a grid of age bands by married, one row left out: married 25-64 got
     * an error */
    m = lint_edited("printf 'age,married,factor\\n16-24,false,2.1\\n16-24,true,2\\n25-64,false,1\\n"
                    "65+,false,1.1\\n65+,true,1.05\\n' > driver_class.csv && sed -i -e 's/^  "
                    "driver_age: .*/&\\n  driver_class: {file: driver_class.csv, keys: [age, "
                    "married]}/' -e 's/^  - {name: Driver age, .*/  - {name: Driver class, table: "
                    "driver_class, key: [driver.age, driver.marital_status == \"married\"]}/' "
                    "plan.yaml");
    assert_string_equal(m, "|in-auto-2026-01-01/plan.yaml:32: warning: table driver_class "
                           "(driver_class.csv) has rows for 5 of the 6 combinations of its keys' "
                           "values, but none for age 25, married true: a row left out? A shopper "
                           "with it gets an error, not a quote");
    free(m);
    /* an until that a later version overrides says what does not happen */
    m = lint_edited(
        "sed -i 's/^  effective: 2026-01-01/&\\n  until: 2026-12-31/' plan.yaml && cp -r "
        ". ../in-auto-2026-06-01 && sed -i -e 's/2026-01-01/2026-06-01/' -e '/until:/d' "
        "../in-auto-2026-06-01/plan.yaml");
    assert_string_equal(m, "|in-auto-2026-01-01/plan.yaml:17: warning: plan.until is 2026-12-31, "
                           "but a later version of plan hoosier-in-auto takes effect in IN first: "
                           "this version rates there only to 2026-05-31");
    free(m);
    /* 150 for 1.50: the premium 150 times as much, silently */
    m = lint_edited("sed -i 's/^21-24,1.50/21-24,150/' driver_age.csv");
    assert_string_equal(m, "|in-auto-2026-01-01/driver_age.csv:3: warning: factor is 150, and step "
                           "Driver age multiplies the premium by it (is it a percentage? 150% is "
                           "written 1.50)");
    free(m);
    /* a revision's date typed a year early rates the past */
    m = lint_edited("sed -i 's/effective: 2026-01-01/effective: 2025-01-01/' plan.yaml");
    assert_string_equal(m, "|in-auto-2026-01-01/plan.yaml:15: warning: plan.version "
                           "\"2026-01-01\" is a date, but plan.effective is 2025-01-01: the "
                           "version rates from 2025-01-01 (is one of them a typo?)");
    free(m);
    m = lint_edited("sed -i -e 's/effective: 2026-01-01/effective: 2025-01-01/' -e "
                    "'s/version: \"2026-01-01\"/version: \"r1\"/' plan.yaml");
    assert_string_equal(m, "|in-auto-2026-01-01/plan.yaml:16: warning: the folder "
                           "in-auto-2026-01-01 is named for 2026-01-01, but plan.effective is "
                           "2025-01-01: the version rates from 2025-01-01 (is one of them a "
                           "typo?)");
    free(m);
    /* the state's minimum limits: what shoppers on a budget ask for */
    m = lint_edited("sed -i 's/^25000,50000,1.00/20000,40000,1.00/' bi_limits.csv");
    assert_string_equal(m,
                        "|in-auto-2026-01-01/plan.yaml:62: warning: bi_limits.csv has no rate "
                        "for IN's minimum limits 25000/50000 (in force on 2026-01-01): a "
                        "shopper who asks for the minimum gets the carrier unavailable (missing: "
                        "unavailable); in-auto-2026-01-01/bi_limits.csv:2: warning: these "
                        "limits are below IN's minimum 25000/50000 (in force on 2026-01-01): a "
                        "request for them is refused, so this row rates no one");
    free(m);
    m = lint_edited("sed -i '/^25000,1.00/d' pd_limit.csv && sed -i -e '/does not offer a PD "
                    "limit/d' -e 's/^  pd_limit:$/  pd_limit: {file: pd_limit.csv, keys: [limit], "
                    "missing: {decline: \"No PD below 50000.\"}}/' -e '/^    file: pd_limit.csv/d' "
                    "-e '/^    keys: \\[limit\\]/d' plan.yaml");
    assert_string_equal(m, "|in-auto-2026-01-01/plan.yaml:60: warning: pd_limit.csv has no rate "
                           "for IN's minimum limit 25000 (in force on 2026-01-01): a shopper who "
                           "asks for the minimum gets a decline (missing: decline)");
    free(m);
    m = lint_edited("sed -i '/does not offer a PD limit/d' plan.yaml");
    assert_string_equal(m, "|in-auto-2026-01-01/plan.yaml:36: warning: table pd_limit "
                           "(pd_limit.csv) is looked up by a value the shopper gives, and has no "
                           "rate for some (limit 37500); a shopper with one gets an error, not a "
                           "quote: give the table a missing: {unavailable: \"... {key}\"} "
                           "(docs/plan-format.md §6)");
    free(m);
}

/* The line mq_yaml_check_text names for `text` (0: accepted), and its why. */
static int check(const char *text, size_t len, const char *want_why)
{
    char why[128] = "";
    int line = mq_yaml_check_text(text, len, why, sizeof why);
    assert_string_equal(why, want_why);
    return line;
}

#define CHECK(literal, want_why) check(literal, sizeof literal - 1, want_why)

static void yaml_text_is_checked_before_libfyaml(void **state)
{
    (void)state;
    const char *directive = "YAML directives (%...) are not allowed";
    assert_int_equal(CHECK("a: 1\nb: \"caf\xc3\xa9 \xf0\x9f\x9a\x97\"\n", ""), 0);
    assert_int_equal(CHECK("a: 1\tb\r\nc: 50%\n", ""), 0);
    assert_int_equal(CHECK("a: 1\n%YAML 1.2\n", directive), 2);
    /* libfyaml 0.7.12 loops forever on these three (found by fuzz_registry) */
    assert_int_equal(CHECK("a: b\r%s:\x83", directive), 2);
    assert_int_equal(CHECK("\xef\xbb\xbf%\xff", directive), 1);
    assert_int_equal(CHECK("a: 1\r\nb: 2\r%x", directive), 3);
    assert_int_equal(CHECK("a: 1\nb: \xed\xed", "not valid UTF-8 (byte 0xED)"), 2);
    assert_int_equal(CHECK("a: \xed\xa0\x80", "not valid UTF-8 (byte 0xED)"), 1); /* surrogate */
    assert_int_equal(CHECK("a: \xc0\xaf", "not valid UTF-8 (byte 0xC0)"), 1);     /* overlong */
    assert_int_equal(CHECK("a: \xe2\x82", "not valid UTF-8 (byte 0xE2)"), 1);     /* cut short */
    assert_int_equal(CHECK("a: 1\nb: \0", "character U+0000 is not allowed in YAML"), 2);
    assert_int_equal(CHECK("a: \x1b[31m", "character U+001B is not allowed in YAML"), 1);

    char *m = load_broken("term_months: 6", "term_months: 6\\xed");
    assert_string_equal(m, "plan.yaml:14: not valid UTF-8 (byte 0xED)");
    free(m);
    m = load_broken("term_months: 6", "term_months: 6\\r%\\xff");
    assert_string_equal(m, "plan.yaml:15: YAML directives (%...) are not allowed");
    free(m);
}

/* libfyaml 0.7.12 crashed formatting this file's syntax error for printing
 * (found by fuzz_registry): every YAML file is parsed with its errors
 * collected instead, and the first becomes the message. */
static void a_yaml_syntax_error_is_reported_not_printed(void **state)
{
    (void)state;
    const char *file = "tests/fuzz/regressions/fuzz_registry/crash-error-display-tabs";
    char err[512], *text = (char *)"not set";
    assert_null(mq_yaml_load(file, 1 << 20, &text, err, sizeof err));
    assert_null(text);
    char want[512];
    snprintf(want, sizeof want, "%s:2:65: invalid multiline plain key", file);
    assert_string_equal(err, want);

    assert_null(
        mq_yaml_load("plans/harbor/oh-auto-2026-01-01/plan.yaml", 100, &text, err, sizeof err));
    assert_string_equal(err, "plans/harbor/oh-auto-2026-01-01/plan.yaml: larger than 100 bytes");
    assert_null(mq_yaml_load("no/such/file.yaml", 100, &text, err, sizeof err));
    assert_string_equal(err, "no/such/file.yaml: cannot open: No such file or directory");
    struct fy_document *doc =
        mq_yaml_load("plans/harbor/oh-auto-2026-01-01/plan.yaml", 1 << 20, &text, err, sizeof err);
    assert_non_null(doc);
    assert_non_null(text);
    fy_document_destroy(doc);
    free(text);
}

/* A rounding step must be a whole number of cents: anything finer was
 * rounded to the cent anyway (round 0.001 made 16.275 16.27), and 0.015
 * gave premiums in odd cents; a step of 0 or less failed at rating only. */
static void rounding_steps_are_whole_cents(void **state)
{
    (void)state;
    char *m = load_broken("rounding: {coverage: 1.00}", "rounding: {coverage: 0.015}");
    assert_string_equal(m, "plan.yaml:114: rounding.coverage must be a whole number of cents "
                           "from 0.01 to 100");
    free(m);
    m = load_broken("^  - name: Discounts ", "  - {name: Round, round: 0.001}\\n&");
    assert_string_equal(m, "plan.yaml:104: step Round: round 0.001 must be a whole number of "
                           "cents from 0.01 to 100");
    free(m);
    m = load_broken("^  - name: Discounts ", "  - {name: Round, round: -1}\\n&");
    assert_string_equal(m, "plan.yaml:104: step Round: round -1 must be a whole number of cents "
                           "from 0.01 to 100");
    free(m);
}

/* Copies v1 to edited, runs `cmd` in it, loads it (it must load) and rates
 * example1 on 2026-03-01 with it; the caller frees the arena. */
static mq_result *rate_edited(const char *cmd, mq_arena *a)
{
    sh("rm -rf %s/edited && cp -r %s/v1 %s/edited && cd %s/edited && %s", tmpdir, tmpdir, tmpdir,
       tmpdir, cmd);
    char dir[128];
    snprintf(dir, sizeof dir, "%s/edited", tmpdir);
    mq_diags d = {0};
    mq_engine *e = mq_engine_load(dir, &d);
    if (!e)
        fail_msg("did not load: %s", d.count ? d.items[0].text : "?");
    mq_result *res;
    int n;
    rate_on(e, "2026-03-01", a, &res, &n);
    assert_int_equal(n, 1);
    mq_engine_free(e); /* the result's texts are in the arena */
    sh("rm -rf %s/edited", tmpdir);
    return res;
}

/* A discount listed twice in a step, or repeated by a second discounts
 * step, on a coverage both count for, was taken twice (Paperless 6%, not
 * 3%): an error at the second item naming the first. One name on disjoint
 * coverages is a discount of two amounts, and rates (Harbor's coll: 198 x
 * 1.22 x 0.97 x 0.95 x (1 - 0.05 - 0.03 - 0.05) = 193.66 -> 194, not 205). */
static void a_discount_counts_once(void **state)
{
    (void)state;
    char *m =
        load_broken("        - {name: Paperless, amount: 0.03, when: applicant.paperless}",
                    "&\\n        - {name: Paperless, amount: 0.03, when: applicant.paperless}");
    assert_string_equal(m, "plan.yaml:112: discount Paperless is already in step Discounts (line "
                           "111) for coverage bi: it would be taken twice (if the two never apply "
                           "together, give them different names)");
    free(m);
    m = load_broken("^rounding:", "  - name: Discounts again\\n    discounts:\\n      items:\\n"
                                  "        - {name: Homeowner, amount: 0.05, when: "
                                  "applicant.homeowner}\\nrounding:");
    assert_string_equal(m, "plan.yaml:117: discount Homeowner is already in step Discounts (line "
                           "110) for coverage bi: it would be taken twice (if the two never apply "
                           "together, give them different names)");
    free(m);
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_result *r = rate_edited("sed -i 's/        - {name: Anti-theft, amount: 0.10, when: "
                               "vehicle.anti_theft, coverages: \\[comp\\]}/&\\n        - "
                               "{name: Anti-theft, amount: 0.05, when: vehicle.anti_theft, "
                               "coverages: [coll]}/' plan.yaml",
                               &a);
    assert_int_equal(r->status, MQ_QUOTED);
    assert_int_equal(r->coverages[5].cents, 19400);
    assert_int_equal(r->total_cents, 71400 - 1100);
    mq_arena_free(&a);
}

static void assert_error(const mq_result *r, const char *reason)
{
    assert_int_equal(r->status, MQ_ERROR);
    assert_int_equal(r->nreasons, 1);
    assert_string_equal(r->reasons[0], reason);
}

/* A failed lookup's reason names a yes/no key as true or false, as the
 * table's rows write it (it said "for 35/1"). */
static void a_missing_row_names_a_boolean_key_as_written(void **state)
{
    (void)state;
    mq_arena a;
    mq_arena_init(&a, 0);
    assert_error(rate_edited("sed -i '/^30-49,true,/d' driver_class.csv", &a),
                 "Harbor Mutual has no rate in table driver_class for 35/true");
    mq_arena_free(&a);
}

/* Values a step computes while rating that cannot be priced are errors
 * naming the step, never a price: a discount amount that is missing took
 * the whole cap (Harbor's 30% instead of 8%: bi 207, not 225), a negative
 * one was a surcharge; a missing premium that went through a round step
 * became -92233720368547760 and a later minimum step then quoted it at the
 * minimum (med 9.20 -> 9); a round step computed as 0.005 was rounded to
 * cents; the reason for a negative premium said a value was missing. */
static void bad_values_in_steps_are_errors_naming_the_step(void **state)
{
    (void)state;
    mq_arena a;
    mq_arena_init(&a, 0);
    assert_error(rate_edited("sed -i 's/amount: 0.05,/amount: \"driver.student_gpa \\/ 40\",/' "
                             "plan.yaml",
                             &a),
                 "Harbor Mutual: the amount of discount Homeowner (step Discounts) is missing, "
                 "not a fraction from 0 to 1");
    assert_error(rate_edited("sed -i 's/amount: 0.05,/amount: \"vehicle_count * -0.1\",/' "
                             "plan.yaml",
                             &a),
                 "Harbor Mutual: the amount of discount Homeowner (step Discounts) is -0.1, not "
                 "a fraction from 0 to 1");
    /* an amount computed as 0 is no discount, and is fine */
    mq_result *r =
        rate_edited("sed -i 's/amount: 0.05,/amount: \"vehicle_count * 0\",/' plan.yaml", &a);
    assert_int_equal(r->status, MQ_QUOTED);
    /* bi 142 x 1.25 x 0.95 x 1.45 x (1 - 0.03) = 236.62 -> 237 */
    assert_int_equal(r->coverages[0].cents, 23700);

    assert_error(rate_edited("sed -i -e 's/med:  {base: 14.00}/med:  {base: "
                             "\"driver.student_gpa\"}/' -e 's/^  - name: Discounts /  - {name: "
                             "Round, round: 0.01}\\n  - {name: Floor, minimum: 10}\\n&/' plan.yaml",
                             &a),
                 "Harbor Mutual: the med premium is missing (a value it needs is missing) after "
                 "step Base rate");
    assert_error(rate_edited("sed -i 's/^  - name: Discounts /  - {name: Round, round: "
                             "\"vehicle_count * 0.005\"}\\n&/' plan.yaml",
                             &a),
                 "Harbor Mutual: step Round rounds to 0.005, not a whole number of cents from "
                 "0.01 to 100");
    /* without a cap below 1, comp's discounts (homeowner 95% + paperless 3% +
     * anti-theft 10%) left a comp premium of 0.00, quoted */
    assert_error(rate_edited("sed -i -e 's/cap: 0.30/cap: 1/' -e 's/amount: 0.05,/amount: 0.95,/' "
                             "plan.yaml",
                             &a),
                 "Harbor Mutual: the discounts of step Discounts add up to 108%, which leaves no "
                 "premium (give the step a cap: below 1)");
    /* med 14 x 1.30 x 0.95 x 1.60 = 27.664, - 40 = -12.336, x (1 - 0.08) = -11.34912 */
    assert_error(rate_edited("sed -i 's/^  - name: Discounts /  - {name: Credit, coverages: "
                             "[med], add: -40}\\n&/' plan.yaml",
                             &a),
                 "Harbor Mutual: the med premium is negative (-11.3491) after step Credit");
    mq_arena_free(&a);
}

/* A coverages list that names nothing the step or item could apply to was
 * accepted and silently applied to nothing: an empty list, or a discount
 * item's coverage that its step does not run on. */
static void coverage_lists_that_apply_to_nothing_are_errors(void **state)
{
    (void)state;
    char *m = load_broken("coverages: \\[bi, pd, med, um, coll\\]$", "coverages: []");
    assert_string_equal(m, "plan.yaml:93: step Driving record: coverages is empty (leave it out "
                           "to apply to every coverage)");
    free(m);
    m = load_broken("vehicle.anti_theft, coverages: \\[comp\\]",
                    "vehicle.anti_theft, coverages: []");
    assert_string_equal(m, "plan.yaml:112: discount Anti-theft: coverages is empty (leave it out "
                           "to apply to every coverage)");
    free(m);
    m = load_broken("^  - name: Discounts  .*", "  - name: Discounts\\n    coverages: [bi, pd]");
    assert_string_equal(m, "plan.yaml:113: discount Anti-theft: coverage comp is not among the "
                           "coverages of step Discounts");
    free(m);
    m = load_broken("vehicle.anti_theft, coverages: \\[comp\\]",
                    "vehicle.anti_theft, coverages: [cmp]");
    assert_string_equal(m, "plan.yaml:112: discount Anti-theft: \"cmp\" is not a coverage of the "
                           "auto line (bi, pd, med, um, comp, coll)");
    free(m);
}

/* interp() needs points to interpolate between: a table of one row, or
 * keyed by bands, was accepted and then failed every rating with "no rate
 * in table miles for 5000". */
static void interp_needs_two_exact_points(void **state)
{
    (void)state;
    static const char *add_step =
        "sed -i -e 's/^  vehicle_age_factor: .*/&\\n  miles: {file: miles.csv, keys: [miles]}/' "
        "-e 's/^  - name: Discounts /  - {name: Miles, coverages: [bi], factor: "
        "\"interp(miles, 5000)\"}\\n&/' plan.yaml";
    char cmd[512];
    snprintf(cmd, sizeof cmd, "printf 'miles,factor\\n10000,1.00\\n' > miles.csv && %s", add_step);
    char *m = load_edited(cmd);
    assert_string_equal(m, "plan.yaml:105:53: interp() needs table miles keyed by exact numbers "
                           "in at least two rows (a band, * or a single row has nothing to "
                           "interpolate between) (in \"interp(miles, 5000)\")");
    free(m);
    snprintf(cmd, sizeof cmd,
             "printf 'miles,factor\\n0-10000,1.00\\n10001+,1.20\\n' > miles.csv && %s", add_step);
    m = load_edited(cmd);
    assert_non_null(strstr(m, "interp() needs table miles keyed by exact numbers"));
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(effective_date_picks_the_version),
        cmocka_unit_test(until_ends_a_version),
        cmocka_unit_test(until_of_the_latest_version_does_not_revive_an_older_one),
        cmocka_unit_test(the_digest_covers_every_table_file),
        cmocka_unit_test(misplaced_plans_are_errors_not_skipped),
        cmocka_unit_test(a_table_replaced_while_loading_is_an_error),
        cmocka_unit_test(a_revision_under_a_new_plan_id_must_end_the_old_plan),
        cmocka_unit_test(same_version_twice_is_an_error),
        cmocka_unit_test(broken_plans_name_the_line),
        cmocka_unit_test(a_table_factor_must_be_positive),
        cmocka_unit_test(table_files_are_named_where_plan_yaml_refers_to_them),
        cmocka_unit_test(empty_files_and_second_documents),
        cmocka_unit_test(yaml_text_is_checked_before_libfyaml),
        cmocka_unit_test(a_yaml_syntax_error_is_reported_not_printed),
        cmocka_unit_test(rounding_steps_are_whole_cents),
        cmocka_unit_test(a_missing_row_names_a_boolean_key_as_written),
        cmocka_unit_test(bad_values_in_steps_are_errors_naming_the_step),
        cmocka_unit_test(coverage_lists_that_apply_to_nothing_are_errors),
        cmocka_unit_test(interp_needs_two_exact_points),
        cmocka_unit_test(a_discount_counts_once),
        cmocka_unit_test(yaml_aliases_are_refused),
        cmocka_unit_test(lint_finds_what_a_shopper_would_miss),
    };
    return cmocka_run_group_tests_name("plan", tests, make_two_versions, remove_tmp);
}
