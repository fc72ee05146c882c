/* varlink wire framing: every message is one JSON object followed by a NUL
 * byte. The reader accepts bytes in any split (partial reads, several
 * pipelined messages in one read) and yields whole messages; the writer
 * queues serialised messages for a non-blocking socket. Shared by kaasd and
 * every client so both ends frame identically. No logging, no globals. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define VL_DEFAULT_MAX_MESSAGE (1024u * 1024u)
/* vl_reader_fill asks for at least this many bytes: a shorter read found
 * the socket drained, so a caller woken by level-triggered readiness need
 * not read again to learn it. */
#define VL_READ_CHUNK 65536u

struct vl_reader;
struct vl_writer;

/* max_message bounds one message (excluding the NUL); 0 means the default. */
int vl_reader_new(size_t max_message, struct vl_reader **ret);
struct vl_reader *vl_reader_free(struct vl_reader *r);

/* Appends raw bytes; -EMSGSIZE once the pending unterminated message would
 * exceed the limit. Used by tests and fuzzers. */
int vl_reader_feed(struct vl_reader *r, const void *data, size_t n);

/* Reads once (at most what fits, at least VL_READ_CHUNK bytes of room).
 * Returns bytes read (> 0), 0 on EOF, -EAGAIN when nothing is available
 * (a non-blocking fd, or a receive timeout), -EMSGSIZE on an oversized
 * message, another negative errno on error. */
ssize_t vl_reader_fill(struct vl_reader *r, int fd);

/* Bounds the JSON values (and member names) of one message, so that what a
 * message costs once parsed stays near its size; 0 (the default) means no
 * bound. */
void vl_reader_set_max_values(struct vl_reader *r, size_t max_values);

/* Takes the next complete message. Returns 1 and a new reference in
 * *ret_msg, 0 when no complete message is buffered yet, -EBADMSG when the
 * next message is not valid UTF-8 JSON holding an object, -E2BIG when it
 * holds more values than vl_reader_set_max_values() allows (it is dropped
 * unparsed). After -EBADMSG or -E2BIG the connection should be closed. */
int vl_reader_next(struct vl_reader *r, json_t **ret_msg);

/* Offered the text of a message (len bytes, NUL-terminated, unchecked:
 * hostile), returns true when it has made of it all it needs. The text is
 * valid only during the call. */
typedef bool (*vl_take_fn)(const char *text, size_t len, void *userdata);

/* As vl_reader_next(), but the next complete message is first offered to
 * take (when not NULL): when it takes it, the message is consumed
 * unparsed and 2 is returned; otherwise it is parsed as vl_reader_next()
 * does. For a reader that knows the shape of a large message and reads
 * it straight from the text, leaving every other one to the parser. */
int vl_reader_next_or_take(struct vl_reader *r, vl_take_fn take, void *userdata, json_t **ret_msg);

/* True when bytes of an unterminated message are buffered (EOF mid-message);
 * complete messages not yet taken do not count. */
bool vl_reader_has_partial(const struct vl_reader *r);
/* True when a complete message is buffered, not yet taken. */
bool vl_reader_has_message(const struct vl_reader *r);
size_t vl_reader_buffered(const struct vl_reader *r);

/* max_buffered bounds queued output; 0 means unlimited. */
int vl_writer_new(size_t max_buffered, struct vl_writer **ret);
struct vl_writer *vl_writer_free(struct vl_writer *w);

/* Serialises msg compactly and queues it with its NUL. -ENOBUFS when the
 * queue limit would be exceeded (the peer is not reading). */
int vl_writer_queue(struct vl_writer *w, const json_t *msg);

/* A message written piece by piece, or one serialised before (kaasd keeps
 * the replies of large groups): appends n bytes as they are, or s (valid
 * UTF-8) as a JSON string. The caller writes the NUL that ends a message.
 * -ENOBUFS past the queue limit, as vl_writer_queue(). */
int vl_writer_append(struct vl_writer *w, const void *data, size_t n);
int vl_writer_append_string(struct vl_writer *w, const char *s);

/* Writes as much as the socket takes (MSG_NOSIGNAL). Returns 0 when the
 * queue is empty, -EAGAIN when bytes remain, another negative errno on error. */
int vl_writer_flush(struct vl_writer *w, int fd);
size_t vl_writer_pending(const struct vl_writer *w);
/* Moves the queued bytes out for callers that write them elsewhere. */
const char *vl_writer_data(const struct vl_writer *w, size_t *ret_len);
void vl_writer_consume(struct vl_writer *w, size_t n);
