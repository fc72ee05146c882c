/* The identity cache and the Keystone backend state machine; see
 * identity.h. Lookups are decided in identity_lookup() from what the store
 * holds and the backend state; fetches from Keystone run as "pending"
 * rounds shared by every identical lookup in flight. */
#include "config.h"

#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "domain_map.h"
#include "identity.h"
#include "log.h"
#include "token_format.h"

#define MAX_PENDING 1024        /* distinct fetches in flight */
#define MAX_WAITERS 4096        /* lookups waiting on one fetch */
#define MAX_NEGATIVE 4096
#define MAX_SHARE_UIDS 1024     /* ordinary uids with lookups waiting on Keystone */
#define ERROR_SIZE 512
/* Parsed copies of cached identities kept in memory, in front of the
 * store: a lookup then costs no database read and no JSON parse. Bounded
 * by bytes (a typical user is about 1 KiB packed), least recently used
 * first out. */
#define MEMO_MAX_BYTES (128u * 1024 * 1024)
#define MEMO_MIN_BUCKETS 1024u

struct negative {
        char *key;
        uint64_t expires;       /* monotonic */
        struct negative *next;
};

enum pending_kind { PENDING_BY_ID, PENDING_BY_NAME };

struct identity_waiter {
        struct identity_cache *c;
        struct identity_caller caller;  /* bounded: counted in the uid's share */
        struct pending *p;
        identity_done_fn fn;
        void *userdata;
        uint64_t request_id;
        char *name;             /* by-name lookups: the answer must carry this name */
        struct identity_waiter *prev, *next;
};

struct pending {
        struct identity_cache *c;
        char *key;
        enum pending_kind kind;
        char *user_id;
        char *name;
        char *domain;           /* as given, BY_NAME */
        char *domain_id;        /* resolved */
        bool domain_by_id_tried;
        struct identity *stale; /* fallback while Keystone cannot answer */
        struct ks_request *req_user, *req_roles, *req_domain;
        struct ks_user user;
        bool have_user;
        struct ks_assignments roles;
        bool have_roles;
        bool have_domain_state, domain_enabled;  /* whether the user's domain is enabled */
        char *domain_name;
        uint64_t request_id;
        struct loop_timer *fail_timer;  /* a call could not even start */
        int fail_status;
        char fail_error[128];
        unsigned n_waiters;
        struct identity_waiter *wait_head, *wait_tail;
        bool ordinary;          /* started for an ordinary user: runs in their share */
        bool queued;            /* waiting for a place in that share, not started */
        struct pending *queue_next;
        struct pending *prev, *next;
};

struct uid_share {
        uid_t uid;
        unsigned waiting;       /* lookups waiting on a fetch */
};

/* One identity packed in a single allocation: the strings and arrays of
 * id point into data. Entries are shared: the table holds one reference
 * while the entry is linked, and a lookup answering from it holds another
 * for the length of its callback, so an entry evicted or replaced meanwhile
 * stays valid until the callback returns. */
struct memo_entry {
        unsigned refs;
        bool linked;
        uint64_t id_hash, name_hash;
        struct memo_entry *id_next, *name_next;  /* hash chains */
        struct memo_entry *newer, *older;        /* LRU list */
        size_t size;
        struct identity id;
        char data[] __attribute__((aligned(8)));
};

struct memo {
        struct memo_entry **by_id, **by_name;
        size_t n_buckets;                        /* a power of two */
        size_t n, bytes;
        struct memo_entry *newest, *oldest;
};

struct identity_cache {
        struct loop *loop;
        struct keystone *ks;
        struct store *store;
        uint64_t cache_ttl_ms, offline_ttl_ms, negative_ttl_ms, retry_min_ms, retry_max_ms;

        struct pending *pending;
        bool closing;                           /* start no queued fetch */
        unsigned ordinary_running;              /* ordinary fetches started */
        struct pending *queue_head, *queue_tail; /* ordinary fetches waiting to start */
        struct uid_share shares[MAX_SHARE_UIDS];
        unsigned n_shares;
        struct negative *neg_head, *neg_tail;
        struct domain_map domains;

        uint64_t retry_at;      /* monotonic */
        uint64_t backoff_ms;
        char last_error[ERROR_SIZE];
        struct loop_timer *retry_timer;
        struct ks_request *probe;
        struct identity_stats stats;
        struct memo memo;
        uint64_t n_stored;      /* identities in the store, kept current */
        identity_watch_fn watch;
        void *watch_userdata;
};

static int64_t now_wall_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t now_mono_ms(void) {
        return loop_now_usec() / 1000u;
}

const char *identity_backend_state_name(enum identity_backend_state s) {
        switch (s) {
        case IDENTITY_BACKEND_UNCONFIGURED:
                return "unconfigured";
        case IDENTITY_BACKEND_ONLINE:
                return "online";
        case IDENTITY_BACKEND_OFFLINE:
                return "offline";
        }
        return "unknown";
}

static char *make_key(char kind, const char *a, const char *b) {
        char *k;
        if (asprintf(&k, "%c:%s\x1f%s", kind, a, b ? b : "") < 0)
                return NULL;
        return k;
}

/* ------------------------------------------------------------ negative cache */

static void negative_expire(struct identity_cache *c, uint64_t now) {
        while (c->neg_head && (c->neg_head->expires <= now || c->stats.negative_entries > MAX_NEGATIVE)) {
                struct negative *n = c->neg_head;
                c->neg_head = n->next;
                if (!c->neg_head)
                        c->neg_tail = NULL;
                free(n->key);
                free(n);
                c->stats.negative_entries--;
        }
}

static bool negative_has(struct identity_cache *c, const char *key) {
        uint64_t now = now_mono_ms();
        negative_expire(c, now);
        for (struct negative *n = c->neg_head; n; n = n->next)
                if (n->expires > now && strcmp(n->key, key) == 0)
                        return true;
        return false;
}

static void negative_add(struct identity_cache *c, const char *key) {
        if (c->negative_ttl_ms == 0 || !key || negative_has(c, key))
                return;
        struct negative *n = calloc(1, sizeof(*n));
        if (!n || !(n->key = strdup(key))) {
                free(n);
                return;
        }
        n->expires = now_mono_ms() + c->negative_ttl_ms;
        if (c->neg_tail)
                c->neg_tail->next = n;
        else
                c->neg_head = n;
        c->neg_tail = n;
        c->stats.negative_entries++;
        negative_expire(c, now_mono_ms());
}

/* Drops negative entries whose key mentions s as ID or name. */
static unsigned negative_drop_matching(struct identity_cache *c, const char *s) {
        unsigned n_removed = 0;
        struct negative **pp = &c->neg_head, *prev = NULL;
        while (*pp) {
                struct negative *n = *pp;
                const char *k = n->key + 2, *sep = strchr(k, '\x1f');
                bool match = s == NULL || (n->key[0] == 'i' && sep && strncmp(k, s, (size_t)(sep - k)) == 0 &&
                                           (size_t)(sep - k) == strlen(s)) ||
                             (n->key[0] != 'i' && sep && strcmp(sep + 1, s) == 0);
                if (match) {
                        *pp = n->next;
                        if (c->neg_tail == n)
                                c->neg_tail = prev;
                        free(n->key);
                        free(n);
                        c->stats.negative_entries--;
                        n_removed++;
                } else {
                        prev = n;
                        pp = &n->next;
                }
        }
        return n_removed;
}

/* ------------------------------------------------------------ backend state */

static enum identity_backend_state backend_state(const struct identity_cache *c) {
        return c->stats.state;
}

static void backend_online(struct identity_cache *c) {
        c->stats.last_online_at = now_wall_ms() / 1000;
        if (c->stats.state == IDENTITY_BACKEND_ONLINE)
                return;
        c->stats.state = IDENTITY_BACKEND_ONLINE;
        c->backoff_ms = 0;
        c->stats.retry_at = 0;
        loop_timer_cancel(c->retry_timer);
        c->retry_timer = NULL;
        keystone_cancel(c->probe);
        c->probe = NULL;
        log_notice(0, "Keystone is available again");
}

static void on_probe_done(const struct ks_result *res, void *userdata);

static void on_retry_time(struct loop_timer *t, void *userdata) {
        struct identity_cache *c = userdata;
        c->retry_timer = NULL;
        if (c->probe || c->stats.state != IDENTITY_BACKEND_OFFLINE)
                return;
        int r = keystone_probe(c->ks, on_probe_done, c, &c->probe);
        if (r < 0) {
                c->probe = NULL;
                /* try again later; this is our own failure, not Keystone's */
                (void)loop_timer_add(c->loop, loop_now_usec() + c->retry_min_ms * 1000u, on_retry_time, c,
                                     &c->retry_timer);
        }
}

/* The last Keystone error, for Status and the "unavailable" replies. */
static void remember_error(struct identity_cache *c, const char *error) {
        snprintf(c->last_error, sizeof(c->last_error), "%s", error ? error : "unknown error");
        c->stats.last_error = c->last_error;
        c->stats.last_error_at = now_wall_ms() / 1000;
}

/* Takes the backend offline (or keeps it there) until a jittered retry
 * time. A probe that fails doubles the wait; calls that were already in
 * flight when Keystone went away only update the error. */
static void backend_failure(struct identity_cache *c, const char *error, bool from_probe) {
        remember_error(c, error);
        if (c->stats.state == IDENTITY_BACKEND_OFFLINE && !from_probe)
                return;
        if (c->stats.state != IDENTITY_BACKEND_OFFLINE || c->backoff_ms == 0)
                c->backoff_ms = c->retry_min_ms;
        else
                c->backoff_ms = c->backoff_ms * 2 > c->retry_max_ms ? c->retry_max_ms : c->backoff_ms * 2;
        /* jitter: 80%..120%, kept within [retry_min, retry_max] */
        uint64_t delay = c->backoff_ms * (800 + randombytes_uniform(401)) / 1000;
        if (delay < c->retry_min_ms)
                delay = c->retry_min_ms;
        if (delay > c->retry_max_ms)
                delay = c->retry_max_ms;
        bool was_online = c->stats.state == IDENTITY_BACKEND_ONLINE;
        c->stats.state = IDENTITY_BACKEND_OFFLINE;
        c->retry_at = now_mono_ms() + delay;
        c->stats.retry_at = now_wall_ms() / 1000 + (int64_t)((delay + 999) / 1000);
        loop_timer_cancel(c->retry_timer);
        c->retry_timer = NULL;
        (void)loop_timer_add(c->loop, c->retry_at * 1000u, on_retry_time, c, &c->retry_timer);
        if (was_online || from_probe)
                log_warning(0, "Keystone unavailable: %s; serving cached identities up to offline_ttl (%llu s), "
                            "next attempt in %.1f s",
                            c->last_error, (unsigned long long)(c->offline_ttl_ms / 1000), (double)delay / 1000.0);
}

static void on_probe_done(const struct ks_result *res, void *userdata) {
        struct identity_cache *c = userdata;
        c->probe = NULL;
        if (res->status == 0)
                backend_online(c);
        else
                backend_failure(c, res->error, true);
}

/* Statuses that say Keystone as a whole cannot serve us; a reply that is
 * malformed for one user fails that lookup only. */
static bool is_backend_failure(int status) {
        return status == -EHOSTUNREACH || status == -ETIMEDOUT || status == -EPROTO || status == -EKEYREJECTED ||
               status == -ENOTCONN;
}

/* ------------------------------------------------------------ memo */

static uint64_t hash_bytes(uint64_t h, const char *s) {
        /* FNV-1a */
        for (; *s; s++) {
                h ^= (unsigned char)*s;
                h *= 0x100000001b3ull;
        }
        return h;
}

static uint64_t hash_user_id(const char *user_id) {
        return hash_bytes(0xcbf29ce484222325ull, user_id);
}

static uint64_t hash_name_key(const char *name, const char *domain_id) {
        uint64_t h = hash_bytes(0xcbf29ce484222325ull, name);
        h = (h ^ 0x1f) * 0x100000001b3ull;
        return hash_bytes(h, domain_id ? domain_id : "");
}

static void memo_entry_unref(struct memo_entry *e) {
        if (e && --e->refs == 0)
                free(e);
}

static bool str_eq(const char *a, const char *b) {
        return strcmp(a ? a : "", b ? b : "") == 0;
}

static void memo_unlink(struct memo *m, struct memo_entry *e) {
        struct memo_entry **pp;
        for (pp = &m->by_id[e->id_hash & (m->n_buckets - 1)]; *pp; pp = &(*pp)->id_next)
                if (*pp == e) {
                        *pp = e->id_next;
                        break;
                }
        for (pp = &m->by_name[e->name_hash & (m->n_buckets - 1)]; *pp; pp = &(*pp)->name_next)
                if (*pp == e) {
                        *pp = e->name_next;
                        break;
                }
        if (e->newer)
                e->newer->older = e->older;
        else
                m->newest = e->older;
        if (e->older)
                e->older->newer = e->newer;
        else
                m->oldest = e->newer;
        e->newer = e->older = e->id_next = e->name_next = NULL;
        e->linked = false;
        m->n--;
        m->bytes -= e->size;
        memo_entry_unref(e);  /* the table's reference */
}

static void memo_touch(struct memo *m, struct memo_entry *e) {
        if (m->newest == e)
                return;
        /* unlink from the LRU list, then in front */
        e->newer->older = e->older;
        if (e->older)
                e->older->newer = e->newer;
        else
                m->oldest = e->newer;
        e->older = m->newest;
        e->newer = NULL;
        m->newest->newer = e;
        m->newest = e;
}

static struct memo_entry *memo_find_id(struct memo *m, const char *user_id, bool touch) {
        if (!m->n_buckets)
                return NULL;
        uint64_t h = hash_user_id(user_id);
        for (struct memo_entry *e = m->by_id[h & (m->n_buckets - 1)]; e; e = e->id_next)
                if (e->id_hash == h && strcmp(e->id.user_id, user_id) == 0) {
                        if (touch)
                                memo_touch(m, e);
                        return e;
                }
        return NULL;
}

static struct memo_entry *memo_find_name(struct memo *m, const char *name, const char *domain_id, bool touch) {
        if (!m->n_buckets)
                return NULL;
        uint64_t h = hash_name_key(name, domain_id);
        for (struct memo_entry *e = m->by_name[h & (m->n_buckets - 1)]; e; e = e->name_next)
                if (e->name_hash == h && strcmp(e->id.name, name) == 0 && str_eq(e->id.domain_id, domain_id)) {
                        if (touch)
                                memo_touch(m, e);
                        return e;
                }
        return NULL;
}

static void memo_drop_id(struct memo *m, const char *user_id) {
        struct memo_entry *e = memo_find_id(m, user_id, false);
        if (e)
                memo_unlink(m, e);
}

static void memo_clear(struct memo *m) {
        while (m->oldest)
                memo_unlink(m, m->oldest);
}

static void memo_free(struct memo *m) {
        memo_clear(m);
        free(m->by_id);
        free(m->by_name);
        *m = (struct memo){ 0 };
}

/* Rehashes into n buckets; on failure the table stays as it is. */
static void memo_resize(struct memo *m, size_t n) {
        struct memo_entry **by_id = calloc(n, sizeof(*by_id)), **by_name = calloc(n, sizeof(*by_name));
        if (!by_id || !by_name) {
                free(by_id);
                free(by_name);
                return;
        }
        /* oldest first, so each chain keeps newer entries in front */
        for (struct memo_entry *e = m->oldest; e; e = e->newer) {
                e->id_next = by_id[e->id_hash & (n - 1)];
                by_id[e->id_hash & (n - 1)] = e;
                e->name_next = by_name[e->name_hash & (n - 1)];
                by_name[e->name_hash & (n - 1)] = e;
        }
        free(m->by_id);
        free(m->by_name);
        m->by_id = by_id;
        m->by_name = by_name;
        m->n_buckets = n;
}

static size_t str_size(const char *s) {
        return s ? strlen(s) + 1 : 0;
}

static char *pack_str(char **p, const char *s) {
        if (!s)
                return NULL;
        size_t n = strlen(s) + 1;
        char *r = memcpy(*p, s, n);
        *p += n;
        return r;
}

/* A copy of id in one allocation, with one reference. */
static struct memo_entry *memo_pack(const struct identity *id) {
        size_t size = sizeof(struct memo_entry) + id->n_roles * sizeof(struct identity_role) +
                      id->n_projects * sizeof(struct identity_project);
        size += str_size(id->user_id) + str_size(id->name) + str_size(id->domain_id) + str_size(id->domain_name);
        for (size_t i = 0; i < id->n_roles; i++) {
                const struct identity_role *r = &id->roles[i];
                size += str_size(r->id) + str_size(r->name) + str_size(r->project_id) + str_size(r->project_name) +
                        str_size(r->domain_id) + str_size(r->domain_name);
        }
        for (size_t i = 0; i < id->n_projects; i++) {
                const struct identity_project *p = &id->projects[i];
                size += str_size(p->id) + str_size(p->name) + str_size(p->domain_id) + str_size(p->domain_name);
        }
        struct memo_entry *e = malloc(size);
        if (!e)
                return NULL;
        *e = (struct memo_entry){ .refs = 1, .size = size };
        /* the arrays first (data is aligned for them), then the strings */
        struct identity_role *roles = (struct identity_role *)(void *)e->data;
        struct identity_project *projects = (struct identity_project *)(void *)(roles + id->n_roles);
        char *p = (char *)(projects + id->n_projects);
        e->id = (struct identity){
                .user_id = pack_str(&p, id->user_id),
                .name = pack_str(&p, id->name),
                .domain_id = pack_str(&p, id->domain_id),
                .domain_name = pack_str(&p, id->domain_name),
                .enabled = id->enabled,
                .roles = id->n_roles ? roles : NULL,
                .n_roles = id->n_roles,
                .projects = id->n_projects ? projects : NULL,
                .n_projects = id->n_projects,
                .fetched_at_ms = id->fetched_at_ms,
        };
        for (size_t i = 0; i < id->n_roles; i++) {
                const struct identity_role *r = &id->roles[i];
                roles[i] = (struct identity_role){
                        .id = pack_str(&p, r->id),
                        .name = pack_str(&p, r->name),
                        .scope = r->scope,
                        .project_id = pack_str(&p, r->project_id),
                        .project_name = pack_str(&p, r->project_name),
                        .domain_id = pack_str(&p, r->domain_id),
                        .domain_name = pack_str(&p, r->domain_name),
                };
        }
        for (size_t i = 0; i < id->n_projects; i++) {
                const struct identity_project *q = &id->projects[i];
                projects[i] = (struct identity_project){
                        .id = pack_str(&p, q->id),
                        .name = pack_str(&p, q->name),
                        .domain_id = pack_str(&p, q->domain_id),
                        .domain_name = pack_str(&p, q->domain_name),
                };
        }
        e->id_hash = hash_user_id(e->id.user_id);
        e->name_hash = hash_name_key(e->id.name, e->id.domain_id);
        return e;
}

/* Remembers a copy of id as the store now holds it: it replaces the entry
 * of the same user, and any entry of another user with the same name in
 * the same domain (the store has just dropped that one too). Returns the
 * entry, or NULL when it cannot be kept (out of memory): the memo then
 * simply holds nothing for the user. */
static struct memo_entry *memo_put(struct memo *m, const struct identity *id) {
        if (!m->n_buckets) {
                memo_resize(m, MEMO_MIN_BUCKETS);
                if (!m->n_buckets)
                        return NULL;
        }
        memo_drop_id(m, id->user_id);
        struct memo_entry *other = memo_find_name(m, id->name, id->domain_id, false);
        if (other)
                memo_unlink(m, other);
        struct memo_entry *e = memo_pack(id);
        if (!e || e->size > MEMO_MAX_BYTES / 4) {
                free(e);
                return NULL;
        }
        size_t b = e->id_hash & (m->n_buckets - 1);
        e->id_next = m->by_id[b];
        m->by_id[b] = e;
        b = e->name_hash & (m->n_buckets - 1);
        e->name_next = m->by_name[b];
        m->by_name[b] = e;
        e->older = m->newest;
        if (m->newest)
                m->newest->newer = e;
        else
                m->oldest = e;
        m->newest = e;
        e->linked = true;
        m->n++;
        m->bytes += e->size;
        while (m->bytes > MEMO_MAX_BYTES && m->oldest != e)
                memo_unlink(m, m->oldest);
        if (m->n > m->n_buckets)
                memo_resize(m, m->n_buckets * 2);
        return e;
}

/* An identity of one's own (for a fetch that outlives the lookup), copied
 * through the blob format. */
static struct identity *identity_clone(const struct identity *id) {
        _cleanup_free_ char *blob = NULL;
        size_t size;
        struct identity *copy = NULL;
        if (identity_to_blob(id, &blob, &size) < 0 || identity_from_blob(blob, size, &copy) < 0)
                return NULL;
        return copy;
}

/* ------------------------------------------------------------ store */

/* Deletes a user's cached identity from the store and the memo, keeping
 * the count. */
static int store_delete(struct identity_cache *c, const char *user_id) {
        memo_drop_id(&c->memo, user_id);
        int r = store_identity_delete(c->store, user_id);
        if (r == 0 && c->n_stored > 0)
                c->n_stored--;
        if (r == 0 && c->watch)
                c->watch(user_id, NULL, c->watch_userdata);
        return r;
}

static int store_load(struct identity_cache *c, const struct identity_record *rec, struct identity **ret) {
        int r = identity_from_blob(rec->blob, rec->blob_size, ret);
        if (r == -EBADMSG) {
                log_warning(0, "cached identity of user %s is damaged; dropping it", rec->user_id);
                if (store_delete(c, rec->user_id) < 0)
                        log_err(0, "cannot drop the damaged identity of user %s: %s", rec->user_id,
                                store_last_error(c->store));
        }
        return r;
}

static int cache_get_by_id(struct identity_cache *c, const char *user_id, struct identity **ret) {
        struct identity_record rec = { 0 };
        int r = store_identity_get(c->store, user_id, &rec);
        if (r < 0)
                return r;
        r = store_load(c, &rec, ret);
        identity_record_free(&rec);
        return r;
}

static int cache_get_by_name(struct identity_cache *c, const char *name, const char *domain_id,
                             struct identity **ret) {
        struct identity_record rec = { 0 };
        int r = store_identity_get_by_name(c->store, name, domain_id, &rec);
        if (r < 0)
                return r;
        r = store_load(c, &rec, ret);
        identity_record_free(&rec);
        return r;
}

static void cache_put(struct identity_cache *c, const struct identity *id) {
        _cleanup_free_ char *blob = NULL;
        size_t size;
        int r = identity_to_blob(id, &blob, &size);
        if (r == 0) {
                struct identity_record rec = {
                        .user_id = id->user_id,
                        .name = id->name,
                        .domain_id = id->domain_id,
                        .blob_version = IDENTITY_BLOB_VERSION,
                        .fetched_at = id->fetched_at_ms / 1000,
                        .blob = blob,
                        .blob_size = size,
                };
                /* the count: a new user adds one; a user holding the
                 * same name in the domain is dropped by the store */
                struct identity_record other = { 0 };
                bool known = memo_find_id(&c->memo, id->user_id, false) ||
                             store_identity_get(c->store, id->user_id, &other) == 0;
                identity_record_free(&other);
                bool displaces = store_identity_get_by_name(c->store, id->name, id->domain_id, &other) == 0 &&
                                 strcmp(other.user_id, id->user_id) != 0;
                _cleanup_free_ char *displaced = displaces ? TAKE_PTR(other.user_id) : NULL;
                identity_record_free(&other);
                r = store_identity_put(c->store, &rec);
                if (r == 0) {
                        c->n_stored += !known;
                        if (displaces && c->n_stored > 0)
                                c->n_stored--;
                        (void)memo_put(&c->memo, id);
                        if (c->watch && displaced)
                                c->watch(displaced, NULL, c->watch_userdata);
                        if (c->watch)
                                c->watch(id->user_id, id, c->watch_userdata);
                }
        }
        if (r < 0)
                log_err(0, "cannot cache the identity of user %s: %s (%s)", id->user_id, strerror(-r),
                        r == -ENOMEM ? "" : store_last_error(c->store));
}

/* ------------------------------------------------------------ waiters */

static void waiter_unlink(struct identity_waiter *w) {
        struct pending *p = w->p;
        if (!p)
                return;
        if (w->prev)
                w->prev->next = w->next;
        else
                p->wait_head = w->next;
        if (w->next)
                w->next->prev = w->prev;
        else
                p->wait_tail = w->prev;
        w->prev = w->next = NULL;
        w->p = NULL;
        p->n_waiters--;
}

/* ------------------------------------------------------------ ordinary users' share */

static struct uid_share *share_find(struct identity_cache *c, uid_t uid) {
        for (unsigned i = 0; i < c->n_shares; i++)
                if (c->shares[i].uid == uid)
                        return &c->shares[i];
        return NULL;
}

/* Whether a bounded caller may add one more lookup waiting on Keystone. */
static bool share_allows(struct identity_cache *c, const struct identity_caller *caller) {
        if (!caller->bounded)
                return true;
        const struct uid_share *sh = share_find(c, caller->uid);
        return sh ? sh->waiting < IDENTITY_SHARE_PER_UID : c->n_shares < MAX_SHARE_UIDS;
}

static void share_take(struct identity_cache *c, const struct identity_caller *caller) {
        if (!caller->bounded)
                return;
        struct uid_share *sh = share_find(c, caller->uid);
        if (!sh && c->n_shares < MAX_SHARE_UIDS) {
                sh = &c->shares[c->n_shares++];
                *sh = (struct uid_share){ .uid = caller->uid };
        }
        if (sh)
                sh->waiting++;
}

static void share_release(struct identity_cache *c, const struct identity_caller *caller) {
        struct uid_share *sh = caller->bounded ? share_find(c, caller->uid) : NULL;
        if (!sh || --sh->waiting > 0)
                return;
        *sh = c->shares[--c->n_shares];  /* the last one fills the hole */
}

static void waiter_free(struct identity_waiter *w) {
        if (!w)
                return;
        share_release(w->c, &w->caller);
        free(w->name);
        free(w);
}

void identity_lookup_cancel(struct identity_waiter *w) {
        if (!w)
                return;
        waiter_unlink(w);
        waiter_free(w);
}

static int waiter_add(struct pending *p, identity_done_fn fn, void *userdata, uint64_t request_id,
                      const char *name, const struct identity_caller *caller, struct identity_waiter **ret) {
        if (p->n_waiters >= MAX_WAITERS)
                return -EBUSY;
        struct identity_waiter *w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        if (name && !(w->name = strdup(name))) {
                free(w);
                return -ENOMEM;
        }
        w->c = p->c;
        w->caller = *caller;
        share_take(p->c, caller);
        w->p = p;
        w->fn = fn;
        w->userdata = userdata;
        w->request_id = request_id;
        w->prev = p->wait_tail;
        if (p->wait_tail)
                p->wait_tail->next = w;
        else
                p->wait_head = w;
        p->wait_tail = w;
        p->n_waiters++;
        if (ret)
                *ret = w;
        return 0;
}

/* ------------------------------------------------------------ pending fetches */

static void pending_step(struct pending *p);
static void queue_remove(struct identity_cache *c, struct pending *p);
static void queue_start_next(struct identity_cache *c);

static struct pending *pending_find(struct identity_cache *c, const char *key) {
        for (struct pending *p = c->pending; p; p = p->next)
                if (strcmp(p->key, key) == 0)
                        return p;
        return NULL;
}

static void queue_remove(struct identity_cache *c, struct pending *p) {
        struct pending **pp = &c->queue_head, *prev = NULL;
        while (*pp && *pp != p) {
                prev = *pp;
                pp = &(*pp)->queue_next;
        }
        if (*pp)
                *pp = p->queue_next;
        if (c->queue_tail == p)
                c->queue_tail = prev;
        p->queue_next = NULL;
        p->queued = false;
}

/* Starts the fetch, or queues it when it is an ordinary user's and their
 * share of Keystone connections is taken. */
static void pending_go(struct pending *p) {
        struct identity_cache *c = p->c;
        if (p->ordinary && c->ordinary_running >= IDENTITY_SHARE_FETCHES) {
                p->queued = true;
                if (c->queue_tail)
                        c->queue_tail->queue_next = p;
                else
                        c->queue_head = p;
                c->queue_tail = p;
                c->stats.share_queued++;
                return;
        }
        if (p->ordinary)
                c->ordinary_running++;
        pending_step(p);
}

/* A privileged lookup joined a queued fetch: it starts now, outside the
 * ordinary share. */
static void pending_promote(struct pending *p) {
        if (!p->queued)
                return;
        queue_remove(p->c, p);
        p->ordinary = false;
        pending_step(p);
}

static void queue_start_next(struct identity_cache *c) {
        struct pending *p = c->queue_head;
        if (!p || c->closing || c->ordinary_running >= IDENTITY_SHARE_FETCHES)
                return;
        queue_remove(c, p);
        c->ordinary_running++;
        pending_step(p);
}

static void pending_unlink(struct pending *p) {
        struct identity_cache *c = p->c;
        if (p->prev)
                p->prev->next = p->next;
        else if (c->pending == p)
                c->pending = p->next;
        if (p->next)
                p->next->prev = p->prev;
        p->prev = p->next = NULL;
        c->stats.pending--;
        if (p->queued)
                queue_remove(c, p);
        if (p->ordinary) {
                p->ordinary = false;
                c->ordinary_running--;
                queue_start_next(c);
        }
}

static void pending_free(struct pending *p) {
        loop_timer_cancel(p->fail_timer);
        keystone_cancel(p->req_user);
        keystone_cancel(p->req_roles);
        keystone_cancel(p->req_domain);
        ks_user_clear(&p->user);
        ks_assignments_clear(&p->roles);
        identity_free(p->stale);
        free(p->key);
        free(p->user_id);
        free(p->name);
        free(p->domain);
        free(p->domain_id);
        free(p->domain_name);
        free(p);
}

/* Answers every waiter and frees p. status as identity_done_fn. */
static void pending_deliver(struct pending *p, int status, const struct identity *id, enum identity_source src,
                            const char *error) {
        pending_unlink(p);
        while (p->wait_head) {
                struct identity_waiter *w = p->wait_head;
                waiter_unlink(w);
                if (status == 0 && w->name && strcmp(w->name, id->name) != 0)
                        /* the user was renamed meanwhile: that name is gone */
                        w->fn(-ENOENT, NULL, src, NULL, w->userdata);
                else
                        w->fn(status, id, src, error, w->userdata);
                waiter_free(w);
        }
        pending_free(p);
}

static void pending_fail(struct pending *p, int status, const char *error) {
        struct identity_cache *c = p->c;
        loop_timer_cancel(p->fail_timer);
        p->fail_timer = NULL;
        keystone_cancel(p->req_user);
        keystone_cancel(p->req_roles);
        keystone_cancel(p->req_domain);
        p->req_user = p->req_roles = p->req_domain = NULL;

        if (status == -ENOENT) {
                backend_online(c);
                const char *uid = p->user_id ? p->user_id : p->stale ? p->stale->user_id : NULL;
                if (uid && p->kind == PENDING_BY_ID && store_delete(c, uid) == 0)
                        log_info(p->request_id, "user %s no longer exists in Keystone; removed from the cache", uid);
                else if (p->stale && store_delete(c, p->stale->user_id) == 0)
                        log_info(p->request_id, "user %s no longer exists in Keystone; removed from the cache",
                                 p->stale->user_id);
                negative_add(c, p->key);
                if (p->kind == PENDING_BY_NAME && p->domain_id) {
                        _cleanup_free_ char *k = make_key('n', p->domain_id, p->name);
                        negative_add(c, k);
                }
                pending_deliver(p, -ENOENT, NULL, IDENTITY_FROM_KEYSTONE, NULL);
                return;
        }
        if (is_backend_failure(status)) {
                backend_failure(c, error, false);
        } else {
                /* Keystone answered, unusably (a reply that does not parse or
                 * is over max_response_size): the backend stays online, but
                 * Status must still say why lookups fail */
                remember_error(c, error ? error : strerror(-status));
                log_warning(p->request_id, "Keystone lookup failed: %s", error ? error : strerror(-status));
        }
        int64_t age = p->stale ? now_wall_ms() - p->stale->fetched_at_ms : 0;
        if (p->stale && age < (int64_t)c->offline_ttl_ms) {
                c->stats.served_stale += p->n_waiters;
                struct identity *stale = TAKE_PTR(p->stale);
                pending_deliver(p, 0, stale, IDENTITY_FROM_CACHE, NULL);
                identity_free(stale);
                return;
        }
        c->stats.unavailable += p->n_waiters;
        char msg[ERROR_SIZE + 64];
        snprintf(msg, sizeof(msg), "identity service unavailable: %s", error ? error : strerror(-status));
        pending_deliver(p, -EHOSTUNREACH, NULL, IDENTITY_FROM_KEYSTONE, msg);
}

static int add_role(struct identity *id, const struct ks_assignment *a) {
        struct identity_role *r = &id->roles[id->n_roles];
        *r = (struct identity_role){ .scope = a->scope };
        id->n_roles++;
        if (!(r->id = strdup(a->role_id)) || !(r->name = strdup(a->role_name)))
                return -ENOMEM;
        const char *did = NULL, *dname = NULL;
        if (a->scope == KS_SCOPE_PROJECT) {
                if (!(r->project_id = strdup(a->scope_id)) || !(r->project_name = strdup(a->scope_name)))
                        return -ENOMEM;
                did = a->scope_domain_id;
                dname = a->scope_domain_name;
        } else if (a->scope == KS_SCOPE_DOMAIN) {
                did = a->scope_id;
                dname = a->scope_name;
        }
        if ((did && !(r->domain_id = strdup(did))) || (dname && !(r->domain_name = strdup(dname))))
                return -ENOMEM;
        if (a->scope != KS_SCOPE_PROJECT)
                return 0;
        for (size_t i = 0; i < id->n_projects; i++)
                if (strcmp(id->projects[i].id, a->scope_id) == 0)
                        return 0;
        struct identity_project *p = &id->projects[id->n_projects];
        *p = (struct identity_project){ 0 };
        id->n_projects++;
        if (!(p->id = strdup(a->scope_id)) || !(p->name = strdup(a->scope_name)) ||
            (did && !(p->domain_id = strdup(did))) || (dname && !(p->domain_name = strdup(dname))))
                return -ENOMEM;
        return 0;
}

static int build_identity(struct pending *p, struct identity **ret) {
        struct identity *id = calloc(1, sizeof(*id));
        if (!id)
                return -ENOMEM;
        /* Keystone lets no user of a disabled domain authenticate */
        id->enabled = p->user.enabled && p->domain_enabled;
        id->fetched_at_ms = now_wall_ms();
        size_t n = p->roles.n;
        if ((n && (!(id->roles = calloc(n, sizeof(*id->roles))) || !(id->projects = calloc(n, sizeof(*id->projects))))) ||
            !(id->user_id = strdup(p->user.id)) || !(id->name = strdup(p->user.name)) ||
            !(id->domain_id = strdup(p->user.domain_id)) ||
            (p->domain_name && !(id->domain_name = strdup(p->domain_name)))) {
                identity_free(id);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++)
                if (add_role(id, &p->roles.items[i]) < 0) {
                        identity_free(id);
                        return -ENOMEM;
                }
        *ret = id;
        return 0;
}

static void pending_succeed(struct pending *p) {
        struct identity_cache *c = p->c;
        struct identity *id;
        backend_online(c);
        if (build_identity(p, &id) < 0) {
                pending_fail(p, -ENOMEM, "out of memory");
                return;
        }
        domain_map_learn(&c->domains, id->domain_id, id->domain_name);
        for (size_t i = 0; i < id->n_roles; i++)
                domain_map_learn(&c->domains, id->roles[i].domain_id, id->roles[i].domain_name);
        if (p->stale && (p->stale->enabled != id->enabled || strcmp(p->stale->name, id->name) != 0))
                log_notice(p->request_id, "user %s is now %s%s%s in Keystone", id->user_id,
                           id->enabled ? "enabled" : "disabled", strcmp(p->stale->name, id->name) ? ", renamed to " : "",
                           strcmp(p->stale->name, id->name) ? id->name : "");
        cache_put(c, id);
        negative_drop_matching(c, id->user_id);
        pending_deliver(p, 0, id, IDENTITY_FROM_KEYSTONE, NULL);
        identity_free(id);
}

static void on_ks_done(const struct ks_result *res, void *userdata) {
        struct pending *p = userdata;
        switch (res->kind) {
        case KS_REQ_USER:
        case KS_REQ_USER_BY_NAME:
                p->req_user = NULL;
                if (res->status < 0) {
                        pending_fail(p, res->status, res->error);
                        return;
                }
                {
                        struct ks_user u = { .enabled = res->user->enabled };
                        if (!(u.id = strdup(res->user->id)) || !(u.name = strdup(res->user->name)) ||
                            !(u.domain_id = strdup(res->user->domain_id))) {
                                ks_user_clear(&u);
                                pending_fail(p, -ENOMEM, "out of memory");
                                return;
                        }
                        ks_user_clear(&p->user);
                        p->user = u;
                }
                p->have_user = true;
                if (!p->user_id && !(p->user_id = strdup(p->user.id))) {
                        pending_fail(p, -ENOMEM, "out of memory");
                        return;
                }
                if (strcmp(p->user_id, p->user.id) != 0) {
                        pending_fail(p, -EBADMSG, "Keystone answered for another user ID");
                        return;
                }
                break;
        case KS_REQ_ROLES:
                p->req_roles = NULL;
                if (res->status < 0) {
                        pending_fail(p, res->status, res->error);  /* -ENOENT: no such user */
                        return;
                }
                /* move: the listing is freed by the client after this call */
                ks_assignments_clear(&p->roles);
                p->roles = *res->assignments;
                *res->assignments = (struct ks_assignments){ 0 };
                p->have_roles = true;
                break;
        case KS_REQ_DOMAIN:
        case KS_REQ_DOMAIN_BY_NAME:
                p->req_domain = NULL;
                bool resolving = p->kind == PENDING_BY_NAME && !p->domain_id;
                if (res->status == -ENOENT && resolving && !p->domain_by_id_tried && ks_valid_id(p->domain)) {
                        /* not a domain name: maybe an ID */
                        p->domain_by_id_tried = true;
                        int r = keystone_get_domain(p->c->ks, p->domain, on_ks_done, p, &p->req_domain);
                        if (r < 0)
                                pending_fail(p, r, "cannot start a Keystone call");
                        return;
                }
                if (res->status < 0) {
                        pending_fail(p, res->status, res->error);
                        return;
                }
                domain_map_learn(&p->c->domains, res->domain->id, res->domain->name);
                domain_map_set_enabled(&p->c->domains, res->domain->id, res->domain->enabled, now_wall_ms());
                if (!resolving) {
                        if (strcmp(res->domain->id, p->user.domain_id) != 0) {
                                pending_fail(p, -EBADMSG, "Keystone answered for another domain");
                                return;
                        }
                        p->have_domain_state = true;
                        p->domain_enabled = res->domain->enabled;
                }
                if (resolving) {
                        if (!(p->domain_id = strdup(res->domain->id))) {
                                pending_fail(p, -ENOMEM, "out of memory");
                                return;
                        }
                } else if (!p->domain_name && !(p->domain_name = strdup(res->domain->name))) {
                        pending_fail(p, -ENOMEM, "out of memory");
                        return;
                }
                break;
        default:
                pending_fail(p, -EPROTO, "unexpected Keystone call completed");
                return;
        }
        pending_step(p);
}

static void on_fail_timer(struct loop_timer *t, void *userdata) {
        struct pending *p = userdata;
        p->fail_timer = NULL;
        pending_fail(p, p->fail_status, p->fail_error);
}

/* Starts whatever call the fetch needs next, or finishes it. */
static void pending_step(struct pending *p) {
        struct identity_cache *c = p->c;
        int r = 0;
        if (p->kind == PENDING_BY_NAME && !p->domain_id) {
                if (!p->req_domain)
                        r = ks_valid_name(p->domain) ? keystone_find_domain(c->ks, p->domain, on_ks_done, p, &p->req_domain)
                                                     : -EINVAL;
                goto out;
        }
        if (!p->user_id) {
                if (!p->req_user)
                        r = keystone_find_user(c->ks, p->name, p->domain_id, on_ks_done, p, &p->req_user);
                goto out;
        }
        if (!p->have_user && !p->req_user && (r = keystone_get_user(c->ks, p->user_id, on_ks_done, p, &p->req_user)) < 0)
                goto out;
        if (!p->have_roles && !p->req_roles &&
            (r = keystone_list_roles(c->ks, p->user_id, on_ks_done, p, &p->req_roles)) < 0)
                goto out;
        if (!p->have_user || !p->have_roles)
                return;
        if (!p->have_domain_state) {
                /* a disabled domain disables its users: asked of Keystone
                 * once per cache_ttl and domain */
                const struct domain_map_entry *d = domain_map_find(&c->domains, p->user.domain_id, NULL);
                int64_t now = now_wall_ms();
                if (!d || d->enabled_at_ms <= 0 || now < d->enabled_at_ms ||
                    now - d->enabled_at_ms >= (int64_t)c->cache_ttl_ms) {
                        if (!p->req_domain)
                                r = keystone_get_domain(c->ks, p->user.domain_id, on_ks_done, p, &p->req_domain);
                        goto out;
                }
                p->have_domain_state = true;
                p->domain_enabled = d->enabled;
        }
        if (!p->domain_name) {
                const struct domain_map_entry *d = domain_map_find(&c->domains, p->user.domain_id, NULL);
                const char *dn = d ? d->name : p->roles.user_domain_name;
                if (!dn) {
                        if (!p->req_domain)
                                r = keystone_get_domain(c->ks, p->user.domain_id, on_ks_done, p, &p->req_domain);
                        goto out;
                }
                if (!(p->domain_name = strdup(dn))) {
                        r = -ENOMEM;
                        goto out;
                }
        }
        pending_succeed(p);
        return;
out:
        if (r < 0 && !p->fail_timer) {
                /* answer from the loop, never from inside identity_lookup() */
                p->fail_status = r == -EINVAL ? -ENOENT : r;  /* a string Keystone cannot hold names nobody */
                snprintf(p->fail_error, sizeof(p->fail_error), "cannot start a Keystone call: %s", strerror(-r));
                if (loop_timer_add(c->loop, 0, on_fail_timer, p, &p->fail_timer) < 0)
                        p->fail_timer = NULL;
        }
}

/* Starts a fetch for key; the caller adds waiters (or none: background). */
static int pending_start(struct identity_cache *c, const char *key, enum pending_kind kind, const char *user_id,
                         const char *name, const char *domain, const char *domain_id, struct identity *stale,
                         uint64_t request_id, struct pending **ret) {
        if (c->stats.pending >= MAX_PENDING) {
                identity_free(stale);
                return -EBUSY;
        }
        struct pending *p = calloc(1, sizeof(*p));
        if (!p) {
                identity_free(stale);
                return -ENOMEM;
        }
        p->c = c;
        p->kind = kind;
        p->stale = stale;
        p->request_id = request_id;
        if (!(p->key = strdup(key)) || (user_id && !(p->user_id = strdup(user_id))) ||
            (name && !(p->name = strdup(name))) || (domain && !(p->domain = strdup(domain))) ||
            (domain_id && !(p->domain_id = strdup(domain_id)))) {
                pending_free(p);
                return -ENOMEM;
        }
        p->next = c->pending;
        if (c->pending)
                c->pending->prev = p;
        c->pending = p;
        c->stats.pending++;
        c->stats.fetches++;
        *ret = p;
        return 0;
}

/* ------------------------------------------------------------ lookups */

static void answer_now(struct identity_cache *c, identity_done_fn fn, void *userdata, int status,
                       const struct identity *id, enum identity_source src, const char *error) {
        fn(status, id, src, error, userdata);
}

static void unavailable_now(struct identity_cache *c, identity_done_fn fn, void *userdata) {
        char msg[ERROR_SIZE + 128];
        c->stats.unavailable++;
        if (backend_state(c) == IDENTITY_BACKEND_UNCONFIGURED)
                snprintf(msg, sizeof(msg), "identity service unavailable: no Keystone is configured");
        else
                snprintf(msg, sizeof(msg), "identity service unavailable: %s (next attempt in %lld s)",
                         c->last_error[0] ? c->last_error : "Keystone cannot be reached",
                         (long long)(c->stats.retry_at - now_wall_ms() / 1000 > 0 ? c->stats.retry_at - now_wall_ms() / 1000 : 0));
        answer_now(c, fn, userdata, -EHOSTUNREACH, NULL, IDENTITY_FROM_CACHE, msg);
}

static void refresh_in_background(struct identity_cache *c, const struct identity *cached, uint64_t request_id) {
        _cleanup_free_ char *key = make_key('i', cached->user_id, NULL);
        if (!key || pending_find(c, key))
                return;
        struct pending *p;
        if (pending_start(c, key, PENDING_BY_ID, cached->user_id, NULL, NULL, NULL, NULL, request_id, &p) < 0)
                return;
        c->stats.background_refreshes++;
        pending_step(p);
}

int identity_lookup(struct identity_cache *c, const struct identity_query *q, uint64_t request_id,
                    identity_done_fn fn, void *userdata, struct identity_waiter **ret_waiter) {
        bool by_id = q->user_id != NULL;
        if (by_id == (q->name != NULL))
                return -EINVAL;
        if (by_id ? (!ks_valid_id(q->user_id) || q->domain) : !ks_valid_name(q->name))
                return -EINVAL;
        if (q->domain && !ks_valid_name(q->domain))
                return -EINVAL;
        c->stats.lookups++;
        /* a KaaS token typed as a name (ssh kaas_...@node, a user shown by
         * name): nobody's, and never sent to Keystone, whose log keeps the
         * names it is asked for */
        if (!by_id && token_is_token_shaped(q->name)) {
                answer_now(c, fn, userdata, -ENOENT, NULL, IDENTITY_FROM_CACHE, NULL);
                return 0;
        }

        /* the domain: "default" unless given; a name we know maps to its ID */
        const char *domain_id = NULL;
        if (!by_id) {
                if (!q->domain) {
                        domain_id = "default";
                } else {
                        const struct domain_map_entry *d = domain_map_find(&c->domains, q->domain, NULL);
                        if (!d)
                                d = domain_map_find(&c->domains, NULL, q->domain);
                        if (d)
                                domain_id = d->id;
                }
        }

        _cleanup_free_ char *key = by_id ? make_key('i', q->user_id, NULL)
                                         : domain_id ? make_key('n', domain_id, q->name)
                                                     : make_key('d', q->domain, q->name);
        if (!key)
                return -ENOMEM;
        if (negative_has(c, key)) {
                c->stats.negative_hits++;
                answer_now(c, fn, userdata, -ENOENT, NULL, IDENTITY_FROM_CACHE, NULL);
                return 0;
        }

        /* the memo first; what the store holds is remembered there */
        const char *name_domain = domain_id ? domain_id : q->domain;
        struct memo_entry *m = by_id ? memo_find_id(&c->memo, q->user_id, true)
                                     : memo_find_name(&c->memo, q->name, name_domain, true);
        struct identity *loaded = NULL;  /* from the store, when the memo could not keep it */
        int r = 0;
        if (!m) {
                r = by_id ? cache_get_by_id(c, q->user_id, &loaded) : cache_get_by_name(c, q->name, name_domain, &loaded);
                if (r < 0 && r != -ENOENT && r != -EBADMSG)
                        log_err(request_id, "identity cache read failed: %s (%s)", strerror(-r),
                                store_last_error(c->store));
                if (loaded && (m = memo_put(&c->memo, loaded)))
                        loaded = identity_free(loaded);
        }
        if (m)
                m->refs++;  /* valid through the callbacks below, even if evicted by them */
        const struct identity *cached = m ? &m->id : loaded;

        enum identity_backend_state st = backend_state(c);
        if (cached) {
                int64_t age = now_wall_ms() - cached->fetched_at_ms;
                /* stamped ahead of the clock (it was stepped back since):
                 * how old the entry is cannot be told, so it is not fresh,
                 * lest a user disabled meanwhile keep passing until the
                 * clock catches up; offline it is served as a just expired
                 * one would be */
                if (age < 0)
                        age = (int64_t)c->cache_ttl_ms;
                if ((uint64_t)age < c->cache_ttl_ms) {
                        c->stats.cache_hits++;
                        if ((uint64_t)age >= c->cache_ttl_ms * 2 / 3 && st == IDENTITY_BACKEND_ONLINE)
                                refresh_in_background(c, cached, request_id);
                        answer_now(c, fn, userdata, 0, cached, IDENTITY_FROM_CACHE, NULL);
                        goto done;
                }
                if (st != IDENTITY_BACKEND_ONLINE) {
                        if ((uint64_t)age < c->offline_ttl_ms) {
                                c->stats.served_stale++;
                                answer_now(c, fn, userdata, 0, cached, IDENTITY_FROM_CACHE, NULL);
                        } else {
                                unavailable_now(c, fn, userdata);
                        }
                        goto done;
                }
                /* expired and Keystone is online: fetch by ID, keep the copy */
                free(key);
                key = make_key('i', cached->user_id, NULL);
                if (!key) {
                        r = -ENOMEM;
                        goto done;
                }
        } else if (st != IDENTITY_BACKEND_ONLINE) {
                unavailable_now(c, fn, userdata);
                r = 0;
                goto done;
        }

        /* Keystone work from here on: an ordinary user's share is bounded */
        if (!share_allows(c, &q->caller)) {
                char msg[160];
                c->stats.share_refused++;
                c->stats.unavailable++;
                snprintf(msg, sizeof(msg),
                         "identity service unavailable: too many lookups of uid %u waiting for Keystone",
                         (unsigned)q->caller.uid);
                answer_now(c, fn, userdata, -EHOSTUNREACH, NULL, IDENTITY_FROM_CACHE, msg);
                r = 0;
                goto done;
        }

        /* a fetch keeps the cached copy as its fallback: one of its own */
        struct identity *stale = NULL;
        if (cached && !(stale = loaded ? TAKE_PTR(loaded) : identity_clone(cached))) {
                r = -ENOMEM;
                goto done;
        }
        struct pending *p = pending_find(c, key);
        if (p) {
                r = waiter_add(p, fn, userdata, request_id, by_id ? NULL : q->name, &q->caller, ret_waiter);
                if (r < 0) {
                        identity_free(stale);
                        goto done;
                }
                c->stats.merged++;
                if (!q->caller.bounded)
                        pending_promote(p);
                if (stale && !p->stale)
                        p->stale = stale;
                else
                        identity_free(stale);
                r = 0;
                goto done;
        }
        if (stale)
                r = pending_start(c, key, PENDING_BY_ID, stale->user_id, NULL, NULL, NULL, stale, request_id, &p);
        else if (by_id)
                r = pending_start(c, key, PENDING_BY_ID, q->user_id, NULL, NULL, NULL, NULL, request_id, &p);
        else
                r = pending_start(c, key, PENDING_BY_NAME, NULL, q->name, q->domain, domain_id, NULL, request_id, &p);
        if (r < 0)
                goto done;
        r = waiter_add(p, fn, userdata, request_id, by_id ? NULL : q->name, &q->caller, ret_waiter);
        if (r < 0) {
                pending_unlink(p);
                pending_free(p);
                goto done;
        }
        p->ordinary = q->caller.bounded;
        pending_go(p);
        r = 0;
done:
        memo_entry_unref(m);
        identity_free(loaded);
        return r;
}

/* ------------------------------------------------------------ admin */

struct collect {
        const char *match;      /* NULL: all */
        char **ids;
        size_t n, cap;
        int error;
};

static int collect_cb(const struct identity_record *rec, void *userdata) {
        struct collect *col = userdata;
        if (col->match && strcmp(rec->user_id, col->match) != 0 && strcmp(rec->name, col->match) != 0)
                return 0;
        if (col->n == col->cap) {
                size_t cap = col->cap ? col->cap * 2 : 16;
                char **ids = realloc(col->ids, cap * sizeof(*ids));
                if (!ids)
                        return -ENOMEM;
                col->ids = ids;
                col->cap = cap;
        }
        if (!(col->ids[col->n] = strdup(rec->user_id)))
                return -ENOMEM;
        col->n++;
        return 0;
}

static int drop_matching(struct identity_cache *c, const char *match, unsigned *ret_removed) {
        struct collect col = { .match = match };
        int r = store_identity_list(c->store, collect_cb, &col);
        unsigned removed = 0;
        for (size_t i = 0; i < col.n; i++) {
                if (r >= 0) {
                        int k = store_delete(c, col.ids[i]);
                        if (k == 0)
                                removed++;
                        else if (k != -ENOENT)
                                r = k;
                }
                free(col.ids[i]);
        }
        free(col.ids);
        removed += negative_drop_matching(c, match);
        if (ret_removed)
                *ret_removed = removed;
        return r < 0 ? r : 0;
}

int identity_invalidate(struct identity_cache *c, const char *user, unsigned *ret_removed) {
        if (!user || !*user)
                return -EINVAL;
        return drop_matching(c, user, ret_removed);
}

int identity_flush(struct identity_cache *c, unsigned *ret_removed) {
        int r = drop_matching(c, NULL, ret_removed);
        memo_clear(&c->memo);
        domain_map_clear(&c->domains);
        return r;
}

int identity_cache_count(struct identity_cache *c, uint64_t *ret) {
        *ret = c->n_stored;
        return 0;
}

static int replay_cb(const struct identity_record *rec, void *userdata) {
        struct identity_cache *c = userdata;
        struct identity *id;
        if (identity_from_blob(rec->blob, rec->blob_size, &id) < 0)
                return 0;  /* damaged: dropped when looked up */
        c->watch(id->user_id, id, c->watch_userdata);
        identity_free(id);
        return 0;
}

int identity_cache_watch(struct identity_cache *c, identity_watch_fn fn, void *userdata) {
        c->watch = fn;
        c->watch_userdata = userdata;
        return fn ? store_identity_list(c->store, replay_cb, c) : 0;
}

void identity_cache_get_stats(const struct identity_cache *c, struct identity_stats *ret) {
        *ret = c->stats;
}

/* ------------------------------------------------------------ lifetime */

/* Counts the stored identities and learns their domains' names; a blob
 * is parsed only for a domain not seen yet (one per domain, not one per
 * user: start-up with many users stays short). */
static int learn_domain_cb(const struct identity_record *rec, void *userdata) {
        struct identity_cache *c = userdata;
        struct identity *id;
        c->n_stored++;
        if (c->domains.n >= DOMAIN_MAP_MAX || (rec->domain_id && domain_map_find(&c->domains, rec->domain_id, NULL)))
                return 0;
        if (identity_from_blob(rec->blob, rec->blob_size, &id) == 0) {
                domain_map_learn(&c->domains, id->domain_id, id->domain_name);
                identity_free(id);
        }
        return 0;
}

void identity_cache_set_config(struct identity_cache *c, const struct config *cfg) {
        c->cache_ttl_ms = (uint64_t)cfg->cache_ttl_sec * 1000;
        c->offline_ttl_ms = (uint64_t)cfg->offline_ttl_sec * 1000;
        c->negative_ttl_ms = (uint64_t)cfg->negative_ttl_sec * 1000;
        c->retry_min_ms = (uint64_t)cfg->retry_min_sec * 1000;
        c->retry_max_ms = (uint64_t)cfg->retry_max_sec * 1000;
        if (c->retry_max_ms < c->retry_min_ms)
                c->retry_max_ms = c->retry_min_ms;
}

int identity_cache_new(struct loop *loop, struct keystone *ks, struct store *store, const struct config *cfg,
                       struct identity_cache **ret) {
        if (sodium_init() < 0)  /* randombytes for the retry jitter */
                return -EIO;
        struct identity_cache *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->loop = loop;
        c->ks = ks;
        c->store = store;
        c->stats.state = ks ? IDENTITY_BACKEND_ONLINE : IDENTITY_BACKEND_UNCONFIGURED;
        identity_cache_set_config(c, cfg);
        /* names of domains seen before, so cached users of a domain given
         * by name are found while Keystone is away */
        if (store_identity_list(store, learn_domain_cb, c) < 0)
                log_warning(0, "cannot read the identity cache: %s", store_last_error(store));
        *ret = c;
        return 0;
}

struct identity_cache *identity_cache_free(struct identity_cache *c) {
        if (!c)
                return NULL;
        c->closing = true;
        while (c->pending) {
                struct pending *p = c->pending;
                keystone_cancel(p->req_user);
                keystone_cancel(p->req_roles);
                keystone_cancel(p->req_domain);
                p->req_user = p->req_roles = p->req_domain = NULL;
                pending_deliver(p, -ECANCELED, NULL, IDENTITY_FROM_CACHE, "kaasd is shutting down");
        }
        keystone_cancel(c->probe);
        loop_timer_cancel(c->retry_timer);
        memo_free(&c->memo);
        while (c->neg_head) {
                struct negative *n = c->neg_head;
                c->neg_head = n->next;
                free(n->key);
                free(n);
        }
        domain_map_clear(&c->domains);
        free(c);
        return NULL;
}
