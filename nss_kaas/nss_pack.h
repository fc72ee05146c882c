/* Packing passwd and group entries into the caller's buffer, as glibc's
 * NSS interface wants: every string (and a group's member array) lives in
 * buf; when buf is too small nothing is promised about its contents and
 * the caller answers NSS_STATUS_TRYAGAIN with ERANGE, so glibc retries
 * with a bigger one. Also the gid list of initgroups_dyn.
 *
 * Pure functions over caller memory: no I/O, no global state. */
#pragma once

#include <grp.h>
#include <pwd.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* pw_passwd of every user: "*", as SSSD serves (its pwfield). pam_unix
 * takes "x" as "see the shadow file" and, with no shadow entry, refuses
 * the account stage ("unix_chkpwd: could not obtain user info"); "*" says
 * there is no Unix password, so pam_unix's account stage passes, its auth
 * stage never matches, and sshd (without PAM) does not take the account
 * for locked as it would with "!". An empty field would let pam_unix's
 * nullok log anyone in. */
#define NSS_PACK_PASSWD_FIELD "*"

struct nss_passwd_src {
        const char *name;
        uint32_t uid, gid;
        const char *gecos, *dir, *shell;
};

struct nss_group_src {
        const char *name;
        uint32_t gid;
        const char *const *members;
        size_t n_members;
};

/* The bytes a group entry takes at buf, as nss_pack_group() lays it out:
 * the padding that aligns buf for char *, n_members + 1 pointers, then
 * string_bytes (every string with its NUL); SIZE_MAX when that does not
 * fit in a size_t. Whoever answers ERANGE from a count alone asks this. */
size_t nss_pack_group_size(const char *buf, size_t n_members, size_t string_bytes);

/* 0, or -ERANGE when buf cannot hold the entry. */
int nss_pack_passwd(const struct nss_passwd_src *src, struct passwd *pw, char *buf, size_t buflen);
int nss_pack_group(const struct nss_group_src *src, struct group *gr, char *buf, size_t buflen);

/* Appends gids to (*groupsp)[*start...] as initgroups_dyn does: skips
 * `skip` (the primary group) and gids already listed, grows *groupsp with
 * realloc (doubling, never beyond limit when limit > 0) and stops at
 * limit. 0, or -ENOMEM (what was added stays). */
int nss_add_gids(gid_t skip, const uint32_t *gids, size_t n, long int *start, long int *size,
                 gid_t **groupsp, long int limit);
