/* Local accounts read from a passwd file itself. See passwd_file.h. */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passwd_file.h"

#define PASSWD_LINE_MAX (1024 * 1024)  /* a longer passwd line is not read */

/* fgetpwent_r() reads the file itself, never NSS. */
int passwd_file_find(const char *path, const char *name, uid_t *ret_uid) {
        FILE *f = fopen(path, "re");
        if (!f)
                return -errno;
        size_t size = 1024;
        char *buf = malloc(size);
        int found = 0, r = 0;
        while (buf) {
                struct passwd pw, *res = NULL;
                r = fgetpwent_r(f, &pw, buf, size, &res);
                if (r == ERANGE && size < PASSWD_LINE_MAX) {
                        /* glibc rewinds to the start of the line */
                        char *bigger = realloc(buf, size * 2);
                        if (!bigger) {
                                r = ENOMEM;
                                break;
                        }
                        buf = bigger;
                        size *= 2;
                        continue;
                }
                if (r != 0 || !res)
                        break;
                if (strcmp(pw.pw_name, name) == 0) {
                        if (ret_uid)
                                *ret_uid = pw.pw_uid;
                        found = 1;
                        break;
                }
        }
        bool failed = !buf || (!found && r != 0 && r != ENOENT);
        int saved = !buf ? ENOMEM : r;
        free(buf);
        fclose(f);
        return failed ? -saved : found;
}
