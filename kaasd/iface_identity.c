/* io.kaas.Identity: Keystone users as the identity cache knows them.
 * Open to every local user (DESIGN §4): a User holds no secret. A lookup
 * that waits for Keystone holds a reference on its call; when the client
 * goes away meanwhile the answer is dropped, and the fetch still fills the
 * cache for the next caller. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "identity.h"
#include "log.h"
#include "methods.h"
#include "unix_identity.h"

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

/* Starts the lookup of q for g; a lookup that cannot start is answered
 * here (and g freed). */
static void lookup(struct get_user *g, const struct identity_query *q) {
        struct call *call = g->call;
        int r = identity_lookup(g->daemon->identities, q, call_id(call), on_user, g, NULL);
        if (r >= 0)
                return;
        free(g);
        if (r == -EINVAL)
                call_error_reason(call, ERR_INVALID, "id, name or domain is empty, too long or holds control characters");
        else if (r == -EBUSY)
                call_error_reason(call, ERR_UNAVAILABLE, "too many identity lookups in flight");
        else
                call_error_reason(call, "io.kaas.InternalError", strerror(-r));
        call_unref(call);
}

/* The Unix user of unix_name is known: the User of its Keystone ID. */
static void on_unix_user(int status, const struct unix_user *u, const char *error, void *userdata) {
        struct get_user *g = userdata;
        if (status != 0) {
                on_user(status == -ENOENT ? -ENOENT : -EHOSTUNREACH, NULL, IDENTITY_FROM_CACHE, error, g);
                return;
        }
        struct identity_query q = { .user_id = u->user_id };
        daemon_identity_caller(g->call, &q.caller);
        lookup(g, &q);
}

int identity_get_user(struct call *call, json_t *parameters, void *context) {
        struct daemon *d = context;
        struct identity_query q = {
                .user_id = json_string_value(json_object_get(parameters, "id")),
                .name = json_string_value(json_object_get(parameters, "name")),
                .domain = json_string_value(json_object_get(parameters, "domain")),
        };
        daemon_identity_caller(call, &q.caller);
        const char *unix_name = json_string_value(json_object_get(parameters, "unix_name"));
        if (!!q.user_id + !!q.name + !!unix_name != 1)
                return call_error_reason(call, ERR_INVALID, "give exactly one of id, name and unix_name");
        if (q.domain && !q.name)
                return call_error_reason(call, ERR_INVALID, "domain goes with name only");
        if (!d->identities)
                return call_error_reason(call, ERR_UNAVAILABLE, "the identity cache is not running");
        struct get_user *g = calloc(1, sizeof(*g));
        if (!g)
                return -ENOMEM;
        g->call = call_ref(call);
        g->daemon = d;
        if (unix_name) {
                /* kaasd's own naming rules, the ones io.kaas.Nss serves */
                unix_user_by_name(d, unix_name, 0, call_id(call), on_unix_user, g);
                return 0;
        }
        lookup(g, &q);
        return 0;
}
