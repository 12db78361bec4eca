/*
 * policy.c: loading a policy as one unit. policy.conf and every
 * policy.d/ *.conf beside it (in name order) are read, checked for loose
 * permissions, parsed and cross-checked together; any error and the caller
 * gets nothing, so a broker never runs half a policy. The exact text read is
 * kept with its SHA-256, which sessions and the audit log cite.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <netinet/in.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "policy/policy.h"

#define POLICY_MAX_FILES 1000

static int
policy_new(struct diag *d, const char *name, struct policy **out)
{
	struct policy *p;
	int r;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return OTG_ERR_NOMEM;
	if ((r = tz_load(NULL, &p->host)) != 0) {
		if (r == OTG_ERR_NOMEM) {
			free(p);
			return r;
		}
		diag_add(d, DIAG_ERROR, name, 0, 0, "cannot load the host's time zone "
		    "($TZ or /etc/localtime): %s", otg_strerror(r));
	}
	*out = p;
	return 0;
}

/* Append one file's text to the source and parse it into p. */
static int
policy_add_text(struct policy *p, const char *name, const char *text, size_t len,
    struct diag *d)
{
	struct ini *ini = NULL;
	size_t need;
	char *src;
	int r, n;

	need = p->source_len + strlen(name) + 10 + len + 2;
	if ((src = realloc(p->source, need)) == NULL)
		return OTG_ERR_NOMEM;
	p->source = src;
	n = snprintf(src + p->source_len, need - p->source_len, "# file: %s\n", name);
	p->source_len += (size_t)n;
	memcpy(src + p->source_len, text, len);
	p->source_len += len;
	if (len > 0 && text[len - 1] != '\n')
		src[p->source_len++] = '\n';
	src[p->source_len] = '\0';
	if ((r = strlist_push(&p->files, name)) != 0)
		return r;
	r = ini_parse(name, text, len, d, &ini);
	if (ini == NULL)
		return r == 0 ? OTG_ERR_NOMEM : r;
	/* even a file with syntax errors is read on, to report its other problems */
	r = parse_policy_ini(p, ini, d);
	ini_free(ini);
	return r;
}

/* Read an open policy file after checking nobody else may write it. */
static int
policy_add_fd(struct policy *p, int fd, const char *name, struct diag *d)
{
	char why[256], *text = NULL;
	size_t len = 0, cap = 0;
	ssize_t got;
	int r;

	if (file_check_not_writable(fd, why, sizeof(why)) != 0) {
		diag_add(d, DIAG_ERROR, name, 0, 0, "refusing policy file: %s", why);
		return 0;
	}
	for (;;) {
		if (len == cap) {
			char *v;
			size_t ncap;

			/* one byte past the limit lets ini_parse report the size */
			if (cap == INI_MAX_FILE + 1)
				break;
			ncap = cap ? cap * 2 : 65536;
			if (ncap > INI_MAX_FILE + 1)
				ncap = INI_MAX_FILE + 1;
			if ((v = realloc(text, ncap)) == NULL) {
				free(text);
				return OTG_ERR_NOMEM;
			}
			text = v;
			cap = ncap;
		}
		got = read(fd, text + len, cap - len);
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1) {
			diag_add(d, DIAG_ERROR, name, 0, 0, "cannot read: %s",
			    strerror(errno));
			free(text);
			return 0;
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	r = policy_add_text(p, name, text != NULL ? text : "", len, d);
	free(text);
	return r;
}

static int
policy_cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular *.conf in dir, in name order; a missing dir is fine. */
static int
policy_add_dir(struct policy *p, const char *dir, struct diag *d)
{
	struct strlist names = { NULL, 0 };
	struct dirent *de;
	struct stat st;
	char path[PATH_MAX];
	size_t i, len;
	DIR *dp;
	int fd, r = 0;

	if ((dp = opendir(dir)) == NULL) {
		if (errno != ENOENT)
			diag_add(d, DIAG_ERROR, dir, 0, 0, "cannot read folder: %s",
			    strerror(errno));
		return 0;
	}
	if (fstat(dirfd(dp), &st) == 0 && (st.st_mode & 022) != 0) {
		diag_add(d, DIAG_ERROR, dir, 0, 0, "refusing policy folder: mode %04o "
		    "lets others add files (want 0755 or stricter)",
		    (unsigned)(st.st_mode & 07777));
		goto out;
	}
	while ((de = readdir(dp)) != NULL) {
		len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 6 ||
		    strcmp(de->d_name + len - 5, ".conf") != 0)
			continue;
		if (names.n == POLICY_MAX_FILES) {
			diag_add(d, DIAG_ERROR, dir, 0, 0, "more than %d policy files",
			    POLICY_MAX_FILES);
			goto out;
		}
		if ((r = strlist_push(&names, de->d_name)) != 0)
			goto out;
	}
	if (names.n > 0)
		qsort(names.v, names.n, sizeof(*names.v), policy_cmp_name);
	for (i = 0; i < names.n && r == 0; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names.v[i]) >=
		    sizeof(path)) {
			diag_add(d, DIAG_ERROR, dir, 0, 0, "file name too long: %s",
			    names.v[i]);
			continue;
		}
		fd = openat(dirfd(dp), names.v[i], O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd == -1) {
			diag_add(d, DIAG_ERROR, path, 0, 0, "cannot open: %s",
			    strerror(errno));
			continue;
		}
		r = policy_add_fd(p, fd, path, d);
		close(fd);
	}
out:
	strlist_free(&names);
	closedir(dp);
	return r;
}

static void
policy_set_hash(struct policy *p)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int mdlen = 0, i;

	if (EVP_Digest(p->source != NULL ? p->source : "", p->source_len, md, &mdlen,
	    EVP_sha256(), NULL) != 1 || mdlen != 32)
		mdlen = 0;
	for (i = 0; i < mdlen; i++) {
		p->hash[2 * i] = hex[md[i] >> 4];
		p->hash[2 * i + 1] = hex[md[i] & 15];
	}
	p->hash[2 * mdlen] = '\0';
}

/* The common end of both loads: cross-check, then all or nothing. */
static int
policy_finish(struct policy *p, struct diag *d, size_t errors_before, int r,
    struct policy **out)
{
	if (r == 0)
		r = resolve_policy(p, d);
	if (r == 0 && d->nerrors > errors_before)
		r = OTG_ERR_INVAL;
	if (r == 0 && p->source == NULL && (p->source = strdup("")) == NULL)
		r = OTG_ERR_NOMEM;
	if (r != 0) {
		if (r == OTG_ERR_NOMEM)
			diag_add(d, DIAG_ERROR, p->files.n ? p->files.v[0] : "-", 0, 0,
			    "out of memory");
		policy_free(p);
		return OTG_ERR_INVAL;
	}
	policy_set_hash(p);
	*out = p;
	return 0;
}

int
policy_load(const char *path, struct diag *d, struct policy **out)
{
	struct policy *p;
	char dirbuf[PATH_MAX], sub[PATH_MAX];
	size_t before = d->nerrors;
	int fd, r;

	*out = NULL;
	if ((r = policy_new(d, path, &p)) != 0)
		return r;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		diag_add(d, DIAG_ERROR, path, 0, 0, "cannot open policy: %s",
		    strerror(errno));
	} else {
		r = policy_add_fd(p, fd, path, d);
		close(fd);
	}
	if (r == 0 && strlen(path) < sizeof(dirbuf)) {
		memcpy(dirbuf, path, strlen(path) + 1);
		snprintf(sub, sizeof(sub), "%s/policy.d", dirname(dirbuf));
		r = policy_add_dir(p, sub, d);
	}
	return policy_finish(p, d, before, r, out);
}

int
policy_load_buffer(const char *name, const char *text, size_t len, struct diag *d,
    struct policy **out)
{
	struct policy *p;
	size_t before = d->nerrors;
	int r;

	*out = NULL;
	if ((r = policy_new(d, name, &p)) != 0)
		return r;
	r = policy_add_text(p, name, text, len, d);
	return policy_finish(p, d, before, r, out);
}

void
policy_free(struct policy *p)
{
	size_t i;

	if (p == NULL)
		return;
	parse_policy_free(p);
	for (i = 0; i < p->nzones; i++)
		tz_free(p->zones[i]);
	free(p->zones);
	tz_free(p->host);
	strlist_free(&p->files);
	free(p->source);
	free(p);
}

const char *
policy_hash(const struct policy *p)
{
	return p->hash;
}

const char *
policy_source(const struct policy *p, size_t *len)
{
	if (len != NULL)
		*len = p->source_len;
	return p->source;
}

const struct policy_user_def *
policy_user_def(const struct policy *p, const char *name)
{
	size_t lo = 0, hi = p->nusers, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(name, p->users[mid].user.name)) == 0)
			return &p->users[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const struct policy_user *
policy_user(const struct policy *p, const char *name)
{
	const struct policy_user_def *u = policy_user_def(p, name);

	return u != NULL ? &u->user : NULL;
}

unsigned
policy_first_factors(const struct policy *p)
{
	unsigned auth, first = 0;
	size_t i;

	for (i = 0; i < p->nusers; i++) {
		auth = p->users[i].user.auth;
		if (auth & POLICY_AUTH_PUBLICKEY)
			first |= POLICY_AUTH_PUBLICKEY;
		else if (auth & (POLICY_AUTH_PASSWORD | POLICY_AUTH_PAM))
			first |= POLICY_AUTH_PASSWORD;
	}
	return first != 0 ? first : POLICY_AUTH_PUBLICKEY;
}

int
policy_role_record_input(const struct policy *p, const char *role)
{
	size_t i;

	for (i = 0; role != NULL && i < p->nroles; i++)
		if (strcmp(p->roles[i].name, role) == 0)
			return p->roles[i].record_input;
	return 1;
}

const char *
policy_role_approvers(const struct policy *p, const char *role)
{
	size_t i;

	for (i = 0; role != NULL && i < p->nroles; i++)
		if (strcmp(p->roles[i].name, role) == 0)
			return p->roles[i].approvers;
	return NULL;
}

void
policy_role_sftp(const struct policy *p, const char *role, unsigned *dirs,
    uint64_t *max_file_size)
{
	size_t i;

	*dirs = POLICY_SFTP_READ | POLICY_SFTP_WRITE;
	*max_file_size = 0;
	for (i = 0; role != NULL && i < p->nroles; i++) {
		if (strcmp(p->roles[i].name, role) == 0) {
			*dirs = p->roles[i].sftp;
			*max_file_size = p->roles[i].max_file_size;
			return;
		}
	}
}

const struct policy_asset *
policy_asset(const struct policy *p, const char *name)
{
	size_t lo = 0, hi = p->nassets, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(name, p->assets[mid].asset.name)) == 0)
			return &p->assets[mid].asset;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

size_t
policy_nassets(const struct policy *p)
{
	return p->nassets;
}

const struct policy_asset *
policy_asset_at(const struct policy *p, size_t i)
{
	return i < p->nassets ? &p->assets[i].asset : NULL;
}

void
policy_counts(const struct policy *p, size_t *users, size_t *roles, size_t *assets,
    size_t *windows)
{
	if (users != NULL)
		*users = p->nusers;
	if (roles != NULL)
		*roles = p->nroles;
	if (assets != NULL)
		*assets = p->nassets;
	if (windows != NULL)
		*windows = p->nwindows;
}

void
policy_check_egress(const struct policy *p, const struct cidr *egress, size_t negress,
    struct diag *d)
{
	const struct policy_asset_def *a;
	struct sockaddr_in6 sin6;
	struct sockaddr_in sin;
	const struct sockaddr *sa;
	size_t i;

	for (i = 0; i < p->nassets; i++) {
		a = &p->assets[i];
		memset(&sin, 0, sizeof(sin));
		memset(&sin6, 0, sizeof(sin6));
		if (inet_pton(AF_INET, a->asset.address, &sin.sin_addr) == 1) {
			sin.sin_family = AF_INET;
			sa = (const struct sockaddr *)&sin;
		} else if (inet_pton(AF_INET6, a->asset.address, &sin6.sin6_addr) == 1) {
			sin6.sin6_family = AF_INET6;
			sa = (const struct sockaddr *)&sin6;
		} else {
			continue;
		}
		if (!cidr_list_contains(egress, negress, sa))
			diag_add(d, DIAG_WARNING, a->loc.file, a->loc.line, a->loc.col,
			    "asset %s address %s is outside the egress networks of the "
			    "config: connections to it will be refused", a->asset.name,
			    a->asset.address);
	}
}
