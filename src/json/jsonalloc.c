/* jsonalloc.c -- jansson's memory: small blocks recycled per thread.
 *
 * A quote request's tree is about 200 small blocks (objects, their hash
 * buckets, keys, strings, numbers), all made while the request is read and
 * all freed when it is answered. glibc's per-thread cache keeps only 7 freed
 * blocks of a size; the rest went through malloc's shared bins and their
 * consolidation, 8-9% of the quote server's CPU (perf under
 * bench/bench_http.sh). mq_ja_install makes jansson allocate through here:
 * a freed block of a small size class goes on its thread's list for that
 * class (at most KEEP_PER_CLASS of them), and the next allocation of the
 * class on that thread takes it back without entering malloc.
 *
 * Blocks are plain malloc blocks, and a freed block's class is read back
 * with malloc_usable_size, so memory jansson hands out may still be freed
 * with free() (json_dumps' text is) and blocks made before the install may
 * be freed through here. A thread's lists are freed when it exits. Under
 * AddressSanitizer nothing is recycled, so that a use after free still
 * shows.
 */
#include "jsontext.h"

#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>

/* Class c serves requests of 24 + 16c bytes or fewer: glibc on 64 bits
 * gives n bytes a chunk of n + 8 rounded up to 16 (at least 32), of which
 * all but 8 bytes are usable, so its blocks fill the classes exactly.
 * Requests of up to 264 bytes are recycled. A freed block joins the class
 * its usable size can serve whole, so under valgrind, whose
 * malloc_usable_size is the size asked for, no block serves a larger
 * request than it was made for. */
enum { NCLASSES = 16, KEEP_PER_CLASS = 512 };

#if defined(__SANITIZE_ADDRESS__)
#define RECYCLING false
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RECYCLING false
#endif
#endif
#ifndef RECYCLING
#define RECYCLING true
#endif

typedef struct block {
    struct block *next;
} block;

/* One thread's recycled blocks: the allocator's whole state, per thread. */
typedef struct recycler {
    block *kept[NCLASSES];
    int count[NCLASSES];
    bool registered; /* its exit_key is set, so thread exit frees the blocks */
} recycler;

static _Thread_local recycler this_thread;
static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;

/* The class that serves a request of n bytes. */
static int class_of_request(size_t n)
{
    return n <= 24 ? 0 : (int)((n - 24 + 15) / 16);
}

/* The largest class a block of `usable` bytes serves whole; -1: none. */
static int class_of_block(size_t usable)
{
    return usable < 24 ? -1 : (int)((usable - 24) / 16);
}

static void free_kept(void *arg)
{
    recycler *r = arg;
    for (int c = 0; c < NCLASSES; c++) {
        while (r->kept[c]) {
            block *b = r->kept[c];
            r->kept[c] = b->next;
            free(b);
        }
        r->count[c] = 0;
    }
    r->registered = false;
}

static void make_exit_key(void)
{
    if (pthread_key_create(&exit_key, free_kept) != 0)
        exit_key = (pthread_key_t)-1;
}

/* Arranges for the thread's blocks to be freed when it exits; false when
 * that cannot be, and the block is then freed rather than kept. */
static bool register_thread(recycler *r)
{
    pthread_once(&exit_key_once, make_exit_key);
    if (exit_key == (pthread_key_t)-1 || pthread_setspecific(exit_key, r) != 0)
        return false;
    r->registered = true;
    return true;
}

static void *ja_malloc(size_t n)
{
    int c = class_of_request(n);
    recycler *r = &this_thread;
    if (c < NCLASSES && r->kept[c]) {
        block *b = r->kept[c];
        r->kept[c] = b->next;
        r->count[c]--;
        return b;
    }
    return malloc(n);
}

static void ja_free(void *p)
{
    if (!p)
        return;
    int c = class_of_block(malloc_usable_size(p));
    recycler *r = &this_thread;
    if (c < 0 || c >= NCLASSES || r->count[c] >= KEEP_PER_CLASS ||
        (!r->registered && !register_thread(r))) {
        free(p);
        return;
    }
    block *b = p;
    b->next = r->kept[c];
    r->kept[c] = b;
    r->count[c]++;
}

bool mq_ja_install(void)
{
    if (!RECYCLING)
        return false;
    json_set_alloc_funcs(ja_malloc, ja_free);
    return true;
}

int mq_ja_kept(void)
{
    int n = 0;
    for (int c = 0; c < NCLASSES; c++)
        n += this_thread.count[c];
    return n;
}
