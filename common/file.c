/*
 * file.c: reading files with a size bound and creating them safely. Nothing
 * here follows a symbolic link at the last component, and created files get
 * exactly the mode asked for, whatever the umask.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"

int
file_read(const char *path, size_t max, char **out, size_t *len)
{
	struct stat st;
	char *data = NULL;
	size_t n = 0;
	ssize_t got;
	int fd, r;

	*out = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return errno == ENOENT ? OTG_ERR_NOTFOUND : OTG_ERR_IO;
	if (fstat(fd, &st) == -1) {
		r = OTG_ERR_IO;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		r = OTG_ERR_IO;
		goto out;
	}
	if ((size_t)st.st_size > max) {
		r = OTG_ERR_TOOBIG;
		goto out;
	}
	if ((data = malloc((size_t)st.st_size + 1)) == NULL) {
		r = OTG_ERR_NOMEM;
		goto out;
	}
	/* read what is there, even if the file shrank or grew since fstat */
	while (n < (size_t)st.st_size) {
		got = read(fd, data + n, (size_t)st.st_size - n);
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1) {
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
	free(data);
	close(fd);
	return r;
}

int
file_check_secret(int fd, const char *path, char *why, size_t whysz)
{
	struct stat st;

	if (fstat(fd, &st) == -1) {
		snprintf(why, whysz, "%s: %s", path, strerror(errno));
		return OTG_ERR_IO;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whysz, "%s: not a regular file", path);
		return OTG_ERR_PERM;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(why, whysz, "%s: owned by uid %u, not by us", path,
		    (unsigned)st.st_uid);
		return OTG_ERR_PERM;
	}
	if ((st.st_mode & 077) != 0) {
		snprintf(why, whysz, "%s: mode %04o is too open (want 0600)", path,
		    (unsigned)(st.st_mode & 07777));
		return OTG_ERR_PERM;
	}
	return 0;
}

int
file_check_not_writable(int fd, char *why, size_t whysz)
{
	struct stat st;

	if (fstat(fd, &st) == -1) {
		snprintf(why, whysz, "%s", strerror(errno));
		return OTG_ERR_IO;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whysz, "not a regular file");
		return OTG_ERR_PERM;
	}
	if ((st.st_mode & 022) != 0) {
		snprintf(why, whysz, "mode %04o lets others write it (want 0644 or stricter)",
		    (unsigned)(st.st_mode & 07777));
		return OTG_ERR_PERM;
	}
	return 0;
}

int
file_mkdirs(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];
	size_t len = strlen(path), i;

	if (len == 0 || len >= sizeof(tmp))
		return OTG_ERR_INVAL;
	memcpy(tmp, path, len + 1);
	for (i = 1; i <= len; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, mode) == -1 && errno != EEXIST)
			return OTG_ERR_IO;
		if (i < len)
			tmp[i] = '/';
	}
	return 0;
}

int
file_create(const char *path, mode_t mode)
{
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd == -1)
		return -1;
	if (fchmod(fd, mode) == -1) {
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

int
file_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return OTG_ERR_IO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
file_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	int fd, r = OTG_ERR_IO;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >=
	    (int)sizeof(tmp))
		return OTG_ERR_TOOBIG;
	unlink(tmp);
	if ((fd = file_create(tmp, mode)) == -1)
		return OTG_ERR_IO;
	if (file_write_all(fd, data, len) != 0 || fsync(fd) == -1)
		goto out;
	if (close(fd) == -1) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) == -1)
		goto out;
	return 0;
out:
	if (fd != -1)
		close(fd);
	unlink(tmp);
	return r;
}
