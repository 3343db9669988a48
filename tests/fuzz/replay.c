/* replay.c -- a main() for the fuzz targets without libFuzzer: runs each
 * input once, as `fuzz_X FILE...` does in a libFuzzer build.
 *
 * The test builds (gcc, ASan+UBSan in build-asan) link every target with
 * this file, so `make test` replays the stored regression inputs and the
 * seed corpora without clang's fuzzer build; `make fuzz` links the same
 * targets with libFuzzer instead (tests/fuzz/meson.build). Arguments: files,
 * and folders whose files are each an input (in name order); arguments
 * starting with '-' are libFuzzer's options and are ignored, so run.sh
 * calls both builds alike. A crash, a sanitizer report or a leak ends the
 * process as it does under libFuzzer; otherwise it prints how many inputs
 * ran and exits 0 (1 when an argument cannot be read).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Defined by the targets that set up state once (plans, a store). */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* Runs the target on the file `path`, read into a buffer of exactly its
 * size (as libFuzzer gives: ASan then sees a read past the input's end);
 * 0, or -1 (said on stderr) when it cannot be read. */
static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        goto fail;
    struct stat st;
    if (fstat(fileno(f), &st) != 0)
        goto fail;
    size_t size = (size_t)st.st_size;
    uint8_t *data = malloc(size ? size : 1);
    if (!data)
        goto fail;
    if (fread(data, 1, size, f) != size) {
        free(data);
        goto fail;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(data, size);
    free(data);
    return 0;
fail:
    perror(path);
    if (f)
        fclose(f);
    return -1;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* Replays `path` (a file, or every regular file of a folder); adds the
 * inputs run to *count. 0, or -1 when something could not be read. */
static int replay_path(const char *path, long *count)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (replay_file(path) != 0)
            return -1;
        ++*count;
        return 0;
    }
    struct dirent **names;
    int n = scandir(path, &names, NULL, by_name);
    if (n < 0) {
        perror(path);
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        char file[4096];
        snprintf(file, sizeof file, "%s/%s", path, names[i]->d_name);
        if (names[i]->d_name[0] != '.' && stat(file, &st) == 0 && S_ISREG(st.st_mode)) {
            if (replay_file(file) != 0)
                rc = -1;
            else
                ++*count;
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    long count = 0;
    int rc = 0;
    for (int i = 1; i < argc; i++)
        if (argv[i][0] != '-' && replay_path(argv[i], &count) != 0)
            rc = 1;
    printf("%s: %ld inputs replayed\n", argv[0], count);
    return rc;
}
