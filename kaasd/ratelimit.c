/* See ratelimit.h. A small open table scanned linearly: capacity is a few
 * thousand keys and lookups happen only on authentication attempts. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"

struct entry {
        char key[RATELIMIT_KEY_MAX];
        unsigned failures;
        int64_t last_failure;
        int64_t blocked_until;
        unsigned outstanding;  /* attempts begun and not ended */
        bool used;
};

struct ratelimit {
        struct ratelimit_params p;
        struct entry *entries;
        uint64_t refused;
};

int ratelimit_new(const struct ratelimit_params *p, struct ratelimit **ret) {
        struct ratelimit *rl = calloc(1, sizeof(*rl));
        if (!rl)
                return -ENOMEM;
        rl->p = *p;
        if (rl->p.capacity == 0)
                rl->p.capacity = 1024;
        rl->entries = calloc(rl->p.capacity, sizeof(*rl->entries));
        if (!rl->entries) {
                free(rl);
                return -ENOMEM;
        }
        *ret = rl;
        return 0;
}

struct ratelimit *ratelimit_free(struct ratelimit *rl) {
        if (rl) {
                free(rl->entries);
                free(rl);
        }
        return NULL;
}

static struct entry *find(struct ratelimit *rl, const char *key) {
        for (unsigned i = 0; i < rl->p.capacity; i++)
                if (rl->entries[i].used && strcmp(rl->entries[i].key, key) == 0)
                        return &rl->entries[i];
        return NULL;
}

/* Whether a may be forgotten before b. A blocked key goes last, the one
 * blocked the shortest first: forgetting it would lift its block, and
 * filling the table with names nobody has is cheap. Among the others the
 * one with the fewest failures goes first, then the one idle the longest,
 * so that a key one attempt short of its block outlives a crowd of names
 * tried once. */
static bool forget_before(const struct entry *a, const struct entry *b, int64_t now) {
        bool a_blocked = a->blocked_until > now, b_blocked = b->blocked_until > now;
        if (a_blocked != b_blocked)
                return !a_blocked;
        if (a_blocked)
                return a->blocked_until < b->blocked_until;
        if (a->failures != b->failures)
                return a->failures < b->failures;
        return a->last_failure < b->last_failure;
}

/* A free slot, else the entry forget_before() puts first that has no
 * attempt outstanding; NULL when every entry has one. */
static struct entry *make(struct ratelimit *rl, const char *key, int64_t now) {
        struct entry *e = NULL, *victim = NULL;
        for (unsigned i = 0; i < rl->p.capacity && !e; i++) {
                struct entry *x = &rl->entries[i];
                if (!x->used)
                        e = x;
                else if (x->outstanding == 0 && (!victim || forget_before(x, victim, now)))
                        victim = x;
        }
        if (!e)
                e = victim;
        if (!e)
                return NULL;
        memset(e, 0, sizeof(*e));
        e->used = true;
        snprintf(e->key, sizeof(e->key), "%s", key);
        return e;
}

/* The delay after the key's latest counted failure. */
static void update_block(struct ratelimit *rl, struct entry *e) {
        e->blocked_until = 0;
        if (e->failures < rl->p.free_failures || e->failures == 0)
                return;
        unsigned n = e->failures - rl->p.free_failures;
        uint64_t delay = (uint64_t)rl->p.base_delay_sec << (n > 20 ? 20 : n);
        if (delay > rl->p.max_delay_sec)
                delay = rl->p.max_delay_sec;
        e->blocked_until = e->last_failure + (int64_t)delay;
}

int ratelimit_begin(struct ratelimit *rl, const char *key, int64_t now, unsigned flags, unsigned *ret_wait) {
        struct entry *e = find(rl, key);
        if (e && e->outstanding > 0 && (flags & RATELIMIT_EXCLUSIVE)) {
                rl->refused++;
                *ret_wait = 1;
                return -EBUSY;
        }
        if (e && e->blocked_until > now) {
                rl->refused++;
                *ret_wait = (unsigned)(e->blocked_until - now);
                return -EBUSY;
        }
        if (!e && !(e = make(rl, key, now))) {
                rl->refused++;
                *ret_wait = 1;
                return -ENOSPC;
        }
        e->outstanding++;
        if (!(flags & RATELIMIT_COUNT))
                return 0;
        if (now - e->last_failure > (int64_t)rl->p.window_sec)
                e->failures = 0;
        e->failures++;
        e->last_failure = now;
        update_block(rl, e);
        return 0;
}

void ratelimit_end(struct ratelimit *rl, const char *key, bool success, bool clear) {
        struct entry *e = find(rl, key);
        if (!e || e->outstanding == 0)
                return;
        e->outstanding--;
        if (success && clear)
                e->failures = 0;
        else if (success && e->failures > 0)
                e->failures--;
        if (success)
                update_block(rl, e);
        if (e->failures == 0 && e->outstanding == 0)
                memset(e, 0, sizeof(*e));  /* nothing left to remember */
}

uint64_t ratelimit_refused(const struct ratelimit *rl) {
        return rl->refused;
}
