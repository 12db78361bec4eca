/*
 * bridge.c: the one place where libssh meets libevent. libssh only reads its
 * socket inside its own poll dispatch, so each session gets its own ssh_event
 * (a shared one would run other sessions' callbacks re-entrantly) and a
 * level-triggered read event that dispatches it. libssh buffers output without
 * bound until it sees POLLOUT, so the write event is armed exactly while
 * ssh_get_poll_flags() reports pending output. The owner's callback runs after
 * libssh's callbacks have returned: only there may it touch the other session.
 *
 * libevent watches a dup() of the session's socket: if libssh closes its own
 * descriptor on an error, the number cannot be reused under a live event.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>
#include <libssh/libssh.h>

#include "broker/broker.h"

/* dispatch rounds per wake-up: libssh reads at most 4 KiB per round */
#define BRIDGE_ROUNDS 16

struct bridge {
	ssh_session session;
	ssh_event sev;
	int fd;			/* our dup of the session's socket */
	struct event *rd, *wr;
	int writing;
	bridge_cb *cb;
	void *arg;
};

static void
bridge_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bridge *b = arg;
	int i;

	(void)fd;
	(void)what;
	for (i = 0; i < BRIDGE_ROUNDS; i++)
		if (ssh_event_dopoll(b->sev, 0) != SSH_OK)
			break;
	if (ssh_get_fd(b->session) == SSH_INVALID_SOCKET) {
		/* libssh gave up on the socket: stop spinning on our dup */
		event_del(b->rd);
		event_del(b->wr);
		b->writing = 0;
	}
	b->cb(b->arg);
	bridge_update(b);
}

struct bridge *
bridge_new(struct event_base *base, ssh_session session, bridge_cb *cb, void *arg)
{
	struct bridge *b;
	socket_t sfd = ssh_get_fd(session);

	if (sfd == SSH_INVALID_SOCKET || (b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->session = session;
	b->cb = cb;
	b->arg = arg;
	if ((b->fd = fcntl(sfd, F_DUPFD_CLOEXEC, 0)) == -1)
		goto fail;
	if ((b->sev = ssh_event_new()) == NULL)
		goto fail;
	if (ssh_event_add_session(b->sev, session) != SSH_OK)
		goto fail;
	b->rd = event_new(base, b->fd, EV_READ | EV_PERSIST, bridge_io_cb, b);
	b->wr = event_new(base, b->fd, EV_WRITE | EV_PERSIST, bridge_io_cb, b);
	if (b->rd == NULL || b->wr == NULL || event_add(b->rd, NULL) == -1)
		goto fail;
	bridge_update(b);
	return b;
fail:
	bridge_free(b);
	return NULL;
}

void
bridge_update(struct bridge *b)
{
	int want;

	if (b == NULL || b->wr == NULL)
		return;
	if (ssh_get_fd(b->session) == SSH_INVALID_SOCKET)
		want = 0;
	else
		want = (ssh_get_poll_flags(b->session) & SSH_WRITE_PENDING) != 0;
	if (want && !b->writing)
		event_add(b->wr, NULL);
	else if (!want && b->writing)
		event_del(b->wr);
	b->writing = want;
}

void
bridge_retarget(struct bridge *b, bridge_cb *cb, void *arg)
{
	b->cb = cb;
	b->arg = arg;
}

void
bridge_free(struct bridge *b)
{
	if (b == NULL)
		return;
	if (b->rd != NULL)
		event_free(b->rd);
	if (b->wr != NULL)
		event_free(b->wr);
	if (b->sev != NULL) {
		ssh_event_remove_session(b->sev, b->session);
		ssh_event_free(b->sev);
	}
	if (b->fd != -1)
		close(b->fd);
	free(b);
}
