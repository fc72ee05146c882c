/* See nss_pack.h. */
#include "config.h"

#include <errno.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nss_pack.h"

struct packer {
        char *buf;
        size_t len, used;
};

/* A copy of s in the buffer, or NULL when it does not fit. */
static char *pack_str(struct packer *p, const char *s) {
        size_t n = strlen(s) + 1;
        if (n > p->len - p->used)
                return NULL;
        char *d = p->buf + p->used;
        memcpy(d, s, n);
        p->used += n;
        return d;
}

int nss_pack_passwd(const struct nss_passwd_src *src, struct passwd *pw, char *buf, size_t buflen) {
        struct packer p = { .buf = buf, .len = buflen };
        char *name, *passwd, *gecos, *dir, *shell;
        if (!(name = pack_str(&p, src->name)) || !(passwd = pack_str(&p, NSS_PACK_PASSWD_FIELD)) ||
            !(gecos = pack_str(&p, src->gecos)) || !(dir = pack_str(&p, src->dir)) ||
            !(shell = pack_str(&p, src->shell)))
                return -ERANGE;
        *pw = (struct passwd){ .pw_name = name, .pw_passwd = passwd, .pw_uid = src->uid, .pw_gid = src->gid,
                               .pw_gecos = gecos, .pw_dir = dir, .pw_shell = shell };
        return 0;
}

size_t nss_pack_group_size(const char *buf, size_t n_members, size_t string_bytes) {
        size_t pad = (alignof(char *) - (uintptr_t)buf % alignof(char *)) % alignof(char *);
        if (n_members >= (SIZE_MAX - pad) / sizeof(char *) - 1)
                return SIZE_MAX;
        size_t array = pad + (n_members + 1) * sizeof(char *);
        return string_bytes > SIZE_MAX - array ? SIZE_MAX : array + string_bytes;
}

int nss_pack_group(const struct nss_group_src *src, struct group *gr, char *buf, size_t buflen) {
        /* the member array first, aligned for char *; the strings after it */
        size_t n_members = src->n_members, used = nss_pack_group_size(buf, n_members, 0);
        if (used > buflen)
                return -ERANGE;
        char **members = (char **)(void *)(buf + (used - (n_members + 1) * sizeof(char *)));
        struct packer p = { .buf = buf, .len = buflen, .used = used };
        for (size_t i = 0; i < n_members; i++)
                if (!(members[i] = pack_str(&p, src->members[i])))
                        return -ERANGE;
        members[n_members] = NULL;
        char *name, *passwd;
        if (!(name = pack_str(&p, src->name)) || !(passwd = pack_str(&p, "x")))
                return -ERANGE;
        *gr = (struct group){ .gr_name = name, .gr_passwd = passwd, .gr_gid = src->gid, .gr_mem = members };
        return 0;
}

int nss_add_gids(gid_t skip, const uint32_t *gids, size_t n, long int *start, long int *size,
                 gid_t **groupsp, long int limit) {
        for (size_t i = 0; i < n; i++) {
                gid_t g = (gid_t)gids[i];
                if (g == skip)
                        continue;
                bool listed = false;
                for (long int j = 0; j < *start && !listed; j++)
                        listed = (*groupsp)[j] == g;
                if (listed)
                        continue;
                if (limit > 0 && *start >= limit)
                        return 0;
                if (*start >= *size) {
                        long int want = *size > 0 ? *size * 2 : 16;
                        if (limit > 0 && want > limit)
                                want = limit;
                        gid_t *grown = realloc(*groupsp, (size_t)want * sizeof(**groupsp));
                        if (!grown)
                                return -ENOMEM;
                        *groupsp = grown;
                        *size = want;
                }
                (*groupsp)[(*start)++] = g;
        }
        return 0;
}
