/* request_internal.h -- what the request parsers share (private to src/model, prefix rq_).
 *
 * request.c holds the reading toolkit (the JSON path of the object being
 * read, error collection, typed field readers), the envelope every line has
 * (line, effective_date, applicant, carriers) and the auto line. The other
 * lines live in request_property.c (home, renters), request_life.c
 * (term_life) and request_health.c (health), written with the same toolkit.
 * Each line is described by one rq_line: its top-level keys, where its
 * applicant facts go in the policy row, how to count its entities before the
 * input is allocated, and the parser of its own sections.
 */
#ifndef MQ_REQUEST_INTERNAL_H
#define MQ_REQUEST_INTERNAL_H

#include "model.h"

enum {
    MAX_CARRIERS = 64,
    MAX_ID = 64,
    MAX_TEXT = 256, /* characters of any other string: a name, a street, an email */
    MAX_PATH = 256,
    MAX_ERRORS = (int)(sizeof(((mq_req_errors *)0)->items) / sizeof(mq_req_error)),
    MAX_AGE = 120, /* oldest plausible age of anyone in a request, on the effective date */
};

#define MAX_LIMIT  10000000.0  /* largest limit or deductible, dollars */
#define MAX_AMOUNT 100000000.0 /* largest incident or claim amount, income, dollars */

typedef struct rq_line rq_line;

typedef struct req {
    const rq_line *line; /* the request's line */
    mq_arena *a;
    mq_req_errors *errs;
    bool oom;
    char path[MAX_PATH]; /* JSON path of the object being read */
    size_t plen;
    mq_input *in;
    bool has_eff; /* effective_date was valid */
    int32_t eff;
    int eff_year;
    double zip;      /* applicant's zip, the default garaging zip */
    bool drivers_ok; /* every driver id was read: principal_driver can be checked */
} req;

/* One line's request shape. Slots are indexes into the line's policy row,
 * -1 when the line does not keep that fact. */
struct rq_line {
    const char *const *top_keys;       /* allowed top-level members */
    const char *const *applicant_keys; /* allowed in "applicant" */
    const char *const *address_keys;   /* allowed in "applicant.address" */
    int dob_slot, homeowner_slot, paperless_slot;
    bool dob_required;
    /* Entity counts the arrays announce (0 for an invalid list), policy
     * excluded; NULL for a line with no lists. */
    void (*count)(const json_t *doc, int32_t count[MQ_ENT_COUNT]);
    /* The line's own applicant facts, read with the path at "applicant"; may be NULL. */
    void (*applicant)(req *r, const json_t *ap, double *pol);
    /* The line's own address facts, read with the path at "applicant.address"; may be NULL. */
    void (*address)(req *r, const json_t *addr, double *pol);
    /* Everything after the envelope. */
    void (*parse)(req *r, const json_t *doc);
};

extern const rq_line rq_home_line, rq_renters_line, rq_life_line, rq_health_line;

/* The envelope's applicant and address members (request.c). */
extern const char *const rq_applicant_keys[];
extern const char *const rq_address_keys[];

/* ---- Paths and errors (request.c) ---------------------------------- */

/* Enters member `key` (or element `i`) of the current object; returns what
 * rq_path_pop restores. */
size_t rq_path_enter(req *r, const char *key);
size_t rq_path_index(req *r, size_t i);
void rq_path_pop(req *r, size_t at);

/* Records a problem with member `key` of the current object (NULL: the object). */
void rq_err_at(req *r, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "an object", "a number", "null"... ("nothing" for NULL), as messages say a type. */
const char *rq_type_name(const json_t *v);
/* "expected <want>, got <type of v>" */
void rq_err_type(req *r, const char *key, const char *want, const json_t *v);

/* ---- Typed field readers (request.c) --------------------------------
 * Each reads member `key` of `obj`; an absent or null member is missing
 * ("is required" when required). They return whether a valid value was read. */

/* How a number is allowed to look. */
typedef struct num_rule {
    double lo, hi;
    bool whole; /* no fraction */
    bool cents; /* at most two decimals */
} num_rule;

#define LIMIT ((num_rule){1, MAX_LIMIT, true, false}) /* a limit or deductible */

json_t *rq_member(req *r, const json_t *obj, const char *key, bool required);
const char *rq_get_string(req *r, const json_t *obj, const char *key, bool required);
bool rq_get_bool(req *r, const json_t *obj, const char *key, bool required, double *out);
bool rq_get_date(req *r, const json_t *obj, const char *key, bool required, int32_t *out);
/* A date that may not fall after the effective date. */
bool rq_get_past_date(req *r, const json_t *obj, const char *key, bool required, int32_t *out);
/* A date of birth: a past date, of someone at most MAX_AGE on the effective date. */
bool rq_get_birth_date(req *r, const json_t *obj, const char *key, bool required, int32_t *out);
bool rq_get_enum(req *r, const json_t *obj, const char *key, bool required, mq_domain d,
                 double *out);
/* `v` (member `key`, NULL: the current element) as a symbol of domain d. */
bool rq_enum_value(req *r, const char *key, const json_t *v, mq_domain d, double *out);
bool rq_get_zip(req *r, const json_t *obj, const char *key, bool required, double *out);
bool rq_get_number(req *r, const json_t *obj, const char *key, bool required, num_rule rule,
                   double *out);

/* Reports members that are not in `allowed` ("extra" objects are always allowed). */
void rq_check_keys(req *r, const json_t *obj, const char *const *allowed, const char *unknown);
/* Member `key` as an object whose members are checked against `allowed`. */
json_t *rq_get_object(req *r, const json_t *obj, const char *key, bool required,
                      const char *const *allowed);
/* Array size when `v` is an array of lo..hi items, else -1. */
int rq_list_size(const json_t *v, size_t lo, size_t hi);
/* Member `key` as an array of lo..hi items; its size, or -1 after an error. */
int rq_get_list(req *r, const json_t *obj, const char *key, bool required, size_t lo, size_t hi,
                const char *what);

/* Member "id" of the current element, copied into the arena. */
const char *rq_get_id(req *r, const json_t *obj);
/* Reports ids[i] (member "id" of the current element) when an earlier one has it. */
void rq_check_unique(req *r, const char **ids, int i, const char *kind);

#endif
