/* bench_fsync.c -- how long this machine's disk takes to flush a group
 * commit.
 *
 * A saved quote is answered only once its group commit is on disk: SQLite
 * (WAL, synchronous=FULL) writes the batch's frames to the WAL and calls
 * fdatasync once per commit, while the quotes of that commit wait. This
 * program does the same writes without SQLite: BYTES at a time into a file
 * in DIR, each followed by fdatasync, ROUNDS times, in two ways:
 *
 *   reused    over a file already written, from its start again after
 *             WAL_BYTES, as SQLite's WAL is reused once it has grown
 *   appended  at the end of a file that grows, as a new WAL does
 *
 * and prints the flush times: mean, median, p90, p99 and the slowest. Set
 * them beside the server's own mq_store_commit_seconds (GET /metrics, and
 * bench/bench_http.sh prints it) to tell the disk's share of a commit from
 * SQLite's.
 *
 * Usage: bench_fsync [--dir DIR] [--bytes N] [--rounds N]
 * Defaults: the current directory, 204800 bytes (40 quotes of about 5 KB,
 * a commit of bench/bench_http.sh), 300 rounds.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { WAL_BYTES = 16 << 20 }; /* store_sqlite.c: WAL_RESTART_FRAMES of 4 KiB */

typedef struct options {
    const char *dir;
    long bytes, rounds;
} options;

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Writes o->bytes at a time and flushes, o->rounds times; the flush times
 * in ms go to ms[]. reuse: over the first WAL_BYTES of a file written once
 * beforehand. False with a message on stderr when the disk fails. */
static bool measure(const options *o, bool reuse, const char *buf, double *ms)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/bench_fsync.XXXXXX", o->dir);
    int fd = mkstemp(path);
    if (fd < 0) {
        fprintf(stderr, "bench_fsync: %s: %s\n", path, strerror(errno));
        return false;
    }
    unlink(path);
    bool ok = true;
    long long off = 0;
    if (reuse) {
        for (; ok && off < WAL_BYTES; off += o->bytes)
            ok = pwrite(fd, buf, (size_t)o->bytes, off) == o->bytes;
        ok = ok && fsync(fd) == 0;
        off = 0;
    }
    for (long i = 0; ok && i < o->rounds; i++) {
        if (reuse && off + o->bytes > WAL_BYTES)
            off = 0;
        ok = pwrite(fd, buf, (size_t)o->bytes, off) == o->bytes;
        double began = now_ms();
        ok = ok && fdatasync(fd) == 0;
        ms[i] = now_ms() - began;
        off += o->bytes;
    }
    if (!ok)
        fprintf(stderr, "bench_fsync: writing %s: %s\n", o->dir, strerror(errno));
    close(fd);
    return ok;
}

static void report(const options *o, const char *how, double *ms)
{
    double sum = 0;
    for (long i = 0; i < o->rounds; i++)
        sum += ms[i];
    qsort(ms, (size_t)o->rounds, sizeof *ms, by_value);
    printf("%-8s flush of %ld bytes: mean %.2f ms, p50 %.2f, p90 %.2f, p99 %.2f, slowest %.2f\n",
           how, o->bytes, sum / (double)o->rounds, ms[o->rounds / 2], ms[o->rounds * 9 / 10],
           ms[o->rounds * 99 / 100], ms[o->rounds - 1]);
}

static bool parse(int argc, char **argv, options *o)
{
    *o = (options){.dir = ".", .bytes = 204800, .rounds = 300};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long *n = strcmp(a, "--bytes") == 0    ? &o->bytes
                  : strcmp(a, "--rounds") == 0 ? &o->rounds
                                               : NULL;
        char *end = NULL;
        if (strcmp(a, "--dir") == 0 && v) {
            o->dir = v;
        } else if (n && v && (*n = strtol(v, &end, 10)) > 0 && *end == '\0') {
        } else {
            fprintf(stderr, "usage: bench_fsync [--dir DIR] [--bytes N] [--rounds N]\n");
            return false;
        }
        i++;
    }
    if (o->bytes > WAL_BYTES) {
        fprintf(stderr, "bench_fsync: --bytes is at most %d\n", WAL_BYTES);
        return false;
    }
    return true;
}

int main(int argc, char **argv)
{
    options o;
    if (!parse(argc, argv, &o))
        return 2;
    char *buf = malloc((size_t)o.bytes);
    double *ms = malloc((size_t)o.rounds * sizeof *ms);
    int rc = 1;
    if (!buf || !ms)
        goto done;
    for (long i = 0; i < o.bytes; i++)
        buf[i] = (char)(i * 131 + 7); /* not zeros: nothing for a device to elide */
    if (!measure(&o, true, buf, ms))
        goto done;
    report(&o, "reused", ms);
    if (!measure(&o, false, buf, ms))
        goto done;
    report(&o, "appended", ms);
    rc = 0;
done:
    free(buf);
    free(ms);
    return rc;
}
