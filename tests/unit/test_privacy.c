/* test_privacy.c -- src/privacy: key rings, sealing and opening requests.
 *
 * Every line's request (auto, home, renters, term life, health, bundle) gets
 * a unique marker in every personal field; sealing must leave none of them
 * in the text, opening must give back exactly the request, and a wrong key,
 * an altered box, another quote's id or a missing key must fail with a
 * message saying which. Key files: parsed with file:line errors, created
 * 0600, rotated by appending a key; MQ_KEY holding a bare key.
 */
#include "privacy.h"
#include "privacy_internal.h"
#include "support.h"

#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char QUOTE_ID[] = "q_0123456789ABCDEFGHJKMNPQRS";
static const char OTHER_ID[] = "q_0123456789ABCDEFGHJKMNPQRT";

static const char RING_1[] =
    "# test ring\n"
    "subject 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
    "key 1 1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100\n";
static const char RING_2[] =
    "subject 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
    "key 1 1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100\n"
    "key 2 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n";
static const char RING_OTHER[] =
    "subject 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
    "key 1 2f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100\n";

static mq_priv_ring *ring(const char *text)
{
    char err[256];
    mq_priv_ring *r = mq_priv_ring_parse(text, "test", err, sizeof err);
    if (!r)
        fail_msg("ring: %s", err);
    return r;
}

/* ---- Requests with markers -------------------------------------------------- */

typedef struct marked {
    json_t *doc;
    const char *markers[16];
    int n;
} marked;

static void mark(marked *m, const char *path, const char *marker, bool number)
{
    ts_set_path(m->doc, path, number ? json_real(atof(marker)) : json_string(marker));
    m->markers[m->n++] = marker;
}

static void mark_applicant(marked *m, const char *tag)
{
    static char buf[8][6][32];
    static int used;
    char(*b)[32] = buf[used++ % 8];
    snprintf(b[0], 32, "MKfirst%sQz", tag);
    snprintf(b[1], 32, "MKlast%sQz", tag);
    snprintf(b[2], 32, "mk.%s@example.org", tag);
    snprintf(b[3], 32, "+1 614 555 01%c%c", tag[0], tag[1]);
    snprintf(b[4], 32, "77 MKstreet%s Rd", tag);
    mark(m, "applicant.first_name", b[0], false);
    mark(m, "applicant.last_name", b[1], false);
    mark(m, "applicant.email", b[2], false);
    mark(m, "applicant.phone", b[3], false);
    mark(m, "applicant.address.street", b[4], false);
}

static marked auto_request(void)
{
    marked m = {ts_load_json("examples/oh-single-driver.json"), {0}, 0};
    mark_applicant(&m, "au");
    mark(&m, "applicant.date_of_birth", "1937-11-23", false);
    mark(&m, "drivers[0].first_name", "MKdrvfirstQz", false);
    mark(&m, "drivers[0].last_name", "MKdrvlastQz", false);
    mark(&m, "drivers[0].date_of_birth", "1941-02-19", false);
    mark(&m, "drivers[0].license.number", "MKLIC7781Z", false);
    mark(&m, "vehicles[0].vin", "MKVIN00000000001Z", false);
    /* the driving record (version 4): the incidents whole */
    ts_set_path(
        m.doc, "drivers[0].incidents",
        json_pack("[{s:s, s:s, s:i}]", "type", "speeding", "date", "2021-07-23", "mph_over", 27));
    m.markers[m.n++] = "2021-07-23";
    ts_set_path(m.doc, "extra", json_object());
    mark(&m, "extra.loyalty_note", "MKextraQz", false);
    ts_set_path(m.doc, "vehicles[0].extra", json_object()); /* "extra" anywhere */
    mark(&m, "vehicles[0].extra.garage_code", "MKgarageQz", false);
    return m;
}

static marked property_request(const char *file, const char *tag)
{
    marked m = {ts_load_json(file), {0}, 0};
    mark_applicant(&m, tag);
    mark(&m, "applicant.date_of_birth", "1943-05-29", false);
    /* the claims history (version 4), whole */
    ts_set_path(
        m.doc, "claims",
        json_pack("[{s:s, s:s, s:i}]", "type", "theft", "date", "2022-04-13", "amount", 4321));
    m.markers[m.n++] = "2022-04-13";
    return m;
}

static marked life_request(void)
{
    marked m = {ts_load_json("tests/data/shoppers/life-oh-female-35-preferred.json"), {0}, 0};
    mark_applicant(&m, "li");
    mark(&m, "applicant.date_of_birth", "1952-08-13", false);
    /* the health facts (version 3): whole objects, whatever they hold */
    mark(&m, "tobacco", "MKtobaccoQz", false);
    mark(&m, "build.height_in", "67.125", true);
    mark(&m, "build.weight_lb", "183.375", true);
    mark(&m, "health.diabetes", "MKdiabetesQz", false);
    ts_set_path(m.doc, "health.condition_note", json_string("MKconditionQz"));
    m.markers[m.n++] = "MKconditionQz";
    mark(&m, "health_class", "MKclassQz", false); /* version 4 */
    return m;
}

static marked health_request(void)
{
    marked m = {ts_load_json("tests/data/shoppers/health-oh-family-four-children.json"), {0}, 0};
    mark_applicant(&m, "he");
    mark(&m, "household.income", "48731.29", true);
    mark(&m, "members[0].date_of_birth", "1961-03-17", false);
    mark(&m, "members[1].date_of_birth", "1963-09-04", false);
    mark(&m, "members[0].tobacco", "MKtobacco0Qz", false); /* version 3 */
    mark(&m, "members[1].tobacco", "MKtobacco1Qz", false);
    return m;
}

static marked bundle_request(void)
{
    marked m = {ts_load_json("examples/oh-bundle-auto-home.json"), {0}, 0};
    mark_applicant(&m, "bu");
    mark(&m, "applicant.date_of_birth", "1939-12-07", false);
    mark(&m, "auto.drivers[0].first_name", "MKbdrvfirstQz", false);
    mark(&m, "auto.drivers[0].last_name", "MKbdrvlastQz", false);
    mark(&m, "auto.drivers[0].date_of_birth", "1944-06-21", false);
    mark(&m, "auto.drivers[0].license.number", "MKBLIC5531Z", false);
    mark(&m, "auto.vehicles[0].vin", "MKVIN00000000002Z", false);
    return m;
}

/* Seals `m` with `r`, checks no marker is left, opens, checks equality. */
static void round_trip(const mq_priv_ring *r, marked *m)
{
    char *text = json_dumps(m->doc, JSON_COMPACT);
    assert_non_null(text);
    for (int i = 0; i < m->n; i++)
        assert_non_null(strstr(text, m->markers[i])); /* the test marks what it thinks */
    mq_priv_sealed s;
    char err[256] = "";
    assert_true(mq_priv_seal(r, QUOTE_ID, text, strlen(text), &s, err, sizeof err));
    assert_int_equal(s.key_id, mq_priv_current_key(r));
    for (int i = 0; i < m->n; i++)
        if (strstr(s.text, m->markers[i]))
            fail_msg("marker %s left in the sealed text: %s", m->markers[i], s.text);
    char *opened = mq_priv_open(r, QUOTE_ID, s.text, err, sizeof err);
    if (!opened)
        fail_msg("open: %s", err);
    json_t *back = json_loads(opened, 0, NULL);
    assert_non_null(back);
    assert_true(json_equal(back, m->doc));
    json_decref(back);
    /* each number as the request wrote it, not in 17 digits (an income of
     * 48731.29 came back as 48731.290000000001) */
    if (strstr(text, "\"income\":48731.290000000001"))
        assert_non_null(strstr(opened, "\"income\":48731.29}"));

    /* sealing the parsed tree gives the same, and leaves the tree as it was */
    json_t *before = json_deep_copy(m->doc);
    mq_priv_sealed t;
    assert_true(mq_priv_seal_json(r, QUOTE_ID, m->doc, &t, err, sizeof err));
    assert_true(json_equal(before, m->doc));
    char *again = json_dumps(m->doc, JSON_COMPACT);
    assert_string_equal(again, text); /* same key order too */
    free(again);
    for (int i = 0; i < m->n; i++)
        if (strstr(t.text, m->markers[i]))
            fail_msg("marker %s left in the sealed tree's text: %s", m->markers[i], t.text);
    assert_string_equal(t.subject, s.subject);
    assert_int_equal(t.key_id, s.key_id);
    char *opened_tree = mq_priv_open(r, QUOTE_ID, t.text, err, sizeof err);
    assert_non_null(opened_tree);
    assert_string_equal(opened_tree, opened);
    free(opened_tree);
    free(opened);
    mq_priv_sealed_free(&t);
    json_decref(before);

    free(text);
    mq_priv_sealed_free(&s);
    json_decref(m->doc);
}

static void test_round_trip_every_line(void **state)
{
    (void)state;
    mq_priv_ring *r = ring(RING_1);
    marked all[] = {
        auto_request(),
        property_request("tests/data/shoppers/home-oh-columbus-frame.json", "ho"),
        property_request("tests/data/shoppers/renters-oh-columbus.json", "re"),
        life_request(),
        health_request(),
        bundle_request(),
    };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        round_trip(r, &all[i]);
    mq_priv_ring_free(r);
}

/* The sealed request still parses as JSON with nulls where values were. */
static void test_sealed_shape(void **state)
{
    (void)state;
    mq_priv_ring *r = ring(RING_2);
    marked m = auto_request();
    char *text = json_dumps(m.doc, JSON_COMPACT);
    mq_priv_sealed s;
    char err[256];
    assert_true(mq_priv_seal(r, QUOTE_ID, text, strlen(text), &s, err, sizeof err));
    json_t *sealed = json_loads(s.text, 0, NULL);
    assert_non_null(sealed);
    assert_true(json_is_null(json_object_get(json_object_get(sealed, "applicant"), "email")));
    assert_true(json_is_true(json_object_get(json_object_get(sealed, "applicant"), "homeowner")));
    json_t *env = json_object_get(sealed, "_sealed");
    assert_int_equal(json_integer_value(json_object_get(env, "key")), 2);
    assert_int_equal(s.key_id, 2);
    assert_int_equal(mq_priv_sealed_key(s.text), 2);
    assert_int_equal(mq_priv_sealed_key(text), 0);
    /* rating facts stay in clear */
    assert_string_equal(json_string_value(json_object_get(sealed, "effective_date")), "2026-03-01");
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(json_object_get(sealed, "vehicles"), 0), "year")),
                     2022);
    json_decref(sealed);
    free(text);
    mq_priv_sealed_free(&s);
    json_decref(m.doc);
    mq_priv_ring_free(r);
}

/* A sealed text with a byte of its box changed. */
static char *tampered(const char *sealed)
{
    json_t *doc = json_loads(sealed, 0, NULL);
    json_t *env = json_object_get(doc, "_sealed");
    char *box = strdup(json_string_value(json_object_get(env, "box")));
    box[10] = box[10] == 'A' ? 'B' : 'A';
    json_object_set_new(env, "box", json_string(box));
    char *out = json_dumps(doc, JSON_COMPACT);
    free(box);
    json_decref(doc);
    return out;
}

static void test_open_failures(void **state)
{
    (void)state;
    mq_priv_ring *r = ring(RING_1), *other = ring(RING_OTHER), *two = ring(RING_2);
    marked m = auto_request();
    char *text = json_dumps(m.doc, JSON_COMPACT);
    mq_priv_sealed s, s2;
    char err[256];
    assert_true(mq_priv_seal(r, QUOTE_ID, text, strlen(text), &s, err, sizeof err));
    /* a different key 1 */
    assert_null(mq_priv_open(other, QUOTE_ID, s.text, err, sizeof err));
    assert_string_equal(err, "quote q_0123456789ABCDEFGHJKMNPQRS: the personal data does not "
                             "decrypt with key 1 (wrong key, altered data, or another quote's "
                             "box)");
    /* another quote's id */
    assert_null(mq_priv_open(r, OTHER_ID, s.text, err, sizeof err));
    assert_non_null(strstr(err, "does not decrypt with key 1"));
    /* altered box */
    char *bad = tampered(s.text);
    assert_null(mq_priv_open(r, QUOTE_ID, bad, err, sizeof err));
    assert_non_null(strstr(err, "does not decrypt"));
    /* sealed under key 2, read with a ring that only has key 1 */
    assert_true(mq_priv_seal(two, QUOTE_ID, text, strlen(text), &s2, err, sizeof err));
    assert_null(mq_priv_open(r, QUOTE_ID, s2.text, err, sizeof err));
    assert_string_equal(err, "quote q_0123456789ABCDEFGHJKMNPQRS: sealed with key 2, which the "
                             "key ring does not hold");
    /* the rotated ring still reads what key 1 sealed */
    char *opened = mq_priv_open(two, QUOTE_ID, s.text, err, sizeof err);
    assert_non_null(opened);
    free(opened);
    /* malformed envelope */
    assert_null(mq_priv_open(r, QUOTE_ID, "{\"_sealed\":{\"key\":1}}", err, sizeof err));
    assert_string_equal(err, "quote q_0123456789ABCDEFGHJKMNPQRS: malformed _sealed envelope");
    /* a box of a version this program does not know (a newer node's) */
    json_t *doc = json_loads(s.text, 0, NULL);
    assert_non_null(doc);
    json_object_set_new(json_object_get(doc, "_sealed"), "v", json_integer(99));
    char *newer = json_dumps(doc, JSON_COMPACT);
    assert_null(mq_priv_open(r, QUOTE_ID, newer, err, sizeof err));
    assert_string_equal(err, "quote q_0123456789ABCDEFGHJKMNPQRS: sealed in version 99, which this "
                             "program (version 4) does not know: open it with the newer program "
                             "that sealed it");
    free(newer);
    json_decref(doc);
    /* not JSON */
    mq_priv_sealed s3;
    assert_false(mq_priv_seal(r, QUOTE_ID, "{\"line\":", 8, &s3, err, sizeof err));
    assert_string_equal(err, "the request is not JSON (1:8)");
    free(bad);
    free(text);
    mq_priv_sealed_free(&s);
    mq_priv_sealed_free(&s2);
    json_decref(m.doc);
    mq_priv_ring_free(r);
    mq_priv_ring_free(other);
    mq_priv_ring_free(two);
}

/* A box sealed by the first version (each value with its path, no "v"),
 * kept from before version 2: it still opens, byte for byte. Written with
 * RING_1 for QUOTE_ID from tests/data/privacy/v1-request.json (a bundle,
 * with a null phone and an "extra" object). */
static void test_version_1_boxes_still_open(void **state)
{
    (void)state;
    mq_priv_ring *r = ring(RING_1);
    char *sealed = ts_read_file("tests/data/privacy/v1-sealed.json", NULL);
    char *want = ts_read_file("tests/data/privacy/v1-request.json", NULL);
    sealed[strcspn(sealed, "\n")] = '\0';
    want[strcspn(want, "\n")] = '\0';
    assert_null(strstr(sealed, "\"v\":")); /* the fixture is of version 1 */
    char err[256];
    char *opened = mq_priv_open(r, QUOTE_ID, sealed, err, sizeof err);
    if (!opened)
        fail_msg("open: %s", err);
    assert_string_equal(opened, want);
    /* sealed again it is of the current version, about half the box, and
     * opens the same */
    mq_priv_sealed s;
    assert_true(mq_priv_seal(r, QUOTE_ID, opened, strlen(opened), &s, err, sizeof err));
    assert_non_null(strstr(s.text, "\"_sealed\":{\"key\":1,\"v\":4,\"nonce\":"));
    const char *box1 = strstr(sealed, "\"box\":"), *box2 = strstr(s.text, "\"box\":");
    if (strlen(box2) * 2 > strlen(box1))
        fail_msg("box of %zu bytes against %zu in version 1", strlen(box2), strlen(box1));
    char *again = mq_priv_open(r, QUOTE_ID, s.text, err, sizeof err);
    assert_non_null(again);
    assert_string_equal(again, want);
    free(again);
    mq_priv_sealed_free(&s);
    free(opened);
    free(sealed);
    free(want);
    mq_priv_ring_free(r);
}

/* Boxes sealed by version 2, which left the health facts in clear
 * (term life's tobacco, build and health, the health line's
 * members[].tobacco), written by that program with RING_1 for QUOTE_ID
 * from tests/data/privacy/v2-*-request.json: they open with version 2's
 * places, byte for byte, and sealed again they are of the current version,
 * with those facts in the box. */
static void test_version_2_boxes_still_open(void **state)
{
    (void)state;
    mq_priv_ring *r = ring(RING_1);
    static const char *const which[][3] = {
        {"life", "\"tobacco\":true,\"build\":{\"height_in\":64.5",
         "\"tobacco\":null,\"build\":null"},
        {"health", "\"tobacco\":true", "\"tobacco\":null"},
    };
    for (size_t i = 0; i < sizeof which / sizeof which[0]; i++) {
        char path[96], err[256];
        snprintf(path, sizeof path, "tests/data/privacy/v2-%s-sealed.json", which[i][0]);
        char *sealed = ts_read_file(path, NULL);
        snprintf(path, sizeof path, "tests/data/privacy/v2-%s-request.json", which[i][0]);
        char *want = ts_read_file(path, NULL);
        sealed[strcspn(sealed, "\n")] = '\0';
        want[strcspn(want, "\n")] = '\0';
        assert_non_null(strstr(sealed, "\"v\":2,"));  /* the fixture is of version 2 */
        assert_non_null(strstr(sealed, which[i][1])); /* which left them in clear */
        char *opened = mq_priv_open(r, QUOTE_ID, sealed, err, sizeof err);
        if (!opened)
            fail_msg("open %s: %s", which[i][0], err);
        assert_string_equal(opened, want);
        mq_priv_sealed s;
        assert_true(mq_priv_seal(r, QUOTE_ID, opened, strlen(opened), &s, err, sizeof err));
        assert_non_null(strstr(s.text, "\"v\":4,"));
        assert_null(strstr(s.text, which[i][1]));
        assert_non_null(strstr(s.text, which[i][2]));
        char *again = mq_priv_open(r, QUOTE_ID, s.text, err, sizeof err);
        assert_non_null(again);
        assert_string_equal(again, want);
        free(again);
        mq_priv_sealed_free(&s);
        free(opened);
        free(sealed);
        free(want);
    }
    mq_priv_ring_free(r);
}

/* Boxes sealed by version 3, which left the records in clear (a driver's
 * incidents, home claims, term life's self-declared health_class, whose
 * tobacco class tells the tobacco answer), written by that program with
 * RING_1 for QUOTE_ID from tests/data/privacy/v3-*-request.json: they open
 * with version 3's places, byte for byte, and sealed again they are
 * version 4, with the records in the box. */
static void test_version_3_boxes_still_open(void **state)
{
    (void)state;
    mq_priv_ring *r = ring(RING_1);
    static const char *const which[][3] = {
        {"auto", "\"incidents\":[{\"type\":\"dui\",\"date\":\"2022-11-19\"}",
         "\"incidents\":null}"},
        {"home", "\"claims\":[{\"type\":\"water\",\"date\":\"2024-02-10\"", "\"claims\":null,"},
        {"life", "\"health_class\":\"tobacco_standard\"", "\"health_class\":null,"},
    };
    for (size_t i = 0; i < sizeof which / sizeof which[0]; i++) {
        char path[96], err[256];
        snprintf(path, sizeof path, "tests/data/privacy/v3-%s-sealed.json", which[i][0]);
        char *sealed = ts_read_file(path, NULL);
        snprintf(path, sizeof path, "tests/data/privacy/v3-%s-request.json", which[i][0]);
        char *want = ts_read_file(path, NULL);
        sealed[strcspn(sealed, "\n")] = '\0';
        want[strcspn(want, "\n")] = '\0';
        assert_non_null(strstr(sealed, "\"v\":3,"));  /* the fixture is of version 3 */
        assert_non_null(strstr(sealed, which[i][1])); /* which left them in clear */
        char *opened = mq_priv_open(r, QUOTE_ID, sealed, err, sizeof err);
        if (!opened)
            fail_msg("open %s: %s", which[i][0], err);
        assert_string_equal(opened, want);
        mq_priv_sealed s;
        assert_true(mq_priv_seal(r, QUOTE_ID, opened, strlen(opened), &s, err, sizeof err));
        assert_non_null(strstr(s.text, "\"v\":4,"));
        if (strstr(s.text, which[i][1]))
            fail_msg("%s: left in clear: %s", which[i][0], s.text);
        if (!strstr(s.text, which[i][2]))
            fail_msg("%s: %s not in %s", which[i][0], which[i][2], s.text);
        char *again = mq_priv_open(r, QUOTE_ID, s.text, err, sizeof err);
        assert_non_null(again);
        assert_string_equal(again, want);
        free(again);
        mq_priv_sealed_free(&s);
        free(opened);
        free(sealed);
        free(want);
    }
    mq_priv_ring_free(r);
}

/* Version 2 puts values back by place: a box whose values do not fit the
 * request's places one for one is refused, never half put back. */
static void test_version_2_misfit_refused(void **state)
{
    (void)state;
    mq_priv_ring *r = ring(RING_1);
    marked m = auto_request();
    char *text = json_dumps(m.doc, JSON_COMPACT);
    mq_priv_sealed s;
    char err[256];
    assert_true(mq_priv_seal(r, QUOTE_ID, text, strlen(text), &s, err, sizeof err));
    /* one more personal place than the box has values: a second driver */
    json_t *doc = json_loads(s.text, 0, NULL);
    json_t *drivers = json_object_get(doc, "drivers");
    json_array_append_new(drivers, json_deep_copy(json_array_get(drivers, 0)));
    char *more = json_dumps(doc, JSON_COMPACT);
    assert_null(mq_priv_open(r, QUOTE_ID, more, err, sizeof err));
    assert_string_equal(err, "quote q_0123456789ABCDEFGHJKMNPQRS: the sealed data does not fit "
                             "the request");
    /* one fewer: the vehicle's "extra" gone */
    json_array_remove(drivers, 1);
    json_object_del(json_array_get(json_object_get(doc, "vehicles"), 0), "extra");
    char *fewer = json_dumps(doc, JSON_COMPACT);
    assert_null(mq_priv_open(r, QUOTE_ID, fewer, err, sizeof err));
    assert_non_null(strstr(err, "does not fit the request"));
    free(more);
    free(fewer);
    json_decref(doc);
    free(text);
    mq_priv_sealed_free(&s);
    json_decref(m.doc);
    mq_priv_ring_free(r);
}

static void test_subject(void **state)
{
    (void)state;
    mq_priv_ring *r = ring(RING_1), *two = ring(RING_2);
    char a[MQ_PRIV_SUBJECT_LEN], b[MQ_PRIV_SUBJECT_LEN], c[MQ_PRIV_SUBJECT_LEN];
    assert_true(mq_priv_subject(r, "Dana@Example.com", a));
    assert_true(mq_priv_subject(two, "  dana@example.com\n", b)); /* same after rotation */
    assert_string_equal(a, b);
    assert_int_equal(strlen(a), 66);
    assert_memory_equal(a, "s_", 2);
    assert_true(mq_priv_subject(r, "dana2@example.com", c));
    assert_string_not_equal(a, c);
    assert_false(mq_priv_subject(r, "  ", c));
    assert_string_equal(c, "");
    /* the seal reports the subject of applicant.email */
    marked m = auto_request(); /* email mk.au@example.org */
    char *text = json_dumps(m.doc, JSON_COMPACT);
    mq_priv_sealed s;
    char err[256];
    assert_true(mq_priv_seal(r, QUOTE_ID, text, strlen(text), &s, err, sizeof err));
    assert_true(mq_priv_subject(r, "MK.AU@example.org", c));
    assert_string_equal(s.subject, c);
    mq_priv_sealed_free(&s);
    free(text);
    json_decref(m.doc);
    mq_priv_ring_free(r);
    mq_priv_ring_free(two);
}

/* An address of any length has a subject (the request does not bound it;
 * one of more than 320 bytes had none, so `forget` could not find its
 * quotes), lower-cased throughout; a short one keeps the subject it always
 * had: the one-shot keyed BLAKE2b of the lower-cased address. */
static void test_subject_of_long_address(void **state)
{
    (void)state;
    mq_priv_ring *r = ring(RING_1);
    char a[MQ_PRIV_SUBJECT_LEN], b[MQ_PRIV_SUBJECT_LEN], want[MQ_PRIV_SUBJECT_LEN];
    unsigned char h[32];
    crypto_generichash(h, sizeof h, (const unsigned char *)"dana@example.com", 16,
                       mq_priv_subject_key(r), MQ_PRIV_KEY_BYTES);
    memcpy(want, "s_", 2);
    sodium_bin2hex(want + 2, sizeof want - 2, h, sizeof h);
    assert_true(mq_priv_subject(r, " Dana@Example.COM ", a));
    assert_string_equal(a, want);
    enum { LONG = 1000 };
    char upper[LONG + 20], lower[LONG + 20];
    memset(upper, 'A', LONG);
    memset(lower, 'a', LONG);
    strcpy(upper + LONG, "@EXAMPLE.com");
    strcpy(lower + LONG, "@example.com");
    assert_true(mq_priv_subject(r, upper, a));
    assert_true(mq_priv_subject(r, lower, b));
    assert_string_equal(a, b);
    assert_int_equal(strlen(a), 66);
    lower[LONG - 1] = 'b'; /* past the first 256 bytes, still part of it */
    assert_true(mq_priv_subject(r, lower, b));
    assert_string_not_equal(a, b);
    /* sealed, the request reports it */
    marked m = auto_request();
    ts_set_path(m.doc, "applicant.email", json_string(upper));
    char *text = json_dumps(m.doc, JSON_COMPACT);
    mq_priv_sealed s;
    char err[256];
    assert_true(mq_priv_seal(r, QUOTE_ID, text, strlen(text), &s, err, sizeof err));
    assert_string_equal(s.subject, a);
    mq_priv_sealed_free(&s);
    free(text);
    json_decref(m.doc);
    mq_priv_ring_free(r);
}

static void expect_ring_error(const char *text, const char *want)
{
    char err[256] = "";
    mq_priv_ring *r = mq_priv_ring_parse(text, "keys.txt", err, sizeof err);
    assert_null(r);
    assert_string_equal(err, want);
}

static void test_ring_errors(void **state)
{
    (void)state;
    expect_ring_error("subject 00\n", "keys.txt:1: expected \"subject KEY\" (64 hex digits or "
                                      "base64 of 32 bytes)");
    expect_ring_error("# c\nsubject "
                      "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\nkey 0 "
                      "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100\n",
                      "keys.txt:3: expected \"key ID KEY\" with ID a whole number from 1");
    expect_ring_error("subject 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
                      "keys.txt: no \"key ID KEY\" line");
    expect_ring_error("key 1 1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100\n",
                      "keys.txt: no \"subject KEY\" line");
    expect_ring_error("key 1 1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100\n"
                      "key 1 1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100\n",
                      "keys.txt:2: key id listed twice");
    expect_ring_error("password hunter2\n",
                      "keys.txt:1: expected \"subject KEY\" or \"key ID KEY\"");
}

static void test_key_file_create_and_rotate(void **state)
{
    (void)state;
    char dir[] = "/tmp/mq-priv-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128], err[256];
    snprintf(path, sizeof path, "%s/k", dir);
    unsetenv("MQ_KEY");
    assert_null(mq_priv_ring_load(path, false, err, sizeof err));
    mq_priv_ring *r = mq_priv_ring_load(path, true, err, sizeof err);
    if (!r)
        fail_msg("%s", err);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(mq_priv_current_key(r), 1);
    assert_int_equal(mq_priv_ring_add_key(path, err, sizeof err), 2);
    mq_priv_ring *r2 = mq_priv_ring_load(path, true, err, sizeof err);
    assert_non_null(r2);
    assert_int_equal(mq_priv_current_key(r2), 2);
    assert_true(mq_priv_has_key(r2, 1));
    char a[MQ_PRIV_SUBJECT_LEN], b[MQ_PRIV_SUBJECT_LEN];
    assert_true(mq_priv_subject(r, "x@example.com", a));
    assert_true(mq_priv_subject(r2, "x@example.com", b));
    assert_string_equal(a, b); /* rotation keeps subjects */
    /* readable by others: refused */
    chmod(path, 0644);
    assert_null(mq_priv_ring_load(path, false, err, sizeof err));
    char want[256];
    snprintf(want, sizeof want, "%s: readable by others (mode 644); chmod 600 it", path);
    assert_string_equal(err, want);
    /* MQ_KEY is used when no file is named, is refused with one, and
     * cannot be rotated by the program */
    setenv("MQ_KEY", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", 1);
    assert_null(mq_priv_ring_load(path, false, err, sizeof err));
    snprintf(want, sizeof want, "the key file %s and MQ_KEY both give a key ring; use one", path);
    assert_string_equal(err, want);
    mq_priv_ring *env = mq_priv_ring_load(NULL, false, err, sizeof err);
    assert_non_null(env);
    assert_int_equal(mq_priv_current_key(env), 1);
    assert_int_equal(mq_priv_ring_add_key(path, err, sizeof err), -1);
    setenv("MQ_KEY", "nope", 1);
    assert_null(mq_priv_ring_load(NULL, false, err, sizeof err));
    assert_string_equal(err, "MQ_KEY: not 64 hex digits, base64 of 32 bytes, or key file text "
                             "(docs/privacy.md)");
    unsetenv("MQ_KEY");
    mq_priv_ring_free(env);
    mq_priv_ring_free(r);
    mq_priv_ring_free(r2);
    unlink(path);
    rmdir(dir);
}

/* Someone who may write to the key file's folder plants a file at the name
 * the new key file used to be written under ("PATH.PID.tmp"), and keeps it
 * open: the keys must never reach it. */
static void test_create_ignores_planted_temporary(void **state)
{
    (void)state;
    char dir[] = "/tmp/mq-priv-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128], planted[160], err[256];
    snprintf(path, sizeof path, "%s/k", dir);
    snprintf(planted, sizeof planted, "%s.%ld.tmp", path, (long)getpid());
    unsetenv("MQ_KEY");
    int spy = open(planted, O_RDWR | O_CREAT | O_EXCL, 0666);
    assert_true(spy >= 0);
    assert_int_equal(fchmod(spy, 0666), 0);
    mq_priv_ring *r = mq_priv_ring_load(path, true, err, sizeof err);
    if (!r)
        fail_msg("%s", err);
    char seen[512];
    assert_int_equal(pread(spy, seen, sizeof seen, 0), 0); /* nothing written to it */
    struct stat st, pst;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(fstat(spy, &pst), 0);
    assert_true(st.st_ino != pst.st_ino); /* the key file is not the planted one */
    close(spy);
    mq_priv_ring_free(r);
    unlink(planted);
    unlink(path);
    rmdir(dir);
}

/* A key file holding a NUL byte (the lines after it were ignored: key 2
 * here) and a key file that is a FIFO (the read blocked) are refused. */
static void test_key_file_not_text(void **state)
{
    (void)state;
    char dir[] = "/tmp/mq-priv-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128], err[256], want[256];
    snprintf(path, sizeof path, "%s/k", dir);
    unsetenv("MQ_KEY");
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    static const char tail[] = "\nkey 2 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n";
    assert_int_equal(write(fd, RING_1, strlen(RING_1)), (ssize_t)strlen(RING_1));
    assert_int_equal(write(fd, "\0", 1), 1);
    assert_int_equal(write(fd, tail, strlen(tail)), (ssize_t)strlen(tail));
    close(fd);
    assert_null(mq_priv_ring_load(path, false, err, sizeof err));
    snprintf(want, sizeof want, "%s: holds a NUL byte; a key file is text", path);
    assert_string_equal(err, want);
    unlink(path);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_null(mq_priv_ring_load(path, false, err, sizeof err));
    snprintf(want, sizeof want, "%s: not a readable key file of at most 64 KiB", path);
    assert_string_equal(err, want);
    unlink(path);
    rmdir(dir);
}

/* Two rotations at once (an operator and a cron job) must not both append
 * the same next id: a ring listing an id twice loads nowhere, and the
 * server would not start again. Two processes rotate 30 times each. */
static void test_concurrent_rotations(void **state)
{
    (void)state;
    char dir[] = "/tmp/mq-priv-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128], err[256];
    snprintf(path, sizeof path, "%s/k", dir);
    unsetenv("MQ_KEY");
    mq_priv_ring *first = mq_priv_ring_load(path, true, err, sizeof err);
    if (!first)
        fail_msg("%s", err);
    mq_priv_ring_free(first);
    enum { EACH = 30 };
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        assert_true(kids[k] >= 0);
        if (kids[k] == 0) {
            int bad = 0;
            for (int i = 0; i < EACH; i++)
                bad += mq_priv_ring_add_key(path, err, sizeof err) < 2;
            _exit(bad ? 1 : 0);
        }
    }
    for (int k = 0; k < 2; k++) {
        int status = 0;
        assert_int_equal(waitpid(kids[k], &status, 0), kids[k]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    mq_priv_ring *r = mq_priv_ring_load(path, false, err, sizeof err);
    if (!r)
        fail_msg("after concurrent rotations: %s", err);
    assert_int_equal(mq_priv_current_key(r), 1 + 2 * EACH);
    for (int id = 1; id <= 1 + 2 * EACH; id++)
        assert_true(mq_priv_has_key(r, id));
    mq_priv_ring_free(r);
    unlink(path);
    rmdir(dir);
}

/* A key file whose last line has no newline (written by hand, or by
 * printf) gets the new key on a line of its own, and still loads. */
static void test_rotate_without_trailing_newline(void **state)
{
    (void)state;
    char dir[] = "/tmp/mq-priv-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128], err[256];
    snprintf(path, sizeof path, "%s/k", dir);
    unsetenv("MQ_KEY");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(RING_1, f);
    fseek(f, -1, SEEK_END); /* RING_1 without its last newline */
    assert_int_equal(ftruncate(fileno(f), ftell(f)), 0);
    fclose(f);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(mq_priv_ring_add_key(path, err, sizeof err), 2);
    mq_priv_ring *r = mq_priv_ring_load(path, false, err, sizeof err);
    if (!r)
        fail_msg("%s", err);
    assert_int_equal(mq_priv_current_key(r), 2);
    assert_true(mq_priv_has_key(r, 1));
    assert_int_equal(mq_priv_ring_add_key(path, err, sizeof err), 3); /* ends with one now */
    mq_priv_ring_free(r);
    unlink(path);
    rmdir(dir);
}

/* The envelope's base64 is libsodium's, for every length and tail. */
static void test_base64_as_libsodium(void **state)
{
    (void)state;
    unsigned char bin[200];
    randombytes_buf(bin, sizeof bin);
    for (size_t len = 0; len <= sizeof bin; len++) {
        char want[280];
        sodium_bin2base64(want, sizeof want, bin, len, sodium_base64_VARIANT_ORIGINAL);
        char *got = mq_priv_base64(bin, len);
        assert_non_null(got);
        assert_string_equal(got, want);
        free(got);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_every_line),
        cmocka_unit_test(test_sealed_shape),
        cmocka_unit_test(test_open_failures),
        cmocka_unit_test(test_version_1_boxes_still_open),
        cmocka_unit_test(test_version_2_boxes_still_open),
        cmocka_unit_test(test_version_3_boxes_still_open),
        cmocka_unit_test(test_version_2_misfit_refused),
        cmocka_unit_test(test_subject),
        cmocka_unit_test(test_subject_of_long_address),
        cmocka_unit_test(test_ring_errors),
        cmocka_unit_test(test_key_file_create_and_rotate),
        cmocka_unit_test(test_rotate_without_trailing_newline),
        cmocka_unit_test(test_create_ignores_planted_temporary),
        cmocka_unit_test(test_key_file_not_text),
        cmocka_unit_test(test_concurrent_rotations),
        cmocka_unit_test(test_base64_as_libsodium),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
