/* See pool.h. One mutex and one condition variable on the monotonic clock:
 * the pool is small (at most 64) and held only to move a pointer. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "kaas.h"
#include "pool.h"

struct kaasd_pool {
        pthread_mutex_t lock;
        pthread_cond_t returned;
        unsigned size;
        unsigned n_free;
        struct kaas_client **all;
        struct kaas_client **free;
};

int kaasd_pool_new(const char *socket_path, uid_t kaasd_uid, unsigned size, int timeout_ms, struct kaasd_pool **ret) {
        if (size == 0)
                return -EINVAL;
        struct kaasd_pool *p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->all = calloc(size, sizeof(*p->all));
        p->free = calloc(size, sizeof(*p->free));
        pthread_condattr_t ca;
        if (!p->all || !p->free || pthread_condattr_init(&ca) != 0) {
                free(p->all);
                free(p->free);
                free(p);
                return -ENOMEM;
        }
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&p->returned, &ca);
        pthread_condattr_destroy(&ca);
        pthread_mutex_init(&p->lock, NULL);
        p->size = size;
        for (unsigned i = 0; i < size; i++) {
                int r = kaas_client_new(socket_path, timeout_ms, &p->all[i]);
                if (r >= 0)
                        r = kaas_client_require_kaasd(p->all[i], kaasd_uid);
                if (r < 0) {
                        kaasd_pool_free(p);
                        return r;
                }
                p->free[p->n_free++] = p->all[i];
        }
        *ret = p;
        return 0;
}

struct kaasd_pool *kaasd_pool_free(struct kaasd_pool *p) {
        if (!p)
                return NULL;
        for (unsigned i = 0; i < p->size; i++)
                kaas_client_free(p->all[i]);
        pthread_cond_destroy(&p->returned);
        pthread_mutex_destroy(&p->lock);
        free(p->all);
        free(p->free);
        free(p);
        return NULL;
}

int kaasd_pool_acquire(struct kaasd_pool *p, int wait_ms, struct kaas_client **ret) {
        struct timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += wait_ms / 1000;
        deadline.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
                deadline.tv_sec++;
                deadline.tv_nsec -= 1000000000L;
        }
        int r = 0;
        pthread_mutex_lock(&p->lock);
        while (p->n_free == 0 && r == 0)
                r = pthread_cond_timedwait(&p->returned, &p->lock, &deadline);
        if (p->n_free > 0) {
                *ret = p->free[--p->n_free];
                r = 0;
        } else
                r = -ETIMEDOUT;
        pthread_mutex_unlock(&p->lock);
        return r;
}

void kaasd_pool_release(struct kaasd_pool *p, struct kaas_client *c) {
        if (!c)
                return;
        pthread_mutex_lock(&p->lock);
        p->free[p->n_free++] = c;
        pthread_cond_signal(&p->returned);
        pthread_mutex_unlock(&p->lock);
}

void kaasd_pool_usage(struct kaasd_pool *p, unsigned *ret_busy, unsigned *ret_size) {
        pthread_mutex_lock(&p->lock);
        *ret_busy = p->size - p->n_free;
        *ret_size = p->size;
        pthread_mutex_unlock(&p->lock);
}
