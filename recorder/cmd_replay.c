/*
 * cmd_replay.c: `otgate replay`, a recorded session played back in the
 * auditor's terminal with its original timing. Space pauses, `.` steps one
 * event while paused, `q` quits. The recording may be hostile, so output goes
 * through neutralise.c (no clipboard writes, title changes, terminal reports
 * or window operations) unless --raw. Streams replay their output direction.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "common/common.h"
#include "recorder/recorder.h"

#define REPLAY_USAGE \
	"usage: otgate replay [--state DIR] ID|FILE [--speed X] [--idle-limit S]\n" \
	"                     [--from [[HH:]MM:]SS] [--raw] [--key FILE]\n"

struct replay {
	double speed, idle_limit, from;
	int raw, interactive, paused, step;
	struct neutralise nz;
	struct buf out;
	double last_t;		/* original time of the previous event */
	double due;		/* monotonic seconds at which the next event plays */
	int started;		/* reached --from */
};

static volatile sig_atomic_t replay_interrupted;

static void
replay_sigint_cb(int sig)
{
	(void)sig;
	replay_interrupted = 1;
}

static double
replay_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "SS", "MM:SS" or "HH:MM:SS", seconds may have decimals. */
static int
replay_parse_offset(const char *s, double *out)
{
	double v = 0, part;
	char *end;
	int fields = 0;

	for (;;) {
		errno = 0;
		part = strtod(s, &end);
		if (end == s || errno != 0 || part < 0 || !isfinite(part) || ++fields > 3)
			return OTG_ERR_INVAL;
		v = v * 60 + part;
		if (*end == '\0')
			break;
		if (*end != ':')
			return OTG_ERR_INVAL;
		s = end + 1;
	}
	*out = v;
	return 0;
}

static int
replay_write(const void *p, size_t n)
{
	return file_write_all(STDOUT_FILENO, p, n);
}

/* Handle a key; 1 when the auditor quits. */
static int
replay_key(struct replay *rp, char c)
{
	if (c == 'q' || c == 'Q' || c == 0x03)
		return 1;
	if (c == ' ') {
		rp->paused = !rp->paused;
		rp->due = replay_now();
	} else if (c == '.' && rp->paused) {
		rp->step = 1;
	}
	return 0;
}

/* Wait until the event is due, or the auditor steps; 1 when quitting. */
static int
replay_wait(struct replay *rp)
{
	struct pollfd pfd = { STDIN_FILENO, POLLIN, 0 };
	double left;
	char c;
	int timeout;

	for (;;) {
		if (replay_interrupted)
			return 1;
		if (rp->step) {
			rp->step = 0;
			rp->due = replay_now();
			return 0;
		}
		left = rp->due - replay_now();
		if (!rp->paused && left <= 0)
			return 0;
		if (!rp->interactive) {
			/* in slices: a planted timestamp can be any size */
			usleep((useconds_t)((left < 1 ? left : 1) * 1e6));
			continue;
		}
		if (left > 1)
			left = 1;
		timeout = rp->paused ? -1 : (int)(left * 1000) + 1;
		if (poll(&pfd, 1, timeout) > 0 && read(STDIN_FILENO, &c, 1) == 1 &&
		    replay_key(rp, c))
			return 1;
	}
}

/* Play the bytes of one event at original time t; 1 when quitting. */
static int
replay_event(struct replay *rp, double t, const void *data, size_t len)
{
	double gap = t - rp->last_t;
	int r;

	if (gap < 0)
		gap = 0;
	if (rp->idle_limit > 0 && gap > rp->idle_limit)
		gap = rp->idle_limit;
	rp->last_t = t;
	if (t >= rp->from) {
		if (!rp->started) {
			rp->started = 1;
			rp->due = replay_now();
		} else {
			rp->due += gap / rp->speed;
		}
		if (replay_wait(rp))
			return 1;
	}
	if (rp->raw)
		return replay_write(data, len);
	buf_reset(&rp->out);
	if ((r = neutralise_feed(&rp->nz, &rp->out, data, len)) != 0)
		return r;
	/* everything may have been dropped */
	return buf_len(&rp->out) > 0 ? replay_write(buf_ptr(&rp->out), buf_len(&rp->out)) : 0;
}

static int
replay_cast(struct replay *rp, FILE *fp)
{
	struct cast_reader *r;
	struct cast_event ev;
	int err;

	if ((err = cast_reader_open(fp, &r)) != 0)
		return err;
	while ((err = cast_reader_next(r, &ev)) == 0) {
		if (strcmp(ev.code, "o") != 0 && strcmp(ev.code, "b") != 0)
			continue;
		if ((err = replay_event(rp, ev.t, ev.data, ev.len)) != 0)
			break;
	}
	if (err < 0)
		fprintf(stderr, "\r\notgate: replay: line %lu: %s\n", cast_reader_line(r),
		    otg_strerror(err));
	cast_reader_free(r);
	return err < 0 ? err : 0;
}

static int
replay_stream(struct replay *rp, FILE *fp)
{
	struct stream_reader *r;
	struct stream_frame f;
	int err;

	if ((err = stream_reader_open(fp, &r)) != 0)
		return err;
	while ((err = stream_reader_next(r, &f)) == 0) {
		if (f.dir != STREAM_OUT)
			continue;
		if ((err = replay_event(rp, (double)f.t_us / 1e6, f.data, f.len)) != 0)
			break;
	}
	if (err < 0)
		fprintf(stderr, "\r\notgate: replay: %s\n", otg_strerror(err));
	stream_reader_free(r);
	return err < 0 ? err : 0;
}

static int
replay_options(int argc, char **argv, struct replay *rp, const char **state_opt,
    const char **key)
{
	static const struct option longopts[] = {
		{ "speed", required_argument, NULL, 's' },
		{ "idle-limit", required_argument, NULL, 'i' },
		{ "from", required_argument, NULL, 'f' },
		{ "raw", no_argument, NULL, 'r' },
		{ "state", required_argument, NULL, 'S' },
		{ "key", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 }
	};
	char *end;
	int ch;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			rp->speed = strtod(optarg, &end);
			if (*end != '\0' || !(rp->speed > 0) || !isfinite(rp->speed))
				return OTG_ERR_INVAL;
			break;
		case 'i':
			rp->idle_limit = strtod(optarg, &end);
			if (*end != '\0' || !(rp->idle_limit >= 0) || !isfinite(rp->idle_limit))
				return OTG_ERR_INVAL;
			break;
		case 'f':
			if (replay_parse_offset(optarg, &rp->from) != 0)
				return OTG_ERR_INVAL;
			break;
		case 'r':
			rp->raw = 1;
			break;
		case 'S':
			*state_opt = optarg;
			break;
		case 'k':
			*key = optarg;
			break;
		default:
			return OTG_ERR_INVAL;
		}
	}
	return optind + 1 == argc ? 0 : OTG_ERR_INVAL;
}

int
cmd_replay_main(int argc, char **argv, const char *conf_path)
{
	struct replay rp;
	struct recstate st;
	struct recfile f;
	struct termios saved, raw;
	struct sigaction sa;
	const char *state_opt = NULL, *key = NULL;
	FILE *fp;
	int r, have_tty = 0;

	memset(&rp, 0, sizeof(rp));
	memset(&st, 0, sizeof(st));
	rp.speed = 1;
	if (replay_options(argc, argv, &rp, &state_opt, &key) != 0) {
		fputs(REPLAY_USAGE, stderr);
		return CMD_USAGE;
	}
	if (strchr(argv[optind], '/') == NULL && strchr(argv[optind], '.') == NULL &&
	    recstate_resolve(conf_path, state_opt, &st) != 0)
		return CMD_USAGE;
	if ((r = recfile_find(st.state, argv[optind], &f)) != 0) {
		fprintf(stderr, "otgate: replay: %s: %s\n", argv[optind],
		    r == OTG_ERR_EXISTS ? "ambiguous ID prefix" : "no such recording");
		return CMD_NO;
	}
	if (recstate_open(&f, key, "replay", &fp) != 0)
		return CMD_NO;
	neutralise_init(&rp.nz);
	buf_init(&rp.out, 8 * REC_MAX_LINE);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = replay_sigint_cb;
	sigaction(SIGINT, &sa, NULL);	/* no SA_RESTART: poll returns */
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
		raw = saved;
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		have_tty = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
		rp.interactive = have_tty;
		fprintf(stderr, "otgate: replaying %s (space pauses, . steps, q quits)\r\n",
		    f.id);
	}
	r = f.format == REC_CAST ? replay_cast(&rp, fp) : replay_stream(&rp, fp);
	if (!rp.raw)
		replay_write("\x1b[0m", 4);	/* leave no colour behind */
	if (have_tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	fclose(fp);
	buf_free(&rp.out);
	if (r < 0 && r != OTG_ERR_TRUNCATED)
		return CMD_NO;
	return CMD_OK;
}
