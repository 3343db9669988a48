/* fuzz_util.h -- small helpers shared by the libFuzzer targets (prefix fz_).
 *
 * Parsers that read files (a plan is a folder, reference data is two CSV
 * files) get their input written into one private temporary folder per
 * process, made at the first call and removed at exit. A multi-file input
 * is split on marker lines "==> NAME <==" (as `head` prints several files):
 * the text before the first marker is the first file (none when the input
 * starts with a marker), each marker starts
 * the file NAME (a plain file name: letters, digits, '.', '_' and '-').
 * Everything here is header-only so each target stays one .c file.
 */
#ifndef MQ_FUZZ_UTIL_H
#define MQ_FUZZ_UTIL_H

#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The process's temporary folder ("" when it cannot be made). */
static char fz_dir_path[256];

static inline void fz_dir_clear(void)
{
    DIR *d = opendir(fz_dir_path);
    if (!d)
        return;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", fz_dir_path, e->d_name);
        unlink(path);
    }
    closedir(d);
}

static inline void fz_dir_remove(void)
{
    fz_dir_clear();
    rmdir(fz_dir_path);
}

/* The emptied temporary folder; aborts when it cannot be made (a fuzzer
 * that silently tests nothing would be worse). */
static inline const char *fz_dir(void)
{
    if (!fz_dir_path[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(fz_dir_path, sizeof fz_dir_path, "%s/mq-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(fz_dir_path)) {
            perror("fuzz: mkdtemp");
            abort();
        }
        atexit(fz_dir_remove);
    }
    fz_dir_clear();
    return fz_dir_path;
}

static inline bool fz_write(const char *dir, const char *name, const uint8_t *data, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    bool ok = fwrite(data, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

static inline bool fz_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > 64 || s[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(s[i] == '.' || s[i] == '_' || s[i] == '-' || (s[i] >= '0' && s[i] <= '9') ||
              (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
            return false;
    return true;
}

/* Finds the next marker line at or after `from`; returns its offset (or
 * len) and the name's position and length. */
static inline size_t fz_next_marker(const uint8_t *data, size_t len, size_t from, size_t *name,
                                    size_t *namelen)
{
    for (size_t i = from; i + 8 <= len; i++) {
        if ((i > 0 && data[i - 1] != '\n') || memcmp(data + i, "==> ", 4) != 0)
            continue;
        const uint8_t *nl = memchr(data + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - data) : len;
        if (end - i < 8 || memcmp(data + end - 4, " <==", 4) != 0)
            continue;
        *name = i + 4;
        *namelen = end - 4 - (i + 4);
        return i;
    }
    return len;
}

/* Writes a multi-file input into `dir`: the text before the first marker as
 * `first`, then each marked file. A bad or repeated name is skipped (the
 * later one wins). Returns false when a file cannot be written. */
static inline bool fz_write_files(const char *dir, const char *first, const uint8_t *data,
                                  size_t len)
{
    size_t name = 0, namelen = 0;
    size_t at = fz_next_marker(data, len, 0, &name, &namelen);
    if (at > 0 && !fz_write(dir, first, data, at)) /* nothing before a marker: no first file */
        return false;
    while (at < len) {
        size_t this_name = name, this_len = namelen;
        const uint8_t *nl = memchr(data + at, '\n', len - at);
        size_t body = nl ? (size_t)(nl - data) + 1 : len;
        at = fz_next_marker(data, len, body, &name, &namelen);
        char fname[80];
        if (!fz_name_ok((const char *)data + this_name, this_len))
            continue;
        memcpy(fname, data + this_name, this_len);
        fname[this_len] = '\0';
        if (!fz_write(dir, fname, data + body, at - body))
            return false;
    }
    return true;
}

/* A NUL-terminated copy of the input (caller frees; NULL on OOM). */
static inline char *fz_strndup(const uint8_t *data, size_t len)
{
    char *s = malloc(len + 1);
    if (!s)
        return NULL;
    memcpy(s, data, len);
    s[len] = '\0';
    return s;
}

#endif
