/* Local accounts read from a passwd file itself, never through NSS: a
 * lookup through NSS includes nss_kaas, where any Keystone user's name
 * resolves to a uid handed out by kaasd. Whatever decides whom to trust
 * (kaasd's own user, local users kept out of Keystone) reads the file.
 * No logging, no globals. */
#pragma once

#include <sys/types.h>

#define PASSWD_FILE_DEFAULT "/etc/passwd"

/* Finds name in the passwd file at path: 1 with *ret_uid set (ret_uid may
 * be NULL), 0 when absent, or a negative errno. */
int passwd_file_find(const char *path, const char *name, uid_t *ret_uid);
