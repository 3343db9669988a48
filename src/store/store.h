/* store.h -- saved quotes (prefix mq_store_).
 *
 * Every quote is kept with its request, its response, the plan version each
 * carrier was rated with, and the applicant's contact consent with its time
 * (and, once withdrawn, the time of the withdrawal), so a quote can be
 * shown again and re-rated later (`multiquote requote`).
 *
 * Two backends behind this one surface, chosen by the string given to
 * mq_store_open: "postgres://..." or "postgresql://..." is a PostgreSQL
 * database reached through libpq (several nodes may share it), anything
 * else is the path of an embedded SQLite database (the default). Both have
 * the same schema and migrations, applied at open. One mq_store may be used
 * by any number of threads.
 *
 * Durability: a save returns (or calls back) only once the quote is
 * committed durably, in one transaction (all of a quote or nothing). With
 * SQLite, after a commit fails for a reason the disk gave (I/O error, disk
 * full, a failed fsync, the database file moved, replaced or deleted while
 * open) the store is "failed": it refuses every further write with a clear
 * error instead of retrying, since the operating system may have dropped
 * the unwritten pages (the "fsyncgate" lesson). Reads go on; restart the
 * process once the disk is fixed. PostgreSQL keeps its own pages: it rolls
 * a failed transaction back (disk full, SQLSTATE 53100; an I/O error) and
 * recovers from its WAL after a failed fsync, so there a failed commit
 * fails its batch's quotes only and the next batch is tried.
 */
#ifndef MQ_STORE_H
#define MQ_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef struct mq_store mq_store;

/* Quote ids: "q_" + 10 characters of time + 26 random (mq_store_new_id);
 * before 2026-11-30, "q_" + 26 random. */
enum { MQ_STORE_ID_TIME_CHARS = 10, MQ_STORE_ID_LEN = 38, MQ_STORE_ID_LEN_V1 = 28 };

typedef struct mq_store_quote {
    char id[MQ_STORE_ID_LEN + 1]; /* see mq_store_new_id */
    char created_at[24];          /* RFC 3339 UTC, "2026-11-29T10:15:02Z" */
    const char *line;
    const char *effective_date;
    const char *request;  /* JSON text (or its encryption, see key_id) */
    const char *response; /* JSON text */
    size_t response_len;  /* strlen(response) when the caller knows it; 0: not known */
    bool consent_contact;
    char consent_at[24]; /* when consent was given; "" when not */
    /* Whose quote this is, as an opaque text the caller chooses (e.g. a
     * keyed hash of the applicant's email), so every quote of one person
     * can be found and deleted; NULL when unknown. Indexed. */
    const char *subject;
    /* The id of the key `request` is encrypted with; NULL when plain. */
    const char *key_id;
    /* request and response as the backend stores them, when mq_store_pack
     * made them on the caller's thread (owned: mq_store_packed_free);
     * NULL: the store's writer packs them. */
    struct mq_store_packed *packed;
} mq_store_quote;

/* ---- Opening ------------------------------------------------------------ */

typedef struct mq_store_options {
    /* PostgreSQL: connections kept open (each with its statements prepared
     * once); 0 means 8. Reads borrow one; each writer thread borrows one
     * per commit. Ignored by SQLite (one connection writes; two read-only
     * ones read quotes by id, mq_store_get). */
    int pool_size;
    /* PostgreSQL: threads committing saves in parallel, each by group
     * commit; 0 means 2 (at most pool_size). SQLite always has one. */
    int writers;
    /* SQLite: open only a database file that is already there (commands
     * that read or change saved quotes); a missing file is an error,
     * "PATH: no database there", and no file is created; an empty file is
     * one too, "PATH: an empty file, no database there", and stays empty.
     * Without it a missing file is created (serve). PostgreSQL: no effect (a database
     * is never created). */
    bool must_exist;
    /* SQLite: when the file cannot be written (a copy on read-only media,
     * a file or folder this user may not write), open it read-only instead:
     * nothing migrated (the file must be at this program's schema), and
     * every save fails. For commands that only read (requote).
     * PostgreSQL: no effect. */
    bool may_read_only;
} mq_store_options;

/* Opens (creating and migrating) the store `where`: a postgres:// or
 * postgresql:// URI, or else a SQLite file path. Migrations are versioned
 * and run at open; several processes opening the same database at once are
 * safe (PostgreSQL: an advisory lock; SQLite: an immediate transaction).
 * opts may be NULL (defaults). NULL with a message in err on failure. */
mq_store *mq_store_open_with(const char *where, const mq_store_options *opts, char *err,
                             size_t errlen);
/* mq_store_open_with(where, NULL, ...). */
mq_store *mq_store_open(const char *where, char *err, size_t errlen);
/* Waits for queued saves to finish, then closes. NULL is fine. */
void mq_store_close(mq_store *s);

/* "sqlite" or "postgresql". */
const char *mq_store_backend(const mq_store *s);
/* The schema version the database is at after open. */
int mq_store_schema_version(const mq_store *s);
/* The schema version this program migrates to. */
int mq_store_schema_latest(void);

/* True once a SQLite write failed for a reason the disk gave (never for
 * PostgreSQL: see Durability above); msg (may be NULL) receives the first
 * such error. Every write then fails at once. */
bool mq_store_failed(mq_store *s, char *msg, size_t msglen);
/* The error of the last write that failed, fatal or not (a read-only
 * file, a busy database...), into msg; false when none has. */
bool mq_store_last_error(mq_store *s, char *msg, size_t msglen);

/* Whether the store can save, as its writers last found it: this never
 * queries the database, so it answers at once even when the database
 * hangs. Not ok when the store failed, when the last commit or ping
 * (an idle store pings a PostgreSQL database every second) could not reach
 * the database, or when a call to it has been under way for over 3 s. */
typedef struct mq_store_health_info {
    bool ok;
    char problem[400]; /* why not, when !ok */
    /* Quotes saved, as this process knows them: the count mq_store_count
     * last made (while no write of this process was under way), moved by
     * this process's commits and deletes since; -1 until counted. Another
     * process's saves and deletes since (other nodes on one PostgreSQL
     * database, a command) are not in it, nor a commit whose outcome is
     * unknown. */
    int64_t quotes;
} mq_store_health_info;
void mq_store_health(mq_store *s, mq_store_health_info *h);

/* True when the save of quote `id` failed while its COMMIT was under way
 * (the connection was lost), so it may or may not be stored; the last
 * 1,024 such quotes are remembered. id NULL: whether any save's outcome
 * was unknown in the last minute. */
bool mq_store_outcome_unknown(mq_store *s, const char *id);

/* ---- Saving ------------------------------------------------------------- */

/* The group commits written so far, the quotes they held (under load a
 * commit holds many: store.c, gather), how long each took, its flush to
 * disk included, and how long their quotes waited in all: for the commit
 * before theirs to end, then for their own. */
enum { MQ_STORE_COMMIT_BUCKETS = 10 };
extern const double mq_store_commit_bounds[MQ_STORE_COMMIT_BUCKETS]; /* seconds, rising */

typedef struct mq_store_commits {
    int64_t commits, quotes;
    double seconds; /* the commits' durations added up */
    double waited;  /* their quotes' waits added up, from being queued to being on disk */
    /* commits that took at most each bound and more than the one before;
     * the last slot: longer than every bound */
    int64_t took[MQ_STORE_COMMIT_BUCKETS + 1];
} mq_store_commits;

void mq_store_commit_stats(mq_store *s, mq_store_commits *out);

/* Packs q's request and response as the backend stores them (SQLite: LZ4
 * against its built-in dictionaries; PostgreSQL compresses by itself and
 * leaves q->packed NULL), on the caller's thread and into q->packed, so the
 * writer, whose commit every quote of a batch waits for, does not. Any
 * thread may call it, for any number of quotes at once. Optional before
 * mq_store_save and mq_store_save_async; false when memory runs out (then
 * the writer packs). q's texts must not change until the save is done. */
bool mq_store_pack(mq_store *s, mq_store_quote *q);
/* Frees q->packed (once the save is done) and sets it NULL. */
void mq_store_packed_free(mq_store_quote *q);

/* Fills q->id with a new id and q->created_at with the time now. An id is
 * "q_", 10 base-32 (Crockford) characters of the time in milliseconds, so
 * ids sort by creation, and 26 of 128 random bits, which make it
 * unguessable. False when the system has no randomness to give. */
bool mq_store_new_id(mq_store_quote *q);

/* True when id[0..len) has the shape of a quote id: the current one, or the
 * older "q_" + 26 random characters, which stay valid. */
bool mq_store_id_valid(const char *id, size_t len);

/* Saves a quote durably before returning (group commit: one transaction
 * and one fsync serve every quote queued meanwhile). */
bool mq_store_save(mq_store *s, const mq_store_quote *q, char *err, size_t errlen);

/* The same, without waiting: `done(arg, ok)` runs on a writer thread once
 * the quote is durable (or its batch failed: rolled back, or, lost during
 * COMMIT, of unknown outcome: mq_store_outcome_unknown). q and
 * every string it points to must stay valid until then. False when it
 * could not be queued (the store is closing or failed); done is then not
 * called. */
typedef void (*mq_store_done_fn)(void *arg, bool ok);
bool mq_store_save_async(mq_store *s, const mq_store_quote *q, mq_store_done_fn done, void *arg);

/* ---- Reading ------------------------------------------------------------ */

/* A loaded quote: every string is owned by it (mq_store_loaded_free). */
typedef struct mq_store_loaded {
    mq_store_quote q;
    char *strings; /* one block holding every text */
} mq_store_loaded;

/* Returns 1 found, 0 not found, -1 error (message in err). */
int mq_store_get(mq_store *s, const char *id, mq_store_loaded *out, char *err, size_t errlen);
void mq_store_loaded_free(mq_store_loaded *l);

/* Counts saved quotes (a full count: at start, and for tests); -1 on
 * error. Sets the count mq_store_health keeps. */
int64_t mq_store_count(mq_store *s);

/* ---- Privacy: deleting and re-encrypting -------------------------------- */

/* Deletes the quote `id`: 1 deleted, 0 no such quote, -1 error. */
int mq_store_delete(mq_store *s, const char *id, char *err, size_t errlen);

/* Deletes every quote created strictly before `before` (UTC seconds);
 * returns how many, or -1 on error (then none is deleted). */
int64_t mq_store_delete_before(mq_store *s, time_t before, char *err, size_t errlen);

/* Deletes every quote whose subject is `subject` (not NULL); returns how
 * many, or -1 on error (then none is deleted). */
int64_t mq_store_delete_subject(mq_store *s, const char *subject, char *err, size_t errlen);

/* One quote as the iterator shows it; the strings live until fn returns. */
typedef struct mq_store_row {
    const char *id;
    const char *key_id; /* NULL when the request is plain */
    const char *request;
} mq_store_row;

/* Return false to stop the iteration. */
typedef bool (*mq_store_each_fn)(void *arg, const mq_store_row *row);

/* Calls fn for every saved quote in id order. Rows are read in pages and
 * no lock or transaction is held while fn runs, so fn may call
 * mq_store_replace_request (quotes saved meanwhile with a greater id are
 * seen too). Returns the number of rows fn saw, or -1 on error. */
int64_t mq_store_each(mq_store *s, mq_store_each_fn fn, void *arg, char *err, size_t errlen);

/* Erases from the database's files the rows as they were before the
 * changes made so far (mq_store_replace_request leaves them, for speed:
 * call this once after a run of replaces). SQLite: the WAL, which still
 * holds every changed page as it was, is copied into the database and
 * emptied (deleted and overwritten rows were already zeroed in the file:
 * secure_delete). PostgreSQL: nothing is done (VACUUM reclaims old row
 * versions: docs/privacy.md). False with a message in err on failure. */
bool mq_store_erase_old_versions(mq_store *s, char *err, size_t errlen);

/* The same for the quotes whose request was saved in clear (key_id NULL:
 * before sealing existed), through an index of them only, so it costs
 * nothing when there are none. forget reads their addresses here. */
int64_t mq_store_each_plain(mq_store *s, mq_store_each_fn fn, void *arg, char *err, size_t errlen);

/* Replaces the request text and key_id (NULL: plain) of quote `id`, for
 * re-encryption; `subject` (NULL or "": none) becomes the quote's subject
 * when it has none (a request saved in clear, before sealing, which
 * rotate-key seals). 1 replaced, 0 no such quote, -1 error. */
int mq_store_replace_request(mq_store *s, const char *id, const char *request, const char *key_id,
                             const char *subject, char *err, size_t errlen);

/* ---- A person's quotes and their contact consent ------------------------ */

/* One saved quote whole, as `export` and `leads` read it; the strings live
 * until the function given it returns. */
typedef struct mq_store_record {
    const char *id, *created_at, *line, *effective_date;
    const char *request;      /* as saved: sealed (privacy.h opens it), or in clear */
    const char *response;     /* as answered */
    bool consent_contact;     /* the request's applicant.consent.contact */
    const char *consent_at;   /* when it was given; "" when not */
    const char *withdrawn_at; /* when it was withdrawn (mq_store_withdraw_consent); NULL: not */
} mq_store_record;

/* Return false to stop. */
typedef bool (*mq_store_record_fn)(void *arg, const mq_store_record *r);

/* Calls fn with the quote `id`: 1 found, 0 not found (fn not called), -1
 * error (message in err). */
int mq_store_get_record(mq_store *s, const char *id, mq_store_record_fn fn, void *arg, char *err,
                        size_t errlen);

/* Calls fn for every quote whose subject is `subject`, in id order, a
 * page at a time (no lock held while fn runs). It reads the quotes
 * themselves, not SQLite's table of subjects, which a copy of the database
 * made row by row can leave out of step (docs/privacy.md): a person's
 * export, or the withdrawal of their consent, must miss none of their
 * quotes. On SQLite that reads every quote (seconds for millions); on
 * PostgreSQL it goes through the subject index. How many fn saw, or -1. */
int64_t mq_store_each_record_of(mq_store *s, const char *subject, mq_store_record_fn fn, void *arg,
                                char *err, size_t errlen);

/* Calls fn, in id order, for every quote whose applicant gave contact
 * consent and has not withdrawn it, created at or after `since` (RFC 3339
 * UTC; NULL or "": any time) and of `line` (NULL or "": any). How many fn
 * saw, or -1. */
int64_t mq_store_each_lead(mq_store *s, const char *since, const char *line, mq_store_record_fn fn,
                           void *arg, char *err, size_t errlen);

/* Records that the applicant of quote `id` withdrew contact consent at
 * `at` (RFC 3339 UTC), keeping when it was given. Only a consent given and
 * not yet withdrawn is: a first withdrawal's time stays. 1 recorded, 0
 * nothing to record (no such quote, no consent given, already withdrawn),
 * -1 error. */
int mq_store_withdraw_consent(mq_store *s, const char *id, const char *at, char *err,
                              size_t errlen);

#endif
