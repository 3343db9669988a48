/* jsontext.h -- JSON text written as jansson writes it (prefix mq_jw_) and
 * read as jansson reads it (prefix mq_jr_), faster; and jansson's memory
 * recycled per thread (prefix mq_ja_).
 *
 * A growing malloc'd buffer whose failure sticks (`oom`): writes after a
 * failed one do nothing, and mq_jw_finish returns NULL. Strings are escaped
 * exactly as jansson escapes them, numbers printed as jansson prints them,
 * so text written here is byte for byte what json_dump_callback writes
 * with JSON_COMPACT. The model writes the quote response with it directly
 * (src/model/response.c); the privacy module writes sealed requests with it;
 * mq_jw_compact prints any jansson tree.
 */
#ifndef MQ_JSONTEXT_H
#define MQ_JSONTEXT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct mq_jw {
    char *buf; /* the text so far (malloc'd), NUL-terminated by mq_jw_finish; one byte
                  past len is always there for it */
    size_t len, cap;
    bool oom;
} mq_jw;

/* Grows the buffer for n more bytes (and the NUL); false once it failed. */
bool mq_jw_reserve(mq_jw *w, size_t n);

static inline void mq_jw_mem(mq_jw *w, const char *s, size_t n)
{
    if (w->oom || (w->len + n + 1 > w->cap && !mq_jw_reserve(w, n)))
        return;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static inline void mq_jw_raw(mq_jw *w, const char *s)
{
    mq_jw_mem(w, s, strlen(s));
}

/* A JSON string of the n bytes at s (NUL bytes included, as \u0000). */
void mq_jw_strn(mq_jw *w, const char *s, size_t n);
/* A JSON string of s, or null when s is NULL. */
void mq_jw_str(mq_jw *w, const char *s);
/* "key": after a comma unless first. */
void mq_jw_key(mq_jw *w, const char *key, bool first);
/* A string, or a key (as mq_jw_key), that is one of the program's own
 * names (a coverage code, a status, a limit's name: letters, digits and
 * '_', never an escape): copied straight in, without the scan. */
void mq_jw_name(mq_jw *w, const char *name);
void mq_jw_name_key(mq_jw *w, const char *name, bool first);
void mq_jw_int(mq_jw *w, long long v);
/* Money: what jansson prints for cents / 100.0 at precision 15 (714.0,
 * 1018.6, 1018.67), for amounts below 10^13 dollars. */
void mq_jw_cents(mq_jw *w, int64_t cents);
/* A real as jansson prints it with `precision` significant digits (0: 17;
 * MQ_JW_SHORTEST: the fewest that read back as the same double, so a number
 * parsed from text is written as that text said it, 3.3 and not
 * 3.2999999999999998): %.Ng, ".0" added when it would read as an integer,
 * exponent without '+' or leading zeros. False for a value jansson cannot
 * print (not finite). */
enum { MQ_JW_SHORTEST = -1 };
bool mq_jw_real(mq_jw *w, double v, int precision);
/* v as %.Ng in the fewest digits N that read back as v (3.3, never
 * 3.2999999999999998; 5000.000000000001, never 5000), into buf; snprintf's
 * count. */
int mq_json_shortest(char *buf, size_t cap, double v);
/* Any jansson value, compact, keys in insertion order. */
void mq_jw_value(mq_jw *w, const json_t *v, int precision);

/* Decimal digits of v (no sign) written backwards ending at `end`;
 * returns where they start (printf costs more than all the rest here). */
char *mq_jw_digits(char *end, unsigned long long v);

/* Writes "<prefix>[<index>]<suffix>" (a JSON path such as vehicles[1].vin)
 * into out, cut to cap - 1 bytes and NUL-terminated as snprintf would;
 * returns out. Cheaper than snprintf, for paths every request builds. */
char *mq_json_path(char *out, size_t cap, const char *prefix, unsigned long long index,
                   const char *suffix);

/* The text (caller frees), or NULL when a write failed. */
char *mq_jw_finish(mq_jw *w);

/* The compact JSON text of any tree, byte for byte what jansson's
 * json_dump_callback writes with JSON_COMPACT | JSON_REAL_PRECISION(precision)
 * (0: jansson's default, 17; MQ_JW_SHORTEST: each real in the fewest
 * digits that read back as it), about ten times faster. NULL when memory runs
 * out or a real is not finite. Caller frees. */
char *mq_jw_compact(const json_t *doc, int precision);

/* A copy of s (caller frees; NULL when out of memory) in valid UTF-8: each
 * byte that does not start a valid sequence becomes U+FFFD. jansson refuses
 * a string that is not UTF-8 (json_string gives NULL, json_pack fails), so
 * text that may hold bytes from outside (a request's path, a folder's
 * name) goes through this before it goes into JSON. */
char *mq_jw_utf8_clean(const char *s);

/* ---- Reading (src/json/jsonread.c) -------------------------------------- */

/* Parses buf[0..len) exactly as json_loadb(buf, len, flags, err) would and
 * returns the same tree (types, values, key order, string bytes) and the
 * same *err. A fast path takes well-formed text; anything it does not
 * handle itself (any error, \u0000, duplicate keys, deep nesting, numbers
 * out of range, flags other than 0 and JSON_REJECT_DUPLICATES) is handed
 * to json_loadb, so results and error texts are always jansson's. */
json_t *mq_jr_load(const char *buf, size_t len, size_t flags, json_error_t *err);

/* ---- jansson's memory (src/json/jsonalloc.c) ---------------------------- */

/* Makes jansson keep its small freed blocks per thread for reuse (for
 * every thread, from then on); call once, first thing in main. False when
 * recycling is off (AddressSanitizer builds): jansson then keeps malloc. */
bool mq_ja_install(void);
/* How many freed blocks the calling thread keeps for reuse (tests). */
int mq_ja_kept(void);

#endif
