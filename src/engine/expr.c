/* expr.c -- the plan expression language: lexer, parser and compiler.
 *
 * An expression (`driver.age < 25 and driver.student_gpa >= 3.0`) is parsed
 * into a small tree, its names resolved against the line's schema, the plan's
 * variables and tables, and compiled to the stack code that vm.c runs (the
 * instruction set is documented in internal.h). Everything textual is settled
 * here, once, at load: names become field or variable indexes, enum strings
 * become symbol codes, table lookups become matrix references, so rating does
 * no parsing and no string comparison. Errors name file:line:col.
 */
#include "internal.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* MAX_DEPTH bounds the parser's recursion (parentheses, unary operators),
 * MAX_HEIGHT the tree's, which the compiler recurses on: a chain of binary
 * operators (1 + 1 + ... + 1) adds a level per operator without recursing
 * in the parser. */
enum { MAX_STACK = 64, MAX_DEPTH = 64, MAX_HEIGHT = 512 };

/* ---- Lexer ----------------------------------------------------------- */

typedef enum {
    TK_EOF,
    TK_NUM,
    TK_STR,
    TK_NAME,
    TK_LP,
    TK_RP,
    TK_LB,
    TK_RB,
    TK_COMMA,
    TK_QUEST,
    TK_COLON,
    TK_PLUS,
    TK_MINUS,
    TK_STAR,
    TK_SLASH,
    TK_LT,
    TK_LE,
    TK_GT,
    TK_GE,
    TK_EQ,
    TK_NE,
    TK_AND,
    TK_OR,
    TK_NOT,
    TK_WHERE,
    TK_OF,
    TK_TRUE,
    TK_FALSE,
    TK_BAD
} tok_kind;

typedef struct token {
    tok_kind kind;
    int pos, len;
    double num;
} token;

typedef struct parser {
    const char *src;
    int pos;
    token tok;
    mq_arena *mem;
    char *error; /* first error (arena) */
    int error_pos;
    int depth;
    bool reported; /* the error was already reported (a table that did not load) */
} parser;

static void fail(parser *p, int pos, const char *msg)
{
    if (!p->error) {
        p->error = mq_arena_strdup(p->mem, msg);
        p->error_pos = pos;
    }
}

static const struct {
    const char *word;
    tok_kind kind;
} keywords[] = {{"and", TK_AND}, {"or", TK_OR},     {"not", TK_NOT},    {"where", TK_WHERE},
                {"of", TK_OF},   {"true", TK_TRUE}, {"false", TK_FALSE}};

static void next(parser *p)
{
    const char *s = p->src;
    while (s[p->pos] == ' ' || s[p->pos] == '\t' || s[p->pos] == '\n' || s[p->pos] == '\r')
        p->pos++;
    token t = {.pos = p->pos, .len = 1};
    char c = s[p->pos];
    if (c == '\0') {
        t.kind = TK_EOF, t.len = 0;
    } else if (isdigit((unsigned char)c) || (c == '.' && isdigit((unsigned char)s[p->pos + 1]))) {
        char *end;
        t.num = strtod(s + p->pos, &end);
        t.kind = TK_NUM;
        t.len = (int)(end - (s + p->pos));
        if (isalpha((unsigned char)*end) || *end == '_' || !isfinite(t.num))
            t.kind = TK_BAD;
    } else if (isalpha((unsigned char)c) || c == '_') {
        int n = 0;
        while (isalnum((unsigned char)s[p->pos + n]) || s[p->pos + n] == '_' ||
               (s[p->pos + n] == '.' &&
                (isalpha((unsigned char)s[p->pos + n + 1]) || s[p->pos + n + 1] == '_')))
            n++;
        t.kind = TK_NAME;
        t.len = n;
        for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
            if ((int)strlen(keywords[i].word) == n && strncmp(s + p->pos, keywords[i].word, n) == 0)
                t.kind = keywords[i].kind;
    } else if (c == '"' || c == '\'') {
        int n = 1;
        while (s[p->pos + n] && s[p->pos + n] != c)
            n++;
        t.kind = s[p->pos + n] == c ? TK_STR : TK_BAD;
        t.len = s[p->pos + n] ? n + 1 : n;
    } else {
        char d = s[p->pos + 1];
        t.kind = TK_BAD;
        switch (c) {
        case '(':
            t.kind = TK_LP;
            break;
        case ')':
            t.kind = TK_RP;
            break;
        case '[':
            t.kind = TK_LB;
            break;
        case ']':
            t.kind = TK_RB;
            break;
        case ',':
            t.kind = TK_COMMA;
            break;
        case '?':
            t.kind = TK_QUEST;
            break;
        case ':':
            t.kind = TK_COLON;
            break;
        case '+':
            t.kind = TK_PLUS;
            break;
        case '-':
            t.kind = TK_MINUS;
            break;
        case '*':
            t.kind = TK_STAR;
            break;
        case '/':
            t.kind = TK_SLASH;
            break;
        case '<':
            t.kind = d == '=' ? TK_LE : TK_LT;
            break;
        case '>':
            t.kind = d == '=' ? TK_GE : TK_GT;
            break;
        case '=':
            t.kind = d == '=' ? TK_EQ : TK_BAD;
            break;
        case '!':
            t.kind = d == '=' ? TK_NE : TK_BAD;
            break;
        }
        if (t.kind == TK_LE || t.kind == TK_GE || t.kind == TK_EQ || t.kind == TK_NE)
            t.len = 2;
    }
    p->pos += t.len;
    p->tok = t;
    if (t.kind == TK_BAD)
        fail(p, t.pos, "unexpected character");
}

/* ---- Tree ------------------------------------------------------------ */

typedef enum { N_NUM, N_STR, N_REF, N_UNARY, N_BINARY, N_COND, N_CALL, N_LOOKUP, N_AGG } node_kind;

typedef struct node node;
struct node {
    node_kind kind;
    int pos;
    double num;
    const char *name; /* N_STR text, N_REF/N_CALL/N_LOOKUP name, N_AGG list */
    tok_kind op;
    mq_agg_kind agg;
    node *a, *b, *c;
    node **args;
    int nargs;
    int height;   /* levels from this node to its deepest leaf (a leaf is 1) */
    bool boolean; /* N_NUM written true or false: a condition's value */
};

static node *new_node(parser *p, node_kind kind, int pos)
{
    node *n = mq_arena_alloc(p->mem, sizeof(node));
    if (!n) {
        fail(p, pos, "out of memory");
        return NULL;
    }
    n->kind = kind;
    n->pos = pos;
    n->height = 1;
    return n;
}

static int height_of(const node *n)
{
    return n ? n->height : 0;
}

/* Sets n's height from its children's, once they are parsed; a tree higher
 * than MAX_HEIGHT is an error, so that compiling it stays within a small
 * stack whatever the plan holds. */
static void settle_height(parser *p, node *n)
{
    int h = height_of(n->a);
    if (height_of(n->b) > h)
        h = height_of(n->b);
    if (height_of(n->c) > h)
        h = height_of(n->c);
    for (int i = 0; n->args && i < n->nargs; i++)
        if (height_of(n->args[i]) > h)
            h = height_of(n->args[i]);
    n->height = h + 1;
    if (n->height > MAX_HEIGHT)
        fail(p, n->pos, "expression too deep: more than 512 levels of operators and calls");
}

static char *token_text(parser *p, const token *t)
{
    char *s = mq_arena_alloc(p->mem, (size_t)t->len + 1);
    if (s)
        memcpy(s, p->src + t->pos, (size_t)t->len);
    return s;
}

static node *parse_expr(parser *p);

static bool expect(parser *p, tok_kind k, const char *what)
{
    if (p->tok.kind != k) {
        char msg[96];
        snprintf(msg, sizeof msg, "expected %s", what);
        fail(p, p->tok.pos, msg);
        return false;
    }
    next(p);
    return true;
}

static bool is_aggregate(const char *name, mq_agg_kind *kind)
{
    static const char *names[] = {"count", "sum", "max", "min", "any", "all"};
    for (int i = 0; i < 6; i++)
        if (strcmp(name, names[i]) == 0) {
            *kind = (mq_agg_kind)i;
            return true;
        }
    return false;
}

static bool looks_like_list(const char *s, int len)
{
    /* every line's list names (the compiler checks the line has it) */
    static const char *lists[] = {"drivers", "vehicles", "incidents", "claims", "members"};
    for (int i = 0; i < 5; i++) {
        int n = (int)strlen(lists[i]);
        if (len >= n && strncmp(s + len - n, lists[i], n) == 0 &&
            (len == n || s[len - n - 1] == '.'))
            return true;
    }
    return false;
}

static node *parse_aggregate(parser *p, node *n)
{
    n->kind = N_AGG;
    n->name = token_text(p, &p->tok);
    next(p);
    if (p->tok.kind == TK_OF) {
        next(p);
        n->a = parse_expr(p);
    } else if (n->agg == AGG_SUM || n->agg == AGG_MAX || n->agg == AGG_MIN) {
        fail(p, p->tok.pos, "expected \"of\" and the value to aggregate");
        return n;
    }
    if (p->tok.kind == TK_WHERE) {
        next(p);
        n->b = parse_expr(p);
    } else if (n->agg == AGG_ANY || n->agg == AGG_ALL) {
        fail(p, p->tok.pos, "expected \"where\" and a condition");
        return n;
    }
    expect(p, TK_RP, "\")\"");
    settle_height(p, n);
    return n;
}

static node **parse_args(parser *p, tok_kind close, int *nargs)
{
    node *tmp[16];
    int n = 0;
    if (p->tok.kind != close) {
        for (;;) {
            if (n == 16) {
                fail(p, p->tok.pos, "too many arguments");
                return NULL;
            }
            tmp[n++] = parse_expr(p);
            if (p->error || p->tok.kind != TK_COMMA)
                break;
            next(p);
        }
    }
    expect(p, close, close == TK_RP ? "\")\"" : "\"]\"");
    node **args = mq_arena_alloc(p->mem, sizeof(node *) * (size_t)(n ? n : 1));
    if (args)
        memcpy(args, tmp, sizeof(node *) * (size_t)n);
    *nargs = n;
    return args;
}

static node *parse_primary(parser *p)
{
    token t = p->tok;
    node *n;
    switch (t.kind) {
    case TK_NUM:
        next(p);
        n = new_node(p, N_NUM, t.pos);
        if (n)
            n->num = t.num;
        return n;
    case TK_TRUE:
    case TK_FALSE:
        next(p);
        n = new_node(p, N_NUM, t.pos);
        if (n) {
            n->num = t.kind == TK_TRUE;
            n->boolean = true;
        }
        return n;
    case TK_STR:
        next(p);
        n = new_node(p, N_STR, t.pos);
        if (n) {
            token inner = {.pos = t.pos + 1, .len = t.len - 2};
            n->name = token_text(p, &inner);
        }
        return n;
    case TK_LP:
        next(p);
        n = parse_expr(p);
        expect(p, TK_RP, "\")\"");
        return n;
    case TK_NAME:
        next(p);
        n = new_node(p, N_REF, t.pos);
        if (!n)
            return NULL;
        n->name = token_text(p, &t);
        if (p->tok.kind == TK_LP) {
            next(p);
            if (is_aggregate(n->name, &n->agg) && p->tok.kind == TK_NAME &&
                looks_like_list(p->src + p->tok.pos, p->tok.len))
                return parse_aggregate(p, n);
            n->kind = N_CALL;
            n->args = parse_args(p, TK_RP, &n->nargs);
            settle_height(p, n);
        } else if (p->tok.kind == TK_LB) {
            next(p);
            n->kind = N_LOOKUP;
            n->args = parse_args(p, TK_RB, &n->nargs);
            settle_height(p, n);
        }
        return n;
    default:
        fail(p, t.pos, t.kind == TK_EOF ? "unexpected end of expression" : "expected a value");
        return NULL;
    }
}

static node *parse_unary(parser *p)
{
    if (p->tok.kind == TK_MINUS || p->tok.kind == TK_NOT) {
        token t = p->tok;
        next(p);
        if (++p->depth > MAX_DEPTH) {
            fail(p, t.pos, "expression nested too deeply");
            return NULL;
        }
        node *n = new_node(p, N_UNARY, t.pos);
        if (n) {
            n->op = t.kind;
            n->a = parse_unary(p);
            settle_height(p, n);
        }
        p->depth--;
        return n;
    }
    return parse_primary(p);
}

static int precedence(tok_kind k)
{
    switch (k) {
    case TK_OR:
        return 1;
    case TK_AND:
        return 2;
    case TK_LT:
    case TK_LE:
    case TK_GT:
    case TK_GE:
    case TK_EQ:
    case TK_NE:
        return 3;
    case TK_PLUS:
    case TK_MINUS:
        return 4;
    case TK_STAR:
    case TK_SLASH:
        return 5;
    default:
        return 0;
    }
}

static node *parse_binary(parser *p, int min_prec)
{
    node *left = parse_unary(p);
    for (;;) {
        int prec = precedence(p->tok.kind);
        if (!prec || prec < min_prec || p->error)
            return left;
        token t = p->tok;
        next(p);
        node *n = new_node(p, N_BINARY, t.pos);
        if (!n)
            return NULL;
        n->op = t.kind;
        n->a = left;
        /* comparisons do not chain: a < b < c is an error */
        n->b = parse_binary(p, prec + 1);
        settle_height(p, n);
        if (prec == 3 && precedence(p->tok.kind) == 3)
            fail(p, p->tok.pos, "comparisons do not chain; use \"and\"");
        left = n;
    }
}

static node *parse_expr(parser *p)
{
    if (++p->depth > MAX_DEPTH) {
        fail(p, p->tok.pos, "expression nested too deeply");
        return NULL;
    }
    node *n = parse_binary(p, 1);
    if (p->tok.kind == TK_QUEST && !p->error) {
        token t = p->tok;
        next(p);
        node *c = new_node(p, N_COND, t.pos);
        if (c) {
            c->a = n;
            c->b = parse_expr(p);
            expect(p, TK_COLON, "\":\"");
            c->c = parse_expr(p);
            settle_height(p, c);
        }
        n = c;
    }
    p->depth--;
    return n;
}

/* ---- Compiler -------------------------------------------------------- */

typedef enum { T_NUM, T_BOOL, T_DATE, T_ENUM, T_STR } vtype;

typedef struct vinfo {
    vtype type;
    int domain;
} vinfo;

typedef struct compiler {
    mq_compile_env *env;
    parser *p;
    mq_prog *prog;
    int depth, capcode, capk;
    int line; /* of the expression in plan.yaml, for mq_env_note_use */
} compiler;

static mq_prog *compile_sub(compiler *c, const mq_scope *scope, node *n, vinfo *vi);

static void emit(compiler *c, mq_opcode op, int a, int32_t b, int stack_effect)
{
    mq_prog *pr = c->prog;
    if (pr->ncode == c->capcode) {
        int cap = c->capcode ? c->capcode * 2 : 16;
        mq_ins *code = realloc(pr->code, (size_t)cap * sizeof(mq_ins));
        if (!code) {
            fail(c->p, 0, "out of memory");
            return;
        }
        pr->code = code;
        c->capcode = cap;
    }
    pr->code[pr->ncode++] = (mq_ins){(uint16_t)op, (uint16_t)a, b};
    c->depth += stack_effect;
    if (c->depth > pr->max_stack)
        pr->max_stack = c->depth;
    if (c->depth > MAX_STACK)
        fail(c->p, 0, "expression too complex (stack)");
}

static void emit_const(compiler *c, double v)
{
    mq_prog *pr = c->prog;
    int idx = -1;
    for (int i = 0; i < pr->nk; i++)
        if (pr->k[i] == v || (isnan(v) && isnan(pr->k[i])))
            idx = i;
    if (idx < 0) {
        if (pr->nk == c->capk) {
            int cap = c->capk ? c->capk * 2 : 8;
            double *k = realloc(pr->k, (size_t)cap * sizeof(double));
            if (!k) {
                fail(c->p, 0, "out of memory");
                return;
            }
            pr->k = k;
            c->capk = cap;
        }
        idx = pr->nk;
        pr->k[pr->nk++] = v;
    }
    emit(c, OP_CONST, 0, idx, 1);
}

static void failf(compiler *c, int pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void failf(compiler *c, int pos, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fail(c->p, pos, msg);
}

static int entity_by_name(const mq_line_def *l, const char *s, size_t len)
{
    for (int k = 0; k < MQ_ENT_COUNT; k++)
        if (l->entity_names[k] && strlen(l->entity_names[k]) == len &&
            strncmp(l->entity_names[k], s, len) == 0)
            return k;
    return -1;
}

static vinfo field_info(const mq_field_def *f)
{
    switch (f->type) {
    case MQ_T_BOOL:
        return (vinfo){T_BOOL, 0};
    case MQ_T_DATE:
        return (vinfo){T_DATE, 0};
    case MQ_T_ENUM:
        return (vinfo){T_ENUM, f->domain};
    default:
        return (vinfo){T_NUM, 0};
    }
}

static vinfo var_info(const mq_var_decl *v)
{
    mq_field_def f = {.type = v->type, .domain = v->domain};
    return field_info(&f);
}

static void add_dep(mq_compile_env *env, int var)
{
    if (env->ndeps == env->capdeps) {
        int cap = env->capdeps ? env->capdeps * 2 : 8;
        int *deps = realloc(env->deps, (size_t)cap * sizeof(int));
        if (!deps)
            return;
        env->deps = deps;
        env->capdeps = cap;
    }
    env->deps[env->ndeps++] = var;
}

static bool load_name(compiler *c, int kind, const char *name, vinfo *vi)
{
    const mq_line_def *l = c->env->line;
    int f = mq_field_find(l, kind, name);
    if (f >= 0) {
        emit(c, OP_FIELD, kind, f, 1);
        *vi = field_info(&l->fields[kind][f]);
        return true;
    }
    for (int i = 0; i < c->env->nvars; i++) {
        mq_var_decl *v = &c->env->vars[i];
        if (v->kind == (mq_entity_kind)kind && strcmp(v->name, name) == 0) {
            emit(c, OP_VAR, kind, v->slot, 1);
            add_dep(c->env, i);
            *vi = var_info(v);
            return true;
        }
    }
    return false;
}

/* self.FIELD and self.index: the entity whose variable is being defined. */
static void compile_self(compiler *c, const mq_scope *scope, node *n, const char *field, vinfo *vi)
{
    const mq_line_def *l = c->env->line;
    mq_entity_kind k = scope->self_kind;
    if (k == MQ_ENT_POLICY) {
        failf(c, n->pos, "\"self\" only means something in a variable of a list entity");
        return;
    }
    if (strcmp(field, "index") == 0) {
        emit(c, OP_SELF_INDEX, k, 0, 1);
        return;
    }
    int f = mq_field_find(l, k, field);
    if (f < 0) {
        failf(c, n->pos, "unknown %s field \"%s\" (self reads request fields)", l->entity_names[k],
              field);
        return;
    }
    emit(c, OP_SELF, k, f, 1);
    *vi = field_info(&l->fields[k][f]);
}

static void compile_ref(compiler *c, const mq_scope *scope, node *n, vinfo *vi)
{
    const mq_line_def *l = c->env->line;
    const char *dot = strchr(n->name, '.');
    if (dot && strncmp(n->name, "self.", 5) == 0) {
        compile_self(c, scope, n, dot + 1, vi);
        return;
    }
    int kind = dot ? entity_by_name(l, n->name, (size_t)(dot - n->name)) : -1;
    if (kind > 0 && strcmp(dot + 1, "index") == 0 && scope->bound[kind]) {
        emit(c, OP_INDEX, kind, 0, 1);
        return;
    }
    if (kind >= 0) {
        if (!scope->bound[kind]) {
            failf(c, n->pos, "no current %s here (use it inside an aggregate over %s)",
                  l->entity_names[kind], l->collection_names[kind]);
            return;
        }
        if (!load_name(c, kind, dot + 1, vi))
            failf(c, n->pos, "unknown %s field or variable \"%s\"", l->entity_names[kind], dot + 1);
        return;
    }
    if (entity_by_name(l, n->name, strlen(n->name)) >= 0) {
        failf(c, n->pos, "\"%s\" needs a field, e.g. %s.id", n->name, n->name);
        return;
    }
    if (!load_name(c, MQ_ENT_POLICY, n->name, vi))
        failf(c, n->pos, "unknown name \"%s\"", n->name);
}

static void compile_node(compiler *c, const mq_scope *scope, node *n, vinfo *vi);

static void compile_enum_compare(compiler *c, const mq_scope *scope, node *n, vinfo *vi)
{
    node *e = n->a->kind == N_STR ? n->b : n->a;
    node *s = n->a->kind == N_STR ? n->a : n->b;
    if (e->kind == N_STR) {
        failf(c, n->pos, "comparing two strings");
        return;
    }
    vinfo ei;
    compile_node(c, scope, e, &ei); /* == and != are symmetric: the string goes second */
    if (c->p->error)
        return;
    if (ei.type != T_ENUM || (n->op != TK_EQ && n->op != TK_NE)) {
        failf(c, s->pos,
              "\"%s\" can only be compared (== or !=) with a named value such as "
              "driver.marital_status",
              s->name);
        return;
    }
    int code = mq_symbol_find((mq_domain)ei.domain, s->name);
    if (code < 0) {
        char list[200] = "";
        for (int i = 0; i < mq_symbol_count((mq_domain)ei.domain) && strlen(list) < 150; i++) {
            strcat(list, i ? ", " : "");
            strcat(list, mq_symbol_name((mq_domain)ei.domain, i));
        }
        failf(c, s->pos, "\"%s\" is not one of: %s", s->name, list);
        return;
    }
    emit_const(c, code);
    emit(c, n->op == TK_EQ ? OP_EQ : OP_NE, 0, 0, -1);
    *vi = (vinfo){T_BOOL, 0};
}

static void compile_binary(compiler *c, const mq_scope *scope, node *n, vinfo *vi)
{
    if (n->a->kind == N_STR || n->b->kind == N_STR) {
        compile_enum_compare(c, scope, n, vi);
        return;
    }
    vinfo a, b;
    if (n->op == TK_AND || n->op == TK_OR) {
        compile_node(c, scope, n->a, &a);
        int jump = c->prog->ncode;
        emit(c, n->op == TK_AND ? OP_AND : OP_OR, 0, 0, -1);
        compile_node(c, scope, n->b, &b);
        emit(c, OP_TRUTH, 0, 0, 0);
        if (!c->p->error)
            c->prog->code[jump].b = c->prog->ncode;
        *vi = (vinfo){T_BOOL, 0};
        return;
    }
    compile_node(c, scope, n->a, &a);
    compile_node(c, scope, n->b, &b);
    static const struct {
        tok_kind tok;
        mq_opcode op;
    } ops[] = {{TK_PLUS, OP_ADD}, {TK_MINUS, OP_SUB}, {TK_STAR, OP_MUL}, {TK_SLASH, OP_DIV},
               {TK_LT, OP_LT},    {TK_LE, OP_LE},     {TK_GT, OP_GT},    {TK_GE, OP_GE},
               {TK_EQ, OP_EQ},    {TK_NE, OP_NE}};
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (ops[i].tok == n->op) {
            emit(c, ops[i].op, 0, 0, -1);
            bool cmp = ops[i].op >= OP_LT;
            if ((a.type == T_ENUM || b.type == T_ENUM) && !cmp)
                failf(c, n->pos, "arithmetic on a named value");
            if (cmp && (a.type == T_ENUM) != (b.type == T_ENUM))
                failf(c, n->pos, "compare a named value with a string, e.g. == \"married\"");
            *vi = (vinfo){cmp                                                           ? T_BOOL
                          : (a.type == T_DATE && n->op == TK_MINUS && b.type != T_DATE) ? T_DATE
                                                                                        : T_NUM,
                          0};
            return;
        }
}

static const struct {
    const char *name;
    mq_builtin fn;
    int min_args, max_args;
    vtype result;
} builtins[] = {
    {"age", FN_AGE, 2, 2, T_NUM},
    {"months_between", FN_MONTHS_BETWEEN, 2, 2, T_NUM},
    {"years_between", FN_YEARS_BETWEEN, 2, 2, T_NUM},
    {"add_months", FN_ADD_MONTHS, 2, 2, T_DATE},
    {"within_months", FN_WITHIN_MONTHS, 2, 2, T_BOOL},
    {"year", FN_YEAR, 1, 1, T_NUM},
    {"month", FN_MONTH, 1, 1, T_NUM},
    {"day", FN_DAY, 1, 1, T_NUM},
    {"min", FN_MIN, 2, 16, T_NUM},
    {"max", FN_MAX, 2, 16, T_NUM},
    {"abs", FN_ABS, 1, 1, T_NUM},
    {"floor", FN_FLOOR, 1, 1, T_NUM},
    {"ceil", FN_CEIL, 1, 1, T_NUM},
    {"round", FN_ROUND, 2, 2, T_NUM},
    {"has", FN_HAS, 1, 1, T_BOOL},
    {"default", FN_DEFAULT, 2, 2, T_NUM},
    {"age_nearest", FN_AGE_NEAREST, 2, 2, T_NUM},
};

static bool date_arg(mq_builtin fn, int i)
{
    switch (fn) {
    case FN_AGE:
    case FN_MONTHS_BETWEEN:
    case FN_YEARS_BETWEEN:
        return true;
    case FN_ADD_MONTHS:
    case FN_WITHIN_MONTHS:
        return i == 0;
    case FN_YEAR:
    case FN_MONTH:
    case FN_DAY:
        return true;
    default:
        return false;
    }
}

static mq_table *find_table(mq_compile_env *env, const char *name);
static int add_lookup(compiler *c, const mq_table *t, int col, int pos);
static void note_use(compiler *c, const mq_table *t, int col, const node *k, int pos, bool interp);

static mq_type mq_type_of(vtype t)
{
    return t == T_BOOL   ? MQ_T_BOOL
           : t == T_DATE ? MQ_T_DATE
           : t == T_ENUM ? MQ_T_ENUM
                         : MQ_T_NUMBER;
}

/* Binds key k of table t to the type of the expression looked up with it;
 * a key that fits no cell of its column fails here, at the key. */
static void bind_key(compiler *c, mq_table *t, int k, vinfo ki, int pos)
{
    char why[300];
    if (c->p->error || c->env->dry_run ||
        mq_table_bind_key(t, k, mq_type_of(ki.type), (mq_domain)ki.domain, c->env->diags, why,
                          sizeof why))
        return;
    if (why[0])
        failf(c, pos, "key %d of table %s %s", k + 1, t->name, why);
    else
        failf(c, pos, "key %d of table %s does not fit its column (see above)", k + 1, t->name);
}

/* interp(TABLE, x) or interp(TABLE.column, x): linear between the points. */
/* Whether table t (of one key) can be interpolated: at least two rows,
 * each keyed by an exact number (mq_table_interpolate has no points
 * otherwise, and every rating would fail with "no rate"). */
static bool has_points(const mq_table *t)
{
    if (!t->cells || t->nrows < 2)
        return false;
    for (int r = 0; r < t->nrows; r++)
        if (t->cells[r].kind != CELL_EXACT || t->cells[r].boolean)
            return false;
    return true;
}

static void compile_interp(compiler *c, const mq_scope *scope, node *n, vinfo *vi)
{
    if (n->nargs != 2 || n->args[0]->kind != N_REF) {
        failf(c, n->pos, "interp() takes a table and a number: interp(TABLE, x)");
        return;
    }
    const char *name = n->args[0]->name;
    mq_table *t = find_table(c->env, name);
    int col = -1;
    const char *dot = strrchr(name, '.');
    if (!t && dot) {
        char tname[128];
        snprintf(tname, sizeof tname, "%.*s", (int)(dot - name), name);
        t = find_table(c->env, tname);
        if (t)
            col = mq_table_value_index(t, dot + 1);
    }
    if (!t) {
        failf(c, n->args[0]->pos, "unknown table \"%s\"", name);
        return;
    }
    if (col < 0 && t->nvalues != 1) {
        failf(c, n->args[0]->pos, "table %s has %d value columns: name one", t->name, t->nvalues);
        return;
    }
    if (t->nkeys != 1) {
        failf(c, n->args[0]->pos, "interp() needs a table with one numeric key");
        return;
    }
    if (!has_points(t)) {
        failf(c, n->args[0]->pos,
              "interp() needs table %s keyed by exact numbers in at least two rows (a band, * "
              "or a single row has nothing to interpolate between)",
              t->name);
        return;
    }
    vinfo xi;
    compile_node(c, scope, n->args[1], &xi);
    bind_key(c, t, 0, xi, n->args[1]->pos);
    note_use(c, t, col < 0 ? 0 : col, NULL, n->pos, true);
    int li = add_lookup(c, t, col < 0 ? 0 : col, n->pos);
    if (li >= 0)
        emit(c, OP_INTERP, 0, li, 0);
    *vi = (vinfo){T_NUM, 0};
}

static void compile_call(compiler *c, const mq_scope *scope, node *n, vinfo *vi)
{
    if (strcmp(n->name, "interp") == 0) {
        compile_interp(c, scope, n, vi);
        return;
    }
    /* health_class("standard"): a class name as a value, for `class:` */
    if (strcmp(n->name, "health_class") == 0) {
        int code = n->nargs == 1 && n->args[0]->kind == N_STR
                       ? mq_symbol_find(MQ_DOM_HEALTH_CLASS, n->args[0]->name)
                       : -1;
        if (code < 0) {
            failf(c, n->pos,
                  "health_class() takes one of preferred_plus, preferred, "
                  "standard_plus, standard, tobacco_preferred, tobacco_standard");
            return;
        }
        emit_const(c, code);
        *vi = (vinfo){T_ENUM, MQ_DOM_HEALTH_CLASS};
        return;
    }
    if (strcmp(n->name, "date") == 0) {
        int32_t day;
        if (n->nargs != 1 || n->args[0]->kind != N_STR || !mq_date_parse(n->args[0]->name, &day)) {
            failf(c, n->pos, "date() takes one string \"YYYY-MM-DD\" that is a real date");
            return;
        }
        emit_const(c, day);
        *vi = (vinfo){T_DATE, 0};
        return;
    }
    for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++) {
        if (strcmp(builtins[i].name, n->name) != 0)
            continue;
        if (n->nargs < builtins[i].min_args || n->nargs > builtins[i].max_args) {
            if (builtins[i].min_args == builtins[i].max_args)
                failf(c, n->pos, "%s() takes %d argument%s, not %d", n->name, builtins[i].min_args,
                      builtins[i].min_args == 1 ? "" : "s", n->nargs);
            else
                failf(c, n->pos, "%s() takes %d to %d arguments, not %d", n->name,
                      builtins[i].min_args, builtins[i].max_args, n->nargs);
            return;
        }
        vinfo first = {T_NUM, 0};
        for (int a = 0; a < n->nargs; a++) {
            vinfo ai;
            compile_node(c, scope, n->args[a], &ai);
            if (a == 0)
                first = ai;
            if (date_arg(builtins[i].fn, a) && ai.type != T_DATE && !c->p->error)
                failf(c, n->args[a]->pos, "%s() argument %d must be a date", n->name, a + 1);
        }
        emit(c, OP_CALL, builtins[i].fn, n->nargs, 1 - n->nargs);
        *vi = (vinfo){builtins[i].result, 0};
        if (builtins[i].fn == FN_MIN || builtins[i].fn == FN_MAX || builtins[i].fn == FN_DEFAULT)
            *vi = first.type == T_ENUM ? (vinfo){T_NUM, 0} : first;
        return;
    }
    failf(c, n->pos, "unknown function \"%s\"", n->name);
}

static mq_table *find_table(mq_compile_env *env, const char *name)
{
    for (int i = 0; i < env->ntables; i++)
        if (strcmp(env->tables[i]->name, name) == 0)
            return env->tables[i];
    return NULL;
}

static void compile_lookup(compiler *c, const mq_scope *scope, node *n, vinfo *vi)
{
    mq_table *t = find_table(c->env, n->name);
    int col = -1;
    if (!t) {
        const char *dot = strrchr(n->name, '.');
        if (dot) {
            char tname[128];
            snprintf(tname, sizeof tname, "%.*s", (int)(dot - n->name), n->name);
            t = find_table(c->env, tname);
            if (t && (col = mq_table_value_index(t, dot + 1)) < 0) {
                failf(c, n->pos, "table %s has no column \"%s\"", t->name, dot + 1);
                return;
            }
        }
    }
    if (!t) {
        for (int i = 0; i < c->env->nfailed; i++)
            if (strncmp(c->env->failed_tables[i], n->name, strlen(c->env->failed_tables[i])) == 0) {
                c->p->reported = !c->p->error; /* its file's error said why: one message */
                failf(c, n->pos, "table %s did not load", c->env->failed_tables[i]);
                return;
            }
        failf(c, n->pos, "unknown table \"%s\"", n->name);
        return;
    }
    if (col < 0) {
        if (t->nvalues != 1) {
            failf(c, n->pos, "table %s has %d value columns: name one, e.g. %s.%s[...]", t->name,
                  t->nvalues, t->name, t->value_names[0]);
            return;
        }
        col = 0;
    }
    if (n->nargs != t->nkeys) {
        failf(c, n->pos, "table %s takes %d key%s (%s...), not %d", t->name, t->nkeys,
              t->nkeys == 1 ? "" : "s", t->key_names[0], n->nargs);
        return;
    }
    for (int k = 0; k < n->nargs; k++) {
        vinfo ki;
        compile_node(c, scope, n->args[k], &ki);
        bind_key(c, t, k, ki, n->args[k]->pos);
    }
    note_use(c, t, col, n->args[0], n->pos, false);
    int li = add_lookup(c, t, col, n->pos);
    if (li >= 0)
        emit(c, OP_LOOKUP, t->nkeys, li, 1 - t->nkeys);
    *vi = (vinfo){T_NUM, 0};
}

bool mq_env_note_use(mq_compile_env *env, const mq_table *t, int column, const char *name, int line,
                     bool interp)
{
    if (env->nuses == env->capuses) {
        int cap = env->capuses ? 2 * env->capuses : 8;
        mq_key_use *uses = realloc(env->uses, (size_t)cap * sizeof(*uses));
        if (!uses)
            return false;
        env->uses = uses;
        env->capuses = cap;
    }
    char *copy = name ? strdup(name) : NULL;
    if (name && !copy)
        return false;
    env->uses[env->nuses++] = (mq_key_use){t, column, copy, line, interp};
    return true;
}

/* Notes the lookup of one-key table t by key node k (mq_env_note_use):
 * by its name when it is a plain field or variable ("policy." left out). */
static void note_use(compiler *c, const mq_table *t, int col, const node *k, int pos, bool interp)
{
    if (c->env->dry_run || c->p->error || t->nkeys != 1)
        return;
    const char *name = k && k->kind == N_REF && strncmp(k->name, "self.", 5) != 0 ? k->name : NULL;
    if (name && strncmp(name, "policy.", 7) == 0)
        name += 7;
    if (!mq_env_note_use(c->env, t, col, name, c->line, interp))
        fail(c->p, pos, "out of memory");
}

static int add_lookup(compiler *c, const mq_table *t, int col, int pos)
{
    mq_prog *pr = c->prog;
    mq_lookup *lk = realloc(pr->lookups, (size_t)(pr->nlookups + 1) * sizeof(mq_lookup));
    if (!lk) {
        fail(c->p, pos, "out of memory");
        return -1;
    }
    pr->lookups = lk;
    pr->lookups[pr->nlookups] = (mq_lookup){t, col};
    return pr->nlookups++;
}

void mq_scope_enter(mq_scope *s, mq_entity_kind k)
{
    const mq_line_def *l = s->line;
    s->bound[k] = true;
    if (l->parent[k] != MQ_ENT_POLICY)
        s->bound[l->parent[k]] = true;
    for (int f = 0; f < l->nfields[k]; f++)
        if (l->fields[k][f].type == MQ_T_LINK)
            s->bound[l->fields[k][f].link] = true;
}

static void compile_aggregate(compiler *c, const mq_scope *scope, node *n, vinfo *vi)
{
    const mq_line_def *l = c->env->line;
    const char *list = n->name;
    const char *dot = strrchr(list, '.');
    const char *coll = dot ? dot + 1 : list;
    int kind = -1;
    for (int k = 1; k < MQ_ENT_COUNT; k++)
        if (l->collection_names[k] && strcmp(l->collection_names[k], coll) == 0)
            kind = k;
    if (kind < 0) {
        failf(c, n->pos, "unknown list \"%s\"", list);
        return;
    }
    mq_agg agg = {.kind = n->agg, .over = (mq_entity_kind)kind};
    if (dot) {
        int owner = entity_by_name(l, list, (size_t)(dot - list));
        if (owner < 0 || (int)l->parent[kind] != owner || owner == MQ_ENT_POLICY) {
            failf(c, n->pos, "\"%s\" is not a list (try %s)", list, l->collection_names[kind]);
            return;
        }
        if (!scope->bound[owner]) {
            failf(c, n->pos, "no current %s for %s", l->entity_names[owner], list);
            return;
        }
        agg.children_of_current = true;
    }
    mq_scope inner = *scope;
    mq_scope_enter(&inner, (mq_entity_kind)kind);
    vinfo sub;
    if (n->b) {
        agg.cond = compile_sub(c, &inner, n->b, &sub);
        if (!agg.cond)
            return;
    }
    if (n->a) {
        agg.value = compile_sub(c, &inner, n->a, &sub);
        if (!agg.value) {
            mq_prog_free(agg.cond); /* compiled, but not yet owned by the program */
            return;
        }
    }
    mq_prog *pr = c->prog;
    mq_agg *aggs = realloc(pr->aggs, (size_t)(pr->naggs + 1) * sizeof(mq_agg));
    if (!aggs) {
        mq_prog_free(agg.cond);
        mq_prog_free(agg.value);
        fail(c->p, n->pos, "out of memory");
        return;
    }
    pr->aggs = aggs;
    pr->aggs[pr->naggs] = agg;
    emit(c, OP_AGG, 0, pr->naggs++, 1);
    *vi = (vinfo){n->agg == AGG_ANY || n->agg == AGG_ALL ? T_BOOL : T_NUM, 0};
}

static void compile_node(compiler *c, const mq_scope *scope, node *n, vinfo *vi)
{
    *vi = (vinfo){T_NUM, 0};
    if (!n || c->p->error)
        return;
    switch (n->kind) {
    case N_NUM:
        emit_const(c, n->num);
        if (n->boolean) /* `when: true`, `c ? true : false`: conditions */
            *vi = (vinfo){T_BOOL, 0};
        return;
    case N_STR:
        failf(c, n->pos,
              "a string can only be compared with a named value (e.g. "
              "driver.marital_status == \"married\")");
        return;
    case N_REF:
        compile_ref(c, scope, n, vi);
        return;
    case N_UNARY:
        compile_node(c, scope, n->a, vi);
        emit(c, n->op == TK_MINUS ? OP_NEG : OP_NOT, 0, 0, 0);
        if (n->op == TK_NOT)
            *vi = (vinfo){T_BOOL, 0};
        return;
    case N_BINARY:
        compile_binary(c, scope, n, vi);
        return;
    case N_COND: {
        vinfo a, b;
        compile_node(c, scope, n->a, &a);
        int jf = c->prog->ncode;
        emit(c, OP_JFALSE, 0, 0, -1);
        compile_node(c, scope, n->b, vi);
        int jend = c->prog->ncode;
        emit(c, OP_JUMP, 0, 0, -1);
        if (!c->p->error)
            c->prog->code[jf].b = c->prog->ncode;
        compile_node(c, scope, n->c, &b);
        if (!c->p->error)
            c->prog->code[jend].b = c->prog->ncode;
        return;
    }
    case N_CALL:
        compile_call(c, scope, n, vi);
        return;
    case N_LOOKUP:
        compile_lookup(c, scope, n, vi);
        return;
    case N_AGG:
        compile_aggregate(c, scope, n, vi);
        return;
    }
}

static mq_prog *compile_sub(compiler *outer, const mq_scope *scope, node *n, vinfo *vi)
{
    mq_prog *pr = calloc(1, sizeof(*pr));
    if (!pr) {
        fail(outer->p, n ? n->pos : 0, "out of memory");
        return NULL;
    }
    compiler c = {.env = outer->env, .p = outer->p, .prog = pr};
    compile_node(&c, scope, n, vi);
    if (!mq_prog_finish(pr))
        fail(outer->p, n ? n->pos : 0, "out of memory");
    if (outer->p->error) {
        mq_prog_free(pr);
        return NULL;
    }
    return pr;
}

enum { EXCERPT_BYTES = 100 };

/* The expression as an error message quotes it: whole, or its first
 * EXCERPT_BYTES bytes (cut between UTF-8 characters) and "...", so that a
 * runaway expression does not make a message of a megabyte. */
static const char *excerpt_of(const char *text, char buf[EXCERPT_BYTES + 4])
{
    size_t n = strlen(text);
    if (n <= EXCERPT_BYTES)
        return text;
    n = EXCERPT_BYTES;
    while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
        n--;
    memcpy(buf, text, n);
    memcpy(buf + n, "...", 4);
    return buf;
}

mq_prog *mq_expr_compile(mq_compile_env *env, const mq_scope *scope, const char *text, int line,
                         int col, mq_type *type_out, int *domain_out)
{
    mq_arena mem;
    mq_arena_init(&mem, 0);
    parser p = {.src = text, .mem = &mem};
    next(&p);
    node *root = parse_expr(&p);
    if (!p.error && p.tok.kind != TK_EOF)
        fail(&p, p.tok.pos, "unexpected text after the expression");
    mq_prog *pr = calloc(1, sizeof(*pr));
    if (pr && !p.error) {
        compiler c = {.env = env, .p = &p, .prog = pr, .line = line};
        vinfo vi;
        compile_node(&c, scope, root, &vi);
        if (!mq_prog_finish(pr))
            fail(&p, 0, "out of memory");
        if (type_out)
            *type_out = vi.type == T_BOOL   ? MQ_T_BOOL
                        : vi.type == T_DATE ? MQ_T_DATE
                        : vi.type == T_ENUM ? MQ_T_ENUM
                                            : MQ_T_NUMBER;
        if (domain_out)
            *domain_out = vi.domain;
    }
    if (p.error || !pr) {
        char excerpt[EXCERPT_BYTES + 4];
        if (!p.reported)
            mq_diag_add(env->diags, "%s:%d:%d: %s (in \"%s\")", env->file, line, col + p.error_pos,
                        p.error ? p.error : "out of memory", excerpt_of(text, excerpt));
        mq_prog_free(pr);
        pr = NULL;
    }
    mq_arena_free(&mem);
    return pr;
}

void mq_prog_free(mq_prog *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->naggs; i++) {
        mq_prog_free(p->aggs[i].cond);
        mq_prog_free(p->aggs[i].value);
    }
    free(p->aggs);
    free(p->lookups);
    free(p->code);
    free(p->run);
    free(p->tests);
    free(p->k);
    free(p);
}

bool mq_prog_same(const mq_prog *a, const mq_prog *b)
{
    if (a == b)
        return true;
    if (!a || !b || a->naggs || b->naggs || a->ncode != b->ncode || a->nk != b->nk ||
        a->nlookups != b->nlookups)
        return false;
    return memcmp(a->code, b->code, sizeof(mq_ins) * (size_t)a->ncode) == 0 &&
           (!a->nk || memcmp(a->k, b->k, sizeof(double) * (size_t)a->nk) == 0) &&
           (!a->nlookups ||
            memcmp(a->lookups, b->lookups, sizeof(mq_lookup) * (size_t)a->nlookups) == 0);
}

/* Whether p reads only entities of the kinds in `kinds` (bit per kind). An
 * aggregate makes its list's kind and that kind's parent current; the entity
 * an element links to is not counted (a missing link leaves the outer one). */
static bool reads_only(const mq_prog *p, unsigned kinds, const mq_line_def *l)
{
    for (int i = 0; i < p->ncode; i++) {
        const mq_ins *in = &p->code[i];
        switch ((mq_opcode)in->op) {
        case OP_FIELD:
        case OP_VAR:
        case OP_INDEX:
            if (!(kinds & (1u << in->a)))
                return false;
            break;
        case OP_SELF:
        case OP_SELF_INDEX:
            return false;
        case OP_AGG: {
            const mq_agg *g = &p->aggs[in->b];
            mq_entity_kind up = l->parent[g->over];
            unsigned inner = kinds | 1u << g->over | (up != MQ_ENT_POLICY ? 1u << up : 0);
            if ((g->children_of_current && !(kinds & (1u << up))) ||
                (g->cond && !reads_only(g->cond, inner, l)) ||
                (g->value && !reads_only(g->value, inner, l)))
                return false;
            break;
        }
        default:
            break;
        }
    }
    return true;
}

bool mq_prog_policy_only(const mq_prog *p, const mq_line_def *l)
{
    return reads_only(p, 1u << MQ_ENT_POLICY, l);
}

/* Whether p (when `inside` an aggregate) loads a variable of kind k. */
static bool loads_var_of(const mq_prog *p, mq_entity_kind k, bool inside)
{
    for (int i = 0; p && i < p->ncode; i++) {
        const mq_ins *in = &p->code[i];
        if (in->op == OP_VAR && inside && in->a == k)
            return true;
        if (in->op == OP_AGG && (loads_var_of(p->aggs[in->b].cond, k, true) ||
                                 loads_var_of(p->aggs[in->b].value, k, true)))
            return true;
    }
    return false;
}

bool mq_prog_aggregates_var_of(const mq_prog *p, mq_entity_kind k)
{
    return loads_var_of(p, k, false);
}

bool mq_prog_can_fail(const mq_prog *p)
{
    for (int i = 0; p && i < p->ncode; i++) {
        const mq_ins *in = &p->code[i];
        if (in->op == OP_LOOKUP || in->op == OP_INTERP)
            return true;
        if (in->op == OP_AGG &&
            (mq_prog_can_fail(p->aggs[in->b].cond) || mq_prog_can_fail(p->aggs[in->b].value)))
            return true;
    }
    return false;
}
