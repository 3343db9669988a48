/* fuzz_keyring.c -- libFuzzer target: the key ring's file text.
 *
 * mq_priv_ring_parse (src/privacy/keyring.c) reads a key file or MQ_KEY:
 * "subject KEY" and "key ID KEY" lines, hex or base64 keys, comments. The
 * input is any text (cut at its first NUL, as a file holding one is
 * refused before parsing). A ring that loads must be usable and say what
 * its text says: an error names "fuzz:LINE" or the whole origin; a ring's
 * current key is its highest id, and it seals a request that opens again
 * under the same ring.
 */
#include "privacy.h"

#include "fuzz_util.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char QUOTE_ID[] = "q_0123456789ABCDEFGHJKMNPQRS";
static const char REQUEST[] = "{\"line\":\"auto\",\"applicant\":{\"email\":\"a@b.c\"}}";

static void check_ring(const mq_priv_ring *r)
{
    int current = mq_priv_current_key(r);
    if (current < 1 || !mq_priv_has_key(r, current) || mq_priv_has_key(r, current + 1))
        abort();
    char err[256];
    mq_priv_sealed s;
    if (!mq_priv_seal(r, QUOTE_ID, REQUEST, strlen(REQUEST), &s, err, sizeof err))
        return; /* out of memory */
    if (s.key_id != current || strncmp(s.subject, "s_", 2) != 0)
        abort();
    char *opened = mq_priv_open(r, QUOTE_ID, s.text, err, sizeof err);
    if (opened && strcmp(opened, REQUEST) != 0)
        abort();
    free(opened);
    mq_priv_sealed_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fz_strndup(data, size);
    if (!text)
        return 0;
    char err[256] = "";
    mq_priv_ring *r = mq_priv_ring_parse(text, "fuzz", err, sizeof err);
    if (r)
        check_ring(r);
    else if (strncmp(err, "fuzz:", 5) != 0)
        abort(); /* every error names where it is */
    mq_priv_ring_free(r);
    free(text);
    return 0;
}
