/* jsonread.c -- JSON text read into jansson trees as json_loadb reads it, faster (mq_jr_).
 *
 * jansson 2.14's lexer pulls the text one byte at a time through a callback,
 * copies every token into a buffer and every string twice; on a 1.3 KB quote
 * request that costs more than the tree itself. This reader walks the buffer
 * directly (recursive descent; strings scanned eight bytes at a time; strings
 * and keys without escapes handed to jansson straight from the input) and
 * builds the tree with jansson's own constructors, in the same order.
 *
 * The one decision: it only answers for text it is sure of. At any error, or
 * wherever jansson's answer needs care (\u0000, a duplicate key, nesting
 * deeper than JR_MAX_DEPTH, an integer out of range, a real that overflows,
 * a number longer than JR_NUMBER_MAX, flags other than
 * JSON_REJECT_DUPLICATES, out of memory), it frees what it built and
 * mq_jr_load hands the text to json_loadb: errors are always jansson's own.
 * tests/unit/test_jsonread.c and tests/fuzz/fuzz_jsonread.c compare the two.
 */
#include "jsonread_internal.h"
#include "jsontext.h"

#include <errno.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum {
    JR_MAX_DEPTH = 256,    /* deeper nesting goes to jansson (its limit: 2048) */
    JR_NUMBER_MAX = 63,    /* longer numbers go to jansson */
    JR_SCRATCH_LOCAL = 512 /* escaped strings up to this long decode on the stack */
};

typedef struct jr_reader {
    const unsigned char *p;   /* the next byte */
    const unsigned char *end; /* one past the last byte */
    unsigned depth;           /* containers open around p */
    char *scratch;            /* where escaped strings are decoded: local or malloc'd */
    size_t scratch_cap;
    char local[JR_SCRATCH_LOCAL];
} jr_reader;

/* A string's bytes: in the input (no escapes) or in the reader's scratch. */
typedef struct jr_span {
    const char *s;
    size_t n;
    bool in_scratch;
} jr_span;

static json_t *read_value(jr_reader *r);

/* ---- Bytes ------------------------------------------------------------- */

#define JR_ONES  0x0101010101010101ULL
#define JR_HIGHS 0x8080808080808080ULL

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static void skip_space(jr_reader *r)
{
    const unsigned char *p = r->p, *end = r->end;
    while (p < end && is_space(*p))
        p++;
    r->p = p;
}

/* Consumes byte c (after white space); false when the next byte is another. */
static bool expect(jr_reader *r, unsigned char c)
{
    skip_space(r);
    if (r->p == r->end || *r->p != c)
        return false;
    r->p++;
    return true;
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* ---- Strings ----------------------------------------------------------- */

/* Whether one of the 8 bytes of w is '"', '\\', below 0x20 or from 0x80:
 * the classic exact "has zero byte" / "has byte less than" bit tricks. */
static bool word_has_special(uint64_t w)
{
    uint64_t quote = w ^ (JR_ONES * '"'), backslash = w ^ (JR_ONES * '\\');
    uint64_t zero_quote = (quote - JR_ONES) & ~quote;
    uint64_t zero_backslash = (backslash - JR_ONES) & ~backslash;
    uint64_t below_space = (w - JR_ONES * 0x20) & ~w;
    return ((zero_quote | zero_backslash | below_space | w) & JR_HIGHS) != 0;
}

static bool byte_is_special(unsigned char c)
{
    return c == '"' || c == '\\' || c < 0x20 || c >= 0x80;
}

/* The first byte at or after p that is not plain string text (or end). */
static const unsigned char *skip_plain(const unsigned char *p, const unsigned char *end)
{
    while (end - p >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        if (word_has_special(w))
            break;
        p += 8;
    }
    while (p < end && !byte_is_special(*p))
        p++;
    return p;
}

/* Length of the valid UTF-8 sequence starting with a byte >= 0x80 at p, as
 * jansson's utf8_check_first/utf8_check_full accept it (no overlong forms,
 * no surrogates, nothing above U+10FFFF); 0 when invalid. */
static size_t utf8_length(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0];
    size_t n;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || (n == 3 && cp < 0x800) ||
        (n == 4 && cp < 0x10000))
        return 0;
    return n;
}

/* Writes code point cp (1..0x10FFFF, no surrogate) as UTF-8; returns the end. */
static char *utf8_put(char *t, uint32_t cp)
{
    if (cp < 0x80) {
        *t++ = (char)cp;
    } else if (cp < 0x800) {
        *t++ = (char)(0xC0 | (cp >> 6));
        *t++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *t++ = (char)(0xE0 | (cp >> 12));
        *t++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *t++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *t++ = (char)(0xF0 | (cp >> 18));
        *t++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *t++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *t++ = (char)(0x80 | (cp & 0x3F));
    }
    return t;
}

/* The 4 hex digits after "\u" at p (p + 6 <= stop), or -1. */
static int32_t hex4(const unsigned char *p, const unsigned char *stop)
{
    if (stop - p < 6 || p[0] != '\\' || p[1] != 'u')
        return -1;
    int32_t v = 0;
    for (int i = 2; i < 6; i++) {
        unsigned char c = p[i];
        int d = is_digit(c)              ? c - '0'
                : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                         : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Decodes the \u escape (or surrogate pair) at *pp into t; NULL for what
 * jansson rejects (lone or bad surrogates) and for \u0000 (jansson's answer
 * then depends on JSON_ALLOW_NUL and on where the string is). */
static char *decode_unicode(const unsigned char **pp, const unsigned char *stop, char *t)
{
    int32_t cp = hex4(*pp, stop);
    if (cp <= 0 || (cp >= 0xDC00 && cp <= 0xDFFF))
        return NULL;
    *pp += 6;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        int32_t low = hex4(*pp, stop);
        if (low < 0xDC00 || low > 0xDFFF)
            return NULL;
        *pp += 6;
        cp = ((cp - 0xD800) << 10) + (low - 0xDC00) + 0x10000;
    }
    return utf8_put(t, (uint32_t)cp);
}

static char short_escape(unsigned char c)
{
    switch (c) {
    case '"':
    case '\\':
    case '/':
        return (char)c;
    case 'b':
        return '\b';
    case 'f':
        return '\f';
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    default:
        return 0;
    }
}

/* Room for n bytes in the scratch buffer. */
static bool scratch_reserve(jr_reader *r, size_t n)
{
    if (n <= r->scratch_cap)
        return true;
    char *grown = malloc(n);
    if (!grown)
        return false;
    if (r->scratch != r->local)
        free(r->scratch);
    r->scratch = grown;
    r->scratch_cap = n;
    return true;
}

/* The closing quote of the string whose text starts at p, skipping escaped
 * bytes; NULL when the input ends first. */
static const unsigned char *closing_quote(const unsigned char *p, const unsigned char *end)
{
    for (;;) {
        while (p < end && *p != '"' && *p != '\\')
            p++;
        if (p == end)
            return NULL;
        if (*p == '"')
            return p;
        p += 2;
        if (p > end)
            return NULL;
    }
}

/* A string with escapes: text from `start` to its closing quote, the first
 * escape at `esc`. Decoded into the scratch buffer (never longer than the
 * text: jansson's own argument). */
static bool read_escaped(jr_reader *r, const unsigned char *start, const unsigned char *esc,
                         jr_span *out)
{
    const unsigned char *stop = closing_quote(esc, r->end);
    if (!stop || !scratch_reserve(r, (size_t)(stop - start)))
        return false;
    char *t = r->scratch;
    memcpy(t, start, (size_t)(esc - start));
    t += esc - start;
    const unsigned char *p = esc;
    while (p < stop) {
        unsigned char c = *p;
        if (c == '\\') {
            if (p[1] == 'u') {
                if (!(t = decode_unicode(&p, stop, t)))
                    return false;
                continue;
            }
            if (!(*t++ = short_escape(p[1])))
                return false;
            p += 2;
        } else if (c >= 0x80) {
            size_t n = utf8_length(p, stop);
            if (!n)
                return false;
            memcpy(t, p, n);
            t += n;
            p += n;
        } else if (c < 0x20) {
            return false;
        } else {
            *t++ = (char)c;
            p++;
        }
    }
    *out = (jr_span){r->scratch, (size_t)(t - r->scratch), true};
    r->p = stop + 1;
    return true;
}

/* A string's bytes; r->p is just past the opening quote. Strings without
 * escapes stay in the input. */
static bool read_string(jr_reader *r, jr_span *out)
{
    const unsigned char *start = r->p, *p = start;
    for (;;) {
        p = skip_plain(p, r->end);
        if (p == r->end)
            return false;
        if (*p == '"')
            break;
        if (*p == '\\')
            return read_escaped(r, start, p, out);
        if (*p < 0x20)
            return false;
        size_t n = utf8_length(p, r->end);
        if (!n)
            return false;
        p += n;
    }
    *out = (jr_span){(const char *)start, (size_t)(p - start), false};
    r->p = p + 1;
    return true;
}

/* ---- Numbers ----------------------------------------------------------- */

/* An integer of `n` digits (no leading zero) as strtoll reads it; NULL when
 * it does not fit json_int_t (jansson: "too big integer"). */
static json_t *integer_of(const unsigned char *digits, size_t n, bool negative)
{
    if (n > 19)
        return NULL;
    uint64_t u = 0;
    for (size_t i = 0; i < n; i++)
        u = u * 10 + (uint64_t)(digits[i] - '0');
    uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    if (u > limit) /* 19 digits never wrap 64 bits */
        return NULL;
    json_int_t v = negative ? (json_int_t)(0 - u) : (json_int_t)u;
    return json_integer(v);
}

/* Clinger's fast path: when the decimal significand w fits 53 bits and
 * |exponent| <= 22, w * 10^e (or w / 10^-e) is one correctly rounded IEEE
 * operation on exact operands, hence what strtod returns. s..end is a
 * number already checked against JSON's grammar. */
static bool exact_real(const unsigned char *s, const unsigned char *end, double *out)
{
#if FLT_EVAL_METHOD == 0
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    bool negative = *s == '-', after_point = false;
    const unsigned char *p = s + negative;
    uint64_t w = 0;
    int digits = 0, exponent = 0;
    for (; p < end && (is_digit(*p) || *p == '.'); p++) {
        if (*p == '.') {
            after_point = true;
            continue;
        }
        if (++digits > 19)
            return false;
        w = w * 10 + (uint64_t)(*p - '0');
        exponent -= after_point;
    }
    if (p < end) { /* 'e' or 'E', an optional sign, digits */
        p++;
        bool exp_negative = *p == '-';
        p += *p == '-' || *p == '+';
        if (end - p > 4)
            return false;
        int e = 0;
        for (; p < end; p++)
            e = e * 10 + (*p - '0');
        exponent += exp_negative ? -e : e;
    }
    if (w > (1ULL << 53) || exponent < -22 || exponent > 22)
        return false;
    double d = exponent >= 0 ? (double)w * pow10[exponent] : (double)w / pow10[-exponent];
    *out = negative ? -d : d;
    return true;
#else
    (void)s, (void)end, (void)out;
    return false;
#endif
}

/* A real as jansson's jsonp_strtod reads it (the locale's decimal point put
 * in, strtod); NULL when it overflows to +-HUGE_VAL. */
static json_t *real_of(const unsigned char *s, const unsigned char *end)
{
    double d;
    if (exact_real(s, end, &d))
        return json_real(d);
    char text[JR_NUMBER_MAX + 1];
    size_t n = (size_t)(end - s);
    memcpy(text, s, n);
    text[n] = '\0';
    const char *point = localeconv()->decimal_point;
    char *dot = strchr(text, '.');
    if (dot && *point != '.')
        *dot = *point;
    char *stop;
    errno = 0;
    d = strtod(text, &stop);
    if (stop != text + n || ((d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE))
        return NULL;
    return json_real(d);
}

static const unsigned char *skip_digits(const unsigned char *p, const unsigned char *end)
{
    while (p < end && is_digit(*p))
        p++;
    return p;
}

/* A number in JSON's grammar (jansson's lexer: no leading zeros, digits
 * after '.' and after 'e'): an integer unless it has a fraction or an
 * exponent. */
static json_t *read_number(jr_reader *r)
{
    const unsigned char *start = r->p, *end = r->end;
    bool negative = *start == '-';
    const unsigned char *digits = start + negative, *p = digits;
    if (p == end || !is_digit(*p))
        return NULL;
    p = *p == '0' ? p + 1 : skip_digits(p, end);
    if (p < end && is_digit(*p))
        return NULL; /* a leading zero */
    size_t int_digits = (size_t)(p - digits);
    bool real = false;
    if (p < end && *p == '.') {
        const unsigned char *frac = p + 1;
        p = skip_digits(frac, end);
        if (p == frac)
            return NULL;
        real = true;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        const unsigned char *exp = p;
        p = skip_digits(exp, end);
        if (p == exp)
            return NULL;
        real = true;
    }
    if (p - start > JR_NUMBER_MAX)
        return NULL;
    r->p = p;
    return real ? real_of(start, p) : integer_of(digits, int_digits, negative);
}

/* ---- Values ------------------------------------------------------------ */

/* true, false or null, not followed by another letter (jansson reads the
 * whole word). */
static json_t *read_word(jr_reader *r, const char *word, json_t *value)
{
    size_t n = strlen(word);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
        return NULL;
    r->p += n;
    return value;
}

/* A member's key set with its value (stolen); false when the key was there
 * already (jansson: an error, or the old value replaced in place) or memory
 * ran out. */
static bool set_member(json_t *obj, const jr_span *key, json_t *value)
{
    size_t before = json_object_size(obj);
    if (json_object_setn_new_nocheck(obj, key->s, key->n, value))
        return false;
    return json_object_size(obj) == before + 1;
}

/* A key in the scratch buffer must outlive the value read after it. */
static bool keep_key(jr_span *key, char **owned)
{
    *owned = NULL;
    if (!key->in_scratch)
        return true;
    if (!(*owned = malloc(key->n ? key->n : 1)))
        return false;
    memcpy(*owned, key->s, key->n);
    key->s = *owned;
    return true;
}

static bool read_member(jr_reader *r, json_t *obj)
{
    jr_span key;
    char *owned = NULL;
    if (!expect(r, '"') || !read_string(r, &key) || !keep_key(&key, &owned) || !expect(r, ':'))
        goto fail;
    skip_space(r);
    json_t *value = read_value(r);
    if (!value || !set_member(obj, &key, value))
        goto fail;
    free(owned);
    return true;
fail:
    free(owned);
    return false;
}

/* After a member or an element: the next byte (',' or the closing one),
 * consumed; 0 at the end of the input. */
static int read_separator(jr_reader *r)
{
    skip_space(r);
    return r->p < r->end ? *r->p++ : 0;
}

/* An object; r->p is just past '{'. */
static json_t *read_object(jr_reader *r)
{
    json_t *obj = json_object();
    if (!obj)
        return NULL;
    skip_space(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        return obj;
    }
    for (;;) {
        if (!read_member(r, obj))
            goto fail;
        int c = read_separator(r);
        if (c == '}')
            return obj;
        if (c != ',')
            goto fail;
    }
fail:
    json_decref(obj);
    return NULL;
}

/* An array; r->p is just past '['. */
static json_t *read_array(jr_reader *r)
{
    json_t *arr = json_array();
    if (!arr)
        return NULL;
    skip_space(r);
    if (r->p < r->end && *r->p == ']') {
        r->p++;
        return arr;
    }
    for (;;) {
        skip_space(r);
        json_t *item = read_value(r);
        if (!item || json_array_append_new(arr, item))
            goto fail;
        int c = read_separator(r);
        if (c == ']')
            return arr;
        if (c != ',')
            goto fail;
    }
fail:
    json_decref(arr);
    return NULL;
}

static json_t *read_container(jr_reader *r, json_t *(*read)(jr_reader *))
{
    if (++r->depth > JR_MAX_DEPTH)
        return NULL;
    r->p++;
    json_t *v = read(r);
    r->depth--;
    return v;
}

/* The value at r->p (no white space before it); NULL to give up. */
static json_t *read_value(jr_reader *r)
{
    if (r->p == r->end)
        return NULL;
    switch (*r->p) {
    case '{':
        return read_container(r, read_object);
    case '[':
        return read_container(r, read_array);
    case '"': {
        jr_span s;
        r->p++;
        return read_string(r, &s) ? json_stringn_nocheck(s.s, s.n) : NULL;
    }
    case 't':
        return read_word(r, "true", json_true());
    case 'f':
        return read_word(r, "false", json_false());
    case 'n':
        return read_word(r, "null", json_null());
    default:
        return read_number(r);
    }
}

/* ---- Entry points ------------------------------------------------------ */

bool mq_jr_fast(const char *buf, size_t len, size_t flags, json_t **out)
{
    *out = NULL;
    if (!buf || (flags & ~(size_t)JSON_REJECT_DUPLICATES))
        return false;
    jr_reader reader, *r = &reader;
    r->p = (const unsigned char *)buf;
    r->end = r->p + len;
    r->depth = 0;
    r->scratch = r->local;
    r->scratch_cap = sizeof r->local;
    skip_space(r);
    json_t *doc = NULL;
    if (r->p < r->end && (*r->p == '{' || *r->p == '['))
        doc = read_value(r);
    skip_space(r);
    if (doc && r->p != r->end) { /* jansson: "end of file expected" */
        json_decref(doc);
        doc = NULL;
    }
    if (r->scratch != r->local)
        free(r->scratch);
    *out = doc;
    return doc != NULL;
}

/* What json_loadb leaves in *err after a success: its initial state
 * (source "<buffer>", line and column -1, no text) and the position just
 * past the input. */
static void note_success(json_error_t *err, size_t len)
{
    if (!err)
        return;
    err->line = -1;
    err->column = -1;
    err->position = (int)len;
    memcpy(err->source, "<buffer>", sizeof "<buffer>");
    err->text[0] = '\0';
}

json_t *mq_jr_load(const char *buf, size_t len, size_t flags, json_error_t *err)
{
    json_t *doc;
    if (mq_jr_fast(buf, len, flags, &doc)) {
        note_success(err, len);
        return doc;
    }
    return json_loadb(buf, len, flags, err);
}
