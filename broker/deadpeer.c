/*
 * deadpeer.c: a peer that vanished (cable pulled, host down, NAT forgot us)
 * never answers, so both sides' sockets get a bound from the kernel. The SSH
 * keepalives vendor.c and asset.c send every `keepalive` seconds are data the
 * peer must acknowledge: TCP_USER_TIMEOUT aborts the connection when sent data
 * stays unacknowledged for three keepalive periods, and TCP keepalive probes
 * find a silent peer on an idle connection the same way. The abort reaches
 * libssh as a socket error and the session ends with it.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "broker/broker.h"

#define DEADPEER_PROBES 3

int
deadpeer_arm(int fd, uint64_t keepalive)
{
	int on = 1, idle, probes = DEADPEER_PROBES;
	unsigned int timeout;

	if (keepalive == 0)
		return 0;
	idle = keepalive > 3600 ? 3600 : (int)keepalive;
	timeout = (unsigned int)idle * DEADPEER_PROBES * 1000u;
	if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) == -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)) == -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &idle, sizeof(idle)) == -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof(probes)) == -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &timeout, sizeof(timeout)) == -1)
		return -1;
	return 0;
}
