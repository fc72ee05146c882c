/* See listen.h. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config_value.h"
#include "listen.h"

/* connections the kernel completes while the listening thread is busy
 * (capped by net.core.somaxconn): a burst from one host then costs
 * others no dropped SYN and its second's wait for a retransmission */
#define LISTEN_BACKLOG 4096

int hd_parse_listen(const char *s, struct sockaddr_storage *ret, socklen_t *ret_len) {
        const char *colon = strrchr(s, ':');
        if (!colon || colon == s)
                return -EINVAL;
        unsigned long long port;
        if (config_value_parse_number(colon + 1, CONFIG_VALUE_NO_SUFFIX, &port) < 0 || port < 1 || port > 65535)
                return -EINVAL;
        char host[INET6_ADDRSTRLEN + 2];
        size_t hlen = (size_t)(colon - s);
        if (hlen >= sizeof(host))
                return -EINVAL;
        memcpy(host, s, hlen);
        host[hlen] = 0;
        struct sockaddr_storage ss;
        memset(&ss, 0, sizeof(ss));
        if (strcmp(host, "*") == 0) {
                struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
                a->sin6_family = AF_INET6;
                a->sin6_addr = in6addr_any;
                a->sin6_port = htons((uint16_t)port);
                *ret_len = sizeof(*a);
        } else if (host[0] == '[' && hlen > 2 && host[hlen - 1] == ']') {
                host[hlen - 1] = 0;
                struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
                if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
                        return -EINVAL;
                a->sin6_family = AF_INET6;
                a->sin6_port = htons((uint16_t)port);
                *ret_len = sizeof(*a);
        } else {
                struct sockaddr_in *a = (struct sockaddr_in *)&ss;
                if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
                        return -EINVAL;
                a->sin_family = AF_INET;
                a->sin_port = htons((uint16_t)port);
                *ret_len = sizeof(*a);
        }
        *ret = ss;
        return 0;
}

int hd_bind_listen(const char *listen_addr, char *err, size_t err_size) {
        struct sockaddr_storage ss;
        socklen_t len;
        if (hd_parse_listen(listen_addr, &ss, &len) < 0) {
                snprintf(err, err_size, "cannot parse listen address '%s'", listen_addr);
                return -EINVAL;
        }
        int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
                int r = -errno;
                snprintf(err, err_size, "socket: %s", strerror(-r));
                return r;
        }
        int one = 1, zero = 0;
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        /* "*" means IPv6 and IPv4 on one socket */
        if (ss.ss_family == AF_INET6)
                (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
        if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
                int r = -errno;
                snprintf(err, err_size, "cannot listen on %s: %s", listen_addr, strerror(-r));
                close(fd);
                return r;
        }
        return fd;
}
