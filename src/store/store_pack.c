/* store_pack.c -- the SQLite backend's packed texts: LZ4 blocks, with or
 * without a dictionary.
 *
 * A quote's request and response are stored as a BLOB that starts with a
 * 4-byte magic and the text's length (4 bytes, little-endian):
 *
 *   "\0MQ4" len  block             the text, LZ4-compressed
 *   "\0MQ5" len  dict-id  block    the same, against dictionary dict-id
 *                                  (8 bytes, little-endian)
 *
 * A dictionary is kept in the table pack_dicts (store_sqlite.c): for a
 * response, its line's of store_response_dicts.c; for a request, that of
 * store_request_dict.c, both built from the project's example requests.
 * LZ4 then finds most of a text in it: a family auto response packs to
 * about 1.5 KB instead of 3.9 KB, at the same CPU, and a quote's row fits
 * in a page of its own without overflow pages. Packing and unpacking are
 * pure: the caller finds the dictionary.
 */
#include "store_backend.h"

#include <lz4.h>
#include <stdlib.h>
#include <string.h>

enum { LEN_BYTES = 4, ID_BYTES = 8, MAGIC_BYTES = 4 };
enum { HEADER_PLAIN = MAGIC_BYTES + LEN_BYTES, HEADER_DICT = HEADER_PLAIN + ID_BYTES };
static const unsigned char MAGIC_PLAIN[MAGIC_BYTES] = {0, 'M', 'Q', '4'};
static const unsigned char MAGIC_DICT[MAGIC_BYTES] = {0, 'M', 'Q', '5'};

static void put_le(unsigned char *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* LZ4 streams: each of `primed` holds a dictionary as LZ4_loadDict left
 * it (a quote's request and its response have one each), and each text is
 * compressed on a copy of its dictionary's in `work`: 16 KiB copied instead
 * of the dictionary hashed again (LZ4_loadDict of a 12 KB response cost as
 * much as compressing one). */
enum { PRIMED = 2 };

typedef struct primed_dict {
    LZ4_stream_t stream;
    int64_t id; /* -1: none */
    const unsigned char *bytes;
} primed_dict;

struct store_packer {
    primed_dict primed[PRIMED];
    int last; /* the slot primed or used last */
    LZ4_stream_t work;
};

store_packer *store_packer_new(void)
{
    store_packer *p = malloc(sizeof(*p));
    if (!p)
        return NULL;
    for (int i = 0; i < PRIMED; i++)
        LZ4_initStream(&p->primed[i].stream, sizeof p->primed[i].stream);
    LZ4_initStream(&p->work, sizeof p->work);
    store_packer_forget(p);
    return p;
}

void store_packer_free(store_packer *p)
{
    free(p);
}

void store_packer_forget(store_packer *p)
{
    for (int i = 0; i < PRIMED; i++) {
        p->primed[i].id = -1;
        p->primed[i].bytes = NULL;
    }
    p->last = 0;
}

/* The stream primed with d: one that holds it already, else the one used
 * longest ago, primed now. */
static const LZ4_stream_t *primed_with(store_packer *p, const store_dict *d)
{
    for (int i = 0; i < PRIMED; i++)
        if (p->primed[i].id == d->id && p->primed[i].bytes == d->bytes) {
            p->last = i;
            return &p->primed[i].stream;
        }
    primed_dict *slot = &p->primed[p->last = (p->last + 1) % PRIMED];
    LZ4_loadDict(&slot->stream, (const char *)d->bytes, d->len);
    slot->id = d->id;
    slot->bytes = d->bytes;
    return &slot->stream;
}

/* Compresses text against d on the packer's streams. */
static int compress_with(store_packer *p, const store_dict *d, const char *text, char *dst, int len,
                         int bound)
{
    memcpy(&p->work, primed_with(p, d), sizeof p->work);
    return LZ4_compress_fast_continue(&p->work, text, dst, len, bound, 1);
}

unsigned char *store_pack(store_packer *p, const char *text, size_t len, const store_dict *d,
                          int *n)
{
    if (len > (size_t)LZ4_MAX_INPUT_SIZE)
        return NULL;
    int header = d ? HEADER_DICT : HEADER_PLAIN;
    int bound = LZ4_compressBound((int)len);
    unsigned char *b = malloc((size_t)header + (size_t)bound);
    if (!b)
        return NULL;
    memcpy(b, d ? MAGIC_DICT : MAGIC_PLAIN, MAGIC_BYTES);
    put_le(b + MAGIC_BYTES, len, LEN_BYTES);
    char *dst = (char *)b + header;
    int z;
    if (d) {
        put_le(b + HEADER_PLAIN, (uint64_t)d->id, ID_BYTES);
        z = compress_with(p, d, text, dst, (int)len, bound);
    } else
        z = LZ4_compress_default(text, dst, (int)len, bound);
    if (z <= 0) {
        free(b);
        return NULL;
    }
    *n = header + z;
    return b;
}

bool store_packed_dict_id(const unsigned char *blob, size_t n, int64_t *id)
{
    if (n < HEADER_DICT || memcmp(blob, MAGIC_DICT, MAGIC_BYTES) != 0)
        return false;
    *id = (int64_t)get_le(blob + HEADER_PLAIN, ID_BYTES);
    return true;
}

char *store_unpack(const unsigned char *blob, size_t n, const store_dict *d, size_t *len)
{
    bool with_dict = n >= MAGIC_BYTES && memcmp(blob, MAGIC_DICT, MAGIC_BYTES) == 0;
    int header = with_dict ? HEADER_DICT : HEADER_PLAIN;
    if (n < (size_t)header || (!with_dict && memcmp(blob, MAGIC_PLAIN, MAGIC_BYTES) != 0))
        return NULL;
    if (with_dict && (!d || d->id != (int64_t)get_le(blob + HEADER_PLAIN, ID_BYTES)))
        return NULL;
    size_t want = (size_t)get_le(blob + MAGIC_BYTES, LEN_BYTES);
    char *text = want <= (size_t)LZ4_MAX_INPUT_SIZE ? malloc(want + 1) : NULL;
    if (!text)
        return NULL;
    const char *src = (const char *)blob + header;
    int srclen = (int)(n - (size_t)header), got;
    if (with_dict)
        got = LZ4_decompress_safe_usingDict(src, text, srclen, (int)want, (const char *)d->bytes,
                                            d->len);
    else
        got = LZ4_decompress_safe(src, text, srclen, (int)want);
    if (got < 0 || (size_t)got != want) {
        free(text);
        return NULL;
    }
    text[want] = '\0';
    *len = want;
    return text;
}
