/* The membership index: roles, their members and group names follow the
 * identities put in and taken out, without a walk; several roles with one
 * group name are all found, so the caller can refuse the name; disabled
 * users hold roles without being members. Role groups' replies, built in
 * slices, are kept until the membership changes: a change, and the next
 * lookup gets a fresh reply. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "kaasd/group_reply.h"
#include "kaasd/membership.h"

struct fixture_role {
        const char *id, *name;
};

/* An identity of the default domain with the given roles (project scope). */
static struct identity *make(const char *user_id, const char *name, bool enabled, const struct fixture_role *roles,
                             size_t n) {
        struct identity *id = calloc(1, sizeof(*id));
        assert_non_null(id);
        id->user_id = strdup(user_id);
        id->name = strdup(name);
        id->domain_id = strdup("default");
        id->domain_name = strdup("Default");
        id->enabled = enabled;
        id->roles = calloc(n + 1, sizeof(*id->roles));
        for (size_t i = 0; i < n; i++)
                id->roles[i] = (struct identity_role){ .id = strdup(roles[i].id), .name = strdup(roles[i].name),
                                                       .scope = KS_SCOPE_PROJECT };
        id->n_roles = n;
        return id;
}

static void free_identity(struct identity *id) {
        for (size_t i = 0; i < id->n_roles; i++) {
                free(id->roles[i].id);
                free(id->roles[i].name);
        }
        free(id->roles);
        free(id->user_id);
        free(id->name);
        free(id->domain_id);
        free(id->domain_name);
        free(id);
}

static void put(struct membership *m, const char *user_id, const char *name, bool enabled,
                const struct fixture_role *roles, size_t n) {
        struct identity *id = make(user_id, name, enabled, roles, n);
        assert_int_equal(membership_set(m, id), 0);
        free_identity(id);
}

static const struct membership_role *role(struct membership *m, const char *role_id) {
        char key[MEMBERSHIP_KEY_SIZE];
        snprintf(key, sizeof(key), "role:%s", role_id);
        return membership_role_by_key(m, key);
}

static bool has_member(const struct membership_role *r, const char *name) {
        for (size_t i = 0; i < r->n_members; i++)
                if (strcmp(membership_role_member(r, i), name) == 0)
                        return true;
        return false;
}

static const struct fixture_role DEV = { "r-dev", "developer" }, OPS = { "r-ops", "Ops" },
                                 DEV2 = { "r-dev2", "Developer" };

static void test_members_follow_identities(void **state) {
        (void)state;
        struct membership *m;
        assert_int_equal(membership_new("kaas-", "default", '@', &m), 0);
        struct fixture_role both[] = { DEV, OPS, DEV };  /* a role twice: one membership */
        put(m, "u1", "alice", true, both, 3);
        put(m, "u2", "bob", true, &DEV, 1);
        put(m, "u3", "carol", false, &OPS, 1);  /* disabled: holds, is no member */

        const struct membership_role *dev = role(m, "r-dev"), *ops = role(m, "r-ops");
        assert_non_null(dev);
        assert_non_null(ops);
        assert_string_equal(dev->gname, "kaas-developer");
        assert_string_equal(ops->gname, "kaas-ops");
        assert_int_equal(dev->n_members, 2);
        assert_true(has_member(dev, "alice") && has_member(dev, "bob"));
        assert_int_equal(ops->n_members, 1);
        assert_int_equal(ops->holders, 2);
        assert_true(has_member(ops, "alice"));

        /* alice loses developer: bob stays, in the place she leaves */
        put(m, "u1", "alice", true, &OPS, 1);
        dev = role(m, "r-dev");
        assert_int_equal(dev->n_members, 1);
        assert_string_equal(membership_role_member(dev, 0), "bob");

        /* the last holder leaves: the role and its group name go */
        membership_remove(m, "u2");
        assert_null(role(m, "r-dev"));
        const struct membership_role *const *roles;
        assert_int_equal(membership_group_roles(m, "kaas-developer", &roles), 0);
        assert_int_equal(membership_n_users(m), 2);

        /* a disabled user enabled again becomes a member */
        put(m, "u3", "carol", true, &OPS, 1);
        ops = role(m, "r-ops");
        assert_int_equal(ops->n_members, 2);
        assert_true(has_member(ops, "carol"));
        membership_remove(m, "u-unknown");
        membership_free(m);
}

static void test_group_names(void **state) {
        (void)state;
        struct membership *m;
        assert_int_equal(membership_new("kaas-", "default", '@', &m), 0);
        put(m, "u1", "alice", true, &DEV, 1);
        const struct membership_role *const *roles;
        assert_int_equal(membership_group_roles(m, "kaas-developer", &roles), 1);
        assert_string_equal(roles[0]->key, "role:r-dev");
        /* without case: the name a private group may not take */
        assert_int_equal(membership_group_roles(m, "KAAS-Developer", &roles), 1);
        assert_int_equal(membership_group_roles(m, "developer", &roles), 0);

        /* another role with the same group name: both found, so neither
         * is served; when it goes, the first is alone again */
        put(m, "u2", "bob", true, &DEV2, 1);
        assert_int_equal(membership_group_roles(m, "kaas-developer", &roles), 2);
        membership_remove(m, "u2");
        assert_int_equal(membership_group_roles(m, "kaas-developer", &roles), 1);

        /* a role renamed in Keystone moves to its new group name */
        struct fixture_role renamed = { "r-dev", "builder" };
        put(m, "u1", "alice", true, &renamed, 1);
        assert_int_equal(membership_group_roles(m, "kaas-developer", &roles), 0);
        assert_int_equal(membership_group_roles(m, "kaas-builder", &roles), 1);
        assert_int_equal(roles[0]->n_members, 1);
        membership_free(m);
}

static void test_names_and_settings(void **state) {
        (void)state;
        struct membership *m;
        assert_int_equal(membership_new("", "default", '@', &m), 0);
        assert_true(membership_matches(m, "", "default", '@'));
        assert_true(membership_matches(m, NULL, "default", '@'));
        assert_false(membership_matches(m, "kaas-", "default", '@'));
        assert_false(membership_matches(m, "", "default", '%'));
        /* a name no Unix user can have: holds the role, is no member */
        put(m, "u1", "bad name", true, &DEV, 1);
        /* a reserved uid-map key as a user ID is never a member */
        put(m, "local:1000", "mallory", true, &DEV, 1);
        const struct membership_role *dev = role(m, "r-dev");
        assert_non_null(dev);
        assert_string_equal(dev->gname, "developer");
        assert_int_equal(dev->holders, 2);
        assert_int_equal(dev->n_members, 0);
        membership_free(m);
}

/* Many users in one role and out again in another order: every member
 * stays findable at its place, which a swap on removal must keep true. */
static void test_many(void **state) {
        (void)state;
        struct membership *m;
        assert_int_equal(membership_new("kaas-", "default", '@', &m), 0);
        enum { N = 5000 };
        char uid[32], name[32];
        struct fixture_role both[] = { DEV, OPS };
        for (int i = 0; i < N; i++) {
                snprintf(uid, sizeof(uid), "u%d", i);
                snprintf(name, sizeof(name), "user%d", i);
                put(m, uid, name, true, both, 2);
        }
        assert_int_equal(role(m, "r-dev")->n_members, N);
        for (int i = 0; i < N; i += 2) {
                snprintf(uid, sizeof(uid), "u%d", i);
                membership_remove(m, uid);
        }
        for (int i = 1; i < N; i += 4) {
                snprintf(uid, sizeof(uid), "u%d", i);
                snprintf(name, sizeof(name), "user%d", i);
                put(m, uid, name, true, &OPS, 1);
        }
        const struct membership_role *dev = role(m, "r-dev"), *ops = role(m, "r-ops");
        assert_int_equal(ops->n_members, N / 2);
        assert_int_equal(dev->n_members, N / 4);
        for (int i = 3; i < N; i += 4) {
                snprintf(name, sizeof(name), "user%d", i);
                assert_true(has_member(dev, name));
        }
        assert_int_equal(membership_n_users(m), N / 2);
        for (int i = 1; i < N; i += 2) {
                snprintf(uid, sizeof(uid), "u%d", i);
                membership_remove(m, uid);
        }
        assert_int_equal(membership_n_roles(m), 0);
        assert_int_equal(membership_n_users(m), 0);
        membership_free(m);
}

/* ------------------------------------------------------------ replies */

static int strcmp_ptr(const char **a, const char **b) {
        return strcmp(*a, *b);
}

/* The reply of role r with stamp s, built in slices of 1 member. */
static struct group_reply *build(const struct membership_role *r, const struct group_reply_stamp *s,
                                 group_reply_skip_fn skip, void *userdata) {
        struct group_reply_build *b;
        assert_int_equal(group_reply_build_new(r, s, 1u << 20, &b), 0);
        int k, steps = 0;
        while ((k = group_reply_build_step(b, r, 1, skip, userdata)) == 0) {
                assert_true(group_reply_build_current(b, r));
                steps++;
        }
        assert_int_equal(k, 1);
        size_t want = s->max_members < r->n_members ? s->max_members : r->n_members;
        assert_true(steps + 1 >= (int)want);  /* one member per slice */
        struct group_reply *reply;
        assert_int_equal(group_reply_build_finish(b, &reply), 0);
        group_reply_build_free(b);
        return reply;
}

/* The members a reply lists, sorted and joined with commas. */
static char *members_of(const struct group_reply *reply, const char *name, uint32_t gid) {
        assert_int_equal(reply->message[reply->len - 1], '\0');
        assert_int_equal(strlen(reply->message), reply->len - 1);
        json_error_t e;
        json_t *msg = json_loads(reply->message, 0, &e);
        assert_non_null(msg);
        json_t *g = json_object_get(json_object_get(msg, "parameters"), "group");
        assert_string_equal(json_string_value(json_object_get(g, "name")), name);
        assert_int_equal(json_integer_value(json_object_get(g, "gid")), gid);
        json_t *members = json_object_get(g, "members");
        size_t n = json_array_size(members);
        assert_int_equal(n, reply->n_members);
        const char **names = calloc(n + 1, sizeof(*names));
        size_t bytes = 0;  /* what the group file's header counts */
        for (size_t i = 0; i < n; i++) {
                names[i] = json_string_value(json_array_get(members, i));
                bytes += strlen(names[i]) + 1;
        }
        assert_int_equal(bytes, reply->member_bytes);
        qsort(names, n, sizeof(*names), (int (*)(const void *, const void *))strcmp_ptr);
        char *out = calloc(1, 4096);
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        strcat(out, ",");
                strcat(out, names[i]);
        }
        free(names);
        json_decref(msg);
        return out;
}

static struct group_reply_stamp stamp_of(const struct membership_role *r, unsigned max_members) {
        return (struct group_reply_stamp){ .epoch = 1, .version = r->version, .gid = 4242,
                                           .max_members = max_members };
}

static void assert_members(const struct group_reply *reply, const char *want) {
        char *got = members_of(reply, "kaas-developer", 4242);
        assert_string_equal(got, want);
        free(got);
}

static void test_reply_follows_membership(void **state) {
        (void)state;
        struct membership *m;
        struct group_reply_cache *c;
        assert_int_equal(membership_new("kaas-", "default", '@', &m), 0);
        assert_int_equal(group_reply_cache_new(1u << 20, &c), 0);
        put(m, "u1", "alice", true, &DEV, 1);
        put(m, "u2", "bob", true, &DEV, 1);
        put(m, "u3", "carol", true, &DEV, 1);

        const struct membership_role *dev = role(m, "r-dev");
        struct group_reply_stamp s = stamp_of(dev, UINT_MAX);
        assert_null(group_reply_cache_get(c, dev->key, &s));
        struct group_reply *reply = build(dev, &s, NULL, NULL);
        assert_members(reply, "alice,bob,carol");
        group_reply_cache_put(c, reply);
        const struct group_reply *kept = group_reply_cache_get(c, dev->key, &s);
        assert_ptr_equal(kept, reply);  /* the same bytes again: a retry costs a copy */
        assert_int_equal(group_reply_cache_bytes(c), reply->len);

        /* bob leaves: the reply kept is not the group any more */
        membership_remove(m, "u2");
        dev = role(m, "r-dev");
        s = stamp_of(dev, UINT_MAX);
        assert_null(group_reply_cache_get(c, dev->key, &s));
        assert_int_equal(group_reply_cache_count(c), 0);
        reply = build(dev, &s, NULL, NULL);
        assert_members(reply, "alice,carol");
        group_reply_cache_put(c, reply);

        /* dave enters; carol is disabled (no member); a role added to
         * alice changes nothing here, yet is a change of hers */
        put(m, "u4", "dave", true, &DEV, 1);
        put(m, "u3", "carol", false, &DEV, 1);
        dev = role(m, "r-dev");
        s = stamp_of(dev, UINT_MAX);
        assert_null(group_reply_cache_get(c, dev->key, &s));
        reply = build(dev, &s, NULL, NULL);
        assert_members(reply, "alice,dave");
        group_reply_cache_put(c, reply);
        uint64_t v = dev->version;
        struct fixture_role both[] = { DEV, OPS };
        put(m, "u1", "alice", true, both, 2);
        dev = role(m, "r-dev");
        assert_true(dev->version != v);  /* she left and entered again: rebuilt, not wrong */
        s = stamp_of(dev, UINT_MAX);
        assert_null(group_reply_cache_get(c, dev->key, &s));

        /* nothing changed: the reply stays; another cap is another reply */
        reply = build(dev, &s, NULL, NULL);
        group_reply_cache_put(c, reply);
        put(m, "u5", "erin", true, &OPS, 1);
        dev = role(m, "r-dev");
        assert_ptr_equal(group_reply_cache_get(c, dev->key, &s), reply);
        struct group_reply_stamp capped = stamp_of(dev, 1);
        assert_null(group_reply_cache_get(c, dev->key, &capped));
        reply = build(dev, &capped, NULL, NULL);
        assert_int_equal(reply->n_members, 1);
        group_reply_cache_put(c, reply);
        /* ignore_group_members: a cap of none is a reply of its own, with
         * the group's name and gid and no member */
        struct group_reply_stamp none = stamp_of(dev, 0);
        assert_null(group_reply_cache_get(c, dev->key, &none));
        reply = build(dev, &none, NULL, NULL);
        assert_int_equal(reply->n_members, 0);
        assert_members(reply, "");
        group_reply_cache_put(c, reply);
        assert_ptr_equal(group_reply_cache_get(c, dev->key, &none), reply);

        group_reply_cache_free(c);
        membership_free(m);
}

/* A build whose role changes midway is told so, and starts again. */
static void test_build_sees_change(void **state) {
        (void)state;
        struct membership *m;
        assert_int_equal(membership_new("kaas-", "default", '@', &m), 0);
        put(m, "u1", "alice", true, &DEV, 1);
        put(m, "u2", "bob", true, &DEV, 1);
        const struct membership_role *dev = role(m, "r-dev");
        struct group_reply_stamp s = stamp_of(dev, UINT_MAX);
        struct group_reply_build *b;
        assert_int_equal(group_reply_build_new(dev, &s, 1u << 20, &b), 0);
        assert_int_equal(group_reply_build_step(b, dev, 1, NULL, NULL), 0);
        put(m, "u3", "carol", true, &DEV, 1);
        assert_false(group_reply_build_current(b, role(m, "r-dev")));
        group_reply_build_free(b);
        membership_free(m);
}

static bool is_local(const char *member, void *userdata) {
        return strcmp(member, userdata) == 0;
}

/* Local names are left out; the cap on bytes drops the least recently
 * used reply, and keeps none larger than itself. */
static void test_skip_and_bytes(void **state) {
        (void)state;
        struct membership *m;
        struct group_reply_cache *c;
        assert_int_equal(membership_new("kaas-", "default", '@', &m), 0);
        put(m, "u1", "alice", true, &DEV, 1);
        put(m, "u2", "bob", true, &DEV, 1);
        put(m, "u3", "carol", true, &OPS, 1);
        const struct membership_role *dev = role(m, "r-dev"), *ops = role(m, "r-ops");
        struct group_reply_stamp sd = stamp_of(dev, UINT_MAX), so = stamp_of(ops, UINT_MAX);
        struct group_reply *rd = build(dev, &sd, is_local, "bob");
        assert_members(rd, "alice");
        struct group_reply *ro = build(ops, &so, NULL, NULL);
        assert_int_equal(group_reply_cache_new(rd->len + ro->len - 1, &c), 0);
        group_reply_cache_put(c, rd);
        group_reply_cache_put(c, ro);  /* both do not fit: the older goes */
        assert_null(group_reply_cache_get(c, dev->key, &sd));
        assert_ptr_equal(group_reply_cache_get(c, ops->key, &so), ro);
        group_reply_cache_set_max(c, ro->len - 1);
        assert_int_equal(group_reply_cache_count(c), 0);
        group_reply_cache_put(c, build(ops, &so, NULL, NULL));
        assert_int_equal(group_reply_cache_count(c), 0);
        assert_int_equal(group_reply_cache_bytes(c), 0);

        /* past the size given, no reply but -E2BIG */
        struct group_reply_build *b;
        assert_int_equal(group_reply_build_new(dev, &sd, 80, &b), 0);  /* the name, gid and one member */
        int k;
        while ((k = group_reply_build_step(b, dev, 1, NULL, NULL)) == 0)
                ;
        assert_int_equal(k, -E2BIG);
        group_reply_build_free(b);
        group_reply_cache_free(c);
        membership_free(m);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_members_follow_identities),
                cmocka_unit_test(test_group_names),
                cmocka_unit_test(test_names_and_settings),
                cmocka_unit_test(test_many),
                cmocka_unit_test(test_reply_follows_membership),
                cmocka_unit_test(test_build_sees_change),
                cmocka_unit_test(test_skip_and_bytes),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
