/* fuzz_seal.c -- libFuzzer target: sealing a request and opening it again.
 *
 * Every saved request goes through mq_priv_seal_json and comes back through
 * mq_priv_open (src/privacy/seal.c), which since version 2 puts the box's
 * values back by walking the sealed request as sealing walked it: the two
 * walks must agree on every shape a request can have, odd ones too (nulls
 * where values were, "extra" anywhere, bundles, very deep nesting). The
 * input is any text. When it is a JSON object without "_sealed", it is
 * sealed and opened under a fixed key: the opened text must be the
 * request's compact text exactly (else abort). Any text is also opened as
 * it is, as a stored request read back from an edited or corrupt database
 * would be: it must fail cleanly or give a JSON object.
 */
#include "jsontext.h"
#include "privacy.h"

#include "fuzz_util.h"

#include <jansson.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char RING[] =
    "subject 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
    "key 1 1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100\n";
static const char QUOTE_ID[] = "q_0123456789ABCDEFGHJKMNPQRS";

static mq_priv_ring *ring(void)
{
    static mq_priv_ring *r;
    char err[256];
    if (!r && !(r = mq_priv_ring_parse(RING, "fuzz", err, sizeof err)))
        abort();
    return r;
}

/* Seals doc and opens it: the opened text must be doc's compact text. */
static void round_trip(const json_t *doc)
{
    char err[256];
    mq_priv_sealed s;
    if (!mq_priv_seal_json(ring(), QUOTE_ID, doc, &s, err, sizeof err))
        return; /* out of memory */
    /* each number in its shortest exact form, as sealing writes it */
    char *want = mq_jw_compact(doc, MQ_JW_SHORTEST);
    char *got = mq_priv_open(ring(), QUOTE_ID, s.text, err, sizeof err);
    if (want && (!got || strcmp(got, want) != 0)) {
        fprintf(stderr, "sealed: %s\nopened: %s\nwanted: %s\n", s.text, got ? got : err, want);
        abort();
    }
    free(got);
    free(want);
    mq_priv_sealed_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fz_strndup(data, size);
    if (!text)
        return 0;
    json_t *doc = json_loadb(text, size, JSON_REJECT_DUPLICATES, NULL);
    if (json_is_object(doc) && !json_object_get(doc, "_sealed"))
        round_trip(doc);
    json_decref(doc);
    char err[256];
    char *opened = mq_priv_open(ring(), QUOTE_ID, text, err, sizeof err);
    if (opened) {
        json_t *back = json_loads(opened, 0, NULL);
        if (!json_is_object(back))
            abort(); /* opening only ever gives a request */
        json_decref(back);
    }
    free(opened);
    free(text);
    return 0;
}
