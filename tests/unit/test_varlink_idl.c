/* Interface definitions and parameter checking: what kaasd accepts before
 * any handler runs. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "varlink_idl.h"
#include "varlink_message.h"

static const char idl[] =
        "# A test interface\n"
        "interface org.example.Test\n"
        "\n"
        "type Role (id: string, name: ?string)\n"
        "type Kind (user, group)\n"
        "\n"
        "# does things\n"
        "method Do(\n"
        "  name: string,\n"
        "  count: ?int,\n"
        "  ratio: ?float,\n"
        "  flag: ?bool,\n"
        "  roles: ?[]Role,\n"
        "  labels: ?[string]string,\n"
        "  kind: ?Kind,\n"
        "  inline: ?(a: int, b: ?(c: string)),\n"
        "  any: ?object\n"
        ") -> (ok: bool)\n"
        "method Empty() -> ()\n"
        "error Failed (reason: string)\n";

static struct vl_interface *iface;

static int setup(void **state) {
        unsigned line = 0;
        return vl_idl_parse(idl, &iface, &line);
}

static int teardown(void **state) {
        vl_interface_free(iface);
        return 0;
}

static int check(const char *json, const char **field) {
        json_error_t e;
        json_t *v = json_loads(json, 0, &e);
        assert_non_null(v);
        const struct vl_member *m = vl_interface_find(iface, VL_MEMBER_METHOD, "Do");
        assert_non_null(m);
        /* the field name may point into v: copy it before v goes */
        static char copy[256];
        const char *f = NULL;
        int r = vl_validate(iface, m->type, v, &f);
        snprintf(copy, sizeof(copy), "%s", f ? f : "");
        *field = f ? copy : NULL;
        json_decref(v);
        return r;
}

static void expect_ok(const char *json) {
        const char *field;
        assert_int_equal(check(json, &field), 0);
}

static void expect_bad(const char *json, const char *bad_field) {
        const char *field;
        assert_int_equal(check(json, &field), -EINVAL);
        assert_non_null(field);
        assert_string_equal(field, bad_field);
}

static void test_parse(void **state) {
        assert_string_equal(iface->name, "org.example.Test");
        assert_int_equal(iface->n_members, 5);
        assert_non_null(vl_interface_find(iface, VL_MEMBER_METHOD, "Empty"));
        assert_non_null(vl_interface_find(iface, VL_MEMBER_ERROR, "Failed"));
        assert_non_null(vl_interface_find(iface, VL_MEMBER_TYPE, "Kind"));
        assert_null(vl_interface_find(iface, VL_MEMBER_METHOD, "Failed"));
        assert_string_equal(iface->description, idl);
}

static void test_parse_errors(void **state) {
        static const struct { const char *text; unsigned line; } bad[] = {
                { "", 1 },
                { "interface a.b\n", 2 },                             /* no members */
                { "interface ab\nmethod A() -> ()\n", 1 },            /* one label */
                { "interface a.b\nmethod a() -> ()\n", 2 },           /* lower-case member */
                { "interface a.b\nmethod A() -> ()\nmethod A() -> ()\n", 3 },
                { "interface a.b\nmethod A(x: Unknown) -> ()\n", 2 }, /* undefined type */
                { "interface a.b\nmethod A(x: int, x: int) -> ()\n", 2 },
                { "interface a.b\nmethod A(x: int\n", 3 },
                { "interface a.b\nmethod A(x: ??int) -> ()\n", 2 },
                { "interface a.b\nmethod A(x: [int]int) -> ()\n", 2 },
                { "interface a.b\ntype T (a, b: int)\n", 2 },         /* enum/struct mix */
                { "interface a.b\nmethod A() -> ()\ngarbage\n", 3 },
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct vl_interface *x = NULL;
                unsigned line = 0;
                assert_int_equal(vl_idl_parse(bad[i].text, &x, &line), -EINVAL);
                assert_null(x);
                if (line != bad[i].line)
                        fail_msg("case %zu: error on line %u, expected %u", i, line, bad[i].line);
        }
}

static void test_deep_nesting_refused(void **state) {
        char text[4096] = "interface a.b\nmethod A(x: ";
        for (int i = 0; i < 100; i++)
                strcat(text, "[]");
        strcat(text, "int) -> ()\n");
        struct vl_interface *x = NULL;
        assert_int_equal(vl_idl_parse(text, &x, NULL), -EINVAL);
}

static void test_validate_types(void **state) {
        expect_ok("{\"name\":\"x\"}");
        expect_ok("{\"name\":\"x\",\"count\":3,\"ratio\":1,\"flag\":true,\"kind\":\"group\"}");
        expect_ok("{\"name\":\"x\",\"count\":null}");
        expect_ok("{\"name\":\"x\",\"roles\":[{\"id\":\"r\"},{\"id\":\"s\",\"name\":\"n\"}]}");
        expect_ok("{\"name\":\"x\",\"labels\":{\"a\":\"b\"}}");
        expect_ok("{\"name\":\"x\",\"inline\":{\"a\":1,\"b\":{\"c\":\"d\"}}}");
        expect_ok("{\"name\":\"x\",\"any\":[1,{\"z\":null}]}");

        expect_bad("{}", "name");                                   /* required */
        expect_bad("{\"name\":null}", "name");                      /* not nullable */
        expect_bad("{\"name\":1}", "name");
        expect_bad("{\"name\":\"x\",\"extra\":1}", "extra");        /* unknown */
        expect_bad("{\"name\":\"x\",\"count\":1.5}", "count");
        expect_bad("{\"name\":\"x\",\"count\":\"1\"}", "count");
        expect_bad("{\"name\":\"x\",\"ratio\":\"1\"}", "ratio");
        expect_bad("{\"name\":\"x\",\"flag\":1}", "flag");
        expect_bad("{\"name\":\"x\",\"kind\":\"other\"}", "kind");
        expect_bad("{\"name\":\"x\",\"roles\":{}}", "roles");
        expect_bad("{\"name\":\"x\",\"roles\":[{}]}", "id");
        expect_bad("{\"name\":\"x\",\"roles\":[{\"id\":\"r\",\"x\":1}]}", "x");
        expect_bad("{\"name\":\"x\",\"labels\":{\"a\":1}}", "a");
        expect_bad("{\"name\":\"x\",\"inline\":{\"a\":1,\"b\":{\"c\":2}}}", "c");
}

static void test_call_envelope(void **state) {
        static const struct { const char *json; int ok; const char *field; } cases[] = {
                { "{\"method\":\"a.b.C\"}", 1, NULL },
                { "{\"method\":\"a.b.C\",\"parameters\":{},\"more\":true}", 1, NULL },
                { "{\"method\":\"a.b.C\",\"oneway\":true}", 1, NULL },
                { "{\"method\":\"a.b.C\",\"parameters\":null}", 1, NULL },
                { "{\"method\":\"a.b.C\",\"parameters\":\"\"}", 0, "parameters" },
                { "{\"method\":\"a.b.C\",\"parameters\":false}", 0, "parameters" },
                { "{}", 0, "method" },
                { "{\"method\":1}", 0, "method" },
                { "{\"method\":\"a.b.C\",\"parameters\":[]}", 0, "parameters" },
                { "{\"method\":\"a.b.C\",\"more\":\"yes\"}", 0, "more" },
                { "{\"method\":\"a.b.C\",\"more\":true,\"oneway\":true}", 0, "oneway" },
                { "{\"method\":\"a.b.C\",\"surprise\":1}", 0, "message" },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                json_t *m = json_loads(cases[i].json, 0, NULL);
                assert_non_null(m);
                struct vl_call c;
                const char *field = NULL;
                int r = vl_call_parse(m, &c, &field);
                if (cases[i].ok) {
                        assert_int_equal(r, 0);
                        assert_string_equal(c.method, "a.b.C");
                        assert_true(json_is_object(c.parameters));
                } else {
                        assert_int_equal(r, -EBADMSG);
                        assert_string_equal(field, cases[i].field);
                }
                json_decref(m);
        }
}

static void test_names(void **state) {
        assert_true(vl_interface_name_valid("org.varlink.service"));
        assert_true(vl_interface_name_valid("io.systemd.UserDatabase"));
        assert_true(vl_interface_name_valid("io.kaas"));
        assert_true(vl_interface_name_valid("a1.b-c.d2"));
        assert_false(vl_interface_name_valid("io"));
        assert_false(vl_interface_name_valid("io."));
        assert_false(vl_interface_name_valid(".io.kaas"));
        assert_false(vl_interface_name_valid("io..kaas"));
        assert_false(vl_interface_name_valid("io.kaas-"));
        assert_false(vl_interface_name_valid("1o.kaas"));
        assert_false(vl_interface_name_valid("io.ka_as"));
        assert_true(vl_member_name_valid("GetInfo"));
        assert_false(vl_member_name_valid("getInfo"));
        assert_false(vl_member_name_valid("Get_Info"));
        assert_false(vl_member_name_valid(""));

        char iface_name[VL_NAME_MAX + 1];
        const char *member;
        assert_int_equal(vl_method_split("io.kaas.Admin.Status", iface_name, &member), 0);
        assert_string_equal(iface_name, "io.kaas.Admin");
        assert_string_equal(member, "Status");
        assert_int_equal(vl_method_split("Status", iface_name, &member), -EINVAL);
        assert_int_equal(vl_method_split("io.kaas.Admin.status", iface_name, &member), -EINVAL);
        assert_int_equal(vl_method_split("io.Status", iface_name, &member), -EINVAL);
}

/* Every interface kaasd ships must parse: a broken .varlink file would
 * otherwise only show when the daemon starts. */
static void test_shipped_interfaces(void **state) {
        const char *dir = getenv("srcdir");
        static const char *const files[] = { "docs/org.varlink.service.varlink", "docs/io.kaas.varlink",
                                             "docs/io.kaas.Admin.varlink" };
        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
                char path[4096];
                snprintf(path, sizeof(path), "%s/%s", dir ? dir : ".", files[i]);
                FILE *f = fopen(path, "r");
                if (!f)
                        fail_msg("cannot open %s", path);
                static char text[65536];
                size_t n = fread(text, 1, sizeof(text) - 1, f);
                fclose(f);
                text[n] = 0;
                struct vl_interface *x = NULL;
                unsigned line = 0;
                if (vl_idl_parse(text, &x, &line) != 0)
                        fail_msg("%s: parse error on line %u", path, line);
                vl_interface_free(x);
        }
}

static void test_wipe(void **state) {
        json_t *shared = json_string("cached-identity");
        json_t *m = json_pack("{s:s, s:[s], s:O}", "token", "kaas_secret", "list", "pw", "user", shared);
        const char *token = json_string_value(json_object_get(m, "token"));
        const char *pw = json_string_value(json_array_get(json_object_get(m, "list"), 0));
        vl_json_wipe(m);
        /* unshared strings are zeroed in place, shared ones untouched */
        assert_int_equal(token[0], 0);
        assert_int_equal(token[10], 0);
        assert_int_equal(pw[0], 0);
        assert_string_equal(json_string_value(shared), "cached-identity");
        json_decref(m);
        json_decref(shared);
        /* a message referenced elsewhere is not wiped at all */
        m = json_pack("{s:s}", "a", "keep");
        json_incref(m);
        vl_json_wipe(m);
        assert_string_equal(json_string_value(json_object_get(m, "a")), "keep");
        json_decref(m);
        json_decref(m);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse),
                cmocka_unit_test(test_parse_errors),
                cmocka_unit_test(test_deep_nesting_refused),
                cmocka_unit_test(test_validate_types),
                cmocka_unit_test(test_call_envelope),
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_shipped_interfaces),
                cmocka_unit_test(test_wipe),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
