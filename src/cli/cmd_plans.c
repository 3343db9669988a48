/* cmd_plans.c -- `multiquote check` and `multiquote carriers`.
 *
 * check loads a plans folder and prints every diagnostic (file:line:
 * message), then what mq_engine_lint finds with the intake's state rules
 * (ZIP codes, territories, values between a table's rows and minimum
 * limits a plan has no rate for: errors where a shopper would get one,
 * else warnings), and a one-line summary when there is no error; exit 1
 * on any error. --schema prints the
 * rating vocabulary plans can use, straight from the engine's schema.
 * carriers lists each carrier with its lines, states and plan versions.
 */
#include "cli.h"

#include <stdlib.h>
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

/* mq_lint_states.zip_in_state from the intake's state rules: PPP00-PPP99 are
 * the state's and street addresses (not the IRS's 733, which requests may
 * not use). */
static bool zip_prefix_in_state(void *ctx, int state, int prefix)
{
    char zip[8];
    snprintf(zip, sizeof zip, "%03d00", prefix);
    return mq_state_of_zip(ctx, zip) == state && !mq_zip_owner(ctx, zip);
}

/* mq_lint_states.minimums from the intake's state rules. */
static bool state_minimums(void *ctx, int state, int32_t day, int out[3])
{
    const mq_state_rule *r = mq_state_rule_on(ctx, state, day);
    if (!r)
        return false;
    out[0] = r->bi_per_person;
    out[1] = r->bi_per_accident;
    out[2] = r->pd;
    return true;
}

/* Prints the lint's errors, then its warnings (mq_engine_lint); the number
 * of errors. Without the state rules the ZIP codes and minimum limits are
 * not checked, and check says so. */
static int lint(const mq_engine *e)
{
    char err[512];
    const mq_intake *ik = mq_intake_default(err, sizeof err);
    if (!ik)
        fprintf(stderr, "multiquote: warning: ZIP codes and minimum limits not checked: %s\n", err);
    mq_diags errors = {0}, warnings = {0};
    mq_lint_states states = {ik ? zip_prefix_in_state : NULL, ik ? state_minimums : NULL,
                             (void *)ik};
    mq_engine_lint(e, &states, &errors, &warnings);
    for (int i = 0; i < errors.count; i++)
        fprintf(stderr, "%s\n", errors.items[i].text);
    for (int i = 0; i < warnings.count; i++)
        fprintf(stderr, "%s\n", warnings.items[i].text);
    int n = errors.count;
    mq_diags_free(&errors);
    mq_diags_free(&warnings);
    return n;
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
    int n = mq_engine_plan_count(e), bad = lint(e);
    if (bad)
        fprintf(stderr, "multiquote: %d problem%s in the plans under %s\n", bad,
                bad == 1 ? "" : "s", dir);
    else
        printf("%s: %d plan%s valid\n", dir, n, n == 1 ? "" : "s");
    mq_engine_free(e);
    return bad ? CLI_FAIL : CLI_OK;
}

static const char *field(json_t *obj, const char *key)
{
    const char *v = json_string_value(json_object_get(obj, key));
    return v ? v : "";
}

/* The width of the widest `key` of the carriers in `list`, at least `least`. */
static int column_width(json_t *list, const char *key, int least)
{
    size_t i;
    json_t *c;
    int w = least;
    json_array_foreach(list, i, c)
    {
        int n = (int)strlen(field(c, key));
        w = n > w ? n : w;
    }
    return w;
}

/* One line per carrier, columns as wide as their widest value; then each of
 * its plans: line, id, "version" its version (as the plan names it), the
 * date it rates from, and its states. */
static void print_carrier_table(json_t *list)
{
    int id_w = column_width(list, "id", 2), name_w = column_width(list, "name", 4);
    printf("%-*s  %-*s  %-6s  %-9s  %s\n", id_w, "ID", name_w, "NAME", "RATING", "KIND", "PLANS");
    size_t idx;
    json_t *c;
    json_array_foreach(list, idx, c)
    {
        printf("%-*s  %-*s  %-6s  %-9s ", id_w, field(c, "id"), name_w, field(c, "name"),
               field(c, "rating"), field(c, "kind"));
        size_t k;
        json_t *p;
        json_array_foreach(json_object_get(c, "plans"), k, p)
        {
            json_t *states = json_object_get(p, "states");
            printf("%s %s %s version %s from %s%s%s [", k ? ";" : "", field(p, "line"),
                   field(p, "id"), field(p, "version"), field(p, "effective"),
                   json_object_get(p, "until") ? " to " : "",
                   json_object_get(p, "until") ? field(p, "until") : "");
            for (size_t s = 0; s < json_array_size(states); s++)
                printf("%s%s", s ? " " : "", json_string_value(json_array_get(states, s)));
            printf("]");
        }
        printf("\n");
    }
}

int cli_carriers(const cli_opts *o)
{
    mq_engine *e = cli_load_engine(o->plans);
    if (!e)
        return CLI_FAIL;
    json_t *doc = mq_resp_carriers(e);
    json_t *list = json_object_get(doc, "carriers");
    if (o->json) {
        char *text = mq_resp_dump(doc, true);
        puts(text ? text : "");
        free(text);
    } else
        print_carrier_table(list);
    json_decref(doc);
    mq_engine_free(e);
    return CLI_OK;
}
