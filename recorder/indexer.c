/*
 * indexer.c: the broker's way to the index without blocking its event loop.
 * Calls from the loop copy the item onto a queue under a mutex and return; one
 * helper thread takes everything queued at least once a second (sooner when
 * the queue fills) and writes it to SQLite in one transaction. The queue is
 * bounded: past INDEXER_MAX_LINES transcript lines are dropped and counted
 * (the index can be rebuilt from recordings); session rows are never dropped.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "recorder/recorder.h"

#define INDEXER_MAX_LINES 20000
#define INDEXER_WAKE_LINES 2000

struct indexer_item {
	struct indexer_item *next;
	int is_session;
	struct index_session s;	/* strings point into text */
	double t;
	size_t len;
	char text[];		/* line, or the session's strings one after another */
};

struct indexer {
	struct rec_index *ix;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct indexer_item *head, *tail;
	size_t nlines;
	int stopping;
	unsigned long long dropped;
};

static void
indexer_write(struct indexer *x, struct indexer_item *list)
{
	struct indexer_item *it;
	int r;

	if (list == NULL)
		return;
	r = index_begin(x->ix);
	for (it = list; it != NULL && r == 0; it = it->next) {
		if (it->is_session)
			r = index_put_session(x->ix, &it->s);
		else
			r = index_add_line(x->ix, it->s.id, it->t, it->text, it->len);
	}
	if (r == 0)
		r = index_commit(x->ix);
	if (r != 0)
		log_warnx("index: a batch was not written; `otgate index rebuild` restores it");
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

static void *
indexer_thread_cb(void *arg)
{
	struct indexer *x = arg;
	struct indexer_item *list;
	struct timespec until;
	int stopping;

	for (;;) {
		pthread_mutex_lock(&x->lock);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		while (!x->stopping && x->nlines < INDEXER_WAKE_LINES &&
		    pthread_cond_timedwait(&x->wake, &x->lock, &until) != ETIMEDOUT)
			;
		list = x->head;
		x->head = x->tail = NULL;
		x->nlines = 0;
		stopping = x->stopping;
		pthread_mutex_unlock(&x->lock);
		indexer_write(x, list);
		indexer_free_list(list);
		if (stopping)
			return NULL;
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

static void
indexer_push(struct indexer *x, struct indexer_item *it)
{
	pthread_mutex_lock(&x->lock);
	if (x->tail != NULL)
		x->tail->next = it;
	else
		x->head = it;
	x->tail = it;
	if (!it->is_session && ++x->nlines >= INDEXER_WAKE_LINES)
		pthread_cond_signal(&x->wake);
	pthread_mutex_unlock(&x->lock);
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
	if ((it = calloc(1, sizeof(*it) + n)) == NULL)
		return OTG_ERR_NOMEM;
	it->is_session = 1;
	it->s = *s;
	p = it->text;
	p = indexer_copy(p, &it->s.user, s->user);
	p = indexer_copy(p, &it->s.company, s->company);
	p = indexer_copy(p, &it->s.asset, s->asset);
	p = indexer_copy(p, &it->s.src, s->src);
	p = indexer_copy(p, &it->s.kind, s->kind);
	indexer_copy(p, &it->s.recording, s->recording);
	indexer_push(x, it);
	return 0;
}

int
indexer_line(struct indexer *x, const char *session, double t, const char *line,
    size_t len)
{
	struct indexer_item *it;
	int full;

	pthread_mutex_lock(&x->lock);
	if ((full = x->nlines >= INDEXER_MAX_LINES))
		x->dropped++;
	pthread_mutex_unlock(&x->lock);
	if (full)
		return OTG_ERR_TOOBIG;
	if ((it = calloc(1, sizeof(*it) + len + 1)) == NULL)
		return OTG_ERR_NOMEM;
	snprintf(it->s.id, sizeof(it->s.id), "%s", session);
	it->t = t;
	it->len = len;
	memcpy(it->text, line, len);
	indexer_push(x, it);
	return 0;
}

unsigned long long
indexer_dropped(struct indexer *x)
{
	unsigned long long n;

	pthread_mutex_lock(&x->lock);
	n = x->dropped;
	pthread_mutex_unlock(&x->lock);
	return n;
}

void
indexer_stop(struct indexer *x)
{
	if (x == NULL)
		return;
	pthread_mutex_lock(&x->lock);
	x->stopping = 1;
	pthread_cond_signal(&x->wake);
	pthread_mutex_unlock(&x->lock);
	pthread_join(x->thread, NULL);
	index_close(x->ix);
	pthread_mutex_destroy(&x->lock);
	pthread_cond_destroy(&x->wake);
	free(x);
}
