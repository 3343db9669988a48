/* slow_dns.c -- an LD_PRELOAD shim for remote.test.mjs: a host name ending
 * in ".slow-dns.test" takes MQ_TEST_DNS_DELAY_MS (default 3000) to resolve,
 * then resolves to 127.0.0.1, as a carrier behind a slow or unreachable
 * name server would. Every other name resolves as usual. Built by the test
 * with the system's cc into a temporary folder. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int (*getaddrinfo_fn)(const char *, const char *, const struct addrinfo *,
                              struct addrinfo **);

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res)
{
    getaddrinfo_fn real = (getaddrinfo_fn)dlsym(RTLD_NEXT, "getaddrinfo");
    static const char suffix[] = ".slow-dns.test";
    size_t n = node ? strlen(node) : 0;
    if (!real)
        return EAI_SYSTEM;
    if (n < sizeof suffix || strcmp(node + n - (sizeof suffix - 1), suffix) != 0)
        return real(node, service, hints, res);
    const char *env = getenv("MQ_TEST_DNS_DELAY_MS");
    long ms = env ? atol(env) : 3000;
    struct timespec t = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0) {
    }
    return real("127.0.0.1", service, hints, res);
}
