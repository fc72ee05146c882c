/* kaasctl token commands (io.kaas.Token): create, list, delete,
 * revoke-user, validate; and what they share with other groups through
 * kaasctl_token.h — the credentials flow, secret handling, messages for
 * kaasd's errors. Depends on kaasctl.h, kaasctl_output.h, libkaas and
 * jansson; libsodium is not a dependency of kaasctl (explicit_bzero()
 * does the wiping). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "kaasctl.h"
#include "kaasctl_output.h"
#include "varlink_message.h"
#include "kaasctl_token.h"

#define TOKEN_METHOD(m) "io.kaas.Token." m
#define USER_NAME_MAX 256  /* Keystone's limit is 255 */

/* ------------------------------------------------------------ secrets */

static void wiping_free(void *p) {
        if (!p)
                return;
        explicit_bzero(p, malloc_usable_size(p));
        free(p);
}

void kaasctl_secure_memory(void) {
        /* blocks malloc()ed before this call are freed the same way:
         * wiping_free() only adds the wipe */
        json_set_alloc_funcs(malloc, wiping_free);
}

void kaasctl_secret_free(json_t *v) {
        if (!v)
                return;
        vl_json_wipe(v);  /* common/: jansson's strings zeroed in place */
        json_decref(v);
}

static void secret_freep(json_t **v) {
        kaasctl_secret_free(*v);
}
#define SECRET_JSON_AUTO __attribute__((cleanup(secret_freep)))

/* ----------------------------------------------------- terminal input */

/* The signal that interrupted a terminal read, 0 for none. */
static volatile sig_atomic_t tty_signal;

static void on_tty_signal(int sig) {
        tty_signal = sig;
}

/* Signals that end or stop the process while it waits for input: each
 * one restores the terminal before it takes effect. */
static const int tty_signals[] = { SIGALRM, SIGHUP, SIGINT, SIGPIPE, SIGQUIT, SIGTERM, SIGTSTP, SIGTTIN, SIGTTOU };
#define N_TTY_SIGNALS (sizeof(tty_signals) / sizeof(tty_signals[0]))

static void write_all(int fd, const char *s) {
        size_t len = strlen(s);
        while (len > 0) {
                ssize_t n = write(fd, s, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return;
                s += n;
                len -= (size_t)n;
        }
}

/* One attempt at reading a line from the terminal. Returns the length,
 * -ENXIO without a terminal, -EMSGSIZE for a line over size - 1 bytes,
 * -EINTR when a signal interrupted it (after the signal took effect: the
 * caller asks again when the process was only stopped), -EIO. */
static int tty_read_once(const char *prompt, bool echo, char *buf, size_t size) {
        int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return -ENXIO;
        struct termios saved, quiet;
        bool restore = false;
        if (tcgetattr(fd, &saved) < 0) {
                close(fd);
                return -ENXIO;
        }
        struct sigaction sa = { .sa_handler = on_tty_signal }, old[N_TTY_SIGNALS];
        sigset_t tty_set, unblocked;
        sigemptyset(&sa.sa_mask);
        sigemptyset(&tty_set);
        for (size_t i = 0; i < N_TTY_SIGNALS; i++)
                sigaddset(&tty_set, tty_signals[i]);
        /* The signals stay blocked except inside ppoll(), which unblocks
         * them and waits in one step: one arriving between the check of
         * tty_signal and the wait ends the wait instead of being handled
         * just before a read() that then blocks for good. */
        sigprocmask(SIG_BLOCK, &tty_set, &unblocked);
        tty_signal = 0;
        /* a signal ignored on entry (nohup, a background job of a shell
         * without job control) stays ignored: caught here, it would end
         * the prompt and then do nothing, and the prompt would start over */
        for (size_t i = 0; i < N_TTY_SIGNALS; i++)
                if (sigaction(tty_signals[i], NULL, &old[i]) == 0 && old[i].sa_handler != SIG_IGN)
                        sigaction(tty_signals[i], &sa, NULL);
        if (!echo) {
                quiet = saved;
                quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK);
                quiet.c_lflag |= ECHONL;
                if (tcsetattr(fd, TCSAFLUSH, &quiet) == 0)
                        restore = true;
        }
        write_all(fd, prompt);

        size_t len = 0;
        bool too_long = false;
        int r = 0;
        while (!tty_signal) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                if (ppoll(&p, 1, NULL, &unblocked) < 0) {
                        if (errno == EINTR)
                                continue;  /* tty_signal decides */
                        r = -EIO;
                        break;
                }
                char ch;
                ssize_t n = read(fd, &ch, 1);  /* readable: does not block */
                if (n < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        r = -EIO;
                        break;
                }
                if (n == 0 || ch == '\n' || ch == '\r')
                        break;
                if (len + 1 < size)
                        buf[len++] = ch;
                else
                        too_long = true;
                ch = 0;
        }
        buf[len] = '\0';
        if (restore)
                (void)tcsetattr(fd, TCSAFLUSH, &saved);
        for (size_t i = 0; i < N_TTY_SIGNALS; i++)
                sigaction(tty_signals[i], &old[i], NULL);
        /* a signal that came while blocked outside ppoll() is handled here,
         * by the previous action, as it would have been without the prompt */
        sigprocmask(SIG_SETMASK, &unblocked, NULL);
        close(fd);

        int sig = tty_signal;
        if (sig) {
                explicit_bzero(buf, size);
                /* now with its previous action: ends or stops the process */
                kill(getpid(), sig);
                return -EINTR;
        }
        if (r < 0 || too_long) {
                explicit_bzero(buf, size);
                return r < 0 ? r : -EMSGSIZE;
        }
        return (int)len;
}

/* Reads a line from the terminal; asks again after the process was
 * stopped (^Z) and continued, as the prompt was interrupted. */
static int tty_read(const char *prompt, bool echo, char *buf, size_t size) {
        for (;;) {
                int r = tty_read_once(prompt, echo, buf, size);
                if (r != -EINTR)
                        return r;
        }
}

/* Reads one line from stdin with read(2), so no stdio buffer keeps a
 * copy. Returns the length, -ENODATA for nothing at all, -EMSGSIZE, -EIO. */
static int stdin_read_line(char *buf, size_t size) {
        size_t len = 0;
        bool any = false, too_long = false;
        for (;;) {
                char ch;
                ssize_t n = read(STDIN_FILENO, &ch, 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        explicit_bzero(buf, size);
                        return -EIO;
                }
                if (n == 0 || ch == '\n')
                        break;
                any = true;
                if (len + 1 < size)
                        buf[len++] = ch;
                else
                        too_long = true;
                ch = 0;
        }
        if (len > 0 && buf[len - 1] == '\r')
                len--;
        buf[len] = '\0';
        if (too_long) {
                explicit_bzero(buf, size);
                return -EMSGSIZE;
        }
        return any ? (int)len : -ENODATA;
}

int kaasctl_read_secret(const char *prompt, bool from_stdin, const char *no_tty_hint, char *buf, size_t size) {
        /* "from stdin" that is the terminal: still no echo */
        int r = from_stdin && !isatty(STDIN_FILENO) ? stdin_read_line(buf, size) : tty_read(prompt, false, buf, size);
        switch (r) {
        case -ENXIO:
                kaasctl_log("no terminal to ask on: %s", no_tty_hint);
                return -KAASCTL_EXIT_USAGE;
        case -ENODATA:
                kaasctl_log("nothing on standard input");
                return -KAASCTL_EXIT_USAGE;
        case -EMSGSIZE:
                kaasctl_log("the input is longer than %d bytes", KAASCTL_SECRET_MAX);
                return -KAASCTL_EXIT_USAGE;
        case -EIO:
                kaasctl_log("cannot read %s: %s", from_stdin ? "standard input" : "the terminal", strerror(errno));
                return -KAASCTL_EXIT_LOCAL;
        default:
                break;
        }
        if (r == 0) {
                kaasctl_log("empty input");
                return -KAASCTL_EXIT_USAGE;
        }
        return r;
}

/* -------------------------------------------------------- credentials */

bool kaasctl_credentials_explicit(const struct kaasctl *ctx) {
        return kaasctl_flag(ctx, KAASCTL_OPT_PASSWORD_STDIN) || kaasctl_flag(ctx, KAASCTL_OPT_KAAS_TOKEN_STDIN);
}

static const char *nonempty_env(const char *name) {
        const char *v = getenv(name);
        return v && *v ? v : NULL;
}

/* Sets key to a copy of the secret; the caller wipes its buffer. */
static int set_secret(json_t *o, const char *key, const char *secret) {
        json_t *s = json_string(secret);
        if (!s || json_object_set_new(o, key, s) < 0) {
                kaasctl_log("out of memory, or not UTF-8: %s", key);
                return KAASCTL_EXIT_LOCAL;
        }
        return 0;
}

static int password_credentials(struct kaasctl *ctx, json_t *cred) {
        char user[USER_NAME_MAX + 1];
        const char *name = nonempty_env("OS_USERNAME");
        if (!name) {
                int n = tty_read("OpenStack user name: ", true, user, sizeof(user));
                if (n == -ENXIO) {
                        kaasctl_log("no OpenStack user name: set OS_USERNAME (or OS_TOKEN), or run kaasctl on a terminal");
                        return KAASCTL_EXIT_USAGE;
                }
                if (n <= 0) {
                        kaasctl_log(n == 0 ? "no user name given" : "cannot read the user name");
                        return KAASCTL_EXIT_USAGE;
                }
                name = user;
        }
        const char *domain = nonempty_env("OS_USER_DOMAIN_NAME");
        if (!domain)
                domain = "Default";
        int r;
        if ((r = set_secret(cred, "user", name)) != 0 || (r = set_secret(cred, "domain", domain)) != 0)
                return r;

        char password[KAASCTL_SECRET_MAX + 1];
        const char *env_password = nonempty_env("OS_PASSWORD");
        if (env_password && !kaasctl_flag(ctx, KAASCTL_OPT_PASSWORD_STDIN))
                return set_secret(cred, "password", env_password);
        char prompt[USER_NAME_MAX + 64];
        snprintf(prompt, sizeof(prompt), "OpenStack password for %s: ", name);
        int n = kaasctl_read_secret(prompt, kaasctl_flag(ctx, KAASCTL_OPT_PASSWORD_STDIN),
                                    "set OS_PASSWORD, or pass the password on standard input with --password-stdin",
                                    password, sizeof(password));
        if (n < 0)
                return -n;
        r = set_secret(cred, "password", password);
        explicit_bzero(password, sizeof(password));
        return r;
}

int kaasctl_credentials(struct kaasctl *ctx, json_t **ret) {
        kaasctl_secure_memory();
        bool password_stdin = kaasctl_flag(ctx, KAASCTL_OPT_PASSWORD_STDIN),
             token_stdin = kaasctl_flag(ctx, KAASCTL_OPT_KAAS_TOKEN_STDIN);
        if (password_stdin && token_stdin)
                return kaasctl_usage_error("--password-stdin and --kaas-token-stdin exclude each other");
        SECRET_JSON_AUTO json_t *cred = json_object();
        if (!cred) {
                kaasctl_log("out of memory");
                return KAASCTL_EXIT_LOCAL;
        }
        int r;
        if (token_stdin) {
                char token[KAASCTL_SECRET_MAX + 1];
                int n = kaasctl_read_secret("KaaS token: ", true, "pipe the KaaS token to standard input", token,
                                            sizeof(token));
                if (n < 0)
                        return -n;
                r = set_secret(cred, "kaas_token", token);
                explicit_bzero(token, sizeof(token));
        } else if (!password_stdin && nonempty_env("OS_TOKEN")) {
                r = set_secret(cred, "keystone_token", nonempty_env("OS_TOKEN"));
        } else {
                r = password_credentials(ctx, cred);
        }
        if (r != 0)
                return r;
        *ret = cred;
        cred = NULL;
        return 0;
}

/* ------------------------------------------------------------- errors */

void kaasctl_format_time(char *buf, size_t size, json_int_t t) {
        struct tm tm;
        time_t tt = (time_t)t;
        if (t <= 0 || !localtime_r(&tt, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M", &tm) == 0)
                snprintf(buf, size, "-");
}

static const char *param_string(const struct kaas_error *e, const char *key) {
        const char *s = json_string_value(json_object_get(e->parameters, key));
        return s && *s ? s : NULL;
}

static bool error_in(const struct kaas_error *e, const char *iface, const char *name) {
        size_t n = strlen(iface);
        return strncmp(e->name, iface, n) == 0 && e->name[n] == '.' && strcmp(e->name + n + 1, name) == 0;
}

static bool token_or_identity(const struct kaas_error *e, const char *name) {
        return error_in(e, "io.kaas.Token", name) || error_in(e, "io.kaas.Identity", name);
}

/* Prints what e means for people, and its short name for scripts. */
static void explain_error(const char *method, const struct kaas_error *e) {
        const char *reason = param_string(e, "reason");
        const char *short_name = strrchr(e->name, '.') ? strrchr(e->name, '.') + 1 : e->name;
        char when[64];
        if (token_or_identity(e, "AuthenticationFailed")) {
                kaasctl_log("authentication failed: %s (%s)", reason ? reason : "the credentials were not accepted",
                            short_name);
        } else if (token_or_identity(e, "ProofNotAccepted")) {
                kaasctl_log("these credentials cannot prove your identity: %s; use your own password or a token "
                            "from it (%s)", reason ? reason : "refused by kaasd", short_name);
        } else if (token_or_identity(e, "RateLimited")) {
                kaasctl_log("too many failed authentications: try again in %" JSON_INTEGER_FORMAT " s (%s)",
                            json_integer_value(json_object_get(e->parameters, "retry_after")), short_name);
        } else if (token_or_identity(e, "Unavailable")) {
                kaasctl_log("the identity service (Keystone) is unavailable: %s (%s)",
                            reason ? reason : "no reason given", short_name);
        } else if (token_or_identity(e, "PermissionDenied")) {
                kaasctl_log("permission denied: %s (%s)", reason ? reason : "not allowed", short_name);
        } else if (token_or_identity(e, "CredentialsRequired")) {
                kaasctl_log("credentials required: %s; set OS_USERNAME and OS_PASSWORD, or OS_TOKEN, or use "
                            "--kaas-token-stdin (%s)", reason ? reason : "prove an OpenStack identity", short_name);
        } else if (token_or_identity(e, "NotFound")) {
                const char *id = param_string(e, "id");
                kaasctl_log("no token %s%s%s among those you may see (%s)", id ? "'" : "", id ? id : "", id ? "'" : "",
                            short_name);
        } else if (token_or_identity(e, "TooManyTokens")) {
                kaasctl_log("the limit of %" JSON_INTEGER_FORMAT " tokens per user is reached: delete one first "
                            "(kaasctl token list, kaasctl token delete) (%s)",
                            json_integer_value(json_object_get(e->parameters, "limit")), short_name);
        } else if (token_or_identity(e, "InvalidToken")) {
                kaasctl_log("the token is not valid (%s)", short_name);
        } else if (token_or_identity(e, "Expired")) {
                kaasctl_format_time(when, sizeof(when), json_integer_value(json_object_get(e->parameters, "expired")));
                kaasctl_log("the token %s expired on %s (%s)", param_string(e, "token_id") ? param_string(e, "token_id") : "",
                            when, short_name);
        } else if (token_or_identity(e, "UserDisabled")) {
                kaasctl_log("the user is disabled in Keystone, or no longer exists there (%s)", short_name);
        } else if (token_or_identity(e, "UserRefused")) {
                kaasctl_log("the user cannot be used in Kubernetes: %s (%s)", reason ? reason : "name refused",
                            short_name);
        } else if (token_or_identity(e, "InvalidArgument")) {
                kaasctl_log("invalid argument: %s (%s)", reason ? reason : "refused by kaasd", short_name);
        } else if (error_in(e, "io.kaas.Identity", "UserNotFound")) {
                kaasctl_log("no such user in Keystone (%s)", short_name);
        } else if (error_in(e, "io.kaas.Admin", "CacheError")) {
                kaasctl_log("the identity cache could not be changed: %s (%s)", reason ? reason : "-", short_name);
        } else if (strcmp(e->name, "org.varlink.service.PermissionDenied") == 0) {
                const char *who = strcmp(method, TOKEN_METHOD("Validate")) == 0
                                          ? "only root and kaasd's validator_group may validate tokens"
                                  : strncmp(method, "io.kaas.Admin.", 14) == 0
                                          ? "only root and kaasd's admin_group may do this"
                                          : "kaasd refuses this method to your user";
                kaasctl_log("permission denied: %s (%s)", who, short_name);
        } else {
                kaasctl_log("%s", e->message ? e->message : e->name);
        }
}

int kaasctl_call_explained(struct kaasctl *ctx, const char *method, json_t *parameters, json_t **ret,
                           const char *quiet_error, bool *ret_quiet_hit) {
        int r = kaasctl_connect(ctx);
        if (r != 0)
                return r;
        struct kaas_error e = KAAS_ERROR_INIT;
        r = kaas_call(ctx->client, method, parameters, ret, &e);
        if (r == KAAS_ERROR_REMOTE && quiet_error && kaas_error_is(&e, quiet_error)) {
                *ret_quiet_hit = true;
                r = KAASCTL_EXIT_REMOTE;
        } else if (r == KAAS_ERROR_REMOTE && e.name) {
                explain_error(method, &e);
                r = KAASCTL_EXIT_REMOTE;
        } else if (r < 0) {
                r = kaasctl_report_failure(ctx, r, &e, false);
        }
        kaas_error_clear(&e);
        return r;
}

/* Calls a method that local administrators may call without credentials:
 * without them first, unless the user named a credential source; with
 * them when kaasd asks for them. params is changed (credentials added). */
static int call_maybe_admin(struct kaasctl *ctx, const char *method, json_t *params, json_t **ret) {
        int r;
        if (!kaasctl_credentials_explicit(ctx)) {
                bool needs = false;
                r = kaasctl_call_explained(ctx, method, params, ret, TOKEN_METHOD("CredentialsRequired"), &needs);
                if (!needs)
                        return r;
        }
        json_t *cred = NULL;
        if ((r = kaasctl_credentials(ctx, &cred)) != 0)
                return r;
        if (json_object_set_new(params, "credentials", cred) < 0) {
                kaasctl_log("out of memory");
                return KAASCTL_EXIT_LOCAL;
        }
        r = kaasctl_call_explained(ctx, method, params, ret, NULL, NULL);
        vl_json_wipe(json_object_get(params, "credentials"));
        return r;
}

/* ------------------------------------------------------------- create */

static int parse_days(const char *arg, json_int_t *ret) {
        char *end;
        errno = 0;
        long v = strtol(arg, &end, 10);
        if (errno || end == arg || *end || v < 1 || v > 36500)
                return kaasctl_usage_error("invalid --expires-in '%s': expected a number of days, such as 90", arg);
        *ret = v;
        return 0;
}

int kaasctl_token_create(struct kaasctl *ctx, json_t **ret) {
        const char *desc = kaasctl_option(ctx, KAASCTL_OPT_DESCRIPTION);
        const char *days_arg = kaasctl_option(ctx, KAASCTL_OPT_EXPIRES_IN);
        json_int_t days = 0;
        int r;
        if (days_arg && (r = parse_days(days_arg, &days)) != 0)
                return r;
        SECRET_JSON_AUTO json_t *params = json_object();
        json_t *cred = NULL;
        if (!params) {
                kaasctl_log("out of memory");
                return KAASCTL_EXIT_LOCAL;
        }
        if (desc && json_object_set_new(params, "description", json_string(desc)) < 0)
                return kaasctl_usage_error("the description must be UTF-8 text");
        if (days_arg && json_object_set_new(params, "expires_in_days", json_integer(days)) < 0) {
                kaasctl_log("out of memory");
                return KAASCTL_EXIT_LOCAL;
        }
        if ((r = kaasctl_credentials(ctx, &cred)) != 0)
                return r;
        if (json_object_set_new(params, "credentials", cred) < 0) {
                kaasctl_log("out of memory");
                return KAASCTL_EXIT_LOCAL;
        }
        /* from here a token may exist: a closed stdout must become a
         * message that names it, not a death by SIGPIPE */
        signal(SIGPIPE, SIG_IGN);
        json_t *reply = NULL;
        if ((r = kaasctl_call_explained(ctx, TOKEN_METHOD("Create"), params, &reply, NULL, NULL)) != 0)
                return r;
        if (!json_is_string(json_object_get(reply, "token"))) {
                kaasctl_secret_free(reply);
                kaasctl_log("kaasd's reply holds no token");
                return KAASCTL_EXIT_LOCAL;
        }
        *ret = reply;
        return 0;
}

static int cmd_create(struct kaasctl *ctx, int argc, char **argv) {
        SECRET_JSON_AUTO json_t *reply = NULL;
        int r = kaasctl_token_create(ctx, &reply);
        if (r != 0)
                return r;
        char expires[64];
        kaasctl_format_time(expires, sizeof(expires), json_integer_value(json_object_get(reply, "expires")));
        if (ctx->json)
                kaasctl_print_json(stdout, reply);
        else {
                kaasctl_put(stdout, json_string_value(json_object_get(reply, "token")), false);
                fputc('\n', stdout);
        }
        /* the token itself goes to stdout only, so it can be redirected;
         * the notes follow it on stderr */
        const char *id = json_string_value(json_object_get(reply, "id"));
        if ((r = kaasctl_finish_output(KAASCTL_EXIT_OK)) != 0) {
                kaasctl_log("the new token %s was not shown: delete it with kaasctl token delete %s", id ? id : "?",
                            id ? id : "ID");
                return r;
        }
        kaasctl_log("created token %s for %s, valid until %s", id ? id : "?",
                    json_string_value(json_object_get(reply, "user_name")) ? json_string_value(json_object_get(reply, "user_name")) : "?",
                    expires);
        kaasctl_log("WARNING: this is the only time the token is shown; kaasd keeps only a hash of it and "
                    "cannot show it again. Store it now.");
        return KAASCTL_EXIT_OK;
}

/* --------------------------------------------------------------- list */

static int add_time_cell(struct kaasctl_table *t, json_t *v, const char *none) {
        if (!json_is_integer(v) || json_integer_value(v) <= 0)
                return kaasctl_table_add(t, none);
        char buf[64];
        kaasctl_format_time(buf, sizeof(buf), json_integer_value(v));
        if (json_integer_value(v) < (json_int_t)time(NULL) && none[0] == '-')
                return kaasctl_table_addf(t, "%s (expired)", buf);
        return kaasctl_table_add(t, buf);
}

static int print_token_table(json_t *tokens, bool with_owner) {
        static const char *const own_headers[] = { "ID", "DESCRIPTION", "CREATED", "EXPIRES", "LAST USED" };
        static const char *const all_headers[] = { "ID", "USER", "DESCRIPTION", "CREATED", "EXPIRES", "LAST USED" };
        KAASCTL_TABLE_AUTO struct kaasctl_table *t =
                with_owner ? kaasctl_table_new(6, all_headers) : kaasctl_table_new(5, own_headers);
        if (!t)
                return -ENOMEM;
        size_t i;
        json_t *tok;
        int r;
        json_array_foreach(tokens, i, tok) {
                if ((r = kaasctl_table_add_json(t, json_object_get(tok, "id"))) < 0 ||
                    (with_owner && (r = kaasctl_table_add_json(t, json_object_get(tok, "user_name"))) < 0))
                        return r;
                const char *desc = json_string_value(json_object_get(tok, "description"));
                if ((r = kaasctl_table_add(t, desc && *desc ? desc : "-")) < 0 ||
                    (r = add_time_cell(t, json_object_get(tok, "created"), "?")) < 0 ||
                    (r = add_time_cell(t, json_object_get(tok, "expires"), "-")) < 0 ||
                    (r = add_time_cell(t, json_object_get(tok, "last_used"), "never")) < 0)
                        return r;
        }
        kaasctl_table_print(t, stdout);
        return 0;
}

static int cmd_list(struct kaasctl *ctx, int argc, char **argv) {
        const char *user = kaasctl_option(ctx, "user"), *domain = kaasctl_option(ctx, "domain");
        bool all = kaasctl_flag(ctx, "all");
        if (user && all)
                return kaasctl_usage_error("--user and --all exclude each other");
        if (domain && !user)
                return kaasctl_usage_error("--domain goes with --user");
        KAASCTL_JSON_AUTO json_t *params = json_object();
        if (!params || (user && json_object_set_new(params, "user", json_string(user)) < 0) ||
            (domain && json_object_set_new(params, "domain", json_string(domain)) < 0) ||
            (all && json_object_set_new(params, "all", json_true()) < 0))
                return kaasctl_usage_error("user and domain must be UTF-8 text");
        KAASCTL_JSON_AUTO json_t *reply = NULL;
        int r;
        if (user || all) {
                r = call_maybe_admin(ctx, TOKEN_METHOD("List"), params, &reply);
        } else {
                json_t *cred = NULL;
                if ((r = kaasctl_credentials(ctx, &cred)) != 0)
                        return r;
                json_object_set_new(params, "credentials", cred);
                r = kaasctl_call_explained(ctx, TOKEN_METHOD("List"), params, &reply, NULL, NULL);
                vl_json_wipe(json_object_get(params, "credentials"));
        }
        if (r != 0)
                return r;
        if (ctx->json) {
                kaasctl_print_json(stdout, reply);
                return KAASCTL_EXIT_OK;
        }
        json_t *tokens = json_object_get(reply, "tokens");
        if (json_array_size(tokens) == 0) {
                kaasctl_log("no tokens");
                return KAASCTL_EXIT_OK;
        }
        if (print_token_table(tokens, user || all) < 0) {
                kaasctl_log("out of memory");
                return KAASCTL_EXIT_LOCAL;
        }
        return KAASCTL_EXIT_OK;
}

/* ------------------------------------------------------------- delete */

static int cmd_delete(struct kaasctl *ctx, int argc, char **argv) {
        KAASCTL_JSON_AUTO json_t *params = json_object();
        json_t *ids = json_array();
        if (!params || !ids || json_object_set_new(params, "ids", ids) < 0) {
                kaasctl_log("out of memory");
                return KAASCTL_EXIT_LOCAL;
        }
        for (int i = 0; i < argc; i++) {
                if (json_array_append_new(ids, json_string(argv[i])) < 0)
                        return kaasctl_usage_error("token ID '%s' is not UTF-8 text", argv[i]);
        }
        KAASCTL_JSON_AUTO json_t *reply = NULL;
        int r = call_maybe_admin(ctx, TOKEN_METHOD("Delete"), params, &reply);
        if (r != 0)
                return r;
        if (ctx->json) {
                kaasctl_print_json(stdout, reply);
                return KAASCTL_EXIT_OK;
        }
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(reply, "deleted"), i, v)
                if (json_is_string(v)) {
                        fputs("deleted ", stdout);
                        kaasctl_put(stdout, json_string_value(v), false);
                        fputc('\n', stdout);
                }
        return KAASCTL_EXIT_OK;
}

/* -------------------------------------------------------- revoke-user */

static int cmd_revoke_user(struct kaasctl *ctx, int argc, char **argv) {
        const char *domain = kaasctl_option(ctx, "domain");
        KAASCTL_JSON_AUTO json_t *params = json_pack("{s:s}", "user", argv[0]);
        if (!params || (domain && json_object_set_new(params, "domain", json_string(domain)) < 0))
                return kaasctl_usage_error("user and domain must be UTF-8 text");
        KAASCTL_JSON_AUTO json_t *reply = NULL;
        int r = call_maybe_admin(ctx, TOKEN_METHOD("RevokeUser"), params, &reply);
        if (r != 0)
                return r;
        if (ctx->json) {
                kaasctl_print_json(stdout, reply);
                return KAASCTL_EXIT_OK;
        }
        json_int_t n = json_integer_value(json_object_get(reply, "deleted"));
        printf("revoked %" JSON_INTEGER_FORMAT " token%s of ", n, n == 1 ? "" : "s");
        kaasctl_put(stdout, argv[0], false);
        fputc('\n', stdout);
        return KAASCTL_EXIT_OK;
}

/* ----------------------------------------------------------- validate */

static int print_identity(json_t *reply) {
        json_t *id = json_object_get(reply, "identity");
        KAASCTL_TABLE_AUTO struct kaasctl_table *t = kaasctl_table_new(2, NULL);
        if (!t)
                return -ENOMEM;
        char expires[64];
        kaasctl_format_time(expires, sizeof(expires), json_integer_value(json_object_get(reply, "expires")));
        int r;
        if ((r = kaasctl_table_add(t, "User name:")) < 0 ||
            (r = kaasctl_table_add_json(t, json_object_get(id, "username"))) < 0 ||
            (r = kaasctl_table_add(t, "User ID:")) < 0 ||
            (r = kaasctl_table_add_json(t, json_object_get(id, "uid"))) < 0 ||
            (r = kaasctl_table_add(t, "Token ID:")) < 0 ||
            (r = kaasctl_table_add_json(t, json_object_get(reply, "token_id"))) < 0 ||
            (r = kaasctl_table_add(t, "Expires:")) < 0 || (r = kaasctl_table_add(t, expires)) < 0 ||
            (r = kaasctl_table_add(t, "Enabled:")) < 0 ||
            (r = kaasctl_table_add(t, json_is_true(json_object_get(reply, "enabled")) ? "yes" : "no")) < 0)
                return r;
        /* groups are the role IDs Kubernetes sees: one per line */
        json_t *groups = json_object_get(id, "groups");
        size_t i;
        json_t *v;
        if (json_array_size(groups) == 0 &&
            ((r = kaasctl_table_add(t, "Groups:")) < 0 || (r = kaasctl_table_add(t, "-")) < 0))
                return r;
        json_array_foreach(groups, i, v)
                if ((r = kaasctl_table_add(t, i == 0 ? "Groups:" : "")) < 0 || (r = kaasctl_table_add_json(t, v)) < 0)
                        return r;
        kaasctl_table_print(t, stdout);

        /* what Kubernetes gets as user.extra, one value per line */
        json_t *extra = json_object_get(id, "extra");
        if (json_object_size(extra) == 0)
                return 0;
        static const char *const headers[] = { "EXTRA", "VALUE" };
        KAASCTL_TABLE_AUTO struct kaasctl_table *x = kaasctl_table_new(2, headers);
        if (!x)
                return -ENOMEM;
        const char *key;
        json_t *values;
        json_object_foreach(extra, key, values) {
                json_array_foreach(values, i, v)
                        if ((r = kaasctl_table_add(x, i == 0 ? key : "")) < 0 || (r = kaasctl_table_add_json(x, v)) < 0)
                                return r;
        }
        fputc('\n', stdout);
        kaasctl_table_print(x, stdout);
        return 0;
}

static int cmd_validate(struct kaasctl *ctx, int argc, char **argv) {
        kaasctl_secure_memory();
        const char *user = kaasctl_option(ctx, "user");
        char token[KAASCTL_SECRET_MAX + 1];
        /* on a terminal, ask without echo; otherwise the first line of stdin */
        int n = kaasctl_read_secret("KaaS token: ", true, "pipe the token to standard input", token, sizeof(token));
        if (n < 0)
                return -n;
        SECRET_JSON_AUTO json_t *params = json_pack("{s:s}", "token", token);
        explicit_bzero(token, sizeof(token));
        if (!params || (user && json_object_set_new(params, "user", json_string(user)) < 0))
                return kaasctl_usage_error("the token and the user name must be UTF-8 text");
        KAASCTL_JSON_AUTO json_t *reply = NULL;
        int r = kaasctl_call_explained(ctx, TOKEN_METHOD("Validate"), params, &reply, NULL, NULL);
        if (r != 0)
                return r;
        if (ctx->json) {
                kaasctl_print_json(stdout, reply);
                return KAASCTL_EXIT_OK;
        }
        if (print_identity(reply) < 0) {
                kaasctl_log("out of memory");
                return KAASCTL_EXIT_LOCAL;
        }
        return KAASCTL_EXIT_OK;
}

/* -------------------------------------------------------------- table */

static const struct kaasctl_option create_options[] = {
        { KAASCTL_OPT_DESCRIPTION, "TEXT", "what the token is for, shown by token list" },
        { KAASCTL_OPT_EXPIRES_IN, "DAYS", "lifetime in days (default: kaasd's, 365)" },
        KAASCTL_CREDENTIAL_OPTIONS,
        { NULL, NULL, NULL },
};

static const struct kaasctl_option list_options[] = {
        { "user", "USER", "list another user's tokens (administrators)" },
        { "domain", "DOMAIN", "the domain of --user (default: Default)" },
        { "all", NULL, "list every user's tokens (administrators)" },
        KAASCTL_CREDENTIAL_OPTIONS,
        { NULL, NULL, NULL },
};

static const struct kaasctl_option delete_options[] = {
        KAASCTL_CREDENTIAL_OPTIONS,
        { NULL, NULL, NULL },
};

static const struct kaasctl_option revoke_options[] = {
        { "domain", "DOMAIN", "the domain of USER when it is a name" },
        KAASCTL_CREDENTIAL_OPTIONS,
        { NULL, NULL, NULL },
};

static const struct kaasctl_option validate_options[] = {
        { "user", "USER", "the token must belong to USER" },
        { NULL, NULL, NULL },
};

static const struct kaasctl_command token_commands[] = {
        { "create", "", "Create a KaaS token (shown once)", 0, 0, create_options, cmd_create },
        { "list", "", "List your tokens, or another user's or all (administrators)", 0, 0, list_options, cmd_list },
        { "delete", "ID...", "Delete tokens by token ID", 1, 1024, delete_options, cmd_delete },
        { "revoke-user", "USER", "Delete every token of a user (yourself, or anyone for administrators)", 1, 1, revoke_options,
          cmd_revoke_user },
        { "validate", "", "Check a token read from stdin; show its identity", 0, 0, validate_options, cmd_validate },
};

const struct kaasctl_group kaasctl_token_group = {
        .name = "token",
        .summary = "KaaS tokens (io.kaas.Token)",
        .commands = token_commands,
        .n_commands = sizeof(token_commands) / sizeof(token_commands[0]),
};
