/* jsontext.c -- JSON text written as jansson writes it, about ten times faster.
 *
 * jansson 2.14's json_dump_callback keeps a loop-check table keyed by each
 * container's address printed with snprintf, and calls back once per token;
 * on the quote path (the sealed request, the tips) that cost more than the
 * rating. This writer prints the same compact text: object keys in insertion
 * order, strings escaped as jansson escapes them (", \, control characters;
 * UTF-8 as it is; "/" not escaped), integers in decimal, reals with %.Ng plus
 * jansson's fix-ups. tests/unit/test_response.c compares the two on every
 * request, response and odd value it has. Only compact text: pretty text
 * (the CLI's --json) still goes through jansson. mq_jw_utf8_clean makes
 * outside text valid UTF-8 before it goes into JSON.
 */
#include "jsontext.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

bool mq_jw_reserve(mq_jw *w, size_t n)
{
    size_t cap = w->cap ? w->cap * 2 : 4096;
    while (cap < w->len + n + 1)
        cap *= 2;
    char *b = realloc(w->buf, cap);
    if (!b) {
        w->oom = true;
        return false;
    }
    w->buf = b;
    w->cap = cap;
    return true;
}

static const char *escape_of(unsigned char c, char esc[8])
{
    switch (c) {
    case '"':
        return "\\\"";
    case '\\':
        return "\\\\";
    case '\b':
        return "\\b";
    case '\f':
        return "\\f";
    case '\n':
        return "\\n";
    case '\r':
        return "\\r";
    case '\t':
        return "\\t";
    default:
        snprintf(esc, 8, "\\u%04X", c);
        return esc;
    }
}

#if defined(__SSE2__)
#include <emmintrin.h>

/* A bit for each of the 16 bytes at p that needs an escape: below 0x20
 * (compared as signed once the top bit is flipped), '"' or '\\'. */
static inline unsigned escapes_in_16(const char *p)
{
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i flip = _mm_set1_epi8((char)0x80);
    __m128i ctrl = _mm_cmplt_epi8(_mm_xor_si128(x, flip), _mm_set1_epi8((char)(0x20 ^ 0x80)));
    __m128i quote = _mm_cmpeq_epi8(x, _mm_set1_epi8('"'));
    __m128i backslash = _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'));
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(ctrl, _mm_or_si128(quote, backslash)));
}

/* Where the run of bytes from i that need no escape ends (n: at the end),
 * 16 bytes at a time and never reading outside s[0..n): the last bytes are
 * checked as the last 16 of the string (overlapping bytes already seen, whose
 * bits are dropped), or, in a string shorter than 16, from a copy padded
 * with a byte that needs no escape. Most strings of a response are short
 * names: one check each. */
static size_t plain_run_end(const char *s, size_t i, size_t n)
{
    for (; i + 16 <= n; i += 16) {
        unsigned hit = escapes_in_16(s + i);
        if (hit)
            return i + (size_t)__builtin_ctz(hit);
    }
    if (i == n)
        return n;
    unsigned hit;
    if (n >= 16) {
        hit = escapes_in_16(s + n - 16) >> (16 - (n - i));
    } else {
        char padded[16];
        memset(padded, 'a', sizeof padded);
        memcpy(padded, s + i, n - i);
        hit = escapes_in_16(padded);
    }
    return hit ? i + (size_t)__builtin_ctz(hit) : n;
}

#else

static inline bool needs_escape(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\';
}

/* Where the run of bytes from i that need no escape ends (n: at the end),
 * looking at eight bytes at a time: a byte below 0x20, or equal to '"' or
 * '\\' (a zero byte once xor-ed with it), sets its high bit in `hit` (the
 * bit tricks of "Bit Twiddling Hacks": haszero, hasless). */
static size_t plain_run_end(const char *s, size_t i, size_t n)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    for (; i + 8 <= n; i += 8) {
        uint64_t x;
        memcpy(&x, s + i, 8);
        uint64_t quote = x ^ (ones * '"'), backslash = x ^ (ones * '\\');
        uint64_t hit = ((x - ones * 0x20) & ~x) | ((quote - ones) & ~quote) |
                       ((backslash - ones) & ~backslash);
        if (hit & highs)
            break;
    }
    while (i < n && !needs_escape((unsigned char)s[i]))
        i++;
    return i;
}

#endif

/* Room is made for the whole string at once and runs without escapes are
 * copied straight in; an escape goes through mq_jw_mem and makes room again. */
void mq_jw_strn(mq_jw *w, const char *s, size_t n)
{
    size_t i = 0;
    if (w->oom || (w->len + n + 3 > w->cap && !mq_jw_reserve(w, n + 2)))
        return;
    w->buf[w->len++] = '"';
    for (;;) {
        size_t run = i;
        i = plain_run_end(s, i, n);
        memcpy(w->buf + w->len, s + run, i - run);
        w->len += i - run;
        if (i == n)
            break;
        char esc[8];
        mq_jw_raw(w, escape_of((unsigned char)s[i++], esc));
        if (w->oom || (w->len + (n - i) + 2 > w->cap && !mq_jw_reserve(w, n - i + 1)))
            return;
    }
    w->buf[w->len++] = '"';
}

void mq_jw_str(mq_jw *w, const char *s)
{
    if (s)
        mq_jw_strn(w, s, strlen(s));
    else
        mq_jw_mem(w, "null", 4);
}

void mq_jw_key(mq_jw *w, const char *key, bool first)
{
    if (!first)
        mq_jw_mem(w, ",", 1);
    mq_jw_str(w, key);
    mq_jw_mem(w, ":", 1);
}

/* `"name"` preceded by `pre` and followed by `post` (each "" or a byte). */
static void write_name(mq_jw *w, const char *pre, const char *name, const char *post)
{
    size_t n = strlen(name), at;
    if (w->oom || (w->len + n + 5 > w->cap && !mq_jw_reserve(w, n + 4)))
        return;
    at = w->len;
    if (*pre)
        w->buf[at++] = *pre;
    w->buf[at++] = '"';
    memcpy(w->buf + at, name, n);
    at += n;
    w->buf[at++] = '"';
    if (*post)
        w->buf[at++] = *post;
    w->len = at;
}

void mq_jw_name(mq_jw *w, const char *name)
{
    write_name(w, "", name, "");
}

void mq_jw_name_key(mq_jw *w, const char *name, bool first)
{
    write_name(w, first ? "" : ",", name, ":");
}

/* Two digits at a time from a table of "00".."99": half the divisions. */
static const char digit_pairs[201] = "00010203040506070809101112131415161718192021222324"
                                     "25262728293031323334353637383940414243444546474849"
                                     "50515253545556575859606162636465666768697071727374"
                                     "75767778798081828384858687888990919293949596979899";

char *mq_jw_digits(char *end, unsigned long long v)
{
    while (v >= 100) {
        unsigned pair = (unsigned)(v % 100) * 2;
        v /= 100;
        *--end = digit_pairs[pair + 1];
        *--end = digit_pairs[pair];
    }
    if (v >= 10) {
        *--end = digit_pairs[v * 2 + 1];
        *--end = digit_pairs[v * 2];
    } else
        *--end = (char)('0' + v);
    return end;
}

/* Appends n bytes of s at out[*len], keeping room for the NUL in cap. */
static void path_put(char *out, size_t cap, size_t *len, const char *s, size_t n)
{
    if (n > cap - 1 - *len)
        n = cap - 1 - *len;
    memcpy(out + *len, s, n);
    *len += n;
}

char *mq_json_path(char *out, size_t cap, const char *prefix, unsigned long long index,
                   const char *suffix)
{
    if (cap == 0)
        return out;
    char digits[24], *end = digits + sizeof digits, *d = mq_jw_digits(end, index);
    size_t len = 0;
    path_put(out, cap, &len, prefix, strlen(prefix));
    path_put(out, cap, &len, "[", 1);
    path_put(out, cap, &len, d, (size_t)(end - d));
    path_put(out, cap, &len, "]", 1);
    path_put(out, cap, &len, suffix, strlen(suffix));
    out[len] = '\0';
    return out;
}

void mq_jw_int(mq_jw *w, long long v)
{
    char b[24], *end = b + sizeof b;
    char *p = mq_jw_digits(end, v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v);
    if (v < 0)
        *--p = '-';
    mq_jw_mem(w, p, (size_t)(end - p));
}

void mq_jw_cents(mq_jw *w, int64_t cents)
{
    unsigned long long a = cents < 0 ? 0ull - (unsigned long long)cents : (unsigned long long)cents;
    unsigned frac = (unsigned)(a % 100);
    char b[32], *end = b + sizeof b, *p = end;
    if (frac == 0) {
        *--p = '0';
    } else if (frac % 10 == 0) {
        *--p = (char)('0' + frac / 10);
    } else {
        *--p = (char)('0' + frac % 10);
        *--p = (char)('0' + frac / 10);
    }
    *--p = '.';
    p = mq_jw_digits(p, a / 100);
    if (cents < 0)
        *--p = '-';
    mq_jw_mem(w, p, (size_t)(end - p));
}

/* Whether v is exactly cents / 100.0 for whole cents of at most 15 digits;
 * then %.15g prints those cents and nothing else (the double is within
 * 1.2e-16 of them, relatively; the 15th digit's half unit is at least 5e-16). */
static bool is_cents(double v, int64_t *cents)
{
    if (!(fabs(v) < 1e13) || (v == 0 && signbit(v)))
        return false;
    *cents = llround(v * 100);
    return (double)*cents / 100.0 == v;
}

/* Starts at 15 digits: a number whose shortest form has fewer is written
 * by %.15g in that form already (%g drops trailing zeros), and every double
 * reads back from 17. */
int mq_json_shortest(char *buf, size_t cap, double v)
{
    int n = 0;
    for (int digits = 15; digits <= 17; digits++)
        if ((n = snprintf(buf, cap, "%.*g", digits, v)) < 0 || strtod(buf, NULL) == v)
            break;
    return n;
}

/* jansson's jsonp_dtostr: "%.*g", then ".0" when there is neither a '.'
 * nor an 'e', then the exponent without '+' and leading zeros. Money (at
 * precision 15, the front doors') skips printf, which costs more than all
 * the rest of a response. */
bool mq_jw_real(mq_jw *w, double v, int precision)
{
    int64_t cents;
    if (!isfinite(v))
        return false;
    if (precision == 15 && is_cents(v, &cents)) {
        mq_jw_cents(w, cents);
        return true;
    }
    char b[64];
    int n = precision == MQ_JW_SHORTEST
                ? mq_json_shortest(b, sizeof b, v)
                : snprintf(b, sizeof b, "%.*g", precision ? precision : 17, v);
    if (n < 0 || (size_t)n >= sizeof b - 3)
        return false;
    size_t len = (size_t)n;
    char *e = strchr(b, 'e');
    if (!e && !strchr(b, '.')) {
        memcpy(b + len, ".0", 3);
        len += 2;
    }
    if (e) {
        char *start = e + 1, *end = e + 2;
        if (*start == '-')
            start++;
        while (*end == '0')
            end++;
        if (end != start) {
            memmove(start, end, len - (size_t)(end - b) + 1);
            len -= (size_t)(end - start);
        }
    }
    mq_jw_mem(w, b, len);
    return true;
}

static void write_object(mq_jw *w, const json_t *obj, int precision)
{
    const char *key;
    size_t key_len;
    json_t *v;
    bool first = true;
    mq_jw_mem(w, "{", 1);
    json_object_keylen_foreach((json_t *)obj, key, key_len, v)
    {
        if (!first)
            mq_jw_mem(w, ",", 1);
        mq_jw_strn(w, key, key_len);
        mq_jw_mem(w, ":", 1);
        mq_jw_value(w, v, precision);
        first = false;
    }
    mq_jw_mem(w, "}", 1);
}

void mq_jw_value(mq_jw *w, const json_t *v, int precision)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        write_object(w, v, precision);
        break;
    case JSON_ARRAY:
        mq_jw_mem(w, "[", 1);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                mq_jw_mem(w, ",", 1);
            mq_jw_value(w, json_array_get(v, i), precision);
        }
        mq_jw_mem(w, "]", 1);
        break;
    case JSON_STRING:
        mq_jw_strn(w, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        mq_jw_int(w, (long long)json_integer_value(v));
        break;
    case JSON_REAL:
        if (!mq_jw_real(w, json_real_value(v), precision))
            w->oom = true;
        break;
    case JSON_TRUE:
        mq_jw_mem(w, "true", 4);
        break;
    case JSON_FALSE:
        mq_jw_mem(w, "false", 5);
        break;
    case JSON_NULL:
        mq_jw_mem(w, "null", 4);
        break;
    }
}

char *mq_jw_finish(mq_jw *w)
{
    if (!w->oom && w->buf) {
        w->buf[w->len] = '\0'; /* every write left room for it */
        return w->buf;
    }
    free(w->buf);
    w->buf = NULL;
    return NULL;
}

char *mq_jw_compact(const json_t *doc, int precision)
{
    mq_jw w = {0};
    if (!doc)
        return NULL;
    mq_jw_value(&w, doc, precision);
    return mq_jw_finish(&w);
}

/* ---- Valid UTF-8 ---------------------------------------------------------- */

/* The length of the valid UTF-8 sequence at s (a byte from 0x80), as
 * JSON readers take it: no overlong form, no surrogate, nothing above
 * U+10FFFF; 0 when invalid (a NUL ends the check: it is no continuation). */
static size_t utf8_sequence(const unsigned char *s)
{
    unsigned char c = s[0];
    size_t n = c >= 0xC2 && c <= 0xDF   ? 2
               : c >= 0xE0 && c <= 0xEF ? 3
               : c >= 0xF0 && c <= 0xF4 ? 4
                                        : 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F) || (c == 0xF0 && s[1] < 0x90) ||
        (c == 0xF4 && s[1] > 0x8F))
        return 0; /* overlong, surrogate, beyond U+10FFFF */
    return n;
}

char *mq_jw_utf8_clean(const char *s)
{
    size_t len = strlen(s);
    char *out = malloc(len * 3 + 1), *o = out;
    if (!out)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = *p < 0x80 ? 1 : utf8_sequence(p);
        if (n) {
            memcpy(o, p, n);
            o += n;
            p += n;
        } else {
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
            p++;
        }
    }
    *o = '\0';
    return out;
}
