/* The Keystone domains kaasd has seen, ID to name, so that a lookup by
 * domain name needs no Keystone call, and whether each was enabled when
 * last asked (a disabled domain disables its users). One name names one domain: when a
 * domain is seen under a name another held, that other was renamed and
 * loses it. Bounded (DOMAIN_MAP_MAX domains; past that, new ones are not
 * remembered and are asked of Keystone each time).
 *
 * Depends on libc only; single-threaded use (kaasd's loop). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DOMAIN_MAP_MAX 1024

struct domain_map_entry {
        char *id;
        char *name;
        /* whether Keystone said the domain is enabled, and when (wall
         * clock, ms; 0: not asked yet) */
        bool enabled;
        int64_t enabled_at_ms;
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
/* Remembers whether the known domain id is enabled, as Keystone said at
 * now_ms; a domain not in the map is left unknown. */
void domain_map_set_enabled(struct domain_map *m, const char *id, bool enabled, int64_t now_ms);
void domain_map_clear(struct domain_map *m);
