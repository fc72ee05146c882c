/* etcd v3 gateway JSON; see etcd_json.h. */
#include "config.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcd_json.h"

void etcd_kv_clear(struct etcd_kv *kv) {
        free(kv->key);
        free(kv->value);
        *kv = (struct etcd_kv){ 0 };
}

void etcd_range_reply_clear(struct etcd_range_reply *r) {
        for (size_t i = 0; i < r->n_kvs; i++)
                etcd_kv_clear(&r->kvs[i]);
        free(r->kvs);
        *r = (struct etcd_range_reply){ 0 };
}

void etcd_watch_reply_clear(struct etcd_watch_reply *r) {
        for (size_t i = 0; i < r->n_events; i++)
                etcd_kv_clear(&r->events[i].kv);
        free(r->events);
        free(r->cancel_reason);
        *r = (struct etcd_watch_reply){ 0 };
}

void etcd_txn_reply_clear(struct etcd_txn_reply *r) {
        for (size_t i = 0; i < r->n_kvs; i++)
                etcd_kv_clear(&r->kvs[i]);
        free(r->kvs);
        *r = (struct etcd_txn_reply){ 0 };
}

char *etcd_b64(const void *data, size_t n) {
        size_t size = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
        char *s = malloc(size);
        if (!s)
                return NULL;
        return sodium_bin2base64(s, size, data, n, sodium_base64_VARIANT_ORIGINAL);
}

/* base64 text → bytes (NUL-terminated copy), at most max bytes. */
static int b64_decode(const char *s, size_t max, char **ret, size_t *ret_len) {
        size_t n = strlen(s);
        if (n / 4 * 3 > max + 3)
                return -EBADMSG;
        char *out = malloc(n / 4 * 3 + 4);
        if (!out)
                return -ENOMEM;
        size_t len = 0;
        const char *end = NULL;
        if (sodium_base642bin((unsigned char *)out, n / 4 * 3 + 3, s, n, NULL, &len, &end,
                              sodium_base64_VARIANT_ORIGINAL) != 0 ||
            end != s + n || len > max) {
                free(out);
                return -EBADMSG;
        }
        out[len] = '\0';
        *ret = out;
        *ret_len = len;
        return 0;
}

/* An int64 the gateway writes as a decimal string (or, leniently, a JSON
 * integer); absent = 0. Negative values are refused. */
static int get_int64(json_t *obj, const char *name, int64_t *ret) {
        json_t *v = json_object_get(obj, name);
        if (!v) {
                *ret = 0;
                return 0;
        }
        if (json_is_integer(v)) {
                if (json_integer_value(v) < 0)
                        return -EBADMSG;
                *ret = (int64_t)json_integer_value(v);
                return 0;
        }
        const char *s = json_string_value(v);
        if (!s || !*s || strlen(s) > 19 || strspn(s, "0123456789") != strlen(s))
                return -EBADMSG;
        unsigned long long n = strtoull(s, NULL, 10);
        if (n > INT64_MAX)
                return -EBADMSG;
        *ret = (int64_t)n;
        return 0;
}

static int get_bool(json_t *obj, const char *name, bool *ret) {
        json_t *v = json_object_get(obj, name);
        if (v && !json_is_boolean(v))
                return -EBADMSG;
        *ret = v && json_is_true(v);
        return 0;
}

static int header_revision(json_t *obj, int64_t *ret) {
        json_t *h = json_object_get(obj, "header");
        if (!json_is_object(h))
                return -EBADMSG;
        int r = get_int64(h, "revision", ret);
        return r < 0 ? r : (*ret > 0 ? 0 : -EBADMSG);
}

/* One key-value. A key or value past ETCD_KEY_MAX or ETCD_VALUE_MAX is
 * one record kaasd cannot take, not a reply to refuse: the key is decoded
 * whole (bounded by the reply's size; a range's next page starts after
 * it) and the value given as "", which no record reader takes, so that
 * the record is counted as ignored and the rest of the reply (a page, a
 * watch message: every node's replication) goes on. */
static int parse_kv(json_t *o, bool want_value, struct etcd_kv *ret) {
        struct etcd_kv kv = { 0 };
        const char *k = json_string_value(json_object_get(o, "key"));
        json_t *v = json_object_get(o, "value");
        int r;
        if (!json_is_object(o) || !k || (v && !json_is_string(v)))
                return -EBADMSG;
        if ((r = b64_decode(k, strlen(k), &kv.key, &kv.key_len)) < 0 ||
            (r = get_int64(o, "mod_revision", &kv.mod_revision)) < 0)
                goto fail;
        if (want_value) {
                const char *value = v ? json_string_value(v) : "";
                if ((r = b64_decode(value, strlen(value), &kv.value, &kv.value_len)) < 0)
                        goto fail;
                if (kv.key_len > ETCD_KEY_MAX || kv.value_len > ETCD_VALUE_MAX) {
                        sodium_memzero(kv.value, kv.value_len);
                        kv.value[0] = '\0';
                        kv.value_len = 0;
                }
        }
        *ret = kv;
        return 0;
fail:
        etcd_kv_clear(&kv);
        return r;
}

static json_t *load(const char *body, size_t len) {
        json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
        if (j && !json_is_object(j)) {
                json_decref(j);
                return NULL;
        }
        return j;
}

/* A login's reply holds etcd's auth token, a secret: jansson's copy of it
 * is wiped before the document is freed, whoever parsed the reply. */
static void wipe_token(json_t *j) {
        json_t *v = json_object_get(j, "token");
        if (json_is_string(v))
                sodium_memzero((char *)json_string_value(v), json_string_length(v));
}

bool etcd_json_error(const char *body, size_t len, int *ret_code, char *msg, size_t msg_size) {
        json_t *j = load(body, len);
        json_t *e = j ? json_object_get(j, "error") : NULL;
        const char *m = NULL;
        json_t *code = NULL;
        if (json_is_string(e)) {
                m = json_string_value(json_object_get(j, "message"));
                if (!m)
                        m = json_string_value(e);
                code = json_object_get(j, "code");
        } else if (json_is_object(e)) {
                m = json_string_value(json_object_get(e, "message"));
                code = json_object_get(e, "grpc_code");
        }
        bool found = m != NULL;
        if (found) {
                *ret_code = json_is_integer(code) ? (int)json_integer_value(code) : 0;
                snprintf(msg, msg_size, "%s", m);
                for (char *p = msg; *p; p++)
                        if ((unsigned char)*p < 0x20 || *p == 0x7f)
                                *p = '?';
        }
        wipe_token(j);
        json_decref(j);
        return found;
}

int etcd_json_range_reply(const char *body, size_t len, size_t max_kvs, struct etcd_range_reply *ret) {
        struct etcd_range_reply rr = { 0 };
        json_t *j = load(body, len);
        int r = -EBADMSG;
        if (!j)
                return -EBADMSG;
        if ((r = header_revision(j, &rr.revision)) < 0 || (r = get_bool(j, "more", &rr.more)) < 0)
                goto out;
        json_t *kvs = json_object_get(j, "kvs");
        if (kvs && (!json_is_array(kvs) || json_array_size(kvs) > max_kvs)) {
                r = -EBADMSG;
                goto out;
        }
        size_t n = kvs ? json_array_size(kvs) : 0;
        if (n > 0 && !(rr.kvs = calloc(n, sizeof(*rr.kvs)))) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t i = 0; i < n; i++) {
                if ((r = parse_kv(json_array_get(kvs, i), true, &rr.kvs[i])) < 0)
                        goto out;
                rr.n_kvs++;
        }
        r = 0;
        *ret = rr;
        rr = (struct etcd_range_reply){ 0 };
out:
        etcd_range_reply_clear(&rr);
        json_decref(j);
        return r;
}

/* Appends the kvs of one range response of a txn to t. */
static int txn_range_kvs(json_t *range, struct etcd_txn_reply *t) {
        json_t *kvs = json_object_get(range, "kvs");
        if (!json_is_object(range) || (kvs && !json_is_array(kvs)))
                return -EBADMSG;
        size_t n = kvs ? json_array_size(kvs) : 0;
        if (n == 0)
                return 0;
        if (n > ETCD_TXN_MAX_KVS - t->n_kvs)
                return -EBADMSG;
        if (!t->kvs && !(t->kvs = calloc(ETCD_TXN_MAX_KVS, sizeof(*t->kvs))))
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                int r = parse_kv(json_array_get(kvs, i), true, &t->kvs[t->n_kvs]);
                if (r < 0)
                        return r;
                t->n_kvs++;
        }
        return 0;
}

int etcd_json_txn_reply(const char *body, size_t len, struct etcd_txn_reply *ret) {
        struct etcd_txn_reply t = { 0 };
        json_t *j = load(body, len);
        int r = j ? header_revision(j, &t.revision) : -EBADMSG;
        if (r == 0)
                r = get_bool(j, "succeeded", &t.succeeded);
        json_t *responses = r == 0 ? json_object_get(j, "responses") : NULL;
        if (responses && !json_is_array(responses))
                r = -EBADMSG;
        size_t i;
        json_t *resp;
        json_array_foreach(responses, i, resp) {
                json_t *del = json_object_get(resp, "response_delete_range");
                json_t *range = json_object_get(resp, "response_range");
                int64_t n = 0;
                if (r == 0 && del && (!json_is_object(del) || get_int64(del, "deleted", &n) < 0 ||
                                      n > INT64_MAX - t.deleted))
                        r = -EBADMSG;
                if (r == 0)
                        t.deleted += n;
                if (r == 0 && range)
                        r = txn_range_kvs(range, &t);
        }
        json_decref(j);
        if (r == 0)
                *ret = t;
        else
                etcd_txn_reply_clear(&t);
        return r;
}

int etcd_json_watch_reply(const char *body, size_t len, size_t max_events, struct etcd_watch_reply *ret) {
        struct etcd_watch_reply w = { 0 };
        json_t *j = load(body, len);
        int r = -EBADMSG;
        if (!j)
                return -EBADMSG;
        json_t *res = json_object_get(j, "result");
        if (!json_is_object(res)) {
                r = json_object_get(j, "error") ? -EPROTO : -EBADMSG;
                goto out;
        }
        /* etcd leaves the revision out of the header of a canceled watch */
        json_t *h = json_object_get(res, "header");
        if (!json_is_object(h)) {
                r = -EBADMSG;
                goto out;
        }
        if ((r = get_int64(h, "revision", &w.revision)) < 0 || (r = get_bool(res, "created", &w.created)) < 0 ||
            (r = get_bool(res, "canceled", &w.canceled)) < 0 ||
            (r = get_int64(res, "compact_revision", &w.compact_revision)) < 0)
                goto out;
        if (w.revision == 0 && !w.canceled) {
                r = -EBADMSG;
                goto out;
        }
        const char *reason = json_string_value(json_object_get(res, "cancel_reason"));
        if (reason && !(w.cancel_reason = strndup(reason, 256))) {
                r = -ENOMEM;
                goto out;
        }
        json_t *events = json_object_get(res, "events");
        if (events && (!json_is_array(events) || json_array_size(events) > max_events)) {
                r = -EBADMSG;
                goto out;
        }
        size_t n = events ? json_array_size(events) : 0;
        if (n > 0 && !(w.events = calloc(n, sizeof(*w.events)))) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t i = 0; i < n; i++) {
                json_t *e = json_array_get(events, i);
                json_t *type = json_object_get(e, "type");
                const char *t = json_string_value(type);
                if (!json_is_object(e) || (type && !t) || (t && strcmp(t, "PUT") != 0 && strcmp(t, "DELETE") != 0)) {
                        r = -EBADMSG;
                        goto out;
                }
                /* the gateway leaves out the default, PUT */
                w.events[i].deleted = t && strcmp(t, "DELETE") == 0;
                if ((r = parse_kv(json_object_get(e, "kv"), !w.events[i].deleted, &w.events[i].kv)) < 0)
                        goto out;
                if (w.events[i].kv.mod_revision <= 0) {
                        etcd_kv_clear(&w.events[i].kv);
                        r = -EBADMSG;
                        goto out;
                }
                w.n_events++;
        }
        r = 0;
        *ret = w;
        w = (struct etcd_watch_reply){ 0 };
out:
        etcd_watch_reply_clear(&w);
        json_decref(j);
        return r;
}

int etcd_json_auth_reply(const char *body, size_t len, size_t max_len, char **ret_token) {
        json_t *j = load(body, len);
        const char *t = j ? json_string_value(json_object_get(j, "token")) : NULL;
        int r = -EBADMSG;
        if (t && *t && strlen(t) <= max_len && strcspn(t, "\r\n") == strlen(t)) {
                char *s = strdup(t);
                r = s ? 0 : -ENOMEM;
                if (s)
                        *ret_token = s;
        }
        wipe_token(j);
        json_decref(j);
        return r;
}
