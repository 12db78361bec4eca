/*
 * cmd_operator.c: the operator's verbs on running sessions, through the
 * broker's control socket (which checks the caller and audits the uid):
 * `otgate watch ID` (a live, read-only view of a pty session, its output
 * neutralised as `otgate replay` does), `otgate kill ID [--reason TEXT]`,
 * and the answers to just-in-time approval requests: `otgate requests
 * [--json]`, `otgate approve N [--for DURATION]`, `otgate deny N [--reason
 * TEXT]`.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "broker/broker.h"
#include "broker/control-protocol.h"
#include "cli/cmd.h"
#include "recorder/recorder.h"

static volatile sig_atomic_t operator_interrupted;

/* Every line of a reply, with any raw control byte made visible. */
static void
operator_print(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if ((p[i] < 0x20 && p[i] != '\n' && p[i] != '\t') || p[i] == 0x7f)
			printf("\\x%02x", p[i]);
		else
			putchar(p[i]);
	}
}

/* One request with NUL-terminated arguments; prints the broker's answer
 * escaped (it is escaped already: this keeps raw bytes off the terminal), its
 * first line, or every line when all is set. */
static int
operator_ask(const char *conf_path, uint16_t type, uint32_t flags,
    const char *const *args, int nargs, int all)
{
	struct conf *conf = NULL;
	struct diag d;
	struct buf body, reply;
	uint16_t rtype;
	char why[512], line[1024];
	int i, status;

	diag_init(&d);
	buf_init(&body, CONTROL_ARG_MAX);
	buf_init(&reply, CONTROL_REPLY_MAX);
	for (i = 0; i < nargs; i++) {
		if (buf_put(&body, args[i], strlen(args[i]) + 1) != 0) {
			fprintf(stderr, "otgate: arguments too long\n");
			status = CMD_USAGE;
			goto out;
		}
	}
	if (conf_load(conf_path, &d, &conf) != 0) {
		diag_print(&d, stderr);
		status = CMD_NO;
		goto out;
	}
	if (control_request(conf->control, type, flags, buf_ptr(&body), buf_len(&body),
	    &rtype, &reply, why, sizeof(why)) != 0) {
		fprintf(stderr, "otgate: %s\n", why);
		status = CMD_NO;
		goto out;
	}
	if (all && rtype == CONTROL_OK) {
		operator_print(buf_ptr(&reply), buf_len(&reply));
		status = CMD_OK;
		goto out;
	}
	snprintf(line, sizeof(line), "%.*s", (int)buf_len(&reply),
	    (const char *)buf_ptr(&reply));
	line[strcspn(line, "\n")] = '\0';
	escape_str(why, sizeof(why), line);
	if (rtype == CONTROL_OK) {
		printf("%s\n", why);
		status = CMD_OK;
	} else {
		fprintf(stderr, "otgate: %s%s\n", rtype == CONTROL_ERROR ?
		    "the broker refused: " : "", why);
		status = CMD_NO;
	}
out:
	buf_free(&reply);
	buf_free(&body);
	conf_free(conf);
	diag_free(&d);
	return status;
}

int
cmd_kill_main(int argc, char **argv, const char *conf_path)
{
	static const struct option longopts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	const char *args[2] = { NULL, "" };
	int ch;

	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			args[1] = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc - 1)
		goto usage;
	args[0] = argv[optind];
	if (strlen(args[1]) > CONTROL_REASON_MAX) {
		fprintf(stderr, "otgate: the reason must be at most %u bytes\n",
		    CONTROL_REASON_MAX);
		return CMD_USAGE;
	}
	return operator_ask(conf_path, CONTROL_KILL, 0, args, 2, 0);
usage:
	fprintf(stderr, "usage: otgate kill ID [--reason TEXT]\n");
	return CMD_USAGE;
}

int
cmd_requests_main(int argc, char **argv, const char *conf_path)
{
	if (argc == 1)
		return operator_ask(conf_path, CONTROL_REQUESTS, 0, NULL, 0, 1);
	if (argc == 2 && strcmp(argv[1], "--json") == 0)
		return operator_ask(conf_path, CONTROL_REQUESTS, CONTROL_F_JSON, NULL, 0, 1);
	fprintf(stderr, "usage: otgate requests [--json]\n");
	return CMD_USAGE;
}

/* approve N [--for DURATION] and deny N [--reason TEXT]: one option each. */
static int
operator_answer(int argc, char **argv, const char *conf_path, uint16_t type,
    const char *option, const char *usage)
{
	const char *args[2] = { NULL, "" };
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], option) == 0 && i + 1 < argc && args[1][0] == '\0')
			args[1] = argv[++i];
		else if (strncmp(argv[i], "--", 2) != 0 && args[0] == NULL)
			args[0] = argv[i];
		else
			goto usage;
	}
	if (args[0] == NULL || args[0][strspn(args[0], "0123456789")] != '\0' ||
	    args[0][0] == '\0')
		goto usage;
	if (strlen(args[1]) > CONTROL_REASON_MAX) {
		fprintf(stderr, "otgate: %s takes at most %u bytes\n", option,
		    CONTROL_REASON_MAX);
		return CMD_USAGE;
	}
	return operator_ask(conf_path, type, 0, args, 2, 0);
usage:
	fprintf(stderr, "usage: otgate %s\n", usage);
	return CMD_USAGE;
}

int
cmd_approve_main(int argc, char **argv, const char *conf_path)
{
	return operator_answer(argc, argv, conf_path, CONTROL_APPROVE, "--for",
	    "approve N [--for DURATION]");
}

int
cmd_deny_main(int argc, char **argv, const char *conf_path)
{
	return operator_answer(argc, argv, conf_path, CONTROL_DENY, "--reason",
	    "deny N [--reason TEXT]");
}

static void
operator_sigint_cb(int sig)
{
	(void)sig;
	operator_interrupted = 1;
}

/* The broker's last word on a watch, escaped, on stderr. */
static int
operator_watch_end(const struct control_header *h, const struct buf *body)
{
	char line[1024], text[1024];

	snprintf(line, sizeof(line), "%.*s", (int)buf_len(body), (const char *)buf_ptr(body));
	line[strcspn(line, "\n")] = '\0';
	escape_str(text, sizeof(text), line);
	fprintf(stderr, "\r\notgate: %s%s\r\n", h->type == CONTROL_ERROR ?
	    "the broker refused: " : "", text);
	return h->type == CONTROL_OK ? CMD_OK : CMD_NO;
}

/* Show one message of the stream; -1 once it was the last. */
static int
operator_watch_show(struct neutralise *nz, const struct control_header *h,
    const struct buf *body, struct buf *out)
{
	char line[512], text[1024];

	if (h->type == CONTROL_NOTE) {
		snprintf(line, sizeof(line), "%.*s", (int)buf_len(body),
		    (const char *)buf_ptr(body));
		escape_str(text, sizeof(text), line);
		fprintf(stderr, "otgate: watch: %s\r\n", text);
		return 0;
	}
	if (h->type != CONTROL_SCREEN && h->type != CONTROL_OUTPUT)
		return -1;
	/* a redraw follows a gap: whatever sequence was cut is void */
	if (h->type == CONTROL_SCREEN)
		neutralise_init(nz);
	buf_reset(out);
	if (neutralise_feed(nz, out, buf_ptr(body), buf_len(body)) == 0 && buf_len(out) > 0)
		(void)file_write_all(STDOUT_FILENO, buf_ptr(out), buf_len(out));
	return 0;
}

/* Messages until the session ends; q, Ctrl-C or a signal leaves. */
static int
operator_watch_loop(int fd, int keys)
{
	struct pollfd pfd[2] = { { fd, POLLIN, 0 }, { STDIN_FILENO, POLLIN, 0 } };
	struct control_header h;
	struct neutralise nz;
	struct buf body, out;
	char why[512], c;
	int status = CMD_OK;

	neutralise_init(&nz);
	buf_init(&body, CONTROL_REPLY_MAX);
	buf_init(&out, BUF_DEFAULT_MAX);
	while (!operator_interrupted) {
		if (poll(pfd, keys ? 2 : 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (keys && (pfd[1].revents & POLLIN) && read(STDIN_FILENO, &c, 1) == 1 &&
		    (c == 'q' || c == 'Q' || c == 0x03))
			break;
		if (pfd[0].revents == 0)
			continue;
		buf_reset(&body);
		if (control_stream_next(fd, &h, &body, why, sizeof(why)) != 0) {
			fprintf(stderr, "\r\notgate: watch: %s\r\n", why);
			status = CMD_NO;
			break;
		}
		if (operator_watch_show(&nz, &h, &body, &out) != 0) {
			status = operator_watch_end(&h, &body);
			break;
		}
	}
	buf_free(&out);
	buf_free(&body);
	return status;
}

int
cmd_watch_main(int argc, char **argv, const char *conf_path)
{
	struct conf *conf = NULL;
	struct diag d;
	struct termios saved, keys;
	struct sigaction sa;
	char why[512];
	int fd = -1, have_tty = 0, status = CMD_NO;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: otgate watch ID\n");
		return CMD_USAGE;
	}
	diag_init(&d);
	if (conf_load(conf_path, &d, &conf) != 0) {
		diag_print(&d, stderr);
		goto out;
	}
	if (control_stream_open(conf->control, CONTROL_WATCH, 0, argv[1],
	    strlen(argv[1]) + 1, &fd, why, sizeof(why)) != 0) {
		fprintf(stderr, "otgate: %s\n", why);
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = operator_sigint_cb;
	sigaction(SIGINT, &sa, NULL);	/* no SA_RESTART: poll returns */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
		keys = saved;
		keys.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		keys.c_cc[VMIN] = 1;
		keys.c_cc[VTIME] = 0;
		have_tty = tcsetattr(STDIN_FILENO, TCSANOW, &keys) == 0;
		fprintf(stderr, "otgate: watching %s (q or Ctrl-C leaves)\r\n", argv[1]);
	}
	status = operator_watch_loop(fd, have_tty);
	if (isatty(STDOUT_FILENO))
		/* leave no colour behind */
		(void)file_write_all(STDOUT_FILENO, "\033[0m\033[?25h", 10);
	if (have_tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
out:
	if (fd != -1)
		close(fd);
	conf_free(conf);
	diag_free(&d);
	return status;
}
