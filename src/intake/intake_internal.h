/* intake_internal.h -- what the files of src/intake share (private, prefix ik_).
 *
 * The mq_intake layout, the small CSV reader the two data files are read
 * with, and error collection in mq_req_errors the way src/model does it (the
 * count goes on past the 32 kept, strings in the caller's arena).
 */
#ifndef MQ_INTAKE_INTERNAL_H
#define MQ_INTAKE_INTERNAL_H

#include "intake.h"

enum { IK_MAX_STATES = 64, IK_MAX_FIELDS = 16 };

struct mq_intake {
    mq_arena mem; /* every string and table below */
    mq_wmi *wmis; /* sorted by code */
    int nwmi;
    mq_state_rule *rules; /* sorted by state, then effective */
    int nrules;
    int first_rule[IK_MAX_STATES]; /* index of each state's first row; -1 none */
    int nstate_rules[IK_MAX_STATES];
    const char *state_names[IK_MAX_STATES];
    signed char zip_state[1000]; /* MQ_DOM_STATE code of each 3-digit ZIP prefix; -1 none */
    const char *zip_owner[1000]; /* who every ZIP code of a prefix without street addresses
                                    belongs to ("the IRS in Austin"); NULL for the others */
};

/* ---- CSV (intake.c) --------------------------------------------------------
 * A whole file in memory, split in place one record at a time: fields may be
 * double-quoted (with "" for a quote); blank lines and lines starting with #
 * are skipped, and so is a leading UTF-8 byte order mark (a spreadsheet's).
 * The first record is the header, checked against `columns`, whose last
 * `optional` may be left out (a file written before they were added). */
typedef struct ik_csv {
    char *buf, *p;
    const char *path;
    int line;     /* of the record last returned */
    int ncolumns; /* the header's: every record has as many fields */
} ik_csv;

bool ik_csv_open(ik_csv *c, const char *dir, const char *name, const char *const *columns,
                 int optional, char *err, size_t errlen);
/* Next record into fields[]; false at the end. A record with a different
 * number of fields than the header is reported through *nfields. */
bool ik_csv_next(ik_csv *c, char **fields, int *nfields);
void ik_csv_close(ik_csv *c);

/* Loaders (vin.c, states.c): false with "file:line: message" in err. */
bool ik_load_wmi(mq_intake *ik, const char *dir, char *err, size_t errlen);
bool ik_load_states(mq_intake *ik, const char *dir, char *err, size_t errlen);

/* libxml2's one-time initialisation, before any thread uses it (acord.c). */
void ik_xml_init(void);

/* ---- Errors (intake.c) ------------------------------------------------------ */

/* Adds "path: message" to errs, as request.c's rq_err_at does. */
void ik_err(mq_req_errors *errs, mq_arena *a, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
