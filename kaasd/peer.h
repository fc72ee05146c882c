/* Who is on the other end of a connection, as the kernel says
 * (SO_PEERCRED, SO_PEERGROUPS), read once when the connection is accepted. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#define PEER_GROUPS_MAX 64

struct peer {
        uid_t uid;
        gid_t gid;
        pid_t pid;
        gid_t groups[PEER_GROUPS_MAX];
        unsigned n_groups;
        bool groups_truncated;  /* more groups than fit: membership checks fail closed */
};

int peer_from_socket(int fd, struct peer *ret);
/* Primary or supplementary membership of gid. */
bool peer_in_group(const struct peer *p, gid_t gid);
