/* io.kaas.Admin: daemon status, configuration reload and identity cache
 * control. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "daemon.h"
#include "environment.h"
#include "identity.h"
#include "credentials.h"
#include "keystone.h"
#include "tokens.h"
#include "log.h"
#include "methods.h"

static json_t *int_or_null(bool set, int64_t v) {
        return set ? json_integer((json_int_t)v) : json_null();
}

/* The Keystone backend and identity cache part of Status. */
static json_t *keystone_status(struct daemon *d) {
        struct identity_stats st = { .state = IDENTITY_BACKEND_UNCONFIGURED };
        uint64_t entries = 0;
        if (d->identities) {
                identity_cache_get_stats(d->identities, &st);
                (void)identity_cache_count(d->identities, &entries);
        }
        const struct keystone_counters *kc = d->keystone ? keystone_get_counters(d->keystone) : NULL;
        json_t *requests = json_array();
        if (!requests)
                return NULL;
        for (int k = 0; kc && k < KS_REQ_KIND_MAX; k++) {
                uint64_t answered = kc->answered[k];
                if (json_array_append_new(requests,
                                          json_pack("{s:s, s:I, s:I, s:I}", "kind", keystone_kind_name((enum ks_kind)k),
                                                    "requests", (json_int_t)kc->requests[k], "failures",
                                                    (json_int_t)kc->failures[k], "avg_ms",
                                                    (json_int_t)(answered ? kc->total_usec[k] / answered / 1000 : 0))) < 0) {
                        json_decref(requests);
                        return NULL;
                }
        }
        int64_t token_expires = 0;
        bool has_token = d->keystone && keystone_has_service_token(d->keystone, &token_expires);
        bool offline = st.state == IDENTITY_BACKEND_OFFLINE;
        return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
                         " s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                         "state", identity_backend_state_name(st.state),
                         "url", d->keystone ? json_string(keystone_url(d->keystone)) : json_null(),
                         "retry_at", int_or_null(offline, st.retry_at),
                         "last_error", st.last_error ? json_string(st.last_error) : json_null(),
                         "last_error_at", int_or_null(st.last_error != NULL, st.last_error_at),
                         "last_online_at", int_or_null(st.last_online_at != 0, st.last_online_at),
                         "service_token_expires_at", int_or_null(has_token, token_expires),
                         "requests", requests,
                         "requests_in_flight", (json_int_t)(kc ? kc->in_flight : 0),
                         "retried_after_401", (json_int_t)(kc ? kc->retried_after_401 : 0),
                         "retried_transient", (json_int_t)(kc ? kc->retried_transient : 0),
                         "service_auth_rejected", (json_int_t)(kc ? kc->service_auth_rejected : 0),
                         "cache_entries", (json_int_t)entries,
                         "negative_entries", (json_int_t)st.negative_entries,
                         "lookups", (json_int_t)st.lookups,
                         "cache_hits", (json_int_t)st.cache_hits,
                         "served_stale", (json_int_t)st.served_stale,
                         "negative_hits", (json_int_t)st.negative_hits,
                         "merged_lookups", (json_int_t)st.merged,
                         "fetches", (json_int_t)st.fetches,
                         "fetches_in_flight", (json_int_t)st.pending,
                         "background_refreshes", (json_int_t)st.background_refreshes,
                         "unavailable", (json_int_t)st.unavailable,
                         "share_refused", (json_int_t)st.share_refused,
                         "share_queued", (json_int_t)st.share_queued);
}

/* Outcome counters (errors per method and in all, token verdicts) tell
 * whether calls succeeded, other users' too: only administrators see
 * them. Everyone else gets them as null. */
int admin_status(struct call *call, json_t *parameters, void *context) {
        struct daemon *d = context;
        const struct server_stats *st = server_get_stats(d->server);
        bool admin = call_peer_is_admin(call);
        json_t *methods = json_array();
        if (!methods)
                return -ENOMEM;
        for (size_t i = 0; i < registry_n_methods(d->registry); i++) {
                const struct method_entry *e = registry_method_at(d->registry, i);
                if (json_array_append_new(methods, json_pack("{s:s, s:I, s:o}", "method", e->name,
                                                             "calls", (json_int_t)e->calls,
                                                             "errors", int_or_null(admin, (int64_t)e->errors))) < 0) {
                        json_decref(methods);
                        return -ENOMEM;
                }
        }
        json_t *ks = keystone_status(d);
        if (!ks) {
                json_decref(methods);
                return -ENOMEM;
        }
        const struct token_stats *ts = token_service_stats(d->tokens);
        json_t *tokens = !admin ? json_null() : json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                                   "created", (json_int_t)ts->created, "deleted", (json_int_t)ts->deleted,
                                   "validations", (json_int_t)ts->validations,
                                   "store_lookups", (json_int_t)ts->store_lookups,
                                   "rejected_invalid", (json_int_t)ts->rejected[TOKEN_INVALID],
                                   "rejected_expired", (json_int_t)ts->rejected[TOKEN_EXPIRED],
                                   "rejected_user_disabled", (json_int_t)ts->rejected[TOKEN_USER_DISABLED],
                                   "rejected_user_refused", (json_int_t)ts->rejected[TOKEN_USER_REFUSED],
                                   "unavailable", (json_int_t)ts->rejected[TOKEN_UNAVAILABLE],
                                   "throttled_attempts", (json_int_t)credential_checker_throttled(d->credentials),
                                   "last_used_writes", (json_int_t)ts->touches_written);
        if (!tokens) {
                json_decref(methods);
                json_decref(ks);
                return -ENOMEM;
        }
        uint64_t uptime = (loop_now_usec() - d->started_usec) / 1000000u;
        json_t *reply = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:o, s:I, s:o, s:o, s:o, s:I}",
                                  "version", PACKAGE_VERSION,
                                  "uptime_seconds", (json_int_t)uptime,
                                  "connections", (json_int_t)st->connections,
                                  "connections_total", (json_int_t)st->connections_total,
                                  "connections_refused", (json_int_t)st->connections_refused,
                                  "calls", (json_int_t)st->calls,
                                  "errors", int_or_null(admin, (int64_t)st->errors),
                                  "calls_in_flight", (json_int_t)st->calls_in_flight,
                                  "methods", methods,
                                  "keystone", ks,
                                  "tokens", tokens,
                                  "stored_ids_in_subordinate_ranges", (json_int_t)d->stored_ids_in_subid);
        if (!reply)
                return -ENOMEM;
        json_t *store = environment_status(d);
        if (store && json_object_set_new(reply, "store", store) < 0) {
                json_decref(reply);
                return -ENOMEM;
        }
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

int admin_invalidate_user(struct call *call, json_t *parameters, void *context) {
        struct daemon *d = context;
        const char *user = json_string_value(json_object_get(parameters, "user"));
        unsigned removed = 0;
        if (!d->identities)
                return call_error_reason(call, "io.kaas.Admin.CacheError", "the identity cache is not running");
        int r = identity_invalidate(d->identities, user, &removed);
        if (r < 0)
                return call_error_reason(call, "io.kaas.Admin.CacheError", strerror(-r));
        log_notice(call_id(call), "identity cache entries of '%s' dropped on request of uid %u (%u removed)", user,
                   (unsigned)call_peer(call)->uid, removed);
        return call_reply(call, json_pack("{s:I}", "removed", (json_int_t)removed));
}

int admin_flush_cache(struct call *call, json_t *parameters, void *context) {
        struct daemon *d = context;
        unsigned removed = 0;
        if (!d->identities)
                return call_error_reason(call, "io.kaas.Admin.CacheError", "the identity cache is not running");
        int r = identity_flush(d->identities, &removed);
        if (r < 0)
                return call_error_reason(call, "io.kaas.Admin.CacheError", strerror(-r));
        log_notice(call_id(call), "identity cache flushed on request of uid %u (%u entries removed)",
                   (unsigned)call_peer(call)->uid, removed);
        return call_reply(call, json_pack("{s:I}", "removed", (json_int_t)removed));
}

/* Moves the local store's tokens into the environment's etcd (a writer's
 * only), each unless present: idempotent. Replies once etcd answered for
 * every token. */
int admin_migrate_store(struct call *call, json_t *parameters, void *context) {
        environment_store_migrate(context, call);
        return 0;
}
