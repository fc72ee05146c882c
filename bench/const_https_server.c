/* bench-const-https-server: the baseline of the webhook benchmark — the
 * libmicrohttpd + GnuTLS set-up kaas-webhook uses (a thread per
 * connection, TLS 1.2/1.3, the same priorities), answering every request
 * with one constant body after reading the request's body. What kaas-webhook
 * does on top (parse the TokenReview, ask kaasd, render the answer) is
 * what the benchmark compares.
 *
 *   bench-const-https-server PORT CERT KEY BODY_FILE
 *
 * Listens on 127.0.0.1:PORT until SIGTERM or SIGINT. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* kaas-webhook's default (webhook/settings.c) */
#define PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

static char *body;
static size_t body_len;

static char *read_file(const char *path, size_t *ret_len) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0 || st.st_size > 16 * 1024 * 1024) {
                if (fd >= 0)
                        close(fd);
                return NULL;
        }
        char *b = malloc((size_t)st.st_size + 1);
        ssize_t n = b ? read(fd, b, (size_t)st.st_size) : -1;
        close(fd);
        if (n != st.st_size) {
                free(b);
                return NULL;
        }
        b[n] = '\0';
        *ret_len = (size_t)n;
        return b;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
        static int marker;
        if (*con_cls == NULL) {
                *con_cls = &marker;  /* headers in: wait for the body */
                return MHD_YES;
        }
        if (*upload_data_size) {
                *upload_data_size = 0;  /* read and dropped */
                return MHD_YES;
        }
        struct MHD_Response *resp = MHD_create_response_from_buffer(body_len, body, MHD_RESPMEM_PERSISTENT);
        if (!resp)
                return MHD_NO;
        MHD_add_response_header(resp, "Content-Type", "application/json");
        enum MHD_Result r = MHD_queue_response(conn, MHD_HTTP_OK, resp);
        MHD_destroy_response(resp);
        return r;
}

int main(int argc, char **argv) {
        if (argc != 5) {
                fprintf(stderr, "usage: %s PORT CERT KEY BODY_FILE\n", argv[0]);
                return 2;
        }
        size_t n;
        char *cert = read_file(argv[2], &n), *key = read_file(argv[3], &n);
        body = read_file(argv[4], &body_len);
        if (!cert || !key || !body) {
                fprintf(stderr, "%s: cannot read the certificate, key or body file\n", argv[0]);
                return 1;
        }
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        pthread_sigmask(SIG_BLOCK, &set, NULL);  /* MHD's threads inherit it */
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        struct MHD_Daemon *d = MHD_start_daemon(
                MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_TLS | MHD_USE_ERROR_LOG |
                        MHD_USE_ITC,
                (uint16_t)atoi(argv[1]), NULL, NULL, on_request, NULL,
                MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                MHD_OPTION_HTTPS_MEM_CERT, cert,
                MHD_OPTION_HTTPS_MEM_KEY, key,
                MHD_OPTION_HTTPS_PRIORITIES, PRIORITIES,
                MHD_OPTION_CONNECTION_LIMIT, 256u,
                MHD_OPTION_CONNECTION_TIMEOUT, 60u,
                MHD_OPTION_END);
        if (!d) {
                fprintf(stderr, "%s: cannot start the HTTPS server on port %s\n", argv[0], argv[1]);
                return 1;
        }
        int signo;
        sigwait(&set, &signo);
        MHD_stop_daemon(d);
        return 0;
}
