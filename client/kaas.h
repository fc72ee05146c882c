/* libkaas: the client library of kaasd, the KaaS identity daemon.
 *
 * kaasd speaks varlink (one JSON object per message, NUL-terminated) on a
 * local AF_UNIX socket. A struct kaas_client is one connection to it; calls
 * on it are answered in order.
 *
 * Conventions
 *   - Fallible functions return 0 (or a documented non-negative value) on
 *     success and a negative errno-style code on failure; kaas_strerror()
 *     turns any of them into a message. Outputs are named ret_* and are left
 *     untouched on failure, except struct kaas_error, which is filled exactly
 *     when KAAS_ERROR_REMOTE is returned.
 *   - Parameters passed in are borrowed: the caller keeps its reference.
 *     JSON handed out (ret_parameters) is a new reference the caller must
 *     json_decref(). Strings handed out are owned by the object they come
 *     from unless said otherwise.
 *   - Destructors accept NULL and return NULL.
 *
 * Threads: the library has no global state. A struct kaas_client is one
 * connection and must be used by one thread at a time (no internal
 * locking); different clients may be used concurrently from different
 * threads. kaas_strerror() and kaas_socket_path() are thread-safe.
 *
 * Signals: the library never changes signal dispositions. Every send uses
 * MSG_NOSIGNAL, so a vanished kaasd never raises SIGPIPE; EINTR is retried
 * within the same deadline.
 *
 * fork(): the socket is opened with close-on-exec and above fd 2. A client
 * that was created before fork() may be used in the parent and the child;
 * in the child, the first use notices the new process ID, closes the child's
 * inherited descriptor (without shutdown(), so the parent's connection is
 * not disturbed) and opens a new connection. Calls the parent had pipelined
 * are forgotten in the child.
 *
 * See libkaas(3). */
#pragma once

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && __GNUC__ >= 4
#  define KAAS_WARN_UNUSED_RESULT __attribute__((warn_unused_result))
#  define KAAS_NONNULL(...) __attribute__((nonnull(__VA_ARGS__)))
#else
#  define KAAS_WARN_UNUSED_RESULT
#  define KAAS_NONNULL(...)
#endif

/* Returned when kaasd answered with a varlink error; the error's name,
 * parameters and a readable message are then in the struct kaas_error the
 * caller passed. Every other negative return is a local failure. */
#define KAAS_ERROR_REMOTE (-EREMOTEIO)

/* Used when 0 is passed as a timeout. A negative timeout waits forever. */
#define KAAS_DEFAULT_TIMEOUT_MS 10000

/* Largest reply accepted unless kaas_client_set_max_message_size() says
 * otherwise; a larger one fails with -EMSGSIZE instead of using memory. */
#define KAAS_DEFAULT_MAX_MESSAGE_SIZE (1024u * 1024u)

/* The environment variable naming the socket when no path is given. It is
 * read with secure_getenv(), so it is ignored in set-user-ID programs. */
#define KAAS_SOCKET_ENV "KAAS_SOCKET"

struct kaas_client;

/* A varlink error reply. Initialise with KAAS_ERROR_INIT (or zero it) and
 * release with kaas_error_clear(); the struct owns all three members. */
struct kaas_error {
        char *name;          /* "io.kaas.Token.NotFound" */
        json_t *parameters;  /* the error's parameters, an object (maybe empty) */
        char *message;       /* a one-line description for people, built from both */
};

#define KAAS_ERROR_INIT { NULL, NULL, NULL }

/* Frees the members and zeroes them; the struct itself may be reused. */
void kaas_error_clear(struct kaas_error *e);

/* True when e holds an error named name. */
bool kaas_error_is(const struct kaas_error *e, const char *name) KAAS_NONNULL(2);

/* The socket path libkaas uses for socket_path: socket_path itself when it
 * is neither NULL nor empty, else $KAAS_SOCKET when set and not empty, else
 * the compiled-in default (RUNSTATEDIR/kaas/kaasd.sock). The result is
 * socket_path, a pointer into the environment, or a static string: do not
 * free it, and copy it before changing the environment. */
const char *kaas_socket_path(const char *socket_path);

/* ------------------------------------------------------------ connecting */

/* Connects to kaasd at socket_path (NULL: see kaas_socket_path()). The
 * connect and every later call wait at most timeout_ms milliseconds (0: the
 * default, negative: forever). On success *ret is a new client the caller
 * frees with kaas_client_free().
 *
 * Errors: -ENOENT no socket at the path (kaasd is not running), -ECONNREFUSED
 * nothing listens on it, -EACCES no permission to connect, -ETIMEDOUT,
 * -ENAMETOOLONG path longer than an AF_UNIX address holds, -ENOMEM. */
int kaas_connect(const char *socket_path, int timeout_ms, struct kaas_client **ret)
        KAAS_WARN_UNUSED_RESULT KAAS_NONNULL(3);

/* Creates a client that is not connected yet, so settings such as
 * kaas_client_require_peer_uid() apply before the first byte is exchanged.
 * Connect it with kaas_client_connect(). Free with kaas_client_free(). */
int kaas_client_new(const char *socket_path, int timeout_ms, struct kaas_client **ret)
        KAAS_WARN_UNUSED_RESULT KAAS_NONNULL(3);

/* Opens the connection now; a no-op when already connected. Calls connect
 * by themselves when needed (first use, after fork(), after kaasd closed an
 * idle connection), so this only serves to report errors early. Same errors
 * as kaas_connect(), and -EPERM from the peer check. */
int kaas_client_connect(struct kaas_client *c) KAAS_WARN_UNUSED_RESULT KAAS_NONNULL(1);

/* Closes the connection (if any) and frees the client. Returns NULL. */
struct kaas_client *kaas_client_free(struct kaas_client *c);

/* For privileged callers (PAM): talk only to a kaasd running as uid. Before
 * every connect the socket file must be a socket owned by uid, and after it
 * the server's SO_PEERCRED uid must be uid; otherwise the connection is
 * closed before anything is sent and the operation fails with -EPERM. When
 * the client is already connected the check runs at once, and the
 * connection is closed if it fails. The requirement stays for reconnects. */
int kaas_client_require_peer_uid(struct kaas_client *c, uid_t uid)
        KAAS_WARN_UNUSED_RESULT KAAS_NONNULL(1);

/* The system user kaasd runs as under the shipped systemd unit. */
#define KAAS_KAASD_USER "kaas"

/* No user: (uid_t)-1, as chown() spells it. */
#define KAAS_UID_INVALID ((uid_t)-1)

/* For every caller that sends a secret (kaasctl, kaas-webhook, PAM): talk
 * only to a kaasd running as root or as kaasd_uid (KAAS_UID_INVALID or 0:
 * root only). Before every connect the socket file must be a socket owned
 * by one of them, and after it the server's SO_PEERCRED uid must be one of
 * them; otherwise the connection is closed before anything is sent and the
 * operation fails with -EPERM. Otherwise as kaas_client_require_peer_uid(). */
int kaas_client_require_kaasd(struct kaas_client *c, uid_t kaasd_uid)
        KAAS_WARN_UNUSED_RESULT KAAS_NONNULL(1);

/* The uid of user, a user name or a decimal uid, for
 * kaas_client_require_kaasd(). Looks the name up in /etc/passwd itself, never
 * through NSS (where nss_kaas would give a Keystone user of that name a uid).
 * Returns 0, -ENOENT for no such user, -EINVAL for an empty name, or -errno. */
int kaas_kaasd_uid(const char *user, uid_t *ret) KAAS_WARN_UNUSED_RESULT KAAS_NONNULL(2);

/* Timeout for later operations, as in kaas_connect(). */
void kaas_client_set_timeout(struct kaas_client *c, int timeout_ms) KAAS_NONNULL(1);

/* Largest message accepted or sent, in bytes (without the NUL); 0 restores
 * KAAS_DEFAULT_MAX_MESSAGE_SIZE. -EBUSY while a call awaits its reply. */
int kaas_client_set_max_message_size(struct kaas_client *c, size_t bytes)
        KAAS_WARN_UNUSED_RESULT KAAS_NONNULL(1);

/* The socket path this client connects to. Owned by the client. */
const char *kaas_client_get_socket_path(const struct kaas_client *c) KAAS_NONNULL(1);

/* ---------------------------------------------------------------- calls */

/* Calls method ("io.kaas.Admin.Status") with parameters (a JSON object,
 * borrowed; NULL means {}) and waits for its reply.
 *
 * Returns 0 and, when ret_parameters is not NULL, a new reference to the
 * reply's parameters (an object, possibly empty). Returns KAAS_ERROR_REMOTE
 * when kaasd answered with an error: ret_error, when not NULL, is cleared
 * and then holds it. Other failures: -ETIMEDOUT no complete reply in time,
 * -ECONNRESET kaasd closed the connection, -EPROTO malformed or unexpected
 * reply, -EMSGSIZE reply (or call) over the size limit, -EBUSY pipelined
 * calls still await replies, -EINVAL parameters not an object or method
 * not UTF-8, connection errors as for kaas_connect(). After
 * any local failure the connection is closed (the next call reconnects),
 * since a late reply would otherwise answer the wrong call. */
int kaas_call(struct kaas_client *c, const char *method, json_t *parameters,
              json_t **ret_parameters, struct kaas_error *ret_error)
        KAAS_WARN_UNUSED_RESULT KAAS_NONNULL(1, 2);

/* Called once per reply of a streamed call, with the reply's parameters
 * (borrowed: take a reference to keep them) and whether more replies
 * follow. Return 0 to go on, or a negative value to stop: kaas_call_more()
 * then closes the connection (the rest of the stream would otherwise
 * arrive as the answer to later calls) and returns that value. */
typedef int (*kaas_reply_fn)(json_t *parameters, bool continues, void *userdata);

/* Calls method with "more": kaasd may send several replies, each marked
 * "continues" but the last. on_reply runs for every reply, the last one
 * included. The timeout bounds the wait for each reply, not the whole
 * stream. Returns 0 after the last reply, KAAS_ERROR_REMOTE (ret_error
 * filled) when the stream ends with an error, or the errors of
 * kaas_call(). */
int kaas_call_more(struct kaas_client *c, const char *method, json_t *parameters,
                   kaas_reply_fn on_reply, void *userdata, struct kaas_error *ret_error)
        KAAS_WARN_UNUSED_RESULT KAAS_NONNULL(1, 2, 4);

/* Sends a call with "oneway": kaasd answers nothing. Returns once the call
 * is written to the socket, which says nothing about whether it
 * succeeded. */
int kaas_call_oneway(struct kaas_client *c, const char *method, json_t *parameters)
        KAAS_WARN_UNUSED_RESULT KAAS_NONNULL(1, 2);

/* ------------------------------------------------------------ pipelining */

#define KAAS_CALL_MORE   (1u << 0)  /* expect several replies */
#define KAAS_CALL_ONEWAY (1u << 1)  /* expect none */

/* Sends a call without waiting for its reply, so several calls can be in
 * flight; collect the replies in order with kaas_receive(). Keep a
 * pipeline short (a few dozen calls): kaasd stops reading a connection
 * whose replies are not read, and kaas_send() then times out. Errors as
 * for kaas_call(); -EINVAL for unknown flags or MORE|ONEWAY. */
int kaas_send(struct kaas_client *c, const char *method, json_t *parameters, unsigned flags)
        KAAS_WARN_UNUSED_RESULT KAAS_NONNULL(1, 2);

/* Waits for the next reply to a call sent with kaas_send(). Returns 0 for
 * the final reply of that call, 1 for a reply with "continues" (more for
 * the same call follow), KAAS_ERROR_REMOTE for an error reply (which is
 * final), -ENOMSG when no call awaits a reply, or the errors of
 * kaas_call(). ret_parameters and ret_error as for kaas_call(). */
int kaas_receive(struct kaas_client *c, json_t **ret_parameters, struct kaas_error *ret_error)
        KAAS_WARN_UNUSED_RESULT KAAS_NONNULL(1);

/* --------------------------------------------------------------- errors */

/* A short description of r, a return value of this library ("kaasd is not
 * running", "kaasd did not answer in time", ...). Static storage; never
 * NULL. */
const char *kaas_strerror(int r);

/* Like kaas_strerror() but naming the socket where it helps: "kaasd is not
 * running (no socket at /run/kaas/kaasd.sock)". socket_path is resolved as
 * kaas_socket_path() does. Writes at most size bytes, always NUL-terminated
 * when size > 0, and returns buf. */
const char *kaas_strerror_path(int r, const char *socket_path, char *buf, size_t size)
        KAAS_NONNULL(3);

#ifdef __cplusplus
}
#endif
