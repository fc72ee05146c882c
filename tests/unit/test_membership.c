/* The membership index: roles, their members and group names follow the
 * identities put in and taken out, without a walk; several roles with one
 * group name are all found, so the caller can refuse the name; disabled
 * users hold roles without being members. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

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

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_members_follow_identities),
                cmocka_unit_test(test_group_names),
                cmocka_unit_test(test_names_and_settings),
                cmocka_unit_test(test_many),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
