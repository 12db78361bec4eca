/*
 * auditset.c: an audit log and the files logrotate made of it, checked as one
 * chain. packaging/otgate.logrotate renames the log to LOG-YYYYMMDD and
 * compresses the one before it (LOG-YYYYMMDD.gz); without dateext the names
 * are LOG.1, LOG.2.gz and so on. The first line otgated writes after a reopen
 * carries the next seq and the hash of the old file's last line, so the files
 * check as one chain from the oldest one kept. Compressed files are read
 * through `gzip -dc` (gzip is Essential on Debian, so no library is added),
 * given the file as its stdin so no file name reaches its command line; a gzip
 * that fails (an edited .gz fails its CRC) fails the file.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker/broker.h"

#define AUDITSET_GZ ".gz"

struct auditset_name {
	char *name;
	struct auditset_key key;
};

int
auditset_add(struct auditset *set, const char *path)
{
	struct auditset_file *grown;

	if ((grown = realloc(set->file, (set->n + 1) * sizeof(*grown))) == NULL)
		return OTG_ERR_NOMEM;
	set->file = grown;
	memset(&set->file[set->n], 0, sizeof(set->file[0]));
	if ((set->file[set->n].path = strdup(path)) == NULL)
		return OTG_ERR_NOMEM;
	set->n++;
	return 0;
}

void
auditset_free(struct auditset *set)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		free(set->file[i].path);
	free(set->file);
	set->file = NULL;
	set->n = 0;
}

static int
auditset_has_gz(const char *s, size_t len)
{
	return len > sizeof(AUDITSET_GZ) - 1 &&
	    strcmp(s + len - (sizeof(AUDITSET_GZ) - 1), AUDITSET_GZ) == 0;
}

int
auditset_rotated(const char *base, const char *name, struct auditset_key *key)
{
	size_t blen = strlen(base), len, i;
	const char *rest;

	memset(key, 0, sizeof(*key));
	if (blen == 0 || strncmp(name, base, blen) != 0)
		return 0;
	rest = name + blen;
	len = strlen(rest);
	if (auditset_has_gz(rest, len))
		len -= sizeof(AUDITSET_GZ) - 1;
	if (len < 2 || rest[1] < '0' || rest[1] > '9')
		return 0;
	if (rest[0] == '.') {		/* LOG.N: a higher N is older */
		if (len > 10 || strspn(rest + 1, "0123456789") < len - 1)
			return 0;
		for (i = 1; i < len; i++)
			key->number = key->number * 10 + (unsigned long)(rest[i] - '0');
		return 1;
	}
	if (rest[0] != '-' || len > 64 || strspn(rest + 1, "0123456789._-") < len - 1)
		return 0;
	key->dated = 1;			/* LOG-DATE: dateext, the date sorts */
	memcpy(key->date, rest + 1, len - 1);
	return 1;
}

/* Oldest first: dates in order, numbers from the highest; ties by name. */
static int
auditset_name_cmp(const void *pa, const void *pb)
{
	const struct auditset_name *a = pa, *b = pb;
	int c;

	if (a->key.dated && (c = strcmp(a->key.date, b->key.date)) != 0)
		return c;
	if (!a->key.dated && a->key.number != b->key.number)
		return a->key.number > b->key.number ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* The rotated files of base in dir, unsorted, into *names. */
static int
auditset_scan(const char *dir, const char *base, struct auditset_name **names, size_t *n)
{
	struct auditset_name *grown;
	struct auditset_key key;
	struct dirent *d;
	DIR *dp;
	int r = 0;

	if ((dp = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : OTG_ERR_IO;
	while ((d = readdir(dp)) != NULL) {
		/* a FIFO or a folder by a rotated file's name is no log */
		if ((d->d_type != DT_REG && d->d_type != DT_UNKNOWN) ||
		    !auditset_rotated(base, d->d_name, &key))
			continue;
		if ((grown = realloc(*names, (*n + 1) * sizeof(**names))) == NULL ||
		    (grown[*n].name = strdup(d->d_name)) == NULL) {
			if (grown != NULL)
				*names = grown;
			r = OTG_ERR_NOMEM;
			break;
		}
		*names = grown;
		grown[*n].key = key;
		(*n)++;
	}
	closedir(dp);
	return r;
}

/* The two naming schemes give no order between them: refuse to guess. */
static int
auditset_one_scheme(const struct auditset_name *names, size_t n)
{
	size_t i;

	for (i = 1; i < n; i++)
		if (names[i].key.dated != names[0].key.dated)
			return OTG_ERR_EXISTS;
	return 0;
}

int
auditset_find(const char *log, struct auditset *set)
{
	struct auditset_name *names = NULL;
	const char *slash = strrchr(log, '/');
	char dir[4096], path[8192];
	size_t n = 0, i;
	int r;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (snprintf(dir, sizeof(dir), "%.*s", (int)(slash - log + (slash == log)),
	    log) >= (int)sizeof(dir))
		return OTG_ERR_TOOBIG;
	if ((r = auditset_scan(dir, slash ? slash + 1 : log, &names, &n)) == 0 &&
	    (r = auditset_one_scheme(names, n)) == 0) {
		if (n > 1)
			qsort(names, n, sizeof(*names), auditset_name_cmp);
		for (i = 0; r == 0 && i < n; i++) {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i].name);
			r = auditset_add(set, path);
		}
		if (r == 0)
			r = auditset_add(set, log);
	}
	for (i = 0; i < n; i++)
		free(names[i].name);
	free(names);
	return r;
}

/* path as a stream: the file itself, or gzip -dc's output for a .gz. The
 * system's gzip by its absolute path and with no environment: a verify run
 * as root takes neither gzip nor GZIP options from the caller's environment. */
static int
auditset_open(const char *path, FILE **fp, pid_t *gzip, char *why, size_t whysz)
{
	char *argv[] = { "gzip", "-dc", NULL }, *envp[] = { NULL };
	posix_spawn_file_actions_t fa;
	int fd, pipefd[2], r;

	*gzip = -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(why, whysz, "%s", strerror(errno));
		return errno == ENOENT ? OTG_ERR_NOTFOUND : OTG_ERR_IO;
	}
	if (!auditset_has_gz(path, strlen(path))) {
		if ((*fp = fdopen(fd, "r")) != NULL)
			return 0;
		snprintf(why, whysz, "%s", strerror(errno));
		close(fd);
		return OTG_ERR_IO;
	}
	if (pipe2(pipefd, O_CLOEXEC) == -1) {
		snprintf(why, whysz, "%s", strerror(errno));
		close(fd);
		return OTG_ERR_IO;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd, STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	r = posix_spawn(gzip, "/bin/gzip", &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(fd);
	close(pipefd[1]);
	if (r != 0 || (*fp = fdopen(pipefd[0], "r")) == NULL) {
		snprintf(why, whysz, "cannot run gzip -dc: %s", strerror(r != 0 ? r : errno));
		close(pipefd[0]);
		if (r == 0)
			waitpid(*gzip, NULL, 0);
		return OTG_ERR_IO;
	}
	return 0;
}

/* Close what auditset_open gave; when the stream was read to its end, a
 * gzip that did not exit 0 means damaged compressed data. */
static int
auditset_close(FILE *fp, pid_t gzip, int read_all, char *why, size_t whysz)
{
	int status;

	fclose(fp);
	if (gzip == -1)
		return 0;
	while (waitpid(gzip, &status, 0) == -1)
		if (errno != EINTR)
			return OTG_ERR_IO;
	if (!read_all || (WIFEXITED(status) && WEXITSTATUS(status) == 0))
		return 0;
	if (WIFEXITED(status))
		snprintf(why, whysz, "the compressed data is damaged (gzip -dc: exit %d)",
		    WEXITSTATUS(status));
	else
		snprintf(why, whysz, "gzip -dc was killed by signal %d", WTERMSIG(status));
	return OTG_ERR_BADSIG;
}

/* One file, continuing the chain at *seq and hash (*seq 0: the first file,
 * which starts where its first line says); both move on to its last line. */
static int
auditset_check(struct auditset_file *f, unsigned long long *seq, char hash[65])
{
	unsigned long long last_seq;
	char last[65];
	FILE *fp;
	pid_t gzip;
	int r, rc;

	if ((r = auditset_open(f->path, &fp, &gzip, f->why, sizeof(f->why))) != 0)
		return r;
	r = audit_verify_stream(fp, *seq > 0 ? *seq + 1 : 0, *seq > 0 ? hash : NULL,
	    &last_seq, last, &f->nlines, &f->bad_line, f->why, sizeof(f->why));
	rc = auditset_close(fp, gzip, r == 0, f->why, sizeof(f->why));
	if (r != 0 || rc != 0)
		return r != 0 ? r : rc;
	if (f->nlines > 0) {
		f->first_seq = last_seq - f->nlines + 1;
		*seq = last_seq;
		memcpy(hash, last, sizeof(last));
	}
	return 0;
}

int
auditset_verify(struct auditset *set)
{
	unsigned long long seq = 0;
	char hash[65] = "";
	size_t i;

	for (i = 0; i < set->n; i++) {
		set->file[i].checked = 1;
		if ((set->file[i].status = auditset_check(&set->file[i], &seq, hash)) != 0)
			return set->file[i].status;
	}
	return 0;
}
