/* See respond.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "respond.h"
#include "server.h"

static void add_headers(struct MHD_Response *resp, const struct hd_header *h) {
        for (; h && h->name; h++)
                MHD_add_response_header(resp, h->name, h->value);
}

enum MHD_Result hd_respond(struct MHD_Connection *conn, unsigned code, const char *content_type, char *body,
                           size_t len, const struct hd_header *policy, const struct hd_header *extra) {
        struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
        if (!resp) {
                free(body);
                return MHD_NO;
        }
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

enum MHD_Result hd_respond_text(struct MHD_Connection *conn, unsigned code, const char *text,
                                const struct hd_header *policy, const struct hd_header *extra) {
        char *body = strdup(text);
        if (!body)
                return MHD_NO;
        return hd_respond(conn, code, "text/plain; charset=utf-8", body, strlen(body), policy, extra);
}
