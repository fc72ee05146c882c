/* kaas-webhook: kube-apiserver's TokenReview webhook for KaaS tokens.
 * Command line, start-up, signals and shutdown; the HTTPS side is in
 * server.c, the decision in review.c. An unprivileged program: it refuses
 * to run as root, and needs only membership of kaasd's validator_group. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <malloc.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "kaas.h"
#include "httpd/log.h"
#include "httpd/pool.h"
#include "review.h"
#include "server.h"
#include "settings.h"

struct options {
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

static void usage(FILE *f) {
        fprintf(f,
                "Usage: kaas-webhook [OPTION]...\n"
                "Answers kube-apiserver's TokenReview requests for KaaS tokens over HTTPS, asking kaasd.\n\n"
                "  -c, --config=FILE      configuration file (default " WH_DEFAULT_CONFIG ")\n"
                "      --listen=ADDR:PORT listen there (127.0.0.1:8443, [::1]:8443, *:8443)\n"
                "      --cert=FILE        server certificate chain (PEM)\n"
                "      --key=FILE         the certificate's private key (PEM)\n"
                "      --client-ca=FILE   require client certificates signed by these CAs (PEM)\n"
                "      --socket=PATH      kaasd's socket (default: libkaas's, $KAAS_SOCKET)\n"
                "  -f, --foreground       log to stderr (kaas-webhook never detaches)\n"
                "      --check-config     check the configuration and exit\n"
                "  -h, --help             show this help and exit\n"
                "  -V, --version          show the version and exit\n\n"
                "Never runs as root. See kaas-webhook(8).\n");
}

static int parse_args(int argc, char **argv, struct options *o) {
        enum { OPT_LISTEN = 256, OPT_CERT, OPT_KEY, OPT_CLIENT_CA, OPT_SOCKET, OPT_CHECK };
        static const struct option longopts[] = {
                { "config", required_argument, NULL, 'c' },
                { "listen", required_argument, NULL, OPT_LISTEN },
                { "cert", required_argument, NULL, OPT_CERT },
                { "key", required_argument, NULL, OPT_KEY },
                { "client-ca", required_argument, NULL, OPT_CLIENT_CA },
                { "socket", required_argument, NULL, OPT_SOCKET },
                { "foreground", no_argument, NULL, 'f' },
                { "check-config", no_argument, NULL, OPT_CHECK },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                { NULL, 0, NULL, 0 },
        };
        *o = (struct options){ .config_path = WH_DEFAULT_CONFIG };
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
                        usage(stdout);
                        exit(EXIT_SUCCESS);
                case 'V':
                        printf("kaas-webhook %s\n", PACKAGE_VERSION);
                        exit(EXIT_SUCCESS);
                default:
                        usage(stderr);
                        return -EINVAL;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "kaas-webhook: unexpected argument '%s'\n", argv[optind]);
                return -EINVAL;
        }
        return 0;
}

/* Every JSON value the webhook frees is wiped first: request bodies and
 * calls to kaasd carry tokens, and jansson copies strings around. */
static void *json_malloc_plain(size_t n) {
        return malloc(n);
}

static void json_free_wiped(void *p) {
        if (!p)
                return;
        explicit_bzero(p, malloc_usable_size(p));
        free(p);
}

static int apply_flags(struct wh_settings *s, const struct options *o) {
        if ((o->listen && wh_settings_set(&s->listen, o->listen) < 0) ||
            (o->cert && wh_settings_set(&s->cert_file, o->cert) < 0) ||
            (o->key && wh_settings_set(&s->key_file, o->key) < 0) ||
            (o->client_ca && wh_settings_set(&s->client_ca_file, o->client_ca) < 0) ||
            (o->socket && wh_settings_set(&s->kaasd_socket, o->socket) < 0))
                return -ENOMEM;
        return 0;
}

int main(int argc, char **argv) {
        struct options o;
        if (parse_args(argc, argv, &o) < 0)
                return 2;
        json_set_alloc_funcs(json_malloc_plain, json_free_wiped);

        char err[600];
        struct wh_settings *s = NULL;
        if (wh_settings_new(&s) < 0) {
                fprintf(stderr, "kaas-webhook: out of memory\n");
                return 1;
        }
        int r = wh_settings_load(s, o.config_path, err, sizeof(err));
        /* no file at the default path: flags and defaults are enough */
        if (r < 0 && !(r == -ENOENT && !o.config_given)) {
                fprintf(stderr, "kaas-webhook: %s\n", err);
                wh_settings_free(s);
                return 1;
        }
        if (apply_flags(s, &o) < 0 || wh_settings_validate(s, err, sizeof(err)) < 0) {
                fprintf(stderr, "kaas-webhook: %s\n", err);
                wh_settings_free(s);
                return 1;
        }
        if (o.check_config) {
                printf("kaas-webhook: configuration is valid\n");
                wh_settings_free(s);
                return 0;
        }
        /* a network-facing parser of untrusted input has no business with
         * root's powers; what it needs is kaasd's validator_group */
        if (getuid() == 0 || geteuid() == 0) {
                fprintf(stderr, "kaas-webhook: refusing to run as root: run it as an unprivileged user in kaasd's "
                                "validator_group (see kaas-webhook(8))\n");
                wh_settings_free(s);
                return 1;
        }

        bool to_stderr = strcmp(s->log_target, "stderr") == 0 ||
                         (strcmp(s->log_target, "auto") == 0 && (o.foreground || getenv("JOURNAL_STREAM")));
        hd_log_setup("kaas-webhook", to_stderr ? HD_LOG_STDERR : HD_LOG_SYSLOG, s->log_level);

        /* the signals are taken by sigwait() below: block them before any
         * thread exists, so every thread inherits the mask */
        sigset_t sigs;
        sigemptyset(&sigs);
        sigaddset(&sigs, SIGTERM);
        sigaddset(&sigs, SIGINT);
        sigaddset(&sigs, SIGHUP);
        pthread_sigmask(SIG_BLOCK, &sigs, NULL);
        signal(SIGPIPE, SIG_IGN);

        /* tokens go only to a kaasd of root's or of kaasd's own user */
        const char *kaasd_user = s->kaasd_user ? s->kaasd_user : KAAS_KAASD_USER;
        uid_t kaasd_uid = KAAS_UID_INVALID;
        r = kaas_kaasd_uid(kaasd_user, &kaasd_uid);
        if (r < 0 && s->kaasd_user) {
                hd_err("[kaasd] user '%s' does not exist", s->kaasd_user);
                wh_settings_free(s);
                return 1;
        }
        if (r < 0)
                kaasd_user = "root";
        struct kaasd_pool *pool = NULL;
        int timeout_ms = (int)s->kaasd_timeout_sec * 1000;
        r = kaasd_pool_new(s->kaasd_socket, kaasd_uid, s->kaasd_connections, timeout_ms, &pool);
        if (r < 0) {
                hd_err("cannot set up the connections to kaasd: %s", kaas_strerror(r));
                wh_settings_free(s);
                return 1;
        }
        struct wh_reviewer rv = {
                .pool = pool,
                .kaasd_uid = kaasd_uid,
                .timeout_ms = timeout_ms,
                .audiences = (const char *const *)s->audiences,
                .n_audiences = s->n_audiences,
                .user_options = { .group_prefix = s->group_prefix, .role_names = s->role_names_as_groups },
        };
        struct wh_server *srv = NULL;
        r = wh_server_start(s, &rv, &srv, err, sizeof(err));
        if (r < 0) {
                hd_err("%s", err);
                kaasd_pool_free(pool);
                wh_settings_free(s);
                return 1;
        }
        hd_notice("listening on https://%s (client certificates %s), kaasd at %s (run by root%s%s) with %u "
                  "connections, %u s timeout, %zu accepted audiences",
                  s->listen, s->client_ca_file ? "required" : "not asked", kaas_socket_path(s->kaasd_socket),
                  kaasd_uid != KAAS_UID_INVALID ? " or " : "", kaasd_uid != KAAS_UID_INVALID ? kaasd_user : "",
                  s->kaasd_connections, s->kaasd_timeout_sec, s->n_audiences);
        sd_notify(0, "READY=1\nSTATUS=Serving TokenReviews");

        for (;;) {
                int sig = 0;
                if (sigwait(&sigs, &sig) != 0)
                        continue;
                if (sig == SIGHUP) {
                        hd_notice("SIGHUP: nothing is reloaded; restart kaas-webhook to apply a new configuration "
                                  "or certificate");
                        continue;
                }
                hd_notice("received %s, answering the reviews in flight (up to %u s)", strsignal(sig),
                          s->shutdown_timeout_sec);
                sd_notify(0, "STOPPING=1\nSTATUS=Finishing reviews in flight");
                break;
        }
        wh_server_stop(srv, s->shutdown_timeout_sec);
        kaasd_pool_free(pool);
        hd_notice("stopped");
        wh_settings_free(s);
        return 0;
}
