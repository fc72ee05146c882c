/* The forward-auth endpoint of kaas-panel (route_forward.c). */
#pragma once

#include <microhttpd.h>

struct panel;

/* GET /auth, answered without a page: the ingress's subrequest. */
enum MHD_Result route_forward_auth(struct panel *p, struct MHD_Connection *conn) __attribute__((nonnull));
