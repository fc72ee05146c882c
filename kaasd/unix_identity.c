/* Keystone users and roles as Unix users and groups; see unix_identity.h.
 *
 * Users come from the identity cache (which asks Keystone and caches
 * unknown names negatively); role groups come from what the cache holds:
 * one walk over the cached identities builds the table of roles with
 * their members. Numbers come from the store's uid map, so they survive
 * restarts and never change once given. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cleanup.h"
#include "daemon.h"
#include "environment.h"
#include "group_files.h"
#include "group_reply.h"
#include "identity.h"
#include "local_accounts.h"
#include "log.h"
#include "membership.h"
#include "store.h"
#include "unix_identity.h"
#include "unix_names.h"

#define KEY_SIZE 80
/* Members a role group's reply takes on per turn of the loop: about a
 * millisecond's work, after which other clients' calls are served. */
#define REPLY_SLICE 4096u
/* The largest reply libnss_kaas takes (nss_kaas.c MAX_REPLY_SIZE). */
#define REPLY_MAX_SIZE (16u * 1024u * 1024u)

struct reply_waiter {
        unix_group_fn fn;
        void *userdata;
        struct reply_waiter *next;
};

/* A role group's reply in the making, for everyone asking meanwhile. */
struct reply_job {
        struct daemon *d;
        struct group_reply_build *b;
        struct loop_timer *timer;
        struct reply_waiter *waiters, **last;
        struct reply_job *next;
};

struct unix_ids {
        struct local_accounts *local;
        struct membership *index;       /* of the identity cache, kept by on_identity_change() */
        uint64_t epoch;                 /* of index: one more for every new index */
        struct group_reply_cache *replies;
        struct reply_job *jobs;
        struct daemon *d;               /* set by unix_ids_start() */
        struct group_files *files;      /* [nss] group_files: group_files.h */
        bool files_failed;              /* told once; tried again when turned off and on */
        struct loop_timer *sweep;       /* of the files, pending */
        uint64_t sweep_at;
};

int unix_ids_new(struct unix_ids **ret) {
        struct unix_ids *u = calloc(1, sizeof(*u));
        if (!u)
                return -ENOMEM;
        int r = local_accounts_new(&u->local);
        if (r == 0 && (r = group_reply_cache_new(0, &u->replies)) < 0)
                local_accounts_free(u->local);
        if (r < 0) {
                free(u);
                return r;
        }
        *ret = u;
        return 0;
}

static void job_end(struct unix_ids *ux, struct reply_job *job, int status, const struct unix_group *g,
                    const char *error);

static void files_close(struct unix_ids *ux);
static struct group_files *files_ready(struct daemon *d, struct unix_ids *ux);

void unix_ids_stop(struct daemon *d) {
        struct unix_ids *ux = d->unix_ids;
        while (ux && ux->jobs)
                job_end(ux, ux->jobs, -ECANCELED, NULL, "kaasd is stopping");
        if (ux)
                files_close(ux);  /* no group outlives kaasd in a file */
}

struct unix_ids *unix_ids_free(struct unix_ids *u) {
        if (!u)
                return NULL;
        files_close(u);
        local_accounts_free(u->local);
        membership_free(u->index);
        group_reply_cache_free(u->replies);
        free(u);
        return NULL;
}

void unix_user_clear(struct unix_user *u) {
        if (!u)
                return;
        free(u->name);
        free(u->gecos);
        free(u->home);
        free(u->shell);
        free(u->user_id);
        free(u->domain);
        for (size_t i = 0; i < u->n_groups; i++)
                free(u->groups[i].name);
        free(u->groups);
        *u = (struct unix_user){ 0 };
}

void unix_group_clear(struct unix_group *g) {
        if (!g)
                return;
        free(g->name);
        for (size_t i = 0; i < g->n_members; i++)
                free(g->members[i]);
        free(g->members);
        free(g->role_name);
        *g = (struct unix_group){ 0 };
}

void unix_users_free(struct unix_user *u, size_t n) {
        for (size_t i = 0; i < n; i++)
                unix_user_clear(&u[i]);
        free(u);
}

void unix_groups_free(struct unix_group *g, size_t n) {
        for (size_t i = 0; i < n; i++)
                unix_group_clear(&g[i]);
        free(g);
}

/* ------------------------------------------------------------ helpers */

static char sep_of(const struct daemon *d) {
        return d->config->domain_separator[0];
}

static void files_sweep_soon(struct unix_ids *ux, uint64_t delay_usec);

static void on_identity_change(const char *user_id, const struct identity *id, void *userdata) {
        struct unix_ids *ux = userdata;
        files_sweep_soon(ux, 0);  /* a group the user is in may have a file */
        if (!id) {
                membership_remove(ux->index, user_id);
                return;
        }
        int r = membership_set(ux->index, id);
        if (r < 0)
                log_err(0, "[nss] cannot index the groups of user %s: %s", user_id, strerror(-r));
}

/* The membership index for the naming settings of d's configuration:
 * made (one walk of the cache) at start and after a reload that changed
 * them, then kept current as identities change. */
static int index_ready(struct daemon *d, struct unix_ids *ux) {
        const struct config *cfg = d->config;
        char sep = sep_of(d);
        if (ux->index && membership_matches(ux->index, cfg->role_group_prefix, cfg->default_domain, sep))
                return 0;
        identity_cache_watch(d->identities, NULL, NULL);
        ux->index = membership_free(ux->index);
        ux->epoch++;  /* replies made from the old index are never right again */
        group_reply_cache_clear(ux->replies);
        group_files_clear(ux->files);
        int r = membership_new(cfg->role_group_prefix, cfg->default_domain, sep, &ux->index);
        if (r < 0)
                return r;
        if ((r = identity_cache_watch(d->identities, on_identity_change, ux)) < 0) {
                identity_cache_watch(d->identities, NULL, NULL);
                ux->index = membership_free(ux->index);
                return r;
        }
        log_info(0, "[nss] group index: %zu users, %zu roles", membership_n_users(ux->index),
                 membership_n_roles(ux->index));
        return 0;
}

int unix_ids_start(struct daemon *d) {
        if (!d->identities || !d->store)
                return 0;
        if (!d->unix_ids) {
                int r = unix_ids_new(&d->unix_ids);
                if (r < 0)
                        return r;
        }
        d->unix_ids->d = d;
        int r = index_ready(d, d->unix_ids);
        if (r == 0)
                files_ready(d, d->unix_ids);
        return r;
}

void unix_ids_reconfigured(struct daemon *d) {
        struct unix_ids *ux = d->unix_ids;
        if (!ux)
                return;
        /* a new index for new naming settings, the files closed when
         * turned off, and the others checked against the settings now */
        if (unix_ids_start(d) < 0)
                group_files_clear(ux->files);
        files_sweep_soon(ux, 0);
}

/* The engine of d, created on first use; local files made current. */
static int prepare(struct daemon *d, struct unix_ids **ret, char *err, size_t err_size) {
        if (!d->identities || !d->store) {
                snprintf(err, err_size, "the identity cache is not running");
                return -EHOSTUNREACH;
        }
        int r = unix_ids_start(d);
        if (r < 0) {
                snprintf(err, err_size, "cannot index the identity cache: %s", strerror(-r));
                return r;
        }
        r = local_accounts_refresh(d->unix_ids->local, d->config->passwd_file, d->config->group_file);
        if (r < 0) {
                snprintf(err, err_size, "cannot read %s or %s: %s", d->config->passwd_file, d->config->group_file,
                         strerror(-r));
                log_err(0, "[nss] %s", err);
                return r;
        }
        *ret = d->unix_ids;
        return 0;
}

static bool reserved_key(const char *key) {
        return strncmp(key, UNIX_ROLE_KEY_PREFIX, strlen(UNIX_ROLE_KEY_PREFIX)) == 0 ||
               strncmp(key, UNIX_LOCAL_KEY_PREFIX, strlen(UNIX_LOCAL_KEY_PREFIX)) == 0 ||
               strncmp(key, UNIX_NUMBER_KEY_PREFIX, strlen(UNIX_NUMBER_KEY_PREFIX)) == 0;
}

static const char *domain_of(const struct identity *id) {
        return id->domain_name && *id->domain_name ? id->domain_name : id->domain_id;
}

/* Whether kaas must not give a group this name: one the system already
 * trusts (unix_group_name_privileged()) or one of kaasd's own groups,
 * whose members kaasd itself trusts. */
static bool group_name_refused(const struct config *cfg, const char *name) {
        return unix_group_name_privileged(name) || (cfg->admin_group && strcasecmp(cfg->admin_group, name) == 0) ||
               (cfg->validator_group && strcasecmp(cfg->validator_group, name) == 0) ||
               (cfg->frontend_group && strcasecmp(cfg->frontend_group, name) == 0) ||
               (cfg->socket_group && strcasecmp(cfg->socket_group, name) == 0);
}

/* The group name of a role: -EINVAL when the role has no usable name,
 * -EPERM when the name is refused. */
static int role_group_name(const struct config *cfg, const char *role_name, char **ret) {
        char *gname;
        int r = unix_role_group_name(cfg->role_group_prefix, role_name, &gname);
        if (r < 0)
                return r;
        if (group_name_refused(cfg, gname)) {
                log_debug(0, "[nss] role %s would be group %s, a name kaas never gives: no group", role_name, gname);
                free(gname);
                return -EPERM;
        }
        *ret = gname;
        return 0;
}

/* Holds the local ids inside [min, max] back from assignment, once each. */
static int reserve_local_ids(struct daemon *d, struct unix_ids *ux, uint32_t min, uint32_t max) {
        uint32_t *ids;
        size_t n;
        int r = local_accounts_ids_in_range(ux->local, min, max, &ids, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n && r >= 0; i++) {
                char *holder = NULL;
                r = store_uid_lookup(d->store, ids[i], &holder);
                free(holder);
                if (r != -ENOENT)
                        continue;  /* held already, by a reservation or by a Keystone user */
                char key[KEY_SIZE];
                uint32_t got;
                snprintf(key, sizeof(key), UNIX_LOCAL_KEY_PREFIX "%u", ids[i]);
                r = store_uid_get_or_assign(d->store, key, ids[i], ids[i], ids[i], &got);
                if (r == 0)
                        log_info(0, "[nss] id %u is a local account's: kept from Keystone users and roles", ids[i]);
        }
        free(ids);
        return r < 0 ? r : 0;
}

/* The number remembered for key, or a new one in [min, max]. */
static int id_for_key(struct daemon *d, struct unix_ids *ux, const char *key, uint32_t min, uint32_t max,
                      uint32_t *ret) {
        int r = store_uid_get(d->store, key, ret);
        if (r != -ENOENT)
                return r;
        if ((r = reserve_local_ids(d, ux, min, max)) < 0)
                return r;
        uint32_t preferred = unix_id_preferred(key, min, max);
        r = store_uid_get_or_assign(d->store, key, min, max, preferred, ret);
        if (r == 0)
                environment_uid_assigned(d, key, *ret);
        if (r == 0 && *ret != preferred)
                log_info(0, "[nss] %s: id %u was taken, %u assigned instead", key, preferred, *ret);
        if (r == -ENOSPC)
                log_err(0, "[nss] no free id left in %u..%u for %s", min, max, key);
        return r;
}

static bool role_name_taken(const struct membership *m, const char *key, const char *gname);

/* Whether role i of id has the group name gname of another role of id. */
static bool own_roles_collide(const struct config *cfg, const struct identity *id, size_t i, const char *gname) {
        bool clash = false;
        for (size_t j = 0; j < id->n_roles && !clash; j++) {
                char *other;
                if (strcmp(id->roles[j].id, id->roles[i].id) == 0 || role_group_name(cfg, id->roles[j].name, &other) < 0)
                        continue;
                clash = strcmp(other, gname) == 0;
                free(other);
        }
        return clash;
}

static int role_groups_of(struct daemon *d, struct unix_ids *ux, const struct identity *id, struct unix_user *u) {
        const struct config *cfg = d->config;
        for (size_t i = 0; i < id->n_roles; i++) {
                const struct identity_role *role = &id->roles[i];
                bool seen = false;
                for (size_t j = 0; j < i && !seen; j++)
                        seen = strcmp(id->roles[j].id, role->id) == 0;
                if (seen)
                        continue;
                char *gname = NULL, key[KEY_SIZE];
                if (role_group_name(cfg, role->name, &gname) < 0)
                        continue;
                unix_role_key(role->id, key, sizeof(key));
                /* two roles, one name: whatever is granted to the name
                 * would go to the holders of both, so neither is a group */
                if (local_accounts_has_group(ux->local, gname) || role_name_taken(ux->index, key, gname) ||
                    own_roles_collide(cfg, id, i, gname)) {
                        free(gname);
                        continue;
                }
                uint32_t gid;
                int r = id_for_key(d, ux, key, cfg->gid_min, cfg->gid_max, &gid);
                if (r < 0 || local_accounts_has_gid(ux->local, gid)) {
                        free(gname);
                        if (r < 0 && r != -ENOSPC)
                                return r;
                        continue;
                }
                struct unix_group_ref *g = realloc(u->groups, (u->n_groups + 1) * sizeof(*g));
                if (!g) {
                        free(gname);
                        return -ENOMEM;
                }
                u->groups = g;
                u->groups[u->n_groups++] = (struct unix_group_ref){ .name = gname, .gid = gid };
        }
        return 0;
}

static int with_role_groups(struct daemon *d, struct unix_ids *ux, const struct identity *id,
                            struct unix_user *u);

/* The Unix user of a Keystone identity: -ENOENT when it is not served here. */
static int build_user(struct daemon *d, struct unix_ids *ux, const struct identity *id, unsigned flags,
                      struct unix_user *ret) {
        const struct config *cfg = d->config;
        struct unix_user u = { .enabled = id->enabled };
        int r;

        if (reserved_key(id->user_id))
                return -ENOENT;
        r = unix_user_name(id->name, id->domain_id, id->domain_name, cfg->default_domain, sep_of(d), &u.name);
        if (r < 0)
                return r == -EINVAL ? -ENOENT : r;
        if (local_accounts_has_name(ux->local, u.name)) {
                log_debug(0, "[nss] %s is a local name: Keystone user %s not served", u.name, id->user_id);
                r = -ENOENT;
                goto fail;
        }
        if ((r = id_for_key(d, ux, id->user_id, cfg->uid_min, cfg->uid_max, &u.uid)) < 0)
                goto fail;
        if (local_accounts_has_uid(ux->local, u.uid) || local_accounts_has_gid(ux->local, u.uid)) {
                log_warning(0, "[nss] uid %u of Keystone user %s is now a local account's: not served", u.uid,
                            id->user_id);
                r = -ENOENT;
                goto fail;
        }
        u.gid = u.uid;
        r = unix_expand_home(cfg->home_template, u.name, id->user_id, domain_of(id), &u.home);
        if (r == -EINVAL) {
                log_warning(0, "[nss] home directory template gives no usable path for %s: not served", u.name);
                r = -ENOENT;
        }
        if (r < 0)
                goto fail;
        if (!(u.gecos = strdup(id->name)) || !(u.shell = strdup(cfg->shell)) ||
            !(u.user_id = strdup(id->user_id)) || !(u.domain = strdup(domain_of(id)))) {
                r = -ENOMEM;
                goto fail;
        }
        /* a disabled user keeps its name and files, but no role's rights */
        if ((flags & UNIX_WITH_GROUPS) && id->enabled && (r = with_role_groups(d, ux, id, &u)) < 0)
                goto fail;
        *ret = u;
        return 0;
fail:
        unix_user_clear(&u);
        return r;
}

/* ------------------------------------------------------------ role groups */

/* Whether a role other than the one of key has the group name gname. */
static bool role_name_taken(const struct membership *m, const char *key, const char *gname) {
        const struct membership_role *const *roles;
        size_t n = membership_group_roles(m, gname, &roles);
        for (size_t i = 0; i < n; i++)
                if (strcmp(roles[i]->key, key) != 0)
                        return true;
        return false;
}

/* Whether a user's private group may have this name: not a refused name,
 * nothing in the role groups' prefix, no role group's name. */
static bool private_group_allowed(const struct config *cfg, const struct membership *m, const char *name) {
        const struct membership_role *const *roles;
        const char *prefix = cfg->role_group_prefix;
        if (group_name_refused(cfg, name) || (prefix && *prefix && strncasecmp(name, prefix, strlen(prefix)) == 0))
                return false;
        return membership_group_roles(m, name, &roles) == 0;
}

static int with_role_groups(struct daemon *d, struct unix_ids *ux, const struct identity *id,
                            struct unix_user *u) {
        return role_groups_of(d, ux, id, u);
}

/* Whether role is a group here, and its gid: a usable name that is not
 * refused, no other role's, no local group's, and a gid in the range that
 * no local group has. 0 or -ENOENT; another negative errno on failure. */
static int role_group_gid(struct daemon *d, struct unix_ids *ux, const struct membership_role *role,
                          uint32_t *ret_gid) {
        const struct membership_role *const *same;
        if (!role->gname || group_name_refused(d->config, role->gname) ||
            membership_group_roles(ux->index, role->gname, &same) != 1 ||
            local_accounts_has_group(ux->local, role->gname))
                return -ENOENT;
        uint32_t gid;
        int r = id_for_key(d, ux, role->key, d->config->gid_min, d->config->gid_max, &gid);
        if (r == -ENOSPC)
                return -ENOENT;
        if (r < 0)
                return r;
        if (local_accounts_has_gid(ux->local, gid))
                return -ENOENT;
        *ret_gid = gid;
        return 0;
}

/* The most members a role group lists: none with ignore_group_members
 * (SSSD's name and meaning), else max_group_members, 0 meaning all. */
static unsigned members_listed(const struct config *c) {
        if (c->ignore_group_members)
                return 0;
        return c->max_group_members > 0 ? c->max_group_members : UINT_MAX;
}

/* The group of role with gid: its members (no local name among them) in
 * order of the index, at most max_members of them. */
static int role_to_group(struct unix_ids *ux, const struct membership_role *role, uint32_t gid,
                         unsigned max_members, struct unix_group *ret) {
        struct unix_group g = { .gid = gid };
        size_t n = role->n_members;
        if (n > max_members)
                n = max_members;
        if (!(g.name = strdup(role->gname)) || !(g.role_name = strdup(role->role_name)) ||
            (n > 0 && !(g.members = calloc(n, sizeof(*g.members))))) {
                unix_group_clear(&g);
                return -ENOMEM;
        }
        for (size_t i = 0; i < role->n_members && g.n_members < n; i++) {
                const char *member = membership_role_member(role, i);
                if (local_accounts_has_name(ux->local, member))
                        continue;
                if (!(g.members[g.n_members] = strdup(member))) {
                        unix_group_clear(&g);
                        return -ENOMEM;
                }
                g.n_members++;
        }
        *ret = g;
        return 0;
}

/* ------------------------------------------------------------ user lookups */

struct user_req {
        struct daemon *d;
        struct unix_ids *ux;
        unsigned flags;
        uint64_t rid;
        char *want_name;        /* by name */
        bool by_uid;
        uint32_t want_uid;
        char *fallback_name;    /* the whole name in the default domain, after name SEP domain */
        struct identity_caller caller;  /* whose share of Keystone work the lookups take */
        unix_user_fn fn;
        void *userdata;
};

static void user_req_finish(struct user_req *q, int status, const struct unix_user *u, const char *error) {
        q->fn(status, u, error, q->userdata);
        free(q->want_name);
        free(q->fallback_name);
        free(q);
}

static void user_query(struct user_req *q, const struct identity_query *iq);

static void try_fallback(struct user_req *q) {
        char *name = TAKE_PTR(q->fallback_name);
        struct identity_query iq = { .name = name, .domain = q->d->config->default_domain };
        user_query(q, &iq);
        free(name);
}

static void on_identity(int status, const struct identity *id, enum identity_source src, const char *error,
                        void *userdata) {
        struct user_req *q = userdata;
        (void)src;
        if (status == -ENOENT && q->fallback_name) {
                try_fallback(q);
                return;
        }
        if (status != 0) {
                user_req_finish(q, status, NULL, error);
                return;
        }
        struct unix_user u = { 0 };
        int r = build_user(q->d, q->ux, id, q->flags, &u);
        if (r == 0 && ((q->by_uid && u.uid != q->want_uid) || (!q->by_uid && strcmp(u.name, q->want_name) != 0)))
                r = -ENOENT;  /* only the canonical name answers, never an alias */
        if (r == -ENOENT && q->fallback_name) {
                unix_user_clear(&u);
                try_fallback(q);
                return;
        }
        user_req_finish(q, r, r == 0 ? &u : NULL, r == -ENOSPC ? "no free uid left in [nss] uid_min..uid_max" : NULL);
        unix_user_clear(&u);
}

static void user_query(struct user_req *q, const struct identity_query *iq) {
        struct identity_query query = *iq;
        query.caller = q->caller;
        int r = identity_lookup(q->d->identities, &query, q->rid, on_identity, q, NULL);
        if (r == -EINVAL)  /* a name Keystone cannot hold: nobody has it */
                on_identity(-ENOENT, NULL, IDENTITY_FROM_CACHE, NULL, q);
        else if (r == -EBUSY)
                user_req_finish(q, -EHOSTUNREACH, NULL, "too many identity lookups in flight");
        else if (r < 0)
                user_req_finish(q, r, NULL, NULL);
}

static struct user_req *user_req_new(struct daemon *d, unsigned flags, uint64_t rid, unix_user_fn fn,
                                     void *userdata) {
        char err[300];
        struct unix_ids *ux;
        int r = prepare(d, &ux, err, sizeof(err));
        if (r < 0) {
                fn(r, NULL, err, userdata);
                return NULL;
        }
        struct user_req *q = calloc(1, sizeof(*q));
        if (!q) {
                fn(-ENOMEM, NULL, NULL, userdata);
                return NULL;
        }
        *q = (struct user_req){ .d = d, .ux = ux, .flags = flags, .rid = rid, .fn = fn, .userdata = userdata };
        daemon_identity_caller(server_current_call(d->server), &q->caller);
        return q;
}

void unix_user_by_name(struct daemon *d, const char *name, unsigned flags, uint64_t request_id,
                       unix_user_fn fn, void *userdata) {
        struct user_req *q = user_req_new(d, flags, request_id, fn, userdata);
        if (!q)
                return;
        if (strlen(name) > UNIX_NAME_MAX || local_accounts_has_name(q->ux->local, name)) {
                user_req_finish(q, -ENOENT, NULL, NULL);
                return;
        }
        if (!(q->want_name = strdup(name))) {
                user_req_finish(q, -ENOMEM, NULL, NULL);
                return;
        }
        char *user = NULL, *domain = NULL;
        int r = unix_split_name(name, sep_of(d), &user, &domain);
        if (r < 0) {
                user_req_finish(q, r, NULL, NULL);
                return;
        }
        if (r == 0) {
                struct identity_query iq = { .name = name, .domain = d->config->default_domain };
                user_query(q, &iq);
                return;
        }
        /* name SEP domain first; a default-domain user whose own name holds
         * the separator (an e-mail address) after that */
        if (!(q->fallback_name = strdup(name))) {
                free(user);
                free(domain);
                user_req_finish(q, -ENOMEM, NULL, NULL);
                return;
        }
        struct identity_query iq = { .name = user, .domain = domain };
        user_query(q, &iq);
        free(user);
        free(domain);
}

void unix_user_by_uid(struct daemon *d, uint32_t uid, unsigned flags, uint64_t request_id, unix_user_fn fn,
                      void *userdata) {
        struct user_req *q = user_req_new(d, flags, request_id, fn, userdata);
        if (!q)
                return;
        q->by_uid = true;
        q->want_uid = uid;
        if (local_accounts_has_uid(q->ux->local, uid) || local_accounts_has_gid(q->ux->local, uid)) {
                user_req_finish(q, -ENOENT, NULL, NULL);
                return;
        }
        char *user_id = NULL;
        int r = store_uid_lookup(d->store, uid, &user_id);
        if (r < 0 || reserved_key(user_id)) {
                free(user_id);
                user_req_finish(q, r < 0 && r != -ENOENT ? r : -ENOENT, NULL, NULL);
                return;
        }
        struct identity_query iq = { .user_id = user_id };
        user_query(q, &iq);
        free(user_id);
}

/* ------------------------------------------------------------ group lookups */

struct group_req {
        struct daemon *d;
        unix_group_fn fn;
        void *userdata;
};

/* A user's private group: its name, gid = uid, no listed members; none
 * when its name is refused or a role group's (private_group_allowed()). */
static void on_private_group_user(int status, const struct unix_user *u, const char *error, void *userdata) {
        struct group_req *q = userdata;
        struct unix_group g = { 0 };
        if (status == 0 && !private_group_allowed(q->d->config, q->d->unix_ids->index, u->name)) {
                log_debug(0, "[nss] %s: no private group of that name", u->name);
                status = -ENOENT;
        }
        if (status == 0)
                g = (struct unix_group){ .name = u->name, .gid = u->gid };
        q->fn(status, status == 0 ? &g : NULL, status == 0 || status == -ENOENT ? NULL : error, q->userdata);
        free(q);
}

static void private_group(struct daemon *d, const char *name, bool by_gid, uint32_t gid, uint64_t rid,
                          unix_group_fn fn, void *userdata) {
        struct group_req *q = calloc(1, sizeof(*q));
        if (!q) {
                fn(-ENOMEM, NULL, NULL, userdata);
                return;
        }
        *q = (struct group_req){ .d = d, .fn = fn, .userdata = userdata };
        if (by_gid)
                unix_user_by_uid(d, gid, 0, rid, on_private_group_user, q);
        else
                unix_user_by_name(d, name, 0, rid, on_private_group_user, q);
}

/* The engine for a group lookup, or NULL with fn told why not. */
static struct unix_ids *group_lookup_prepare(struct daemon *d, unix_group_fn fn, void *userdata) {
        char err[300];
        struct unix_ids *ux;
        int r = prepare(d, &ux, err, sizeof(err));
        if (r < 0) {
                fn(r, NULL, err, userdata);
                return NULL;
        }
        return ux;
}

/* ------------------------------------------------------------ role group replies */

static bool member_is_local(const char *member, void *userdata) {
        return local_accounts_has_name(userdata, member);
}

static struct group_reply_stamp stamp_of(const struct daemon *d, const struct unix_ids *ux,
                                         const struct membership_role *role, uint32_t gid) {
        return (struct group_reply_stamp){ .epoch = ux->epoch, .version = role->version,
                                           .local = local_accounts_generation(ux->local), .gid = gid,
                                           .max_members = members_listed(d->config) };
}

static void answer_message(struct group_reply *r, const char *name, unix_group_fn fn, void *userdata) {
        struct unix_group g = { .name = (char *)name, .gid = r->stamp.gid, .message = r->message,
                                .message_len = r->len, .reply = r };
        fn(0, &g, NULL, userdata);
}

/* ------------------------------------------------------------ group files */

/* How often the files are checked against the local passwd and group
 * files, which kaasd otherwise reads only when asked (a file answers
 * without asking). */
#define FILES_SWEEP_USEC (5u * 1000000u)

static void files_close(struct unix_ids *ux) {
        loop_timer_cancel(ux->sweep);
        ux->sweep = NULL;
        ux->files = group_files_free(ux->files);
}

/* The group files while [nss] group_files is on: opened (every file a
 * previous kaasd left removed) at start, closed when turned off. */
static struct group_files *files_ready(struct daemon *d, struct unix_ids *ux) {
        if (!d->config->group_files) {
                files_close(ux);
                ux->files_failed = false;
                return NULL;
        }
        if (!ux->files && !ux->files_failed) {
                int r = group_files_new(d->config->socket_path, d->config->group_files_size, &ux->files);
                if (r < 0) {
                        ux->files_failed = true;
                        log_warning(0, "[nss] no group files beside %s (%s): role groups are answered by call only",
                                    d->config->socket_path,
                                    r == -EBUSY ? "another kaasd's socket is in the same directory"
                                    : r == -EPERM ? "the directory is not kaasd's own, or others may write to it"
                                                  : strerror(-r));
                }
        }
        if (ux->files)
                group_files_set_max(ux->files, d->config->group_files_size);
        return ux->files;
}

static bool file_current(const char *key, const char *name, const struct group_reply_stamp *stamp, void *userdata) {
        struct unix_ids *ux = userdata;
        const struct membership_role *role = membership_role_by_key(ux->index, key);
        const struct membership_role *const *roles;
        if (!role || !role->gname || strcmp(role->gname, name) != 0 || group_name_refused(ux->d->config, name) ||
            membership_group_roles(ux->index, name, &roles) != 1 || local_accounts_has_group(ux->local, name) ||
            local_accounts_has_gid(ux->local, stamp->gid))
                return false;
        struct group_reply_stamp now = stamp_of(ux->d, ux, role, stamp->gid);
        return now.epoch == stamp->epoch && now.version == stamp->version && now.local == stamp->local &&
               now.max_members == stamp->max_members;
}

static void on_files_sweep(struct loop_timer *t, void *userdata) {
        struct unix_ids *ux = userdata;
        struct daemon *d = ux->d;
        (void)t;
        ux->sweep = NULL;  /* freed by the loop */
        int r = local_accounts_refresh(ux->local, d->config->passwd_file, d->config->group_file);
        if (r < 0 || !ux->index)
                group_files_clear(ux->files);  /* nothing to check them with */
        else
                group_files_sweep(ux->files, time(NULL), file_current, ux);
        if (group_files_count(ux->files) > 0)
                files_sweep_soon(ux, FILES_SWEEP_USEC);
}

/* Checks the files after delay_usec, or sooner when a check is due
 * sooner; none while there are no files. */
static void files_sweep_soon(struct unix_ids *ux, uint64_t delay_usec) {
        if (!ux->d || group_files_count(ux->files) == 0)
                return;
        uint64_t at = loop_now_usec() + delay_usec;
        if (ux->sweep && ux->sweep_at <= at)
                return;
        loop_timer_cancel(ux->sweep);
        ux->sweep = NULL;
        if (loop_timer_add(ux->d->loop, at, on_files_sweep, ux, &ux->sweep) < 0) {
                group_files_clear(ux->files);  /* unchecked files must not stay */
                return;
        }
        ux->sweep_at = at;
}

/* Leaves role's reply as its files for the module. */
static void files_put(struct daemon *d, struct unix_ids *ux, const struct membership_role *role,
                      const struct group_reply *reply) {
        struct group_files *f = files_ready(d, ux);
        if (!f || reply->len == 0)
                return;
        int r = group_files_put(f, role->gname, reply, time(NULL));
        if (r < 0 && r != -ENOSPC && r != -EINVAL)
                log_warning(0, "[nss] cannot write the file of group %s in %s: %s", role->gname,
                            group_files_dir(f), strerror(-r));
        files_sweep_soon(ux, FILES_SWEEP_USEC);
}

/* Answers every waiter of job and frees it. */
static void job_end(struct unix_ids *ux, struct reply_job *job, int status, const struct unix_group *g,
                    const char *error) {
        for (struct reply_job **pp = &ux->jobs; *pp; pp = &(*pp)->next)
                if (*pp == job) {
                        *pp = job->next;
                        break;
                }
        loop_timer_cancel(job->timer);
        while (job->waiters) {
                struct reply_waiter *w = job->waiters;
                job->waiters = w->next;
                w->fn(status, g, error, w->userdata);
                free(w);
        }
        group_reply_build_free(job->b);
        free(job);
}

static void job_schedule(struct reply_job *job);

/* Builds job's reply for another slice (or the whole of a small group),
 * starting again when the group changed meanwhile; answers and keeps the
 * reply once complete. */
static void job_run(struct unix_ids *ux, struct reply_job *job) {
        struct daemon *d = job->d;
        const struct membership_role *role = membership_role_by_key(ux->index, group_reply_build_key(job->b));
        if (!role || !role->gname) {
                job_end(ux, job, -ENOENT, NULL, NULL);  /* no cached user holds it any more */
                return;
        }
        struct group_reply_stamp now = stamp_of(d, ux, role, group_reply_build_stamp(job->b)->gid);
        const struct group_reply_stamp *was = group_reply_build_stamp(job->b);
        if (now.version != was->version || now.epoch != was->epoch || now.local != was->local ||
            now.max_members != was->max_members) {
                struct group_reply_build *b;
                int r = group_reply_build_new(role, &now, REPLY_MAX_SIZE, &b);
                if (r < 0) {
                        job_end(ux, job, r, NULL, NULL);
                        return;
                }
                group_reply_build_free(job->b);
                job->b = b;
        }
        int r = group_reply_build_step(job->b, role, REPLY_SLICE, member_is_local, ux->local);
        if (r == 0) {
                job_schedule(job);
                return;
        }
        struct group_reply *reply = NULL;
        if (r > 0)
                r = group_reply_build_finish(job->b, &reply);
        if (r < 0) {
                log_err(0, "[nss] group %s: %s", role->gname,
                        r == -E2BIG ? "too many members for one reply" : strerror(-r));
                job_end(ux, job, r, NULL,
                        r == -E2BIG ? "too many members for one reply: set [nss] max_group_members" : NULL);
                return;
        }
        files_put(d, ux, role, reply);
        struct unix_group g = { .name = role->gname, .gid = reply->stamp.gid, .message = reply->message,
                                .message_len = reply->len, .reply = reply };
        job_end(ux, job, 0, &g, NULL);
        group_reply_cache_put(ux->replies, reply);
}

static void on_job_timer(struct loop_timer *t, void *userdata) {
        struct reply_job *job = userdata;
        (void)t;
        job->timer = NULL;  /* freed by the loop */
        job_run(job->d->unix_ids, job);
}

/* The next slice after the calls that are waiting now. */
static void job_schedule(struct reply_job *job) {
        int r = loop_timer_add(job->d->loop, 0, on_job_timer, job, &job->timer);
        if (r < 0)
                job_end(job->d->unix_ids, job, r, NULL, NULL);
}

/* Answers fn with role as the group gid: its reply kept, or one built
 * (with whoever else asks for it meanwhile). */
static void reply_role_message(struct daemon *d, struct unix_ids *ux, const struct membership_role *role,
                               uint32_t gid, unix_group_fn fn, void *userdata) {
        group_reply_cache_set_max(ux->replies, d->config->group_reply_cache);
        struct group_reply_stamp stamp = stamp_of(d, ux, role, gid);
        struct group_reply *kept = group_reply_cache_get(ux->replies, role->key, &stamp);
        if (kept) {
                files_put(d, ux, role, kept);
                answer_message(kept, role->gname, fn, userdata);
                return;
        }
        struct reply_waiter *w = calloc(1, sizeof(*w));
        if (!w) {
                fn(-ENOMEM, NULL, NULL, userdata);
                return;
        }
        *w = (struct reply_waiter){ .fn = fn, .userdata = userdata };
        struct reply_job *job = ux->jobs;
        while (job && strcmp(group_reply_build_key(job->b), role->key) != 0)
                job = job->next;
        if (job) {  /* started already: brought up to date at its next slice */
                *job->last = w;
                job->last = &w->next;
                return;
        }
        if (!(job = calloc(1, sizeof(*job)))) {
                free(w);
                fn(-ENOMEM, NULL, NULL, userdata);
                return;
        }
        int r = group_reply_build_new(role, &stamp, REPLY_MAX_SIZE, &job->b);
        if (r < 0) {
                free(job);
                free(w);
                fn(r, NULL, NULL, userdata);
                return;
        }
        job->d = d;
        job->waiters = w;
        job->last = &w->next;
        job->next = ux->jobs;
        ux->jobs = job;
        job_run(ux, job);
}

/* Answers fn with role as the group gid. */
static void reply_role_group(struct daemon *d, struct unix_ids *ux, const struct membership_role *role,
                             uint32_t gid, unsigned flags, unix_group_fn fn, void *userdata) {
        if (flags & UNIX_GROUP_MESSAGE) {
                reply_role_message(d, ux, role, gid, fn, userdata);
                return;
        }
        struct unix_group g;
        int r = role_to_group(ux, role, gid, members_listed(d->config), &g);
        if (r < 0) {
                fn(r, NULL, NULL, userdata);
                return;
        }
        fn(0, &g, NULL, userdata);
        unix_group_clear(&g);
}

void unix_group_by_name(struct daemon *d, const char *name, unsigned flags, uint64_t request_id,
                        unix_group_fn fn, void *userdata) {
        struct unix_ids *ux = group_lookup_prepare(d, fn, userdata);
        if (!ux)
                return;
        if (local_accounts_has_group(ux->local, name)) {
                fn(-ENOENT, NULL, NULL, userdata);
                return;
        }
        /* role groups first: they are what sudoers and access rules name;
         * a role's name, even one no group answers for (two roles with
         * one name), is never a private group's */
        const struct membership_role *const *roles;
        size_t n = membership_group_roles(ux->index, name, &roles);
        if (n == 1 && roles[0]->gname && strcmp(roles[0]->gname, name) == 0) {
                uint32_t gid;
                int r = role_group_gid(d, ux, roles[0], &gid);
                if (r == 0)
                        reply_role_group(d, ux, roles[0], gid, flags, fn, userdata);
                else
                        fn(r, NULL, NULL, userdata);
                return;
        }
        if (n > 0 || !private_group_allowed(d->config, ux->index, name)) {
                fn(-ENOENT, NULL, NULL, userdata);
                return;
        }
        private_group(d, name, false, 0, request_id, fn, userdata);
}

void unix_group_by_gid(struct daemon *d, uint32_t gid, unsigned flags, uint64_t request_id, unix_group_fn fn,
                       void *userdata) {
        struct unix_ids *ux = group_lookup_prepare(d, fn, userdata);
        if (!ux)
                return;
        if (local_accounts_has_gid(ux->local, gid)) {
                fn(-ENOENT, NULL, NULL, userdata);
                return;
        }
        char *key = NULL;
        int r = store_uid_lookup(d->store, gid, &key);
        if (r < 0) {
                fn(r == -ENOENT ? -ENOENT : r, NULL, NULL, userdata);
                return;
        }
        if (strncmp(key, UNIX_ROLE_KEY_PREFIX, strlen(UNIX_ROLE_KEY_PREFIX)) != 0) {
                bool local = reserved_key(key);
                free(key);
                if (local)
                        fn(-ENOENT, NULL, NULL, userdata);
                else
                        private_group(d, NULL, true, gid, request_id, fn, userdata);
                return;
        }
        /* a role no cached user holds any more is not known here */
        const struct membership_role *role = membership_role_by_key(ux->index, key);
        free(key);
        uint32_t role_gid;
        if (!role || (r = role_group_gid(d, ux, role, &role_gid)) == -ENOENT || (r == 0 && role_gid != gid)) {
                fn(-ENOENT, NULL, NULL, userdata);
                return;
        }
        if (r < 0) {
                fn(r, NULL, NULL, userdata);
                return;
        }
        reply_role_group(d, ux, role, gid, flags, fn, userdata);
}

/* ------------------------------------------------------------ enumeration */

struct list_users {
        struct daemon *d;
        struct unix_ids *ux;
        unsigned flags;
        struct unix_user *u;
        size_t n;
};

static int list_users_cb(const struct identity_record *rec, void *userdata) {
        struct list_users *l = userdata;
        struct identity *id = NULL;
        if (identity_from_blob(rec->blob, rec->blob_size, &id) < 0)
                return 0;
        struct unix_user u;
        int r = build_user(l->d, l->ux, id, l->flags, &u);
        identity_free(id);
        if (r == -ENOENT || r == -ENOSPC)
                return 0;
        if (r < 0)
                return r;
        struct unix_user *a = realloc(l->u, (l->n + 1) * sizeof(*a));
        if (!a) {
                unix_user_clear(&u);
                return -ENOMEM;
        }
        l->u = a;
        l->u[l->n++] = u;
        return 0;
}

int unix_list_users(struct daemon *d, unsigned flags, struct unix_user **ret, size_t *ret_n) {
        char err[300];
        struct list_users l = { .d = d, .flags = flags };
        int r = prepare(d, &l.ux, err, sizeof(err));
        if (r < 0)
                return r;
        r = store_identity_list(d->store, list_users_cb, &l);
        if (r < 0) {
                unix_users_free(l.u, l.n);
                return r;
        }
        *ret = l.u;
        *ret_n = l.n;
        return 0;
}

struct list_roles {
        struct daemon *d;
        struct unix_ids *ux;
        struct unix_group *g;
        size_t n, cap;
};

static int list_roles_cb(const struct membership_role *role, void *userdata) {
        struct list_roles *l = userdata;
        uint32_t gid;
        int r = role_group_gid(l->d, l->ux, role, &gid);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (l->n == l->cap) {
                size_t cap = l->cap ? l->cap * 2 : 16;
                struct unix_group *g = realloc(l->g, cap * sizeof(*g));
                if (!g)
                        return -ENOMEM;
                l->g = g;
                l->cap = cap;
        }
        if ((r = role_to_group(l->ux, role, gid, members_listed(l->d->config), &l->g[l->n])) < 0)
                return r;
        l->n++;
        return 0;
}

int unix_list_groups(struct daemon *d, struct unix_group **ret, size_t *ret_n) {
        struct unix_user *users = NULL;
        size_t n_users = 0;
        int r = unix_list_users(d, 0, &users, &n_users);
        if (r < 0)
                return r;
        struct list_roles l = { .d = d, .ux = d->unix_ids };
        r = membership_for_each_role(l.ux->index, list_roles_cb, &l);
        for (size_t i = 0; i < n_users && r >= 0; i++) {
                if (!private_group_allowed(d->config, l.ux->index, users[i].name))
                        continue;
                if (l.n == l.cap) {
                        size_t cap = l.cap ? l.cap * 2 : 16;
                        struct unix_group *g = realloc(l.g, cap * sizeof(*g));
                        if (!g) {
                                r = -ENOMEM;
                                break;
                        }
                        l.g = g;
                        l.cap = cap;
                }
                l.g[l.n++] = (struct unix_group){ .name = TAKE_PTR(users[i].name), .gid = users[i].gid };
        }
        unix_users_free(users, n_users);
        if (r < 0) {
                unix_groups_free(l.g, l.n);
                return r;
        }
        *ret = l.g;
        *ret_n = l.n;
        return 0;
}
