/* Authentication throttling. Each key (an OpenStack user name in a domain,
 * or a local uid) counts its attempts: an attempt counts as a failure from
 * the moment it starts, and only its success releases it, so answers that
 * never come back (or come back "unavailable") still count, and attempts in
 * flight cannot outrun the count. An exclusive attempt (a password
 * check) is refused while the key has another outstanding. From the
 * free_failures-th counted attempt within the window on, further attempts
 * are refused for a delay that doubles per attempt up to a cap, and
 * answered at once with a retry time — so an attacker is slowed down
 * without any call (his or anyone else's) waiting in kaasd. Memory is
 * bounded: a fixed table that, when full, forgets a key that is not
 * blocked first (the fewest failures, then the longest idle), a blocked
 * one only when all are (the block ending first), and never one with an
 * attempt outstanding. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* "user:" NAME "@" DOMAIN with Keystone's longest name and domain name
 * (255 bytes each, KS_NAME_MAX) and its NUL: two accounts that Keystone
 * can hold never share a key, which a shorter one would cut */
#define RATELIMIT_KEY_MAX (5 + 255 + 1 + 255 + 1)

struct ratelimit;

struct ratelimit_params {
        unsigned free_failures;   /* attempts counted before any delay */
        unsigned base_delay_sec;  /* first delay, doubled per further failure */
        unsigned max_delay_sec;
        unsigned window_sec;      /* failures older than this are forgotten */
        unsigned capacity;        /* keys remembered */
};

int ratelimit_new(const struct ratelimit_params *p, struct ratelimit **ret);
struct ratelimit *ratelimit_free(struct ratelimit *rl);

#define RATELIMIT_COUNT (1u << 0)      /* the attempt counts as a failure until it succeeds */
#define RATELIMIT_EXCLUSIVE (1u << 1)  /* refused while another attempt of the key is outstanding */

/* Starts an attempt for key at now (unix seconds, or any clock the caller
 * keeps). 0: it may proceed. -EBUSY: refused, with *ret_wait seconds to
 * wait (at least 1): the key is blocked, or (RATELIMIT_EXCLUSIVE) has an
 * attempt outstanding. -ENOSPC: every entry has an attempt outstanding. */
int ratelimit_begin(struct ratelimit *rl, const char *key, int64_t now, unsigned flags, unsigned *ret_wait);
/* Ends an attempt begun for key. success releases one counted failure
 * (with clear, every failure of the key: its owner got in). */
void ratelimit_end(struct ratelimit *rl, const char *key, bool success, bool clear);
/* Attempts refused by ratelimit_begin(). */
uint64_t ratelimit_refused(const struct ratelimit *rl);
