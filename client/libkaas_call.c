/* libkaas: varlink calls over the connection — sending (bounded by the
 * deadline and the message size limit), receiving replies in order, and
 * the simple, streamed, one-way and pipelined call forms built on them.
 * Any local failure closes the connection: a reply that arrives late
 * would otherwise be taken as the answer to the next call. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "libkaas_internal.h"
#include "varlink_message.h"

static int send_call(struct kaas_client *c, const char *method, json_t *parameters, unsigned flags,
                     int64_t deadline) {
        if ((flags & ~(KAAS_CALL_MORE | KAAS_CALL_ONEWAY)) ||
            (flags & KAAS_CALL_MORE && flags & KAAS_CALL_ONEWAY))
                return -EINVAL;
        if (parameters && !json_is_object(parameters))
                return -EINVAL;
        /* jansson takes only UTF-8: say so here rather than "out of memory" */
        json_t *name = json_string(method);
        if (!name)
                return -EINVAL;
        json_decref(name);

        /* vl_call_new steals a reference; the caller keeps its own */
        json_t *msg = vl_call_new(method, parameters ? json_incref(parameters) : NULL,
                                  flags & KAAS_CALL_MORE, flags & KAAS_CALL_ONEWAY);
        if (!msg)
                return -ENOMEM;
        int r;
        for (unsigned attempt = 0;; attempt++) {
                if ((r = libkaas_ensure_connected(c, deadline)) < 0)
                        break;
                /* an idle connection kaasd answered on before: if kaasd has
                 * closed it since (idle timeout, restart), it cannot have
                 * taken any of this call, which may go again on a new one */
                bool idle_used = c->answered && c->n_pending == 0;
                if ((r = vl_writer_queue(c->writer, msg)) < 0) {
                        if (r == -ENOBUFS)
                                r = -EMSGSIZE;  /* nothing was written: the connection stays */
                        break;
                }
                while ((r = vl_writer_flush(c->writer, c->fd)) == -EAGAIN)
                        if ((r = libkaas_wait(c->fd, POLLOUT, deadline)) < 0)
                                break;
                if (r == 0)
                        break;
                if ((r == -EPIPE || r == -ECONNRESET) && idle_used && attempt == 0) {
                        libkaas_disconnect(c);
                        continue;
                }
                /* kaasd may have said why before closing (connection
                 * limit): keep the connection so the reply can be read */
                if ((r == -EPIPE || r == -ECONNRESET) && !(flags & KAAS_CALL_ONEWAY)) {
                        vl_writer_consume(c->writer, vl_writer_pending(c->writer));
                        r = 0;
                        break;
                }
                libkaas_disconnect(c);
                break;
        }
        json_decref(msg);
        if (r < 0)
                return r;
        if (!(flags & KAAS_CALL_ONEWAY))
                c->n_pending++;
        return 0;
}

/* Reads until one complete message is buffered: 0 with *ret, or 1 when
 * take (when not NULL) took its text. */
static int receive_message(struct kaas_client *c, int64_t deadline, vl_take_fn take, void *userdata, json_t **ret) {
        for (;;) {
                json_t *msg = NULL;
                int r = vl_reader_next_or_take(c->reader, take, userdata, &msg);
                if (r == 2)
                        return 1;
                if (r > 0) {
                        *ret = msg;
                        return 0;
                }
                if (r == -EMSGSIZE)
                        return -EMSGSIZE;
                if (r < 0)
                        return -EPROTO;
                /* the socket blocks: read() waits, SO_RCVTIMEO bounds it */
                if ((r = libkaas_read_deadline(c, deadline)) < 0)
                        return r;
                ssize_t n = vl_reader_fill(c->reader, c->fd);
                if (n == -EAGAIN)
                        continue;  /* the receive timeout or a signal: the deadline decides */
                if (n < 0)
                        return (int)n;
                if (n == 0)  /* end of stream: truncated reply, or none */
                        return vl_reader_has_partial(c->reader) ? -EPROTO : -ECONNRESET;
        }
}

/* Returns 0 for a final reply, 1 for one with "continues", or
 * KAAS_ERROR_REMOTE; fills the outputs accordingly. */
static int receive_reply(struct kaas_client *c, int64_t deadline, bool check_fork, vl_take_fn take, void *userdata,
                         json_t **ret_parameters, struct kaas_error *ret_error) {
        if (check_fork && c->fd >= 0 && c->pid != getpid())
                libkaas_disconnect(c);  /* the parent's calls are not ours */
        if (c->n_pending == 0)
                return -ENOMSG;

        json_t *msg = NULL;
        int r = receive_message(c, deadline, take, userdata, &msg);
        if (r == 1) {
                /* take() accepts only a final reply's shape */
                c->n_pending--;
                c->answered = true;
                return LIBKAAS_TAKEN;
        }
        if (r < 0)
                goto fail;
        struct vl_reply reply;
        if (vl_reply_parse(msg, &reply) < 0) {
                r = -EPROTO;
                goto fail;
        }
        if (reply.error) {
                char iface[VL_NAME_MAX + 1];
                const char *member;
                if (vl_method_split(reply.error, iface, &member) < 0) {
                        r = -EPROTO;
                        goto fail;
                }
                c->n_pending--;
                c->answered = true;
                r = ret_error ? libkaas_error_set(ret_error, reply.error, reply.parameters) : 0;
                json_decref(msg);
                return r < 0 ? r : KAAS_ERROR_REMOTE;
        }
        if (!reply.continues)
                c->n_pending--;
        c->answered = true;
        if (ret_parameters)
                *ret_parameters = json_incref(reply.parameters);
        json_decref(msg);
        return reply.continues ? 1 : 0;
fail:
        json_decref(msg);
        libkaas_disconnect(c);
        return r;
}

KAAS_PUBLIC int kaas_send(struct kaas_client *c, const char *method, json_t *parameters, unsigned flags) {
        return send_call(c, method, parameters, flags, libkaas_deadline(c->timeout_ms));
}

KAAS_PUBLIC int kaas_receive(struct kaas_client *c, json_t **ret_parameters, struct kaas_error *ret_error) {
        if (ret_error)
                kaas_error_clear(ret_error);
        return receive_reply(c, libkaas_deadline(c->timeout_ms), true, NULL, NULL, ret_parameters, ret_error);
}

/* A simple call waits for a reply of its own, so earlier pipelined calls
 * must be collected first. After fork() they belong to the parent. */
static bool has_pending_calls(const struct kaas_client *c) {
        return c->fd >= 0 && c->n_pending > 0 && c->pid == getpid();
}

int libkaas_call_take(struct kaas_client *c, const char *method, json_t *parameters, vl_take_fn take, void *userdata,
                      json_t **ret_parameters, struct kaas_error *ret_error) {
        if (ret_error)
                kaas_error_clear(ret_error);
        if (has_pending_calls(c))
                return -EBUSY;
        int64_t deadline = libkaas_deadline(c->timeout_ms);
        int r = send_call(c, method, parameters, 0, deadline);
        if (r < 0)
                return r;
        json_t *params = NULL;
        /* send_call() has just checked that the connection is this process's */
        r = receive_reply(c, deadline, false, take, userdata, &params, ret_error);
        if (r == LIBKAAS_TAKEN)
                return r;
        if (r == 1) {
                /* "continues" answers only calls made with "more" */
                json_decref(params);
                libkaas_disconnect(c);
                return -EPROTO;
        }
        if (r < 0)
                return r;
        if (ret_parameters)
                *ret_parameters = params;
        else
                json_decref(params);
        return 0;
}

KAAS_PUBLIC int kaas_call(struct kaas_client *c, const char *method, json_t *parameters,
                          json_t **ret_parameters, struct kaas_error *ret_error) {
        return libkaas_call_take(c, method, parameters, NULL, NULL, ret_parameters, ret_error);
}

KAAS_PUBLIC int kaas_call_more(struct kaas_client *c, const char *method, json_t *parameters,
                               kaas_reply_fn on_reply, void *userdata, struct kaas_error *ret_error) {
        if (ret_error)
                kaas_error_clear(ret_error);
        if (has_pending_calls(c))
                return -EBUSY;
        int r = send_call(c, method, parameters, KAAS_CALL_MORE, libkaas_deadline(c->timeout_ms));
        if (r < 0)
                return r;
        for (;;) {
                json_t *params = NULL;
                r = receive_reply(c, libkaas_deadline(c->timeout_ms), true, NULL, NULL, &params, ret_error);
                if (r < 0)
                        return r;
                bool continues = r == 1;
                r = on_reply(params, continues, userdata);
                json_decref(params);
                if (r < 0) {
                        if (continues)
                                libkaas_disconnect(c);
                        return r;
                }
                if (!continues)
                        return 0;
        }
}

KAAS_PUBLIC int kaas_call_oneway(struct kaas_client *c, const char *method, json_t *parameters) {
        return send_call(c, method, parameters, KAAS_CALL_ONEWAY, libkaas_deadline(c->timeout_ms));
}
