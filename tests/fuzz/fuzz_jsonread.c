/* fuzz_jsonread.c -- libFuzzer target: mq_jr_load against json_loadb, differential.
 *
 * The input is any text. For flags 0 and JSON_REJECT_DUPLICATES it is read
 * by mq_jr_load (src/json/jsonread.c) and by jansson's json_loadb; the
 * target aborts when they differ: one parses and the other does not, the
 * compact texts of the two trees differ, or the error fields (text, line,
 * column, position, source) differ. It also aborts when the fast path alone
 * (mq_jr_fast) returns a tree for text json_loadb rejects, or a tree other
 * than json_loadb's.
 */
#include "jsonread_internal.h"
#include "jsontext.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void differ(const char *what, size_t flags)
{
    fprintf(stderr, "fuzz_jsonread: mq_jr_load and json_loadb differ (flags %zu): %s\n", flags,
            what);
    abort();
}

/* The compact texts of a and b are equal (NULL when memory ran out: not a
 * difference). */
static bool same_text(const json_t *a, const json_t *b)
{
    char *da = json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY);
    char *db = json_dumps(b, JSON_COMPACT | JSON_ENCODE_ANY);
    bool same = !da || !db || strcmp(da, db) == 0;
    free(da);
    free(db);
    return same;
}

static bool same_error(const json_error_t *a, const json_error_t *b)
{
    return strcmp(a->text, b->text) == 0 && a->line == b->line && a->column == b->column &&
           a->position == b->position && strcmp(a->source, b->source) == 0;
}

static void compare(const char *text, size_t len, size_t flags)
{
    json_error_t ea, eb;
    json_t *a = mq_jr_load(text, len, flags, &ea);
    json_t *b = json_loadb(text, len, flags, &eb);
    if (!a != !b)
        differ(a ? "only mq_jr_load parsed it" : "only json_loadb parsed it", flags);
    if (!same_error(&ea, &eb))
        differ("the error fields", flags);
    if (a && !same_text(a, b))
        differ("the trees", flags);
    json_t *fast = NULL;
    if (mq_jr_fast(text, len, flags, &fast) && (!b || !same_text(fast, b)))
        differ("the fast path's tree", flags);
    json_decref(fast);
    json_decref(a);
    json_decref(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    compare((const char *)data, size, 0);
    compare((const char *)data, size, JSON_REJECT_DUPLICATES);
    return 0;
}
