/* breaker.c -- the circuit breaker of one remote carrier.
 *
 * Closed: every call goes out; each failure (error or timeout) adds to a
 * count of consecutive failures, each success clears it. When the count
 * reaches the carrier's limit the circuit opens: calls are skipped (the
 * shopper sees "unavailable") until the cool-down ends. Then it is half
 * open: the next call goes out as the one probe while others are still
 * skipped; the probe's success closes the circuit, its failure opens it for
 * another cool-down. Pure state and time in, verdict out: the fan-out thread
 * owns each breaker, and tests drive it with their own clock.
 */
#include "remote.h"

mq_breaker_verdict mq_breaker_admit(mq_breaker *b, int64_t now_ms)
{
    switch (b->state) {
    case MQ_BREAKER_CLOSED:
        return MQ_BREAKER_ASK;
    case MQ_BREAKER_OPEN:
        if (now_ms < b->open_until)
            return MQ_BREAKER_SKIP;
        b->state = MQ_BREAKER_HALF_OPEN;
        b->probing = false;
        __attribute__((fallthrough)); /* the first call after the cool-down probes */
    case MQ_BREAKER_HALF_OPEN:
        if (b->probing)
            return MQ_BREAKER_SKIP;
        b->probing = true;
        return MQ_BREAKER_PROBE;
    }
    return MQ_BREAKER_SKIP;
}

static void open_circuit(mq_breaker *b, const mq_remote_carrier *c, int64_t now_ms)
{
    b->state = MQ_BREAKER_OPEN;
    b->open_until = now_ms + c->breaker_cooldown_ms;
    b->probing = false;
}

void mq_breaker_record(mq_breaker *b, bool ok, const mq_remote_carrier *c, int64_t now_ms)
{
    if (ok) {
        b->failures = 0;
        b->state = MQ_BREAKER_CLOSED;
        b->probing = false;
        return;
    }
    b->failures++;
    if (b->state == MQ_BREAKER_HALF_OPEN || b->failures >= c->breaker_failures)
        open_circuit(b, c, now_ms);
}

const char *mq_breaker_state_name(mq_breaker_state s)
{
    switch (s) {
    case MQ_BREAKER_CLOSED:
        return "closed";
    case MQ_BREAKER_OPEN:
        return "open";
    case MQ_BREAKER_HALF_OPEN:
        return "half_open";
    }
    return "?";
}
