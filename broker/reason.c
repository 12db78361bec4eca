/*
 * reason.c: the vendor's reason for access, asked when a deciding role has
 * `reason = required`. A pty session is prompted `Reason for access
 * (ticket): ` before anything connects (and before an approval request, so
 * approvers see it); the line is edited on the broker (printable text,
 * backspace, Ctrl-C or Ctrl-D to leave) and kept as typed: every place that
 * shows it (audit log, requests, the recording's title) escapes it. Without
 * a terminal there is no one to ask, so the session is refused saying how.
 */
#include <stdlib.h>
#include <string.h>

#include <libssh/libssh.h>

#include "broker/broker.h"

#define REASON_PROMPT "Reason for access (ticket): "

struct reason_line {
	char text[APPROVAL_REASON_MAX + 1];
	size_t len;
};

static void
reason_echo(struct session *s, const char *text, size_t len)
{
	ssh_channel_write(s->vch, text, (uint32_t)len);
}

int
reason_start(struct session *s)
{
	if (s->kind != POLICY_SHELL || !s->pty) {
		session_refuse(s, "policy.deny", "a reason for access is required: "
		    "connect with a terminal (ssh -t) to give one");
		return -1;
	}
	if ((s->reason_line = calloc(1, sizeof(*s->reason_line))) == NULL) {
		session_close(s, "out of memory");
		return -1;
	}
	if (s->held != NULL) {
		ssh_message_channel_request_reply_success(s->held);
		ssh_message_free(s->held);
		s->held = NULL;
	}
	s->state = SESSION_REASON;
	reason_echo(s, REASON_PROMPT, strlen(REASON_PROMPT));
	return 0;
}

enum reason_result
reason_input(struct session *s)
{
	struct reason_line *l = s->reason_line;
	uint8_t c;
	int n, i;

	relay_drop_vendor_stderr(s);
	for (i = 0; i < 512; i++) {
		n = ssh_channel_read_nonblocking(s->vch, &c, 1, 0);
		if (n < 0 || (n == 0 && (ssh_channel_is_eof(s->vch) ||
		    ssh_channel_is_closed(s->vch)))) {
			session_close(s, "vendor left at the reason prompt");
			return REASON_DONE;
		}
		if (n == 0)
			break;
		if (c == 3 || c == 4) {
			reason_echo(s, "\r\n", 2);
			session_refuse(s, NULL, "no reason given");
			return REASON_DONE;
		}
		if (c == '\r' || c == '\n') {
			if (l->len == 0) {
				reason_echo(s, "\r\n" REASON_PROMPT, 2 + strlen(REASON_PROMPT));
				continue;
			}
			reason_echo(s, "\r\n", 2);
			if ((s->reason = strndup(l->text, l->len)) == NULL) {
				session_close(s, "out of memory");
				return REASON_DONE;
			}
			free(s->reason_line);
			s->reason_line = NULL;
			return REASON_GIVEN;
		}
		if (c == 0x7f || c == 8) {
			/* back over one UTF-8 character */
			if (l->len == 0)
				continue;
			while (l->len > 0 && (l->text[--l->len] & 0xc0) == 0x80)
				;
			reason_echo(s, "\b \b", 3);
			continue;
		}
		/* printable text only; the rest (escapes, arrows) is dropped */
		if ((c < 0x20 || c == 0x7f) || l->len >= APPROVAL_REASON_MAX)
			continue;
		l->text[l->len++] = (char)c;
		reason_echo(s, (const char *)&c, 1);
	}
	return REASON_WAIT;
}

void
reason_free(struct session *s)
{
	free(s->reason_line);
	s->reason_line = NULL;
}
