/* pam_kaas: what the four PAM stages share — module options, the
 * per-call context, the test for local accounts, the connection to kaasd
 * with its peer check, the Keystone user lookup and logging.
 *
 * No global state: everything lives in a struct pk_ctx on the stack of one
 * pam_sm_* call (the connection to kaasd included), or in PAM data of the
 * handle. Depends on libpam, libkaas (embedded: client/libkaas-static.la)
 * and jansson; never on NSS for deciding whether a user is local. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <security/pam_modules.h>

#include "kaas.h"
#include "passwd_file.h"

/* The entry points; everything else stays inside the module (the build
 * hides all symbols and pam_kaas.sym exports only pam_sm_*). */
#define PK_PUBLIC __attribute__((visibility("default")))

#define PK_DEFAULT_TIMEOUT_MS 5000
#define PK_DEFAULT_PROMPT "KaaS token: "
#define PK_DEFAULT_PASSWD_FILE PASSWD_FILE_DEFAULT
/* Linux-PAM's usual failure delay (pam_unix), in microseconds */
#define PK_FAIL_DELAY_US 2000000
/* PAM data: the public token ID the auth stage accepted */
#define PK_DATA_TOKEN_ID "pam_kaas_token_id"
/* The longest user name handled (LOGIN_NAME_MAX less the NUL) */
#define PK_USER_MAX 255

struct pk_options {
        bool debug;
        bool quiet;
        bool nodelay;
        bool use_first_pass;            /* also set by use_authtok */
        bool try_first_pass;
        bool ignore_unknown_user;
        bool ignore_authinfo_unavail;
        bool have_kaasd_uid;
        bool bad_restriction;           /* a require_* option without a usable value */
        uid_t kaasd_uid;
        int timeout_ms;
        const char *socket;             /* NULL: libkaas's default */
        const char *prompt;
        const char *passwd_file;
        const char *require_role;       /* comma-separated names or IDs */
        const char *require_cluster_admin;
};

struct pk_ctx {
        pam_handle_t *pamh;
        int flags;                      /* the PAM flags of this call */
        const char *stage;              /* "auth", "account" ... for log lines */
        struct pk_options opt;
        const char *user;               /* PAM_USER, owned by PAM */
        int64_t deadline_ms;            /* CLOCK_MONOTONIC; bounds the waits for kaasd */
        struct kaas_client *client;     /* NULL until connected */
};

/* Parses the module arguments into ctx->opt (unknown ones are logged and
 * ignored) and starts the call's deadline. Never fails. */
void pk_ctx_init(struct pk_ctx *ctx, pam_handle_t *pamh, int flags, const char *stage, int argc,
                 const char **argv);

/* Closes the connection to kaasd, if any. */
void pk_ctx_done(struct pk_ctx *ctx);

/* timeout= bounds the waits for kaasd, not the user: the time spent in a
 * conversation (a prompt) begun at pk_conversation_start()'s value moves
 * the deadline on by as much. */
int64_t pk_conversation_start(void);
void pk_conversation_end(struct pk_ctx *ctx, int64_t started);

/* Reads PAM_USER (asking for it when unset). Returns PAM_SUCCESS, or
 * PAM_USER_UNKNOWN for a missing, empty, overlong or control-character
 * name, or what pam_get_user() returned. */
int pk_get_user(struct pk_ctx *ctx);

/* Whether ctx->user is root or a user of the passwd file (any entry with
 * that name, and any uid 0 entry): 1 yes, 0 no, or a negative errno when
 * the file cannot be read. Never asks NSS. */
int pk_user_is_local(const struct pk_ctx *ctx);

/* Runs the local-user test for a stage: returns PAM_IGNORE for local
 * users, PAM_SERVICE_ERR when it cannot decide, or -1 to go on. */
int pk_skip_local_user(struct pk_ctx *ctx);

/* Outcome of a call to kaasd. */
enum pk_result {
        PK_OK = 0,
        PK_REMOTE_ERROR,    /* kaasd answered with an error: see the kaas_error */
        PK_UNAVAILABLE,     /* not running, refused, timed out, broken reply */
        PK_UNTRUSTED,       /* the socket or the process behind it is not kaasd's */
        PK_NOT_FOUND,       /* the user lookup of pk_find_user(): no such Keystone user */
};

/* Calls method on kaasd, connecting first (with the peer check) when
 * needed, bounded by what is left of the call's deadline. On PK_OK
 * *ret_parameters (when not NULL) holds the reply's parameters; on
 * PK_REMOTE_ERROR err holds the error. Other failures are logged here. */
enum pk_result pk_call(struct pk_ctx *ctx, const char *method, json_t *parameters, json_t **ret_parameters,
                       struct kaas_error *err);

/* Looks the PAM user up (io.kaas.Identity.GetUser by unix_name) for a
 * stage that serves only users Keystone knows: kaasd decides which
 * Keystone user a Unix name is, by the rules its NSS answers follow; the
 * module holds no copy of them. Returns PAM_SUCCESS with *ret_user the
 * User object (a new reference; dropped when ret_user is NULL), or,
 * logged, the stage's answer: pk_unknown_user() for a name kaasd serves
 * no Keystone user as, pk_unavailable() when kaasd cannot tell,
 * PAM_SERVICE_ERR for a kaasd that is not trusted. */
int pk_find_user(struct pk_ctx *ctx, json_t **ret_user);

/* PAM_AUTHINFO_UNAVAIL, or PAM_IGNORE with ignore_authinfo_unavail. */
int pk_unavailable(const struct pk_ctx *ctx);

/* PAM_USER_UNKNOWN, or PAM_IGNORE with ignore_unknown_user. */
int pk_unknown_user(const struct pk_ctx *ctx);

/* Zeroes the bytes of every string in v (recursively) in place, so that a
 * secret copied into a JSON value does not outlive it in freed memory;
 * then drops the reference. NULL is fine. */
void pk_json_wipe_and_free(json_t *v);

/* Logging through pam_syslog(): pk_debug only with the debug option,
 * pk_info not with quiet. */
#define pk_log(ctx, prio, ...) pam_syslog((ctx)->pamh, (prio), __VA_ARGS__)
#define pk_debug(ctx, ...)                                        \
        do {                                                      \
                if ((ctx)->opt.debug)                             \
                        pam_syslog((ctx)->pamh, LOG_DEBUG, __VA_ARGS__); \
        } while (0)
#define pk_info(ctx, ...)                                         \
        do {                                                      \
                if (!(ctx)->opt.quiet)                            \
                        pam_syslog((ctx)->pamh, LOG_INFO, __VA_ARGS__); \
        } while (0)

/* Tells the user msg through the conversation (PAM_ERROR_MSG), unless the
 * application asked for PAM_SILENT. */
void pk_tell(const struct pk_ctx *ctx, const char *msg);
