/* registry.c -- carriers.yaml: which carriers a server asks, and how.
 *
 * The file is read with libfyaml into a document tree and checked key by
 * key; every error names file:line. Secrets never live in the file: an
 * auth entry names an environment variable, read here once, and a key that
 * looks like a secret (token, secret, password, value), or a user name or
 * password in a url, is refused. Each url is parsed at load by libcurl's
 * own parser, so one that curl would refuse on every call is refused here.
 * docs/carrier-protocol.md shows a complete file.
 */
#include "remote.h"

#include <curl/curl.h>
#include <errno.h>
#include <libfyaml.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct loader {
    mq_remote_registry *reg;
    char *err;
    size_t errlen;
    bool failed;
} loader;

static bool fail(loader *L, struct fy_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail(loader *L, struct fy_node *at, const char *fmt, ...)
{
    if (L->failed)
        return false; /* the first error is the one reported */
    L->failed = true;
    int n = snprintf(L->err, L->errlen, "%s:%d: ", L->reg->file, mq_yaml_line(at));
    if (n < 0 || (size_t)n >= L->errlen)
        return false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(L->err + n, L->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return false;
}

/* A scalar's text as a new string (NULL: not a scalar, or out of memory). */
static char *scalar_dup(struct fy_node *n)
{
    size_t len;
    const char *s = n && fy_node_is_scalar(n) ? fy_node_get_scalar(n, &len) : NULL;
    return s ? strndup(s, len) : NULL;
}

static bool scalar_is(struct fy_node *n, const char *want)
{
    size_t len;
    const char *s = n && fy_node_is_scalar(n) ? fy_node_get_scalar(n, &len) : NULL;
    return s && len == strlen(want) && memcmp(s, want, len) == 0;
}

static bool get_string(loader *L, struct fy_node *v, const char *key, char **out)
{
    if (!v || !fy_node_is_scalar(v))
        return fail(L, v, "%s: expected a string", key);
    free(*out);
    *out = scalar_dup(v);
    if (!*out)
        return fail(L, v, "out of memory");
    if (!**out)
        return fail(L, v, "%s: must not be empty", key);
    return true;
}

static bool get_int(loader *L, struct fy_node *v, const char *key, int lo, int hi, int *out)
{
    char *s = scalar_dup(v), *end = NULL;
    long x = s ? strtol(s, &end, 10) : 0;
    bool ok = s && *s && end && !*end && x >= lo && x <= hi;
    free(s);
    if (!ok)
        return fail(L, v, "%s: expected a whole number from %d to %d", key, lo, hi);
    *out = (int)x;
    return true;
}

static bool valid_id(const char *id)
{
    if (!*id || strlen(id) > 64)
        return false;
    for (const char *p = id; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789_-", *p))
            return false;
    return true;
}

static bool plain_http_url(const char *u)
{
    size_t skip = strncmp(u, "http://", 7) == 0 ? 7 : strncmp(u, "https://", 8) == 0 ? 8 : 0;
    if (!skip || !u[skip] || u[skip] == '/')
        return false;
    for (const char *p = u; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return false;
    return true;
}

/* What libcurl's own parser finds wrong with the url (a port out of range,
 * a broken IPv6 address, no host), or credentials written in it: else
 * every call would fail at run time, and a password would sit in the file.
 * NULL when it is fine; the message is static. */
static const char *url_problem(const char *u)
{
    CURLU *h = curl_url();
    if (!h)
        return "out of memory";
    const char *why = NULL;
    CURLUcode rc = curl_url_set(h, CURLUPART_URL, u, 0);
    char *host = NULL, *user = NULL, *password = NULL;
    if (rc != CURLUE_OK)
        why = curl_url_strerror(rc);
    else if (curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host || !*host)
        why = "no host";
    else if (curl_url_get(h, CURLUPART_USER, &user, 0) == CURLUE_OK ||
             curl_url_get(h, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK)
        why = "a user name or password written in the url is a secret in this file; send it "
              "with auth: and env:";
    curl_free(host);
    curl_free(user);
    curl_free(password);
    curl_url_cleanup(h);
    return why;
}

/* lines: [auto, home] */
static bool get_lines(loader *L, struct fy_node *v, unsigned *out)
{
    if (!v || !fy_node_is_sequence(v) || fy_node_sequence_item_count(v) < 1)
        return fail(L, v, "lines: expected a list of lines, e.g. [auto, home]");
    void *it = NULL;
    struct fy_node *item;
    *out = 0;
    while ((item = fy_node_sequence_iterate(v, &it))) {
        char *name = scalar_dup(item);
        int line = name ? mq_line_find(name) : -1;
        free(name);
        if (line < 0)
            return fail(L, item, "lines: unknown line (auto, home, renters, term_life)");
        if (line == MQ_LINE_HEALTH)
            return fail(L, item,
                        "lines: health plans are rated locally from the exchange's filed "
                        "rates; a remote carrier quotes auto, home, renters or term_life");
        *out |= 1u << line;
    }
    return true;
}

/* auth: {header: Authorization, scheme: Bearer, env: SUMMIT_API_KEY} */
static bool get_auth(loader *L, mq_remote_carrier *c, struct fy_node *v)
{
    if (!v || !fy_node_is_mapping(v))
        return fail(L, v, "auth: expected a mapping with header and env");
    char *header = NULL, *scheme = NULL, *env = NULL;
    struct fy_node *header_at = v, *env_at = v, *scheme_at = v; /* errors name the key's line */
    void *it = NULL;
    struct fy_node_pair *pair;
    bool ok = true;
    while (ok && (pair = fy_node_mapping_iterate(v, &it))) {
        struct fy_node *k = fy_node_pair_key(pair), *val = fy_node_pair_value(pair);
        if (scalar_is(k, "header"))
            ok = get_string(L, header_at = val, "auth.header", &header);
        else if (scalar_is(k, "scheme"))
            ok = get_string(L, scheme_at = val, "auth.scheme", &scheme);
        else if (scalar_is(k, "env"))
            ok = get_string(L, env_at = val, "auth.env", &env);
        else if (scalar_is(k, "token") || scalar_is(k, "secret") || scalar_is(k, "password") ||
                 scalar_is(k, "value") || scalar_is(k, "key"))
            ok = fail(L, k,
                      "auth: secrets never go in this file; name the environment variable "
                      "that holds it with env:");
        else
            ok = fail(L, k, "auth: unknown key (header, scheme, env)");
    }
    if (ok && (!header || !env))
        ok = fail(L, v, "auth: needs both header and env");
    for (const char *p = header; ok && *p; p++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p))
            ok = fail(L, header_at, "auth.header: not a valid header name");
    /* the scheme is written into the header line as is: a line break in it
     * would start a header of the file's choosing */
    for (const char *p = scheme; ok && p && *p; p++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.", *p))
            ok = fail(L, scheme_at, "auth.scheme: one word, e.g. Bearer (letters, digits, - _ .)");
    const char *secret = ok ? getenv(env) : NULL;
    if (ok && (!secret || !*secret))
        ok = fail(L, env_at,
                  "auth.env: environment variable %s (auth for carrier \"%s\") is not set", env,
                  c->id);
    for (const char *p = secret; ok && *p; p++)
        if (*p == '\r' || *p == '\n')
            ok = fail(L, env_at, "auth.env: %s holds a line break", env);
    if (ok) {
        size_t n = strlen(header) + strlen(secret) + (scheme ? strlen(scheme) + 1 : 0) + 3;
        c->auth_header = malloc(n);
        if (c->auth_header)
            snprintf(c->auth_header, n, "%s: %s%s%s", header, scheme ? scheme : "",
                     scheme ? " " : "", secret);
        else
            ok = fail(L, v, "out of memory");
    }
    free(header);
    free(scheme);
    free(env);
    return ok;
}

/* breaker: {failures: 5, cooldown_ms: 30000} */
static bool get_breaker(loader *L, mq_remote_carrier *c, struct fy_node *v)
{
    if (!v || !fy_node_is_mapping(v))
        return fail(L, v, "breaker: expected a mapping with failures and cooldown_ms");
    void *it = NULL;
    struct fy_node_pair *pair;
    bool ok = true;
    while (ok && (pair = fy_node_mapping_iterate(v, &it))) {
        struct fy_node *k = fy_node_pair_key(pair), *val = fy_node_pair_value(pair);
        if (scalar_is(k, "failures"))
            ok = get_int(L, val, "breaker.failures", 1, 1000, &c->breaker_failures);
        else if (scalar_is(k, "cooldown_ms"))
            ok = get_int(L, val, "breaker.cooldown_ms", 1, 3600000, &c->breaker_cooldown_ms);
        else
            ok = fail(L, k, "breaker: unknown key (failures, cooldown_ms)");
    }
    return ok;
}

/* ca_file: PEM certificates to trust for the carrier's https url (a
 * private CA), relative to the registry file's folder; read once here so a
 * wrong path is an error at start, not on every call. */
static bool get_ca_file(loader *L, mq_remote_carrier *c, struct fy_node *v)
{
    char *path = NULL;
    if (!get_string(L, v, "ca_file", &path))
        return false;
    const char *slash = strrchr(L->reg->file, '/');
    if (path[0] != '/' && slash) {
        size_t dir = (size_t)(slash - L->reg->file) + 1, n = dir + strlen(path) + 1;
        char *full = malloc(n);
        if (!full) {
            free(path);
            return fail(L, v, "out of memory");
        }
        snprintf(full, n, "%.*s%s", (int)dir, L->reg->file, path);
        free(path);
        path = full;
    }
    free(c->ca_file);
    c->ca_file = path;
    struct stat st;
    if (stat(path, &st) != 0)
        return fail(L, v, "ca_file: cannot read %s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode)) /* a fifo or a device would block the start, or never end */
        return fail(L, v, "ca_file: %s is not a file", path);
    FILE *f = fopen(path, "r");
    if (!f)
        return fail(L, v, "ca_file: cannot read %s: %s", path, strerror(errno));
    /* a bundle may open with comments: look for a certificate in its first 64 KiB */
    enum { CA_HEAD = 64 * 1024 };
    char *head = malloc(CA_HEAD + 1);
    size_t got = head ? fread(head, 1, CA_HEAD, f) : 0;
    fclose(f);
    if (!head)
        return fail(L, v, "out of memory");
    head[got] = '\0';
    bool pem = strstr(head, "-----BEGIN CERTIFICATE-----") != NULL;
    free(head);
    if (!pem)
        return fail(L, v, "ca_file: %s holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                    path);
    return true;
}

static bool get_kind(loader *L, struct fy_node *v, mq_remote_carrier *c)
{
    if (scalar_is(v, "local") || scalar_is(v, "remote")) {
        c->remote = scalar_is(v, "remote");
        return true;
    }
    return fail(L, v, "kind: expected local or remote");
}

static bool carrier_key(loader *L, mq_remote_carrier *c, struct fy_node *k, struct fy_node *v)
{
    if (scalar_is(k, "id"))
        return get_string(L, v, "id", &c->id);
    if (scalar_is(k, "kind"))
        return get_kind(L, v, c);
    if (scalar_is(k, "name"))
        return get_string(L, v, "name", &c->name);
    if (scalar_is(k, "rating"))
        return get_string(L, v, "rating", &c->rating);
    if (scalar_is(k, "url"))
        return get_string(L, v, "url", &c->url);
    if (scalar_is(k, "lines"))
        return get_lines(L, v, &c->lines);
    if (scalar_is(k, "timeout_ms"))
        return get_int(L, v, "timeout_ms", 1, 600000, &c->timeout_ms);
    if (scalar_is(k, "max_concurrent"))
        return get_int(L, v, "max_concurrent", 1, 10000, &c->max_concurrent);
    if (scalar_is(k, "auth"))
        return get_auth(L, c, v);
    if (scalar_is(k, "breaker"))
        return get_breaker(L, c, v);
    if (scalar_is(k, "ca_file"))
        return get_ca_file(L, c, v);
    return fail(L, k,
                "unknown key (id, kind, name, rating, url, lines, timeout_ms, max_concurrent, "
                "auth, breaker, ca_file)");
}

/* What a local entry may not say, and what a remote one must; an error
 * about the url names its line (url_at), the others the entry's. */
static bool carrier_complete(loader *L, mq_remote_carrier *c, struct fy_node *at,
                             struct fy_node *url_at)
{
    if (!c->id)
        return fail(L, at, "a carrier needs an id");
    if (!valid_id(c->id))
        return fail(L, at, "id \"%s\": use lower-case letters, digits, _ and - (at most 64)",
                    c->id);
    if (!c->remote) {
        if (c->url || c->lines || c->auth_header || c->timeout_ms || c->max_concurrent || c->name ||
            c->rating || c->ca_file)
            return fail(L, at,
                        "carrier \"%s\" is local: its name, rating and lines come from its "
                        "plans; only id and kind belong here",
                        c->id);
        return true;
    }
    if (!c->url)
        return fail(L, at, "remote carrier \"%s\" needs a url", c->id);
    if (!plain_http_url(c->url))
        return fail(L, url_at, "url: expected http:// or https:// and a host, without spaces");
    const char *why = url_problem(c->url);
    if (why)
        return fail(L, url_at, "url: %s", why);
    if (!c->name)
        return fail(L, at, "remote carrier \"%s\" needs a name", c->id);
    if (!c->lines)
        return fail(L, at, "remote carrier \"%s\" needs lines, e.g. [auto]", c->id);
    if (!c->rating && !(c->rating = strdup("")))
        return fail(L, at, "out of memory");
    if (!c->timeout_ms)
        c->timeout_ms = L->reg->deadline_ms;
    if (!c->max_concurrent)
        c->max_concurrent = 16;
    if (!c->breaker_failures)
        c->breaker_failures = 5;
    if (!c->breaker_cooldown_ms)
        c->breaker_cooldown_ms = 30000;
    return true;
}

static bool load_carrier(loader *L, struct fy_node *item, mq_remote_carrier *c)
{
    c->decl_line = mq_yaml_line(item);
    if (!fy_node_is_mapping(item))
        return fail(L, item, "a carrier is a mapping: id, kind, ...");
    void *it = NULL;
    struct fy_node_pair *pair;
    struct fy_node *url_at = item;
    bool ok = true, has_kind = false;
    while (ok && (pair = fy_node_mapping_iterate(item, &it))) {
        has_kind |= scalar_is(fy_node_pair_key(pair), "kind");
        if (scalar_is(fy_node_pair_key(pair), "url"))
            url_at = fy_node_pair_value(pair);
        ok = carrier_key(L, c, fy_node_pair_key(pair), fy_node_pair_value(pair));
    }
    if (ok && !has_kind)
        ok = fail(L, item, "carrier \"%s\" needs kind: local or remote", c->id ? c->id : "?");
    return ok && carrier_complete(L, c, item, url_at);
}

static bool load_carriers(loader *L, struct fy_node *list)
{
    if (!list || !fy_node_is_sequence(list) || fy_node_sequence_item_count(list) < 1)
        return fail(L, list, "carriers: expected a list of carriers");
    int n = fy_node_sequence_item_count(list);
    L->reg->carriers = calloc((size_t)n, sizeof(mq_remote_carrier));
    if (!L->reg->carriers)
        return fail(L, list, "out of memory");
    void *it = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(list, &it))) {
        mq_remote_carrier *c = &L->reg->carriers[L->reg->ncarriers++];
        if (!load_carrier(L, item, c))
            return false;
        if (mq_remote_registry_find(L->reg, c->id) != c)
            return fail(L, item, "carrier \"%s\" is listed twice", c->id);
        c->remote ? L->reg->nremote++ : L->reg->nlocal++;
    }
    return true;
}

static bool load_root(loader *L, struct fy_node *root)
{
    if (!root || !fy_node_is_mapping(root))
        return fail(L, root, "expected a mapping with deadline_ms and carriers");
    struct fy_node *deadline = fy_node_mapping_lookup_by_string(root, "deadline_ms", 11);
    if (deadline && !get_int(L, deadline, "deadline_ms", 1, 600000, &L->reg->deadline_ms))
        return false;
    void *it = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate(root, &it))) {
        struct fy_node *k = fy_node_pair_key(pair);
        if (!scalar_is(k, "deadline_ms") && !scalar_is(k, "carriers"))
            return fail(L, k, "unknown key (deadline_ms, carriers)");
    }
    struct fy_node *list = fy_node_mapping_lookup_by_string(root, "carriers", 8);
    if (!list)
        return fail(L, root, "carriers: missing");
    return load_carriers(L, list);
}

enum { REGISTRY_MAX_BYTES = 1024 * 1024 };

mq_remote_registry *mq_remote_registry_load(const char *path, char *err, size_t errlen)
{
    mq_remote_registry *reg = calloc(1, sizeof(*reg));
    loader L = {.reg = reg, .err = err, .errlen = errlen};
    if (!reg || !(reg->file = strdup(path))) {
        snprintf(err, errlen, "%s: out of memory", path);
        free(reg);
        return NULL;
    }
    reg->deadline_ms = MQ_REMOTE_DEADLINE_MS;
    char *text;
    struct fy_document *doc = mq_yaml_load(path, REGISTRY_MAX_BYTES, &text, err, errlen);
    if (!doc) {
        mq_remote_registry_free(reg);
        return NULL;
    }
    bool ok = load_root(&L, fy_document_root(doc));
    fy_document_destroy(doc);
    free(text); /* after the document, which points into it */
    if (!ok) {
        mq_remote_registry_free(reg);
        return NULL;
    }
    return reg;
}

void mq_remote_registry_free(mq_remote_registry *reg)
{
    if (!reg)
        return;
    for (int i = 0; i < reg->ncarriers; i++) {
        mq_remote_carrier *c = &reg->carriers[i];
        free(c->id);
        free(c->name);
        free(c->rating);
        free(c->url);
        free(c->auth_header);
        free(c->ca_file);
    }
    free(reg->carriers);
    free(reg->file);
    free(reg);
}

const mq_remote_carrier *mq_remote_registry_find(const mq_remote_registry *reg, const char *id)
{
    for (int i = 0; reg && i < reg->ncarriers; i++)
        if (reg->carriers[i].id && strcmp(reg->carriers[i].id, id) == 0)
            return &reg->carriers[i];
    return NULL;
}

static bool has_local_plan(const mq_engine *e, const char *carrier)
{
    for (int i = 0; i < mq_engine_plan_count(e); i++) {
        mq_plan_info info;
        mq_plan_get_info(mq_engine_plan(e, i), &info);
        if (strcmp(info.carrier_id, carrier) == 0)
            return true;
    }
    return false;
}

bool mq_remote_registry_check(const mq_remote_registry *reg, const mq_engine *e, char *err,
                              size_t errlen)
{
    for (int i = 0; i < reg->ncarriers; i++) {
        const mq_remote_carrier *c = &reg->carriers[i];
        bool local_plan = has_local_plan(e, c->id);
        if (!c->remote && !local_plan) {
            snprintf(err, errlen, "%s:%d: local carrier \"%s\" has no plan in the plans folder",
                     reg->file, c->decl_line, c->id);
            return false;
        }
        if (c->remote && local_plan && reg->nlocal == 0) {
            snprintf(err, errlen,
                     "%s:%d: remote carrier \"%s\" has the id of local plans: list the local "
                     "carriers to rate (kind: local) so that its plans are left out",
                     reg->file, c->decl_line, c->id);
            return false;
        }
    }
    return true;
}

bool mq_remote_carrier_known(const mq_remote_registry *reg, const mq_engine *e, const char *id)
{
    if (mq_remote_registry_find(reg, id))
        return true;
    return mq_remote_rate_here(reg, id) && has_local_plan(e, id);
}

bool mq_remote_rate_here(const void *arg, const char *carrier_id)
{
    const mq_remote_registry *reg = arg;
    if (!reg || reg->nlocal == 0)
        return !mq_remote_registry_find(reg, carrier_id);
    const mq_remote_carrier *c = mq_remote_registry_find(reg, carrier_id);
    return c && !c->remote;
}

bool mq_remote_asked_elsewhere(const void *arg, const char *carrier_id)
{
    const mq_remote_carrier *c = mq_remote_registry_find(arg, carrier_id);
    return c && c->remote;
}

int mq_remote_select(const mq_remote_registry *reg, mq_line line, const char *const *ids, int nids,
                     int *out, int cap)
{
    int n = 0;
    for (int i = 0; reg && i < reg->ncarriers && n < cap; i++) {
        const mq_remote_carrier *c = &reg->carriers[i];
        if (!c->remote || !(c->lines & (1u << line)))
            continue;
        bool wanted = !ids;
        for (int j = 0; j < nids && !wanted; j++)
            wanted = strcmp(ids[j], c->id) == 0;
        if (wanted)
            out[n++] = i;
    }
    return n;
}
