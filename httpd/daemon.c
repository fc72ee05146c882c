/* See daemon.h. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "kaas.h"

int hd_parse_args(const struct hd_program *p, int argc, char **argv, struct hd_options *o) {
        enum { OPT_LISTEN = 256, OPT_CERT, OPT_KEY, OPT_CLIENT_CA, OPT_SOCKET, OPT_CHECK };
        const struct option longopts[] = {
                { "config", required_argument, NULL, 'c' },
                { "listen", required_argument, NULL, OPT_LISTEN },
                { "cert", required_argument, NULL, OPT_CERT },
                { "key", required_argument, NULL, OPT_KEY },
                { "socket", required_argument, NULL, OPT_SOCKET },
                { "foreground", no_argument, NULL, 'f' },
                { "check-config", no_argument, NULL, OPT_CHECK },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                { p->client_ca ? "client-ca" : NULL, required_argument, NULL, OPT_CLIENT_CA },
                { NULL, 0, NULL, 0 },
        };
        *o = (struct hd_options){ .config_path = p->default_config };
        int c;
        while ((c = getopt_long(argc, argv, "c:fhV", longopts, NULL)) != -1) {
                switch (c) {
                case 'c':
                        o->config_path = optarg;
                        o->config_given = true;
                        break;
                case OPT_LISTEN:
                        o->listen = optarg;
                        break;
                case OPT_CERT:
                        o->cert = optarg;
                        break;
                case OPT_KEY:
                        o->key = optarg;
                        break;
                case OPT_CLIENT_CA:
                        o->client_ca = optarg;
                        break;
                case OPT_SOCKET:
                        o->socket = optarg;
                        break;
                case 'f':
                        o->foreground = true;
                        break;
                case OPT_CHECK:
                        o->check_config = true;
                        break;
                case 'h':
                        p->usage(stdout);
                        exit(EXIT_SUCCESS);
                case 'V':
                        printf("%s %s\n", p->name, PACKAGE_VERSION);
                        exit(EXIT_SUCCESS);
                default:
                        p->usage(stderr);
                        return -EINVAL;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "%s: unexpected argument '%s'\n", p->name, argv[optind]);
                return -EINVAL;
        }
        return 0;
}

static void *json_malloc_plain(size_t n) {
        return malloc(n);
}

static void json_free_wiped(void *p) {
        if (!p)
                return;
        explicit_bzero(p, malloc_usable_size(p));
        free(p);
}

void hd_json_wipe_on_free(void) {
        json_set_alloc_funcs(json_malloc_plain, json_free_wiped);
}

int hd_kaasd_uid(const char *configured, uid_t *ret_uid, const char **ret_name) {
        const char *user = configured ? configured : KAAS_KAASD_USER;
        uid_t uid = KAAS_UID_INVALID;
        if (kaas_kaasd_uid(user, &uid) < 0) {
                if (configured)
                        return -ENOENT;
                user = "root";
        }
        *ret_uid = uid;
        *ret_name = user;
        return 0;
}

enum hd_log_target hd_log_target_for(const char *log_target, bool foreground) {
        bool to_stderr = strcmp(log_target, "stderr") == 0 ||
                         (strcmp(log_target, "auto") == 0 && (foreground || getenv("JOURNAL_STREAM")));
        return to_stderr ? HD_LOG_STDERR : HD_LOG_SYSLOG;
}

void hd_signals_block(sigset_t *ret) {
        sigemptyset(ret);
        sigaddset(ret, SIGTERM);
        sigaddset(ret, SIGINT);
        sigaddset(ret, SIGHUP);
        pthread_sigmask(SIG_BLOCK, ret, NULL);
        signal(SIGPIPE, SIG_IGN);
}

static int signals_wait(const sigset_t *sigs, const char *program, unsigned tick_sec, void (*tick)(void *),
                        void *arg) {
        for (;;) {
                int sig = 0;
                if (tick) {
                        sig = sigtimedwait(sigs, NULL, &(struct timespec){ .tv_sec = tick_sec });
                        if (sig < 0) {
                                if (errno == EAGAIN)
                                        tick(arg);
                                continue;
                        }
                } else if (sigwait(sigs, &sig) != 0) {
                        continue;
                }
                if (sig != SIGHUP)
                        return sig;
                hd_notice("SIGHUP: nothing is reloaded; restart %s to apply a new configuration or certificate",
                          program);
        }
}

int hd_signals_wait(const sigset_t *sigs, const char *program) {
        return signals_wait(sigs, program, 0, NULL, NULL);
}

int hd_signals_wait_ticking(const sigset_t *sigs, const char *program, unsigned tick_sec, void (*tick)(void *),
                            void *arg) {
        return signals_wait(sigs, program, tick_sec ? tick_sec : 1, tick, arg);
}

int hd_configure(const struct hd_program *p, const struct hd_settings_ops *ops, void *settings,
                 const struct hd_options *o, const char *root_why) {
        char err[600];
        int r = ops->load(settings, o->config_path, err, sizeof(err));
        if (r < 0 && !(r == -ENOENT && !o->config_given)) {
                fprintf(stderr, "%s: %s\n", p->name, err);
                return -1;
        }
        if (ops->apply_flags(settings, o) < 0) {
                fprintf(stderr, "%s: out of memory\n", p->name);
                return -1;
        }
        if (ops->validate(settings, err, sizeof(err)) < 0) {
                fprintf(stderr, "%s: %s\n", p->name, err);
                return -1;
        }
        if (o->check_config) {
                printf("%s: configuration is valid\n", p->name);
                return 1;
        }
        /* a program facing the network or every user of the environment
         * has no business with root's powers */
        if (getuid() == 0 || geteuid() == 0) {
                fprintf(stderr, "%s: refusing to run as root: %s (see %s(8))\n", p->name, root_why, p->name);
                return -1;
        }
        return 0;
}

int hd_start(const struct hd_program *p, const char *log_target, int log_level, bool foreground,
             const char *kaasd_user, sigset_t *ret_sigs, uid_t *ret_kaasd_uid, const char **ret_kaasd_name) {
        hd_log_setup(p->name, hd_log_target_for(log_target, foreground), log_level);
        /* the signals are taken by hd_signals_wait(): blocked before any
         * thread exists, so every thread inherits the mask */
        hd_signals_block(ret_sigs);
        /* passwords and tokens go only to a kaasd of root's or kaasd's own user */
        *ret_kaasd_uid = KAAS_UID_INVALID;
        if (hd_kaasd_uid(kaasd_user, ret_kaasd_uid, ret_kaasd_name) < 0) {
                hd_err("[kaasd] user '%s' does not exist", kaasd_user);
                return -1;
        }
        return 0;
}
