/* The HTTPS side of kaas-webhook: libmicrohttpd with GnuTLS, one thread
 * per connection (a review blocks its thread on kaasd, never another
 * connection), routes
 *   POST /authenticate   TokenReview (client certificate checked when a
 *                        client CA is configured)
 *   GET  /healthz        200 "ok" when kaasd answers, else 503; anonymous
 *   GET  /metrics        Prometheus text; anonymous
 * and the status codes around them: 400 malformed review, 401/403 missing
 * or unverified client certificate, 404, 405 with Allow, 413 for a body
 * over max_body_size (refused from Content-Length, or while streaming in:
 * never more than the limit is buffered). Connections per client address
 * and the time to deliver a request are bounded by guard.h. */
#pragma once

#include <stddef.h>
#include <sys/socket.h>

struct wh_settings;
struct wh_reviewer;
struct wh_server;

/* Binds s->listen, loads the certificate, key and client CA and starts
 * serving. On failure returns a negative errno with a message in err. */
int wh_server_start(const struct wh_settings *s, const struct wh_reviewer *rv, struct wh_server **ret, char *err,
                    size_t err_size) __attribute__((warn_unused_result, nonnull(1, 2, 3, 4)));

/* Stops accepting connections, waits up to timeout_sec for the reviews in
 * flight to be answered, then closes everything. Accepts NULL; returns
 * NULL. */
struct wh_server *wh_server_stop(struct wh_server *srv, unsigned timeout_sec);

/* The fuzz harness's: hands the connected socket fd, from the client at
 * addr, to a server started with fuzz_plaintext (settings.h). The server
 * owns fd from then on, even on failure (-EIO). */
int wh_server_add_connection(struct wh_server *srv, int fd, const struct sockaddr *addr, socklen_t len)
        __attribute__((warn_unused_result, nonnull(1, 3)));
