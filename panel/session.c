/* See session.h. A chained hash table over the first bytes of the ID's
 * BLAKE2b hash; expired sessions are swept when the table is full and
 * whenever one is met. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"

#define HASH_BYTES crypto_generichash_BYTES  /* 32 */
/* the proof must still be good for the calls of the session's last page */
#define PROOF_MARGIN_SEC 60

struct session {
        struct session *next;
        unsigned char hash[HASH_BYTES];
        time_t created, last_seen, expires;
        char csrf[SESSION_ID_CHARS + 1];
        char user_name[SESSION_NAME_MAX + 1];
        char user_id[SESSION_NAME_MAX + 1];
        char domain_id[SESSION_NAME_MAX + 1];
        char *keystone_token;
        char *new_token;
        size_t cluster;
        uint32_t admin_mask;
};

struct session_table {
        pthread_mutex_t lock;
        struct session **buckets;
        size_t n_buckets;  /* a power of two */
        size_t count;
        unsigned max, max_per_user, idle_sec, lifetime_sec;
        /* the Keystone tokens of sessions that ended by themselves, a ring,
         * oldest at ended_head: they wait here to be revoked */
        char *ended[SESSION_ENDED_MAX];
        size_t ended_head, n_ended, ended_dropped;
};

static void secret_drop(char **s) {
        if (*s) {
                sodium_memzero(*s, strlen(*s));
                free(*s);
                *s = NULL;
        }
}

static void session_free(struct session *s) {
        secret_drop(&s->keystone_token);
        secret_drop(&s->new_token);
        sodium_memzero(s, sizeof(*s));
        free(s);
}

int session_table_new(unsigned max_sessions, unsigned max_per_user, unsigned idle_sec, unsigned lifetime_sec,
                      struct session_table **ret) {
        if (max_sessions == 0 || max_per_user == 0)
                return -EINVAL;
        struct session_table *t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->n_buckets = 64;
        while (t->n_buckets < (size_t)max_sessions)
                t->n_buckets *= 2;
        if (!(t->buckets = calloc(t->n_buckets, sizeof(*t->buckets)))) {
                free(t);
                return -ENOMEM;
        }
        pthread_mutex_init(&t->lock, NULL);
        t->max = max_sessions;
        t->max_per_user = max_per_user;
        t->idle_sec = idle_sec;
        t->lifetime_sec = lifetime_sec;
        *ret = t;
        return 0;
}

struct session_table *session_table_free(struct session_table *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < SESSION_ENDED_MAX; i++)
                secret_drop(&t->ended[i]);
        for (size_t i = 0; i < t->n_buckets; i++)
                while (t->buckets[i]) {
                        struct session *s = t->buckets[i];
                        t->buckets[i] = s->next;
                        session_free(s);
                }
        free(t->buckets);
        pthread_mutex_destroy(&t->lock);
        free(t);
        return NULL;
}

/* The hash of a cookie value; -ENOENT when it is not one of ours. */
static int id_hash(const char *id, unsigned char hash[HASH_BYTES]) {
        unsigned char raw[SESSION_ID_BYTES];
        size_t n = 0;
        if (strlen(id) != SESSION_ID_CHARS ||
            sodium_base642bin(raw, sizeof(raw), id, SESSION_ID_CHARS, NULL, &n, NULL,
                              sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
            n != sizeof(raw))
                return -ENOENT;
        crypto_generichash(hash, HASH_BYTES, raw, sizeof(raw), NULL, 0);
        sodium_memzero(raw, sizeof(raw));
        return 0;
}

static size_t bucket_of(const struct session_table *t, const unsigned char *hash) {
        size_t b;
        memcpy(&b, hash, sizeof(b));
        return b & (t->n_buckets - 1);
}

static bool expired(const struct session_table *t, const struct session *s, time_t now) {
        return now >= s->expires || now - s->last_seen >= (time_t)t->idle_sec;
}

/* Keeps the Keystone token of a session that ended by itself for
 * session_take_ended(); when the ring is full, the oldest token goes
 * unrevoked. Locked. */
static void keep_ended(struct session_table *t, char *keystone_token) {
        if (t->n_ended == SESSION_ENDED_MAX) {
                secret_drop(&t->ended[t->ended_head]);
                t->ended_head = (t->ended_head + 1) % SESSION_ENDED_MAX;
                t->n_ended--;
                t->ended_dropped++;
        }
        t->ended[(t->ended_head + t->n_ended) % SESSION_ENDED_MAX] = keystone_token;
        t->n_ended++;
}

/* Ends the session *pp points at. One that ended by itself (idle, at its
 * expiry, pushed out) keeps its Keystone token for revocation; one ended
 * by session_end() does not: its caller deals with the token. Locked. */
static void unlink_at(struct session_table *t, struct session **pp, bool by_itself) {
        struct session *s = *pp;
        *pp = s->next;
        t->count--;
        if (by_itself && s->keystone_token) {
                keep_ended(t, s->keystone_token);
                s->keystone_token = NULL;
        }
        session_free(s);
}

/* The link pointing at the session of hash, or NULL. Locked. */
static struct session **find(struct session_table *t, const unsigned char *hash) {
        for (struct session **pp = &t->buckets[bucket_of(t, hash)]; *pp; pp = &(*pp)->next)
                if (sodium_memcmp((*pp)->hash, hash, HASH_BYTES) == 0)
                        return pp;
        return NULL;
}

/* Ends the expired sessions. Locked. */
static void sweep_locked(struct session_table *t, time_t now) {
        for (size_t i = 0; i < t->n_buckets; i++)
                for (struct session **pp = &t->buckets[i]; *pp;) {
                        if (expired(t, *pp, now)) {
                                unlink_at(t, pp, true);
                                continue;
                        }
                        pp = &(*pp)->next;
                }
}

void session_sweep(struct session_table *t, time_t now) {
        pthread_mutex_lock(&t->lock);
        sweep_locked(t, now);
        pthread_mutex_unlock(&t->lock);
}

/* Room for one more: expired sessions go; a live one never goes for
 * another user's login. Locked. */
static int make_room(struct session_table *t, time_t now) {
        if (t->count < t->max)
                return 0;
        sweep_locked(t, now);
        return t->count < t->max ? 0 : -EBUSY;
}

/* Room for one more session of user_id: with max_per_user of them live,
 * the one used least recently ends (expired ones met on the way end
 * too), so that one account cannot fill the table and lock everyone else
 * out of logging in. Whether a live one ended. Locked. */
static bool make_user_room(struct session_table *t, const char *user_id, time_t now) {
        struct session **lru = NULL;
        unsigned n = 0;
        for (size_t i = 0; i < t->n_buckets; i++)
                for (struct session **pp = &t->buckets[i]; *pp;) {
                        struct session *s = *pp;
                        if (strcmp(s->user_id, user_id) != 0) {
                                pp = &s->next;
                                continue;
                        }
                        if (expired(t, s, now)) {
                                /* lru holds an earlier link of the walk: it stays valid */
                                unlink_at(t, pp, true);
                                continue;
                        }
                        n++;
                        if (!lru || s->last_seen < (*lru)->last_seen)
                                lru = pp;
                        pp = &s->next;
                }
        if (n < t->max_per_user || !lru)
                return false;
        unlink_at(t, lru, true);
        return true;
}

static void random_string(char *out) {
        unsigned char raw[SESSION_ID_BYTES];
        randombytes_buf(raw, sizeof(raw));
        sodium_bin2base64(out, SESSION_ID_CHARS + 1, raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        sodium_memzero(raw, sizeof(raw));
}

int session_create(struct session_table *t, const struct session_login *login, time_t now, char *ret_id) {
        struct session *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->created = s->last_seen = now;
        s->expires = now + (time_t)t->lifetime_sec;
        random_string(s->csrf);
        if (login->proof_expires - PROOF_MARGIN_SEC < (int64_t)s->expires)
                s->expires = (time_t)(login->proof_expires - PROOF_MARGIN_SEC);
        snprintf(s->user_name, sizeof(s->user_name), "%s", login->user_name);
        snprintf(s->user_id, sizeof(s->user_id), "%s", login->user_id);
        snprintf(s->domain_id, sizeof(s->domain_id), "%s", login->domain_id ? login->domain_id : "");
        s->admin_mask = login->admin_mask;
        if (!(s->keystone_token = strdup(login->keystone_token))) {
                session_free(s);
                return -ENOMEM;
        }
        char id[SESSION_ID_CHARS + 1];
        pthread_mutex_lock(&t->lock);
        bool ended = make_user_room(t, s->user_id, now);
        int r = make_room(t, now);
        if (r == 0) {
                /* 256 random bits do not collide; a retry costs nothing */
                do {
                        random_string(id);
                        (void)id_hash(id, s->hash);
                } while (find(t, s->hash));
                size_t b = bucket_of(t, s->hash);
                s->next = t->buckets[b];
                t->buckets[b] = s;
                t->count++;
        }
        pthread_mutex_unlock(&t->lock);
        if (r < 0) {
                session_free(s);
                return r;
        }
        memcpy(ret_id, id, sizeof(id));
        sodium_memzero(id, sizeof(id));
        return ended ? 1 : 0;
}

/* The live session of id, locked; NULL when none (an expired one ends). */
static struct session *get_locked(struct session_table *t, const char *id, time_t now) {
        unsigned char hash[HASH_BYTES];
        if (id_hash(id, hash) < 0)
                return NULL;
        struct session **pp = find(t, hash);
        if (!pp)
                return NULL;
        if (expired(t, *pp, now)) {
                unlink_at(t, pp, true);
                return NULL;
        }
        return *pp;
}

int session_lookup(struct session_table *t, const char *id, time_t now, struct session_view *ret) {
        memset(ret, 0, sizeof(*ret));
        int r = 0;
        pthread_mutex_lock(&t->lock);
        struct session *s = get_locked(t, id, now);
        if (!s) {
                r = -ENOENT;
        } else {
                s->last_seen = now;
                memcpy(ret->csrf, s->csrf, sizeof(ret->csrf));
                memcpy(ret->user_name, s->user_name, sizeof(ret->user_name));
                memcpy(ret->user_id, s->user_id, sizeof(ret->user_id));
                memcpy(ret->domain_id, s->domain_id, sizeof(ret->domain_id));
                ret->cluster = s->cluster;
                ret->admin_mask = s->admin_mask;
                ret->has_new_token = s->new_token != NULL;
                if (s->keystone_token && !(ret->keystone_token = strdup(s->keystone_token)))
                        r = -ENOMEM;
        }
        pthread_mutex_unlock(&t->lock);
        if (r < 0)
                session_view_clear(ret);
        return r;
}

void session_end(struct session_table *t, const char *id) {
        unsigned char hash[HASH_BYTES];
        if (id_hash(id, hash) < 0)
                return;
        pthread_mutex_lock(&t->lock);
        struct session **pp = find(t, hash);
        if (pp)
                unlink_at(t, pp, false);
        pthread_mutex_unlock(&t->lock);
}

int session_set_cluster(struct session_table *t, const char *id, size_t cluster, uint32_t admin_mask) {
        pthread_mutex_lock(&t->lock);
        struct session *s = get_locked(t, id, time(NULL));
        if (s) {
                s->cluster = cluster;
                s->admin_mask = admin_mask;
        }
        pthread_mutex_unlock(&t->lock);
        return s ? 0 : -ENOENT;
}

int session_put_new_token(struct session_table *t, const char *id, const char *token) {
        char *copy = strdup(token);
        if (!copy)
                return -ENOMEM;
        pthread_mutex_lock(&t->lock);
        struct session *s = get_locked(t, id, time(NULL));
        if (s) {
                secret_drop(&s->new_token);
                s->new_token = copy;
                copy = NULL;
        }
        pthread_mutex_unlock(&t->lock);
        secret_drop(&copy);
        return s ? 0 : -ENOENT;
}

int session_take_new_token(struct session_table *t, const char *id, char **ret_token) {
        char *tok = NULL;
        pthread_mutex_lock(&t->lock);
        struct session *s = get_locked(t, id, time(NULL));
        if (s) {
                tok = s->new_token;
                s->new_token = NULL;
        }
        pthread_mutex_unlock(&t->lock);
        if (!tok)
                return -ENOENT;
        *ret_token = tok;
        return 0;
}

bool session_csrf_ok(const struct session_view *v, const char *csrf) {
        return csrf && strlen(csrf) == SESSION_ID_CHARS && strlen(v->csrf) == SESSION_ID_CHARS &&
               sodium_memcmp(v->csrf, csrf, SESSION_ID_CHARS) == 0;
}

void session_view_clear(struct session_view *v) {
        secret_drop(&v->keystone_token);
        sodium_memzero(v, sizeof(*v));
}

void session_keep_ended(struct session_table *t, char *keystone_token) {
        pthread_mutex_lock(&t->lock);
        if (t->n_ended == SESSION_ENDED_MAX) {
                /* it was the oldest: it goes rather than a newer one */
                secret_drop(&keystone_token);
                t->ended_dropped++;
        } else {
                t->ended_head = (t->ended_head + SESSION_ENDED_MAX - 1) % SESSION_ENDED_MAX;
                t->ended[t->ended_head] = keystone_token;
                t->n_ended++;
        }
        pthread_mutex_unlock(&t->lock);
}

size_t session_ended_count(struct session_table *t) {
        pthread_mutex_lock(&t->lock);
        size_t n = t->n_ended;
        pthread_mutex_unlock(&t->lock);
        return n;
}

size_t session_take_ended(struct session_table *t, char **ret, size_t max, size_t *ret_dropped) {
        size_t n = 0;
        pthread_mutex_lock(&t->lock);
        while (n < max && t->n_ended > 0) {
                ret[n++] = t->ended[t->ended_head];
                t->ended[t->ended_head] = NULL;
                t->ended_head = (t->ended_head + 1) % SESSION_ENDED_MAX;
                t->n_ended--;
        }
        *ret_dropped = t->ended_dropped;
        t->ended_dropped = 0;
        pthread_mutex_unlock(&t->lock);
        return n;
}

size_t session_count(struct session_table *t) {
        pthread_mutex_lock(&t->lock);
        size_t n = t->count;
        pthread_mutex_unlock(&t->lock);
        return n;
}
