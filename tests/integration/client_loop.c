/* Many calls through the client modules in one process, to show that they
 * do not grow: the resident set size after a tenth of the calls (warm:
 * libraries loaded, caches filled) and after all of them.
 *
 *   client_loop pam SERVICE USER TOKEN N
 *       N times pam_start(SERVICE, USER), pam_authenticate() answering the
 *       prompt with TOKEN, pam_acct_mgmt(), pam_end() - the way sshd
 *       drives pam_kaas.so (run it under pam_wrapper);
 *   client_loop nss MODULE.so NAME N
 *       N times _nss_kaas_getpwnam_r(NAME) and _nss_kaas_initgroups_dyn()
 *       through the module, loaded once with dlopen().
 *
 * Prints {"calls": N, "failures": F, "rss_warm_kb": W, "rss_end_kb": E,
 * "first_failure": ...} and exits 0 when every call succeeded, 1 when one
 * failed, 2 on a usage error. */
#include "config.h"

#include <dlfcn.h>
#include <grp.h>
#include <nss.h>
#include <pwd.h>
#include <security/pam_appl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long rss_kb(void) {
        FILE *f = fopen("/proc/self/status", "r");
        char line[256];
        long kb = -1;
        while (f && fgets(line, sizeof(line), f))
                if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
                        break;
        if (f)
                fclose(f);
        return kb;
}

/* Answers every echo-off prompt with the token; shows nothing else. */
static int conv_fn(int n, const struct pam_message **msg, struct pam_response **resp, void *data) {
        struct pam_response *r = calloc((size_t)n, sizeof(*r));
        if (!r)
                return PAM_BUF_ERR;
        for (int i = 0; i < n; i++) {
                if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF && !(r[i].resp = strdup(data))) {
                        for (int j = 0; j < i; j++)
                                free(r[j].resp);
                        free(r);
                        return PAM_BUF_ERR;
                }
        }
        *resp = r;
        return PAM_SUCCESS;
}

static int one_pam(const char *service, const char *user, const char *token, char *why, size_t why_size) {
        struct pam_conv conv = { conv_fn, (void *)token };
        pam_handle_t *pamh = NULL;
        int r = pam_start(service, user, &conv, &pamh);
        if (r != PAM_SUCCESS) {
                snprintf(why, why_size, "pam_start: %s", pam_strerror(NULL, r));
                return -1;
        }
        r = pam_authenticate(pamh, PAM_SILENT);
        if (r == PAM_SUCCESS)
                r = pam_acct_mgmt(pamh, PAM_SILENT);
        if (r != PAM_SUCCESS)
                snprintf(why, why_size, "%s", pam_strerror(pamh, r));
        pam_end(pamh, r);
        return r == PAM_SUCCESS ? 0 : -1;
}

typedef enum nss_status (*getpwnam_fn)(const char *, struct passwd *, char *, size_t, int *);
typedef enum nss_status (*initgroups_fn)(const char *, gid_t, long *, long *, gid_t **, long, int *);

struct nss {
        getpwnam_fn getpwnam;
        initgroups_fn initgroups;
};

static int one_nss(const struct nss *m, const char *name, char *why, size_t why_size) {
        struct passwd pw;
        char buf[4096];
        int err = 0;
        enum nss_status s = m->getpwnam(name, &pw, buf, sizeof(buf), &err);
        if (s != NSS_STATUS_SUCCESS) {
                snprintf(why, why_size, "getpwnam: status %d errno %d", (int)s, err);
                return -1;
        }
        long start = 0, size = 8;
        gid_t *groups = malloc((size_t)size * sizeof(gid_t));
        if (!groups) {
                snprintf(why, why_size, "out of memory");
                return -1;
        }
        s = m->initgroups(name, pw.pw_gid, &start, &size, &groups, 0, &err);
        free(groups);
        if (s != NSS_STATUS_SUCCESS && s != NSS_STATUS_NOTFOUND) {
                snprintf(why, why_size, "initgroups: status %d errno %d", (int)s, err);
                return -1;
        }
        return 0;
}

int main(int argc, char **argv) {
        if (argc < 5 || (strcmp(argv[1], "pam") == 0 ? argc != 6 : strcmp(argv[1], "nss") != 0 || argc != 5)) {
                fprintf(stderr, "usage: client_loop pam SERVICE USER TOKEN N | client_loop nss MODULE.so NAME N\n");
                return 2;
        }
        bool pam = strcmp(argv[1], "pam") == 0;
        long n = atol(argv[argc - 1]);
        struct nss m = { 0 };
        void *h = NULL;
        if (!pam) {
                if (!(h = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL))) {
                        fprintf(stderr, "client_loop: %s\n", dlerror());
                        return 2;
                }
                m.getpwnam = (getpwnam_fn)dlsym(h, "_nss_kaas_getpwnam_r");
                m.initgroups = (initgroups_fn)dlsym(h, "_nss_kaas_initgroups_dyn");
                if (!m.getpwnam || !m.initgroups) {
                        fprintf(stderr, "client_loop: the module lacks getpwnam_r or initgroups_dyn\n");
                        return 2;
                }
        }
        long failures = 0, warm = -1;
        char why[400], first[512] = "";
        for (long i = 0; i < n; i++) {
                if (i == n / 10)
                        warm = rss_kb();
                int r = pam ? one_pam(argv[2], argv[3], argv[4], why, sizeof(why))
                            : one_nss(&m, argv[3], why, sizeof(why));
                if (r < 0 && failures++ == 0)
                        snprintf(first, sizeof(first), "call %ld: %s", i, why);
        }
        long end = rss_kb();
        if (h)
                dlclose(h);
        printf("{\"calls\": %ld, \"failures\": %ld, \"rss_warm_kb\": %ld, \"rss_end_kb\": %ld, \"first_failure\": \"%s\"}\n",
               n, failures, warm, end, first);
        return failures ? 1 : 0;
}
