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

unsigned ratelimit_check(struct ratelimit *rl, const char *key, int64_t now) {
        struct entry *e = find(rl, key);
        if (!e || e->blocked_until <= now)
                return 0;
        rl->refused++;
        return (unsigned)(e->blocked_until - now);
}

void ratelimit_failure(struct ratelimit *rl, const char *key, int64_t now) {
        struct entry *e = find(rl, key);
        if (!e) {
                /* a free slot, else forget the entry idle the longest */
                struct entry *oldest = &rl->entries[0];
                for (unsigned i = 0; i < rl->p.capacity && !e; i++) {
                        if (!rl->entries[i].used)
                                e = &rl->entries[i];
                        else if (rl->entries[i].last_failure < oldest->last_failure)
                                oldest = &rl->entries[i];
                }
                if (!e)
                        e = oldest;
                memset(e, 0, sizeof(*e));
                e->used = true;
                snprintf(e->key, sizeof(e->key), "%s", key);
        }
        if (now - e->last_failure > (int64_t)rl->p.window_sec)
                e->failures = 0;
        e->failures++;
        e->last_failure = now;
        if (e->failures > rl->p.free_failures) {
                unsigned n = e->failures - rl->p.free_failures - 1;
                uint64_t delay = (uint64_t)rl->p.base_delay_sec << (n > 20 ? 20 : n);
                if (delay > rl->p.max_delay_sec)
                        delay = rl->p.max_delay_sec;
                e->blocked_until = now + (int64_t)delay;
        }
}

void ratelimit_success(struct ratelimit *rl, const char *key) {
        struct entry *e = find(rl, key);
        if (e)
                memset(e, 0, sizeof(*e));
}

uint64_t ratelimit_refused(const struct ratelimit *rl) {
        return rl->refused;
}
