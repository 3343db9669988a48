/* test_jsonread.c -- mq_jr_load reads JSON exactly as jansson's json_loadb:
 * the same outcome, the same tree (types, values, key order, string bytes,
 * compared by a walk and by json_dumps) and the same error (text, line,
 * column, position) for every JSON file and NDJSON line in the repository,
 * every fuzz seed, a table of tricky inputs and a seeded mutation loop over
 * the example requests; and the fast path really answers for the example
 * requests (mq_jr_fast), so a reader that always fell back would fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "support.h"

#include "jsonread_internal.h"
#include "jsontext.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const size_t both_flags[] = {0, JSON_REJECT_DUPLICATES};

/* ---- Comparing with json_loadb ----------------------------------------- */

static bool same_tree(json_t *a, json_t *b);

static bool same_object(json_t *a, json_t *b)
{
    if (json_object_size(a) != json_object_size(b))
        return false;
    void *ia = json_object_iter(a), *ib = json_object_iter(b);
    for (; ia && ib; ia = json_object_iter_next(a, ia), ib = json_object_iter_next(b, ib)) {
        size_t n = json_object_iter_key_len(ia);
        if (n != json_object_iter_key_len(ib) ||
            memcmp(json_object_iter_key(ia), json_object_iter_key(ib), n) != 0 ||
            !same_tree(json_object_iter_value(ia), json_object_iter_value(ib)))
            return false;
    }
    return !ia && !ib;
}

static bool same_array(json_t *a, json_t *b)
{
    if (json_array_size(a) != json_array_size(b))
        return false;
    for (size_t i = 0; i < json_array_size(a); i++)
        if (!same_tree(json_array_get(a, i), json_array_get(b, i)))
            return false;
    return true;
}

/* Same types (integer and real apart), values (reals bit for bit), key order
 * and string bytes. */
static bool same_tree(json_t *a, json_t *b)
{
    if (json_typeof(a) != json_typeof(b))
        return false;
    switch (json_typeof(a)) {
    case JSON_OBJECT:
        return same_object(a, b);
    case JSON_ARRAY:
        return same_array(a, b);
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b) &&
               memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
    case JSON_INTEGER:
        return json_integer_value(a) == json_integer_value(b);
    case JSON_REAL: {
        double x = json_real_value(a), y = json_real_value(b);
        return memcmp(&x, &y, sizeof x) == 0;
    }
    default:
        return true;
    }
}

static void assert_same_dump(json_t *a, json_t *b, const char *what)
{
    char *da = json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY);
    char *db = json_dumps(b, JSON_COMPACT | JSON_ENCODE_ANY);
    assert_non_null(da);
    assert_non_null(db);
    if (strcmp(da, db) != 0)
        fail_msg("%s: dumps differ:\n  mq_jr_load: %.300s\n  json_loadb: %.300s", what, da, db);
    free(da);
    free(db);
}

static void assert_same_error(const json_error_t *a, const json_error_t *b, const char *what)
{
    if (strcmp(a->text, b->text) != 0 || a->line != b->line || a->column != b->column ||
        a->position != b->position || strcmp(a->source, b->source) != 0)
        fail_msg("%s: errors differ:\n  mq_jr_load: %d:%d@%d %s: %s\n  json_loadb: %d:%d@%d %s: %s",
                 what, a->line, a->column, a->position, a->source, a->text, b->line, b->column,
                 b->position, b->source, b->text);
}

/* mq_jr_load and json_loadb agree on buf[0..len) with `flags`: both fail
 * with the same error, or both return the same tree and leave the same
 * *err. Returns whether the fast path answered on its own. */
static bool check_same(const char *buf, size_t len, size_t flags, const char *what)
{
    json_error_t ea, eb;
    memset(&ea, 0x5a, sizeof ea);
    memset(&eb, 0x5a, sizeof eb);
    json_t *a = mq_jr_load(buf, len, flags, &ea);
    json_t *b = json_loadb(buf, len, flags, &eb);
    if (!a != !b)
        fail_msg("%s (flags %zu): mq_jr_load %s, json_loadb %s (%s)", what, flags,
                 a ? "parsed" : "failed", b ? "parsed" : "failed", a ? eb.text : ea.text);
    assert_same_error(&ea, &eb, what);
    if (a) {
        assert_same_dump(a, b, what);
        if (!same_tree(a, b))
            fail_msg("%s: trees differ in types, values or key order", what);
    }
    json_decref(a);
    json_decref(b);

    json_t *fast = NULL;
    bool answered = mq_jr_fast(buf, len, flags, &fast);
    if (answered != (fast != NULL))
        fail_msg("%s: mq_jr_fast's answer and tree disagree", what);
    if (answered && !b) /* b is freed: only whether it parsed matters here */
        fail_msg("%s: the fast path parsed text jansson rejects", what);
    json_decref(fast);
    return answered;
}

static bool check_both_flags(const char *buf, size_t len, const char *what)
{
    bool answered = false;
    for (size_t i = 0; i < sizeof both_flags / sizeof *both_flags; i++)
        answered |= check_same(buf, len, both_flags[i], what);
    return answered;
}

/* ---- 1. Every JSON text in the repository -------------------------------- */

typedef struct corpus_count {
    int texts, fast;
} corpus_count;

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void check_lines(const char *text, size_t len, const char *path, corpus_count *count)
{
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        count->fast += check_both_flags(p, n, path);
        count->texts++;
        p += n + 1;
    }
}

/* A .json file whole; an NDJSON file (and a fuzz seed, whatever it holds)
 * line by line too. */
static void check_file(const char *path, corpus_count *count)
{
    bool json = ends_with(path, ".json"),
         ndjson = ends_with(path, ".ndjson") || ends_with(path, ".jsonl");
    bool seed = strstr(path, "tests/fuzz/corpus/") || strstr(path, "tests/fuzz/regressions/");
    if (!json && !ndjson && !seed)
        return;
    size_t len;
    char *text = ts_read_file(path, &len);
    if (json || seed) {
        count->fast += check_both_flags(text, len, path);
        count->texts++;
    }
    if (ndjson || seed)
        check_lines(text, len, path, count);
    free(text);
}

static bool skipped_dir(const char *name)
{
    return name[0] == '.' || strncmp(name, "build", 5) == 0 || strcmp(name, "node_modules") == 0 ||
           strcmp(name, "var") == 0;
}

static void check_tree(const char *dir, corpus_count *count)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (skipped_dir(e->d_name))
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            check_tree(path, count);
        else if (S_ISREG(st.st_mode))
            check_file(path, count);
    }
    closedir(d);
}

static void every_json_file_in_the_repository(void **state)
{
    (void)state;
    corpus_count count = {0};
    check_tree(".", &count);
    print_message("# %d texts, %d answered by the fast path\n", count.texts, count.fast);
    assert_true(count.texts > 500);
    assert_true(count.fast > 100);
}

/* ---- 2. Tricky inputs ---------------------------------------------------- */

enum expect { ANY, FAST, SLOW }; /* whether the fast path must answer */

typedef struct tricky {
    const char *text;
    size_t len; /* 0: strlen(text) */
    enum expect path;
} tricky;

static const tricky tricky_inputs[] = {
    /* top level and what follows it */
    {"", 0, SLOW},
    {"   ", 0, SLOW},
    {"1", 0, SLOW},
    {"\"x\"", 0, SLOW},
    {"true", 0, SLOW},
    {"{}", 0, FAST},
    {"[]", 0, FAST},
    {" \t\r\n{ \t\r\n} \t\r\n", 0, FAST},
    {"\f{}", 0, SLOW},
    {"{}\v", 0, SLOW},
    {"{} x", 0, SLOW},
    {"{}{}", 0, SLOW},
    {"{} ,", 0, SLOW},
    {"{}\0", 3, SLOW},
    {"{", 0, SLOW},
    {"[", 0, SLOW},
    {"[1,]", 0, SLOW},
    {"[,1]", 0, SLOW},
    {"{\"a\":1,}", 0, SLOW},
    {"{\"a\" 1}", 0, SLOW},
    {"{\"a\":}", 0, SLOW},
    {"{a:1}", 0, SLOW},
    {"{'a':1}", 0, SLOW},
    {"[1 2]", 0, SLOW},
    {"[1}", 0, SLOW},
    {"{\"a\":1]", 0, SLOW},
    /* words */
    {"[true,false,null]", 0, FAST},
    {"[tru]", 0, SLOW},
    {"[truex]", 0, SLOW},
    {"[true1]", 0, SLOW},
    {"[True]", 0, SLOW},
    {"[nul]", 0, SLOW},
    {"[NaN]", 0, SLOW},
    {"[Infinity]", 0, SLOW},
    /* integers */
    {"[0,-0,1,-1,42]", 0, FAST},
    {"[9223372036854775807]", 0, FAST},
    {"[-9223372036854775808]", 0, FAST},
    {"[9223372036854775808]", 0, SLOW},
    {"[-9223372036854775809]", 0, SLOW},
    {"[9999999999999999999]", 0, SLOW},
    {"[18446744073709551616]", 0, SLOW},
    {"[100000000000000000000000]", 0, SLOW},
    {"[00]", 0, SLOW},
    {"[01]", 0, SLOW},
    {"[-01]", 0, SLOW},
    {"[-]", 0, SLOW},
    {"[-a]", 0, SLOW},
    {"[+1]", 0, SLOW},
    {"[.5]", 0, SLOW},
    /* reals */
    {"[-0.0,0.0,-0e0,0e-5]", 0, FAST},
    {"[1.5,-2.25,714.0,1018.67,0.1,0.2,0.30000000000000004]", 0, FAST},
    {"[1e308,1.7976931348623157e308,-1e308]", 0, FAST},
    {"[1e309]", 0, SLOW},
    {"[-1e309]", 0, SLOW},
    {"[1e-400,4.9e-324,2.2250738585072014e-308]", 0, FAST},
    {"[1E5,1e+5,1e-5,1E-0005,12.5e3]", 0, FAST},
    {"[1.0e22,1e23,9007199254740993.0,9007199254740992e10,123456789012345678901234567890.5]", 0,
     FAST},
    {"[0.1e1,1.7976931348623159e308]", 0, ANY},
    {"[1.]", 0, SLOW},
    {"[1.e5]", 0, SLOW},
    {"[1e]", 0, SLOW},
    {"[1e+]", 0, SLOW},
    {"[1e5.5]", 0, SLOW},
    {"[01.5]", 0, SLOW},
    {"[1.5x]", 0, SLOW},
    /* strings */
    {"[\"\",\"a\",\"caf\xc3\xa9\",\"\xe2\x82\xac\",\"\xf0\x9f\x98\x80\",\"\x7f\"]", 0, FAST},
    {"[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]", 0, FAST},
    {"[\"\\u0041\\u00e9\\u20AC\\uFFFF\\uffFE\"]", 0, FAST},
    {"[\"\\ud83d\\ude00\",\"x\\uD83D\\uDE00y\"]", 0, FAST},
    {"[\"\\ud83d\"]", 0, SLOW},
    {"[\"\\ud83dx\"]", 0, SLOW},
    {"[\"\\ud83d\\u0041\"]", 0, SLOW},
    {"[\"\\ude00\"]", 0, SLOW},
    {"[\"\\ude00\\ud83d\"]", 0, SLOW},
    {"[\"\\u0000\"]", 0, SLOW},
    {"[\"a\\u0000b\"]", 0, SLOW},
    {"{\"\\u0000\":1}", 0, SLOW},
    {"[\"\\u00\"]", 0, SLOW},
    {"[\"\\u00g0\"]", 0, SLOW},
    {"[\"\\x\"]", 0, SLOW},
    {"[\"\\\"]", 0, SLOW},
    {"[\"\\", 0, SLOW},
    {"[\"abc", 0, SLOW},
    {"[\"a\nb\"]", 0, SLOW},
    {"[\"a\tb\"]", 0, SLOW},
    {"[\"a\x01\"]", 0, SLOW},
    {"[\"a\x1f\"]", 0, SLOW},
    {"[\"a\0b\"]", 7, SLOW},
    {"[\"\xc0\xaf\"]", 0, SLOW},         /* overlong '/' */
    {"[\"\xc1\xbf\"]", 0, SLOW},         /* overlong */
    {"[\"\xe0\x80\xaf\"]", 0, SLOW},     /* overlong, 3 bytes */
    {"[\"\xf0\x80\x80\xaf\"]", 0, SLOW}, /* overlong, 4 bytes */
    {"[\"\xed\xa0\x80\"]", 0, SLOW},     /* a surrogate in UTF-8 */
    {"[\"\xf4\x90\x80\x80\"]", 0, SLOW}, /* above U+10FFFF */
    {"[\"\xf5\x80\x80\x80\"]", 0, SLOW}, /* 0xF5 */
    {"[\"\xff\"]", 0, SLOW},
    {"[\"\x80\"]", 0, SLOW},
    {"[\"\xc3\"]", 0, SLOW},
    {"[\"\xe2\x82\"]", 0, SLOW},
    {"[\"\xc3", 0, SLOW},
    {"[\"\xf4\x8f\xbf\xbf\",\"\xef\xbf\xbf\",\"\xc2\x80\"]", 0, FAST},
    {"[\xc3\xa9]", 0, SLOW},
    {"\xef\xbb\xbf{}", 0, SLOW}, /* a byte order mark */
    {"[\"long string with escapes at the end, long enough to be read eight bytes at a time "
     "\\n\\t\\u00e9\"]",
     0, FAST},
    {"{\"k\\u00e9y\":{\"n\\u00e9sted\\\"\":\"v\\u00e9lue\"},\"k\\u00e9y2\":[\"\\u00e9\"]}", 0,
     FAST},
    /* objects: order and duplicates */
    {"{\"b\":1,\"a\":2,\"c\":{\"z\":1,\"y\":[]}}", 0, FAST},
    {"{\"a\":1,\"a\":2}", 0, SLOW},
    {"{\"a\":1,\"b\":2,\"a\":3}", 0, SLOW},
    {"{\"a\":{\"x\":1},\"a\":[1]}", 0, SLOW},
    {"{\"\\u0061\":1,\"a\":2}", 0, SLOW},
    {"[{\"a\":1},{\"a\":2}]", 0, FAST},
    {"{\"\":1}", 0, FAST},
    {"{\"\":1,\"\":2}", 0, SLOW},
};

static void tricky_inputs_read_as_jansson_reads_them(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof tricky_inputs / sizeof *tricky_inputs; i++) {
        const tricky *t = &tricky_inputs[i];
        size_t len = t->len ? t->len : strlen(t->text);
        char what[64];
        snprintf(what, sizeof what, "tricky input %zu", i);
        for (size_t f = 0; f < sizeof both_flags / sizeof *both_flags; f++) {
            bool fast = check_same(t->text, len, both_flags[f], what);
            if ((t->path == FAST && !fast) || (t->path == SLOW && fast))
                fail_msg("%s (%s, flags %zu): the fast path %s", what, t->text, both_flags[f],
                         fast ? "answered" : "gave up");
        }
    }
}

/* `n` times `open`, then `middle`, then `n` times `close`. */
static char *nested(size_t n, char open, const char *middle, char close)
{
    size_t m = strlen(middle);
    char *s = malloc(2 * n + m + 1);
    assert_non_null(s);
    memset(s, open, n);
    memcpy(s + n, middle, m);
    memset(s + n + m, close, n);
    s[2 * n + m] = '\0';
    return s;
}

static void deep_nesting_read_as_jansson_reads_it(void **state)
{
    (void)state;
    static const size_t depths[] = {1, 100, 256, 257, 2047, 2048, 2049, 5000};
    for (size_t i = 0; i < sizeof depths / sizeof *depths; i++) {
        char *arrays = nested(depths[i], '[', "", ']');
        char *with_value = nested(depths[i], '[', "1", ']');
        check_both_flags(arrays, strlen(arrays), "nested arrays");
        check_both_flags(with_value, strlen(with_value), "nested arrays around a value");
        free(arrays);
        free(with_value);
    }
    /* objects, and the fast path taken when shallow */
    char deep[4096] = "";
    for (int i = 0; i < 200; i++)
        strcat(deep, "{\"a\":");
    strcat(deep, "1");
    for (int i = 0; i < 200; i++)
        strcat(deep, "}");
    assert_true(check_both_flags(deep, strlen(deep), "nested objects"));
}

/* ---- 3. Mutations of the example requests -------------------------------- */

static uint64_t next_random(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* One byte flipped, inserted or deleted; bytes drawn from JSON's own
 * characters half the time. Returns the new length. */
static size_t mutate(char *buf, size_t len, size_t cap, uint64_t *seed)
{
    static const char interesting[] = "\"\\{}[],:0123456789-+.eEu \t\n\r\x01\x7f\x80\xbf\xc3"
                                      "\xe2\xed\xf0\xf4\xf5\xff";
    uint64_t r = next_random(seed);
    char byte = (r >> 8) & 1 ? interesting[(r >> 16) % (sizeof interesting - 1)] : (char)(r >> 24);
    size_t at = len ? (size_t)((r >> 32) % len) : 0;
    switch (r % 3) {
    case 0:
        if (len)
            buf[at] = byte;
        return len;
    case 1:
        if (len + 1 > cap)
            return len;
        memmove(buf + at + 1, buf + at, len - at);
        buf[at] = byte;
        return len + 1;
    default:
        if (!len)
            return len;
        memmove(buf + at, buf + at + 1, len - at - 1);
        return len - 1;
    }
}

static void mutated_requests_read_as_jansson_reads_them(void **state)
{
    (void)state;
    static const char *examples[] = {"examples/oh-family-two-cars.json",
                                     "examples/oh-single-driver.json", "examples/oh-two-dui.json",
                                     "examples/oh-bundle-auto-home.json"};
    const char *env = getenv("MQ_JR_MUTATIONS");
    long rounds = env ? atol(env) : 200000;
    size_t n = sizeof examples / sizeof *examples, lens[4];
    char *texts[4];
    for (size_t i = 0; i < n; i++)
        texts[i] = ts_read_file(examples[i], &lens[i]);
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    char buf[16384];
    long parsed = 0;
    for (long round = 0; round < rounds; round++) {
        size_t which = (size_t)(next_random(&seed) % n), len = lens[which];
        assert_true(len + 16 <= sizeof buf);
        memcpy(buf, texts[which], len);
        int changes = 1 + (int)(next_random(&seed) % 3);
        for (int c = 0; c < changes; c++)
            len = mutate(buf, len, sizeof buf, &seed);
        char what[64];
        snprintf(what, sizeof what, "mutation round %ld", round);
        parsed += check_same(buf, len, both_flags[round & 1], what);
    }
    print_message("# %ld mutated texts, %ld answered by the fast path\n", rounds, parsed);
    for (size_t i = 0; i < n; i++)
        free(texts[i]);
}

/* ---- 4. The fast path answers for real requests ------------------------- */

static void fast_path_answers_for_the_example_requests(void **state)
{
    (void)state;
    DIR *d = opendir("examples");
    assert_non_null(d);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d)) != NULL) {
        if (!ends_with(e->d_name, ".json"))
            continue;
        char path[512];
        snprintf(path, sizeof path, "examples/%s", e->d_name);
        size_t len;
        char *text = ts_read_file(path, &len);
        for (size_t f = 0; f < sizeof both_flags / sizeof *both_flags; f++) {
            json_t *doc = NULL;
            if (!mq_jr_fast(text, len, both_flags[f], &doc))
                fail_msg("%s: the fast path gave up (flags %zu)", path, both_flags[f]);
            json_decref(doc);
        }
        free(text);
        files++;
    }
    closedir(d);
    assert_true(files >= 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_json_file_in_the_repository),
        cmocka_unit_test(tricky_inputs_read_as_jansson_reads_them),
        cmocka_unit_test(deep_nesting_read_as_jansson_reads_it),
        cmocka_unit_test(mutated_requests_read_as_jansson_reads_them),
        cmocka_unit_test(fast_path_answers_for_the_example_requests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
