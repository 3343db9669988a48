/* json_text.h -- the JSON text writer the model shares (private to src/model, prefix jw_).
 *
 * A growing malloc'd buffer whose failure sticks (`oom`): writes after a
 * failed one do nothing, and jw_finish returns NULL. Strings are escaped
 * exactly as jansson escapes them, numbers printed as jansson prints them,
 * so text written here parses back to the same tree and compares equal,
 * byte for byte, with what json_dump_callback would write (JSON_COMPACT).
 * response.c writes the quote response with it directly; jw_value writes
 * any jansson tree (mq_json_compact in model.h).
 */
#ifndef MQ_JSON_TEXT_H
#define MQ_JSON_TEXT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct jw {
    char *buf; /* NUL-terminated text so far (malloc'd) */
    size_t len, cap;
    bool oom;
} jw;

/* Grows the buffer for n more bytes (and the NUL); false once it failed. */
bool jw_reserve(jw *w, size_t n);

static inline void jw_mem(jw *w, const char *s, size_t n)
{
    if (w->oom || (w->len + n + 1 > w->cap && !jw_reserve(w, n)))
        return;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

static inline void jw_raw(jw *w, const char *s)
{
    jw_mem(w, s, strlen(s));
}

/* A JSON string of the n bytes at s (NUL bytes included, as \u0000). */
void jw_strn(jw *w, const char *s, size_t n);
/* A JSON string of s, or null when s is NULL. */
void jw_str(jw *w, const char *s);
/* "key": after a comma unless first. */
void jw_key(jw *w, const char *key, bool first);
void jw_int(jw *w, long long v);
/* Money: what jansson prints for cents / 100.0 at precision 15 (714.0,
 * 1018.6, 1018.67), for amounts below 10^13 dollars. */
void jw_cents(jw *w, int64_t cents);
/* A real as jansson prints it with `precision` significant digits (0: 17):
 * %.Ng, ".0" added when it would read as an integer, exponent without '+'
 * or leading zeros. False for a value jansson cannot print (not finite). */
bool jw_real(jw *w, double v, int precision);
/* Any jansson value, compact, keys in insertion order. */
void jw_value(jw *w, const json_t *v, int precision);

/* Decimal digits of v (no sign) written backwards ending at `end`;
 * returns where they start (printf costs more than all the rest here). */
char *jw_digits(char *end, unsigned long long v);

/* The text (caller frees), or NULL when a write failed. */
char *jw_finish(jw *w);

#endif
