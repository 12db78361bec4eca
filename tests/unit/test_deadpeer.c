/* test_deadpeer.c: the kernel's dead-peer bounds on a TCP socket: keepalive
 * probes every period, three of them, and a user timeout of three periods;
 * nothing at all when keepalives are off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "broker/broker.h"

static int
opt(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof(v);

	assert_int_equal(getsockopt(fd, level, name, &v, &len), 0);
	return v;
}

static void
test_armed(void **state)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	assert_true(fd != -1);
	assert_int_equal(deadpeer_arm(fd, 20), 0);
	assert_int_equal(opt(fd, SOL_SOCKET, SO_KEEPALIVE), 1);
	assert_int_equal(opt(fd, IPPROTO_TCP, TCP_KEEPIDLE), 20);
	assert_int_equal(opt(fd, IPPROTO_TCP, TCP_KEEPINTVL), 20);
	assert_int_equal(opt(fd, IPPROTO_TCP, TCP_KEEPCNT), 3);
	assert_int_equal(opt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT), 60000);
	close(fd);
}

static void
test_capped_and_off(void **state)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	assert_true(fd != -1);
	assert_int_equal(deadpeer_arm(fd, 7 * 86400), 0);
	assert_int_equal(opt(fd, IPPROTO_TCP, TCP_KEEPIDLE), 3600);
	close(fd);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(deadpeer_arm(fd, 0), 0);
	assert_int_equal(opt(fd, SOL_SOCKET, SO_KEEPALIVE), 0);
	assert_int_equal(opt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT), 0);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_armed),
		cmocka_unit_test(test_capped_and_off),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
