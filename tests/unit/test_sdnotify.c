/* test_sdnotify.c: the datagrams systemd receives on NOTIFY_SOCKET, to a path
 * and to an abstract socket, and the silent no-op without one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "broker/broker.h"

struct listener {
	int fd;
	char where[108];	/* what goes into NOTIFY_SOCKET */
	char dir[64];		/* temp folder of a path socket, "" for abstract */
};

static void
listen_at(struct listener *l, int abstract)
{
	struct sockaddr_un sa;
	socklen_t len;

	memset(l, 0, sizeof(*l));
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (abstract) {
		snprintf(l->where, sizeof(l->where), "@otgate-test-sdnotify-%ld", (long)getpid());
		memcpy(sa.sun_path, l->where, strlen(l->where));
		sa.sun_path[0] = '\0';
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(l->where));
	} else {
		snprintf(l->dir, sizeof(l->dir), "/tmp/otg-sdnotify-XXXXXX");
		assert_non_null(mkdtemp(l->dir));
		snprintf(l->where, sizeof(l->where), "%s/notify", l->dir);
		memcpy(sa.sun_path, l->where, strlen(l->where));
		len = sizeof(sa);
	}
	l->fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_true(l->fd >= 0);
	assert_int_equal(bind(l->fd, (struct sockaddr *)&sa, len), 0);
	assert_int_equal(setenv("NOTIFY_SOCKET", l->where, 1), 0);
}

static void
listen_end(struct listener *l)
{
	close(l->fd);
	if (l->dir[0] != '\0') {
		unlink(l->where);
		rmdir(l->dir);
	}
	unsetenv("NOTIFY_SOCKET");
}

/* The next datagram, which must already be there: the calls are synchronous. */
static void
expect_datagram(const struct listener *l, const char *prefix)
{
	char got[256];
	ssize_t n;

	n = recv(l->fd, got, sizeof(got) - 1, MSG_DONTWAIT);
	if (n < 0) {
		fail_msg("nothing received on %s, expected '%s'", l->where, prefix);
		return;
	}
	got[n] = '\0';
	if (strncmp(got, prefix, strlen(prefix)) != 0)
		fail_msg("received '%s' on %s, expected it to start with '%s'", got, l->where,
		    prefix);
}

static void
expect_nothing(const struct listener *l)
{
	char got[256];

	assert_int_equal(recv(l->fd, got, sizeof(got), MSG_DONTWAIT), -1);
}

static void
lifecycle(int abstract)
{
	struct listener l;

	listen_at(&l, abstract);
	assert_int_equal(sdnotify_ready(), 0);
	expect_datagram(&l, "READY=1\n");
	assert_int_equal(sdnotify_reloading(), 0);
	expect_datagram(&l, "RELOADING=1\n");
	assert_int_equal(sdnotify_ready(), 0);
	expect_datagram(&l, "READY=1\n");
	assert_int_equal(sdnotify_stopping(), 0);
	expect_datagram(&l, "STOPPING=1\n");
	expect_nothing(&l);
	listen_end(&l);
}

static void
test_path_socket(void **state)
{
	(void)state;
	lifecycle(0);
}

static void
test_abstract_socket(void **state)
{
	(void)state;
	lifecycle(1);
}

/* RELOADING carries the monotonic clock for systemd's notify-reload. */
static void
test_reloading_has_monotonic_usec(void **state)
{
	struct listener l;
	char got[256];
	ssize_t n;

	(void)state;
	listen_at(&l, 0);
	assert_int_equal(sdnotify_reloading(), 0);
	n = recv(l.fd, got, sizeof(got) - 1, MSG_DONTWAIT);
	if (n <= 0) {
		fail_msg("nothing received on %s", l.where);
		return;
	}
	got[n] = '\0';
	if (strstr(got, "\nMONOTONIC_USEC=") == NULL)
		fail_msg("no MONOTONIC_USEC in '%s'", got);
	listen_end(&l);
}

static void
test_unset_is_a_silent_no_op(void **state)
{
	(void)state;
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(sdnotify_ready(), 0);
	assert_int_equal(sdnotify_reloading(), 0);
	assert_int_equal(sdnotify_stopping(), 0);
	assert_int_equal(setenv("NOTIFY_SOCKET", "", 1), 0);
	assert_int_equal(sdnotify_ready(), 0);
	unsetenv("NOTIFY_SOCKET");
}

static void
test_bad_socket_values(void **state)
{
	char longpath[200];

	(void)state;
	log_init("test_sdnotify", 1, LOG_LEVEL_WARN);
	/* relative paths, a bare '@' and paths past sun_path are refused */
	assert_int_equal(setenv("NOTIFY_SOCKET", "run/notify", 1), 0);
	assert_int_equal(sdnotify_ready(), -1);
	assert_int_equal(setenv("NOTIFY_SOCKET", "@", 1), 0);
	assert_int_equal(sdnotify_ready(), -1);
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(setenv("NOTIFY_SOCKET", longpath, 1), 0);
	assert_int_equal(sdnotify_stopping(), -1);
	/* nobody listening there: the send fails and says so */
	assert_int_equal(setenv("NOTIFY_SOCKET", "/nonexistent/otgate/notify", 1), 0);
	assert_int_equal(sdnotify_ready(), -1);
	unsetenv("NOTIFY_SOCKET");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_socket),
		cmocka_unit_test(test_abstract_socket),
		cmocka_unit_test(test_reloading_has_monotonic_usec),
		cmocka_unit_test(test_unset_is_a_silent_no_op),
		cmocka_unit_test(test_bad_socket_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
