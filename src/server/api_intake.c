/* api_intake.c -- the routes of accurate input: VIN decoding, state rules, ACORD XML.
 *
 * GET /v1/vin/{vin} decodes a VIN (200 whether or not it is valid: `valid`
 * and `errors` say; the web form fills the year from it, and the make when
 * the WMI has only one: `make` is null for a WMI several makes share). GET
 * /v1/states lists each state's minimum liability limits on a date and its
 * ZIP prefixes. POST /v1/acord takes an ACORD PersAutoPolicyQuoteInqRq,
 * rates and saves it as POST /v1/quotes does (the saved request is the
 * mapped contract JSON, so worksheets and requotes work unchanged), with the
 * carrier registry's local carriers as bundles are (remote carriers are not
 * asked here), and answers the contract's JSON, or with ?format=acord (or
 * an Accept preferring XML) a PersAutoPolicyQuoteInqRs.
 * mq_api_intake_check is the hook POST /v1/quotes runs after the request
 * parser. The reference data is the program-wide mq_intake_default().
 */
#include "server.h"

#include "intake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- Replies ---------------------------------------------------------------- */

static void reply_json(mq_http_req *r, int status, json_t *doc)
{
    r->status = status;
    r->response = doc ? mq_resp_dump(doc, false) : NULL;
    r->response_len = r->response ? strlen(r->response) : 0;
    r->response_type = "application/json";
    json_decref(doc);
    if (!r->response)
        mq_api_error(r, 500, "internal", "out of memory", "");
}

static bool only_method(mq_http_req *r, const char *method)
{
    if (strcmp(r->method, method) == 0)
        return true;
    char msg[32];
    snprintf(msg, sizeof msg, "use %s", method);
    mq_api_error(r, 405, "method_not_allowed", msg, "");
    r->allow = method;
    return false;
}

/* The reference data; on failure the reply is a 500 and NULL is returned. */
static const mq_intake *intake(mq_http_req *r)
{
    char err[512];
    const mq_intake *ik = mq_intake_default(err, sizeof err);
    if (!ik) {
        static atomic_flag logged = ATOMIC_FLAG_INIT;
        if (!atomic_flag_test_and_set(&logged))
            fprintf(stderr, "{\"event\":\"error\",\"message\":\"reference data: %s\"}\n", err);
        mq_api_error(r, 500, "internal",
                     "the VIN and state reference data could not be loaded (see the server log)",
                     "");
    }
    return ik;
}

int mq_api_intake_check(mq_http_req *r, const json_t *doc, mq_req_errors *errs)
{
    const mq_intake *ik = intake(r);
    if (!ik)
        return -1;
    return mq_intake_check(ik, doc, &r->arena, errs) ? 1 : 0;
}

/* ---- GET /v1/vin/{vin}, GET /v1/states ------------------------------------------ */

static void get_vin(mq_http_req *r, const char *vin)
{
    r->route = ROUTE_VIN;
    if (!mq_api_only_get(r))
        return;
    const mq_intake *ik = intake(r);
    if (!ik)
        return;
    mq_vin v;
    mq_vin_decode(ik, vin, &v);
    reply_json(r, 200, mq_vin_json(&v));
}

static void get_states(mq_http_req *r)
{
    r->route = ROUTE_STATES;
    static const char *const params[] = {"date", NULL};
    if (!mq_api_only_get(r) || !mq_api_query_known(r, params))
        return;
    const mq_intake *ik = intake(r);
    if (!ik)
        return;
    const char *date = mq_http_query(r, "date");
    int32_t day;
    if (date && !mq_date_parse(date, &day)) {
        char msg[96];
        snprintf(msg, sizeof msg, "date is not a valid date: %s", mq_date_problem(date));
        mq_api_error(r, 400, "invalid_parameter", msg, "date");
        return;
    }
    if (!date) {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        day = mq_date_from_ymd(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    }
    reply_json(r, 200, mq_state_rules_json(ik, day));
}

/* ---- POST /v1/acord ---------------------------------------------------------------- */

/* Whether the body is XML, and its charset parameter ("" when none): the
 * encoding of a body that does not say its own (no byte order mark nor
 * declared encoding); a declaration the body makes is what the parser reads. */
static bool is_xml_type(const char *ct, char charset[32])
{
    return mq_api_media_is(ct, "application/xml", charset, 32) ||
           mq_api_media_is(ct, "text/xml", charset, 32);
}

/* Rates the mapped request, saves it and sets the 201 reply. */
static void rate_and_answer(mq_server *s, mq_http_req *r, const mq_input *in, const mq_acord *x,
                            bool acord)
{
    mq_engine_ref *ref = mq_server_engine_acquire(s);
    mq_result *res;
    int n;
    char *response = NULL, *xml = NULL;
    mq_store_quote q = {0};
    /* an unknown id used to be rated as an "error" result, saved and
     * answered 201, and timed in /metrics under the id the request gave */
    if (!mq_api_carriers_known(s, r, ref->engine, in, in->line, x))
        goto done;
    /* the registry's selection of local carriers, as for a bundle */
    mq_rate_opts opts = {.rate_here = mq_remote_rate_here,
                         .asked_elsewhere = mq_remote_asked_elsewhere,
                         .carrier_arg = s->registry};
    if (!mq_rate_all(ref->engine, in, &opts, &r->arena, &res, &n)) {
        mq_api_error(r, 500, "internal", "out of memory", "");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        mq_server_note_carrier_time(s, res[i].carrier_id, res[i].elapsed_ns);
        atomic_fetch_add(&s->metrics.results[in->line][res[i].status], 1);
    }
    if (!mq_store_new_id(&q)) {
        mq_api_error(r, 500, "internal", "no randomness for a quote id", "");
        goto done;
    }
    mq_tip_minimums mins;
    json_t *out = mq_resp_build(in, res, n, &(mq_resp_meta){q.id, q.created_at, true});
    if (out &&
        json_object_set_new(out, "tips",
                            mq_resp_tips(ref->engine, in, res, n, mq_state_tip_minimums(in, &mins),
                                         &r->arena)) != 0) {
        json_decref(out); /* out of memory: an error, not an answer without its tips */
        out = NULL;
    }
    response = out ? mq_resp_dump(out, false) : NULL;
    json_decref(out);
    size_t xml_len = 0;
    if (acord)
        xml = mq_acord_response(in, res, n,
                                &(mq_acord_rs_meta){mq_acord_rquid(x), q.id, q.created_at,
                                                    mq_acord_svc_rquid(x), mq_acord_ns(x)},
                                &xml_len);
    if (!response || (acord && !xml)) {
        mq_api_error(r, 500, "internal", "out of memory", "");
        goto done;
    }
    if (r->can_defer) {
        /* saved by server.c while the connection waits: a thread blocked
         * on a commit here was one of libmicrohttpd's, whose every other
         * connection (/healthz too) waited with it */
        char *text = response;
        response = NULL;
        if (mq_api_defer_quote(s, r, mq_line_get(in->line)->name, in->effective_date,
                               mq_acord_json(x), &q, text, in->line) &&
            acord) {
            r->save_answer = xml;
            r->save_answer_len = xml_len;
            r->save_answer_type = "application/xml; charset=utf-8";
            xml = NULL;
        }
        goto done;
    }
    if (!mq_api_save_quote(s, mq_line_get(in->line)->name, in->effective_date, mq_acord_json(x), &q,
                           response)) {
        mq_api_save_failed_id(s, r, q.id);
        goto done;
    }
    atomic_fetch_add(&s->metrics.quotes[in->line][0], 1);
    r->status = 201;
    r->location = mq_arena_printf(&r->arena, "/v1/quotes/%s", q.id);
    if (acord) {
        r->response = xml;
        r->response_len = xml_len;
        r->response_type = "application/xml; charset=utf-8";
        xml = NULL;
    } else {
        r->response = response;
        r->response_len = strlen(response);
        r->response_type = "application/json";
        response = NULL;
    }
done:
    free(response);
    free(xml);
    mq_server_engine_release(s, ref);
}

/* The answer in ACORD XML: ?format=acord, or with no format an Accept
 * that prefers XML to JSON (an ACORD client's "Accept: application/xml");
 * ?format=json, or any wildcard, answers the contract's JSON. */
static bool wants_acord(const mq_http_req *r, const char *format)
{
    if (format)
        return strcmp(format, "acord") == 0;
    return mq_http_prefers(r, "application/xml") || mq_http_prefers(r, "text/xml");
}

static void post_acord(mq_server *s, mq_http_req *r)
{
    r->route = ROUTE_ACORD;
    if (!only_method(r, "POST"))
        return;
    char charset[32];
    if (!is_xml_type(r->content_type, charset)) {
        mq_api_error(r, 415, "unsupported_media_type",
                     "send the ACORD request as application/xml (or text/xml)", "");
        return;
    }
    static const char *const params[] = {"format", NULL};
    if (!mq_api_query_known(r, params))
        return;
    const char *format = mq_http_query(r, "format");
    if (format && strcmp(format, "acord") != 0 && strcmp(format, "json") != 0) {
        mq_api_error(r, 400, "invalid_parameter", "format is acord or json", "format");
        return;
    }
    const mq_intake *ik = intake(r);
    if (!ik)
        return;
    mq_input in;
    mq_req_errors errs = {0};
    mq_acord *x = mq_acord_request_in(ik, r->body, r->body_len, charset, &r->arena, &in, &errs);
    if (!x) {
        if (errs.count == 0)
            mq_api_error(r, 500, "internal", "out of memory", "");
        else if (!*errs.items[0].path) /* the document itself: not XML, or refused */
            mq_api_error(r, 400, "malformed_xml", errs.items[0].message, "");
        else {
            atomic_fetch_add(&s->metrics.quotes[MQ_LINE_AUTO][1], 1);
            mq_api_invalid(r, &errs);
        }
        return;
    }
    rate_and_answer(s, r, &in, x, wants_acord(r, format));
    mq_acord_free(x);
}

void mq_api_intake(mq_server *s, mq_http_req *r)
{
    if (strncmp(r->path, "/v1/vin/", 8) == 0)
        get_vin(r, r->path + 8);
    else if (strcmp(r->path, "/v1/states") == 0)
        get_states(r);
    else
        post_acord(s, r);
}
