/* kaas-panel: the KaaS Control Panel, a web front end of kaasd for the
 * people of a KaaS environment. Command line, start-up, signals and
 * shutdown; the HTTPS side is in server.c, the routes in route_*.c. An
 * unprivileged program: it refuses to run as root and talks only to
 * kaasd, as an ordinary client, through libkaas. */
#include "config.h"

#include <errno.h>
#include <jansson.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "httpd/daemon.h"
#include "httpd/log.h"
#include "httpd/pool.h"
#include "kaas.h"
#include "panel.h"
#include "server.h"
#include "settings.h"

#define HEALTH_TIMEOUT_MS 2000
/* how often expired sessions are ended and their secrets wiped (a
 * session's Keystone token then waits for revocation, panel/session.h) */
#define SESSION_SWEEP_SEC 10
/* the part of a sweep's interval that revocations may take */
#define REVOKE_SLICE_SEC 5
/* and at shutdown, after the requests in flight */
#define SHUTDOWN_REVOKE_SEC 2

static void usage(FILE *f) {
        fprintf(f,
                "Usage: kaas-panel [OPTION]...\n"
                "Serves the KaaS Control Panel over HTTPS: log in with an OpenStack user name and password,\n"
                "create and delete KaaS tokens, administer a cluster's tokens; everything through kaasd.\n\n"
                "  -c, --config=FILE      configuration file (default " PANEL_DEFAULT_CONFIG ")\n"
                "      --listen=ADDR:PORT listen there (127.0.0.1:8444, [::1]:8444, *:8444)\n"
                "      --cert=FILE        server certificate chain (PEM)\n"
                "      --key=FILE         the certificate's private key (PEM)\n"
                "      --socket=PATH      kaasd's socket (default: libkaas's, $KAAS_SOCKET)\n"
                "  -f, --foreground       log to stderr (kaas-panel never detaches)\n"
                "      --check-config     check the configuration and exit\n"
                "  -h, --help             show this help and exit\n"
                "  -V, --version          show the version and exit\n\n"
                "Never runs as root. See kaas-panel(8).\n");
}

static const struct hd_program program = {
        .name = "kaas-panel",
        .default_config = PANEL_DEFAULT_CONFIG,
        .client_ca = false,
        .usage = usage,
};

static int apply_flags(struct panel_settings *s, const struct hd_options *o) {
        if ((o->listen && panel_settings_set(&s->listen, o->listen) < 0) ||
            (o->cert && panel_settings_set(&s->cert_file, o->cert) < 0) ||
            (o->key && panel_settings_set(&s->key_file, o->key) < 0) ||
            (o->socket && panel_settings_set(&s->kaasd_socket, o->socket) < 0))
                return -ENOMEM;
        return 0;
}

static int load(void *s, const char *path, char *err, size_t err_size) {
        return panel_settings_load(s, path, err, err_size);
}

static int apply(void *s, const struct hd_options *o) {
        return apply_flags(s, o);
}

static int validate(void *s, char *err, size_t err_size) {
        return panel_settings_validate(s, err, err_size);
}

/* Ends the expired sessions and revokes the Keystone tokens of the
 * sessions that ended by themselves, for at most REVOKE_SLICE_SEC of the
 * main thread, which also waits for the signals. */
static void sweep_sessions(void *panel) {
        struct panel *p = panel;
        session_sweep(p->sessions, time(NULL));
        panel_revoke_ended_sessions(p, REVOKE_SLICE_SEC);
}

static const struct hd_settings_ops settings_ops = { .load = load, .apply_flags = apply, .validate = validate };

int main(int argc, char **argv) {
        struct hd_options o;
        if (hd_parse_args(&program, argc, argv, &o) < 0)
                return 2;
        /* calls to kaasd carry passwords, Keystone tokens and new KaaS tokens */
        hd_json_wipe_on_free();
        if (sodium_init() < 0) {
                fprintf(stderr, "kaas-panel: cannot initialise libsodium\n");
                return 1;
        }

        struct panel_settings *s = NULL;
        if (panel_settings_new(&s) < 0) {
                fprintf(stderr, "kaas-panel: out of memory\n");
                return 1;
        }
        /* a web server facing every user of the environment needs none of
         * root's powers */
        int r = hd_configure(&program, &settings_ops, s, &o, "run it as its own unprivileged user");
        sigset_t sigs;
        const char *kaasd_user = NULL;
        uid_t kaasd_uid = KAAS_UID_INVALID;
        if (r == 0)
                r = hd_start(&program, s->log_target, s->log_level, o.foreground, s->kaasd_user, &sigs, &kaasd_uid,
                             &kaasd_user);
        if (r != 0) {
                panel_settings_free(s);
                return r > 0 ? 0 : 1;
        }
        char err[600];
        struct panel p = { .s = s, .timeout_ms = (int)s->kaasd_timeout_sec * 1000 };
        pthread_mutex_init(&p.health_lock, NULL);
        login_key_new(&p.login_key);
        r = kaasd_pool_new(s->kaasd_socket, kaasd_uid, s->kaasd_connections, p.timeout_ms, &p.pool);
        if (r >= 0)
                r = kaas_client_new(s->kaasd_socket, HEALTH_TIMEOUT_MS, &p.health);
        if (r >= 0)
                r = kaas_client_require_kaasd(p.health, kaasd_uid);
        if (r >= 0)
                r = kaas_client_new(s->kaasd_socket, REVOKE_SLICE_SEC * 1000, &p.revoker);
        if (r >= 0)
                r = kaas_client_require_kaasd(p.revoker, kaasd_uid);
        if (r >= 0)
                r = session_table_new(s->max_sessions, s->max_sessions_per_user, s->session_idle_sec,
                                      s->session_lifetime_sec, &p.sessions);
        if (r < 0) {
                hd_err("cannot set up: %s", kaas_strerror(r));
                goto out;
        }
        struct panel_server *srv = NULL;
        r = panel_server_start(&p, &srv, err, sizeof(err));
        if (r < 0) {
                hd_err("%s", err);
                goto out;
        }
        hd_notice("listening on https://%s for %s, kaasd at %s (run by root%s%s), %zu clusters, sessions idle %u s",
                  s->listen, s->origin, kaas_socket_path(s->kaasd_socket), kaasd_uid != KAAS_UID_INVALID ? " or " : "",
                  kaasd_uid != KAAS_UID_INVALID ? kaasd_user : "", s->n_clusters, s->session_idle_sec);
        sd_notify(0, "READY=1\nSTATUS=Serving the control panel");
        int sig = hd_signals_wait_ticking(&sigs, "kaas-panel", SESSION_SWEEP_SEC, sweep_sessions, &p);
        hd_notice("received %s, finishing the requests in flight (up to %u s)", strsignal(sig), s->shutdown_timeout_sec);
        sd_notify(0, "STOPPING=1");
        panel_server_stop(srv, s->shutdown_timeout_sec);
        /* a last, short round for the sessions that have ended; the live
         * ones' tokens expire in Keystone */
        session_sweep(p.sessions, time(NULL));
        panel_revoke_ended_sessions(&p, SHUTDOWN_REVOKE_SEC);
        size_t left = session_ended_count(p.sessions);
        if (left > 0)
                hd_warning("%zu Keystone tokens of ended sessions not revoked: they stay valid until they expire", left);
        hd_notice("stopped");
        r = 0;
out:
        session_table_free(p.sessions);
        kaas_client_free(p.health);
        kaas_client_free(p.revoker);
        kaasd_pool_free(p.pool);
        pthread_mutex_destroy(&p.health_lock);
        sodium_memzero(&p.login_key, sizeof(p.login_key));
        panel_settings_free(s);
        return r < 0 ? 1 : 0;
}
