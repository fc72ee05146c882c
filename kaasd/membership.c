/* The membership index; see membership.h. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "membership.h"
#include "unix_names.h"

struct membership_group {
        char *lname;                    /* lower-cased group name */
        const struct membership_role **roles;
        size_t n, cap;
        struct membership_group *next;
};

struct member_slot {
        struct membership_role *role;
        size_t pos;                     /* in role->members; SIZE_MAX: not a member */
};

struct membership_user {
        char *user_id;
        char *member;                   /* Unix name; NULL: holds roles but is no member */
        struct member_slot *slots;
        size_t n_slots;
        struct membership_user *next;
};

struct table {
        void **buckets;
        size_t n_buckets, n;
};

struct membership {
        char *prefix, *default_domain;
        char sep;
        struct table users, roles, groups;
        uint64_t last_version;          /* of any role: see membership_role.version */
};

/* ------------------------------------------------------------ tables */

static uint64_t hash_str(const char *s, bool fold) {
        uint64_t h = 0xcbf29ce484222325ull;
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                unsigned char c = *p;
                if (fold && c >= 'A' && c <= 'Z')
                        c = (unsigned char)(c - 'A' + 'a');
                h = (h ^ c) * 0x100000001b3ull;
        }
        return h;
}

/* The entries of each table chain through a `next` pointer right after
 * fields that differ: these accessors keep that in one place. */
static void **next_of_user(void *e) { return (void **)&((struct membership_user *)e)->next; }
static void **next_of_role(void *e) { return (void **)&((struct membership_role *)e)->next; }
static void **next_of_group(void *e) { return (void **)&((struct membership_group *)e)->next; }
static const char *key_of_user(void *e) { return ((struct membership_user *)e)->user_id; }
static const char *key_of_role(void *e) { return ((struct membership_role *)e)->key; }
static const char *key_of_group(void *e) { return ((struct membership_group *)e)->lname; }

struct table_kind {
        void **(*next)(void *e);
        const char *(*key)(void *e);
        bool fold;
};

static const struct table_kind USERS = { next_of_user, key_of_user, false };
static const struct table_kind ROLES = { next_of_role, key_of_role, false };
static const struct table_kind GROUPS = { next_of_group, key_of_group, true };

static int table_init(struct table *t) {
        t->n_buckets = 64;
        t->n = 0;
        t->buckets = calloc(t->n_buckets, sizeof(*t->buckets));
        return t->buckets ? 0 : -ENOMEM;
}

static void *table_find(const struct table *t, const struct table_kind *k, const char *key) {
        for (void *e = t->buckets[hash_str(key, k->fold) & (t->n_buckets - 1)]; e; e = *k->next(e))
                if (strcmp(k->key(e), key) == 0)
                        return e;
        return NULL;
}

/* Keeps the chains short: doubles past one entry per bucket (a failure
 * to grow only makes the chains longer). */
static void table_grow(struct table *t, const struct table_kind *k) {
        if (t->n < t->n_buckets || t->n_buckets > SIZE_MAX / 4 / sizeof(void *))
                return;
        size_t n = t->n_buckets * 2;
        void **b = calloc(n, sizeof(*b));
        if (!b)
                return;
        for (size_t i = 0; i < t->n_buckets; i++)
                for (void *e = t->buckets[i], *next; e; e = next) {
                        next = *k->next(e);
                        size_t j = hash_str(k->key(e), k->fold) & (n - 1);
                        *k->next(e) = b[j];
                        b[j] = e;
                }
        free(t->buckets);
        t->buckets = b;
        t->n_buckets = n;
}

static void table_add(struct table *t, const struct table_kind *k, void *e) {
        size_t i = hash_str(k->key(e), k->fold) & (t->n_buckets - 1);
        *k->next(e) = t->buckets[i];
        t->buckets[i] = e;
        t->n++;
        table_grow(t, k);
}

static void table_unlink(struct table *t, const struct table_kind *k, void *e) {
        for (void **pp = &t->buckets[hash_str(k->key(e), k->fold) & (t->n_buckets - 1)]; *pp; pp = k->next(*pp))
                if (*pp == e) {
                        *pp = *k->next(e);
                        t->n--;
                        return;
                }
}

/* ------------------------------------------------------------ groups */

static void group_detach(struct membership *m, struct membership_role *role) {
        struct membership_group *g = role->group;
        if (!g)
                return;
        role->group = NULL;
        for (size_t i = 0; i < g->n; i++)
                if (g->roles[i] == role) {
                        g->roles[i] = g->roles[--g->n];
                        break;
                }
        if (g->n > 0)
                return;
        table_unlink(&m->groups, &GROUPS, g);
        free(g->roles);
        free(g->lname);
        free(g);
}

static int group_attach(struct membership *m, struct membership_role *role) {
        if (!role->gname)
                return 0;
        char *lname = strdup(role->gname);
        if (!lname)
                return -ENOMEM;
        for (char *p = lname; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                        *p = (char)(*p - 'A' + 'a');
        struct membership_group *g = table_find(&m->groups, &GROUPS, lname);
        if (g) {
                free(lname);
        } else {
                if (!(g = calloc(1, sizeof(*g)))) {
                        free(lname);
                        return -ENOMEM;
                }
                g->lname = lname;
                table_add(&m->groups, &GROUPS, g);
        }
        if (g->n == g->cap) {
                size_t cap = g->cap ? g->cap * 2 : 2;
                const struct membership_role **a = realloc(g->roles, cap * sizeof(*a));
                if (!a) {
                        if (g->n == 0) {
                                table_unlink(&m->groups, &GROUPS, g);
                                free(g->lname);
                                free(g);
                        }
                        return -ENOMEM;
                }
                g->roles = a;
                g->cap = cap;
        }
        g->roles[g->n++] = role;
        role->group = g;
        return 0;
}

/* ------------------------------------------------------------ roles */

static void role_free(struct membership *m, struct membership_role *role) {
        group_detach(m, role);
        table_unlink(&m->roles, &ROLES, role);
        free(role->role_name);
        free(role->gname);
        free(role->mu);
        free(role);
}

/* Names the role as name does; the group follows the name. */
static int role_rename(struct membership *m, struct membership_role *role, const char *name) {
        if (role->role_name && strcmp(role->role_name, name) == 0)
                return 0;
        char *copy = strdup(name), *gname = NULL;
        if (!copy)
                return -ENOMEM;
        int r = unix_role_group_name(m->prefix, name, &gname);
        if (r == -ENOMEM) {
                free(copy);
                return r;
        }
        group_detach(m, role);
        free(role->role_name);
        free(role->gname);
        role->role_name = copy;
        role->gname = gname;  /* NULL when the name gives no usable group name */
        role->version = ++m->last_version;
        return group_attach(m, role);
}

static int role_get(struct membership *m, const struct identity_role *ir, struct membership_role **ret) {
        char key[MEMBERSHIP_KEY_SIZE];
        unix_role_key(ir->id, key, sizeof(key));
        struct membership_role *role = table_find(&m->roles, &ROLES, key);
        if (!role) {
                if (!(role = calloc(1, sizeof(*role))))
                        return -ENOMEM;
                memcpy(role->key, key, sizeof(key));
                table_add(&m->roles, &ROLES, role);
        }
        int r = role_rename(m, role, ir->name ? ir->name : "");
        if (r < 0) {
                if (role->holders == 0)
                        role_free(m, role);
                return r;
        }
        *ret = role;
        return 0;
}

/* ------------------------------------------------------------ users */

/* Takes u out of role's members (its slot i). */
static void member_drop(struct membership *m, struct membership_user *u, size_t i) {
        struct membership_role *role = u->slots[i].role;
        size_t pos = u->slots[i].pos, last = role->n_members - 1;
        if (pos == SIZE_MAX)
                return;
        u->slots[i].pos = SIZE_MAX;
        role->version = ++m->last_version;
        role->n_members--;
        if (pos == last)
                return;
        /* the last member takes the free place: tell it where it is now */
        struct membership_user *moved = role->mu[last];
        role->mu[pos] = moved;
        for (size_t j = 0; j < moved->n_slots; j++)
                if (moved->slots[j].role == role) {
                        moved->slots[j].pos = pos;
                        break;
                }
}

static int member_add(struct membership *m, struct membership_role *role, struct membership_user *u, size_t i) {
        if (role->n_members == role->cap) {
                size_t cap = role->cap ? role->cap * 2 : 4;
                struct membership_user **a = realloc(role->mu, cap * sizeof(*a));
                if (!a)
                        return -ENOMEM;
                role->mu = a;
                role->cap = cap;
        }
        u->slots[i].pos = role->n_members;
        role->mu[role->n_members++] = u;
        role->version = ++m->last_version;
        return 0;
}

static void user_clear_roles(struct membership *m, struct membership_user *u) {
        for (size_t i = 0; i < u->n_slots; i++) {
                struct membership_role *role = u->slots[i].role;
                member_drop(m, u, i);
                if (--role->holders == 0)
                        role_free(m, role);
        }
        free(u->slots);
        u->slots = NULL;
        u->n_slots = 0;
}

static void user_free(struct membership_user *u) {
        free(u->slots);
        free(u->member);
        free(u->user_id);
        free(u);
}

static bool reserved_user_id(const char *user_id) {
        return strncmp(user_id, UNIX_ROLE_KEY_PREFIX, strlen(UNIX_ROLE_KEY_PREFIX)) == 0 ||
               strncmp(user_id, UNIX_LOCAL_KEY_PREFIX, strlen(UNIX_LOCAL_KEY_PREFIX)) == 0;
}

/* ------------------------------------------------------------ API */

int membership_new(const char *role_group_prefix, const char *default_domain, char sep, struct membership **ret) {
        struct membership *m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->sep = sep;
        if (!(m->prefix = strdup(role_group_prefix ? role_group_prefix : "")) ||
            !(m->default_domain = strdup(default_domain ? default_domain : "")) || table_init(&m->users) < 0 ||
            table_init(&m->roles) < 0 || table_init(&m->groups) < 0) {
                membership_free(m);
                return -ENOMEM;
        }
        *ret = m;
        return 0;
}

struct membership *membership_free(struct membership *m) {
        if (!m)
                return NULL;
        for (size_t i = 0; m->users.buckets && i < m->users.n_buckets; i++)
                for (struct membership_user *u = m->users.buckets[i], *next; u; u = next) {
                        next = u->next;
                        user_clear_roles(m, u);
                        user_free(u);
                }
        free(m->users.buckets);
        free(m->roles.buckets);
        free(m->groups.buckets);
        free(m->prefix);
        free(m->default_domain);
        free(m);
        return NULL;
}

bool membership_matches(const struct membership *m, const char *role_group_prefix, const char *default_domain,
                        char sep) {
        return m->sep == sep && strcmp(m->prefix, role_group_prefix ? role_group_prefix : "") == 0 &&
               strcmp(m->default_domain, default_domain ? default_domain : "") == 0;
}

void membership_remove(struct membership *m, const char *user_id) {
        struct membership_user *u = table_find(&m->users, &USERS, user_id);
        if (!u)
                return;
        table_unlink(&m->users, &USERS, u);
        user_clear_roles(m, u);
        user_free(u);
}

int membership_set(struct membership *m, const struct identity *id) {
        struct membership_user *u = table_find(&m->users, &USERS, id->user_id);
        if (u) {
                user_clear_roles(m, u);
                free(u->member);
                u->member = NULL;
        } else {
                if (!(u = calloc(1, sizeof(*u))))
                        return -ENOMEM;
                if (!(u->user_id = strdup(id->user_id))) {
                        free(u);
                        return -ENOMEM;
                }
                table_add(&m->users, &USERS, u);
        }
        /* a disabled user keeps its name but no role's rights */
        if (id->enabled && !reserved_user_id(id->user_id)) {
                int r = unix_user_name(id->name, id->domain_id, id->domain_name, m->default_domain, m->sep,
                                       &u->member);
                if (r == -ENOMEM)
                        return r;
        }
        if (id->n_roles > 0 && !(u->slots = calloc(id->n_roles, sizeof(*u->slots))))
                return -ENOMEM;
        for (size_t i = 0; i < id->n_roles; i++) {
                bool seen = false;
                for (size_t j = 0; j < i && !seen; j++)
                        seen = strcmp(id->roles[j].id, id->roles[i].id) == 0;
                if (seen)
                        continue;
                struct membership_role *role;
                int r = role_get(m, &id->roles[i], &role);
                if (r < 0) {
                        user_clear_roles(m, u);
                        return r;
                }
                size_t k = u->n_slots++;
                u->slots[k] = (struct member_slot){ .role = role, .pos = SIZE_MAX };
                role->holders++;
                if (u->member && (r = member_add(m, role, u, k)) < 0) {
                        user_clear_roles(m, u);
                        return r;
                }
        }
        return 0;
}

const struct membership_role *membership_role_by_key(const struct membership *m, const char *key) {
        return table_find(&m->roles, &ROLES, key);
}

size_t membership_group_roles(const struct membership *m, const char *name,
                              const struct membership_role *const **ret) {
        /* the keys are lower-cased and the hash folds case: name may have any */
        struct membership_group *g = m->groups.buckets[hash_str(name, true) & (m->groups.n_buckets - 1)];
        while (g && strcasecmp(g->lname, name) != 0)
                g = g->next;
        *ret = g ? g->roles : NULL;
        return g ? g->n : 0;
}

const char *membership_role_member(const struct membership_role *role, size_t i) {
        return role->mu[i]->member;
}

int membership_for_each_role(const struct membership *m,
                             int (*fn)(const struct membership_role *role, void *userdata), void *userdata) {
        for (size_t i = 0; i < m->roles.n_buckets; i++)
                for (struct membership_role *role = m->roles.buckets[i]; role; role = role->next) {
                        int r = fn(role, userdata);
                        if (r != 0)
                                return r;
                }
        return 0;
}

size_t membership_n_users(const struct membership *m) {
        return m->users.n;
}

size_t membership_n_roles(const struct membership *m) {
        return m->roles.n;
}
