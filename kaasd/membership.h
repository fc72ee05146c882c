/* The membership index: which cached Keystone users hold which roles, as
 * Unix group names and member names, kept current as identities enter,
 * change and leave the identity cache (identity_cache_watch()), so that
 * no group lookup walks the cache.
 *
 * Three tables, all hashed: users by Keystone user ID (with the roles each
 * holds), roles by their uid-map key ("role:<id>", unix_role_key()) with
 * their members, and group names (lower-cased) with the roles that map to
 * each. A role is in the index while at least one cached identity holds
 * it; its members are the enabled holders whose name is a Unix name.
 * Looking up a role, a group name or a user costs O(1); listing a role's
 * members O(members); an update O(roles of the user).
 *
 * What depends on the running system (local passwd and group files,
 * names kaas refuses) is not decided here but by the callers, at each
 * lookup. The naming settings (role_group_prefix, default_domain,
 * domain_separator) are fixed for an index's life: a new setting needs a
 * new index (membership_matches()).
 *
 * Depends on identity.h (struct identity) and unix_names.h only. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "identity.h"

#define MEMBERSHIP_KEY_SIZE 80

struct membership;
struct membership_group;
struct membership_user;

/* Read-only for callers; valid until the next update of the index. */
struct membership_role {
        char key[MEMBERSHIP_KEY_SIZE];  /* in the uid map */
        char *role_name;                /* as the latest holder's identity names it */
        char *gname;                    /* the Unix group name; NULL: the role has no usable name */
        size_t n_members;               /* enabled holders with a Unix name: membership_role_member() */
        struct membership_user **mu;
        size_t holders;                 /* cached identities holding the role, enabled or not */
        uint64_t version;               /* new whenever its name or members change; unique in the index */
        size_t cap;
        struct membership_group *group;
        struct membership_role *next;
};

int membership_new(const char *role_group_prefix, const char *default_domain, char sep, struct membership **ret);
struct membership *membership_free(struct membership *m);

/* Whether m was made with these naming settings. */
bool membership_matches(const struct membership *m, const char *role_group_prefix, const char *default_domain,
                        char sep);

/* Puts what id holds in place of what the same user held before. On
 * failure (-ENOMEM) the user is in the index with nothing. */
int membership_set(struct membership *m, const struct identity *id);
/* Drops the user; nothing when it is not there. */
void membership_remove(struct membership *m, const char *user_id);

const struct membership_role *membership_role_by_key(const struct membership *m, const char *key);
/* The roles whose group name is name, compared without case: several
 * roles there means the name is ambiguous and no group. Sets *ret to an
 * array valid until the next update; returns how many. */
size_t membership_group_roles(const struct membership *m, const char *name,
                              const struct membership_role *const **ret);

/* Calls fn for every role until it returns non-zero (returned). */
int membership_for_each_role(const struct membership *m,
                             int (*fn)(const struct membership_role *role, void *userdata), void *userdata);

/* The Unix name of member i (< n_members) of role. */
const char *membership_role_member(const struct membership_role *role, size_t i);

size_t membership_n_users(const struct membership *m);
size_t membership_n_roles(const struct membership *m);
