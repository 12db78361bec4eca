/*
 * indexer.c: the broker's way to the index without blocking its event loop.
 * The loop gathers a session's transcript lines into a batch (one allocation
 * per INDEXER_BATCH_BYTES, not per line) and queues the batch, a session row
 * or a "partial" mark with one atomic push: it never takes a lock the helper
 * thread may hold. The helper thread takes everything queued at least once a
 * second and writes it to SQLite, one transaction a round: all session rows
 * and partial marks, then up to INDEXER_ROUND_BYTES of text.
 *
 * Under sustained bulk output full-text indexing cannot keep up (FTS5 takes
 * a few MB/s of base64 text per core), so the helper rests nine times as
 * long as each round took (at most a tenth of a core, which leaves the relay
 * its CPU), and the text pushed and not yet written is bounded by
 * INDEXER_MAX_BYTES. A batch that does not fit is dropped, and from then on
 * that session's text is not indexed: the index keeps a "partial" row saying
 * up to which time offset it is complete, and `otgate index rebuild`
 * completes it from the recording. Session rows and partial marks are never
 * dropped.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "recorder/recorder.h"

#define INDEXER_MAX_BYTES (4u << 20)	/* transcript text queued, at most */
#define INDEXER_BATCH_BYTES 16384	/* a batch is queued when it holds this */
#define INDEXER_DUTY 10			/* the helper writes 1/10 of the time at most */
#define INDEXER_ROUND_BYTES 65536	/* text per transaction, so rests stay short */

enum indexer_kind { INDEXER_SESSION, INDEXER_LINES, INDEXER_PARTIAL };

/* One queued thing. Lines are packed one after another in data as a double
 * (time), a uint32_t (length) and the bytes, each copied with memcpy. */
struct indexer_item {
	struct indexer_item *next;
	enum indexer_kind kind;
	struct index_session s;	/* id always; the strings of a row point into data */
	double t;		/* lines: the first one's; partial: indexed up to */
	size_t nlines, len, cap;	/* lines; bytes used and allocated in data */
	char data[];
};

struct indexer {
	struct rec_index *ix;
	pthread_t thread;
	pthread_mutex_t lock;	/* for the condition variable only */
	pthread_cond_t wake;
	_Atomic(struct indexer_item *) head;	/* newest first */
	struct indexer_item *backlog, *backlog_tail;	/* the helper's, oldest first */
	atomic_size_t queued;	/* bytes of lines pushed and not yet written */
	atomic_int resting;	/* the helper sleeps its duty cycle off: no wake-ups */
	atomic_int stopping;
	atomic_ullong dropped;	/* lines */
};

static void
indexer_write_lines(struct rec_index *ix, const struct indexer_item *it, int *r)
{
	const char *p = it->data, *end = it->data + it->len;
	uint32_t len;
	double t;

	while (*r == 0 && p < end) {
		memcpy(&t, p, sizeof(t));
		memcpy(&len, p + sizeof(t), sizeof(len));
		p += sizeof(t) + sizeof(len);
		*r = index_add_line(ix, it->s.id, t, p, len);
		p += len;
	}
}

static double
indexer_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Everything pushed since the last call, oldest first, joins the backlog. */
static void
indexer_take(struct indexer *x)
{
	struct indexer_item *it = atomic_exchange(&x->head, NULL), *list = NULL, *next;

	for (; it != NULL; it = next) {
		next = it->next;
		it->next = list;
		list = it;
	}
	if (list == NULL)
		return;
	if (x->backlog_tail != NULL)
		x->backlog_tail->next = list;
	else
		x->backlog = list;
	for (it = list; it->next != NULL; it = it->next)
		;
	x->backlog_tail = it;
}

/* Unlink it (the item after prev, or the head) from the backlog. */
static void
indexer_unlink(struct indexer *x, struct indexer_item *prev, struct indexer_item *it)
{
	if (prev != NULL)
		prev->next = it->next;
	else
		x->backlog = it->next;
	if (x->backlog_tail == it)
		x->backlog_tail = prev;
}

/* One transaction: every session row and partial mark in the backlog (small,
 * and listings should not wait behind text), then lines in order up to
 * budget bytes; the rest waits for the next round. While the database is
 * locked (an `otgate index rebuild` writing) everything waits. Returns the
 * seconds spent writing, or -1 when no transaction could begin. */
static double
indexer_round(struct indexer *x, size_t budget)
{
	struct indexer_item *it, *prev = NULL, *next;
	size_t done = 0;
	double start;
	int r;

	indexer_take(x);
	if (x->backlog == NULL)
		return 0;
	if (index_begin(x->ix) != 0)
		return -1;
	start = indexer_now();
	r = 0;
	for (it = x->backlog; it != NULL; it = next) {
		next = it->next;
		if (it->kind == INDEXER_LINES) {
			prev = it;
			continue;
		}
		if (r == 0)
			r = it->kind == INDEXER_SESSION ? index_put_session(x->ix, &it->s) :
			    index_set_partial(x->ix, it->s.id, it->t);
		indexer_unlink(x, prev, it);
		free(it);
	}
	while ((it = x->backlog) != NULL && done < budget) {
		if (r == 0)
			indexer_write_lines(x->ix, it, &r);
		done += it->len;
		atomic_fetch_sub(&x->queued, it->len);
		indexer_unlink(x, NULL, it);
		free(it);
	}
	if (r == 0)
		r = index_commit(x->ix);
	if (r != 0) {
		index_rollback(x->ix);
		log_warnx("index: a batch was not written; `otgate index rebuild` restores it");
	}
	return indexer_now() - start;
}

/* At the stop, what a locked database kept back is given up. */
static void
indexer_drop_backlog(struct indexer *x)
{
	struct indexer_item *it;

	indexer_take(x);
	while ((it = x->backlog) != NULL) {
		x->backlog = it->next;
		free(it);
	}
	x->backlog_tail = NULL;
}

/* Sleep until `until` (seconds, CLOCK_REALTIME) or a stop; with wake set, a
 * push ends the sleep too. */
static void
indexer_sleep(struct indexer *x, double until, int wake)
{
	struct timespec ts;

	ts.tv_sec = (time_t)until;
	ts.tv_nsec = (long)((until - (double)ts.tv_sec) * 1e9);
	pthread_mutex_lock(&x->lock);
	while (!atomic_load(&x->stopping) &&
	    (!wake || atomic_load(&x->head) == NULL) &&
	    pthread_cond_timedwait(&x->wake, &x->lock, &ts) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&x->lock);
}

static void *
indexer_thread_cb(void *arg)
{
	struct indexer *x = arg;
	double spent;

	for (;;) {
		if (x->backlog == NULL)
			indexer_sleep(x, indexer_now() + 1, 1);
		if (atomic_load(&x->stopping))
			break;
		/* rest (DUTY - 1) times what the round took, however short: many
		 * small rounds add up as much as one long one */
		spent = indexer_round(x, INDEXER_ROUND_BYTES);
		atomic_store(&x->resting, 1);
		/* a database that cannot begin is tried again a second later */
		indexer_sleep(x, indexer_now() + (spent < 0 ? 1 : spent * (INDEXER_DUTY - 1)),
		    0);
		atomic_store(&x->resting, 0);
	}
	indexer_round(x, SIZE_MAX);	/* at the stop, everything */
	return NULL;
}

int
indexer_start(const char *path, struct indexer **out)
{
	struct indexer *x;
	int r;

	*out = NULL;
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return OTG_ERR_NOMEM;
	if ((r = index_open(path, &x->ix)) != 0) {
		free(x);
		return r;
	}
	atomic_init(&x->head, NULL);
	atomic_init(&x->queued, 0);
	atomic_init(&x->resting, 0);
	atomic_init(&x->stopping, 0);
	atomic_init(&x->dropped, 0);
	pthread_mutex_init(&x->lock, NULL);
	pthread_cond_init(&x->wake, NULL);
	if (pthread_create(&x->thread, NULL, indexer_thread_cb, x) != 0) {
		index_close(x->ix);
		pthread_mutex_destroy(&x->lock);
		pthread_cond_destroy(&x->wake);
		free(x);
		return OTG_ERR_IO;
	}
	*out = x;
	return 0;
}

/* Lock-free: the loop never waits for the helper. */
static void
indexer_push(struct indexer *x, struct indexer_item *it)
{
	it->next = atomic_load(&x->head);
	while (!atomic_compare_exchange_weak(&x->head, &it->next, it))
		;
	if (!atomic_load(&x->resting))
		pthread_cond_signal(&x->wake);
}

static struct indexer_item *
indexer_item_new(enum indexer_kind kind, const char *session, size_t cap)
{
	struct indexer_item *it;

	if ((it = calloc(1, sizeof(*it) + cap)) == NULL)
		return NULL;
	it->kind = kind;
	it->cap = cap;
	snprintf(it->s.id, sizeof(it->s.id), "%s", session);
	return it;
}

static char *
indexer_copy(char *p, const char **field, const char *s)
{
	size_t n = strlen(s != NULL ? s : "") + 1;

	memcpy(p, s != NULL ? s : "", n);
	*field = p;
	return p + n;
}

int
indexer_session(struct indexer *x, const struct index_session *s)
{
	struct indexer_item *it;
	size_t n = 0;
	char *p;

	n += strlen(s->user ? s->user : "") + strlen(s->company ? s->company : "") +
	    strlen(s->asset ? s->asset : "") + strlen(s->src ? s->src : "") +
	    strlen(s->kind ? s->kind : "") + strlen(s->recording ? s->recording : "") + 6;
	if ((it = indexer_item_new(INDEXER_SESSION, s->id, n)) == NULL)
		return OTG_ERR_NOMEM;
	it->s = *s;
	p = it->data;
	p = indexer_copy(p, &it->s.user, s->user);
	p = indexer_copy(p, &it->s.company, s->company);
	p = indexer_copy(p, &it->s.asset, s->asset);
	p = indexer_copy(p, &it->s.src, s->src);
	p = indexer_copy(p, &it->s.kind, s->kind);
	indexer_copy(p, &it->s.recording, s->recording);
	indexer_push(x, it);
	return 0;
}

static int
indexer_partial(struct indexer *x, const char *session, double t)
{
	struct indexer_item *it;

	if ((it = indexer_item_new(INDEXER_PARTIAL, session, 0)) == NULL)
		return OTG_ERR_NOMEM;
	it->t = t;
	indexer_push(x, it);
	return 0;
}

int
indexer_batch_send(struct indexer *x, struct indexer_item **batch)
{
	struct indexer_item *it = *batch;
	int r;

	if (it == NULL)
		return 0;
	*batch = NULL;
	if (atomic_load(&x->queued) + it->len > INDEXER_MAX_BYTES) {
		atomic_fetch_add(&x->dropped, it->nlines);
		r = indexer_partial(x, it->s.id, it->t);
		free(it);
		return r != 0 ? r : OTG_ERR_TOOBIG;
	}
	atomic_fetch_add(&x->queued, it->len);
	indexer_push(x, it);
	return 0;
}

int
indexer_batch_line(struct indexer *x, struct indexer_item **batch, const char *session,
    double t, const char *line, size_t len)
{
	struct indexer_item *it = *batch, *grown;
	uint32_t n32;
	size_t need, cap;

	/* a command line may be longer than a transcript line; 64 KiB is plenty */
	if (len > 65536)
		len = 65536;
	n32 = (uint32_t)len;
	need = sizeof(t) + sizeof(n32) + len;
	if (it == NULL) {
		if ((it = indexer_item_new(INDEXER_LINES, session, need > 256 ? need : 256)) ==
		    NULL)
			return OTG_ERR_NOMEM;
		it->t = t;
		*batch = it;
	} else if (it->len + need > it->cap) {
		cap = it->len + need > 2 * it->cap ? it->len + need : 2 * it->cap;
		if ((grown = realloc(it, sizeof(*it) + cap)) == NULL)
			return OTG_ERR_NOMEM;
		*batch = it = grown;
		it->cap = cap;
	}
	memcpy(it->data + it->len, &t, sizeof(t));
	memcpy(it->data + it->len + sizeof(t), &n32, sizeof(n32));
	memcpy(it->data + it->len + sizeof(t) + sizeof(n32), line, len);
	it->len += need;
	it->nlines++;
	return it->len >= INDEXER_BATCH_BYTES ? indexer_batch_send(x, batch) : 0;
}

void
indexer_batch_free(struct indexer_item **batch)
{
	free(*batch);
	*batch = NULL;
}

int
indexer_line(struct indexer *x, const char *session, double t, const char *line,
    size_t len)
{
	struct indexer_item *batch = NULL;
	int r;

	if ((r = indexer_batch_line(x, &batch, session, t, line, len)) != 0) {
		indexer_batch_free(&batch);
		return r;
	}
	return indexer_batch_send(x, &batch);
}

unsigned long long
indexer_dropped(struct indexer *x)
{
	return atomic_load(&x->dropped);
}

void
indexer_stop(struct indexer *x)
{
	if (x == NULL)
		return;
	atomic_store(&x->stopping, 1);
	pthread_mutex_lock(&x->lock);
	pthread_cond_signal(&x->wake);
	pthread_mutex_unlock(&x->lock);
	pthread_join(x->thread, NULL);
	indexer_round(x, SIZE_MAX);	/* pushed after the helper's last round */
	indexer_drop_backlog(x);
	index_close(x->ix);
	pthread_mutex_destroy(&x->lock);
	pthread_cond_destroy(&x->wake);
	free(x);
}
