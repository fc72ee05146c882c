/* Calls getpwnam_r() or getgrnam_r() through glibc (under nss_wrapper in
 * test_nss.sh) with a buffer of 1 byte, growing it one byte at a time
 * while the answer is ERANGE, as a careful caller does. Prints how many
 * ERANGE answers came, the size that worked and the entry.
 * usage: nss_erange passwd|group NAME
 * exit: 0 found, 1 not found, 2 another error */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BUF 65536

int main(int argc, char **argv) {
        if (argc != 3 || (strcmp(argv[1], "passwd") != 0 && strcmp(argv[1], "group") != 0)) {
                fprintf(stderr, "usage: nss_erange passwd|group NAME\n");
                return 2;
        }
        bool is_group = strcmp(argv[1], "group") == 0;
        unsigned eranges = 0;
        for (size_t len = 1; len <= MAX_BUF; len++) {
                char *buf = malloc(len);
                struct passwd pw, *pwp = NULL;
                struct group gr, *grp = NULL;
                int r = is_group ? getgrnam_r(argv[2], &gr, buf, len, &grp)
                                 : getpwnam_r(argv[2], &pw, buf, len, &pwp);
                if (r == ERANGE) {
                        eranges++;
                        free(buf);
                        continue;
                }
                if (r != 0) {
                        printf("error %s after %u ERANGE\n", strerror(r), eranges);
                        free(buf);
                        return 2;
                }
                if (!pwp && !grp) {
                        printf("not found after %u ERANGE\n", eranges);
                        free(buf);
                        return 1;
                }
                if (is_group) {
                        printf("eranges=%u size=%zu %s:%u:", eranges, len, gr.gr_name, (unsigned)gr.gr_gid);
                        for (char **m = gr.gr_mem; *m; m++)
                                printf("%s%s", m == gr.gr_mem ? "" : ",", *m);
                        printf("\n");
                } else {
                        printf("eranges=%u size=%zu %s:%u:%u:%s:%s:%s\n", eranges, len, pw.pw_name,
                               (unsigned)pw.pw_uid, (unsigned)pw.pw_gid, pw.pw_gecos, pw.pw_dir, pw.pw_shell);
                }
                free(buf);
                return 0;
        }
        printf("still ERANGE at %d bytes\n", MAX_BUF);
        return 2;
}
