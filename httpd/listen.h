/* The listening socket of the HTTPS daemons: "ADDR:PORT" parsed and bound. */
#pragma once

#include <stddef.h>
#include <sys/socket.h>

/* Parses "ADDR:PORT": a numeric IPv4 address, a numeric IPv6 address in
 * brackets, or "*" for every address (IPv6 and IPv4). -EINVAL otherwise. */
int hd_parse_listen(const char *s, struct sockaddr_storage *ret, socklen_t *ret_len)
        __attribute__((warn_unused_result, nonnull));

/* A non-blocking, close-on-exec socket listening on listen_addr. Returns
 * the fd or a negative errno with a message in err. */
int hd_bind_listen(const char *listen_addr, char *err, size_t err_size) __attribute__((warn_unused_result, nonnull));
