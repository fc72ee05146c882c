/* See peer.h. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "peer.h"

int peer_from_socket(int fd, struct peer *ret) {
        struct ucred cred;
        socklen_t len = sizeof(cred);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return -errno;
        if (len != sizeof(cred))
                return -EIO;
        struct peer p = { .uid = cred.uid, .gid = cred.gid, .pid = cred.pid };
        socklen_t glen = sizeof(p.groups);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, p.groups, &glen) < 0) {
                /* ERANGE: more groups than we keep; membership then only
                 * counts the primary group, which fails closed */
                if (errno != ERANGE)
                        return -errno;
                p.groups_truncated = true;
                p.n_groups = 0;
        } else {
                p.n_groups = glen / sizeof(gid_t);
        }
        *ret = p;
        return 0;
}

bool peer_in_group(const struct peer *p, gid_t gid) {
        if (p->gid == gid)
                return true;
        for (unsigned i = 0; i < p->n_groups; i++)
                if (p->groups[i] == gid)
                        return true;
        return false;
}
