/* catalog.c -- the carriers and plans an engine holds, as JSON.
 *
 * Shared by `multiquote carriers --json`, GET /v1/carriers and GET /v1/plans:
 * each carrier once (in plan load order) with every plan version it has, so
 * a shopper sees who is compared and an operator which versions are live.
 */
#include "model.h"

#include <string.h>

json_t *mq_resp_plan_info(const mq_plan_info *pi)
{
    char day[11];
    mq_date_format(pi->effective, day);
    json_t *states = json_array();
    for (int s = 0; s < pi->nstates; s++)
        json_array_append_new(states, json_string(mq_symbol_name(MQ_DOM_STATE, pi->states[s])));
    json_t *covs = json_array();
    for (int c = 0; c < pi->ncoverages; c++)
        json_array_append_new(covs, json_string(pi->coverage_codes[c]));
    json_t *info = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:i, s:o}", "id", pi->plan_id,
                             "carrier", pi->carrier_id, "version", pi->version, "effective", day,
                             "line", mq_line_get(pi->line)->name, "states", states, "term_months",
                             pi->term_months, "coverages", covs);
    if (info && pi->until) { /* the last day it rates, when it has one */
        mq_date_format(pi->until, day);
        json_object_set_new(info, "until", json_string(day));
    }
    return info;
}

static bool seen_before(const mq_engine *e, int i)
{
    mq_plan_info a, b;
    mq_plan_get_info(mq_engine_plan(e, i), &a);
    for (int j = 0; j < i; j++) {
        mq_plan_get_info(mq_engine_plan(e, j), &b);
        if (strcmp(a.carrier_id, b.carrier_id) == 0)
            return true;
    }
    return false;
}

json_t *mq_resp_carriers(const mq_engine *e)
{
    int n = mq_engine_plan_count(e);
    json_t *list = json_array();
    for (int i = 0; i < n; i++) {
        if (seen_before(e, i))
            continue;
        mq_plan_info ci;
        mq_plan_get_info(mq_engine_plan(e, i), &ci);
        json_t *plans = json_array(), *lines = json_array();
        for (int j = i; j < n; j++) {
            mq_plan_info pj;
            mq_plan_get_info(mq_engine_plan(e, j), &pj);
            if (strcmp(pj.carrier_id, ci.carrier_id) != 0)
                continue;
            json_array_append_new(plans, mq_resp_plan_info(&pj));
            const char *line = mq_line_get(pj.line)->name;
            bool listed = false;
            for (size_t k = 0; k < json_array_size(lines); k++)
                listed |= strcmp(json_string_value(json_array_get(lines, k)), line) == 0;
            if (!listed)
                json_array_append_new(lines, json_string(line));
        }
        json_array_append_new(list,
                              json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "id", ci.carrier_id,
                                        "name", ci.carrier_name, "rating", ci.carrier_rating,
                                        "kind", ci.carrier_kind, "lines", lines, "plans", plans));
    }
    return json_pack("{s:o}", "carriers", list);
}

json_t *mq_resp_plans(const mq_engine *e)
{
    json_t *list = json_array();
    for (int i = 0; i < mq_engine_plan_count(e); i++) {
        mq_plan_info pi;
        mq_plan_get_info(mq_engine_plan(e, i), &pi);
        json_array_append_new(list, mq_resp_plan_info(&pi));
    }
    return json_pack("{s:o}", "plans", list);
}
