/* Fuzz target: the parameter checker (vl_validate) against every type the
 * shipped interfaces declare — method inputs (what kaasd checks before a
 * handler runs), method outputs and error parameters (what clients check),
 * and named types. The interfaces are the texts kaasd compiles in from
 * the .varlink files of docs/ (kaasd/interfaces.c).
 *
 * Input: a first line choosing the type, then the JSON value:
 *   "in io.kaas.Token.Create"     the method's input
 *   "out io.kaas.Token.Create"    its output
 *   "error io.kaas.Token.NotFound"
 *   "type io.kaas.Token.TokenInfo"
 * A line that names nothing picks a type by its hash, so arbitrary bytes
 * still reach every type. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "kaasd/interfaces.h"
#include "varlink_idl.h"
#include "varlink_message.h"

struct target {
        char name[2 * 256 + 16];  /* "in iface.Member" */
        const struct vl_interface *iface;
        const struct vl_type *type;
};

static struct vl_interface **ifaces;
static struct target *targets;
static size_t n_targets;

static void add(const struct vl_interface *iface, const char *kind, const char *member, const struct vl_type *t) {
        struct target *x = realloc(targets, (n_targets + 1) * sizeof(*targets));
        if (!x || !t)
                abort();
        targets = x;
        snprintf(targets[n_targets].name, sizeof(targets[n_targets].name), "%s %s.%s", kind, iface->name, member);
        targets[n_targets].iface = iface;
        targets[n_targets].type = t;
        n_targets++;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        if (!(ifaces = calloc(kaasd_n_interfaces, sizeof(*ifaces))))
                abort();
        for (size_t i = 0; i < kaasd_n_interfaces; i++) {
                unsigned line = 0;
                if (vl_idl_parse(kaasd_interfaces[i], &ifaces[i], &line) < 0) {
                        fprintf(stderr, "shipped interface #%zu does not parse (line %u)\n", i, line);
                        abort();
                }
                const struct vl_interface *iface = ifaces[i];
                for (size_t m = 0; m < iface->n_members; m++) {
                        const struct vl_member *mb = &iface->members[m];
                        switch (mb->kind) {
                        case VL_MEMBER_METHOD:
                                add(iface, "in", mb->name, mb->type);
                                add(iface, "out", mb->name, mb->output);
                                break;
                        case VL_MEMBER_ERROR:
                                add(iface, "error", mb->name, mb->type);
                                break;
                        case VL_MEMBER_TYPE:
                                add(iface, "type", mb->name, mb->type);
                                break;
                        }
                }
        }
        FUZZ_ASSERT(n_targets > 0);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const uint8_t *nl = memchr(data, '\n', size);
        size_t line_len = nl ? (size_t)(nl - data) : 0;
        const struct target *t = NULL;
        for (size_t i = 0; i < n_targets && !t; i++)
                if (strlen(targets[i].name) == line_len && memcmp(targets[i].name, data, line_len) == 0)
                        t = &targets[i];
        if (!t) {
                uint32_t h = 2166136261u;  /* FNV-1a */
                for (size_t i = 0; i < line_len; i++)
                        h = (h ^ data[i]) * 16777619u;
                t = &targets[h % n_targets];
        }
        const char *json = nl ? (const char *)nl + 1 : (const char *)data;
        size_t json_len = nl ? size - line_len - 1 : size;

        json_t *v = json_loadb(json, json_len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
        if (!v)
                return 0;
        const char *field = NULL;
        int r = vl_validate(t->iface, t->type, v, &field);
        FUZZ_ASSERT(r == 0 || r == -EINVAL);
        if (r < 0) {
                FUZZ_ASSERT(field != NULL);
                /* a live string: a field name of the IDL or a key of the value */
                FUZZ_ASSERT(strlen(field) <= VL_NAME_MAX || strlen(field) <= json_len);
        }
        json_decref(v);
        return 0;
}
