/*
 * common.h: what every otgate component needs and nothing component-specific.
 * Error codes, logging, diagnostics for config files, the INI-like parser, value
 * parsing, the otgated.conf reader, bounded buffers, escaping of untrusted text,
 * safe files, CIDR matching and time zones. Library code returns 0 or a negative
 * OTG_ERR_*; nothing here calls exit() except fatal().
 */
#ifndef OTGATE_COMMON_H
#define OTGATE_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#define OTGATE_VERSION "0.1.0"

#define OTG_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define OTG_NORETURN __attribute__((noreturn))

/* err.c */
enum {
	OTG_OK = 0,
	OTG_ERR_NOMEM = -1,	/* out of memory */
	OTG_ERR_INVAL = -2,	/* invalid argument or syntax */
	OTG_ERR_IO = -3,	/* system call failed, see errno */
	OTG_ERR_TOOBIG = -4,	/* over a size limit */
	OTG_ERR_NOTFOUND = -5,	/* no such entry */
	OTG_ERR_PERM = -6,	/* loose permissions or not allowed */
	OTG_ERR_EXISTS = -7,	/* already exists */
	OTG_ERR_CRYPTO = -8,	/* a cryptographic operation failed */
	OTG_ERR_PROTO = -9,	/* peer or file broke the format */
	OTG_ERR_TRUNCATED = -10,	/* input ended early */
	OTG_ERR_BADSIG = -11,	/* signature or hash does not match */
	OTG_ERR_RANGE = -12,	/* value out of range */
};
const char *otg_strerror(int err);

/* log.c: stderr in the foreground, syslog otherwise. Never log a secret. */
enum log_level { LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };
void log_init(const char *progname, int foreground, enum log_level level);
void log_warn(const char *fmt, ...) OTG_PRINTF(1, 2);	/* appends strerror(errno) */
void log_warnx(const char *fmt, ...) OTG_PRINTF(1, 2);
void log_info(const char *fmt, ...) OTG_PRINTF(1, 2);
void log_debug(const char *fmt, ...) OTG_PRINTF(1, 2);
void fatal(const char *fmt, ...) OTG_PRINTF(1, 2) OTG_NORETURN;
void fatalx(const char *fmt, ...) OTG_PRINTF(1, 2) OTG_NORETURN;

/* diag.c: problems found in config and policy files, FILE:LINE:COL: level: msg */
enum diag_level { DIAG_WARNING, DIAG_ERROR };
struct diag_item {
	enum diag_level level;
	char *file;
	unsigned line, col;	/* from 1; 0:0 for a whole-file problem */
	char *msg;
};
#define DIAG_MAX_ITEMS 1000	/* more are counted, not stored */
struct diag {
	struct diag_item *items;
	size_t n, cap;
	size_t nerrors, nwarnings, ndropped;
};
void diag_init(struct diag *d);
void diag_add(struct diag *d, enum diag_level level, const char *file, unsigned line,
    unsigned col, const char *fmt, ...) OTG_PRINTF(6, 7);
void diag_vadd(struct diag *d, enum diag_level level, const char *file, unsigned line,
    unsigned col, const char *fmt, va_list ap) OTG_PRINTF(6, 0);
void diag_print(const struct diag *d, FILE *fp);
void diag_free(struct diag *d);

/* ini.c: the INI-like syntax shared by otgated.conf and policy files.
 *   # comment        (at line start, or after whitespace)
 *   [kind name]      a section; [kind] alone is allowed, name is then NULL
 *   key = value      value runs to the end of line or a " #" comment, trimmed
 * Keys before the first section belong to section 0, whose kind is NULL. */
#define INI_MAX_LINE 8192
#define INI_MAX_FILE (16u * 1024 * 1024)
struct ini_entry {
	char *key;
	char *value;
	unsigned line, col;	/* of the key */
	unsigned vcol;		/* of the value */
};
struct ini_section {
	char *kind;		/* NULL for the top level */
	char *name;		/* NULL when absent */
	char *file;		/* shared with struct ini */
	unsigned line, col;
	struct ini_entry *entries;
	size_t n, cap;
};
struct ini {
	char *file;
	struct ini_section *sections;	/* sections[0] is the top level */
	size_t n, cap;
};
/* Parse text of len bytes; every syntax problem goes to d. Returns 0, or
 * OTG_ERR_INVAL when d got an error (*out is then still a usable partial parse
 * for further checks, or NULL on OTG_ERR_NOMEM). */
int ini_parse(const char *file, const char *text, size_t len, struct diag *d,
    struct ini **out);
void ini_free(struct ini *ini);

/* value.c: the value syntax of both file kinds */
struct strlist {
	char **v;
	size_t n;
};
int strlist_split(const char *s, struct strlist *out);	/* on whitespace */
int strlist_push(struct strlist *l, const char *s);
int strlist_contains(const struct strlist *l, const char *s);
void strlist_free(struct strlist *l);
int value_name_ok(const char *s);	/* [A-Za-z0-9][A-Za-z0-9._-]{0,63} */
int value_bool(const char *s, int *out);	/* yes|no */
int value_duration(const char *s, uint64_t *secs);	/* 90s 15m 2h 7d, or 0 */
int value_date(const char *s, int *y, int *m, int *d);	/* YYYY-MM-DD */
int value_port(const char *s, uint16_t *out);	/* 1-65535 */
int value_uint(const char *s, uint64_t max, uint64_t *out);
int value_utf8_ok(const char *s, size_t len);	/* valid UTF-8; no C0 but tab, no C1, no DEL */

/* cidr.c: egress networks; IPv4-mapped IPv6 addresses match as IPv4 */
struct cidr {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];
	unsigned bits;
};
int cidr_parse(const char *s, struct cidr *out);
int cidr_contains(const struct cidr *c, const struct sockaddr *sa);
int cidr_list_contains(const struct cidr *list, size_t n, const struct sockaddr *sa);

/* conf.c: otgated.conf. Relative paths are taken from the config file's folder. */
#define CONF_DEFAULT_PATH "/etc/otgate/otgated.conf"
struct conf {
	char *path;		/* the file read */
	struct strlist listen;	/* host:port, [v6]:port */
	char *hostkey;
	char *policy;
	char *vault;
	char *state;
	char *audit_log;
	char *control;
	struct cidr *egress;
	size_t negress;
	char *user;		/* NULL: run as the starting user */
	char *banner;		/* path, NULL for none */
	unsigned startups_begin, startups_rate, startups_full;
	unsigned startups_per_source;
	uint64_t login_grace;	/* seconds */
	uint64_t connect_timeout;	/* seconds, asset side */
	uint64_t keepalive;	/* seconds between keepalives, 0 = off */
	uint64_t mfa_grace;	/* seconds a code covers further logins, 0 = off */
	unsigned max_auth_failures;	/* failures within lockout that lock a user */
	uint64_t lockout;	/* seconds: the failure window and the lock */
	int siem_format;	/* 0 json, 1 rfc5424, 2 cef (broker's enum siem_format) */
	uint64_t recording_retention;	/* seconds; otgate purge removes older */
	struct strlist recording_recipient;	/* auditor X25519 .pub paths: encrypt */
	uint64_t approval_timeout;	/* seconds a request waits for an operator */
	char *on_request;	/* command told of each approval request, NULL none */
	int seccomp;		/* 0 enforce, 1 log, 2 off (broker's enum sandbox_mode) */
	int announce_watch;	/* tell the vendor when an operator watches */
};
/* Read and check path; every problem goes to d. 0, or OTG_ERR_INVAL with
 * errors in d (and *out NULL). */
int conf_load(const char *path, struct diag *d, struct conf **out);
void conf_free(struct conf *c);
/* The config path for the otgate command: arg, else $OTGATE_CONF, else default. */
const char *conf_default_path(const char *arg);

/* buf.c: the one bounded buffer that untrusted bytes go through */
struct buf {
	uint8_t *data;
	size_t off;		/* first unread byte */
	size_t len;		/* end of written bytes */
	size_t cap;
	size_t max;		/* put fails with OTG_ERR_TOOBIG past this */
};
#define BUF_DEFAULT_MAX (64u * 1024 * 1024)
void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);	/* zeroes the contents */
void buf_reset(struct buf *b);
size_t buf_len(const struct buf *b);	/* unread bytes */
const uint8_t *buf_ptr(const struct buf *b);
int buf_put(struct buf *b, const void *p, size_t n);
int buf_putc(struct buf *b, int c);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) OTG_PRINTF(2, 3);
int buf_put_u32(struct buf *b, uint32_t v);	/* big-endian */
int buf_put_u64(struct buf *b, uint64_t v);
int buf_put_utf8(struct buf *b, uint32_t cp);	/* cp <= 0x10ffff */
int buf_get(struct buf *b, void *p, size_t n);
int buf_get_u8(struct buf *b, uint8_t *v);
int buf_get_u32(struct buf *b, uint32_t *v);
int buf_get_u64(struct buf *b, uint64_t *v);
int buf_consume(struct buf *b, size_t n);
/* NUL-terminated copy of the unread bytes (the buffer keeps them). */
char *buf_strdup(const struct buf *b);

/* escape.c: untrusted text (user names, paths, commands, reasons) made safe.
 * C0/C1 controls, DEL, invalid UTF-8 and bidi overrides become \xNN or
 * \u{XXXX}; a backslash becomes \\. */
int escape_text(struct buf *out, const void *in, size_t len);
/* Same, NUL-terminated in a static-free caller buffer; truncates safely with "...". */
const char *escape_str(char *dst, size_t dstsz, const char *in);
/* JSON string body (no quotes): ", \, controls escaped; invalid UTF-8 as \ufffd;
 * bidi overrides as \uXXXX so a log viewer cannot be fooled. */
int escape_json(struct buf *out, const void *in, size_t len);

/* file.c: bounded reads and safe creation */
int file_read(const char *path, size_t max, char **out, size_t *len);	/* NUL-terminated */
/* Refuse a secret file that is a link, not regular, group/world-accessible or
 * not owned by us or root. OTG_ERR_PERM with a reason in why. */
int file_check_secret(int fd, const char *path, char *why, size_t whysz);
/* Refuse a file that others may write (mode & 022) or that is a link. */
int file_check_not_writable(int fd, char *why, size_t whysz);
int file_mkdirs(const char *path, mode_t mode);	/* like mkdir -p */
/* Create path exclusively with O_NOFOLLOW and exactly mode (whatever the umask);
 * the open fd, or -1 with errno set. */
int file_create(const char *path, mode_t mode);
/* Write a whole file atomically: temp file, fsync, rename. */
int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* All of len bytes to fd, again after EINTR and short writes; OTG_ERR_IO. */
int file_write_all(int fd, const void *data, size_t len);

/* tz.c: time zones from TZif files (RFC 8536), resolved once; conversions are
 * pure and never touch the global TZ. */
struct tz;
/* name: an IANA zone ("Europe/Rome"), or NULL for the host's zone ($TZ, else
 * /etc/localtime). Errors: OTG_ERR_NOTFOUND, OTG_ERR_PROTO. */
int tz_load(const char *name, struct tz **out);
void tz_free(struct tz *tz);
const char *tz_name(const struct tz *tz);
/* UTC -> local broken-down time (tm_wday, tm_yday set; tm_gmtoff too). */
void tz_localtime(const struct tz *tz, time_t t, struct tm *out);
/* Local wall time -> UTC. A time in a gap: OTG_ERR_RANGE; a repeated time
 * gives its first occurrence. */
int tz_mktime(const struct tz *tz, const struct tm *local, time_t *out);
/* A NULL zone means UTC to tz_name, tz_localtime, tz_mktime and timearg_parse. */

/* timearg.c: times given to otgate: YYYY-MM-DD[ HH:MM[:SS]] in zone tz, RFC 3339,
 * or a duration meaning that long before now. */
int timearg_parse(const char *s, const struct tz *tz, time_t now, time_t *out);

#endif
