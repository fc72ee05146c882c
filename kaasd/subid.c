/* Keeping kaasd's id ranges clear of subordinate ids; see subid.h. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_file.h"
#include "subid.h"

/* A decimal number of at most 32 bits, the whole of s. */
static int parse_u32(const char *s, uint32_t *ret) {
        if (*s < '0' || *s > '9')
                return -EINVAL;
        uint64_t v = 0;
        for (; *s; s++) {
                if (*s < '0' || *s > '9')
                        return -EINVAL;
                v = v * 10 + (uint64_t)(*s - '0');
                if (v > UINT32_MAX)
                        return -EINVAL;
        }
        *ret = (uint32_t)v;
        return 0;
}

/* Splits "owner:start:count" (line ends stripped): 0, or -EINVAL. */
static int parse_line(char *line, uint32_t *ret_start, uint32_t *ret_count) {
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c1 || c1 == line || !c2 || strchr(c2 + 1, ':'))
                return -EINVAL;
        *c1 = *c2 = '\0';
        int r = parse_u32(c1 + 1, ret_start);
        if (r == 0)
                r = parse_u32(c2 + 1, ret_count);
        *c1 = *c2 = ':';
        return r;
}

int subid_each_range(const char *path, subid_range_cb cb, void *userdata, char *err, size_t err_size) {
        FILE *f = fopen(path, "re");
        if (!f) {
                if (errno == ENOENT)
                        return 0;
                int r = -errno;
                snprintf(err, err_size, "cannot read %s: %s", path, strerror(errno));
                return r;
        }
        char *line = NULL;
        size_t size = 0;
        ssize_t n;
        unsigned lineno = 0;
        int r = 0;
        while (r == 0 && (n = getline(&line, &size, f)) >= 0) {
                lineno++;
                while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                        line[--n] = '\0';
                const char *p = line + strspn(line, " \t");
                if (*p == '\0' || *p == '#')
                        continue;
                uint32_t start, count;
                if (parse_line(line, &start, &count) < 0) {
                        snprintf(err, err_size, "%s line %u is not \"owner:start:count\"", path, lineno);
                        r = -EINVAL;
                        break;
                }
                if (count > 0)
                        r = cb(start, count, lineno, line, userdata);
        }
        if (r == 0 && ferror(f)) {
                r = -EIO;
                snprintf(err, err_size, "cannot read %s: %s", path, strerror(EIO));
        }
        free(line);
        fclose(f);
        return r;
}

struct overlap_ctx {
        const char *path, *what;
        uint32_t min, max;
        char *err;
        size_t err_size;
};

static int overlap_cb(uint32_t start, uint32_t count, unsigned lineno, const char *line, void *userdata) {
        struct overlap_ctx *c = userdata;
        uint64_t last = (uint64_t)start + count - 1;
        if (start > c->max || last < c->min)
                return 0;
        snprintf(c->err, c->err_size, "%s (%u..%u) overlaps the subordinate ids of %s line %u (%.64s)", c->what,
                 c->min, c->max, c->path, lineno, line);
        return -EEXIST;
}

int subid_check_range(const char *path, uint32_t min, uint32_t max, const char *what, char *err,
                      size_t err_size) {
        struct overlap_ctx c = { .path = path, .what = what, .min = min, .max = max, .err = err, .err_size = err_size };
        return subid_each_range(path, overlap_cb, &c, err, err_size);
}

int subid_check_config(const struct config *c, char *err, size_t err_size) {
        int r = subid_check_range(c->subuid_file, c->uid_min, c->uid_max, "[nss] uid_min..uid_max", err, err_size);
        if (r == 0)
                r = subid_check_range(c->subgid_file, c->uid_min, c->uid_max,
                                      "[nss] uid_min..uid_max (the gids of private groups)", err, err_size);
        if (r == 0)
                r = subid_check_range(c->subgid_file, c->gid_min, c->gid_max, "[nss] gid_min..gid_max", err,
                                      err_size);
        return r;
}
