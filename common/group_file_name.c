/* Names of the group files (group_file_name.h). */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

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
