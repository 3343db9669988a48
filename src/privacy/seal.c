/* seal.c -- moving a request's personal values into one encrypted box.
 *
 * Sealing walks the parsed request once with a small state table (where in
 * a request's shape the walk stands), writing the request's text as it
 * goes; for every personal field (the list below, in every line, inside a
 * bundle's parts too, and every "extra" object whole) it writes null there
 * and the value to the text of a "vault" array, in the order of the walk,
 * so the shape and key order stay and the caller's tree is never changed.
 * The vault's text is encrypted with XChaCha20-Poly1305 (a random 192-bit
 * nonce, the quote id as associated data, so a box cannot be moved to
 * another quote), and the request's text ends with
 * "_sealed": {"key": ID, "v": 4, "nonce": B64, "box": B64} as its last
 * member. Opening decrypts, walks the sealed request the same way (with the
 * fields of the box's version: see SEAL_VERSION) and puts the vault's
 * values back in order. Version 1 boxes (no "v"), which held each value
 * with its path ([["drivers", 0, "last_name"], "Okafor"], ...: twice the
 * bytes), still open. Plaintext buffers are wiped after use.
 */
#include "privacy.h"
#include "privacy_internal.h"

#include "jsontext.h"

#include <ctype.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where the walk stands in the shape of a request. Each state knows which
 * keys below it are personal (taken whole) and which lead to another state;
 * everything else is NOWHERE, where only an "extra" object is taken. */
typedef enum at {
    NOWHERE,
    TOP,  /* the request, where a bundle's parts are */
    PART, /* a bundle's auto/home/renters part: a request of its own */
    APPLICANT,
    ADDRESS, /* applicant.address */
    DRIVERS, /* the drivers array: its elements are DRIVER */
    DRIVER,
    LICENSE, /* drivers[].license */
    VEHICLES,
    VEHICLE,
    HOUSEHOLD,
    MEMBERS,
    MEMBER,
    TAKE /* a personal value */
} at;

/* The personal fields, as steps from state to state: applicant.first_name,
 * applicant.address.street, drivers[].license.number, drivers[].incidents,
 * vehicles[].vin, claims, household.income, members[].date_of_birth...
 * (docs/privacy.md). */
typedef struct step {
    at from;
    const char *key;
    at to;
    int since; /* the box version from which the step is taken */
} step;

/* The version new boxes are sealed in. Version 3 added the health facts of
 * term life (tobacco, build, health: special-category data, which version 2
 * left in clear) and the health line's members[].tobacco. Version 4 added
 * the records: each driver's incidents (DUI convictions, violations,
 * accidents: offence data), home and renters claims, and term life's
 * self-declared health_class (a tobacco class tells the tobacco answer
 * version 3 sealed). A box is opened with the steps of its own version:
 * its values are in the order of that walk. */
enum { SEAL_VERSION = 4 };

static const step steps[] = {
    {TOP, "applicant", APPLICANT, 2},
    {TOP, "drivers", DRIVERS, 2},
    {TOP, "vehicles", VEHICLES, 2},
    {TOP, "household", HOUSEHOLD, 2},
    {TOP, "members", MEMBERS, 2},
    {TOP, "auto", PART, 2},
    {TOP, "home", PART, 2},
    {TOP, "renters", PART, 2},
    {TOP, "tobacco", TAKE, 3}, /* term life */
    {TOP, "build", TAKE, 3},
    {TOP, "health", TAKE, 3},
    {TOP, "health_class", TAKE, 4},
    {TOP, "claims", TAKE, 4}, /* home, renters */
    {PART, "applicant", APPLICANT, 2},
    {PART, "drivers", DRIVERS, 2},
    {PART, "vehicles", VEHICLES, 2},
    {PART, "household", HOUSEHOLD, 2},
    {PART, "members", MEMBERS, 2},
    {PART, "claims", TAKE, 4}, /* a bundle's home or renters */
    {APPLICANT, "first_name", TAKE, 2},
    {APPLICANT, "last_name", TAKE, 2},
    {APPLICANT, "email", TAKE, 2},
    {APPLICANT, "phone", TAKE, 2},
    {APPLICANT, "date_of_birth", TAKE, 2},
    {APPLICANT, "address", ADDRESS, 2},
    {ADDRESS, "street", TAKE, 2},
    {DRIVER, "first_name", TAKE, 2},
    {DRIVER, "last_name", TAKE, 2},
    {DRIVER, "date_of_birth", TAKE, 2},
    {DRIVER, "license", LICENSE, 2},
    {DRIVER, "incidents", TAKE, 4},
    {LICENSE, "number", TAKE, 2},
    {VEHICLE, "vin", TAKE, 2},
    {HOUSEHOLD, "income", TAKE, 2},
    {MEMBER, "date_of_birth", TAKE, 2},
    {MEMBER, "tobacco", TAKE, 3},
};

/* The state of parent[key] holding `value`, in a box of `version`. */
static at step_to(at from, const char *key, const json_t *value, int version)
{
    if (key[0] == 'e' && strcmp(key, "extra") == 0)
        return TAKE;
    if (from == NOWHERE)
        return NOWHERE;
    /* first letters compared before strcmp: every key of a request comes here */
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (steps[i].from == from && steps[i].key[0] == key[0] && steps[i].since <= version &&
            strcmp(steps[i].key, key) == 0)
            /* a bundle part is a request only when it is an object */
            return steps[i].to == PART && !json_is_object(value) ? NOWHERE : steps[i].to;
    return NOWHERE;
}

/* The state of the elements of an array in state `a`. */
static at element_of(at a)
{
    return a == DRIVERS ? DRIVER : a == VEHICLES ? VEHICLE : a == MEMBERS ? MEMBER : NOWHERE;
}

enum { WALK_DEPTH_MAX = 32 };

typedef struct walk {
    mq_jw text;  /* the sealed request as it grows */
    mq_jw vault; /* "[value, ..." as it grows */
    int ntaken;
    int depth; /* of the node being written: the request's members are at 1 */
} walk;

/* Appends a personal value to the vault's text. */
static void write_entry(walk *w, const json_t *value)
{
    if (w->ntaken++)
        mq_jw_mem(&w->vault, ",", 1);
    mq_jw_value(&w->vault, value, MQ_JW_SHORTEST);
}

static void seal_node(walk *w, const json_t *node, at a);

static void seal_child(walk *w, const json_t *child, at a)
{
    w->depth++;
    seal_node(w, child, a);
    w->depth--;
}

/* The members of obj, without its braces: a personal value's text is null,
 * and the value goes to the vault. */
static void seal_members(walk *w, const json_t *obj, at a)
{
    const char *key;
    size_t key_len;
    json_t *v;
    bool first = true;
    json_object_keylen_foreach((json_t *)obj, key, key_len, v)
    {
        if (!first)
            mq_jw_mem(&w->text, ",", 1);
        first = false;
        mq_jw_strn(&w->text, key, key_len);
        mq_jw_mem(&w->text, ":", 1);
        /* a null personal value too: opening takes a value for every place */
        at next = step_to(a, key, v, SEAL_VERSION);
        if (next == TAKE) {
            write_entry(w, v);
            mq_jw_mem(&w->text, "null", 4);
        } else {
            seal_child(w, v, next);
        }
    }
}

/* Writes node's text, sealing what is personal in it; below the deepest
 * level the walk follows, the text as it is. */
static void seal_node(walk *w, const json_t *node, at a)
{
    if (w->depth > WALK_DEPTH_MAX) {
        mq_jw_value(&w->text, node, MQ_JW_SHORTEST);
    } else if (json_is_object(node)) {
        mq_jw_mem(&w->text, "{", 1);
        seal_members(w, node, a);
        mq_jw_mem(&w->text, "}", 1);
    } else if (json_is_array(node)) {
        at element = element_of(a);
        mq_jw_mem(&w->text, "[", 1);
        for (size_t i = 0; i < json_array_size(node); i++) {
            if (i)
                mq_jw_mem(&w->text, ",", 1);
            seal_child(w, json_array_get(node, i), element);
        }
        mq_jw_mem(&w->text, "]", 1);
    } else {
        mq_jw_value(&w->text, node, MQ_JW_SHORTEST);
    }
}

/* ---- The box -------------------------------------------------------------- */

/* Compact JSON text, or NULL. Not json_dumps: jansson 2.14 ignores a failed
 * write of an object key and returns the text without it; a sealed request
 * missing a key would be saved corrupt. mq_jw_compact (src/json) prints
 * the same text, fails as a whole, and costs a tenth. */
static char *dump_compact(const json_t *doc)
{
    return mq_jw_compact(doc, MQ_JW_SHORTEST);
}

/* Standard base64 with padding (libsodium's VARIANT_ORIGINAL, which opening
 * decodes), by table: libsodium's encoder is constant-time, which a nonce
 * and a ciphertext do not need, and cost a third of sealing. */
char *mq_priv_base64(const unsigned char *bin, size_t len)
{
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;
    if (!out)
        return NULL;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        unsigned v = (unsigned)bin[i] << 16 | (unsigned)bin[i + 1] << 8 | bin[i + 2];
        *o++ = digits[v >> 18];
        *o++ = digits[v >> 12 & 63];
        *o++ = digits[v >> 6 & 63];
        *o++ = digits[v & 63];
    }
    if (i < len) {
        unsigned v = (unsigned)bin[i] << 16 | (i + 1 < len ? (unsigned)bin[i + 1] << 8 : 0);
        *o++ = digits[v >> 18];
        *o++ = digits[v >> 12 & 63];
        *o++ = i + 1 < len ? digits[v >> 6 & 63] : '=';
        *o++ = '=';
    }
    *o = '\0';
    return out;
}

/* Decodes base64 into a malloc'd buffer; NULL when malformed. */
static unsigned char *from_base64(const char *text, size_t *len)
{
    size_t cap = strlen(text) / 4 * 3 + 3;
    unsigned char *out = malloc(cap);
    if (out && sodium_base642bin(out, cap, text, strlen(text), NULL, len, NULL,
                                 sodium_base64_VARIANT_ORIGINAL) != 0) {
        free(out);
        out = NULL;
    }
    return out;
}

/* Appends the member "_sealed": {"key", "nonce", "box"} holding the vault
 * text `plain` encrypted; false when memory runs out. */
static bool write_envelope(mq_jw *w, const mq_priv_ring *r, const char *quote_id, const char *plain,
                           size_t plen)
{
    int id = mq_priv_current_key(r);
    const unsigned char *key = mq_priv_key_bytes(r, id);
    unsigned char nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
    unsigned char *box = malloc(plen + crypto_aead_xchacha20poly1305_ietf_ABYTES);
    if (!key || !box) {
        free(box);
        return false;
    }
    randombytes_buf(nonce, sizeof nonce);
    unsigned long long blen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(box, &blen, (const unsigned char *)plain, plen,
                                               (const unsigned char *)quote_id, strlen(quote_id),
                                               NULL, nonce, key);
    char *nonce64 = mq_priv_base64(nonce, sizeof nonce);
    char *box64 = mq_priv_base64(box, (size_t)blen);
    if (nonce64 && box64) {
        mq_jw_raw(w, "\"_sealed\":{\"key\":");
        mq_jw_int(w, id);
        mq_jw_raw(w, ",\"v\":");
        mq_jw_int(w, SEAL_VERSION);
        mq_jw_raw(w, ",\"nonce\":");
        mq_jw_str(w, nonce64);
        mq_jw_raw(w, ",\"box\":");
        mq_jw_str(w, box64);
        mq_jw_mem(w, "}", 1);
    }
    bool ok = nonce64 && box64 && !w->oom;
    free(nonce64);
    free(box64);
    free(box);
    return ok;
}

static void wipe_free(char *text)
{
    if (text) {
        sodium_memzero(text, strlen(text));
        free(text);
    }
}

/* ---- Subjects ---------------------------------------------------------------- */

bool mq_priv_subject(const mq_priv_ring *r, const char *email, char out[MQ_PRIV_SUBJECT_LEN])
{
    out[0] = '\0';
    if (!email)
        return false;
    while (isspace((unsigned char)*email))
        email++;
    size_t len = strlen(email);
    while (len && isspace((unsigned char)email[len - 1]))
        len--;
    if (len == 0)
        return false;
    /* hashed in pieces, lower-cased on the way: an address of any length
     * (the request puts no bound on it) has a subject, so `forget` finds
     * its quotes */
    crypto_generichash_state st;
    crypto_generichash_init(&st, mq_priv_subject_key(r), MQ_PRIV_KEY_BYTES, 32);
    unsigned char norm[256];
    for (size_t done = 0; done < len;) {
        size_t n = len - done < sizeof norm ? len - done : sizeof norm;
        for (size_t i = 0; i < n; i++)
            norm[i] = (unsigned char)tolower((unsigned char)email[done + i]);
        crypto_generichash_update(&st, norm, n);
        done += n;
    }
    unsigned char h[32];
    crypto_generichash_final(&st, h, sizeof h);
    sodium_memzero(norm, sizeof norm);
    sodium_memzero(&st, sizeof st);
    out[0] = 's';
    out[1] = '_';
    sodium_bin2hex(out + 2, MQ_PRIV_SUBJECT_LEN - 2, h, sizeof h);
    return true;
}

static void subject_of(const mq_priv_ring *r, const json_t *doc, char out[MQ_PRIV_SUBJECT_LEN])
{
    const json_t *email = json_object_get(json_object_get(doc, "applicant"), "email");
    mq_priv_subject(r, json_string_value(email), out);
}

bool mq_priv_request_subject(const mq_priv_ring *r, const char *request,
                             char out[MQ_PRIV_SUBJECT_LEN])
{
    out[0] = '\0';
    json_t *doc = request ? json_loads(request, 0, NULL) : NULL;
    if (json_is_object(doc))
        subject_of(r, doc, out);
    json_decref(doc);
    return out[0] != '\0';
}

/* ---- Seal and open ------------------------------------------------------------ */

bool mq_priv_seal_json(const mq_priv_ring *r, const char *quote_id, const json_t *request,
                       mq_priv_sealed *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (!json_is_object(request) || json_object_get(request, "_sealed")) {
        snprintf(err, errlen, "the request is not an unsealed JSON object");
        return false;
    }
    subject_of(r, request, out->subject);
    /* the request's members, then "_sealed" once the vault is complete */
    walk w = {0};
    mq_jw_mem(&w.vault, "[", 1);
    mq_jw_mem(&w.text, "{", 1);
    seal_members(&w, request, TOP);
    mq_jw_mem(&w.vault, "]", 1);
    if (json_object_size(request))
        mq_jw_mem(&w.text, ",", 1);
    if (w.vault.oom || !write_envelope(&w.text, r, quote_id, w.vault.buf, w.vault.len))
        w.text.oom = true;
    mq_jw_mem(&w.text, "}", 1);
    out->text = mq_jw_finish(&w.text);
    if (w.vault.buf)
        sodium_memzero(w.vault.buf, w.vault.len);
    free(mq_jw_finish(&w.vault));
    if (!out->text) {
        snprintf(err, errlen, "out of memory sealing the request");
        memset(out, 0, sizeof(*out));
        return false;
    }
    out->key_id = mq_priv_current_key(r);
    return true;
}

bool mq_priv_seal(const mq_priv_ring *r, const char *quote_id, const char *request, size_t len,
                  mq_priv_sealed *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    json_error_t je;
    json_t *doc = mq_jr_load(request, len, JSON_REJECT_DUPLICATES, &je);
    if (!doc) {
        snprintf(err, errlen, "the request is not JSON (%d:%d)", je.line, je.column);
        return false;
    }
    bool ok = mq_priv_seal_json(r, quote_id, doc, out, err, errlen);
    json_decref(doc);
    return ok;
}

void mq_priv_sealed_free(mq_priv_sealed *s)
{
    free(s->text);
    memset(s, 0, sizeof(*s));
}

/* The vault text inside an envelope, and its version (*version: 1, paths
 * with values; 2 to 4, values in the order of that version's walk); NULL
 * with err set. */
static char *decrypt_vault(const mq_priv_ring *r, const char *quote_id, json_t *env, int *version,
                           char *err, size_t errlen)
{
    int id = 0;
    const char *nonce64 = NULL, *box64 = NULL;
    *version = 1;
    if (json_unpack(env, "{s:i, s?i, s:s, s:s !}", "key", &id, "v", version, "nonce", &nonce64,
                    "box", &box64) != 0 ||
        *version < 1) {
        snprintf(err, errlen, "quote %s: malformed _sealed envelope", quote_id);
        return NULL;
    }
    if (*version > SEAL_VERSION) { /* a newer program's (a node upgraded before this one) */
        snprintf(err, errlen,
                 "quote %s: sealed in version %d, which this program (version %d) does not know: "
                 "open it with the newer program that sealed it",
                 quote_id, *version, SEAL_VERSION);
        return NULL;
    }
    const unsigned char *key = mq_priv_key_bytes(r, id);
    if (!key) {
        snprintf(err, errlen, "quote %s: sealed with key %d, which the key ring does not hold",
                 quote_id, id);
        return NULL;
    }
    size_t nlen = 0, blen = 0;
    unsigned char *nonce = from_base64(nonce64, &nlen);
    unsigned char *box = from_base64(box64, &blen);
    char *plain = NULL;
    if (!nonce || !box || nlen != crypto_aead_xchacha20poly1305_ietf_NPUBBYTES ||
        blen < crypto_aead_xchacha20poly1305_ietf_ABYTES) {
        snprintf(err, errlen, "quote %s: malformed _sealed envelope", quote_id);
        goto done;
    }
    plain = malloc(blen - crypto_aead_xchacha20poly1305_ietf_ABYTES + 1);
    unsigned long long plen = 0;
    if (!plain) {
        snprintf(err, errlen, "out of memory opening quote %s", quote_id);
    } else if (crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *)plain, &plen, NULL, box,
                                                          blen, (const unsigned char *)quote_id,
                                                          strlen(quote_id), nonce, key) != 0) {
        snprintf(err, errlen,
                 "quote %s: the personal data does not decrypt with key %d (wrong key, "
                 "altered data, or another quote's box)",
                 quote_id, id);
        free(plain);
        plain = NULL;
    } else {
        plain[plen] = '\0';
    }
done:
    free(nonce);
    free(box);
    return plain;
}

/* Opening a vault of version 2 or later: the sealing walk again, over the sealed
 * request, taking the vault's next value for every personal place. */
typedef struct restore {
    const json_t *vault;
    int version; /* the box's: which steps its walk took */
    size_t next;
    bool misfit; /* more places than values */
} restore;

static void restore_node(restore *rs, json_t *node, at a, int depth);

static void restore_members(restore *rs, json_t *obj, at a, int depth)
{
    for (void *it = json_object_iter(obj); it; it = json_object_iter_next(obj, it)) {
        json_t *v = json_object_iter_value(it);
        at next = step_to(a, json_object_iter_key(it), v, rs->version);
        if (next != TAKE) {
            restore_node(rs, v, next, depth + 1);
        } else if (rs->next < json_array_size(rs->vault)) {
            json_object_iter_set(obj, it, json_array_get(rs->vault, rs->next++));
        } else {
            rs->misfit = true;
            return;
        }
    }
}

static void restore_node(restore *rs, json_t *node, at a, int depth)
{
    if (depth > WALK_DEPTH_MAX || rs->misfit)
        return; /* sealing wrote it as it was */
    if (json_is_object(node)) {
        restore_members(rs, node, a, depth);
    } else if (json_is_array(node)) {
        at element = element_of(a);
        for (size_t i = 0; i < json_array_size(node); i++)
            restore_node(rs, json_array_get(node, i), element, depth + 1);
    }
}

/* Puts a version 2, 3 or 4 vault's values back into the sealed request doc
 * (its "_sealed" removed); false when they do not fit its places one for
 * one. */
static bool restore_values(json_t *doc, const json_t *vault, int version)
{
    restore rs = {.vault = vault, .version = version};
    restore_members(&rs, doc, TOP, 0);
    return !rs.misfit && rs.next == json_array_size(vault);
}

/* Puts one version 1 vault entry [path, value] back into doc. */
static bool restore_entry(json_t *doc, const json_t *entry)
{
    const json_t *path = json_array_get(entry, 0);
    json_t *value = json_array_get(entry, 1);
    size_t n = json_array_size(path);
    if (!value || n == 0)
        return false;
    json_t *node = doc;
    for (size_t i = 0; i + 1 < n && node; i++) {
        const json_t *seg = json_array_get(path, i);
        node = json_is_string(seg)    ? json_object_get(node, json_string_value(seg))
               : json_is_integer(seg) ? json_array_get(node, (size_t)json_integer_value(seg))
                                      : NULL;
    }
    const char *key = json_string_value(json_array_get(path, n - 1));
    if (!json_is_object(node) || !key || !json_object_get(node, key))
        return false;
    return json_object_set(node, key, value) == 0;
}

/* Puts a version 1 vault's entries back; false when one does not fit. */
static bool restore_entries(json_t *doc, const json_t *vault)
{
    for (size_t i = 0; i < json_array_size(vault); i++)
        if (!restore_entry(doc, json_array_get(vault, i)))
            return false;
    return true;
}

char *mq_priv_open(const mq_priv_ring *r, const char *quote_id, const char *sealed, char *err,
                   size_t errlen)
{
    json_t *doc = json_loads(sealed, JSON_REJECT_DUPLICATES, NULL);
    json_t *vault = NULL;
    char *plain = NULL, *out = NULL;
    if (!json_is_object(doc)) {
        snprintf(err, errlen, "quote %s: the saved request is not a JSON object", quote_id);
        goto done;
    }
    json_t *env = json_object_get(doc, "_sealed");
    if (!env) {
        out = strdup(sealed); /* saved before sealing existed */
        if (!out)
            snprintf(err, errlen, "out of memory opening quote %s", quote_id);
        goto done;
    }
    int version;
    if (!(plain = decrypt_vault(r, quote_id, env, &version, err, errlen)))
        goto done;
    vault = json_loads(plain, 0, NULL);
    if (!json_is_array(vault)) {
        snprintf(err, errlen, "quote %s: the sealed data is not a vault", quote_id);
        goto done;
    }
    json_object_del(doc, "_sealed"); /* env is gone: not a place to restore */
    if (!(version >= 2 ? restore_values(doc, vault, version) : restore_entries(doc, vault))) {
        snprintf(err, errlen, "quote %s: the sealed data does not fit the request", quote_id);
        goto done;
    }
    if (!(out = dump_compact(doc)))
        snprintf(err, errlen, "out of memory opening quote %s", quote_id);
done:
    wipe_free(plain);
    json_decref(vault);
    json_decref(doc);
    return out;
}

int mq_priv_sealed_key(const char *sealed)
{
    json_t *doc = json_loads(sealed, 0, NULL);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return -1;
    }
    json_t *env = json_object_get(doc, "_sealed");
    int id = !env ? 0
             : json_is_integer(json_object_get(env, "key"))
                 ? (int)json_integer_value(json_object_get(env, "key"))
                 : -1;
    json_decref(doc);
    return id;
}
