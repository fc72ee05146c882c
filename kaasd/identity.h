/* The identity cache: Keystone users with their effective roles, kept in
 * the store and refreshed from Keystone (DESIGN §8).
 *
 * An entry is fresh for cache_ttl; past 2/3 of it a lookup is answered
 * from the cache and the entry refreshed in the background. Past cache_ttl
 * Keystone is asked; when Keystone cannot answer, an entry is served up to
 * offline_ttl after it was fetched, then lookups fail as unavailable.
 * Names Keystone does not know are remembered (in memory) for negative_ttl.
 * A user Keystone reports deleted is removed, a disabled one is kept with
 * enabled = false; both at the next refresh.
 *
 * Identical lookups in flight share one round of Keystone calls: a table
 * of pending fetches keyed by user ID or by name and domain, each with its
 * list of waiters.
 *
 * The backend state is explicit: online, or offline until a retry time
 * (exponential backoff between retry_min and retry_max with jitter). While
 * offline no lookup calls Keystone: they are answered from the cache or
 * fail at once; at the retry time one probe (a fresh service
 * authentication) decides whether Keystone is back.
 *
 * Depends on keystone.h, store.h and the loop. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config_file.h"
#include "keystone.h"
#include "loop.h"
#include "store.h"

/* Format of the JSON blob stored per user; bump when it changes. */
#define IDENTITY_BLOB_VERSION 1

struct identity_role {
        char *id;
        char *name;
        enum ks_scope_kind scope;
        char *project_id;       /* project scope */
        char *project_name;
        char *domain_id;        /* the project's domain, or the scope domain */
        char *domain_name;
};

struct identity_project {
        char *id;
        char *name;
        char *domain_id;
        char *domain_name;
};

struct identity {
        char *user_id;
        char *name;
        char *domain_id;
        char *domain_name;
        bool enabled;
        struct identity_role *roles;
        size_t n_roles;
        struct identity_project *projects;
        size_t n_projects;
        int64_t fetched_at_ms;  /* unix milliseconds */
};

struct identity *identity_free(struct identity *id);

/* The User fields of io.kaas.Identity except admin_of_clusters and source:
 * id, name, domain_id, domain_name, enabled, roles, projects, fetched_at. */
json_t *identity_to_json(const struct identity *id);
/* Stored form: identity_to_json() plus "format" and "fetched_at_ms".
 * Parsing checks every field: -EBADMSG for a blob that does not match. */
int identity_to_blob(const struct identity *id, char **ret, size_t *ret_size);
int identity_from_blob(const char *blob, size_t size, struct identity **ret);

/* Whether id holds one of the cluster's admin roles (by name or ID, in any
 * scope). A disabled user is admin of nothing. */
bool identity_is_admin_of(const struct identity *id, const struct config_cluster *cluster);

struct identity_cache;
struct identity_waiter;

enum identity_source { IDENTITY_FROM_CACHE, IDENTITY_FROM_KEYSTONE };

/* The io.kaas.Identity User: identity_to_json() plus admin_of_clusters
 * (from config's [cluster] sections) and source. NULL on ENOMEM. */
json_t *identity_to_user_json(const struct identity *id, const struct config *config, enum identity_source src);

/* status: 0 with id set; -ENOENT unknown user; -EHOSTUNREACH Keystone
 * cannot be asked and nothing usable is cached (error says why);
 * -ECANCELED the cache is shutting down. id is valid during the call. */
typedef void (*identity_done_fn)(int status, const struct identity *id, enum identity_source source,
                                 const char *error, void *userdata);

/* Who a lookup is for, as far as Keystone capacity goes. An ordinary
 * local user (bounded) may have IDENTITY_SHARE_PER_UID lookups waiting on
 * Keystone, further ones fail at once as unavailable; and ordinary users'
 * fetches together run IDENTITY_SHARE_FETCHES at a time (more wait their
 * turn), so background refreshes, password checks and the lookups of root
 * and validators always find Keystone connections free. Zero (not
 * bounded) is kaasd's own work and privileged callers. */
struct identity_caller {
        bool bounded;
        uid_t uid;
};

#define IDENTITY_SHARE_PER_UID 16
#define IDENTITY_SHARE_FETCHES 4   /* two Keystone calls each: half of keystone.c's 16 connections */

struct identity_query {
        const char *user_id;    /* either this */
        const char *name;       /* or this, in */
        const char *domain;     /* a domain given by name or ID; NULL = "default" */
        struct identity_caller caller;
};

enum identity_backend_state { IDENTITY_BACKEND_UNCONFIGURED, IDENTITY_BACKEND_ONLINE, IDENTITY_BACKEND_OFFLINE };

struct identity_stats {
        enum identity_backend_state state;
        int64_t retry_at;               /* unix seconds, OFFLINE only */
        const char *last_error;         /* NULL if none yet */
        int64_t last_error_at;          /* unix seconds */
        int64_t last_online_at;
        uint64_t lookups;
        uint64_t cache_hits;            /* answered from a fresh or refreshing entry */
        uint64_t served_stale;          /* answered from an entry past cache_ttl */
        uint64_t negative_hits;
        uint64_t merged;                /* lookups that joined a fetch in flight */
        uint64_t fetches;               /* rounds of Keystone calls started */
        uint64_t background_refreshes;
        uint64_t unavailable;           /* lookups answered "unavailable" */
        uint64_t pending;               /* fetches in flight now */
        uint64_t share_refused;         /* ordinary users' lookups over their share */
        uint64_t share_queued;          /* ordinary users' fetches that waited their turn */
        uint64_t negative_entries;
};

/* ks may be NULL (no Keystone configured: only cached entries are served,
 * within offline_ttl). store is required. */
int identity_cache_new(struct loop *loop, struct keystone *ks, struct store *store, const struct config *c,
                       struct identity_cache **ret);
/* Fails every waiting lookup with -ECANCELED, cancels Keystone calls, frees. */
struct identity_cache *identity_cache_free(struct identity_cache *c);
/* New TTLs and retry bounds; clusters are read from c at each lookup. c must
 * outlive its use: pass the daemon's current configuration. */
void identity_cache_set_config(struct identity_cache *c, const struct config *cfg);

/* Answers through fn, now (before returning 0, then *ret_waiter is left
 * untouched) or later (then *ret_waiter, if not NULL, can cancel it).
 * Returns -EINVAL for a query that is not exactly one of user_id and name,
 * or whose strings Keystone could not hold; fn is not called then.
 * request_id tags log lines. */
int identity_lookup(struct identity_cache *c, const struct identity_query *q, uint64_t request_id,
                    identity_done_fn fn, void *userdata, struct identity_waiter **ret_waiter);
/* fn of w will not run. */
void identity_lookup_cancel(struct identity_waiter *w);

/* Drops the cached entries of a user given by ID or by name (in every
 * domain) and the negative entries for it; ret_removed counts entries. */
int identity_invalidate(struct identity_cache *c, const char *user, unsigned *ret_removed);
/* Drops every cached identity and negative entry. */
int identity_flush(struct identity_cache *c, unsigned *ret_removed);

/* Told of every change to the stored identities, after it is stored: id
 * is what user_id now holds, NULL when it left the cache. */
typedef void (*identity_watch_fn)(const char *user_id, const struct identity *id, void *userdata);
/* Sets the one watcher (fn NULL: none) and tells it every stored identity
 * (one walk of the store: for a watcher that starts afresh, not per
 * request). */
int identity_cache_watch(struct identity_cache *c, identity_watch_fn fn, void *userdata);

void identity_cache_get_stats(const struct identity_cache *c, struct identity_stats *ret);
/* Number of stored identities: counted once at start, then kept current
 * (no walk of the store per call). */
int identity_cache_count(struct identity_cache *c, uint64_t *ret);
const char *identity_backend_state_name(enum identity_backend_state s);
