/* The connection guard of the HTTPS daemons (kaas-webhook, kaas-panel): what libmicrohttpd's own limits
 * (max_connections, an idle timeout) leave to a hostile peer.
 *
 *   - max_connections_per_client: connections one client (an IPv4
 *     address, an IPv6 /64) may hold at once; more are closed as soon as
 *     they are accepted, so one host cannot take every connection
 *     kube-apiserver needs.
 *   - request_timeout: a connection gets this long to deliver a whole
 *     request, from its acceptance (the TLS handshake included) or, on a
 *     kept-alive connection, from the first byte of its next request. An
 *     idle timeout is reset by every byte; this deadline is not, so a
 *     client trickling a byte a second is closed all the same. It is
 *     also the most a client may leave its answers untaken: a connection
 *     whose send queue holds bytes the peer does not acknowledge, with no
 *     progress for request_timeout, is ended too (a client that sends
 *     requests and never reads the answers).
 *
 * Every connection is tracked from libmicrohttpd's "started" to its
 * "closed" notification. A thread of the guard's own checks the deadlines
 * once a second and ends an overdue connection with shutdown(2) on its
 * socket: the connection's thread then sees the end of the stream and
 * closes it the ordinary way. Linux only (TCP_INFO tells when the next
 * request starts arriving). Counts go to the daemon's hooks, decisions to
 * the log. */
#pragma once

#include <stdbool.h>
#include <sys/socket.h>

struct hd_guard;
struct hd_conn;

/* What a daemon counts (kaas-webhook's metrics); any hook may be NULL. */
struct hd_guard_events {
        void (*connections)(int delta);   /* opened +1, closed -1 */
        void (*refused)(void);            /* over max_per_client */
        void (*request_timeout)(void);    /* cut at its deadline, or answers untaken */
};

/* Starts the deadline thread. Returns 0 or a negative errno. */
int hd_guard_new(unsigned max_per_client, unsigned request_timeout_sec, const struct hd_guard_events *events,
                 struct hd_guard **ret) __attribute__((warn_unused_result, nonnull(4)));

/* Stops the deadline thread and frees what is left; call it after the
 * connections are closed. Accepts NULL; returns NULL. */
struct hd_guard *hd_guard_free(struct hd_guard *g);

/* libmicrohttpd's accept policy: false when addr already holds
 * max_per_client connections (counted and logged). */
bool hd_guard_admit(struct hd_guard *g, const struct sockaddr *addr, socklen_t len) __attribute__((nonnull));

/* A connection was accepted on fd: its request deadline starts. NULL when
 * out of memory (the connection is then not tracked). */
struct hd_conn *hd_guard_opened(struct hd_guard *g, int fd, const struct sockaddr *addr)
        __attribute__((nonnull(1)));

/* The connection is closing; c is freed. Accepts NULL. */
void hd_guard_closed(struct hd_guard *g, struct hd_conn *c) __attribute__((nonnull(1)));

/* The request is in (an answer is queued): no deadline while answering.
 * Accepts NULL. Called from the connection's own thread. */
void hd_guard_answering(struct hd_conn *c);

/* The answer went out: the connection is idle (and left to the idle
 * timeout) until its next request starts to arrive. Accepts NULL. Called
 * from the connection's own thread. */
void hd_guard_answered(struct hd_conn *c);
