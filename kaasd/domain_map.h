/* The Keystone domains kaasd has seen, ID to name, so that a lookup by
 * domain name needs no Keystone call. One name names one domain: when a
 * domain is seen under a name another held, that other was renamed and
 * loses it. Bounded (DOMAIN_MAP_MAX domains; past that, new ones are not
 * remembered and are asked of Keystone each time).
 *
 * Depends on libc only; single-threaded use (kaasd's loop). */
#pragma once

#include <stddef.h>

#define DOMAIN_MAP_MAX 1024

struct domain_map_entry {
        char *id;
        char *name;
        struct domain_map_entry *next;
};

struct domain_map {
        struct domain_map_entry *head;
        size_t n;
};

/* The domain with this ID (when id is not NULL) or this name (when name
 * is not NULL); NULL when none. Valid until the next learn or clear. */
const struct domain_map_entry *domain_map_find(const struct domain_map *m, const char *id, const char *name);
/* Remembers that domain id is named name (a NULL or empty one is
 * ignored). Out of memory, the map stays as it was: it is only a cache. */
void domain_map_learn(struct domain_map *m, const char *id, const char *name);
void domain_map_clear(struct domain_map *m);
