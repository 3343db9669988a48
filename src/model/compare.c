/* compare.c -- a saved result against the same rated again: what it promised, and its wording.
 *
 * requote and a saved quote's worksheet ask whether the plan version that
 * made a quote still gives what the quote showed. They compare member by
 * member, not the text whole, so that a sentence worded otherwise or a
 * member a later program adds does not make every older quote "not
 * reproduced". The one decision: every member is substance (compared
 * exactly, numbers by value) except those the table `rules` names as
 * wording (explanatory text) or as not compared (which files priced it:
 * their digests, compared by the callers as causes; how long it took).
 * A member new now (absent from the saved result) is never substance; one
 * the saved result has and now lacks is, unless it is wording.
 */
#include "model.h"

#include <stdlib.h>
#include <string.h>

/* The rule: members of a result by path ("premium.total", an array's
 * elements as "[]"); a rule covers everything under its member. Every
 * member not listed, at any depth, is substance: the carrier (id, name,
 * rating), the plan's id and version, whether a remote carrier rated it,
 * the status, every money figure (premium's total, fees, monthly; each
 * coverage's premium and limits or deductible; each fee's amount; health's
 * gross and net premium, tax credit, deductible, out-of-pocket maximum,
 * the benchmark's plan and premium), the term, whether the minimum premium
 * applied, the class (term life), plan name and metal (health), each
 * coverage's code and unit, and the reasons a carrier declined. An array
 * that is substance is compared element by element, and one element more
 * or fewer is a difference of substance (a coverage, fee or reason). */
static const struct {
    const char *path;
    mq_resp_diff_kind kind;
} rules[] = {
    {"notes", MQ_DIFF_WORDING},       /* remarks (a coverage left off, with why) */
    {"credit_note", MQ_DIFF_WORDING}, /* how the tax credit was worked out, in words */
    {"fees[].name", MQ_DIFF_WORDING}, /* a fee's label (its amount is substance) */
    {"verifies", MQ_DIFF_WORDING},    /* what the carrier checks before binding */
    {"elapsed_ms", MQ_DIFF_IGNORED},  /* how long it took */
    {"plan.digest", MQ_DIFF_IGNORED}, /* which files priced it: the callers' causes */
    {"benchmark.plan.digest", MQ_DIFF_IGNORED},
    {"market", MQ_DIFF_IGNORED}, /* the market file applied (id and digest) */
};

/* A walk over two results: where its differences go, and whether memory
 * ran out (the paths come from the arena). Each step gets the path of its
 * member (with indexes), its pattern (indexes as "[]") and the rule in
 * force there. */
typedef struct walk {
    mq_arena *a;
    mq_resp_diffs *out;
    bool oom;
} walk;

static mq_resp_diff_kind rule_of(const char *pattern, mq_resp_diff_kind inherited)
{
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (strcmp(rules[i].path, pattern) == 0)
            return rules[i].kind;
    return inherited;
}

static void add(walk *w, mq_resp_diff_kind kind, const char *path, const json_t *then,
                const json_t *now)
{
    mq_resp_diffs *d = w->out;
    if (d->count == d->cap) {
        int cap = d->cap ? 2 * d->cap : 8;
        mq_resp_diff *items = mq_arena_alloc(w->a, sizeof *items * (size_t)cap);
        if (!items) {
            w->oom = true;
            return;
        }
        if (d->count)
            memcpy(items, d->items, sizeof *items * (size_t)d->count);
        d->items = items;
        d->cap = cap;
    }
    const char *p = mq_arena_strdup(w->a, path);
    if (!p) {
        w->oom = true;
        return;
    }
    d->items[d->count++] = (mq_resp_diff){.kind = kind, .path = p, .then = then, .now = now};
    d->substance += kind == MQ_DIFF_SUBSTANCE;
}

/* Equal as values: numbers by their value (714 and 714.0 are the same
 * amount), the rest as jansson compares them. */
static bool same_value(const json_t *x, const json_t *y)
{
    if (json_is_number(x) && json_is_number(y))
        return json_number_value(x) == json_number_value(y);
    return json_equal(x, y);
}

static void compare_at(walk *w, const json_t *then, const json_t *now, const char *path,
                       const char *pattern, mq_resp_diff_kind inherited);

/* "path.key" and "pattern.key" (no dot at the top), then compared there. */
static void compare_member(walk *w, const json_t *then, const json_t *now, const char *path,
                           const char *pattern, const char *key, mq_resp_diff_kind kind)
{
    const char *sep = *path ? "." : "";
    const char *p = mq_arena_printf(w->a, "%s%s%s", path, sep, key);
    const char *q = mq_arena_printf(w->a, "%s%s%s", pattern, sep, key);
    if (!p || !q) {
        w->oom = true;
        return;
    }
    mq_resp_diff_kind k = rule_of(q, kind);
    if (k == MQ_DIFF_IGNORED)
        return;
    if (!then) /* new now: the quote never showed it */
        add(w, MQ_DIFF_NEW, p, NULL, now);
    else if (!now) /* gone: what the quote showed, unless only words */
        add(w, k, p, then, NULL);
    else
        compare_at(w, then, now, p, q, k);
}

static void compare_objects(walk *w, const json_t *then, const json_t *now, const char *path,
                            const char *pattern, mq_resp_diff_kind kind)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)now, key, v)
        compare_member(w, json_object_get(then, key), v, path, pattern, key, kind);
    json_object_foreach((json_t *)then, key, v) if (!json_object_get(now, key))
        compare_member(w, v, NULL, path, pattern, key, kind);
}

static void compare_arrays(walk *w, const json_t *then, const json_t *now, const char *path,
                           const char *pattern, mq_resp_diff_kind kind)
{
    size_t n = json_array_size(then), m = json_array_size(now);
    const char *q = mq_arena_printf(w->a, "%s[]", pattern);
    if (!q) {
        w->oom = true;
        return;
    }
    for (size_t i = 0; !w->oom && i < (n > m ? n : m); i++) {
        const char *p = mq_arena_printf(w->a, "%s[%zu]", path, i);
        if (!p) {
            w->oom = true;
            return;
        }
        json_t *x = json_array_get(then, i), *y = json_array_get(now, i);
        if (x && y)
            compare_at(w, x, y, p, q, rule_of(q, kind));
        else /* an element more or fewer: a coverage, a fee, a reason */
            add(w, kind, p, x, y);
    }
}

static void compare_at(walk *w, const json_t *then, const json_t *now, const char *path,
                       const char *pattern, mq_resp_diff_kind kind)
{
    if (w->oom)
        return;
    if (json_is_object(then) && json_is_object(now))
        compare_objects(w, then, now, path, pattern, kind);
    else if (json_is_array(then) && json_is_array(now) && kind == MQ_DIFF_SUBSTANCE)
        compare_arrays(w, then, now, path, pattern, kind);
    else if (!same_value(then, now)) /* wording is compared whole */
        add(w, kind, path, then, now);
}

bool mq_resp_compare(const json_t *then, const json_t *now, mq_arena *a, mq_resp_diffs *out)
{
    *out = (mq_resp_diffs){0};
    walk w = {.a = a, .out = out};
    compare_at(&w, then, now, "", "", MQ_DIFF_SUBSTANCE);
    return !w.oom;
}

const mq_resp_diff *mq_resp_first_substance(const mq_resp_diffs *d)
{
    for (int i = 0; i < d->count; i++)
        if (d->items[i].kind == MQ_DIFF_SUBSTANCE)
            return &d->items[i];
    return NULL;
}

json_t *mq_resp_saved_object(const json_t *response, const char *carrier, const char *plan_id)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(response, "results"), i, r)
    {
        const char *id = json_string_value(json_object_get(json_object_get(r, "carrier"), "id"));
        const char *plan = json_string_value(json_object_get(json_object_get(r, "plan"), "id"));
        if (id && strcmp(id, carrier) == 0 && strcmp(plan ? plan : "", plan_id) == 0)
            return r;
    }
    return NULL;
}

/* Cuts s after `max` bytes on a UTF-8 boundary, "..." after. */
static const char *shortened(mq_arena *a, const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max)
        return mq_arena_strdup(a, s);
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return mq_arena_printf(a, "%.*s...", (int)max, s);
}

/* Compact JSON of v, or "nothing"; NULL when memory ran out. */
static const char *value_text(const json_t *v, mq_arena *a)
{
    if (!v)
        return "nothing";
    char *text =
        json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(MQ_RESP_PRECISION));
    const char *out = text ? mq_arena_strdup(a, text) : NULL;
    free(text);
    return out;
}

/* Where two texts that begin alike are worth showing from: 16 bytes
 * before they part (on a UTF-8 boundary), or 0 when they part early. */
static size_t common_start(const char *x, const char *y)
{
    size_t k = 0;
    while (x[k] && x[k] == y[k])
        k++;
    if (k <= 24)
        return 0;
    k -= 16;
    while (k > 0 && ((unsigned char)x[k] & 0xC0) == 0x80)
        k--;
    return k;
}

bool mq_resp_diff_texts(const json_t *then, const json_t *now, size_t max, mq_arena *a,
                        const char **then_text, const char **now_text)
{
    const char *x = value_text(then, a), *y = value_text(now, a);
    if (!x || !y)
        return false;
    size_t k = json_is_string(then) && json_is_string(now) ? common_start(x, y) : 0;
    if (k) {
        x = mq_arena_printf(a, "...%s", x + k);
        y = mq_arena_printf(a, "...%s", y + k);
    }
    *then_text = x ? shortened(a, x, max) : NULL;
    *now_text = y ? shortened(a, y, max) : NULL;
    return *then_text && *now_text;
}
