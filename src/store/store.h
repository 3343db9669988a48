/* store.h -- saved quotes (prefix mq_store_).
 *
 * Every quote is kept with its request, its response, the plan version each
 * carrier was rated with, and the applicant's contact consent with its time,
 * so a quote can be shown again and re-rated later (`multiquote requote`).
 * The embedded implementation is SQLite in WAL mode; one mq_store may be
 * used by several threads (calls are serialised inside).
 */
#ifndef MQ_STORE_H
#define MQ_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mq_store mq_store;

typedef struct mq_store_quote {
    char id[32];         /* "q_" + 26 base32 characters: 128 random bits */
    char created_at[24]; /* RFC 3339 UTC, "2026-11-29T10:15:02Z" */
    const char *line;
    const char *effective_date;
    const char *request;  /* JSON text */
    const char *response; /* JSON text */
    bool consent_contact;
    char consent_at[24]; /* when consent was given; "" when not */
} mq_store_quote;

/* Opens (creating and migrating) the database at `path`. NULL with a
 * message in err on failure. */
mq_store *mq_store_open(const char *path, char *err, size_t errlen);
void mq_store_close(mq_store *s);

/* Fills q->id with a new random id and q->created_at with the time now. */
bool mq_store_new_id(mq_store_quote *q);

/* Saves a quote (durably, before returning; see store_sqlite.c). The plan
 * version each carrier was rated with is in the response itself. */
bool mq_store_save(mq_store *s, const mq_store_quote *q, char *err, size_t errlen);

/* The same, without waiting: `done(arg, ok)` runs on the writer thread once
 * the quote is durable (or the batch failed). q and every string it points
 * to must stay valid until then. False when it could not be queued. */
typedef void (*mq_store_done_fn)(void *arg, bool ok);
bool mq_store_save_async(mq_store *s, const mq_store_quote *q, mq_store_done_fn done, void *arg);

/* A loaded quote: every string is owned by it (mq_store_loaded_free). */
typedef struct mq_store_loaded {
    mq_store_quote q;
    char *strings; /* one block holding every text */
} mq_store_loaded;

/* Returns 1 found, 0 not found, -1 error (message in err). */
int mq_store_get(mq_store *s, const char *id, mq_store_loaded *out, char *err, size_t errlen);
void mq_store_loaded_free(mq_store_loaded *l);

/* Counts saved quotes (for metrics and tests); -1 on error. */
int64_t mq_store_count(mq_store *s);

#endif
