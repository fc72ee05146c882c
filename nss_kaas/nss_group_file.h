/* Reading a role group from the file kaasd left for it (group_file_name.h,
 * nss_kaas(8) "The group files"), so that a lookup, and each of glibc's
 * retries with a larger buffer, costs a few system calls rather than a
 * call to kaasd.
 *
 * The file is hostile until proven otherwise. With check_owners (the
 * compiled-in socket), every directory from "/" down to the group
 * directory's parent must be root's and writable by nobody else; the group
 * directory must be writable by nobody but its owner, and the file must
 * be that owner's, a regular file writable by nobody else. Whatever the
 * path, the file must be younger than GROUP_FILE_TTL_SEC, hold at most
 * max_file bytes, start with the header (group_file_name.h) and read
 * back as the plain form of a group reply (nss_scan.h) for the very group
 * asked about, of the size its header gives. Anything short of that is
 * "no file": the caller asks kaasd, as without files. When the header
 * says the entry does not fit in the caller's buffer, nothing more is
 * read: ERANGE.
 *
 * No global state; every descriptor and buffer is freed before return. */
#pragma once

#include <grp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct nss_group_file_query {
        const char *dir;                /* absolute */
        bool check_owners;
        const char *file;               /* group_file_by_name() or _by_gid() */
        const char *name;               /* the group asked for by name, or NULL */
        uint32_t gid;                   /* ... or by gid */
        uint32_t min_id;
        size_t max_members;
        size_t max_file;                /* larger: not a file of kaasd's */
        time_t now;
};

/* 1 with the entry packed into gr and buf; 0 for no usable file; -ERANGE
 * when buflen is too small for the entry. gr is left as it was unless the
 * answer is 1; buf may have been written to either way. */
int nss_group_file_get(const struct nss_group_file_query *q, struct group *gr, char *buf, size_t buflen);
