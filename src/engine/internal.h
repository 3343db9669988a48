/* internal.h -- the engine's private structures: tables, programs, plans.
 *
 * Only the engine's own .c files include this. A loaded plan is a tree of these
 * structures, built once by plan.c and never modified afterwards, so any
 * number of threads may rate against it at once.
 */
#ifndef MQ_ENGINE_INTERNAL_H
#define MQ_ENGINE_INTERNAL_H

#include "engine.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

/* ---- Arena (arena.c): for memory the caller fills at once ------------- */

/* mq_arena_alloc without the zeroing, for arrays written before use. */
void *mq_arena_alloc_uninit(mq_arena *a, size_t size);
/* mq_arena_printf with a va_list. */
char *mq_arena_vprintf(mq_arena *a, const char *fmt, va_list ap);

/* ---- Diagnostics (plan.c) ------------------------------------------- */

void mq_diag_add(mq_diags *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- Dates (date.c): the parts of a day, for work done once per rating -- */

typedef struct mq_ymd {
    int y, m, d;
} mq_ymd;

mq_ymd mq_date_ymd(int32_t days);
int mq_ymd_age(mq_ymd birth, mq_ymd on);           /* as mq_date_age */
int mq_ymd_months_between(mq_ymd from, mq_ymd to); /* as mq_date_months_between, from <= to */
int32_t mq_ymd_add_months(mq_ymd day, int months); /* as mq_date_add_months */

/* ---- Tables (table.c) ----------------------------------------------- */

/* One key cell as written in the CSV. */
typedef enum { CELL_ANY, CELL_EXACT, CELL_BAND, CELL_SYMBOL } mq_cell_kind;

typedef struct mq_cell {
    mq_cell_kind kind;
    double lo, hi; /* band bounds; lo == hi for exact */
    bool lo_open, hi_open;
    bool boolean;       /* CELL_EXACT written true or false */
    const char *symbol; /* CELL_SYMBOL: the text, resolved when the table is bound */
    bool invalid;       /* reported as not fitting its key: made CELL_ANY, not a real "*" */
} mq_cell;

/* How a key column finds a value's segment, settled when it is compiled. */
typedef enum {
    MAP_ENUM,      /* a symbol code is its own segment */
    MAP_UNIT_GRID, /* the direct index below, grid step 1 */
    MAP_GRID,      /* the direct index below, a coarser grid */
    MAP_SEARCH     /* a binary search of the bounds */
} mq_map_how;

/* How one key column turns a value into a segment index (see table.c). */
typedef struct mq_keymap {
    mq_type type;     /* what the lookups give: a number, a boolean or an enum */
    mq_domain domain; /* MQ_DOM_NONE unless an enum */
    mq_map_how how;
    int nbounds;
    double *bounds; /* sorted distinct band ends; segments are 2*nbounds+1 */
    int nsegs;
    /* a direct index when the bounds are integers on a grid of step
     * dense_step (their gcd) spanning fewer than 65536 steps: dense[j] is
     * the segment of dense_lo + j * dense_step, and a value between two grid
     * points is in the open segment after the lower one */
    double dense_lo, dense_hi, dense_step;
    int32_t ndense;
    int32_t *dense;
    int32_t stride; /* in matrix cells */
} mq_keymap;

typedef enum { MISS_ERROR, MISS_UNAVAILABLE, MISS_DECLINE } mq_miss_action;

typedef struct mq_table {
    char *name, *file;
    int decl_line; /* line in plan.yaml */
    int nkeys, nvalues;
    char **key_names, **value_names;
    /* raw rows, kept until bound/compiled */
    int nrows;
    mq_cell *cells; /* nrows * nkeys */
    double *values; /* nrows * nvalues; NaN = no value */
    int *row_lines;
    unsigned bound_keys;  /* bit per key whose domain is fixed */
    unsigned misfit_keys; /* bit per key a lookup gave a value its column cannot hold */
    bool compiled;
    /* compiled */
    double *interp_x; /* sorted points when the table has one exact numeric key */
    int ninterp;
    mq_keymap *maps; /* nkeys */
    double *matrix;  /* (ncells + 1) * nvalues: the last row is all NaN (no row) */
    int64_t ncells;
    mq_miss_action miss;
    char *miss_text;
} mq_table;

/* `multiquote check`: errors for health plan p when an adult's premium
 * varies by age more than 3:1 or by tobacco use more than 1.5:1 (the ACA's
 * rating limits; health_limits.c). */
void mq_lint_health_limits(const mq_plan *p, mq_diags *errors);

/* How many values of its key compiled one-key table t has no row (nor
 * any value) for, the first in *example (table.c says which are probed;
 * an enum's every value with all_symbols, else those its rows name). For
 * `multiquote check` (mq_engine_lint). */
int mq_table_holes(const mq_table *t, bool all_symbols, double *example);
/* How many combinations of the values its rows name for each key (an age
 * band, true, false: 16-17 x {true, false}, ...) compiled table t of two
 * or more keys has no row (nor any value) for, the first in example[];
 * how many combinations there are in *combos (0 when over 100000). */
int mq_table_grid_holes(const mq_table *t, double *example, int *combos);
/* The line of the row of one-key table t that matches value v (its value
 * is empty), else of the row after v (a hole at v is before it), else its
 * first row's. */
int mq_table_hole_line(const mq_table *t, double v);
/* Whether a whole number between two rows of one-key table t has no row
 * (nor any value), *example being the first such halfway one: any
 * value of a request field (a limit the shopper chooses) may come, and a
 * value not listed gets a table without missing: an error. */
bool mq_table_open_value(const mq_table *t, double *example);

/* The most bytes a CSV table file may have (docs/plan-format.md). */
enum { MQ_TABLE_MAX_FILE = 16 * 1024 * 1024 };

/* The text of the regular file at `path`, NUL-terminated, its length in
 * *len; NULL with "display: why" in err when it cannot be opened, is not a
 * regular file (a FIFO would block, a device never end) or is over `max`
 * bytes, which its size says before anything is read. */
char *mq_read_file(const char *path, const char *display, size_t max, size_t *len, char *err,
                   size_t errlen);

/* Reads a CSV table. Returns NULL with diagnostics naming file:line; a
 * file that cannot be read at all is reported at `ref` (the plan.yaml line
 * that names it, "plan.yaml:27: table territory_factor"), when not NULL. */
mq_table *mq_table_read(const char *path, const char *display, const char *ref, const char *name,
                        const char *const *keys, int nkeys, mq_diags *d);
/* Fixes the type (and for an enum, the domain) key column `k` is looked up
 * with, before compiling (rules in docs/plan-format.md section 6). False
 * when it does not fit: with why set ("is a boolean but column age of
 * t.csv holds numbers (16-99)", for the caller to report at the lookup)
 * when the column as a whole does not, else with each cell that does not
 * fit added to d at its CSV line. */
bool mq_table_bind_key(mq_table *t, int k, mq_type type, mq_domain dom, mq_diags *d, char *why,
                       size_t whylen);
/* Builds the lookup matrix; reports overlapping rows. */
bool mq_table_compile(mq_table *t, mq_diags *d);
int mq_table_value_index(const mq_table *t, const char *name);
/* The value for these keys and value column, or NaN when no row/no value. */
double mq_table_lookup(const mq_table *t, const double *keys, int col);
/* The segment of x among key column m's bounds, by binary search (x is
 * not NaN). */
int32_t mq_keymap_search(const mq_keymap *m, double x);

/* mq_table_row is inline here, so a rating's table steps index the matrix
 * without two calls per lookup; mq_table_lookup (OP_LOOKUP) stays a call,
 * as inlined in the interpreter it made every program dearer. */

/* mq_keymap_search through the grid index (see mq_keymap); x is not NaN. */
static inline int32_t mq_keymap_grid(const mq_keymap *m, double x)
{
    if (x < m->dense_lo)
        return 0; /* below every bound */
    if (x > m->dense_hi)
        return 2 * m->nbounds; /* above every bound */
    double step = m->dense_step;
    int32_t j = (int32_t)((x - m->dense_lo) / step);
    double at = m->dense_lo + j * step;
    if (at > x) /* the division rounded up */
        at = m->dense_lo + --j * step;
    else if (j + 1 < m->ndense && at + step <= x) /* ... or down */
        at = m->dense_lo + ++j * step;
    int32_t seg = m->dense[j];
    return at == x || !(seg & 1) ? seg : seg + 1;
}

/* The same on a grid of step 1, where x - dense_lo is exact. */
static inline int32_t mq_keymap_unit_grid(const mq_keymap *m, double x)
{
    if (x < m->dense_lo)
        return 0;
    if (x > m->dense_hi)
        return 2 * m->nbounds;
    int32_t j = (int32_t)(x - m->dense_lo);
    int32_t seg = m->dense[j];
    return m->dense_lo + j == x || !(seg & 1) ? seg : seg + 1;
}

/* The segment of x in key column m, or -1 (missing, or not a symbol).
 * Always inline: GCC left it a call per key in step_row. */
__attribute__((always_inline)) static inline int32_t mq_keymap_segment(const mq_keymap *m, double x)
{
    if (m->how == MAP_ENUM) {
        if (!(x >= 0 && x < m->nsegs)) /* NaN too */
            return -1;
        int32_t code = (int32_t)x;
        return x == code ? code : -1;
    }
    if (isnan(x))
        return -1;
    switch (m->how) {
    case MAP_UNIT_GRID:
        return mq_keymap_unit_grid(m, x);
    case MAP_GRID:
        return mq_keymap_grid(m, x);
    default:
        return mq_keymap_search(m, x);
    }
}

/* The matrix cell for these keys (value = matrix[cell * nvalues + col]), or -1. */
static inline int64_t mq_table_cell(const mq_table *t, const double *keys)
{
    if (t->nkeys == 1) /* the last key's stride is 1 */
        return mq_keymap_segment(&t->maps[0], keys[0]);
    int64_t cell = 0;
    for (int k = 0; k < t->nkeys; k++) {
        int32_t seg = mq_keymap_segment(&t->maps[k], keys[k]);
        if (seg < 0)
            return -1;
        cell += (int64_t)seg * t->maps[k].stride;
    }
    return cell;
}

/* The values for these keys (index by column): a row of the matrix, or the
 * row of NaN that follows it when no row matches. */
static inline const double *mq_table_row(const mq_table *t, const double *keys)
{
    int64_t cell = mq_table_cell(t, keys);
    return t->matrix + (cell < 0 ? t->ncells : cell) * t->nvalues;
}
/* Linear interpolation of value column `col` between the table's points;
 * NaN outside them or when the table is not a list of numeric points. */
double mq_table_interpolate(const mq_table *t, double x, int col);
void mq_table_free(mq_table *t);

/* ---- Programs (expr.c compiles, vm.c runs) -------------------------- */

/* Instruction set. Each instruction is {op, a, b}; the stack holds doubles.
 * Missing values are NaN; truth is "not 0 and not NaN". */
typedef enum {
    OP_CONST, /* push k[b] */
    OP_FIELD, /* push input field b of the current entity of kind a */
    OP_VAR,   /* push derived variable b of the current entity of kind a */
    OP_NEG,   /* x -> -x */
    OP_NOT,   /* x -> !truth(x) */
    OP_ADD,   /* a b -> a+b; likewise SUB MUL DIV */
    OP_SUB,
    OP_MUL,
    OP_DIV,
    OP_LT, /* a b -> a<b (0 when either is missing); likewise LE GT GE EQ NE */
    OP_LE,
    OP_GT,
    OP_GE,
    OP_EQ,
    OP_NE,
    OP_TRUTH,      /* x -> truth(x) as 0/1 */
    OP_AND,        /* if !truth(top): top = 0, jump to b; else pop */
    OP_OR,         /* if truth(top): top = 1, jump to b; else pop */
    OP_JFALSE,     /* pop; jump to b when false */
    OP_JUMP,       /* jump to b */
    OP_CALL,       /* builtin a with b arguments -> result */
    OP_LOOKUP,     /* pop table keys, push value of lookup b (may fail the rating) */
    OP_AGG,        /* run aggregate b, push its result */
    OP_SELF,       /* push field b of the entity of kind a whose variable is being computed */
    OP_INDEX,      /* push the position of the current entity of kind a in its list */
    OP_SELF_INDEX, /* push the position of the entity whose variable is being computed */
    OP_INTERP,     /* pop x, push table b's value interpolated linearly at x */
    OP_END,        /* stop: the result is the top of the stack (mq_prog_finish appends it) */
    /* Only in mq_prog.run, put there by mq_prog_finish for the interpreter:
     * an OP_CALL of a common builtin on its own handler, and a field or
     * variable load with a constant and a comparison fused into one. */
    OP_AGE,    /* CALL age/years_between, 2 arguments */
    OP_WITHIN, /* CALL within_months */
    OP_YEAR,   /* CALL year */
    OP_MAX2,   /* CALL max, 2 arguments; likewise MIN2 */
    OP_MIN2,
    OP_DEFAULT,      /* CALL default */
    OP_FIELD_CMP,    /* FIELD a b; CONST; compare (the next slot holds {compare op, slots, k index};
                      * 4 slots when it takes in an OP_TRUTH after it) */
    OP_VAR_CMP,      /* the same with VAR */
    OP_FIELD_WITHIN, /* FIELD a b; CONST; CALL within_months */
    OP_FIELD_SELF_CMP, /* FIELD a b; SELF; compare (its slot holds {compare op, slots, 0}) */
    OP_LOAD_LOOKUP,    /* FIELD or VAR, LOOKUP of one key: a is the row in mq_cursor.rows */
    OP_FIELD_CMP_AND,  /* FIELD_CMP then the OP_AND in the fourth slot; likewise OR, JFALSE */
    OP_VAR_CMP_AND,    /* VAR_CMP then OP_AND */
    OP_FIELD_CMP_OR,
    OP_VAR_CMP_OR,
    OP_FIELD_CMP_JFALSE,
    OP_VAR_CMP_JFALSE,
    OP_FIELDS_AGE, /* FIELD a b; FIELD; CALL age/years_between */
    OP_RUN_COUNT
} mq_opcode;

typedef enum {
    FN_AGE,
    FN_MONTHS_BETWEEN,
    FN_YEARS_BETWEEN,
    FN_ADD_MONTHS,
    FN_WITHIN_MONTHS,
    FN_YEAR,
    FN_MONTH,
    FN_DAY,
    FN_MIN,
    FN_MAX,
    FN_ABS,
    FN_FLOOR,
    FN_CEIL,
    FN_ROUND,
    FN_HAS,
    FN_DEFAULT,
    FN_AGE_NEAREST
} mq_builtin;

typedef struct mq_ins {
    uint16_t op, a;
    int32_t b;
} mq_ins;

typedef struct mq_prog mq_prog;

typedef struct mq_lookup {
    const mq_table *table;
    int column;
} mq_lookup;

typedef enum { AGG_COUNT, AGG_SUM, AGG_MAX, AGG_MIN, AGG_ANY, AGG_ALL } mq_agg_kind;

typedef struct mq_agg {
    mq_agg_kind kind;
    mq_entity_kind over;
    bool children_of_current; /* driver.incidents: only the current parent's */
    mq_prog *cond;            /* NULL: every element */
    mq_prog *value;           /* NULL for count/any/all */
    /* settled by mq_prog_finish: the value before any element (1 for all,
     * NaN for max and min, else 0), and whether nothing runs per element
     * (count, any or all without a condition: how many there are) */
    double start;
    bool sized;
} mq_agg;

/* The shape of a program, settled when it is finished (mq_prog_finish):
 * the three simplest are run inline by mq_vm_run, the next ones by
 * mq_vm_eval without the interpreter (whose set-up costs more than they
 * do); everything else is FORM_VM and runs the code. */
typedef enum {
    FORM_VM,     /* run the code */
    FORM_CONST,  /* the constant `k0` */
    FORM_LOAD,   /* value `index` of the cursor's row `rows` (a field or a variable) */
    FORM_CMP,    /* that value compared (`cmp`) with k0 */
    FORM_AGG,    /* one aggregate, aggs[0] (`count(vehicles)`, `sum(driver.incidents of ...)`) */
    FORM_LOOKUP, /* lookups[0] keyed by that value (`territory[vehicle.garaging_zip]`) */
    FORM_WITHIN, /* within_months(that value, k0) */
    FORM_AGE,    /* age(that value, value `index2` of row `rows2`) */
    FORM_ALL,    /* 1 when each of `tests` holds, else 0 (`a < 25 and b >= 3.0`) */
    FORM_ANY     /* 1 when one of `tests` holds, else 0 (`s == "married" or s == "civil_union"`) */
} mq_form;

/* A load compared with a constant, one of a FORM_ALL or FORM_ANY. */
typedef struct mq_test {
    uint16_t rows; /* as mq_prog.rows, index, cmp and k0 */
    uint8_t cmp;
    int32_t index;
    double k;
} mq_test;

struct mq_prog {
    mq_ins *code; /* as compiled, which the analyses (reads.c, expr.c) read */
    int ncode;
    /* the code as mq_vm_eval runs it: the same length, so the same jump
     * targets, with the run-only opcodes in place of their sequences */
    mq_ins *run;
    double *k;
    int nk;
    mq_lookup *lookups;
    int nlookups;
    mq_agg *aggs;
    int naggs;
    int max_stack;
    /* the fast path: see mq_form */
    uint8_t form;
    uint8_t cmp;   /* FORM_CMP: the comparison opcode */
    uint16_t rows; /* FORM_LOAD, FORM_CMP ... FORM_AGE: the row in mq_cursor.rows */
    int32_t index;
    double k0;
    uint16_t rows2; /* FORM_AGE: where the second date is */
    int32_t index2;
    mq_test *tests; /* FORM_ALL, FORM_ANY */
    int ntests;
};

/* Where an expression's names resolve: which entity kinds are current. */
typedef struct mq_scope {
    const mq_line_def *line;
    bool bound[MQ_ENT_COUNT];
    mq_entity_kind self_kind; /* a variable of this kind is being defined (policy: none) */
} mq_scope;

/* Marks kind k current, with its parent and the entities it links to
 * (mirrors mq_vm_enter). */
void mq_scope_enter(mq_scope *s, mq_entity_kind k);

/* Variable declarations the compiler resolves names against. */
typedef struct mq_var_decl {
    char *name; /* without the kind prefix */
    mq_entity_kind kind;
    int slot;
    mq_type type;
    int domain;
    int line;
    const char *text;
    mq_prog *prog;
    int state; /* topological sort: 0 new, 1 visiting, 2 done */
    /* computed in one pass over the entities with the variable before it,
     * entity by entity, which gives the same values (plan.c, group_vars) */
    bool with_previous;
    int run_end; /* one past the last variable of the run this one is in */
} mq_var_decl;

/* A lookup of a table, noted as it is compiled for `multiquote check`'s
 * coverage checks (mq_engine_lint), not for rating: the table, the value
 * column it reads, the name its key is when that is a plain field or
 * variable ("vehicle.garaging_zip", "territory": the policy's without
 * "policy."; a table step's keys joined by commas, "bi.per_person,
 * bi.per_accident"; NULL for any other expression) and its plan.yaml line.
 * Lookups in expressions are noted for tables of one key only. */
typedef struct mq_key_use {
    const mq_table *table;
    int column;
    char *name; /* owned */
    int line;
    bool interp; /* interp(TABLE, x): between rows is interpolated */
} mq_key_use;

typedef struct mq_compile_env {
    const mq_line_def *line;
    mq_table **tables;
    int ntables;
    mq_var_decl *vars;
    int nvars;
    const char *file; /* plan.yaml path for messages */
    mq_diags *diags;
    bool dry_run;               /* settling variable types: bind no table keys */
    const char **failed_tables; /* tables whose CSV did not load: no second error */
    int nfailed;
    /* set while compiling a variable: the variables it reads */
    int *deps;
    int ndeps, capdeps;
    /* every lookup of a one-key table compiled (not in a dry run) */
    mq_key_use *uses;
    int nuses, capuses;
} mq_compile_env;

/* Notes a lookup of t (one key) by `name` (NULL: not a plain name) at
 * `line`, interpolated or not, in env->uses; false when memory runs out. */
bool mq_env_note_use(mq_compile_env *env, const mq_table *t, int column, const char *name, int line,
                     bool interp);

/* Compiles `text` (found at file:line:col) in `scope`. Returns NULL with a
 * diagnostic on error. *type_out receives the result type (may be NULL). */
mq_prog *mq_expr_compile(mq_compile_env *env, const mq_scope *scope, const char *text, int line,
                         int col, mq_type *type_out, int *domain_out);
void mq_prog_free(mq_prog *p);
/* True when a and b are the same code over the same constants and tables
 * (programs with aggregates are only the same as themselves). */
bool mq_prog_same(const mq_prog *a, const mq_prog *b);
/* True when p reads only policy data (and, inside its aggregates, the
 * elements they go over and their parents), so it has the same value for
 * every unit of a rating. */
bool mq_prog_policy_only(const mq_prog *p, const mq_line_def *l);
/* True when an aggregate of p loads a variable of kind k (of another entity
 * of that kind, or of one it is linked to). */
bool mq_prog_aggregates_var_of(const mq_prog *p, mq_entity_kind k);
/* True when running p can fail: it looks a table up or interpolates one. */
bool mq_prog_can_fail(const mq_prog *p);

/* Which entity of each kind is current, with its rows located once, so a
 * load is one indexed read (mq_vm_enter keeps the two in step). */
typedef struct mq_cursor {
    int32_t at[MQ_ENT_COUNT];
    /* rows[k]: the input row of entity at[k]; rows[MQ_ENT_COUNT + k]: its
     * derived variables (mq_vm.none when none). One array, so a load of a
     * field or of a variable is the same indexed read (FORM_LOAD) */
    const double *rows[2 * MQ_ENT_COUNT];
} mq_cursor;

/* Where an OP_FIELD or OP_VAR of kind k finds its row in mq_cursor.rows. */
static inline int mq_row_of_field(int k)
{
    return k;
}
static inline int mq_row_of_var(int k)
{
    return MQ_ENT_COUNT + k;
}

/* The line's structure per kind, as mq_vm_enter reads it: the parent kind
 * when it is not the policy, the link field and the kind it links to; -1:
 * none. The same for every rating of a line: a plan keeps its line's. */
typedef struct mq_vm_shape {
    int8_t up[MQ_ENT_COUNT], link_kind[MQ_ENT_COUNT];
    int16_t link_field[MQ_ENT_COUNT];
} mq_vm_shape;

void mq_vm_shape_of(const mq_line_def *l, mq_vm_shape *shape);

/* The row of a kind the request has none of: a missing value (NaN) in every
 * field and variable a plan may read of it. A line's fields per kind
 * (schema.c) and a plan's variables per kind (plan.c) stay within
 * MQ_ROW_MAX; a kind without variables has its `vars` pointed here too, and
 * nothing writes through that pointer (no entity to compute them for). */
#define MQ_ROW_MAX 256
extern const double mq_vm_none[MQ_ROW_MAX];

/* The tables a worksheet step's expression looked up, in order, and the
 * keys it looked them up with (mq_vm.trace): what the worksheet names for
 * a step that is an expression rather than a table step. */
enum { MQ_VM_TRACE_MAX = 4 };
typedef struct mq_vm_lookup {
    const mq_table *table;
    double keys[8];
    int nkeys;
    bool interpolated; /* interp(): the key lies between rows */
} mq_vm_lookup;
typedef struct mq_vm_trace {
    mq_vm_lookup items[MQ_VM_TRACE_MAX];
    int n;    /* recorded, at most MQ_VM_TRACE_MAX */
    int more; /* lookups past those */
} mq_vm_trace;

/* One rating in progress: what the VM reads and where it reports failure. */
typedef struct mq_vm {
    const mq_input *in;
    const mq_line_def *line;
    double *vars[MQ_ENT_COUNT]; /* mq_vm_start points a kind without any at mq_vm_none */
    int nvars[MQ_ENT_COUNT];
    int32_t *parent_of[MQ_ENT_COUNT];   /* index of each entity's parent (non-policy parents) */
    const double *values[MQ_ENT_COUNT]; /* in->values, or mq_vm_none (mq_vm_start) */
    int nfields[MQ_ENT_COUNT];
    mq_vm_shape shape; /* the line's structure, for mq_vm_enter */
    mq_cursor cur;
    int32_t self[MQ_ENT_COUNT]; /* the entity a variable is being computed for */
    /* calendar work done once per rating: the effective date's year, month
     * and day, and the first day of each within_months window asked for */
    int eff_y, eff_m, eff_d;
    int nwindows;
    int window_months[4];
    int32_t window_start[4];
    /* first failed lookup */
    const mq_table *miss_table;
    double miss_keys[8];
    int miss_nkeys;
    /* lookups made, recorded only while the worksheet's rating evaluates a
     * step (NULL otherwise: every other rating pays one test a lookup) */
    mq_vm_trace *trace;
} mq_vm;

/* Prepares vm to rate `in` (in, line, vars, nvars and parent_of already
 * set): the calendar memo, and entity 0 of every kind current. */
void mq_vm_start(mq_vm *vm);
/* mq_vm_start with the line's shape worked out before (mq_plan.vm_shape). */
void mq_vm_start_shaped(mq_vm *vm, const mq_vm_shape *shape);
/* Runs a program. Returns false when a table lookup failed (vm->miss_*). */
bool mq_vm_eval(mq_vm *vm, const mq_prog *p, double *out);
/* Runs an aggregate (OP_AGG, FORM_AGG); the same contract. */
bool mq_vm_aggregate(mq_vm *vm, const mq_agg *g, double *out);
/* The parts of a day; the effective date's were found once in mq_vm_start. */
static inline mq_ymd mq_vm_ymd(const mq_vm *vm, int32_t day)
{
    if (day == vm->in->effective_date)
        return (mq_ymd){vm->eff_y, vm->eff_m, vm->eff_d};
    return mq_date_ymd(day);
}

/* Makes entity i of kind k current and locates its rows. */
static inline void mq_vm_set_current(mq_vm *vm, int k, int32_t i)
{
    vm->cur.at[k] = i;
    vm->cur.rows[mq_row_of_field(k)] = vm->values[k] + (size_t)i * (size_t)vm->nfields[k];
    vm->cur.rows[mq_row_of_var(k)] = vm->vars[k] + (size_t)i * (size_t)vm->nvars[k];
}

/* Makes entity i of kind k current with its parent and link; `alone` says
 * what a missing link does (see mq_vm_focus). */
static inline void mq_vm_enter_as(mq_vm *vm, mq_entity_kind k, int32_t i, bool alone)
{
    mq_vm_set_current(vm, k, i);
    int up = vm->shape.up[k];
    if (up >= 0 && vm->parent_of[k])
        mq_vm_set_current(vm, up, vm->parent_of[k][i]);
    else if (up >= 0 && alone)
        mq_vm_set_current(vm, up, 0);
    int f = vm->shape.link_field[k];
    if (f >= 0) {
        double v = vm->cur.rows[mq_row_of_field(k)][f];
        if (!isnan(v))
            mq_vm_set_current(vm, vm->shape.link_kind[k], (int32_t)v);
        else if (alone)
            mq_vm_set_current(vm, vm->shape.link_kind[k], 0);
    }
}

/* Makes entity i of kind k current, with its parent and the entity it
 * links to (inside an aggregate: a missing link leaves that kind as it was). */
static inline void mq_vm_enter(mq_vm *vm, mq_entity_kind k, int32_t i)
{
    mq_vm_enter_as(vm, k, i, false);
}

/* The same for a program of kind k run on its own (a variable, a unit's
 * steps): a missing link or parent makes entity 0 of that kind current. The
 * kinds such a program can read (its scope) are all set either way. */
static inline void mq_vm_focus(mq_vm *vm, mq_entity_kind k, int32_t i)
{
    mq_vm_enter_as(vm, k, i, true);
}
/* Appends OP_END after the code (not counted in ncode) and settles
 * p->form; expr.c calls it once the code is final. False when out of
 * memory. */
bool mq_prog_finish(mq_prog *p);

static inline double mq_vm_compare(int op, double a, double b)
{
    switch (op) {
    case OP_LT:
        return a < b;
    case OP_LE:
        return a <= b;
    case OP_GT:
        return a > b;
    case OP_GE:
        return a >= b;
    case OP_EQ:
        return a == b;
    default: /* OP_NE */
        return !isnan(a) && !isnan(b) && a != b;
    }
}

/* Runs a program, taking the common shapes (mq_form) without the
 * interpreter loop. Same contract as mq_vm_eval. */
static inline bool mq_vm_run(mq_vm *vm, const mq_prog *p, double *out)
{
    switch ((mq_form)p->form) {
    case FORM_CONST:
        *out = p->k0;
        return true;
    case FORM_LOAD:
        *out = vm->cur.rows[p->rows][p->index];
        return true;
    case FORM_CMP:
        *out = mq_vm_compare(p->cmp, vm->cur.rows[p->rows][p->index], p->k0);
        return true;
    case FORM_AGG: /* mq_vm_eval's */
    case FORM_LOOKUP:
    case FORM_WITHIN:
    case FORM_AGE:
    case FORM_ALL:
    case FORM_ANY:
    case FORM_VM:
        break;
    }
    return mq_vm_eval(vm, p, out);
}

/* ---- Plans (plan.c) ------------------------------------------------- */

typedef enum {
    STEP_TABLE,
    STEP_FACTOR,
    STEP_ADD,
    STEP_ROUND,
    STEP_MINIMUM,
    STEP_DISCOUNTS
} mq_step_kind;

typedef struct mq_discount {
    const char *name;
    mq_prog *amount;
    mq_prog *when;
    uint64_t coverages;
    int line; /* in plan.yaml, for messages */
} mq_discount;

typedef struct mq_step {
    const char *name;
    mq_step_kind kind;
    int index;          /* position in the plan's steps */
    int slot;           /* STEP_TABLE: cache slot, shared by steps with the same lookup */
    int first_item;     /* STEP_DISCOUNTS: index of items[0] among all the plan's items */
    uint64_t coverages; /* bit per line coverage it applies to */
    mq_prog *expr;      /* factor/add/round/minimum */
    /* STEP_TABLE */
    const mq_table *table;
    mq_prog **keys;
    mq_type key_types[8]; /* for the worksheet: booleans print as true/false */
    int nkeys;
    /* whether every key is a load (FORM_LOAD: `vehicle.symbol`), and then
     * where each is (mq_prog.rows, index), read without running the key */
    bool key_loads;
    uint16_t key_rows[8];
    int32_t key_index[8];
    int column_for[64]; /* value column per line coverage */
    bool column_given;  /* column: named; else each coverage's own or the only one */
    int line;           /* in plan.yaml, for messages */
    /* STEP_DISCOUNTS */
    double cap;
    mq_discount *items;
    int nitems;
    /* coverages whose items are the same set share a group, whose factor
     * is computed once per unit (up to 64 items; else no groups) */
    int first_group, ngroups;
    uint64_t *group_items; /* per group: bit per item that counts */
    /* a step with groups: its place among those (mq_plan.nmasked), whose
     * items' state a rating keeps as bit masks (rate.c, settle_group) */
    int mask_index;
} mq_step;

/* One step as a coverage runs it, packed in the coverage's order. */
typedef struct mq_cov_op {
    uint8_t kind;   /* mq_step_kind */
    int32_t slot;   /* STEP_TABLE: cache slot; STEP_DISCOUNTS: plan-wide group, or -1 */
    int32_t column; /* STEP_TABLE: the coverage's value column */
    const mq_step *step;
} mq_cov_op;

typedef struct mq_plan_cov {
    bool offered;
    mq_prog *base;
    mq_prog *omit_when;
    const char *note;
    mq_cov_op *ops; /* the steps that apply, in order */
    int nsteps;
} mq_plan_cov;

typedef struct mq_rule {
    mq_status status; /* MQ_DECLINED or MQ_UNAVAILABLE */
    mq_prog *when;
    const char *reason;
} mq_rule;

/* How a request chooses the coverages of a plan's line, settled at load
 * (plan.c, settle_choices): those always rated, and those chosen when a
 * presence field (of the policy, or of the unit) has a value. */
typedef struct mq_choices {
    uint64_t always;    /* bit per coverage with no presence field, rated on each unit */
    uint64_t unoffered; /* bit per coverage of the line the plan does not offer */
    int npolicy, nunit;
    int8_t policy_cov[64], unit_cov[64];
    int16_t policy_field[64], unit_field[64];
} mq_choices;

struct mq_plan {
    char *dir, *file;
    char digest[65]; /* SHA-256 of the version's files, hex (plan.c) */
    char *carrier_id, *carrier_name, *carrier_rating, *carrier_kind;
    char *plan_id, *version;
    /* lines in plan.yaml of carrier.name, carrier.rating, plan.id,
     * plan.version and plan.effective: where a disagreement between
     * versions is reported */
    int name_line, rating_line, plan_id_line, version_line, effective_line, until_line;
    int32_t effective;
    int32_t until; /* last day the version applies (plan.until); 0: no end */
    mq_line line;
    mq_vm_shape vm_shape; /* the line's, for mq_vm_start_shaped */
    int *states;
    int nstates;
    int term_months;
    mq_verify *verifies;
    int nverifies;
    mq_table **tables;
    int ntables;
    mq_var_decl *vars; /* in evaluation order */
    int nvars;
    int nvars_of[MQ_ENT_COUNT];
    mq_rule *rules;
    int nrules;
    mq_plan_cov cov[64];
    const char *coverage_codes[64];
    int ncodes;
    mq_choices choices;
    mq_step *steps;
    int nsteps;
    int nslots;        /* cache slots of the table steps (mq_step.slot) */
    int npolicy_slots; /* the first ones, keyed by policy data: kept for the rating */
    int ngroups;       /* discount groups of all steps (mq_step.first_group) */
    int nitems;        /* discount items of all steps */
    /* the items (plan-wide index) whose condition or amount reads unit data,
     * evaluated again for each unit; the others are kept for the rating */
    int *unit_items;
    int nunit_items;
    /* the discount steps with groups (mq_step.mask_index), and per such
     * step a bit per item that reads unit data; whether a step has none
     * (more than 64 items), whose items go by unit_items alone */
    int nmasked;
    uint64_t *masked_unit_bits;
    bool ungrouped_items;
    double round_step;
    int64_t minimum_cents;
    mq_fee *fees;
    int nfees;
    int64_t fees_cents;
    /* health: product facts shown with the premium */
    const char *product_name;
    int metal; /* MQ_DOM_METAL code, -1 when absent */
    int64_t deductible_cents, oop_max_cents;
    /* term_life: the underwriting class the carrier assigns (MQ_DOM_HEALTH_CLASS) */
    mq_prog *class_expr;
    /* set when the engine is indexed (select.c) */
    int carrier;         /* index in the engine's carriers */
    int plan_key;        /* the same for every version of plan_id */
    uint64_t state_mask; /* bit per state code written */
    /* bit per input field (of each kind) rating can read (reads.c) */
    uint64_t reads[MQ_ENT_COUNT];
    /* bit per input field (of each kind) the derived variables can read,
     * link fields included (reads.c): a re-rating memo compares these */
    uint64_t var_reads[MQ_ENT_COUNT];
    /* the lookups of its one-key tables (mq_key_use), for mq_engine_lint */
    mq_key_use *uses;
    int nuses;
    /* the plan compiled into C at build time (native.c), or NULL */
    const struct mq_native *native;
    /* everything above that is text lives in this plan-lifetime arena */
    mq_arena mem;
};

/* What every rating's result starts from (rate.c, native.c): the plan's
 * facts, quoted. The rest is zeroed 16 bytes at a time: GCC zeroes a struct this size with
 * `rep stos`, whose start-up was 5% of a compiled plan's rating. */
static inline void mq_result_begin(const mq_plan *p, mq_result *out)
{
    _Static_assert(sizeof(mq_result) % 8 == 0, "mq_result is whole words");
    unsigned char *bytes = (unsigned char *)out;
    size_t i = 0;
    for (; i + 16 <= sizeof *out; i += 16)
        memset(bytes + i, 0, 16);
    if (i < sizeof *out)
        memset(bytes + i, 0, 8);
    out->carrier_id = p->carrier_id;
    out->carrier_name = p->carrier_name;
    out->carrier_rating = p->carrier_rating;
    out->plan = p;
    out->status = MQ_QUOTED;
    out->term_months = p->term_months;
    out->verifies = p->verifies;
    out->nverifies = p->nverifies;
    out->fees = p->fees;
    out->nfees = p->nfees;
    out->plan_name = p->product_name;
    out->metal = p->metal;
    out->deductible_cents = p->deductible_cents;
    out->out_of_pocket_max_cents = p->oop_max_cents;
}

/* The result's amounts from the sum of its coverage premiums (cents): the
 * minimum premium, the fees, the total (rate.c, native.c). */
static inline void mq_result_total(const mq_plan *p, mq_result *out, int64_t sum)
{
    out->premium_cents = sum;
    if (sum < p->minimum_cents) {
        out->premium_cents = p->minimum_cents;
        out->minimum_applied = true;
    }
    out->fees_cents = p->fees_cents;
    out->total_cents = out->premium_cents + out->fees_cents;
}

/* ---- Native plans (codegen.c writes them, native.c runs them) ---------- */

/* What a plan compiled into C answers: the result is complete (quoted or
 * declined), or the interpreter must rate the request instead (a lookup
 * found no row, a premium is not a valid amount, the request does not fit
 * the function's stack buffers...), or memory ran out. */
enum { MQ_NATIVE_DONE, MQ_NATIVE_INTERPRET, MQ_NATIVE_OOM };

typedef int (*mq_native_fn)(const mq_plan *p, const mq_input *in, bool totals_only, mq_arena *a,
                            mq_result *out);

/* One plan compiled into C: the function and what it was compiled from
 * (the digest of the plan's files and the sizes of its compiled form,
 * checked again when it is attached). */
typedef struct mq_native {
    const char *digest;
    mq_native_fn rate;
    int ntables, nvars, nsteps, nslots, nitems, nrules;
} mq_native;

/* The plans compiled into this build (the generated native_plans.c, whose
 * functions are spread over it and native_plans_1.c...; an empty list in
 * mqcodegen itself, native_none.c). */
extern const mq_native mq_native_plans[];
extern const int mq_native_nplans;

/* Sets p->native to the compiled function of p's digest, if this build has
 * one whose sizes match p's. select.c calls it for every plan. */
void mq_native_attach(mq_plan *p);

/* A declining eligibility rule (p->rules[i]) as the result. */
int mq_native_decline(const mq_plan *p, int i, bool totals_only, mq_arena *a, mq_result *out);
/* "Unavailable: the plan does not offer coverage `cov`" as the result. */
int mq_native_unoffered(const mq_plan *p, int cov, bool totals_only, mq_arena *a, mq_result *out);
/* The quote as the result: the premiums and notes (copied to the arena),
 * the totals, the underwriting class (NULL: none). A compiled plan writes
 * *out only here, in mq_native_decline or in mq_native_unoffered. */
int mq_native_finish(const mq_plan *p, const mq_cov_premium *premiums, int npremiums,
                     const char *const *notes, int nnotes, int64_t sum, const char *health_class,
                     bool totals_only, mq_arena *a, mq_result *out);
/* A builtin call (vm.c's call_builtin) and within_months, for the
 * generated code. */
double mq_vm_builtin(mq_vm *vm, int fn, const double *args, int n);
double mq_vm_within(mq_vm *vm, double day, double months);
/* "v1: Comprehensive left off: <the plan's note>" (rate.c). NULL when out
 * of memory. */
const char *mq_rate_note_text(const mq_plan *p, const mq_input *in, int cov, int32_t unit,
                              mq_arena *a);
/* "Harbor Mutual does not offer Rental reimbursement (rental)" (rate.c).
 * NULL when out of memory. */
const char *mq_rate_unoffered_text(const mq_plan *p, int cov, mq_arena *a);

static inline bool mq_truth(double x)
{
    return x != 0 && !isnan(x);
}

/* llround for the non-negative values premiums are, without the call. */
static inline int64_t mq_round_half_up(double x)
{
    if (!(x >= 0 && x < 9e15))
        return llround(x);
    int64_t n = (int64_t)x;
    return n + (x - (double)n >= 0.5);
}

/* floor without the libm call for the values below 2^52 that premiums
 * are: their integer part is exact. */
static inline double mq_floor_fast(double x)
{
    if (!(x >= 0 && x < 4.5e15))
        return floor(x);
    return (double)(int64_t)x;
}

/* v rounded half up to a multiple of `step` (plans round to the dollar,
 * step 1, or to the cent), in cents. For a whole-dollar step and an amount
 * below 9e13 the general form's arithmetic is exact, so it is the integer
 * part of v + 0.5 + 1e-9 times 100, without the double work. */
static inline int64_t mq_round_to_cents(double v, double step)
{
    if (step == 1 && v >= 0 && v < 9e13)
        return (int64_t)(v + 0.5 + 1e-9) * 100;
    double units = mq_floor_fast((step == 1 ? v : v / step) + 0.5 + 1e-9);
    return mq_round_half_up(units * step * 100);
}

/* Whether `step` is a rounding step mq_round_to_cents can honour: a whole
 * number of cents from 0.01 to 100 (0.001 or 0.015 would be rounded to
 * cents anyway, silently). rounding.coverage and `round:` steps. */
static inline bool mq_round_step_ok(double step)
{
    return step >= 0.01 && step <= 100 && fabs(step * 100 - round(step * 100)) < 1e-6;
}

/* A `round:` step on the running premium x: x rounded half up to a
 * multiple of `step` (mq_round_step_ok), in dollars. A missing x stays
 * missing and one beyond any premium (|x| >= 9e13) stays as it is, so that
 * rate_coverage refuses it: converting them to cents was undefined and made
 * a missing premium a large negative one, which a later `minimum:` step
 * then raised to the minimum as if it were a price. */
static inline double mq_round_step(double x, double step)
{
    return fabs(x) < 9e13 ? mq_round_to_cents(x, step) / 100.0 : x;
}

/* Whether a discount item's amount (a fraction) can be summed: from 0 to
 * less than 1. A missing amount would make the sum missing, which takes the
 * whole cap; a negative one is a surcharge in disguise. */
static inline bool mq_discount_amount_ok(double amount)
{
    return amount >= 0 && amount < 1;
}

/* ---- Re-rating memo (memo.c) ------------------------------------------ */

/* After setup, before the variables are computed: copies the memo's
 * derived variables into vm->vars and leaves the VM where computing them
 * would have (which entity of each kind is current). False, touching
 * nothing, when the memo is empty, of another plan, or was filled from a
 * request that differs from `in` in anything the variables read. */
bool mq_memo_restore(const mq_rate_memo *m, const mq_plan *p, const mq_input *in, mq_vm *vm);
/* After the variables were computed: fills an empty memo with them and
 * with what they were computed from (copies, from the memo's arena); a
 * filled memo is kept as it is. False when out of memory. */
bool mq_memo_keep(mq_rate_memo *m, const mq_plan *p, const mq_input *in, const mq_vm *vm);

/* ---- Markets (market.c): parameters of a line's public rules ---------- */

/* The ACA premium tax credit parameters of one plan year. */
typedef struct mq_band {
    double from, to, start, end; /* from <= ratio < to: start..end linearly */
} mq_band;

typedef struct mq_market {
    char *file, *id;
    char digest[65]; /* SHA-256 of market.yaml as loaded, hex (sha256sum's) */
    mq_line line;
    int32_t effective;
    int32_t until; /* last day it applies (market.until); 0: no end */
    int plan_year;
    double guideline_first[64], guideline_additional[64]; /* by state code; [63] default */
    double eligible_from, eligible_to;
    mq_band *bands;
    int nbands;
    int benchmark_metal, benchmark_rank;
    unsigned no_credit_metals; /* a bit per metal code the credit cannot be used for */
} mq_market;

mq_market *mq_market_load(const char *dir, mq_diags *d);
void mq_market_free(mq_market *m);
/* Applies the premium tax credit to health results (gross, credit, net)
 * and records the benchmark in each; `given` as mq_rate_market_given's
 * (NULL: chosen from e's plans in effect). */
bool mq_market_apply(const mq_market *m, const mq_engine *e, const mq_input *in,
                     const mq_benchmark *given, mq_result *res, int n, mq_arena *a);
const mq_market *mq_engine_market(const mq_engine *e, mq_line line, int32_t on);
/* The market of `line` whose id is `id`, whatever its dates; NULL when none
 * is loaded. */
const mq_market *mq_engine_market_named(const mq_engine *e, mq_line line, const char *id);

/* ---- The engine (plan.c loads it, select.c indexes it) ------------------ */

/* One carrier, found in the plans at load. */
typedef struct mq_carrier {
    const char *id;                        /* its first plan's carrier_id */
    const mq_plan *first;                  /* its first plan in load order */
    const mq_plan *last_of[MQ_LINE_COUNT]; /* its last plan of each line, or NULL */
    uint64_t states_of[MQ_LINE_COUNT];     /* bit per state its plans of a line write */
} mq_carrier;

/* One line's plans in load order, and its carriers in the order of their
 * first plan of the line (indexes into mq_engine.carriers). */
typedef struct mq_line_index {
    const mq_plan **plans;
    int nplans;
    int *carriers;
    int ncarriers;
} mq_line_index;

struct mq_engine {
    mq_plan **plans;
    int nplans;
    mq_market **markets;
    int nmarkets;
    /* built once by mq_engine_index, read-only afterwards */
    mq_carrier *carriers;
    int ncarriers;
    int *by_id; /* carrier indexes in id order, for mq_engine_carrier_find */
    mq_line_index lines[MQ_LINE_COUNT];
};

/* Builds the carrier and line index of a loaded engine (plans set their
 * carrier, plan_key and state_mask). False when out of memory. */
bool mq_engine_index(mq_engine *e);
void mq_engine_index_free(mq_engine *e);
/* Fills p->reads (reads.c); mq_engine_index calls it for every plan. */
void mq_plan_index_reads(mq_plan *p);
/* The carrier with this id (a binary search), or -1. */
int mq_engine_carrier_find(const mq_engine *e, const char *id);
/* Carrier c of the index, or NULL when there is none (c < 0). */
const mq_carrier *mq_engine_carrier(const mq_engine *e, int c);
/* Whether plan p writes in `state` (an MQ_DOM_STATE code). */
static inline bool mq_plan_writes(const mq_plan *p, int state)
{
    return state >= 0 && state < 64 && (p->state_mask >> state & 1);
}
/* Whether carrier c has a plan of `line` (in force or not) for `state`. */
static inline bool mq_carrier_writes(const mq_carrier *c, mq_line line, int state)
{
    return state >= 0 && state < 64 && (c->states_of[line] >> state & 1);
}
/* mq_engine_select that also gives each slot's carrier index; carriers and
 * ids may each be NULL. */
int mq_engine_pick(const mq_engine *e, mq_line line, int state, int32_t on, const mq_plan **plans,
                   int *carriers, const char **ids, int cap);

#endif
