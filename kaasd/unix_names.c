/* Name and number rules between Keystone and Unix; see unix_names.h. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "unix_names.h"

uint64_t unix_fnv1a64(const char *s) {
        uint64_t h = 0xcbf29ce484222325ull;
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                h ^= *p;
                h *= 0x100000001b3ull;
        }
        return h;
}

uint32_t unix_id_preferred(const char *key, uint32_t min, uint32_t max) {
        uint64_t size = (uint64_t)max - min + 1;
        return (uint32_t)(min + unix_fnv1a64(key) % size);
}

static bool only_digits(const char *s) {
        for (; *s; s++)
                if (*s < '0' || *s > '9')
                        return false;
        return true;
}

bool unix_name_part_valid(const char *s) {
        size_t n = strnlen(s, UNIX_NAME_MAX + 1);
        if (n == 0 || n > UNIX_NAME_MAX)
                return false;
        if (s[0] == '-' || s[0] == '+' || strcmp(s, ".") == 0 || strcmp(s, "..") == 0 || only_digits(s))
                return false;
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                if (*p < 0x20 || *p == 0x7f || strchr(" :,/\\", *p))
                        return false;
        return true;
}

static bool in_default_domain(const char *domain_id, const char *domain_name, const char *def) {
        /* Keystone compares domain names without case; "Default" names the
         * domain whose ID is "default" too */
        return def && ((domain_id && strcasecmp(domain_id, def) == 0) ||
                       (domain_name && strcasecmp(domain_name, def) == 0));
}

int unix_user_name(const char *name, const char *domain_id, const char *domain_name,
                   const char *default_domain, char sep, char **ret) {
        if (!name || !unix_name_part_valid(name))
                return -EINVAL;
        if (in_default_domain(domain_id, domain_name, default_domain)) {
                /* "carol@partners" of the default domain would read as carol
                 * of domain partners: two users, one name, and whatever is
                 * granted by name (sudoers, AllowUsers) given to both. Such
                 * names are not served; a separator that never occurs in
                 * default-domain names (say '%' for e-mail addresses) makes
                 * them servable. */
                if (strchr(name, sep))
                        return -EINVAL;
                char *s = strdup(name);
                if (!s)
                        return -ENOMEM;
                *ret = s;
                return 0;
        }
        const char *domain = domain_name ? domain_name : domain_id;
        if (!domain || !unix_name_part_valid(domain) || strchr(domain, sep))
                return -EINVAL;
        char *s;
        if (asprintf(&s, "%s%c%s", name, sep, domain) < 0)
                return -ENOMEM;
        if (strlen(s) > UNIX_NAME_MAX) {
                free(s);
                return -EINVAL;
        }
        *ret = s;
        return 0;
}

int unix_split_name(const char *unix_name, char sep, char **ret_user, char **ret_domain) {
        const char *at = strrchr(unix_name, sep);
        if (!at || at == unix_name || at[1] == '\0')
                return 0;
        char *u = strndup(unix_name, (size_t)(at - unix_name));
        char *d = strdup(at + 1);
        if (!u || !d) {
                free(u);
                free(d);
                return -ENOMEM;
        }
        *ret_user = u;
        *ret_domain = d;
        return 1;
}

int unix_role_group_name(const char *prefix, const char *role_name, char **ret) {
        if (!role_name || !*role_name)
                return -EINVAL;
        size_t plen = prefix ? strlen(prefix) : 0;
        /* worst case: one '_' added in front */
        char *s = malloc(plen + strlen(role_name) + 2);
        if (!s)
                return -ENOMEM;
        size_t n = 0;
        for (size_t i = 0; i < plen; i++)
                s[n++] = prefix[i];
        for (const unsigned char *p = (const unsigned char *)role_name; *p; p++) {
                unsigned char c = *p;
                if (c >= 'A' && c <= 'Z')
                        s[n++] = (char)(c - 'A' + 'a');
                else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')
                        s[n++] = (char)c;
                else if ((c & 0xc0) != 0x80)  /* one '_' per character, not per byte */
                        s[n++] = '_';
        }
        s[n] = '\0';
        if (n == 0 || s[0] == '-' || only_digits(s)) {
                memmove(s + 1, s, n + 1);
                s[0] = '_';
                n++;
        }
        if (n > UNIX_NAME_MAX) {
                free(s);
                return -EINVAL;
        }
        *ret = s;
        return 0;
}

/* Groups that grant more than a user has, or that a stock system already
 * gives a meaning: root's powers (sudoers of Debian, Ubuntu, Fedora, Arch;
 * polkit's admin rules), raw devices and memory, logs and password hashes,
 * container runtimes (a member can mount / into a container),
 * virtualisation, and the system's own accounts. Debian's static groups
 * (base-passwd) come first, then groups packages commonly create. Private
 * groups of Keystone users carry no prefix: this list is what keeps a
 * Keystone user named "cdrom" or "docker" from being those groups. */
static const char *const privileged_groups[] = {
        /* base-passwd */
        "root", "daemon", "bin", "sys", "adm", "tty", "disk", "lp", "mail", "news", "uucp", "man", "proxy",
        "kmem", "dialout", "fax", "voice", "cdrom", "floppy", "tape", "sudo", "audio", "dip", "www-data",
        "backup", "operator", "list", "irc", "src", "gnats", "shadow", "utmp", "video", "sasl", "plugdev",
        "staff", "games", "users", "nogroup",
        /* other distributions, and packages */
        "wheel", "sudoers", "admin", "admins", "mem", "lpadmin", "input", "kvm", "render", "sgx", "netdev",
        "crontab", "messagebus", "bluetooth", "scanner", "saned", "i2c", "gpio", "spi", "tss", "fuse",
        "pcap", "tcpdump", "wireshark", "docker", "lxd", "lxc", "incus", "incus-admin", "libvirt",
        "libvirtd", "libvirt-qemu", "kvm-qemu", "qemu", "vboxusers", "podman", "containerd", "microk8s",
        "sambashare", "ssl-cert", "ssh", "_ssh", "sshd", "polkitd", "sssd", "avahi", "pulse",
        "pulse-access", "rtkit", "colord", "postdrop", "postfix", "exim", "debian-exim", "mlocate",
        "plocate", "utempter", "uuidd", "chrony", "_chrony", "ntp", "_ntp", "nobody", "kaas", "kaas-webhook",
};

bool unix_group_name_privileged(const char *name) {
        if (strncasecmp(name, "systemd-", 8) == 0)
                return true;
        for (size_t i = 0; i < sizeof(privileged_groups) / sizeof(privileged_groups[0]); i++)
                if (strcasecmp(name, privileged_groups[i]) == 0)
                        return true;
        return false;
}

void unix_role_key(const char *role_id, char *buf, size_t size) {
        /* the store's keys hold at most 64 bytes */
        if (strlen(UNIX_ROLE_KEY_PREFIX) + strlen(role_id) <= 64)
                snprintf(buf, size, UNIX_ROLE_KEY_PREFIX "%s", role_id);
        else
                snprintf(buf, size, UNIX_ROLE_KEY_PREFIX "#%016llx",
                         (unsigned long long)unix_fnv1a64(role_id));
}

static bool path_ok(const char *p) {
        if (p[0] != '/')
                return false;
        for (const unsigned char *c = (const unsigned char *)p; *c; c++)
                if (*c < 0x20 || *c == 0x7f || *c == ':')
                        return false;
        /* no "." or ".." component: a name must not climb out of the template */
        for (const char *c = p; (c = strchr(c, '/')); c++) {
                const char *e = c + 1;
                if ((e[0] == '.' && (e[1] == '/' || e[1] == '\0')) ||
                    (e[0] == '.' && e[1] == '.' && (e[2] == '/' || e[2] == '\0')))
                        return false;
        }
        return true;
}

int unix_expand_home(const char *tmpl, const char *name, const char *user_id, const char *domain,
                     char **ret) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        int r = 0;
        for (const char *p = tmpl; r == 0 && *p; p++) {
                if (*p != '%') {
                        fputc(*p, f);
                        continue;
                }
                p++;
                switch (*p) {
                case 'u': fputs(name, f); break;
                case 'i': fputs(user_id, f); break;
                case 'd': fputs(domain ? domain : "", f); break;
                case '%': fputc('%', f); break;
                default: r = -EINVAL; break;
                }
        }
        if (fclose(f) != 0 && r == 0)
                r = -ENOMEM;
        if (r == 0 && (!buf || !path_ok(buf)))
                r = -EINVAL;
        if (r < 0) {
                free(buf);
                return r;
        }
        *ret = buf;
        return 0;
}
