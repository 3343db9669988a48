/* privacy.h -- applicant personal data at rest (prefix mq_priv_).
 *
 * A saved quote keeps its request so it can be shown and re-rated later,
 * but the request's personal fields (names, email, phone, street, birth
 * dates, licence numbers, VINs, income, health facts, driving incidents,
 * claims, every "extra" object) never reach the database in clear:
 * mq_priv_seal moves their values into one XChaCha20-Poly1305 box
 * (libsodium) under the key ring's current key, with the quote id as
 * associated data, and mq_priv_open puts them back. (The response, which
 * the store keeps as it was answered, is not sealed: docs/privacy.md says
 * what it still tells.)
 * The key ring comes from a key file or the MQ_KEY environment variable
 * (docs/privacy.md); each key has a numeric id, the highest is current and
 * older ones stay to read what they sealed. A subject id, a keyed hash of
 * the normalised email under a separate subject key that does not change
 * when data keys rotate, lets `multiquote forget --email` find a person's
 * quotes without storing the email.
 */
#ifndef MQ_PRIVACY_H
#define MQ_PRIVACY_H

#include <stdbool.h>
#include <jansson.h>
#include <stddef.h>

typedef struct mq_priv_ring mq_priv_ring;

enum {
    MQ_PRIV_KEY_BYTES = 32,
    MQ_PRIV_MAX_KEYS = 64,
    MQ_PRIV_SUBJECT_LEN = 2 + 64 + 1, /* "s_" + 64 hex digits + NUL */
};

/* ---- The key ring ------------------------------------------------------- */

/* The key file text: lines "subject KEY" and "key ID KEY" (KEY: 64 hex
 * digits or the base64 of 32 bytes; ID: 1 to 2^31-1), "#" comments. Errors
 * read "ORIGIN:LINE: message". */
mq_priv_ring *mq_priv_ring_parse(const char *text, const char *origin, char *err, size_t errlen);

/* The ring to use: MQ_KEY when set (the key file text, or one bare KEY
 * that becomes key 1 with a subject key derived from it), else the key
 * file at `path` (NULL: var/multiquote.key). A `path` given with MQ_KEY
 * set is an error: which ring was meant is unknown. When the file does not exist
 * and `create` is true it is created with mode 0600, a random subject key
 * and a random key 1. NULL with a message in err on failure. */
mq_priv_ring *mq_priv_ring_load(const char *path, bool create, char *err, size_t errlen);

/* Adds a new random key (the highest id + 1) to the key file at `path`
 * (NULL: the default) and returns its id; -1 with a message in err (e.g.
 * when the keys come from MQ_KEY, which this program cannot change). */
int mq_priv_ring_add_key(const char *path, char *err, size_t errlen);

/* The id of the current (highest) key. */
int mq_priv_current_key(const mq_priv_ring *r);
/* Whether the ring holds key `id`. */
bool mq_priv_has_key(const mq_priv_ring *r, int id);
/* Zeroes and frees the keys. NULL is fine. */
void mq_priv_ring_free(mq_priv_ring *r);

/* ---- Sealing a request --------------------------------------------------- */

typedef struct mq_priv_sealed {
    char *text;                        /* the sealed request JSON (malloc'd) */
    int key_id;                        /* the key that sealed it */
    char subject[MQ_PRIV_SUBJECT_LEN]; /* "" when the request has no email */
} mq_priv_sealed;

/* Seals the request JSON `request` (len bytes) of quote `quote_id`: every
 * personal value is replaced by null and the values go, with their JSON
 * paths, into one box under "_sealed" (docs/privacy.md shows it). False
 * with a message in err when the text is not JSON or memory runs out. */
bool mq_priv_seal(const mq_priv_ring *r, const char *quote_id, const char *request, size_t len,
                  mq_priv_sealed *out, char *err, size_t errlen);
/* The same for a request already parsed, which is only read: the server
 * seals the tree it rated instead of parsing the text again. */
bool mq_priv_seal_json(const mq_priv_ring *r, const char *quote_id, const json_t *request,
                       mq_priv_sealed *out, char *err, size_t errlen);
void mq_priv_sealed_free(mq_priv_sealed *s);

/* The request as it was sent (compact JSON, malloc'd) from sealed text of
 * quote `quote_id`; text without a "_sealed" box comes back as it is. NULL
 * with a message in err: a key the ring lacks, a box that does not open
 * (wrong key, tampered, another quote's), or a malformed envelope. */
char *mq_priv_open(const mq_priv_ring *r, const char *quote_id, const char *sealed, char *err,
                   size_t errlen);

/* The key id a sealed text names; 0 when it holds no box, -1 malformed. */
int mq_priv_sealed_key(const char *sealed);

/* The subject id of an email address (trimmed, lower-cased): "s_" + 64 hex
 * digits of a keyed BLAKE2b hash. False for an empty address. */
bool mq_priv_subject(const mq_priv_ring *r, const char *email, char out[MQ_PRIV_SUBJECT_LEN]);

/* The subject id of a request's applicant.email, the request given as its
 * JSON text (one saved in clear, before sealing: forget finds its quotes
 * so). False when the text is not a JSON object or gives no address. */
bool mq_priv_request_subject(const mq_priv_ring *r, const char *request,
                             char out[MQ_PRIV_SUBJECT_LEN]);

#endif
