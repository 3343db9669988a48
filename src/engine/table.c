/* table.c -- rate tables: read from CSV, compiled into direct lookups.
 *
 * A table has key columns (exact values, bands such as 16-17 or 75+, enum
 * symbols, or * for a default) and value columns. Compiling splits each key
 * column's number line at every band end into segments (a point for each end
 * and the open stretch between ends), so any value falls in exactly one
 * segment; the table becomes one matrix indexed by the segment of every key,
 * each cell holding the most specific row that matches it (exact beats band
 * beats *, key by key). Rating then costs one segment search per key and
 * one array read, and overlapping rows are found once, at load, with both
 * lines named. The search is an array index when the key's band ends are
 * integers on a grid of fewer than 65536 steps (ages 16..75 in steps of 1,
 * limits 25000..1000000 in steps of 25000), a binary search otherwise. After
 * the matrix comes one row of NaN, the row of keys that match no row, so a
 * lookup is always a row to read (mq_table_row). The lookup itself
 * (mq_table_row and the segment of each key) is inline in internal.h, so
 * a rating's table steps cost no calls; the binary search stays here.
 * A file is read whole, and only when fstat says it is a regular file of at
 * most MQ_TABLE_MAX_FILE bytes; each key column is bound to the type its
 * lookups give (number, boolean, enum) and every cell must fit it.
 */
#include "internal.h"

#include <csv.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TABLE_MAX_CELLS = 4 * 1024 * 1024, DENSE_MAX = 65536 };

/* ---- Reading --------------------------------------------------------- */

typedef struct csv_reader {
    const char *display;
    mq_diags *d;
    int line;        /* physical line being fed */
    int record_line; /* line where the current record started */
    bool in_record;
    char **fields; /* current record */
    int nfields, capfields;
    char ***records; /* all records */
    int *record_lines;
    int nrecords, caprecords;
    bool failed;
} csv_reader;

static void on_field(void *s, size_t len, void *data)
{
    csv_reader *r = data;
    if (!r->in_record) {
        r->in_record = true;
        r->record_line = r->line;
    }
    if (r->nfields == r->capfields) {
        int cap = r->capfields ? r->capfields * 2 : 8;
        char **f = realloc(r->fields, (size_t)cap * sizeof(*f));
        if (!f) {
            r->failed = true;
            return;
        }
        r->fields = f;
        r->capfields = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy) {
        r->failed = true;
        return;
    }
    memcpy(copy, s ? s : "", len);
    copy[len] = '\0';
    r->fields[r->nfields++] = copy;
}

static void on_record(int c, void *data)
{
    (void)c;
    csv_reader *r = data;
    if (r->nrecords == r->caprecords) {
        int cap = r->caprecords ? r->caprecords * 2 : 32;
        char ***rec = realloc(r->records, (size_t)cap * sizeof(*rec));
        int *lines = realloc(r->record_lines, (size_t)cap * sizeof(*lines));
        if (rec)
            r->records = rec;
        if (lines)
            r->record_lines = lines;
        if (!rec || !lines) {
            r->failed = true;
            return;
        }
        r->caprecords = cap;
    }
    /* store the record as a NULL-terminated field array */
    char **fields = malloc((size_t)(r->nfields + 1) * sizeof(char *));
    if (!fields) {
        r->failed = true;
        return;
    }
    memcpy(fields, r->fields, (size_t)r->nfields * sizeof(char *));
    fields[r->nfields] = NULL;
    r->records[r->nrecords] = fields;
    r->record_lines[r->nrecords] = r->record_line;
    r->nrecords++;
    r->nfields = 0;
    r->in_record = false;
}

static void reader_free(csv_reader *r)
{
    for (int i = 0; i < r->nfields; i++)
        free(r->fields[i]);
    free(r->fields);
    for (int i = 0; i < r->nrecords; i++) {
        for (char **f = r->records[i]; *f; f++)
            free(*f);
        free(r->records[i]);
    }
    free(r->records);
    free(r->record_lines);
}

static bool blank_or_comment(const char *line, size_t n)
{
    size_t i = 0;
    while (i < n && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == '\n'))
        i++;
    return i == n || line[i] == '#';
}

/* The file name of a path, for messages that already name the plan. */
static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Whether a line leaves a quoted field open: each quote toggles it (a
 * doubled quote inside a field toggles it twice). */
static bool toggles_quote(const char *s, size_t n)
{
    bool odd = false;
    for (size_t i = 0; i < n; i++)
        odd ^= s[i] == '"';
    return odd;
}

/* Feeds the text line by line so records know their line numbers (libcsv
 * itself reports none); comment and blank lines between records are
 * skipped, and a UTF-8 byte order mark before the header is. */
static bool parse_lines(const char *text, size_t len, csv_reader *r)
{
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
        return false;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        text += 3, len -= 3;
    bool ok = true, in_quote = false;
    int quote_line = 0;
    for (size_t at = 0; at < len && ok && !r->failed;) {
        const char *s = text + at, *nl = memchr(s, '\n', len - at);
        size_t n = nl ? (size_t)(nl - s) + 1 : len - at;
        at += n;
        r->line++;
        if (!in_quote && !r->in_record && blank_or_comment(s, n))
            continue;
        if (toggles_quote(s, n) && !in_quote)
            quote_line = r->line;
        in_quote ^= toggles_quote(s, n);
        if (csv_parse(&p, s, n, on_field, on_record, r) != n) {
            mq_diag_add(r->d,
                        "%s:%d: malformed CSV (a quote inside an unquoted field, or text after a "
                        "closing quote)",
                        r->display, r->line);
            ok = false;
        }
    }
    if (ok && !r->failed && csv_fini(&p, on_field, on_record, r) != 0) {
        mq_diag_add(r->d, "%s:%d: a quoted field is not closed", r->display,
                    in_quote ? quote_line : r->line);
        ok = false;
    }
    if (r->failed) {
        mq_diag_add(r->d, "%s: out of memory", r->display);
        ok = false;
    }
    csv_free(&p);
    return ok;
}

/* Reads the file whole (a regular file of at most MQ_TABLE_MAX_FILE bytes,
 * checked before reading) and parses it; a file that cannot be read is
 * reported at `ref` when given. */
static bool read_csv(const char *path, const char *ref, csv_reader *r)
{
    char why[PATH_MAX + 128];
    size_t len = 0;
    char *text = mq_read_file(path, ref ? base_name(r->display) : r->display, MQ_TABLE_MAX_FILE,
                              &len, why, sizeof why);
    if (!text) {
        if (ref)
            mq_diag_add(r->d, "%s: %s", ref, why);
        else
            mq_diag_add(r->d, "%s", why);
        return false;
    }
    bool ok = parse_lines(text, len, r);
    free(text);
    return ok;
}

/* ---- Cells ----------------------------------------------------------- */

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static bool parse_number(const char *s, double *out)
{
    if (!*s)
        return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno || !isfinite(v))
        return false;
    /* refuse hex, inf, nan and friends: a table holds plain decimals */
    for (const char *p = s; *p; p++)
        if (!strchr("0123456789.-+eE", *p))
            return false;
    *out = v;
    return true;
}

static bool is_symbol(const char *s)
{
    if (!((*s >= 'a' && *s <= 'z') || *s == '_'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

static bool parse_cell(char *s, mq_cell *c)
{
    double a, b;
    *c = (mq_cell){.kind = CELL_EXACT};
    if (strcmp(s, "*") == 0) {
        c->kind = CELL_ANY;
        return true;
    }
    if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
        c->lo = c->hi = s[0] == 't';
        c->boolean = true;
        return true;
    }
    if (parse_number(s, &a)) {
        c->lo = c->hi = a;
        return true;
    }
    size_t n = strlen(s);
    if (n > 1 && s[n - 1] == '+') {
        s[n - 1] = '\0';
        bool ok = parse_number(s, &a);
        s[n - 1] = '+';
        if (ok) {
            *c = (mq_cell){.kind = CELL_BAND, .lo = a, .hi = INFINITY};
            return true;
        }
    }
    const char *ops[] = {"<=", ">=", "<", ">"};
    for (int i = 0; i < 4; i++) {
        size_t ol = strlen(ops[i]);
        if (strncmp(s, ops[i], ol) == 0 && parse_number(s + ol, &a)) {
            c->kind = CELL_BAND;
            if (s[0] == '<') {
                c->lo = -INFINITY, c->hi = a, c->hi_open = ol == 1;
            } else {
                c->lo = a, c->hi = INFINITY, c->lo_open = ol == 1;
            }
            return true;
        }
    }
    /* a band "lo-hi": split at a '-' that is not a sign */
    for (size_t i = 1; i < n; i++) {
        if (s[i] != '-' || s[i - 1] == 'e' || s[i - 1] == 'E')
            continue;
        s[i] = '\0';
        bool ok = parse_number(s, &a) && parse_number(s + i + 1, &b);
        s[i] = '-';
        if (ok && a <= b) {
            *c = (mq_cell){.kind = CELL_BAND, .lo = a, .hi = b};
            return true;
        }
    }
    if (is_symbol(s)) {
        c->kind = CELL_SYMBOL;
        return true;
    }
    return false;
}

/* The cell s in lowercase when that makes it a cell (TRUE, False, DUI),
 * for the message that refuses s; false when it would not help. */
static bool lowercase_cell(const char *s, char *out, size_t n)
{
    size_t len = strlen(s);
    if (len == 0 || len >= n)
        return false;
    for (size_t i = 0; i <= len; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    mq_cell c;
    return strcmp(out, s) != 0 && parse_cell(out, &c);
}

/* The cell s with its spaces left out and each en or em dash (which a
 * word processor or spreadsheet may put for a hyphen) a hyphen, when that
 * makes it a band: "21 – 24" is "21-24"; false when it would not help. */
static bool plain_band(const char *s, char *out, size_t n)
{
    size_t o = 0;
    for (const char *c = s; *c && o + 1 < n; c++) {
        if (strncmp(c, "\xE2\x80\x93", 3) == 0 || strncmp(c, "\xE2\x80\x94", 3) == 0) {
            out[o++] = '-';
            c += 2;
        } else if (*c != ' ') {
            out[o++] = *c;
        }
    }
    out[o] = '\0';
    mq_cell cell;
    return strcmp(out, s) != 0 && parse_cell(out, &cell) && cell.kind == CELL_BAND;
}

static int column_index(char **header, const char *name)
{
    for (int i = 0; header[i]; i++)
        if (strcmp(trim(header[i]), name) == 0)
            return i;
    return -1;
}

/* "zip, territory": the header's column names, quoted when one is empty. */
static void header_text(char **header, char *out, size_t len)
{
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; header[i] && n < len; i++)
        n += (size_t)snprintf(out + n, len - n, "%s\"%s\"", i ? ", " : "", header[i]);
}

static int count_fields(char **rec)
{
    int n = 0;
    while (rec[n])
        n++;
    return n;
}

static bool fill_table(mq_table *t, csv_reader *r, const char *const *keys, mq_diags *d)
{
    const char *disp = r->display;
    if (r->nrecords == 0) {
        mq_diag_add(d, "%s:1: empty table (no header row)", disp);
        return false;
    }
    char **header = r->records[0];
    int ncols = count_fields(header);
    int keycol[16];
    for (int k = 0; k < t->nkeys; k++) {
        keycol[k] = column_index(header, keys[k]);
        if (keycol[k] < 0) {
            char names[200];
            header_text(header, names, sizeof names);
            mq_diag_add(d, "%s:%d: missing key column \"%s\" (the header's columns: %s)%s", disp,
                        r->record_lines[0], keys[k], names,
                        ncols == 1 && strpbrk(header[0], ";\t")
                            ? ": columns are separated by commas, not semicolons or tabs"
                            : "");
            return false;
        }
        /* a key named twice would count one column twice (values overflow) */
        for (int j = 0; j < k; j++)
            if (keycol[j] == keycol[k]) {
                mq_diag_add(d, "%s:%d: key column \"%s\" is named twice in keys", disp,
                            r->record_lines[0], keys[k]);
                return false;
            }
    }
    t->nvalues = ncols - t->nkeys;
    if (t->nvalues <= 0) {
        mq_diag_add(d, "%s:%d: no value column besides the keys", disp, r->record_lines[0]);
        return false;
    }
    if (r->nrecords == 1) {
        mq_diag_add(d, "%s:%d: no rows: the header is followed by no rates", disp,
                    r->record_lines[0]);
        return false;
    }
    int *valcol = calloc((size_t)t->nvalues, sizeof(int));
    t->key_names = calloc((size_t)t->nkeys, sizeof(char *));
    t->value_names = calloc((size_t)t->nvalues, sizeof(char *));
    t->nrows = r->nrecords - 1;
    t->cells = calloc((size_t)(t->nrows ? t->nrows : 1) * (size_t)t->nkeys, sizeof(mq_cell));
    t->values = calloc((size_t)(t->nrows ? t->nrows : 1) * (size_t)t->nvalues, sizeof(double));
    t->row_lines = calloc((size_t)(t->nrows ? t->nrows : 1), sizeof(int));
    if (!valcol || !t->key_names || !t->value_names || !t->cells || !t->values || !t->row_lines) {
        free(valcol);
        mq_diag_add(d, "%s: out of memory", disp);
        return false;
    }
    for (int k = 0; k < t->nkeys; k++)
        t->key_names[k] = strdup(keys[k]);
    for (int c = 0, v = 0; c < ncols; c++) {
        bool is_key = false;
        for (int k = 0; k < t->nkeys; k++)
            is_key |= keycol[k] == c;
        if (is_key)
            continue;
        char *name = trim(header[c]);
        if (!*name) {
            mq_diag_add(d, "%s:%d: column %d has no name", disp, r->record_lines[0], c + 1);
            free(valcol);
            return false;
        }
        bool twice = false; /* among the value columns, or a key column's name again */
        for (int w = 0; w < v; w++)
            twice |= strcmp(t->value_names[w], name) == 0;
        for (int k = 0; k < t->nkeys; k++)
            twice |= strcmp(t->key_names[k], name) == 0;
        if (twice) {
            mq_diag_add(d, "%s:%d: column \"%s\" appears twice", disp, r->record_lines[0], name);
            free(valcol);
            return false;
        }
        valcol[v] = c;
        t->value_names[v++] = strdup(name);
    }
    bool ok = true;
    for (int i = 0; i < t->nrows; i++) {
        char **rec = r->records[i + 1];
        int line = r->record_lines[i + 1];
        t->row_lines[i] = line;
        if (count_fields(rec) != ncols) {
            mq_diag_add(d, "%s:%d: %d fields, the header has %d", disp, line, count_fields(rec),
                        ncols);
            ok = false;
            continue;
        }
        for (int k = 0; k < t->nkeys; k++) {
            mq_cell *c = &t->cells[i * t->nkeys + k];
            char *s = trim(rec[keycol[k]]);
            if (!parse_cell(s, c)) {
                char lower[64], plain[64];
                bool hint = lowercase_cell(s, lower, sizeof lower);
                bool dash = !hint && plain_band(s, plain, sizeof plain);
                /* spreadsheets write TRUE and FALSE, and 21–24 with an en dash */
                mq_diag_add(d, "%s:%d: key \"%s\" is not a value, band or *: \"%s\"%s%s%s", disp,
                            line, keys[k], s,
                            hint   ? " (symbols are lowercase: \""
                            : dash ? " (a band is written with a plain hyphen and no spaces: \""
                                   : "",
                            hint   ? lower
                            : dash ? plain
                                   : "",
                            hint || dash ? "\")" : "");
                ok = false;
            } else if (c->kind == CELL_SYMBOL) {
                c->symbol = strdup(s);
            }
        }
        for (int v = 0; v < t->nvalues; v++) {
            char *s = trim(rec[valcol[v]]);
            double *out = &t->values[i * t->nvalues + v];
            if (!*s || strcmp(s, "-") == 0) {
                *out = NAN;
            } else if (!parse_number(s, out)) {
                mq_diag_add(d, "%s:%d: %s is not a number: \"%s\"", disp, line, t->value_names[v],
                            s);
                ok = false;
            }
        }
    }
    free(valcol);
    return ok;
}

mq_table *mq_table_read(const char *path, const char *display, const char *ref, const char *name,
                        const char *const *keys, int nkeys, mq_diags *d)
{
    if (nkeys < 1 || nkeys > 8) {
        mq_diag_add(d, "%s: a table needs 1 to 8 key columns", display);
        return NULL;
    }
    csv_reader r = {.display = display, .d = d};
    mq_table *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->name = strdup(name);
    t->file = strdup(display);
    t->nkeys = nkeys;
    bool ok = read_csv(path, ref, &r) && fill_table(t, &r, keys, d);
    reader_free(&r);
    if (!ok) {
        mq_table_free(t);
        return NULL;
    }
    return t;
}

/* ---- Binding keys to the lookups' types ------------------------------ */

/* What a cell of column k can be matched by: a number, a boolean or a
 * symbol; a default (*) fits every type. */
static bool cell_fits(const mq_cell *c, mq_type type)
{
    switch (c->kind) {
    case CELL_ANY:
        return true;
    case CELL_SYMBOL:
        return type == MQ_T_ENUM;
    case CELL_EXACT:
        return c->boolean ? type == MQ_T_BOOL : type == MQ_T_NUMBER;
    case CELL_BAND:
        return type == MQ_T_NUMBER;
    }
    return false;
}

static const char *type_phrase(mq_type type)
{
    return type == MQ_T_BOOL   ? "a boolean"
           : type == MQ_T_DATE ? "a date"
           : type == MQ_T_ENUM ? "a name (an enum value)"
                               : "a number";
}

/* "numbers (16-75+)", "true/false", "names (married, single)": what column
 * k holds, for a message about a key that fits none of it. */
static void describe_column(const mq_table *t, int k, char *out, size_t len)
{
    double lo = INFINITY, hi = -INFINITY;
    bool open_top = false, numbers = false, booleans = false;
    const char *symbol = NULL;
    for (int i = 0; i < t->nrows; i++) {
        const mq_cell *c = &t->cells[i * t->nkeys + k];
        if (c->kind == CELL_SYMBOL && !symbol)
            symbol = c->symbol;
        booleans |= c->kind == CELL_EXACT && c->boolean;
        if (c->kind == CELL_BAND || (c->kind == CELL_EXACT && !c->boolean)) {
            numbers = true;
            lo = fmin(lo, isfinite(c->lo) ? c->lo : c->hi);
            hi = fmax(hi, isfinite(c->hi) ? c->hi : c->lo);
            open_top |= !isfinite(c->hi);
        }
    }
    if (numbers)
        snprintf(out, len, "numbers (%g-%g%s)", lo, hi, open_top ? "+" : "");
    else if (booleans)
        snprintf(out, len, "booleans (true, false)");
    else if (symbol)
        snprintf(out, len, "names (such as %s)", symbol);
    else
        snprintf(out, len, "only * (any value)");
}

/* Resolves the symbols of an enum key column to codes of `dom`; each one
 * that is not a value of the domain is an error at its CSV line. */
static bool bind_symbols(mq_table *t, int k, mq_domain dom, mq_diags *d)
{
    bool ok = true;
    for (int i = 0; i < t->nrows; i++) {
        mq_cell *c = &t->cells[i * t->nkeys + k];
        if (c->kind != CELL_SYMBOL)
            continue;
        int code = mq_symbol_find(dom, c->symbol);
        if (code < 0) {
            mq_diag_add(d, "%s:%d: \"%s\" is not a possible value of key %s", t->file,
                        t->row_lines[i], c->symbol, t->key_names[k]);
            ok = false;
        }
        c->lo = c->hi = code;
    }
    return ok;
}

/* A cell as a table writes it, for messages. */
static void cell_text(const mq_cell *c, char *out, size_t len)
{
    if (c->kind == CELL_SYMBOL)
        snprintf(out, len, "%s", c->symbol);
    else if (c->kind == CELL_EXACT && c->boolean)
        snprintf(out, len, "%s", c->lo ? "true" : "false");
    else if (c->kind == CELL_EXACT)
        snprintf(out, len, "%g", c->lo);
    else if (c->kind == CELL_ANY)
        snprintf(out, len, "*");
    else if (!isfinite(c->hi))
        snprintf(out, len, "%s%g%s", c->lo_open ? ">" : "", c->lo, c->lo_open ? "" : "+");
    else if (!isfinite(c->lo))
        snprintf(out, len, "<%s%g", c->hi_open ? "" : "=", c->hi);
    else
        snprintf(out, len, "%g-%g", c->lo, c->hi);
}

/* Reports each cell of column k that the key's type cannot match (a "yes"
 * among true and false, a symbol among numbers) at its CSV line. */
static bool check_cells(const mq_table *t, int k, mq_type type, mq_diags *d)
{
    static const char *const expects[] = {
        [MQ_T_NUMBER] = "a number, a band such as 16-17 or 75+, or *",
        [MQ_T_BOOL] = "true, false or *",
        [MQ_T_ENUM] = "a name or *",
    };
    bool ok = true;
    for (int i = 0; i < t->nrows; i++) {
        const mq_cell *c = &t->cells[i * t->nkeys + k];
        if (cell_fits(c, type))
            continue;
        char text[64];
        cell_text(c, text, sizeof text);
        mq_diag_add(d, "%s:%d: key %s takes %s, not \"%s\"", t->file, t->row_lines[i],
                    t->key_names[k], type <= MQ_T_ENUM && expects[type] ? expects[type] : "*",
                    text);
        ok = false;
    }
    return ok;
}

static bool bind_cells(mq_table *t, int k, mq_type type, mq_domain dom, mq_diags *d);

bool mq_table_bind_key(mq_table *t, int k, mq_type type, mq_domain dom, mq_diags *d, char *why,
                       size_t whylen)
{
    why[0] = '\0';
    if (type != MQ_T_ENUM)
        dom = MQ_DOM_NONE;
    if (!t->maps) {
        t->maps = calloc((size_t)t->nkeys, sizeof(mq_keymap));
        if (!t->maps) {
            snprintf(why, whylen, "out of memory");
            return false;
        }
    }
    mq_keymap *m = &t->maps[k];
    if (t->bound_keys & (1u << k)) {
        if (m->type == type && m->domain == dom)
            return true;
        snprintf(why, whylen, "table %s key %s is looked up with two different kinds of value",
                 t->name, t->key_names[k]);
        return false;
    }
    int fitting = 0, specific = 0;
    for (int i = 0; i < t->nrows; i++) {
        const mq_cell *c = &t->cells[i * t->nkeys + k];
        specific += c->kind != CELL_ANY;
        fitting += c->kind != CELL_ANY && cell_fits(c, type);
    }
    if (type == MQ_T_DATE) {
        t->misfit_keys |= 1u << k;
        snprintf(why, whylen,
                 "is %s: no table is keyed by dates (look up year(), age() or months_between() "
                 "of it)",
                 type_phrase(type));
        return false;
    }
    if (specific > 0 && fitting == 0) {
        char holds[128];
        describe_column(t, k, holds, sizeof holds);
        t->misfit_keys |= 1u << k;
        snprintf(why, whylen, "is %s but column %s of %s holds %s", type_phrase(type),
                 t->key_names[k], base_name(t->file), holds);
        return false;
    }
    return bind_cells(t, k, type, dom, d);
}

/* Binds column k to the type (and domain) it is looked up with: checks
 * every cell against it and resolves symbols. */
static bool bind_cells(mq_table *t, int k, mq_type type, mq_domain dom, mq_diags *d)
{
    t->bound_keys |= 1u << k;
    t->maps[k].type = type;
    t->maps[k].domain = dom;
    bool ok = check_cells(t, k, type, d);
    if (type == MQ_T_ENUM)
        ok &= bind_symbols(t, k, dom, d);
    /* The key stays bound, and mq_table_compile may still run: a cell in
     * error must not index the matrix (a symbol code of -1, or a number
     * read as a code). The plan fails to load on the errors above. */
    for (int i = 0; !ok && i < t->nrows; i++) {
        mq_cell *c = &t->cells[i * t->nkeys + k];
        if (!cell_fits(c, type) || (c->kind == CELL_SYMBOL && c->lo < 0)) {
            c->kind = CELL_ANY;
            c->invalid = true;
        }
    }
    return ok;
}

/* The type a key no lookup has bound is read as: booleans when its cells
 * are true and false, else numbers. */
static mq_type unbound_type(const mq_table *t, int k)
{
    for (int i = 0; i < t->nrows; i++)
        if (t->cells[i * t->nkeys + k].boolean)
            return MQ_T_BOOL;
    return MQ_T_NUMBER;
}

/* ---- Compiling ------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Index of v in the sorted bounds (v is always one of them). */
static int bound_index(const mq_keymap *m, double v)
{
    int lo = 0, hi = m->nbounds - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (m->bounds[mid] < v)
            lo = mid + 1;
        else if (m->bounds[mid] > v)
            hi = mid - 1;
        else
            return mid;
    }
    return -1;
}

int32_t mq_keymap_search(const mq_keymap *m, double x)
{
    int lo = 0, hi = m->nbounds; /* count of bounds < x */
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (m->bounds[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < m->nbounds && m->bounds[lo] == x)
        return 2 * lo + 1;
    return 2 * lo;
}

/* The largest step every integral bound lies on from the first (their
 * differences' gcd; 1 for a single bound): limits of 25000, 50000, 100000
 * and 300000 are 12 steps of 25000, not 275001 integers. */
static int64_t grid_step(const mq_keymap *m)
{
    int64_t g = 0;
    for (int i = 1; i < m->nbounds; i++) {
        int64_t a = (int64_t)(m->bounds[i] - m->bounds[0]), b = g;
        while (b) {
            int64_t r = a % b;
            a = b;
            b = r;
        }
        g = a;
    }
    return g > 0 ? g : 1;
}

static bool build_keymap(mq_table *t, int k)
{
    mq_keymap *m = &t->maps[k];
    if (m->domain != MQ_DOM_NONE) {
        m->how = MAP_ENUM;
        m->nsegs = mq_symbol_count(m->domain);
        return true;
    }
    m->how = MAP_SEARCH;
    m->bounds = malloc((size_t)(2 * t->nrows + 1) * sizeof(double));
    if (!m->bounds)
        return false;
    int n = 0;
    for (int i = 0; i < t->nrows; i++) {
        const mq_cell *c = &t->cells[i * t->nkeys + k];
        if (c->kind == CELL_ANY)
            continue;
        if (isfinite(c->lo))
            m->bounds[n++] = c->lo;
        if (isfinite(c->hi))
            m->bounds[n++] = c->hi;
    }
    qsort(m->bounds, (size_t)n, sizeof(double), cmp_double);
    int u = 0;
    for (int i = 0; i < n; i++)
        if (u == 0 || m->bounds[u - 1] != m->bounds[i])
            m->bounds[u++] = m->bounds[i];
    m->nbounds = u;
    m->nsegs = 2 * u + 1;
    bool integral = u > 0;
    for (int i = 0; i < u; i++)
        integral &= m->bounds[i] == floor(m->bounds[i]) && fabs(m->bounds[i]) < 1e9;
    int64_t step = integral ? grid_step(m) : 0;
    if (integral && (int64_t)(m->bounds[u - 1] - m->bounds[0]) / step < DENSE_MAX) {
        m->dense_lo = m->bounds[0];
        m->dense_hi = m->bounds[u - 1];
        m->dense_step = (double)step;
        m->ndense = (int32_t)((int64_t)(m->bounds[u - 1] - m->bounds[0]) / step) + 1;
        m->dense = malloc((size_t)m->ndense * sizeof(int32_t));
        if (!m->dense)
            return false;
        for (int32_t i = 0; i < m->ndense; i++)
            m->dense[i] = mq_keymap_search(m, m->dense_lo + i * m->dense_step);
        m->how = step == 1 ? MAP_UNIT_GRID : MAP_GRID;
    }
    return true;
}

/* The segments a cell matches: always one contiguous range. */
static void cell_range(const mq_keymap *m, const mq_cell *c, int *first, int *last)
{
    switch (c->kind) {
    case CELL_ANY:
        *first = 0, *last = m->nsegs - 1;
        return;
    case CELL_SYMBOL:
        *first = *last = (int)c->lo;
        return;
    case CELL_EXACT:
        if (m->domain != MQ_DOM_NONE) {
            *first = *last = (int)c->lo;
            return;
        }
        *first = *last = 2 * bound_index(m, c->lo) + 1;
        return;
    case CELL_BAND:
        *first = isfinite(c->lo) ? 2 * bound_index(m, c->lo) + (c->lo_open ? 2 : 1) : 0;
        *last = isfinite(c->hi) ? 2 * bound_index(m, c->hi) + (c->hi_open ? 0 : 1) : m->nsegs - 1;
        return;
    }
}

static int specificity(const mq_cell *c)
{
    return c->kind == CELL_ANY ? 0 : c->kind == CELL_BAND ? 1 : 2;
}

/* >0 when row a is more specific than row b, key by key from the first. */
static int compare_rows(const mq_table *t, int a, int b)
{
    for (int k = 0; k < t->nkeys; k++) {
        int sa = specificity(&t->cells[a * t->nkeys + k]);
        int sb = specificity(&t->cells[b * t->nkeys + k]);
        if (sa != sb)
            return sa - sb;
    }
    return 0;
}

static bool build_interpolation(mq_table *t);

typedef struct fill_state {
    mq_table *t;
    int32_t *owner;
    int row;
    int first[8], last[8];
    mq_diags *d;
    bool reported;
} fill_state;

/* Whether a key cell of row r was reported as not fitting its key. */
static bool row_invalid(const mq_table *t, int r)
{
    for (int k = 0; k < t->nkeys; k++)
        if (t->cells[r * t->nkeys + k].invalid)
            return true;
    return false;
}

static bool fill_cells(fill_state *s, int k, int64_t base)
{
    mq_table *t = s->t;
    if (k == t->nkeys) {
        int32_t prev = s->owner[base];
        if (prev < 0) {
            s->owner[base] = s->row;
            return true;
        }
        int c = compare_rows(t, s->row, prev);
        if (c > 0)
            s->owner[base] = s->row;
        /* a cell already reported as not fitting its key was made "*":
         * it overlaps a real "*" row, which is no second problem */
        if (c == 0 && (row_invalid(t, s->row) || row_invalid(t, prev)))
            return true;
        if (c == 0 && !s->reported) {
            mq_diag_add(s->d,
                        "%s:%d: row overlaps the row at line %d (same keys or overlapping bands)",
                        t->file, t->row_lines[s->row], t->row_lines[prev]);
            s->reported = true;
        }
        return c != 0;
    }
    bool ok = true;
    for (int seg = s->first[k]; seg <= s->last[k]; seg++)
        ok &= fill_cells(s, k + 1, base + (int64_t)seg * t->maps[k].stride);
    return ok;
}

bool mq_table_compile(mq_table *t, mq_diags *d)
{
    if (t->compiled)
        return true;
    if (!t->maps) {
        t->maps = calloc((size_t)t->nkeys, sizeof(mq_keymap));
        if (!t->maps)
            return false;
    }
    for (int k = 0; k < t->nkeys; k++) {
        if (t->bound_keys & (1u << k))
            continue;
        /* a lookup's keys in the wrong order, reported at the lookup: its
         * cells checked as numbers now would be one error a row more */
        if (t->misfit_keys & (1u << k))
            return false;
        if (!bind_cells(t, k, unbound_type(t, k), MQ_DOM_NONE, d))
            return false;
    }
    int64_t cells = 1;
    for (int k = t->nkeys - 1; k >= 0; k--) {
        if (!build_keymap(t, k))
            return false;
        t->maps[k].stride = (int32_t)cells;
        cells *= t->maps[k].nsegs;
        if (cells > TABLE_MAX_CELLS) {
            mq_diag_add(d, "%s: too many key combinations to compile (over %d); split the table",
                        t->file, TABLE_MAX_CELLS);
            return false;
        }
    }
    t->ncells = cells;
    int32_t *owner = malloc((size_t)cells * sizeof(int32_t));
    /* one more row, all missing, for keys that match no row (mq_table_row) */
    t->matrix = malloc((size_t)(cells + 1) * (size_t)t->nvalues * sizeof(double));
    if (!owner || !t->matrix) {
        free(owner);
        return false;
    }
    for (int64_t i = 0; i < cells; i++)
        owner[i] = -1;
    fill_state s = {.t = t, .owner = owner, .d = d};
    bool ok = true;
    for (int r = 0; r < t->nrows; r++) {
        s.row = r;
        s.reported = false;
        for (int k = 0; k < t->nkeys; k++)
            cell_range(&t->maps[k], &t->cells[r * t->nkeys + k], &s.first[k], &s.last[k]);
        ok &= fill_cells(&s, 0, 0);
    }
    for (int64_t i = 0; i < cells; i++)
        for (int v = 0; v < t->nvalues; v++)
            t->matrix[i * t->nvalues + v] =
                owner[i] < 0 ? NAN : t->values[(int64_t)owner[i] * t->nvalues + v];
    for (int v = 0; v < t->nvalues; v++)
        t->matrix[cells * t->nvalues + v] = NAN;
    free(owner);
    t->compiled = ok && build_interpolation(t);
    return t->compiled;
}

/* Points for interpolation: rows keyed by one exact number each, sorted. */
static bool build_interpolation(mq_table *t)
{
    if (t->nkeys != 1 || t->maps[0].domain != MQ_DOM_NONE || t->nrows < 2)
        return true;
    for (int r = 0; r < t->nrows; r++)
        if (t->cells[r].kind != CELL_EXACT)
            return true;
    t->interp_x = malloc(sizeof(double) * (size_t)t->nrows);
    if (!t->interp_x)
        return false;
    for (int r = 0; r < t->nrows; r++)
        t->interp_x[r] = t->cells[r].lo;
    qsort(t->interp_x, (size_t)t->nrows, sizeof(double), cmp_double);
    t->ninterp = t->nrows;
    return true;
}

double mq_table_interpolate(const mq_table *t, double x, int col)
{
    int n = t->ninterp;
    if (!n || isnan(x) || x < t->interp_x[0] || x > t->interp_x[n - 1])
        return NAN;
    int hi = 1;
    while (hi < n - 1 && t->interp_x[hi] < x)
        hi++;
    double x0 = t->interp_x[hi - 1], x1 = t->interp_x[hi];
    double y0 = mq_table_lookup(t, &x0, col), y1 = mq_table_lookup(t, &x1, col);
    if (x == x1)
        return y1;
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0);
}

int mq_table_value_index(const mq_table *t, const char *name)
{
    for (int v = 0; v < t->nvalues; v++)
        if (strcmp(t->value_names[v], name) == 0)
            return v;
    return -1;
}

double mq_table_lookup(const mq_table *t, const double *keys, int col)
{
    return mq_table_row(t, keys)[col];
}

void mq_table_free(mq_table *t)
{
    if (!t)
        return;
    for (int k = 0; k < t->nkeys && t->key_names; k++)
        free(t->key_names[k]);
    for (int v = 0; v < t->nvalues && t->value_names; v++)
        free(t->value_names[v]);
    for (int i = 0; t->cells && i < t->nrows * t->nkeys; i++)
        free((char *)t->cells[i].symbol);
    if (t->maps)
        for (int k = 0; k < t->nkeys; k++) {
            free(t->maps[k].bounds);
            free(t->maps[k].dense);
        }
    free(t->maps);
    free(t->key_names);
    free(t->value_names);
    free(t->cells);
    free(t->values);
    free(t->row_lines);
    free(t->matrix);
    free(t->interp_x);
    free(t->name);
    free(t->file);
    free(t->miss_text);
    free(t);
}

/* ---- Holes (multiquote check) ------------------------------------------
 * A value a lookup can give that no row matches is an error for the
 * shopper who has it when the table has no missing:. The values that tell
 * rows apart are probed: both booleans, every value of an enum, and every
 * band end of a number key, plus a whole number between two band ends where
 * one can fall (21 between 16-20 and 22-25; 4 among symbols 1, 2, 3 and 5).
 * Between exact values (limits of 25000 and 50000) nothing is probed: an
 * amount not listed is not offered; nor below the first end or above the
 * last (an age under 16). Tables of one key only: the combinations of two
 * (a BI per-person limit with each per-accident one) are not all offered. */

/* Whether some band cell of key k has `v` as its (closed) high end, or
 * (high false) its low end. */
static bool band_end(const mq_table *t, int k, double v, bool high)
{
    for (int i = 0; i < t->nrows; i++) {
        const mq_cell *c = &t->cells[i * t->nkeys + k];
        if (c->kind == CELL_BAND && (high ? c->hi == v : c->lo == v))
            return true;
    }
    return false;
}

/* The probes of key k (at most max) in out; how many. */
static int key_probes(const mq_table *t, int k, bool all_symbols, double *out, int max)
{
    const mq_keymap *m = &t->maps[k];
    int n = 0;
    if (m->type == MQ_T_BOOL) {
        out[n++] = 0;
        out[n++] = 1;
    } else if (m->domain != MQ_DOM_NONE) {
        for (int s = 0; s < mq_symbol_count(m->domain) && n < max; s++) {
            bool named = all_symbols;
            for (int i = 0; !named && i < t->nrows; i++)
                named = t->cells[i * t->nkeys + k].kind == CELL_SYMBOL &&
                        t->cells[i * t->nkeys + k].lo == s;
            if (named)
                out[n++] = s;
        }
    } else {
        bool unit = m->how == MAP_UNIT_GRID;
        for (int i = 0; i < m->nbounds && n < max; i++) {
            double a = i ? m->bounds[i - 1] : NAN, b = m->bounds[i], between = floor(a) + 1;
            if (i && between < b && n < max &&
                (unit || (band_end(t, k, a, true) && band_end(t, k, b, false))))
                out[n++] = between;
            if (n < max)
                out[n++] = b;
        }
    }
    return n;
}

int mq_table_holes(const mq_table *t, bool all_symbols, double *example)
{
    if (!t->compiled || t->nkeys != 1)
        return 0;
    int max = 2 * t->nrows + 64, holes = 0;
    double *probes = malloc(sizeof(double) * (size_t)max);
    int n = probes ? key_probes(t, 0, all_symbols, probes, max) : 0;
    for (int i = 0; i < n; i++) {
        const double *row = mq_table_row(t, &probes[i]);
        bool none = true;
        for (int v = 0; v < t->nvalues; v++)
            none &= isnan(row[v]);
        if (none && holes++ == 0)
            *example = probes[i];
    }
    free(probes);
    return holes;
}

int mq_table_hole_line(const mq_table *t, double v)
{
    int line = t->nrows ? t->row_lines[0] : 1;
    double next = INFINITY;
    for (int i = 0; t->nkeys == 1 && i < t->nrows; i++) {
        const mq_cell *c = &t->cells[i];
        bool in = c->kind != CELL_ANY && v >= c->lo && v <= c->hi && !(c->lo_open && v == c->lo) &&
                  !(c->hi_open && v == c->hi);
        if (in && c->kind != CELL_BAND) /* a row of v's own, whose value is empty */
            return t->row_lines[i];
        if (in || (c->kind != CELL_ANY && c->lo > v && c->lo < next))
            next = in ? -INFINITY : c->lo, line = t->row_lines[i];
    }
    return line;
}

bool mq_table_open_value(const mq_table *t, double *example)
{
    const mq_keymap *m = t->compiled && t->nkeys == 1 ? &t->maps[0] : NULL;
    if (!m || m->type != MQ_T_NUMBER || m->domain != MQ_DOM_NONE)
        return false;
    /* a whole number (a symbol is never 2.5) halfway between two rows:
     * beyond the first and last, a field may have bounds of its own (a
     * symbol is 1 to 27) that the table keeps to */
    for (int i = 1; i < m->nbounds; i++) {
        double v = floor((m->bounds[i - 1] + m->bounds[i]) / 2);
        if (!(v > m->bounds[i - 1]))
            continue;
        const double *row = mq_table_row(t, &v);
        bool none = true;
        for (int c = 0; c < t->nvalues; c++)
            none &= isnan(row[c]);
        if (none) {
            *example = v;
            return true;
        }
    }
    return false;
}

/* The distinct values of key k that its rows name (an exact value, a
 * band's low end; not *), at most max, in out; how many. */
static int named_values(const mq_table *t, int k, double *out, int max)
{
    int n = 0;
    for (int i = 0; i < t->nrows && n < max; i++) {
        const mq_cell *c = &t->cells[i * t->nkeys + k];
        double v = c->kind == CELL_ANY                       ? NAN
                   : c->kind == CELL_BAND && isfinite(c->lo) ? c->lo + (c->lo_open ? 1 : 0)
                   : c->kind == CELL_BAND                    ? c->hi - (c->hi_open ? 1 : 0)
                                                             : c->lo;
        bool seen = isnan(v);
        for (int j = 0; !seen && j < n; j++)
            seen = out[j] == v;
        if (!seen)
            out[n++] = v;
    }
    return n;
}

int mq_table_grid_holes(const mq_table *t, double *example, int *combos)
{
    *combos = 0;
    if (!t->compiled || t->nkeys < 2 || t->nkeys > 8)
        return 0;
    double *vals[8] = {0};
    int nvals[8] = {0}, at[8] = {0}, holes = 0;
    int64_t all = 1;
    for (int k = 0; k < t->nkeys; k++) {
        vals[k] = malloc(sizeof(double) * (size_t)t->nrows);
        nvals[k] = vals[k] ? named_values(t, k, vals[k], t->nrows) : 0;
        all *= nvals[k];
    }
    for (int64_t c = 0; all <= 100000 && c < all; c++) {
        double keys[8];
        for (int k = 0; k < t->nkeys; k++)
            keys[k] = vals[k][at[k]];
        const double *row = mq_table_row(t, keys);
        bool none = true;
        for (int v = 0; v < t->nvalues; v++)
            none &= isnan(row[v]);
        if (none && holes++ == 0)
            memcpy(example, keys, sizeof(double) * (size_t)t->nkeys);
        for (int k = t->nkeys - 1; k >= 0 && ++at[k] == nvals[k]; k--)
            at[k] = 0;
    }
    for (int k = 0; k < t->nkeys; k++)
        free(vals[k]);
    *combos = all <= 100000 ? (int)all : 0;
    return *combos ? holes : 0;
}
