/*
 * sdnotify.c: tells systemd where otgated is in its life (Type=notify): ready
 * once it listens, reloading while a SIGHUP swaps the policy, stopping when it
 * shuts down. It speaks the NOTIFY_SOCKET datagram protocol itself, so the
 * broker needs no libsystemd; without NOTIFY_SOCKET (tests, demo, started by
 * hand) every call does nothing and succeeds.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "broker/broker.h"

/* Fill sa from NOTIFY_SOCKET: an absolute path, or "@name" for an abstract
 * socket (leading NUL, length without a terminator). */
static int
sdnotify_address(const char *where, struct sockaddr_un *sa, socklen_t *salen)
{
	size_t len = strlen(where);

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if ((where[0] != '/' && where[0] != '@') || len < 2 || len >= sizeof(sa->sun_path))
		return -1;
	memcpy(sa->sun_path, where, len);
	if (where[0] == '@') {
		sa->sun_path[0] = '\0';
		*salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	} else {
		*salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	}
	return 0;
}

/* One datagram to the service manager. A datagram socket never blocks the
 * loop for long: systemd reads its notify socket at once. */
static int
sdnotify_send(const char *msg)
{
	const char *where = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	socklen_t salen;
	ssize_t n;
	int fd, r = -1;

	if (where == NULL || where[0] == '\0')
		return 0;
	if (sdnotify_address(where, &sa, &salen) != 0) {
		log_warnx("NOTIFY_SOCKET is neither an absolute path nor @abstract, or too long");
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("sd_notify socket");
		return -1;
	}
	n = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
	if (n == -1)
		log_warn("sd_notify %s", where);
	else if ((size_t)n != strlen(msg))
		log_warnx("sd_notify %s: short send", where);
	else
		r = 0;
	close(fd);
	return r;
}

int
sdnotify_ready(void)
{
	return sdnotify_send("READY=1\nSTATUS=listening");
}

/* systemd 253's Type=notify-reload also wants the monotonic time of the
 * reload's start; 252 ignores it, so one message serves both. */
int
sdnotify_reloading(void)
{
	struct timespec ts;
	char msg[96];

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return -1;
	snprintf(msg, sizeof(msg), "RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000);
	return sdnotify_send(msg);
}

int
sdnotify_stopping(void)
{
	return sdnotify_send("STOPPING=1\nSTATUS=stopping");
}
