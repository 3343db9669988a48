/* test_date.c -- calendar arithmetic: parsing, ages (29 February rule),
 * months between dates, month arithmetic clamped to month ends, and the
 * split of a day into its parts against the textbook civil-from-days. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "engine.h"

#include <stdio.h>
#include <string.h>

static int32_t D(const char *s)
{
    int32_t d = 0;
    assert_true(mq_date_parse(s, &d));
    return d;
}

static void parse_accepts_real_dates(void **state)
{
    (void)state;
    int32_t d;
    assert_true(mq_date_parse("1970-01-01", &d));
    assert_int_equal(d, 0);
    assert_true(mq_date_parse("2024-02-29", &d));
    assert_int_equal(d, 19782);
    char out[11];
    mq_date_format(d, out);
    assert_string_equal(out, "2024-02-29");
}

/* Every day of years 0000-9999 formats as snprintf would, and those of
 * the years a request may give (1800-2200) parse back. */
static void format_writes_every_day_as_printf(void **state)
{
    (void)state;
    int32_t first = mq_date_from_ymd(0, 1, 1), last = mq_date_from_ymd(9999, 12, 31);
    for (int32_t d = first; d <= last; d++) {
        int y, m, dd;
        mq_date_to_ymd(d, &y, &m, &dd);
        char want[32], out[11];
        snprintf(want, sizeof want, "%04d-%02d-%02d", y, m, dd);
        mq_date_format(d, out);
        if (strcmp(out, want) != 0)
            fail_msg("day %d: wrote %s, want %s", (int)d, out, want);
        int32_t back;
        if (y >= 1800 && y <= 2200 && (!mq_date_parse(out, &back) || back != d))
            fail_msg("day %d: %s does not parse back", (int)d, out);
    }
}

static void parse_rejects_impossible_dates(void **state)
{
    (void)state;
    int32_t d;
    const char *bad[] = {"1990-02-30", "2023-02-29", "2026-13-01", "2026-00-10",
                         "2026-04-31", "2026-4-01",  "26-04-01",   "2026-04-01x",
                         "",           "abcd-ef-gh", "1900-02-29", "2026-04-00"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(mq_date_parse(bad[i], &d));
    assert_true(mq_date_parse("2000-02-29", &d)); /* divisible by 400: leap */
}

static void age_counts_whole_years(void **state)
{
    (void)state;
    assert_int_equal(mq_date_age(D("1990-06-15"), D("2026-03-01")), 35);
    assert_int_equal(mq_date_age(D("1990-06-15"), D("2026-06-14")), 35);
    assert_int_equal(mq_date_age(D("1990-06-15"), D("2026-06-15")), 36);
    assert_int_equal(mq_date_age(D("2009-03-02"), D("2026-03-01")), 16);
}

static void age_29_february_birthday_is_1_march_in_common_years(void **state)
{
    (void)state;
    assert_int_equal(mq_date_age(D("2008-02-29"), D("2026-02-28")), 17);
    assert_int_equal(mq_date_age(D("2008-02-29"), D("2026-03-01")), 18);
    assert_int_equal(mq_date_age(D("2008-02-29"), D("2028-02-29")), 20);
    assert_int_equal(mq_date_age(D("2008-02-29"), D("2028-02-28")), 19);
}

/* The nearest birthday steps up six whole months after the last birthday;
 * born on 29 February, that birthday is 1 March in common years, so the step
 * is on 1 September after it (29 August after a leap-year birthday). */
static void age_nearest_29_february(void **state)
{
    (void)state;
    int32_t born = D("1992-02-29");
    /* 2026, a common year: the birthday is 1 March */
    assert_int_equal(mq_date_age_nearest(born, D("2026-02-28")), 34); /* 33 since 2025-03-01 */
    assert_int_equal(mq_date_age_nearest(born, D("2026-03-01")), 34);
    assert_int_equal(mq_date_age_nearest(born, D("2026-08-28")), 34);
    assert_int_equal(mq_date_age_nearest(born, D("2026-08-31")), 34);
    assert_int_equal(mq_date_age_nearest(born, D("2026-09-01")), 35);
    /* 2028, a leap year: the birthday is 29 February */
    assert_int_equal(mq_date_age_nearest(born, D("2027-08-31")), 35);
    assert_int_equal(mq_date_age_nearest(born, D("2027-09-01")), 36);
    assert_int_equal(mq_date_age_nearest(born, D("2028-02-28")), 36);
    assert_int_equal(mq_date_age_nearest(born, D("2028-02-29")), 36);
    assert_int_equal(mq_date_age_nearest(born, D("2028-08-28")), 36);
    assert_int_equal(mq_date_age_nearest(born, D("2028-08-29")), 37);
    /* 2029 again common: 36 from 1 March, 37 from 1 September */
    assert_int_equal(mq_date_age_nearest(born, D("2029-02-28")), 37);
    assert_int_equal(mq_date_age_nearest(born, D("2029-08-31")), 37);
    assert_int_equal(mq_date_age_nearest(born, D("2029-09-01")), 38);
    /* any other birthday: six whole months */
    assert_int_equal(mq_date_age_nearest(D("1990-08-15"), D("2026-02-14")), 35);
    assert_int_equal(mq_date_age_nearest(D("1990-08-15"), D("2026-02-15")), 36);
    assert_int_equal(mq_date_age_nearest(D("1990-02-28"), D("2026-08-27")), 36);
    assert_int_equal(mq_date_age_nearest(D("1990-02-28"), D("2026-08-28")), 37);
}

static void months_between_counts_whole_months(void **state)
{
    (void)state;
    assert_int_equal(mq_date_months_between(D("2008-07-01"), D("2026-03-01")), 212);
    assert_int_equal(mq_date_months_between(D("2026-01-31"), D("2026-02-28")), 0);
    assert_int_equal(mq_date_months_between(D("2026-01-15"), D("2026-02-15")), 1);
    assert_int_equal(mq_date_months_between(D("2026-02-15"), D("2026-01-15")), -1);
}

static void add_months_clamps_to_month_end(void **state)
{
    (void)state;
    char out[11];
    mq_date_format(mq_date_add_months(D("2026-03-01"), -36), out);
    assert_string_equal(out, "2023-03-01");
    mq_date_format(mq_date_add_months(D("2026-05-31"), -3), out);
    assert_string_equal(out, "2026-02-28");
    mq_date_format(mq_date_add_months(D("2024-02-29"), 12), out);
    assert_string_equal(out, "2025-02-28");
    mq_date_format(mq_date_add_months(D("2026-01-31"), 1), out);
    assert_string_equal(out, "2026-02-28");
}

/* civil-from-days as date.c wrote it before it took Neri and Schneider's
 * form: the reference the engine's split must agree with. */
static void reference_ymd(int32_t days, int *y, int *m, int *d)
{
    int z = days + 719468;
    int era = (z >= 0 ? z : z - 146096) / 146097;
    int doe = z - era * 146097;
    int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

static void check_split(int32_t day)
{
    int y, m, d, ry, rm, rd;
    mq_date_to_ymd(day, &y, &m, &d);
    reference_ymd(day, &ry, &rm, &rd);
    if (y != ry || m != rm || d != rd)
        fail_msg("day %d: %d-%d-%d, want %d-%d-%d", day, y, m, d, ry, rm, rd);
}

/* Every day from year -1 to 10000, then every 997th day and the edges of
 * the fast form's span (0000-03-01 plus 200719468 days) and past them. */
static void split_agrees_with_the_reference(void **state)
{
    (void)state;
    for (int32_t day = -720000; day < 2933000; day++)
        check_split(day);
    for (int32_t day = 2933000; day < 200100000; day += 997)
        check_split(day);
    for (int32_t day = 199999000; day < 200001000; day++)
        check_split(day);
    for (int32_t day = -800000; day < -719000; day++)
        check_split(day);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_accepts_real_dates),
        cmocka_unit_test(format_writes_every_day_as_printf),
        cmocka_unit_test(parse_rejects_impossible_dates),
        cmocka_unit_test(age_counts_whole_years),
        cmocka_unit_test(age_29_february_birthday_is_1_march_in_common_years),
        cmocka_unit_test(age_nearest_29_february),
        cmocka_unit_test(months_between_counts_whole_months),
        cmocka_unit_test(add_months_clamps_to_month_end),
        cmocka_unit_test(split_agrees_with_the_reference),
    };
    return cmocka_run_group_tests_name("date", tests, NULL, NULL);
}
