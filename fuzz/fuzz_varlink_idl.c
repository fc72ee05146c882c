/* Fuzz target: the varlink IDL parser (vl_idl_parse) on arbitrary text,
 * and the checker on whatever interface it accepts. kaasd parses only its
 * compiled-in texts, but clients parse what GetInterfaceDescription
 * returns, and the parser must hold for both.
 *
 * Input: IDL text, optionally followed by a NUL and a JSON value that is
 * then validated against every type of the parsed interface (without one,
 * a few fixed values are). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "varlink_idl.h"
#include "varlink_message.h"

static const char *const fixed_values[] = {
        "{}", "null", "[]", "\"a\"", "1", "1.5", "true",
        "{\"a\": 1, \"b\": [\"x\", null], \"c\": {\"d\": {\"e\": false}}}",
        "[[{}], {\"a\": []}]",
};

static void validate_all(const struct vl_interface *iface, json_t *v) {
        for (size_t i = 0; i < iface->n_members; i++) {
                const struct vl_member *m = &iface->members[i];
                const struct vl_type *types[] = { m->type, m->output };
                for (size_t k = 0; k < 2; k++) {
                        if (!types[k])
                                continue;
                        const char *field = NULL;
                        int r = vl_validate(iface, types[k], v, &field);
                        FUZZ_ASSERT(r == 0 || (r == -EINVAL && field));
                }
        }
}

static void check_type(const struct vl_type *t, int depth) {
        FUZZ_ASSERT(depth < 1000);
        switch (t->kind) {
        case VL_ARRAY:
        case VL_MAP:
                FUZZ_ASSERT(t->element);
                check_type(t->element, depth + 1);
                break;
        case VL_ALIAS:
                FUZZ_ASSERT(t->alias && vl_member_name_valid(t->alias));
                break;
        case VL_STRUCT:
        case VL_ENUM:
                for (size_t i = 0; i < t->n_fields; i++) {
                        FUZZ_ASSERT(t->fields[i].name);
                        FUZZ_ASSERT((t->kind == VL_STRUCT) == (t->fields[i].type != NULL));
                        if (t->fields[i].type)
                                check_type(t->fields[i].type, depth + 1);
                }
                break;
        default:
                break;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const uint8_t *nul = memchr(data, '\0', size);
        size_t idl_len = nul ? (size_t)(nul - data) : size;
        char *text = fuzz_strndup(data, idl_len);

        struct vl_interface *iface = NULL;
        unsigned line = 0;
        int r = vl_idl_parse(text, &iface, &line);
        if (r < 0) {
                FUZZ_ASSERT(r == -EINVAL || r == -ENOMEM);
                free(text);
                return 0;
        }
        FUZZ_ASSERT(iface && vl_interface_name_valid(iface->name) && iface->n_members > 0);
        FUZZ_ASSERT(strcmp(iface->description, text) == 0);
        for (size_t i = 0; i < iface->n_members; i++) {
                const struct vl_member *m = &iface->members[i];
                FUZZ_ASSERT(vl_member_name_valid(m->name));
                /* member names are unique, whatever their kind */
                FUZZ_ASSERT(vl_interface_find(iface, m->kind, m->name) == m);
                FUZZ_ASSERT(m->type);
                check_type(m->type, 0);
                if (m->kind == VL_MEMBER_METHOD) {
                        FUZZ_ASSERT(m->type->kind == VL_STRUCT && m->output && m->output->kind == VL_STRUCT);
                        check_type(m->output, 0);
                } else {
                        FUZZ_ASSERT(!m->output);
                }
        }

        if (nul) {
                json_t *v = json_loadb((const char *)nul + 1, size - idl_len - 1,
                                       JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
                if (v) {
                        validate_all(iface, v);
                        json_decref(v);
                }
        } else {
                for (size_t i = 0; i < sizeof(fixed_values) / sizeof(fixed_values[0]); i++) {
                        json_t *v = json_loads(fixed_values[i], JSON_DECODE_ANY, NULL);
                        FUZZ_ASSERT(v);
                        validate_all(iface, v);
                        json_decref(v);
                }
        }

        vl_interface_free(iface);
        free(text);
        return 0;
}
