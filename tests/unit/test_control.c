/* test_control.c: the control protocol's framing, and the control socket in a
 * real libevent loop talking to forked clients: verbs, malformed messages,
 * a refused peer, stale and live socket files. */
#include <fcntl.h>
#include <grp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/event.h>

#include "broker/broker.h"
#include "broker/control-protocol.h"

/* ---- framing ---- */

static void
test_encode_layout(void **state)
{
	static const uint8_t want[] = { 'O', 'T', 'G', 'C', 0, 1, 0, 2, 0, 0, 0, 1,
		0, 0, 0, 3, 'a', 'b', 'c' };
	struct buf b;

	(void)state;
	buf_init(&b, 1024);
	assert_int_equal(control_encode(&b, CONTROL_SESSIONS, CONTROL_F_JSON, "abc", 3), 0);
	assert_int_equal(buf_len(&b), sizeof(want));
	assert_memory_equal(buf_ptr(&b), want, sizeof(want));
	buf_free(&b);
}

static void
test_decode_roundtrip_and_partial(void **state)
{
	struct control_header h;
	struct buf whole, in, body;
	size_t cut;

	(void)state;
	buf_init(&whole, 1024);
	assert_int_equal(control_encode(&whole, CONTROL_OK, 0, "hello\n", 6), 0);
	assert_int_equal(control_encode(&whole, CONTROL_RELOAD, 0, NULL, 0), 0);
	/* every cut of the first message is incomplete and consumes nothing */
	for (cut = 0; cut < CONTROL_HEADER_LEN + 6; cut++) {
		buf_init(&in, 1024);
		buf_init(&body, 1024);
		assert_int_equal(buf_put(&in, buf_ptr(&whole), cut), 0);
		assert_int_equal(control_decode(&in, 1024, &h, &body), OTG_ERR_TRUNCATED);
		assert_int_equal(buf_len(&in), cut);
		assert_int_equal(buf_len(&body), 0);
		buf_free(&in);
		buf_free(&body);
	}
	buf_init(&body, 1024);
	assert_int_equal(control_decode(&whole, 1024, &h, &body), 0);
	assert_int_equal(h.type, CONTROL_OK);
	assert_int_equal(h.len, 6);
	assert_int_equal(buf_len(&body), 6);
	assert_memory_equal(buf_ptr(&body), "hello\n", 6);
	buf_reset(&body);
	assert_int_equal(control_decode(&whole, 1024, &h, &body), 0);
	assert_int_equal(h.type, CONTROL_RELOAD);
	assert_int_equal(h.len, 0);
	assert_int_equal(buf_len(&whole), 0);
	assert_int_equal(control_decode(&whole, 1024, &h, &body), OTG_ERR_TRUNCATED);
	buf_free(&body);
	buf_free(&whole);
}

static void
expect_header_error(const uint8_t *hdr, size_t max, int err)
{
	struct control_header h;

	assert_int_equal(control_decode_header(hdr, CONTROL_HEADER_LEN, max, &h), err);
}

static void
test_decode_refusals(void **state)
{
	uint8_t hdr[CONTROL_HEADER_LEN] = { 'O', 'T', 'G', 'C', 0, 1, 0, 1, 0, 0, 0, 0,
		0, 0, 0, 0 };
	struct control_header h;

	(void)state;
	expect_header_error(hdr, 0, 0);
	hdr[0] = 'X';
	expect_header_error(hdr, 0, OTG_ERR_PROTO);
	hdr[0] = 'O';
	hdr[5] = 2;	/* version 2 */
	expect_header_error(hdr, 0, OTG_ERR_PROTO);
	hdr[4] = 1;
	hdr[5] = 1;	/* version 257 */
	expect_header_error(hdr, 0, OTG_ERR_PROTO);
	hdr[4] = 0;
	hdr[15] = 101;	/* body of 101 bytes over a limit of 100 */
	expect_header_error(hdr, 100, OTG_ERR_TOOBIG);
	expect_header_error(hdr, 101, 0);
	hdr[12] = 0xff;	/* 4 GB */
	expect_header_error(hdr, CONTROL_REPLY_MAX, OTG_ERR_TOOBIG);
	assert_int_equal(control_decode_header(hdr, 15, 100, &h), OTG_ERR_TRUNCATED);
	assert_string_equal(control_type_name(CONTROL_STATUS), "status");
	assert_null(control_type_name(77));
}

/* ---- the socket ---- */

struct fake {
	int status, sessions, reload, json, commands;
	int reload_fails;
	char last_verb[16];
};

static void
fake_status(struct buf *out, void *arg)
{
	((struct fake *)arg)->status++;
	buf_puts(out, "version 0.1.0\nsessions 0\n");
}

static void
fake_sessions(struct buf *out, int json, void *arg)
{
	struct fake *f = arg;

	f->sessions++;
	f->json = json;
	buf_puts(out, json ? "{\"id\":\"x\"}\n" : "ID USER ASSET\n");
}

static int
fake_reload(struct buf *out, void *arg)
{
	struct fake *f = arg;

	f->reload++;
	buf_puts(out, f->reload_fails ? "policy.conf:3:1: error: bad\n" : "reloaded\n");
	return f->reload_fails ? -1 : 0;
}

static void
fake_command(const char *verb, uid_t uid, void *arg)
{
	struct fake *f = arg;

	(void)uid;
	f->commands++;
	snprintf(f->last_verb, sizeof(f->last_verb), "%s", verb);
}

static const struct control_ops fake_ops = {
	.status = fake_status,
	.sessions = fake_sessions,
	.reload = fake_reload,
	.command = fake_command,
};

struct live {
	char dir[64];
	char path[100];
	struct event_base *base;
	struct control *control;
	struct fake fake;
};

static int
live_setup(void **state)
{
	struct live *l = calloc(1, sizeof(*l));
	mode_t old;
	int r;

	if (l == NULL)
		return -1;
	snprintf(l->dir, sizeof(l->dir), "/tmp/test_control.XXXXXX");
	if (mkdtemp(l->dir) == NULL)
		return -1;
	snprintf(l->path, sizeof(l->path), "%s/control.sock", l->dir);
	l->base = event_base_new();
	old = umask(0);	/* the socket's mode must not come from our umask */
	r = control_open(l->base, l->path, &fake_ops, &l->fake, &l->control);
	umask(old);
	*state = l;
	return r == 0 && l->base != NULL ? 0 : -1;
}

static int
live_teardown(void **state)
{
	struct live *l = *state;

	control_close(l->control);
	event_base_free(l->base);
	rmdir(l->dir);
	free(l);
	return 0;
}

typedef int client_fn(const char *path);

/* Run fn in a child while the loop serves; the child's exit status. */
static int
run_client(struct live *l, client_fn *fn)
{
	struct timespec pause = { 0, 2000000 };
	int status, i;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0)
		_exit(fn(l->path));
	for (i = 0; i < 5000; i++) {
		event_base_loop(l->base, EVLOOP_NONBLOCK);
		if (waitpid(pid, &status, WNOHANG) == pid) {
			/* let the loop see the close and reap the client */
			event_base_loop(l->base, EVLOOP_NONBLOCK);
			event_base_loop(l->base, EVLOOP_NONBLOCK);
			return WIFEXITED(status) ? WEXITSTATUS(status) : 99;
		}
		nanosleep(&pause, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	fail_msg("client did not finish");
	return 99;
}

static int
ask(const char *path, uint16_t type, uint32_t flags, uint16_t want_type,
    const char *want_body)
{
	uint16_t rtype;
	struct buf reply;
	char why[256];
	int r;

	buf_init(&reply, CONTROL_REPLY_MAX);
	r = control_request(path, type, flags, NULL, 0, &rtype, &reply, why, sizeof(why));
	if (r != 0) {
		fprintf(stderr, "control_request: %s\n", why);
		return 10;
	}
	if (rtype != want_type) {
		fprintf(stderr, "reply type %u, want %u\n", rtype, want_type);
		return 11;
	}
	if (buf_len(&reply) < strlen(want_body) ||
	    memmem(buf_ptr(&reply), buf_len(&reply), want_body, strlen(want_body)) == NULL) {
		fprintf(stderr, "reply '%.*s' lacks '%s'\n", (int)buf_len(&reply),
		    (const char *)buf_ptr(&reply), want_body);
		return 12;
	}
	buf_free(&reply);
	return 0;
}

static int
ask_status(const char *path)
{
	return ask(path, CONTROL_STATUS, 0, CONTROL_OK, "version 0.1.0\nsessions 0\n");
}

static int
ask_sessions_json(const char *path)
{
	return ask(path, CONTROL_SESSIONS, CONTROL_F_JSON, CONTROL_OK, "{\"id\":\"x\"}");
}

static int
ask_reload_failing(const char *path)
{
	return ask(path, CONTROL_RELOAD, 0, CONTROL_FAILED, "error: bad");
}

static int
ask_unknown(const char *path)
{
	return ask(path, 77, 0, CONTROL_ERROR, "unknown request type 77");
}

static int
ask_bad_flags(const char *path)
{
	return ask(path, CONTROL_STATUS, 0x80, CONTROL_ERROR, "no such flags");
}

/* raw bytes to the socket; the reply's type must be CONTROL_ERROR with needle */
static int
raw(const char *path, const void *msg, size_t len, const char *needle)
{
	struct sockaddr_un sun;
	struct control_header h;
	struct buf in, body;
	uint8_t chunk[512];
	ssize_t n;
	int fd, r;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    write(fd, msg, len) != (ssize_t)len)
		return 20;
	buf_init(&in, 4096);
	buf_init(&body, 4096);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_put(&in, chunk, (size_t)n);
	r = control_decode(&in, 4096, &h, &body);
	if (r != 0 || h.type != CONTROL_ERROR ||
	    memmem(buf_ptr(&body), buf_len(&body), needle, strlen(needle)) == NULL)
		return 21;
	return 0;
}

static int
raw_bad_magic(const char *path)
{
	return raw(path, "GET / HTTP/1.0\r\n\r\n", 18, "not an otgate control message");
}

static int
raw_bad_version(const char *path)
{
	static const uint8_t v9[] = { 'O', 'T', 'G', 'C', 0, 9, 0, 1, 0, 0, 0, 0,
		0, 0, 0, 0 };

	return raw(path, v9, sizeof(v9), "unsupported control protocol version");
}

static int
raw_too_big(const char *path)
{
	static const uint8_t big[] = { 'O', 'T', 'G', 'C', 0, 1, 0, 1, 0, 0, 0, 0,
		0x7f, 0, 0, 0 };

	return raw(path, big, sizeof(big), "request too large");
}

static void
test_verbs(void **state)
{
	struct live *l = *state;
	struct stat st;

	assert_int_equal(lstat(l->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0660);

	assert_int_equal(run_client(l, ask_status), 0);
	assert_int_equal(l->fake.status, 1);
	assert_int_equal(l->fake.commands, 1);
	assert_string_equal(l->fake.last_verb, "status");

	assert_int_equal(run_client(l, ask_sessions_json), 0);
	assert_int_equal(l->fake.sessions, 1);
	assert_int_equal(l->fake.json, 1);

	l->fake.reload_fails = 1;
	assert_int_equal(run_client(l, ask_reload_failing), 0);
	assert_int_equal(l->fake.reload, 1);
	assert_string_equal(l->fake.last_verb, "reload");
}

static void
test_malformed_requests(void **state)
{
	struct live *l = *state;

	assert_int_equal(run_client(l, ask_unknown), 0);
	assert_int_equal(run_client(l, ask_bad_flags), 0);
	assert_int_equal(run_client(l, raw_bad_magic), 0);
	assert_int_equal(run_client(l, raw_bad_version), 0);
	assert_int_equal(run_client(l, raw_too_big), 0);
	/* none of them reached the broker's verbs */
	assert_int_equal(l->fake.commands, 0);
	assert_int_equal(l->fake.status, 0);
	/* and the socket still serves */
	assert_int_equal(run_client(l, ask_status), 0);
}

static int
ask_as_nobody(const char *path)
{
	uint16_t rtype;
	struct buf reply;
	char why[256];

	if (setgroups(0, NULL) == -1 || setresgid(65534, 65534, 65534) == -1 ||
	    setresuid(65534, 65534, 65534) == -1)
		return 30;
	buf_init(&reply, 4096);
	if (control_request(path, CONTROL_STATUS, 0, NULL, 0, &rtype, &reply, why,
	    sizeof(why)) != 0) {
		fprintf(stderr, "control_request: %s\n", why);
		return 31;
	}
	if (rtype != CONTROL_ERROR ||
	    memmem(buf_ptr(&reply), buf_len(&reply), "permission denied", 17) == NULL)
		return 32;
	return 0;
}

static void
test_peer_without_rights_refused(void **state)
{
	struct live *l = *state;

	if (geteuid() != 0)
		skip();
	/* open the file mode wide so that only the SO_PEERCRED check stands */
	assert_int_equal(chmod(l->dir, 0755), 0);
	assert_int_equal(chmod(l->path, 0666), 0);
	assert_int_equal(run_client(l, ask_as_nobody), 0);
	assert_int_equal(l->fake.commands, 0);
	assert_int_equal(l->fake.status, 0);
}

static void
test_socket_files(void **state)
{
	struct live *l = *state;
	struct control *second;
	struct sockaddr_un sun;
	uint16_t rtype;
	struct buf reply;
	char why[256];
	int fd;

	/* a live broker's socket is not taken over */
	assert_int_equal(control_open(l->base, l->path, &fake_ops, &l->fake, &second),
	    OTG_ERR_EXISTS);
	/* closing removes it; then otgate says the broker is not running */
	control_close(l->control);
	l->control = NULL;
	assert_int_equal(access(l->path, F_OK), -1);
	buf_init(&reply, 4096);
	assert_int_equal(control_request(l->path, CONTROL_STATUS, 0, NULL, 0, &rtype,
	    &reply, why, sizeof(why)), OTG_ERR_NOTFOUND);
	assert_non_null(strstr(why, "not running"));
	buf_free(&reply);
	/* a dead broker's socket file is replaced */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", l->path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	assert_int_equal(control_request(l->path, CONTROL_STATUS, 0, NULL, 0, &rtype,
	    &reply, why, sizeof(why)), OTG_ERR_NOTFOUND);
	assert_int_equal(control_open(l->base, l->path, &fake_ops, &l->fake, &l->control), 0);
	assert_int_equal(run_client(l, ask_status), 0);
	/* a file that is not a socket is left alone */
	control_close(l->control);
	l->control = NULL;
	fd = open(l->path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	assert_int_equal(control_open(l->base, l->path, &fake_ops, &l->fake, &second),
	    OTG_ERR_EXISTS);
	assert_int_equal(access(l->path, F_OK), 0);
	unlink(l->path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_layout),
		cmocka_unit_test(test_decode_roundtrip_and_partial),
		cmocka_unit_test(test_decode_refusals),
		cmocka_unit_test_setup_teardown(test_verbs, live_setup, live_teardown),
		cmocka_unit_test_setup_teardown(test_malformed_requests, live_setup,
		    live_teardown),
		cmocka_unit_test_setup_teardown(test_peer_without_rights_refused, live_setup,
		    live_teardown),
		cmocka_unit_test_setup_teardown(test_socket_files, live_setup, live_teardown),
	};

	log_init("test_control", 1, LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
