/* bench-group-file: getgrnam of a large role group through the NSS
 * module's group files, against the least any lookup must do.
 *
 *   bench-group-file MODULE.so WORKDIR
 *
 * For each size in BENCH_GROUP_MEMBERS (default 1000,10000,100000) and
 * each member name length in BENCH_GROUP_NAME_LENGTHS (default 11,15:
 * the entry of 100,000 members then falls below and above 2 MiB, so
 * glibc's last short try is a quarter or half of the size), a group file
 * is written under WORKDIR/groups as kaasd writes it (header, then the
 * reply: common/group_file_name.h), and timed side by side in the same
 * run:
 *
 *   subject   _nss_kaas_getgrnam_r as glibc's getgrnam() calls it for a
 *             new process (getent group): a buffer of 1 KiB, doubled and
 *             allocated anew at each ERANGE;
 *   baseline  the floor of any lookup through glibc's interface, however
 *             its cache is kept: the same buffers allocated and freed at
 *             each short try (answered at once, as a module that knew the
 *             size without a system call would), then the members' names
 *             copied into the last one in one memcpy() from a ready-packed
 *             image, and a pointer to each set from offsets kept beside
 *             it (what glibc's buffer must hold, with nothing to search).
 *
 * The module reads the files beside $KAAS_SOCKET, which is set to
 * WORKDIR/kaas.sock (no socket is needed: the files answer), and so
 * takes them without walking the directories' owners.
 *
 * With BENCH_GROUP_OWNERS=1 (root, no kaasd on the build's compiled-in
 * socket) the files are written beside that socket instead, under
 * RUNSTATEDIR/kaas/groups, and KAAS_SOCKET is unset: the module then
 * checks every directory from "/" down before it reads a file, on each
 * of glibc's tries, as it does for a production lookup. The directories
 * the bench had to make there, and its file, are removed at the end,
 * and when it is stopped by SIGINT, SIGTERM or SIGHUP. */
#include "config.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "group_file_name.h"

#define GROUP "kaas-bench-role"
#define GID 70001
#define MAX_BUF (64u * 1024u * 1024u)

typedef enum nss_status (*getgrnam_fn)(const char *, struct group *, char *, size_t, int *);

struct entry {
        getgrnam_fn getgrnam;
        size_t n;
        char *image;            /* the members' names, each with its NUL */
        size_t image_len;
        size_t *offsets;        /* of each name in the image */
        size_t size;            /* the entry in glibc's buffer */
        char path[4096];        /* the file */
};

static int op_module(void *state) {
        struct entry *e = state;
        for (size_t size = 1024;; size *= 2) {
                char *buf = malloc(size);
                struct group gr;
                int err = 0;
                if (!buf)
                        return -ENOMEM;
                enum nss_status s = e->getgrnam(GROUP, &gr, buf, size, &err);
                bool ok = s == NSS_STATUS_SUCCESS && gr.gr_gid == GID;
                free(buf);
                if (s == NSS_STATUS_TRYAGAIN && err == ERANGE && size < MAX_BUF)
                        continue;
                return ok ? 0 : -EIO;
        }
}

static int op_floor(void *state) {
        struct entry *e = state;
        size_t size = 1024;
        for (; size < e->size; size *= 2) {  /* glibc's short tries */
                char *shorter = malloc(size);
                if (!shorter)
                        return -ENOMEM;
                free(shorter);
        }
        char *buf = malloc(size);
        if (!buf)
                return -ENOMEM;
        char **members = (char **)(void *)buf;
        char *names = buf + (e->n + 1) * sizeof(char *);
        memcpy(names, e->image, e->image_len);
        for (size_t i = 0; i < e->n; i++)
                members[i] = names + e->offsets[i];
        members[e->n] = NULL;
        /* keep the copy from being optimised away */
        int r = members[e->n / 2][0] == 'u' ? 0 : -EIO;
        free(buf);
        return r;
}

static int init(void *arg, unsigned thread, void **ret) {
        struct entry *e = arg;
        (void)thread;
        /* the module takes a file younger than GROUP_FILE_TTL_SEC: each
         * round's starts it anew, however long the rounds */
        if (utimensat(AT_FDCWD, e->path, NULL, 0) < 0)
                return -errno;
        *ret = arg;
        return 0;
}

static void fini(void *state) {
        (void)state;
}

/* The group file kaasd would leave for n members named uNNN... of len bytes. */
static int write_group(const char *dir, struct entry *e, size_t n, unsigned len) {
        size_t cap = 128 + n * (len + 3);
        char *text = malloc(cap);
        e->image = malloc(n * (len + 1) + 1);
        e->offsets = malloc(n * sizeof(*e->offsets) + 1);
        if (!text || !e->image || !e->offsets) {
                free(text);
                return -ENOMEM;
        }
        size_t t = (size_t)snprintf(text, cap, "{\"parameters\":{\"group\":{\"name\":\"%s\",\"gid\":%u,\"members\":[",
                                    GROUP, GID);
        e->image_len = 0;
        for (size_t i = 0; i < n; i++) {
                char name[64];
                snprintf(name, sizeof(name), "u%0*zu", (int)len - 1, i);
                if (strlen(name) != len) {  /* too short for n distinct names */
                        free(text);
                        return -EINVAL;
                }
                t += (size_t)snprintf(text + t, cap - t, "%s\"%s\"", i ? "," : "", name);
                e->offsets[i] = e->image_len;
                memcpy(e->image + e->image_len, name, len + 1);
                e->image_len += len + 1;
        }
        t += (size_t)snprintf(text + t, cap - t, "]}}}");
        e->n = n;
        e->size = (n + 1) * sizeof(char *) + e->image_len + strlen(GROUP) + 1 + 2;

        char header[GROUP_FILE_HEADER_MAX];
        int h = group_file_header(n, e->image_len + strlen(GROUP) + 1 + 2, header, sizeof(header));
        snprintf(e->path, sizeof(e->path), "%s/%s%s", dir, GROUP_FILE_NAME_PREFIX, GROUP);
        FILE *f = fopen(e->path, "w");
        int r = h < 0 || !f || fwrite(header, 1, (size_t)h, f) != (size_t)h || fwrite(text, 1, t, f) != t ? -EIO : 0;
        if (f && fclose(f) != 0)
                r = -EIO;
        free(text);
        return r;
}

/* The directories of the compiled-in group directory that do not exist
 * yet, made root's and writable by root alone (as a package's are), so
 * that the module's owners' walk takes them; made[] lists them, deepest
 * last, for remove_made(). */
#define MADE_MAX 16
struct made {
        char dirs[MADE_MAX][1024];
        volatile sig_atomic_t n;        /* read by remove_made_on_signal() */
};

static int make_compiled_in_dir(const char *dir, struct made *m) {
        char path[1024];
        if (strlen(dir) >= sizeof(path) || dir[0] != '/')
                return -ENAMETOOLONG;
        strcpy(path, dir);
        for (char *p = path + 1;; p++) {
                if (*p != '/' && *p != '\0')
                        continue;
                char c = *p;
                *p = '\0';
                if (mkdir(path, 0755) == 0) {
                        if (m->n == MADE_MAX || chown(path, 0, 0) < 0)
                                return -EIO;
                        strcpy(m->dirs[m->n], path);
                        m->n = m->n + 1;  /* after the copy: a handler sees only whole paths */
                } else if (errno != EEXIST) {
                        return -errno;
                }
                *p = c;
                if (!c)
                        return 0;
        }
}

static void remove_made(const struct made *m) {
        for (int i = m->n - 1; i >= 0; i--)
                if (rmdir(m->dirs[i]) < 0)
                        fprintf(stderr, "bench-group-file: %s: %s\n", m->dirs[i], strerror(errno));
}

/* What owners mode leaves in a system directory, removed even when the
 * run is interrupted: unlink() and rmdir() may be called from a signal
 * handler, which is installed before anything is made (made_file is set
 * before, made.n counts only paths copied whole) and stays until all is
 * removed. */
static struct made made;
static char made_file[4096];

static void remove_made_on_signal(int sig) {
        unlink(made_file);
        for (int i = made.n - 1; i >= 0; i--)
                rmdir(made.dirs[i]);
        signal(sig, SIG_DFL);
        raise(sig);
}

static int run(int argc, char **argv, const char *dir, bool owners);

int main(int argc, char **argv) {
        if (argc != 3) {
                fprintf(stderr, "usage: bench-group-file MODULE.so WORKDIR\n");
                return 2;
        }
        char sock[2048], dir[2048];
        if (strlen(argv[2]) > 1024) {
                fprintf(stderr, "bench-group-file: %s: path too long\n", argv[2]);
                return 2;
        }
        const char *o = getenv("BENCH_GROUP_OWNERS");
        bool owners = o && strcmp(o, "1") == 0;
        if (owners) {
                /* the module's compiled-in socket and the files beside it */
                snprintf(sock, sizeof(sock), "%s/kaas/kaasd.sock", RUNSTATEDIR);
                snprintf(dir, sizeof(dir), "%s/kaas/%s", RUNSTATEDIR, GROUP_FILE_DIR);
                struct stat st;
                if (geteuid() != 0) {
                        fprintf(stderr, "bench-group-file: BENCH_GROUP_OWNERS=1 needs root (files under %s)\n", dir);
                        return 2;
                }
                if (lstat(sock, &st) == 0) {
                        fprintf(stderr, "bench-group-file: %s exists: a kaasd of this build may be using %s\n", sock, dir);
                        return 2;
                }
                snprintf(made_file, sizeof(made_file), "%s/%s%s", dir, GROUP_FILE_NAME_PREFIX, GROUP);
                signal(SIGINT, remove_made_on_signal);
                signal(SIGTERM, remove_made_on_signal);
                signal(SIGHUP, remove_made_on_signal);
                int r = make_compiled_in_dir(dir, &made);
                if (r < 0 || unsetenv("KAAS_SOCKET") < 0) {
                        fprintf(stderr, "bench-group-file: %s: %s\n", dir, strerror(r < 0 ? -r : errno));
                        remove_made(&made);
                        return 1;
                }
        } else {
                snprintf(sock, sizeof(sock), "%s/kaas.sock", argv[2]);
                snprintf(dir, sizeof(dir), "%s/%s", argv[2], GROUP_FILE_DIR);
                if (setenv("KAAS_SOCKET", sock, 1) < 0 || (mkdir(dir, 0755) < 0 && errno != EEXIST)) {
                        perror("bench-group-file");
                        return 1;
                }
        }
        int rc = run(argc, argv, dir, owners);
        if (owners) {
                /* the handler stays: a signal meanwhile removes the same */
                if (unlink(made_file) < 0 && errno != ENOENT)
                        fprintf(stderr, "bench-group-file: %s: %s\n", made_file, strerror(errno));
                remove_made(&made);
        }
        return rc;
}

/* Each size and name length timed against the floor (see the top). */
static int run(int argc, char **argv, const char *dir, bool owners) {
        void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
        getgrnam_fn getgrnam_p = h ? (getgrnam_fn)dlsym(h, "_nss_kaas_getgrnam_r") : NULL;
        if (!getgrnam_p) {
                fprintf(stderr, "bench-group-file: %s: %s\n", argv[1], dlerror());
                return 1;
        }
        unsigned sizes[8], lengths[8];
        const char *s = getenv("BENCH_GROUP_MEMBERS"), *l = getenv("BENCH_GROUP_NAME_LENGTHS");
        int n_sizes = bench_parse_list(s && *s ? s : "1000,10000,100000", sizes, 8);
        int n_lengths = bench_parse_list(l && *l ? l : "11,15", lengths, 8);
        if (n_sizes <= 0 || n_lengths <= 0) {
                fprintf(stderr, "bench-group-file: bad BENCH_GROUP_MEMBERS or BENCH_GROUP_NAME_LENGTHS\n");
                return 2;
        }
        bench_print_header(stdout, "bench-group-file", argc, argv);
        double seconds = bench_seconds(2);
        unsigned rounds = bench_rounds(3), one = 1;
        int rc = 0;
        for (int i = 0; i < n_sizes; i++)
                for (int j = 0; j < n_lengths; j++) {
                        struct entry e = { .getgrnam = getgrnam_p };
                        if (lengths[j] < 2 || lengths[j] > 32 || write_group(dir, &e, sizes[i], lengths[j]) < 0) {
                                fprintf(stderr, "bench-group-file: cannot write the group of %u members named in %u bytes\n",
                                        sizes[i], lengths[j]);
                                free(e.image);
                                free(e.offsets);
                                return 1;
                        }
                        printf("\n## getgrnam of %u members named in %u bytes: entry %.2f MB, the file %s%s\n", sizes[i],
                               lengths[j], (double)e.size / 1e6, dir,
                               owners ? " (compiled-in: owners walked)" : "");
                        struct bench_side subject = { .name = "getgrnam via the group file", .init = init,
                                                      .op = op_module, .fini = fini, .arg = &e };
                        struct bench_side floor = { .name = "the tries' mallocs + one memcpy", .init = init,
                                                    .op = op_floor, .fini = fini, .arg = &e };
                        if (op_module(&e) < 0) {
                                fprintf(stderr, "bench-group-file: the module did not take the file\n");
                                rc = 1;
                        } else if (bench_compare(stdout, &subject, &floor, &one, 1, seconds, rounds, NULL, NULL) < 0) {
                                rc = 1;
                        }
                        free(e.image);
                        free(e.offsets);
                }
        return rc;
}
