/*
 * authpool.c: password hashing, PAM conversations and the TOTP store's files
 * and locks all block, so otgated forks a few helper processes at start-up
 * (before the listener opens: they hold nothing of the network side) and
 * hands them one request at a time over SOCK_SEQPACKET socketpairs, which
 * keep each message whole. The loop only ever sends and reads whole messages
 * of at most AUTHPOOL_MSG_MAX bytes, and checks every one. A request waits in
 * a bounded queue; a helper that dies, answers nonsense or overruns
 * AUTHPOOL_TIMEOUT is killed and replaced, and its request fails closed.
 *
 * Wire format (both ways: version u8, op u8, two zero bytes, then):
 *   request  USER NUL SECRET NUL RHOST NUL
 *   reply    status i32 (big-endian), value i64, TEXT NUL
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "broker/broker.h"
#include "pam/pam.h"

#define AUTHPOOL_VERSION 1
#define AUTHPOOL_FD 3		/* the helper's end, after the others closed */

struct authpool_job {
	uint8_t msg[AUTHPOOL_MSG_MAX];	/* the encoded request, wiped once sent */
	size_t len;
	enum authpool_op op;
	authpool_cb *cb;
	void *arg;
	struct authpool_job *next;
};

struct authpool_helper {
	struct authpool *pool;
	pid_t pid;
	pid_t forker;		/* who forked it: daemon() makes another process */
	time_t started;
	int fd;			/* -1: none running */
	struct event *ev;
	struct event *timer;
	struct authpool_job *job;	/* in flight */
};

struct authpool {
	struct event_base *base;
	char *state;
	char *user;		/* drop to this user when forked as root; NULL: stay */
	struct authpool_helper h[AUTHPOOL_HELPERS];
	struct authpool_job *head, *tail;
	size_t nqueued;
};

static void authpool_dispatch(struct authpool *p);

/* ---- framing ---- */

static int
authpool_put_str(uint8_t *out, size_t outsz, size_t *off, const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max || *off + n + 1 > outsz)
		return OTG_ERR_INVAL;
	memcpy(out + *off, s, n + 1);
	*off += n + 1;
	return 0;
}

int
authpool_encode_req(const struct authpool_req *req, uint8_t *out, size_t outsz,
    size_t *len)
{
	size_t off = 4;

	if (outsz < 4 || req->op < AUTHPOOL_PASSWORD || req->op > AUTHPOOL_FAIL)
		return OTG_ERR_INVAL;
	out[0] = AUTHPOOL_VERSION;
	out[1] = (uint8_t)req->op;
	out[2] = out[3] = 0;
	if (authpool_put_str(out, outsz, &off, req->user, USERNAME_MAX - 1) != 0 ||
	    authpool_put_str(out, outsz, &off, req->secret, PASSWD_MAX) != 0 ||
	    authpool_put_str(out, outsz, &off, req->rhost, 63) != 0)
		return OTG_ERR_INVAL;
	*len = off;
	return 0;
}

/* Next NUL-terminated string at *off, at most max bytes, printable unless a secret. */
static const char *
authpool_get_str(const uint8_t *msg, size_t len, size_t *off, size_t max)
{
	const uint8_t *p = msg + *off, *nul;

	if (*off >= len || (nul = memchr(p, '\0', len - *off)) == NULL ||
	    (size_t)(nul - p) > max)
		return NULL;
	*off += (size_t)(nul - p) + 1;
	return (const char *)p;
}

int
authpool_decode_req(uint8_t *msg, size_t len, struct authpool_req *req)
{
	size_t off = 4;

	if (len < 4 || len > AUTHPOOL_MSG_MAX || msg[0] != AUTHPOOL_VERSION ||
	    msg[1] < AUTHPOOL_PASSWORD || msg[1] > AUTHPOOL_FAIL || msg[2] || msg[3])
		return OTG_ERR_PROTO;
	req->op = msg[1];
	if ((req->user = authpool_get_str(msg, len, &off, USERNAME_MAX - 1)) == NULL ||
	    (req->secret = authpool_get_str(msg, len, &off, PASSWD_MAX)) == NULL ||
	    (req->rhost = authpool_get_str(msg, len, &off, 63)) == NULL || off != len ||
	    !value_name_ok(req->user))
		return OTG_ERR_PROTO;
	return 0;
}

int
authpool_encode_reply(const struct authpool_reply *r, uint8_t *out, size_t outsz,
    size_t *len)
{
	uint64_t v = (uint64_t)r->value;
	uint32_t st = (uint32_t)r->status;
	size_t off = 16, i;

	if (outsz < 16)
		return OTG_ERR_INVAL;
	out[0] = AUTHPOOL_VERSION;
	out[1] = out[2] = out[3] = 0;
	for (i = 0; i < 4; i++)
		out[4 + i] = (uint8_t)(st >> (24 - 8 * i));
	for (i = 0; i < 8; i++)
		out[8 + i] = (uint8_t)(v >> (56 - 8 * i));
	if (authpool_put_str(out, outsz, &off, r->text, sizeof(r->text) - 1) != 0)
		return OTG_ERR_INVAL;
	*len = off;
	return 0;
}

int
authpool_decode_reply(const uint8_t *msg, size_t len, struct authpool_reply *r)
{
	uint64_t v = 0;
	uint32_t st = 0;
	size_t off = 16, i;
	const char *text;

	if (len < 16 || len > AUTHPOOL_MSG_MAX || msg[0] != AUTHPOOL_VERSION ||
	    msg[1] || msg[2] || msg[3])
		return OTG_ERR_PROTO;
	for (i = 0; i < 4; i++)
		st = st << 8 | msg[4 + i];
	for (i = 0; i < 8; i++)
		v = v << 8 | msg[8 + i];
	if ((text = authpool_get_str(msg, len, &off, sizeof(r->text) - 1)) == NULL ||
	    off != len)
		return OTG_ERR_PROTO;
	r->status = (int32_t)st;
	r->value = (long long)v;
	/* only OTG_ERR_* codes or 0 may come back */
	if (r->status > 0 || r->status < OTG_ERR_RANGE)
		return OTG_ERR_PROTO;
	memcpy(r->text, text, strlen(text) + 1);
	return 0;
}

/* ---- the helper process ---- */

static void
authpool_helper_main(const char *state)
{
	uint8_t msg[AUTHPOOL_MSG_MAX + 1], out[AUTHPOOL_MSG_MAX];
	struct authpool_req req;
	struct authpool_reply rep;
	size_t len;
	ssize_t n;

	for (;;) {
		n = recv(AUTHPOOL_FD, msg, sizeof(msg), 0);
		if (n == 0 || (n < 0 && errno != EINTR))
			_exit(0);	/* the broker is gone */
		if (n < 0)
			continue;
		memset(&rep, 0, sizeof(rep));
		if (authpool_decode_req(msg, (size_t)n, &req) != 0) {
			rep.status = OTG_ERR_PROTO;
			snprintf(rep.text, sizeof(rep.text), "malformed request");
		} else {
			authwork_run(state, &req, &rep);
		}
		explicit_bzero(msg, sizeof(msg));
		if (authpool_encode_reply(&rep, out, sizeof(out), &len) != 0 ||
		    send(AUTHPOOL_FD, out, len, MSG_NOSIGNAL) != (ssize_t)len)
			_exit(1);
		explicit_bzero(&rep, sizeof(rep));
	}
}

/* A helper started by root gives root up before it reads a single request:
 * PAM, crypt(3) and the store then run as the broker's own user. */
static int
authpool_drop(const char *user)
{
	struct passwd *pw;
	gid_t gid;

	if (user == NULL || geteuid() != 0)
		return 0;
	if ((pw = getpwnam(user)) == NULL || pw->pw_uid == 0)
		return -1;
	gid = pw->pw_gid;
	if (setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1 || setuid(0) != -1)
		return -1;
	return 0;
}

static void authpool_read_cb(evutil_socket_t, short, void *);
static void authpool_timeout_cb(evutil_socket_t, short, void *);

static int
authpool_spawn(struct authpool_helper *h)
{
	struct authpool *p = h->pool;
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("auth helper: socketpair");
		return -1;
	}
	if ((pid = fork()) == -1) {
		log_warn("auth helper: fork");
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		/* nothing of the broker's but stdio and this socket stays open */
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		if (dup2(sv[1], AUTHPOOL_FD) == -1)
			_exit(1);
		close_range(AUTHPOOL_FD + 1, ~0U, 0);
		if (authpool_drop(p->user) != 0)
			_exit(1);
		authpool_helper_main(p->state);
	}
	close(sv[1]);
	h->pid = pid;
	h->forker = getpid();
	h->started = time(NULL);
	h->fd = sv[0];
	if (evutil_make_socket_nonblocking(h->fd) != 0 ||
	    (h->ev = event_new(p->base, h->fd, EV_READ | EV_PERSIST, authpool_read_cb,
	    h)) == NULL || (h->timer = evtimer_new(p->base, authpool_timeout_cb, h)) == NULL ||
	    event_add(h->ev, NULL) != 0) {
		log_warnx("auth helper: cannot watch it");
		return -1;	/* authpool_lost cleans up */
	}
	return 0;
}

static void
authpool_job_done(struct authpool_job *job, const struct authpool_reply *r)
{
	explicit_bzero(job->msg, sizeof(job->msg));
	if (job->cb != NULL)
		job->cb(r, job->arg);
	free(job);
}

static void
authpool_fail_job(struct authpool_job *job, const char *why)
{
	struct authpool_reply r;

	memset(&r, 0, sizeof(r));
	r.status = OTG_ERR_IO;
	snprintf(r.text, sizeof(r.text), "%s", why);
	authpool_job_done(job, &r);
}

/* Stop a helper; its request (if any) fails. */
static void
authpool_reap(struct authpool_helper *h, const char *why)
{
	struct authpool_job *job = h->job;

	h->job = NULL;
	if (h->ev != NULL)
		event_free(h->ev);
	if (h->timer != NULL)
		event_free(h->timer);
	h->ev = h->timer = NULL;
	if (h->fd != -1)
		close(h->fd);
	h->fd = -1;
	/* a helper forked before daemon() is init's child now: only our own
	 * children may be signalled by pid (theirs cannot have been reused) */
	if (h->pid > 0 && h->forker == getpid()) {
		kill(h->pid, SIGKILL);
		while (waitpid(h->pid, NULL, 0) == -1 && errno == EINTR)
			;
	}
	h->pid = 0;
	if (job != NULL)
		authpool_fail_job(job, why);
}

static void
authpool_lost(struct authpool_helper *h, const char *why)
{
	/* one that dies at once would die again: the next request retries it */
	int again = time(NULL) - h->started >= 1;

	log_warnx("auth helper %d: %s; %s", (int)h->pid, why, again ? "replacing it" :
	    "it had just started");
	authpool_reap(h, why);
	if (again && authpool_spawn(h) != 0)
		authpool_reap(h, "no helper");
	authpool_dispatch(h->pool);
}

static void
authpool_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct authpool_helper *h = arg;
	struct authpool_job *job;
	struct authpool_reply r;
	uint8_t msg[AUTHPOOL_MSG_MAX + 1];
	ssize_t n;

	(void)what;
	n = recv(fd, msg, sizeof(msg), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		authpool_lost(h, n == 0 ? "exited" : "read failed");
		return;
	}
	if (h->job == NULL || authpool_decode_reply(msg, (size_t)n, &r) != 0) {
		authpool_lost(h, "malformed or unasked reply");
		return;
	}
	explicit_bzero(msg, sizeof(msg));
	evtimer_del(h->timer);
	job = h->job;
	h->job = NULL;
	authpool_job_done(job, &r);	/* may submit again */
	explicit_bzero(&r, sizeof(r));
	authpool_dispatch(h->pool);
}

static void
authpool_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	authpool_lost(arg, "request timed out");
}

static int
authpool_alive(struct authpool_helper *h)
{
	uint8_t b;
	ssize_t n = recv(h->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);

	return n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR));
}

static void
authpool_dispatch(struct authpool *p)
{
	struct timeval tv = { AUTHPOOL_TIMEOUT, 0 };
	struct authpool_helper *h;
	struct authpool_job *job;
	size_t i;

	for (i = 0; i < AUTHPOOL_HELPERS && p->head != NULL; i++) {
		h = &p->h[i];
		if (h->job != NULL)
			continue;
		/* an idle helper that died has not been read yet: replace it
		 * now rather than fail the request it would be given */
		if (h->fd != -1 && !authpool_alive(h))
			authpool_reap(h, "exited");
		if (h->fd == -1 && authpool_spawn(h) != 0) {
			authpool_reap(h, "no helper");
			continue;
		}
		job = p->head;
		p->head = job->next;
		if (p->head == NULL)
			p->tail = NULL;
		p->nqueued--;
		h->job = job;
		if (send(h->fd, job->msg, job->len, MSG_NOSIGNAL | MSG_DONTWAIT) !=
		    (ssize_t)job->len) {
			authpool_lost(h, "cannot send");
			return;	/* authpool_lost dispatched again */
		}
		explicit_bzero(job->msg, sizeof(job->msg));
		evtimer_add(h->timer, &tv);
	}
	/* no helper could be started: fail closed rather than wait forever */
	for (i = 0; i < AUTHPOOL_HELPERS; i++)
		if (p->h[i].fd != -1)
			return;
	while ((job = p->head) != NULL) {
		p->head = job->next;
		p->nqueued--;
		authpool_fail_job(job, "no auth helper running");
	}
	p->tail = NULL;
}

int
authpool_submit(struct authpool *p, const struct authpool_req *req, authpool_cb *cb,
    void *arg)
{
	struct authpool_job *job;
	int r;

	if (p->nqueued >= AUTHPOOL_QUEUE_MAX)
		return OTG_ERR_TOOBIG;
	if ((job = calloc(1, sizeof(*job))) == NULL)
		return OTG_ERR_NOMEM;
	if ((r = authpool_encode_req(req, job->msg, sizeof(job->msg), &job->len)) != 0) {
		explicit_bzero(job->msg, sizeof(job->msg));
		free(job);
		return r;
	}
	job->op = req->op;
	job->cb = cb;
	job->arg = arg;
	if (p->tail != NULL)
		p->tail->next = job;
	else
		p->head = job;
	p->tail = job;
	p->nqueued++;
	authpool_dispatch(p);
	return 0;
}

int
authpool_open(struct event_base *base, const char *state, const char *user,
    struct authpool **out)
{
	struct authpool *p;
	size_t i;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL || (p->state = strdup(state)) == NULL ||
	    (user != NULL && (p->user = strdup(user)) == NULL)) {
		if (p != NULL)
			free(p->state);
		free(p);
		return OTG_ERR_NOMEM;
	}
	p->base = base;
	for (i = 0; i < AUTHPOOL_HELPERS; i++) {
		p->h[i].pool = p;
		p->h[i].fd = -1;
	}
	for (i = 0; i < AUTHPOOL_HELPERS; i++) {
		if (authpool_spawn(&p->h[i]) != 0) {
			authpool_close(p);
			return OTG_ERR_IO;
		}
	}
	*out = p;
	return 0;
}

void
authpool_close(struct authpool *p)
{
	struct authpool_job *job;
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < AUTHPOOL_HELPERS; i++)
		authpool_reap(&p->h[i], "broker stopping");
	while ((job = p->head) != NULL) {
		p->head = job->next;
		authpool_fail_job(job, "broker stopping");
	}
	free(p->state);
	free(p->user);
	free(p);
}
