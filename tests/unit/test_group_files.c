/* The group files: what kaasd writes (kaasd/group_files.c) the NSS module
 * reads back (nss_kaas/nss_group_file.c) for exactly the group asked
 * about, a changed group loses its files, a new kaasd removes what an
 * old one left, and the reader takes nothing it cannot trust: links,
 * files others may write, old or future files, another group's text, and
 * (with owners checked) a file whose directory a non-root user chose. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "group_file_name.h"
#include "group_files.h"
#include "nss_group_file.h"

#define DEV_TEXT "{\"parameters\":{\"group\":{\"name\":\"developer\",\"gid\":5000,\"members\":[\"alice\",\"bob\"]}}}"
#define OPS_TEXT "{\"parameters\":{\"group\":{\"name\":\"ops\",\"gid\":5001,\"members\":[\"carol\"]}}}"
/* the files of these replies: 2 members; "alice", "bob", "developer" and "x", each with its NUL */
#define DEV_HEADER "kaas-group 1 2 22\n"
#define DEV_FILE DEV_HEADER DEV_TEXT
#define OPS_FILE "kaas-group 1 1 12\n" OPS_TEXT

struct fixture {
        char top[64];           /* made for the test */
        char sock[128];         /* top/kaasd.sock: the files in top/groups */
        char dir[128];
        struct group_files *f;
};

static int setup_in(void **state, const char *template) {
        struct fixture *x = calloc(1, sizeof(*x));
        assert_non_null(x);
        snprintf(x->top, sizeof(x->top), "%s", template);
        assert_non_null(mkdtemp(x->top));
        assert_int_equal(chmod(x->top, 0755), 0);
        snprintf(x->sock, sizeof(x->sock), "%s/kaasd.sock", x->top);
        assert_int_equal(group_file_dir(x->sock, x->dir, sizeof(x->dir)), 0);
        *state = x;
        return 0;
}

static int setup(void **state) {
        return setup_in(state, "/tmp/kaas-group-files-XXXXXX");
}

static int teardown(void **state) {
        struct fixture *x = *state;
        group_files_free(x->f);
        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", x->top);
        assert_int_equal(system(cmd), 0);
        free(x);
        return 0;
}

static const struct group_reply_stamp DEV = { .epoch = 1, .version = 7, .local = 1, .gid = 5000, .max_members = 100 };

/* group_files_put() of text, the reply of role key made as stamp says,
 * with n members whose names take member_bytes (each with its NUL) */
static int put(struct fixture *x, const char *key, const char *name, const struct group_reply_stamp *stamp,
               const char *text, size_t n, size_t member_bytes, time_t now) {
        struct group_reply r = { .refs = 1, .stamp = *stamp, .message = (char *)text, .len = strlen(text) + 1,
                                 .n_members = n, .member_bytes = member_bytes };
        snprintf(r.key, sizeof(r.key), "%s", key);
        return group_files_put(x->f, name, &r, now);
}

static int put_ops(struct fixture *x, const struct group_reply_stamp *stamp, time_t now) {
        return put(x, "role:r2", "ops", stamp, OPS_TEXT, 1, 6, now);
}

static void put_dev(struct fixture *x, time_t now) {
        assert_int_equal(put(x, "role:r1", "developer", &DEV, DEV_TEXT, 2, 10, now), 0);
}

static struct nss_group_file_query query(struct fixture *x, const char *file, const char *name, uint32_t gid) {
        return (struct nss_group_file_query){ .dir = x->dir, .file = file, .name = name, .gid = gid, .min_id = 1000,
                                              .max_members = 1000, .max_file = 1u << 20,
                                              .now = time(NULL) };
}

static int get(struct nss_group_file_query q, struct group *gr) {
        static char buf[4096];
        return nss_group_file_get(&q, gr, buf, sizeof(buf));
}

static void path_of(struct fixture *x, const char *file, char *buf, size_t size) {
        snprintf(buf, size, "%s/%s", x->dir, file);
}

static ino_t inode_of(struct fixture *x, const char *file) {
        char p[PATH_MAX];
        struct stat st;
        path_of(x, file, p, sizeof(p));
        return stat(p, &st) == 0 ? st.st_ino : 0;
}

static void test_round_trip(void **state) {
        struct fixture *x = *state;
        assert_int_equal(group_files_new(x->sock, 1u << 20, &x->f), 0);
        struct stat st;
        assert_int_equal(stat(x->dir, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0755);
        put_dev(x, time(NULL));
        assert_int_equal(group_files_count(x->f), 1);

        struct group gr;
        assert_int_equal(get(query(x, "name.developer", "developer", 0), &gr), 1);
        assert_string_equal(gr.gr_name, "developer");
        assert_int_equal(gr.gr_gid, 5000);
        assert_string_equal(gr.gr_mem[0], "alice");
        assert_string_equal(gr.gr_mem[1], "bob");
        assert_null(gr.gr_mem[2]);
        assert_int_equal(get(query(x, "gid.5000", NULL, 5000), &gr), 1);
        assert_string_equal(gr.gr_name, "developer");

        /* too small a buffer: ERANGE, so that glibc asks with a larger one */
        struct nss_group_file_query q = query(x, "name.developer", "developer", 0);
        char small[8];
        assert_int_equal(nss_group_file_get(&q, &gr, small, sizeof(small)), -ERANGE);
        /* the buffer by the byte: the entry is 3 pointers and 22 bytes of strings */
        _Alignas(char *) char exact[3 * sizeof(char *) + 22];
        assert_int_equal(nss_group_file_get(&q, &gr, exact, sizeof(exact)), 1);
        assert_string_equal(gr.gr_mem[1], "bob");
        assert_int_equal(nss_group_file_get(&q, &gr, exact, sizeof(exact) - 1), -ERANGE);
        /* and misaligned, where the member array needs padding first */
        _Alignas(char *) char block[sizeof(exact) + 8];
        for (size_t off = 1; off < sizeof(char *); off++) {
                char *b = block + off;
                size_t need = sizeof(char *) - off + sizeof(exact);
                assert_int_equal(nss_group_file_get(&q, &gr, b, need), 1);
                assert_string_equal(gr.gr_mem[0], "alice");
                assert_true((uintptr_t)gr.gr_mem % sizeof(char *) == 0);
                assert_int_equal(nss_group_file_get(&q, &gr, b, need - 1), -ERANGE);
        }
        /* not a file of kaasd's: asked of kaasd */
        q = query(x, "name.developer", "developer", 0);
        q.max_file = strlen(DEV_FILE) - 1;
        assert_int_equal(get(q, &gr), 0);
        /* no file for a group never answered */
        assert_int_equal(get(query(x, "name.ops", "ops", 0), &gr), 0);
}

static void test_rewrite_and_rename(void **state) {
        struct fixture *x = *state;
        assert_int_equal(group_files_new(x->sock, 1u << 20, &x->f), 0);
        time_t now = time(NULL);
        put_dev(x, now);
        ino_t first = inode_of(x, "gid.5000");
        assert_true(first != 0);
        /* the same reply, soon after: left as it is */
        put_dev(x, now + 1);
        assert_true(inode_of(x, "gid.5000") == first);
        /* half the TTL on: written again, so that the module keeps it */
        put_dev(x, now + GROUP_FILE_TTL_SEC / 2);
        ino_t second = inode_of(x, "gid.5000");
        assert_true(second != 0 && second != first);
        /* a file removed behind kaasd's back: written again */
        char p[PATH_MAX];
        path_of(x, "gid.5000", p, sizeof(p));
        assert_int_equal(unlink(p), 0);
        put_dev(x, now + 1);
        assert_true(inode_of(x, "gid.5000") != 0);
        path_of(x, "name.developer", p, sizeof(p));
        assert_int_equal(unlink(p), 0);
        put_dev(x, now + 1);
        assert_true(inode_of(x, "name.developer") == inode_of(x, "gid.5000"));
        /* another name for the role: the old name's file goes */
        struct group_reply_stamp renamed = DEV;
        renamed.version = 8;
        assert_int_equal(put(x, "role:r1", "builders", &renamed,
                             "{\"parameters\":{\"group\":{\"name\":\"builders\",\"gid\":5000,\"members\":[]}}}", 0, 0,
                             now),
                         0);
        assert_true(inode_of(x, "name.developer") == 0);
        assert_true(inode_of(x, "name.builders") != 0);
        struct group gr;
        assert_int_equal(get(query(x, "gid.5000", NULL, 5000), &gr), 1);
        assert_string_equal(gr.gr_name, "builders");
        assert_int_equal(group_files_count(x->f), 1);
        /* names no file can have */
        assert_int_equal(put(x, "role:r2", "a/b", &DEV, DEV_TEXT, 2, 10, now), -EINVAL);
        assert_int_equal(put(x, "role:r2", "", &DEV, DEV_TEXT, 2, 10, now), -EINVAL);
        /* a reply no header can describe */
        assert_int_equal(put(x, "role:r2", "ops", &DEV, OPS_TEXT, GROUP_FILE_MEMBERS_MAX + 1, 6, now), -EINVAL);
        assert_true(inode_of(x, "name.ops") == 0);
}

static bool keep_ops_only(const char *key, const char *name, const struct group_reply_stamp *stamp, void *userdata) {
        (void)key;
        (void)stamp;
        (*(int *)userdata)++;
        return strcmp(name, "ops") == 0;
}

static void test_sweep_clear_and_free(void **state) {
        struct fixture *x = *state;
        assert_int_equal(group_files_new(x->sock, 1u << 20, &x->f), 0);
        time_t now = time(NULL);
        put_dev(x, now);
        struct group_reply_stamp ops = { .epoch = 1, .version = 3, .gid = 5001 };
        assert_int_equal(put_ops(x, &ops, now), 0);
        int asked = 0;
        assert_int_equal(group_files_sweep(x->f, now, keep_ops_only, &asked), 1);
        assert_int_equal(asked, 2);
        assert_true(inode_of(x, "gid.5000") == 0 && inode_of(x, "name.developer") == 0);
        assert_true(inode_of(x, "gid.5001") != 0 && inode_of(x, "name.ops") != 0);
        group_files_clear(x->f);
        assert_int_equal(group_files_count(x->f), 0);
        assert_true(inode_of(x, "gid.5001") == 0 && inode_of(x, "name.ops") == 0);
        put_dev(x, now);
        /* kaasd stopping: files and the directory it made go */
        x->f = group_files_free(x->f);
        struct stat st;
        assert_int_equal(stat(x->dir, &st), -1);
        assert_int_equal(errno, ENOENT);
}

static bool keep_all(const char *key, const char *name, const struct group_reply_stamp *stamp, void *userdata) {
        (void)key;
        (void)name;
        (void)stamp;
        (void)userdata;
        return true;
}

/* The files live in memory (/run): their bytes are bounded, and a file
 * the module would no longer take gives its room back at the next sweep. */
static void test_budget_and_expiry(void **state) {
        struct fixture *x = *state;
        assert_int_equal(group_files_new(x->sock, strlen(DEV_FILE) + strlen(OPS_FILE) - 1, &x->f), 0);
        time_t now = time(NULL);
        put_dev(x, now);
        struct group_reply_stamp ops = { .epoch = 1, .version = 3, .gid = 5001 };
        assert_int_equal(put_ops(x, &ops, now), -ENOSPC);
        assert_true(inode_of(x, "gid.5001") == 0);
        assert_int_equal(group_files_bytes(x->f), strlen(DEV_FILE));
        /* the same group again fits in its own room */
        struct group_reply_stamp dev2 = DEV;
        dev2.version++;
        assert_int_equal(put(x, "role:r1", "developer", &dev2, DEV_TEXT, 2, 10, now), 0);
        assert_int_equal(group_files_bytes(x->f), strlen(DEV_FILE));
        /* a current group whose file is older than the TTL: dropped */
        assert_int_equal(group_files_sweep(x->f, now, keep_all, NULL), 0);
        assert_int_equal(group_files_sweep(x->f, now + GROUP_FILE_TTL_SEC, keep_all, NULL), 1);
        assert_int_equal(group_files_bytes(x->f), 0);
        assert_true(inode_of(x, "gid.5000") == 0);
        assert_int_equal(put_ops(x, &ops, now), 0);
        /* a smaller budget: nothing more is written */
        group_files_set_max(x->f, 0);
        assert_int_equal(put(x, "role:r1", "developer", &DEV, DEV_TEXT, 2, 10, now), -ENOSPC);
}

static void write_file(const char *path, const char *text, mode_t mode) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        assert_int_equal(fchmod(fd, mode), 0);
        close(fd);
}

static void test_left_files_removed(void **state) {
        struct fixture *x = *state;
        char p[PATH_MAX];
        assert_int_equal(mkdir(x->dir, 0755), 0);
        path_of(x, "name.developer", p, sizeof(p));
        write_file(p, DEV_FILE, 0644);
        path_of(x, "gid.5000", p, sizeof(p));
        write_file(p, DEV_FILE, 0644);
        path_of(x, "README", p, sizeof(p));
        write_file(p, "not ours", 0644);
        assert_int_equal(group_files_new(x->sock, 1u << 20, &x->f), 0);
        assert_true(inode_of(x, "name.developer") == 0 && inode_of(x, "gid.5000") == 0);
        assert_true(inode_of(x, "README") != 0);
        /* a directory kaasd did not make stays when it stops */
        x->f = group_files_free(x->f);
        struct stat st;
        assert_int_equal(stat(x->dir, &st), 0);
}

/* One kaasd per directory: a second one (a socket beside the first's)
 * goes without files rather than remove and overwrite the first's. */
static void test_second_kaasd_refused(void **state) {
        struct fixture *x = *state;
        assert_int_equal(group_files_new(x->sock, 1u << 20, &x->f), 0);
        put_dev(x, time(NULL));
        char other[PATH_MAX];
        snprintf(other, sizeof(other), "%s/other.sock", x->top);
        struct group_files *second = NULL;
        assert_int_equal(group_files_new(other, 1u << 20, &second), -EBUSY);
        assert_null(second);
        assert_true(inode_of(x, "gid.5000") != 0);      /* the first's files stay */
        x->f = group_files_free(x->f);
        assert_int_equal(group_files_new(other, 1u << 20, &second), 0);
        group_files_free(second);
}

static void test_unsafe_directory_refused(void **state) {
        struct fixture *x = *state;
        /* a socket in a directory anyone may write to: no files at all */
        assert_int_equal(chmod(x->top, 01777), 0);
        assert_int_equal(group_files_new(x->sock, 1u << 20, &x->f), -EPERM);
        struct stat st;
        assert_int_equal(stat(x->dir, &st), -1);
        assert_int_equal(chmod(x->top, 0755), 0);
        assert_int_equal(mkdir(x->dir, 0777), 0);
        assert_int_equal(chmod(x->dir, 0777), 0);
        assert_int_equal(group_files_new(x->sock, 1u << 20, &x->f), -EPERM);
        if (geteuid() == 0) {
                assert_int_equal(chmod(x->dir, 0755), 0);
                assert_int_equal(chown(x->dir, 4242, 4242), 0);
                assert_int_equal(group_files_new(x->sock, 1u << 20, &x->f), -EPERM);
        }
        assert_null(x->f);
}

/* A file made by hand in the directory, as kaasd would, then changed. */
static void test_reader_refuses(void **state) {
        struct fixture *x = *state;
        assert_int_equal(mkdir(x->dir, 0755), 0);
        char p[PATH_MAX], target[PATH_MAX];
        struct group gr;
        path_of(x, "name.developer", p, sizeof(p));
        write_file(p, DEV_FILE, 0644);
        assert_int_equal(get(query(x, "name.developer", "developer", 0), &gr), 1);
        /* asked by another name or gid than the file's group: no answer,
         * and the caller's entry as it was (the file's group was packed
         * before its name was compared) */
        struct group untouched = { .gr_name = "unchanged", .gr_gid = 4242 };
        gr = untouched;
        assert_int_equal(get(query(x, "name.developer", "ops", 0), &gr), 0);
        assert_int_equal(get(query(x, "name.developer", NULL, 5001), &gr), 0);
        assert_ptr_equal(gr.gr_name, untouched.gr_name);
        assert_int_equal(gr.gr_gid, 4242);
        assert_null(gr.gr_mem);
        /* writable by others */
        assert_int_equal(chmod(p, 0666), 0);
        assert_int_equal(get(query(x, "name.developer", "developer", 0), &gr), 0);
        assert_int_equal(chmod(p, 0644), 0);
        /* older than the TTL, or from the future */
        struct nss_group_file_query q = query(x, "name.developer", "developer", 0);
        q.now += GROUP_FILE_TTL_SEC;
        assert_int_equal(get(q, &gr), 0);
        q.now -= GROUP_FILE_TTL_SEC + 60;
        assert_int_equal(get(q, &gr), 0);
        /* a link, even to a good file */
        path_of(x, "gid.5000", target, sizeof(target));
        assert_int_equal(symlink(p, target), 0);
        assert_int_equal(get(query(x, "gid.5000", NULL, 5000), &gr), 0);
        /* text that is not a group reply, or is cut short */
        write_file(p, DEV_HEADER "{\"parameters\":{\"group\":{\"name\":\"developer\",\"gid\":5000,\"members\":[\"alice\"",
                   0644);
        assert_int_equal(get(query(x, "name.developer", "developer", 0), &gr), 0);
        write_file(p, "\x7f" "ELF", 0644);
        assert_int_equal(get(query(x, "name.developer", "developer", 0), &gr), 0);
        /* the reply without a header (as an older kaasd wrote it), or with
         * one that is not true to it */
        write_file(p, DEV_TEXT, 0644);
        assert_int_equal(get(query(x, "name.developer", "developer", 0), &gr), 0);
        write_file(p, "kaas-group 1 1 22\n" DEV_TEXT, 0644);
        assert_int_equal(get(query(x, "name.developer", "developer", 0), &gr), 0);
        write_file(p, "kaas-group 1 2 23\n" DEV_TEXT, 0644);
        assert_int_equal(get(query(x, "name.developer", "developer", 0), &gr), 0);
        /* a header saying the entry cannot fit (get()'s buffer is 4096
         * bytes): ERANGE, and nothing after it read (this is no reply) */
        char big[64 + 5000];
        snprintf(big, sizeof(big), "kaas-group 1 2 5000\n%05000d", 0);
        write_file(p, big, 0644);
        assert_int_equal(get(query(x, "name.developer", "developer", 0), &gr), -ERANGE);
        /* ... unless it claims more than its file holds, or more members
         * than the module takes: then it is no file of kaasd's */
        write_file(p, "kaas-group 1 2 9000\nshort", 0644);
        assert_int_equal(get(query(x, "name.developer", "developer", 0), &gr), 0);
        write_file(p, "kaas-group 1 1000 22\n" DEV_TEXT, 0644);
        assert_int_equal(get(query(x, "name.developer", "developer", 0), &gr), 0);
        write_file(p, DEV_FILE, 0644);
        q = query(x, "name.developer", "developer", 0);
        q.max_members = 1;
        assert_int_equal(get(q, &gr), 0);
        /* a gid below what kaasd hands out */
        write_file(p, "kaas-group 1 0 12\n{\"parameters\":{\"group\":{\"name\":\"developer\",\"gid\":0,\"members\":[]}}}",
                   0644);
        assert_int_equal(get(query(x, "name.developer", "developer", 0), &gr), 0);
        /* a directory instead of a file */
        path_of(x, "name.ops", p, sizeof(p));
        assert_int_equal(mkdir(p, 0755), 0);
        assert_int_equal(get(query(x, "name.ops", "ops", 0), &gr), 0);
}

static int setup_trusted(void **state) {
        /* /run: root's, writable by no one else, as above kaasd's socket */
        return setup_in(state, "/run/kaas-group-files-XXXXXX");
}

/* With owners checked, as for the compiled-in socket (needs root: the
 * files are made with other owners). */
static void test_reader_checks_owners(void **state) {
        struct fixture *x = *state;
        if (geteuid() != 0)
                skip();
        assert_int_equal(mkdir(x->dir, 0755), 0);
        assert_int_equal(chown(x->dir, 4242, 4242), 0);
        char p[PATH_MAX];
        path_of(x, "name.developer", p, sizeof(p));
        write_file(p, DEV_FILE, 0644);
        assert_int_equal(chown(p, 4242, 4242), 0);
        struct group gr;
        struct nss_group_file_query q = query(x, "name.developer", "developer", 0);
        q.check_owners = true;
        assert_int_equal(get(q, &gr), 1);       /* the directory's owner's file */
        assert_int_equal(chown(p, 4243, 4242), 0);
        assert_int_equal(get(q, &gr), 0);       /* someone else's */
        /* nothing of it is read, not even the header: a buffer too small
         * for the entry is not told ERANGE, and glibc's buffer does not grow */
        char small[16];
        assert_int_equal(nss_group_file_get(&q, &gr, small, sizeof(small)), 0);
        assert_int_equal(chown(p, 4242, 4242), 0);
        assert_int_equal(chmod(x->dir, 0775), 0);
        assert_int_equal(get(q, &gr), 0);       /* a directory its group may change */
        assert_int_equal(chmod(x->dir, 0755), 0);
        assert_int_equal(chown(x->top, 4242, 4242), 0);
        assert_int_equal(get(q, &gr), 0);       /* a parent a non-root user owns */
        assert_int_equal(chown(x->top, 0, 0), 0);
        assert_int_equal(chmod(x->top, 01777), 0);
        assert_int_equal(get(q, &gr), 0);       /* a root's parent that others may change, sticky or not */
        assert_int_equal(chmod(x->top, 0755), 0);
        assert_int_equal(get(q, &gr), 1);
        /* a link on the way to the directory, even to the right one: not
         * followed, and nothing read through it */
        char link[PATH_MAX];
        snprintf(link, sizeof(link), "%s/link", x->top);
        assert_int_equal(symlink(x->dir, link), 0);
        struct nss_group_file_query linked = q;
        linked.dir = link;
        assert_int_equal(get(linked, &gr), 0);
        assert_int_equal(nss_group_file_get(&linked, &gr, small, sizeof(small)), 0);
        assert_int_equal(nss_group_file_get(&q, &gr, small, sizeof(small)), -ERANGE);
        /* ... nor a link higher up, to a directory that is root's */
        char up[PATH_MAX], through[PATH_MAX];
        snprintf(up, sizeof(up), "%s/up", x->top);
        assert_int_equal(symlink(".", up), 0);
        snprintf(through, sizeof(through), "%s/up/groups", x->top);
        linked.dir = through;
        assert_int_equal(get(linked, &gr), 0);
        assert_int_equal(nss_group_file_get(&linked, &gr, small, sizeof(small)), 0);
        /* the same directories with empty names in the path: taken */
        snprintf(through, sizeof(through), "/%s//groups/", x->top);
        linked.dir = through;
        assert_int_equal(get(linked, &gr), 1);
        /* a relative path, even to this very directory, is never trusted;
         * without the owners' check the same path is taken, so only the
         * check refuses it (a parent writable by all is the 01777 case
         * above) */
        char cwd[PATH_MAX];
        assert_non_null(getcwd(cwd, sizeof(cwd)));
        assert_int_equal(chdir(x->top), 0);
        struct nss_group_file_query rel = q;
        rel.dir = strrchr(x->dir, '/') + 1;
        assert_int_equal(get(rel, &gr), 0);
        rel.check_owners = false;
        assert_int_equal(get(rel, &gr), 1);
        assert_int_equal(chdir(cwd), 0);
}

/* The header: written and read back, and nothing but its exact form taken. */
static void test_header(void **state) {
        (void)state;
        char h[GROUP_FILE_HEADER_MAX];
        size_t n, bytes;
        assert_int_equal(group_file_header(2, 22, h, sizeof(h)), (int)strlen(DEV_HEADER));
        assert_string_equal(h, DEV_HEADER);
        assert_int_equal(group_file_header_parse(DEV_FILE, strlen(DEV_FILE), &n, &bytes), (int)strlen(DEV_HEADER));
        assert_int_equal(n, 2);
        assert_int_equal(bytes, 22);
        assert_int_equal(group_file_header(GROUP_FILE_MEMBERS_MAX, GROUP_FILE_BYTES_MAX, h, sizeof(h)) > 0, 1);
        assert_int_equal(group_file_header_parse(h, strlen(h), &n, &bytes), (int)strlen(h));
        assert_int_equal(n, GROUP_FILE_MEMBERS_MAX);
        assert_int_equal(bytes, GROUP_FILE_BYTES_MAX);
        assert_int_equal(group_file_header(GROUP_FILE_MEMBERS_MAX + 1, 0, h, sizeof(h)), -EINVAL);
        assert_int_equal(group_file_header(0, GROUP_FILE_BYTES_MAX + 1, h, sizeof(h)), -EINVAL);
        assert_int_equal(group_file_header(2, 22, h, 5), -ENAMETOOLONG);
        static const char *const bad[] = {
                "", "kaas-group 1 2 22", "kaas-group 1 2 22\r\n", "kaas-group 2 2 22\n", "kaas-group 1 02 22\n",
                "kaas-group 1 -2 22\n", "kaas-group 1 +2 22\n", "kaas-group 1  2 22\n", "kaas-group 1 2 22 \n",
                "kaas-group 1 2\n", "kaas-group 1 16777217 22\n", "kaas-group 1 2 268435457\n",
                "kaas-group 1 2 99999999999999999999999\n", "{\"parameters\":{}}\n", "KAAS-GROUP 1 2 22\n",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_int_equal(group_file_header_parse(bad[i], strlen(bad[i]), &n, &bytes), -EBADMSG);
        assert_int_equal(group_file_header_parse("kaas-group 1 0 3\n", 17, &n, &bytes), 17);
        /* never read past len */
        assert_int_equal(group_file_header_parse(DEV_HEADER, strlen(DEV_HEADER) - 1, &n, &bytes), -EBADMSG);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_header),
                cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
                cmocka_unit_test_setup_teardown(test_rewrite_and_rename, setup, teardown),
                cmocka_unit_test_setup_teardown(test_sweep_clear_and_free, setup, teardown),
                cmocka_unit_test_setup_teardown(test_budget_and_expiry, setup, teardown),
                cmocka_unit_test_setup_teardown(test_left_files_removed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_second_kaasd_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unsafe_directory_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reader_refuses, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reader_checks_owners, setup_trusted, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
