/*
 * sftp.c: the SFTP (version 3, as OpenSSH speaks it) stream of one channel,
 * read in both directions while it is relayed. Pure: bytes in, bytes out,
 * events through a callback; no I/O.
 *
 * The stream goes on as it arrives. Of each packet the parser holds only its
 * head, the leading bytes it must see to decide: control packets (open,
 * close, read, remove, rename, the asset's handle...) whole, a WRITE up to
 * the length of its data, a DATA reply up to the length of its data, anything
 * else up to its id. Then the head goes on (or, for a refused request, the
 * whole packet is dropped and the broker answers SSH_FX_PERMISSION_DENIED
 * itself) and the rest of the packet is relayed chunk by chunk, the data of a
 * WRITE or DATA hashed on the way. The broker's answers enter the stream to
 * the vendor only between two of the asset's packets, so they never split one.
 *
 * What the auditor wants to know becomes an event: open (path, flags, the
 * asset's answer), close (bytes read and written, SHA-256 of the data written
 * and of the data read when it was read from start to end in order), remove,
 * rename, mkdir, rmdir, setstat, symlink, refusals, and each packet type the
 * parser does not know (relayed, logged once per type). A packet too short
 * for the fields the parser needs, or with a length of 0 or past the limit, is
 * malformed: the channel ends with the reason.
 *
 * Open files and outstanding requests live in bounded tables; an open or read
 * that would overflow them is refused with SSH_FX_FAILURE.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "broker/broker.h"

enum {
	FXP_INIT = 1, FXP_VERSION = 2, FXP_OPEN = 3, FXP_CLOSE = 4, FXP_READ = 5,
	FXP_WRITE = 6, FXP_LSTAT = 7, FXP_FSTAT = 8, FXP_SETSTAT = 9,
	FXP_FSETSTAT = 10, FXP_OPENDIR = 11, FXP_READDIR = 12, FXP_REMOVE = 13,
	FXP_MKDIR = 14, FXP_RMDIR = 15, FXP_REALPATH = 16, FXP_STAT = 17,
	FXP_RENAME = 18, FXP_READLINK = 19, FXP_SYMLINK = 20, FXP_STATUS = 101,
	FXP_HANDLE = 102, FXP_DATA = 103, FXP_NAME = 104, FXP_ATTRS = 105,
	FXP_EXTENDED = 200, FXP_EXTENDED_REPLY = 201
};
#define FX_FAILURE 4
#define FX_PERMISSION_DENIED 3
#define FXF_READ 0x01
#define FXF_WRITE 0x02
#define FXF_APPEND 0x04
#define FXF_CREAT 0x08
#define FXF_TRUNC 0x10

#define SFTP_HANDLE_LEN_MAX 256	/* draft-ietf-secsh-filexfer-02 */
#define SFTP_PATH_LOG_MAX 1024	/* raw bytes of a path that reach the log */
#define SFTP_REPLIES_MAX (64u * 1024)	/* the broker's answers waiting for a gap */

enum pending_kind { PENDING_OPEN, PENDING_READ, PENDING_OP };

struct sftp_pending {
	uint32_t id;
	enum pending_kind kind;
	const char *op;		/* PENDING_OP: static name */
	char *path, *path2;	/* escaped */
	uint32_t pflags;
	int file;		/* PENDING_READ: index in files, -1 when untracked */
	uint64_t offset;
};

struct sftp_file {
	uint8_t handle[SFTP_HANDLE_LEN_MAX];
	size_t hlen;
	int used;
	char *path;		/* escaped */
	uint32_t pflags;
	uint64_t bytes_read, bytes_written;
	uint64_t next_read, next_write;	/* where a sequential transfer goes on */
	int read_seq, write_seq;	/* still sequential from offset 0 */
	EVP_MD_CTX *rd, *wr;
};

/* One direction: the packet under way. */
struct sftp_dir {
	struct buf head;	/* its first bytes, held until the parser decides */
	int decided;		/* the head went on (or was dropped) */
	int drop;		/* refused: the rest goes nowhere */
	uint64_t left;		/* bytes of the packet after the head still to come */
	struct sftp_file *file;	/* the next hashlen bytes feed its digest */
	int hash_write;		/* file->wr, else file->rd */
	uint64_t hashlen;
};

struct sftp {
	unsigned allow;
	uint64_t max_file_size;
	sftp_event_cb *cb;
	void *arg;
	struct sftp_dir dir[2];	/* [to_asset] */
	struct buf replies;	/* the broker's answers, until the asset's stream has a gap */
	struct sftp_pending pending[SFTP_REQUESTS_MAX];
	size_t npending;
	struct sftp_file files[SFTP_HANDLES_MAX];
	size_t nfiles;
	size_t nopening;	/* pending opens, each sure of a slot in files */
	uint8_t unknown_seen[256 / 8];
};

int
sftp_new(unsigned allow, uint64_t max_file_size, sftp_event_cb *cb, void *arg,
    struct sftp **out)
{
	struct sftp *p;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return OTG_ERR_NOMEM;
	p->allow = allow;
	p->max_file_size = max_file_size;
	p->cb = cb;
	p->arg = arg;
	buf_init(&p->dir[0].head, 4 + SFTP_PACKET_MAX);
	buf_init(&p->dir[1].head, 4 + SFTP_PACKET_MAX);
	buf_init(&p->replies, SFTP_REPLIES_MAX);
	*out = p;
	return 0;
}

static void
sftp_pending_clear(struct sftp_pending *q)
{
	free(q->path);
	free(q->path2);
	memset(q, 0, sizeof(*q));
}

static void
sftp_file_clear(struct sftp *p, struct sftp_file *f)
{
	int i;

	for (i = 0; i < 2; i++)
		if (p->dir[i].file == f)
			p->dir[i].file = NULL;
	free(f->path);
	EVP_MD_CTX_free(f->rd);
	EVP_MD_CTX_free(f->wr);
	memset(f, 0, sizeof(*f));
	p->nfiles--;
}

void
sftp_free(struct sftp *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->npending; i++)
		sftp_pending_clear(&p->pending[i]);
	for (i = 0; i < SFTP_HANDLES_MAX; i++)
		if (p->files[i].used)
			sftp_file_clear(p, &p->files[i]);
	buf_free(&p->dir[0].head);
	buf_free(&p->dir[1].head);
	buf_free(&p->replies);
	free(p);
}

static void
sftp_emit(struct sftp *p, const char *op, const char *path, const char *path2,
    int type, const char *reason)
{
	struct sftp_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.op = op;
	ev.path = path != NULL ? path : "";
	ev.path2 = path2 != NULL ? path2 : "";
	ev.type = type;
	ev.status = -1;
	ev.sha_read = ev.sha_written = "";
	ev.reason = reason != NULL ? reason : "";
	p->cb(&ev, p->arg);
}

/* A string field: its bytes stay in the packet. */
static int
sftp_get_string(struct buf *r, const uint8_t **s, uint32_t *len)
{
	int rc;

	if ((rc = buf_get_u32(r, len)) != 0)
		return rc;
	if (*len > buf_len(r))
		return OTG_ERR_TRUNCATED;
	*s = buf_ptr(r);
	return buf_consume(r, *len);
}

/* A path from the wire, made safe for logs (NUL, controls, escapes). */
static char *
sftp_escape(const uint8_t *s, uint32_t len)
{
	struct buf out;
	char *text = NULL;

	buf_init(&out, 8 * SFTP_PATH_LOG_MAX);
	if (escape_text(&out, s, len > SFTP_PATH_LOG_MAX ? SFTP_PATH_LOG_MAX : len) == 0 &&
	    (len <= SFTP_PATH_LOG_MAX || buf_puts(&out, "...") == 0))
		text = buf_strdup(&out);
	buf_free(&out);
	return text;
}

static int
sftp_get_path(struct buf *r, char **path)
{
	const uint8_t *s;
	uint32_t len;
	int rc;

	if ((rc = sftp_get_string(r, &s, &len)) != 0)
		return rc;
	return (*path = sftp_escape(s, len)) == NULL ? OTG_ERR_NOMEM : 0;
}

static void
sftp_hex(const uint8_t *md, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

static struct sftp_file *
sftp_file_find(struct sftp *p, const uint8_t *h, uint32_t hlen)
{
	size_t i;

	for (i = 0; i < SFTP_HANDLES_MAX; i++)
		if (p->files[i].used && p->files[i].hlen == hlen &&
		    memcmp(p->files[i].handle, h, hlen) == 0)
			return &p->files[i];
	return NULL;
}

static struct sftp_pending *
sftp_pending_find(struct sftp *p, uint32_t id)
{
	size_t i;

	for (i = 0; i < p->npending; i++)
		if (p->pending[i].id == id)
			return &p->pending[i];
	return NULL;
}

static void
sftp_pending_remove(struct sftp *p, struct sftp_pending *q)
{
	if (q->kind == PENDING_OPEN)
		p->nopening--;
	sftp_pending_clear(q);
	*q = p->pending[--p->npending];
	memset(&p->pending[p->npending], 0, sizeof(p->pending[0]));
}

/* A slot for a request whose answer matters, or NULL when the table is full. */
static struct sftp_pending *
sftp_pending_add(struct sftp *p, uint32_t id, enum pending_kind kind)
{
	struct sftp_pending *q;

	if (p->npending >= SFTP_REQUESTS_MAX)
		return NULL;
	q = &p->pending[p->npending++];
	memset(q, 0, sizeof(*q));
	q->id = id;
	q->kind = kind;
	q->file = -1;
	if (kind == PENDING_OPEN)
		p->nopening++;
	return q;
}

/* The broker's own answer to a refused request, for the vendor. */
static int
sftp_refuse(struct buf *reply, uint32_t id, uint32_t code, const char *msg)
{
	size_t mlen = strlen(msg);
	int rc;

	if ((rc = buf_put_u32(reply, (uint32_t)(1 + 4 + 4 + 4 + mlen + 4 + 2))) != 0 ||
	    (rc = buf_putc(reply, FXP_STATUS)) != 0 || (rc = buf_put_u32(reply, id)) != 0 ||
	    (rc = buf_put_u32(reply, code)) != 0 ||
	    (rc = buf_put_u32(reply, (uint32_t)mlen)) != 0 ||
	    (rc = buf_put(reply, msg, mlen)) != 0 || (rc = buf_put_u32(reply, 2)) != 0 ||
	    (rc = buf_put(reply, "en", 2)) != 0)
		return rc;
	return 0;
}

static void
sftp_close_event(struct sftp *p, struct sftp_file *f)
{
	struct sftp_event ev;
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	char rd[65] = "", wr[65] = "";

	if (f->read_seq && f->bytes_read > 0 && EVP_DigestFinal_ex(f->rd, md, &mdlen) == 1)
		sftp_hex(md, rd);
	if (f->write_seq && f->bytes_written > 0 &&
	    EVP_DigestFinal_ex(f->wr, md, &mdlen) == 1)
		sftp_hex(md, wr);
	memset(&ev, 0, sizeof(ev));
	ev.op = "close";
	ev.path = f->path;
	ev.path2 = "";
	ev.pflags = f->pflags;
	ev.type = FXP_CLOSE;
	ev.status = -1;
	ev.bytes_read = f->bytes_read;
	ev.bytes_written = f->bytes_written;
	ev.sha_read = rd;
	ev.sha_written = wr;
	ev.reason = "";
	p->cb(&ev, p->arg);
}

/* The close event, then the slot is free. Data of this file still on its way
 * was not seen whole: no hash for that direction then. */
static void
sftp_file_close(struct sftp *p, struct sftp_file *f)
{
	if (p->dir[0].file == f && p->dir[0].hashlen > 0)
		f->read_seq = 0;
	if (p->dir[1].file == f && p->dir[1].hashlen > 0)
		f->write_seq = 0;
	sftp_close_event(p, f);
	sftp_file_clear(p, f);
}

/* The name of a request that changes the asset's files, or NULL. */
static const char *
sftp_write_op(int type)
{
	switch (type) {
	case FXP_REMOVE:
		return "remove";
	case FXP_RENAME:
		return "rename";
	case FXP_MKDIR:
		return "mkdir";
	case FXP_RMDIR:
		return "rmdir";
	case FXP_SETSTAT:
		return "setstat";
	case FXP_FSETSTAT:
		return "fsetstat";
	case FXP_SYMLINK:
		return "symlink";
	default:
		return NULL;
	}
}

/* OpenSSH's extensions that change files, by the op they amount to. */
static const char *
sftp_extended_op(const uint8_t *name, uint32_t len)
{
	static const struct { const char *ext, *op; } ops[] = {
		{ "posix-rename@openssh.com", "rename" },
		{ "hardlink@openssh.com", "hardlink" },
		{ "lsetstat@openssh.com", "setstat" },
		{ "fsync@openssh.com", NULL },
		{ "copy-data", "copy-data" },
	};
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strlen(ops[i].ext) == len && memcmp(ops[i].ext, name, len) == 0)
			return ops[i].op;
	return NULL;
}

/* The data of a WRITE or DATA, the next len bytes after the head: hashed on
 * their way when they continue the file in order. */
static void
sftp_hash_next(struct sftp *p, int to_asset, struct sftp_file *f, uint64_t off,
    uint32_t len)
{
	struct sftp_dir *d = &p->dir[to_asset];
	uint64_t *next = to_asset ? &f->next_write : &f->next_read;
	int *seq = to_asset ? &f->write_seq : &f->read_seq;

	if (!*seq || off != *next) {
		*seq = 0;
		return;
	}
	*next += len;
	d->file = f;
	d->hash_write = to_asset;
	d->hashlen = len;
}

/* A request from the vendor, its head in r and left bytes to come.
 * 1: forward it; 0: refused (the answer is in p->replies). */
static int
sftp_request(struct sftp *p, int type, struct buf *r, uint64_t left, char *why,
    size_t whysz)
{
	struct buf *reply = &p->replies;
	struct sftp_pending *q;
	struct sftp_file *f;
	const uint8_t *s;
	const char *op;
	uint32_t id, len, n, pflags;
	uint64_t off;
	char *path = NULL, *path2 = NULL;
	int rc = OTG_ERR_PROTO, fwd = 1;

	if (type == FXP_INIT)
		return 1;
	if (buf_get_u32(r, &id) != 0) {
		snprintf(why, whysz, "sftp request type %d without an id", type);
		return OTG_ERR_PROTO;
	}
	switch (type) {
	case FXP_OPEN:
		if (sftp_get_path(r, &path) != 0 || buf_get_u32(r, &pflags) != 0)
			goto malformed;
		if ((pflags & (FXF_WRITE | FXF_APPEND | FXF_CREAT | FXF_TRUNC)) &&
		    !(p->allow & SFTP_ALLOW_WRITE)) {
			sftp_emit(p, "denied", path, NULL, type, "writing is not allowed");
			rc = sftp_refuse(reply, id, FX_PERMISSION_DENIED,
			    "otgate: writing is not allowed");
			fwd = 0;
		} else if ((pflags & FXF_READ) && !(p->allow & SFTP_ALLOW_READ)) {
			sftp_emit(p, "denied", path, NULL, type, "reading is not allowed");
			rc = sftp_refuse(reply, id, FX_PERMISSION_DENIED,
			    "otgate: reading is not allowed");
			fwd = 0;
		} else if (p->nfiles + p->nopening >= SFTP_HANDLES_MAX ||
		    (q = sftp_pending_add(p, id, PENDING_OPEN)) == NULL) {
			sftp_emit(p, "denied", path, NULL, type, "too many open files");
			rc = sftp_refuse(reply, id, FX_FAILURE, "otgate: too many open files");
			fwd = 0;
		} else {
			q->path = path;
			q->pflags = pflags;
			path = NULL;
		}
		break;
	case FXP_CLOSE:
		if (sftp_get_string(r, &s, &len) != 0)
			goto malformed;
		if ((f = sftp_file_find(p, s, len)) != NULL)
			sftp_file_close(p, f);
		break;
	case FXP_READ:
		if (sftp_get_string(r, &s, &len) != 0 || buf_get_u64(r, &off) != 0 ||
		    buf_get_u32(r, &n) != 0)
			goto malformed;
		if ((f = sftp_file_find(p, s, len)) == NULL)
			break;
		if ((q = sftp_pending_add(p, id, PENDING_READ)) == NULL) {
			rc = sftp_refuse(reply, id, FX_FAILURE, "otgate: too many requests");
			fwd = 0;
			break;
		}
		q->file = (int)(f - p->files);
		q->offset = off;
		break;
	case FXP_WRITE:
		if (sftp_get_string(r, &s, &len) != 0)
			goto malformed;
		f = sftp_file_find(p, s, len);
		/* the head ends at the data's length: the data is still to come */
		if (buf_get_u64(r, &off) != 0 || buf_get_u32(r, &n) != 0 ||
		    n > buf_len(r) + left)
			goto malformed;
		/* whatever the handle: a role without write never writes */
		if (!(p->allow & SFTP_ALLOW_WRITE)) {
			sftp_emit(p, "denied", f != NULL ? f->path : "(handle)", NULL, type,
			    "writing is not allowed");
			rc = sftp_refuse(reply, id, FX_PERMISSION_DENIED,
			    "otgate: writing is not allowed");
			fwd = 0;
			break;
		}
		if (f == NULL)
			break;
		if (p->max_file_size > 0 && (off > p->max_file_size ||
		    n > p->max_file_size - off)) {
			sftp_emit(p, "denied", f->path, NULL, type,
			    "file larger than max-file-size");
			rc = sftp_refuse(reply, id, FX_PERMISSION_DENIED,
			    "otgate: file larger than max-file-size");
			fwd = 0;
			break;
		}
		f->bytes_written += n;
		sftp_hash_next(p, 1, f, off, n);
		break;
	case FXP_REMOVE:
	case FXP_MKDIR:
	case FXP_RMDIR:
	case FXP_SETSTAT:
		if (sftp_get_path(r, &path) != 0)
			goto malformed;
		goto change;
	case FXP_RENAME:
	case FXP_SYMLINK:
		if (sftp_get_path(r, &path) != 0 || sftp_get_path(r, &path2) != 0)
			goto malformed;
		goto change;
	case FXP_FSETSTAT:
		if (sftp_get_string(r, &s, &len) != 0)
			goto malformed;
		f = sftp_file_find(p, s, len);
		if ((path = strdup(f != NULL ? f->path : "(handle)")) == NULL) {
			rc = OTG_ERR_NOMEM;
			goto out;
		}
		goto change;
	case FXP_EXTENDED:
		if (sftp_get_string(r, &s, &len) != 0)
			goto malformed;
		if ((op = sftp_extended_op(s, len)) == NULL)
			break;
		if (strcmp(op, "copy-data") == 0 || sftp_get_path(r, &path) != 0 ||
		    ((strcmp(op, "rename") == 0 || strcmp(op, "hardlink") == 0) &&
		    sftp_get_path(r, &path2) != 0)) {
			free(path);
			path = NULL;
			if ((path = strdup("(handle)")) == NULL) {
				rc = OTG_ERR_NOMEM;
				goto out;
			}
		}
		goto changed;
	default:
		break;
	}
	rc = fwd;
	goto out;

change:
	op = sftp_write_op(type);
changed:
	if (!(p->allow & SFTP_ALLOW_WRITE)) {
		sftp_emit(p, "denied", path, path2, type, "writing is not allowed");
		rc = sftp_refuse(reply, id, FX_PERMISSION_DENIED,
		    "otgate: writing is not allowed");
		goto out;
	}
	if ((q = sftp_pending_add(p, id, PENDING_OP)) == NULL) {
		/* no room to wait for the answer: log it now */
		sftp_emit(p, op, path, path2, type, NULL);
		rc = 1;
		goto out;
	}
	q->op = op;
	q->path = path;
	q->path2 = path2;
	path = path2 = NULL;
	rc = 1;
	goto out;

malformed:
	snprintf(why, whysz, "malformed sftp request (type %d)", type);
	rc = OTG_ERR_PROTO;
out:
	free(path);
	free(path2);
	return rc;
}

/* A reply from the asset, its head in r and left bytes to come: ties
 * answers to the requests that wait for them. */
static int
sftp_reply(struct sftp *p, int type, struct buf *r, uint64_t left, char *why,
    size_t whysz)
{
	struct sftp_pending *q;
	struct sftp_file *f;
	struct sftp_event ev;
	const uint8_t *s;
	uint32_t id, len, status = 0;
	size_t i;

	if (type == FXP_VERSION)
		return 0;
	if (buf_get_u32(r, &id) != 0) {
		snprintf(why, whysz, "sftp reply type %d without an id", type);
		return OTG_ERR_PROTO;
	}
	if ((q = sftp_pending_find(p, id)) == NULL)
		return 0;
	if (type == FXP_STATUS && buf_get_u32(r, &status) != 0)
		goto malformed;
	switch (q->kind) {
	case PENDING_OPEN:
		memset(&ev, 0, sizeof(ev));
		ev.op = "open";
		ev.path = q->path;
		ev.path2 = "";
		ev.pflags = q->pflags;
		ev.type = FXP_OPEN;
		ev.status = type == FXP_HANDLE ? 0 : type == FXP_STATUS ? (int)status : -1;
		ev.sha_read = ev.sha_written = "";
		ev.reason = "";
		if (type == FXP_HANDLE) {
			if (sftp_get_string(r, &s, &len) != 0 || len > SFTP_HANDLE_LEN_MAX)
				goto malformed;
			for (i = 0; i < SFTP_HANDLES_MAX && p->files[i].used; i++)
				;
			/* sftp_request kept a slot free for each pending open */
			if (i == SFTP_HANDLES_MAX || sftp_file_find(p, s, len) != NULL) {
				ev.reason = "handle not tracked";
				p->cb(&ev, p->arg);
				break;
			}
			f = &p->files[i];
			if ((f->rd = EVP_MD_CTX_new()) == NULL ||
			    (f->wr = EVP_MD_CTX_new()) == NULL ||
			    EVP_DigestInit_ex(f->rd, EVP_sha256(), NULL) != 1 ||
			    EVP_DigestInit_ex(f->wr, EVP_sha256(), NULL) != 1) {
				EVP_MD_CTX_free(f->rd);
				EVP_MD_CTX_free(f->wr);
				f->rd = f->wr = NULL;
				snprintf(why, whysz, "out of memory");
				return OTG_ERR_NOMEM;
			}
			f->used = 1;
			p->nfiles++;
			memcpy(f->handle, s, len);
			f->hlen = len;
			f->path = q->path;
			q->path = NULL;
			f->pflags = q->pflags;
			f->read_seq = f->write_seq = 1;
			p->cb(&ev, p->arg);
		} else {
			p->cb(&ev, p->arg);
		}
		break;
	case PENDING_READ:
		f = q->file >= 0 ? &p->files[q->file] : NULL;
		if (f == NULL || !f->used || type != FXP_DATA)
			break;
		if (buf_get_u32(r, &len) != 0 || len > buf_len(r) + left)
			goto malformed;
		f->bytes_read += len;
		sftp_hash_next(p, 0, f, q->offset, len);
		break;
	case PENDING_OP:
		memset(&ev, 0, sizeof(ev));
		ev.op = q->op;
		ev.path = q->path != NULL ? q->path : "";
		ev.path2 = q->path2 != NULL ? q->path2 : "";
		ev.status = type == FXP_STATUS ? (int)status : -1;
		ev.sha_read = ev.sha_written = "";
		ev.reason = "";
		p->cb(&ev, p->arg);
		break;
	}
	sftp_pending_remove(p, q);
	return 0;

malformed:
	snprintf(why, whysz, "malformed sftp reply (type %d)", type);
	return OTG_ERR_PROTO;
}

static int
sftp_known(int type, int to_asset)
{
	if (to_asset)
		return (type >= FXP_INIT && type <= FXP_SYMLINK && type != FXP_VERSION) ||
		    type == FXP_EXTENDED;
	return type == FXP_VERSION || (type >= FXP_STATUS && type <= FXP_ATTRS) ||
	    type == FXP_EXTENDED_REPLY;
}

/* Control packets the parser reads whole before any of them goes on. */
static int
sftp_whole(int type, int to_asset)
{
	if (!to_asset)
		return type == FXP_HANDLE;
	switch (type) {
	case FXP_OPEN:
	case FXP_CLOSE:
	case FXP_READ:
	case FXP_SETSTAT:
	case FXP_FSETSTAT:
	case FXP_REMOVE:
	case FXP_MKDIR:
	case FXP_RMDIR:
	case FXP_RENAME:
	case FXP_SYMLINK:
	case FXP_EXTENDED:
		return 1;
	default:
		return 0;
	}
}

/* How many leading bytes of the packet in head the parser must see before it
 * decides, at most the whole packet (see the top of the file). */
static size_t
sftp_head_need(int to_asset, const struct buf *head)
{
	struct buf r = *head;
	uint32_t plen, hlen;
	uint8_t type;
	size_t whole, need;

	if (buf_get_u32(&r, &plen) != 0)
		return 4;
	whole = 4 + (size_t)plen;
	if (buf_get_u8(&r, &type) != 0)
		return 5;
	if (!sftp_known(type, to_asset) || type == FXP_INIT || type == FXP_VERSION)
		need = 5;
	else if (to_asset && type == FXP_WRITE)
		/* id, handle, offset and the data's length */
		need = buf_consume(&r, 4) != 0 || buf_get_u32(&r, &hlen) != 0 ? 13 :
		    hlen > plen ? whole : 13 + (size_t)hlen + 12;
	else if (sftp_whole(type, to_asset))
		need = whole;
	else if (type == FXP_DATA || type == FXP_STATUS)
		need = 13;	/* id and the data's length, or the status code */
	else
		need = 9;	/* id */
	return need < whole ? need : whole;
}

/* Take what the head still needs: 1 once complete, 0 when the input ran out. */
static int
sftp_gather(struct sftp *p, int to_asset, const uint8_t **in, size_t *len, char *why,
    size_t whysz)
{
	struct buf *head = &p->dir[to_asset].head, r;
	uint32_t plen;
	size_t need, n;
	int rc;

	for (;;) {
		r = *head;
		if (buf_get_u32(&r, &plen) == 0 && (plen == 0 || plen > SFTP_PACKET_MAX)) {
			snprintf(why, whysz, "malformed sftp packet: length %lu from the %s",
			    (unsigned long)plen, to_asset ? "vendor" : "asset");
			return OTG_ERR_PROTO;
		}
		need = sftp_head_need(to_asset, head);
		if (buf_len(head) >= need)
			return 1;
		if (*len == 0)
			return 0;
		n = need - buf_len(head) < *len ? need - buf_len(head) : *len;
		if ((rc = buf_put(head, *in, n)) != 0) {
			snprintf(why, whysz, "sftp packet over the limit");
			return rc;
		}
		*in += n;
		*len -= n;
	}
}

/* The head is complete: decide; the head goes on, or the packet is dropped. */
static int
sftp_decide(struct sftp *p, int to_asset, struct buf *fwd, char *why, size_t whysz)
{
	struct sftp_dir *d = &p->dir[to_asset];
	struct buf r = d->head;
	char name[48];
	uint32_t plen;
	uint8_t type;
	int rc;

	if (buf_get_u32(&r, &plen) != 0 || buf_get_u8(&r, &type) != 0)
		return OTG_ERR_PROTO;
	d->left = 4 + (uint64_t)plen - buf_len(&d->head);
	d->file = NULL;
	d->hashlen = 0;
	if (!sftp_known(type, to_asset)) {
		if (!(p->unknown_seen[type / 8] & (1u << (type % 8)))) {
			p->unknown_seen[type / 8] |= (uint8_t)(1u << (type % 8));
			snprintf(name, sizeof(name), "type %u from the %s", type,
			    to_asset ? "vendor" : "asset");
			sftp_emit(p, "unknown", name, NULL, type, NULL);
		}
		rc = 1;
	} else if (to_asset) {
		rc = sftp_request(p, type, &r, d->left, why, whysz);
	} else {
		rc = sftp_reply(p, type, &r, d->left, why, whysz);
		rc = rc == 0 ? 1 : rc;
	}
	if (rc < 0)
		return rc;
	d->decided = 1;
	d->drop = rc == 0;
	if (rc == 1 && (rc = buf_put(fwd, buf_ptr(&d->head), buf_len(&d->head))) != 0)
		return rc;
	buf_reset(&d->head);
	return 0;
}

/* The rest of a decided packet, as it comes: relayed or dropped, data hashed. */
static int
sftp_stream(struct sftp *p, int to_asset, const uint8_t *in, size_t n, struct buf *fwd)
{
	struct sftp_dir *d = &p->dir[to_asset];
	struct sftp_file *f = d->file;
	size_t h;

	d->left -= n;
	if (d->drop)
		return 0;
	if (f != NULL && d->hashlen > 0) {
		h = n < d->hashlen ? n : (size_t)d->hashlen;
		if (EVP_DigestUpdate(d->hash_write ? f->wr : f->rd, in, h) != 1)
			*(d->hash_write ? &f->write_seq : &f->read_seq) = 0;
		d->hashlen -= h;
	}
	return buf_put(fwd, in, n);
}

/* The broker's answers go to the vendor between two of the asset's packets. */
static int
sftp_answer(struct sftp *p, struct buf *to_vendor)
{
	int rc;

	if (to_vendor == NULL || buf_len(&p->replies) == 0 || p->dir[0].decided)
		return 0;
	if ((rc = buf_put(to_vendor, buf_ptr(&p->replies), buf_len(&p->replies))) != 0)
		return rc;
	buf_reset(&p->replies);
	return 0;
}

int
sftp_input(struct sftp *p, int to_asset, const void *data, size_t len, struct buf *fwd,
    struct buf *reply, char *why, size_t whysz)
{
	const uint8_t *in = data;
	struct sftp_dir *d;
	size_t n;
	int rc = 0;

	to_asset = to_asset ? 1 : 0;
	d = &p->dir[to_asset];
	why[0] = '\0';
	for (;;) {
		if (d->decided && d->left == 0) {
			d->decided = d->drop = 0;
			d->file = NULL;
			d->hashlen = 0;
		}
		if ((rc = sftp_answer(p, to_asset ? reply : fwd)) != 0 || len == 0)
			break;
		if (d->decided) {
			n = len < d->left ? len : (size_t)d->left;
			rc = sftp_stream(p, to_asset, in, n, fwd);
			in += n;
			len -= n;
		} else if ((rc = sftp_gather(p, to_asset, &in, &len, why, whysz)) == 1) {
			rc = sftp_decide(p, to_asset, fwd, why, whysz);
		}
		if (rc != 0)
			break;
	}
	if (rc == OTG_ERR_TOOBIG && why[0] == '\0')
		snprintf(why, whysz, "sftp: the peer does not read its replies");
	else if (rc != 0 && why[0] == '\0')
		snprintf(why, whysz, "sftp: %s", otg_strerror(rc));
	return rc;
}

/* Files the vendor left open when the channel ended: their close events. */
void
sftp_finish(struct sftp *p)
{
	size_t i;

	for (i = 0; i < SFTP_HANDLES_MAX; i++)
		if (p->files[i].used)
			sftp_file_close(p, &p->files[i]);
}
