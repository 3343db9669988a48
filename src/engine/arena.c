/* arena.c -- request-lifetime memory: allocate many times, free once.
 *
 * Blocks are chained; each allocation is bumped from the newest block and a
 * larger block is chained when it does not fit: the first is under 1 KiB,
 * so a small job (one plan rating) costs one cheap malloc, then 16 KiB and
 * doubling. Everything a request needs
 * (parsed input, results, worksheet text) comes from one arena, so a request
 * is released with a single mq_arena_free() and nothing can leak on an error
 * path. An optional byte limit bounds what one request may take.
 */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mq_arena_block {
    mq_arena_block *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
};

/* The first block is small enough for malloc's per-thread cache (one plan
 * rating needs a few hundred bytes); the next ones are 16 KiB and more. */
enum { ARENA_FIRST_BLOCK = 1024 - sizeof(mq_arena_block), ARENA_MIN_BLOCK = 16 * 1024 };

void mq_arena_init(mq_arena *a, size_t limit)
{
    a->head = NULL;
    a->used_bytes = 0;
    a->limit = limit;
}

void *mq_arena_alloc_uninit(mq_arena *a, size_t size)
{
    size_t need = (size + 15) & ~(size_t)15;
    if (need < size)
        return NULL;
    if (a->limit && (need > a->limit || a->used_bytes > a->limit - need))
        return NULL;
    mq_arena_block *b = a->head;
    if (!b || b->size - b->used < need) {
        size_t least = b ? ARENA_MIN_BLOCK : ARENA_FIRST_BLOCK;
        size_t bsize = need > least ? need : least;
        if (b && bsize < b->size * 2 && b->size < 1024 * 1024)
            bsize = b->size * 2;
        b = malloc(sizeof(*b) + bsize);
        if (!b)
            return NULL;
        b->next = a->head;
        b->size = bsize;
        b->used = 0;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += need;
    a->used_bytes += need;
    return p;
}

void *mq_arena_alloc(mq_arena *a, size_t size)
{
    void *p = mq_arena_alloc_uninit(a, size);
    if (p)
        memset(p, 0, size);
    return p;
}

char *mq_arena_concat(mq_arena *a, const char *const *parts, int n)
{
    size_t len[8], total = 1;
    if (n > 8)
        return NULL;
    for (int i = 0; i < n; i++)
        total += len[i] = strlen(parts[i] ? parts[i] : "(null)");
    char *p = mq_arena_alloc_uninit(a, total), *at = p;
    for (int i = 0; p && i < n; i++) {
        memcpy(at, parts[i] ? parts[i] : "(null)", len[i]);
        at += len[i];
    }
    if (p)
        *at = '\0';
    return p;
}

char *mq_arena_strdup(mq_arena *a, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = mq_arena_alloc(a, n);
    if (p)
        memcpy(p, s, n);
    return p;
}

char *mq_arena_vprintf(mq_arena *a, const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    char *p = n < 0 ? NULL : mq_arena_alloc(a, (size_t)n + 1);
    if (p)
        vsnprintf(p, (size_t)n + 1, fmt, again);
    va_end(again);
    return p;
}

char *mq_arena_printf(mq_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = mq_arena_vprintf(a, fmt, ap);
    va_end(ap);
    return p;
}

void mq_arena_free(mq_arena *a)
{
    mq_arena_block *b = a->head;
    while (b) {
        mq_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->used_bytes = 0;
}
