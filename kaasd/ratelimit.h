/* Failed-authentication throttling. Each key (an OpenStack user name in a
 * domain, or a local uid) collects failures; from the third one within the
 * window on, further attempts are refused for a delay that doubles with
 * each failure up to a cap, and answered at once with a retry time — so an
 * attacker is slowed down without any call (his or anyone else's) waiting
 * in kaasd. Memory is bounded: a fixed table whose oldest entries are
 * forgotten first. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define RATELIMIT_KEY_MAX 320

struct ratelimit;

struct ratelimit_params {
        unsigned free_failures;   /* failures before any delay */
        unsigned base_delay_sec;  /* first delay, doubled per further failure */
        unsigned max_delay_sec;
        unsigned window_sec;      /* failures older than this are forgotten */
        unsigned capacity;        /* keys remembered */
};

int ratelimit_new(const struct ratelimit_params *p, struct ratelimit **ret);
struct ratelimit *ratelimit_free(struct ratelimit *rl);

/* 0 when an attempt for key may proceed at now (unix seconds), else the
 * number of seconds to wait. */
unsigned ratelimit_check(struct ratelimit *rl, const char *key, int64_t now);
void ratelimit_failure(struct ratelimit *rl, const char *key, int64_t now);
/* A success clears the key's failures. */
void ratelimit_success(struct ratelimit *rl, const char *key);
uint64_t ratelimit_refused(const struct ratelimit *rl);
