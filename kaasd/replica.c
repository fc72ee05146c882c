/* The replica of the environment's token store; see replica.h.
 *
 * States: LOADING (range pages at one revision, then a sweep of what the
 * snapshot lacks), WATCHING (one watch of the whole prefix, so that every
 * revision of it arrives, including those of last-used and other records),
 * WAITING (a pause before the next attempt, growing up to a bound). A
 * heartbeat (a one-key range every few seconds) measures etcd's revision
 * and notices an unreachable cluster while the watch is silent. */
#include "config.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "etcd_client.h"
#include "log.h"
#include "replica.h"
#include "replica_record.h"
#include "store_record.h"
#include "unix_names.h"

#define REPLICA_PAGE 1000                       /* keys per range page */
#define LOAD_SLICES (1 + 255 + 1 + 1)           /* see load_slice_bound() */
#define REPLICA_DELETE_BATCH 100                /* deletes per txn (etcd allows 128 ops) */
#define REPLICA_SWEEP_BATCH 1000
#define REPLICA_RETRY_MIN_USEC (100 * 1000)
#define REPLICA_RETRY_MAX_USEC (5 * 1000 * 1000)
#define REPLICA_HEARTBEAT_USEC (2 * 1000 * 1000)
/* max_disconnected counts no less: a live etcd answers a heartbeat every
 * 2 s, and one late answer or a watch restarted must not refuse tokens */
#define REPLICA_STALE_MIN_SEC 6
#define REPLICA_FINGERPRINT_KEY "meta/key-fingerprint"
#define REPLICA_LAST_USED_USEC (1000 * 1000)    /* this node's last uses go to etcd at most this often */
#define REPLICA_LAST_USED_BATCH 100             /* puts per txn (etcd allows 128 ops) */
#define REPLICA_LAST_USED_MAX 100000            /* waiting while etcd is away; more are dropped */
#define REPLICA_LAST_USED_SKEW_SEC 600          /* a last use further in the future is not believed */

enum phase { PHASE_LOADING, PHASE_WATCHING, PHASE_WAITING };

/* A write waiting for its txn, then for the replica to reach its revision. */
struct write_op {
        struct replica *r;
        replica_done_fn fn;
        void *userdata;
        uint8_t (*hashes)[STORE_HASH_SIZE];     /* delete: all of them */
        size_t n_hashes, next;                  /* next: first not yet sent */
        char *put_body;                         /* put: the txn */
        uint64_t deleted;
        int64_t wait_revision;                  /* > 0: committed, waiting for the replica */
        uint64_t deadline_usec;
        struct etcd_request *req;
        struct write_op *prev, *next_op;
};

/* Token hashes, as a walk of the store collects them (hash_list_add). */
struct hash_list {
        uint8_t (*h)[STORE_HASH_SIZE];
        size_t n, cap;
};

struct replica {
        struct loop *loop;
        struct store *store;
        struct etcd_client *etcd;
        char *prefix, *prefix_end;              /* the watched range [prefix, prefix_end) */
        char *tokens, *tokens_end;              /* [PREFIX tokens/, PREFIX tokens0) */
        char *node;
        bool writer;
        unsigned max_disconnected_sec;
        uint64_t timeout_usec;

        struct store_replica_state st;
        enum phase phase;
        struct etcd_request *req;               /* the range page or the watch */
        bool need_load;                         /* no snapshot yet, or etcd compacted past ours */
        char *fingerprint;                      /* of this kaasd's hashing key */
        bool key_checked;                       /* against the environment's, recorded in etcd */
        replica_fatal_fn fatal;
        void *fatal_userdata;

        /* a standalone store moving in (writer only) */
        struct hash_list migrate;
        size_t migrate_done, migrate_present;
        bool migrated;
        struct migrate_job *jobs;               /* io.kaas.Admin.MigrateStore calls */
        struct loop_timer *retry_timer;
        uint64_t retry_usec;

        /* LOADING */
        int64_t load_revision;                  /* 0 until the first page answers */
        unsigned load_slice;                    /* the slice being read (load_slice_bound()) */
        char *load_from;                        /* key of the next page in it */
        size_t load_from_len;
        uint8_t (*seen)[STORE_HASH_SIZE];
        size_t n_seen, cap_seen;

        struct loop_timer *heartbeat_timer;
        struct etcd_request *heartbeat;
        bool watch_created, heartbeat_ok;
        const char *watch_endpoint;             /* the member the created watch is on */
        int64_t etcd_revision;
        int64_t heartbeat_base;                 /* the replica's revision when the heartbeat was sent */
        int64_t disconnected_since;
        int64_t last_contact;   /* when etcd last vouched for the replica; 0: not yet */

        struct write_op *ops;
        struct loop_timer *ops_timer;
        uint64_t events_applied, records_ignored, reloads;

        /* last uses: this node's on their way to etcd (the first n_lu_sending
         * of them in lu_req), and those a snapshot brings, taken once its
         * token records are in */
        struct last_use *lu_out, *lu_in;
        size_t n_lu_out, cap_lu_out, n_lu_sending, n_lu_in, cap_lu_in;
        struct etcd_request *lu_req;
        struct loop_timer *lu_timer;
        uint64_t last_used_dropped;

        /* the shared uid/gid map */
        uint32_t uid_min, uid_max, gid_min, gid_max;
        struct uid_pub *pubs;                   /* entries of this node not yet in etcd */
        uint64_t uid_conflicts;
        bool uid_swept;                         /* this run compared its map with etcd's */
        struct etcd_request *uid_sweep_req;
        char **uid_seen;                        /* the keys etcd's map holds, read so far */
        size_t n_uid_seen, cap_uid_seen;
        char *uid_sweep_from;
        size_t uid_sweep_from_len;
};

struct last_use {
        uint8_t hash[STORE_HASH_SIZE];
        int64_t t;
};

/* A uid/gid map entry this node made, to be created in etcd together with
 * the key of its number, both only if absent. */
struct uid_pub {
        struct replica *r;
        char *key;                              /* the map key */
        uint32_t id;
        bool just_given;                        /* made while etcd answered: may still yield */
        char *body;                             /* the txn */
        struct etcd_request *req;               /* NULL: waiting for etcd to answer again */
        struct uid_pub *prev, *next;
};

static void start_load(struct replica *r);
static void start_watch(struct replica *r);
static void migrate_next(struct replica *r);
static char *concat(const char *a, const char *b);
static void ops_progress(struct replica *r);
static void uid_entry(struct replica *r, const struct etcd_kv *kv, bool deleted);
static void uid_pubs_send(struct replica *r);
static void uid_sweep_page(struct replica *r);
static void uid_sweep_reset(struct replica *r);
struct migrate_job;
static void migrate_job_finish(struct migrate_job *j, int status, const char *error);
static int last_use_entry(struct replica *r, const struct etcd_kv *kv, bool loading);
static void last_uses_take(struct replica *r);

/* ------------------------------------------------------------ connection state */

static void set_connected(struct replica *r, bool ok) {
        if (ok) {
                if (r->disconnected_since)
                        log_notice(0, "etcd: connected again (%s), replica at revision %lld", etcd_client_endpoint(r->etcd),
                                   (long long)r->st.revision);
                r->disconnected_since = 0;
                r->last_contact = (int64_t)time(NULL);
        } else if (!r->disconnected_since) {
                /* out of touch since the last answer, not since the call that
                 * failed: that one may have hung for the whole timeout, and
                 * max_disconnected bounds how stale the replica may be */
                r->disconnected_since = r->last_contact ? r->last_contact : (int64_t)time(NULL);
        }
}

static void note_revision(struct replica *r, int64_t rev) {
        if (rev > r->etcd_revision)
                r->etcd_revision = rev;
}

static void start_key_check(struct replica *r);
static void start_replicating(struct replica *r);

static void retry_fired(struct loop_timer *t, void *userdata) {
        struct replica *r = userdata;
        r->retry_timer = NULL;
        if (!r->key_checked)
                start_key_check(r);
        else if (r->migrate.h)
                migrate_next(r);
        else if (r->need_load)
                start_load(r);
        else
                start_watch(r);
}

/* Tries again later: load when a load was under way, else watch. */
static void retry_later(struct replica *r, const char *what, const char *error) {
        set_connected(r, false);
        r->phase = PHASE_WAITING;
        r->retry_usec = r->retry_usec ? r->retry_usec * 2 : REPLICA_RETRY_MIN_USEC;
        if (r->retry_usec > REPLICA_RETRY_MAX_USEC)
                r->retry_usec = REPLICA_RETRY_MAX_USEC;
        log_warning(0, "etcd: %s failed: %s; retrying in %llu ms", what, error ? error : "-",
                    (unsigned long long)(r->retry_usec / 1000));
        loop_timer_cancel(r->retry_timer);
        if (loop_timer_add(r->loop, loop_now_usec() + r->retry_usec, retry_fired, r, &r->retry_timer) < 0)
                r->retry_timer = NULL;
}

/* ------------------------------------------------------------ applying */

/* Turns kvs or events into store changes. Records that are not valid are
 * skipped (and counted): one hostile value must not stop replication. */
struct batch {
        struct store_replica_change *changes;
        struct token_record *recs;
        uint8_t (*hashes)[STORE_HASH_SIZE];
        size_t n;
};

static int batch_init(struct batch *b, size_t cap) {
        *b = (struct batch){ 0 };
        if (cap == 0)
                return 0;
        b->changes = calloc(cap, sizeof(*b->changes));
        b->recs = calloc(cap, sizeof(*b->recs));
        b->hashes = calloc(cap, sizeof(*b->hashes));
        if (b->changes && b->recs && b->hashes)
                return 0;
        free(b->changes);
        free(b->recs);
        free(b->hashes);
        *b = (struct batch){ 0 };
        return -ENOMEM;
}

static void batch_clear(struct batch *b) {
        if (b->recs)
                for (size_t i = 0; i < b->n; i++)
                        token_record_free(&b->recs[i]);
        free(b->changes);
        free(b->recs);
        free(b->hashes);
        *b = (struct batch){ 0 };
}

/* Adds one kv; returns 1 when it is a token record taken, 0 when skipped,
 * -ENOMEM when it could not be read (the batch must not be applied: its
 * revision would pass a record never taken). A value under a token key that is no token record removes what the
 * replica holds for that hash: etcd no longer holds a token there, and a
 * fresh snapshot would not have it either. */
static int batch_add(struct replica *r, struct batch *b, const struct etcd_kv *kv, bool deleted) {
        int q = replica_token_key_parse(r->prefix, kv->key, kv->key_len, b->hashes[b->n]);
        if (q == -ENOENT)
                return 0;  /* another record of the prefix */
        bool bad_value = false;
        if (q == 0 && !deleted) {
                q = replica_token_value_parse(kv->value, kv->value_len, &b->recs[b->n]);
                bad_value = q == -EBADMSG;
        }
        if (q == -ENOMEM)
                return q;
        if (q < 0) {
                r->records_ignored++;
                log_warning(0, "etcd: ignoring a malformed token record at revision %lld", (long long)kv->mod_revision);
                if (bad_value) {
                        b->changes[b->n] = (struct store_replica_change){ .deleted = true, .hash = b->hashes[b->n] };
                        b->n++;
                }
                return 0;
        }
        b->changes[b->n] = (struct store_replica_change){
                .deleted = deleted, .hash = b->hashes[b->n], .rec = deleted ? NULL : &b->recs[b->n] };
        b->n++;
        return 1;
}

static int apply(struct replica *r, struct batch *b, const struct store_replica_state *st) {
        int q = store_replica_apply(r->store, b->changes, b->n, st);
        if (q < 0) {
                log_err(0, "etcd: applying %zu changes to the local store failed: %s", b->n, store_last_error(r->store));
                return q;
        }
        if (st)
                r->st = *st;
        return 0;
}

/* ------------------------------------------------------------ loading */

static int hash_cmp(const void *a, const void *b) {
        return memcmp(a, b, STORE_HASH_SIZE);
}

static void load_reset(struct replica *r) {
        free(r->seen);
        r->seen = NULL;
        r->n_seen = r->cap_seen = 0;
        free(r->load_from);
        r->load_from = NULL;
        r->load_from_len = 0;
        r->load_slice = 0;
        r->load_revision = 0;
        free(r->lu_in);
        r->lu_in = NULL;
        r->n_lu_in = r->cap_lu_in = 0;
}

struct sweep_ctx {
        struct replica *r;
        uint8_t (*gone)[STORE_HASH_SIZE];
        size_t n, cap;
};

static int sweep_cb(const uint8_t hash[STORE_HASH_SIZE], const struct token_record *rec, void *userdata) {
        struct sweep_ctx *c = userdata;
        if (bsearch(hash, c->r->seen, c->r->n_seen, STORE_HASH_SIZE, hash_cmp))
                return 0;
        if (c->n == c->cap) {
                size_t cap = c->cap ? c->cap * 2 : 256;
                void *p = realloc(c->gone, cap * STORE_HASH_SIZE);
                if (!p)
                        return -ENOMEM;
                c->gone = p;
                c->cap = cap;
        }
        memcpy(c->gone[c->n++], hash, STORE_HASH_SIZE);
        return 0;
}

/* The snapshot is in: remove what it lacks, then mark it complete. */
static int load_finish(struct replica *r) {
        if (r->n_seen > 0)
                qsort(r->seen, r->n_seen, STORE_HASH_SIZE, hash_cmp);
        struct sweep_ctx c = { .r = r };
        int q = store_token_list_all(r->store, sweep_cb, &c);
        for (size_t i = 0; q == 0 && i < c.n; i += REPLICA_SWEEP_BATCH) {
                size_t n = c.n - i < REPLICA_SWEEP_BATCH ? c.n - i : REPLICA_SWEEP_BATCH;
                struct store_replica_change ch[REPLICA_SWEEP_BATCH];
                for (size_t k = 0; k < n; k++)
                        ch[k] = (struct store_replica_change){ .deleted = true, .hash = c.gone[i + k] };
                q = store_replica_apply(r->store, ch, n, NULL);
        }
        if (q == 0)
                last_uses_take(r);
        if (q == 0) {
                struct store_replica_state st = { .revision = r->load_revision, .complete = true };
                struct batch none = { 0 };
                q = apply(r, &none, &st);
        }
        if (q == 0)
                log_notice(0, "etcd: replica loaded at revision %lld: %zu tokens, %zu removed", (long long)r->load_revision,
                           r->n_seen, c.n);
        free(c.gone);
        return q;
}

static void on_page(const struct etcd_result *res, void *userdata) {
        struct replica *r = userdata;
        r->req = NULL;
        if (res->status < 0) {
                if (res->error && strstr(res->error, "compacted"))
                        load_reset(r);  /* the snapshot's revision is gone: start over */
                retry_later(r, "loading the token records", res->error);
                return;
        }
        set_connected(r, true);
        note_revision(r, res->revision);
        const struct etcd_range_reply *rr = res->range;
        if (r->load_revision == 0)
                r->load_revision = rr->revision;
        struct batch b;
        int q = batch_init(&b, rr->n_kvs);
        if (q == 0 && r->n_seen + rr->n_kvs > r->cap_seen) {
                size_t cap = r->cap_seen ? r->cap_seen : 4096;
                while (cap < r->n_seen + rr->n_kvs)
                        cap *= 2;
                void *p = realloc(r->seen, cap * STORE_HASH_SIZE);
                if (p) {
                        r->seen = p;
                        r->cap_seen = cap;
                } else {
                        q = -ENOMEM;
                }
        }
        for (size_t i = 0; q == 0 && i < rr->n_kvs; i++) {
                uid_entry(r, &rr->kvs[i], false);
                if (last_use_entry(r, &rr->kvs[i], true) < 0)
                        q = -ENOMEM;
                int taken = batch_add(r, &b, &rr->kvs[i], false);
                if (taken < 0)
                        q = taken;
                else if (taken > 0)
                        memcpy(r->seen[r->n_seen++], b.hashes[b.n - 1], STORE_HASH_SIZE);
        }
        if (q == 0)
                q = apply(r, &b, NULL);
        batch_clear(&b);
        if (q == 0 && !(rr->more && rr->n_kvs > 0) && r->load_slice + 1 < LOAD_SLICES) {
                /* this slice is read: the next one, from its start */
                r->load_slice++;
                free(r->load_from);
                r->load_from = NULL;
                r->load_from_len = 0;
                start_load(r);
                return;
        }
        if (q == 0 && rr->more && rr->n_kvs > 0) {
                const struct etcd_kv *last = &rr->kvs[rr->n_kvs - 1];
                char *from = malloc(last->key_len + 1);
                if (!from) {
                        q = -ENOMEM;
                } else {
                        memcpy(from, last->key, last->key_len);
                        from[last->key_len] = '\0';  /* the next key after last */
                        free(r->load_from);
                        r->load_from = from;
                        r->load_from_len = last->key_len + 1;
                        start_load(r);
                        return;
                }
        }
        if (q == 0)
                q = load_finish(r);
        if (q < 0) {
                retry_later(r, "storing the token records", strerror(-q));
                return;
        }
        load_reset(r);
        r->need_load = false;
        r->retry_usec = 0;
        ops_progress(r);
        start_watch(r);
}

/* Bound k of the first load's slices, k = 0 .. LOAD_SLICES: the prefix,
 * PREFIX tokens/, PREFIX tokens/01 ... PREFIX tokens/ff, the end of the
 * token records, the end of the prefix. Slice i is [bound i, bound i+1):
 * what comes before the token records, the records by the first two hex
 * digits of their hash (the first slice also takes any key below "01"),
 * what comes after them. Returns a new string or NULL. */
static char *load_slice_bound(const struct replica *r, unsigned k) {
        if (k == 0)
                return strdup(r->prefix);
        if (k == 1)
                return strdup(r->tokens);
        if (k == LOAD_SLICES - 1)
                return strdup(r->tokens_end);
        if (k == LOAD_SLICES)
                return strdup(r->prefix_end);
        char digits[3];
        snprintf(digits, sizeof(digits), "%02x", (k - 1) & 0xffu);
        return concat(r->tokens, digits);
}

static void start_load(struct replica *r) {
        r->phase = PHASE_LOADING;
        /* the whole prefix (the token records and the uid/gid map), in
         * slices: etcd 3.4 counts the rest of a range for every page it
         * answers, so paging through one range of n records costs
         * O(n^2 / page); a million records took ten minutes that way */
        char *start = load_slice_bound(r, r->load_slice), *end = load_slice_bound(r, r->load_slice + 1);
        int q = -ENOMEM;
        if (start && end) {
                const char *from = r->load_from ? r->load_from : start;
                size_t from_len = r->load_from ? r->load_from_len : strlen(start);
                q = etcd_range(r->etcd, from, from_len, end, strlen(end), r->load_revision, REPLICA_PAGE, on_page, r,
                               &r->req);
        }
        free(start);
        free(end);
        if (q < 0)
                retry_later(r, "loading the token records", strerror(-q));
}

/* ------------------------------------------------------------ watching */

static int on_watch_message(const struct etcd_watch_reply *w, void *userdata) {
        struct replica *r = userdata;
        note_revision(r, w->revision);
        if (w->compact_revision > 0) {
                log_warning(0, "etcd: revision %lld was compacted (oldest kept: %lld): reloading the replica",
                            (long long)r->st.revision + 1, (long long)w->compact_revision);
                /* what is held stays served (complete, older) while the new snapshot loads over it */
                r->reloads++;
                r->need_load = true;
                load_reset(r);
                return -1;
        }
        if (w->canceled)
                return -1;
        if (w->created) {
                r->watch_created = true;
                r->watch_endpoint = etcd_request_endpoint(r->req);
                r->retry_usec = 0;
                set_connected(r, true);
                if (!r->uid_swept && !r->uid_sweep_req)
                        uid_sweep_page(r);
                return 0;
        }
        struct batch b;
        if (batch_init(&b, w->n_events) < 0)
                return -1;
        int64_t rev = r->st.revision;
        for (size_t i = 0; i < w->n_events; i++) {
                const struct etcd_event *e = &w->events[i];
                if (e->kv.mod_revision <= r->st.revision)
                        continue;  /* already applied (a resumed watch) */
                uid_entry(r, &e->kv, e->deleted);
                if (batch_add(r, &b, &e->kv, e->deleted) < 0) {
                        batch_clear(&b);
                        return -1;      /* the watch starts again from what was applied */
                }
                if (e->kv.mod_revision > rev)
                        rev = e->kv.mod_revision;
        }
        if (w->n_events == 0 && w->revision > rev)
                rev = w->revision;  /* a progress notification: nothing before it is pending */
        struct store_replica_state st = { .revision = rev, .complete = r->st.complete };
        int64_t before = r->st.revision;
        int q = rev > r->st.revision || b.n > 0 ? apply(r, &b, &st) : 0;
        /* last uses after the token records of the same message */
        for (size_t i = 0; q == 0 && i < w->n_events; i++)
                if (w->events[i].kv.mod_revision > before && !w->events[i].deleted)
                        (void)last_use_entry(r, &w->events[i].kv, false);
        r->events_applied += b.n;
        batch_clear(&b);
        if (q < 0)
                return -1;
        ops_progress(r);
        return 0;
}

static void on_watch_end(const struct etcd_result *res, void *userdata) {
        struct replica *r = userdata;
        r->req = NULL;
        r->watch_created = false;
        if (r->need_load && res->status == -ECANCELED) {  /* compacted */
                start_load(r);
                return;
        }
        retry_later(r, "watching the token records", res->error);
}

static void start_watch(struct replica *r) {
        r->phase = PHASE_WATCHING;
        r->watch_created = false;
        int q = etcd_watch(r->etcd, r->prefix, strlen(r->prefix), r->prefix_end, strlen(r->prefix_end),
                           r->st.revision + 1, on_watch_message, on_watch_end, r, &r->req);
        if (q < 0)
                retry_later(r, "watching the token records", strerror(-q));
}

/* A transaction that creates key with value unless key exists (JSON text
 * for /v3/kv/txn, malloc()ed); NULL when out of memory. */
static char *put_if_absent(const char *key, const char *value) {
        char *k64 = key ? etcd_b64(key, strlen(key)) : NULL, *v64 = value ? etcd_b64(value, strlen(value)) : NULL;
        json_t *txn = k64 && v64 ? json_pack("{s:[{s:s, s:s, s:s, s:s}], s:[{s:{s:s, s:s}}]}", "compare", "key", k64,
                                             "target", "CREATE", "result", "EQUAL", "create_revision", "0", "success",
                                             "request_put", "key", k64, "value", v64)
                                 : NULL;
        char *body = txn ? json_dumps(txn, JSON_COMPACT) : NULL;
        json_decref(txn);
        free(k64);
        free(v64);
        return body;
}

/* ------------------------------------------------------------ a standalone store moves in */

/* A writer whose store never replicated holds a standalone kaasd's tokens:
 * they are put into etcd, each only if absent (so running it again, or
 * after an interruption, changes nothing already there), before the first
 * snapshot, whose sweep would otherwise drop them. */
static int hash_list_add(const uint8_t hash[STORE_HASH_SIZE], const struct token_record *rec, void *userdata) {
        struct hash_list *l = userdata;
        if (l->n == l->cap) {
                size_t cap = l->cap ? l->cap * 2 : 256;
                void *p = realloc(l->h, cap * STORE_HASH_SIZE);
                if (!p)
                        return -ENOMEM;
                l->h = p;
                l->cap = cap;
        }
        memcpy(l->h[l->n++], hash, STORE_HASH_SIZE);
        return 0;
}

static void hash_list_clear(struct hash_list *l) {
        free(l->h);
        *l = (struct hash_list){ 0 };
}

/* Puts the local token record of hash into etcd if absent there, answered
 * to fn: 0, -ENOENT when the store no longer holds it (deleted meanwhile),
 * or another negative errno. */
static int put_local_token(struct replica *r, const uint8_t hash[STORE_HASH_SIZE], etcd_done_fn fn,
                           void *userdata, struct etcd_request **req) {
        struct token_record rec = { 0 };
        int q = store_token_get(r->store, hash, &rec);
        if (q < 0)
                return q;
        char *key = replica_token_key(r->prefix, hash), *value = replica_token_value(&rec);
        char *body = put_if_absent(key, value);
        token_record_free(&rec);
        free(key);
        free(value);
        q = body ? etcd_txn(r->etcd, body, fn, userdata, req) : -ENOMEM;
        free(body);
        return q;
}

static void on_migrated(const struct etcd_result *res, void *userdata) {
        struct replica *r = userdata;
        r->req = NULL;
        if (res->status < 0) {
                retry_later(r, "moving the standalone store's tokens into etcd", res->error);
                return;  /* resumes at the same token */
        }
        if (!res->txn->succeeded)
                r->migrate_present++;
        r->migrate_done++;
        migrate_next(r);
}

static void migrate_next(struct replica *r) {
        while (r->migrate_done < r->migrate.n) {
                int q = put_local_token(r, r->migrate.h[r->migrate_done], on_migrated, r, &r->req);
                if (q == -ENOENT) {  /* purged meanwhile */
                        r->migrate_done++;
                        continue;
                }
                if (q < 0)
                        retry_later(r, "moving the standalone store's tokens into etcd", strerror(-q));
                return;
        }
        log_notice(0, "etcd: moved the standalone store's %zu tokens into etcd (%zu were there already)",
                   r->migrate.n - r->migrate_present, r->migrate_present);
        hash_list_clear(&r->migrate);
        r->migrate_done = r->migrate_present = 0;
        r->migrated = true;
        start_replicating(r);
}

/* The same on request (io.kaas.Admin.MigrateStore), beside replication:
 * its own list and its own txns, one token at a time. */
struct migrate_job {
        struct replica *r;
        replica_migrate_fn fn;
        void *userdata;
        struct hash_list hashes;
        size_t done;
        uint64_t moved, present;
        struct etcd_request *req;
        struct migrate_job *prev, *next;
};

static void migrate_job_finish(struct migrate_job *j, int status, const char *error) {
        struct replica *r = j->r;
        etcd_cancel(j->req);
        if (j->prev)
                j->prev->next = j->next;
        else
                r->jobs = j->next;
        if (j->next)
                j->next->prev = j->prev;
        if (status == 0)
                log_notice(0, "etcd: moved %llu tokens of the local store into etcd on request (%llu were there "
                              "already)", (unsigned long long)j->moved, (unsigned long long)j->present);
        j->fn(status, j->moved, j->present, error, j->userdata);
        hash_list_clear(&j->hashes);
        free(j);
}

static void migrate_job_next(struct migrate_job *j);

static void on_job_put(const struct etcd_result *res, void *userdata) {
        struct migrate_job *j = userdata;
        j->req = NULL;
        if (res->status < 0) {
                migrate_job_finish(j, res->status, res->error);
                return;
        }
        if (res->txn->succeeded)
                j->moved++;
        else
                j->present++;
        j->done++;
        migrate_job_next(j);
}

static void migrate_job_next(struct migrate_job *j) {
        while (j->done < j->hashes.n) {
                int q = put_local_token(j->r, j->hashes.h[j->done], on_job_put, j, &j->req);
                if (q == -ENOENT) {  /* deleted meanwhile */
                        j->done++;
                        continue;
                }
                if (q < 0)
                        migrate_job_finish(j, q, "reading the local store");
                return;
        }
        migrate_job_finish(j, 0, NULL);
}

int replica_migrate(struct replica *r, replica_migrate_fn fn, void *userdata) {
        if (!r->writer)
                return -EROFS;
        struct migrate_job *j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        *j = (struct migrate_job){ .r = r, .fn = fn, .userdata = userdata };
        int q = store_token_list_all(r->store, hash_list_add, &j->hashes);
        if (q < 0) {
                hash_list_clear(&j->hashes);
                free(j);
                return q;
        }
        j->next = r->jobs;
        if (r->jobs)
                r->jobs->prev = j;
        r->jobs = j;
        migrate_job_next(j);
        return 0;
}

/* ------------------------------------------------------------ the hashing key */

/* Every kaasd of an environment must hash with the same key. The first
 * writer records its key's fingerprint (never the key) in etcd; a kaasd
 * whose fingerprint differs stops, naming both. */
static void start_replicating(struct replica *r) {
        r->key_checked = true;
        if (r->writer && !r->migrated && !r->st.complete && r->st.revision == 0) {
                r->migrated = true;  /* looked once; migrate_next() finishes what it found */
                int q = store_token_list_all(r->store, hash_list_add, &r->migrate);
                if (q < 0) {
                        log_err(0, "etcd: cannot read the standalone store to move it into etcd: %s",
                                store_last_error(r->store));
                        hash_list_clear(&r->migrate);
                } else if (r->migrate.n > 0) {
                        log_notice(0, "etcd: moving the standalone store's %zu tokens into etcd", r->migrate.n);
                        r->migrated = false;
                        migrate_next(r);
                        return;
                }
        }
        if (r->need_load)
                start_load(r);
        else
                start_watch(r);
}

static char *fingerprint_key(const struct replica *r) {
        return concat(r->prefix, REPLICA_FINGERPRINT_KEY);
}

static void on_fingerprint_put(const struct etcd_result *res, void *userdata) {
        struct replica *r = userdata;
        r->req = NULL;
        if (res->status < 0) {
                retry_later(r, "recording the hashing key's fingerprint", res->error);
                return;
        }
        if (!res->txn->succeeded) {  /* another writer was first: compare with its */
                start_key_check(r);
                return;
        }
        log_notice(0, "etcd: recorded this environment's hashing key fingerprint %s", r->fingerprint);
        start_replicating(r);
}

static void on_fingerprint(const struct etcd_result *res, void *userdata) {
        struct replica *r = userdata;
        r->req = NULL;
        if (res->status < 0) {
                retry_later(r, "reading the hashing key's fingerprint", res->error);
                return;
        }
        set_connected(r, true);
        note_revision(r, res->revision);
        if (res->range->n_kvs > 0) {
                const struct etcd_kv *kv = &res->range->kvs[0];
                if (kv->value_len == strlen(r->fingerprint) && memcmp(kv->value, r->fingerprint, kv->value_len) == 0) {
                        start_replicating(r);
                        return;
                }
                char msg[512], theirs[72];
                size_t n = kv->value_len < 64 ? kv->value_len : 64;
                for (size_t i = 0; i < n; i++)
                        theirs[i] = kv->value[i] >= 0x21 && kv->value[i] < 0x7f ? kv->value[i] : '?';
                theirs[n] = '\0';
                snprintf(msg, sizeof(msg),
                         "this kaasd's token hashing key (fingerprint %s) is not the environment's (fingerprint %s, "
                         "in etcd at %s%s): copy the environment's token.key to this host (docs/environment.md)",
                         r->fingerprint, theirs, r->prefix, REPLICA_FINGERPRINT_KEY);
                r->fatal(r->fatal_userdata, msg);
                return;
        }
        if (!r->writer) {
                log_warning(0, "etcd: no hashing key fingerprint recorded yet; a writer records it at its start");
                start_replicating(r);
                return;
        }
        char *key = fingerprint_key(r);
        char *body = put_if_absent(key, r->fingerprint);
        int q = body ? etcd_txn(r->etcd, body, on_fingerprint_put, r, &r->req) : -ENOMEM;
        free(body);
        free(key);
        if (q < 0)
                retry_later(r, "recording the hashing key's fingerprint", strerror(-q));
}

static void start_key_check(struct replica *r) {
        char *key = fingerprint_key(r);
        int q = key ? etcd_range(r->etcd, key, strlen(key), NULL, 0, 0, 1, on_fingerprint, r, &r->req) : -ENOMEM;
        free(key);
        if (q < 0)
                retry_later(r, "reading the hashing key's fingerprint", strerror(-q));
}

/* ------------------------------------------------------------ heartbeat */

static void heartbeat_fired(struct loop_timer *t, void *userdata);

static void heartbeat_schedule(struct replica *r) {
        if (loop_timer_add(r->loop, loop_now_usec() + REPLICA_HEARTBEAT_USEC, heartbeat_fired, r,
                           &r->heartbeat_timer) < 0)
                r->heartbeat_timer = NULL;
}

static void on_heartbeat(const struct etcd_result *res, void *userdata) {
        struct replica *r = userdata;
        r->heartbeat = NULL;
        r->heartbeat_ok = res->status == 0;
        if (res->status == 0 && r->phase == PHASE_WATCHING && r->st.complete && res->revision < r->heartbeat_base) {
                /* a linearizable read sent after this replica had applied
                 * heartbeat_base answers below it: etcd was restored from an
                 * older state (a snapshot), and a watch from this replica's
                 * revision would never see what etcd holds since. Load it
                 * again, serving what is held meanwhile; the revision held is
                 * etcd's now, so that no write is answered before the load
                 * has it, and the uid map is compared with etcd's again */
                log_warning(0, "etcd: its revision %lld is below this replica's %lld: etcd was restored from an "
                            "older state; reloading the replica", (long long)res->revision,
                            (long long)r->heartbeat_base);
                r->reloads++;
                r->need_load = true;
                r->etcd_revision = res->revision;
                r->st.revision = res->revision;
                r->uid_swept = false;
                load_reset(r);
                etcd_cancel(r->req);
                r->req = NULL;
                r->watch_created = false;
                start_load(r);
                heartbeat_schedule(r);
                return;
        }
        if (res->status == 0) {
                note_revision(r, res->revision);
                if (r->phase == PHASE_WATCHING && r->watch_created && res->endpoint == r->watch_endpoint) {
                        set_connected(r, true);
                } else if (r->phase == PHASE_WATCHING && r->watch_created) {
                        /* the answer vouches for another member than the watch's, which may
                         * be frozen or cut off from the others, its connection open and
                         * silent: the watch moves to the member that answered */
                        log_notice(0, "etcd: the watch on %s is not known to be live, %s answers: watching there",
                                   r->watch_endpoint, res->endpoint);
                        etcd_cancel(r->req);
                        r->req = NULL;
                        start_watch(r);
                }
                uid_pubs_send(r);
        } else {
                set_connected(r, false);
        }
        heartbeat_schedule(r);
}

static void heartbeat_fired(struct loop_timer *t, void *userdata) {
        struct replica *r = userdata;
        r->heartbeat_timer = NULL;
        r->heartbeat_base = r->st.revision;
        if (etcd_range(r->etcd, r->prefix, strlen(r->prefix), NULL, 0, 0, 1, on_heartbeat, r, &r->heartbeat) < 0)
                heartbeat_schedule(r);
}

/* ------------------------------------------------------------ last used */

/* Every node writes the last uses it sees under PREFIX last-used/NODE/, in
 * batches from a timer (never from validation), and merges everybody's
 * into its own store, where a last use never moves backwards: List
 * anywhere shows the latest use on any node. */

/* A last use from etcd: 1 taken, 0 not a last use, -ENOMEM. */
static int last_use_entry(struct replica *r, const struct etcd_kv *kv, bool loading) {
        struct last_use u;
        int q = replica_last_used_key_parse(r->prefix, kv->key, kv->key_len, u.hash);
        if (q == -ENOENT)
                return 0;
        if (q == 0)
                q = replica_time_value_parse(kv->value, kv->value_len, &u.t);
        if (q == 0 && u.t > (int64_t)time(NULL) + REPLICA_LAST_USED_SKEW_SEC)
                q = -ERANGE;
        if (q < 0) {
                r->records_ignored++;
                log_warning(0, "etcd: ignoring a malformed last-used record at revision %lld", (long long)kv->mod_revision);
                return 0;
        }
        if (loading) {
                if (r->n_lu_in == r->cap_lu_in) {
                        size_t cap = r->cap_lu_in ? r->cap_lu_in * 2 : 256;
                        void *p = realloc(r->lu_in, cap * sizeof(*r->lu_in));
                        if (!p)
                                return -ENOMEM;
                        r->lu_in = p;
                        r->cap_lu_in = cap;
                }
                r->lu_in[r->n_lu_in++] = u;
                return 1;
        }
        q = store_token_touch(r->store, u.hash, u.t);
        if (q < 0 && q != -ENOENT)
                log_warning(0, "etcd: recording a last use failed: %s", store_last_error(r->store));
        return 1;
}

/* The snapshot's last uses, once its token records are stored. */
static void last_uses_take(struct replica *r) {
        for (size_t i = 0; i < r->n_lu_in; i++) {
                int q = store_token_touch(r->store, r->lu_in[i].hash, r->lu_in[i].t);
                if (q < 0 && q != -ENOENT)
                        log_warning(0, "etcd: recording a last use failed: %s", store_last_error(r->store));
        }
}

static void last_uses_fired(struct loop_timer *t, void *userdata);

static void last_uses_schedule(struct replica *r) {
        if (!r->lu_timer && !r->lu_req && r->n_lu_out > 0 &&
            loop_timer_add(r->loop, loop_now_usec() + REPLICA_LAST_USED_USEC, last_uses_fired, r, &r->lu_timer) < 0)
                r->lu_timer = NULL;
}

static void on_last_uses_written(const struct etcd_result *res, void *userdata) {
        struct replica *r = userdata;
        r->lu_req = NULL;
        if (res->status == 0) {
                memmove(r->lu_out, r->lu_out + r->n_lu_sending, (r->n_lu_out - r->n_lu_sending) * sizeof(*r->lu_out));
                r->n_lu_out -= r->n_lu_sending;
        } else {
                log_debug(0, "etcd: writing %zu last uses failed, kept for later: %s", r->n_lu_sending,
                          res->error ? res->error : strerror(-res->status));
        }
        r->n_lu_sending = 0;
        last_uses_schedule(r);
}

/* One txn of puts under PREFIX last-used/NODE/ for the first n waiting. */
static char *last_uses_txn(struct replica *r, size_t n) {
        json_t *ops = json_array(), *txn = NULL;
        for (size_t i = 0; ops && i < n; i++) {
                char value[24];
                snprintf(value, sizeof(value), "%lld", (long long)r->lu_out[i].t);
                char *key = replica_last_used_key(r->prefix, r->node, r->lu_out[i].hash);
                char *k64 = key ? etcd_b64(key, strlen(key)) : NULL, *v64 = etcd_b64(value, strlen(value));
                json_t *op = k64 && v64 ? json_pack("{s:{s:s, s:s}}", "request_put", "key", k64, "value", v64) : NULL;
                free(key);
                free(k64);
                free(v64);
                if (!op || json_array_append_new(ops, op) < 0) {
                        json_decref(ops);
                        ops = NULL;
                }
        }
        txn = ops ? json_pack("{s:o}", "success", ops) : NULL;
        char *body = txn ? json_dumps(txn, JSON_COMPACT) : NULL;
        json_decref(txn);
        return body;
}

static void last_uses_fired(struct loop_timer *t, void *userdata) {
        struct replica *r = userdata;
        r->lu_timer = NULL;
        if (r->lu_req || r->n_lu_out == 0)
                return;
        size_t n = r->n_lu_out < REPLICA_LAST_USED_BATCH ? r->n_lu_out : REPLICA_LAST_USED_BATCH;
        char *body = last_uses_txn(r, n);
        if (body && etcd_txn(r->etcd, body, on_last_uses_written, r, &r->lu_req) == 0)
                r->n_lu_sending = n;
        else
                r->lu_req = NULL;
        free(body);  /* etcd_txn() copies it */
        last_uses_schedule(r);
}

void replica_last_used(struct replica *r, const uint8_t hash[static STORE_HASH_SIZE], int64_t last_used) {
        if (r->n_lu_out == REPLICA_LAST_USED_MAX) {
                r->last_used_dropped++;
                return;
        }
        if (r->n_lu_out == r->cap_lu_out) {
                size_t cap = r->cap_lu_out ? r->cap_lu_out * 2 : 256;
                void *p = realloc(r->lu_out, cap * sizeof(*r->lu_out));
                if (!p) {
                        r->last_used_dropped++;
                        return;
                }
                r->lu_out = p;
                r->cap_lu_out = cap;
        }
        memcpy(r->lu_out[r->n_lu_out].hash, hash, STORE_HASH_SIZE);
        r->lu_out[r->n_lu_out++].t = last_used;
        last_uses_schedule(r);
}

/* ------------------------------------------------------------ the shared uid/gid map */

static bool is_role_key(const char *key) {
        return strncmp(key, UNIX_ROLE_KEY_PREFIX, strlen(UNIX_ROLE_KEY_PREFIX)) == 0;
}

/* The entry of key on its way to etcd, if any. */
static struct uid_pub *uid_pub_find(struct replica *r, const char *key) {
        for (struct uid_pub *p = r->pubs; p; p = p->next)
                if (strcmp(p->key, key) == 0)
                        return p;
        return NULL;
}

/* Whether number id is held here by an entry on its way to etcd. */
static bool uid_pending_holder(struct replica *r, uint32_t id) {
        char *holder = NULL;
        bool pending = store_uid_lookup(r->store, id, &holder) == 0 && uid_pub_find(r, holder);
        free(holder);
        return pending;
}

/* A map entry from etcd. A node keeps the number it gave: one that etcd
 * holds differently (the entry was changed or deleted in etcd, or this
 * node gave it while etcd was out of reach) is reported and counted, never
 * applied, since files on this node already carry the number it gave. An
 * entry still on its way to etcd is settled by its txn's answer instead
 * (on_uid_published()). */
static void uid_entry(struct replica *r, const struct etcd_kv *kv, bool deleted) {
        char *key = NULL;
        uint32_t theirs = 0, ours;
        int q = replica_uid_key_parse(r->prefix, kv->key, kv->key_len, &key);
        if (q == -ENOENT)
                return;
        if (q == 0 && !deleted) {
                bool role = is_role_key(key);
                uint32_t min = role ? r->gid_min : r->uid_min, max = role ? r->gid_max : r->uid_max;
                q = replica_uid_value_parse(kv->value, kv->value_len, &theirs);
                if (q == 0 && (theirs < min || theirs > max))
                        q = -ERANGE;
        }
        if (q < 0) {
                r->records_ignored++;
                log_warning(0, "etcd: ignoring a malformed uid map entry at revision %lld", (long long)kv->mod_revision);
                free(key);
                return;
        }
        if (uid_pub_find(r, key)) {
                free(key);
                return;
        }
        q = store_uid_get(r->store, key, &ours);
        if (deleted) {
                if (q == 0) {
                        r->uid_conflicts++;
                        log_warning(0, "etcd: the uid map entry of %s was deleted at revision %lld: %u kept here", key,
                                    (long long)kv->mod_revision, ours);
                }
        } else if (q == -ENOENT) {
                q = store_uid_get_or_assign(r->store, key, theirs, theirs, theirs, &ours);
                if (q == -ENOSPC && uid_pending_holder(r, theirs)) {
                        log_debug(0, "etcd: id %u of %s is on its way to etcd for another key here", theirs, key);
                } else if (q == -ENOSPC) {
                        r->uid_conflicts++;
                        log_warning(0, "etcd: the uid map gives %s id %u, another's here: not taken", key, theirs);
                } else if (q < 0) {
                        log_err(0, "etcd: storing the uid map entry of %s failed: %s", key, store_last_error(r->store));
                }
        } else if (q == 0 && ours != theirs) {
                r->uid_conflicts++;
                log_warning(0, "etcd: the uid map gives %s id %u at revision %lld, this node gave %u: %u kept", key,
                            theirs, (long long)kv->mod_revision, ours, ours);
        } else if (q < 0) {
                log_err(0, "etcd: reading the uid map entry of %s failed: %s", key, store_last_error(r->store));
        }
        free(key);
}

static void uid_pub_free(struct uid_pub *p) {
        struct replica *r = p->r;
        etcd_cancel(p->req);
        if (p->prev)
                p->prev->next = p->next;
        else
                r->pubs = p->next;
        if (p->next)
                p->next->prev = p->prev;
        free(p->key);
        free(p->body);
        free(p);
}

/* The txn: create the entry and its number's key, both only if absent;
 * else read both, to learn who was first. */
static char *uid_txn(const char *prefix, const char *id_key, uint32_t id) {
        char *key = replica_uid_key(prefix, id_key), *value = replica_uid_value(id);
        char *nkey = replica_uid_number_key(prefix, id);
        char *k64 = key ? etcd_b64(key, strlen(key)) : NULL, *v64 = value ? etcd_b64(value, strlen(value)) : NULL;
        char *n64 = nkey ? etcd_b64(nkey, strlen(nkey)) : NULL, *o64 = etcd_b64(id_key, strlen(id_key));
        json_t *txn = k64 && v64 && n64 && o64
                              ? json_pack("{s:[{s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s}],"
                                          " s:[{s:{s:s, s:s}}, {s:{s:s, s:s}}], s:[{s:{s:s}}, {s:{s:s}}]}",
                                          "compare", "key", k64, "target", "CREATE", "result", "EQUAL",
                                          "create_revision", "0", "key", n64, "target", "CREATE", "result", "EQUAL",
                                          "create_revision", "0", "success", "request_put", "key", k64, "value", v64,
                                          "request_put", "key", n64, "value", o64, "failure", "request_range", "key",
                                          k64, "request_range", "key", n64)
                              : NULL;
        char *body = txn ? json_dumps(txn, JSON_COMPACT) : NULL;
        json_decref(txn);
        free(key);
        free(value);
        free(nkey);
        free(k64);
        free(v64);
        free(n64);
        free(o64);
        return body;
}

static void uid_pub_send(struct uid_pub *p);

/* etcd holds another number for p's key (fwd, > 0), or p's number for
 * another key (holder): a number given a moment ago yields to the first
 * node's; one given while etcd was out of reach is kept. Returns true when
 * p is to be sent again (with a new number). */
static bool uid_pub_lost(struct uid_pub *p, uint32_t fwd, const char *holder) {
        struct replica *r = p->r;
        bool role = is_role_key(p->key);
        uint32_t min = role ? r->gid_min : r->uid_min, max = role ? r->gid_max : r->uid_max, got;
        if (!p->just_given) {
                r->uid_conflicts++;
                if (fwd)
                        log_warning(0, "etcd: the uid map gives %s id %u, this node gave %u while etcd was out of "
                                       "reach: %u kept", p->key, fwd, p->id, p->id);
                else
                        log_warning(0, "etcd: the uid map gives id %u to %s, this node gave it to %s while etcd was "
                                       "out of reach: kept", p->id, holder, p->key);
                return false;
        }
        int q;
        if (fwd) {
                q = fwd < min || fwd > max ? -ERANGE
                                           : store_uid_move(r->store, p->key, p->id, NULL, fwd, fwd, fwd, &got);
        } else {
                /* the holder named in etcd is not taken from here: the
                 * watch brings the winner's own entry, and a value under
                 * number: is no proof of it */
                uint32_t next = p->id < max ? p->id + 1 : min;
                q = store_uid_move(r->store, p->key, p->id, NULL, min, max, next, &got);
        }
        if (q == -ESTALE)
                return false;  /* the entry changed here meanwhile: nothing to settle */
        if (q < 0) {
                r->uid_conflicts++;
                log_warning(0, "etcd: %s: id %u was given first by another node, but %s: %u kept", p->key, p->id,
                            q == -ENOSPC ? "no other id is free here" : strerror(-q), p->id);
                return false;
        }
        log_notice(0, "etcd: %s: id %u was given first %s by another node: %u taken", p->key, p->id,
                   fwd ? "another id" : "to another key", got);
        char *body = fwd ? NULL : uid_txn(r->prefix, p->key, got);
        if (!fwd && !body) {
                log_err(0, "etcd: out of memory: the uid map entry of %s is not shared", p->key);
                return false;
        }
        free(p->body);
        p->body = body;
        p->id = got;
        return !fwd;
}

static void on_uid_published(const struct etcd_result *res, void *userdata) {
        struct uid_pub *p = userdata;
        struct replica *r = p->r;
        p->req = NULL;
        if (res->status < 0 && etcd_error_is_unavailable(res->status)) {
                p->just_given = false;  /* served meanwhile: it stays */
                return;  /* sent again once etcd answers (uid_pubs_send()) */
        }
        if (res->status < 0) {
                log_err(0, "etcd: creating a uid map entry failed: %s", res->error ? res->error : strerror(-res->status));
                uid_pub_free(p);
                return;
        }
        note_revision(r, res->revision);
        if (res->txn->succeeded) {
                uid_pub_free(p);
                return;
        }
        /* the failure branch read the entry and the number's key */
        char *key = replica_uid_key(r->prefix, p->key), *nkey = replica_uid_number_key(r->prefix, p->id);
        uint32_t fwd = 0;
        char *holder = NULL;
        for (size_t i = 0; key && nkey && i < res->txn->n_kvs; i++) {
                const struct etcd_kv *kv = &res->txn->kvs[i];
                if (strcmp(kv->key, key) == 0 && replica_uid_value_parse(kv->value, kv->value_len, &fwd) < 0)
                        fwd = 0;
                else if (strcmp(kv->key, nkey) == 0 && store_user_id_valid(kv->value, kv->value_len))
                        holder = kv->value;
        }
        bool again = false;
        if (!key || !nkey)
                log_err(0, "etcd: out of memory: the uid map entry of %s is not shared", p->key);
        else if (fwd == p->id || (!fwd && holder && strcmp(holder, p->key) == 0))
                ;  /* there already, as here */
        else if (fwd || holder)
                again = uid_pub_lost(p, fwd, holder);
        else
                again = true;  /* both gone again since the compare: try once more */
        free(key);
        free(nkey);
        if (again)
                uid_pub_send(p);
        else
                uid_pub_free(p);
}

static void uid_pub_send(struct uid_pub *p) {
        if (etcd_txn(p->r->etcd, p->body, on_uid_published, p, &p->req) < 0)
                p->req = NULL;
}

static void uid_pubs_send(struct replica *r) {
        for (struct uid_pub *p = r->pubs; p; p = p->next)
                if (!p->req)
                        uid_pub_send(p);
}

static int uid_pub_add(struct replica *r, const char *id_key, uint32_t id, bool just_given) {
        if (strncmp(id_key, REPLICA_UID_LOCAL_PREFIX, strlen(REPLICA_UID_LOCAL_PREFIX)) == 0 ||
            uid_pub_find(r, id_key))
                return 0;  /* a local account's id, held back on this node only; or on its way */
        struct uid_pub *p = calloc(1, sizeof(*p));
        char *key = strdup(id_key), *body = uid_txn(r->prefix, id_key, id);
        if (!p || !key || !body) {
                free(p);
                free(key);
                free(body);
                return -ENOMEM;
        }
        *p = (struct uid_pub){ .r = r, .key = key, .id = id, .just_given = just_given, .body = body, .next = r->pubs };
        if (r->pubs)
                r->pubs->prev = p;
        r->pubs = p;
        uid_pub_send(p);
        return 0;
}

int replica_uid_publish(struct replica *r, const char *id_key, uint32_t id) {
        bool reachable = r->phase == PHASE_WATCHING && r->watch_created && !r->disconnected_since;
        return uid_pub_add(r, id_key, id, reachable);
}

/* Entries this node holds that etcd lacks (given while etcd was out of
 * reach, and kaasd restarted before it answered): after the first watch
 * of each run, one paged read of PREFIX uids/, and each missing entry is
 * created as any other. */
static int str_cmp(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static void uid_sweep_reset(struct replica *r) {
        for (size_t i = 0; i < r->n_uid_seen; i++)
                free(r->uid_seen[i]);
        free(r->uid_seen);
        r->uid_seen = NULL;
        r->n_uid_seen = r->cap_uid_seen = 0;
        free(r->uid_sweep_from);
        r->uid_sweep_from = NULL;
}

static void uid_sweep_finish(struct replica *r) {
        if (r->n_uid_seen > 0)
                qsort(r->uid_seen, r->n_uid_seen, sizeof(char *), str_cmp);
        uint64_t count = 0;
        struct store_uid_entry *all = NULL;
        int q = store_uid_in_range(r->store, 0, UINT32_MAX, NULL, NULL, 0, &count);
        if (q == 0 && count > 0 && !(all = calloc(count, sizeof(*all))))
                q = -ENOMEM;
        if (q == 0 && count > 0)
                q = store_uid_in_range(r->store, 0, UINT32_MAX, NULL, all, count, &count);
        size_t sent = 0;
        for (uint64_t i = 0; q == 0 && i < count; i++) {
                const char *k = all[i].key;
                if (strncmp(k, REPLICA_UID_LOCAL_PREFIX, strlen(REPLICA_UID_LOCAL_PREFIX)) == 0 ||
                    (r->n_uid_seen > 0 && bsearch(&k, r->uid_seen, r->n_uid_seen, sizeof(char *), str_cmp)))
                        continue;
                q = uid_pub_add(r, k, all[i].uid, false);
                sent++;
        }
        if (q < 0)
                log_err(0, "etcd: comparing the uid map with etcd's failed: %s", strerror(-q));
        else if (sent > 0)
                log_notice(0, "etcd: %zu uid map entries of this node were not in etcd: sharing them", sent);
        free(all);
        uid_sweep_reset(r);
        r->uid_swept = q == 0;
}

static void on_uid_sweep_page(const struct etcd_result *res, void *userdata) {
        struct replica *r = userdata;
        r->uid_sweep_req = NULL;
        if (res->status < 0) {
                uid_sweep_reset(r);  /* again at the next watch */
                return;
        }
        const struct etcd_range_reply *rr = res->range;
        int q = 0;
        for (size_t i = 0; q == 0 && i < rr->n_kvs; i++) {
                char *key = NULL;
                if (replica_uid_key_parse(r->prefix, rr->kvs[i].key, rr->kvs[i].key_len, &key) < 0)
                        continue;
                if (r->n_uid_seen == r->cap_uid_seen) {
                        size_t cap = r->cap_uid_seen ? r->cap_uid_seen * 2 : 256;
                        void *n = realloc(r->uid_seen, cap * sizeof(char *));
                        if (!n) {
                                free(key);
                                q = -ENOMEM;
                                break;
                        }
                        r->uid_seen = n;
                        r->cap_uid_seen = cap;
                }
                r->uid_seen[r->n_uid_seen++] = key;
        }
        if (q == 0 && rr->more && rr->n_kvs > 0) {
                const struct etcd_kv *last = &rr->kvs[rr->n_kvs - 1];
                char *from = malloc(last->key_len + 2);
                if (from) {
                        memcpy(from, last->key, last->key_len);
                        from[last->key_len] = '\0';  /* the next key after last: key_len + 1 bytes */
                        free(r->uid_sweep_from);
                        r->uid_sweep_from = from;
                        r->uid_sweep_from_len = last->key_len + 1;
                        uid_sweep_page(r);
                        return;
                }
                q = -ENOMEM;
        }
        if (q < 0) {
                log_err(0, "etcd: reading the uid map failed: %s", strerror(-q));
                uid_sweep_reset(r);
                return;
        }
        uid_sweep_finish(r);
}

static void uid_sweep_page(struct replica *r) {
        char *from = r->uid_sweep_from ? NULL : concat(r->prefix, REPLICA_UIDS_DIR);
        char *end = concat(r->prefix, "uids0");
        const char *f = r->uid_sweep_from ? r->uid_sweep_from : from;
        size_t fl = r->uid_sweep_from ? r->uid_sweep_from_len : (from ? strlen(from) : 0);
        int q = f && end ? etcd_range(r->etcd, f, fl, end, strlen(end), 0, REPLICA_PAGE, on_uid_sweep_page, r,
                                      &r->uid_sweep_req)
                         : -ENOMEM;
        free(from);
        free(end);
        if (q < 0)
                uid_sweep_reset(r);
}

/* ------------------------------------------------------------ writes */

static void op_free(struct write_op *op) {
        struct replica *r = op->r;
        etcd_cancel(op->req);
        if (op->prev)
                op->prev->next_op = op->next_op;
        else
                r->ops = op->next_op;
        if (op->next_op)
                op->next_op->prev = op->prev;
        free(op->hashes);
        free(op->put_body);
        free(op);
}

static void op_finish(struct write_op *op, int status, const char *error) {
        replica_done_fn fn = op->fn;
        void *userdata = op->userdata;
        uint64_t n = op->deleted;
        op->req = NULL;
        op_free(op);
        fn(status, n, error, userdata);
}

static void ops_timer_fired(struct loop_timer *t, void *userdata);

/* Answers the writes the replica has caught up with, or that waited too long. */
static void ops_progress(struct replica *r) {
        uint64_t now = loop_now_usec(), next = 0;
        struct write_op *op = r->ops;
        while (op) {
                struct write_op *following = op->next_op;
                if (op->wait_revision > 0 && r->st.revision >= op->wait_revision) {
                        op_finish(op, 0, NULL);
                } else if (op->wait_revision > 0 && now >= op->deadline_usec) {
                        op_finish(op, -ETIMEDOUT, "committed in etcd but not yet replicated to this kaasd");
                } else if (op->wait_revision > 0 && (!next || op->deadline_usec < next)) {
                        next = op->deadline_usec;
                }
                op = following;
        }
        loop_timer_cancel(r->ops_timer);
        r->ops_timer = NULL;
        if (next && loop_timer_add(r->loop, next, ops_timer_fired, r, &r->ops_timer) < 0)
                r->ops_timer = NULL;
}

static void ops_timer_fired(struct loop_timer *t, void *userdata) {
        struct replica *r = userdata;
        r->ops_timer = NULL;
        ops_progress(r);
}

static int op_new(struct replica *r, replica_done_fn fn, void *userdata, struct write_op **ret) {
        if (!r->writer)
                return -EROFS;
        struct write_op *op = calloc(1, sizeof(*op));
        if (!op)
                return -ENOMEM;
        op->r = r;
        op->fn = fn;
        op->userdata = userdata;
        op->next_op = r->ops;
        if (r->ops)
                r->ops->prev = op;
        r->ops = op;
        *ret = op;
        return 0;
}

/* From now on the op waits for the replica; it is looked at from the loop,
 * never before the call that started it returned. */
static void op_committed(struct write_op *op, int64_t revision) {
        struct replica *r = op->r;
        op->wait_revision = revision;
        op->deadline_usec = loop_now_usec() + r->timeout_usec;
        loop_timer_cancel(r->ops_timer);
        if (loop_timer_add(r->loop, 0, ops_timer_fired, r, &r->ops_timer) < 0)
                r->ops_timer = NULL;
}

static void on_put_done(const struct etcd_result *res, void *userdata) {
        struct write_op *op = userdata;
        op->req = NULL;
        if (res->status < 0) {
                op_finish(op, res->status, res->error);
                return;
        }
        if (!res->txn->succeeded) {
                op_finish(op, -EEXIST, "a token with this hash exists already");
                return;
        }
        op_committed(op, res->txn->revision);
}

int replica_token_put(struct replica *r, const uint8_t hash[static STORE_HASH_SIZE],
                      const struct token_record *rec, replica_done_fn fn, void *userdata) {
        struct write_op *op;
        int q = op_new(r, fn, userdata, &op);
        if (q < 0)
                return q;
        char *key = replica_token_key(r->prefix, hash), *value = replica_token_value(rec);
        op->put_body = put_if_absent(key, value);
        free(key);
        free(value);
        if (!op->put_body || (q = etcd_txn(r->etcd, op->put_body, on_put_done, op, &op->req)) < 0) {
                op->req = NULL;
                op_free(op);
                return q < 0 ? q : -ENOMEM;
        }
        return 0;
}

static int delete_next(struct write_op *op);

static void on_delete_done(const struct etcd_result *res, void *userdata) {
        struct write_op *op = userdata;
        op->req = NULL;
        if (res->status < 0) {
                op_finish(op, res->status, res->error);
                return;
        }
        op->deleted += (uint64_t)res->txn->deleted;
        if (res->txn->deleted > 0 && res->txn->revision > op->wait_revision)
                op->wait_revision = res->txn->revision;
        if (op->next < op->n_hashes) {
                int q = delete_next(op);
                if (q < 0)
                        op_finish(op, q, "cannot send the next deletions");
                return;
        }
        if (op->wait_revision == 0) {
                op_finish(op, 0, NULL);  /* nothing was there: nothing to wait for */
                return;
        }
        op_committed(op, op->wait_revision);
}

static int delete_next(struct write_op *op) {
        struct replica *r = op->r;
        json_t *success = json_array();
        size_t end = op->next + REPLICA_DELETE_BATCH < op->n_hashes ? op->next + REPLICA_DELETE_BATCH : op->n_hashes;
        int q = success ? 0 : -ENOMEM;
        for (size_t i = op->next; q == 0 && i < end; i++) {
                char *key = replica_token_key(r->prefix, op->hashes[i]);
                char *k64 = key ? etcd_b64(key, strlen(key)) : NULL;
                if (!k64 || json_array_append_new(success, json_pack("{s:{s:s}}", "request_delete_range", "key", k64)) < 0)
                        q = -ENOMEM;
                free(key);
                free(k64);
        }
        json_t *txn = q == 0 ? json_pack("{s:o}", "success", success) : (json_decref(success), NULL);
        char *body = txn ? json_dumps(txn, JSON_COMPACT) : NULL;
        json_decref(txn);
        if (!body)
                return -ENOMEM;
        op->next = end;
        q = etcd_txn(r->etcd, body, on_delete_done, op, &op->req);
        free(body);
        if (q < 0)
                op->req = NULL;
        return q;
}

int replica_token_delete(struct replica *r, const uint8_t (*hashes)[STORE_HASH_SIZE], size_t n, replica_done_fn fn,
                         void *userdata) {
        struct write_op *op;
        int q = op_new(r, fn, userdata, &op);
        if (q < 0)
                return q;
        if (n > 0 && !(op->hashes = malloc(n * STORE_HASH_SIZE))) {
                op_free(op);
                return -ENOMEM;
        }
        if (n > 0)
                memcpy(op->hashes, hashes, n * STORE_HASH_SIZE);
        op->n_hashes = n;
        if (n == 0) {
                /* answer from the loop, never before this call returned */
                op_committed(op, r->st.revision > 0 ? r->st.revision : 1);
                return 0;
        }
        if ((q = delete_next(op)) < 0) {
                op_free(op);
                return q;
        }
        return 0;
}

/* ------------------------------------------------------------ lifetime */

static char *concat(const char *a, const char *b) {
        size_t n = strlen(a) + strlen(b) + 1;
        char *s = malloc(n);
        if (s)
                snprintf(s, n, "%s%s", a, b);
        return s;
}

/* The end of the range of keys starting with p: p with its last byte + 1
 * (prefixes end with '/', so no carry). */
static char *range_end(const char *p) {
        char *e = strdup(p);
        if (e && *e)
                e[strlen(e) - 1]++;
        return e;
}

int replica_new(struct loop *loop, struct store *store, const struct config *c, const char *key_fingerprint,
                replica_fatal_fn fatal, void *fatal_userdata, struct replica **ret, char *err, size_t err_size) {
        struct replica *r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->loop = loop;
        r->store = store;
        r->writer = strcmp(c->etcd_role, "writer") == 0;
        r->max_disconnected_sec = c->etcd_max_disconnected_sec;
        r->timeout_usec = (uint64_t)c->etcd_timeout_sec * 1000000u;
        r->uid_min = c->uid_min;
        r->uid_max = c->uid_max;
        r->gid_min = c->gid_min;
        r->gid_max = c->gid_max;
        r->disconnected_since = (int64_t)time(NULL);
        r->fatal = fatal;
        r->fatal_userdata = fatal_userdata;
        int q = etcd_client_new(loop, c, &r->etcd, err, err_size);
        if (q < 0) {
                free(r);
                return q;
        }
        if (!(r->prefix = strdup(c->etcd_prefix)) || !(r->prefix_end = range_end(c->etcd_prefix)) ||
            !(r->tokens = concat(c->etcd_prefix, REPLICA_TOKENS_DIR)) || !(r->tokens_end = range_end(r->tokens)) ||
            !(r->node = strdup(c->etcd_node)) || !(r->fingerprint = strdup(key_fingerprint))) {
                replica_free(r);
                snprintf(err, err_size, "out of memory");
                return -ENOMEM;
        }
        if ((q = store_replica_state_get(store, &r->st)) < 0) {
                snprintf(err, err_size, "cannot read the replica's state: %s", store_last_error(store));
                replica_free(r);
                return q;
        }
        r->need_load = !r->st.complete;
        start_key_check(r);
        heartbeat_schedule(r);
        *ret = r;
        return 0;
}

struct replica *replica_free(struct replica *r) {
        if (!r)
                return NULL;
        while (r->ops)
                op_finish(r->ops, -ECANCELED, "kaasd is stopping");
        while (r->pubs)
                uid_pub_free(r->pubs);
        while (r->jobs)
                migrate_job_finish(r->jobs, -ECANCELED, "kaasd is stopping");
        etcd_cancel(r->uid_sweep_req);
        uid_sweep_reset(r);
        etcd_cancel(r->req);
        etcd_cancel(r->heartbeat);
        etcd_cancel(r->lu_req);
        loop_timer_cancel(r->lu_timer);
        free(r->lu_out);
        loop_timer_cancel(r->retry_timer);
        loop_timer_cancel(r->heartbeat_timer);
        loop_timer_cancel(r->ops_timer);
        load_reset(r);
        etcd_client_free(r->etcd);
        free(r->prefix);
        free(r->prefix_end);
        free(r->tokens);
        free(r->tokens_end);
        free(r->node);
        free(r->fingerprint);
        hash_list_clear(&r->migrate);
        free(r);
        return NULL;
}

bool replica_is_writer(const struct replica *r) {
        return r->writer;
}

int replica_usable(const struct replica *r, int64_t now) {
        if (!r->st.complete)
                return -EAGAIN;
        if (r->max_disconnected_sec == 0)
                return 0;
        /* out of touch since etcd's last answer, also while a call to it
         * hangs and has not failed yet */
        int64_t since = r->disconnected_since ? r->disconnected_since : r->last_contact;
        int64_t limit = r->max_disconnected_sec > REPLICA_STALE_MIN_SEC ? r->max_disconnected_sec : REPLICA_STALE_MIN_SEC;
        if (since > 0 && now - since > limit)
                return -ENOLINK;
        return 0;
}

void replica_get_status(const struct replica *r, struct replica_status *ret) {
        *ret = (struct replica_status){
                .writer = r->writer,
                .node = r->node,
                .endpoint = etcd_client_endpoint(r->etcd),
                .complete = r->st.complete,
                .loading = r->phase == PHASE_LOADING,
                .connected = r->disconnected_since == 0,
                .revision = r->st.revision,
                .etcd_revision = r->etcd_revision > r->st.revision ? r->etcd_revision : r->st.revision,
                .disconnected_since = r->disconnected_since,
                .events_applied = r->events_applied,
                .records_ignored = r->records_ignored,
                .reloads = r->reloads,
                .uid_conflicts = r->uid_conflicts,
                .load_progress = r->n_seen,
        };
}
