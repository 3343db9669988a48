/* intake.h -- accurate input: VINs, state rules and ACORD XML (prefix mq_vin_ / mq_state_ /
 * mq_acord_ / mq_intake_).
 *
 * What a request says is checked against what is known outside it: a VIN's
 * check digit, model year and maker (49 CFR 565 and a bundled WMI table), the
 * garaging state's minimum liability limits, and that each ZIP code belongs
 * to the state of the address. The reference data is plain files
 * (data/wmi.csv, data/state-rules.csv) read once into an mq_intake, which is
 * immutable afterwards and may be shared by threads. The ACORD front door
 * turns a PersAutoPolicyQuoteInqRq into the contract's JSON, so a request
 * that comes as XML is validated by the same code as one that comes as JSON,
 * and answers with a PersAutoPolicyQuoteInqRs.
 *
 * Errors are mq_req_errors (model.h) with the same JSON paths as the request
 * parser ("vehicles[0].vin"); an ACORD request's errors name XPaths instead.
 * Strings in errors are allocated from the caller's arena.
 */
#ifndef MQ_INTAKE_H
#define MQ_INTAKE_H

#include "engine.h"
#include "model.h"

#include <jansson.h>

/* ---- Reference data ------------------------------------------------------ */

typedef struct mq_intake mq_intake;

/* Loads DIR/wmi.csv and DIR/state-rules.csv. NULL with "file:line: message"
 * in err on any problem. */
mq_intake *mq_intake_load(const char *dir, char *err, size_t errlen);
void mq_intake_free(mq_intake *ik);

/* The data the program uses: loaded on first call (thread-safe) from
 * $MULTIQUOTE_DATA, else ./data when it holds wmi.csv, else the folder the
 * build bundled (MQ_DEFAULT_DATA). NULL with the message when it cannot be
 * loaded; later calls return the same result. */
const mq_intake *mq_intake_default(char *err, size_t errlen);

/* ---- VIN (vin.c) ----------------------------------------------------------
 * A 17-character VIN (49 CFR 565.15): WMI (positions 1-3), vehicle
 * descriptor (4-8), check digit (9), model year (10), plant (11), serial
 * (12-17). Letters I, O and Q never appear. */

enum { MQ_VIN_LEN = 17, MQ_VIN_MAX_ERRORS = 6 };

/* What a WMI is put on (wmi.csv's vehicles column). Only on light vehicles
 * does position 7 tell the model year's 30-year cycle (49 CFR 565.15). */
typedef enum {
    MQ_VEHICLES_LIGHT,      /* cars, MPVs, trucks and buses to 10,000 lb GVWR */
    MQ_VEHICLES_MOTORCYCLE, /* motorcycles */
    MQ_VEHICLES_HEAVY       /* trucks and buses over 10,000 lb GVWR */
} mq_vehicles;

typedef struct mq_wmi {
    char code[7];             /* "1HG", or 6 characters for a small maker ("1M9xyz") */
    const char *manufacturer; /* "Honda of America" */
    const char *makes[4];     /* every make whose vehicles carry it, the usual one
                                 first: {"Chrysler", "Dodge", "Jeep"}, {"Kia", "Hyundai"} */
    int nmakes;
    const char *country;  /* of the assignment: "United States" */
    mq_vehicles vehicles; /* light when wmi.csv has no vehicles column */
    int line;             /* its line in wmi.csv, for messages */
} mq_wmi;

typedef struct mq_vin {
    char vin[MQ_VIN_LEN + 1]; /* the input, upper-cased (at most 17 characters kept) */
    bool valid;               /* 17 VIN characters, right check digit, a model year code */
    int year;                 /* model year from positions 10 and 7; 0 when unknown. Not a light
                                 vehicle's WMI: position 7 says nothing, so the later of the two
                                 years of position 10's code that is not after next year */
    int year_other;           /* then the other one, 30 years earlier or later; else 0 */
    char check;               /* check digit the other characters give; 0 when not computable */
    const mq_wmi *wmi;        /* the maker, NULL when not in the table */
    const char *make;         /* the one make of the WMI; NULL when unknown or shared */
    char errors[MQ_VIN_MAX_ERRORS][128]; /* what is wrong, one sentence each */
    int nerrors;
} mq_vin;

/* The value of a VIN character for the check digit (49 CFR 565.15(c)
 * transliteration): digits as themselves, letters 1-9; -1 for I, O, Q and
 * anything that is not a VIN character. */
int mq_vin_value(char c);
/* The check digit ('0'-'9' or 'X') of 17 VIN characters, ignoring position
 * 9; 0 when a character is not a VIN character. */
char mq_vin_check_digit(const char *vin);
/* The model year of a light vehicle's 17 VIN characters: position 10's
 * code, in the 1980-2009 cycle when position 7 is a digit, 2010-2039 when a
 * letter; 0 when position 10 is not a year code. */
int mq_vin_year(const char *vin);
/* Decodes any string (NULL-safe); ik may be NULL (no maker lookup). Returns out->valid. */
bool mq_vin_decode(const mq_intake *ik, const char *vin, mq_vin *out);
/* The maker of a VIN (at least 3 characters), or NULL. */
const mq_wmi *mq_wmi_find(const mq_intake *ik, const char *vin);
int mq_wmi_count(const mq_intake *ik);
/* Whether `make` names one of the WMI's makes (case, spaces and dashes
 * ignored; common short forms such as "Chevy" and "VW" accepted). */
bool mq_wmi_has_make(const mq_wmi *w, const char *make);
/* {"vin", "valid", "year", "make", "makes", "manufacturer", "country",
 *  "check_digit", "errors"}: the answer of GET /v1/vin/{vin}. */
json_t *mq_vin_json(const mq_vin *v);

/* ---- State rules (states.c) ---------------------------------------------- */

typedef struct mq_state_rule {
    int state;         /* MQ_DOM_STATE code */
    const char *name;  /* "Ohio" */
    int32_t effective; /* first day these minimums apply; INT32_MIN: "before the next row" */
    int32_t until;     /* first day of the state's next row; INT32_MAX: none */
    int bi_per_person, bi_per_accident, pd; /* whole dollars; 0: no minimum */
    int med; /* first-party medical benefits (coverages.med) every policy must carry, whole
                dollars; 0: none required (PIP inside a no-fault law is not checked) */
    const char *source; /* the law, for docs and messages */
} mq_state_rule;

/* The minimums of `state` (an MQ_DOM_STATE code) in force on `day`; NULL
 * when the state has no rule (never, once loaded: all 51 are required). */
const mq_state_rule *mq_state_rule_on(const mq_intake *ik, int state, int32_t day);
/* The legal minimum liability limits for the savings tips of auto request
 * `in` (its state, on its effective date, from mq_intake_default's rules),
 * in *out; NULL when unknown (not auto, no rule, the data did not load),
 * and then no tip lowers a limit. What the server and `quote` both use. */
const mq_tip_minimums *mq_state_tip_minimums(const mq_input *in, mq_tip_minimums *out);
int mq_state_rule_count(const mq_intake *ik); /* rows, history included */
const mq_state_rule *mq_state_rule_at(const mq_intake *ik, int i);
/* "Ohio" for an MQ_DOM_STATE code. */
const char *mq_state_name(const mq_intake *ik, int state);
/* The state (MQ_DOM_STATE code) a 5-digit ZIP code's 3-digit prefix belongs
 * to, or -1 (not a ZIP code of the 50 states and DC). */
int mq_state_of_zip(const mq_intake *ik, const char *zip);
/* Who every ZIP code of zip's prefix belongs to when none is a street
 * address ("the IRS in Austin" for 73301: state-rules.csv's
 * unique_prefixes), or NULL (a prefix with addresses, or no state's). */
const char *mq_zip_owner(const mq_intake *ik, const char *zip);
/* {"as_of", "states": [{state, name, effective, bi, pd, med, zip_prefixes, source}]}
 * with each state's minimums on `day`: the answer of GET /v1/states. */
json_t *mq_state_rules_json(const mq_intake *ik, int32_t day);

/* ---- Request checks (intake.c) ------------------------------------------- */

/* Checks a request that mq_req_from_json accepted against the reference
 * data, adding each problem to errs with its JSON path:
 *   vehicles[0].vin: check digit is "4" but the VIN's other characters give "3"
 *   vehicles[0].vin: model year 2003 from the VIN contradicts year 2022
 *   coverages.bi: 20000/40000 is below Ohio's minimum 25000/50000
 *   applicant.address.zip: ZIP code 10001 is in New York, but the address is in Ohio
 * Returns true when nothing was added. Every line's address ZIP must be in
 * its state; auto's garaging ZIPs must be in some state (a car may be
 * garaged out of state), its VINs agree with year and make, its limits be
 * at least the address state's minimums on the effective date. A bundle
 * that mq_req_bundle_from_json accepted has each part checked as its own
 * line's request ("auto.vehicles[0].vin: ..."). False with nothing added
 * when memory runs out. */
bool mq_intake_check(const mq_intake *ik, const json_t *doc, mq_arena *a, mq_req_errors *errs);

/* ---- ACORD XML (acord.c, acord_rs.c) --------------------------------------
 * A personal auto quote request, ACORD PersAutoPolicyQuoteInqRq, mapped onto
 * the contract as docs/acord.md's table says. The XML is parsed by libxml2
 * without network access, entity substitution or DTD loading, and a document
 * with a DOCTYPE (so any entity declaration) is refused. */

enum { MQ_ACORD_MAX_BYTES = MQ_REQ_MAX_BYTES };

typedef struct mq_acord mq_acord; /* a mapped request and where each field came from */

/* Parses and maps. Returns NULL with errs filled (XPaths; "" for the whole
 * document) when the XML is malformed, refused, or has unknown, repeated or
 * missing elements; NULL with errs->count == 0 when out of memory. */
mq_acord *mq_acord_parse(const char *xml, size_t len, mq_arena *a, mq_req_errors *errs);
/* The contract request (borrowed; lives as long as x). */
json_t *mq_acord_json(const mq_acord *x);
/* The PersAutoPolicyQuoteInqRq's RqUID, else the InsuranceSvcRq's ("" when
 * none): echoed in each PersAutoPolicyQuoteInqRs. */
const char *mq_acord_rquid(const mq_acord *x);
/* The InsuranceSvcRq's RqUID, else the PersAutoPolicyQuoteInqRq's ("" when
 * none): echoed in the InsuranceSvcRs. */
const char *mq_acord_svc_rquid(const mq_acord *x);
/* The namespace URI of the request's ACORD element (ACORD's own,
 * "http://www.ACORD.org/standards/PC_Surety/ACORD1/xml/", as agency systems
 * send it), which the answer is written in; NULL when it had none. */
const char *mq_acord_ns(const mq_acord *x);
/* Rewrites each error's JSON path (as mq_req_from_json and mq_intake_check
 * report them for mq_acord_json(x)) into the XPath it was read from. */
void mq_acord_xpaths(const mq_acord *x, mq_req_errors *errs, mq_arena *a);
void mq_acord_free(mq_acord *x);

/* The whole front door: parse, map, mq_req_from_json, mq_intake_check and
 * each garaging Location's state against its ZIP code (when ik is not
 * NULL), errors as XPaths. On success fills *in and returns the
 * mapped request (the caller frees it); NULL otherwise, as mq_acord_parse. */
mq_acord *mq_acord_request(const mq_intake *ik, const char *xml, size_t len, mq_arena *a,
                           mq_input *in, mq_req_errors *errs);
/* The same for a document received with a charset (HTTP's Content-Type
 * parameter; NULL or "": none), which is its encoding when the document
 * has neither a byte order mark nor a declared encoding. */
mq_acord *mq_acord_request_in(const mq_intake *ik, const char *xml, size_t len, const char *charset,
                              mq_arena *a, mq_input *in, mq_req_errors *errs);

typedef struct mq_acord_rs_meta {
    const char *rquid;      /* each PersAutoPolicyQuoteInqRs's; NULL: omitted */
    const char *quote_id;   /* CompanysQuoteNumber; NULL: omitted */
    const char *created_at; /* RFC 3339; its date is TransactionResponseDt; NULL: omitted */
    const char *svc_rquid;  /* the InsuranceSvcRs's; NULL: rquid */
    const char *ns;         /* the default namespace of every element; NULL: none */
} mq_acord_rs_meta;

/* The ACORD answer: one PersAutoPolicyQuoteInqRs per result, in the
 * results' order, each with its status, premium by vehicle and coverage,
 * fees and total. A malloc'd UTF-8 document; NULL when out of memory. */
char *mq_acord_response(const mq_input *in, const mq_result *res, int n,
                        const mq_acord_rs_meta *meta, size_t *len);

#endif
