/* test_table.c -- CSV rate tables: key cells (exact, bands, open bounds,
 * defaults, symbols), most-specific-row precedence, missing values, and the
 * load errors (overlaps, bad numbers, missing key columns, no rows, unclosed
 * quotes) with file:line, keys that do not fit their column's type, and
 * files that are not regular or too large refused before they are read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *write_tmp(const char *text)
{
    static int n;
    char *path = malloc(64);
    snprintf(path, 64, "/tmp/mq_test_table_%d_%d.csv", (int)getpid(), n++);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static mq_table *load(const char *csv, const char *const *keys, int nkeys, mq_diags *d)
{
    char *path = write_tmp(csv);
    mq_table *t = mq_table_read(path, "t.csv", NULL, "t", keys, nkeys, d);
    unlink(path);
    free(path);
    return t;
}

static double look1(const mq_table *t, double k)
{
    return mq_table_lookup(t, &k, 0);
}

static void exact_beats_band_beats_default(void **state)
{
    (void)state;
    const char *keys[] = {"zip"};
    mq_diags d = {0};
    mq_table *t = load("zip,territory\n# comment line\n43215,1\n43001-45999,5\n*,9\n", keys, 1, &d);
    assert_non_null(t);
    assert_true(mq_table_compile(t, &d));
    assert_int_equal(d.count, 0);
    assert_true(look1(t, 43215) == 1);
    assert_true(look1(t, 43216) == 5);
    assert_true(look1(t, 43001) == 5);
    assert_true(look1(t, 45999) == 5);
    assert_true(look1(t, 46000) == 9);
    assert_true(look1(t, 100) == 9);
    assert_true(isnan(look1(t, NAN)));
    mq_table_free(t);
    mq_diags_free(&d);
}

static void open_and_closed_bounds(void **state)
{
    (void)state;
    const char *keys[] = {"mph"};
    mq_diags d = {0};
    mq_table *t = load("mph,points\n<=15,1\n>15,2\n", keys, 1, &d);
    assert_true(t && mq_table_compile(t, &d));
    assert_true(look1(t, 15) == 1);
    assert_true(look1(t, 15.5) == 2);
    assert_true(look1(t, 16) == 2);
    assert_true(look1(t, -3) == 1);
    mq_table_free(t);
    const char *xkeys[] = {"x"};
    t = load("x,f\n<2.5,1\n>=2.5,2\n", xkeys, 1, &d);
    assert_true(t && mq_table_compile(t, &d));
    assert_true(look1(t, 2.4999) == 1);
    assert_true(look1(t, 2.5) == 2);
    mq_table_free(t);
    mq_diags_free(&d);
}

static void bands_and_plus(void **state)
{
    (void)state;
    const char *keys[] = {"age"};
    mq_diags d = {0};
    mq_table *t = load("age,f\n16-17,2.6\n18-20,2.15\n75+,1.12\n", keys, 1, &d);
    assert_true(t && mq_table_compile(t, &d));
    assert_true(look1(t, 16) == 2.6);
    assert_true(look1(t, 17) == 2.6);
    assert_true(isnan(look1(t, 17.5))); /* bands are inclusive: 17.5 is in neither */
    assert_true(look1(t, 18) == 2.15);
    assert_true(isnan(look1(t, 21)));
    assert_true(look1(t, 120) == 1.12);
    assert_true(isnan(look1(t, 15)));
    mq_table_free(t);
    mq_diags_free(&d);
}

static void two_keys_with_booleans_and_value_columns(void **state)
{
    (void)state;
    const char *keys[] = {"age", "married"};
    mq_diags d = {0};
    mq_table *t = load("age,married,liability,phys\n30-49,false,1.00,1.00\n30-49,true,0.95,0.97\n",
                       keys, 2, &d);
    assert_true(t && mq_table_compile(t, &d));
    assert_int_equal(mq_table_value_index(t, "phys"), 1);
    double k[2] = {35, 1};
    assert_true(mq_table_lookup(t, k, 0) == 0.95);
    assert_true(mq_table_lookup(t, k, 1) == 0.97);
    k[1] = 0;
    assert_true(mq_table_lookup(t, k, 1) == 1.00);
    mq_table_free(t);
    mq_diags_free(&d);
}

static void symbols_bind_to_an_enum(void **state)
{
    (void)state;
    const char *keys[] = {"type", "mph"};
    mq_diags d = {0};
    mq_table *t = load("type,mph,points\ndui,*,6\nspeeding,<=15,1\nspeeding,>15,2\n", keys, 2, &d);
    assert_non_null(t);
    char why[256];
    assert_true(mq_table_bind_key(t, 0, MQ_T_ENUM, MQ_DOM_INCIDENT, &d, why, sizeof why));
    assert_true(mq_table_compile(t, &d));
    double k[2] = {mq_symbol_find(MQ_DOM_INCIDENT, "speeding"), 18};
    assert_true(mq_table_lookup(t, k, 0) == 2);
    k[0] = mq_symbol_find(MQ_DOM_INCIDENT, "dui");
    assert_true(mq_table_lookup(t, k, 0) == 6);
    k[0] = mq_symbol_find(MQ_DOM_INCIDENT, "comp_claim");
    assert_true(isnan(mq_table_lookup(t, k, 0)));
    mq_table_free(t);
    mq_diags_free(&d);
}

static void unknown_symbol_is_an_error_with_its_line(void **state)
{
    (void)state;
    const char *keys[] = {"status"};
    mq_diags d = {0};
    mq_table *t = load("status,f\nmarried,1\nmaried,2\n", keys, 1, &d);
    assert_non_null(t);
    char why[256];
    assert_false(mq_table_bind_key(t, 0, MQ_T_ENUM, MQ_DOM_MARITAL, &d, why, sizeof why));
    assert_int_equal(d.count, 1);
    assert_string_equal(d.items[0].text,
                        "t.csv:3: \"maried\" is not a possible value of key status");
    mq_table_free(t);
    mq_diags_free(&d);
}

/* A symbol misspelt beside a "*" row: the one error at its line, not a
 * second one saying its row overlaps the "*" row (the bad cell is not a
 * "*" the analyst wrote). */
static void a_misspelt_symbol_is_not_also_an_overlap(void **state)
{
    (void)state;
    const char *keys[] = {"type"};
    mq_diags d = {0};
    mq_table *t = load("type,load\ndui,0.5\nspeedng,0.2\n*,0.1\n", keys, 1, &d);
    assert_non_null(t);
    char why[256];
    assert_false(mq_table_bind_key(t, 0, MQ_T_ENUM, MQ_DOM_INCIDENT, &d, why, sizeof why));
    mq_table_compile(t, &d); /* the plan fails on the error above whatever this says */
    assert_int_equal(d.count, 1);
    assert_string_equal(d.items[0].text,
                        "t.csv:3: \"speedng\" is not a possible value of key type");
    mq_table_free(t);
    mq_diags_free(&d);
}

/* Keys given in the wrong order: the lookup's error (why) only, not one
 * more for each row when the key left unbound is compiled as numbers. */
static void keys_in_the_wrong_order_are_one_error_not_one_a_row(void **state)
{
    (void)state;
    const char *keys[] = {"construction", "pc"};
    mq_diags d = {0};
    mq_table *t = load("construction,pc,f\nframe,1-4,1.0\nframe,5-10,1.2\nmasonry,1-4,0.9\n"
                       "masonry,5-10,1.1\n",
                       keys, 2, &d);
    assert_non_null(t);
    char why[256];
    assert_false(mq_table_bind_key(t, 0, MQ_T_NUMBER, MQ_DOM_NONE, &d, why, sizeof why));
    assert_string_equal(why, "is a number but column construction of t.csv holds names (such as "
                             "frame)");
    assert_false(mq_table_compile(t, &d));
    assert_int_equal(d.count, 0);
    mq_table_free(t);
    mq_diags_free(&d);
}

static void overlapping_bands_are_an_error_naming_both_lines(void **state)
{
    (void)state;
    const char *keys[] = {"age"};
    mq_diags d = {0};
    mq_table *t = load("age,f\n16-18,1\n18-20,2\n", keys, 1, &d);
    assert_non_null(t);
    assert_false(mq_table_compile(t, &d));
    assert_int_equal(d.count, 1);
    assert_string_equal(d.items[0].text,
                        "t.csv:3: row overlaps the row at line 2 (same keys or overlapping bands)");
    mq_table_free(t);
    mq_diags_free(&d);
}

static void bad_cells_are_errors_with_their_lines(void **state)
{
    (void)state;
    const char *keys[] = {"age"};
    mq_diags d = {0};
    assert_null(load("age,f\n16,1.0\n17,one\n", keys, 1, &d));
    assert_string_equal(d.items[0].text, "t.csv:3: f is not a number: \"one\"");
    mq_diags_free(&d);
    assert_null(load("years,f\n16,1.0\n", keys, 1, &d));
    assert_string_equal(d.items[0].text,
                        "t.csv:1: missing key column \"age\" (the header's columns: \"years\", "
                        "\"f\")");
    mq_diags_free(&d);
    /* a spreadsheet saved with semicolons: one column named "age;f" */
    assert_null(load("age;f\n16;1.0\n", keys, 1, &d));
    assert_string_equal(d.items[0].text,
                        "t.csv:1: missing key column \"age\" (the header's columns: \"age;f\"): "
                        "columns are separated by commas, not semicolons or tabs");
    mq_diags_free(&d);
    /* a key column copied: its second copy is no value column */
    assert_null(load("age,f,age\n16,1.0,16\n", keys, 1, &d));
    assert_string_equal(d.items[0].text, "t.csv:1: column \"age\" appears twice");
    mq_diags_free(&d);
    assert_null(load("age,f\n16,1.0,3\n", keys, 1, &d));
    assert_string_equal(d.items[0].text, "t.csv:2: 3 fields, the header has 2");
    mq_diags_free(&d);
    /* a word processor's en dash, and spaces, in a band: the plain band */
    assert_null(load("age,f\n16\xE2\x80\x93"
                     "17,1\n",
                     keys, 1, &d));
    assert_string_equal(d.items[0].text, "t.csv:2: key \"age\" is not a value, band or *: "
                                         "\"16\xE2\x80\x93"
                                         "17\" (a band is written with a "
                                         "plain hyphen and no spaces: \"16-17\")");
    mq_diags_free(&d);
    assert_null(load("age,f\n16 - 17,1\n", keys, 1, &d));
    assert_string_equal(d.items[0].text, "t.csv:2: key \"age\" is not a value, band or *: "
                                         "\"16 - 17\" (a band is written with a plain hyphen and "
                                         "no spaces: \"16-17\")");
    mq_diags_free(&d);
    assert_null(load("age,f\n1 6,1\n", keys, 1, &d));
    assert_string_equal(d.items[0].text, "t.csv:2: key \"age\" is not a value, band or *: \"1 6\"");
    mq_diags_free(&d);
    assert_null(load("age,f\n\"16,1\n", keys, 1, &d));
    assert_int_equal(d.count, 1);
    mq_diags_free(&d);
}

/* A header with no rows would fail every quote: it fails the plan instead. */
static void a_table_without_rows_is_an_error(void **state)
{
    (void)state;
    const char *keys[] = {"age"};
    mq_diags d = {0};
    assert_null(load("# ages\nage,f\n# none yet\n", keys, 1, &d));
    assert_int_equal(d.count, 1);
    assert_string_equal(d.items[0].text, "t.csv:2: no rows: the header is followed by no rates");
    mq_diags_free(&d);
}

static void dash_or_empty_value_means_not_offered(void **state)
{
    (void)state;
    const char *keys[] = {"deductible"};
    mq_diags d = {0};
    mq_table *t = load("deductible,comp,coll\n100,1.30,-\n250,1.15,\n", keys, 1, &d);
    assert_true(t && mq_table_compile(t, &d));
    double k = 100;
    assert_true(mq_table_lookup(t, &k, 0) == 1.30);
    assert_true(isnan(mq_table_lookup(t, &k, 1)));
    k = 250;
    assert_true(isnan(mq_table_lookup(t, &k, 1)));
    mq_table_free(t);
    mq_diags_free(&d);
}

static void large_sparse_keys_use_search(void **state)
{
    (void)state;
    const char *keys[] = {"limit"};
    mq_diags d = {0};
    mq_table *t = load("limit,f\n25000,1\n1000001,2\n10000000,3\n", keys, 1, &d);
    assert_true(t && mq_table_compile(t, &d));
    assert_null(t->maps[0].dense); /* no grid: the span is too wide for a direct index */
    assert_true(look1(t, 1000001) == 2);
    assert_true(look1(t, 10000000) == 3);
    assert_true(isnan(look1(t, 1000000)));
    mq_table_free(t);
    mq_diags_free(&d);
}

/* Bounds on a coarse grid (limits in steps of 25000) get a direct index;
 * values off the grid, between bounds, below and above them still find
 * exactly the rows a search finds. */
static void limits_on_a_grid_use_a_direct_index(void **state)
{
    (void)state;
    const char *keys[] = {"limit"};
    mq_diags d = {0};
    mq_table *t =
        load("limit,f\n25000,1\n100000,2\n300000-500000,3\n1000000+,4\n*,9\n", keys, 1, &d);
    assert_true(t && mq_table_compile(t, &d));
    assert_non_null(t->maps[0].dense);
    assert_true(t->maps[0].dense_step == 25000);
    static const struct {
        double x, want;
    } cases[] = {{25000, 1},   {100000, 2},    {300000, 3},     {412345.5, 3}, {500000, 3},
                 {1000000, 4}, {5e7, 4},       {24999.5, 9},    {0, 9},        {-3, 9},
                 {25001, 9},   {99999.999, 9}, {500000.001, 9}, {525000, 9},   {999999, 9}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_true(look1(t, cases[i].x) == cases[i].want);
    assert_true(isnan(look1(t, NAN)));
    mq_table_free(t);
    mq_diags_free(&d);
}

/* A key fits its column only by type: a boolean never matches a number
 * column (true is not points = 1), a number never matches true/false, a
 * date matches nothing; a stray cell is named at its line with what the
 * column takes. */
static void keys_must_fit_their_columns_type(void **state)
{
    (void)state;
    const char *keys[] = {"age", "married"};
    mq_diags d = {0};
    char why[256];
    mq_table *t = load("age,married,f\n16-17,false,2.6\n75+,true,1.1\n", keys, 2, &d);
    assert_non_null(t);
    assert_false(mq_table_bind_key(t, 0, MQ_T_BOOL, MQ_DOM_NONE, &d, why, sizeof why));
    assert_string_equal(why, "is a boolean but column age of t.csv holds numbers (16-75+)");
    assert_false(mq_table_bind_key(t, 1, MQ_T_NUMBER, MQ_DOM_NONE, &d, why, sizeof why));
    assert_string_equal(why,
                        "is a number but column married of t.csv holds booleans (true, false)");
    assert_false(mq_table_bind_key(t, 0, MQ_T_DATE, MQ_DOM_NONE, &d, why, sizeof why));
    assert_string_equal(why, "is a date: no table is keyed by dates (look up year(), age() or "
                             "months_between() of it)");
    assert_false(mq_table_bind_key(t, 1, MQ_T_ENUM, MQ_DOM_MARITAL, &d, why, sizeof why));
    assert_true(mq_table_bind_key(t, 0, MQ_T_NUMBER, MQ_DOM_NONE, &d, why, sizeof why));
    assert_true(mq_table_bind_key(t, 1, MQ_T_BOOL, MQ_DOM_NONE, &d, why, sizeof why));
    assert_false(mq_table_bind_key(t, 1, MQ_T_NUMBER, MQ_DOM_NONE, &d, why, sizeof why));
    assert_string_equal(why, "table t key married is looked up with two different kinds of value");
    assert_int_equal(d.count, 0);
    mq_table_free(t);

    t = load("age,married,f\n16-17,false,2.6\n16-17,yes,2.4\n", keys, 2, &d);
    assert_non_null(t);
    assert_false(mq_table_bind_key(t, 1, MQ_T_BOOL, MQ_DOM_NONE, &d, why, sizeof why));
    assert_string_equal(why, "");
    assert_int_equal(d.count, 1);
    assert_string_equal(d.items[0].text,
                        "t.csv:3: key married takes true, false or *, not \"yes\"");
    mq_table_free(t);
    mq_diags_free(&d);
}

/* Reads path as table t.csv with one key "zip"; the first message. */
static char *read_error(const char *path)
{
    const char *keys[] = {"zip"};
    mq_diags d = {0};
    assert_null(mq_table_read(path, "t.csv", "plan.yaml:3: table t", "t", keys, 1, &d));
    assert_int_equal(d.count, 1);
    char *m = strdup(d.items[0].text);
    mq_diags_free(&d);
    return m;
}

/* Only regular files are read (a device never ends, a FIFO blocks), and
 * their size is checked before reading; the message names the plan.yaml
 * line that refers to the file. */
static void only_regular_files_within_the_limit_are_read(void **state)
{
    (void)state;
    char dir[] = "/tmp/mq_test_table_XXXXXX", path[128], *m;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/zero.csv", dir);
    assert_int_equal(symlink("/dev/zero", path), 0);
    m = read_error(path);
    assert_string_equal(m, "plan.yaml:3: table t: t.csv: is a device, not a regular file");
    free(m);
    snprintf(path, sizeof path, "%s/fifo.csv", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    m = read_error(path);
    assert_string_equal(m, "plan.yaml:3: table t: t.csv: is a FIFO, not a regular file");
    free(m);
    m = read_error(dir);
    assert_string_equal(m, "plan.yaml:3: table t: t.csv: is a folder, not a regular file");
    free(m);
    snprintf(path, sizeof path, "%s/big.csv", dir);
    FILE *f = fopen(path, "w");
    fputs("zip,territory\n", f);
    fclose(f);
    assert_int_equal(truncate(path, MQ_TABLE_MAX_FILE + 1), 0);
    m = read_error(path);
    assert_string_equal(m, "plan.yaml:3: table t: t.csv: larger than 16777216 bytes");
    free(m);
    snprintf(path, sizeof path, "%s/none.csv", dir);
    m = read_error(path);
    assert_string_equal(m, "plan.yaml:3: table t: t.csv: cannot open: No such file or directory");
    free(m);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);

    /* a table of several MiB (300000 ZIPs) is fine */
    size_t cap = 300000 * 16, n = 0;
    char *text = malloc(cap);
    n += (size_t)sprintf(text, "zip,territory\n");
    for (int z = 0; z < 300000; z++)
        n += (size_t)sprintf(text + n, "%d,%d\n", 100000 + z, z % 7 + 1);
    const char *keys[] = {"zip"};
    mq_diags d = {0};
    mq_table *t = load(text, keys, 1, &d);
    free(text);
    assert_true(n > 2 * 1024 * 1024);
    assert_non_null(t);
    assert_true(mq_table_compile(t, &d));
    assert_true(look1(t, 100008) == 2);
    mq_table_free(t);
    mq_diags_free(&d);
}

/* An unclosed quote is named at the line it opens, in our words; a byte
 * order mark before the header is skipped, as in plan.yaml. */
static void quotes_and_byte_order_marks(void **state)
{
    (void)state;
    const char *keys[] = {"territory"};
    mq_diags d = {0};
    assert_null(load("territory,f\n1,1.0\n\"2,1.1\n3,1.2\n# x\n4,1.3\n", keys, 1, &d));
    assert_int_equal(d.count, 1);
    assert_string_equal(d.items[0].text, "t.csv:3: a quoted field is not closed");
    mq_diags_free(&d);
    assert_null(load("territory,f\n1,1.0\n2,1\"x\n", keys, 1, &d));
    assert_string_equal(d.items[0].text, "t.csv:3: malformed CSV (a quote inside an unquoted "
                                         "field, or text after a closing quote)");
    mq_diags_free(&d);
    mq_table *t = load("\xEF\xBB\xBFterritory,f\n1,1.5\n\"2\",\"2.5\"\n", keys, 1, &d);
    assert_non_null(t);
    assert_true(mq_table_compile(t, &d));
    assert_int_equal(d.count, 0);
    assert_true(look1(t, 1) == 1.5 && look1(t, 2) == 2.5);
    mq_table_free(t);
    mq_diags_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exact_beats_band_beats_default),
        cmocka_unit_test(open_and_closed_bounds),
        cmocka_unit_test(bands_and_plus),
        cmocka_unit_test(two_keys_with_booleans_and_value_columns),
        cmocka_unit_test(symbols_bind_to_an_enum),
        cmocka_unit_test(unknown_symbol_is_an_error_with_its_line),
        cmocka_unit_test(a_misspelt_symbol_is_not_also_an_overlap),
        cmocka_unit_test(keys_in_the_wrong_order_are_one_error_not_one_a_row),
        cmocka_unit_test(overlapping_bands_are_an_error_naming_both_lines),
        cmocka_unit_test(bad_cells_are_errors_with_their_lines),
        cmocka_unit_test(a_table_without_rows_is_an_error),
        cmocka_unit_test(dash_or_empty_value_means_not_offered),
        cmocka_unit_test(large_sparse_keys_use_search),
        cmocka_unit_test(limits_on_a_grid_use_a_direct_index),
        cmocka_unit_test(keys_must_fit_their_columns_type),
        cmocka_unit_test(only_regular_files_within_the_limit_are_read),
        cmocka_unit_test(quotes_and_byte_order_marks),
    };
    return cmocka_run_group_tests_name("table", tests, NULL, NULL);
}
