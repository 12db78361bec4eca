/*
 * menu.c: the asset menu a vendor gets with a pty shell and no asset in the
 * user name. It lists what policy_assets_for() returns: assets the user may
 * reach now are numbered from 1 in name order, the others are listed without a
 * number and with the reason. The broker echoes and edits the line itself (the
 * vendor's terminal is raw). Three bad answers end the session.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libssh/libssh.h>

#include "broker/broker.h"

#define MENU_PROMPT "Asset (number or name, q to quit): "
#define MENU_LINE 64
#define MENU_TRIES 3

struct menu {
	struct policy_menu_entry *entries;
	size_t n;
	char line[MENU_LINE + 1];
	size_t len;
	unsigned bad;
};

static void
menu_say(struct session *s, const char *text)
{
	ssh_channel_write(s->vch, text, (uint32_t)strlen(text));
}

int
menu_start(struct session *s)
{
	struct menu *m;
	struct buf out;
	char reason[300];
	size_t i;
	unsigned num = 0;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -1;
	s->menu = m;
	server_policy_release(s->policy);
	s->policy = server_policy_hold(s->conn->srv);
	if (policy_assets_for(s->policy->policy, s->conn->user, time(NULL), &m->entries,
	    &m->n) != 0)
		return -1;
	buf_init(&out, 1024 * 1024);
	buf_printf(&out, "Assets for %s:\r\n", s->conn->user);
	for (i = 0; i < m->n; i++) {
		if (m->entries[i].decision.verdict == POLICY_ALLOW) {
			buf_printf(&out, "  %2u) %s\r\n", ++num, m->entries[i].asset->name);
		} else {
			escape_str(reason, sizeof(reason), m->entries[i].decision.reason);
			buf_printf(&out, "      %s  (%s%s)\r\n", m->entries[i].asset->name,
			    m->entries[i].decision.verdict == POLICY_NEEDS_APPROVAL ?
			    "needs approval: " : "", reason);
		}
	}
	if (num == 0)
		buf_printf(&out, "  (none reachable now)\r\n");
	buf_puts(&out, MENU_PROMPT);
	ssh_channel_write(s->vch, buf_ptr(&out), (uint32_t)buf_len(&out));
	buf_free(&out);
	return 0;
}

/* The asset that an answer names, or NULL. */
static const char *
menu_pick(const struct menu *m, const char *answer)
{
	char *end;
	unsigned long want;
	unsigned num = 0;
	size_t i;

	want = strtoul(answer, &end, 10);
	for (i = 0; i < m->n; i++) {
		if (m->entries[i].decision.verdict != POLICY_ALLOW)
			continue;
		num++;
		if ((answer[0] >= '0' && answer[0] <= '9' && *end == '\0' && want == num) ||
		    strcmp(answer, m->entries[i].asset->name) == 0)
			return m->entries[i].asset->name;
	}
	return NULL;
}

/* A full line was typed: 1 chosen, 0 ask again, -1 quit. */
static int
menu_answer(struct session *s)
{
	struct menu *m = s->menu;
	const char *asset;
	char shown[MENU_LINE * 4 + 1], line[MENU_LINE * 4 + 64];

	if (m->len == 0)
		return 0;	/* an empty line, or the LF of a CR LF */
	menu_say(s, "\r\n");
	if (strcmp(m->line, "q") == 0) {
		s->exit_status = 0;
		return -1;
	}
	if ((asset = menu_pick(m, m->line)) != NULL) {
		snprintf(s->asset, sizeof(s->asset), "%s", asset);
		return 1;
	}
	m->bad++;
	snprintf(line, sizeof(line), "otgate: %s: not one of the numbered assets\r\n",
	    escape_str(shown, sizeof(shown), m->line));
	menu_say(s, line);
	m->len = 0;
	m->line[0] = '\0';
	if (m->bad >= MENU_TRIES) {
		menu_say(s, "otgate: three wrong answers, goodbye\r\n");
		s->exit_status = 1;
		return -1;
	}
	menu_say(s, MENU_PROMPT);
	return 0;
}

/* Bytes are taken one at a time so that what follows the chosen line stays
 * in libssh's buffer for the asset. */
enum menu_result
menu_input(struct session *s)
{
	struct menu *m = s->menu;
	uint8_t c;
	int n, i, r;

	if (m == NULL)
		return MENU_QUIT;
	relay_drop_vendor_stderr(s);
	for (i = 0; i < 256; i++) {
		n = ssh_channel_read_nonblocking(s->vch, &c, 1, 0);
		if (n < 0 || (n == 0 && (ssh_channel_is_eof(s->vch) ||
		    ssh_channel_is_closed(s->vch))))
			return MENU_QUIT;
		if (n == 0)
			break;
		switch (c) {
		case '\r':
		case '\n':
			if ((r = menu_answer(s)) != 0)
				return r > 0 ? MENU_CHOSEN : MENU_QUIT;
			break;
		case 0x7f:
		case 0x08:
			if (m->len > 0) {
				m->line[--m->len] = '\0';
				menu_say(s, "\b \b");
			}
			break;
		case 0x03:	/* ^C */
		case 0x04:	/* ^D */
			menu_say(s, "\r\n");
			s->exit_status = 0;
			return MENU_QUIT;
		default:
			/* names are ASCII: anything else is ignored, not echoed */
			if (c < 0x20 || c > 0x7e || m->len >= MENU_LINE)
				break;
			m->line[m->len++] = (char)c;
			m->line[m->len] = '\0';
			ssh_channel_write(s->vch, &c, 1);
			break;
		}
	}
	return MENU_WAIT;
}

void
menu_free(struct menu *m)
{
	if (m == NULL)
		return;
	free(m->entries);
	free(m);
}
