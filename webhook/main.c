/* kaas-webhook: kube-apiserver's TokenReview webhook for KaaS tokens.
 * Command line, start-up, signals and shutdown; the HTTPS side is in
 * server.c, the decision in review.c. An unprivileged program: it refuses
 * to run as root, and needs only membership of kaasd's validator_group. */
#include "config.h"

#include <errno.h>
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
#include "httpd/daemon.h"
#include "httpd/log.h"
#include "httpd/pool.h"
#include "review.h"
#include "server.h"
#include "settings.h"

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

static const struct hd_program program = {
        .name = "kaas-webhook",
        .default_config = WH_DEFAULT_CONFIG,
        .client_ca = true,
        .usage = usage,
};

static int apply_flags(struct wh_settings *s, const struct hd_options *o) {
        if ((o->listen && wh_settings_set(&s->listen, o->listen) < 0) ||
            (o->cert && wh_settings_set(&s->cert_file, o->cert) < 0) ||
            (o->key && wh_settings_set(&s->key_file, o->key) < 0) ||
            (o->client_ca && wh_settings_set(&s->client_ca_file, o->client_ca) < 0) ||
            (o->socket && wh_settings_set(&s->kaasd_socket, o->socket) < 0))
                return -ENOMEM;
        return 0;
}

static int load(void *s, const char *path, char *err, size_t err_size) {
        return wh_settings_load(s, path, err, err_size);
}

static int apply(void *s, const struct hd_options *o) {
        return apply_flags(s, o);
}

static int validate(void *s, char *err, size_t err_size) {
        return wh_settings_validate(s, err, err_size);
}

static const struct hd_settings_ops settings_ops = { .load = load, .apply_flags = apply, .validate = validate };

int main(int argc, char **argv) {
        struct hd_options o;
        if (hd_parse_args(&program, argc, argv, &o) < 0)
                return 2;
        /* request bodies and calls to kaasd carry tokens */
        hd_json_wipe_on_free();

        struct wh_settings *s = NULL;
        if (wh_settings_new(&s) < 0) {
                fprintf(stderr, "kaas-webhook: out of memory\n");
                return 1;
        }
        /* a network-facing parser of untrusted input: what it needs is
         * kaasd's validator_group */
        int r = hd_configure(&program, &settings_ops, s, &o,
                             "run it as an unprivileged user in kaasd's validator_group");
        sigset_t sigs;
        const char *kaasd_user = NULL;
        uid_t kaasd_uid = KAAS_UID_INVALID;
        if (r == 0)
                r = hd_start(&program, s->log_target, s->log_level, o.foreground, s->kaasd_user, &sigs, &kaasd_uid,
                             &kaasd_user);
        if (r != 0) {
                wh_settings_free(s);
                return r > 0 ? 0 : 1;
        }
        char err[600];
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

        int sig = hd_signals_wait(&sigs, "kaas-webhook");
        hd_notice("received %s, answering the reviews in flight (up to %u s)", strsignal(sig), s->shutdown_timeout_sec);
        sd_notify(0, "STOPPING=1\nSTATUS=Finishing reviews in flight");
        wh_server_stop(srv, s->shutdown_timeout_sec);
        kaasd_pool_free(pool);
        hd_notice("stopped");
        wh_settings_free(s);
        return 0;
}
