/* ratelimit.h -- per-client token buckets (prefix mq_rl_).
 *
 * Each client address has a bucket of `burst` tokens that refills at `rate`
 * tokens per second; a request takes one token or is refused with the number
 * of seconds after which it would get one. The table of buckets has a fixed
 * size (MQ_RL_SHARDS x MQ_RL_SLOTS), so a flood of addresses evicts the
 * least recently seen clients instead of growing memory; each shard has its
 * own lock, so the server's threads rarely wait on each other. Time is
 * passed in by the caller (nanoseconds of a monotonic clock), which keeps
 * the arithmetic testable with a made-up clock.
 */
#ifndef MQ_RATELIMIT_H
#define MQ_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

enum { MQ_RL_SHARDS = 64, MQ_RL_SLOTS = 256, MQ_RL_PROBE = 8 };

/* A client's key: 16 bytes (an IPv4 address is mapped to ::ffff:a.b.c.d; an
 * IPv6 address is cut to its /64 network, what one subscriber gets). */
typedef struct mq_rl_key {
    uint8_t bytes[16];
} mq_rl_key;

typedef struct mq_rl mq_rl;

/* A limiter of `rate` requests per second with bursts of `burst` (>= 1);
 * `seed` keys the hash that spreads addresses over shards. NULL when out of
 * memory or when rate <= 0 or burst < 1. Free with mq_rl_free. */
mq_rl *mq_rl_new(double rate, double burst, uint64_t seed);
void mq_rl_free(mq_rl *rl);

/* Takes one token of `key`'s bucket at time `now_ns` (> 0, never going
 * back). True when allowed; false when refused, with *retry_after_s set to
 * the whole seconds (>= 1) until a token is back. */
bool mq_rl_take(mq_rl *rl, const mq_rl_key *key, int64_t now_ns, int *retry_after_s);

/* The tokens `key` has at `now_ns` without taking one (burst when unknown). */
double mq_rl_tokens(mq_rl *rl, const mq_rl_key *key, int64_t now_ns);

/* How many clients the table holds now (at most MQ_RL_SHARDS * MQ_RL_SLOTS). */
int mq_rl_clients(mq_rl *rl);

/* The key of a textual IPv4 or IPv6 address; false when it is neither. */
bool mq_rl_key_from_text(const char *addr, mq_rl_key *key);
/* The key of a socket address (struct sockaddr_in or sockaddr_in6). */
bool mq_rl_key_from_sockaddr(const void *sockaddr, mq_rl_key *key);

/* A whole client address, 16 bytes (IPv4 as ::ffff:a.b.c.d, so an IPv4
 * client seen through a dual-stack IPv6 socket is the same address): what a
 * trusted proxy is compared with, where a key's /64 would also match the
 * proxy's neighbours. */
typedef struct mq_rl_addr {
    uint8_t bytes[16];
} mq_rl_addr;

/* The whole address of a textual IPv4 or IPv6 address; false when neither. */
bool mq_rl_addr_from_text(const char *text, mq_rl_addr *addr);
/* The whole address of a struct sockaddr_in or sockaddr_in6; false otherwise. */
bool mq_rl_addr_from_sockaddr(const void *sockaddr, mq_rl_addr *addr);
/* The key of a whole address (an IPv6 address cut to its /64). */
void mq_rl_key_of(const mq_rl_addr *addr, mq_rl_key *key);

#endif
