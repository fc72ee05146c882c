/* See domain_map.h. A list: a few domains per cloud, scanned linearly. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "domain_map.h"

const struct domain_map_entry *domain_map_find(const struct domain_map *m, const char *id, const char *name) {
        for (const struct domain_map_entry *d = m->head; d; d = d->next)
                if ((id && strcmp(d->id, id) == 0) || (name && strcmp(d->name, name) == 0))
                        return d;
        return NULL;
}

static void entry_free(struct domain_map_entry *d) {
        free(d->id);
        free(d->name);
        free(d);
}

void domain_map_learn(struct domain_map *m, const char *id, const char *name) {
        if (!id || !*id || !name || !*name)
                return;
        char *n = strdup(name);
        if (!n)
                return;
        /* one name, one domain: another that held it was renamed since */
        struct domain_map_entry *same = NULL;
        for (struct domain_map_entry **pp = &m->head; *pp;) {
                struct domain_map_entry *x = *pp;
                if (strcmp(x->id, id) == 0) {
                        same = x;
                        pp = &x->next;
                } else if (strcmp(x->name, name) == 0) {
                        *pp = x->next;
                        entry_free(x);
                        m->n--;
                } else {
                        pp = &x->next;
                }
        }
        if (same) {
                free(same->name);
                same->name = n;
                return;
        }
        struct domain_map_entry *d = m->n < DOMAIN_MAP_MAX ? calloc(1, sizeof(*d)) : NULL;
        if (!d || !(d->id = strdup(id))) {
                free(d);
                free(n);
                return;
        }
        d->name = n;
        d->next = m->head;
        m->head = d;
        m->n++;
}

void domain_map_set_enabled(struct domain_map *m, const char *id, bool enabled, int64_t now_ms) {
        for (struct domain_map_entry *d = m->head; d; d = d->next)
                if (strcmp(d->id, id) == 0) {
                        d->enabled = enabled;
                        d->enabled_at_ms = now_ms;
                        return;
                }
}

void domain_map_clear(struct domain_map *m) {
        while (m->head) {
                struct domain_map_entry *d = m->head;
                m->head = d->next;
                entry_free(d);
        }
        m->n = 0;
}
