/* The HTTPS side of kaas-panel: httpd/server.h's libmicrohttpd with
 * GnuTLS, requests read (a POST's body bounded and decoded by form.h),
 * the session cookie, the cross-site checks and the CSRF token of every
 * POST, and the routes of panel.h. See kaas-panel(8) for the pages. */
#pragma once

#include <stdbool.h>

struct panel;
struct panel_server;

int panel_server_start(struct panel *p, struct panel_server **ret, char *err, size_t err_size)
        __attribute__((warn_unused_result, nonnull));

/* Stops accepting, waits up to timeout_sec for requests in flight, frees.
 * Accepts NULL; returns NULL. */
struct panel_server *panel_server_stop(struct panel_server *srv, unsigned timeout_sec);
