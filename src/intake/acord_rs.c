/* acord_rs.c -- the engine's results as an ACORD PersAutoPolicyQuoteInqRs.
 *
 * One InsuranceSvcRs holds one PersAutoPolicyQuoteInqRs per carrier result,
 * in the contract's order (quoted by ascending total, then the rest). Each
 * carries its status (MsgStatus: Success, Rejected or Error, with the
 * contract's status and reasons as ExtendedStatus), the plan and term
 * (PersPolicy), every coverage premium under its vehicle with the limits or
 * deductible chosen (PersAutoLineBusiness/PersVeh/Coverage/CurrentTermAmt),
 * and the total with fees (PolicySummaryInfo/FullTermAmt). What ACORD has no
 * element for (carrier id and rating, fees by name, notes) is written as
 * com.multiquote_ extensions, as ACORD's extension rules allow. Its
 * elements are in the request's namespace (ACORD's, as agency systems send
 * it; none when the request had none). The tree is built with libxml2,
 * which escapes every text.
 */
#include "intake_internal.h"

#include <libxml/tree.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rs {
    bool oom;
} rs;

static xmlNode *el(rs *w, xmlNode *parent, const char *name, const char *text)
{
    if (!parent) {
        w->oom = true;
        return NULL;
    }
    xmlNode *n = text ? xmlNewTextChild(parent, NULL, (const xmlChar *)name, (const xmlChar *)text)
                      : xmlNewChild(parent, NULL, (const xmlChar *)name, NULL);
    if (!n)
        w->oom = true;
    return n;
}

static void money(char out[32], int64_t cents)
{
    int64_t a = cents < 0 ? -cents : cents;
    snprintf(out, 32, "%s%" PRId64 ".%02" PRId64, cents < 0 ? "-" : "", a / 100, a % 100);
}

static void amt(rs *w, xmlNode *parent, const char *name, int64_t cents)
{
    char text[32];
    money(text, cents);
    el(w, el(w, parent, name, NULL), "Amt", text);
}

static void integer(rs *w, xmlNode *parent, const char *name, double v)
{
    char text[32];
    snprintf(text, sizeof text, "%.0f", v);
    el(w, parent, name, text);
}

/* The contract's coverage code as ACORD's CoverageCd. */
static const char *acord_code(const char *code)
{
    static const char *const map[][2] = {{"bi", "BI"}, {"pd", "PD"},     {"med", "MEDPM"},
                                         {"um", "UM"}, {"comp", "COMP"}, {"coll", "COLL"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(code, map[i][0]) == 0)
            return map[i][1];
    return code;
}

/* The limits or deductible the shopper chose for a coverage. */
static void limits(rs *w, xmlNode *cov, const mq_input *in, const mq_cov_premium *cp)
{
    const double *pol = mq_input_row(in, MQ_ENT_POLICY, 0);
    if (in->line != MQ_LINE_AUTO)
        return;
    const double *veh =
        in->count[MQ_ENT_VEHICLE] > cp->unit ? mq_input_row(in, MQ_ENT_VEHICLE, cp->unit) : NULL;
    double pp = NAN, pa = NAN, single = NAN, ded = NAN;
    switch (cp->coverage) {
    case MQ_COV_BI:
        pp = pol[MQ_AP_BI_PER_PERSON];
        pa = pol[MQ_AP_BI_PER_ACCIDENT];
        break;
    case MQ_COV_UM:
        pp = pol[MQ_AP_UM_PER_PERSON];
        pa = pol[MQ_AP_UM_PER_ACCIDENT];
        break;
    case MQ_COV_PD:
        single = pol[MQ_AP_PD_LIMIT];
        break;
    case MQ_COV_MED:
        single = pol[MQ_AP_MED_LIMIT];
        break;
    case MQ_COV_COMP:
        ded = veh ? veh[MQ_AV_COMP_DEDUCTIBLE] : NAN;
        break;
    case MQ_COV_COLL:
        ded = veh ? veh[MQ_AV_COLL_DEDUCTIBLE] : NAN;
        break;
    default:
        break;
    }
    if (!isnan(pp) && !isnan(pa)) {
        xmlNode *l = el(w, cov, "Limit", NULL);
        integer(w, l, "FormatInteger", pp);
        el(w, l, "LimitAppliesToCd", "PerPerson");
        l = el(w, cov, "Limit", NULL);
        integer(w, l, "FormatInteger", pa);
        el(w, l, "LimitAppliesToCd", "PerAcc");
    } else if (!isnan(single)) {
        integer(w, el(w, cov, "Limit", NULL), "FormatInteger", single);
    } else if (!isnan(ded)) {
        integer(w, el(w, cov, "Deductible", NULL), "FormatInteger", ded);
    }
}

static void status(rs *w, xmlNode *q, const mq_result *r)
{
    xmlNode *ms = el(w, q, "MsgStatus", NULL);
    const char *cd = r->status == MQ_QUOTED        ? (r->nnotes ? "SuccessWithInfo" : "Success")
                     : r->status == MQ_DECLINED    ? "Rejected"
                     : r->status == MQ_UNAVAILABLE ? "Rejected"
                                                   : "Error";
    el(w, ms, "MsgStatusCd", cd);
    if (r->nreasons)
        el(w, ms, "MsgStatusDesc", r->reasons[0]);
    for (int i = 0; i < r->nreasons || (i == 0 && r->status != MQ_QUOTED); i++) {
        xmlNode *es = el(w, ms, "ExtendedStatus", NULL);
        el(w, es, "ExtendedStatusCd", mq_status_name(r->status));
        if (i < r->nreasons)
            el(w, es, "ExtendedStatusDesc", r->reasons[i]);
    }
}

static void policy(rs *w, xmlNode *q, const mq_input *in, const mq_result *r,
                   const mq_acord_rs_meta *meta)
{
    xmlNode *pp = el(w, q, "PersPolicy", NULL);
    mq_plan_info pi = {0};
    if (r->plan)
        mq_plan_get_info(r->plan, &pi);
    else
        pi.plan_id = r->remote_plan_id; /* a remote carrier's own plan, or none */
    if (pi.plan_id)
        el(w, pp, "CompanyProductCd", pi.plan_id);
    el(w, pp, "LOBCd", "AUTOP");
    xmlNode *term = el(w, pp, "ContractTerm", NULL);
    char day[11];
    mq_date_format(in->effective_date, day);
    el(w, term, "EffectiveDt", day);
    if (r->term_months > 0) {
        mq_date_format(mq_date_add_months(in->effective_date, r->term_months), day);
        el(w, term, "ExpirationDt", day);
        xmlNode *dur = el(w, term, "DurationPeriod", NULL);
        integer(w, dur, "NumUnits", r->term_months);
        el(w, dur, "UnitMeasurementCd", "MON");
    }
    if (meta && meta->quote_id)
        el(w, el(w, pp, "QuoteInfo", NULL), "CompanysQuoteNumber", meta->quote_id);
    xmlNode *c = el(w, pp, "com.multiquote_Carrier", NULL);
    el(w, c, "Id", r->carrier_id);
    el(w, c, "Name", r->carrier_name);
    if (r->carrier_rating)
        el(w, c, "Rating", r->carrier_rating);
    if (pi.version)
        el(w, c, "PlanVersion", pi.version);
}

static void line_business(rs *w, xmlNode *q, const mq_input *in, const mq_result *r)
{
    xmlNode *lb = el(w, q, "PersAutoLineBusiness", NULL);
    el(w, lb, "LOBCd", "AUTOP");
    const mq_line_def *l = mq_line_get(in->line);
    xmlNode *veh = NULL;
    int32_t unit = -1;
    for (int i = 0; i < r->ncoverages; i++) {
        const mq_cov_premium *cp = &r->coverages[i];
        if (cp->unit != unit || !veh) {
            unit = cp->unit;
            veh = el(w, lb, "PersVeh", NULL);
            const char *id =
                l->unit != MQ_ENT_POLICY && in->ids[l->unit] ? in->ids[l->unit][unit] : NULL;
            if (veh && id && !xmlNewProp(veh, (const xmlChar *)"id", (const xmlChar *)id))
                w->oom = true;
        }
        xmlNode *cov = el(w, veh, "Coverage", NULL);
        el(w, cov, "CoverageCd", acord_code(l->coverages[cp->coverage].code));
        limits(w, cov, in, cp);
        amt(w, cov, "CurrentTermAmt", cp->cents);
    }
}

static void summary(rs *w, xmlNode *q, const mq_result *r)
{
    xmlNode *s = el(w, q, "PolicySummaryInfo", NULL);
    amt(w, s, "FullTermAmt", r->total_cents);
    amt(w, s, "com.multiquote_PremiumAmt", r->premium_cents);
    for (int i = 0; i < r->nfees; i++) {
        xmlNode *f = el(w, s, "com.multiquote_Fee", NULL);
        el(w, f, "Name", r->fees[i].name);
        amt(w, f, "FeeAmt", r->fees[i].cents);
    }
    if (r->minimum_applied)
        el(w, s, "com.multiquote_MinimumPremiumApplied", "1");
    for (int i = 0; i < r->nnotes; i++)
        el(w, s, "com.multiquote_Note", r->notes[i]);
}

char *mq_acord_response(const mq_input *in, const mq_result *res, int n,
                        const mq_acord_rs_meta *meta, size_t *len)
{
    rs w = {0};
    ik_xml_init();
    xmlDocPtr d = xmlNewDoc((const xmlChar *)"1.0");
    xmlNode *root = d ? xmlNewNode(NULL, (const xmlChar *)"ACORD") : NULL;
    if (!root) {
        xmlFreeDoc(d);
        return NULL;
    }
    xmlDocSetRootElement(d, root);
    if (meta && meta->ns && *meta->ns) {
        /* the request's namespace, as the default: every element below
         * inherits it (xmlNewChild with no namespace takes the parent's) */
        xmlNs *ns = xmlNewNs(root, (const xmlChar *)meta->ns, NULL);
        if (!ns)
            w.oom = true;
        xmlSetNs(root, ns);
    }
    xmlNode *svc = el(&w, root, "InsuranceSvcRs", NULL);
    const char *rquid = meta && meta->rquid && *meta->rquid ? meta->rquid : NULL;
    const char *svc_rquid = meta && meta->svc_rquid && *meta->svc_rquid ? meta->svc_rquid : rquid;
    if (svc_rquid)
        el(&w, svc, "RqUID", svc_rquid);
    char day[11] = "";
    if (meta && meta->created_at && strlen(meta->created_at) >= 10)
        snprintf(day, sizeof day, "%.10s", meta->created_at);
    for (int i = 0; i < n && !w.oom; i++) {
        const mq_result *r = &res[i];
        xmlNode *q = el(&w, svc, "PersAutoPolicyQuoteInqRs", NULL);
        if (rquid)
            el(&w, q, "RqUID", rquid);
        if (*day)
            el(&w, q, "TransactionResponseDt", day);
        el(&w, q, "CurCd", "USD");
        status(&w, q, r);
        policy(&w, q, in, r, meta);
        if (r->status == MQ_QUOTED) {
            line_business(&w, q, in, r);
            summary(&w, q, r);
        }
    }
    char *out = NULL;
    if (!w.oom) {
        xmlChar *buf = NULL;
        int size = 0;
        xmlDocDumpFormatMemoryEnc(d, &buf, &size, "UTF-8", 1);
        if (buf && size > 0 && (out = malloc((size_t)size + 1))) {
            memcpy(out, buf, (size_t)size);
            out[size] = '\0';
            if (len)
                *len = (size_t)size;
        }
        xmlFree(buf);
    }
    xmlFreeDoc(d);
    return out;
}
