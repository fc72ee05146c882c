/* Role groups' io.kaas.Nss replies, built in slices and kept; see
 * group_reply.h. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "group_reply.h"
#include "varlink_frame.h"

#define N_BUCKETS 256u

struct group_reply_cache {
        struct group_reply *buckets[N_BUCKETS];
        struct group_reply *head, *tail;        /* most recently used first */
        size_t bytes, count, max_bytes;
};

struct group_reply_build {
        char key[MEMBERSHIP_KEY_SIZE];
        struct group_reply_stamp stamp;
        struct vl_writer *w;
        size_t next;                    /* the role's member to write next */
        size_t n_members;               /* written */
        size_t member_bytes;            /* theirs, each with a NUL */
        bool done;
};

struct group_reply *group_reply_ref(struct group_reply *r) {
        r->refs++;
        return r;
}

struct group_reply *group_reply_unref(struct group_reply *r) {
        if (r && --r->refs == 0) {
                free(r->message);
                free(r);
        }
        return NULL;
}

static bool stamp_equal(const struct group_reply_stamp *a, const struct group_reply_stamp *b) {
        return a->epoch == b->epoch && a->version == b->version && a->local == b->local && a->gid == b->gid &&
               a->max_members == b->max_members;
}

/* ------------------------------------------------------------ cache */

static unsigned bucket_of(const char *key) {
        uint32_t h = 2166136261u;
        for (const unsigned char *p = (const unsigned char *)key; *p; p++)
                h = (h ^ *p) * 16777619u;
        return h % N_BUCKETS;
}

int group_reply_cache_new(size_t max_bytes, struct group_reply_cache **ret) {
        struct group_reply_cache *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->max_bytes = max_bytes;
        *ret = c;
        return 0;
}

static void cache_unlink(struct group_reply_cache *c, struct group_reply *r) {
        for (struct group_reply **pp = &c->buckets[bucket_of(r->key)]; *pp; pp = &(*pp)->hash_next)
                if (*pp == r) {
                        *pp = r->hash_next;
                        break;
                }
        if (r->prev)
                r->prev->next = r->next;
        else
                c->head = r->next;
        if (r->next)
                r->next->prev = r->prev;
        else
                c->tail = r->prev;
        r->prev = r->next = r->hash_next = NULL;
        c->bytes -= r->len;
        c->count--;
}

static void cache_drop(struct group_reply_cache *c, struct group_reply *r) {
        cache_unlink(c, r);
        group_reply_unref(r);
}

static void cache_fit(struct group_reply_cache *c) {
        while (c->tail && c->bytes > c->max_bytes)
                cache_drop(c, c->tail);
}

void group_reply_cache_clear(struct group_reply_cache *c) {
        while (c->head)
                cache_drop(c, c->head);
}

struct group_reply_cache *group_reply_cache_free(struct group_reply_cache *c) {
        if (c) {
                group_reply_cache_clear(c);
                free(c);
        }
        return NULL;
}

void group_reply_cache_set_max(struct group_reply_cache *c, size_t max_bytes) {
        c->max_bytes = max_bytes;
        cache_fit(c);
}

static struct group_reply *cache_find(const struct group_reply_cache *c, const char *key) {
        struct group_reply *r = c->buckets[bucket_of(key)];
        while (r && strcmp(r->key, key) != 0)
                r = r->hash_next;
        return r;
}

static void cache_link_first(struct group_reply_cache *c, struct group_reply *r) {
        r->prev = NULL;
        r->next = c->head;
        if (c->head)
                c->head->prev = r;
        else
                c->tail = r;
        c->head = r;
}

struct group_reply *group_reply_cache_get(struct group_reply_cache *c, const char *key,
                                          const struct group_reply_stamp *stamp) {
        struct group_reply *r = cache_find(c, key);
        if (!r)
                return NULL;
        if (!stamp_equal(&r->stamp, stamp)) {
                cache_drop(c, r);  /* made from what is no more: never right again */
                return NULL;
        }
        if (r != c->head) {
                r->prev->next = r->next;
                if (r->next)
                        r->next->prev = r->prev;
                else
                        c->tail = r->prev;
                cache_link_first(c, r);
        }
        return r;
}

void group_reply_cache_put(struct group_reply_cache *c, struct group_reply *r) {
        struct group_reply *old = cache_find(c, r->key);
        if (old)
                cache_drop(c, old);
        if (r->len > c->max_bytes) {
                group_reply_unref(r);
                return;
        }
        unsigned b = bucket_of(r->key);
        r->hash_next = c->buckets[b];
        c->buckets[b] = r;
        cache_link_first(c, r);
        c->bytes += r->len;
        c->count++;
        cache_fit(c);
}

size_t group_reply_cache_bytes(const struct group_reply_cache *c) {
        return c->bytes;
}

size_t group_reply_cache_count(const struct group_reply_cache *c) {
        return c->count;
}

/* ------------------------------------------------------------ building */

int group_reply_build_new(const struct membership_role *role, const struct group_reply_stamp *stamp,
                          size_t max_size, struct group_reply_build **ret) {
        if (!role->gname)
                return -EINVAL;
        struct group_reply_build *b = calloc(1, sizeof(*b));
        if (!b)
                return -ENOMEM;
        memcpy(b->key, role->key, sizeof(b->key));
        b->stamp = *stamp;
        static const char head[] = "{\"parameters\":{\"group\":{\"name\":";
        char gid[48];
        snprintf(gid, sizeof(gid), ",\"gid\":%" PRIu32 ",\"members\":[", stamp->gid);
        int r = vl_writer_new(max_size, &b->w);
        if (r == 0 && (r = vl_writer_append(b->w, head, sizeof(head) - 1)) == 0 &&
            (r = vl_writer_append_string(b->w, role->gname)) == 0)
                r = vl_writer_append(b->w, gid, strlen(gid));
        if (r < 0) {
                group_reply_build_free(b);
                return r == -ENOBUFS ? -E2BIG : r;
        }
        *ret = b;
        return 0;
}

struct group_reply_build *group_reply_build_free(struct group_reply_build *b) {
        if (b) {
                vl_writer_free(b->w);
                free(b);
        }
        return NULL;
}

bool group_reply_build_current(const struct group_reply_build *b, const struct membership_role *role) {
        return role && role->version == b->stamp.version && strcmp(role->key, b->key) == 0;
}

int group_reply_build_step(struct group_reply_build *b, const struct membership_role *role, size_t slice,
                           group_reply_skip_fn skip, void *userdata) {
        size_t want = role->n_members;
        if (want > b->stamp.max_members)
                want = b->stamp.max_members;
        int r = 0;
        for (size_t done = 0; b->next < role->n_members && b->n_members < want && done < slice; done++) {
                const char *member = membership_role_member(role, b->next++);
                if (skip && skip(member, userdata))
                        continue;
                if ((b->n_members > 0 && (r = vl_writer_append(b->w, ",", 1)) < 0) ||
                    (r = vl_writer_append_string(b->w, member)) < 0)
                        return r == -ENOBUFS ? -E2BIG : r;
                b->n_members++;
                b->member_bytes += strlen(member) + 1;
        }
        if (b->next < role->n_members && b->n_members < want)
                return 0;
        static const char tail[] = "]}}}";  /* and the NUL that ends a message */
        if ((r = vl_writer_append(b->w, tail, sizeof(tail))) < 0)
                return r == -ENOBUFS ? -E2BIG : r;
        b->done = true;
        return 1;
}

int group_reply_build_finish(struct group_reply_build *b, struct group_reply **ret) {
        if (!b->done)
                return -EINPROGRESS;
        size_t len;
        const char *data = vl_writer_data(b->w, &len);
        struct group_reply *r = calloc(1, sizeof(*r));
        if (!r || !(r->message = malloc(len))) {
                free(r);
                return -ENOMEM;
        }
        memcpy(r->message, data, len);
        r->refs = 1;
        r->len = len;
        memcpy(r->key, b->key, sizeof(r->key));
        r->stamp = b->stamp;
        r->n_members = b->n_members;
        r->member_bytes = b->member_bytes;
        vl_writer_consume(b->w, len);
        b->done = false;
        *ret = r;
        return 0;
}

const char *group_reply_build_key(const struct group_reply_build *b) {
        return b->key;
}

const struct group_reply_stamp *group_reply_build_stamp(const struct group_reply_build *b) {
        return &b->stamp;
}
