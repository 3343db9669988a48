/* plan.c -- loads rate-plan folders into compiled, immutable plans.
 *
 * A plan folder holds plan.yaml and CSV tables (docs/plan-format.md). The
 * loader reads the YAML tree with libfyaml, checks every key, reads the
 * tables, compiles variables (then orders them by dependency), eligibility
 * rules, coverages and steps, and finally compiles the tables once every
 * lookup has said what kind of key it gives. Each coverage gets its steps
 * packed in order for rating (mq_cov_op); table steps that look up the same
 * table with the same keys share one per-unit cache slot, and coverages
 * that count the same discounts share one discount group. The loader keeps
 * going after an error so one `multiquote check` reports every problem, each
 * as file:line: message. The engine is the set of loaded plans plus version
 * selection (select.c indexes it once loaded). Each lookup of a one-key
 * table is noted as it is compiled (mq_key_use), so that mq_engine_lint,
 * which `multiquote check` runs, can tell the ZIP codes and territories a
 * plan has no rate for.
 */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libfyaml.h>
#include <limits.h>
#include <math.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

enum { PLAN_MAX_FILE = 1024 * 1024, MAX_PLANS = 4096, MAX_DIR_DEPTH = 8 };

/* ---- Diagnostics ----------------------------------------------------- */

void mq_diag_add(mq_diags *d, const char *fmt, ...)
{
    if (!d || d->count >= 1000)
        return;
    if (d->count == d->cap) {
        int cap = d->cap ? d->cap * 2 : 16;
        mq_diag *items = realloc(d->items, (size_t)cap * sizeof(mq_diag));
        if (!items)
            return;
        d->items = items;
        d->cap = cap;
    }
    va_list ap;
    va_start(ap, fmt);
    char *text = NULL;
    if (vasprintf(&text, fmt, ap) < 0)
        text = NULL;
    va_end(ap);
    if (text)
        d->items[d->count++].text = text;
}

void mq_diags_free(mq_diags *d)
{
    for (int i = 0; i < d->count; i++)
        free(d->items[i].text);
    free(d->items);
    *d = (mq_diags){0};
}

/* ---- YAML helpers ---------------------------------------------------- */

/* A table file held open from just before it is parsed until the plan's
 * digest is made: the digest is of the bytes hashed then, and the file
 * must still be them, under its name, once parsed (plan_digest checks). */
typedef struct file_stamp {
    int fd; /* -1: not held (the parser says why it cannot read the file) */
    dev_t dev;
    ino_t ino;
    unsigned char sum[crypto_hash_sha256_BYTES];
} file_stamp;

typedef struct loader {
    const char *file; /* plan.yaml as shown in messages */
    const char *dir;
    mq_diags *d;
    int errors_before;
    mq_plan *p;
    mq_compile_env env;
    file_stamp *stamps; /* per table of p->tables, in its order */
} loader;

static int node_line(struct fy_node *n);

/* The line of the key (or list) holding an empty collection, which has no
 * token of its own to give one; 0 at the root. */
static int holder_line(struct fy_node *n)
{
    struct fy_node *parent = fy_node_get_parent(n);
    if (!parent)
        return 0;
    void *it = NULL;
    struct fy_node_pair *pair;
    if (fy_node_is_mapping(parent))
        while ((pair = fy_node_mapping_iterate(parent, &it)))
            if (fy_node_pair_value(pair) == n)
                return node_line(fy_node_pair_key(pair));
    /* an item of a sequence, or a key: the line of what holds the parent,
     * always upwards (the parent's own line is its first item's, which
     * for an empty first item, "- {}", is this node again: fuzz_registry
     * overflowed the stack going round) */
    return holder_line(parent);
}

/* The 1-based line of a node: its first token's (for a collection, its
 * first item's), else its holder's; 0 when nothing says. */
static int node_line(struct fy_node *n)
{
    if (!n)
        return 0;
    if ((fy_node_is_mapping(n) && fy_node_mapping_is_empty(n)) ||
        (fy_node_is_sequence(n) && fy_node_sequence_is_empty(n)))
        return holder_line(n);
    if (fy_node_is_scalar(n)) {
        struct fy_token *t = fy_node_get_scalar_token(n);
        const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
        return m ? m->line + 1 : 0;
    }
    void *it = NULL;
    if (fy_node_is_mapping(n)) {
        struct fy_node_pair *pair = fy_node_mapping_iterate(n, &it);
        return pair ? node_line(fy_node_pair_key(pair)) : 0;
    }
    struct fy_node *first = fy_node_sequence_iterate(n, &it);
    return node_line(first);
}

static int node_col(struct fy_node *n)
{
    struct fy_token *t = n && fy_node_is_scalar(n) ? fy_node_get_scalar_token(n) : NULL;
    const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
    if (!m)
        return 1;
    enum fy_node_style st = fy_node_get_style(n);
    return m->column + 1 + (st == FYNS_SINGLE_QUOTED || st == FYNS_DOUBLE_QUOTED);
}

#define ERR(L, node, ...) err_at((L), node_line(node), __VA_ARGS__)

static void err_at(loader *L, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void err_at(loader *L, int line, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* what has no line of its own (a missing top-level key, an empty file's
     * {}) is at the top of the file: lines are 1-based */
    mq_diag_add(L->d, "%s:%d: %s", L->file, line > 0 ? line : 1, msg);
}

static bool failed(const loader *L)
{
    return L->d->count > L->errors_before;
}

static struct fy_node *get(struct fy_node *map, const char *key)
{
    return map && fy_node_is_mapping(map) ? fy_node_mapping_lookup_by_string(map, key, strlen(key))
                                          : NULL;
}

/* Copies a scalar into the plan's arena (NUL-terminated). */
static char *scalar(loader *L, struct fy_node *n, const char *what)
{
    if (!n || !fy_node_is_scalar(n)) {
        ERR(L, n, "%s must be a single value", what);
        return NULL;
    }
    size_t len;
    const char *s = fy_node_get_scalar(n, &len);
    char *out = mq_arena_alloc(&L->p->mem, len + 1);
    if (out && s)
        memcpy(out, s, len);
    return out;
}

static bool is_blank(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return *s == '\0';
}

static char *required_scalar(loader *L, struct fy_node *map, const char *key, const char *where)
{
    struct fy_node *n = get(map, key);
    if (!n) {
        ERR(L, map, "%s: missing \"%s\"", where, key);
        return NULL;
    }
    char *s = scalar(L, n, key);
    if (s && is_blank(s)) { /* a name, a reason or a note shown as nothing */
        ERR(L, n, "%s: \"%s\" is empty", where, key);
        return NULL;
    }
    return s;
}

static bool number_of(loader *L, struct fy_node *n, const char *what, double *out)
{
    char *s = scalar(L, n, what);
    if (!s)
        return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v)) {
        ERR(L, n, "%s is not a number: \"%s\"", what, s);
        return false;
    }
    *out = v;
    return true;
}

static bool money_of(loader *L, struct fy_node *n, const char *what, int64_t *cents)
{
    double v;
    if (!number_of(L, n, what, &v))
        return false;
    if (v < 0 || v > 1e9 || fabs(v * 100 - round(v * 100)) > 1e-6) {
        ERR(L, n, "%s is %.10g: it must be dollars from 0 to 1000000000 with at most two decimals",
            what, v);
        return false;
    }
    *cents = (int64_t)llround(v * 100);
    return true;
}

/* Whether the n bytes at s hold one of the characters of `set`. */
static bool strpbrk_n(const char *s, size_t n, const char *set)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] && strchr(set, s[i]))
            return true;
    return false;
}

/* Reports keys of `map` that are not in `allowed`. */
static bool check_keys(loader *L, struct fy_node *map, const char *where,
                       const char *const *allowed)
{
    if (!map || !fy_node_is_mapping(map)) {
        ERR(L, map, "%s must be a mapping (key: value)", where);
        return false;
    }
    bool ok = true;
    void *it = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate(map, &it))) {
        struct fy_node *k = fy_node_pair_key(pair);
        size_t len;
        const char *s = fy_node_is_scalar(k) ? fy_node_get_scalar(k, &len) : NULL;
        bool known = false;
        for (int i = 0; s && allowed[i]; i++)
            known |= strlen(allowed[i]) == len && strncmp(allowed[i], s, len) == 0;
        /* `{factor: min(1.5, x)}`: in a flow mapping the comma ended the
         * value, and the rest of the expression became a key */
        bool cut = s && fy_node_get_style(map) == FYNS_FLOW && strpbrk_n(s, len, "()[]<>=+*/ ");
        if (!known) {
            ERR(L, k, "%s: unknown key \"%.*s\"%s", where, s ? (int)len : 1, s ? s : "?",
                cut ? " (inside { } a comma ends a value: put an expression holding commas in "
                      "quotes, factor: \"min(1.5, x)\")"
                    : "");
            ok = false;
        }
    }
    return ok;
}

static mq_prog *compile_at(loader *L, const mq_scope *scope, struct fy_node *n, const char *what,
                           mq_type *type, int *domain)
{
    char *text = scalar(L, n, what);
    if (!text)
        return NULL;
    return mq_expr_compile(&L->env, scope, text, node_line(n), node_col(n), type, domain);
}

/* Compiles a condition (a discount's when, an eligibility rule, an
 * omit_when): it must be true or false. A number there is true when it is
 * not 0, so `when: vehicle_count` gave the multi-car discount to one car:
 * an error naming what to write instead. */
static mq_prog *compile_condition(loader *L, const mq_scope *scope, struct fy_node *n,
                                  const char *what)
{
    mq_type type = MQ_T_BOOL;
    mq_prog *p = compile_at(L, scope, n, what, &type, NULL);
    if (p && type != MQ_T_BOOL) {
        ERR(L, n,
            "%s: \"%s\" is %s, not a condition: compare it (vehicle_count >= 2, "
            "has(driver.student_gpa))",
            what, scalar(L, n, what),
            type == MQ_T_DATE   ? "a date"
            : type == MQ_T_ENUM ? "a name"
                                : "a number");
        mq_prog_free(p);
        return NULL;
    }
    return p;
}

static mq_scope unit_scope(const loader *L)
{
    mq_scope s = {.line = L->env.line};
    s.bound[MQ_ENT_POLICY] = true;
    if (s.line->unit != MQ_ENT_POLICY)
        mq_scope_enter(&s, s.line->unit);
    return s;
}

static mq_scope policy_scope(const loader *L)
{
    mq_scope s = {.line = L->env.line};
    s.bound[MQ_ENT_POLICY] = true;
    return s;
}

/* ---- Sections -------------------------------------------------------- */

/* True with its value when the expression at n is a plain number. */
static bool constant_of(loader *L, struct fy_node *n, double *out)
{
    char *s = n && fy_node_is_scalar(n) ? scalar(L, n, "value") : NULL;
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    return !*end && !errno && isfinite(*out);
}

/* A carrier id as requests (`carriers`, at most 64 characters), worksheet
 * URLs and CSV books can carry it as it is. */
static bool is_carrier_id(const char *id)
{
    size_t n = strlen(id);
    if (n < 1 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= '0' && id[i] <= '9') || id[i] == '-' ||
              id[i] == '_'))
            return false;
    return true;
}

static void load_header(loader *L, struct fy_node *root)
{
    mq_plan *p = L->p;
    static const char *const carrier_keys[] = {"id", "name", "rating", "kind", NULL};
    static const char *const plan_keys[] = {"id",   "version", "effective",   "until",
                                            "line", "states",  "term_months", NULL};
    struct fy_node *c = get(root, "carrier"), *pl = get(root, "plan");
    if (!c || !pl) {
        ERR(L, root, "plan.yaml needs \"carrier\" and \"plan\"");
        return;
    }
    if (!check_keys(L, c, "carrier", carrier_keys) || !check_keys(L, pl, "plan", plan_keys))
        return;
    p->carrier_id = required_scalar(L, c, "id", "carrier");
    if (p->carrier_id && !is_carrier_id(p->carrier_id))
        ERR(L, get(c, "id"),
            "carrier.id \"%s\" must be 1 to 64 lowercase letters, digits, - or _ (requests, "
            "URLs and books name the carrier by it)",
            p->carrier_id);
    p->carrier_name = required_scalar(L, c, "name", "carrier");
    p->name_line = node_line(get(c, "name") ? get(c, "name") : c);
    p->rating_line = node_line(get(c, "rating") ? get(c, "rating") : c);
    p->plan_id_line = node_line(get(pl, "id") ? get(pl, "id") : pl);
    p->version_line = node_line(get(pl, "version") ? get(pl, "version") : pl);
    p->effective_line = node_line(get(pl, "effective") ? get(pl, "effective") : pl);
    p->carrier_rating = required_scalar(L, c, "rating", "carrier");
    p->carrier_kind = get(c, "kind") ? scalar(L, get(c, "kind"), "carrier.kind") : "";
    p->plan_id = required_scalar(L, pl, "id", "plan");
    p->version = required_scalar(L, pl, "version", "plan");
    char *eff = required_scalar(L, pl, "effective", "plan");
    if (eff && !mq_date_parse(eff, &p->effective))
        ERR(L, get(pl, "effective"), "plan.effective is not a date YYYY-MM-DD: \"%s\"", eff);
    /* until: the rates stop (an ACA plan year ends): a later request gets
     * "no rates in effect", not this version's prices */
    struct fy_node *un = get(pl, "until");
    p->until_line = node_line(un ? un : pl);
    const char *until = un ? scalar(L, un, "plan.until") : NULL;
    if (until && !mq_date_parse(until, &p->until))
        ERR(L, un, "plan.until is not a date YYYY-MM-DD: \"%s\"", until);
    else if (until && eff && p->until < p->effective)
        ERR(L, un, "plan.until (%s) is before plan.effective (%s)", until, eff);
    char *line = required_scalar(L, pl, "line", "plan");
    if (line) {
        int li = mq_line_find(line);
        char lines[120] = "";
        for (int i = 0; li < 0 && i < MQ_LINE_COUNT; i++)
            snprintf(lines + strlen(lines), sizeof lines - strlen(lines), "%s%s", i ? ", " : "",
                     mq_line_get((mq_line)i)->name);
        if (li < 0)
            ERR(L, get(pl, "line"), "plan.line \"%s\" is not a line this engine rates (%s)", line,
                lines);
        else
            p->line = (mq_line)li;
    }
    if (mq_line_get(p->line))
        mq_vm_shape_of(mq_line_get(p->line), &p->vm_shape);
    double term = 0;
    struct fy_node *tn = get(pl, "term_months");
    if (!tn)
        ERR(L, pl, "plan: missing \"term_months\"");
    else if (number_of(L, tn, "plan.term_months", &term) && term != 1 && term != 6 && term != 12)
        ERR(L, tn, "plan.term_months must be 1, 6 or 12");
    p->term_months = (int)term;
    struct fy_node *st = get(pl, "states");
    if (!st || !fy_node_is_sequence(st) || fy_node_sequence_item_count(st) < 1) {
        ERR(L, st ? st : pl, "plan.states must list at least one state, e.g. [OH]");
        return;
    }
    p->states = mq_arena_alloc(&p->mem, sizeof(int) * (size_t)fy_node_sequence_item_count(st));
    void *it = NULL;
    struct fy_node *s;
    while (p->states && (s = fy_node_sequence_iterate(st, &it))) {
        char *code = scalar(L, s, "a state");
        int sym = code ? mq_symbol_find(MQ_DOM_STATE, code) : -1;
        if (code && sym < 0)
            ERR(L, s,
                "\"%s\" is not a US state code (two capital letters of one of the 50 "
                "states or DC, such as OH)",
                code);
        p->states[p->nstates++] = sym;
    }
}

static void load_verifies(loader *L, struct fy_node *seq)
{
    static const char *const checks[] = {"motor_vehicle_record",
                                         "claims_history",
                                         "insurance_score",
                                         "inspection",
                                         "vehicle_history",
                                         "prior_insurance",
                                         NULL};
    static const char *const keys[] = {"check", "text", NULL};
    if (!seq)
        return;
    if (!fy_node_is_sequence(seq)) {
        ERR(L, seq, "verifies must be a list");
        return;
    }
    int n = fy_node_sequence_item_count(seq);
    L->p->verifies = mq_arena_alloc(&L->p->mem, sizeof(mq_verify) * (size_t)(n ? n : 1));
    void *it = NULL;
    struct fy_node *v;
    while (L->p->verifies && (v = fy_node_sequence_iterate(seq, &it))) {
        if (!check_keys(L, v, "verifies item", keys))
            continue;
        char *check = required_scalar(L, v, "check", "verifies item");
        char *text = required_scalar(L, v, "text", "verifies item");
        bool known = false;
        for (int i = 0; check && checks[i]; i++)
            known |= strcmp(check, checks[i]) == 0;
        if (check && !known)
            ERR(L, get(v, "check"), "unknown check \"%s\"", check);
        L->p->verifies[L->p->nverifies++] = (mq_verify){check, text};
    }
}

/* The SHA-256 of what `fd` holds, read from its start; false when it
 * cannot be read or is over the tables' limit. */
static bool hash_fd(int fd, unsigned char sum[crypto_hash_sha256_BYTES])
{
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    unsigned char buf[65536];
    off_t at = 0;
    ssize_t got;
    while ((got = pread(fd, buf, sizeof buf, at)) > 0) {
        at += got;
        if (at > MQ_TABLE_MAX_FILE)
            return false;
        crypto_hash_sha256_update(&h, buf, (unsigned long long)got);
    }
    crypto_hash_sha256_final(&h, sum);
    return got == 0;
}

/* Opens the regular file at `path` and hashes it into *s, before it is
 * parsed; s->fd is -1 when it is not such a file or cannot be read (the
 * parser, reading it next, says why). */
static void hold_file(const char *path, file_stamp *s)
{
    struct stat st;
    *s = (file_stamp){.fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)};
    if (s->fd >= 0 && (fstat(s->fd, &st) != 0 || !S_ISREG(st.st_mode) || sodium_init() < 0 ||
                       !hash_fd(s->fd, s->sum))) {
        close(s->fd);
        s->fd = -1;
    } else if (s->fd >= 0) {
        s->dev = st.st_dev;
        s->ino = st.st_ino;
    }
}

static void release_file(file_stamp *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}

static bool safe_relative(const char *path)
{
    return path[0] != '/' && !strstr(path, "..");
}

static void load_tables(loader *L, struct fy_node *map)
{
    static const char *const keys[] = {"file", "keys", "missing", NULL};
    static const char *const miss_keys[] = {"unavailable", "decline", NULL};
    if (!map)
        return;
    if (!fy_node_is_mapping(map)) {
        ERR(L, map, "tables must be a mapping of name: {file, keys}");
        return;
    }
    mq_plan *p = L->p;
    int n = fy_node_mapping_item_count(map);
    p->tables = calloc((size_t)(n ? n : 1), sizeof(mq_table *));
    L->stamps = calloc((size_t)(n ? n : 1), sizeof(file_stamp));
    if (!p->tables || !L->stamps) {
        ERR(L, map, "out of memory reading the tables");
        return;
    }
    void *it = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate(map, &it))) {
        struct fy_node *kn = fy_node_pair_key(pair), *v = fy_node_pair_value(pair);
        char *name = scalar(L, kn, "table name");
        if (!name || !check_keys(L, v, name, keys))
            continue;
        char *file = required_scalar(L, v, "file", name);
        struct fy_node *ks = get(v, "keys");
        if (!file)
            continue;
        if (!safe_relative(file)) {
            ERR(L, get(v, "file"), "table file must be inside the plan folder: \"%s\"", file);
            continue;
        }
        if (!ks || !fy_node_is_sequence(ks) || fy_node_sequence_item_count(ks) < 1 ||
            fy_node_sequence_item_count(ks) > 8) {
            ERR(L, ks ? ks : v, "table %s: keys must list 1 to 8 key columns", name);
            continue;
        }
        const char *knames[8];
        int nk = 0;
        void *kit = NULL;
        struct fy_node *k;
        while ((k = fy_node_sequence_iterate(ks, &kit)))
            knames[nk++] = scalar(L, k, "key column");
        bool names_ok = true;
        for (int i = 0; i < nk; i++)
            names_ok &= knames[i] != NULL;
        if (!names_ok)
            continue;
        for (int i = 0; i < p->ntables; i++)
            if (strcmp(p->tables[i]->name, name) == 0)
                ERR(L, kn, "table %s defined twice", name);
        char path[PATH_MAX], display[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", L->dir, file);
        snprintf(display, sizeof display, "%s/%s", L->dir, file);
        char ref[PATH_MAX + 200];
        snprintf(ref, sizeof ref, "%s:%d: table %s", L->file, node_line(get(v, "file")), name);
        file_stamp stamp;
        hold_file(path, &stamp);
        mq_table *t = mq_table_read(path, display, ref, name, knames, nk, L->d);
        if (!t) {
            release_file(&stamp);
            const char **failed =
                realloc(L->env.failed_tables, sizeof(char *) * (size_t)(L->env.nfailed + 1));
            if (failed) {
                L->env.failed_tables = failed;
                L->env.failed_tables[L->env.nfailed++] = name;
            }
            continue;
        }
        t->decl_line = node_line(kn);
        struct fy_node *miss = get(v, "missing");
        if (miss && check_keys(L, miss, "missing", miss_keys)) {
            struct fy_node *u = get(miss, "unavailable"), *dcl = get(miss, "decline");
            if ((u != NULL) == (dcl != NULL)) {
                ERR(L, miss, "missing: give exactly one of unavailable or decline");
            } else {
                char *text = scalar(L, u ? u : dcl, "missing text");
                if (text && is_blank(text))
                    ERR(L, u ? u : dcl, "table %s: missing: the %s text is empty", t->name,
                        u ? "unavailable" : "decline");
                t->miss = u ? MISS_UNAVAILABLE : MISS_DECLINE;
                t->miss_text = text ? strdup(text) : NULL;
            }
        }
        L->stamps[p->ntables] = stamp;
        p->tables[p->ntables++] = t;
    }
}

/* Variables: declared first (so any may use any other), compiled until their
 * types settle, then ordered so each is computed after what it reads. */
static bool split_var_name(loader *L, const char *full, mq_entity_kind *kind, const char **name)
{
    const mq_line_def *l = L->env.line;
    const char *dot = strchr(full, '.');
    *kind = MQ_ENT_POLICY;
    *name = full;
    if (dot) {
        for (int k = 0; k < MQ_ENT_COUNT; k++)
            if (l->entity_names[k] && strlen(l->entity_names[k]) == (size_t)(dot - full) &&
                strncmp(full, l->entity_names[k], (size_t)(dot - full)) == 0) {
                *kind = (mq_entity_kind)k;
                *name = dot + 1;
                return true;
            }
        return false;
    }
    return true;
}

static void visit_var(loader *L, int i, int *order, int *n, int **deps, int *ndeps)
{
    mq_var_decl *v = &L->env.vars[i];
    if (v->state == 2)
        return;
    if (v->state == 1) {
        err_at(L, v->line, "variable %s depends on itself (a cycle)", v->name);
        return;
    }
    v->state = 1;
    for (int j = 0; j < ndeps[i]; j++)
        visit_var(L, deps[i][j], order, n, deps, ndeps);
    v->state = 2;
    order[(*n)++] = i;
}

/* Marks the variables that can be computed with the one before them in one
 * pass over the entities (mq_var_decl.with_previous): a run of policy
 * variables (one entity: the same order), or of variables of another kind,
 * none of which reads, through an aggregate, a variable of that kind
 * (which, for another entity, might not be computed yet), and at most one
 * of which can fail (so the first failure is the same lookup, for the same
 * entity, in either order). */
static void group_vars(mq_plan *p)
{
    bool run_can_fail = false;
    for (int v = 0; v < p->nvars; v++) {
        mq_var_decl *d = &p->vars[v];
        bool can_fail = mq_prog_can_fail(d->prog);
        bool one_entity = d->kind == MQ_ENT_POLICY; /* both orders are the same */
        d->with_previous = v > 0 && d->kind == p->vars[v - 1].kind &&
                           (one_entity || (!mq_prog_aggregates_var_of(d->prog, d->kind) &&
                                           !(can_fail && run_can_fail)));
        run_can_fail = (d->with_previous && run_can_fail) || can_fail;
    }
    for (int v = p->nvars - 1; v >= 0; v--) /* where each run ends, for rate.c */
        p->vars[v].run_end =
            v + 1 < p->nvars && p->vars[v + 1].with_previous ? p->vars[v + 1].run_end : v + 1;
}

static void load_variables(loader *L, struct fy_node *map)
{
    mq_plan *p = L->p;
    if (!map)
        return;
    if (!fy_node_is_mapping(map)) {
        ERR(L, map, "variables must be a mapping of name: expression");
        return;
    }
    int n = fy_node_mapping_item_count(map);
    mq_var_decl *vars = calloc((size_t)(n ? n : 1), sizeof(mq_var_decl));
    struct fy_node **exprs = calloc((size_t)(n ? n : 1), sizeof(*exprs));
    int **deps = calloc((size_t)(n ? n : 1), sizeof(int *));
    int *ndeps = calloc((size_t)(n ? n : 1), sizeof(int));
    int *order = calloc((size_t)(n ? n : 1), sizeof(int));
    if (!vars || !exprs || !deps || !ndeps || !order)
        goto done;
    int nv = 0;
    void *it = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate(map, &it))) {
        struct fy_node *kn = fy_node_pair_key(pair);
        char *full = scalar(L, kn, "variable name");
        mq_entity_kind kind;
        const char *name;
        if (!full)
            continue;
        if (!split_var_name(L, full, &kind, &name) || !*name || strchr(name, '.')) {
            ERR(L, kn,
                "variable \"%s\" must be named entity.name (policy, driver, vehicle, "
                "incident) or a bare name",
                full);
            continue;
        }
        if (mq_field_find(L->env.line, kind, name) >= 0) {
            ERR(L, kn, "variable \"%s\" reuses the name of a request field", full);
            continue;
        }
        for (int j = 0; j < nv; j++)
            if (vars[j].kind == kind && strcmp(vars[j].name, name) == 0)
                ERR(L, kn, "variable \"%s\" defined twice", full);
        if (p->nvars_of[kind] >= MQ_ROW_MAX) {
            ERR(L, kn, "variable \"%s\": a plan may define at most %d variables of one kind", full,
                MQ_ROW_MAX);
            continue;
        }
        vars[nv] = (mq_var_decl){.name = (char *)name,
                                 .kind = kind,
                                 .line = node_line(kn),
                                 .slot = p->nvars_of[kind]++,
                                 .type = MQ_T_NUMBER};
        exprs[nv++] = fy_node_pair_value(pair);
    }
    L->env.vars = vars;
    L->env.nvars = nv;
    /* settle types quietly: a variable's type may depend on a later one */
    for (int pass = 0; pass < 3; pass++) {
        mq_diags scratch = {0};
        mq_diags *real = L->env.diags;
        L->env.diags = &scratch;
        L->env.dry_run = true;
        for (int i = 0; i < nv; i++) {
            mq_scope s = policy_scope(L);
            if (vars[i].kind != MQ_ENT_POLICY)
                mq_scope_enter(&s, vars[i].kind);
            s.self_kind = vars[i].kind;
            char *text = fy_node_is_scalar(exprs[i]) ? scalar(L, exprs[i], "expression") : NULL;
            mq_prog *pr =
                text ? mq_expr_compile(&L->env, &s, text, 0, 0, &vars[i].type, &vars[i].domain)
                     : NULL;
            mq_prog_free(pr);
        }
        L->env.diags = real;
        L->env.dry_run = false;
        mq_diags_free(&scratch);
    }
    for (int i = 0; i < nv; i++) {
        mq_scope s = policy_scope(L);
        if (vars[i].kind != MQ_ENT_POLICY)
            mq_scope_enter(&s, vars[i].kind);
        s.self_kind = vars[i].kind;
        L->env.ndeps = 0;
        vars[i].prog = compile_at(L, &s, exprs[i], vars[i].name, &vars[i].type, &vars[i].domain);
        deps[i] = malloc(sizeof(int) * (size_t)(L->env.ndeps ? L->env.ndeps : 1));
        if (deps[i] && L->env.ndeps)
            memcpy(deps[i], L->env.deps, sizeof(int) * (size_t)L->env.ndeps);
        ndeps[i] = deps[i] ? L->env.ndeps : 0;
    }
    int no = 0;
    for (int i = 0; i < nv; i++)
        visit_var(L, i, order, &no, deps, ndeps);
    p->vars = calloc((size_t)(nv ? nv : 1), sizeof(mq_var_decl));
    if (p->vars)
        for (int i = 0; i < no; i++)
            p->vars[p->nvars++] = vars[order[i]];
    group_vars(p);
done:
    for (int i = 0; deps && i < n; i++)
        free(deps[i]);
    free(deps);
    free(ndeps);
    free(order);
    free(exprs);
    /* env.vars keeps pointing at the declaration order for later compiles */
}

static void load_eligibility(loader *L, struct fy_node *seq)
{
    static const char *const keys[] = {"decline", "unavailable", "reason", NULL};
    mq_plan *p = L->p;
    if (!seq)
        return;
    if (!fy_node_is_sequence(seq)) {
        ERR(L, seq, "eligibility must be a list of rules");
        return;
    }
    int n = fy_node_sequence_item_count(seq);
    p->rules = mq_arena_alloc(&p->mem, sizeof(mq_rule) * (size_t)(n ? n : 1));
    void *it = NULL;
    struct fy_node *r;
    while (p->rules && (r = fy_node_sequence_iterate(seq, &it))) {
        if (!check_keys(L, r, "eligibility rule", keys))
            continue;
        struct fy_node *dcl = get(r, "decline"), *un = get(r, "unavailable");
        if ((dcl != NULL) == (un != NULL)) {
            ERR(L, r, "an eligibility rule has exactly one of decline or unavailable");
            continue;
        }
        char *reason = required_scalar(L, r, "reason", "eligibility rule");
        mq_scope s = policy_scope(L);
        mq_prog *when = compile_condition(L, &s, dcl ? dcl : un, dcl ? "decline" : "unavailable");
        if (when)
            p->rules[p->nrules++] = (mq_rule){dcl ? MQ_DECLINED : MQ_UNAVAILABLE, when, reason};
    }
}

/* "bi, pd, med, um, comp, coll": the coverages of line l, for messages. */
static void coverage_list(const mq_line_def *l, char *out, size_t len)
{
    size_t n = 0;
    out[0] = '\0';
    for (int c = 0; c < l->ncoverages && n < len; c++)
        n += (size_t)snprintf(out + n, len - n, "%s%s", c ? ", " : "", l->coverages[c].code);
}

static void load_coverages(loader *L, struct fy_node *map)
{
    static const char *const keys[] = {"base", "omit_when", "note", NULL};
    mq_plan *p = L->p;
    if (!map || !fy_node_is_mapping(map) || fy_node_mapping_item_count(map) == 0) {
        ERR(L, map, "coverages must map each offered coverage code to {base: ...}");
        return;
    }
    void *it = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate(map, &it))) {
        struct fy_node *kn = fy_node_pair_key(pair), *v = fy_node_pair_value(pair);
        char *code = scalar(L, kn, "coverage code");
        if (!code)
            continue;
        int ci = mq_coverage_find(L->env.line, code);
        if (ci < 0) {
            char known[200];
            coverage_list(L->env.line, known, sizeof known);
            ERR(L, kn, "\"%s\" is not a coverage of the %s line (%s)", code, L->env.line->name,
                known);
            continue;
        }
        if (!check_keys(L, v, code, keys))
            continue;
        mq_plan_cov *pc = &p->cov[ci];
        mq_scope s = unit_scope(L);
        struct fy_node *base = get(v, "base");
        if (!base) {
            ERR(L, v, "coverage %s: missing \"base\"", code);
            continue;
        }
        pc->offered = true;
        pc->base = compile_at(L, &s, base, "base", NULL, NULL);
        double b;
        if (pc->base && constant_of(L, base, &b) && !(b >= 0))
            ERR(L, base, "coverage %s: base %g is negative (a credit is an add: step)", code, b);
        if (get(v, "omit_when")) {
            pc->omit_when = compile_condition(L, &s, get(v, "omit_when"), "omit_when");
            pc->note = required_scalar(L, v, "note", code);
        }
        p->coverage_codes[p->ncodes++] = L->env.line->coverages[ci].code;
    }
}

static uint64_t coverage_mask(loader *L, struct fy_node *list, const char *where)
{
    uint64_t all = 0;
    for (int c = 0; c < L->env.line->ncoverages; c++)
        if (L->p->cov[c].offered)
            all |= 1ull << c;
    if (!list)
        return all;
    if (!fy_node_is_sequence(list)) {
        ERR(L, list, "%s: coverages must be a list such as [bi, pd]", where);
        return 0;
    }
    if (fy_node_sequence_item_count(list) == 0) { /* it would apply to nothing, silently */
        ERR(L, list, "%s: coverages is empty (leave it out to apply to every coverage)", where);
        return 0;
    }
    uint64_t mask = 0;
    void *it = NULL;
    struct fy_node *n;
    while ((n = fy_node_sequence_iterate(list, &it))) {
        char *code = scalar(L, n, "coverage code");
        int ci = code ? mq_coverage_find(L->env.line, code) : -1;
        char known[200];
        if (code && ci < 0)
            coverage_list(L->env.line, known, sizeof known);
        if (code && ci < 0)
            ERR(L, n, "%s: \"%s\" is not a coverage of the %s line (%s)", where, code,
                L->env.line->name, known);
        else if (ci >= 0 && !L->p->cov[ci].offered)
            ERR(L, n, "%s: coverage %s is not listed under coverages", where, code);
        else if (ci >= 0)
            mask |= 1ull << ci;
    }
    return mask;
}

/* The plain field or variable name `text` is (mq_key_use.name: the
 * policy's without "policy."), or NULL when it is any other expression. */
static const char *plain_name(const char *text)
{
    if (!text || !*text || strncmp(text, "self.", 5) == 0)
        return NULL;
    for (const char *c = text; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_' || *c == '.'))
            return NULL;
    return strncmp(text, "policy.", 7) == 0 ? text + 7 : text;
}

/* Notes table step st's lookup of its table, once per value column it
 * reads (mq_key_use, for mq_engine_lint): by its keys' plain names joined
 * with commas ("bi.per_person,bi.per_accident"), NULL when one is not. */
static void note_step_uses(loader *L, const mq_step *st, struct fy_node *keys)
{
    if (!st->table || !st->keys)
        return;
    char name[512] = "";
    bool plain = true;
    for (int k = 0; k < st->table->nkeys && plain; k++) {
        struct fy_node *kn = fy_node_sequence_get_by_index(keys, k);
        const char *one = st->keys[k] ? plain_name(scalar(L, kn, "key")) : NULL;
        size_t n = strlen(name);
        plain = one && n + strlen(one) + 2 < sizeof name;
        if (plain)
            snprintf(name + n, sizeof name - n, "%s%s", k ? "," : "", one);
    }
    for (int c = 0; c < L->env.line->ncoverages; c++) {
        int col = st->column_for[c];
        bool seen = col < 0;
        for (int c2 = 0; !seen && c2 < c; c2++)
            seen = st->column_for[c2] == col;
        if (!seen &&
            !mq_env_note_use(&L->env, st->table, col, plain ? name : NULL, node_line(keys), false))
            ERR(L, keys, "out of memory");
    }
}

/* mq_step.key_loads and where each key is, when every key is a load. */
static void settle_key_loads(mq_step *st)
{
    st->key_loads = st->keys && st->nkeys <= 8;
    for (int k = 0; st->key_loads && k < st->nkeys; k++) {
        st->key_loads = st->keys[k] && st->keys[k]->form == FORM_LOAD;
        if (st->key_loads) {
            st->key_rows[k] = st->keys[k]->rows;
            st->key_index[k] = st->keys[k]->index;
        }
    }
}

/* The first plain item of a flow list `[ ... ]` whose parentheses or
 * brackets do not pair up: an expression that a comma cut in two (`key:
 * [age(driver.date_of_birth, effective_date)]` is the two items
 * "age(driver.date_of_birth" and "effective_date)"). NULL when none. */
static struct fy_node *cut_flow_item(struct fy_node *seq)
{
    if (fy_node_get_style(seq) != FYNS_FLOW)
        return NULL;
    void *it = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(seq, &it))) {
        size_t len = 0;
        const char *s = fy_node_is_scalar(item) && fy_node_get_style(item) == FYNS_PLAIN
                            ? fy_node_get_scalar(item, &len)
                            : NULL;
        int depth = 0;
        for (size_t i = 0; s && i < len; i++)
            depth += (s[i] == '(' || s[i] == '[') - (s[i] == ')' || s[i] == ']');
        if (depth != 0)
            return item;
    }
    return NULL;
}

static void load_table_step(loader *L, struct fy_node *sn, mq_step *st)
{
    mq_plan *p = L->p;
    char *tname = scalar(L, get(sn, "table"), "table");
    const mq_table *t = NULL;
    for (int i = 0; tname && i < p->ntables; i++)
        if (strcmp(p->tables[i]->name, tname) == 0)
            t = p->tables[i];
    if (!t) {
        bool failed_before = false;
        for (int i = 0; tname && i < L->env.nfailed; i++)
            failed_before |= strcmp(L->env.failed_tables[i], tname) == 0;
        if (tname && !failed_before)
            ERR(L, get(sn, "table"), "unknown table \"%s\"", tname);
        return;
    }
    st->kind = STEP_TABLE;
    st->table = t;
    struct fy_node *keys = get(sn, "key");
    if (!keys || !fy_node_is_sequence(keys)) {
        ERR(L, keys ? keys : sn, "step %s: key must be a list of expressions", st->name);
        return;
    }
    struct fy_node *cut = cut_flow_item(keys);
    if (cut) {
        size_t len;
        const char *text = fy_node_get_scalar(cut, &len);
        ERR(L, cut,
            "step %s: key \"%.*s\" is an expression cut at a comma: inside [ ] a comma ends a "
            "value, so put a key holding commas in quotes (key: [\"age(driver.date_of_birth, "
            "effective_date)\"])",
            st->name, len > 100 ? 100 : (int)len, text);
        return;
    }
    if (fy_node_sequence_item_count(keys) != t->nkeys) {
        ERR(L, keys, "step %s: table %s takes %d key%s, not %d", st->name, t->name, t->nkeys,
            t->nkeys == 1 ? "" : "s", fy_node_sequence_item_count(keys));
        return;
    }
    st->keys = mq_arena_alloc(&p->mem, sizeof(mq_prog *) * (size_t)t->nkeys);
    mq_scope s = unit_scope(L);
    void *it = NULL;
    struct fy_node *k;
    for (int i = 0; st->keys && (k = fy_node_sequence_iterate(keys, &it)); i++) {
        mq_type type;
        int dom;
        st->keys[i] = compile_at(L, &s, k, "key", &type, &dom);
        st->key_types[i] = type;
        char why[300];
        if (st->keys[i] &&
            !mq_table_bind_key((mq_table *)t, i, type, (mq_domain)dom, L->d, why, sizeof why) &&
            why[0])
            ERR(L, k, "step %s: key %s %s", st->name, scalar(L, k, "key"), why);
    }
    st->nkeys = t->nkeys;
    settle_key_loads(st);
    char *column = get(sn, "column") ? scalar(L, get(sn, "column"), "column") : NULL;
    st->column_given = column != NULL;
    st->line = node_line(sn);
    int fixed = column ? mq_table_value_index(t, column) : -1;
    if (column && fixed < 0)
        ERR(L, get(sn, "column"), "table %s has no column \"%s\"", t->name, column);
    for (int c = 0; c < L->env.line->ncoverages; c++) {
        if (!(st->coverages & (1ull << c)))
            continue;
        int col = fixed >= 0 ? fixed : mq_table_value_index(t, L->env.line->coverages[c].code);
        if (col < 0 && !column && t->nvalues == 1)
            col = 0;
        if (col < 0 && !column)
            ERR(L, sn, "step %s: table %s has no column \"%s\" (name one with column:)", st->name,
                t->name, L->env.line->coverages[c].code);
        st->column_for[c] = col;
    }
    note_step_uses(L, st, keys);
}

/* Every value of table t's column col that a table step multiplies by must
 * be more than 0 (an empty cell or - is "no value", not a factor). */
static void check_factor_column(loader *L, const mq_table *t, int col, const char *step)
{
    for (int i = 0; i < t->nrows; i++) {
        double v = t->values[i * t->nvalues + col];
        if (!isnan(v) && !(v > 0))
            mq_diag_add(L->d,
                        "%s:%d: %s is %g, but step %s multiplies by it: a factor must be "
                        "more than 0",
                        t->file, t->row_lines[i], t->value_names[col], v, step);
    }
}

/* The column that table step i multiplies coverage c by, when no earlier
 * (step, coverage) multiplies by the same (table, column): so that each is
 * looked at once. -1 when there is none or it was seen. */
static int first_factor_column(const mq_plan *p, int i, int c)
{
    const mq_step *st = &p->steps[i];
    int col = st->kind == STEP_TABLE ? st->column_for[c] : -1;
    for (int j = 0; col >= 0 && j <= i; j++)
        for (int c2 = 0; c2 < (j == i ? c : 64); c2++)
            if (p->steps[j].kind == STEP_TABLE && p->steps[j].table == st->table &&
                p->steps[j].column_for[c2] == col)
                return -1;
    return col;
}

/* Checks each (table, column) a table step multiplies by, once. */
static void check_factor_columns(loader *L, const mq_plan *p)
{
    for (int i = 0; i < p->nsteps; i++)
        for (int c = 0; c < 64; c++) {
            int col = first_factor_column(p, i, c);
            if (col >= 0)
                check_factor_column(L, p->steps[i].table, col, p->steps[i].name);
        }
}

/* A discount item counts only on coverages its step runs on: one it lists
 * that the step does not is an error, not an item that silently applies to
 * nothing. */
static void item_within_step(loader *L, struct fy_node *list, const mq_discount *d,
                             const mq_step *st)
{
    uint64_t outside = list ? d->coverages & ~st->coverages : 0;
    if (outside)
        ERR(L, list, "discount %s: coverage %s is not among the coverages of step %s",
            d->name ? d->name : "", L->env.line->coverages[__builtin_ctzll(outside)].code,
            st->name);
}

/* A discount item named like one before it, in this step (st, being
 * loaded) or an earlier one, on a coverage both count for: the discount
 * would be taken twice (one listed twice, or a second discounts step
 * repeating the first's). Items of one name on different coverages (an
 * anti-theft credit of 10% on comp and 5% on coll) are fine. */
static void check_discount_once(loader *L, const mq_step *st, const mq_discount *d)
{
    const mq_plan *p = L->p;
    for (int s = 0; s <= p->nsteps && d->name; s++) {
        const mq_step *o = s < p->nsteps ? &p->steps[s] : st;
        for (int i = 0; o->kind == STEP_DISCOUNTS && i < o->nitems; i++) {
            const mq_discount *e = &o->items[i];
            uint64_t both = e->coverages & d->coverages;
            if (!e->name || strcmp(e->name, d->name) != 0 || !both)
                continue;
            err_at(L, d->line,
                   "discount %s is already in step %s (line %d) for coverage %s: it would be "
                   "taken twice (if the two never apply together, give them different names)",
                   d->name, o->name, e->line, L->env.line->coverages[__builtin_ctzll(both)].code);
            return;
        }
    }
}

static void load_discounts(loader *L, struct fy_node *dn, mq_step *st)
{
    static const char *const keys[] = {"cap", "items", NULL};
    static const char *const item_keys[] = {"name", "amount", "when", "coverages", NULL};
    mq_plan *p = L->p;
    st->kind = STEP_DISCOUNTS;
    st->cap = 1;
    if (!check_keys(L, dn, "discounts", keys))
        return;
    if (get(dn, "cap") && number_of(L, get(dn, "cap"), "cap", &st->cap) &&
        (st->cap < 0 || st->cap > 1))
        ERR(L, get(dn, "cap"), "discount cap must be between 0 and 1 (0.30 = 30%%)");
    struct fy_node *items = get(dn, "items");
    if (!items || !fy_node_is_sequence(items)) {
        ERR(L, items ? items : dn, "discounts: items must be a list");
        return;
    }
    int n = fy_node_sequence_item_count(items);
    st->items = mq_arena_alloc(&p->mem, sizeof(mq_discount) * (size_t)(n ? n : 1));
    mq_scope s = unit_scope(L);
    void *it = NULL;
    struct fy_node *in;
    while (st->items && (in = fy_node_sequence_iterate(items, &it))) {
        if (!check_keys(L, in, "discount", item_keys))
            continue;
        mq_discount *d = &st->items[st->nitems];
        d->name = required_scalar(L, in, "name", "discount");
        struct fy_node *amount = get(in, "amount"), *when = get(in, "when");
        if (!amount || !when) {
            ERR(L, in, "discount %s needs amount and when", d->name ? d->name : "");
            continue;
        }
        d->amount = compile_at(L, &s, amount, "amount", NULL, NULL);
        double a;
        if (d->amount && constant_of(L, amount, &a) && !(a > 0 && a < 1))
            ERR(L, amount, "discount %s: amount %g is not a fraction between 0 and 1 (0.12 = 12%%)",
                d->name ? d->name : "", a);
        d->when = compile_condition(L, &s, when, "when");
        char where[160];
        snprintf(where, sizeof where, "discount %s", d->name ? d->name : "");
        d->coverages = coverage_mask(L, get(in, "coverages"), where);
        item_within_step(L, get(in, "coverages"), d, st);
        d->coverages &= st->coverages;
        d->line = node_line(in);
        check_discount_once(L, st, d);
        st->nitems++;
    }
}

static bool same_lookup(const mq_step *a, const mq_step *b)
{
    if (a->table != b->table || a->nkeys != b->nkeys)
        return false;
    for (int k = 0; k < a->nkeys; k++)
        if (!a->keys || !b->keys || !mq_prog_same(a->keys[k], b->keys[k]))
            return false;
    return true;
}

/* True when every key of table step st is the same for every unit (it reads
 * only policy data, see mq_prog_policy_only). */
static bool policy_lookup(const mq_line_def *l, const mq_step *st)
{
    for (int k = 0; k < st->nkeys; k++)
        if (!st->keys || !st->keys[k] || !mq_prog_policy_only(st->keys[k], l))
            return false;
    return true;
}

/* Gives each table step its cache slot: steps that look up the same table
 * with the same keys (the liability and physical damage columns of one
 * driver class table) share one, so the lookup is done once per unit.
 * Lookups keyed by policy data only (the BI limits) come first, in slots
 * [0, npolicy_slots) that are kept for the whole rating: they are done once
 * per rating, not once per unit. */
static void assign_slots(mq_plan *p, const mq_line_def *l)
{
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < p->nsteps; i++) {
            mq_step *st = &p->steps[i];
            if (st->kind != STEP_TABLE || policy_lookup(l, st) != (pass == 0))
                continue;
            st->slot = -1;
            for (int j = 0; j < i && st->slot < 0; j++)
                if (p->steps[j].kind == STEP_TABLE && same_lookup(&p->steps[j], st))
                    st->slot = p->steps[j].slot;
            if (st->slot < 0)
                st->slot = p->nslots++;
        }
        if (pass == 0)
            p->npolicy_slots = p->nslots;
    }
}

/* The discount group of coverage `cov` within step st: the coverages that
 * count the same items share one (-1 when the step has more than 64 items). */
static int discount_group(mq_plan *p, mq_step *st, int cov)
{
    if (st->nitems > 64)
        return -1;
    uint64_t items = 0;
    for (int i = 0; i < st->nitems; i++)
        if (st->items[i].coverages & (1ull << cov))
            items |= 1ull << i;
    for (int g = 0; g < st->ngroups; g++)
        if (st->group_items[g] == items)
            return g;
    if (!st->group_items &&
        !(st->group_items = mq_arena_alloc(&p->mem, sizeof(uint64_t) * 64))) /* one per coverage */
        return -1;
    st->group_items[st->ngroups] = items;
    return st->ngroups++;
}

/* Numbers the discount groups plan-wide once every coverage has its ops
 * (cov_op gave each op its group within the step). */
static void number_groups(mq_plan *p, int ncoverages)
{
    for (int i = 0; i < p->nsteps; i++) {
        p->steps[i].first_group = p->ngroups;
        p->ngroups += p->steps[i].ngroups;
    }
    for (int c = 0; c < ncoverages; c++)
        for (int i = 0; p->cov[c].ops && i < p->cov[c].nsteps; i++) {
            mq_cov_op *op = &p->cov[c].ops[i];
            if (op->kind == STEP_DISCOUNTS && op->slot >= 0)
                op->slot += op->step->first_group;
            else if (op->kind == STEP_DISCOUNTS) /* rated by run_discounts */
                p->ungrouped_items = true;
        }
}

/* The line's coverage choices in the form rate.c reads them (mq_choices):
 * the same answers as asking each coverage's scope and presence field. */
static void settle_choices(mq_plan *p, const mq_line_def *l)
{
    mq_choices *ch = &p->choices;
    for (int c = 0; c < l->ncoverages && c < 64; c++) {
        const mq_coverage_def *cd = &l->coverages[c];
        if (!p->cov[c].offered)
            ch->unoffered |= 1ull << c;
        if (cd->presence_field < 0) {
            if (cd->scope == MQ_ENT_POLICY || cd->scope == l->unit)
                ch->always |= 1ull << c;
        } else if (cd->scope == MQ_ENT_POLICY) {
            ch->policy_cov[ch->npolicy] = (int8_t)c;
            ch->policy_field[ch->npolicy++] = (int16_t)cd->presence_field;
        } else if (cd->scope == l->unit) {
            ch->unit_cov[ch->nunit] = (int8_t)c;
            ch->unit_field[ch->nunit++] = (int16_t)cd->presence_field;
        }
    }
}

/* Lists the discount items that read unit data (mq_plan.unit_items): the
 * others (multi-car, homeowner, paperless) are the same for every unit. */
static void list_unit_items(loader *L, mq_plan *p, const mq_line_def *l)
{
    p->unit_items = mq_arena_alloc(&p->mem, sizeof(int) * (size_t)(p->nitems + 1));
    if (!p->unit_items)
        err_at(L, 0, "out of memory");
    p->masked_unit_bits = mq_arena_alloc(&p->mem, sizeof(uint64_t) * (size_t)(p->nsteps + 1));
    if (!p->masked_unit_bits)
        err_at(L, 0, "out of memory");
    for (int s = 0; p->unit_items && p->masked_unit_bits && s < p->nsteps; s++) {
        mq_step *st = &p->steps[s];
        if (st->kind != STEP_DISCOUNTS)
            continue;
        if (st->ngroups)
            st->mask_index = p->nmasked++;
        else
            p->ungrouped_items = true;
        for (int i = 0; i < st->nitems; i++)
            if (!st->items[i].when || !st->items[i].amount ||
                !mq_prog_policy_only(st->items[i].when, l) ||
                !mq_prog_policy_only(st->items[i].amount, l)) {
                p->unit_items[p->nunit_items++] = st->first_item + i;
                if (st->ngroups)
                    p->masked_unit_bits[st->mask_index] |= 1ull << i;
            }
    }
}

static mq_cov_op cov_op(mq_plan *p, mq_step *st, int cov)
{
    mq_cov_op op = {.kind = (uint8_t)st->kind, .slot = -1, .column = -1, .step = st};
    if (st->kind == STEP_TABLE) {
        op.slot = st->slot;
        op.column = st->column_for[cov];
    } else if (st->kind == STEP_DISCOUNTS) {
        op.slot = discount_group(p, st, cov);
    }
    return op;
}

static void load_steps(loader *L, struct fy_node *seq)
{
    static const char *const keys[] = {"name",    "coverages", "table", "key",
                                       "column",  "factor",    "add",   "round",
                                       "minimum", "discounts", NULL};
    static const char *const kinds[] = {"table", "factor", "add", "round", "minimum", "discounts"};
    mq_plan *p = L->p;
    if (!seq || !fy_node_is_sequence(seq)) {
        ERR(L, seq, "steps must be a list");
        return;
    }
    int n = fy_node_sequence_item_count(seq);
    p->steps = mq_arena_alloc(&p->mem, sizeof(mq_step) * (size_t)(n ? n : 1));
    void *it = NULL;
    struct fy_node *sn;
    while (p->steps && (sn = fy_node_sequence_iterate(seq, &it))) {
        if (!check_keys(L, sn, "step", keys))
            continue;
        mq_step *st = &p->steps[p->nsteps];
        st->index = p->nsteps;
        for (int c = 0; c < 64; c++)
            st->column_for[c] = -1;
        st->name = required_scalar(L, sn, "name", "step");
        if (!st->name)
            continue;
        int nkinds = 0, kind = -1;
        for (int k = 0; k < 6; k++)
            if (get(sn, kinds[k]))
                nkinds++, kind = k;
        if (nkinds != 1) {
            ERR(L, sn, "step %s needs exactly one of table, factor, add, round, minimum, discounts",
                st->name);
            continue;
        }
        char where[160];
        snprintf(where, sizeof where, "step %s", st->name);
        st->coverages = coverage_mask(L, get(sn, "coverages"), where);
        mq_scope s = unit_scope(L);
        switch (kind) {
        case 0:
            load_table_step(L, sn, st);
            break;
        case 5:
            load_discounts(L, get(sn, "discounts"), st);
            st->first_item = p->nitems;
            p->nitems += st->nitems;
            break;
        default:
            st->kind = kind == 1   ? STEP_FACTOR
                       : kind == 2 ? STEP_ADD
                       : kind == 3 ? STEP_ROUND
                                   : STEP_MINIMUM;
            st->expr = compile_at(L, &s, get(sn, kinds[kind]), kinds[kind], NULL, NULL);
            double f;
            if (st->expr && st->kind == STEP_FACTOR && constant_of(L, get(sn, "factor"), &f) &&
                !(f > 0))
                ERR(L, get(sn, "factor"), "step %s: factor %g must be more than 0", st->name, f);
            if (st->expr && st->kind == STEP_ROUND && constant_of(L, get(sn, "round"), &f) &&
                !mq_round_step_ok(f))
                ERR(L, get(sn, "round"),
                    "step %s: round %g must be a whole number of cents from 0.01 to 100", st->name,
                    f);
            break;
        }
        p->nsteps++;
    }
    check_factor_columns(L, p);
    assign_slots(p, L->env.line);
    /* each coverage gets the steps that apply to it, packed (mq_cov_op) */
    for (int c = 0; c < L->env.line->ncoverages; c++) {
        mq_plan_cov *pc = &p->cov[c];
        if (!pc->offered)
            continue;
        pc->ops = mq_arena_alloc(&p->mem, sizeof(mq_cov_op) * (size_t)(p->nsteps ? p->nsteps : 1));
        for (int i = 0; pc->ops && i < p->nsteps; i++)
            if (p->steps[i].coverages & (1ull << c))
                pc->ops[pc->nsteps++] = cov_op(p, &p->steps[i], c);
    }
    number_groups(p, L->env.line->ncoverages);
    list_unit_items(L, p, L->env.line);
    settle_choices(p, L->env.line);
}

static void load_money_rules(loader *L, struct fy_node *root)
{
    static const char *const rkeys[] = {"coverage", NULL};
    static const char *const fkeys[] = {"name", "amount", NULL};
    mq_plan *p = L->p;
    p->round_step = 0.01;
    struct fy_node *r = get(root, "rounding");
    if (r && check_keys(L, r, "rounding", rkeys) && get(r, "coverage") &&
        number_of(L, get(r, "coverage"), "rounding.coverage", &p->round_step) &&
        !mq_round_step_ok(p->round_step))
        ERR(L, get(r, "coverage"),
            "rounding.coverage must be a whole number of cents from 0.01 to 100");
    struct fy_node *m = get(root, "minimum_premium");
    if (m)
        money_of(L, m, "minimum_premium", &p->minimum_cents);
    struct fy_node *fees = get(root, "fees");
    if (!fees)
        return;
    if (!fy_node_is_sequence(fees)) {
        ERR(L, fees, "fees must be a list of {name, amount}");
        return;
    }
    int n = fy_node_sequence_item_count(fees);
    p->fees = mq_arena_alloc(&p->mem, sizeof(mq_fee) * (size_t)(n ? n : 1));
    void *it = NULL;
    struct fy_node *f;
    while (p->fees && (f = fy_node_sequence_iterate(fees, &it))) {
        if (!check_keys(L, f, "fee", fkeys))
            continue;
        mq_fee *fee = &p->fees[p->nfees];
        fee->name = required_scalar(L, f, "name", "fee");
        if (get(f, "amount") && money_of(L, get(f, "amount"), "fee amount", &fee->cents)) {
            p->fees_cents += fee->cents;
            p->nfees++;
        } else if (!get(f, "amount")) {
            ERR(L, f, "fee: missing \"amount\"");
        }
    }
}

static void load_product(loader *L, struct fy_node *n)
{
    static const char *const keys[] = {"name", "metal", "deductible", "out_of_pocket_max", NULL};
    mq_plan *p = L->p;
    p->metal = -1;
    if (!n)
        return;
    if (!check_keys(L, n, "product", keys))
        return;
    p->product_name = required_scalar(L, n, "name", "product");
    char *metal = get(n, "metal") ? scalar(L, get(n, "metal"), "product.metal") : NULL;
    if (metal && (p->metal = mq_symbol_find(MQ_DOM_METAL, metal)) < 0)
        ERR(L, get(n, "metal"),
            "product.metal \"%s\" is not bronze, silver, gold, platinum or "
            "catastrophic",
            metal);
    if (get(n, "deductible"))
        money_of(L, get(n, "deductible"), "product.deductible", &p->deductible_cents);
    if (get(n, "out_of_pocket_max"))
        money_of(L, get(n, "out_of_pocket_max"), "product.out_of_pocket_max", &p->oop_max_cents);
}

/* class: EXPR -- the underwriting class (term life), e.g.
 * tobacco ? health_class("tobacco_standard") : ... */
static void load_class(loader *L, struct fy_node *n)
{
    if (!n)
        return;
    mq_scope s = policy_scope(L);
    mq_type type;
    int dom;
    L->p->class_expr = compile_at(L, &s, n, "class", &type, &dom);
    if (L->p->class_expr && (type != MQ_T_ENUM || dom != MQ_DOM_HEALTH_CLASS))
        ERR(L, n, "class must give a health class, e.g. health_class(\"standard\")");
}

/* ---- One plan --------------------------------------------------------- */

static void plan_free(mq_plan *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->ntables; i++)
        mq_table_free(p->tables[i]);
    free(p->tables);
    for (int i = 0; i < p->nvars; i++)
        mq_prog_free(p->vars[i].prog);
    free(p->vars);
    for (int i = 0; i < p->nrules; i++)
        mq_prog_free(p->rules[i].when);
    mq_prog_free(p->class_expr);
    for (int c = 0; c < 64; c++) {
        mq_prog_free(p->cov[c].base);
        mq_prog_free(p->cov[c].omit_when);
    }
    for (int i = 0; i < p->nsteps; i++) {
        mq_step *st = &p->steps[i];
        mq_prog_free(st->expr);
        for (int k = 0; k < st->nkeys && st->keys; k++)
            mq_prog_free(st->keys[k]);
        for (int d = 0; d < st->nitems; d++) {
            mq_prog_free(st->items[d].amount);
            mq_prog_free(st->items[d].when);
        }
    }
    for (int i = 0; i < p->nuses; i++)
        free(p->uses[i].name);
    free(p->uses);
    mq_arena_free(&p->mem);
    free(p);
}

static const char *file_kind(mode_t mode)
{
    return S_ISDIR(mode)                    ? "a folder"
           : S_ISFIFO(mode)                 ? "a FIFO"
           : S_ISSOCK(mode)                 ? "a socket"
           : S_ISCHR(mode) || S_ISBLK(mode) ? "a device"
                                            : "not a plain file";
}

char *mq_read_file(const char *path, const char *display, size_t max, size_t *len, char *err,
                   size_t errlen)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open: %s", display, strerror(errno));
        return NULL;
    }
    struct stat st;
    char *buf = NULL;
    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s: cannot be read: %s", display, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: is %s, not a regular file", display, file_kind(st.st_mode));
    } else if ((uintmax_t)st.st_size > max) {
        snprintf(err, errlen, "%s: larger than %zu bytes", display, max);
    } else if (!(buf = malloc((size_t)st.st_size + 1))) {
        snprintf(err, errlen, "%s: out of memory", display);
    } else {
        size_t n = 0, want = (size_t)st.st_size;
        ssize_t got = 1;
        while (n < want && (got = read(fd, buf + n, want - n)) > 0)
            n += (size_t)got;
        if (got < 0) {
            snprintf(err, errlen, "%s: cannot be read: %s", display, strerror(errno));
            free(buf);
            buf = NULL;
        } else {
            buf[n] = '\0'; /* a file that shrank meanwhile is read as it now is */
            *len = n;
        }
    }
    close(fd);
    return buf;
}

int mq_yaml_line(struct fy_node *n)
{
    return node_line(n);
}

/* The code point of the UTF-8 character at s (n > 0 bytes left) and its
 * length in *len, or -1 when the bytes are not well-formed UTF-8 (a stray
 * continuation byte, an overlong form, a surrogate, past U+10FFFF, or cut
 * short). */
static int32_t utf8_decode(const unsigned char *s, size_t n, int *len)
{
    static const uint32_t min_of_len[5] = {0, 0, 0x80, 0x800, 0x10000};
    int k = s[0] < 0x80   ? 1
            : s[0] < 0xC0 ? 0
            : s[0] < 0xE0 ? 2
            : s[0] < 0xF0 ? 3
            : s[0] < 0xF8 ? 4
                          : 0;
    if (k == 0 || (size_t)k > n)
        return -1;
    uint32_t cp = k == 1 ? s[0] : s[0] & (0x7F >> k);
    for (int i = 1; i < k; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return -1;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if (cp < min_of_len[k] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    *len = k;
    return (int32_t)cp;
}

/* YAML 1.2's printable characters (c-printable), which a stream may hold. */
static bool yaml_printable(uint32_t cp)
{
    return cp == 0x09 || cp == 0x0A || cp == 0x0D || (cp >= 0x20 && cp <= 0x7E) || cp == 0x85 ||
           (cp >= 0xA0 && cp <= 0xD7FF) || (cp >= 0xE000 && cp <= 0xFFFD) || cp >= 0x10000;
}

int mq_yaml_check_text(const char *text, size_t len, char *why, size_t whylen)
{
    const unsigned char *s = (const unsigned char *)text;
    int line = 1;
    bool line_start = true;
    for (size_t i = 0; i < len;) {
        int n = 0;
        int32_t cp = utf8_decode(s + i, len - i, &n);
        if (cp < 0) {
            snprintf(why, whylen, "not valid UTF-8 (byte 0x%02X)", s[i]);
            return line;
        }
        if (!yaml_printable((uint32_t)cp)) {
            snprintf(why, whylen, "character U+%04X is not allowed in YAML", (unsigned)cp);
            return line;
        }
        if (line_start && cp == '%') {
            snprintf(why, whylen, "YAML directives (%%...) are not allowed");
            return line;
        }
        /* A line starts after LF, after a CR not followed by LF, and after
         * a byte order mark at the start of a line. */
        bool breaks = cp == '\n' || (cp == '\r' && (i + 1 == len || s[i + 1] != '\n'));
        line += breaks;
        line_start = breaks || (line_start && cp == 0xFEFF);
        i += (size_t)n;
    }
    return 0;
}

/* The 1-based line where the stream's second document starts, 0 when it
 * has at most one (fy_document_build_from_string reads the first only).
 * Events only: nothing of the parser outlives it. */
static int second_document_line(const char *text, size_t len, struct fy_diag *diag)
{
    struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET | FYPCF_DISABLE_RECYCLING, .diag = diag};
    struct fy_parser *fyp = fy_parser_create(&cfg);
    if (!fyp)
        return 0;
    int docs = 0, line = 0;
    struct fy_event *ev;
    if (fy_parser_set_string(fyp, text, len) == 0)
        while (!line && (ev = fy_parser_parse(fyp))) {
            if (ev->type == FYET_DOCUMENT_START && ++docs == 2) {
                const struct fy_mark *m = fy_event_start_mark(ev);
                line = m ? m->line + 1 : 1;
            }
            fy_parser_event_free(fyp, ev);
        }
    fy_parser_destroy(fyp);
    return line;
}

/* A document holding nothing: no root, or an empty plain scalar ("---"). */
static bool empty_root(struct fy_node *root)
{
    size_t len = 0;
    return !root ||
           (fy_node_is_scalar(root) && fy_node_get_style(root) == FYNS_PLAIN &&
            fy_node_get_scalar(root, &len) && len == 0) ||
           (fy_node_is_scalar(root) && !fy_node_get_scalar(root, &len));
}

/* The key written at 1-based `line` and `column` of text (up to its colon
 * or the line's end, at most 60 bytes) into out: libfyaml's "duplicate
 * key" names none. */
static void key_at(const char *text, size_t len, int line, int column, char *out, size_t n)
{
    size_t at = 0;
    for (int l = 1; l < line && at < len; at++)
        l += text[at] == '\n';
    at += column > 0 ? (size_t)column - 1 : 0;
    size_t k = 0;
    while (at < len && k + 1 < n && k < 60 && text[at] != ':' && text[at] != '\n' &&
           text[at] != '\r')
        out[k++] = text[at++];
    while (k && (out[k - 1] == ' ' || out[k - 1] == '\t'))
        k--;
    out[k] = '\0';
}

/* Adds up to max_errors of libfyaml's collected errors in text to d; how
 * many. */
static int add_yaml_errors(struct fy_diag *diag, const char *text, size_t len, const char *display,
                           mq_diags *d, int max_errors)
{
    void *it = NULL;
    struct fy_diag_error *e;
    int n = 0;
    while ((e = fy_diag_errors_iterate(diag, &it)) && n < max_errors) {
        /* `{base: rate[territory]}`: brackets open a list inside { } */
        bool flow = e->msg && strstr(e->msg, "flow");
        char key[64] = "";
        if (e->msg && strcmp(e->msg, "duplicate key") == 0)
            key_at(text, len, e->line, e->column, key, sizeof key);
        mq_diag_add(d, "%s:%d:%d: %s%s%s%s%s", display, e->line, e->column, e->msg, /* 1-based */
                    flow ? " (inside { } or [ ], put an expression holding [ ], { } or commas "
                           "in quotes: base: \"base_rate[territory]\")"
                         : "",
                    key[0] ? " \"" : "", key,
                    key[0] ? "\": a key appears once in a mapping, and this one is already above"
                           : "");
        n++;
    }
    return n;
}

/* The 1-based line of the document's first alias (*name, also the value
 * of a merge key, <<: *name), with its name in `name`; 0 when it has none.
 * The loaders read the tree as written, without resolving aliases, so an
 * alias would be read as the text "name" rather than the value it stands
 * for: an error rather than a plan read wrongly. */
static int first_alias_line(struct fy_document *doc, char *name, size_t namelen)
{
    struct fy_document_iterator *it = fy_document_iterator_create();
    if (!it)
        return 0;
    int line = 0;
    struct fy_node *n;
    fy_document_iterator_node_start(it, fy_document_root(doc));
    while (!line && (n = fy_document_iterator_node_next(it)))
        if (fy_node_is_alias(n)) {
            size_t len = 0;
            const char *s = fy_node_get_scalar(n, &len);
            snprintf(name, namelen, "%.*s", s ? (int)(len < 64 ? len : 64) : 0, s ? s : "");
            line = node_line(n);
            line = line > 0 ? line : 1;
        }
    fy_document_iterator_destroy(it);
    return line;
}

/* Checks text (mq_yaml_check_text) and parses it, libfyaml's errors
 * collected rather than printed: libfyaml 0.7.12 crashes formatting some
 * errors for printing, which FYPCF_QUIET alone does not avoid (found by
 * fuzz_registry). NULL with up to `max_errors` messages "display:line:col:
 * what" added to d; "display: empty: no WHAT" for a stream with no
 * document or an empty one, and a second document an error at its line. */
static struct fy_document *parse_yaml(const char *text, size_t len, const char *display,
                                      const char *what, mq_diags *d, int max_errors)
{
    char why[128], alias[80];
    int line = mq_yaml_check_text(text, len, why, sizeof why);
    if (line) {
        mq_diag_add(d, "%s:%d: %s", display, line, why);
        return NULL;
    }
    struct fy_diag_cfg dcfg;
    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    dcfg.output_fn = NULL;
    struct fy_diag *diag = fy_diag_create(&dcfg);
    if (!diag)
        return NULL;
    fy_diag_set_collect_errors(diag, true);
    struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET | FYPCF_DISABLE_RECYCLING, .diag = diag};
    struct fy_document *doc = fy_document_build_from_string(&cfg, text, FY_NT);
    if (!doc && !add_yaml_errors(diag, text, len, display, d, max_errors))
        mq_diag_add(d, "%s: empty: no %s", display, what);
    else if (doc && empty_root(fy_document_root(doc)))
        mq_diag_add(d, "%s: empty: no %s", display, what);
    else if (doc && (line = second_document_line(text, len, diag)) > 0)
        mq_diag_add(d, "%s:%d: a second YAML document: the file holds one %s", display, line, what);
    else if (doc && add_yaml_errors(diag, text, len, display, d, max_errors))
        ; /* the second document is not even valid YAML */
    else if (doc && (line = first_alias_line(doc, alias, sizeof alias)) > 0)
        mq_diag_add(d,
                    "%s:%d: a YAML alias (*%s): anchors, aliases and merge keys (<<: *%s) are not "
                    "read; write the value out",
                    display, line, alias, alias);
    else if (doc) {
        fy_diag_destroy(diag);
        return doc;
    }
    if (doc)
        fy_document_destroy(doc);
    fy_diag_destroy(diag);
    return NULL;
}

struct fy_document *mq_yaml_load(const char *path, size_t max, char **text, char *err,
                                 size_t errlen)
{
    *text = NULL;
    size_t n;
    char *buf = mq_read_file(path, path, max, &n, err, errlen);
    if (!buf)
        return NULL;
    mq_diags d = {0};
    struct fy_document *doc = parse_yaml(buf, n, path, "YAML document", &d, 1);
    if (!doc) {
        snprintf(err, errlen, "%s", d.count ? d.items[0].text : "out of memory");
        free(buf);
    } else {
        *text = buf;
    }
    mq_diags_free(&d);
    return doc;
}

/* ---- The digest: one hash of a plan version's files ------------------- */

/* Adds one file, of SHA-256 `sum`, to the digest as the line sha256sum(1)
 * prints for it, "<64 hex digits>  <name>\n": the digest of a version is
 * then `sha256sum plan.yaml <its table files in byte order> | sha256sum`,
 * run in its folder. */
static void digest_add_sum(crypto_hash_sha256_state *h, const char *name,
                           const unsigned char sum[crypto_hash_sha256_BYTES])
{
    char hex[2 * crypto_hash_sha256_BYTES + 1];
    sodium_bin2hex(hex, sizeof hex, sum, crypto_hash_sha256_BYTES);
    crypto_hash_sha256_update(h, (const unsigned char *)hex, strlen(hex));
    crypto_hash_sha256_update(h, (const unsigned char *)"  ", 2);
    crypto_hash_sha256_update(h, (const unsigned char *)name, strlen(name));
    crypto_hash_sha256_update(h, (const unsigned char *)"\n", 1);
}

static void digest_add(crypto_hash_sha256_state *h, const char *name, const char *text, size_t len)
{
    unsigned char sum[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(sum, (const unsigned char *)text, len);
    digest_add_sum(h, name, sum);
}

static int is_csv(const struct dirent *de)
{
    size_t n = strlen(de->d_name);
    return de->d_name[0] != '.' && n > 4 && strcmp(de->d_name + n - 4, ".csv") == 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name); /* bytes, not the locale's order */
}

static int by_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The path of table t's file in the plan's folder, as plan.yaml names it
 * (t->file is "<folder>/<that path>"). */
static const char *table_path(const mq_plan *p, const mq_table *t)
{
    size_t n = strlen(p->dir);
    return strncmp(t->file, p->dir, n) == 0 && t->file[n] == '/' ? t->file + n + 1 : t->file;
}

static bool listed(const char *const *names, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

/* Whether the file held in `stamp` is still under `path` and still holds
 * the bytes hashed before it was parsed: the file the rates came from. The
 * file is held open, so no other file can have taken its inode number. */
static bool unchanged(const char *path, const file_stamp *stamp)
{
    struct stat st;
    unsigned char now[crypto_hash_sha256_BYTES];
    return stamp->fd >= 0 && stat(path, &st) == 0 && st.st_dev == stamp->dev &&
           st.st_ino == stamp->ino && hash_fd(stamp->fd, now) &&
           memcmp(now, stamp->sum, sizeof now) == 0;
}

/* The stamp of the first table of p read from `name` (a path in its
 * folder), or NULL for a file no table reads; *same false when the file at
 * `path` is no longer the one, with the bytes, that every table read from
 * it was parsed from. */
static const file_stamp *stamp_of(const mq_plan *p, const file_stamp *stamps, const char *name,
                                  const char *path, bool *same)
{
    const file_stamp *first = NULL;
    *same = true;
    for (int i = 0; i < p->ntables; i++)
        if (strcmp(table_path(p, p->tables[i]), name) == 0) {
            first = first ? first : &stamps[i];
            *same = *same && unchanged(path, &stamps[i]);
        }
    return first;
}

/* Hashes the n files `names` (paths in p's folder) in that order; a table
 * file as it was hashed before it was parsed. One that changed while the
 * plan loaded (replaced or written over) is an error: the digest would not
 * be of the rates loaded, and a compiled function matched by it could rate
 * them with another table's key maps. */
static bool digest_files(crypto_hash_sha256_state *h, const mq_plan *p, const file_stamp *stamps,
                         const char *const *names, int n, mq_diags *d)
{
    for (int i = 0; i < n; i++) {
        char path[PATH_MAX], why[PATH_MAX + 64];
        size_t len = 0;
        snprintf(path, sizeof path, "%s/%s", p->dir, names[i]);
        bool same;
        const file_stamp *stamp = stamp_of(p, stamps, names[i], path, &same);
        if (!same) {
            mq_diag_add(d, "%s: changed while the plan was loading: load the plans again", path);
            return false;
        }
        if (stamp) {
            digest_add_sum(h, names[i], stamp->sum);
            continue;
        }
        char *text = mq_read_file(path, path, MQ_TABLE_MAX_FILE, &len, why, sizeof why);
        if (!text) {
            mq_diag_add(d, "%s", why);
            return false;
        }
        digest_add(h, names[i], text, len);
        free(text);
    }
    return true;
}

/* Hashes every CSV file of the plan's folder, referenced or not, and every
 * table file plan.yaml names (in a subfolder, or not named .csv: a table
 * the rating reads is always in the digest), each once, in byte order of
 * its path. */
static bool digest_tables(crypto_hash_sha256_state *h, const mq_plan *p, const file_stamp *stamps,
                          mq_diags *d)
{
    struct dirent **list;
    int n = scandir(p->dir, &list, is_csv, by_name);
    if (n < 0) {
        mq_diag_add(d, "%s: cannot list: %s", p->dir, strerror(errno));
        return false;
    }
    const char **names = malloc(sizeof(char *) * (size_t)(n + p->ntables + 1));
    int nnames = 0;
    bool ok = names != NULL;
    if (!ok)
        mq_diag_add(d, "%s: out of memory", p->dir);
    for (int i = 0; ok && i < n; i++)
        names[nnames++] = list[i]->d_name;
    for (int i = 0; ok && i < p->ntables; i++)
        if (!listed(names, nnames, table_path(p, p->tables[i])))
            names[nnames++] = table_path(p, p->tables[i]);
    if (ok) {
        qsort(names, (size_t)nnames, sizeof(char *), by_text);
        ok = digest_files(h, p, stamps, names, nnames, d);
    }
    free(names);
    for (int i = 0; i < n; i++)
        free(list[i]);
    free(list);
    return ok;
}

/* The SHA-256 of the sha256sum lines of plan.yaml and every table file, in
 * name order, as 64 hex digits in p->digest: equal on every node that
 * loaded the same files, and different when any file a rating reads is. */
static bool plan_digest(mq_plan *p, const char *yaml, size_t yaml_len, const file_stamp *stamps,
                        mq_diags *d)
{
    if (sodium_init() < 0) {
        mq_diag_add(d, "%s: libsodium did not initialise", p->file);
        return false;
    }
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    digest_add(&h, "plan.yaml", yaml, yaml_len);
    if (!digest_tables(&h, p, stamps, d))
        return false;
    unsigned char out[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&h, out);
    sodium_bin2hex(p->digest, sizeof p->digest, out, sizeof out);
    return true;
}

static mq_plan *load_plan(const char *dir, mq_diags *d)
{
    static const char *const root_keys[] = {
        "carrier", "plan",     "verifies",        "tables", "variables", "eligibility", "coverages",
        "steps",   "rounding", "minimum_premium", "fees",   "product",   "class",       NULL};
    char file[PATH_MAX];
    snprintf(file, sizeof file, "%s/plan.yaml", dir);
    mq_plan *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    mq_arena_init(&p->mem, 0);
    p->dir = mq_arena_strdup(&p->mem, dir);
    p->file = mq_arena_strdup(&p->mem, file);
    loader L = {.file = p->file, .dir = p->dir, .d = d, .errors_before = d->count, .p = p};
    size_t len = 0;
    char why[4200];
    char *text = mq_read_file(file, file, PLAN_MAX_FILE, &len, why, sizeof why);
    if (!text)
        mq_diag_add(d, "%s", why);
    struct fy_document *doc = text ? parse_yaml(text, len, file, "plan", d, 5) : NULL;
    struct fy_node *root = doc ? fy_document_root(doc) : NULL;
    if (!root || !check_keys(&L, root, "top level", root_keys))
        goto done;
    load_header(&L, root);
    if (failed(&L))
        goto done;
    L.env = (mq_compile_env){.line = mq_line_get(p->line), .file = p->file, .diags = d};
    load_verifies(&L, get(root, "verifies"));
    load_tables(&L, get(root, "tables"));
    L.env.tables = p->tables;
    L.env.ntables = p->ntables;
    load_variables(&L, get(root, "variables"));
    load_eligibility(&L, get(root, "eligibility"));
    load_coverages(&L, get(root, "coverages"));
    load_steps(&L, get(root, "steps"));
    load_money_rules(&L, root);
    load_product(&L, get(root, "product"));
    load_class(&L, get(root, "class"));
    for (int i = 0; i < p->ntables; i++)
        mq_table_compile(p->tables[i], d);
    if (!failed(&L)) /* a file that failed above would fail here again */
        plan_digest(p, text, strlen(text), L.stamps, d);
done:
    for (int i = 0; L.stamps && i < p->ntables; i++)
        release_file(&L.stamps[i]);
    free(L.stamps);
    free(L.env.vars);
    free(L.env.deps);
    free(L.env.failed_tables);
    p->uses = L.env.uses; /* the plan's now, freed with it */
    p->nuses = L.env.nuses;
    if (doc)
        fy_document_destroy(doc);
    free(text);
    if (failed(&L)) {
        plan_free(p);
        return NULL;
    }
    return p;
}

/* ---- The engine: every plan under a folder ----------------------------- */

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool add_plan(mq_engine *e, mq_plan *p)
{
    if (e->nplans == MAX_PLANS)
        return false;
    if (e->nplans % 16 == 0) {
        mq_plan **plans = realloc(e->plans, sizeof(mq_plan *) * (size_t)(e->nplans + 16));
        if (!plans)
            return false;
        e->plans = plans;
    }
    e->plans[e->nplans++] = p;
    return true;
}

/* The names in `dir` that do not start with '.', in byte order, as *names
 * (free each and the array); their number, or -1 after a diagnostic. */
static int list_names(const char *dir, char ***names, mq_diags *d)
{
    *names = NULL;
    DIR *dh = opendir(dir);
    if (!dh) {
        mq_diag_add(d, "%s: cannot open: %s", dir, strerror(errno));
        return -1;
    }
    char **list = NULL;
    int n = 0, cap = 0;
    bool ok = true;
    struct dirent *de;
    while (ok && (de = readdir(dh))) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            char **grown = realloc(list, sizeof(char *) * (size_t)cap);
            ok = grown != NULL;
            list = grown ? grown : list;
        }
        if (ok && !(list[n] = strdup(de->d_name)))
            ok = false;
        n += ok;
    }
    closedir(dh);
    if (!ok) {
        mq_diag_add(d, "%s: out of memory listing the folder", dir);
        for (int i = 0; i < n; i++)
            free(list[i]);
        free(list);
        return -1;
    }
    if (n > 1) /* an empty folder's list is NULL, which qsort may not be given */
        qsort(list, (size_t)n, sizeof(char *), cmp_names);
    *names = list;
    return n;
}

static void free_names(char **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static bool has_file(const char *dir, const char *name)
{
    char path[PATH_MAX];
    struct stat st;
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    return n > 0 && (size_t)n < sizeof path && stat(path, &st) == 0;
}

/* Whether `dir` or a folder under it, at most `levels` further down,
 * holds a plan.yaml or market.yaml. */
static bool holds_plan(const char *dir, int levels)
{
    if (has_file(dir, "plan.yaml") || has_file(dir, "market.yaml"))
        return true;
    mq_diags quiet = {0};
    char **names;
    int n = levels > 0 ? list_names(dir, &names, &quiet) : -1;
    bool found = false;
    for (int i = 0; i < n && !found; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        found = is_dir(path) && holds_plan(path, levels - 1);
    }
    if (n >= 0)
        free_names(names, n);
    mq_diags_free(&quiet);
    return found;
}

/* A plan or market folder inside the plan or market folder `top` (its
 * tables may be in subfolders) is not loaded: each is an error rather than
 * a version silently left out. */
static void check_nested(const char *top, const char *dir, int depth, mq_diags *d)
{
    char **names;
    int n = list_names(dir, &names, d);
    for (int i = 0; i < n; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (!is_dir(path))
            continue;
        const char *file = has_file(path, "plan.yaml")     ? "plan.yaml"
                           : has_file(path, "market.yaml") ? "market.yaml"
                                                           : NULL;
        if (file)
            mq_diag_add(d,
                        "%s/%s: a folder inside the folder %s, which holds its own plan or "
                        "market, is not loaded: give each version a folder of its own",
                        path, file, top);
        else if (depth < MAX_DIR_DEPTH)
            check_nested(top, path, depth + 1, d);
    }
    free_names(names, n);
}

/* A file named like a plan or market file but not exactly (plan.yml,
 * Plan.yaml): its folder would be silently skipped. */
static void check_misnamed(const char *dir, char *const *names, int n, mq_diags *d)
{
    for (int i = 0; i < n; i++) {
        const char *want =
            strcasecmp(names[i], "plan.yaml") == 0 || strcasecmp(names[i], "plan.yml") == 0
                ? "plan.yaml"
            : strcasecmp(names[i], "market.yaml") == 0 || strcasecmp(names[i], "market.yml") == 0
                ? "market.yaml"
                : NULL;
        if (want)
            mq_diag_add(d, "%s/%s: must be named %s: the folder is not loaded", dir, names[i],
                        want);
    }
}

static void add_market(mq_engine *e, const char *dir, mq_diags *d)
{
    mq_market *m = mq_market_load(dir, d);
    if (!m)
        return;
    mq_market **ms = realloc(e->markets, sizeof(*ms) * (size_t)(e->nmarkets + 1));
    if (!ms) {
        mq_diag_add(d, "%s: out of memory", dir);
        mq_market_free(m);
        return;
    }
    e->markets = ms;
    e->markets[e->nmarkets++] = m;
}

/* Walks `dir` in name order so plans load in the same order everywhere.
 * A folder is a market (market.yaml), a plan version (plan.yaml) or a
 * folder of them; anything that looks meant to load but would not is an
 * error, never skipped in silence. */
static void walk(mq_engine *e, const char *dir, int depth, mq_diags *d)
{
    bool market = has_file(dir, "market.yaml"), plan = has_file(dir, "plan.yaml");
    if (market && plan) {
        mq_diag_add(d,
                    "%s: holds both market.yaml and plan.yaml: a folder is one market or one "
                    "plan version",
                    dir);
        return;
    }
    if (market || plan) {
        if (market) {
            add_market(e, dir, d);
        } else {
            mq_plan *p = load_plan(dir, d);
            if (p && !add_plan(e, p)) {
                mq_diag_add(d, "%s: too many plans", dir);
                plan_free(p);
            }
        }
        check_nested(dir, dir, depth + 1, d);
        return;
    }
    char **names;
    int n = list_names(dir, &names, d);
    check_misnamed(dir, names, n, d);
    for (int i = 0; i < n; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (!is_dir(path))
            continue;
        if (depth + 1 <= MAX_DIR_DEPTH)
            walk(e, path, depth + 1, d);
        else if (holds_plan(path, MAX_DIR_DEPTH))
            mq_diag_add(d,
                        "%s: more than %d folders deep: the plans or markets in it are not "
                        "loaded",
                        path, MAX_DIR_DEPTH);
    }
    free_names(names, n);
}

/* What versions of one carrier and plan must agree on, each disagreement
 * reported at the later plan's line, naming the earlier's. */
static void check_consistency(mq_engine *e, mq_diags *d)
{
    for (int i = 0; i < e->nplans; i++)
        for (int j = 0; j < i; j++) {
            mq_plan *a = e->plans[i], *b = e->plans[j];
            bool same_plan = strcmp(a->plan_id, b->plan_id) == 0;
            bool same_carrier = strcmp(a->carrier_id, b->carrier_id) == 0;
            if (same_carrier && strcmp(a->carrier_name, b->carrier_name) != 0)
                mq_diag_add(d, "%s:%d: carrier %s is named \"%s\" here but \"%s\" in %s:%d",
                            a->file, a->name_line, a->carrier_id, a->carrier_name, b->carrier_name,
                            b->file, b->name_line);
            if (same_carrier && strcmp(a->carrier_rating, b->carrier_rating) != 0)
                mq_diag_add(d, "%s:%d: carrier %s is rated \"%s\" here but \"%s\" in %s:%d",
                            a->file, a->rating_line, a->carrier_id, a->carrier_rating,
                            b->carrier_rating, b->file, b->rating_line);
            if (same_plan && strcmp(a->version, b->version) == 0)
                mq_diag_add(d, "%s:%d: plan %s version %s is also defined in %s:%d", a->file,
                            a->version_line, a->plan_id, a->version, b->file, b->version_line);
            if (same_plan && strcmp(a->carrier_id, b->carrier_id) != 0)
                mq_diag_add(d, "%s:%d: plan id %s is used by two carriers (see %s:%d)", a->file,
                            a->plan_id_line, a->plan_id, b->file, b->plan_id_line);
            if (same_plan && a->effective == b->effective && strcmp(a->version, b->version) != 0)
                mq_diag_add(d,
                            "%s:%d: two versions of plan %s take effect on the same day (see "
                            "%s:%d)",
                            a->file, a->effective_line, a->plan_id, b->file, b->effective_line);
        }
}

static bool plan_has_state(const mq_plan *p, int state)
{
    for (int i = 0; i < p->nstates; i++)
        if (p->states[i] == state)
            return true;
    return false;
}

/* The last day version p rates in `state`: its until, or the day before
 * the next version of its plan writing the state takes effect, whichever
 * comes first (INT32_MAX: no end). */
static int32_t last_day(const mq_engine *e, const mq_plan *p, int state)
{
    int32_t end = p->until ? p->until : INT32_MAX;
    for (int i = 0; i < e->nplans; i++) {
        const mq_plan *q = e->plans[i];
        if (q != p && q->line == p->line && q->effective > p->effective && q->effective - 1 < end &&
            strcmp(q->plan_id, p->plan_id) == 0 && plan_has_state(q, state))
            end = q->effective - 1;
    }
    return end;
}

/* The first day versions a and b (of two plans) both rate in a state both
 * write, and that state; false when there is none. */
static bool both_rate(const mq_engine *e, const mq_plan *a, const mq_plan *b, int32_t *day,
                      int *state)
{
    for (int i = 0; i < a->nstates; i++) {
        int st = a->states[i];
        if (!plan_has_state(b, st))
            continue;
        int32_t from = a->effective > b->effective ? a->effective : b->effective;
        int32_t end_a = last_day(e, a, st), end_b = last_day(e, b, st);
        if (from <= end_a && from <= end_b) {
            *day = from;
            *state = st;
            return true;
        }
    }
    return false;
}

/* A quote holds one result per carrier (health aside: an issuer offers
 * many plans): two plans of one carrier and line both in effect in a
 * state on a day (a revision filed under a new plan.id, the old plan not
 * ended) would quote the shopper twice, once on the rates the revision
 * replaced. Reported at the version that starts the overlap. */
static void check_one_plan_per_carrier(const mq_engine *e, mq_diags *d)
{
    for (int i = 0; i < e->nplans; i++)
        for (int j = 0; j < i; j++) {
            const mq_plan *a = e->plans[i], *b = e->plans[j];
            int32_t day;
            int state;
            if (a->line == MQ_LINE_HEALTH || a->line != b->line ||
                strcmp(a->carrier_id, b->carrier_id) != 0 || strcmp(a->plan_id, b->plan_id) == 0 ||
                !both_rate(e, a, b, &day, &state))
                continue;
            const mq_plan *later = a->effective >= b->effective ? a : b;
            const mq_plan *other = later == a ? b : a;
            char when[11];
            mq_date_format(day, when);
            mq_diag_add(d,
                        "%s:%d: plans %s and %s (%s:%d) of carrier %s would both rate %s in %s "
                        "from %s: a revision keeps its plan.id, or the older plan ends with "
                        "plan.until",
                        later->file, later->plan_id_line, later->plan_id, other->plan_id,
                        other->file, other->plan_id_line, later->carrier_id,
                        mq_line_get(later->line)->name, mq_symbol_name(MQ_DOM_STATE, state), when);
        }
}

/* The line of market.effective in market m's file: read again, as the
 * market keeps no lines (1 when it is not found). */
static int market_effective_line(const mq_market *m)
{
    char err[512], *text = NULL;
    struct fy_document *doc = mq_yaml_load(m->file, PLAN_MAX_FILE, &text, err, sizeof err);
    struct fy_node *n = doc ? get(get(fy_document_root(doc), "market"), "effective") : NULL;
    int line = n ? node_line(n) : 1;
    if (doc)
        fy_document_destroy(doc);
    free(text);
    return line > 0 ? line : 1;
}

/* Two markets of a line taking effect on the same day: which one applies
 * would be the order their folders load in (a plan year's folder copied
 * for the next and its effective date left as it was). */
static void check_markets(const mq_engine *e, mq_diags *d)
{
    for (int i = 0; i < e->nmarkets; i++)
        for (int j = 0; j < i; j++) {
            const mq_market *a = e->markets[i], *b = e->markets[j];
            if (a->line != b->line || a->effective != b->effective)
                continue;
            char day[11];
            mq_date_format(a->effective, day);
            mq_diag_add(d,
                        "%s:%d: markets %s and %s (%s:%d) of the %s line both take effect on "
                        "%s: give each plan year its own market.effective",
                        a->file, market_effective_line(a), a->id, b->id, b->file,
                        market_effective_line(b), mq_line_get(a->line)->name, day);
        }
}

mq_engine *mq_engine_load(const char *dir, mq_diags *d)
{
    mq_engine *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    int before = d->count;
    if (!is_dir(dir))
        mq_diag_add(d, "%s: not a folder of plans", dir);
    else
        walk(e, dir, 0, d);
    if (d->count == before && e->nplans == 0)
        mq_diag_add(d, "%s: no plan.yaml found", dir);
    check_consistency(e, d);
    check_one_plan_per_carrier(e, d);
    check_markets(e, d);
    if (d->count == before && !mq_engine_index(e))
        mq_diag_add(d, "%s: out of memory indexing the plans", dir);
    if (d->count > before) {
        mq_engine_free(e);
        return NULL;
    }
    return e;
}

void mq_engine_free(mq_engine *e)
{
    if (!e)
        return;
    for (int i = 0; i < e->nplans; i++)
        plan_free(e->plans[i]);
    free(e->plans);
    for (int i = 0; i < e->nmarkets; i++)
        mq_market_free(e->markets[i]);
    free(e->markets);
    mq_engine_index_free(e);
    free(e);
}

int mq_engine_plan_count(const mq_engine *e)
{
    return e->nplans;
}

const mq_plan *mq_engine_plan(const mq_engine *e, int i)
{
    return (i >= 0 && i < e->nplans) ? e->plans[i] : NULL;
}

void mq_plan_get_info(const mq_plan *p, mq_plan_info *info)
{
    *info = (mq_plan_info){
        .carrier_id = p->carrier_id,
        .carrier_name = p->carrier_name,
        .carrier_rating = p->carrier_rating,
        .carrier_kind = p->carrier_kind,
        .plan_id = p->plan_id,
        .version = p->version,
        .path = p->dir,
        .effective = p->effective,
        .until = p->until,
        .line = p->line,
        .states = p->states,
        .nstates = p->nstates,
        .term_months = p->term_months,
        .ncoverages = p->ncodes,
        .coverage_codes = p->coverage_codes,
        .product_name = p->product_name,
        .metal = p->metal,
        .digest = p->digest,
    };
}

/* The market of `line` with the latest `effective` on or before `on`, or
 * NULL when there is none or its `until` has passed: an older market it
 * replaced (last year's parameters) does not apply again. */
const mq_market *mq_engine_market(const mq_engine *e, mq_line line, int32_t on)
{
    const mq_market *best = NULL;
    for (int i = 0; i < e->nmarkets; i++) {
        const mq_market *m = e->markets[i];
        if (m->line == line && m->effective <= on && (!best || m->effective > best->effective))
            best = m;
    }
    return best && (!best->until || on <= best->until) ? best : NULL;
}

const mq_market *mq_engine_market_named(const mq_engine *e, mq_line line, const char *id)
{
    for (int i = 0; i < e->nmarkets; i++)
        if (e->markets[i]->line == line && strcmp(e->markets[i]->id, id) == 0)
            return e->markets[i];
    return NULL;
}

const mq_plan *mq_engine_find_version(const mq_engine *e, const char *plan_id, const char *version)
{
    for (int i = 0; i < e->nplans; i++)
        if (strcmp(e->plans[i]->plan_id, plan_id) == 0 &&
            strcmp(e->plans[i]->version, version) == 0)
            return e->plans[i];
    return NULL;
}

/* ---- Coverage of the lookups (multiquote check) ------------------------
 * A plan can load and still answer shoppers with errors: a ZIP code of its
 * state that its territory table has no row for, a territory that the
 * territory table gives but the territory factor table has no row for, an
 * age between two bands, the state's minimum limits. The lookups are known
 * by the names of their keys (mq_key_use): a one-key table looked up by a
 * ZIP field is tried with every ZIP code of the plan's states; by a
 * variable that is itself a lookup (vehicle.territory:
 * territory[vehicle.garaging_zip]), with every value that table's column
 * holds; by anything else, with the values between its rows
 * (mq_table_holes); a BI, UM or PD table step, with each state's minimum.
 * A miss in a table without missing: is an error (the shopper's result
 * would be one); with missing:, a warning (the carrier may mean it). Then
 * come warnings for what looks mistyped: rows no one reaches, empty or
 * percentage-sized factors, dates. */

/* The entity a name as mq_key_use writes it reads ("vehicle.garaging_zip":
 * the vehicle; "applicant.homeowner", "zip": the policy). */
static mq_entity_kind field_kind(const mq_line_def *l, const char *name)
{
    const char *dot = strchr(name, '.');
    for (int k = 1; dot && k < MQ_ENT_COUNT; k++)
        if (l->entity_names[k] && strlen(l->entity_names[k]) == (size_t)(dot - name) &&
            strncmp(name, l->entity_names[k], (size_t)(dot - name)) == 0)
            return (mq_entity_kind)k;
    return MQ_ENT_POLICY;
}

/* The field's name within its entity (field_kind). */
static const char *field_part(const mq_line_def *l, const char *name)
{
    return field_kind(l, name) == MQ_ENT_POLICY ? name : strchr(name, '.') + 1;
}

/* Whether `name` is a request field holding a ZIP code (zip, garaging_zip). */
static bool is_zip_field(const mq_line_def *l, const char *name)
{
    const char *field = field_part(l, name);
    size_t n = strlen(field);
    return mq_field_find(l, field_kind(l, name), field) >= 0 &&
           (strcmp(field, "zip") == 0 || (n > 4 && strcmp(field + n - 4, "_zip") == 0));
}

/* The variable of p named `name` (as mq_key_use names it) when it is a
 * plain lookup of a one-key table (FORM_LOOKUP), else NULL. */
static const mq_var_decl *lookup_variable(const mq_plan *p, const char *name)
{
    const mq_line_def *l = mq_line_get(p->line);
    for (int i = 0; name && i < p->nvars; i++) {
        const mq_var_decl *v = &p->vars[i];
        char full[160];
        if (v->kind == MQ_ENT_POLICY)
            snprintf(full, sizeof full, "%s", v->name);
        else
            snprintf(full, sizeof full, "%s.%s", l->entity_names[v->kind], v->name);
        if (strcmp(full, name) == 0)
            return v->prog && v->prog->form == FORM_LOOKUP && v->prog->nlookups == 1 &&
                           v->prog->lookups[0].table->nkeys == 1
                       ? v
                       : NULL;
    }
    return NULL;
}

/* Whether an earlier use of p (before index i) reads the same table and
 * column by the same name: each is checked once. */
static bool checked_before(const mq_plan *p, int i)
{
    const mq_key_use *u = &p->uses[i];
    for (int j = 0; j < i; j++)
        if (p->uses[j].table == u->table && p->uses[j].column == u->column && p->uses[j].name &&
            strcmp(p->uses[j].name, u->name) == 0)
            return true;
    return false;
}

static double table_value(const mq_table *t, double key, int column)
{
    return mq_table_lookup(t, &key, column);
}

/* Whether a use of p before index i, of the same table by the same name
 * but another value column (a step rating property and liability from
 * one table), misses key x too: that use has reported it already, and a
 * row left out would otherwise be one problem counted once per column. */
static bool missed_before(const mq_plan *p, int i, double x)
{
    const mq_key_use *u = &p->uses[i];
    for (int j = 0; j < i; j++)
        if (p->uses[j].table == u->table && p->uses[j].name &&
            strcmp(p->uses[j].name, u->name) == 0 &&
            isnan(table_value(u->table, x, p->uses[j].column)))
            return true;
    return false;
}

/* What a shopper gets from a lookup of t that finds nothing. */
static const char *miss_outcome(const mq_table *t)
{
    return t->miss == MISS_UNAVAILABLE ? "the carrier unavailable (missing: unavailable)"
           : t->miss == MISS_DECLINE   ? "a decline (missing: decline)"
                                       : "an error, not a quote";
}

/* How to mend a miss that would be a shopper's error. */
static const char *fix_hint(const mq_table *t)
{
    return t->miss == MISS_ERROR ? ": add the rows, or give the table a missing: "
                                   "{unavailable: \"...\"} (docs/plan-format.md §6)"
                                 : "";
}

/* Ranges of ZIP codes that one lookup misses, written as "47900-47999,
 * 47901", at most 6 of them, and how many codes in all. */
typedef struct zip_gaps {
    char text[160];
    int nranges, count;
    int from, last; /* the range being gathered; -1: none */
} zip_gaps;

static void gaps_flush(zip_gaps *g)
{
    if (g->from < 0)
        return;
    size_t n = strlen(g->text);
    if (g->nranges < 6 && g->from == g->last)
        snprintf(g->text + n, sizeof g->text - n, "%s%05d", n ? ", " : "", g->from);
    else if (g->nranges < 6)
        snprintf(g->text + n, sizeof g->text - n, "%s%05d-%05d", n ? ", " : "", g->from, g->last);
    g->nranges++;
    g->from = -1;
}

static void gaps_add(zip_gaps *g, int zip)
{
    if (g->from >= 0 && zip != g->last + 1)
        gaps_flush(g);
    if (g->from < 0)
        g->from = zip;
    g->last = zip;
    g->count++;
}

/* Every ZIP code of each state of p (its 3-digit prefixes, as in_state
 * says; none ending in 000) that use u's table has no row or value for. */
static void lint_zip_use(const mq_plan *p, int ui, const mq_lint_states *in, mq_diags *errors,
                         mq_diags *warnings)
{
    const mq_key_use *u = &p->uses[ui];
    const mq_table *t = u->table;
    for (int s = 0; s < p->nstates; s++) {
        zip_gaps g = {.from = -1};
        int all = 0;
        for (int prefix = 0; prefix < 1000; prefix++) {
            if (!in->zip_in_state(in->ctx, p->states[s], prefix))
                continue;
            /* a code ending in 000 (43000) is no delivery address's: plans
             * start their ranges at 43001, as the state's codes do */
            for (int zip = prefix * 100; zip < prefix * 100 + 100; zip++)
                if (zip % 1000 != 0 && ++all && isnan(table_value(t, zip, u->column)) &&
                    !missed_before(p, ui, zip))
                    gaps_add(&g, zip);
        }
        gaps_flush(&g);
        if (!g.count)
            continue;
        /* a plan that writes a state and rates no ZIP code of it: whatever
         * its missing: says, that is no choice of the carrier's */
        bool none = g.count == all;
        /* rows of 460-479 are prefixes, where 46000-47999 was meant */
        const mq_keymap *m = &t->maps[0];
        bool prefixes = m->nbounds > 0 && m->bounds[m->nbounds - 1] < 1000;
        bool error = t->miss == MISS_ERROR || none;
        mq_diag_add(error ? errors : warnings,
                    "%s:%d: %s%s[%s]: %s has no rate for %s%d ZIP code%s of %s (%s%s); a shopper "
                    "there gets %s%s%s",
                    p->file, u->line, error ? "" : "warning: ", t->name, u->name, table_path(p, t),
                    none ? "any of the " : "", g.count, g.count == 1 ? "" : "s",
                    mq_symbol_name(MQ_DOM_STATE, p->states[s]), g.text,
                    g.nranges > 6 ? " and more" : "", miss_outcome(t), fix_hint(t),
                    prefixes ? " (its rows look like 3-digit prefixes: a ZIP key is the whole "
                               "5-digit code, so a prefix 460 is the band 46000-46099)"
                             : "");
    }
}

/* Every value variable v (a lookup of table t0) can take must have a row
 * and a value in use u's table: reported at the row of t0 giving it. */
static void lint_chain_use(const mq_plan *p, int ui, const mq_var_decl *v, mq_diags *errors,
                           mq_diags *warnings)
{
    const mq_key_use *u = &p->uses[ui];
    const mq_table *t0 = v->prog->lookups[0].table, *t = u->table;
    int c0 = v->prog->lookups[0].column;
    for (int r = 0; r < t0->nrows; r++) {
        double x = t0->values[r * t0->nvalues + c0];
        bool seen = isnan(x);
        for (int q = 0; !seen && q < r; q++)
            seen = t0->values[q * t0->nvalues + c0] == x;
        if (seen || !isnan(table_value(t, x, u->column)) || missed_before(p, ui, x))
            continue;
        mq_diag_add(t->miss == MISS_ERROR ? errors : warnings,
                    "%s:%d: %s%s is %g here, but %s has no rate for %g (%s[%s], %s:%d); a "
                    "shopper there gets %s%s",
                    t0->file, t0->row_lines[r], t->miss == MISS_ERROR ? "" : "warning: ", u->name,
                    x, table_path(p, t), x, t->name, u->name, p->file, u->line, miss_outcome(t),
                    fix_hint(t));
    }
}

/* Whether value x is one that a lookup variable keying table t can give:
 * *all is false when some lookup of t is keyed otherwise. */
static bool value_given(const mq_plan *p, const mq_table *t, double x, bool *all)
{
    *all = true;
    bool given = false;
    for (int i = 0; i < p->nuses; i++) {
        if (p->uses[i].table != t)
            continue;
        const mq_var_decl *v = lookup_variable(p, p->uses[i].name);
        if (!v) {
            *all = false;
            return false;
        }
        const mq_table *t0 = v->prog->lookups[0].table;
        for (int r = 0; r < t0->nrows && !given; r++)
            given = t0->values[r * t0->nvalues + v->prog->lookups[0].column] == x;
    }
    return given;
}

/* A row of one-key table t keyed by a number that none of the lookup
 * variables keying it can give (a territory no ZIP code maps to): it
 * rates no one, which is a typo more often than not. */
static void lint_unreached_rows(const mq_plan *p, const mq_table *t, mq_diags *warnings)
{
    if (t->nkeys != 1)
        return;
    for (int r = 0; r < t->nrows; r++) {
        const mq_cell *c = &t->cells[r];
        bool all;
        if (c->kind != CELL_EXACT || c->boolean || value_given(p, t, c->lo, &all) || !all)
            continue;
        const char *by = NULL;
        for (int i = 0; i < p->nuses && !by; i++)
            by = p->uses[i].table == t ? p->uses[i].name : NULL;
        if (by)
            mq_diag_add(warnings,
                        "%s:%d: warning: %s %g: %s gives no %s %g, so this row rates no one",
                        t->file, t->row_lines[r], t->key_names[0], c->lo,
                        table_path(p, lookup_variable(p, by)->prog->lookups[0].table), by, c->lo);
    }
}

/* How the lookups of t are checked: *exact when each is by a ZIP field or
 * a lookup variable (the checks above then say exactly which values miss),
 * *fields when each is by a request field (every value of an enum can
 * come); false when there is none, or one interpolates. */
static bool lookups_of(const mq_plan *p, const mq_table *t, bool *exact, bool *fields)
{
    const mq_line_def *l = mq_line_get(p->line);
    int n = 0;
    *exact = *fields = true;
    for (int i = 0; i < p->nuses; i++) {
        const mq_key_use *u = &p->uses[i];
        if (u->table != t)
            continue;
        if (u->interp)
            return false;
        bool zip = u->name && is_zip_field(l, u->name);
        *exact &= zip || lookup_variable(p, u->name);
        *fields &= u->name && mq_field_find(l, field_kind(l, u->name), field_part(l, u->name)) >= 0;
        n++;
    }
    return n > 0;
}

/* "age 65, married true": a combination of t's keys' values. */
static void keys_text(const mq_table *t, const double *keys, char *out, size_t len)
{
    size_t n = 0;
    out[0] = '\0';
    for (int k = 0; k < t->nkeys && n < len; k++) {
        const mq_keymap *m = &t->maps[k];
        const char *sep = k ? ", " : "";
        if (m->type == MQ_T_BOOL)
            n += (size_t)snprintf(out + n, len - n, "%s%s %s", sep, t->key_names[k],
                                  keys[k] ? "true" : "false");
        else if (m->domain != MQ_DOM_NONE)
            n += (size_t)snprintf(out + n, len - n, "%s%s %s", sep, t->key_names[k],
                                  mq_symbol_name(m->domain, (int)keys[k]));
        else
            n += (size_t)snprintf(out + n, len - n, "%s%s %g", sep, t->key_names[k], keys[k]);
    }
}

/* A value of t's keys that falls between its rows (mq_table_holes). */
static void lint_holes(const mq_plan *p, const mq_table *t, mq_diags *errors, mq_diags *warnings)
{
    bool exact, fields;
    double example;
    if (t->nkeys != 1 || !lookups_of(p, t, &exact, &fields) || exact)
        return;
    int holes = mq_table_holes(t, fields, &example);
    char what[200], more[64] = "";
    if (holes > 0) {
        keys_text(t, &example, what, sizeof what);
        if (holes > 1)
            snprintf(more, sizeof more, " (and %d more value%s)", holes - 1, holes == 2 ? "" : "s");
        mq_diag_add(t->miss == MISS_ERROR ? errors : warnings,
                    "%s:%d: %stable %s (%s:%d) has no rate for %s%s; a shopper with %s gets %s%s",
                    t->file, mq_table_hole_line(t, example),
                    t->miss == MISS_ERROR ? "" : "warning: ", t->name, p->file, t->decl_line, what,
                    more, holes > 1 ? "them" : "it", miss_outcome(t), fix_hint(t));
    } else if (fields && t->miss == MISS_ERROR && mq_table_open_value(t, &example)) {
        keys_text(t, &example, what, sizeof what);
        mq_diag_add(warnings,
                    "%s:%d: warning: table %s (%s) is looked up by a value the shopper gives, and "
                    "has no rate for some (%s); a shopper with one gets an error, not a quote: "
                    "give the table a missing: {unavailable: \"... {key}\"} (docs/plan-format.md "
                    "§6)",
                    p->file, t->decl_line, t->name, table_path(p, t), what);
    }
}

/* An empty cell (or -) in a column a table step multiplies by, in a table
 * of several keys without missing: (lint_holes finds a one-key table's):
 * the row is found and its value is none, so the shopper matching it gets
 * an error (an eligibility rule may keep them out: a warning). Each table
 * and column once. */
static void lint_empty_factors(const mq_plan *p, mq_diags *warnings)
{
    for (int i = 0; i < p->nsteps; i++) {
        const mq_step *st = &p->steps[i];
        for (int c = 0; st->kind == STEP_TABLE && st->table->miss == MISS_ERROR &&
                        st->table->nkeys > 1 && c < 64;
             c++) {
            int col = st->column_for[c];
            bool seen = col < 0;
            for (int j = 0; !seen && j <= i; j++)
                for (int c2 = 0; !seen && c2 < (j == i ? c : 64); c2++)
                    seen = p->steps[j].kind == STEP_TABLE && p->steps[j].table == st->table &&
                           p->steps[j].column_for[c2] == col;
            const mq_table *t = st->table;
            for (int r = 0; !seen && r < t->nrows; r++)
                if (isnan(t->values[r * t->nvalues + col]))
                    mq_diag_add(warnings,
                                "%s:%d: warning: %s is empty (no value), and step %s multiplies "
                                "by it: table %s has no missing:, so a shopper rated with this "
                                "row gets an error, not a quote",
                                t->file, t->row_lines[r], t->value_names[col], st->name, t->name);
        }
    }
}

/* A table step without column: whose table's only value column is named
 * for one coverage of the line, run on others too: each of them takes that
 * coverage's factors (a Symbol step on comp and coll reading a table
 * whose one column is "comp"), which looks like a column left out. Once
 * per step; column: that names it says it is meant. */
static void lint_borrowed_columns(const mq_plan *p, mq_diags *warnings)
{
    const mq_line_def *l = mq_line_get(p->line);
    for (int i = 0; l && i < p->nsteps; i++) {
        const mq_step *st = &p->steps[i];
        if (st->kind != STEP_TABLE || st->column_given || st->table->nvalues != 1)
            continue;
        const char *only = st->table->value_names[0];
        int owner = -1;
        for (int c = 0; c < l->ncoverages && owner < 0; c++)
            if (strcmp(l->coverages[c].code, only) == 0)
                owner = c;
        char others[256] = "";
        size_t len = 0;
        for (int c = 0; owner >= 0 && c < l->ncoverages && len < sizeof others - 32; c++)
            if (c != owner && (st->coverages >> c & 1))
                len += (size_t)snprintf(others + len, sizeof others - len, "%s%s", len ? ", " : "",
                                        l->coverages[c].code);
        if (len)
            mq_diag_add(warnings,
                        "%s:%d: warning: step %s rates %s with table %s's only column, \"%s\", "
                        "which is named for the %s coverage: if that is meant, say so with "
                        "column: %s; else give the table a column for each",
                        p->file, st->line, st->name, others, st->table->name, only, only, only);
    }
}

/* A factor above 20 in a column a table step of an auto, home or renters
 * plan multiplies by: no relativity of theirs comes near (the bundled
 * plans' highest is 4.4), but a percentage typed as one (150 for 1.50)
 * does. Term life's rates per 1000 are not factors of this kind. Once per
 * table and column, at its first such row. */
static void lint_percent_factors(const mq_plan *p, mq_diags *warnings)
{
    if (p->line != MQ_LINE_AUTO && p->line != MQ_LINE_HOME && p->line != MQ_LINE_RENTERS)
        return;
    for (int i = 0; i < p->nsteps; i++)
        for (int c = 0; c < 64; c++) {
            int col = first_factor_column(p, i, c);
            const mq_step *st = &p->steps[i];
            const mq_table *t = st->table;
            for (int r = 0; col >= 0 && r < t->nrows; r++) {
                double v = t->values[r * t->nvalues + col];
                if (!(v > 20))
                    continue;
                mq_diag_add(warnings,
                            "%s:%d: warning: %s is %g, and step %s multiplies the premium by it "
                            "(is it a percentage? 150%% is written 1.50)",
                            t->file, t->row_lines[r], t->value_names[col], v, st->name);
                break;
            }
        }
}

/* A version named by a date (plan.version, or its folder's name ending in
 * one, as docs/plan-format.md §14 files revisions) other than the date it
 * takes effect: one of the two is likely a typo, and a revision dated a
 * year early rates the past, not the future. */
static void lint_dates(const mq_plan *p, mq_diags *warnings)
{
    char eff[11];
    mq_date_format(p->effective, eff);
    int32_t day;
    if (mq_date_parse(p->version, &day) && day != p->effective)
        mq_diag_add(warnings,
                    "%s:%d: warning: plan.version \"%s\" is a date, but plan.effective is %s: the "
                    "version rates from %s (is one of them a typo?)",
                    p->file, p->version_line, p->version, eff, eff);
    const char *slash = strrchr(p->dir, '/'), *name = slash ? slash + 1 : p->dir;
    size_t n = strlen(name);
    if (n > 11 && name[n - 11] == '-' && mq_date_parse(name + n - 10, &day) &&
        day != p->effective && strcmp(name + n - 10, p->version) != 0)
        mq_diag_add(warnings,
                    "%s:%d: warning: the folder %s is named for %s, but plan.effective is %s: the "
                    "version rates from %s (is one of them a typo?)",
                    p->file, p->effective_line, name, name + n - 10, eff, eff);
}

/* The rate of use u's table for `a` (and `b`, its second key), or NaN. */
static double rate_for(const mq_key_use *u, double a, double b)
{
    double keys[2] = {a, b};
    return mq_table_row(u->table, keys)[u->column];
}

/* An auto plan's table looked up by BI or UM limits (per person, per
 * accident) or by the PD limit must rate each state's minimum on the day
 * the plan takes effect: the limits shoppers on a budget ask for. Rows
 * below it rate no one (a request below the minimum is refused). */
static void lint_minimums(const mq_plan *p, const mq_key_use *u, const mq_lint_states *in,
                          mq_diags *errors, mq_diags *warnings)
{
    static const char *const pairs[] = {"bi.per_person,bi.per_accident",
                                        "um.per_person,um.per_accident", "pd.limit"};
    int which = -1;
    for (int i = 0; i < 3; i++)
        which = strcmp(u->name, pairs[i]) == 0 ? i : which;
    const mq_table *t = u->table;
    if (which < 0 || t->nkeys != (which == 2 ? 1 : 2))
        return;
    char eff[11];
    mq_date_format(p->effective, eff);
    for (int s = 0; s < p->nstates; s++) {
        int min[3];
        if (!in->minimums(in->ctx, p->states[s], p->effective, min) || min[which == 2 ? 2 : 0] <= 0)
            continue;
        double a = which == 2 ? min[2] : min[0], b = which == 2 ? 0 : min[1];
        char limits[32];
        snprintf(limits, sizeof limits, which == 2 ? "%.0f" : "%.0f/%.0f", a, b);
        if (isnan(rate_for(u, a, b)))
            mq_diag_add(t->miss == MISS_ERROR ? errors : warnings,
                        "%s:%d: %s%s has no rate for %s's minimum %s %s (in force on %s): a "
                        "shopper who asks for the minimum gets %s%s",
                        p->file, u->line,
                        t->miss == MISS_ERROR ? "" : "warning: ", table_path(p, t),
                        mq_symbol_name(MQ_DOM_STATE, p->states[s]), which == 2 ? "limit" : "limits",
                        limits, eff, miss_outcome(t), fix_hint(t));
        for (int r = 0; r < t->nrows; r++) {
            const mq_cell *c = &t->cells[r * t->nkeys];
            bool below = c[0].kind == CELL_EXACT &&
                         (c[0].lo < a || (which < 2 && c[1].kind == CELL_EXACT && c[1].lo < b));
            if (below)
                mq_diag_add(warnings,
                            "%s:%d: warning: these limits are below %s's minimum %s (in force on "
                            "%s): a request for them is refused, so this row rates no one",
                            t->file, t->row_lines[r], mq_symbol_name(MQ_DOM_STATE, p->states[s]),
                            limits, eff);
        }
    }
}

/* A version whose plan.until runs past the day a later version of its
 * plan takes effect in one of its states: the later one rates from that
 * day (docs/plan-format.md §2), so the until says something that does not
 * happen, and the analyst likely meant other dates. */
static void lint_until(const mq_engine *e, const mq_plan *p, mq_diags *warnings)
{
    for (int s = 0; p->until && s < p->nstates; s++) {
        int32_t end = last_day(e, p, p->states[s]);
        if (end >= p->until)
            continue;
        char until[11], stop[11];
        mq_date_format(p->until, until);
        mq_date_format(end, stop);
        mq_diag_add(warnings,
                    "%s:%d: warning: plan.until is %s, but a later version of plan %s takes "
                    "effect in %s first: this version rates there only to %s",
                    p->file, p->until_line, until, p->plan_id,
                    mq_symbol_name(MQ_DOM_STATE, p->states[s]), stop);
        return;
    }
}

/* A table of several keys without missing:, laid out as a grid (every
 * age band with true and with false) with a few combinations left out: a
 * row forgotten, so the shoppers of that combination get an error. A list
 * of combinations (BI limits 25/50, 50/100, 100/300, most pairs absent)
 * is no grid: at most a quarter may be absent. A table with missing: says
 * what its absent rows mean (term life's terms not issued at an age). An
 * eligibility rule may keep shoppers from a hole: a warning. */
static void lint_grid_holes(const mq_plan *p, const mq_table *t, mq_diags *warnings)
{
    double example[8];
    int combos;
    int holes = t->miss == MISS_ERROR ? mq_table_grid_holes(t, example, &combos) : 0;
    if (holes <= 0 || holes * 4 > combos)
        return;
    char what[200], more[64] = "";
    keys_text(t, example, what, sizeof what);
    if (holes > 1)
        snprintf(more, sizeof more, " (and %d more combination%s)", holes - 1,
                 holes == 2 ? "" : "s");
    mq_diag_add(warnings,
                "%s:%d: warning: table %s (%s) has rows for %d of the %d combinations of its "
                "keys' values, but none for %s%s: a row left out? A shopper with %s gets %s",
                p->file, t->decl_line, t->name, table_path(p, t), combos - holes, combos, what,
                more, holes > 1 ? "them" : "it", miss_outcome(t));
}

void mq_engine_lint(const mq_engine *e, const mq_lint_states *in, mq_diags *errors,
                    mq_diags *warnings)
{
    for (int i = 0; i < e->nplans; i++) {
        const mq_plan *p = e->plans[i];
        const mq_line_def *l = mq_line_get(p->line);
        for (int u = 0; u < p->nuses; u++) {
            const mq_key_use *use = &p->uses[u];
            if (!use->name || checked_before(p, u))
                continue;
            const mq_var_decl *v = lookup_variable(p, use->name);
            if (in->zip_in_state && is_zip_field(l, use->name))
                lint_zip_use(p, u, in, errors, warnings);
            else if (v)
                lint_chain_use(p, u, v, errors, warnings);
            else if (in->minimums && p->line == MQ_LINE_AUTO)
                lint_minimums(p, use, in, errors, warnings);
        }
        lint_dates(p, warnings);
        lint_until(e, p, warnings);
        lint_percent_factors(p, warnings);
        lint_empty_factors(p, warnings);
        lint_borrowed_columns(p, warnings);
        mq_lint_health_limits(p, errors);
        for (int t = 0; t < p->ntables; t++) {
            lint_holes(p, p->tables[t], errors, warnings);
            lint_grid_holes(p, p->tables[t], warnings);
            lint_unreached_rows(p, p->tables[t], warnings);
        }
    }
}
