/* listener.h -- accepting connections and running libmicrohttpd's event
 * loops on threads of our own (listener.c).
 *
 * One thread accepts; each connection goes, in turn, to one of N connection
 * threads, each driving a libmicrohttpd daemon of its own. The caps on open
 * connections, in all and per client address, are the listener's.
 */
#ifndef MQ_LISTENER_H
#define MQ_LISTENER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

struct MHD_Daemon;
struct MHD_Connection;

typedef struct mq_listener mq_listener;

/* Starts one daemon without a thread of its own (no
 * MHD_USE_INTERNAL_POLLING_THREAD; MHD_USE_EPOLL, MHD_USE_ITC and
 * MHD_USE_NO_LISTEN_SOCKET); NULL when it cannot. */
typedef struct MHD_Daemon *(*mq_listener_daemon_fn)(void *arg);

typedef struct mq_listener_config {
    int listen_fd;              /* bound and listening; the listener closes it */
    int threads;                /* connection threads (daemons), at least 1 */
    unsigned max_connections;   /* open in all; more wait to be accepted */
    unsigned max_per_ip;        /* open per client address, more refused; 0: no cap */
    atomic_long *refused_total; /* counts connections closed over max_per_ip; may be NULL */
    mq_listener_daemon_fn make_daemon;
    void *make_daemon_arg;
} mq_listener_config;

/* Starts the daemons and their threads; NULL (with a message in err) when
 * any cannot start, the listening socket closed. Nothing is accepted yet. */
mq_listener *mq_listener_new(const mq_listener_config *cfg, char *err, size_t errlen);

/* Starts accepting (a thread); false, with a message, when it cannot. */
bool mq_listener_accept(mq_listener *l, char *err, size_t errlen);

/* The daemon's connection notifications (MHD_OPTION_NOTIFY_CONNECTION,
 * with `started` for MHD_CONNECTION_NOTIFY_STARTED): a closed connection
 * frees its place under the caps. */
void mq_listener_note(mq_listener *l, struct MHD_Connection *conn, bool started);

/* Resumes a suspended connection: MHD_resume_connection, made on the
 * connection's own thread, which is woken for it if it sleeps (a daemon
 * without a thread of its own does not wake up on a resume made elsewhere;
 * seen with 0.9.75: every answer waited for the next request). Any thread. */
void mq_listener_resume(mq_listener *l, struct MHD_Connection *conn);

/* Stops accepting: connections not accepted yet are refused. Those open
 * are still served. */
void mq_listener_stop_accepting(mq_listener *l);

/* Stops the connection threads, then the daemons (closing what is still
 * open), and frees the listener. NULL is a no-op. */
void mq_listener_stop(mq_listener *l);

#endif
