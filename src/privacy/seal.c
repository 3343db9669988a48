/* seal.c -- moving a request's personal values into one encrypted box.
 *
 * Sealing walks the request JSON and, for every personal field (the list
 * below, in every line, inside a bundle's parts too, and every "extra"
 * object whole), records [path, value] in a "vault" array and leaves null
 * in its place, so the shape and key order stay. The vault's compact JSON
 * is encrypted with XChaCha20-Poly1305 (a random 192-bit nonce, the quote id
 * as associated data, so a box cannot be moved to another quote) and kept
 * as "_sealed": {"key": ID, "nonce": B64, "box": B64}. Opening decrypts and
 * puts each value back at its path. Plaintext buffers are wiped after use.
 */
#include "privacy.h"
#include "privacy_internal.h"

#include <ctype.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Field shapes ("[]" for any array element) holding personal data. */
static const char *const personal_fields[] = {
    "applicant.first_name",     "applicant.last_name",     "applicant.email",
    "applicant.phone",          "applicant.date_of_birth", "applicant.address.street",
    "drivers[].first_name",     "drivers[].last_name",     "drivers[].date_of_birth",
    "drivers[].license.number", "vehicles[].vin",          "household.income",
    "members[].date_of_birth",
};

/* The parts of a bundle request, walked as requests of their own. */
static const char *const bundle_parts[] = {"auto", "home", "renters"};

enum { SHAPE_MAX = 256 };

enum { WALK_DEPTH_MAX = 32 };

/* One step of the path down to the current node: an object key, or an
 * array index when key is NULL. */
typedef struct walk_seg {
    const char *key;
    size_t index;
} walk_seg;

typedef struct walk {
    json_t *vault;                     /* [[path, value], ...] */
    walk_seg path[WALK_DEPTH_MAX + 2]; /* room for a taken value one below the deepest node */
    int depth;                         /* segments in path */
    bool failed;                       /* out of memory */
} walk;

static bool is_personal(const char *shape)
{
    for (size_t i = 0; i < sizeof personal_fields / sizeof personal_fields[0]; i++)
        if (strcmp(shape, personal_fields[i]) == 0)
            return true;
    return false;
}

static bool is_bundle_part(const char *key)
{
    for (size_t i = 0; i < sizeof bundle_parts / sizeof bundle_parts[0]; i++)
        if (strcmp(key, bundle_parts[i]) == 0)
            return true;
    return false;
}

/* The current path as JSON (["drivers", 0, "license", "number"]); built only
 * for a value taken, so walking the rest of the request allocates nothing. */
static json_t *path_json(const walk *w)
{
    json_t *p = json_array();
    for (int i = 0; p && i < w->depth; i++) {
        json_t *seg = w->path[i].key ? json_string(w->path[i].key)
                                     : json_integer((json_int_t)w->path[i].index);
        if (json_array_append_new(p, seg) != 0) {
            json_decref(p);
            return NULL;
        }
    }
    return p;
}

/* Moves the value at parent[key] (the path's last step) into the vault,
 * leaving null. */
static void take_value(walk *w, json_t *parent, const char *key, json_t *value)
{
    json_t *where = path_json(w);
    json_t *entry = where ? json_pack("[o,O]", where, value) : NULL;
    if (!entry || json_array_append_new(w->vault, entry) != 0 ||
        json_object_set_new(parent, key, json_null()) != 0)
        w->failed = true;
}

static void walk_node(walk *w, json_t *node, const char *shape);

static void walk_child(walk *w, walk_seg seg, json_t *child, const char *shape)
{
    w->path[w->depth++] = seg;
    walk_node(w, child, shape);
    w->depth--;
}

static void walk_object(walk *w, json_t *obj, const char *shape)
{
    const char *key;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(obj, tmp, key, v)
    {
        char sub[SHAPE_MAX];
        if (w->depth == 0 && json_is_object(v) && is_bundle_part(key))
            sub[0] = '\0'; /* a bundle's auto/home part has the shape of a request */
        else if ((size_t)snprintf(sub, sizeof sub, "%s%s%s", shape, *shape ? "." : "", key) >=
                 sizeof sub)
            continue; /* deeper than any personal field */
        if (json_is_null(v))
            continue;
        if (strcmp(key, "extra") == 0 || is_personal(sub)) {
            w->path[w->depth++] = (walk_seg){.key = key};
            take_value(w, obj, key, v);
            w->depth--;
        } else {
            walk_child(w, (walk_seg){.key = key}, v, sub);
        }
    }
}

static void walk_node(walk *w, json_t *node, const char *shape)
{
    if (w->failed || w->depth > WALK_DEPTH_MAX)
        return;
    if (json_is_object(node)) {
        walk_object(w, node, shape);
    } else if (json_is_array(node)) {
        char sub[SHAPE_MAX];
        if ((size_t)snprintf(sub, sizeof sub, "%s[]", shape) >= sizeof sub)
            return;
        for (size_t i = 0; i < json_array_size(node) && !w->failed; i++)
            walk_child(w, (walk_seg){.index = i}, json_array_get(node, i), sub);
    }
}

/* ---- The box -------------------------------------------------------------- */

typedef struct dump_buf {
    char *text;
    size_t len, cap;
    bool failed;
} dump_buf;

static int dump_append(const char *bytes, size_t n, void *arg)
{
    dump_buf *b = arg;
    if (b->failed)
        return -1;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *t = realloc(b->text, cap);
        if (!t) {
            b->failed = true;
            return -1;
        }
        b->text = t;
        b->cap = cap;
    }
    memcpy(b->text + b->len, bytes, n);
    b->len += n;
    b->text[b->len] = '\0';
    return 0;
}

/* Compact JSON text, or NULL. Not json_dumps: jansson 2.14 ignores a failed
 * write of an object key and returns the text without it; a sealed request
 * missing a key would be saved corrupt. Here a failure sticks. */
static char *dump_compact(const json_t *doc)
{
    dump_buf b = {0};
    if (json_dump_callback(doc, dump_append, &b, JSON_COMPACT) != 0 || b.failed || !b.text) {
        if (b.text)
            sodium_memzero(b.text, b.len);
        free(b.text);
        return NULL;
    }
    return b.text;
}

static char *to_base64(const unsigned char *bin, size_t len)
{
    size_t n = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *out = malloc(n);
    if (out)
        sodium_bin2base64(out, n, bin, len, sodium_base64_VARIANT_ORIGINAL);
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

/* The envelope {"key", "nonce", "box"} of a vault's text. */
static json_t *encrypt_vault(const mq_priv_ring *r, const char *quote_id, const char *plain)
{
    int id = mq_priv_current_key(r);
    const unsigned char *key = mq_priv_key_bytes(r, id);
    size_t plen = strlen(plain);
    unsigned char nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
    unsigned char *box = malloc(plen + crypto_aead_xchacha20poly1305_ietf_ABYTES);
    if (!key || !box) {
        free(box);
        return NULL;
    }
    randombytes_buf(nonce, sizeof nonce);
    unsigned long long blen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(box, &blen, (const unsigned char *)plain, plen,
                                               (const unsigned char *)quote_id, strlen(quote_id),
                                               NULL, nonce, key);
    char *nonce64 = to_base64(nonce, sizeof nonce);
    char *box64 = to_base64(box, (size_t)blen);
    json_t *env = nonce64 && box64
                      ? json_pack("{s:i, s:s, s:s}", "key", id, "nonce", nonce64, "box", box64)
                      : NULL;
    free(nonce64);
    free(box64);
    free(box);
    return env;
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
    if (len == 0 || len > 320)
        return false;
    char norm[321];
    for (size_t i = 0; i < len; i++)
        norm[i] = (char)tolower((unsigned char)email[i]);
    unsigned char h[32];
    crypto_generichash(h, sizeof h, (const unsigned char *)norm, len, mq_priv_subject_key(r),
                       MQ_PRIV_KEY_BYTES);
    sodium_memzero(norm, sizeof norm);
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

/* ---- Seal and open ------------------------------------------------------------ */

bool mq_priv_seal(const mq_priv_ring *r, const char *quote_id, const char *request, size_t len,
                  mq_priv_sealed *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    json_error_t je;
    json_t *doc = json_loadb(request, len, JSON_REJECT_DUPLICATES, &je);
    walk w = {.vault = json_array()};
    char *plain = NULL;
    json_t *env = NULL;
    if (!doc) {
        snprintf(err, errlen, "the request is not JSON (%d:%d)", je.line, je.column);
        goto fail;
    }
    if (!json_is_object(doc) || json_object_get(doc, "_sealed")) {
        snprintf(err, errlen, "the request is not an unsealed JSON object");
        goto fail;
    }
    subject_of(r, doc, out->subject);
    if (!w.vault)
        goto oom;
    walk_node(&w, doc, "");
    if (w.failed || !(plain = dump_compact(w.vault)) ||
        !(env = encrypt_vault(r, quote_id, plain)) || json_object_set_new(doc, "_sealed", env) != 0)
        goto oom;
    if (!(out->text = dump_compact(doc)))
        goto oom;
    out->key_id = mq_priv_current_key(r);
    wipe_free(plain);
    json_decref(w.vault);
    json_decref(doc);
    return true;
oom:
    snprintf(err, errlen, "out of memory sealing the request");
fail:
    wipe_free(plain);
    json_decref(w.vault);
    json_decref(doc);
    memset(out, 0, sizeof(*out));
    return false;
}

void mq_priv_sealed_free(mq_priv_sealed *s)
{
    free(s->text);
    memset(s, 0, sizeof(*s));
}

/* The vault text inside an envelope; NULL with err set. */
static char *decrypt_vault(const mq_priv_ring *r, const char *quote_id, json_t *env, char *err,
                           size_t errlen)
{
    int id = 0;
    const char *nonce64 = NULL, *box64 = NULL;
    if (json_unpack(env, "{s:i, s:s, s:s !}", "key", &id, "nonce", &nonce64, "box", &box64) != 0) {
        snprintf(err, errlen, "quote %s: malformed _sealed envelope", quote_id);
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

/* Puts one vault entry [path, value] back into doc. */
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
    if (!(plain = decrypt_vault(r, quote_id, env, err, errlen)))
        goto done;
    vault = json_loads(plain, 0, NULL);
    if (!json_is_array(vault)) {
        snprintf(err, errlen, "quote %s: the sealed data is not a vault", quote_id);
        goto done;
    }
    for (size_t i = 0; i < json_array_size(vault); i++)
        if (!restore_entry(doc, json_array_get(vault, i))) {
            snprintf(err, errlen, "quote %s: the sealed data does not fit the request", quote_id);
            goto done;
        }
    json_object_del(doc, "_sealed");
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
