/*
 * seal_bench.c: what one seal costs the recording thread, on one core.
 *   cc -O2 -std=c11 -D_GNU_SOURCE -I. -o /tmp/seal_bench bench/seal_bench.c \
 *     build/libotg.a $(pkg-config --libs libssh libevent liboath libcrypto libsodium \
 *     sqlite3 libqrencode) -lpam -lcrypt -lpthread -lm
 *   build/otgate recording keygen --state /tmp/sb
 *   /tmp/seal_bench /tmp/sb seal|bulk N [audit]
 * "seal": N times 16 bytes of output 5 s apart, so each is sealed on its own
 * (the per-seal cost: chain step, Ed25519 signature, seal line, checkpoint);
 * "bulk": N reads of 32 KiB random bytes into a stream, a seal per 64 KiB
 * (an sftp transfer's recording). "audit" writes each session.checkpoint to
 * STATE/audit.log as otgated does. Prints microseconds of thread CPU per seal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/common.h"
#include "recorder/recorder.h"
#include "broker/broker.h"

static struct audit *sb_audit;
static unsigned long sb_seals;

static void
sb_checkpoint(void *arg, const struct rec_checkpoint *cp)
{
	(void)arg;
	sb_seals++;
	if (sb_audit != NULL)
		audit_event(sb_audit, "session.checkpoint", (struct audit_field[]){
		    AUDIT_STR("session", cp->session), AUDIT_STR("file", cp->file),
		    AUDIT_NUM("seal", cp->seq), AUDIT_NUM("offset", cp->offset),
		    AUDIT_NUM("time", cp->time_ms), AUDIT_STR("h", cp->h),
		    AUDIT_NUM("final", cp->final) }, 7);
}

static double
sb_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct recording *
sb_open(const char *state, int audit)
{
	struct recording_params p;
	struct recording *rec;
	char path[4096];
	void *key;

	snprintf(path, sizeof(path), "%s/keys/%s", state, RECKEY_PRIVATE);
	if (reckey_load_private(path, &key) != 0)
		exit(1);
	snprintf(path, sizeof(path), "%s/audit.log", state);
	if (audit && audit_open(path, &sb_audit) != 0)
		exit(1);
	memset(&p, 0, sizeof(p));
	p.state_dir = state;
	p.meta.kind = "exec";
	p.certify = reckey_certify;
	p.certify_arg = key;
	p.checkpoint = sb_checkpoint;
	if (recording_open(&p, &rec) != 0)
		exit(1);
	return rec;
}

int
main(int argc, char **argv)
{
	static unsigned char data[32768];
	struct recording *rec;
	uint64_t t = 0;
	double c0, c1;
	int bulk, i, n;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: seal_bench STATE seal|bulk N [audit]\n");
		return 2;
	}
	bulk = strcmp(argv[2], "bulk") == 0;
	n = atoi(argv[3]);
	for (i = 0; i < (int)sizeof(data); i++)
		data[i] = (unsigned char)rand();
	rec = sb_open(argv[1], argc == 5);
	c0 = sb_cpu();
	for (i = 0; i < n; i++) {
		t += bulk ? 1000 : 5000001;
		recording_output(rec, t, data, bulk ? sizeof(data) : 16);
	}
	c1 = sb_cpu();
	recording_close(rec, t, 0);
	printf("%s%s: %lu seals, %.1f us of thread CPU each\n", argv[2],
	    sb_audit != NULL ? "+audit" : "", sb_seals, (c1 - c0) / (double)sb_seals * 1e6);
	return 0;
}
