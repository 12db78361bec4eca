/*
 * audit.c: the audit log, one JSON object per line (DESIGN.md section 5):
 *   {"ts":"2026-11-23T14:00:00.123Z","seq":1,"prev":"000...0","event":"...",...}
 * Each line carries the SHA-256 of the line before it (without its newline), so
 * an edited, removed or reordered line breaks the chain. The chain resumes from
 * the file's last line when the broker restarts. Every event is one write(2) on
 * an O_APPEND file, and the same JSON goes to syslog (authpriv, one datagram
 * to /dev/log that never blocks) so a copy lives off the host. Other writers
 * (`otgate purge` while otgated runs) take the same flock around each append;
 * a writer that finds the file grown since its own last line resumes the
 * chain from the newest line first. Inside otgated the loop and the recorder
 * thread (session.checkpoint) both write: a mutex orders them.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "broker/broker.h"

#define AUDIT_HEX_LEN 64
/* Longest string value taken from a caller, in bytes before escaping: user
 * names, commands and reasons are cut here so one line stays bounded. */
#define AUDIT_VALUE_MAX 4096
/* Longest line audit_open and audit_verify accept. */
#define AUDIT_LINE_MAX (1024u * 1024u)
#define AUDIT_PREFIX "{\"ts\":\""

struct audit {
	pthread_mutex_t lock;		/* everything below, between threads */
	char *path;
	int fd;
	enum siem_format siem;
	int siem_fd;			/* datagram socket for syslog lines */
	struct sockaddr_un siem_addr;
	char siem_host[256];		/* RFC 5424's HOSTNAME */
	unsigned long long seq;		/* of the last line written */
	char prev[AUDIT_HEX_LEN + 1];	/* hash of the last line written */
	off_t end;			/* file size after that line */
};

static int
audit_hash(const void *line, size_t len, char hex[AUDIT_HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	if (EVP_Digest(line, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		return OTG_ERR_CRYPTO;
	for (i = 0; i < mdlen; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0xf];
	}
	hex[AUDIT_HEX_LEN] = '\0';
	return 0;
}

/* seq and prev of one line we wrote; 0, or OTG_ERR_PROTO when it is not one */
static int
audit_parse_line(const char *line, size_t len, unsigned long long *seq,
    char prev[AUDIT_HEX_LEN + 1])
{
	const char *p, *end = line + len;
	char *num_end;
	size_t i;

	if (len < sizeof(AUDIT_PREFIX) - 1 ||
	    memcmp(line, AUDIT_PREFIX, sizeof(AUDIT_PREFIX) - 1) != 0)
		return OTG_ERR_PROTO;
	p = memchr(line + sizeof(AUDIT_PREFIX) - 1, '"', len - (sizeof(AUDIT_PREFIX) - 1));
	if (p == NULL || (size_t)(end - p) < sizeof("\",\"seq\":1,\"prev\":\"\"}") - 1 +
	    AUDIT_HEX_LEN || memcmp(p, "\",\"seq\":", 8) != 0)
		return OTG_ERR_PROTO;
	p += 8;
	if (*p < '1' || *p > '9')
		return OTG_ERR_PROTO;
	errno = 0;
	*seq = strtoull(p, &num_end, 10);
	if (errno != 0 || num_end >= end ||
	    (size_t)(end - num_end) < 10 + AUDIT_HEX_LEN + 2 ||
	    memcmp(num_end, ",\"prev\":\"", 9) != 0)
		return OTG_ERR_PROTO;
	p = num_end + 9;
	for (i = 0; i < AUDIT_HEX_LEN; i++) {
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return OTG_ERR_PROTO;
		prev[i] = p[i];
	}
	prev[AUDIT_HEX_LEN] = '\0';
	if (p[AUDIT_HEX_LEN] != '"' || line[len - 1] != '}')
		return OTG_ERR_PROTO;
	return 0;
}

/* The file's last line, read from its end only: a long log is never read whole. */
static int
audit_resume(int fd, off_t size, unsigned long long *seq, char prev[AUDIT_HEX_LEN + 1])
{
	char *tail = NULL;
	size_t want, start, lineend;
	ssize_t n;
	int r;

	want = (size_t)size < AUDIT_LINE_MAX ? (size_t)size : AUDIT_LINE_MAX;
	if ((tail = malloc(want)) == NULL)
		return OTG_ERR_NOMEM;
	n = pread(fd, tail, want, size - (off_t)want);
	if (n != (ssize_t)want) {
		r = OTG_ERR_IO;
		goto out;
	}
	/* a crash can only cut a line if a write was torn: refuse to chain onto it */
	if (tail[want - 1] != '\n') {
		r = OTG_ERR_PROTO;
		goto out;
	}
	lineend = want - 1;
	for (start = lineend; start > 0 && tail[start - 1] != '\n'; start--)
		;
	if (start == 0 && (size_t)size > want) {
		r = OTG_ERR_TOOBIG;
		goto out;
	}
	if ((r = audit_parse_line(tail + start, lineend - start, seq, prev)) != 0)
		goto out;
	r = audit_hash(tail + start, lineend - start, prev);
out:
	free(tail);
	return r;
}

/* Open (or create, 0640) the log at a->path into *fd and resume the chain
 * from its last line when it has one; a->seq and a->prev stay otherwise. */
static int
audit_open_file(struct audit *a, int *fdp)
{
	char prev[AUDIT_HEX_LEN + 1];
	unsigned long long seq;
	struct stat st;
	int fd, r, flags;

	fd = open(a->path, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT) {
		/* new log: exactly 0640 whatever the umask; racing creators meet below */
		fd = file_create(a->path, 0640);
		if (fd != -1)
			close(fd);	/* write-only: reopened to read other writers' lines */
		if (fd != -1 || errno == EEXIST)
			fd = open(a->path, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd == -1)
		return OTG_ERR_IO;
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_APPEND) == -1 || fstat(fd, &st) == -1) {
		r = OTG_ERR_IO;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		r = OTG_ERR_IO;
		goto out;
	}
	/* into copies: a bad tail must not change the chain in use */
	if (st.st_size > 0) {
		if ((r = audit_resume(fd, st.st_size, &seq, prev)) != 0)
			goto out;
		a->seq = seq;
		memcpy(a->prev, prev, sizeof(prev));
	}
	a->end = st.st_size;
	*fdp = fd;
	return 0;
out:
	close(fd);
	return r;
}

int
audit_open(const char *path, struct audit **out)
{
	struct audit *a;
	int r;

	*out = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return OTG_ERR_NOMEM;
	pthread_mutex_init(&a->lock, NULL);
	a->fd = -1;
	a->siem_fd = -1;
	memset(a->prev, '0', AUDIT_HEX_LEN);
	if ((a->path = strdup(path)) == NULL) {
		r = OTG_ERR_NOMEM;
		goto out;
	}
	if ((r = audit_open_file(a, &a->fd)) != 0)
		goto out;
	/* JSON to /dev/log until audit_set_siem says otherwise; without a
	 * socket the audit log still works, only the syslog copy is lost */
	(void)audit_set_siem(a, SIEM_JSON, NULL);
	*out = a;
	return 0;
out:
	audit_close(a);
	return r;
}

int
audit_reopen(struct audit *a)
{
	int fd, r;

	pthread_mutex_lock(&a->lock);
	if ((r = audit_open_file(a, &fd)) == 0) {	/* else: keep writing where we were */
		close(a->fd);
		a->fd = fd;
	}
	pthread_mutex_unlock(&a->lock);
	return r;
}

void
audit_close(struct audit *a)
{
	if (a == NULL)
		return;
	if (a->fd != -1)
		close(a->fd);
	if (a->siem_fd != -1)
		close(a->siem_fd);
	pthread_mutex_destroy(&a->lock);
	free(a->path);
	free(a);
}

/* How many leading bytes escape_json would copy as they are (printable ASCII
 * but the quote and backslash): those go in with one copy, not one a byte. */
static size_t
audit_plain_run(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i] < 0x20 || p[i] > 0x7e || p[i] == '"' || p[i] == '\\')
			break;
	}
	return i;
}

static int
audit_put_string(struct buf *b, const char *s)
{
	size_t len = strnlen(s, AUDIT_VALUE_MAX + 1), plain;
	int cut = len > AUDIT_VALUE_MAX, r;

	if (cut) {
		/* cut on a character boundary and say so */
		len = AUDIT_VALUE_MAX;
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
	}
	plain = audit_plain_run(s, len);
	if ((r = buf_putc(b, '"')) != 0 || (r = buf_put(b, s, plain)) != 0 ||
	    (r = escape_json(b, s + plain, len - plain)) != 0 ||
	    (cut && (r = buf_puts(b, "...")) != 0))
		return r;
	return buf_putc(b, '"');
}

static int
audit_format(const struct audit *a, const struct timespec *now, const char *event,
    const struct audit_field *f, size_t n, struct buf *b)
{
	struct tm tm;
	char ts[32];
	size_t i;
	int r;

	gmtime_r(&now->tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	if ((r = buf_printf(b, AUDIT_PREFIX "%s.%03ldZ\",\"seq\":%llu,\"prev\":\"%s\","
	    "\"event\":", ts, now->tv_nsec / 1000000, a->seq + 1, a->prev)) != 0 ||
	    (r = audit_put_string(b, event)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		if ((r = buf_putc(b, ',')) != 0 || (r = audit_put_string(b, f[i].key)) != 0 ||
		    (r = buf_putc(b, ':')) != 0)
			return r;
		r = f[i].str != NULL ? audit_put_string(b, f[i].str) :
		    buf_printf(b, "%lld", f[i].num);
		if (r != 0)
			return r;
	}
	return buf_putc(b, '}');
}

int
audit_set_siem(struct audit *a, enum siem_format format, const char *socket_path)
{
	const char *path = socket_path != NULL ? socket_path : "/dev/log";
	int r = 0;

	pthread_mutex_lock(&a->lock);
	if (a->siem_fd != -1)
		close(a->siem_fd);
	a->siem_fd = -1;
	a->siem = format;
	if (gethostname(a->siem_host, sizeof(a->siem_host) - 1) != 0)
		snprintf(a->siem_host, sizeof(a->siem_host), "-");
	memset(&a->siem_addr, 0, sizeof(a->siem_addr));
	a->siem_addr.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(a->siem_addr.sun_path))
		r = OTG_ERR_TOOBIG;
	else {
		memcpy(a->siem_addr.sun_path, path, strlen(path) + 1);
		a->siem_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (a->siem_fd == -1)
			r = OTG_ERR_IO;
	}
	pthread_mutex_unlock(&a->lock);
	return r;
}

/* The event as a SIEM line, one datagram; a collector that is down or slow
 * loses the line, never the audit log's own copy, and never blocks the loop
 * (syslog(3) would: its socket blocks when the daemon lags). line is the
 * audit log's JSON, the message for siem-format json. */
static void
audit_siem_send(struct audit *a, const struct timespec *now, const char *event,
    const struct audit_field *f, size_t n, const uint8_t *line, size_t len)
{
	/* the pid of now: otgated may daemon(3) after opening the log */
	struct siem_origin o = { a->siem_host, "otgated", (long)getpid() };
	uint64_t ms = (uint64_t)now->tv_sec * 1000 + (uint64_t)now->tv_nsec / 1000000;
	char stamp[32];
	struct tm tm;
	struct buf b;
	int r;

	buf_init(&b, 64 * 1024);
	if (a->siem == SIEM_RFC5424) {
		r = siem_rfc5424(&b, &o, ms, a->seq, event, f, n);
	} else {
		/* JSON and CEF travel as the message of an RFC 3164 line (authpriv.info) */
		localtime_r(&now->tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
		r = buf_printf(&b, "<86>%s otgated[%ld]: ", stamp, o.pid);
		if (r == 0 && a->siem == SIEM_CEF)
			r = siem_cef(&b, OTGATE_VERSION, ms, a->seq, event, f, n);
		else if (r == 0)
			r = buf_put(&b, line, len);
	}
	if (r == 0 && a->siem_fd != -1)
		(void)sendto(a->siem_fd, buf_ptr(&b), buf_len(&b), MSG_DONTWAIT,
		    (const struct sockaddr *)&a->siem_addr, sizeof(a->siem_addr));
	buf_free(&b);
}

/* Under the lock: another writer appended since our last line, so the chain
 * goes on from its newest line, not ours. */
static int
audit_catch_up(struct audit *a)
{
	char prev[AUDIT_HEX_LEN + 1];
	unsigned long long seq;
	struct stat st;
	int r;

	if (fstat(a->fd, &st) == -1)
		return OTG_ERR_IO;
	if (st.st_size == a->end)
		return 0;
	if (st.st_size > 0) {
		if ((r = audit_resume(a->fd, st.st_size, &seq, prev)) != 0)
			return r;
		a->seq = seq;
		memcpy(a->prev, prev, sizeof(prev));
	}
	a->end = st.st_size;
	return 0;
}

/* Remove the part of a line a short write left, keeping errno. */
static void
audit_cut(struct audit *a)
{
	int saved = errno;

	if (ftruncate(a->fd, a->end) == -1)
		log_warn("audit log %s: cannot remove a partly written line", a->path);
	errno = saved;
}

int
audit_event(struct audit *a, const char *event, const struct audit_field *f, size_t n)
{
	char hash[AUDIT_HEX_LEN + 1];
	struct timespec now;
	struct buf b;
	size_t len;
	ssize_t w;
	int r;

	if (a == NULL || event == NULL || event[0] == '\0' || (f == NULL && n > 0))
		return OTG_ERR_INVAL;
	buf_init(&b, AUDIT_LINE_MAX);
	pthread_mutex_lock(&a->lock);
	while (flock(a->fd, LOCK_EX) == -1) {
		if (errno != EINTR) {
			pthread_mutex_unlock(&a->lock);
			buf_free(&b);
			return OTG_ERR_IO;
		}
	}
	if ((r = audit_catch_up(a)) != 0)
		goto out;
	clock_gettime(CLOCK_REALTIME, &now);
	if ((r = audit_format(a, &now, event, f, n, &b)) != 0)
		goto out;
	len = buf_len(&b);
	if ((r = audit_hash(buf_ptr(&b), len, hash)) != 0 || (r = buf_putc(&b, '\n')) != 0)
		goto out;
	/* one write: concurrent appenders and readers never see half an event */
	do {
		w = write(a->fd, buf_ptr(&b), len + 1);
	} while (w == -1 && errno == EINTR);
	if (w != (ssize_t)(len + 1)) {
		if (w >= 0)
			errno = ENOSPC;
		r = OTG_ERR_IO;
		/* a full disk takes part of a line: cut it so the chain can go on */
		if (w > 0)
			audit_cut(a);
		goto out;
	}
	a->seq++;
	memcpy(a->prev, hash, sizeof(hash));
	a->end += (off_t)(len + 1);
	flock(a->fd, LOCK_UN);
	audit_siem_send(a, &now, event, f, n, buf_ptr(&b), len);
	pthread_mutex_unlock(&a->lock);
	buf_free(&b);
	return 0;
out:
	flock(a->fd, LOCK_UN);
	pthread_mutex_unlock(&a->lock);
	buf_free(&b);
	return r;
}

static int
audit_line_room(char **line, size_t *cap, size_t need)
{
	size_t n = *cap > 0 ? *cap : 256;
	char *grown;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	if ((grown = realloc(*line, n)) == NULL)
		return OTG_ERR_NOMEM;
	*line = grown;
	*cap = n;
	return 0;
}

/* One line without its newline into *line (NUL-terminated); 0 at end of
 * file, 1 for a line, negative for an error. *complete is 0 when the file
 * ended without a newline. Reading stops one byte past AUDIT_LINE_MAX, which
 * the caller refuses: a planted (or gzip-expanded) giant line costs a bounded
 * buffer. */
static int
audit_read_line(FILE *fp, char **line, size_t *cap, size_t *len, int *complete)
{
	int c, r;

	*len = 0;
	while ((c = getc_unlocked(fp)) != EOF && c != '\n' && *len <= AUDIT_LINE_MAX) {
		if ((r = audit_line_room(line, cap, *len + 2)) != 0)
			return r;
		(*line)[(*len)++] = (char)c;
	}
	*complete = c == '\n';
	if (ferror(fp))
		return OTG_ERR_IO;
	if (c == EOF && *len == 0)
		return 0;
	if ((r = audit_line_room(line, cap, *len + 1)) != 0)
		return r;
	(*line)[*len] = '\0';
	return 1;
}

/* Which line broke the chain when line lineno's prev does not match: the line
 * before was edited, or this one was (its prev at least). The next line's prev
 * tells which. */
static unsigned long long
audit_blame(FILE *fp, unsigned long long lineno, const char *hash, char **next,
    size_t *ncap)
{
	char next_prev[AUDIT_HEX_LEN + 1];
	unsigned long long nseq;
	size_t nlen;
	int complete;

	if (lineno == 1)
		return 1;
	if (audit_read_line(fp, next, ncap, &nlen, &complete) == 1 &&
	    (audit_parse_line(*next, nlen, &nseq, next_prev) != 0 ||
	    strcmp(next_prev, hash) != 0))
		return lineno;
	return lineno - 1;
}

static int
audit_hex_ok(const char *s)
{
	size_t i;

	for (i = 0; i < AUDIT_HEX_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[AUDIT_HEX_LEN] == '\0';
}

/* Why line lineno's seq is not the next one. */
static void
audit_seq_why(unsigned long long lineno, unsigned long long seq,
    unsigned long long first_seq, char *why, size_t whysz)
{
	if (lineno == 1 && first_seq > 1)
		snprintf(why, whysz, "line 1 has seq %llu, not %llu: it does not continue "
		    "the previous file (a file between them is missing or out of order)",
		    seq, first_seq);
	else
		snprintf(why, whysz, "line %llu has seq %llu: lines were removed, "
		    "inserted or reordered", lineno, seq);
}

/* Why line lineno's prev does not match; blamed is the line audit_blame named. */
static void
audit_break_why(unsigned long long lineno, unsigned long long first_seq,
    unsigned long long blamed, char *why, size_t whysz)
{
	if (lineno > 1)
		snprintf(why, whysz, "line %llu was altered: the chain breaks between "
		    "lines %llu and %llu", blamed, lineno - 1, lineno);
	else if (first_seq == 1)
		snprintf(why, whysz, "line 1 was altered: its prev is not the start of "
		    "a chain");
	else
		snprintf(why, whysz, "line 1 does not continue the previous file: its "
		    "prev is not that file's last hash");
}

int
audit_verify_stream(FILE *fp, unsigned long long first_seq, const char *first_prev,
    unsigned long long *last_seq, char last_hash[65], unsigned long long *nlines,
    unsigned long long *bad_line, char *why, size_t whysz)
{
	char expect[AUDIT_HEX_LEN + 1], prev[AUDIT_HEX_LEN + 1], hash[AUDIT_HEX_LEN + 1];
	char *line = NULL, *next = NULL;
	size_t cap = 0, ncap = 0, len;
	unsigned long long seq, lineno = 0;
	int r, complete;

	*nlines = 0;
	*bad_line = 0;
	if (whysz > 0)
		why[0] = '\0';
	if (first_prev != NULL ? first_seq == 0 || !audit_hex_ok(first_prev) : first_seq != 0)
		return OTG_ERR_INVAL;
	if (first_prev != NULL)
		memcpy(expect, first_prev, sizeof(expect));
	r = OTG_ERR_BADSIG;
	while (audit_read_line(fp, &line, &cap, &len, &complete) == 1) {
		lineno++;
		*bad_line = lineno;
		if (len > AUDIT_LINE_MAX || audit_parse_line(line, len, &seq, prev) != 0) {
			snprintf(why, whysz, "line %llu is not an audit event", lineno);
			goto out;
		}
		/* no link given: the chain starts where the first line says */
		if (first_prev == NULL && lineno == 1) {
			first_seq = seq;
			memcpy(expect, prev, sizeof(expect));
			if (seq == 1)	/* ... but seq 1 is the start of a chain */
				memset(expect, '0', AUDIT_HEX_LEN);
		}
		if (seq != first_seq + lineno - 1) {
			audit_seq_why(lineno, seq, first_seq, why, whysz);
			goto out;
		}
		if (audit_hash(line, len, hash) != 0) {
			r = OTG_ERR_CRYPTO;
			goto out;
		}
		if (strcmp(prev, expect) != 0) {
			*bad_line = audit_blame(fp, lineno, hash, &next, &ncap);
			audit_break_why(lineno, first_seq, *bad_line, why, whysz);
			goto out;
		}
		if (!complete) {
			snprintf(why, whysz, "line %llu is cut short (no newline)", lineno);
			goto out;
		}
		memcpy(expect, hash, sizeof(hash));
	}
	*bad_line = 0;
	if (ferror(fp)) {
		snprintf(why, whysz, "read error: %s", strerror(errno));
		r = OTG_ERR_IO;
		goto out;
	}
	/* an empty file without a link given continues nothing: seq 0, no hash */
	*last_seq = 0;
	last_hash[0] = '\0';
	if (lineno > 0 || first_prev != NULL) {
		*last_seq = first_seq + lineno - 1;
		memcpy(last_hash, expect, sizeof(expect));
	}
	r = 0;
out:
	*nlines = lineno;
	free(line);
	free(next);
	return r;
}

int
audit_verify_continued(const char *path, unsigned long long first_seq,
    const char *first_prev, unsigned long long *last_seq, char last_hash[65],
    unsigned long long *nlines, unsigned long long *bad_line, char *why, size_t whysz)
{
	FILE *fp;
	int r;

	*nlines = 0;
	*bad_line = 0;
	if (whysz > 0)
		why[0] = '\0';
	if (first_seq == 0 || first_prev == NULL)
		return OTG_ERR_INVAL;
	if ((fp = fopen(path, "re")) == NULL) {
		snprintf(why, whysz, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? OTG_ERR_NOTFOUND : OTG_ERR_IO;
	}
	r = audit_verify_stream(fp, first_seq, first_prev, last_seq, last_hash, nlines,
	    bad_line, why, whysz);
	fclose(fp);
	return r;
}

int
audit_verify(const char *path, unsigned long long *nlines, unsigned long long *bad_line,
    char *why, size_t whysz)
{
	char zeros[AUDIT_HEX_LEN + 1], last_hash[AUDIT_HEX_LEN + 1];
	unsigned long long last_seq;

	memset(zeros, '0', AUDIT_HEX_LEN);
	zeros[AUDIT_HEX_LEN] = '\0';
	return audit_verify_continued(path, 1, zeros, &last_seq, last_hash, nlines,
	    bad_line, why, whysz);
}
