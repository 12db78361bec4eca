/*
 * scp.c: legacy scp (`scp -O`, the rcp protocol over exec) read while it is
 * relayed, so the files it moves are named in the audit log like sftp's.
 * Pure: bytes in, events out, nothing changed or held back.
 *
 * The exec command says the direction: `scp -t` receives (the vendor
 * uploads), `scp -f` sends (the vendor downloads). Only the sending side's
 * stream is read: header lines `T...` (times), `C<mode> <size> <name>` (a
 * file, then size bytes of data and a status byte), `D<mode> 0 <name>` (enter
 * a directory), `E` (leave it), and status bytes between them (0 ok, 1 and 2
 * followed by a message line). Each file becomes one event with its path
 * (directories joined), size and SHA-256. A header that breaks these rules is
 * malformed: the caller ends the channel.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "broker/broker.h"

#define SCP_LINE_MAX 4096
#define SCP_DEPTH_MAX 64
#define SCP_PATH_MAX 16384	/* directories entered, joined */

enum scp_state { SCP_HEADER, SCP_DATA, SCP_STATUS, SCP_MESSAGE };

struct scp {
	int upload;		/* scp -t: the vendor sends */
	scp_event_cb *cb;
	void *arg;
	enum scp_state state;
	struct buf line;
	char path[SCP_PATH_MAX];	/* directories entered, "a/b/" */
	size_t pathlen;
	size_t depth_len[SCP_DEPTH_MAX];	/* pathlen before each */
	unsigned depth;
	char name[SCP_LINE_MAX];
	uint64_t size, left;
	EVP_MD_CTX *md;
};

/* Which scp is this exec command, if any: 1 upload, 0 download, -1 none. */
static int
scp_direction(const char *command)
{
	char *copy, *w, *save = NULL;
	int dir = -1, first = 1;

	if (command == NULL || (copy = strdup(command)) == NULL)
		return -1;
	for (w = strtok_r(copy, " \t", &save); w != NULL; w = strtok_r(NULL, " \t", &save)) {
		if (first) {
			first = 0;
			if (strcmp(w, "scp") != 0 && (strlen(w) < 4 ||
			    strcmp(w + strlen(w) - 4, "/scp") != 0))
				break;
			continue;
		}
		if (w[0] != '-')
			break;
		if (strchr(w, 't') != NULL)
			dir = 1;
		else if (strchr(w, 'f') != NULL)
			dir = 0;
	}
	free(copy);
	return dir;
}

int
scp_new(const char *command, scp_event_cb *cb, void *arg, struct scp **out)
{
	struct scp *p;
	int dir;

	*out = NULL;
	if ((dir = scp_direction(command)) < 0)
		return OTG_ERR_NOTFOUND;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return OTG_ERR_NOMEM;
	if ((p->md = EVP_MD_CTX_new()) == NULL) {
		free(p);
		return OTG_ERR_NOMEM;
	}
	p->upload = dir;
	p->cb = cb;
	p->arg = arg;
	buf_init(&p->line, SCP_LINE_MAX);
	*out = p;
	return 0;
}

void
scp_free(struct scp *p)
{
	if (p == NULL)
		return;
	EVP_MD_CTX_free(p->md);
	buf_free(&p->line);
	free(p);
}

static void
scp_emit(struct scp *p, const char *sha, const char *status)
{
	struct scp_event ev;
	struct buf full;
	char *path = NULL;

	buf_init(&full, 8 * (SCP_PATH_MAX + SCP_LINE_MAX));
	if (escape_text(&full, p->path, p->pathlen) == 0 &&
	    escape_text(&full, p->name, strlen(p->name)) == 0)
		path = buf_strdup(&full);
	buf_free(&full);
	memset(&ev, 0, sizeof(ev));
	ev.op = p->upload ? "upload" : "download";
	ev.path = path != NULL ? path : "(path too long)";
	ev.size = p->size;
	ev.sha256 = sha;
	ev.status = status;
	p->cb(&ev, p->arg);
	free(path);
}

/* "C0644 123 name" or "D0755 0 name": mode, size, a name without '/'. */
static int
scp_header(struct scp *p, const char *l, char *why, size_t whysz)
{
	char *end;
	const char *name;
	unsigned long long size;
	size_t i;

	for (i = 1; i <= 4; i++)
		if (l[i] < '0' || l[i] > '7')
			goto bad;
	if (l[5] != ' ' || l[6] < '0' || l[6] > '9')
		goto bad;
	size = strtoull(l + 6, &end, 10);
	if (*end != ' ' || end[1] == '\0')
		goto bad;
	name = end + 1;
	if (strchr(name, '/') != NULL || strcmp(name, "..") == 0 ||
	    strlen(name) >= sizeof(p->name))
		goto bad;
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->size = p->left = size;
	return 0;
bad:
	snprintf(why, whysz, "malformed scp header from the %s",
	    p->upload ? "vendor" : "asset");
	return OTG_ERR_PROTO;
}

static int
scp_line(struct scp *p, char *why, size_t whysz)
{
	char l[SCP_LINE_MAX + 1];
	size_t len = buf_len(&p->line) - 1;	/* without the newline */

	memcpy(l, buf_ptr(&p->line), len);
	l[len] = '\0';
	buf_reset(&p->line);
	if (memchr(l, '\0', len) != NULL)
		goto bad;
	switch (l[0]) {
	case 'T':
		return 0;
	case 'E':
		if (len != 1 || p->depth == 0)
			goto bad;
		p->depth--;
		p->pathlen = p->depth_len[p->depth];
		return 0;
	case 'D':
		if (scp_header(p, l, why, whysz) != 0 || p->depth >= SCP_DEPTH_MAX ||
		    p->pathlen + strlen(p->name) + 1 >= sizeof(p->path))
			goto bad;
		p->depth_len[p->depth++] = p->pathlen;
		memcpy(p->path + p->pathlen, p->name, strlen(p->name));
		p->pathlen += strlen(p->name);
		p->path[p->pathlen++] = '/';
		return 0;
	case 'C':
		if (scp_header(p, l, why, whysz) != 0)
			return OTG_ERR_PROTO;
		EVP_DigestInit_ex(p->md, EVP_sha256(), NULL);
		p->state = SCP_DATA;
		return 0;
	default:
		break;
	}
bad:
	snprintf(why, whysz, "malformed scp header from the %s",
	    p->upload ? "vendor" : "asset");
	return OTG_ERR_PROTO;
}

int
scp_input(struct scp *p, int to_asset, const void *data, size_t len, char *why,
    size_t whysz)
{
	const uint8_t *in = data;
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen, i;
	char hex[65];
	size_t n;

	why[0] = '\0';
	if ((to_asset ? 1 : 0) != p->upload)
		return 0;	/* the acks of the receiving side */
	while (len > 0) {
		switch (p->state) {
		case SCP_HEADER:
			/* between headers: a status byte, or a header line */
			if (buf_len(&p->line) == 0 && (in[0] == 0 || in[0] == 1 ||
			    in[0] == 2)) {
				if (in[0] != 0)
					p->state = SCP_MESSAGE;
				in++;
				len--;
				break;
			}
			if (buf_putc(&p->line, in[0]) != 0) {
				snprintf(why, whysz, "scp header line too long");
				return OTG_ERR_PROTO;
			}
			in++;
			len--;
			if (buf_ptr(&p->line)[buf_len(&p->line) - 1] == '\n' &&
			    scp_line(p, why, whysz) != 0)
				return OTG_ERR_PROTO;
			break;
		case SCP_MESSAGE:
			/* an error message from the sender, to its newline */
			if (in[0] == '\n')
				p->state = SCP_HEADER;
			in++;
			len--;
			break;
		case SCP_DATA:
			n = len < p->left ? len : (size_t)p->left;
			EVP_DigestUpdate(p->md, in, n);
			in += n;
			len -= n;
			p->left -= n;
			if (p->left == 0)
				p->state = SCP_STATUS;
			break;
		case SCP_STATUS:
			if (EVP_DigestFinal_ex(p->md, md, &mdlen) != 1)
				mdlen = 0;
			for (i = 0; i < mdlen && i < 32; i++)
				snprintf(hex + 2 * i, 3, "%02x", md[i]);
			hex[mdlen >= 32 ? 64 : 0] = '\0';
			scp_emit(p, hex, in[0] == 0 ? "ok" : "failed");
			p->state = in[0] == 0 ? SCP_HEADER : SCP_MESSAGE;
			in++;
			len--;
			break;
		}
	}
	return 0;
}
