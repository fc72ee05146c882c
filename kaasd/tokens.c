/* See tokens.h. */
#include "config.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "token_format.h"
#include "tokens.h"

/* a token's last use is written at most once a minute */
#define TOUCH_INTERVAL_SEC 60
#define TOUCH_FLUSH_USEC (5u * 1000000u)
#define TOUCH_SLOTS 8192u  /* tokens remembered between flushes; power of two */
/* last uses written per transaction: the commit cost as much as a write */
#define TOUCH_BATCH 64u

struct touch_slot {
        uint8_t hash[TOKEN_HASH_SIZE];
        int64_t noted;    /* last use seen */
        int64_t written;  /* last use written to the store */
        bool used;
};

struct token_service {
        struct loop *loop;
        struct store *store;
        struct identity_cache *identities;
        struct token_key key;
        struct touch_slot *touch;
        unsigned touch_used;
        struct loop_timer *touch_timer;
        struct token_stats stats;
        token_gate_fn gate;             /* NULL: the local store is always the answer */
        void *gate_userdata;
        token_touch_fn touched;         /* NULL: last uses stay on this node */
        void *touched_userdata;
        struct token_check *checks;     /* those waiting for their owner's identity */
};

const char *token_verdict_name(enum token_verdict v) {
        static const char *const names[] = { "ok", "invalid", "expired", "user disabled",
                                              "user refused", "unavailable", "failed" };
        return v <= TOKEN_FAILED ? names[v] : "?";
}

/* Writes the noted uses of the slots in batch (n of them) in one transaction. */
static void touch_write(struct token_service *ts, struct touch_slot **batch, size_t n) {
        struct store_touch t[TOUCH_BATCH] = { 0 };
        bool written[TOUCH_BATCH];
        for (size_t i = 0; i < n; i++) {
                memcpy(t[i].hash, batch[i]->hash, TOKEN_HASH_SIZE);
                t[i].last_used = batch[i]->noted;
        }
        int r = store_token_touch_many(ts->store, t, n, written);
        if (r < 0)
                log_warning(0, "recording the last use of %zu tokens failed: %s", n, store_last_error(ts->store));
        for (size_t i = 0; i < n; i++) {
                if (r == 0 && written[i]) {
                        ts->stats.touches_written++;
                        if (ts->touched)
                                ts->touched(ts->touched_userdata, batch[i]->hash, batch[i]->noted);
                }
                batch[i]->written = batch[i]->noted;
        }
        sodium_memzero(t, sizeof(t));
}

static void touch_flush(struct token_service *ts) {
        struct touch_slot *batch[TOUCH_BATCH];
        size_t n = 0;
        for (unsigned i = 0; i < TOUCH_SLOTS; i++) {
                struct touch_slot *s = &ts->touch[i];
                if (!s->used || s->noted == s->written)
                        continue;
                batch[n++] = s;
                if (n == TOUCH_BATCH) {
                        touch_write(ts, batch, n);
                        n = 0;
                }
        }
        if (n > 0)
                touch_write(ts, batch, n);
}

static void on_touch_timer(struct loop_timer *t, void *userdata) {
        struct token_service *ts = userdata;
        ts->touch_timer = NULL;
        touch_flush(ts);
}

void token_service_note_use(struct token_service *ts, const uint8_t hash[static TOKEN_HASH_SIZE], int64_t now) {
        /* the hash is uniformly random: its first bytes index the table */
        uint32_t h;
        memcpy(&h, hash, sizeof(h));
        struct touch_slot *free_slot = NULL;
        for (unsigned probe = 0; probe < 16; probe++) {
                struct touch_slot *s = &ts->touch[(h + probe) & (TOUCH_SLOTS - 1)];
                if (s->used && memcmp(s->hash, hash, TOKEN_HASH_SIZE) == 0) {
                        if (now - s->written >= TOUCH_INTERVAL_SEC)
                                s->noted = now;
                        goto schedule;
                }
                if (!s->used && !free_slot)
                        free_slot = s;
        }
        if (!free_slot) {
                /* a crowded neighbourhood: write everything out and start over */
                touch_flush(ts);
                memset(ts->touch, 0, TOUCH_SLOTS * sizeof(*ts->touch));
                ts->touch_used = 0;
                free_slot = &ts->touch[h & (TOUCH_SLOTS - 1)];
        }
        memcpy(free_slot->hash, hash, TOKEN_HASH_SIZE);
        free_slot->used = true;
        free_slot->noted = now;
        free_slot->written = 0;
        ts->touch_used++;
schedule:
        if (!ts->touch_timer)
                (void)loop_timer_add(ts->loop, loop_now_usec() + TOUCH_FLUSH_USEC, on_touch_timer, ts,
                                     &ts->touch_timer);
}

int token_service_new(struct loop *loop, struct store *store, struct identity_cache *identities,
                      const char *key_path, struct token_service **ret, char *err, size_t err_size) {
        struct token_service *ts = calloc(1, sizeof(*ts));
        if (!ts || !(ts->touch = calloc(TOUCH_SLOTS, sizeof(*ts->touch)))) {
                free(ts);
                snprintf(err, err_size, "out of memory");
                return -ENOMEM;
        }
        ts->loop = loop;
        ts->store = store;
        ts->identities = identities;
        bool any = false;
        int r = store_token_any(store, &any);
        if (r < 0) {
                snprintf(err, err_size, "reading the token store: %s", store_last_error(store));
                token_service_free(ts);
                return r;
        }
        r = token_key_load(key_path, any, &ts->key);
        if (r < 0) {
                snprintf(err, err_size, "token key %s: %s", key_path, token_key_strerror(r));
                token_service_free(ts);
                return r;
        }
        *ret = ts;
        return 0;
}

static void checks_answer_waiting(struct token_service *ts);

struct token_service *token_service_free(struct token_service *ts) {
        if (!ts)
                return NULL;
        checks_answer_waiting(ts);
        if (ts->touch && ts->store)
                touch_flush(ts);
        loop_timer_cancel(ts->touch_timer);
        token_key_clear(&ts->key);
        free(ts->touch);
        free(ts);
        return NULL;
}

int token_service_hash(const struct token_service *ts, const char *token, size_t len,
                       uint8_t ret[static TOKEN_HASH_SIZE]) {
        return token_key_hash(&ts->key, token, len, ret);
}

const struct token_stats *token_service_stats(const struct token_service *ts) {
        return &ts->stats;
}

struct token_stats *token_service_stats_mut(struct token_service *ts) {
        return &ts->stats;
}

/* ---------------------------------------------------------- checking */

struct token_check {
        struct token_service *ts;
        uint8_t hash[TOKEN_HASH_SIZE];
        struct token_record rec;
        token_check_fn fn;
        void *userdata;
        struct identity_waiter *waiter; /* the owner's lookup, while it waits */
        bool in_lookup;                 /* inside identity_lookup(): it may answer at once */
        bool finished;
        bool linked;                    /* in ts->checks */
        struct token_check *prev, *next;
};

static void check_unlink(struct token_check *c) {
        if (!c->linked)
                return;
        c->linked = false;
        if (c->prev)
                c->prev->next = c->next;
        else
                c->ts->checks = c->next;
        if (c->next)
                c->next->prev = c->prev;
}

/* Forgets the check, wiped; freed unless identity_lookup() is still on the stack. */
static void check_free(struct token_check *c) {
        check_unlink(c);
        token_record_free(&c->rec);
        sodium_memzero(c->hash, sizeof(c->hash));
        c->finished = true;
        if (!c->in_lookup)
                free(c);
}

static void check_finish(struct token_check *c, enum token_verdict v, const struct identity *id, const char *error) {
        struct token_service *ts = c->ts;
        check_unlink(c);
        if (v != TOKEN_OK)
                ts->stats.rejected[v]++;
        else
                token_service_note_use(ts, c->hash, (int64_t)time(NULL));
        c->fn(v, c->hash, c->rec.owner_id ? &c->rec : NULL, id, error, c->userdata);
        check_free(c);
}

static void on_owner(int status, const struct identity *id, enum identity_source source, const char *error,
                     void *userdata) {
        struct token_check *c = userdata;
        c->waiter = NULL;
        if (status == -ENOENT)
                return check_finish(c, TOKEN_USER_DISABLED, NULL, "the owner no longer exists in Keystone");
        if (status < 0)
                return check_finish(c, TOKEN_UNAVAILABLE, NULL, error ? error : "identity service unavailable");
        if (!id->enabled)
                return check_finish(c, TOKEN_USER_DISABLED, id, "the owner is disabled in Keystone");
        if (strncmp(id->name, "system:", 7) == 0)
                return check_finish(c, TOKEN_USER_REFUSED, id, "user names starting with system: are reserved");
        check_finish(c, TOKEN_OK, id, NULL);
}

/* The checks still waiting for an owner, answered unavailable: before
 * the identity cache that would answer them goes. */
static void checks_answer_waiting(struct token_service *ts) {
        while (ts->checks) {
                struct token_check *c = ts->checks;
                identity_lookup_cancel(c->waiter);
                c->waiter = NULL;
                check_finish(c, TOKEN_UNAVAILABLE, NULL, "kaasd is shutting down");
        }
}

void token_check_cancel(struct token_check *c) {
        if (!c)
                return;
        identity_lookup_cancel(c->waiter);
        c->waiter = NULL;
        check_free(c);
}

int token_service_check(struct token_service *ts, const char *token, size_t len, uint64_t request_id,
                        token_check_fn fn, void *userdata, struct token_check **ret_check) {
        if (ret_check)
                *ret_check = NULL;      /* before fn can run: its userdata may go with it */
        struct token_check *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->ts = ts;
        c->fn = fn;
        c->userdata = userdata;
        ts->stats.validations++;
        /* typos and foreign tokens stop here, before any lookup */
        if (token_check_format(token, len) < 0) {
                check_finish(c, TOKEN_INVALID, NULL, "not a KaaS token (format or checksum)");
                return 0;
        }
        if (token_service_hash(ts, token, len, c->hash) < 0) {
                check_finish(c, TOKEN_FAILED, NULL, "token key not loaded");
                return 0;
        }
        const char *why = NULL;
        if (ts->gate && ts->gate(ts->gate_userdata, &why) < 0) {
                check_finish(c, TOKEN_UNAVAILABLE, NULL, why);
                return 0;
        }
        ts->stats.store_lookups++;
        int r = store_token_get(ts->store, c->hash, &c->rec);
        if (r == -ENOENT) {
                check_finish(c, TOKEN_INVALID, NULL, "no such token");
                return 0;
        }
        if (r < 0) {
                log_err(request_id, "token lookup failed: %s", store_last_error(ts->store));
                check_finish(c, TOKEN_FAILED, NULL, "token store error");
                return 0;
        }
        if (c->rec.expires <= (int64_t)time(NULL)) {
                check_finish(c, TOKEN_EXPIRED, NULL, "the token has expired");
                return 0;
        }
        /* waiting, it is in ts->checks, so that token_service_free() answers it */
        c->next = ts->checks;
        if (ts->checks)
                ts->checks->prev = c;
        ts->checks = c;
        c->linked = true;
        struct identity_query q = { .user_id = c->rec.owner_id };
        c->in_lookup = true;
        r = identity_lookup(ts->identities, &q, request_id, on_owner, c, &c->waiter);
        c->in_lookup = false;
        if (c->finished) {
                free(c);        /* answered at once */
                return 0;
        }
        if (r < 0) {
                check_finish(c, TOKEN_FAILED, NULL, "identity lookup failed");
                return 0;
        }
        if (ret_check)
                *ret_check = c;
        return 0;
}

void token_service_set_gate(struct token_service *ts, token_gate_fn gate, void *userdata) {
        ts->gate = gate;
        ts->gate_userdata = userdata;
}

void token_service_set_touch_hook(struct token_service *ts, token_touch_fn fn, void *userdata) {
        ts->touched = fn;
        ts->touched_userdata = userdata;
}

/* ------------------------------------------------------ JSON views */

/* Appends s to the array unless already there. */
static int append_unique(json_t *array, const char *s) {
        if (!s)
                return 0;
        size_t i;
        json_t *e;
        json_array_foreach(array, i, e)
                if (strcmp(json_string_value(e), s) == 0)
                        return 0;
        return json_array_append_new(array, json_string(s));
}

/* Sets key (a literal: ASCII, no check needed) to value once nothing has
 * failed (*ok), and clears *ok when this fails. Takes value either way;
 * NULL (out of memory, a string that is not UTF-8) is a failure. */
static void put(bool *ok, json_t *object, const char *key, json_t *value) {
        if (*ok && value)
                *ok = json_object_set_new_nocheck(object, key, value) == 0;
        else {
                *ok = false;
                json_decref(value);
        }
}

/* A one-string array, as json_pack("[s]") made. */
static json_t *one_string(const char *s) {
        json_t *a = json_array();
        if (a && json_array_append_new(a, json_string(s)) < 0) {
                json_decref(a);
                return NULL;
        }
        return a;
}

json_t *token_kube_identity(const struct identity *id) {
        json_t *result = json_object(), *extra = json_object(), *groups = json_array(), *roles = json_array(),
               *project_ids = json_array(), *project_names = json_array();
        bool ok = result && extra && groups && roles && project_ids && project_names;
        for (size_t i = 0; ok && i < id->n_roles; i++)
                ok = append_unique(groups, id->roles[i].id) >= 0 && append_unique(roles, id->roles[i].name) >= 0;
        for (size_t i = 0; ok && i < id->n_projects; i++)
                ok = append_unique(project_ids, id->projects[i].id) >= 0 &&
                     append_unique(project_names, id->projects[i].name) >= 0;
        /* the keys k8s-keystone-auth sends, so existing RBAC and admission
         * rules keep working; built directly rather than by json_pack(),
         * whose format parsing was a tenth of kaasd's own time per Validate */
        put(&ok, result, "username", json_string(id->name));
        put(&ok, result, "uid", json_string(id->user_id));
        put(&ok, result, "groups", groups);
        put(&ok, extra, "alpha.kubernetes.io/identity/roles", roles);
        put(&ok, extra, "alpha.kubernetes.io/identity/project/id", project_ids);
        put(&ok, extra, "alpha.kubernetes.io/identity/project/name", project_names);
        put(&ok, extra, "alpha.kubernetes.io/identity/user/domain/id", one_string(id->domain_id ? id->domain_id : ""));
        put(&ok, extra, "alpha.kubernetes.io/identity/user/domain/name",
            one_string(id->domain_name ? id->domain_name : ""));
        put(&ok, result, "extra", extra);
        if (!ok) {
                json_decref(result);
                return NULL;
        }
        return result;
}

json_t *token_info_json(const struct token_record *rec) {
        json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "id", rec->token_id, "user_id", rec->owner_id,
                              "user_name", rec->owner_name, "domain_id", rec->owner_domain_id ? rec->owner_domain_id : "",
                              "description", rec->description ? rec->description : "", "created",
                              (json_int_t)rec->created, "expires", (json_int_t)rec->expires);
        if (j && rec->last_used > 0 && json_object_set_new(j, "last_used", json_integer(rec->last_used)) < 0) {
                json_decref(j);
                return NULL;
        }
        return j;
}
