/* See keystone_url.h. Depends on libc only. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "keystone_url.h"

#define HTTPS "https://"
#define HTTP  "http://"
#define HOST_MAX 256

/* The authority of url after its scheme: up to the path, query or fragment. */
static size_t authority_length(const char *rest) {
        return strcspn(rest, "/?#");
}

/* Copies the host of the authority (without brackets or port) into host.
 * -EINVAL for user information, an empty or overlong host, or an
 * unterminated IPv6 literal. */
static int authority_host(const char *auth, size_t len, char host[static HOST_MAX], bool *ret_ipv6) {
        if (memchr(auth, '@', len))
                return -EINVAL;
        const char *start = auth, *end;
        *ret_ipv6 = false;
        if (len > 0 && auth[0] == '[') {
                end = memchr(auth, ']', len);
                if (!end)
                        return -EINVAL;
                start = auth + 1;
                *ret_ipv6 = true;
        } else {
                end = memchr(auth, ':', len);
                if (!end)
                        end = auth + len;
        }
        size_t n = (size_t)(end - start);
        if (n == 0 || n >= HOST_MAX)
                return -EINVAL;
        memcpy(host, start, n);
        host[n] = '\0';
        return 0;
}

/* localhost and numeric loopback addresses only: a name is not resolved,
 * so no resolver can turn "loopback" into a remote host. */
static bool host_is_loopback(const char *host, bool ipv6) {
        if (ipv6) {
                struct in6_addr a6;
                if (inet_pton(AF_INET6, host, &a6) != 1)
                        return false;
                if (IN6_IS_ADDR_LOOPBACK(&a6))
                        return true;
                return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
        }
        if (strcasecmp(host, "localhost") == 0)
                return true;
        struct in_addr a4;
        return inet_pton(AF_INET, host, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
}

bool keystone_url_is_plain_remote(const char *url) {
        if (strncasecmp(url, HTTP, strlen(HTTP)) != 0)
                return false;
        const char *rest = url + strlen(HTTP);
        char host[HOST_MAX];
        bool ipv6;
        if (authority_host(rest, authority_length(rest), host, &ipv6) < 0)
                return true;
        return !host_is_loopback(host, ipv6);
}

int keystone_url_check(const char *url, bool allow_plain_remote, char *err, size_t err_size) {
        const char *rest;
        if (strncasecmp(url, HTTPS, strlen(HTTPS)) == 0)
                rest = url + strlen(HTTPS);
        else if (strncasecmp(url, HTTP, strlen(HTTP)) == 0)
                rest = url + strlen(HTTP);
        else {
                snprintf(err, err_size, "[keystone] url must start with https:// or http://");
                return -EINVAL;
        }
        char host[HOST_MAX];
        bool ipv6;
        if (authority_host(rest, authority_length(rest), host, &ipv6) < 0) {
                snprintf(err, err_size, "[keystone] url must name a host, without user@ in front of it");
                return -EINVAL;
        }
        if (!allow_plain_remote && keystone_url_is_plain_remote(url)) {
                snprintf(err, err_size,
                         "[keystone] url is plain http:// to %s, which is not this machine: passwords and tokens "
                         "would cross the network unencrypted; use https://, or set insecure_http = yes",
                         host);
                return -EINVAL;
        }
        return 0;
}
