/* store_backend.h -- what store.c needs of a backend (private to src/store).
 *
 * Not part of the public surface (that is store.h). A backend is a small
 * table of functions over an opaque handle: open (and migrate), close,
 * insert a batch in one transaction, run one changing statement in its own
 * transaction, and run a query calling back once per row. Statements are
 * named by store_stmt; their SQL text is shared by both backends (SQLite
 * also reads "$1" as a parameter) and lives in store_schema.c with the
 * migrations. Parameters are always text (NULL for SQL NULL).
 */
#ifndef MQ_STORE_BACKEND_H
#define MQ_STORE_BACKEND_H

#include "store.h"

/* The outcome of a write (or a query, or a ping).
 * STORE_ERROR: the database answered with an error; nothing was stored.
 * STORE_UNREACHABLE: the database could not be reached (no connection
 * could be made, or it was lost before COMMIT was sent); nothing stored.
 * STORE_UNKNOWN: the connection was lost while COMMIT was under way, so
 * the batch may or may not be stored.
 * STORE_FATAL: the disk failed it under SQLite (I/O error, disk full,
 * fsync): the store must refuse every further write. PostgreSQL never
 * returns it: the server rolls a failed transaction back and panics
 * itself on a failed fsync, so its next transaction may be tried. */
typedef enum { STORE_OK, STORE_ERROR, STORE_UNREACHABLE, STORE_UNKNOWN, STORE_FATAL } store_rc;

typedef enum {
    ST_INSERT,         /* 10 quote columns */
    ST_SELECT,         /* id -> 10 quote columns */
    ST_COUNT,          /* -> count */
    ST_DELETE_ID,      /* id */
    ST_DELETE_BEFORE,  /* created_at bound (RFC 3339) */
    ST_DELETE_SUBJECT, /* subject */
    ST_REPLACE,        /* id, request, key_id, subject (kept when the quote has one) */
    ST_PAGE,           /* after id, limit -> id, key_id, request */
    ST_PAGE_PLAIN,     /* the same, of the quotes saved in clear (no key_id) */
    ST_RECORD,         /* id -> STORE_RECORD_COLS record columns */
    ST_RECORDS_OF,     /* subject, after id, limit -> record columns */
    ST_LEADS,          /* created_at bound, line ("": any), after id, limit -> record columns */
    ST_WITHDRAW,       /* id, time: contact consent withdrawn */
    ST_NSTMT
} store_stmt;

enum {
    STORE_QUOTE_COLS = 10,
    STORE_COL_REQUEST = 4,
    STORE_COL_RESPONSE = 5
}; /* store_insert_params' order */
/* ST_RECORD's columns: id, created_at, line, effective_date, request,
 * response, consent_contact, consent_at, consent_withdrawn_at */
enum { STORE_RECORD_COLS = 9 };

/* A quote's request and response packed ahead (mq_store_pack): NULL blob,
 * stored as text. */
struct mq_store_packed {
    unsigned char *blob[2]; /* [0] request, [1] response; malloc'd */
    int len[2];
};

extern const char *const store_sql[ST_NSTMT];

/* One schema version: the SQL that takes the database to it, per backend
 * ("" when that backend has nothing to do at this version). */
typedef struct store_migration {
    const char *what;
    const char *sqlite;
    const char *pg;
} store_migration;
extern const store_migration store_migrations[];
extern const int store_nmigrations; /* the latest version */

/* One result row: column texts (NULL for SQL NULL) and their lengths. */
typedef void (*store_row_fn)(void *arg, const char *const *cols, const size_t *lens, int ncols);

typedef struct store_ops {
    const char *name;
    /* Opens and migrates; *version receives the schema version after. */
    void *(*open)(const char *where, const mq_store_options *o, int *version, char *err,
                  size_t errlen);
    void (*close)(void *b);
    /* Inserts n quotes in one transaction (all or none). */
    store_rc (*insert_batch)(void *b, const mq_store_quote *const *qs, int n, char *err,
                             size_t errlen);
    /* mq_store_pack, on any thread; NULL for a backend that packs nothing. */
    bool (*pack)(void *b, const mq_store_quote *q, struct mq_store_packed **out);
    /* Runs a changing statement in its own transaction; *changed rows. */
    store_rc (*change)(void *b, store_stmt st, const char *const *params, int nparams,
                       int64_t *changed, char *err, size_t errlen);
    /* Runs a query, calling row for every row. */
    store_rc (*query)(void *b, store_stmt st, const char *const *params, int nparams,
                      store_row_fn row, void *arg, char *err, size_t errlen);
    /* Asks the database a trivial question, to learn whether it answers;
     * NULL for an embedded backend (nothing to reach). */
    store_rc (*ping)(void *b, char *err, size_t errlen);
    /* mq_store_erase_old_versions; NULL for a backend that keeps no such
     * copies within reach (PostgreSQL: VACUUM's, docs/privacy.md). */
    store_rc (*erase_old_versions)(void *b, char *err, size_t errlen);
} store_ops;

extern const store_ops store_sqlite_ops;
/* store_fault.c: with MQ_FAULT set (tests), makes SQLite's default VFS fail
 * one write or fsync; otherwise does nothing. Called before opening. */
void store_fault_install(void);
extern const store_ops store_pg_ops;

/* ---- store_pack.c: the SQLite backend's packed texts -------------------- */

/* A dictionary: an earlier text that a packed text refers to by id. The
 * bytes belong to whoever holds the dictionary. */
typedef struct store_dict {
    int64_t id;
    const unsigned char *bytes;
    int len;
} store_dict;
enum { STORE_DICT_MAX = 64 * 1024 }; /* LZ4 looks back 64 KiB at most */
enum { STORE_MAX_FIXED_DICTS = 16 }; /* the request's and each line's responses' */

/* A dictionary built into the program (store_request_dict.c,
 * store_response_dicts.c): made of the project's fictional examples,
 * never of a shopper's text, since it outlives every quote. */
typedef struct store_fixed_dict {
    const char *line; /* the quote line whose responses it packs; "request": requests */
    const unsigned char *bytes;
    int len;
} store_fixed_dict;
extern const store_fixed_dict store_response_dicts[];
extern const int store_response_ndicts;

/* Packs texts; one thread at a time. The dictionary last used stays
 * primed: its bytes must not change while it is in use. */
typedef struct store_packer store_packer;
store_packer *store_packer_new(void); /* NULL when memory ran out */
void store_packer_free(store_packer *p);
/* Forgets the primed dictionary: call before its bytes are freed. */
void store_packer_forget(store_packer *p);
/* The packed form of text (len bytes), against dictionary d when not NULL,
 * in a malloc'd buffer of *n bytes; NULL when memory runs out or the text
 * is too long. */
unsigned char *store_pack(store_packer *p, const char *text, size_t len, const store_dict *d,
                          int *n);
/* True when blob was packed against a dictionary; its id in *id. */
bool store_packed_dict_id(const unsigned char *blob, size_t n, int64_t *id);
/* The text of a packed blob (malloc'd, NUL-terminated), its length in
 * *len; d is the dictionary the blob names (store_packed_dict_id), or NULL.
 * NULL when the blob is not a packed text, d is not its dictionary, or it
 * does not unpack. */
char *store_unpack(const unsigned char *blob, size_t n, const store_dict *d, size_t *len);

/* store_request_dict.c: the dictionary requests are packed against, the
 * project's fictional example requests as sealing leaves them (written by
 * scripts/make_request_dict.py). */
extern const unsigned char *const store_request_dict;
extern const int store_request_dict_len;

/* The 10 text parameters of ST_INSERT for q ("0"/"1" for consent). */
void store_insert_params(const mq_store_quote *q, const char *params[STORE_QUOTE_COLS]);

#endif
