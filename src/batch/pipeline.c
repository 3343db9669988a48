/* pipeline.c -- streams a book through rating threads with constant memory, output in order.
 *
 * Three roles share a fixed pool of chunks (MQ_BATCH_CHUNKS_PER_THREAD per
 * rating thread, plus one). The reader thread reads the book in blocks of
 * up to 2 MB, cuts it into physical lines (counting them, so every row knows
 * the line it starts on) and fills a free chunk with up to MQ_BATCH_CHUNK_ROWS rows:
 * NDJSON lines as they are, CSV records split into NUL-terminated fields by
 * libcsv (fed one physical line at a time, so a quoted newline is handled
 * and line numbers stay exact) -- or, for a line with no quote at all, by a
 * plain split at commas that does what libcsv does with unquoted fields. Worker threads take filled
 * chunks, turn each row into an mq_input (mq_batch_csv_row, or jansson + mq_req_from_json) and call
 * the job's row function, which appends the row's output to the chunk; each worker has its own
 * arena, freed after every chunk. The calling thread hands chunks to the sink strictly in sequence
 * order and returns them to the pool. Since the pool never grows and chunk buffers are reused,
 * memory depends on the chunk size and thread count, never on the book.
 * A book with a descriptor is read with read(2), which returns what has
 * arrived: when nothing more has (a pipe, a terminal), the reader passes
 * on the rows it holds before it waits, so a book fed a row at a time is
 * rated a row at a time instead of after the next 2 MB (fread waits for
 * its whole count).
 * One mutex and one condition variable guard the chunk states. A cancel
 * flag (SIGINT) stops the reader between lines; the rows read by then are
 * rated and written in order, so the output ends on a whole row.
 */
#include "batch.h"
#include "jsontext.h"

#include <csv.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum {
    READ_BLOCK = 1 << 20,
    MAX_LINE = MQ_REQ_MAX_BYTES + 2, /* a request and its CR LF */
    CHUNK_BYTES = 1 << 20,           /* a chunk closes past this much row text */
    MAX_COLUMNS = 1024,
    ARENA_RESET = 8 << 20, /* a worker frees its arena mid-chunk past this */
    MAX_ERROR_SHOWN = 32,
};

/* ---- Byte buffer -------------------------------------------------------- */

static bool buf_reserve(mq_batch_buf *b, size_t extra)
{
    if (b->oom)
        return false;
    if (extra > MQ_BATCH_BUF_MAX - b->len) {
        b->oom = true;
        return false;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < need)
        cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) {
        b->oom = true;
        return false;
    }
    b->data = d;
    b->cap = cap;
    return true;
}

bool mq_batch_buf_put(mq_batch_buf *b, const void *p, size_t n)
{
    if (!buf_reserve(b, n))
        return false;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return true;
}

bool mq_batch_buf_puts(mq_batch_buf *b, const char *s)
{
    return mq_batch_buf_put(b, s, strlen(s));
}

bool mq_batch_buf_printf(mq_batch_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !buf_reserve(b, (size_t)n)) {
        b->oom = true;
        return false;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return true;
}

bool mq_batch_buf_int(mq_batch_buf *b, int64_t v)
{
    char tmp[24];
    int i = (int)sizeof tmp;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        tmp[--i] = '-';
    return mq_batch_buf_put(b, tmp + i, sizeof tmp - (size_t)i);
}

bool mq_batch_buf_money(mq_batch_buf *b, int64_t cents)
{
    uint64_t u = cents < 0 ? (uint64_t)0 - (uint64_t)cents : (uint64_t)cents;
    if (cents < 0 && !mq_batch_buf_put(b, "-", 1))
        return false;
    char frac[3] = {(char)('0' + u % 100 / 10), (char)('0' + u % 10), '\0'};
    return mq_batch_buf_int(b, (int64_t)(u / 100)) && mq_batch_buf_put(b, ".", 1) &&
           mq_batch_buf_put(b, frac, 2);
}

bool mq_batch_buf_csv(mq_batch_buf *b, const char *s)
{
    if (!s)
        return true;
    if (!s[strcspn(s, ",\"\r\n")])
        return mq_batch_buf_puts(b, s);
    bool ok = mq_batch_buf_put(b, "\"", 1);
    for (const char *q; ok && (q = strchr(s, '"')); s = q + 1)
        ok = mq_batch_buf_put(b, s, (size_t)(q - s) + 1) && mq_batch_buf_put(b, "\"", 1);
    return ok && mq_batch_buf_puts(b, s) && mq_batch_buf_put(b, "\"", 1);
}

/* The length of the valid UTF-8 sequence at s (1 to 4), or 0 when s does
 * not start one (a stray continuation byte, an overlong form, a surrogate,
 * past U+10FFFF, or cut short by the end of the string). */
static int utf8_sequence(const unsigned char *s)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    int n = c >= 0xC2 && c <= 0xDF   ? 2
            : c >= 0xE0 && c <= 0xEF ? 3
            : c >= 0xF0 && c <= 0xF4 ? 4
                                     : 0;
    if (!n)
        return 0;
    unsigned char lo = 0x80, hi = 0xBF; /* the second byte's range */
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (int i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return n;
}

bool mq_batch_buf_json_str(mq_batch_buf *b, const char *s)
{
    bool ok = mq_batch_buf_put(b, "\"", 1);
    while (ok && *s) {
        unsigned char c = (unsigned char)*s;
        int n = utf8_sequence((const unsigned char *)s);
        if (c == '"' || c == '\\')
            ok = mq_batch_buf_put(b, "\\", 1) && mq_batch_buf_put(b, s, 1);
        else if (c < 0x20)
            ok = mq_batch_buf_printf(b, "\\u%04x", c);
        else if (n == 0) /* a CSV book's byte that is not UTF-8 (Windows-1252 "\xE9") */
            ok = mq_batch_buf_puts(b, "\\ufffd");
        else
            ok = mq_batch_buf_put(b, s, (size_t)n);
        s += n ? n : 1;
    }
    return ok && mq_batch_buf_put(b, "\"", 1);
}

void mq_batch_buf_free(mq_batch_buf *b)
{
    free(b->data);
    *b = (mq_batch_buf){0};
}

const char *mq_batch_format_name(mq_batch_format f)
{
    return f == MQ_BATCH_CSV ? "csv" : "ndjson";
}

int mq_batch_format_find(const char *name)
{
    if (strcmp(name, "csv") == 0)
        return MQ_BATCH_CSV;
    if (strcmp(name, "ndjson") == 0 || strcmp(name, "jsonl") == 0)
        return MQ_BATCH_NDJSON;
    return -1;
}

bool mq_batch_error_text(const mq_batch_row *row, mq_batch_buf *out)
{
    bool ok = mq_batch_buf_printf(out, "line %ld: ", row->line);
    int shown = row->errs->count < MAX_ERROR_SHOWN ? row->errs->count : MAX_ERROR_SHOWN;
    for (int i = 0; ok && i < shown; i++) {
        const mq_req_error *e = &row->errs->items[i];
        if (i)
            ok = mq_batch_buf_puts(out, "; ");
        if (ok && e->path && *e->path)
            ok = mq_batch_buf_printf(out, "%s%s: ", row->format == MQ_BATCH_CSV ? "column " : "",
                                     e->path);
        ok = ok && mq_batch_buf_puts(out, e->message ? e->message : "");
    }
    if (ok && row->errs->count > shown)
        ok = mq_batch_buf_printf(out, "; and %d more", row->errs->count - shown);
    return ok;
}

/* ---- Chunks and the shared state ------------------------------------------ */

typedef struct row_ref {
    long line;
    size_t off; /* in the chunk's text: the NDJSON line, the first CSV field, or the message */
    uint32_t n; /* NDJSON: bytes; CSV: fields */
    bool bad;   /* the reader found the row broken; text at off is why */
} row_ref;

typedef enum { C_FREE, C_FILLED, C_BUSY, C_DONE } chunk_state;

typedef struct chunk {
    chunk_state state;
    long seq;
    mq_batch_buf text;
    row_ref rows[MQ_BATCH_CHUNK_ROWS];
    int nrows;
    int64_t end_offset; /* input bytes read when the chunk was closed */
    mq_batch_buf out;
    long invalid, first_invalid;
    char first_error[sizeof(((mq_batch_stats *)0)->first_error)];
    bool failed; /* a worker ran out of memory */
} chunk;

typedef struct pipeline {
    const mq_batch_job *job;
    mq_batch_layout *layout; /* CSV: set before the threads start, then read-only */
    mq_batch_format format;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    chunk *chunks;
    int nchunks;
    long nseq;        /* chunks handed to workers so far */
    bool reader_done; /* no more chunks will come */
    atomic_bool stop; /* give up: an error somewhere (written under mu; the reader polls it) */
    int fail_code;
    char fail[256];
} pipeline;

/* Whether the job's cancel flag (a signal handler's) is up. */
static bool cancelled(const pipeline *p)
{
    return p->job->cancel && atomic_load(p->job->cancel);
}

static void fail(pipeline *p, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(pipeline *p, int code, const char *fmt, ...)
{
    pthread_mutex_lock(&p->mu);
    if (!p->fail_code) {
        p->fail_code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->fail, sizeof p->fail, fmt, ap);
        va_end(ap);
    }
    p->stop = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* ---- Reader -------------------------------------------------------------------- */

typedef struct reader {
    pipeline *p;
    FILE *f;
    int fd; /* f's descriptor, read with read(2); -1: none (fmemopen), read with fread */
    char *buf;
    size_t start, end, cap;
    bool eof;
    bool cr_ends_line; /* CSV: a bare CR ends a line too (old Mac spreadsheets write them) */
    long line;         /* physical lines consumed */
    int64_t offset;    /* bytes consumed */
    chunk *cur;        /* the chunk being filled; NULL when stopping */
    /* CSV */
    struct csv_parser csv;
    bool csv_on;
    bool in_rec; /* a record has started and not ended */
    long rec_line;
    int rec_fields;
    size_t rec_off;
    char **header;
    int nheader;
    bool header_oom, fatal;
} reader;

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return false;
    return true;
}

/* Up to `want` bytes of the input into dst: what has arrived, waiting only
 * when nothing has (read(2)); 0 at the end or on an error, which *error
 * then holds (an interruption that is a cancel is the end). The wait is in
 * poll(), CANCEL_POLL_MS at a time: the signal handler's thread may be
 * another one, and SA_RESTART restarts a read, so a reader blocked on a
 * pipe would otherwise read, and rate, rows that arrive after the cancel. */
enum { CANCEL_POLL_MS = 100 };

static size_t read_some(reader *r, char *dst, size_t want, int *error)
{
    *error = 0;
    if (r->fd < 0) {
        size_t got = fread(dst, 1, want, r->f);
        if (got == 0 && ferror(r->f) && !(errno == EINTR && cancelled(r->p)))
            *error = errno;
        return got;
    }
    for (;;) {
        struct pollfd pfd = {.fd = r->fd, .events = POLLIN};
        int ready = cancelled(r->p) ? 0 : poll(&pfd, 1, CANCEL_POLL_MS);
        if (cancelled(r->p))
            return 0; /* the end: nothing that arrives after a cancel is read */
        if (ready < 0 && errno != EINTR) {
            *error = errno;
            return 0;
        }
        if (ready <= 0)
            continue;
        ssize_t got = read(r->fd, dst, want);
        if (got >= 0)
            return (size_t)got;
        if (errno == EINTR && !cancelled(r->p))
            continue;
        if (errno != EINTR)
            *error = errno;
        return 0;
    }
}

/* Reads more of the input after the unread bytes; false at the end or on an error. */
static bool fill(reader *r)
{
    if (r->eof)
        return false;
    memmove(r->buf, r->buf + r->start, r->end - r->start);
    r->end -= r->start;
    r->start = 0;
    int error;
    size_t got = read_some(r, r->buf + r->end, r->cap - r->end, &error);
    r->end += got;
    if (got == 0) {
        r->eof = true;
        if (error)
            fail(r->p, MQ_BATCH_FAIL, "%s: read error: %s", r->p->job->name, strerror(error));
        return false;
    }
    return true;
}

/* The length of the first physical line of b[0..avail) with its ending,
 * or 0 when more input is needed to know where it ends. Lines end at LF
 * and, when cr_ends_line, at a bare CR (CR LF stays one ending); at the
 * end of the input, the rest is a line. */
static size_t line_length(const reader *r, const char *b, size_t avail)
{
    const char *nl = memchr(b, '\n', avail);
    size_t scan = nl ? (size_t)(nl - b) : avail;
    const char *cr = r->cr_ends_line ? memchr(b, '\r', scan) : NULL;
    if (cr) {
        size_t i = (size_t)(cr - b);
        if (i + 1 < avail)
            return b[i + 1] == '\n' ? i + 2 : i + 1;
        return r->eof ? i + 1 : 0; /* a CR last in the buffer: is an LF next? */
    }
    if (nl)
        return scan + 1;
    return r->eof ? avail : 0;
}

static void push(reader *r);
static chunk *take_free(pipeline *p);

/* Before the reader waits for input that has not arrived (a pipe, a
 * terminal: never a file, whose bytes are all there), the rows it holds
 * go to be rated, unless a CSV record is half read. False when the
 * pipeline is stopping (no chunk to go on with). */
static bool before_waiting(reader *r)
{
    if (r->fd < 0 || !r->cur || r->cur->nrows == 0 || r->in_rec || r->eof)
        return true;
    struct pollfd pfd = {.fd = r->fd, .events = POLLIN};
    if (poll(&pfd, 1, 0) != 0) /* something to read (or an end or error read says) */
        return true;
    push(r);
    r->cur = take_free(r->p);
    return r->cur != NULL;
}

/* The bytes of line s[0..len) without its ending (LF, CR LF or CR). */
static size_t without_ending(const char *s, size_t len)
{
    if (len && s[len - 1] == '\n')
        len--;
    if (len && s[len - 1] == '\r')
        len--;
    return len;
}

/* The next physical line with its ending, if any. *too_long when it holds
 * more than MQ_REQ_MAX_BYTES bytes before its ending, whether or not the
 * buffer happened to hold all of it: it is then skipped and *s is NULL.
 * False at the end. */
static bool next_line(reader *r, const char **s, size_t *n, bool *too_long)
{
    *too_long = false;
    for (;;) {
        size_t len = r->start < r->end ? line_length(r, r->buf + r->start, r->end - r->start) : 0;
        if (len) {
            *s = r->buf + r->start;
            *n = len;
            if (without_ending(*s, len) > MQ_REQ_MAX_BYTES) {
                *too_long = true;
                *s = NULL;
            }
            r->start += len;
            r->offset += (int64_t)len;
            r->line++;
            return true;
        }
        if (r->end - r->start >= MAX_LINE) {
            *too_long = true;
            *s = NULL;
            r->line++;
            for (;;) {
                r->offset += (int64_t)(r->end - r->start);
                r->start = r->end;
                if (!fill(r))
                    return true;
                char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
                if (nl) {
                    size_t k = (size_t)(nl - (r->buf + r->start)) + 1;
                    r->start += k;
                    r->offset += (int64_t)k;
                    return true;
                }
            }
        }
        if (!before_waiting(r) || (!fill(r) && r->start == r->end))
            return false;
    }
}

/* Waits for a free chunk; NULL when the pipeline is stopping. */
static chunk *take_free(pipeline *p)
{
    pthread_mutex_lock(&p->mu);
    chunk *c = NULL;
    while (!p->stop) {
        for (int i = 0; i < p->nchunks && !c; i++)
            if (p->chunks[i].state == C_FREE)
                c = &p->chunks[i];
        if (c)
            break;
        pthread_cond_wait(&p->cv, &p->mu);
    }
    if (c)
        c->state = C_BUSY; /* the reader's, until pushed */
    pthread_mutex_unlock(&p->mu);
    if (c) {
        c->nrows = 0;
        c->text.len = 0;
        c->text.oom = false;
    }
    return c;
}

static void push(reader *r)
{
    pipeline *p = r->p;
    pthread_mutex_lock(&p->mu);
    r->cur->end_offset = r->offset;
    r->cur->seq = p->nseq++;
    r->cur->state = C_FILLED;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    r->cur = NULL;
}

/* Ends the current row; passes the chunk on when it is full. */
static void end_row(reader *r)
{
    chunk *c = r->cur;
    if (c->text.oom) {
        fail(r->p, MQ_BATCH_FAIL, "out of memory");
        return;
    }
    c->nrows++;
    if (c->nrows == MQ_BATCH_CHUNK_ROWS || c->text.len >= CHUNK_BYTES) {
        push(r);
        r->cur = take_free(r->p);
    }
}

/* A row the reader already knows is broken. */
static void bad_row(reader *r, long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void bad_row(reader *r, long line, const char *fmt, ...)
{
    chunk *c = r->cur;
    if (!c)
        return;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->rows[c->nrows] = (row_ref){.line = line, .off = c->text.len, .bad = true};
    mq_batch_buf_put(&c->text, msg, strlen(msg) + 1);
    end_row(r);
}

static void csv_field(void *s, size_t len, void *data)
{
    reader *r = data;
    r->in_rec = true;
    if (!r->p->layout) { /* the header */
        char **h = r->nheader < MAX_COLUMNS
                       ? realloc(r->header, sizeof(char *) * (size_t)(r->nheader + 1))
                       : NULL;
        char *name = h ? strndup(s ? s : "", len) : NULL;
        if (h)
            r->header = h;
        if (!name) {
            r->header_oom = r->nheader < MAX_COLUMNS;
            r->fatal = true;
            return;
        }
        r->header[r->nheader++] = name;
        return;
    }
    if (r->cur && r->rec_fields++ < mq_batch_layout_columns(r->p->layout)) {
        mq_batch_buf *t = &r->cur->text; /* the field and its NUL, inline: the hot path */
        if (t->cap - t->len > len + 1 || buf_reserve(t, len + 1)) {
            if (len)
                memcpy(t->data + t->len, s, len);
            t->data[t->len + len] = '\0';
            t->len += len + 1;
        }
    }
}

static void csv_header(reader *r)
{
    pipeline *p = r->p;
    char err[256];
    if (r->header_oom || r->nheader >= MAX_COLUMNS) {
        fail(p, r->header_oom ? MQ_BATCH_FAIL : MQ_BATCH_BAD_INPUT, "%s: line %ld: %s",
             p->job->name, r->rec_line, r->header_oom ? "out of memory" : "more than 1024 columns");
        r->fatal = true;
        return;
    }
    p->layout = mq_batch_layout_new((const char *const *)r->header, r->nheader, err, sizeof err);
    if (!p->layout) {
        /* a spreadsheet set to another list separator writes one long column */
        const char *sep = r->nheader == 1 ? strpbrk(r->header[0], ";\t") : NULL;
        fail(p, MQ_BATCH_BAD_INPUT, "%s: line %ld: %s%s", p->job->name, r->rec_line, err,
             !sep          ? ""
             : *sep == ';' ? " (columns are separated by commas, not semicolons)"
                           : " (columns are separated by commas, not tabs)");
        r->fatal = true;
    }
}

/* A record that starts where the last one ended, at the start of a
 * physical line (a bare CR, libcsv's other terminator, ends a line too). */
static void next_record(reader *r)
{
    r->in_rec = false;
    r->rec_line = r->line;
    r->rec_fields = 0;
    r->rec_off = r->cur ? r->cur->text.len : 0;
}

/* For a broken record that runs over several lines, which lines it took:
 * a quote left open swallows the rows after it, which are then not rated,
 * and the message must say so. "" for a record of one line. */
static const char *record_span(const reader *r, char out[128])
{
    if (r->line <= r->rec_line)
        return "";
    snprintf(out, 128, " (lines %ld to %ld are this one record: is a quote left open?)",
             r->rec_line, r->line);
    return out;
}

static void csv_record(int c, void *data)
{
    (void)c;
    reader *r = data;
    chunk *ch = r->cur;
    if (!r->p->layout) {
        csv_header(r);
    } else if (ch && r->rec_fields != mq_batch_layout_columns(r->p->layout)) {
        int want = mq_batch_layout_columns(r->p->layout);
        ch->text.len = r->rec_off; /* drop the fields */
        char span[128];
        bad_row(r, r->rec_line, "has %d field%s, the header has %d%s", r->rec_fields,
                r->rec_fields == 1 ? "" : "s", want, record_span(r, span));
    } else if (ch) {
        ch->rows[ch->nrows] =
            (row_ref){.line = r->rec_line, .off = r->rec_off, .n = (uint32_t)r->rec_fields};
        end_row(r);
    }
    next_record(r);
}

static bool csv_restart(reader *r)
{
    if (r->csv_on)
        csv_free(&r->csv);
    r->csv_on = csv_init(&r->csv, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) == 0;
    r->in_rec = false;
    if (!r->csv_on)
        fail(r->p, MQ_BATCH_FAIL, "out of memory");
    return r->csv_on;
}

/* A CSV record that libcsv rejected: reported on the line it started. */
static void csv_broken(reader *r, const char *why)
{
    char span[128];
    if (r->cur)
        r->cur->text.len = r->rec_off;
    if (!r->p->layout) {
        fail(r->p, MQ_BATCH_BAD_INPUT, "%s: line %ld: header: %s%s", r->p->job->name, r->rec_line,
             why, record_span(r, span));
        r->fatal = true;
        return;
    }
    bad_row(r, r->rec_line, "%s%s", why, record_span(r, span));
}

/* A line libcsv is not needed for: no quote, no CR but in its CR LF ending. */
static bool plain_line(const char *s, size_t n)
{
    if (n && s[n - 1] == '\n')
        n--;
    if (n && s[n - 1] == '\r')
        n--;
    return !memchr(s, '"', n) && !memchr(s, '\r', n);
}

/* Splits a plain line at its commas and trims spaces and tabs around each
 * field, exactly as libcsv does with unquoted fields, then ends the record.
 * libcsv reads byte by byte with a call per field and costs about a quarter
 * of a row's rating time on a wide book; most rows of a book quote nothing. */
static void split_plain(reader *r, const char *s, size_t n)
{
    if (n && s[n - 1] == '\n')
        n--;
    if (n && s[n - 1] == '\r')
        n--;
    const char *p = s, *end = s + n;
    for (;;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *a = p, *b = comma ? comma : end;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        csv_field((void *)a, (size_t)(b - a), r);
        if (!comma)
            break;
        p = comma + 1;
    }
    csv_record('\n', r);
}

/* Feeds CSV lines until the end (or, with header_only, until the header is read). */
static void read_csv(reader *r, bool header_only)
{
    const char *s;
    size_t n;
    bool too_long;
    while (!r->fatal && !r->p->stop && !cancelled(r->p) && (r->cur || header_only) &&
           !(header_only && r->p->layout) && next_line(r, &s, &n, &too_long)) {
        if (too_long) {
            if (!r->in_rec)
                next_record(r);
            char why[64];
            snprintf(why, sizeof why, "line longer than %d bytes", MQ_REQ_MAX_BYTES);
            csv_broken(r, why);
            if (!csv_restart(r))
                return;
            continue;
        }
        if (!r->in_rec) {
            if (blank(s, n))
                continue;
            next_record(r);
            if (plain_line(s, n)) {
                split_plain(r, s, n);
                continue;
            }
            r->in_rec = true;
        }
        if (csv_parse(&r->csv, s, n, csv_field, csv_record, r) != n) {
            csv_broken(r, "malformed CSV (a quote inside an unquoted field, or text after a "
                          "closing quote)");
            if (!csv_restart(r))
                return;
        }
    }
    if (r->fatal || r->p->stop || (header_only ? r->p->layout != NULL : !r->cur))
        return;
    if (cancelled(r->p)) { /* stop between lines: a record begun is dropped */
        if (r->in_rec && r->cur)
            r->cur->text.len = r->rec_off;
        return;
    }
    if (r->in_rec && csv_fini(&r->csv, csv_field, csv_record, r) != 0)
        csv_broken(r, "a quoted field is not closed");
}

static void read_ndjson(reader *r)
{
    const char *s;
    size_t n;
    bool too_long;
    while (r->cur && !cancelled(r->p) && next_line(r, &s, &n, &too_long)) {
        if (too_long) {
            bad_row(r, r->line, "request is larger than %d bytes", MQ_REQ_MAX_BYTES);
            continue;
        }
        if (blank(s, n))
            continue;
        while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
            n--;
        if (n > MQ_REQ_MAX_BYTES) {
            bad_row(r, r->line, "request is larger than %d bytes", MQ_REQ_MAX_BYTES);
            continue;
        }
        chunk *c = r->cur;
        c->rows[c->nrows] = (row_ref){.line = r->line, .off = c->text.len, .n = (uint32_t)n};
        mq_batch_buf_put(&c->text, s, n);
        mq_batch_buf_put(&c->text, "", 1);
        end_row(r);
    }
}

static void *reader_main(void *arg)
{
    reader *r = arg;
    pthread_setname_np(pthread_self(), "mq-batch-read");
    pipeline *p = r->p;
    r->cur = take_free(p);
    if (p->format == MQ_BATCH_CSV)
        read_csv(r, false);
    else
        read_ndjson(r);
    pthread_mutex_lock(&p->mu);
    chunk *c = r->cur;
    if (c && c->nrows > 0 && !p->stop) {
        c->end_offset = r->offset;
        c->seq = p->nseq++;
        c->state = C_FILLED;
    } else if (c) {
        c->state = C_FREE;
    }
    r->cur = NULL;
    p->reader_done = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* ---- Workers ------------------------------------------------------------------------- */

typedef struct worker {
    pipeline *p;
    pthread_t tid;
    bool started;
} worker;

/* Why a bundle row is refused: the row functions rate one line. */
#define BUNDLE_ROW                                                                                 \
    "a bundle request; a book holds single-line policies (quote a bundle with multiquote quote)"

static bool parse_ndjson(const char *text, size_t len, const mq_intake *ik, mq_arena *a,
                         mq_input *in, mq_req_errors *errs, const char **policy_id)
{
    errs->count = 0;
    json_error_t je;
    json_t *doc = mq_jr_load(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!doc) {
        const char *msg = mq_arena_printf(a, "invalid JSON at column %d: %s", je.column, je.text);
        errs->count = msg ? 1 : 0;
        errs->items[0] = (mq_req_error){.path = "", .message = msg};
        return false;
    }
    json_t *id = json_object_get(json_object_get(doc, "extra"), "policy_id");
    bool ok = true;
    if (json_is_string(id)) {
        *policy_id = mq_arena_strdup(a, json_string_value(id));
        ok = *policy_id != NULL;
    } else if (json_is_integer(id)) { /* policy numbers exported as numbers */
        *policy_id = mq_arena_printf(a, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
        ok = *policy_id != NULL;
    }
    if (ok && mq_req_is_bundle(doc)) {
        errs->count = 1;
        errs->items[0] = (mq_req_error){.path = "line", .message = BUNDLE_ROW};
        ok = false;
    } else {
        ok = ok && mq_req_from_json(doc, a, in, errs);
    }
    if (ok && ik)
        ok = mq_intake_check(ik, doc, a, errs);
    json_decref(doc);
    return ok;
}

/* Rates every row of a chunk into its output; false when out of memory. */
static bool work(pipeline *p, chunk *c, mq_arena *a, const char **fields, mq_batch_buf *msg)
{
    const mq_batch_job *job = p->job;
    const char *only[1] = {job->carrier};
    c->out.len = 0;
    c->out.oom = false;
    c->invalid = 0;
    c->first_invalid = 0;
    c->first_error[0] = '\0';
    for (int i = 0; i < c->nrows; i++) {
        const row_ref *ref = &c->rows[i];
        const char *text = c->text.data + ref->off;
        mq_batch_row row = {.line = ref->line, .format = p->format};
        mq_req_errors errs = {.count = 0};
        mq_input in;
        bool ok = false;
        if (ref->bad) {
            errs.count = 1;
            errs.items[0] = (mq_req_error){.path = "", .message = text};
        } else if (p->format == MQ_BATCH_CSV) {
            for (uint32_t f = 0; f < ref->n; f++) {
                fields[f] = text;
                text += strlen(text) + 1;
            }
            ok = mq_batch_csv_row(p->layout, fields, (int)ref->n, job->intake, a, &in, &errs,
                                  &row.policy_id);
        } else {
            ok = parse_ndjson(text, ref->n, job->intake, a, &in, &errs, &row.policy_id);
        }
        if (!ok && errs.count == 0)
            return false; /* out of memory */
        if (ok) {
            if (job->carrier) {
                in.carriers = only;
                in.ncarriers = 1;
            }
            row.in = &in;
        } else {
            row.errs = &errs;
            if (c->invalid++ == 0) {
                c->first_invalid = row.line;
                msg->len = 0;
                if (!mq_batch_error_text(&row, msg))
                    return false;
                snprintf(c->first_error, sizeof c->first_error, "%s", msg->data);
            }
        }
        if (!job->row(job->ctx, &row, a, &c->out) || c->out.oom)
            return false;
        if (a->used_bytes > ARENA_RESET) {
            mq_arena_free(a);
            mq_arena_init(a, 0);
        }
    }
    return true;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    pthread_setname_np(pthread_self(), "mq-batch");
    pipeline *p = w->p;
    int ncols = p->layout ? mq_batch_layout_columns(p->layout) : 1;
    const char **fields = malloc(sizeof(char *) * (size_t)ncols);
    mq_batch_buf msg = {0};
    if (!fields) {
        fail(p, MQ_BATCH_FAIL, "out of memory");
        return NULL;
    }
    mq_arena a;
    mq_arena_init(&a, 0);
    for (;;) {
        pthread_mutex_lock(&p->mu);
        chunk *c = NULL;
        while (!p->stop) {
            for (int i = 0; i < p->nchunks; i++)
                if (p->chunks[i].state == C_FILLED && (!c || p->chunks[i].seq < c->seq))
                    c = &p->chunks[i];
            if (c || p->reader_done)
                break;
            pthread_cond_wait(&p->cv, &p->mu);
        }
        if (c)
            c->state = C_BUSY;
        pthread_mutex_unlock(&p->mu);
        if (!c)
            break;
        c->failed = !work(p, c, &a, fields, &msg);
        mq_arena_free(&a);
        mq_arena_init(&a, 0);
        pthread_mutex_lock(&p->mu);
        c->state = C_DONE;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
    mq_arena_free(&a);
    mq_batch_buf_free(&msg);
    free(fields);
    return NULL;
}

/* ---- Writer (the calling thread) and progress ---------------------------------------- */

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void progress(const mq_batch_job *job, long rows, int64_t done, double elapsed, bool last)
{
    double rate = elapsed > 0 ? (double)rows / elapsed : 0;
    fprintf(stderr, "\r\033[K%s: %ld rows  %.0f rows/s", job->label ? job->label : "batch", rows,
            rate);
    if (last) {
        fprintf(stderr, "  %.1f s\n", elapsed);
    } else if (job->size > 0 && done > 0) {
        double frac = (double)done / (double)job->size;
        double eta = elapsed * (1 - frac) / frac;
        int width = 30, fillw = (int)(frac * width + 0.5);
        fprintf(stderr, "  [%.*s%*s] %3.0f%%  ETA %d:%02d", fillw, "##############################",
                width - fillw, "", frac * 100, (int)eta / 60, (int)eta % 60);
    }
    fflush(stderr);
}

static void write_chunks(pipeline *p, mq_batch_stats *st, double t0)
{
    const mq_batch_job *job = p->job;
    double shown = t0;
    int64_t done = 0;
    for (long seq = 0;; seq++) {
        pthread_mutex_lock(&p->mu);
        chunk *c = NULL;
        while (!p->stop) {
            for (int i = 0; i < p->nchunks; i++)
                if (p->chunks[i].state == C_DONE && p->chunks[i].seq == seq)
                    c = &p->chunks[i];
            if (c || (p->reader_done && seq >= p->nseq))
                break;
            pthread_cond_wait(&p->cv, &p->mu);
        }
        pthread_mutex_unlock(&p->mu);
        if (!c)
            return;
        if (c->failed) {
            fail(p, MQ_BATCH_FAIL, "out of memory");
            return;
        }
        if (c->out.len && !job->sink(job->ctx, c->out.data, c->out.len)) {
            fail(p, MQ_BATCH_FAIL, "%s", "");
            return;
        }
        st->rows += c->nrows;
        if (c->nrows)
            st->last_line = c->rows[c->nrows - 1].line;
        if (c->invalid && st->invalid == 0) {
            st->first_invalid = c->first_invalid;
            memcpy(st->first_error, c->first_error, sizeof st->first_error);
        }
        st->invalid += c->invalid;
        done = c->end_offset;
        pthread_mutex_lock(&p->mu);
        c->state = C_FREE;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
        double t = now();
        if (job->progress && t - shown >= 0.2) {
            progress(job, st->rows, done, t - t0, false);
            shown = t;
        }
    }
}

/* ---- Entry point ----------------------------------------------------------------------- */

/* Bytes of s[0..n) before its first line ending (n when none). */
static size_t strcspn_n(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\n' || s[i] == '\r')
            return i;
    return n;
}

/* Whether detect has read enough: the book's first line that is not
 * blank, whole; or the end; or a full buffer. read(2) may give a pipe's
 * input a few bytes at a time. */
static bool first_line_read(const reader *r)
{
    if (r->eof || r->end == r->cap)
        return true;
    for (size_t i = r->start; i < r->end; i++)
        if (r->buf[i] != ' ' && r->buf[i] != '\t' && r->buf[i] != '\r' && r->buf[i] != '\n')
            return memchr(r->buf + i, '\n', r->end - i) != NULL;
    return false;
}

/* The book's format from its first character that is not white space;
 * -1 when the book holds nothing else, cannot be read, is UTF-16 (a byte
 * order mark FF FE or FE FF), a JSON array or JSON over several lines
 * (the pipeline's failure then says so). */
static int detect(reader *r)
{
    while (!first_line_read(r) && fill(r))
        ;
    if (r->end - r->start >= 3 && memcmp(r->buf + r->start, "\xEF\xBB\xBF", 3) == 0)
        r->start += 3; /* a UTF-8 byte order mark, as spreadsheets write */
    if (r->end - r->start >= 2 && (memcmp(r->buf + r->start, "\xFF\xFE", 2) == 0 ||
                                   memcmp(r->buf + r->start, "\xFE\xFF", 2) == 0)) {
        fail(r->p, MQ_BATCH_BAD_INPUT,
             "%s: the book is UTF-16 text; save it as UTF-8 (\"CSV UTF-8\" in a spreadsheet)",
             r->p->job->name);
        return -1;
    }
    for (size_t i = r->start; i < r->end; i++) {
        char c = r->buf[i];
        if (c == '[') { /* a JSON document holding an array: not a book */
            fail(r->p, MQ_BATCH_BAD_INPUT,
                 "%s: the book is a JSON array; a book holds one JSON request per line "
                 "(NDJSON: jq -c '.[]' writes an array that way)",
                 r->p->job->name);
            return -1;
        }
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
            if (c == '{' && blank(r->buf + i + 1, strcspn_n(r->buf + i + 1, r->end - i - 1))) {
                /* "{" alone on its line: JSON written over several lines */
                fail(r->p, MQ_BATCH_BAD_INPUT,
                     "%s: the first request is written over several lines (its line holds only "
                     "\"{\"); a book holds one request per line (jq -c . writes it so)",
                     r->p->job->name);
                return -1;
            }
            return c == '{' ? MQ_BATCH_NDJSON : MQ_BATCH_CSV;
        }
    }
    return r->eof ? -1 : MQ_BATCH_NDJSON; /* empty, or a buffer of white space */
}

static void fail_empty(pipeline *p)
{
    fail(p, MQ_BATCH_BAD_INPUT, "%s: the book is empty (no policies)", p->job->name);
}

int mq_batch_run(const mq_batch_job *job, mq_batch_stats *st, char *err, size_t errlen)
{
    *st = (mq_batch_stats){0};
    double t0 = now();
    int threads = job->threads < 1 ? 1 : job->threads > 256 ? 256 : job->threads;
    pipeline p = {.job = job, .nchunks = threads * MQ_BATCH_CHUNKS_PER_THREAD + 1};
    reader r = {.p = &p, .f = job->in, .fd = fileno(job->in), .cap = MAX_LINE + READ_BLOCK};
    worker *workers = calloc((size_t)threads, sizeof *workers);
    p.chunks = calloc((size_t)p.nchunks, sizeof *p.chunks);
    r.buf = malloc(r.cap);
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.cv, NULL);
    pthread_t reader_tid;
    bool reader_started = false;
    if (!workers || !p.chunks || !r.buf) {
        fail(&p, MQ_BATCH_FAIL, "out of memory");
        goto done;
    }
    int format = detect(&r);
    if (format < 0) {
        if (!p.fail_code) /* not a read error */
            fail_empty(&p);
        goto done;
    }
    p.format = st->format = (mq_batch_format)format;
    r.cr_ends_line = p.format == MQ_BATCH_CSV;
    if (p.format == MQ_BATCH_CSV) {
        if (!csv_restart(&r))
            goto done;
        read_csv(&r, true);
        if (p.stop || cancelled(&p))
            goto done;
        if (!p.layout) { /* no header at all */
            fail(&p, MQ_BATCH_BAD_INPUT, "%s: no header row", job->name);
            goto done;
        }
    }
    if (job->start && !job->start(job->ctx, p.format)) {
        fail(&p, MQ_BATCH_FAIL, "%s", "");
        goto done;
    }
    if (pthread_create(&reader_tid, NULL, reader_main, &r) != 0) {
        fail(&p, MQ_BATCH_FAIL, "cannot start a thread");
        goto done;
    }
    reader_started = true;
    int started = 0;
    for (int i = 0; i < threads; i++) {
        workers[i].p = &p;
        workers[i].started = pthread_create(&workers[i].tid, NULL, worker_main, &workers[i]) == 0;
        started += workers[i].started;
    }
    if (started == 0)
        fail(&p, MQ_BATCH_FAIL, "cannot start a thread");
    else
        write_chunks(&p, st, t0);
    if (st->rows == 0 && !cancelled(&p)) /* a CSV header and no row, or only blank lines */
        fail_empty(&p);
    for (int i = 0; i < threads; i++)
        if (workers[i].started)
            pthread_join(workers[i].tid, NULL);
done:
    if (reader_started)
        pthread_join(reader_tid, NULL);
    st->seconds = now() - t0;
    if (job->progress && !p.fail_code)
        progress(job, st->rows, 0, st->seconds, true);
    int rc = p.fail_code;
    snprintf(err, errlen, "%s", p.fail);
    if (rc == MQ_BATCH_OK && cancelled(&p)) {
        rc = MQ_BATCH_INTERRUPTED;
        snprintf(err, errlen, "interrupted");
    }
    if (r.csv_on)
        csv_free(&r.csv);
    for (int i = 0; i < r.nheader; i++)
        free(r.header[i]);
    free(r.header);
    for (int i = 0; p.chunks && i < p.nchunks; i++) {
        mq_batch_buf_free(&p.chunks[i].text);
        mq_batch_buf_free(&p.chunks[i].out);
    }
    free(p.chunks);
    free(workers);
    free(r.buf);
    mq_batch_layout_free(p.layout);
    pthread_cond_destroy(&p.cv);
    pthread_mutex_destroy(&p.mu);
    return rc;
}
