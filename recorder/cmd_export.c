/*
 * cmd_export.c: `otgate export`, a recording out of the state directory for
 * other tools. A cast is copied byte for byte (it is plain asciicast v2 that
 * any player reads). A stream becomes asciicast when FILE ends in .cast, or
 * else the raw bytes of one direction (asset output by default, --input for
 * what the vendor sent), e.g. to carve a transferred file out of an exec.
 * A forward's stream becomes a pcap-ng capture with --pcap FILE.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "cli/cmd.h"
#include "common/common.h"
#include "recorder/recorder.h"

#define EXPORT_USAGE \
	"usage: otgate export [--state DIR] ID|FILE -o FILE [--input] [--key FILE]\n" \
	"       otgate export [--state DIR] ID|FILE --pcap FILE [--key FILE]\n"

/* What b holds, to fd; b is then empty. */
static int
export_write(int fd, struct buf *b)
{
	int r;

	if (buf_len(b) == 0)
		return 0;
	if ((r = file_write_all(fd, buf_ptr(b), buf_len(b))) == 0)
		buf_reset(b);
	return r;
}

static int
export_copy(FILE *in, int fd)
{
	struct buf b;
	uint8_t chunk[65536];
	size_t n;
	int r = 0;

	buf_init(&b, sizeof(chunk));
	while (r == 0 && (n = fread(chunk, 1, sizeof(chunk), in)) > 0) {
		if ((r = buf_put(&b, chunk, n)) == 0)
			r = export_write(fd, &b);
	}
	if (r == 0 && ferror(in))
		r = OTG_ERR_IO;
	buf_free(&b);
	return r;
}

static int
export_stream(FILE *in, int fd, int as_cast, int dir)
{
	struct stream_reader *r = NULL;
	struct stream_frame f;
	struct streamcast sc;
	struct buf b;
	int err;

	buf_init(&b, 16 * REC_MAX_FRAME);
	if ((err = stream_reader_open(in, &r)) != 0)
		goto out;
	if (as_cast && (err = streamcast_header(&sc, stream_reader_header(r), NULL,
	    &b)) != 0)
		goto out;
	while ((err = stream_reader_next(r, &f)) == 0) {
		if (as_cast)
			err = streamcast_frame(&sc, &f, &b);
		else if (f.dir == dir)
			err = buf_put(&b, f.data, f.len);
		if (err != 0 || (err = export_write(fd, &b)) != 0)
			break;
	}
	if (err == 1)
		err = 0;
	/* a character cut by the end of the stream */
	if (err == 0 && as_cast)
		err = streamcast_finish(&sc, &b);
	if (err == 0)
		err = export_write(fd, &b);
out:
	stream_reader_free(r);
	buf_free(&b);
	return err;
}

/* A forward ("forward ADDR port N" as its command) as pcap-ng. */
static int
export_pcap(FILE *in, int fd)
{
	struct stream_reader *r = NULL;
	struct stream_frame f;
	struct pcapng_flow fl;
	struct buf b;
	const struct json *h, *ts;
	const char *kind, *command;
	char addr[64];
	unsigned port;
	uint8_t ip[4];
	uint64_t start = 0, last = 0;
	int err;

	buf_init(&b, 4 * REC_MAX_FRAME);
	if ((err = stream_reader_open(in, &r)) != 0)
		goto out;
	h = stream_reader_header(r);
	kind = json_get_str(json_get(h, "otgate"), "kind");
	command = json_get_str(h, "command");
	if (kind == NULL || strcmp(kind, "forward") != 0 || command == NULL ||
	    sscanf(command, "forward %63s port %u", addr, &port) != 2 || port > 65535 ||
	    inet_pton(AF_INET, addr, ip) != 1) {
		fprintf(stderr, "otgate: export: --pcap needs the recording of an IPv4 "
		    "port forward\n");
		err = OTG_ERR_INVAL;
		goto out;
	}
	ts = json_get(h, "timestamp");
	if (ts != NULL && ts->type == JSON_NUMBER && ts->number > 0)
		start = (uint64_t)ts->number * 1000000;
	pcapng_flow_init(&fl, ip, (uint16_t)port);
	if ((err = pcapng_header(&b)) != 0)
		goto out;
	while ((err = stream_reader_next(r, &f)) == 0) {
		last = f.t_us;
		if (f.dir == STREAM_IN || f.dir == STREAM_OUT)
			err = pcapng_data(&b, &fl, start + f.t_us, f.dir == STREAM_IN,
			    f.data, f.len);
		if (err != 0 || (err = export_write(fd, &b)) != 0)
			break;
	}
	if (err == 1)
		err = pcapng_close(&b, &fl, start + last);
	if (err == 0)
		err = export_write(fd, &b);
out:
	stream_reader_free(r);
	buf_free(&b);
	return err;
}

int
cmd_export_main(int argc, char **argv, const char *conf_path)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "input", no_argument, NULL, 'i' },
		{ "state", required_argument, NULL, 's' },
		{ "key", required_argument, NULL, 'k' },
		{ "pcap", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 }
	};
	const char *output = NULL, *state_opt = NULL, *key = NULL;
	int pcap = 0;
	struct recstate st;
	struct recfile f;
	size_t n;
	FILE *in;
	int ch, fd, r, input = 0, as_cast;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'o': output = optarg; break;
		case 'i': input = 1; break;
		case 's': state_opt = optarg; break;
		case 'k': key = optarg; break;
		case 'p': output = optarg; pcap = 1; break;
		default:
			fputs(EXPORT_USAGE, stderr);
			return CMD_USAGE;
		}
	}
	if (output == NULL || optind + 1 != argc) {
		fputs(EXPORT_USAGE, stderr);
		return CMD_USAGE;
	}
	memset(&st, 0, sizeof(st));
	if (strchr(argv[optind], '/') == NULL && strchr(argv[optind], '.') == NULL &&
	    recstate_resolve(conf_path, state_opt, &st) != 0)
		return CMD_USAGE;
	if ((r = recfile_find(st.state, argv[optind], &f)) != 0) {
		fprintf(stderr, "otgate: export: %s: %s\n", argv[optind],
		    r == OTG_ERR_EXISTS ? "ambiguous ID prefix" : "no such recording");
		return CMD_NO;
	}
	/* an encrypted recording leaves decrypted: the export is the plain form */
	if (recstate_open(&f, key, "export", &in) != 0)
		return CMD_NO;
	/* an export holds what the session showed: only its owner reads it */
	if ((fd = file_create(output, 0600)) == -1) {
		fprintf(stderr, "otgate: export: %s: %s\n", output, strerror(errno));
		fclose(in);
		return CMD_NO;
	}
	n = strlen(output);
	as_cast = n > 5 && strcmp(output + n - 5, ".cast") == 0;
	if (pcap && f.format == REC_CAST) {
		fprintf(stderr, "otgate: export: --pcap needs the recording of a port "
		    "forward\n");
		r = OTG_ERR_INVAL;
	} else if (pcap)
		r = export_pcap(in, fd);
	else if (f.format == REC_CAST)
		r = export_copy(in, fd);
	else
		r = export_stream(in, fd, as_cast, input ? STREAM_IN : STREAM_OUT);
	fclose(in);
	if (close(fd) == -1 && r == 0)
		r = OTG_ERR_IO;
	if (r != 0) {
		fprintf(stderr, "otgate: export: %s: %s\n", f.path, otg_strerror(r));
		unlink(output);
		return CMD_NO;
	}
	return CMD_OK;
}
