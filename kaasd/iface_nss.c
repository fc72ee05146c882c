/* io.kaas.Nss: Keystone users and roles as passwd and group entries, for
 * libnss_kaas.so.2. Open to every local user (DESIGN §4): an entry holds
 * nothing a local /etc/passwd would not. The mapping is unix_identity.c's;
 * this file only turns its answers into replies. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "group_reply.h"
#include "log.h"
#include "methods.h"
#include "unix_identity.h"

#define ERR_NOT_FOUND "io.kaas.Nss.NotFound"
#define ERR_TOO_LARGE "io.kaas.Nss.TooLarge"
#define ERR_UNAVAILABLE "io.kaas.Nss.Unavailable"
#define ERR_INTERNAL "io.kaas.InternalError"

static json_t *passwd_json(const struct unix_user *u) {
        return json_pack("{s:s, s:I, s:I, s:s, s:s, s:s}", "name", u->name, "uid", (json_int_t)u->uid, "gid",
                         (json_int_t)u->gid, "gecos", u->gecos, "home", u->home, "shell", u->shell);
}

static json_t *group_json(const struct unix_group *g) {
        json_t *members = json_array();
        for (size_t i = 0; members && i < g->n_members; i++)
                if (json_array_append_new(members, json_string(g->members[i])) < 0) {
                        json_decref(members);
                        return NULL;
                }
        if (!members)
                return NULL;
        return json_pack("{s:s, s:I, s:o}", "name", g->name, "gid", (json_int_t)g->gid, "members", members);
}

/* One place for the errors of every method. */
static void reply_error(struct call *call, int status, const char *error) {
        switch (status) {
        case -ENOENT:
                call_error(call, ERR_NOT_FOUND, NULL);
                break;
        case -EHOSTUNREACH:
        case -ECANCELED:
                call_error_reason(call, ERR_UNAVAILABLE, error ? error : "identity service unavailable");
                break;
        case -ENOSPC:
                call_error_reason(call, ERR_UNAVAILABLE, error ? error : "no free id left in the configured range");
                break;
        default:
                if (error)
                        call_error_reason(call, ERR_UNAVAILABLE, error);
                else
                        call_error_reason(call, ERR_INTERNAL, strerror(-status));
                break;
        }
}

static void reply_json(struct call *call, const char *key, json_t *value) {
        if (!value)
                call_error_reason(call, ERR_INTERNAL, "out of memory");
        else
                call_reply(call, json_pack("{s:o}", key, value));
}

/* The uid or gid parameter as a Unix id; (uid_t)-1 is no id. */
static bool param_id(json_t *parameters, const char *key, uint32_t *ret) {
        json_int_t v = json_integer_value(json_object_get(parameters, key));
        if (v < 0 || v >= (json_int_t)UINT32_MAX)
                return false;
        *ret = (uint32_t)v;
        return true;
}

/* ------------------------------------------------------------ passwd */

static void on_passwd(int status, const struct unix_user *u, const char *error, void *userdata) {
        struct call *call = userdata;
        if (status == 0)
                reply_json(call, "passwd", passwd_json(u));
        else
                reply_error(call, status, error);
        call_unref(call);
}

int nss_get_passwd_by_name(struct call *call, json_t *parameters, void *context) {
        const char *name = json_string_value(json_object_get(parameters, "name"));
        unix_user_by_name(context, name, 0, call_id(call), on_passwd, call_ref(call));
        return 0;
}

int nss_get_passwd_by_uid(struct call *call, json_t *parameters, void *context) {
        uint32_t uid;
        if (!param_id(parameters, "uid", &uid))
                return call_error(call, ERR_NOT_FOUND, NULL);
        unix_user_by_uid(context, uid, 0, call_id(call), on_passwd, call_ref(call));
        return 0;
}

/* ------------------------------------------------------------ group */

static void release_reply(void *owner) {
        group_reply_unref(owner);
}

/* A group lookup's call and the longest reply its caller takes (0: any). */
struct group_call {
        struct call *call;
        uint64_t max_size;
};

static struct group_call *group_call_new(struct call *call, json_t *parameters) {
        struct group_call *gc = calloc(1, sizeof(*gc));
        if (!gc)
                return NULL;
        json_int_t max = json_integer_value(json_object_get(parameters, "max_size"));
        gc->call = call_ref(call);
        gc->max_size = max > 0 ? (uint64_t)max : 0;
        return gc;
}

static void on_group(int status, const struct unix_group *g, const char *error, void *userdata) {
        struct group_call *gc = userdata;
        struct call *call = gc->call;
        uint64_t max_size = gc->max_size;
        free(gc);
        if (status == 0 && g->reply && max_size > 0 && g->message_len - 1 > max_size)
                /* the module would refuse it unread: a buffer too small costs an answer
                 * of a few bytes, not the first max_size bytes of 1.4 MB */
                call_error(call, ERR_TOO_LARGE, json_pack("{s:I}", "size", (json_int_t)(g->message_len - 1)));
        else if (status == 0 && g->reply) {
                /* sent from where kaasd keeps it: glibc's retries cost no copy */
                if (call_reply_shared(call, g->message, g->message_len, release_reply, group_reply_ref(g->reply)) ==
                    -ENOMEM)
                        call_error_reason(call, ERR_INTERNAL, "out of memory");
        } else if (status == 0)
                reply_json(call, "group", group_json(g));
        else
                reply_error(call, status, error);
        call_unref(call);
}

int nss_get_group_by_name(struct call *call, json_t *parameters, void *context) {
        const char *name = json_string_value(json_object_get(parameters, "name"));
        struct group_call *gc = group_call_new(call, parameters);
        if (!gc)
                return -ENOMEM;
        unix_group_by_name(context, name, UNIX_GROUP_MESSAGE, call_id(call), on_group, gc);
        return 0;
}

int nss_get_group_by_gid(struct call *call, json_t *parameters, void *context) {
        uint32_t gid;
        if (!param_id(parameters, "gid", &gid))
                return call_error(call, ERR_NOT_FOUND, NULL);
        struct group_call *gc = group_call_new(call, parameters);
        if (!gc)
                return -ENOMEM;
        unix_group_by_gid(context, gid, UNIX_GROUP_MESSAGE, call_id(call), on_group, gc);
        return 0;
}

/* ------------------------------------------------------------ initgroups */

static void on_group_list(int status, const struct unix_user *u, const char *error, void *userdata) {
        struct call *call = userdata;
        if (status != 0) {
                reply_error(call, status, error);
                call_unref(call);
                return;
        }
        json_t *gids = json_array();
        for (size_t i = 0; gids && i < u->n_groups; i++)
                if (json_array_append_new(gids, json_integer((json_int_t)u->groups[i].gid)) < 0) {
                        json_decref(gids);
                        gids = NULL;
                }
        reply_json(call, "gids", gids);
        call_unref(call);
}

int nss_get_group_list(struct call *call, json_t *parameters, void *context) {
        const char *name = json_string_value(json_object_get(parameters, "name"));
        unix_user_by_name(context, name, UNIX_WITH_GROUPS, call_id(call), on_group_list, call_ref(call));
        return 0;
}

/* ------------------------------------------------------------ enumeration */

int nss_list_passwd(struct call *call, json_t *parameters, void *context) {
        struct daemon *d = context;
        json_t *list = json_array();
        if (!list)
                return -ENOMEM;
        if (d->config->enumerate) {
                struct unix_user *u;
                size_t n;
                int r = unix_list_users(d, 0, &u, &n);
                if (r < 0) {
                        json_decref(list);
                        reply_error(call, r, NULL);
                        return 0;
                }
                for (size_t i = 0; i < n && list; i++)
                        if (json_array_append_new(list, passwd_json(&u[i])) < 0) {
                                json_decref(list);
                                list = NULL;
                        }
                unix_users_free(u, n);
        }
        reply_json(call, "passwd", list);
        return 0;
}

int nss_list_groups(struct call *call, json_t *parameters, void *context) {
        struct daemon *d = context;
        json_t *list = json_array();
        if (!list)
                return -ENOMEM;
        if (d->config->enumerate) {
                struct unix_group *g;
                size_t n;
                int r = unix_list_groups(d, &g, &n);
                if (r < 0) {
                        json_decref(list);
                        reply_error(call, r, NULL);
                        return 0;
                }
                for (size_t i = 0; i < n && list; i++)
                        if (json_array_append_new(list, group_json(&g[i])) < 0) {
                                json_decref(list);
                                list = NULL;
                        }
                unix_groups_free(g, n);
        }
        reply_json(call, "groups", list);
        return 0;
}
