/*
 * simasset.c: a light simulated asset for the benchmarks. One libevent loop
 * serves every connection (libssh server sessions, non-blocking, one
 * ssh_event each); any public key is accepted; a pty shell echoes what it is
 * sent, as a line-editing shell would; an exec answers exit status 0. It
 * stands in for a plant's device where a thousand sessions would otherwise
 * need three thousand OpenSSH processes. Loopback benchmark use only.
 *
 *   simasset -a ADDR -p PORT -k HOSTKEY
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>

#define SIM_CHANNELS 4
#define SIM_PENDING (64 * 1024)	/* echo not yet sent: beyond this, stop reading */

struct sim_chan {
	ssh_channel ch;
	struct ssh_channel_callbacks_struct cb;
	char *out;		/* echo waiting for the client's window */
	size_t outlen;
	int exit_now;		/* an exec: answer status 0 and close */
	int closed;
};

struct sim_conn {
	ssh_session s;
	ssh_event sev;
	struct event *rd, *wr;
	int fd, kex_done, writing, dead;
	struct ssh_server_callbacks_struct scb;
	struct sim_chan chans[SIM_CHANNELS];
};

static ssh_bind sim_bind;
static struct event_base *sim_base;

static struct sim_chan *
sim_chan_of(struct sim_conn *c, ssh_channel ch)
{
	int i;

	for (i = 0; i < SIM_CHANNELS; i++)
		if (c->chans[i].ch == ch)
			return &c->chans[i];
	return NULL;
}

static int
sim_data_cb(ssh_session s, ssh_channel ch, void *data, uint32_t len, int is_stderr,
    void *arg)
{
	struct sim_conn *c = arg;
	struct sim_chan *sc = sim_chan_of(c, ch);
	char *n;

	(void)s;
	(void)is_stderr;
	if (sc == NULL)
		return (int)len;
	if (sc->outlen >= SIM_PENDING)
		return 0;	/* the window stays closed until the echo drains */
	if ((n = realloc(sc->out, sc->outlen + len)) == NULL)
		return 0;
	sc->out = n;
	memcpy(sc->out + sc->outlen, data, len);
	sc->outlen += len;
	return (int)len;
}

static void
sim_eof_cb(ssh_session s, ssh_channel ch, void *arg)
{
	struct sim_chan *sc = sim_chan_of(arg, ch);

	(void)s;
	if (sc != NULL)
		sc->exit_now = 1;
}

static void
sim_close_cb(ssh_session s, ssh_channel ch, void *arg)
{
	struct sim_chan *sc = sim_chan_of(arg, ch);

	(void)s;
	if (sc != NULL)
		sc->closed = 1;
}

static int
sim_pty_cb(ssh_session s, ssh_channel ch, const char *term, int w, int h, int pw,
    int ph, void *arg)
{
	(void)s; (void)ch; (void)term; (void)w; (void)h; (void)pw; (void)ph; (void)arg;
	return 0;
}

static int
sim_shell_cb(ssh_session s, ssh_channel ch, void *arg)
{
	struct sim_chan *sc = sim_chan_of(arg, ch);
	static const char prompt[] = "sim$ ";
	char *n;

	(void)s;
	if (sc == NULL || (n = realloc(sc->out, sc->outlen + sizeof(prompt) - 1)) == NULL)
		return 1;
	sc->out = n;
	memcpy(sc->out + sc->outlen, prompt, sizeof(prompt) - 1);
	sc->outlen += sizeof(prompt) - 1;
	return 0;
}

static int
sim_exec_cb(ssh_session s, ssh_channel ch, const char *cmd, void *arg)
{
	struct sim_chan *sc = sim_chan_of(arg, ch);

	(void)s;
	(void)cmd;
	if (sc == NULL)
		return 1;
	sc->exit_now = 1;
	return 0;
}

static int
sim_env_cb(ssh_session s, ssh_channel ch, const char *name, const char *value,
    void *arg)
{
	(void)s; (void)ch; (void)name; (void)value; (void)arg;
	return 0;
}

static int
sim_winch_cb(ssh_session s, ssh_channel ch, int w, int h, int pw, int ph, void *arg)
{
	(void)s; (void)ch; (void)w; (void)h; (void)pw; (void)ph; (void)arg;
	return 0;
}

static ssh_channel
sim_open_cb(ssh_session s, void *arg)
{
	struct sim_conn *c = arg;
	struct sim_chan *sc = NULL;
	int i;

	for (i = 0; i < SIM_CHANNELS && sc == NULL; i++)
		if (c->chans[i].ch == NULL)
			sc = &c->chans[i];
	if (sc == NULL || (sc->ch = ssh_channel_new(s)) == NULL)
		return NULL;
	memset(&sc->cb, 0, sizeof(sc->cb));
	sc->cb.userdata = c;
	sc->cb.channel_data_function = sim_data_cb;
	sc->cb.channel_eof_function = sim_eof_cb;
	sc->cb.channel_close_function = sim_close_cb;
	sc->cb.channel_pty_request_function = sim_pty_cb;
	sc->cb.channel_shell_request_function = sim_shell_cb;
	sc->cb.channel_exec_request_function = sim_exec_cb;
	sc->cb.channel_env_request_function = sim_env_cb;
	sc->cb.channel_pty_window_change_function = sim_winch_cb;
	ssh_callbacks_init(&sc->cb);
	ssh_set_channel_callbacks(sc->ch, &sc->cb);
	return sc->ch;
}

/* Any key: this is a simulated device on loopback, not a gate. */
static int
sim_pubkey_cb(ssh_session s, const char *user, struct ssh_key_struct *key,
    char state, void *arg)
{
	(void)s; (void)user; (void)key; (void)arg;
	return state == SSH_PUBLICKEY_STATE_NONE || state == SSH_PUBLICKEY_STATE_VALID ?
	    SSH_AUTH_SUCCESS : SSH_AUTH_DENIED;
}

static void
sim_conn_free(struct sim_conn *c)
{
	int i;

	if (c->rd != NULL)
		event_free(c->rd);
	if (c->wr != NULL)
		event_free(c->wr);
	for (i = 0; i < SIM_CHANNELS; i++)
		free(c->chans[i].out);
	if (c->sev != NULL) {
		ssh_event_remove_session(c->sev, c->s);
		ssh_event_free(c->sev);
	}
	ssh_disconnect(c->s);
	ssh_free(c->s);
	if (c->fd != -1)
		close(c->fd);
	free(c);
}

/* Outside libssh's callbacks: send pending echo as far as the window allows. */
static void
sim_pump(struct sim_conn *c)
{
	struct sim_chan *sc;
	int i, n;

	for (i = 0; i < SIM_CHANNELS; i++) {
		sc = &c->chans[i];
		if (sc->ch == NULL)
			continue;
		if (sc->outlen > 0 && !sc->closed) {
			n = ssh_channel_write(sc->ch, sc->out, (uint32_t)sc->outlen);
			if (n > 0) {
				memmove(sc->out, sc->out + n, sc->outlen - (size_t)n);
				sc->outlen -= (size_t)n;
			}
		}
		if (sc->closed || (sc->exit_now && sc->outlen == 0)) {
			if (!sc->closed) {
				ssh_channel_request_send_exit_status(sc->ch, 0);
				ssh_channel_send_eof(sc->ch);
			}
			ssh_channel_close(sc->ch);
			ssh_channel_free(sc->ch);
			sc->ch = NULL;
			free(sc->out);
			sc->out = NULL;
			sc->outlen = 0;
			sc->closed = sc->exit_now = 0;
		}
	}
}

static void
sim_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sim_conn *c = arg;
	int i, rc, want;

	(void)fd;
	(void)what;
	if (!c->kex_done) {
		rc = ssh_handle_key_exchange(c->s);
		if (rc == SSH_OK)
			c->kex_done = 1;
		else if (rc != SSH_AGAIN)
			c->dead = 1;
	}
	for (i = 0; i < 16 && !c->dead; i++)
		if (ssh_event_dopoll(c->sev, 0) != SSH_OK)
			break;
	if (!c->dead)
		sim_pump(c);
	if (c->dead || (ssh_get_status(c->s) & (SSH_CLOSED | SSH_CLOSED_ERROR))) {
		sim_conn_free(c);
		return;
	}
	want = (ssh_get_poll_flags(c->s) & SSH_WRITE_PENDING) != 0;
	if (want && !c->writing)
		event_add(c->wr, NULL);
	else if (!want && c->writing)
		event_del(c->wr);
	c->writing = want;
}

static void
sim_accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct sim_conn *c;
	int one = 1;

	(void)l; (void)sa; (void)salen; (void)arg;
	/* keystrokes and echoes are tiny: Nagle would hold them for the peer's ACK */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((c = calloc(1, sizeof(*c))) == NULL || (c->s = ssh_new()) == NULL) {
		free(c);
		close(fd);
		return;
	}
	c->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	c->scb.userdata = c;
	c->scb.auth_pubkey_function = sim_pubkey_cb;
	c->scb.channel_open_request_session_function = sim_open_cb;
	ssh_callbacks_init(&c->scb);
	if (c->fd == -1 || ssh_bind_accept_fd(sim_bind, c->s, fd) != SSH_OK)
		goto fail;
	ssh_set_server_callbacks(c->s, &c->scb);
	ssh_set_auth_methods(c->s, SSH_AUTH_METHOD_PUBLICKEY);
	ssh_set_blocking(c->s, 0);
	if (ssh_handle_key_exchange(c->s) == SSH_ERROR)
		goto fail;
	if ((c->sev = ssh_event_new()) == NULL || ssh_event_add_session(c->sev, c->s) != SSH_OK)
		goto fail;
	c->rd = event_new(sim_base, c->fd, EV_READ | EV_PERSIST, sim_io_cb, c);
	c->wr = event_new(sim_base, c->fd, EV_WRITE | EV_PERSIST, sim_io_cb, c);
	if (c->rd == NULL || c->wr == NULL || event_add(c->rd, NULL) == -1)
		goto fail;
	c->writing = 0;
	return;
fail:
	fprintf(stderr, "simasset: accept: %s\n", ssh_get_error(c->s));
	if (ssh_get_fd(c->s) != fd)
		close(fd);	/* else ssh_free closes it */
	sim_conn_free(c);
}

static void
sim_usage(void)
{
	fprintf(stderr, "usage: simasset -a ADDR -p PORT -k HOSTKEY\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *addr = NULL, *keyfile = NULL;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct evconnlistener *l;
	struct rlimit rl;
	ssh_key key = NULL;
	bool no = false;
	int opt, port = 0;

	while ((opt = getopt(argc, argv, "a:p:k:")) != -1) {
		switch (opt) {
		case 'a': addr = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'k': keyfile = optarg; break;
		default: sim_usage();
		}
	}
	if (addr == NULL || keyfile == NULL || port <= 0 || port > 65535 ||
	    inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		sim_usage();
	sin.sin_port = htons((uint16_t)port);
	/* a thousand sessions need more than the default 1,024 descriptors */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	ssh_init();
	if (ssh_pki_import_privkey_file(keyfile, NULL, NULL, NULL, &key) != SSH_OK) {
		fprintf(stderr, "simasset: cannot read host key %s\n", keyfile);
		return 1;
	}
	if ((sim_bind = ssh_bind_new()) == NULL ||
	    ssh_bind_options_set(sim_bind, SSH_BIND_OPTIONS_PROCESS_CONFIG, &no) != 0 ||
	    ssh_bind_options_set(sim_bind, SSH_BIND_OPTIONS_IMPORT_KEY, key) != 0) {
		fprintf(stderr, "simasset: cannot set up the server\n");
		return 1;
	}
	if ((sim_base = event_base_new()) == NULL)
		return 1;
	l = evconnlistener_new_bind(sim_base, sim_accept_cb, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 1024,
	    (struct sockaddr *)&sin, sizeof(sin));
	if (l == NULL) {
		fprintf(stderr, "simasset: cannot listen on %s:%d: %s\n", addr, port,
		    strerror(errno));
		return 1;
	}
	event_base_dispatch(sim_base);
	evconnlistener_free(l);
	event_base_free(sim_base);
	ssh_bind_free(sim_bind);
	ssh_finalize();
	return 0;
}
