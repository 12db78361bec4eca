/*
 * onrequest.c: `on-request = PATH` in otgated.conf, so a site can page the
 * operator on shift when a vendor waits for approval. The loop never forks
 * or waits for it: at start-up (before the privilege drop and the seccomp
 * filter, which allows no exec) one helper process is forked; it drops to
 * the broker's `user`, reads each request as one JSON object from a
 * SOCK_SEQPACKET pair, and runs PATH with that object on its standard input,
 * an empty environment and a time limit, one at a time. A request sent while
 * the helper is busy waits in the socket; when the socket is full it is
 * dropped and logged (the request itself still waits for an operator).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "broker/broker.h"

#define ONREQUEST_TIMEOUT_MS 10000

static int
onrequest_drop(const char *user)
{
	struct passwd *pw;

	if (getuid() != 0 || user == NULL)
		return 0;
	if ((pw = getpwnam(user)) == NULL || pw->pw_uid == 0)
		return -1;
	if (setgroups(0, NULL) != 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0 || setuid(0) == 0)
		return -1;
	return 0;
}

/* Run path with msg on stdin; kill it when it overruns. */
static void
onrequest_exec(const char *path, const char *msg, size_t len)
{
	char *const argv[] = { (char *)path, NULL };
	char *const envp[] = { "PATH=/usr/bin:/bin", NULL };
	struct timespec tick = { 0, 50 * 1000 * 1000 };
	int in[2], st, waited;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) != 0)
		return;
	if ((pid = fork()) == -1) {
		close(in[0]);
		close(in[1]);
		return;
	}
	if (pid == 0) {
		/* stdin is the request; stdout and stderr stay the broker's log */
		if (dup2(in[0], 0) == -1 || close_range(3, ~0u, 0) != 0)
			_exit(127);
		execve(path, argv, envp);
		fprintf(stderr, "otgated: on-request %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	close(in[0]);
	/* a hook that does not read its input must not block the helper */
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	if (write(in[1], msg, len) != (ssize_t)len)
		fprintf(stderr, "otgated: on-request %s: its input was cut short\n", path);
	close(in[1]);
	for (waited = 0; waitpid(pid, &st, WNOHANG) == 0; waited += 50) {
		if (waited >= ONREQUEST_TIMEOUT_MS) {
			fprintf(stderr, "otgated: on-request %s: killed after %d s\n", path,
			    ONREQUEST_TIMEOUT_MS / 1000);
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return;
		}
		nanosleep(&tick, NULL);
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fprintf(stderr, "otgated: on-request %s: failed (status %d)\n", path,
		    WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

static void
onrequest_helper(int fd, const char *path, const char *user)
{
	char msg[ONREQUEST_MSG_MAX];
	ssize_t n;

	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	if (onrequest_drop(user) != 0) {
		fprintf(stderr, "otgated: on-request: cannot become user %s\n", user);
		_exit(1);
	}
	while ((n = recv(fd, msg, sizeof(msg), 0)) > 0)
		onrequest_exec(path, msg, (size_t)n);
	_exit(0);
}

int
onrequest_start(struct server *srv)
{
	int sv[2];
	pid_t pid;

	srv->onrequest_fd = -1;
	if (srv->conf->on_request == NULL)
		return 0;
	if (access(srv->conf->on_request, X_OK) != 0) {
		log_warn("on-request %s", srv->conf->on_request);
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		log_warn("on-request: socketpair");
		return -1;
	}
	if ((pid = fork()) == -1) {
		log_warn("on-request: fork");
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		/* keep only the socket: a descriptor of the broker's (the signer's
		 * socket above all) held here would keep its peer from seeing EOF */
		if (dup2(sv[1], 3) == -1 || close_range(4, ~0u, 0) != 0)
			_exit(1);
		onrequest_helper(3, srv->conf->on_request, srv->conf->user);
	}
	close(sv[1]);
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) != 0) {
		close(sv[0]);
		return -1;
	}
	srv->onrequest_fd = sv[0];
	srv->onrequest_pid = pid;
	return 0;
}

void
onrequest_run(struct server *srv, unsigned long id, const struct buf *json)
{
	if (srv->onrequest_fd == -1)
		return;
	if (buf_len(json) == 0 || send(srv->onrequest_fd, buf_ptr(json), buf_len(json),
	    MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)buf_len(json))
		log_warnx("on-request: request %lu not handed to %s (helper busy or gone)",
		    id, srv->conf->on_request);
}

void
onrequest_stop(struct server *srv)
{
	if (srv->onrequest_fd == -1)
		return;
	close(srv->onrequest_fd);
	srv->onrequest_fd = -1;
	/* a hook still running is the site's business, not a reason to hang */
	kill(srv->onrequest_pid, SIGTERM);
	waitpid(srv->onrequest_pid, NULL, 0);
}
