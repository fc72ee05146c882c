/* See respond.h. */
#include "config.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "respond.h"
#include "server.h"

static void add_headers(struct MHD_Response *resp, const struct hd_header *h) {
        for (; h && h->name; h++)
                MHD_add_response_header(resp, h->name, h->value);
}

/* Answers carry tokens (a TokenReview, a new token's page): wiped when
 * libmicrohttpd is done with them. */
static void free_wiped(void *p) {
        if (!p)
                return;
        explicit_bzero(p, malloc_usable_size(p));
        free(p);
}

static enum MHD_Result queue(struct MHD_Connection *conn, unsigned code, const char *content_type,
                             struct MHD_Response *resp, const struct hd_header *policy,
                             const struct hd_header *extra) {
        /* an answer follows the whole request (or ends the connection) */
        hd_answering(conn);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
        MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
        add_headers(resp, policy);
        add_headers(resp, extra);
        enum MHD_Result ret = MHD_queue_response(conn, code, resp);
        MHD_destroy_response(resp);
        return ret;
}

enum MHD_Result hd_respond(struct MHD_Connection *conn, unsigned code, const char *content_type, char *body,
                           size_t len, const struct hd_header *policy, const struct hd_header *extra) {
        struct MHD_Response *resp = MHD_create_response_from_buffer_with_free_callback(len, body, free_wiped);
        if (!resp) {
                free_wiped(body);
                return MHD_NO;
        }
        return queue(conn, code, content_type, resp, policy, extra);
}

enum MHD_Result hd_respond_static(struct MHD_Connection *conn, unsigned code, const char *content_type,
                                  const void *data, size_t len, const struct hd_header *policy,
                                  const struct hd_header *extra) {
        struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_PERSISTENT);
        if (!resp)
                return MHD_NO;
        return queue(conn, code, content_type, resp, policy, extra);
}

enum MHD_Result hd_respond_text(struct MHD_Connection *conn, unsigned code, const char *text,
                                const struct hd_header *policy, const struct hd_header *extra) {
        char *body = strdup(text);
        if (!body)
                return MHD_NO;
        return hd_respond(conn, code, "text/plain; charset=utf-8", body, strlen(body), policy, extra);
}
