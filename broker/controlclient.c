/*
 * controlclient.c: the otgate side of the control socket: a blocking client
 * that connects, sends one request framed as control-protocol.h says, and
 * reads the reply, or, for a stream (watch), message after message. Each
 * read and write is bounded by a timeout so that a stuck broker cannot hang
 * the admin's command.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "broker/broker.h"
#include "broker/control-protocol.h"

#define CONTROL_CLIENT_TIMEOUT_SECS 120	/* a reload may take a while */

static int
control_read_full(int fd, void *p, size_t len, size_t *got)
{
	ssize_t n;

	*got = 0;
	while (*got < len) {
		n = recv(fd, (char *)p + *got, len - *got, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return OTG_ERR_IO;
		if (n == 0)
			return OTG_ERR_TRUNCATED;
		*got += (size_t)n;
	}
	return 0;
}

static int
control_connect(const char *path, int *fdp, char *why, size_t whysz)
{
	struct sockaddr_un sun;
	struct timeval tv = { CONTROL_CLIENT_TIMEOUT_SECS, 0 };
	int fd, err;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(why, whysz, "%s: path too long for a socket", path);
		return OTG_ERR_INVAL;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(why, whysz, "socket: %s", strerror(errno));
		return OTG_ERR_IO;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		err = errno;
		close(fd);
		if (err == ENOENT || err == ECONNREFUSED) {
			snprintf(why, whysz, "the broker is not running (nothing listens on %s)",
			    path);
			return OTG_ERR_NOTFOUND;
		}
		if (err == EACCES || err == EPERM) {
			snprintf(why, whysz, "%s: permission denied: the control socket is for "
			    "root, the broker's user and group " CONTROL_ADMIN_GROUP, path);
			return OTG_ERR_PERM;
		}
		snprintf(why, whysz, "%s: %s", path, strerror(err));
		return OTG_ERR_IO;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	*fdp = fd;
	return 0;
}

int
control_stream_open(const char *path, uint16_t type, uint32_t flags, const void *body,
    size_t len, int *fdp, char *why, size_t whysz)
{
	struct buf msg;
	size_t off = 0;
	ssize_t n;
	int fd = -1, r;

	*fdp = -1;
	buf_init(&msg, CONTROL_HEADER_LEN + CONTROL_REQUEST_MAX);
	if ((r = control_encode(&msg, type, flags, body, len)) != 0) {
		snprintf(why, whysz, "request too large");
		goto out;
	}
	if ((r = control_connect(path, &fd, why, whysz)) != 0)
		goto out;
	/* a broker that turned us away has already closed: its reason is still
	 * there to read, so a failed send is not the end */
	while (off < buf_len(&msg)) {
		n = send(fd, buf_ptr(&msg) + off, buf_len(&msg) - off, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			break;
		off += (size_t)n;
	}
	*fdp = fd;
out:
	buf_free(&msg);
	return r;
}

int
control_stream_next(int fd, struct control_header *h, struct buf *body, char *why,
    size_t whysz)
{
	uint8_t hdr[CONTROL_HEADER_LEN], chunk[16384];
	size_t got, want;
	int r;

	r = control_read_full(fd, hdr, sizeof(hdr), &got);
	if (r == OTG_ERR_TRUNCATED) {
		snprintf(why, whysz, "the broker closed the connection without a reply");
		return OTG_ERR_PROTO;
	}
	if (r != 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		snprintf(why, whysz, "no reply from the broker within %d s",
		    CONTROL_CLIENT_TIMEOUT_SECS);
		return r;
	}
	if (r != 0) {
		snprintf(why, whysz, "reading the reply: %s", strerror(errno));
		return r;
	}
	r = control_decode_header(hdr, sizeof(hdr), CONTROL_REPLY_MAX, h);
	if (r == OTG_ERR_TOOBIG) {
		snprintf(why, whysz, "the broker's reply is too large");
		return r;
	}
	if (r != 0) {
		snprintf(why, whysz, "the reply is not otgate control protocol version %u",
		    (unsigned)CONTROL_VERSION);
		return r;
	}
	for (want = h->len; want > 0; want -= got) {
		r = control_read_full(fd, chunk, want < sizeof(chunk) ? want : sizeof(chunk),
		    &got);
		if (r != 0) {
			snprintf(why, whysz, "the broker's reply was cut short");
			return OTG_ERR_PROTO;
		}
		if ((r = buf_put(body, chunk, got)) != 0) {
			snprintf(why, whysz, "the broker's reply is too large");
			return r;
		}
	}
	return 0;
}

int
control_request(const char *path, uint16_t type, uint32_t flags, const void *body,
    size_t len, uint16_t *reply_type, struct buf *reply, char *why, size_t whysz)
{
	struct control_header h;
	int fd, r;

	*reply_type = 0;
	if ((r = control_stream_open(path, type, flags, body, len, &fd, why, whysz)) != 0)
		return r;
	if ((r = control_stream_next(fd, &h, reply, why, whysz)) == 0)
		*reply_type = h.type;
	close(fd);
	return r;
}
