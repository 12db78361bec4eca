/*
 * vendor.c: one vendor's SSH connection, from accept to close. Key exchange
 * and login never block (libssh returns SSH_AGAIN and is called again on the
 * next readiness event). Requests are taken from libssh's message queue so a
 * session's request can be held until the asset has answered its own. Channel
 * kinds and global requests the broker does not relay are refused here.
 *
 * A connection is refcounted (itself plus each of its sessions); close is a
 * state, and the free runs from the loop once the last session let go.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <libssh/libssh.h>
#include <libssh/server.h>

#include "broker/broker.h"

static void vendor_io_cb(void *arg);

static void
vendor_free_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg, **pp;

	(void)fd;
	(void)what;
	for (pp = &c->srv->conns; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	c->srv->nconns--;
	bridge_free(c->bridge);
	if (c->grace != NULL)
		event_free(c->grace);
	mfa_login_free(c);	/* before ssh_free: it may hold a message */
	ssh_free(c->ssh);
	free(c);
}

void
vendor_unref(struct conn *c)
{
	if (--c->refs > 0)
		return;
	if (event_base_once(c->srv->base, -1, EV_TIMEOUT, vendor_free_cb, c, NULL) != 0)
		log_warnx("conn %.8s: cannot schedule its free", c->id);
}

void
vendor_close(struct conn *c, const char *why)
{
	struct session *s;

	if (c->state == CONN_CLOSED)
		return;
	log_info("conn %.8s: closed (%s)", c->id, why);
	auth_finish(c);
	c->state = CONN_CLOSED;
	for (s = c->sessions; s != NULL; s = s->next)
		session_close(s, why);
	if (c->grace != NULL)
		event_del(c->grace);
	listener_release(c->slot);
	c->slot = NULL;
	/* closes libssh's socket now, which also quiets the bridge, and frees
	 * every channel of the connection */
	ssh_disconnect(c->ssh);
	for (s = c->sessions; s != NULL; s = s->next)
		s->vch = NULL;
	vendor_unref(c);
}

void
vendor_close_all(struct server *srv)
{
	struct conn *c;

	for (c = srv->conns; c != NULL; c = c->next)
		vendor_close(c, "broker shutting down");
}

void
vendor_foreach_session(struct server *srv, void (*fn)(struct session *, void *),
    void *arg)
{
	struct conn *c;
	struct session *s, *next;

	for (c = srv->conns; c != NULL; c = c->next) {
		for (s = c->sessions; s != NULL; s = next) {
			next = s->next;
			if (s->state != SESSION_CLOSED)
				fn(s, arg);
		}
	}
}

void
vendor_step(struct conn *c)
{
	struct session *s, *next;

	for (s = c->sessions; s != NULL; s = next) {
		next = s->next;
		if (s->state != SESSION_CLOSED)
			session_step(s);
	}
}

/* Login grace first; once logged in, the same timer sends keepalives. */
static void
vendor_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct timeval tv = { (time_t)c->srv->conf->keepalive, 0 };

	(void)fd;
	(void)what;
	if (c->state != CONN_OPEN) {
		snprintf(c->auth.last_reason, sizeof(c->auth.last_reason),
		    "login grace time expired");
		c->auth.rejected++;
		vendor_close(c, "login grace time expired");
		return;
	}
	/* libssh sends a new keepalive only once the last reply was collected,
	 * which the first call does */
	ssh_send_keepalive(c->ssh);
	ssh_send_keepalive(c->ssh);
	bridge_update(c->bridge);
	evtimer_add(c->grace, &tv);
}

static struct session *
vendor_session_of(struct conn *c, ssh_channel ch)
{
	struct session *s;

	for (s = c->sessions; s != NULL; s = s->next)
		if (s->vch == ch && s->state != SESSION_CLOSED)
			return s;
	return NULL;
}

static const char *
vendor_channel_type(int subtype)
{
	switch (subtype) {
	case SSH_CHANNEL_DIRECT_TCPIP:
		return "direct-tcpip";
	case SSH_CHANNEL_FORWARDED_TCPIP:
		return "forwarded-tcpip";
	case SSH_CHANNEL_X11:
		return "x11";
	case SSH_CHANNEL_AUTH_AGENT:
		return "agent forwarding";
	}
	return "unknown channel type";
}

/* Channel kinds and requests the broker never relays: refused, audited. */
static void
vendor_refused_kind(struct conn *c, const char *kind)
{
	server_audit(c->srv, "channel.refused", (struct audit_field[]){
	    AUDIT_STR("conn", c->id), AUDIT_STR("user", c->user),
	    AUDIT_STR("src", c->src), AUDIT_STR("kind", kind) }, 4);
	log_info("conn %.8s: %s: refused %s", c->id, c->user, kind);
}

/* 1 when a forward kept m for its answer, else 0 (answered). */
static int
vendor_channel_open(struct conn *c, ssh_message m)
{
	ssh_channel ch;

	if (c->state != CONN_OPEN) {
		ssh_message_reply_default(m);
		return 0;
	}
	if (ssh_message_subtype(m) == SSH_CHANNEL_DIRECT_TCPIP)
		return forward_open(c, m);
	if (ssh_message_subtype(m) != SSH_CHANNEL_SESSION) {
		vendor_refused_kind(c, vendor_channel_type(ssh_message_subtype(m)));
		ssh_message_reply_default(m);	/* administratively prohibited */
		return 0;
	}
	if (c->nsessions >= CONN_MAX_SESSIONS) {
		log_info("conn %.8s: %s: refused a session: %u open", c->id, c->user,
		    c->nsessions);
		ssh_message_reply_default(m);
		return 0;
	}
	if ((ch = ssh_message_channel_request_open_reply_accept(m)) == NULL) {
		vendor_close(c, "channel accept failed");
		return 0;
	}
	if (session_open(c, ch) == NULL) {
		ssh_channel_close(ch);
		ssh_channel_free(ch);
	}
	return 0;
}

static void
vendor_granted(struct conn *c)
{
	struct timeval tv = { (time_t)c->srv->conf->keepalive, 0 };

	c->state = CONN_OPEN;
	listener_release(c->slot);
	c->slot = NULL;
	event_del(c->grace);
	if (c->srv->conf->keepalive > 0)
		evtimer_add(c->grace, &tv);
}

static void
vendor_messages(struct conn *c)
{
	ssh_message m;
	struct session *s;

	while (c->state != CONN_CLOSED && (m = ssh_message_get(c->ssh)) != NULL) {
		switch (ssh_message_type(m)) {
		case SSH_REQUEST_AUTH:
			if (c->state == CONN_OPEN) {
				ssh_message_reply_default(m);
				break;
			}
			switch (auth_message(c, m)) {
			case AUTH_GRANTED:
				vendor_granted(c);
				break;
			case AUTH_DISCONNECT:
				ssh_message_free(m);
				vendor_close(c, "too many authentication failures");
				continue;
			case AUTH_HELD:
				continue;	/* mfa.c owns m and answers later */
			case AUTH_CONTINUE:
				break;
			}
			break;
		case SSH_REQUEST_CHANNEL_OPEN:
			if (vendor_channel_open(c, m))
				continue;	/* forward.c owns m and answers later */
			break;
		case SSH_REQUEST_CHANNEL:
			s = vendor_session_of(c, ssh_message_channel_request_channel(m));
			if (s != NULL) {
				session_message(s, m);	/* takes m */
				continue;
			}
			ssh_message_reply_default(m);
			break;
		case SSH_REQUEST_GLOBAL:
			if (ssh_message_subtype(m) == SSH_GLOBAL_REQUEST_TCPIP_FORWARD &&
			    c->state == CONN_OPEN)
				vendor_refused_kind(c, "tcpip-forward (remote forwarding)");
			ssh_message_reply_default(m);
			break;
		default:
			/* service requests are accepted, anything else refused */
			ssh_message_reply_default(m);
			break;
		}
		ssh_message_free(m);
	}
}

void
vendor_auth_done(struct conn *c, enum auth_result r)
{
	if (c->state == CONN_CLOSED)
		return;
	c->refs++;
	switch (r) {
	case AUTH_GRANTED:
		vendor_granted(c);
		break;
	case AUTH_DISCONNECT:
		vendor_close(c, "too many authentication failures");
		break;
	case AUTH_CONTINUE:
	case AUTH_HELD:
		break;
	}
	/* requests that queued meanwhile */
	if (c->state == CONN_AUTH || c->state == CONN_OPEN)
		vendor_messages(c);
	if (c->state != CONN_CLOSED)
		bridge_update(c->bridge);
	vendor_unref(c);
}

static void
vendor_io_cb(void *arg)
{
	struct conn *c = arg;
	int rc;

	if (c->state == CONN_CLOSED)
		return;
	c->refs++;	/* a session may drop the last other reference */
	if (c->state == CONN_KEX) {
		rc = ssh_handle_key_exchange(c->ssh);
		if (rc == SSH_OK)
			c->state = CONN_AUTH;
		else if (rc != SSH_AGAIN)
			vendor_close(c, ssh_get_error(c->ssh));
	}
	if (c->state == CONN_AUTH || c->state == CONN_OPEN)
		vendor_messages(c);
	if (c->state != CONN_CLOSED)
		vendor_step(c);
	if (c->state != CONN_CLOSED &&
	    (ssh_get_status(c->ssh) & (SSH_CLOSED | SSH_CLOSED_ERROR)))
		vendor_close(c, "vendor disconnected");
	vendor_unref(c);
}

static void
vendor_address(const struct sockaddr *sa, char *out, size_t outsz)
{
	snprintf(out, outsz, "?");
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, outsz);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out,
		    outsz);
}

void
vendor_accept(struct server *srv, int fd, const struct sockaddr *sa,
    socklen_t salen, struct listener_slot *slot)
{
	struct timeval tv = { (time_t)srv->conf->login_grace, 0 };
	struct conn *c;
	int rc;

	(void)salen;
	if ((c = calloc(1, sizeof(*c))) == NULL || (c->ssh = ssh_new()) == NULL) {
		free(c);
		close(fd);
		listener_release(slot);
		return;
	}
	c->srv = srv;
	c->slot = slot;
	c->refs = 1;
	c->state = CONN_KEX;
	server_newid(c->id);
	vendor_address(sa, c->src, sizeof(c->src));
	c->next = srv->conns;
	srv->conns = c;
	srv->nconns++;
	/* each handshake step and keystroke is a small write: without this,
	 * Nagle waits for the peer's delayed ACK (~40 ms) at every step */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int)) == -1)
		log_warn("conn %.8s: TCP_NODELAY", c->id);
	if (ssh_bind_accept_fd(srv->bind, c->ssh, fd) != SSH_OK) {
		log_warnx("conn %.8s: accept: %s", c->id, ssh_get_error(srv->bind));
		if (ssh_get_fd(c->ssh) != fd)
			close(fd);	/* else ssh_free closes it */
		goto fail;
	}
	ssh_set_blocking(c->ssh, 0);
	rc = ssh_handle_key_exchange(c->ssh);	/* the first I/O: sends our version */
	if (rc == SSH_ERROR) {
		log_info("conn %.8s: key exchange: %s", c->id, ssh_get_error(c->ssh));
		goto fail;
	}
	if (rc == SSH_OK)
		c->state = CONN_AUTH;
	if ((c->bridge = bridge_new(srv->base, c->ssh, vendor_io_cb, c)) == NULL ||
	    (c->grace = evtimer_new(srv->base, vendor_timer_cb, c)) == NULL) {
		log_warnx("conn %.8s: cannot watch the connection", c->id);
		goto fail;
	}
	if (srv->conf->login_grace > 0)
		evtimer_add(c->grace, &tv);
	log_info("conn %.8s: connection from %s", c->id, c->src);
	return;
fail:
	vendor_close(c, "setup failed");
}
