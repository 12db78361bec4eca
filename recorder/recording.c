/*
 * recording.c: the writer the broker drives for each recorded channel. Events
 * are encoded into memory (asciicast for a pty, frames otherwise) and reach the
 * file when a second has passed, 64 KiB are pending, or at close, so the event
 * loop makes few system calls and a kill -9 loses at most the last second. The
 * bytes written feed the seal chain; a seal follows at most every 64 KiB or 5 s
 * and at close. The file is ID.cast.part / ID.stream.part until a clean close.
 * Errors are sticky: once a write fails the recording refuses everything, and
 * the broker must end the session rather than relay unrecorded bytes.
 *
 * With a worker (recworker.c) the caller's thread only encodes: what would be
 * written is handed over as a job, and the worker writes, hashes and seals it.
 * The fields below are then split: the file side (fd, seal_fd, seals, cipher,
 * atrest, chain, signer, last_seal) is the worker's once the recording is
 * open; the rest is the caller's. The worker hands back failures (werr) under
 * lock, and the caller picks them up on its next call; checkpoints it reports
 * itself, as it seals (the callback is thread-safe then).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "common/common.h"
#include "recorder/recorder.h"

#define RECORDING_PENDING_MAX (4u * 1024 * 1024)
#define RECORDING_EVENT_CHUNK 16384	/* bytes of data per event or frame */
#define RECORDING_JOB_BYTES (128 * 1024)	/* a worker's job: two seals' worth */
#define RECORDING_WRITEBACK (8 * 1024 * 1024)	/* see recording_writeback */

struct recording {
	struct rec_meta meta;	/* strings owned */
	int pty, record_input;
	char path[4096];	/* final name */
	char part[4096];
	char seal_path[4096];
	int fd, seal_fd;
	struct buf pending;	/* encoded, not yet written */
	struct buf seals;	/* seal lines not yet written */
	struct atrest_writer *atrest;	/* encrypting: pending becomes chunks here */
	struct buf cipher;
	struct seal_chain chain;
	void *signer;		/* the session's signing key (seal.c) */
	struct cast_text out_text, in_text;
	struct timespec t0;	/* CLOCK_MONOTONIC at open */
	uint64_t start_ms;	/* Unix ms at open */
	uint64_t last_t, last_flush, last_seal;
	uint64_t last_data;	/* worker: when data was last handed over */
	uint64_t bytes_in, bytes_out;
	off_t wb_started, wb_dropped;	/* sent to the disk; out of the cache */
	rec_checkpoint_fn *checkpoint;
	void *checkpoint_arg;
	struct indexer *index;
	struct transcript transcript;
	struct indexer_item *index_batch;	/* lines not yet queued */
	int index_partial;	/* the index dropped text: feed it no more */
	int err;
	char why[256];
	struct recworker *worker;	/* NULL: files written on the caller's thread */
	struct recworker_client wc;
	pthread_mutex_t lock;	/* werr, wwhy: shared with the worker */
	atomic_int werr;	/* the worker's first failure */
	char wwhy[256];
};

static void
recording_set_why(struct recording *rec, const char *fmt, ...) OTG_PRINTF(2, 3);

/* A reason the size of a log line; a long path in it is cut. */
static void
recording_set_why(struct recording *rec, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rec->why, sizeof(rec->why), fmt, ap);
	va_end(ap);
}

/* The first failure sticks; errno still tells about it when err is OTG_ERR_IO. */
static int
recording_fail(struct recording *rec, int err, const char *what)
{
	if (rec->err == 0) {
		rec->err = err;
		recording_set_why(rec, "%s: %s", what, err == OTG_ERR_IO ? strerror(errno) :
		    otg_strerror(err));
	}
	return rec->err;
}

/* A failure of the file side. On the worker it is kept for the caller's thread,
 * which takes it over at its next call (recording_check). */
static int
recording_file_fail(struct recording *rec, int err, const char *what)
{
	char why[sizeof(rec->wwhy)];

	if (rec->worker == NULL)
		return recording_fail(rec, err, what);
	snprintf(why, sizeof(why), "%s: %s", what, err == OTG_ERR_IO ? strerror(errno) :
	    otg_strerror(err));
	pthread_mutex_lock(&rec->lock);
	if (atomic_load(&rec->werr) == 0) {
		memcpy(rec->wwhy, why, sizeof(why));
		atomic_store(&rec->werr, err);
	}
	pthread_mutex_unlock(&rec->lock);
	return err;
}

/* The caller's thread: a failure the worker met becomes the recording's. */
static int
recording_check(struct recording *rec)
{
	if (rec->err == 0 && atomic_load(&rec->werr) != 0) {
		pthread_mutex_lock(&rec->lock);
		rec->err = atomic_load(&rec->werr);
		memcpy(rec->why, rec->wwhy, sizeof(rec->why));
		pthread_mutex_unlock(&rec->lock);
	}
	return rec->err;
}

static char *
recording_strdup(const char *s)
{
	return strdup(s != NULL ? s : "");
}

static int
recording_copy_meta(struct rec_meta *dst, const struct rec_meta *src)
{
	*dst = *src;
	dst->user = recording_strdup(src->user);
	dst->company = recording_strdup(src->company);
	dst->asset = recording_strdup(src->asset);
	dst->src = recording_strdup(src->src);
	dst->kind = recording_strdup(src->kind);
	dst->policy = recording_strdup(src->policy);
	dst->command = recording_strdup(src->command);
	dst->title = recording_strdup(src->title);
	dst->term = recording_strdup(src->term != NULL ? src->term : "xterm");
	if (dst->user == NULL || dst->company == NULL || dst->asset == NULL ||
	    dst->src == NULL || dst->kind == NULL || dst->policy == NULL ||
	    dst->command == NULL || dst->title == NULL || dst->term == NULL)
		return OTG_ERR_NOMEM;
	return 0;
}

static void
recording_free_meta(struct rec_meta *m)
{
	free((char *)m->user);
	free((char *)m->company);
	free((char *)m->asset);
	free((char *)m->src);
	free((char *)m->kind);
	free((char *)m->policy);
	free((char *)m->command);
	free((char *)m->title);
	free((char *)m->term);
}

static int
recording_write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return OTG_ERR_IO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Seal what the chain has hashed since the last seal. */
static int
recording_seal(struct recording *rec, uint64_t t, int final)
{
	struct rec_checkpoint cp;
	struct seal_record s;
	uint8_t msg[SEAL_MSG_LEN];
	int r;

	if ((r = seal_chain_next(&rec->chain)) != 0)
		return r;
	memset(&s, 0, sizeof(s));
	s.seq = rec->chain.seq;
	s.offset = rec->chain.offset;
	s.time_ms = rec->start_ms + t / 1000;
	memcpy(s.h, rec->chain.h, sizeof(s.h));
	s.final = final;
	seal_message(msg, rec->meta.session, &s);
	if ((r = seal_sign(rec->signer, msg, sizeof(msg), s.sig)) != 0 ||
	    (r = seal_record_line(&rec->seals, &s)) != 0)
		return r;
	rec->last_seal = t;
	if (rec->checkpoint != NULL) {
		memset(&cp, 0, sizeof(cp));
		cp.session = rec->meta.session;
		cp.file = strrchr(rec->path, '/') + 1;
		cp.seq = s.seq;
		cp.offset = s.offset;
		cp.time_ms = s.time_ms;
		seal_hex_str(cp.h, s.h, sizeof(s.h));
		cp.final = final;
		rec->checkpoint(rec->checkpoint_arg, &cp);
	}
	return 0;
}

/* Encrypting: the bytes in become chunks, the last one at close. */
static int
recording_encrypt(struct recording *rec, struct buf *in, int final)
{
	size_t n;
	int r;

	do {
		n = buf_len(in) < ATREST_MAX_CHUNK ? buf_len(in) : ATREST_MAX_CHUNK;
		if (n == 0 && !final)
			return 0;
		if ((r = atrest_chunk(rec->atrest, n > 0 ? buf_ptr(in) : NULL, n,
		    final && n == buf_len(in), &rec->cipher)) != 0 ||
		    (r = buf_consume(in, n)) != 0)
			return r;
	} while (buf_len(in) > 0);
	return 0;
}

/* A recording is written once and read rarely: every 8 MiB its newest part is
 * sent to the disk, and the part before, on the disk by then (or waited for),
 * leaves the page cache. Bulk output then takes neither the cache the index
 * and everything else use nor fresh memory the kernel must find for it (4 s
 * of system time per GiB on the VM of bench/NOTES.md, 0.5 s this way), and
 * reaches the disk within 8 MiB rather than at the kernel's leisure. Nothing
 * here can lose a byte already written: failures are ignored. */
static void
recording_writeback(struct recording *rec)
{
	off_t end = (off_t)rec->chain.offset;

	if (end - rec->wb_started < RECORDING_WRITEBACK)
		return;
	if (rec->wb_started > rec->wb_dropped) {
		(void)sync_file_range(rec->fd, rec->wb_dropped, rec->wb_started - rec->wb_dropped,
		    SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
		    SYNC_FILE_RANGE_WAIT_AFTER);
		(void)posix_fadvise(rec->fd, rec->wb_dropped, rec->wb_started - rec->wb_dropped,
		    POSIX_FADV_DONTNEED);
		rec->wb_dropped = rec->wb_started;
	}
	(void)sync_file_range(rec->fd, rec->wb_started, end - rec->wb_started,
	    SYNC_FILE_RANGE_WRITE);
	rec->wb_started = end;
}

/* Write the encoded bytes in (one write), hash them with a seal at every
 * 64 KiB boundary, then any seal that is due, then the seal lines: a seal
 * never covers unwritten data. The file side: the worker's thread when
 * there is one. */
static int
recording_flush(struct recording *rec, struct buf *in, uint64_t t, int final)
{
	struct buf *out = rec->atrest != NULL ? &rec->cipher : in;
	size_t n, room;
	int r;

	if (rec->atrest != NULL && (r = recording_encrypt(rec, in, final)) != 0)
		return recording_file_fail(rec, r, "encrypting the recording");
	if ((r = recording_write_all(rec->fd, buf_ptr(out), buf_len(out))) != 0)
		return recording_file_fail(rec, r, "writing the recording");
	while (buf_len(out) > 0) {
		room = REC_SEAL_MAX_BYTES - (size_t)(rec->chain.offset - rec->chain.sealed);
		n = buf_len(out) < room ? buf_len(out) : room;
		if ((r = seal_chain_update(&rec->chain, buf_ptr(out), n)) != 0 ||
		    (r = buf_consume(out, n)) != 0)
			return recording_file_fail(rec, r, "hashing the recording");
		if (rec->chain.offset - rec->chain.sealed == REC_SEAL_MAX_BYTES &&
		    (buf_len(out) > 0 || !final) && (r = recording_seal(rec, t, 0)) != 0)
			return recording_file_fail(rec, r, "sealing the recording");
	}
	recording_writeback(rec);
	if (final)
		r = recording_seal(rec, t, 1);
	else if (rec->chain.offset > rec->chain.sealed && t - rec->last_seal >= REC_SEAL_MAX_US)
		r = recording_seal(rec, t, 0);
	else
		r = 0;
	if (r != 0)
		return recording_file_fail(rec, r, "sealing the recording");
	if (buf_len(&rec->seals) > 0 && (r = recording_write_all(rec->seal_fd,
	    buf_ptr(&rec->seals), buf_len(&rec->seals))) != 0)
		return recording_file_fail(rec, r, "writing the seals");
	buf_reset(&rec->seals);
	return 0;
}

/* The worker's job: write, hash and seal what the caller handed over. */
static void
recording_job_cb(void *arg, struct buf *data, uint64_t t, int final)
{
	struct recording *rec = arg;

	if (atomic_load(&rec->werr) == 0)
		recording_flush(rec, data, t, final);
}

/* Pending bytes (maybe none: the worker then seals if one is due) go to the
 * worker; waits while a job of this recording is queued behind the one at
 * work (about 256 KiB behind). Jobs are 128 KiB, two seals' worth: each
 * costs the worker a sleep and a wake-up (9 % of its time with 64 KiB jobs
 * on the VM of bench/NOTES.md). */
static int
recording_handoff(struct recording *rec, uint64_t t, int final)
{
	size_t n = buf_len(&rec->pending);
	int r;

	if ((r = recworker_push(rec->worker, &rec->wc, recording_job_cb, rec, &rec->pending, t,
	    final)) != 0)
		return recording_fail(rec, r, "queueing the recording");
	rec->last_flush = t;
	if (n > 0)
		rec->last_data = t;
	return recording_check(rec);
}

static int
recording_flush_now(struct recording *rec, uint64_t t, int final)
{
	int r;

	if (rec->worker != NULL)
		return recording_handoff(rec, t, final);
	if ((r = recording_flush(rec, &rec->pending, t, final)) == 0)
		rec->last_flush = t;
	return r;
}

static int
recording_maybe_flush(struct recording *rec, uint64_t t)
{
	size_t job = rec->worker != NULL ? RECORDING_JOB_BYTES : REC_SEAL_MAX_BYTES;
	int full = buf_len(&rec->pending) >= job;
	int second = t - rec->last_flush >= REC_FLUSH_US;

	if (rec->worker != NULL) {
		/* whether a seal is due by time is the worker's to see: it is
		 * asked each second while the last data may still be unsealed */
		if (full || (second && (buf_len(&rec->pending) > 0 ||
		    t - rec->last_data <= REC_SEAL_MAX_US + REC_FLUSH_US)))
			return recording_handoff(rec, t, 0);
		return 0;
	}
	if (full || (second && buf_len(&rec->pending) > 0) ||
	    (rec->chain.offset > rec->chain.sealed && t - rec->last_seal >= REC_SEAL_MAX_US))
		return recording_flush_now(rec, t, 0);
	return 0;
}

/* Event times never go backwards, whatever the caller's clock did. */
static uint64_t
recording_time(struct recording *rec, uint64_t t)
{
	if (t < rec->last_t)
		t = rec->last_t;
	rec->last_t = t;
	return t;
}

static int
recording_paths(struct recording *rec, const char *state_dir)
{
	char dir[4096];
	struct tm tm;
	const char *ext = rec->pty ? (rec->atrest ? "cast.enc" : "cast") :
	    (rec->atrest ? "stream.enc" : "stream");
	time_t start = rec->meta.start;

	gmtime_r(&start, &tm);
	if (snprintf(dir, sizeof(dir), "%s/recordings/%04d/%02d/%02d", state_dir,
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday) >= (int)sizeof(dir) ||
	    snprintf(rec->path, sizeof(rec->path), "%s/%s.%s", dir, rec->meta.session, ext) >=
	    (int)sizeof(rec->path) ||
	    snprintf(rec->part, sizeof(rec->part), "%s.part", rec->path) >=
	    (int)sizeof(rec->part) ||
	    snprintf(rec->seal_path, sizeof(rec->seal_path), "%s/%s.seal", dir,
	    rec->meta.session) >= (int)sizeof(rec->seal_path))
		return recording_fail(rec, OTG_ERR_TOOBIG, "recording path");
	if (file_mkdirs(dir, 0750) != 0)
		return recording_fail(rec, OTG_ERR_IO, dir);
	return 0;
}

static int
recording_new_id(char id[REC_ID_LEN + 1])
{
	uint8_t raw[REC_ID_LEN / 2];

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return OTG_ERR_CRYPTO;
	seal_hex_str(id, raw, sizeof(raw));
	return 0;
}

static void
recording_index_line_cb(void *arg, double t, const char *line, size_t len)
{
	struct recording *rec = arg;

	if (!rec->index_partial && indexer_batch_line(rec->index, &rec->index_batch,
	    rec->meta.session, t, line, len) == OTG_ERR_TOOBIG)
		rec->index_partial = 1;
}

/* Queue the lines gathered so far: at least once a second, and at close. */
static void
recording_index_send(struct recording *rec)
{
	if (rec->index != NULL && rec->index_batch != NULL &&
	    indexer_batch_send(rec->index, &rec->index_batch) == OTG_ERR_TOOBIG)
		rec->index_partial = 1;
}

static void
recording_index_session(struct recording *rec, int ended, int exit_status)
{
	struct index_session s;

	if (rec->index == NULL)
		return;
	memset(&s, 0, sizeof(s));
	memcpy(s.id, rec->meta.session, sizeof(s.id));
	memcpy(s.conn, rec->meta.conn, sizeof(s.conn));
	s.user = rec->meta.user;
	s.company = rec->meta.company;
	s.asset = rec->meta.asset;
	s.src = rec->meta.src;
	s.kind = rec->meta.kind;
	s.start = (int64_t)rec->meta.start;
	s.end = ended ? (int64_t)((rec->start_ms + rec->last_t / 1000) / 1000) : 0;
	s.exit_status = exit_status;
	s.bytes_in = rec->bytes_in;
	s.bytes_out = rec->bytes_out;
	s.recording = rec->path;
	indexer_session(rec->index, &s);
}

/* The session key and its certificate, the seal file's first line. The
 * private key lives on only in the signer: OpenSSL's copy goes at once. */
static int
recording_certify(struct recording *rec, const struct recording_params *p)
{
	struct seal_cert cert;
	void *key = NULL;
	int r;

	memset(&cert, 0, sizeof(cert));
	memcpy(cert.session, rec->meta.session, sizeof(cert.session));
	cert.time_ms = rec->start_ms;
	if ((r = reckey_new_session(&key, cert.session_pub)) == 0)
		r = seal_signer_init(&rec->signer, key);
	reckey_free(key);
	if (r != 0)
		return recording_fail(rec, r, "making the session key");
	if (p->certify == NULL ||
	    (r = p->certify(p->certify_arg, cert.session, cert.session_pub, cert.time_ms,
	    cert.sig, cert.key_fp)) != 0)
		return recording_fail(rec, p->certify == NULL ? OTG_ERR_INVAL : r,
		    "certifying the session key");
	if ((r = seal_cert_line(&rec->seals, &cert)) != 0)
		return recording_fail(rec, r, "certifying the session key");
	return 0;
}

int
recording_open(const struct recording_params *p, struct recording **out)
{
	struct recording *rec;
	struct timespec now;
	int r;

	*out = NULL;
	if ((rec = calloc(1, sizeof(*rec))) == NULL)
		return OTG_ERR_NOMEM;
	pthread_mutex_init(&rec->lock, NULL);
	atomic_init(&rec->werr, 0);
	rec->fd = rec->seal_fd = -1;
	buf_init(&rec->pending, RECORDING_PENDING_MAX);
	buf_init(&rec->seals, RECORDING_PENDING_MAX);
	buf_init(&rec->cipher, RECORDING_PENDING_MAX + 1024);
	if ((r = recording_copy_meta(&rec->meta, &p->meta)) != 0) {
		recording_fail(rec, r, "recording_open");
		goto out;
	}
	rec->pty = p->pty;
	rec->record_input = p->record_input;
	rec->checkpoint = p->checkpoint;
	rec->checkpoint_arg = p->checkpoint_arg;
	rec->index = p->index;
	clock_gettime(CLOCK_MONOTONIC, &rec->t0);
	clock_gettime(CLOCK_REALTIME, &now);
	rec->start_ms = (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
	if (rec->meta.start == 0)
		rec->meta.start = now.tv_sec;
	if (rec->meta.session[0] == '\0' && (r = recording_new_id(rec->meta.session)) != 0) {
		recording_fail(rec, r, "making a session ID");
		goto out;
	}
	/* the ID names files: 32 lowercase hex, never anything a peer chose */
	if (strlen(rec->meta.session) != REC_ID_LEN ||
	    strspn(rec->meta.session, "0123456789abcdef") != REC_ID_LEN) {
		r = recording_fail(rec, OTG_ERR_INVAL, "session ID");
		goto out;
	}
	if ((r = seal_chain_init(&rec->chain)) != 0) {
		recording_fail(rec, r, "starting the seal chain");
		goto out;
	}
	/* the wrapped file keys open the file, in clear; the rest is chunks */
	if (p->nrecipients > 0 && (r = atrest_writer_new(rec->meta.session, p->recipients,
	    p->nrecipients, &rec->cipher, &rec->atrest)) != 0) {
		recording_fail(rec, r, "encrypting to the recording recipients");
		goto out;
	}
	if ((r = recording_paths(rec, p->state_dir)) != 0)
		goto out;
	if ((rec->fd = file_create(rec->part, 0640)) == -1) {
		r = recording_fail(rec, OTG_ERR_IO, rec->part);
		goto out;
	}
	if ((rec->seal_fd = file_create(rec->seal_path, 0640)) == -1) {
		r = recording_fail(rec, OTG_ERR_IO, rec->seal_path);
		goto out;
	}
	if ((r = recording_certify(rec, p)) != 0)
		goto out;
	r = rec->pty ? cast_header(&rec->pending, &rec->meta) :
	    stream_header(&rec->pending, &rec->meta);
	if (r != 0) {
		recording_fail(rec, r, "recording header");
		goto out;
	}
	/* the header and certificate reach the disk now: a full disk refuses the session */
	if ((r = recording_flush_now(rec, 0, 0)) != 0)
		goto out;
	rec->worker = p->worker;
	if (rec->index != NULL) {
		transcript_init(&rec->transcript, recording_index_line_cb, rec);
		recording_index_session(rec, 0, -1);
		if (rec->meta.command[0] != '\0' && rec->atrest == NULL)
			indexer_line(rec->index, rec->meta.session, 0, rec->meta.command,
			    strlen(rec->meta.command));
	}
	*out = rec;
	return 0;
out:
	log_warnx("recording %s: %s", rec->meta.session, rec->why);
	recording_abort(rec);
	return r;
}

const char *
recording_id(const struct recording *rec)
{
	return rec->meta.session;
}

const char *
recording_path(const struct recording *rec)
{
	return rec->path;
}

const char *
recording_file(const struct recording *rec)
{
	return rec->part;
}

const char *
recording_why(const struct recording *rec)
{
	return rec->why;
}

uint64_t
recording_clock(const struct recording *rec)
{
	struct timespec now;
	int64_t us;

	clock_gettime(CLOCK_MONOTONIC, &now);
	us = (int64_t)(now.tv_sec - rec->t0.tv_sec) * 1000000 +
	    (now.tv_nsec - rec->t0.tv_nsec) / 1000;
	return us > 0 ? (uint64_t)us : 0;
}

static int
recording_data(struct recording *rec, uint64_t t, int dir, const void *data, size_t len)
{
	struct cast_text *st = dir == STREAM_OUT ? &rec->out_text : &rec->in_text;
	const uint8_t *p = data;
	size_t n;
	int r;

	if (recording_check(rec) != 0)
		return rec->err;
	t = recording_time(rec, t);
	if (dir == STREAM_OUT)
		rec->bytes_out += len;
	else
		rec->bytes_in += len;
	/* an encrypted recording's text must not sit in the clear in the index */
	if (rec->index != NULL && !rec->index_partial && rec->atrest == NULL &&
	    dir == STREAM_OUT &&
	    strcmp(rec->meta.kind, "forward") != 0 &&
	    strcmp(rec->meta.kind, "sftp") != 0)
		transcript_feed(&rec->transcript, (double)t / 1e6, data, len);
	if (rec->pty && dir == STREAM_IN && !rec->record_input)
		return 0;
	/* in pieces, flushing between them: memory stays bounded whatever len is */
	do {
		n = len > RECORDING_EVENT_CHUNK ? RECORDING_EVENT_CHUNK : len;
		r = rec->pty ? cast_text(&rec->pending, st, dir == STREAM_OUT ? "o" : "i", t, p,
		    n) : stream_frame(&rec->pending, t, dir, p, n);
		if (r != 0)
			return recording_fail(rec, r, "encoding the recording");
		if ((r = recording_maybe_flush(rec, t)) != 0)
			return r;
		p += n;
		len -= n;
	} while (len > 0);
	return 0;
}

int
recording_output(struct recording *rec, uint64_t t_us, const void *data, size_t len)
{
	return recording_data(rec, t_us, STREAM_OUT, data, len);
}

int
recording_input(struct recording *rec, uint64_t t_us, const void *data, size_t len)
{
	return recording_data(rec, t_us, STREAM_IN, data, len);
}

int
recording_resize(struct recording *rec, uint64_t t_us, unsigned width, unsigned height)
{
	char size[32];
	int r;

	if (recording_check(rec) != 0)
		return rec->err;
	if (!rec->pty)
		return 0;
	t_us = recording_time(rec, t_us);
	snprintf(size, sizeof(size), "%ux%u", width, height);
	if ((r = cast_event(&rec->pending, t_us, "r", size)) != 0)
		return recording_fail(rec, r, "encoding the recording");
	return recording_maybe_flush(rec, t_us);
}

int
recording_marker(struct recording *rec, uint64_t t_us, const char *label)
{
	int r;

	if (recording_check(rec) != 0)
		return rec->err;
	t_us = recording_time(rec, t_us);
	r = rec->pty ? cast_event(&rec->pending, t_us, "m", label) :
	    stream_frame(&rec->pending, t_us, STREAM_MARKER, label, strlen(label));
	if (r != 0)
		return recording_fail(rec, r, "encoding the recording");
	return recording_maybe_flush(rec, t_us);
}

int
recording_tick(struct recording *rec, uint64_t t_us)
{
	if (recording_check(rec) != 0)
		return rec->err;
	recording_index_send(rec);
	return recording_maybe_flush(rec, recording_time(rec, t_us));
}

/* The end of a clean recording: carried bytes, end marker, exit status. */
static int
recording_trailer(struct recording *rec, uint64_t t, int exit_status)
{
	char status[16];
	int r;

	snprintf(status, sizeof(status), "%d", exit_status);
	if (rec->pty) {
		if ((r = cast_text_flush(&rec->pending, &rec->out_text, "o", t)) != 0 ||
		    (r = cast_text_flush(&rec->pending, &rec->in_text, "i", t)) != 0 ||
		    (r = cast_event(&rec->pending, t, "m", "end")) != 0)
			return r;
		if (exit_status >= 0)
			r = cast_event(&rec->pending, t, "x", status);
		return r;
	}
	if ((r = stream_frame(&rec->pending, t, STREAM_MARKER, "end", 3)) != 0)
		return r;
	if (exit_status >= 0)
		r = stream_frame(&rec->pending, t, STREAM_EXIT, status, strlen(status));
	return r;
}

int
recording_close(struct recording *rec, uint64_t t_us, int exit_status)
{
	int r;

	if (recording_check(rec) != 0)
		goto out;
	t_us = recording_time(rec, t_us);
	if ((r = recording_trailer(rec, t_us, exit_status)) != 0) {
		recording_fail(rec, r, "encoding the recording");
		goto out;
	}
	if (recording_flush_now(rec, t_us, 1) != 0 || recording_wait(rec) != 0)
		goto out;
	if (close(rec->fd) == -1) {
		rec->fd = -1;
		recording_fail(rec, OTG_ERR_IO, "closing the recording");
		goto out;
	}
	rec->fd = -1;
	if (close(rec->seal_fd) == -1) {
		rec->seal_fd = -1;
		recording_fail(rec, OTG_ERR_IO, "closing the seals");
		goto out;
	}
	rec->seal_fd = -1;
	if (rename(rec->part, rec->path) == -1)
		recording_fail(rec, OTG_ERR_IO, "renaming the recording");
out:
	if (rec->index != NULL) {
		transcript_flush(&rec->transcript);
		recording_index_send(rec);
		recording_index_session(rec, 1, exit_status);
	}
	if (rec->err != 0)
		log_warnx("recording %s: %s", rec->meta.session, rec->why);
	r = rec->err;
	recording_abort(rec);
	return r;
}

int
recording_wait(struct recording *rec)
{
	recworker_drain(rec->worker, &rec->wc);
	return recording_check(rec);
}

void
recording_abort(struct recording *rec)
{
	if (rec == NULL)
		return;
	recording_wait(rec);
	recworker_client_free(&rec->wc);
	pthread_mutex_destroy(&rec->lock);
	if (rec->fd != -1)
		close(rec->fd);
	if (rec->seal_fd != -1)
		close(rec->seal_fd);
	seal_signer_free(rec->signer);
	seal_chain_free(&rec->chain);
	buf_free(&rec->pending);
	buf_free(&rec->seals);
	buf_free(&rec->cipher);
	indexer_batch_free(&rec->index_batch);
	atrest_writer_free(rec->atrest);
	recording_free_meta(&rec->meta);
	explicit_bzero(rec, sizeof(*rec));
	free(rec);
}

struct recording_recovery {
	void (*cb)(void *, const char *);
	void *arg;
	int n;
};

static int
recording_recover_cb(void *arg, const struct recfile *f)
{
	struct recording_recovery *ctx = arg;
	char final[4096];
	size_t n = strlen(f->path);

	if (!f->part || n < 6 || n - 5 >= sizeof(final))
		return 0;
	memcpy(final, f->path, n - 5);
	final[n - 5] = '\0';
	if (rename(f->path, final) == -1)
		return OTG_ERR_IO;
	ctx->n++;
	if (ctx->cb != NULL)
		ctx->cb(ctx->arg, final);
	return 0;
}

int
recording_recover(const char *state_dir, void (*cb)(void *arg, const char *path), void *arg)
{
	struct recording_recovery ctx = { cb, arg, 0 };
	int r;

	if ((r = recfile_walk(state_dir, recording_recover_cb, &ctx)) != 0)
		return r;
	return ctx.n;
}
