/* io.systemd.UserDatabase: the users and groups of io.kaas.Nss as systemd's
 * JSON user and group records, for systemd-userdbd, nss-systemd and
 * userdbctl, as the service "io.kaas" (the name of the socket, [nss]
 * userdb_socket). The mapping is unix_identity.c's; this file follows
 * systemd's USER_GROUP_API.md: errors NoRecordFound, BadService,
 * ServiceNotAvailable, ConflictingRecordFound, NonMatchingRecordFound,
 * EnumerationNotSupported; several answers only with "more".
 *
 * Trust as systemd's userwork.c decides it: root and the user a record is
 * about see it whole; anyone else gets it without its "privileged"
 * section. kaas records carry no secret, so today that section is never
 * there and "incomplete" is false; the rule is kept here so a future
 * field cannot leak. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon.h"
#include "log.h"
#include "methods.h"
#include "unix_identity.h"
#include "varlink_message.h"

#define IFACE "io.systemd.UserDatabase."
#define ERR_NO_RECORD IFACE "NoRecordFound"
#define ERR_BAD_SERVICE IFACE "BadService"
#define ERR_NOT_AVAILABLE IFACE "ServiceNotAvailable"
#define ERR_CONFLICT IFACE "ConflictingRecordFound"
#define ERR_NON_MATCHING IFACE "NonMatchingRecordFound"
#define ERR_NO_ENUMERATION IFACE "EnumerationNotSupported"

#define DEFAULT_SERVICE "io.kaas"

/* The service name is the socket's name in /run/systemd/userdb/. */
static const char *service_name(const struct daemon *d) {
        const char *path = d->config->userdb_socket;
        if (!path)
                return DEFAULT_SERVICE;
        const char *slash = strrchr(path, '/');
        return slash && slash[1] ? slash + 1 : path;
}

static bool service_ok(struct call *call, json_t *parameters, const struct daemon *d) {
        const char *s = json_string_value(json_object_get(parameters, "service"));
        if (s && strcmp(s, service_name(d)) == 0)
                return true;
        call_error(call, ERR_BAD_SERVICE, NULL);
        return false;
}

static void reply_status(struct call *call, int status) {
        if (status == -ENOENT)
                call_error(call, ERR_NO_RECORD, NULL);
        else
                call_error(call, ERR_NOT_AVAILABLE, NULL);
}

/* Present and not null. */
static json_t *param(json_t *parameters, const char *key) {
        json_t *v = json_object_get(parameters, key);
        return v && !json_is_null(v) ? v : NULL;
}

/* Appends v (stolen, even on failure) to the array *list; when that
 * fails, drops the list and sets *list to NULL, which the loops here take
 * for out of memory. */
static void list_add(json_t **list, json_t *v) {
        if (json_array_append_new(*list, v) < 0) {
                json_decref(*list);
                *list = NULL;
        }
}

/* ------------------------------------------------------------ filters */

static bool fuzzy_match(json_t *fuzzy, const char *name, const char *real_name) {
        if (!fuzzy || json_array_size(fuzzy) == 0)
                return true;
        size_t i;
        json_t *v;
        json_array_foreach(fuzzy, i, v) {
                const char *s = json_string_value(v);
                if (s && (strcasestr(name, s) || (real_name && strcasestr(real_name, s))))
                        return true;
        }
        return false;
}

static bool disposition_match(json_t *mask) {
        if (!mask)
                return true;
        size_t i;
        json_t *v;
        json_array_foreach(mask, i, v) {
                const char *s = json_string_value(v);
                if (s && strcmp(s, "regular") == 0)
                        return true;
        }
        return false;
}

static bool range_match(json_t *parameters, const char *min_key, const char *max_key, uint32_t id) {
        json_t *min = param(parameters, min_key), *max = param(parameters, max_key);
        return (!min || id >= json_integer_value(min)) && (!max || id <= json_integer_value(max));
}

static bool user_filters_match(json_t *p, const struct unix_user *u) {
        return fuzzy_match(param(p, "fuzzyNames"), u->name, u->gecos) &&
               disposition_match(param(p, "dispositionMask")) && range_match(p, "uidMin", "uidMax", u->uid);
}

static bool group_filters_match(json_t *p, const struct unix_group *g) {
        return fuzzy_match(param(p, "fuzzyNames"), g->name, g->role_name) &&
               disposition_match(param(p, "dispositionMask")) && range_match(p, "gidMin", "gidMax", g->gid);
}

/* ------------------------------------------------------------ records */

static json_t *user_record(const struct unix_user *u, const char *service) {
        /* locked: Keystone disabled the user; PAM refuses it, names stay */
        return json_pack("{s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:b, s:s}", "userName", u->name, "uid",
                         (json_int_t)u->uid, "gid", (json_int_t)u->gid, "realName", u->gecos, "homeDirectory",
                         u->home, "shell", u->shell, "disposition", "regular", "locked", !u->enabled, "service",
                         service);
}

static json_t *group_record(const struct unix_group *g, const char *service) {
        json_t *r = json_pack("{s:s, s:I, s:s, s:s}", "groupName", g->name, "gid", (json_int_t)g->gid,
                              "disposition", "regular", "service", service);
        if (!r || !g->role_name)
                return r;
        json_t *members = json_array();
        for (size_t i = 0; members && i < g->n_members; i++)
                list_add(&members, json_string(g->members[i]));
        char desc[300];
        snprintf(desc, sizeof(desc), "Keystone role %s", g->role_name);
        if (!members || json_object_set_new(r, "members", members) < 0 ||
            json_object_set_new(r, "description", json_string(desc)) < 0) {
                json_decref(r);
                return NULL;
        }
        return r;
}

/* {record, incomplete} for this caller: the privileged section only for
 * root and, for a user record, the user itself. Steals record. */
static json_t *record_reply(struct call *call, json_t *record, bool is_user, uint32_t owner) {
        if (!record)
                return NULL;
        uid_t peer = call_peer(call)->uid;
        bool trusted = peer == 0 || (is_user && peer == owner);
        bool incomplete = false;
        if (!trusted && json_object_get(record, "privileged")) {
                json_object_del(record, "privileged");
                incomplete = true;
        }
        return json_pack("{s:o, s:b}", "record", record, "incomplete", incomplete);
}

/* Sends replies[0..n) as a stream (all but the last with "continues").
 * Steals the array. */
static void reply_stream(struct call *call, json_t *replies) {
        size_t n = json_array_size(replies);
        if (n == 0) {
                call_error(call, ERR_NO_RECORD, NULL);
        } else {
                for (size_t i = 0; i + 1 < n; i++)
                        call_reply_more(call, json_incref(json_array_get(replies, i)));
                call_reply(call, json_incref(json_array_get(replies, n - 1)));
        }
        json_decref(replies);
}

/* ------------------------------------------------------------ lookups */

/* One call waiting for a lookup of unix_identity.c. */
struct user_query {
        struct call *call;
        struct daemon *d;
        json_t *parameters;
};

static struct user_query *user_query_new(struct call *call, json_t *parameters, struct daemon *d) {
        struct user_query *q = calloc(1, sizeof(*q));
        if (q)
                *q = (struct user_query){ .call = call_ref(call), .d = d, .parameters = json_incref(parameters) };
        return q;
}

static void user_query_free(struct user_query *q) {
        call_unref(q->call);
        json_decref(q->parameters);
        free(q);
}

/* Answers a lookup by name and/or id that found nothing, failed, or found
 * a record (of id found_id) other than the one id_key asks for; returns
 * false when it did not, and the record may be answered with. */
static bool reply_lookup_failure(struct user_query *q, int status, const char *error, const char *id_key,
                                 const char *name_key, uint32_t found_id) {
        json_t *id = param(q->parameters, id_key);
        if (status != 0) {
                if (status != -ENOENT)
                        log_info(call_id(q->call), "userdb: %s", error ? error : strerror(-status));
                reply_status(q->call, status);
        } else if (id && param(q->parameters, name_key) && json_integer_value(id) != (json_int_t)found_id) {
                call_error(q->call, ERR_CONFLICT, NULL);
        } else {
                return false;
        }
        return true;
}

/* Sends reply (from record_reply(), which steals it), or InternalError
 * when building it ran out of memory. */
static void reply_record(struct call *call, json_t *reply) {
        if (reply)
                call_reply(call, reply);
        else
                call_error_reason(call, "io.kaas.InternalError", "out of memory");
}

/* Checks a GetUserRecord or GetGroupRecord call, which names its record
 * by id_key and/or name_key (neither: an enumeration). Returns 1 to go on,
 * or the result of answering it: a wrong service, an enumeration not
 * served or not asked for with "more", an id no record can have. */
static int record_call_check(struct call *call, json_t *parameters, const struct daemon *d, const char *id_key,
                             const char *name_key) {
        if (!service_ok(call, parameters, d))
                return 0;
        json_t *id = param(parameters, id_key);
        if (!id && !json_string_value(param(parameters, name_key))) {
                if (!d->config->enumerate)
                        return call_error(call, ERR_NO_ENUMERATION, NULL);
                if (!call_wants_more(call))
                        return call_error(call, VL_ERROR_EXPECTED_MORE, NULL);
        } else if (id && (json_integer_value(id) < 0 || json_integer_value(id) >= (json_int_t)UINT32_MAX)) {
                return call_error(call, ERR_NO_RECORD, NULL);
        }
        return 1;
}

/* ------------------------------------------------------------ GetUserRecord */

static void on_user(int status, const struct unix_user *u, const char *error, void *userdata) {
        struct user_query *q = userdata;
        if (!reply_lookup_failure(q, status, error, "uid", "userName", status == 0 ? u->uid : 0)) {
                if (user_filters_match(q->parameters, u))
                        reply_record(q->call, record_reply(q->call, user_record(u, service_name(q->d)), true,
                                                           u->uid));
                else
                        call_error(q->call, ERR_NON_MATCHING, NULL);
        }
        user_query_free(q);
}

static int enumerate_users(struct call *call, json_t *parameters, struct daemon *d) {
        struct unix_user *u;
        size_t n;
        int r = unix_list_users(d, 0, &u, &n);
        if (r < 0) {
                reply_status(call, r);
                return 0;
        }
        json_t *replies = json_array();
        for (size_t i = 0; replies && i < n; i++)
                if (user_filters_match(parameters, &u[i]))
                        list_add(&replies, record_reply(call, user_record(&u[i], service_name(d)), true, u[i].uid));
        unix_users_free(u, n);
        if (!replies)
                return -ENOMEM;
        reply_stream(call, replies);
        return 0;
}

int userdb_get_user_record(struct call *call, json_t *parameters, void *context) {
        struct daemon *d = context;
        int r = record_call_check(call, parameters, d, "uid", "userName");
        if (r <= 0)
                return r;
        json_t *uid = param(parameters, "uid");
        const char *name = json_string_value(param(parameters, "userName"));
        if (!uid && !name)
                return enumerate_users(call, parameters, d);
        struct user_query *q = user_query_new(call, parameters, d);
        if (!q)
                return -ENOMEM;
        if (name)
                unix_user_by_name(d, name, 0, call_id(call), on_user, q);
        else
                unix_user_by_uid(d, (uint32_t)json_integer_value(uid), 0, call_id(call), on_user, q);
        return 0;
}

/* ------------------------------------------------------------ GetGroupRecord */

static void on_group(int status, const struct unix_group *g, const char *error, void *userdata) {
        struct user_query *q = userdata;
        if (!reply_lookup_failure(q, status, error, "gid", "groupName", status == 0 ? g->gid : 0)) {
                if (group_filters_match(q->parameters, g))
                        reply_record(q->call, record_reply(q->call, group_record(g, service_name(q->d)), false,
                                                           g->gid));
                else
                        call_error(q->call, ERR_NON_MATCHING, NULL);
        }
        user_query_free(q);
}

static int enumerate_groups(struct call *call, json_t *parameters, struct daemon *d) {
        struct unix_group *g;
        size_t n;
        int r = unix_list_groups(d, &g, &n);
        if (r < 0) {
                reply_status(call, r);
                return 0;
        }
        json_t *replies = json_array();
        for (size_t i = 0; replies && i < n; i++)
                if (group_filters_match(parameters, &g[i]))
                        list_add(&replies, record_reply(call, group_record(&g[i], service_name(d)), false, g[i].gid));
        unix_groups_free(g, n);
        if (!replies)
                return -ENOMEM;
        reply_stream(call, replies);
        return 0;
}

int userdb_get_group_record(struct call *call, json_t *parameters, void *context) {
        struct daemon *d = context;
        int r = record_call_check(call, parameters, d, "gid", "groupName");
        if (r <= 0)
                return r;
        json_t *gid = param(parameters, "gid");
        const char *name = json_string_value(param(parameters, "groupName"));
        if (!gid && !name)
                return enumerate_groups(call, parameters, d);
        struct user_query *q = user_query_new(call, parameters, d);
        if (!q)
                return -ENOMEM;
        if (name)
                unix_group_by_name(d, name, 0, call_id(call), on_group, q);
        else
                unix_group_by_gid(d, (uint32_t)json_integer_value(gid), 0, call_id(call), on_group, q);
        return 0;
}

/* ------------------------------------------------------------ GetMemberships */

static json_t *membership(const char *user, const char *group) {
        return json_pack("{s:s, s:s}", "userName", user, "groupName", group);
}

static void on_member_user(int status, const struct unix_user *u, const char *error, void *userdata) {
        struct user_query *q = userdata;
        const char *want_group = json_string_value(param(q->parameters, "groupName"));
        if (status != 0) {
                reply_status(q->call, status);
                user_query_free(q);
                return;
        }
        json_t *replies = json_array();
        for (size_t i = 0; replies && i < u->n_groups; i++) {
                if (want_group && strcmp(want_group, u->groups[i].name) != 0)
                        continue;
                list_add(&replies, membership(u->name, u->groups[i].name));
        }
        if (replies)
                reply_stream(q->call, replies);
        else
                call_error_reason(q->call, "io.kaas.InternalError", "out of memory");
        user_query_free(q);
}

static void on_member_group(int status, const struct unix_group *g, const char *error, void *userdata) {
        struct user_query *q = userdata;
        if (status != 0) {
                reply_status(q->call, status);
                user_query_free(q);
                return;
        }
        json_t *replies = json_array();
        for (size_t i = 0; replies && i < g->n_members; i++)
                list_add(&replies, membership(g->members[i], g->name));
        if (replies)
                reply_stream(q->call, replies);
        else
                call_error_reason(q->call, "io.kaas.InternalError", "out of memory");
        user_query_free(q);
}

static int enumerate_memberships(struct call *call, struct daemon *d) {
        struct unix_group *g;
        size_t n;
        int r = unix_list_groups(d, &g, &n);
        if (r < 0) {
                reply_status(call, r);
                return 0;
        }
        json_t *replies = json_array();
        for (size_t i = 0; replies && i < n; i++)
                for (size_t j = 0; replies && j < g[i].n_members; j++)
                        list_add(&replies, membership(g[i].members[j], g[i].name));
        unix_groups_free(g, n);
        if (!replies)
                return -ENOMEM;
        reply_stream(call, replies);
        return 0;
}

int userdb_get_memberships(struct call *call, json_t *parameters, void *context) {
        struct daemon *d = context;
        if (!service_ok(call, parameters, d))
                return 0;
        const char *user = json_string_value(param(parameters, "userName"));
        const char *group = json_string_value(param(parameters, "groupName"));
        /* only a test of one membership has at most one answer */
        if (!(user && group) && !call_wants_more(call))
                return call_error(call, VL_ERROR_EXPECTED_MORE, NULL);
        if (!user && !group) {
                if (!d->config->enumerate)
                        return call_error(call, ERR_NO_ENUMERATION, NULL);
                return enumerate_memberships(call, d);
        }
        struct user_query *q = user_query_new(call, parameters, d);
        if (!q)
                return -ENOMEM;
        if (user)
                unix_user_by_name(d, user, UNIX_WITH_GROUPS, call_id(call), on_member_user, q);
        else
                unix_group_by_name(d, group, 0, call_id(call), on_member_group, q);
        return 0;
}
