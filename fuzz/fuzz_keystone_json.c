/* Fuzz target: every Keystone reply parser (kaasd/keystone_json.c). Keystone
 * is trusted to be honest but not to be well-formed: a proxy, a bug or a
 * hostile server on the path must not crash kaasd.
 *
 * Input: a reply body. Each input goes through every parser, so a seed of
 * one reply shape also exercises the others' refusals.
 *
 * Properties: on success every string respects ks_valid_id/ks_valid_name
 * and the results are coherent (expiry after issue, assignments for the
 * asked user without duplicates, list matches named exactly as asked); on
 * failure the outputs are untouched and err holds a message; error
 * messages for logs are printable ASCII; and (under LeakSanitizer) the
 * *_clear() functions free everything. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "kaasd/keystone_json.h"

/* the user of the seed replies (tests/unit/test_keystone_json.c) */
#define ALICE "a0cba8b7ca3046da8375b62192fe10ca"

static void check_error(int r, const char *err) {
        FUZZ_ASSERT(r == -EBADMSG || r == -ENOMEM || r == -ENOENT);
        if (r == -EBADMSG)
                FUZZ_ASSERT(err[0] != '\0' && strlen(err) < KS_ERROR_SIZE);
}

static void check_user(const struct ks_user *u) {
        FUZZ_ASSERT(ks_valid_id(u->id) && ks_valid_name(u->name) && ks_valid_id(u->domain_id));
        FUZZ_ASSERT(!u->domain_name || ks_valid_name(u->domain_name));
}

static void check_assignments(const struct ks_assignments *a) {
        FUZZ_ASSERT(a->n <= KS_ASSIGNMENTS_MAX);
        FUZZ_ASSERT(!a->user_domain_name || ks_valid_name(a->user_domain_name));
        for (size_t i = 0; i < a->n; i++) {
                const struct ks_assignment *x = &a->items[i];
                FUZZ_ASSERT(ks_valid_id(x->role_id) && ks_valid_name(x->role_name));
                FUZZ_ASSERT(strcmp(ks_scope_kind_name(x->scope), "unknown") != 0);
                FUZZ_ASSERT(x->scope_id && ks_valid_id(x->scope_id));
                if (x->scope == KS_SCOPE_PROJECT)
                        FUZZ_ASSERT(x->scope_name && x->scope_domain_id);
                else
                        FUZZ_ASSERT(!x->scope_domain_id && !x->scope_domain_name);
                if (x->scope == KS_SCOPE_SYSTEM)
                        FUZZ_ASSERT(strcmp(x->scope_id, "all") == 0 && !x->scope_name);
                for (size_t k = 0; k < i; k++)
                        FUZZ_ASSERT(!(strcmp(a->items[k].role_id, x->role_id) == 0 && a->items[k].scope == x->scope &&
                                      strcmp(a->items[k].scope_id, x->scope_id) == 0));
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *body = (const char *)data;
        char err[KS_ERROR_SIZE + 64];
        int r;

        struct ks_token_info t = { .issued_at = 42 };
        err[0] = '\0';
        r = ks_json_parse_token(body, size, &t, err, sizeof(err));
        if (r == 0) {
                check_user(&t.user);
                FUZZ_ASSERT(t.user.domain_name && t.user.enabled);
                FUZZ_ASSERT(t.expires_at > t.issued_at);
                ks_token_info_clear(&t);
        } else {
                check_error(r, err);
                FUZZ_ASSERT(t.issued_at == 42 && !t.user.id);
        }

        struct ks_user u = { 0 };
        err[0] = '\0';
        r = ks_json_parse_user(body, size, &u, err, sizeof(err));
        if (r == 0) {
                check_user(&u);
                ks_user_clear(&u);
        } else {
                check_error(r, err);
                FUZZ_ASSERT(!u.id && !u.name);
        }

        static const char *const names[] = { "carol", "alice", "partners", "Default" };
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                err[0] = '\0';
                r = ks_json_parse_user_list(body, size, names[i], "default", &u, err, sizeof(err));
                if (r == 0) {
                        check_user(&u);
                        FUZZ_ASSERT(strcmp(u.name, names[i]) == 0 && strcmp(u.domain_id, "default") == 0);
                        ks_user_clear(&u);
                } else {
                        check_error(r, err);
                        FUZZ_ASSERT(!u.id);
                }

                struct ks_domain d = { 0 };
                err[0] = '\0';
                r = ks_json_parse_domain_list(body, size, names[i], &d, err, sizeof(err));
                if (r == 0) {
                        FUZZ_ASSERT(ks_valid_id(d.id) && strcmp(d.name, names[i]) == 0);
                        ks_domain_clear(&d);
                } else {
                        check_error(r, err);
                        FUZZ_ASSERT(!d.id);
                }
        }

        struct ks_domain d = { 0 };
        err[0] = '\0';
        r = ks_json_parse_domain(body, size, &d, err, sizeof(err));
        if (r == 0) {
                FUZZ_ASSERT(ks_valid_id(d.id) && ks_valid_name(d.name));
                ks_domain_clear(&d);
        } else {
                check_error(r, err);
                FUZZ_ASSERT(!d.id);
        }

        /* the user a listing is for, as kaasd asks: the first entry's, so
         * that captured replies of any user parse; and a fixed one */
        json_t *j = json_loadb(body, size, 0, NULL);
        const char *first = json_string_value(json_object_get(
                json_object_get(json_array_get(json_object_get(j, "role_assignments"), 0), "user"), "id"));
        const char *const users[] = { first ? first : ALICE, ALICE };
        for (size_t i = 0; i < 2; i++) {
                struct ks_assignments a = { 0 };
                err[0] = '\0';
                r = ks_json_parse_assignments(body, size, users[i], &a, err, sizeof(err));
                if (r == 0) {
                        check_assignments(&a);
                        ks_assignments_clear(&a);
                } else {
                        check_error(r, err);
                        FUZZ_ASSERT(!a.items && !a.n);
                }
        }
        json_decref(j);

        char msg[128];
        ks_json_error_message(body, size, msg, sizeof(msg));
        for (const char *p = msg; *p; p++)
                FUZZ_ASSERT(*p >= 0x20 && *p < 0x7f);
        ks_json_error_message(body, size, msg, 1);
        FUZZ_ASSERT(msg[0] == '\0');

        /* the time format, on the input as a C string */
        char *s = fuzz_strndup(data, size < 64 ? size : 64);
        int64_t when = 0;
        if (ks_parse_time(s, &when) == 0)
                FUZZ_ASSERT(when >= 0);
        free(s);
        return 0;
}
