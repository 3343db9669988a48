/* cmd_batch.c -- `multiquote batch`, `multiquote impact` and `multiquote gen-book`.
 *
 * Thin front ends over src/batch: each checks its options, loads the plans,
 * opens the book and runs the pipeline with the right row function and sink
 * (batch: rate as `quote` does; impact: rate under two plan versions), then
 * reports. Rows are checked as `quote` checks a request: the request parser's
 * rules, then the reference data's (src/intake: ZIP codes, state minimum
 * limits, VINs). A book's bad rows never stop a run; they are reported in the
 * output and counted on stderr, and make the exit status 2. Ctrl-C stops a
 * run cleanly: the rows read by then are written, exit 130. impact refuses
 * an output file that is its book, before opening anything for writing, and
 * writes each output to a temporary file beside it, renamed over it only
 * when the run gives it: a failed run leaves what was there before.
 */
#include "batch.h"
#include "cli.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Under LeakSanitizer (the ASan build): fontconfig, which cairo's text uses
 * for the impact chart, keeps its configuration cache to the end of the
 * process by design. Nothing else is exempted. Unused in normal builds. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig.so\n";
}

static int default_threads(const cli_opts *o)
{
    if (o->threads > 0)
        return o->threads;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

/* The reference data rows are checked against, as `quote` checks a request
 * (cmd_intake.c); NULL after saying why. */
static const mq_intake *intake_data(const char *cmd)
{
    char err[512];
    const mq_intake *ik = mq_intake_default(err, sizeof err);
    if (!ik)
        fprintf(stderr,
                "multiquote %s: reference data: %s (set MULTIQUOTE_DATA to the data folder)\n", cmd,
                err);
    return ik;
}

/* Opens the book (FILE or - for stdin) and finds its size for the progress ETA. */
static FILE *open_book(const char *cmd, const char *file, int64_t *size)
{
    FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "rb");
    if (!f) {
        fprintf(stderr, "multiquote %s: %s: %s\n", cmd, file, strerror(errno));
        return NULL;
    }
    struct stat st;
    *size = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) ? (int64_t)st.st_size : 0;
    return f;
}

static bool carrier_known(const mq_engine *e, const char *id)
{
    for (int i = 0; i < mq_engine_plan_count(e); i++) {
        mq_plan_info pi;
        mq_plan_get_info(mq_engine_plan(e, i), &pi);
        if (strcmp(pi.carrier_id, id) == 0)
            return true;
    }
    return false;
}

/* ---- Interruption ------------------------------------------------------
 * SIGINT (Ctrl-C) or SIGTERM during a run raises a flag the pipeline polls:
 * it stops reading, writes the rows read so far in order, and the command
 * says how far the output goes and exits 130. The handler is installed
 * with SA_RESETHAND: a second Ctrl-C ends the process at once. */

enum { EXIT_INTERRUPTED = 130 };

/* A lock-free atomic: safe to set in a handler, read by the pipeline's threads. */
static atomic_int interrupted;
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "the interrupt flag must be lock-free");

static void on_interrupt(int sig)
{
    (void)sig;
    atomic_store(&interrupted, 1);
}

static const int caught[2] = {SIGINT, SIGTERM};
static struct sigaction saved[2]; /* the dispositions before the run */
static bool installed[2];

/* Installs (on) the handler, or puts back (off) what was there before. A
 * signal ignored on entry (a background job's SIGINT) stays ignored. False
 * after saying why. */
static bool catch_interrupts(const char *cmd, bool on)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_interrupt;
    sa.sa_flags = SA_RESTART | SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    if (on)
        atomic_store(&interrupted, 0);
    for (int i = 0; i < 2; i++) {
        int rc = 0;
        if (!on && installed[i]) {
            rc = sigaction(caught[i], &saved[i], NULL);
            installed[i] = false;
        } else if (on && (rc = sigaction(caught[i], NULL, &saved[i])) == 0 &&
                   saved[i].sa_handler != SIG_IGN) {
            rc = sigaction(caught[i], &sa, NULL);
            installed[i] = rc == 0;
        }
        if (rc != 0) {
            fprintf(stderr, "multiquote %s: cannot catch interrupts: %s\n", cmd, strerror(errno));
            return false;
        }
    }
    return true;
}

/* Says how far the output of an interrupted run goes. */
static int report_interrupted(const char *cmd, const char *book, const mq_batch_stats *st,
                              const char *what)
{
    if (st->rows == 0)
        fprintf(stderr, "multiquote %s: interrupted before any row was rated: nothing written\n",
                cmd);
    else
        fprintf(stderr,
                "multiquote %s: interrupted: %s the first %ld rows of %s (to the row on line %ld), "
                "and nothing after\n",
                cmd, what, st->rows, strcmp(book, "-") == 0 ? "stdin" : book, st->last_line);
    return EXIT_INTERRUPTED;
}

/* Exit status after a run, having reported invalid rows (with the book
 * they are in: "BOOK: 1 of 50000 rows invalid; the first: line 7: ..."). */
static int finish_run(const char *cmd, const char *book, int rc, const char *err,
                      const mq_batch_stats *st)
{
    if (rc != MQ_BATCH_OK) {
        if (*err)
            fprintf(stderr, "multiquote %s: %s\n", cmd, err);
        return rc == MQ_BATCH_BAD_INPUT ? CLI_USAGE : CLI_FAIL;
    }
    if (st->invalid) {
        fprintf(stderr, "multiquote %s: %s: %ld of %ld rows invalid; the first: %s\n", cmd, book,
                st->invalid, st->rows, st->first_error);
        return CLI_USAGE;
    }
    return CLI_OK;
}

int cli_batch(const cli_opts *o)
{
    if (!o->file) {
        fprintf(stderr, "multiquote batch: name a book (NDJSON or CSV), or - for stdin\n");
        return CLI_USAGE;
    }
    int out = -1;
    if (o->format && (out = mq_batch_format_find(o->format)) < 0) {
        fprintf(stderr, "multiquote batch: --format is ndjson or csv, not \"%s\"\n", o->format);
        return CLI_USAGE;
    }
    const mq_intake *ik = intake_data("batch");
    mq_engine *e = ik ? cli_load_engine(o->plans) : NULL;
    if (!e)
        return CLI_FAIL;
    if (o->carrier && !carrier_known(e, o->carrier)) {
        fprintf(stderr, "multiquote batch: no carrier with id \"%s\"\n", o->carrier);
        mq_engine_free(e);
        return CLI_USAGE;
    }
    int64_t size = 0;
    FILE *in = open_book("batch", o->file, &size);
    if (!in) {
        mq_engine_free(e);
        return CLI_FAIL;
    }
    mq_batch_rate_ctx ctx;
    if (!mq_batch_rate_init(&ctx, e, o->carrier, out, stdout)) {
        fprintf(stderr, "multiquote batch: out of memory\n");
        if (in != stdin)
            fclose(in);
        mq_engine_free(e);
        return CLI_FAIL;
    }
    mq_batch_job job = {.in = in,
                        .name = o->file,
                        .size = size,
                        .threads = default_threads(o),
                        .progress = isatty(STDERR_FILENO),
                        .label = "batch",
                        .carrier = o->carrier,
                        .intake = ik,
                        .row = mq_batch_rate_row,
                        .start = mq_batch_rate_start,
                        .sink = mq_batch_rate_sink,
                        .ctx = &ctx,
                        .cancel = &interrupted};
    mq_batch_stats st = {0};
    char err[512] = "";
    int rc =
        catch_interrupts("batch", true) ? mq_batch_run(&job, &st, err, sizeof err) : MQ_BATCH_FAIL;
    catch_interrupts("batch", false);
    if (in != stdin)
        fclose(in);
    if ((rc == MQ_BATCH_OK || rc == MQ_BATCH_INTERRUPTED) && fflush(stdout) != 0) {
        snprintf(err, sizeof err, "cannot write the output: %s", strerror(errno));
        rc = MQ_BATCH_FAIL;
    }
    mq_batch_rate_free(&ctx);
    mq_engine_free(e);
    if (rc == MQ_BATCH_INTERRUPTED)
        return report_interrupted("batch", o->file, &st, "the output holds the results of");
    return finish_run("batch", o->file, rc, err, &st);
}

/* How many plan versions have `id` as their carrier id or plan id. */
static int plans_of(const mq_engine *e, const char *id)
{
    int n = 0;
    for (int i = 0; i < mq_engine_plan_count(e); i++) {
        mq_plan_info pi;
        mq_plan_get_info(mq_engine_plan(e, i), &pi);
        n += strcmp(pi.carrier_id, id) == 0 || strcmp(pi.plan_id, id) == 0;
    }
    return n;
}

/* The plan id of `carrier` (a carrier id, or a plan id) having both versions. */
static const char *find_plan_id(const mq_engine *e, const char *carrier, const char *from,
                                const char *to)
{
    const char *found = NULL;
    int matches = 0;
    for (int i = 0; i < mq_engine_plan_count(e); i++) {
        mq_plan_info pi;
        mq_plan_get_info(mq_engine_plan(e, i), &pi);
        if (strcmp(pi.carrier_id, carrier) != 0 && strcmp(pi.plan_id, carrier) != 0)
            continue;
        if (strcmp(pi.version, from) != 0 || !mq_engine_find_version(e, pi.plan_id, to))
            continue;
        if (!found || strcmp(found, pi.plan_id) != 0)
            matches++;
        found = pi.plan_id;
    }
    if (matches == 1)
        return found;
    if (!plans_of(e, carrier)) {
        fprintf(stderr, "multiquote impact: no carrier or plan with id \"%s\"\n", carrier);
        return NULL;
    }
    fprintf(stderr, "multiquote impact: %s plan of \"%s\" has versions %s and %s; its plans:\n",
            matches ? "more than one" : "no", carrier, from, to);
    for (int i = 0; i < mq_engine_plan_count(e); i++) {
        mq_plan_info pi;
        mq_plan_get_info(mq_engine_plan(e, i), &pi);
        if (strcmp(pi.carrier_id, carrier) == 0 || strcmp(pi.plan_id, carrier) == 0)
            fprintf(stderr, "  %s version %s\n", pi.plan_id, pi.version);
    }
    if (matches > 1)
        fprintf(stderr, "give the plan id as --carrier\n");
    return NULL;
}

/* Whether `path` exists and is the file `st` describes (a link to it too). */
static bool same_file(const char *path, const struct stat *st)
{
    struct stat ps;
    return stat(path, &ps) == 0 && ps.st_dev == st->st_dev && ps.st_ino == st->st_ino;
}

/* The folder of `path` resolved, then its last name: one text for every
 * spelling of a path whose file may not exist yet. False when the folder
 * cannot be resolved. */
static bool resolved(const char *path, char out[PATH_MAX + NAME_MAX + 2])
{
    char d[PATH_MAX], b[PATH_MAX], dir[PATH_MAX];
    snprintf(d, sizeof d, "%s", path);
    snprintf(b, sizeof b, "%s", path);
    if (!realpath(dirname(d), dir))
        return false;
    snprintf(out, PATH_MAX + NAME_MAX + 2, "%s/%s", dir, basename(b));
    return true;
}

/* Whether two output paths name one file (existing, or to be written). */
static bool same_target(const char *a, const char *b)
{
    struct stat st;
    if (stat(a, &st) == 0 && same_file(b, &st))
        return true;
    char ra[PATH_MAX + NAME_MAX + 2], rb[PATH_MAX + NAME_MAX + 2];
    return strcmp(a, b) == 0 || (resolved(a, ra) && resolved(b, rb) && strcmp(ra, rb) == 0);
}

/* Refuses an output that is the book, or the other output: writing it
 * would replace the book, or the two would overwrite each other. */
static int check_output(const char *opt, const char *path, FILE *book, const char *other,
                        const char *other_opt, char *err, size_t errlen)
{
    struct stat st;
    if (fstat(fileno(book), &st) == 0 && S_ISREG(st.st_mode) && same_file(path, &st)) {
        snprintf(err, errlen,
                 "%s %s is the book itself: it would be overwritten (name another file)", opt,
                 path);
        return MQ_BATCH_BAD_INPUT;
    }
    if (other && same_target(path, other)) {
        snprintf(err, errlen, "%s and %s name the same file, %s", other_opt, opt, path);
        return MQ_BATCH_BAD_INPUT;
    }
    return MQ_BATCH_OK;
}

/* An output written to a temporary file beside it ("PATH.XXXXXX") and
 * renamed over PATH only when the run gives it, so that a failed run
 * leaves whatever PATH held. */
typedef struct out_file {
    const char *path; /* NULL: not asked for */
    char *tmp;        /* malloc'd; NULL once renamed or removed */
    FILE *f;
} out_file;

/* Creates o's temporary file for `path` (as open(2) would create PATH:
 * 0666 less the umask); false with "PATH: reason" in err. */
static bool out_open(out_file *o, const char *path, char *err, size_t errlen)
{
    o->path = path;
    size_t n = strlen(path) + 8;
    o->tmp = malloc(n);
    int fd = -1;
    if (o->tmp) {
        snprintf(o->tmp, n, "%s.XXXXXX", path);
        fd = mkstemp(o->tmp);
    }
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, o->tmp ? strerror(errno) : "out of memory");
        free(o->tmp);
        o->tmp = NULL;
        return false;
    }
    mode_t mask = umask(0);
    umask(mask);
    if (fchmod(fd, 0666 & ~mask) != 0 || !(o->f = fdopen(fd, "wb"))) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        if (!o->f)
            close(fd);
        return false; /* out_discard removes the temporary file */
    }
    return true;
}

/* Closes o's file and renames it over its path; false with "PATH: reason"
 * in err (the temporary file is then left for out_discard). */
static bool out_commit(out_file *o, char *err, size_t errlen)
{
    if (!o->tmp)
        return true;
    int rc = o->f ? fclose(o->f) : 0;
    o->f = NULL;
    if (rc != 0 || rename(o->tmp, o->path) != 0) {
        snprintf(err, errlen, "%s: %s", o->path, strerror(errno));
        return false;
    }
    free(o->tmp);
    o->tmp = NULL;
    return true;
}

/* Closes and removes o's temporary file, if still there; PATH is untouched. */
static void out_discard(out_file *o)
{
    if (o->f)
        fclose(o->f);
    o->f = NULL;
    if (o->tmp)
        unlink(o->tmp);
    free(o->tmp);
    o->tmp = NULL;
}

/* Opens --out-csv (with its header) and --png before the book is rated,
 * so a path that cannot be written fails at once: MQ_BATCH_FAIL with
 * "PATH: reason" in err, or MQ_BATCH_BAD_INPUT when a path names the book
 * (or both name one file). Each is a temporary file until out_commit. */
static int open_outputs(const cli_opts *o, FILE *book, mq_batch_impact *im, out_file *csv,
                        out_file *png, char *err, size_t errlen)
{
    int rc;
    if (o->out_csv && (rc = check_output("--out-csv", o->out_csv, book, NULL, NULL, err, errlen)))
        return rc;
    if (o->png && (rc = check_output("--png", o->png, book, o->out_csv, "--out-csv", err, errlen)))
        return rc;
    if (o->out_csv) {
        if (!out_open(csv, o->out_csv, err, errlen))
            return MQ_BATCH_FAIL;
        im->csv = csv->f;
        if (!mq_batch_impact_header(im, im->csv)) {
            snprintf(err, errlen, "%s: %s", o->out_csv, strerror(errno));
            return MQ_BATCH_FAIL;
        }
    }
    if (o->png && !out_open(png, o->png, err, errlen))
        return MQ_BATCH_FAIL;
    return MQ_BATCH_OK;
}

int cli_impact(const cli_opts *o)
{
    if (!o->carrier || !o->from || !o->to || !o->file) {
        fprintf(stderr,
                "multiquote impact: needs --carrier ID --from VERSION --to VERSION and a book\n");
        return CLI_USAGE;
    }
    const mq_intake *ik = intake_data("impact");
    mq_engine *e = ik ? cli_load_engine(o->plans) : NULL;
    if (!e)
        return CLI_FAIL;
    const char *plan_id = find_plan_id(e, o->carrier, o->from, o->to);
    if (!plan_id) {
        mq_engine_free(e);
        return CLI_USAGE;
    }
    mq_batch_impact *im = calloc(1, sizeof *im);
    out_file csv = {0}, png = {0}; /* --out-csv, --png: opened before the run */
    int64_t size = 0;
    FILE *in = im ? open_book("impact", o->file, &size) : NULL;
    int rc = MQ_BATCH_FAIL;
    char err[512] = "";
    mq_batch_stats st = {0};
    if (!im) {
        fprintf(stderr, "multiquote impact: out of memory\n");
        goto done;
    }
    if (!in)
        goto done;
    im->plan[0] = mq_engine_find_version(e, plan_id, o->from);
    im->plan[1] = mq_engine_find_version(e, plan_id, o->to);
    if ((rc = open_outputs(o, in, im, &csv, &png, err, sizeof err)) != MQ_BATCH_OK)
        goto done;
    mq_batch_job job = {.in = in,
                        .name = o->file,
                        .size = size,
                        .threads = default_threads(o),
                        .progress = isatty(STDERR_FILENO),
                        .label = "impact",
                        .intake = ik,
                        .row = mq_batch_impact_row,
                        .sink = mq_batch_impact_sink,
                        .ctx = im,
                        .cancel = &interrupted};
    rc =
        catch_interrupts("impact", true) ? mq_batch_run(&job, &st, err, sizeof err) : MQ_BATCH_FAIL;
    catch_interrupts("impact", false);
    if (im->write_failed)
        snprintf(err, sizeof err, "%s: %s", o->out_csv, strerror(errno));
    /* the rows rated (all of them, or up to an interruption) replace --out-csv */
    im->csv = NULL;
    if ((rc == MQ_BATCH_OK || rc == MQ_BATCH_INTERRUPTED) && !out_commit(&csv, err, sizeof err))
        rc = MQ_BATCH_FAIL;
    if (rc != MQ_BATCH_OK)
        goto done;
    mq_batch_impact_finish(im);
    mq_batch_impact_print(stdout, im, o->file);
    if (png.f && (!mq_batch_impact_png(im, png.f, o->png, err, sizeof err) ||
                  !out_commit(&png, err, sizeof err)))
        rc = MQ_BATCH_FAIL;
    if (rc == MQ_BATCH_OK && fflush(stdout) != 0) {
        snprintf(err, sizeof err, "cannot write the output: %s", strerror(errno));
        rc = MQ_BATCH_FAIL;
    }
done:
    if (im)
        im->csv = NULL; /* csv.f, closed by out_discard */
    out_discard(&csv);  /* what was not renamed: the paths keep what they held */
    out_discard(&png);
    if (in && in != stdin)
        fclose(in);
    if (im)
        mq_batch_impact_free(im);
    free(im);
    mq_engine_free(e);
    if (!in || !im)
        return CLI_FAIL;
    if (rc == MQ_BATCH_INTERRUPTED)
        return report_interrupted("impact", o->file, &st,
                                  o->out_csv ? "no summary or chart; --out-csv holds"
                                             : "no summary or chart, having rated");
    return finish_run("impact", o->file, rc, err, &st);
}

int cli_gen_book(const cli_opts *o)
{
    if (o->line && strcmp(o->line, "auto") != 0) {
        fprintf(stderr, "multiquote gen-book: only --line auto books can be generated\n");
        return CLI_USAGE;
    }
    if (o->n <= 0) {
        fprintf(stderr, "multiquote gen-book: needs --n N, the number of policies (1 or more)\n");
        return CLI_USAGE;
    }
    mq_batch_gen g = {.n = o->n, .seed = o->seed, .format = MQ_BATCH_NDJSON};
    if (o->format) {
        int f = mq_batch_format_find(o->format);
        if (f < 0) {
            fprintf(stderr, "multiquote gen-book: --format is ndjson or csv, not \"%s\"\n",
                    o->format);
            return CLI_USAGE;
        }
        g.format = (mq_batch_format)f;
    }
    int states[8];
    if (o->state) { /* OH or OH,PA,TX */
        char buf[64];
        snprintf(buf, sizeof buf, "%s", o->state);
        for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            int code = mq_symbol_find(MQ_DOM_STATE, tok);
            if (code < 0 || !mq_batch_gen_supports(code) || g.nstates == 8) {
                fprintf(stderr,
                        "multiquote gen-book: --state takes OH, PA, TX or a list of them, "
                        "not \"%s\"\n",
                        o->state);
                return CLI_USAGE;
            }
            states[g.nstates++] = code;
        }
        g.states = states;
    }
    if (!mq_batch_gen_book(stdout, &g) || fflush(stdout) != 0) {
        fprintf(stderr, "multiquote gen-book: cannot write the book: %s\n", strerror(errno));
        return CLI_FAIL;
    }
    return CLI_OK;
}
