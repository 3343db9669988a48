/* listener.c -- accepting connections and running libmicrohttpd's event
 * loops on threads of our own.
 *
 * Why not libmicrohttpd's own threads: in the version Debian 12 ships
 * (0.9.75) a polling thread that gets a full array of events from
 * epoll_wait (128) calls epoll_wait again, with the same blocking timeout,
 * before it handles any of them. When exactly 128 connections were ready it
 * then sleeps on them until something else happens on one of its sockets (a
 * new connection, a resumed one) or the idle timeout (30 s) passes. wrk with
 * 128 connections showed it: 6,400 quotes/s and stalls of seconds, against
 * 21,000-25,000 with 126 or 140. Driven from outside (MHD_run), a daemon's
 * epoll_wait never blocks; our thread sleeps in poll() on the daemon's
 * epoll descriptor, which is readable whenever any of its events is.
 *
 * So: one thread (mq-accept) accepts, and hands each connection in turn to
 * one of N connection threads (mq-http), each with a daemon of its own and a
 * queue of connections to add (MHD_add_connection is called on the thread
 * that runs the daemon, never beside it). Taking turns also spreads a burst
 * of new connections evenly, which libmicrohttpd's threads, each accepting
 * what it saw first, did not (wrk's 64 split 13/52 in one run of four).
 *
 * Every call into a daemon is made on its own thread. Other threads queue
 * work for it: the acceptor new connections, the rating threads and the
 * store's writer the connections to resume once a quote is rated or saved
 * (mq_listener_resume; a daemon without a thread of its own would not wake
 * up on a resume made elsewhere: its epoll descriptor does not show it).
 * The eventfd that wakes a connection thread is written only when the
 * thread is asleep: under load it mostly is not, and takes what was queued
 * on its next turn.
 *
 * The caps are counted here, as a connection is accepted: open connections
 * in all (beyond it the acceptor waits, the client unserved, until one
 * closes) and per client: an IPv4 address or an IPv6 /64 (beyond it the connection is closed at
 * once, as libmicrohttpd's own cap did). A connection's place is given back
 * when its daemon says it closed (mq_listener_note), or when the daemon
 * refused it.
 */
#include "listener.h"
#include "ratelimit.h"

#include <errno.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

enum { IP_BUCKETS = 1024, CAP_WAIT_US = 2000, OUT_OF_FDS_WAIT_US = 10000 };

/* A client's open connections. The client is the rate limiter's
 * (ratelimit.c): an IPv4 address, or an IPv6 /64 network, what one
 * subscriber gets, so that a host cannot pass the cap by taking a new
 * address of its network for every few connections. */
typedef struct ip_count {
    struct ip_count *next;
    unsigned open;
    mq_rl_key key;
} ip_count;

/* An accepted connection, queued for its connection thread. */
typedef struct incoming {
    struct incoming *next;
    int fd;
    socklen_t len;
    struct sockaddr_storage from;
} incoming;

/* One connection thread and the daemon it drives. */
typedef struct conn_thread {
    mq_listener *owner;
    struct MHD_Daemon *daemon;
    int epoll_fd;         /* the daemon's: readable when it has something to do */
    int wake_fd;          /* eventfd: written only while the thread sleeps (or stops) */
    pthread_mutex_t lock; /* guards what follows, to `sleeping` */
    incoming *head, *tail;
    /* connections to resume, at most one entry each (a connection is
     * resumed once per suspension), so never more than are open: `cap`
     * is --max-connections. Two arrays, swapped under the lock. */
    struct MHD_Connection **resume, **resuming;
    size_t nresume, cap;
    bool sleeping;       /* in poll(), or about to be: wake it */
    bool adding_started; /* the daemon said STARTED during MHD_add_connection */
    pthread_t thread;
    bool running;
} conn_thread;

struct mq_listener {
    int fd;
    unsigned max_connections, max_per_ip;
    atomic_long *refused_total;
    atomic_uint open;        /* accepted and not closed, in all */
    pthread_mutex_t ip_lock; /* guards ips */
    ip_count *ips[IP_BUCKETS];
    pthread_t accept_thread;
    bool accepting;
    atomic_bool stop_accepting, stop;
    unsigned next; /* the thread the next connection goes to (acceptor only) */
    int nthreads;
    conn_thread threads[];
};

/* ---- Per-address counts ---------------------------------------------------- */

static unsigned bucket_of(const mq_rl_key *key)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < sizeof key->bytes; i++)
        h = (h ^ key->bytes[i]) * 16777619u;
    return h & (IP_BUCKETS - 1);
}

static ip_count **find_ip(mq_listener *l, const mq_rl_key *key)
{
    ip_count **pp = &l->ips[bucket_of(key)];
    while (*pp && memcmp((*pp)->key.bytes, key->bytes, sizeof key->bytes) != 0)
        pp = &(*pp)->next;
    return pp;
}

/* Counts one more connection from sa; false when its client is at its cap
 * (or out of memory). Clients are counted only under a cap. */
static bool take_ip(mq_listener *l, const struct sockaddr *sa)
{
    mq_rl_key key;
    if (l->max_per_ip == 0 || !mq_rl_key_from_sockaddr(sa, &key))
        return true;
    bool ok = false;
    pthread_mutex_lock(&l->ip_lock);
    ip_count **pp = find_ip(l, &key);
    if (!*pp && (*pp = calloc(1, sizeof **pp)))
        (*pp)->key = key;
    if (*pp && (*pp)->open < l->max_per_ip) {
        (*pp)->open++;
        ok = true;
    }
    pthread_mutex_unlock(&l->ip_lock);
    return ok;
}

static void give_back_ip(mq_listener *l, const struct sockaddr *sa)
{
    mq_rl_key key;
    if (l->max_per_ip == 0 || !mq_rl_key_from_sockaddr(sa, &key))
        return;
    pthread_mutex_lock(&l->ip_lock);
    ip_count **pp = find_ip(l, &key);
    if (*pp && --(*pp)->open == 0) {
        ip_count *gone = *pp;
        *pp = gone->next;
        free(gone);
    }
    pthread_mutex_unlock(&l->ip_lock);
}

/* A connection's place under both caps, given back. */
static void give_back(mq_listener *l, const struct sockaddr *sa)
{
    give_back_ip(l, sa);
    atomic_fetch_sub(&l->open, 1);
}

/* ---- Connection threads ------------------------------------------------------ */

static void wake(conn_thread *t)
{
    uint64_t one = 1;
    ssize_t n;
    do
        n = write(t->wake_fd, &one, sizeof one);
    while (n < 0 && errno == EINTR);
    /* EAGAIN: the counter is full, so the thread is awake already */
}

/* Whether t's thread sleeps, so that work just queued for it needs a word
 * (wake, sent after the lock is let go); called with its lock held. */
static bool take_sleeper(conn_thread *t)
{
    bool sleeping = t->sleeping;
    t->sleeping = false;
    return sleeping;
}

/* Does what other threads queued for the daemon, on its own thread: the
 * resumes, then the new connections. */
static void do_queued(conn_thread *t)
{
    pthread_mutex_lock(&t->lock);
    incoming *in = t->head;
    t->head = t->tail = NULL;
    struct MHD_Connection **resume = t->resume;
    size_t nresume = t->nresume;
    t->resume = t->resuming;
    t->resuming = resume;
    t->nresume = 0;
    pthread_mutex_unlock(&t->lock);
    for (size_t i = 0; i < nresume; i++)
        MHD_resume_connection(resume[i]);
    while (in) {
        incoming *next = in->next;
        t->adding_started = false;
        /* refused (memory, the daemon's own limits): the daemon closes it.
         * If it had said STARTED, it says CLOSED too, which gives the place
         * back; otherwise it is given back here. */
        if (MHD_add_connection(t->daemon, in->fd, (struct sockaddr *)&in->from, in->len) !=
                MHD_YES &&
            !t->adding_started)
            give_back(t->owner, (struct sockaddr *)&in->from);
        free(in);
        in = next;
    }
}

/* How long the daemon may sleep: until its next connection timeout, or for
 * ever; 0 when it has work in hand. */
static int daemon_timeout_ms(struct MHD_Daemon *d)
{
    MHD_UNSIGNED_LONG_LONG ms;
    if (MHD_get_timeout(d, &ms) != MHD_YES)
        return -1;
    return ms > 60 * 1000 ? 60 * 1000 : (int)ms;
}

static void *conn_thread_main(void *arg)
{
    conn_thread *t = arg;
    pthread_setname_np(pthread_self(), "mq-http"); /* for top -H, perf and gdb */
    struct pollfd fds[2] = {{.fd = t->epoll_fd, .events = POLLIN},
                            {.fd = t->wake_fd, .events = POLLIN}};
    while (!atomic_load(&t->owner->stop)) {
        do_queued(t);
        MHD_run(t->daemon);
        /* sleep only with nothing queued; from here on, whoever queues
         * something writes the eventfd (an awake thread is not told) */
        pthread_mutex_lock(&t->lock);
        t->sleeping = !t->head && t->nresume == 0;
        bool sleep = t->sleeping;
        pthread_mutex_unlock(&t->lock);
        if (!sleep)
            continue;
        if (poll(fds, 2, daemon_timeout_ms(t->daemon)) > 0 && (fds[1].revents & POLLIN)) {
            uint64_t count;
            if (read(t->wake_fd, &count, sizeof count) < 0 && errno != EAGAIN)
                break; /* cannot happen with an eventfd; not a busy loop */
        }
        pthread_mutex_lock(&t->lock);
        t->sleeping = false;
        pthread_mutex_unlock(&t->lock);
    }
    return NULL;
}

static bool conn_thread_start(mq_listener *l, conn_thread *t, const mq_listener_config *cfg,
                              char *err, size_t errlen)
{
    t->owner = l;
    t->wake_fd = -1;
    pthread_mutex_init(&t->lock, NULL);
    t->cap = cfg->max_connections + 1;
    t->resume = calloc(t->cap, sizeof *t->resume);
    t->resuming = calloc(t->cap, sizeof *t->resuming);
    if (!t->resume || !t->resuming) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    if (!(t->daemon = cfg->make_daemon(cfg->make_daemon_arg))) {
        snprintf(err, errlen, "cannot start the HTTP daemon");
        return false;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(t->daemon, MHD_DAEMON_INFO_EPOLL_FD);
    t->epoll_fd = info ? info->epoll_fd : -1;
    t->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (t->epoll_fd < 0 || t->wake_fd < 0) {
        snprintf(err, errlen, "cannot set up a connection thread: %s",
                 t->wake_fd < 0 ? strerror(errno) : "the daemon has no epoll descriptor");
        return false;
    }
    t->running = pthread_create(&t->thread, NULL, conn_thread_main, t) == 0;
    if (!t->running)
        snprintf(err, errlen, "cannot start a connection thread");
    return t->running;
}

/* ---- Accepting --------------------------------------------------------------- */

static void hand_over(mq_listener *l, incoming *in)
{
    conn_thread *t = &l->threads[l->next];
    l->next = (l->next + 1) % (unsigned)l->nthreads;
    in->next = NULL;
    pthread_mutex_lock(&t->lock);
    if (t->tail)
        t->tail->next = in;
    else
        t->head = in;
    t->tail = in;
    bool asleep = take_sleeper(t);
    pthread_mutex_unlock(&t->lock);
    if (asleep)
        wake(t);
}

/* One accepted connection, within the caps: waits (the client unserved)
 * while all places are taken; closed at once over its address's cap. */
static void admit(mq_listener *l, incoming *in)
{
    while (atomic_load(&l->open) >= l->max_connections && !atomic_load(&l->stop_accepting))
        usleep(CAP_WAIT_US);
    bool stopping = atomic_load(&l->stop_accepting);
    if (stopping || !take_ip(l, (struct sockaddr *)&in->from)) {
        if (!stopping && l->refused_total)
            atomic_fetch_add(l->refused_total, 1);
        close(in->fd);
        free(in);
        return;
    }
    atomic_fetch_add(&l->open, 1);
    hand_over(l, in);
}

static void *accept_main(void *arg)
{
    mq_listener *l = arg;
    pthread_setname_np(pthread_self(), "mq-accept"); /* for top -H, perf and gdb */
    while (!atomic_load(&l->stop_accepting)) {
        incoming *in = malloc(sizeof *in);
        if (!in) {
            usleep(OUT_OF_FDS_WAIT_US);
            continue;
        }
        in->len = sizeof in->from;
        in->fd = accept4(l->fd, (struct sockaddr *)&in->from, &in->len, SOCK_CLOEXEC);
        if (in->fd >= 0) {
            admit(l, in);
            continue;
        }
        int e = errno;
        free(in);
        if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM)
            usleep(OUT_OF_FDS_WAIT_US); /* out of descriptors or memory: not a busy loop */
    }
    return NULL;
}

/* ---- Lifecycle --------------------------------------------------------------- */

mq_listener *mq_listener_new(const mq_listener_config *cfg, char *err, size_t errlen)
{
    int n = cfg->threads > 0 ? cfg->threads : 1;
    mq_listener *l = calloc(1, sizeof *l + (size_t)n * sizeof(conn_thread));
    if (!l) {
        close(cfg->listen_fd);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    l->fd = cfg->listen_fd;
    l->max_connections = cfg->max_connections;
    l->max_per_ip = cfg->max_per_ip;
    l->refused_total = cfg->refused_total;
    pthread_mutex_init(&l->ip_lock, NULL);
    for (; l->nthreads < n; l->nthreads++)
        if (!conn_thread_start(l, &l->threads[l->nthreads], cfg, err, errlen)) {
            l->nthreads++; /* half started: stopped and freed with the others */
            mq_listener_stop(l);
            return NULL;
        }
    return l;
}

bool mq_listener_accept(mq_listener *l, char *err, size_t errlen)
{
    l->accepting = pthread_create(&l->accept_thread, NULL, accept_main, l) == 0;
    if (!l->accepting)
        snprintf(err, errlen, "cannot start the acceptor thread");
    return l->accepting;
}

/* The connection thread whose daemon holds conn; NULL for none of ours. */
static conn_thread *thread_of(mq_listener *l, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *d = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_DAEMON);
    for (int i = 0; d && i < l->nthreads; i++)
        if (l->threads[i].daemon == d->daemon)
            return &l->threads[i];
    return NULL;
}

void mq_listener_note(mq_listener *l, struct MHD_Connection *conn, bool started)
{
    if (started) {
        conn_thread *t = thread_of(l, conn);
        if (t)
            t->adding_started = true;
        return;
    }
    const union MHD_ConnectionInfo *a =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    give_back(l, a ? a->client_addr : NULL);
}

void mq_listener_resume(mq_listener *l, struct MHD_Connection *conn)
{
    /* a suspended connection stays until resumed: its daemon can be asked */
    conn_thread *t = thread_of(l, conn);
    if (!t) {
        MHD_resume_connection(conn); /* cannot happen: not one of ours */
        return;
    }
    pthread_mutex_lock(&t->lock);
    bool queued = t->nresume < t->cap;
    if (queued)
        t->resume[t->nresume++] = conn;
    bool asleep = take_sleeper(t);
    pthread_mutex_unlock(&t->lock);
    if (!queued)
        MHD_resume_connection(conn); /* cannot happen (see conn_thread) */
    if (asleep || !queued)
        wake(t);
}

void mq_listener_stop_accepting(mq_listener *l)
{
    if (!l)
        return;
    atomic_store(&l->stop_accepting, true);
    if (l->fd >= 0)
        shutdown(l->fd, SHUT_RDWR); /* wakes accept4 */
    if (l->accepting)
        pthread_join(l->accept_thread, NULL);
    l->accepting = false;
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
}

void mq_listener_stop(mq_listener *l)
{
    if (!l)
        return;
    mq_listener_stop_accepting(l);
    atomic_store(&l->stop, true);
    for (int i = 0; i < l->nthreads; i++) {
        conn_thread *t = &l->threads[i];
        if (t->running) {
            wake(t);
            pthread_join(t->thread, NULL);
        }
    }
    for (int i = 0; i < l->nthreads; i++) {
        conn_thread *t = &l->threads[i];
        for (incoming *in = t->head, *next; in; in = next) {
            next = in->next;
            close(in->fd);
            free(in);
        }
        if (t->daemon) {
            /* once more, with its thread gone: a connection resumed since
             * (the last rated quote's) is answered, not left suspended,
             * which libmicrohttpd does not stop with */
            for (size_t k = 0; k < t->nresume; k++)
                MHD_resume_connection(t->resume[k]);
            t->nresume = 0;
            MHD_run(t->daemon);
            MHD_stop_daemon(t->daemon); /* closes what is open: notes come back here */
        }
        if (t->wake_fd >= 0)
            close(t->wake_fd);
        free(t->resume);
        free(t->resuming);
        pthread_mutex_destroy(&t->lock);
    }
    for (int b = 0; b < IP_BUCKETS; b++)
        for (ip_count *c = l->ips[b], *next; c; c = next) {
            next = c->next;
            free(c);
        }
    pthread_mutex_destroy(&l->ip_lock);
    free(l);
}
