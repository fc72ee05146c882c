/* Names of the group files (group_file_name.h). */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "decimal.h"
#include "group_file_name.h"

int group_file_dir(const char *socket_path, char *buf, size_t size) {
        const char *slash = socket_path ? strrchr(socket_path, '/') : NULL;
        if (!slash)
                return -EINVAL;
        /* a socket in "/" has "/groups" */
        int n = snprintf(buf, size, "%.*s/%s", (int)(slash - socket_path), socket_path, GROUP_FILE_DIR);
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int group_file_by_gid(uint32_t gid, char *buf, size_t size) {
        int n = snprintf(buf, size, GROUP_FILE_GID_PREFIX "%u", (unsigned)gid);
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int group_file_by_name(const char *name, char *buf, size_t size) {
        size_t len = name ? strlen(name) : 0;
        if (len == 0 || strchr(name, '/') || len + strlen(GROUP_FILE_NAME_PREFIX) > NAME_MAX)
                return -EINVAL;
        int n = snprintf(buf, size, GROUP_FILE_NAME_PREFIX "%s", name);
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

#define HEADER_PREFIX "kaas-group 1 "

int group_file_header(size_t n_members, size_t string_bytes, char *buf, size_t size) {
        if (n_members > GROUP_FILE_MEMBERS_MAX || string_bytes > GROUP_FILE_BYTES_MAX)
                return -EINVAL;
        int n = snprintf(buf, size, HEADER_PREFIX "%zu %zu\n", n_members, string_bytes);
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : n;
}

static bool count(const char **p, const char *end, size_t max, size_t *ret) {
        uint64_t v;
        if (!decimal_parse(p, end, max, &v))
                return false;
        *ret = (size_t)v;
        return true;
}

int group_file_header_parse(const char *text, size_t len, size_t *n_members, size_t *string_bytes) {
        const char *end = text + (len < GROUP_FILE_HEADER_MAX ? len : GROUP_FILE_HEADER_MAX), *p = text;
        size_t prefix = strlen(HEADER_PREFIX), n, bytes;
        if ((size_t)(end - p) < prefix || memcmp(p, HEADER_PREFIX, prefix) != 0)
                return -EBADMSG;
        p += prefix;
        if (!count(&p, end, GROUP_FILE_MEMBERS_MAX, &n) || p >= end || *p++ != ' ' ||
            !count(&p, end, GROUP_FILE_BYTES_MAX, &bytes) || p >= end || *p++ != '\n')
                return -EBADMSG;
        *n_members = n;
        *string_bytes = bytes;
        return (int)(p - text);
}
