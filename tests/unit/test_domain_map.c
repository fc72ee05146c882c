/* The map of Keystone domains: lookups by ID and by name, renames (one
 * name, one domain, whichever order kaasd sees them in), the bound,
 * clearing, and whether a domain is enabled. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "kaasd/domain_map.h"

static const char *id_named(const struct domain_map *m, const char *name) {
        const struct domain_map_entry *d = domain_map_find(m, NULL, name);
        return d ? d->id : NULL;
}

static void test_find_by_id_and_name(void **state) {
        struct domain_map m = { 0 };
        domain_map_learn(&m, "default", "Default");
        domain_map_learn(&m, "d2", "partners");
        domain_map_learn(&m, "d3", "");
        domain_map_learn(&m, NULL, "x");
        assert_int_equal(m.n, 2);
        assert_string_equal(domain_map_find(&m, "d2", NULL)->name, "partners");
        assert_string_equal(id_named(&m, "Default"), "default");
        assert_null(domain_map_find(&m, "d3", NULL));
        assert_null(id_named(&m, "x"));
        domain_map_clear(&m);
        assert_int_equal(m.n, 0);
        assert_null(domain_map_find(&m, "default", NULL));
}

/* B was "y" and is now "z"; A was "a" and is now "y". Seeing A's new name
 * before B's must not leave "y" naming B. */
static void test_rename_takes_the_name(void **state) {
        struct domain_map m = { 0 };
        domain_map_learn(&m, "A", "a");
        domain_map_learn(&m, "B", "y");
        domain_map_learn(&m, "A", "y");
        assert_string_equal(id_named(&m, "y"), "A");
        assert_null(id_named(&m, "a"));
        assert_null(domain_map_find(&m, "B", NULL));  /* asked of Keystone again */
        domain_map_learn(&m, "B", "z");
        assert_string_equal(id_named(&m, "z"), "B");
        assert_string_equal(id_named(&m, "y"), "A");
        assert_int_equal(m.n, 2);
        /* a new domain under a known name takes it as well */
        domain_map_learn(&m, "C", "z");
        assert_string_equal(id_named(&m, "z"), "C");
        assert_null(domain_map_find(&m, "B", NULL));
        assert_int_equal(m.n, 2);
        domain_map_clear(&m);
}

static void test_bounded(void **state) {
        struct domain_map m = { 0 };
        char id[32], name[32];
        for (int i = 0; i < DOMAIN_MAP_MAX + 10; i++) {
                snprintf(id, sizeof(id), "id%d", i);
                snprintf(name, sizeof(name), "name%d", i);
                domain_map_learn(&m, id, name);
        }
        assert_int_equal(m.n, DOMAIN_MAP_MAX);
        assert_null(id_named(&m, "name1030"));
        /* a known domain is still renamed when the map is full */
        domain_map_learn(&m, "id0", "first");
        assert_string_equal(id_named(&m, "first"), "id0");
        domain_map_clear(&m);
}

/* whether a domain is enabled is kept with it, through a rename, and
 * never for a domain the map does not hold */
static void test_enabled_state(void **state) {
        struct domain_map m = { 0 };
        domain_map_learn(&m, "d2", "partners");
        assert_int_equal(domain_map_find(&m, "d2", NULL)->enabled_at_ms, 0);
        domain_map_set_enabled(&m, "d2", false, 1000);
        domain_map_set_enabled(&m, "d9", true, 1000);
        assert_null(domain_map_find(&m, "d9", NULL));
        domain_map_learn(&m, "d2", "partners-renamed");
        const struct domain_map_entry *d = domain_map_find(&m, "d2", NULL);
        assert_false(d->enabled);
        assert_int_equal(d->enabled_at_ms, 1000);
        domain_map_set_enabled(&m, "d2", true, 2000);
        assert_true(domain_map_find(&m, NULL, "partners-renamed")->enabled);
        domain_map_clear(&m);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_find_by_id_and_name),
                cmocka_unit_test(test_rename_takes_the_name),
                cmocka_unit_test(test_bounded),
                cmocka_unit_test(test_enabled_state),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
