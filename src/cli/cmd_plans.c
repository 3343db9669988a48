/* cmd_plans.c -- `multiquote check` and `multiquote carriers`.
 *
 * check loads a plans folder and prints every diagnostic (file:line:
 * message), or a one-line summary when all is well; --schema prints the
 * rating vocabulary plans can use, straight from the engine's schema.
 * carriers lists each carrier with its lines, states and plan versions.
 */
#include "cli.h"

#include <string.h>

static void print_schema(void)
{
    static const char *const types[] = {"number", "bool", "date", "enum", "link"};
    for (int li = 0; li < MQ_LINE_COUNT; li++) {
        const mq_line_def *l = mq_line_get((mq_line)li);
        printf("line %s (rated per %s)\n", l->name, l->entity_names[l->unit]);
        for (int k = 0; k < MQ_ENT_COUNT; k++) {
            if (!l->entity_names[k])
                continue;
            for (int f = 0; f < l->nfields[k]; f++) {
                const mq_field_def *fd = &l->fields[k][f];
                char name[96];
                snprintf(name, sizeof name, "%s.%s", l->entity_names[k], fd->name);
                printf("  %-34s %-7s %s\n", name, types[fd->type], fd->doc);
            }
        }
        printf("  coverages:");
        for (int c = 0; c < l->ncoverages; c++)
            printf(" %s", l->coverages[c].code);
        printf("\n");
    }
}

int cli_check(const cli_opts *o)
{
    if (o->schema) {
        print_schema();
        return CLI_OK;
    }
    const char *dir = o->file ? o->file : o->plans;
    mq_engine *e = cli_load_engine(dir);
    if (!e)
        return CLI_FAIL;
    int n = mq_engine_plan_count(e);
    printf("%s: %d plan%s valid\n", dir, n, n == 1 ? "" : "s");
    mq_engine_free(e);
    return CLI_OK;
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

static json_t *plan_json(const mq_plan_info *pi)
{
    char day[11];
    mq_date_format(pi->effective, day);
    json_t *states = json_array();
    for (int s = 0; s < pi->nstates; s++)
        json_array_append_new(states, json_string(mq_symbol_name(MQ_DOM_STATE, pi->states[s])));
    json_t *covs = json_array();
    for (int c = 0; c < pi->ncoverages; c++)
        json_array_append_new(covs, json_string(pi->coverage_codes[c]));
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:i, s:o}", "id", pi->plan_id, "version",
                     pi->version, "effective", day, "line", mq_line_get(pi->line)->name, "states",
                     states, "term_months", pi->term_months, "coverages", covs);
}

int cli_carriers(const cli_opts *o)
{
    mq_engine *e = cli_load_engine(o->plans);
    if (!e)
        return CLI_FAIL;
    int n = mq_engine_plan_count(e);
    json_t *list = json_array();
    for (int i = 0; i < n; i++) {
        if (seen_before(e, i))
            continue;
        mq_plan_info ci;
        mq_plan_get_info(mq_engine_plan(e, i), &ci);
        json_t *plans = json_array();
        for (int j = i; j < n; j++) {
            mq_plan_info pj;
            mq_plan_get_info(mq_engine_plan(e, j), &pj);
            if (strcmp(pj.carrier_id, ci.carrier_id) == 0)
                json_array_append_new(plans, plan_json(&pj));
        }
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:o}", "id", ci.carrier_id,
                                              "name", ci.carrier_name, "rating",
                                              ci.carrier_rating, "kind", ci.carrier_kind, "plans",
                                              plans));
    }
    if (o->json) {
        json_t *doc = json_pack("{s:o}", "carriers", list);
        char *text = mq_resp_dump(doc, true);
        puts(text ? text : "");
        free(text);
        json_decref(doc);
    } else {
        printf("%-12s %-26s %-6s %-9s %s\n", "ID", "NAME", "RATING", "KIND", "PLANS");
        size_t idx;
        json_t *c;
        json_array_foreach(list, idx, c)
        {
            printf("%-12s %-26s %-6s %-9s", json_string_value(json_object_get(c, "id")),
                   json_string_value(json_object_get(c, "name")),
                   json_string_value(json_object_get(c, "rating")),
                   json_string_value(json_object_get(c, "kind")));
            size_t k;
            json_t *p;
            json_array_foreach(json_object_get(c, "plans"), k, p)
            {
                json_t *states = json_object_get(p, "states");
                printf("%s %s %s", k ? ";" : "", json_string_value(json_object_get(p, "line")),
                       json_string_value(json_object_get(p, "id")));
                printf(" v%s from %s [", json_string_value(json_object_get(p, "version")),
                       json_string_value(json_object_get(p, "effective")));
                for (size_t s = 0; s < json_array_size(states); s++)
                    printf("%s%s", s ? " " : "", json_string_value(json_array_get(states, s)));
                printf("]");
            }
            printf("\n");
        }
        json_decref(list);
    }
    mq_engine_free(e);
    return CLI_OK;
}
