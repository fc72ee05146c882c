/* Answers of the HTTPS daemons: every response carries
 * X-Content-Type-Options: nosniff and the headers the daemon adds (its
 * security policy: Cache-Control, Content-Security-Policy, ...), and stops
 * the connection guard's deadline (server.h). */
#pragma once

#include <microhttpd.h>
#include <stddef.h>

/* One header; a list of them ends with { NULL, NULL }. */
struct hd_header {
        const char *name;
        const char *value;
};

/* Queues body (taken: wiped and freed by libmicrohttpd, or here on
 * failure) as status code with content_type and the headers of each
 * NULL-terminated list in policy and extra (either may be NULL). */
enum MHD_Result hd_respond(struct MHD_Connection *conn, unsigned code, const char *content_type, char *body,
                           size_t len, const struct hd_header *policy, const struct hd_header *extra)
        __attribute__((nonnull(1, 3)));

/* The same for data that outlives the server (static files), not copied. */
enum MHD_Result hd_respond_static(struct MHD_Connection *conn, unsigned code, const char *content_type,
                                  const void *data, size_t len, const struct hd_header *policy,
                                  const struct hd_header *extra) __attribute__((nonnull(1, 3)));

/* The same for a copy of text, as text/plain. */
enum MHD_Result hd_respond_text(struct MHD_Connection *conn, unsigned code, const char *text,
                                const struct hd_header *policy, const struct hd_header *extra)
        __attribute__((nonnull(1, 3)));
