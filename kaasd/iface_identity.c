/* io.kaas.Identity: Keystone users as the identity cache knows them.
 * Open to every local user (DESIGN §4): a User holds no secret. A lookup
 * that waits for Keystone holds a reference on its call; when the client
 * goes away meanwhile the answer is dropped, and the fetch still fills the
 * cache for the next caller. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "daemon.h"
#include "identity.h"
#include "log.h"
#include "methods.h"

#define ERR_USER_NOT_FOUND "io.kaas.Identity.UserNotFound"
#define ERR_UNAVAILABLE "io.kaas.Identity.Unavailable"
#define ERR_INVALID "io.kaas.Identity.InvalidArgument"

struct get_user {
        struct call *call;
        struct daemon *daemon;
};

static void on_user(int status, const struct identity *id, enum identity_source src, const char *error,
                    void *userdata) {
        struct get_user *g = userdata;
        struct call *call = g->call;
        switch (status) {
        case 0: {
                json_t *u = identity_to_user_json(id, g->daemon->config, src);
                if (!u)
                        call_error_reason(call, "io.kaas.InternalError", "out of memory");
                else
                        call_reply(call, json_pack("{s:o}", "user", u));
                break;
        }
        case -ENOENT:
                call_error(call, ERR_USER_NOT_FOUND, NULL);
                break;
        default:
                call_error_reason(call, ERR_UNAVAILABLE, error ? error : "identity service unavailable");
                break;
        }
        call_unref(call);
        free(g);
}

int identity_get_user(struct call *call, json_t *parameters, void *context) {
        struct daemon *d = context;
        struct identity_query q = {
                .user_id = json_string_value(json_object_get(parameters, "id")),
                .name = json_string_value(json_object_get(parameters, "name")),
                .domain = json_string_value(json_object_get(parameters, "domain")),
        };
        if (!q.user_id == !q.name)
                return call_error_reason(call, ERR_INVALID, "give exactly one of id and name");
        if (q.user_id && q.domain)
                return call_error_reason(call, ERR_INVALID, "domain goes with name, not with id");
        if (!d->identities)
                return call_error_reason(call, ERR_UNAVAILABLE, "the identity cache is not running");
        struct get_user *g = calloc(1, sizeof(*g));
        if (!g)
                return -ENOMEM;
        g->call = call_ref(call);
        g->daemon = d;
        int r = identity_lookup(d->identities, &q, call_id(call), on_user, g, NULL);
        if (r < 0) {
                call_unref(call);
                free(g);
                if (r == -EINVAL)
                        return call_error_reason(call, ERR_INVALID,
                                                 "id, name or domain is empty, too long or holds control characters");
                if (r == -EBUSY)
                        return call_error_reason(call, ERR_UNAVAILABLE, "too many identity lookups in flight");
                return r;
        }
        return 0;
}
