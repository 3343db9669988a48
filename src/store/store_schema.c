/* store_schema.c -- the schema, its migrations and the statements, shared
 * by both backends.
 *
 * Migrations are numbered from 1; a database records the last one applied
 * (SQLite: PRAGMA user_version; PostgreSQL: a schema_migrations table).
 * Versions 1-4 are the SQLite history from before PostgreSQL existed, so a
 * PostgreSQL database starts with the table as version 4 left it and has
 * nothing to do for 2-4. From version 5 on, one text serves both. Every
 * statement uses $1, $2... which PostgreSQL and SQLite both accept.
 */
#include "store_backend.h"

const store_migration store_migrations[] = {
    {"quotes and their plan rows",
     "CREATE TABLE quotes ("
     "  id TEXT PRIMARY KEY,"
     "  created_at TEXT NOT NULL,"
     "  line TEXT NOT NULL,"
     "  effective_date TEXT NOT NULL,"
     "  request TEXT NOT NULL,"
     "  response TEXT NOT NULL,"
     "  consent_contact INTEGER NOT NULL DEFAULT 0,"
     "  consent_at TEXT NOT NULL DEFAULT ''"
     ") WITHOUT ROWID;"
     "CREATE TABLE quote_plans ("
     "  quote_id TEXT NOT NULL REFERENCES quotes(id) ON DELETE CASCADE,"
     "  carrier TEXT NOT NULL,"
     "  plan_id TEXT NOT NULL,"
     "  version TEXT NOT NULL,"
     "  status TEXT NOT NULL,"
     "  total_cents INTEGER NOT NULL,"
     "  PRIMARY KEY (quote_id, carrier)"
     ") WITHOUT ROWID;"
     "CREATE INDEX quotes_created ON quotes(created_at);",
     "CREATE TABLE quotes ("
     "  id TEXT PRIMARY KEY,"
     "  created_at TEXT NOT NULL,"
     "  line TEXT NOT NULL,"
     "  effective_date TEXT NOT NULL,"
     "  request TEXT NOT NULL,"
     "  response TEXT NOT NULL,"
     "  consent_contact INTEGER NOT NULL DEFAULT 0,"
     "  consent_at TEXT NOT NULL DEFAULT ''"
     ");"
     "CREATE INDEX quotes_created ON quotes(created_at);"},
    {"a carrier may answer with several plans (health issuers)",
     "CREATE TABLE quote_plans_2 ("
     "  quote_id TEXT NOT NULL REFERENCES quotes(id) ON DELETE CASCADE,"
     "  carrier TEXT NOT NULL,"
     "  plan_id TEXT NOT NULL,"
     "  version TEXT NOT NULL,"
     "  status TEXT NOT NULL,"
     "  total_cents INTEGER NOT NULL,"
     "  PRIMARY KEY (quote_id, carrier, plan_id)"
     ") WITHOUT ROWID;"
     "INSERT INTO quote_plans_2 SELECT quote_id, carrier, plan_id, version, status, total_cents "
     "FROM quote_plans;"
     "DROP TABLE quote_plans;"
     "ALTER TABLE quote_plans_2 RENAME TO quote_plans;",
     ""},
    {"quotes are large rows (the response is ~10 KB): an ordinary rowid table keeps them in "
     "overflow pages instead of in the index b-tree",
     "CREATE TABLE quotes_3 ("
     "  id TEXT NOT NULL UNIQUE,"
     "  created_at TEXT NOT NULL,"
     "  line TEXT NOT NULL,"
     "  effective_date TEXT NOT NULL,"
     "  request TEXT NOT NULL,"
     "  response TEXT NOT NULL,"
     "  consent_contact INTEGER NOT NULL DEFAULT 0,"
     "  consent_at TEXT NOT NULL DEFAULT ''"
     ");"
     "INSERT INTO quotes_3 (id, created_at, line, effective_date, request, response, "
     "consent_contact, consent_at) SELECT id, created_at, line, effective_date, request, response, "
     "consent_contact, consent_at FROM quotes;"
     "DROP INDEX quotes_created;"
     "DROP TABLE quotes;"
     "ALTER TABLE quotes_3 RENAME TO quotes;"
     "CREATE INDEX quotes_created ON quotes(created_at);",
     ""},
    {"the plan version of every result is in the saved response; the separate rows only cost "
     "writes",
     "DROP TABLE quote_plans;", ""},
    {"privacy: whose quote it is (subject, indexed) and the key its request is encrypted with",
     "ALTER TABLE quotes ADD COLUMN subject TEXT;"
     "ALTER TABLE quotes ADD COLUMN key_id TEXT;"
     "CREATE INDEX quotes_subject ON quotes(subject);",
     "ALTER TABLE quotes ADD COLUMN subject TEXT;"
     "ALTER TABLE quotes ADD COLUMN key_id TEXT;"
     "CREATE INDEX quotes_subject ON quotes(subject);"},
    {"PostgreSQL: compress the large texts with lz4 instead of pglz (a third of the server's CPU "
     "per saved quote went to compressing the ~10 KB response)",
     "",
     "ALTER TABLE quotes ALTER COLUMN response SET COMPRESSION lz4;"
     "ALTER TABLE quotes ALTER COLUMN request SET COMPRESSION lz4;"},
    {"SQLite: responses are packed against a dictionary, an earlier response of the same line "
     "(store_pack.c)",
     "CREATE TABLE pack_dicts (id INTEGER PRIMARY KEY, line TEXT NOT NULL, dict BLOB NOT NULL);",
     ""},
    {"SQLite: whose quote it is, in a table of its own in the order quotes are saved, instead of "
     "an index on a random subject id, which dirtied one random index page per saved quote with "
     "an email (a sixth of the CPU of such a quote); forget reads the table through",
     "CREATE TABLE quote_subjects (quote_rowid INTEGER PRIMARY KEY, subject TEXT NOT NULL);"
     "INSERT INTO quote_subjects SELECT rowid, subject FROM quotes WHERE subject IS NOT NULL;"
     "DROP INDEX quotes_subject;"
     "CREATE TRIGGER quotes_subject_saved AFTER INSERT ON quotes WHEN new.subject IS NOT NULL "
     "BEGIN INSERT INTO quote_subjects (quote_rowid, subject) VALUES (new.rowid, new.subject); END;"
     "CREATE TRIGGER quotes_subject_gone AFTER DELETE ON quotes "
     "BEGIN DELETE FROM quote_subjects WHERE quote_rowid = old.rowid; END;",
     ""},
    {"SQLite: a saved quote's subject row replaces one left at its rowid by a copy of the "
     "database that numbered the quotes anew (the sqlite3 shell's .dump read back), which "
     "refused every save of a quote with an email at that rowid",
     "DROP TRIGGER quotes_subject_saved;"
     "CREATE TRIGGER quotes_subject_saved AFTER INSERT ON quotes WHEN new.subject IS NOT NULL "
     "BEGIN INSERT OR REPLACE INTO quote_subjects (quote_rowid, subject) "
     "VALUES (new.rowid, new.subject); END;",
     ""},
    {"privacy: the quotes saved in clear, before sealing (no key_id), found without reading every "
     "quote: forget looks through them for the person's address; rotate-key, which seals them, "
     "gives them their subject, which SQLite's quote_subjects then follows",
     "CREATE INDEX IF NOT EXISTS quotes_plain ON quotes(id) WHERE key_id IS NULL;"
     "CREATE TRIGGER IF NOT EXISTS quotes_subject_changed AFTER UPDATE OF subject ON quotes "
     "WHEN new.subject IS NOT old.subject "
     "BEGIN DELETE FROM quote_subjects WHERE quote_rowid = old.rowid; "
     "INSERT OR REPLACE INTO quote_subjects (quote_rowid, subject) "
     "SELECT new.rowid, new.subject WHERE new.subject IS NOT NULL; END;",
     "CREATE INDEX IF NOT EXISTS quotes_plain ON quotes(id) WHERE key_id IS NULL;"},
    {"consent: when the applicant withdrew contact consent (NULL: never), kept beside when it "
     "was given; `multiquote leads` leaves such quotes out. Saving a quote does not write it",
     "ALTER TABLE quotes ADD COLUMN consent_withdrawn_at TEXT;",
     /* IF NOT EXISTS, as 10's: a version run again over its own work (a
      * schema_migrations row lost, tests/js/pg-ops.test.mjs) adds nothing */
     "ALTER TABLE quotes ADD COLUMN IF NOT EXISTS consent_withdrawn_at TEXT;"},
    {"SQLite: a dictionary built into a program is marked so (builtin = 1) when the store adds "
     "it; an older program's stays after an upgrade, and the texts packed against it are not "
     "packed again at open: only a dictionary that was a real quote's response is retired. The "
     "requests' rows were always built in; the response rows from before are recognised by "
     "their digest when the store opens (store_sqlite.c, sort_unmarked_dicts)",
     "ALTER TABLE pack_dicts ADD COLUMN builtin INTEGER NOT NULL DEFAULT 0;"
     "UPDATE pack_dicts SET builtin = 1 WHERE line = 'request';",
     ""},
};
const int store_nmigrations = (int)(sizeof(store_migrations) / sizeof(store_migrations[0]));

#define QUOTE_COLUMNS                                                                              \
    "id, created_at, line, effective_date, request, response, consent_contact, consent_at, "       \
    "subject, key_id"

/* A quote whole, as export and leads read it (store_record_cols' order). */
#define RECORD_COLUMNS                                                                             \
    "id, created_at, line, effective_date, request, response, consent_contact, consent_at, "       \
    "consent_withdrawn_at"

const char *const store_sql[ST_NSTMT] = {
    [ST_INSERT] = "INSERT INTO quotes (" QUOTE_COLUMNS ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
    [ST_SELECT] = "SELECT " QUOTE_COLUMNS " FROM quotes WHERE id = $1",
    [ST_COUNT] = "SELECT count(*) FROM quotes",
    [ST_DELETE_ID] = "DELETE FROM quotes WHERE id = $1",
    [ST_DELETE_BEFORE] = "DELETE FROM quotes WHERE created_at < $1",
    [ST_DELETE_SUBJECT] = "DELETE FROM quotes WHERE subject = $1",
    /* a quote that had no subject (saved in clear, before sealing) gets
     * the one sealing found; a quote's subject never changes otherwise */
    [ST_REPLACE] = "UPDATE quotes SET request = $2, key_id = $3, subject = COALESCE(subject, $4) "
                   "WHERE id = $1",
    [ST_PAGE] = "SELECT id, key_id, request FROM quotes WHERE id > $1 ORDER BY id LIMIT $2",
    [ST_PAGE_PLAIN] = "SELECT id, key_id, request FROM quotes WHERE key_id IS NULL AND id > $1 "
                      "ORDER BY id LIMIT $2",
    [ST_RECORD] = "SELECT " RECORD_COLUMNS " FROM quotes WHERE id = $1",
    /* every quote of the subject, a page at a time; through the quotes
     * themselves, not SQLite's quote_subjects (store.h says why) */
    [ST_RECORDS_OF] = "SELECT " RECORD_COLUMNS " FROM quotes WHERE subject = $1 AND id > $2 "
                      "ORDER BY id LIMIT $3",
    [ST_LEADS] = "SELECT " RECORD_COLUMNS " FROM quotes WHERE consent_contact = 1 AND "
                 "consent_withdrawn_at IS NULL AND created_at >= $1 AND ($2 = '' OR line = $2) "
                 "AND id > $3 ORDER BY id LIMIT $4",
    /* only a consent given and not yet withdrawn: the first withdrawal's
     * time stays */
    [ST_WITHDRAW] = "UPDATE quotes SET consent_withdrawn_at = $2 WHERE id = $1 AND "
                    "consent_contact = 1 AND consent_withdrawn_at IS NULL",
};

void store_insert_params(const mq_store_quote *q, const char *params[STORE_QUOTE_COLS])
{
    params[0] = q->id;
    params[1] = q->created_at;
    params[2] = q->line;
    params[3] = q->effective_date;
    params[STORE_COL_REQUEST] = q->request;
    params[STORE_COL_RESPONSE] = q->response;
    params[6] = q->consent_contact ? "1" : "0";
    params[7] = q->consent_at;
    params[8] = q->subject;
    params[9] = q->key_id;
}
