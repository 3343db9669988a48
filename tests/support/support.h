/* support.h -- helpers shared by the C tests (tests/unit and tests/e2e).
 *
 * Reading and writing whole files, loading JSON and editing it by path,
 * loading the engine in a cmocka group setup, parsing a request file, and
 * running a command with its stdout, stderr and exit code captured (with a
 * timeout). Every helper fails the current test (fail_msg / assert_*) when
 * something it needs is missing, so callers need not check. Prefix: ts_.
 */
#ifndef MQ_TESTS_SUPPORT_H
#define MQ_TESTS_SUPPORT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "model.h"

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

/* ---- Files ------------------------------------------------------------- */

/* The whole file at `path`, NUL-terminated (free it); its length in *len if
 * `len` is not NULL. Fails the test if it cannot be read. */
char *ts_read_file(const char *path, size_t *len);

/* printf's text as a new string (free it); fails the test if out of memory. */
char *ts_format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes `len` bytes of `data` to `path` (created or truncated). */
void ts_write_file(const char *path, const void *data, size_t len);

/* ---- JSON -------------------------------------------------------------- */

/* The JSON document in file `path` (json_decref it). */
json_t *ts_load_json(const char *path);

/* For cmocka group setups: loads the JSON document in file `path` into *doc;
 * 0, or -1 with the error on stderr. */
int ts_json_setup(json_t **doc, const char *path);

/* A copy of the "request" of case `i` (0-based) of an examples file. */
json_t *ts_example_request(const char *path, size_t i);

/* A JSON value from its text ("\"x\"", "12", "{...}"). */
json_t *ts_json(const char *text);

/* Sets (value, consumed) or removes (NULL) the member at `path` of `root`,
 * e.g. "drivers[1].license.state". */
void ts_set_path(json_t *root, const char *path, json_t *value);

/* ---- Engine and requests ----------------------------------------------- */

/* Loads the plans under `dir` into *engine, each diagnostic written as a line
 * to `diags` (NULL: not shown). 0, or -1 when the engine did not load: for
 * cmocka group setups. */
int ts_engine_setup(mq_engine **engine, const char *dir, FILE *diags);

/* Frees *engine (group teardowns); 0. */
int ts_engine_teardown(mq_engine **engine);

/* Parses request `text` (`len` bytes) with mq_req_parse into `in`, memory from
 * `a` (initialised by the caller); fails the test naming `what` and the first
 * problem when it is refused. */
void ts_parse_request(const char *text, size_t len, mq_arena *a, mq_input *in, const char *what);

/* ts_parse_request on the contents of file `path`. */
void ts_parse_request_file(const char *path, mq_arena *a, mq_input *in);

/* For each request file, calls check(p, in, a) for every plan of `e` of the
 * request's line (a: an arena freed after each request); the sum of what
 * check returned. */
typedef int (*ts_plan_check)(const mq_plan *p, const mq_input *in, mq_arena *a);
int ts_each_plan_of_line(const mq_engine *e, const char *const *files, size_t nfiles,
                         ts_plan_check check);

/* A copy of in->values[k] (at least one cell) from `a`, to change. */
double *ts_copy_values(const mq_input *in, mq_entity_kind k, mq_arena *a);

/* `in` with field f of kind k changed in every entity (first_only: in
 * entity 0 alone) to another value whatever it was (a missing value becomes
 * 1; a link another entity that exists); values from `a`. */
mq_input ts_with_field_changed(const mq_input *in, mq_entity_kind k, int f, bool first_only,
                               mq_arena *a);

/* ---- Running a command ------------------------------------------------- */

typedef struct ts_result {
    int code;  /* exit code, or -signal when killed by a signal */
    char *out; /* stdout, NUL-terminated */
    char *err; /* stderr, NUL-terminated */
    size_t nout;
} ts_result;

/* Starts `bin` with the NULL-terminated `args` (after the program name), stdin
 * from file `input` (NULL: /dev/null), stdout and stderr to files `out` and
 * `err`, and no other descriptor of the test's. Returns its pid. */
pid_t ts_spawn(const char *bin, const char *const *args, const char *input, const char *out,
               const char *err);

/* Runs `bin` as ts_spawn does, with stdout and stderr in `dir`/stdout and
 * `dir`/stderr, and waits for it; kills it and fails the test after
 * `timeout_s` seconds. */
ts_result ts_run(const char *bin, const char *const *args, const char *input, const char *dir,
                 int timeout_s);

void ts_result_free(ts_result *r);

/* The port a `multiquote serve --port 0` started by ts_spawn (pid) bound:
 * read from the "listening" line it writes to file `err`, waiting up to
 * `timeout_s` seconds. 0 when it exits first or says nothing in time. */
int ts_serve_port(pid_t pid, const char *err, int timeout_s);

#endif
