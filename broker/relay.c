/*
 * relay.c: the two channels of a session, joined. A direction takes from its
 * source only once what it took before has gone into the destination's SSH
 * window, so the peer that sends too fast is held back by SSH flow control.
 * libssh re-opens a channel's whole window (1.28 MB) after any read, whatever
 * it still buffers, so each take drains exactly what libssh had buffered, no
 * less (or its buffer would grow by a window per take) and no more (or a fast
 * peer would keep the loop reading). Memory per direction is thus about two
 * windows; a peer that ignores its window overflows the pending buffer and
 * ends the session. Every byte passes through relay_forward(), once and in
 * order, before it is forwarded: that is where a session's bytes are counted
 * and recorded (record.c); a byte that could not be recorded is not relayed.
 *
 * Ending mirrors what OpenSSH does without a broker: the vendor's EOF goes on
 * to the asset once all its data went; the asset's data, exit-status or
 * exit-signal, EOF and close reach the vendor in that order; a vendor that
 * closes its channel first closes the asset's.
 */
#include <stdlib.h>
#include <string.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>

#include "broker/broker.h"

#define RELAY_CHUNK (32u * 1024)
#define RELAY_ROUNDS 4
/* a window and a half: more pending means the peer ignored its window */
#define RELAY_PENDING_MAX (2u * 1024 * 1024)

enum relay_stream { RELAY_TO_ASSET, RELAY_TO_VENDOR, RELAY_TO_VENDOR_STDERR,
	RELAY_NSTREAMS };

struct relay {
	struct ssh_channel_callbacks_struct vendor_cb, asset_cb;
	struct buf pending[RELAY_NSTREAMS];	/* what a window did not take yet */
	int eof_to_asset, eof_to_vendor;
	int have_status, status_sent;
	int core;
};

struct relay *
relay_new(void)
{
	struct relay *r;
	int i;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	for (i = 0; i < RELAY_NSTREAMS; i++)
		buf_init(&r->pending[i], RELAY_PENDING_MAX);
	return r;
}

void
relay_free(struct relay *r)
{
	int i;

	if (r == NULL)
		return;
	for (i = 0; i < RELAY_NSTREAMS; i++)
		buf_free(&r->pending[i]);
	free(r);
}

/* libssh callbacks: only note what happened; the pump acts on it later. */
static void
relay_exit_status_cb(ssh_session ssh, ssh_channel ch, int status, void *arg)
{
	struct session *s = arg;

	(void)ssh;
	(void)ch;
	s->exit_status = status;
	s->relay->have_status = 1;
}

static int
relay_signal_ok(const char *sig)
{
	size_t i;

	for (i = 0; sig[i] != '\0'; i++)
		if (!(sig[i] >= 'A' && sig[i] <= 'Z') && !(sig[i] >= '0' && sig[i] <= '9'))
			return 0;
	return i > 0 && i < 16;
}

static void
relay_exit_signal_cb(ssh_session ssh, ssh_channel ch, const char *sig, int core,
    const char *errmsg, const char *lang, void *arg)
{
	struct session *s = arg;

	(void)ssh;
	(void)ch;
	(void)errmsg;
	(void)lang;
	if (sig == NULL || !relay_signal_ok(sig) || s->exit_signal != NULL)
		return;
	s->exit_signal = strdup(sig);
	s->relay->core = core;
}

static void
relay_signal_cb(ssh_session ssh, ssh_channel ch, const char *sig, void *arg)
{
	struct session *s = arg;

	(void)ssh;
	(void)ch;
	if (sig == NULL || !relay_signal_ok(sig))
		return;
	free(s->signal);
	s->signal = strdup(sig);
}

/* libssh answers auth-agent-req itself (no); the broker audits it. */
static void
relay_agent_cb(ssh_session ssh, ssh_channel ch, void *arg)
{
	struct session *s = arg;

	(void)ssh;
	(void)ch;
	server_audit(s->conn->srv, "channel.refused", (struct audit_field[]){
	    AUDIT_STR("conn", s->conn->id), AUDIT_STR("session", s->id),
	    AUDIT_STR("user", s->conn->user), AUDIT_STR("src", s->conn->src),
	    AUDIT_STR("kind", "agent forwarding") }, 5);
}

void
relay_vendor_callbacks(struct session *s, ssh_channel vch)
{
	struct ssh_channel_callbacks_struct *cb = &s->relay->vendor_cb;

	memset(cb, 0, sizeof(*cb));
	cb->userdata = s;
	cb->channel_signal_function = relay_signal_cb;
	cb->channel_auth_agent_req_function = relay_agent_cb;
	ssh_callbacks_init(cb);
	ssh_set_channel_callbacks(vch, cb);
}

void
relay_asset_callbacks(struct session *s, ssh_channel ach)
{
	struct ssh_channel_callbacks_struct *cb = &s->relay->asset_cb;

	memset(cb, 0, sizeof(*cb));
	cb->userdata = s;
	cb->channel_exit_status_function = relay_exit_status_cb;
	cb->channel_exit_signal_function = relay_exit_signal_cb;
	ssh_callbacks_init(cb);
	ssh_set_channel_callbacks(ach, cb);
}

void
relay_asset_callbacks_clear(struct session *s, ssh_channel ach)
{
	ssh_remove_channel_callbacks(ach, &s->relay->asset_cb);
}

/* ssh_channel_free keeps a channel the peer has not closed yet and runs its
 * callbacks when the close arrives: they must not point into a freed relay. */
void
relay_vendor_callbacks_clear(struct session *s, ssh_channel vch)
{
	ssh_remove_channel_callbacks(vch, &s->relay->vendor_cb);
}

/* Write what is pending for one stream, as far as the window allows. */
static int
relay_flush(struct session *s, enum relay_stream st)
{
	struct buf *b = &s->relay->pending[st];
	ssh_channel dst = st == RELAY_TO_ASSET ? asset_channel(s->up) : s->vch;
	int n;

	if (buf_len(b) == 0)
		return 0;
	if (st == RELAY_TO_VENDOR_STDERR)
		n = ssh_channel_write_stderr(dst, buf_ptr(b), (uint32_t)buf_len(b));
	else
		n = ssh_channel_write(dst, buf_ptr(b), (uint32_t)buf_len(b));
	if (n < 0)
		return -1;
	buf_consume(b, (size_t)n);
	if (buf_len(b) == 0)
		buf_reset(b);
	return 0;
}

/* Every byte of the session passes here, in order, before it is forwarded. */
static int
relay_forward(struct session *s, enum relay_stream st, const void *data, size_t len)
{
	if (record_data(s, st == RELAY_TO_ASSET, data, len) != 0)
		return -1;
	if (st == RELAY_TO_ASSET) {
		s->bytes_in += len;
	} else {
		s->bytes_out += len;
		watch_output(s, data, len);
	}
	if (s->transfer != NULL && st != RELAY_TO_VENDOR_STDERR) {
		/* sftp streams on; the broker's answers to refusals join the
		 * stream to the vendor between two of the asset's packets */
		if (transfer_input(s, st == RELAY_TO_ASSET, data, len,
		    &s->relay->pending[st], &s->relay->pending[RELAY_TO_VENDOR]) != 0)
			return -1;
		if (st == RELAY_TO_ASSET && relay_flush(s, RELAY_TO_VENDOR) != 0)
			return -1;
	} else if (buf_put(&s->relay->pending[st], data, len) != 0) {
		return -1;
	}
	return relay_flush(s, st);
}

/* Drain what libssh buffered for one stream once the last take is gone;
 * 1 if something moved, 0 if not, -1 on error. */
static int
relay_move(struct session *s, enum relay_stream st, uint8_t *chunk)
{
	ssh_channel src = st == RELAY_TO_ASSET ? s->vch : asset_channel(s->up);
	int stderr_stream = st == RELAY_TO_VENDOR_STDERR, avail, n, moved = 0;

	if (relay_flush(s, st) != 0)
		return -1;
	if (buf_len(&s->relay->pending[st]) > 0)
		return 0;
	if (st == RELAY_TO_ASSET ? s->relay->eof_to_asset : s->relay->eof_to_vendor)
		return 0;
	/* reads the socket only when nothing is buffered */
	avail = ssh_channel_poll(src, stderr_stream);
	if (avail == SSH_ERROR)
		return ssh_channel_is_closed(src) ? 0 : -1;
	while (avail > 0) {
		n = ssh_channel_read_nonblocking(src, chunk, (uint32_t)avail < RELAY_CHUNK ?
		    (uint32_t)avail : RELAY_CHUNK, stderr_stream);
		if (n <= 0)
			break;
		if (relay_forward(s, st, chunk, (size_t)n) != 0)
			return -1;
		avail -= n;
		moved = 1;
	}
	return moved;
}

void
relay_drop_vendor_stderr(struct session *s)
{
	uint8_t sink[1024];
	int avail;

	if (s->vch == NULL)
		return;
	for (avail = ssh_channel_poll(s->vch, 1); avail > 0; avail -= (int)sizeof(sink))
		if (ssh_channel_read_nonblocking(s->vch, sink, sizeof(sink), 1) <= 0)
			break;
	explicit_bzero(sink, sizeof(sink));
}

/* What the vendor asked for meanwhile: a new terminal size, a signal.
 * -1 when the recording failed (the session is closed then). */
static int
relay_requests(struct session *s, ssh_channel ach)
{
	if (s->resized && s->pty) {
		if (record_resize(s) != 0)
			return -1;
		ssh_channel_change_pty_size(ach, s->cols, s->rows);
		watch_resize(s);
		s->resized = 0;
	}
	if (s->signal != NULL) {
		ssh_channel_request_send_signal(ach, s->signal);
		free(s->signal);
		s->signal = NULL;
	}
	return 0;
}

const char *
relay_pump(struct session *s)
{
	struct relay *r = s->relay;
	ssh_channel ach = asset_channel(s->up);
	uint8_t chunk[RELAY_CHUNK];
	int round, st, moved, n, done;

	if (ach == NULL)
		return "no asset channel";
	if (relay_requests(s, ach) != 0)
		return "recording failed";
	relay_drop_vendor_stderr(s);
	for (round = 0; round < RELAY_ROUNDS; round++) {
		moved = 0;
		for (st = 0; st < RELAY_NSTREAMS; st++) {
			if ((n = relay_move(s, st, chunk)) < 0)
				return "relay failed: a peer sent beyond its window or "
				    "a channel broke";
			moved |= n;
		}
		if (!moved)
			break;
	}
	/* vendor -> asset: EOF after the last byte */
	if (!r->eof_to_asset && ssh_channel_is_eof(s->vch) &&
	    buf_len(&r->pending[RELAY_TO_ASSET]) == 0) {
		ssh_channel_send_eof(ach);
		r->eof_to_asset = 1;
	}
	/* asset -> vendor: data, exit status, EOF, close. The status goes
	 * before the EOF: a multiplexing OpenSSH master closes the channel as
	 * soon as both directions saw EOF, and would lose a later status. */
	done = ssh_channel_is_eof(ach) && buf_len(&r->pending[RELAY_TO_VENDOR]) == 0 &&
	    buf_len(&r->pending[RELAY_TO_VENDOR_STDERR]) == 0;
	if (done && !r->status_sent && (r->have_status || s->exit_signal != NULL)) {
		if (r->have_status)
			ssh_channel_request_send_exit_status(s->vch, s->exit_status);
		else
			ssh_channel_request_send_exit_signal(s->vch, s->exit_signal,
			    r->core, "", "");
		r->status_sent = 1;
	}
	if (done && !r->eof_to_vendor && (r->status_sent || ssh_channel_is_closed(ach))) {
		ssh_channel_send_eof(s->vch);
		r->eof_to_vendor = 1;
	}
	if (r->eof_to_vendor && ssh_channel_is_closed(ach)) {
		ssh_channel_close(s->vch);
		return "finished";
	}
	if (ssh_channel_is_closed(s->vch))
		/* the vendor went first: session_close closes the asset */
		return ssh_is_connected(s->conn->ssh) ? "vendor closed the channel" :
		    "vendor disconnected";
	if (!ssh_channel_is_eof(ach) &&
	    (ssh_channel_is_closed(ach) || !ssh_is_connected(asset_ssh(s->up)))) {
		/* the asset's connection died before its channel finished; a
		 * channel that ended normally waits here for the vendor's window */
		ssh_channel_write_stderr(s->vch, "otgate: connection to the asset lost\r\n",
		    38);
		ssh_channel_request_send_exit_status(s->vch, 255);
		ssh_channel_close(s->vch);
		return "connection to the asset lost";
	}
	return NULL;
}
