/* cmd_privacy.c -- `multiquote rotate-key`, `forget` and `purge`.
 *
 * Saved requests hold their personal data sealed (src/privacy): rotate-key
 * adds a key to the key file and re-seals every quote under it, row by row
 * through the store's iterator (a request saved in clear, before sealing,
 * is sealed and given its subject); forget deletes every quote whose
 * subject (the keyed hash of the email) matches, and every quote saved in
 * clear whose request gives that email, or (--quote) the one quote of a
 * shopper who gave no email, by its id or link; purge deletes quotes older than a
 * number of days. The store erases what it deletes from its files
 * (secure_delete, then a WAL checkpoint). Also here: opening a saved
 * request for requote, and what cmd_rights.c shares with forget (the key
 * ring, a --quote id or link, whether a ring fits the database).
 * docs/privacy.md is the operator's guide.
 */
#include "cli.h"
#include "privacy.h"
#include "store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

mq_store *cli_open_store(const char *cmd, const cli_opts *o)
{
    char err[512];
    /* a mistyped --db is not a new database; requote only reads, so a
     * database it may not write (a copy on read-only media) will do */
    mq_store_options opts = {.must_exist = true, .may_read_only = strcmp(cmd, "requote") == 0};
    mq_store *st = mq_store_open_with(o->db ? o->db : "var/multiquote.db", &opts, err, sizeof err);
    if (!st)
        fprintf(stderr, "multiquote %s: %s\n", cmd, err);
    return st;
}

mq_priv_ring *cli_load_keys(const char *cmd, const cli_opts *o)
{
    char err[512];
    mq_priv_ring *r = mq_priv_ring_load(o->key_file, false, err, sizeof err);
    if (!r)
        fprintf(stderr, "multiquote %s: %s\n", cmd, err);
    return r;
}

char *cli_open_request(const cli_opts *o, const struct mq_store_quote *q)
{
    if (mq_priv_sealed_key(q->request) == 0) {
        char *plain = strdup(q->request); /* saved before sealing existed */
        if (!plain)
            fprintf(stderr, "multiquote requote: out of memory\n");
        return plain;
    }
    mq_priv_ring *r = cli_load_keys("requote", o);
    if (!r)
        return NULL;
    char err[512];
    char *text = mq_priv_open(r, q->id, q->request, err, sizeof err);
    if (!text)
        fprintf(stderr, "multiquote requote: %s\n", err);
    mq_priv_ring_free(r);
    return text;
}

/* ---- rotate-key ------------------------------------------------------------ */

typedef struct rotation {
    mq_store *st;
    const mq_priv_ring *keys;
    char current[16];
    int64_t resealed, already, failed;
} rotation;

/* Re-seals one saved request under the current key; a request saved in
 * clear (before sealing) is sealed, and gets the subject of its address,
 * by which forget finds it from then on. */
static bool rotate_one(void *arg, const mq_store_row *row)
{
    rotation *rt = arg;
    if (row->key_id && strcmp(row->key_id, rt->current) == 0) {
        rt->already++;
        return true;
    }
    char err[512];
    char *plain = mq_priv_open(rt->keys, row->id, row->request, err, sizeof err);
    mq_priv_sealed sealed = {0};
    if (!plain ||
        !mq_priv_seal(rt->keys, row->id, plain, strlen(plain), &sealed, err, sizeof err) ||
        mq_store_replace_request(rt->st, row->id, sealed.text, rt->current, sealed.subject, err,
                                 sizeof err) != 1) {
        fprintf(stderr, "multiquote rotate-key: %s\n", err);
        rt->failed++;
    } else {
        rt->resealed++;
    }
    if (plain) {
        memset(plain, 0, strlen(plain));
        free(plain);
    }
    mq_priv_sealed_free(&sealed);
    return true;
}

/* MQ_KEY as one bare key (the rule of mq_priv_ring_load: no "key " or
 * "subject " line), whose subject key is derived from it: there is no ring
 * to add a key to, so it cannot be rotated. */
static bool bare_env_key(const char *env)
{
    return env && *env && !strstr(env, "key ") && !strstr(env, "subject ");
}

/* Refuses what rotate-key cannot do with these options; CLI_OK when it can. */
static int rotation_usable(const cli_opts *o, const char *env)
{
    if (o->add_only && o->reseal_only) {
        fprintf(stderr, "multiquote rotate-key: --add-only and --reseal-only are the two steps of "
                        "a rotation: give one of them, or neither to do both\n");
        return CLI_USAGE;
    }
    if (bare_env_key(env) && !o->reseal_only) { /* it would re-seal nothing, as if done */
        fprintf(stderr, "multiquote rotate-key: MQ_KEY holds one bare key, which cannot be "
                        "rotated; nothing was re-encrypted (docs/privacy.md)\n");
        return CLI_USAGE;
    }
    if (o->add_only && env && *env) {
        fprintf(stderr, "multiquote rotate-key: --add-only adds a key to the key file; with MQ_KEY "
                        "set, add the key line to MQ_KEY yourself (docs/privacy.md)\n");
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* rotate-key: adds a key to the key file (not with --reseal-only, nor with
 * MQ_KEY), then re-seals every quote not under the ring's current key (not
 * with --add-only). Servers running meanwhile read the new key on SIGHUP,
 * hence the two steps for them: add, SIGHUP every server, re-seal. */
int cli_rotate_key(const cli_opts *o)
{
    char err[512];
    const char *env = getenv("MQ_KEY");
    int usable = rotation_usable(o, env);
    if (usable != CLI_OK)
        return usable;
    mq_store *st = cli_open_store("rotate-key", o); /* first: no new key for no database */
    if (!st)
        return CLI_FAIL;
    if ((!env || !*env) && !o->reseal_only) {
        int id = mq_priv_ring_add_key(o->key_file, err, sizeof err);
        if (id < 0) {
            fprintf(stderr, "multiquote rotate-key: %s\n", err);
            mq_store_close(st);
            return CLI_FAIL;
        }
        printf("added key %d to %s\n", id, o->key_file ? o->key_file : "var/multiquote.key");
    }
    if (o->add_only) {
        printf("re-encrypted nothing (--add-only): send SIGHUP to every server, then run "
               "rotate-key --reseal-only\n");
        mq_store_close(st);
        return CLI_OK;
    }
    mq_priv_ring *keys = cli_load_keys("rotate-key", o);
    if (!keys) {
        mq_store_close(st);
        return CLI_FAIL;
    }
    rotation rt = {.st = st, .keys = keys};
    snprintf(rt.current, sizeof rt.current, "%d", mq_priv_current_key(keys));
    if (env && *env && !o->reseal_only) /* nothing was added: say which key is the current one */
        printf("no key added: MQ_KEY gives the key ring, whose current key is %s (add a key "
               "line to MQ_KEY first to rotate)\n",
               rt.current);
    int64_t seen = mq_store_each(st, rotate_one, &rt, err, sizeof err);
    if (seen < 0)
        fprintf(stderr, "multiquote rotate-key: %s\n", err);
    printf("re-encrypted %lld quotes under key %s (%lld already were, %lld failed)\n",
           (long long)rt.resealed, rt.current, (long long)rt.already, (long long)rt.failed);
    /* the requests as the older keys sealed them (and any saved in clear)
     * are still in the WAL: an older key that leaves the ring, or leaks,
     * must open nothing left in the files; done on every run, so a run
     * after one that could not (or was stopped) erases them */
    bool erased = mq_store_erase_old_versions(st, err, sizeof err);
    if (!erased)
        fprintf(stderr,
                "multiquote rotate-key: the requests as they were before are still in the "
                "database's WAL: %s; run rotate-key --reseal-only again\n",
                err);
    mq_store_close(st);
    mq_priv_ring_free(keys);
    return seen < 0 || rt.failed || !erased ? CLI_FAIL : CLI_OK;
}

/* ---- forget and purge ----------------------------------------------------- */

/* The first sealed quote of a database, opened with a key ring: whether
 * the ring is the one the quotes were saved under. */
typedef struct probe {
    const mq_priv_ring *keys;
    bool found, opens;
    char err[512];
} probe;

static bool probe_one(void *arg, const mq_store_row *row)
{
    probe *p = arg;
    if (mq_priv_sealed_key(row->request) == 0)
        return true; /* saved before sealing existed: the next one */
    p->found = true;
    char *plain = mq_priv_open(p->keys, row->id, row->request, p->err, sizeof p->err);
    p->opens = plain != NULL;
    if (plain) {
        memset(plain, 0, strlen(plain));
        free(plain);
    }
    return false;
}

/* After a look for a person's quotes that found nothing: false (said) when
 * the database holds sealed quotes that this ring does not open. Its
 * subject key is then most likely not the one the quotes were saved with,
 * so "deleted 0 quotes" would tell the operator the person has no quotes
 * when the command could not find them (a node's own ring, MQ_KEY of
 * another system). */
bool cli_ring_fits(const char *cmd, mq_store *st, const mq_priv_ring *keys)
{
    probe p = {.keys = keys};
    char err[512];
    if (mq_store_each(st, probe_one, &p, err, sizeof err) < 0) {
        fprintf(stderr, "multiquote %s: %s\n", cmd, err);
        return false;
    }
    if (!p.found || p.opens)
        return true;
    fprintf(stderr,
            "multiquote %s: no quote of that address found, but this key ring does not "
            "open the database's quotes (%s): it is not the ring they were saved under, whose "
            "subject key finds a person's quotes; give that one (--key-file or MQ_KEY)\n",
            cmd, p.err);
    return false;
}

/* forget's look through the quotes saved in clear, before sealing existed:
 * they have no subject, and their request holds the address itself. */
typedef struct plain_hunt {
    mq_store *st;
    const mq_priv_ring *keys;
    const char *subject; /* the person's */
    int64_t deleted;
    bool failed;
    char err[512];
} plain_hunt;

static bool forget_plain_one(void *arg, const mq_store_row *row)
{
    plain_hunt *h = arg;
    char subject[MQ_PRIV_SUBJECT_LEN];
    if (!mq_priv_request_subject(h->keys, row->request, subject) || strcmp(subject, h->subject))
        return true;
    int rc = mq_store_delete(h->st, row->id, h->err, sizeof h->err);
    h->failed = rc < 0;
    h->deleted += rc > 0;
    return !h->failed;
}

/* Deletes the person's quotes saved in clear; how many, or -1 (said). */
static int64_t forget_plain(mq_store *st, const mq_priv_ring *keys, const char *subject)
{
    plain_hunt h = {.st = st, .keys = keys, .subject = subject};
    if (mq_store_each_plain(st, forget_plain_one, &h, h.err, sizeof h.err) < 0 || h.failed) {
        fprintf(stderr, "multiquote forget: the quotes saved in clear: %s\n", h.err);
        return -1;
    }
    return h.deleted;
}

/* The quote id in `text`: the id itself, or the quote's link
 * (https://host/q/ID, with or without a query or fragment). Points into
 * text; *len is the id's length. */
static const char *quote_id_in(const char *text, size_t *len)
{
    const char *at = strstr(text, "/q/");
    const char *id = at ? at + 3 : text;
    *len = strcspn(id, "?#/");
    return id;
}

int cli_quote_id(const char *cmd, const char *text, char id[CLI_QUOTE_ID_MAX])
{
    size_t len;
    const char *at = quote_id_in(text, &len);
    if (len == 0 || len >= CLI_QUOTE_ID_MAX) {
        fprintf(stderr, "multiquote %s: --quote: not a quote id or link: \"%s\"\n", cmd, text);
        return CLI_USAGE;
    }
    memcpy(id, at, len);
    id[len] = '\0';
    return CLI_OK;
}

/* forget --quote: the one saved quote, for a shopper who gave no email. */
static int forget_quote(const cli_opts *o)
{
    char id[CLI_QUOTE_ID_MAX], err[512];
    if (cli_quote_id("forget", o->quote, id) != CLI_OK)
        return CLI_USAGE;
    mq_store *st = cli_open_store("forget", o);
    if (!st)
        return CLI_FAIL;
    int rc = mq_store_delete(st, id, err, sizeof err);
    mq_store_close(st);
    if (rc < 0) {
        fprintf(stderr, "multiquote forget: %s\n", err);
        return CLI_FAIL;
    }
    if (rc == 0) {
        fprintf(stderr, "multiquote forget: no quote with the id %s\n", id);
        return CLI_FAIL;
    }
    printf("deleted quote %s\n", id);
    return CLI_OK;
}

int cli_forget(const cli_opts *o)
{
    if (o->quote && o->email) {
        fprintf(stderr, "multiquote forget: give --email or --quote, not both\n");
        return CLI_USAGE;
    }
    if (o->quote)
        return forget_quote(o);
    if (!o->email || !*o->email) {
        fprintf(stderr, "multiquote forget: give the person's address (--email ADDR) or a quote "
                        "id (--quote ID)\n");
        return CLI_USAGE;
    }
    mq_priv_ring *keys = cli_load_keys("forget", o);
    if (!keys)
        return CLI_FAIL;
    char subject[MQ_PRIV_SUBJECT_LEN], err[512];
    if (!mq_priv_subject(keys, o->email, subject)) {
        mq_priv_ring_free(keys);
        fprintf(stderr, "multiquote forget: --email: an empty address\n");
        return CLI_USAGE;
    }
    mq_store *st = cli_open_store("forget", o);
    if (!st) {
        mq_priv_ring_free(keys);
        return CLI_FAIL;
    }
    int64_t n = mq_store_delete_subject(st, subject, err, sizeof err);
    if (n < 0) {
        fprintf(stderr, "multiquote forget: %s\n", err);
        mq_store_close(st);
        mq_priv_ring_free(keys);
        return CLI_FAIL;
    }
    int64_t plain = forget_plain(st, keys, subject); /* said when it fails */
    bool fits =
        plain < 0 || n + plain != 0 || cli_ring_fits("forget", st, keys); /* said when not */
    mq_store_close(st);
    mq_priv_ring_free(keys);
    if (plain < 0) {
        fprintf(stderr,
                "multiquote forget: deleted %lld quotes of that address by their subject; "
                "those saved in clear are not all erased (above): run forget again\n",
                (long long)n);
        return CLI_FAIL;
    }
    if (!fits)
        return CLI_FAIL;
    printf("deleted %lld quotes of that address\n", (long long)(n + plain));
    return CLI_OK;
}

/* A whole number of days, 0 to 100 years. */
static bool parse_days(const char *text, long *days)
{
    char *end;
    errno = 0;
    long v = text ? strtol(text, &end, 10) : -1;
    if (!text || *text < '0' || *text > '9' || *end || errno || v > 36600)
        return false;
    *days = v;
    return true;
}

int cli_purge(const cli_opts *o)
{
    long days;
    if (!parse_days(o->older_than, &days)) {
        fprintf(stderr, "multiquote purge: --older-than takes a whole number of days (0 to "
                        "36600)\n");
        return CLI_USAGE;
    }
    mq_store *st = cli_open_store("purge", o);
    if (!st)
        return CLI_FAIL;
    time_t before = time(NULL) - (time_t)days * 86400;
    char err[512], when[24];
    struct tm tm;
    gmtime_r(&before, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    int64_t n = mq_store_delete_before(st, before, err, sizeof err);
    mq_store_close(st);
    if (n < 0) {
        fprintf(stderr, "multiquote purge: %s\n", err);
        return CLI_FAIL;
    }
    printf("deleted %lld quotes created before %s\n", (long long)n, when);
    return CLI_OK;
}
