/* The connection guard of kaas-webhook: what libmicrohttpd's own limits
 * (max_connections, an idle timeout) leave to a hostile peer.
 *
 *   - max_connections_per_client: connections one client address may hold
 *     at once; more are closed as soon as they are accepted, so one host
 *     cannot take every connection kube-apiserver needs.
 *   - request_timeout: a connection gets this long to deliver a whole
 *     request, from its acceptance (the TLS handshake included) or, on a
 *     kept-alive connection, from the first byte of its next request. An
 *     idle timeout is reset by every byte; this deadline is not, so a
 *     client trickling a byte a second is closed all the same.
 *
 * Every connection is tracked from libmicrohttpd's "started" to its
 * "closed" notification. A thread of the guard's own checks the deadlines
 * once a second and ends an overdue connection with shutdown(2) on its
 * socket: the connection's thread then sees the end of the stream and
 * closes it the ordinary way. Linux only (TCP_INFO tells when the next
 * request starts arriving). Counts go to metrics.h, decisions to the log. */
#pragma once

#include <stdbool.h>
#include <sys/socket.h>

struct wh_guard;
struct wh_conn;

/* Starts the deadline thread. Returns 0 or a negative errno. */
int wh_guard_new(unsigned max_per_client, unsigned request_timeout_sec, struct wh_guard **ret)
        __attribute__((warn_unused_result, nonnull));

/* Stops the deadline thread and frees what is left; call it after the
 * connections are closed. Accepts NULL; returns NULL. */
struct wh_guard *wh_guard_free(struct wh_guard *g);

/* libmicrohttpd's accept policy: false when addr already holds
 * max_per_client connections (counted and logged). */
bool wh_guard_admit(struct wh_guard *g, const struct sockaddr *addr, socklen_t len) __attribute__((nonnull));

/* A connection was accepted on fd: its request deadline starts. NULL when
 * out of memory (the connection is then not tracked). */
struct wh_conn *wh_guard_opened(struct wh_guard *g, int fd, const struct sockaddr *addr)
        __attribute__((nonnull(1)));

/* The connection is closing; c is freed. Accepts NULL. */
void wh_guard_closed(struct wh_guard *g, struct wh_conn *c) __attribute__((nonnull(1)));

/* The request is in (an answer is queued): no deadline while answering.
 * Accepts NULL. Called from the connection's own thread. */
void wh_guard_answering(struct wh_conn *c);

/* The answer went out: the connection is idle (and left to the idle
 * timeout) until its next request starts to arrive. Accepts NULL. Called
 * from the connection's own thread. */
void wh_guard_answered(struct wh_conn *c);
