/* The start-up and shutdown steps the HTTPS daemons (kaas-webhook,
 * kaas-panel) share: JSON memory wiped when freed, kaasd's uid for the
 * peer check, the signals a daemon waits for, and where it logs. */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "log.h"

/* The command line both daemons take: -c/--config, --listen, --cert,
 * --key, --client-ca (only where the daemon has one), --socket,
 * -f/--foreground, --check-config, -h/--help, -V/--version. */
struct hd_options {
        const char *config_path;
        bool config_given;
        const char *listen;
        const char *cert;
        const char *key;
        const char *client_ca;
        const char *socket;
        bool foreground;
        bool check_config;
};

struct hd_program {
        const char *name;            /* "kaas-panel" */
        const char *default_config;
        bool client_ca;              /* --client-ca is an option */
        void (*usage)(FILE *f);
};

/* Parses argv into ret; --help and --version print and exit. -EINVAL
 * (after a message) for a usage error. */
int hd_parse_args(const struct hd_program *p, int argc, char **argv, struct hd_options *ret)
        __attribute__((warn_unused_result, nonnull));

/* One daemon's settings, through its own functions, so that the start-up
 * below works on either daemon's settings type. */
struct hd_settings_ops {
        int (*load)(void *settings, const char *path, char *err, size_t err_size);
        int (*apply_flags)(void *settings, const struct hd_options *o);  /* -ENOMEM */
        int (*validate)(void *settings, char *err, size_t err_size);
};

/* Loads the configuration (no file at the default path is no error: the
 * flags and defaults are enough), applies the command line over it and
 * validates the result; with --check-config says it is valid. Otherwise
 * refuses to run as root, root_why saying what to run the program as.
 * 1: exit 0 (--check-config); 0: go on; -1, after a message on stderr:
 * exit 1. */
int hd_configure(const struct hd_program *p, const struct hd_settings_ops *ops, void *settings,
                 const struct hd_options *o, const char *root_why) __attribute__((warn_unused_result, nonnull));

/* What comes next for both: logs as the program to log_target
 * (hd_log_target_for()) at log_level, blocks the signals before any thread
 * starts (hd_signals_block()), and finds kaasd's uid (hd_kaasd_uid(),
 * kaasd_user as configured). -1 after a logged message. */
int hd_start(const struct hd_program *p, const char *log_target, int log_level, bool foreground,
             const char *kaasd_user, sigset_t *ret_sigs, uid_t *ret_kaasd_uid, const char **ret_kaasd_name)
        __attribute__((warn_unused_result, nonnull(1, 2, 6, 7, 8)));

/* Every JSON value freed from now on is wiped first: calls to kaasd and
 * request bodies carry passwords and tokens, and jansson copies strings
 * around. Call before any JSON exists. */
void hd_json_wipe_on_free(void);

/* The uid of kaasd's user for kaas_client_require_kaasd(): configured
 * ([kaasd] user; NULL: KAAS_KAASD_USER). *ret_name is the user's name, or
 * "root" when the default user does not exist (then *ret_uid is
 * KAAS_UID_INVALID: root only). -ENOENT when a configured user does not
 * exist. */
int hd_kaasd_uid(const char *configured, uid_t *ret_uid, const char **ret_name) __attribute__((nonnull(2, 3)));

/* stderr or syslog for log_target ("auto": stderr under systemd, which
 * sets JOURNAL_STREAM, or in the foreground). */
enum hd_log_target hd_log_target_for(const char *log_target, bool foreground) __attribute__((nonnull));

/* Blocks SIGTERM, SIGINT and SIGHUP (taken by hd_signals_wait()) and
 * ignores SIGPIPE. Call before any thread starts: threads inherit it. */
void hd_signals_block(sigset_t *ret) __attribute__((nonnull));

/* Waits for SIGTERM or SIGINT and returns it; a SIGHUP is logged (nothing
 * is reloaded: restart program) and waited past. */
int hd_signals_wait(const sigset_t *sigs, const char *program) __attribute__((nonnull));

/* The same, calling tick(arg) every tick_sec seconds meanwhile (in the
 * calling thread): housekeeping that must happen with no request. */
int hd_signals_wait_ticking(const sigset_t *sigs, const char *program, unsigned tick_sec, void (*tick)(void *),
                            void *arg) __attribute__((nonnull(1, 2, 4)));
