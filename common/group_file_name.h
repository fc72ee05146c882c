/* Where kaasd leaves the role groups it has answered, for the NSS module
 * to read without asking it (nss_kaas(8), "The group files"): a directory
 * "groups" beside kaasd's socket, holding for each role group one file
 * under two names, "gid.<gid>" and "name.<group name>", whose content is
 * a header line, then the group's io.kaas.Nss reply exactly as kaasd
 * sends it. The header gives the entry's size in glibc's buffer:
 *
 *   kaas-group 1 <members> <string bytes>\n
 *
 * the number of members and the bytes of the entry's strings, each with
 * its NUL (the members, the name and the password field "x"), in
 * decimal. glibc asks in a buffer that doubles at each ERANGE; the header
 * alone tells the module whether the entry fits, so every try but the
 * last costs no more than reading it.
 *
 * A file is current for GROUP_FILE_TTL_SEC after it was written: kaasd
 * removes a group's files as soon as the group changes, and the TTL
 * bounds what a kaasd that died without removing them can leave behind.
 *
 * Shared by kaasd (the writer) and the module (the reader). No I/O, no
 * global state. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define GROUP_FILE_DIR "groups"
#define GROUP_FILE_TTL_SEC 60
/* a clock set back by this much still finds a file written just now */
#define GROUP_FILE_CLOCK_SLACK_SEC 5
/* a file of the directory that is none of these: skipped, never removed */
#define GROUP_FILE_GID_PREFIX "gid."
#define GROUP_FILE_NAME_PREFIX "name."

/* The directory for the socket at socket_path (its directory's "groups")
 * into buf: 0, -EINVAL for a path without a directory, -ENAMETOOLONG. */
int group_file_dir(const char *socket_path, char *buf, size_t size);

/* The file names of a group: 0, or -EINVAL for a name that cannot be one
 * (empty, with a '/', longer than NAME_MAX with its prefix),
 * -ENAMETOOLONG when buf is too small. */
int group_file_by_gid(uint32_t gid, char *buf, size_t size);
int group_file_by_name(const char *name, char *buf, size_t size);

/* The header's longest form, its newline included. */
#define GROUP_FILE_HEADER_MAX 64
/* Larger counts are refused: no entry the module takes comes near them. */
#define GROUP_FILE_MEMBERS_MAX 16777216u
#define GROUP_FILE_BYTES_MAX (256u * 1024u * 1024u)

/* The header for an entry of n_members members whose strings take
 * string_bytes, into buf: its length, or -EINVAL for counts past the
 * limits above, -ENAMETOOLONG when buf is too small. */
int group_file_header(size_t n_members, size_t string_bytes, char *buf, size_t size);

/* The header at the start of text (len bytes): its length, newline
 * included, with the two counts; -EBADMSG for anything but the exact form
 * (no sign, no leading zero, no space but the separators, counts within
 * the limits), whole within len. */
int group_file_header_parse(const char *text, size_t len, size_t *n_members, size_t *string_bytes);
