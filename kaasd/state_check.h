/* The state directory's ownership and modes, checked before the store is
 * opened. The directory holds the token hashes and the Keystone identity
 * cache: another user who can replace or read its files could plant tokens
 * or take the hashes away, so kaasd refuses to start instead of opening
 * them. The token key file (token.key) is checked by token_key.c.
 *
 * Depends on POSIX only; never logs: the caller prints err. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Checks that dir (if it exists) is a directory owned by uid and not
 * writable by group or others, and that each database file in it (*.db,
 * the environment's __db.* region files, log.* and kaasd.lock) is a
 * regular file, not a symbolic link, owned by uid, with no access for
 * group or others. Returns 0, or a negative errno with a message naming
 * the file, its mode and its owner in err (always NUL-terminated):
 * -EPERM for wrong owner or mode, -ELOOP for a symbolic link, -EBADFD for
 * a file of another type, other errnos when dir cannot be read. */
int state_dir_check(const char *dir, uid_t uid, char *err, size_t err_size);
