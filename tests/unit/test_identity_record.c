/* Identity records (kaasd/identity_record.c): the stored blob round-trips,
 * a damaged or foreign blob is refused, the varlink User carries the
 * cluster admin verdict. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "identity.h"

static struct identity *alice(void) {
        struct identity *id = calloc(1, sizeof(*id));
        assert_non_null(id);
        id->user_id = strdup("a0cba8b7ca3046da8375b62192fe10ca");
        id->name = strdup("alice");
        id->domain_id = strdup("default");
        id->domain_name = strdup("Default");
        id->enabled = true;
        id->fetched_at_ms = 1795621257123;
        id->n_roles = 2;
        id->roles = calloc(2, sizeof(*id->roles));
        id->roles[0] = (struct identity_role){ strdup("r1"), strdup("member"), KS_SCOPE_PROJECT, strdup("p1"),
                                               strdup("demo"), strdup("default"), strdup("Default") };
        id->roles[1] = (struct identity_role){ strdup("r2"), strdup("k8s-admins-alpha"), KS_SCOPE_SYSTEM, NULL, NULL,
                                               NULL, NULL };
        id->n_projects = 1;
        id->projects = calloc(1, sizeof(*id->projects));
        id->projects[0] = (struct identity_project){ strdup("p1"), strdup("demo"), strdup("default"), strdup("Default") };
        return id;
}

static void test_roundtrip(void **state) {
        struct identity *a = alice(), *b;
        char *blob;
        size_t size;
        assert_int_equal(identity_to_blob(a, &blob, &size), 0);
        assert_int_equal(identity_from_blob(blob, size, &b), 0);
        assert_string_equal(b->user_id, a->user_id);
        assert_string_equal(b->name, "alice");
        assert_string_equal(b->domain_name, "Default");
        assert_true(b->enabled);
        assert_int_equal(b->fetched_at_ms, a->fetched_at_ms);
        assert_int_equal(b->n_roles, 2);
        assert_int_equal(b->roles[0].scope, KS_SCOPE_PROJECT);
        assert_string_equal(b->roles[0].project_name, "demo");
        assert_int_equal(b->roles[1].scope, KS_SCOPE_SYSTEM);
        assert_null(b->roles[1].project_id);
        assert_int_equal(b->n_projects, 1);
        assert_string_equal(b->projects[0].domain_id, "default");
        free(blob);
        identity_free(a);
        identity_free(b);
}

static void test_damaged_blobs(void **state) {
        struct identity *a = alice(), *b = NULL;
        char *blob;
        size_t size;
        assert_int_equal(identity_to_blob(a, &blob, &size), 0);
        /* every truncation is refused */
        for (size_t n = 0; n < size; n++)
                assert_int_equal(identity_from_blob(blob, n, &b), -EBADMSG);
        free(blob);
        static const char *const bad[] = {
                "{}",
                /* another format */
                "{\"format\": 2, \"id\": \"i\", \"name\": \"n\", \"domain_id\": \"d\", \"enabled\": true,"
                " \"fetched_at_ms\": 1, \"roles\": [], \"projects\": []}",
                "{\"format\": 1, \"id\": \"i\", \"name\": \"n\", \"domain_id\": \"d\", \"enabled\": \"yes\","
                " \"fetched_at_ms\": 1, \"roles\": [], \"projects\": []}",
                "{\"format\": 1, \"id\": \"i\", \"name\": \"n\", \"domain_id\": \"d\", \"enabled\": true,"
                " \"fetched_at_ms\": 1, \"roles\": [{\"id\": \"r\", \"name\": \"x\", \"scope\": \"galaxy\"}], \"projects\": []}",
                "{\"format\": 1, \"id\": \"i\", \"name\": \"n\", \"domain_id\": \"d\", \"enabled\": true,"
                " \"fetched_at_ms\": 1, \"roles\": [7], \"projects\": []}",
                "{\"format\": 1, \"id\": \"i j\", \"name\": \"n\", \"domain_id\": \"d\", \"enabled\": true,"
                " \"fetched_at_ms\": 1, \"roles\": [], \"projects\": []}",
                "{\"format\": 1, \"id\": \"i\", \"name\": \"n\", \"domain_id\": \"d\", \"enabled\": true,"
                " \"fetched_at_ms\": \"1\", \"roles\": [], \"projects\": []}",
                "{\"format\": 1, \"id\": \"i\", \"name\": \"n\", \"domain_id\": \"d\", \"enabled\": true,"
                " \"fetched_at_ms\": 1, \"roles\": [], \"projects\": [{\"id\": \"p\"}]}",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (identity_from_blob(bad[i], strlen(bad[i]), &b) != -EBADMSG)
                        fail_msg("case %zu accepted", i);
        assert_null(b);
        identity_free(a);
}

static void test_admin_of(void **state) {
        struct identity *a = alice();
        struct config_cluster alpha = { .name = "alpha", .admin_roles = { "k8s-admins-alpha" }, .n_admin_roles = 1 };
        struct config_cluster beta = { .name = "beta", .admin_roles = { "k8s-admins-beta", "nope" }, .n_admin_roles = 2 };
        struct config_cluster by_id = { .name = "gamma", .admin_roles = { "x", "r1" }, .n_admin_roles = 2 };
        assert_true(identity_is_admin_of(a, &alpha));
        assert_false(identity_is_admin_of(a, &beta));
        assert_true(identity_is_admin_of(a, &by_id));

        struct config cfg = { 0 };
        cfg.clusters[0] = alpha;
        cfg.clusters[1] = beta;
        cfg.clusters[2] = by_id;
        cfg.n_clusters = 3;
        json_t *u = identity_to_user_json(a, &cfg, IDENTITY_FROM_KEYSTONE);
        assert_non_null(u);
        json_t *clusters = json_object_get(u, "admin_of_clusters");
        assert_int_equal(json_array_size(clusters), 2);
        assert_string_equal(json_string_value(json_array_get(clusters, 0)), "alpha");
        assert_string_equal(json_string_value(json_array_get(clusters, 1)), "gamma");
        assert_string_equal(json_string_value(json_object_get(u, "source")), "keystone");
        assert_int_equal(json_integer_value(json_object_get(u, "fetched_at")), 1795621257);
        json_decref(u);

        /* a disabled user is admin of nothing */
        a->enabled = false;
        assert_false(identity_is_admin_of(a, &alpha));
        u = identity_to_user_json(a, &cfg, IDENTITY_FROM_CACHE);
        assert_int_equal(json_array_size(json_object_get(u, "admin_of_clusters")), 0);
        assert_false(json_is_true(json_object_get(u, "enabled")));
        json_decref(u);
        identity_free(a);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_roundtrip),
                cmocka_unit_test(test_damaged_blobs),
                cmocka_unit_test(test_admin_of),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
