/* test_support.c -- tests of the C tests' own helpers (support.c).
 *
 * The process spawner first: a child started by ts_spawn or ts_run gets
 * stdin, stdout and stderr and no other descriptor of the test's, so a
 * test that closes its end of a pipe or FIFO sees end-of-file even while a
 * server it started runs on; and running commands leaves no descriptor open
 * in the test itself.
 */
#include "support.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* How many descriptors this process has open (those of /proc/self/fd,
 * less the one reading it). */
static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.')
            n++;
    assert_int_equal(closedir(d), 0);
    return n - 1;
}

/* A folder for a test's files (mkdtemp); removed with remove_dir. */
static char *make_dir(void)
{
    char *dir = strdup("/tmp/mq-support-XXXXXX");
    assert_non_null(dir);
    assert_non_null(mkdtemp(dir));
    return dir;
}

static void remove_dir(char *dir)
{
    const char *names[] = {"stdout", "stderr"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (unlink(path) != 0)
            assert_int_equal(errno, ENOENT);
    }
    assert_int_equal(rmdir(dir), 0);
    free(dir);
}

/* A pipe the test made without O_CLOEXEC (as pipe(), socket() and fopen()
 * make them): once the test closes its write end, the read end is at
 * end-of-file even though a child started meanwhile still runs. A child
 * that inherited the write end would keep the pipe open until it exits. */
static void spawned_child_holds_no_descriptor_of_the_test(void **state)
{
    (void)state;
    char *dir = make_dir();
    char out[512], err[512];
    snprintf(out, sizeof out, "%s/stdout", dir);
    snprintf(err, sizeof err, "%s/stderr", dir);
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = ts_spawn("/bin/sleep", (const char *const[]){"30", NULL}, NULL, out, err);
    assert_int_equal(close(p[1]), 0);
    struct pollfd pfd = {.fd = p[0], .events = POLLIN};
    int ready = poll(&pfd, 1, 5000);
    char c;
    ssize_t got = ready == 1 ? read(p[0], &c, 1) : -1;
    assert_int_equal(kill(pid, SIGKILL), 0);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    assert_int_equal(close(p[0]), 0);
    remove_dir(dir);
    if (ready != 1 || got != 0)
        fail_msg("the pipe's write end stayed open in the child (poll %d, read %zd)", ready, got);
}

/* What the child has open, as it lists /proc/self/fd itself: 0, 1 and 2
 * (and the listing's own descriptor), whatever the test holds. */
static void spawned_child_has_only_stdio(void **state)
{
    (void)state;
    char *dir = make_dir();
    int held = open("/dev/null", O_RDONLY); /* no O_CLOEXEC */
    assert_true(held > 2);
    ts_result r =
        ts_run("/bin/ls", (const char *const[]){"-1", "/proc/self/fd", NULL}, NULL, dir, 30);
    assert_int_equal(close(held), 0);
    assert_int_equal(r.code, 0);
    /* ls's own listing of its folder is one descriptor past 2 */
    assert_string_equal(r.out, "0\n1\n2\n3\n");
    ts_result_free(&r);
    remove_dir(dir);
}

/* Running commands, successful or not, leaves the test with the
 * descriptors it had. */
static void running_commands_leaves_no_descriptor_open(void **state)
{
    (void)state;
    char *dir = make_dir();
    int before = open_fds();
    for (int i = 0; i < 20; i++) {
        ts_result r =
            ts_run("/bin/sh", (const char *const[]){"-c", "echo out; echo err >&2; exit 3", NULL},
                   NULL, dir, 30);
        assert_int_equal(r.code, 3);
        assert_string_equal(r.out, "out\n");
        assert_string_equal(r.err, "err\n");
        ts_result_free(&r);
    }
    assert_int_equal(open_fds(), before);
    remove_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spawned_child_holds_no_descriptor_of_the_test),
        cmocka_unit_test(spawned_child_has_only_stdio),
        cmocka_unit_test(running_commands_leaves_no_descriptor_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
