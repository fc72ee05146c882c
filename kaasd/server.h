/* The varlink server: accepts connections on listening sockets, reads
 * framed calls, checks them (envelope, method, access class, parameters
 * against the interface definition) and hands them to handlers; replies go
 * out in call order, whatever order handlers finish in. Every resource a
 * peer can grow is bounded: connections in total and per uid, message
 * size, calls queued per connection, output buffered per connection, and
 * time (idle connections, messages that never complete). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "loop.h"
#include "peer.h"
#include "registry.h"

struct server;
struct call;

struct server_limits {
        unsigned max_connections;
        unsigned max_connections_per_uid;  /* root is exempt: sshd, webhook */
        size_t max_message_size;
        size_t max_output_buffer;
        unsigned max_calls_per_connection; /* pipelined calls in flight */
        uint64_t idle_timeout_usec;        /* also bounds one message's arrival */
};

struct server_stats {
        uint64_t started_usec;
        unsigned connections;
        uint64_t connections_total;
        uint64_t connections_refused;
        uint64_t calls;
        uint64_t errors;
        uint64_t calls_in_flight;
};

int server_new(struct loop *loop, struct registry *registry, const struct server_limits *limits,
               const struct access_policy *policy, void *context, struct server **ret);
struct server *server_free(struct server *s);

/* Adopts a bound, listening socket (plain bind or systemd activation). */
int server_add_listener(struct server *s, int fd);
void server_set_limits(struct server *s, const struct server_limits *limits);
void server_set_policy(struct server *s, const struct access_policy *policy);

/* Graceful shutdown: stop accepting, close idle connections, and call
 * on_drained once no call is in flight and every reply has been sent. */
void server_drain(struct server *s, void (*on_drained)(void *userdata), void *userdata);

const struct server_stats *server_get_stats(const struct server *s);
struct registry *server_registry(const struct server *s);
/* The call whose handler runs now (NULL outside handlers): work a handler
 * starts through layers that do not see the call is attributed to it. */
const struct call *server_current_call(const struct server *s);

/* ---- for handlers ---- */
const struct peer *call_peer(const struct call *c);
uint64_t call_id(const struct call *c);
const char *call_method(const struct call *c);
bool call_wants_more(const struct call *c);
/* The client went away; replies are discarded. */
bool call_is_orphaned(const struct call *c);
/* Root or the admin group, by kernel credentials. */
bool call_peer_is_admin(const struct call *c);
/* A member of frontend_group: a service acting for many OpenStack users. */
bool call_peer_is_frontend(const struct call *c);
bool call_peer_is_validator(const struct call *c);
struct server *call_server(const struct call *c);

/* A handler that answers later takes a reference and drops it after its
 * final reply. */
struct call *call_ref(struct call *c);
void call_unref(struct call *c);

/* Final reply; steals parameters (NULL = empty). Returns 0 even when the
 * client is gone; -EALREADY when the call was already answered. */
int call_reply(struct call *c, json_t *parameters);
/* Final reply given as a whole message serialised before (with its NUL),
 * sent from where owner keeps it, never copied: the server holds owner (a
 * reference the caller took for it) until the bytes are sent or dropped,
 * then calls release(owner) once, also on failure. -EINVAL when message
 * does not end with a NUL. */
int call_reply_shared(struct call *c, const char *message, size_t len, void (*release)(void *owner), void *owner);
/* Streamed reply with "continues": only for calls made with "more". */
int call_reply_more(struct call *c, json_t *parameters);
/* Final error reply; steals parameters. */
int call_error(struct call *c, const char *error, json_t *parameters);
/* Convenience for io.kaas.InternalError and similar one-string errors. */
int call_error_reason(struct call *c, const char *error, const char *reason);
