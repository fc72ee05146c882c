/* A snapshot of the local passwd and group files: sorted arrays of names
 * and ids searched with bsearch. See local_accounts.h. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "local_accounts.h"

#define LINE_BUF_MAX (1024 * 1024)

struct file_id {
        dev_t dev;
        ino_t ino;
        off_t size;
        struct timespec mtime;
        bool valid;
};

struct id_set {
        char **names;
        size_t n_names;
        uint32_t *ids;
        size_t n_ids;
};

struct local_accounts {
        char *passwd_path, *group_path;
        struct file_id passwd_id, group_id;
        struct id_set users, groups;
        uint64_t generation;            /* of the snapshot: one more at each reading */
};

static void set_clear(struct id_set *s) {
        for (size_t i = 0; i < s->n_names; i++)
                free(s->names[i]);
        free(s->names);
        free(s->ids);
        *s = (struct id_set){ 0 };
}

int local_accounts_new(struct local_accounts **ret) {
        struct local_accounts *la = calloc(1, sizeof(*la));
        if (!la)
                return -ENOMEM;
        *ret = la;
        return 0;
}

struct local_accounts *local_accounts_free(struct local_accounts *la) {
        if (!la)
                return NULL;
        set_clear(&la->users);
        set_clear(&la->groups);
        free(la->passwd_path);
        free(la->group_path);
        free(la);
        return NULL;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_u32(const void *a, const void *b) {
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
        return x < y ? -1 : x > y;
}

static int set_add(struct id_set *s, size_t *cap_names, size_t *cap_ids, const char *name, uint32_t id) {
        if (s->n_names == *cap_names) {
                size_t n = *cap_names ? *cap_names * 2 : 64;
                char **p = realloc(s->names, n * sizeof(*p));
                if (!p)
                        return -ENOMEM;
                s->names = p;
                *cap_names = n;
        }
        if (s->n_ids == *cap_ids) {
                size_t n = *cap_ids ? *cap_ids * 2 : 64;
                uint32_t *p = realloc(s->ids, n * sizeof(*p));
                if (!p)
                        return -ENOMEM;
                s->ids = p;
                *cap_ids = n;
        }
        if (!(s->names[s->n_names] = strdup(name)))
                return -ENOMEM;
        s->n_names++;
        s->ids[s->n_ids++] = id;
        return 0;
}

static void set_sort(struct id_set *s) {
        qsort(s->names, s->n_names, sizeof(*s->names), cmp_str);
        qsort(s->ids, s->n_ids, sizeof(*s->ids), cmp_u32);
}

/* Reads one file into s with fgetpwent_r (is_group false) or fgetgrent_r. */
static int read_file(const char *path, bool is_group, struct id_set *s, struct file_id *fid) {
        FILE *f = fopen(path, "re");
        if (!f)
                return -errno;
        struct stat st;
        if (fstat(fileno(f), &st) < 0) {
                int r = -errno;
                fclose(f);
                return r;
        }
        size_t cap_names = 0, cap_ids = 0, bufsize = 1024;
        char *buf = malloc(bufsize);
        int r = buf ? 0 : -ENOMEM;
        while (r == 0) {
                struct passwd pw, *pwp = NULL;
                struct group gr, *grp = NULL;
                int e = is_group ? fgetgrent_r(f, &gr, buf, bufsize, &grp)
                                 : fgetpwent_r(f, &pw, buf, bufsize, &pwp);
                if (e == ERANGE && bufsize < LINE_BUF_MAX) {
                        /* glibc rewinds to the start of the entry on ERANGE */
                        char *p = realloc(buf, bufsize * 2);
                        if (!p) {
                                r = -ENOMEM;
                                break;
                        }
                        buf = p;
                        bufsize *= 2;
                        continue;
                }
                if (e == ENOENT)
                        break;
                if (e != 0) {
                        r = -e;
                        break;
                }
                r = is_group ? set_add(s, &cap_names, &cap_ids, gr.gr_name, gr.gr_gid)
                             : set_add(s, &cap_names, &cap_ids, pw.pw_name, pw.pw_uid);
        }
        if (r == 0 && ferror(f))
                r = -EIO;
        free(buf);
        fclose(f);
        if (r < 0)
                return r;
        set_sort(s);
        *fid = (struct file_id){ .dev = st.st_dev, .ino = st.st_ino, .size = st.st_size,
                                 .mtime = st.st_mtim, .valid = true };
        return 0;
}

static bool unchanged(const struct file_id *fid, const char *path, const char *old_path) {
        struct stat st;
        if (!fid->valid || !old_path || strcmp(path, old_path) != 0 || stat(path, &st) < 0)
                return false;
        return st.st_dev == fid->dev && st.st_ino == fid->ino && st.st_size == fid->size &&
               st.st_mtim.tv_sec == fid->mtime.tv_sec && st.st_mtim.tv_nsec == fid->mtime.tv_nsec;
}

static int refresh_one(const char *path, bool is_group, char **saved_path, struct file_id *fid,
                       struct id_set *set, uint64_t *generation) {
        if (unchanged(fid, path, *saved_path))
                return 0;
        (*generation)++;
        struct id_set fresh = { 0 };
        struct file_id fresh_id;
        char *p = strdup(path);
        int r = p ? read_file(path, is_group, &fresh, &fresh_id) : -ENOMEM;
        if (r < 0) {
                set_clear(&fresh);
                free(p);
                return r;
        }
        set_clear(set);
        *set = fresh;
        *fid = fresh_id;
        free(*saved_path);
        *saved_path = p;
        return 0;
}

int local_accounts_refresh(struct local_accounts *la, const char *passwd_path, const char *group_path) {
        int r = refresh_one(passwd_path, false, &la->passwd_path, &la->passwd_id, &la->users, &la->generation);
        if (r < 0)
                return r;
        return refresh_one(group_path, true, &la->group_path, &la->group_id, &la->groups, &la->generation);
}

uint64_t local_accounts_generation(const struct local_accounts *la) {
        return la->generation;
}

static bool has_name(const struct id_set *s, const char *name) {
        return s->n_names && bsearch(&name, s->names, s->n_names, sizeof(*s->names), cmp_str);
}

static bool has_id(const struct id_set *s, uint32_t id) {
        return s->n_ids && bsearch(&id, s->ids, s->n_ids, sizeof(*s->ids), cmp_u32);
}

bool local_accounts_has_user(const struct local_accounts *la, const char *name) {
        return has_name(&la->users, name);
}

bool local_accounts_has_uid(const struct local_accounts *la, uint32_t uid) {
        return has_id(&la->users, uid);
}

bool local_accounts_has_group(const struct local_accounts *la, const char *name) {
        return has_name(&la->groups, name);
}

bool local_accounts_has_gid(const struct local_accounts *la, uint32_t gid) {
        return has_id(&la->groups, gid);
}

int local_accounts_ids_in_range(const struct local_accounts *la, uint32_t min, uint32_t max,
                                uint32_t **ret, size_t *ret_n) {
        size_t n = 0, cap = la->users.n_ids + la->groups.n_ids;
        uint32_t *out = malloc((cap ? cap : 1) * sizeof(*out));
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < la->users.n_ids; i++)
                if (la->users.ids[i] >= min && la->users.ids[i] <= max)
                        out[n++] = la->users.ids[i];
        for (size_t i = 0; i < la->groups.n_ids; i++)
                if (la->groups.ids[i] >= min && la->groups.ids[i] <= max)
                        out[n++] = la->groups.ids[i];
        qsort(out, n, sizeof(*out), cmp_u32);
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                if (k == 0 || out[k - 1] != out[i])
                        out[k++] = out[i];
        *ret = out;
        *ret_n = k;
        return 0;
}
