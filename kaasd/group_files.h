/* The group files (group_file_name.h): role groups kaasd has answered,
 * left in a directory beside its socket so that the NSS module reads them
 * without a call. glibc asks for a group in a 1 KiB buffer and doubles it
 * at each ERANGE, so a lookup of a role held by 10,000 users was nine
 * calls to kaasd; from a file it is none, and a storm of such lookups no
 * longer holds up the calls behind logins and token reviews.
 *
 * A file is written when kaasd answers the group (its reply made already:
 * group_reply.h) and is removed as soon as what the reply was made from
 * changes (group_files_sweep()), when the index is made again, and when
 * kaasd stops. The module takes a file only while it is younger than
 * GROUP_FILE_TTL_SEC and asks kaasd once it is older, so a group in use
 * is asked about once per TTL, and written again then; kaasd also writes
 * it again when it answers the group otherwise (a client not reading
 * files) once it is half that old.
 *
 * At most GROUP_FILES_MAX groups have files, of at most max_bytes
 * together (they live in /run, in memory); beyond, groups are answered by
 * call only. A file the module no longer takes (older than the TTL: its
 * group was not asked about since) is removed at the next sweep, which
 * gives its room back. Files are 0644 in a directory kaasd made 0755 (or that
 * systemd made for it); the module trusts them only through the owner of
 * that directory (nss_kaas(8)).
 *
 * Single-threaded use (kaasd's loop); logs nothing: callers do. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "group_reply.h"

#define GROUP_FILES_MAX 4096

struct group_files;

/* Opens (making it when missing) the directory for the socket at
 * socket_path and removes the files a previous kaasd left in it. -EPERM
 * for a directory not kaasd's own or that others may write, -EBUSY when
 * another kaasd uses it (a socket in the same directory). */
int group_files_new(const char *socket_path, size_t max_bytes, struct group_files **ret);
/* Removes every file, and the directory when it made it. */
struct group_files *group_files_free(struct group_files *f);

const char *group_files_dir(const struct group_files *f);
size_t group_files_count(const struct group_files *f);
size_t group_files_bytes(const struct group_files *f);
/* Takes effect for the files written next. */
void group_files_set_max(struct group_files *f, size_t max_bytes);

/* Leaves reply (of the role reply->key, whose group is called name) as
 * the group's files, its header first (group_file_name.h), unless they
 * are there already with its stamp and (by their mtime) younger than half
 * the TTL at now. 0, -ENOSPC (GROUP_FILES_MAX groups have files, or there
 * is no room for the file), -EINVAL (a name no file can have, a reply no
 * header can describe) or a negative errno of writing (the group then has
 * no file). */
int group_files_put(struct group_files *f, const char *name, const struct group_reply *reply, time_t now);

/* Whether the reply of role key, named name, made as stamp says, is still
 * the one kaasd would send. */
typedef bool (*group_files_current_fn)(const char *key, const char *name, const struct group_reply_stamp *stamp,
                                       void *userdata);

/* Removes the files of every group for which current says no, and those
 * the module would no longer take at now. Returns how many groups lost
 * their files. */
size_t group_files_sweep(struct group_files *f, time_t now, group_files_current_fn current, void *userdata);
/* Removes every file. */
void group_files_clear(struct group_files *f);
