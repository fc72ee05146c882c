/* Keystone identities as Unix users and groups (DESIGN §10), for the
 * io.kaas.Nss and io.systemd.UserDatabase interfaces.
 *
 * A user is a Keystone user (name mapped by unix_names.h), with a uid
 * remembered in the store's uid map under its user ID, and a private
 * group of the same name with gid = uid. A role is a group with a gid
 * remembered under "role:<role ID>" in [gid_min, gid_max]; its members
 * are the enabled users of the identity cache that hold the role. Names
 * and ids of the local passwd and group files are never served, and the
 * local ids inside the configured ranges are held back in the uid map
 * ("local:<id>") before any assignment, so no Keystone user gets them.
 *
 * Disabled users resolve (as SSSD does: files keep their owner's name,
 * PAM's account stage refuses the login) but belong to no role group.
 *
 * Lookups answer through a callback exactly once, now or later; status
 * is 0, -ENOENT (no such user or group here), -EHOSTUNREACH (Keystone
 * cannot be asked and nothing usable is cached; error says why), -ENOSPC
 * (the configured range is full) or another negative errno (store or
 * local files; error says why when it can).
 *
 * Depends on daemon.h (store, identity cache, configuration),
 * unix_names.h and local_accounts.h. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct daemon;
struct group_reply;
struct unix_ids;

struct unix_group_ref {
        char *name;
        uint32_t gid;
};

struct unix_user {
        char *name;
        uint32_t uid, gid;
        char *gecos;            /* the Keystone user name */
        char *home, *shell;
        char *user_id;          /* Keystone */
        char *domain;           /* domain name (or ID when Keystone gave no name) */
        bool enabled;
        struct unix_group_ref *groups;  /* role groups, with UNIX_WITH_GROUPS */
        size_t n_groups;
};

struct unix_group {
        char *name;
        uint32_t gid;
        char **members;
        size_t n_members;
        char *role_name;        /* NULL: the private group of user `name` */
        /* with UNIX_GROUP_MESSAGE, a role group: the whole io.kaas.Nss reply
         * (its NUL included), kept by kaasd in reply (group_reply.h: take a
         * reference to keep it past the callback); members and role_name
         * are then not set */
        const char *message;
        size_t message_len;
        struct group_reply *reply;
};

#define UNIX_WITH_GROUPS (1u << 0)
#define UNIX_GROUP_MESSAGE (1u << 1)

typedef void (*unix_user_fn)(int status, const struct unix_user *u, const char *error, void *userdata);
typedef void (*unix_group_fn)(int status, const struct unix_group *g, const char *error, void *userdata);

int unix_ids_new(struct unix_ids **ret);
/* Makes d's engine and its membership index (membership.h) now, rather
 * than at the first lookup: one walk of the identity cache. */
int unix_ids_start(struct daemon *d);
/* After a reload: the index made again when the naming settings changed,
 * and the group files (group_files.h) closed, or checked against the new
 * settings at once. */
void unix_ids_reconfigured(struct daemon *d);
/* Answers the lookups still waiting (-ECANCELED): before the server goes. */
void unix_ids_stop(struct daemon *d);
struct unix_ids *unix_ids_free(struct unix_ids *u);

void unix_user_by_name(struct daemon *d, const char *name, unsigned flags, uint64_t request_id,
                       unix_user_fn fn, void *userdata);
void unix_user_by_uid(struct daemon *d, uint32_t uid, unsigned flags, uint64_t request_id,
                      unix_user_fn fn, void *userdata);
/* flags: UNIX_GROUP_MESSAGE (a role group as its reply, serialised, made
 * in slices between other calls and kept until the group changes) */
void unix_group_by_name(struct daemon *d, const char *name, unsigned flags, uint64_t request_id,
                        unix_group_fn fn, void *userdata);
void unix_group_by_gid(struct daemon *d, uint32_t gid, unsigned flags, uint64_t request_id,
                       unix_group_fn fn, void *userdata);

/* Enumeration of what the identity cache holds (users with their role
 * groups when flags say so; role groups, then private groups), whatever
 * [nss] enumerate says: the callers decide. The arrays are the caller's,
 * freed with unix_users_free()/unix_groups_free(). */
int unix_list_users(struct daemon *d, unsigned flags, struct unix_user **ret, size_t *ret_n);
int unix_list_groups(struct daemon *d, struct unix_group **ret, size_t *ret_n);

void unix_user_clear(struct unix_user *u);
void unix_group_clear(struct unix_group *g);
void unix_users_free(struct unix_user *u, size_t n);
void unix_groups_free(struct unix_group *g, size_t n);
