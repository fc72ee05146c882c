/* etcd's v3 gateway JSON (kaasd/etcd_json.c) and the token records kaasd
 * keeps in etcd (kaasd/replica_record.c): replies as etcd 3.4 sends them,
 * then each way a reply or record can be wrong. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "etcd_json.h"
#include "replica_record.h"

#define HDR "\"header\":{\"cluster_id\":\"4572799909641127681\",\"member_id\":\"99172963967106787\",\"revision\":\"42\",\"raft_term\":\"2\"}"

static void test_range(void **state) {
        /* key /kaas/tokens/x, value hello */
        static const char reply[] = "{" HDR ",\"kvs\":[{\"key\":\"L2thYXMvdG9rZW5zL3g=\",\"create_revision\":\"2\","
                                    "\"mod_revision\":\"7\",\"version\":\"1\",\"value\":\"aGVsbG8=\"}],\"more\":true,\"count\":\"3\"}";
        struct etcd_range_reply r;
        assert_int_equal(etcd_json_range_reply(reply, strlen(reply), 10, &r), 0);
        assert_int_equal(r.revision, 42);
        assert_true(r.more);
        assert_int_equal(r.n_kvs, 1);
        assert_int_equal(r.kvs[0].key_len, 14);
        assert_memory_equal(r.kvs[0].key, "/kaas/tokens/x", 15);
        assert_string_equal(r.kvs[0].value, "hello");
        assert_int_equal(r.kvs[0].mod_revision, 7);
        etcd_range_reply_clear(&r);

        static const char empty[] = "{" HDR "}";
        assert_int_equal(etcd_json_range_reply(empty, strlen(empty), 10, &r), 0);
        assert_int_equal(r.n_kvs, 0);
        assert_false(r.more);
        etcd_range_reply_clear(&r);

        static const char *const bad[] = {
                "[]", "{}", "{\"header\":{}}", "{\"header\":{\"revision\":\"-1\"}}",
                "{\"header\":{\"revision\":\"99999999999999999999\"}}", "{\"header\":{\"revision\":\"1x\"}}",
                "{" HDR ",\"kvs\":{}}", "{" HDR ",\"kvs\":[{\"key\":\"!!!\"}]}", "{" HDR ",\"kvs\":[{\"key\":7}]}",
                "{" HDR ",\"kvs\":[{\"key\":\"YQ==\",\"value\":3}]}", "{" HDR ",\"more\":\"yes\"}",
                "{" HDR ",\"kvs\":[1]}", "{" HDR ",\"kvs\":[{\"key\":\"YQ==\"},{\"key\":\"YQ==\"}]}",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (etcd_json_range_reply(bad[i], strlen(bad[i]), 1, &r) != -EBADMSG)
                        fail_msg("accepted: %s", bad[i]);
}

/* A key or value past the limits is one record nobody takes, not a reply
 * to refuse: the key comes whole (a range's next page starts after it),
 * the value as "", and the records beside it as they are. */
static void test_oversized_records(void **state) {
        size_t big = ETCD_VALUE_MAX + 1, long_key = ETCD_KEY_MAX + 1;
        char *raw = malloc(big), *key = malloc(long_key);
        assert_non_null(raw);
        assert_non_null(key);
        memset(raw, 'v', big);
        memcpy(key, "/kaas/uids/", 11);
        memset(key + 11, 'k', long_key - 11);
        size_t b64_big = sodium_base64_encoded_len(big, sodium_base64_VARIANT_ORIGINAL),
               b64_key = sodium_base64_encoded_len(long_key, sodium_base64_VARIANT_ORIGINAL);
        char *vb = malloc(b64_big), *kb = malloc(b64_key);
        assert_non_null(vb);
        assert_non_null(kb);
        sodium_bin2base64(vb, b64_big, (const unsigned char *)raw, big, sodium_base64_VARIANT_ORIGINAL);
        sodium_bin2base64(kb, b64_key, (const unsigned char *)key, long_key, sodium_base64_VARIANT_ORIGINAL);
        size_t cap = b64_big + b64_key + 1024;
        char *reply = malloc(cap);
        assert_non_null(reply);
        /* /kaas/tokens/x with a value too large, the long key with "1",
         * /kaas/tokens/y with "hello" */
        snprintf(reply, cap,
                 "{" HDR ",\"kvs\":[{\"key\":\"L2thYXMvdG9rZW5zL3g=\",\"mod_revision\":\"7\",\"value\":\"%s\"},"
                 "{\"key\":\"%s\",\"mod_revision\":\"8\",\"value\":\"MQ==\"},"
                 "{\"key\":\"L2thYXMvdG9rZW5zL3k=\",\"mod_revision\":\"9\",\"value\":\"aGVsbG8=\"}],\"more\":true}",
                 vb, kb);
        struct etcd_range_reply r;
        assert_int_equal(etcd_json_range_reply(reply, strlen(reply), 10, &r), 0);
        assert_int_equal(r.n_kvs, 3);
        assert_string_equal(r.kvs[0].key, "/kaas/tokens/x");
        assert_string_equal(r.kvs[0].value, "");
        assert_int_equal(r.kvs[1].key_len, long_key);
        assert_memory_equal(r.kvs[1].key, key, long_key);
        assert_string_equal(r.kvs[1].value, "");
        assert_string_equal(r.kvs[2].value, "hello");
        etcd_range_reply_clear(&r);

        /* the same in a watch message, a deletion of the long key among them */
        snprintf(reply, cap,
                 "{\"result\":{" HDR ",\"events\":[{\"kv\":{\"key\":\"L2thYXMvdG9rZW5zL3g=\",\"mod_revision\":\"7\","
                 "\"value\":\"%s\"}},{\"type\":\"DELETE\",\"kv\":{\"key\":\"%s\",\"mod_revision\":\"8\"}},"
                 "{\"kv\":{\"key\":\"L2thYXMvdG9rZW5zL3k=\",\"mod_revision\":\"9\",\"value\":\"aGVsbG8=\"}}]}}",
                 vb, kb);
        struct etcd_watch_reply w;
        assert_int_equal(etcd_json_watch_reply(reply, strlen(reply), 10, &w), 0);
        assert_int_equal(w.n_events, 3);
        assert_string_equal(w.events[0].kv.value, "");
        assert_true(w.events[1].deleted);
        assert_int_equal(w.events[1].kv.key_len, long_key);
        assert_string_equal(w.events[2].kv.value, "hello");
        etcd_watch_reply_clear(&w);
        free(reply);
        free(vb);
        free(kb);
        free(raw);
        free(key);
}

static void test_watch(void **state) {
        static const char created[] = "{\"result\":{" HDR ",\"created\":true}}";
        struct etcd_watch_reply w;
        assert_int_equal(etcd_json_watch_reply(created, strlen(created), 10, &w), 0);
        assert_true(w.created);
        assert_int_equal(w.n_events, 0);
        etcd_watch_reply_clear(&w);

        /* a put (the gateway leaves out type PUT) and a delete */
        static const char events[] = "{\"result\":{" HDR ",\"events\":[{\"kv\":{\"key\":\"YQ==\",\"create_revision\":\"5\","
                                     "\"mod_revision\":\"5\",\"version\":\"1\",\"value\":\"Yg==\"}},{\"type\":\"DELETE\","
                                     "\"kv\":{\"key\":\"YQ==\",\"mod_revision\":\"6\"}}]}}";
        assert_int_equal(etcd_json_watch_reply(events, strlen(events), 10, &w), 0);
        assert_int_equal(w.n_events, 2);
        assert_false(w.events[0].deleted);
        assert_string_equal(w.events[0].kv.value, "b");
        assert_true(w.events[1].deleted);
        assert_null(w.events[1].kv.value);
        assert_int_equal(w.events[1].kv.mod_revision, 6);
        etcd_watch_reply_clear(&w);

        /* as etcd 3.4 sends it: no revision in the header */
        static const char compacted[] = "{\"result\":{\"header\":{\"cluster_id\":\"11927805099599008854\",\"member_id\":"
                                        "\"14810163916253387439\",\"raft_term\":\"2\"},\"canceled\":true,\"compact_revision\":\"30\"}}";
        assert_int_equal(etcd_json_watch_reply(compacted, strlen(compacted), 10, &w), 0);
        assert_true(w.canceled);
        assert_int_equal(w.compact_revision, 30);
        etcd_watch_reply_clear(&w);

        static const char error[] = "{\"error\":{\"grpc_code\":16,\"http_code\":401,\"message\":\"etcdserver: invalid auth token\"}}";
        assert_int_equal(etcd_json_watch_reply(error, strlen(error), 10, &w), -EPROTO);
        int code;
        char msg[64];
        assert_true(etcd_json_error(error, strlen(error), &code, msg, sizeof(msg)));
        assert_int_equal(code, 16);
        assert_string_equal(msg, "etcdserver: invalid auth token");

        static const char *const bad[] = {
                "{\"result\":[]}", "{\"result\":{" HDR ",\"events\":[{\"type\":\"EXPIRE\",\"kv\":{\"key\":\"YQ==\",\"mod_revision\":\"1\"}}]}}",
                "{\"result\":{" HDR ",\"events\":[{\"kv\":{\"key\":\"YQ==\",\"value\":\"Yg==\"}}]}}",  /* no revision */
                "{\"result\":{" HDR ",\"events\":[{}]}}", "{\"result\":{" HDR ",\"created\":1}}", "not json",
                "{\"result\":{\"header\":{},\"created\":true}}",  /* a revision is missing only when canceled */
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (etcd_json_watch_reply(bad[i], strlen(bad[i]), 10, &w) != -EBADMSG)
                        fail_msg("accepted: %s", bad[i]);
}

static void test_txn_auth_error(void **state) {
        static const char put[] = "{" HDR ",\"succeeded\":true,\"responses\":[{\"response_put\":{" HDR "}}]}";
        struct etcd_txn_reply t;
        assert_int_equal(etcd_json_txn_reply(put, strlen(put), &t), 0);
        assert_true(t.succeeded);
        assert_int_equal(t.revision, 42);
        static const char del[] = "{" HDR ",\"succeeded\":true,\"responses\":[{\"response_delete_range\":{" HDR
                                  ",\"deleted\":\"1\"}},{\"response_delete_range\":{" HDR "}}]}";
        assert_int_equal(etcd_json_txn_reply(del, strlen(del), &t), 0);
        assert_int_equal(t.deleted, 1);
        static const char failed[] = "{" HDR "}";
        assert_int_equal(etcd_json_txn_reply(failed, strlen(failed), &t), 0);
        assert_false(t.succeeded);
        static const char bad[] = "{" HDR ",\"responses\":[{\"response_delete_range\":{\"deleted\":\"x\"}}]}";
        assert_int_equal(etcd_json_txn_reply(bad, strlen(bad), &t), -EBADMSG);
        /* a failed compare's reads: what holds the key now */
        static const char read[] = "{" HDR ",\"responses\":[{\"response_range\":{" HDR ",\"kvs\":[{\"key\":\"YQ==\","
                                   "\"value\":\"Yg==\",\"mod_revision\":\"7\"}],\"count\":\"1\"}},{\"response_range\":{" HDR "}}]}";
        assert_int_equal(etcd_json_txn_reply(read, strlen(read), &t), 0);
        assert_int_equal(t.n_kvs, 1);
        assert_string_equal(t.kvs[0].key, "a");
        assert_string_equal(t.kvs[0].value, "b");
        etcd_txn_reply_clear(&t);
        static const char bad_range[] = "{" HDR ",\"responses\":[{\"response_range\":{\"kvs\":[{}]}}]}";
        assert_int_equal(etcd_json_txn_reply(bad_range, strlen(bad_range), &t), -EBADMSG);

        char *tok = NULL;
        static const char auth[] = "{" HDR ",\"token\":\"eqUpWQYvfeKVUWxx.26\"}";
        assert_int_equal(etcd_json_auth_reply(auth, strlen(auth), 64, &tok), 0);
        assert_string_equal(tok, "eqUpWQYvfeKVUWxx.26");
        free(tok);
        static const char crlf[] = "{\"token\":\"a\\r\\nX-Evil: 1\"}";
        assert_int_equal(etcd_json_auth_reply(crlf, strlen(crlf), 64, &tok), -EBADMSG);
        assert_int_equal(etcd_json_auth_reply(auth, strlen(auth), 4, &tok), -EBADMSG);

        int code;
        char msg[16];
        static const char perm[] = "{\"error\":\"etcdserver: permission denied\",\"code\":7,\"message\":\"etcdserver: permission\\ndenied\"}";
        assert_true(etcd_json_error(perm, strlen(perm), &code, msg, sizeof(msg)));
        assert_int_equal(code, 7);
        assert_string_equal(msg, "etcdserver: per");
        assert_false(etcd_json_error(put, strlen(put), &code, msg, sizeof(msg)));
}

/* jansson's memory, watched: whether a block freed held the secret. */
static const char *watched_secret;
static bool secret_freed;

static void *watching_malloc(size_t n) {
        size_t *p = malloc(sizeof(size_t) * 2 + n);
        if (!p)
                return NULL;
        p[0] = n;
        return p + 2;
}

static void watching_free(void *q) {
        if (!q)
                return;
        size_t *p = (size_t *)q - 2;
        size_t k = strlen(watched_secret);
        if (p[0] >= k && memmem(q, p[0], watched_secret, k))
                secret_freed = true;
        free(p);
}

/* Every reply is asked whether it is an error, the login's too: the etcd
 * auth token in it must not be left behind in freed memory either. */
static void test_auth_token_wiped(void **state) {
        static const char auth[] = "{" HDR ",\"token\":\"eqUpWQYvfeKVUWxx.26\"}";
        watched_secret = "eqUpWQYvfeKVUWxx.26";
        json_set_alloc_funcs(watching_malloc, watching_free);

        secret_freed = false;
        char *tok = NULL;
        int r = etcd_json_auth_reply(auth, strlen(auth), 64, &tok);
        bool freed_by_auth = secret_freed;
        if (tok) {
                sodium_memzero(tok, strlen(tok));
                free(tok);
        }

        secret_freed = false;
        int code;
        char msg[64];
        bool is_error = etcd_json_error(auth, strlen(auth), &code, msg, sizeof(msg));
        bool freed_by_error = secret_freed;

        json_set_alloc_funcs(malloc, free);
        assert_int_equal(r, 0);
        assert_false(freed_by_auth);
        assert_false(is_error);
        assert_false(freed_by_error);
}

/* The shared uid/gid map and last uses: what another node wrote is hostile. */
static void test_uid_and_last_used(void **state) {
        char *key = replica_uid_key("/kaas/", "a0cba8b7ca3046da8375b62192fe10ca"), *id = NULL;
        assert_string_equal(key, "/kaas/uids/a0cba8b7ca3046da8375b62192fe10ca");
        assert_int_equal(replica_uid_key_parse("/kaas/", key, strlen(key), &id), 0);
        assert_string_equal(id, "a0cba8b7ca3046da8375b62192fe10ca");
        free(id);
        free(key);
        assert_int_equal(replica_uid_key_parse("/kaas/", "/kaas/uids/role:r1", 18, &id), 0);
        free(id);
        /* a node's local reservations never come from etcd */
        assert_int_equal(replica_uid_key_parse("/kaas/", "/kaas/uids/local:1000", 21, &id), -EBADMSG);
        assert_int_equal(replica_uid_key_parse("/kaas/", "/kaas/uids/", 11, &id), -EBADMSG);
        assert_int_equal(replica_uid_key_parse("/kaas/", "/kaas/uids/a\nb", 14, &id), -EBADMSG);
        assert_int_equal(replica_uid_key_parse("/kaas/", "/kaas/tokens/x", 14, &id), -ENOENT);
        /* a number's holder is not a map entry of its own */
        key = replica_uid_number_key("/kaas/", 1879048192);
        assert_string_equal(key, "/kaas/uids/number:1879048192");
        assert_int_equal(replica_uid_key_parse("/kaas/", key, strlen(key), &id), -ENOENT);
        free(key);

        uint32_t uid;
        char *v = replica_uid_value(1879048192);
        assert_string_equal(v, "1879048192");
        assert_int_equal(replica_uid_value_parse(v, strlen(v), &uid), 0);
        assert_int_equal(uid, 1879048192);
        free(v);
        assert_int_equal(replica_uid_value_parse("4294967295", 10, &uid), 0);
        assert_int_equal(replica_uid_value_parse("4294967296", 10, &uid), -EBADMSG);
        assert_int_equal(replica_uid_value_parse("0", 1, &uid), -EBADMSG);
        assert_int_equal(replica_uid_value_parse("0100", 4, &uid), -EBADMSG);
        assert_int_equal(replica_uid_value_parse("-1", 2, &uid), -EBADMSG);
        assert_int_equal(replica_uid_value_parse("12 ", 3, &uid), -EBADMSG);
        assert_int_equal(replica_uid_value_parse("", 0, &uid), -EBADMSG);
        assert_int_equal(replica_uid_value_parse("99999999999999999999", 20, &uid), -EBADMSG);

        uint8_t hash[STORE_HASH_SIZE], back[STORE_HASH_SIZE];
        for (size_t i = 0; i < sizeof(hash); i++)
                hash[i] = (uint8_t)(i * 5);
        key = replica_last_used_key("/kaas/", "node1", hash);
        assert_int_equal(strncmp(key, "/kaas/last-used/node1/00050a0f", 30), 0);
        assert_int_equal(replica_last_used_key_parse("/kaas/", key, strlen(key), back), 0);
        assert_memory_equal(hash, back, sizeof(hash));
        assert_int_equal(replica_last_used_key_parse("/kaas/", key, strlen(key) - 1, back), -EBADMSG);
        free(key);
        assert_int_equal(replica_last_used_key_parse("/kaas/", "/kaas/last-used/node1", 21, back), -EBADMSG);
        assert_int_equal(replica_last_used_key_parse("/kaas/", "/kaas/last-used//x", 18, back), -EBADMSG);
        assert_int_equal(replica_last_used_key_parse("/kaas/", "/kaas/uids/x", 12, back), -ENOENT);
        int64_t t;
        assert_int_equal(replica_time_value_parse("1700000000", 10, &t), 0);
        assert_int_equal(t, 1700000000);
        assert_int_equal(replica_time_value_parse("99999999999999999", 17, &t), -EBADMSG);
        assert_int_equal(replica_time_value_parse("1e9", 3, &t), -EBADMSG);
}

static void test_record(void **state) {
        uint8_t hash[STORE_HASH_SIZE], back[STORE_HASH_SIZE];
        for (size_t i = 0; i < sizeof(hash); i++)
                hash[i] = (uint8_t)(i * 7);
        char *key = replica_token_key("/kaas/", hash);
        assert_non_null(key);
        assert_int_equal(strncmp(key, "/kaas/tokens/00070e15", 21), 0);
        assert_int_equal(replica_token_key_parse("/kaas/", key, strlen(key), back), 0);
        assert_memory_equal(hash, back, sizeof(hash));
        assert_int_equal(replica_token_key_parse("/kaas/", "/kaas/last-used/n/x", 19, back), -ENOENT);
        assert_int_equal(replica_token_key_parse("/other/", key, strlen(key), back), -ENOENT);
        key[strlen(key) - 1] = 'G';
        assert_int_equal(replica_token_key_parse("/kaas/", key, strlen(key), back), -EBADMSG);
        assert_int_equal(replica_token_key_parse("/kaas/", key, strlen(key) - 1, back), -EBADMSG);
        free(key);

        struct token_record rec = { .owner_id = "a0cba8b7ca3046da8375b62192fe10ca", .owner_name = "alice",
                                    .owner_domain_id = "default", .description = "laptop", .created = 1700000000,
                                    .expires = 1800000000 };
        assert_int_equal(token_id_generate(rec.token_id), 0);
        char *value = replica_token_value(&rec);
        assert_non_null(value);
        struct token_record got;
        assert_int_equal(replica_token_value_parse(value, strlen(value), &got), 0);
        assert_string_equal(got.owner_id, rec.owner_id);
        assert_string_equal(got.owner_name, "alice");
        assert_string_equal(got.token_id, rec.token_id);
        assert_int_equal(got.expires, 1800000000);
        token_record_free(&got);
        free(value);

        static const char *const bad[] = {
                "{}", "[]", "{\"owner_id\":\"a\",\"owner_name\":\"b\",\"owner_domain_id\":\"\",\"description\":\"\","
                            "\"token_id\":\"short\",\"created\":1,\"expires\":2}",
                "{\"owner_id\":\"\",\"owner_name\":\"b\",\"owner_domain_id\":\"\",\"description\":\"\","
                "\"token_id\":\"short\",\"created\":1,\"expires\":\"2\"}",
                "{\"owner_id\":\"a\\u0000b\",\"owner_name\":\"b\",\"owner_domain_id\":\"\",\"description\":\"\","
                "\"token_id\":\"short\",\"created\":1,\"expires\":2}",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (replica_token_value_parse(bad[i], strlen(bad[i]), &got) != -EBADMSG)
                        fail_msg("accepted: %s", bad[i]);
}

int main(void) {
        if (sodium_init() < 0)
                return 1;
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_range),
                cmocka_unit_test(test_oversized_records),
                cmocka_unit_test(test_watch),
                cmocka_unit_test(test_txn_auth_error),
                cmocka_unit_test(test_auth_token_wiped),
                cmocka_unit_test(test_record),
                cmocka_unit_test(test_uid_and_last_used),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
