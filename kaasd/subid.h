/* Subordinate ids (/etc/subuid, /etc/subgid, subuid(5)): a local user who
 * owns a subordinate range can map any id of it in a user namespace and
 * so own that id's files. kaasd's uid and gid ranges must therefore stay
 * clear of every such range; this file checks that at start and reload.
 *
 * Depends on libc only. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct config;

/* Checks [min, max] (called `what` in the message) against every range of
 * the subordinate-id file at path, lines "owner:start:count" (blank lines
 * and '#' comments skipped). 0 when none overlaps or the file does not
 * exist; -EEXIST when a range overlaps and -EINVAL for a line that is not
 * a range (a range kaasd cannot read is one it cannot keep clear of),
 * with err saying "PATH line N (...)"; another -errno when the file
 * cannot be read. */
int subid_check_range(const char *path, uint32_t min, uint32_t max, const char *what, char *err,
                      size_t err_size);

/* The checks of a configuration: [nss] subuid_file against the uid range,
 * [nss] subgid_file against the uid range (private groups have gid = uid)
 * and the gid range (role groups). 0 or the first failure, as above. */
int subid_check_config(const struct config *c, char *err, size_t err_size);

/* Calls cb for every range of the subordinate-id file at path, with its
 * line number and text (line ends stripped); a nonzero return of cb stops
 * the walk and is returned. 0 when the file does not exist; -EINVAL for a
 * line that is not a range and another -errno when the file cannot be
 * read, with err saying why. */
typedef int (*subid_range_cb)(uint32_t start, uint32_t count, unsigned lineno, const char *line, void *userdata);
int subid_each_range(const char *path, subid_range_cb cb, void *userdata, char *err, size_t err_size);
