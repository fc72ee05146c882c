/* libcurl's multi interface on kaasd's event loop: libcurl says which
 * sockets to watch and when to call it back; these map onto loop io
 * watchers and one loop timer. Transfers that completed are handed to the
 * owner's done callback after every curl_multi_socket_action(), outside any
 * libcurl callback, so the done callback may add or remove transfers.
 *
 * Shared by the Keystone client and the etcd client, each with its own
 * multi handle (its own connection cache and limits). Depends on libcurl
 * and loop.h only. */
#pragma once

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

#include "loop.h"

struct curl_loop;

/* Called once per completed transfer with libcurl's result; easy is still
 * attached to the multi handle: remove it with curl_loop_remove(). */
typedef void (*curl_loop_done_fn)(CURL *easy, CURLcode result, void *userdata);

/* max_connections bounds the connections open at once (more transfers wait
 * inside libcurl). Calls curl_global_init(); -ENOMEM, -EIO. */
int curl_loop_new(struct loop *loop, long max_connections, curl_loop_done_fn done, void *userdata,
                  struct curl_loop **ret);
/* Frees the multi handle and its watchers; every easy handle must have
 * been removed. Accepts NULL; returns NULL. */
struct curl_loop *curl_loop_free(struct curl_loop *cl);

/* Starts the transfer; -ENOMEM when libcurl refuses it. */
int curl_loop_add(struct curl_loop *cl, CURL *easy);
void curl_loop_remove(struct curl_loop *cl, CURL *easy);

/* A reply body as a CURLOPT_WRITEFUNCTION collects it: NUL-terminated,
 * growing, never past max bytes. */
struct curl_body {
        char *data;
        size_t len, cap;
        bool too_big;
};

/* Appends n bytes to body: n, or 0 to abort the transfer (too_big set when
 * max would be passed; out of memory otherwise). */
size_t curl_body_append(struct curl_body *body, const char *data, size_t n, size_t max);

/* Wipes every entry (headers may hold a token) and frees the list;
 * accepts NULL. */
void curl_slist_free_wiped(struct curl_slist *l);
