/* io.kaas.Admin: daemon status and configuration reload. */
#include "config.h"

#include <errno.h>

#include "daemon.h"
#include "log.h"
#include "methods.h"

int admin_status(struct call *call, json_t *parameters, void *context) {
        struct daemon *d = context;
        const struct server_stats *st = server_get_stats(d->server);
        json_t *methods = json_array();
        if (!methods)
                return -ENOMEM;
        for (size_t i = 0; i < registry_n_methods(d->registry); i++) {
                const struct method_entry *e = registry_method_at(d->registry, i);
                if (json_array_append_new(methods, json_pack("{s:s, s:I, s:I}", "method", e->name,
                                                             "calls", (json_int_t)e->calls,
                                                             "errors", (json_int_t)e->errors)) < 0) {
                        json_decref(methods);
                        return -ENOMEM;
                }
        }
        uint64_t uptime = (loop_now_usec() - d->started_usec) / 1000000u;
        json_t *reply = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
                                  "version", PACKAGE_VERSION,
                                  "uptime_seconds", (json_int_t)uptime,
                                  "connections", (json_int_t)st->connections,
                                  "connections_total", (json_int_t)st->connections_total,
                                  "connections_refused", (json_int_t)st->connections_refused,
                                  "calls", (json_int_t)st->calls,
                                  "errors", (json_int_t)st->errors,
                                  "calls_in_flight", (json_int_t)st->calls_in_flight,
                                  "methods", methods);
        if (!reply)
                return -ENOMEM;
        return call_reply(call, reply);
}

int admin_reload(struct call *call, json_t *parameters, void *context) {
        struct daemon *d = context;
        char err[600];
        if (daemon_reload(d, err, sizeof(err)) < 0)
                return call_error_reason(call, "io.kaas.Admin.ConfigError", err);
        log_notice(call_id(call), "configuration reloaded on request of uid %u", (unsigned)call_peer(call)->uid);
        return call_reply(call, NULL);
}
