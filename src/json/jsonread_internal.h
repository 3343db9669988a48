/* jsonread_internal.h -- mq_jr_load's fast path on its own, for the tests.
 *
 * The tests must see whether the fast path answered (a reader that always
 * fell back to json_loadb would pass every comparison with it). Not part of
 * the module's contract: callers use mq_jr_load (jsontext.h).
 */
#ifndef MQ_JSONREAD_INTERNAL_H
#define MQ_JSONREAD_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The tree of buf[0..len) in *out (caller owns it) and true when the fast
 * path is sure it is json_loadb's; false and *out NULL when it gives up
 * (errors, \u0000, duplicate keys, depth, number range, flags other than
 * 0 and JSON_REJECT_DUPLICATES, out of memory). */
bool mq_jr_fast(const char *buf, size_t len, size_t flags, json_t **out);

#endif
