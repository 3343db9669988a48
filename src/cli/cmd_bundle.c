/* cmd_bundle.c -- `multiquote quote` for a bundle request (auto + home).
 *
 * Prints each line's comparison, then every carrier's bundle with its
 * multi-line discount beside the best separate quotes, all by annual cost
 * (auto terms are often 6 months, home 12); --json prints the bundle
 * response of docs/bundles.md. With --carriers, the local carriers of that
 * registry are compared, as the server with the same registry compares
 * them (remote carriers are not asked for bundles); the request's
 * "carriers" must be carriers of the comparison, as POST /v1/quotes checks.
 */
#include "cli.h"
#include "remote.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

bool cli_is_bundle(const char *file)
{
    struct stat st; /* the ordinary path reports a missing or oversized file */
    if (stat(file, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > MQ_REQ_MAX_BYTES)
        return false;
    size_t len = 0;
    char *text = cli_read_input(file, MQ_REQ_MAX_BYTES, &len);
    json_t *doc = text ? json_loadb(text, len, 0, NULL) : NULL;
    bool bundle = doc && mq_req_is_bundle(doc);
    json_decref(doc);
    free(text);
    return bundle;
}

static void print_side(const char *what, const mq_result *r)
{
    printf("  %-8s %-12s ", what, r->carrier_id);
    cli_print_money(stdout, r->total_cents, 10);
    printf(" / %2d mo", r->term_months);
}

static void print_bundles(const mq_bundle_input *b, const mq_bundle_result *r)
{
    const char *prop = mq_line_get(b->property_line)->name;
    printf("\nBundles (auto + %s from one carrier), by annual cost\n", prop);
    for (int i = 0; i < r->nbundles; i++) {
        const mq_bundle_quote *q = &r->bundles[i];
        printf("%3d  %-40s annual ", i + 1, q->auto_r.carrier_name);
        cli_print_money(stdout, q->annual_cents, 10);
        printf("   saves ");
        cli_print_money(stdout, q->separate_annual_cents - q->annual_cents, 0);
        printf(" on its separate quotes\n");
        print_side("auto", &q->auto_r);
        print_side(prop, &q->property_r);
        printf("\n");
    }
    if (!r->nbundles)
        printf("     no carrier quotes both lines\n");
    if (r->best_auto && r->best_property) {
        printf("\nBest separate quotes: annual ");
        cli_print_money(stdout, r->best_separate_cents, 0);
        printf("\n");
        print_side("auto", r->best_auto);
        print_side(prop, r->best_property);
        printf("\n");
    }
}

/* The registry of --carriers, checked against the plans; NULL in *out
 * without --carriers. CLI_FAIL after saying what is wrong with it. */
static int load_registry(const cli_opts *o, const mq_engine *e, mq_remote_registry **out)
{
    char err[512];
    *out = NULL;
    if (!o->carriers_file)
        return CLI_OK;
    mq_remote_registry *reg = mq_remote_registry_load(o->carriers_file, err, sizeof err);
    if (!reg || !mq_remote_registry_check(reg, e, err, sizeof err)) {
        fprintf(stderr, "multiquote: %s\n", err);
        mq_remote_registry_free(reg);
        return CLI_FAIL;
    }
    *out = reg;
    return CLI_OK;
}

int cli_quote_bundle(const cli_opts *o)
{
    size_t len = 0;
    char *text = cli_read_input(o->file, MQ_REQ_MAX_BYTES, &len);
    json_t *doc = text ? json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL) : NULL;
    free(text);
    if (!doc)
        return CLI_FAIL;
    mq_arena a;
    mq_arena_init(&a, 0);
    mq_bundle_input b;
    mq_req_errors errs = {0};
    mq_engine *e = NULL;
    mq_remote_registry *reg = NULL; /* --carriers: its selection of local carriers */
    int rc = CLI_OK;
    if (!mq_req_bundle_from_json(doc, &a, &b, &errs)) {
        for (int i = 0; i < errs.count && i < 32; i++)
            fprintf(stderr, "%s: invalid request: %s\n", o->file,
                    mq_req_error_text(&errs.items[i], &a));
        rc = errs.count ? CLI_USAGE : CLI_FAIL;
    } else if ((rc = cli_intake_check_doc(o->file, doc, &a)) != CLI_OK) {
        /* VINs, state minimums and ZIP codes of each part: printed */
    } else if (!(e = cli_load_engine(o->plans))) {
        rc = CLI_FAIL;
    } else if ((rc = load_registry(o, e, &reg)) != CLI_OK ||
               (rc = cli_carriers_known(o->file, reg, e, &b.auto_in, NULL, &a)) != CLI_OK) {
        /* said */
    } else {
        mq_rate_opts opts = {.rate_here = mq_remote_rate_here,
                             .asked_elsewhere = mq_remote_asked_elsewhere,
                             .carrier_arg = reg};
        mq_bundle_result r;
        if (!mq_bundle_rate_with(e, &b, &opts, &a, &r)) {
            fprintf(stderr, "multiquote: out of memory\n");
            rc = CLI_FAIL;
        } else if (o->json) {
            char *out = mq_resp_bundle_text(&b, &r, &(mq_resp_meta){0});
            json_t *pretty = out ? json_loads(out, 0, NULL) : NULL;
            char *p = pretty ? mq_resp_dump(pretty, true) : NULL;
            puts(p ? p : "");
            free(p);
            free(out);
            json_decref(pretty);
        } else {
            cli_print_results(o, &b.auto_in, r.auto_res, r.nauto);
            printf("\n");
            cli_print_results(o, &b.property_in, r.property_res, r.nproperty);
            print_bundles(&b, &r);
        }
    }
    mq_remote_registry_free(reg);
    mq_engine_free(e);
    mq_arena_free(&a);
    json_decref(doc);
    return rc;
}
