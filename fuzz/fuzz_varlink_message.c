/* Fuzz target: one varlink message as kaasd's dispatcher and the clients
 * see it, short of a handler — the envelope check (vl_call_parse), the
 * method lookup in the registry of the interfaces kaasd ships, the
 * parameter check against the method's input type (vl_validate); and, on
 * the client side, the reply envelope (vl_reply_parse) with the error's
 * parameters checked against its declaration. Finally the wipe that runs
 * before a message is freed.
 *
 * Input: one message as it arrives between two NULs (JSON text). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "kaasd/interfaces.h"
#include "kaasd/registry.h"
#include "varlink_idl.h"
#include "varlink_message.h"

static struct registry *registry;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        char err[256];
        /* no handlers: every method is "defined", the lookup is the same */
        if (registry_new((const char *const *)kaasd_interfaces, kaasd_n_interfaces, NULL, 0, &registry, err,
                         sizeof(err)) < 0) {
                fprintf(stderr, "shipped interfaces do not parse: %s\n", err);
                abort();
        }
        return 0;
}

static void check_call(json_t *msg) {
        struct vl_call call;
        const char *field = NULL;
        if (vl_call_parse(msg, &call, &field) < 0) {
                FUZZ_ASSERT(field == NULL || strlen(field) > 0);
                return;
        }
        FUZZ_ASSERT(call.method && json_is_object(call.parameters));
        FUZZ_ASSERT(!(call.more && call.oneway));

        bool iface_known = false;
        struct method_entry *e = registry_find_method(registry, call.method, &iface_known);
        if (!e) {
                char iface[VL_NAME_MAX + 1];
                const char *member;
                if (vl_method_split(call.method, iface, &member) == 0)
                        FUZZ_ASSERT(iface_known == (registry_find_interface(registry, iface) != NULL));
                return;
        }
        FUZZ_ASSERT(iface_known);
        FUZZ_ASSERT(strcmp(e->name, call.method) == 0);
        field = NULL;
        if (vl_validate(e->iface, e->member->type, call.parameters, &field) < 0)
                FUZZ_ASSERT(field != NULL);  /* the server names it in InvalidParameter */
}

static void check_reply(json_t *msg) {
        struct vl_reply reply;
        if (vl_reply_parse(msg, &reply) < 0)
                return;
        FUZZ_ASSERT(json_is_object(reply.parameters));
        if (!reply.error)
                return;
        char iface_name[VL_NAME_MAX + 1];
        const char *member;
        if (vl_method_split(reply.error, iface_name, &member) < 0)
                return;
        const struct vl_interface *iface = registry_find_interface(registry, iface_name);
        const struct vl_member *m = iface ? vl_interface_find(iface, VL_MEMBER_ERROR, member) : NULL;
        if (m) {
                const char *field = NULL;
                if (vl_validate(iface, m->type, reply.parameters, &field) < 0)
                        FUZZ_ASSERT(field != NULL);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* as vl_reader_next() loads a message */
        json_t *msg = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
        if (!msg)
                return 0;
        if (json_is_object(msg)) {
                check_call(msg);
                check_reply(msg);
        }
        vl_json_wipe(msg);
        json_decref(msg);
        return 0;
}
