/* privacy_internal.h -- what seal.c needs of keyring.c; not public. */
#ifndef MQ_PRIVACY_INTERNAL_H
#define MQ_PRIVACY_INTERNAL_H

#include "privacy.h"

/* The 32 bytes of key `id`, or NULL when the ring lacks it. */
const unsigned char *mq_priv_key_bytes(const mq_priv_ring *r, int id);
/* The key of the subject hash. */
const unsigned char *mq_priv_subject_key(const mq_priv_ring *r);
/* Standard base64 with padding, malloc'd (seal.c); NULL without memory. */
char *mq_priv_base64(const unsigned char *bin, size_t len);

#endif
