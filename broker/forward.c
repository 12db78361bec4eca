/*
 * forward.c: `ssh -L PORT:ASSET:N` (direct-tcpip). The requested host must be
 * the asset's policy name or, written exactly as in the policy, its address;
 * N must be in the asset's `forward` list and the role must allow `forward`.
 * The broker itself then connects to the asset's configured address (numeric,
 * inside `egress`, never one of the broker's own listen addresses) and
 * relays the TCP bytes; the asset needs no SSH server for this, as a PLC has
 * none. Anything else is refused before the channel opens ("administratively
 * prohibited") with the reason in the audit log (forward.denied).
 *
 * What passes becomes a session of kind forward that holds the vendor's open
 * (vch NULL) through the admission every session goes through (reason.c: a
 * required reason cannot be asked, refused; approval.c: refused with the
 * request number until approved; limits.c: max-sessions)
 * and the broker's connect to the device. The open succeeds only once the
 * device accepted; if it does not, the open fails, audited asset.unreachable
 * with the reason. OpenSSH answers that case SSH_OPEN_CONNECT_FAILED, but
 * libssh 0.10's server API (ssh_message_reply_default) can only send
 * SSH_OPEN_ADMINISTRATIVELY_PROHIBITED, so every refusal reads so.
 *
 * An accepted forward is a session of kind forward: recorded as ID.stream
 * (vendor bytes as input, device bytes as output), session.start/.end plus
 * forward.open/forward.close with the bytes each way. Each direction reads
 * only what the other side can take now: the vendor's SSH window bounds what
 * is read from the device, one pending chunk bounds what is read from the
 * vendor.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <event2/event.h>
#include <event2/util.h>
#include <libssh/libssh.h>
#include <libssh/server.h>

#include "broker/broker.h"

#define FORWARD_CHUNK (32u * 1024)
#define FORWARD_PENDING_MAX (2u * 1024 * 1024)

struct forward {
	struct session *s;
	int fd;
	struct event *rd, *wr, *conn;
	struct buf to_device;	/* vendor bytes the socket did not take yet */
	struct buf to_vendor;	/* device bytes the window did not take yet */
	int device_eof, vendor_eof_sent, shut_wr;
	char addr[INET6_ADDRSTRLEN + 8];
	char host[256];		/* as requested, escaped */
	unsigned port;
};

int
forward_target(const struct policy *p, const char *conn_asset, const char *host,
    unsigned port, const struct policy_asset **out, char *why, size_t whysz)
{
	const struct policy_asset *a = NULL;
	size_t i;

	*out = NULL;
	if (host == NULL || host[0] == '\0') {
		snprintf(why, whysz, "no host requested");
		return OTG_ERR_PERM;
	}
	if ((a = policy_asset(p, host)) == NULL) {
		/* the address only as the policy writes it: no other spelling */
		for (i = 0; i < policy_nassets(p); i++)
			if (strcmp(policy_asset_at(p, i)->address, host) == 0) {
				a = policy_asset_at(p, i);
				break;
			}
	}
	if (a == NULL) {
		snprintf(why, whysz, "host is not an asset's name or address");
		return OTG_ERR_PERM;
	}
	if (conn_asset != NULL && conn_asset[0] != '\0' && strcmp(conn_asset, a->name) != 0) {
		snprintf(why, whysz, "this connection is for asset %s", conn_asset);
		return OTG_ERR_PERM;
	}
	for (i = 0; i < a->nforward && a->forward[i] != port; i++)
		;
	if (port == 0 || port > 65535 || i == a->nforward) {
		snprintf(why, whysz, "port %u is not in asset %s's forward list", port,
		    a->name);
		return OTG_ERR_PERM;
	}
	*out = a;
	return 0;
}

/* Is sa:port one of the broker's own listen addresses? */
static int
forward_is_listen(const struct conf *conf, const struct sockaddr *sa)
{
	char host[INET6_ADDRSTRLEN], text[INET6_ADDRSTRLEN + 10];
	size_t i;

	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, host,
		    sizeof(host));
		snprintf(text, sizeof(text), "%s:%u", host,
		    ntohs(((const struct sockaddr_in *)sa)->sin_port));
	} else {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, host,
		    sizeof(host));
		snprintf(text, sizeof(text), "[%s]:%u", host,
		    ntohs(((const struct sockaddr_in6 *)sa)->sin6_port));
	}
	for (i = 0; i < conf->listen.n; i++)
		if (strcmp(conf->listen.v[i], text) == 0)
			return 1;
	return 0;
}

static void
forward_deny(struct conn *c, const char *asset, const char *host, unsigned port,
    const char *reason)
{
	char text[256];
	const char *h = text;

	escape_str(text, sizeof(text), host != NULL ? host : "");
	server_audit(c->srv, "forward.denied", (struct audit_field[]){
	    AUDIT_STR("conn", c->id), AUDIT_STR("user", c->user),
	    AUDIT_STR("asset", asset), AUDIT_STR("src", c->src), AUDIT_STR("host", h),
	    AUDIT_NUM("port", port), AUDIT_STR("reason", reason) }, 7);
	log_info("conn %.8s: %s: forward to %s port %u refused: %s", c->id, c->user, h,
	    port, reason);
}

static void
forward_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct forward *f = arg;

	(void)fd;
	(void)what;
	if (f->s->state != SESSION_CLOSED)
		session_step(f->s);
}

/* The device did not answer: the vendor's open fails, audited. */
static void
forward_unreachable(struct session *s, const char *why)
{
	server_audit(s->conn->srv, "asset.unreachable", (struct audit_field[]){
	    AUDIT_STR("conn", s->conn->id), AUDIT_STR("session", s->id),
	    AUDIT_STR("user", s->conn->user), AUDIT_STR("asset", s->asset),
	    AUDIT_STR("kind", "forward"), AUDIT_STR("reason", why) }, 6);
	session_close(s, why);
}

/* The device answered: the vendor's open succeeds now, and the relay starts. */
static void
forward_connected_cb(evutil_socket_t fd, short what, void *arg)
{
	struct forward *f = arg;
	struct session *s = f->s;
	struct server *srv = s->conn->srv;
	char text[300];
	int err = 0;
	socklen_t len = sizeof(err);

	if (what & EV_TIMEOUT)
		err = ETIMEDOUT;
	else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		snprintf(text, sizeof(text), "connect to %s port %u: %s", f->addr, f->port,
		    strerror(err));
		forward_unreachable(s, text);
		bridge_update(s->conn->bridge);
		return;
	}
	f->rd = event_new(srv->base, f->fd, EV_READ | EV_PERSIST, forward_io_cb, f);
	f->wr = event_new(srv->base, f->fd, EV_WRITE, forward_io_cb, f);
	if (f->rd == NULL || f->wr == NULL ||
	    (s->vch = ssh_message_channel_request_open_reply_accept(s->held)) == NULL) {
		session_close(s, f->rd == NULL || f->wr == NULL ? "out of memory" :
		    "channel accept failed");
		bridge_update(s->conn->bridge);
		return;
	}
	ssh_message_free(s->held);
	s->held = NULL;
	session_asset_ready(s);
	if (s->state == SESSION_RUNNING) {
		server_audit(srv, "forward.open", (struct audit_field[]){
		    AUDIT_STR("session", s->id), AUDIT_STR("conn", s->conn->id),
		    AUDIT_STR("user", s->conn->user), AUDIT_STR("asset", s->asset),
		    AUDIT_STR("src", s->conn->src), AUDIT_STR("host", f->host),
		    AUDIT_NUM("port", f->port), AUDIT_STR("addr", f->addr) }, 8);
		session_step(s);
	}
	bridge_update(s->conn->bridge);
}

/* The checked address of asset a, port n: numeric, inside egress, not ours. */
static int
forward_address(struct server *srv, const struct policy_asset *a, unsigned port,
    struct sockaddr_storage *ss, socklen_t *sslen, char *why, size_t whysz)
{
	struct evutil_addrinfo hints, *res = NULL;
	char p[8];

	snprintf(p, sizeof(p), "%u", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = EVUTIL_AI_NUMERICHOST | EVUTIL_AI_NUMERICSERV;
	if (evutil_getaddrinfo(a->address, p, &hints, &res) != 0 || res == NULL) {
		snprintf(why, whysz, "asset %s's address is not numeric (forwarding "
		    "connects only to a numeric address)", a->name);
		return -1;
	}
	if (!cidr_list_contains(srv->conf->egress, srv->conf->negress, res->ai_addr)) {
		snprintf(why, whysz, "address %s is outside egress", a->address);
		evutil_freeaddrinfo(res);
		return -1;
	}
	if (forward_is_listen(srv->conf, res->ai_addr)) {
		snprintf(why, whysz, "%s port %u is the broker itself", a->address, port);
		evutil_freeaddrinfo(res);
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = (socklen_t)res->ai_addrlen;
	evutil_freeaddrinfo(res);
	return 0;
}

/* The vendor's open, checked: a session of kind forward that holds it. */
static struct session *
forward_session(struct conn *c, ssh_message m, struct policyref *ref,
    const struct policy_asset *a, const struct policy_decision *d, const char *host,
    unsigned port)
{
	struct session *s;
	struct forward *f;

	if ((s = session_open(c, NULL)) == NULL)
		return NULL;
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		session_close(s, "out of memory");
		return NULL;
	}
	s->held = m;
	s->forward = f;
	f->s = s;
	f->fd = -1;
	f->port = port;
	buf_init(&f->to_device, FORWARD_PENDING_MAX);
	buf_init(&f->to_vendor, FORWARD_PENDING_MAX);
	escape_str(f->host, sizeof(f->host), host);
	snprintf(f->addr, sizeof(f->addr), "%s", a->address);
	s->kind = POLICY_FORWARD;
	s->policy = ref;
	s->role = d->role;
	snprintf(s->asset, sizeof(s->asset), "%s", a->name);
	if (asprintf(&s->command, "forward %s port %u", a->address, port) == -1)
		s->command = NULL;
	return s;
}

/* Connect to the checked address; the vendor's open waits for the answer. */
static void
forward_connect(struct session *s, const struct sockaddr_storage *ss, socklen_t sslen)
{
	struct forward *f = s->forward;
	struct server *srv = s->conn->srv;
	struct timeval tv = { (time_t)srv->conf->connect_timeout, 0 };
	char why[300];

	s->state = SESSION_CONNECT;
	f->fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (f->fd == -1 || (connect(f->fd, (const struct sockaddr *)ss, sslen) == -1 &&
	    errno != EINPROGRESS)) {
		snprintf(why, sizeof(why), "connect to %s port %u: %s", f->addr, f->port,
		    strerror(errno));
		forward_unreachable(s, why);
		return;
	}
	f->conn = event_new(srv->base, f->fd, EV_WRITE, forward_connected_cb, f);
	if (f->conn == NULL || event_add(f->conn, tv.tv_sec > 0 ? &tv : NULL) == -1)
		session_close(s, "out of memory");
}

int
forward_open(struct conn *c, ssh_message m)
{
	struct server *srv = c->srv;
	struct policyref *ref = server_policy_hold(srv);
	const struct policy_asset *a;
	struct policy_decision d;
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	struct session *s;
	const char *host = ssh_message_channel_request_open_destination(m);
	unsigned port = (unsigned)ssh_message_channel_request_open_destination_port(m);
	char why[300];

	memset(&d, 0, sizeof(d));
	if (forward_target(ref->policy, c->asset, host, port, &a, why, sizeof(why)) != 0) {
		forward_deny(c, c->asset, host, port, why);
		goto refuse;
	}
	if (policy_decide(ref->policy, c->user, a->name, POLICY_FORWARD, time(NULL),
	    &d) != 0 || (d.verdict != POLICY_ALLOW &&
	    d.verdict != POLICY_NEEDS_APPROVAL)) {
		snprintf(why, sizeof(why), "%s", d.reason[0] != '\0' ? d.reason :
		    "no decision possible");
		forward_deny(c, a->name, host, port, why);
		goto refuse;
	}
	if (forward_address(srv, a, port, &ss, &sslen, why, sizeof(why)) != 0) {
		forward_deny(c, a->name, host, port, why);
		goto refuse;
	}
	if (c->nsessions >= CONN_MAX_SESSIONS) {
		forward_deny(c, a->name, host, port, "too many channels on this connection");
		goto refuse;
	}
	if ((s = forward_session(c, m, ref, a, &d, host, port)) == NULL)
		goto refuse;
	/* the same admission as a session: a required reason (no terminal to
	 * ask it on: refused), the approval (refused with the request number
	 * until granted), the asset's max-sessions; a refusal fails the open */
	if ((d.reason_required && reason_start(s) != 0) ||
	    (d.verdict == POLICY_NEEDS_APPROVAL && approval_check(s, d.role) != 0) ||
	    limits_admit(s, a, &d) != 0)
		return 1;
	forward_connect(s, &ss, sslen);
	return 1;

refuse:
	server_policy_release(ref);
	ssh_message_reply_default(m);	/* administratively prohibited */
	return 0;
}

/* Vendor -> device: what the socket takes now; the rest waits. */
static int
forward_to_device(struct session *s, struct forward *f, uint8_t *chunk)
{
	ssize_t n;
	int avail, r;

	while (buf_len(&f->to_device) > 0) {
		n = send(f->fd, buf_ptr(&f->to_device), buf_len(&f->to_device),
		    MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		buf_consume(&f->to_device, (size_t)n);
	}
	buf_reset(&f->to_device);
	while ((avail = ssh_channel_poll(s->vch, 0)) > 0) {
		r = ssh_channel_read_nonblocking(s->vch, chunk, (uint32_t)avail <
		    FORWARD_CHUNK ? (uint32_t)avail : FORWARD_CHUNK, 0);
		if (r <= 0)
			break;
		if (record_data(s, 1, chunk, (size_t)r) != 0)
			return -2;
		s->bytes_in += (uint64_t)r;
		n = send(f->fd, chunk, (size_t)r, MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (n < 0)
			n = 0;
		if (n < r) {
			if (buf_put(&f->to_device, chunk + n, (size_t)(r - n)) != 0)
				return -1;
			return 0;
		}
	}
	if (ssh_channel_is_eof(s->vch) && !f->shut_wr) {
		shutdown(f->fd, SHUT_WR);
		f->shut_wr = 1;
	}
	return 0;
}

/* Device -> vendor: only as much as the vendor's window takes. */
static int
forward_to_vendor(struct session *s, struct forward *f, uint8_t *chunk)
{
	uint32_t win;
	ssize_t n;
	int w;

	if (buf_len(&f->to_vendor) > 0) {
		if ((w = ssh_channel_write(s->vch, buf_ptr(&f->to_vendor),
		    (uint32_t)buf_len(&f->to_vendor))) < 0)
			return -1;
		buf_consume(&f->to_vendor, (size_t)w);
		if (buf_len(&f->to_vendor) > 0)
			return 0;
		buf_reset(&f->to_vendor);
	}
	while (!f->device_eof && (win = ssh_channel_window_size(s->vch)) > 0) {
		n = recv(f->fd, chunk, win < FORWARD_CHUNK ? win : FORWARD_CHUNK, 0);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		if (n == 0) {
			f->device_eof = 1;
			break;
		}
		if (record_data(s, 0, chunk, (size_t)n) != 0)
			return -2;
		s->bytes_out += (uint64_t)n;
		if ((w = ssh_channel_write(s->vch, chunk, (uint32_t)n)) < 0)
			return -1;
		if (w < n) {
			if (buf_put(&f->to_vendor, chunk + w, (size_t)(n - w)) != 0)
				return -1;
			return 0;
		}
	}
	return 0;
}

const char *
forward_pump(struct session *s)
{
	struct forward *f = s->forward;
	uint8_t chunk[FORWARD_CHUNK];
	int r;

	if (ssh_channel_is_closed(s->vch))
		return ssh_is_connected(s->conn->ssh) ? "vendor closed the channel" :
		    "vendor disconnected";
	if ((r = forward_to_device(s, f, chunk)) == -2 ||
	    (r == 0 && (r = forward_to_vendor(s, f, chunk)) == -2))
		return "recording failed";
	if (r < 0) {
		ssh_channel_close(s->vch);
		return "connection to the device lost";
	}
	if (f->device_eof && buf_len(&f->to_vendor) == 0 && !f->vendor_eof_sent) {
		ssh_channel_send_eof(s->vch);
		f->vendor_eof_sent = 1;
	}
	if (f->vendor_eof_sent && f->shut_wr) {
		ssh_channel_close(s->vch);
		return "finished";
	}
	/* read the device only while the vendor can take it; write when owed */
	if (!f->device_eof && buf_len(&f->to_vendor) == 0 &&
	    ssh_channel_window_size(s->vch) > 0)
		event_add(f->rd, NULL);
	else
		event_del(f->rd);
	if (buf_len(&f->to_device) > 0)
		event_add(f->wr, NULL);
	return NULL;
}

void
forward_end(struct session *s)
{
	struct forward *f = s->forward;

	if (f == NULL || f->fd == -1)
		return;
	if (s->started)
		server_audit(s->conn->srv, "forward.close", (struct audit_field[]){
		    AUDIT_STR("session", s->id), AUDIT_STR("conn", s->conn->id),
		    AUDIT_STR("user", s->conn->user), AUDIT_STR("asset", s->asset),
		    AUDIT_STR("addr", f->addr), AUDIT_NUM("port", f->port),
		    AUDIT_NUM("bytes_in", s->bytes_in),
		    AUDIT_NUM("bytes_out", s->bytes_out) }, 8);
	if (f->rd != NULL)
		event_free(f->rd);
	if (f->wr != NULL)
		event_free(f->wr);
	if (f->conn != NULL)
		event_free(f->conn);
	f->rd = f->wr = f->conn = NULL;
	close(f->fd);
	f->fd = -1;
}

void
forward_free(struct forward *f)
{
	if (f == NULL)
		return;
	if (f->rd != NULL)
		event_free(f->rd);
	if (f->wr != NULL)
		event_free(f->wr);
	if (f->conn != NULL)
		event_free(f->conn);
	if (f->fd != -1)
		close(f->fd);
	buf_free(&f->to_device);
	buf_free(&f->to_vendor);
	free(f);
}
