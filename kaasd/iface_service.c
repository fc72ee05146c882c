/* org.varlink.service: introspection, so any varlink client can discover
 * and call kaasd; and io.kaas.Ping, the liveness check. */
#include "config.h"

#include <errno.h>

#include "daemon.h"
#include "methods.h"
#include "varlink_message.h"

int service_get_info(struct call *call, json_t *parameters, void *context) {
        struct daemon *d = context;
        json_t *ifaces = json_array();
        if (!ifaces)
                return -ENOMEM;
        for (size_t i = 0; i < registry_n_interfaces(d->registry); i++)
                if (json_array_append_new(ifaces, json_string(registry_interface_at(d->registry, i)->name)) < 0) {
                        json_decref(ifaces);
                        return -ENOMEM;
                }
        json_t *reply = json_pack("{s:s, s:s, s:s, s:s, s:o}", "vendor", "kaas", "product", "kaasd",
                                  "version", PACKAGE_VERSION, "url", "https://kaas.invalid/", "interfaces", ifaces);
        if (!reply)
                return -ENOMEM;
        return call_reply(call, reply);
}

int service_get_interface_description(struct call *call, json_t *parameters, void *context) {
        struct daemon *d = context;
        const char *name = json_string_value(json_object_get(parameters, "interface"));
        const struct vl_interface *iface = registry_find_interface(d->registry, name);
        if (!iface)
                return call_error(call, VL_ERROR_INTERFACE_NOT_FOUND, json_pack("{s:s}", "interface", name));
        return call_reply(call, json_pack("{s:s}", "description", iface->description));
}

int service_ping(struct call *call, json_t *parameters, void *context) {
        return call_reply(call, NULL);
}
