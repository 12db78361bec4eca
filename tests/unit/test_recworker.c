/* test_recworker.c: the recorder's worker thread (recworker.c). Jobs run in
 * push order; a recording with 128 KiB queued, or all of them with 16 MiB,
 * makes the pusher wait for the worker (backpressure, never loss) without
 * holding up other recordings below the bounds; a finished job's buffer comes
 * back as the recording's spare; stop runs what is queued; and fork(2) waits
 * for the job at hand (pthread_atfork), so no child inherits a lock held
 * inside one. Jobs here wait at a gate the test opens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/common.h"
#include "recorder/recorder.h"

#define KIB 1024u
#define MIB (1024u * 1024)
#define MAX_JOBS 64

struct gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int open;
	int entered;		/* jobs that reached the gate */
	uint64_t order[MAX_JOBS];	/* t of each job, as run */
	size_t nrun;
	size_t bytes;		/* data bytes the jobs saw */
};

static uint8_t zeros[MIB];
static struct gate gate = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, { 0 },
    0, 0 };

static void
gate_reset(void)
{
	pthread_mutex_lock(&gate.lock);
	gate.open = 0;
	gate.entered = 0;
	gate.nrun = 0;
	gate.bytes = 0;
	pthread_mutex_unlock(&gate.lock);
}

static void
gate_open(void)
{
	pthread_mutex_lock(&gate.lock);
	gate.open = 1;
	pthread_cond_broadcast(&gate.cond);
	pthread_mutex_unlock(&gate.lock);
}

static void
gate_wait_entered(int n)
{
	pthread_mutex_lock(&gate.lock);
	while (gate.entered < n)
		pthread_cond_wait(&gate.cond, &gate.lock);
	pthread_mutex_unlock(&gate.lock);
}

static void
job_cb(void *arg, struct buf *data, uint64_t t, int final)
{
	(void)arg;
	(void)final;
	pthread_mutex_lock(&gate.lock);
	gate.entered++;
	pthread_cond_broadcast(&gate.cond);
	while (!gate.open)
		pthread_cond_wait(&gate.cond, &gate.lock);
	if (gate.nrun < MAX_JOBS)
		gate.order[gate.nrun] = t;
	gate.nrun++;
	gate.bytes += buf_len(data);
	pthread_mutex_unlock(&gate.lock);
}

static void
push(struct recworker *w, struct recworker_client *c, size_t len, uint64_t t)
{
	struct buf b;

	buf_init(&b, 2 * MIB);
	assert_int_equal(buf_put(&b, zeros, len), 0);
	assert_int_equal(recworker_push(w, c, job_cb, NULL, &b, t, 0), 0);
	assert_int_equal(buf_len(&b), 0);
	buf_free(&b);
}

/* A push on its own thread, to see whether it waits. */
struct pusher {
	pthread_t thread;
	struct recworker *w;
	struct recworker_client *c;
	size_t len;
	uint64_t t;
	atomic_int done;
};

static void *
pusher_cb(void *arg)
{
	struct pusher *p = arg;
	struct buf b;

	buf_init(&b, 2 * MIB);
	if (buf_put(&b, zeros, p->len) != 0 ||
	    recworker_push(p->w, p->c, job_cb, NULL, &b, p->t, 0) != 0)
		abort();
	buf_free(&b);
	atomic_store(&p->done, 1);
	return NULL;
}

static void
pusher_start(struct pusher *p, struct recworker *w, struct recworker_client *c, size_t len,
    uint64_t t)
{
	p->w = w;
	p->c = c;
	p->len = len;
	p->t = t;
	atomic_store(&p->done, 0);
	assert_int_equal(pthread_create(&p->thread, NULL, pusher_cb, p), 0);
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1)
		;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000 + (double)ts.tv_nsec / 1e6;
}

static void
test_one_recording_waits_past_its_bound(void **state)
{
	struct recworker_client a, b;
	struct recworker *w;
	struct pusher p;

	(void)state;
	gate_reset();
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	assert_int_equal(recworker_start(&w), 0);
	push(w, &a, 128 * KIB, 1);
	gate_wait_entered(1);	/* the worker holds job 1 at the gate */
	push(w, &a, 128 * KIB, 2);	/* 128 KiB queued: not past the bound */
	pusher_start(&p, w, &a, 128 * KIB, 4);
	sleep_ms(200);
	assert_int_equal(atomic_load(&p.done), 0);	/* 256 KiB queued: waits */
	push(w, &b, 1 * KIB, 3);	/* another recording does not wait */
	gate_open();
	assert_int_equal(pthread_join(p.thread, NULL), 0);
	assert_int_equal(atomic_load(&p.done), 1);
	recworker_drain(w, &a);
	recworker_drain(w, &b);
	assert_int_equal(gate.nrun, 4);
	assert_int_equal(gate.order[0], 1);
	assert_int_equal(gate.order[1], 2);
	assert_int_equal(gate.order[2], 3);
	assert_int_equal(gate.order[3], 4);
	assert_int_equal(gate.bytes, 3 * 128 * KIB + 1 * KIB);
	assert_int_equal(a.queued, 0);
	assert_int_equal(a.jobs, 0);
	recworker_client_free(&a);
	recworker_client_free(&b);
	recworker_stop(w);
}

static void
test_all_recordings_wait_past_16_mib(void **state)
{
	struct recworker_client c[18];
	struct recworker *w;
	struct pusher p;
	size_t i;

	(void)state;
	gate_reset();
	memset(c, 0, sizeof(c));
	assert_int_equal(recworker_start(&w), 0);
	/* each recording below its own bound: 1 MiB each, 17 MiB in all */
	for (i = 0; i < 17; i++)
		push(w, &c[i], 1 * MIB, i + 1);
	pusher_start(&p, w, &c[17], 1 * KIB, 18);
	sleep_ms(200);
	assert_int_equal(atomic_load(&p.done), 0);
	gate_open();
	assert_int_equal(pthread_join(p.thread, NULL), 0);
	for (i = 0; i < 18; i++) {
		recworker_drain(w, &c[i]);
		recworker_client_free(&c[i]);
	}
	assert_int_equal(gate.nrun, 18);
	assert_int_equal(gate.bytes, 17 * MIB + 1 * KIB);
	recworker_stop(w);
}

static void
test_finished_buffer_comes_back_as_spare(void **state)
{
	struct recworker_client c;
	struct recworker *w;
	struct buf b;
	uint8_t *first;

	(void)state;
	gate_reset();
	gate_open();
	memset(&c, 0, sizeof(c));
	assert_int_equal(recworker_start(&w), 0);
	buf_init(&b, 2 * MIB);
	assert_int_equal(buf_puts(&b, "first"), 0);
	first = b.data;
	assert_int_equal(recworker_push(w, &c, job_cb, NULL, &b, 1, 0), 0);
	assert_ptr_not_equal(b.data, first);	/* a fresh buffer: no spare yet */
	recworker_drain(w, &c);
	assert_int_equal(c.has_spare, 1);
	assert_int_equal(buf_puts(&b, "second"), 0);
	assert_int_equal(recworker_push(w, &c, job_cb, NULL, &b, 2, 1), 0);
	assert_ptr_equal(b.data, first);	/* job 1's buffer, emptied */
	assert_int_equal(buf_len(&b), 0);
	recworker_drain(w, &c);
	assert_int_equal(gate.bytes, strlen("first") + strlen("second"));
	buf_free(&b);
	recworker_client_free(&c);
	recworker_stop(w);
}

static void *
opener_cb(void *arg)
{
	(void)arg;
	sleep_ms(300);
	gate_open();
	return NULL;
}

static void
test_stop_runs_what_is_queued(void **state)
{
	struct recworker_client c;
	struct recworker *w;
	pthread_t opener;
	int i;

	(void)state;
	gate_reset();
	memset(&c, 0, sizeof(c));
	assert_int_equal(recworker_start(&w), 0);
	for (i = 0; i < 5; i++)
		push(w, &c, 100, (uint64_t)i + 1);
	gate_wait_entered(1);	/* job 1 at work, jobs 2-5 still queued */
	assert_int_equal(pthread_create(&opener, NULL, opener_cb, NULL), 0);
	recworker_stop(w);
	assert_int_equal(pthread_join(opener, NULL), 0);
	assert_int_equal(gate.nrun, 5);
	assert_int_equal(gate.order[4], 5);
	recworker_client_free(&c);
}

static void
test_fork_waits_for_the_job_at_hand(void **state)
{
	struct recworker_client c;
	struct recworker *w;
	pthread_t opener;
	double t0, waited;
	int status;
	pid_t pid;

	(void)state;
	gate_reset();
	memset(&c, 0, sizeof(c));
	assert_int_equal(recworker_start(&w), 0);
	push(w, &c, 100, 1);
	gate_wait_entered(1);	/* the worker is inside a job */
	assert_int_equal(pthread_create(&opener, NULL, opener_cb, NULL), 0);
	t0 = now_ms();
	pid = fork();
	if (pid == 0)
		_exit(0);
	waited = now_ms() - t0;
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(pthread_join(opener, NULL), 0);
	assert_true(waited >= 200);	/* the fork waited for the gate */
	recworker_drain(w, &c);
	assert_int_equal(gate.nrun, 1);
	recworker_client_free(&c);
	recworker_stop(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_recording_waits_past_its_bound),
		cmocka_unit_test(test_all_recordings_wait_past_16_mib),
		cmocka_unit_test(test_finished_buffer_comes_back_as_spare),
		cmocka_unit_test(test_stop_runs_what_is_queued),
		cmocka_unit_test(test_fork_waits_for_the_job_at_hand),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
