/* Ids remembered in the store that lie in subordinate ranges. kaasd keeps
 * an id once given (files keep their owner), whatever the configured range
 * is now, so an installation upgraded from the old default range
 * (200000-399999, inside useradd's blocks) may serve uids and gids that a
 * local user can map from /etc/subuid or /etc/subgid. The configured ranges
 * are refused at start (subid.h); stored ids are only reported: moving
 * them changes file owners, which is the operator's decision. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct config;
struct store;

#define SUBID_STORED_SHOWN 3  /* ids named in the message */

/* Walks the store's uid index over every range of [nss] subuid_file (the
 * uids of Keystone users) and subgid_file (their private groups' gids, and
 * role gids). *ret_count is the number of stored ids found inside a range
 * (an id inside ranges of both files counts once per file). When it is not
 * 0, msg says how many per file and names the first SUBID_STORED_SHOWN
 * (user ID or role, id, file and line). 0, or a negative errno with msg
 * saying why. */
int subid_stored_check(struct store *s, const struct config *c, uint64_t *ret_count, char *msg,
                       size_t msg_size);
