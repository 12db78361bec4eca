/*
 * statefile.c: the secret files of the state folder (TOTP secrets, enrolment
 * codes, failure counts, password hashes). They are read and written by three
 * kinds of process: otgated as its unprivileged user, pam_otgate.so inside
 * root services (sshd, sudo), and `otgate user` run by root. So a file is
 * checked like relayd's check_file_secrecy (regular, 0600, ours or root's),
 * never followed through a link, replaced atomically, and when root creates
 * one it hands it to the owner of the folder, where the broker can read it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"
#include "pam/pam.h"

/* Owner acceptable for a secret file or folder: us, root, or anyone when we
 * are root (root reads the broker's files as the admin). */
static int
statefile_owner_ok(uid_t uid)
{
	uid_t me = geteuid();

	return uid == me || uid == 0 || me == 0;
}

/* The folder part of path, in buf. */
static const char *
statefile_parent(const char *path, char *buf, size_t bufsz)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return ".";
	if (slash == path)
		return "/";
	if ((size_t)(slash - path) >= bufsz)
		return NULL;
	memcpy(buf, path, (size_t)(slash - path));
	buf[slash - path] = '\0';
	return buf;
}

/* When root, give fd to the owner of the folder holding path. */
static int
statefile_give(int fd, const char *path)
{
	char buf[PATH_MAX];
	const char *dir;
	struct stat st;

	if (geteuid() != 0)
		return 0;
	if ((dir = statefile_parent(path, buf, sizeof(buf))) == NULL)
		return OTG_ERR_TOOBIG;
	if (stat(dir, &st) == -1)
		return OTG_ERR_IO;
	if (st.st_uid == 0 && st.st_gid == 0)
		return 0;
	return fchown(fd, st.st_uid, st.st_gid) == -1 ? OTG_ERR_IO : 0;
}

int
statefile_dir(const char *dir, char *why, size_t whysz)
{
	struct stat st;
	int fd = -1, r;

	if (mkdir(dir, 0700) == 0) {
		/* a new folder: hand it to the owner of its parent, like files */
		if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1 ||
		    statefile_give(fd, dir) != 0) {
			snprintf(why, whysz, "%s: %s", dir, strerror(errno));
			r = OTG_ERR_IO;
			goto out;
		}
	} else if (errno != EEXIST) {
		snprintf(why, whysz, "%s: cannot create: %s", dir, strerror(errno));
		return OTG_ERR_IO;
	}
	if (lstat(dir, &st) == -1) {
		snprintf(why, whysz, "%s: %s", dir, strerror(errno));
		r = OTG_ERR_IO;
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, whysz, "%s: not a folder", dir);
		r = OTG_ERR_PERM;
		goto out;
	}
	if (!statefile_owner_ok(st.st_uid)) {
		snprintf(why, whysz, "%s: owned by uid %u, not by us", dir,
		    (unsigned)st.st_uid);
		r = OTG_ERR_PERM;
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(why, whysz, "%s: mode %04o is too open (want 0700)", dir,
		    (unsigned)(st.st_mode & 07777));
		r = OTG_ERR_PERM;
		goto out;
	}
	r = 0;
out:
	if (fd != -1)
		close(fd);
	return r;
}

int
statefile_read(const char *path, char **out, size_t *len, char *why, size_t whysz)
{
	struct stat st;
	char *data = NULL;
	size_t n = 0;
	ssize_t got;
	int fd, r;

	*out = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)) == -1) {
		if (errno == ENOENT)
			return OTG_ERR_NOTFOUND;
		snprintf(why, whysz, "%s: %s", path, errno == ELOOP ?
		    "is a symbolic link" : strerror(errno));
		return errno == ELOOP ? OTG_ERR_PERM : OTG_ERR_IO;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(why, whysz, "%s: %s", path, strerror(errno));
		r = OTG_ERR_IO;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whysz, "%s: not a regular file", path);
		r = OTG_ERR_PERM;
		goto out;
	}
	if (!statefile_owner_ok(st.st_uid)) {
		snprintf(why, whysz, "%s: owned by uid %u, not by us", path,
		    (unsigned)st.st_uid);
		r = OTG_ERR_PERM;
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(why, whysz, "%s: mode %04o is too open (want 0600)", path,
		    (unsigned)(st.st_mode & 07777));
		r = OTG_ERR_PERM;
		goto out;
	}
	if ((size_t)st.st_size > STATEFILE_MAX) {
		snprintf(why, whysz, "%s: larger than %u bytes", path, STATEFILE_MAX);
		r = OTG_ERR_TOOBIG;
		goto out;
	}
	if ((data = malloc((size_t)st.st_size + 1)) == NULL) {
		r = OTG_ERR_NOMEM;
		goto out;
	}
	while (n < (size_t)st.st_size) {
		got = read(fd, data + n, (size_t)st.st_size - n);
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1) {
			snprintf(why, whysz, "%s: %s", path, strerror(errno));
			r = OTG_ERR_IO;
			goto out;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	data[n] = '\0';
	*out = data;
	*len = n;
	data = NULL;
	r = 0;
out:
	if (data != NULL) {
		explicit_bzero(data, (size_t)st.st_size + 1);
		free(data);
	}
	close(fd);
	return r;
}

int
statefile_write(const char *path, const void *data, size_t len, char *why,
    size_t whysz)
{
	char tmp[PATH_MAX];
	const char *p = data;
	ssize_t n;
	int fd = -1, r = OTG_ERR_IO;

	/* one writer per file at a time (callers hold its lock), so the pid
	 * names the temp file well enough; a stale one from a crash is removed.
	 * '+' keeps it apart from user names, which may contain ".tmp". */
	if (snprintf(tmp, sizeof(tmp), "%s+tmp%ld", path, (long)getpid()) >=
	    (int)sizeof(tmp)) {
		snprintf(why, whysz, "%s: path too long", path);
		return OTG_ERR_TOOBIG;
	}
	unlink(tmp);
	if ((fd = file_create(tmp, 0600)) == -1) {
		snprintf(why, whysz, "%s: cannot create: %s", tmp, strerror(errno));
		return OTG_ERR_IO;
	}
	if (statefile_give(fd, path) != 0) {
		snprintf(why, whysz, "%s: cannot hand to the folder's owner: %s", tmp,
		    strerror(errno));
		goto out;
	}
	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(why, whysz, "%s: %s", tmp, strerror(errno));
			goto out;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		snprintf(why, whysz, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		snprintf(why, whysz, "%s: cannot replace: %s", path, strerror(errno));
		goto out;
	}
	return 0;
out:
	if (fd != -1)
		close(fd);
	unlink(tmp);
	return r;
}

int
statefile_remove(const char *path, char *why, size_t whysz)
{
	if (unlink(path) == -1 && errno != ENOENT) {
		snprintf(why, whysz, "%s: cannot remove: %s", path, strerror(errno));
		return OTG_ERR_IO;
	}
	return 0;
}

int
statefile_lock(const char *path, int *fd, char *why, size_t whysz)
{
	struct stat st;
	int lfd, r;

	*fd = -1;
	lfd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (lfd == -1) {
		snprintf(why, whysz, "%s: %s", path, errno == ELOOP ?
		    "is a symbolic link" : strerror(errno));
		return errno == ELOOP ? OTG_ERR_PERM : OTG_ERR_IO;
	}
	if (fstat(lfd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(why, whysz, "%s: not a regular file", path);
		r = OTG_ERR_PERM;
		goto out;
	}
	/* created just now by root: the broker must be able to lock it too */
	if (st.st_uid == geteuid() && statefile_give(lfd, path) != 0) {
		snprintf(why, whysz, "%s: cannot hand to the folder's owner: %s", path,
		    strerror(errno));
		r = OTG_ERR_IO;
		goto out;
	}
	while (flock(lfd, LOCK_EX) == -1) {
		if (errno != EINTR) {
			snprintf(why, whysz, "%s: cannot lock: %s", path, strerror(errno));
			r = OTG_ERR_IO;
			goto out;
		}
	}
	*fd = lfd;
	lfd = -1;
	r = 0;
out:
	if (lfd != -1)
		close(lfd);
	return r;
}

void
statefile_unlock(int fd)
{
	if (fd != -1)
		close(fd);	/* drops the flock */
}
