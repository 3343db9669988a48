/* ratelimit.c -- per-client token buckets in a fixed-size hashed table.
 *
 * A client's key is hashed (with a random seed, so nobody can aim many
 * addresses at one shard) to a shard and a home slot. The bucket lives in
 * one of MQ_RL_PROBE slots from there: its own, else an empty one, else the
 * one seen least recently, which is evicted (its client starts again with a
 * full bucket: the price of bounded memory, paid by the longest idle). A
 * bucket stores its tokens at the time it was last seen and is refilled
 * lazily on the next request. Each shard has its own mutex, held for a few
 * dozen instructions.
 */
#include "ratelimit.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

typedef struct rl_slot {
    mq_rl_key key;
    int64_t seen_ns; /* 0: empty */
    double tokens;   /* at seen_ns */
} rl_slot;

typedef struct rl_shard {
    pthread_mutex_t lock;
    int used;
    rl_slot slots[MQ_RL_SLOTS];
} rl_shard;

struct mq_rl {
    double rate, burst;
    uint64_t seed;
    rl_shard shards[MQ_RL_SHARDS];
};

mq_rl *mq_rl_new(double rate, double burst, uint64_t seed)
{
    if (!(rate > 0) || !(burst >= 1))
        return NULL;
    mq_rl *rl = calloc(1, sizeof(*rl));
    if (!rl)
        return NULL;
    rl->rate = rate;
    rl->burst = burst;
    rl->seed = seed;
    for (int i = 0; i < MQ_RL_SHARDS; i++)
        pthread_mutex_init(&rl->shards[i].lock, NULL);
    return rl;
}

void mq_rl_free(mq_rl *rl)
{
    if (!rl)
        return;
    for (int i = 0; i < MQ_RL_SHARDS; i++)
        pthread_mutex_destroy(&rl->shards[i].lock);
    free(rl);
}

/* ---- Hashing and lookup --------------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint64_t key_hash(const mq_rl *rl, const mq_rl_key *key)
{
    uint64_t hi, lo;
    memcpy(&hi, key->bytes, 8);
    memcpy(&lo, key->bytes + 8, 8);
    return mix64(mix64(hi ^ rl->seed) ^ lo ^ (rl->seed << 1));
}

/* The slot of `key` in `sh` from `home`: its own, an empty one, or the least
 * recently seen one (then emptied). Never NULL. */
static rl_slot *find_slot(rl_shard *sh, unsigned home, const mq_rl_key *key)
{
    rl_slot *empty = NULL, *oldest = NULL;
    for (unsigned i = 0; i < MQ_RL_PROBE; i++) {
        rl_slot *s = &sh->slots[(home + i) % MQ_RL_SLOTS];
        if (s->seen_ns == 0) {
            if (!empty)
                empty = s;
            continue;
        }
        if (memcmp(&s->key, key, sizeof *key) == 0)
            return s;
        if (!oldest || s->seen_ns < oldest->seen_ns)
            oldest = s;
    }
    if (empty) {
        sh->used++;
        return empty;
    }
    oldest->seen_ns = 0; /* evicted: the caller fills it as new */
    return oldest;
}

/* The tokens of a bucket at `now_ns`, refilled since it was last seen. */
static double refilled(const mq_rl *rl, const rl_slot *s, int64_t now_ns)
{
    if (s->seen_ns == 0)
        return rl->burst;
    double elapsed = now_ns > s->seen_ns ? (double)(now_ns - s->seen_ns) / 1e9 : 0;
    double t = s->tokens + elapsed * rl->rate;
    return t < rl->burst ? t : rl->burst;
}

static rl_shard *shard_of(mq_rl *rl, const mq_rl_key *key, unsigned *home)
{
    uint64_t h = key_hash(rl, key);
    *home = (unsigned)((h >> 32) % MQ_RL_SLOTS);
    return &rl->shards[h % MQ_RL_SHARDS];
}

/* ---- Taking tokens ---------------------------------------------------------- */

bool mq_rl_take(mq_rl *rl, const mq_rl_key *key, int64_t now_ns, int *retry_after_s)
{
    unsigned home;
    rl_shard *sh = shard_of(rl, key, &home);
    pthread_mutex_lock(&sh->lock);
    rl_slot *s = find_slot(sh, home, key);
    double tokens = refilled(rl, s, now_ns);
    bool ok = tokens >= 1.0;
    if (ok)
        tokens -= 1.0;
    s->key = *key;
    s->tokens = tokens;
    s->seen_ns = now_ns;
    pthread_mutex_unlock(&sh->lock);
    if (!ok && retry_after_s) {
        double wait = ceil((1.0 - tokens) / rl->rate);
        *retry_after_s = wait < 1 ? 1 : wait > 86400 ? 86400 : (int)wait;
    }
    return ok;
}

double mq_rl_tokens(mq_rl *rl, const mq_rl_key *key, int64_t now_ns)
{
    unsigned home;
    rl_shard *sh = shard_of(rl, key, &home);
    double tokens = rl->burst;
    pthread_mutex_lock(&sh->lock);
    for (unsigned i = 0; i < MQ_RL_PROBE; i++) {
        const rl_slot *s = &sh->slots[(home + i) % MQ_RL_SLOTS];
        if (s->seen_ns && memcmp(&s->key, key, sizeof *key) == 0) {
            tokens = refilled(rl, s, now_ns);
            break;
        }
    }
    pthread_mutex_unlock(&sh->lock);
    return tokens;
}

int mq_rl_clients(mq_rl *rl)
{
    int n = 0;
    for (int i = 0; i < MQ_RL_SHARDS; i++) {
        pthread_mutex_lock(&rl->shards[i].lock);
        n += rl->shards[i].used;
        pthread_mutex_unlock(&rl->shards[i].lock);
    }
    return n;
}

/* ---- Keys ------------------------------------------------------------------- */

static void addr_from_v4(const struct in_addr *a, mq_rl_addr *addr)
{
    memset(addr, 0, sizeof *addr);
    addr->bytes[10] = 0xff;
    addr->bytes[11] = 0xff;
    memcpy(addr->bytes + 12, a, 4);
}

bool mq_rl_addr_from_text(const char *text, mq_rl_addr *addr)
{
    struct in_addr v4;
    struct in6_addr v6;
    if (inet_pton(AF_INET, text, &v4) == 1) {
        addr_from_v4(&v4, addr);
        return true;
    }
    if (inet_pton(AF_INET6, text, &v6) == 1) {
        memcpy(addr->bytes, &v6, 16);
        return true;
    }
    return false;
}

bool mq_rl_addr_from_sockaddr(const void *sockaddr, mq_rl_addr *addr)
{
    const struct sockaddr *sa = sockaddr;
    if (!sa)
        return false;
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in in;
        memcpy(&in, sa, sizeof in);
        addr_from_v4(&in.sin_addr, addr);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 in6;
        memcpy(&in6, sa, sizeof in6);
        memcpy(addr->bytes, &in6.sin6_addr, 16);
        return true;
    }
    return false;
}

void mq_rl_key_of(const mq_rl_addr *addr, mq_rl_key *key)
{
    struct in6_addr a;
    memcpy(&a, addr->bytes, 16);
    memcpy(key->bytes, addr->bytes, 16);
    if (IN6_IS_ADDR_V4MAPPED(&a))
        return; /* an IPv4 client (plain, or seen through an IPv6 socket): the whole address */
    memset(key->bytes + 8, 0, 8); /* the /64 network, what one subscriber gets */
}

bool mq_rl_key_from_text(const char *text, mq_rl_key *key)
{
    mq_rl_addr addr;
    if (!mq_rl_addr_from_text(text, &addr))
        return false;
    mq_rl_key_of(&addr, key);
    return true;
}

bool mq_rl_key_from_sockaddr(const void *sockaddr, mq_rl_key *key)
{
    mq_rl_addr addr;
    if (!mq_rl_addr_from_sockaddr(sockaddr, &addr))
        return false;
    mq_rl_key_of(&addr, key);
    return true;
}
