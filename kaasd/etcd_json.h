/* The JSON of etcd's v3 gateway (/v3/kv/range, /v3/kv/txn, /v3/watch,
 * /v3/auth/authenticate): building request bodies and checking replies.
 * Pure functions over byte buffers, no I/O, so that every byte etcd sends
 * can be tested and fuzzed on its own. In this API keys and values are
 * base64 (decoded here with libsodium) and 64-bit integers are strings.
 *
 * Every reply is hostile until checked: a wrong type, a bad base64 or a
 * number out of range is -EBADMSG, never a crash; a key or value over its
 * bound is one record no reader takes (the key whole, the value ""), so
 * that one record cannot stop a page or a watch. Depends on jansson and libsodium. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ETCD_KEY_MAX   1024             /* bytes of a decoded key */
#define ETCD_VALUE_MAX (64 * 1024)      /* bytes of a decoded value */

struct etcd_kv {
        char *key;                      /* decoded, NUL-terminated after key_len bytes */
        size_t key_len;
        char *value;                    /* decoded, NUL-terminated; NULL for a deletion */
        size_t value_len;
        int64_t mod_revision;
};

struct etcd_event {
        bool deleted;
        struct etcd_kv kv;
};

struct etcd_range_reply {
        int64_t revision;               /* header.revision */
        struct etcd_kv *kvs;
        size_t n_kvs;
        bool more;
};

struct etcd_watch_reply {
        int64_t revision;               /* header.revision */
        bool created, canceled;
        int64_t compact_revision;       /* > 0: the requested start was compacted */
        char *cancel_reason;
        struct etcd_event *events;
        size_t n_events;
};

struct etcd_txn_reply {
        int64_t revision;
        bool succeeded;
        int64_t deleted;                /* keys its delete requests removed */
        struct etcd_kv *kvs;            /* the keys its range requests found, in order */
        size_t n_kvs;
};

void etcd_kv_clear(struct etcd_kv *kv);
void etcd_range_reply_clear(struct etcd_range_reply *r);
void etcd_watch_reply_clear(struct etcd_watch_reply *r);
void etcd_txn_reply_clear(struct etcd_txn_reply *r);

/* base64 of n bytes as a new string; NULL when out of memory. */
char *etcd_b64(const void *data, size_t n);

/* An error body ({"error":"...","code":N} or, in a stream,
 * {"error":{"grpc_code":N,"message":"..."}}): returns true and copies the
 * message (truncated, control characters replaced) into msg, with the gRPC
 * code in *ret_code. */
bool etcd_json_error(const char *body, size_t len, int *ret_code, char *msg, size_t msg_size);

int etcd_json_range_reply(const char *body, size_t len, size_t max_kvs, struct etcd_range_reply *ret);
/* A txn's reply; the kvs of its range requests (at most ETCD_TXN_MAX_KVS
 * in all) are kept, for a txn that reads what made its compare fail. */
#define ETCD_TXN_MAX_KVS 16
int etcd_json_txn_reply(const char *body, size_t len, struct etcd_txn_reply *ret);
/* One message of the watch stream: {"result":{...}}. An error message is
 * -EPROTO (see etcd_json_error()). */
int etcd_json_watch_reply(const char *body, size_t len, size_t max_events, struct etcd_watch_reply *ret);
/* The token of /v3/auth/authenticate, at most max_len bytes. */
int etcd_json_auth_reply(const char *body, size_t len, size_t max_len, char **ret_token);
