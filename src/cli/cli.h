/* cli.h -- the multiquote command line (prefix cli_).
 *
 * main.c parses the command and shared options and dispatches; each cmd_*.c
 * implements a group of commands. Exit codes: 0 done, 1 failure (plans,
 * files, memory), 2 bad usage or a bad request.
 */
#ifndef MQ_CLI_H
#define MQ_CLI_H

#include "engine.h"
#include "intake.h"
#include "model.h"

#include <stdbool.h>
#include <stdio.h>

/* Exit statuses. CLI_UNCHECKED is requote's alone: nothing of the quote
 * could be re-rated here, so there was nothing to compare (not a failure to
 * reproduce, nor a pass). */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2, CLI_UNCHECKED = 3 };

struct mq_remote_registry; /* remote.h */

typedef struct cli_opts {
    const char *plans;   /* --plans DIR */
    const char *carrier; /* --carrier ID */
    const char *file;    /* the positional argument */
    const char *db, *web, *bind;
    const char *carriers_file; /* --carriers FILE: the carrier registry */
    int port;                  /* --port N (8080 unless given; 0: any free port; -1: not a port) */
    bool json, schema, help, color;
    /* batch, impact, gen-book */
    const char *from, *to;   /* --from VERSION --to VERSION */
    const char *line;        /* --line auto */
    const char *format;      /* --format ndjson|csv */
    const char *state;       /* --state OH[,PA,TX] */
    const char *out_csv;     /* --out-csv FILE */
    const char *png;         /* --png FILE */
    long n;                  /* --n N (-1: not a number) */
    unsigned long long seed; /* --seed S */
    int threads;             /* --threads N (0: one per core; -1: not a number) */
    bool acord;              /* quote, explain: FILE is ACORD XML (--acord) */
    /* personal data (cmd_privacy.c) */
    const char *key_file;       /* --key-file F */
    const char *email;          /* forget, export, consent --email ADDR */
    const char *quote;          /* forget, export, consent --quote ID (or a /q/ID link) */
    const char *older_than;     /* purge --older-than DAYS */
    const char *since;          /* leads --since DATE */
    bool withdraw;              /* consent --withdraw */
    bool add_only, reseal_only; /* rotate-key: one of its two steps */
    /* serve: the hardening options (--max-connections N...), checked by cmd_serve.c */
    struct cli_limit_opt {
        const char *name, *value;
    } limits[16];
    int nlimits;
} cli_opts;

/* Shared helpers (main.c). */
mq_engine *cli_load_engine(const char *dir);
/* Reads FILE or "-" (stdin), at most `max` bytes; NULL with a message on error. */
char *cli_read_input(const char *file, size_t max, size_t *len);
/* Parses a request file; prints its errors; returns CLI_OK, CLI_USAGE or CLI_FAIL. */
int cli_parse_request(const char *file, mq_arena *a, mq_input *in);
void cli_print_money(FILE *f, int64_t cents, int width);

/* The comparison table of one line's results (cmd_quote.c). */
void cli_print_results(const cli_opts *o, const mq_input *in, const mq_result *res, int n);

/* cmd_remote.c: rates the local carriers of --carriers and asks its remote
 * ones, sending them `request` (the contract's JSON; NULL: the file of
 * o->file, read as is; x: the ACORD request it was mapped from, or NULL);
 * *res (arena) holds them all, sorted. */
int cli_quote_remote(const cli_opts *o, const char *request, const mq_acord *x, const mq_engine *e,
                     mq_input *in, mq_arena *a, mq_result **res, int *n);

/* cmd_remote.c: every id of the request's "carriers" is a carrier of this
 * comparison (the registry's, or a local one it does not leave out; with
 * no registry, reg NULL: one with plans), as POST /v1/quotes requires: a
 * typo ("sumit") or a local carrier the registry leaves out is bad input,
 * not a result. CLI_USAGE after naming each unknown one (by its XPath,
 * .../com.multiquote_CarrierId[2], when the request was ACORD, x);
 * CLI_OK otherwise; CLI_FAIL when memory ran out. */
int cli_carriers_known(const char *file, const struct mq_remote_registry *reg, const mq_engine *e,
                       const mq_input *in, const mq_acord *x, mq_arena *a);

/* Bundles (cmd_bundle.c): a request file whose line is "bundle". */
bool cli_is_bundle(const char *file);
int cli_quote_bundle(const cli_opts *o);

/* Commands. */
int cli_quote(const cli_opts *o);
int cli_explain(const cli_opts *o);
int cli_check(const cli_opts *o);
int cli_carriers(const cli_opts *o);
int cli_serve(const cli_opts *o);
int cli_requote(const cli_opts *o);
int cli_batch(const cli_opts *o); /* cmd_batch.c */
int cli_impact(const cli_opts *o);
int cli_gen_book(const cli_opts *o);

/* cmd_privacy.c: personal data at rest (docs/privacy.md). */
int cli_rotate_key(const cli_opts *o);
int cli_forget(const cli_opts *o);
int cli_purge(const cli_opts *o);
/* Opens the database of --db (default var/multiquote.db), which must be
 * there: NULL after saying "PATH: no database there" or another reason. */
struct mq_store;
struct mq_store *cli_open_store(const char *cmd, const cli_opts *o);
/* The request of a loaded quote with its personal data opened (malloc'd);
 * NULL after printing why not. */
struct mq_store_quote;
char *cli_open_request(const cli_opts *o, const struct mq_store_quote *q);

/* The key ring of --key-file or MQ_KEY (privacy.h); NULL after saying why. */
struct mq_priv_ring;
struct mq_priv_ring *cli_load_keys(const char *cmd, const cli_opts *o);
/* After a look for a person's quotes by their address found none: false
 * after saying so when the ring does not open the database's quotes (its
 * subject key cannot be the one they were saved under). */
bool cli_ring_fits(const char *cmd, struct mq_store *st, const struct mq_priv_ring *keys);
/* The quote id of --quote (the id, or its /q/ID link) into id; CLI_USAGE
 * after saying it is not one. */
enum { CLI_QUOTE_ID_MAX = 128 };
int cli_quote_id(const char *cmd, const char *text, char id[CLI_QUOTE_ID_MAX]);

/* cmd_rights.c: a shopper's rights and the agency's leads (docs/privacy.md):
 * export a person's quotes, withdraw their contact consent, list the
 * quotes whose applicant consented to be contacted. */
int cli_export(const cli_opts *o);
int cli_consent(const cli_opts *o);
int cli_leads(const cli_opts *o);

/* cmd_intake.c: ACORD requests and the src/intake checks of a JSON request. */
int cli_parse_acord(const char *file, mq_arena *a, mq_input *in, mq_acord **out);
int cli_print_acord(const mq_input *in, const mq_result *res, int n, const mq_acord *x);
int cli_intake_check(const char *file, const char *text, size_t len, mq_arena *a);
/* The same for a request already parsed (a bundle's parts each as its line's). */
int cli_intake_check_doc(const char *file, const json_t *doc, mq_arena *a);

#endif
