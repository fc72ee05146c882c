/* kaasd: command line, start-up and shutdown. Everything after start-up
 * happens in the event loop (loop.c) driving the varlink server. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <limits.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "daemon.h"
#include "environment.h"
#include "identity.h"
#include "interfaces.h"
#include "keystone.h"
#include "keystone_url.h"
#include "log.h"
#include "methods.h"
#include "state_check.h"
#include "store.h"
#include "credentials.h"
#include "tokens.h"
#include "unix_identity.h"

#define DEFAULT_CONFIG SYSCONFDIR "/kaas/kaasd.conf"

struct options {
        const char *config_path;
        const char *socket_path;
        const char *state_dir;
        bool foreground;
        bool check_config;
};

static void usage(FILE *f) {
        fprintf(f,
                "Usage: kaasd [OPTION]...\n"
                "The KaaS identity daemon: KaaS tokens and Keystone identities over varlink.\n\n"
                "  -c, --config=FILE     configuration file (default " DEFAULT_CONFIG ")\n"
                "  -f, --foreground      do not detach; log to stderr\n"
                "      --socket=PATH     listen on PATH instead of the configured socket\n"
                "      --state-dir=DIR   keep the database in DIR instead of the configured one\n"
                "      --check-config    check the configuration file and exit\n"
                "  -h, --help            show this help and exit\n"
                "  -V, --version         show the version and exit\n\n"
                "See kaasd(8) and kaasd.conf(5).\n");
}

static int parse_args(int argc, char **argv, struct options *o) {
        enum { OPT_SOCKET = 256, OPT_STATE_DIR, OPT_CHECK };
        static const struct option longopts[] = {
                { "config", required_argument, NULL, 'c' },
                { "foreground", no_argument, NULL, 'f' },
                { "socket", required_argument, NULL, OPT_SOCKET },
                { "state-dir", required_argument, NULL, OPT_STATE_DIR },
                { "check-config", no_argument, NULL, OPT_CHECK },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                { NULL, 0, NULL, 0 },
        };
        *o = (struct options){ .config_path = DEFAULT_CONFIG };
        int c;
        while ((c = getopt_long(argc, argv, "c:fhV", longopts, NULL)) != -1) {
                switch (c) {
                case 'c':
                        o->config_path = optarg;
                        break;
                case 'f':
                        o->foreground = true;
                        break;
                case OPT_SOCKET:
                        o->socket_path = optarg;
                        break;
                case OPT_STATE_DIR:
                        o->state_dir = optarg;
                        break;
                case OPT_CHECK:
                        o->check_config = true;
                        break;
                case 'h':
                        usage(stdout);
                        exit(EXIT_SUCCESS);
                case 'V':
                        printf("kaasd %s\n", PACKAGE_VERSION);
                        exit(EXIT_SUCCESS);
                default:
                        usage(stderr);
                        return -EINVAL;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "kaasd: unexpected argument '%s'\n", argv[optind]);
                return -EINVAL;
        }
        return 0;
}

/* A socket file left behind by a crashed kaasd is removed; one that a
 * running kaasd answers on is not taken over. */
static int remove_stale_socket(const char *path, const struct sockaddr_un *sa) {
        struct stat st;
        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISSOCK(st.st_mode))
                return -EEXIST;
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        int r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
        close(fd);
        if (r == 0)
                return -EADDRINUSE;
        return unlink(path) < 0 ? -errno : 0;
}

static int bind_socket(const char *path, mode_t mode, const char *group, int *ret_fd) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof(sa.sun_path)) {
                fprintf(stderr, "kaasd: socket path too long: %s\n", path);
                return -ENAMETOOLONG;
        }
        strcpy(sa.sun_path, path);
        gid_t gid = 0;
        if (group) {
                struct group *g = getgrnam(group);
                if (!g) {
                        fprintf(stderr, "kaasd: socket_group '%s' does not exist\n", group);
                        return -ENOENT;
                }
                gid = g->gr_gid;
        }
        int r = remove_stale_socket(path, &sa);
        if (r < 0) {
                fprintf(stderr, "kaasd: %s: %s\n", path,
                        r == -EADDRINUSE ? "another kaasd is listening there"
                        : r == -EEXIST   ? "exists and is not a socket"
                                         : strerror(-r));
                return r;
        }
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        /* create it with no access, then open it up: no window in which
         * the socket is reachable with the wrong mode */
        mode_t old = umask(0777);
        r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
        umask(old);
        /* only root can hand the socket to root and a group; an unprivileged
         * kaasd (tests, development) keeps its own ownership */
        if (r < 0 || (geteuid() == 0 && chown(path, 0, gid) < 0) || chmod(path, mode) < 0 ||
            listen(fd, SOMAXCONN) < 0) {
                r = -errno;
                fprintf(stderr, "kaasd: cannot listen on %s: %s\n", path, strerror(-r));
                close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

/* Creates path and its missing parents: the parents with 0755, as /run
 * and /var/lib are, path itself with mode. Existing directories are left
 * as they are. Returns 1 when path itself was created, 0 when it existed,
 * or a negative errno. */
static int make_dirs(const char *path, mode_t mode) {
        char buf[PATH_MAX];
        size_t n = strlen(path);
        if (n == 0 || n >= sizeof(buf))
                return -ENAMETOOLONG;
        memcpy(buf, path, n + 1);
        for (char *p = buf + 1; *p; p++) {
                if (*p != '/' || p[-1] == '/')
                        continue;
                *p = '\0';
                if (mkdir(buf, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *p = '/';
        }
        if (mkdir(buf, mode) < 0)
                return errno == EEXIST ? 0 : -errno;
        return 1;
}

/* The directory a socket goes into, with its missing parents. When it is
 * created here, *ret_created is its path: with "user =", it is handed to
 * that user (as systemd's RuntimeDirectory= would be), so that a start
 * failing after the privileges are dropped can still remove its socket. */
static int make_socket_dir(const char *socket_path, char **ret_created) {
        char dir[PATH_MAX];
        const char *slash = strrchr(socket_path, '/');
        if (!slash || slash == socket_path)
                return 0;
        if ((size_t)(slash - socket_path) >= sizeof(dir))
                return -ENAMETOOLONG;
        memcpy(dir, socket_path, (size_t)(slash - socket_path));
        dir[slash - socket_path] = '\0';
        int r = make_dirs(dir, 0755);
        if (r < 0) {
                fprintf(stderr, "kaasd: cannot create %s for the socket %s: %s\n", dir, socket_path, strerror(-r));
                return r;
        }
        if (r > 0 && !(*ret_created = strdup(dir))) {
                fprintf(stderr, "kaasd: out of memory\n");
                return -ENOMEM;
        }
        return 0;
}

/* Gives a directory this kaasd created to uid:gid; never follows a
 * symbolic link put in its place. */
static int hand_over_dir(const char *path, uid_t uid, gid_t gid) {
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fchown(fd, uid, gid) < 0) {
                int r = -errno;
                if (fd >= 0)
                        close(fd);
                return r;
        }
        close(fd);
        return 0;
}

/* Removes the socket files this kaasd bound (never systemd's): after a
 * stop, and after a start that failed once they existed. */
static void remove_sockets(const struct daemon *d, bool userdb_bound) {
        if (d->socket_path)
                unlink(d->socket_path);
        if (userdb_bound)
                unlink(d->config->userdb_socket);
}

static void on_drained(void *userdata) {
        struct daemon *d = userdata;
        loop_quit(d->loop, d->exit_code);
}

static void on_signal(struct loop *l, int signo, void *userdata) {
        struct daemon *d = userdata;
        if (signo == SIGHUP) {
                char err[600];
                sd_notify(0, "RELOADING=1\nSTATUS=Reloading configuration");
                (void)daemon_reload(d, err, sizeof(err));
                sd_notify(0, "READY=1\nSTATUS=Serving");
                return;
        }
        log_notice(0, "received %s, finishing calls in flight", strsignal(signo));
        sd_notify(0, "STOPPING=1\nSTATUS=Finishing calls in flight");
        server_drain(d->server, on_drained, d);
        /* a second signal, or the shutdown timeout, ends it regardless */
}

static void on_shutdown_timeout(struct loop_timer *t, void *userdata) {
        struct daemon *d = userdata;
        log_warning(0, "shutdown_timeout reached with calls in flight; exiting");
        loop_quit(d->loop, d->exit_code);
}

static void on_term(struct loop *l, int signo, void *userdata) {
        struct daemon *d = userdata;
        static bool once;  /* process-wide: a second signal forces the exit */
        if (once) {
                loop_quit(l, d->exit_code);
                return;
        }
        once = true;
        (void)loop_timer_add(l, loop_now_usec() + (uint64_t)d->config->shutdown_timeout_sec * 1000000u,
                             on_shutdown_timeout, d, NULL);
        on_signal(l, signo, userdata);
}

#define MAINTENANCE_INTERVAL_USEC (60u * 1000000u)
#define MAINTENANCE_MAX_PURGE 1000u

static void on_maintenance(struct loop_timer *t, void *userdata) {
        struct daemon *d = userdata;
        unsigned purged = 0;
        int r = store_maintenance(d->store, (int64_t)time(NULL), MAINTENANCE_MAX_PURGE, &purged);
        if (r < 0)
                log_err(0, "store maintenance failed: %s", store_last_error(d->store));
        else if (purged > 0)
                log_info(0, "purged %u expired tokens", purged);
        /* a full batch means more are waiting: come back sooner */
        uint64_t next = purged == MAINTENANCE_MAX_PURGE ? 1000000u : MAINTENANCE_INTERVAL_USEC;
        if (loop_timer_add(d->loop, loop_now_usec() + next, on_maintenance, d, &d->maintenance) < 0)
                d->maintenance = NULL;
}

/* Warming the store's cache: pages read per step, and the time one turn of
 * the loop may spend on it, so that calls are served in between (a turn is
 * also bounded by the pages, as a page read from the disk may take long). */
#define WARM_PAGES_PER_STEP 16u
#define WARM_STEPS_PER_TURN 16u
#define WARM_TURN_USEC 200u

static void on_warm(struct loop_timer *t, void *userdata) {
        struct daemon *d = userdata;
        uint64_t start = loop_now_usec();
        int r = 0;
        d->warm = NULL;
        for (unsigned i = 0; i < WARM_STEPS_PER_TURN && r == 0 && loop_now_usec() - start < WARM_TURN_USEC; i++)
                r = store_warm_step(d->store, WARM_PAGES_PER_STEP, &d->warm_bytes);
        if (r < 0) {
                log_warning(0, "reading the store into its cache stopped: %s", store_last_error(d->store));
                return;
        }
        if (r > 0) {
                if (d->warm_bytes > 0)
                        log_notice(0, "store: %llu MiB read into the cache in %.1f s",
                                   (unsigned long long)(d->warm_bytes >> 20),
                                   (double)(loop_now_usec() - d->warm_since_usec) / 1e6);
                return;
        }
        /* due at once: the loop serves what is ready first, then comes back */
        if (loop_timer_add(d->loop, loop_now_usec(), on_warm, d, &d->warm) < 0)
                d->warm = NULL;
}

static bool dir_is_empty(const char *path) {
        DIR *dir = opendir(path);
        if (!dir)
                return false;
        struct dirent *e;
        bool empty = true;
        while (empty && (e = readdir(dir)))
                if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, ".."))
                        empty = false;
        closedir(dir);
        return empty;
}

/* Switches to user after the socket is bound. The state directory must be
 * that user's: one kaasd has just created is handed over, one owned by
 * anybody else is refused with the command that fixes it. The socket
 * directories kaasd created (socket_dirs, NULL where it created none) are
 * handed over too. */
static int drop_privileges(const char *user, const char *state_dir, char *const socket_dirs[], size_t n_dirs) {
        struct passwd *pw = getpwnam(user);
        if (!pw) {
                fprintf(stderr, "kaasd: user '%s' does not exist\n", user);
                return -ENOENT;
        }
        struct stat st;
        if (stat(state_dir, &st) < 0) {
                fprintf(stderr, "kaasd: %s: %m\n", state_dir);
                return -errno;
        }
        if (st.st_uid != pw->pw_uid) {
                /* a new, empty directory of root's is handed over; anything
                 * else might hold another kaasd's data: the operator decides */
                if (st.st_uid != 0 || !dir_is_empty(state_dir) || chown(state_dir, pw->pw_uid, pw->pw_gid) < 0) {
                        fprintf(stderr, "kaasd: state directory %s belongs to uid %u, but kaasd runs as '%s' "
                                        "(uid %u): chown -R %s %s\n", state_dir, (unsigned)st.st_uid, user,
                                (unsigned)pw->pw_uid, user, state_dir);
                        return -EPERM;
                }
        }
        for (size_t i = 0; i < n_dirs; i++) {
                if (!socket_dirs[i])
                        continue;
                int r = hand_over_dir(socket_dirs[i], pw->pw_uid, pw->pw_gid);
                if (r < 0) {
                        fprintf(stderr, "kaasd: cannot give %s to '%s': %s\n", socket_dirs[i], user, strerror(-r));
                        return r;
                }
        }
        /* already that user (systemd's User=, with "user =" set as well):
         * nothing to drop, and no privilege to call setgroups() with */
        if (getuid() == pw->pw_uid && geteuid() == pw->pw_uid)
                return 0;
        if (setgroups(0, NULL) < 0 || initgroups(user, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
            setuid(pw->pw_uid) < 0) {
                int r = -errno;
                fprintf(stderr, "kaasd: cannot switch to user '%s': %s\n", user, strerror(-r));
                return r;
        }
        return 0;
}

int main(int argc, char **argv) {
        struct options o;
        if (parse_args(argc, argv, &o) < 0)
                return 2;

        /* never resolve users or groups through our own NSS module */
        setenv("KAAS_NSS_BYPASS", "1", 1);

        struct daemon d = {
                .config_path = o.config_path,
                /* no file at the default place: run on defaults */
                .config_optional = strcmp(o.config_path, DEFAULT_CONFIG) == 0,
                .socket_override = o.socket_path,
                .state_dir_override = o.state_dir,
        };
        char err[600];
        int r;
        if (daemon_read_config(&d, &d.config, err, sizeof(err)) < 0) {
                fprintf(stderr, "kaasd: %s\n", err);
                return 1;
        }
        if (o.check_config) {
                printf("%s: configuration is valid\n", o.config_path);
                config_free(d.config);
                return 0;
        }

        bool to_stderr = strcmp(d.config->log_target, "stderr") == 0 ||
                         (strcmp(d.config->log_target, "auto") == 0 && (o.foreground || getenv("JOURNAL_STREAM")));
        log_setup(to_stderr ? LOG_TARGET_STDERR : LOG_TARGET_SYSLOG, d.config->log_level);

        struct access_policy policy;
        if (daemon_policy_from_config(d.config, &policy, err, sizeof(err)) < 0) {
                fprintf(stderr, "kaasd: %s: %s\n", o.config_path, err);
                return 1;
        }
        if ((r = registry_new(kaasd_interfaces, kaasd_n_interfaces, kaasd_methods, kaasd_n_methods,
                              &d.registry, err, sizeof(err))) < 0) {
                fprintf(stderr, "kaasd: %s\n", err);
                return 1;
        }
        if ((r = make_dirs(d.config->state_dir, 0700)) < 0) {
                fprintf(stderr, "kaasd: cannot create state directory %s: %s\n", d.config->state_dir, strerror(-r));
                return 1;
        }

        /* sockets: from systemd when activated, else our own */
        int n_fds = sd_listen_fds(1);
        int listen_fd = -1, userdb_fd = -1;
        bool userdb_bound = false;
        /* socket directories created here: [0] kaasd's, [1] the userdb one */
        _cleanup_free_ char *socket_dir = NULL, *userdb_dir = NULL;
        if (n_fds > 2) {
                fprintf(stderr, "kaasd: expected one or two sockets from systemd, got %d\n", n_fds);
                return 1;
        } else if (n_fds >= 1) {
                listen_fd = SD_LISTEN_FDS_START;
                if (sd_is_socket_unix(listen_fd, SOCK_STREAM, 1, NULL, 0) <= 0) {
                        fprintf(stderr, "kaasd: the socket from systemd is not a listening AF_UNIX stream socket\n");
                        return 1;
                }
                (void)fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) | O_NONBLOCK);
                (void)fcntl(listen_fd, F_SETFD, FD_CLOEXEC);
                /* a second socket: the userdb one (both serve the same methods) */
                if (n_fds == 2) {
                        userdb_fd = SD_LISTEN_FDS_START + 1;
                        if (sd_is_socket_unix(userdb_fd, SOCK_STREAM, 1, NULL, 0) <= 0) {
                                fprintf(stderr, "kaasd: the second socket from systemd is not a listening AF_UNIX stream socket\n");
                                return 1;
                        }
                        (void)fcntl(userdb_fd, F_SETFL, fcntl(userdb_fd, F_GETFL) | O_NONBLOCK);
                        (void)fcntl(userdb_fd, F_SETFD, FD_CLOEXEC);
                }
        } else {
                if (make_socket_dir(d.config->socket_path, &socket_dir) < 0 ||
                    bind_socket(d.config->socket_path, d.config->socket_mode, d.config->socket_group, &listen_fd) < 0)
                        return 1;
                if (!(d.socket_path = strdup(d.config->socket_path))) {
                        unlink(d.config->socket_path);
                        fprintf(stderr, "kaasd: out of memory\n");
                        return 1;
                }
                /* systemd's userdb socket: open to everyone, as /etc/passwd */
                if (d.config->userdb_socket) {
                        if (make_socket_dir(d.config->userdb_socket, &userdb_dir) < 0 ||
                            bind_socket(d.config->userdb_socket, 0666, NULL, &userdb_fd) < 0)
                                goto failed;
                        userdb_bound = true;
                }
        }
        /* from here on, a failed start removes the socket files it made */

        if (d.config->user) {
                char *const socket_dirs[] = { socket_dir, userdb_dir };
                if (drop_privileges(d.config->user, d.config->state_dir, socket_dirs, 2) < 0)
                        goto failed;
        }

        if (loop_new(&d.loop) < 0) {
                fprintf(stderr, "kaasd: cannot create the event loop: %m\n");
                goto failed;
        }
        /* files another user could have loosened or planted are not opened */
        if (state_dir_check(d.config->state_dir, geteuid(), err, sizeof(err)) < 0) {
                fprintf(stderr, "kaasd: refusing to open the store: %s\n", err);
                goto failed;
        }
        if (store_open_sized(d.config->state_dir, d.config->store_cache_max, &d.store, err, sizeof(err)) < 0) {
                fprintf(stderr, "kaasd: cannot open the store in %s: %s\n", d.config->state_dir, err);
                goto failed;
        }
        daemon_check_stored_ids(&d);
        log_notice(0, "store: %llu MiB of database cache", (unsigned long long)(store_cache_size(d.store) >> 20));
        if (d.config->keystone_url) {
                if (keystone_new(d.loop, d.config, &d.keystone, err, sizeof(err)) < 0) {
                        fprintf(stderr, "kaasd: %s\n", err);
                        goto failed;
                }
                if (!d.config->keystone_verify_tls)
                        log_warning(0, "[keystone] verify_tls is off: Keystone's certificate is not checked");
                if (keystone_url_is_plain_remote(d.config->keystone_url))
                        log_warning(0, "[keystone] insecure_http: %s is plain HTTP to another machine: passwords "
                                       "and tokens cross the network unencrypted", d.config->keystone_url);
        } else {
                log_warning(0, "no [keystone] url configured: only cached identities are served");
        }
        if (identity_cache_new(d.loop, d.keystone, d.store, d.config, &d.identities) < 0) {
                fprintf(stderr, "kaasd: cannot start the identity cache: out of memory\n");
                goto failed;
        }
        /* the group index is made before the first call, not during one */
        if ((r = unix_ids_start(&d)) < 0) {
                fprintf(stderr, "kaasd: cannot index the identity cache: %s\n", strerror(-r));
                goto failed;
        }
        char key_path[PATH_MAX];
        snprintf(key_path, sizeof(key_path), "%s/token.key", d.config->state_dir);
        if (token_service_new(d.loop, d.store, d.identities, key_path, &d.tokens, err, sizeof(err)) < 0) {
                fprintf(stderr, "kaasd: %s\n", err);
                goto failed;
        }
        if (environment_start(&d, err, sizeof(err)) < 0) {
                fprintf(stderr, "kaasd: %s\n", err);
                goto failed;
        }
        if (credential_checker_new(d.keystone, d.identities, d.tokens, &d.credentials) < 0) {
                fprintf(stderr, "kaasd: out of memory\n");
                goto failed;
        }
        credential_checker_set_proof_ttl(d.credentials, d.config->proof_cache_ttl_sec);
        /* checkpoints, log removal and expired-token purges run by themselves */
        if (loop_timer_add(d.loop, loop_now_usec() + MAINTENANCE_INTERVAL_USEC, on_maintenance, &d, &d.maintenance) < 0) {
                fprintf(stderr, "kaasd: out of memory\n");
                goto failed;
        }
        d.warm_since_usec = loop_now_usec();
        if (loop_timer_add(d.loop, loop_now_usec(), on_warm, &d, &d.warm) < 0) {
                fprintf(stderr, "kaasd: out of memory\n");
                goto failed;
        }
        struct server_limits limits;
        daemon_limits_from_config(d.config, &limits);
        if ((r = server_new(d.loop, d.registry, &limits, &policy, &d, &d.server)) < 0 ||
            (r = server_add_listener(d.server, listen_fd)) < 0 ||
            (userdb_fd >= 0 && (r = server_add_listener(d.server, userdb_fd)) < 0) ||
            (r = loop_signal_add(d.loop, SIGTERM, on_term, &d)) < 0 ||
            (r = loop_signal_add(d.loop, SIGINT, on_term, &d)) < 0 ||
            (r = loop_signal_add(d.loop, SIGHUP, on_signal, &d)) < 0) {
                fprintf(stderr, "kaasd: start-up failed: %s\n", strerror(-r));
                goto failed;
        }
        signal(SIGPIPE, SIG_IGN);
        d.started_usec = loop_now_usec();

        if (!o.foreground && !getenv("NOTIFY_SOCKET") && daemon(0, 0) < 0) {
                fprintf(stderr, "kaasd: cannot detach: %m\n");
                goto failed;
        }
        log_notice(0, "kaasd %s ready on %s", PACKAGE_VERSION, d.socket_path ? d.socket_path : "systemd socket");
        sd_notify(0, "READY=1\nSTATUS=Serving");

        r = loop_run(d.loop);

        log_notice(0, "kaasd stopping");
        goto finish;
failed:
        /* a start that failed once a socket was bound: what it made goes,
         * the socket files included */
        r = -1;
finish:
        /* checks and lookups still waiting answer their calls: before the server goes */
        loop_timer_cancel(d.maintenance);
        loop_timer_cancel(d.warm);
        credential_checker_free(d.credentials);
        environment_stop(&d);
        token_service_free(d.tokens);
        identity_cache_free(d.identities);
        keystone_free(d.keystone);
        unix_ids_stop(&d);
        server_free(d.server);
        store_close(d.store);
        registry_free(d.registry);
        loop_free(d.loop);
        unix_ids_free(d.unix_ids);
        remove_sockets(&d, userdb_bound);
        free(d.socket_path);
        config_free(d.config);
        return r < 0 ? 1 : r;
}
