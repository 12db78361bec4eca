/*
 * norec.c: exists only to measure the cost of recording. A link-level stand-in
 * for recorder/recording.c that records nothing: the same external functions
 * (recorder/recorder.h, section "recording.c"), each succeeding at once. bench/
 * Makefile links build/bench/otgated-norec from the broker's main object, this
 * file and libotg.a, so the archive's recording.o is never pulled in; bench/run
 * relays the same bytes through otgated and otgated-norec and reports the
 * difference as recording's cost. Never installed, never packaged: a broker
 * built with it relays unrecorded bytes, which otgate itself must never do.
 *
 * If recording.c grows an external function the broker calls, the link pulls
 * recording.o in beside this file and fails on duplicate definitions; bench/
 * Makefile also refuses a binary that holds a recording_* function not from
 * here or any call into the seal chain. Either way: add the function here,
 * doing nothing.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>

#include "recorder/recorder.h"

struct recording {
	char id[REC_ID_LEN + 1];
	uint64_t t0;		/* norec_now_us() at open */
};

static uint64_t
norec_now_us(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * 1000000 + (uint64_t)now.tv_nsec / 1000;
}

/* A fresh random ID, as recording.c makes one: 32 lowercase hex. */
static int
norec_new_id(char id[REC_ID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[REC_ID_LEN / 2];
	size_t i;

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return OTG_ERR_IO;
	for (i = 0; i < sizeof(raw); i++) {
		id[2 * i] = hex[raw[i] >> 4];
		id[2 * i + 1] = hex[raw[i] & 0x0f];
	}
	id[REC_ID_LEN] = '\0';
	return 0;
}

int
recording_open(const struct recording_params *p, struct recording **out)
{
	struct recording *rec;
	int r;

	*out = NULL;
	if ((rec = calloc(1, sizeof(*rec))) == NULL)
		return OTG_ERR_NOMEM;
	if (p->meta.session[0] != '\0') {
		/* the ID names files in recording.c: it refuses what is not 32 hex */
		if (strlen(p->meta.session) != REC_ID_LEN ||
		    strspn(p->meta.session, "0123456789abcdef") != REC_ID_LEN) {
			free(rec);
			return OTG_ERR_INVAL;
		}
		memcpy(rec->id, p->meta.session, sizeof(rec->id));
	} else if ((r = norec_new_id(rec->id)) != 0) {
		free(rec);
		return r;
	}
	rec->t0 = norec_now_us();
	*out = rec;
	return 0;
}

const char *
recording_id(const struct recording *rec)
{
	return rec->id;
}

/* Nothing is written: the audit log and `sessions --active` say so. */
const char *
recording_path(const struct recording *rec)
{
	(void)rec;
	return "/dev/null";
}

const char *
recording_file(const struct recording *rec)
{
	(void)rec;
	return "/dev/null";
}

uint64_t
recording_clock(const struct recording *rec)
{
	return norec_now_us() - rec->t0;
}

int
recording_output(struct recording *rec, uint64_t t_us, const void *data, size_t len)
{
	(void)rec, (void)t_us, (void)data, (void)len;
	return 0;
}

int
recording_input(struct recording *rec, uint64_t t_us, const void *data, size_t len)
{
	(void)rec, (void)t_us, (void)data, (void)len;
	return 0;
}

int
recording_resize(struct recording *rec, uint64_t t_us, unsigned width, unsigned height)
{
	(void)rec, (void)t_us, (void)width, (void)height;
	return 0;
}

int
recording_marker(struct recording *rec, uint64_t t_us, const char *label)
{
	(void)rec, (void)t_us, (void)label;
	return 0;
}

int
recording_tick(struct recording *rec, uint64_t t_us)
{
	(void)rec, (void)t_us;
	return 0;
}

int
recording_close(struct recording *rec, uint64_t t_us, int exit_status)
{
	(void)t_us, (void)exit_status;
	free(rec);
	return 0;
}

void
recording_abort(struct recording *rec)
{
	free(rec);
}

const char *
recording_why(const struct recording *rec)
{
	(void)rec;
	return "";
}

/* With a recorder worker thread (recorder.h): nothing is ever queued. Declared
 * here too, so that this file builds against the header before and after. */
int recording_wait(struct recording *rec);
int
recording_wait(struct recording *rec)
{
	(void)rec;
	return 0;
}

/* Nothing was ever left open. */
int
recording_recover(const char *state_dir, void (*cb)(void *arg, const char *path), void *arg)
{
	(void)state_dir, (void)cb, (void)arg;
	return 0;
}
