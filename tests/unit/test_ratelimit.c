/* test_ratelimit.c -- the per-client token buckets (src/server/ratelimit.c)
 * with a made-up clock: bursts, refill, Retry-After, separate clients, the
 * bounded table under a flood of addresses, keys of IPv4 and IPv6 addresses
 * (from text and from socket addresses), whole addresses for the trusted
 * proxy, and many threads taking tokens at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ratelimit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define SEC 1000000000ll
#define MS  1000000ll

static mq_rl_key K(const char *addr)
{
    mq_rl_key k;
    assert_true(mq_rl_key_from_text(addr, &k));
    return k;
}

static void burst_then_refused_with_retry_after(void **state)
{
    (void)state;
    mq_rl *rl = mq_rl_new(2, 5, 42); /* 2 per second, bursts of 5 */
    assert_non_null(rl);
    mq_rl_key a = K("192.0.2.1");
    int64_t t = 10 * SEC;
    int retry = -1;
    for (int i = 0; i < 5; i++)
        assert_true(mq_rl_take(rl, &a, t, &retry));
    assert_int_equal(retry, -1); /* untouched while allowed */
    assert_false(mq_rl_take(rl, &a, t, &retry));
    assert_int_equal(retry, 1); /* one token at 2/s: half a second, said as 1 */
    mq_rl_free(rl);
}

static void refills_at_rate_up_to_burst(void **state)
{
    (void)state;
    mq_rl *rl = mq_rl_new(2, 5, 1);
    mq_rl_key a = K("192.0.2.1");
    int64_t t = SEC;
    for (int i = 0; i < 5; i++)
        assert_true(mq_rl_take(rl, &a, t, NULL));
    assert_true(mq_rl_tokens(rl, &a, t) == 0.0);
    assert_true(mq_rl_tokens(rl, &a, t + 250 * MS) == 0.5);
    assert_false(mq_rl_take(rl, &a, t + 250 * MS, NULL));
    assert_true(mq_rl_take(rl, &a, t + 500 * MS, NULL)); /* 1 token after 500 ms */
    assert_false(mq_rl_take(rl, &a, t + 500 * MS, NULL));
    /* an hour later the bucket holds the burst, not 7200 tokens */
    assert_true(mq_rl_tokens(rl, &a, t + 3600 * SEC) == 5.0);
    mq_rl_free(rl);
}

static void retry_after_rounds_up_whole_seconds(void **state)
{
    (void)state;
    mq_rl *rl = mq_rl_new(0.25, 1, 7); /* one request every 4 s */
    mq_rl_key a = K("198.51.100.7");
    int retry = 0;
    assert_true(mq_rl_take(rl, &a, SEC, &retry));
    assert_false(mq_rl_take(rl, &a, SEC, &retry));
    assert_int_equal(retry, 4);
    assert_false(mq_rl_take(rl, &a, SEC + 1500 * MS, &retry));
    assert_int_equal(retry, 3); /* 2.5 s to go, rounded up */
    assert_true(mq_rl_take(rl, &a, 5 * SEC, &retry));
    mq_rl_free(rl);
}

static void clients_have_their_own_buckets(void **state)
{
    (void)state;
    mq_rl *rl = mq_rl_new(1, 2, 3);
    mq_rl_key a = K("192.0.2.1"), b = K("192.0.2.2");
    assert_true(mq_rl_take(rl, &a, SEC, NULL));
    assert_true(mq_rl_take(rl, &a, SEC, NULL));
    assert_false(mq_rl_take(rl, &a, SEC, NULL));
    assert_true(mq_rl_take(rl, &b, SEC, NULL));
    assert_true(mq_rl_take(rl, &b, SEC, NULL));
    assert_false(mq_rl_take(rl, &b, SEC, NULL));
    assert_int_equal(mq_rl_clients(rl), 2);
    mq_rl_free(rl);
}

static void ipv6_clients_are_keyed_by_their_64(void **state)
{
    (void)state;
    mq_rl_key a = K("2001:db8:1:2::1"), b = K("2001:db8:1:2:ffff::9"), c = K("2001:db8:1:3::1");
    assert_memory_equal(a.bytes, b.bytes, 16);
    assert_memory_not_equal(a.bytes, c.bytes, 16);
    /* an IPv4 address, plain or mapped, is the same client, whole */
    mq_rl_key v4 = K("203.0.113.9"), mapped = K("::ffff:203.0.113.9"), other = K("203.0.113.10");
    assert_memory_equal(v4.bytes, mapped.bytes, 16);
    assert_memory_not_equal(v4.bytes, other.bytes, 16);
    mq_rl_key bad;
    assert_false(mq_rl_key_from_text("203.0.113", &bad));
    assert_false(mq_rl_key_from_text("not an address", &bad));
    assert_false(mq_rl_key_from_text("", &bad));
}

static mq_rl_addr A(const char *text)
{
    mq_rl_addr a;
    assert_true(mq_rl_addr_from_text(text, &a));
    return a;
}

/* What an IPv6 listening socket hands the server (accept4's sockaddr_in6),
 * keyed as the text of the same address is. */
static void socket_addresses_key_as_their_text(void **state)
{
    (void)state;
    struct sockaddr_in6 six = {.sin6_family = AF_INET6, .sin6_port = htons(8080)};
    assert_int_equal(inet_pton(AF_INET6, "2001:db8:1:2::7", &six.sin6_addr), 1);
    mq_rl_key k, want = K("2001:db8:1:2::1");
    assert_true(mq_rl_key_from_sockaddr(&six, &k));
    assert_memory_equal(k.bytes, want.bytes, 16);
    /* an IPv4 client of a dual-stack socket (::ffff:a.b.c.d) is that IPv4 client */
    assert_int_equal(inet_pton(AF_INET6, "::ffff:127.0.0.1", &six.sin6_addr), 1);
    struct sockaddr_in four = {.sin_family = AF_INET, .sin_port = htons(8080)};
    assert_int_equal(inet_pton(AF_INET, "127.0.0.1", &four.sin_addr), 1);
    mq_rl_key k4;
    assert_true(mq_rl_key_from_sockaddr(&six, &k));
    assert_true(mq_rl_key_from_sockaddr(&four, &k4));
    assert_memory_equal(k.bytes, k4.bytes, 16);
    mq_rl_addr a6, a4;
    assert_true(mq_rl_addr_from_sockaddr(&six, &a6));
    assert_true(mq_rl_addr_from_sockaddr(&four, &a4));
    assert_memory_equal(a6.bytes, a4.bytes, 16);
    struct sockaddr unix_like = {.sa_family = AF_UNIX};
    assert_false(mq_rl_key_from_sockaddr(&unix_like, &k));
    assert_false(mq_rl_addr_from_sockaddr(NULL, &a6));
}

/* The trusted proxy is one address: its neighbours in its /64 share its
 * rate-limit key but not its address. */
static void whole_addresses_tell_neighbours_apart(void **state)
{
    (void)state;
    mq_rl_addr proxy = A("2001:db8::10"), neighbour = A("2001:db8::11");
    assert_memory_not_equal(proxy.bytes, neighbour.bytes, 16);
    mq_rl_key kp, kn;
    mq_rl_key_of(&proxy, &kp);
    mq_rl_key_of(&neighbour, &kn);
    assert_memory_equal(kp.bytes, kn.bytes, 16);
    mq_rl_addr v4 = A("127.0.0.1"), mapped = A("::ffff:127.0.0.1");
    assert_memory_equal(v4.bytes, mapped.bytes, 16);
    mq_rl_addr bad;
    assert_false(mq_rl_addr_from_text("[::1]", &bad));
    assert_false(mq_rl_addr_from_text("localhost", &bad));
}

static void flood_of_addresses_keeps_the_table_bounded(void **state)
{
    (void)state;
    mq_rl *rl = mq_rl_new(1, 1, 99);
    mq_rl_key busy = K("192.0.2.200");
    assert_true(mq_rl_take(rl, &busy, SEC, NULL));
    assert_false(mq_rl_take(rl, &busy, SEC, NULL));
    char addr[64];
    for (int i = 0; i < 200000; i++) {
        snprintf(addr, sizeof addr, "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        mq_rl_key k = K(addr);
        assert_true(mq_rl_take(rl, &k, SEC + i, NULL)); /* a new client has its burst */
    }
    int n = mq_rl_clients(rl);
    assert_true(n <= MQ_RL_SHARDS * MQ_RL_SLOTS);
    assert_true(n > MQ_RL_SHARDS * MQ_RL_SLOTS * 9 / 10); /* and the table is used */
    /* the oldest client was evicted: it starts again with a full bucket */
    assert_true(mq_rl_tokens(rl, &busy, SEC + 200000) == 1.0);
    mq_rl_free(rl);
}

static void recent_client_survives_a_few_newcomers(void **state)
{
    (void)state;
    mq_rl *rl = mq_rl_new(1, 1, 5);
    mq_rl_key a = K("192.0.2.1");
    assert_true(mq_rl_take(rl, &a, SEC, NULL));
    char addr[64];
    for (int i = 0; i < 100; i++) { /* far fewer than the table holds */
        snprintf(addr, sizeof addr, "10.0.0.%d", i);
        mq_rl_key k = K(addr);
        mq_rl_take(rl, &k, SEC + 1 + i, NULL);
    }
    assert_false(mq_rl_take(rl, &a, SEC + 200, NULL)); /* still remembered, still empty */
    mq_rl_free(rl);
}

static void refuses_meaningless_settings(void **state)
{
    (void)state;
    assert_null(mq_rl_new(0, 10, 1));
    assert_null(mq_rl_new(-1, 10, 1));
    assert_null(mq_rl_new(5, 0.5, 1));
}

enum { THREADS = 4, PER_THREAD = 20000 };

typedef struct {
    mq_rl *rl;
    int allowed;
} worker_arg;

static void *take_many(void *p)
{
    worker_arg *w = p;
    mq_rl_key k = K("192.0.2.50");
    for (int i = 0; i < PER_THREAD; i++)
        w->allowed += mq_rl_take(w->rl, &k, SEC, NULL);
    return NULL;
}

static void threads_share_one_bucket_exactly(void **state)
{
    (void)state;
    mq_rl *rl = mq_rl_new(1, 1000, 11);
    pthread_t t[THREADS];
    worker_arg w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker_arg){rl, 0};
        assert_int_equal(pthread_create(&t[i], NULL, take_many, &w[i]), 0);
    }
    int allowed = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        allowed += w[i].allowed;
    }
    assert_int_equal(allowed, 1000); /* the burst, no more, no less: no lost update */
    mq_rl_free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(burst_then_refused_with_retry_after),
        cmocka_unit_test(refills_at_rate_up_to_burst),
        cmocka_unit_test(retry_after_rounds_up_whole_seconds),
        cmocka_unit_test(clients_have_their_own_buckets),
        cmocka_unit_test(ipv6_clients_are_keyed_by_their_64),
        cmocka_unit_test(socket_addresses_key_as_their_text),
        cmocka_unit_test(whole_addresses_tell_neighbours_apart),
        cmocka_unit_test(flood_of_addresses_keeps_the_table_bounded),
        cmocka_unit_test(recent_client_survives_a_few_newcomers),
        cmocka_unit_test(refuses_meaningless_settings),
        cmocka_unit_test(threads_share_one_bucket_exactly),
    };
    return cmocka_run_group_tests_name("ratelimit", tests, NULL, NULL);
}
