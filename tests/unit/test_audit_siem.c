/* test_audit_siem.c: each audit event also leaves as one datagram, JSON (the
 * audit line itself), RFC 5424 or CEF; the audit log's own line is unchanged. */
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

static char dir[64], logpath[128], sockpath[96];
static int sock = -1;

static int
setup(void **state)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/otg-siem-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(logpath, sizeof(logpath), "%s/audit.log", dir);
	snprintf(sockpath, sizeof(sockpath), "%s/log", dir);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sockpath);
	sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	return bind(sock, (struct sockaddr *)&sun, sizeof(sun));
}

static int
teardown(void **state)
{
	(void)state;
	close(sock);
	unlink(sockpath);
	unlink(logpath);
	rmdir(dir);
	return 0;
}

static void
event_as(enum siem_format fmt, char *got, size_t gotsz, ssize_t *n)
{
	struct audit_field f[] = { AUDIT_STR("user", "mallory\n<13>1 forged"),
	    AUDIT_STR("asset", "plc-line3"), AUDIT_NUM("bytes_in", 42) };
	struct audit *a;

	assert_int_equal(audit_open(logpath, &a), 0);
	assert_int_equal(audit_set_siem(a, fmt, sockpath), 0);
	assert_int_equal(audit_event(a, "policy.deny", f, 3), 0);
	audit_close(a);
	*n = recv(sock, got, gotsz - 1, 0);
	got[*n > 0 ? *n : 0] = '\0';
}

static void
test_rfc5424(void **state)
{
	char got[4096];
	ssize_t n;

	(void)state;
	event_as(SIEM_RFC5424, got, sizeof(got), &n);
	assert_true(n > 0);
	if (strncmp(got, "<85>1 ", 6) != 0 || strstr(got, "[otgate@32473 ") == NULL ||
	    strstr(got, "policy.deny") == NULL || strchr(got, '\n') != NULL)
		fail_msg("not one RFC 5424 line: %s", got);
}

static void
test_cef(void **state)
{
	char got[4096];
	ssize_t n;

	(void)state;
	event_as(SIEM_CEF, got, sizeof(got), &n);
	assert_true(n > 0);
	if (strncmp(got, "<86>", 4) != 0 || strstr(got, "otgated[") == NULL ||
	    strstr(got, "CEF:0|otgate|otgate|") == NULL || strstr(got, "suser=") == NULL ||
	    strchr(got, '\n') != NULL)
		fail_msg("not one CEF line: %s", got);
}

/* JSON: the audit log's own line as the message of an RFC 3164 line, sent on
 * the same non-blocking socket (syslog(3) could block the loop). */
static void
test_json(void **state)
{
	char got[4096], line[4096];
	FILE *fp;
	ssize_t n;

	(void)state;
	event_as(SIEM_JSON, got, sizeof(got), &n);
	assert_true(n > 0);
	assert_non_null(fp = fopen(logpath, "r"));
	while (fgets(line, sizeof(line), fp) != NULL)
		;	/* the last line: this test's event */
	fclose(fp);
	line[strcspn(line, "\n")] = '\0';
	if (strncmp(got, "<86>", 4) != 0 || strstr(got, "otgated[") == NULL ||
	    strstr(got, "]: {") == NULL || strcmp(strstr(got, "]: {") + 3, line) != 0 ||
	    strchr(got, '\n') != NULL)
		fail_msg("not the audit line as one syslog line: %s", got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc5424),
		cmocka_unit_test(test_cef),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
