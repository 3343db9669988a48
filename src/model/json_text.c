/* json_text.c -- JSON text written as jansson writes it, about ten times faster.
 *
 * jansson 2.14's json_dump_callback keeps a loop-check table keyed by each
 * container's address printed with snprintf, and calls back once per token;
 * on the quote path (the sealed request, the tips) that cost more than the
 * rating. This writer prints the same compact text: object keys in insertion
 * order, strings escaped as jansson escapes them (", \, control characters;
 * UTF-8 as it is; "/" not escaped), integers in decimal, reals with %.Ng plus
 * jansson's fix-ups. tests/unit/test_response.c compares the two on every
 * request, response and odd value it has. Only compact text: pretty text
 * (the CLI's --json) still goes through jansson.
 */
#include "json_text.h"
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

bool jw_reserve(jw *w, size_t n)
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

void jw_strn(jw *w, const char *s, size_t n)
{
    jw_mem(w, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        char esc[8];
        jw_mem(w, s + run, i - run);
        jw_raw(w, escape_of(c, esc));
        run = i + 1;
    }
    jw_mem(w, s + run, n - run);
    jw_mem(w, "\"", 1);
}

void jw_str(jw *w, const char *s)
{
    if (s)
        jw_strn(w, s, strlen(s));
    else
        jw_mem(w, "null", 4);
}

void jw_key(jw *w, const char *key, bool first)
{
    if (!first)
        jw_mem(w, ",", 1);
    jw_str(w, key);
    jw_mem(w, ":", 1);
}

char *jw_digits(char *end, unsigned long long v)
{
    do
        *--end = (char)('0' + v % 10);
    while (v /= 10);
    return end;
}

void jw_int(jw *w, long long v)
{
    char b[24], *end = b + sizeof b;
    char *p = jw_digits(end, v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v);
    if (v < 0)
        *--p = '-';
    jw_mem(w, p, (size_t)(end - p));
}

/* jansson's jsonp_dtostr: "%.*g", then ".0" when there is neither a '.'
 * nor an 'e', then the exponent without '+' and leading zeros. */
bool jw_real(jw *w, double v, int precision)
{
    if (!isfinite(v))
        return false;
    char b[64];
    int n = snprintf(b, sizeof b, "%.*g", precision ? precision : 17, v);
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
    jw_mem(w, b, len);
    return true;
}

static void write_object(jw *w, const json_t *obj, int precision)
{
    const char *key;
    size_t key_len;
    json_t *v;
    bool first = true;
    jw_mem(w, "{", 1);
    json_object_keylen_foreach((json_t *)obj, key, key_len, v)
    {
        if (!first)
            jw_mem(w, ",", 1);
        jw_strn(w, key, key_len);
        jw_mem(w, ":", 1);
        jw_value(w, v, precision);
        first = false;
    }
    jw_mem(w, "}", 1);
}

void jw_value(jw *w, const json_t *v, int precision)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        write_object(w, v, precision);
        break;
    case JSON_ARRAY:
        jw_mem(w, "[", 1);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                jw_mem(w, ",", 1);
            jw_value(w, json_array_get(v, i), precision);
        }
        jw_mem(w, "]", 1);
        break;
    case JSON_STRING:
        jw_strn(w, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        jw_int(w, (long long)json_integer_value(v));
        break;
    case JSON_REAL:
        if (!jw_real(w, json_real_value(v), precision))
            w->oom = true;
        break;
    case JSON_TRUE:
        jw_mem(w, "true", 4);
        break;
    case JSON_FALSE:
        jw_mem(w, "false", 5);
        break;
    case JSON_NULL:
        jw_mem(w, "null", 4);
        break;
    }
}

char *jw_finish(jw *w)
{
    if (!w->oom && w->buf)
        return w->buf;
    free(w->buf);
    w->buf = NULL;
    return NULL;
}

char *mq_json_compact(const json_t *doc, int precision)
{
    jw w = {0};
    if (!doc)
        return NULL;
    jw_value(&w, doc, precision);
    return jw_finish(&w);
}
