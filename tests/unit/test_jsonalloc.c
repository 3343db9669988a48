/* test_jsonalloc.c -- jansson's memory recycled per thread (mq_ja_): freed
 * small blocks are kept and handed out again, trees read through recycled
 * blocks are the trees json_loadb reads, large blocks and blocks beyond the
 * cap go back to malloc, text jansson hands out may still be freed with
 * free(), and a tree made on one thread may be freed on another. Under
 * AddressSanitizer mq_ja_install refuses (nothing is recycled, so a use
 * after free still shows) and only the tests that hold either way run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "support.h"

#include "jsontext.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static bool recycling;

static json_t *read_example(void)
{
    size_t len;
    char *text = ts_read_file("examples/oh-family-two-cars.json", &len);
    assert_non_null(text);
    json_error_t err;
    json_t *doc = mq_jr_load(text, len, JSON_REJECT_DUPLICATES, &err);
    free(text);
    assert_non_null(doc);
    return doc;
}

static void freed_blocks_are_kept_and_handed_out_again(void **state)
{
    (void)state;
    json_t *doc = read_example();
    int before = mq_ja_kept();
    json_decref(doc);
    int kept = mq_ja_kept();
    assert_true(kept > before + 50); /* a request's tree is ~200 blocks */
    doc = read_example();
    assert_true(mq_ja_kept() < kept - 50);
    json_decref(doc);
    assert_int_equal(mq_ja_kept(), kept);
}

static void trees_on_recycled_blocks_are_what_jansson_reads(void **state)
{
    (void)state;
    for (int round = 0; round < 3; round++) {
        json_t *doc = read_example();
        size_t len;
        char *text = ts_read_file("examples/oh-family-two-cars.json", &len);
        json_error_t err;
        json_t *plain = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
        assert_non_null(plain);
        assert_true(json_equal(doc, plain));
        char *a = json_dumps(doc, JSON_COMPACT), *b = json_dumps(plain, JSON_COMPACT);
        assert_string_equal(a, b);
        free(a); /* jansson's text, allocated through mq_ja: free() still frees it */
        free(b);
        free(text);
        json_decref(plain);
        json_decref(doc);
    }
}

static void large_blocks_go_back_to_malloc(void **state)
{
    (void)state;
    char big[2000];
    memset(big, 'x', sizeof big);
    json_t *s = json_stringn(big, sizeof big);
    assert_non_null(s);
    int before = mq_ja_kept();
    json_decref(s); /* the 2001-byte text is not kept; the json_t is */
    assert_int_equal(mq_ja_kept(), before + 1);
}

static void a_thread_keeps_at_most_its_cap(void **state)
{
    (void)state;
    enum { N = 20000 };
    json_t **v = malloc(N * sizeof *v);
    assert_non_null(v);
    for (int i = 0; i < N; i++)
        assert_non_null(v[i] = json_integer(i));
    for (int i = 0; i < N; i++)
        json_decref(v[i]);
    free(v);
    int kept = mq_ja_kept();
    assert_true(kept >= 512);      /* at least one class full */
    assert_true(kept <= 16 * 512); /* and no class beyond its cap */
}

static void *make_tree(void *arg)
{
    (void)arg;
    return read_example();
}

static void a_tree_made_on_one_thread_is_freed_on_another(void **state)
{
    (void)state;
    pthread_t t;
    void *doc = NULL;
    assert_int_equal(pthread_create(&t, NULL, make_tree, NULL), 0);
    assert_int_equal(pthread_join(t, &doc), 0);
    assert_non_null(doc);
    int before = mq_ja_kept();
    json_decref(doc);
    if (recycling)
        assert_true(mq_ja_kept() > before); /* this thread keeps them now */
}

static void *read_and_free_many(void *arg)
{
    (void)arg;
    for (int i = 0; i < 50; i++)
        json_decref(read_example());
    return (void *)(intptr_t)mq_ja_kept();
}

static void threads_recycle_each_on_their_own(void **state)
{
    (void)state;
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, read_and_free_many, NULL), 0);
    for (int i = 0; i < 4; i++) {
        void *kept;
        assert_int_equal(pthread_join(t[i], &kept), 0);
        if (recycling)
            assert_true((intptr_t)kept > 50); /* freed at the thread's exit */
    }
}

int main(void)
{
    recycling = mq_ja_install();
    /* the last three hold only when blocks are recycled (not under ASan) */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(trees_on_recycled_blocks_are_what_jansson_reads),
        cmocka_unit_test(a_tree_made_on_one_thread_is_freed_on_another),
        cmocka_unit_test(threads_recycle_each_on_their_own),
        cmocka_unit_test(freed_blocks_are_kept_and_handed_out_again),
        cmocka_unit_test(large_blocks_go_back_to_malloc),
        cmocka_unit_test(a_thread_keeps_at_most_its_cap),
    };
    size_t n = sizeof tests / sizeof tests[0];
    return _cmocka_run_group_tests("test_jsonalloc", tests, recycling ? n : n - 3, NULL, NULL);
}
