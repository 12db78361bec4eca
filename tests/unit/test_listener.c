/*
 * test_listener.c: the pre-auth limits on real loopback sockets. Below START
 * every connection is handed on; at FULL unauthenticated ones every new one is
 * dropped; one source never holds more than max-startups-per-source; a released
 * slot makes room again; IPv6 listen addresses work.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include <event2/event.h>

#include "broker/broker.h"

#define MAX_ACCEPTED 64

struct accepted {
	int fd[MAX_ACCEPTED];
	struct listener_slot *slot[MAX_ACCEPTED];
	size_t n;
};

static void
accept_cb(int fd, const struct sockaddr *sa, socklen_t salen,
    struct listener_slot *slot, void *arg)
{
	struct accepted *a = arg;

	(void)sa;
	(void)salen;
	assert_true(a->n < MAX_ACCEPTED);
	a->fd[a->n] = fd;
	a->slot[a->n] = slot;
	a->n++;
}

/* A port that is free on addr right now. */
static int
free_port(int family, const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = socket(family, SOCK_STREAM, 0), port;

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)family;
	if (family == AF_INET)
		inet_pton(AF_INET, addr, &((struct sockaddr_in *)&ss)->sin_addr);
	else
		inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)&ss)->sin6_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
	    ((struct sockaddr_in6 *)&ss)->sin6_port);
	close(fd);
	return port;
}

static int
dial(int family, const char *addr, int port)
{
	struct sockaddr_storage ss;
	int fd = socket(family, SOCK_STREAM, 0);

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, addr, &sin->sin_addr);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, addr, &sin6->sin6_addr);
	}
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)), 0);
	return fd;
}

/* Let the listener take every pending connection. */
static void
spin(struct event_base *base)
{
	int i;

	for (i = 0; i < 20; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		usleep(2000);
	}
}

static void
conf_init(struct conf *c, const char *listen, unsigned begin, unsigned rate,
    unsigned full, unsigned per_source)
{
	memset(c, 0, sizeof(*c));
	assert_int_equal(strlist_push(&c->listen, listen), 0);
	c->startups_begin = begin;
	c->startups_rate = rate;
	c->startups_full = full;
	c->startups_per_source = per_source;
}

static void
release_all(struct accepted *a)
{
	size_t i;

	for (i = 0; i < a->n; i++) {
		listener_release(a->slot[i]);
		close(a->fd[i]);
	}
	a->n = 0;
}

static void
test_full_drops_everything(void **state)
{
	struct event_base *base = event_base_new();
	struct accepted a = { .n = 0 };
	struct listener *l;
	struct conf c;
	char addr[64];
	int port = free_port(AF_INET, "127.0.0.1"), fds[6], i;

	(void)state;
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	conf_init(&c, addr, 2, 0, 3, 100);
	assert_int_equal(listener_open(base, &c, accept_cb, &a, &l), 0);
	/* rate 0: below FULL nothing is dropped; at FULL everything is */
	for (i = 0; i < 6; i++) {
		fds[i] = dial(AF_INET, "127.0.0.1", port);
		spin(base);
	}
	assert_int_equal(a.n, 3);
	/* an authenticated (released) connection makes room for one more */
	listener_release(a.slot[0]);
	a.slot[0] = NULL;
	close(dial(AF_INET, "127.0.0.1", port));
	spin(base);
	assert_int_equal(a.n, 4);
	release_all(&a);
	for (i = 0; i < 6; i++)
		close(fds[i]);
	listener_close(l);
	strlist_free(&c.listen);
	event_base_free(base);
}

static void
test_per_source(void **state)
{
	struct event_base *base = event_base_new();
	struct accepted a = { .n = 0 };
	struct listener *l;
	struct conf c;
	char addr[64];
	int port = free_port(AF_INET, "127.0.0.1"), fds[8], i;

	(void)state;
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	conf_init(&c, addr, 100, 30, 200, 2);
	assert_int_equal(listener_open(base, &c, accept_cb, &a, &l), 0);
	for (i = 0; i < 5; i++) {
		fds[i] = dial(AF_INET, "127.0.0.1", port);
		spin(base);
	}
	assert_int_equal(a.n, 2);
	release_all(&a);
	/* the source's count went back to zero: two more are taken */
	for (i = 5; i < 8; i++) {
		fds[i] = dial(AF_INET, "127.0.0.1", port);
		spin(base);
	}
	assert_int_equal(a.n, 2);
	release_all(&a);
	for (i = 0; i < 8; i++)
		close(fds[i]);
	listener_close(l);
	strlist_free(&c.listen);
	event_base_free(base);
}

static void
test_ipv6(void **state)
{
	struct event_base *base = event_base_new();
	struct accepted a = { .n = 0 };
	struct listener *l;
	struct conf c;
	char addr[64];
	int port, fd, probe;

	(void)state;
	if ((probe = socket(AF_INET6, SOCK_STREAM, 0)) == -1)
		skip();
	close(probe);
	port = free_port(AF_INET6, "::1");
	snprintf(addr, sizeof(addr), "[::1]:%d", port);
	conf_init(&c, addr, 10, 30, 100, 10);
	assert_int_equal(listener_open(base, &c, accept_cb, &a, &l), 0);
	fd = dial(AF_INET6, "::1", port);
	spin(base);
	assert_int_equal(a.n, 1);
	release_all(&a);
	close(fd);
	listener_close(l);
	strlist_free(&c.listen);
	event_base_free(base);
}

static void
test_bad_address(void **state)
{
	struct event_base *base = event_base_new();
	struct accepted a = { .n = 0 };
	struct listener *l;
	struct conf c;

	(void)state;
	/* 192.0.2.1 (TEST-NET-1) is not an address of this host */
	conf_init(&c, "192.0.2.1:2222", 10, 30, 100, 10);
	assert_int_equal(listener_open(base, &c, accept_cb, &a, &l), -1);
	assert_null(l);
	strlist_free(&c.listen);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_drops_everything),
		cmocka_unit_test(test_per_source),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_bad_address),
	};

	log_init("test_listener", 1, LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
