/*
 * recworker.c: the thread that writes, hashes and seals recordings for the
 * broker, so that the relay's thread only encodes. Jobs run in the order they
 * were pushed. A recording (a client) may have at most RECWORKER_CLIENT_MAX
 * bytes queued and all of them RECWORKER_TOTAL_MAX: past that the pusher
 * waits, which is the backpressure of a recorder slower than the relay (the
 * loop then waits as long as it would have spent doing the work itself). The
 * worker never waits for the loop. A finished job's buffer is kept as the
 * client's spare, so that a busy recording swaps two buffers and allocates
 * nothing.
 *
 * The broker forks at run time (auth helpers that run OpenSSL code, hooks):
 * a fork while the worker is inside OpenSSL could leave the child one of its
 * locks held by a thread that no longer exists. Jobs run under recworker_busy,
 * which fork takes first (pthread_atfork), so a fork waits for the job at hand
 * (a few hundred microseconds) and the worker waits for the fork.
 */
#include <pthread.h>
#include <stdlib.h>

#include "common/common.h"
#include "recorder/recorder.h"

#define RECWORKER_CLIENT_MAX (128u * 1024)
#define RECWORKER_TOTAL_MAX (16u * 1024 * 1024)

static pthread_mutex_t recworker_busy = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t recworker_once = PTHREAD_ONCE_INIT;
static int recworker_atfork_err;

struct recworker_job {
	struct recworker_job *next;
	struct recworker_client *c;
	recworker_fn *fn;
	void *arg;
	struct buf data;
	size_t len;
	uint64_t t;
	int final;
};

struct recworker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t work;	/* a job was pushed, or stop */
	pthread_cond_t done;	/* a job finished */
	struct recworker_job *head, **tail;
	size_t queued;
	int stopping;
};

/* Account for a finished job and keep its buffer as the client's spare. */
static void
recworker_finish(struct recworker *w, struct recworker_job *job)
{
	struct recworker_client *c = job->c;

	buf_reset(&job->data);
	pthread_mutex_lock(&w->lock);
	c->queued -= job->len;
	c->jobs--;
	w->queued -= job->len;
	if (!c->has_spare) {
		c->spare = job->data;
		c->has_spare = 1;
		job->data.data = NULL;
	}
	pthread_mutex_unlock(&w->lock);
	/* after the unlock, so that a waiter woken need not wait for the lock */
	pthread_cond_broadcast(&w->done);
	buf_free(&job->data);
	free(job);
}

static void
recworker_fork_prepare(void)
{
	pthread_mutex_lock(&recworker_busy);
}

static void
recworker_fork_done(void)
{
	pthread_mutex_unlock(&recworker_busy);
}

static void
recworker_atfork(void)
{
	recworker_atfork_err = pthread_atfork(recworker_fork_prepare, recworker_fork_done,
	    recworker_fork_done);
}

static void *
recworker_thread_cb(void *arg)
{
	struct recworker *w = arg;
	struct recworker_job *job;

	for (;;) {
		pthread_mutex_lock(&w->lock);
		while (w->head == NULL && !w->stopping)
			pthread_cond_wait(&w->work, &w->lock);
		if ((job = w->head) == NULL) {
			pthread_mutex_unlock(&w->lock);
			return NULL;
		}
		if ((w->head = job->next) == NULL)
			w->tail = &w->head;
		pthread_mutex_unlock(&w->lock);
		pthread_mutex_lock(&recworker_busy);
		job->fn(job->arg, &job->data, job->t, job->final);
		pthread_mutex_unlock(&recworker_busy);
		recworker_finish(w, job);
	}
}

int
recworker_start(struct recworker **out)
{
	struct recworker *w;

	*out = NULL;
	if (pthread_once(&recworker_once, recworker_atfork) != 0 || recworker_atfork_err != 0)
		return OTG_ERR_NOMEM;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return OTG_ERR_NOMEM;
	w->tail = &w->head;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->work, NULL);
	pthread_cond_init(&w->done, NULL);
	if (pthread_create(&w->thread, NULL, recworker_thread_cb, w) != 0) {
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->work);
		pthread_cond_destroy(&w->done);
		free(w);
		return OTG_ERR_NOMEM;
	}
	*out = w;
	return 0;
}

/* Runs what is queued, then joins. */
void
recworker_stop(struct recworker *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = 1;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->work);
	pthread_cond_destroy(&w->done);
	free(w);
}

int
recworker_push(struct recworker *w, struct recworker_client *c, recworker_fn *fn, void *arg,
    struct buf *data, uint64_t t, int final)
{
	struct recworker_job *job;

	if ((job = calloc(1, sizeof(*job))) == NULL)
		return OTG_ERR_NOMEM;
	job->c = c;
	job->fn = fn;
	job->arg = arg;
	job->data = *data;
	job->len = buf_len(data);
	job->t = t;
	job->final = final;
	pthread_mutex_lock(&w->lock);
	while (c->queued > RECWORKER_CLIENT_MAX || w->queued > RECWORKER_TOTAL_MAX)
		pthread_cond_wait(&w->done, &w->lock);
	*w->tail = job;
	w->tail = &job->next;
	c->queued += job->len;
	c->jobs++;
	w->queued += job->len;
	/* the caller's next buffer: the spare, or a fresh one */
	if (c->has_spare) {
		*data = c->spare;
		c->has_spare = 0;
	} else {
		buf_init(data, data->max);
	}
	pthread_mutex_unlock(&w->lock);
	pthread_cond_signal(&w->work);
	return 0;
}

void
recworker_drain(struct recworker *w, struct recworker_client *c)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	while (c->jobs > 0)
		pthread_cond_wait(&w->done, &w->lock);
	pthread_mutex_unlock(&w->lock);
}

/* After recworker_drain: the spare buffer goes. */
void
recworker_client_free(struct recworker_client *c)
{
	if (c->has_spare)
		buf_free(&c->spare);
	c->has_spare = 0;
}
