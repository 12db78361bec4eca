/*
 * recgen.c: makes recordings through the recorder library as the broker
 * would, for tests/e2e/recorder.sh to run the auditor verbs on. Certifies
 * through a real signer process and indexes through the indexer thread.
 *   recgen STATE [AUDITOR.pub]
 * prints "shell ID", "exec ID", "crash ID", "hostile ID", and with an auditor
 * key "encrypted ID" (a shell session encrypted to it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "recorder/recorder.h"

static uint8_t recipient[1][32];
static size_t nrecipients;

static struct recording *
start(const char *state, struct signer *signer, struct indexer *ix, int pty,
    const char *kind, const char *command)
{
	struct recording_params p;
	struct recording *rec;

	memset(&p, 0, sizeof(p));
	p.state_dir = state;
	p.pty = pty;
	p.record_input = 1;
	p.meta.user = "alice";
	p.meta.company = "Example Automation GmbH";
	p.meta.asset = "plc-line3";
	p.meta.src = "127.0.0.1";
	p.meta.kind = kind;
	p.meta.policy = "0123";
	p.meta.command = command;
	p.meta.width = 80;
	p.meta.height = 24;
	p.certify = signer_certify_cb;
	p.certify_arg = signer;
	p.index = ix;
	p.recipients = (const uint8_t (*)[32])recipient;
	p.nrecipients = nrecipients;
	if (recording_open(&p, &rec) != 0)
		exit(1);
	return rec;
}

static void
put(struct recording *rec, uint64_t t, int input, const char *s)
{
	if ((input ? recording_input(rec, t, s, strlen(s)) :
	    recording_output(rec, t, s, strlen(s))) != 0)
		exit(1);
}

int
main(int argc, char **argv)
{
	char key[4096], db[4096];
	struct signer *signer;
	struct indexer *ix;
	struct recording *rec;
	uint8_t bin[3000];
	size_t i;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: recgen STATE [AUDITOR.pub]\n");
		return 2;
	}
	log_init("recgen", 1, LOG_LEVEL_WARN);
	snprintf(key, sizeof(key), "%s/keys/%s", argv[1], RECKEY_PRIVATE);
	snprintf(db, sizeof(db), "%s/index.sqlite", argv[1]);
	if (signer_start(key, &signer) != 0 || indexer_start(db, &ix) != 0)
		return 1;

	rec = start(argv[1], signer, ix, 1, "shell", "");
	put(rec, 0, 0, "\x1b[1;32mmaint@plc-line3\x1b[0m:~$ ");
	put(rec, 400000, 1, "l");
	put(rec, 410000, 0, "l");
	put(rec, 500000, 1, "s\r");
	put(rec, 510000, 0, "s\r\n");
	put(rec, 600000, 0, "ladder.st  caf\xc3");	/* "é" split across reads */
	put(rec, 700000, 0, "\xa9.txt\r\nmaint@plc-line3:~$ ");
	put(rec, 900000, 1, "rm -rf /tmp/old-firmware\r");
	put(rec, 950000, 0, "rm -rf /tmp/old-firmware\r\nmaint@plc-line3:~$ ");
	if (recording_marker(rec, 960000, "transfer") != 0 ||
	    recording_resize(rec, 970000, 100, 30) != 0)
		return 1;
	printf("shell %s\n", recording_id(rec));
	if (recording_close(rec, 1200000, 0) != 0)
		return 1;

	rec = start(argv[1], signer, ix, 0, "exec", "show version");
	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (uint8_t)(i * 31);
	put(rec, 1000, 0, "firmware 4.2.1 build 7781\n");
	if (recording_output(rec, 2000, bin, sizeof(bin)) != 0)
		return 1;
	printf("exec %s\n", recording_id(rec));
	if (recording_close(rec, 3000, 0) != 0)
		return 1;

	/* a broker killed mid-session: sealed once, then more bytes, no close */
	rec = start(argv[1], signer, ix, 1, "shell", "");
	put(rec, 0, 0, "before the crash\r\n");
	if (recording_tick(rec, 6000000) != 0)
		return 1;
	put(rec, 7000000, 0, "after the last seal\r\n");
	if (recording_tick(rec, 8100000) != 0)
		return 1;
	printf("crash %s\n", recording_id(rec));
	recording_abort(rec);

	/* output an attacker chose: clipboard write, title, report query, DCS */
	rec = start(argv[1], signer, ix, 1, "shell", "");
	put(rec, 0, 0, "visible\x1b]52;c;ZWNobyBwd25lZA==\x07\x1b]0;evil title\x07"
	    "\x1b[6n\x1bP$q\"p\x1b\\\x1b[31mred\x1b[0m\r\n");
	printf("hostile %s\n", recording_id(rec));
	if (recording_close(rec, 10000, 0) != 0)
		return 1;

	if (argc == 3) {
		if (atrest_public_load(argv[2], recipient[0]) != 0)
			return 1;
		nrecipients = 1;
		rec = start(argv[1], signer, ix, 1, "shell", "");
		put(rec, 0, 0, "secret setpoint 42\r\n");
		printf("encrypted %s\n", recording_id(rec));
		if (recording_close(rec, 5000, 0) != 0)
			return 1;
	}

	indexer_stop(ix);
	signer_stop(signer);
	return 0;
}
