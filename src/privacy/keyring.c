/* keyring.c -- the keys that seal personal data: loaded, created, rotated.
 *
 * A ring holds numbered 32-byte XChaCha20-Poly1305 keys and one subject key
 * (for the keyed hash of an email). It is read from MQ_KEY or from a key
 * file of "subject KEY" / "key ID KEY" lines; the first `serve` creates the
 * file (mode 0600, random keys) so `make run` needs no setup, and rotation
 * appends a key with the next id. Keys live in sodium_malloc'd memory
 * (guarded, locked, zeroed when freed); a key file readable by others is
 * refused, like ssh does with private keys.
 */
#include "privacy.h"
#include "privacy_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_KEY_FILE "var/multiquote.key"
enum { KEY_FILE_MAX = 64 * 1024 };

typedef struct priv_key {
    int id;
    unsigned char k[MQ_PRIV_KEY_BYTES];
} priv_key;

struct mq_priv_ring {
    int nkeys;
    priv_key keys[MQ_PRIV_MAX_KEYS]; /* ascending id */
    unsigned char subject[MQ_PRIV_KEY_BYTES];
    bool has_subject;
};

/* Key access for seal.c. */
const unsigned char *mq_priv_key_bytes(const mq_priv_ring *r, int id)
{
    for (int i = 0; i < r->nkeys; i++)
        if (r->keys[i].id == id)
            return r->keys[i].k;
    return NULL;
}

const unsigned char *mq_priv_subject_key(const mq_priv_ring *r)
{
    return r->subject;
}

static mq_priv_ring *ring_new(void)
{
    if (sodium_init() < 0)
        return NULL;
    mq_priv_ring *r = sodium_malloc(sizeof(*r));
    if (r)
        memset(r, 0, sizeof(*r));
    return r;
}

void mq_priv_ring_free(mq_priv_ring *r)
{
    if (r)
        sodium_free(r); /* zeroes the memory */
}

int mq_priv_current_key(const mq_priv_ring *r)
{
    return r->nkeys ? r->keys[r->nkeys - 1].id : 0;
}

bool mq_priv_has_key(const mq_priv_ring *r, int id)
{
    return mq_priv_key_bytes(r, id) != NULL;
}

/* 64 hex digits or base64 (standard or URL-safe, padded or not) of 32 bytes. */
static bool decode_key(const char *text, size_t len, unsigned char out[MQ_PRIV_KEY_BYTES])
{
    size_t n = 0;
    const char *end = NULL;
    if (len == 2 * MQ_PRIV_KEY_BYTES &&
        sodium_hex2bin(out, MQ_PRIV_KEY_BYTES, text, len, NULL, &n, &end) == 0 &&
        n == MQ_PRIV_KEY_BYTES && end == text + len)
        return true;
    static const int variants[] = {
        sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
        sodium_base64_VARIANT_URLSAFE, sodium_base64_VARIANT_URLSAFE_NO_PADDING};
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++)
        if (sodium_base642bin(out, MQ_PRIV_KEY_BYTES, text, len, NULL, &n, &end, variants[i]) ==
                0 &&
            n == MQ_PRIV_KEY_BYTES && end == text + len)
            return true;
    sodium_memzero(out, MQ_PRIV_KEY_BYTES);
    return false;
}

/* Inserts a key keeping ids ascending; false on a duplicate id or a full ring. */
static bool add_key(mq_priv_ring *r, int id, const unsigned char k[MQ_PRIV_KEY_BYTES],
                    const char **why)
{
    if (mq_priv_has_key(r, id)) {
        *why = "key id listed twice";
        return false;
    }
    if (r->nkeys == MQ_PRIV_MAX_KEYS) {
        *why = "too many keys (64 at most)";
        return false;
    }
    int at = r->nkeys;
    while (at > 0 && r->keys[at - 1].id > id) {
        r->keys[at] = r->keys[at - 1];
        at--;
    }
    r->keys[at].id = id;
    memcpy(r->keys[at].k, k, MQ_PRIV_KEY_BYTES);
    r->nkeys++;
    return true;
}

/* Splits a line into at most 3 space-separated words (pointers + lengths). */
static int split_words(const char *line, size_t len, const char *w[3], size_t wl[3])
{
    int n = 0;
    size_t i = 0;
    while (i < len) {
        while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
            i++;
        if (i == len)
            break;
        if (n == 3)
            return 4;
        w[n] = line + i;
        while (i < len && line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
            i++;
        wl[n] = (size_t)(line + i - w[n]);
        n++;
    }
    return n;
}

static bool parse_id(const char *w, size_t len, int *id)
{
    char buf[16];
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, w, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    long v = strtol(buf, &end, 10);
    if (*end || errno || v < 1 || v > INT_MAX)
        return false;
    *id = (int)v;
    return true;
}

/* One line of a key file; NULL when fine, else why not. */
static const char *parse_line(mq_priv_ring *r, const char *line, size_t len)
{
    const char *w[3];
    size_t wl[3];
    int n = split_words(line, len, w, wl);
    if (n == 0 || w[0][0] == '#')
        return NULL;
    unsigned char k[MQ_PRIV_KEY_BYTES];
    const char *why = NULL;
    if (wl[0] == 7 && memcmp(w[0], "subject", 7) == 0) {
        if (n != 2 || !decode_key(w[1], wl[1], k))
            return "expected \"subject KEY\" (64 hex digits or base64 of 32 bytes)";
        if (r->has_subject)
            return "subject key listed twice";
        memcpy(r->subject, k, sizeof k);
        r->has_subject = true;
    } else if (wl[0] == 3 && memcmp(w[0], "key", 3) == 0) {
        int id;
        if (n != 3 || !parse_id(w[1], wl[1], &id))
            return "expected \"key ID KEY\" with ID a whole number from 1";
        if (!decode_key(w[2], wl[2], k))
            return "the key is not 64 hex digits or base64 of 32 bytes";
        bool ok = add_key(r, id, k, &why);
        sodium_memzero(k, sizeof k);
        return ok ? NULL : why;
    } else {
        return "expected \"subject KEY\" or \"key ID KEY\"";
    }
    sodium_memzero(k, sizeof k);
    return NULL;
}

mq_priv_ring *mq_priv_ring_parse(const char *text, const char *origin, char *err, size_t errlen)
{
    mq_priv_ring *r = ring_new();
    if (!r) {
        snprintf(err, errlen, "%s: out of memory", origin);
        return NULL;
    }
    int lineno = 1;
    for (const char *p = text; *p; lineno++) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        const char *why = parse_line(r, p, len);
        if (why) {
            snprintf(err, errlen, "%s:%d: %s", origin, lineno, why);
            goto fail;
        }
        p += len + (nl ? 1 : 0);
    }
    if (r->nkeys == 0) {
        snprintf(err, errlen, "%s: no \"key ID KEY\" line", origin);
        goto fail;
    }
    if (!r->has_subject) {
        snprintf(err, errlen, "%s: no \"subject KEY\" line", origin);
        goto fail;
    }
    return r;
fail:
    mq_priv_ring_free(r);
    return NULL;
}

/* MQ_KEY holding one bare key: key 1, and a subject key derived from it. */
static mq_priv_ring *ring_from_bare_key(const char *value, char *err, size_t errlen)
{
    unsigned char k[MQ_PRIV_KEY_BYTES];
    size_t len = strlen(value);
    while (len && (value[len - 1] == '\n' || value[len - 1] == ' '))
        len--;
    if (!decode_key(value, len, k)) {
        snprintf(err, errlen,
                 "MQ_KEY: not 64 hex digits, base64 of 32 bytes, or key file text "
                 "(docs/privacy.md)");
        return NULL;
    }
    mq_priv_ring *r = ring_new();
    const char *why = NULL;
    if (!r || !add_key(r, 1, k, &why) ||
        crypto_kdf_derive_from_key(r->subject, sizeof r->subject, 1, "mqsubjct", k) != 0) {
        snprintf(err, errlen, "MQ_KEY: %s", why ? why : "out of memory");
        sodium_memzero(k, sizeof k);
        mq_priv_ring_free(r);
        return NULL;
    }
    r->has_subject = true;
    sodium_memzero(k, sizeof k);
    return r;
}

/* Reads a key file whole, refusing one that others may read, one that is
 * not a regular file (a FIFO would block the read, O_NONBLOCK the open)
 * and one holding a NUL byte (the lines after it would be ignored). */
static char *read_key_file(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    char *text = NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > KEY_FILE_MAX) {
        snprintf(err, errlen, "%s: not a readable key file of at most 64 KiB", path);
        goto done;
    }
    if (st.st_mode & 077) {
        snprintf(err, errlen, "%s: readable by others (mode %03o); chmod 600 it", path,
                 (unsigned)(st.st_mode & 0777));
        goto done;
    }
    text = sodium_malloc((size_t)st.st_size + 1);
    if (!text) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto done;
    }
    ssize_t got = read(fd, text, (size_t)st.st_size);
    if (got != st.st_size) {
        snprintf(err, errlen, "%s: short read", path);
        sodium_free(text);
        text = NULL;
        goto done;
    }
    text[got] = '\0';
    if (memchr(text, '\0', (size_t)got)) {
        snprintf(err, errlen, "%s: holds a NUL byte; a key file is text", path);
        sodium_free(text);
        text = NULL;
    }
done:
    close(fd);
    return text;
}

static bool write_all(int fd, const char *text)
{
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t n = write(fd, text + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        off += (size_t)n;
    }
    return true;
}

/* Appends "NAME KEY\n" with a fresh random key to an open file. */
static bool append_random_key(int fd, const char *name)
{
    unsigned char k[MQ_PRIV_KEY_BYTES];
    char hex[2 * MQ_PRIV_KEY_BYTES + 1], line[160];
    randombytes_buf(k, sizeof k);
    sodium_bin2hex(hex, sizeof hex, k, sizeof k);
    snprintf(line, sizeof line, "%s %s\n", name, hex);
    bool ok = write_all(fd, line);
    sodium_memzero(k, sizeof k);
    sodium_memzero(hex, sizeof hex);
    sodium_memzero(line, sizeof line);
    return ok;
}

/* Ends the file's last line when it has none (a key file written by hand
 * or by `printf` often lacks it), so that an appended line starts a line. */
static bool end_line(int fd)
{
    struct stat st;
    char last = '\n';
    if (fstat(fd, &st) != 0)
        return false;
    if (st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) != 1)
        return false;
    return last == '\n' || write_all(fd, "\n");
}

/* A new key file: mode 0600, a subject key and key 1, written durably to a
 * temporary name and linked into place, so a process starting at the same
 * moment reads either no file or a whole one (and then uses that one). The
 * temporary file is made by mkostemp: a new file of a random name, never
 * one that someone who may write to the folder put there beforehand (with
 * a guessable name, a file of theirs would have received the keys, or a
 * symbolic link of theirs sent them over another file). */
static bool create_key_file(const char *path, char *err, size_t errlen)
{
    if (strcmp(path, DEFAULT_KEY_FILE) == 0)
        mkdir("var", 0755);
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= sizeof tmp) {
        snprintf(err, errlen, "%s: path too long", path);
        return false;
    }
    int fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600 */
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
        return false;
    }
    bool ok = write_all(fd, "# multiquote key file: keep it secret, keep it safe "
                            "(docs/privacy.md)\n") &&
              append_random_key(fd, "subject") && append_random_key(fd, "key 1") && fsync(fd) == 0;
    close(fd);
    if (ok && link(tmp, path) != 0 && errno != EEXIST)
        ok = false;
    if (!ok)
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
    unlink(tmp);
    return ok;
}

mq_priv_ring *mq_priv_ring_load(const char *path, bool create, char *err, size_t errlen)
{
    if (sodium_init() < 0) { /* sodium_malloc below needs it */
        snprintf(err, errlen, "libsodium cannot start");
        return NULL;
    }
    const char *env = getenv("MQ_KEY");
    if (env && *env && path) {
        snprintf(err, errlen, "the key file %s and MQ_KEY both give a key ring; use one", path);
        return NULL;
    }
    if (env && *env) {
        if (strstr(env, "key ") || strstr(env, "subject "))
            return mq_priv_ring_parse(env, "MQ_KEY", err, errlen);
        return ring_from_bare_key(env, err, errlen);
    }
    if (!path)
        path = DEFAULT_KEY_FILE;
    struct stat st;
    if (create && stat(path, &st) != 0 && errno == ENOENT && !create_key_file(path, err, errlen))
        return NULL;
    char *text = read_key_file(path, err, errlen);
    if (!text)
        return NULL;
    mq_priv_ring *r = mq_priv_ring_parse(text, path, err, errlen);
    sodium_free(text);
    return r;
}

/* The next key id of the ring in the key file at `path`, or -1 with err
 * set. */
static int next_key_id(const char *path, char *err, size_t errlen)
{
    mq_priv_ring *r = mq_priv_ring_load(path, false, err, errlen);
    if (!r)
        return -1;
    int id = mq_priv_current_key(r) + 1;
    mq_priv_ring_free(r);
    if (id <= 1 || id == INT_MAX) {
        snprintf(err, errlen, "%s: no key id left", path);
        return -1;
    }
    return id;
}

/* The key file is locked (flock) from reading its highest id to writing
 * the next one: two rotations at once would otherwise both append the same
 * id, and a ring listing an id twice loads nowhere. */
int mq_priv_ring_add_key(const char *path, char *err, size_t errlen)
{
    if (getenv("MQ_KEY") && *getenv("MQ_KEY")) {
        snprintf(err, errlen,
                 "the keys come from MQ_KEY: add a \"key ID KEY\" line to it yourself "
                 "(docs/privacy.md)");
        return -1;
    }
    if (!path)
        path = DEFAULT_KEY_FILE;
    int fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    int id = -1;
    if (flock(fd, LOCK_EX) != 0) {
        snprintf(err, errlen, "%s: cannot lock: %s", path, strerror(errno));
    } else if ((id = next_key_id(path, err, errlen)) > 0) {
        char name[24];
        snprintf(name, sizeof name, "key %d", id);
        if (!end_line(fd) || !append_random_key(fd, name) || fsync(fd) != 0) {
            snprintf(err, errlen, "%s: cannot add a key: %s", path, strerror(errno));
            id = -1;
        }
    }
    close(fd); /* and the lock with it */
    return id;
}
