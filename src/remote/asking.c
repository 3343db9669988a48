/* asking.c -- the request as remote carriers are sent it.
 *
 * A remote carrier gets the shopper's request (docs/carrier-protocol.md),
 * already validated here. The request takes a VIN in either case (a VIN's
 * letters have one case: src/model/request.c), and rating here reads it in
 * capitals; a carrier is sent the same reading, not the shopper's typing,
 * so it never rates or refuses another spelling than ours. A request with
 * no VIN in lower case goes byte for byte as the shopper sent it; one with
 * one is written again (jansson's tree, src/json's compact writer) with
 * every vehicle's VIN in capitals, the rest unchanged: each number in the
 * fewest digits that read back as it (3.3 as 3.3, never 3.2999999999999998).
 *
 * An applicant who has not consented to be contacted (consent.contact not
 * true) is not: the email and phone number, which rating never reads, are
 * left out of what carriers are sent, and the request is written again.
 */
#include "remote.h"

#include "jsontext.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* Whether s has a lower-case letter. */
static bool has_lower(const char *s)
{
    for (; *s; s++)
        if (*s >= 'a' && *s <= 'z')
            return true;
    return false;
}

/* Puts each vehicle's VIN that has a lower-case letter into `doc` in
 * capitals; *changed says whether there was one. False when memory ran out. */
static bool capitalise_vins(json_t *doc, bool *changed)
{
    *changed = false;
    size_t i;
    json_t *veh;
    json_array_foreach(json_object_get(doc, "vehicles"), i, veh)
    {
        const char *vin = json_string_value(json_object_get(veh, "vin"));
        if (!vin || !has_lower(vin))
            continue;
        size_t n = strlen(vin);
        char *up = malloc(n + 1);
        if (!up)
            return false;
        for (size_t k = 0; k <= n; k++)
            up[k] = vin[k] >= 'a' && vin[k] <= 'z' ? (char)(vin[k] - 'a' + 'A') : vin[k];
        int rc = json_object_set_new(veh, "vin", json_string(up));
        free(up);
        if (rc != 0)
            return false;
        *changed = true;
    }
    return true;
}

/* Removes the applicant's email and phone from `doc` unless the applicant
 * consented to be contacted; *changed says whether one was there. */
static void withhold_contact(json_t *doc, bool *changed)
{
    json_t *applicant = json_object_get(doc, "applicant");
    json_t *consent = json_object_get(applicant, "consent");
    if (!json_is_object(applicant) || json_is_true(json_object_get(consent, "contact")))
        return;
    static const char *const contact[] = {"email", "phone"};
    for (size_t i = 0; i < sizeof contact / sizeof contact[0]; i++)
        if (json_object_del(applicant, contact[i]) == 0)
            *changed = true;
}

/* A malloc'd, NUL-terminated copy of the len bytes of text. */
static char *copy_text(const char *text, size_t len, size_t *out_len)
{
    char *copy = malloc(len + 1);
    if (!copy)
        return NULL;
    memcpy(copy, text, len);
    copy[len] = '\0';
    *out_len = len;
    return copy;
}

char *mq_remote_request(const char *text, size_t len, size_t *out_len)
{
    json_t *doc = json_loadb(text, len, 0, NULL);
    if (!doc) /* validated before, so only memory; a copy keeps the text as sent */
        return copy_text(text, len, out_len);
    bool changed = false;
    char *out = NULL;
    if (capitalise_vins(doc, &changed)) {
        withhold_contact(doc, &changed);
        /* each number as the shopper wrote it (3.3, 4200.1), not in
         * %.17g's 17 digits (3.2999999999999998): a carrier that reads
         * decimals exactly would rate another GPA or amount */
        out = changed ? mq_jw_compact(doc, MQ_JW_SHORTEST) : copy_text(text, len, out_len);
        if (out && changed)
            *out_len = strlen(out);
    }
    json_decref(doc);
    return out;
}
