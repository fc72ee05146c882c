/* A client of etcd's v3 JSON gateway over HTTPS, on libcurl's multi
 * interface inside kaasd's event loop (curl_loop.h), as the Keystone client
 * is. Range reads, transactions, and watches as one streaming response.
 *
 * kaasd presents its client certificate (TLS, --client-cert-auth) and logs
 * in as its etcd user with a password read from a 0600 file on every login
 * (POST /v3/auth/authenticate); etcd's RBAC decides what that user may
 * touch. The auth token is kept in memory only, wiped when replaced, and
 * sent in the Authorization header; a call refused for an expired token
 * logs in again and is retried once.
 *
 * Endpoints are tried in turn: a call that cannot connect moves to the
 * next endpoint (and is retried there, since nothing was sent); any other
 * failure is reported, and the next call starts on the next endpoint.
 *
 * Callbacks run from the event loop, never inside libcurl and never before
 * the call that started them returned. A call completes through done
 * exactly once unless cancelled first (etcd_cancel(): no callback).
 *
 * Errors (result.status):
 *   -EHOSTUNREACH  no etcd member answered (connect, TLS), or etcd has no
 *                  leader now
 *   -ETIMEDOUT     no answer within the timeout
 *   -EACCES        etcd refused: permission denied for this user
 *   -EKEYREJECTED  the login was refused (user or password)
 *   -EPROTO        another etcd error (text in result.error)
 *   -EBADMSG       a reply of the wrong shape; -EMSGSIZE one too large
 *   -ECANCELED     a watch stopped by its callback
 * etcd_error_is_unavailable() tells "etcd cannot answer now" apart. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config_file.h"
#include "etcd_json.h"
#include "loop.h"

struct etcd_client;
struct etcd_request;

struct etcd_result {
        int status;
        const char *error;              /* for logs when status < 0; no secrets */
        int64_t revision;               /* header.revision of the reply */
        const struct etcd_range_reply *range;   /* etcd_range() */
        const struct etcd_txn_reply *txn;       /* etcd_txn() */
        const char *endpoint;           /* the member that answered (or was tried last) */
};

typedef void (*etcd_done_fn)(const struct etcd_result *result, void *userdata);
/* One message of a watch stream. Return 0 to go on, < 0 to end the stream
 * (done then reports -ECANCELED). It must not etcd_cancel() its own watch
 * (return < 0 instead); it may start and cancel other calls. */
typedef int (*etcd_watch_fn)(const struct etcd_watch_reply *reply, void *userdata);

struct etcd_counters {
        uint64_t requests, failures, logins, watch_messages;
};

int etcd_client_new(struct loop *loop, const struct config *c, struct etcd_client **ret, char *err,
                    size_t err_size);
/* Cancels every call (no callback runs) and frees. Accepts NULL. */
struct etcd_client *etcd_client_free(struct etcd_client *ec);

/* Keys [key, range_end) (range_end NULL: key alone) at revision (0:
 * latest), at most limit (0: no limit) keys in key order. */
int etcd_range(struct etcd_client *ec, const char *key, size_t key_len, const char *range_end,
               size_t range_end_len, int64_t revision, int64_t limit, etcd_done_fn done, void *userdata,
               struct etcd_request **ret_req);

/* A transaction given as the gateway's JSON (keys and values already in
 * base64); the caller keeps body. */
int etcd_txn(struct etcd_client *ec, const char *body, etcd_done_fn done, void *userdata,
             struct etcd_request **ret_req);

/* Watches [key, range_end) from start_revision; on_message gets every
 * message in order; done reports the end of the stream. */
int etcd_watch(struct etcd_client *ec, const char *key, size_t key_len, const char *range_end,
               size_t range_end_len, int64_t start_revision, etcd_watch_fn on_message, etcd_done_fn done,
               void *userdata, struct etcd_request **ret_req);

/* The callbacks of req will not run. Accepts NULL. */
void etcd_cancel(struct etcd_request *req);
/* The member req went to (or will go to first); valid as long as the client. */
const char *etcd_request_endpoint(const struct etcd_request *req);

bool etcd_error_is_unavailable(int status);
const struct etcd_counters *etcd_client_counters(const struct etcd_client *ec);
/* The endpoint the next call goes to. */
const char *etcd_client_endpoint(const struct etcd_client *ec);
