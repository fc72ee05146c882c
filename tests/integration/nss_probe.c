/* Loads an NSS module with dlopen() and calls one of its entry points
 * directly, to see the NSS status itself (glibc folds UNAVAIL and
 * NOTFOUND into "no entry"). Prints the status, errno, the time taken in
 * milliseconds and the entry, one line per call.
 * usage: nss_probe MODULE.so FUNCTION ARG [COUNT]
 *   FUNCTION: getpwnam getpwuid getgrnam getgrgid initgroups getpwent getgrent
 *   COUNT: repeat the call (for valgrind); the module is closed at the end.
 *   NSS_PROBE_THREADS=N: getpwnam only, COUNT calls in each of N threads at
 *   once; prints "threads=N calls=M success=S" (exit 0 when all succeeded).
 * exit: 0 when the last call said SUCCESS, 1 otherwise, 2 usage */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <grp.h>
#include <nss.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *status_name(enum nss_status s) {
        switch (s) {
        case NSS_STATUS_SUCCESS: return "SUCCESS";
        case NSS_STATUS_NOTFOUND: return "NOTFOUND";
        case NSS_STATUS_UNAVAIL: return "UNAVAIL";
        case NSS_STATUS_TRYAGAIN: return "TRYAGAIN";
        default: return "OTHER";
        }
}

static long now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef enum nss_status (*pw_name_fn)(const char *, struct passwd *, char *, size_t, int *);
typedef enum nss_status (*pw_uid_fn)(uid_t, struct passwd *, char *, size_t, int *);
typedef enum nss_status (*gr_name_fn)(const char *, struct group *, char *, size_t, int *);
typedef enum nss_status (*gr_gid_fn)(gid_t, struct group *, char *, size_t, int *);
typedef enum nss_status (*initgroups_fn)(const char *, gid_t, long *, long *, gid_t **, long, int *);
typedef enum nss_status (*setent_fn)(int);
typedef enum nss_status (*endent_fn)(void);
typedef enum nss_status (*pwent_fn)(struct passwd *, char *, size_t, int *);
typedef enum nss_status (*grent_fn)(struct group *, char *, size_t, int *);

static void print_pw(const struct passwd *pw) {
        printf(" %s:%u:%u:%s:%s:%s", pw->pw_name, (unsigned)pw->pw_uid, (unsigned)pw->pw_gid, pw->pw_gecos,
               pw->pw_dir, pw->pw_shell);
}

static void print_gr(const struct group *gr) {
        printf(" %s:%u:", gr->gr_name, (unsigned)gr->gr_gid);
        for (char **m = gr->gr_mem; *m; m++)
                printf("%s%s", m == gr->gr_mem ? "" : ",", *m);
}

static void *sym(void *h, const char *fn) {
        char name[128];
        snprintf(name, sizeof(name), "_nss_kaas_%s", fn);
        void *p = dlsym(h, name);
        if (!p) {
                fprintf(stderr, "nss_probe: %s not exported\n", name);
                exit(2);
        }
        return p;
}

struct thread_arg {
        void *handle;
        const char *name;
        long count, success;
};

static void *thread_main(void *p) {
        struct thread_arg *t = p;
        pw_name_fn fn = (pw_name_fn)sym(t->handle, "getpwnam_r");
        for (long i = 0; i < t->count; i++) {
                char buf[4096];
                struct passwd pw;
                int err = 0;
                if (fn(t->name, &pw, buf, sizeof(buf), &err) == NSS_STATUS_SUCCESS &&
                    strcmp(pw.pw_name, t->name) == 0)
                        t->success++;
        }
        return NULL;
}

static int run_threads(void *h, const char *name, long count, int n) {
        struct thread_arg args[64];
        pthread_t tids[64];
        if (n < 1 || n > 64)
                return 2;
        for (int i = 0; i < n; i++) {
                args[i] = (struct thread_arg){ .handle = h, .name = name, .count = count };
                if (pthread_create(&tids[i], NULL, thread_main, &args[i]) != 0)
                        return 2;
        }
        long success = 0;
        for (int i = 0; i < n; i++) {
                pthread_join(tids[i], NULL);
                success += args[i].success;
        }
        printf("threads=%d calls=%ld success=%ld\n", n, count * n, success);
        dlclose(h);
        return success == count * n ? 0 : 1;
}

int main(int argc, char **argv) {
        if (argc < 4 || argc > 5) {
                fprintf(stderr, "usage: nss_probe MODULE.so FUNCTION ARG [COUNT]\n");
                return 2;
        }
        const char *fn = argv[2], *arg = argv[3];
        long count = argc == 5 ? atol(argv[4]) : 1;
        void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
        if (!h) {
                fprintf(stderr, "nss_probe: %s\n", dlerror());
                return 2;
        }
        const char *threads = getenv("NSS_PROBE_THREADS");
        if (threads && strcmp(fn, "getpwnam") == 0)
                return run_threads(h, arg, count, atoi(threads));
        enum nss_status s = NSS_STATUS_UNAVAIL;
        char buf[16384];
        for (long i = 0; i < count; i++) {
                int err = 0;
                long t0 = now_ms();
                struct passwd pw;
                struct group gr;
                bool got_pw = false, got_gr = false;
                gid_t *groups = NULL;
                long start = 1, size = 0;
                if (strcmp(fn, "getpwnam") == 0) {
                        s = ((pw_name_fn)sym(h, "getpwnam_r"))(arg, &pw, buf, sizeof(buf), &err);
                        got_pw = true;
                } else if (strcmp(fn, "getpwuid") == 0) {
                        s = ((pw_uid_fn)sym(h, "getpwuid_r"))((uid_t)strtoul(arg, NULL, 10), &pw, buf, sizeof(buf), &err);
                        got_pw = true;
                } else if (strcmp(fn, "getgrnam") == 0) {
                        s = ((gr_name_fn)sym(h, "getgrnam_r"))(arg, &gr, buf, sizeof(buf), &err);
                        got_gr = true;
                } else if (strcmp(fn, "getgrgid") == 0) {
                        s = ((gr_gid_fn)sym(h, "getgrgid_r"))((gid_t)strtoul(arg, NULL, 10), &gr, buf, sizeof(buf), &err);
                        got_gr = true;
                } else if (strcmp(fn, "initgroups") == 0) {
                        size = 1;
                        groups = malloc(sizeof(gid_t));
                        groups[0] = 1;  /* a primary group the module must not repeat */
                        s = ((initgroups_fn)sym(h, "initgroups_dyn"))(arg, 1, &start, &size, &groups, 0, &err);
                } else if (strcmp(fn, "getpwent") == 0 || strcmp(fn, "getgrent") == 0) {
                        bool is_pw = fn[3] == 'p';
                        s = ((setent_fn)sym(h, is_pw ? "setpwent" : "setgrent"))(0);
                        unsigned n = 0;
                        while (s == NSS_STATUS_SUCCESS) {
                                s = is_pw ? ((pwent_fn)sym(h, "getpwent_r"))(&pw, buf, sizeof(buf), &err)
                                          : ((grent_fn)sym(h, "getgrent_r"))(&gr, buf, sizeof(buf), &err);
                                if (s == NSS_STATUS_SUCCESS)
                                        n++;
                        }
                        ((endent_fn)sym(h, is_pw ? "endpwent" : "endgrent"))();
                        printf("entries=%u ", n);
                        s = s == NSS_STATUS_NOTFOUND ? NSS_STATUS_SUCCESS : s;
                } else {
                        fprintf(stderr, "nss_probe: unknown function %s\n", fn);
                        return 2;
                }
                printf("%s errno=%s ms=%ld", status_name(s), s == NSS_STATUS_SUCCESS ? "0" : strerror(err),
                       now_ms() - t0);
                if (s == NSS_STATUS_SUCCESS && got_pw)
                        print_pw(&pw);
                if (s == NSS_STATUS_SUCCESS && got_gr)
                        print_gr(&gr);
                if (groups) {
                        printf(" gids=");
                        for (long j = 1; j < start; j++)
                                printf("%s%u", j == 1 ? "" : ",", (unsigned)groups[j]);
                        free(groups);
                }
                printf("\n");
        }
        dlclose(h);
        return s == NSS_STATUS_SUCCESS ? 0 : 1;
}
