/* How Keystone identities become Unix names and numbers (DESIGN §10): the
 * rules alone, without I/O, so that they are unit-tested and the NSS and
 * userdb interfaces cannot disagree.
 *
 *   user name   Keystone name for users of the default domain, else
 *               name SEP domain (SEP is [nss] domain_separator, '@')
 *   uid         preferred = uid_min + FNV-1a-64(user ID) mod range size;
 *               the store resolves collisions and remembers the result
 *   role group  prefix + role name, lowercased, [a-z0-9_-] kept, any
 *               other character (a whole UTF-8 sequence) becomes '_'
 *
 * Depends on nothing but libc. Strings returned are malloc'ed. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* LOGIN_NAME_MAX less the NUL */
#define UNIX_NAME_MAX 255

/* The uid map keys of role groups and of local ids held back from
 * assignment; no Keystone user ID is served that starts like them. */
#define UNIX_ROLE_KEY_PREFIX "role:"
#define UNIX_LOCAL_KEY_PREFIX "local:"
/* the keys under which the environment's shared map notes who holds a
 * number (REPLICA_UID_NUMBER_PREFIX) */
#define UNIX_NUMBER_KEY_PREFIX "number:"

/* FNV-1a, 64 bits: documented in nss_kaas(8) so any tool can recompute it. */
uint64_t unix_fnv1a64(const char *s);

/* The number a key would get in [min, max] if it were free. */
uint32_t unix_id_preferred(const char *key, uint32_t min, uint32_t max);

/* Whether s may be one part (user or domain) of a served user name: 1 to
 * UNIX_NAME_MAX bytes, no control character, space, ':', ',', '/' or '\\',
 * not "." or "..", not starting with '-' or '+', not only digits. UTF-8 is
 * allowed. */
bool unix_name_part_valid(const char *s);

/* The Unix name of a Keystone user. domain_name may be NULL (then the
 * domain ID is used). The user is in the default domain when
 * default_domain equals its domain's ID or name. -EINVAL when the name
 * cannot be represented (see unix_name_part_valid(); a domain part may
 * not hold sep either); -ENOMEM. Domain names compare without case. */
int unix_user_name(const char *name, const char *domain_id, const char *domain_name,
                   const char *default_domain, char sep, char **ret);

/* Splits "user SEP domain" at the last sep: 1 with both parts set, 0
 * when there is no separator with text on both sides (nothing set). */
int unix_split_name(const char *unix_name, char sep, char **ret_user, char **ret_domain);

/* The group name of a role: prefix (NULL = none) + the mapped role name.
 * A result that would start with '-' or be only digits gets a leading
 * '_'. -EINVAL for an empty role name or a result over UNIX_NAME_MAX. */
int unix_role_group_name(const char *prefix, const char *role_name, char **ret);

/* Whether a group of this name must never come from kaas, compared
 * without case: a group that stock sudoers, polkit, device files, log
 * files or container runtimes already trust (root, wheel, sudo, admin,
 * adm, shadow, disk, docker, lxd, systemd-* and the like; the list is
 * in unix_names.c and nss_kaas(8)). */
bool unix_group_name_privileged(const char *name);

/* The uid map key of a role: "role:<id>", or for an ID too long for the
 * map "role:#<16 hex digits of its FNV-1a>". size >= 70. */
void unix_role_key(const char *role_id, char *buf, size_t size);

/* Expands a home directory template: %u user name, %i user ID, %d domain
 * name, %% a '%'. -EINVAL for another escape, a result that is not an
 * absolute path, holds ':', a control character, or a "." or ".."
 * component. */
int unix_expand_home(const char *tmpl, const char *name, const char *user_id, const char *domain,
                     char **ret);
