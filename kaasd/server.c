/* varlink server over AF_UNIX stream sockets; see server.h.
 *
 * Ownership: the server owns connections; a connection owns one reference
 * to each call it is waiting to answer, in a FIFO so replies leave in call
 * order. A handler answering later holds its own reference. When a
 * connection goes away its calls are orphaned (conn = NULL) and their late
 * replies are dropped. A connection is freed only when no callback of its
 * own is on the stack (busy == 0), so a handler may close it safely. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "server.h"
#include "varlink_frame.h"
#include "varlink_message.h"

#define MAX_LISTENERS 8
#define ACCEPT_BATCH 64
#define READ_BATCH 16
#define SWEEP_INTERVAL_USEC 1000000u
/* JSON values in one message: parsed, each costs tens of bytes, so a 1 MiB
 * message of tiny values would hold 16 MiB while its call is in flight */
#define MAX_MESSAGE_VALUES 4096
/* Bytes of a kept reply (a large group's) sent per connection per turn */
#define SHARED_SLICE (64u * 1024u)

#define ERROR_PROTOCOL "io.kaas.ProtocolError"
#define ERROR_TOO_LARGE "io.kaas.MessageTooLarge"
#define ERROR_CONN_LIMIT "io.kaas.ConnectionLimit"
#define ERROR_INTERNAL "io.kaas.InternalError"

struct conn;

/* A reply waiting for earlier calls: a message, or one serialised before
 * and kept by its owner (shared) until release */
struct out_msg {
        json_t *msg;
        const char *shared;       /* with its NUL; NULL: msg */
        size_t len;
        void (*release)(void *owner);
        void *owner;
};

/* Bytes sent from where their owner keeps them, after the writer's */
struct shared_out {
        const char *data;
        size_t len, off;
        void (*release)(void *owner);
        void *owner;
};

struct call {
        unsigned refs;
        struct server *server;
        struct conn *conn;        /* NULL when oneway or orphaned */
        struct peer peer;         /* the caller's, copied at dispatch: valid when conn is gone */
        uint64_t id;
        json_t *msg;
        struct vl_call vc;
        struct method_entry *entry;
        struct out_msg *out;      /* replies waiting for earlier calls */
        size_t n_out, cap_out;
        size_t msg_size;          /* bytes of the message, charged to conn while queued */
        size_t out_size;          /* bytes of the replies in out, charged to conn */
        bool answered;
        bool in_flight;
        struct call *next;
};

struct conn {
        struct server *server;
        int fd;
        struct loop_io *io;
        struct peer peer;
        uint64_t id;
        struct vl_reader *reader;
        struct vl_writer *writer;
        struct shared_out shared;       /* data NULL: none; later replies wait for it */
        struct call *head, *tail;
        unsigned n_calls;
        size_t held_msgs;               /* bytes of the messages of its calls in order */
        size_t held_out;                /* bytes of replies waiting for earlier calls */
        struct loop_timer *resume;      /* takes the calls read while held back */
        uint64_t last_activity;
        uint64_t partial_since;
        unsigned busy;
        bool dead;
        bool eof;
        bool hung_up;           /* the peer closed its socket: nothing it sent is answered */
        bool close_after_flush;
        struct conn *prev, *next;
};

struct listener {
        int fd;
        struct loop_io *io;
        bool paused;
};

struct server {
        struct loop *loop;
        struct registry *registry;
        struct server_limits limits;
        struct access_policy policy;
        void *context;
        struct listener listeners[MAX_LISTENERS];
        unsigned n_listeners;
        struct conn *conns;
        struct server_stats stats;
        uint64_t last_call_id;
        uint64_t last_conn_id;
        struct loop_timer *sweep;
        struct call *current;     /* the call whose handler is running */
        bool draining;
        void (*on_drained)(void *userdata);
        void *drained_userdata;
};

static void conn_pump(struct conn *c);
static void conn_close(struct conn *c, const char *why);
static void conn_read(struct conn *c);
static size_t conn_pending(const struct conn *c);
static size_t conn_queued(const struct conn *c);
static void server_check_drained(struct server *s);

/* ------------------------------------------------------------ calls */

static void out_msg_clear(struct out_msg *o) {
        if (o->msg) {
                vl_json_wipe(o->msg);  /* a new token is in a reply */
                json_decref(o->msg);
        }
        if (o->release)
                o->release(o->owner);
        *o = (struct out_msg){ 0 };
}

struct call *call_ref(struct call *c) {
        c->refs++;
        return c;
}

static void call_finish_flight(struct call *c) {
        if (!c->in_flight)
                return;
        c->in_flight = false;
        c->server->stats.calls_in_flight--;
        server_check_drained(c->server);
}

void call_unref(struct call *c) {
        if (!c || --c->refs > 0)
                return;
        /* a handler that dropped its last reference without answering */
        call_finish_flight(c);
        for (size_t i = 0; i < c->n_out; i++)
                out_msg_clear(&c->out[i]);
        free(c->out);
        vl_json_wipe(c->msg);  /* calls carry tokens and passwords */
        json_decref(c->msg);
        free(c);
}

const struct peer *call_peer(const struct call *c) {
        return &c->peer;
}

uint64_t call_id(const struct call *c) {
        return c->id;
}

const char *call_method(const struct call *c) {
        return c->vc.method;
}

bool call_wants_more(const struct call *c) {
        return c->vc.more;
}

bool call_is_orphaned(const struct call *c) {
        return c->conn == NULL && !c->vc.oneway;
}

struct server *call_server(const struct call *c) {
        return c->server;
}

bool call_peer_is_admin(const struct call *c) {
        return access_allowed(ACCESS_ADMIN, &c->peer, &c->server->policy);
}

bool call_peer_is_frontend(const struct call *c) {
        return c->server->policy.has_frontend_gid && peer_in_group(&c->peer, c->server->policy.frontend_gid);
}

bool call_peer_is_validator(const struct call *c) {
        return access_allowed(ACCESS_VALIDATOR, &c->peer, &c->server->policy);
}

static int call_push(struct call *c, struct out_msg msg, bool final, bool is_error) {
        if (!msg.msg && !msg.shared)
                return -ENOMEM;
        if (c->answered) {
                out_msg_clear(&msg);
                return -EALREADY;
        }
        if (final) {
                c->answered = true;
                if (is_error) {
                        c->server->stats.errors++;
                        if (c->entry)
                                c->entry->errors++;
                }
        }
        if (!c->conn) {
                out_msg_clear(&msg);
        } else {
                struct conn *conn = c->conn;
                size_t size = 0;
                if (conn->head != c || conn->shared.data) {
                        /* it waits behind an earlier call: what it holds counts
                         * against the output limit as the writer's bytes do */
                        size = msg.shared ? msg.len : json_dumpb(msg.msg, NULL, 0, JSON_COMPACT) + 1;
                        if (conn_pending(conn) + conn->held_out + size > c->server->limits.max_output_buffer) {
                                out_msg_clear(&msg);
                                conn_close(conn, "peer does not read its replies (output buffer limit)");
                                goto done;
                        }
                }
                if (c->n_out == c->cap_out) {
                        size_t cap = c->cap_out ? c->cap_out * 2 : 2;
                        struct out_msg *o = realloc(c->out, cap * sizeof(*o));
                        if (!o) {
                                out_msg_clear(&msg);
                                conn_close(c->conn, "out of memory");
                                goto done;
                        }
                        c->out = o;
                        c->cap_out = cap;
                }
                c->out[c->n_out++] = msg;
                c->out_size += size;
                conn->held_out += size;
                conn_pump(conn);
        }
done:
        if (final)
                call_finish_flight(c);
        return 0;
}

int call_reply(struct call *c, json_t *parameters) {
        return call_push(c, (struct out_msg){ .msg = vl_reply_new(parameters, false) }, true, false);
}

int call_reply_shared(struct call *c, const char *message, size_t len, void (*release)(void *owner), void *owner) {
        if (len == 0 || message[len - 1] != '\0') {
                release(owner);
                return -EINVAL;
        }
        return call_push(c, (struct out_msg){ .shared = message, .len = len, .release = release, .owner = owner },
                         true, false);
}

int call_reply_more(struct call *c, json_t *parameters) {
        if (!c->vc.more) {
                json_decref(parameters);
                return -EINVAL;
        }
        return call_push(c, (struct out_msg){ .msg = vl_reply_new(parameters, true) }, false, false);
}

int call_error(struct call *c, const char *error, json_t *parameters) {
        return call_push(c, (struct out_msg){ .msg = vl_error_new(error, parameters) }, true, true);
}

int call_error_reason(struct call *c, const char *error, const char *reason) {
        return call_error(c, error, json_pack("{s:s}", "reason", reason));
}

/* ------------------------------------------------------ connections */

static void shared_out_clear(struct shared_out *o) {
        if (o->data && o->release)
                o->release(o->owner);
        *o = (struct shared_out){ 0 };
}

/* Bytes waiting for the socket: the writer's, then the shared reply's. */
static size_t conn_pending(const struct conn *c) {
        return vl_writer_pending(c->writer) + (c->shared.len - c->shared.off);
}

/* What the connection holds for its peer: the bytes waiting for the
 * socket, and the messages and replies of calls still in its order. */
static size_t conn_queued(const struct conn *c) {
        return conn_pending(c) + c->held_out + c->held_msgs;
}

/* Writes the writer's bytes, then the shared reply's: 0 when all went,
 * -EAGAIN when some remain, another negative errno on failure. */
static int conn_flush(struct conn *c) {
        int r = vl_writer_flush(c->writer, c->fd);
        if (r < 0)
                return r;
        if (c->shared.data && c->shared.off < c->shared.len) {
                /* one slice per turn of the loop: a send() as large as the socket takes
                 * copies a few hundred KiB, and calls ready beside it would wait for that */
                size_t left = c->shared.len - c->shared.off;
                ssize_t n;
                do
                        n = send(c->fd, c->shared.data + c->shared.off, left < SHARED_SLICE ? left : SHARED_SLICE,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
                while (n < 0 && errno == EINTR);
                if (n < 0)
                        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
                c->shared.off += (size_t)n;
                if (c->shared.off < c->shared.len)
                        return -EAGAIN;
        }
        shared_out_clear(&c->shared);
        return 0;
}

static void conn_free(struct conn *c) {
        vl_reader_free(c->reader);
        vl_writer_free(c->writer);
        free(c);
}

static void conn_close(struct conn *c, const char *why) {
        if (c->dead)
                return;
        struct server *s = c->server;
        c->dead = true;
        log_debug(0, "connection %llu (uid %u pid %d) closed: %s", (unsigned long long)c->id,
                  (unsigned)c->peer.uid, (int)c->peer.pid, why);
        loop_io_remove(c->io);
        loop_timer_cancel(c->resume);
        c->resume = NULL;
        close(c->fd);
        c->fd = -1;
        if (c->prev)
                c->prev->next = c->next;
        else
                s->conns = c->next;
        if (c->next)
                c->next->prev = c->prev;
        s->stats.connections--;
        /* orphan pending calls: async handlers keep their own references */
        while (c->head) {
                struct call *call = c->head;
                c->head = call->next;
                call->next = NULL;
                call->conn = NULL;
                for (size_t i = 0; i < call->n_out; i++)
                        out_msg_clear(&call->out[i]);
                call->n_out = 0;
                call_unref(call);
        }
        c->tail = NULL;
        c->n_calls = 0;
        c->held_out = c->held_msgs = 0;
        shared_out_clear(&c->shared);
        if (c->busy == 0)
                conn_free(c);
        server_check_drained(s);
}

/* Calls read while the connection was held back wait in its reader, where
 * epoll cannot see them: taken from the loop once it may read again. */
static void on_resume(struct loop_timer *t, void *userdata) {
        struct conn *c = userdata;
        c->resume = NULL;  /* freed by the loop */
        c->busy++;
        conn_read(c);
        if (--c->busy == 0 && c->dead)
                conn_free(c);
}

static void conn_update_events(struct conn *c) {
        if (c->dead)
                return;
        struct server *s = c->server;
        bool want_read = !c->close_after_flush && !s->draining &&
                         c->n_calls < s->limits.max_calls_per_connection &&
                         conn_queued(c) < s->limits.max_output_buffer / 2;
        if (want_read && !c->resume && vl_reader_has_message(c->reader) &&
            loop_timer_add(s->loop, 0, on_resume, c, &c->resume) < 0) {
                c->resume = NULL;
                conn_close(c, "out of memory");
                return;
        }
        uint32_t ev = (want_read && !c->eof ? EPOLLIN : 0) | (conn_pending(c) ? EPOLLOUT : 0);
        if (loop_io_set_events(c->io, ev) < 0)
                conn_close(c, "epoll failed");
}

/* Moves finished replies, in call order, to the writer, up to a shared
 * reply, which is sent from where its owner keeps it before anything
 * after it. Returns 1 when it stopped at a shared reply, 0 when not, and
 * a negative errno when a reply did not fit (-ENOBUFS: the peer does not
 * read) without closing: the caller may hold no guard on the connection
 * (a late reply from a timer or a Keystone callback). */
static int conn_move_replies(struct conn *c) {
        while (c->head && !c->shared.data) {
                struct call *call = c->head;
                for (size_t i = 0; i < call->n_out; i++) {
                        struct out_msg *o = &call->out[i];
                        if (o->shared) {  /* final: the last of its call */
                                c->shared = (struct shared_out){ .data = o->shared, .len = o->len,
                                                                 .release = o->release, .owner = o->owner };
                                *o = (struct out_msg){ 0 };
                                continue;
                        }
                        int r = vl_writer_queue(c->writer, o->msg);
                        if (r < 0)
                                return r;
                        out_msg_clear(o);
                }
                call->n_out = 0;
                c->held_out -= call->out_size;
                call->out_size = 0;
                if (!call->answered)
                        break;
                c->head = call->next;
                if (!c->head)
                        c->tail = NULL;
                c->n_calls--;
                c->held_msgs -= call->msg_size;
                call->conn = NULL;
                call->next = NULL;
                call_unref(call);
        }
        return c->shared.data != NULL;
}

/* Moves finished replies, in call order, to the socket. */
static void conn_pump(struct conn *c) {
        if (c->dead)
                return;
        int r;
        for (;;) {
                int at_shared = conn_move_replies(c);
                if (at_shared < 0) {
                        /* the last use of c: closing frees it when no callback of its own runs */
                        conn_close(c, at_shared == -ENOBUFS ? "peer does not read its replies (output buffer limit)"
                                                            : "out of memory");
                        return;
                }
                r = conn_flush(c);
                if (r != 0 || !at_shared)
                        break;  /* a shared reply sent whole: the replies after it may follow */
        }
        if (r < 0 && r != -EAGAIN) {
                conn_close(c, "write failed");
                return;
        }
        if (r == 0 && c->n_calls == 0 && (c->close_after_flush || c->eof || c->server->draining)) {
                conn_close(c, c->close_after_flush ? "protocol error" : "done");
                return;
        }
        conn_update_events(c);
}

/* Puts call last in the connection's reply order; the connection holds a
 * reference until the call's final reply has left. */
static void conn_enqueue(struct conn *c, struct call *call) {
        call->conn = c;
        if (c->tail)
                c->tail->next = call;
        else
                c->head = call;
        c->tail = call;
        c->n_calls++;
        c->held_msgs += call->msg_size;
        call_ref(call);
}

/* Replies to a message that never became a call (framing errors), after
 * the replies to earlier calls, then closes. */
static void conn_protocol_error(struct conn *c, const char *error, json_t *params, const char *why) {
        log_info(0, "connection %llu (uid %u pid %d): %s; closing", (unsigned long long)c->id,
                 (unsigned)c->peer.uid, (int)c->peer.pid, why);
        struct call *call = calloc(1, sizeof(*call));
        if (!call) {
                json_decref(params);
                conn_close(c, "out of memory");
                return;
        }
        call->refs = 1;
        call->server = c->server;
        call->peer = c->peer;
        c->close_after_flush = true;
        conn_enqueue(c, call);
        call_error(call, error, params);
        call_unref(call);
}

static void conn_dispatch(struct conn *c, json_t *msg, size_t size) {
        struct server *s = c->server;
        struct call *call = calloc(1, sizeof(*call));
        if (!call) {
                json_decref(msg);
                conn_close(c, "out of memory");
                return;
        }
        call->refs = 1;
        call->server = s;
        call->peer = c->peer;  /* oneway and orphaned calls keep their caller */
        call->msg = msg;
        call->msg_size = size;
        call->id = ++s->last_call_id;
        call->in_flight = true;
        s->stats.calls++;
        s->stats.calls_in_flight++;

        const char *field = NULL;
        int r = vl_call_parse(msg, &call->vc, &field);
        /* a client that gave up and closed reads no answer: the work for
         * it (a lookup that timed out, say) is dropped, not run late
         * while others wait; a oneway call still runs */
        if (c->hung_up && (r < 0 || !call->vc.oneway)) {
                log_debug(call->id, "call dropped: the client closed its socket");
                goto out;
        }
        /* oneway calls get no reply, so they take no place in the order;
         * a call without a usable envelope is answered in order */
        if (r < 0 || !call->vc.oneway)
                conn_enqueue(c, call);
        if (r < 0) {
                call_error(call, VL_ERROR_INVALID_PARAMETER, json_pack("{s:s}", "parameter", field ? field : "message"));
                goto out;
        }

        bool iface_known;
        struct method_entry *e = registry_find_method(s->registry, call->vc.method, &iface_known);
        if (!e) {
                if (!iface_known) {
                        char iface[VL_NAME_MAX + 1];
                        const char *member;
                        if (vl_method_split(call->vc.method, iface, &member) < 0)
                                call_error(call, VL_ERROR_METHOD_NOT_FOUND, json_pack("{s:s}", "method", call->vc.method));
                        else
                                call_error(call, VL_ERROR_INTERFACE_NOT_FOUND, json_pack("{s:s}", "interface", iface));
                } else {
                        call_error(call, VL_ERROR_METHOD_NOT_FOUND, json_pack("{s:s}", "method", call->vc.method));
                }
                goto out;
        }
        call->entry = e;
        e->calls++;
        if (!e->def) {
                call_error(call, VL_ERROR_METHOD_NOT_IMPLEMENTED, json_pack("{s:s}", "method", e->name));
                goto out;
        }
        if (!access_allowed(e->def->access, &c->peer, &s->policy)) {
                log_notice(call->id, "%s denied to uid %u pid %d (requires %s)", e->name,
                           (unsigned)c->peer.uid, (int)c->peer.pid, access_class_name(e->def->access));
                call_error(call, VL_ERROR_PERMISSION_DENIED, NULL);
                goto out;
        }
        /* a token check stands behind a login or a review: the connection of a validator
         * (never an unprivileged caller's) is read before other input of the same turn,
         * and between the turn's handlers, so a storm of lookups delays it by at most
         * the call being served; without the mark it is served in epoll's order */
        if (e->def->access == ACCESS_VALIDATOR && c->io && (r = loop_io_set_first(c->io, true)) < 0)
                log_warning(call->id, "connection %llu: cannot serve it first: %s", (unsigned long long)c->id,
                            strerror(-r));
        if (e->def->needs_reply && call->vc.oneway) {
                /* answered, in order, although oneway: a caller must not
                 * learn the outcome from side effects alone */
                conn_enqueue(c, call);
                call_error(call, VL_ERROR_INVALID_PARAMETER, json_pack("{s:s}", "parameter", "oneway"));
                goto out;
        }
        if (e->def->needs_more && !call->vc.more) {
                call_error(call, VL_ERROR_EXPECTED_MORE, NULL);
                goto out;
        }
        if (call->vc.upgrade) {
                call_error(call, VL_ERROR_INVALID_PARAMETER, json_pack("{s:s}", "parameter", "upgrade"));
                goto out;
        }
        field = NULL;
        if (vl_validate(e->iface, e->member->type, call->vc.parameters, &field) < 0) {
                call_error(call, VL_ERROR_INVALID_PARAMETER,
                           json_pack("{s:s}", "parameter", field && *field ? field : "parameters"));
                goto out;
        }
        log_debug(call->id, "%s from uid %u pid %d", e->name, (unsigned)c->peer.uid, (int)c->peer.pid);
        s->current = call;
        r = e->def->fn(call, call->vc.parameters, s->context);
        s->current = NULL;
        if (r < 0 && !call->answered) {
                log_err(call->id, "%s failed: %s", e->name, strerror(-r));
                call_error_reason(call, ERROR_INTERNAL, strerror(-r));
        }
out:
        call_unref(call);  /* the dispatcher's reference */
}

static void conn_read(struct conn *c) {
        struct server *s = c->server;
        bool drained = false;  /* the last read found the socket empty */
        for (unsigned batch = 0; !c->dead && !c->close_after_flush;) {
                if (c->n_calls >= s->limits.max_calls_per_connection ||
                    conn_queued(c) >= s->limits.max_output_buffer / 2)
                        break;  /* back-pressure: resume when replies drain */
                json_t *msg = NULL;
                size_t before = vl_reader_buffered(c->reader);
                int r = vl_reader_next(c->reader, &msg);
                if (r > 0) {
                        conn_dispatch(c, msg, before - vl_reader_buffered(c->reader));
                        continue;
                }
                if (r == -EMSGSIZE) {
                        conn_protocol_error(c, ERROR_TOO_LARGE,
                                            json_pack("{s:I}", "limit", (json_int_t)s->limits.max_message_size),
                                            "message over the size limit");
                        break;
                }
                if (r == -E2BIG) {
                        conn_protocol_error(c, ERROR_PROTOCOL,
                                            json_pack("{s:s}", "reason", "message holds more than 4096 JSON values"),
                                            "message over the value limit");
                        break;
                }
                if (r < 0) {
                        conn_protocol_error(c, ERROR_PROTOCOL,
                                            json_pack("{s:s}", "reason", "message is not a valid UTF-8 JSON object"),
                                            "invalid message");
                        break;
                }
                /* a short read emptied the socket: epoll (level-triggered)
                 * wakes us for more, a read now would only say EAGAIN */
                if (c->eof || drained || batch++ >= READ_BATCH)
                        break;
                ssize_t n = vl_reader_fill(c->reader, c->fd);
                if (n == -EAGAIN)
                        break;
                if (n == -EMSGSIZE) {
                        /* earlier complete messages are still answered */
                        before = vl_reader_buffered(c->reader);
                        while (!c->dead && vl_reader_next(c->reader, &msg) > 0) {
                                conn_dispatch(c, msg, before - vl_reader_buffered(c->reader));
                                before = vl_reader_buffered(c->reader);
                        }
                        if (!c->dead)
                                conn_protocol_error(c, ERROR_TOO_LARGE,
                                                    json_pack("{s:I}", "limit", (json_int_t)s->limits.max_message_size),
                                                    "message over the size limit");
                        break;
                }
                if (n < 0) {
                        conn_close(c, "read failed");
                        return;
                }
                if (n == 0) {
                        c->eof = true;
                        continue;  /* answer what is complete, then close */
                }
                drained = (size_t)n < VL_READ_CHUNK;
                c->last_activity = loop_now_usec();
        }
        if (c->dead)
                return;
        if (vl_reader_has_partial(c->reader)) {
                if (c->eof) {
                        conn_close(c, "end of stream inside a message");
                        return;
                }
                if (!c->partial_since)
                        c->partial_since = loop_now_usec();
        } else {
                c->partial_since = 0;
        }
        conn_pump(c);
}

static void on_conn_io(struct loop_io *io, int fd, uint32_t events, void *userdata) {
        struct conn *c = userdata;
        c->busy++;
        /* both directions shut: the peer closed (a half close is EPOLLRDHUP) */
        if (events & EPOLLHUP)
                c->hung_up = true;
        if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                conn_read(c);
        if (!c->dead && (events & EPOLLOUT)) {
                size_t before = conn_pending(c);
                conn_pump(c);
                if (!c->dead && conn_pending(c) < before)
                        c->last_activity = loop_now_usec();
        }
        if (!c->dead && (events & (EPOLLHUP | EPOLLERR)) && !(events & EPOLLIN))
                conn_close(c, "hang-up");
        if (--c->busy == 0 && c->dead)
                conn_free(c);
}

/* Best effort: tell a refused peer why before closing. */
static void refuse(int fd, const char *reason) {
        json_t *m = vl_error_new(ERROR_CONN_LIMIT, json_pack("{s:s}", "reason", reason));
        char *s = m ? json_dumps(m, JSON_COMPACT) : NULL;
        if (s)
                (void)!send(fd, s, strlen(s) + 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        free(s);
        json_decref(m);
        close(fd);
}

static unsigned connections_of(const struct server *s, uid_t uid) {
        unsigned n = 0;
        for (const struct conn *c = s->conns; c; c = c->next)
                if (c->peer.uid == uid)
                        n++;
        return n;
}

static void on_listener_io(struct loop_io *io, int lfd, uint32_t events, void *userdata) {
        struct server *s = userdata;
        for (unsigned i = 0; i < ACCEPT_BATCH && !s->draining; i++) {
                int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0) {
                        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                                /* out of descriptors: pause until the next sweep
                                 * instead of spinning on a readable listener */
                                log_warning(0, "accept: %s; pausing new connections for a second", strerror(errno));
                                for (unsigned l = 0; l < s->n_listeners; l++)
                                        if (s->listeners[l].fd == lfd && loop_io_set_events(io, 0) >= 0)
                                                s->listeners[l].paused = true;
                        }
                        return;
                }
                struct peer peer;
                if (peer_from_socket(fd, &peer) < 0) {
                        close(fd);
                        continue;
                }
                if (s->stats.connections >= s->limits.max_connections) {
                        s->stats.connections_refused++;
                        log_warning(0, "refusing connection from uid %u pid %d: %u connections (max_connections)",
                                    (unsigned)peer.uid, (int)peer.pid, s->stats.connections);
                        refuse(fd, "too many connections");
                        continue;
                }
                if (peer.uid != 0 && connections_of(s, peer.uid) >= s->limits.max_connections_per_uid) {
                        s->stats.connections_refused++;
                        log_warning(0, "refusing connection from uid %u pid %d: max_connections_per_uid reached",
                                    (unsigned)peer.uid, (int)peer.pid);
                        refuse(fd, "too many connections for this user");
                        continue;
                }
                struct conn *c = calloc(1, sizeof(*c));
                if (!c || vl_reader_new(s->limits.max_message_size, &c->reader) < 0 ||
                    vl_writer_new(s->limits.max_output_buffer, &c->writer) < 0 ||
                    loop_io_add(s->loop, fd, EPOLLIN, on_conn_io, c, &c->io) < 0) {
                        if (c) {
                                vl_reader_free(c->reader);
                                vl_writer_free(c->writer);
                        }
                        free(c);
                        close(fd);
                        log_err(0, "out of memory accepting a connection");
                        continue;
                }
                vl_reader_set_max_values(c->reader, MAX_MESSAGE_VALUES);
                c->server = s;
                c->fd = fd;
                c->peer = peer;
                c->id = ++s->last_conn_id;
                c->last_activity = loop_now_usec();
                c->next = s->conns;
                if (s->conns)
                        s->conns->prev = c;
                s->conns = c;
                s->stats.connections++;
                s->stats.connections_total++;
        }
}

static void sweep(struct loop_timer *t, void *userdata) {
        struct server *s = userdata;
        uint64_t now = loop_now_usec();
        s->sweep = NULL;
        for (unsigned l = 0; l < s->n_listeners; l++)
                if (s->listeners[l].paused && !s->draining &&
                    loop_io_set_events(s->listeners[l].io, EPOLLIN) >= 0)
                        s->listeners[l].paused = false;
        struct conn *next;
        for (struct conn *c = s->conns; c; c = next) {
                next = c->next;
                if (c->partial_since && now - c->partial_since > s->limits.idle_timeout_usec)
                        conn_close(c, "message not completed within the idle timeout");
                else if (c->n_calls == 0 && now - c->last_activity > s->limits.idle_timeout_usec)
                        conn_close(c, "idle timeout");
                else if (conn_pending(c) && now - c->last_activity > s->limits.idle_timeout_usec)
                        conn_close(c, "peer stopped reading (idle timeout)");
        }
        (void)loop_timer_add(s->loop, now + SWEEP_INTERVAL_USEC, sweep, s, &s->sweep);
}

/* ----------------------------------------------------------- server */

int server_new(struct loop *loop, struct registry *registry, const struct server_limits *limits,
               const struct access_policy *policy, void *context, struct server **ret) {
        struct server *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->loop = loop;
        s->registry = registry;
        s->context = context;
        server_set_limits(s, limits);
        s->policy = *policy;
        s->stats.started_usec = loop_now_usec();
        int r = loop_timer_add(loop, loop_now_usec() + SWEEP_INTERVAL_USEC, sweep, s, &s->sweep);
        if (r < 0) {
                free(s);
                return r;
        }
        *ret = s;
        return 0;
}

struct server *server_free(struct server *s) {
        if (!s)
                return NULL;
        s->on_drained = NULL;
        while (s->conns)
                conn_close(s->conns, "server shutting down");
        for (unsigned i = 0; i < s->n_listeners; i++) {
                loop_io_remove(s->listeners[i].io);
                close(s->listeners[i].fd);
        }
        loop_timer_cancel(s->sweep);
        free(s);
        return NULL;
}

void server_set_limits(struct server *s, const struct server_limits *limits) {
        s->limits = *limits;
        if (!s->limits.max_calls_per_connection)
                s->limits.max_calls_per_connection = 128;
        if (!s->limits.max_message_size)
                s->limits.max_message_size = VL_DEFAULT_MAX_MESSAGE;
        if (!s->limits.max_output_buffer)
                s->limits.max_output_buffer = 8u * 1024 * 1024;
        /* one reply must always fit */
        if (s->limits.max_output_buffer < s->limits.max_message_size * 2)
                s->limits.max_output_buffer = s->limits.max_message_size * 2;
}

void server_set_policy(struct server *s, const struct access_policy *policy) {
        s->policy = *policy;
}

int server_add_listener(struct server *s, int fd) {
        if (s->n_listeners >= MAX_LISTENERS)
                return -ENOSPC;
        struct listener *l = &s->listeners[s->n_listeners];
        int r = loop_io_add(s->loop, fd, EPOLLIN, on_listener_io, s, &l->io);
        if (r < 0)
                return r;
        l->fd = fd;
        s->n_listeners++;
        return 0;
}

/* Drained: no call in flight, and every reply sent (the connections
 * close once theirs have left). */
static void server_check_drained(struct server *s) {
        if (!s->draining || !s->on_drained || s->stats.calls_in_flight > 0 || s->conns)
                return;
        void (*fn)(void *) = s->on_drained;
        s->on_drained = NULL;
        fn(s->drained_userdata);
}

void server_drain(struct server *s, void (*on_drained)(void *), void *userdata) {
        s->draining = true;
        s->on_drained = on_drained;
        s->drained_userdata = userdata;
        for (unsigned i = 0; i < s->n_listeners; i++)
                (void)loop_io_set_events(s->listeners[i].io, 0);
        struct conn *next;
        for (struct conn *c = s->conns; c; c = next) {
                next = c->next;
                if (c->n_calls == 0 && conn_pending(c) == 0)
                        conn_close(c, "shutting down");
                else
                        conn_update_events(c);
        }
        server_check_drained(s);
}

const struct server_stats *server_get_stats(const struct server *s) {
        return &s->stats;
}

const struct call *server_current_call(const struct server *s) {
        return s->current;
}

struct registry *server_registry(const struct server *s) {
        return s->registry;
}
