/* Fuzz target: how Keystone names become Unix names (kaasd/unix_names.c).
 * Keystone user, domain and role names are chosen by whoever may create
 * them in Keystone; what comes out becomes a passwd or group entry on every
 * node, so it must never hold what breaks /etc/passwd-shaped consumers.
 *
 * Input: fields separated by NUL bytes, in order: user name, domain ID,
 * domain name, default domain, separator (its first byte), role group
 * prefix, role name, role ID, home template. Missing fields are "".
 *
 * Properties: a user name that is produced splits back (at the last
 * separator) into the Keystone name and the domain; its parts pass
 * unix_name_part_valid; a role group name holds only the prefix and
 * [a-z0-9_-], does not start with '-' nor is only digits; a role key
 * starts with "role:" and fits its buffer; an expanded home is an
 * absolute path without ':', control characters, "." or "..". */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "kaasd/unix_names.h"

#define N_FIELDS 9

static bool only_digits(const char *s) {
        return *s && strspn(s, "0123456789") == strlen(s);
}

static void check_home(const char *h) {
        FUZZ_ASSERT(h[0] == '/');
        FUZZ_ASSERT(!strchr(h, ':'));
        for (const char *p = h; *p; p++)
                FUZZ_ASSERT((unsigned char)*p >= 0x20 && *p != 0x7f);
        for (const char *p = h; (p = strchr(p, '/')); p++) {
                size_t n = strcspn(p + 1, "/");
                FUZZ_ASSERT(!(n == 1 && p[1] == '.') && !(n == 2 && p[1] == '.' && p[2] == '.'));
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *copy = fuzz_strndup(data, size);
        const char *f[N_FIELDS];
        const char *p = copy, *end = copy + size;
        for (size_t i = 0; i < N_FIELDS; i++) {
                f[i] = p < end ? p : "";
                if (p < end)
                        p += strlen(p) + 1;
        }
        const char *name = f[0], *domain_id = f[1], *domain_name = *f[2] ? f[2] : NULL, *def = f[3];
        char sep = *f[4] ? *f[4] : '@';
        const char *prefix = *f[5] ? f[5] : NULL, *role = f[6], *role_id = f[7], *tmpl = f[8];

        (void)unix_fnv1a64(name);
        uint32_t lo = (uint32_t)unix_fnv1a64(role_id), hi = lo + (uint32_t)(size * 7919);
        if (hi >= lo)
                FUZZ_ASSERT(unix_id_preferred(name, lo, hi) - lo <= hi - lo);

        char *user = NULL;
        int r = unix_user_name(name, domain_id, domain_name, def, sep, &user);
        FUZZ_ASSERT(r == 0 || r == -EINVAL || r == -ENOMEM);
        if (r == 0) {
                FUZZ_ASSERT(strlen(user) <= UNIX_NAME_MAX);
                char *u = NULL, *d = NULL;
                if (strcmp(user, name) == 0) {
                        FUZZ_ASSERT(unix_name_part_valid(user));
                } else {
                        const char *dom = domain_name ? domain_name : domain_id;
                        FUZZ_ASSERT(unix_split_name(user, sep, &u, &d) == 1);
                        FUZZ_ASSERT(strcmp(u, name) == 0 && strcmp(d, dom) == 0);
                        FUZZ_ASSERT(unix_name_part_valid(u) && unix_name_part_valid(d));
                        FUZZ_ASSERT(!strchr(d, sep));
                }
                free(u);
                free(d);
                free(user);
        }

        char *u = NULL, *d = NULL;
        r = unix_split_name(name, sep, &u, &d);
        if (r == 1) {
                FUZZ_ASSERT(*u && *d && !strchr(d, sep));
                FUZZ_ASSERT(strlen(u) + 1 + strlen(d) == strlen(name));
        } else {
                FUZZ_ASSERT(r == 0 && !u && !d);
        }
        free(u);
        free(d);

        char *group = NULL;
        r = unix_role_group_name(prefix, role, &group);
        if (r == 0) {
                size_t plen = prefix ? strlen(prefix) : 0;
                FUZZ_ASSERT(strlen(group) <= UNIX_NAME_MAX && *group);
                FUZZ_ASSERT(group[0] != '-' && !only_digits(group));
                /* after the prefix (and a '_' put before it), only [a-z0-9_-] */
                const char *rest = group;
                if (prefix && strncmp(group, prefix, plen) == 0)
                        rest += plen;
                else if (prefix && group[0] == '_' && strncmp(group + 1, prefix, plen) == 0)
                        rest += plen + 1;
                FUZZ_ASSERT(strspn(rest, "abcdefghijklmnopqrstuvwxyz0123456789_-") == strlen(rest));
                free(group);
        } else {
                FUZZ_ASSERT(r == -EINVAL || r == -ENOMEM);
        }

        char key[80];
        memset(key, 'x', sizeof(key));
        unix_role_key(role_id, key, 70);
        FUZZ_ASSERT(memchr(key, '\0', 70) && strncmp(key, UNIX_ROLE_KEY_PREFIX, strlen(UNIX_ROLE_KEY_PREFIX)) == 0);
        FUZZ_ASSERT(key[70] == 'x');

        char *home = NULL;
        r = unix_expand_home(tmpl, name, role_id, domain_id, &home);
        if (r == 0) {
                check_home(home);
                free(home);
        } else {
                FUZZ_ASSERT(r == -EINVAL || r == -ENOMEM);
        }
        free(copy);
        return 0;
}
