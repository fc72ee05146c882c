/* Internals shared by the libkaas source files: the client structure and
 * the connection helpers. Depends on common/varlink_frame.h only; nothing
 * here is exported (libkaas.sym exports kaas_* and the build hides the
 * rest). */
#pragma once

#include <stdint.h>

#include "kaas.h"
#include "varlink_frame.h"

/* The shared library exports the public API; the embedded copy that the
 * PAM and NSS modules link keeps every symbol hidden inside the module. */
#ifdef KAAS_EMBEDDED
#  define KAAS_PUBLIC
#else
#  define KAAS_PUBLIC __attribute__((visibility("default")))
#endif

struct kaas_client {
        int fd;                  /* -1 when not connected */
        pid_t pid;               /* process that opened fd: fork detection */
        char *socket_path;
        int timeout_ms;          /* < 0: forever */
        size_t max_message;
        bool require_peer_uid;
        uid_t peer_uids[2];      /* the users kaasd may run as */
        size_t n_peer_uids;
        struct vl_reader *reader;
        struct vl_writer *writer;
        unsigned n_pending;      /* calls sent whose final reply is still due */
        bool answered;           /* a reply came on this connection: kaasd took it */
        int recv_timeout_ms;     /* SO_RCVTIMEO of fd; 0: none */
};

/* Absolute CLOCK_MONOTONIC deadline in milliseconds; INT64_MAX = never. */
int64_t libkaas_deadline(int timeout_ms);

/* Waits for events on fd until the deadline: 0, -ETIMEDOUT or -errno. */
int libkaas_wait(int fd, short events, int64_t deadline);

/* Lets the next blocking read of c->fd wait no later than the deadline:
 * 0, -ETIMEDOUT when it has passed, or -errno. */
int libkaas_read_deadline(struct kaas_client *c, int64_t deadline);

/* Makes sure c holds a usable connection of this process: reconnects after
 * fork() and after kaasd closed an idle connection. A connection that has
 * carried calls is not checked here (a syscall per call): a send on it that
 * finds it closed says so, and send_call() reconnects then. */
int libkaas_ensure_connected(struct kaas_client *c, int64_t deadline);

/* Closes the connection and forgets buffered bytes and pending calls. */
void libkaas_disconnect(struct kaas_client *c);

/* kaas_call() whose reply's text is first offered to take (see
 * vl_reader_next_or_take()): LIBKAAS_TAKEN when take took it (a final
 * reply: the call is answered), otherwise as kaas_call(). Not exported;
 * for the modules that embed libkaas (the NSS module reads a large
 * group's entry straight from the text). */
#define LIBKAAS_TAKEN 2
int libkaas_call_take(struct kaas_client *c, const char *method, json_t *parameters, vl_take_fn take, void *userdata,
                      json_t **ret_parameters, struct kaas_error *ret_error);

/* Fills e from an error reply: name, parameters (borrowed), message. */
int libkaas_error_set(struct kaas_error *e, const char *name, json_t *parameters);
