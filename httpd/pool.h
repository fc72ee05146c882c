/* A fixed set of libkaas connections to kaasd shared by the connection
 * threads of an HTTPS daemon (kaas-webhook, kaas-panel), so that one slow
 * answer (kaasd waiting on Keystone) holds up one connection, not every
 * request. A thread borrows a client, makes its
 * calls and gives it back; libkaas reconnects a client by itself after a
 * failure. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

struct kaas_client;
struct kaasd_pool;

/* size clients for socket_path (NULL: libkaas's default), each call bounded
 * by timeout_ms, each talking only to a kaasd of root's or kaasd_uid's
 * (kaas_client_require_kaasd()). Nothing connects yet. Returns 0 or a
 * negative errno. */
int kaasd_pool_new(const char *socket_path, uid_t kaasd_uid, unsigned size, int timeout_ms, struct kaasd_pool **ret)
        __attribute__((warn_unused_result, nonnull(5)));

/* Frees the clients; no thread may still hold one. Accepts NULL. */
struct kaasd_pool *kaasd_pool_free(struct kaasd_pool *p);

/* Borrows a client, waiting at most wait_ms for one to come back.
 * -ETIMEDOUT when none did. */
int kaasd_pool_acquire(struct kaasd_pool *p, int wait_ms, struct kaas_client **ret)
        __attribute__((warn_unused_result, nonnull));

void kaasd_pool_release(struct kaasd_pool *p, struct kaas_client *c);

/* Clients lent out now, and the pool's size. */
void kaasd_pool_usage(struct kaasd_pool *p, unsigned *ret_busy, unsigned *ret_size);
