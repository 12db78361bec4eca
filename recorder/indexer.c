/*
 * indexer.c: the broker's way to the index without blocking its event loop.
 * The loop gathers a session's transcript lines into a batch (one allocation
 * per INDEXER_BATCH_BYTES, not per line) and queues the batch, a session row
 * or a "partial" mark with one atomic push: it never takes a lock the helper
 * thread may hold. The helper thread takes everything queued at least once a
 * second and writes it to SQLite in one transaction.
 *
 * Under sustained bulk output full-text indexing cannot keep up (FTS5 takes
 * a few MB/s of base64 text per core), so the helper works at most one
 * INDEXER_DUTY-th of the time, which leaves the relay its CPU, and the text
 * it may hold queued is bounded by INDEXER_MAX_BYTES. A batch that does not
 * fit is dropped, and from then on that session's text is not indexed: the
 * index keeps a "partial" row saying up to which time offset it is complete,
 * and `otgate index rebuild` completes it from the recording. Session rows
 * and partial marks are never dropped.
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
	atomic_size_t queued;	/* bytes of lines in the queue */
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

static void
indexer_write(struct indexer *x, struct indexer_item *list)
{
	struct indexer_item *it;
	int r;

	if (list == NULL)
		return;
	r = index_begin(x->ix);
	for (it = list; it != NULL && r == 0; it = it->next) {
		if (it->kind == INDEXER_SESSION)
			r = index_put_session(x->ix, &it->s);
		else if (it->kind == INDEXER_PARTIAL)
			r = index_set_partial(x->ix, it->s.id, it->t);
		else
			indexer_write_lines(x->ix, it, &r);
	}
	if (r == 0)
		r = index_commit(x->ix);
	if (r != 0)
		log_warnx("index: a batch was not written; `otgate index rebuild` restores it");
}

/* Everything queued, oldest first; the queue's byte count is given back. */
static struct indexer_item *
indexer_take(struct indexer *x)
{
	struct indexer_item *it = atomic_exchange(&x->head, NULL), *prev = NULL, *next;
	size_t bytes = 0;

	for (; it != NULL; it = next) {
		next = it->next;
		it->next = prev;
		prev = it;
		if (it->kind == INDEXER_LINES)
			bytes += it->len;
	}
	atomic_fetch_sub(&x->queued, bytes);
	return prev;
}

static void
indexer_free_list(struct indexer_item *it)
{
	struct indexer_item *next;

	for (; it != NULL; it = next) {
		next = it->next;
		free(it);
	}
}

static double
indexer_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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
	struct indexer_item *list;
	double start, spent;
	int stopping;

	for (;;) {
		indexer_sleep(x, indexer_now() + 1, 1);
		stopping = atomic_load(&x->stopping);
		start = indexer_now();
		list = indexer_take(x);
		indexer_write(x, list);
		indexer_free_list(list);
		if (stopping)
			return NULL;
		/* rest (DUTY - 1) times what the write took */
		spent = indexer_now() - start;
		if (spent > 0.001) {
			atomic_store(&x->resting, 1);
			indexer_sleep(x, start + spent * INDEXER_DUTY, 0);
			atomic_store(&x->resting, 0);
		}
	}
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
	struct indexer_item *list;

	if (x == NULL)
		return;
	atomic_store(&x->stopping, 1);
	pthread_mutex_lock(&x->lock);
	pthread_cond_signal(&x->wake);
	pthread_mutex_unlock(&x->lock);
	pthread_join(x->thread, NULL);
	list = indexer_take(x);	/* pushed after the helper's last write */
	indexer_write(x, list);
	indexer_free_list(list);
	index_close(x->ix);
	pthread_mutex_destroy(&x->lock);
	pthread_cond_destroy(&x->wake);
	free(x);
}
