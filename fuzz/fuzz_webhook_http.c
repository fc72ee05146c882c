/* Fuzz target: kaas-webhook's HTTP handling (webhook/server.c with the
 * guard, the review and the kaasd pool) behind libmicrohttpd, in-process.
 *
 * Input: what one client sends on one connection: request line, headers,
 * body, possibly several pipelined requests, or garbage.
 *
 * The server is started once, in the harness's plaintext mode
 * (wh_settings.fuzz_plaintext: no TLS, no listening socket). Per input, one
 * end of a socketpair() goes to the server as a connection from
 * 127.0.0.x; the harness writes the input on the other end, shuts its
 * writing side once the server has gone quiet (QUIET_MS) and reads the
 * answers until the server closes. kaasd's socket does not
 * exist, so /healthz and well-formed reviews fail fast ("kaasd
 * unavailable"): the subject is the HTTP layer, not the decision.
 *
 * Properties: the bytes received are a sequence of well-formed HTTP/1.x
 * responses (status line with a 3-digit code, header lines, a
 * Content-Length the body matches; the body is left out only when the
 * input could have asked with HEAD); every status is one the server or
 * libmicrohttpd sends (never 401/403: no client CA is configured); a
 * token-looking string of the input ("kaas_...") never comes back; the
 * connection ends in bounded time. Plus no crash, leak or UB (sanitizers).
 *
 * KAAS_FUZZ_VERBOSE=1 in the environment shows the webhook's log (debug)
 * and each response. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"
#include "kaas.h"
#include "httpd/log.h"
#include "httpd/pool.h"
#include "webhook/review.h"
#include "webhook/server.h"
#include "webhook/settings.h"

/* a connection's whole exchange: far over the server's own timeouts
 * (1 s), so reaching it means the server hung */
#define EXCHANGE_TIMEOUT_MS 8000
#define RESPONSE_MAX (4u * 1024u * 1024u)
/* no byte from the server for this long once the input is sent: it has
 * served what it could, and the harness ends its side of the stream */
#define QUIET_MS 1

static struct wh_server *server;
static struct wh_settings *settings;
static struct kaasd_pool *pool;
static struct wh_reviewer reviewer;
static unsigned n_inputs;
static bool verbose;

static const char *const audiences[] = { "https://kubernetes.default.svc", "kaas" };

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        (void)argc;
        (void)argv;
        char err[600];
        const char *v = getenv("KAAS_FUZZ_VERBOSE");
        verbose = v && *v == '1';
        signal(SIGPIPE, SIG_IGN);
        hd_log_setup("kaas-webhook", HD_LOG_STDERR, verbose ? LOG_DEBUG : LOG_ERR);
        if (wh_settings_new(&settings) < 0)
                abort();
        /* small limits and timeouts, so that every path is cheap to reach */
        settings->fuzz_plaintext = true;
        settings->max_body_size = 1024;
        settings->connection_timeout_sec = 1;
        settings->request_timeout_sec = 1;
        settings->max_connections = 64;
        settings->max_connections_per_client = 4;
        settings->kaasd_connections = 2;
        settings->kaasd_timeout_sec = 1;
        if (wh_settings_set(&settings->kaasd_socket, "/nonexistent/kaas-fuzz/kaasd.socket") < 0)
                abort();
        if (kaasd_pool_new(settings->kaasd_socket, KAAS_UID_INVALID, settings->kaasd_connections,
                           (int)settings->kaasd_timeout_sec * 1000, &pool) < 0)
                abort();
        reviewer = (struct wh_reviewer){
                .pool = pool,
                .kaasd_uid = KAAS_UID_INVALID,
                .timeout_ms = (int)settings->kaasd_timeout_sec * 1000,
                .audiences = audiences,
                .n_audiences = sizeof(audiences) / sizeof(audiences[0]),
                .user_options = { .group_prefix = "kaas:", .role_names = true },
        };
        if (wh_server_start(settings, &reviewer, &server, err, sizeof(err)) < 0) {
                fprintf(stderr, "fuzz_webhook_http: %s\n", err);
                abort();
        }
        return 0;
}

static long long now_ms(void) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Sends the input on a fresh connection and returns what came back until
 * the server closed it (malloc'd, *len bytes). */
static char *exchange(const uint8_t *data, size_t size, size_t *len) {
        int sv[2];
        FUZZ_ASSERT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
        /* a different 127.0.0.x for each connection: the guard's limit per
         * client address holds connections libmicrohttpd has not cleaned
         * up yet */
        struct sockaddr_in peer = {
                .sin_family = AF_INET,
                .sin_port = htons((uint16_t)(40000 + n_inputs % 20000)),
                .sin_addr.s_addr = htonl(0x7f000001u + n_inputs % 200),
        };
        n_inputs++;
        int r = wh_server_add_connection(server, sv[1], (const struct sockaddr *)&peer, sizeof(peer));
        FUZZ_ASSERT(r == 0);

        size_t cap = 16384, got = 0, sent = 0;
        char *out = malloc(cap);
        FUZZ_ASSERT(out);
        /* writing: input left to send; shut: our side is shut down */
        bool writing = size > 0, shut = false, done = false;
        long long deadline = now_ms() + EXCHANGE_TIMEOUT_MS;
        while (!done) {
                long long left = deadline - now_ms();
                FUZZ_ASSERT(left > 0); /* the server neither answered nor closed */
                struct pollfd p = { .fd = sv[0], .events = POLLIN | (writing ? POLLOUT : 0) };
                /* all sent: the end of the stream only once the server has
                 * gone quiet, since libmicrohttpd answers one more request
                 * at most after it (Connection: close) and the pipelined
                 * ones would never be served */
                int n = poll(&p, 1, writing || shut ? (int)left : QUIET_MS);
                if (n < 0 && errno == EINTR)
                        continue;
                FUZZ_ASSERT(n >= 0);
                if (n == 0 && !writing && !shut) {
                        (void)shutdown(sv[0], SHUT_WR);
                        shut = true;
                        continue;
                }
                if (writing && (p.revents & (POLLOUT | POLLERR | POLLHUP))) {
                        ssize_t w = send(sv[0], data + sent, size - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
                        if (w > 0)
                                sent += (size_t)w;
                        /* the server may close before it read everything */
                        if (w < 0 && errno != EAGAIN && errno != EINTR) {
                                (void)shutdown(sv[0], SHUT_WR);
                                shut = true;
                        }
                        if (shut || sent == size)
                                writing = false;
                }
                if (p.revents & (POLLIN | POLLERR | POLLHUP)) {
                        if (cap - got < 4096) {
                                FUZZ_ASSERT(cap < RESPONSE_MAX);
                                cap *= 2;
                                out = realloc(out, cap);
                                FUZZ_ASSERT(out);
                        }
                        ssize_t rd = recv(sv[0], out + got, cap - got, MSG_DONTWAIT);
                        if (rd > 0)
                                got += (size_t)rd;
                        else if (rd == 0 || (errno != EAGAIN && errno != EINTR))
                                done = true;
                }
        }
        close(sv[0]);
        *len = got;
        return out;
}

static bool status_expected(unsigned code) {
        switch (code) {
        case 100: /* Expect: 100-continue, from libmicrohttpd */
        case 200: /* /healthz, /metrics, a review (kaasd's failure included) */
        case 400: /* a malformed review; libmicrohttpd: a malformed request */
        case 404:
        case 405:
        case 413: /* the review body's limit; libmicrohttpd: a chunk too large */
        case 414: /* libmicrohttpd: request line too long */
        case 431: /* libmicrohttpd: headers too large */
        case 501: /* libmicrohttpd: a Transfer-Encoding it does not know */
        case 503: /* /healthz without kaasd */
        case 505: /* libmicrohttpd: an HTTP version it does not speak */
                return true;
        default:
                return false;
        }
}

static const char *find_crlf(const char *p, const char *end) {
        for (; p + 1 < end; p++)
                if (p[0] == '\r' && p[1] == '\n')
                        return p;
        return NULL;
}

/* Checks the responses in out[0..len) one after the other. */
static void check_responses(const char *out, size_t len, bool head_possible) {
        const char *p = out, *end = out + len;
        while (p < end) {
                const char *start = p;
                /* status line: HTTP/1.x NNN reason */
                const char *eol = find_crlf(p, end);
                FUZZ_ASSERT(eol);
                FUZZ_ASSERT(eol - p >= 12 && memcmp(p, "HTTP/1.", 7) == 0 && (p[7] == '0' || p[7] == '1') &&
                            p[8] == ' ');
                FUZZ_ASSERT(p[9] >= '1' && p[9] <= '5' && p[10] >= '0' && p[10] <= '9' && p[11] >= '0' &&
                            p[11] <= '9' && (eol - p == 12 || p[12] == ' '));
                unsigned code = (unsigned)(p[9] - '0') * 100 + (unsigned)(p[10] - '0') * 10 + (unsigned)(p[11] - '0');
                if (!status_expected(code)) {
                        fprintf(stderr, "unexpected status %u\n", code);
                        FUZZ_ASSERT(status_expected(code));
                }
                FUZZ_ASSERT(code != 401 && code != 403);
                p = eol + 2;
                /* headers up to an empty line */
                long long content_length = -1;
                for (;;) {
                        eol = find_crlf(p, end);
                        FUZZ_ASSERT(eol);
                        if (eol == p)
                                break;
                        const char *colon = memchr(p, ':', (size_t)(eol - p));
                        FUZZ_ASSERT(colon && colon > p);
                        for (const char *c = p; c < eol; c++)
                                FUZZ_ASSERT(*c != '\n' && *c != '\r' && *c != '\0');
                        if ((size_t)(colon - p) == strlen("Content-Length") &&
                            strncasecmp(p, "Content-Length", (size_t)(colon - p)) == 0) {
                                const char *v = colon + 1;
                                while (v < eol && *v == ' ')
                                        v++;
                                FUZZ_ASSERT(content_length < 0 && v < eol);
                                content_length = 0;
                                for (; v < eol; v++) {
                                        FUZZ_ASSERT(*v >= '0' && *v <= '9' && content_length < RESPONSE_MAX);
                                        content_length = content_length * 10 + (*v - '0');
                                }
                        }
                        /* libmicrohttpd answers from buffers: never chunked */
                        FUZZ_ASSERT(!((size_t)(colon - p) == strlen("Transfer-Encoding") &&
                                      strncasecmp(p, "Transfer-Encoding", (size_t)(colon - p)) == 0));
                        p = eol + 2;
                }
                p = eol + 2;
                if (code == 100) {
                        FUZZ_ASSERT(content_length < 0);
                        continue;
                }
                /* every final response carries its length */
                FUZZ_ASSERT(content_length >= 0);
                /* libmicrohttpd 0.9.75 (Debian 12) sends the header block of
                 * its own error responses (a malformed Content-Length, ...)
                 * twice, the body once: a library defect, seen over TCP too */
                size_t header_len = (size_t)(p - start);
                if (code >= 400 && (size_t)(end - p) >= header_len && memcmp(p, start, header_len) == 0)
                        p += header_len;
                size_t left = (size_t)(end - p);
                /* a HEAD answer has the length and no body: the next status
                 * line (or the end) follows at once */
                if (content_length > 0 && head_possible &&
                    (left == 0 || (left >= 7 && memcmp(p, "HTTP/1.", 7) == 0)))
                        continue;
                FUZZ_ASSERT((size_t)content_length <= left);
                p += content_length;
        }
}

/* The input's token-looking strings ("kaas_" and at least 19 more
 * characters of the tokens' base62 alphabet) must not come back. The
 * fixed texts the server sends hold none: its metric names go on with
 * "_" after a few letters. */
static void check_no_token(const uint8_t *data, size_t size, const char *out, size_t len) {
        static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        const uint8_t *p = data, *end = data + size;
        while ((p = memmem(p, (size_t)(end - p), "kaas_", 5))) {
                size_t n = 5;
                while (p + n < end && p[n] && strchr(alphabet, p[n]))
                        n++;
                if (n >= 24)
                        FUZZ_ASSERT(!memmem(out, len, p, n));
                p += 5;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        size_t len = 0;
        char *out = exchange(data, size, &len);
        if (verbose) {
                fprintf(stderr, "--- response (%zu bytes)\n", len);
                fwrite(out, 1, len, stderr);
                fprintf(stderr, "\n---\n");
        }
        check_responses(out, len, memmem(data, size, "HEAD", 4) != NULL);
        check_no_token(data, size, out, len);
        free(out);
        return 0;
}
