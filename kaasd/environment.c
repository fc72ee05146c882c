/* kaasd in an environment with a shared token store; see environment.h. */
#include "config.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "environment.h"
#include "log.h"
#include "replica.h"
#include "server.h"
#include "token_format.h"
#include "tokens.h"

static int gate(void *userdata, const char **ret_reason) {
        int r = replica_usable(userdata, (int64_t)time(NULL));
        if (r == -EAGAIN)
                *ret_reason = "the token store replica is still loading";
        else if (r < 0)
                *ret_reason = "out of touch with the environment's token store for longer than max_disconnected";
        return r;
}

/* A last use written here: shared with the other nodes in batches. */
static void touched(void *userdata, const uint8_t hash[TOKEN_HASH_SIZE], int64_t last_used) {
        replica_last_used(userdata, hash, last_used);
}

static void fatal(void *userdata, const char *msg) {
        struct daemon *d = userdata;
        log_err(0, "%s", msg);
        fprintf(stderr, "kaasd: %s\n", msg);
        loop_quit(d->loop, 1);
}

/* The keyed hash of a fixed text that is no token: the key's fingerprint,
 * from which the key cannot be learnt. */
static int key_fingerprint(struct daemon *d, char ret[static 33]) {
        static const char text[] = "kaas token hashing key fingerprint v1";
        uint8_t h[TOKEN_HASH_SIZE];
        int r = token_service_hash(d->tokens, text, sizeof(text) - 1, h);
        if (r == 0)
                sodium_bin2hex(ret, 33, h, 16);
        sodium_memzero(h, sizeof(h));
        return r;
}

int environment_start(struct daemon *d, char *err, size_t err_size) {
        if (!d->config->etcd_endpoints)
                return 0;
        char fp[33];
        int r = key_fingerprint(d, fp);
        if (r < 0) {
                snprintf(err, err_size, "the token hashing key is not loaded");
                return r;
        }
        r = replica_new(d->loop, d->store, d->config, fp, fatal, d, &d->replica, err, err_size);
        if (r < 0)
                return r;
        token_service_set_gate(d->tokens, gate, d->replica);
        token_service_set_touch_hook(d->tokens, touched, d->replica);
        log_notice(0, "token store: replica of etcd %s under %s, as a %s (node %s)", d->config->etcd_endpoints,
                   d->config->etcd_prefix, d->config->etcd_role, d->config->etcd_node);
        return 0;
}

void environment_stop(struct daemon *d) {
        if (d->tokens) {
                token_service_set_gate(d->tokens, NULL, NULL);
                token_service_set_touch_hook(d->tokens, NULL, NULL);
        }
        d->replica = replica_free(d->replica);
}

bool environment_enabled(const struct daemon *d) {
        return d->replica != NULL;
}

bool environment_refuse_write(struct daemon *d, struct call *call) {
        if (!d->replica || replica_is_writer(d->replica))
                return false;
        call_error_reason(call, "io.kaas.Token.ReadOnly",
                          "this node only reads the environment's token store: tokens are created and deleted on "
                          "the writer hosts (the control panel or an admin host)");
        return true;
}

/* The error a failed write answers. */
static void reply_store_error(struct call *call, int status, const char *error) {
        char why[600];
        snprintf(why, sizeof(why), "the environment's token store: %s", error ? error : strerror(-status));
        if (status == -EEXIST || status == -ENOMEM || status == -EINVAL)
                call_error_reason(call, "io.kaas.InternalError", why);
        else
                call_error_reason(call, "io.kaas.StoreUnavailable", why);
}

/* ------------------------------------------------------------ Create */

struct pending_create {
        struct daemon *d;
        struct call *call;
        char token[TOKEN_STRING_SIZE];          /* secret: wiped */
        char token_id[TOKEN_ID_STRING_SIZE];
        char *user_id, *user_name;
        int64_t expires;
};

static void pending_create_free(struct pending_create *p) {
        sodium_memzero(p->token, sizeof(p->token));
        call_unref(p->call);
        free(p->user_id);
        free(p->user_name);
        free(p);
}

static void on_created(int status, uint64_t n, const char *error, void *userdata) {
        struct pending_create *p = userdata;
        if (status < 0) {
                log_err(call_id(p->call), "storing a new token in etcd failed: %s", error ? error : strerror(-status));
                reply_store_error(p->call, status, error);
                pending_create_free(p);
                return;
        }
        token_service_stats_mut(p->d->tokens)->created++;
        log_audit(call_id(p->call), "token created: token_id=%s user=%s user_id=%s expires=%lld, in the environment",
                  p->token_id, p->user_name, p->user_id, (long long)p->expires);
        json_t *reply = json_pack("{s:s, s:s, s:s, s:s, s:I}", "token", p->token, "id", p->token_id, "user_id",
                                  p->user_id, "user_name", p->user_name, "expires", (json_int_t)p->expires);
        if (reply)
                call_reply(p->call, reply);  /* the server wipes the reply once sent */
        else
                call_error_reason(p->call, "io.kaas.InternalError", "out of memory");
        pending_create_free(p);
}

void environment_token_create(struct daemon *d, struct call *call, const struct token_record *rec,
                              const struct identity *id) {
        struct pending_create *p = calloc(1, sizeof(*p));
        if (!p || !(p->user_id = strdup(id->user_id)) || !(p->user_name = strdup(id->name))) {
                if (p)
                        free(p->user_id);
                free(p);
                call_error_reason(call, "io.kaas.InternalError", "out of memory");
                return;
        }
        p->d = d;
        p->call = call_ref(call);
        p->expires = rec->expires;
        struct token_record r = *rec;
        uint8_t hash[TOKEN_HASH_SIZE];
        int q = -EIO;
        if (token_generate(p->token) == 0 && token_id_generate(r.token_id) == 0 &&
            token_service_hash(d->tokens, p->token, TOKEN_LENGTH, hash) == 0) {
                memcpy(p->token_id, r.token_id, sizeof(p->token_id));
                q = replica_token_put(d->replica, hash, &r, on_created, p);
        }
        sodium_memzero(hash, sizeof(hash));
        if (q < 0) {
                reply_store_error(call, q, NULL);
                pending_create_free(p);
        }
}

/* ------------------------------------------------------------ Delete, RevokeUser */

struct pending_delete {
        struct daemon *d;
        struct call *call;
        json_t *ids;            /* Delete: the IDs to report; NULL for RevokeUser */
        char *what;             /* for the audit line */
        uint8_t (*hashes)[STORE_HASH_SIZE];
        size_t n, cap;
};

static void pending_delete_free(struct pending_delete *p) {
        call_unref(p->call);
        json_decref(p->ids);
        free(p->what);
        free(p->hashes);
        free(p);
}

static int add_hash(struct pending_delete *p, const uint8_t hash[STORE_HASH_SIZE]) {
        if (p->n == p->cap) {
                size_t cap = p->cap ? p->cap * 2 : 16;
                void *q = realloc(p->hashes, cap * STORE_HASH_SIZE);
                if (!q)
                        return -ENOMEM;
                p->hashes = q;
                p->cap = cap;
        }
        memcpy(p->hashes[p->n++], hash, STORE_HASH_SIZE);
        return 0;
}

static void on_deleted(int status, uint64_t n, const char *error, void *userdata) {
        struct pending_delete *p = userdata;
        if (status < 0) {
                log_err(call_id(p->call), "deleting tokens in etcd failed: %s", error ? error : strerror(-status));
                reply_store_error(p->call, status, error);
                pending_delete_free(p);
                return;
        }
        token_service_stats_mut(p->d->tokens)->deleted += n;
        log_audit(call_id(p->call), "tokens deleted in the environment: %s count=%llu", p->what, (unsigned long long)n);
        if (p->ids)
                call_reply(p->call, json_pack("{s:O}", "deleted", p->ids));
        else
                call_reply(p->call, json_pack("{s:I}", "deleted", (json_int_t)n));
        pending_delete_free(p);
}

static struct pending_delete *pending_delete_new(struct daemon *d, struct call *call, const char *what) {
        struct pending_delete *p = calloc(1, sizeof(*p));
        if (!p || !(p->what = strdup(what))) {
                free(p);
                return NULL;
        }
        p->d = d;
        p->call = call_ref(call);
        return p;
}

static void pending_delete_send(struct pending_delete *p) {
        int q = replica_token_delete(p->d->replica, (const uint8_t(*)[STORE_HASH_SIZE])p->hashes, p->n, on_deleted, p);
        if (q < 0) {
                reply_store_error(p->call, q, NULL);
                pending_delete_free(p);
        }
}

void environment_token_delete(struct daemon *d, struct call *call, json_t *ids, const char *actor) {
        char what[128];
        snprintf(what, sizeof(what), "by %s", actor);
        struct pending_delete *p = pending_delete_new(d, call, what);
        if (!p || !(p->ids = json_array())) {
                if (p)
                        pending_delete_free(p);
                call_error_reason(call, "io.kaas.InternalError", "out of memory");
                return;
        }
        size_t i;
        json_t *v;
        json_array_foreach(ids, i, v) {
                const char *tid = json_string_value(v);
                uint8_t hash[STORE_HASH_SIZE];
                struct token_record rec = { 0 };
                int r = store_token_get_by_id(d->store, tid, hash, &rec);
                token_record_free(&rec);
                if (r == -ENOENT)
                        continue;  /* gone since it was checked */
                if (r < 0 || add_hash(p, hash) < 0 || json_array_append(p->ids, v) < 0) {
                        call_error_reason(call, "io.kaas.InternalError", "token store error");
                        pending_delete_free(p);
                        return;
                }
        }
        pending_delete_send(p);
}

static int collect_cb(const uint8_t hash[STORE_HASH_SIZE], const struct token_record *rec, void *userdata) {
        return add_hash(userdata, hash);
}

void environment_token_revoke(struct daemon *d, struct call *call, const char *user_id) {
        char what[128];
        snprintf(what, sizeof(what), "user_id=%s", user_id);
        struct pending_delete *p = pending_delete_new(d, call, what);
        if (!p) {
                call_error_reason(call, "io.kaas.InternalError", "out of memory");
                return;
        }
        if (store_token_list_by_owner(d->store, user_id, collect_cb, p) < 0) {
                call_error_reason(call, "io.kaas.InternalError", "token store error");
                pending_delete_free(p);
                return;
        }
        pending_delete_send(p);
}

/* ------------------------------------------------------------ MigrateStore */

static void on_migrated(int status, uint64_t moved, uint64_t present, const char *error, void *userdata) {
        struct call *call = userdata;
        if (status < 0) {
                log_err(call_id(call), "moving the local store into etcd failed after %llu tokens: %s",
                        (unsigned long long)(moved + present), error ? error : strerror(-status));
                reply_store_error(call, status, error);
        } else {
                log_audit(call_id(call), "local store moved into etcd on request of uid %u: moved=%llu present=%llu",
                          (unsigned)call_peer(call)->uid, (unsigned long long)moved, (unsigned long long)present);
                call_reply(call, json_pack("{s:I, s:I}", "moved", (json_int_t)moved, "present", (json_int_t)present));
        }
        call_unref(call);
}

void environment_store_migrate(struct daemon *d, struct call *call) {
        if (!d->replica) {
                call_error_reason(call, "io.kaas.Admin.StoreError",
                                  "this kaasd is standalone: add an [etcd] section (docs/environment.md) first");
                return;
        }
        if (!replica_is_writer(d->replica)) {
                call_error_reason(call, "io.kaas.Admin.StoreError",
                                  "this node only reads the environment's token store: move a store into etcd on a "
                                  "writer host (the control panel or an admin host)");
                return;
        }
        int q = replica_migrate(d->replica, on_migrated, call_ref(call));
        if (q < 0) {
                reply_store_error(call, q, NULL);
                call_unref(call);
        }
}

/* ------------------------------------------------------------ Status */

void environment_uid_assigned(struct daemon *d, const char *key, uint32_t id) {
        if (d->replica && replica_uid_publish(d->replica, key, id) < 0)
                log_err(0, "etcd: out of memory: the uid map entry of %s is not shared", key);
}

json_t *environment_status(struct daemon *d) {
        if (!d->replica)
                return NULL;
        struct replica_status s;
        replica_get_status(d->replica, &s);
        json_t *j = json_pack("{s:s, s:s, s:s, s:b, s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:I}", "role",
                              s.writer ? "writer" : "reader", "node", s.node, "endpoint", s.endpoint, "complete",
                              s.complete, "loading", s.loading, "connected", s.connected, "revision",
                              (json_int_t)s.revision, "lag", (json_int_t)(s.etcd_revision - s.revision),
                              "max_disconnected", (json_int_t)d->config->etcd_max_disconnected_sec, "events_applied",
                              (json_int_t)s.events_applied, "records_ignored", (json_int_t)s.records_ignored,
                              "reloads", (json_int_t)s.reloads);
        if (j)
                json_object_set_new(j, "uid_conflicts", json_integer((json_int_t)s.uid_conflicts));
        if (j && s.loading)
                json_object_set_new(j, "load_progress", json_integer((json_int_t)s.load_progress));
        if (j && s.disconnected_since > 0)
                json_object_set_new(j, "disconnected_since", json_integer(s.disconnected_since));
        return j;
}
