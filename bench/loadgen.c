/*
 * loadgen.c: many interactive SSH sessions from one process, for the
 * benchmarks (bench/run). It opens a probe session and N others (each its own
 * connection: public-key login, pty, shell), holds them all in one libevent
 * loop, then times keystroke-to-echo on the probe while the others stay open.
 * Sessions are opened one after another with blocking libssh calls, so the
 * setup figure is a sequential rate, not a login storm. The server's host key
 * is not checked: this talks to benchmark servers on loopback only.
 *
 *   loadgen -H ADDR -p PORT -u USER -i KEY [-n OTHERS] [-s SAMPLES] [-w HOLD]
 *
 * Prints "open N fail F secs T setup_p50_ms M" once all are open (then holds
 * them HOLD seconds, so a caller can measure memory), and
 * "echo n S p50_us A p99_us B max_us C lost L".
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <libssh/libssh.h>

#define LG_TIMEOUT_US 5000000	/* a keystroke not echoed by then is lost */

struct lg_sess {
	ssh_session s;
	ssh_channel ch;
	struct event *rd;
	bool probe;
};

static struct event_base *lg_base;
static struct lg_sess *lg_sess;
static int lg_nsess;
static struct event *lg_tick;
static long long *lg_lat;
static int lg_samples, lg_done, lg_lost;
static long long lg_sent_at;	/* 0: no keystroke in flight */
static long long lg_rx;		/* bytes the probe has received */

static long long
lg_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
lg_cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

static long long
lg_pct(long long *v, int n, int pct)
{
	int i;

	if (n == 0)
		return -1;
	i = (n * pct + 99) / 100 - 1;
	return v[i < 0 ? 0 : i];
}

static int
lg_open(struct lg_sess *ls, const char *host, int port, const char *user, ssh_key key)
{
	bool no = false;
	long timeout = 20;
	int nodelay = 1;	/* else Nagle holds each handshake step ~40 ms */

	if ((ls->s = ssh_new()) == NULL)
		return -1;
	if (ssh_options_set(ls->s, SSH_OPTIONS_HOST, host) != 0 ||
	    ssh_options_set(ls->s, SSH_OPTIONS_PORT, &port) != 0 ||
	    ssh_options_set(ls->s, SSH_OPTIONS_USER, user) != 0 ||
	    ssh_options_set(ls->s, SSH_OPTIONS_PROCESS_CONFIG, &no) != 0 ||
	    ssh_options_set(ls->s, SSH_OPTIONS_KNOWNHOSTS, "/dev/null") != 0 ||
	    ssh_options_set(ls->s, SSH_OPTIONS_TIMEOUT, &timeout) != 0 ||
	    ssh_options_set(ls->s, SSH_OPTIONS_NODELAY, &nodelay) != 0)
		return -1;
	if (ssh_connect(ls->s) != SSH_OK ||
	    ssh_userauth_publickey(ls->s, NULL, key) != SSH_AUTH_SUCCESS)
		return -1;
	if ((ls->ch = ssh_channel_new(ls->s)) == NULL ||
	    ssh_channel_open_session(ls->ch) != SSH_OK ||
	    ssh_channel_request_pty_size(ls->ch, "xterm", 80, 24) != SSH_OK ||
	    ssh_channel_request_shell(ls->ch) != SSH_OK)
		return -1;
	return 0;
}

static void
lg_send(void)
{
	/* alternate a letter and a DEL so a real shell's line stays short */
	char key = lg_done % 2 ? 0x7f : 'x';
	char buf[256];

	while (ssh_channel_read_nonblocking(lg_sess[0].ch, buf, sizeof(buf), 0) > 0)
		;	/* the previous echo's tail is not this keystroke's */
	lg_sent_at = lg_now_us();
	if (ssh_channel_write(lg_sess[0].ch, &key, 1) != 1) {
		fprintf(stderr, "loadgen: probe write: %s\n", ssh_get_error(lg_sess[0].s));
		event_base_loopbreak(lg_base);
	}
}

static void
lg_next(void)
{
	struct timeval gap = { 0, 2000 };	/* 2 ms between keystrokes */

	lg_sent_at = 0;
	if (lg_done + lg_lost >= lg_samples)
		event_base_loopbreak(lg_base);
	else
		evtimer_add(lg_tick, &gap);
}

static void
lg_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct lg_sess *ls = arg;
	char buf[4096];
	int n, got = 0;

	(void)fd;
	(void)what;
	while ((n = ssh_channel_read_nonblocking(ls->ch, buf, sizeof(buf), 0)) > 0)
		got += n;
	if (ls->probe)
		lg_rx += got;
	if (n < 0 || ssh_channel_is_eof(ls->ch)) {
		event_del(ls->rd);	/* the far end went away: stop watching */
		if (ls->probe) {
			fprintf(stderr, "loadgen: the probe session ended\n");
			event_base_loopbreak(lg_base);
		}
		return;
	}
	if (ls->probe && got > 0 && lg_sent_at != 0) {
		lg_lat[lg_done++] = lg_now_us() - lg_sent_at;
		lg_next();
	}
}

/* Sends the next keystroke; also catches an echo libssh read while writing
 * (the socket then shows no new readiness) and a keystroke that timed out. */
static void
lg_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct timeval poll = { 0, 20000 };

	(void)fd;
	(void)what;
	(void)arg;
	if (lg_sent_at == 0) {
		lg_send();
	} else if (lg_now_us() - lg_sent_at > LG_TIMEOUT_US) {
		lg_lost++;
		lg_next();
		return;
	} else {
		lg_read_cb(-1, 0, &lg_sess[0]);
	}
	if (lg_sent_at != 0)
		evtimer_add(lg_tick, &poll);
}

static void
lg_usage(void)
{
	fprintf(stderr, "usage: loadgen -H ADDR -p PORT -u USER -i KEY [-n OTHERS] "
	    "[-s SAMPLES] [-w HOLD]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *host = NULL, *user = NULL, *keyfile = NULL;
	int opt, port = 0, others = 0, hold = 0, i, fail = 0, nsetup = 0;
	struct timeval settle = { 0, 300000 }, now = { 0, 0 }, tv;
	long long t0, t, *setup;
	struct rlimit rl;
	ssh_key key = NULL;

	lg_samples = 200;
	while ((opt = getopt(argc, argv, "H:p:u:i:n:s:w:")) != -1) {
		switch (opt) {
		case 'H': host = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'u': user = optarg; break;
		case 'i': keyfile = optarg; break;
		case 'n': others = atoi(optarg); break;
		case 's': lg_samples = atoi(optarg); break;
		case 'w': hold = atoi(optarg); break;
		default: lg_usage();
		}
	}
	if (host == NULL || user == NULL || keyfile == NULL || port <= 0 ||
	    others < 0 || others > 100000 || lg_samples < 1 || lg_samples > 1000000)
		lg_usage();
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if ((rlim_t)others + 64 > rl.rlim_cur)
		fprintf(stderr, "loadgen: open-file limit %llu is below %d sessions\n",
		    (unsigned long long)rl.rlim_cur, others + 1);
	signal(SIGPIPE, SIG_IGN);
	ssh_init();
	if (ssh_pki_import_privkey_file(keyfile, NULL, NULL, NULL, &key) != SSH_OK) {
		fprintf(stderr, "loadgen: cannot read key %s\n", keyfile);
		return 1;
	}
	lg_nsess = others + 1;
	lg_sess = calloc((size_t)lg_nsess, sizeof(*lg_sess));
	lg_lat = calloc((size_t)lg_samples, sizeof(*lg_lat));
	setup = calloc((size_t)lg_nsess, sizeof(*setup));
	if (lg_sess == NULL || lg_lat == NULL || setup == NULL ||
	    (lg_base = event_base_new()) == NULL ||
	    (lg_tick = evtimer_new(lg_base, lg_tick_cb, NULL)) == NULL)
		return 1;
	lg_sess[0].probe = true;
	t0 = lg_now_us();
	for (i = 0; i < lg_nsess; i++) {
		t = lg_now_us();
		if (lg_open(&lg_sess[i], host, port, user, key) != 0) {
			if (fail++ == 0 || i == 0)
				fprintf(stderr, "loadgen: session %d: %s\n", i,
				    ssh_get_error(lg_sess[i].s));
			if (i == 0)
				return 1;
			continue;
		}
		setup[nsetup++] = lg_now_us() - t;
		lg_sess[i].rd = event_new(lg_base, ssh_get_fd(lg_sess[i].s),
		    EV_READ | EV_PERSIST, lg_read_cb, &lg_sess[i]);
		if (lg_sess[i].rd == NULL || event_add(lg_sess[i].rd, NULL) == -1)
			return 1;
	}
	qsort(setup, (size_t)nsetup, sizeof(*setup), lg_cmp);
	printf("open %d fail %d secs %.3f setup_p50_ms %.3f\n", lg_nsess - fail, fail,
	    (double)(lg_now_us() - t0) / 1e6, (double)lg_pct(setup, nsetup, 50) / 1e3);
	fflush(stdout);

	/* hold (drain whatever the servers send), then let the prompt settle */
	tv.tv_sec = hold;
	tv.tv_usec = 0;
	event_base_loopexit(lg_base, &tv);
	event_base_dispatch(lg_base);
	/* until the shell's start-up output has stopped (at most 10 s) */
	for (i = 0, t = -1; i < 33 && t != lg_rx; i++) {
		t = lg_rx;
		event_base_loopexit(lg_base, &settle);
		event_base_dispatch(lg_base);
	}

	lg_sent_at = 0;
	evtimer_add(lg_tick, &now);
	event_base_dispatch(lg_base);
	qsort(lg_lat, (size_t)lg_done, sizeof(*lg_lat), lg_cmp);
	printf("echo n %d p50_us %lld p99_us %lld max_us %lld lost %d\n", lg_done,
	    lg_pct(lg_lat, lg_done, 50), lg_pct(lg_lat, lg_done, 99),
	    lg_pct(lg_lat, lg_done, 100), lg_lost);

	for (i = 0; i < lg_nsess; i++) {
		if (lg_sess[i].rd != NULL)
			event_free(lg_sess[i].rd);
		if (lg_sess[i].ch != NULL)
			ssh_channel_free(lg_sess[i].ch);
		if (lg_sess[i].s != NULL) {
			ssh_disconnect(lg_sess[i].s);
			ssh_free(lg_sess[i].s);
		}
	}
	event_free(lg_tick);
	event_base_free(lg_base);
	ssh_key_free(key);
	free(lg_sess);
	free(lg_lat);
	free(setup);
	ssh_finalize();
	return lg_done > 0 ? 0 : 1;
}
