/* Fuzz target: varlink framing (common/varlink_frame.c) as kaasd's server
 * reads a connection, plus the envelope check of every message it yields.
 *
 * Input: [k] [limit] [k chunk sizes] [stream]
 *   k       number of chunk sizes (k % 16); the stream is fed in chunks of
 *           these sizes in turn (0 means an empty feed), the rest at the end
 *   limit   max_message: 0 the default (1 MiB), else limit * 8 bytes
 *   stream  the bytes a peer sends: JSON objects each followed by a NUL
 *
 * Properties: the messages yielded do not depend on how the stream was
 * split (up to the first error either way, one list is a prefix of the
 * other; without errors they are equal); they are what jansson's
 * json_loadb(JSON_REJECT_DUPLICATES) makes of each NUL-terminated piece, and
 * a piece the reader rejects as malformed jansson rejects too (or it is no
 * object), so the reader's fast path neither accepts nor rejects anything
 * differently; and the writer's output, read back by the reader and by
 * jansson, yields the same messages again. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "varlink_frame.h"
#include "varlink_message.h"

#define MAX_MESSAGES 256

struct result {
        json_t *msgs[MAX_MESSAGES];
        size_t n;
        bool error;     /* stopped at an error (the connection would close) */
        int reader_error;  /* vl_reader_next()'s error, when that was it */
        size_t buffered;  /* bytes of an unterminated message left at the end */
};

static void result_clear(struct result *res) {
        for (size_t i = 0; i < res->n; i++)
                json_decref(res->msgs[i]);
        res->n = 0;
}

/* What kaasd does with each message: check the envelope, split the name.
 * Parameters absent or null mean none: only another type is refused. */
static void dispatch(json_t *msg) {
        struct vl_call call;
        const char *field = NULL;
        json_t *params = json_object_get(msg, "parameters");
        bool params_usable = !params || json_is_null(params) || json_is_object(params);
        int r = vl_call_parse(msg, &call, &field);
        if (r < 0 && field && strcmp(field, "parameters") == 0)
                FUZZ_ASSERT(!params_usable);
        if (r == 0) {
                FUZZ_ASSERT(params_usable);
                FUZZ_ASSERT(call.method && json_is_object(call.parameters));
                FUZZ_ASSERT(!(call.more && call.oneway));
                char iface[VL_NAME_MAX + 1];
                const char *member;
                if (vl_method_split(call.method, iface, &member) == 0) {
                        FUZZ_ASSERT(vl_interface_name_valid(iface));
                        FUZZ_ASSERT(vl_member_name_valid(member));
                }
        }
}

/* Takes every complete message; false once the stream is in error. */
static bool drain(struct vl_reader *r, struct result *res) {
        for (;;) {
                json_t *msg = NULL;
                int k = vl_reader_next(r, &msg);
                if (k == 0)
                        return true;
                if (k < 0) {
                        FUZZ_ASSERT(k == -EBADMSG || k == -EMSGSIZE);
                        res->error = true;
                        res->reader_error = k;
                        return false;
                }
                FUZZ_ASSERT(json_is_object(msg));
                /* on a copy: vl_call_parse() adds defaults, and the
                 * messages are compared with jansson's as they came */
                json_t *copy = json_deep_copy(msg);
                if (!copy)
                        abort();
                dispatch(copy);
                json_decref(copy);
                if (res->n == MAX_MESSAGES) {
                        json_decref(msg);
                        res->error = true;  /* enough: treat as closed */
                        return false;
                }
                res->msgs[res->n++] = msg;
        }
}

/* Feeds stream in chunks of the given sizes in turn (n_sizes == 0: all at
 * once; sizes all 0: one byte at a time), taking messages after each. */
static void run(size_t limit, const uint8_t *sizes, size_t n_sizes, const uint8_t *stream, size_t len,
                struct result *res) {
        struct vl_reader *r = NULL;
        if (vl_reader_new(limit, &r) < 0)
                abort();
        bool all_zero = true;
        for (size_t i = 0; i < n_sizes; i++)
                if (sizes[i])
                        all_zero = false;
        size_t off = 0, turn = 0;
        do {
                size_t n = n_sizes == 0 ? len : all_zero ? 1 : sizes[turn++ % n_sizes];
                if (n > len - off)
                        n = len - off;
                int k = vl_reader_feed(r, stream + off, n);
                off += n;
                if (k < 0) {
                        FUZZ_ASSERT(k == -EMSGSIZE);
                        /* kaasd still answers what came before, then closes */
                        drain(r, res);
                        res->error = true;
                        break;
                }
                if (!drain(r, res))
                        break;
        } while (off < len);
        res->buffered = vl_reader_buffered(r);
        /* a message in progress: bytes fed after the last NUL */
        const uint8_t *nul = off ? memrchr(stream, '\0', off) : NULL;
        FUZZ_ASSERT(vl_reader_has_partial(r) == (nul ? (size_t)(stream + off - nul - 1) > 0 : off > 0));
        FUZZ_ASSERT(!vl_reader_has_partial(r) || res->buffered > 0);
        vl_reader_free(r);
}

static bool same_prefix(const struct result *a, const struct result *b) {
        size_t n = a->n < b->n ? a->n : b->n;
        for (size_t i = 0; i < n; i++)
                if (!json_equal(a->msgs[i], b->msgs[i]))
                        return false;
        return true;
}

/* piece i of data (pieces end with a NUL), or NULL when there is none */
static const char *piece(const char *data, size_t len, size_t i, size_t *ret_len) {
        const char *p = data, *end = data + len;
        for (;;) {
                const char *nul = memchr(p, '\0', (size_t)(end - p));
                if (!nul)
                        return NULL;
                if (i-- == 0) {
                        *ret_len = (size_t)(nul - p);
                        return p;
                }
                p = nul + 1;
        }
}

/* jansson alone, the reference the reader must agree with */
static json_t *reference_parse(const char *text, size_t len) {
        json_error_t error;
        return json_loadb(text, len, JSON_REJECT_DUPLICATES, &error);
}

static void check_against_jansson(const uint8_t *stream, size_t len, const struct result *res) {
        const char *text = (const char *)stream, *p;
        size_t plen;
        for (size_t i = 0; i < res->n; i++) {
                FUZZ_ASSERT((p = piece(text, len, i, &plen)) != NULL);
                json_t *ref = reference_parse(p, plen);
                FUZZ_ASSERT(ref && json_equal(ref, res->msgs[i]));
                json_decref(ref);
        }
        if (res->reader_error == -EBADMSG && (p = piece(text, len, res->n, &plen))) {
                json_t *ref = reference_parse(p, plen);
                FUZZ_ASSERT(!ref || !json_is_object(ref));
                json_decref(ref);
        }
}

/* The writer frames what the reader took apart; reading that back must
 * give the same messages. */
static void check_writer(const struct result *res) {
        struct vl_writer *w = NULL;
        struct vl_reader *r = NULL;
        if (vl_writer_new(0, &w) < 0 || vl_reader_new(SIZE_MAX / 4, &r) < 0)
                abort();
        for (size_t i = 0; i < res->n; i++)
                FUZZ_ASSERT(vl_writer_queue(w, res->msgs[i]) == 0);
        size_t len;
        const char *data = vl_writer_data(w, &len);
        FUZZ_ASSERT(len == vl_writer_pending(w));
        for (size_t i = 0; i < res->n; i++) {
                size_t plen;
                const char *p = piece(data, len, i, &plen);
                FUZZ_ASSERT(p != NULL);
                json_t *ref = reference_parse(p, plen);
                FUZZ_ASSERT(ref && json_equal(ref, res->msgs[i]));
                json_decref(ref);
        }
        FUZZ_ASSERT(vl_reader_feed(r, data, len) == 0);
        vl_writer_consume(w, len);
        FUZZ_ASSERT(vl_writer_pending(w) == 0);
        for (size_t i = 0; i < res->n; i++) {
                json_t *msg = NULL;
                FUZZ_ASSERT(vl_reader_next(r, &msg) == 1);
                FUZZ_ASSERT(json_equal(msg, res->msgs[i]));
                json_decref(msg);
        }
        json_t *msg = NULL;
        FUZZ_ASSERT(vl_reader_next(r, &msg) == 0);
        FUZZ_ASSERT(!vl_reader_has_partial(r));
        vl_reader_free(r);
        vl_writer_free(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 2)
                return 0;
        size_t k = data[0] % 16;
        size_t limit = data[1] ? (size_t)data[1] * 8 : 0;
        if (size < 2 + k)
                return 0;
        const uint8_t *sizes = data + 2, *stream = data + 2 + k;
        size_t len = size - 2 - k;

        struct result whole = {}, split = {};
        run(limit, NULL, 0, stream, len, &whole);
        run(limit, sizes, k, stream, len, &split);

        FUZZ_ASSERT(same_prefix(&whole, &split));
        check_against_jansson(stream, len, &whole);
        if (!whole.error && !split.error)
                FUZZ_ASSERT(whole.n == split.n && whole.buffered == split.buffered);
        check_writer(&split);

        result_clear(&whole);
        result_clear(&split);
        return 0;
}
