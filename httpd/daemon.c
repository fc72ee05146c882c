/* See daemon.h. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

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

int hd_signals_wait(const sigset_t *sigs, const char *program) {
        for (;;) {
                int sig = 0;
                if (sigwait(sigs, &sig) != 0)
                        continue;
                if (sig != SIGHUP)
                        return sig;
                hd_notice("SIGHUP: nothing is reloaded; restart %s to apply a new configuration or certificate",
                          program);
        }
}
