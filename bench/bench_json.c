/* bench_json.c -- how fast a request's JSON text is read: json_loadb against mq_jr_load.
 *
 * `build/bench/bench_json [FILE] [--iterations N] [--rounds R]` reads FILE
 * (default examples/oh-family-two-cars.json), checks that both parsers give
 * the same compact text for it (else it stops), then times N parses per
 * round with each, R rounds after a warm-up round, and prints the median
 * round in microseconds per parse. Each parse is one non-inlined bench_*
 * function that parses and returns the tree; the tree is freed outside it,
 * so callgrind's inclusive cost of bench_json_loadb or bench_mq_jr_load
 * divided by N is the instruction count of one parse (bench/README.md).
 * Under valgrind there is one round and no warm-up.
 */
#include "jsontext.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif

typedef json_t *(*parse_fn)(const char *text, size_t len);

__attribute__((noinline)) static json_t *bench_json_loadb(const char *text, size_t len)
{
    json_error_t err;
    return json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
}

__attribute__((noinline)) static json_t *bench_mq_jr_load(const char *text, size_t len)
{
    json_error_t err;
    return mq_jr_load(text, len, JSON_REJECT_DUPLICATES, &err);
}

static bool under_valgrind(void)
{
#ifdef RUNNING_ON_VALGRIND
    return RUNNING_ON_VALGRIND;
#else
    return false;
#endif
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *text = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        rewind(f);
        text = n >= 0 ? malloc((size_t)n + 1) : NULL;
        if (text && fread(text, 1, (size_t)n, f) != (size_t)n) {
            free(text);
            text = NULL;
        }
        *len = text ? (size_t)n : 0;
    }
    fclose(f);
    return text;
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Microseconds per parse over n parses (each tree freed after it). */
static double time_round(parse_fn parse, const char *text, size_t len, long n)
{
    double start = now_us();
    for (long i = 0; i < n; i++) {
        json_t *doc = parse(text, len);
        if (!doc) {
            fprintf(stderr, "bench_json: the text does not parse\n");
            exit(1);
        }
        json_decref(doc);
    }
    return (now_us() - start) / (double)n;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_round(parse_fn parse, const char *text, size_t len, long n, int rounds)
{
    double times[64];
    if (rounds > 64)
        rounds = 64;
    for (int r = 0; r < rounds; r++)
        times[r] = time_round(parse, text, len, n);
    qsort(times, (size_t)rounds, sizeof *times, by_value);
    return times[rounds / 2];
}

/* Both parsers print the same compact text for the file. */
static bool same_result(const char *text, size_t len)
{
    json_t *a = bench_json_loadb(text, len), *b = bench_mq_jr_load(text, len);
    char *da = a ? json_dumps(a, JSON_COMPACT) : NULL, *db = b ? json_dumps(b, JSON_COMPACT) : NULL;
    bool same = da && db && strcmp(da, db) == 0;
    free(da);
    free(db);
    json_decref(a);
    json_decref(b);
    return same;
}

int main(int argc, char **argv)
{
    const char *path = "examples/oh-family-two-cars.json";
    long n = 20000;
    int rounds = 7;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--iterations") == 0 && i + 1 < argc)
            n = atol(argv[++i]);
        else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else
            path = argv[i];
    }
    if (n < 1 || rounds < 1) {
        fprintf(stderr, "usage: bench_json [FILE] [--iterations N] [--rounds R]\n");
        return 2;
    }
    size_t len;
    char *text = read_file(path, &len);
    if (!text) {
        fprintf(stderr, "bench_json: cannot read %s\n", path);
        return 1;
    }
    if (!same_result(text, len)) {
        fprintf(stderr, "bench_json: json_loadb and mq_jr_load disagree on %s\n", path);
        return 1;
    }
    bool valgrind = under_valgrind();
    if (valgrind)
        rounds = 1;
    else { /* warm-up */
        time_round(bench_json_loadb, text, len, n / 5 + 1);
        time_round(bench_mq_jr_load, text, len, n / 5 + 1);
    }
    double loadb = median_round(bench_json_loadb, text, len, n, rounds);
    double fast = median_round(bench_mq_jr_load, text, len, n, rounds);
    printf("%s (%zu bytes), %ld parses per round, median of %d rounds:\n", path, len, n, rounds);
    printf("  json_loadb  %8.2f us/parse\n", loadb);
    printf("  mq_jr_load  %8.2f us/parse  (%.1fx faster)\n", fast, loadb / fast);
    free(text);
    return 0;
}
