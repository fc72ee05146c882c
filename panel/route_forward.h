/* The forward-auth endpoint of kaas-panel (route_forward.c). */
#pragma once

#include <microhttpd.h>
#include <stdbool.h>

struct panel;
struct panel_settings;

/* GET /auth, answered without a page: the ingress's subrequest. */
enum MHD_Result route_forward_auth(struct panel *p, struct MHD_Connection *conn) __attribute__((nonnull));

/* Whether url may be where a login sends the browser back: an https URL on
 * the host of a configured service or the panel's own. */
bool panel_return_allowed(const struct panel_settings *s, const char *url) __attribute__((nonnull));
