/* libmicrohttpd with GnuTLS for the HTTPS daemons (kaas-webhook,
 * kaas-panel): the certificate, key and optional client CA read from PEM
 * files, the GnuTLS priorities, the listening socket, one thread per
 * connection with a small stack, libmicrohttpd's log into ours, and the
 * connection guard (guard.h) wired to every connection. The daemon gives
 * its access handler and, optionally, its completion handler; routes,
 * bodies and answers are its own (body.h and respond.h help). */
#pragma once

#include <microhttpd.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "guard.h"

struct hd_server;

struct hd_server_options {
        const char *listen;                /* "ADDR:PORT", listen.h */
        const char *cert_file;             /* PEM certificate chain, server's first */
        const char *key_file;              /* PEM private key */
        const char *client_ca_file;        /* NULL: no client certificate asked */
        const char *tls_priorities;        /* GnuTLS priority string */
        unsigned max_connections;
        unsigned max_connections_per_client;
        unsigned connection_timeout_sec;   /* idle */
        unsigned request_timeout_sec;      /* a whole request */
        struct hd_guard_events events;     /* hooks may be NULL */
        /* The fuzz harnesses': plain HTTP on no socket of its own (no
         * certificate, key or listen address used); connections come only
         * from hd_server_add_connection(). */
        bool plaintext;
        MHD_AccessHandlerCallback access;
        MHD_RequestCompletedCallback completed;  /* NULL: none */
        void *cls;                               /* for both */
};

/* Reads the files, binds and starts serving. On failure returns a negative
 * errno with a message in err. The key leaves our memory once GnuTLS has
 * its copy. */
int hd_server_start(const struct hd_server_options *o, struct hd_server **ret, char *err, size_t err_size)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

/* Stops accepting new connections; those open go on. */
void hd_server_quiesce(struct hd_server *srv) __attribute__((nonnull));

/* Stops accepting and waits up to timeout_sec for *active (the daemon's
 * count of requests between headers and answer) to reach 0. Returns what
 * is still active then. */
int hd_server_drain(struct hd_server *srv, atomic_int *active, unsigned timeout_sec) __attribute__((nonnull));

/* Closes every connection and frees the server. Accepts NULL; returns NULL. */
struct hd_server *hd_server_free(struct hd_server *srv);

/* Hands the connected socket fd, from the client at addr, to a server
 * started with plaintext. The server owns fd from then on, even on failure
 * (-EIO). */
int hd_server_add_connection(struct hd_server *srv, int fd, const struct sockaddr *addr, socklen_t len)
        __attribute__((warn_unused_result, nonnull(1, 3)));

/* The request on conn is in: its time is no longer the client's (the
 * guard's deadline stops). respond.h calls it for every answer. */
void hd_answering(struct MHD_Connection *conn) __attribute__((nonnull));

/* "ADDR:PORT" or "[ADDR]:PORT" of conn's client, "?" when unknown. */
void hd_peer_name(struct MHD_Connection *conn, char *buf, size_t size) __attribute__((nonnull));
