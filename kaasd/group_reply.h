/* The io.kaas.Nss replies of role groups, serialised: built in slices, so
 * that a group of 100,000 members never holds kaasd's loop for long, and
 * kept until the group changes, so that glibc's retries with a larger
 * buffer (ERANGE) and repeated lookups cost a copy.
 *
 * A reply is reused only while everything it was made from holds: the
 * index (its epoch), the role's name and members (membership_role.version,
 * new at every change the index sees), the local files whose names are
 * left out (local_accounts_generation()), the gid and [nss]
 * max_group_members: the stamp. The cache keeps at most max_bytes of
 * replies (their messages), dropping the least recently used first; a
 * reply larger than that is not kept.
 *
 * Depends on membership.h and varlink_frame.h only; single-threaded use
 * (kaasd's loop). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "membership.h"

struct group_reply_stamp {
        uint64_t epoch;                 /* of the index: a new index, a new epoch */
        uint64_t version;               /* membership_role.version */
        uint64_t local;                 /* local_accounts_generation() */
        uint32_t gid;
        unsigned max_members;           /* the most members listed: 0 none, UINT_MAX all */
};

struct group_reply {
        unsigned refs;                  /* the cache's, and each connection's sending it */
        char key[MEMBERSHIP_KEY_SIZE];  /* the role's, in the uid map */
        struct group_reply_stamp stamp;
        char *message;                  /* {"parameters":{"group":{...}}} and its NUL */
        size_t len;                     /* the NUL included */
        size_t n_members;
        size_t member_bytes;            /* the members' names, each with a NUL */
        struct group_reply *prev, *next;        /* least recently used last */
        struct group_reply *hash_next;
};

struct group_reply *group_reply_ref(struct group_reply *r);
/* Frees r with its last reference. */
struct group_reply *group_reply_unref(struct group_reply *r);

/* ------------------------------------------------------------ cache */

struct group_reply_cache;

int group_reply_cache_new(size_t max_bytes, struct group_reply_cache **ret);
struct group_reply_cache *group_reply_cache_free(struct group_reply_cache *c);
/* Drops what no longer fits. */
void group_reply_cache_set_max(struct group_reply_cache *c, size_t max_bytes);
void group_reply_cache_clear(struct group_reply_cache *c);

/* The reply kept for key made with stamp, now the most recently used;
 * NULL when there is none (one made with another stamp is dropped). Valid
 * until the next group_reply_cache_put() or _set_max(), unless a
 * reference is taken. */
struct group_reply *group_reply_cache_get(struct group_reply_cache *c, const char *key,
                                          const struct group_reply_stamp *stamp);
/* Keeps r (its reference taken; dropped at once when r is larger than
 * max_bytes) in place of any other reply for its key. */
void group_reply_cache_put(struct group_reply_cache *c, struct group_reply *r);

size_t group_reply_cache_bytes(const struct group_reply_cache *c);
size_t group_reply_cache_count(const struct group_reply_cache *c);

/* ------------------------------------------------------------ building */

struct group_reply_build;

/* Whether a member is left out (a local name). */
typedef bool (*group_reply_skip_fn)(const char *member, void *userdata);

/* Starts the reply of role as stamp says; max_size bounds the message
 * (-E2BIG from a step past it). */
int group_reply_build_new(const struct membership_role *role, const struct group_reply_stamp *stamp,
                          size_t max_size, struct group_reply_build **ret);
struct group_reply_build *group_reply_build_free(struct group_reply_build *b);

/* Whether role is still what b is being built from (the same version):
 * when not, the build must start again. */
bool group_reply_build_current(const struct group_reply_build *b, const struct membership_role *role);

/* Writes up to slice more members of role (for which
 * group_reply_build_current() holds). Returns 1 when the reply is
 * complete (group_reply_build_finish()), 0 when members remain, -E2BIG or
 * -ENOMEM. */
int group_reply_build_step(struct group_reply_build *b, const struct membership_role *role, size_t slice,
                           group_reply_skip_fn skip, void *userdata);

/* The complete reply (one reference, the caller's); b is then empty
 * (free it). */
int group_reply_build_finish(struct group_reply_build *b, struct group_reply **ret);

const char *group_reply_build_key(const struct group_reply_build *b);
const struct group_reply_stamp *group_reply_build_stamp(const struct group_reply_build *b);
