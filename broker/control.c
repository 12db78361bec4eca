/*
 * control.c: the control socket through which `otgate status`, `sessions
 * --active` and `reload` (and later verbs) reach the running broker. The
 * socket is created 0660 under a restrictive umask (never a moment with looser
 * bits), and each peer is checked with SO_PEERCRED: root, the broker's own
 * user, or a member of group otgate-admin; anyone else is logged and turned
 * away. Clients are bufferevents in the broker's loop: a slow or silent client
 * costs a bounded buffer and a timeout, never a blocked loop. The framing of
 * control-protocol.h is here too, as pure functions; the blocking client the
 * otgate command uses is in controlclient.c.
 */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "broker/broker.h"
#include "broker/control-protocol.h"

#define CONTROL_MAX_CLIENTS 16	/* waiting for or getting one reply */
#define CONTROL_MAX_STREAMS 32	/* watchers: they do not count above */
#define CONTROL_TIMEOUT_SECS 10	/* broker side, per read or write */
#define CONTROL_STREAM_TIMEOUT_SECS 30	/* a stream's client that reads nothing */

struct control_client {
	struct control *control;
	struct bufferevent *bev;
	uid_t uid;
	pid_t pid;
	struct control_peer peer;	/* uid, gid and groups for approvers */
	int replied;		/* reply queued: close once it is written */
	int closed;		/* waiting for the reaper */
	control_stream_cb *gone, *drained;	/* a stream's owner (watch) */
	void *stream_arg;
	int stream;		/* counted in nstreams, not nclients */
	struct control_client *next;
};

struct control {
	struct event_base *base;
	struct evconnlistener *listener;
	struct event *backoff;	/* re-enables accepting after EMFILE */
	struct event *reaper;	/* frees closed clients outside their callbacks */
	char *path;
	dev_t dev;
	ino_t ino;
	const struct control_ops *ops;
	void *arg;
	gid_t admin_gid;
	int have_admin_gid;
	struct control_client *clients;
	unsigned nclients;
	unsigned nstreams;
};

/* ---- framing ---- */

static void
control_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void
control_header(uint8_t h[CONTROL_HEADER_LEN], uint16_t type, uint32_t flags,
    uint32_t len)
{
	control_put_u32(h, CONTROL_MAGIC);
	h[4] = CONTROL_VERSION >> 8;
	h[5] = CONTROL_VERSION & 0xff;
	h[6] = (uint8_t)(type >> 8);
	h[7] = (uint8_t)type;
	control_put_u32(h + 8, flags);
	control_put_u32(h + 12, len);
}

int
control_encode(struct buf *out, uint16_t type, uint32_t flags, const void *body,
    size_t len)
{
	uint8_t h[CONTROL_HEADER_LEN];
	int r;

	if (len > UINT32_MAX || (len > 0 && body == NULL))
		return OTG_ERR_INVAL;
	control_header(h, type, flags, (uint32_t)len);
	if ((r = buf_put(out, h, sizeof(h))) != 0)
		return r;
	return len > 0 ? buf_put(out, body, len) : 0;
}

static uint32_t
control_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int
control_decode_header(const uint8_t *p, size_t avail, size_t maxbody,
    struct control_header *h)
{
	if (avail < CONTROL_HEADER_LEN)
		return OTG_ERR_TRUNCATED;
	h->magic = control_u32(p);
	h->version = (uint16_t)(p[4] << 8 | p[5]);
	h->type = (uint16_t)(p[6] << 8 | p[7]);
	h->flags = control_u32(p + 8);
	h->len = control_u32(p + 12);
	if (h->magic != CONTROL_MAGIC || h->version != CONTROL_VERSION)
		return OTG_ERR_PROTO;
	if (h->len > maxbody)
		return OTG_ERR_TOOBIG;
	return 0;
}

int
control_decode(struct buf *in, size_t maxbody, struct control_header *h, struct buf *body)
{
	int r;

	if ((r = control_decode_header(buf_ptr(in), buf_len(in), maxbody, h)) != 0)
		return r;
	if (buf_len(in) - CONTROL_HEADER_LEN < h->len)
		return OTG_ERR_TRUNCATED;
	if ((r = buf_put(body, buf_ptr(in) + CONTROL_HEADER_LEN, h->len)) != 0)
		return r;
	return buf_consume(in, CONTROL_HEADER_LEN + h->len);
}

const char *
control_type_name(uint16_t type)
{
	switch (type) {
	case CONTROL_STATUS: return "status";
	case CONTROL_SESSIONS: return "sessions";
	case CONTROL_RELOAD: return "reload";
	case CONTROL_USER_LOCK: return "user lock";
	case CONTROL_USER_UNLOCK: return "user unlock";
	case CONTROL_USER_RESET_MFA: return "user reset-mfa";
	case CONTROL_KILL: return "kill";
	case CONTROL_REQUESTS: return "requests";
	case CONTROL_APPROVE: return "approve";
	case CONTROL_DENY: return "deny";
	case CONTROL_WATCH: return "watch";
	case CONTROL_OK: return "ok";
	case CONTROL_FAILED: return "failed";
	case CONTROL_ERROR: return "error";
	case CONTROL_SCREEN: return "screen";
	case CONTROL_OUTPUT: return "output";
	case CONTROL_NOTE: return "note";
	default: return NULL;
	}
}

/* ---- the broker side ---- */

static void
control_client_close(struct control_client *cl)
{
	control_stream_cb *gone = cl->gone;

	if (cl->closed)
		return;
	cl->closed = 1;
	cl->gone = NULL;
	if (gone != NULL)
		gone(cl->stream_arg);
	bufferevent_disable(cl->bev, EV_READ | EV_WRITE);
	event_active(cl->control->reaper, EV_TIMEOUT, 0);
}

static void
control_reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct control *c = arg;
	struct control_client **pp = &c->clients, *cl;

	(void)fd;
	(void)what;
	while ((cl = *pp) != NULL) {
		if (!cl->closed) {
			pp = &cl->next;
			continue;
		}
		*pp = cl->next;
		bufferevent_free(cl->bev);
		if (cl->stream)
			c->nstreams--;
		else
			c->nclients--;
		free(cl);
	}
}

static void control_event_cb(struct bufferevent *, short, void *);

static void
control_drained_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	control_client_close(arg);
}

static void
control_reply(struct control_client *cl, uint16_t type, const void *body, size_t len)
{
	struct buf msg;

	/* bodies come from buffers capped at CONTROL_REPLY_MAX */
	buf_init(&msg, CONTROL_HEADER_LEN + CONTROL_REPLY_MAX);
	cl->replied = 1;
	bufferevent_disable(cl->bev, EV_READ);
	if (control_encode(&msg, type, 0, body, len) != 0 ||
	    bufferevent_write(cl->bev, buf_ptr(&msg), buf_len(&msg)) != 0) {
		control_client_close(cl);
	} else {
		/* the write callback fires once the output has drained */
		bufferevent_setcb(cl->bev, NULL, control_drained_cb, control_event_cb, cl);
	}
	buf_free(&msg);
}

static void
control_reply_error(struct control_client *cl, const char *msg)
{
	log_warnx("control: uid %u pid %d: %s", (unsigned)cl->uid, (int)cl->pid, msg);
	control_reply(cl, CONTROL_ERROR, msg, strlen(msg));
}

/* ---- streams: a watcher gets messages until the session or it ends ---- */

/* Read-only: whatever a watcher sends is dropped, unread. */
static void
control_stream_read_cb(struct bufferevent *bev, void *arg)
{
	struct evbuffer *in = bufferevent_get_input(bev);

	(void)arg;
	evbuffer_drain(in, evbuffer_get_length(in));
}

static void
control_stream_write_cb(struct bufferevent *bev, void *arg)
{
	struct control_client *cl = arg;

	(void)bev;
	if (cl->drained != NULL)
		cl->drained(cl->stream_arg);
}

void
control_stream_start(struct control_client *cl, control_stream_cb *gone,
    control_stream_cb *drained, void *arg)
{
	struct timeval tv = { CONTROL_STREAM_TIMEOUT_SECS, 0 };

	cl->gone = gone;
	cl->drained = drained;
	cl->stream_arg = arg;
	cl->replied = 1;
	/* a watcher may stay for hours: it leaves its place to other verbs */
	cl->stream = 1;
	cl->control->nclients--;
	cl->control->nstreams++;
	/* no read timeout: a watcher only listens; a stuck one times out writing */
	bufferevent_set_timeouts(cl->bev, NULL, &tv);
	bufferevent_setwatermark(cl->bev, EV_WRITE, CONTROL_STREAM_LOW, 0);
	bufferevent_setcb(cl->bev, control_stream_read_cb, control_stream_write_cb,
	    control_event_cb, cl);
	bufferevent_enable(cl->bev, EV_READ);
}

size_t
control_stream_send(struct control_client *cl, uint16_t type, const void *p, size_t len)
{
	struct evbuffer *o = bufferevent_get_output(cl->bev);
	const uint8_t *at = p;
	uint8_t h[CONTROL_HEADER_LEN];
	size_t n;

	if (cl->closed)
		return 0;
	do {
		n = len < CONTROL_STREAM_CHUNK ? len : CONTROL_STREAM_CHUNK;
		control_header(h, type, 0, (uint32_t)n);
		if (evbuffer_add(o, h, sizeof(h)) != 0 || (n > 0 && evbuffer_add(o, at, n) != 0))
			return SIZE_MAX;	/* out of memory: the owner sees it as behind */
		at += n;
		len -= n;
	} while (len > 0);
	return evbuffer_get_length(o);
}

void
control_stream_end(struct control_client *cl, uint16_t type, const char *msg)
{
	cl->gone = NULL;
	cl->drained = NULL;
	if (cl->closed)
		return;
	bufferevent_setwatermark(cl->bev, EV_WRITE, 0, 0);
	control_reply(cl, type, msg, strlen(msg));
}

/* Split a body of NUL-terminated arguments: their count, or -1 when the body
 * is empty, does not end in NUL or holds more than max. */
static int
control_args(const uint8_t *body, size_t len, const char **argv, int max)
{
	size_t at = 0, end;
	int n = 0;

	if (len == 0 || body[len - 1] != '\0')
		return -1;
	while (at < len) {
		if (n == max)
			return -1;
		end = at + strlen((const char *)body + at);
		argv[n++] = (const char *)body + at;
		at = end + 1;
	}
	return n;
}

static void
control_dispatch(struct control_client *cl, const struct control_header *h,
    const uint8_t *body, size_t len)
{
	struct control *c = cl->control;
	const char *name = control_type_name(h->type);
	uint16_t type = CONTROL_OK;
	uint32_t allowed = h->type == CONTROL_SESSIONS || h->type == CONTROL_REQUESTS ?
	    CONTROL_F_JSON : 0;
	struct buf out;
	char msg[96];

	if (name == NULL || h->type >= CONTROL_OK) {
		snprintf(msg, sizeof(msg), "unknown request type %u", (unsigned)h->type);
		control_reply_error(cl, msg);
		return;
	}
	/* a user verb takes exactly one NUL-terminated name */
	int user_verb = h->type >= CONTROL_USER_LOCK && h->type <= CONTROL_USER_RESET_MFA;

	if (user_verb && (c->ops->user == NULL || h->flags != 0 || len < 2 ||
	    len != h->len || memchr(body, '\0', len) != body + len - 1)) {
		snprintf(msg, sizeof(msg), "%s takes one user name", name);
		control_reply_error(cl, msg);
		return;
	}
	/* kill, approve, deny: an ID and an optional value, each NUL-terminated */
	const char *args[2] = { NULL, "" };
	int kill_verb = h->type == CONTROL_KILL || h->type == CONTROL_APPROVE ||
	    h->type == CONTROL_DENY;

	if (kill_verb && ((h->type == CONTROL_KILL ? c->ops->kill == NULL :
	    c->ops->answer == NULL) || h->flags != 0 || len != h->len ||
	    control_args(body, len, args, 2) < 1)) {
		snprintf(msg, sizeof(msg), "%s takes an ID and one value", name);
		control_reply_error(cl, msg);
		return;
	}
	int watch_verb = h->type == CONTROL_WATCH;

	if (watch_verb && (c->ops->watch == NULL || h->flags != 0 || len != h->len ||
	    control_args(body, len, args, 1) != 1)) {
		control_reply_error(cl, "watch takes one session ID");
		return;
	}
	if (watch_verb && c->nstreams >= CONTROL_MAX_STREAMS) {
		control_reply_error(cl, "busy: too many watchers, try again later");
		return;
	}
	if (h->type == CONTROL_REQUESTS && c->ops->requests == NULL) {
		control_reply_error(cl, "requests: not supported by this broker");
		return;
	}
	if (!user_verb && !kill_verb && !watch_verb &&
	    ((h->flags & ~allowed) != 0 || h->len != 0)) {
		snprintf(msg, sizeof(msg), "%s takes no such flags or arguments", name);
		control_reply_error(cl, msg);
		return;
	}
	log_info("control: %s from uid %u pid %d", name, (unsigned)cl->uid, (int)cl->pid);
	if (c->ops->command != NULL)
		c->ops->command(name, cl->uid, c->arg);
	buf_init(&out, CONTROL_REPLY_MAX);
	switch (h->type) {
	case CONTROL_STATUS:
		c->ops->status(&out, c->arg);
		break;
	case CONTROL_SESSIONS:
		c->ops->sessions(&out, (h->flags & CONTROL_F_JSON) != 0, c->arg);
		break;
	case CONTROL_RELOAD:
		if (c->ops->reload(&out, c->arg) != 0)
			type = CONTROL_FAILED;
		break;
	case CONTROL_KILL:
		if (c->ops->kill(args[0], args[1], cl->peer.uid, &out, c->arg) != 0)
			type = CONTROL_FAILED;
		break;
	case CONTROL_REQUESTS:
		c->ops->requests(&out, (h->flags & CONTROL_F_JSON) != 0, c->arg);
		break;
	case CONTROL_APPROVE:
	case CONTROL_DENY:
		if (c->ops->answer(h->type == CONTROL_APPROVE, args[0], args[1], &cl->peer,
		    &out, c->arg) != 0)
			type = CONTROL_FAILED;
		break;
	case CONTROL_WATCH:
		if (c->ops->watch(args[0], cl, &cl->peer, &out, c->arg) == 0) {
			buf_free(&out);
			return;	/* cl streams now */
		}
		type = CONTROL_FAILED;
		break;
	default:
		if (c->ops->user(name + 5, (const char *)body, &out, c->arg) != 0)
			type = CONTROL_FAILED;
		break;
	}
	control_reply(cl, type, buf_ptr(&out), buf_len(&out));
	buf_free(&out);
}

static void
control_read_cb(struct bufferevent *bev, void *arg)
{
	struct control_client *cl = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	uint8_t hdr[CONTROL_HEADER_LEN];
	struct control_header h;
	uint8_t body[CONTROL_ARG_MAX];
	size_t n;
	int r;

	if (cl->replied || evbuffer_get_length(in) < CONTROL_HEADER_LEN)
		return;
	evbuffer_copyout(in, hdr, sizeof(hdr));
	r = control_decode_header(hdr, sizeof(hdr), CONTROL_REQUEST_MAX, &h);
	if (r == OTG_ERR_PROTO) {
		control_reply_error(cl, h.magic == CONTROL_MAGIC ?
		    "unsupported control protocol version (this broker speaks 1)" :
		    "not an otgate control message");
		return;
	}
	if (r != 0) {
		control_reply_error(cl, "request too large");
		return;
	}
	/* wait for what the header announced so that a request is judged whole */
	if (evbuffer_get_length(in) < CONTROL_HEADER_LEN + (size_t)h.len)
		return;
	/* only a user verb's short argument is kept; longer bodies are refused */
	evbuffer_drain(in, CONTROL_HEADER_LEN);
	n = h.len <= sizeof(body) ? (size_t)h.len : 0;
	if (evbuffer_remove(in, body, n) != (int)n) {
		control_client_close(cl);
		return;
	}
	evbuffer_drain(in, (size_t)h.len - n);
	control_dispatch(cl, &h, body, n);
}

static void
control_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct control_client *cl = arg;

	(void)bev;
	if (what & BEV_EVENT_TIMEOUT)
		log_debug("control: uid %u pid %d timed out", (unsigned)cl->uid, (int)cl->pid);
	control_client_close(cl);
}

/* Root, our own user, or a member of otgate-admin by primary or supplementary
 * group as the kernel saw them at connect time. */
static int
control_peer_allowed(const struct control *c, int fd, const struct ucred *cred)
{
	gid_t fixed[64], *groups = fixed;
	socklen_t len = sizeof(fixed);
	size_t i, n;
	int ok = 0;

	if (cred->uid == 0 || cred->uid == geteuid())
		return 1;
	if (!c->have_admin_gid)
		return 0;
	if (cred->gid == c->admin_gid)
		return 1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == -1) {
		if (errno != ERANGE || (groups = malloc(len)) == NULL)
			return 0;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == -1) {
			free(groups);
			return 0;
		}
	}
	n = len / sizeof(gid_t);
	for (i = 0; i < n && !ok; i++)
		ok = groups[i] == c->admin_gid;
	if (groups != fixed)
		free(groups);
	return ok;
}

/* The peer's ids for verbs that depend on group (approve, deny); past
 * CONTROL_PEER_GROUPS supplementary groups the rest are not seen. */
static void
control_peer_groups(int fd, const struct ucred *cred, struct control_peer *peer)
{
	socklen_t len = sizeof(peer->groups);

	peer->uid = cred->uid;
	peer->gid = cred->gid;
	peer->ngroups = 0;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, peer->groups, &len) == 0)
		peer->ngroups = len / sizeof(gid_t);
}

/* Best effort, before closing: a refused or surplus peer learns why. */
static void
control_turn_away(int fd, const char *msg)
{
	struct buf b;

	buf_init(&b, CONTROL_HEADER_LEN + 256);
	if (control_encode(&b, CONTROL_ERROR, 0, msg, strlen(msg)) == 0)
		(void)send(fd, buf_ptr(&b), buf_len(&b), MSG_DONTWAIT | MSG_NOSIGNAL);
	buf_free(&b);
	close(fd);
}

static void
control_accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct control *c = arg;
	struct control_client *cl;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct timeval tv = { CONTROL_TIMEOUT_SECS, 0 };

	(void)l;
	(void)sa;
	(void)salen;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("control: SO_PEERCRED");
		close(fd);
		return;
	}
	if (!control_peer_allowed(c, fd, &cred)) {
		log_warnx("control: refused uid %u gid %u pid %d: not root, not uid %u, "
		    "not in group " CONTROL_ADMIN_GROUP, (unsigned)cred.uid,
		    (unsigned)cred.gid, (int)cred.pid, (unsigned)geteuid());
		control_turn_away(fd, "permission denied: the control socket is for root, "
		    "the broker's user and group " CONTROL_ADMIN_GROUP);
		return;
	}
	if (c->nclients >= CONTROL_MAX_CLIENTS) {
		log_warnx("control: uid %u pid %d turned away: %u clients already",
		    (unsigned)cred.uid, (int)cred.pid, c->nclients);
		control_turn_away(fd, "busy: too many control clients, try again");
		return;
	}
	if ((cl = calloc(1, sizeof(*cl))) == NULL ||
	    (cl->bev = bufferevent_socket_new(c->base, fd, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		log_warnx("control: out of memory");
		free(cl);
		close(fd);
		return;
	}
	cl->control = c;
	cl->uid = cred.uid;
	cl->pid = cred.pid;
	control_peer_groups(fd, &cred, &cl->peer);
	cl->next = c->clients;
	c->clients = cl;
	c->nclients++;
	/* never buffer more than the largest request a client may send */
	bufferevent_setwatermark(cl->bev, EV_READ, 0, CONTROL_HEADER_LEN + CONTROL_REQUEST_MAX);
	bufferevent_set_timeouts(cl->bev, &tv, &tv);
	bufferevent_setcb(cl->bev, control_read_cb, NULL, control_event_cb, cl);
	bufferevent_enable(cl->bev, EV_READ);
}

static void
control_backoff_cb(evutil_socket_t fd, short what, void *arg)
{
	struct control *c = arg;

	(void)fd;
	(void)what;
	evconnlistener_enable(c->listener);
}

/* Out of descriptors: pause accepting for a second instead of spinning. */
static void
control_accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct control *c = arg;
	struct timeval tv = { 1, 0 };

	log_warn("control: accept");
	evconnlistener_disable(l);
	evtimer_add(c->backoff, &tv);
}

/* A socket file left by a broker that died is removed; a live broker's is not. */
static int
control_clear_stale(const char *path, const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, live;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : OTG_ERR_IO;
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx("control: %s exists and is not a socket", path);
		return OTG_ERR_EXISTS;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return OTG_ERR_IO;
	live = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	if (live) {
		log_warnx("control: %s: another broker is listening", path);
		return OTG_ERR_EXISTS;
	}
	return unlink(path) == -1 ? OTG_ERR_IO : 0;
}

int
control_open(struct event_base *base, const char *path, const struct control_ops *ops,
    void *arg, struct control **out)
{
	struct sockaddr_un sun;
	struct control *c;
	struct group *gr;
	struct stat st;
	mode_t old;
	int fd = -1, r;

	*out = NULL;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("control: %s: path too long for a socket", path);
		return OTG_ERR_TOOBIG;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((c = calloc(1, sizeof(*c))) == NULL || (c->path = strdup(path)) == NULL) {
		free(c);
		return OTG_ERR_NOMEM;
	}
	c->base = base;
	c->ops = ops;
	c->arg = arg;
	if ((gr = getgrnam(CONTROL_ADMIN_GROUP)) != NULL) {
		c->admin_gid = gr->gr_gid;
		c->have_admin_gid = 1;
	}
	if ((r = control_clear_stale(path, &sun)) != 0)
		goto out;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1) {
		r = OTG_ERR_IO;
		goto out;
	}
	/* 0660 from the start: the umask applies at bind, no window with more */
	old = umask(0117);
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (r == -1 || lstat(path, &st) == -1) {
		log_warn("control: %s", path);
		r = OTG_ERR_IO;
		goto out;
	}
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	/* hand the socket to the admins' group when we may (root, or a member) */
	if (c->have_admin_gid && lchown(path, (uid_t)-1, c->admin_gid) == -1)
		log_debug("control: %s: cannot give it to group " CONTROL_ADMIN_GROUP ": %s",
		    path, strerror(errno));
	c->listener = evconnlistener_new(base, control_accept_cb, c,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 16, fd);
	c->backoff = evtimer_new(base, control_backoff_cb, c);
	c->reaper = event_new(base, -1, 0, control_reap_cb, c);
	if (c->listener == NULL || c->backoff == NULL || c->reaper == NULL) {
		if (c->listener != NULL)
			fd = -1;	/* closed with the listener */
		r = OTG_ERR_NOMEM;
		goto out;
	}
	fd = -1;
	evconnlistener_set_error_cb(c->listener, control_accept_error_cb);
	*out = c;
	return 0;
out:
	if (fd != -1)
		close(fd);
	control_close(c);
	return r;
}

void
control_close(struct control *c)
{
	struct control_client *cl, *next;
	struct stat st;

	if (c == NULL)
		return;
	for (cl = c->clients; cl != NULL; cl = next) {
		next = cl->next;
		control_client_close(cl);	/* a watcher's session forgets it */
		bufferevent_free(cl->bev);
		free(cl);
	}
	if (c->listener != NULL)
		evconnlistener_free(c->listener);
	if (c->backoff != NULL)
		event_free(c->backoff);
	if (c->reaper != NULL)
		event_free(c->reaper);
	/* remove the socket only if it is still the one we made */
	if (c->ino != 0 && lstat(c->path, &st) == 0 && st.st_dev == c->dev &&
	    st.st_ino == c->ino)
		unlink(c->path);
	free(c->path);
	free(c);
}
