/*
 * control-protocol.h: the wire protocol of the control socket between `otgate`
 * and otgated. One request per connection, one reply, then the broker closes.
 * Every message is a fixed 16-byte header followed by a body:
 *
 *   magic u32 "OTGC" | version u16 | type u16 | flags u32 | length u32
 *
 * all big-endian. Each side checks magic, version and length on every message
 * and refuses anything else; lengths are bounded before anything is buffered.
 * A request body is zero or more NUL-terminated arguments (for later verbs); a
 * reply body is text for the admin (or JSON lines), UTF-8, not NUL-terminated.
 * Bump CONTROL_VERSION on any incompatible change; add verbs as new types.
 */
#ifndef OTGATE_CONTROL_PROTOCOL_H
#define OTGATE_CONTROL_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

#define CONTROL_MAGIC 0x4f544743u	/* "OTGC" */
#define CONTROL_VERSION 1
#define CONTROL_HEADER_LEN 16
#define CONTROL_REQUEST_MAX (64u * 1024u)
#define CONTROL_REPLY_MAX (16u * 1024u * 1024u)
#define CONTROL_ADMIN_GROUP "otgate-admin"	/* may use the socket besides root */

enum control_type {
	/* requests */
	CONTROL_STATUS = 1,	/* version, uptime, sessions, policy hash */
	CONTROL_SESSIONS = 2,	/* active sessions; CONTROL_F_JSON for JSON lines */
	CONTROL_RELOAD = 3,	/* validate the policy again and swap it in */
	CONTROL_USER_LOCK = 4,	/* body: USER NUL; an admin lock until unlocked */
	CONTROL_USER_UNLOCK = 5,	/* body: USER NUL; ends a lock, forgets failures */
	CONTROL_USER_RESET_MFA = 6,	/* body: USER NUL; removes the TOTP secret */
	CONTROL_KILL = 7,	/* body: ID NUL [REASON NUL]; ID: 8 to 32 hex of a session */
	CONTROL_REQUESTS = 8,	/* waiting approval requests; CONTROL_F_JSON for JSON lines */
	CONTROL_APPROVE = 9,	/* body: N NUL [DURATION NUL] (--for) */
	CONTROL_DENY = 10,	/* body: N NUL [REASON NUL] */
	CONTROL_WATCH = 11,	/* body: ID NUL; answered by a stream (below) */
	/* replies */
	CONTROL_OK = 0x100,	/* done; body is the answer */
	CONTROL_FAILED = 0x101,	/* understood but refused (reload kept the old policy) */
	CONTROL_ERROR = 0x102,	/* malformed, unknown or not allowed; body says why */
	/* the stream that answers watch: NOTE and SCREEN first, then OUTPUT,
	 * SCREEN and NOTE messages in any order, ended by OK (the session ended; body says why)
	 * or FAILED (the broker dropped the watcher); then the broker closes */
	CONTROL_SCREEN = 0x103,	/* a redraw of the whole screen: start afresh */
	CONTROL_OUTPUT = 0x104,	/* the asset's output as the vendor got it */
	CONTROL_NOTE = 0x105	/* a line for the operator, not for the screen */
};

#define CONTROL_F_JSON 0x1u
#define CONTROL_ARG_MAX 256	/* the body of a user verb: a name and its NUL */
#define CONTROL_REASON_MAX 200	/* an operator's reason (kill), bytes */
#define CONTROL_STREAM_CHUNK (64u * 1024)	/* the largest body of a stream message */
#define CONTROL_STREAM_LOW (16u * 1024)	/* a stream's backlog counted as drained */

struct control_header {
	uint32_t magic;
	uint16_t version;
	uint16_t type;
	uint32_t flags;
	uint32_t len;		/* of the body */
};

/* control.c: framing, pure. Append one message to out. */
int control_encode(struct buf *out, uint16_t type, uint32_t flags, const void *body,
    size_t len);
/* Check a header in the first CONTROL_HEADER_LEN bytes of p: OTG_ERR_TRUNCATED
 * when fewer are there, OTG_ERR_PROTO for a bad magic or version, OTG_ERR_TOOBIG
 * for a body over maxbody. */
int control_decode_header(const uint8_t *p, size_t avail, size_t maxbody,
    struct control_header *h);
/* Take one whole message off the front of in: its header, and its body into
 * body (appended). OTG_ERR_TRUNCATED, leaving in untouched, until all of it is
 * there; the errors of control_decode_header otherwise. */
int control_decode(struct buf *in, size_t maxbody, struct control_header *h,
    struct buf *body);
const char *control_type_name(uint16_t type);	/* "status", ..., or NULL */

/* control.c: the client side, blocking, for the otgate command. Sends one
 * request to the socket at path and reads the reply: its type in *type, its body
 * appended to reply. OTG_ERR_NOTFOUND when no broker listens there, OTG_ERR_PERM
 * when the socket or the broker refuses this user; why says it in one line. */
int control_request(const char *path, uint16_t type, uint32_t flags, const void *body,
    size_t len, uint16_t *reply_type, struct buf *reply, char *why, size_t whysz);

/* control.c: the client side of a stream (watch), blocking: connect and send
 * the request (control_request's errors), then read message after message
 * (each body appended to body) until the type is not a stream's. */
int control_stream_open(const char *path, uint16_t type, uint32_t flags,
    const void *body, size_t len, int *fd, char *why, size_t whysz);
int control_stream_next(int fd, struct control_header *h, struct buf *body, char *why,
    size_t whysz);

#endif
